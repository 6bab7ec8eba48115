#!/usr/bin/env bash
# Debian packages the book uses when available: Fashion-MNIST (dataset-fashion-mnist) and
# Chromium for the browser checks. Skipped, with a note, where apt-get or root is missing.
set -u
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)  # fetches MathJax once (tools/fetch_mathjax.py)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "note: install ${need[*]} (Debian packages) for Fashion-MNIST and the browser checks" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
