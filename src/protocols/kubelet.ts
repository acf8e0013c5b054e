/**
 * The kubelet image credential provider protocol
 * (credentialprovider.kubelet.k8s.io/v1, also v1beta1 and v1alpha1): a
 * CredentialProviderRequest on stdin, a CredentialProviderResponse echoing its
 * apiVersion on stdout. Strict on input, as kubelet is on output. The answer is
 * the registry's own credential: kubelet hands it to CRI for the registry host
 * only, never to a mirror.
 */
import { hubApiHost } from '../hosts/docker-hub.js';
import { parseEndpoint } from '../credentials/keys.js';
import { openCredentials, resolveCredential } from '../credentials/resolve.js';
import { isMirrorauthError } from '../errors.js';
import { jsonErrorReason } from '../json-error.js';
import { parseGoDuration } from '../hosts/go-semantics.js';
import { parseReference } from '../reference/reference.js';
import type { System } from '../system/system.js';

export const KUBELET_API_VERSIONS = [
  'credentialprovider.kubelet.k8s.io/v1',
  'credentialprovider.kubelet.k8s.io/v1beta1',
  'credentialprovider.kubelet.k8s.io/v1alpha1',
] as const;
const REQUEST_FIELDS = new Set(['apiVersion', 'kind', 'image', 'serviceAccountToken', 'serviceAccountAnnotations']);

export interface KubeletReply {
  stdout: string;
  stderr: string;
  code: number;
}

const bad = (message: string): KubeletReply => ({ stdout: '', stderr: `mirrorauth kubelet-provider: ${message}\n`, code: 1 });

export interface KubeletOptions {
  /** cacheDuration to send (a Go duration), or undefined to leave it to the provider's defaultCacheDuration. */
  cacheDuration?: string;
  /** Docker config directory (--config), else $DOCKER_CONFIG or ~/.docker. */
  config?: string;
}

export async function handleKubelet(sys: System, input: string, o: KubeletOptions = {}): Promise<KubeletReply> {
  let req: Record<string, unknown>;
  try {
    const parsed = JSON.parse(input) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad('the request must be a JSON object');
    req = parsed as Record<string, unknown>;
  } catch (e) {
    return bad(`the request on stdin is not JSON (${jsonErrorReason(e)})`);
  }
  const unknown = Object.keys(req).filter((k) => !REQUEST_FIELDS.has(k));
  if (unknown.length > 0) return bad(`unknown field(s) in the request: ${unknown.join(', ')}`);
  const apiVersion = req.apiVersion;
  if (typeof apiVersion !== 'string' || !(KUBELET_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    return bad(`unsupported apiVersion ${JSON.stringify(apiVersion)}; expected one of ${KUBELET_API_VERSIONS.join(', ')}`);
  }
  if (req.kind !== 'CredentialProviderRequest') return bad(`kind must be CredentialProviderRequest, not ${JSON.stringify(req.kind)}`);
  if (typeof req.image !== 'string' || req.image === '') return bad('the request has no "image"');
  if (o.cacheDuration !== undefined && parseGoDuration(o.cacheDuration) === null)
    return bad(`--cache-duration ${JSON.stringify(o.cacheDuration)} is not a duration such as 5m0s`);

  let registry: string;
  try {
    registry = parseReference(req.image).registry;
  } catch (e) {
    return bad(isMirrorauthError(e) ? e.message : String(e));
  }
  const response: Record<string, unknown> = { apiVersion, kind: 'CredentialProviderResponse', cacheKeyType: 'Registry' };
  if (o.cacheDuration !== undefined) response.cacheDuration = o.cacheDuration;
  const auth: Record<string, { username: string; password: string }> = {};
  try {
    const ctx = await openCredentials(sys, o.config);
    const apiHost = hubApiHost(registry);
    const e = parseEndpoint(apiHost);
    const r = await resolveCredential(ctx, { host: e.host, path: '' }, registry);
    const c = r.credential;
    if (r.source.kind !== 'anonymous') {
      if (c.password !== '') auth[registry] = { username: c.username, password: c.password };
      else
        return {
          ...finish(response, auth),
          stderr: `mirrorauth kubelet-provider: the credential for ${registry} is a token kubelet cannot use (only username/password); answering none\n`,
        };
    }
  } catch (e) {
    return bad(isMirrorauthError(e) ? e.message : (e as Error).message);
  }
  return finish(response, auth);
}

function finish(response: Record<string, unknown>, auth: Record<string, { username: string; password: string }>): KubeletReply {
  return { stdout: `${JSON.stringify({ ...response, auth })}\n`, stderr: '', code: 0 };
}

export async function serveKubelet(sys: System, o: KubeletOptions): Promise<number> {
  const reply = await handleKubelet(sys, await sys.stdin.readAll(), o);
  sys.stdout.write(reply.stdout);
  sys.stderr.write(reply.stderr);
  return reply.code;
}
