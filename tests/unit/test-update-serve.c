/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-serve.c - the pure parts of `update serve` (docs/update.md 2.9): Range
 * headers, version order, the Omaha request parser against tests/data/omaha/ and hostile
 * documents, and answers built by omaha_response_build() read back by the client's parser. The
 * server itself runs end to end in tests/e2e/t0730-update-serve.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "omaha/request-parse.h"
#include "omaha/request.h"
#include "omaha/response-build.h"
#include "omaha/response.h"
#include "tap.h"
#include "update/serve.h"
#include "util/problem.h"

#define APPID "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"

static char *fixture(const char *name, size_t *ret_size)
{
	const char *src = getenv("FLATCTL_SRC");
	char p[1024];
	(void)snprintf(p, sizeof(p), "%.800s/tests/data/omaha/%.100s", src && *src ? src : ".",
		       name);
	FILE *f = fopen(p, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	*ret_size = n;
	return buf;
}

TEST(range_header_forms)
{
	static const struct {
		const char *h;
		uint64_t size;
		int r;
		uint64_t start, end;
	} t[] = {
		{ NULL, 100, 0, 0, 99 },
		{ "bytes=0-", 100, 1, 0, 99 },
		{ "bytes=10-", 100, 1, 10, 99 },
		{ "bytes=10-19", 100, 1, 10, 19 },
		{ "bytes=10-1000", 100, 1, 10, 99 },
		{ "bytes=99-99", 100, 1, 99, 99 },
		{ " bytes = 5-6 ", 100, 1, 5, 6 },
		{ "bytes=-10", 100, 1, 90, 99 },
		{ "bytes=-1000", 100, 1, 0, 99 },
		{ "bytes=100-", 100, -ERANGE, 0, 0 },
		{ "bytes=5-4", 100, -ERANGE, 0, 0 },
		{ "bytes=-0", 100, -ERANGE, 0, 0 },
		{ "bytes=abc", 100, -ERANGE, 0, 0 },
		{ "bytes=1-2x", 100, -ERANGE, 0, 0 },
		{ "bytes 1-2", 100, -ERANGE, 0, 0 },
		{ "bytes=99999999999999999999-", 100, -ERANGE, 0, 0 },
		{ "bytes=0-1,5-9", 100, 0, 0, 99 },
		{ "items=0-1", 100, 0, 0, 99 },
		{ "bytes=0-", 0, -ERANGE, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t s = 7, e = 7;
		int r = http_range_parse(t[i].h, t[i].size, &s, &e);
		if (r != t[i].r)
			printf("# '%s': %d, want %d\n", t[i].h ? t[i].h : "(null)", r, t[i].r);
		ASSERT_EQ(r, t[i].r);
		if (r >= 0) {
			ASSERT_U64_EQ(s, t[i].start);
			ASSERT_U64_EQ(e, t[i].end);
		}
	}
}

TEST(versions_compare_number_by_number)
{
	ASSERT_EQ(update_serve_version_compare("4081.2.0", "4081.2.0"), 0);
	ASSERT_EQ(update_serve_version_compare("3975.2.1", "4081.2.0"), -1);
	ASSERT_EQ(update_serve_version_compare("4081.10.0", "4081.2.0"), 1);
	ASSERT_EQ(update_serve_version_compare("4081.2.0", "4081.2"), 1);
	ASSERT_EQ(update_serve_version_compare("4081.02.0", "4081.2.0"), 0);
	ASSERT_EQ(update_serve_version_compare("9999.0.0+dev", "9999.0.0"), 1);
	ASSERT_EQ(update_serve_version_compare("", "1"), -1);
}

TEST(request_of_flatcar_update_engine)
{
	size_t n;
	_cleanup_free_ char *xml = fixture("request-update-engine-flatcar.xml", &n);
	_cleanup_(omaha_request_freep) struct omaha_request *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_TRUE(xml != NULL);
	ASSERT_OK(omaha_request_parse(xml, n, &r, &p));
	ASSERT_STREQ(r->installsource, "scheduler");
	ASSERT_EQ(r->n_apps, 1);
	ASSERT_STREQ(r->apps[0].version, "3815.2.5");
	ASSERT_STREQ(r->apps[0].track, "lts");
	ASSERT_TRUE(r->apps[0].ping && r->apps[0].updatecheck);
	ASSERT_EQ(r->apps[0].n_events, 1);
	ASSERT_STREQ(r->apps[0].events[0].eventtype, "3");
}

TEST(request_built_by_flatctl_reads_back)
{
	struct omaha_event ev[] = { omaha_event_rebooted("3975.2.1") };
	struct omaha_request_params prm = {
		.updater_version = "0.4.2", .source = OMAHA_SOURCE_ONDEMAND, .arch = "x86_64",
		.appid = APPID, .version = "4081.2.0", .track = "be\"ta<", .bootid = "b",
		.machineid = "{m1}", .machinealias = "a&b", .board = "amd64-usr",
		.ping = true, .updatecheck = true, .events = ev, .n_events = 1,
	};
	_cleanup_free_ char *xml = NULL;
	size_t n;
	_cleanup_(omaha_request_freep) struct omaha_request *r = NULL;
	ASSERT_OK(omaha_request_build(&prm, &xml, &n));
	ASSERT_OK(omaha_request_parse(xml, n, &r, NULL));
	ASSERT_STREQ(r->protocol, "3.0");
	ASSERT_STREQ(r->os_platform, "CoreOS");
	ASSERT_STREQ(r->apps[0].appid, APPID);
	ASSERT_STREQ(r->apps[0].track, "be\"ta<");
	ASSERT_STREQ(r->apps[0].machineid, "m1");
	ASSERT_STREQ(r->apps[0].machinealias, "a&b");
	ASSERT_STREQ(r->apps[0].bootid, "{b}");
	ASSERT_STREQ(r->apps[0].events[0].previousversion, "3975.2.1");
	ASSERT_NULL(r->apps[0].events[0].errorcode);
}

static int parse_str(const char *xml, const char **msg)
{
	static char last[256];
	_cleanup_(omaha_request_freep) struct omaha_request *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	int rr = omaha_request_parse(xml, strlen(xml), &r, &p);
	(void)snprintf(last, sizeof(last), "%s%s%s", p.n && p.item[0].where ? p.item[0].where : "",
		       p.n && p.item[0].where ? ": " : "", p.n ? p.item[0].message : "");
	*msg = last;
	return rr;
}

TEST(request_refusals)
{
	const char *m;
	ASSERT_EQ(parse_str("<request protocol=\"3.0\"><app appid=\"x\"/>", &m), -EBADMSG);
	ASSERT_EQ(parse_str("", &m), -EBADMSG);
	ASSERT_EQ(parse_str("<?xml version=\"1.0\"?><!DOCTYPE request [<!ENTITY a \"b\">]>"
			    "<request protocol=\"3.0\"><app appid=\"&a;\"/></request>", &m), -EINVAL);
	ASSERT_STREQ(m, "DOCTYPE not allowed");
	ASSERT_EQ(parse_str("<request protocol=\"3.0\"><app appid=\"&ext;\"/></request>", &m),
		  -EBADMSG);
	ASSERT_EQ(parse_str("<response protocol=\"3.0\"/>", &m), -EINVAL);
	ASSERT_STREQ(m, "/: root element is <response>, not <request>");
	ASSERT_EQ(parse_str("<request><app appid=\"x\"/></request>", &m), -EINVAL);
	ASSERT_STREQ(m, "/request: protocol is not 3.x");
	ASSERT_EQ(parse_str("<request protocol=\"3.0\"></request>", &m), -EINVAL);
	ASSERT_STREQ(m, "/request: request has no app");
	ASSERT_EQ(parse_str("<request protocol=\"3.0\"><app/><app appid=\"\"/></request>", &m),
		  -EINVAL);
	ASSERT_STREQ(m, "/request/app[1]: app has no appid");

	char big[4096] = "<request protocol=\"3.0\"><app appid=\"";
	memset(big + strlen(big), 'a', OMAHA_REQUEST_ATTR_MAX + 1);
	strcat(big, "\"/></request>");
	ASSERT_EQ(parse_str(big, &m), -EINVAL);
	ASSERT_STREQ(m, "/request/app[1]: attribute appid is longer than 1024 bytes");

	_cleanup_free_ char *many = calloc(1, 1 << 16);
	ASSERT_TRUE(many != NULL);
	strcpy(many, "<request protocol=\"3.0\">");
	for (int i = 0; i <= OMAHA_REQUEST_APPS_MAX; i++)
		strcat(many, "<app appid=\"x\"/>");
	strcat(many, "</request>");
	ASSERT_EQ(parse_str(many, &m), -EINVAL);
	ASSERT_STREQ(m, "/request: more than 16 apps");
	strcpy(many, "<request protocol=\"3.0\"><app appid=\"x\">");
	for (int i = 0; i <= OMAHA_REQUEST_EVENTS_MAX; i++)
		strcat(many, "<event eventtype=\"3\" eventresult=\"2\"/>");
	strcat(many, "</app></request>");
	ASSERT_EQ(parse_str(many, &m), -EINVAL);
	ASSERT_STREQ(m, "/request/app[1]: more than 64 events in one app");

	_cleanup_free_ char *huge = malloc(OMAHA_REQUEST_MAX + 2);
	ASSERT_TRUE(huge != NULL);
	memset(huge, ' ', OMAHA_REQUEST_MAX + 1);
	huge[OMAHA_REQUEST_MAX + 1] = 0;
	ASSERT_EQ(parse_str(huge, &m), -EFBIG);
}

TEST(answers_read_back_by_the_client)
{
	struct omaha_answer_package pk[2] = {
		{ .name = "flatcar_production_update.gz", .size = 478150731, .required = true },
		{ .name = "oem-qemu.gz", .size = 2282 },
	};
	for (int i = 0; i < 32; i++) {
		pk[0].sha256[i] = (uint8_t)i;
		pk[1].sha256[i] = (uint8_t)(0xff - i);
	}
	memset(pk[0].sha1, 0x11, 20);
	struct omaha_answer_app a[] = { {
		.appid = "E96281A6-D1AF-4BDE-9A0A-97B76E56DC57", .check = OMAHA_ANSWER_UPDATE,
		.ping = true, .n_events = 1, .poll_interval = 3600,
		.codebase = "http://h:8080/payloads/stable/", .version = "4081.2.0",
		.packages = pk, .n_packages = 2,
	} };
	_cleanup_free_ char *doc = NULL;
	size_t n;
	ASSERT_OK(omaha_response_build(NULL, a, 1, &doc, &n));
	ASSERT_EQ(n, strlen(doc));
	ASSERT_TRUE(strstr(doc, "server=\"flatctl\"") != NULL);
	ASSERT_TRUE(strstr(doc, " hash_sha256=\"000102030405") != NULL);
	ASSERT_TRUE(strstr(doc, "IsDeltaPayload=\"false\" DisablePayloadBackoff=\"true\"") != NULL);

	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(omaha_response_parse(doc, n, APPID, true, &r, &p));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 0);
	ASSERT_STREQ(r->version, "4081.2.0");
	ASSERT_EQ(r->poll_interval, 3600);
	ASSERT_EQ(r->n_packages, 2);
	ASSERT_U64_EQ(r->packages[0].size, 478150731);
	ASSERT_TRUE(r->packages[0].has_sha256 && r->packages[0].has_sha1);
	ASSERT_TRUE(memcmp(r->sha256, pk[0].sha256, 32) == 0);
	ASSERT_TRUE(memcmp(r->packages[1].sha256, pk[1].sha256, 32) == 0);
	ASSERT_TRUE(r->disable_payload_backoff);
	_cleanup_free_ char *url = omaha_response_payload_url(r, 0, 1);
	ASSERT_STREQ(url, "http://h:8080/payloads/stable/oem-qemu.gz");

	static const struct {
		enum omaha_answer_check check;
		const char *status;
		bool uc;
		enum omaha_outcome outcome;
	} t[] = {
		{ OMAHA_ANSWER_NOUPDATE, NULL, true, OMAHA_OUTCOME_NOUPDATE },
		{ OMAHA_ANSWER_ERROR, "error-updatesDisabled", true, OMAHA_OUTCOME_REFUSED },
		{ OMAHA_ANSWER_ERROR, "error-unknownApplicationOrGroup", true, OMAHA_OUTCOME_REFUSED },
		{ OMAHA_ANSWER_NO_CHECK, NULL, false, OMAHA_OUTCOME_NO_CHECK },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct omaha_answer_app b = { .appid = APPID, .check = t[i].check,
					      .status = t[i].status, .n_events = 2 };
		_cleanup_free_ char *d = NULL;
		_cleanup_(omaha_response_freep) struct omaha_response *rr = NULL;
		ASSERT_OK(omaha_response_build("nebraska", &b, 1, &d, &n));
		ASSERT_OK(omaha_response_parse(d, n, APPID, t[i].uc, &rr, NULL));
		ASSERT_EQ(rr->outcome, t[i].outcome);
		if (t[i].status)
			ASSERT_STREQ(rr->refusal, t[i].status);
	}
	struct omaha_answer_app bad = { .appid = APPID, .check = OMAHA_ANSWER_UPDATE };
	_cleanup_free_ char *d = NULL;
	ASSERT_ERR(omaha_response_build(NULL, &bad, 1, &d, &n), EINVAL);
	bad.check = OMAHA_ANSWER_ERROR;
	ASSERT_ERR(omaha_response_build(NULL, &bad, 1, &d, &n), EINVAL);
}
