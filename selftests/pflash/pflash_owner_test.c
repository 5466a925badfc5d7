// SPDX-License-Identifier: GPL-2.0
/*
 * Ownership of the backing file: inactivate and activate, what an inactive
 * device refuses and what it never does (write its backing file), the OFD
 * lock as user space sees it, the epoch, and a writer and a reader running
 * across an inactivation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define FILE_SIZE	(256 * 1024)

FIXTURE(own) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64];
	char file[96];
	uint8_t *shadow;
	int fd;
};

#define PFT_FIXTURE own
#include "pft_cache_modes.h"

/* The fixture's types, for the helpers that take them. */
#define OWN_SELF	FIXTURE_DATA(own)

static int make_dev(OWN_SELF *self, uint32_t cache_mode,
		    uint32_t state, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, cache_mode);
	if (cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL,
			     PFLASH_WRITEBACK_INTERVAL_MAX);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	return pft_create_backed(self->h, self->file, &req, out);
}

/* The device on a fresh file, in @cache_mode, active, open for direct I/O. */
static void own_open(struct __test_metadata *_metadata,
		     OWN_SELF *self, uint32_t cache_mode)
{
	self->fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_scratch_vars(self->dir, sizeof(self->dir), "16m",
				      self->file, sizeof(self->file), FILE_SIZE,
				      &self->shadow));
	ASSERT_EQ(0, make_dev(self, cache_mode, PFLASH_STATE_ACTIVE,
			      &self->dev));
	self->fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
}

static void own_close(struct __test_metadata *_metadata, OWN_SELF *self)
{
	EXPECT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	pft_tmpfs_remove(self->dir);
	free(self->shadow);
	pfnl_close(self->h);
}

FIXTURE_SETUP(own)
{
	own_open(_metadata, self, variant->cache_mode);
}

FIXTURE_TEARDOWN(own)
{
	own_close(_metadata, self);
}

/* What only writeback mode has: dirty data. */
FIXTURE(writeback) {
	FIXTURE_DATA(own) own;
};

FIXTURE_SETUP(writeback)
{
	own_open(_metadata, &self->own, PFLASH_CACHE_MODE_WRITEBACK);
}

FIXTURE_TEARDOWN(writeback)
{
	own_close(_metadata, &self->own);
}

static int write_pattern(OWN_SELF *self, uint64_t off, size_t len,
			 uint32_t seed)
{
	return pft_write_pattern(self->fd, self->shadow, off, len, seed, false);
}

#define ASSERT_DEV_IS_SHADOW() \
	ASSERT_EQ(-1, pft_diff(self->fd, self->shadow, FILE_SIZE))
#define ASSERT_FILE_IS_SHADOW() \
	ASSERT_EQ(-1, pft_file_diff(self->file, self->shadow, FILE_SIZE))

TEST_F(own, inactivate_flushes_then_reads_work_and_writes_fail)
{
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, write_pattern(self, 4096, 65536, 2));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, &dev));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, dev.state);
	EXPECT_EQ(0, dev.dirty_bytes);
	ASSERT_FILE_IS_SHADOW();
	/* Reads keep working; write() through an fd opened before fails. */
	ASSERT_DEV_IS_SHADOW();
	EXPECT_EQ(-EPERM, write_pattern(self, 0, 4096, 3));
	ASSERT_DEV_IS_SHADOW();
	ASSERT_FILE_IS_SHADOW();
}

TEST_F(own, open_for_write_fails_erofs_while_inactive)
{
	int fd;

	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(-1, pft_open(self->dev.index, O_RDWR));
	EXPECT_EQ(EROFS, errno);
	fd = pft_open(self->dev.index, O_RDONLY);
	EXPECT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	fd = pft_open(self->dev.index, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
}

/*
 * Nothing an inactive device does writes its backing file: not a write
 * attempt, not fsync, not FLUSH, not destroy.  Any write, even of the same
 * bytes, would move the file's modification time.
 */
TEST_F(own, inactive_device_never_writes_its_file)
{
	long long mtime;

	ASSERT_EQ(0, write_pattern(self, 0, 8192, 4));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	mtime = pft_mtime(self->file);
	ASSERT_LT(0, mtime);
	pft_past_mtime(mtime);

	EXPECT_EQ(-EPERM, write_pattern(self, 0, 4096, 5));
	EXPECT_EQ(0, fsync(self->fd));
	EXPECT_EQ(0, pft_flush(self->h, self->dev.index, false));
	EXPECT_EQ(-EROFS, pft_flush(self->h, self->dev.index, true));
	EXPECT_NE(0, pfnl_last_ack(self->h)->msg[0]);
	EXPECT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));

	EXPECT_EQ(mtime, pft_mtime(self->file));
	ASSERT_FILE_IS_SHADOW();
}

TEST_F(own, inactivate_and_activate_are_idempotent)
{
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, &dev));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, &dev));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, dev.state);
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, &dev));
	EXPECT_EQ(1, dev.epoch);
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, &dev));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, dev.state);
	EXPECT_EQ(1, dev.epoch);
}

TEST_F(own, writes_resume_after_activation)
{
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(-EPERM, write_pattern(self, 0, 4096, 6));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	ASSERT_EQ(0, write_pattern(self, 0, 4096, 7));
	ASSERT_EQ(0, fsync(self->fd));
	ASSERT_FILE_IS_SHADOW();
}

TEST_F(own, epoch_must_grow)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	struct pfnl_dev dev = {};

	EXPECT_EQ(0, self->dev.epoch);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, 10, &dev));
	EXPECT_EQ(10, dev.epoch);
	/* The same again is a no-op; another epoch while active is not. */
	EXPECT_EQ(0, pft_activate(self->h, self->dev.index, 10, NULL));
	EXPECT_EQ(-EBUSY, pft_activate(self->h, self->dev.index, 11, NULL));
	EXPECT_EQ(PFLASH_A_DEV_EPOCH, ack->attr);

	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(-ESTALE, pft_activate(self->h, self->dev.index, 10, NULL));
	EXPECT_EQ(PFLASH_A_DEV_EPOCH, ack->attr);
	EXPECT_NE(0, ack->msg[0]);
	EXPECT_EQ(-ESTALE, pft_activate(self->h, self->dev.index, 3, NULL));
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &dev));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, dev.state);
	EXPECT_EQ(10, dev.epoch);
	/* Without an epoch, the next one. */
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, &dev));
	EXPECT_EQ(11, dev.epoch);
}

TEST_F(own, user_space_sees_the_lock)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
	};
	int fd;

	EXPECT_EQ(1, pft_locked(self->file));
	fd = open(self->file, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, fcntl(fd, F_OFD_SETLK, &fl));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(0, pft_locked(self->file));
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(1, pft_locked(self->file));
	close(fd);
}

TEST_F(own, a_second_owner_cannot_activate)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	struct pfnl_dev other = {}, busy = {};

	/* Created active on a locked file: refused. */
	EXPECT_EQ(-EBUSY, make_dev(self, variant->cache_mode,
				   PFLASH_STATE_ACTIVE, &busy));
	EXPECT_NE(0, ack->msg[0]);
	/* Created inactive, it cannot activate while the first owns it. */
	ASSERT_EQ(0, make_dev(self, variant->cache_mode, PFLASH_STATE_INACTIVE,
			      &other));
	EXPECT_EQ(-EBUSY, pft_activate(self->h, other.index, -1, NULL));
	EXPECT_NE(0, ack->msg[0]);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(0, pft_activate(self->h, other.index, -1, NULL));
	/* Now the first one is the second owner. */
	EXPECT_EQ(-EBUSY, pft_activate(self->h, self->dev.index, -1, NULL));
	EXPECT_EQ(0, pft_inactivate(self->h, other.index, false, NULL));
	EXPECT_EQ(0, pft_destroy(self->h, other.index));
	EXPECT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
}

/*
 * The lock goes only after the writeback, on a device whose writeback the
 * test holds up for as long as it likes: its backing file is a loop
 * device on a file of ext4.  Frozen (FIFREEZE), ext4 takes no writes, so
 * the loop device's writes stay in flight, and so does the fsync of the
 * inactivation's writeback, until it is thawed.  Writeback mode, and no
 * periodic pass: the inactivation writes what the test wrote.
 */
FIXTURE(stuck) {
	struct pfnl *h;
	struct pfnl_dev dev;
	char dir[64], mnt[96], file[128];
	char fs_loop[32], loop[32];	/* under ext4; the backing file */
	uint8_t *shadow;
	int mnt_fd;			/* the mount's root: freeze, thaw */
	bool frozen;
};

FIXTURE_SETUP(stuck)
{
	struct pfnl_dev req = {};
	char cmd[256];

	self->mnt_fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	if (system("command -v mkfs.ext4 >/dev/null"))
		SKIP(return, "mkfs.ext4 is not installed");
	/* ext4 comes with the mount, as a module or built in. */
	ASSERT_EQ(0, system("modprobe loop"));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "48m"));
	snprintf(cmd, sizeof(cmd), "truncate -s 32M %s/fs.img && mkfs.ext4 -q -F %s/fs.img",
		 self->dir, self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s/fs.img", self->dir);
	ASSERT_EQ(0, pft_loop_attach(cmd, self->fs_loop,
				     sizeof(self->fs_loop)));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	ASSERT_EQ(0, mkdir(self->mnt, 0700));
	ASSERT_EQ(0, mount(self->fs_loop, self->mnt, "ext4", 0, NULL));
	snprintf(self->file, sizeof(self->file), "%s/vars.fd", self->mnt);
	ASSERT_EQ(0, pft_mkfile(self->file, FILE_SIZE, 1));
	self->shadow = pft_slurp(self->file, FILE_SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_EQ(0, pft_loop_attach(self->file, self->loop,
				     sizeof(self->loop)));
	self->mnt_fd = open(self->mnt, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->mnt_fd);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL,
		     PFLASH_WRITEBACK_INTERVAL_MAX);
	ASSERT_EQ(0, pft_create_backed(self->h, self->loop, &req, &self->dev));
}

FIXTURE_TEARDOWN(stuck)
{
	if (self->frozen)
		EXPECT_EQ(0, ioctl(self->mnt_fd, FITHAW, 0));
	if (self->mnt_fd >= 0)
		close(self->mnt_fd);
	if (self->dev.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dev.index));
	if (self->loop[0])
		pft_loop_detach(self->loop);
	if (self->mnt[0])
		umount2(self->mnt, MNT_DETACH);
	if (self->fs_loop[0])
		pft_loop_detach(self->fs_loop);
	if (self->dir[0])
		pft_tmpfs_remove(self->dir);
	free(self->shadow);
	pfnl_close(self->h);
}

/* An inactivation on a thread of its own. */
struct inactivation {
	uint32_t index;
	int ret;
	atomic_bool done;
};

static void *inactivate_run(void *arg)
{
	struct inactivation *in = arg;
	struct pfnl *h;

	in->ret = pfnl_open(&h);
	if (!in->ret) {
		in->ret = pft_inactivate(h, in->index, false, NULL);
		pfnl_close(h);
	}
	atomic_store(&in->done, true);
	return NULL;
}

/* The writes in flight on block device @dev (/dev/NAME); -1 on error. */
static long long writes_in_flight(const char *dev)
{
	long long reads, writes;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/inflight",
		 strrchr(dev, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld %lld", &reads, &writes) != 2)
		writes = -1;
	fclose(f);
	return writes;
}

TEST_F(stuck, lock_is_released_only_after_the_writeback)
{
	struct inactivation in = { .index = self->dev.index };
	long long writes = 0;
	pthread_t thread;
	int fd;

	if (pft_setup_skipped(_metadata))
		return;
	fd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_write_pattern(fd, self->shadow, 0, FILE_SIZE, 8,
				       false));
	close(fd);
	ASSERT_EQ(1, pft_locked(self->loop));

	ASSERT_EQ(0, ioctl(self->mnt_fd, FIFREEZE, 0));
	self->frozen = true;
	ASSERT_EQ(0, pthread_create(&thread, NULL, inactivate_run, &in));
	/* Its writeback reaches the loop device, and waits there. */
	while (!atomic_load(&in.done) && !(writes = writes_in_flight(self->loop)))
		usleep(1000);
	EXPECT_LT(0, writes);
	EXPECT_FALSE(atomic_load(&in.done));
	/* For as long as it waits, the device owns the file. */
	EXPECT_EQ(1, pft_locked(self->loop));

	EXPECT_EQ(0, ioctl(self->mnt_fd, FITHAW, 0));
	self->frozen = false;
	pthread_join(thread, NULL);
	EXPECT_EQ(0, in.ret);
	/* Once it is done, the file holds everything, and is free. */
	EXPECT_EQ(0, pft_locked(self->loop));
	EXPECT_EQ(-1, pft_file_diff(self->file, self->shadow, FILE_SIZE));
}

TEST_F(own, held_exclusively_needs_force)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	struct pfnl_dev dev = {};
	int excl = pft_open(self->dev.index, O_RDONLY | O_EXCL);

	ASSERT_LE(0, excl);
	EXPECT_EQ(-EBUSY, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_NE(0, ack->msg[0]);
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &dev));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, dev.state);
	EXPECT_EQ(0, pft_inactivate(self->h, self->dev.index, true, &dev));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, dev.state);
	close(excl);
}

TEST_F(own, created_inactive_holds_no_lock_and_refuses_writes)
{
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, pft_drop(self->h, &self->dev, &self->fd));
	ASSERT_EQ(0, make_dev(self, variant->cache_mode, PFLASH_STATE_INACTIVE,
			      &self->dev));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, self->dev.state);
	EXPECT_EQ(0, pft_locked(self->file));
	EXPECT_EQ(-1, pft_open(self->dev.index, O_RDWR));
	EXPECT_EQ(EROFS, errno);
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, &dev));
	EXPECT_EQ(1, pft_locked(self->file));
}

TEST_F(writeback, failed_writeback_keeps_the_device_active)
{
	OWN_SELF *own = &self->own;
	const struct pfnl_ack *ack = pfnl_last_ack(own->h);
	struct pfnl_dev dev = {};

	ASSERT_EQ(0, pft_drop(own->h, &own->dev, &own->fd));
	ASSERT_EQ(0, pft_tmpfs_fill_up(own->dir, own->file, FILE_SIZE,
				       "64k"));
	memset(own->shadow, 0, FILE_SIZE);
	ASSERT_EQ(0, make_dev(own, PFLASH_CACHE_MODE_WRITEBACK,
			      PFLASH_STATE_ACTIVE, &own->dev));
	own->fd = pft_open(own->dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, own->fd);
	ASSERT_EQ(0, write_pattern(own, 0, 128 * 1024, 9));

	EXPECT_EQ(-ENOSPC, pft_inactivate(own->h, own->dev.index, false, NULL));
	EXPECT_NE(0, ack->msg[0]);
	ASSERT_EQ(0, pft_get(own->h, own->dev.index, &dev));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, dev.state);
	EXPECT_EQ(1, pft_locked(own->file));
	EXPECT_EQ(0, write_pattern(own, 131072, 4096, 10));

	ASSERT_EQ(0, pft_tmpfs_resize(own->dir, "16m"));
	ASSERT_EQ(0, pft_inactivate(own->h, own->dev.index, false, NULL));
	ASSERT_EQ(-1, pft_file_diff(own->file, own->shadow, FILE_SIZE));
}

/*
 * A writer keeps rewriting a block with numbered generations while the
 * device is inactivated, and a reader keeps reading: the writer's writes
 * fail from then on, none reaches RAM or the file, the reader is never
 * refused, and after activation the writer's writes succeed again.
 */
TEST_F(own, writer_and_reader_across_an_inactivation)
{
	int report[2], go[2], status, fd;
	uint32_t gen, last = 0, failed = 0;
	uint8_t *expect, *buf;
	pid_t writer;
	char c = 'g';

	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, pipe(go));
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer) {
		uint8_t *blk = pft_alloc(4096);
		uint32_t msg;

		/* Should the test end early, the writer sees the end of go. */
		close(go[1]);
		close(report[0]);
		for (gen = 1; blk; gen++) {
			pft_pattern(blk, 4096, 0, gen);
			if (pft_pwrite_full(self->fd, blk, 4096, 0)) {
				msg = gen | 0x80000000u;
				if (write(report[1], &msg, sizeof(msg)) < 0 ||
				    read(go[0], &c, 1) != 1)
					_exit(1);
				continue;
			}
			msg = gen;
			if (write(report[1], &msg, sizeof(msg)) < 0)
				_exit(1);
		}
		_exit(1);
	}
	close(report[1]);
	close(go[0]);

	/* Let it write a while, then inactivate under it. */
	for (gen = 0; gen < 20 && read(report[0], &last, 4) == 4; gen++)
		;
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	/* Reads never fail meanwhile. */
	fd = pft_open(self->dev.index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	buf = pft_alloc(4096);
	ASSERT_NE(NULL, buf);
	while (read(report[0], &gen, 4) == 4) {
		ASSERT_EQ(0, pft_pread_full(fd, buf, 4096, 0));
		if (gen & 0x80000000u) {
			failed = gen & ~0x80000000u;
			break;
		}
		last = gen;
	}
	ASSERT_EQ(last + 1, failed);
	/* The last good generation is in RAM and in the file; no later. */
	expect = malloc(4096);
	ASSERT_NE(NULL, expect);
	pft_pattern(expect, 4096, 0, last);
	ASSERT_EQ(0, pft_pread_full(fd, buf, 4096, 0));
	EXPECT_EQ(0, memcmp(buf, expect, 4096));
	memcpy(self->shadow, expect, 4096);
	ASSERT_FILE_IS_SHADOW();

	/* Activation lets the writer through again. */
	ASSERT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(4, read(report[0], &gen, 4));
	EXPECT_EQ(failed + 1, gen);
	kill(writer, SIGKILL);
	waitpid(writer, &status, 0);
	close(report[0]);
	close(go[1]);
	close(fd);
	free(buf);
	free(expect);
}

TEST_HARNESS_MAIN
