// SPDX-License-Identifier: GPL-2.0
/*
 * pflash: the state stream through a file descriptor.
 *
 * An export can write its stream straight into a file descriptor of the
 * sender's, and an import read its stream straight from one, as btrfs send
 * and receive do: the stream then goes from the device's buffer to a pipe,
 * or from a pipe to the import's staging buffer, in one copy, and never
 * through netlink messages.  The file is read or written in the sender's
 * context, a step at a time, from the file's position on (which is left
 * where it was), and no lock is held across its I/O: a slow
 * reader or writer at the other end of a pipe only ever holds up its own
 * transfer.  A signal ends a transfer with ECANCELED (a pipe's wait is
 * interrupted by it, and it is looked for between the steps of any other
 * file; not EINTR, which netlink answers with no acknowledgment at all,
 * for a request to be sent again), and so does a
 * reader that closed its end of a pipe: the file's own write then sends
 * SIGPIPE and fails with EPIPE, as write(2) would.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>

#include "pflash.h"

/*
 * A stream is written into a file, never over a store: not into a block
 * device, which an import loads it into, nor into the backing file of any
 * device, through whatever path or link the sender opened it.
 */
static int pflash_transfer_not_a_store(struct file *file, struct nlattr *attr,
				       struct netlink_ext_ack *extack)
{
	umode_t mode = file_inode(file)->i_mode;
	struct pflash_file_id id;
	int err;

	if (S_ISBLK(mode)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is a block device, which the stream would overwrite; to load a stream into a device, import it");
		return -EINVAL;
	}
	if (!S_ISREG(mode))
		return 0;
	err = pflash_file_id(file, &id);
	if (err) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "could not stat the stream's file");
		return err;
	}
	if (pflash_dev_find_backing(&id) >= 0) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is the backing file of a pflash device, which the stream would overwrite");
		return -EBUSY;
	}
	return 0;
}

/**
 * pflash_transfer_open() - resolve a stream's file descriptor
 * @fd: the descriptor, in the caller's file table
 * @write: whether the stream is written to it (an export)
 * @attr: the attribute that carried @fd, for extack
 * @extack: where to say what is wrong with it
 *
 * Return: the file, with a reference, or an ERR_PTR.
 */
struct file *pflash_transfer_open(u32 fd, bool write, struct nlattr *attr,
				  struct netlink_ext_ack *extack)
{
	struct file *file = fget(fd);
	int err;

	if (!file) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is not open");
		return ERR_PTR(-EBADF);
	}
	if (S_ISDIR(file_inode(file)->i_mode)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is a directory");
		fput(file);
		return ERR_PTR(-EISDIR);
	}
	if (write && !(file->f_mode & FMODE_WRITE)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is not open for writing");
		fput(file);
		return ERR_PTR(-EBADF);
	}
	if (!write && !(file->f_mode & FMODE_READ)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the stream's file descriptor is not open for reading");
		fput(file);
		return ERR_PTR(-EBADF);
	}
	if (write) {
		err = pflash_transfer_not_a_store(file, attr, extack);
		if (err) {
			fput(file);
			return ERR_PTR(err);
		}
	}
	/* kernel_write() and kernel_read() go through the iterators only. */
	if (!(write ? file->f_op->write_iter : file->f_op->read_iter)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "the kernel cannot move a stream through this kind of file (a character device?): give a pipe, a socket or a regular file");
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file;
}

/*
 * What a failed read or write of the stream's file says; @err is its
 * negative errno, and what the caller returns.
 */
static int pflash_transfer_error(int err, bool write,
				 struct netlink_ext_ack *extack)
{
	if (err == -ERESTARTSYS || err == -ERESTARTNOINTR ||
	    err == -ERESTARTNOHAND || err == -EINTR ||
	    (err == -EAGAIN && signal_pending(current))) {
		NL_SET_ERR_MSG(extack, "the transfer was interrupted by a signal");
		return -ECANCELED;
	}
	if (err == -EPIPE) {
		NL_SET_ERR_MSG(extack,
			       "the stream's reader went away (broken pipe)");
		return err;
	}
	if (err == -EAGAIN) {
		NL_SET_ERR_MSG(extack,
			       "the stream's file descriptor is non-blocking and not ready; give a blocking one");
		return err;
	}
	if (write)
		NL_SET_ERR_MSG(extack, "could not write the stream");
	else
		NL_SET_ERR_MSG(extack, "could not read the stream");
	return err;
}

/* A signal ends a transfer between two steps, as it would a pipe's wait. */
static int pflash_transfer_check_signal(struct netlink_ext_ack *extack)
{
	if (!signal_pending(current))
		return 0;
	NL_SET_ERR_MSG(extack, "the transfer was interrupted by a signal");
	return -ECANCELED;
}

/**
 * pflash_transfer_write() - write the next bytes of a stream
 * @file: from pflash_transfer_open()
 * @pos: the position in @file; advanced
 * @buf: the bytes
 * @len: how many; all of them are written, or none counts
 * @extack: where to say why it failed
 *
 * Called with no lock held: it waits for the reader.
 *
 * Return: 0, or a negative errno that ends the transfer.
 */
int pflash_transfer_write(struct file *file, loff_t *pos, const u8 *buf,
			  size_t len, struct netlink_ext_ack *extack)
{
	ssize_t n;
	int err;

	err = pflash_transfer_check_signal(extack);
	while (!err && len) {
		n = kernel_write(file, buf, len, pos);
		if (n < 0)
			return pflash_transfer_error(n, true, extack);
		if (!n) {
			NL_SET_ERR_MSG(extack,
				       "could not write the stream: no room left");
			return -ENOSPC;
		}
		buf += n;
		len -= n;
	}
	return err;
}

/**
 * pflash_transfer_read() - read the next bytes of a stream
 * @file: from pflash_transfer_open()
 * @pos: the position in @file; advanced
 * @buf: where to put them
 * @len: how many: fewer only at the end of the file
 * @extack: where to say why it failed
 *
 * Called with no lock held: it waits for the writer.
 *
 * Return: the number of bytes read, less than @len at the end of the
 * file, or a negative errno that ends the transfer.
 */
ssize_t pflash_transfer_read(struct file *file, loff_t *pos, u8 *buf,
			     size_t len, struct netlink_ext_ack *extack)
{
	size_t done = 0;
	ssize_t n;
	int err;

	err = pflash_transfer_check_signal(extack);
	if (err)
		return err;
	while (done < len) {
		n = kernel_read(file, buf + done, len - done, pos);
		if (n < 0)
			return pflash_transfer_error(n, false, extack);
		if (!n)
			break;
		done += n;
	}
	return done;
}
