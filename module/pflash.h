/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflash: RAM-backed parallel-flash block devices.
 *
 * Each device keeps its whole contents in one vmalloc buffer.  Erased flash
 * reads as 0xff, and discard erases whole erase blocks.
 */
#ifndef _PFLASH_H
#define _PFLASH_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/pflash.h>

#include "compat.h"

#define PFLASH_ERASED_BYTE	0xff

/**
 * struct pflash_config - what DEV_NEW (or a module parameter) asks for
 * @index: the index to take, or -1 for the lowest free one
 * @size: device size in bytes
 * @block_size: logical block size in bytes
 * @erase_size: erase-block size in bytes
 * @read_only: refuse writes
 * @backing: the backing file, or NULL; the device takes its own reference
 * @cache_mode: when writes reach @backing
 * @wb_interval_ms: period of the writeback in writeback mode, 0 for none
 * @state: active, or inactive (the incoming side of a move)
 * @uuid: the identity to take, or all zero for a random one
 */
struct pflash_config {
	int index;
	u64 size;
	u32 block_size;
	u32 erase_size;
	bool read_only;
	struct file *backing;
	enum pflash_cache_mode cache_mode;
	unsigned int wb_interval_ms;
	enum pflash_state state;
	u8 uuid[PFLASH_UUID_LEN];
};

/**
 * struct pflash_dev - one /dev/pflashN
 * @index: N
 * @size: the device's size in bytes
 * @block_size: its logical block size
 * @erase_size: its erase-block size
 * @read_only: it refuses writes
 * @backing: its backing file, or NULL
 * @backing_path: the backing file's path, as reported
 * @cache_mode: when writes reach @backing
 * @wb_interval_ms: the period of the writeback in writeback mode
 * @disk: the block device
 * @wq: the writeback worker's workqueue, for a device that writes back
 *
 * The members above are fixed from creation to destruction and read
 * without locks.
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
 *
 * Ownership (owner.c):
 *
 * @state: &enum pflash_state.  Written under @ctl_lock, and for the change
 *	to inactive with writes held back (@hold); read without locks by the
 *	data path and pflash_open(), which accept writes only while active.
 * @owner: the device holds its backing file's lock and may write the
 *	file.  Written under @ctl_lock and @wb_lock; a writeback pass writes
 *	nothing unless it is set.  It is set a little before @state turns
 *	active (to write what activation owes) and cleared right after it
 *	turns inactive.
 * @epoch: the ownership epoch, under @ctl_lock.
 *
 * Migration (export.c, import.c), all under @ctl_lock:
 *
 * @uuid: the device's identity, which exported state carries.
 * @flush_pending: the device owes its backing file a full flush, which
 *	activation performs.  Set by an import, unless the device is
 *	read-only or has no backing file.
 * @content_gen: counts the activations and imports, the events after
 *	which an earlier export no longer shows the device's final state.
 * @import: the import in progress, or NULL.  @data is replaced only by
 *	committing one, with @ctl_lock held and the queue frozen, on an
 *	inactive device, whose writeback passes do not read it: so @data is
 *	stable for holders of @ctl_lock and for a pass of an active device.
 *
 * Dirty tracking and writeback (writeback.c), for a device with a writable
 * backing file:
 *
 * @dirty_shift: log2 of the granule of dirty tracking
 * @nr_granules: the number of granules, @size >> @dirty_shift
 * @dirty: one bit per granule of 1 << @dirty_shift bytes that was written
 *	and is not yet known durable in @backing.  Set by the data path
 *	after it copied the data, taken (word by word, with xchg) by a
 *	writeback pass before it reads the data, so a write that races with
 *	a pass is written again by the next one.
 * @wb_lock: serializes writeback passes and guards @wb_pass.  Held across
 *	file I/O; never taken in the data path.  Taken inside @ctl_lock,
 *	never the other way round.
 * @wb_pass: the granules the running pass writes; put back into @dirty if
 *	the pass fails.
 * @wb_err: positive errno of the last failed pass, 0 after a good one.
 *	Written under @wb_lock, read with READ_ONCE().
 * @pending_lock: guards @pending, @hold and @held; taken in the data path
 *	(any context).
 * @pending: served bios that complete after the next pass: writes in
 *	writethrough mode, flushes and FUA writes in writeback mode.
 * @hold: writes are held back on @held, unserved, while an inactivation
 *	writes back its last pass (blk.c).  Set under @ctl_lock too.
 * @held: the writes held back.
 * @wb_work: runs a pass on @wq and completes what was on @pending.
 * @periodic_work: the periodic writeback in writeback mode.
 */
struct pflash_dev {
	int index;
	u64 size;
	u32 block_size;
	u32 erase_size;
	bool read_only;

	struct file *backing;
	char *backing_path;
	enum pflash_cache_mode cache_mode;
	unsigned int wb_interval_ms;

	struct gendisk *disk;
	struct workqueue_struct *wq;
	u8 *data;

	unsigned int dirty_shift;
	unsigned long nr_granules;
	unsigned long *dirty;
	struct mutex wb_lock;		/* writeback passes; see above */
	unsigned long *wb_pass;
	int wb_err;
	spinlock_t pending_lock;	/* guards @pending; see above */
	struct bio_list pending;
	bool hold;
	struct bio_list held;
	struct work_struct wb_work;
	struct delayed_work periodic_work;

	struct kref ref;
	struct mutex ctl_lock;		/* control operations; see above */
	bool claimed;
	bool dead;

	enum pflash_state state;
	bool owner;
	u64 epoch;

	u8 uuid[PFLASH_UUID_LEN];
	bool flush_pending;
	u64 content_gen;
	struct pflash_import *import;
};

/* main.c: the registry of devices */
struct pflash_dev *pflash_dev_create(const struct pflash_config *cfg,
				     struct netlink_ext_ack *extack);
int pflash_dev_retire(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack);
void pflash_dev_teardown(struct pflash_dev *dev);
struct pflash_dev *pflash_dev_get(u32 index);
struct pflash_dev *pflash_dev_get_next(u32 *index);
void pflash_dev_put(struct pflash_dev *dev);
int pflash_config_check(const struct pflash_config *cfg, struct nlattr **attrs,
			struct netlink_ext_ack *extack);

/* A writable device with a backing file: the only kind that writes back. */
static inline bool pflash_writes_back(const struct pflash_dev *dev)
{
	return dev->backing && !dev->read_only;
}

/* Whether writes are accepted now; the data path calls it without locks. */
static inline bool pflash_writable(const struct pflash_dev *dev)
{
	return !dev->read_only &&
	       READ_ONCE(dev->state) == PFLASH_STATE_ACTIVE;
}

/* backing.c: the backing file */
struct file *pflash_backing_open(u32 fd, bool read_only, struct nlattr *attr,
				 struct netlink_ext_ack *extack);
u64 pflash_backing_size(struct file *file);
int pflash_backing_attach(struct pflash_dev *dev, struct file *file,
			  struct netlink_ext_ack *extack);
void pflash_backing_detach(struct pflash_dev *dev);
int pflash_backing_write(struct pflash_dev *dev, u64 pos, u64 len);
int pflash_backing_sync(struct pflash_dev *dev);

/* owner.c: ownership of the backing file */
int pflash_owner_start(struct pflash_dev *dev, enum pflash_state state,
		       struct netlink_ext_ack *extack);
void pflash_owner_stop(struct pflash_dev *dev);
int pflash_activate(struct pflash_dev *dev, const u64 *epoch,
		    struct netlink_ext_ack *extack);
int pflash_inactivate(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack);

/* export.c: producing the state stream */
struct pflash_export;
struct pflash_export *pflash_export_start(struct pflash_dev *dev);
u64 pflash_export_offset(const struct pflash_export *ex);
u32 pflash_export_read(struct pflash_export *ex, u8 *buf, u32 len);
void pflash_export_free(struct pflash_export *ex);

/* import.c: consuming the state stream */
int pflash_import(struct pflash_dev *dev, u32 portid, u64 offset,
		  const u8 *buf, u32 len, bool *committed,
		  struct netlink_ext_ack *extack);
void pflash_import_abort(struct pflash_dev *dev);
void pflash_import_release(u32 portid);

/* writeback.c: dirty tracking and writing back */
int pflash_wb_init(struct pflash_dev *dev);
void pflash_wb_exit(struct pflash_dev *dev);
void pflash_wb_mark_dirty(struct pflash_dev *dev, u64 pos, u64 len);
void pflash_wb_defer(struct pflash_dev *dev, struct bio *bio);
int pflash_wb_flush(struct pflash_dev *dev, bool full);
u64 pflash_wb_dirty_bytes(struct pflash_dev *dev);

/* blk.c: the block device and its data path */
int pflash_open(struct gendisk *disk, blk_mode_t mode);
bool pflash_blk_is_pflash(struct block_device *bdev, struct pflash_dev **devp);
int pflash_blk_init(void);
void pflash_blk_exit(void);
int pflash_blk_add(struct pflash_dev *dev);
int pflash_blk_claim(struct pflash_dev *dev);
void pflash_blk_unclaim(struct pflash_dev *dev);
bool pflash_blk_held_exclusively(struct pflash_dev *dev);
void pflash_blk_hold(struct pflash_dev *dev);
void pflash_blk_release(struct pflash_dev *dev);
void pflash_blk_del(struct pflash_dev *dev);

/* netlink.c: the generic netlink family */
int pflash_nl_register(void);
void pflash_nl_unregister(void);

#endif /* _PFLASH_H */
