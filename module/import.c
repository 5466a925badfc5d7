// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: consuming the state stream of a device.
 *
 * An import arrives in pieces (one netlink message each) and is checked as
 * it arrives, record by record, into a staging buffer the size of the
 * device: every header field, every checksum, the order and coverage of
 * the extents, and at the end the totals.  Nothing of the device changes
 * until the piece that completes the stream commits it: then the staging
 * buffer replaces the device's contents in one step.  Any error ends the
 * import and leaves the device as it was.
 *
 * The staging buffer is as large as the device, whose geometry the stream
 * must match, so a stream cannot make the kernel allocate more than the
 * device's size, whatever it claims.
 */
#include <linux/bitmap.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pflash.h"
#include "stream.h"

/* What this reader uses of the HEADER and END payloads is in version 1.0. */
static_assert(offsetofend(struct pflash_stream_info, uuid) ==
	      PFLASH_STREAM_INFO_LEN_1_0);
static_assert(offsetofend(struct pflash_stream_end, zero_bytes) ==
	      PFLASH_STREAM_END_LEN_1_0);

/**
 * struct pflash_import_rec - a record's header, decoded
 * @type: &enum pflash_stream_rec_type
 * @flags: PFLASH_REC_F_*
 * @len: payload bytes
 * @crc: the checksum the record carries
 * @offset: for an extent, where it starts on the device
 * @length: for an extent, the device bytes it covers
 */
struct pflash_import_rec {
	u16 type;
	u16 flags;
	u32 len;
	u32 crc;
	u64 offset;
	u64 length;
};

/**
 * struct pflash_import - an import in progress
 * @portid: the netlink socket it comes from
 * @received: stream bytes taken so far
 * @rec_start: where in the stream the current record started
 * @raw: the header of the current record, as far as it has arrived
 * @rec_have: bytes of @raw that have arrived
 * @rec: @raw decoded, once it has arrived in full
 * @payload_have: bytes of its payload that have arrived
 * @crc: the running CRC-32C of the current record
 * @staging: the new contents, allocated once the HEADER record checks out
 * @next_offset: the device offset the next extent must start at
 * @totals: what the complete records before the current one count
 * @epoch: from the HEADER record
 * @uuid: from the HEADER record
 * @complete: the END record checked out
 * @meta: the payload of the current HEADER or END record
 */
struct pflash_import {
	u32 portid;
	u64 received;
	u64 rec_start;
	struct pflash_stream_rec raw;
	u32 rec_have;
	struct pflash_import_rec rec;
	u32 payload_have;
	u32 crc;
	u8 *staging;
	u64 next_offset;
	struct pflash_stream_totals totals;
	u64 epoch;
	u8 uuid[PFLASH_UUID_LEN];
	bool complete;
	u8 meta[PFLASH_STREAM_META_MAX];
};

/* Imports in progress, so that closing a socket costs nothing otherwise. */
static atomic_t pflash_imports = ATOMIC_INIT(0);

/**
 * pflash_import_end() - end the import on a device, if there is one
 * @dev: the device; called with its ctl_lock held
 *
 * Frees the import, whether it was unfinished or has just been committed.
 */
void pflash_import_end(struct pflash_dev *dev)
{
	struct pflash_import *imp = dev->import;

	lockdep_assert_held(&dev->ctl_lock);
	if (!imp)
		return;
	dev->import = NULL;
	vfree(imp->staging);
	kfree(imp);
	atomic_dec(&pflash_imports);
}

/* Whether the current record is an extent (DATA, ERASED or ZERO). */
static bool pflash_import_is_extent(u16 type)
{
	return type == PFLASH_REC_DATA || type == PFLASH_REC_ERASED ||
	       type == PFLASH_REC_ZERO;
}

/* Check an extent record's header against what came before. */
static int pflash_import_check_extent(struct pflash_dev *dev,
				      struct pflash_import *imp,
				      struct netlink_ext_ack *extack)
{
	const struct pflash_import_rec *rec = &imp->rec;

	if (rec->offset < imp->next_offset) {
		NL_SET_ERR_MSG(extack,
			       "an extent overlaps an earlier one: records out of order or repeated");
		return -EINVAL;
	}
	if (rec->offset > imp->next_offset) {
		NL_SET_ERR_MSG(extack,
			       "the extents leave a gap: a record is missing or out of order");
		return -EINVAL;
	}
	if (!rec->length || rec->length > dev->cfg.size - rec->offset) {
		NL_SET_ERR_MSG(extack,
			       "an extent is empty or goes beyond the end of the device");
		return -EINVAL;
	}
	if (rec->type == PFLASH_REC_DATA ?
	    rec->len != rec->length || rec->len > PFLASH_STREAM_DATA_MAX :
	    rec->len) {
		NL_SET_ERR_MSG(extack,
			       "an extent's payload does not match its length");
		return -EINVAL;
	}
	return 0;
}

/* Decode and check the header of a record that has just arrived in full. */
static int pflash_import_rec_begin(struct pflash_dev *dev,
				   struct pflash_import *imp,
				   struct netlink_ext_ack *extack)
{
	struct pflash_stream_rec raw = imp->raw;
	struct pflash_import_rec *rec = &imp->rec;
	bool meta;

	rec->type = le16_to_cpu(raw.type);
	rec->flags = le16_to_cpu(raw.flags);
	rec->len = le32_to_cpu(raw.len);
	rec->crc = le32_to_cpu(raw.crc);
	rec->offset = le64_to_cpu(raw.offset);
	rec->length = le64_to_cpu(raw.length);
	meta = rec->type == PFLASH_REC_HEADER || rec->type == PFLASH_REC_END;

	if (le32_to_cpu(raw.magic) != PFLASH_STREAM_MAGIC) {
		NL_SET_ERR_MSG(extack,
			       "not a pflash state stream, or a record is damaged (bad magic)");
		return -EINVAL;
	}
	if (rec->flags & ~PFLASH_REC_F_KNOWN) {
		NL_SET_ERR_MSG(extack,
			       "a record has flags this kernel does not know: the stream needs a newer reader");
		return -EPROTONOSUPPORT;
	}
	if (!imp->totals.records && rec->type != PFLASH_REC_HEADER) {
		NL_SET_ERR_MSG(extack, "the stream does not start with a header");
		return -EINVAL;
	}
	if (imp->totals.records && rec->type == PFLASH_REC_HEADER) {
		NL_SET_ERR_MSG(extack, "the stream has a second header");
		return -EINVAL;
	}
	if (pflash_import_is_extent(rec->type)) {
		int err = pflash_import_check_extent(dev, imp, extack);

		if (err)
			return err;
	} else if (meta) {
		/*
		 * Only the versions are needed to read a header: the rest
		 * of its length is checked once its major version is known.
		 */
		if (rec->offset || rec->length ||
		    rec->len < (rec->type == PFLASH_REC_HEADER ?
				PFLASH_STREAM_VERSION_LEN :
				PFLASH_STREAM_END_LEN_1_0) ||
		    rec->len > PFLASH_STREAM_META_MAX) {
			NL_SET_ERR_MSG(extack,
				       "a header or end record has a bad length or offset");
			return -EINVAL;
		}
	} else if (!(rec->flags & PFLASH_REC_F_OPTIONAL)) {
		NL_SET_ERR_MSG(extack,
			       "a record has a type this kernel does not know: the stream needs a newer reader");
		return -EPROTONOSUPPORT;
	} else if (rec->len > PFLASH_STREAM_DATA_MAX) {
		NL_SET_ERR_MSG(extack, "an optional record is too long");
		return -EINVAL;
	}

	raw.crc = 0;
	imp->crc = crc32c(PFLASH_STREAM_CRC_INIT, &raw, sizeof(raw));
	return 0;
}

static int pflash_import_header(struct pflash_dev *dev,
				struct pflash_import *imp,
				struct netlink_ext_ack *extack)
{
	const struct pflash_stream_info *info = (const void *)imp->meta;

	if (le16_to_cpu(info->version_major) != PFLASH_STREAM_VERSION_MAJOR) {
		NL_SET_ERR_MSG(extack,
			       "the stream's major version is not one this kernel reads");
		return -EPROTONOSUPPORT;
	}
	if (imp->rec.len < PFLASH_STREAM_INFO_LEN_1_0) {
		NL_SET_ERR_MSG(extack, "the stream's header is too short");
		return -EINVAL;
	}
	if (le64_to_cpu(info->size) != dev->cfg.size ||
	    le32_to_cpu(info->block_size) != dev->cfg.block_size ||
	    le32_to_cpu(info->erase_size) != dev->cfg.erase_size) {
		NL_SET_ERR_MSG(extack,
			       "the stream's geometry (size, block size or erase size) is not the device's");
		return -EINVAL;
	}
	imp->epoch = le64_to_cpu(info->epoch);
	if (imp->epoch < dev->epoch) {
		NL_SET_ERR_MSG(extack,
			       "the stream is stale: its epoch is lower than the device's");
		return -ESTALE;
	}
	memcpy(imp->uuid, info->uuid, sizeof(imp->uuid));

	imp->staging = __vmalloc(dev->cfg.size, GFP_KERNEL | __GFP_NOWARN);
	if (!imp->staging) {
		NL_SET_ERR_MSG(extack, "not enough memory to stage the stream");
		return -ENOMEM;
	}
	return 0;
}

/* Check the END record's payload against the stream before it. */
static int pflash_import_check_end(struct pflash_dev *dev,
				   struct pflash_import *imp,
				   struct netlink_ext_ack *extack)
{
	const struct pflash_stream_end *end = (const void *)imp->meta;

	if (imp->next_offset != dev->cfg.size) {
		NL_SET_ERR_MSG(extack,
			       "the stream ends before it covers the whole device");
		return -EINVAL;
	}
	if (!pflash_stream_end_matches(end, &imp->totals, imp->rec_start)) {
		NL_SET_ERR_MSG(extack,
			       "the end record's totals do not match the stream");
		return -EINVAL;
	}
	imp->complete = true;
	return 0;
}

/* A record has arrived in full, payload and all. */
static int pflash_import_rec_end(struct pflash_dev *dev,
				 struct pflash_import *imp,
				 struct netlink_ext_ack *extack)
{
	const struct pflash_import_rec *rec = &imp->rec;
	int err = 0;

	if (pflash_stream_crc_final(imp->crc) != rec->crc) {
		NL_SET_ERR_MSG(extack,
			       "a record's checksum does not match: the stream is damaged");
		return -EBADMSG;
	}
	switch (rec->type) {
	case PFLASH_REC_HEADER:
		err = pflash_import_header(dev, imp, extack);
		break;
	case PFLASH_REC_ERASED:
		memset(imp->staging + rec->offset, PFLASH_ERASED_BYTE,
		       rec->length);
		break;
	case PFLASH_REC_ZERO:
		memset(imp->staging + rec->offset, 0, rec->length);
		break;
	case PFLASH_REC_END:
		return pflash_import_check_end(dev, imp, extack);
	}
	if (pflash_import_is_extent(rec->type))
		imp->next_offset = rec->offset + rec->length;
	pflash_stream_count(&imp->totals, rec->type, rec->length);
	imp->rec_have = 0;
	imp->payload_have = 0;
	return err;
}

/* Where the payload bytes of the current record go, or NULL to skip them. */
static u8 *pflash_import_payload_dest(struct pflash_import *imp)
{
	switch (imp->rec.type) {
	case PFLASH_REC_HEADER:
	case PFLASH_REC_END:
		return imp->meta + imp->payload_have;
	case PFLASH_REC_DATA:
		return imp->staging + imp->rec.offset + imp->payload_have;
	default:
		return NULL;
	}
}

/* Take @len bytes of the stream. */
static int pflash_import_feed(struct pflash_dev *dev, struct pflash_import *imp,
			      const u8 *buf, u32 len,
			      struct netlink_ext_ack *extack)
{
	u8 *dest;
	u32 n;
	int err;

	while (len) {
		if (imp->complete) {
			NL_SET_ERR_MSG(extack,
				       "there is data after the end record");
			return -EINVAL;
		}
		if (imp->rec_have < sizeof(imp->raw)) {
			if (!imp->rec_have)
				imp->rec_start = imp->received;
			n = min_t(u32, len, sizeof(imp->raw) - imp->rec_have);
			memcpy((u8 *)&imp->raw + imp->rec_have, buf, n);
			imp->rec_have += n;
		} else {
			n = min(len, imp->rec.len - imp->payload_have);
			dest = pflash_import_payload_dest(imp);
			if (dest)
				memcpy(dest, buf, n);
			imp->crc = crc32c(imp->crc, buf, n);
			imp->payload_have += n;
		}
		buf += n;
		len -= n;
		imp->received += n;

		if (imp->rec_have < sizeof(imp->raw))
			continue;
		if (!imp->payload_have) {
			err = pflash_import_rec_begin(dev, imp, extack);
			if (err)
				return err;
		}
		if (imp->payload_have == imp->rec.len) {
			err = pflash_import_rec_end(dev, imp, extack);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * Replace the device's contents with the staged ones, in one step: the
 * queue is frozen, so no bio is served from a mix.  No writeback pass
 * reads them meanwhile: the device is inactive, so passes write nothing
 * (and activation, which changes that, takes ctl_lock, which we hold; see
 * "Locking" in pflash.h).  The page cache of the old contents goes too.
 */
static void pflash_import_commit(struct pflash_dev *dev,
				 struct pflash_import *imp)
{
	struct request_queue *q = dev->disk->queue;
	unsigned int memflags;

	memflags = blk_mq_freeze_queue(q);
	swap(dev->data, imp->staging);
	blk_mq_unfreeze_queue(q, memflags);
	invalidate_bdev(dev->disk->part0);
	/* Whatever was dirty is owed in full now. */
	if (dev->dirty) {
		mutex_lock(&dev->wb_lock);
		bitmap_zero(dev->dirty, dev->nr_granules);
		mutex_unlock(&dev->wb_lock);
	}

	dev->epoch = imp->epoch;
	memcpy(dev->uuid, imp->uuid, sizeof(dev->uuid));
	dev->flush_pending = pflash_writes_back(dev);
	dev->content_gen++;
	pflash_sysfs_changed(dev);
}

/**
 * pflash_import() - take a piece of an import
 * @dev: the device; called with its ctl_lock held
 * @portid: the netlink socket the piece came from
 * @offset: where in the stream the piece belongs
 * @buf: the piece
 * @len: its length
 * @committed: set if this piece completed the stream and it was committed
 * @extack: where to say what is wrong
 *
 * Return: 0, or an error that ended the import with the device unchanged.
 */
int pflash_import(struct pflash_dev *dev, u32 portid, u64 offset,
		  const u8 *buf, u32 len, bool *committed,
		  struct netlink_ext_ack *extack)
{
	struct pflash_import *imp;
	int err;

	lockdep_assert_held(&dev->ctl_lock);
	*committed = false;
	if (dev->state != PFLASH_STATE_INACTIVE) {
		NL_SET_ERR_MSG(extack,
			       "the device is active: inactivate it before importing");
		pflash_import_end(dev);
		return -EBUSY;
	}
	if (!offset) {
		pflash_import_end(dev);
		imp = kzalloc_obj(*imp);
		if (!imp) {
			NL_SET_ERR_MSG(extack, "not enough memory to start the import");
			return -ENOMEM;
		}
		imp->portid = portid;
		atomic_inc(&pflash_imports);
		dev->import = imp;
	}
	imp = dev->import;
	if (!imp || imp->portid != portid || imp->received != offset) {
		NL_SET_ERR_MSG(extack,
			       "this piece does not continue an import in progress; start again at offset 0");
		return -EINVAL;
	}

	err = pflash_import_feed(dev, imp, buf, len, extack);
	if (err) {
		pflash_import_end(dev);
		return err;
	}
	if (imp->complete) {
		pflash_import_commit(dev, imp);
		pflash_import_end(dev);
		*committed = true;
	}
	return 0;
}

/* The socket @portid is gone: end the imports it was sending. */
void pflash_import_release(u32 portid)
{
	struct pflash_dev *dev;
	u32 index = 0;

	if (!atomic_read(&pflash_imports))
		return;
	while ((dev = pflash_dev_get_next(&index))) {
		/* A dying device ended its import already. */
		if (!pflash_dev_lock_live(dev, NULL)) {
			if (dev->import && dev->import->portid == portid)
				pflash_import_end(dev);
			mutex_unlock(&dev->ctl_lock);
		}
		pflash_dev_put(dev);
		index++;
	}
}
