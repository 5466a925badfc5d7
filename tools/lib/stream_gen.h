/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A writer of pflash state streams for the host tests: valid ones, as the
 * kernel's exporter (module/export.c) writes them, and, record by record,
 * any damaged one a test needs.  Out of memory aborts: these are tests.
 */
#ifndef STREAM_GEN_H
#define STREAM_GEN_H

#include "pfstream.h"

/**
 * struct sgen - a stream being written
 * @buf: the stream so far
 * @len: its length
 * @cap: @buf's size
 * @records: the records so far
 * @data_bytes: device bytes covered by DATA records so far
 * @erased_bytes: ... by ERASED records
 * @zero_bytes: ... by ZERO records
 */
struct sgen {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint64_t records;
	uint64_t data_bytes;
	uint64_t erased_bytes;
	uint64_t zero_bytes;
};

/* Append a record, its checksum computed; extents count in the totals. */
void sgen_rec(struct sgen *g, uint16_t type, uint16_t flags, uint64_t offset,
	      uint64_t length, const void *payload, uint32_t len);
/* Append a HEADER record for @h. */
void sgen_header(struct sgen *g, const struct pfstream_header *h);
/* Append the extents of device contents @img, as the kernel's exporter. */
void sgen_extents(struct sgen *g, const uint8_t *img, uint64_t size,
		  uint32_t block_size);
/* ... of [@from, @size) only: the run of a later pass of a live export. */
void sgen_extents_in(struct sgen *g, const uint8_t *img, uint64_t from,
		     uint64_t size, uint32_t block_size);
/* Append a PASS record. */
void sgen_pass(struct sgen *g, uint32_t nr, uint32_t flags);
/* Append an END record with the totals so far. */
void sgen_end(struct sgen *g, uint32_t flags);
/* A whole stream of @img, described by @h. */
void sgen_stream(struct sgen *g, const struct pfstream_header *h,
		 const uint8_t *img, uint32_t end_flags);
/* Free the stream. */
void sgen_free(struct sgen *g);

#endif /* STREAM_GEN_H */
