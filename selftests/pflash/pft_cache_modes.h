/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two cache modes as the variants of the kselftest fixture named by
 * PFT_FIXTURE: each of its tests runs once in each mode, with
 * variant->cache_mode.  A test that holds in one mode only belongs to a
 * fixture of that mode.  Included once per fixture, after its FIXTURE():
 *
 *	#define PFT_FIXTURE bk
 *	#include "pft_cache_modes.h"
 *
 * so it has no include guard, and it ends by undefining PFT_FIXTURE.
 */
PFT_FIXTURE_VARIANT(PFT_FIXTURE) {
	uint32_t cache_mode;
};

PFT_FIXTURE_VARIANT_ADD(PFT_FIXTURE, writethrough) {
	.cache_mode = PFLASH_CACHE_MODE_WRITETHROUGH,
};

PFT_FIXTURE_VARIANT_ADD(PFT_FIXTURE, writeback) {
	.cache_mode = PFLASH_CACHE_MODE_WRITEBACK,
};

#undef PFT_FIXTURE
