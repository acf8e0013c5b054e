// Generated from package.json by scripts/write-version.mjs (npm run build). Do not edit.
export const VERSION = '0.2.0';
