// SPDX-License-Identifier: GPL-2.0
/*
 * mkstream: write the state stream of a device image, as the kernel would
 * export it, for the host tests of pflashctl.
 *
 * Usage: mkstream [-b BLOCK_SIZE] [-e ERASE_SIZE] [-E EPOCH] [-f] IMAGE
 *                 [LATER_IMAGE...]
 *
 * The device's size is the image's.  -f marks the stream final (exported
 * while inactive).  With later images, the stream is a live export's:
 * pass 0 is IMAGE, and each later image is a pass of the erase blocks in
 * which it differs from the image before; with -f, the last pass is
 * marked final.  The stream goes to standard output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream_gen.h"

static uint8_t *read_image(const char *path, size_t *size)
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return NULL;
	do {
		buf = realloc(buf, len + 65536);
		if (!buf)
			abort();
		n = fread(buf + len, 1, 65536, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = len;
	return buf;
}

/* A pass of the erase blocks in which @img differs from @prev. */
static void later_pass(struct sgen *g, const struct pfstream_header *h,
		       const uint8_t *prev, const uint8_t *img)
{
	uint64_t start, end, es = h->erase_size;

	for (start = 0; start < h->size; start = end) {
		end = start + es;
		if (!memcmp(prev + start, img + start, es))
			continue;
		while (end < h->size && memcmp(prev + end, img + end, es))
			end += es;
		sgen_extents_in(g, img, start, end, h->block_size);
	}
}

int main(int argc, char **argv)
{
	struct pfstream_header h = {
		.version_major = PFLASH_STREAM_VERSION_MAJOR,
		.version_minor = PFLASH_STREAM_VERSION_MINOR,
		.block_size = 512,
		.erase_size = 4096,
		.uuid = { 0x6d, 0x6b, 0x73, 0x74, 0x72, 0x65, 0x61, 0x6d },
	};
	uint32_t end_flags = 0;
	struct sgen g = { 0 };
	uint8_t *img, *next;
	size_t size, next_size;
	int c, pass;

	while ((c = getopt(argc, argv, "b:e:E:f")) != -1) {
		switch (c) {
		case 'b':
			h.block_size = strtoul(optarg, NULL, 0);
			break;
		case 'e':
			h.erase_size = strtoul(optarg, NULL, 0);
			break;
		case 'E':
			h.epoch = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			h.flags |= PFLASH_STREAM_INFO_F_INACTIVE;
			end_flags |= PFLASH_STREAM_END_F_FINAL;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: mkstream [-b BS] [-e ES] [-E EPOCH] [-f] IMAGE [LATER_IMAGE...]\n");
		return 2;
	}
	img = read_image(argv[optind], &size);
	if (!img) {
		perror(argv[optind]);
		return 1;
	}
	h.size = size;
	if (optind == argc - 1) {
		sgen_stream(&g, &h, img, end_flags);
		free(img);
	} else {
		h.flags |= PFLASH_STREAM_INFO_F_LIVE;
		sgen_header(&g, &h);
		sgen_pass(&g, 0, 0);
		sgen_extents(&g, img, size, h.block_size);
		for (pass = 1; optind + pass < argc; pass++) {
			next = read_image(argv[optind + pass], &next_size);
			if (!next || next_size != size) {
				fprintf(stderr, "mkstream: %s: %s\n",
					argv[optind + pass], next ?
					"not the size of the first image" :
					strerror(errno));
				return 1;
			}
			sgen_pass(&g, pass, end_flags &&
				  optind + pass == argc - 1 ?
				  PFLASH_STREAM_PASS_F_FINAL : 0);
			later_pass(&g, &h, img, next);
			free(img);
			img = next;
		}
		free(img);
		sgen_end(&g, end_flags);
	}
	if (fwrite(g.buf, 1, g.len, stdout) != g.len || fflush(stdout)) {
		perror("mkstream");
		sgen_free(&g);
		return 1;
	}
	sgen_free(&g);
	return 0;
}
