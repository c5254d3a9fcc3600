/* SPDX-License-Identifier: MIT */
/* tests/unit/test-ignition-merge.c - Ignition's merge rules (provision.md section 3), and
 * rendering of merge/replace over data: URLs with its limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "tap.h"
#include "util/problem.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);
	if (!v)
		printf("# bad test JSON: %s\n", e.text);
	return v;
}

struct merge_case {
	const char *name, *parent, *child, *expect;
};

static const struct merge_case merges[] = {
	{ "child scalar wins",
	  "{\"ignition\":{\"timeouts\":{\"httpTotal\":5}}}",
	  "{\"ignition\":{\"timeouts\":{\"httpTotal\":9,\"httpResponseHeaders\":1}}}",
	  "{\"ignition\":{\"timeouts\":{\"httpTotal\":9,\"httpResponseHeaders\":1}}}" },
	{ "files merge by path, new ones appended",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":420},{\"path\":\"/b\"}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/c\"},{\"path\":\"/a\",\"contents\":{\"source\":\"data:,x\"}}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"mode\":420,\"contents\":{\"source\":\"data:,x\"}},{\"path\":\"/b\"},{\"path\":\"/c\"}]}}" },
	{ "a child directory replaces a parent file at the same path",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\"}]}}",
	  "{\"storage\":{\"directories\":[{\"path\":\"/a\"}]}}",
	  "{\"storage\":{\"files\":[],\"directories\":[{\"path\":\"/a\"}]}}" },
	{ "append fragments concatenate",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"append\":[{\"source\":\"data:,1\"}]}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"append\":[{\"source\":\"data:,1\"},{\"source\":\"data:,2\"}]}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"append\":[{\"source\":\"data:,1\"},{\"source\":\"data:,1\"},{\"source\":\"data:,2\"}]}]}}" },
	{ "a child header without value deletes the parent's",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"httpHeaders\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]}}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"httpHeaders\":[{\"name\":\"A\"},{\"name\":\"B\",\"value\":\"3\"}]}}]}}",
	  "{\"storage\":{\"files\":[{\"path\":\"/a\",\"contents\":{\"httpHeaders\":[{\"name\":\"B\",\"value\":\"3\"}]}}]}}" },
	{ "units and dropins by name",
	  "{\"systemd\":{\"units\":[{\"name\":\"a.service\",\"enabled\":true,\"dropins\":[{\"name\":\"x.conf\",\"contents\":\"1\"}]}]}}",
	  "{\"systemd\":{\"units\":[{\"name\":\"a.service\",\"mask\":true,\"dropins\":[{\"name\":\"x.conf\",\"contents\":\"2\"},{\"name\":\"y.conf\"}]}]}}",
	  "{\"systemd\":{\"units\":[{\"name\":\"a.service\",\"enabled\":true,\"mask\":true,\"dropins\":[{\"name\":\"x.conf\",\"contents\":\"2\"},{\"name\":\"y.conf\"}]}]}}" },
	{ "ssh keys are a set",
	  "{\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"k1\"]}]}}",
	  "{\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"k1\",\"k2\"]}]}}",
	  "{\"passwd\":{\"users\":[{\"name\":\"core\",\"sshAuthorizedKeys\":[\"k1\",\"k2\"]}]}}" },
	{ "filesystem options concatenate, entries by device",
	  "{\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"options\":[\"-m0\"]}]}}",
	  "{\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"options\":[\"-L\"],\"format\":\"ext4\"}]}}",
	  "{\"storage\":{\"filesystems\":[{\"device\":\"/dev/a\",\"options\":[\"-m0\",\"-L\"],\"format\":\"ext4\"}]}}" },
	{ "partitions by number, then label",
	  "{\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"sizeMiB\":5},{\"label\":\"x\"}]}]}}",
	  "{\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"sizeMiB\":9},{\"label\":\"x\",\"sizeMiB\":1}]}]}}",
	  "{\"storage\":{\"disks\":[{\"device\":\"/dev/a\",\"partitions\":[{\"number\":1,\"sizeMiB\":9},{\"label\":\"x\",\"sizeMiB\":1}]}]}}" },
	{ "kernel arguments share one key space",
	  "{\"kernelArguments\":{\"shouldExist\":[\"a\",\"b\"]}}",
	  "{\"kernelArguments\":{\"shouldNotExist\":[\"a\"]}}",
	  "{\"kernelArguments\":{\"shouldExist\":[\"b\"],\"shouldNotExist\":[\"a\"]}}" },
};

TEST(merge_rules)
{
	unsigned failures = 0;
	for (size_t i = 0; i < ARRAY_SIZE(merges); i++) {
		json_auto_t *p = J(merges[i].parent), *c = J(merges[i].child), *want = J(merges[i].expect);
		json_auto_t *got = NULL;
		ASSERT_NOT_NULL(p);
		ASSERT_NOT_NULL(c);
		ASSERT_NOT_NULL(want);
		ASSERT_OK(ign_config_merge(p, c, &got));
		if (!json_equal(got, want)) {
			_cleanup_free_ char *s = json_dumps(got, JSON_COMPACT);
			printf("# %s: got %s\n", merges[i].name, s);
			failures++;
		}
	}
	ASSERT_EQ(failures, 0);
}

TEST(render_merge_and_replace_over_data_urls)
{
	/* child {"ignition":{"version":"3.0.0"},"storage":{"files":[{"path":"/c"}]}} */
	static const char *child =
		"data:,%7B%22ignition%22%3A%7B%22version%22%3A%223.0.0%22%7D%2C%22storage%22%3A%7B"
		"%22files%22%3A%5B%7B%22path%22%3A%22%2Fc%22%7D%5D%7D%7D";
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"%s\"}]}},"
		 "\"storage\":{\"files\":[{\"path\":\"/p\"}]}}", child);
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	ASSERT_OK(ign_config_parse(text, strlen(text), &c, &pl));
	struct ign_fetcher f = { .root_fd = -1 };
	json_auto_t *out = NULL;
	ASSERT_OK(ign_config_render(&f, c->doc, &out, &pl));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(out, "/storage/files/0/path")), "/p");
	ASSERT_STREQ(json_string_value(fjson_pointer_get(out, "/storage/files/1/path")), "/c");
	ASSERT_NULL(fjson_pointer_get(out, "/ignition/config"));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(out, "/ignition/version")), "3.4.0");

	snprintf(text, sizeof(text),
		 "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"replace\":{\"source\":\"%s\"}}},"
		 "\"storage\":{\"files\":[{\"path\":\"/p\"}]}}", child);
	_cleanup_(ign_config_freep) struct ign_config *c2 = NULL;
	ASSERT_OK(ign_config_parse(text, strlen(text), &c2, &pl));
	json_auto_t *out2 = NULL;
	ASSERT_OK(ign_config_render(&f, c2->doc, &out2, &pl));
	ASSERT_STREQ(json_string_value(fjson_pointer_get(out2, "/storage/files/0/path")), "/c");
	ASSERT_NULL(fjson_pointer_get(out2, "/storage/files/1"));
}

TEST(render_bad_hash_and_unsupported_scheme)
{
	static const char text[] =
		"{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"data:,%7B%7D\","
		"\"verification\":{\"hash\":\"sha256-0000000000000000000000000000000000000000000000000000000000000000\"}},"
		"{\"source\":\"gs://bucket/object\"}]}}}";
	/* validate would refuse the data: hash already; render sees it at fetch time */
	_cleanup_(problem_list_release) struct problem_list pl = {};
	json_auto_t *doc = J(text);
	ASSERT_NOT_NULL(doc);
	struct ign_fetcher f = { .root_fd = -1 };
	json_auto_t *out = NULL;
	ASSERT_TRUE(ign_config_render(&f, doc, &out, &pl) < 0);
	ASSERT_EQ(pl.n, 2);
	ASSERT_STREQ(pl.item[0].where, "/ignition/config/merge/0");
	ASSERT_TRUE(strstr(pl.item[0].message, "hash mismatch") != NULL);
	ASSERT_STREQ(pl.item[1].where, "/ignition/config/merge/1");
	ASSERT_TRUE(strstr(pl.item[1].message, "not supported by this build") != NULL);
}
