/* SPDX-License-Identifier: MIT */
/* lib/payload/manifest.c - CrAU v1 header, manifest and Signatures decoding (protobuf-c, our own
 * .proto) and the structural rules of docs/update.md 5.2/5.3.
 *
 * The manifest is turned into a flat list of operations in blob walk order (partition_operations,
 * then each procedure's operations), each tagged with its target, so that the streaming reader
 * only has to follow that list through the blob area. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/payload.h"
#include "payload/update_metadata.pb-c.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define MF "manifest: "

static const char *const op_names[] = {
	[PAYLOAD_OP_REPLACE] = "REPLACE", [PAYLOAD_OP_REPLACE_BZ] = "REPLACE_BZ",
	[PAYLOAD_OP_MOVE] = "MOVE",       [PAYLOAD_OP_BSDIFF] = "BSDIFF",
	[PAYLOAD_OP_REPLACE_XZ] = "REPLACE_XZ",
};

const char *payload_op_type_to_string(int type)
{
	if (type < 0 || (size_t)type >= ARRAY_SIZE(op_names))
		return NULL;
	return op_names[type];
}

enum payload_error_code payload_error_code(int r)
{
	switch (-r) {
	case 0:
		return PAYLOAD_CODE_OK;
	case EPROTO:
		return PAYLOAD_CODE_MAGIC;
	case EBADMSG:
		return PAYLOAD_CODE_MANIFEST;
	case ERANGE:
	case EUCLEAN:
		return PAYLOAD_CODE_OPERATION;
	case EILSEQ:
		return PAYLOAD_CODE_OP_HASH;
	case EMSGSIZE:
		return PAYLOAD_CODE_SIZE_MISMATCH;
	case ENOKEY:
		return PAYLOAD_CODE_UNSIGNED;
	case EKEYREJECTED:
		return PAYLOAD_CODE_SIGNATURE;
	default:
		return PAYLOAD_CODE_ERROR;
	}
}

bool payload_error_is_invalid(int r)
{
	return payload_error_code(r) != PAYLOAD_CODE_ERROR && r < 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

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

int payload_header_parse(const uint8_t *buf, size_t n, uint64_t *ret_manifest_size,
			 struct problem_list *reterr)
{
	uint64_t version, m;

	if (n < 4 || memcmp(buf, "CrAU", 4) != 0)
		return fail(reterr, -EPROTO, "byte 0", "not a CrAU payload");
	if (n < PAYLOAD_HEADER_SIZE)
		return fail(reterr, -EMSGSIZE, "byte 0", "truncated: have %zu of %u bytes", n,
			    PAYLOAD_HEADER_SIZE);
	version = be64(buf + 4);
	if (version != PAYLOAD_VERSION)
		return fail(reterr, -EBADMSG, "byte 4", "unsupported CrAU version %llu",
			    (unsigned long long)version);
	m = be64(buf + 12);
	if (m > PAYLOAD_MANIFEST_MAX)
		return fail(reterr, -EBADMSG, "byte 12",
			    "manifest: size at byte 12: %llu bytes is more than the %u allowed",
			    (unsigned long long)m, PAYLOAD_MANIFEST_MAX);
	*ret_manifest_size = m;
	return 0;
}

struct payload_manifest *payload_manifest_free(struct payload_manifest *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_ops; i++)
		free(m->ops[i].extents);
	free(m->ops);
	free(m->raw);
	free(m);
	return NULL;
}
DEFINE_CLEANUP(struct payload_manifest, payload_manifest_free)

/* protobuf-c allocates a struct for every element of a repeated field, and keeps every unknown
 * field, before the caller sees a single count: 16 MiB of two-byte empty operations cost it 1.5
 * GB. So the counts are taken from the wire format first (prescan below), and everything
 * protobuf-c allocates is charged to a budget: 16 MiB (PAYLOAD_OPS_MAX empty operations as decoded
 * structs fit) plus 8 bytes per manifest byte (a payload made by `pack` needs about 6). */
#define MANIFEST_MEM_FACTOR 8u
#define MANIFEST_MEM_BASE (16u << 20)

struct budget {
	size_t left;
	bool exceeded;
};

/* Each block carries its size in front, so that a free gives the bytes back. */
#define BUDGET_HDR 16u

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	size_t need = size + BUDGET_HDR;
	uint8_t *p;

	if (size > SIZE_MAX - BUDGET_HDR || need > b->left) {
		b->exceeded = true;
		return NULL;
	}
	p = malloc(need);
	if (!p)
		return NULL;
	b->left -= need;
	memcpy(p, &need, sizeof(need));
	return p + BUDGET_HDR;
}

static void budget_free(void *data, void *ptr)
{
	struct budget *b = data;
	uint8_t *p = ptr;
	size_t need;

	if (!p)
		return;
	p -= BUDGET_HDR;
	memcpy(&need, p, sizeof(need));
	b->left += need;
	free(p);
}

size_t payload_manifest_mem_budget(size_t manifest_size)
{
	return MANIFEST_MEM_BASE + MANIFEST_MEM_FACTOR * manifest_size;
}

/* Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a varint key holding
 * field number and wire type, then a varint (0), 8 bytes (1), a varint length and that many bytes
 * (2) or 4 bytes (5). Groups (3, 4) and varints over 10 bytes are errors, as in protobuf-c. */
struct wire_field {
	uint64_t number;
	unsigned type;
	const uint8_t *body; /* wire type 2 */
	size_t len;
};

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10 && *p < end; i++) {
		uint8_t c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EILSEQ;
}

static int wire_next(const uint8_t **p, const uint8_t *end, struct wire_field *f)
{
	uint64_t key, v;

	if (wire_varint(p, end, &key) < 0)
		return -EILSEQ;
	*f = (struct wire_field){ .number = key >> 3, .type = (unsigned)(key & 7) };
	switch (f->type) {
	case 0:
		return wire_varint(p, end, &v);
	case 1:
	case 5: {
		size_t w = f->type == 1 ? 8 : 4;
		if ((size_t)(end - *p) < w)
			return -EILSEQ;
		*p += w;
		return 0;
	}
	case 2:
		if (wire_varint(p, end, &v) < 0 || v > (uint64_t)(end - *p))
			return -EILSEQ;
		f->body = *p;
		f->len = (size_t)v;
		*p += v;
		return 0;
	default:
		return -EILSEQ;
	}
}

struct prescan {
	const uint8_t *base;   /* the manifest's first byte, for file offsets */
	size_t n_ops;          /* partition_operations and procedures' operations */
	size_t n_noop;
	size_t n_procedures;
	struct problem_list *reterr;
};

static unsigned long long file_byte(const struct prescan *s, const uint8_t *p)
{
	return PAYLOAD_HEADER_SIZE + (unsigned long long)(p - s->base);
}

static int prescan_op(struct prescan *s, const uint8_t *op, size_t n, const char *list,
		      size_t idx)
{
	const uint8_t *p = op, *end = op + n;
	size_t n_src = 0, n_dst = 0;
	struct wire_field f;

	/* a wire error ends the scan of this message; what was counted up to it stands */
	while (p < end && wire_next(&p, end, &f) >= 0) {
		if (f.type == 2 && f.number == 4)
			n_src++;
		else if (f.type == 2 && f.number == 6)
			n_dst++;
	}
	if (n_dst > PAYLOAD_EXTENTS_MAX || n_src > PAYLOAD_EXTENTS_MAX)
		return fail(s->reterr, -EBADMSG, list,
			    MF "%s[%zu] at byte %llu: %zu %s, more than the %u allowed", list, idx,
			    file_byte(s, op), n_dst > n_src ? n_dst : n_src,
			    n_dst > n_src ? "dst_extents" : "src_extents", PAYLOAD_EXTENTS_MAX);
	return 0;
}

static int prescan_procedure(struct prescan *s, const uint8_t *proc, size_t n, size_t proc_idx)
{
	const uint8_t *p = proc, *end = proc + n;
	struct wire_field f;
	size_t k = 0;
	char list[48];
	int r;

	snprintf(list, sizeof(list), "procedures[%zu].operations", proc_idx);
	while (p < end && wire_next(&p, end, &f) >= 0) {
		if (f.type != 2 || f.number != 2)
			continue;
		if (++s->n_ops > PAYLOAD_OPS_MAX)
			continue; /* counted to the end for the message; nothing more is looked at */
		r = prescan_op(s, f.body, f.len, list, k++);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Count the repeated fields of a DeltaArchiveManifest on the wire, without allocating: operations
 * (docs/update.md 5.2: at most PAYLOAD_OPS_MAX in total, noop_operations likewise), extents per
 * operation (at most PAYLOAD_EXTENTS_MAX) and procedures. Counts past a limit are refused even
 * when a wire error follows them; otherwise a wire error is left to protobuf-c to report. */
static int manifest_prescan(const uint8_t *data, size_t size, struct problem_list *reterr)
{
	struct prescan s = { .base = data, .reterr = reterr };
	const uint8_t *p = data, *end = data + size;
	size_t n_part = 0;
	struct wire_field f;
	int r;

	while (p < end && wire_next(&p, end, &f) >= 0) {
		if (f.type != 2)
			continue;
		if (f.number == 1) {
			n_part++;
			if (++s.n_ops > PAYLOAD_OPS_MAX)
				continue;
			r = prescan_op(&s, f.body, f.len, "partition_operations", n_part - 1);
		} else if (f.number == 2) {
			if (++s.n_noop > PAYLOAD_OPS_MAX)
				continue;
			r = prescan_op(&s, f.body, f.len, "noop_operations", s.n_noop - 1);
		} else if (f.number == 10) {
			if (++s.n_procedures > PAYLOAD_OPS_MAX)
				continue;
			r = prescan_procedure(&s, f.body, f.len, s.n_procedures - 1);
		} else
			continue;
		if (r < 0)
			return r;
	}
	if (s.n_ops > PAYLOAD_OPS_MAX)
		return fail(reterr, -EBADMSG, "partition_operations",
			    MF "partition_operations at byte %u: %zu operations, more than the %u "
			       "allowed",
			    PAYLOAD_HEADER_SIZE, s.n_ops, PAYLOAD_OPS_MAX);
	if (s.n_noop > PAYLOAD_OPS_MAX)
		return fail(reterr, -EBADMSG, "noop_operations",
			    MF "noop_operations at byte %u: %zu operations, more than the %u allowed",
			    PAYLOAD_HEADER_SIZE, s.n_noop, PAYLOAD_OPS_MAX);
	if (s.n_procedures > PAYLOAD_OPS_MAX)
		return fail(reterr, -EBADMSG, "procedures",
			    MF "procedures at byte %u: %zu procedures, more than the %u allowed",
			    PAYLOAD_HEADER_SIZE, s.n_procedures, PAYLOAD_OPS_MAX);
	return 0;
}

/* Walk state shared by the operation checks. */
struct walk {
	struct payload_manifest *m;
	uint64_t next_offset;  /* where the next blob must start */
	uint64_t usr_bound;    /* bytes the USR extents may reach */
	struct problem_list *reterr;
};

static int add_op(struct walk *w, const InstallOperation *op, enum payload_target target)
{
	struct payload_manifest *m = w->m;
	struct payload_op *o = &m->ops[m->n_ops];
	unsigned idx = (unsigned)m->n_ops;
	uint64_t blob_at = m->blobs_offset + (op->has_data_offset ? op->data_offset : 0);
	int type = (int)op->type;
	char where[32];

	snprintf(where, sizeof(where), "operation %u", idx);
	*o = (struct payload_op){ .index = idx, .target = target, .type = type };
	m->n_ops++;

	if (op->has_data_length && op->data_length > 0) {
		if (!op->has_data_offset || op->data_offset != w->next_offset)
			return fail(w->reterr, -ERANGE, where,
				    "operation %u: blob at data_offset %llu does not start where the "
				    "previous one ends (%llu) (offset %llu)",
				    idx, op->has_data_offset ? (unsigned long long)op->data_offset : 0ULL,
				    (unsigned long long)w->next_offset, (unsigned long long)blob_at);
		o->data_offset = op->data_offset;
		o->data_length = op->data_length;
		w->next_offset += op->data_length;
	}
	if (target == PAYLOAD_TARGET_SKIP)
		return 0;

	if (!op->has_type)
		return fail(w->reterr, -EBADMSG, where, "operation %u: no type (offset %llu)", idx,
			    (unsigned long long)blob_at);
	if (type == PAYLOAD_OP_MOVE || type == PAYLOAD_OP_BSDIFF)
		return fail(w->reterr, -EBADMSG, where,
			    "operation %u: delta operation %s is not supported", idx,
			    payload_op_type_to_string(type));
	if (type != PAYLOAD_OP_REPLACE && type != PAYLOAD_OP_REPLACE_BZ &&
	    type != PAYLOAD_OP_REPLACE_XZ)
		return fail(w->reterr, -EBADMSG, where,
			    "operation %u: unknown operation type %d is not supported", idx,
			    (int)type);
	if (op->n_src_extents > 0 || op->has_src_length)
		return fail(w->reterr, -EBADMSG, where,
			    "operation %u: delta operation (src_extents) is not supported", idx);
	if (o->data_length == 0)
		return fail(w->reterr, -ERANGE, where, "operation %u: %s without data (offset %llu)",
			    idx, payload_op_type_to_string(type), (unsigned long long)blob_at);
	if (o->data_length > PAYLOAD_OP_DATA_MAX)
		return fail(w->reterr, -ERANGE, where,
			    "operation %u: oversized operation: %llu bytes of data, more than the "
			    "%u allowed (offset %llu)",
			    idx, (unsigned long long)o->data_length, PAYLOAD_OP_DATA_MAX,
			    (unsigned long long)blob_at);
	if (!op->has_data_sha256_hash || op->data_sha256_hash.len != PAYLOAD_SHA256_SIZE)
		return fail(w->reterr, -EBADMSG, where,
			    "operation %u: data_sha256_hash missing or not 32 bytes (offset %llu)",
			    idx, (unsigned long long)blob_at);
	memcpy(o->hash, op->data_sha256_hash.data, PAYLOAD_SHA256_SIZE);
	if (op->n_dst_extents == 0 || op->n_dst_extents > PAYLOAD_EXTENTS_MAX)
		return fail(w->reterr, -ERANGE, where,
			    "operation %u: %zu dst_extents (1 to %u allowed) (offset %llu)", idx,
			    op->n_dst_extents, PAYLOAD_EXTENTS_MAX, (unsigned long long)blob_at);

	o->extents = calloc(op->n_dst_extents, sizeof(*o->extents));
	if (!o->extents)
		return -ENOMEM;
	o->n_extents = op->n_dst_extents;
	uint64_t bs = m->block_size;
	uint64_t bound = target == PAYLOAD_TARGET_USR ? w->usr_bound : 2 * PAYLOAD_KERNEL_MAX;
	for (size_t i = 0; i < op->n_dst_extents; i++) {
		const Extent *e = op->dst_extents[i];
		uint64_t start = e->has_start_block ? e->start_block : 0;
		uint64_t num = e->has_num_blocks ? e->num_blocks : 0;

		if (start == PAYLOAD_SPARSE_HOLE)
			return fail(w->reterr, -ERANGE, where,
				    "operation %u: extent %zu is a sparse hole (offset %llu)", idx, i,
				    (unsigned long long)blob_at);
		if (num == 0)
			return fail(w->reterr, -ERANGE, where,
				    "operation %u: extent %zu has no blocks (offset %llu)", idx, i,
				    (unsigned long long)blob_at);
		if (start > bound / bs || num > bound / bs - start)
			return fail(w->reterr, -ERANGE, where,
				    "operation %u: extent %zu (blocks %llu+%llu) lies outside the %s "
				    "(%llu bytes) (offset %llu)",
				    idx, i, (unsigned long long)start, (unsigned long long)num,
				    target == PAYLOAD_TARGET_USR ? "partition" : "kernel bound",
				    (unsigned long long)bound, (unsigned long long)blob_at);
		o->extents[i] = (struct payload_extent){ start, num };
		o->dst_bytes += num * bs;
	}
	if (type == PAYLOAD_OP_REPLACE && o->data_length > o->dst_bytes)
		return fail(w->reterr, -ERANGE, where,
			    "operation %u: data larger than its extents (%llu > %llu bytes) "
			    "(offset %llu)",
			    idx, (unsigned long long)o->data_length, (unsigned long long)o->dst_bytes,
			    (unsigned long long)blob_at);

	if (target == PAYLOAD_TARGET_USR) {
		m->n_by_type[type == PAYLOAD_OP_REPLACE      ? 0
			     : type == PAYLOAD_OP_REPLACE_BZ ? 1
							   : 2]++;
		m->usr_dst_bytes += o->dst_bytes;
	} else {
		m->n_kernel_ops++;
	}
	return 0;
}

static int info_parse(const InstallInfo *in, const char *field, uint64_t max, uint64_t *ret_size,
		      uint8_t *ret_hash, struct problem_list *reterr)
{
	if (!in)
		return fail(reterr, -EBADMSG, field, MF "%s at byte %u: missing", field,
			    PAYLOAD_HEADER_SIZE);
	if (!in->has_size || in->size == 0 || in->size > max)
		return fail(reterr, -EBADMSG, field,
			    MF "%s at byte %u: size missing or out of range (1 to %llu)", field,
			    PAYLOAD_HEADER_SIZE, (unsigned long long)max);
	if (!in->has_hash || in->hash.len != PAYLOAD_SHA256_SIZE)
		return fail(reterr, -EBADMSG, field,
			    MF "%s at byte %u: hash missing or not a 32-byte SHA-256", field,
			    PAYLOAD_HEADER_SIZE);
	*ret_size = in->size;
	memcpy(ret_hash, in->hash.data, PAYLOAD_SHA256_SIZE);
	return 0;
}

static int extent_cmp(const void *a, const void *b)
{
	const struct payload_extent *x = a, *y = b;
	return x->start_block < y->start_block ? -1 : x->start_block > y->start_block;
}

static int check_overlap(struct payload_manifest *m)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < m->n_ops; i++)
		if (m->ops[i].target == PAYLOAD_TARGET_USR)
			n += m->ops[i].n_extents;
	if (n < 2)
		return 0;
	_cleanup_free_ struct payload_extent *all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_ops; i++)
		if (m->ops[i].target == PAYLOAD_TARGET_USR)
			for (size_t j = 0; j < m->ops[i].n_extents; j++)
				all[k++] = m->ops[i].extents[j];
	qsort(all, n, sizeof(*all), extent_cmp);
	for (size_t i = 1; i < n; i++)
		if (all[i].start_block < all[i - 1].start_block + all[i - 1].num_blocks)
			m->overlapping = true;
	return 0;
}

static int manifest_check(const DeltaArchiveManifest *pb, const uint8_t *data, size_t size,
			  uint64_t partition_size, struct payload_manifest **ret,
			  struct problem_list *reterr)
{
	_cleanup_(payload_manifest_freep) struct payload_manifest *m = NULL;
	size_t total = 0;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->manifest_size = size;
	m->blobs_offset = PAYLOAD_HEADER_SIZE + (uint64_t)size;
	m->raw = malloc(size ? size : 1);
	if (!m->raw)
		return -ENOMEM;
	memcpy(m->raw, data, size);

	m->block_size = pb->has_block_size ? pb->block_size : 4096;
	if (m->block_size < 512 || m->block_size > 65536 || (m->block_size & (m->block_size - 1)))
		return fail(reterr, -EBADMSG, "block_size",
			    MF "block_size at byte %u: %u is not a power of two from 512 to 65536",
			    PAYLOAD_HEADER_SIZE, m->block_size);
	if (pb->old_partition_info)
		return fail(reterr, -EBADMSG, "old_partition_info",
			    MF "old_partition_info at byte %u: delta payloads are not supported",
			    PAYLOAD_HEADER_SIZE);
	if (!pb->has_signatures_offset)
		return fail(reterr, -EBADMSG, "signatures_offset",
			    MF "signatures_offset at byte %u: missing", PAYLOAD_HEADER_SIZE);
	if (!pb->has_signatures_size || pb->signatures_size == 0 ||
	    pb->signatures_size > PAYLOAD_SIGNATURES_MAX)
		return fail(reterr, -EBADMSG, "signatures_size",
			    MF "signatures_size at byte %u: missing or out of range (1 to %u)",
			    PAYLOAD_HEADER_SIZE, PAYLOAD_SIGNATURES_MAX);
	m->signatures_offset = pb->signatures_offset;
	m->signatures_size = pb->signatures_size;

	r = info_parse(pb->new_partition_info, "new_partition_info", UINT64_MAX / 2, &m->new_size,
		       m->new_hash, reterr);
	if (r < 0)
		return r;
	if (m->new_size % m->block_size)
		return fail(reterr, -EBADMSG, "new_partition_info",
			    MF "new_partition_info at byte %u: size %llu is not a multiple of the "
			       "block size %u",
			    PAYLOAD_HEADER_SIZE, (unsigned long long)m->new_size, m->block_size);
	if (partition_size && m->new_size > partition_size)
		return fail(reterr, -ENOSPC, "new_partition_info",
			    "new image is %llu bytes but the partition holds %llu",
			    (unsigned long long)m->new_size, (unsigned long long)partition_size);

	total = pb->n_partition_operations;
	for (size_t i = 0; i < pb->n_procedures; i++) {
		if (pb->procedures[i]->n_operations > PAYLOAD_OPS_MAX)
			total = PAYLOAD_OPS_MAX + 1;
		else
			total += pb->procedures[i]->n_operations;
	}
	if (total > PAYLOAD_OPS_MAX)
		return fail(reterr, -EBADMSG, "partition_operations",
			    MF "partition_operations at byte %u: %zu operations, more than the %u "
			       "allowed",
			    PAYLOAD_HEADER_SIZE, total, PAYLOAD_OPS_MAX);
	m->ops = calloc(total ? total : 1, sizeof(*m->ops));
	if (!m->ops)
		return -ENOMEM;
	m->n_noop_ops = (unsigned)(pb->n_noop_operations > UINT32_MAX ? UINT32_MAX
								       : pb->n_noop_operations);

	struct walk w = { .m = m, .usr_bound = partition_size ? partition_size : m->new_size,
			  .reterr = reterr };
	for (size_t i = 0; i < pb->n_partition_operations; i++) {
		r = add_op(&w, pb->partition_operations[i], PAYLOAD_TARGET_USR);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < pb->n_procedures; i++) {
		const InstallProcedure *p = pb->procedures[i];
		enum payload_target t = PAYLOAD_TARGET_SKIP;

		if (p->has_type && p->type == INSTALL_PROCEDURE__TYPE__KERNEL) {
			if (m->has_kernel)
				return fail(reterr, -EBADMSG, "procedures",
					    MF "procedures at byte %u: more than one KERNEL procedure",
					    PAYLOAD_HEADER_SIZE);
			if (p->old_info)
				return fail(reterr, -EBADMSG, "procedures",
					    MF "procedures at byte %u: KERNEL old_info: delta "
					       "payloads are not supported",
					    PAYLOAD_HEADER_SIZE);
			r = info_parse(p->new_info, "KERNEL new_info", PAYLOAD_KERNEL_MAX,
				       &m->kernel_size, m->kernel_hash, reterr);
			if (r < 0)
				return r;
			m->has_kernel = true;
			t = PAYLOAD_TARGET_KERNEL;
		}
		for (size_t j = 0; j < p->n_operations; j++) {
			r = add_op(&w, p->operations[j], t);
			if (r < 0)
				return r;
			if (t == PAYLOAD_TARGET_SKIP)
				m->n_skipped_ops++;
		}
	}
	if (m->signatures_offset != w.next_offset)
		return fail(reterr, -ERANGE, "signatures_offset",
			    MF "signatures_offset at byte %u: %llu, but the last blob ends at %llu",
			    PAYLOAD_HEADER_SIZE, (unsigned long long)m->signatures_offset,
			    (unsigned long long)w.next_offset);
	m->file_size = m->blobs_offset + m->signatures_offset + m->signatures_size;
	r = check_overlap(m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

int payload_manifest_parse(const uint8_t *data, size_t size, uint64_t partition_size,
			   struct payload_manifest **ret, struct problem_list *reterr)
{
	struct budget budget = { .left = payload_manifest_mem_budget(size) };
	ProtobufCAllocator alloc = { budget_alloc, budget_free, &budget };
	DeltaArchiveManifest *pb = NULL;
	int r;

	if (size > PAYLOAD_MANIFEST_MAX)
		return fail(reterr, -EBADMSG, "byte 12", MF "size at byte 12: %zu bytes is too large",
			    size);
	r = manifest_prescan(data, size, reterr);
	if (r < 0)
		return r;
	pb = delta_archive_manifest__unpack(&alloc, size, data);
	if (!pb && budget.exceeded)
		return fail(reterr, -EBADMSG, "byte 20",
			    MF "DeltaArchiveManifest at bytes %u-%llu: decoding needs more than the "
			       "%zu bytes of memory allowed for its size",
			    PAYLOAD_HEADER_SIZE, (unsigned long long)(PAYLOAD_HEADER_SIZE + size),
			    payload_manifest_mem_budget(size));
	if (!pb)
		return fail(reterr, -EBADMSG, "byte 20",
			    MF "DeltaArchiveManifest at bytes %u-%llu: does not decode",
			    PAYLOAD_HEADER_SIZE, (unsigned long long)(PAYLOAD_HEADER_SIZE + size));
	r = manifest_check(pb, data, size, partition_size, ret, reterr);
	delta_archive_manifest__free_unpacked(pb, &alloc);
	return r;
}

void payload_signatures_release(struct payload_signatures *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->item[i].data);
	free(s->item);
	*s = (struct payload_signatures){};
}

int payload_signatures_parse(const uint8_t *data, size_t size, uint64_t file_offset,
			     struct payload_signatures *ret, struct problem_list *reterr)
{
	Signatures *pb = signatures__unpack(NULL, size, data);
	struct payload_signatures s = {};
	int r = 0;

	if (!pb)
		return fail(reterr, -EBADMSG, "signatures",
			    "signatures: Signatures at bytes %llu-%llu: does not decode",
			    (unsigned long long)file_offset,
			    (unsigned long long)(file_offset + size));
	if (pb->n_signatures == 0) {
		r = fail(reterr, -ENOKEY, "signatures", "payload is not signed");
		goto out_unpacked;
	}
	s.item = calloc(pb->n_signatures, sizeof(*s.item));
	if (!s.item) {
		r = -ENOMEM;
		goto out_unpacked;
	}
	for (size_t i = 0; i < pb->n_signatures; i++) {
		const Signatures__Signature *sig = pb->signatures[i];
		struct payload_signature *d = &s.item[s.n++];

		d->version = sig->has_version ? sig->version : 0;
		if (sig->has_data && sig->data.len > 0) {
			d->data = malloc(sig->data.len);
			if (!d->data) {
				r = -ENOMEM;
				goto out_unpacked;
			}
			memcpy(d->data, sig->data.data, sig->data.len);
			d->size = sig->data.len;
		}
	}
	*ret = s;
	s = (struct payload_signatures){};
out_unpacked:
	payload_signatures_release(&s);
	signatures__free_unpacked(pb, NULL);
	return r;
}
