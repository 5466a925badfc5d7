// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: dirty tracking and writing back to the backing file.
 *
 * The data path writes into the device's buffer and marks the granules it
 * touched dirty.  A writeback pass takes the dirty bits, writes those
 * granules to the backing file and fsyncs it.  If anything fails, the
 * pass puts its bits back, so that the data stays dirty and the next pass
 * writes it again: nothing is dropped on an error.
 *
 * A pass that fails looks whether the backing file's lock was lost to
 * another owner, on a network filesystem (pflash_backing_check_lost()): if
 * so, the device writes nothing more, and every later pass fails at once
 * with ENOLCK, writing nothing; the periodic writeback is no longer armed
 * (owner.c, "lose").
 *
 * Passes run in three places, serialized by wb_lock (see "Locking" in
 * pflash.h):
 *  - the device's worker, for bios that may only complete once their
 *    data is durable (every write in writethrough mode; flushes and FUA
 *    writes in writeback mode).  The data path never does file I/O itself.
 *  - the periodic writeback, in writeback mode.
 *  - control commands: FLUSH, and destroy.
 *
 * The worker is an ordered workqueue of the device's own, with a rescuer
 * (WQ_MEM_RECLAIM), so devices never wait on one another's passes: a
 * device whose backing file lives on another pflash device, a loop device
 * or tmpfs only ever waits for that device's own worker.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/bio.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "pflash.h"

static void pflash_wb_arm_periodic(struct pflash_dev *dev)
{
	if (dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITEBACK &&
	    dev->cfg.wb_interval_ms && READ_ONCE(dev->owns_backing))
		queue_delayed_work(dev->wq, &dev->periodic_work,
				   msecs_to_jiffies(dev->cfg.wb_interval_ms));
}

/**
 * pflash_mark_granules() - mark the granules of a write in a bitmap
 * @dev: the device
 * @bits: a bitmap of its granules: the dirty bits, or a live export's
 * @pos: where the write began
 * @len: its length, not 0
 *
 * Called after the data was copied in, in any context.  The full barrier
 * orders the copy before the read of each bit: either whoever takes the
 * bits (a writeback pass, a live export's pass, each with xchg(), a full
 * barrier too) takes this one after we saw it, and then reads our data, or
 * we see it clear and set it for the next to take.
 *
 * Return: whether a bit was clear before.
 */
bool pflash_mark_granules(struct pflash_dev *dev, unsigned long *bits,
			  u64 pos, u64 len)
{
	unsigned long bit = pos >> dev->dirty_shift;
	unsigned long last = (pos + len - 1) >> dev->dirty_shift;
	bool newly = false;

	smp_mb();	/* the data before test_bit(); pairs with xchg() */
	for (; bit <= last; bit++)
		if (!test_bit(bit, bits) && !test_and_set_bit(bit, bits))
			newly = true;
	return newly;
}

/*
 * Mark words [@word, @last] of the dirty bitmap in its summary, after their
 * bits were set or found set.  A pass takes (xchg()) a summary bit before
 * its word: the full barrier orders the accesses to the words' bits before
 * the read of the summary's, not only before its write.  Without it, a
 * writer that found its granule's bit set by another, not yet done, could
 * read a summary bit that a pass had already taken as still set, and wait
 * for a pass that then skips the word.
 */
static void pflash_wb_mark_words(struct pflash_dev *dev, unsigned long word,
				 unsigned long last)
{
	smp_mb();	/* the words' bits, then the summary's; pairs with xchg() */
	for (; word <= last; word++)
		if (!test_bit(word, dev->dirty_words))
			set_bit(word, dev->dirty_words);
}

/* Mark [pos, pos + len) dirty, after its data was copied in.  Any context. */
void pflash_wb_mark_dirty(struct pflash_dev *dev, u64 pos, u64 len)
{
	bool newly = pflash_mark_granules(dev, dev->dirty, pos, len);

	/*
	 * Even if each bit was set already: whoever set it may not yet have
	 * marked its word, and the caller may wait for the next pass.
	 */
	pflash_wb_mark_words(dev, (pos >> dev->dirty_shift) / BITS_PER_LONG,
			     ((pos + len - 1) >> dev->dirty_shift) /
			     BITS_PER_LONG);
	/* While anything is dirty, the periodic writeback is armed. */
	if (newly)
		pflash_wb_arm_periodic(dev);
}

/**
 * pflash_wb_mark_owed() - mark granules dirty, for an import's commit
 * @dev: the device, which takes no write; called with its wb_lock held
 * @owed: a bitmap of @dev->nr_granules granules
 */
void pflash_wb_mark_owed(struct pflash_dev *dev, const unsigned long *owed)
{
	unsigned long i;

	lockdep_assert_held(&dev->wb_lock);
	for (i = 0; i < BITS_TO_LONGS(dev->nr_granules); i++) {
		if (!owed[i])
			continue;
		dev->dirty[i] |= owed[i];
		pflash_wb_mark_words(dev, i, i);
	}
}

/*
 * Take the dirty words, those the summary marks, into @wb_pass: the first
 * of them in *@lo, one past the last in *@hi (*@lo >= *@hi if none).
 * Called with wb_lock held.
 */
static void pflash_wb_take(struct pflash_dev *dev, unsigned long *lo,
			   unsigned long *hi)
{
	unsigned long nr_words = BITS_TO_LONGS(dev->nr_granules);
	unsigned long j, bit, i, marked;

	*lo = nr_words;
	*hi = 0;
	for (j = 0; j < BITS_TO_LONGS(nr_words); j++) {
		if (!READ_ONCE(dev->dirty_words[j]))
			continue;
		marked = xchg(&dev->dirty_words[j], 0);
		for_each_set_bit(bit, &marked, BITS_PER_LONG) {
			i = j * BITS_PER_LONG + bit;
			dev->wb_pass[i] = xchg(&dev->dirty[i], 0);
			if (!dev->wb_pass[i])
				continue;
			*lo = min(*lo, i);
			*hi = i + 1;
		}
	}
}

/*
 * Put the granules of a pass that failed, all in its words [@lo, @hi),
 * back into the dirty bitmap, and mark those words in its summary.
 */
static void pflash_wb_put_back(struct pflash_dev *dev, unsigned long lo,
			       unsigned long hi)
{
	unsigned long i;

	for_each_set_bit(i, dev->wb_pass, dev->nr_granules)
		set_bit(i, dev->dirty);
	if (lo < hi)
		pflash_wb_mark_words(dev, lo, hi - 1);
}

/*
 * Write the granules of the pass, all in its words [@lo, @hi); called with
 * wb_lock held.
 */
static int pflash_wb_write_pass(struct pflash_dev *dev, unsigned long lo,
				unsigned long hi)
{
	unsigned long size = min(hi * BITS_PER_LONG, dev->nr_granules);
	unsigned long start = lo * BITS_PER_LONG, end;
	unsigned int shift = dev->dirty_shift;
	int err;

	for_each_set_bitrange_from(start, end, dev->wb_pass, size) {
		err = pflash_backing_write(dev, (u64)start << shift,
					   (u64)(end - start) << shift);
		if (err)
			return err;
	}
	return 0;
}

/**
 * pflash_wb_flush() - run a writeback pass
 * @dev: the device
 * @what: what the pass writes: the dirty granules, or (%PFLASH_WB_ALL)
 *	the whole device
 *
 * Writes, then fsyncs the backing file.  A pass with nothing to write does
 * not fsync, unless it is %PFLASH_WB_OWED or %PFLASH_WB_NONE: every earlier
 * pass that wrote something fsynced, or failed and left its granules
 * dirty.  A device that does not own its backing file (see owner.c)
 * writes nothing: its pass succeeds and leaves the dirty granules as they
 * are, unless the device lost its lock: then it fails.
 *
 * Return: 0, or the error of the write or fsync that failed; the granules
 * of a failed pass are dirty again.  -ENOLCK if the device lost its
 * backing file's lock.
 */
int pflash_wb_flush(struct pflash_dev *dev, enum pflash_wb_what what)
{
	unsigned long lo, hi;
	bool injected;
	int err = 0;

	if (!pflash_writes_back(dev))
		return 0;

	mutex_lock(&dev->wb_lock);
	if (!dev->owns_backing) {
		if (dev->owner_lost)
			err = -ENOLCK;
		goto out_unlock;
	}
	/*
	 * Take the dirty words that the summary marks, and note the first and
	 * the last: the rest of the pass, in writethrough mode one per write,
	 * then costs what is dirty, not the device's size.  A summary word
	 * read as clear is left alone: a bit set in it since is the next
	 * pass's, and the bits of every write the caller waits for, and their
	 * words' in the summary, were set before it called (the bios of a
	 * batch, before they were queued under pending_lock).
	 */
	pflash_wb_take(dev, &lo, &hi);
	if (what == PFLASH_WB_ALL) {
		bitmap_fill(dev->wb_pass, dev->nr_granules);
		lo = 0;
		hi = BITS_TO_LONGS(dev->nr_granules);
	}
	if (what == PFLASH_WB_DIRTY && lo >= hi)
		goto out_unlock;

	/* Nothing is written into a file that was deleted (backing.c). */
	err = pflash_backing_gone(dev);
	injected = !err && what != PFLASH_WB_NONE && pflash_backing_fault();
	if (injected)
		err = -EIO;
	/* The granules a pass of nothing takes are dropped if it succeeds. */
	if (!err && what != PFLASH_WB_NONE && lo < hi)
		err = pflash_wb_write_pass(dev, lo, hi);
	if (!err)
		err = pflash_backing_sync(dev);
	if (err) {
		pflash_wb_put_back(dev, lo, hi);
		pr_warn_ratelimited("pflash%d: writeback to the backing file failed (%d); the data stays dirty\n",
				    dev->index, err);
		pflash_backing_check_lost(dev, injected);
	}
	WRITE_ONCE(dev->wb_err, -err);
	if (lo < hi)
		memset(dev->wb_pass + lo, 0, (hi - lo) * sizeof(long));
out_unlock:
	mutex_unlock(&dev->wb_lock);
	return err;
}

/*
 * The bytes not yet known durable: the dirty granules, and those of a
 * pass under way, which may wait long for a network filesystem's server.
 * A snapshot, read without wb_lock.
 */
u64 pflash_wb_dirty_bytes(struct pflash_dev *dev)
{
	unsigned long i, n = 0;

	if (!pflash_writes_back(dev))
		return 0;
	for (i = 0; i < BITS_TO_LONGS(dev->nr_granules); i++)
		n += hweight_long(READ_ONCE(dev->dirty[i]) |
				  READ_ONCE(dev->wb_pass[i]));
	return (u64)n << dev->dirty_shift;
}

/* Complete @bio after the next pass.  Any context. */
void pflash_wb_defer(struct pflash_dev *dev, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->pending_lock, flags);
	bio_list_add(&dev->pending, bio);
	spin_unlock_irqrestore(&dev->pending_lock, flags);
	queue_work(dev->wq, &dev->wb_work);
}

static void pflash_wb_workfn(struct work_struct *work)
{
	struct pflash_dev *dev = container_of(work, struct pflash_dev,
					      wb_work);
	blk_status_t status;
	struct bio *bio;
	struct bio_list batch;

	spin_lock_irq(&dev->pending_lock);
	batch = dev->pending;
	bio_list_init(&dev->pending);
	spin_unlock_irq(&dev->pending_lock);
	if (bio_list_empty(&batch))
		return;

	/* One pass for the whole batch: it covers every bio in it. */
	status = pflash_wb_flush(dev, PFLASH_WB_DIRTY) ? BLK_STS_IOERR :
							 BLK_STS_OK;
	while ((bio = bio_list_pop(&batch))) {
		bio->bi_status = status;
		bio_endio(bio);
	}
}

static void pflash_wb_periodic_workfn(struct work_struct *work)
{
	struct pflash_dev *dev = container_of(to_delayed_work(work),
					      struct pflash_dev,
					      periodic_work);

	pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	/* Retry what failed, and take what was written meanwhile. */
	if (!bitmap_empty(dev->dirty, dev->nr_granules))
		pflash_wb_arm_periodic(dev);
}

int pflash_wb_init(struct pflash_dev *dev)
{
	unsigned long nr_words;

	mutex_init(&dev->wb_lock);
	spin_lock_init(&dev->pending_lock);
	bio_list_init(&dev->pending);
	bio_list_init(&dev->held);
	INIT_WORK(&dev->wb_work, pflash_wb_workfn);
	INIT_DELAYED_WORK(&dev->periodic_work, pflash_wb_periodic_workfn);
	/* The granules a live export tracks too, with or without a file. */
	dev->dirty_shift = ilog2(min_t(u32, dev->cfg.erase_size, PAGE_SIZE));
	dev->nr_granules = dev->cfg.size >> dev->dirty_shift;
	if (!pflash_writes_back(dev))
		return 0;

	nr_words = BITS_TO_LONGS(dev->nr_granules);
	dev->dirty = kvcalloc(nr_words, sizeof(long), GFP_KERNEL);
	if (!dev->dirty)
		goto out_free;
	dev->dirty_words = kvcalloc(BITS_TO_LONGS(nr_words), sizeof(long),
				    GFP_KERNEL);
	if (!dev->dirty_words)
		goto out_free;
	dev->wb_pass = kvcalloc(nr_words, sizeof(long), GFP_KERNEL);
	if (!dev->wb_pass)
		goto out_free;
	dev->wq = alloc_ordered_workqueue("pflash%d", WQ_MEM_RECLAIM,
					  dev->index);
	if (!dev->wq)
		goto out_free;
	return 0;

out_free:
	kvfree(dev->wb_pass);
	kvfree(dev->dirty_words);
	kvfree(dev->dirty);
	return -ENOMEM;
}

/* Undo pflash_wb_init(), once no bio can reach the device. */
void pflash_wb_exit(struct pflash_dev *dev)
{
	if (dev->wq) {
		cancel_delayed_work_sync(&dev->periodic_work);
		destroy_workqueue(dev->wq);
		dev->wq = NULL;
	}
	kvfree(dev->wb_pass);
	kvfree(dev->dirty_words);
	kvfree(dev->dirty);
	mutex_destroy(&dev->wb_lock);
}
