/* SPDX-License-Identifier: MIT */
/* include/ignition/ignition.h - the Ignition config model: parse, translate, validate, render
 * (docs/provision.md §2-4). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "util/cleanup.h"

struct problem_list;

/* Spec versions as major * 10 + minor: 20..24, 30..36. */
#define IGN_V2_FIRST 20
#define IGN_V2_LAST 24
#define IGN_V3_FIRST 30
#define IGN_V3_LAST 36
#define IGN_ACCEPTED_TEXT "2.0.0-2.4.0 and 3.0.0-3.6.0"

/* Limits of docs/provision.md §3. */
#define IGN_MAX_CONFIG_SIZE (16u << 20)
#define IGN_MAX_DEPTH 10
#define IGN_MAX_CONFIGS 64

/* A parsed config. doc is the newest 3.x structure with keys spelled exactly and nulls and
 * unknown keys left out; for 2.x input it is the translation (NULL if that failed). raw is the
 * document as written. */
struct ign_config {
	json_t *doc;
	json_t *raw;
	int version;         /* the version the document declares (0 if unknown) */
	int translated_from; /* 0, or the 2.x version doc was translated from */
};

struct ign_config *ign_config_free(struct ign_config *c);
DEFINE_CLEANUP(struct ign_config, ign_config_free)

/* "3.4.0" for 34; buf of at least 8 bytes. */
const char *ign_version_to_string(int v, char *buf, size_t size);

/* Parse, translate (2.x) and validate buf. Every problem goes to reterr with its JSON pointer
 * (as written: 2.x paths for 2.x input), none with a position yet (ign_problems_locate).
 * *ret is set whenever buf was a JSON object, even when invalid. Returns 0 (valid; warnings
 * possible), -EINVAL (invalid config), -EBADMSG (not JSON), -ENODATA (empty input),
 * -EMEDIUMTYPE (a cloud-config, script or MIME multipart, not an Ignition config), -ENOMEM. */
int ign_config_parse(const char *buf, size_t len, struct ign_config **ret,
		     struct problem_list *reterr);

/* Validate a 3.x document in the newest structure (doc of ign_config) with the rules of spec
 * version `version` (30..36). Returns 0 or -EINVAL. */
int ign_config_validate(json_t *doc, int version, struct problem_list *reterr);

/* Fill line/column of every problem that has none from the source text it refers to. */
int ign_problems_locate(const char *buf, size_t len, struct problem_list *l);

/* --- resources (lib/ignition/fetch.c) --- */

/* Decode an RFC 2397 data: URL (base64 or percent-encoded). *ret is NUL-terminated. Returns 0,
 * -EINVAL (not a valid data URL) or -ENOMEM. */
int ign_data_url_decode(const char *url, char **ret, size_t *ret_size);
/* gunzip at most max bytes of output; -EFBIG beyond, -EBADMSG for a bad stream. */
int ign_gunzip(const void *in, size_t n, size_t max, char **ret, size_t *ret_size);
/* Check "sha512-<hex>" / "sha256-<hex>" over data. 0 match, -EBADMSG mismatch (with the actual
 * digest in got, "sha512-..."; got of at least 136 bytes), -EINVAL bad specifier. */
int ign_hash_check(const char *spec, const void *data, size_t n, char *got, size_t gotsize);

/* "sha256-<hex>" (fn "sha256" or "sha512") of data into out (at least 136 bytes). */
int ign_digest(const char *fn, const void *data, size_t n, char *out, size_t size);

struct ign_fetcher {
	int root_fd;         /* for file:// and --config FILE: paths are taken inside it (or -1) */
	bool offline;        /* only data: (validate) */
	size_t max_size;     /* per resource after decompression; 0 = IGN_MAX_CONFIG_SIZE */
	json_t *ignition;    /* the "ignition" section in force (timeouts, CAs, proxy) or NULL */
	uint64_t timeout_usec; /* total per fetch, 0 = none */
	unsigned retries;    /* retries of a failed HTTP fetch (backoff 200 ms doubling to 5 s) */
	json_t *resource;    /* set internally: the resource being fetched */
};

/* Fetch a resource object ({"source", "compression", "verification", "httpHeaders"}): download
 * or decode, gunzip, size-limit, verify. Problems are reported at `where` (a JSON pointer).
 * Returns 0, -EAGAIN (temporarily unreachable), -EOPNOTSUPP (scheme not supported by this
 * build), -EBADMSG (hash mismatch, bad data), -EFBIG, -ENOENT, or another -errno. */
int ign_resource_fetch(const struct ign_fetcher *f, json_t *resource, const char *where,
		       char **ret, size_t *ret_size, struct problem_list *reterr);
/* Fetch a URL with no resource around it (--config URL, platform user data). */
int ign_url_fetch(const struct ign_fetcher *f, const char *url, char **ret, size_t *ret_size,
		  struct problem_list *reterr);

/* --- merging and rendering (lib/ignition/merge.c, render.c) --- */

/* Merge child over parent with Ignition's rules (both in the newest 3.x structure); returns a
 * new document in *ret. */
int ign_config_merge(json_t *parent, json_t *child, json_t **ret);

/* Resolve ignition.config.replace / merge recursively (depth first, depth and count limits) and
 * return the rendered document. Problems name the referencing entry. */
int ign_config_render(const struct ign_fetcher *f, json_t *doc, json_t **ret,
		      struct problem_list *reterr);

/* --- where configs come from (lib/ignition/platform.c, providers.c, drive.c) --- */

/* The providers flatctl implements (docs/provision-platforms.md lists what each one asks and
 * what counts as "no user data" there). */
enum ign_platform {
	IGN_PLATFORM_FILE,
	IGN_PLATFORM_METAL,
	IGN_PLATFORM_QEMU,
	IGN_PLATFORM_AWS,
	IGN_PLATFORM_AZURE,
	IGN_PLATFORM_DIGITALOCEAN,
	IGN_PLATFORM_EQUINIXMETAL,
	IGN_PLATFORM_GCP,
	IGN_PLATFORM_HETZNER,
	IGN_PLATFORM_OPENSTACK,
	_IGN_PLATFORM_MAX,
	_IGN_PLATFORM_INVALID = -EINVAL,
};
/* flatctl's name ("equinixmetal"); from_string also takes Flatcar's OEM ids and Ignition's
 * names (ec2, gce, pxe, packet, brightbox). */
const char *ign_platform_to_string(enum ign_platform p);
enum ign_platform ign_platform_from_string(const char *s);
/* The name Ignition and Flatcar use for it (base.platform.d/<name>, --platform of the
 * initramfs units): "packet" for equinixmetal, else the same as ign_platform_to_string(). */
const char *ign_platform_ignition_name(enum ign_platform p);
/* Every name from_string accepts, comma separated, for usage messages. */
#define IGN_PLATFORM_NAMES                                                                     \
	"file, metal, qemu, aws, azure, digitalocean, equinixmetal, gcp, hetzner, openstack"
/* Does the provider need the network (the fetch-offline stage stops and asks for it)? */
bool ign_platform_needs_network(enum ign_platform p);

/* The platform Flatcar's initramfs would pick: flatcar.oem.id / coreos.oem.id on the command
 * line inside the root, else qemu when fw_cfg exists, else metal. */
enum ign_platform ign_platform_detect(int root_fd);

/* How long a provider keeps asking when no --fetch-timeout is given (Ignition's default). */
#define IGN_PLATFORM_FETCH_TIMEOUT_USEC (120ull * 1000000ull)

/* Test switch: the base URL of every metadata service (scheme://host[:port], no path), taken
 * only from this environment variable and only when it names a loopback address
 * (127.0.0.0/8 or [::1]); anything else is refused. Production runs leave it unset and reach
 * the providers' real endpoints. */
#define IGN_PLATFORM_TEST_URL_ENV "FLATCTL_TEST_PLATFORM_URL"

/* Check a test base URL: 0 when it is http(s)://<loopback IP literal>[:port] with nothing
 * after, else -EPERM. */
int ign_platform_test_url_check(const char *url);

struct ign_source_opts {
	int root_fd;                 /* the root: proc/cmdline, sys/firmware, config dirs, drives */
	enum ign_platform platform;  /* or _IGN_PLATFORM_INVALID: derive from the command line */
	const char *config;          /* --config: FILE, URL or "-", or NULL */
	const char *aws_base_url;    /* old name of platform_url, same rules */
	const char *platform_url;    /* test base URL (see IGN_PLATFORM_TEST_URL_ENV), or NULL */
	const char *file_path;       /* IGNITION_CONFIG_FILE, default config.ign */
};

/* Ask one network or drive provider (aws, azure, digitalocean, equinixmetal, gcp, hetzner,
 * openstack) for its user data, retrying until the fetch deadline (f->timeout_usec, 0: the
 * default above). base_url NULL: the provider's real endpoint. Returns 0 with the raw user
 * data in *ret and a description in *ret_origin; -ENOENT when the provider answered that
 * there is no user data (an empty config, as Ignition does); -EAGAIN when the deadline ran
 * out on network errors or server errors (problems name the URL); -ENETDOWN when f->offline
 * and the provider needs the network; another -errno on a final failure. */
int ign_provider_user_data(const struct ign_fetcher *f, enum ign_platform p, const char *base_url,
			   int root_fd, char **ret, size_t *ret_size, char **ret_origin,
			   struct problem_list *reterr);

/* AWS IMDSv2 (IMDSv1 when the token endpoint answers 404): ign_provider_user_data() for aws. */
int ign_aws_user_data(const struct ign_fetcher *f, const char *base_url, char **ret,
		      size_t *ret_size, char **ret_origin, struct problem_list *reterr);

/* Decode a base64 body as Go's base64.StdEncoding does (padding required, CR and LF
 * skipped). Returns 0, -EBADMSG (not base64) or -ENOMEM. *ret is NUL-terminated. */
int ign_base64_decode(const char *in, size_t n, char **ret, size_t *ret_size);

/* --- config drives (lib/ignition/drive.c) --- */

/* Read PATH (relative, no "..") from the filesystem on a config drive and return it in *ret.
 * The drive is found as docs/provision-platforms.md describes: on the host root by label
 * through libblkid, mounted read-only, detached and unmounted again; under another --root,
 * dev/disk/by-label/LABEL inside the root, a directory standing in for the mounted drive.
 * Returns 0, -ENOENT (the drive is there, the file is not), -ENODEV (no such drive yet), or
 * another -errno (problems name the device). */
int ign_drive_read_by_label(int root_fd, const char *label, const char *const *fstypes,
			    const char *path, char **ret, size_t *ret_size, char **ret_device,
			    struct problem_list *reterr);
/* Azure's OVF provisioning medium: the first UDF CD-ROM with a disc holding ovf-env.xml (under
 * another --root: a directory dev/srN inside the root holding ovf-env.xml). Reads its
 * CustomData.bin. Returns 0, -ENOENT (the medium has no CustomData.bin: no user data),
 * -ENODEV (no medium yet) or another -errno. */
int ign_drive_read_azure_ovf(int root_fd, char **ret, size_t *ret_size, char **ret_device,
			     struct problem_list *reterr);
/* The same for a block device path (mounted read-only with the first of fstypes that
 * works); for tests and for providers that find devices by type. */
int ign_drive_read_device(const char *device, const char *const *fstypes, const char *path,
			  char **ret, size_t *ret_size, struct problem_list *reterr);

/* Find and fetch the user config as docs/provision.md §3 orders the sources. *ret is the
 * text (possibly empty: no config), *ret_origin a description ("file config.ign", URL redacted).
 * Returns 0, -ENOENT (nothing found), or the fetch error. */
int ign_user_config_fetch(const struct ign_source_opts *o, const struct ign_fetcher *f,
			  char **ret, size_t *ret_size, char **ret_origin,
			  struct problem_list *reterr);

/* Base configs: every *.ign in base.d/ then base.platform.d/<platform>/ of the config dirs
 * (/run/ignition, /etc/ignition, /usr/lib/ignition; a name in a higher dir hides the same
 * name in a lower one), in name order. Returns a JSON array of {"path", "text"} in *ret. */
int ign_base_configs_list(int root_fd, const char *platform, json_t **ret);
