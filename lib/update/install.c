/* SPDX-License-Identifier: MIT */
/* lib/update/install.c - verify a payload, write it to the passive USR partition, read it back,
 * install the kernel, flip the GPT (docs/update.md 5.5, 6.2-6.5).
 *
 * Nothing is written before the whole file verified (5.5). The verify pass keeps the decompressed
 * USR image in a spool (an unlinked O_TMPFILE in the state directory, when it fits) so that the
 * write pass copies it instead of decompressing every blob a second time. The write pass still
 * re-reads and re-hashes each blob (lib/payload's write mode) so a file changed between the passes
 * cannot slip in, and the read-back of 6.3 checks the whole partition against the signed
 * new_partition_info. Every
 * write lands inside the target partition's byte range from the GPT; the booted partition is
 * never opened. The GPT flip is the last disk write. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "payload/payload.h"
#include "update/install.h"
#include "update/state.h"
#include "util/problem.h"

DEFINE_CLEANUP(struct payload_stream, payload_stream_free)
DEFINE_CLEANUP(struct payload_manifest, payload_manifest_free)

void update_test_kill_point(const char *point, uint64_t amount)
{
	const char *v = getenv("FLATCTL_TEST_UPDATE_KILL");
	size_t n = strlen(point);

	if (!v || strncmp(v, point, n) != 0)
		return;
	if (v[n] == ':') {
		unsigned long long at = strtoull(v + n + 1, NULL, 10);
		if (amount < at)
			return;
	} else if (v[n] != 0)
		return;
	(void)kill(getpid(), SIGKILL);
}

void update_base64_32(const uint8_t in[32], char *out)
{
	_cleanup_free_ char *b = crypto_base64_encode(in, 32);
	out[0] = 0;
	if (b)
		memcpy(out, b, strlen(b) + 1);
}

void update_verified_release(struct update_verified *v)
{
	v->manifest = payload_manifest_free(v->manifest);
	if (v->has_spool)
		(void)close(v->spool_fd);
	v->has_spool = false;
}

static const char *fmt_size(uint64_t n, char *buf, size_t size)
{
	if (n >= (UINT64_C(1) << 30))
		snprintf(buf, size, "%.1f GiB", (double)n / (double)(UINT64_C(1) << 30));
	else if (n >= (UINT64_C(1) << 20))
		snprintf(buf, size, "%.1f MiB", (double)n / (double)(UINT64_C(1) << 20));
	else if (n >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)n);
	return buf;
}

static int code_of(int r)
{
	if (payload_error_is_invalid(r))
		return (int)payload_error_code(r);
	return 1;
}

static bool cancelled(const struct update_target *t)
{
	return t->cancel && *t->cancel;
}

/* Feed the whole of fd (from offset 0) to the stream and finish it, in 1 MiB pieces so that a
 * cancel request is seen between two of them. before (may be NULL) is called with the bytes fed
 * so far before each piece (the crash tests' kill point). */
static int feed_file(const struct update_target *t, struct payload_stream *s, int fd,
		     void (*before)(uint64_t fed), struct problem_list *reterr)
{
	_cleanup_free_ uint8_t *chunk = malloc(1u << 20);
	uint64_t fed = 0;
	int r;

	if (!chunk)
		return problem_add(reterr, -ENOMEM, NULL, "out of memory");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return problem_add(reterr, -errno, NULL, "cannot seek: %s", strerror(errno));
	for (;;) {
		if (before)
			before(fed);
		if (cancelled(t))
			return problem_add(reterr, -ECANCELED, NULL, "stopped");
		ssize_t n = read(fd, chunk, 1u << 20);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return problem_add(reterr, -errno, NULL, "cannot read: %s", strerror(errno));
		}
		if (n == 0)
			return payload_stream_finish(s, reterr);
		r = payload_stream_feed(s, chunk, (size_t)n, reterr);
		if (r < 0)
			return r;
		fed += (uint64_t)n;
	}
}

static void write_kill_point(uint64_t fed)
{
	update_test_kill_point("write", fed);
}

/* The verify pass's options: the trusted keys, and the spool in spool_dir (the state directory,
 * next to payload.part, inside --root) unless it is -errno; `reserve` bytes must stay free. */
static struct payload_stream_opts verify_opts(const struct update_target *t, int spool_dir,
					      uint64_t reserve)
{
	return (struct payload_stream_opts){ .keys = t->keys, .n_keys = t->n_keys, .usr_fd = -1,
					     .kernel_fd = -1, .spool = spool_dir >= 0,
					     .spool_fd = spool_dir, .spool_reserve = reserve };
}

/* 5.5 steps 3-7 on the staged file, in lib/payload's order (extents first bounded by
 * new_partition_info, so that an image too big for the partition is reported as such, code 7,
 * by the caller): the finished stream, with its spool made in the state
 * directory (*ret_spool_dir, the caller closes it) when there is room. */
static int verify_file(const struct update_target *t, int fd, struct payload_stream **ret,
		       int *ret_spool_dir, int *ret_code, struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	int spool_dir;
	int r;

	spool_dir = *ret_spool_dir = fs_open(t->root_fd, UPDATE_STATE_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (spool_dir < 0)
		log_info("%s: not spooling the decompressed image (%s); decompressing twice",
			 UPDATE_STATE_DIR, strerror(-spool_dir));
	struct payload_stream_opts o = verify_opts(t, spool_dir, 0);
	r = payload_stream_new(&o, &s);
	if (r < 0)
		return problem_add(reterr, r, NULL, "%s", strerror(-r));
	r = feed_file(t, s, fd, NULL, reterr);
	if (r < 0) {
		*ret_code = code_of(r);
		if (!problem_has_errors(reterr))
			(void)problem_add(reterr, r, NULL, "%s", strerror(-r));
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* --- verifying while downloading ------------------------------------------------------------ */

struct update_early {
	struct payload_stream_opts o;
	struct payload_stream *s;        /* NULL once broken */
	int spool_dir;
	uint64_t fed;                    /* bytes fed: the file's first `fed` bytes */
};

int update_early_new(const struct update_target *t, uint64_t reserve, struct update_early **ret)
{
	struct update_early *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	/* the rest of the download needs `reserve` bytes beside the spool */
	e->spool_dir = fs_open(t->root_fd, UPDATE_STATE_DIR, O_RDONLY | O_DIRECTORY, 0);
	e->o = verify_opts(t, e->spool_dir, reserve);
	r = payload_stream_new(&e->o, &e->s);
	if (r < 0) {
		update_early_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

struct update_early *update_early_free(struct update_early *e)
{
	if (!e)
		return NULL;
	payload_stream_free(e->s);
	if (e->spool_dir >= 0)
		(void)close(e->spool_dir);
	free(e);
	return NULL;
}

static void early_break(struct update_early *e, const char *why)
{
	if (e->s)
		log_debug("verifying while downloading stopped (%s); the staged file is verified "
			  "when complete", why);
	e->s = payload_stream_free(e->s);
}

static void early_restart(struct update_early *e)
{
	e->s = payload_stream_free(e->s);
	e->fed = 0;
	if (payload_stream_new(&e->o, &e->s) < 0)
		e->s = NULL;
}

void update_early_feed(struct update_early *e, const void *data, size_t n, uint64_t offset)
{
	_cleanup_(problem_list_release) struct problem_list p = {};

	if (!e || !e->s)
		return;
	if (offset != e->fed) {
		if (offset != 0)
			return early_break(e, "bytes out of order");
		early_restart(e); /* a 200 answer to a range request: the file starts over */
		if (!e->s)
			return;
	}
	if (payload_stream_feed(e->s, data, n, &p) < 0)
		return early_break(e, "bad payload");
	e->fed += n;
}

int update_early_catch_up(struct update_early *e, int part_fd, uint64_t have)
{
	_cleanup_free_ uint8_t *buf = NULL;

	if (!e || !e->s || e->fed == have)
		return 0;
	if (e->fed > have)
		early_restart(e);
	buf = malloc(1u << 20);
	if (!buf)
		return -ENOMEM;
	while (e->s && e->fed < have) {
		size_t want = have - e->fed < (1u << 20) ? (size_t)(have - e->fed) : (1u << 20);
		ssize_t n = pread(part_fd, buf, want, (off_t)e->fed);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			early_break(e, n < 0 ? strerror(errno) : "staged file shorter than expected");
			break;
		}
		update_early_feed(e, buf, (size_t)n, e->fed);
	}
	return 0;
}

/* The early stream, finished, when it saw exactly the file's size bytes and everything of 5.5
 * steps 3-7 passed; else NULL (the caller verifies the staged file from the start). */
static struct payload_stream *early_take(struct update_early *e, uint64_t size)
{
	_cleanup_(problem_list_release) struct problem_list p = {};

	if (!e || !e->s)
		return NULL;
	if (e->fed != size) {
		early_break(e, "not every staged byte seen");
		return NULL;
	}
	if (payload_stream_finish(e->s, &p) < 0) {
		early_break(e, "bad payload");
		return NULL;
	}
	return TAKE_PTR(e->s);
}

int update_payload_verify(const struct update_target *t, int fd, uint64_t expect_size,
			  const uint8_t *expect_sha256, const uint8_t *expect_sha256_alt,
			  struct update_early *early, struct update_verified *ret, int *ret_code,
			  struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	_cleanup_close_ int spool_dir = -1, spool = -1;
	struct payload_stream_result res;
	uint64_t part_off, part_size;
	bool spooling = false;
	struct stat st;
	int r;

	*ret_code = 1;
	r = gpt_entry_extent(t->disk->gpt, t->target, &part_off, &part_size);
	if (r < 0)
		return *ret_code = 7, problem_add(reterr, r, t->target_label, "cannot locate %s",
						  t->target_label);
	if (fstat(fd, &st) < 0)
		return problem_add(reterr, -errno, NULL, "cannot stat: %s", strerror(errno));

	/* 1: size as announced (11). */
	if (expect_size > 0 && (uint64_t)st.st_size != expect_size) {
		*ret_code = 11;
		if ((uint64_t)st.st_size < expect_size)
			return problem_add(reterr, -EMSGSIZE, NULL, "truncated: have %llu of %llu bytes",
					   (unsigned long long)st.st_size,
					   (unsigned long long)expect_size);
		return problem_add(reterr, -EMSGSIZE, NULL, "larger than the announced %llu bytes",
				   (unsigned long long)expect_size);
	}
	/* Verified while downloading: steps 3-7 passed on the same bytes, and the stream's hash of
	 * the whole file serves step 2. Otherwise (or when that pass found anything wrong) every
	 * step runs here on the staged file, so errors come in the order of 5.5. */
	s = early_take(early, (uint64_t)st.st_size);
	if (s) {
		payload_stream_result(s, &res);
		spooling = early->spool_dir >= 0;
		log_info("payload verified while it was downloaded");
	}
	/* 2: SHA-256 of the file (10), before anything of its content is interpreted. */
	if (expect_sha256 || expect_sha256_alt) {
		uint8_t got[32];
		r = 0;
		if (s)
			memcpy(got, res.sha256, sizeof(got));
		else
			r = crypto_hash_fd(CRYPTO_SHA256, fd, 0, (uint64_t)st.st_size, got, sizeof(got));
		if (r < 0)
			return problem_add(reterr, r, NULL, "cannot read: %s", strerror(-r));
		const uint8_t *want = expect_sha256 && memcmp(expect_sha256, got, 32) != 0 ? expect_sha256
				      : expect_sha256_alt && memcmp(expect_sha256_alt, got, 32) != 0
					      ? expect_sha256_alt
					      : NULL;
		if (want) {
			char w[64], g[64];
			update_base64_32(want, w);
			update_base64_32(got, g);
			*ret_code = 10;
			return problem_add(reterr, -EILSEQ, NULL, "SHA-256 mismatch: expected %s, got %s",
					   w, g);
		}
	}
	if (!s) {
		r = verify_file(t, fd, &s, &spool_dir, ret_code, reterr);
		if (r < 0)
			return r;
		payload_stream_result(s, &res);
		spooling = spool_dir >= 0;
	}
	_cleanup_(payload_manifest_freep) struct payload_manifest *m = payload_stream_take_manifest(s);
	if (spooling) {
		int why = 0;
		spool = payload_stream_take_spool(s, &why);
		if (spool < 0)
			log_info("%s: not spooling the decompressed image (%s); decompressing twice",
				 UPDATE_STATE_DIR,
				 why == -ENOSPC ? "not enough free space"
				 : why == -EOPNOTSUPP ? "O_TMPFILE not supported"
				 : why == -ENOTUNIQ ? "operations overlap"
						    : strerror(-why));
		else
			log_info("%s: decompressed image kept in an unlinked spool file; the write "
				 "pass copies it", UPDATE_STATE_DIR);
	}
	if (!m)
		return problem_add(reterr, -EIO, NULL, "no manifest after verification");

	if (m->new_size > part_size) {
		char a[32], b[32];
		*ret_code = 7;
		return problem_add(reterr, -EFBIG, NULL, "new image is %s but %s holds %s",
				   fmt_size(m->new_size, a, sizeof(a)), t->target_label,
				   fmt_size(part_size, b, sizeof(b)));
	}
	for (size_t i = 0; i < m->n_ops; i++) {
		const struct payload_op *op = &m->ops[i];
		if (op->target != PAYLOAD_TARGET_USR)
			continue;
		for (size_t k = 0; k < op->n_extents; k++) {
			const struct payload_extent *e = &op->extents[k];
			uint64_t end_block = e->start_block + e->num_blocks;
			if (end_block < e->start_block || end_block > part_size / m->block_size) {
				*ret_code = 28;
				return problem_add(reterr, -ERANGE, NULL,
						   "operation %u: extent outside %s (offset %llu)",
						   op->index, t->target_label,
						   (unsigned long long)(m->blobs_offset + op->data_offset));
			}
		}
	}
	*ret = (struct update_verified){
		.manifest = TAKE_PTR(m),
		.size = res.size,
		.matched_key = res.matched_key,
		.matched_version = res.matched_version,
		.has_spool = spool >= 0,
		.spool_fd = spool >= 0 ? TAKE_FD(spool) : -1,
	};
	memcpy(ret->signed_digest, res.signed_sha256, 32);
	memcpy(ret->sha256, res.sha256, 32);
	*ret_code = 0;
	return 0;
}

/* First line of a small sysfs file, without the newline; "" when unreadable. */
static void read_line_at(int dir_fd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

/* 6.2: for a block device, is partition nr mounted? Finds the partition's device through
 * /sys/dev/block/MAJ:MIN/ (the child whose "partition" is nr; else the kernel's naming,
 * DISKp<nr> or DISK<nr>), then looks for its major:minor in
 * /proc/self/mountinfo. 1 with ret_dev ("/dev/loop0p4") and ret_where (the mount point) when
 * mounted; 0 when not, or when the disk is not a block device or has no partition device. */
static int partition_mounted(const char *disk_path, unsigned nr, char *ret_dev, size_t dev_size,
			     char *ret_where, size_t where_size)
{
	_cleanup_close_ int sys_fd = -1;
	struct stat st;
	char path[64], want[32] = "";
	DIR *d;

	if (stat(disk_path, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	sys_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sys_fd < 0)
		return 0;
	d = fdopendir(dup(sys_fd));
	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));) {
		char part[16], sub[300];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/partition", e->d_name);
		read_line_at(sys_fd, sub, part, sizeof(part));
		if (!*part || strtoul(part, NULL, 10) != nr)
			continue;
		snprintf(sub, sizeof(sub), "%s/dev", e->d_name);
		read_line_at(sys_fd, sub, want, sizeof(want));
		snprintf(ret_dev, dev_size, "/dev/%s", e->d_name);
		break;
	}
	closedir(d);
	if (!*want) {
		/* No partitions in sysfs (a container's view): the kernel's naming, sda4 / loop0p4. */
		_cleanup_free_ char *real = realpath(disk_path, NULL);
		struct stat pst;
		if (!real)
			return 0;
		size_t len = strlen(real);
		bool digit = len > 0 && real[len - 1] >= '0' && real[len - 1] <= '9';
		snprintf(ret_dev, dev_size, "%s%s%u", real, digit ? "p" : "", nr);
		if (stat(ret_dev, &pst) < 0 || !S_ISBLK(pst.st_mode))
			return 0;
		snprintf(want, sizeof(want), "%u:%u", major(pst.st_rdev), minor(pst.st_rdev));
	}

	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	if (!f)
		return -errno;
	while (getline(&line, &n, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		char devno[32], where[4096];
		if (sscanf(line, "%*s %*s %31s %*s %4095s", devno, where) != 2)
			continue;
		if (strcmp(devno, want) == 0) {
			snprintf(ret_where, where_size, "%s", where);
			return 1;
		}
	}
	return 0;
}

/* /boot/flatcar, or /boot/coreos when a kernel already lives there (6.4). */
static const char *kernel_dir(int root_fd)
{
	if (fs_exists(root_fd, "/boot/coreos/vmlinuz-a") > 0 ||
	    fs_exists(root_fd, "/boot/coreos/vmlinuz-b") > 0)
		return "/boot/coreos";
	return "/boot/flatcar";
}

/* The disk's fsync, in a thread of its own while the main thread reads the image back. */
struct sync_job {
	int fd;
	int r;
};

static void *sync_thread(void *arg)
{
	struct sync_job *j = arg;
	j->r = fsync(j->fd) < 0 ? -errno : 0;
	return NULL;
}

/* 6.3's read back, in a thread that trails the writes: it hashes the partition's first `size`
 * bytes in order, each piece once every write below its end has returned (lib/payload's
 * `written`, or `all` after the last write), so that reading back overlaps the writing. It
 * reads the same page cache a read after the fsync would. */
struct readback {
	pthread_mutex_t lock;
	pthread_cond_t more;
	uint64_t upto;                   /* bytes from the partition start known written */
	bool all;                        /* every write returned */
	bool stop;                       /* the write failed: give up */
	int fd;
	uint64_t offset, size;
	uint8_t actual[32];
	int r;                           /* 0: hashed; -ECANCELED: stopped; -errno */
};

static void readback_written(uint64_t upto, void *userdata)
{
	struct readback *rb = userdata;
	pthread_mutex_lock(&rb->lock);
	if (upto > rb->upto) {
		rb->upto = upto;
		pthread_cond_signal(&rb->more);
	}
	pthread_mutex_unlock(&rb->lock);
}

static void readback_end(struct readback *rb, bool ok)
{
	pthread_mutex_lock(&rb->lock);
	if (ok)
		rb->all = true;
	else
		rb->stop = true;
	pthread_cond_signal(&rb->more);
	pthread_mutex_unlock(&rb->lock);
}

static void *readback_thread(void *arg)
{
	struct readback *rb = arg;
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	_cleanup_free_ uint8_t *buf = malloc(1u << 20);
	uint64_t pos = 0;
	int r = crypto_hash_new(CRYPTO_SHA256, &h);

	if (r >= 0 && !buf)
		r = -ENOMEM;
	while (r >= 0 && pos < rb->size) {
		size_t want = rb->size - pos < (1u << 20) ? (size_t)(rb->size - pos) : (1u << 20);
		pthread_mutex_lock(&rb->lock);
		while (!rb->stop && !rb->all && rb->upto < pos + want)
			pthread_cond_wait(&rb->more, &rb->lock);
		bool stop = rb->stop;
		pthread_mutex_unlock(&rb->lock);
		if (stop) {
			r = -ECANCELED;
			break;
		}
		r = fs_pread_all(rb->fd, buf, want, rb->offset + pos);
		if (r >= 0)
			r = crypto_hash_update(h, buf, want);
		pos += want;
	}
	if (r >= 0)
		r = crypto_hash_final(h, rb->actual, sizeof(rb->actual));
	rb->r = r < 0 ? r : 0;
	return NULL;
}

/* Closing the spool frees its blocks and page cache, which takes about a second per GiB: done
 * in a thread of its own, while the disk is synced and read back. */
static void *close_thread(void *arg)
{
	(void)close(*(const int *)arg);
	return NULL;
}

int update_payload_write(const struct update_target *t, int fd, struct update_verified *v,
			 int *ret_code, struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	_cleanup_close_ int disk_fd = -1, kfd = -1, kdir = -1;
	const struct payload_manifest *m = v->manifest;
	uint64_t part_off, part_size;
	char kname[32] = "", knew[40] = "";
	int r;

	*ret_code = 7;
	if (t->booted == t->target)
		return problem_add(reterr, -EINVAL, t->target_label,
				   "refusing to write the booted partition");
	r = gpt_entry_extent(t->disk->gpt, t->target, &part_off, &part_size);
	if (r < 0)
		return problem_add(reterr, r, t->target_label, "cannot locate %s", t->target_label);
	if (m->new_size > part_size)
		return problem_add(reterr, -EFBIG, t->target_label, "image larger than %s",
				   t->target_label);
	/* 6.2: never write a mounted target. */
	char dev[300] = "", where[4096] = "";
	r = partition_mounted(t->disk->path, t->target, dev, sizeof(dev), where, sizeof(where));
	if (r < 0)
		return problem_add(reterr, r, "/proc/self/mountinfo", "cannot read: %s", strerror(-r));
	if (r > 0)
		return problem_add(reterr, -EBUSY, NULL, "%s (%s) is mounted at %s; refusing to write",
				   t->target_label, dev, where);
	/* 6.2: one descriptor on the disk, read-write, never created or truncated. */
	disk_fd = open(t->disk->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (disk_fd < 0)
		return problem_add(reterr, -errno, t->disk->path, "cannot open for writing: %s",
				   strerror(errno));

	if (m->has_kernel) {
		const char *dir = kernel_dir(t->root_fd);
		char slot = strcmp(t->target_label, "USR-A") == 0 ? 'a' : 'b';
		snprintf(kname, sizeof(kname), "vmlinuz-%c", slot);
		snprintf(knew, sizeof(knew), "vmlinuz-%c.new", slot);
		r = fs_mkdir_p(t->root_fd, dir, 0755);
		if (r >= 0)
			r = kdir = fs_open(t->root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
		if (r >= 0) {
			kfd = openat(kdir, knew, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
			r = kfd < 0 ? -errno : 0;
		}
		if (r < 0)
			return *ret_code = 1, problem_add(reterr, r, dir, "cannot create %s: %s", knew,
							  strerror(-r));
	}

	*ret_code = 1;
	/* never destroyed: a worker of s may still signal it while s is freed on the way out */
	struct readback rb = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
			       .fd = disk_fd, .offset = part_off, .size = m->new_size };
	pthread_t reader;
	bool reading = false;
	struct payload_stream_opts o = {
		.keys = t->keys, .n_keys = t->n_keys, .partition_size = part_size,
		.verified = m, .verified_digest = v->signed_digest,
		.usr_fd = disk_fd, .usr_offset = part_off, .kernel_fd = kfd,
		.spool = v->has_spool, .spool_fd = v->has_spool ? v->spool_fd : -1,
		.defer_sync = true, .written = readback_written, .written_data = &rb,
	};
	r = payload_stream_new(&o, &s);
	if (r < 0)
		return problem_add(reterr, r, NULL, "%s", strerror(-r));
	/* Fed in pieces so that the crash tests can stop the process with some operations written
	 * (FLATCTL_TEST_UPDATE_KILL=write:BYTES) and a daemon's stop request is seen in time. */
	reading = pthread_create(&reader, NULL, readback_thread, &rb) == 0;
	r = feed_file(t, s, fd, write_kill_point, reterr);
	readback_end(&rb, r >= 0);
	if (r < 0) {
		if (reading)
			(void)pthread_join(reader, NULL);
		*ret_code = code_of(r);
		if (!problem_has_errors(reterr))
			(void)problem_add(reterr, r, NULL, "%s", strerror(-r));
		goto fail_kernel;
	}
	/* Every operation is written: the spool has served. */
	pthread_t closer, syncer;
	bool closing = false, syncing = false;
	int spool_fd = v->spool_fd;
	if (v->has_spool) {
		v->has_spool = false;
		v->spool_fd = -1;
		closing = pthread_create(&closer, NULL, close_thread, &spool_fd) == 0;
		if (!closing)
			(void)close(spool_fd);
	}
	/* fsync while 6.3's read back (begun during the writes) finishes: both see the same page
	 * cache, so reading after the fsync would read the same bytes; a failed fsync still fails
	 * the install. */
	struct sync_job sj = { .fd = disk_fd };
	syncing = pthread_create(&syncer, NULL, sync_thread, &sj) == 0;
	if (!syncing)
		sync_thread(&sj);
	if (reading)
		(void)pthread_join(reader, NULL);
	else
		(void)readback_thread(&rb); /* no thread: read back now, all written */
	uint8_t actual[32];
	memcpy(actual, rb.actual, sizeof(actual));
	r = rb.r < 0 ? rb.r : memcmp(actual, m->new_hash, sizeof(actual)) == 0 ? 0 : -EILSEQ;
	if (syncing)
		(void)pthread_join(syncer, NULL);
	if (closing)
		(void)pthread_join(closer, NULL);
	if (sj.r < 0) {
		r = problem_add(reterr, sj.r, t->disk->path, "fsync: %s", strerror(-sj.r));
		goto fail_kernel;
	}
	if (r < 0) {
		char w[64], g[64];
		update_base64_32(m->new_hash, w);
		update_base64_32(actual, g);
		*ret_code = r == -EILSEQ ? 15 : 1;
		if (r == -EILSEQ)
			(void)problem_add(reterr, r, t->target_label,
					  "written image does not match new_partition_info "
					  "(SHA-256 expected %s, got %s)", w, g);
		else
			(void)problem_add(reterr, r, t->target_label, "reading back: %s", strerror(-r));
		goto fail_kernel;
	}
	/* 6.4: the kernel. */
	if (kfd >= 0) {
		if (fsync(kfd) < 0) {
			r = problem_add(reterr, -errno, knew, "fsync: %s", strerror(errno));
			goto fail_kernel;
		}
		r = payload_check_image(kfd, 0, m->kernel_size, m->kernel_hash, NULL);
		if (r < 0) {
			*ret_code = r == -EILSEQ ? 16 : 1;
			(void)problem_add(reterr, r, knew, "written kernel does not match new_info");
			goto fail_kernel;
		}
		if (renameat(kdir, knew, kdir, kname) < 0) {
			r = problem_add(reterr, -errno, kname, "cannot rename: %s", strerror(errno));
			goto fail_kernel;
		}
		if (fsync(kdir) < 0)
			return problem_add(reterr, -errno, kname, "fsync: %s", strerror(errno));
	}
	*ret_code = 0;
	return 0;

fail_kernel:
	if (kdir >= 0 && *knew)
		(void)unlinkat(kdir, knew, 0);
	return r;
}

int update_flip(const struct update_target *t, int *ret_code, struct problem_list *reterr)
{
	int r;

	*ret_code = 5;
	update_test_kill_point("flip", 0);
	r = gpt_prepare_for_boot(t->disk->gpt, t->target);
	if (r < 0)
		return problem_add(reterr, r, t->target_label, "cannot prepare %s for boot",
				   t->target_label);
	r = gpt_disk_commit(t->disk, reterr);
	if (r < 0)
		return r;
	*ret_code = 0;
	return 0;
}
