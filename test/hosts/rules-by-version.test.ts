/**
 * containerd's version-dependent rules (docs/hosts-resolution.md, section
 * "Versions"), table-driven. 1.6.20 is also covered by the oracle goldens;
 * these cases pin the 1.6.25+, 1.7.x and 2.x behaviour the oracle cannot run.
 */
import { describe, expect, it } from 'vitest';
import { resolveHosts } from '../../src/hosts/resolve.js';
import type { Operation } from '../../src/hosts/types.js';
import { parseContainerdVersion } from '../../src/hosts/version.js';
import { nodeSystem } from '../../src/system/node.js';
import { makeTree } from '../helpers/tree.js';

interface Case {
  rule: string;
  name: string;
  version: string;
  ref?: string;
  op?: Operation;
  /** hosts.toml of registry.example.com (or files below the root); undefined = no hosts root at all. */
  toml?: string;
  files?: Record<string, string | null>;
  want: {
    urls?: string[];
    requests?: Array<string | null>;
    credentialHosts?: Array<string | null>;
    caps?: string[][];
    httpsFirst?: boolean[];
    skipVerify?: Array<boolean | null>;
    ownClient?: boolean[];
    codes?: string[];
    notCodes?: string[];
  };
}

const REF = 'registry.example.com/app:1';
const ORDER = `[host."https://a.example.com"]
  capabilities = ["pull", "resolve"]
[host."https://b.example.com"]
  capabilities = ["pull", "resolve"]
[host."https://a.example.com".header]
  x-late = "1"
`;
const DOTTED = `host."https://dotted.example.com".capabilities = ["pull", "resolve"]
[host."https://table.example.com"]
  capabilities = ["pull", "resolve"]
`;
const INLINE = `host = { "https://inline.example.com" = { capabilities = ["pull", "resolve"] } }
`;
const SERVER_ONLY = `server = "https://mirror.example.com"
`;
const IPV6_KEY = `[host."http://[::1]:5001"]
  capabilities = ["pull", "resolve"]
`;
const PLAIN = (host: string) => `[host."${host}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
`;

const cases: Case[] = [
  {
    rule: 'R15',
    name: 'server-only file is rejected by 1.6',
    version: '1.6.20',
    toml: SERVER_ONLY,
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_TOML_SERVER_ONLY'] },
  },
  {
    rule: 'R15',
    name: 'server-only file is rejected by 1.7.31',
    version: '1.7.31',
    toml: SERVER_ONLY,
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_TOML_SERVER_ONLY'] },
  },
  {
    rule: 'R15',
    name: 'server-only file works from 1.7.32',
    version: '1.7.32',
    toml: SERVER_ONLY,
    want: { urls: ['https://mirror.example.com/v2'], requests: ['https://mirror.example.com/v2/app/manifests/1?ns=registry.example.com'] },
  },
  {
    rule: 'R16',
    name: 'server-only file works in 2.0',
    version: '2.0.0',
    toml: SERVER_ONLY,
    want: { urls: ['https://mirror.example.com/v2'], notCodes: ['HOSTS_TOML_SERVER_ONLY'] },
  },
  {
    rule: 'R15',
    name: '1.x keeps a late sub-table with its host',
    version: '1.7.27',
    toml: ORDER,
    want: { urls: ['https://a.example.com/v2', 'https://b.example.com/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R16',
    name: '2.x tries a host again when its sub-table comes after another host',
    version: '2.1.0',
    toml: ORDER,
    want: {
      urls: ['https://a.example.com/v2', 'https://b.example.com/v2', 'https://a.example.com/v2', 'https://registry.example.com/v2'],
      codes: ['HOSTS_HOST_REPEATED'],
    },
  },
  {
    rule: 'R15',
    name: '1.x keeps hosts given with dotted keys',
    version: '1.6.20',
    toml: DOTTED,
    want: { urls: ['https://dotted.example.com/v2', 'https://table.example.com/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R16',
    name: '2.x drops hosts given with dotted keys',
    version: '2.0.0',
    toml: DOTTED,
    want: { urls: ['https://table.example.com/v2', 'https://registry.example.com/v2'], codes: ['HOSTS_HOST_DROPPED'] },
  },
  {
    rule: 'R16',
    name: '2.x drops hosts given in an inline table',
    version: '2.3.4',
    toml: INLINE,
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_HOST_DROPPED'] },
  },
  {
    rule: 'R15',
    name: '1.x rejects a ] inside a quoted table key',
    version: '1.7.27',
    toml: IPV6_KEY,
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_TOML_BRACKET_KEY'] },
  },
  {
    rule: 'R16',
    name: '2.x reads IPv6 host keys',
    version: '2.0.0',
    toml: IPV6_KEY,
    want: { urls: ['http://[::1]:5001/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R13',
    name: 'referrers is an unknown capability before 2.2',
    version: '2.1.0',
    toml: '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve", "referrers"]\n',
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_TOML_UNKNOWN_CAPABILITY'] },
  },
  {
    rule: 'R13',
    name: 'referrers is valid and in the default set from 2.2',
    version: '2.2.0',
    toml: '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve", "referrers"]\n',
    want: {
      caps: [
        ['pull', 'resolve', 'referrers'],
        ['pull', 'resolve', 'push', 'referrers'],
      ],
    },
  },
  {
    rule: 'R13',
    name: 'dial_timeout is ignored before 2.1',
    version: '2.0.0',
    toml: '[host."https://m.example.com"]\n  dial_timeout = "nonsense"\n',
    want: { urls: ['https://m.example.com/v2', 'https://registry.example.com/v2'], codes: ['HOSTS_KEY_IGNORED_BY_VERSION'] },
  },
  {
    rule: 'R13',
    name: 'an invalid dial_timeout rejects the file from 2.1',
    version: '2.1.0',
    toml: '[host."https://m.example.com"]\n  dial_timeout = "nonsense"\n',
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_TOML_BAD_DIAL_TIMEOUT'] },
  },
  {
    rule: 'R33',
    name: 'a valid dial_timeout gives the host its own client from 2.1',
    version: '2.1.0',
    toml: '[host."https://m.example.com"]\n  dial_timeout = "1m30s"\n',
    want: { ownClient: [true, false] },
  },
  {
    rule: 'R33',
    name: 'headers alone share the client in 2.0',
    version: '2.0.0',
    toml: '[host."https://m.example.com".header]\n  x-a = "1"\n',
    want: { ownClient: [false, false] },
  },
  {
    rule: 'R33',
    name: 'headers give the host its own client from 2.1',
    version: '2.1.0',
    toml: '[host."https://m.example.com".header]\n  x-a = "1"\n',
    want: { ownClient: [true, false] },
  },
  {
    rule: 'R20',
    name: '1.6.20 localhost default is plain http with skip_verify',
    version: '1.6.20',
    ref: 'localhost:5000/foo:1',
    want: { urls: ['http://localhost:5000/v2'], skipVerify: [true], httpsFirst: [false] },
  },
  {
    rule: 'R20',
    name: '2.x localhost:5000 is tried with https first',
    version: '2.0.0',
    ref: 'localhost:5000/foo:1',
    want: { urls: ['https://localhost:5000/v2'], skipVerify: [true], httpsFirst: [true], requests: ['https://localhost:5000/v2/foo/manifests/1'] },
  },
  {
    rule: 'R20',
    name: '1.6.25 backports the localhost default',
    version: '1.6.25',
    ref: '127.0.0.1:5000/foo:1',
    want: { urls: ['https://127.0.0.1:5000/v2'], httpsFirst: [true] },
  },
  {
    rule: 'R20',
    name: '2.x localhost without port is https only',
    version: '2.3.4',
    ref: 'localhost/foo:1',
    want: { urls: ['https://localhost/v2'], skipVerify: [true], httpsFirst: [false] },
  },
  {
    rule: 'R20',
    name: '2.x localhost:80 is plain http without skip_verify',
    version: '2.3.4',
    ref: 'localhost:80/foo:1',
    want: { urls: ['http://localhost:80/v2'], skipVerify: [null], httpsFirst: [false] },
  },
  {
    rule: 'R31',
    name: '1.6.20 keeps http for an http host with TLS settings',
    version: '1.6.20',
    toml: PLAIN('http://plain.example.com:5000'),
    want: { urls: ['http://plain.example.com:5000/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R31',
    name: '1.6.25 tries https first on a port',
    version: '1.6.25',
    toml: PLAIN('http://plain.example.com:5000'),
    want: { urls: ['https://plain.example.com:5000/v2', 'https://registry.example.com/v2'], httpsFirst: [true, false], codes: ['HOSTS_HTTPS_FIRST'] },
  },
  {
    rule: 'R31',
    name: '1.6.30 keeps http when no port is written',
    version: '1.6.30',
    toml: PLAIN('http://plain.example.com'),
    want: { urls: ['http://plain.example.com/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R31',
    name: '1.7.24 tries https first without a port too',
    version: '1.7.24',
    toml: PLAIN('http://plain.example.com'),
    want: { urls: ['https://plain.example.com/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R31',
    name: '2.x never upgrades port 80',
    version: '2.3.4',
    toml: PLAIN('http://plain.example.com:80'),
    want: { urls: ['http://plain.example.com:80/v2', 'https://registry.example.com/v2'] },
  },
  {
    rule: 'R26',
    name: 'push carries no ns before 2.3',
    version: '2.2.0',
    op: 'push',
    toml: '[host."https://push.example.com"]\n  capabilities = ["push"]\n',
    want: { requests: ['https://push.example.com/v2/app/manifests/1', null], credentialHosts: ['push.example.com', null] },
  },
  {
    rule: 'R26',
    name: 'push carries ns from 2.3',
    version: '2.3.0',
    op: 'push',
    toml: '[host."https://push.example.com"]\n  capabilities = ["push"]\n',
    want: { requests: ['https://push.example.com/v2/app/manifests/1?ns=registry.example.com', null] },
  },
  {
    rule: 'R24',
    name: 'Docker Hub upstream gets no ns, its mirror does',
    version: '2.3.4',
    ref: 'alpine',
    files: { 'docker.io/hosts.toml': '[host."https://hub.example.com"]\n  capabilities = ["pull", "resolve"]\n' },
    want: {
      requests: ['https://hub.example.com/v2/library/alpine/manifests/latest?ns=docker.io', 'https://registry-1.docker.io/v2/library/alpine/manifests/latest'],
      credentialHosts: ['hub.example.com', 'registry-1.docker.io'],
    },
  },
  {
    rule: 'R25',
    name: 'ns values are query-escaped',
    version: '2.3.4',
    ref: 'myregistry.io:5000/team/app:v1',
    files: { 'myregistry.io_5000_/hosts.toml': '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n' },
    want: { requests: ['https://m.example.com/v2/team/app/manifests/v1?ns=myregistry.io%3A5000', 'https://myregistry.io:5000/v2/team/app/manifests/v1'] },
  },
  {
    rule: 'R28',
    name: 'push uses only the first push-capable host',
    version: '2.3.4',
    op: 'push',
    toml: '[host."https://a.example.com"]\n  capabilities = ["push"]\n[host."https://b.example.com"]\n  capabilities = ["push"]\n',
    want: { requests: ['https://a.example.com/v2/app/manifests/1?ns=registry.example.com', null, null] },
  },
  {
    rule: 'R7',
    name: 'an empty registry directory shadows _default',
    version: '2.3.4',
    files: { 'registry.example.com': null, '_default/hosts.toml': '[host."https://d.example.com"]\n' },
    want: { urls: ['https://registry.example.com/v2'], codes: ['HOSTS_DIR_SHADOWS_DEFAULT'] },
  },
  {
    rule: 'R13',
    name: 'a misspelt key is reported, not silently ignored',
    version: '2.3.4',
    toml: '[host."https://m.example.com"]\n  capabilites = ["pull"]\n',
    want: {
      caps: [
        ['pull', 'resolve', 'push', 'referrers'],
        ['pull', 'resolve', 'push', 'referrers'],
      ],
      codes: ['HOSTS_UNKNOWN_KEY'],
    },
  },
  {
    rule: 'R21',
    name: 'a mirror listed as host and server is tried twice',
    version: '2.3.4',
    toml: 'server = "https://m.example.com"\n[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n',
    want: { urls: ['https://m.example.com/v2', 'https://m.example.com/v2'], codes: ['HOSTS_DUPLICATE_HOST'] },
  },
  {
    rule: 'R17',
    name: 'a scheme-less key starting with http is skipped',
    version: '2.3.4',
    toml: '[host."httpcache.example.com"]\n  capabilities = ["pull", "resolve"]\n',
    want: { requests: [null, 'https://registry.example.com/v2/app/manifests/1'], codes: ['HOSTS_HTTP_PREFIX_TRAP'] },
  },
];

describe('containerd rules by version', () => {
  it.each(cases.map((c) => [`${c.rule} ${c.name} (${c.version})`, c] as const))('%s', async (_title, c) => {
    const root = c.toml !== undefined ? makeTree({ 'registry.example.com/hosts.toml': c.toml }) : c.files ? makeTree(c.files) : null;
    const r = await resolveHosts(nodeSystem(), {
      reference: c.ref ?? REF,
      operation: c.op ?? 'pull',
      roots: root === null ? [] : [root],
      version: parseContainerdVersion(c.version),
    });
    const w = c.want;
    if (w.urls) expect(r.hosts.map((h) => h.url)).toEqual(w.urls);
    if (w.requests) expect(r.hosts.map((h) => h.requestUrl)).toEqual(w.requests);
    if (w.credentialHosts) expect(r.hosts.map((h) => h.credentialHost)).toEqual(w.credentialHosts);
    if (w.caps) expect(r.hosts.map((h) => h.capabilities)).toEqual(w.caps);
    if (w.httpsFirst) expect(r.hosts.map((h) => h.httpsFirst)).toEqual(w.httpsFirst);
    if (w.skipVerify) expect(r.hosts.map((h) => h.skipVerify)).toEqual(w.skipVerify);
    if (w.ownClient) expect(r.hosts.map((h) => h.ownClient)).toEqual(w.ownClient);
    const codes = r.diagnostics.map((d) => d.code);
    for (const code of w.codes ?? []) expect(codes).toContain(code);
    for (const code of w.notCodes ?? []) expect(codes).not.toContain(code);
  });
});
