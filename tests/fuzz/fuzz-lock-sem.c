/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-lock-sem.c - the semaphore value parser, decisions and formatter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lock/sem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem_list p = {};
	struct lock_sem s;

	if (lock_sem_parse((const char *)data, size, &s, &p) >= 0) {
		char *out = NULL;
		(void)lock_sem_decide(&s, LOCK_OP_LOCK, "fuzz", 0);
		(void)lock_sem_decide(&s, LOCK_OP_UNLOCK, "a", 0);
		if (lock_sem_format(&s, &out) >= 0) {
			struct lock_sem again;
			/* what we write must parse back */
			if (lock_sem_parse(out, strlen(out), &again, NULL) < 0)
				abort();
			lock_sem_release(&again);
		}
		free(out);
		lock_sem_release(&s);
	}
	problem_list_release(&p);
	return 0;
}
