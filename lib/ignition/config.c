/* SPDX-License-Identifier: MIT */
/* lib/ignition/config.c - detect what a config is and which version, then parse, translate
 * and validate it (provision.md sections 2.1-2.2). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "schema.h"
#include "translate.h"
#include "util/problem.h"

struct ign_config *ign_config_free(struct ign_config *c)
{
	if (!c)
		return NULL;
	json_decref(c->doc);
	json_decref(c->raw);
	free(c);
	return NULL;
}

const char *ign_version_to_string(int v, char *buf, size_t size)
{
	snprintf(buf, size, "%d.%d.0", v / 10, v % 10);
	return buf;
}

/* Flatcar: cloud-config, scripts and MIME multipart documents are not Ignition configs. */
static const char *not_ignition(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (len - i >= 13 && !strncmp(buf + i, "#cloud-config", 13))
		return "this is a cloud-config, not an Ignition config";
	if (len >= 2 && buf[0] == '#' && buf[1] == '!')
		return "this is a script, not an Ignition config";
	if ((len - i >= 13 && !strncasecmp(buf + i, "MIME-Version:", 13)) ||
	    (len - i >= 24 && !strncasecmp(buf + i, "Content-Type: multipart/", 24)))
		return "this is a MIME multipart document, not an Ignition config";
	return NULL;
}

/* "X.Y.Z[-pre][+build]" as semver accepts it. */
static bool parse_semver(const char *s, long *maj, long *min, long *pat, const char **pre)
{
	long *parts[3] = { maj, min, pat };
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
			return false;
		char *end;
		*parts[i] = strtol(p, &end, 10);
		p = end;
		if (i < 2) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	*pre = NULL;
	if (*p == '-') {
		*pre = p + 1;
		if (!p[1])
			return false;
		while (*++p && *p != '+')
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return false;
	}
	if (*p == '+') {
		if (!p[1])
			return false;
		while (*++p)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return false;
	}
	return *p == 0;
}

static int detect_version(json_t *raw, int *ret, struct problem_list *l)
{
	json_t *ign = fjson_object_get_ci(raw, "ignition");
	json_t *ver = json_is_object(ign) ? fjson_object_get_ci(ign, "version") : NULL;
	long maj, min, pat;
	const char *pre;

	if (!ver || json_is_null(ver)) {
		json_t *v1 = fjson_object_get_ci(raw, "ignitionVersion");
		if (v1 && !json_is_null(v1))
		{
			(void)problem_add(l, -EINVAL, "/ignition/version",
					  "spec 1 configs (\"ignitionVersion\": 1) are not accepted: "
					  "this flatctl accepts " IGN_ACCEPTED_TEXT);
			(void)problem_set_hint(l, "convert it to spec 2.x or 3.x");
			return -EINVAL;
		}
		if (ign && !json_is_object(ign) && !json_is_null(ign))
			return problem_add(l, -EINVAL, "/ignition", "expected object, got %s",
					   json_is_array(ign) ? "array" : "a scalar");
	(void)problem_add(l, -EINVAL, "/ignition/version",
			  "ignition.version is missing: this flatctl accepts " IGN_ACCEPTED_TEXT);
	(void)problem_set_hint(l, "add \"ignition\": {\"version\": \"3.4.0\"}");
	return -EINVAL;
	}
	if (!json_is_string(ver))
		return problem_add(l, -EINVAL, "/ignition/version",
				   "expected string, got %s", json_is_integer(ver) ? "integer" : "other");
	const char *s = json_string_value(ver);
	if (!parse_semver(s, &maj, &min, &pat, &pre)) {
		(void)problem_add(l, -EINVAL, "/ignition/version",
				  "invalid config version (not a full semantic version): this flatctl "
				  "accepts " IGN_ACCEPTED_TEXT);
		char *t = fjson_dump_value(ver);
		(void)problem_set_value(l, t);
		free(t);
		if (strchr(s, '.') == strrchr(s, '.'))
			(void)problem_set_hint(l, "did you mean \"%s.0\"?", s);
		return -EINVAL;
	}
	if (pre) {
		(void)problem_add(l, -EINVAL, "/ignition/version",
				  "experimental config versions are not accepted: this flatctl accepts "
				  IGN_ACCEPTED_TEXT);
		char *t = fjson_dump_value(ver);
		(void)problem_set_value(l, t);
		free(t);
		return -EINVAL;
	}
	/* range first: the parts may be as large as strtol allows (found by fuzzing) */
	int v = maj >= 2 && maj <= 3 && min >= 0 && min <= 9 ? (int)(maj * 10 + min) : 0;
	if (pat != 0 || !v || (maj == 2 && v > IGN_V2_LAST) || (maj == 3 && v > IGN_V3_LAST)) {
		(void)problem_add(l, -EINVAL, "/ignition/version",
				  "unsupported config version \"%s\": this flatctl accepts "
				  IGN_ACCEPTED_TEXT, s);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int ign_config_parse(const char *buf, size_t len, struct ign_config **ret,
		     struct problem_list *reterr)
{
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	struct fjson_path path = {};
	const char *what;
	int r;

	if (len == 0)
		return problem_add(reterr, -ENODATA, "", "not a config: the input is empty");
	what = not_ignition(buf, len);
	if (!what && len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
		char *out = NULL;
		size_t on = 0;
		if (ign_gunzip(buf, len, IGN_MAX_CONFIG_SIZE, &out, &on) >= 0)
			what = not_ignition(out, on);
		free(out);
		if (!what)
			return problem_add(reterr, -EBADMSG, "",
					   "invalid JSON: the input is gzip-compressed");
	}
	if (what)
		return problem_add(reterr, -EMEDIUMTYPE, "", "%s", what);
	if (len > IGN_MAX_CONFIG_SIZE)
		return problem_add(reterr, -EFBIG, "", "config is larger than %u MiB",
				   IGN_MAX_CONFIG_SIZE >> 20);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = fjson_parse(buf, len, &c->raw, reterr);
	if (r < 0)
		return r;
	if (!json_is_object(c->raw))
		return problem_add(reterr, -EINVAL, "", "a config must be a JSON object, not %s",
				   json_is_array(c->raw) ? "an array" : "a scalar");
	r = detect_version(c->raw, &c->version, reterr);
	if (r < 0) {
		*ret = TAKE_PTR(c);
		return r;
	}

	json_t *doc = NULL;
	r = schema_normalize(c->raw, c->version, &path, &doc, reterr);
	fjson_path_release(&path);
	if (r == -ENOMEM) {
		json_decref(doc);
		return r;
	}
	bool bad = r < 0;
	if (c->version < IGN_V3_FIRST) {
		json_t *doc3 = NULL;
		c->translated_from = c->version;
		r = ign_translate_v2(doc, c->version, &doc3, reterr);
		json_decref(doc);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || bad) {
			json_decref(doc3);
			*ret = TAKE_PTR(c);
			return -EINVAL;
		}
		c->doc = doc3;
		r = ign_config_validate_full(c->doc, 31, true, reterr);
	} else {
		c->doc = doc;
		r = ign_config_validate(c->doc, c->version, reterr);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		bad = true;
	*ret = TAKE_PTR(c);
	return bad ? -EINVAL : 0;
}

int ign_problems_locate(const char *buf, size_t len, struct problem_list *l)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < l->n; i++)
		n += l->item[i].line == 0 && l->item[i].where;
	if (!n)
		return 0;
	_cleanup_free_ const char **ptrs = calloc(n, sizeof(char *));
	_cleanup_free_ size_t *idx = calloc(n, sizeof(size_t));
	_cleanup_free_ unsigned *lines = calloc(n, sizeof(unsigned));
	_cleanup_free_ unsigned *cols = calloc(n, sizeof(unsigned));
	if (!ptrs || !idx || !lines || !cols)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->item[i].line == 0 && l->item[i].where) {
			idx[n] = i;
			ptrs[n++] = l->item[i].where;
		}
	r = fjson_locate(buf, len, ptrs, n, lines, cols);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++) {
		l->item[idx[k]].line = lines[k];
		l->item[idx[k]].column = cols[k];
	}
	return 0;
}
