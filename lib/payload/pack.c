/* SPDX-License-Identifier: MIT */
/* lib/payload/pack.c - the CrAU v1 generator behind `update pack` (docs/update.md 2.6, 5).
 *
 * The image (and kernel) is cut into chunks; batches of chunks are read and compressed on one
 * thread each, then their blobs are appended in order to a spool file while the operations are
 * recorded. Once all blobs are known the manifest can be encoded (its signatures_size comes from
 * the encoded size of n signatures of modulus length), and the payload is assembled: header,
 * manifest, blobs copied from the spool, Signatures over the SHA-256 of everything before it. */
#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "payload/payload.h"
#include "payload/update_metadata.pb-c.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define COPY_BUF_SIZE (1u << 20)

static const char *const compress_names[_PAYLOAD_COMPRESS_MAX] = {
	[PAYLOAD_COMPRESS_NONE] = "none",
	[PAYLOAD_COMPRESS_BZIP2] = "bzip2",
	[PAYLOAD_COMPRESS_XZ] = "xz",
};

const char *payload_compress_to_string(enum payload_compress c)
{
	return c >= 0 && c < _PAYLOAD_COMPRESS_MAX ? compress_names[c] : NULL;
}

enum payload_compress payload_compress_from_string(const char *s)
{
	for (int i = 0; i < _PAYLOAD_COMPRESS_MAX; i++)
		if (s && strcmp(s, compress_names[i]) == 0)
			return (enum payload_compress)i;
	return _PAYLOAD_COMPRESS_INVALID;
}

struct chunk {
	int fd;
	uint64_t offset;
	size_t len;
	enum payload_compress compress;
	uint8_t *raw;
	uint8_t *out;
	size_t out_len;
	int type;
	uint8_t hash[PAYLOAD_SHA256_SIZE];
	int r;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void *chunk_run(void *arg)
{
	struct chunk *c = arg;

	c->r = fs_pread_all(c->fd, c->raw, c->len, c->offset);
	if (c->r < 0)
		return NULL;
	c->type = PAYLOAD_OP_REPLACE;
	if (c->compress == PAYLOAD_COMPRESS_BZIP2) {
		unsigned n = (unsigned)c->len - 1;
		int rc = BZ2_bzBuffToBuffCompress((char *)c->out, &n, (char *)c->raw,
						  (unsigned)c->len, 9, 0, 0);
		if (rc == BZ_OK) {
			c->type = PAYLOAD_OP_REPLACE_BZ;
			c->out_len = n;
		} else if (rc != BZ_OUTBUFF_FULL) {
			c->r = -ENOMEM;
			return NULL;
		}
	} else if (c->compress == PAYLOAD_COMPRESS_XZ) {
		size_t n = 0;
		lzma_ret rc = lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, c->raw, c->len,
						      c->out, &n, c->len - 1);
		if (rc == LZMA_OK) {
			c->type = PAYLOAD_OP_REPLACE_XZ;
			c->out_len = n;
		} else if (rc != LZMA_BUF_ERROR) {
			c->r = -ENOMEM;
			return NULL;
		}
	}
	if (c->type == PAYLOAD_OP_REPLACE) {
		memcpy(c->out, c->raw, c->len);
		c->out_len = c->len;
	}
	c->r = crypto_sha256(c->out, c->out_len, c->hash);
	return NULL;
}

/* The operations built so far, with the blobs in the spool. */
struct builder {
	const struct payload_pack_opts *o;
	int spool_fd;
	uint64_t blob_end;
	InstallOperation **ops;
	size_t n_ops;
	size_t cap_ops;
	struct problem_list *reterr;
};

static void op_free(InstallOperation *op)
{
	if (!op)
		return;
	for (size_t i = 0; i < op->n_dst_extents; i++)
		free(op->dst_extents[i]);
	free(op->dst_extents);
	free(op->data_sha256_hash.data);
	free(op);
}

static InstallOperation *op_new(int type, uint64_t offset, uint64_t length, uint64_t start_block,
				uint64_t num_blocks)
{
	InstallOperation *op = calloc(1, sizeof(*op));
	Extent *e = calloc(1, sizeof(*e));
	Extent **list = calloc(1, sizeof(*list));

	if (!op || !e || !list) {
		free(op);
		free(e);
		free(list);
		return NULL;
	}
	install_operation__init(op);
	extent__init(e);
	op->has_type = true;
	op->type = (InstallOperation__Type)type;
	op->has_data_offset = true;
	op->data_offset = (uint32_t)offset;
	op->has_data_length = true;
	op->data_length = (uint32_t)length;
	e->has_start_block = e->has_num_blocks = true;
	e->start_block = start_block;
	e->num_blocks = num_blocks;
	list[0] = e;
	op->dst_extents = list;
	op->n_dst_extents = 1;
	return op;
}

static int builder_add(struct builder *b, InstallOperation *op)
{
	if (b->n_ops == b->cap_ops) {
		size_t nc = b->cap_ops ? b->cap_ops * 2 : 64;
		InstallOperation **p = realloc(b->ops, nc * sizeof(*p));
		if (!p) {
			op_free(op);
			return -ENOMEM;
		}
		b->ops = p;
		b->cap_ops = nc;
	}
	b->ops[b->n_ops++] = op;
	return 0;
}

/* Cut fd (size bytes) into chunks; append one operation per chunk. With full_extents (the
 * kernel) the last chunk's extent still covers a whole chunk, as Flatcar's generator does. */
static int add_chunks(struct builder *b, int fd, uint64_t size, bool full_extents,
		      struct crypto_hash *whole, struct payload_pack_result *res)
{
	const struct payload_pack_opts *o = b->o;
	uint64_t chunk = o->chunk_size, bs = o->block_size;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned w = o->workers ? o->workers : ncpu > 0 ? (unsigned)ncpu : 1;
	_cleanup_free_ struct chunk *c = NULL;
	int r = 0;

	if (w > 16)
		w = 16;
	c = calloc(w, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (unsigned i = 0; i < w; i++) {
		c[i].raw = malloc(chunk);
		c[i].out = malloc(chunk);
		if (!c[i].raw || !c[i].out) {
			r = -ENOMEM;
			goto out_free;
		}
	}
	for (uint64_t off = 0; off < size && r >= 0;) {
		pthread_t t[16];
		bool started[16] = {};
		unsigned n = 0;

		for (; n < w && off < size; n++, off += chunk) {
			c[n].fd = fd;
			c[n].offset = off;
			c[n].len = (size_t)(size - off < chunk ? size - off : chunk);
			c[n].compress = o->compress;
			c[n].r = 0;
			started[n] = pthread_create(&t[n], NULL, chunk_run, &c[n]) == 0;
			if (!started[n])
				chunk_run(&c[n]);
		}
		for (unsigned i = 0; i < n; i++)
			if (started[i])
				pthread_join(t[i], NULL);
		for (unsigned i = 0; i < n && r >= 0; i++) {
			r = c[i].r;
			if (r < 0)
				break;
			if (b->blob_end + c[i].out_len > UINT32_MAX) {
				r = problem_add(b->reterr, -EFBIG, NULL,
						"payload data exceeds the 4 GiB that CrAU v1 "
						"data_offset can address");
				break;
			}
			r = crypto_hash_update(whole, c[i].raw, c[i].len);
			if (r < 0)
				break;
			r = write_all(b->spool_fd, c[i].out, c[i].out_len);
			if (r < 0)
				break;
			InstallOperation *op = op_new(c[i].type, b->blob_end, c[i].out_len,
						      c[i].offset / bs,
						      full_extents ? chunk / bs
								   : (c[i].len + bs - 1) / bs);
			if (!op) {
				r = -ENOMEM;
				break;
			}
			op->has_data_sha256_hash = true;
			op->data_sha256_hash.data = malloc(PAYLOAD_SHA256_SIZE);
			if (!op->data_sha256_hash.data) {
				op_free(op);
				r = -ENOMEM;
				break;
			}
			memcpy(op->data_sha256_hash.data, c[i].hash, PAYLOAD_SHA256_SIZE);
			op->data_sha256_hash.len = PAYLOAD_SHA256_SIZE;
			r = builder_add(b, op);
			if (r < 0)
				break;
			b->blob_end += c[i].out_len;
			res->n_ops++;
			res->n_by_type[c[i].type == PAYLOAD_OP_REPLACE      ? 0
				       : c[i].type == PAYLOAD_OP_REPLACE_BZ ? 1
									    : 2]++;
		}
	}
out_free:
	for (unsigned i = 0; i < w; i++) {
		free(c[i].raw);
		free(c[i].out);
	}
	return r;
}

static int file_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return -errno;
		*ret = (uint64_t)end;
		return 0;
	}
	*ret = (uint64_t)st.st_size;
	return 0;
}

/* Output with running SHA-256 and SHA-1. */
struct out {
	int fd;
	struct crypto_hash *sha256, *sha1;
	struct crypto_hash *signed_sha256; /* NULL once the Signatures message is written */
	uint64_t size;
};

static int out_write(struct out *o, const void *p, size_t n)
{
	int r = write_all(o->fd, p, n);
	if (r >= 0)
		r = crypto_hash_update(o->sha256, p, n);
	if (r >= 0)
		r = crypto_hash_update(o->sha1, p, n);
	if (r >= 0 && o->signed_sha256)
		r = crypto_hash_update(o->signed_sha256, p, n);
	if (r >= 0)
		o->size += n;
	return r;
}

static void set_info(InstallInfo *info, uint64_t size, uint8_t *hash)
{
	install_info__init(info);
	info->has_size = info->has_hash = true;
	info->size = size;
	info->hash.data = hash;
	info->hash.len = PAYLOAD_SHA256_SIZE;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int payload_pack(int image_fd, int kernel_fd, int out_fd, int spool_fd,
		 const struct payload_pack_opts *opts, struct payload_pack_result *ret,
		 struct problem_list *reterr)
{
	struct payload_pack_opts o = *opts;
	struct payload_pack_result res = {};
	struct builder b = { .o = &o, .spool_fd = spool_fd, .reterr = reterr };
	struct out out = { .fd = out_fd };
	struct crypto_hash *h_image = NULL, *h_kernel = NULL;
	uint8_t image_hash[PAYLOAD_SHA256_SIZE], kernel_hash[PAYLOAD_SHA256_SIZE];
	size_t n_usr_ops = 0;
	InstallOperation **noops = NULL;
	size_t n_noops = 0;
	_cleanup_free_ uint8_t *mbytes = NULL;
	_cleanup_free_ uint8_t *copy = NULL;
	_cleanup_free_ uint8_t *sbytes = NULL;
	uint8_t *sig_data[3] = {};
	size_t sig_len[3] = {};
	int r;

	if (!o.block_size)
		o.block_size = 4096;
	if (!o.chunk_size)
		o.chunk_size = 1u << 20;
	if (o.block_size < 512 || o.block_size > 65536 || (o.block_size & (o.block_size - 1)))
		return problem_add(reterr, -EINVAL, "--block-size",
				   "block size %u is not a power of two from 512 to 65536",
				   o.block_size);
	if (o.chunk_size % o.block_size || o.chunk_size > PAYLOAD_OP_DATA_MAX)
		return problem_add(reterr, -EINVAL, "--chunk-size",
				   "chunk size %llu is not a multiple of the block size %u up to %u",
				   (unsigned long long)o.chunk_size, o.block_size,
				   PAYLOAD_OP_DATA_MAX);
	if (o.n_keys < 1 || o.n_keys > 3)
		return problem_add(reterr, -EINVAL, "--key", "1 to 3 signing keys needed, not %zu",
				   o.n_keys);
	r = file_size(image_fd, &res.image_size);
	if (r < 0)
		return problem_add(reterr, r, "--image", "not a regular file or block device");
	if (res.image_size == 0 || res.image_size % o.block_size)
		return problem_add(reterr, -EINVAL, "--image",
				   "image size %llu is not a positive multiple of the block size %u",
				   (unsigned long long)res.image_size, o.block_size);
	if (kernel_fd >= 0) {
		r = file_size(kernel_fd, &res.kernel_size);
		if (r < 0)
			return problem_add(reterr, r, "--kernel",
					   "not a regular file or block device");
		if (res.kernel_size == 0 || res.kernel_size > PAYLOAD_KERNEL_MAX)
			return problem_add(reterr, -EINVAL, "--kernel",
					   "kernel size %llu is out of range (1 to %llu)",
					   (unsigned long long)res.kernel_size, PAYLOAD_KERNEL_MAX);
	}
	uint64_t n_total = (res.image_size + o.chunk_size - 1) / o.chunk_size +
			   (res.kernel_size + o.chunk_size - 1) / o.chunk_size;
	if (n_total > PAYLOAD_OPS_MAX)
		return problem_add(reterr, -EINVAL, "--chunk-size",
				   "%llu operations, more than the %u allowed: use a larger chunk",
				   (unsigned long long)n_total, PAYLOAD_OPS_MAX);

	copy = malloc(COPY_BUF_SIZE);
	if (crypto_hash_new(CRYPTO_SHA256, &h_image) < 0 ||
	    crypto_hash_new(CRYPTO_SHA256, &h_kernel) < 0 ||
	    crypto_hash_new(CRYPTO_SHA256, &out.sha256) < 0 ||
	    crypto_hash_new(CRYPTO_SHA256, &out.signed_sha256) < 0 ||
	    crypto_hash_new(CRYPTO_SHA1, &out.sha1) < 0 || !copy) {
		r = -ENOMEM;
		goto finish;
	}

	/* Blobs. */
	r = add_chunks(&b, image_fd, res.image_size, false, h_image, &res);
	if (r < 0)
		goto finish;
	n_usr_ops = b.n_ops;
	if (kernel_fd >= 0) {
		r = add_chunks(&b, kernel_fd, res.kernel_size, true, h_kernel, &res);
		if (r < 0)
			goto finish;
	}
	r = crypto_hash_final(h_image, image_hash, sizeof(image_hash));
	if (r >= 0)
		r = crypto_hash_final(h_kernel, kernel_hash, sizeof(kernel_hash));
	if (r < 0)
		goto finish;

	/* The Signatures message: its size must be known before the manifest is encoded. */
	Signatures sigs = SIGNATURES__INIT;
	Signatures__Signature sig_msgs[3], *sig_ptrs[3];
	for (size_t i = 0; i < o.n_keys; i++) {
		signatures__signature__init(&sig_msgs[i]);
		sig_msgs[i].has_version = sig_msgs[i].has_data = true;
		sig_msgs[i].version = (uint32_t)crypto_signature_version(o.n_keys, i);
		sig_len[i] = crypto_key_size(o.keys[i]);
		sig_data[i] = calloc(1, sig_len[i]);
		if (!sig_data[i]) {
			r = -ENOMEM;
			goto finish;
		}
		sig_msgs[i].data.data = sig_data[i];
		sig_msgs[i].data.len = sig_len[i];
		sig_ptrs[i] = &sig_msgs[i];
	}
	sigs.n_signatures = o.n_keys;
	sigs.signatures = sig_ptrs;
	size_t sig_size = signatures__get_packed_size(&sigs);

	/* The manifest. */
	DeltaArchiveManifest m = DELTA_ARCHIVE_MANIFEST__INIT;
	InstallInfo new_info, kernel_info;
	InstallProcedure kernel_proc = INSTALL_PROCEDURE__INIT, *procs[1] = { &kernel_proc };
	m.partition_operations = b.ops;
	m.n_partition_operations = n_usr_ops;
	m.has_block_size = true;
	m.block_size = o.block_size;
	m.has_signatures_offset = m.has_signatures_size = true;
	m.signatures_offset = b.blob_end;
	m.signatures_size = sig_size;
	set_info(&new_info, res.image_size, image_hash);
	m.new_partition_info = &new_info;
	if (kernel_fd >= 0) {
		kernel_proc.has_type = true; /* written even though KERNEL is 0 (5.2) */
		kernel_proc.type = INSTALL_PROCEDURE__TYPE__KERNEL;
		kernel_proc.operations = b.ops + n_usr_ops;
		kernel_proc.n_operations = b.n_ops - n_usr_ops;
		set_info(&kernel_info, res.kernel_size, kernel_hash);
		kernel_proc.new_info = &kernel_info;
		m.procedures = procs;
		m.n_procedures = 1;

		/* Legacy entries for old clients: the kernel blobs and the signature as sparse
		 * holes (ignored by readers, 5.2). */
		noops = calloc(kernel_proc.n_operations + 1, sizeof(*noops));
		if (!noops) {
			r = -ENOMEM;
			goto finish;
		}
		for (size_t i = 0; i <= kernel_proc.n_operations; i++) {
			uint64_t off = i < kernel_proc.n_operations ? kernel_proc.operations[i]->data_offset
								    : b.blob_end;
			uint64_t len = i < kernel_proc.n_operations ? kernel_proc.operations[i]->data_length
								    : sig_size;
			noops[i] = op_new(PAYLOAD_OP_REPLACE, off, len, PAYLOAD_SPARSE_HOLE,
					  (len + o.block_size - 1) / o.block_size);
			if (!noops[i]) {
				r = -ENOMEM;
				goto finish;
			}
			n_noops++;
		}
		m.noop_operations = noops;
		m.n_noop_operations = n_noops;
	}
	size_t msize = delta_archive_manifest__get_packed_size(&m);
	mbytes = malloc(msize ? msize : 1);
	if (!mbytes) {
		r = -ENOMEM;
		goto finish;
	}
	delta_archive_manifest__pack(&m, mbytes);
	if (msize > PAYLOAD_MANIFEST_MAX) {
		r = problem_add(reterr, -EFBIG, NULL, "manifest of %zu bytes is too large", msize);
		goto finish;
	}

	/* Assemble. */
	uint8_t header[PAYLOAD_HEADER_SIZE];
	memcpy(header, "CrAU", 4);
	put_be64(header + 4, PAYLOAD_VERSION);
	put_be64(header + 12, msize);
	r = out_write(&out, header, sizeof(header));
	if (r >= 0)
		r = out_write(&out, mbytes, msize);
	for (uint64_t off = 0; r >= 0 && off < b.blob_end;) {
		size_t n = b.blob_end - off < COPY_BUF_SIZE ? (size_t)(b.blob_end - off)
							   : COPY_BUF_SIZE;
		r = fs_pread_all(spool_fd, copy, n, off);
		if (r >= 0)
			r = out_write(&out, copy, n);
		off += n;
	}
	if (r < 0)
		goto finish;

	uint8_t digest[PAYLOAD_SHA256_SIZE];
	r = crypto_hash_final(out.signed_sha256, digest, sizeof(digest));
	out.signed_sha256 = crypto_hash_free(out.signed_sha256);
	if (r < 0)
		goto finish;
	for (size_t i = 0; i < o.n_keys; i++) {
		uint8_t *s = NULL;
		size_t n = 0;
		r = crypto_rsa_sign_digest(o.keys[i], digest, &s, &n);
		if (r < 0) {
			r = problem_add(reterr, r, crypto_key_name(o.keys[i]),
					"signing with '%s' failed", crypto_key_name(o.keys[i]));
			goto finish;
		}
		if (n != sig_len[i]) {
			free(s);
			r = -EINVAL;
			goto finish;
		}
		memcpy(sig_data[i], s, n);
		free(s);
	}
	sbytes = malloc(sig_size);
	if (!sbytes) {
		r = -ENOMEM;
		goto finish;
	}
	if (signatures__pack(&sigs, sbytes) != sig_size) {
		r = -EINVAL;
		goto finish;
	}
	r = out_write(&out, sbytes, sig_size);
	if (r < 0)
		goto finish;
	if (fsync(out_fd) < 0 && errno != EINVAL) {
		r = -errno;
		goto finish;
	}
	res.size = out.size;
	r = crypto_hash_final(out.sha256, res.sha256, sizeof(res.sha256));
	if (r >= 0)
		r = crypto_hash_final(out.sha1, res.sha1, sizeof(res.sha1));
	if (r >= 0) {
		*ret = res;
		r = 0;
	}

finish:
	for (size_t i = 0; i < b.n_ops; i++)
		op_free(b.ops[i]);
	free(b.ops);
	for (size_t i = 0; i < n_noops; i++)
		op_free(noops[i]);
	free(noops);
	for (size_t i = 0; i < 3; i++)
		free(sig_data[i]);
	crypto_hash_free(h_image);
	crypto_hash_free(h_kernel);
	crypto_hash_free(out.sha256);
	crypto_hash_free(out.sha1);
	crypto_hash_free(out.signed_sha256);
	return r;
}
