/* SPDX-License-Identifier: MIT */
/* include/update/serve.h - `update serve DIR`: a small Omaha server for a fleet without Nebraska
 * (docs/update.md "update serve"). Payloads made by `update pack`, groups (matched against the
 * request's track) from a JSON configuration, answers in Nebraska's shape, payloads with Range
 * support, every request appended to a JSON-lines log. The HTTP side is lib/http/server.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server.h"
#include "util/cleanup.h"

struct problem_list;
struct update_serve;

#define UPDATE_SERVE_CONFIG "serve.json"
#define UPDATE_SERVE_CONFIG_MAX (1u << 20)
#define UPDATE_SERVE_OMAHA_PATH "/v1/update/"
#define UPDATE_SERVE_PAYLOAD_PATH "/payloads/"

struct update_serve_opts {
	const char *dir;       /* the payload directory; file names in the config are inside it */
	const char *config;    /* NULL: DIR/serve.json */
	const char *url_base;  /* NULL: the config's url_base, else http://<Host header>/ */
	const char *listen;    /* the bound address, when a request has no usable Host */
	int log_fd;            /* JSON lines are appended here (not owned); -1: not yet, see
				* update_serve_set_log() */
};

/* Reads the configuration, opens and hashes every payload it names (the answers are computed
 * from these open files, so replacing a file needs a restart). Problems name the JSON pointer
 * (or the file) in `where`. -EINVAL/-EBADMSG for a bad configuration, -errno for files. */
int update_serve_new(const struct update_serve_opts *o, struct update_serve **ret,
		     struct problem_list *reterr);
struct update_serve *update_serve_free(struct update_serve *s);
/* Where the log goes from now on (not owned); before serving only. */
void update_serve_set_log(struct update_serve *s, int log_fd);
DEFINE_CLEANUP(struct update_serve, update_serve_free)

/* The http_server_opts handler and reject callbacks; userdata is the struct update_serve. */
void update_serve_handle(struct http_exchange *x, const struct http_server_request *req,
			 void *userdata);
void update_serve_reject(const char *peer, int status, const char *reason, void *userdata);

/* The configured groups, for printing at start: 0 and the fields for i < count, -ENOENT after.
 * version/payload are NULL for a paused group; strings are owned by s. */
struct update_serve_group_info {
	const char *name, *version, *payload;
	uint64_t size;
	size_t n_extensions;
	bool paused;
};
int update_serve_group(const struct update_serve *s, size_t i, struct update_serve_group_info *ret);

/* -1, 0, 1 as Flatcar versions compare ("4081.2.0" > "3975.2.1"); numbers compare as numbers. */
int update_serve_version_compare(const char *a, const char *b);
