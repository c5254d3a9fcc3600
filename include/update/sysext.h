/* SPDX-License-Identifier: MIT */
/* include/update/sysext.h - extension payloads (docs/update.md 6.7): which `oem-<ID>.gz` and
 * `flatcar-<NAME>.gz` packages this machine wants, checking one (a CrAU payload whose image is a
 * sysext) with the trusted keys, staging its image next to its final place, and placing all of
 * them (old versions removed, OEM markers) before the GPT flip. All paths are inside the root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct crypto_key;
struct problem_list;

#define UPDATE_FLATCAR_SYSEXT_DIR "/etc/flatcar/sysext"
#define UPDATE_OEM_SYSEXT_FALLBACK_DIR "/etc/flatcar/oem-sysext"
#define UPDATE_ENABLED_SYSEXT_ETC "/etc/flatcar/enabled-sysext.conf"
#define UPDATE_ENABLED_SYSEXT_USR "/usr/share/flatcar/enabled-sysext.conf"
/* the prefix Flatcar's test builds put before extension payload names */
#define UPDATE_EXT_TEST_PREFIX "flatcar_test_update-"

struct update_ext {
	bool oem;
	char *name;    /* the OEM id or the Flatcar extension's name */
	char *package; /* "oem-<id>.gz" or "flatcar-<name>.gz" */
	/* staging (update_ext_stage) */
	int dir_fd;  /* the directory it is staged in, -1: not staged */
	char *dir;   /* that directory, inside the root */
	char *tmp;   /* the staged image's name there */
	char *final; /* its final name: "oem-<id>-<version>.raw", "flatcar-<name>-<version>.raw" */
	uint64_t image_size;
	bool placed;
};

struct update_ext_set {
	struct update_ext *item;
	size_t n;
	char *oem_id;	 /* ID= of the OEM's oem-release, NULL: none */
	char *oem_dir;	 /* "/oem" or "/usr/share/oem": where that oem-release lives */
	bool oem_listed; /* /usr/share/flatcar/oems/<id> exists (a Flatcar OEM with a sysext) */
	bool oem_wanted;
};
void update_ext_set_release(struct update_ext_set *s);

/* What this machine wants (docs/update.md 6.7): the OEM extension when use_oem, the OEM id is
 * known and either /usr/share/flatcar/oems/<id> or <oem>/sysext/active-oem-<id> exists; then one
 * per name enabled in enabled-sysext.conf (/etc and /usr/share, "#" comments, "-NAME" in /etc
 * disables). Unusable names are warnings in reterr. -ENOMEM or -EIO (unreadable file, problem). */
int update_ext_wanted(int root_fd, bool use_oem, struct update_ext_set *ret,
		      struct problem_list *reterr);

/* The text of one enabled-sysext.conf (size bytes, NUL not needed): each name (text before
 * "#", whitespace separated) into add, each "-NAME" into del when etc (only the /etc file
 * disables, as Flatcar's). A name outside [A-Za-z0-9._+-] is a warning "line N: ..." for where.
 * 0 or -ENOMEM. */
struct update_ext_names {
	char **name;
	size_t n;
};
void update_ext_names_release(struct update_ext_names *l);
int update_ext_parse_enabled(const char *text, size_t size, const char *where, bool etc,
			     struct update_ext_names *add, struct update_ext_names *del,
			     struct problem_list *reterr);

/* A package or file name (basename) names e's payload: equal to e->package, with or without the
 * "flatcar_test_update-" prefix. */
bool update_ext_matches(const struct update_ext *e, const char *name);
/* The base name of a path, without the test prefix. */
const char *update_ext_basename(const char *path);

/* Check the extension payload in fd (5.5: size when expect_size > 0, SHA-256 when expect_sha256,
 * then magic, manifest, signatures with keys, every blob; a payload with a kernel is refused) and
 * write its image to a temporary file next to its final place, fsynced and read back against
 * new_partition_info. The OEM image goes to <oem>/sysext/, or to
 * /etc/flatcar/oem-sysext/ when that fails for a reason other than the payload; a Flatcar
 * extension to /etc/flatcar/sysext/. *ret_code is the Omaha code (4.4) on failure. */
int update_ext_stage(int root_fd, const struct update_ext_set *set, struct update_ext *e,
		     const char *next_version, const struct crypto_key *const *keys, size_t n_keys,
		     int fd, uint64_t expect_size, const uint8_t *expect_sha256, int *ret_code,
		     struct problem_list *reterr);

/* Rename every staged image into place, fsync the directories, then remove the images of
 * versions other than current_version's (and the new ones) and set the OEM markers as Flatcar's
 * post-install step does. -errno with a problem when a rename fails (the images renamed before
 * stay: they belong to the new version); removal failures are warnings. */
int update_ext_place(int root_fd, struct update_ext_set *set, const char *current_version,
		     struct problem_list *reterr);

/* Remove the staged images that were not placed (a failed or dry run). */
void update_ext_unstage(struct update_ext_set *set);
