// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the life of a device: creating it, destroying it, and each step
 * between (see enum pflash_life).  The registry it enters is registry.c's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uuid.h>
#include <linux/vmalloc.h>

#include "pflash.h"

/*
 * The life of a device (see enum pflash_life), one function per step.
 * Every step but the first is taken with @ctl_lock held, and under
 * disk->open_mutex, so that pflash_open() sees each step before or after.
 */

/* NEW to LIVE: the device, complete, is registered for lookups to find. */
static void pflash_dev_publish(struct pflash_dev *dev)
{
	mutex_lock(&dev->disk->open_mutex);
	dev->life = PFLASH_DEV_LIVE;
	mutex_unlock(&dev->disk->open_mutex);
	pflash_registry_publish(dev);
}

/*
 * LIVE to CLAIMED, for destroy: refused while anyone has the device open.
 * pflash_open() runs under disk->open_mutex too, so an open either
 * finished before (and we see its opener) or is refused.
 */
static int pflash_dev_claim(struct pflash_dev *dev)
{
	struct gendisk *disk = dev->disk;
	int err = 0;

	lockdep_assert_held(&dev->ctl_lock);
	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk))
		err = -EBUSY;
	else
		dev->life = PFLASH_DEV_CLAIMED;
	mutex_unlock(&disk->open_mutex);
	return err;
}

/* CLAIMED back to LIVE: destroy was refused after all. */
static void pflash_dev_unclaim(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	mutex_lock(&dev->disk->open_mutex);
	dev->life = PFLASH_DEV_LIVE;
	mutex_unlock(&dev->disk->open_mutex);
}

/* CLAIMED to DEAD: destroy is committed, and nothing changes the device. */
static void pflash_dev_kill(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	mutex_lock(&dev->disk->open_mutex);
	dev->life = PFLASH_DEV_DEAD;
	mutex_unlock(&dev->disk->open_mutex);
	/* An unfinished import, and a live export, die with it. */
	pflash_import_end(dev);
	pflash_live_end(dev);
}

/**
 * pflash_dev_create() - create and register a device
 * @args: what to create; its @cfg checked already
 * @extack: where to say why creation failed
 *
 * Return: the new device, live, with a reference for the caller, or an
 * ERR_PTR.
 */
struct pflash_dev *pflash_dev_create(const struct pflash_create *args,
				     struct netlink_ext_ack *extack)
{
	struct pflash_dev *dev;
	int index, err;

	index = pflash_registry_reserve(args->index, extack);
	if (index < 0)
		return ERR_PTR(index);

	err = -ENOMEM;
	dev = kzalloc_obj(*dev);
	if (!dev)
		goto out_release_index;
	dev->index = index;
	dev->cfg = args->cfg;
	if (memchr_inv(args->uuid, 0, sizeof(args->uuid)))
		memcpy(dev->uuid, args->uuid, sizeof(dev->uuid));
	else
		generate_random_uuid(dev->uuid);
	kref_init(&dev->ref);
	mutex_init(&dev->ctl_lock);
	pflash_sysfs_init(dev);

	dev->data = __vmalloc(dev->cfg.size, GFP_KERNEL | __GFP_NOWARN);
	if (!dev->data) {
		NL_SET_ERR_MSG(extack, "not enough memory for the device's contents");
		goto out_free_dev;
	}
	if (args->backing) {
		err = pflash_backing_attach(dev, args->backing, extack);
		if (err)
			goto out_free_data;
	} else {
		/* A new device is blank flash. */
		memset(dev->data, PFLASH_ERASED_BYTE, dev->cfg.size);
	}

	err = pflash_wb_init(dev);
	if (err)
		goto out_detach;
	err = pflash_owner_start(dev, args->state, extack);
	if (err)
		goto out_wb_exit;

	err = pflash_blk_add(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "could not register the block device");
		goto out_owner_give_up;
	}

	/* One reference for the registry, one for the caller. */
	kref_get(&dev->ref);
	pflash_dev_publish(dev);
	return dev;

out_owner_give_up:
	pflash_owner_give_up(dev);
out_wb_exit:
	pflash_wb_exit(dev);
out_detach:
	pflash_backing_detach(dev);
out_free_data:
	vfree(dev->data);
out_free_dev:
	pflash_dev_put(dev);
out_release_index:
	pflash_registry_release(index);
	return ERR_PTR(err);
}

/*
 * Write back what is dirty before the device goes.  If that fails, the
 * device is kept, unless @force: then the data is dropped, and said so.
 * So is a device whose backing file was deleted: its contents go with it;
 * and one that lost its backing file's lock, which writes nothing more
 * (owner.c).
 */
static int pflash_dev_final_writeback(struct pflash_dev *dev, bool force,
				      struct netlink_ext_ack *extack)
{
	/* Forced, the refusal is no answer: the kernel log says it. */
	int err = pflash_backing_check(dev, false, force ? NULL : extack);

	if (err && !force)
		return err;
	if (err)
		pr_err("pflash%d: destroyed, and its contents with it: its backing file %s was deleted\n",
		       dev->index, dev->backing_path);
	err = pflash_wb_flush(dev, PFLASH_WB_DIRTY);
	if (!err)
		return 0;
	if (READ_ONCE(dev->owner_lost))
		return pflash_owner_drop_lost(dev, force, extack);
	if (!force) {
		NL_SET_ERR_MSG(extack,
			       "writing back to the backing file failed; the device is kept with its dirty data");
		return err;
	}
	pr_err("pflash%d: destroyed with %llu bytes that could not be written to %s (error %d)\n",
	       dev->index, pflash_wb_dirty_bytes(dev), dev->backing_path, err);
	return 0;
}

/**
 * pflash_dev_retire() - commit to destroying a device
 * @dev: the device, with a reference held by the caller
 * @force: go ahead even if the final writeback fails
 * @extack: where to say why it was refused
 *
 * Refused with -EBUSY while the device is open.  Dirty data is written back
 * first; if that fails, destroy is refused unless @force.  An inactive
 * device writes nothing.  Once this succeeds the device is dead: nothing
 * can open it or change it, and pflash_dev_teardown() must follow.
 *
 * Return: 0 once the device is dead, or a negative errno with the device
 * as it was.
 */
int pflash_dev_retire(struct pflash_dev *dev, bool force,
		      struct netlink_ext_ack *extack)
{
	int err;

	err = pflash_dev_lock_live(dev, extack);
	if (err)
		return err;
	err = pflash_dev_claim(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "the device is open; close it first");
		goto out_unlock;
	}
	/* Claimed, with no openers: no bio can change the data now. */
	err = pflash_dev_final_writeback(dev, force, extack);
	if (err) {
		pflash_dev_unclaim(dev);
		goto out_unlock;
	}
	pflash_dev_kill(dev);
out_unlock:
	mutex_unlock(&dev->ctl_lock);
	return err;
}

/*
 * Take a dead device apart, in the reverse order of pflash_dev_create(),
 * and drop the registry's reference.  The caller's reference stays valid.
 */
void pflash_dev_teardown(struct pflash_dev *dev)
{
	u8 *data;

	pflash_blk_del(dev);
	pflash_owner_give_up(dev);
	pflash_wb_exit(dev);
	pflash_sysfs_exit(dev);
	pflash_backing_detach(dev);
	data = dev->data;
	WRITE_ONCE(dev->data, NULL);
	/* An import from a file may still be comparing with it (import.c). */
	synchronize_rcu();
	vfree(data);
	pflash_registry_release(dev->index);
	pflash_dev_put(dev);
}

/**
 * pflash_dev_destroy_all() - destroy every device, at module unload
 *
 * Also when loading fails, for the devices created at load.
 */
void pflash_dev_destroy_all(void)
{
	struct pflash_dev *dev;
	u32 index = 0;

	/*
	 * Nothing can hold a device open here (an open device pins the
	 * module) nor destroy one (no netlink command runs), and a forced
	 * retire logs a failed final writeback: retiring cannot fail.  Were
	 * it to, the device is left, and the loop goes on past it.
	 */
	while ((dev = pflash_dev_get_next(&index))) {
		if (!WARN_ON(pflash_dev_retire(dev, true, NULL)))
			pflash_dev_teardown(dev);
		pflash_dev_put(dev);
		index++;
	}
	pflash_registry_exit();
}

/* What socket @portid left unfinished on @dev ends. */
static void pflash_dev_release_socket_of(struct pflash_dev *dev, u32 portid)
{
	/* A dying device ended it already. */
	if (pflash_dev_lock_live(dev, NULL))
		return;
	pflash_import_release(dev, portid);
	pflash_live_release(dev, portid);
	mutex_unlock(&dev->ctl_lock);
}

/**
 * pflash_dev_release_socket() - a netlink socket is gone
 * @portid: the socket
 *
 * Ends what it left unfinished: the import it was sending to a device in
 * pieces, and the live export it drove.  A device that is being destroyed
 * ended both already.
 */
void pflash_dev_release_socket(u32 portid)
{
	struct pflash_dev *dev;
	u32 index = 0;

	/* So that closing a socket costs nothing when none is bound. */
	if (!pflash_import_count() && !pflash_live_count())
		return;
	while ((dev = pflash_dev_get_next(&index))) {
		pflash_dev_release_socket_of(dev, portid);
		pflash_dev_put(dev);
		index++;
	}
}
