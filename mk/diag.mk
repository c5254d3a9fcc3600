# mk/diag.mk - `flatctl status` and `flatctl diag` (lib/diag, cmd/status.c, cmd/diag.c;
# docs/diag.md). The support bundle is written through libarchive (tar + gzip only). Debian's
# libarchive.a links statically on its own: the writer objects we call (pax, gzip filter) need
# only zlib, and --gc-sections drops the readers that would pull acl, nettle, xml2, lzo2 or zstd.
# Tests build fixture journals with systemd-journal-remote and read bundles with tar and python3.
DEPS_APT += libarchive-dev systemd-journal-remote python3 jq util-linux tar gzip
PKGS += libarchive
STATIC_LIBS_EXTRA += -larchive
