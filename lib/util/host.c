/* SPDX-License-Identifier: MIT */
/* lib/util/host.c - keeping the host's files out of a run under --root (docs/security.md §4). */
#include <nss.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/host.h"

static bool isolated, tz_was_set, nss_done;

void host_isolate(void)
{
	if (isolated)
		return;
	isolated = true;
	tz_was_set = getenv("TZ") != NULL;
	/* glibc: ":" leaves an empty zone file name, which means UTC without opening anything;
	 * "UTC" or "" would open /usr/share/zoneinfo/UTC or Universal of the host */
	if (!tz_was_set)
		(void)setenv("TZ", ":", 1);
	tzset();
	/* the first initialisation decides: a later OPENSSL_INIT_LOAD_CONFIG (libcurl's) is then
	 * a no-op */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}

bool host_tz_was_set(void)
{
	return isolated ? tz_was_set : getenv("TZ") != NULL;
}

void host_nss_setup(void)
{
	if (nss_done)
		return;
	nss_done = true;
	(void)__nss_configure_lookup("passwd", "files");
	(void)__nss_configure_lookup("group", "files");
	(void)__nss_configure_lookup("shadow", "files");
	(void)__nss_configure_lookup("hosts", "files dns");
}

bool host_argv_has_root(int argc, char *const *argv)
{
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-')
			continue;
		a += a[1] == '-' ? 2 : 1;
		if (strcmp(a, "root") == 0 || strncmp(a, "root=", 5) == 0)
			return true;
	}
	return false;
}
