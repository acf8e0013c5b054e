/**
 * `mirrorauth import nerdctl`: copy nerdctl's experimental namespaced keys
 * (`nerdctl-experimental://…`, from config.json or Docker's credsStore) into
 * the namespaced store. nerdctl's entries are read, never written or removed.
 */
import { EMPTY_CREDENTIAL, type Credential } from '../../credentials/credential.js';
import { authsSource, dockerRoute, helperSource } from '../../credentials/sources.js';
import { helperClient, OWN_HELPER_NAME } from '../../credentials/helper-client.js';
import { formatNamespacedKey, parseNerdctlKey } from '../../credentials/keys.js';
import { plaintextWarning, putEntry } from '../../credentials/entries.js';
import type { StoreChoice } from '../../credentials/namespaced-store.js';
import { openCredentials } from '../../credentials/resolve.js';
import { EXIT, MirrorauthError } from '../../errors.js';
import type { System } from '../../system/system.js';

export interface ImportOptions {
  store?: string;
  config?: string;
  dryRun?: boolean;
}

export async function importCommand(sys: System, source: string, o: ImportOptions): Promise<number> {
  if (source !== 'nerdctl') throw new MirrorauthError('USAGE', `unknown import source ${JSON.stringify(source)}`, { hint: 'the only source is: nerdctl' });
  const ctx = await openCredentials(sys, o.config);
  // nerdctl's keys are wherever Docker's router put them: config.json auths, or a helper (credsStore/credHelpers)
  const keys = new Set([...ctx.docker.auths.keys()].filter((k) => parseNerdctlKey(k) !== null));
  const store = ctx.docker.credsStore;
  if (store !== null && store !== OWN_HELPER_NAME) for (const k of Object.keys(await helperClient(sys, store).list())) if (parseNerdctlKey(k)) keys.add(k);
  const found: Array<{ from: string; key: string; credential: () => Promise<Credential> }> = [];
  for (const k of keys) {
    const parsed = parseNerdctlKey(k);
    if (!parsed) continue;
    const route = dockerRoute(ctx.docker, k);
    const source = route.kind === 'helper' ? helperSource(sys, ctx.docker, route.helper) : route.kind === 'auths' ? authsSource(sys, ctx.docker) : null;
    if (source === null) continue; // routed to mirrorauth itself: nothing of nerdctl's is there
    found.push({ from: k, key: formatNamespacedKey(parsed), credential: async () => (await source.get(k))?.credential ?? EMPTY_CREDENTIAL });
  }
  if (found.length === 0) {
    sys.stdout.write('No nerdctl namespaced keys found.\n');
    return EXIT.OK;
  }
  for (const f of found) {
    const credential = await f.credential();
    if (credential.password === '' && credential.identityToken === '') {
      sys.stderr.write(`skipping ${f.from}: no secret stored for it\n`);
      continue;
    }
    if (o.dryRun) {
      sys.stdout.write(`would import ${f.from} as ${f.key}\n`);
      continue;
    }
    const put = await putEntry(ctx, f.key, credential, (o.store ?? 'auto') as StoreChoice, { importedFrom: f.from });
    sys.stdout.write(`imported ${f.from} as ${f.key} (${put.backend})\n`);
    if (put.plaintext) sys.stderr.write(`${plaintextWarning(ctx.store.file)}\n`);
  }
  sys.stdout.write("nerdctl's own entries were left as they are; remove them with nerdctl logout when no longer needed.\n");
  return EXIT.OK;
}
