// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the block device and its data path.
 *
 * pflash is a bio-based driver, as brd, zram and pmem are: a bio is served
 * in ->submit_bio(), straight from the device's flat buffer, one copy per
 * segment, with no request, tag or completion in between.  Discard erases
 * the whole erase blocks inside its range to 0xff and leaves the bytes of
 * partially covered erase blocks as they were, as flash can only erase
 * whole blocks.
 *
 * A bio that changes a device with a backing file marks what it changed
 * dirty.  If it may only complete once that is durable (see
 * pflash_must_wait()), it is handed to the device's writeback worker, which
 * completes it after the next pass; the data path itself never sleeps and
 * never does file I/O.
 *
 * ->submit_bio() runs in an RCU read-side critical section, so that
 * waiting for the calls in progress (pflash_blk_sync()) is an RCU grace
 * period; a bio handed to the worker is served by then, its data in the
 * buffer and marked dirty.  An inactivation waits so, and then the writes
 * it holds back (pflash_blk_hold()) are all that was not served before.
 * An import, and an activation that loads the file again, swap the buffer
 * the same way (pflash_blk_replace()): a bio reads the buffer's address
 * once, and is served from the old buffer or the new, never from both.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/cacheflush.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "pflash.h"

static int pflash_major;

/*
 * The largest I/O the queue advertises, in sectors: BLK_DEF_MAX_SECTORS,
 * 1280 KiB.  pflash serves a bio of any size, and splits none, so this only
 * tells the layers above what is worth sending at once.
 */
#define PFLASH_MAX_SECTORS	2560u

int pflash_open(struct gendisk *disk, blk_mode_t mode)
{
	struct pflash_dev *dev = disk->private_data;

	/*
	 * Called with disk->open_mutex held, under which the device's life
	 * changes: a device that destroy claimed opens no more.
	 */
	if (dev->life >= PFLASH_DEV_CLAIMED)
		return -ENXIO;
	if ((mode & BLK_OPEN_WRITE) && !pflash_writable(dev))
		return -EROFS;
	return 0;
}

/*
 * Copy between the bio's pages and the contents @data, from @pos on.
 * Where every page has its kernel address (no highmem) and a page written
 * through it needs no flush of the data cache (no aliasing), a bvec of
 * physically contiguous pages is copied whole, in one memcpy(); else a
 * page at a time, each mapped for its copy and flushed after it.
 */
static void pflash_copy(u8 *data, struct bio *bio, u64 pos)
{
	bool to_dev = op_is_write(bio_op(bio));
	struct bvec_iter iter;
	struct bio_vec bv;

	if (!IS_ENABLED(CONFIG_HIGHMEM) && !ARCH_IMPLEMENTS_FLUSH_DCACHE_PAGE) {
		bio_for_each_bvec(bv, bio, iter) {
			if (to_dev)
				memcpy(data + pos, bvec_virt(&bv), bv.bv_len);
			else
				memcpy(bvec_virt(&bv), data + pos, bv.bv_len);
			pos += bv.bv_len;
		}
		return;
	}
	bio_for_each_segment(bv, bio, iter) {
		if (to_dev)
			memcpy_from_bvec(data + pos, &bv);
		else
			memcpy_to_bvec(&bv, data + pos);
		pos += bv.bv_len;
	}
}

/* Erase the whole erase blocks of @data inside [pos, pos + len). */
static void pflash_erase(struct pflash_dev *dev, u8 *data, u64 pos, u64 len)
{
	u64 start = round_up(pos, (u64)dev->cfg.erase_size);
	u64 end = round_down(pos + len, (u64)dev->cfg.erase_size);

	if (start < end)
		memset(data + start, PFLASH_ERASED_BYTE, end - start);
}

/*
 * Serve @bio from the contents, whose address it reads once: see
 * pflash_blk_replace().  Called in pflash_submit_bio()'s RCU read-side
 * critical section, or for a held bio by pflash_blk_release(), under
 * ctl_lock, which a replacement holds too.
 */
static blk_status_t pflash_do_bio(struct pflash_dev *dev, struct bio *bio)
{
	u64 pos = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
	u32 len = bio->bi_iter.bi_size;
	enum req_op op = bio_op(bio);
	u8 *data;

	if (op == REQ_OP_FLUSH || (op == REQ_OP_WRITE && !len))
		return BLK_STS_OK;	/* an empty flush */
	if (pos > dev->cfg.size || len > dev->cfg.size - pos)
		return BLK_STS_IOERR;
	data = READ_ONCE(dev->data);
	if (op == REQ_OP_READ) {
		pflash_copy(data, bio, pos);
		return BLK_STS_OK;
	}
	if (!pflash_writable(dev))
		return BLK_STS_IOERR;

	switch (op) {
	case REQ_OP_WRITE:
		pflash_copy(data, bio, pos);
		break;
	case REQ_OP_DISCARD:
		pflash_erase(dev, data, pos, len);
		break;
	case REQ_OP_WRITE_ZEROES:
		memset(data + pos, 0, len);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (pflash_writes_back(dev))
		pflash_wb_mark_dirty(dev, pos, len);
	pflash_live_mark(dev, pos, len);
	return BLK_STS_OK;
}

/*
 * Whether @bio, served, may complete only after a writeback pass: in
 * writethrough mode every change, in writeback mode a flush or FUA write.
 * (Without a volatile write cache, which only writeback mode advertises,
 * the block layer takes PREFLUSH and FUA off, and ends empty flushes.)
 */
static bool pflash_must_wait(struct pflash_dev *dev, struct bio *bio)
{
	if (!pflash_writes_back(dev) || !op_is_write(bio_op(bio)))
		return false;
	return dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITETHROUGH ||
	       op_is_flush(bio->bi_opf);
}

/*
 * Serve @bio from the buffer.  Any context; never sleeps: a bio that must
 * wait for the backing file goes to the writeback worker.  I/O statistics,
 * when asked for, count such a bio as done once it is served.
 */
static void pflash_serve(struct pflash_dev *dev, struct bio *bio)
{
	bool io_stat = blk_queue_io_stat(bio->bi_bdev->bd_disk->queue);
	unsigned long start = 0;
	blk_status_t status;

	if (io_stat)
		start = bio_start_io_acct(bio);
	status = pflash_do_bio(dev, bio);
	if (io_stat)
		bio_end_io_acct(bio, start);
	if (status == BLK_STS_OK && pflash_must_wait(dev, bio)) {
		pflash_wb_defer(dev, bio);
		return;
	}
	bio->bi_status = status;
	bio_endio(bio);
}

/* Hold @bio back, if writes are held back; see pflash_blk_hold(). */
static bool pflash_held(struct pflash_dev *dev, struct bio *bio)
{
	unsigned long flags;
	bool held;

	spin_lock_irqsave(&dev->pending_lock, flags);
	held = dev->hold;
	if (held)
		bio_list_add(&dev->held, bio);
	spin_unlock_irqrestore(&dev->pending_lock, flags);
	return held;
}

static void pflash_submit_bio(struct bio *bio)
{
	struct pflash_dev *dev = bio->bi_bdev->bd_disk->private_data;

	/* pflash_blk_sync() waits for this section, which never sleeps. */
	rcu_read_lock();
	if (likely(!READ_ONCE(dev->hold)) || !op_is_write(bio_op(bio)) ||
	    !pflash_held(dev, bio))
		pflash_serve(dev, bio);
	rcu_read_unlock();
}

static const struct block_device_operations pflash_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= pflash_submit_bio,
	.open		= pflash_open,
};

int pflash_blk_add(struct pflash_dev *dev)
{
	/*
	 * I/O statistics, as on other disks (queue/iostats turns them off);
	 * a write cache, with FUA, only in writeback mode.
	 */
	struct queue_limits lim = {
		.features		= BLK_FEAT_NOWAIT | BLK_FEAT_IO_STAT,
		.logical_block_size	= dev->cfg.block_size,
		.physical_block_size	= dev->cfg.block_size,
		.io_min			= dev->cfg.block_size,
		.max_hw_sectors		= PFLASH_MAX_SECTORS,
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
		.discard_granularity	= dev->cfg.erase_size,
		.max_hw_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
	};
	struct gendisk *disk;
	int err;

	if (pflash_writes_back(dev) &&
	    dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
	disk = blk_alloc_disk(&lim, NUMA_NO_NODE);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->major = pflash_major;
	disk->first_minor = dev->index;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &pflash_fops;
	disk->private_data = dev;
	snprintf(disk->disk_name, DISK_NAME_LEN, "pflash%d", dev->index);
	set_capacity(disk, dev->cfg.size >> SECTOR_SHIFT);
	/* Read-only, or created inactive: see pflash_blk_refuse_writes(). */
	set_disk_ro(disk, !pflash_writable(dev));

	err = device_add_disk(NULL, disk, pflash_sysfs_groups);
	if (err) {
		put_disk(disk);
		return err;
	}
	dev->disk = disk;
	return 0;
}

/**
 * pflash_blk_hold() - hold writes back
 * @dev: the device; called with its ctl_lock held
 *
 * From now on, writes wait, unserved, until pflash_blk_release().  Returns
 * once every write that was not held back is served: its data is in the
 * buffer and its blocks are marked dirty.  Reads go on.
 */
void pflash_blk_hold(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	spin_lock_irq(&dev->pending_lock);
	WRITE_ONCE(dev->hold, true);
	spin_unlock_irq(&dev->pending_lock);
	/* The ->submit_bio() calls that did not see @hold end before this. */
	pflash_blk_sync(dev);
}

/**
 * pflash_blk_sync() - wait for every ->submit_bio() in progress
 * @dev: the device
 *
 * The data path runs in an RCU read-side critical section, so an RCU
 * grace period waits for every call in progress: what the data path does
 * after this sees what the caller did before it, and a bio that started
 * before it is served.  The grace period is expedited: the control
 * operations that wait here (an inactivation, a live export's start and
 * end, an import's commit) are inside a move's downtime, and a normal
 * grace period takes jiffies, where an expedited one takes microseconds.
 * A freeze of the queue would wait as well, but through a normal grace
 * period (percpu_ref_kill()): pflash_blk_replace() waits here instead.
 */
void pflash_blk_sync(struct pflash_dev *dev)
{
	synchronize_rcu_expedited();
}

/**
 * pflash_blk_release() - stop holding writes back
 * @dev: the device; called with its ctl_lock held
 *
 * The writes held back are served now, and find the device as it is now:
 * active, or inactive (then they fail).  Does nothing if writes were not
 * held back.
 */
void pflash_blk_release(struct pflash_dev *dev)
{
	struct bio_list held;
	struct bio *bio;

	lockdep_assert_held(&dev->ctl_lock);
	spin_lock_irq(&dev->pending_lock);
	WRITE_ONCE(dev->hold, false);
	held = dev->held;
	bio_list_init(&dev->held);
	spin_unlock_irq(&dev->pending_lock);
	while ((bio = bio_list_pop(&held)))
		pflash_serve(dev, bio);
}

/**
 * pflash_blk_replace() - replace the device's contents in one step
 * @dev: the device, inactive; called with its ctl_lock held
 * @data: the new contents, @dev->cfg.size bytes; gets the old ones back,
 *	which nothing reads any more, for the caller to drop
 *	(pflash_blk_drop_contents())
 *
 * A bio reads the contents' address once (pflash_do_bio()), in an RCU
 * read-side critical section, so it is served from the old contents or
 * the new, never from a mix; the release store publishes the new contents
 * with the address, and pflash_blk_sync() waits for every bio that may
 * still read the old ones, and for an import's comparison with them
 * (import.c), which reads them so too.  Only reads reach an inactive
 * device's contents: its writes fail, and the ones held back are served
 * under ctl_lock.  No writeback pass reads the contents meanwhile:
 * nothing is dirty (an inactive device's last pass wrote everything, and
 * an import's commit marks what it owes only after this; an activation
 * that loads the file owes nothing).  The page cache of the old contents
 * goes too.
 *
 * The queue is not frozen: a freeze waits for a normal RCU grace period
 * (percpu_ref_kill()), jiffies inside a move's downtime, where
 * pflash_blk_sync() waits for an expedited one.
 */
void pflash_blk_replace(struct pflash_dev *dev, u8 **data)
{
	u8 *old = dev->data;

	lockdep_assert_held(&dev->ctl_lock);
	/* The contents, then their address: see READ_ONCE() in the readers. */
	smp_store_release(&dev->data, *data);
	*data = old;
	pflash_blk_sync(dev);
	invalidate_bdev(dev->disk->part0);
}

/*
 * Contents that an import or an activation's reload replaced, freed a
 * second later by a work item, not by the command that replaced them.
 * vfree() gives the pages back one at a time, about 20 ms for 256 MiB in
 * the benchmark's model (Documentation/pflash/benchmarks.rst), and the
 * command is inside a move's downtime, which ends only once the target is
 * active: the old contents are garbage, and nothing waits for their
 * memory.  Each buffer holds its own list entry.
 */
#define PFLASH_DROP_DELAY	HZ

static LLIST_HEAD(pflash_dropped);

static void pflash_dropped_free(struct work_struct *work)
{
	struct llist_node *node, *next;

	llist_for_each_safe(node, next, llist_del_all(&pflash_dropped))
		vfree(node);
}

static DECLARE_DELAYED_WORK(pflash_dropped_work, pflash_dropped_free);

/**
 * pflash_blk_drop_contents() - free contents that no one reads any more
 * @data: a device's contents, replaced (pflash_blk_replace()), or an
 *	import's staging buffer; may be %NULL
 *
 * Any context that may sleep; returns at once.
 */
void pflash_blk_drop_contents(u8 *data)
{
	if (data && llist_add((struct llist_node *)data, &pflash_dropped))
		schedule_delayed_work(&pflash_dropped_work, PFLASH_DROP_DELAY);
}

/* Whether the device is mounted, or claimed by another driver. */
bool pflash_blk_held_exclusively(struct pflash_dev *dev)
{
	struct gendisk *disk = dev->disk;
	bool held;

	mutex_lock(&disk->open_mutex);
	held = disk->part0->bd_holder;
	mutex_unlock(&disk->open_mutex);
	return held;
}

/*
 * Whether a process maps the device shared and writable.  Its stores
 * dirty the page cache without a write() the read-only disk could refuse
 * (a block device's page_mkwrite does not look at it), and would fail only
 * at writeback: an inactivation must not happen under it.
 */
bool pflash_blk_mapped_for_writing(struct pflash_dev *dev)
{
	return mapping_writably_mapped(dev->disk->part0->bd_mapping);
}

/**
 * pflash_blk_refuse_writes() - make the disk read-only, for an inactivation
 * @dev: the device; called with its ctl_lock held
 *
 * A write refused must be refused where the writer sees it.  Once the
 * disk is read-only, the block layer fails write() at once (EPERM),
 * buffered or direct, and a new shared writable mapping (EINVAL);
 * blockdev --getro and lsblk show it.  Returns once what the page cache
 * accepted before is written down, while the device still takes writes:
 * nothing accepted is left there to fail at writeback.
 */
void pflash_blk_refuse_writes(struct pflash_dev *dev)
{
	struct block_device *bdev = dev->disk->part0;
	struct inode *inode = bdev->bd_mapping->host;

	lockdep_assert_held(&dev->ctl_lock);
	/* Most of it, while writes still come. */
	sync_blockdev(bdev);
	set_disk_ro(dev->disk, true);
	/*
	 * A buffered write checks the flag, then copies into the page cache
	 * holding the inode's lock shared (since 6.15, and in the stable
	 * releases that took the fix, Debian's 6.1 and 6.12 among them):
	 * taking it waits for those that passed the check before.
	 */
	inode_lock(inode);
	inode_unlock(inode);
	sync_blockdev(bdev);
}

/*
 * pflash_blk_refuse_writes_lost() - make the disk read-only, for a device
 *	that lost its backing file's lock
 * @dev: the device; called with its ctl_lock held
 *
 * As an inactive device's, so that a writer that opened it before sees
 * write() fail at once (EPERM), not its page cache's writeback later.
 * Nothing is written down first: a lost device takes no write, and what
 * the page cache holds can reach its file no more than the device's own.
 * A lost device is never activated: it is destroyed.
 */
void pflash_blk_refuse_writes_lost(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	set_disk_ro(dev->disk, true);
}

/* Undo pflash_blk_refuse_writes(), or end it at activation. */
void pflash_blk_accept_writes(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (!dev->cfg.read_only)
		set_disk_ro(dev->disk, false);
}

/* Whether @bdev is a pflash device, and if so, which. */
bool pflash_blk_is_pflash(struct block_device *bdev, struct pflash_dev **devp)
{
	if (bdev->bd_disk->fops != &pflash_fops)
		return false;
	*devp = bdev->bd_disk->private_data;
	return true;
}

/* Undo pflash_blk_add(), once the device is dead. */
void pflash_blk_del(struct pflash_dev *dev)
{
	del_gendisk(dev->disk);
	put_disk(dev->disk);
	dev->disk = NULL;
}

int pflash_blk_init(void)
{
	pflash_major = register_blkdev(0, "pflash");
	return pflash_major < 0 ? pflash_major : 0;
}

void pflash_blk_exit(void)
{
	/* No device is left to drop contents: free what was dropped. */
	cancel_delayed_work_sync(&pflash_dropped_work);
	pflash_dropped_free(NULL);
	unregister_blkdev(pflash_major, "pflash");
}
