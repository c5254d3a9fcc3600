/* SPDX-License-Identifier: MIT */
/* tests/unit/test-ignition-json.c - lib/json: pointers, display paths, positions, duplicates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/fjson.h"
#include "tap.h"
#include "util/problem.h"

TEST(path_builder_escapes)
{
	struct fjson_path p = {};
	(void)fjson_path_push_key(&p, "storage");
	size_t a = fjson_path_push_key(&p, "a/b~c");
	ASSERT_STREQ(fjson_path_str(&p), "/storage/a~1b~0c");
	fjson_path_pop(&p, a);
	fjson_path_push_index(&p, 12);
	ASSERT_STREQ(fjson_path_str(&p), "/storage/12");
	fjson_path_release(&p);
	ASSERT_STREQ(fjson_path_str(&p), "");
}

TEST(pointer_get_and_display)
{
	json_auto_t *d = json_loads("{\"a\":[{\"b c\":1,\"x/y\":2}],\"7\":{\"k\":3}}", 0, NULL);
	ASSERT_NOT_NULL(d);
	ASSERT_EQ(json_integer_value(fjson_pointer_get(d, "/a/0/b c")), 1);
	ASSERT_EQ(json_integer_value(fjson_pointer_get(d, "/a/0/x~1y")), 2);
	ASSERT_NULL(fjson_pointer_get(d, "/a/1"));
	ASSERT_TRUE(fjson_pointer_get(d, "") == d);
	_cleanup_free_ char *s1 = fjson_pointer_to_display(d, "/a/0/b c");
	ASSERT_STREQ(s1, "$.a[0][\"b c\"]");
	_cleanup_free_ char *s2 = fjson_pointer_to_display(d, "/7/k");
	ASSERT_STREQ(s2, "$[\"7\"].k");
	_cleanup_free_ char *s3 = fjson_pointer_to_display(d, "");
	ASSERT_STREQ(s3, "$");
	_cleanup_free_ char *s4 = fjson_pointer_to_display(NULL, "/files/2/path");
	ASSERT_STREQ(s4, "$.files[2].path");
}

TEST(locate_positions_case_insensitive_and_ancestors)
{
	static const char t[] = "{\n  \"Storage\": {\n    \"files\": [\n      {\"pa\\u0074h\": 1},\n"
				"      {\"x\": \"\\u00e9\", \"mode\": 2}\n    ]\n  }\n}";
	const char *ptrs[] = { "/storage/files/0/path", "/storage/files/1/mode",
			       "/storage/files/1/missing", "/nope", "" };
	unsigned l[5], c[5];
	ASSERT_OK(fjson_locate(t, strlen(t), ptrs, 5, l, c));
	ASSERT_EQ(l[0], 4);
	ASSERT_EQ(c[0], 8);
	ASSERT_EQ(l[1], 5);
	ASSERT_EQ(c[1], 23);
	ASSERT_EQ(l[2], 5); /* nearest ancestor: the array element */
	ASSERT_EQ(c[2], 7);
	ASSERT_EQ(l[3], 1); /* the document */
	ASSERT_EQ(l[4], 1);
	ASSERT_EQ(c[4], 1);
}

TEST(parse_rejects_bom_trailing_and_reports_nested_duplicates)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	json_t *v = NULL;
	ASSERT_ERR(fjson_parse("\xef\xbb\xbf{}", 5, &v, &pl), EBADMSG);
	ASSERT_ERR(fjson_parse("{} x", 4, &v, &pl), EBADMSG);
	ASSERT_EQ(pl.n, 2);
	problem_list_release(&pl);
	static const char t[] = "{\"a\":{\"b\":1,\"b\":2},\"c\":[{\"d\":1,\"d\":2}],\"a\":{}}";
	ASSERT_OK(fjson_parse(t, strlen(t), &v, &pl));
	ASSERT_EQ(pl.n, 3);
	ASSERT_STREQ(pl.item[0].where, "/a/b");
	ASSERT_STREQ(pl.item[1].where, "/c/0/d");
	ASSERT_STREQ(pl.item[2].where, "/a");
	ASSERT_EQ(json_object_size(json_object_get(v, "a")), 0); /* the last one wins */
	json_decref(v);
}
