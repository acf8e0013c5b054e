/**
 * Who can receive a stored credential. A namespaced entry (`host/path?ns=`)
 * is only ever delivered by `mirrorauth serve`: no stock client passes the
 * namespace to a credential helper (podman, skopeo, docker and nerdctl ask for
 * the bare host; CRI and ctr run no helper at all). The answers come from each
 * client's own lookup (the same functions the helper protocols answer with), so
 * `lookup` and `login` cannot promise what a real pull would not do.
 */
import { isEmptyCredential, type Credential } from './credential.js';
import { dockerLookup, resolveCredential, type CredentialContext } from './resolve.js';
import { shellCommand } from '../shell.js';

export type Receiver = 'serve' | 'containerd' | 'nerdctl' | 'helper' | 'bazel';

export interface Reach {
  client: Receiver;
  /** For people: which programs this row stands for. */
  label: string;
  /** The same, in a few words (login's summary line). */
  short: string;
  receives: boolean;
  /** Why, and what makes it reach the client when it does not. */
  note: string;
}

const same = (a: Credential | null, b: Credential): boolean =>
  a !== null &&
  !isEmptyCredential(a) &&
  a.username === b.username &&
  a.password === b.password &&
  a.identityToken === b.identityToken &&
  a.registryToken === b.registryToken;

/** whoReceives answers, client by client, whether its own lookup for this endpoint finds `credential`. */
export async function whoReceives(
  ctx: CredentialContext,
  endpoint: { host: string; path: string },
  namespace: string | null,
  credential: Credential,
): Promise<Reach[]> {
  const fixServe = `run \`mirrorauth serve --render /etc/containerd/certs.d-mirrorauth\` and point containerd's config_path (or ctr --hosts-dir) there`;
  const ask = async (f: () => Promise<Credential | null>): Promise<Credential | null> => {
    try {
      return await f();
    } catch {
      return null;
    }
  };
  const nerdctl = await ask(async () => (await dockerLookup(ctx, endpoint.host, []))?.credential ?? null);
  const helper = await ask(async () => {
    const r = await resolveCredential(ctx, { host: endpoint.host, path: '' }, null, { asHelper: true });
    return r.source.kind === 'anonymous' ? null : r.credential;
  });
  const bazel = await ask(async () => {
    const r = await resolveCredential(ctx, endpoint, null);
    return r.source.kind === 'anonymous' ? null : r.credential;
  });
  const bare = namespace === null && endpoint.path === '';
  const plainFix = `store it for the bare host too: ${shellCommand('mirrorauth', 'login', endpoint.host)} (every upstream it serves then gets it)`;
  return [
    {
      client: 'serve',
      short: 'mirrorauth serve',
      label: 'mirrorauth serve (containerd CRI, ctr, nerdctl through a rendered hosts.toml)',
      receives: true,
      note: 'the proxy looks the entry up with the path and ?ns= containerd sends',
    },
    {
      client: 'containerd',
      short: 'containerd CRI/ctr on their own',
      label: 'containerd CRI and ctr on their own',
      receives: false,
      note: `they run no credential helper (CRI reads only registry.configs and kubelet's credential); ${fixServe}`,
    },
    {
      client: 'nerdctl',
      short: 'nerdctl',
      label: 'nerdctl (Docker config by host)',
      receives: same(nerdctl, credential),
      note: same(nerdctl, credential)
        ? 'its Docker-config lookup for the host finds it'
        : bare
          ? 'nerdctl reads Docker config, not this store'
          : `it asks for ${endpoint.host} only; ${plainFix}, or ${fixServe}`,
    },
    {
      client: 'helper',
      short: 'podman/skopeo/docker',
      label: 'podman, skopeo, buildah, docker (docker-credential-mirrorauth)',
      receives: same(helper, credential),
      note: same(helper, credential) ? `they ask for "${endpoint.host}" and get it` : `they ask for "${endpoint.host}" only (no path, no ns=); ${plainFix}`,
    },
    {
      client: 'bazel',
      short: 'Bazel',
      label: 'Bazel (mirrorauth bazel)',
      receives: same(bazel, credential),
      note: same(bazel, credential) ? 'its request URLs for this endpoint find it' : 'its request URLs carry no ?ns=',
    },
  ];
}
