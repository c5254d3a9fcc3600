/* SPDX-License-Identifier: MIT */
/* bench/payload-apply-driver.c - installs a payload into an image file the way the update path
 * does (docs/update.md 5.5, 6.2, 6.3): verify pass, write pass, read-back; prints the time of
 * each phase and the peak RSS. The verify pass spools the decompressed image next to the target
 * (O_TMPFILE) and the write pass copies it, as lib/update/install.c does. `--list` prints each operation's blob (for the sequential peer). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "payload/payload.h"
#include "util/problem.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, int r, const struct problem_list *p)
{
	fprintf(stderr, "payload-apply-driver: %s: %s\n", what,
		p && p->n ? p->item[p->n - 1].message : strerror(-r));
	return 1;
}

static int pass(const char *path, const struct payload_stream_opts *o,
		struct payload_manifest **ret_m, struct payload_stream_result *ret_res, int *ret_spool)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct payload_stream *s = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : payload_stream_new(o, &s);

	if (r >= 0)
		r = payload_stream_feed_fd(s, fd, &p);
	if (r >= 0)
		r = payload_stream_finish(s, &p);
	if (r >= 0 && ret_res)
		payload_stream_result(s, ret_res);
	if (r >= 0 && ret_m)
		*ret_m = payload_stream_take_manifest(s);
	if (r >= 0 && ret_spool) {
		int why;
		*ret_spool = payload_stream_take_spool(s, &why);
		if (*ret_spool < 0)
			fprintf(stderr, "payload-apply-driver: no spool (%s): decompressing twice\n",
				strerror(-why));
	}
	payload_stream_free(s);
	if (fd >= 0)
		close(fd);
	return r < 0 ? die(path, r, &p) : 0;
}

int main(int argc, char **argv)
{
	unsigned workers = 0;

	if (argc >= 3 && strcmp(argv[1], "--list") == 0) {
		_cleanup_(problem_list_release) struct problem_list p = {};
		struct payload_stream_opts o = { .usr_fd = -1, .kernel_fd = -1, .workers = 1 };
		struct payload_stream *s = NULL;
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		uint8_t buf[65536];
		ssize_t n;
		if (fd < 0 || payload_stream_new(&o, &s) < 0)
			return 1;
		/* header + manifest only */
		while (!payload_stream_manifest(s) && (n = read(fd, buf, sizeof(buf))) > 0)
			if (payload_stream_feed(s, buf, (size_t)n, &p) < 0)
				return die(argv[2], -EINVAL, &p);
		const struct payload_manifest *m = payload_stream_manifest(s);
		if (!m)
			return 1;
		for (size_t i = 0; i < m->n_ops; i++)
			printf("%s %llu %llu\n", payload_op_type_to_string(m->ops[i].type),
			       (unsigned long long)(m->blobs_offset + m->ops[i].data_offset),
			       (unsigned long long)m->ops[i].data_length);
		close(fd);
		payload_stream_free(s);
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: payload-apply-driver PAYLOAD PUBKEY.pem TARGET [WORKERS]\n"
				"       payload-apply-driver --list PAYLOAD\n");
		return 2;
	}
	if (argc > 4)
		workers = (unsigned)atoi(argv[4]);
	/* the spool goes next to the target, as the update path puts it next to payload.part */
	_cleanup_free_ char *dir = strdup(argv[3]);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash)
		*slash = 0;
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int spool = -1;

	_cleanup_(problem_list_release) struct problem_list kp = {};
	struct crypto_key *key = NULL;
	if (crypto_pubkey_load_file(argv[2], &key, &kp) < 0)
		return die(argv[2], -EINVAL, &kp);
	const struct crypto_key *keys[] = { key };

	double t0 = now();
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	struct payload_stream_opts vo = { .keys = keys, .n_keys = 1, .usr_fd = -1, .kernel_fd = -1,
					  .workers = workers, .spool = dfd >= 0, .spool_fd = dfd };
	if (pass(argv[1], &vo, &m, &res, &spool))
		return 1;
	double t1 = now();

	int tfd = open(argv[3], O_RDWR | O_CLOEXEC);
	if (tfd < 0)
		return die(argv[3], -errno, NULL);
	struct payload_stream_opts wo = { .verified = m, .verified_digest = res.signed_sha256,
					  .usr_fd = tfd, .kernel_fd = -1, .workers = workers,
					  .partition_size = m->new_size, .spool = spool >= 0,
					  .spool_fd = spool };
	if (pass(argv[1], &wo, NULL, NULL, NULL))
		return 1;
	double t2 = now();
	int r = payload_check_image(tfd, 0, m->new_size, m->new_hash, NULL);
	if (r < 0)
		return die("read-back", r, NULL);
	double t3 = now();

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("verify %.3f\nwrite %.3f\nreadback %.3f\ntotal %.3f\nmaxrss_kib %ld\n", t1 - t0,
	       t2 - t1, t3 - t2, t3 - t0, ru.ru_maxrss);
	close(tfd);
	if (spool >= 0)
		close(spool);
	if (dfd >= 0)
		close(dfd);
	payload_manifest_free(m);
	crypto_key_free(key);
	return 0;
}
