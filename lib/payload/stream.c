/* SPDX-License-Identifier: MIT */
/* lib/payload/stream.c - the streaming CrAU reader: verify pass and write pass (docs/update.md
 * 5.5, 6.2).
 *
 * Bytes are pushed in file order. A small state machine collects the header, the manifest (kept
 * in memory, at most 16 MiB), then each operation's blob (at most PAYLOAD_OP_DATA_MAX) and the
 * Signatures message. The main thread only copies and hashes the whole file (the signed digest
 * is taken from the same running hash at the end of the blobs); every completed blob becomes a
 * job for a pool of worker threads that checks its SHA-256, decompresses it through a 1 MiB
 * buffer and writes it (write pass) or, in the verify pass, throws it away or keeps it in the
 * spool (an O_TMPFILE at the operation's destination offsets, so the write pass can copy it
 * instead of decompressing again; the write pass still re-checks each blob's hash first). Blobs
 * in flight are bounded by a byte budget, so memory stays bounded for any payload size; the
 * feeder blocks when the budget is used up. Writes go to disjoint extents with pwrite, so jobs may finish in any order;
 * a payload whose USR extents overlap is written by a single worker, in order, to stay
 * byte-exact. */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "payload/payload.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define OUT_BUF_SIZE (1u << 20)
#define READ_BUF_SIZE (1u << 20)
#define XZ_MEMLIMIT (64ull << 20)

enum state {
	ST_HEADER,
	ST_MANIFEST,
	ST_BLOBS,
	ST_SIGNATURES,
	ST_DONE,
};

struct job {
	struct job *next;
	const struct payload_op *op;
	uint8_t *blob;
	size_t len;
	uint64_t file_offset;
};

struct fault {
	int r;
	unsigned index;
	char msg[320];
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t idle;
	struct job *head, *tail;
	size_t in_use, budget;
	unsigned pending;        /* queued or running */
	bool stop;
	bool cancel;             /* the stream is freed: skip what is still queued */
	bool have_fault;
	struct fault fault;      /* the fault of the lowest operation index */
	pthread_t *threads;
	unsigned n_threads;
	struct payload_stream *s;
	/* write mode with o.written: operations done, and the first one not done yet */
	bool *done;
	size_t prefix;
	uint64_t prefix_upto;
};

struct payload_stream {
	struct payload_stream_opts o;
	enum state st;
	uint64_t pos;
	uint8_t header[PAYLOAD_HEADER_SIZE];
	size_t header_n;
	uint64_t manifest_size;
	uint8_t *mbuf;
	size_t mbuf_n;
	struct payload_manifest *m;
	size_t op_i;
	uint8_t *blob;           /* the blob being collected, NULL for skipped data */
	uint64_t blob_n;
	uint8_t *sigbuf;
	size_t sig_n;
	uint64_t extra;
	struct crypto_hash *file_hash;   /* every byte */
	/* of the bytes before the Signatures message (5.4): file_hash's state there */
	uint8_t signed_digest[PAYLOAD_SHA256_SIZE];
	bool signed_taken;
	struct payload_stream_result res;
	int fatal;
	int spool_out;           /* verify mode: the spool being filled, or -1 */
	int spool_why;           /* why there is none: -errno, 0 when not asked for */
	uint64_t *spooled;       /* per operation: bytes in the spool (workers write their own) */
	bool pool_started;
	struct pool pool;
};

_printf_(4, 5) static int fail(struct problem_list *l, int r, const char *where, const char *fmt,
			       ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return problem_add(l, r, where, "%s", msg);
}

_printf_(4, 5) static int job_fault(struct fault *f, int r, const struct job *j, const char *fmt,
				    ...)
{
	va_list ap;
	int n;

	f->r = r;
	f->index = j->op->index;
	n = snprintf(f->msg, sizeof(f->msg), "operation %u: ", j->op->index);
	va_start(ap, fmt);
	vsnprintf(f->msg + n, sizeof(f->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return r;
}

/* --- writing decompressed data to the extents ------------------------------------------------ */

struct sink {
	int fd;                 /* -1: count only */
	bool soft;              /* the spool: a failed write stops writing, not the operation */
	bool failed;
	uint64_t base;
	const struct payload_op *op;
	uint64_t bs;
	uint64_t pos;           /* bytes of D so far */
	size_t ext;
	uint64_t ext_pos;
};

static int sink_write(struct sink *s, const uint8_t *p, size_t n)
{
	if (n > s->op->dst_bytes - s->pos)
		return -ERANGE;
	s->pos += n;
	if (s->fd < 0)
		return 0;
	while (n > 0) {
		const struct payload_extent *e = &s->op->extents[s->ext];
		uint64_t room = e->num_blocks * s->bs - s->ext_pos;
		size_t k = n < room ? n : (size_t)room;
		int r = s->fd < 0 ? 0
				   : fs_pwrite_all(s->fd, p, k, s->base + e->start_block * s->bs + s->ext_pos);
		if (r < 0 && s->soft) {
			s->fd = -1;
			s->failed = true;
		} else if (r < 0)
			return r;
		p += k;
		n -= k;
		s->ext_pos += k;
		if (s->ext_pos == e->num_blocks * s->bs) {
			s->ext++;
			s->ext_pos = 0;
		}
	}
	return 0;
}

/* 5.3: the rest of the block holding the last byte is zero-filled. */
static int sink_pad(struct sink *s)
{
	static const uint8_t zeros[4096];
	uint64_t pad = (s->bs - s->pos % s->bs) % s->bs;

	while (pad > 0) {
		size_t k = pad < sizeof(zeros) ? (size_t)pad : sizeof(zeros);
		int r = sink_write(s, zeros, k);
		if (r < 0)
			return r;
		pad -= k;
	}
	return 0;
}

/* Write mode: start writing the operation's extents back now (a hint: fsync reports errors), so
 * that the disk works while the other operations are copied and the final fsync finds little. */
static void writeback_start(const struct sink *s)
{
	if (s->fd < 0 || s->soft)
		return;
	for (size_t i = 0; i < s->op->n_extents; i++) {
		const struct payload_extent *e = &s->op->extents[i];
		(void)sync_file_range(s->fd, (off_t)(s->base + e->start_block * s->bs),
				      (off_t)(e->num_blocks * s->bs), SYNC_FILE_RANGE_WRITE);
	}
}

/* Write pass: the operation's output as the verify pass left it in the spool (same extents, base
 * 0), len bytes, through out. */
static int copy_spooled(struct sink *sk, int spool_fd, uint64_t len, uint8_t *out,
			const struct job *j, struct fault *f)
{
	while (len > 0) {
		if (sk->ext >= sk->op->n_extents)
			return job_fault(f, -ERANGE, j, "spooled data larger than its extents");
		const struct payload_extent *e = &sk->op->extents[sk->ext];
		uint64_t room = e->num_blocks * sk->bs - sk->ext_pos;
		size_t k = len < room ? (size_t)len : (size_t)room;
		if (k > OUT_BUF_SIZE)
			k = OUT_BUF_SIZE;
		uint64_t at = e->start_block * sk->bs + sk->ext_pos;
		size_t got = 0;
		while (got < k) {
			ssize_t n = pread(spool_fd, out + got, k - got, (off_t)(at + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return job_fault(f, -errno, j, "reading the spool: %s", strerror(errno));
			if (n == 0) /* a hole at the end of the spool file reads as zeros */
				break;
			got += (size_t)n;
		}
		memset(out + got, 0, k - got);
		int r = sink_write(sk, out, k);
		if (r < 0)
			return job_fault(f, r, j, "write failed: %s", strerror(-r));
		len -= k;
	}
	return 0;
}

static int run_bzip2(struct sink *sk, const struct job *j, uint8_t *out, struct fault *f)
{
	bz_stream z = {};
	int rc, r = 0;

	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
		return job_fault(f, -ENOMEM, j, "cannot start bzip2 decompression");
	z.next_in = (char *)j->blob;
	z.avail_in = (unsigned)j->len;
	for (;;) {
		z.next_out = (char *)out;
		z.avail_out = OUT_BUF_SIZE;
		rc = BZ2_bzDecompress(&z);
		size_t produced = OUT_BUF_SIZE - z.avail_out;
		uint64_t at = j->file_offset + (j->len - z.avail_in);
		if (produced > 0) {
			r = sink_write(sk, out, produced);
			if (r == -ERANGE) {
				r = job_fault(f, r, j, "decompressed data larger than its extents "
						       "(%llu bytes) (offset %llu)",
					      (unsigned long long)j->op->dst_bytes,
					      (unsigned long long)at);
				break;
			}
			if (r < 0) {
				r = job_fault(f, r, j, "write failed: %s", strerror(-r));
				break;
			}
		}
		if (rc == BZ_STREAM_END) {
			if (z.avail_in == 0)
				break;
			/* concatenated streams, as bzip2 -d accepts */
			char *next = z.next_in;
			unsigned avail = z.avail_in;
			(void)BZ2_bzDecompressEnd(&z);
			z = (bz_stream){};
			if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
				return job_fault(f, -ENOMEM, j, "cannot start bzip2 decompression");
			z.next_in = next;
			z.avail_in = avail;
			continue;
		}
		if (rc != BZ_OK || (z.avail_in == 0 && z.avail_out > 0)) {
			r = job_fault(f, -EUCLEAN, j, "bzip2 data error at offset %llu",
				      (unsigned long long)at);
			break;
		}
	}
	(void)BZ2_bzDecompressEnd(&z);
	return r;
}

static int run_xz(struct sink *sk, const struct job *j, uint8_t *out, struct fault *f)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret rc;
	int r = 0;

	if (lzma_stream_decoder(&z, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
		return job_fault(f, -ENOMEM, j, "cannot start xz decompression");
	z.next_in = j->blob;
	z.avail_in = j->len;
	for (;;) {
		z.next_out = out;
		z.avail_out = OUT_BUF_SIZE;
		rc = lzma_code(&z, LZMA_FINISH);
		size_t produced = OUT_BUF_SIZE - z.avail_out;
		uint64_t at = j->file_offset + (j->len - z.avail_in);
		if (produced > 0) {
			r = sink_write(sk, out, produced);
			if (r == -ERANGE) {
				r = job_fault(f, r, j, "decompressed data larger than its extents "
						       "(%llu bytes) (offset %llu)",
					      (unsigned long long)j->op->dst_bytes,
					      (unsigned long long)at);
				break;
			}
			if (r < 0) {
				r = job_fault(f, r, j, "write failed: %s", strerror(-r));
				break;
			}
		}
		if (rc == LZMA_STREAM_END)
			break;
		if (rc == LZMA_MEMLIMIT_ERROR) {
			r = job_fault(f, -EUCLEAN, j,
				      "xz data needs more than %llu MiB to decompress (offset %llu)",
				      XZ_MEMLIMIT >> 20, (unsigned long long)at);
			break;
		}
		if (rc != LZMA_OK) {
			r = job_fault(f, -EUCLEAN, j, "xz data error at offset %llu",
				      (unsigned long long)at);
			break;
		}
	}
	lzma_end(&z);
	return r;
}

static int job_run(struct payload_stream *s, const struct job *j, uint8_t *out, struct fault *f)
{
	const struct payload_op *op = j->op;
	uint8_t digest[PAYLOAD_SHA256_SIZE];
	struct sink sk = { .fd = -1, .op = op, .bs = s->m->block_size };
	int r;

	r = crypto_sha256(j->blob, j->len, digest);
	if (r < 0)
		return job_fault(f, r, j, "cannot hash data");
	if (memcmp(digest, op->hash, sizeof(digest)) != 0)
		return job_fault(f, -EILSEQ, j, "data SHA-256 mismatch at offset %llu",
				 (unsigned long long)j->file_offset);
	size_t idx = (size_t)(op - s->m->ops);
	if (op->target == PAYLOAD_TARGET_USR && s->o.usr_fd >= 0) {
		sk.fd = s->o.usr_fd;
		sk.base = s->o.usr_offset;
		uint64_t spooled = s->o.spool && s->o.verified && idx < s->o.verified->n_ops
					   ? s->o.verified->ops[idx].spooled
					   : 0;
		if (spooled > 0) {
			r = copy_spooled(&sk, s->o.spool_fd, spooled, out, j, f);
			if (r < 0)
				return r;
			r = sink_pad(&sk);
			if (r < 0)
				return job_fault(f, r, j, "write failed: %s", strerror(-r));
			writeback_start(&sk);
			return 0;
		}
	} else if (op->target == PAYLOAD_TARGET_USR && s->spool_out >= 0) {
		sk.fd = s->spool_out;
		sk.soft = true;
	} else if (op->target == PAYLOAD_TARGET_KERNEL && s->o.kernel_fd >= 0) {
		sk.fd = s->o.kernel_fd;
	}

	switch (op->type) {
	case PAYLOAD_OP_REPLACE:
		r = sink_write(&sk, j->blob, j->len);
		if (r < 0)
			return job_fault(f, r, j, "write failed: %s", strerror(-r));
		break;
	case PAYLOAD_OP_REPLACE_BZ:
		r = run_bzip2(&sk, j, out, f);
		break;
	case PAYLOAD_OP_REPLACE_XZ:
		r = run_xz(&sk, j, out, f);
		break;
	default:
		return job_fault(f, -EBADMSG, j, "operation type %d is not supported", op->type);
	}
	if (r < 0)
		return r;
	if (sk.pos == 0)
		return job_fault(f, -ERANGE, j, "no data after decompression (offset %llu)",
				 (unsigned long long)j->file_offset);
	r = sink_pad(&sk);
	if (r < 0)
		return job_fault(f, r, j, "write failed: %s", strerror(-r));
	if (sk.soft && !sk.failed)
		s->spooled[idx] = sk.pos;
	writeback_start(&sk);
	return 0;
}

/* --- the worker pool -------------------------------------------------------------------------- */

static bool write_mode(const struct payload_stream *s)
{
	return s->o.usr_fd >= 0 || s->o.kernel_fd >= 0;
}

/* Under the pool lock: op is written; move the in-order prefix of done operations on. Returns
 * whether it moved, with the byte it now reaches (USR extents of the prefix, their highest end). */
static bool prefix_advance(struct pool *p, const struct payload_op *op, uint64_t *ret_upto)
{
	const struct payload_manifest *m = p->s->m;
	size_t before = p->prefix;

	p->done[op - m->ops] = true;
	while (p->prefix < m->n_ops) {
		const struct payload_op *o = &m->ops[p->prefix];
		/* nothing to wait for: no data, or not written to the USR target */
		if (!p->done[p->prefix] && o->target == PAYLOAD_TARGET_USR && o->data_length > 0)
			break;
		if (o->target == PAYLOAD_TARGET_USR)
			for (size_t k = 0; k < o->n_extents; k++) {
				uint64_t end = (o->extents[k].start_block + o->extents[k].num_blocks) *
					       m->block_size;
				if (end > p->prefix_upto)
					p->prefix_upto = end;
			}
		p->prefix++;
	}
	*ret_upto = p->prefix_upto;
	return p->prefix != before;
}

/* Are the USR operations in ascending order of their extents (each one's lowest block above
 * the highest of every operation before it)? Then a written prefix is a written byte range. */
static bool usr_ops_ascending(const struct payload_manifest *m)
{
	uint64_t high = 0;

	for (size_t i = 0; i < m->n_ops; i++) {
		const struct payload_op *o = &m->ops[i];
		uint64_t top = high;
		if (o->target != PAYLOAD_TARGET_USR)
			continue;
		for (size_t k = 0; k < o->n_extents; k++) {
			if (o->extents[k].start_block < high)
				return false;
			uint64_t end = o->extents[k].start_block + o->extents[k].num_blocks;
			if (end > top)
				top = end;
		}
		high = top;
	}
	return true;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	_cleanup_free_ uint8_t *out = malloc(OUT_BUF_SIZE);

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->head)
			break;
		struct job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		/* After a fault only lower operations still matter (verify), none at all (write). */
		bool skip = p->cancel ||
			    (p->have_fault && (write_mode(p->s) || j->op->index > p->fault.index));
		pthread_mutex_unlock(&p->lock);

		struct fault f = {};
		int r = 0;
		if (!skip)
			r = out ? job_run(p->s, j, out, &f) : job_fault(&f, -ENOMEM, j, "out of memory");

		pthread_mutex_lock(&p->lock);
		if (r < 0 && (!p->have_fault || f.index < p->fault.index)) {
			p->fault = f;
			p->have_fault = true;
		}
		uint64_t upto = 0;
		bool advanced = false;
		if (p->done && !skip && r >= 0)
			advanced = prefix_advance(p, j->op, &upto);
		p->in_use -= j->len;
		p->pending--;
		free(j->blob);
		free(j);
		pthread_cond_broadcast(&p->idle);
		if (advanced) {
			pthread_mutex_unlock(&p->lock);
			p->s->o.written(upto, p->s->o.written_data);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int pool_start(struct payload_stream *s)
{
	struct pool *p = &s->pool;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = s->o.workers ? s->o.workers : ncpu > 0 ? (unsigned)ncpu : 1;

	if (n > 64)
		n = 64;
	if (s->m->overlapping && write_mode(s))
		n = 1;
	p->s = s;
	p->budget = s->o.mem_budget ? s->o.mem_budget : PAYLOAD_OP_DATA_MAX;
	if (s->o.written && s->o.usr_fd >= 0 && usr_ops_ascending(s->m)) {
		p->done = calloc(s->m->n_ops ? s->m->n_ops : 1, sizeof(*p->done));
		if (!p->done)
			return -ENOMEM;
	}
	p->threads = calloc(n, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	s->pool_started = true;
	for (unsigned i = 0; i < n; i++) {
		int r = pthread_create(&p->threads[i], NULL, worker, p);
		if (r != 0)
			return n > 0 && p->n_threads > 0 ? 0 : -r;
		p->n_threads++;
	}
	return 0;
}

/* Wait until len more bytes fit the budget (a blob larger than the budget runs alone) and the
 * queue is short: two jobs per worker keep every worker busy, more only costs memory. */
static void pool_reserve(struct pool *p, size_t len)
{
	pthread_mutex_lock(&p->lock);
	while (p->in_use > 0 && (p->in_use + len > p->budget || p->pending >= 2 * p->n_threads))
		pthread_cond_wait(&p->idle, &p->lock);
	p->in_use += len;
	pthread_mutex_unlock(&p->lock);
}

static void pool_unreserve(struct pool *p, size_t len)
{
	pthread_mutex_lock(&p->lock);
	p->in_use -= len;
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

static void pool_submit(struct pool *p, struct job *j)
{
	pthread_mutex_lock(&p->lock);
	j->next = NULL;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->pending++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

static void pool_drain(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->pending > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static bool pool_fault(struct pool *p, struct fault *ret)
{
	bool have;

	pthread_mutex_lock(&p->lock);
	have = p->have_fault;
	if (have && ret)
		*ret = p->fault;
	pthread_mutex_unlock(&p->lock);
	return have;
}

static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	p->n_threads = 0;
	free(p->done);
	p->done = NULL;
}

/* --- the stream -------------------------------------------------------------------------------- */

int payload_stream_new(const struct payload_stream_opts *o, struct payload_stream **ret)
{
	struct payload_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->spool_out = -1;
	if (crypto_hash_new(CRYPTO_SHA256, &s->file_hash) < 0) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->pool.lock, NULL);
	pthread_cond_init(&s->pool.work, NULL);
	pthread_cond_init(&s->pool.idle, NULL);
	*ret = s;
	return 0;
}

struct payload_stream *payload_stream_free(struct payload_stream *s)
{
	if (!s)
		return NULL;
	if (s->pool_started) {
		pthread_mutex_lock(&s->pool.lock);
		s->pool.cancel = true;
		pthread_mutex_unlock(&s->pool.lock);
		pool_drain(&s->pool);
		pool_stop(&s->pool);
	}
	pthread_mutex_destroy(&s->pool.lock);
	pthread_cond_destroy(&s->pool.work);
	pthread_cond_destroy(&s->pool.idle);
	if (s->spool_out >= 0)
		close(s->spool_out);
	free(s->spooled);
	free(s->blob);
	free(s->mbuf);
	free(s->sigbuf);
	payload_manifest_free(s->m);
	crypto_hash_free(s->file_hash);
	free(s);
	return NULL;
}

const struct payload_manifest *payload_stream_manifest(const struct payload_stream *s)
{
	return s->m;
}

struct payload_manifest *payload_stream_take_manifest(struct payload_stream *s)
{
	if (s->pool_started) {
		pool_drain(&s->pool);
		pool_stop(&s->pool);
		s->pool_started = false;
	}
	if (s->m && s->spooled)
		for (size_t i = 0; i < s->m->n_ops; i++)
			s->m->ops[i].spooled = s->spooled[i];
	return TAKE_PTR(s->m);
}

int payload_stream_take_spool(struct payload_stream *s, int *ret_why)
{
	if (s->pool_started) {
		pool_drain(&s->pool);
		pool_stop(&s->pool);
		s->pool_started = false;
	}
	*ret_why = s->spool_out >= 0 ? 0 : s->spool_why;
	int fd = s->spool_out;
	s->spool_out = -1;
	return fd;
}

/* Verify mode: the spool file, when it fits and O_TMPFILE works there (see payload.h). */
static int spool_open(struct payload_stream *s)
{
	struct statvfs sv;

	if (s->m->overlapping)
		return -ENOTUNIQ;
	if (fstatvfs(s->o.spool_fd, &sv) < 0)
		return -errno;
	if ((uint64_t)sv.f_bavail * sv.f_frsize < s->m->new_size + s->o.spool_reserve)
		return -ENOSPC;
	int fd = openat(s->o.spool_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EISDIR || errno == EINVAL ? -EOPNOTSUPP : -errno;
	s->spooled = calloc(s->m->n_ops ? s->m->n_ops : 1, sizeof(*s->spooled));
	if (!s->spooled) {
		close(fd);
		return -ENOMEM;
	}
	s->spool_out = fd;
	return 0;
}

void payload_stream_result(const struct payload_stream *s, struct payload_stream_result *ret)
{
	*ret = s->res;
}

/* Move to the next operation that has data, or to the Signatures message. */
static int next_blob(struct payload_stream *s)
{
	while (s->op_i < s->m->n_ops && s->m->ops[s->op_i].data_length == 0)
		s->op_i++;
	s->blob_n = 0;
	if (s->op_i < s->m->n_ops)
		return 0;
	/* All blobs seen: the signed bytes end here (5.4). feed() hashes the bytes of a step
	 * after it, by the state the step started in, and takes the signed digest before the
	 * first byte after them (or at finish). */
	s->sigbuf = malloc(s->m->signatures_size);
	if (!s->sigbuf)
		return -ENOMEM;
	s->st = ST_SIGNATURES;
	return 0;
}

static int manifest_done(struct payload_stream *s, struct problem_list *reterr)
{
	int r;

	r = payload_manifest_parse(s->mbuf, s->mbuf_n, s->o.partition_size, &s->m, reterr);
	free(s->mbuf);
	s->mbuf = NULL;
	if (r < 0)
		return r;
	if (s->o.verified && (s->o.verified->manifest_size != s->m->manifest_size ||
			      memcmp(s->o.verified->raw, s->m->raw, s->m->manifest_size) != 0))
		return fail(reterr, -EBADMSG, "byte 20",
			    "manifest: DeltaArchiveManifest at bytes 20-%llu: differs from the "
			    "verified copy (file changed)",
			    (unsigned long long)s->m->blobs_offset);
	if (s->o.spool && !write_mode(s)) {
		r = spool_open(s);
		s->spool_why = r;
	}
	r = pool_start(s);
	if (r < 0)
		return r;
	s->st = ST_BLOBS;
	return next_blob(s);
}

/* Consume up to n bytes in the current state; returns how many, or <0. */
static ssize_t step(struct payload_stream *s, const uint8_t *p, size_t n,
		    struct problem_list *reterr)
{
	size_t k;
	int r;

	switch (s->st) {
	case ST_HEADER:
		k = PAYLOAD_HEADER_SIZE - s->header_n;
		k = k < n ? k : n;
		memcpy(s->header + s->header_n, p, k);
		s->header_n += k;
		if (s->header_n >= 4 && memcmp(s->header, "CrAU", 4) != 0)
			return fail(reterr, -EPROTO, "byte 0", "not a CrAU payload");
		if (s->header_n == PAYLOAD_HEADER_SIZE) {
			r = payload_header_parse(s->header, s->header_n, &s->manifest_size, reterr);
			if (r < 0)
				return r;
			s->mbuf = malloc(s->manifest_size ? s->manifest_size : 1);
			if (!s->mbuf)
				return -ENOMEM;
			s->st = ST_MANIFEST;
			if (s->manifest_size == 0) {
				r = manifest_done(s, reterr);
				if (r < 0)
					return r;
			}
		}
		return (ssize_t)k;
	case ST_MANIFEST:
		k = (size_t)(s->manifest_size - s->mbuf_n);
		k = k < n ? k : n;
		memcpy(s->mbuf + s->mbuf_n, p, k);
		s->mbuf_n += k;
		if (s->mbuf_n == s->manifest_size) {
			r = manifest_done(s, reterr);
			if (r < 0)
				return r;
		}
		return (ssize_t)k;
	case ST_BLOBS: {
		const struct payload_op *op = &s->m->ops[s->op_i];
		bool keep = op->target != PAYLOAD_TARGET_SKIP;

		if (keep && !s->blob && s->blob_n == 0) {
			pool_reserve(&s->pool, op->data_length);
			s->blob = malloc(op->data_length);
			if (!s->blob) {
				pool_unreserve(&s->pool, op->data_length);
				return -ENOMEM;
			}
		}
		k = (size_t)(op->data_length - s->blob_n) < n ? (size_t)(op->data_length - s->blob_n)
							       : n;
		if (keep)
			memcpy(s->blob + s->blob_n, p, k);
		s->blob_n += k;
		if (s->blob_n == op->data_length) {
			if (keep) {
				struct job *j = calloc(1, sizeof(*j));
				if (!j)
					return -ENOMEM;
				*j = (struct job){ .op = op, .blob = TAKE_PTR(s->blob),
						   .len = op->data_length,
						   .file_offset = s->m->blobs_offset + op->data_offset };
				pool_submit(&s->pool, j);
			}
			s->op_i++;
			r = next_blob(s);
			if (r < 0)
				return r;
		}
		return (ssize_t)k;
	}
	case ST_SIGNATURES:
		k = (size_t)(s->m->signatures_size - s->sig_n);
		k = k < n ? k : n;
		memcpy(s->sigbuf + s->sig_n, p, k);
		s->sig_n += k;
		if (s->sig_n == s->m->signatures_size)
			s->st = ST_DONE;
		return (ssize_t)k;
	case ST_DONE:
		s->extra += n;
		return (ssize_t)n;
	}
	return -EINVAL;
}

static int report_fault(struct payload_stream *s, struct problem_list *reterr)
{
	struct fault f;

	if (!pool_fault(&s->pool, &f))
		return 0;
	char where[32];
	snprintf(where, sizeof(where), "operation %u", f.index);
	return fail(reterr, f.r, where, "%s", f.msg);
}

int payload_stream_feed(struct payload_stream *s, const void *data, size_t n,
			struct problem_list *reterr)
{
	const uint8_t *p = data;

	if (s->fatal < 0)
		return s->fatal;
	while (n > 0) {
		bool is_signed = s->st < ST_SIGNATURES;
		ssize_t k = step(s, p, n, reterr);
		if (k < 0)
			return s->fatal = (int)k;
		int r = 0;
		/* the first byte after the signed ones: their digest is the running one so far */
		if (!is_signed && !s->signed_taken) {
			r = crypto_hash_peek(s->file_hash, s->signed_digest, sizeof(s->signed_digest));
			s->signed_taken = true;
		}
		if (r >= 0)
			r = crypto_hash_update(s->file_hash, p, (size_t)k);
		if (r < 0)
			return s->fatal = r;
		p += k;
		n -= (size_t)k;
		s->pos += (uint64_t)k;
	}
	/* Write pass: stop at the first bad operation. */
	if (write_mode(s) && s->pool_started && pool_fault(&s->pool, NULL))
		return s->fatal = report_fault(s, reterr);
	return 0;
}

static int check_signatures(struct payload_stream *s, struct problem_list *reterr)
{
	_cleanup_(payload_signatures_release) struct payload_signatures sigs = {};
	_cleanup_free_ struct crypto_signature *cs = NULL;
	uint64_t at = s->m->blobs_offset + s->m->signatures_offset;
	size_t si = 0, ki = 0;
	int r;

	r = payload_signatures_parse(s->sigbuf, s->sig_n, at, &sigs, reterr);
	if (r < 0)
		return r;
	s->res.n_signatures = sigs.n;
	for (size_t i = 0; i < sigs.n && i < ARRAY_SIZE(s->res.versions); i++)
		s->res.versions[i] = sigs.item[i].version;

	if (s->o.verified_digest) {
		/* Write pass: the signed bytes must be those the verify pass accepted. */
		if (memcmp(s->o.verified_digest, s->signed_digest, PAYLOAD_SHA256_SIZE) != 0)
			return fail(reterr, -EKEYREJECTED, "signatures",
				    "signed bytes changed since the payload was verified");
		s->res.verified = true;
		return 0;
	}
	cs = calloc(sigs.n, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	for (size_t i = 0; i < sigs.n; i++)
		cs[i] = (struct crypto_signature){ .version = sigs.item[i].version,
						   .data = sigs.item[i].data,
						   .size = sigs.item[i].size };
	r = crypto_verify_any(s->o.keys, s->o.n_keys, cs, sigs.n, s->signed_digest, &si, &ki);
	if (r >= 0) {
		s->res.verified = true;
		s->res.matched_version = sigs.item[si].version;
		s->res.matched_key = crypto_key_name(s->o.keys[ki]);
		return 0;
	}
	if (r != -EKEYREJECTED)
		return r;

	char names[512] = "";
	size_t off = 0;
	for (size_t k = 0; k < s->o.n_keys && off < sizeof(names); k++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", k ? ", " : "",
					crypto_key_name(s->o.keys[k]) ?: "key");
	return fail(reterr, -EKEYREJECTED, "signatures",
		    "signature verification failed: none of %zu signature%s matches the %zu trusted "
		    "key%s (%s)",
		    sigs.n, sigs.n == 1 ? "" : "s", s->o.n_keys, s->o.n_keys == 1 ? "" : "s", names);
}

static int fsync_fd(int fd)
{
	if (fd >= 0 && fsync(fd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int payload_stream_finish(struct payload_stream *s, struct problem_list *reterr)
{
	int r;

	if (s->fatal < 0)
		return s->fatal;
	if (s->pool_started)
		pool_drain(&s->pool);

	/* 5.5 step 5: the file ends exactly after the Signatures message. */
	if (s->st != ST_DONE) {
		if (s->st == ST_HEADER && s->header_n < 4)
			return s->fatal = fail(reterr, -EPROTO, "byte 0", "not a CrAU payload");
		unsigned long long want = s->m                 ? s->m->file_size
					  : s->st == ST_HEADER ? PAYLOAD_HEADER_SIZE
							       : PAYLOAD_HEADER_SIZE + s->manifest_size;
		return s->fatal = fail(reterr, -EMSGSIZE, "end of file",
				       "truncated: have %llu of %s%llu bytes",
				       (unsigned long long)s->pos, s->m ? "" : "at least ", want);
	}
	if (s->extra > 0)
		return s->fatal = fail(reterr, -EMSGSIZE, "end of file",
				       "file is %llu bytes, but the payload ends at byte %llu",
				       (unsigned long long)s->pos,
				       (unsigned long long)s->m->file_size);
	/* Write pass: what went wrong while writing comes first. */
	if (write_mode(s)) {
		r = report_fault(s, reterr);
		if (r < 0)
			return s->fatal = r;
	}
	if (!s->signed_taken) {
		r = crypto_hash_peek(s->file_hash, s->signed_digest, sizeof(s->signed_digest));
		if (r < 0)
			return s->fatal = r;
		s->signed_taken = true;
	}
	/* 5.5 step 6 */
	if (!s->o.verified_digest && s->o.n_keys == 0)
		return s->fatal = fail(reterr, -ENOKEY, "signatures", "no trusted update key");
	r = check_signatures(s, reterr);
	if (r < 0)
		return s->fatal = r;
	/* 5.5 step 7 */
	r = report_fault(s, reterr);
	if (r < 0)
		return s->fatal = r;

	if (s->o.kernel_fd >= 0 && s->m->has_kernel &&
	    ftruncate(s->o.kernel_fd, (off_t)s->m->kernel_size) < 0)
		return s->fatal = -errno;
	if (!s->o.defer_sync) {
		r = fsync_fd(s->o.usr_fd);
		if (r >= 0)
			r = fsync_fd(s->o.kernel_fd);
		if (r < 0)
			return s->fatal = r;
	}

	s->res.size = s->pos;
	memcpy(s->res.signed_sha256, s->signed_digest, PAYLOAD_SHA256_SIZE);
	r = crypto_hash_final(s->file_hash, s->res.sha256, sizeof(s->res.sha256));
	if (r < 0)
		return s->fatal = r;
	return 0;
}

int payload_stream_feed_fd(struct payload_stream *s, int fd, struct problem_list *reterr)
{
	_cleanup_free_ uint8_t *buf = malloc(READ_BUF_SIZE);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, READ_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		int r = payload_stream_feed(s, buf, (size_t)n, reterr);
		if (r < 0)
			return r;
	}
}

int payload_check_image(int fd, uint64_t offset, uint64_t size,
			const uint8_t hash[PAYLOAD_SHA256_SIZE], uint8_t *ret_actual)
{
	uint8_t digest[PAYLOAD_SHA256_SIZE];
	int r = crypto_hash_fd(CRYPTO_SHA256, fd, offset, size, digest, sizeof(digest));

	if (r < 0)
		return r;
	if (ret_actual)
		memcpy(ret_actual, digest, sizeof(digest));
	return memcmp(digest, hash, sizeof(digest)) == 0 ? 0 : -EILSEQ;
}
