// SPDX-License-Identifier: GPL-2.0
/*
 * The pflash data path: reads and writes at every class of offset, I/O past
 * the end, discard, write-zeroes, geometry and read-only devices.
 *
 * Every test keeps a shadow copy of what the device must hold and, after
 * each change, compares the whole device with it, so a change that lands in
 * the wrong place fails as surely as one that does not land.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define NR_ERASE_BLOCKS	16

FIXTURE(dev) {
	struct pfnl *h;
	struct pfnl_dev dev;
	uint64_t size;
	uint32_t bs, es;
	uint8_t *shadow;
	int fd;
};

FIXTURE_VARIANT(dev) {
	uint32_t block_size;
	uint32_t erase_size;
};

/* The fixture's types, for the helpers that take them. */
#define DEV_SELF	FIXTURE_DATA(dev)

/* QEMU's x86 flash: 4 KiB erase blocks. */
FIXTURE_VARIANT_ADD(dev, bs512_erase4k) {
	.block_size = 512,
	.erase_size = 4096,
};

FIXTURE_VARIANT_ADD(dev, bs4096_erase4k) {
	.block_size = 4096,
	.erase_size = 4096,
};

/* Erase blocks larger than a page, as on QEMU's ARM virt board. */
FIXTURE_VARIANT_ADD(dev, bs512_erase256k) {
	.block_size = 512,
	.erase_size = 256 * 1024,
};

FIXTURE_VARIANT_ADD(dev, bs4096_erase64k) {
	.block_size = 4096,
	.erase_size = 64 * 1024,
};

FIXTURE_SETUP(dev)
{
	self->bs = variant->block_size;
	self->es = variant->erase_size;
	self->size = (uint64_t)NR_ERASE_BLOCKS * self->es;
	self->fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_create_simple(self->h, self->size, self->bs, self->es,
				       &self->dev));
	self->fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
	self->shadow = malloc(self->size);
	ASSERT_NE(NULL, self->shadow);
	memset(self->shadow, 0xff, self->size);
}

FIXTURE_TEARDOWN(dev)
{
	EXPECT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	free(self->shadow);
	pfnl_close(self->h);
}

/* Write a pattern at [off, off + len) and into the shadow. */
static int write_pattern(DEV_SELF *self, uint64_t off, size_t len,
			 uint32_t seed)
{
	return pft_write_pattern(self->fd, self->shadow, off, len, seed, false);
}

#define ASSERT_MATCHES_SHADOW() \
	ASSERT_EQ(-1, pft_diff(self->fd, self->shadow, self->size))

TEST_F(dev, new_device_reads_erased)
{
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, geometry_is_reported)
{
	uint64_t bytes = 0;
	int ssz = 0, pbsz = 0;

	ASSERT_EQ(0, ioctl(self->fd, BLKGETSIZE64, &bytes));
	EXPECT_EQ(self->size, bytes);
	ASSERT_EQ(0, ioctl(self->fd, BLKSSZGET, &ssz));
	EXPECT_EQ(self->bs, (uint32_t)ssz);
	ASSERT_EQ(0, ioctl(self->fd, BLKPBSZGET, &pbsz));
	EXPECT_EQ(self->bs, (uint32_t)pbsz);
	EXPECT_EQ(self->es, pft_sysfs(self->dev.index,
				      "queue/discard_granularity"));
	EXPECT_EQ(0, pft_sysfs(self->dev.index, "ro"));
	EXPECT_EQ(self->size, self->dev.size);
	EXPECT_EQ(self->bs, self->dev.block_size);
	EXPECT_EQ(self->es, self->dev.erase_size);
	EXPECT_FALSE(self->dev.read_only);
}

/*
 * The queue: bio-based, so with no I/O scheduler at all, I/O of up to
 * 1280 KiB advertised so that a 1 MiB I/O is sent whole, and I/O
 * statistics, as on other disks: each read and write counts, once, until
 * queue/iostats turns them off.
 */
TEST_F(dev, queue_settings)
{
	char path[64], sched[64] = "";
	uint8_t *buf = pft_alloc(self->bs);
	long long reads, writes, sectors;
	FILE *f;

	ASSERT_NE(NULL, buf);
	snprintf(path, sizeof(path), "/sys/block/pflash%u/queue/scheduler",
		 self->dev.index);
	/* Newer kernels show no scheduler attribute for a bio-based queue. */
	f = fopen(path, "r");
	if (f) {
		ASSERT_NE(NULL, fgets(sched, sizeof(sched), f));
		fclose(f);
		EXPECT_STREQ("none\n", sched);
	} else {
		EXPECT_EQ(ENOENT, errno);
	}
	EXPECT_EQ(1280, pft_sysfs(self->dev.index, "queue/max_sectors_kb"));
	EXPECT_EQ(1, pft_sysfs(self->dev.index, "queue/iostats"));

	/* The fixture's descriptor is O_DIRECT: one request each. */
	reads = pft_stat_field(self->dev.index, 0);
	writes = pft_stat_field(self->dev.index, 4);
	sectors = pft_stat_field(self->dev.index, 6);
	ASSERT_LE(0, reads);
	pft_pattern(buf, self->bs, 0, 3);
	ASSERT_EQ(0, pft_pwrite_full(self->fd, buf, self->bs, 0));
	ASSERT_EQ(0, pft_pread_full(self->fd, buf, self->bs, 0));
	ASSERT_EQ(0, pft_pread_full(self->fd, buf, self->bs, 0));
	EXPECT_EQ(reads + 2, pft_stat_field(self->dev.index, 0));
	EXPECT_EQ(writes + 1, pft_stat_field(self->dev.index, 4));
	EXPECT_EQ(sectors + self->bs / 512, pft_stat_field(self->dev.index, 6));

	ASSERT_EQ(0, pft_iostats_set(self->dev.index, false));
	EXPECT_EQ(0, pft_sysfs(self->dev.index, "queue/iostats"));
	ASSERT_EQ(0, pft_pread_full(self->fd, buf, self->bs, 0));
	EXPECT_EQ(reads + 2, pft_stat_field(self->dev.index, 0));
	free(buf);
}

TEST_F(dev, write_read_first_block)
{
	ASSERT_EQ(0, write_pattern(self, 0, self->bs, 1));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_read_last_block)
{
	ASSERT_EQ(0, write_pattern(self, self->size - self->bs, self->bs, 2));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_read_inside_erase_block)
{
	/* A block strictly inside an erase block, where there is one. */
	uint64_t off = self->es + (self->es > self->bs ? self->bs : 0);

	ASSERT_EQ(0, write_pattern(self, off, self->bs, 3));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_read_across_erase_blocks)
{
	ASSERT_EQ(0, write_pattern(self, 3 * self->es - self->bs,
				   2 * self->bs, 4));
	ASSERT_MATCHES_SHADOW();
	/* Several whole erase blocks and parts of two more. */
	ASSERT_EQ(0, write_pattern(self, 5 * self->es - self->bs,
				   3 * self->es + 2 * self->bs, 5));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_read_erase_block_ends)
{
	ASSERT_EQ(0, write_pattern(self, 6 * self->es, self->bs, 6));
	ASSERT_EQ(0, write_pattern(self, 7 * self->es - self->bs, self->bs, 7));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_read_whole_device)
{
	ASSERT_EQ(0, write_pattern(self, 0, self->size, 8));
	ASSERT_MATCHES_SHADOW();
	/* And again, so that no byte keeps its first value by chance. */
	ASSERT_EQ(0, write_pattern(self, 0, self->size, 9));
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, io_past_end_is_refused)
{
	uint8_t *buf = pft_alloc(2 * self->bs);

	ASSERT_NE(NULL, buf);
	pft_pattern(buf, 2 * self->bs, 0, 10);
	/* A write at the end: no space.  A read there: end of file. */
	EXPECT_EQ(-1, pwrite(self->fd, buf, self->bs, self->size));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, pread(self->fd, buf, self->bs, self->size));
	/* A write across the end is cut at it. */
	EXPECT_EQ((ssize_t)self->bs,
		  pwrite(self->fd, buf, 2 * self->bs, self->size - self->bs));
	memcpy(self->shadow + self->size - self->bs, buf, self->bs);
	free(buf);
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, discard_erases_whole_erase_blocks)
{
	uint64_t range[2] = { self->es, 2 * self->es };

	ASSERT_EQ(0, write_pattern(self, 0, self->size, 11));
	ASSERT_EQ(0, ioctl(self->fd, BLKDISCARD, range));
	memset(self->shadow + range[0], 0xff, range[1]);
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, discard_keeps_partial_erase_blocks)
{
	/* From one block into an erase block to one block before the end of
	 * the third erase block after it: only whole erase blocks go.
	 */
	uint64_t start = self->es + self->bs;
	uint64_t end = 4 * self->es - self->bs;
	uint64_t range[2] = { start, end - start };
	uint64_t first = (start + self->es - 1) / self->es * self->es;
	uint64_t last = end / self->es * self->es;

	ASSERT_EQ(0, write_pattern(self, 0, self->size, 12));
	ASSERT_EQ(0, ioctl(self->fd, BLKDISCARD, range));
	ASSERT_LT(first, last);
	memset(self->shadow + first, 0xff, last - first);
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, write_zeroes_reads_back_zero)
{
	uint64_t range[2] = { self->es - self->bs, self->es + 2 * self->bs };

	/* The device takes REQ_OP_WRITE_ZEROES itself, no emulation. */
	ASSERT_LT(0, pft_sysfs(self->dev.index,
			       "queue/write_zeroes_max_bytes"));
	ASSERT_EQ(0, write_pattern(self, 0, self->size, 13));
	ASSERT_EQ(0, ioctl(self->fd, BLKZEROOUT, range));
	memset(self->shadow + range[0], 0, range[1]);
	ASSERT_MATCHES_SHADOW();
}

TEST_F(dev, flush_succeeds)
{
	ASSERT_EQ(0, write_pattern(self, 0, self->bs, 14));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_MATCHES_SHADOW();
}

/* A read-only device. */
FIXTURE(ro_dev) {
	struct pfnl *h;
	struct pfnl_dev dev;
};

FIXTURE_SETUP(ro_dev)
{
	struct pfnl_dev req = {};

	ASSERT_EQ(0, pfnl_open(&self->h));
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 64 * 1024);
	pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	ASSERT_EQ(0, pft_create(self->h, &req, &self->dev));
	ASSERT_TRUE(self->dev.read_only);
}

FIXTURE_TEARDOWN(ro_dev)
{
	if (self->dev.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dev.index));
	pfnl_close(self->h);
}

TEST_F(ro_dev, open_for_write_fails_erofs)
{
	EXPECT_EQ(-1, pft_open(self->dev.index, O_RDWR));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, pft_open(self->dev.index, O_WRONLY));
	EXPECT_EQ(EROFS, errno);
}

TEST_F(ro_dev, reads_erased_and_reports_ro)
{
	uint8_t *expect = malloc(self->dev.size);
	int fd, ro = 0;

	ASSERT_NE(NULL, expect);
	memset(expect, 0xff, self->dev.size);
	fd = pft_open(self->dev.index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pft_diff(fd, expect, self->dev.size));
	ASSERT_EQ(0, ioctl(fd, BLKROGET, &ro));
	EXPECT_EQ(1, ro);
	EXPECT_EQ(1, pft_sysfs(self->dev.index, "ro"));
	close(fd);
	free(expect);
}

TEST_F(ro_dev, discard_refused)
{
	uint64_t range[2] = { 0, 4096 };
	int fd = pft_open(self->dev.index, O_RDONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, BLKDISCARD, range));
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST_HARNESS_MAIN
