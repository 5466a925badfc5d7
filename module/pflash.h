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
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/pflash.h>

#include "compat.h"

#define PFLASH_ERASED_BYTE	0xff

/**
 * DOC: Locking
 *
 * Every lock of pflash, what it guards, and whether its holder may sleep.
 * Each is taken only in the order of this list, top to bottom; a lock not
 * listed above another is never held while taking it.
 * Documentation/pflash/internals.rst draws the paths that take them.
 *
 * 1. dev->ctl_lock (mutex): serializes the control operations on one
 *    device: destroy, inactivate and activate, flush, import, each piece of
 *    an export, and the reports of netlink replies and events.  Guards
 *    @life (with disk->open_mutex), @epoch, @uuid, @flush_pending,
 *    @claim, @content_gen, @import and @backing_reported,
 *    the writes of @state and @data, and (with pflash_marks_lock) the
 *    writes of @mark.  Its holder may sleep: it does file I/O, waits
 *    for RCU grace periods and allocates memory.  Never taken in the
 *    data path, nor by the writeback worker; the work item that announces
 *    what a writeback pass saw of the backing file takes it (sysfs.c).
 *    Taken with pflash_dev_lock_live(), which refuses a device that is
 *    being destroyed; no two devices' ctl_locks are held at once.  The
 *    sysfs attributes (sysfs.c) take it too, interruptibly, to read
 *    @epoch, @uuid and @flush_pending, holding sysfs's reference on the
 *    attribute, which del_gendisk() waits for: so del_gendisk() is never
 *    called under it.  The uevent of a change is sent under it.
 *
 * 2. disk->open_mutex (the block layer's): held by the block layer around
 *    pflash_open(); pflash takes it for each change of @life (under
 *    @ctl_lock, but for the first, of a device no one else has yet) and,
 *    under @ctl_lock, to look at the device's openers and holder.  Nothing
 *    is taken under it.
 *
 * 3. The block device's inode lock (the block layer's, i_rwsem of
 *    @bd_mapping->host), which buffered writes hold shared: inactivation
 *    takes it under @ctl_lock and lets it go at once, to wait for the
 *    writes that passed the read-only check (pflash_blk_refuse_writes()).
 *    Nothing is taken under it.
 *
 * 4. dev->wb_lock (mutex): serializes writeback passes.  Guards @wb_pass,
 *    @wb_err, the marking of @dirty by an import's commit and the writes of
 *    @owns_backing and @owner_lost.  Its holder may sleep: it writes and
 *    fsyncs the backing file.  Taken by the writeback worker and the
 *    periodic writeback with no other lock, and by control operations
 *    under @ctl_lock.
 *
 * 5. The backing file's own locks (its inode's, its filesystem's, and if
 *    it is a block device, that device's queue): taken by the file I/O of
 *    a pass, under @wb_lock; by the OFD lock's changes, the reading of
 *    the file's change attribute and the cutting of an extended file,
 *    under @ctl_lock; and by the look at the lock after a pass failed
 *    (backing.c), under @wb_lock.  A backing file on another pflash
 *    device only ever reaches that device's data path: a pass never waits
 *    for another device's @ctl_lock or @wb_lock.
 *
 * Leaves, under which nothing is taken; each may be taken under any of
 * the above:
 *
 * - The XArray pflash_devs' own spinlock (registry.c): guards the registry.
 *   Held only to look a device up and take a reference on it; no sleeping.
 * - pflash_msgs_lock (mutex, backing.c): guards the extended-ack messages
 *   that name a backing file, kept until the module unloads.  Taken under
 *   @ctl_lock to find or keep one; its holder allocates (GFP_KERNEL).
 * - dev->pending_lock (spinlock, interrupts off): guards @pending, and
 *   @hold and @held, the writes an inactivation holds back.  Taken by the
 *   data path, in any context, by the writeback worker, and to hold and
 *   release writes.
 * - pflash_marks_lock (spinlock, backing.c): guards every device's
 *   @mark and the list of marks, which activation searches for the mark
 *   an import named.  No sleeping.
 *
 * Without a lock: the data path reads @hold and @state (READ_ONCE()),
 * @data, the fixed @cfg and @backing, and marks @dirty with atomic bit
 * operations; arming the periodic writeback reads @owns_backing with
 * READ_ONCE(); the sysfs attributes read @state and @wb_err with
 * READ_ONCE(), the weight of @dirty, and the fixed members; whoever looks
 * at the backing file sets @backing_state with xchg().  A
 * device that is %PFLASH_DEV_NEW is its creator's alone, which sets it up
 * without locks; one that is %PFLASH_DEV_DEAD changes no more, so the
 * report of its destruction reads it without @ctl_lock.
 */

/**
 * enum pflash_life - where a device is in its life
 * @PFLASH_DEV_NEW: pflash_dev_create() is building it.  Its index is
 *	reserved, but lookups do not find it yet.
 * @PFLASH_DEV_LIVE: registered: lookups find it, it opens, and control
 *	operations change it.
 * @PFLASH_DEV_CLAIMED: destroy holds it, with @ctl_lock, and found no
 *	opener: pflash_open() turns newcomers away while the final writeback
 *	runs.  Back to live if that fails.
 * @PFLASH_DEV_DEAD: destroy is committed: nothing opens it or changes it
 *	any more, and pflash_dev_teardown() follows.
 *
 * A device moves down this list, one function per step (dev.c):
 * pflash_dev_publish(), pflash_dev_claim() (and pflash_dev_unclaim(), the
 * one step back), pflash_dev_kill(); pflash_dev_teardown() then takes it
 * apart and gives its index back.
 */
enum pflash_life {
	PFLASH_DEV_NEW,
	PFLASH_DEV_LIVE,
	PFLASH_DEV_CLAIMED,
	PFLASH_DEV_DEAD,
};

/**
 * struct pflash_config - a device's settings, fixed at its creation
 * @size: its size in bytes
 * @block_size: its logical block size in bytes
 * @erase_size: its erase-block size in bytes
 * @read_only: it refuses writes
 * @cache_mode: when writes reach the backing file
 * @wb_interval_ms: the period of the writeback in writeback mode, 0 for
 *	none
 *
 * uapi/linux/pflash.h gives the rules; pflash_block_size_valid(),
 * pflash_erase_size_valid() and pflash_size_valid() hold those that no
 * netlink policy can check.
 */
struct pflash_config {
	u64 size;
	u32 block_size;
	u32 erase_size;
	bool read_only;
	enum pflash_cache_mode cache_mode;
	unsigned int wb_interval_ms;
};

/**
 * struct pflash_file_id - a file's identity, as stat(2) gives it
 * @dev: st_dev, the device of the filesystem that holds it (makedev())
 * @ino: st_ino, its inode number
 */
struct pflash_file_id {
	u64 dev;
	u64 ino;
};

/**
 * enum pflash_backing_state - whether the backing file is still where it was
 * @PFLASH_BACKING_OK: the path it had at the device's creation names it
 * @PFLASH_BACKING_MOVED: it was moved, it or a directory above it, within
 *	its filesystem: that path names another file, or none.  Nothing is
 *	lost: the device still writes the file, where it is now.
 * @PFLASH_BACKING_DELETED: it was deleted, or replaced by another file
 *	renamed over it: no path names it any more, and its contents go with
 *	the device.  Terminal: a deleted file is never linked again.
 *
 * See "A lost backing file" in uapi/linux/pflash.h, and backing.c.  Only a
 * regular file is ever lost: a block device's data is the device's,
 * whatever happens to the node that named it.
 */
enum pflash_backing_state {
	PFLASH_BACKING_OK,
	PFLASH_BACKING_MOVED,
	PFLASH_BACKING_DELETED,
};

/**
 * struct pflash_create - what DEV_NEW (or a module parameter) asks for
 * @cfg: the new device's settings, checked already
 * @index: the index to take, or -1 for the lowest free one
 * @backing: the backing file, or NULL; the device takes its own reference
 * @state: active, or inactive (the incoming side of a move)
 * @uuid: the identity to take, or all zero for a random one
 */
struct pflash_create {
	struct pflash_config cfg;
	int index;
	struct file *backing;
	enum pflash_state state;
	u8 uuid[PFLASH_UUID_LEN];
};

/**
 * struct pflash_file_mark - what a device knows its backing file holds
 * @node: on the list of marks (backing.c), while @token is set
 * @token: names the mark in an export's END record, for an import on this
 *	host to find it; random, never 0
 * @inode: the backing file's inode, which the device's own file pins for
 *	as long as the mark is on the list
 * @cookie: the file's change attribute (i_version) when the mark was made
 * @isize: the file's size then
 * @gen: the device's @content_gen then
 *
 * A mark says: when the file's change attribute was @cookie, the file held
 * exactly the device's contents as they were at @gen, and any change to
 * the file since changes its attribute.  backing.c makes a mark only where
 * the file system keeps such an attribute, and checks it against the file
 * itself before it relies on it (see "Proving the file equal" there).
 */
struct pflash_file_mark {
	struct list_head node;
	u64 token;
	struct inode *inode;
	u64 cookie;
	loff_t isize;
	u64 gen;
};

/**
 * struct pflash_dev - one /dev/pflashN
 * @index: N
 * @cfg: its settings
 * @backing: its backing file, or NULL
 * @backing_path: the backing file's path at creation, as its creator saw
 *	it (d_path()): what messages name it by
 * @backing_fs_path: the backing file's path within its filesystem at
 *	creation (dentry_path_raw()), to know whether it moved; NULL if it
 *	is not a regular file, or its path is too long to keep.  As many
 *	bytes follow it, where a look under @ctl_lock puts the path now.
 * @backing_id: the backing file's identity, as netlink reports it
 * @backing_fits: the backing file was a regular file of the device's size
 *	when the device was created: activation cuts off what was appended
 *	to it since
 * @disk: the block device
 * @wq: the writeback worker's workqueue, for a device that writes back
 *
 * The members above are fixed from creation to destruction and read
 * without locks.  The locks, and what each guards, are in "Locking" above.
 *
 * @data: the contents, @cfg.size bytes.  The data path reads and writes it
 *	without locks: the block layer keeps bios inside the device, and the
 *	buffer outlives every bio (del_gendisk() drains the queue before the
 *	buffer is freed).  Replaced only by an import's commit and an
 *	activation's reload of the file (pflash_blk_replace()), under
 *	@ctl_lock, with nothing dirty for a writeback pass to read.  The data
 *	path reads it once per bio, and an import from a file reads it with
 *	no lock held, both in an RCU read-side critical section: a
 *	replacement, and the teardown, free the old buffer after a grace
 *	period.
 * @ref: keeps the structure alive for lookups; the registry holds one
 *	reference until the device is torn down.
 * @ctl_lock: serializes control operations; see "Locking".
 * @life: &enum pflash_life; changed under @ctl_lock and disk->open_mutex,
 *	read under either.
 *
 * Ownership (owner.c):
 *
 * @state: &enum pflash_state.  Written under @ctl_lock, and for the change
 *	to inactive with writes held back (@hold); read without locks by the
 *	data path and pflash_open(), which accept writes only while active.
 * @owns_backing: the device holds its backing file's lock and may write
 *	the file.  Written under @ctl_lock and @wb_lock, or by a pass that
 *	found the lock lost, under @wb_lock alone; a writeback pass writes
 *	nothing unless it is set.  It is set a little before @state turns
 *	active (to write what activation owes) and cleared right after it
 *	turns inactive.
 * @owner_lost: a writeback pass failed, and found its backing file's lock
 *	held by another owner: a lock lost on a network filesystem.  Set
 *	once, with @owns_backing cleared, under @wb_lock, and never cleared;
 *	read with READ_ONCE().  @state follows, to %PFLASH_STATE_LOST, under
 *	@ctl_lock, from @notice_work or the control operation that sees it
 *	first.
 * @epoch: the ownership epoch, under @ctl_lock.
 *
 * Migration (export.c, import.c), all under @ctl_lock:
 *
 * @uuid: the device's identity, which exported state carries.
 * @flush_pending: the device owes its backing file a flush, which
 *	activation performs: it leaves every byte of the file equal to the
 *	device, and fsyncs it (owner.c).  Set by an import, unless the device
 *	is read-only or has no backing file.
 * @mark: what the device knows its backing file holds, if @mark.token is
 *	set; written under @ctl_lock and pflash_marks_lock, read under
 *	either.
 * @claim: the token of the mark the last import's stream named: the
 *	backing file of the device that exported it, as it held the stream's
 *	contents; 0 for none.
 * @content_gen: counts the activations and imports, the events after
 *	which an earlier export no longer shows the device's final state.
 * @import: the import in progress, or NULL.
 * @live: the live export in progress (live.c), or NULL.
 * @live_track: while a live export runs, its bits of the granules written
 *	since its current pass began; set (READ_ONCE()) and cleared under
 *	@ctl_lock, each followed by pflash_blk_sync(), and read without a
 *	lock by the data path, which sets bits in it after it wrote.
 *
 * The backing file's fate (backing.c, sysfs.c):
 *
 * @backing_state: &enum pflash_backing_state, as last seen: changed with
 *	xchg() by whoever looks (a writeback pass, a control operation),
 *	read with READ_ONCE().
 * @backing_reported: the state the last uevent announced, under
 *	@ctl_lock.
 * @notice_work: acts on what a writeback pass saw, which cannot take
 *	@ctl_lock: announces a change of the backing file's fate, and turns
 *	a device that lost its lock %PFLASH_STATE_LOST; holds a reference
 *	on the device while queued.
 *
 * Dirty tracking and writeback (writeback.c), for a device with a writable
 * backing file:
 *
 * @dirty_shift: log2 of the granule of dirty tracking
 * @nr_granules: the number of granules, @cfg.size >> @dirty_shift
 * @dirty: one bit per granule of 1 << @dirty_shift bytes that was written
 *	and is not yet known durable in @backing.  Set by the data path
 *	after it copied the data, taken (word by word, with xchg) by a
 *	writeback pass before it reads the data, so a write that races with
 *	a pass is written again by the next one.
 * @dirty_words: the summary of @dirty, one bit per word of it: set after a
 *	bit of the word (a full barrier between, writeback.c), taken (xchg)
 *	by a pass before the word, so that a pass reads only the words
 *	written since the last, not all of them.  A bit may stay set for a
 *	word that a pass already took: the next pass finds it empty.
 * @wb_lock: serializes writeback passes; see "Locking".
 * @wb_pass: the granules the running pass writes; put back into @dirty if
 *	the pass fails.
 * @wb_err: positive errno of the last failed pass, 0 after a good one.
 *	Written under @wb_lock, read with READ_ONCE().
 * @pending_lock: guards @pending, @hold and @held; see "Locking".
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
	struct pflash_config cfg;
	struct file *backing;
	char *backing_path;
	char *backing_fs_path;
	struct pflash_file_id backing_id;
	bool backing_fits;
	struct gendisk *disk;
	struct workqueue_struct *wq;
	u8 *data;

	unsigned int dirty_shift;
	unsigned long nr_granules;
	unsigned long *dirty;
	unsigned long *dirty_words;
	struct mutex wb_lock;		/* see "Locking" */
	unsigned long *wb_pass;
	int wb_err;
	spinlock_t pending_lock;	/* see "Locking" */
	struct bio_list pending;
	bool hold;
	struct bio_list held;
	struct work_struct wb_work;
	struct delayed_work periodic_work;

	struct kref ref;
	struct mutex ctl_lock;		/* see "Locking" */
	enum pflash_life life;

	enum pflash_state state;
	bool owns_backing;
	bool owner_lost;
	u64 epoch;

	u8 uuid[PFLASH_UUID_LEN];
	bool flush_pending;
	struct pflash_file_mark mark;
	u64 claim;
	u64 content_gen;
	struct pflash_import *import;
	struct pflash_live *live;
	unsigned long *live_track;

	int backing_state;
	int backing_reported;
	struct work_struct notice_work;
};

/*
 * The rules of uapi/linux/pflash.h that no netlink policy can check, a
 * policy checking one attribute against a range: the policies and the
 * module parameters' checks check the ranges.
 */
static inline bool pflash_block_size_valid(u32 block_size)
{
	return block_size == 512 || block_size == 4096;
}

static inline bool pflash_erase_size_valid(u32 erase_size, u32 block_size)
{
	return is_power_of_2(erase_size) && erase_size >= block_size;
}

static inline bool pflash_size_valid(u64 size, u32 erase_size)
{
	return IS_ALIGNED(size, erase_size);
}

/* Whether a device of this geometry can be: all of the above, and ranges. */
static inline bool pflash_geometry_valid(u64 size, u32 block_size,
					 u32 erase_size)
{
	return pflash_block_size_valid(block_size) &&
	       pflash_erase_size_valid(erase_size, block_size) &&
	       erase_size <= PFLASH_ERASE_SIZE_MAX &&
	       size >= erase_size && size <= PFLASH_SIZE_MAX &&
	       pflash_size_valid(size, erase_size);
}

/* registry.c: the registry of devices, and a device's references */
struct pflash_dev *pflash_dev_get(u32 index);
struct pflash_dev *pflash_dev_get_next(u32 *index);
void pflash_dev_put(struct pflash_dev *dev);
int pflash_dev_find_backing(const struct pflash_file_id *id);
int pflash_registry_reserve(int index, struct netlink_ext_ack *extack);
void pflash_registry_release(int index);
void pflash_registry_publish(struct pflash_dev *dev);
void pflash_registry_exit(void);

/*
 * A change that no request made, told to the layers above, which the
 * lowest layer must not call (netlink.c announces it on its events group).
 * Called with the device's ctl_lock held, the device as data.
 */
enum pflash_dev_event {
	PFLASH_DEV_EVENT_LOST,	/* turned %PFLASH_STATE_LOST */
};

extern struct blocking_notifier_head pflash_dev_events;

/* dev.c: the lives of devices */
struct pflash_dev *pflash_dev_create(const struct pflash_create *args,
				     struct netlink_ext_ack *extack);
int pflash_dev_retire(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack);
void pflash_dev_teardown(struct pflash_dev *dev);
void pflash_dev_destroy_all(void);
void pflash_dev_release_socket(u32 portid);

/**
 * pflash_dev_lock_live() - take a device's ctl_lock, unless it is dying
 * @dev: the device, with a reference held by the caller
 * @extack: where to say why not, or NULL
 *
 * Every control operation starts here: with ctl_lock held, a device that
 * is live stays live until it is dropped (destroy takes ctl_lock too).
 * This is the lock function of ctl_lock: the one function that returns
 * with a lock held (see "Layers" in Documentation/pflash/internals.rst).
 *
 * Return: 0 with @dev->ctl_lock held, or -ENODEV if the device is being
 * destroyed.
 */
static inline int pflash_dev_lock_live(struct pflash_dev *dev,
				       struct netlink_ext_ack *extack)
{
	mutex_lock(&dev->ctl_lock);
	if (dev->life != PFLASH_DEV_LIVE) {
		mutex_unlock(&dev->ctl_lock);
		NL_SET_ERR_MSG(extack, "the device is being destroyed");
		return -ENODEV;
	}
	return 0;
}

/* A writable device with a backing file: the only kind that writes back. */
static inline bool pflash_writes_back(const struct pflash_dev *dev)
{
	return dev->backing && !dev->cfg.read_only;
}

/*
 * Whether writes are accepted now; the data path calls it without locks.
 * Not in %PFLASH_STATE_LOST, nor %PFLASH_STATE_INACTIVE.
 */
static inline bool pflash_writable(const struct pflash_dev *dev)
{
	return !dev->cfg.read_only &&
	       READ_ONCE(dev->state) == PFLASH_STATE_ACTIVE;
}

/* backing.c: the backing file */
struct file *pflash_backing_open(u32 fd, bool read_only,
				 struct netlink_ext_ack *extack);
u64 pflash_backing_size(struct file *file);
int pflash_backing_attach(struct pflash_dev *dev, struct file *file,
			  struct netlink_ext_ack *extack);
void pflash_backing_detach(struct pflash_dev *dev);
int pflash_backing_read(struct pflash_dev *dev, u8 *buf, u64 pos, u64 len);
int pflash_backing_write(struct pflash_dev *dev, u64 pos, u64 len);
int pflash_backing_sync(struct pflash_dev *dev);
int pflash_file_id(struct file *file, struct pflash_file_id *id);
char *pflash_backing_path_now(struct pflash_dev *dev, char *buf);
int pflash_backing_gone(struct pflash_dev *dev);
int pflash_backing_check(struct pflash_dev *dev, bool moved,
			 struct netlink_ext_ack *extack);
void pflash_backing_exit(void);
int pflash_backing_setlk(struct pflash_dev *dev, unsigned char type);
bool pflash_backing_fault(void);
void pflash_backing_fault_init(void);
void pflash_backing_fault_exit(void);
void pflash_backing_check_lost(struct pflash_dev *dev, bool injected);
void pflash_backing_lost_noticed(struct pflash_dev *dev);
int pflash_backing_refuse_lost(struct pflash_dev *dev,
			       struct netlink_ext_ack *extack);
void pflash_backing_mark(struct pflash_dev *dev);
u64 pflash_backing_mark_token(struct pflash_dev *dev);

/**
 * enum pflash_backing_proof - what is proven of the backing file
 * @PFLASH_PROOF_NONE: nothing: it may hold anything
 * @PFLASH_PROOF_BASE: it holds the device's contents but for the dirty
 *	granules
 * @PFLASH_PROOF_ALL: it holds the device's contents, every byte
 */
enum pflash_backing_proof {
	PFLASH_PROOF_NONE,
	PFLASH_PROOF_BASE,
	PFLASH_PROOF_ALL,
};

enum pflash_backing_proof pflash_backing_prove(struct pflash_dev *dev);
int pflash_backing_fit(struct pflash_dev *dev);

/* owner.c: ownership of the backing file */
int pflash_owner_start(struct pflash_dev *dev, enum pflash_state state,
		       struct netlink_ext_ack *extack);
void pflash_owner_give_up(struct pflash_dev *dev);
int pflash_activate_epoch(const struct pflash_dev *dev, const u64 *want,
			  u64 *epoch, struct netlink_ext_ack *extack);
int pflash_activate(struct pflash_dev *dev, u64 epoch,
		    struct netlink_ext_ack *extack);
int pflash_inactivate(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack);
int pflash_owner_drop_lost(struct pflash_dev *dev, bool force,
			   struct netlink_ext_ack *extack);

/**
 * struct pflash_transfer_result - what a transfer through a file moved
 * @stream_bytes: the stream's length (of a live export's pass: the bytes
 *	of the pass)
 * @final: the stream is a device's final state: its END record says so
 * @live: it was a pass of a live export: @pass and @pending are set
 * @pass: (a live export) the number of the pass
 * @pending: (a live export) the bytes written to the device since the
 *	pass began: what the next pass would send, at most
 */
struct pflash_transfer_result {
	u64 stream_bytes;
	bool final;
	bool live;
	u32 pass;
	u64 pending;
};

/**
 * struct pflash_live_req - what a pass of a live export asks for
 * @portid: the netlink socket that drives the export
 * @pass: the number of the pass: 0 starts the export, and each later one
 *	must be the next
 * @final: it is the last pass; the device must be inactive
 */
struct pflash_live_req {
	u32 portid;
	u32 pass;
	bool final;
};

/* live.c: live exports, in passes, and what changes meanwhile */
int pflash_live_pass(struct pflash_dev *dev, struct file *file,
		     const struct pflash_live_req *req,
		     struct pflash_transfer_result *res,
		     struct netlink_ext_ack *extack);
void pflash_live_end(struct pflash_dev *dev);
void pflash_live_release(struct pflash_dev *dev, u32 portid);
unsigned int pflash_live_count(void);

/* transfer.c: the state stream through a file descriptor */
struct file *pflash_transfer_open(u32 fd, bool write,
				  struct netlink_ext_ack *extack);
int pflash_transfer_write(struct file *file, loff_t *pos, const u8 *buf,
			  size_t len, struct netlink_ext_ack *extack);
ssize_t pflash_transfer_read(struct file *file, loff_t *pos, u8 *buf,
			     size_t len, struct netlink_ext_ack *extack);

/* export.c: producing the state stream */
struct pflash_export;
struct pflash_export *pflash_export_start(struct pflash_dev *dev);
u64 pflash_export_offset(const struct pflash_export *ex);
u32 pflash_export_read(struct pflash_export *ex, u8 *buf, u32 len);
void pflash_export_free(struct pflash_export *ex);
void pflash_export_next_pass(struct pflash_export *ex,
			     const unsigned long *ranges, bool final);
u32 pflash_export_pass_nr(const struct pflash_export *ex);
int pflash_export_write(struct pflash_dev *dev, struct pflash_export *ex,
			struct file *file, struct pflash_transfer_result *res,
			struct netlink_ext_ack *extack);
int pflash_export_file(struct pflash_dev *dev, struct file *file,
		       struct pflash_transfer_result *res,
		       struct netlink_ext_ack *extack);

/* import.c: consuming the state stream */
int pflash_import(struct pflash_dev *dev, u32 portid, u64 offset,
		  const u8 *buf, u32 len, bool *committed,
		  struct netlink_ext_ack *extack);
void pflash_import_end(struct pflash_dev *dev);
void pflash_import_release(struct pflash_dev *dev, u32 portid);
unsigned int pflash_import_count(void);
struct pflash_import *pflash_import_file_read(struct pflash_dev *dev,
					      struct file *file,
					      struct netlink_ext_ack *extack);
int pflash_import_file_commit(struct pflash_dev *dev,
			      struct pflash_import *imp,
			      struct pflash_transfer_result *res,
			      struct netlink_ext_ack *extack);
void pflash_import_file_free(struct pflash_import *imp);

/* writeback.c: dirty tracking and writing back */
int pflash_wb_init(struct pflash_dev *dev);
void pflash_wb_exit(struct pflash_dev *dev);
bool pflash_mark_granules(struct pflash_dev *dev, unsigned long *bits,
			  u64 pos, u64 len);
void pflash_wb_mark_dirty(struct pflash_dev *dev, u64 pos, u64 len);
void pflash_wb_mark_owed(struct pflash_dev *dev, const unsigned long *owed);
void pflash_wb_defer(struct pflash_dev *dev, struct bio *bio);
/**
 * enum pflash_wb_what - what a writeback pass writes
 * @PFLASH_WB_DIRTY: the dirty granules; nothing, and no fsync, if none
 * @PFLASH_WB_OWED: the dirty granules, and an fsync even if there are
 *	none: what activation owes after an import, once the backing file is
 *	proven to hold the device's contents but for them
 * @PFLASH_WB_ALL: the whole device
 * @PFLASH_WB_NONE: nothing, and an fsync; the dirty granules are dropped:
 *	the backing file is proven to hold the device's contents already
 */
enum pflash_wb_what {
	PFLASH_WB_DIRTY,
	PFLASH_WB_OWED,
	PFLASH_WB_ALL,
	PFLASH_WB_NONE,
};

int pflash_wb_flush(struct pflash_dev *dev, enum pflash_wb_what what);
u64 pflash_wb_dirty_bytes(struct pflash_dev *dev);

/*
 * Note that [@pos, @pos + @len) was written, for a live export, if one
 * runs (see live.c).  The data path; any context.
 */
static inline void pflash_live_mark(struct pflash_dev *dev, u64 pos, u64 len)
{
	unsigned long *track = READ_ONCE(dev->live_track);

	if (unlikely(track))
		pflash_mark_granules(dev, track, pos, len);
}

/* blk.c: the block device and its data path */
int pflash_open(struct gendisk *disk, blk_mode_t mode);
bool pflash_blk_is_pflash(struct block_device *bdev, struct pflash_dev **devp);
int pflash_blk_init(void);
void pflash_blk_exit(void);
int pflash_blk_add(struct pflash_dev *dev);
bool pflash_blk_held_exclusively(struct pflash_dev *dev);
bool pflash_blk_mapped_for_writing(struct pflash_dev *dev);
void pflash_blk_refuse_writes(struct pflash_dev *dev);
void pflash_blk_accept_writes(struct pflash_dev *dev);
void pflash_blk_refuse_writes_lost(struct pflash_dev *dev);
void pflash_blk_hold(struct pflash_dev *dev);
void pflash_blk_sync(struct pflash_dev *dev);
void pflash_blk_release(struct pflash_dev *dev);
void pflash_blk_replace(struct pflash_dev *dev, u8 **data);
void pflash_blk_drop_contents(u8 *data);
void pflash_blk_del(struct pflash_dev *dev);

/* sysfs.c: the state in sysfs, and its uevents */
extern const struct attribute_group *pflash_sysfs_groups[];
void pflash_sysfs_changed(struct pflash_dev *dev);
void pflash_sysfs_init(struct pflash_dev *dev);
void pflash_sysfs_backing_changed(struct pflash_dev *dev);
void pflash_sysfs_noticed(struct pflash_dev *dev);
void pflash_sysfs_exit(struct pflash_dev *dev);

/* netlink.c: the generic netlink family */
int pflash_nl_register(void);
void pflash_nl_unregister(void);

#endif /* _PFLASH_H */
