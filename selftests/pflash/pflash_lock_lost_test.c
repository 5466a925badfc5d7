// SPDX-License-Identifier: GPL-2.0
/*
 * A backing file's lock lost to another owner, as on a network filesystem
 * when the host was cut off for longer than its lease (owner.c, "lose"):
 * the device turns "lost", says so (state, writeback error, uevent), never
 * writes its file again, refuses activation, inactivation, flush and
 * import with ENOLCK, holds no lock, and is destroyed only with force
 * while it holds writes its file never got; then a device created again
 * from the file holds the file.
 *
 * No local filesystem loses a lock: the kernel's fault fail_pflash_lock
 * makes the next writeback pass fail with EIO and its look at the lock
 * find another owner.  It exists only on kernels with fault injection in
 * debugfs (the debug kernel); this test skips elsewhere.  Shared storage
 * over NFS, where a lock is really lost, is tools/check/nfs.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define FAULT		"/sys/kernel/debug/fail_pflash_lock"
#define FILE_SIZE	(64 * 1024)
#define BLOCK		4096
/* How long the work item that turns the device lost may take, at most. */
#define LOST_MS		60000

FIXTURE(lock_lost) {
	struct pfnl *h;
	struct pfnl_dev dev;
	bool made;
	char dir[64];
	char file[96];
	uint8_t *orig;
	int uevents;
};

#define PFT_FIXTURE lock_lost
#include "pft_cache_modes.h"

/* The fixture's types, for the helpers that take them. */
#define LOCK_LOST_SELF	FIXTURE_DATA(lock_lost)

static int fault_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAULT "/%s", name);
	return pft_write_str(path, val);
}

/* The next writeback pass of any device fails, and finds the lock lost. */
static int fault_arm(void)
{
	return fault_set("probability", "0") ?:
	       fault_set("task-filter", "N") ?:
	       fault_set("verbose", "0") ?:
	       fault_set("space", "0") ?:
	       fault_set("interval", "1") ?:
	       fault_set("times", "1") ?:
	       fault_set("probability", "100");
}

FIXTURE_SETUP(lock_lost)
{
	struct pfnl_dev req = {};

	self->uevents = -1;
	if (access(FAULT, F_OK))
		SKIP(return,
		     "no %s: a kernel without fault injection in debugfs (only the debug kernel has it)",
		     FAULT);
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_scratch_vars(self->dir, sizeof(self->dir), "16m",
				      self->file, sizeof(self->file), FILE_SIZE,
				      &self->orig));
	self->uevents = pft_uevent_socket();
	ASSERT_LE(0, self->uevents);
	ASSERT_EQ(0, pft_create_in_mode(self->h, self->file, &req,
					variant->cache_mode, &self->dev));
	self->made = true;
}

FIXTURE_TEARDOWN(lock_lost)
{
	fault_set("probability", "0");
	if (self->made)
		EXPECT_EQ(0, pft_destroy_force(self->h, self->dev.index));
	if (self->uevents >= 0)
		close(self->uevents);
	if (self->h) {
		pft_tmpfs_remove(self->dir);
		free(self->orig);
		pfnl_close(self->h);
	}
}

/*
 * Write block @blk with pattern @seed, direct, and flush it: 0 if both
 * succeeded, else the first error.
 */
static int write_flushed(uint32_t index, unsigned int blk, uint32_t seed)
{
	uint8_t *buf = pft_alloc(BLOCK);
	int fd = pft_open(index, O_RDWR | O_DIRECT), ret;

	if (!buf || fd < 0) {
		ret = -errno;
	} else {
		pft_pattern(buf, BLOCK, (uint64_t)blk * BLOCK, seed);
		ret = pft_pwrite_full(fd, buf, BLOCK, (off_t)blk * BLOCK);
		if (!ret && fsync(fd))
			ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* The next change uevent of the device with PFLASH_STATE=@want, in @ms. */
static int state_uevent(LOCK_LOST_SELF *self, const char *want, int ms)
{
	double end = pft_now() + ms / 1000.0;
	char buf[8192];
	const char *v;
	ssize_t n;

	while (pft_now() < end) {
		n = pft_next_uevent(self->uevents, self->dev.index,
				    "PFLASH_STATE",
				    (int)((end - pft_now()) * 1000) + 1, buf,
				    sizeof(buf));
		if (n < 0)
			return n;
		v = pft_uevent_var(buf, n, "PFLASH_STATE");
		if (v && !strcmp(v, want))
			return 0;
	}
	return -ETIMEDOUT;
}

/* The last refusal was ENOLCK's, and its message says @what. */
static void expect_refused(struct __test_metadata *_metadata,
			   LOCK_LOST_SELF *self, int ret,
			   const char *what)
{
	const char *msg = pfnl_last_ack(self->h)->msg;

	EXPECT_EQ(-ENOLCK, ret);
	EXPECT_NE(NULL, strstr(msg, what)) TH_LOG("message: %s", msg);
}

static void sysfs_state(uint32_t index, char *buf, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/pflash%u/pflash/state", index);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

TEST_F(lock_lost, seen_said_and_never_written)
{
	const char *lost = "lost its backing file's lock";
	uint32_t index = self->dev.index;
	struct pfnl_dev got, req = {};
	uint8_t piece[16] = "";
	char state[32];
	int ret, wfd;

	if (pft_setup_skipped(_metadata))
		return;
	/* Before the fault, a write reaches the file. */
	ASSERT_EQ(0, write_flushed(index, 1, 5));
	pft_pattern(self->orig + BLOCK, BLOCK, BLOCK, 5);
	ASSERT_EQ(-1, pft_file_diff(self->file, self->orig, FILE_SIZE));

	/* A writer that opened it before, through the page cache. */
	wfd = pft_open(index, O_RDWR);
	ASSERT_LE(0, wfd);

	ASSERT_EQ(0, fault_arm());
	ret = write_flushed(index, 2, 6);
	fault_set("probability", "0");
	EXPECT_EQ(-EIO, ret);
	ASSERT_EQ(0, state_uevent(self, "lost", LOST_MS));

	ASSERT_EQ(0, pft_get(self->h, index, &got));
	EXPECT_EQ(PFLASH_STATE_LOST, got.state);
	EXPECT_EQ(EIO, got.writeback_error);
	EXPECT_EQ(BLOCK, got.dirty_bytes);
	sysfs_state(index, state, sizeof(state));
	EXPECT_STREQ("lost", state);
	/* It let go of its lock, and wrote nothing more. */
	EXPECT_EQ(0, pft_locked(self->file));
	EXPECT_EQ(-1, pft_file_diff(self->file, self->orig, FILE_SIZE));
	/* Its writes fail; its reads are its own contents. */
	EXPECT_NE(0, write_flushed(index, 3, 7));
	/*
	 * Its disk is read-only, as an inactive one's: the writer's write()
	 * fails at once, not in the page cache's writeback.
	 */
	EXPECT_EQ(1, pft_sysfs(index, "ro"));
	EXPECT_EQ(-1, pwrite(wfd, piece, sizeof(piece), 0));
	EXPECT_EQ(EPERM, errno);
	close(wfd);

	expect_refused(_metadata, self, pft_flush(self->h, index, false), lost);
	expect_refused(_metadata, self, pft_activate(self->h, index, -1, NULL),
		       lost);
	expect_refused(_metadata, self,
		       pft_inactivate(self->h, index, false, NULL), lost);
	expect_refused(_metadata, self,
		       pfnl_import(self->h, index, 0, piece, sizeof(piece),
				   &got),
		       lost);
	/* It does not retry: a flush does not even reach a pass. */
	ASSERT_EQ(0, pft_get(self->h, index, &got));
	EXPECT_EQ(PFLASH_STATE_LOST, got.state);
	EXPECT_EQ(BLOCK, got.dirty_bytes);

	/* The way back: destroy (with force: it holds a write), create. */
	expect_refused(_metadata, self, pft_destroy(self->h, index),
		       "writes its file never got");
	ASSERT_EQ(0, pft_destroy_force(self->h, index));
	self->made = false;
	EXPECT_EQ(-1, pft_file_diff(self->file, self->orig, FILE_SIZE));
	memset(&req, 0, sizeof(req));
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, variant->cache_mode);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &self->dev));
	self->made = true;
	EXPECT_EQ(PFLASH_STATE_ACTIVE, self->dev.state);
	EXPECT_EQ(-1, pft_dev_diff(self->dev.index, self->orig, FILE_SIZE));
}

TEST_HARNESS_MAIN
