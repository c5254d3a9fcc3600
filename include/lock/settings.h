/* SPDX-License-Identifier: MIT */
/* include/lock/settings.h - from resolved options to an open lock backend (docs/reboot-lock.md 2,
 * 3.2 TLS and auth), shared by `lock`, `locksmithctl`, `reboot-manager` and `locksmithd`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/problem.h"

struct lock_backend;
struct etcd_client;

struct lock_settings {
	const char *backend;      /* "etcd", "file", or NULL: choose by section 2 */
	char **endpoints;         /* owned by the caller */
	size_t n_endpoints;
	const char *api;          /* "v3" (default) or "v2" */
	const char *cafile, *certfile, *keyfile;
	const char *username, *password, *password_file;
	const char *group;
	uint64_t request_timeout_usec;
	bool locksmith_defaults;  /* classic names: etcd on 127.0.0.1:2379,4001 when nothing is set */
	bool prefer_etcd;         /* strategy etcd-lock */
};

struct lock_handle {
	struct etcd_client *etcd;
	struct lock_backend *b;
};

/* Append the comma-separated URLs of list to *v (empty items skipped). */
int lock_endpoints_add(char ***v, size_t *n, const char *list);
void lock_endpoints_free(char **v, size_t n);

/* Open the backend. -EINVAL for bad combinations (certificate without key, unknown backend or
 * api), -errno naming the file for unreadable TLS or password files; reasons in reterr. */
int lock_settings_open(const struct lock_settings *s, int root_fd, struct lock_handle *ret,
		       struct problem_list *reterr);
void lock_handle_release(struct lock_handle *h);

/* /etc/machine-id under the root, whitespace trimmed. -ENOENT/-ENODATA when missing or empty. */
int lock_read_machine_id(int root_fd, char **ret);
