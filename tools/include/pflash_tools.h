/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The macros pflash's user-space code shares: pflashctl, its libraries
 * (tools/lib), their tests and the fuzzers.  Each is defined only where a
 * header met first (the kselftest framework's, say) has not defined it.
 */
#ifndef PFLASH_TOOLS_H
#define PFLASH_TOOLS_H

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif

#endif /* PFLASH_TOOLS_H */
