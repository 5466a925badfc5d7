/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflash: RAM-backed parallel-flash block devices.
 *
 * Each device keeps its whole contents in one vmalloc buffer.  Erased flash
 * reads as 0xff, and discard erases whole erase blocks.
 */
#ifndef _PFLASH_H
#define _PFLASH_H

#include <linux/blk-mq.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/types.h>

#define PFLASH_ERASED_BYTE	0xff

/**
 * struct pflash_config - what DEV_NEW (or a module parameter) asks for
 * @index: the index to take, or -1 for the lowest free one
 * @size: device size in bytes
 * @block_size: logical block size in bytes
 * @erase_size: erase-block size in bytes
 * @read_only: refuse writes
 */
struct pflash_config {
	int index;
	u64 size;
	u32 block_size;
	u32 erase_size;
	bool read_only;
};

/**
 * struct pflash_dev - one /dev/pflashN
 *
 * The geometry (@index, @size, @block_size, @erase_size, @read_only) and
 * @disk are fixed from creation to destruction and read without locks.
 *
 * @data: the contents, @size bytes.  The data path reads and writes it
 *	without locks: the block layer keeps requests inside the device and
 *	the buffer outlives every request (del_gendisk() drains the queue
 *	before the buffer is freed).
 * @ref: keeps the structure alive for lookups that drop pflash_devs_lock;
 *	the registry holds one reference until the device is destroyed.
 * @ctl_lock: serializes control operations on the device (destroy, and
 *	every later state change).  May be held across sleeping operations;
 *	never taken from the data path, and never taken while holding
 *	pflash_devs_lock.
 * @claimed: set under disk->open_mutex (and @ctl_lock) by destroy once it
 *	has seen no openers; ->open refuses new openers while it is set.
 * @dead: set under @ctl_lock once destroy is committed; a holder of @ref
 *	that takes @ctl_lock and finds @dead set must not touch @disk or
 *	@data.
 */
struct pflash_dev {
	int index;
	u64 size;
	u32 block_size;
	u32 erase_size;
	bool read_only;

	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	u8 *data;

	struct kref ref;
	struct mutex ctl_lock;
	bool claimed;
	bool dead;
};

/* main.c: the registry of devices */
struct pflash_dev *pflash_dev_create(const struct pflash_config *cfg,
				     struct netlink_ext_ack *extack);
int pflash_dev_destroy(struct pflash_dev *dev, struct netlink_ext_ack *extack);
struct pflash_dev *pflash_dev_get(u32 index);
struct pflash_dev *pflash_dev_get_next(u32 *index);
void pflash_dev_put(struct pflash_dev *dev);
int pflash_config_check(const struct pflash_config *cfg, struct nlattr **attrs,
			struct netlink_ext_ack *extack);

/* blk.c: the block device and its data path */
int pflash_blk_init(void);
void pflash_blk_exit(void);
int pflash_blk_add(struct pflash_dev *dev);
int pflash_blk_claim(struct pflash_dev *dev);
void pflash_blk_del(struct pflash_dev *dev);

/* netlink.c: the generic netlink family */
int pflash_nl_register(void);
void pflash_nl_unregister(void);

#endif /* _PFLASH_H */
