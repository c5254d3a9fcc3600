/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-state.c - state.json model, persistence, resume rule, lock, reset
 * (lib/update; docs/update.md 7). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "update/state.h"
#include "util/problem.h"

TEST(status_names_round_trip)
{
	for (int i = 0; i < _UPDATE_STATUS_MAX; i++)
		ASSERT_EQ(update_status_from_string(update_status_to_string(i)), i);
	ASSERT_STREQ(update_status_to_string(UPDATE_STATUS_UPDATED_NEED_REBOOT),
		     "UPDATE_STATUS_UPDATED_NEED_REBOOT");
	ASSERT_STREQ(update_status_short_name(UPDATE_STATUS_DOWNLOADING), "DOWNLOADING");
	ASSERT_EQ(update_status_from_string("IDLE"), _UPDATE_STATUS_INVALID);
	ASSERT_NULL(update_status_to_string(_UPDATE_STATUS_MAX));
}

TEST(error_code_names)
{
	ASSERT_STREQ(update_error_code_to_string(18), "DownloadPayloadPubKeyVerificationError");
	ASSERT_STREQ(update_error_code_to_string(44), "RollbackError");
	ASSERT_STREQ(update_error_code_to_string(1), "Error");
	ASSERT_STREQ(update_error_code_to_string(12345), "Error");
}

TEST(fresh_state_is_idle)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	struct update_staged st;
	struct update_pending p;
	struct update_error e;
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_IDLE);
	ASSERT_FALSE(update_state_get_staged(s, &st));
	ASSERT_FALSE(update_state_get_pending(s, &p));
	ASSERT_FALSE(update_state_get_last_error(s, &e));
	ASSERT_FALSE(update_state_has_backoff(s));
	ASSERT_EQ(update_state_bad_payload_count(s), 0);
}

static const char EXAMPLE[] =
	"{\"schema\": 1, \"status\": \"UPDATE_STATUS_UPDATED_NEED_REBOOT\","
	" \"last_checked_time\": 1732550412, \"aleph_version\": \"3815.2.0\", \"progress\": 1.0,"
	" \"pending\": null, \"staged\": {\"version\": \"4081.2.0\", \"previous_version\": \"3975.2.1\","
	" \"partition\": \"USR-B\", \"partuuid\": \"e03dd35c-7c2d-4a47-b3fe-27f15780a57c\","
	" \"boot_id\": \"8d3c1a4e-52b0-4f7e-9a61-2c7f0e5b9d13\", \"size\": 478150731,"
	" \"installed_time\": 1732550990}, \"report\": null, \"last_error\": null,"
	" \"backoff\": {\"payload_attempts\": 0, \"until\": 0, \"url_index\": 0, \"url_failures\": 0},"
	" \"bad_payloads\": [], \"from_the_future\": {\"keep\": [1, 2]}}";

TEST(parse_spec_example_and_keep_unknown_fields)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(update_state_freep) struct update_state *s2 = NULL;
	struct update_staged st;
	ASSERT_OK(update_state_parse(EXAMPLE, strlen(EXAMPLE), &s, NULL));
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_UPDATED_NEED_REBOOT);
	ASSERT_U64_EQ(update_state_last_checked(s), 1732550412);
	ASSERT_STREQ(update_state_aleph_version(s), "3815.2.0");
	ASSERT_TRUE(update_state_get_staged(s, &st));
	ASSERT_STREQ(st.version, "4081.2.0");
	ASSERT_STREQ(st.partition, "USR-B");
	ASSERT_U64_EQ(st.size, 478150731);
	ASSERT_OK(update_state_set_status(s, UPDATE_STATUS_IDLE));
	_cleanup_free_ char *text = update_state_format(s);
	ASSERT_NOT_NULL(text);
	ASSERT_NOT_NULL(strstr(text, "\"from_the_future\""));
	ASSERT_OK(update_state_parse(text, strlen(text), &s2, NULL));
	ASSERT_EQ(update_state_status(s2), UPDATE_STATUS_IDLE);
}

TEST(parse_rejects_wrong_types_with_pointers)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	const char *bad = "{\"status\": \"UPDATE_STATUS_NAPPING\", \"progress\": 2,"
			  " \"staged\": {\"version\": 4, \"partition\": \"USR-B\", \"size\": -1,"
			  " \"installed_time\": 0}, \"pending\": {\"urls\": [1], \"size\": 1,"
			  " \"source\": \"omaha\", \"started_time\": 0}}";
	ASSERT_ERR(update_state_parse(bad, strlen(bad), &s, &p), EBADMSG);
	ASSERT_NULL(s);
	ASSERT_EQ(p.n, 5);
	ASSERT_STREQ(p.item[0].where, "/status");
	ASSERT_STREQ(p.item[1].where, "/progress");
	ASSERT_STREQ(p.item[2].where, "/staged/version");
	ASSERT_STREQ(p.item[3].where, "/staged/size");
	ASSERT_STREQ(p.item[4].where, "/pending/urls/0");
}

TEST(parse_rejects_garbage_and_other_schema)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(update_state_parse("{\"schema\":", 10, &s, &p), EBADMSG);
	ASSERT_ERR(update_state_parse("[]", 2, &s, NULL), EBADMSG);
	ASSERT_ERR(update_state_parse("{\"schema\": 2}", 13, &s, NULL), EBADMSG);
	ASSERT_ERR(update_state_parse("{\"a\":1,\"a\":2}", 13, &s, NULL), EBADMSG);
	ASSERT_EQ(p.n, 1);
	ASSERT_NOT_NULL(strstr(p.item[0].where, "line 1"));
}

TEST(save_load_and_corrupt_file_moved_aside)
{
	_cleanup_free_ char *dir = unit_mktree("update");
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	ASSERT_EQ(update_state_load(root, UPDATE_STATE_MOVE_BAD, &s, NULL, NULL), UPDATE_STATE_FRESH);
	ASSERT_OK(update_state_set_last_error(s, 18, "bad signature", 5));
	ASSERT_OK(update_state_save(root, s));
	s = update_state_free(s);

	char path[4200];
	struct stat stt;
	snprintf(path, sizeof(path), "%s%s", dir, UPDATE_STATE_DIR);
	ASSERT_EQ(stat(path, &stt), 0);
	/* traversable, not listable: status.json is read by name without root */
	ASSERT_EQ(stt.st_mode & 07777, 0711);
	snprintf(path, sizeof(path), "%s%s", dir, UPDATE_STATE_FILE);
	ASSERT_EQ(stat(path, &stt), 0);
	ASSERT_EQ(stt.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s%s", dir, UPDATE_STATUS_FILE);
	ASSERT_EQ(stat(path, &stt), 0);
	ASSERT_EQ(stt.st_mode & 07777, 0644);

	struct update_error e;
	ASSERT_EQ(update_state_load(root, 0, &s, NULL, NULL), UPDATE_STATE_LOADED);
	ASSERT_TRUE(update_state_get_last_error(s, &e));
	ASSERT_EQ(e.code, 18);
	ASSERT_STREQ(e.name, "DownloadPayloadPubKeyVerificationError");
	s = update_state_free(s);

	/* Corrupt: readers see IDLE and leave the file; writers move it aside. */
	ASSERT_OK(fs_write_atomic(root, UPDATE_STATE_FILE, "{oops", 5, 0600));
	ASSERT_EQ(update_state_load(root, 0, &s, NULL, NULL), UPDATE_STATE_CORRUPT);
	ASSERT_EQ(fs_exists(root, UPDATE_STATE_FILE), 1);
	s = update_state_free(s);
	_cleanup_free_ char *moved = NULL;
	ASSERT_EQ(update_state_load(root, UPDATE_STATE_MOVE_BAD, &s, &moved, NULL),
		  UPDATE_STATE_CORRUPT);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_IDLE);
	ASSERT_NOT_NULL(moved);
	ASSERT_TRUE(strncmp(moved, UPDATE_STATE_DIR "/state.json.bad-", 38) == 0);
	ASSERT_EQ(fs_exists(root, UPDATE_STATE_FILE), 0);
	ASSERT_EQ(fs_exists(root, moved), 1);
	unit_rmtree(dir);
}

static struct update_state *with_pending(const char *source, const char *sha, const char *url,
					 uint64_t size, enum update_status st)
{
	struct update_state *s = update_state_new();
	struct update_pending p = { .version = "4081.2.0", .name = "p.gz", .sha256 = sha,
				    .source = source, .size = size };
	const char *urls[] = { url };
	if (!s || update_state_set_pending(s, &p, urls, 1) < 0 || update_state_set_status(s, st) < 0)
		return update_state_free(s);
	return s;
}

TEST(resume_rule)
{
	_cleanup_(update_state_freep) struct update_state *s =
		with_pending("omaha", "AAAA", "http://x/p.gz", 1000, UPDATE_STATUS_DOWNLOADING);
	ASSERT_NOT_NULL(s);
	struct update_offer same = { .source = "omaha", .sha256 = "AAAA", .size = 1000 };
	struct update_offer other = { .source = "omaha", .sha256 = "BBBB", .size = 1000 };
	struct update_offer resized = { .source = "omaha", .sha256 = "AAAA", .size = 999 };
	ASSERT_EQ(update_resume_decide(s, &same, 500), UPDATE_RESUME_CONTINUE);
	ASSERT_EQ(update_resume_decide(s, &same, 0), UPDATE_RESUME_CONTINUE);
	ASSERT_EQ(update_resume_decide(s, &same, -1), UPDATE_RESUME_START_OVER);
	ASSERT_EQ(update_resume_decide(s, &same, 1001), UPDATE_RESUME_START_OVER);
	ASSERT_EQ(update_resume_decide(s, &other, 500), UPDATE_RESUME_START_OVER);
	ASSERT_EQ(update_resume_decide(s, &resized, 500), UPDATE_RESUME_START_OVER);
	/* complete file while finalizing: verify again and rewrite (7.3) */
	ASSERT_OK(update_state_set_status(s, UPDATE_STATUS_FINALIZING));
	ASSERT_EQ(update_resume_decide(s, &same, 1000), UPDATE_RESUME_REVERIFY);
	ASSERT_EQ(update_resume_decide(s, &same, 400), UPDATE_RESUME_CONTINUE);

	/* --payload URL: the URL and --sha256 must both match; no hash, no resume */
	_cleanup_(update_state_freep) struct update_state *l =
		with_pending("local", "CCCC", "http://x/a.gz", 10, UPDATE_STATUS_DOWNLOADING);
	struct update_offer lsame = { .source = "local", .sha256 = "CCCC", .url = "http://x/a.gz",
				      .size = 10 };
	struct update_offer lurl = { .source = "local", .sha256 = "CCCC", .url = "http://x/b.gz",
				     .size = 10 };
	struct update_offer lnohash = { .source = "local", .url = "http://x/a.gz", .size = 10 };
	ASSERT_EQ(update_resume_decide(l, &lsame, 5), UPDATE_RESUME_CONTINUE);
	ASSERT_EQ(update_resume_decide(l, &lurl, 5), UPDATE_RESUME_START_OVER);
	ASSERT_EQ(update_resume_decide(l, &lnohash, 5), UPDATE_RESUME_START_OVER);
	ASSERT_EQ(update_resume_decide(l, &same, 5), UPDATE_RESUME_START_OVER);
}

TEST(bad_payloads_keep_the_last_16)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	char h[16];
	for (int i = 0; i < 20; i++) {
		snprintf(h, sizeof(h), "h%d", i);
		ASSERT_OK(update_state_add_bad_payload(s, h));
	}
	ASSERT_OK(update_state_add_bad_payload(s, "h19"));
	ASSERT_EQ(update_state_bad_payload_count(s), UPDATE_BAD_PAYLOADS_MAX);
	ASSERT_FALSE(update_state_is_bad_payload(s, "h3"));
	ASSERT_TRUE(update_state_is_bad_payload(s, "h4"));
	ASSERT_OK(update_state_clear_bad_payloads(s));
	ASSERT_EQ(update_state_bad_payload_count(s), 0);
}

TEST(lock_is_exclusive_and_names_the_holder)
{
	_cleanup_free_ char *dir = unit_mktree("update");
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_close_ int fd = -1;
	ASSERT_OK(update_lock_take(root, 0, &fd, NULL));
	/* flock locks belong to the open file description: a child's own open must fail */
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		int cfd = -1;
		pid_t holder = 0;
		int r = update_lock_take(root, 200 * 1000, &cfd, &holder);
		_exit(r == -EBUSY && holder == getppid() ? 0 : 1);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	closep(&fd);
	fd = -1;
	ASSERT_OK(update_lock_take(root, 0, &fd, NULL));
	unit_rmtree(dir);
}

TEST(reset_clears_everything_once)
{
	_cleanup_free_ char *dir = unit_mktree("update");
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_state_freep) struct update_state *s =
		with_pending("omaha", "AAAA", "http://x/p.gz", 1000, UPDATE_STATUS_DOWNLOADING);
	ASSERT_NOT_NULL(s);
	ASSERT_OK(update_state_set_last_error(s, 9, "download failed", 1));
	ASSERT_OK(update_state_add_bad_payload(s, "ZZZ"));
	ASSERT_OK(fs_mkdir_p(root, UPDATE_STATE_DIR, 0700));
	ASSERT_OK(fs_mkdir_p(root, "/run", 0755));
	ASSERT_OK(fs_write_atomic(root, UPDATE_PART_FILE, "abc", 3, 0600));
	ASSERT_OK(fs_write_atomic(root, UPDATE_REBOOT_MARKER, "", 0, 0644));
	int r = update_state_reset(root, s);
	ASSERT_EQ(r, UPDATE_RESET_PENDING | UPDATE_RESET_ERROR | UPDATE_RESET_BACKOFF |
			     UPDATE_RESET_MARKER | UPDATE_RESET_STATUS);
	ASSERT_EQ(fs_exists(root, UPDATE_PART_FILE), 0);
	ASSERT_EQ(fs_exists(root, UPDATE_REBOOT_MARKER), 0);
	s = update_state_free(s);
	ASSERT_EQ(update_state_load(root, 0, &s, NULL, NULL), UPDATE_STATE_LOADED);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_IDLE);
	ASSERT_EQ(update_state_reset(root, s), 0);
	unit_rmtree(dir);
}

TEST(public_status_file_has_no_urls_and_serves_readers)
{
	_cleanup_free_ char *dir = unit_mktree("update");
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	ASSERT_NOT_NULL(s);
	const char *urls[] = { "https://user:secret@example.com/p.gz?token=hunter2" };
	struct update_pending pe = { .version = "4081.2.0", .sha256 = "AAAA", .source = "omaha",
				     .size = 1234, .started_time = 7 };
	ASSERT_OK(update_state_set_pending(s, &pe, urls, 1));
	ASSERT_OK(update_state_set_status(s, UPDATE_STATUS_DOWNLOADING));
	ASSERT_OK(update_state_add_bad_payload(s, "BBBB"));
	ASSERT_OK(update_state_save(root, s));
	s = update_state_free(s);

	_cleanup_free_ char *pub = NULL;
	size_t n = 0;
	ASSERT_OK(fs_read_file(root, UPDATE_STATUS_FILE, 1 << 20, &pub, &n));
	ASSERT_NULL(strstr(pub, "secret"));
	ASSERT_NULL(strstr(pub, "hunter2"));
	ASSERT_NULL(strstr(pub, "BBBB"));
	ASSERT_NULL(strstr(pub, "AAAA"));
	ASSERT_OK(update_state_parse(pub, n, &s, NULL));
	struct update_pending got;
	ASSERT_TRUE(update_state_get_pending(s, &got));
	ASSERT_STREQ(got.version, "4081.2.0");
	ASSERT_EQ(got.size, 1234);
	ASSERT_NULL(got.url);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_DOWNLOADING);
	s = update_state_free(s);

	/* a reader that may not read state.json gets the public view (root reads it as root does,
	 * so take the private file away instead of dropping privileges here) */
	char path[4200];
	snprintf(path, sizeof(path), "%s%s", dir, UPDATE_STATE_FILE);
	ASSERT_EQ(chmod(path, 0), 0);
	if (geteuid() != 0) {
		ASSERT_EQ(update_state_load(root, UPDATE_STATE_PUBLIC_OK, &s, NULL, NULL),
			  UPDATE_STATE_PUBLIC);
		ASSERT_EQ(update_state_status(s), UPDATE_STATUS_DOWNLOADING);
		s = update_state_free(s);
		ASSERT_ERR(update_state_load(root, 0, &s, NULL, NULL), EACCES);
	}
	unit_rmtree(dir);
}

TEST(backoff_and_bad_payload_details)
{
	_cleanup_(update_state_freep) struct update_state *s = update_state_new();
	struct update_backoff b;
	int code = 0;
	uint64_t when = 0;
	ASSERT_NOT_NULL(s);
	update_state_get_backoff(s, &b);
	ASSERT_EQ(b.payload_attempts, 0);
	ASSERT_NULL(b.sha256);
	ASSERT_FALSE(update_state_has_backoff(s));
	b = (struct update_backoff){ .payload_attempts = 2, .until = 99, .url_index = 1,
				     .sha256 = "CCCC" };
	ASSERT_OK(update_state_set_backoff(s, &b));
	ASSERT_TRUE(update_state_has_backoff(s));
	update_state_get_backoff(s, &b);
	ASSERT_EQ(b.payload_attempts, 2);
	ASSERT_EQ(b.until, 99);
	ASSERT_EQ(b.url_index, 1);
	ASSERT_STREQ(b.sha256, "CCCC");

	ASSERT_OK(update_state_add_bad_payload(s, "DDDD"));
	ASSERT_OK(update_state_set_bad_payload_info(s, "DDDD", 18, 1000));
	ASSERT_TRUE(update_state_bad_payload_info(s, "DDDD", &code, &when));
	ASSERT_EQ(code, 18);
	ASSERT_EQ(when, 1000);
	ASSERT_FALSE(update_state_bad_payload_info(s, "EEEE", &code, &when));

	/* survives a round trip and validates */
	_cleanup_free_ char *text = update_state_format(s);
	_cleanup_(update_state_freep) struct update_state *t = NULL;
	ASSERT_OK(update_state_parse(text, strlen(text), &t, NULL));
	ASSERT_TRUE(update_state_bad_payload_info(t, "DDDD", &code, &when));
	ASSERT_OK(update_state_clear_bad_payloads(t));
	ASSERT_FALSE(update_state_bad_payload_info(t, "DDDD", &code, &when));
	ASSERT_EQ(update_state_bad_payload_count(t), 0);
}
