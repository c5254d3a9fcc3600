/* SPDX-License-Identifier: MIT */
/* tests/unit/tap.h - a tiny TAP harness: TEST() registers, main() runs them all, prove reads it.
 * Include once per test program; it defines main(). */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_test {
	const char *name;
	void (*fn)(bool *failed);
};

/* Every TEST() is kept, however many there are: the table grows as they register. */
static struct tap_test *tap_tests;
static unsigned tap_n, tap_cap;

static void tap_register(const char *name, void (*fn)(bool *failed))
{
	if (tap_n == tap_cap) {
		unsigned cap = tap_cap ? tap_cap * 2 : 64;
		struct tap_test *t = realloc(tap_tests, cap * sizeof(*t));
		if (!t) {
			printf("Bail out! registering test %s: out of memory\n", name);
			exit(1);
		}
		tap_tests = t;
		tap_cap = cap;
	}
	tap_tests[tap_n++] = (struct tap_test){ name, fn };
}

#define TEST(name)                                                                   \
	static void test_##name(bool *tap_failed_);                                  \
	__attribute__((constructor)) static void tap_register_##name(void)           \
	{                                                                            \
		tap_register(#name, test_##name);                                    \
	}                                                                            \
	static void test_##name(bool *tap_failed_)

#define TAP_FAIL_(...)                                                               \
	do {                                                                         \
		printf("# %s:%d: ", __FILE__, __LINE__);                             \
		printf(__VA_ARGS__);                                                 \
		printf("\n");                                                        \
		*tap_failed_ = true;                                                 \
		return;                                                              \
	} while (0)

#define ASSERT_TRUE(e)                                                               \
	do {                                                                         \
		if (!(e))                                                            \
			TAP_FAIL_("expected true: %s", #e);                          \
	} while (0)
#define ASSERT_FALSE(e) ASSERT_TRUE(!(e))

/* r >= 0 */
#define ASSERT_OK(e)                                                                 \
	do {                                                                         \
		long long r_ = (long long)(e);                                       \
		if (r_ < 0)                                                          \
			TAP_FAIL_("%s failed: %lld (%s)", #e, r_, strerror((int)-r_)); \
	} while (0)

/* e returns -err (err given positive, e.g. EINVAL) */
#define ASSERT_ERR(e, err)                                                           \
	do {                                                                         \
		long long r_ = (long long)(e);                                       \
		if (r_ != -(long long)(err))                                         \
			TAP_FAIL_("%s: got %lld, expected -%s (%d)", #e, r_, #err, -(int)(err)); \
	} while (0)

#define ASSERT_EQ(a, b)                                                              \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ != b_)                                                        \
			TAP_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);         \
	} while (0)

#define ASSERT_U64_EQ(a, b)                                                          \
	do {                                                                         \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                     \
		if (a_ != b_)                                                        \
			TAP_FAIL_("%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, #a, #b, a_, b_); \
	} while (0)

#define ASSERT_STREQ(a, b)                                                           \
	do {                                                                         \
		const char *a_ = (a), *b_ = (b);                                     \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                               \
			TAP_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
				  b_ ? b_ : "(null)");                               \
	} while (0)

#define ASSERT_NULL(e) ASSERT_TRUE((e) == NULL)
#define ASSERT_NOT_NULL(e) ASSERT_TRUE((e) != NULL)

int main(void)
{
	unsigned failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%u\n", tap_n);
	for (unsigned i = 0; i < tap_n; i++) {
		bool f = false;
		tap_tests[i].fn(&f);
		printf("%s %u - %s\n", f ? "not ok" : "ok", i + 1, tap_tests[i].name);
		failed += f;
	}
	free(tap_tests);
	return failed ? 1 : 0;
}
