# mk/diag.mk - `flatctl status` and `flatctl diag` (lib/diag, cmd/status.c, cmd/diag.c;
# docs/diag.md). The support bundle is written through libarchive (tar + gzip only).
# Dev build: Debian's libarchive (pkg-config). Static build: libarchive rebuilt from Debian's
# source by mk/third-party/libarchive.sh (zlib only, no iconv): Debian's libarchive.a links
# statically as well (-lz only, 86 KiB), but its pax writer calls iconv_open() (glibc's gconv).
# Tests build fixture journals with systemd-journal-remote and read bundles with tar and python3.
DEPS_APT += libarchive-dev systemd-journal-remote python3 jq util-linux tar gzip
PKGS += libarchive
TP_NAMES_EXTRA += libarchive
STATIC_LIBS_EXTRA += $(STATIC_TP)/libarchive/lib/libarchive.a
STATIC_CFLAGS_EXTRA += -I$(STATIC_TP)/libarchive/include
