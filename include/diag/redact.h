/* SPDX-License-Identifier: MIT */
/* include/diag/redact.h - the one redaction filter every text of a support bundle passes
 * through (docs/diag.md §5): private keys, secret assignments, URL credentials and query
 * secrets, HTTP authorization, password hashes, long data: URLs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct dbuf;

/* State carried from line to line of one item: a PEM private key spans lines. */
struct diag_redact {
	bool in_pem;
	unsigned count; /* replacements made so far in this item */
};

/* Redact one line (without its newline) into out. Returns false when the whole line is dropped
 * (it lies inside a private key block already replaced by the marker line): then nothing was
 * appended. */
bool diag_redact_line(struct diag_redact *st, const char *line, size_t n, struct dbuf *out);

/* Redact a text of n bytes line by line into out, newlines kept (a dropped line loses its
 * newline too). Returns the replacements made by this call. */
unsigned diag_redact_text(struct diag_redact *st, const char *text, size_t n, struct dbuf *out);

/* True when NAME (n bytes) names a secret: it contains, case-insensitively, password, passwd,
 * secret, token, apikey, api_key, private_key, privatekey, preshared or credential, or equals
 * key or auth. */
bool diag_secret_name(const char *name, size_t n);
