/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the pflash kselftests that move device state: export into a
 * buffer, import from one in pieces, walk a stream's records, decode it
 * into an image, and reseal a record after changing it.
 */
#ifndef PFT_STREAM_H
#define PFT_STREAM_H

#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isa-l/crc.h>
#include <linux/pflash_stream.h>
#include <netlink/genl/genl.h>

#include "pflash_test.h"

#define REC_HDR	sizeof(struct pflash_stream_rec)

struct pft_stream {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int gap;	/* an export message that did not follow on */
};

static inline void pft_stream_free(struct pft_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static inline int pft_stream_append(struct pft_stream *s, const void *p,
				    size_t n)
{
	if (s->len + n > s->cap) {
		size_t cap = (s->len + n) * 2;
		uint8_t *buf = realloc(s->buf, cap);

		if (!buf)
			return -ENOMEM;
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static int pft_export_msg(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PFLASH_A_DEV_MAX + 1];
	struct pft_stream *s = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PFLASH_A_DEV_MAX, NULL) ||
	    !tb[PFLASH_A_DEV_STREAM_OFFSET] || !tb[PFLASH_A_DEV_STREAM_DATA])
		return -EPROTO;
	if (nla_get_u64(tb[PFLASH_A_DEV_STREAM_OFFSET]) != s->len)
		s->gap = 1;
	return pft_stream_append(s, nla_data(tb[PFLASH_A_DEV_STREAM_DATA]),
				 nla_len(tb[PFLASH_A_DEV_STREAM_DATA]));
}

/* The state stream of device @index, into @s (which the caller frees). */
static inline int pft_export(struct pfnl *h, uint32_t index,
			     struct pft_stream *s)
{
	struct nl_msg *msg = pfnl_msg_new(h, PFLASH_CMD_EXPORT,
					  NLM_F_DUMP);
	int ret;

	memset(s, 0, sizeof(*s));
	if (!msg)
		return -ENOMEM;
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, index);
	ret = pfnl_exec(h, msg, pft_export_msg, s);
	nlmsg_free(msg);
	if (!ret && s->gap)
		ret = -EPROTO;
	return ret;
}

static int pft_import_reply(struct nl_msg *msg, void *arg)
{
	return pfnl_dev_parse(msg, arg);
}

/*
 * Import @len bytes of @buf into device @index, in pieces of @chunk bytes.
 * @out gets the device if the stream was committed (out->attrs stays 0 if
 * not).  Returns 0, or the first piece's error.
 */
static inline int pft_import(struct pfnl *h, uint32_t index,
			     const uint8_t *buf, size_t len, size_t chunk,
			     struct pfnl_dev *out)
{
	size_t off = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	/* libnl's messages are a page unless told otherwise. */
	nlmsg_set_default_size(PFLASH_STREAM_CHUNK_MAX + 4096);
	while (!ret && off < len) {
		struct nl_msg *msg = pfnl_msg_new(h, PFLASH_CMD_IMPORT, 0);
		size_t n = len - off < chunk ? len - off : chunk;

		if (!msg)
			return -ENOMEM;
		if (nla_put_u32(msg, PFLASH_A_DEV_INDEX, index) ||
		    nla_put_u64(msg, PFLASH_A_DEV_STREAM_OFFSET, off) ||
		    nla_put(msg, PFLASH_A_DEV_STREAM_DATA, n, buf + off))
			ret = -EMSGSIZE;
		else
			ret = pfnl_exec(h, msg, pft_import_reply, out);
		nlmsg_free(msg);
		off += n;
	}
	return ret;
}

static inline struct pflash_stream_rec *pft_rec(const struct pft_stream *s,
						size_t off)
{
	return (struct pflash_stream_rec *)(s->buf + off);
}

/* The offset of the record after the one at @off. */
static inline size_t pft_rec_next(const struct pft_stream *s, size_t off)
{
	return off + REC_HDR + le32toh(pft_rec(s, off)->len);
}

/* Recompute the CRC of the record at @off after changing it. */
static inline void pft_rec_reseal(struct pft_stream *s, size_t off)
{
	struct pflash_stream_rec *rec = pft_rec(s, off);
	uint32_t crc;

	rec->crc = 0;
	crc = crc32_iscsi(s->buf + off, REC_HDR + le32toh(rec->len),
			  0xffffffff);
	rec->crc = htole32(~crc);
}

/* The offset of the record of type @type, the @nth one (from 0), or 0. */
static inline size_t pft_rec_find(const struct pft_stream *s, uint16_t type,
				  int nth)
{
	size_t off;

	for (off = 0; off + REC_HDR <= s->len; off = pft_rec_next(s, off))
		if (le16toh(pft_rec(s, off)->type) == type && !nth--)
			return off;
	return 0;
}

static inline struct pflash_stream_end *pft_stream_end(struct pft_stream *s)
{
	size_t off = pft_rec_find(s, PFLASH_REC_END, 0);

	return off ? (void *)(s->buf + off + REC_HDR) : NULL;
}

/* Decode @s into @image (@size bytes); 0 or -EINVAL. */
static inline int pft_stream_decode(const struct pft_stream *s,
				    uint8_t *image, uint64_t size)
{
	size_t off;

	for (off = 0; off + REC_HDR <= s->len; off = pft_rec_next(s, off)) {
		const struct pflash_stream_rec *rec = pft_rec(s, off);
		uint64_t o = le64toh(rec->offset), l = le64toh(rec->length);

		if (le16toh(rec->type) == PFLASH_REC_HEADER ||
		    le16toh(rec->type) == PFLASH_REC_END)
			continue;
		if (o + l > size)
			return -EINVAL;
		switch (le16toh(rec->type)) {
		case PFLASH_REC_DATA:
			memcpy(image + o, rec + 1, l);
			break;
		case PFLASH_REC_ERASED:
			memset(image + o, 0xff, l);
			break;
		case PFLASH_REC_ZERO:
			memset(image + o, 0, l);
			break;
		}
	}
	return 0;
}

/*
 * A small stream with every kind of record, exported from a device of
 * @size bytes made for it and destroyed after: erased flash, @blk bytes of
 * data (pattern @seed) at 4096, erased, @blk zero bytes at 8192, erased.
 * 0 or a negative errno.
 */
static inline int pft_sample_stream(struct pfnl *h, uint64_t size,
				    size_t blk, uint32_t seed,
				    struct pft_stream *out)
{
	struct pfnl_dev req = {}, src = {};
	uint8_t *buf = pft_alloc(blk);
	int fd, ret;

	if (!buf)
		return -ENOMEM;
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	ret = pft_create(h, &req, &src);
	if (ret)
		goto out;
	fd = pft_open(src.index, O_RDWR | O_DIRECT);
	if (fd < 0) {
		ret = -errno;
		goto out_destroy;
	}
	pft_pattern(buf, blk, 0, seed);
	ret = pft_pwrite_full(fd, buf, blk, 4096);
	memset(buf, 0, blk);
	if (!ret)
		ret = pft_pwrite_full(fd, buf, blk, 8192);
	close(fd);
	if (!ret)
		ret = pft_index_cmd(h, PFLASH_CMD_INACTIVATE, src.index, NULL);
	if (!ret)
		ret = pft_export(h, src.index, out);
out_destroy:
	if (pft_destroy(h, src.index) && !ret)
		ret = -EBUSY;
out:
	free(buf);
	return ret;
}

#endif /* PFT_STREAM_H */
