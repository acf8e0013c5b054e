/**
 * Registry config formats, rendered from collected credentials. Pure: data in,
 * text out. docker and helm are Docker's config.json; containers is
 * containers-auth.json (podman, skopeo, buildah); k3s is registries.yaml.
 * With `helper`, entries point at docker-credential-mirrorauth instead of
 * holding secrets.
 */
import { DOCKER_HUB, isDockerHub } from '../hosts/docker-hub.js';
import { dockerAuthFields, type Credential } from '../credentials/credential.js';
import { DOCKER_HUB_KEY } from '../credentials/keys.js';
import { MirrorauthError } from '../errors.js';
import type { RegistrySet, RenderedEndpoint } from './collect.js';

export type Format = 'docker' | 'helm' | 'containers' | 'k3s' | 'containerd';
export const FORMATS: readonly Format[] = ['docker', 'helm', 'containers', 'k3s', 'containerd'];

function dockerKey(host: string): string {
  return isDockerHub(host) ? DOCKER_HUB_KEY : host;
}

function containersKey(host: string): string {
  return isDockerHub(host) ? DOCKER_HUB : host;
}

const authEntry = (c: Credential): Record<string, string> => dockerAuthFields(c);

/** conflicts: both endpoints carry a credential and they differ. */
function conflicts(a: RenderedEndpoint, b: RenderedEndpoint): boolean {
  return a.credential !== null && b.credential !== null && JSON.stringify(a.credential) !== JSON.stringify(b.credential);
}

/** One key per consumer host; two different credentials for one key cannot be expressed. */
function byKey(sets: RegistrySet[], key: (host: string) => string): Map<string, RenderedEndpoint> {
  const out = new Map<string, RenderedEndpoint>();
  for (const s of sets) {
    const e = s.named;
    const k = key(e.host);
    const prev = out.get(k);
    if (prev && conflicts(prev, e)) {
      throw new MirrorauthError(
        'USAGE',
        `${k} would need two different credentials (for ${prev.registry} and ${e.registry}); this format keys credentials by host only`,
        {
          hint: 'render them into separate files, or use --helper so the consumer asks mirrorauth per request',
        },
      );
    }
    if (!prev || (!prev.credential && e.credential)) out.set(k, e);
  }
  return out;
}

function dockerConfig(sets: RegistrySet[], helper: boolean, key: (h: string) => string): { text: string; missing: string[] } {
  const missing: string[] = [];
  const doc: Record<string, unknown> = {};
  const entries = byKey(sets, key);
  if (helper) {
    doc.auths = {};
    doc.credHelpers = Object.fromEntries([...entries.keys()].map((k) => [k, 'mirrorauth']));
  } else {
    const auths: Record<string, unknown> = {};
    for (const [k, e] of entries) {
      if (e.credential) auths[k] = authEntry(e.credential);
      else missing.push(k);
    }
    doc.auths = auths;
  }
  return { text: `${JSON.stringify(doc, null, '\t')}\n`, missing };
}

const y = (s: string) => JSON.stringify(s);

function endpointUrl(e: RenderedEndpoint): string {
  // k3s turns an endpoint with a path other than "", "/" or "/v2" into override_path = true with the path as
  // written (pkg/agent/containerd/config.go, normalizeEndpointAddress): the URL must carry the whole API root
  return `${e.scheme}://${e.host}${e.apiPath === '/v2' ? '' : e.apiPath}`;
}

/**
 * containerd 1.x CRI: `registry.configs."<host>".auth` in config.toml, keyed by
 * the host containerd contacts (one credential per host, like k3s). Plaintext
 * in a root-only file; CRI skips it whenever kubelet sends a credential.
 */
function containerdConfigs(sets: RegistrySet[], helper: boolean): { text: string; missing: string[] } {
  if (helper)
    throw new MirrorauthError('USAGE', 'containerd CRI cannot run a credential helper: --helper is not available for --format containerd', {
      hint: 'render the secrets, or use the kubelet credential provider (mirrorauth kubelet-provider)',
    });
  const byHost = new Map<string, RenderedEndpoint>();
  for (const s of sets) {
    for (const e of s.endpoints) {
      const prev = byHost.get(e.host);
      if (prev && conflicts(prev, e)) {
        throw new MirrorauthError(
          'USAGE',
          `containerd's registry.configs keys credentials by host only, but ${e.host} has different credentials for ${prev.registry} and ${e.registry}`,
          { hint: 'per-upstream credentials for one mirror host need mirrorauth serve (render --format containerd --via-serve DIR)' },
        );
      }
      if (!prev || (!prev.credential && e.credential)) byHost.set(e.host, e);
    }
  }
  const missing: string[] = [];
  const lines = [
    '# containerd 1.x CRI: add to /etc/containerd/config.toml (version = 2), then restart containerd.',
    '# Plaintext: keep the file root-only. CRI skips these whenever kubelet sends a pull secret.',
  ];
  for (const [host, e] of byHost) {
    if (!e.credential) {
      if (!e.isUpstream) missing.push(host);
      continue;
    }
    lines.push('', `[plugins."io.containerd.grpc.v1.cri".registry.configs.${y(host)}.auth]`);
    if (e.credential.identityToken !== '') lines.push(`  identitytoken = ${y(e.credential.identityToken)}`);
    else lines.push(`  username = ${y(e.credential.username)}`, `  password = ${y(e.credential.password)}`);
  }
  return { text: `${lines.join('\n')}\n`, missing };
}

function k3s(sets: RegistrySet[], helper: boolean): { text: string; missing: string[] } {
  if (helper)
    throw new MirrorauthError('USAGE', 'k3s cannot run a credential helper: --helper is not available for --format k3s', {
      hint: 'render the secrets, or use the kubelet credential provider (mirrorauth kubelet-provider)',
    });
  const missing: string[] = [];
  const lines: string[] = ['mirrors:'];
  const configs = new Map<string, RenderedEndpoint>();
  for (const s of sets) {
    lines.push(`  ${y(s.registry)}:`, '    endpoint:');
    const mirrors = s.endpoints.filter((e) => e.registry === s.registry);
    // k3s always tries the registry itself last; only the mirrors are listed
    for (const e of mirrors.filter((m) => !m.isUpstream)) lines.push(`      - ${y(endpointUrl(e))}`);
    for (const e of mirrors) {
      const prev = configs.get(e.host);
      if (prev && conflicts(prev, e)) {
        throw new MirrorauthError(
          'USAGE',
          `k3s keys credentials by endpoint host only, but ${e.host} has different credentials for ${prev.registry} and ${e.registry}`,
          {
            hint: 'k3s cannot express per-upstream credentials for one mirror host; give the mirror one ns=* credential, or render separately',
          },
        );
      }
      if (!prev || (!prev.credential && e.credential) || (!prev.tls.caCerts.length && e.tls.caCerts.length)) configs.set(e.host, e);
    }
  }
  lines.push('configs:');
  for (const [host, e] of configs) {
    const block: string[] = [];
    if (e.credential) {
      block.push('    auth:');
      if (e.credential.identityToken !== '') block.push(`      identity_token: ${y(e.credential.identityToken)}`);
      else block.push(`      username: ${y(e.credential.username)}`, `      password: ${y(e.credential.password)}`);
    } else if (!e.isUpstream) missing.push(host);
    const tls: string[] = [];
    if (e.tls.caCerts[0]) tls.push(`      ca_file: ${y(e.tls.caCerts[0])}`);
    const pair = e.tls.clientPairs[0];
    if (pair) tls.push(`      cert_file: ${y(pair[0])}`, `      key_file: ${y(pair[1] === '' ? pair[0] : pair[1])}`);
    if (e.tls.skipVerify !== null) tls.push(`      insecure_skip_verify: ${e.tls.skipVerify}`);
    if (tls.length) block.push('    tls:', ...tls);
    if (block.length) lines.push(`  ${y(host)}:`, ...block);
  }
  if (lines[lines.length - 1] === 'configs:') lines[lines.length - 1] = 'configs: {}';
  return { text: `${lines.join('\n')}\n`, missing };
}

/** render turns collected credentials into one format; `missing` lists hosts with no credential. */
export function render(format: Format, sets: RegistrySet[], helper: boolean): { text: string; missing: string[] } {
  switch (format) {
    case 'docker':
    case 'helm':
      return dockerConfig(sets, helper, dockerKey);
    case 'containers':
      return dockerConfig(sets, helper, containersKey);
    case 'k3s':
      return k3s(sets, helper);
    case 'containerd':
      return containerdConfigs(sets, helper);
    default: {
      const never: never = format;
      return never;
    }
  }
}
