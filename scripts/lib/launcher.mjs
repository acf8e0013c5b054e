// The POSIX sh launcher the installed commands and the single executable share (scripts/build-fast.mjs,
// scripts/build-sea.mjs): it follows symlinks to its own directory, moves NODE_EXTRA_CA_CERTS aside
// (Node would parse the file at every start; the program adds those CAs to its own TLS connections and
// restores the variable for children), and execs `command`, a path relative to the launcher's directory
// after `"$dir/`, optionally with environment assignments before it.
export function launcher(exec) {
  return `#!/bin/sh
# mirrorauth launcher (scripts/lib/launcher.mjs)
self=$0
while [ -h "$self" ]; do
  link=$({ command -v readlink >/dev/null 2>&1 && readlink "$self"; } || /usr/bin/readlink "$self")
  case $link in /*) self=$link ;; *) self=\${self%/*}/$link ;; esac
done
case $self in */*) dir=\${self%/*} ;; *) dir=. ;; esac
if [ -n "\${NODE_EXTRA_CA_CERTS:-}" ]; then
  MIRRORAUTH_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export MIRRORAUTH_NODE_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
${exec}
`;
}
