/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflash: older kernels made to look like the newest.
 *
 * pflash is written against the interfaces of Linux 7.2.  Each shim below
 * gives the kernels before some release the interface that release
 * brought, under its own name, so that the rest of the module reads as
 * current code.  A shim is keyed on that release, and once pflash no
 * longer supports the kernels before it, deleting the shim changes nothing
 * else.  pflash supports Linux 6.1 and later.
 *
 * Where a structure gained a member, the shim gives the older kernel a
 * structure of the new shape under the kernel's name (by a #define, at the
 * end of this file), and the functions pflash passes it to are shims too,
 * which convert it.  So this header is included last, after every kernel
 * header, through pflash.h.
 */
#ifndef _PFLASH_COMPAT_H
#define _PFLASH_COMPAT_H

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <net/genetlink.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "pflash needs Linux 6.1 or later"
#endif

/* 6.3: the file locks' definitions have a header of their own. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#include <linux/filelock.h>
#endif

/* 6.15: crc32c() is declared in <linux/crc32.h>, with the other CRCs. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#include <linux/crc32.h>
#else
#include <linux/crc32c.h>
#endif

/*
 * 6.6: a dump's genl_dumpit_info holds a genl_info, whose @attrs are the
 * request's attributes, and genl_info_dump() returns it.  Before, the dump
 * info had @attrs of its own, which is all pflash reads of it.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define genl_info_dump(cb)	genl_dumpit_info(cb)
#endif

/*
 * 6.8: joining a multicast group can need CAP_NET_ADMIN, by the group's
 * GENL_MCAST_CAP_NET_ADMIN flag.  Before (and in the stable releases it
 * was not backported to), the group's GENL_UNS_ADMIN_PERM flag asks the
 * same.  Keyed on the flag, not the release, for the backports.
 */
#ifndef GENL_MCAST_CAP_NET_ADMIN
#define GENL_MCAST_CAP_NET_ADMIN	GENL_UNS_ADMIN_PERM
#endif

/*
 * 6.2: a policy's range, NLA_POLICY_FULL_RANGE(), is const, as the
 * generated policies' (netlink-gen.c) are; before, the policy pointed at
 * it as if it were not, which it never writes to.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),			\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#endif

/*
 * 6.2: a family's operations can be split: a command's do and its dump
 * are a struct genl_split_ops each, with a policy and flags of their own
 * (GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP), in the family's @split_ops, as
 * the generated op table (netlink-gen.c) has them.  Before, a command was
 * one struct genl_ops, of the same members, for its do and its dump: the
 * generated table is given that type and the family's @ops (by the names
 * at the end of this file), and genl_register_family() merges each
 * command's entries into one before it registers the family.  A command's
 * do and dump then share one policy, the do's, so that the do is checked
 * as it is on newer kernels; its dump refuses what only the do takes
 * itself (netlink.c).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
static inline int pflash_genl_register_family_62(struct genl_family *family)
{
	static struct genl_ops merged[16] __ro_after_init;
	const struct genl_ops *split = family->ops;
	unsigned int i, j, n = 0;

	for (i = 0; i < family->n_ops; i++) {
		for (j = 0; j < n && merged[j].cmd != split[i].cmd; j++)
			;
		if (j == n) {
			if (WARN_ON(n == ARRAY_SIZE(merged)))
				return -EINVAL;
			merged[n++] = split[i];
		} else if (split[i].doit) {
			merged[j].doit = split[i].doit;
			merged[j].policy = split[i].policy;
			merged[j].maxattr = split[i].maxattr;
		} else {
			merged[j].start = split[i].start;
			merged[j].dumpit = split[i].dumpit;
			merged[j].done = split[i].done;
		}
		merged[j].flags |= split[i].flags;
	}
	for (j = 0; j < n; j++)
		merged[j].flags &= ~(GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP);
	family->ops = merged;
	family->n_ops = n;
	return genl_register_family(family);
}
#endif

/*
 * 6.5: ->open() takes the gendisk and a blk_mode_t; it took the
 * block_device and an fmode_t.  pflash_open() is written in the new form
 * and declared in pflash.h; here that name is given to an adapter of the
 * old form, which the block_device_operations then name, and the function
 * itself, wherever it is declared or defined, to pflash_open_disk() (a
 * function-like macro leaves a name that is not called alone).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
typedef fmode_t blk_mode_t;
#define BLK_OPEN_WRITE		FMODE_WRITE

int pflash_open_disk(struct gendisk *disk, blk_mode_t mode);

static inline int pflash_open(struct block_device *bdev, fmode_t mode)
{
	return pflash_open_disk(bdev->bd_disk, mode);
}

#define pflash_open(disk, mode)	pflash_open_disk(disk, mode)
#endif

/*
 * 6.9: blk_alloc_disk() takes the queue's limits, and returns an ERR_PTR
 * on failure, not NULL.  6.11: the queue's features (write cache, FUA,
 * nowait, ...) are part of its limits, @features; they were queue flags,
 * and a queue was rotational and fed the entropy pool unless told
 * otherwise.  A queue_limits here is the kernel's own, as far as pflash
 * sets it, and the features.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
typedef unsigned int blk_features_t;
#define BLK_FEAT_WRITE_CACHE	BIT(0)
#define BLK_FEAT_FUA		BIT(1)
#define BLK_FEAT_IO_STAT	BIT(4)
#define BLK_FEAT_NOWAIT		BIT(7)

struct pflash_queue_limits_611 {
	blk_features_t features;
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int io_min;
	unsigned int max_hw_sectors;
	unsigned short max_segments;
	unsigned int max_segment_size;
	unsigned int discard_granularity;
	unsigned int max_hw_discard_sectors;
	unsigned int max_write_zeroes_sectors;
};

static inline struct gendisk *
pflash_blk_alloc_disk_611(struct pflash_queue_limits_611 *l, int node)
{
	struct request_queue *q;
	struct gendisk *disk;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits lim = {
		.logical_block_size	= l->logical_block_size,
		.physical_block_size	= l->physical_block_size,
		.io_min			= l->io_min,
		.max_hw_sectors		= l->max_hw_sectors,
		.max_segments		= l->max_segments,
		.max_segment_size	= l->max_segment_size,
		.discard_granularity	= l->discard_granularity,
		.max_hw_discard_sectors	= l->max_hw_discard_sectors,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
	};

	disk = blk_alloc_disk(&lim, node);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
#else
	disk = blk_alloc_disk(node);
	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_io_min(q, l->io_min);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_max_segment_size(q, l->max_segment_size);
	q->limits.discard_granularity = l->discard_granularity;
	blk_queue_max_discard_sectors(q, l->max_hw_discard_sectors);
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
#endif
	blk_queue_write_cache(q, l->features & BLK_FEAT_WRITE_CACHE,
			      l->features & BLK_FEAT_FUA);
	if (l->features & BLK_FEAT_NOWAIT)
		blk_queue_flag_set(QUEUE_FLAG_NOWAIT, q);
	if (l->features & BLK_FEAT_IO_STAT)
		blk_queue_flag_set(QUEUE_FLAG_IO_STAT, q);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	return disk;
}
#endif

/*
 * 6.10: a block device's page cache is @bd_mapping; it was its inode's,
 * @bd_inode->i_mapping.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define bd_mapping		bd_inode->i_mapping
#endif

/*
 * 6.9: the owner, type and flags of a file lock are in a member of their
 * own, @c, a struct file_lock_core.  A file_lock here is the kernel's,
 * as far as pflash sets it, in that shape; the functions pflash passes it
 * to fill in the kernel's.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
struct file_lock_core {
	fl_owner_t flc_owner;
	unsigned int flc_flags;
	unsigned char flc_type;
	pid_t flc_pid;
	struct file *flc_file;
};

struct pflash_file_lock_69 {
	struct file_lock_core c;
	loff_t fl_start;
	loff_t fl_end;
};

static inline void pflash_locks_init_lock_69(struct pflash_file_lock_69 *fl)
{
	memset(fl, 0, sizeof(*fl));
}

/* The older kernel's struct file_lock, made from the shim's. */
static inline void pflash_file_lock_old_69(struct file_lock *lock,
					   const struct pflash_file_lock_69 *fl)
{
	locks_init_lock(lock);
	lock->fl_owner = fl->c.flc_owner;
	lock->fl_flags = fl->c.flc_flags;
	lock->fl_type = fl->c.flc_type;
	lock->fl_pid = fl->c.flc_pid;
	lock->fl_file = fl->c.flc_file;
	lock->fl_start = fl->fl_start;
	lock->fl_end = fl->fl_end;
}

static inline int pflash_vfs_lock_file_69(struct file *file, unsigned int cmd,
					  struct pflash_file_lock_69 *fl,
					  void *conf)
{
	struct file_lock lock;

	pflash_file_lock_old_69(&lock, fl);
	return vfs_lock_file(file, cmd, &lock, conf);
}

/*
 * The test gives back the type of a lock that conflicts (F_UNLCK if
 * none), and lets go of what it took of that lock's, at once: the shim's
 * lock holds nothing to release.
 */
static inline int pflash_vfs_test_lock_69(struct file *file,
					  struct pflash_file_lock_69 *fl)
{
	struct file_lock lock;
	int err;

	pflash_file_lock_old_69(&lock, fl);
	err = vfs_test_lock(file, &lock);
	fl->c.flc_type = lock.fl_type;
	locks_release_private(&lock);
	return err;
}

static inline void
pflash_locks_release_private_69(struct pflash_file_lock_69 *fl)
{
}
#endif

/*
 * 7.0: kzalloc_obj() and kvzalloc_obj() allocate an object of the type of
 * their argument, GFP_KERNEL unless told otherwise.  Keyed on the macros.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P)		kzalloc(sizeof(P), GFP_KERNEL)
#define kvzalloc_obj(P)		kvzalloc(sizeof(P), GFP_KERNEL)
#endif

/* The names the shims above take, now that they are defined. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define genl_split_ops		genl_ops
#define split_ops		ops
#define n_split_ops		n_ops
#define genl_register_family	pflash_genl_register_family_62
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#define file_lock		pflash_file_lock_69
#define locks_init_lock		pflash_locks_init_lock_69
#define vfs_lock_file		pflash_vfs_lock_file_69
#define vfs_test_lock		pflash_vfs_test_lock_69
#define locks_release_private	pflash_locks_release_private_69
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
#undef blk_alloc_disk
#define blk_alloc_disk		pflash_blk_alloc_disk_611
#define queue_limits		pflash_queue_limits_611
#endif

#endif /* _PFLASH_COMPAT_H */
