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

/**
 * struct pflash_stream_totals - what the END record counts
 * @records: the records so far, HEADER included
 * @data_bytes: the device bytes that DATA records cover
 * @erased_bytes: ... that ERASED records cover
 * @zero_bytes: ... that ZERO records cover
 *
 * The exporter counts what it writes, the importer what it reads, each
 * with pflash_stream_count(), and the END record carries the totals, with
 * the stream bytes before it.
 */
struct pflash_stream_totals {
	u64 records;
	u64 data_bytes;
	u64 erased_bytes;
	u64 zero_bytes;
};

/* Count a whole record of @type that covers @length device bytes. */
static inline void pflash_stream_count(struct pflash_stream_totals *t,
				       u16 type, u64 length)
{
	t->records++;
	if (type == PFLASH_REC_DATA)
		t->data_bytes += length;
	else if (type == PFLASH_REC_ERASED)
		t->erased_bytes += length;
	else if (type == PFLASH_REC_ZERO)
		t->zero_bytes += length;
}

/* Fill in the totals of END payload @end; its flags are the caller's. */
static inline void pflash_stream_end_set(struct pflash_stream_end *end,
					 const struct pflash_stream_totals *t,
					 u64 stream_bytes)
{
	end->records = cpu_to_le64(t->records);
	end->stream_bytes = cpu_to_le64(stream_bytes);
	end->data_bytes = cpu_to_le64(t->data_bytes);
	end->erased_bytes = cpu_to_le64(t->erased_bytes);
	end->zero_bytes = cpu_to_le64(t->zero_bytes);
}

/* Whether END payload @end carries these totals. */
static inline bool
pflash_stream_end_matches(const struct pflash_stream_end *end,
			  const struct pflash_stream_totals *t,
			  u64 stream_bytes)
{
	return le64_to_cpu(end->records) == t->records &&
	       le64_to_cpu(end->stream_bytes) == stream_bytes &&
	       le64_to_cpu(end->data_bytes) == t->data_bytes &&
	       le64_to_cpu(end->erased_bytes) == t->erased_bytes &&
	       le64_to_cpu(end->zero_bytes) == t->zero_bytes;
}

#endif /* _PFLASH_STREAM_H */
