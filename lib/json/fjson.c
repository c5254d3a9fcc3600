/* SPDX-License-Identifier: MIT */
/* lib/json/fjson.c - jansson helpers: strict parsing with positions, JSON pointers, paths.
 *
 * jansson keeps no source positions per value. Instead of a position index built on every
 * parse (which would double the cost of the common, valid case), positions are found after
 * the fact: fjson_locate() re-scans the text once for all the pointers that problems name.
 * Duplicate keys are detected the same way: jansson is asked to reject them, and only when
 * it does is the document re-parsed leniently and scanned for the duplicates. */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/fjson.h"
#include "util/cleanup.h"
#include "util/problem.h"

static int _printf_(7, 8) addp(struct problem_list *l, enum problem_severity sev, int err,
				const char *where, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = problem_addv(l, sev, err, where, line, col, NULL, fmt, ap);
	va_end(ap);
	return r;
}

/* --- pointers ------------------------------------------------------------------------------ */

static bool path_reserve(struct fjson_path *p, size_t extra)
{
	if (p->oom)
		return false;
	if (p->len + extra + 1 <= p->cap)
		return true;
	size_t nc = p->cap ? p->cap : 64;
	while (nc < p->len + extra + 1)
		nc *= 2;
	char *b = realloc(p->buf, nc);
	if (!b) {
		p->oom = true;
		return false;
	}
	if (!p->buf)
		b[0] = 0;
	p->buf = b;
	p->cap = nc;
	return true;
}

size_t fjson_path_push_key(struct fjson_path *p, const char *key)
{
	size_t old = p->len, kl = strlen(key);

	if (!path_reserve(p, 2 * kl + 1))
		return old;
	p->buf[p->len++] = '/';
	for (const char *k = key; *k; k++) {
		if (*k == '~' || *k == '/') {
			p->buf[p->len++] = '~';
			p->buf[p->len++] = *k == '~' ? '0' : '1';
		} else
			p->buf[p->len++] = *k;
	}
	p->buf[p->len] = 0;
	return old;
}

size_t fjson_path_push_index(struct fjson_path *p, size_t i)
{
	size_t old = p->len;

	if (!path_reserve(p, 24))
		return old;
	p->len += (size_t)snprintf(p->buf + p->len, p->cap - p->len, "/%zu", i);
	return old;
}

void fjson_path_pop(struct fjson_path *p, size_t len)
{
	if (p->buf && len <= p->len) {
		p->len = len;
		p->buf[len] = 0;
	}
}

void fjson_path_release(struct fjson_path *p)
{
	free(p->buf);
	*p = (struct fjson_path){};
}

/* Next unescaped segment of ptr into seg (at most segsz-1 bytes). Returns the rest or NULL. */
static const char *next_segment(const char *ptr, char *seg, size_t segsz)
{
	size_t n = 0;

	if (*ptr != '/')
		return NULL;
	for (ptr++; *ptr && *ptr != '/'; ptr++) {
		char c = *ptr;
		if (c == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
			c = ptr[1] == '0' ? '~' : '/';
			ptr++;
		}
		if (n + 1 < segsz)
			seg[n++] = c;
	}
	seg[n] = 0;
	return ptr;
}

static bool parse_index(const char *s, size_t *ret)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*ret = (size_t)v;
	return true;
}

json_t *fjson_pointer_get(json_t *root, const char *ptr)
{
	char seg[1024];
	json_t *cur = root;

	while (cur && ptr && *ptr) {
		ptr = next_segment(ptr, seg, sizeof(seg));
		if (!ptr)
			return NULL;
		if (json_is_object(cur))
			cur = json_object_get(cur, seg);
		else if (json_is_array(cur)) {
			size_t i;
			cur = parse_index(seg, &i) ? json_array_get(cur, i) : NULL;
		} else
			return NULL;
	}
	return cur;
}

static bool is_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

char *fjson_pointer_to_display(json_t *doc, const char *ptr)
{
	char seg[1024];
	char *out = NULL;
	size_t outsz = 0;
	FILE *f = open_memstream(&out, &outsz);
	json_t *cur = doc;

	if (!f)
		return NULL;
	fputc('$', f);
	while (ptr && *ptr) {
		ptr = next_segment(ptr, seg, sizeof(seg));
		if (!ptr)
			break;
		size_t i;
		bool arr = cur ? json_is_array(cur) : parse_index(seg, &i);
		if (arr && parse_index(seg, &i)) {
			fprintf(f, "[%s]", seg);
			cur = cur ? json_array_get(cur, i) : NULL;
			continue;
		}
		if (is_ident(seg))
			fprintf(f, ".%s", seg);
		else {
			json_t *s = json_string(seg);
			char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
			fprintf(f, "[%s]", q ? q : "\"?\"");
			free(q);
			json_decref(s);
		}
		cur = cur && json_is_object(cur) ? fjson_object_get_ci(cur, seg) : NULL;
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

json_t *fjson_object_get_ci(json_t *obj, const char *key)
{
	const char *k;
	json_t *v, *found = NULL;

	if (!json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	if (v)
		return v;
	json_object_foreach(obj, k, v)
		if (strcasecmp(k, key) == 0)
			found = v; /* the last one wins, as in Go */
	return found;
}

char *fjson_dump_value(const json_t *v)
{
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* --- the scanner ---------------------------------------------------------------------------- */

struct scan {
	const char *p, *end;
	unsigned line;
	const char *line_start;
	struct fjson_path path;
	bool fold;              /* lowercase keys in the path */
	/* locate mode */
	json_t *wanted;         /* pointer -> integer slot (index into pos) */
	unsigned *pos_line, *pos_col;
	/* duplicate mode */
	struct problem_list *dups;
	int depth;
};

static unsigned scan_col(const struct scan *s, const char *at)
{
	unsigned c = 1;
	for (const char *q = s->line_start; q < at; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			c++;
	return c;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '\n') {
			s->line++;
			s->line_start = s->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r')
			return;
		s->p++;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(char **o, uint32_t cp)
{
	char *q = *o;
	if (cp < 0x80)
		*q++ = (char)cp;
	else if (cp < 0x800) {
		*q++ = (char)(0xc0 | (cp >> 6));
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*q++ = (char)(0xe0 | (cp >> 12));
		*q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*q++ = (char)(0xf0 | (cp >> 18));
		*q++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = q;
}

static uint32_t read_u4(const char *q)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(q[i]);
		v = (v << 4) | (uint32_t)(h < 0 ? 0 : h);
	}
	return v;
}

/* At an opening quote: skip the string; with ret, also return it unescaped (malloc'd). */
static int scan_string(struct scan *s, char **ret)
{
	const char *start = ++s->p;
	bool esc = false;

	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\') {
			esc = true;
			s->p++;
		}
		s->p++;
	}
	if (s->p >= s->end)
		return -EBADMSG;
	size_t n = (size_t)(s->p - start);
	s->p++;
	if (!ret)
		return 0;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return -ENOMEM;
	if (!esc) {
		memcpy(out, start, n);
		out[n] = 0;
	} else {
		for (const char *q = start; q < start + n; q++) {
			if (*q != '\\') {
				*o++ = *q;
				continue;
			}
			q++;
			switch (*q) {
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'u': {
				if (q + 4 >= start + n + 1)
					break;
				uint32_t cp = read_u4(q + 1);
				q += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && q + 6 < start + n + 1 && q[1] == '\\' &&
				    q[2] == 'u') {
					uint32_t lo = read_u4(q + 3);
					if (lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						q += 6;
					}
				}
				put_utf8(&o, cp ? cp : 0xfffd);
				break;
			}
			default: *o++ = *q; break;
			}
		}
		*o = 0;
	}
	*ret = out;
	return 0;
}

static void scan_hit(struct scan *s, const char *at)
{
	if (!s->wanted)
		return;
	json_t *slot = json_object_get(s->wanted, fjson_path_str(&s->path));
	if (!slot)
		return;
	size_t i = (size_t)json_integer_value(slot);
	s->pos_line[i] = s->line;
	s->pos_col[i] = scan_col(s, at);
}

static int scan_value(struct scan *s);

static int scan_object(struct scan *s)
{
	_cleanup_(json_decrefp) json_t *seen = s->dups ? json_object() : NULL;
	int r;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return -EBADMSG;
		const char *kpos = s->p;
		unsigned kline = s->line;
		_cleanup_free_ char *key = NULL;
		r = scan_string(s, &key);
		if (r < 0)
			return r;
		if (s->fold)
			for (char *k = key; *k; k++)
				*k = (char)tolower((unsigned char)*k);
		size_t old = fjson_path_push_key(&s->path, key);
		scan_hit(s, kpos);
		if (seen) {
			if (json_object_get(seen, key)) {
				(void)addp(s->dups, PROBLEM_WARNING, 0, fjson_path_str(&s->path), kline,
					   scan_col(s, kpos), "duplicate key \"%s\": the last one wins",
					   key);
			} else
				(void)json_object_set_new(seen, key, json_true());
		}
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -EBADMSG;
		s->p++;
		skip_ws(s);
		r = scan_value(s);
		fjson_path_pop(&s->path, old);
		if (r < 0)
			return r;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return 0;
		}
		return -EBADMSG;
	}
}

static int scan_array(struct scan *s)
{
	size_t i = 0;
	int r;

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;; i++) {
		skip_ws(s);
		size_t old = fjson_path_push_index(&s->path, i);
		scan_hit(s, s->p);
		r = scan_value(s);
		fjson_path_pop(&s->path, old);
		if (r < 0)
			return r;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return -EBADMSG;
	}
}

static int scan_value(struct scan *s)
{
	int r;

	skip_ws(s);
	if (s->p >= s->end)
		return -EBADMSG;
	if (++s->depth > 4096)
		return -EBADMSG;
	switch (*s->p) {
	case '{':
		r = scan_object(s);
		break;
	case '[':
		r = scan_array(s);
		break;
	case '"':
		r = scan_string(s, NULL);
		break;
	default:
		while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
			s->p++;
		r = 0;
	}
	s->depth--;
	return r;
}

static int scan_run(struct scan *s)
{
	skip_ws(s);
	scan_hit(s, s->p);
	return scan_value(s);
}

int fjson_locate(const char *buf, size_t len, const char *const *ptrs, size_t n, unsigned *lines,
		 unsigned *cols)
{
	_cleanup_(json_decrefp) json_t *wanted = json_object();
	_cleanup_free_ unsigned *pl = NULL, *pc = NULL;
	size_t nslots = 0, cap = 0;
	int r;

	if (!wanted)
		return -ENOMEM;
	/* Every pointer and all its ancestors get a slot; each problem later takes the deepest. */
	_cleanup_free_ size_t *first = calloc(n ? n : 1, sizeof(size_t));
	if (!first)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *lc = strdup(ptrs[i] ? ptrs[i] : "");
		if (!lc)
			return -ENOMEM;
		for (char *c = lc; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (char *end = lc + strlen(lc);;) {
			*end = 0;
			if (!json_object_get(wanted, lc)) {
				r = json_object_set_new(wanted, lc, json_integer((json_int_t)nslots++));
				if (r < 0)
					return -ENOMEM;
			}
			if (end == lc)
				break;
			end = strrchr(lc, '/');
		}
		(void)cap;
	}
	pl = calloc(nslots ? nslots : 1, sizeof(unsigned));
	pc = calloc(nslots ? nslots : 1, sizeof(unsigned));
	if (!pl || !pc)
		return -ENOMEM;

	struct scan s = { .p = buf, .end = buf + len, .line = 1, .line_start = buf, .fold = true,
			  .wanted = wanted, .pos_line = pl, .pos_col = pc };
	if (!path_reserve(&s.path, 64))
		return -ENOMEM;
	r = scan_run(&s);
	fjson_path_release(&s.path);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *lc = strdup(ptrs[i] ? ptrs[i] : "");
		lines[i] = cols[i] = 0;
		if (!lc)
			return -ENOMEM;
		for (char *c = lc; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (char *end = lc + strlen(lc);;) {
			*end = 0;
			json_t *slot = json_object_get(wanted, lc);
			size_t k = slot ? (size_t)json_integer_value(slot) : 0;
			if (slot && pl[k]) {
				lines[i] = pl[k];
				cols[i] = pc[k];
				break;
			}
			if (end == lc)
				break;
			end = strrchr(lc, '/');
		}
	}
	return 0;
}

/* --- parsing ------------------------------------------------------------------------------- */

int fjson_parse(const char *buf, size_t len, json_t **ret, struct problem_list *reterr)
{
	json_error_t e;
	json_t *v;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		return addp(reterr, PROBLEM_ERROR, -EBADMSG, "", 1, 1,
			    "invalid JSON: byte order mark (BOM) at the start");
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	if (!v && json_error_code(&e) == json_error_duplicate_key) {
		v = json_loadb(buf, len, 0, &e);
		if (v && reterr) {
			struct scan s = { .p = buf, .end = buf + len, .line = 1, .line_start = buf,
					  .dups = reterr };
			(void)scan_run(&s);
			fjson_path_release(&s.path);
		}
	}
	if (!v) {
		if (json_error_code(&e) == json_error_out_of_memory)
			return -ENOMEM;
		return addp(reterr, PROBLEM_ERROR, -EBADMSG, "", e.line > 0 ? (unsigned)e.line : 1,
			    e.column > 0 ? (unsigned)e.column : 1, "invalid JSON: %s", e.text);
	}
	*ret = v;
	return 0;
}
