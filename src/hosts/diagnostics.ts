/**
 * The catalogue of diagnostic codes (docs/diagnostics.md lists them for users)
 * and the one constructor every module uses, so codes and severities stay stable.
 */
import type { Diagnostic, Severity } from './types.js';

export const DIAGNOSTIC_CODES = {
  HOSTS_TOML_SYNTAX: 'warning',
  HOSTS_TOML_TYPE: 'warning',
  HOSTS_TOML_UNKNOWN_CAPABILITY: 'warning',
  HOSTS_TOML_BAD_URL: 'warning',
  HOSTS_TOML_BAD_DIAL_TIMEOUT: 'warning',
  HOSTS_TOML_BRACKET_KEY: 'warning',
  HOSTS_TOML_SERVER_ONLY: 'warning',
  HOSTS_TOML_NO_HOST_TREE: 'warning',
  HOSTS_TOML_CRASH: 'error',
  HOSTS_TOML_CRLF: 'info',
  HOSTS_FILE_UNREADABLE: 'error',
  HOSTS_FILE_EMPTY: 'info',
  HOSTS_UNKNOWN_KEY: 'warning',
  HOSTS_KEY_ALIAS: 'info',
  HOSTS_KEY_IGNORED_BY_VERSION: 'info',
  HOSTS_HOST_DROPPED: 'warning',
  HOSTS_HOST_REPEATED: 'warning',
  HOSTS_ORDER_RANDOM: 'warning',
  HOSTS_DUPLICATE_HOST: 'warning',
  HOSTS_HTTP_PREFIX_TRAP: 'warning',
  HOSTS_HOST_UNUSABLE: 'warning',
  HOSTS_ROOT_CAPABILITIES_IGNORED: 'info',
  HOSTS_CA_MISSING: 'error',
  HOSTS_CA_INVALID: 'error',
  HOSTS_CLIENT_CERT_MISSING: 'error',
  HOSTS_CLIENT_CERT_INVALID: 'error',
  HOSTS_DIR_SHADOWS_DEFAULT: 'warning',
  HOSTS_DIR_UNREADABLE: 'error',
  HOSTS_LATER_ROOT_SHADOWED: 'info',
  HOSTS_ROOT_MISSING: 'info',
  HOSTS_HTTPS_FIRST: 'info',
  HOSTS_STATIC_AUTHORIZATION: 'info',
  HOSTS_NO_HOST_FOR_OPERATION: 'error',
  REF_IPV6_OLD_GRAMMAR: 'warning',
  REF_TAG_DROPPED: 'info',
  CONTAINERD_CONFIG_NO_CONFIG_PATH: 'warning',
  CONTAINERD_CONFIG_MIRRORS_IGNORED: 'info',
  CRI_TRANSFER_MULTI_ROOT: 'warning',
  CRI_DEPRECATED_REGISTRY_KEYS: 'warning',
  CRI_KUBELET_REPLACES_MIRROR_AUTH: 'warning',
  HOSTS_DIR_NAME_SHADOWED: 'info',
  CRED_MIRROR_NO_CREDENTIALS: 'warning',
  CRED_UNUSED_ENTRY: 'info',
  CRED_PLAINTEXT_PASSWORD: 'warning',
  CRED_HELPER_MISSING: 'error',
  CRED_KEYCHAIN_UNAVAILABLE: 'error',
  CRED_KEYCHAIN_LOCKED: 'error',
  CRED_NERDCTL_KEYS: 'warning',
  CRED_CONFIG_INVALID: 'error',
  CRED_DOCKER_AUTH_CONFIG: 'info',
  CRED_STORE_ENTRY_SKIPPED: 'warning',
  CRED_HELPER_BACKEND_ENUMERATED: 'info',
  SERVE_PROXY_DOWN: 'warning',
  SERVE_TREE_STALE: 'warning',
} as const satisfies Record<string, Severity>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface DiagnosticInit {
  message: string;
  file?: string | null;
  line?: number | null;
  fix?: string | null;
  rule?: string | null;
}

/** diagnostic builds a Diagnostic with the catalogue's severity for its code. */
export function diagnostic(code: DiagnosticCode, init: DiagnosticInit): Diagnostic {
  return {
    severity: DIAGNOSTIC_CODES[code],
    code,
    message: init.message,
    file: init.file ?? null,
    line: init.line ?? null,
    fix: init.fix ?? null,
    rule: init.rule ?? null,
  };
}
