#!/usr/bin/env bash
# Installs the programs the document tests read rendered files with, if missing:
# poppler's pdftotext and pdftoppm (Debian poppler-utils) and zbarimg (zbar-tools).
# Idempotent: does nothing when all three are on PATH.
set -euo pipefail

missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
if ((${#missing[@]} == 0)); then
  exit 0
fi

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "test-tools: need root (or sudo) to install: ${packages}" >&2
    exit 1
  }
  sudo=(sudo)
fi
echo "test-tools: installing ${packages}" >&2
"${sudo[@]}" apt-get update -qq
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends ${packages}
