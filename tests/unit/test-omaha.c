/* SPDX-License-Identifier: MIT */
/* tests/unit/test-omaha.c - Omaha request builder and response parser against the documents of
 * tests/data/omaha/ (one per dialect: Nebraska, update_engine, go-omaha, ChromeOS; see its
 * README.md), hostile and malformed documents, and a round trip through the loopback Omaha server
 * (tests/servers/omaha.py) with lib/http, including a resumed download. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "crypto/crypto.h"
#include "http/http.h"
#include "omaha/request.h"
#include "omaha/response.h"
#include "tap.h"
#include "util/problem.h"

#define APPID "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"

static const char *src_dir(void)
{
	const char *s = getenv("FLATCTL_SRC");
	return s && *s ? s : ".";
}

static char *fixture(const char *name, size_t *ret_size)
{
	char p[1024];
	(void)snprintf(p, sizeof(p), "%.800s/tests/data/omaha/%.100s", src_dir(), name);
	FILE *f = fopen(p, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	if (ret_size)
		*ret_size = n;
	return buf;
}

/* Parses tests/data/omaha/NAME as the answer for appid; -ENOENT when the file is missing. */
static int parse_fixture(const char *name, const char *appid, bool expect_uc,
			 struct omaha_response **ret, struct problem_list *p)
{
	size_t n;
	_cleanup_free_ char *xml = fixture(name, &n);
	if (!xml)
		return -ENOENT;
	return omaha_response_parse(xml, n, appid, expect_uc, ret, p);
}

static int parse_str(const char *xml, bool expect_uc, struct omaha_response **ret,
		     struct problem_list *p)
{
	return omaha_response_parse(xml, strlen(xml), APPID, expect_uc, ret, p);
}

/* ---- request ---------------------------------------------------------------------------------- */

static struct omaha_request_params example_params(void)
{
	return (struct omaha_request_params){
		.updater_version = "0.4.2",
		.source = OMAHA_SOURCE_ONDEMAND,
		.arch = "aarch64",
		.appid = APPID,
		.version = "4152.2.3",
		.track = "beta",
		.bootid = "5b7e2f19-8c40-4d3a-b6e1-0a9d4c27f385",
		.oem = "azure",
		.oemversion = "2.9.1",
		.alephversion = "3760.2.0",
		.machineid = "d41f0b6a93c24e7f8a15b2c6e09d7f31",
		.machinealias = "rack12-node4",
		.board = "arm64-usr",
		.ping = true,
		.updatecheck = true,
	};
}

TEST(request_matches_the_documented_request_byte_for_byte)
{
	_cleanup_free_ char *want = fixture("request-updatecheck.xml", NULL);
	ASSERT_NOT_NULL(want);
	struct omaha_request_params p = example_params();
	const struct omaha_event ev = omaha_event_neutral();
	p.events = &ev;
	p.n_events = 1;
	_cleanup_free_ char *xml = NULL;
	size_t n;
	ASSERT_OK(omaha_request_build(&p, &xml, &n));
	ASSERT_STREQ(xml, want);
	ASSERT_EQ(n, strlen(want));
}

TEST(request_events_and_bodies)
{
	struct omaha_request_params p = example_params();
	p.ping = p.updatecheck = false;
	p.source = OMAHA_SOURCE_SCHEDULER;
	p.bootid = "{ABC}";
	p.machineid = "{0123}";
	const struct omaha_event evs[] = {
		omaha_event_simple(OMAHA_EVENT_DOWNLOAD_STARTED, OMAHA_RESULT_SUCCESS),
		omaha_event_error(OMAHA_ERROR_PAYLOAD_HASH_MISMATCH),
		omaha_event_rollback(),
		omaha_event_rebooted("3815.2.0"),
		{ OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_UPDATE_DEFERRED,
		  OMAHA_ERROR_UPDATE_DEFERRED_FOR_BACKOFF, NULL },
	};
	p.events = evs;
	p.n_events = ARRAY_SIZE(evs);
	_cleanup_free_ char *xml = NULL;
	ASSERT_OK(omaha_request_build(&p, &xml, NULL));
	ASSERT_NOT_NULL(strstr(xml, "installsource=\"scheduler\""));
	ASSERT_NOT_NULL(strstr(xml, "bootid=\"{ABC}\""));
	ASSERT_NOT_NULL(strstr(xml, "machineid=\"0123\""));
	ASSERT_NULL(strstr(xml, "<ping"));
	ASSERT_NULL(strstr(xml, "<updatecheck"));
	ASSERT_NOT_NULL(strstr(xml, "        <event eventtype=\"13\" eventresult=\"1\"></event>\n"));
	ASSERT_NOT_NULL(strstr(xml, "<event eventtype=\"3\" eventresult=\"0\" errorcode=\"10\"></event>"));
	ASSERT_NOT_NULL(strstr(xml, "<event eventtype=\"3\" eventresult=\"0\" errorcode=\"44\"></event>"));
	ASSERT_NOT_NULL(strstr(xml, "<event eventtype=\"3\" eventresult=\"2\" previousversion=\"3815.2.0\"></event>"));
	ASSERT_NOT_NULL(strstr(xml, "<event eventtype=\"3\" eventresult=\"9\" errorcode=\"40\"></event>"));
	/* never the version string Nebraska takes for its own syncers */
	ASSERT_NULL(strstr(xml, "CoreOSUpdateEngine"));

	/* ping only */
	p.ping = true;
	p.n_events = 0;
	_cleanup_free_ char *ping = NULL;
	ASSERT_OK(omaha_request_build(&p, &ping, NULL));
	ASSERT_NOT_NULL(strstr(ping, "    <app appid=\"" APPID "\""));
	ASSERT_NOT_NULL(strstr(ping, ">\n        <ping active=\"1\"></ping>\n    </app>\n"));
}

TEST(request_escapes_attribute_values)
{
	struct omaha_request_params p = example_params();
	p.machinealias = "a\"b<c>&d'e\tf\x01g";
	p.track = "x&y";
	const struct omaha_event ev = omaha_event_neutral();
	p.events = &ev;
	p.n_events = 1;
	_cleanup_free_ char *xml = NULL;
	size_t n;
	ASSERT_OK(omaha_request_build(&p, &xml, &n));
	ASSERT_NOT_NULL(strstr(xml, "machinealias=\"a&quot;b&lt;c&gt;&amp;d&apos;e&#x9;fg\""));
	/* and a real parser reads the value back */
	xmlDoc *doc = xmlReadMemory(xml, (int)n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	ASSERT_NOT_NULL(doc);
	xmlNode *app = xmlDocGetRootElement(doc)->children;
	while (app && (app->type != XML_ELEMENT_NODE || !xmlStrEqual(app->name, BAD_CAST "app")))
		app = app->next;
	ASSERT_NOT_NULL(app);
	xmlChar *v = xmlGetProp(app, BAD_CAST "machinealias");
	bool same = v && strcmp((char *)v, "a\"b<c>&d'e\tfg") == 0;
	xmlFree(v);
	xmlFreeDoc(doc);
	ASSERT_TRUE(same);
}

/* Found by tests/fuzz/fuzz-omaha-request.c: a byte that is not UTF-8 (a release file or
 * update.conf can hold one) made the request ill-formed, so the server refused every check. */
TEST(request_stays_well_formed_with_invalid_utf8)
{
	struct omaha_request_params p = example_params();
	p.version = "\xf9";
	p.track = "b\xc3\xa9ta\xed\xa0\x80\xef\xbf\xbe\xc3";
	const struct omaha_event ev = omaha_event_neutral();
	p.events = &ev;
	p.n_events = 1;
	_cleanup_free_ char *xml = NULL;
	size_t n;
	ASSERT_OK(omaha_request_build(&p, &xml, &n));
	ASSERT_NOT_NULL(strstr(xml, " version=\"\xef\xbf\xbd\" track=\"b\xc3\xa9ta\xef\xbf\xbd"
				    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
	xmlDoc *doc = xmlReadMemory(xml, (int)n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	ASSERT_NOT_NULL(doc);
	xmlFreeDoc(doc);
}

TEST(request_refuses_incomplete_params)
{
	struct omaha_request_params p = example_params();
	char *xml = NULL;
	ASSERT_ERR(omaha_request_build(&p, &xml, NULL), EINVAL); /* updatecheck without event */
	const struct omaha_event evs[2] = { omaha_event_neutral(), omaha_event_neutral() };
	p.events = evs;
	p.n_events = 2;
	ASSERT_ERR(omaha_request_build(&p, &xml, NULL), EINVAL); /* ... or with two */
	p.n_events = 1;
	p.appid = NULL;
	ASSERT_ERR(omaha_request_build(&p, &xml, NULL), EINVAL);
	p = example_params();
	p.ping = p.updatecheck = false;
	ASSERT_ERR(omaha_request_build(&p, &xml, NULL), EINVAL);
	ASSERT_NULL(xml);
}

/* ---- response: public vectors ------------------------------------------------------------------ */

TEST(response_nebraska_update_with_extension)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_fixture("response-nebraska-update.xml", APPID, true, &r, &p));
	ASSERT_EQ(p.n, 0);
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	ASSERT_STREQ(r->server, "nebraska");
	ASSERT_STREQ(r->version, "4230.1.0");
	ASSERT_EQ(r->n_urls, 1);
	ASSERT_EQ(r->n_packages, 2);
	ASSERT_STREQ(r->packages[0].name, "flatcar_production_update.gz");
	ASSERT_U64_EQ(r->packages[0].size, 491520931);
	ASSERT_TRUE(r->packages[0].has_sha1);
	ASSERT_FALSE(r->packages[0].has_sha256);
	ASSERT_STREQ(r->packages[1].name, "oem-azure.gz");
	ASSERT_U64_EQ(r->packages[1].size, 3172);
	ASSERT_TRUE(r->packages[1].has_sha256);
	_cleanup_free_ char *h = crypto_hex_encode(r->packages[1].sha256, 32);
	ASSERT_STREQ(h, "d2287f46abaeefc4f5e96369c29baa84de807b898e3ddcf67ede43b19b331a47");
	_cleanup_free_ char *b = crypto_base64_encode(r->sha256, 32);
	ASSERT_STREQ(b, "vlTkdQ3KfAJ1nBLI5qwnBxhQeZ9rNUqx8eK4H10EHx4=");
	_cleanup_free_ char *s1 = crypto_base64_encode(r->packages[0].sha1, 20);
	ASSERT_STREQ(s1, "C1+h9A/Lsm2BrygD/R+x/m3qYqg=");
	ASSERT_TRUE(r->disable_payload_backoff);
	ASSERT_EQ(r->max_failure_count_per_url, -1);
	_cleanup_free_ char *u = omaha_response_payload_url(r, 0, 0);
	ASSERT_STREQ(u, "https://update.release.flatcar-linux.net/arm64-usr/4230.1.0/"
			"flatcar_production_update.gz");
	ASSERT_NULL(omaha_response_payload_url(r, 1, 0));
}

TEST(response_extensions_and_unbraced_appid)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_fixture("response-extensions-unbraced-appid.xml",
				"{E96281A6-D1AF-4BDE-9A0A-97B76E56DC57}", true, &r, &p));
	ASSERT_EQ(p.n, 0); /* appid matched without braces and case */
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	ASSERT_STREQ(r->version, "4186.0.0");
	ASSERT_EQ(r->n_packages, 3);
	ASSERT_STREQ(r->packages[1].name, "flatcar-docker.gz");
	ASSERT_STREQ(r->packages[2].name, "oem-gce.gz");
	ASSERT_TRUE(r->packages[2].has_sha256);
	ASSERT_U64_EQ(r->packages[1].size, 52428800);
}

TEST(response_go_omaha_other_app_and_isdelta_ignored)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_fixture("response-go-omaha-foreign-app.xml", APPID, true, &r, &p));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	/* the single app is used, with a warning */
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.item[0].severity, PROBLEM_WARNING);
	ASSERT_FALSE(problem_has_errors(&p));
	ASSERT_STREQ(r->urls[0], "http://omaha-lab:8000/static");
	ASSERT_STREQ(r->packages[0].name, "update.gz");
	ASSERT_U64_EQ(r->packages[0].size, 58720256);
	ASSERT_FALSE(r->disable_payload_backoff);
	_cleanup_free_ char *u = omaha_response_payload_url(r, 0, 0); /* '/' added */
	ASSERT_STREQ(u, "http://omaha-lab:8000/static/update.gz");
}

TEST(response_chromeos_sample_picks_postinstall_action)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	ASSERT_OK(parse_fixture("response-chromeos-two-actions.xml", APPID, true, &r, NULL));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	_cleanup_free_ char *b = crypto_base64_encode(r->sha256, 32);
	ASSERT_STREQ(b, "ISBvjjSlqfQ+aTZ+INaeG4Ppr+lVXccGpBNSaMVujak=");
	ASSERT_STREQ(r->version, "15020.0.0");
}

TEST(response_malformed_vector)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	int rr = parse_fixture("response-malformed.xml", APPID, true, &r, &p);
	ASSERT_ERR(rr, EBADMSG);
	ASSERT_NULL(r);
	ASSERT_EQ(omaha_response_error_code(rr), 31);
	ASSERT_EQ(p.n, 1);
	ASSERT_TRUE(strncmp(p.item[0].message, "line 2: ", 8) == 0);
}

TEST(response_nebraska_noupdate_event_ack_and_multi_app)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	ASSERT_OK(parse_fixture("response-nebraska-noupdate.xml", APPID, true, &r, NULL));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_NOUPDATE);

	/* the answer to an event-only request: no updatecheck, which only a check must have */
	_cleanup_(omaha_response_freep) struct omaha_response *r2 = NULL, *r3 = NULL;
	ASSERT_OK(parse_fixture("response-nebraska-event-ack.xml", APPID, false, &r2, NULL));
	ASSERT_EQ(r2->outcome, OMAHA_OUTCOME_NO_CHECK);
	ASSERT_ERR(parse_fixture("response-nebraska-event-ack.xml", APPID, true, &r3, NULL),
		   EINVAL);

	/* two apps: ours second, unbraced and upper case; the other app's offer is not ours */
	_cleanup_(omaha_response_freep) struct omaha_response *r4 = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_fixture("response-multi-app.xml", APPID, true, &r4, &p));
	ASSERT_EQ(p.n, 0);
	ASSERT_EQ(r4->outcome, OMAHA_OUTCOME_NOUPDATE);
	ASSERT_EQ(r4->poll_interval, 7200);
	ASSERT_STREQ(r4->appid, "E96281A6-D1AF-4BDE-9A0A-97B76E56DC57");
}

/* ---- response: outcomes ------------------------------------------------------------------------- */

#define ENVELOPE(body)                                                                        \
	"<response protocol=\"3.0\" server=\"nebraska\"><daystart elapsed_seconds=\"0\"></daystart>" \
	"<app appid=\"" APPID "\" status=\"ok\">" body "</app></response>"

TEST(response_noupdate_and_event_ack)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL, *r2 = NULL;
	ASSERT_OK(parse_str(ENVELOPE("<ping status=\"ok\"></ping><updatecheck status=\"noupdate\" "
				     "PollInterval=\"3600\"></updatecheck>"),
			    true, &r, NULL));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_NOUPDATE);
	ASSERT_EQ(r->poll_interval, 3600);
	ASSERT_OK(parse_str(ENVELOPE("<event status=\"ok\"></event>"), false, &r2, NULL));
	ASSERT_EQ(r2->outcome, OMAHA_OUTCOME_NO_CHECK);
	ASSERT_STREQ(omaha_outcome_to_string(r2->outcome), "no-check");

	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(omaha_response_freep) struct omaha_response *r3 = NULL;
	ASSERT_ERR(parse_str(ENVELOPE("<event status=\"ok\"></event>"), true, &r3, &p), EINVAL);
	ASSERT_STREQ(p.item[0].message, "response has no updatecheck");

	_cleanup_(omaha_response_freep) struct omaha_response *r4 = NULL;
	ASSERT_OK(parse_str(ENVELOPE("<updatecheck status=\"noupdate\" PollInterval=\"5\">"
				     "</updatecheck>"), true, &r4, NULL));
	ASSERT_EQ(r4->poll_interval, 0);
}

TEST(response_refusals)
{
	static const char nebraska_refusal[] =
		"<response protocol=\"3.0\" server=\"nebraska\"><app appid=\"" APPID "\" "
		"status=\"error-maxUpdatesPerPeriodLimitReached\"><updatecheck "
		"status=\"error-internal\"></updatecheck></app></response>";
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL, *r2 = NULL;
	ASSERT_OK(parse_str(nebraska_refusal, true, &r, NULL));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_REFUSED);
	ASSERT_STREQ(r->refusal, "error-maxUpdatesPerPeriodLimitReached");
	ASSERT_EQ(omaha_refusal_classify(r->refusal), OMAHA_REFUSAL_LATER);
	ASSERT_OK(parse_str(ENVELOPE("<updatecheck status=\"error-noPackageFound\"></updatecheck>"),
			    true, &r2, NULL));
	ASSERT_EQ(r2->outcome, OMAHA_OUTCOME_REFUSED);
	ASSERT_STREQ(r2->refusal, "error-noPackageFound");
	ASSERT_EQ(omaha_refusal_classify("error-noPackageFound"), OMAHA_REFUSAL_ERROR);
	ASSERT_EQ(omaha_refusal_classify("error-updatesDisabled"), OMAHA_REFUSAL_DISABLED);
	ASSERT_EQ(omaha_refusal_classify("noupdate"), OMAHA_REFUSAL_NOUPDATE);
	ASSERT_EQ(omaha_refusal_classify("error-couldNotCheckUpdatesStats"), OMAHA_REFUSAL_LATER);
	ASSERT_EQ(omaha_refusal_classify(NULL), OMAHA_REFUSAL_ERROR);
}

TEST(response_app_selection)
{
	static const char two[] =
		"<response protocol=\"3.0\"><app appid=\"{aaaa}\" status=\"ok\"></app>"
		"<app appid=\"E96281A6-D1AF-4BDE-9A0A-97B76E56DC57\" status=\"ok\">"
		"<updatecheck status=\"noupdate\"/></app></response>";
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_str(two, true, &r, &p));
	ASSERT_EQ(p.n, 0);
	ASSERT_STREQ(r->appid, "E96281A6-D1AF-4BDE-9A0A-97B76E56DC57");
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_NOUPDATE);

	static const char none[] = "<response protocol=\"3.0\"><app appid=\"{aaaa}\"/>"
				   "<app appid=\"{bbbb}\"/></response>";
	_cleanup_(omaha_response_freep) struct omaha_response *r2 = NULL;
	_cleanup_(problem_list_release) struct problem_list p2 = {};
	ASSERT_ERR(parse_str(none, true, &r2, &p2), EINVAL);
	ASSERT_STREQ(p2.item[0].message, "response has no app for " APPID);
}

/* ---- response: what bad input gets (docs/update.md §10) -------------------------------------- */

struct bad_case {
	const char *xml;
	int err;
	const char *where;
	const char *msg;
};

#define UPDATE(urls, manifest_attrs, packages, action)                                       \
	ENVELOPE("<updatecheck status=\"ok\"><urls>" urls "</urls><manifest" manifest_attrs    \
		 "><packages>" packages "</packages><actions>" action                          \
		 "</actions></manifest></updatecheck>")
#define GOOD_URL "<url codebase=\"https://h/p/\"/>"
#define GOOD_PKG "<package name=\"p.gz\" size=\"10\"/>"
#define GOOD_ACT "<action event=\"postinstall\" sha256=\"21kfKpahDBov9sOLW7kjTy8uRLDL8ysUh/ykWP/a13A=\"/>"
#define PKG_PATH "/response/app/updatecheck/manifest/packages/package[1]"
#define ACT_PATH "/response/app/updatecheck/manifest/actions/action"

TEST(response_invalid_documents)
{
	static const struct bad_case cases[] = {
		{ "<foo/>", EINVAL, "/", "root element is <foo>, not <response>" },
		{ "<response protocol=\"2.0\"/>", EINVAL, "/response", "unsupported protocol '2.0'" },
		{ "<response protocol=\"3.0\"/>", EINVAL, "/response",
		  "response has no app for " APPID },
		{ ENVELOPE("<updatecheck/>"), EINVAL, "/response/app/updatecheck",
		  "updatecheck has no status" },
		{ UPDATE(GOOD_URL, " version=\"1\"", GOOD_PKG, "<action event=\"postinstall\"/>"),
		  EINVAL, ACT_PATH, "action postinstall has no sha256" },
		{ UPDATE(GOOD_URL, " version=\"1\"", GOOD_PKG,
			 "<action event=\"postinstall\" sha256=\"abc\"/>"),
		  EINVAL, ACT_PATH, "action postinstall sha256 'abc' is not base64 of 32 bytes" },
		{ UPDATE(GOOD_URL, " version=\"1\"", GOOD_PKG, "<action event=\"update\"/>"), EINVAL,
		  "/response/app/updatecheck/manifest/actions", "manifest has no postinstall action" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"p.gz\" size=\"0\"/>", GOOD_ACT),
		  EINVAL, PKG_PATH, "package size '0' is not an integer from 1 to 2^40" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"p.gz\" size=\"-5\"/>", GOOD_ACT),
		  EINVAL, PKG_PATH, "package size '-5' is not an integer from 1 to 2^40" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"p.gz\" size=\"1099511627777\"/>",
			 GOOD_ACT),
		  EINVAL, PKG_PATH, "package size '1099511627777' is not an integer from 1 to 2^40" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"p.gz\"/>", GOOD_ACT), EINVAL,
		  PKG_PATH, "package has no size" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"../x\" size=\"1\"/>", GOOD_ACT),
		  EINVAL, PKG_PATH, "bad package name '../x'" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "<package name=\"..\" size=\"1\"/>", GOOD_ACT),
		  EINVAL, PKG_PATH, "bad package name '..'" },
		{ UPDATE(GOOD_URL, " version=\"1\"", "", GOOD_ACT), EINVAL,
		  "/response/app/updatecheck/manifest/packages", "manifest has no package" },
		{ UPDATE(GOOD_URL, " version=\"1\"",
			 "<package name=\"p.gz\" size=\"1\" hash_sha256=\"xyz\"/>", GOOD_ACT),
		  EINVAL, PKG_PATH, "hash_sha256 'xyz' is neither hex nor base64 of 32 bytes" },
		{ UPDATE("<url codebase=\"file:///etc/\"/>", " version=\"1\"", GOOD_PKG, GOOD_ACT),
		  EINVAL, "/response/app/updatecheck/urls/url[1]",
		  "codebase 'file:///etc/' is not an http:// or https:// URL" },
		{ UPDATE("<url codebase=\"https://\"/>", " version=\"1\"", GOOD_PKG, GOOD_ACT),
		  EINVAL, "/response/app/updatecheck/urls/url[1]",
		  "codebase 'https://' is not an http:// or https:// URL" },
		{ UPDATE("", " version=\"1\"", GOOD_PKG, GOOD_ACT), EINVAL,
		  "/response/app/updatecheck/urls", "response has no url" },
		{ UPDATE(GOOD_URL, " version=\"\"", GOOD_PKG, GOOD_ACT), EINVAL,
		  "/response/app/updatecheck/manifest", "manifest has no version" },
		{ UPDATE(GOOD_URL, "", GOOD_PKG, GOOD_ACT), EINVAL,
		  "/response/app/updatecheck/manifest", "manifest has no version" },
		{ UPDATE(GOOD_URL, " version=\"1&#10;2\"", GOOD_PKG, GOOD_ACT), EINVAL,
		  "/response/app/updatecheck/manifest",
		  "manifest version is not 1 to 64 printable characters" },
		{ UPDATE(GOOD_URL, " version=\"1\"", GOOD_PKG,
			 "<action event=\"postinstall\" IsDeltaPayload=\"TRUE\" "
			 "sha256=\"21kfKpahDBov9sOLW7kjTy8uRLDL8ysUh/ykWP/a13A=\"/>"),
		  EINVAL, ACT_PATH, "delta payloads are not supported" },
		{ ENVELOPE("<updatecheck status=\"ok\"><urls>" GOOD_URL "</urls></updatecheck>"), EINVAL,
		  "/response/app/updatecheck/manifest", "updatecheck has no manifest" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		int rr = parse_str(cases[i].xml, true, &r, &p);
		if (rr != -cases[i].err || !p.n || !p.item[0].where ||
		    strcmp(p.item[0].where, cases[i].where) != 0 ||
		    strcmp(p.item[0].message, cases[i].msg) != 0)
			TAP_FAIL_("case %zu: got %d, %s: %s", i, rr,
				  p.n && p.item[0].where ? p.item[0].where : "-",
				  p.n ? p.item[0].message : "-");
		ASSERT_NULL(r);
		ASSERT_EQ(omaha_response_error_code(rr), 34);
	}
}

TEST(response_reports_every_problem)
{
	const char *xml = UPDATE("<url codebase=\"ftp://x/\"/>", " version=\"\"",
				 "<package name=\"a b\" size=\"x\"/>", "<action event=\"postinstall\"/>");
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(parse_str(xml, true, &r, &p), EINVAL);
	ASSERT_EQ(problem_count(&p, PROBLEM_ERROR), 5);
}

TEST(response_problems_carry_lines)
{
	static const char xml[] =
		"<response protocol=\"3.0\">\n"
		"<app appid=\"" APPID "\" status=\"ok\">\n"
		"<updatecheck status=\"ok\">\n"
		"<urls><url codebase=\"https://h/\"/></urls>\n"
		"<manifest version=\"1\">\n"
		"<packages>\n"
		"<package name=\"p.gz\" size=\"big\"/>\n"
		"</packages>\n"
		"<actions><action event=\"postinstall\"/></actions>\n"
		"</manifest></updatecheck></app></response>\n";
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(parse_str(xml, true, &r, &p), EINVAL);
	ASSERT_EQ(p.n, 2);
	ASSERT_EQ(p.item[0].line, 7);
	ASSERT_STREQ(p.item[0].where, PKG_PATH);
	ASSERT_EQ(p.item[1].line, 9);
	ASSERT_STREQ(p.item[1].message, "action postinstall has no sha256");

	_cleanup_(problem_list_release) struct problem_list p2 = {};
	ASSERT_ERR(parse_str("<response>\n\n<app></response>", true, &r, &p2), EBADMSG);
	ASSERT_EQ(p2.item[0].line, 3);
}

TEST(response_hash_encodings_and_optional_fields)
{
	const char *xml = UPDATE(
		"<url codebase=\"http://a/b\"/><url codebase=\"HTTPS://c/\"/>", " version=\"v 1\"",
		"<package name=\"p.gz\" size=\"1099511627776\" hash=\"garbled\" "
		"hash_sha256=\"21kfKpahDBov9sOLW7kjTy8uRLDL8ysUh/ykWP/a13A=\"/>"
		"<package name=\"../bad\" size=\"3\"/><package name=\"ok.gz\" size=\"3\" "
		"hash_sha256=\"DB591F2A96A10C1A2FF6C38B5BB9234F2F2E44B0CBF32B1487FCA458FFDAD770\"/>",
		"<action event=\"postinstall\" sha256=\"21kfKpahDBov9sOLW7kjTy8uRLDL8ysUh/ykWP/a13A=\" "
		"DisablePayloadBackoff=\"TRUE\" MaxFailureCountPerUrl=\"7\" IsDeltaPayload=\"False\"/>");
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(parse_str(xml, true, &r, &p));
	ASSERT_FALSE(problem_has_errors(&p));
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 2); /* garbled sha1, skipped extension */
	ASSERT_U64_EQ(r->packages[0].size, 1ULL << 40);
	ASSERT_FALSE(r->packages[0].has_sha1);
	ASSERT_TRUE(r->packages[0].has_sha256);
	ASSERT_EQ(memcmp(r->packages[0].sha256, r->sha256, 32), 0);
	ASSERT_EQ(r->n_packages, 2);
	ASSERT_STREQ(r->packages[1].name, "ok.gz");
	ASSERT_EQ(memcmp(r->packages[1].sha256, r->sha256, 32), 0); /* hex, upper case */
	ASSERT_TRUE(r->disable_payload_backoff);
	ASSERT_EQ(r->max_failure_count_per_url, 7);
	ASSERT_EQ(r->n_urls, 2);
	_cleanup_free_ char *u = omaha_response_payload_url(r, 0, 0);
	ASSERT_STREQ(u, "http://a/b/p.gz");
	_cleanup_free_ char *u2 = omaha_response_payload_url(r, 1, 1);
	ASSERT_STREQ(u2, "HTTPS://c/ok.gz");
	ASSERT_STREQ(r->version, "v 1");
}

TEST(response_refuses_doctype_entities_and_size)
{
	static const char *const hostile[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE response [<!ENTITY a \"x\">]>"
		"<response protocol=\"3.0\">&a;</response>",
		/* billion laughs */
		"<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;\">]><response>&lol3;</response>",
		/* external entity */
		"<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><response>&xxe;</response>",
		"<!DOCTYPE response SYSTEM \"http://127.0.0.1:1/x.dtd\"><response/>",
	};
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_ERR(parse_str(hostile[i], true, &r, &p), EINVAL);
		ASSERT_STREQ(p.item[0].message, "DOCTYPE not allowed");
	}
	/* undeclared entity: not well-formed, nothing expanded */
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(parse_str("<response>&xxe;</response>", true, &r, &p), EBADMSG);

	/* one byte over 1 MiB: refused before parsing */
	size_t n = OMAHA_RESPONSE_MAX + 1;
	_cleanup_free_ char *big = malloc(n);
	ASSERT_NOT_NULL(big);
	memset(big, ' ', n);
	memcpy(big, "<response>", 10);
	memcpy(big + n - 11, "</response>", 11);
	_cleanup_(omaha_response_freep) struct omaha_response *r2 = NULL;
	_cleanup_(problem_list_release) struct problem_list p2 = {};
	ASSERT_ERR(omaha_response_parse(big, n, APPID, true, &r2, &p2), EFBIG);
	ASSERT_STREQ(p2.item[0].message, "Omaha response too large (more than 1048576 bytes)");

	/* NUL bytes (UTF-16 in disguise) */
	static const char utf16[] = "<\0r\0e\0s\0p\0>\0";
	_cleanup_(omaha_response_freep) struct omaha_response *r3 = NULL;
	ASSERT_ERR(omaha_response_parse(utf16, sizeof(utf16) - 1, APPID, true, &r3, NULL), EBADMSG);
	ASSERT_ERR(omaha_response_parse("", 0, APPID, true, &r3, NULL), EBADMSG);
}

TEST(response_malformed_reports_line)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(parse_str("<response>\n<app>\n</response>", true, &r, &p), EBADMSG);
	ASSERT_TRUE(strncmp(p.item[0].message, "line 3: ", 8) == 0);
	_cleanup_(problem_list_release) struct problem_list p2 = {};
	ASSERT_ERR(parse_str("<html><body>502 Bad Gateway", true, &r, &p2), EBADMSG);
}

TEST(error_code_names)
{
	ASSERT_STREQ(omaha_error_code_to_string(OMAHA_ERROR_DOWNLOAD_PAYLOAD_PUBKEY_VERIFICATION),
		     "DownloadPayloadPubKeyVerificationError");
	ASSERT_STREQ(omaha_error_code_to_string(31), "OmahaRequestXMLParseError");
	ASSERT_NULL(omaha_error_code_to_string(2));
	ASSERT_EQ(omaha_error_code_from_string("RollbackError"), 44);
	ASSERT_EQ(omaha_error_code_from_string("Nope"), -EINVAL);
	ASSERT_EQ(omaha_response_error_code(-EIO), 1);
}

/* ---- round trip through the loopback Omaha server ---------------------------------------------- */

static char tmpdir[64];
static pid_t server_pid;

static void teardown(void)
{
	if (server_pid > 0) {
		(void)kill(server_pid, SIGTERM);
		(void)waitpid(server_pid, NULL, 0);
	}
	if (tmpdir[0]) {
		char cmd[128];
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "# cleanup failed\n");
	}
}

static char *tpath(const char *name)
{
	static char buf[8][256];
	static unsigned i;
	char *p = buf[i++ % 8];
	(void)snprintf(p, 256, "%.64s/%.64s", tmpdir, name);
	return p;
}

static int start_omaha(void)
{
	static int port;
	char script[1024];
	if (port)
		return port;
	port = -1;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/flatctl-omaha-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	atexit(teardown);
	FILE *f = fopen(tpath("flatcar_production_update.gz"), "we");
	if (!f)
		return -1;
	for (unsigned i = 0; i < 300000; i++)
		fputc((int)(i * 13 % 251), f);
	fclose(f);
	(void)snprintf(script, sizeof(script), "%.900s/tests/servers/omaha.py", src_dir());
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		/* the server dies with us, even when a test crashes */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", script, "--port-file", tpath("port"), "--payload",
		       tpath("flatcar_production_update.gz"), "--version", "4081.2.0", "--config",
		       tpath("config.json"), "--log", tpath("requests.log"), (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 2000; i++) {
		FILE *pf = fopen(tpath("port"), "re");
		if (pf) {
			if (fscanf(pf, "%d", &port) != 1)
				port = -1;
			fclose(pf);
			return port;
		}
		if (waitpid(server_pid, NULL, WNOHANG) == server_pid)
			return -1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* The loopback server's record of every request it answered (GET /requests, a JSON list). */
static int server_log(struct http_client *c, int port, struct http_response *ret)
{
	char url[64];
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/requests", port);
	return http_get(c, url, ret);
}

static int write_config(const char *json)
{
	FILE *f = fopen(tpath("config.json"), "we");
	if (!f)
		return -errno;
	fputs(json, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

TEST(round_trip_check_download_resume_and_events)
{
	int port = start_omaha();
	ASSERT_TRUE(port > 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/update/", port);
	const struct http_client_options o = { .user_agent = "flatctl/0.1.0",
					       .max_response_size = OMAHA_RESPONSE_MAX,
					       .timeout_usec = 120000000 };
	_cleanup_(http_client_freep) struct http_client *c = NULL;
	ASSERT_OK(http_client_new(&o, &c));

	/* update check */
	struct omaha_request_params p = example_params();
	const struct omaha_event ev = omaha_event_neutral();
	p.events = &ev;
	p.n_events = 1;
	_cleanup_free_ char *req = NULL;
	size_t n;
	ASSERT_OK(omaha_request_build(&p, &req, &n));
	_cleanup_(http_response_release) struct http_response hr = {};
	ASSERT_OK(http_post(c, url, "text/xml", req, n, &hr));
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list pl = {};
	ASSERT_OK(omaha_response_parse(hr.body, hr.body_size, APPID, true, &r, &pl));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	ASSERT_STREQ(r->version, "4081.2.0");
	ASSERT_U64_EQ(r->packages[0].size, 300000);

	/* download half, then resume; check size and SHA-256 against the response */
	_cleanup_free_ char *purl = omaha_response_payload_url(r, 0, 0);
	ASSERT_NOT_NULL(purl);
	ASSERT_OK(write_config("{\"truncate_after\": 150000}"));
	_cleanup_close_ int fd = open(tpath("payload.part"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
				      0600);
	ASSERT_OK(fd);
	const struct http_request dl = { .url = purl, .use_out_fd = true, .out_fd = fd,
					 .max_size = r->packages[0].size };
	_cleanup_(http_response_release) struct http_response d1 = {}, d2 = {};
	ASSERT_ERR(http_request_perform(c, &dl, &d1), EAGAIN);
	ASSERT_EQ(d1.kind, HTTP_ERROR_TRUNCATED);
	ASSERT_EQ(d1.bytes_received, 150000);
	ASSERT_OK(write_config("{}"));
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	const struct http_request resume = { .url = purl, .use_out_fd = true, .out_fd = fd,
					     .max_size = r->packages[0].size,
					     .resume_from = (uint64_t)st.st_size };
	ASSERT_OK(http_request_perform(c, &resume, &d2));
	ASSERT_EQ(d2.status, 206);
	ASSERT_EQ(d2.offset, 150000);
	uint8_t sha[32];
	ASSERT_OK(crypto_hash_fd(CRYPTO_SHA256, fd, 0, UINT64_MAX, sha, sizeof(sha)));
	ASSERT_EQ(memcmp(sha, r->sha256, 32), 0);
	ASSERT_OK(fstat(fd, &st));
	ASSERT_EQ(st.st_size, 300000);

	/* events: an event-only request gets an acknowledgement without updatecheck */
	const struct omaha_event evs[] = {
		omaha_event_simple(OMAHA_EVENT_DOWNLOAD_STARTED, OMAHA_RESULT_SUCCESS) };
	struct omaha_request_params pe = example_params();
	pe.ping = pe.updatecheck = false;
	pe.events = evs;
	pe.n_events = 1;
	_cleanup_free_ char *ereq = NULL;
	ASSERT_OK(omaha_request_build(&pe, &ereq, &n));
	_cleanup_(http_response_release) struct http_response he = {};
	ASSERT_OK(http_post(c, url, "text/xml", ereq, n, &he));
	_cleanup_(omaha_response_freep) struct omaha_response *re = NULL;
	ASSERT_OK(omaha_response_parse(he.body, he.body_size, APPID, false, &re, NULL));
	ASSERT_EQ(re->outcome, OMAHA_OUTCOME_NO_CHECK);

	/* a refusal and an HTTP error from the same server */
	ASSERT_OK(write_config("{\"status\": \"error-updatesDisabled\"}"));
	_cleanup_(http_response_release) struct http_response h3 = {};
	ASSERT_OK(http_post(c, url, "text/xml", req, strlen(req), &h3));
	_cleanup_(omaha_response_freep) struct omaha_response *r3 = NULL;
	ASSERT_OK(omaha_response_parse(h3.body, h3.body_size, APPID, true, &r3, NULL));
	ASSERT_EQ(r3->outcome, OMAHA_OUTCOME_REFUSED);
	ASSERT_EQ(omaha_refusal_classify(r3->refusal), OMAHA_REFUSAL_DISABLED);
	ASSERT_OK(write_config("{\"http_status\": 503}"));
	_cleanup_(http_response_release) struct http_response h4 = {};
	ASSERT_ERR(http_post(c, url, "text/xml", req, strlen(req), &h4), EAGAIN);
	ASSERT_STREQ(h4.error, "server error: HTTP 503");

	/* the server saw what Flatcar's client sends */
	_cleanup_(http_response_release) struct http_response log = {};
	ASSERT_OK(server_log(c, port, &log));
	ASSERT_NOT_NULL(strstr(log.body, "\"user_agent\": \"flatctl/0.1.0\""));
	ASSERT_NOT_NULL(strstr(log.body, "\"content_type\": \"text/xml\""));
	ASSERT_NOT_NULL(strstr(log.body, "\"eventtype\": \"13\""));
	ASSERT_NOT_NULL(strstr(log.body, "\"previousversion\": \"\""));
	ASSERT_NOT_NULL(strstr(log.body, "\"machineid\": \"d41f0b6a93c24e7f8a15b2c6e09d7f31\""));
}

/* update_engine's requests (Flatcar's and the older CoreOS one), an event-only request and a
 * multi-app request of another Omaha client: the loopback server reads them the way Nebraska
 * does (first app, appid echoed), and its answers parse for that appid. */
TEST(server_reads_other_clients_requests)
{
	int port = start_omaha();
	ASSERT_TRUE(port > 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/update/", port);
	_cleanup_(http_client_freep) struct http_client *c = NULL;
	ASSERT_OK(http_client_new(
		&(struct http_client_options){ .max_response_size = OMAHA_RESPONSE_MAX }, &c));
	ASSERT_OK(write_config("{}"));
	static const struct {
		const char *file, *appid;
		bool check;
	} reqs[] = {
		{ "request-update-engine-flatcar.xml", "e96281a6-d1af-4bde-9a0a-97b76e56dc57",
		  true },
		{ "request-update-engine-legacy.xml", APPID, true },
		{ "request-event-only.xml", APPID, false },
		{ "request-multi-app.xml", "{3C1E9A52-7D14-4B0F-8E2A-6F5D0C9B81A7}", true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		size_t n;
		_cleanup_free_ char *req = fixture(reqs[i].file, &n);
		ASSERT_NOT_NULL(req);
		_cleanup_(http_response_release) struct http_response hr = {};
		ASSERT_OK(http_post(c, url, "text/xml", req, n, &hr));
		_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_OK(omaha_response_parse(hr.body, hr.body_size, reqs[i].appid, reqs[i].check,
					       &r, &p));
		if (p.n != 0)
			TAP_FAIL_("%s: %s", reqs[i].file, p.item[0].message);
		ASSERT_EQ(r->outcome, reqs[i].check ? OMAHA_OUTCOME_UPDATE : OMAHA_OUTCOME_NO_CHECK);
	}
	/* what the server recorded of each: an attribute only that request carries */
	static const char *const seen[] = {
		"\"oemversion\": \"12.1.0-r2\"", "\"machinealias\": \"edge-07\"",
		"\"eventtype\": \"14\"", "\"brand\": \"LABX\"",
	};
	_cleanup_(http_response_release) struct http_response log = {};
	ASSERT_OK(server_log(c, port, &log));
	for (size_t i = 0; i < ARRAY_SIZE(seen); i++)
		if (!strstr(log.body, seen[i]))
			TAP_FAIL_("the server's log lacks %s", seen[i]);
}

TEST(payload_download_failures_from_the_server)
{
	int port = start_omaha();
	ASSERT_TRUE(port > 0);
	char purl[160];
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d/payloads/flatcar_production_update.gz",
		 port);
	const uint64_t announced = 300000;
	_cleanup_close_ int fd = open(tpath("payload2.part"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
				      0600);
	ASSERT_OK(fd);
	const struct http_request dl = { .url = purl, .use_out_fd = true, .out_fd = fd,
					 .max_size = announced };

	/* two 503s, then the payload: the download retry policy of docs/update.md §4.1 */
	const struct http_client_options o = {
		.retry = { .max_retries = 4, .initial_delay_usec = 1000, .max_delay_usec = 8000,
			   .retry_on_status = true },
	};
	_cleanup_(http_client_freep) struct http_client *c = NULL;
	ASSERT_OK(http_client_new(&o, &c));
	ASSERT_OK(write_config("{\"payload_fail\": 1000000}"));
	_cleanup_(http_response_release) struct http_response r0 = {};
	ASSERT_ERR(http_request_perform(c, &dl, &r0), EAGAIN);
	ASSERT_EQ(r0.attempts, 5);
	ASSERT_STREQ(r0.error, "server error: HTTP 503");

	/* 404: not retried, not try-later */
	ASSERT_OK(write_config("{\"payload_status\": 404}"));
	_cleanup_(http_response_release) struct http_response r1 = {};
	ASSERT_ERR(http_request_perform(c, &dl, &r1), ENOENT);
	ASSERT_EQ(r1.attempts, 1);

	/* more bytes than announced */
	ASSERT_OK(write_config("{\"payload_extra\": 10}"));
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_ERR(http_request_perform(c, &dl, &r2), EFBIG);
	ASSERT_EQ(r2.kind, HTTP_ERROR_TOO_LARGE);

	/* a stall mid-download is try-later, with the bytes so far kept for a resume */
	ASSERT_OK(write_config("{\"stall_after\": 1000}"));
	_cleanup_(http_client_freep) struct http_client *slow = NULL;
	ASSERT_OK(http_client_new(&(struct http_client_options){ .low_speed_limit = 1000000,
								 .low_speed_time_usec = 1000000 },
				  &slow));
	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_ERR(http_request_perform(slow, &dl, &r3), EAGAIN);
	ASSERT_EQ(r3.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_EQ(r3.bytes_received, 1000);

	/* and a truncating server is beaten by retries that resume */
	ASSERT_OK(write_config("{\"truncate_after\": 70000}"));
	_cleanup_(http_response_release) struct http_response r4 = {};
	ASSERT_OK(http_request_perform(c, &dl, &r4));
	ASSERT_EQ(r4.attempts, 5);
	ASSERT_EQ(r4.offset, 280000);
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	ASSERT_EQ(st.st_size, 300000);
	ASSERT_OK(write_config("{}"));
}
