/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-metrics.c - the metrics kept in state.json and their Prometheus text
 * (lib/update/state.c, lib/update/metrics.c; docs/update.md 7.2, 9.1). The text is read back by
 * a strict parser of the exposition format written here, independent of the renderer; the e2e
 * test t0720 also runs promtool on it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "update/metrics.h"
#include "update/state.h"
#include "util/problem.h"

/* ---- a strict reader of the text format (version 0.0.4) ---- */

#define MAX_SAMPLES 64
#define MAX_LABELS 4
#define MAX_FAMILIES 32

struct sample {
	char name[128];
	size_t n_labels;
	char key[MAX_LABELS][64];
	char val[MAX_LABELS][256];
	char value[64];
};

struct expo {
	struct sample s[MAX_SAMPLES];
	size_t n;
	char family[MAX_FAMILIES][128];
	char type[MAX_FAMILIES][16];
	bool has_help[MAX_FAMILIES];
	size_t n_families;
	char err[256];
};

static bool name_ok(const char *p, size_t n, bool label)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (!label && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool utf8_ok(const unsigned char *p)
{
	while (*p) {
		size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
					     (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (len == 0 || (len == 2 && *p < 0xc2))
			return false;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += len;
	}
	return true;
}

static int family_index(const struct expo *e, const char *name)
{
	for (size_t i = 0; i < e->n_families; i++)
		if (strcmp(e->family[i], name) == 0)
			return (int)i;
	return -1;
}

#define BAD(...) (snprintf(e->err, sizeof(e->err), __VA_ARGS__), -1)

/* A label value up to its closing quote; only \\, \" and \n are escapes. */
static int read_label_value(struct expo *e, const char **pp, char *out, size_t size)
{
	const char *p = *pp;
	size_t o = 0;

	for (;;) {
		char c = *p++;
		if (c == 0 || c == '\n')
			return BAD("unterminated label value");
		if (c == '"')
			break;
		if (c == '\\') {
			c = *p++;
			if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"')
				return BAD("bad escape \\%c in a label value", c);
		}
		if (o + 1 >= size)
			return BAD("label value too long");
		out[o++] = c;
	}
	out[o] = 0;
	if (!utf8_ok((const unsigned char *)out))
		return BAD("label value is not UTF-8");
	*pp = p;
	return 0;
}

static int parse_sample(struct expo *e, const char *line, size_t len, int last_family)
{
	struct sample *s;
	const char *p = line, *end = line + len;
	size_t n = strcspn(p, "{ ");

	if (e->n >= MAX_SAMPLES)
		return BAD("too many samples");
	s = &e->s[e->n];
	memset(s, 0, sizeof(*s));
	if (!name_ok(p, n, false) || n >= sizeof(s->name))
		return BAD("bad metric name in '%.*s'", (int)len, line);
	memcpy(s->name, p, n);
	int fi = family_index(e, s->name);
	if (fi < 0 || !e->type[fi][0])
		return BAD("%s: sample before its TYPE line", s->name);
	if (fi != last_family)
		return BAD("%s: samples of a family are not together", s->name);
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = strcspn(p, "=");
			if (s->n_labels >= MAX_LABELS || !name_ok(p, k, true) || k >= 64 || p[k] != '=' ||
			    p[k + 1] != '"')
				return BAD("%s: bad label at '%.20s'", s->name, p);
			memcpy(s->key[s->n_labels], p, k);
			for (size_t i = 0; i < s->n_labels; i++)
				if (strcmp(s->key[i], s->key[s->n_labels]) == 0)
					return BAD("%s: label %s twice", s->name, s->key[i]);
			p += k + 2;
			if (read_label_value(e, &p, s->val[s->n_labels], sizeof(s->val[0])) < 0)
				return -1;
			s->n_labels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return BAD("%s: expected , or } after a label", s->name);
		}
		p++;
	}
	if (*p != ' ')
		return BAD("%s: no space before the value", s->name);
	p++;
	if ((size_t)(end - p) >= sizeof(s->value) || end == p)
		return BAD("%s: bad value", s->name);
	memcpy(s->value, p, (size_t)(end - p));
	char *vend;
	(void)strtod(s->value, &vend);
	if (*vend) /* also rejects a timestamp after the value: flatctl writes none */
		return BAD("%s: value '%s' is not a number", s->name, s->value);
	for (size_t i = 0; i < e->n; i++) {
		const struct sample *o = &e->s[i];
		bool same = strcmp(o->name, s->name) == 0 && o->n_labels == s->n_labels;
		for (size_t l = 0; same && l < s->n_labels; l++)
			same = strcmp(o->key[l], s->key[l]) == 0 && strcmp(o->val[l], s->val[l]) == 0;
		if (same)
			return BAD("%s: the same series twice", s->name);
	}
	e->n++;
	return 0;
}

static int parse_expo(const char *text, struct expo *e)
{
	int last_family = -1;

	memset(e, 0, sizeof(*e));
	if (!*text || text[strlen(text) - 1] != '\n')
		return BAD("does not end with a newline");
	while (*text) {
		size_t len = strcspn(text, "\n");
		const char *line = text;
		text += len + 1;
		if (len == 0)
			return BAD("empty line");
		if (line[0] != '#') {
			if (parse_sample(e, line, len, last_family) < 0)
				return -1;
			continue;
		}
		bool help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
		if (!help && !type)
			return BAD("comment that is neither HELP nor TYPE: '%.*s'", (int)len, line);
		const char *name = line + 7;
		size_t n = strcspn(name, " \n");
		if (!name_ok(name, n, false) || n >= 128 || name[n] != ' ' || name + n + 1 >= line + len)
			return BAD("bad HELP/TYPE line '%.*s'", (int)len, line);
		char fname[128] = "";
		memcpy(fname, name, n);
		const char *rest = name + n + 1;
		size_t rlen = (size_t)(line + len - rest);
		int fi = family_index(e, fname);
		if (help) {
			if (fi >= 0)
				return BAD("%s: second HELP", fname);
			if (e->n_families >= MAX_FAMILIES)
				return BAD("too many families");
			for (size_t i = 0; i < rlen; i++) {
				if (rest[i] != '\\')
					continue;
				if (i + 1 >= rlen || (rest[i + 1] != '\\' && rest[i + 1] != 'n'))
					return BAD("%s: bad escape in HELP", fname);
				i++;
			}
			fi = (int)e->n_families++;
			snprintf(e->family[fi], sizeof(e->family[fi]), "%s", fname);
			e->has_help[fi] = true;
			last_family = fi;
			continue;
		}
		if (fi < 0 || fi != last_family)
			return BAD("%s: TYPE without the HELP just before it", fname);
		if (e->type[fi][0])
			return BAD("%s: second TYPE", fname);
		if (!((rlen == 7 && strncmp(rest, "counter", 7) == 0) ||
		      (rlen == 5 && strncmp(rest, "gauge", 5) == 0)))
			return BAD("%s: type '%.*s' (flatctl writes counters and gauges)", fname,
				   (int)rlen, rest);
		memcpy(e->type[fi], rest, rlen);
		size_t fl = strlen(fname);
		bool total = fl > 6 && strcmp(fname + fl - 6, "_total") == 0;
		if (total != (strcmp(e->type[fi], "counter") == 0))
			return BAD("%s: _total is for counters, and counters end in _total", fname);
		if (strncmp(fname, "flatctl_update_", 15) != 0)
			return BAD("%s: not flatctl_update_", fname);
	}
	for (size_t i = 0; i < e->n_families; i++)
		if (!e->type[i][0])
			return BAD("%s: no TYPE", e->family[i]);
	return 0;
}

/* The sample name{labels} with labels "k=v,k=v" in order (values without , or =); NULL: none. */
static const char *value_of(const struct expo *e, const char *name, const char *labels)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct sample *s = &e->s[i];
		char buf[1024] = "";
		size_t o = 0;
		if (strcmp(s->name, name) != 0)
			continue;
		for (size_t l = 0; l < s->n_labels; l++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s=%s", l ? "," : "",
					      s->key[l], s->val[l]);
		if (strcmp(buf, labels) == 0)
			return s->value;
	}
	return NULL;
}

static size_t count_of(const struct expo *e, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n; i++)
		n += strcmp(e->s[i].name, name) == 0;
	return n;
}

static int render(const struct update_state *s, const char *current, struct expo *e)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	int r = update_metrics_render(s, current, &text, &size);
	if (r < 0)
		return r;
	if (strlen(text) != size)
		return -EINVAL;
	r = parse_expo(text, e);
	if (r < 0)
		printf("# %s\n# text:\n%s", e->err, text);
	return r < 0 ? -EBADMSG : 0;
}

/* ---- the parser itself rejects what the format forbids ---- */

TEST(parser_is_strict)
{
	static const char *const bad[] = {
		"flatctl_update_x 1\n",                                          /* no TYPE */
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x 1", /* no \n */
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x{a=\"\\t\"} 1\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x{a=\"x} 1\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x{a=\"1\",a=\"2\"} 1\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x one\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x 1\nflatctl_update_x 2\n",
		"# HELP flatctl_update_x_total h\n# TYPE flatctl_update_x_total gauge\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x counter\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x{a=\"\xff\"} 1\n",
		"# HELP flatctl_update_x h\n# TYPE flatctl_update_x gauge\nflatctl_update_x 1 1700000000\n",
		"# TYPE flatctl_update_x gauge\nflatctl_update_x 1\n",
	};
	static const char good[] = "# HELP flatctl_update_x a \\\\ b\n# TYPE flatctl_update_x gauge\n"
				   "flatctl_update_x{a=\"q\\\"\\\\\\n\",b=\"\"} 1.5\n";
	struct expo *e = calloc(1, sizeof(*e));
	ASSERT_NOT_NULL(e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_expo(bad[i], e) == 0) {
			free(e);
			TAP_FAIL_("accepted bad[%zu]", i);
		}
	int r = parse_expo(good, e);
	if (r < 0)
		printf("# %s\n", e->err);
	bool ok = r == 0 && e->n == 1 && strcmp(e->s[0].val[0], "q\"\\\n") == 0;
	free(e);
	ASSERT_TRUE(ok);
}

/* ---- state.json ---- */

TEST(older_state_without_metrics_loads)
{
	static const char old[] = "{\"schema\": 1, \"status\": \"UPDATE_STATUS_IDLE\", "
				  "\"last_checked_time\": 5, \"progress\": 0.0, \"bad_payloads\": []}";
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct update_metrics m = { 1, 1, 1 };
	ASSERT_OK(update_state_parse(old, sizeof(old) - 1, &s, &p));
	update_state_get_metrics(s, &m);
	ASSERT_U64_EQ(m.last_successful_check_time, 0);
	ASSERT_U64_EQ(m.last_successful_update_time, 0);
	ASSERT_U64_EQ(m.downloaded_bytes, 0);
	/* metrics: null (a hand-edited file) is accepted too and counting starts afresh */
	static const char nul[] = "{\"schema\": 1, \"status\": \"UPDATE_STATUS_IDLE\", \"metrics\": null}";
	_cleanup_(update_state_freep) struct update_state *s2 = NULL;
	ASSERT_OK(update_state_parse(nul, sizeof(nul) - 1, &s2, &p));
	ASSERT_OK(update_state_count_failure(s2, 9));
	ASSERT_OK(update_state_add_downloaded(s2, 7));
	update_state_get_metrics(s2, &m);
	ASSERT_U64_EQ(m.downloaded_bytes, 7);
}

static void collect(int code, uint64_t count, void *userdata)
{
	char *out = userdata;
	size_t o = strlen(out);
	snprintf(out + o, 256 - o, "%d:%llu;", code, (unsigned long long)count);
}

TEST(counters_round_trip)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new(), *t = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *json = NULL;
	struct update_metrics m;
	char seen[256] = "";

	ASSERT_NOT_NULL(s);
	ASSERT_OK(update_state_count_failure(s, 18));
	ASSERT_OK(update_state_count_failure(s, 9));
	ASSERT_OK(update_state_count_failure(s, 18));
	ASSERT_OK(update_state_count_failure(s, 1000));
	ASSERT_ERR(update_state_count_failure(s, 0), EINVAL);
	ASSERT_ERR(update_state_count_failure(s, 70000), EINVAL);
	ASSERT_OK(update_state_add_downloaded(s, 1000));
	ASSERT_OK(update_state_add_downloaded(s, 24));
	ASSERT_OK(update_state_add_downloaded(s, UINT64_MAX)); /* saturates, never wraps */
	ASSERT_OK(update_state_set_last_successful_check(s, 1767225600));
	ASSERT_OK(update_state_set_last_successful_update(s, 1767226300));
	json = update_state_format(s);
	ASSERT_NOT_NULL(json);
	ASSERT_OK(update_state_parse(json, strlen(json), &t, &p));
	update_state_get_metrics(t, &m);
	ASSERT_U64_EQ(m.downloaded_bytes, INT64_MAX);
	ASSERT_U64_EQ(m.last_successful_check_time, 1767225600);
	ASSERT_U64_EQ(m.last_successful_update_time, 1767226300);
	update_state_foreach_failure(t, collect, seen);
	ASSERT_STREQ(seen, "9:1;18:2;1000:1;");
}

TEST(bad_metrics_are_named)
{
	static const struct {
		const char *json, *where;
	} cases[] = {
		{ "{\"metrics\": {\"failures\": {\"09\": 1}}}", "/metrics/failures/09" },
		{ "{\"metrics\": {\"failures\": {\"x\": 1}}}", "/metrics/failures/x" },
		{ "{\"metrics\": {\"failures\": {\"9\": -1}}}", "/metrics/failures/9" },
		{ "{\"metrics\": {\"failures\": {\"70000\": 1}}}", "/metrics/failures/70000" },
		{ "{\"metrics\": {\"downloaded_bytes\": \"1\"}}", "/metrics/downloaded_bytes" },
		{ "{\"metrics\": {\"failures\": []}}", "/metrics/failures" },
		{ "{\"metrics\": 3}", "/metrics" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_(update_state_freep) struct update_state *s = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_ERR(update_state_parse(cases[i].json, strlen(cases[i].json), &s, &p), EBADMSG);
		ASSERT_TRUE(p.n >= 1);
		ASSERT_STREQ(p.item[0].where, cases[i].where);
	}
}

TEST(public_view_has_the_metrics)
{
	_cleanup_free_ char *dir = unit_mktree("metrics");
	_cleanup_(update_state_freep) struct update_state *s = update_state_new(), *t = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int root = -1;
	struct update_metrics m;
	size_t n = 0;
	char seen[256] = "";

	ASSERT_NOT_NULL(dir);
	root = fs_root_open(dir);
	ASSERT_TRUE(root >= 0);
	ASSERT_OK(update_state_count_failure(s, 9));
	ASSERT_OK(update_state_add_downloaded(s, 4096));
	ASSERT_OK(update_state_save(root, s));
	ASSERT_OK(fs_read_file(root, UPDATE_STATUS_FILE, UPDATE_STATE_MAX_SIZE, &data, &n));
	unit_rmtree(dir);
	ASSERT_OK(update_state_parse(data, n, &t, &p));
	update_state_get_metrics(t, &m);
	ASSERT_U64_EQ(m.downloaded_bytes, 4096);
	update_state_foreach_failure(t, collect, seen);
	ASSERT_STREQ(seen, "9:1;");
}

/* ---- the text ---- */

TEST(fresh_state_renders)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	struct expo *e = calloc(1, sizeof(*e));
	ASSERT_NOT_NULL(s);
	ASSERT_NOT_NULL(e);
	int r = render(s, NULL, e);
	bool ok = r == 0 && value_of(e, "flatctl_update_info", "current_version=,new_version=") &&
		  strcmp(value_of(e, "flatctl_update_state", "state=UPDATE_STATUS_IDLE"), "1") == 0 &&
		  count_of(e, "flatctl_update_state") == _UPDATE_STATUS_MAX &&
		  strcmp(value_of(e, "flatctl_update_reboot_pending", ""), "0") == 0 &&
		  strcmp(value_of(e, "flatctl_update_downloaded_bytes_total", ""), "0") == 0 &&
		  count_of(e, "flatctl_update_failures_total") == 0 &&
		  family_index(e, "flatctl_update_failures_total") >= 0;
	free(e);
	ASSERT_OK(r);
	ASSERT_TRUE(ok);
}

TEST(staged_state_renders_with_escapes)
{
	/* versions come from a server's response and os-release: every escape of the format, a
	 * non-ASCII letter kept as is and a byte that is not UTF-8 */
	static const char js[] =
		"{\"schema\": 1, \"status\": \"UPDATE_STATUS_UPDATED_NEED_REBOOT\", "
		"\"last_checked_time\": 1767225600, \"progress\": 1.0, "
		"\"staged\": {\"version\": \"4230.1.0\\\"x\\\\y\\nz\\u00e9\", \"partition\": \"USR-B\", "
		"\"size\": 491520931, \"installed_time\": 1767226300}, "
		"\"metrics\": {\"last_successful_check_time\": 1767225600, "
		"\"last_successful_update_time\": 1767226300, \"downloaded_bytes\": 491520931, "
		"\"failures\": {\"18\": 2, \"9\": 3, \"37\": 1, \"1\": 0}}}";
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct expo *e = calloc(1, sizeof(*e));
	ASSERT_NOT_NULL(e);
	ASSERT_OK(update_state_parse(js, sizeof(js) - 1, &s, &p));
	int r = render(s, "4152.2.3\xff", e);
	const char *v[12] = {
		value_of(e, "flatctl_update_info",
			 "current_version=4152.2.3\xef\xbf\xbd,new_version=4230.1.0\"x\\y\nz\xc3\xa9"),
		value_of(e, "flatctl_update_state", "state=UPDATE_STATUS_UPDATED_NEED_REBOOT"),
		value_of(e, "flatctl_update_state", "state=UPDATE_STATUS_IDLE"),
		value_of(e, "flatctl_update_reboot_pending", ""),
		value_of(e, "flatctl_update_new_size_bytes", ""),
		value_of(e, "flatctl_update_last_check_timestamp_seconds", ""),
		value_of(e, "flatctl_update_last_successful_check_timestamp_seconds", ""),
		value_of(e, "flatctl_update_last_successful_update_timestamp_seconds", ""),
		value_of(e, "flatctl_update_downloaded_bytes_total", ""),
		value_of(e, "flatctl_update_failures_total", "code=9,error=DownloadTransferError"),
		value_of(e, "flatctl_update_failures_total",
			 "code=18,error=DownloadPayloadPubKeyVerificationError"),
		value_of(e, "flatctl_update_failures_total", "code=37,error=OmahaErrorInHTTPResponse"),
	};
	static const char *const want[12] = { "1",         "1",          "0",          "1",
					      "491520931", "1767225600", "1767225600", "1767226300",
					      "491520931", "3",          "2",          "1" };
	size_t nf = count_of(e, "flatctl_update_failures_total");
	/* ascending codes: 9 before 18 before 37; a zero count is left out */
	bool order = nf == 3 && strcmp(e->s[e->n - 3].val[0], "9") == 0 &&
		     strcmp(e->s[e->n - 1].val[0], "37") == 0;
	char got[12][64];
	for (size_t i = 0; i < 12; i++)
		snprintf(got[i], sizeof(got[i]), "%s", v[i] ? v[i] : "(none)");
	free(e);
	ASSERT_OK(r);
	for (size_t i = 0; i < 12; i++)
		if (strcmp(got[i], want[i]) != 0)
			TAP_FAIL_("sample %zu: got %s, expected %s", i, got[i], want[i]);
	ASSERT_TRUE(order);
}

TEST(pending_download_renders_its_version)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	struct update_pending pe = { .version = "4230.1.0", .size = 1000, .source = "omaha" };
	const char *url = "https://u:hunter2@example.org/p.gz";
	struct expo *e = calloc(1, sizeof(*e));
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	ASSERT_NOT_NULL(e);
	ASSERT_OK(update_state_set_pending(s, &pe, &url, 1));
	ASSERT_OK(update_state_set_status(s, UPDATE_STATUS_DOWNLOADING));
	ASSERT_OK(update_state_set_progress(s, 0.25));
	int r = render(s, "4152.2.3", e);
	bool ok = r == 0 &&
		  value_of(e, "flatctl_update_info", "current_version=4152.2.3,new_version=4230.1.0") &&
		  strcmp(value_of(e, "flatctl_update_progress_ratio", ""), "0.25") == 0 &&
		  strcmp(value_of(e, "flatctl_update_new_size_bytes", ""), "1000") == 0 &&
		  strcmp(value_of(e, "flatctl_update_reboot_pending", ""), "0") == 0;
	free(e);
	ASSERT_TRUE(ok);
	/* the download URL (credentials) never reaches the metrics */
	ASSERT_OK(update_metrics_render(s, NULL, &text, &n));
	ASSERT_NULL(strstr(text, "hunter2"));
}

/* ---- the textfile ---- */

TEST(textfile_is_replaced_atomically)
{
	_cleanup_free_ char *dir = unit_mktree("metrics");
	char path[4200], tmp[4300];
	struct stat st;
	DIR *d;
	struct dirent *de;
	size_t entries = 0;
	_cleanup_free_ char *data = NULL;
	size_t n = 0;

	ASSERT_NOT_NULL(dir);
	snprintf(path, sizeof(path), "%s/" UPDATE_METRICS_TEXTFILE, dir);
	mode_t old = umask(077);
	int r1 = update_metrics_write_textfile(dir, "old\n", 4);
	int r2 = update_metrics_write_textfile(dir, "new\n", 4);
	umask(old);
	int rs = stat(path, &st);
	_cleanup_close_ int root = fs_root_open(dir);
	int rr = fs_read_file(root, UPDATE_METRICS_TEXTFILE, 100, &data, &n);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	/* not a directory, missing: said apart for the caller's message */
	snprintf(tmp, sizeof(tmp), "%s/missing", dir);
	int r3 = update_metrics_write_textfile(tmp, "x", 1);
	int r4 = update_metrics_write_textfile(path, "x", 1);
	unit_rmtree(dir);
	ASSERT_OK(r1);
	ASSERT_OK(r2);
	ASSERT_OK(rs);
	ASSERT_EQ(st.st_mode & 07777, 0644);
	ASSERT_OK(rr);
	ASSERT_EQ(n, 4);
	ASSERT_TRUE(memcmp(data, "new\n", 4) == 0);
	ASSERT_EQ(entries, 1); /* no temporary file left */
	ASSERT_ERR(r3, ENOENT);
	ASSERT_ERR(r4, ENOTDIR);
}
