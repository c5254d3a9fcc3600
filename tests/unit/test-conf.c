/* SPDX-License-Identifier: MIT */
/* tests/unit/test-conf.c - env-style config parser: quoting, bad lines, update.conf overrides. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "util/problem.h"

#define PARSE(c, s, p) conf_parse((c), (s), strlen(s), "test.conf", (p))

TEST(conf_plain_lines_comments_and_blanks)
{
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_EQ(PARSE(&c,
			"# comment\n\nGROUP=stable\n  SERVER = https://example.com/v1/update/  \n"
			"\t# indented comment\r\nEMPTY=\n",
			&p),
		  0);
	ASSERT_EQ(p.n, 0);
	ASSERT_EQ(c.n, 3);
	ASSERT_STREQ(conf_get(&c, "GROUP"), "stable");
	ASSERT_STREQ(conf_get(&c, "SERVER"), "https://example.com/v1/update/");
	ASSERT_STREQ(conf_get(&c, "EMPTY"), "");
	ASSERT_NULL(conf_get(&c, "MISSING"));
	ASSERT_EQ(conf_get_entry(&c, "SERVER")->line, 4);
	ASSERT_STREQ(conf_get_entry(&c, "SERVER")->file, "test.conf");
}

TEST(conf_os_release_quoting)
{
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_EQ(PARSE(&c,
			"NAME=\"Flatcar Container Linux by Kinvolk\"\n"
			"PRETTY='it''s'\n"
			"SINGLE='a \"b\" \\n $x'\n"
			"DOUBLE=\"a \\\"b\\\" \\\\ \\$x \\`y\\` \\n\"\n"
			"UNQ=a\\ b\\$c\n"
			"CRLF=\"v\"\r\n",
			&p),
		  1);
	ASSERT_STREQ(conf_get(&c, "NAME"), "Flatcar Container Linux by Kinvolk");
	ASSERT_NULL(conf_get(&c, "PRETTY")); /* shell concatenation is not supported */
	ASSERT_STREQ(conf_get(&c, "SINGLE"), "a \"b\" \\n $x");
	ASSERT_STREQ(conf_get(&c, "DOUBLE"), "a \"b\" \\ $x `y` \\n");
	ASSERT_STREQ(conf_get(&c, "UNQ"), "a b$c");
	ASSERT_STREQ(conf_get(&c, "CRLF"), "v");
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.item[0].line, 2);
}

TEST(conf_simple_syntax_of_update_conf)
{
	/* docs/update.md 3.1: one pair of matching quotes around the value goes, nothing else */
	_cleanup_(conf_release) struct conf c = { .syntax = CONF_SIMPLE };
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_EQ(PARSE(&c,
			"REBOOT_POST_HOOK=echo $ID >\"/run/post\"\n"
			"GROUP = \"beta\"  \n"
			"Q='it''s'\n"
			"MIXED=\"a'\n"
			"BS=a\\b\n"
			"ONE=\"\n",
			&p),
		  0);
	ASSERT_STREQ(conf_get(&c, "REBOOT_POST_HOOK"), "echo $ID >\"/run/post\"");
	ASSERT_STREQ(conf_get(&c, "GROUP"), "beta");
	ASSERT_STREQ(conf_get(&c, "Q"), "it''s");
	ASSERT_STREQ(conf_get(&c, "MIXED"), "\"a'");
	ASSERT_STREQ(conf_get(&c, "BS"), "a\\b");
	ASSERT_STREQ(conf_get(&c, "ONE"), "\"");
	ASSERT_EQ(p.n, 0);
}

TEST(conf_bad_lines_reported_with_file_and_line)
{
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_EQ(PARSE(&c,
			"GOOD=1\n"
			"no equals sign\n"
			"1BAD=x\n"
			"OPEN=\"abc\n"
			"OPEN2='abc\n"
			"TRAIL=\"a\" b\n"
			"=x\n"
			"MID=a\"b\n"
			"BS=abc\\\n"
			"LAST=ok",
			&p),
		  8);
	ASSERT_EQ(c.n, 2);
	ASSERT_STREQ(conf_get(&c, "LAST"), "ok");
	ASSERT_EQ(p.n, 8);
	ASSERT_FALSE(problem_has_errors(&p));
	ASSERT_STREQ(p.item[0].where, "test.conf");
	ASSERT_EQ(p.item[0].line, 2);
	ASSERT_STREQ(p.item[0].message, "ignored: no '=' in line");
	ASSERT_EQ(p.item[1].line, 3);
	ASSERT_STREQ(p.item[1].message, "ignored: invalid key '1BAD'");
	ASSERT_STREQ(p.item[2].message, "ignored: OPEN: unterminated double quote");
	ASSERT_STREQ(p.item[3].message, "ignored: OPEN2: unterminated single quote");
	ASSERT_STREQ(p.item[4].message, "ignored: TRAIL: text after the closing quote");
	ASSERT_STREQ(p.item[5].message, "ignored: invalid key ''");
	ASSERT_STREQ(p.item[6].message, "ignored: MID: quote inside an unquoted value");
	ASSERT_EQ(p.item[7].line, 9);
}

TEST(conf_nul_byte_and_last_assignment_wins)
{
	_cleanup_(conf_release) struct conf c = {};
	static const char text[] = "A=1\nB=x\0y\nA=2\n";
	ASSERT_EQ(conf_parse(&c, text, sizeof(text) - 1, "n", NULL), 1);
	ASSERT_EQ(c.n, 1);
	ASSERT_STREQ(conf_get(&c, "A"), "2");
	ASSERT_EQ(conf_get_entry(&c, "A")->line, 3);
}

TEST(conf_key_valid_rules)
{
	ASSERT_TRUE(conf_key_valid("REBOOT_STRATEGY", 15));
	ASSERT_TRUE(conf_key_valid("_x9", 3));
	ASSERT_FALSE(conf_key_valid("9x", 2));
	ASSERT_FALSE(conf_key_valid("A-B", 3));
	ASSERT_FALSE(conf_key_valid("", 0));
}

static char *mkroot(void)
{
	char tmpl[] = "/tmp/flatctl-conf-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static void rmroot(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

TEST(conf_update_etc_overrides_usr_key_by_key)
{
	_cleanup_free_ char *dir = mkroot();
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};

	/* no file at all: fine, nothing set */
	ASSERT_EQ(conf_load_update(&c, root, &p), 0);
	ASSERT_EQ(c.n, 0);

	ASSERT_OK(unit_put(root, "/usr/share/flatcar/update.conf",
		      "SERVER=https://public.update.flatcar-linux.net/v1/update/\nGROUP=stable\n"));
	ASSERT_OK(unit_put(root, "/etc/coreos/update.conf", "GROUP=legacy\nREBOOT_STRATEGY=off\n"));
	ASSERT_EQ(conf_load_update(&c, root, &p), 0);
	ASSERT_STREQ(conf_get(&c, "GROUP"), "legacy"); /* legacy file used: /etc/flatcar absent */
	ASSERT_STREQ(conf_get_entry(&c, "GROUP")->file, "/etc/coreos/update.conf");
	conf_release(&c);

	ASSERT_OK(unit_put(root, "/etc/flatcar/update.conf", "GROUP=beta\nbroken line\n"));
	ASSERT_EQ(conf_load_update(&c, root, &p), 1);
	ASSERT_STREQ(conf_get(&c, "GROUP"), "beta");
	ASSERT_STREQ(conf_get_entry(&c, "GROUP")->file, "/etc/flatcar/update.conf");
	ASSERT_STREQ(conf_get(&c, "SERVER"), "https://public.update.flatcar-linux.net/v1/update/");
	ASSERT_STREQ(conf_get_entry(&c, "SERVER")->file, "/usr/share/flatcar/update.conf");
	ASSERT_NULL(conf_get(&c, "REBOOT_STRATEGY")); /* legacy file ignored now */
	ASSERT_EQ(p.n, 1);
	ASSERT_STREQ(p.item[0].where, "/etc/flatcar/update.conf");
	ASSERT_EQ(p.item[0].line, 2);
	rmroot(dir);
}

TEST(conf_load_missing_too_big_and_os_release_fallback)
{
	_cleanup_free_ char *dir = mkroot();
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	_cleanup_(conf_release) struct conf c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_ERR(conf_load(&c, root, "/usr/share/flatcar/release", &p), ENOENT);
	ASSERT_ERR(conf_load_os_release(&c, root, &p), ENOENT);
	ASSERT_OK(unit_put(root, "/usr/lib/os-release", "ID=flatcar\nVERSION_ID=3815.2.0\n"));
	ASSERT_EQ(conf_load_os_release(&c, root, &p), 0);
	ASSERT_STREQ(conf_get(&c, "ID"), "flatcar");
	ASSERT_OK(unit_put(root, "/etc/os-release", "ID=\"etc\"\n"));
	conf_release(&c);
	ASSERT_EQ(conf_load_os_release(&c, root, &p), 0);
	ASSERT_STREQ(conf_get(&c, "ID"), "etc");
	ASSERT_NULL(conf_get(&c, "VERSION_ID"));

	char *big = malloc(CONF_MAX_SIZE + 2);
	ASSERT_NOT_NULL(big);
	memset(big, '#', CONF_MAX_SIZE + 1);
	big[CONF_MAX_SIZE + 1] = 0;
	int r = unit_put(root, "/etc/flatcar/update.conf", big);
	free(big);
	ASSERT_OK(r);
	ASSERT_ERR(conf_load_update(&c, root, &p), EFBIG);
	ASSERT_TRUE(problem_has_errors(&p));
	ASSERT_STREQ(problem_last(&p)->where, "/etc/flatcar/update.conf");
	rmroot(dir);
}
