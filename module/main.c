// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: module parameters, the registry of devices, and the life of a
 * device: creating it, destroying it, and each step between.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uuid.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <linux/pflash.h>

#include "pflash.h"

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of devices created at load (default: 1)");

static unsigned long long dev_size = 540672;
module_param(dev_size, ullong, 0444);
MODULE_PARM_DESC(dev_size,
		 "Size in bytes of the devices created at load (default: 540672, the size of OVMF_VARS_4M.fd)");

static unsigned int param_block_size = PFLASH_BLOCK_SIZE_DEFAULT;
module_param_named(block_size, param_block_size, uint, 0444);
MODULE_PARM_DESC(block_size,
		 "Logical block size of the devices created at load: 512 or 4096 (default: 512)");

static unsigned int param_erase_size = PFLASH_ERASE_SIZE_DEFAULT;
module_param_named(erase_size, param_erase_size, uint, 0444);
MODULE_PARM_DESC(erase_size,
		 "Erase-block size of the devices created at load (default: 4096)");

/*
 * pflash_devs maps an index to its device.  An index is reserved (an entry
 * that reads as NULL) while its device is new, and is given back only after
 * the device's disk is gone, so that a name and a minor are never
 * registered twice.  Lookups take a reference on the device under the
 * XArray's own lock, a leaf (see "Locking" in pflash.h), and drop the lock
 * before doing anything else.
 */
static DEFINE_XARRAY_ALLOC(pflash_devs);

static void pflash_dev_release(struct kref *ref)
{
	struct pflash_dev *dev = container_of(ref, struct pflash_dev, ref);

	mutex_destroy(&dev->ctl_lock);
	kfree(dev);
}

void pflash_dev_put(struct pflash_dev *dev)
{
	kref_put(&dev->ref, pflash_dev_release);
}

struct pflash_dev *pflash_dev_get(u32 index)
{
	struct pflash_dev *dev;

	xa_lock(&pflash_devs);
	dev = xa_load(&pflash_devs, index);
	if (dev)
		kref_get(&dev->ref);
	xa_unlock(&pflash_devs);
	return dev;
}

/* The device with the lowest index at or above *index, for dumps. */
struct pflash_dev *pflash_dev_get_next(u32 *index)
{
	unsigned long id = *index;
	struct pflash_dev *dev;

	xa_lock(&pflash_devs);
	dev = xa_find(&pflash_devs, &id, PFLASH_INDEX_MAX, XA_PRESENT);
	if (dev) {
		kref_get(&dev->ref);
		*index = id;
	}
	xa_unlock(&pflash_devs);
	return dev;
}

/**
 * pflash_dev_find_backing() - the device whose backing file is this one
 * @id: the file's identity
 *
 * Return: the index of a device whose backing file has identity @id, or -1
 * if there is none.
 */
int pflash_dev_find_backing(const struct pflash_file_id *id)
{
	struct pflash_dev *dev;
	u32 index = 0;
	int found = -1;

	while (found < 0 && (dev = pflash_dev_get_next(&index))) {
		/* Fixed from creation on; all zero without a backing file. */
		if (dev->backing_id.ino && dev->backing_id.ino == id->ino &&
		    dev->backing_id.dev == id->dev)
			found = dev->index;
		pflash_dev_put(dev);
		index++;
	}
	return found;
}

static int pflash_index_reserve(int index, struct netlink_ext_ack *extack)
{
	struct xa_limit limit = index < 0 ? XA_LIMIT(0, PFLASH_INDEX_MAX) :
					    XA_LIMIT(index, index);
	u32 id;
	int err;

	err = xa_alloc(&pflash_devs, &id, NULL, limit, GFP_KERNEL);
	if (err == -EBUSY) {
		if (index < 0) {
			NL_SET_ERR_MSG(extack, "every device index is in use");
			return -ENOSPC;
		}
		NL_SET_ERR_MSG(extack, "a device with that index exists");
		return -EEXIST;
	}
	return err ?: id;
}

static void pflash_index_release(int index)
{
	xa_erase(&pflash_devs, index);
}

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
	/* The index is reserved: storing there allocates nothing. */
	xa_store(&pflash_devs, dev->index, dev, GFP_KERNEL);
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
 * pflash_dev_lock_live() - take a device's ctl_lock, unless it is dying
 * @dev: the device, with a reference held by the caller
 * @extack: where to say why not, or NULL
 *
 * Every control operation starts here: with ctl_lock held, a device that
 * is live stays live until it is dropped (destroy takes ctl_lock too).
 *
 * Return: 0 with @dev->ctl_lock held, or -ENODEV if the device is being
 * destroyed.
 */
int pflash_dev_lock_live(struct pflash_dev *dev,
			 struct netlink_ext_ack *extack)
{
	mutex_lock(&dev->ctl_lock);
	if (dev->life == PFLASH_DEV_LIVE)
		return 0;
	mutex_unlock(&dev->ctl_lock);
	NL_SET_ERR_MSG(extack, "the device is being destroyed");
	return -ENODEV;
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

	index = pflash_index_reserve(args->index, extack);
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
	pflash_index_release(index);
	return ERR_PTR(err);
}

/*
 * Write back what is dirty before the device goes.  If that fails, the
 * device is kept, unless @force: then the data is dropped, and said so.
 * So is a device whose backing file was deleted: its contents go with it.
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
	pflash_blk_del(dev);
	pflash_owner_give_up(dev);
	pflash_wb_exit(dev);
	pflash_sysfs_exit(dev);
	pflash_backing_detach(dev);
	vfree(dev->data);
	dev->data = NULL;
	pflash_index_release(dev->index);
	pflash_dev_put(dev);
}

static void pflash_destroy_all(void)
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
}

/*
 * The module parameters' own checks: the ranges, which DEV_NEW's policies
 * check for its attributes, then the rules no policy can.
 */
static int __init pflash_params_check(void)
{
	if (nr_devices > PFLASH_INDEX_MAX + 1) {
		pr_err("nr_devices must be at most %u\n", PFLASH_INDEX_MAX + 1);
		return -EINVAL;
	}
	if (!pflash_block_size_valid(param_block_size)) {
		pr_err("block_size must be 512 or 4096\n");
		return -EINVAL;
	}
	if (param_erase_size > PFLASH_ERASE_SIZE_MAX ||
	    !pflash_erase_size_valid(param_erase_size, param_block_size)) {
		pr_err("erase_size must be a power of two from block_size to 16 MiB\n");
		return -EINVAL;
	}
	if (!dev_size || dev_size > PFLASH_SIZE_MAX ||
	    !pflash_size_valid(dev_size, param_erase_size)) {
		pr_err("dev_size must be a whole number of erase blocks, from one erase block to 1 GiB\n");
		return -EINVAL;
	}
	return 0;
}

static int __init pflash_create_at_load(void)
{
	struct pflash_create args = {
		.cfg = {
			.size = dev_size,
			.block_size = param_block_size,
			.erase_size = param_erase_size,
		},
		.index = -1,
	};
	struct netlink_ext_ack extack = {};
	struct pflash_dev *dev;
	unsigned int i;
	int err;

	if (!nr_devices)
		return 0;
	err = pflash_params_check();
	if (err)
		return err;
	for (i = 0; i < nr_devices; i++) {
		dev = pflash_dev_create(&args, &extack);
		if (IS_ERR(dev)) {
			pr_err("creating device %u: %s\n", i,
			       extack._msg ?: "failed");
			return PTR_ERR(dev);
		}
		pflash_dev_put(dev);
	}
	return 0;
}

static int __init pflash_init(void)
{
	int err;

	err = pflash_blk_init();
	if (err)
		return err;
	err = pflash_create_at_load();
	if (err)
		goto out_destroy;
	err = pflash_nl_register();
	if (err)
		goto out_destroy;
	return 0;

out_destroy:
	pflash_destroy_all();
	pflash_blk_exit();
	return err;
}

static void __exit pflash_exit(void)
{
	/* No netlink command runs once the family is gone. */
	pflash_nl_unregister();
	pflash_destroy_all();
	pflash_blk_exit();
	pflash_backing_exit();
	xa_destroy(&pflash_devs);
}

module_init(pflash_init);
module_exit(pflash_exit);

MODULE_AUTHOR("The pflash developers");
MODULE_DESCRIPTION("RAM-backed parallel-flash block devices");
MODULE_LICENSE("GPL");
