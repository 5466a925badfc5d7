// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the registry of devices, by index, and a device's references.
 * It is in the lowest layer (see "Layers" in
 * Documentation/pflash/internals.rst), so that every file can look a
 * device up, and hold or drop it; what a device's life is, and the steps
 * between, are dev.c's.
 */
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "pflash.h"

/*
 * pflash_devs maps an index to its device.  An index is reserved (an entry
 * that reads as NULL) while its device is new, and is given back only after
 * the device's disk is gone, so that a name and a minor are never
 * registered twice.  Lookups take a reference on the device under the
 * XArray's own lock, a leaf (see "Locking" in pflash.h), and drop the lock
 * before doing anything else.
 */
static DEFINE_XARRAY_ALLOC(pflash_devs);

/* See enum pflash_dev_event; netlink.c listens while its family is up. */
BLOCKING_NOTIFIER_HEAD(pflash_dev_events);

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

/**
 * pflash_registry_reserve() - reserve an index for a new device
 * @index: the index asked for, or -1 for the lowest free one
 * @extack: where to say why there is none
 *
 * Return: the index, reserved until pflash_registry_release(), or a
 * negative errno.
 */
int pflash_registry_reserve(int index, struct netlink_ext_ack *extack)
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

/* Give back an index, once its device's disk is gone. */
void pflash_registry_release(int index)
{
	xa_erase(&pflash_devs, index);
}

/* Enter a new device, complete, at its reserved index, for lookups. */
void pflash_registry_publish(struct pflash_dev *dev)
{
	/* The index is reserved: storing there allocates nothing. */
	xa_store(&pflash_devs, dev->index, dev, GFP_KERNEL);
}

/* At unload, once every device is gone. */
void pflash_registry_exit(void)
{
	xa_destroy(&pflash_devs);
}
