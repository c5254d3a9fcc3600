#!/bin/bash
# tests/data/gpt/make-data.sh - regenerate the GPT fixtures of tests/unit/test-gpt.c and the fuzz
# seeds: the first 34 and last 33 sectors of tools/mkdisk compact images (128 MiB, 512-byte
# sectors), one per --state, and small 64 KiB GPT disks for tests/fuzz/corpus/gpt/, all made with
# flatctl's cgpt link (docs/partitions.md §1, §9).
# Usage: tests/data/gpt/make-data.sh [FLATCTL]   (default: $FLATCTL, else build/flatctl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
FLATCTL=$(realpath "${1:-${FLATCTL:-$src/build/flatctl}}")
export FLATCTL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$FLATCTL" "$tmp/cgpt"

cut_ends() { # image sectors out
	{ dd if="$1" bs=512 count=34 status=none; dd if="$1" bs=512 skip=$(($2 - 33)) count=33 status=none; } >"$3"
}

for s in fresh updated trying-b booted-b fell-back updated-a; do
	"$src/tools/mkdisk" --layout compact --state "$s" -q "$tmp/$s.img"
	cut_ends "$tmp/$s.img" 262144 "$here/$s.bin"
done

corpus=$src/tests/fuzz/corpus/gpt
mkdir -p "$corpus"
usr=5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6
cgpt() { "$tmp/cgpt" "$@" "$tmp/small.img" >/dev/null; }
truncate -s 64K "$tmp/small.img"
cgpt create -g 00000000-0000-0000-0000-000000000001
cgpt add -i 1 -b 34 -s 16 -t $usr -l USR-A -u 7130C94A-213A-4E5A-8E26-6CCE9662F132 -P 1 -S 1
cgpt add -i 2 -b 50 -s 16 -t $usr -l USR-B -u E03DD35C-7C2D-4A47-B3FE-27F15780A57C -P 2 -T 1
cgpt add -i 3 -b 66 -s 29 -t flatcar-resize -l ROOT -u 1D7E3C56-0009-4C0B-9F00-000000000009
cut_ends "$tmp/small.img" 128 "$corpus/usr-ab.bin"
cp "$tmp/small.img" "$tmp/bad.img"
printf 'X' | dd of="$tmp/bad.img" bs=1 seek=532 conv=notrunc status=none
cut_ends "$tmp/bad.img" 128 "$corpus/primary-crc.bin"
head -c 34304 /dev/zero >"$corpus/zeros.bin"
