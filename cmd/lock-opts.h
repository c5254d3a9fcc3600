/* SPDX-License-Identifier: MIT */
/* cmd/lock-opts.h - the backend and etcd options that `lock` and `reboot-manager` share
 * (docs/reboot-lock.md 6.1, 7.2): one enum run and one run of option-table rows, so that both
 * applets accept and document them alike. Use LOCK_BACKEND_OPT_IDS inside the applet's enum and
 * LOCK_BACKEND_OPT_ROWS at the same position of its option table (tables are indexed by id). */
#pragma once

#define LOCK_BACKEND_OPT_IDS                                                                      \
	OPT_BACKEND, OPT_ENDPOINTS, OPT_ENDPOINT, OPT_API, OPT_CAFILE, OPT_CERTFILE, OPT_KEYFILE, \
		OPT_USERNAME, OPT_PASSWORD_FILE, OPT_PASSWORD, OPT_GROUP

#define LOCK_BACKEND_OPT_ROWS \
	{ "backend", OPT_BACKEND, ARG_REQ, "etcd|file", "where the semaphore lives" }, \
	{ "endpoints", OPT_ENDPOINTS, ARG_REQ, "URL[,URL...]", "etcd client URLs (repeats add)" }, \
	{ "endpoint", OPT_ENDPOINT, ARG_REQ, "URL[,URL...]", "same as --endpoints" }, \
	{ "etcd-api", OPT_API, ARG_REQ, "v3|v2", "etcd API; v2 to share a cluster with locksmith" }, \
	{ "etcd-cafile", OPT_CAFILE, ARG_REQ, "FILE", "CA bundle for https:// endpoints" }, \
	{ "etcd-certfile", OPT_CERTFILE, ARG_REQ, "FILE", "TLS client certificate" }, \
	{ "etcd-keyfile", OPT_KEYFILE, ARG_REQ, "FILE", "TLS client key" }, \
	{ "etcd-username", OPT_USERNAME, ARG_REQ, "USER", "etcd user" }, \
	{ "etcd-password-file", OPT_PASSWORD_FILE, ARG_REQ, "FILE", "file holding the etcd password" }, \
	{ "etcd-password", OPT_PASSWORD, ARG_REQ, "PASS", "etcd password (visible in ps; prefer the file)" }, \
	{ "group", OPT_GROUP, ARG_REQ, "GROUP", "lock group (default: none)" }
