/* SPDX-License-Identifier: MIT */
/* tests/unit/test-diag.c - lib/diag: the mayday config parser, command member names, the
 * never-collected list, the buffer (docs/diag.md §3). */
#include <string.h>

#include "util/buf.h"
#include "diag/bundle.h"
#include "diag/config.h"
#include "util/problem.h"
#include "tap.h"

TEST(config_mayday_default)
{
	static const char doc[] =
		"{\"files\": [{\"name\": \"/proc/meminfo\", \"link\": \"meminfo\"}, {\"name\": \"/x\"}],"
		" \"directories\": [{\"name\": \"/sys/fs/pstore\", \"link\": \"pstore\"}],"
		" \"commands\": [{\"args\": [\"journalctl\", \"--system\", \"-b\", \"-1\"],"
		" \"link\": \"prev-boot.log\"}]}";
	_cleanup_(diag_config_release) struct diag_config c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_OK(diag_config_parse(doc, strlen(doc), "t.json", &c, &p));
	ASSERT_EQ(p.n, 0);
	ASSERT_EQ(c.n_files, 2);
	ASSERT_STREQ(c.files[0].link, "meminfo");
	ASSERT_TRUE(c.files[1].link == NULL);
	ASSERT_EQ(c.n_dirs, 1);
	ASSERT_EQ(c.n_cmds, 1);
	ASSERT_EQ(c.cmds[0].n_args, 4);
	ASSERT_STREQ(c.cmds[0].args[3], "-1");
	ASSERT_TRUE(c.cmds[0].args[4] == NULL);
	ASSERT_TRUE(c.builtin);
}

TEST(config_errors_carry_pointers)
{
	static const char doc[] = "{\"commands\": [{\"args\": [\"ls\"]}, {\"args\": []},"
				  " {\"args\": [\"ls\", 3]}, {\"args\": [\"x\"], \"link\": \"a/b\"}],"
				  " \"files\": \"nope\", \"builtin\": 1, \"extra\": true}";
	_cleanup_(diag_config_release) struct diag_config c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_ERR(diag_config_parse(doc, strlen(doc), "t.json", &c, &p), EINVAL);
	const char *want[] = { "/commands/1/args", "/commands/2/args/1", "/commands/3/link",
			       "/files", "/builtin" };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		bool found = false;
		for (size_t k = 0; k < p.n; k++)
			if (p.item[k].where && strcmp(p.item[k].where, want[i]) == 0 &&
			    p.item[k].severity == PROBLEM_ERROR)
				found = true;
		ASSERT_TRUE(found);
	}
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 1); /* "extra" */
	ASSERT_EQ(c.n_cmds, 0);                            /* nothing half-parsed is handed out */
}

TEST(config_invalid_json_line_column)
{
	static const char doc[] = "{\n  \"files\": [\n    {\"name\": }\n";
	_cleanup_(diag_config_release) struct diag_config c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_ERR(diag_config_parse(doc, strlen(doc), "t.json", &c, &p), EINVAL);
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.item[0].line, 3);
	ASSERT_TRUE(p.item[0].column > 0);
	ASSERT_STREQ(p.item[0].where, "t.json");
}

TEST(link_names)
{
	ASSERT_TRUE(diag_link_name_valid("prev-boot.log"));
	ASSERT_FALSE(diag_link_name_valid(""));
	ASSERT_FALSE(diag_link_name_valid(".."));
	ASSERT_FALSE(diag_link_name_valid("a/b"));
	ASSERT_FALSE(diag_link_name_valid("tab\there"));
}

TEST(command_member_names)
{
	char *a1[] = { (char *)"ip", (char *)"-o", (char *)"addr", (char *)"show", NULL };
	char *a2[] = { (char *)"ps", (char *)"-eo", (char *)"pid,args", NULL };
	char *a3[] = { (char *)"/usr/bin/cat", (char *)"/etc/a b", NULL };
	char *a4[] = { (char *)"..", NULL };
	_cleanup_free_ char *m1 = diag_command_member(a1), *m2 = diag_command_member(a2),
			    *m3 = diag_command_member(a3), *m4 = diag_command_member(a4);
	ASSERT_STREQ(m1, "commands/ip_-o_addr_show.txt");
	ASSERT_STREQ(m2, "commands/ps_-eo_pid,args.txt");
	ASSERT_STREQ(m3, "commands/-usr-bin-cat_-etc-a_b.txt");
	ASSERT_STREQ(m4, "commands/.._.txt");
}

TEST(never_collected)
{
	const char *yes[] = { "/etc/shadow", "/etc/gshadow-", "/etc/ssh/ssh_host_ed25519_key",
			      "/home/core/x", "/root", "/srv/.ssh/authorized_keys", "/srv/.ssh",
			      "/etc/ssl/etcd/peer.crt", "/etc/kubernetes/admin.conf", "/x/tls.key",
			      "/usr/share/oem/config.ign", "/var/lib/flatcar-oem-gce/user-data",
			      "/var/lib/cloud/user-data", "/run/ignition.json", "/a/b.ign" };
	const char *no[] = { "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/os-release",
			     "/homeless", "/etc/shadows.conf", "/etc/flatcar/update.conf",
			     "/sys/fs/pstore/dmesg-ramoops-0", "/etc/keys.txt" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!diag_path_excluded(yes[i]))
			TAP_FAIL_("should be excluded: %s", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (diag_path_excluded(no[i]))
			TAP_FAIL_("should be collected: %s", no[i]);
}

TEST(buffer)
{
	struct dbuf b = {};
	dbuf_puts(&b, "line one\n");
	dbuf_printf(&b, "%s %d\n", "line", 2);
	for (int i = 0; i < 100; i++)
		dbuf_printf(&b, "%0300d", i);
	ASSERT_EQ(b.n, 9 + 7 + 30000);
	dbuf_consume(&b, 9);
	ASSERT_TRUE(strncmp(b.p, "line 2\n", 7) == 0);
	ASSERT_FALSE(b.oom);
	size_t n;
	char *p = dbuf_take(&b, &n);
	ASSERT_EQ(n, 7 + 30000);
	ASSERT_TRUE(b.p == NULL && b.n == 0);
	free(p);
}
