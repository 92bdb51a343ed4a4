#!/usr/bin/env bash
# Fetches the third-party browser code listed in web/assets/vendor/manifest.txt again from the npm
# registry (`npm pack`, npm's own client), checks each tarball against the integrity recorded in
# the manifest (sha512, as npm reports it) and each committed file against its tarball, byte for
# byte, and against its recorded sha256.
#
#   scripts/vendor.sh           verify: exit 1 on any difference (changes nothing)
#   scripts/vendor.sh --write   write the files from the verified tarballs into web/assets/vendor/
#
# To move to a new release: change the version and the integrity in the manifest (from
# `npm view PACKAGE@VERSION dist.integrity`), run with --write, then update the sha256 column
# (`sha256sum web/assets/vendor/FILE`) and check the pages in a browser (the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=web/assets/vendor
manifest=$vendor/manifest.txt
write=false
[[ "${1:-}" == "--write" ]] && write=true

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# npm's integrity string of a file: "sha512-" and the base64 of its SHA-512.
integrity() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

while read -r kind package version integrity_or_path rest; do
  [[ "$kind" == "tarball" ]] || continue
  dir="$work/$package"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$package@$version" >/dev/null)
  tgz=$(ls "$dir"/*.tgz)
  actual=$(integrity "$tgz")
  if [[ "$actual" != "$integrity_or_path" ]]; then
    echo "FAIL $package@$version: tarball integrity $actual, manifest says $integrity_or_path" >&2
    failed=1
    continue
  fi
  tar xzf "$tgz" -C "$dir"
  echo "ok   $package@$version tarball $actual"
done < <(grep -v '^#' "$manifest")

while read -r kind package version path committed sha256 licence; do
  [[ "$kind" == "file" ]] || continue
  source="$work/$package/$path"
  if [[ ! -f "$source" ]]; then
    echo "FAIL $package@$version has no $path" >&2
    failed=1
    continue
  fi
  if $write; then
    mkdir -p "$(dirname "$vendor/$committed")"
    cp "$source" "$vendor/$committed"
  fi
  if ! cmp -s "$source" "$vendor/$committed"; then
    echo "FAIL $vendor/$committed differs from $package@$version/$path" >&2
    failed=1
  elif [[ "$(sha256sum "$vendor/$committed" | cut -d' ' -f1)" != "$sha256" ]]; then
    echo "FAIL $vendor/$committed: sha256 differs from the manifest" >&2
    failed=1
  else
    echo "ok   $vendor/$committed = $package@$version/$path ($licence)"
  fi
done < <(grep -v '^#' "$manifest")

exit $failed
