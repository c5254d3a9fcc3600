#!/bin/bash
# tests/data/gpt/make-data.sh - regenerate the GPT fixtures of tests/unit/test-gpt.c and the fuzz
# seeds: the first 34 and last 33 sectors of mkdisk compact images (128 MiB, 512-byte sectors),
# one per --state, and small 64 KiB GPT disks for tests/fuzz/corpus/gpt/.
# Usage: tests/data/gpt/make-data.sh [MKDISK]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
mkdisk=${1:-$src/../shared/tools/mkdisk}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cut_ends() { # image sectors out
	{ dd if="$1" bs=512 count=34 status=none; dd if="$1" bs=512 skip=$(($2 - 33)) count=33 status=none; } >"$3"
}

for s in fresh updated trying-b booted-b fell-back updated-a; do
	"$mkdisk" --layout compact --state "$s" -q "$tmp/$s.img"
	cut_ends "$tmp/$s.img" 262144 "$here/$s.bin"
done

corpus=$src/tests/fuzz/corpus/gpt
mkdir -p "$corpus"
usr=5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6
truncate -s 64K "$tmp/small.img"
sgdisk --clear -a 1 -n 1:34:49 -t 1:$usr -c 1:USR-A -A 1:=:0101000000000000 \
	-n 2:50:65 -t 2:$usr -c 2:USR-B -A 2:=:0012000000000000 \
	-n 3:66:94 -t 3:3884DD41-8582-4404-B9A8-E9B84F2DF50E -c 3:ROOT \
	-u 1:7130C94A-213A-4E5A-8E26-6CCE9662F132 -u 2:E03DD35C-7C2D-4A47-B3FE-27F15780A57C \
	-u 3:1D7E3C56-0009-4C0B-9F00-000000000009 -U 00000000-0000-0000-0000-000000000001 \
	"$tmp/small.img" >/dev/null
cut_ends "$tmp/small.img" 128 "$corpus/usr-ab.bin"
cp "$tmp/small.img" "$tmp/bad.img"
printf 'X' | dd of="$tmp/bad.img" bs=1 seek=532 conv=notrunc status=none
cut_ends "$tmp/bad.img" 128 "$corpus/primary-crc.bin"
head -c 34304 /dev/zero >"$corpus/zeros.bin"
