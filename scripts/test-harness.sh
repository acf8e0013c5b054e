#!/usr/bin/env bash
# test-harness.sh up|down|env — the real components the credential tests use, all on 127.0.0.1:
#   - a D-Bus session bus with an unlocked gnome-keyring (Secret Service)
#   - a throw-away GnuPG key and pass store (for docker-credential-pass)
#   - a token server (test/fixtures/token-server.mjs) and a distribution registry using it (Bearer)
#   - a pull-through mirror of that registry with its own htpasswd users (Basic)
#   - a standalone registry with htpasswd users (Basic), seeded with test/hello:v1 and gamma/app:v1
#   - a Bearer "multi-upstream mirror" (one registry, token auth with per-user repository ACLs) holding
#     alpha/app:v1 (only robot-a may pull) and beta/app:v1 (only robot-b): one endpoint, two namespaces,
#     two different credentials
# `up` prints nothing on success but the path of the env file to source; `down` stops it all.
# Needs the Debian packages listed in HARNESS_PACKAGES (.ci/run installs them).
set -Eeuo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
H=${HARNESS_DIR:-/tmp/mirrorauth-harness}
BASE_PORT=${HARNESS_BASE_PORT:-15000}
UPSTREAM_PORT=$BASE_PORT MIRROR_PORT=$((BASE_PORT + 1)) BASIC_PORT=$((BASE_PORT + 2)) NSMIRROR_PORT=$((BASE_PORT + 3)) TOKEN_PORT=$((BASE_PORT + 50))
HARNESS_PACKAGES="dbus-daemon dbus-bin gnome-keyring libsecret-tools golang-docker-credential-helpers pass gnupg docker-registry apache2-utils skopeo openssl curl"
# real clients of the serve tests (they start their own daemon; the harness does not need them)
CLIENT_PACKAGES="containerd podman zsh"

log() { echo "[harness] $*" >&2; }
die() { log "$*"; for f in "$H"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done; down; exit 1; }

missing() {
  local p out=()
  for p in $HARNESS_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || out+=("$p"); done
  echo "${out[*]}"
}

# start NAME CMD...: detached, own session, logs to log/NAME.log, pid to pid/NAME
start() {
  local name=$1; shift
  setsid "$@" >"$H/log/$name.log" 2>&1 </dev/null &
  echo $! >"$H/pid/$name"
}

# wait_for DESCRIPTION SECONDS CMD...
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%N) / 1000000 > deadline )) && die "timed out waiting for $what"
    sleep 0.02
  done
}

registry_answers() { # PIDNAME PORT: our process is alive and a distribution registry answers there
  kill -0 "$(cat "$H/pid/$1")" 2>/dev/null && curl -s --max-time 1 -o /dev/null -D - "http://127.0.0.1:$2/v2/" | grep -qi '^docker-distribution-api-version: registry/2.0'
}

registry_yaml() { # NAME PORT AUTH_BLOCK [PROXY_BLOCK]
  mkdir -p "$H/$1/data"
  # the Basic registry logs at debug: every line of a request then names its user (auth.user.name), which
  # the CRI tests read to see which credential containerd sent
  local level=info; [ "$1" = basic ] && level=debug
  cat >"$H/$1/config.yml" <<YAML
version: 0.1
log: {level: $level, fields: {service: $1}}
storage:
  filesystem: {rootdirectory: $H/$1/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http: {addr: "127.0.0.1:$2", secret: harness-$1}
$3
${4:-}
health: {storagedriver: {enabled: false}}
YAML
}

keyring_up() {
  mkdir -p "$H/xdg/data" "$H/xdg/run"; chmod 700 "$H/xdg/run"
  export XDG_DATA_HOME=$H/xdg/data XDG_RUNTIME_DIR=$H/xdg/run DBUS_SESSION_BUS_ADDRESS=unix:path=$H/xdg/run/bus
  start dbus dbus-daemon --session --nofork --nopidfile --address="$DBUS_SESSION_BUS_ADDRESS"
  wait_for "session bus" 5 test -S "$H/xdg/run/bus"
  # a fresh XDG_DATA_HOME: gnome-keyring creates the login keyring with this password, unlocked
  printf 'harness-keyring' >"$H/keyring.pw"
  setsid gnome-keyring-daemon --foreground --unlock --components=secrets <"$H/keyring.pw" >"$H/log/gnome-keyring.log" 2>&1 &
  echo $! >"$H/pid/gnome-keyring"
  # our daemon must own the name before any client asks, or D-Bus activates a second, locked one
  wait_for "org.freedesktop.secrets" 10 sh -c 'dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true"'
  wait_for "secret service round trip" 10 sh -c 'printf ok | secret-tool store --label=harness-probe harness probe && [ "$(secret-tool lookup harness probe)" = ok ]'
  secret-tool clear harness probe
}

pass_up() {
  export GNUPGHOME=$H/gnupg PASSWORD_STORE_DIR=$H/password-store
  mkdir -p "$GNUPGHOME"; chmod 700 "$GNUPGHOME"
  # futuredefault = sign key + encryption subkey; pass needs the latter
  gpg --batch --pinentry-mode loopback --passphrase '' --quick-generate-key 'mirrorauth harness <harness@test.invalid>' futuredefault default never 2>/dev/null
  pass init "$(gpg --list-keys --with-colons 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')" >/dev/null
}

registries_up() {
  mkdir -p "$H/token"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=mirrorauth-test-issuer \
    -keyout "$H/token/key.pem" -out "$H/token/cert.pem" 2>/dev/null
  start token node "$here/test/fixtures/token-server.mjs" --port "$TOKEN_PORT" --key "$H/token/key.pem" --cert "$H/token/cert.pem" \
    --users "alice:alice-pw,ci:ci-pw,robot-a:robot-a-pw,robot-b:robot-b-pw" --acl "robot-a=alpha/,robot-b=beta/" --log "$H/log/token-requests.jsonl" --ttl "${HARNESS_TOKEN_TTL:-300}"
  wait_for "token server" 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$TOKEN_PORT/token"
  registry_yaml upstream "$UPSTREAM_PORT" "auth:
  token: {realm: \"http://127.0.0.1:$TOKEN_PORT/token\", service: registry-$UPSTREAM_PORT, issuer: mirrorauth-test-issuer, rootcertbundle: $H/token/cert.pem}"
  start upstream docker-registry serve "$H/upstream/config.yml"
  wait_for "upstream registry" 10 registry_answers upstream "$UPSTREAM_PORT"
  # the mirror pings its upstream at start-up and exits if it is not there yet
  htpasswd -Bbn mirror-user mirror-pw | grep -v '^$' >"$H/mirror.htpasswd"
  registry_yaml mirror "$MIRROR_PORT" "auth:
  htpasswd: {realm: mirrorauth-mirror, path: $H/mirror.htpasswd}" "proxy: {remoteurl: \"http://127.0.0.1:$UPSTREAM_PORT\", username: ci, password: ci-pw}"
  start mirror docker-registry serve "$H/mirror/config.yml"
  { htpasswd -Bbn alice alice-pw; htpasswd -Bbn ci ci-pw; } | grep -v '^$' >"$H/basic.htpasswd"
  registry_yaml basic "$BASIC_PORT" "auth:
  htpasswd: {realm: mirrorauth-basic, path: $H/basic.htpasswd}"
  start basic docker-registry serve "$H/basic/config.yml"
  registry_yaml nsmirror "$NSMIRROR_PORT" "auth:
  token: {realm: \"http://127.0.0.1:$TOKEN_PORT/token\", service: registry-$NSMIRROR_PORT, issuer: mirrorauth-test-issuer, rootcertbundle: $H/token/cert.pem}"
  start nsmirror docker-registry serve "$H/nsmirror/config.yml"
  wait_for "mirror registry" 10 registry_answers mirror "$MIRROR_PORT"
  wait_for "basic registry" 10 registry_answers basic "$BASIC_PORT"
  wait_for "ns mirror registry" 10 registry_answers nsmirror "$NSMIRROR_PORT"
  bash "$here/scripts/make-oci-image.sh" "$H/image" v1 >"$H/image.digest"
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$H/image:v1" "docker://127.0.0.1:$UPSTREAM_PORT/test/hello:v1"
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$H/image:v1" "docker://127.0.0.1:$BASIC_PORT/test/hello:v1"
  local name
  for name in alpha beta gamma; do bash "$here/scripts/make-oci-image.sh" "$H/image-$name" v1 "image $name" >"$H/image-$name.digest"; done
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$H/image-alpha:v1" "docker://127.0.0.1:$NSMIRROR_PORT/alpha/app:v1"
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$H/image-beta:v1" "docker://127.0.0.1:$NSMIRROR_PORT/beta/app:v1"
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$H/image-gamma:v1" "docker://127.0.0.1:$BASIC_PORT/gamma/app:v1"
}

write_env() {
  cat >"$H/env.sh" <<ENV
export HARNESS_DIR=$H
export XDG_DATA_HOME=$XDG_DATA_HOME XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS
export GNUPGHOME=$GNUPGHOME PASSWORD_STORE_DIR=$PASSWORD_STORE_DIR
export HARNESS_UPSTREAM=127.0.0.1:$UPSTREAM_PORT HARNESS_MIRROR=127.0.0.1:$MIRROR_PORT HARNESS_BASIC=127.0.0.1:$BASIC_PORT HARNESS_NSMIRROR=127.0.0.1:$NSMIRROR_PORT
export HARNESS_TOKEN=127.0.0.1:$TOKEN_PORT HARNESS_TOKEN_LOG=$H/log/token-requests.jsonl
export HARNESS_IMAGE=test/hello:v1 HARNESS_IMAGE_DIGEST=$(cat "$H/image.digest")
export HARNESS_ALPHA_DIGEST=$(cat "$H/image-alpha.digest") HARNESS_BETA_DIGEST=$(cat "$H/image-beta.digest") HARNESS_GAMMA_DIGEST=$(cat "$H/image-gamma.digest")
ENV
}

stop() { # NAME: TERM, then KILL after 3 s (a reparented child may linger as a zombie, so read /proc)
  local pid; pid=$(cat "$H/pid/$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    if [ ! -e "/proc/$pid" ] || [ "$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ]; then return 0; fi
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  [ -d "$H" ] || return 0
  for n in nsmirror basic mirror upstream token gnome-keyring dbus; do stop "$n"; done
  [ -d "$H/gnupg" ] && GNUPGHOME=$H/gnupg gpgconf --kill all 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$H"
}

up() {
  local m; m=$(missing)
  [ -z "$m" ] || { log "missing Debian packages: $m (install: apt-get install -y $m)"; exit 3; }
  down
  for p in "$UPSTREAM_PORT" "$MIRROR_PORT" "$BASIC_PORT" "$NSMIRROR_PORT" "$TOKEN_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then log "127.0.0.1:$p is in use (set HARNESS_BASE_PORT)"; exit 1; fi
  done
  mkdir -p "$H/log" "$H/pid"
  trap 'die "up failed at line $LINENO"' ERR
  keyring_up
  pass_up
  registries_up
  write_env
  trap - ERR
  echo "$H/env.sh"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  packages) echo "$HARNESS_PACKAGES $CLIENT_PACKAGES" ;;
  missing) missing ;;
  *) echo "usage: $0 up|down|packages|missing" >&2; exit 2 ;;
esac
