/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflash: the differences between the kernels pflash is built for.
 *
 * pflash is tested on Debian's 6.1 and 6.12 kernels.  Each difference is
 * keyed on the release that introduced the newer interface, so that the
 * rest of the module is written once against the interfaces below.
 */
#ifndef _PFLASH_COMPAT_H
#define _PFLASH_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/version.h>
#include <net/genetlink.h>

/* Whether the kernel built against is release @major.@minor or later. */
#define PFLASH_LINUX_AT_LEAST(major, minor)				\
	((LINUX_VERSION_MAJOR << 8 | LINUX_VERSION_PATCHLEVEL) >=	\
	 ((major) << 8 | (minor)))

#if PFLASH_LINUX_AT_LEAST(6, 9)
#include <linux/filelock.h>
#endif

/**
 * struct pflash_queue_limits - the queue limits pflash sets
 * @block_size: logical (and physical) block size
 * @erase_size: discard granularity
 * @write_cache: advertise a volatile write cache, with FUA
 */
struct pflash_queue_limits {
	unsigned int block_size;
	unsigned int erase_size;
	bool write_cache;
};

/*
 * The data path is a memcpy() per segment, so nothing is gained by cutting
 * an I/O into small requests: a request may be as large as the block layer
 * makes one by default (BLK_DEF_MAX_SECTORS, 1280 KiB), so that a 1 MiB I/O
 * is one request, with segments of any number and size.  Like brd and
 * zram, the queue keeps no I/O statistics unless asked to
 * (/sys/block/pflashN/queue/iostats).
 */
#define PFLASH_MAX_SECTORS	2560u

/*
 * Allocating a disk: since 6.9 blk_mq_alloc_disk() takes the queue limits,
 * and since 6.11 the queue's features (write cache, rotational, I/O
 * statistics) are limits too.  Before, they were set on the queue after
 * allocation.
 */
#if PFLASH_LINUX_AT_LEAST(6, 11)
static inline struct gendisk *
pflash_alloc_disk(struct blk_mq_tag_set *set,
		  const struct pflash_queue_limits *pl, void *queuedata)
{
	struct queue_limits lim = {
		.logical_block_size	= pl->block_size,
		.physical_block_size	= pl->block_size,
		.io_min			= pl->block_size,
		.discard_granularity	= pl->erase_size,
		.max_hw_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
		.max_hw_sectors		= PFLASH_MAX_SECTORS,
		.max_segments		= USHRT_MAX,
		.max_segment_size	= UINT_MAX,
	};
	struct gendisk *disk;
	int err;

	if (pl->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
	disk = blk_mq_alloc_disk(set, &lim, queuedata);
	if (IS_ERR(disk))
		return disk;
	/* blk_mq_alloc_disk() turns I/O statistics on whatever it is given. */
	lim = queue_limits_start_update(disk->queue);
	lim.features &= ~BLK_FEAT_IO_STAT;
	err = queue_limits_commit_update(disk->queue, &lim);
	if (err) {
		put_disk(disk);
		return ERR_PTR(err);
	}
	return disk;
}
#elif !PFLASH_LINUX_AT_LEAST(6, 9)
static inline struct gendisk *
pflash_alloc_disk(struct blk_mq_tag_set *set,
		  const struct pflash_queue_limits *pl, void *queuedata)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, pl->block_size);
	blk_queue_physical_block_size(q, pl->block_size);
	blk_queue_io_min(q, pl->block_size);
	q->limits.discard_granularity = pl->erase_size;
	blk_queue_max_discard_sectors(q, UINT_MAX >> SECTOR_SHIFT);
	blk_queue_max_write_zeroes_sectors(q, UINT_MAX >> SECTOR_SHIFT);
	blk_queue_max_hw_sectors(q, PFLASH_MAX_SECTORS);
	blk_queue_max_segments(q, USHRT_MAX);
	blk_queue_max_segment_size(q, UINT_MAX);
	blk_queue_write_cache(q, pl->write_cache, pl->write_cache);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, q);
	return disk;
}
#else
#error "pflash supports kernels up to 6.8 and from 6.11 on"
#endif

/*
 * Opening a disk: since 6.5 ->open() gets the gendisk and a blk_mode_t.
 * Both prototypes come down to pflash_open(disk, for_write), in blk.c.
 */
int pflash_open(struct gendisk *disk, bool for_write);

#if PFLASH_LINUX_AT_LEAST(6, 5)
static inline int pflash_fops_open(struct gendisk *disk, blk_mode_t mode)
{
	return pflash_open(disk, mode & BLK_OPEN_WRITE);
}
#else
static inline int pflash_fops_open(struct block_device *bdev, fmode_t mode)
{
	return pflash_open(bdev->bd_disk, mode & FMODE_WRITE);
}
#endif

/*
 * The attributes of a dump request: since 6.2 the dump's genl_info carries
 * them, as it does for a do request.
 */
static inline struct nlattr **pflash_dump_attrs(struct netlink_callback *cb)
{
#if PFLASH_LINUX_AT_LEAST(6, 2)
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * An OFD lock request on the whole of @file, owned by @file, as
 * fcntl(F_OFD_SETLK) builds it.  Since 6.9 the owner, type and flags of a
 * lock live in its file_lock_core.
 */
static inline void pflash_ofd_lock_init(struct file_lock *fl,
					struct file *file, unsigned char type)
{
	locks_init_lock(fl);
	fl->fl_start = 0;
	fl->fl_end = OFFSET_MAX;
#if PFLASH_LINUX_AT_LEAST(6, 9)
	fl->c.flc_flags = FL_POSIX | FL_OFDLCK;
	fl->c.flc_type = type;
	fl->c.flc_owner = file;
	fl->c.flc_file = file;
	fl->c.flc_pid = current->tgid;
#else
	fl->fl_flags = FL_POSIX | FL_OFDLCK;
	fl->fl_type = type;
	fl->fl_owner = file;
	fl->fl_file = file;
	fl->fl_pid = current->tgid;
#endif
}

#endif /* _PFLASH_COMPAT_H */
