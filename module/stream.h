/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflash: what the exporter and the importer of the state stream share.
 * The format itself is in uapi/linux/pflash_stream.h.
 */
#ifndef _PFLASH_STREAM_H
#define _PFLASH_STREAM_H

#include <linux/pflash_stream.h>

#include "compat.h"

/*
 * CRC-32C as the stream uses it (initial value and final XOR 0xffffffff).
 * crc32c() alone leaves both to its caller, so a CRC can be carried over
 * several pieces: start with PFLASH_STREAM_CRC_INIT, feed each piece to
 * crc32c(), and finish with pflash_stream_crc_final().
 */
#define PFLASH_STREAM_CRC_INIT	(~0U)

static inline u32 pflash_stream_crc_final(u32 crc)
{
	return ~crc;
}

/* The record flags this kernel knows. */
#define PFLASH_REC_F_KNOWN	PFLASH_REC_F_OPTIONAL

#endif /* _PFLASH_STREAM_H */
