/* SPDX-License-Identifier: MIT */
/* lib/update/state.c - state.json: model, validation, atomic persistence (docs/update.md 7.2). */
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/fs.h"
#include "update/state.h"
#include "util/problem.h"

struct update_state {
	json_t *doc;
};

static const char *const status_names[_UPDATE_STATUS_MAX] = {
	[UPDATE_STATUS_IDLE] = "UPDATE_STATUS_IDLE",
	[UPDATE_STATUS_CHECKING_FOR_UPDATE] = "UPDATE_STATUS_CHECKING_FOR_UPDATE",
	[UPDATE_STATUS_UPDATE_AVAILABLE] = "UPDATE_STATUS_UPDATE_AVAILABLE",
	[UPDATE_STATUS_DOWNLOADING] = "UPDATE_STATUS_DOWNLOADING",
	[UPDATE_STATUS_VERIFYING] = "UPDATE_STATUS_VERIFYING",
	[UPDATE_STATUS_FINALIZING] = "UPDATE_STATUS_FINALIZING",
	[UPDATE_STATUS_UPDATED_NEED_REBOOT] = "UPDATE_STATUS_UPDATED_NEED_REBOOT",
	[UPDATE_STATUS_REPORTING_ERROR_EVENT] = "UPDATE_STATUS_REPORTING_ERROR_EVENT",
};

const char *update_status_to_string(enum update_status s)
{
	if (s < 0 || s >= _UPDATE_STATUS_MAX)
		return NULL;
	return status_names[s];
}

enum update_status update_status_from_string(const char *s)
{
	if (!s)
		return _UPDATE_STATUS_INVALID;
	for (int i = 0; i < _UPDATE_STATUS_MAX; i++)
		if (strcmp(status_names[i], s) == 0)
			return (enum update_status)i;
	return _UPDATE_STATUS_INVALID;
}

const char *update_status_short_name(enum update_status s)
{
	const char *n = update_status_to_string(s);
	return n ? n + strlen("UPDATE_STATUS_") : NULL;
}

const char *update_error_code_to_string(int code)
{
	switch (code) {
	case UPDATE_ERROR_GENERIC: return "Error";
	case UPDATE_ERROR_OMAHA_REQUEST: return "OmahaRequestError";
	case UPDATE_ERROR_POSTINSTALL_RUNNER: return "PostinstallRunnerError";
	case UPDATE_ERROR_INSTALL_DEVICE_OPEN: return "InstallDeviceOpenError";
	case UPDATE_ERROR_DOWNLOAD_TRANSFER: return "DownloadTransferError";
	case UPDATE_ERROR_PAYLOAD_HASH_MISMATCH: return "PayloadHashMismatchError";
	case UPDATE_ERROR_PAYLOAD_SIZE_MISMATCH: return "PayloadSizeMismatchError";
	case UPDATE_ERROR_DOWNLOAD_WRITE: return "DownloadWriteError";
	case UPDATE_ERROR_NEW_ROOTFS_VERIFICATION: return "NewRootfsVerificationError";
	case UPDATE_ERROR_NEW_KERNEL_VERIFICATION: return "NewKernelVerificationError";
	case UPDATE_ERROR_SIGNED_PAYLOAD_EXPECTED: return "SignedDeltaPayloadExpectedError";
	case UPDATE_ERROR_PUBKEY_VERIFICATION: return "DownloadPayloadPubKeyVerificationError";
	case UPDATE_ERROR_INVALID_METADATA_MAGIC: return "DownloadInvalidMetadataMagicString";
	case UPDATE_ERROR_MANIFEST_PARSE: return "DownloadManifestParseError";
	case UPDATE_ERROR_OPERATION_EXECUTION: return "DownloadOperationExecutionError";
	case UPDATE_ERROR_OPERATION_HASH_MISMATCH: return "DownloadOperationHashMismatch";
	case UPDATE_ERROR_OMAHA_XML_PARSE: return "OmahaRequestXMLParseError";
	case UPDATE_ERROR_OMAHA_RESPONSE_INVALID: return "OmahaResponseInvalid";
	case UPDATE_ERROR_OMAHA_HTTP_RESPONSE: return "OmahaErrorInHTTPResponse";
	case UPDATE_ERROR_DEFERRED_FOR_BACKOFF: return "OmahaUpdateDeferredForBackoff";
	case UPDATE_ERROR_ROLLBACK: return "RollbackError";
	default: return "Error";
	}
}

static json_t *backoff_new(void)
{
	return json_pack("{s:i,s:i,s:i,s:i}", "payload_attempts", 0, "until", 0, "url_index", 0,
			 "url_failures", 0);
}

static json_t *metrics_new(void)
{
	return json_pack("{s:i,s:i,s:i,s:{}}", "last_successful_check_time", 0,
			 "last_successful_update_time", 0, "downloaded_bytes", 0, "failures");
}

struct update_state *update_state_new(void)
{
	struct update_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->doc = json_pack("{s:i,s:s,s:i,s:n,s:f,s:n,s:n,s:n,s:n,s:o,s:[],s:o}", "schema", 1,
			   "status", status_names[UPDATE_STATUS_IDLE], "last_checked_time", 0,
			   "aleph_version", "progress", 0.0, "pending", "staged", "report",
			   "last_error", "backoff", backoff_new(), "bad_payloads", "metrics",
			   metrics_new());
	if (!s->doc) {
		free(s);
		return NULL;
	}
	return s;
}

struct update_state *update_state_free(struct update_state *s)
{
	if (s) {
		json_decref(s->doc);
		free(s);
	}
	return NULL;
}

/* ---- validation ---- */

enum ftype { F_STR, F_UINT, F_NUM, F_OBJ, F_ARR };

struct field {
	const char *name;
	enum ftype type;
	bool nullable;
};

static bool type_ok(const json_t *v, const struct field *f)
{
	if (json_is_null(v))
		return f->nullable;
	switch (f->type) {
	case F_STR: return json_is_string(v);
	case F_UINT: return json_is_integer(v) && json_integer_value(v) >= 0;
	case F_NUM: return json_is_number(v);
	case F_OBJ: return json_is_object(v);
	case F_ARR: return json_is_array(v);
	}
	return false;
}

static const char *type_name(enum ftype t)
{
	switch (t) {
	case F_STR: return "a string";
	case F_UINT: return "a non-negative integer";
	case F_NUM: return "a number";
	case F_OBJ: return "an object";
	case F_ARR: return "an array";
	}
	return "?";
}

/* Check the known fields of obj; unknown ones are fine. Returns the number of problems. */
static int check_fields(const json_t *obj, const char *where, const struct field *fields,
			struct problem_list *reterr)
{
	int bad = 0;
	char ptr[128];

	for (const struct field *f = fields; f->name; f++) {
		const json_t *v = json_object_get(obj, f->name);
		if (!v || type_ok(v, f))
			continue;
		snprintf(ptr, sizeof(ptr), "%s/%s", where, f->name);
		(void)problem_add(reterr, -EBADMSG, ptr, "must be %s%s", type_name(f->type),
				  f->nullable ? " or null" : "");
		bad++;
	}
	return bad;
}

static const struct field top_fields[] = {
	{ "schema", F_UINT, false },       { "status", F_STR, false },
	{ "last_checked_time", F_UINT, false }, { "aleph_version", F_STR, true },
	{ "progress", F_NUM, false },      { "pending", F_OBJ, true },
	{ "staged", F_OBJ, true },         { "report", F_OBJ, true },
	{ "last_error", F_OBJ, true },     { "backoff", F_OBJ, true },
	{ "bad_payloads", F_ARR, false },  { "bad_payload_info", F_OBJ, true },
	{ "metrics", F_OBJ, true },
	{},
};
static const struct field metrics_fields[] = {
	{ "last_successful_check_time", F_UINT, false },
	{ "last_successful_update_time", F_UINT, false },
	{ "downloaded_bytes", F_UINT, false },
	{ "failures", F_OBJ, false },
	{},
};
static const struct field staged_fields[] = {
	{ "version", F_STR, false },       { "previous_version", F_STR, true },
	{ "partition", F_STR, false },     { "partuuid", F_STR, true },
	{ "boot_id", F_STR, true },        { "size", F_UINT, false },
	{ "installed_time", F_UINT, false }, {},
};
static const struct field pending_fields[] = {
	{ "version", F_STR, true },        { "urls", F_ARR, false },
	{ "name", F_STR, true },           { "size", F_UINT, false },
	{ "sha256", F_STR, true },         { "sha256_hex", F_STR, true },
	{ "source", F_STR, false },        { "started_time", F_UINT, false },
	{},
};
static const struct field error_fields[] = {
	{ "code", F_UINT, false },  { "name", F_STR, true },
	{ "message", F_STR, true }, { "time", F_UINT, false },
	{},
};
static const struct field report_fields[] = {
	{ "eventtype", F_UINT, false },   { "eventresult", F_UINT, false },
	{ "previousversion", F_STR, true }, { "errorcode", F_UINT, false },
	{},
};
static const struct field backoff_fields[] = {
	{ "payload_attempts", F_UINT, false }, { "until", F_UINT, false },
	{ "url_index", F_UINT, false },        { "url_failures", F_UINT, false },
	{ "sha256", F_STR, true },             {},
};

/* A key of metrics.failures: the decimal Omaha error code, 1-65535, no sign or leading zero. */
static int failure_code(const char *key)
{
	int code = 0;
	if (!key || key[0] < '1' || key[0] > '9' || strlen(key) > 5)
		return -EINVAL;
	for (const char *p = key; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		code = code * 10 + (*p - '0');
	}
	return code <= 65535 ? code : -EINVAL;
}

static int validate(json_t *doc, struct problem_list *reterr)
{
	int bad;
	json_t *v;

	if (!json_is_object(doc))
		return problem_add(reterr, -EBADMSG, "", "must be a JSON object");
	bad = check_fields(doc, "", top_fields, reterr);
	v = json_object_get(doc, "schema");
	if (v && json_is_integer(v) && json_integer_value(v) != 1)
		bad++, (void)problem_add(reterr, -EBADMSG, "/schema", "unsupported schema %lld",
					 (long long)json_integer_value(v));
	v = json_object_get(doc, "status");
	if (json_is_string(v) && update_status_from_string(json_string_value(v)) < 0)
		bad++, (void)problem_add(reterr, -EBADMSG, "/status", "unknown status '%s'",
					 json_string_value(v));
	v = json_object_get(doc, "progress");
	if (json_is_number(v)) {
		double p = json_number_value(v);
		if (!(p >= 0.0 && p <= 1.0))
			bad++, (void)problem_add(reterr, -EBADMSG, "/progress",
						 "must be between 0 and 1");
	}
	v = json_object_get(doc, "staged");
	if (json_is_object(v))
		bad += check_fields(v, "/staged", staged_fields, reterr);
	v = json_object_get(doc, "pending");
	if (json_is_object(v)) {
		bad += check_fields(v, "/pending", pending_fields, reterr);
		json_t *urls = json_object_get(v, "urls"), *u;
		size_t i;
		if (json_is_array(urls))
			json_array_foreach(urls, i, u)
				if (!json_is_string(u)) {
					char ptr[64];
					snprintf(ptr, sizeof(ptr), "/pending/urls/%zu", i);
					bad++, (void)problem_add(reterr, -EBADMSG, ptr,
								 "must be a string");
				}
	}
	v = json_object_get(doc, "last_error");
	if (json_is_object(v))
		bad += check_fields(v, "/last_error", error_fields, reterr);
	v = json_object_get(doc, "report");
	if (json_is_object(v))
		bad += check_fields(v, "/report", report_fields, reterr);
	v = json_object_get(doc, "backoff");
	if (json_is_object(v))
		bad += check_fields(v, "/backoff", backoff_fields, reterr);
	v = json_object_get(doc, "metrics");
	if (json_is_object(v)) {
		bad += check_fields(v, "/metrics", metrics_fields, reterr);
		const char *key;
		json_t *n;
		json_object_foreach(json_object_get(v, "failures"), key, n)
			if (failure_code(key) < 0 || !json_is_integer(n) || json_integer_value(n) < 0) {
				char ptr[96];
				snprintf(ptr, sizeof(ptr), "/metrics/failures/%.40s", key);
				bad++, (void)problem_add(reterr, -EBADMSG, ptr,
							 failure_code(key) < 0
								 ? "key must be an error code (1-65535)"
								 : "must be a non-negative integer");
			}
	}
	v = json_object_get(doc, "bad_payloads");
	if (json_is_array(v)) {
		size_t i;
		json_t *u;
		json_array_foreach(v, i, u)
			if (!json_is_string(u)) {
				char ptr[64];
				snprintf(ptr, sizeof(ptr), "/bad_payloads/%zu", i);
				bad++, (void)problem_add(reterr, -EBADMSG, ptr, "must be a string");
			}
	}
	return bad ? -EBADMSG : 0;
}

int update_state_parse(const char *data, size_t size, struct update_state **ret,
		       struct problem_list *reterr)
{
	json_error_t err;
	_cleanup_(update_state_freep) struct update_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->doc = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
	if (!s->doc) {
		char where[64];
		snprintf(where, sizeof(where), "line %d, column %d", err.line, err.column);
		return problem_add(reterr, -EBADMSG, where, "%s", err.text);
	}
	r = validate(s->doc, reterr);
	if (r < 0)
		return r;
	/* Fill in what an older or hand-written file lacks, so accessors see every field. */
	_cleanup_(update_state_freep) struct update_state *def = update_state_new();
	if (!def)
		return -ENOMEM;
	const char *key;
	json_t *v;
	json_object_foreach(def->doc, key, v)
		if (!json_object_get(s->doc, key) && json_object_set(s->doc, key, v) < 0)
			return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

char *update_state_format(const struct update_state *s)
{
	return json_dumps(s->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

int update_state_load(int root_fd, unsigned flags, struct update_state **ret, char **ret_moved_to,
		      struct problem_list *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 0;
	int r;

	r = fs_read_file(root_fd, UPDATE_STATE_FILE, UPDATE_STATE_MAX_SIZE, &data, &size);
	if (r == -EACCES && (flags & UPDATE_STATE_PUBLIC_OK)) {
		/* Not root: the public view has every field a status reader needs. */
		r = fs_read_file(root_fd, UPDATE_STATUS_FILE, UPDATE_STATE_MAX_SIZE, &data, &size);
		if (r >= 0) {
			r = update_state_parse(data, size, ret, reterr);
			return r < 0 ? r : UPDATE_STATE_PUBLIC;
		}
		if (r == -ENOENT)
			r = -EACCES;
	}
	if (r == -ENOENT) {
		*ret = update_state_new();
		return *ret ? UPDATE_STATE_FRESH : -ENOMEM;
	}
	if (r == -EFBIG)
		(void)problem_add(reterr, -EBADMSG, "", "larger than %u bytes", UPDATE_STATE_MAX_SIZE);
	else if (r < 0)
		return r;
	else {
		r = update_state_parse(data, size, ret, reterr);
		if (r != -EBADMSG)
			return r < 0 ? r : UPDATE_STATE_LOADED;
	}

	/* Corrupt: start from IDLE; writers move the file aside so it is not lost (7.2). */
	if (flags & UPDATE_STATE_MOVE_BAD) {
		char bad[128];
		_cleanup_close_ int dfd = fs_open(root_fd, UPDATE_STATE_DIR, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			return dfd;
		snprintf(bad, sizeof(bad), "state.json.bad-%llu", (unsigned long long)time(NULL));
		if (renameat(dfd, "state.json", dfd, bad) < 0)
			return -errno;
		if (ret_moved_to) {
			char *p = NULL;
			if (asprintf(&p, "%s/%s", UPDATE_STATE_DIR, bad) < 0)
				return -ENOMEM;
			*ret_moved_to = p;
		}
	}
	*ret = update_state_new();
	return *ret ? UPDATE_STATE_CORRUPT : -ENOMEM;
}

/* The public view of the state (status.json): what `update status` and update_engine_client
 * show, without the download URLs (they may carry credentials or signed query strings), hashes,
 * backoff and known-bad payloads. */
static json_t *public_doc(const struct update_state *s)
{
	static const char *const keep[] = { "schema",   "status",     "last_checked_time",
					     "aleph_version", "progress", "staged",
					     "report",   "last_error", "metrics" };
	json_t *doc = json_object(), *pending = json_object_get(s->doc, "pending");

	if (!doc)
		return NULL;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		json_t *v = json_object_get(s->doc, keep[i]);
		if (v && json_object_set(doc, keep[i], v) < 0)
			goto oom;
	}
	if (json_is_object(pending)) {
		json_t *p = json_pack("{s:O,s:O,s:O}", "version", json_object_get(pending, "version"),
				      "size", json_object_get(pending, "size"), "started_time",
				      json_object_get(pending, "started_time"));
		if (!p || json_object_set_new(doc, "pending", p) < 0)
			goto oom;
	} else if (json_object_set_new(doc, "pending", json_null()) < 0)
		goto oom;
	return doc;
oom:
	json_decref(doc);
	return NULL;
}

/* Readers without root read status.json by name: the state directory and its parent may be
 * traversed (0711) but not listed; everything private in it stays 0600. Directories made by
 * older versions (0700) are opened up the same way. */
static int make_traversable(int root_fd, const char *dir)
{
	_cleanup_close_ int fd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((st.st_mode & 0011) == 0011)
		return 0;
	return fchmod(fd, (st.st_mode & 07777) | 0011) < 0 ? -errno : 0;
}

static int write_doc(int root_fd, const char *path, const json_t *doc, mode_t mode)
{
	_cleanup_free_ char *text =
		json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	text[n] = '\n'; /* json_dumps leaves room for the NUL; the file ends with a newline */
	return fs_write_atomic(root_fd, path, text, n + 1, mode);
}

int update_state_save(int root_fd, const struct update_state *s)
{
	int r;

	r = fs_mkdir_p(root_fd, UPDATE_STATE_DIR, 0711);
	if (r >= 0)
		r = make_traversable(root_fd, "/var/lib/flatctl");
	if (r >= 0)
		r = make_traversable(root_fd, UPDATE_STATE_DIR);
	if (r < 0)
		return r;
	/* Both files or neither (docs/update.md 6.5): a failure anywhere (a failed fsync of the
	 * directory comes after the rename) puts the previous bytes of both back, or removes a
	 * file that was not there. Everything that can run out of memory comes before the writes. */
	json_auto_t *pub = public_doc(s);
	if (!pub)
		return -ENOMEM;
	static const char *const files[2] = { UPDATE_STATE_FILE, UPDATE_STATUS_FILE };
	static const mode_t modes[2] = { 0600, 0644 };
	char *old[2] = {};
	size_t old_size[2] = {};
	for (int i = 0; i < 2; i++) {
		r = fs_read_file(root_fd, files[i], UPDATE_STATE_MAX_SIZE, &old[i], &old_size[i]);
		if (r < 0 && r != -ENOENT)
			goto out;
	}
	r = write_doc(root_fd, UPDATE_STATE_FILE, s->doc, 0600);
	if (r >= 0)
		r = write_doc(root_fd, UPDATE_STATUS_FILE, pub, 0644);
	if (r < 0)
		for (int i = 0; i < 2; i++) {
			if (old[i])
				(void)fs_write_atomic(root_fd, files[i], old[i], old_size[i], modes[i]);
			else
				(void)fs_unlink(root_fd, files[i]);
		}
out:
	free(old[0]);
	free(old[1]);
	return r;
}

/* ---- accessors ---- */

static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static uint64_t get_u64(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

enum update_status update_state_status(const struct update_state *s)
{
	enum update_status st = update_status_from_string(get_str(s->doc, "status"));
	return st < 0 ? UPDATE_STATUS_IDLE : st;
}

int update_state_set_status(struct update_state *s, enum update_status st)
{
	const char *n = update_status_to_string(st);
	if (!n)
		return -EINVAL;
	return set_new(s->doc, "status", json_string(n));
}

uint64_t update_state_last_checked(const struct update_state *s)
{
	return get_u64(s->doc, "last_checked_time");
}

int update_state_set_last_checked(struct update_state *s, uint64_t t)
{
	return set_new(s->doc, "last_checked_time", json_integer((json_int_t)t));
}

double update_state_progress(const struct update_state *s)
{
	return json_number_value(json_object_get(s->doc, "progress"));
}

int update_state_set_progress(struct update_state *s, double p)
{
	if (!(p >= 0.0 && p <= 1.0))
		return -EINVAL;
	return set_new(s->doc, "progress", json_real(p));
}

const char *update_state_aleph_version(const struct update_state *s)
{
	return get_str(s->doc, "aleph_version");
}

int update_state_set_aleph_version(struct update_state *s, const char *v)
{
	return set_new(s->doc, "aleph_version", str_or_null(v));
}

bool update_state_get_staged(const struct update_state *s, struct update_staged *ret)
{
	const json_t *o = json_object_get(s->doc, "staged");
	if (!json_is_object(o) || !get_str(o, "version") || !get_str(o, "partition"))
		return false;
	*ret = (struct update_staged){
		.version = get_str(o, "version"),
		.previous_version = get_str(o, "previous_version"),
		.partition = get_str(o, "partition"),
		.partuuid = get_str(o, "partuuid"),
		.boot_id = get_str(o, "boot_id"),
		.size = get_u64(o, "size"),
		.installed_time = get_u64(o, "installed_time"),
	};
	return true;
}

int update_state_set_staged(struct update_state *s, const struct update_staged *st)
{
	if (!st)
		return set_new(s->doc, "staged", json_null());
	if (!st->version || !st->partition)
		return -EINVAL;
	return set_new(s->doc, "staged",
		       json_pack("{s:s,s:o,s:s,s:o,s:o,s:I,s:I}", "version", st->version,
				 "previous_version", str_or_null(st->previous_version), "partition",
				 st->partition, "partuuid", str_or_null(st->partuuid), "boot_id",
				 str_or_null(st->boot_id), "size", (json_int_t)st->size,
				 "installed_time", (json_int_t)st->installed_time));
}

bool update_state_get_pending(const struct update_state *s, struct update_pending *ret)
{
	const json_t *o = json_object_get(s->doc, "pending");
	if (!json_is_object(o))
		return false;
	*ret = (struct update_pending){
		.version = get_str(o, "version"),
		.name = get_str(o, "name"),
		.sha256 = get_str(o, "sha256"),
		.sha256_hex = get_str(o, "sha256_hex"),
		.source = get_str(o, "source"),
		.url = json_string_value(json_array_get(json_object_get(o, "urls"), 0)),
		.size = get_u64(o, "size"),
		.started_time = get_u64(o, "started_time"),
	};
	return true;
}

int update_state_set_pending(struct update_state *s, const struct update_pending *p,
			     const char *const *urls, size_t n_urls)
{
	if (!p)
		return set_new(s->doc, "pending", json_null());
	json_auto_t *a = json_array();
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n_urls; i++)
		if (json_array_append_new(a, json_string(urls[i])) < 0)
			return -ENOMEM;
	return set_new(s->doc, "pending",
		       json_pack("{s:o,s:O,s:o,s:I,s:o,s:o,s:s,s:I}", "version",
				 str_or_null(p->version), "urls", a, "name", str_or_null(p->name),
				 "size", (json_int_t)p->size, "sha256", str_or_null(p->sha256),
				 "sha256_hex", str_or_null(p->sha256_hex), "source",
				 p->source ? p->source : "omaha", "started_time",
				 (json_int_t)p->started_time));
}

bool update_state_get_last_error(const struct update_state *s, struct update_error *ret)
{
	const json_t *o = json_object_get(s->doc, "last_error");
	if (!json_is_object(o))
		return false;
	*ret = (struct update_error){
		.code = (int)get_u64(o, "code"),
		.name = get_str(o, "name"),
		.message = get_str(o, "message"),
		.time = get_u64(o, "time"),
	};
	return true;
}

int update_state_set_last_error(struct update_state *s, int code, const char *message, uint64_t t)
{
	return set_new(s->doc, "last_error",
		       json_pack("{s:i,s:s,s:o,s:I}", "code", code, "name",
				 update_error_code_to_string(code), "message", str_or_null(message),
				 "time", (json_int_t)t));
}

int update_state_clear_last_error(struct update_state *s)
{
	return set_new(s->doc, "last_error", json_null());
}

bool update_state_has_report(const struct update_state *s)
{
	return json_is_object(json_object_get(s->doc, "report"));
}

bool update_state_get_report(const struct update_state *s, struct update_report *ret)
{
	const json_t *o = json_object_get(s->doc, "report");
	if (!json_is_object(o))
		return false;
	*ret = (struct update_report){
		.eventtype = (int)get_u64(o, "eventtype"),
		.eventresult = (int)get_u64(o, "eventresult"),
		.errorcode = (int)get_u64(o, "errorcode"),
		.previousversion = get_str(o, "previousversion"),
	};
	return true;
}

int update_state_set_report(struct update_state *s, const struct update_report *rep)
{
	if (!rep)
		return set_new(s->doc, "report", json_null());
	json_t *o = json_pack("{s:i,s:i}", "eventtype", rep->eventtype, "eventresult",
			      rep->eventresult);
	if (!o)
		return -ENOMEM;
	if ((rep->previousversion &&
	     json_object_set_new(o, "previousversion", json_string(rep->previousversion)) < 0) ||
	    (rep->errorcode && json_object_set_new(o, "errorcode", json_integer(rep->errorcode)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return set_new(s->doc, "report", o);
}

int update_state_clear_report(struct update_state *s)
{
	return set_new(s->doc, "report", json_null());
}

bool update_state_has_backoff(const struct update_state *s)
{
	const json_t *o = json_object_get(s->doc, "backoff");
	return json_is_object(o) && (get_u64(o, "payload_attempts") || get_u64(o, "until") ||
				     get_u64(o, "url_index") || get_u64(o, "url_failures"));
}

int update_state_clear_backoff(struct update_state *s)
{
	return set_new(s->doc, "backoff", backoff_new());
}

void update_state_get_backoff(const struct update_state *s, struct update_backoff *ret)
{
	const json_t *o = json_object_get(s->doc, "backoff");
	*ret = (struct update_backoff){
		.payload_attempts = get_u64(o, "payload_attempts"),
		.until = get_u64(o, "until"),
		.url_index = get_u64(o, "url_index"),
		.url_failures = get_u64(o, "url_failures"),
		.sha256 = get_str(o, "sha256"),
	};
}

int update_state_set_backoff(struct update_state *s, const struct update_backoff *b)
{
	return set_new(s->doc, "backoff",
		       json_pack("{s:I,s:I,s:I,s:I,s:o}", "payload_attempts",
				 (json_int_t)b->payload_attempts, "until", (json_int_t)b->until,
				 "url_index", (json_int_t)b->url_index, "url_failures",
				 (json_int_t)b->url_failures, "sha256", str_or_null(b->sha256)));
}

size_t update_state_bad_payload_count(const struct update_state *s)
{
	return json_array_size(json_object_get(s->doc, "bad_payloads"));
}

int update_state_add_bad_payload(struct update_state *s, const char *sha256)
{
	json_t *a = json_object_get(s->doc, "bad_payloads");
	if (!sha256)
		return -EINVAL;
	if (update_state_is_bad_payload(s, sha256))
		return 0;
	if (json_array_append_new(a, json_string(sha256)) < 0)
		return -ENOMEM;
	while (json_array_size(a) > UPDATE_BAD_PAYLOADS_MAX)
		(void)json_array_remove(a, 0);
	return 0;
}

bool update_state_is_bad_payload(const struct update_state *s, const char *sha256)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s->doc, "bad_payloads"), i, v)
		if (sha256 && json_is_string(v) && strcmp(json_string_value(v), sha256) == 0)
			return true;
	return false;
}

int update_state_clear_bad_payloads(struct update_state *s)
{
	int r = set_new(s->doc, "bad_payloads", json_array());
	return r < 0 ? r : set_new(s->doc, "bad_payload_info", json_null());
}

bool update_state_bad_payload_info(const struct update_state *s, const char *sha256,
				   int *ret_code, uint64_t *ret_reported)
{
	const json_t *o = json_object_get(json_object_get(s->doc, "bad_payload_info"), sha256);
	if (!json_is_object(o))
		return false;
	*ret_code = (int)get_u64(o, "code");
	*ret_reported = get_u64(o, "reported");
	return true;
}

int update_state_set_bad_payload_info(struct update_state *s, const char *sha256, int code,
				      uint64_t reported)
{
	json_t *all = json_object_get(s->doc, "bad_payload_info");
	if (!json_is_object(all)) {
		int r = set_new(s->doc, "bad_payload_info", json_object());
		if (r < 0)
			return r;
		all = json_object_get(s->doc, "bad_payload_info");
	}
	/* only the payloads still on the list keep their details */
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(all, tmp, key, v)
		if (!update_state_is_bad_payload(s, key))
			(void)json_object_del(all, key);
	return set_new(all, sha256,
		       json_pack("{s:i,s:I}", "code", code, "reported", (json_int_t)reported));
}

/* ---- metrics (9.1) ---- */

/* The metrics object, created when an older file had none (or null). */
static json_t *metrics_obj(struct update_state *s)
{
	json_t *m = json_object_get(s->doc, "metrics");
	if (json_is_object(m))
		return m;
	if (set_new(s->doc, "metrics", metrics_new()) < 0)
		return NULL;
	return json_object_get(s->doc, "metrics");
}

void update_state_get_metrics(const struct update_state *s, struct update_metrics *ret)
{
	const json_t *m = json_object_get(s->doc, "metrics");
	*ret = (struct update_metrics){
		.last_successful_check_time = get_u64(m, "last_successful_check_time"),
		.last_successful_update_time = get_u64(m, "last_successful_update_time"),
		.downloaded_bytes = get_u64(m, "downloaded_bytes"),
	};
}

static int metrics_set(struct update_state *s, const char *key, uint64_t v)
{
	json_t *m = metrics_obj(s);
	if (!m)
		return -ENOMEM;
	return set_new(m, key, json_integer((json_int_t)(v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v)));
}

int update_state_set_last_successful_check(struct update_state *s, uint64_t t)
{
	return metrics_set(s, "last_successful_check_time", t);
}

int update_state_set_last_successful_update(struct update_state *s, uint64_t t)
{
	return metrics_set(s, "last_successful_update_time", t);
}

/* Counters saturate instead of wrapping: a counter that went down would read as a reset. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a || a + b > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : a + b;
}

int update_state_add_downloaded(struct update_state *s, uint64_t bytes)
{
	json_t *m = metrics_obj(s);
	if (!m)
		return -ENOMEM;
	return metrics_set(s, "downloaded_bytes", add_sat(get_u64(m, "downloaded_bytes"), bytes));
}

int update_state_count_failure(struct update_state *s, int code)
{
	json_t *m = metrics_obj(s), *f;
	char key[16];

	if (code <= 0 || code > 65535)
		return -EINVAL;
	if (!m)
		return -ENOMEM;
	f = json_object_get(m, "failures");
	if (!json_is_object(f)) {
		if (set_new(m, "failures", json_object()) < 0)
			return -ENOMEM;
		f = json_object_get(m, "failures");
	}
	snprintf(key, sizeof(key), "%d", code);
	return set_new(f, key, json_integer((json_int_t)add_sat(get_u64(f, key), 1)));
}

void update_state_foreach_failure(const struct update_state *s,
				  void (*fn)(int code, uint64_t count, void *userdata),
				  void *userdata)
{
	const json_t *f = json_object_get(json_object_get(s->doc, "metrics"), "failures");
	int next = 0;

	/* jansson keeps keys unordered: walk the codes in ascending order, so the output is stable */
	for (;;) {
		int best = -1;
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)f, key, v) {
			int c = failure_code(key);
			if (c > next && (best < 0 || c < best) && get_u64(f, key) > 0)
				best = c;
		}
		if (best < 0)
			return;
		char k[16];
		snprintf(k, sizeof(k), "%d", best);
		fn(best, get_u64(f, k), userdata);
		next = best;
	}
}

/* ---- resume (7.3) ---- */

const char *update_resume_to_string(enum update_resume r)
{
	static const char *const n[_UPDATE_RESUME_MAX] = {
		[UPDATE_RESUME_START_OVER] = "start-over",
		[UPDATE_RESUME_CONTINUE] = "continue",
		[UPDATE_RESUME_REVERIFY] = "reverify",
	};
	return r >= 0 && r < _UPDATE_RESUME_MAX ? n[r] : NULL;
}

static bool streq_nn(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

enum update_resume update_resume_decide(const struct update_state *s,
					const struct update_offer *offer, int64_t part_size)
{
	struct update_pending p;

	if (!update_state_get_pending(s, &p) || part_size < 0)
		return UPDATE_RESUME_START_OVER;
	/* The same payload: same source, same announced size and SHA-256 (and URL for --payload
	 * URL, which has no response to tell offers apart). Without a hash nothing can prove the
	 * bytes on disk belong to this offer. */
	if (!streq_nn(p.source, offer->source) || !streq_nn(p.sha256, offer->sha256) ||
	    p.size != offer->size)
		return UPDATE_RESUME_START_OVER;
	/* --payload URL without a known size: the URL and --sha256 alone say it is the same file. */
	if (offer->size == 0)
		return streq_nn(p.url, offer->url) ? UPDATE_RESUME_CONTINUE : UPDATE_RESUME_START_OVER;
	if (streq_nn(offer->source, "local") && !streq_nn(p.url, offer->url))
		return UPDATE_RESUME_START_OVER;
	if ((uint64_t)part_size > p.size)
		return UPDATE_RESUME_START_OVER;
	if (update_state_status(s) == UPDATE_STATUS_FINALIZING && (uint64_t)part_size == p.size)
		return UPDATE_RESUME_REVERIFY;
	return UPDATE_RESUME_CONTINUE;
}
