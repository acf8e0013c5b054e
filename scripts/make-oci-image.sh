#!/usr/bin/env bash
# make-oci-image.sh DIR TAG [TEXT]: a one-layer OCI image layout with a deterministic digest, no daemon needed.
# Prints the manifest digest.
set -euo pipefail
out=$1 tag=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$out/blobs/sha256" "$work/root"
echo "${3:-mirrorauth test image}" >"$work/root/hello.txt"
tar --sort=name --mtime='2020-01-01 00:00Z' --owner=0 --group=0 --numeric-owner -C "$work/root" -cf "$work/layer.tar" hello.txt
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -c "$work/layer.tar" >"$work/layer.tgz"
blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$out/blobs/sha256/$d"; echo "$d $(stat -c %s "$1")"; }
read -r layer_d layer_s < <(blob "$work/layer.tgz")
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff_id" >"$work/config.json"
read -r cfg_d cfg_s < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' "$cfg_d" "$cfg_s" "$layer_d" "$layer_s" >"$work/manifest.json"
read -r man_d man_s < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' "$man_d" "$man_s" "$tag" >"$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
echo "sha256:$man_d"
