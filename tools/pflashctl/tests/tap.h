/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP harness for the host tests' C programs: each test is a
 * function that checks with EXPECT(), and run_tests() prints one TAP line
 * for each.  A test may set `skip` to the reason it skipped.
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int failures;
static const char *skip;

#define EXPECT(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: %s: failed: %s\n", __FILE__,	\
			       __LINE__, __func__, #cond);		\
			failures++;					\
		}							\
	} while (0)

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define T(fn)	{ #fn, fn }

/* Run @n tests; returns the exit status: 1 if any failed. */
static inline int run_tests(const struct tap_test *tests, unsigned int n)
{
	unsigned int i, failed = 0;

	printf("1..%u\n", n);
	for (i = 0; i < n; i++) {
		failures = 0;
		skip = NULL;
		tests[i].fn();
		failed += !!failures;
		printf("%sok %u - %s%s%s\n", failures ? "not " : "", i + 1,
		       tests[i].name, skip ? " # SKIP " : "", skip ?: "");
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#endif /* TAP_H */
