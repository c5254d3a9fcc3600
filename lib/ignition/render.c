/* SPDX-License-Identifier: MIT */
/* lib/ignition/render.c - resolve ignition.config.replace and merge recursively (provision.md
 * section 3 "Rendering"): depth first, child over parent, with depth and count limits. The
 * ignition section rendered so far (timeouts, CAs, proxy) governs the next fetch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "schema.h"
#include "util/problem.h"

struct render {
	const struct ign_fetcher *f;
	struct problem_list *l;
	unsigned count;
};

static int render_doc(struct render *r, json_t *doc, unsigned depth, const char *where,
		      json_t **ret);

/* Fetch, parse and render the config a resource names; problems at where. */
static int fetch_child(struct render *r, json_t *current, json_t *res, unsigned depth,
		       const char *where, json_t **ret)
{
	struct ign_fetcher f = *r->f;
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	int k;

	if (depth >= IGN_MAX_DEPTH)
		return problem_add(r->l, -ELOOP, where,
				   "configs nest deeper than %d levels (a merge or replace loop?)",
				   IGN_MAX_DEPTH);
	if (++r->count > IGN_MAX_CONFIGS)
		return problem_add(r->l, -E2BIG, where, "more than %d referenced configs",
				   IGN_MAX_CONFIGS);
	f.ignition = json_object_get(current, "ignition");
	f.max_size = IGN_MAX_CONFIG_SIZE;
	k = ign_resource_fetch(&f, res, where, &text, &n, r->l);
	if (k < 0)
		return k;

	_cleanup_(problem_list_release) struct problem_list child = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	k = ign_config_parse(text, n, &c, &child);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		size_t ne = problem_count(&child, PROBLEM_ERROR);
		struct problem *first = NULL;
		for (size_t i = 0; i < child.n && !first; i++)
			if (child.item[i].severity == PROBLEM_ERROR)
				first = &child.item[i];
		_cleanup_free_ char *disp =
			first ? fjson_pointer_to_display(c ? c->raw : NULL, first->where ? first->where : "")
			      : NULL;
		return problem_add(r->l, -EINVAL, where,
				   "the referenced config is invalid: %zu error%s, first at %s: %s", ne,
				   ne == 1 ? "" : "s", disp ? disp : "$",
				   first ? first->message : "unknown");
	}
	return render_doc(r, c->doc, depth + 1, where, ret);
}

static int render_doc(struct render *r, json_t *doc, unsigned depth, const char *where,
		      json_t **ret)
{
	json_t *cfg = json_object_get(json_object_get(doc, "ignition"), "config");
	json_t *rep = json_object_get(cfg, "replace");
	char w[4096];
	int k;

	if (rep && jstr(rep, "source")) {
		snprintf(w, sizeof(w), "%s/ignition/config/replace", where);
		return fetch_child(r, doc, rep, depth, w, ret);
	}
	json_auto_t *cur = json_deep_copy(doc);
	if (!cur)
		return -ENOMEM;
	json_t *merges = json_object_get(cfg, "merge");
	size_t i;
	json_t *m;
	int bad = 0;
	json_array_foreach(merges, i, m) {
		json_t *child = NULL, *merged = NULL;
		snprintf(w, sizeof(w), "%s/ignition/config/merge/%zu", where, i);
		k = fetch_child(r, cur, m, depth, w, &child);
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			bad = k;
			continue;
		}
		json_t *cign = json_object_get(child, "ignition");
		if (cign)
			(void)json_object_del(cign, "config");
		k = ign_config_merge(cur, child, &merged);
		json_decref(child);
		if (k < 0)
			return k;
		json_decref(cur);
		cur = merged;
	}
	if (bad)
		return bad;
	json_t *ign = json_object_get(cur, "ignition");
	if (ign) {
		(void)json_object_del(ign, "config");
		(void)json_object_set(ign, "version",
				      json_object_get(json_object_get(doc, "ignition"), "version"));
	}
	*ret = json_incref(cur);
	return 0;
}

int ign_config_render(const struct ign_fetcher *f, json_t *doc, json_t **ret,
		      struct problem_list *reterr)
{
	struct render r = { .f = f, .l = reterr };
	return render_doc(&r, doc, 0, "", ret);
}
