// SPDX-License-Identifier: GPL-2.0
/*
 * pfstream: a reader of the pflash state stream.
 *
 * It follows the kernel's importer (module/import.c) step by step, so that
 * a stream it accepts is one the kernel accepts, given a device of the
 * stream's geometry and epoch: a record's header is checked as soon as it
 * is complete, its payload as it arrives, and the record as a whole, its
 * checksum first, once its payload is complete.  The checks come in the
 * kernel's order, so both name the same first problem.
 *
 * The CRC-32C is ISA-L's crc32_iscsi(), which leaves the initial value and
 * the final inversion to its caller, as the kernel's crc32c() does.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <linux/pflash.h>

#include "pflash_tools.h"
#include "pfstream.h"

/* The record flags this reader knows. */
#define REC_F_KNOWN	PFLASH_REC_F_OPTIONAL

_Static_assert(sizeof(struct pflash_stream_rec) == 32, "record header");
/* What this reader uses of the HEADER and END payloads is in version 1.0. */
_Static_assert(offsetof(struct pflash_stream_info, uuid) + 16 ==
	       PFLASH_STREAM_INFO_LEN_1_0, "header payload");
_Static_assert(offsetof(struct pflash_stream_end, zero_bytes) + 8 ==
	       PFLASH_STREAM_END_LEN_1_0, "end payload");
_Static_assert(sizeof(struct pflash_stream_pass) ==
	       PFLASH_STREAM_PASS_LEN_1_1, "pass payload");

/**
 * struct pfstream - a stream being read
 * @st: what it has found so far
 * @rec_start: where in the stream the current record started
 * @rec: the header of the current record, as far as it has arrived
 * @rec_have: bytes of @rec that have arrived
 * @payload_have: bytes of its payload that have arrived
 * @crc: the running CRC-32C of the current record
 * @records: complete records before the current one
 * @pass_next: in a pass after the first, where its next extent may start
 * @meta: the payload of the current HEADER, PASS or END record
 */
struct pfstream {
	struct pfstream_status st;
	uint64_t rec_start;
	struct pflash_stream_rec rec;
	uint32_t rec_have;
	uint32_t payload_have;
	uint32_t crc;
	uint64_t records;
	uint64_t pass_next;
	uint8_t meta[PFLASH_STREAM_META_MAX];
};

uint32_t pfstream_crc_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int n;

	/* crc32_iscsi() takes an int length, and a pointer it does not write. */
	while (len) {
		n = len > INT_MAX ? INT_MAX : len;
		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= n;
	}
	return crc;
}

static const char *const rec_names[] = {
	[PFLASH_REC_HEADER]	= "header",
	[PFLASH_REC_DATA]	= "data",
	[PFLASH_REC_ERASED]	= "erased",
	[PFLASH_REC_ZERO]	= "zero",
	[PFLASH_REC_END]	= "end",
	[PFLASH_REC_PASS]	= "pass",
};

const char *pfstream_rec_name(unsigned int type)
{
	if (type >= ARRAY_SIZE(rec_names))
		return NULL;
	return rec_names[type];
}

int pfstream_new(struct pfstream **sp)
{
	*sp = calloc(1, sizeof(**sp));
	return *sp ? 0 : -ENOMEM;
}

void pfstream_free(struct pfstream *s)
{
	if (s)
		free(s->st.pass);
	free(s);
}

const struct pfstream_status *
pfstream_status(const struct pfstream *s)
{
	return &s->st;
}

/* Record the first problem, found at stream offset @offset. */
static int __printf(4, 5)
fail_at(struct pfstream *s, uint64_t offset, int err, const char *fmt,
	...)
{
	va_list ap;

	s->st.error = err;
	s->st.error_offset = offset;
	va_start(ap, fmt);
	vsnprintf(s->st.msg, sizeof(s->st.msg), fmt, ap);
	va_end(ap);
	return err;
}

/* The current record is at fault. */
#define fail(s, err, ...)	fail_at(s, (s)->rec_start, err, __VA_ARGS__)

static uint16_t rec_type(const struct pfstream *s)
{
	return le16toh(s->rec.type);
}

/* The current record's type, in words, for messages. */
static const char *rec_what(const struct pfstream *s)
{
	/*
	 * A record of a type this reader does not know gets this far only if
	 * it is optional.
	 */
	return pfstream_rec_name(rec_type(s)) ?: "optional";
}

static bool is_extent(uint16_t type)
{
	return type == PFLASH_REC_DATA || type == PFLASH_REC_ERASED ||
	       type == PFLASH_REC_ZERO;
}

/* Whether a record of @type has its payload in @meta. */
static bool is_meta(uint16_t type)
{
	return type == PFLASH_REC_HEADER || type == PFLASH_REC_END ||
	       type == PFLASH_REC_PASS;
}

/* Whether the stream is a live export's, in passes. */
static bool is_live(const struct pfstream *s)
{
	return s->st.header.flags & PFLASH_STREAM_INFO_F_LIVE;
}

/* Whether the extents that come now are of a pass after the first. */
static bool in_later_pass(const struct pfstream *s)
{
	return s->st.passes > 1;
}

/* Check an extent record's header against what came before. */
static int check_extent(struct pfstream *s)
{
	uint64_t offset = le64toh(s->rec.offset);
	uint64_t length = le64toh(s->rec.length);
	uint64_t size = s->st.header.size;
	uint32_t len = le32toh(s->rec.len);
	uint64_t next = s->st.covered;

	if (is_live(s) && !s->st.passes)
		return fail(s, -EINVAL,
			    "the %s extent at device offset %" PRIu64 " comes before the first pass of a live export's stream",
			    rec_what(s), offset);
	if (in_later_pass(s)) {
		if (offset < s->pass_next)
			return fail(s, -EINVAL,
				    "the %s extent at device offset %" PRIu64 " overlaps an earlier one of pass %" PRIu32 ", which ends at %" PRIu64 ", or is out of order",
				    rec_what(s), offset, s->st.passes - 1,
				    s->pass_next);
	} else if (offset < next) {
		return fail(s, -EINVAL,
			    "the %s extent at device offset %" PRIu64 " overlaps an earlier one, which ends at %" PRIu64 ": records out of order or repeated",
			    rec_what(s), offset, next);
	} else if (offset > next) {
		return fail(s, -EINVAL,
			    "the %s extent at device offset %" PRIu64 " leaves a gap after %" PRIu64 ": a record is missing or out of order",
			    rec_what(s), offset, next);
	}
	if (!length || length > size - offset)
		return fail(s, -EINVAL,
			    "the %s extent at device offset %" PRIu64 ", of %" PRIu64 " bytes, is empty or goes beyond the end of the device (%" PRIu64 " bytes)",
			    rec_what(s), offset, length, size);
	/* The kernel's test, len != length || len > DATA_MAX, in two. */
	if (rec_type(s) == PFLASH_REC_DATA && length > PFLASH_STREAM_DATA_MAX)
		return fail(s, -EINVAL,
			    "the data extent at device offset %" PRIu64 " is %" PRIu64 " bytes long, more than a data record may be (%u)",
			    offset, length, PFLASH_STREAM_DATA_MAX);
	if (rec_type(s) == PFLASH_REC_DATA ? len != length : len)
		return fail(s, -EINVAL,
			    "the %s extent at device offset %" PRIu64 " has a payload of %" PRIu32 " bytes, which does not match its length of %" PRIu64 " bytes",
			    rec_what(s), offset, len, length);
	return 0;
}

/* Check the header of a record that has just arrived in full. */
static int rec_begin(struct pfstream *s)
{
	struct pflash_stream_rec rec = s->rec;
	uint16_t type = le16toh(rec.type);
	uint16_t flags = le16toh(rec.flags);
	uint32_t len = le32toh(rec.len);
	int err;

	if (le32toh(rec.magic) != PFLASH_STREAM_MAGIC)
		return fail(s, -EINVAL,
			    "not a pflash state stream, or a record is damaged (bad magic)");
	if (flags & ~REC_F_KNOWN)
		return fail(s, -EPROTONOSUPPORT,
			    "a record has flags (0x%x) this reader does not know: the stream needs a newer reader",
			    (unsigned int)(flags & ~REC_F_KNOWN));
	if (!s->records && type != PFLASH_REC_HEADER)
		return fail(s, -EINVAL, "the stream does not start with a header");
	if (s->records && type == PFLASH_REC_HEADER)
		return fail(s, -EINVAL, "the stream has a second header");

	if (is_extent(type)) {
		err = check_extent(s);
		if (err)
			return err;
	} else if (is_meta(type)) {
		/*
		 * Only the versions are needed to read a header: the rest of
		 * its length is checked once its major version is known.
		 */
		if (rec.offset || rec.length ||
		    len < (type == PFLASH_REC_HEADER ?
			   PFLASH_STREAM_VERSION_LEN :
			   type == PFLASH_REC_END ?
			   PFLASH_STREAM_END_LEN_1_0 :
			   PFLASH_STREAM_PASS_LEN_1_1) ||
		    len > PFLASH_STREAM_META_MAX)
			return fail(s, -EINVAL,
				    "the %s record has a bad length (%" PRIu32 " bytes) or offset",
				    rec_what(s), len);
		if (type == PFLASH_REC_PASS && !is_live(s))
			return fail(s, -EINVAL,
				    "a pass record in a stream that is not marked as a live export's");
	} else if (!(flags & PFLASH_REC_F_OPTIONAL)) {
		return fail(s, -EPROTONOSUPPORT,
			    "a record has a type (%u) this reader does not know, and is not optional: the stream needs a newer reader",
			    type);
	} else if (len > PFLASH_STREAM_DATA_MAX) {
		return fail(s, -EINVAL,
			    "an optional record (type %u) is too long (%" PRIu32 " bytes)",
			    type, len);
	}

	rec.crc = 0;
	s->crc = pfstream_crc_update(PFSTREAM_CRC_INIT, &rec,
				     sizeof(rec));
	return 0;
}

/* Whether @h describes a device that pflash can create. */
static bool geometry_valid(const struct pfstream_header *h)
{
	uint32_t es = h->erase_size;

	return (h->block_size == 512 || h->block_size == 4096) &&
	       !(es & (es - 1)) && es >= h->block_size &&
	       es <= PFLASH_ERASE_SIZE_MAX &&
	       h->size >= es && h->size <= PFLASH_SIZE_MAX && !(h->size % es);
}

/*
 * The header of this major version.  A newer minor version may append
 * fields, which are ignored; this reader is of the first minor version,
 * so no field can be missing.
 */
static int header_end(struct pfstream *s)
{
	const struct pflash_stream_info *info = (const void *)s->meta;
	struct pfstream_header *h = &s->st.header;

	h->version_major = le16toh(info->version_major);
	h->version_minor = le16toh(info->version_minor);
	h->flags = le32toh(info->flags);
	h->size = le64toh(info->size);
	h->epoch = le64toh(info->epoch);
	h->block_size = le32toh(info->block_size);
	h->erase_size = le32toh(info->erase_size);
	memcpy(h->uuid, info->uuid, sizeof(h->uuid));

	if (h->version_major != PFLASH_STREAM_VERSION_MAJOR)
		return fail(s, -EPROTONOSUPPORT,
			    "the stream's major version is %u; this reader reads version %u only",
			    h->version_major, PFLASH_STREAM_VERSION_MAJOR);
	if (le32toh(s->rec.len) < PFLASH_STREAM_INFO_LEN_1_0)
		return fail(s, -EINVAL, "the stream's header is too short");
	if (!geometry_valid(h))
		return fail(s, -EINVAL,
			    "the stream's geometry (size %" PRIu64 ", block size %" PRIu32 ", erase size %" PRIu32 ") is not one a device can have",
			    h->size, h->block_size, h->erase_size);
	s->st.have_header = true;
	return 0;
}

static int end_end(struct pfstream *s)
{
	const struct pflash_stream_end *end = (const void *)s->meta;
	struct pfstream_status *st = &s->st;

	if (st->covered != st->header.size)
		return fail(s, -EINVAL,
			    "the stream ends before it covers the whole device (%" PRIu64 " of %" PRIu64 " bytes)",
			    st->covered, st->header.size);
	if (le64toh(end->records) != s->records ||
	    le64toh(end->stream_bytes) != s->rec_start ||
	    le64toh(end->data_bytes) != st->data_bytes ||
	    le64toh(end->erased_bytes) != st->erased_bytes ||
	    le64toh(end->zero_bytes) != st->zero_bytes)
		return fail(s, -EINVAL,
			    "the end record's totals do not match the stream");
	st->end_flags = le32toh(end->flags);
	if (is_live(s) && st->end_flags & PFLASH_STREAM_END_F_FINAL &&
	    !(st->pass[st->passes - 1].flags & PFLASH_STREAM_PASS_F_FINAL))
		return fail(s, -EINVAL,
			    "the stream says it is final, but its last pass is not");
	st->records[PFLASH_REC_END]++;
	st->complete = true;
	return 0;
}

/* A PASS record: the next pass begins, once pass 0 covers the device. */
static int pass_end(struct pfstream *s)
{
	const struct pflash_stream_pass *pass = (const void *)s->meta;
	struct pfstream_status *st = &s->st;
	struct pfstream_pass *more;

	if (le32toh(pass->pass) != st->passes)
		return fail(s, -EINVAL,
			    "the stream's passes are out of order or repeated: pass %" PRIu32 " where pass %" PRIu32 " should come",
			    le32toh(pass->pass), st->passes);
	if (st->passes && st->covered != st->header.size)
		return fail(s, -EINVAL,
			    "a pass begins before the first covers the whole device (%" PRIu64 " of %" PRIu64 " bytes)",
			    st->covered, st->header.size);
	if (st->passes &&
	    st->pass[st->passes - 1].flags & PFLASH_STREAM_PASS_F_FINAL)
		return fail(s, -EINVAL,
			    "pass %" PRIu32 " follows the final pass",
			    st->passes);
	more = realloc(st->pass, (st->passes + 1) * sizeof(*st->pass));
	if (!more)
		return fail(s, -ENOMEM, "out of memory");
	st->pass = more;
	st->pass[st->passes] = (struct pfstream_pass) {
		.flags = le32toh(pass->flags),
		.start = s->rec_start,
	};
	st->passes++;
	s->pass_next = 0;
	return 0;
}

/* Count an extent of @type, @length bytes, in its pass if there is one. */
static void count_extent(struct pfstream *s, uint16_t type, uint64_t length)
{
	struct pfstream_status *st = &s->st;
	struct pfstream_pass *p = st->passes ? &st->pass[st->passes - 1] : NULL;
	uint64_t *total = type == PFLASH_REC_DATA ? &st->data_bytes :
			  type == PFLASH_REC_ERASED ? &st->erased_bytes :
			  &st->zero_bytes;

	*total += length;
	if (p) {
		p->records++;
		*(type == PFLASH_REC_DATA ? &p->data_bytes :
		  type == PFLASH_REC_ERASED ? &p->erased_bytes :
		  &p->zero_bytes) += length;
	}
	if (in_later_pass(s))
		s->pass_next = le64toh(s->rec.offset) + length;
	else
		st->covered += length;
}

/* A record has arrived in full, payload and all. */
static int rec_end(struct pfstream *s)
{
	struct pfstream_status *st = &s->st;
	uint16_t type = rec_type(s);
	uint64_t length = le64toh(s->rec.length);
	int err = 0;

	if (pfstream_crc_final(s->crc) != le32toh(s->rec.crc))
		return fail(s, -EBADMSG,
			    "the %s record's checksum does not match: the stream is damaged",
			    rec_what(s));
	switch (type) {
	case PFLASH_REC_HEADER:
		err = header_end(s);
		break;
	case PFLASH_REC_DATA:
	case PFLASH_REC_ERASED:
	case PFLASH_REC_ZERO:
		count_extent(s, type, length);
		break;
	case PFLASH_REC_END:
		return end_end(s);
	case PFLASH_REC_PASS:
		err = pass_end(s);
		break;
	default:
		st->skipped++;
		break;
	}
	if (err)
		return err;
	if (pfstream_rec_name(type))
		st->records[type]++;
	s->records++;
	s->rec_have = 0;
	s->payload_have = 0;
	return 0;
}

int pfstream_feed(struct pfstream *s, const void *buf, size_t len)
{
	struct pfstream_status *st = &s->st;
	const uint8_t *p = buf;
	uint32_t rec_len;
	size_t n;
	int err;

	if (st->error)
		return st->error;
	while (len) {
		if (st->complete)
			return fail_at(s, st->bytes, -EINVAL,
				       "there is data after the end record");
		if (s->rec_have < sizeof(s->rec)) {
			if (!s->rec_have)
				s->rec_start = st->bytes;
			n = sizeof(s->rec) - s->rec_have;
			n = n < len ? n : len;
			memcpy((uint8_t *)&s->rec + s->rec_have, p, n);
			s->rec_have += n;
		} else {
			rec_len = le32toh(s->rec.len);
			n = rec_len - s->payload_have;
			n = n < len ? n : len;
			if (is_meta(rec_type(s)))
				memcpy(s->meta + s->payload_have, p, n);
			s->crc = pfstream_crc_update(s->crc, p, n);
			s->payload_have += n;
		}
		p += n;
		len -= n;
		st->bytes += n;

		if (s->rec_have < sizeof(s->rec))
			continue;
		if (!s->payload_have) {
			err = rec_begin(s);
			if (err)
				return err;
		}
		if (s->payload_have == le32toh(s->rec.len)) {
			err = rec_end(s);
			if (err)
				return err;
		}
	}
	return 0;
}

int pfstream_finish(struct pfstream *s)
{
	struct pfstream_status *st = &s->st;

	if (st->error || st->complete)
		return st->error;
	if (!st->bytes)
		return fail_at(s, 0, -EINVAL, "the stream is empty");
	if (s->rec_have)
		return fail(s, -EINVAL,
			    "the stream is truncated: it ends inside a record");
	return fail_at(s, st->bytes, -EINVAL,
		       "the stream is truncated: it ends before its end record");
}
