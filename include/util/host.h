/* SPDX-License-Identifier: MIT */
/* include/util/host.h - keeping the host's files out of a run under --root (docs/security.md §4):
 * its time zone, OpenSSL configuration and NSS configuration are read only when the run needs
 * them, and under --root it needs none of them unless a URL names a host to resolve. */
#pragma once

#include <stdbool.h>

/* Once, as soon as --root is known and before any time or TLS function runs: TZ=":" (UTC; glibc
 * reads no zone file for it) unless TZ was set, and OpenSSL initialised without its
 * configuration file (openssl.cnf could also name providers to load). */
void host_isolate(void);
/* TZ was set in the environment before host_isolate() set its own. */
bool host_tz_was_set(void);

/* Once: NSS looks passwd, group and shadow up in files and hosts in files and dns, so no lookup
 * ever loads an NSS module (docs/build.md). It reads the host's /etc/nsswitch.conf. */
void host_nss_setup(void);

/* argv holds a --root (or, under a classic link name, -root) option before any "--". */
bool host_argv_has_root(int argc, char *const *argv);
