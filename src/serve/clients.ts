/**
 * Configuration for clients that cannot send `?ns=` (podman, skopeo, buildah
 * through registries.conf mirrors): each route that serves one namespace
 * becomes a mirror whose location carries the route id as a repository prefix
 * (`127.0.0.1:5599/mirrorauth/<id>`), and the proxy's access secret goes into
 * a containers-auth.json entry for the proxy host (those clients send it after
 * the proxy's Basic challenge). Pure.
 */
import { REPO_PREFIX, type ServeManifest } from './routes.js';

function tomlString(s: string): string {
  return JSON.stringify(s);
}

function proxyHost(manifest: ServeManifest): string {
  return new URL(manifest.proxyUrl).host;
}

/** registriesConf renders a registries.conf (v2) drop-in with the proxy routes as mirrors, in containerd's order. */
export function registriesConf(manifest: ServeManifest): string {
  const byNs = new Map<string, string[]>();
  for (const r of manifest.routes) {
    if (r.namespace === null) continue; // a `_default` route needs ?ns=, which these clients never send
    byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), r.id]);
  }
  const out = [`# Rendered by mirrorauth from ${manifest.sourceRoots.join(', ')}: mirrors through mirrorauth serve at ${manifest.proxyUrl}.`];
  for (const [ns, ids] of byNs) {
    out.push('', '[[registry]]', `prefix = ${tomlString(ns)}`, `location = ${tomlString(ns)}`);
    for (const id of ids) out.push('[[registry.mirror]]', `location = ${tomlString(`${proxyHost(manifest)}/${REPO_PREFIX}/${id}`)}`, 'insecure = true');
  }
  return `${out.join('\n')}\n`;
}

/** containersAuth is an auth file whose only entry lets podman/skopeo present the access secret to the proxy. */
export function containersAuth(manifest: ServeManifest, secret: string): string {
  const auth = Buffer.from(`mirrorauth:${secret}`).toString('base64');
  return `${JSON.stringify({ auths: { [proxyHost(manifest)]: { auth } } }, null, 2)}\n`;
}
