/**
 * Docker Hub's names, in one place. References say `docker.io`; the API is
 * served by `registry-1.docker.io`; `index.docker.io` is the legacy name, and
 * Docker keys credentials by `https://index.docker.io/v1/`. All three hosts are
 * one registry for credentials and for `?ns=` (containerd sends ns=docker.io).
 */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';
const ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST]);

/** isDockerHub: is this host (lower-case, no port or :443) one of Docker Hub's names? */
export function isDockerHub(host: string): boolean {
  const h = host.toLowerCase();
  return ALIASES.has(h.endsWith(':443') ? h.slice(0, -4) : h);
}

/** hubApiHost maps a registry name to the host its API answers on (docker.io -> registry-1.docker.io). */
export function hubApiHost(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API_HOST : registry;
}
