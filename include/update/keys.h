/* SPDX-License-Identifier: MIT */
/* include/update/keys.h - the trusted payload keys of docs/update.md 3.3. */
#pragma once

#include <stddef.h>

struct crypto_key;
struct problem_list;

#define UPDATE_KEY_FILE "/usr/share/update_engine/update-payload-key.pub.pem"
#define UPDATE_KEY_DIR "/etc/flatctl/update-keys.d"
#define UPDATE_KEYS_MAX 64u

struct update_keys {
	struct crypto_key *k[UPDATE_KEYS_MAX];
	size_t n;
};
void update_keys_release(struct update_keys *keys);

/* cli_paths (n_cli > 0: --key files, ordinary paths outside the root) replace the trusted keys;
 * otherwise UPDATE_KEY_FILE and every *.pem in UPDATE_KEY_DIR (sorted), inside the root. An
 * unreadable or unusable key file is an error naming it (problem `where` = the file); no key at
 * all is -ENOKEY. */
int update_keys_load(int root_fd, const char *const *cli_paths, size_t n_cli,
		     struct update_keys *ret, struct problem_list *reterr);
