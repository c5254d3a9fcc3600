/* SPDX-License-Identifier: MIT */
/* lib/diag/redact.c - redaction of bundle text (docs/diag.md §5).
 *
 * Each line goes through the rules in a fixed order, each rule reading the previous rule's
 * output: private key blocks, data: URLs, URL userinfo and query parameters, HTTP
 * authorization, password hashes, and last the NAME=value / NAME: value / NAME value
 * assignments. A replaced value never reaches the output; a value that is already a marker is
 * not counted twice. The rules prefer false positives: a redacted harmless value costs a
 * question, a leaked secret cannot be taken back. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "diag/redact.h"

#define MARK "[REDACTED]"
#define MARK_KEY "[REDACTED private key]"
#define MARK_HASH "[REDACTED hash]"

static const char *ci_find(const char *s, size_t n, const char *needle)
{
	size_t l = strlen(needle);
	if (l == 0 || l > n)
		return NULL;
	for (size_t i = 0; i + l <= n; i++)
		if (strncasecmp(s + i, needle, l) == 0)
			return s + i;
	return NULL;
}

static const char *find(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle));
}

static bool is_marker_at(const char *s, size_t n)
{
	return n >= 9 && memcmp(s, "[REDACTED", 9) == 0;
}

bool diag_secret_name(const char *name, size_t n)
{
	static const char *const parts[] = { "password", "passwd",	"secret",      "token",
					     "apikey",	 "api_key",	"api-key",     "private_key",
					     "privatekey", "private-key", "preshared", "credential" };
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (ci_find(name, n, parts[i]))
			return true;
	return (n == 3 && strncasecmp(name, "key", 3) == 0) ||
	       (n == 4 && strncasecmp(name, "auth", 4) == 0);
}

static bool header_is_sensitive(const char *h, size_t n)
{
	static const char *const names[] = { "authorization", "proxy-authorization", "cookie",
					     "set-cookie", "x-api-key" };
	if (diag_secret_name(h, n) || (n >= 6 && strncasecmp(h, "x-auth", 6) == 0))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (n == strlen(names[i]) && strncasecmp(h, names[i], n) == 0)
			return true;
	return false;
}

/* ---- private keys ---- */

static bool pem_body_line(const char *s, size_t n)
{
	static const char *const headers[] = { "Proc-Type:", "DEK-Info:", "Comment:" };
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++)
		if (n >= strlen(headers[i]) && strncasecmp(s, headers[i], strlen(headers[i])) == 0)
			return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '+' && c != '/' && c != '=' && !isspace(c) && c != '\\')
			return false;
	}
	return true;
}

/* A log line ("Oct 16 07:33:28 host app[108]: MIIEvQ...") whose message is key material. */
static bool pem_body_after_prefix(const char *s, size_t n)
{
	for (size_t i = n; i-- > 1;)
		if (s[i] == ' ' && s[i - 1] == ':')
			return i + 1 < n && pem_body_line(s + i + 1, n - i - 1);
	return false;
}

/* The end of an "-----END ...-----" marker starting at e (or NULL). */
static const char *pem_end_marker(const char *e, const char *lim)
{
	const char *close = find(e + 8, (size_t)(lim - (e + 8)), "-----");
	return close ? close + 5 : NULL;
}

static bool pem_begin(const char *s, size_t n, const char **ret_begin)
{
	const char *b = find(s, n, "-----BEGIN");
	if (!b)
		return false;
	const char *nl = b + 10;
	size_t rest = n - (size_t)(nl - s);
	const char *pk = find(nl, rest, "PRIVATE KEY");
	if (!pk)
		return false;
	*ret_begin = b;
	return true;
}

/* Rule 1 on one line: returns false when the line is dropped. */
static bool rule_pem(struct diag_redact *st, const char *s, size_t n, struct dbuf *out)
{
	const char *lim = s + n;

	if (st->in_pem) {
		const char *e = find(s, n, "-----END");
		if (e) {
			const char *after = pem_end_marker(e, lim);
			st->in_pem = false;
			if (!after || after == lim)
				return false;
			s = after;
			n = (size_t)(lim - after);
		} else if (pem_body_line(s, n) || pem_body_after_prefix(s, n))
			return false;
		else
			st->in_pem = false; /* not key material: the block ended without its marker */
	}
	for (;;) {
		const char *b;
		if (!pem_begin(s, n, &b)) {
			dbuf_append(out, s, n);
			return true;
		}
		dbuf_append(out, s, (size_t)(b - s));
		dbuf_puts(out, MARK_KEY);
		st->count++;
		const char *e = find(b + 10, (size_t)(lim - (b + 10)), "-----END");
		const char *after = e ? pem_end_marker(e, lim) : NULL;
		if (!after) {
			st->in_pem = true;
			return true;
		}
		s = after;
		n = (size_t)(lim - after);
	}
}

/* ---- URLs ---- */

static bool url_end_char(unsigned char c)
{
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\' ||
	       c == 0x7f;
}

/* Rule: data: URLs longer than 64 characters. */
static unsigned rule_data_url(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	size_t i = 0, emitted = 0;

	while (i + 5 <= n) {
		if (strncasecmp(s + i, "data:", 5) != 0 || (i > 0 && isalnum((unsigned char)s[i - 1]))) {
			i++;
			continue;
		}
		size_t e = i + 5;
		while (e < n && !url_end_char((unsigned char)s[e]))
			e++;
		if (e - i > 64 && !is_marker_at(s + i + 5, e - i - 5)) {
			dbuf_append(out, s + emitted, i + 5 - emitted);
			dbuf_printf(out, "[REDACTED %zu bytes]", e - i - 5);
			emitted = e;
			count++;
		}
		i = e;
	}
	dbuf_append(out, s + emitted, n - emitted);
	return count;
}

static bool query_secret(const char *name, size_t n)
{
	static const char *const names[] = { "token",	  "access_token",    "key",
					     "sig",	  "signature",	     "password",
					     "secret",	  "x-amz-signature", "x-amz-credential",
					     "x-amz-security-token" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (n == strlen(names[i]) && strncasecmp(name, names[i], n) == 0)
			return true;
	return diag_secret_name(name, n);
}

/* One URL s[0..n): userinfo and secret query values replaced. */
static unsigned redact_url(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	const char *sep = find(s, n, "://");
	size_t i = (size_t)(sep - s) + 3;
	size_t auth_end = i;

	while (auth_end < n && s[auth_end] != '/' && s[auth_end] != '?' && s[auth_end] != '#')
		auth_end++;
	const char *at = memrchr(s + i, '@', auth_end - i);
	dbuf_append(out, s, i);
	if (at && !is_marker_at(s + i, (size_t)(at - (s + i)))) {
		dbuf_puts(out, MARK);
		count++;
		i = (size_t)(at - s);
	}
	const char *q = memchr(s + i, '?', n - i);
	if (!q) {
		dbuf_append(out, s + i, n - i);
		return count;
	}
	size_t p = (size_t)(q - s) + 1;
	dbuf_append(out, s + i, p - i);
	while (p < n) {
		size_t e = p;
		while (e < n && s[e] != '&' && s[e] != ';' && s[e] != '#')
			e++;
		const char *eq = memchr(s + p, '=', e - p);
		if (eq && query_secret(s + p, (size_t)(eq - (s + p))) && eq + 1 < s + e &&
		    !is_marker_at(eq + 1, (size_t)(s + e - (eq + 1)))) {
			dbuf_append(out, s + p, (size_t)(eq + 1 - (s + p)));
			dbuf_puts(out, MARK);
			count++;
		} else
			dbuf_append(out, s + p, e - p);
		if (e < n && s[e] == '#') {
			dbuf_append(out, s + e, n - e);
			return count;
		}
		if (e < n)
			dbuf_putc(out, s[e]);
		p = e + 1;
	}
	return count;
}

static unsigned rule_urls(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	size_t emitted = 0, i = 0;

	while (i + 3 <= n) {
		const char *sep = find(s + i, n - i, "://");
		if (!sep)
			break;
		size_t at = (size_t)(sep - s);
		size_t b = at;
		while (b > emitted && (isalnum((unsigned char)s[b - 1]) || s[b - 1] == '+' ||
				       s[b - 1] == '.' || s[b - 1] == '-'))
			b--;
		size_t e = at + 3;
		while (e < n && !url_end_char((unsigned char)s[e]))
			e++;
		if (b == at) {
			i = at + 3;
			continue;
		}
		dbuf_append(out, s + emitted, b - emitted);
		count += redact_url(s + b, e - b, out);
		emitted = i = e;
	}
	dbuf_append(out, s + emitted, n - emitted);
	return count;
}

/* ---- HTTP authorization ---- */

static bool token_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' ||
	       c == '-';
}

/* The end of a value starting at v: a quoted string, up to `until` (a quote that opened before
 * the name), or the end of the line. *ret_start skips an opening quote. */
static size_t value_end(const char *s, size_t n, size_t v, char until, size_t *ret_start)
{
	if (v < n && (s[v] == '"' || s[v] == '\'')) {
		char q = s[v];
		size_t e = v + 1;
		while (e < n && s[e] != q) {
			if (s[e] == '\\' && e + 1 < n)
				e++;
			e++;
		}
		*ret_start = v + 1;
		return e > n ? n : e;
	}
	*ret_start = v;
	if (until) {
		const char *q = memchr(s + v, until, n - v);
		return q ? (size_t)(q - s) : n;
	}
	return n;
}

static unsigned rule_http_auth(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	size_t emitted = 0, i = 0;

	while (i < n) {
		const char *a = ci_find(s + i, n - i, "authorization");
		const char *be = ci_find(s + i, n - i, "bearer ");
		const char *ba = ci_find(s + i, n - i, "basic ");
		const char *first = a;
		if (be && (!first || be < first))
			first = be;
		if (ba && (!first || ba < first))
			first = ba;
		if (!first)
			break;
		size_t p = (size_t)(first - s);
		if (first == a) {
			size_t k = p + 13;
			char until = 0;
			size_t name_start = p;
			if (name_start >= 6 && strncasecmp(s + name_start - 6, "proxy-", 6) == 0)
				name_start -= 6;
			if (name_start > 0 && (s[name_start - 1] == '"' || s[name_start - 1] == '\'')) {
				until = s[name_start - 1];
				if (k < n && s[k] == until) {
					k++;
					until = 0;
				}
			}
			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			if (k >= n || (s[k] != ':' && s[k] != '=')) {
				i = p + 13;
				continue;
			}
			k++;
			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			size_t vs, ve = value_end(s, n, k, until, &vs);
			if (ve > vs && !is_marker_at(s + vs, ve - vs)) {
				dbuf_append(out, s + emitted, vs - emitted);
				dbuf_puts(out, MARK);
				count++;
				emitted = ve;
			}
			i = ve > p + 13 ? ve : p + 13;
			continue;
		}
		bool bearer = first == be;
		size_t k = p + (bearer ? 7 : 6);
		if (p > 0 && isalnum((unsigned char)s[p - 1])) {
			i = k;
			continue;
		}
		while (k < n && s[k] == ' ')
			k++;
		size_t e = k;
		bool strong = false;
		while (e < n && token_char((unsigned char)s[e])) {
			if (isdigit((unsigned char)s[e]) || s[e] == '+' || s[e] == '/' || s[e] == '=')
				strong = true;
			e++;
		}
		if (e - k >= 8 && (bearer || strong)) {
			dbuf_append(out, s + emitted, k - emitted);
			dbuf_puts(out, MARK);
			count++;
			emitted = e;
		}
		i = e > k ? e : k;
	}
	dbuf_append(out, s + emitted, n - emitted);
	return count;
}

/* ---- password hashes ---- */

static bool hash_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '/' || c == '$' || c == '=' || c == ',' || c == '+' ||
	       c == '-';
}

/* Length of a crypt(3) prefix ("$6$", "$2b$", "$argon2id$") at s, or 0. */
static size_t crypt_prefix(const char *s, size_t n)
{
	static const char *const ids[] = { "$1$",  "$5$",  "$6$",  "$y$",  "$gy$", "$7$",
					   "$2a$", "$2b$", "$2y$", "$sha1$", "$md5$" };
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		size_t l = strlen(ids[i]);
		if (n >= l && memcmp(s, ids[i], l) == 0)
			return l;
	}
	if (n > 8 && memcmp(s, "$argon2", 7) == 0) {
		size_t k = 7;
		while (k < n && islower((unsigned char)s[k]))
			k++;
		if (k < n && s[k] == '$')
			return k + 1;
	}
	return 0;
}

static unsigned rule_hashes(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	size_t emitted = 0, i = 0;

	while (i < n) {
		size_t l = 0, e = i;
		if (s[i] == '$' && (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
		    (l = crypt_prefix(s + i, n - i)) > 0) {
			e = i + l;
			while (e < n && hash_char((unsigned char)s[e]))
				e++;
			if (e - i - l < 8)
				e = i;
		} else if ((s[i] == 'g' || s[i] == 'G') && n - i > 12 &&
			   strncasecmp(s + i, "grub.pbkdf2.", 12) == 0) {
			e = i + 12;
			while (e < n && (isalnum((unsigned char)s[e]) || s[e] == '.'))
				e++;
		}
		if (e > i) {
			dbuf_append(out, s + emitted, i - emitted);
			dbuf_puts(out, MARK_HASH);
			count++;
			emitted = i = e;
			continue;
		}
		i++;
	}
	dbuf_append(out, s + emitted, n - emitted);
	return count;
}

/* ---- shadow(5) lines ---- */

/* "name:HASH:lastchg:min:max:warn:inactive:expire:" -> the second field replaced, whatever its
 * format, unless it is a lock marker ("*", "!", "!!", "x") or empty. */
static unsigned rule_shadow(const char *s, size_t n, struct dbuf *out)
{
	size_t f[9], k = 0;
	for (size_t i = 0; i < n && k < 9; i++)
		if (s[i] == ':')
			f[k++] = i;
	bool shadow = k == 8 && f[0] > 0 && !memchr(s, ' ', f[0]) && !memchr(s + f[1], ' ', n - f[1]);
	for (size_t j = 1; shadow && j < 7; j++)
		for (size_t i = f[j] + 1; i < f[j + 1]; i++)
			if (!isdigit((unsigned char)s[i]))
				shadow = false;
	size_t hs = shadow ? f[0] + 1 : 0, he = shadow ? f[1] : 0;
	if (!shadow || he == hs || is_marker_at(s + hs, he - hs) ||
	    strspn(s + hs, "*!x") == he - hs) {
		dbuf_append(out, s, n);
		return 0;
	}
	dbuf_append(out, s, hs);
	dbuf_puts(out, MARK_HASH);
	dbuf_append(out, s + he, n - he);
	return 1;
}

/* ---- assignments ---- */

static bool name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* The rest of a line is one word (trailing blanks aside). */
static bool single_token(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]))
			return false;
	return n > 0;
}

static unsigned rule_assignments(const char *s, size_t n, struct dbuf *out)
{
	unsigned count = 0;
	size_t emitted = 0, i = 0;
	bool first_token = true, header_pending = false;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (!name_char(c) || (i > 0 && name_char((unsigned char)s[i - 1]))) {
			if (!isspace(c) && c != '"' && c != '\'')
				first_token = false;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && name_char((unsigned char)s[j]))
			j++;
		char open = i > 0 && (s[i - 1] == '"' || s[i - 1] == '\'') ? s[i - 1] : 0;
		size_t k = j;
		bool name_closed = false;
		if (open && k < n && s[k] == open) {
			k++;
			name_closed = true;
		}
		size_t k2 = k;
		while (k2 < n && (s[k2] == ' ' || s[k2] == '\t'))
			k2++;
		int sep = 0;
		size_t v = k2;
		if (k2 < n && (s[k2] == '=' || s[k2] == ':') &&
		    !(s[k2] == ':' && k2 + 1 < n && (s[k2 + 1] == '/' || s[k2 + 1] == ':')) &&
		    !(s[k2] == '=' && k2 + 1 < n && s[k2 + 1] == '=')) {
			sep = s[k2];
			v = k2 + 1;
			while (v < n && (s[v] == ' ' || s[v] == '\t'))
				v++;
		} else if (first_token && !open && k2 > k && k2 < n && single_token(s + k2, n - k2))
			sep = ' '; /* "NAME value" only as a line of its own: "token sent to x" is prose */
		first_token = false;
		if (!sep) {
			i = j;
			continue;
		}
		size_t vs, ve = value_end(s, n, v, open && !name_closed ? open : 0, &vs);
		bool is_value_key = j - i == 5 && strncasecmp(s + i, "value", 5) == 0;
		if ((diag_secret_name(s + i, j - i) || (header_pending && is_value_key)) && ve > vs &&
		    !is_marker_at(s + vs, ve - vs)) {
			dbuf_append(out, s + emitted, vs - emitted);
			dbuf_puts(out, MARK);
			count++;
			emitted = ve;
			header_pending = false;
			i = ve;
			continue;
		}
		if (j - i == 4 && strncasecmp(s + i, "name", 4) == 0 && sep != ' ')
			header_pending = ve > vs && header_is_sensitive(s + vs, ve - vs);
		i = j;
	}
	dbuf_append(out, s + emitted, n - emitted);
	return count;
}

/* ---- driver ---- */

typedef unsigned (*rule_fn)(const char *s, size_t n, struct dbuf *out);

bool diag_redact_line(struct diag_redact *st, const char *line, size_t n, struct dbuf *out)
{
	static const rule_fn rules[] = { rule_data_url, rule_urls, rule_http_auth, rule_hashes,
					 rule_shadow, rule_assignments };
	struct dbuf a = {}, b = {};

	if (!rule_pem(st, line, n, &a)) {
		dbuf_release(&a);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		dbuf_reset(&b);
		st->count += rules[i](a.p ? a.p : "", a.n, &b);
		struct dbuf t = a;
		a = b;
		b = t;
	}
	if (a.oom)
		out->oom = true;
	else
		dbuf_append(out, a.p ? a.p : "", a.n);
	dbuf_release(&a);
	dbuf_release(&b);
	return true;
}

unsigned diag_redact_text(struct diag_redact *st, const char *text, size_t n, struct dbuf *out)
{
	unsigned before = st->count;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - text) : n;
		if (diag_redact_line(st, text + i, e - i, out) && nl)
			dbuf_putc(out, '\n');
		i = nl ? e + 1 : n;
	}
	return st->count - before;
}
