#!/usr/bin/env bash
# Renders every docs/media/*.dot to an SVG next to it with Graphviz, installing Debian's graphviz when `dot` is
# missing. Each SVG gets a comment with the sha256 of the DOT it came from, so test/docs/solution-design.test.ts
# can tell a stale SVG without needing Graphviz itself.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
media="$root/docs/media"

if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "render-diagram: installing graphviz (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "render-diagram: Graphviz 'dot' is not installed; install it (Debian: apt-get install -y graphviz) and rerun" >&2
    exit 1
  fi
fi

shopt -s nullglob
sources=("$media"/*.dot)
if [ "${#sources[@]}" -eq 0 ]; then
  echo "render-diagram: no .dot files in $media" >&2
  exit 1
fi

for src in "${sources[@]}"; do
  out="${src%.dot}.svg"
  name="$(basename "$src")"
  hash="$(sha256sum "$src" | cut -d' ' -f1)"
  tmp="$(mktemp "$out.XXXXXX")"
  # Render first, then add the marker after the XML declaration: a failed render leaves the old SVG in place.
  if ! dot -Tsvg "$src" >"$tmp"; then
    rm -f "$tmp"
    echo "render-diagram: dot failed on $name" >&2
    exit 1
  fi
  awk -v marker="<!-- rendered from $name sha256:$hash by scripts/render-diagram.sh; edit the .dot, not this file -->" \
    'NR == 1 { print; print marker; next } { print }' "$tmp" >"$out"
  rm -f "$tmp"
  echo "render-diagram: $name -> $(basename "$out")"
done
