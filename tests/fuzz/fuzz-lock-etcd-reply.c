/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-lock-etcd-reply.c - etcd v3 range/txn/error and v2 node reply parsers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "etcd/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem_list p = {};
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	uint64_t rev;
	bool ok;
	int code;
	char *msg = NULL, *val = NULL;
	const char *s = (const char *)data;

	if (etcd_v3_parse_range(s, size, &kvs, &n, &rev, &p) >= 0)
		etcd_kvs_free(kvs, n);
	(void)etcd_v3_parse_txn(s, size, &ok, &p);
	if (etcd_parse_error(s, size, &code, &msg) >= 0)
		free(msg);
	if (etcd_v2_parse_node(s, size, &val, &rev, &p) >= 0)
		free(val);
	problem_list_release(&p);
	return 0;
}
