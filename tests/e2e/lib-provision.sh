# shellcheck shell=bash
# tests/e2e/lib-provision.sh - helpers of the provisioning tests (sourced after lib.sh), in the
# spirit of Ignition's blackbox tests: a config, a starting tree, the tree expected after.
#   cfg NAME JSON         write $T/NAME.ign
#   tree DIR              the tree as lines (type, mode, owner, links, size, hash, target, xattrs)
#   snap DIR NAME         save tree DIR to $T/NAME.tree
#   same DIR NAME         DIR is exactly as saved under NAME (diff shown otherwise)
#   prov ROOT ARGS...     flatctl --root ROOT provision ARGS...
#   mkroot DIR            an empty root with etc/ (and proc/cmdline, so nothing of the host is read)
TREEDUMP=$FLATCTL_SRC/tests/e2e/treedump.py
cfg() { printf '%s\n' "$2" >"$T/$1.ign"; }
tree() { python3 "$TREEDUMP" "$@"; }
snap() { tree "$1" >"$T/$2.tree"; }
same() { tree "$1" >"$T/$2.now" && test_cmp "$T/$2.tree" "$T/$2.now"; }
prov() { local r=$1 && shift && flatctl --root "$r" provision "$@"; }
mkroot() { mkdir -p "$1/etc" "$1/proc" && : >"$1/proc/cmdline"; }
# data:,TEXT with TEXT percent-encoded
dataurl() { printf 'data:;base64,%s' "$(printf '%s' "$1" | base64 -w0)"; }
