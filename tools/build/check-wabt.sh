#!/usr/bin/env bash
# The generated code's names (Z_<module>Z_<function>) and runtime API are those
# of wabt 1.0.32; later versions rename them (w2c_). Refuse anything else.
set -euo pipefail
want=1.0.32
have=$(wasm2c --version 2>/dev/null || echo none)
if [ "$have" != "$want" ]; then
  echo "wasm2c $have found, but the build needs wabt $want (Debian bookworm's). Run: make deps" >&2
  exit 1
fi
