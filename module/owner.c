// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: ownership of the backing file, the active and inactive states.
 *
 * Only one side may own, and so write, a backing file at any time.  An
 * active device owns its backing file and holds an OFD lock on it (a
 * shared one if the device is read-only), so that no second device, on
 * this host or through a network filesystem, can also own it.  An inactive
 * device serves reads only and never writes its backing file.
 *
 * The transitions run under the device's ctl_lock, one function each (see
 * "Locking" in pflash.h for the order of the locks they take):
 *
 * inactivate: write back the page cache and the dirty blocks while the
 *	device stays active; then hold new writes back (pflash_blk_hold(),
 *	which returns once the writes already in ->submit_bio() are served,
 *	their blocks marked dirty), write back what was dirtied meanwhile and
 *	fsync; only then turn inactive, give up the file, and let the held
 *	writes in (they find the device inactive and fail).  If a writeback
 *	fails, the device stays active and the held writes are served.
 *	Nothing is written to the file while the queue is frozen: a frozen
 *	queue could wait on reclaim that waits on this file's writeback.
 *
 * activate: take the file's lock; if an import left the device owing its
 *	backing file a flush, write every block the import made differ from
 *	the file (import.c marks them dirty) and fsync; only then turn
 *	active.  If either fails, the device stays inactive and
 *	still owes the flush.  The flush is deferred to activation, not done
 *	at import, because until then the device does not own the file:
 *	with shared storage the other side may still be using it.  If a
 *	device that writes back owes none, the file is the truth, which
 *	another owner may have written meanwhile: the device reads it
 *	again, under the lock.  A read-only device keeps what it holds: it
 *	never writes the file, and an import may have given it newer data.
 *
 * lose: a lock on a network filesystem is the server's, held under the
 *	client's lease.  A host cut off for longer than the lease may find,
 *	when it comes back, that the server gave the lock to another host;
 *	the NFS client then fails every write made under the lost lock with
 *	EIO, and never takes the lock again on its own (with
 *	nfs.recover_lost_locks=0, the default).  pflash cannot tell such an
 *	EIO from any other, so a pass that failed looks at the lock, as
 *	F_OFD_GETLK does, without taking it: on a network filesystem that
 *	asks the server.  Another owner's lock there means this device's is
 *	gone: the pass stops the device writing (@owns_backing) and marks it
 *	@owner_lost, and under ctl_lock (pflash_owner_noticed()) it turns
 *	%PFLASH_STATE_LOST, drops what remains of its lock here, and says
 *	so.  Nothing takes the lock again: the other owner has it.  On a
 *	local filesystem the lock cannot be lost, and the look finds none.
 *	A device that lost its lock never becomes active again: it is
 *	destroyed (with force, if it holds writes its file never got) and
 *	created again from the file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/vmalloc.h>

#include "pflash.h"

/*
 * Set (F_RDLCK, F_WRLCK) or drop (F_UNLCK) an OFD lock on the whole of the
 * backing file, owned by the device's own file description, as
 * fcntl(F_OFD_SETLK) does.
 */
static int pflash_owner_setlk(struct pflash_dev *dev, unsigned char type)
{
	struct file_lock fl;

	locks_init_lock(&fl);
	fl.fl_start = 0;
	fl.fl_end = OFFSET_MAX;
	fl.c.flc_flags = FL_POSIX | FL_OFDLCK;
	fl.c.flc_type = type;
	fl.c.flc_owner = dev->backing;
	fl.c.flc_file = dev->backing;
	fl.c.flc_pid = current->tgid;
	return vfs_lock_file(dev->backing, F_SETLK, &fl, NULL);
}

static int pflash_owner_lock(struct pflash_dev *dev)
{
	unsigned char type = dev->cfg.read_only ? F_RDLCK : F_WRLCK;
	int err = pflash_owner_setlk(dev, type);

	return err == -EAGAIN ? -EBUSY : err;
}

/* Unlocking the whole file allocates nothing, so it cannot fail. */
static void pflash_owner_unlock(struct pflash_dev *dev)
{
	pflash_owner_setlk(dev, F_UNLCK);
}

/*
 * Whether another owner holds a lock on the backing file that conflicts
 * with the device's, as F_OFD_GETLK of the device's own lock would say:
 * the device's own lock never conflicts, and nothing is taken.  On a
 * network filesystem this asks the server.  A look that fails finds
 * nothing.
 */
static bool pflash_owner_lock_taken(struct pflash_dev *dev)
{
	struct file_lock fl;
	bool taken;

	locks_init_lock(&fl);
	fl.fl_start = 0;
	fl.fl_end = OFFSET_MAX;
	fl.c.flc_flags = FL_POSIX | FL_OFDLCK;
	fl.c.flc_type = dev->cfg.read_only ? F_RDLCK : F_WRLCK;
	fl.c.flc_owner = dev->backing;
	fl.c.flc_file = dev->backing;
	fl.c.flc_pid = current->tgid;
	taken = !vfs_test_lock(dev->backing, &fl) &&
		fl.c.flc_type != F_UNLCK;
	locks_release_private(&fl);
	return taken;
}

/*
 * fail_pflash_lock, a fault of the kernel's fault injection (debugfs),
 * on kernels built with CONFIG_FAULT_INJECTION_DEBUG_FS alone: a pass
 * that would write fails with EIO, and the look at the lock then finds
 * another owner, as if the lock had been lost on a network filesystem.
 * It lets a test on one host drive a device into %PFLASH_STATE_LOST,
 * where no local filesystem ever would (Documentation/pflash/internals.rst).
 */
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static DECLARE_FAULT_ATTR(pflash_fail_lock);
static struct dentry *pflash_fail_lock_dir;

bool pflash_owner_fault(void)
{
	return should_fail(&pflash_fail_lock, 1);
}

void pflash_owner_fault_init(void)
{
	pflash_fail_lock_dir = fault_create_debugfs_attr("fail_pflash_lock",
							 NULL,
							 &pflash_fail_lock);
}

void pflash_owner_fault_exit(void)
{
	/* An error pointer, if it failed: debugfs takes it. */
	debugfs_remove_recursive(pflash_fail_lock_dir);
}
#else
bool pflash_owner_fault(void)
{
	return false;
}

void pflash_owner_fault_init(void)
{
}

void pflash_owner_fault_exit(void)
{
}
#endif

/**
 * pflash_owner_check_lost() - after a failed pass, whether the lock is lost
 * @dev: the device; called with its wb_lock held, by a pass that failed
 * @injected: the pass failed by fail_pflash_lock: take the lock as lost
 *
 * If another owner holds the backing file's lock, the device's is lost:
 * from now on it writes nothing to the file, and a work item turns it
 * %PFLASH_STATE_LOST (pflash_owner_noticed()).
 */
void pflash_owner_check_lost(struct pflash_dev *dev, bool injected)
{
	lockdep_assert_held(&dev->wb_lock);
	if (!dev->owns_backing ||
	    (!injected && !pflash_owner_lock_taken(dev)))
		return;
	WRITE_ONCE(dev->owns_backing, false);
	WRITE_ONCE(dev->owner_lost, true);
	pflash_sysfs_noticed(dev);
}

/**
 * pflash_owner_noticed() - turn a device that lost its lock LOST
 * @dev: the device, live; called with its ctl_lock held
 *
 * Once: a device whose pass found its lock lost (@owner_lost) turns
 * %PFLASH_STATE_LOST, gives up what is left of its lock on this host,
 * which on a network filesystem asks nothing of the server, and says so
 * in the kernel log, with a uevent and on the events group.
 */
void pflash_owner_noticed(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (!READ_ONCE(dev->owner_lost) || dev->state == PFLASH_STATE_LOST)
		return;
	WRITE_ONCE(dev->state, PFLASH_STATE_LOST);
	pflash_owner_unlock(dev);
	pr_err("pflash%d: lost the lock of its backing file %s to another owner (on a network filesystem, after this host was cut off for longer than its lease): its writes fail, and %llu bytes never reached the file; destroy the device and create it again from the file\n",
	       dev->index, dev->backing_path, pflash_wb_dirty_bytes(dev));
	pflash_sysfs_changed(dev);
	pflash_nl_announce(dev, PFLASH_CMD_LOST_NTF);
}

/**
 * pflash_owner_refuse_lost() - refuse an operation of a device that lost
 *	its lock
 * @dev: the device; called with its ctl_lock held
 * @extack: where to say why
 *
 * Return: -ENOLCK if the device lost its backing file's lock (it is then
 * %PFLASH_STATE_LOST), else 0.
 */
int pflash_owner_refuse_lost(struct pflash_dev *dev,
			     struct netlink_ext_ack *extack)
{
	if (!READ_ONCE(dev->owner_lost))
		return 0;
	pflash_owner_noticed(dev);
	NL_SET_ERR_MSG(extack,
		       "the device lost its backing file's lock to another owner (its host was cut off longer than the lease): destroy it and create it again from the file");
	return -ENOLCK;
}

/**
 * pflash_owner_drop_lost() - let a device that lost its lock go
 * @dev: the device, lost (@owner_lost); called with its ctl_lock held, by
 *	destroy, whose final writeback failed
 * @force: go even if it holds writes its file never got
 * @extack: where to say why not
 *
 * Return: 0 if the device may go: it holds nothing its file lacks, or
 * @force, and the kernel log says how much goes with it; else -ENOLCK.
 */
int pflash_owner_drop_lost(struct pflash_dev *dev, bool force,
			   struct netlink_ext_ack *extack)
{
	u64 dirty = pflash_wb_dirty_bytes(dev);

	pflash_owner_noticed(dev);
	if (!dirty)
		return 0;
	if (!force) {
		NL_SET_ERR_MSG(extack,
			       "the device lost its backing file's lock with writes its file never got: export it to keep them, or destroy it with force");
		return -ENOLCK;
	}
	pr_err("pflash%d: destroyed with %llu bytes that never reached %s, whose lock it had lost\n",
	       dev->index, dirty, dev->backing_path);
	return 0;
}

/*
 * Read the backing file into the device where it differs, in one step:
 * first compared a piece at a time, and only if a piece differs, all of
 * it into a new buffer, which then replaces the device's contents
 * (pflash_blk_replace()).  A live export of the old contents ends.
 */
#define PFLASH_RELOAD_STEP	SZ_1M

static int pflash_owner_reload(struct pflash_dev *dev)
{
	u64 size = dev->cfg.size, pos, len;
	u8 *piece, *fresh = NULL;
	int err = 0;

	piece = kvmalloc(min_t(u64, size, PFLASH_RELOAD_STEP), GFP_KERNEL);
	if (!piece)
		return -ENOMEM;
	for (pos = 0; pos < size; pos += len) {
		len = min_t(u64, size - pos, PFLASH_RELOAD_STEP);
		err = pflash_backing_read(dev, piece, pos, len);
		if (err || memcmp(piece, dev->data + pos, len))
			break;
	}
	kvfree(piece);
	if (err)
		return err;
	if (pos >= size)
		return 0;

	fresh = __vmalloc(size, GFP_KERNEL | __GFP_NOWARN);
	if (!fresh)
		return -ENOMEM;
	memcpy(fresh, dev->data, pos);
	err = pflash_backing_read(dev, fresh + pos, pos, size - pos);
	if (!err) {
		pflash_blk_replace(dev, &fresh);
		pflash_live_end(dev);
	}
	vfree(fresh);
	return err;
}

/*
 * Become the owner of the backing file, if there is one.  @creating: the
 * device is being created, and could be created inactive instead.
 */
static int pflash_owner_take(struct pflash_dev *dev, bool creating,
			     struct netlink_ext_ack *extack)
{
	int err;

	if (!dev->backing)
		return 0;
	err = pflash_owner_lock(dev);
	if (err == -EBUSY && creating) {
		NL_SET_ERR_MSG(extack,
			       "the backing file is owned elsewhere (another device, on this host or another, holds its lock); create the device inactive");
		return err;
	}
	if (err == -EBUSY) {
		NL_SET_ERR_MSG(extack,
			       "the backing file is owned elsewhere: another device, on this host or another, holds its lock");
		return err;
	}
	if (err) {
		NL_SET_ERR_MSG(extack, "could not lock the backing file");
		return err;
	}
	mutex_lock(&dev->wb_lock);
	WRITE_ONCE(dev->owns_backing, true);
	mutex_unlock(&dev->wb_lock);
	return 0;
}

/**
 * pflash_owner_give_up() - give up the backing file, if the device owns it
 * @dev: the device, after its final writeback if it is going
 *
 * Undoes pflash_owner_start() too.
 */
void pflash_owner_give_up(struct pflash_dev *dev)
{
	if (!dev->owns_backing)
		return;
	mutex_lock(&dev->wb_lock);
	WRITE_ONCE(dev->owns_backing, false);
	mutex_unlock(&dev->wb_lock);
	pflash_owner_unlock(dev);
}

/**
 * pflash_owner_start() - set up the ownership of a new device
 * @dev: the device, with its backing file attached and writeback set up
 * @state: the state to start in
 * @extack: where to say why it failed
 *
 * Return: 0, or a negative errno: -EBUSY if another owner holds the
 * backing file's lock.
 */
int pflash_owner_start(struct pflash_dev *dev, enum pflash_state state,
		       struct netlink_ext_ack *extack)
{
	dev->state = state;
	if (state != PFLASH_STATE_ACTIVE)
		return 0;
	return pflash_owner_take(dev, true, extack);
}

/**
 * pflash_inactivate() - give up ownership of the backing file
 * @dev: the device; called with its ctl_lock held
 * @force: even if the device is held exclusively
 * @extack: where to say why it failed
 *
 * Return: 0 when the device is inactive, also if it was already; else the
 * device is still active.
 */
int pflash_inactivate(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack)
{
	int err;

	lockdep_assert_held(&dev->ctl_lock);
	if (dev->state == PFLASH_STATE_INACTIVE)
		return 0;
	err = pflash_owner_refuse_lost(dev, extack);
	if (err)
		return err;
	if (!force && pflash_blk_held_exclusively(dev)) {
		NL_SET_ERR_MSG(extack,
			       "the device is held exclusively (mounted?); its writes would fail: force it to inactivate anyway");
		return -EBUSY;
	}
	/* Its writeback would have nowhere to go (see backing.c). */
	if (pflash_writes_back(dev)) {
		err = pflash_backing_check(dev, false, extack);
		if (err)
			return err;
	}

	/*
	 * Writes acknowledged into the page cache come down first, and most
	 * of what is dirty is written back while writes still go on; then
	 * writes are held back, and the last pass writes what was dirtied
	 * meanwhile.
	 */
	sync_blockdev(dev->disk->part0);
	err = pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	if (!err) {
		pflash_blk_hold(dev);
		err = pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	}
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "writing back to the backing file failed; the device stays active");
		/* The pass may have found the lock lost. */
		err = pflash_owner_refuse_lost(dev, extack) ?: err;
		pflash_blk_release(dev);
		return err;
	}
	WRITE_ONCE(dev->state, PFLASH_STATE_INACTIVE);
	/* The lock goes only now, after the writeback. */
	pflash_owner_give_up(dev);
	pflash_blk_release(dev);
	pflash_sysfs_changed(dev);
	return 0;
}

/**
 * pflash_activate() - take ownership of the backing file
 * @dev: the device; called with its ctl_lock held
 * @epoch: the PFLASH_A_DEV_EPOCH attribute, the epoch to take, or NULL for
 *	one more than the device's; the extended ack blames it when it is at
 *	fault
 * @extack: where to say why it failed
 *
 * Return: 0 when the device is active, also if it was already (at @epoch,
 * if one is named); else the device is still inactive.
 */
int pflash_activate(struct pflash_dev *dev, const struct nlattr *epoch,
		    struct netlink_ext_ack *extack)
{
	u64 next = epoch ? nla_get_u64(epoch) : dev->epoch + 1;
	int err;

	lockdep_assert_held(&dev->ctl_lock);
	err = pflash_owner_refuse_lost(dev, extack);
	if (err)
		return err;
	if (dev->state == PFLASH_STATE_ACTIVE) {
		if (epoch && next != dev->epoch) {
			NL_SET_ERR_MSG_ATTR(extack, epoch,
					    "the device is already active, at another epoch");
			return -EBUSY;
		}
		return 0;
	}
	if (epoch && next <= dev->epoch) {
		NL_SET_ERR_MSG_ATTR(extack, epoch,
				    "stale epoch: it must be greater than the device's");
		return -ESTALE;
	}
	/* Not a file that is gone, nor one the path no longer names. */
	err = pflash_backing_check(dev, true, extack);
	if (err)
		return err;

	err = pflash_owner_take(dev, false, extack);
	if (err)
		return err;
	if (dev->flush_pending) {
		err = pflash_wb_flush(dev, PFLASH_WB_OWED);
		if (err) {
			pflash_owner_give_up(dev);
			NL_SET_ERR_MSG(extack,
				       "writing the device to its backing file failed; it stays inactive and still owes the flush");
			return err;
		}
		dev->flush_pending = false;
	} else if (pflash_writes_back(dev)) {
		err = pflash_owner_reload(dev);
		if (err) {
			pflash_owner_give_up(dev);
			NL_SET_ERR_MSG(extack,
				       "reading the backing file failed; the device stays inactive");
			return err;
		}
	}
	/* An unfinished import would no longer find the device inactive. */
	pflash_import_end(dev);
	dev->epoch = next;
	dev->content_gen++;
	WRITE_ONCE(dev->state, PFLASH_STATE_ACTIVE);
	pflash_sysfs_changed(dev);
	return 0;
}
