/**
 * Masked forms of secrets for every human and JSON output: enough to tell two
 * secrets apart by length and kind, never enough to use one.
 */

/** maskSecret shows only the length of a secret. */
export function maskSecret(secret: string): string {
  if (secret === '') return '';
  return `****** (${secret.length} chars)`;
}

const SENSITIVE_HEADER = /authorization|cookie|token|secret|password|passwd|api[-_]?key|credential|auth/i;

/** isSensitiveHeader tells whether a header's values are treated as secrets. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/** maskHeaderValue masks the value of a sensitive header, keeping an auth scheme word ("Basic ******"). */
export function maskHeaderValue(name: string, value: string): string {
  if (!isSensitiveHeader(name)) return value;
  const m = /^(Basic|Bearer|Token|Digest)\s+(.*)$/i.exec(value);
  return m ? `${m[1]} ${maskSecret(m[2] ?? '')}` : maskSecret(value);
}

/**
 * maskUserinfo hides the user information of an address (`https://user:secret@host` → `https://***@host`,
 * `user:secret@host/path` → `***@host/path`): a secret typed into an address is never repeated.
 */
export function maskUserinfo(address: string): string {
  return address.replace(/^(\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)?)[^/?#]*@/, '$1***@');
}
