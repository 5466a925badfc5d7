// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the state stream reader (tools/lib/pfstream.c): valid
 * streams in pieces of every size, and every kind of damage the kernel
 * refuses, each refused with its message and the offset of the record at
 * fault.  The streams are written by tools/lib/stream_gen.c.  Prints TAP.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pflash_tools.h"
#include "stream_gen.h"
#include "tap.h"

#define BS		512
#define DEV_SIZE	(32 * BS)
#define REC		sizeof(struct pflash_stream_rec)

static const struct pfstream_header hdr = {
	.version_major = PFLASH_STREAM_VERSION_MAJOR,
	.version_minor = PFLASH_STREAM_VERSION_MINOR,
	.flags = PFLASH_STREAM_INFO_F_INACTIVE,
	.size = DEV_SIZE,
	.epoch = 7,
	.block_size = BS,
	.erase_size = 4096,
	.uuid = { 0x12, 0x34, [15] = 0xff },
};

/*
 * The device the streams describe: blocks 0-1 data, 2-3 erased, 4 zero,
 * 5 data, the rest erased: extents D E Z D E.
 */
static uint8_t img[DEV_SIZE];

static void make_img(void)
{
	unsigned int i;

	memset(img, 0xff, sizeof(img));
	for (i = 0; i < 2 * BS; i++)
		img[i] = i * 7;
	memset(img + 4 * BS, 0, BS);
	memset(img + 5 * BS, 0x5a, BS);
}

/* Offsets of the records of the valid stream. */
#define OFF_HEADER	0
#define OFF_DATA0	(REC + sizeof(struct pflash_stream_info))
#define OFF_ERASED0	(OFF_DATA0 + REC + 2 * BS)
#define OFF_ZERO	(OFF_ERASED0 + REC)
#define OFF_DATA1	(OFF_ZERO + REC)
#define OFF_ERASED1	(OFF_DATA1 + REC + BS)
#define OFF_END		(OFF_ERASED1 + REC)
#define STREAM_LEN	(OFF_END + REC + sizeof(struct pflash_stream_end))

static void valid_stream(struct sgen *g)
{
	make_img();
	sgen_stream(g, &hdr, img, PFLASH_STREAM_END_F_FINAL);
}

/* Read @len bytes of @buf in pieces of @piece bytes, then finish. */
static int read_pieces(struct pfstream *s, const uint8_t *buf,
		       size_t len, size_t piece)
{
	size_t off, n;
	int ret = 0;

	for (off = 0; !ret && off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		ret = pfstream_feed(s, buf + off, n);
	}
	return ret ?: pfstream_finish(s);
}

/* Read a whole stream: its result, and its status in *@st. */
static int read_stream(const uint8_t *buf, size_t len,
		       struct pfstream_status *st)
{
	static struct pfstream_pass passes[8];
	struct pfstream *s;
	int ret;

	if (pfstream_new(&s))
		abort();
	ret = read_pieces(s, buf, len, len ?: 1);
	*st = *pfstream_status(s);
	/* The passes outlive the reader, until the next read. */
	if (st->passes > ARRAY_SIZE(passes))
		abort();
	if (st->passes)
		memcpy(passes, st->pass, st->passes * sizeof(*passes));
	st->pass = passes;
	pfstream_free(s);
	return ret;
}

/*
 * The stream @g is refused with @err at @offset, with a message saying
 * @words.
 */
#define EXPECT_REFUSED(g, err, offset, words)				\
	do {								\
		struct pfstream_status st;				\
									\
		EXPECT(read_stream((g)->buf, (g)->len, &st) == (err));	\
		EXPECT(st.error == (err));				\
		EXPECT(st.error_offset == (offset));			\
		EXPECT(strstr(st.msg, words));				\
		if (!strstr(st.msg, words))				\
			printf("# message: %s\n", st.msg);		\
	} while (0)

static void crc_check_value(void)
{
	static const char check[] = "123456789";
	uint32_t crc;

	crc = pfstream_crc_update(PFSTREAM_CRC_INIT, check, 9);
	EXPECT(pfstream_crc_final(crc) == 0xe3069283);
	/* Carried over pieces. */
	crc = pfstream_crc_update(PFSTREAM_CRC_INIT, check, 4);
	crc = pfstream_crc_update(crc, check + 4, 0);
	crc = pfstream_crc_update(crc, check + 4, 5);
	EXPECT(pfstream_crc_final(crc) == 0xe3069283);
}

static void valid_stream_status(void)
{
	struct pfstream_status st;
	struct sgen g = { 0 };

	valid_stream(&g);
	EXPECT(g.len == STREAM_LEN);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.complete);
	EXPECT(!st.error && !st.msg[0]);
	EXPECT(st.bytes == STREAM_LEN);
	EXPECT(st.have_header);
	EXPECT(!memcmp(&st.header, &hdr, sizeof(hdr)));
	EXPECT(st.covered == DEV_SIZE);
	EXPECT(st.records[PFLASH_REC_HEADER] == 1);
	EXPECT(st.records[PFLASH_REC_DATA] == 2);
	EXPECT(st.records[PFLASH_REC_ERASED] == 2);
	EXPECT(st.records[PFLASH_REC_ZERO] == 1);
	EXPECT(st.records[PFLASH_REC_END] == 1);
	EXPECT(st.skipped == 0);
	EXPECT(st.data_bytes == 3 * BS);
	EXPECT(st.erased_bytes == 28 * BS);
	EXPECT(st.zero_bytes == BS);
	EXPECT(st.end_flags == PFLASH_STREAM_END_F_FINAL);
	sgen_free(&g);
}

static void valid_in_pieces_of_every_size(void)
{
	struct pfstream *s;
	struct sgen g = { 0 };
	size_t piece;

	valid_stream(&g);
	for (piece = 1; piece <= g.len; piece++) {
		EXPECT(!pfstream_new(&s));
		EXPECT(read_pieces(s, g.buf, g.len, piece) == 0);
		EXPECT(pfstream_status(s)->complete);
		pfstream_free(s);
	}
	sgen_free(&g);
}

static void valid_split_anywhere(void)
{
	struct pfstream *s;
	struct sgen g = { 0 };
	size_t cut;

	valid_stream(&g);
	for (cut = 0; cut <= g.len; cut++) {
		EXPECT(!pfstream_new(&s));
		EXPECT(pfstream_feed(s, g.buf, cut) == 0);
		EXPECT(pfstream_feed(s, g.buf + cut, g.len - cut) == 0);
		EXPECT(pfstream_finish(s) == 0);
		pfstream_free(s);
	}
	sgen_free(&g);
}

static void progress_as_it_comes(void)
{
	const struct pfstream_status *st;
	struct pfstream *s;
	struct sgen g = { 0 };

	valid_stream(&g);
	EXPECT(!pfstream_new(&s));
	st = pfstream_status(s);
	EXPECT(!pfstream_feed(s, g.buf, OFF_DATA0));
	EXPECT(st->have_header && st->covered == 0);
	/* Half a DATA record is not progress yet. */
	EXPECT(!pfstream_feed(s, g.buf + OFF_DATA0, REC + BS));
	EXPECT(st->covered == 0 && st->bytes == OFF_DATA0 + REC + BS);
	EXPECT(!pfstream_feed(s, g.buf + OFF_DATA0 + REC + BS,
			      OFF_ZERO - OFF_DATA0 - REC - BS));
	EXPECT(st->covered == 4 * BS);
	EXPECT(!st->complete);
	pfstream_free(s);
	sgen_free(&g);
}

static void truncated_at_every_byte(void)
{
	static const size_t starts[] = {
		OFF_HEADER, OFF_DATA0, OFF_ERASED0, OFF_ZERO, OFF_DATA1,
		OFF_ERASED1, OFF_END, STREAM_LEN,
	};
	struct pfstream_status st;
	struct sgen g = { 0 };
	size_t len, i;

	valid_stream(&g);
	for (len = 0; len < g.len; len++) {
		EXPECT(read_stream(g.buf, len, &st) == -EINVAL);
		EXPECT(!st.complete);
		for (i = 0; starts[i + 1] <= len; i++)
			;
		if (!len) {
			EXPECT(!strcmp(st.msg, "the stream is empty"));
		} else if (len == starts[i]) {
			EXPECT(strstr(st.msg, "ends before its end record"));
			EXPECT(st.error_offset == len);
		} else {
			EXPECT(strstr(st.msg, "ends inside a record"));
			EXPECT(st.error_offset == starts[i]);
		}
	}
	sgen_free(&g);
}

static void every_bit_flipped(void)
{
	struct pfstream_status st;
	struct sgen g = { 0 };
	size_t bit;

	valid_stream(&g);
	for (bit = 0; bit < g.len * 8; bit++) {
		g.buf[bit / 8] ^= 1 << (bit % 8);
		EXPECT(read_stream(g.buf, g.len, &st) < 0);
		g.buf[bit / 8] ^= 1 << (bit % 8);
	}
	sgen_free(&g);
}

static void checksum_mismatch(void)
{
	struct sgen g = { 0 };

	valid_stream(&g);
	/* A payload byte of the second DATA record. */
	g.buf[OFF_DATA1 + REC + 100] ^= 0x10;
	EXPECT_REFUSED(&g, -EBADMSG, OFF_DATA1,
		       "the data record's checksum does not match");
	sgen_free(&g);
}

static void bad_magic(void)
{
	struct sgen g = { 0 };

	valid_stream(&g);
	g.buf[OFF_ZERO] ^= 1;
	EXPECT_REFUSED(&g, -EINVAL, OFF_ZERO, "bad magic");
	sgen_free(&g);
}

/*
 * A stream of the header, DATA records of @img for the @n extents @ext
 * (offset, length) in that order, then an END with the totals, is refused
 * at stream offset @at with a message saying @words.
 */
static void refuse_extents(const uint64_t (*ext)[2], unsigned int n,
			   size_t at, const char *words)
{
	struct sgen g = { 0 };
	unsigned int i;

	make_img();
	sgen_header(&g, &hdr);
	for (i = 0; i < n; i++)
		sgen_rec(&g, PFLASH_REC_DATA, 0, ext[i][0], ext[i][1],
			 img + ext[i][0], ext[i][1]);
	sgen_end(&g, 0);
	EXPECT_REFUSED(&g, -EINVAL, at, words);
	sgen_free(&g);
}

static void extents_reordered(void)
{
	static const uint64_t ext[][2] = {
		{ 0, 8192 }, { 12288, 4096 }, { 8192, 4096 },
	};

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + REC + 8192,
		       "leaves a gap after 8192");
}

static void extent_repeated(void)
{
	static const uint64_t ext[][2] = {
		{ 0, 8192 }, { 8192, 4096 }, { 8192, 4096 }, { 12288, 4096 },
	};

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + 2 * REC + 12288,
		       "overlaps an earlier one, which ends at 12288");
}

static void extents_overlap(void)
{
	static const uint64_t ext[][2] = { { 0, 8192 }, { 7680, 8704 } };

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + REC + 8192,
		       "at device offset 7680 overlaps");
}

static void extents_gap(void)
{
	static const uint64_t ext[][2] = { { 0, 8192 }, { 8704, 7680 } };

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + REC + 8192,
		       "leaves a gap");
}

static void extent_beyond_end(void)
{
	static const uint64_t ext[][2] = { { 0, 8192 }, { 8192, 8704 } };

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + REC + 8192,
		       "goes beyond the end of the device (16384 bytes)");
}

static void extent_ends_short(void)
{
	static const uint64_t ext[][2] = { { 0, 8192 } };

	refuse_extents(ext, ARRAY_SIZE(ext), OFF_DATA0 + REC + 8192,
		       "ends before it covers the whole device (8192 of 16384 bytes)");
}

static void extent_empty(void)
{
	struct sgen g = { 0 };

	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, 0, 0, NULL, 0);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0, "is empty");
	sgen_free(&g);
}

static void data_payload_not_its_length(void)
{
	struct sgen g = { 0 };

	make_img();
	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_DATA, 0, 0, DEV_SIZE, img, DEV_SIZE - 1);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "has a payload of 16383 bytes, which does not match its length of 16384 bytes");
	sgen_free(&g);
}

static void erased_with_payload(void)
{
	struct sgen g = { 0 };

	make_img();
	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, 0, DEV_SIZE, img, 1);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "the erased extent at device offset 0 has a payload of 1 bytes");
	sgen_free(&g);
}

static void zero_with_payload(void)
{
	struct sgen g = { 0 };

	make_img();
	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_ZERO, 0, 0, DEV_SIZE, img, 4);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0, "the zero extent");
	sgen_free(&g);
}

/* A device of 128K: DATA records of the largest size, and one more. */
static void data_records_at_most_data_max(void)
{
	struct pfstream_header big = hdr;
	struct pfstream_status st;
	struct sgen g = { 0 };
	size_t size = 2 * PFLASH_STREAM_DATA_MAX;
	uint8_t *data = malloc(size);

	EXPECT(data);
	if (!data)
		return;
	memset(data, 0x42, size);
	big.size = size;
	sgen_stream(&g, &big, data, 0);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.records[PFLASH_REC_DATA] == 2);
	sgen_free(&g);

	sgen_header(&g, &big);
	sgen_rec(&g, PFLASH_REC_DATA, 0, 0, PFLASH_STREAM_DATA_MAX + BS,
		 data, PFLASH_STREAM_DATA_MAX + BS);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "is 66048 bytes long, more than a data record may be (65536)");
	sgen_free(&g);
	free(data);
}

static void wrong_major_version(void)
{
	struct pfstream_header h = hdr;
	struct sgen g = { 0 };

	h.version_major = PFLASH_STREAM_VERSION_MAJOR + 1;
	sgen_stream(&g, &h, img, 0);
	EXPECT_REFUSED(&g, -EPROTONOSUPPORT, 0,
		       "the stream's major version is 2; this reader reads version 1 only");
	sgen_free(&g);

	h.version_major = 0;
	sgen_stream(&g, &h, img, 0);
	EXPECT_REFUSED(&g, -EPROTONOSUPPORT, 0, "major version is 0");
	sgen_free(&g);
}

/*
 * A newer minor version: longer header and end payloads, and a new
 * optional record type, all of which this reader skips.
 */
static void newer_minor_version(void)
{
	struct pflash_stream_info info = {
		.version_major = htole16(PFLASH_STREAM_VERSION_MAJOR),
		.version_minor = htole16(PFLASH_STREAM_VERSION_MINOR + 3),
		.flags = htole32(0x80000000),
		.size = htole64(DEV_SIZE),
		.block_size = htole32(BS),
		.erase_size = htole32(4096),
	};
	static const uint8_t opt[PFLASH_STREAM_DATA_MAX];
	uint8_t meta[PFLASH_STREAM_META_MAX] = { 0 };
	struct pflash_stream_end end = { .flags = htole32(0x40000001) };
	struct pfstream_status st;
	struct sgen g = { 0 };

	make_img();
	memcpy(meta, &info, sizeof(info));
	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 0, meta, sizeof(meta));
	sgen_rec(&g, 99, PFLASH_REC_F_OPTIONAL, 0, 0, img, 100);
	sgen_extents(&g, img, DEV_SIZE, BS);
	sgen_rec(&g, 100, PFLASH_REC_F_OPTIONAL, 5, 6, opt, sizeof(opt));
	end.records = htole64(g.records);
	end.stream_bytes = htole64(g.len);
	end.data_bytes = htole64(g.data_bytes);
	end.erased_bytes = htole64(g.erased_bytes);
	end.zero_bytes = htole64(g.zero_bytes);
	memcpy(meta, &end, sizeof(end));
	sgen_rec(&g, PFLASH_REC_END, 0, 0, 0, meta, sizeof(end) + 8);

	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.complete);
	EXPECT(st.header.version_minor == PFLASH_STREAM_VERSION_MINOR + 3);
	EXPECT(st.header.flags == 0x80000000);
	EXPECT(st.skipped == 2);
	EXPECT(st.records[PFLASH_REC_DATA] == 2);
	EXPECT(st.end_flags == 0x40000001);
	sgen_free(&g);
}

static void unknown_type_not_optional(void)
{
	struct sgen g = { 0 };

	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_PASS + 1, 0, 0, 0, NULL, 0);
	EXPECT_REFUSED(&g, -EPROTONOSUPPORT, OFF_DATA0,
		       "a type (7) this reader does not know, and is not optional");
	sgen_free(&g);
}

static void optional_record_too_long(void)
{
	struct sgen g = { 0 };
	uint8_t *big = calloc(1, PFLASH_STREAM_DATA_MAX + 1);

	EXPECT(big);
	if (!big)
		return;
	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_PASS + 1, PFLASH_REC_F_OPTIONAL, 0, 0, big,
		 PFLASH_STREAM_DATA_MAX + 1);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "an optional record (type 7) is too long (65537 bytes)");
	sgen_free(&g);
	free(big);
}

static void unknown_record_flag(void)
{
	struct sgen g = { 0 };

	make_img();
	sgen_header(&g, &hdr);
	sgen_rec(&g, PFLASH_REC_ERASED, 0x4, 0, DEV_SIZE, NULL, 0);
	EXPECT_REFUSED(&g, -EPROTONOSUPPORT, OFF_DATA0,
		       "flags (0x4) this reader does not know");
	sgen_free(&g);
}

static void no_header_first(void)
{
	struct sgen g = { 0 };

	sgen_rec(&g, PFLASH_REC_ERASED, 0, 0, DEV_SIZE, NULL, 0);
	EXPECT_REFUSED(&g, -EINVAL, 0,
		       "the stream does not start with a header");
	sgen_free(&g);

	/* Not even an optional record comes before it. */
	sgen_rec(&g, 42, PFLASH_REC_F_OPTIONAL, 0, 0, NULL, 0);
	sgen_header(&g, &hdr);
	EXPECT_REFUSED(&g, -EINVAL, 0,
		       "the stream does not start with a header");
	sgen_free(&g);
}

static void second_header(void)
{
	struct sgen g = { 0 };

	sgen_header(&g, &hdr);
	sgen_header(&g, &hdr);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0, "a second header");
	sgen_free(&g);
}

static void meta_record_bad_length(void)
{
	uint8_t meta[PFLASH_STREAM_META_MAX + 1] = { 0 };
	struct sgen g = { 0 };

	/* Too short for the versions. */
	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 0, meta,
		 PFLASH_STREAM_VERSION_LEN - 1);
	EXPECT_REFUSED(&g, -EINVAL, 0,
		       "the header record has a bad length (3 bytes) or offset");
	sgen_free(&g);

	/* Versions 1.0, and too short for the rest of 1.0's header. */
	meta[0] = PFLASH_STREAM_VERSION_MAJOR;
	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 0, meta,
		 PFLASH_STREAM_INFO_LEN_1_0 - 1);
	EXPECT_REFUSED(&g, -EINVAL, 0, "the stream's header is too short");
	sgen_free(&g);
	meta[0] = 0;

	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 0, meta, sizeof(meta));
	EXPECT_REFUSED(&g, -EINVAL, 0, "bad length (4097 bytes)");
	sgen_free(&g);

	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 1, meta,
		 sizeof(struct pflash_stream_info));
	EXPECT_REFUSED(&g, -EINVAL, 0, "bad length (48 bytes) or offset");
	sgen_free(&g);

	make_img();
	sgen_header(&g, &hdr);
	sgen_extents(&g, img, DEV_SIZE, BS);
	sgen_rec(&g, PFLASH_REC_END, 0, 0, 0, meta, 40);
	EXPECT_REFUSED(&g, -EINVAL, OFF_END,
		       "the end record has a bad length (40 bytes)");
	sgen_free(&g);
}

static void geometry_no_device_has(void)
{
	static const struct {
		uint64_t size;
		uint32_t bs, es;
	} bad[] = {
		{ 0, 512, 4096 },
		{ 2048, 512, 4096 },
		{ 6144, 512, 4096 },
		{ (1ULL << 30) + 4096, 512, 4096 },
		{ 16384, 1024, 4096 },
		{ 16384, 512, 3072 },
		{ 16384, 4096, 2048 },
		{ 1ULL << 25, 512, 1U << 25 },
	};
	struct pfstream_header h = hdr;
	struct sgen g = { 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		h.size = bad[i].size;
		h.block_size = bad[i].bs;
		h.erase_size = bad[i].es;
		sgen_header(&g, &h);
		EXPECT_REFUSED(&g, -EINVAL, 0, "is not one a device can have");
		sgen_free(&g);
	}
}

static void geometry_at_the_limits(void)
{
	struct pfstream_header h = hdr;
	struct pfstream_status st;
	struct sgen g = { 0 };

	/* 1 GiB of one erased extent, in 16 MiB erase blocks of 4K blocks. */
	h.size = 1ULL << 30;
	h.block_size = 4096;
	h.erase_size = 1U << 24;
	sgen_header(&g, &h);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, 0, h.size, NULL, 0);
	sgen_end(&g, 0);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.erased_bytes == 1ULL << 30);
	sgen_free(&g);
}

/* A valid stream whose END says @field is @val. */
static void end_with(struct sgen *g, size_t field, uint64_t val)
{
	struct pflash_stream_end end;

	make_img();
	sgen_header(g, &hdr);
	sgen_extents(g, img, DEV_SIZE, BS);
	end = (struct pflash_stream_end){
		.records = htole64(g->records),
		.stream_bytes = htole64(g->len),
		.data_bytes = htole64(g->data_bytes),
		.erased_bytes = htole64(g->erased_bytes),
		.zero_bytes = htole64(g->zero_bytes),
	};
	val = htole64(val);
	memcpy((uint8_t *)&end + field, &val, sizeof(val));
	sgen_rec(g, PFLASH_REC_END, 0, 0, 0, &end, sizeof(end));
}

static void end_totals_wrong(void)
{
	static const struct {
		size_t field;
		uint64_t val;
	} wrong[] = {
		{ offsetof(struct pflash_stream_end, records), 5 },
		{ offsetof(struct pflash_stream_end, records), 7 },
		{ offsetof(struct pflash_stream_end, stream_bytes), OFF_END - 1 },
		{ offsetof(struct pflash_stream_end, data_bytes), 3 * BS + 1 },
		{ offsetof(struct pflash_stream_end, erased_bytes), 0 },
		{ offsetof(struct pflash_stream_end, zero_bytes), 2 * BS },
	};
	struct pfstream_status st;
	struct sgen g = { 0 };
	unsigned int i;

	/* The right totals, through the same path, are accepted. */
	end_with(&g, offsetof(struct pflash_stream_end, records), 6);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	sgen_free(&g);
	for (i = 0; i < ARRAY_SIZE(wrong); i++) {
		end_with(&g, wrong[i].field, wrong[i].val);
		EXPECT_REFUSED(&g, -EINVAL, OFF_END,
			       "the end record's totals do not match the stream");
		sgen_free(&g);
	}
}

static void data_after_end(void)
{
	struct sgen g = { 0 };

	valid_stream(&g);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, 0, DEV_SIZE, NULL, 0);
	EXPECT_REFUSED(&g, -EINVAL, STREAM_LEN,
		       "there is data after the end record");
	sgen_free(&g);
}

static void error_is_sticky(void)
{
	const struct pfstream_status *st;
	struct pfstream *s;
	struct sgen g = { 0 };

	valid_stream(&g);
	g.buf[OFF_ZERO] ^= 1;
	EXPECT(!pfstream_new(&s));
	st = pfstream_status(s);
	EXPECT(pfstream_feed(s, g.buf, g.len) == -EINVAL);
	EXPECT(st->bytes == OFF_ZERO + REC);
	g.buf[OFF_ZERO] ^= 1;
	EXPECT(pfstream_feed(s, g.buf + OFF_ZERO, REC) == -EINVAL);
	EXPECT(pfstream_finish(s) == -EINVAL);
	EXPECT(st->error_offset == OFF_ZERO);
	EXPECT(strstr(st->msg, "bad magic"));
	EXPECT(st->bytes == OFF_ZERO + REC);
	pfstream_free(s);
	sgen_free(&g);
}

/* The start of a live export's stream with header @h: pass 0 of img. */
static void live_pass0(struct sgen *g, const struct pfstream_header *h)
{
	sgen_header(g, h);
	sgen_pass(g, 0, 0);
	sgen_extents(g, img, DEV_SIZE, BS);
}

/*
 * A live export's stream: pass 0 of img, then pass 1 of blocks 8-9 and
 * 20, then the final pass of block 3 (with @final_flags), and the END.
 * Where each record starts is in @off: [0] pass 1, [1] its first extent,
 * [2] its second, [3] pass 2, [4] the END.
 */
static void live_stream(struct sgen *g, uint32_t final_flags,
			uint32_t end_flags, size_t off[5])
{
	struct pfstream_header h = hdr;

	make_img();
	h.flags = PFLASH_STREAM_INFO_F_LIVE;
	live_pass0(g, &h);
	off[0] = g->len;
	sgen_pass(g, 1, 0);
	memset(img + 8 * BS, 0x11, 2 * BS);
	off[1] = g->len;
	sgen_extents_in(g, img, 8 * BS, 10 * BS, BS);
	img[20 * BS] = 0;
	off[2] = g->len;
	sgen_extents_in(g, img, 20 * BS, 21 * BS, BS);
	off[3] = g->len;
	sgen_pass(g, 2, final_flags);
	memset(img + 3 * BS, 0, BS);
	sgen_extents_in(g, img, 3 * BS, 4 * BS, BS);
	off[4] = g->len;
	sgen_end(g, end_flags);
}

static void live_stream_valid(void)
{
	struct pfstream_status st;
	struct sgen g = { 0 };
	size_t off[5];

	live_stream(&g, PFLASH_STREAM_PASS_F_FINAL, PFLASH_STREAM_END_F_FINAL,
		    off);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.complete);
	EXPECT(st.end_flags == PFLASH_STREAM_END_F_FINAL);
	EXPECT(st.records[PFLASH_REC_PASS] == 3);
	EXPECT(st.passes == 3);
	EXPECT(st.covered == DEV_SIZE);
	/* Pass 0 is the whole device: D E Z D E. */
	EXPECT(st.pass[0].records == 5);
	EXPECT(st.pass[0].data_bytes == 3 * BS);
	EXPECT(st.pass[0].erased_bytes == (DEV_SIZE - 4 * BS));
	EXPECT(st.pass[0].zero_bytes == BS);
	EXPECT(!st.pass[0].flags);
	EXPECT(st.pass[1].records == 2);
	EXPECT(st.pass[1].data_bytes == 3 * BS);
	EXPECT(st.pass[1].start == off[0]);
	EXPECT(st.pass[2].zero_bytes == BS);
	EXPECT(st.pass[2].flags == PFLASH_STREAM_PASS_F_FINAL);
	EXPECT(st.data_bytes == 6 * BS);
	/* A snapshot may end with a last pass that is not final, too. */
	sgen_free(&g);
	live_stream(&g, 0, 0, off);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.complete && !st.end_flags);
	sgen_free(&g);
}

/* Damage of the passes, each refused where it is. */
static void live_stream_damaged(void)
{
	struct pfstream_header h = hdr;
	struct sgen g = { 0 };
	size_t off[5], at;

	/* The END is final, its last pass is not. */
	live_stream(&g, 0, PFLASH_STREAM_END_F_FINAL, off);
	EXPECT_REFUSED(&g, -EINVAL, off[4], "its last pass is not");
	sgen_free(&g);

	/* An extent before pass 0. */
	h.flags = PFLASH_STREAM_INFO_F_LIVE;
	sgen_header(&g, &h);
	sgen_extents(&g, img, DEV_SIZE, BS);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "comes before the first pass of a live export's stream");
	sgen_free(&g);

	/* A pass in a stream that is not a live export's. */
	sgen_header(&g, &hdr);
	sgen_pass(&g, 0, 0);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "a pass record in a stream that is not marked as a live export's");
	sgen_free(&g);

	/* Pass 1 first. */
	sgen_header(&g, &h);
	sgen_pass(&g, 1, 0);
	EXPECT_REFUSED(&g, -EINVAL, OFF_DATA0,
		       "pass 1 where pass 0 should come");
	sgen_free(&g);

	/* Pass 1 before pass 0 covers the device. */
	sgen_header(&g, &h);
	sgen_pass(&g, 0, 0);
	sgen_extents(&g, img, 8 * BS, BS);
	at = g.len;
	sgen_pass(&g, 1, 0);
	EXPECT_REFUSED(&g, -EINVAL, at,
		       "before the first covers the whole device (4096 of 16384 bytes)");
	sgen_free(&g);

	/* Pass 1 twice. */
	live_pass0(&g, &h);
	sgen_pass(&g, 1, 0);
	at = g.len;
	sgen_pass(&g, 1, 0);
	EXPECT_REFUSED(&g, -EINVAL, at, "pass 1 where pass 2 should come");
	sgen_free(&g);

	/* A pass after the final one. */
	live_pass0(&g, &h);
	sgen_pass(&g, 1, PFLASH_STREAM_PASS_F_FINAL);
	at = g.len;
	sgen_pass(&g, 2, 0);
	EXPECT_REFUSED(&g, -EINVAL, at, "pass 2 follows the final pass");
	sgen_free(&g);

	/* A later pass's extents out of order, and overlapping. */
	live_pass0(&g, &h);
	sgen_pass(&g, 1, 0);
	sgen_extents_in(&g, img, 8 * BS, 10 * BS, BS);
	at = g.len;
	sgen_extents_in(&g, img, 9 * BS, 10 * BS, BS);
	EXPECT_REFUSED(&g, -EINVAL, at,
		       "overlaps an earlier one of pass 1, which ends at 5120");
	sgen_free(&g);

	/* ... and past the end of the device. */
	live_pass0(&g, &h);
	sgen_pass(&g, 1, 0);
	at = g.len;
	sgen_rec(&g, PFLASH_REC_ZERO, 0, DEV_SIZE - BS, 2 * BS, NULL, 0);
	EXPECT_REFUSED(&g, -EINVAL, at, "goes beyond the end of the device");
	sgen_free(&g);
}

/* A 1.0 stream, as 1.0 writers wrote it, reads in full. */
static void version_1_0_reads(void)
{
	struct pfstream_header h = hdr;
	struct pfstream_status st;
	struct sgen g = { 0 };

	make_img();
	h.version_minor = 0;
	sgen_stream(&g, &h, img, PFLASH_STREAM_END_F_FINAL);
	EXPECT(read_stream(g.buf, g.len, &st) == 0);
	EXPECT(st.complete && !st.passes);
	EXPECT(st.header.version_minor == 0);
	sgen_free(&g);
}

static void record_names(void)
{
	EXPECT(!strcmp(pfstream_rec_name(PFLASH_REC_HEADER), "header"));
	EXPECT(!strcmp(pfstream_rec_name(PFLASH_REC_ZERO), "zero"));
	EXPECT(!strcmp(pfstream_rec_name(PFLASH_REC_END), "end"));
	EXPECT(!pfstream_rec_name(0));
	EXPECT(!strcmp(pfstream_rec_name(PFLASH_REC_PASS), "pass"));
	EXPECT(!pfstream_rec_name(PFLASH_REC_PASS + 1));
	EXPECT(!pfstream_rec_name(65535));
}

static const struct tap_test tests[] = {
	T(crc_check_value),
	T(valid_stream_status),
	T(valid_in_pieces_of_every_size),
	T(valid_split_anywhere),
	T(progress_as_it_comes),
	T(truncated_at_every_byte),
	T(every_bit_flipped),
	T(checksum_mismatch),
	T(bad_magic),
	T(extents_reordered),
	T(extent_repeated),
	T(extents_overlap),
	T(extents_gap),
	T(extent_beyond_end),
	T(extent_empty),
	T(extent_ends_short),
	T(data_payload_not_its_length),
	T(erased_with_payload),
	T(zero_with_payload),
	T(data_records_at_most_data_max),
	T(wrong_major_version),
	T(newer_minor_version),
	T(unknown_type_not_optional),
	T(optional_record_too_long),
	T(unknown_record_flag),
	T(no_header_first),
	T(second_header),
	T(meta_record_bad_length),
	T(geometry_no_device_has),
	T(geometry_at_the_limits),
	T(end_totals_wrong),
	T(data_after_end),
	T(error_is_sticky),
	T(live_stream_valid),
	T(live_stream_damaged),
	T(version_1_0_reads),
	T(record_names),
};

int main(void)
{
	return run_tests(tests, ARRAY_SIZE(tests));
}
