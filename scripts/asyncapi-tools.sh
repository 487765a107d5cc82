#!/usr/bin/env bash
# Installs the official AsyncAPI parser (npm @asyncapi/parser, pinned) under
# var/tools/asyncapi with the machine's Node (20+), if it is not there yet.
# tests/integration/test_asyncapi_document.py validates the committed
# AsyncAPI document with it (scripts/validate-asyncapi.mjs).
set -euo pipefail

PARSER_VERSION=3.6.6
cd "$(dirname "$0")/.."
prefix=var/tools/asyncapi
marker="$prefix/.installed-$PARSER_VERSION"
[[ -f $marker ]] && exit 0
command -v npm >/dev/null 2>&1 || {
  echo "asyncapi-tools: need Node.js 20+ with npm on PATH" >&2
  exit 1
}
mkdir -p "$prefix"
echo "asyncapi-tools: installing @asyncapi/parser@$PARSER_VERSION" >&2
npm install --silent --no-audit --no-fund --prefix "$prefix" \
  "@asyncapi/parser@$PARSER_VERSION" >&2
touch "$marker"
