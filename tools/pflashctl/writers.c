// SPDX-License-Identifier: GPL-2.0
/*
 * Who has a device open for writing: the processes with a file descriptor
 * of it open for writing, found in /proc, as fuser(1) finds them.
 *
 * The kernel cannot tell: the block layer calls a driver's open() with the
 * mode of each open, but since Linux 6.5 its release() without it, and it
 * counts the writers of a block device only when booted with
 * bdev_allow_write_mounted=0.  A count of opens leaves a device opened for
 * writing, then for reading, then closed once, open by a writer or by a
 * reader, and that is just what QEMU does at the end of a migration: it
 * opens its drive again, read-only, and closes the descriptor it wrote
 * through.  /proc shows each descriptor with its flags.  (pflash refuses,
 * itself, an inactivation under what it can see: a device held
 * exclusively, and one mapped shared and writable.)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pflashctl.h"

/*
 * The first line of /sys/block/pflash@index/@attr into @buf, or "" if it
 * cannot be read.
 */
static void dev_sysfs(uint32_t index, const char *attr, char *buf, int len)
{
	char path[96];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/block/" CTL_DEV_NAME "%" PRIu32 "/%s",
		 index, attr);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
}

/* The device number of pflash device @index, from sysfs; 0 if it has none. */
static dev_t dev_number(uint32_t index)
{
	unsigned int maj, min;
	char buf[32];

	dev_sysfs(index, "dev", buf, sizeof(buf));
	return sscanf(buf, "%u:%u", &maj, &min) == 2 ? makedev(maj, min) : 0;
}

/* The flags of descriptor @fd of process @pid (octal in fdinfo), or -1. */
static long fd_flags(long pid, long fd)
{
	char path[64], line[128];
	long flags = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%ld", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags:", 6)) {
			flags = strtol(line + 6, NULL, 8);
			break;
		}
	fclose(f);
	return flags;
}

/* The command name of process @pid, into @comm. */
static void proc_comm(long pid, char comm[CTL_COMM_MAX])
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	strcpy(comm, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, CTL_COMM_MAX, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* Look through process @pid's descriptors for a writer of @rdev. */
static bool proc_writer(long pid, dev_t rdev, struct ctl_writer *w)
{
	char path[64];
	struct dirent *d;
	struct stat st;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;	/* gone, or a kernel thread */
	while (!found && (d = readdir(dir))) {
		long fd, flags;

		if (!isdigit((unsigned char)d->d_name[0]) ||
		    fstatat(dirfd(dir), d->d_name, &st, 0) ||
		    !S_ISBLK(st.st_mode) || st.st_rdev != rdev)
			continue;
		fd = strtol(d->d_name, NULL, 10);
		flags = fd_flags(pid, fd);
		if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
			continue;
		w->pid = pid;
		w->fd = fd;
		proc_comm(pid, w->comm);
		found = true;
	}
	closedir(dir);
	return found;
}

bool ctl_find_writer(uint32_t index, struct ctl_writer *w)
{
	dev_t rdev = dev_number(index);
	pid_t self = getpid();
	struct dirent *d;
	bool found = false;
	DIR *proc;

	if (!rdev)
		return false;	/* no such device: the kernel says so */
	proc = opendir("/proc");
	if (!proc)
		return false;
	while (!found && (d = readdir(proc))) {
		long pid = strtol(d->d_name, NULL, 10);

		if (!isdigit((unsigned char)d->d_name[0]) || pid == self)
			continue;
		found = proc_writer(pid, rdev, w);
	}
	closedir(proc);
	return found;
}

/*
 * Whether pflash device @index is active, from sysfs; if sysfs cannot say,
 * it is taken to be, and the kernel answers the request.
 */
static bool dev_active(uint32_t index)
{
	char state[16];

	dev_sysfs(index, "pflash/state", state, sizeof(state));
	return !state[0] || !strcmp(state, "active\n");
}

int ctl_refuse_writer(const struct ctl_cmd *cmd, uint32_t index,
		      const char *next)
{
	char dev[CTL_DEV_PATH_MAX];
	struct ctl_writer w;

	/*
	 * An inactive device's writers already fail, and a lost one refuses
	 * the request itself: only an active one has writes to lose.
	 */
	if (!dev_active(index) || !ctl_find_writer(index, &w))
		return CTL_EXIT_OK;
	ctl_dev_path(dev, index);
	ctl_msg(cmd, dev,
		"open for writing by %s (pid %d, fd %d), whose writes would fail: %s: %s",
		w.comm, (int)w.pid, w.fd, next, strerror(EBUSY));
	return CTL_EXIT_FAILED;
}
