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
 * inactivate: make the disk read-only, so that write() fails at once,
 *	and write back the page cache and the dirty blocks while the device
 *	stays active; then hold new writes back (pflash_blk_hold(),
 *	which returns once the writes already in ->submit_bio() are served,
 *	their blocks marked dirty), write back what was dirtied meanwhile and
 *	fsync; only then turn inactive, give up the file, and let the held
 *	writes in (they find the device inactive and fail).  If a writeback
 *	fails, the device stays active and the held writes are served.
 *
 * activate: take the file's lock; if an import left the device owing its
 *	backing file a flush, make every byte of the file equal to the
 *	device and fsync (pflash_owner_settle()); only then turn active.  If
 *	either fails, the device stays inactive and still owes the flush.
 *	The flush is deferred to activation, not done at import, because
 *	until then the device does not own the file: with shared storage the
 *	other side may still be using it.  With no import owed, a device that
 *	writes its file takes the file's contents (pflash_owner_reload()),
 *	unless its own mark shows the file unchanged since it let it go:
 *	while it did not own the file, another owner, or an operator, may
 *	have written it.  A read-only device keeps what it holds: it never
 *	writes the file, and an import may have given it newer data.
 *
 * The inactivation's last pass leaves the file holding the device's
 * contents, and the device marks it so (backing.c), for an activation to
 * find, here or on another device of this host with the same file.
 *
 * lose: a lock on a network filesystem is the server's, held under the
 *	client's lease.  A host cut off for longer than the lease may find,
 *	when it comes back, that the server gave the lock to another host;
 *	the NFS client then fails every write made under the lost lock with
 *	EIO, and never takes the lock again on its own (with
 *	nfs.recover_lost_locks=0, the default).  pflash cannot tell such an
 *	EIO from any other, so a pass that failed looks at the lock
 *	(pflash_backing_check_lost(), in backing.c, as is all but
 *	pflash_owner_drop_lost()), as F_OFD_GETLK does, without taking
 *	it: on a network filesystem that asks the server.  Another owner's
 *	lock there means this device's is gone: the pass stops the device
 *	writing (@owns_backing) and marks it @owner_lost, and under ctl_lock
 *	(pflash_backing_lost_noticed()) it turns %PFLASH_STATE_LOST, drops
 *	what remains of its lock here, and says so.  Nothing takes the lock
 *	again: the other owner has it.  On a local filesystem the lock
 *	cannot be lost, and the look finds none.
 *	A device that lost its lock never becomes active again: it is
 *	destroyed (with force, if it holds writes its file never got) and
 *	created again from the file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pflash.h"

static int pflash_owner_lock(struct pflash_dev *dev)
{
	unsigned char type = dev->cfg.read_only ? F_RDLCK : F_WRLCK;
	int err = pflash_backing_setlk(dev, type);

	return err == -EAGAIN ? -EBUSY : err;
}

/* Unlocking the whole file allocates nothing, so it cannot fail. */
static void pflash_owner_unlock(struct pflash_dev *dev)
{
	pflash_backing_setlk(dev, F_UNLCK);
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

	pflash_backing_lost_noticed(dev);
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

/* How much of the file an activation's reload compares at a time. */
#define PFLASH_RELOAD_STEP	SZ_1M

/*
 * Make the device's contents the backing file's, at an activation with no
 * import owed: read the file in pieces, and only if one differs, the rest
 * of it after that piece into new contents, which replace the old in one
 * step.  The device is inactive (nothing dirty but what an import owes,
 * and none is).  -EBUSY if the file differs and the device is held
 * exclusively or mapped shared and writable; -ENODATA if the file is
 * shorter than the device.
 */
static int pflash_owner_reload(struct pflash_dev *dev)
{
	u64 size = dev->cfg.size, pos, len = 0;
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
	/*
	 * A holder (a mounted file system) would see the contents change
	 * under what it cached of the old ones, and a shared writable
	 * mapping's stores of the old ones could be written back over the
	 * new: both are left only by a forced inactivation.
	 */
	if (!err && pos < size && (pflash_blk_held_exclusively(dev) ||
				   pflash_blk_mapped_for_writing(dev)))
		err = -EBUSY;
	if (!err && pos < size) {
		fresh = __vmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		if (fresh) {
			memcpy(fresh, dev->data, pos);
			memcpy(fresh + pos, piece, len);
		} else {
			err = -ENOMEM;
		}
	}
	kvfree(piece);
	if (!fresh)
		return err;

	pos += len;
	err = pflash_backing_read(dev, fresh + pos, pos, size - pos);
	if (!err) {
		/*
		 * Returns once nothing reads the old contents: no bio, and no
		 * import from a file that this activation ends (import.c).
		 */
		pflash_blk_replace(dev, &fresh);
		/* A live export of the old contents could not follow. */
		pflash_live_end(dev);
	}
	pflash_blk_drop_contents(fresh);
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
 * @force: even if the device is held exclusively or mapped for writing
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
	err = pflash_backing_refuse_lost(dev, extack);
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
	 * write() is refused from now on, and what the page cache took
	 * before comes down; a shared writable mapping, made before the disk
	 * turned read-only, is looked for only now, when no new one can be
	 * made.  Most of what is dirty is written back while writes still go
	 * on; then writes are held back, and the last pass writes what was
	 * dirtied meanwhile.
	 */
	pflash_blk_refuse_writes(dev);
	if (!force && pflash_blk_mapped_for_writing(dev)) {
		pflash_blk_accept_writes(dev);
		NL_SET_ERR_MSG(extack,
			       "the device is mapped shared and writable; its stores would fail at writeback: unmap it, or force it to inactivate anyway");
		return -EBUSY;
	}
	err = pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	if (!err) {
		pflash_blk_hold(dev);
		err = pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	}
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "writing back to the backing file failed; the device stays active");
		/* The pass may have found the lock lost. */
		err = pflash_backing_refuse_lost(dev, extack) ?: err;
		pflash_blk_release(dev);
		pflash_blk_accept_writes(dev);
		return err;
	}
	pflash_backing_mark(dev);
	WRITE_ONCE(dev->state, PFLASH_STATE_INACTIVE);
	/* The lock goes only now, after the writeback. */
	pflash_owner_give_up(dev);
	pflash_blk_release(dev);
	pflash_sysfs_changed(dev);
	return 0;
}

/*
 * Make every byte of the backing file equal to the device, after an
 * import, and fsync it.  The file may have been changed in any way while
 * the device did not own it, so the whole device is written, unless
 * backing.c proves that the file holds the imported contents already (the
 * file of the device that exported them, unchanged since), or the
 * contents from before the import but for the granules the import changed
 * (import.c marks them dirty).  What was appended to a file of the
 * device's size is cut off first, for the fsync to cover.
 */
static int pflash_owner_settle(struct pflash_dev *dev)
{
	static const enum pflash_wb_what what[] = {
		[PFLASH_PROOF_NONE]	= PFLASH_WB_ALL,
		[PFLASH_PROOF_BASE]	= PFLASH_WB_OWED,
		[PFLASH_PROOF_ALL]	= PFLASH_WB_NONE,
	};
	enum pflash_backing_proof proof = pflash_backing_prove(dev);
	int err;

	err = pflash_backing_fit(dev);
	return err ?: pflash_wb_flush(dev, what[proof]);
}

/**
 * pflash_activate_epoch() - the epoch an activation takes
 * @dev: the device; called with its ctl_lock held
 * @want: the epoch asked for, or NULL for any
 * @epoch: set to the epoch pflash_activate() then takes: @want, or one
 *	more than the device's; the device's own if it is active
 * @extack: where to say why @want is refused
 *
 * Return: 0, or a refusal of @want, which is always @want's fault:
 * -ESTALE if it is not greater than the device's epoch, -EBUSY if the
 * device is active at another.  A device that lost its lock refuses no
 * epoch here: pflash_activate() refuses the device, with -ENOLCK.
 */
int pflash_activate_epoch(const struct pflash_dev *dev, const u64 *want,
			  u64 *epoch, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (READ_ONCE(dev->owner_lost)) {
		*epoch = dev->epoch;
		return 0;
	}
	if (dev->state == PFLASH_STATE_ACTIVE) {
		if (want && *want != dev->epoch) {
			NL_SET_ERR_MSG(extack,
				       "the device is already active, at another epoch");
			return -EBUSY;
		}
		*epoch = dev->epoch;
		return 0;
	}
	if (want && *want <= dev->epoch) {
		NL_SET_ERR_MSG(extack,
			       "stale epoch: it must be greater than the device's");
		return -ESTALE;
	}
	*epoch = want ? *want : dev->epoch + 1;
	return 0;
}

/**
 * pflash_activate() - take ownership of the backing file
 * @dev: the device; called with its ctl_lock held
 * @epoch: the epoch to take, from pflash_activate_epoch() under the same
 *	hold of ctl_lock
 * @extack: where to say why it failed
 *
 * Return: 0 when the device is active, also if it was already; else the
 * device is still inactive.
 */
int pflash_activate(struct pflash_dev *dev, u64 epoch,
		    struct netlink_ext_ack *extack)
{
	int err;

	lockdep_assert_held(&dev->ctl_lock);
	err = pflash_backing_refuse_lost(dev, extack);
	if (err)
		return err;
	if (dev->state == PFLASH_STATE_ACTIVE)
		return 0;
	/* Not a file that is gone, nor one the path no longer names. */
	err = pflash_backing_check(dev, true, extack);
	if (err)
		return err;

	err = pflash_owner_take(dev, false, extack);
	if (err)
		return err;
	if (dev->flush_pending) {
		err = pflash_owner_settle(dev);
		if (err) {
			pflash_owner_give_up(dev);
			NL_SET_ERR_MSG(extack,
				       "writing the device to its backing file failed; it stays inactive and still owes the flush");
			return err;
		}
		dev->flush_pending = false;
	} else if (pflash_writes_back(dev) &&
		   pflash_backing_prove(dev) != PFLASH_PROOF_BASE) {
		/*
		 * No import owed, and no mark of the device's own shows the
		 * file unchanged since it let it go: the file is the truth
		 * (another owner may have written it, on this host or on
		 * another with shared storage; an operator may have edited
		 * or restored it), and the device takes it, as at creation.
		 */
		err = pflash_owner_reload(dev);
		if (err) {
			pflash_owner_give_up(dev);
			if (err == -ENODATA)
				NL_SET_ERR_MSG(extack,
					       "the backing file is shorter than the device; it stays inactive");
			else if (err == -EBUSY)
				NL_SET_ERR_MSG(extack,
					       "the backing file changed while the device was inactive, and the device is held exclusively (mounted?) or mapped shared and writable, whose user would see the contents change under it: release it, then activate");
			else
				NL_SET_ERR_MSG(extack,
					       "reading the backing file failed; the device stays inactive");
			return err;
		}
	}
	dev->claim = 0;
	/* An unfinished import would no longer find the device inactive. */
	pflash_import_end(dev);
	/*
	 * What the page cache holds of stores the device refused (a shared
	 * mapping's, after a forced inactivation) goes: readers see the
	 * device.
	 */
	invalidate_bdev(dev->disk->part0);
	dev->epoch = epoch;
	dev->content_gen++;
	WRITE_ONCE(dev->state, PFLASH_STATE_ACTIVE);
	pflash_blk_accept_writes(dev);
	pflash_sysfs_changed(dev);
	return 0;
}
