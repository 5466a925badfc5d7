// SPDX-License-Identifier: GPL-2.0
/*
 * A lost backing file: deleted, replaced by a file renamed over it, or
 * moved, it or a directory above it, under a device that holds it.  The
 * kernel must see it and refuse what would lose data quietly: activation
 * and flush (with an extended-ack message that names the file),
 * inactivation and destruction of a device whose file was deleted, and
 * every writeback into a deleted file.  It shows the file's path as it is
 * now (" (deleted)"), in netlink and sysfs, and announces each change
 * with a uevent.  Also: replies carry the file's identity, as stat(2)
 * gives it, and an export never writes its stream into a store.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define FILE_SIZE	(64 * 1024)
#define BLOCK		4096

FIXTURE(lost) {
	struct pfnl *h;
	struct pfnl_dev dev;
	bool made;
	char dir[64];
	char sub[96];
	char file[128];
	char other[128];
	uint8_t *orig;
	int uevents;
};

#define PFT_FIXTURE lost
#include "pft_cache_modes.h"

/* The fixture's types, for the helpers that take them. */
#define LOST_SELF	FIXTURE_DATA(lost)

/*
 * The next change uevent of device @index that carries
 * PFLASH_BACKING_STATE, within @ms: its state and file, or -ETIMEDOUT.
 */
static int next_backing_uevent(int fd, uint32_t index, int ms,
			       char *state, size_t slen, char *file,
			       size_t flen)
{
	char buf[8192];
	const char *v;
	ssize_t n;

	n = pft_next_uevent(fd, index, "PFLASH_BACKING_STATE", ms, buf,
			    sizeof(buf));
	if (n < 0)
		return n;
	v = pft_uevent_var(buf, n, "PFLASH_BACKING_STATE");
	snprintf(state, slen, "%s", v ? v : "");
	v = pft_uevent_var(buf, n, "PFLASH_BACKING_FILE");
	snprintf(file, flen, "%s", v ? v : "");
	return 0;
}

FIXTURE_SETUP(lost)
{
	struct pfnl_dev req = {};

	self->uevents = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16m"));
	snprintf(self->sub, sizeof(self->sub), "%s/vm", self->dir);
	ASSERT_EQ(0, mkdir(self->sub, 0700));
	snprintf(self->file, sizeof(self->file), "%s/vars.fd", self->sub);
	snprintf(self->other, sizeof(self->other), "%s/other.fd", self->sub);
	ASSERT_EQ(0, pft_mkfile(self->file, FILE_SIZE, 1));
	ASSERT_EQ(0, pft_mkfile(self->other, FILE_SIZE, 2));
	self->orig = pft_slurp(self->file, FILE_SIZE);
	ASSERT_NE(NULL, self->orig);
	self->uevents = pft_uevent_socket();
	ASSERT_LE(0, self->uevents);
	ASSERT_EQ(0, pft_create_in_mode(self->h, self->file, &req,
					variant->cache_mode, &self->dev));
	self->made = true;
}

FIXTURE_TEARDOWN(lost)
{
	if (self->made)
		EXPECT_EQ(0, pft_destroy_force(self->h, self->dev.index));
	if (self->uevents >= 0)
		close(self->uevents);
	pft_tmpfs_remove(self->dir);
	free(self->orig);
	pfnl_close(self->h);
}

/* Write block @blk of the device with pattern @seed, direct and synced. */
static int write_block(uint32_t index, unsigned int blk, uint32_t seed)
{
	uint8_t *buf = pft_alloc(BLOCK);
	int fd = pft_open(index, O_RDWR | O_DIRECT | O_SYNC), ret;

	if (!buf || fd < 0) {
		ret = -errno;
	} else {
		pft_pattern(buf, BLOCK, (uint64_t)blk * BLOCK, seed);
		ret = pft_pwrite_full(fd, buf, BLOCK, (off_t)blk * BLOCK);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* The device's backing path, as netlink and sysfs give it: they agree. */
static void expect_backing_path(struct __test_metadata *_metadata,
				LOST_SELF *self, const char *want)
{
	char path[128], line[PFLASH_BACKING_PATH_MAX + 2] = "";
	struct pfnl_dev got;
	FILE *f;

	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &got));
	EXPECT_STREQ(want, got.backing_path);
	snprintf(path, sizeof(path), "/sys/block/pflash%u/pflash/backing_file",
		 self->dev.index);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	EXPECT_STREQ(want, line);
}

/* The last refusal's message names the file and says @what. */
static void expect_refusal(struct __test_metadata *_metadata,
			   LOST_SELF *self, const char *what)
{
	const char *msg = pfnl_last_ack(self->h)->msg;

	EXPECT_NE(NULL, strstr(msg, self->file)) TH_LOG("message: %s", msg);
	EXPECT_NE(NULL, strstr(msg, what)) TH_LOG("message: %s", msg);
}

/*
 * The next backing-file uevent of the device says @state, and names @file
 * (as backing_file shows it).  @ms: announced by a control operation, it
 * came before its answer; a writeback pass's comes from a work item.
 */
static void expect_uevent(struct __test_metadata *_metadata,
			  LOST_SELF *self, int ms, const char *state,
			  const char *file)
{
	char got_state[32], got_file[PFLASH_BACKING_PATH_MAX + 32];

	ASSERT_EQ(0, next_backing_uevent(self->uevents, self->dev.index, ms,
					 got_state, sizeof(got_state),
					 got_file, sizeof(got_file)))
		TH_LOG("no uevent says the backing file is %s", state);
	EXPECT_STREQ(state, got_state);
	EXPECT_STREQ(file, got_file);
}

static void expect_no_uevent(struct __test_metadata *_metadata,
			     LOST_SELF *self)
{
	char state[32], file[PFLASH_BACKING_PATH_MAX + 32];

	EXPECT_EQ(-ETIMEDOUT,
		  next_backing_uevent(self->uevents, self->dev.index, 200,
				      state, sizeof(state), file,
				      sizeof(file)))
		TH_LOG("unexpected uevent: %s %s", state, file);
}

/* @path as the kernel shows it once the file is deleted. */
static char *as_deleted(const char *path)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s (deleted)", path);
	return buf;
}

TEST_F(lost, identity_is_what_stat_gives)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->file, &st));
	ASSERT_TRUE(pfnl_dev_has(&self->dev, PFLASH_A_DEV_BACKING_DEV));
	ASSERT_TRUE(pfnl_dev_has(&self->dev, PFLASH_A_DEV_BACKING_INO));
	EXPECT_EQ((uint64_t)st.st_dev, self->dev.backing_dev);
	EXPECT_EQ((uint64_t)st.st_ino, self->dev.backing_ino);
	expect_backing_path(_metadata, self, self->file);
}

/* Deleted while inactive: activation is refused, and nothing changes. */
TEST_F(lost, deleted_refused_at_activation)
{
	struct pfnl_dev got;

	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_EQ(0, unlink(self->file));
	EXPECT_EQ(-ENOENT, pft_activate(self->h, self->dev.index, -1, &got));
	expect_refusal(_metadata, self, "was deleted");
	expect_uevent(_metadata, self, 1000, "deleted",
		      as_deleted(self->file));
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &got));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, got.state);
	EXPECT_EQ(0, pft_locked(self->other));
	expect_backing_path(_metadata, self, as_deleted(self->file));
	EXPECT_EQ(-1, pft_dev_diff(self->dev.index, self->orig, FILE_SIZE));
	/* Seen once, announced once. */
	EXPECT_EQ(-ENOENT, pft_activate(self->h, self->dev.index, -1, &got));
	expect_no_uevent(_metadata, self);
}

/* Deleted while active: flush is refused, and the data stays dirty. */
TEST_F(lost, deleted_refused_at_flush)
{
	int fd = open(self->file, O_RDONLY);
	struct pfnl_dev got;
	uint8_t *now;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unlink(self->file));
	EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, false));
	expect_refusal(_metadata, self, "was deleted");
	expect_uevent(_metadata, self, 1000, "deleted",
		      as_deleted(self->file));
	EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, true));
	expect_refusal(_metadata, self, "was deleted");

	/*
	 * A write: in writethrough mode it fails, in writeback mode it is
	 * dirty, and a flush of it fails.  Either way the deleted file,
	 * which this test still holds open, gets nothing.
	 */
	if (variant->cache_mode == PFLASH_CACHE_MODE_WRITETHROUGH) {
		EXPECT_EQ(-EIO, write_block(self->dev.index, 3, 9));
	} else {
		int dfd = pft_open(self->dev.index, O_RDWR | O_DIRECT);
		uint8_t *buf = pft_alloc(BLOCK);

		ASSERT_LE(0, dfd);
		pft_pattern(buf, BLOCK, 3 * BLOCK, 9);
		EXPECT_EQ(0, pft_pwrite_full(dfd, buf, BLOCK, 3 * BLOCK));
		EXPECT_NE(0, fsync(dfd));
		close(dfd);
		free(buf);
		EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, false));
	}
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &got));
	EXPECT_EQ(BLOCK, got.dirty_bytes);
	EXPECT_EQ(ENOENT, got.writeback_error);
	now = malloc(FILE_SIZE);
	ASSERT_NE(NULL, now);
	EXPECT_EQ(0, pft_pread_full(fd, now, FILE_SIZE, 0));
	EXPECT_EQ(0, memcmp(now, self->orig, FILE_SIZE));
	free(now);
	close(fd);
}

/* Deleted: inactivation is refused, the device stays active. */
TEST_F(lost, deleted_refused_at_inactivation)
{
	struct pfnl_dev got;

	ASSERT_EQ(0, unlink(self->file));
	EXPECT_EQ(-ENOENT, pft_inactivate(self->h, self->dev.index, false,
					  NULL));
	expect_refusal(_metadata, self, "was deleted");
	ASSERT_EQ(0, pft_get(self->h, self->dev.index, &got));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, got.state);
	EXPECT_EQ(-ENOENT, pft_inactivate(self->h, self->dev.index, true,
					  NULL));
}

/* Deleted: destroy is refused unless forced; the contents are in memory. */
TEST_F(lost, deleted_refused_at_destroy_unless_forced)
{
	struct pfnl_dev got;

	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	ASSERT_EQ(0, unlink(self->file));
	EXPECT_EQ(-ENOENT, pft_destroy(self->h, self->dev.index));
	expect_refusal(_metadata, self, "was deleted");
	EXPECT_EQ(0, pft_get(self->h, self->dev.index, &got));
	EXPECT_EQ(0, pft_destroy_force(self->h, self->dev.index));
	self->made = false;
	EXPECT_EQ(-ENODEV, pft_get(self->h, self->dev.index, &got));
}

/*
 * Replaced: another file renamed over it, as `export -o` did.  The path
 * names the new file, which the device never writes; activation and flush
 * are refused.
 */
TEST_F(lost, replaced_refused_and_the_new_file_untouched)
{
	uint8_t *other = pft_slurp(self->other, FILE_SIZE);

	ASSERT_NE(NULL, other);
	ASSERT_EQ(0, rename(self->other, self->file));
	EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, true));
	expect_refusal(_metadata, self, "was deleted, or replaced");
	expect_uevent(_metadata, self, 1000, "deleted",
		      as_deleted(self->file));
	EXPECT_EQ(-ENOENT, pft_inactivate(self->h, self->dev.index, false,
					  NULL));
	EXPECT_EQ(-1, pft_file_diff(self->file, other, FILE_SIZE));
	expect_backing_path(_metadata, self, as_deleted(self->file));
	free(other);
}

/* Moved, then moved back: refused while moved, and fine again after. */
TEST_F(lost, moved_refused_then_moved_back)
{
	char moved[160];

	snprintf(moved, sizeof(moved), "%s/moved.fd", self->dir);
	ASSERT_EQ(0, rename(self->file, moved));
	EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, false));
	expect_refusal(_metadata, self, "was moved");
	expect_uevent(_metadata, self, 1000, "moved", moved);
	expect_backing_path(_metadata, self, moved);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dev.index, false, NULL));
	EXPECT_EQ(-ENOENT, pft_activate(self->h, self->dev.index, -1, NULL));
	expect_refusal(_metadata, self, "was moved");

	ASSERT_EQ(0, rename(moved, self->file));
	EXPECT_EQ(0, pft_activate(self->h, self->dev.index, -1, NULL));
	expect_uevent(_metadata, self, 1000, "ok", self->file);
	EXPECT_EQ(0, pft_flush(self->h, self->dev.index, true));
	expect_backing_path(_metadata, self, self->file);
}

/* A directory above it renamed: the path names nothing; refused. */
TEST_F(lost, directory_above_moved_refused)
{
	char sub2[128], now[192];

	snprintf(sub2, sizeof(sub2), "%s/vm2", self->dir);
	snprintf(now, sizeof(now), "%s/vars.fd", sub2);
	ASSERT_EQ(0, rename(self->sub, sub2));
	EXPECT_EQ(-ENOENT, pft_flush(self->h, self->dev.index, false));
	expect_refusal(_metadata, self, "was moved");
	expect_uevent(_metadata, self, 1000, "moved", now);
	ASSERT_EQ(0, rename(sub2, self->sub));
	EXPECT_EQ(0, pft_flush(self->h, self->dev.index, false));
}

/*
 * A writeback pass that finds the file deleted announces it, from a work
 * item: no control operation is asked.
 */
TEST_F(lost, writeback_pass_announces_a_deleted_file)
{
	int dfd;

	ASSERT_EQ(0, unlink(self->file));
	dfd = pft_open(self->dev.index, O_RDWR);
	ASSERT_LE(0, dfd);
	/* A write and an fsync: the pass runs in either mode. */
	EXPECT_EQ(1, pwrite(dfd, "x", 1, 0));
	EXPECT_NE(0, fsync(dfd));
	close(dfd);
	expect_uevent(_metadata, self, 60000, "deleted", as_deleted(self->file));
}

/* An export's stream never goes into a backing file, nor a block device. */
TEST_F(lost, export_never_into_a_store)
{
	struct pfnl_dev other = {}, reply;
	char alias[160], node[32];
	int fd;

	/* Another device's backing file, through a hard link. */
	ASSERT_EQ(0, pft_create_backed(self->h, self->other, &other, &other));
	snprintf(alias, sizeof(alias), "%s/link.fd", self->dir);
	ASSERT_EQ(0, link(self->other, alias));
	fd = open(alias, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, pfnl_export_fd(self->h, self->dev.index, fd,
					 &reply));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg,
			       "backing file of a pflash device"));
	/* Its own. */
	close(fd);
	fd = open(self->file, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, pfnl_export_fd(self->h, self->dev.index, fd,
					 &reply));
	close(fd);
	EXPECT_EQ(-1, pft_file_diff(self->file, self->orig, FILE_SIZE));
	/* A block device: the other pflash device. */
	pft_path(node, sizeof(node), other.index);
	fd = open(node, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, pfnl_export_fd(self->h, self->dev.index, fd,
					  &reply));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg, "import it"));
	close(fd);
	EXPECT_EQ(0, pft_destroy(self->h, other.index));
}

/*
 * A block device as backing file is never lost: its node going takes
 * nothing away.  A node of the same device, made in the scratch
 * directory, is the backing file, and is deleted.
 */
TEST(block_device_backing_is_never_lost)
{
	struct pfnl_dev lower = {}, upper = {}, req = {};
	char dir[64], node[96], lower_node[32];
	struct stat st;
	struct pfnl *h;

	ASSERT_EQ(0, pfnl_open(&h));
	ASSERT_EQ(0, pft_tmpfs(dir, sizeof(dir), "1m"));
	ASSERT_EQ(0, pft_create_simple(h, FILE_SIZE, 512, 4096, &lower));
	pft_path(lower_node, sizeof(lower_node), lower.index);
	ASSERT_EQ(0, stat(lower_node, &st));
	snprintf(node, sizeof(node), "%s/node", dir);
	ASSERT_EQ(0, mknod(node, S_IFBLK | 0600, st.st_rdev));
	ASSERT_EQ(0, pft_create_backed(h, node, &req, &upper));
	ASSERT_EQ(0, unlink(node));
	EXPECT_EQ(0, write_block(upper.index, 1, 5));
	EXPECT_EQ(0, pft_flush(h, upper.index, true));
	EXPECT_EQ(0, pft_inactivate(h, upper.index, false, NULL));
	EXPECT_EQ(0, pft_activate(h, upper.index, -1, NULL));
	EXPECT_EQ(0, pft_destroy(h, upper.index));
	EXPECT_EQ(0, pft_destroy(h, lower.index));
	pft_tmpfs_remove(dir);
	pfnl_close(h);
}

TEST_HARNESS_MAIN
