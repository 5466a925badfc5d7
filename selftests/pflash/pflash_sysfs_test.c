// SPDX-License-Identifier: GPL-2.0
/*
 * A device's state in sysfs, /sys/block/pflashN/pflash/, and the uevents
 * that announce its changes.
 *
 * Every attribute is read after every change a device goes through
 * (creation, a write, a flush, a failed writeback, inactivation, export,
 * import, activation) and must print what netlink reports, one value and
 * a newline; the uuid as pflashctl list prints it.  Every change of the
 * state, the epoch or the uuid must be announced by one KOBJ_CHANGE uevent
 * with PFLASH_STATE, PFLASH_EPOCH and PFLASH_UUID, and nothing else (a
 * request that changes nothing, or fails) by any.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "../kselftest_harness.h"
#include "pft_stream.h"

#define SIZE		(64 * 1024)
#define CHUNK		PFLASH_STREAM_CHUNK_MAX
#define ATTR_MAX	2048

static const char *const attr_names[] = {
	"state", "epoch", "uuid", "cache_mode", "backing_file", "dirty_bytes",
	"flush_pending", "writeback_error", "erase_size",
	"writeback_interval_ms",
};

#define NR_ATTRS	ARRAY_SIZE(attr_names)

/* The whole of /sys/block/pflashN/pflash/@name; its length, or -errno. */
static int read_attr(uint32_t index, const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/pflash/%s", index,
		 name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void uuid_str(const uint8_t *u, char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static const char *state_str(uint32_t state)
{
	return state == PFLASH_STATE_ACTIVE ? "active" : "inactive";
}

/* What attribute @name must print for @d, as netlink describes it. */
static void expected(const struct pfnl_dev *d, const char *name, char *out,
		     size_t len)
{
	char uuid[37];

	if (!strcmp(name, "state")) {
		snprintf(out, len, "%s\n", state_str(d->state));
	} else if (!strcmp(name, "epoch")) {
		snprintf(out, len, "%llu\n", (unsigned long long)d->epoch);
	} else if (!strcmp(name, "uuid")) {
		uuid_str(d->uuid, uuid);
		snprintf(out, len, "%s\n", uuid);
	} else if (!strcmp(name, "cache_mode")) {
		snprintf(out, len, "%s\n",
			 !pfnl_dev_has(d, PFLASH_A_DEV_CACHE_MODE) ? "none" :
			 d->cache_mode == PFLASH_CACHE_MODE_WRITEBACK ?
			 "writeback" : "writethrough");
	} else if (!strcmp(name, "backing_file")) {
		snprintf(out, len, "%s\n", d->backing_path);
	} else if (!strcmp(name, "dirty_bytes")) {
		snprintf(out, len, "%llu\n", (unsigned long long)d->dirty_bytes);
	} else if (!strcmp(name, "flush_pending")) {
		snprintf(out, len, "%d\n", d->flush_pending);
	} else if (!strcmp(name, "writeback_error")) {
		snprintf(out, len, "%u\n", d->writeback_error);
	} else if (!strcmp(name, "erase_size")) {
		snprintf(out, len, "%u\n", d->erase_size);
	} else if (!strcmp(name, "writeback_interval_ms")) {
		snprintf(out, len, "%u\n", d->writeback_interval);
	} else {
		snprintf(out, len, "?");
	}
}

/*
 * Every attribute of device @index prints what netlink reports of it now;
 * @d gets that report.
 */
static void check_attrs(struct __test_metadata *_metadata,
			struct pfnl *h, uint32_t index,
			struct pfnl_dev *d)
{
	char got[ATTR_MAX], want[ATTR_MAX];
	size_t i;

	memset(d, 0, sizeof(*d));
	ASSERT_EQ(0, pft_get(h, index, d));
	for (i = 0; i < NR_ATTRS; i++) {
		expected(d, attr_names[i], want, sizeof(want));
		ASSERT_LT(0, read_attr(index, attr_names[i], got, sizeof(got)))
			TH_LOG("pflash%u/pflash/%s", index, attr_names[i]);
		EXPECT_STREQ(want, got)
			TH_LOG("pflash%u/pflash/%s", index, attr_names[i]);
	}
}

/* The uuid that `pflashctl list` prints for device @index, if it is there. */
static int pflashctl_uuid(uint32_t index, char out[37])
{
	char cmd[96], line[64] = "";
	FILE *p;
	int ret;

	snprintf(cmd, sizeof(cmd),
		 "pflashctl list -rn -o UUID pflash%u 2>/dev/null", index);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	ret = pclose(p);
	if (ret || strlen(line) != 37 || line[36] != '\n')
		return -ENOENT;
	memcpy(out, line, 36);
	out[36] = '\0';
	return 0;
}

/* A tmpfs of 4 MiB, and on it two files of SIZE bytes, a.fd and b.fd. */
static int scratch(char dir[64], char file_a[96], char file_b[96])
{
	int ret = pft_tmpfs(dir, 64, "4m");

	if (ret)
		return ret;
	snprintf(file_a, 96, "%s/a.fd", dir);
	snprintf(file_b, 96, "%s/b.fd", dir);
	return pft_mkfile(file_a, SIZE, 1) ?: pft_mkfile(file_b, SIZE, 2);
}

/* What kind of device a test makes. */
struct kind {
	bool backing;
	bool read_only;
	uint32_t cache_mode;
	uint32_t interval;
};

#define NO_BACKING_FILE	{ }
#define WRITETHROUGH	{ .backing = true, \
			  .cache_mode = PFLASH_CACHE_MODE_WRITETHROUGH }
/* No periodic writeback during a test, and a value to show. */
#define WRITEBACK	{ .backing = true, \
			  .cache_mode = PFLASH_CACHE_MODE_WRITEBACK, \
			  .interval = PFLASH_WRITEBACK_INTERVAL_MAX }
#define READ_ONLY	{ .backing = true, .read_only = true }

/* A device of kind @k, on @file, in @state. */
static int make(struct pfnl *h, const struct kind *k, const char *file,
		uint32_t state, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_ERASE_SIZE, 8192);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	if (!k->backing) {
		pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, SIZE);
		return pft_create(h, &req, out);
	}
	if (k->read_only) {
		pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	} else {
		pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, k->cache_mode);
		if (k->cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
			pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL,
				     k->interval);
	}
	return pft_create_backed(h, file, &req, out);
}

/* Write @len bytes of pattern @seed at @off of device @index. */
static int write_range(uint32_t index, uint64_t off, size_t len,
		       uint32_t seed)
{
	uint8_t *buf = pft_alloc(len);
	int fd = pft_open(index, O_RDWR | O_DIRECT), ret = -ENOMEM;

	if (fd >= 0 && buf) {
		pft_pattern(buf, len, off, seed);
		ret = pft_pwrite_full(fd, buf, len, off);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int write_block(uint32_t index, uint32_t seed)
{
	return write_range(index, 0, 4096, seed);
}

/* --- one device without a backing file --------------------------------- */

FIXTURE(one) {
	struct pfnl *h;
	struct pfnl_dev dev;
};

FIXTURE_SETUP(one)
{
	const struct kind k = NO_BACKING_FILE;

	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, make(self->h, &k, NULL, PFLASH_STATE_ACTIVE, &self->dev));
}

FIXTURE_TEARDOWN(one)
{
	if (self->dev.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dev.index));
	pfnl_close(self->h);
}

TEST_F(one, the_group_has_every_attribute_read_only)
{
	char path[96];
	struct dirent *de;
	struct stat st;
	size_t i, n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/pflash",
		 self->dev.index);
	d = opendir(path);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < NR_ATTRS; i++)
			if (!strcmp(de->d_name, attr_names[i]))
				break;
		EXPECT_LT(i, NR_ATTRS) TH_LOG("unexpected %s", de->d_name);
		n++;
	}
	closedir(d);
	EXPECT_EQ(NR_ATTRS, n);
	for (i = 0; i < NR_ATTRS; i++) {
		snprintf(path, sizeof(path), "/sys/block/pflash%u/pflash/%s",
			 self->dev.index, attr_names[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0444, st.st_mode & 07777) TH_LOG("%s", path);
		/* Not even root may write: netlink changes things. */
		EXPECT_EQ(-1, open(path, O_WRONLY));
		EXPECT_EQ(EACCES, errno);
	}
}

TEST_F(one, uuid_is_what_pflashctl_list_prints)
{
	char got[ATTR_MAX], listed[37], want[37];

	ASSERT_LT(0, read_attr(self->dev.index, "uuid", got, sizeof(got)));
	uuid_str(self->dev.uuid, want);
	EXPECT_EQ(37, strlen(got));
	EXPECT_EQ(0, strncmp(want, got, 36));
	if (pflashctl_uuid(self->dev.index, listed))
		SKIP(return, "pflashctl is not in PATH");
	EXPECT_EQ(0, strncmp(listed, got, 36));
}

TEST_F(one, the_group_goes_with_the_device)
{
	char buf[ATTR_MAX];
	uint32_t i = self->dev.index;

	ASSERT_EQ(0, pft_destroy(self->h, i));
	self->dev.attrs = 0;
	EXPECT_EQ(-ENOENT, read_attr(i, "state", buf, sizeof(buf)));
}

/* --- every change, for every kind of device ------------------------------ */

FIXTURE(sysfs) {
	struct pfnl *h;
	struct pfnl_dev src, dst;
	char dir[64];
	char file_a[96];
	char file_b[96];
	struct pft_stream s;
};

FIXTURE_VARIANT(sysfs) {
	struct kind k;
};

FIXTURE_VARIANT_ADD(sysfs, no_backing_file) {
	.k = NO_BACKING_FILE,
};

FIXTURE_VARIANT_ADD(sysfs, writethrough) {
	.k = WRITETHROUGH,
};

FIXTURE_VARIANT_ADD(sysfs, writeback) {
	.k = WRITEBACK,
};

FIXTURE_VARIANT_ADD(sysfs, read_only) {
	.k = READ_ONLY,
};

FIXTURE_SETUP(sysfs)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, scratch(self->dir, self->file_a, self->file_b));
	ASSERT_EQ(0, make(self->h, &variant->k, self->file_a,
			  PFLASH_STATE_ACTIVE, &self->src));
}

FIXTURE_TEARDOWN(sysfs)
{
	if (self->dst.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	if (self->src.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->src.index));
	pft_tmpfs_remove(self->dir);
	pft_stream_free(&self->s);
	pfnl_close(self->h);
}

TEST_F(sysfs, every_state_change)
{
	const struct kind *k = &variant->k;
	bool writable = !k->read_only;
	struct pfnl_dev d, got;
	uint32_t i = self->src.index;

	check_attrs(_metadata, self->h, i, &d);
	EXPECT_STREQ("active", state_str(d.state));
	EXPECT_EQ(0, d.epoch);
	EXPECT_EQ(0, memcmp(self->src.uuid, d.uuid, PFLASH_UUID_LEN));
	EXPECT_EQ(8192, d.erase_size);

	if (writable) {
		ASSERT_EQ(0, write_block(i, 7));
		check_attrs(_metadata, self->h, i, &d);
		EXPECT_EQ(k->backing && k->cache_mode ==
			  PFLASH_CACHE_MODE_WRITEBACK ? 4096 : 0,
			  d.dirty_bytes);
		ASSERT_EQ(0, pft_flush(self->h, i, false));
		check_attrs(_metadata, self->h, i, &d);
		EXPECT_EQ(0, d.dirty_bytes);
	}

	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_INACTIVATE, i, NULL));
	check_attrs(_metadata, self->h, i, &d);
	EXPECT_STREQ("inactive", state_str(d.state));

	/* Export changes nothing. */
	ASSERT_EQ(0, pft_export(self->h, i, &self->s));
	check_attrs(_metadata, self->h, i, &d);

	/* The target takes the source's uuid and epoch, and owes a flush. */
	ASSERT_EQ(0, make(self->h, k, self->file_b, PFLASH_STATE_INACTIVE,
			  &self->dst));
	check_attrs(_metadata, self->h, self->dst.index, &d);
	EXPECT_NE(0, memcmp(self->src.uuid, d.uuid, PFLASH_UUID_LEN));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	check_attrs(_metadata, self->h, self->dst.index, &d);
	EXPECT_EQ(0, memcmp(self->src.uuid, d.uuid, PFLASH_UUID_LEN));
	EXPECT_STREQ("inactive", state_str(d.state));
	EXPECT_EQ(k->backing && writable, d.flush_pending);

	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_ACTIVATE,
				   self->dst.index, NULL));
	check_attrs(_metadata, self->h, self->dst.index, &d);
	EXPECT_STREQ("active", state_str(d.state));
	EXPECT_EQ(1, d.epoch);
	EXPECT_EQ(0, d.flush_pending);

	/* The source, activated again: a new epoch of its own. */
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_ACTIVATE, i, NULL));
	check_attrs(_metadata, self->h, i, &d);
	EXPECT_EQ(1, d.epoch);
}

/* --- a writeback that fails ---------------------------------------------- */

FIXTURE(wbfail) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64];
	char file[96];
};

FIXTURE_VARIANT(wbfail) {
	struct kind k;
};

FIXTURE_VARIANT_ADD(wbfail, writethrough) {
	.k = WRITETHROUGH,
};

FIXTURE_VARIANT_ADD(wbfail, writeback) {
	.k = WRITEBACK,
};

/* A sparse backing file on a tmpfs with room for a quarter of it. */
FIXTURE_SETUP(wbfail)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16k"));
	snprintf(self->file, sizeof(self->file), "%s/a.fd", self->dir);
	ASSERT_EQ(0, pft_mkfile(self->file, 0, 0));
	ASSERT_EQ(0, truncate(self->file, SIZE));
	ASSERT_EQ(0, make(self->h, &variant->k, self->file,
			  PFLASH_STATE_ACTIVE, &self->dev));
}

FIXTURE_TEARDOWN(wbfail)
{
	if (self->dev.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dev.index));
	pft_tmpfs_remove(self->dir);
	pfnl_close(self->h);
}

/*
 * The writeback fails, writeback_error shows ENOSPC and the data stays
 * dirty; the inactivation that cannot write back fails, and the device
 * stays active.  With room again, all is well.
 */
TEST_F(wbfail, a_failed_writeback_shows)
{
	uint32_t i = self->dev.index;
	struct pfnl_dev d;
	int ret;

	/* Twice what the tmpfs holds: in writethrough mode, the write fails. */
	ret = write_range(i, 0, 32 * 1024, 3);
	EXPECT_EQ(variant->k.cache_mode == PFLASH_CACHE_MODE_WRITEBACK ?
		  0 : -EIO, ret);
	EXPECT_EQ(-ENOSPC, pft_flush(self->h, i, false));
	check_attrs(_metadata, self->h, i, &d);
	EXPECT_EQ(ENOSPC, d.writeback_error);
	EXPECT_LT(0, d.dirty_bytes);

	EXPECT_EQ(-ENOSPC, pft_index_cmd(self->h, PFLASH_CMD_INACTIVATE, i,
					 NULL));
	check_attrs(_metadata, self->h, i, &d);
	EXPECT_STREQ("active", state_str(d.state));

	ASSERT_EQ(0, pft_tmpfs_resize(self->dir, "4m"));
	ASSERT_EQ(0, pft_flush(self->h, i, false));
	check_attrs(_metadata, self->h, i, &d);
	EXPECT_EQ(0, d.writeback_error);
	EXPECT_EQ(0, d.dirty_bytes);
}

/* --- uevents ------------------------------------------------------------ */

/* A KOBJ_CHANGE of a pflash device, as the kernel sent it. */
struct change {
	char devname[32];
	char state[16];
	char epoch[24];
	char uuid[40];
};

static void copy_val(char *dst, size_t len, const char *buf, ssize_t n,
		     const char *key)
{
	const char *val = pft_uevent_var(buf, n, key);

	snprintf(dst, len, "%s", val ? val : "");
}

/*
 * The next change uevent of device @index that carries PFLASH_STATE,
 * waiting up to @ms; 0, or -ETIMEDOUT if none came.  Other uevents (add,
 * remove, other devices) are skipped.  The kernel sends a uevent before
 * the request that caused it is answered, so a short wait suffices to
 * know that none was sent.
 */
static int next_change(int fd, uint32_t index, int ms, struct change *c)
{
	char buf[8192];
	ssize_t n;

	n = pft_next_uevent(fd, index, "PFLASH_STATE", ms, buf, sizeof(buf));
	if (n < 0)
		return n;
	copy_val(c->devname, sizeof(c->devname), buf, n, "DEVNAME");
	copy_val(c->state, sizeof(c->state), buf, n, "PFLASH_STATE");
	copy_val(c->epoch, sizeof(c->epoch), buf, n, "PFLASH_EPOCH");
	copy_val(c->uuid, sizeof(c->uuid), buf, n, "PFLASH_UUID");
	return 0;
}

FIXTURE(ue) {
	struct pfnl *h;
	struct pfnl_dev a, b;
	char dir[64];
	char file_a[96];
	char file_b[96];
	struct pft_stream s;
	int fd;
};

FIXTURE_SETUP(ue)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, scratch(self->dir, self->file_a, self->file_b));
	self->fd = pft_uevent_socket();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ue)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->b.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->b.index));
	if (self->a.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->a.index));
	pft_tmpfs_remove(self->dir);
	pft_stream_free(&self->s);
	pfnl_close(self->h);
}

/*
 * The next change of device @index is announced with @state, @epoch and
 * @uuid, which sysfs shows too.
 */
static void expect_change(struct __test_metadata *_metadata, int fd,
			  uint32_t index, const char *state,
			  unsigned long long epoch, const uint8_t *uuid)
{
	char want_epoch[24], want_uuid[37], attr[ATTR_MAX];
	struct change c;

	snprintf(want_epoch, sizeof(want_epoch), "%llu", epoch);
	uuid_str(uuid, want_uuid);
	ASSERT_EQ(0, next_change(fd, index, 5000, &c))
		TH_LOG("no change uevent for pflash%u", index);
	EXPECT_STREQ(state, c.state);
	EXPECT_STREQ(want_epoch, c.epoch);
	EXPECT_STREQ(want_uuid, c.uuid);

	ASSERT_LT(0, read_attr(index, "state", attr, sizeof(attr)));
	EXPECT_EQ(0, strncmp(c.state, attr, strlen(c.state)));
	ASSERT_LT(0, read_attr(index, "epoch", attr, sizeof(attr)));
	EXPECT_EQ(0, strncmp(c.epoch, attr, strlen(c.epoch)));
	ASSERT_LT(0, read_attr(index, "uuid", attr, sizeof(attr)));
	EXPECT_EQ(0, strncmp(c.uuid, attr, strlen(c.uuid)));
}

static void expect_no_change(struct __test_metadata *_metadata, int fd,
			     uint32_t index)
{
	struct change c;

	EXPECT_EQ(-ETIMEDOUT, next_change(fd, index, 200, &c))
		TH_LOG("unexpected change uevent: %s %s %s", c.state, c.epoch,
		       c.uuid);
}

TEST_F(ue, every_change_of_state_epoch_or_uuid_and_nothing_else)
{
	struct pfnl_dev req = {}, got;
	uint8_t *bad;
	uint32_t a, b;

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file_a, &req, &self->a));
	a = self->a.index;
	/* Creation is an "add", not a change. */
	expect_no_change(_metadata, self->fd, a);

	/* Nothing to change, nothing announced. */
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_ACTIVATE, a, NULL));
	expect_no_change(_metadata, self->fd, a);
	ASSERT_EQ(0, write_block(a, 5));
	ASSERT_EQ(0, pft_flush(self->h, a, false));
	expect_no_change(_metadata, self->fd, a);

	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_INACTIVATE, a, NULL));
	expect_change(_metadata, self->fd, a, "inactive", 0, self->a.uuid);
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_INACTIVATE, a, NULL));
	expect_no_change(_metadata, self->fd, a);

	/* A refused activation (a stale epoch) announces nothing. */
	EXPECT_EQ(-ESTALE, pft_activate(self->h, a, 0, NULL));
	expect_no_change(_metadata, self->fd, a);
	ASSERT_EQ(0, pft_activate(self->h, a, 7, NULL));
	expect_change(_metadata, self->fd, a, "active", 7, self->a.uuid);
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_ACTIVATE, a, NULL));
	expect_no_change(_metadata, self->fd, a);
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_INACTIVATE, a, NULL));
	expect_change(_metadata, self->fd, a, "inactive", 7, self->a.uuid);
	ASSERT_EQ(0, pft_export(self->h, a, &self->s));
	expect_no_change(_metadata, self->fd, a);

	/* The target of a move takes the source's uuid and epoch... */
	memset(&req, 0, sizeof(req));
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file_b, &req, &self->b));
	b = self->b.index;
	expect_no_change(_metadata, self->fd, b);
	ASSERT_EQ(0, pft_import(self->h, b, self->s.buf, self->s.len, CHUNK,
				&got));
	expect_change(_metadata, self->fd, b, "inactive", 7, self->a.uuid);
	/* ... and a refused import (a corrupt stream) announces nothing. */
	bad = malloc(self->s.len);
	ASSERT_NE(NULL, bad);
	memcpy(bad, self->s.buf, self->s.len);
	bad[self->s.len / 2] ^= 0xff;
	EXPECT_NE(0, pft_import(self->h, b, bad, self->s.len, CHUNK, &got));
	free(bad);
	expect_no_change(_metadata, self->fd, b);
	ASSERT_EQ(0, pft_index_cmd(self->h, PFLASH_CMD_ACTIVATE, b, NULL));
	expect_change(_metadata, self->fd, b, "active", 8, self->a.uuid);
	expect_no_change(_metadata, self->fd, a);
}

TEST_HARNESS_MAIN
