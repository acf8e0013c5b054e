/**
 * "The rendered order equals the original": every certs.d tree of the oracle
 * case sets (containerd's own behaviour on 90 trees: wrong types, dotted and
 * inline tables, IPv6, multi-root, fallbacks …) is rendered with a credential
 * for every mirror, so every mirror entry becomes a proxy entry; then the
 * reference of the case is resolved against the original and the rendered tree
 * for containerd 1.6.20 and 2.3.4. Host for host: the same order, the same
 * capabilities, and each proxy entry stands exactly where its mirror was.
 */
import { realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCredentials } from '../../src/credentials/resolve.js';
import { loadHostDir } from '../../src/hosts/load.js';
import { resolveHosts } from '../../src/hosts/resolve.js';
import type { Operation } from '../../src/hosts/types.js';
import { parseContainerdVersion } from '../../src/hosts/version.js';
import { planServeTree, writeServeTree } from '../../src/serve/render-tree.js';
import { nodeSystem } from '../../src/system/node.js';
import { credentialEverywhere } from '../../scripts/lib/credential-everywhere.mjs';
import { tempDir } from '../helpers/bin.js';
import { loadOracleCases, type OracleCase } from '../helpers/oracle.js';

const repo = path.resolve(import.meta.dirname, '../..');
const base = path.join(repo, 'testdata/oracle');
const cases = [...loadOracleCases(path.join(base, 'cases'), base), ...loadOracleCases(path.join(base, 'holdout'), base)].filter(
  (c) => !c.nondeterministic && c.roots.length > 0,
);
const sys = nodeSystem();
const PROXY = 'http://127.0.0.1:5599';
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A linked directory names the same TLS files through the link. */
const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

const operation = (c: OracleCase): Operation => (c.op === 'blob' ? 'fetch-blob' : c.op);

describe('a rendered tree resolves like the original (oracle case trees)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(40));

  for (const versionText of ['1.6.20', '2.3.4']) {
    const version = parseContainerdVersion(versionText);
    it.each(cases.map((c) => [c.name, c] as const))(`containerd ${versionText}: %s`, async (_n, c) => {
      const cfg = await credentialEverywhere({ sys, loadHostDir, version, roots: c.roots });
      made.push(cfg);
      const ctx = await openCredentials({ ...sys, env: {} }, cfg);
      const plan = await planServeTree(sys, ctx, { roots: c.roots, version, proxyUrl: PROXY, secret: 'S' });
      const out = `${tempDir()}/certs.d`;
      await writeServeTree(sys, out, plan);
      const o = {
        reference: c.reference,
        operation: operation(c),
        version,
        defaultScheme: c.flags.includes('--plain-http') ? ('http' as const) : ('' as const),
      };
      const before = await resolveHosts(sys, { ...o, roots: c.roots });
      const after = await resolveHosts(sys, { ...o, roots: [out] });
      expect(after.fatal).toBe(before.fatal);
      expect(after.hosts.length).toBe(before.hosts.length);
      after.hosts.forEach((h, i) => {
        const orig = before.hosts[i];
        if (!orig) throw new Error('missing host');
        const route = plan.manifest.routes.find((r) => h.url === `${PROXY}/m/${r.id}/v2`);
        if (route) {
          expect(orig.origin).toBe('host');
          expect(`${route.endpoint.scheme}://${route.endpoint.host}${route.endpoint.apiPath}`).toBe(`${orig.scheme}://${orig.host}${orig.path}`);
          expect(h.capabilities).toEqual(orig.capabilities);
          // the proxy entry carries ?ns= wherever the operation does (a loopback host is never the registry)
          if (h.namespace !== null) expect(h.namespace).toBe(before.reference.registry);
          expect(h.used).toBe(orig.used);
          return;
        }
        expect({
          url: h.url,
          origin: h.origin,
          capabilities: h.capabilities,
          caCerts: h.caCerts.map(real),
          clientPairs: h.clientPairs.map((p) => p.map(real)),
          skipVerify: h.skipVerify,
          header: h.header,
          used: h.used,
          requestUrl: h.requestUrl,
        }).toEqual({
          url: orig.url,
          origin: orig.origin,
          capabilities: orig.capabilities,
          caCerts: orig.caCerts.map(real),
          clientPairs: orig.clientPairs.map((p) => p.map(real)),
          skipVerify: orig.skipVerify,
          header: orig.header,
          used: orig.used,
          requestUrl: orig.requestUrl,
        });
      });
    });
  }
});
