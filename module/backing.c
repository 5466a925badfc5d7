// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the backing file, the host-side "drive" that a device keeps in
 * accord with its contents.
 *
 * The backing file comes in as a file descriptor of the DEV_NEW sender,
 * resolved in the sender's context as nbd does with its sockets.  The
 * device then opens a file description of its own on the same file, so
 * that what it holds on the file is its alone, and so that the sender's
 * file flags (O_APPEND, O_DIRECT, ...) do not matter.
 *
 * All file I/O runs in process context: at creation in the sender's
 * context, later in the device's writeback worker or in a netlink command.
 * Writes run with __GFP_IO masked (memalloc_noio), so that reclaim never
 * waits for writeback of a pflash device from inside pflash's writeback.
 */
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "pflash.h"

/* How deep pflash devices may back one another. */
#define PFLASH_BACKING_DEPTH_MAX	8

/* File I/O in steps of this size, checking for fatal signals between. */
#define PFLASH_BACKING_IO_STEP		SZ_8M

/*
 * A device's backing file is fixed at creation, when the new device has no
 * device node yet, so nothing can name the new device as its own backing
 * file, directly or through other devices: pflash chains cannot loop.  They
 * are still bounded in depth.  Every device on the chain is held open by
 * the one above it (the first by @file), so none can go away meanwhile.
 */
static int pflash_backing_check_chain(struct file *file)
{
	struct pflash_dev *lower;
	int depth;

	for (depth = 0; file; depth++) {
		if (!S_ISBLK(file_inode(file)->i_mode) ||
		    !pflash_blk_is_pflash(I_BDEV(file->f_mapping->host),
					  &lower))
			return 0;
		if (depth == PFLASH_BACKING_DEPTH_MAX)
			return -ELOOP;
		file = lower->backing;
	}
	return 0;
}

/**
 * pflash_backing_open() - resolve and check a backing file descriptor
 * @fd: the descriptor, in the caller's file table
 * @read_only: whether the device will be read-only
 * @extack: where to say what is wrong with it
 *
 * Return: a file description of the device's own on the same file, or an
 * ERR_PTR.
 */
struct file *pflash_backing_open(u32 fd, bool read_only,
				 struct netlink_ext_ack *extack)
{
	struct file *file, *own;
	umode_t mode;
	int err;

	file = fget(fd);
	if (!file) {
		NL_SET_ERR_MSG(extack,
			       "backing file descriptor is not open");
		return ERR_PTR(-EBADF);
	}
	mode = file_inode(file)->i_mode;
	if (!S_ISREG(mode) && !S_ISBLK(mode)) {
		NL_SET_ERR_MSG(extack,
			       "backing file must be a regular file or a block device");
		err = -EINVAL;
		goto out_put;
	}
	if (!(file->f_mode & FMODE_READ)) {
		NL_SET_ERR_MSG(extack,
			       "backing file descriptor is not open for reading");
		err = -EBADF;
		goto out_put;
	}
	if (!read_only && !(file->f_mode & FMODE_WRITE)) {
		NL_SET_ERR_MSG(extack,
			       "backing file descriptor is read-only, and the device is not");
		err = -EBADF;
		goto out_put;
	}
	err = pflash_backing_check_chain(file);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "pflash devices back one another too deeply");
		goto out_put;
	}

	own = dentry_open(&file->f_path,
			  O_LARGEFILE | (read_only ? O_RDONLY : O_RDWR),
			  current_cred());
	fput(file);
	if (IS_ERR(own))
		NL_SET_ERR_MSG(extack,
			       "could not open the backing file");
	return own;

out_put:
	fput(file);
	return ERR_PTR(err);
}

/* The size in bytes of a regular file or block device. */
u64 pflash_backing_size(struct file *file)
{
	struct inode *inode = file->f_mapping->host;

	if (S_ISBLK(file_inode(file)->i_mode))
		return bdev_nr_bytes(I_BDEV(inode));
	return i_size_read(inode);
}

/* The path to report, cut to PFLASH_BACKING_PATH_MAX bytes. */
static char *pflash_backing_path(struct file *file)
{
	char *buf, *path, *ret;

	buf = kmalloc(PFLASH_BACKING_PATH_MAX, GFP_KERNEL);
	if (!buf)
		return NULL;
	path = file_path(file, buf, PFLASH_BACKING_PATH_MAX);
	if (IS_ERR(path))
		ret = kasprintf(GFP_KERNEL, ".../%pD", file);
	else
		ret = kstrdup(path, GFP_KERNEL);
	kfree(buf);
	return ret;
}

static int pflash_backing_load(struct pflash_dev *dev)
{
	loff_t pos = 0;
	ssize_t ret;

	while (pos < dev->cfg.size) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = kernel_read(dev->backing, dev->data + pos,
				  min_t(u64, dev->cfg.size - pos,
					PFLASH_BACKING_IO_STEP), &pos);
		if (ret < 0)
			return ret;
		if (!ret)
			return -ENODATA;
	}
	return 0;
}

/**
 * pflash_backing_attach() - give a new device its backing file
 * @dev: the device, whose @data is allocated and @size set
 * @file: from pflash_backing_open(); the device takes its own reference
 * @extack: where to say why it failed
 *
 * Loads the device's contents from the file's first @dev->cfg.size bytes.
 *
 * Return: 0, or a negative errno with the device left without a backing
 * file.
 */
int pflash_backing_attach(struct pflash_dev *dev, struct file *file,
			  struct netlink_ext_ack *extack)
{
	int err;

	if (pflash_backing_size(file) < dev->cfg.size) {
		NL_SET_ERR_MSG(extack,
			       "backing file is shorter than the device");
		return -EINVAL;
	}
	dev->backing_path = pflash_backing_path(file);
	if (!dev->backing_path)
		return -ENOMEM;
	dev->backing = get_file(file);

	err = pflash_backing_load(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "could not read the backing file");
		pflash_backing_detach(dev);
	}
	return err;
}

void pflash_backing_detach(struct pflash_dev *dev)
{
	if (dev->backing)
		fput(dev->backing);
	dev->backing = NULL;
	kfree(dev->backing_path);
	dev->backing_path = NULL;
}

/* Write [pos, pos + len) of the device to the same place in the file. */
int pflash_backing_write(struct pflash_dev *dev, u64 pos, u64 len)
{
	unsigned int noio = memalloc_noio_save();
	loff_t off = pos;
	u64 end = pos + len;
	ssize_t ret = 0;

	while (off < end) {
		ret = kernel_write(dev->backing, dev->data + off,
				   min_t(u64, end - off,
					 PFLASH_BACKING_IO_STEP), &off);
		if (ret < 0)
			break;
		if (!ret) {
			ret = -EIO;
			break;
		}
	}
	memalloc_noio_restore(noio);
	return ret < 0 ? ret : 0;
}

/* Make what was written to the file durable. */
int pflash_backing_sync(struct pflash_dev *dev)
{
	unsigned int noio = memalloc_noio_save();
	int err;

	err = vfs_fsync(dev->backing, 1);
	memalloc_noio_restore(noio);
	return err;
}
