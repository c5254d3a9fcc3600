/* SPDX-License-Identifier: MIT */
/* lib/omaha/xml.c - the one libxml2 entry point of the Omaha parsers (response and request);
 * docs/update.md 4.3: from memory, no network, no entity substitution, no DOCTYPE.
 *
 * Hardening: the size is checked before libxml2 sees a byte; a document holding "<!DOCTYPE" or
 * "<!ENTITY" anywhere, or a NUL byte, is refused before parsing, and parsed documents are checked
 * again for any DTD. libxml2 runs with XML_PARSE_NONET, without XML_PARSE_NOENT/DTDLOAD/DTDATTR/
 * XINCLUDE, and with its error printing switched off. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "util/escape.h"
#include "util/problem.h"

DEFINE_CLEANUP(xmlParserCtxt, xmlFreeParserCtxt)

_printf_(5, 6) static int problem_addv_at(struct problem_list *l, int error, int line, int column,
					  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = problem_addv(l, PROBLEM_ERROR, error, NULL, line > 0 ? (unsigned)line : 0,
			     column > 0 ? (unsigned)column : 0, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int omaha_xml_read(const void *buf, size_t size, size_t max, const char *what, xmlDoc **ret,
		   struct problem_list *reterr)
{
	if (size > max)
		return problem_add(reterr, -EFBIG, NULL, "%s too large (more than %zu bytes)", what,
				   max);
	if (size == 0)
		return problem_add(reterr, -EBADMSG, NULL, "line 1: empty document");
	if (memchr(buf, 0, size))
		return problem_add(reterr, -EBADMSG, NULL, "line 1: NUL byte in document");
	if (memmem(buf, size, "<!DOCTYPE", 9) || memmem(buf, size, "<!ENTITY", 8))
		return problem_add(reterr, -EINVAL, NULL, "DOCTYPE not allowed");

	_cleanup_(xmlFreeParserCtxtp) xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	_cleanup_(xmlFreeDocp) xmlDoc *doc = xmlCtxtReadMemory(
		ctxt, buf, (int)size, "omaha.xml", "UTF-8",
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[256] = "unknown error";
		if (e && e->message) {
			(void)snprintf(msg, sizeof(msg), "%s", e->message);
			size_t n = strlen(msg);
			while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = 0;
		}
		return problem_addv_at(reterr, -EBADMSG, e ? e->line : 0, e ? e->int2 : 0,
				       "line %d: %s", e ? e->line : 0, msg);
	}
	if (doc->intSubset || doc->extSubset)
		return problem_add(reterr, -EINVAL, NULL, "DOCTYPE not allowed");
	*ret = TAKE_PTR(doc);
	return 0;
}

/* XML attribute value escaping; control characters other than tab/newline are dropped (XML 1.0
 * cannot carry them), tab and newline become character references so they survive
 * attribute-value normalisation. A byte that is not valid UTF-8, and the non-characters U+FFFE
 * and U+FFFF (not XML Chars either), become U+FFFD: the document stays well-formed whatever a
 * release file or update.conf holds (found by tests/fuzz/fuzz-omaha-request.c). */
void omaha_xml_escape(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		unsigned char c = *u;
		if (c >= 0x80) {
			size_t l = utf8_len(u, n - i);
			if (l == 0 || (l == 3 && u[0] == 0xef && u[1] == 0xbf && u[2] >= 0xbe)) {
				fputs("\xef\xbf\xbd", f);
				i += l ? l - 1 : 0;
			} else {
				fwrite(u, 1, l, f);
				i += l - 1;
			}
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\t': fputs("&#x9;", f); break;
		case '\n': fputs("&#xA;", f); break;
		case '\r': fputs("&#xD;", f); break;
		default:
			if (c >= 0x20 && c != 0x7f)
				fputc(c, f);
		}
	}
}

void omaha_xml_attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	omaha_xml_escape(f, value);
	fputc('"', f);
}
