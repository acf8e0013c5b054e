/**
 * Image reference parsing with Docker normalisation, as CRI and nerdctl apply it
 * before containerd sees the reference (containerd's ParseDockerRef over the
 * distribution/reference grammar): `alpine` -> `docker.io/library/alpine:latest`.
 */
import { MirrorauthError } from '../errors.js';

export interface ImageReference {
  /** What the user typed. */
  input: string;
  /** The fully normalised reference containerd resolves. */
  normalized: string;
  /** The registry host ("namespace" in containerd's words), port and brackets kept. */
  registry: string;
  /** The repository path below the registry, identical for every mirror. */
  repository: string;
  /** The tag, or null when resolving by digest. */
  tag: string | null;
  digest: string | null;
  /** A tag given together with a digest: ParseDockerRef drops it. */
  droppedTag: string | null;
  /** True when the registry part is an IPv6 literal (`[::1]:5000`). */
  ipv6: boolean;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const referenceRe = new RegExp(`^((?:${domainAndPort}/)?${remoteName})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const domainRe = new RegExp(`^(${domainAndPort})/`);
const hex64Re = /^[a-f0-9]{64}$/;

function invalid(input: string, why: string): MirrorauthError {
  return new MirrorauthError('INVALID_REFERENCE', `invalid image reference ${JSON.stringify(input)}: ${why}`, {
    hint: 'write it as [REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST], for example docker.io/library/alpine:3.19',
  });
}

/** splitDockerDomain mirrors distribution's rule for "does the first component name a registry?". */
function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * parseReference parses and normalises an image reference. It throws
 * MirrorauthError(INVALID_REFERENCE) with the reason for anything the
 * distribution grammar rejects.
 */
export function parseReference(input: string): ImageReference {
  const s = input.trim();
  if (s === '') throw invalid(input, 'it is empty');
  if (s.includes('://')) throw invalid(input, 'a reference has no scheme (drop the "https://")');
  if (hex64Re.test(s)) throw invalid(input, 'a 64-character hexadecimal string is an image ID, not a repository name');

  const [domain, remainder] = splitDockerDomain(s);
  const namePart = remainder.split(/[:@]/, 1)[0] ?? '';
  if (namePart !== namePart.toLowerCase()) throw invalid(input, `repository name ${JSON.stringify(namePart)} must be lowercase`);

  const full = `${domain}/${remainder}`;
  const m = referenceRe.exec(full);
  if (!m) {
    if (remainder.startsWith('/') || remainder === '') throw invalid(input, 'the repository name is missing');
    throw invalid(input, 'it does not match the reference grammar (allowed: lowercase letters, digits, and . _ - / separators)');
  }
  const name = m[1] ?? '';
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(input, `the repository name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const dm = domainRe.exec(name);
  const registry = dm?.[1] ?? domain;
  const repository = name.slice(registry.length + 1);
  const givenTag = m[2] ?? null;
  const digest = m[3] ?? null;
  if (digest !== null) {
    const [algo, hex] = digest.split(':') as [string, string];
    if (algo === 'sha256' && hex.length !== 64) throw invalid(input, 'a sha256 digest has 64 hexadecimal characters');
    if (algo === 'sha512' && hex.length !== 128) throw invalid(input, 'a sha512 digest has 128 hexadecimal characters');
  }
  const tag = digest === null ? (givenTag ?? 'latest') : null;
  const normalized = digest === null ? `${name}:${tag}` : `${name}@${digest}`;
  return {
    input,
    normalized,
    registry,
    repository,
    tag,
    digest,
    droppedTag: digest !== null ? givenTag : null,
    ipv6: registry.startsWith('['),
  };
}
