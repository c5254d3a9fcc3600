/* SPDX-License-Identifier: MIT */
/* lib/omaha/request-parse.c - Omaha v3 request parser for `update serve`; docs/update.md 4.2
 * (what a client sends), 4.4 (events). Unknown elements and attributes are ignored, as servers
 * do; what the answer depends on (appid, version, track) is only copied here and judged by the
 * caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "omaha/request-parse.h"
#include "util/problem.h"

static void event_release(struct omaha_request_event *e)
{
	free(e->eventtype);
	free(e->eventresult);
	free(e->errorcode);
	free(e->previousversion);
}

static void app_release(struct omaha_request_app *a)
{
	free(a->appid);
	free(a->version);
	free(a->track);
	free(a->bootid);
	free(a->machineid);
	free(a->machinealias);
	free(a->oem);
	free(a->oemversion);
	free(a->alephversion);
	free(a->board);
	for (size_t i = 0; i < a->n_events; i++)
		event_release(&a->events[i]);
	free(a->events);
}

struct omaha_request *omaha_request_free(struct omaha_request *r)
{
	if (!r)
		return NULL;
	free(r->protocol);
	free(r->version);
	free(r->installsource);
	free(r->os_platform);
	free(r->os_version);
	free(r->os_sp);
	for (size_t i = 0; i < r->n_apps; i++)
		app_release(&r->apps[i]);
	free(r->apps);
	free(r);
	return NULL;
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name);
}

/* Copies attribute `name` of n into *ret (NULL when absent). -EINVAL (with a problem) when it is
 * longer than OMAHA_REQUEST_ATTR_MAX, -ENOMEM. */
static int attr(const xmlNode *n, const char *where, const char *name, char **ret,
		struct problem_list *reterr)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	*ret = NULL;
	if (!v)
		return 0;
	size_t len = strlen((const char *)v);
	if (len > OMAHA_REQUEST_ATTR_MAX) {
		xmlFree(v);
		return problem_add(reterr, -EINVAL, where, "attribute %s is longer than %u bytes",
				   name, OMAHA_REQUEST_ATTR_MAX);
	}
	*ret = strdup((const char *)v);
	xmlFree(v);
	return *ret ? 0 : -ENOMEM;
}

#define ATTR(n, where, name, field)                                  \
	do {                                                         \
		int r_ = attr((n), (where), (name), &(field), reterr); \
		if (r_ < 0)                                          \
			return r_;                                   \
	} while (0)

static int parse_event(const xmlNode *n, const char *where, struct omaha_request_event *e,
		       struct problem_list *reterr)
{
	ATTR(n, where, "eventtype", e->eventtype);
	ATTR(n, where, "eventresult", e->eventresult);
	ATTR(n, where, "errorcode", e->errorcode);
	ATTR(n, where, "previousversion", e->previousversion);
	return 0;
}

static int parse_app(const xmlNode *n, size_t idx, struct omaha_request_app *a,
		     struct problem_list *reterr)
{
	char where[64];
	(void)snprintf(where, sizeof(where), "/request/app[%zu]", idx + 1);

	ATTR(n, where, "appid", a->appid);
	ATTR(n, where, "version", a->version);
	ATTR(n, where, "track", a->track);
	ATTR(n, where, "bootid", a->bootid);
	ATTR(n, where, "machineid", a->machineid);
	ATTR(n, where, "machinealias", a->machinealias);
	ATTR(n, where, "oem", a->oem);
	ATTR(n, where, "oemversion", a->oemversion);
	ATTR(n, where, "alephversion", a->alephversion);
	ATTR(n, where, "board", a->board);
	if (!a->appid || !*a->appid)
		return problem_add(reterr, -EINVAL, where, "app has no appid");

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (is_elem(c, "ping"))
			a->ping = true;
		else if (is_elem(c, "updatecheck"))
			a->updatecheck = true;
		else if (is_elem(c, "event")) {
			char ew[96];
			if (a->n_events >= OMAHA_REQUEST_EVENTS_MAX)
				return problem_add(reterr, -EINVAL, where,
						   "more than %u events in one app",
						   OMAHA_REQUEST_EVENTS_MAX);
			struct omaha_request_event *e = reallocarray(a->events, a->n_events + 1,
								     sizeof(*e));
			if (!e)
				return -ENOMEM;
			a->events = e;
			e = &a->events[a->n_events++];
			*e = (struct omaha_request_event){};
			(void)snprintf(ew, sizeof(ew), "%s/event[%zu]", where, a->n_events);
			int r = parse_event(c, ew, e, reterr);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int omaha_request_parse(const void *buf, size_t size, struct omaha_request **ret,
			struct problem_list *reterr)
{
	_cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
	int r = omaha_xml_read(buf, size, OMAHA_REQUEST_MAX, "Omaha request", &doc, reterr);
	if (r < 0)
		return r;

	const xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "request"))
		return problem_add(reterr, -EINVAL, "/", "root element is <%s>, not <request>",
				   root ? (const char *)root->name : "");

	_cleanup_(omaha_request_freep) struct omaha_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	ATTR(root, "/request", "protocol", req->protocol);
	ATTR(root, "/request", "version", req->version);
	ATTR(root, "/request", "installsource", req->installsource);
	if (!req->protocol || strncmp(req->protocol, "3.", 2) != 0)
		return problem_add(reterr, -EINVAL, "/request", "protocol is not 3.x");

	for (const xmlNode *n = root->children; n; n = n->next) {
		if (is_elem(n, "os") && !req->os_platform && !req->os_version && !req->os_sp) {
			ATTR(n, "/request/os", "platform", req->os_platform);
			ATTR(n, "/request/os", "version", req->os_version);
			ATTR(n, "/request/os", "sp", req->os_sp);
			continue;
		}
		if (!is_elem(n, "app"))
			continue;
		if (req->n_apps >= OMAHA_REQUEST_APPS_MAX)
			return problem_add(reterr, -EINVAL, "/request", "more than %u apps",
					   OMAHA_REQUEST_APPS_MAX);
		struct omaha_request_app *a = reallocarray(req->apps, req->n_apps + 1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		req->apps = a;
		a = &req->apps[req->n_apps];
		*a = (struct omaha_request_app){};
		req->n_apps++;
		r = parse_app(n, req->n_apps - 1, a, reterr);
		if (r < 0)
			return r;
	}
	if (req->n_apps == 0)
		return problem_add(reterr, -EINVAL, "/request", "request has no app");
	*ret = TAKE_PTR(req);
	return 0;
}
