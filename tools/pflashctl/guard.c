// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl's guards: no command given a mistaken path destroys a store.
 *
 * A store is a device's contents: a pflash device (any block device), or
 * the backing file of one.  export writes its stream over neither (see
 * out_open() in stream.c), and create and apply take no state stream as a
 * backing file, which the device would take for its contents and then
 * write into.  A backing file is known by its inode, as the kernel reports
 * it (PFLASH_A_DEV_BACKING_DEV and _INO), not by its path: so a hard link,
 * a bind mount or a symbolic link to it is known too, and so is a file the
 * path no longer names.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pfstream.h"
#include "pflashctl.h"

struct owner {
	const struct stat *st;
	int64_t index;
};

static int owner_find(const struct pfnl_dev *dev, void *arg)
{
	struct owner *o = arg;
	struct stat st;

	if (o->index >= 0)
		return 0;
	if (pfnl_dev_has(dev, PFLASH_A_DEV_BACKING_INO)) {
		if (dev->backing_dev == (uint64_t)o->st->st_dev &&
		    dev->backing_ino == (uint64_t)o->st->st_ino)
			o->index = dev->index;
	} else if (pfnl_dev_has(dev, PFLASH_A_DEV_BACKING_PATH) &&
		   !stat(dev->backing_path, &st) &&
		   st.st_dev == o->st->st_dev && st.st_ino == o->st->st_ino) {
		/* A kernel that does not say: the path, which may lie. */
		o->index = dev->index;
	}
	return 0;
}

int ctl_backing_owner(const struct ctl_cmd *cmd, const struct stat *st,
		      int64_t *index)
{
	struct owner o = { .st = st, .index = -1 };
	struct pfnl *h;
	int ret;

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	ret = ctl_report(cmd, NULL, h, pfnl_dev_dump(h, owner_find, &o));
	pfnl_close(h);
	*index = o.index;
	return ret;
}

/* Whether the file of @fd starts with a state stream's HEADER record. */
static bool is_stream(int fd)
{
	uint8_t buf[sizeof(struct pflash_stream_rec) + PFLASH_STREAM_META_MAX];
	struct pfstream *s;
	ssize_t n;
	bool ret;

	n = pread(fd, buf, sizeof(buf), 0);
	if (n <= 0 || pfstream_new(&s))
		return false;
	pfstream_feed(s, buf, n);
	ret = pfstream_status(s)->have_header;
	pfstream_free(s);
	return ret;
}

int ctl_open_backing(const struct ctl_cmd *cmd, const char *where,
		     const char *path, bool read_only)
{
	int fd;

	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		ctl_msg(cmd, where, "cannot open backing file '%s': %s", path,
			strerror(errno));
		return -1;
	}
	if (is_stream(fd)) {
		ctl_msg(cmd, where, "'%s' is a pflash state stream, not a device's contents: load it into a device with 'pflashctl import'",
			path);
		close(fd);
		return -1;
	}
	return fd;
}
