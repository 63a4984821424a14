#!/usr/bin/env bash
# The micro-benchmark runs wherever it is loaded (0x40200000 as a guest, 0x60000000 as BL33): its code and data
# must reach everything PC-relatively. An absolute address (a pointer in initialised data, a literal-pool
# address) would point into nothing at run time; the relocations the link kept (-q) show any. Debug sections
# may hold absolute addresses: nothing loads them.
set -euo pipefail
elf=$1
abs=$(aarch64-linux-gnu-readelf -rW "$elf" | awk '
  /^Relocation section/ { loaded = ($3 !~ /debug/) }
  loaded && /R_AARCH64_(ABS64|ABS32|ABS16|MOVW_UABS)/ && !/_image_size/ { print }')
if [[ -n $abs ]]; then
  echo "$elf: absolute relocations in loaded sections (the image would not run where it is loaded):" >&2
  echo "$abs" >&2
  exit 1
fi
