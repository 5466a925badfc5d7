// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: live exports, whose downtime follows what changed, not the
 * device's size.
 *
 * As QEMU migrates RAM, a live export copies the device while it stays
 * active and goes on being written, then only what was written meanwhile,
 * pass after pass; only the last pass, which is small, is made once the
 * device is inactive.  Each pass is one PFLASH_CMD_EXPORT of the netlink
 * socket that drives the export, into a file descriptor; this file drives
 * the export's stream (export.c), one pass after another, and the stream
 * is one across the passes (see linux/pflash_stream.h).
 *
 * What changes is tracked in a bitmap of the export's own, @live_track,
 * not in the writeback's dirty bits: reading the device for a pass clears
 * nothing the writeback needs, and an export that fails or is cut off
 * costs nothing but a retry from pass 0 (it ends, and its bits go with
 * it).  The data path sets a bit for every granule it writes, after it
 * wrote, while a live export runs, and does nothing else for it: with no
 * live export, it only reads @live_track, which is NULL.  A pass takes the
 * bits (xchg(), a full barrier), then reads the granules they name: a
 * write that races with it either set its bit before it was taken, and
 * its data is read, or after, and the next pass sends it again.
 *
 * Tracking starts, and stops, with @live_track set or cleared under
 * ctl_lock and then pflash_blk_sync(): every write that did not see the
 * change is served before pass 0 reads the device, or before the bitmap
 * is freed.
 *
 * One live export per device at a time: another socket's is refused.  An
 * import into the device, destroying it, or closing the socket ends it.
 * A pass runs with no lock held while it writes (export.c), so whatever
 * ends the export while a pass runs only lets go of it, and the pass ends
 * it when it finds that out.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "pflash.h"

/**
 * struct pflash_live - a live export
 * @portid: the netlink socket that drives it
 * @ex: its stream, across the passes
 * @track: the granules written since the current pass began; the
 *	device's @live_track while the export runs
 * @pass_bits: the granules the current pass sends
 * @busy: a pass runs (with no lock held)
 */
struct pflash_live {
	u32 portid;
	struct pflash_export *ex;
	unsigned long *track;
	unsigned long *pass_bits;
	bool busy;
};

/* Live exports, so that closing a socket costs nothing otherwise. */
static atomic_t pflash_lives = ATOMIC_INIT(0);

/* The live exports in progress, for pflash_dev_release_socket(). */
unsigned int pflash_live_count(void)
{
	return atomic_read(&pflash_lives);
}

static void pflash_live_free(struct pflash_live *live)
{
	pflash_export_free(live->ex);
	bitmap_free(live->pass_bits);
	bitmap_free(live->track);
	kfree(live);
	atomic_dec(&pflash_lives);
}

/* Stop tracking, and forget @dev's live export.  Called with ctl_lock. */
static void pflash_live_detach(struct pflash_dev *dev)
{
	dev->live = NULL;
	WRITE_ONCE(dev->live_track, NULL);
	/* No write uses the bitmap any more once this returns. */
	pflash_blk_sync(dev);
}

/**
 * pflash_live_end() - end the live export of a device, if there is one
 * @dev: the device; called with its ctl_lock held
 *
 * Frees it, unless a pass runs: then that pass frees it when it ends.
 */
void pflash_live_end(struct pflash_dev *dev)
{
	struct pflash_live *live = dev->live;

	lockdep_assert_held(&dev->ctl_lock);
	if (!live)
		return;
	pflash_live_detach(dev);
	if (!live->busy)
		pflash_live_free(live);
}

/* Start a live export of @dev, for socket @portid: at pass 0. */
static struct pflash_live *pflash_live_start(struct pflash_dev *dev,
					     u32 portid, bool final)
{
	struct pflash_live *live = kzalloc_obj(*live);

	if (!live)
		return NULL;
	atomic_inc(&pflash_lives);
	live->portid = portid;
	live->track = bitmap_zalloc(dev->nr_granules, GFP_KERNEL);
	live->pass_bits = bitmap_zalloc(dev->nr_granules, GFP_KERNEL);
	live->ex = pflash_export_start(dev);
	if (!live->track || !live->pass_bits || !live->ex) {
		pflash_live_free(live);
		return NULL;
	}
	dev->live = live;
	WRITE_ONCE(dev->live_track, live->track);
	/* Every write from here on is tracked, or served before pass 0. */
	pflash_blk_sync(dev);
	pflash_export_next_pass(live->ex, NULL, final);
	return live;
}

/**
 * pflash_live_begin() - begin a pass of a live export
 * @dev: the device; called with its ctl_lock held, and live
 * @req: the pass asked for, by which socket
 * @extack: where a refusal says why
 *
 * Pass 0 starts the export (again, if the socket had one), and covers the
 * whole device; each later one covers what was written since the pass
 * before began, and must be the next of the socket's export, which must
 * still run.  pflash_live_done() must follow, once the pass is written.
 *
 * Return: the live export, whose stream is positioned at the pass, or an
 * ERR_PTR.
 */
static struct pflash_live *
pflash_live_begin(struct pflash_dev *dev, const struct pflash_live_req *req,
		  struct netlink_ext_ack *extack)
{
	struct pflash_live *live = dev->live;
	unsigned long i;

	lockdep_assert_held(&dev->ctl_lock);
	if (live && live->portid != req->portid) {
		NL_SET_ERR_MSG(extack,
			       "another live export of the device is in progress");
		return ERR_PTR(-EBUSY);
	}
	if (live && live->busy) {
		NL_SET_ERR_MSG(extack,
			       "a pass of this live export is in progress");
		return ERR_PTR(-EBUSY);
	}
	if (req->final && dev->state != PFLASH_STATE_INACTIVE) {
		NL_SET_ERR_MSG(extack,
			       "the final pass of a live export needs the device inactive: inactivate it first");
		return ERR_PTR(-EBUSY);
	}
	if (req->pass && !live) {
		NL_SET_ERR_MSG(extack,
			       "the live export ended (a pass failed, or an import or a destroy ended it): start again at pass 0");
		return ERR_PTR(-ENOENT);
	}
	if (req->pass && req->pass != pflash_export_pass_nr(live->ex) + 1) {
		NL_SET_ERR_MSG(extack,
			       "the pass is not the next one of the live export");
		return ERR_PTR(-EINVAL);
	}

	if (!req->pass) {
		/* A new stream: what an earlier one of the socket sent is lost. */
		pflash_live_end(dev);
		live = pflash_live_start(dev, req->portid, req->final);
		if (!live) {
			NL_SET_ERR_MSG(extack,
				       "not enough memory to start the live export");
			return ERR_PTR(-ENOMEM);
		}
	} else {
		for (i = 0; i < BITS_TO_LONGS(dev->nr_granules); i++)
			live->pass_bits[i] = xchg(&live->track[i], 0);
		pflash_export_next_pass(live->ex, live->pass_bits, req->final);
	}
	live->busy = true;
	return live;
}

/**
 * pflash_live_done() - a pass of a live export is written, or failed
 * @dev: the device, with a reference held by the caller; not locked
 * @live: the live export pflash_live_begin() gave
 * @err: the pass's error, 0 if it was written whole
 * @final: it was the last pass
 * @res: what it did: its number, and what the next pass would send
 *
 * A failed pass, and the last one, end the export; so does anything that
 * ended it while the pass ran, which only let go of it: it is freed here.
 */
static void pflash_live_done(struct pflash_dev *dev, struct pflash_live *live,
			     int err, bool final,
			     struct pflash_transfer_result *res)
{
	/* A dying device's ctl_lock still guards its live export. */
	mutex_lock(&dev->ctl_lock);
	res->live = true;
	res->pass = pflash_export_pass_nr(live->ex);
	live->busy = false;
	if (dev->live != live) {
		pflash_live_free(live);
	} else {
		res->pending = (u64)bitmap_weight(live->track,
						  dev->nr_granules) <<
			       dev->dirty_shift;
		if (err || final)
			pflash_live_end(dev);
	}
	mutex_unlock(&dev->ctl_lock);
}

/**
 * pflash_live_pass() - write a pass of a live export into a file
 * @dev: the device, with a reference held by the caller
 * @file: from pflash_transfer_open(), open for writing
 * @req: the pass asked for, by which socket
 * @res: what the pass wrote, its number, and what the next would send
 * @extack: where to say why it failed
 *
 * The pass begins under the device's ctl_lock, is written by export.c a
 * step at a time, with no lock held meanwhile, and ends under ctl_lock
 * again.  Called, and returns, with no lock held.
 *
 * Return: 0 once the pass is written, else a negative errno; a pass that
 * fails ends the live export.
 */
int pflash_live_pass(struct pflash_dev *dev, struct file *file,
		     const struct pflash_live_req *req,
		     struct pflash_transfer_result *res,
		     struct netlink_ext_ack *extack)
{
	struct pflash_live *live;
	int err;

	err = pflash_dev_lock_live(dev, extack);
	if (err)
		return err;
	live = pflash_live_begin(dev, req, extack);
	mutex_unlock(&dev->ctl_lock);
	if (IS_ERR(live))
		return PTR_ERR(live);
	err = pflash_export_write(dev, live->ex, file, res, extack);
	pflash_live_done(dev, live, err, req->final, res);
	return err;
}

/**
 * pflash_live_release() - end the live export a socket drove, if any
 * @dev: the device; called with its ctl_lock held
 * @portid: the socket, which is gone
 */
void pflash_live_release(struct pflash_dev *dev, u32 portid)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (dev->live && dev->live->portid == portid)
		pflash_live_end(dev);
}
