#!/usr/bin/env bash
# Builds the single kgate binary: dist/kgate (or dist/kgate-<target>).
#
#   ./compile.sh                               # for this machine
#   ./compile.sh --target aarch64-unknown-linux-gnu
#   DENORT_BIN=/path/to/denort ./compile.sh    # use a local denort runtime (no download)
#
# `deno compile` downloads the `denort` runtime for the target unless DENORT_BIN points to one.
#
# The binary gets exactly the permissions kgate uses (README, "Building the binary"): network (listeners,
# brokers, HTTP API), environment (every setting is an environment variable), read (TLS, CA and token files
# named by settings) and the host name only (the default advertised host / node id). No write, run, ffi or
# other sys access: an attempt fails with NotCapable instead of prompting. `deno task start` uses the same.
set -euo pipefail
cd "$(dirname "$0")"

target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value}"; shift 2 ;;
    --target=*) target="${1#--target=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "compile.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

out="dist/kgate"
args=(compile --allow-net --allow-env --allow-read --allow-sys=hostname --no-check=remote)
if [ -n "$target" ]; then
  args+=(--target "$target")
  out="dist/kgate-$target"
fi
if [ -n "${DENORT_BIN:-}" ]; then
  [ -x "$DENORT_BIN" ] || { echo "compile.sh: DENORT_BIN=$DENORT_BIN is not an executable file" >&2; exit 2; }
  export DENORT_BIN
  echo "compile.sh: using the denort runtime at $DENORT_BIN"
fi
mkdir -p dist
deno "${args[@]}" --output "$out" main.ts
echo "compile.sh: built $out"
