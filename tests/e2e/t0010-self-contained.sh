#!/bin/bash
# t0010-self-contained: the repository stands on its own (issue 10). No tracked file (outside a
# git checkout: no file under the source directory) names the helper directory that sits beside
# the checkout on the build machines, its spec pages, tools or fixtures, or an absolute path of a
# build machine: its work tree, a home directory, root's home, or a hard-coded path under the
# temporary directory used as data. Every hit is printed as FILE:LINE: [rule] text.
#
# Not hits: mktemp templates (a path with XXXXXX), `${TMPDIR:-...}` defaults, paths after a
# variable or a relative component (`$T/root/proc`, `./x`), /etc, /usr, /var, /run, /proc and
# /dev (the product's own paths), /home/core (Flatcar's default user), a home of one level
# (`/home/alice`, as passwd lines and docs name it: a build machine path goes deeper), the 2.x Ignition mount
# points under the root that Flatcar's translation names `<name>-ign<N>`, and examples of /tmp
# in documentation (*.md, man pages).
#
# The last check finds citations of the old spec pages (`spe` + `c/PAGE.md`) and of the style
# guide outside the tree (`STY` + `LE.md`): the repository cites docs/PAGE.md and
# docs/coding-style.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gaps.sh"

# The files to look at, NUL-separated, relative to the source directory.
if git -C "$FLATCTL_SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$FLATCTL_SRC" ls-files -z >"$T/files"
else
	(cd "$FLATCTL_SRC" && find . \( -name .git -o -path ./build -o -path './build/*' \) -prune \
		-o -type f -printf '%P\0') >"$T/files"
fi

# scan paths|spec LIST [DIR]: print FILE:LINE: [rule] text for every hit of that rule set in the
# files named in LIST (NUL-separated, relative to DIR, default the source directory).
scan() {
	python3 - "${3:-$FLATCTL_SRC}" "$1" "$2" <<'PY'
import os, re, sys

src, which, listing = sys.argv[1], sys.argv[2], sys.argv[3]
# An absolute path starts here: not after a word character, a dot, a variable or another path.
B = r"(?<![\w.$}/~])"
TMP_TOKEN = re.compile(r"/tm[p]/[^\s\"'`)\]]*")

def tmp_is_data(line, m):
    token = TMP_TOKEN.match(line, m.start()).group(0)
    if "XXX" in token:                       # mktemp / mkdtemp template
        return False
    if re.search(r"-ign(\d|%)", token):      # Ignition 2.x mount point inside the root
        return False
    return True

RULES = {
    "paths": [
        ("helper directory beside the checkout", re.compile(r"\.\./share[d](?![\w-])"), None),
        ("outside spec, tools or fixtures", re.compile(r"share[d]/(?:spec|tools|fixtures)(?![\w-])"), None),
        ("build machine work tree", re.compile(B + r"/wor[k](?![\w.-])"), None),
        ("home directory", re.compile(B + r"/(?:hom[e]|User[s])/(?!core(?![\w.-]))[A-Za-z_][\w.-]*/[\w.-]"), None),
        ("root's home", re.compile(B + r"/roo[t]/"), None),
        ("hard-coded temporary path", re.compile(B + r"/tm[p]/[\w.-]"), tmp_is_data),
    ],
    "spec": [
        ("old spec page", re.compile(r"(?<![\w.-])spe[c]/[a-z][a-z-]*\.md"), None),
        ("outside style guide", re.compile(r"(?<![\w./-])STYL[E]\.md"), None),
    ],
}[which]

names = [n for n in open(listing, "rb").read().decode("utf-8", "replace").split("\0") if n]
for name in sorted(names):
    path = os.path.join(src, name)
    try:
        data = open(path, "rb").read()
    except OSError:
        continue                             # tracked but deleted in the work tree
    if b"\0" in data[:8192]:
        continue                             # binary (disk images, ...)
    is_doc = name.endswith((".md", ".scd"))
    for no, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        hit = None
        for rule, rx, keep in RULES:
            if rule == "hard-coded temporary path" and is_doc:
                continue
            if any(keep is None or keep(line, m) for m in rx.finditer(line)):
                hit = rule
                break
        if hit:
            print("%s:%d: [%s] %s" % (name, no, hit, line.strip()[:200]))
PY
}

test_expect 'files to check: tracked files (or the source tree) found' '
	test -s "$T/files" &&
	tr "\0" "\n" <"$T/files" | grep -qx "tests/e2e/lib.sh"
'

test_expect 'no file names a path outside the repository or of a build machine' '
	scan paths "$T/files" >"$T/hits" &&
	if test -s "$T/hits"; then
		echo "$(wc -l <"$T/hits") lines name something outside the repository:" &&
		cat "$T/hits" &&
		false
	fi
'

test_expect 'the rules find what they should and nothing else' '
	mkdir -p "$T/probe" &&
	printf "%s\n" \
		"x=\${SRC:-../shar""ed/tools/mkdisk}" "cat /wor""k/shared/f" \
		"cd /ho""me/alice/src" "ls /ro""ot/flatctl" "cp a /tm""p/disk.img" \
		"see spe""c/update.md 4.4" "(STY""LE.md 3)" >"$T/probe/bad.sh" &&
	printf "%s\n" \
		"T=\$(mktemp -d \"\${TMPDIR:-/tmp}/x.XXXXXX\")" "char t[] = \"/tm""p/t-XXXXXX\";" \
		"mkdir -p \"\$T/ro""ot/proc\"" "mp = \"/tm""p/%s-ign%zu\"" "/ho""me/core/.ssh" \
		"/etc/flatcar/update.conf /usr/share/flatcar /var/lib/flatctl /run/reboot-required" \
		"alice:x:1001:1001::/ho""me/alice:/bin/bash root:x:0:0::/ro""ot:/bin/sh" \
		"docs/update.md §4.4, network, /working, /homework, docs/coding-style.md §3" \
		>"$T/probe/good.sh" &&
	printf "flatctl --root /tm""p/root status\n" >"$T/probe/example.md" &&
	printf "bad.sh\0good.sh\0example.md\0" >"$T/probe.list" &&
	scan paths "$T/probe.list" "$T/probe" >"$T/probe.hits" &&
	scan spec "$T/probe.list" "$T/probe" >>"$T/probe.hits" &&
	cat "$T/probe.hits" &&
	test "$(grep -c "^bad.sh:" "$T/probe.hits")" = 7 &&
	test "$(wc -l <"$T/probe.hits")" = 7 &&
	grep -q "^bad.sh:1: \[helper directory beside the checkout\]" "$T/probe.hits" &&
	grep -q "^bad.sh:2: \[build machine work tree\]" "$T/probe.hits" &&
	grep -q "^bad.sh:5: \[hard-coded temporary path\]" "$T/probe.hits" &&
	grep -q "^bad.sh:6: \[old spec page\]" "$T/probe.hits" &&
	grep -q "^bad.sh:7: \[outside style guide\]" "$T/probe.hits"
'

test_expect 'no file cites the old spec pages or the outside style guide' '
	scan spec "$T/files" >"$T/spec-hits" &&
	if test -s "$T/spec-hits"; then
		echo "$(wc -l <"$T/spec-hits") lines cite the old spec pages; cite docs/PAGE.md §N:" &&
		cat "$T/spec-hits" &&
		false
	fi
'
test_done
