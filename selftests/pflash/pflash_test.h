/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the pflash kselftests: creating devices over netlink,
 * and reading, writing and comparing a device's contents.
 */
#ifndef PFLASH_TEST_H
#define PFLASH_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "pfnl.h"

/*
 * kselftest_harness.h gives every TEST() and TEST_F() that names no limit
 * of its own 30 s of the guest's wall time, which heavy cases outlast on
 * the debug kernel under TCG on a loaded host.  A case that hangs is what
 * a limit is for, and the program's (settings) guards that too: each case
 * gets 600 s.  TEST() and TEST_F() expand this name where they are used,
 * after this header, so this definition is the one they see.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600
#endif

/*
 * Whether the fixture's setup of test @m skipped it.  A test whose
 * fixture's setup may SKIP begins with
 *
 *	if (pft_setup_skipped(_metadata))
 *		return;
 *
 * for the harness of 6.1 (whose kselftest_harness.h the suite is built
 * with) runs the test after a setup that skipped, on a fixture it did not
 * finish.  The SKIP and its reason stand.
 */
static inline bool pft_setup_skipped(const struct __test_metadata *m)
{
#ifdef FIXTURE_TEARDOWN_PARENT
	/* The newer harness (6.9 on) does not run a test whose setup skipped. */
	return false;
#else
	return m->skip;
#endif
}

/* Create a device described by @req; fills @out.  Returns 0 or -errno. */
static inline int pft_create(struct pfnl *h, const struct pfnl_dev *req,
			     struct pfnl_dev *out)
{
	return pfnl_dev_do(h, PFLASH_CMD_DEV_NEW, req, out);
}

/* Create an unbacked device of @size bytes with the given geometry. */
static inline int pft_create_simple(struct pfnl *h, uint64_t size,
				    uint32_t block_size, uint32_t erase_size,
				    struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	pfnl_dev_set(&req, PFLASH_A_DEV_BLOCK_SIZE, block_size);
	pfnl_dev_set(&req, PFLASH_A_DEV_ERASE_SIZE, erase_size);
	return pft_create(h, &req, out);
}

/* Send a command that names a device by index only. */
static inline int pft_index_cmd(struct pfnl *h, uint8_t cmd,
				uint32_t index, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	return pfnl_dev_do(h, cmd, &req, out);
}

static inline int pft_destroy(struct pfnl *h, uint32_t index)
{
	return pft_index_cmd(h, PFLASH_CMD_DEV_DEL, index, NULL);
}

/* Destroy device @index even if it holds writes its file never got. */
static inline int pft_destroy_force(struct pfnl *h, uint32_t index)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, 1);
	return pfnl_dev_do(h, PFLASH_CMD_DEV_DEL, &req, NULL);
}

static inline void pft_path(char *buf, size_t len, uint32_t index)
{
	snprintf(buf, len, "/dev/pflash%u", index);
}

static inline int pft_open(uint32_t index, int flags)
{
	char path[32];

	pft_path(path, sizeof(path), index);
	return open(path, flags);
}

/* Write @val to the file at @path (sysfs, debugfs): 0 or -errno. */
static inline int pft_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Read a number from /sys/block/pflashN/<attr>; -1 if unreadable. */
static inline long long pft_sysfs(uint32_t index, const char *attr)
{
	char path[128];
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/%s", index, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/*
 * Turn the I/O statistics of device @index (/sys/block/pflashN/stat) on or
 * off; they are on by default.  0 or -errno.
 */
static inline int pft_iostats_set(uint32_t index, bool on)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/block/pflash%u/queue/iostats", index);
	return pft_write_str(path, on ? "1" : "0");
}

/*
 * Field @field (0: reads completed, 2: sectors read, 4: writes completed,
 * 6: sectors written) of /sys/block/pflashN/stat; -1 if unreadable.
 */
static inline long long pft_stat_field(uint32_t index, int field)
{
	long long v[7];
	char path[64];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/stat", index);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n <= field && fscanf(f, "%lld", &v[n]) == 1)
		n++;
	fclose(f);
	return n > field ? v[field] : -1;
}

/* Sectors written to device @index so far (from its stat), or -1. */
static inline long long pft_sectors_written(uint32_t index)
{
	return pft_stat_field(index, 6);
}

/* The number in environment variable @name, or @def if it is unset. */
static inline uint64_t pft_env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/*
 * A fuzzer's seed: the one environment variable @name gives, to run a seed
 * again, or a new one every run (below 10^9, for a short line to copy).
 */
static inline uint64_t pft_seed(const char *name)
{
	uint64_t seed = pft_env_u64(name, 0);

	while (!seed && getrandom(&seed, sizeof(seed), 0) > 0)
		seed %= 1000000000;
	return seed;
}

/* Seconds on the monotonic clock: how long a heavy case took, to log. */
static inline double pft_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * FIXTURE_VARIANT() and FIXTURE_VARIANT_ADD() of a fixture whose name is a
 * macro's (pft_cache_modes.h's PFT_FIXTURE): the harness pastes the name
 * as it is given, so it is expanded here first.
 */
#define PFT_FIXTURE_VARIANT(f)		FIXTURE_VARIANT(f)
#define PFT_FIXTURE_VARIANT_ADD(f, v)	FIXTURE_VARIANT_ADD(f, v)

/* Whether the VM runs the debug kernel (/etc/pflash-vm.env, set by /init). */
static inline bool pft_debug_kernel(void)
{
	const char *k = getenv("PFLASH_KERNEL");

	return k && !strcmp(k, "debug");
}

/* A buffer aligned for O_DIRECT. */
static inline void *pft_alloc(size_t len)
{
	void *p = NULL;

	return posix_memalign(&p, 4096, len ? len : 1) ? NULL : p;
}

/* Fill @buf with a pattern that depends on @seed and the byte's offset. */
static inline void pft_pattern(uint8_t *buf, size_t len, uint64_t off,
			       uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = (off + i) * 2654435761u + seed * 40503u;

		buf[i] = (uint8_t)(x ^ (x >> 13) ^ (x >> 27));
	}
}

/* pread/pwrite of exactly @len bytes; 0 or -errno (-EIO if short). */
static inline int pft_pread_full(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static inline int pft_pwrite_full(int fd, const void *buf, size_t len,
				  off_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * Write pattern @seed at [@off, @off + @len) of @fd, and into @shadow, the
 * test's copy of what the device holds: if the write succeeds, or with
 * @even_if_failed, whatever it returns (a write that failed on the
 * backing file still reached the device's RAM).  0 or -errno.
 */
static inline int pft_write_pattern(int fd, uint8_t *shadow, uint64_t off,
				    size_t len, uint32_t seed,
				    bool even_if_failed)
{
	uint8_t *buf = pft_alloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	pft_pattern(buf, len, off, seed);
	ret = pft_pwrite_full(fd, buf, len, off);
	if (!ret || even_if_failed)
		memcpy(shadow + off, buf, len);
	free(buf);
	return ret;
}

/*
 * Compare @len bytes read from @fd at 0 with @expect.  Returns -1 if they
 * match, the offset of the first difference otherwise (or -2 if the read
 * failed).
 */
static inline long long pft_diff(int fd, const uint8_t *expect, size_t len)
{
	uint8_t *buf = pft_alloc(len);
	long long ret = -1;
	size_t i;

	if (!buf || pft_pread_full(fd, buf, len, 0)) {
		free(buf);
		return -2;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != expect[i]) {
			ret = i;
			break;
		}
	}
	free(buf);
	return ret;
}

/* Read a whole file (up to @len bytes) into a new buffer; NULL on error. */
static inline uint8_t *pft_slurp(const char *path, size_t len)
{
	uint8_t *buf = pft_alloc(len);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf || pft_pread_full(fd, buf, len, 0)) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	return buf;
}

/* Drop CAP_NET_ADMIN from this process.  Returns 0 or -errno. */
static inline int pft_drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int word = CAP_NET_ADMIN / 32;
	uint32_t bit = 1u << (CAP_NET_ADMIN % 32);

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* DEV_GET of device @index into @out. */
static inline int pft_get(struct pfnl *h, uint32_t index,
			  struct pfnl_dev *out)
{
	return pft_index_cmd(h, PFLASH_CMD_DEV_GET, index, out);
}

/*
 * Close *@fd, if open, and destroy @dev, if it was created; mark each gone
 * (*@fd -1, @dev->attrs 0, once destroyed) so that a fixture's teardown
 * leaves them.  0, or the destroy's -errno.
 */
static inline int pft_drop(struct pfnl *h, struct pfnl_dev *dev, int *fd)
{
	int ret = 0;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (dev->attrs)
		ret = pft_destroy(h, dev->index);
	if (!ret)
		dev->attrs = 0;
	return ret;
}

/* INACTIVATE, with @force. */
static inline int pft_inactivate(struct pfnl *h, uint32_t index, bool force,
				 struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	if (force)
		pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, 1);
	return pfnl_dev_do(h, PFLASH_CMD_INACTIVATE, &req, out);
}

/* ACTIVATE, at @epoch unless it is negative. */
static inline int pft_activate(struct pfnl *h, uint32_t index,
			       long long epoch, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	if (epoch >= 0)
		pfnl_dev_set(&req, PFLASH_A_DEV_EPOCH, epoch);
	return pfnl_dev_do(h, PFLASH_CMD_ACTIVATE, &req, out);
}

/* FLUSH, of the dirty blocks or of the whole device. */
static inline int pft_flush(struct pfnl *h, uint32_t index, bool full)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	if (full)
		pfnl_dev_set(&req, PFLASH_A_DEV_FLUSH_FULL, 1);
	return pfnl_dev_do(h, PFLASH_CMD_FLUSH, &req, NULL);
}

/* Create a device backed by @path, opened to suit @req's read_only. */
static inline int pft_create_backed(struct pfnl *h, const char *path,
				    struct pfnl_dev *req,
				    struct pfnl_dev *out)
{
	int fd = open(path, req->read_only ? O_RDONLY : O_RDWR);
	int ret;

	if (fd < 0)
		return -errno;
	pfnl_dev_set(req, PFLASH_A_DEV_BACKING_FD, fd);
	ret = pft_create(h, req, out);
	close(fd);
	return ret;
}

/*
 * Create a device over @path, with @req's attributes, in cache mode
 * @cache, without periodic writeback in writeback mode (interval 0): its
 * file changes only when the test asks.
 */
static inline int pft_create_in_mode(struct pfnl *h, const char *path,
				     struct pfnl_dev *req, uint32_t cache,
				     struct pfnl_dev *out)
{
	pfnl_dev_set(req, PFLASH_A_DEV_CACHE_MODE, cache);
	if (cache == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(req, PFLASH_A_DEV_WRITEBACK_INTERVAL, 0);
	return pft_create_backed(h, path, req, out);
}

/* Write a file of @len bytes of pattern @seed (0xff with seed 0). */
static inline int pft_mkfile(const char *path, size_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	int fd, ret;

	if (!buf)
		return -ENOMEM;
	if (seed)
		pft_pattern(buf, len, 0, seed);
	else
		memset(buf, 0xff, len);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ret = fd < 0 ? -errno : pft_pwrite_full(fd, buf, len, 0);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* As pft_diff(), of the first @len bytes of @path opened with @flags. */
static inline long long pft_path_diff(const char *path, int flags,
				      const uint8_t *expect, size_t len)
{
	int fd = open(path, flags);
	long long ret;

	if (fd < 0)
		return -2;
	ret = pft_diff(fd, expect, len);
	close(fd);
	return ret;
}

/* As pft_diff(), of the first @len bytes of the file at @path. */
static inline long long pft_file_diff(const char *path, const uint8_t *expect,
				      size_t len)
{
	return pft_path_diff(path, O_RDONLY, expect, len);
}

/* As pft_diff(), of the first @len bytes of device @index, read direct. */
static inline long long pft_dev_diff(uint32_t index, const uint8_t *expect,
				     size_t len)
{
	char path[32];

	pft_path(path, sizeof(path), index);
	return pft_path_diff(path, O_RDONLY | O_DIRECT, expect, len);
}

/* A scratch directory on a tmpfs of its own, of @size (e.g. "16m"). */
static inline int pft_tmpfs(char *dir, size_t len, const char *size)
{
	char opts[64];

	snprintf(dir, len, "/tmp/pft-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(opts, sizeof(opts), "size=%s", size);
	if (mount("pft", dir, "tmpfs", 0, opts)) {
		rmdir(dir);
		return -errno;
	}
	return 0;
}

/*
 * A tmpfs of @size at @dir, and in it @file, "vars.fd": @len bytes of
 * pattern 1, whose contents, if @contents, are returned there (malloc'd).
 * 0 or -errno.
 */
static inline int pft_scratch_vars(char *dir, size_t dirlen, const char *size,
				   char *file, size_t filelen, size_t len,
				   uint8_t **contents)
{
	int err = pft_tmpfs(dir, dirlen, size);

	if (err)
		return err;
	snprintf(file, filelen, "%s/vars.fd", dir);
	err = pft_mkfile(file, len, 1);
	if (err)
		return err;
	if (!contents)
		return 0;
	*contents = pft_slurp(file, len);
	return *contents ? 0 : -ENOMEM;
}

static inline int pft_tmpfs_resize(const char *dir, const char *size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%s", size);
	return mount("pft", dir, "tmpfs", MS_REMOUNT, opts) ? -errno : 0;
}

/*
 * Make @path, on the tmpfs @dir, an empty file of @size bytes (a hole),
 * and shrink the tmpfs to @room (e.g. "64k"): writing more than that to
 * the file fails with ENOSPC.  0 or -errno.
 */
static inline int pft_tmpfs_fill_up(const char *dir, const char *path,
				    off_t size, const char *room)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int ret;

	if (fd < 0)
		return -errno;
	ret = pft_tmpfs_resize(dir, room);
	if (!ret && ftruncate(fd, size))
		ret = -errno;
	close(fd);
	return ret;
}

static inline void pft_tmpfs_remove(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Attach @path to a free loop device, whose path goes in @dev. */
static inline int pft_loop_attach(const char *path, char *dev, size_t len)
{
	struct loop_config cfg = {};
	int ctl, nr, fd, file, ret = 0;

	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -errno;
	snprintf(dev, len, "/dev/loop%d", nr);
	file = open(path, O_RDWR);
	fd = open(dev, O_RDWR);
	cfg.fd = file;
	if (file < 0 || fd < 0 || ioctl(fd, LOOP_CONFIGURE, &cfg))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (file >= 0)
		close(file);
	return ret;
}

static inline int pft_loop_detach(const char *dev)
{
	int fd = open(dev, O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, LOOP_CLR_FD) ? -errno : 0;
	close(fd);
	return ret;
}

/* The modification time of @path, in nanoseconds; -1 on error. */
static inline long long pft_mtime(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

/*
 * Wait until a write to a file would stamp it with a modification time
 * past @mtime (from pft_mtime()).  File times come from the kernel's
 * coarse clock, which moves once a tick: a write in the tick of @mtime
 * would leave the time as it is, and a check that nothing wrote the file
 * would miss it.  Once the coarse clock is past @mtime, every write is
 * stamped later.
 */
static inline void pft_past_mtime(long long mtime)
{
	struct timespec now;

	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (now.tv_sec * 1000000000LL + now.tv_nsec > mtime)
			return;
		usleep(1000);
	}
}

/*
 * Whether an OFD write lock on @path would conflict with a lock someone
 * holds: 1 if so, 0 if not, -errno on error.
 */
static inline int pft_locked(const char *path)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
	};
	int fd = open(path, O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = fcntl(fd, F_OFD_GETLK, &fl) ? -errno : fl.l_type != F_UNLCK;
	close(fd);
	return ret;
}

/* A socket on the kernel's uevents (what udev reads), or -errno. */
static inline int pft_uevent_socket(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,		/* the kernel's own */
	};
	int fd, size = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* The value of variable @key in uevent @buf, of @n bytes, or NULL. */
static inline const char *pft_uevent_var(const char *buf, size_t n,
					 const char *key)
{
	size_t len = strlen(key);
	const char *p;

	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (!strncmp(p, key, len) && p[len] == '=')
			return p + len + 1;
	return NULL;
}

/*
 * The next "change" uevent of device @index that carries variable @key,
 * waiting up to @ms: "ACTION@DEVPATH", then "KEY=VALUE" strings, in @buf
 * of @len bytes; their length, or -ETIMEDOUT if none came.  Other uevents
 * are skipped.
 */
static inline ssize_t pft_next_uevent(int fd, uint32_t index,
				      const char *key, int ms, char *buf,
				      size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const char *action, *name;
	char want[32];
	ssize_t n;

	snprintf(want, sizeof(want), "pflash%u", index);
	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, len - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		action = pft_uevent_var(buf, n, "ACTION");
		name = pft_uevent_var(buf, n, "DEVNAME");
		if (action && !strcmp(action, "change") && name &&
		    !strcmp(name, want) && pft_uevent_var(buf, n, key))
			return n;
	}
}

#endif /* PFLASH_TEST_H */
