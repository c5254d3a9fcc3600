#!/usr/bin/env python3
# tests/e2e/treedump.py - a tree as lines that change when anything a provisioning run may touch
# changes: type, mode (with setuid/setgid/sticky), owner, link count, size, content hash,
# symlink target and every extended attribute, per path, sorted. Times are left out.
# Usage: treedump.py DIR [--exclude NAME]...
import hashlib, os, stat, sys

def dump(top, exclude):
    out = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in exclude)
        for name in sorted(dirnames + filenames) + ([""] if dirpath == top else []):
            if name in exclude:
                continue
            p = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(p)
            rel = "/" + os.path.relpath(p, top) if p != top else "/"
            kind = stat.S_IFMT(st.st_mode)
            extra = ""
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    extra = "%d %s" % (st.st_size, hashlib.sha256(f.read()).hexdigest()[:16])
            elif stat.S_ISLNK(st.st_mode):
                extra = "-> " + os.readlink(p)
            xa = []
            try:
                for k in sorted(os.listxattr(p, follow_symlinks=False)):
                    xa.append("%s=%s" % (k, os.getxattr(p, k, follow_symlinks=False).hex()))
            except OSError:
                pass
            if stat.S_ISDIR(st.st_mode) and p != top:
                if name in dirnames:
                    pass
            out.append("%s %o %04o %d:%d n%d %s %s" % (
                rel, kind >> 12, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                st.st_nlink if not stat.S_ISDIR(st.st_mode) else 0, extra, " ".join(xa)))
    return sorted(set(out))

args = sys.argv[1:]
exclude = set()
while "--exclude" in args:
    i = args.index("--exclude")
    exclude.add(args[i + 1])
    del args[i:i + 2]
for line in dump(args[0], exclude):
    print(line.rstrip())
