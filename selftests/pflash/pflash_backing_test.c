// SPDX-License-Identifier: GPL-2.0
/*
 * The backing file: loading the image, writethrough and writeback, flush,
 * teardown, the refusals, and faults (ENOSPC on a full tmpfs, EIO from
 * device-mapper's error target) that must lose nothing.
 *
 * Each test keeps a shadow of the device's contents and compares the
 * device and the backing file with it, so it tells what is where.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

/* 256 granules of 4 KiB: four words of the dirty bitmap. */
#define FILE_SIZE	(1024 * 1024)
#define WB_NEVER	PFLASH_WRITEBACK_INTERVAL_MAX

FIXTURE(bk) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64];
	char file[96];
	uint8_t *shadow;	/* what the device holds */
	uint8_t *orig;		/* what the file held at creation */
	int fd;
};

#define PFT_FIXTURE bk
#include "pft_cache_modes.h"

/* The fixture's types, for the helpers that take them. */
#define BK_SELF	FIXTURE_DATA(bk)

static int open_dev(BK_SELF *self)
{
	self->fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	return self->fd < 0 ? -errno : 0;
}

/* Create the device on self->file; writeback passes only when asked. */
static int make_dev(BK_SELF *self, uint32_t cache_mode, uint32_t interval)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, cache_mode);
	if (cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, interval);
	return pft_create_backed(self->h, self->file, &req, &self->dev);
}

/* The device on a fresh file, in @cache_mode, open for direct I/O. */
static void bk_open(struct __test_metadata *_metadata,
		    BK_SELF *self, uint32_t cache_mode)
{
	self->fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_scratch_vars(self->dir, sizeof(self->dir), "16m",
				      self->file, sizeof(self->file), FILE_SIZE,
				      &self->orig));
	self->shadow = pft_slurp(self->file, FILE_SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_EQ(0, make_dev(self, cache_mode, WB_NEVER));
	ASSERT_EQ(0, open_dev(self));
}

static void bk_close(struct __test_metadata *_metadata, BK_SELF *self)
{
	EXPECT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	pft_tmpfs_remove(self->dir);
	free(self->shadow);
	free(self->orig);
	pfnl_close(self->h);
}

FIXTURE_SETUP(bk)
{
	bk_open(_metadata, self, variant->cache_mode);
}

FIXTURE_TEARDOWN(bk)
{
	bk_close(_metadata, self);
}

/*
 * What holds in one cache mode only: a fixture per mode, so that no test is
 * generated for the mode it does not apply to.
 */
FIXTURE(writethrough) {
	FIXTURE_DATA(bk) bk;
};

FIXTURE_SETUP(writethrough)
{
	bk_open(_metadata, &self->bk, PFLASH_CACHE_MODE_WRITETHROUGH);
}

FIXTURE_TEARDOWN(writethrough)
{
	bk_close(_metadata, &self->bk);
}

FIXTURE(writeback) {
	FIXTURE_DATA(bk) bk;
};

FIXTURE_SETUP(writeback)
{
	bk_open(_metadata, &self->bk, PFLASH_CACHE_MODE_WRITEBACK);
}

FIXTURE_TEARDOWN(writeback)
{
	bk_close(_metadata, &self->bk);
}

/* What reaches RAM, even if its write fails on the file. */
static int write_pattern(BK_SELF *self, uint64_t off, size_t len,
			 uint32_t seed)
{
	return pft_write_pattern(self->fd, self->shadow, off, len, seed, true);
}

static uint64_t dirty_bytes(BK_SELF *self)
{
	struct pfnl_dev dev = {};

	if (pft_get(self->h, self->dev.index, &dev))
		return UINT64_MAX;
	return dev.dirty_bytes;
}

#define ASSERT_DEV_IS(bk, expect) \
	ASSERT_EQ(-1, pft_diff((bk)->fd, (expect), FILE_SIZE))
#define ASSERT_FILE_IS(bk, expect) \
	ASSERT_EQ(-1, pft_file_diff((bk)->file, (expect), FILE_SIZE))

TEST_F(bk, loads_the_image_from_the_file)
{
	ASSERT_DEV_IS(self, self->orig);
}

TEST_F(bk, size_defaults_to_the_files_and_is_reported)
{
	EXPECT_EQ(FILE_SIZE, self->dev.size);
	EXPECT_STREQ(self->file, self->dev.backing_path);
	EXPECT_EQ(variant->cache_mode, self->dev.cache_mode);
	EXPECT_EQ(0, self->dev.dirty_bytes);
	EXPECT_EQ(0, self->dev.writeback_error);
	EXPECT_TRUE(pfnl_dev_has(&self->dev, PFLASH_A_DEV_DIRTY_BYTES));
}

TEST_F(bk, queue_advertises_the_cache_mode)
{
	char path[96], mode[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/queue/write_cache",
		 self->dev.index);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(mode, sizeof(mode), f));
	fclose(f);
	EXPECT_STREQ(variant->cache_mode == PFLASH_CACHE_MODE_WRITEBACK ?
		     "write back\n" : "write through\n", mode);
}

TEST_F(bk, written_and_flushed_data_is_in_the_file)
{
	ASSERT_EQ(0, write_pattern(self, 0, 4096, 2));
	ASSERT_EQ(0, write_pattern(self, 70 * 1024 + 512, 8192, 3));
	ASSERT_EQ(0, write_pattern(self, FILE_SIZE - 512, 512, 4));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_DEV_IS(self, self->shadow);
	ASSERT_FILE_IS(self, self->shadow);
	EXPECT_EQ(0, dirty_bytes(self));
}

/*
 * A pass takes the dirty bitmap's words that have a bit set, and writes
 * from the first of them to the last: a write in any word, alone or with
 * others, one across two words, the device's last granule, each reaches
 * the file (in writethrough mode as it completes, in writeback mode at the
 * flush), and the pass leaves nothing dirty.
 */
TEST_F(bk, writes_in_every_word_of_the_dirty_bitmap_reach_the_file)
{
	static const struct { uint64_t off, len; } w[][2] = {
		{ { 0, 4096 } },				/* word 0 */
		{ { 63 * 4096, 4096 } },			/* its last bit */
		{ { 2 * 64 * 4096 + 4096, 512 } },		/* word 2 alone */
		{ { 128 * 4096 - 2048, 4096 } },		/* words 1 and 2 */
		{ { 64 * 4096, 4096 }, { 3 * 64 * 4096, 8192 } }, /* 1 and 3 */
		{ { FILE_SIZE - 4096, 4096 } },			/* the last */
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(w); i++) {
		for (j = 0; j < 2 && w[i][j].len; j++)
			ASSERT_EQ(0, write_pattern(self, w[i][j].off,
						   w[i][j].len, 40 + 2 * i + j));
		if (variant->cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
			ASSERT_EQ(0, fsync(self->fd));
		ASSERT_FILE_IS(self, self->shadow);
		EXPECT_EQ(0, dirty_bytes(self));
	}
}

/*
 * The summary of the dirty bitmap, a bit per word of it, which a pass reads
 * to find the words to take: on a device of 512-byte granules and 4 MiB,
 * 128 words, two words of the summary.  A write in each of them, at the
 * boundary between them (alone, and one across it), and in the last
 * granule, each reaches the file.
 */
#define SUMMARY_SIZE	(4 << 20)
#define WORD_BYTES	(64 * 512)

TEST_F(bk, writes_in_every_word_of_the_dirty_bitmaps_summary_reach_the_file)
{
	static const struct { uint64_t off, len; } w[] = {
		{ 512, 512 },				/* summary word 0 */
		{ 63 * WORD_BYTES + 512, 1024 },	/* its last bit */
		{ 64 * WORD_BYTES, 512 },		/* word 1's first */
		{ 64 * WORD_BYTES - 4096, 8192 },	/* across the two */
		{ 100 * WORD_BYTES + 4096, 4096 },	/* word 1 alone */
		{ SUMMARY_SIZE - 512, 512 },		/* the last granule */
	};
	struct pfnl_dev req = {}, dev = {};
	char path[sizeof(self->file) + 8];
	uint8_t *shadow;
	unsigned int i;
	int fd = -1;

	snprintf(path, sizeof(path), "%s.4m", self->file);
	ASSERT_EQ(0, pft_mkfile(path, SUMMARY_SIZE, 30));
	shadow = pft_slurp(path, SUMMARY_SIZE);
	ASSERT_NE(NULL, shadow);
	pfnl_dev_set(&req, PFLASH_A_DEV_ERASE_SIZE, 512);
	ASSERT_EQ(0, pft_create_in_mode(self->h, path, &req,
					variant->cache_mode, &dev));
	fd = pft_open(dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		struct pfnl_dev now = {};

		ASSERT_EQ(0, pft_write_pattern(fd, shadow, w[i].off, w[i].len,
					       60 + i, false));
		if (variant->cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
			ASSERT_EQ(0, fsync(fd));
		ASSERT_EQ(-1, pft_file_diff(path, shadow, SUMMARY_SIZE));
		ASSERT_EQ(0, pft_get(self->h, dev.index, &now));
		EXPECT_EQ(0, now.dirty_bytes);
	}
	EXPECT_EQ(0, pft_drop(self->h, &dev, &fd));
	free(shadow);
}

TEST_F(writethrough, write_is_in_the_file_when_it_completes)
{
	BK_SELF *bk = &self->bk;

	ASSERT_EQ(0, write_pattern(bk, 8192, 4096, 5));
	ASSERT_FILE_IS(bk, bk->shadow);
	EXPECT_EQ(0, dirty_bytes(bk));
}

TEST_F(writeback, write_waits_for_a_flush)
{
	BK_SELF *bk = &self->bk;

	ASSERT_EQ(0, write_pattern(bk, 8192, 4096, 6));
	/* In RAM, dirty, and not in the file... */
	ASSERT_DEV_IS(bk, bk->shadow);
	ASSERT_FILE_IS(bk, bk->orig);
	EXPECT_EQ(4096, dirty_bytes(bk));
	/* ...until the FLUSH command writes it. */
	ASSERT_EQ(0, pft_flush(bk->h, bk->dev.index, false));
	ASSERT_FILE_IS(bk, bk->shadow);
	EXPECT_EQ(0, dirty_bytes(bk));
}

/*
 * In writeback mode a crash loses exactly what was written since the last
 * flush: the file holds everything flushed and nothing later.
 */
TEST_F(writeback, crash_loses_only_unflushed_data)
{
	BK_SELF *bk = &self->bk;
	uint8_t *flushed = malloc(FILE_SIZE);

	ASSERT_NE(NULL, flushed);
	ASSERT_EQ(0, write_pattern(bk, 0, 16384, 7));
	ASSERT_EQ(0, fsync(bk->fd));
	memcpy(flushed, bk->shadow, FILE_SIZE);
	ASSERT_EQ(0, write_pattern(bk, 4096, 4096, 8));
	ASSERT_EQ(0, write_pattern(bk, 128 * 1024, 4096, 9));
	/* What a crash now would leave behind. */
	ASSERT_FILE_IS(bk, flushed);
	ASSERT_EQ(0, fsync(bk->fd));
	ASSERT_FILE_IS(bk, bk->shadow);
	free(flushed);
}

TEST_F(bk, full_flush_rewrites_the_whole_file)
{
	uint8_t junk[512];
	int fd;

	/* Change the file behind the device's back. */
	memset(junk, 0x5a, sizeof(junk));
	fd = open(self->file, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_pwrite_full(fd, junk, sizeof(junk), 100 * 1024));
	close(fd);
	/* A flush of the dirty blocks does not touch it... */
	ASSERT_EQ(0, pft_flush(self->h, self->dev.index, false));
	EXPECT_EQ(100 * 1024, pft_file_diff(self->file, self->shadow,
					    FILE_SIZE));
	/* ...a full flush does. */
	ASSERT_EQ(0, pft_flush(self->h, self->dev.index, true));
	ASSERT_FILE_IS(self, self->shadow);
}

TEST_F(bk, discard_and_write_zeroes_reach_the_file)
{
	uint64_t erase[2] = { 8192, 8192 }, zero[2] = { 65536, 4096 };

	ASSERT_EQ(0, ioctl(self->fd, BLKDISCARD, erase));
	memset(self->shadow + erase[0], 0xff, erase[1]);
	ASSERT_EQ(0, ioctl(self->fd, BLKZEROOUT, zero));
	memset(self->shadow + zero[0], 0, zero[1]);
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_DEV_IS(self, self->shadow);
	ASSERT_FILE_IS(self, self->shadow);
}

TEST_F(bk, destroy_writes_back_then_recreate_reads_the_same)
{
	ASSERT_EQ(0, write_pattern(self, 12288, 20480, 10));
	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	ASSERT_FILE_IS(self, self->shadow);

	ASSERT_EQ(0, make_dev(self, variant->cache_mode, WB_NEVER));
	ASSERT_EQ(0, open_dev(self));
	ASSERT_DEV_IS(self, self->shadow);
}

TEST_F(writeback, periodic_writeback_writes_dirty_blocks)
{
	BK_SELF *bk = &self->bk;
	uint64_t dirty;
	double start;

	ASSERT_EQ(0, pft_drop(bk->h, &bk->dev, &bk->fd));
	ASSERT_EQ(0, make_dev(bk, PFLASH_CACHE_MODE_WRITEBACK, 100));
	EXPECT_EQ(100, bk->dev.writeback_interval);
	ASSERT_EQ(0, open_dev(bk));
	ASSERT_EQ(0, write_pattern(bk, 4096, 4096, 11));
	/*
	 * No flush: the period does it.  Waited for as long as it takes (the
	 * test's limit is the guard), not for a time a loaded VM may pass.
	 */
	start = pft_now();
	while ((dirty = dirty_bytes(bk)) && dirty != UINT64_MAX)
		usleep(10 * 1000);
	TH_LOG("written back after %.2f s, every 0.1 s", pft_now() - start);
	EXPECT_EQ(0, dirty);
	ASSERT_FILE_IS(bk, bk->shadow);
}

/*
 * Write pattern @seed at [@off, @off + @len) of device @index, open as @fd,
 * while its backing file refuses writes with @err: the data reaches RAM
 * (and @shadow), but the write fails in writethrough mode, and the fsync
 * in writeback mode; so does a flush, with @err, which the device reports,
 * with at least @dirty bytes dirty.
 */
static void write_while_failing(struct __test_metadata *_metadata,
				struct pfnl *h, uint32_t index, int fd,
				uint8_t *shadow, uint32_t cache_mode,
				uint64_t off, size_t len, uint32_t seed,
				int err, uint64_t dirty)
{
	struct pfnl_dev dev = {};
	int ret;

	ret = pft_write_pattern(fd, shadow, off, len, seed, true);
	if (cache_mode == PFLASH_CACHE_MODE_WRITETHROUGH) {
		EXPECT_EQ(-EIO, ret);
	} else {
		EXPECT_EQ(0, ret);
		EXPECT_EQ(-1, fsync(fd));
		EXPECT_EQ(EIO, errno);
	}
	EXPECT_EQ(-err, pft_flush(h, index, false));
	ASSERT_EQ(0, pft_get(h, index, &dev));
	EXPECT_EQ(err, dev.writeback_error);
	EXPECT_LE(dirty, dev.dirty_bytes);
	/* Everything written is still in RAM. */
	ASSERT_EQ(-1, pft_diff(fd, shadow, FILE_SIZE));
}

/*
 * A full tmpfs: the backing write fails with ENOSPC, the data stays dirty
 * and in RAM, and lands once there is room again.
 */
TEST_F(bk, enospc_loses_nothing_and_lands_later)
{
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	/* A sparse file on a tmpfs with room for a quarter of it. */
	ASSERT_EQ(0, pft_tmpfs_fill_up(self->dir, self->file, FILE_SIZE,
				       "64k"));
	memset(self->shadow, 0, FILE_SIZE);
	ASSERT_EQ(0, make_dev(self, variant->cache_mode, WB_NEVER));
	ASSERT_EQ(0, open_dev(self));

	write_while_failing(_metadata, self->h, self->dev.index, self->fd,
			    self->shadow, variant->cache_mode, 0, 128 * 1024,
			    12, ENOSPC, 1);

	ASSERT_EQ(0, pft_tmpfs_resize(self->dir, "16m"));
	ASSERT_EQ(0, pft_flush(self->h, self->dev.index, false));
	ASSERT_FILE_IS(self, self->shadow);
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &dev));
	EXPECT_EQ(0, dev.writeback_error);
	EXPECT_EQ(0, dev.dirty_bytes);
}

TEST_F(writeback, failed_final_writeback_keeps_the_device_unless_forced)
{
	BK_SELF *bk = &self->bk;

	ASSERT_EQ(0, pft_drop(bk->h, &bk->dev, &bk->fd));
	ASSERT_EQ(0, pft_tmpfs_fill_up(bk->dir, bk->file, FILE_SIZE,
				       "64k"));
	memset(bk->shadow, 0, FILE_SIZE);
	ASSERT_EQ(0, make_dev(bk, PFLASH_CACHE_MODE_WRITEBACK, WB_NEVER));
	ASSERT_EQ(0, open_dev(bk));
	ASSERT_EQ(0, write_pattern(bk, 0, 128 * 1024, 13));
	close(bk->fd);
	bk->fd = -1;

	EXPECT_EQ(-ENOSPC, pft_destroy(bk->h, bk->dev.index));
	EXPECT_NE(0, pfnl_last_ack(bk->h)->msg[0]);
	/* Kept, with its data. */
	ASSERT_EQ(0, pft_get(bk->h, bk->dev.index, NULL));
	ASSERT_EQ(0, open_dev(bk));
	ASSERT_DEV_IS(bk, bk->shadow);
	close(bk->fd);
	bk->fd = -1;

	EXPECT_EQ(0, pft_destroy_force(bk->h, bk->dev.index));
	bk->dev.attrs = 0;
	EXPECT_EQ(-ENODEV, pft_get(bk->h, bk->dev.index, NULL));
}

/*
 * A backing that turns read-only under a device: another pflash device,
 * inactivated.  The flush fails with the block layer's errno (EPERM), says
 * that the backing file failed, and keeps the data dirty; once the lower
 * device is active again, a flush lands all of it.
 */
TEST_F(writeback, backing_made_read_only_fails_the_flush_and_loses_nothing)
{
	BK_SELF *bk = &self->bk;
	struct pfnl_dev req = {}, upper = {};
	uint8_t *data = pft_alloc(FILE_SIZE);
	char path[32];
	int fd;

	ASSERT_NE(NULL, data);
	pft_path(path, sizeof(path), bk->dev.index);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, PFLASH_CACHE_MODE_WRITEBACK);
	pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, WB_NEVER);
	ASSERT_EQ(0, pft_create_backed(bk->h, path, &req, &upper));
	fd = pft_open(upper.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	pft_pattern(data, FILE_SIZE, 0, 21);
	ASSERT_EQ(0, pft_pwrite_full(fd, data, FILE_SIZE, 0));
	close(fd);

	ASSERT_EQ(0, pft_inactivate(bk->h, bk->dev.index, false, NULL));
	EXPECT_EQ(-EPERM, pft_flush(bk->h, upper.index, false));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(bk->h)->msg,
			       "backing file failed"));
	EXPECT_EQ(0, pft_get(bk->h, upper.index, &upper));
	EXPECT_EQ(FILE_SIZE, upper.dirty_bytes);
	EXPECT_EQ(-1, pft_diff(bk->fd, bk->shadow, FILE_SIZE));

	ASSERT_EQ(0, pft_activate(bk->h, bk->dev.index, -1, NULL));
	EXPECT_EQ(0, pft_flush(bk->h, upper.index, false));
	EXPECT_EQ(-1, pft_diff(bk->fd, data, FILE_SIZE));
	EXPECT_EQ(0, pft_destroy(bk->h, upper.index));
	free(data);
}

/*
 * A full flush that fails puts back every granule of the device, and only
 * those: on a device of 65 granules, the last word of its dirty bitmap has
 * one, not 64.
 */
TEST_F(writeback, failed_full_flush_leaves_each_granule_dirty_once)
{
	BK_SELF *bk = &self->bk;
	struct pfnl_dev req = {}, upper = {};
	const uint64_t size = 65 * 4096;
	char path[32];

	pft_path(path, sizeof(path), bk->dev.index);
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, PFLASH_CACHE_MODE_WRITEBACK);
	pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, WB_NEVER);
	ASSERT_EQ(0, pft_create_backed(bk->h, path, &req, &upper));

	ASSERT_EQ(0, pft_inactivate(bk->h, bk->dev.index, false, NULL));
	EXPECT_EQ(-EPERM, pft_flush(bk->h, upper.index, true));
	EXPECT_EQ(0, pft_get(bk->h, upper.index, &upper));
	EXPECT_EQ(size, upper.dirty_bytes);

	ASSERT_EQ(0, pft_activate(bk->h, bk->dev.index, -1, NULL));
	EXPECT_EQ(0, pft_flush(bk->h, upper.index, false));
	EXPECT_EQ(0, pft_get(bk->h, upper.index, &upper));
	EXPECT_EQ(0, upper.dirty_bytes);
	EXPECT_EQ(0, pft_destroy(bk->h, upper.index));
}

/* EIO from device-mapper's error target under a block-device backing. */
FIXTURE(dm) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64];
	char loopdev[32];
	uint8_t *shadow;
	int fd;
};

#define PFT_FIXTURE dm
#include "pft_cache_modes.h"

#define DM_NAME		"pft-backing"
#define DM_PATH		"/dev/mapper/" DM_NAME
/* No udev in the test VM: dmsetup makes the device nodes itself. */
#define DMSETUP		"DM_DISABLE_UDEV=1 dmsetup "

static int dm_table(const char *loopdev, bool error)
{
	char cmd[256];

	if (error)
		snprintf(cmd, sizeof(cmd),
			 DMSETUP "suspend %s && "
			 DMSETUP "load %s --table '0 %d error' && "
			 DMSETUP "resume %s",
			 DM_NAME, DM_NAME, FILE_SIZE / 512, DM_NAME);
	else
		snprintf(cmd, sizeof(cmd),
			 DMSETUP "suspend %s && "
			 DMSETUP "load %s --table '0 %d linear %s 0' && "
			 DMSETUP "resume %s",
			 DM_NAME, DM_NAME, FILE_SIZE / 512, loopdev, DM_NAME);
	return system(cmd);
}

FIXTURE_SETUP(dm)
{
	struct pfnl_dev req = {};
	char cmd[256], file[96];

	self->fd = -1;
	/* Loaded on first use only through device nodes they create. */
	ASSERT_EQ(0, system("modprobe loop && modprobe dm-mod"));
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16m"));
	snprintf(file, sizeof(file), "%s/disk", self->dir);
	ASSERT_EQ(0, pft_mkfile(file, FILE_SIZE, 20));
	self->shadow = pft_slurp(file, FILE_SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_EQ(0, pft_loop_attach(file, self->loopdev,
				     sizeof(self->loopdev)));
	snprintf(cmd, sizeof(cmd),
		 DMSETUP "create %s --table '0 %d linear %s 0'", DM_NAME,
		 FILE_SIZE / 512, self->loopdev);
	ASSERT_EQ(0, system(cmd));

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, variant->cache_mode);
	if (variant->cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, WB_NEVER);
	ASSERT_EQ(0, pft_create_backed(self->h, DM_PATH, &req, &self->dev));
	self->fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dm)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dev.index));
	EXPECT_EQ(0, system(DMSETUP "remove " DM_NAME));
	EXPECT_EQ(0, pft_loop_detach(self->loopdev));
	pft_tmpfs_remove(self->dir);
	free(self->shadow);
	pfnl_close(self->h);
}

TEST_F(dm, block_device_backing_loads_and_writes)
{
	uint8_t *buf = pft_alloc(8192);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(-1, pft_diff(self->fd, self->shadow, FILE_SIZE));
	pft_pattern(buf, 8192, 4096, 21);
	memcpy(self->shadow + 4096, buf, 8192);
	ASSERT_EQ(0, pft_pwrite_full(self->fd, buf, 8192, 4096));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_EQ(-1, pft_file_diff(DM_PATH, self->shadow, FILE_SIZE));
	free(buf);
}

/*
 * A backing file that cannot be read: the device is not created, with the
 * read's EIO and a message, and nothing holds the file.
 */
TEST_F(dm, unreadable_backing_file_is_refused_at_create)
{
	struct pfnl_dev req = {}, dev = {};
	int fd;

	/* The fixture's device owns the file: it goes first. */
	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	ASSERT_EQ(0, dm_table(self->loopdev, true));
	fd = open(DM_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	pfnl_dev_set(&req, PFLASH_A_DEV_BACKING_FD, fd);
	EXPECT_EQ(-EIO, pfnl_dev_do(self->h, PFLASH_CMD_DEV_NEW, &req,
				    &dev));
	EXPECT_NE(0, pfnl_last_ack(self->h)->msg[0]);
	close(fd);
	EXPECT_EQ(0, pft_locked(DM_PATH));
	ASSERT_EQ(0, dm_table(self->loopdev, false));
}

TEST_F(dm, eio_loses_nothing_and_lands_later)
{
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, dm_table(self->loopdev, true));
	write_while_failing(_metadata, self->h, self->dev.index, self->fd,
			    self->shadow, variant->cache_mode, 32768, 16384,
			    22, EIO, 16384);

	/* The fault clears: the retried writeback lands the data. */
	ASSERT_EQ(0, dm_table(self->loopdev, false));
	ASSERT_EQ(0, pft_flush(self->h, self->dev.index, false));
	ASSERT_EQ(-1, pft_file_diff(DM_PATH, self->shadow, FILE_SIZE));
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &dev));
	EXPECT_EQ(0, dev.writeback_error);
	EXPECT_EQ(0, dev.dirty_bytes);
}

/* Refusals. */
FIXTURE(refuse) {
	struct pfnl *h;
	char dir[64];
	char file[96];
};

/* The fixture's types, for the helpers that take them. */
#define REFUSE_SELF	FIXTURE_DATA(refuse)

FIXTURE_SETUP(refuse)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16m"));
	snprintf(self->file, sizeof(self->file), "%s/vars.fd", self->dir);
	ASSERT_EQ(0, pft_mkfile(self->file, 65536, 30));
}

FIXTURE_TEARDOWN(refuse)
{
	pft_tmpfs_remove(self->dir);
	pfnl_close(self->h);
}

/* DEV_NEW with backing fd @fd and the attributes in @req must fail. */
static int create_fd(REFUSE_SELF *self, int fd, struct pfnl_dev *req)
{
	struct pfnl_dev dev = {};
	int ret;

	pfnl_dev_set(req, PFLASH_A_DEV_BACKING_FD, fd);
	ret = pft_create(self->h, req, &dev);
	if (!ret)
		pft_destroy(self->h, dev.index);
	return ret;
}

/*
 * As create_fd(), with a backing fd of @path opened with @flags; the
 * open()'s -errno if that fails.
 */
static int create_on(REFUSE_SELF *self, const char *path, int flags,
		     struct pfnl_dev *req)
{
	int fd = open(path, flags);
	int ret;

	if (fd < 0)
		return -errno;
	ret = create_fd(self, fd, req);
	close(fd);
	return ret;
}

#define EXPECT_REFUSED(_ret, _err, _attr) do {				\
	const struct pfnl_ack *_a = pfnl_last_ack(self->h);		\
	int _want_attr = (_attr);					\
									\
	EXPECT_EQ(-(_err), (_ret));					\
	EXPECT_NE(0, _a->msg[0]);					\
	if (_want_attr)							\
		EXPECT_EQ(_want_attr, _a->attr ?: _a->miss_type);	\
} while (0)

TEST_F(refuse, socket_as_backing)
{
	struct pfnl_dev req = {};
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_REFUSED(create_fd(self, sv[0], &req), EINVAL,
		       PFLASH_A_DEV_BACKING_FD);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(refuse, directory_as_backing)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 65536);
	EXPECT_REFUSED(create_on(self, self->dir, O_RDONLY | O_DIRECTORY,
				 &req), EINVAL, PFLASH_A_DEV_BACKING_FD);
}

TEST_F(refuse, read_only_fd_for_a_writable_device)
{
	struct pfnl_dev req = {};

	EXPECT_REFUSED(create_on(self, self->file, O_RDONLY, &req), EBADF,
		       PFLASH_A_DEV_BACKING_FD);
}

TEST_F(refuse, write_only_fd)
{
	struct pfnl_dev req = {};

	EXPECT_REFUSED(create_on(self, self->file, O_WRONLY, &req), EBADF,
		       PFLASH_A_DEV_BACKING_FD);
}

TEST_F(refuse, fd_that_is_not_open)
{
	struct pfnl_dev req = {};

	EXPECT_REFUSED(create_fd(self, 1000, &req), EBADF,
		       PFLASH_A_DEV_BACKING_FD);
}

TEST_F(refuse, file_shorter_than_the_size)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 2 * 65536);
	EXPECT_REFUSED(create_on(self, self->file, O_RDWR, &req), EINVAL, 0);
}

TEST_F(refuse, file_size_not_whole_erase_blocks)
{
	struct pfnl_dev req = {};

	ASSERT_EQ(0, truncate(self->file, 5000));
	EXPECT_REFUSED(create_on(self, self->file, O_RDWR, &req), EINVAL,
		       PFLASH_A_DEV_BACKING_FD);
}

TEST_F(refuse, cache_settings_without_a_writable_backing)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 65536);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	EXPECT_REFUSED(pft_create(self->h, &req, NULL), EINVAL,
		       PFLASH_A_DEV_CACHE_MODE);

	req.attrs = 0;
	pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	EXPECT_REFUSED(create_on(self, self->file, O_RDONLY, &req), EINVAL,
		       PFLASH_A_DEV_CACHE_MODE);

	req.attrs = 0;
	pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, 1000);
	EXPECT_REFUSED(create_on(self, self->file, O_RDWR, &req), EINVAL,
		       PFLASH_A_DEV_WRITEBACK_INTERVAL);
}

TEST_F(refuse, read_only_device_on_a_read_only_fd_is_fine)
{
	struct pfnl_dev req = {}, dev;
	uint8_t *expect = pft_slurp(self->file, 65536);
	int fd;

	ASSERT_NE(NULL, expect);
	pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &dev));
	EXPECT_FALSE(pfnl_dev_has(&dev, PFLASH_A_DEV_CACHE_MODE));
	fd = pft_open(dev.index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pft_diff(fd, expect, 65536));
	close(fd);
	EXPECT_EQ(-1, pft_open(dev.index, O_RDWR));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(0, pft_flush(self->h, dev.index, false));
	EXPECT_EQ(0, pft_destroy(self->h, dev.index));
	free(expect);
}

/* pflash devices may back one another, up to a depth. */
TEST_F(refuse, pflash_backing_chains_are_bounded)
{
	uint32_t chain[10];
	char path[32];
	int i, n = 0, ret = 0;

	for (i = 0; i < 10 && !ret; i++) {
		struct pfnl_dev req = {}, dev;

		if (i) {
			pft_path(path, sizeof(path), chain[i - 1]);
			ret = pft_create_backed(self->h, path, &req, &dev);
		} else {
			ret = pft_create_backed(self->h, self->file, &req,
						&dev);
		}
		if (!ret)
			chain[n++] = dev.index;
	}
	/* Nine pflash devices under the tenth is one too many. */
	EXPECT_EQ(9, n);
	EXPECT_REFUSED(ret, ELOOP, PFLASH_A_DEV_BACKING_FD);
	/* The top of a chain sees the bottom's contents. */
	if (n) {
		uint8_t *expect = pft_slurp(self->file, 65536);
		int fd = pft_open(chain[n - 1], O_RDONLY | O_DIRECT);

		ASSERT_LE(0, fd);
		EXPECT_EQ(-1, pft_diff(fd, expect, 65536));
		close(fd);
		free(expect);
	}
	while (n--)
		EXPECT_EQ(0, pft_destroy(self->h, chain[n]));
}

TEST_HARNESS_MAIN
