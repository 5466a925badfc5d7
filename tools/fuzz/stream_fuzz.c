// SPDX-License-Identifier: GPL-2.0
/*
 * A coverage-guided fuzzer (libFuzzer) of the state stream reader in
 * tools/lib/pfstream.c, which `pflashctl import` and `inspect` use.
 *
 * Each input is a stream.  The reader must never crash, leak or read out
 * of bounds (AddressSanitizer, UndefinedBehaviorSanitizer), and what it
 * finds must not depend on how the stream is cut into pieces, nor break
 * its own rules:
 *  - the input is read whole, byte by byte, and in pieces of sizes drawn
 *    from the input: the three readings must agree in every figure, the
 *    first problem, its offset and its message included;
 *  - a stream found complete covers its device exactly (the extents add up
 *    to the header's size, from offset 0), has one header and one end
 *    record, and is the whole input;
 *  - a problem has an errno the reader documents, a message, and an offset
 *    inside what was read; once found, every later call returns it again;
 *  - finishing the stream succeeds exactly when the stream is complete
 *    and nothing follows it.
 * Most inputs fail a checksum early, which the fuzzer cannot forge; so each
 * input is also read a second time with every record's CRC-32C recomputed
 * first, so that the fuzzer reaches the checks behind the checksums.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfstream.h"

#define REC_LEN		sizeof(struct pflash_stream_rec)

static void fail(const char *what, const struct pfstream_status *st)
{
	fprintf(stderr, "stream_fuzz: %s (error %d at %llu: %s)\n", what,
		st->error, (unsigned long long)st->error_offset, st->msg);
	abort();
}

#define CHECK(cond, st)	do { if (!(cond)) fail(#cond, st); } while (0)

/*
 * The piece sizes of a reading: 0 whole; 1 byte by byte through the first
 * records (a DATA payload of 64 KiB byte by byte would slow the fuzzer
 * down a hundredfold for nothing new), then whole; else drawn.
 */
static size_t piece(unsigned int how, uint64_t *state, size_t done,
		    size_t left)
{
	size_t n;

	if (how == 0)
		return left;
	if (how == 1)
		return done < 4096 ? 1 : left;
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	n = 1 + (*state >> 33) % (2 * REC_LEN + 64);
	return n < left ? n : left;
}

/* Read @data in pieces, as @how says; the status, copied to @out. */
static void read_stream(const uint8_t *data, size_t size, unsigned int how,
			struct pfstream_status *out)
{
	const struct pfstream_status *st;
	uint64_t state = size * 0x9e3779b97f4a7c15ULL + how;
	struct pfstream *s;
	size_t off = 0, n;
	int err = 0, again;

	if (pfstream_new(&s))
		abort();
	st = pfstream_status(s);
	while (off < size) {
		n = piece(how, &state, off, size - off);
		err = pfstream_feed(s, data + off, n);
		off += n;
		if (err)
			break;
	}
	if (err) {
		/* A problem sticks. */
		again = pfstream_feed(s, data, size ? 1 : 0);
		CHECK(again == err, st);
	}
	again = pfstream_finish(s);
	CHECK(again == st->error, st);
	CHECK(!again == (st->complete && !st->error), st);
	*out = *st;
	pfstream_free(s);
}

static void check_status(const struct pfstream_status *st, size_t size)
{
	uint64_t covered;
	unsigned int t;

	CHECK(st->bytes <= size, st);
	if (st->error) {
		CHECK(st->error == -EINVAL || st->error == -EBADMSG ||
		      st->error == -EPROTONOSUPPORT, st);
		CHECK(st->msg[0] != '\0', st);
		CHECK(st->error_offset <= st->bytes, st);
		/* A whole stream, then more: the more is the problem. */
		CHECK(!st->complete || (st->error == -EINVAL &&
					st->error_offset == st->bytes &&
					st->bytes < size), st);
		return;
	}
	CHECK(st->complete, st);
	CHECK(st->have_header, st);
	CHECK(st->bytes == size, st);
	/*
	 * The extents cover the device once; a live export's later passes
	 * cover parts of it again, and count in the totals too.
	 */
	covered = st->data_bytes + st->erased_bytes + st->zero_bytes;
	CHECK(st->covered == st->header.size, st);
	if (st->header.flags & PFLASH_STREAM_INFO_F_LIVE)
		CHECK(covered >= st->header.size && st->passes >= 1 &&
		      st->records[PFLASH_REC_PASS] == st->passes, st);
	else
		CHECK(covered == st->header.size && !st->passes &&
		      !st->records[PFLASH_REC_PASS], st);
	CHECK(st->records[PFLASH_REC_HEADER] == 1, st);
	CHECK(st->records[PFLASH_REC_END] == 1, st);
	/* Each extent record covers a byte at least. */
	for (t = PFLASH_REC_DATA; t <= PFLASH_REC_ZERO; t++)
		CHECK(st->records[t] <= covered, st);
	CHECK(st->header.size % st->header.erase_size == 0, st);
}

static void same(const struct pfstream_status *a,
		 const struct pfstream_status *b)
{
	CHECK(a->error == b->error, b);
	CHECK(a->error_offset == b->error_offset, b);
	CHECK(!strcmp(a->msg, b->msg), b);
	CHECK(a->bytes == b->bytes, b);
	CHECK(a->complete == b->complete, b);
	CHECK(a->covered == b->covered, b);
	CHECK(!memcmp(a->records, b->records, sizeof(a->records)), b);
	CHECK(a->skipped == b->skipped, b);
	CHECK(a->data_bytes == b->data_bytes, b);
	CHECK(a->erased_bytes == b->erased_bytes, b);
	CHECK(a->zero_bytes == b->zero_bytes, b);
	CHECK(a->end_flags == b->end_flags, b);
	CHECK(a->have_header == b->have_header, b);
	if (a->have_header)
		CHECK(!memcmp(&a->header, &b->header, sizeof(a->header)), b);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
	struct pfstream_status whole, bytes, pieces;

	read_stream(data, size, 0, &whole);
	check_status(&whole, size);
	read_stream(data, size, 1, &bytes);
	same(&whole, &bytes);
	read_stream(data, size, 2, &pieces);
	same(&whole, &pieces);
}

/* Recompute the CRC of every whole record of @buf, in place. */
static void reseal(uint8_t *buf, size_t size)
{
	struct pflash_stream_rec rec;
	size_t off = 0, len;
	uint32_t crc;

	while (size - off >= REC_LEN) {
		memcpy(&rec, buf + off, REC_LEN);
		len = le32toh(rec.len);
		if (len > size - off - REC_LEN)
			break;
		rec.crc = 0;
		crc = pfstream_crc_update(PFSTREAM_CRC_INIT, &rec, REC_LEN);
		crc = pfstream_crc_update(crc, buf + off + REC_LEN, len);
		rec.crc = htole32(pfstream_crc_final(crc));
		memcpy(buf + off, &rec, REC_LEN);
		off += REC_LEN + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	fuzz_one(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	reseal(copy, size);
	if (memcmp(copy, data, size))
		fuzz_one(copy, size);
	free(copy);
	return 0;
}
