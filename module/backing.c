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
 *
 * A lost backing file.  The device holds its file, not a path: when the
 * file is deleted, or another file is renamed over it (as an editor, or a
 * careless `pflashctl export -o`, saves a file), the device still holds
 * the old inode, which no path names and which goes with the device; when
 * the file is moved, the path it was created from names another file, or
 * none.  Either way, writing on as if nothing happened would lose data
 * silently: into a deleted inode, or beside the file that the operator's
 * table, or the other host of a move, knows by that path.  So the kernel
 * looks, and refuses:
 *
 *  - a deleted file is d_unlinked(): its dentry is unhashed for good.  A
 *    writeback pass looks (it costs nothing), and writes nothing into it;
 *  - a moved file is one whose path within its filesystem
 *    (dentry_path_raw()) is no longer the one it had at creation: this
 *    sees a rename of the file or of any directory above it, and depends
 *    on no mount namespace or root, unlike a path looked up again, which
 *    would be the caller's.  Activation and FLUSH look, under @ctl_lock.
 *
 * A block device as backing file is never lost: its data is the device's,
 * whatever becomes of the node that named it.
 *
 * A backing file on NFS.  The device's OFD lock keeps another owner out
 * only if the server holds it: an NFS mount whose locks are local
 * (nolock, local_lock=posix or all, which only NFS versions 2 and 3
 * heed; the NFSv4 client clears them) would let a device on another host
 * take the same file.  So such a file is refused at creation, as the
 * superblock's mount flags say.  A soft mount is allowed, with a warning
 * in the kernel log: its writes may fail while the server is away, which
 * pflash survives (the data stays dirty, and a later pass writes it), but
 * the NFS client's own page cache of the file may then drop data; hard
 * mounts wait instead (see "Shared storage" in the admin guide).
 *
 * A lock lost on a network filesystem (see "lose" in owner.c) is found
 * here, by the writeback pass that failed, and acted on under @ctl_lock,
 * in the lowest layer, since the data path, sysfs's work item and every
 * control operation ask: pflash_backing_check_lost(),
 * pflash_backing_lost_noticed() and pflash_backing_refuse_lost().
 *
 * Proving the file equal.  Activation after an import must leave every
 * byte of the file equal to the device, whatever changed the file while
 * no device owned it (owner.c).  Writing the whole device does that;
 * writing less is allowed only where it is proven that the rest of the
 * file matches already.  The proof is a mark (struct pflash_file_mark):
 * the file's change attribute, i_version, read at a moment when the file
 * is known to hold the device's contents, and read again at activation.
 * If it has not moved, nothing has changed the file in between.  That holds
 * only where every change to the file moves the attribute, so a mark is
 * made, and checked, only when:
 *
 *  - the file is a regular file on a file system that keeps i_version
 *    (IS_I_VERSION: ext4, xfs, btrfs; and tmpfs, but see below);
 *  - its pages are written back (mapping_can_writeback()): then the first
 *    store through a shared mapping into a clean page faults, and the fault
 *    moves the attribute (->page_mkwrite(), or fault_dirty_shared_page()).
 *    tmpfs keeps i_version, but it maps a page writable on a read fault of
 *    a shared mapping and never takes that back, so later stores through
 *    the mapping move nothing: no mark on tmpfs;
 *  - nothing maps the file shared and writable at the moment: a page made
 *    writable by an earlier fault would take stores unseen;
 *  - no write is in flight: the inode's lock is held, and direct I/O is
 *    drained (a write moves the attribute before it copies its data, both
 *    under that lock).
 *
 * NFS keeps no i_version of its own (its change attribute is the server's,
 * behind the attribute cache), and a block device none at all: no marks.
 * The file's size is kept with the attribute, as some file systems extend
 * a file (fallocate) without moving it.
 *
 * A device marks its file when it knows that the file holds its contents:
 * once it has loaded them from the file, at creation, if the attribute did
 * not move while it read; and at inactivation, once the last writeback
 * pass wrote everything, while it still owns the file.  (An activation
 * with no import owed, whose own mark no longer holds, loads the file
 * again: the device holds what the file holds.)  An export of that
 * device's final state names the mark in its END record (a token, random,
 * which only this kernel can resolve), and an import remembers it
 * (@claim).  At activation (pflash_backing_prove()), the file holds the
 * imported contents in full if the claimed mark is on the same file and
 * the attribute still reads as it did; else it holds the device's contents
 * from before the import, but for the granules the import changed, which
 * are dirty, if the device's own mark still holds; else nothing is known.
 *
 * What a mark cannot see: a writer that ignores the ownership, and writes
 * the file while a device owns it, is indistinguishable from the owner's
 * own writes; the owner's mark then vouches for contents the file does not
 * hold.  Ownership excludes such writers (the OFD lock), as it excludes a
 * second pflash device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/backing-dev.h>
#include <linux/blkdev.h>
#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iversion.h>
#include <linux/kdev_t.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/nfs_fs.h>
#include <linux/nfs_mount.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stat.h>

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

/* Whether @file is on NFS, of any version. */
static bool pflash_backing_on_nfs(struct file *file)
{
	const char *fs = file_inode(file)->i_sb->s_type->name;

	return !strcmp(fs, "nfs") || !strcmp(fs, "nfs4");
}

/*
 * Refuse a file on an NFS mount whose locks are local, and warn of a soft
 * mount; see "A backing file on NFS" above.
 */
static int pflash_backing_check_nfs(struct file *file,
				    struct netlink_ext_ack *extack)
{
	unsigned int flags;

	if (!pflash_backing_on_nfs(file))
		return 0;
	flags = NFS_SB(file_inode(file)->i_sb)->flags;
	if (flags & NFS_MOUNT_LOCAL_FCNTL) {
		NL_SET_ERR_MSG(extack,
			       "backing file is on an NFS mount whose locks are local (nolock or local_lock): its lock would not keep another host out");
		return -EINVAL;
	}
	if (flags & (NFS_MOUNT_SOFT | NFS_MOUNT_SOFTERR))
		pr_warn_ratelimited("backing file %pD is on a soft NFS mount: mount it hard, so that writes wait for the server (see the admin guide)\n",
				    file);
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
	err = pflash_backing_check_nfs(file, extack);
	if (err)
		goto out_put;

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

/**
 * pflash_file_id() - a file's identity, as stat(2) gives it
 * @file: the file
 * @id: filled in
 *
 * Return: 0, or the error of vfs_getattr().
 */
int pflash_file_id(struct file *file, struct pflash_file_id *id)
{
	struct kstat st;
	int err;

	err = vfs_getattr(&file->f_path, &st, STATX_INO,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		return err;
	id->dev = new_encode_dev(st.dev);
	id->ino = st.ino;
	return 0;
}

/*
 * @file's path now, in the caller's root, in @buf of
 * PFLASH_BACKING_PATH_MAX bytes: d_path()'s, with " (deleted)" if it was
 * deleted, or its last components if it is too long.  Returns where in
 * @buf it starts.
 */
static char *pflash_file_path(struct file *file, char *buf)
{
	char *path = file_path(file, buf, PFLASH_BACKING_PATH_MAX);

	if (!IS_ERR(path))
		return path;
	snprintf(buf, PFLASH_BACKING_PATH_MAX, ".../%pD", file);
	return buf;
}

/**
 * pflash_backing_path_now() - the backing file's path, as reported
 * @dev: a device with a backing file
 * @buf: PFLASH_BACKING_PATH_MAX bytes
 *
 * Where the file is now, in the caller's root: its new path if it was
 * moved, with " (deleted)" if it was deleted or replaced.
 *
 * Return: the path, somewhere in @buf.
 */
char *pflash_backing_path_now(struct pflash_dev *dev, char *buf)
{
	return pflash_file_path(dev->backing, buf);
}

/*
 * Keep @file's paths: dev->backing_path, and for a regular file, its path
 * within its filesystem, to see later whether it moved, in
 * dev->backing_fs_path, followed by as many bytes again where
 * pflash_backing_look() puts the path it has then.  A path within its
 * filesystem too long to keep is not kept: that file is not seen moving.
 */
static int pflash_backing_keep_paths(struct pflash_dev *dev,
				     struct file *file)
{
	char *buf, *path;
	size_t len;
	int err = -ENOMEM;

	buf = kmalloc(PFLASH_BACKING_PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	dev->backing_path = kstrdup(pflash_file_path(file, buf), GFP_KERNEL);
	if (!dev->backing_path)
		goto out;
	err = 0;
	path = dentry_path_raw(file->f_path.dentry, buf,
			       PFLASH_BACKING_PATH_MAX);
	if (S_ISREG(file_inode(file)->i_mode) && !IS_ERR(path)) {
		len = strlen(path) + 1;
		dev->backing_fs_path = kmalloc(2 * len, GFP_KERNEL);
		if (dev->backing_fs_path)
			memcpy(dev->backing_fs_path, path, len);
		else
			err = -ENOMEM;
	}
out:
	kfree(buf);
	return err;
}

/* Guards every device's mark, and the list of marks; see "Locking". */
static DEFINE_SPINLOCK(pflash_marks_lock);
static LIST_HEAD(pflash_marks);

/*
 * Read the change attribute and the size of @file, if every change to it
 * moves the attribute; see "Proving the file equal" above.
 */
static bool pflash_backing_cookie(struct file *file, u64 *cookie,
				  loff_t *isize)
{
	struct inode *inode = file_inode(file);
	bool ok;

	if (!S_ISREG(inode->i_mode) || !IS_I_VERSION(inode) ||
	    !mapping_can_writeback(file->f_mapping))
		return false;
	inode_lock(inode);
	inode_dio_wait(inode);
	ok = !mapping_writably_mapped(file->f_mapping);
	if (ok) {
		*cookie = inode_query_iversion(inode);
		*isize = i_size_read(inode);
	}
	inode_unlock(inode);
	return ok;
}

/* Forget the device's mark, if it has one. */
static void pflash_backing_unmark(struct pflash_dev *dev)
{
	spin_lock(&pflash_marks_lock);
	if (dev->mark.token) {
		list_del(&dev->mark.node);
		dev->mark.token = 0;
	}
	spin_unlock(&pflash_marks_lock);
}

/* Mark the file as holding the device's contents at @cookie. */
static void pflash_backing_set_mark(struct pflash_dev *dev, u64 cookie,
				    loff_t isize)
{
	u64 token;

	do {
		token = get_random_u64();
	} while (!token);
	spin_lock(&pflash_marks_lock);
	if (!dev->mark.token)
		list_add(&dev->mark.node, &pflash_marks);
	dev->mark.token = token;
	dev->mark.inode = file_inode(dev->backing);
	dev->mark.cookie = cookie;
	dev->mark.isize = isize;
	dev->mark.gen = dev->content_gen;
	spin_unlock(&pflash_marks_lock);
}

/**
 * pflash_backing_mark() - note that the backing file holds the contents
 * @dev: the device, with its ctl_lock held; it owns its backing file, and
 *	has just written back every dirty granule, with writes held back
 *
 * Makes a new mark, or forgets the old one if the file's attribute cannot
 * be trusted now.
 */
void pflash_backing_mark(struct pflash_dev *dev)
{
	loff_t isize;
	u64 cookie;

	if (pflash_writes_back(dev) &&
	    pflash_backing_cookie(dev->backing, &cookie, &isize))
		pflash_backing_set_mark(dev, cookie, isize);
	else
		pflash_backing_unmark(dev);
}

/**
 * pflash_backing_mark_token() - the mark an export of the device may name
 * @dev: the device, with its ctl_lock held
 *
 * Return: the token of the device's mark if the device is inactive and
 * its contents are still those the mark saw, else 0.
 */
u64 pflash_backing_mark_token(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (dev->state != PFLASH_STATE_INACTIVE ||
	    dev->mark.gen != dev->content_gen)
		return 0;
	return dev->mark.token;
}

/**
 * pflash_backing_prove() - what is known of the backing file now
 * @dev: the device, with its ctl_lock held, owning its backing file
 *
 * Return: %PFLASH_PROOF_ALL if the mark the last import claimed is of the
 * same file and nothing has changed it since; %PFLASH_PROOF_BASE if the
 * device's own mark still holds; %PFLASH_PROOF_NONE otherwise.
 */
enum pflash_backing_proof pflash_backing_prove(struct pflash_dev *dev)
{
	enum pflash_backing_proof proof = PFLASH_PROOF_NONE;
	struct inode *inode = file_inode(dev->backing);
	const struct pflash_file_mark *m;
	loff_t isize;
	u64 cookie;

	lockdep_assert_held(&dev->ctl_lock);
	if (!pflash_backing_cookie(dev->backing, &cookie, &isize))
		return PFLASH_PROOF_NONE;
	spin_lock(&pflash_marks_lock);
	/* The mark's inode is pinned while it is on the list. */
	list_for_each_entry(m, &pflash_marks, node) {
		if (!dev->claim || m->token != dev->claim)
			continue;
		if (m->inode == inode && m->cookie == cookie &&
		    m->isize == isize)
			proof = PFLASH_PROOF_ALL;
		break;
	}
	if (proof == PFLASH_PROOF_NONE && dev->mark.token &&
	    dev->mark.cookie == cookie && dev->mark.isize == isize)
		proof = PFLASH_PROOF_BASE;
	spin_unlock(&pflash_marks_lock);
	return proof;
}

/**
 * pflash_backing_fit() - cut off what was appended to the backing file
 * @dev: the device, with its ctl_lock held, owning its backing file
 *
 * A file that was the device's size when the device was created is the
 * device's, every byte of it: bytes appended since are cut off.  A file
 * that was longer keeps the bytes beyond the device.
 *
 * Return: 0, or the error of the truncation.
 */
int pflash_backing_fit(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (!dev->backing_fits ||
	    i_size_read(file_inode(dev->backing)) <= dev->cfg.size)
		return 0;
	return vfs_truncate(&dev->backing->f_path, dev->cfg.size);
}

/**
 * pflash_backing_read() - read part of the backing file
 * @dev: a device with a backing file
 * @buf: where to put [@pos, @pos + @len) of the file
 * @pos: where to start in the file
 * @len: how many bytes
 *
 * Return: 0, or a negative errno: -EINTR on a fatal signal, -ENODATA if
 * the file ends before.
 */
int pflash_backing_read(struct pflash_dev *dev, u8 *buf, u64 pos, u64 len)
{
	loff_t off = pos;
	u64 end = pos + len;
	ssize_t ret;

	while (off < end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = kernel_read(dev->backing, buf + (off - pos),
				  min_t(u64, end - off, PFLASH_BACKING_IO_STEP),
				  &off);
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
 * Loads the device's contents from the file's first @dev->cfg.size bytes,
 * and marks the file as holding them if its change attribute did not move
 * while they were read.
 *
 * Return: 0, or a negative errno with the device left without a backing
 * file.
 */
int pflash_backing_attach(struct pflash_dev *dev, struct file *file,
			  struct netlink_ext_ack *extack)
{
	loff_t isize, isize_after;
	u64 cookie, cookie_after;
	bool marked;
	int err;

	if (pflash_backing_size(file) < dev->cfg.size) {
		NL_SET_ERR_MSG(extack,
			       "backing file is shorter than the device");
		return -EINVAL;
	}
	err = pflash_file_id(file, &dev->backing_id);
	if (err) {
		NL_SET_ERR_MSG(extack, "could not stat the backing file");
		return err;
	}
	err = pflash_backing_keep_paths(dev, file);
	if (err) {
		pflash_backing_detach(dev);
		return err;
	}
	dev->backing = get_file(file);
	dev->backing_fits = S_ISREG(file_inode(file)->i_mode) &&
			    pflash_backing_size(file) == dev->cfg.size;

	marked = pflash_writes_back(dev) &&
		 pflash_backing_cookie(file, &cookie, &isize);
	err = pflash_backing_read(dev, dev->data, 0, dev->cfg.size);
	if (err) {
		NL_SET_ERR_MSG(extack, "could not read the backing file");
		pflash_backing_detach(dev);
		return err;
	}
	if (marked && pflash_backing_cookie(file, &cookie_after, &isize_after) &&
	    cookie_after == cookie && isize_after == isize)
		pflash_backing_set_mark(dev, cookie, isize);
	return 0;
}

void pflash_backing_detach(struct pflash_dev *dev)
{
	pflash_backing_unmark(dev);
	if (dev->backing)
		fput(dev->backing);
	dev->backing = NULL;
	kfree(dev->backing_path);
	dev->backing_path = NULL;
	kfree(dev->backing_fs_path);
	dev->backing_fs_path = NULL;
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

/*
 * The extended-ack messages that name a backing file.  netlink reads a
 * message when it builds the acknowledgment, after the handler returned
 * and dropped its reference on the device, which may be gone by then: so
 * a message that names a path is kept here, once, until the module
 * unloads, when no acknowledgment is being built any more.  Past
 * PFLASH_MSGS_MAX of them, a message names no path (the kernel log does).
 */
#define PFLASH_MSGS_MAX		64

struct pflash_msg {
	struct list_head node;
	char text[];
};

static DEFINE_MUTEX(pflash_msgs_lock);
static LIST_HEAD(pflash_msgs);
static unsigned int pflash_nr_msgs;

/*
 * The message "the backing file @path @why", as kept; or, if it cannot be
 * kept, one without the path.
 */
static const char *pflash_msg(const char *path, const char *why,
			      const char *fallback)
{
	struct pflash_msg *m, *found = NULL;
	char *text;
	size_t len;

	text = kasprintf(GFP_KERNEL, "the backing file %s %s", path, why);
	if (!text)
		return fallback;
	len = strlen(text) + 1;
	mutex_lock(&pflash_msgs_lock);
	list_for_each_entry(m, &pflash_msgs, node) {
		if (!strcmp(m->text, text)) {
			found = m;
			break;
		}
	}
	if (!found && pflash_nr_msgs < PFLASH_MSGS_MAX) {
		found = kmalloc(struct_size(found, text, len), GFP_KERNEL);
		if (found) {
			memcpy(found->text, text, len);
			list_add(&found->node, &pflash_msgs);
			pflash_nr_msgs++;
		}
	}
	mutex_unlock(&pflash_msgs_lock);
	kfree(text);
	return found ? found->text : fallback;
}

/* Free the messages; the family is gone. */
void pflash_backing_exit(void)
{
	struct pflash_msg *m, *next;

	list_for_each_entry_safe(m, next, &pflash_msgs, node)
		kfree(m);
	INIT_LIST_HEAD(&pflash_msgs);
	pflash_nr_msgs = 0;
}

#define PFLASH_DELETED_WHY	"was deleted, or replaced: its writes have nowhere to go, and the device's contents are in memory only (see the admin guide)"
#define PFLASH_MOVED_WHY	"was moved, it or a directory above it: that path no longer names it; move it back (see the admin guide)"

/* Whether the device's backing file is still where it was; see above. */
static enum pflash_backing_state pflash_backing_look(struct pflash_dev *dev)
{
	const char *kept = dev->backing_fs_path;
	struct dentry *dentry = dev->backing->f_path.dentry;
	size_t len;
	char *now;

	if (!S_ISREG(file_inode(dev->backing)->i_mode))
		return PFLASH_BACKING_OK;
	if (d_unlinked(dentry))
		return PFLASH_BACKING_DELETED;
	if (!kept)
		return PFLASH_BACKING_OK;
	/* Where the path is now, in the bytes after the one kept. */
	len = strlen(kept) + 1;
	now = dentry_path_raw(dentry, dev->backing_fs_path + len, len);
	if (IS_ERR(now) || strcmp(now, kept))
		return PFLASH_BACKING_MOVED;
	return PFLASH_BACKING_OK;
}

/*
 * Note that the backing file is in state @state now; say so in the kernel
 * log if it was not before.  Returns whether it changed.
 */
static bool pflash_backing_note(struct pflash_dev *dev,
				enum pflash_backing_state state)
{
	if (xchg(&dev->backing_state, state) == state)
		return false;
	if (state == PFLASH_BACKING_DELETED)
		pr_warn("pflash%d: the backing file %s " PFLASH_DELETED_WHY "\n",
			dev->index, dev->backing_path);
	else if (state == PFLASH_BACKING_MOVED)
		pr_warn("pflash%d: the backing file %s " PFLASH_MOVED_WHY "\n",
			dev->index, dev->backing_path);
	else
		pr_info("pflash%d: the backing file %s is where it was again\n",
			dev->index, dev->backing_path);
	return true;
}

/**
 * pflash_backing_gone() - whether a writeback pass may write the file
 * @dev: a device with a backing file; called with its wb_lock held
 *
 * A deleted file is not written: its writes would go with the device.
 * The change is announced, once.
 *
 * Return: 0, or -ENOENT if the file was deleted.
 */
int pflash_backing_gone(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->wb_lock);
	if (!S_ISREG(file_inode(dev->backing)->i_mode) ||
	    !d_unlinked(dev->backing->f_path.dentry))
		return 0;
	if (pflash_backing_note(dev, PFLASH_BACKING_DELETED))
		pflash_sysfs_noticed(dev);
	return -ENOENT;
}

/**
 * pflash_backing_check() - refuse an operation on a lost backing file
 * @dev: the device; called with its ctl_lock held
 * @moved: refuse a file that was moved, too, not only one deleted
 * @extack: where to say why, naming the file
 *
 * Looks at the file, and announces a change of what it finds.  A device
 * without a backing file passes.
 *
 * Return: 0, or -ENOENT if the file was deleted (or, with @moved, moved).
 */
int pflash_backing_check(struct pflash_dev *dev, bool moved,
			 struct netlink_ext_ack *extack)
{
	enum pflash_backing_state state;
	const char *msg;

	lockdep_assert_held(&dev->ctl_lock);
	if (!dev->backing)
		return 0;
	state = pflash_backing_look(dev);
	pflash_backing_note(dev, state);
	pflash_sysfs_backing_changed(dev);
	if (state == PFLASH_BACKING_DELETED)
		msg = pflash_msg(dev->backing_path, PFLASH_DELETED_WHY,
				 "the backing file " PFLASH_DELETED_WHY);
	else if (state == PFLASH_BACKING_MOVED && moved)
		msg = pflash_msg(dev->backing_path, PFLASH_MOVED_WHY,
				 "the backing file " PFLASH_MOVED_WHY);
	else
		return 0;
	/* NL_SET_ERR_MSG() takes a literal; this one is kept (see above). */
	if (extack)
		extack->_msg = msg;
	return -ENOENT;
}

/*
 * An OFD lock on the whole of the backing file, of @type, owned by the
 * device's own file description, as fcntl(F_OFD_SETLK) and F_OFD_GETLK
 * take it.
 */
static void pflash_backing_lock_init(struct pflash_dev *dev,
				     struct file_lock *fl, unsigned char type)
{
	locks_init_lock(fl);
	fl->fl_start = 0;
	fl->fl_end = OFFSET_MAX;
	fl->c.flc_flags = FL_POSIX | FL_OFDLCK;
	fl->c.flc_type = type;
	fl->c.flc_owner = dev->backing;
	fl->c.flc_file = dev->backing;
	fl->c.flc_pid = current->tgid;
}

/**
 * pflash_backing_setlk() - set or drop the device's lock on its file
 * @dev: a device with a backing file; called with its ctl_lock held
 * @type: F_RDLCK, F_WRLCK, or F_UNLCK to drop it
 *
 * As fcntl(F_OFD_SETLK) does, on the whole file.  Unlocking the whole file
 * allocates nothing, so it cannot fail.
 *
 * Return: 0, -EAGAIN if another owner holds a conflicting lock, or another
 * negative errno.
 */
int pflash_backing_setlk(struct pflash_dev *dev, unsigned char type)
{
	struct file_lock fl;

	pflash_backing_lock_init(dev, &fl, type);
	return vfs_lock_file(dev->backing, F_SETLK, &fl, NULL);
}

/*
 * Whether another owner holds a lock on the backing file that conflicts
 * with the device's, as F_OFD_GETLK of the device's own lock would say:
 * the device's own lock never conflicts, and nothing is taken.  On a
 * network filesystem this asks the server.  A look that fails finds
 * nothing.
 */
static bool pflash_backing_lock_taken(struct pflash_dev *dev)
{
	struct file_lock fl;
	bool taken;

	pflash_backing_lock_init(dev, &fl,
				 dev->cfg.read_only ? F_RDLCK : F_WRLCK);
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

bool pflash_backing_fault(void)
{
	return should_fail(&pflash_fail_lock, 1);
}

void pflash_backing_fault_init(void)
{
	pflash_fail_lock_dir = fault_create_debugfs_attr("fail_pflash_lock",
							 NULL,
							 &pflash_fail_lock);
}

void pflash_backing_fault_exit(void)
{
	/* An error pointer, if it failed: debugfs takes it. */
	debugfs_remove_recursive(pflash_fail_lock_dir);
}
#else
bool pflash_backing_fault(void)
{
	return false;
}

void pflash_backing_fault_init(void)
{
}

void pflash_backing_fault_exit(void)
{
}
#endif

/**
 * pflash_backing_check_lost() - after a failed pass, whether the lock is lost
 * @dev: the device; called with its wb_lock held, by a pass that failed
 * @injected: the pass failed by fail_pflash_lock: take the lock as lost
 *
 * If another owner holds the backing file's lock, the device's is lost:
 * from now on it writes nothing to the file, and a work item turns it
 * %PFLASH_STATE_LOST (pflash_backing_lost_noticed()).
 */
void pflash_backing_check_lost(struct pflash_dev *dev, bool injected)
{
	lockdep_assert_held(&dev->wb_lock);
	if (!dev->owns_backing ||
	    (!injected && !pflash_backing_lock_taken(dev)))
		return;
	WRITE_ONCE(dev->owns_backing, false);
	WRITE_ONCE(dev->owner_lost, true);
	pflash_sysfs_noticed(dev);
}

/**
 * pflash_backing_lost_noticed() - turn a device that lost its lock LOST
 * @dev: the device, live; called with its ctl_lock held
 *
 * Once: a device whose pass found its lock lost (@owner_lost) turns
 * %PFLASH_STATE_LOST and its disk read-only, gives up what is left of its
 * lock on this host, which on a network filesystem asks nothing of the
 * server, and says so in the kernel log, with a uevent, and to
 * pflash_dev_events (netlink.c's events group).
 */
void pflash_backing_lost_noticed(struct pflash_dev *dev)
{
	lockdep_assert_held(&dev->ctl_lock);
	if (!READ_ONCE(dev->owner_lost) || dev->state == PFLASH_STATE_LOST)
		return;
	WRITE_ONCE(dev->state, PFLASH_STATE_LOST);
	pflash_blk_refuse_writes_lost(dev);
	pflash_backing_setlk(dev, F_UNLCK);
	pr_err("pflash%d: lost the lock of its backing file %s to another owner (on a network filesystem, after this host was cut off for longer than its lease): its writes fail, and %llu bytes never reached the file; destroy the device and create it again from the file\n",
	       dev->index, dev->backing_path, pflash_wb_dirty_bytes(dev));
	pflash_sysfs_changed(dev);
	blocking_notifier_call_chain(&pflash_dev_events, PFLASH_DEV_EVENT_LOST,
				     dev);
}

/**
 * pflash_backing_refuse_lost() - refuse an operation of a device that lost
 *	its lock
 * @dev: the device; called with its ctl_lock held
 * @extack: where to say why
 *
 * Return: -ENOLCK if the device lost its backing file's lock (it is then
 * %PFLASH_STATE_LOST), else 0.
 */
int pflash_backing_refuse_lost(struct pflash_dev *dev,
			       struct netlink_ext_ack *extack)
{
	if (!READ_ONCE(dev->owner_lost))
		return 0;
	pflash_backing_lost_noticed(dev);
	NL_SET_ERR_MSG(extack,
		       "the device lost its backing file's lock to another owner (its host was cut off longer than the lease): destroy it and create it again from the file");
	return -ENOLCK;
}
