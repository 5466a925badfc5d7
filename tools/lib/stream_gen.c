// SPDX-License-Identifier: GPL-2.0
/*
 * A writer of pflash state streams, for the host tests of pflashctl and the
 * fuzzers' seed corpus (see stream_gen.h).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "stream_gen.h"

static void *append(struct sgen *g, size_t len)
{
	void *p;

	if (g->len + len > g->cap) {
		g->cap = (g->len + len) * 2;
		g->buf = realloc(g->buf, g->cap);
		if (!g->buf)
			abort();
	}
	p = g->buf + g->len;
	g->len += len;
	return p;
}

void sgen_rec(struct sgen *g, uint16_t type, uint16_t flags, uint64_t offset,
	      uint64_t length, const void *payload, uint32_t len)
{
	struct pflash_stream_rec rec = {
		.magic = htole32(PFLASH_STREAM_MAGIC),
		.type = htole16(type),
		.flags = htole16(flags),
		.len = htole32(len),
		.offset = htole64(offset),
		.length = htole64(length),
	};
	uint32_t crc;

	crc = pfstream_crc_update(PFSTREAM_CRC_INIT, &rec,
				  sizeof(rec));
	crc = pfstream_crc_update(crc, payload, len);
	rec.crc = htole32(pfstream_crc_final(crc));
	memcpy(append(g, sizeof(rec)), &rec, sizeof(rec));
	if (len)
		memcpy(append(g, len), payload, len);
	g->records++;
	if (type == PFLASH_REC_DATA)
		g->data_bytes += length;
	else if (type == PFLASH_REC_ERASED)
		g->erased_bytes += length;
	else if (type == PFLASH_REC_ZERO)
		g->zero_bytes += length;
}

void sgen_header(struct sgen *g, const struct pfstream_header *h)
{
	struct pflash_stream_info info = {
		.version_major = htole16(h->version_major),
		.version_minor = htole16(h->version_minor),
		.flags = htole32(h->flags),
		.size = htole64(h->size),
		.epoch = htole64(h->epoch),
		.block_size = htole32(h->block_size),
		.erase_size = htole32(h->erase_size),
	};

	memcpy(info.uuid, h->uuid, sizeof(info.uuid));
	sgen_rec(g, PFLASH_REC_HEADER, 0, 0, 0, &info, sizeof(info));
}

/* What a block holds: erased, zero, or other data. */
static uint16_t block_class(const uint8_t *p, uint32_t bs)
{
	uint32_t i;

	for (i = 0; i < bs && p[i] == 0xff; i++)
		;
	if (i == bs)
		return PFLASH_REC_ERASED;
	for (i = 0; i < bs && !p[i]; i++)
		;
	return i == bs ? PFLASH_REC_ZERO : PFLASH_REC_DATA;
}

void sgen_extents_in(struct sgen *g, const uint8_t *img, uint64_t from,
		     uint64_t size, uint32_t block_size)
{
	uint64_t start, end;
	uint16_t type;

	for (start = from; start < size; start = end) {
		type = block_class(img + start, block_size);
		end = start + block_size;
		while (end < size &&
		       block_class(img + end, block_size) == type &&
		       (type != PFLASH_REC_DATA ||
			end - start < PFLASH_STREAM_DATA_MAX))
			end += block_size;
		sgen_rec(g, type, 0, start, end - start,
			 type == PFLASH_REC_DATA ? img + start : NULL,
			 type == PFLASH_REC_DATA ? end - start : 0);
	}
}

void sgen_extents(struct sgen *g, const uint8_t *img, uint64_t size,
		  uint32_t block_size)
{
	sgen_extents_in(g, img, 0, size, block_size);
}

void sgen_pass(struct sgen *g, uint32_t nr, uint32_t flags)
{
	struct pflash_stream_pass pass = {
		.pass = htole32(nr),
		.flags = htole32(flags),
	};

	sgen_rec(g, PFLASH_REC_PASS, 0, 0, 0, &pass, sizeof(pass));
}

void sgen_end(struct sgen *g, uint32_t flags)
{
	struct pflash_stream_end end = {
		.flags = htole32(flags),
		.records = htole64(g->records),
		.stream_bytes = htole64(g->len),
		.data_bytes = htole64(g->data_bytes),
		.erased_bytes = htole64(g->erased_bytes),
		.zero_bytes = htole64(g->zero_bytes),
	};

	sgen_rec(g, PFLASH_REC_END, 0, 0, 0, &end, sizeof(end));
}

void sgen_stream(struct sgen *g, const struct pfstream_header *h,
		 const uint8_t *img, uint32_t end_flags)
{
	sgen_header(g, h);
	sgen_extents(g, img, h->size, h->block_size);
	sgen_end(g, end_flags);
}

void sgen_free(struct sgen *g)
{
	free(g->buf);
	memset(g, 0, sizeof(*g));
}
