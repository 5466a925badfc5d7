// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: consuming the state stream of a device.
 *
 * An import arrives in pieces (one netlink message each, pflash_import()),
 * or is read from a file descriptor, a step at a time, with no lock held
 * (pflash_import_file_read(), through transfer.c).  Either way it is
 * checked as it arrives, record by record, into a staging buffer the size
 * of the device: every header field, every checksum, the order and coverage of
 * the extents, and at the end the totals; pflash_import_want() says where
 * the next bytes go, so that a DATA record's payload is read straight into
 * place.  Nothing of the device changes until the complete stream is
 * committed: then the staging buffer replaces the device's contents in
 * one step, under ctl_lock.  Any error ends the import and leaves the
 * device as it was.
 *
 * An import from a file belongs to the command reading it, which alone
 * frees it; the device only points at it, so that no other import starts
 * meanwhile, and whatever ends it (activation, destroy) only lets go of
 * it: the command finds that out when it takes ctl_lock to commit.
 *
 * The staging buffer is as large as the device, whose geometry the stream
 * must match, so a stream cannot make the kernel allocate more than the
 * device's size, whatever it claims.  What is wrong with a stream itself is
 * said before what is wrong with it for this device: a stream whose
 * geometry is not the device's is read and checked to its END record with
 * nothing staged, and refused there, as a stale one is.
 *
 * A live export's stream comes in passes (PASS records): pass 0 covers the
 * device as a whole stream does, and each later pass writes over the
 * staging buffer what changed meanwhile, its extents in increasing order.
 *
 * What the import owes the backing file: every byte of it, made equal to
 * the imported contents at activation (owner.c), which writes the whole
 * device unless it can prove less is enough.  For that proof, as each
 * extent lands in the staging buffer, the granules it makes differ from
 * the device's contents are noted (@owed), and the commit marks them
 * dirty: if the file is proven unchanged since it last held the device's
 * contents (backing.c), those granules are all it lacks.  And the END
 * record of a final stream may name the file mark of the device that
 * exported it (@file_token): the commit keeps it for activation to check.
 * An import in pieces compares under ctl_lock.  An import from a file
 * compares with no lock held, while an activation may replace the
 * device's contents (owner.c loads the file again) and a destruction free
 * them: it reads them in an RCU read-side critical section, and both free
 * the old contents only after a grace period.
 */
#include <linux/bitmap.h>
#include <linux/blkdev.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pflash.h"
#include "stream.h"

/* What this reader uses of the HEADER and END payloads is in version 1.0. */
static_assert(offsetofend(struct pflash_stream_info, uuid) ==
	      PFLASH_STREAM_INFO_LEN_1_0);
static_assert(offsetofend(struct pflash_stream_end, zero_bytes) ==
	      PFLASH_STREAM_END_LEN_1_0);
static_assert(sizeof(struct pflash_stream_end) == PFLASH_STREAM_END_LEN_1_2);
static_assert(sizeof(struct pflash_stream_pass) == PFLASH_STREAM_PASS_LEN_1_1);

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
 * @size: the device size the HEADER record gives; the extents must cover
 *	it, whether or not it is the device's (see @fits)
 * @fits: the HEADER record's geometry is the device's.  If it is not, the
 *	stream is still read and checked to its END record, with nothing
 *	staged, and refused there: see pflash_import_check_fit()
 * @staging: the new contents, allocated once the HEADER record checks out
 *	and @fits
 * @owed: the granules (as the device's dirty bits count them) that the
 *	stream makes differ from the device's contents, for a device that
 *	writes back; allocated with @staging
 * @next_offset: the device offset the next extent of pass 0 (or of a
 *	stream without passes) must start at
 * @live: the stream is a live export's, in passes
 * @passes: the PASS records so far: 0 for a stream without passes
 * @pass_final: the current pass is marked final: no other may follow
 * @pass_next: in a pass after the first, where its next extent may start
 * @totals: what the complete records before the current one count
 * @min_epoch: the device's epoch when the import began: the stream's may
 *	not be lower (checked at the END record, see pflash_import_check_fit())
 * @epoch: from the HEADER record
 * @uuid: from the HEADER record
 * @complete: the END record checked out
 * @final: the END record says the stream is final
 * @file_token: of a final stream, the mark its END record names (1.2), or
 *	0
 * @from_file: it is an import from a file, which its command frees
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
	u64 size;
	bool fits;
	u8 *staging;
	unsigned long *owed;
	u64 next_offset;
	bool live;
	u32 passes;
	bool pass_final;
	u64 pass_next;
	struct pflash_stream_totals totals;
	u64 min_epoch;
	u64 epoch;
	u8 uuid[PFLASH_UUID_LEN];
	bool complete;
	bool final;
	u64 file_token;
	bool from_file;
	u8 meta[PFLASH_STREAM_META_MAX];
};

/* Imports in progress, so that closing a socket costs nothing otherwise. */
static atomic_t pflash_imports = ATOMIC_INIT(0);

static struct pflash_import *pflash_import_new(struct pflash_dev *dev)
{
	struct pflash_import *imp = kzalloc_obj(*imp);

	if (imp)
		imp->min_epoch = dev->epoch;
	return imp;
}

static void pflash_import_free(struct pflash_import *imp)
{
	if (!imp)
		return;
	bitmap_free(imp->owed);
	/* Once committed, the old contents (pflash_blk_replace()). */
	pflash_blk_drop_contents(imp->staging);
	kfree(imp);
}

/**
 * pflash_import_end() - end the import on a device, if there is one
 * @dev: the device; called with its ctl_lock held
 *
 * Frees the import, whether it was unfinished or has just been committed;
 * an import from a file is only let go of, for its command to free.
 */
void pflash_import_end(struct pflash_dev *dev)
{
	struct pflash_import *imp = dev->import;

	lockdep_assert_held(&dev->ctl_lock);
	if (!imp)
		return;
	dev->import = NULL;
	if (imp->from_file)
		return;
	pflash_import_free(imp);
	atomic_dec(&pflash_imports);
}

/* Whether the current record is an extent (DATA, ERASED or ZERO). */
static bool pflash_import_is_extent(u16 type)
{
	return type == PFLASH_REC_DATA || type == PFLASH_REC_ERASED ||
	       type == PFLASH_REC_ZERO;
}

/* Whether the current record has its payload in @meta. */
static bool pflash_import_is_meta(u16 type)
{
	return type == PFLASH_REC_HEADER || type == PFLASH_REC_END ||
	       type == PFLASH_REC_PASS;
}

/* Whether the extents that come now are of a pass after the first. */
static bool pflash_import_in_later_pass(const struct pflash_import *imp)
{
	return imp->passes > 1;
}

/* Check an extent record's header against what came before. */
static int pflash_import_check_extent(struct pflash_import *imp,
				      struct netlink_ext_ack *extack)
{
	const struct pflash_import_rec *rec = &imp->rec;

	if (imp->live && !imp->passes) {
		NL_SET_ERR_MSG(extack,
			       "a live export's stream has an extent before its first pass");
		return -EINVAL;
	}
	if (pflash_import_in_later_pass(imp)) {
		if (rec->offset < imp->pass_next) {
			NL_SET_ERR_MSG(extack,
				       "an extent of a pass overlaps an earlier one of the same pass, or is out of order");
			return -EINVAL;
		}
	} else if (rec->offset < imp->next_offset) {
		NL_SET_ERR_MSG(extack,
			       "an extent overlaps an earlier one: records out of order or repeated");
		return -EINVAL;
	} else if (rec->offset > imp->next_offset) {
		NL_SET_ERR_MSG(extack,
			       "the extents leave a gap: a record is missing or out of order");
		return -EINVAL;
	}
	if (!rec->length || rec->length > imp->size - rec->offset) {
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
static int pflash_import_rec_begin(struct pflash_import *imp,
				   struct netlink_ext_ack *extack)
{
	static const u32 meta_len_min[] = {
		/* A header's versions, to read: the rest comes with them. */
		[PFLASH_REC_HEADER]	= PFLASH_STREAM_VERSION_LEN,
		[PFLASH_REC_END]	= PFLASH_STREAM_END_LEN_1_0,
		[PFLASH_REC_PASS]	= PFLASH_STREAM_PASS_LEN_1_1,
	};
	struct pflash_stream_rec raw = imp->raw;
	struct pflash_import_rec *rec = &imp->rec;

	rec->type = le16_to_cpu(raw.type);
	rec->flags = le16_to_cpu(raw.flags);
	rec->len = le32_to_cpu(raw.len);
	rec->crc = le32_to_cpu(raw.crc);
	rec->offset = le64_to_cpu(raw.offset);
	rec->length = le64_to_cpu(raw.length);

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
		int err = pflash_import_check_extent(imp, extack);

		if (err)
			return err;
	} else if (pflash_import_is_meta(rec->type)) {
		if (rec->offset || rec->length ||
		    rec->len < meta_len_min[rec->type] ||
		    rec->len > PFLASH_STREAM_META_MAX) {
			NL_SET_ERR_MSG(extack,
				       "a header, pass or end record has a bad length or offset");
			return -EINVAL;
		}
		if (rec->type == PFLASH_REC_PASS && !imp->live) {
			NL_SET_ERR_MSG(extack,
				       "a pass record in a stream that is not a live export's");
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
	u32 block_size, erase_size;

	if (le16_to_cpu(info->version_major) != PFLASH_STREAM_VERSION_MAJOR) {
		NL_SET_ERR_MSG(extack,
			       "the stream's major version is not one this kernel reads");
		return -EPROTONOSUPPORT;
	}
	if (imp->rec.len < PFLASH_STREAM_INFO_LEN_1_0) {
		NL_SET_ERR_MSG(extack, "the stream's header is too short");
		return -EINVAL;
	}
	imp->size = le64_to_cpu(info->size);
	block_size = le32_to_cpu(info->block_size);
	erase_size = le32_to_cpu(info->erase_size);
	if (!pflash_geometry_valid(imp->size, block_size, erase_size)) {
		NL_SET_ERR_MSG(extack,
			       "the stream's geometry (size, block size or erase size) is not one a device can have");
		return -EINVAL;
	}
	imp->live = le32_to_cpu(info->flags) & PFLASH_STREAM_INFO_F_LIVE;
	imp->epoch = le64_to_cpu(info->epoch);
	memcpy(imp->uuid, info->uuid, sizeof(imp->uuid));
	imp->fits = imp->size == dev->cfg.size &&
		    block_size == dev->cfg.block_size &&
		    erase_size == dev->cfg.erase_size;
	if (!imp->fits)
		return 0;

	imp->staging = __vmalloc(dev->cfg.size, GFP_KERNEL | __GFP_NOWARN);
	if (pflash_writes_back(dev))
		imp->owed = bitmap_zalloc(dev->nr_granules, GFP_KERNEL);
	if (!imp->staging || (pflash_writes_back(dev) && !imp->owed)) {
		NL_SET_ERR_MSG(extack, "not enough memory to stage the stream");
		return -ENOMEM;
	}
	return 0;
}

/*
 * A stream that checks out to its END record: whether it fits the device.
 * Only now, so that what is wrong with a stream itself is said before what
 * is wrong with it for this device (Documentation/pflash/stream-format.rst,
 * "What a reader checks"): a damaged stream is called damaged, not stale.
 */
static int pflash_import_check_fit(struct pflash_import *imp,
				   struct netlink_ext_ack *extack)
{
	if (!imp->fits) {
		NL_SET_ERR_MSG(extack,
			       "the stream's geometry (size, block size or erase size) is not the device's");
		return -EINVAL;
	}
	if (imp->epoch < imp->min_epoch) {
		NL_SET_ERR_MSG(extack,
			       "the stream is stale: its epoch is lower than the device's");
		return -ESTALE;
	}
	return 0;
}

/* Check the END record's payload against the stream before it. */
static int pflash_import_check_end(struct pflash_import *imp,
				   struct netlink_ext_ack *extack)
{
	const struct pflash_stream_end *end = (const void *)imp->meta;
	int err;

	if (imp->next_offset != imp->size) {
		NL_SET_ERR_MSG(extack,
			       "the stream ends before it covers the whole device");
		return -EINVAL;
	}
	if (!pflash_stream_end_matches(end, &imp->totals, imp->rec_start)) {
		NL_SET_ERR_MSG(extack,
			       "the end record's totals do not match the stream");
		return -EINVAL;
	}
	imp->final = le32_to_cpu(end->flags) & PFLASH_STREAM_END_F_FINAL;
	if (imp->live && imp->final && !imp->pass_final) {
		NL_SET_ERR_MSG(extack,
			       "the stream says it is final, but its last pass is not");
		return -EINVAL;
	}
	err = pflash_import_check_fit(imp, extack);
	if (err)
		return err;
	if (imp->final && imp->rec.len >= PFLASH_STREAM_END_LEN_1_2)
		imp->file_token = le64_to_cpu(end->file_token);
	imp->complete = true;
	return 0;
}

/* A PASS record: the next pass begins, once pass 0 covers the device. */
static int pflash_import_pass(struct pflash_import *imp,
			      struct netlink_ext_ack *extack)
{
	const struct pflash_stream_pass *pass = (const void *)imp->meta;

	if (le32_to_cpu(pass->pass) != imp->passes) {
		NL_SET_ERR_MSG(extack,
			       "the stream's passes are out of order or repeated");
		return -EINVAL;
	}
	if (imp->passes && imp->next_offset != imp->size) {
		NL_SET_ERR_MSG(extack,
			       "a pass begins before the first covers the whole device");
		return -EINVAL;
	}
	if (imp->pass_final) {
		NL_SET_ERR_MSG(extack, "a pass follows the final pass");
		return -EINVAL;
	}
	imp->pass_final = le32_to_cpu(pass->flags) & PFLASH_STREAM_PASS_F_FINAL;
	imp->passes++;
	imp->pass_next = 0;
	return 0;
}

/*
 * Note the granules of [@offset, @offset + @length), just staged, that now
 * differ from the device's contents: the commit leaves them owed.
 */
static void pflash_import_note(struct pflash_dev *dev,
			       struct pflash_import *imp, u64 offset,
			       u64 length)
{
	unsigned int shift = dev->dirty_shift;
	u64 end = offset + length, next;
	const u8 *data;
	unsigned long g;

	if (!imp->owed)
		return;
	rcu_read_lock();
	data = READ_ONCE(dev->data);
	for (g = offset >> shift; offset < end; g++, offset = next) {
		next = min_t(u64, end, ((u64)g + 1) << shift);
		if (!test_bit(g, imp->owed) &&
		    (!data || memcmp(imp->staging + offset, data + offset,
				     next - offset)))
			__set_bit(g, imp->owed);
	}
	rcu_read_unlock();
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
		if (imp->staging)
			memset(imp->staging + rec->offset, PFLASH_ERASED_BYTE,
			       rec->length);
		break;
	case PFLASH_REC_ZERO:
		if (imp->staging)
			memset(imp->staging + rec->offset, 0, rec->length);
		break;
	case PFLASH_REC_END:
		return pflash_import_check_end(imp, extack);
	case PFLASH_REC_PASS:
		err = pflash_import_pass(imp, extack);
		break;
	}
	if (pflash_import_is_extent(rec->type)) {
		pflash_import_note(dev, imp, rec->offset, rec->length);
		if (pflash_import_in_later_pass(imp))
			imp->pass_next = rec->offset + rec->length;
		else
			imp->next_offset = rec->offset + rec->length;
	}
	pflash_stream_count(&imp->totals, rec->type, rec->length);
	imp->rec_have = 0;
	imp->payload_have = 0;
	return err;
}

/* Where the payload bytes of the current record go, or NULL to skip them. */
static u8 *pflash_import_payload_dest(struct pflash_import *imp)
{
	if (pflash_import_is_meta(imp->rec.type))
		return imp->meta + imp->payload_have;
	if (imp->rec.type == PFLASH_REC_DATA && imp->staging)
		return imp->staging + imp->rec.offset + imp->payload_have;
	return NULL;
}

/*
 * How many bytes of the stream come next, and where they go (*@dest): the
 * rest of the current record's header, or of its payload; *@dest is NULL
 * for a payload that is skipped.
 */
static u32 pflash_import_want(struct pflash_import *imp, u8 **dest)
{
	if (imp->rec_have < sizeof(imp->raw)) {
		*dest = (u8 *)&imp->raw + imp->rec_have;
		return sizeof(imp->raw) - imp->rec_have;
	}
	*dest = pflash_import_payload_dest(imp);
	return imp->rec.len - imp->payload_have;
}

/*
 * @n of the bytes pflash_import_want() asked for have arrived, at @p (in
 * place, or, for a payload that is skipped, wherever they are): check
 * them, and the record they complete.
 */
static int pflash_import_took(struct pflash_dev *dev, struct pflash_import *imp,
			      const u8 *p, u32 n, struct netlink_ext_ack *extack)
{
	int err;

	if (!imp->rec_have)
		imp->rec_start = imp->received;
	imp->received += n;
	if (imp->rec_have < sizeof(imp->raw)) {
		imp->rec_have += n;
		if (imp->rec_have < sizeof(imp->raw))
			return 0;
		err = pflash_import_rec_begin(imp, extack);
		if (err)
			return err;
	} else {
		imp->crc = crc32c(imp->crc, p, n);
		imp->payload_have += n;
	}
	if (imp->payload_have < imp->rec.len)
		return 0;
	return pflash_import_rec_end(dev, imp, extack);
}

/* Take @len bytes of the stream, from a netlink message. */
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
		n = min(len, pflash_import_want(imp, &dest));
		if (dest)
			memcpy(dest, buf, n);
		err = pflash_import_took(dev, imp, dest ?: buf, n, extack);
		if (err)
			return err;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Whether @dev may take an import, in pieces or from a file: only while
 * inactive, and never once it lost its backing file's lock (owner.c).
 */
static int pflash_import_may_start(struct pflash_dev *dev,
				   struct netlink_ext_ack *extack)
{
	int err;

	err = pflash_backing_refuse_lost(dev, extack);
	if (err)
		return err;
	if (dev->state != PFLASH_STATE_INACTIVE) {
		NL_SET_ERR_MSG(extack,
			       "the device is active: inactivate it before importing");
		return -EBUSY;
	}
	return 0;
}

/* Make the staged contents the device's, in one step (pflash_blk_replace()). */
static void pflash_import_commit(struct pflash_dev *dev,
				 struct pflash_import *imp)
{
	pflash_blk_replace(dev, &imp->staging);
	/*
	 * What differs from the file is owed to it, with what was dirty
	 * before (an activation's flush that failed).
	 */
	if (imp->owed) {
		mutex_lock(&dev->wb_lock);
		pflash_wb_mark_owed(dev, imp->owed);
		mutex_unlock(&dev->wb_lock);
	}

	/* A live export of the old contents could not follow the change. */
	pflash_live_end(dev);
	dev->epoch = imp->epoch;
	memcpy(dev->uuid, imp->uuid, sizeof(dev->uuid));
	dev->flush_pending = pflash_writes_back(dev);
	dev->claim = imp->file_token;
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
	if (dev->import && dev->import->from_file) {
		NL_SET_ERR_MSG(extack,
			       "an import from a file descriptor is in progress");
		return -EBUSY;
	}
	err = pflash_import_may_start(dev, extack);
	if (err) {
		pflash_import_end(dev);
		return err;
	}
	if (!offset) {
		pflash_import_end(dev);
		imp = pflash_import_new(dev);
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

/**
 * pflash_import_release() - end the import a socket was sending, if any
 * @dev: the device; called with its ctl_lock held
 * @portid: the socket, which is gone
 */
void pflash_import_release(struct pflash_dev *dev, u32 portid)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (dev->import && !dev->import->from_file &&
	    dev->import->portid == portid)
		pflash_import_end(dev);
}

/* The imports in pieces in progress, for pflash_dev_release_socket(). */
unsigned int pflash_import_count(void)
{
	return atomic_read(&pflash_imports);
}

/* The bytes an import from a file reads at a time, at the most. */
#define PFLASH_IMPORT_STEP	SZ_1M

/*
 * Start an import from a file: the device must be inactive, and no other
 * import from a file may run.  Called with ctl_lock held.
 */
static struct pflash_import *pflash_import_file_start(struct pflash_dev *dev,
						      struct netlink_ext_ack *extack)
{
	struct pflash_import *imp;
	int err;

	err = pflash_import_may_start(dev, extack);
	if (err)
		return ERR_PTR(err);
	if (dev->import && dev->import->from_file) {
		NL_SET_ERR_MSG(extack,
			       "an import from a file descriptor is in progress");
		return ERR_PTR(-EBUSY);
	}
	imp = pflash_import_new(dev);
	if (!imp) {
		NL_SET_ERR_MSG(extack, "not enough memory to start the import");
		return ERR_PTR(-ENOMEM);
	}
	/* An unfinished import in pieces gives way, as to a new one. */
	pflash_import_end(dev);
	imp->from_file = true;
	dev->import = imp;
	return imp;
}

/* Read the stream from @file into @imp, up to its END record. */
static int pflash_import_file_read_all(struct pflash_dev *dev,
				       struct pflash_import *imp,
				       struct file *file, u8 *scratch,
				       struct netlink_ext_ack *extack)
{
	loff_t pos = file->f_pos;
	ssize_t n;
	u8 *dest;
	u32 want;
	int err;

	while (!imp->complete) {
		want = min_t(u32, pflash_import_want(imp, &dest),
			     PFLASH_IMPORT_STEP);
		if (!dest) {
			dest = scratch;
			want = min_t(u32, want, PFLASH_STREAM_DATA_MAX);
		}
		n = pflash_transfer_read(file, &pos, dest, want, extack);
		if (n < 0)
			return n;
		if (n < want) {
			NL_SET_ERR_MSG(extack,
				       "the stream is truncated: it ends before its end record");
			return -EINVAL;
		}
		err = pflash_import_took(dev, imp, dest, n, extack);
		if (err)
			return err;
	}
	/* Nothing may follow the END record. */
	n = pflash_transfer_read(file, &pos, scratch, 1, extack);
	if (n < 0)
		return n;
	if (n) {
		NL_SET_ERR_MSG(extack, "there is data after the end record");
		return -EINVAL;
	}
	return 0;
}

/* Let go of @imp, which failed, and free it; the device is as it was. */
static void pflash_import_file_drop(struct pflash_dev *dev,
				    struct pflash_import *imp)
{
	/* A dying device's ctl_lock still guards its import. */
	mutex_lock(&dev->ctl_lock);
	if (dev->import == imp)
		dev->import = NULL;
	mutex_unlock(&dev->ctl_lock);
	pflash_import_free(imp);
}

/**
 * pflash_import_file_read() - read and check a state stream from a file
 * @dev: the device, with a reference held by the caller
 * @file: from pflash_transfer_open(), open for reading
 * @extack: where to say why it failed
 *
 * The device must be inactive, and stays as it was: the stream is read
 * and checked into a staging buffer with no lock held, and
 * pflash_import_file_commit() commits it.  Meanwhile no other import of
 * the device starts; activating or destroying the device lets go of it.
 * Called, and returns, with no lock held.
 *
 * Return: the import, complete, for pflash_import_file_commit() and then
 * pflash_import_file_free(); or an ERR_PTR, with the device as it was.
 */
struct pflash_import *pflash_import_file_read(struct pflash_dev *dev,
					      struct file *file,
					      struct netlink_ext_ack *extack)
{
	struct pflash_import *imp;
	u8 *scratch;
	int err;

	scratch = kvmalloc(PFLASH_STREAM_DATA_MAX, GFP_KERNEL);
	if (!scratch) {
		NL_SET_ERR_MSG(extack, "not enough memory to start the import");
		return ERR_PTR(-ENOMEM);
	}
	err = pflash_dev_lock_live(dev, extack);
	if (err) {
		imp = ERR_PTR(err);
		goto out_free_scratch;
	}
	imp = pflash_import_file_start(dev, extack);
	mutex_unlock(&dev->ctl_lock);
	if (IS_ERR(imp))
		goto out_free_scratch;

	err = pflash_import_file_read_all(dev, imp, file, scratch, extack);
	if (err) {
		pflash_import_file_drop(dev, imp);
		imp = ERR_PTR(err);
	}
out_free_scratch:
	kvfree(scratch);
	return imp;
}

/**
 * pflash_import_file_commit() - commit an import from a file
 * @dev: the device; called with its ctl_lock held, and live
 * @imp: from pflash_import_file_read()
 * @res: what the import read
 * @extack: where to say why it failed
 *
 * Return: 0 once the stream is committed; -EBUSY, with the device as it
 * was, if activating the device ended the import meanwhile.
 */
int pflash_import_file_commit(struct pflash_dev *dev,
			      struct pflash_import *imp,
			      struct pflash_transfer_result *res,
			      struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (dev->import != imp) {
		NL_SET_ERR_MSG(extack,
			       "the device was activated during the import");
		return -EBUSY;
	}
	pflash_import_commit(dev, imp);
	dev->import = NULL;
	res->stream_bytes = imp->received;
	res->final = imp->final;
	return 0;
}

/**
 * pflash_import_file_free() - free an import from a file
 * @imp: from pflash_import_file_read(), which no device points at any more:
 *	committed, or ended by the device's destruction
 */
void pflash_import_file_free(struct pflash_import *imp)
{
	pflash_import_free(imp);
}
