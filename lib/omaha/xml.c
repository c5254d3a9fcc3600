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
