/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfstream: a reader of the pflash state stream (linux/pflash_stream.h)
 * for user space.  It checks a stream by the rules the kernel applies when
 * it imports one (module/import.c): the magic and flags of every record,
 * one header first, the lengths of the header and end payloads, extents
 * in order, contiguous, not empty and within the device, DATA payloads as
 * long as their extents, no payload on ERASED and ZERO records, unknown
 * record types refused unless optional, every CRC-32C, the totals of the
 * end record, and nothing after it.  It also refuses a header whose
 * geometry no device can have, which the kernel refuses too, as no device
 * matches it.
 *
 * The stream comes in pieces of any size, as it arrives; the reader keeps
 * no more of it than one record's header and a header or end payload.
 *
 * Conventions: as in pfnl.h, a function that can fail returns 0 or a
 * negative errno, prints nothing and never exits.
 */
#ifndef PFSTREAM_H
#define PFSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pflash_stream.h>

/*
 * The stream's CRC-32C, carried over several pieces: start with
 * PFSTREAM_CRC_INIT, feed each piece to pfstream_crc_update(),
 * and finish with pfstream_crc_final(), as the kernel does.
 */
#define PFSTREAM_CRC_INIT	0xffffffffU

uint32_t pfstream_crc_update(uint32_t crc, const void *buf, size_t len);

static inline uint32_t pfstream_crc_final(uint32_t crc)
{
	return ~crc;
}

/* The longest message about a problem, with its NUL. */
#define PFSTREAM_MSG_MAX	160

/**
 * struct pfstream_header - a HEADER record's payload, in host order
 *
 * The members are those of struct pflash_stream_info; a newer minor version
 * may have more, which the reader ignores.
 */
struct pfstream_header {
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t flags;
	uint64_t size;
	uint64_t epoch;
	uint32_t block_size;
	uint32_t erase_size;
	uint8_t uuid[16];
};

/**
 * struct pfstream_pass - one pass of a live export's stream
 * @flags: its PASS record's flags (PFLASH_STREAM_PASS_F_*)
 * @start: where in the stream its PASS record starts
 * @records: its extent records
 * @data_bytes: the device bytes its DATA records cover
 * @erased_bytes: ... its ERASED records
 * @zero_bytes: ... its ZERO records
 */
struct pfstream_pass {
	uint32_t flags;
	uint64_t start;
	uint64_t records;
	uint64_t data_bytes;
	uint64_t erased_bytes;
	uint64_t zero_bytes;
};

/**
 * struct pfstream_status - what the reader has found so far
 * @bytes: stream bytes taken, up to the first problem
 * @have_header: @header holds the stream's header
 * @header: the header, once @have_header
 * @covered: the device bytes that the extents read so far cover, from
 *	offset 0 (of pass 0, in a live export's stream): the progress
 *	through the device, out of @header.size
 * @records: the complete records, by type: @records[PFLASH_REC_DATA] is the
 *	number of DATA records; index 0 is not used
 * @passes: a live export's passes so far (0 for a stream without)
 * @pass: what each of them holds
 * @skipped: the records of unknown, optional types that were skipped
 * @data_bytes: the device bytes that DATA records cover
 * @erased_bytes: ... that ERASED records cover
 * @zero_bytes: ... that ZERO records cover
 * @complete: the end record checked out: the whole stream is valid
 * @end_flags: the end record's flags (PFLASH_STREAM_END_F_*), once
 *	@complete
 * @error: 0, or the first problem, which ends the reading: -EINVAL for a
 *	stream that is damaged, truncated, out of order or inconsistent,
 *	-EBADMSG for a checksum that does not match, -EPROTONOSUPPORT for a
 *	stream that needs a newer reader
 * @error_offset: where in the stream the record at fault starts; for a
 *	truncated stream, where its last, incomplete record starts, or its
 *	end; for bytes after the end record, where they start
 * @msg: what the problem is, in words
 */
struct pfstream_status {
	uint64_t bytes;
	bool have_header;
	struct pfstream_header header;
	uint64_t covered;
	uint64_t records[PFLASH_REC_PASS + 1];
	uint32_t passes;
	struct pfstream_pass *pass;
	uint64_t skipped;
	uint64_t data_bytes;
	uint64_t erased_bytes;
	uint64_t zero_bytes;
	bool complete;
	uint32_t end_flags;
	int error;
	uint64_t error_offset;
	char msg[PFSTREAM_MSG_MAX];
};

struct pfstream;

/**
 * pfstream_new() - start reading a stream
 *
 * Return: 0, or -ENOMEM.  Free the reader with pfstream_free().
 */
int pfstream_new(struct pfstream **sp);

/** pfstream_free() - free a reader; NULL is allowed. */
void pfstream_free(struct pfstream *s);

/**
 * pfstream_feed() - take the next @len bytes of the stream
 *
 * Return: 0, or the first problem (see struct pfstream_status), which
 * every later call returns again.  Bytes after the end record are a
 * problem.
 */
int pfstream_feed(struct pfstream *s, const void *buf, size_t len);

/**
 * pfstream_finish() - the stream has ended
 *
 * Return: 0 if the stream is complete; else the first problem, which is
 * that the stream is truncated if nothing else was wrong.
 */
int pfstream_finish(struct pfstream *s);

/** pfstream_status() - what the reader has found so far */
const struct pfstream_status *
pfstream_status(const struct pfstream *s);

/**
 * pfstream_rec_name() - the name of a record type
 *
 * Return: "header", "data", "erased", "zero" or "end", or NULL for a type
 * this reader does not know.
 */
const char *pfstream_rec_name(unsigned int type);

#endif /* PFSTREAM_H */
