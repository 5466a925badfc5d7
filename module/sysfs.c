// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the device's state in sysfs, and the uevents that announce it.
 *
 * Each disk has a group of read-only attributes, /sys/block/pflashN/pflash/
 * (Documentation/ABI/testing/sysfs-block-pflash), one value and a newline
 * each, as zram's are.  They only show: netlink is how anything changes.
 *
 * The group is the disk's own (device_add_disk()'s groups), so it exists
 * before the disk's "add" uevent and goes in del_gendisk(), which waits for
 * the show functions running; pflash_dev_teardown() frees nothing of the
 * device before that.  A show function may thus use every member of the
 * device, dead or not, and reads them as pflash.h says they may be read:
 *
 *  - @state with READ_ONCE(), as the data path does;
 *  - @epoch, @uuid and @flush_pending under @ctl_lock, which a control
 *    operation in progress holds: reading them waits for it (a writeback
 *    at inactivation, a full flush at activation), interruptibly;
 *  - @wb_err with READ_ONCE(), and the dirty bitmap without a lock: the
 *    count is a snapshot, as the netlink reply's is;
 *  - the members fixed at creation (@backing_path, @cache_mode, ...)
 *    without locks.
 *
 * A change of the state, the epoch or the uuid, made under @ctl_lock by
 * activation, inactivation, an import or a lock found lost (backing.c), is
 * announced by a KOBJ_CHANGE uevent on the disk with PFLASH_STATE,
 * PFLASH_EPOCH and PFLASH_UUID, the values right after the change, so that
 * udev can keep a link by uuid without reading sysfs (see
 * udev/60-pflash.rules).
 *
 * A change of the backing file's fate (deleted, moved, back where it was:
 * see backing.c) is announced by a KOBJ_CHANGE uevent with
 * PFLASH_BACKING_STATE and PFLASH_BACKING_FILE, once per change: under
 * @ctl_lock by the control operation that saw it, or, if a writeback pass
 * saw it (which cannot take @ctl_lock), from a work item that takes it.
 * The same work item turns a device whose pass found its lock lost
 * %PFLASH_STATE_LOST (pflash_backing_lost_noticed()).
 */
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "pflash.h"

static struct pflash_dev *pflash_sysfs_dev(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static const char *const pflash_state_names[] = {
	[PFLASH_STATE_ACTIVE]	= "active",
	[PFLASH_STATE_INACTIVE]	= "inactive",
	[PFLASH_STATE_LOST]	= "lost",
};

static const char *pflash_state_name(enum pflash_state state)
{
	return pflash_state_names[state];
}

static ssize_t state_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct pflash_dev *dev = pflash_sysfs_dev(d);

	return sysfs_emit(buf, "%s\n", pflash_state_name(READ_ONCE(dev->state)));
}
static DEVICE_ATTR_RO(state);

/* What the device's ctl_lock guards and sysfs shows, read under it. */
struct pflash_sysfs_locked {
	u64 epoch;
	u8 uuid[PFLASH_UUID_LEN];
	bool flush_pending;
};

static int pflash_sysfs_read_locked(struct device *d,
				    struct pflash_sysfs_locked *v)
{
	struct pflash_dev *dev = pflash_sysfs_dev(d);
	int err;

	err = mutex_lock_interruptible(&dev->ctl_lock);
	if (err)
		return err;
	v->epoch = dev->epoch;
	memcpy(v->uuid, dev->uuid, sizeof(v->uuid));
	v->flush_pending = dev->flush_pending;
	mutex_unlock(&dev->ctl_lock);
	return 0;
}

static ssize_t epoch_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct pflash_sysfs_locked v;

	return pflash_sysfs_read_locked(d, &v) ?:
	       sysfs_emit(buf, "%llu\n", v.epoch);
}
static DEVICE_ATTR_RO(epoch);

static ssize_t uuid_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct pflash_sysfs_locked v;

	return pflash_sysfs_read_locked(d, &v) ?:
	       sysfs_emit(buf, "%pUb\n", v.uuid);
}
static DEVICE_ATTR_RO(uuid);

static ssize_t flush_pending_show(struct device *d,
				  struct device_attribute *attr, char *buf)
{
	struct pflash_sysfs_locked v;

	return pflash_sysfs_read_locked(d, &v) ?:
	       sysfs_emit(buf, "%d\n", v.flush_pending);
}
static DEVICE_ATTR_RO(flush_pending);

/* "none" for a device that never writes its backing file, or has none. */
static ssize_t cache_mode_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	struct pflash_dev *dev = pflash_sysfs_dev(d);
	const char *mode = "none";

	if (pflash_writes_back(dev))
		mode = dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITEBACK ?
		       "writeback" : "writethrough";
	return sysfs_emit(buf, "%s\n", mode);
}
static DEVICE_ATTR_RO(cache_mode);

/*
 * The path as netlink reports it, " (deleted)" and all; an empty line
 * without a backing file.
 */
static ssize_t backing_file_show(struct device *d,
				 struct device_attribute *attr, char *buf)
{
	struct pflash_dev *dev = pflash_sysfs_dev(d);
	char *path;
	ssize_t ret;

	if (!dev->backing)
		return sysfs_emit(buf, "\n");
	path = kmalloc(PFLASH_BACKING_PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	ret = sysfs_emit(buf, "%s\n", pflash_backing_path_now(dev, path));
	kfree(path);
	return ret;
}
static DEVICE_ATTR_RO(backing_file);

static ssize_t dirty_bytes_show(struct device *d,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  pflash_wb_dirty_bytes(pflash_sysfs_dev(d)));
}
static DEVICE_ATTR_RO(dirty_bytes);

/* The positive errno of the last failed writeback pass, 0 after a good one. */
static ssize_t writeback_error_show(struct device *d,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(pflash_sysfs_dev(d)->wb_err));
}
static DEVICE_ATTR_RO(writeback_error);

static ssize_t erase_size_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n", pflash_sysfs_dev(d)->cfg.erase_size);
}
static DEVICE_ATTR_RO(erase_size);

/* The period of the writeback; 0 for none, and outside writeback mode. */
static ssize_t writeback_interval_ms_show(struct device *d,
					  struct device_attribute *attr,
					  char *buf)
{
	struct pflash_dev *dev = pflash_sysfs_dev(d);
	unsigned int ms = 0;

	if (pflash_writes_back(dev) &&
	    dev->cfg.cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		ms = dev->cfg.wb_interval_ms;
	return sysfs_emit(buf, "%u\n", ms);
}
static DEVICE_ATTR_RO(writeback_interval_ms);

static struct attribute *pflash_sysfs_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_epoch.attr,
	&dev_attr_uuid.attr,
	&dev_attr_cache_mode.attr,
	&dev_attr_backing_file.attr,
	&dev_attr_dirty_bytes.attr,
	&dev_attr_flush_pending.attr,
	&dev_attr_writeback_error.attr,
	&dev_attr_erase_size.attr,
	&dev_attr_writeback_interval_ms.attr,
	NULL,
};

static const struct attribute_group pflash_sysfs_group = {
	.name	= "pflash",
	.attrs	= pflash_sysfs_attrs,
};

/* The disk's own groups, for device_add_disk(). */
const struct attribute_group *pflash_sysfs_groups[] = {
	&pflash_sysfs_group,
	NULL,
};

/**
 * pflash_sysfs_changed() - announce a new state, epoch or uuid
 * @dev: the device, live; called with its ctl_lock held, after the change
 *
 * Sends a KOBJ_CHANGE uevent on the disk, with the values now.  A uevent
 * that cannot be sent is lost, as netlink events may be; sysfs still
 * shows the values.
 */
void pflash_sysfs_changed(struct pflash_dev *dev)
{
	char state[32], epoch[40], uuid[64];
	char *envp[4];

	lockdep_assert_held(&dev->ctl_lock);
	snprintf(state, sizeof(state), "PFLASH_STATE=%s",
		 pflash_state_name(dev->state));
	snprintf(epoch, sizeof(epoch), "PFLASH_EPOCH=%llu", dev->epoch);
	snprintf(uuid, sizeof(uuid), "PFLASH_UUID=%pUb", dev->uuid);
	envp[0] = state;
	envp[1] = epoch;
	envp[2] = uuid;
	envp[3] = NULL;
	kobject_uevent_env(&disk_to_dev(dev->disk)->kobj, KOBJ_CHANGE, envp);
}

static const char *const pflash_backing_state_names[] = {
	[PFLASH_BACKING_OK]	 = "ok",
	[PFLASH_BACKING_MOVED]	 = "moved",
	[PFLASH_BACKING_DELETED] = "deleted",
};

/**
 * pflash_sysfs_backing_changed() - announce the backing file's fate
 * @dev: the device, live, with a backing file; called with its ctl_lock
 *	held, after pflash_backing_check() or a writeback pass saw it
 *
 * Sends a KOBJ_CHANGE uevent on the disk, with PFLASH_BACKING_STATE and
 * PFLASH_BACKING_FILE, unless the last one said the same.  A uevent that
 * cannot be sent is sent at the next look.
 */
void pflash_sysfs_backing_changed(struct pflash_dev *dev)
{
	int state = READ_ONCE(dev->backing_state);
	char *envp[3], *file, *path;

	lockdep_assert_held(&dev->ctl_lock);
	if (state == dev->backing_reported)
		return;
	file = kmalloc(2 * PFLASH_BACKING_PATH_MAX, GFP_KERNEL);
	if (!file)
		return;
	path = pflash_backing_path_now(dev, file + PFLASH_BACKING_PATH_MAX);
	snprintf(file, PFLASH_BACKING_PATH_MAX, "PFLASH_BACKING_FILE=%s",
		 path);
	envp[0] = kasprintf(GFP_KERNEL, "PFLASH_BACKING_STATE=%s",
			    pflash_backing_state_names[state]);
	envp[1] = file;
	envp[2] = NULL;
	if (envp[0] &&
	    !kobject_uevent_env(&disk_to_dev(dev->disk)->kobj, KOBJ_CHANGE,
				envp))
		dev->backing_reported = state;
	kfree(envp[0]);
	kfree(file);
}

static void pflash_sysfs_notice_workfn(struct work_struct *work)
{
	struct pflash_dev *dev = container_of(work, struct pflash_dev,
					      notice_work);

	/* A device being destroyed announces nothing more. */
	if (pflash_dev_lock_live(dev, NULL))
		goto out_put;
	pflash_sysfs_backing_changed(dev);
	pflash_backing_lost_noticed(dev);
	mutex_unlock(&dev->ctl_lock);
out_put:
	pflash_dev_put(dev);
}

/**
 * pflash_sysfs_noticed() - act on what a writeback pass saw
 * @dev: the device, with a reference held by the caller (the pass's)
 *
 * Announces a change of the backing file's fate, and turns a device whose
 * lock was lost %PFLASH_STATE_LOST, from a work item that takes ctl_lock.
 * The work item takes a reference of its own while it is queued.
 */
void pflash_sysfs_noticed(struct pflash_dev *dev)
{
	kref_get(&dev->ref);
	if (!schedule_work(&dev->notice_work))
		pflash_dev_put(dev);
}

/* Set up the announcements of a new device. */
void pflash_sysfs_init(struct pflash_dev *dev)
{
	INIT_WORK(&dev->notice_work, pflash_sysfs_notice_workfn);
}

/*
 * Undo pflash_sysfs_init(), once no writeback pass can run (after
 * pflash_wb_exit()), and so none can queue the work again.
 */
void pflash_sysfs_exit(struct pflash_dev *dev)
{
	if (cancel_work_sync(&dev->notice_work))
		pflash_dev_put(dev);
}
