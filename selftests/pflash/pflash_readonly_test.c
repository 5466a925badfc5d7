// SPDX-License-Identifier: GPL-2.0
/*
 * An inactive device is a read-only disk: a write is refused where the
 * writer sees it, at write() time, buffered (QEMU's default cache mode),
 * direct (its cache=none) or through a new shared writable mapping, and
 * nothing is taken into the page cache only to fail at writeback.  What
 * the page cache took while the device was active comes down at the
 * inactivation.  A shared writable mapping, whose stores no write() could
 * refuse, keeps the device from inactivating unless forced.
 *
 * "Nothing reaches the device later" is checked the hard way: after each
 * refusal the device is activated again and synced, and it and its file
 * must still hold what they held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/fs.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define SIZE	(64 * 1024)

FIXTURE(ro) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64];
	char file[96];
	uint8_t *shadow;
	int fd;
};

#define PFT_FIXTURE ro
#include "pft_cache_modes.h"

/* The fixture's types, for the helpers that take them. */
#define RO_SELF		FIXTURE_DATA(ro)

static int make_dev(RO_SELF *self, uint32_t cache_mode,
		    uint32_t state, bool read_only)
{
	struct pfnl_dev req = {};

	/* A read-only device writes nothing back: no cache mode. */
	if (read_only)
		pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	else
		pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, cache_mode);
	if (!read_only && cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL,
			     PFLASH_WRITEBACK_INTERVAL_MAX);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	return pft_create_backed(self->h, self->file, &req, &self->dev);
}

FIXTURE_SETUP(ro)
{
	self->fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_scratch_vars(self->dir, sizeof(self->dir), "4m",
				      self->file, sizeof(self->file), SIZE,
				      &self->shadow));
	ASSERT_EQ(0, make_dev(self, variant->cache_mode, PFLASH_STATE_ACTIVE,
			      false));
}

FIXTURE_TEARDOWN(ro)
{
	EXPECT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	pft_tmpfs_remove(self->dir);
	free(self->shadow);
	pfnl_close(self->h);
}

/* BLKROGET of the device: what blockdev --getro prints; -1 on error. */
static int getro(uint32_t index)
{
	int fd = pft_open(index, O_RDONLY);
	int ro = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, BLKROGET, &ro))
		ro = -1;
	close(fd);
	return ro;
}

/* The device and its file both hold the shadow: read direct and buffered. */
#define ASSERT_ALL_IS_SHADOW() do {					\
	char _p[32];							\
	pft_path(_p, sizeof(_p), self->dev.index);			\
	ASSERT_EQ(-1, pft_dev_diff(self->dev.index, self->shadow, SIZE)); \
	ASSERT_EQ(-1, pft_path_diff(_p, O_RDONLY, self->shadow, SIZE));	\
	ASSERT_EQ(-1, pft_file_diff(self->file, self->shadow, SIZE));	\
} while (0)

/*
 * After a refusal: active again, the descriptor synced, nothing the
 * refused write carried shows anywhere.
 */
static void activate_and_check(struct __test_metadata *_metadata,
			       RO_SELF *self)
{
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(0, fsync(self->fd));
	ASSERT_EQ(0, pft_flush(self->h, self->dev.index, false));
	ASSERT_ALL_IS_SHADOW();
}

TEST_F(ro, the_disk_is_read_only_while_inactive)
{
	EXPECT_EQ(0, getro(self->dev.index));
	EXPECT_EQ(0, pft_sysfs(self->dev.index, "ro"));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(1, getro(self->dev.index));
	EXPECT_EQ(1, pft_sysfs(self->dev.index, "ro"));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(0, getro(self->dev.index));
	EXPECT_EQ(0, pft_sysfs(self->dev.index, "ro"));
}

TEST_F(ro, created_inactive_it_is_read_only_until_activated)
{
	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	ASSERT_EQ(0, make_dev(self, variant->cache_mode,
			      PFLASH_STATE_INACTIVE, false));
	EXPECT_EQ(1, getro(self->dev.index));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(0, getro(self->dev.index));
}

TEST_F(ro, a_read_only_device_stays_read_only_when_activated)
{
	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	ASSERT_EQ(0, make_dev(self, variant->cache_mode, PFLASH_STATE_ACTIVE,
			      true));
	EXPECT_EQ(1, getro(self->dev.index));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(1, getro(self->dev.index));
}

/*
 * QEMU's default cache mode: pwrite() into the page cache, which the
 * kernel writes back later.  Once inactive, pwrite() fails at once.
 */
TEST_F(ro, a_buffered_write_fails_at_write_time)
{
	uint8_t buf[4096];

	self->fd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(-1, pwrite(self->fd, buf, sizeof(buf), 8192));
	EXPECT_EQ(EPERM, errno);
	/* Not even a byte, and nothing left dirty. */
	EXPECT_EQ(-1, pwrite(self->fd, buf, 1, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, fsync(self->fd));
	ASSERT_ALL_IS_SHADOW();
	activate_and_check(_metadata, self);
}

/* QEMU's cache=none: O_DIRECT. */
TEST_F(ro, a_direct_write_fails_at_write_time)
{
	uint8_t *buf = pft_alloc(4096);

	ASSERT_NE(NULL, buf);
	self->fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	memset(buf, 0x5a, 4096);
	EXPECT_EQ(-1, pwrite(self->fd, buf, 4096, 8192));
	EXPECT_EQ(EPERM, errno);
	free(buf);
	ASSERT_ALL_IS_SHADOW();
	activate_and_check(_metadata, self);
}

/*
 * What the page cache took while the device was active, never synced,
 * comes down at the inactivation, before the device lets its file go.
 */
TEST_F(ro, buffered_writes_not_synced_reach_the_file_at_inactivation)
{
	self->fd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pft_write_pattern(self->fd, self->shadow, 4096, 3 * 4096,
				       7, false));
	ASSERT_EQ(0, pft_write_pattern(self->fd, self->shadow, SIZE - 512, 512,
				       8, false));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_ALL_IS_SHADOW();
	activate_and_check(_metadata, self);
}

/* No new shared writable mapping of an inactive device. */
TEST_F(ro, a_writable_mapping_is_refused_while_inactive)
{
	void *p;

	self->fd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, SIZE);
	/* A read-only one is fine. */
	p = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, self->shadow, SIZE));
	munmap(p, SIZE);
	activate_and_check(_metadata, self);
}

/*
 * A store through a shared mapping dirties the page cache with no write()
 * to refuse: the mapping keeps the device from inactivating, unless
 * forced.  Unmapped, what it stored comes down at the inactivation.
 */
TEST_F(ro, a_writable_mapping_refuses_inactivation)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	struct pfnl_dev dev = {};
	uint8_t *p;

	self->fd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, self->fd);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p + 4096, 0xa5, 100);
	memset(self->shadow + 4096, 0xa5, 100);

	EXPECT_EQ(-EBUSY, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_NE(NULL, strstr(ack->msg, "mapped"));
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &dev));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, dev.state);
	/* Refused, it is as writable as before. */
	EXPECT_EQ(0, getro(self->dev.index));
	memset(p + 8192, 0x3c, 10);
	memset(self->shadow + 8192, 0x3c, 10);

	ASSERT_EQ(0, munmap(p, SIZE));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_ALL_IS_SHADOW();
	activate_and_check(_metadata, self);
}

/*
 * Forced under a mapping: what was stored before comes down; a store
 * after it fails at writeback (msync says EIO) and reaches neither the
 * device nor its file, then nor later.
 */
TEST_F(ro, a_forced_inactivation_under_a_mapping_loses_no_earlier_store)
{
	uint8_t *p;

	self->fd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, self->fd);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x11, 512);
	memset(self->shadow, 0x11, 512);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, true, NULL));
	ASSERT_ALL_IS_SHADOW();

	memset(p + 12288, 0x22, 512);
	EXPECT_EQ(-1, msync(p, SIZE, MS_SYNC));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, munmap(p, SIZE));
	ASSERT_EQ(-1, pft_dev_diff(self->dev.index, self->shadow, SIZE));
	ASSERT_EQ(-1, pft_file_diff(self->file, self->shadow, SIZE));
	/*
	 * Activation drops what the page cache kept of the refused store:
	 * a buffered read sees the device.
	 */
	activate_and_check(_metadata, self);
}

TEST_HARNESS_MAIN
