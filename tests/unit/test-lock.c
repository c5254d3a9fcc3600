/* SPDX-License-Identifier: MIT */
/* tests/unit/test-lock.c - semaphore value, admission rule, ids, escaping, durations, window
 * grammar, update.conf and update state parsing (docs/reboot-lock.md 1, 7). */
#include <stdlib.h>
#include <time.h>

#include "etcd/etcd.h"
#include "conf/conf.h"
#include "lock/reboot.h"
#include "lock/sem.h"
#include "lock/window.h"
#include "tap.h"

static int parse(const char *s, struct lock_sem *ret, struct problem_list *p)
{
	return lock_sem_parse(s, strlen(s), ret, p);
}

TEST(sem_parse_and_format_roundtrip)
{
	struct lock_sem s;
	_cleanup_free_ char *out = NULL;
	ASSERT_OK(parse("{\"semaphore\":1,\"max\":3,\"holders\":[\"a\",\"b\"]}", &s, NULL));
	ASSERT_EQ(s.max, 3);
	ASSERT_EQ(s.n_holders, 2);
	ASSERT_OK(lock_sem_format(&s, &out));
	ASSERT_STREQ(out, "{\"semaphore\":1,\"max\":3,\"holders\":[\"a\",\"b\"]}");
	lock_sem_release(&s);
}

TEST(sem_corrupt_values)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"max\":1,\"holders\":[]}", "{\"semaphore\":1,\"holders\":[]}",
		"{\"semaphore\":1,\"max\":-1,\"holders\":[]}", "{\"semaphore\":1,\"max\":\"1\",\"holders\":[]}",
		"{\"semaphore\":1.5,\"max\":1,\"holders\":[]}", "{\"semaphore\":1,\"max\":1}",
		"{\"semaphore\":1,\"max\":1,\"holders\":{}}", "{\"semaphore\":1,\"max\":1,\"holders\":[1]}",
		"{\"semaphore\":1,\"max\":2,\"holders\":[\"a\",\"a\"]}",
		"{\"semaphore\":1,\"max\":2,\"holders\":[\"\"]}",
		"{\"semaphore\":1,\"max\":2,\"holders\":[\"a b\"]}",
		"{\"semaphore\":1,\"max\":1,\"max\":2,\"holders\":[]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_(problem_list_release) struct problem_list p = {};
		struct lock_sem s = {};
		if (parse(bad[i], &s, &p) != -EUCLEAN)
			TAP_FAIL_("accepted corrupt value %s", bad[i]);
		ASSERT_TRUE(problem_has_errors(&p));
	}
}

TEST(sem_problem_locations)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct lock_sem s;
	ASSERT_ERR(parse("{\"semaphore\":1,\"max\":1,\"holders\":[\"ok\",7]}", &s, &p), EUCLEAN);
	ASSERT_STREQ(p.item[0].where, "/holders/1");
	problem_list_release(&p);
	ASSERT_ERR(parse("{\"semaphore\":1,\n \"max\":}", &s, &p), EUCLEAN);
	ASSERT_EQ(p.item[0].line, 2);
	ASSERT_TRUE(p.item[0].column > 0);
}

TEST(sem_tolerated_and_normalised)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *out = NULL;
	struct lock_sem s;
	ASSERT_OK(parse("{\"x\":true,\"semaphore\":9,\"max\":3,\"holders\":[\"c\",\"a\"]}", &s, &p));
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 2);
	ASSERT_STREQ(s.holders[0], "a");
	ASSERT_OK(lock_sem_format(&s, &out));
	ASSERT_STREQ(out, "{\"semaphore\":1,\"max\":3,\"holders\":[\"a\",\"c\"],\"x\":true}");
	lock_sem_release(&s);
	free(out);
	out = NULL;
	ASSERT_OK(parse("{\"semaphore\":1,\"max\":1,\"holders\":null}", &s, NULL));
	ASSERT_OK(lock_sem_format(&s, &out));
	ASSERT_STREQ(out, "{\"semaphore\":1,\"max\":1,\"holders\":[]}");
	lock_sem_release(&s);
}

TEST(admission_needs_count_and_semaphore)
{
	struct lock_sem s;
	/* stale semaphore 5 with max 1 and one holder: count says full */
	ASSERT_OK(parse("{\"semaphore\":5,\"max\":1,\"holders\":[\"a\"]}", &s, NULL));
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_LOCK, "b", 0), LOCK_FULL);
	lock_sem_release(&s);
	/* stored semaphore 0 although the count has room: locksmith would refuse, so do we */
	ASSERT_OK(parse("{\"semaphore\":0,\"max\":3,\"holders\":[\"a\"]}", &s, NULL));
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_LOCK, "b", 0), LOCK_FULL);
	lock_sem_release(&s);
	ASSERT_OK(parse("{\"semaphore\":2,\"max\":3,\"holders\":[\"a\"]}", &s, NULL));
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_LOCK, "a", 0), LOCK_ALREADY_HELD);
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_LOCK, "0", 0), LOCK_DO_WRITE);
	ASSERT_STREQ(s.holders[0], "0");
	ASSERT_EQ(s.semaphore, 1);
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_UNLOCK, "zz", 0), LOCK_NOT_HOLDER);
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_UNLOCK, "0", 0), LOCK_DO_WRITE);
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_SET_MAX, NULL, 0), LOCK_DO_WRITE);
	ASSERT_EQ(s.semaphore, -1);
	ASSERT_EQ(s.n_holders, 1);
	ASSERT_EQ(lock_sem_decide(&s, LOCK_OP_LOCK, "b", 0), LOCK_FULL);
	lock_sem_release(&s);
}

TEST(default_value)
{
	struct lock_sem s;
	_cleanup_free_ char *out = NULL;
	lock_sem_init_default(&s);
	ASSERT_OK(lock_sem_format(&s, &out));
	ASSERT_STREQ(out, "{\"semaphore\":1,\"max\":1,\"holders\":[]}");
}

TEST(ids_and_groups)
{
	char long_id[300];
	memset(long_id, 'a', 256);
	long_id[256] = 0;
	ASSERT_TRUE(lock_id_is_valid("4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1"));
	ASSERT_FALSE(lock_id_is_valid(""));
	ASSERT_FALSE(lock_id_is_valid("a b"));
	ASSERT_FALSE(lock_id_is_valid("\x7f"));
	ASSERT_FALSE(lock_id_is_valid(long_id));
	long_id[255] = 0;
	ASSERT_TRUE(lock_id_is_valid(long_id));
	ASSERT_TRUE(lock_group_is_valid(""));
	ASSERT_TRUE(lock_group_is_valid("\xc3\xbc"));
	ASSERT_FALSE(lock_group_is_valid("\xc3"));
	ASSERT_FALSE(lock_group_is_valid("\xed\xa0\x80"));
}

TEST(query_escape_matches_go)
{
	static const char *const cases[][2] = {
		{ "lb pool/1", "lb+pool%2F1" }, { "a+b", "a%2Bb" },	  { "x%y", "x%25y" },
		{ "A:B@c", "A%3AB%40c" },	{ "\xc3\xbc", "%C3%BC" }, { "a~b_c.d-e", "a~b_c.d-e" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *o = NULL;
		ASSERT_OK(lock_query_escape(cases[i][0], &o));
		ASSERT_STREQ(o, cases[i][1]);
	}
}

TEST(durations)
{
	uint64_t u;
	ASSERT_OK(lock_parse_duration("500ms", &u));
	ASSERT_U64_EQ(u, 500000);
	ASSERT_OK(lock_parse_duration("1h30m", &u));
	ASSERT_U64_EQ(u, 5400000000ULL);
	ASSERT_OK(lock_parse_duration("1.5h", &u));
	ASSERT_U64_EQ(u, 5400000000ULL);
	ASSERT_OK(lock_parse_duration("90", &u));
	ASSERT_U64_EQ(u, 90000000);
	ASSERT_OK(lock_parse_duration("2\xc2\xb5s", &u));
	ASSERT_U64_EQ(u, 2);
	ASSERT_OK(lock_parse_duration("0", &u));
	ASSERT_U64_EQ(u, 0);
	ASSERT_ERR(lock_parse_duration("-1h", &u), EINVAL);
	ASSERT_ERR(lock_parse_duration("1 hour", &u), EINVAL);
	ASSERT_ERR(lock_parse_duration("h", &u), EINVAL);
	ASSERT_ERR(lock_parse_duration("1.2.3s", &u), EINVAL);
	ASSERT_ERR(lock_parse_duration("", &u), EINVAL);
	ASSERT_ERR(lock_parse_duration("5x", &u), EINVAL);
}

static time_t at(int y, int mo, int d, int h, int mi)
{
	struct tm t = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_isdst = -1 };
	return mktime(&t);
}

TEST(window_grammar_and_checks)
{
	struct reboot_window w;
	bool in;
	time_t s, e;
	setenv("TZ", "UTC", 1);
	tzset();
	ASSERT_ERR(reboot_window_parse(NULL, NULL, &w, NULL), ENOENT);
	ASSERT_ERR(reboot_window_parse("04:00", NULL, &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse(NULL, "1h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("24:00", "1h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("12:60", "1h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("Thursday 04:00", "1h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("thu04:00", "1h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("Thu 04:00", "168h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("04:00", "24h", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("04:00", "0", &w, NULL), EINVAL);
	ASSERT_ERR(reboot_window_parse("004:00", "1h", &w, NULL), EINVAL);
	ASSERT_OK(reboot_window_parse("Thu 04:00", "167h59m", &w, NULL));
	ASSERT_OK(reboot_window_parse(" sun 22:00 ", "6h", &w, NULL));
	ASSERT_EQ(w.wday, 0);
	/* 2026-11-30 is a Monday */
	ASSERT_OK(reboot_window_check(&w, at(2026, 11, 30, 3, 59), &in, &s, &e));
	ASSERT_TRUE(in);
	ASSERT_EQ(s, at(2026, 11, 29, 22, 0));
	ASSERT_OK(reboot_window_check(&w, at(2026, 11, 30, 4, 0), &in, &s, &e));
	ASSERT_FALSE(in);
	ASSERT_EQ(s, at(2026, 12, 6, 22, 0));
	ASSERT_OK(reboot_window_parse("23:30", "2h", &w, NULL));
	ASSERT_OK(reboot_window_check(&w, at(2026, 1, 1, 0, 0), &in, &s, &e));
	ASSERT_TRUE(in);
	ASSERT_EQ(e, at(2026, 1, 1, 1, 30));
	/* fuzz find: ".6ms" used to round down to an empty window */
	ASSERT_OK(reboot_window_parse("3:00", ".6ms", &w, NULL));
	ASSERT_OK(reboot_window_check(&w, at(2026, 1, 1, 3, 0), &in, &s, &e));
	ASSERT_TRUE(in);
	ASSERT_TRUE(e > s);
}

TEST(window_dst_gap_moves_forward)
{
	struct reboot_window w;
	bool in;
	time_t s, e;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	/* 2026-03-29 02:30 does not exist in Berlin: the start moves to 03:30 */
	ASSERT_OK(reboot_window_parse("02:30", "1h", &w, NULL));
	ASSERT_OK(reboot_window_check(&w, at(2026, 3, 29, 1, 0), &in, &s, &e));
	ASSERT_FALSE(in);
	struct tm t;
	localtime_r(&s, &t);
	ASSERT_EQ(t.tm_mday, 29);
	ASSERT_EQ(t.tm_hour, 3);
	ASSERT_EQ(t.tm_min, 30);
	setenv("TZ", "UTC", 1);
	tzset();
}

TEST(update_conf_syntax)
{
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	const char *text = "# comment\n  REBOOT_STRATEGY = \"etcd-lock\"  \nbad line\n"
			   "LOCKSMITHD_GROUP='lb'\n-X=1\nGROUP=beta\nGROUP=stable\n";
	ASSERT_EQ(conf_parse(&c, text, strlen(text), "/etc/flatcar/update.conf", &p), 2);
	const struct conf_entry *e = conf_get_entry(&c, "REBOOT_STRATEGY");
	ASSERT_TRUE(e != NULL);
	ASSERT_STREQ(e->value, "etcd-lock");
	ASSERT_STREQ(e->file, "/etc/flatcar/update.conf");
	ASSERT_STREQ(conf_get(&c, "LOCKSMITHD_GROUP"), "lb");
	ASSERT_STREQ(conf_get(&c, "GROUP"), "stable");
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 2);
}

TEST(update_state_file)
{
	bool need;
	_cleanup_free_ char *v = NULL;
	const char *s = "{\"schema\":1,\"status\":\"UPDATE_STATUS_UPDATED_NEED_REBOOT\","
			"\"staged\":{\"version\":\"4081.2.0\"}}";
	ASSERT_OK(lock_update_state_parse(s, strlen(s), &need, &v, NULL));
	ASSERT_TRUE(need);
	ASSERT_STREQ(v, "4081.2.0");
	free(v);
	v = NULL;
	s = "{\"status\":\"UPDATE_STATUS_IDLE\",\"staged\":null}";
	ASSERT_OK(lock_update_state_parse(s, strlen(s), &need, &v, NULL));
	ASSERT_FALSE(need);
	ASSERT_NULL(v);
	ASSERT_ERR(lock_update_state_parse("{\"status\":1}", 12, &need, &v, NULL), EBADMSG);
}

TEST(etcd_reply_parsing)
{
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	uint64_t rev = 0;
	bool ok = true;
	/* key "k", value "{}" in base64; numbers as strings; defaults omitted */
	const char *r = "{\"header\":{\"revision\":\"42\"},\"kvs\":[{\"key\":\"aw==\","
			"\"value\":\"e30=\",\"mod_revision\":\"41\",\"create_revision\":\"7\"}],"
			"\"count\":\"1\"}";
	ASSERT_OK(etcd_v3_parse_range(r, strlen(r), &kvs, &n, &rev, NULL));
	ASSERT_EQ(n, 1);
	ASSERT_EQ(rev, 42);
	ASSERT_STREQ(kvs[0].key, "k");
	ASSERT_STREQ(kvs[0].value, "{}");
	ASSERT_EQ(kvs[0].mod_revision, 41);
	etcd_kvs_free(kvs, n);
	r = "{\"header\":{\"revision\":\"3\"}}";
	ASSERT_OK(etcd_v3_parse_range(r, strlen(r), &kvs, &n, &rev, NULL));
	ASSERT_EQ(n, 0);
	ASSERT_OK(etcd_v3_parse_txn(r, strlen(r), &ok, NULL));
	ASSERT_FALSE(ok);
	r = "{\"header\":{},\"succeeded\":true}";
	ASSERT_OK(etcd_v3_parse_txn(r, strlen(r), &ok, NULL));
	ASSERT_TRUE(ok);
	r = "{\"kvs\":[{\"key\":\"!!\"}]}";
	ASSERT_ERR(etcd_v3_parse_range(r, strlen(r), &kvs, &n, &rev, NULL), EBADMSG);
	r = "404 page not found";
	ASSERT_ERR(etcd_v3_parse_txn(r, strlen(r), &ok, NULL), EBADMSG);
	int code = 0;
	_cleanup_free_ char *msg = NULL;
	r = "{\"error\":\"etcdserver: request timed out\",\"message\":\"etcdserver: request timed "
	    "out\",\"code\":14}";
	ASSERT_OK(etcd_parse_error(r, strlen(r), &code, &msg));
	ASSERT_EQ(code, 14);
	ASSERT_STREQ(msg, "etcdserver: request timed out");
	_cleanup_free_ char *val = NULL;
	r = "{\"action\":\"get\",\"node\":{\"key\":\"/k\",\"value\":\"x\",\"modifiedIndex\":6}}";
	ASSERT_OK(etcd_v2_parse_node(r, strlen(r), &val, &rev, NULL));
	ASSERT_STREQ(val, "x");
	ASSERT_EQ(rev, 6);
}
