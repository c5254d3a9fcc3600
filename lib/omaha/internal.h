/* SPDX-License-Identifier: MIT */
/* lib/omaha/internal.h - what the Omaha parsers share: one hardened libxml2 entry point. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/cleanup.h"

struct problem_list;

DEFINE_CLEANUP(xmlDoc, xmlFreeDoc)

/* Parses an Omaha document (request or response; `what` names it in messages) of at most `max`
 * bytes. Refused before libxml2 sees a byte: too large (-EFBIG), empty or holding a NUL byte
 * (-EBADMSG; NUL is how UTF-16/32 would hide markup), "<!DOCTYPE" or "<!ENTITY" anywhere
 * (-EINVAL). libxml2 then runs with XML_PARSE_NONET and without entity substitution, DTD loading
 * or XInclude; a document that is not well-formed is one problem "line L: <reason>" (-EBADMSG),
 * one that still has a DTD is -EINVAL. *ret is set on success only. */
int omaha_xml_read(const void *buf, size_t size, size_t max, const char *what, xmlDoc **ret,
		   struct problem_list *reterr);

/* Writes s escaped for an XML attribute value (below). */
void omaha_xml_escape(FILE *f, const char *s);
/* Writes ` name="value"`, the value escaped for an XML attribute: markup characters as entities,
 * tab, newline and carriage return as character references, other control characters dropped,
 * bytes that are not valid UTF-8 (and U+FFFE, U+FFFF) as U+FFFD, so that the document stays
 * well-formed whatever the value holds. Requests and the answers of `update serve` both use it. */
void omaha_xml_attr(FILE *f, const char *name, const char *value);
