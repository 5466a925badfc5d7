// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: producing the state stream of a device.
 *
 * An export hands out the stream a step at a time, under the device's
 * ctl_lock: a MiB of whole records into a file descriptor
 * (pflash_export_file(), through transfer.c), each record built where it
 * goes; or a netlink message's worth of bytes (pflash_export_read(), for
 * a dump), built one record at a time in a buffer of the export's own.
 * The payload of a DATA record is copied before its checksum is taken, so
 * that every record is consistent in itself even if the device is active
 * and written meanwhile; only the export of a device that stays inactive
 * throughout is final.
 *
 * Extents are found at the granularity of the logical block size: a run of
 * erased (all 0xff) or zero blocks becomes one ERASED or ZERO record,
 * whatever its length; other blocks go into DATA records of at most
 * PFLASH_STREAM_DATA_MAX bytes.
 *
 * A stream can come in passes, for a live export (live.c), which drives
 * it: pass 0 covers the device, each later one the granules the caller
 * names, each begun by a PASS record; the export stops at the end of each
 * pass, until pflash_export_next_pass() starts the next, and the final
 * pass ends with the END record.  This file knows nothing of who drives
 * the passes, nor of what changed between them.
 */
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pflash.h"
#include "stream.h"

/* The largest record: a header and the largest payload. */
#define PFLASH_EXPORT_REC_MAX \
	(sizeof(struct pflash_stream_rec) + PFLASH_STREAM_DATA_MAX)

/* The stream bytes an export into a file builds and writes at a time. */
#define PFLASH_EXPORT_STEP	SZ_1M

enum pflash_export_step {
	PFLASH_EXPORT_HEADER,
	PFLASH_EXPORT_PASS,
	PFLASH_EXPORT_EXTENTS,
	PFLASH_EXPORT_PASSED,
	PFLASH_EXPORT_END,
	PFLASH_EXPORT_DONE,
};

/**
 * struct pflash_export - an export in progress
 * @dev: the device
 * @step: which record comes next
 * @offset: the device offset the next extent starts at
 * @limit: where the run of granules it is in ends
 * @stream_pos: stream bytes handed out so far
 * @rec_len: bytes of the current record in @rec
 * @rec_pos: bytes of it handed out so far
 * @totals: what the records built so far count
 * @start_inactive: the device was inactive when the export began
 * @start_gen: its content_gen then
 * @final: the END record says the stream is final
 * @live: it is a live export, in passes
 * @pass: the number of its current pass
 * @pass_final: the current pass is the last
 * @pass_gen: the device's content_gen when the current pass began
 * @ranges: the granules the current pass covers; NULL for all of them
 * @rec: the current record, for pflash_export_read(): header and payload
 */
struct pflash_export {
	struct pflash_dev *dev;
	enum pflash_export_step step;
	u64 offset;
	u64 limit;
	u64 stream_pos;
	u32 rec_len;
	u32 rec_pos;
	struct pflash_stream_totals totals;
	bool start_inactive;
	u64 start_gen;
	bool final;
	bool live;
	u32 pass;
	bool pass_final;
	u64 pass_gen;
	const unsigned long *ranges;
	u8 rec[PFLASH_EXPORT_REC_MAX];
};

/* Called with dev->ctl_lock held. */
struct pflash_export *pflash_export_start(struct pflash_dev *dev)
{
	struct pflash_export *ex;

	ex = kvzalloc_obj(*ex);
	if (!ex)
		return NULL;
	ex->dev = dev;
	ex->start_inactive = dev->state == PFLASH_STATE_INACTIVE;
	ex->start_gen = dev->content_gen;
	return ex;
}

void pflash_export_free(struct pflash_export *ex)
{
	kvfree(ex);
}

/*
 * Finish the record at @buf: fill in its header and checksum.  Its @len
 * bytes of payload are in place already.
 */
static void pflash_export_seal(struct pflash_export *ex, u8 *buf, u16 type,
			       u64 offset, u64 length, u32 len)
{
	struct pflash_stream_rec *rec = (struct pflash_stream_rec *)buf;
	u32 crc;

	rec->magic = cpu_to_le32(PFLASH_STREAM_MAGIC);
	rec->type = cpu_to_le16(type);
	rec->flags = 0;
	rec->len = cpu_to_le32(len);
	rec->crc = 0;
	rec->offset = cpu_to_le64(offset);
	rec->length = cpu_to_le64(length);
	crc = crc32c(PFLASH_STREAM_CRC_INIT, buf, sizeof(*rec) + len);
	rec->crc = cpu_to_le32(pflash_stream_crc_final(crc));

	ex->rec_len = sizeof(*rec) + len;
	ex->rec_pos = 0;
	pflash_stream_count(&ex->totals, type, length);
}

/* Where the payload of the record built at @buf goes. */
static void *pflash_export_payload(u8 *buf)
{
	return buf + sizeof(struct pflash_stream_rec);
}

static void pflash_export_header(struct pflash_export *ex, u8 *buf)
{
	struct pflash_stream_info *info = pflash_export_payload(buf);
	struct pflash_dev *dev = ex->dev;
	u32 flags = 0;

	if (dev->cfg.read_only)
		flags |= PFLASH_STREAM_INFO_F_READ_ONLY;
	if (ex->start_inactive)
		flags |= PFLASH_STREAM_INFO_F_INACTIVE;
	if (ex->live)
		flags |= PFLASH_STREAM_INFO_F_LIVE;
	memset(info, 0, sizeof(*info));
	info->version_major = cpu_to_le16(PFLASH_STREAM_VERSION_MAJOR);
	info->version_minor = cpu_to_le16(PFLASH_STREAM_VERSION_MINOR);
	info->flags = cpu_to_le32(flags);
	info->size = cpu_to_le64(dev->cfg.size);
	info->epoch = cpu_to_le64(dev->epoch);
	info->block_size = cpu_to_le32(dev->cfg.block_size);
	info->erase_size = cpu_to_le32(dev->cfg.erase_size);
	memcpy(info->uuid, dev->uuid, sizeof(info->uuid));
	pflash_export_seal(ex, buf, PFLASH_REC_HEADER, 0, 0, sizeof(*info));
}

/* What the block at @p holds: erased, zero, or other data. */
static u16 pflash_export_class(const u8 *p, u32 block_size)
{
	if (!memchr_inv(p, PFLASH_ERASED_BYTE, block_size))
		return PFLASH_REC_ERASED;
	if (!memchr_inv(p, 0, block_size))
		return PFLASH_REC_ZERO;
	return PFLASH_REC_DATA;
}

static void pflash_export_pass_rec(struct pflash_export *ex, u8 *buf)
{
	struct pflash_stream_pass *pass = pflash_export_payload(buf);

	pass->pass = cpu_to_le32(ex->pass);
	pass->flags = cpu_to_le32(ex->pass_final ? PFLASH_STREAM_PASS_F_FINAL :
						   0);
	pflash_export_seal(ex, buf, PFLASH_REC_PASS, 0, 0, sizeof(*pass));
}

/*
 * Where the next extent of the current pass starts (@ex->offset), and
 * where the run of granules it is in ends (@ex->limit); false at the end
 * of the pass.
 */
static bool pflash_export_next_run(struct pflash_export *ex)
{
	struct pflash_dev *dev = ex->dev;
	unsigned int shift = dev->dirty_shift;
	unsigned long g;

	if (!ex->ranges) {
		ex->limit = dev->cfg.size;
		return ex->offset < dev->cfg.size;
	}
	if (ex->offset < ex->limit)
		return true;
	g = find_next_bit(ex->ranges, dev->nr_granules, ex->offset >> shift);
	if (g >= dev->nr_granules)
		return false;
	ex->offset = (u64)g << shift;
	ex->limit = (u64)find_next_zero_bit(ex->ranges, dev->nr_granules, g) <<
		    shift;
	return true;
}

/* The extent record that starts at @ex->offset, inside @ex->limit. */
static void pflash_export_extent(struct pflash_export *ex, u8 *buf)
{
	struct pflash_dev *dev = ex->dev;
	u32 bs = dev->cfg.block_size;
	u64 start = ex->offset, end = start + bs;
	u16 type = pflash_export_class(dev->data + start, bs);
	const u8 *other;

	switch (type) {
	case PFLASH_REC_ERASED:
	case PFLASH_REC_ZERO:
		other = memchr_inv(dev->data + end,
				   type == PFLASH_REC_ZERO ? 0 :
				   PFLASH_ERASED_BYTE, ex->limit - end);
		end = other ? round_down(other - dev->data, bs) : ex->limit;
		pflash_export_seal(ex, buf, type, start, end - start, 0);
		break;
	default:
		while (end < ex->limit &&
		       end - start < PFLASH_STREAM_DATA_MAX &&
		       pflash_export_class(dev->data + end, bs) ==
		       PFLASH_REC_DATA)
			end += bs;
		memcpy(pflash_export_payload(buf), dev->data + start,
		       end - start);
		pflash_export_seal(ex, buf, type, start, end - start,
				   end - start);
		break;
	}
	ex->offset = end;
}

static void pflash_export_end(struct pflash_export *ex, u8 *buf)
{
	struct pflash_stream_end *end = pflash_export_payload(buf);
	struct pflash_dev *dev = ex->dev;
	u32 flags = 0;
	bool final;

	/* Of a live export, the final pass is what must see no change. */
	if (ex->live)
		final = ex->pass_final && dev->content_gen == ex->pass_gen;
	else
		final = ex->start_inactive && dev->content_gen == ex->start_gen;
	if (final && dev->state == PFLASH_STATE_INACTIVE)
		flags |= PFLASH_STREAM_END_F_FINAL;
	ex->final = flags & PFLASH_STREAM_END_F_FINAL;
	memset(end, 0, sizeof(*end));
	end->flags = cpu_to_le32(flags);
	/* The final state is what the device's file mark, if any, shows. */
	if (ex->final)
		end->file_token = cpu_to_le64(pflash_backing_mark_token(dev));
	pflash_stream_end_set(end, &ex->totals, ex->stream_pos);
	pflash_export_seal(ex, buf, PFLASH_REC_END, 0, 0, sizeof(*end));
}

/*
 * Build the next record at @buf, which has room for the largest; false
 * when the stream is complete.
 */
static bool pflash_export_next(struct pflash_export *ex, u8 *buf)
{
	switch (ex->step) {
	case PFLASH_EXPORT_HEADER:
		pflash_export_header(ex, buf);
		ex->step = ex->live ? PFLASH_EXPORT_PASS :
				      PFLASH_EXPORT_EXTENTS;
		return true;
	case PFLASH_EXPORT_PASS:
		pflash_export_pass_rec(ex, buf);
		ex->step = PFLASH_EXPORT_EXTENTS;
		return true;
	case PFLASH_EXPORT_EXTENTS:
		if (pflash_export_next_run(ex)) {
			pflash_export_extent(ex, buf);
			return true;
		}
		if (ex->live && !ex->pass_final) {
			ex->step = PFLASH_EXPORT_PASSED;
			return false;
		}
		fallthrough;
	case PFLASH_EXPORT_END:
		pflash_export_end(ex, buf);
		ex->step = PFLASH_EXPORT_DONE;
		return true;
	default:
		return false;
	}
}

/**
 * pflash_export_next_pass() - start the next pass of a live export
 * @ex: the export: new, or stopped at the end of a pass
 * @ranges: the granules (of the device's dirty granularity) the pass
 *	covers, which stay unchanged while it runs; NULL for the whole
 *	device, as pass 0 must be
 * @final: it is the last pass, after which the END record comes
 *
 * Called with the device's ctl_lock held.
 */
void pflash_export_next_pass(struct pflash_export *ex,
			     const unsigned long *ranges, bool final)
{
	if (ex->live)
		ex->pass++;
	ex->live = true;
	ex->ranges = ranges;
	ex->pass_final = final;
	ex->pass_gen = ex->dev->content_gen;
	ex->offset = 0;
	ex->limit = 0;
	if (ex->step == PFLASH_EXPORT_PASSED)
		ex->step = PFLASH_EXPORT_PASS;
}

/* The number of the current pass of a live export. */
u32 pflash_export_pass_nr(const struct pflash_export *ex)
{
	return ex->pass;
}

/* Where in the stream the next byte pflash_export_read() gives belongs. */
u64 pflash_export_offset(const struct pflash_export *ex)
{
	return ex->stream_pos;
}

/**
 * pflash_export_read() - the next bytes of the stream
 * @ex: the export
 * @buf: where to put them
 * @len: at most this many
 *
 * Called with the device's ctl_lock held, on a live device.
 *
 * Return: the number of bytes put in @buf; less than @len only at the end
 * of the stream.
 */
u32 pflash_export_read(struct pflash_export *ex, u8 *buf, u32 len)
{
	u32 done = 0, n;

	while (done < len) {
		if (ex->rec_pos == ex->rec_len &&
		    !pflash_export_next(ex, ex->rec))
			break;
		n = min(len - done, ex->rec_len - ex->rec_pos);
		memcpy(buf + done, ex->rec + ex->rec_pos, n);
		ex->rec_pos += n;
		ex->stream_pos += n;
		done += n;
	}
	return done;
}

/*
 * Build whole records into @buf, @len bytes, while the largest would fit.
 * Called with the device's ctl_lock held, on a live device.  Returns the
 * number of bytes built, 0 at the end of the stream.
 */
static u32 pflash_export_fill(struct pflash_export *ex, u8 *buf, u32 len)
{
	u32 done = 0;

	while (len - done >= PFLASH_EXPORT_REC_MAX &&
	       pflash_export_next(ex, buf + done)) {
		done += ex->rec_len;
		ex->stream_pos += ex->rec_len;
		ex->rec_pos = ex->rec_len;
	}
	return done;
}

/**
 * pflash_export_write() - write an export's stream into a file
 * @dev: the device, with a reference held by the caller
 * @ex: the export, which the caller started; on return, at the end of
 *	the stream, or of the pass it was at
 * @file: from pflash_transfer_open(), open for writing
 * @res: what was written: its length and whether it ends a final stream
 * @extack: where to say why it failed
 *
 * A step at a time: records are built under the device's ctl_lock, then
 * written with no lock held, so that a slow reader holds up no other
 * command.  Destroying the device ends the export, between two steps.
 * Called, and returns, with no lock held.
 *
 * The file's position is left as it was: what was handed out before
 * (the passes before, of a live export) goes first, so that a file holds
 * the whole stream as a pipe passes it.
 *
 * Return: 0 once the stream (or the pass) is written, else a negative
 * errno.
 */
int pflash_export_write(struct pflash_dev *dev, struct pflash_export *ex,
			struct file *file, struct pflash_transfer_result *res,
			struct netlink_ext_ack *extack)
{
	u64 start = ex->stream_pos;
	loff_t pos = file->f_pos + start;
	int err = 0;
	u8 *buf;
	u32 n;

	buf = kvmalloc(PFLASH_EXPORT_STEP, GFP_KERNEL);
	if (!buf) {
		NL_SET_ERR_MSG(extack, "not enough memory to start the export");
		return -ENOMEM;
	}
	for (;;) {
		if (pflash_dev_lock_live(dev, extack)) {
			NL_SET_ERR_MSG(extack,
				       "the device was destroyed during the export");
			err = -ENODEV;
			break;
		}
		n = pflash_export_fill(ex, buf, PFLASH_EXPORT_STEP);
		mutex_unlock(&dev->ctl_lock);
		if (!n)
			break;
		err = pflash_transfer_write(file, &pos, buf, n, extack);
		if (err)
			break;
	}
	res->stream_bytes = ex->stream_pos - start;
	res->final = ex->final;
	kvfree(buf);
	return err;
}

/**
 * pflash_export_file() - export a device's state stream into a file
 * @dev: the device, with a reference held by the caller
 * @file: from pflash_transfer_open(), open for writing
 * @res: what the export wrote
 * @extack: where to say why it failed
 *
 * Called, and returns, with no lock held; see pflash_export_write().
 *
 * Return: 0 once the whole stream is written, else a negative errno.
 */
int pflash_export_file(struct pflash_dev *dev, struct file *file,
		       struct pflash_transfer_result *res,
		       struct netlink_ext_ack *extack)
{
	struct pflash_export *ex;
	int err;

	err = pflash_dev_lock_live(dev, extack);
	if (err)
		return err;
	ex = pflash_export_start(dev);
	mutex_unlock(&dev->ctl_lock);
	if (!ex) {
		NL_SET_ERR_MSG(extack, "not enough memory to start the export");
		return -ENOMEM;
	}
	err = pflash_export_write(dev, ex, file, res, extack);
	pflash_export_free(ex);
	return err;
}
