// SPDX-License-Identifier: GPL-2.0
/*
 * mkcorpus: write the seed corpus of the stream fuzzers (tools/fuzz/corpus/,
 * committed): streams of every record type, geometry and end, valid ones
 * as the kernel's exporter writes them and damaged ones, each damage that
 * the readers refuse once.  The fuzzers start from it: stream_fuzz.c, the
 * coverage-guided one, and selftests/pflash/pflash_stream_diff_test.c,
 * which sends each stream and its mutations to the kernel's import and to
 * `pflashctl inspect`.
 *
 * Usage: mkcorpus DIR         (writes DIR/NAME.pfs; see tools/fuzz/run.sh)
 *
 * The streams are written by tools/lib/stream_gen.c, the host
 * tests' writer.  Everything is drawn from a fixed seed: the corpus is the
 * same every time it is made.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pflash_tools.h"
#include "stream_gen.h"

static const char *dir;
static uint64_t rng = 0x5eed;

static uint8_t rnd(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 56;
}

static void save(const char *name, struct sgen *g)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pfs", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(g->buf, 1, g->len, f) != g->len || fclose(f)) {
		fprintf(stderr, "mkcorpus: cannot write %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	sgen_free(g);
}

/*
 * A device image of @size bytes, erased, with @data bytes of data at
 * @data_at and @zero zero bytes at @zero_at.
 */
static uint8_t *image(uint64_t size, uint64_t data_at, uint64_t data,
		      uint64_t zero_at, uint64_t zero)
{
	uint8_t *img = malloc(size);
	uint64_t i;

	if (!img)
		abort();
	memset(img, 0xff, size);
	for (i = 0; i < data; i++)
		img[data_at + i] = rnd();
	memset(img + zero_at, 0, zero);
	return img;
}

static struct pfstream_header header(uint64_t size, uint32_t bs,
				     uint32_t es, bool final)
{
	struct pfstream_header h = {
		.version_major = PFLASH_STREAM_VERSION_MAJOR,
		.version_minor = PFLASH_STREAM_VERSION_MINOR,
		.flags = final ? PFLASH_STREAM_INFO_F_INACTIVE : 0,
		.size = size,
		.epoch = 3,
		.block_size = bs,
		.erase_size = es,
		.uuid = { 0x70, 0x66, 0x6c, 0x61, 0x73, 0x68, [15] = 0x01 },
	};

	return h;
}

/*
 * The valid streams: every record type, geometry and end.  Each device is
 * erased flash with @data bytes of data at @data_at and @zero zero bytes
 * at @zero_at.
 */
static const struct valid {
	const char *name;
	uint64_t size;
	uint32_t bs, es;
	uint64_t data_at, data, zero_at, zero;
	bool final;
} valid[] = {
	{ "erased-4k", 4096, 512, 4096, 0, 0, 0, 0, true },
	{ "zero-8k-bs4096", 8192, 4096, 4096, 0, 0, 0, 8192, true },
	{ "mixed-16k", 16384, 512, 4096, 4096, 1536, 8192, 2048, true },
	{ "mixed-16k-snapshot", 16384, 512, 4096, 4096, 1536, 8192, 2048,
	  false },
	/* Two DATA records: one is at most 64 KiB. */
	{ "data-128k-bs4096", 131072, 4096, 4096, 0, 131072, 0, 0, true },
	/* The geometry of Debian's OVMF_VARS_4M.fd, and of ARM virt's. */
	{ "ovmf-vars-4m", 540672, 512, 4096, 0, 8192, 16384, 4096, true },
	{ "erase-256k", 524288, 4096, 262144, 4096, 4096, 0, 0, true },
};

static void write_valid_streams(void)
{
	struct sgen g = { 0 };
	uint8_t *img;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		const struct valid *v = &valid[i];
		struct pfstream_header vh = header(v->size, v->bs, v->es,
						   v->final);

		img = image(v->size, v->data_at, v->data, v->zero_at, v->zero);
		sgen_stream(&g, &vh, img,
			    v->final ? PFLASH_STREAM_END_F_FINAL : 0);
		save(v->name, &g);
		free(img);
	}
}

/*
 * A newer minor version: a longer header, and an optional record of a type
 * this version does not know, both to be skipped.
 */
static void write_newer_minor(const uint8_t *img)
{
	uint8_t info[64], payload[512];
	struct pflash_stream_info *i = (void *)info;
	struct sgen g = { 0 };

	memset(info, 0, sizeof(info));
	i->version_major = htole16(PFLASH_STREAM_VERSION_MAJOR);
	i->version_minor = htole16(PFLASH_STREAM_VERSION_MINOR + 1);
	i->flags = htole32(PFLASH_STREAM_INFO_F_INACTIVE);
	i->size = htole64(16384);
	i->block_size = htole32(512);
	i->erase_size = htole32(4096);
	memset(payload, 0xa5, sizeof(payload));
	sgen_rec(&g, PFLASH_REC_HEADER, 0, 0, 0, info, sizeof(info));
	sgen_rec(&g, 9, PFLASH_REC_F_OPTIONAL, 0, 0, payload, 100);
	sgen_extents(&g, img, 16384, 512);
	sgen_rec(&g, 10, PFLASH_REC_F_OPTIONAL, 0, 0, NULL, 0);
	sgen_end(&g, PFLASH_STREAM_END_F_FINAL);
	save("minor-version-optional-records", &g);
}

/*
 * Damaged streams of the 16 KiB device @img, each refused for one reason:
 * those whose damage is in the header or the order of the records.
 */
static void write_bad_headers(const uint8_t *img)
{
	struct pfstream_header h = header(16384, 512, 4096, true);
	struct sgen g = { 0 };
	uint8_t payload[16];

	memset(payload, 0xa5, sizeof(payload));
	sgen_header(&g, &h);
	sgen_rec(&g, 9, 0, 0, 0, payload, 16);
	sgen_extents(&g, img, 16384, 512);
	sgen_end(&g, 0);
	save("bad-unknown-type", &g);

	h.version_major = 2;
	sgen_stream(&g, &h, img, 0);
	save("bad-major-version", &g);
	h.version_major = PFLASH_STREAM_VERSION_MAJOR;

	h.erase_size = 3000;
	sgen_stream(&g, &h, img, 0);
	save("bad-geometry", &g);
	h.erase_size = 4096;

	sgen_header(&g, &h);
	sgen_header(&g, &h);
	sgen_extents(&g, img, 16384, 512);
	sgen_end(&g, 0);
	save("bad-second-header", &g);
}

/* ... and those whose damage is in the bytes of a valid stream. */
static void write_bad_bytes(const uint8_t *img)
{
	struct pfstream_header h = header(16384, 512, 4096, true);
	struct sgen g = { 0 };

	/* Header (80 bytes), ERASED (32), DATA: a byte of its payload. */
	sgen_stream(&g, &h, img, 0);
	g.buf[80 + 32 + 32 + 7] ^= 0x10;
	save("bad-checksum", &g);

	sgen_stream(&g, &h, img, 0);
	g.len -= 20;
	save("bad-truncated", &g);

	sgen_stream(&g, &h, img, 0);
	g.buf = realloc(g.buf, g.len + 1);
	if (!g.buf)
		abort();
	g.buf[g.len++] = 'x';
	save("bad-data-after-end", &g);
}

/* ... and those whose records disagree with the device or with END. */
static void write_bad_extents(const uint8_t *img)
{
	struct pfstream_header h = header(16384, 512, 4096, true);
	struct pflash_stream_end end;
	struct sgen g = { 0 };

	sgen_header(&g, &h);
	sgen_extents(&g, img, 4096, 512);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, 8192, 8192, NULL, 0);
	sgen_end(&g, 0);
	save("bad-gap", &g);

	sgen_header(&g, &h);
	sgen_extents(&g, img, 16384, 512);
	memset(&end, 0, sizeof(end));
	end.records = htole64(g.records + 1);
	end.stream_bytes = htole64(g.len);
	end.data_bytes = htole64(g.data_bytes);
	end.erased_bytes = htole64(g.erased_bytes);
	end.zero_bytes = htole64(g.zero_bytes);
	sgen_rec(&g, PFLASH_REC_END, 0, 0, 0, &end, sizeof(end));
	save("bad-end-totals", &g);

	sgen_header(&g, &h);
	sgen_extents(&g, img, 16384, 512);
	sgen_rec(&g, PFLASH_REC_ZERO, 0, 16384, 512, NULL, 0);
	sgen_end(&g, 0);
	save("bad-beyond-device", &g);
}

/*
 * A DATA record longer than one may be, its payload as long as its extent:
 * a check the fuzzer did not reach from the streams above.
 */
static void write_data_too_long(void)
{
	struct pfstream_header h = header(131072, 512, 4096, true);
	struct sgen g = { 0 };
	uint8_t *img = image(h.size, 0, h.size, 0, 0);

	sgen_header(&g, &h);
	sgen_rec(&g, PFLASH_REC_DATA, 0, 0, PFLASH_STREAM_DATA_MAX + 512,
		 img, PFLASH_STREAM_DATA_MAX + 512);
	sgen_rec(&g, PFLASH_REC_ERASED, 0, PFLASH_STREAM_DATA_MAX + 512,
		 h.size - PFLASH_STREAM_DATA_MAX - 512, NULL, 0);
	sgen_end(&g, 0);
	save("bad-data-too-long", &g);
	free(img);
}

/*
 * (1.1) A live export's stream: pass 0 of the whole device, a pass of the
 * 1 KiB that changed, the final pass, empty; then the same with its passes
 * out of order, and a PASS record in a stream that is not live.
 */
static void write_live_streams(void)
{
	struct pfstream_header h = header(16384, 512, 4096, true);
	uint8_t *img = image(16384, 4096, 1536, 8192, 2048);
	struct sgen g = { 0 };

	h.flags |= PFLASH_STREAM_INFO_F_LIVE;
	sgen_header(&g, &h);
	sgen_pass(&g, 0, 0);
	sgen_extents(&g, img, 16384, 512);
	memset(img + 1024, 0x5a, 1024);
	sgen_pass(&g, 1, 0);
	sgen_extents_in(&g, img, 1024, 2048, 512);
	sgen_pass(&g, 2, PFLASH_STREAM_PASS_F_FINAL);
	sgen_end(&g, PFLASH_STREAM_END_F_FINAL);
	save("live-three-passes", &g);

	sgen_header(&g, &h);
	sgen_pass(&g, 0, 0);
	sgen_extents(&g, img, 16384, 512);
	sgen_pass(&g, 2, 0);
	sgen_end(&g, 0);
	save("bad-live-pass-order", &g);

	h.flags &= ~PFLASH_STREAM_INFO_F_LIVE;
	sgen_header(&g, &h);
	sgen_pass(&g, 0, 0);
	sgen_extents(&g, img, 16384, 512);
	sgen_end(&g, 0);
	save("bad-pass-not-live", &g);
	free(img);
}

int main(int argc, char **argv)
{
	uint8_t *img;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	dir = argv[1];

	/*
	 * The images are drawn from one sequence of random bytes, in this
	 * order: the corpus stays what it was only while the order does.
	 */
	write_valid_streams();
	img = image(16384, 4096, 1536, 8192, 2048);
	write_newer_minor(img);
	write_bad_headers(img);
	write_bad_bytes(img);
	write_bad_extents(img);
	free(img);
	write_data_too_long();
	write_live_streams();
	return 0;
}
