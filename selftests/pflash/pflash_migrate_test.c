// SPDX-License-Identifier: GPL-2.0
/*
 * Moving a device's state: export, import and the post-import flush,
 * with two devices in one VM standing in for two hosts.  Every scenario
 * checks bytes: the target's contents, and its backing file.
 *
 *  (a) non-shared storage: the target's own, stale file ends up equal to
 *      the source's contents;
 *  (b) shared storage: one file, and the source writes nothing after it
 *      inactivated;
 *  (c) a read-only target and (d) one without a backing file: no flush;
 *  (e) a failed migration: the source carries on and loses nothing;
 *  (f) bad streams, each refused with the device unchanged: cut at every
 *      byte, every byte flipped, records out of order, repeated,
 *      overlapping or beyond the end, and claims of huge sizes.
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
#include <sys/mman.h>

#include "../kselftest_harness.h"
#include "pft_stream.h"

#define SIZE		(256 * 1024)
#define CHUNK		PFLASH_STREAM_CHUNK_MAX

FIXTURE(mig) {
	struct pfnl *h;
	struct pfnl_dev src, dst;
	char dir[64];
	char file_a[96];	/* the source's */
	char file_b[96];	/* the target's own, for non-shared storage */
	uint8_t *shadow;	/* the source's contents */
	uint8_t *stale;		/* file B as it starts */
	struct pft_stream s;
	int fd;
};

/* The fixture's types, for the helpers that take them. */
#define MIG_SELF	FIXTURE_DATA(mig)

/* A device on @path (NULL: none), active or inactive, read-only or not. */
static int make(MIG_SELF *self, const char *path, uint32_t state,
		bool read_only, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	if (read_only)
		pfnl_dev_set(&req, PFLASH_A_DEV_READ_ONLY, 1);
	if (path)
		return pft_create_backed(self->h, path, &req, out);
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, SIZE);
	return pft_create(self->h, &req, out);
}

static int write_at(MIG_SELF *self, uint64_t off, size_t len, uint32_t seed)
{
	return pft_write_pattern(self->fd, self->shadow, off, len, seed, false);
}

/* Give the source data, an erased run and a zero run, then flush. */
static int scribble(MIG_SELF *self, uint32_t seed)
{
	uint64_t erase[2] = { 64 * 1024, 32 * 1024 };
	uint64_t zero[2] = { 160 * 1024, 16 * 1024 };

	if (write_at(self, 0, 20 * 1024, seed) ||
	    write_at(self, 200 * 1024, 8192, seed + 1) ||
	    ioctl(self->fd, BLKDISCARD, erase) ||
	    ioctl(self->fd, BLKZEROOUT, zero) || fsync(self->fd))
		return -EIO;
	memset(self->shadow + erase[0], 0xff, erase[1]);
	memset(self->shadow + zero[0], 0, zero[1]);
	return 0;
}

FIXTURE_SETUP(mig)
{
	self->fd = -1;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16m"));
	snprintf(self->file_a, sizeof(self->file_a), "%s/a.fd", self->dir);
	snprintf(self->file_b, sizeof(self->file_b), "%s/b.fd", self->dir);
	ASSERT_EQ(0, pft_mkfile(self->file_a, SIZE, 1));
	ASSERT_EQ(0, pft_mkfile(self->file_b, SIZE, 2));
	self->shadow = pft_slurp(self->file_a, SIZE);
	self->stale = pft_slurp(self->file_b, SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_NE(NULL, self->stale);
	ASSERT_EQ(0, make(self, self->file_a, PFLASH_STATE_ACTIVE, false,
			  &self->src));
	self->fd = pft_open(self->src.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, scribble(self, 3));
}

FIXTURE_TEARDOWN(mig)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dst.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	if (self->src.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->src.index));
	pft_tmpfs_remove(self->dir);
	pft_stream_free(&self->s);
	free(self->shadow);
	free(self->stale);
	pfnl_close(self->h);
}

/* Compare the first @len bytes of device @index with @expect. */
static long long dev_diff(uint32_t index, const uint8_t *expect)
{
	return pft_dev_diff(index, expect, SIZE);
}

/* The source inactivates and exports its final state into self->s. */
static int source_hands_over(MIG_SELF *self)
{
	int ret = pft_inactivate(self->h, self->src.index, false, NULL);

	return ret ?: pft_export(self->h, self->src.index, &self->s);
}

/*
 * A move to a new target on @path (NULL: no backing file), read-only or
 * not: the target is created inactive, the source hands over, and the
 * target imports the stream in pieces of @chunk bytes.
 */
static int move_to(MIG_SELF *self, const char *path, bool read_only,
		   size_t chunk, struct pfnl_dev *got)
{
	int ret = make(self, path, PFLASH_STATE_INACTIVE, read_only,
		       &self->dst);

	ret = ret ?: source_hands_over(self);
	return ret ?: pft_import(self->h, self->dst.index, self->s.buf,
				 self->s.len, chunk, got);
}

TEST_F(mig, a_non_shared_storage)
{
	struct pfnl_dev got = {};
	struct pflash_stream_end *end;
	long long mtime;

	ASSERT_EQ(0, make(self, self->file_b, PFLASH_STATE_INACTIVE, false,
			  &self->dst));
	ASSERT_EQ(0, source_hands_over(self));
	end = pft_stream_end(&self->s);
	ASSERT_NE(NULL, end);
	EXPECT_TRUE(le32toh(end->flags) & PFLASH_STREAM_END_F_FINAL);
	mtime = pft_mtime(self->file_b);
	pft_past_mtime(mtime);

	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	ASSERT_TRUE(pfnl_dev_has(&got, PFLASH_A_DEV_FLUSH_PENDING));
	EXPECT_TRUE(got.flush_pending);
	EXPECT_EQ(self->src.epoch, got.epoch);
	EXPECT_EQ(0, memcmp(self->src.uuid, got.uuid, PFLASH_UUID_LEN));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));
	/* Importing never touches the backing file. */
	EXPECT_EQ(-1, pft_file_diff(self->file_b, self->stale, SIZE));
	EXPECT_EQ(mtime, pft_mtime(self->file_b));

	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_FALSE(got.flush_pending);
	EXPECT_EQ(-1, pft_file_diff(self->file_b, self->shadow, SIZE));
}

TEST_F(mig, b_shared_storage)
{
	struct pfnl_dev got = {};
	long long handed_over, taken_over;

	ASSERT_EQ(0, make(self, self->file_a, PFLASH_STATE_INACTIVE, false,
			  &self->dst));
	ASSERT_EQ(0, source_hands_over(self));
	handed_over = pft_mtime(self->file_a);
	pft_past_mtime(handed_over);
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	EXPECT_EQ(handed_over, pft_mtime(self->file_a));
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));
	EXPECT_EQ(-1, pft_file_diff(self->file_a, self->shadow, SIZE));

	/* The source, inactive, writes nothing, and cannot take over. */
	taken_over = pft_mtime(self->file_a);
	pft_past_mtime(taken_over);
	EXPECT_EQ(-EPERM, write_at(self, 0, 4096, 9));
	EXPECT_EQ(0, pft_flush(self->h, self->src.index, false));
	EXPECT_EQ(-EBUSY, pft_activate(self->h, self->src.index, -1, NULL));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, pft_destroy(self->h, self->src.index));
	self->src.attrs = 0;
	EXPECT_EQ(taken_over, pft_mtime(self->file_a));
	EXPECT_EQ(-1, pft_file_diff(self->file_a, self->shadow, SIZE));
}

TEST_F(mig, c_read_only_target_is_not_flushed)
{
	struct pfnl_dev got = {};
	long long mtime = pft_mtime(self->file_b);

	pft_past_mtime(mtime);
	ASSERT_EQ(0, move_to(self, self->file_b, true, CHUNK, &got));
	EXPECT_FALSE(got.flush_pending);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));
	EXPECT_EQ(-1, pft_file_diff(self->file_b, self->stale, SIZE));
	EXPECT_EQ(mtime, pft_mtime(self->file_b));
}

TEST_F(mig, d_target_without_backing_file)
{
	struct pfnl_dev got = {};

	ASSERT_EQ(0, move_to(self, NULL, false, CHUNK, &got));
	EXPECT_FALSE(got.flush_pending);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));
}

TEST_F(mig, e_failed_migration_loses_nothing)
{
	struct pfnl_dev got = {};
	long long mtime;

	ASSERT_EQ(0, move_to(self, self->file_b, false, CHUNK, &got));
	mtime = pft_mtime(self->file_b);
	pft_past_mtime(mtime);
	/* The target never activates; the source carries on. */
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, -1, &got));
	EXPECT_EQ(self->src.epoch + 1, got.epoch);
	ASSERT_EQ(0, write_at(self, 100 * 1024, 12288, 10));
	ASSERT_EQ(0, fsync(self->fd));
	EXPECT_EQ(-1, dev_diff(self->src.index, self->shadow));
	EXPECT_EQ(-1, pft_file_diff(self->file_a, self->shadow, SIZE));
	/* The abandoned target goes without writing its file. */
	EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	self->dst.attrs = 0;
	EXPECT_EQ(mtime, pft_mtime(self->file_b));
	EXPECT_EQ(-1, pft_file_diff(self->file_b, self->stale, SIZE));
}

TEST_F(mig, second_import_replaces_the_first_and_owes_one_flush)
{
	struct pfnl_dev got = {}, disk = {};
	struct pft_stream first = {};
	long long before;
	char path[32];

	/*
	 * The target's backing file is a pflash device: its I/O counts.  A
	 * block device keeps no change attribute, so nothing proves that it
	 * still holds what the target loaded: the flush writes it all.
	 */
	ASSERT_EQ(0, make(self, NULL, PFLASH_STATE_ACTIVE, false, &disk));
	pft_path(path, sizeof(path), disk.index);
	ASSERT_EQ(0, make(self, path, PFLASH_STATE_INACTIVE, false,
			  &self->dst));

	ASSERT_EQ(0, pft_export(self->h, self->src.index, &first));
	ASSERT_EQ(0, write_at(self, 4096, 8192, 11));
	ASSERT_EQ(0, source_hands_over(self));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, first.buf, first.len,
				CHUNK, &got));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	EXPECT_TRUE(got.flush_pending);
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));

	before = pft_sectors_written(disk.index);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_FALSE(got.flush_pending);
	EXPECT_EQ(-1, dev_diff(disk.index, self->shadow));
	/* One flush, of the whole device: each sector written once. */
	EXPECT_EQ(SIZE / 512, pft_sectors_written(disk.index) - before);

	EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	self->dst.attrs = 0;
	EXPECT_EQ(0, pft_destroy(self->h, disk.index));
	pft_stream_free(&first);
}

TEST_F(mig, export_of_an_active_device_is_a_snapshot_and_changes_nothing)
{
	struct pfnl_dev before = {}, after = {};
	struct pflash_stream_end *end;
	struct pflash_stream_info *info;
	uint8_t *image = malloc(SIZE);

	ASSERT_NE(NULL, image);
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &before));
	ASSERT_EQ(0, pft_export(self->h, self->src.index, &self->s));
	end = pft_stream_end(&self->s);
	ASSERT_NE(NULL, end);
	EXPECT_FALSE(le32toh(end->flags) & PFLASH_STREAM_END_F_FINAL);
	info = (void *)(self->s.buf + REC_HDR);
	EXPECT_FALSE(le32toh(info->flags) & PFLASH_STREAM_INFO_F_INACTIVE);
	EXPECT_EQ(PFLASH_STREAM_VERSION_MAJOR, le16toh(info->version_major));
	EXPECT_EQ(SIZE, le64toh(info->size));
	ASSERT_EQ(0, pft_stream_decode(&self->s, image, SIZE));
	EXPECT_EQ(0, memcmp(image, self->shadow, SIZE));
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &after));
	EXPECT_EQ(before.state, after.state);
	EXPECT_EQ(before.epoch, after.epoch);
	EXPECT_EQ(before.dirty_bytes, after.dirty_bytes);
	free(image);
}

/* Erased and zero runs cost a record header, whatever their length. */
TEST_F(mig, mostly_erased_device_exports_compactly)
{
	struct pfnl_dev req = {}, big = {};
	uint64_t size = 64ULL << 20, range[2] = { 32ULL << 20, 1 << 20 };
	uint8_t *blk = pft_alloc(4096);
	int fd;

	ASSERT_NE(NULL, blk);
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	ASSERT_EQ(0, pft_create(self->h, &req, &big));
	fd = pft_open(big.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	pft_pattern(blk, 4096, 0, 12);
	ASSERT_EQ(0, pft_pwrite_full(fd, blk, 4096, 1 << 20));
	ASSERT_EQ(0, ioctl(fd, BLKZEROOUT, range));
	close(fd);
	ASSERT_EQ(0, pft_export(self->h, big.index, &self->s));
	EXPECT_LT(self->s.len, size / 100);
	EXPECT_NE(0, pft_rec_find(&self->s, PFLASH_REC_ZERO, 0));
	EXPECT_NE(0, pft_rec_find(&self->s, PFLASH_REC_ERASED, 0));
	EXPECT_EQ(0, pft_destroy(self->h, big.index));
	free(blk);
}

/* Pieces of any size, however they cut the records. */
TEST_F(mig, import_in_small_pieces)
{
	struct pfnl_dev got = {};

	ASSERT_EQ(0, move_to(self, NULL, false, 999, &got));
	EXPECT_TRUE(pfnl_dev_has(&got, PFLASH_A_DEV_FLUSH_PENDING));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));
}

/*
 * The activation's flush fails (the target's file system is full):
 * the target stays inactive, gives up the lock, still owes the flush and
 * keeps the imported contents; once there is room, activation completes.
 */
TEST_F(mig, failed_activation_flush_stays_pending)
{
	struct pfnl_dev got = {};
	char dir[64], path[128];

	/* A sparse file on a tmpfs with room for a sixteenth of it. */
	ASSERT_EQ(0, pft_tmpfs(dir, sizeof(dir), "16m"));
	snprintf(path, sizeof(path), "%s/c.fd", dir);
	ASSERT_EQ(0, pft_tmpfs_fill_up(dir, path, SIZE, "16k"));
	ASSERT_EQ(0, move_to(self, path, false, CHUNK, &got));
	EXPECT_EQ(-ENOSPC, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg,
			       "still owes the flush"));
	ASSERT_EQ(0, pft_get(self->h, self->dst.index, &got));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, got.state);
	EXPECT_TRUE(got.flush_pending);
	EXPECT_EQ(0, pft_locked(path));
	EXPECT_EQ(-1, dev_diff(self->dst.index, self->shadow));

	ASSERT_EQ(0, pft_tmpfs_resize(dir, "16m"));
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, got.state);
	EXPECT_FALSE(got.flush_pending);
	EXPECT_EQ(-1, pft_file_diff(path, self->shadow, SIZE));
	EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	self->dst.attrs = 0;
	pft_tmpfs_remove(dir);
}

/*
 * A stream from a device that was never written is one erased extent: no
 * byte of it comes from memory that the device did not fill.
 */
TEST(new_device_exports_erased)
{
	struct pfnl_dev req = {}, dev = {};
	struct pft_stream s = {};
	struct pflash_stream_rec *rec;
	struct pfnl *h;
	size_t off;

	ASSERT_EQ(0, pfnl_open(&h));
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 1 << 20);
	pfnl_dev_set(&req, PFLASH_A_DEV_ERASE_SIZE, 65536);
	ASSERT_EQ(0, pft_create(h, &req, &dev));
	ASSERT_EQ(0, pft_export(h, dev.index, &s));
	off = pft_rec_next(&s, 0);
	rec = pft_rec(&s, off);
	EXPECT_EQ(PFLASH_REC_ERASED, le16toh(rec->type));
	EXPECT_EQ(0, le64toh(rec->offset));
	EXPECT_EQ(1 << 20, le64toh(rec->length));
	EXPECT_EQ(PFLASH_REC_END, le16toh(pft_rec(&s, pft_rec_next(&s, off))->type));
	EXPECT_EQ(0, pft_destroy(h, dev.index));
	pft_stream_free(&s);
	pfnl_close(h);
}

/*
 * Bad streams: each refused, or never committed; the target unchanged.
 * The stream is small (a device of BAD_SIZE bytes, with every kind of
 * record), so that every byte of it can be cut at and flipped.
 */
#define BAD_SIZE	(16 * 1024)

FIXTURE(bad) {
	struct pfnl *h;
	struct pfnl_dev dst;
	struct pft_stream good;
	uint8_t *before;	/* the target's contents */
	uint64_t epoch;
	char dir[64];
	char file[96];
};

/* The fixture's types, for the helpers that take them. */
#define BAD_SELF	FIXTURE_DATA(bad)

FIXTURE_SETUP(bad)
{
	struct pfnl_dev req = {};

	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "16m"));
	snprintf(self->file, sizeof(self->file), "%s/t.fd", self->dir);
	ASSERT_EQ(0, pft_mkfile(self->file, BAD_SIZE, 40));
	self->before = pft_slurp(self->file, BAD_SIZE);
	ASSERT_NE(NULL, self->before);

	/* A small source with every kind of record. */
	ASSERT_EQ(0, pft_sample_stream(self->h, BAD_SIZE, 512, 41, &self->good));

	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &self->dst));
	self->epoch = self->dst.epoch;
}

FIXTURE_TEARDOWN(bad)
{
	EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	pft_tmpfs_remove(self->dir);
	pft_stream_free(&self->good);
	free(self->before);
	pfnl_close(self->h);
}

/* The target is as it was: contents, epoch, identity, nothing owed. */
static int unchanged(BAD_SELF *self)
{
	struct pfnl_dev now = {};

	if (pft_get(self->h, self->dst.index, &now) || now.flush_pending ||
	    now.epoch != self->epoch ||
	    memcmp(now.uuid, self->dst.uuid, PFLASH_UUID_LEN))
		return 0;
	return pft_dev_diff(self->dst.index, self->before, BAD_SIZE) == -1;
}

/* Import @len bytes of @s; 1 if refused or not committed, 0 if taken. */
static int refused(BAD_SELF *self, const uint8_t *buf, size_t len)
{
	struct pfnl_dev got = {};
	int ret = pft_import(self->h, self->dst.index, buf, len, CHUNK, &got);

	return ret || !got.attrs;
}

/* Copy the good stream, to damage. */
static void copy_good(BAD_SELF *self, struct pft_stream *s)
{
	memset(s, 0, sizeof(*s));
	pft_stream_append(s, self->good.buf, self->good.len);
}

/* Cut at every byte: never committed, and the target unchanged. */
TEST_F(bad, truncated_at_every_byte)
{
	double start = pft_now();
	size_t cut;

	for (cut = 0; cut < self->good.len; cut++) {
		if (!refused(self, self->good.buf, cut) || !unchanged(self)) {
			TH_LOG("cut at byte %zu of %zu", cut, self->good.len);
			EXPECT_TRUE(0);
			break;
		}
	}
	TH_LOG("%zu truncated streams tried in %.1f s", cut,
	       pft_now() - start);
	/* And the whole of it still goes in. */
	EXPECT_FALSE(refused(self, self->good.buf, self->good.len));
}

/* every_byte_flipped's summary: too long to follow TH_LOG( on one line. */
#define FLIPPED_SUMMARY	"%zu damaged streams tried in %.1f s: %zu refused with an error, %zu never completed"

/*
 * Every byte flipped: its lowest bit (the least change: a length or an
 * offset one off, DATA into ERASED, the optional flag) and all its bits.
 * Each damaged stream is refused with an error and a message, or, when
 * the damage makes a record claim more than follows, never completes;
 * either way nothing is committed.  A quarter go in pieces of odd sizes,
 * so that records straddle them.
 */
TEST_F(bad, every_byte_flipped)
{
	static const uint8_t masks[] = { 0x01, 0xff };
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	size_t pos, tried = 0, errors = 0, chunk;
	double start = pft_now();
	struct pft_stream s;
	struct pfnl_dev got;
	unsigned int m;
	int ret;

	copy_good(self, &s);
	for (pos = 0; pos < s.len; pos++) {
		for (m = 0; m < ARRAY_SIZE(masks); m++) {
			chunk = pos % 4 ? CHUNK : 100 + (pos * 131) % 400;
			s.buf[pos] ^= masks[m];
			ret = pft_import(self->h, self->dst.index, s.buf, s.len,
					 chunk, &got);
			s.buf[pos] ^= masks[m];
			tried++;
			if (ret) {
				errors++;
				if (!ack->msg[0]) {
					TH_LOG("byte %zu ^ %#x: error %d without a message",
					       pos, masks[m], ret);
					EXPECT_TRUE(0);
				}
			}
			if ((!ret && got.attrs) || !unchanged(self)) {
				TH_LOG("byte %zu ^ %#x: %s", pos, masks[m],
				       ret || !got.attrs ? "the target changed" :
				       "committed");
				EXPECT_TRUE(0);
				goto out;
			}
		}
	}
out:
	TH_LOG(FLIPPED_SUMMARY, tried, pft_now() - start, errors,
	       tried - errors);
	pft_stream_free(&s);
}

TEST_F(bad, wrong_geometry)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	struct pflash_stream_info *info;
	struct pft_stream s;

	copy_good(self, &s);
	info = (void *)(s.buf + REC_HDR);
	info->size = htole64(2 * BAD_SIZE);
	pft_rec_reseal(&s, 0);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, ack->error);
	EXPECT_NE(0, ack->msg[0]);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	copy_good(self, &s);
	info = (void *)(s.buf + REC_HDR);
	info->erase_size = htole32(8192);
	pft_rec_reseal(&s, 0);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, ack->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);
}

TEST_F(bad, unknown_major_version)
{
	struct pflash_stream_info *info;
	struct pft_stream s;

	copy_good(self, &s);
	info = (void *)(s.buf + REC_HDR);
	info->version_major = htole16(PFLASH_STREAM_VERSION_MAJOR + 1);
	pft_rec_reseal(&s, 0);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EPROTONOSUPPORT, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);
}

/* A newer minor version's longer header is read; its extra is ignored. */
TEST_F(bad, newer_minor_version_is_read)
{
	struct pflash_stream_info *info;
	struct pflash_stream_end *end;
	struct pft_stream s = {};
	size_t hdr_end = pft_rec_next(&self->good, 0);
	uint8_t extra[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pfnl_dev got = {};

	pft_stream_append(&s, self->good.buf, hdr_end);
	pft_stream_append(&s, extra, sizeof(extra));
	pft_stream_append(&s, self->good.buf + hdr_end,
			  self->good.len - hdr_end);
	pft_rec(&s, 0)->len = htole32(le32toh(pft_rec(&s, 0)->len) + 8);
	info = (void *)(s.buf + REC_HDR);
	info->version_minor = htole16(PFLASH_STREAM_VERSION_MINOR + 1);
	pft_rec_reseal(&s, 0);
	end = pft_stream_end(&s);
	end->stream_bytes = htole64(le64toh(end->stream_bytes) + 8);
	pft_rec_reseal(&s, pft_rec_find(&s, PFLASH_REC_END, 0));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, s.buf, s.len, CHUNK,
				&got));
	EXPECT_TRUE(got.flush_pending);
	pft_stream_free(&s);
}

/* Insert a record of type @type (flags @flags) after the header. */
static void insert_record(BAD_SELF *self, struct pft_stream *s,
			  uint16_t type, uint16_t flags)
{
	struct pflash_stream_rec rec = {
		.magic = htole32(PFLASH_STREAM_MAGIC),
		.type = htole16(type),
		.flags = htole16(flags),
		.len = htole32(4),
	};
	uint8_t payload[4] = { 9, 9, 9, 9 };
	size_t hdr_end = pft_rec_next(&self->good, 0);
	struct pflash_stream_end *end;

	memset(s, 0, sizeof(*s));
	pft_stream_append(s, self->good.buf, hdr_end);
	pft_stream_append(s, &rec, sizeof(rec));
	pft_stream_append(s, payload, sizeof(payload));
	pft_stream_append(s, self->good.buf + hdr_end,
			  self->good.len - hdr_end);
	pft_rec_reseal(s, hdr_end);
	end = pft_stream_end(s);
	end->records = htole64(le64toh(end->records) + 1);
	end->stream_bytes = htole64(le64toh(end->stream_bytes) +
				    sizeof(rec) + sizeof(payload));
	pft_rec_reseal(s, pft_rec_find(s, PFLASH_REC_END, 0));
}

TEST_F(bad, unknown_record_types)
{
	struct pfnl_dev got = {};
	struct pft_stream s;

	insert_record(self, &s, 200, 0);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EPROTONOSUPPORT, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	insert_record(self, &s, 200, 1 << 1);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EPROTONOSUPPORT, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	/* An optional one is skipped. */
	insert_record(self, &s, 200, PFLASH_REC_F_OPTIONAL);
	EXPECT_EQ(0, pft_import(self->h, self->dst.index, s.buf, s.len, CHUNK,
				&got));
	EXPECT_TRUE(got.flush_pending);
	pft_stream_free(&s);
}

/* Swap, repeat and stretch extent records. */
TEST_F(bad, records_out_of_order_repeated_or_beyond_the_end)
{
	size_t first = pft_rec_next(&self->good, 0);
	size_t second = pft_rec_next(&self->good, first);
	size_t third = pft_rec_next(&self->good, second);
	struct pft_stream s = {};
	struct pflash_stream_rec *rec;
	size_t last;

	/* Second extent first. */
	pft_stream_append(&s, self->good.buf, first);
	pft_stream_append(&s, self->good.buf + second, third - second);
	pft_stream_append(&s, self->good.buf + first, second - first);
	pft_stream_append(&s, self->good.buf + third, self->good.len - third);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	/* First extent twice. */
	pft_stream_append(&s, self->good.buf, second);
	pft_stream_append(&s, self->good.buf + first, self->good.len - first);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	/* The second extent starts inside the first, or after a gap. */
	copy_good(self, &s);
	rec = pft_rec(&s, second);
	rec->offset = htole64(le64toh(rec->offset) - 512);
	pft_rec_reseal(&s, second);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, pfnl_last_ack(self->h)->error);
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg, "overlaps"));
	EXPECT_TRUE(unchanged(self));
	rec->offset = htole64(le64toh(rec->offset) + 1024);
	pft_rec_reseal(&s, second);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, pfnl_last_ack(self->h)->error);
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg, "gap"));
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	/* The last extent goes beyond the end. */
	copy_good(self, &s);
	last = 0;
	for (size_t off = 0; off < s.len; off = pft_rec_next(&s, off))
		if (le16toh(pft_rec(&s, off)->type) == PFLASH_REC_ERASED)
			last = off;
	ASSERT_NE(0, last);
	rec = pft_rec(&s, last);
	rec->length = htole64(le64toh(rec->length) + 4096);
	pft_rec_reseal(&s, last);
	EXPECT_TRUE(refused(self, s.buf, s.len));
	EXPECT_EQ(EINVAL, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);
}

/* Refused with EINVAL, a message naming @why, and the target unchanged. */
static int refused_for(BAD_SELF *self, const struct pft_stream *s,
		       const char *why)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);

	return refused(self, s->buf, s->len) && ack->error == EINVAL &&
	       strstr(ack->msg, why) && unchanged(self);
}

/*
 * The stream's frame: a second header, a short header, an end before the
 * device is covered, an end whose totals are wrong, bytes after the end.
 */
TEST_F(bad, frame_errors)
{
	size_t first = pft_rec_next(&self->good, 0);
	size_t end = pft_rec_find(&self->good, PFLASH_REC_END, 0);
	struct pflash_stream_end *tot;
	struct pflash_stream_rec hdr;
	struct pft_stream s = {};

	ASSERT_NE(0, end);

	pft_stream_append(&s, self->good.buf, first);
	pft_stream_append(&s, self->good.buf, self->good.len);
	EXPECT_TRUE(refused_for(self, &s, "second header"));
	pft_stream_free(&s);

	/* A header of 16 bytes: shorter than version 1.0's. */
	memcpy(&hdr, self->good.buf, sizeof(hdr));
	hdr.len = htole32(16);
	pft_stream_append(&s, &hdr, sizeof(hdr));
	pft_stream_append(&s, self->good.buf + sizeof(hdr), 16);
	pft_rec_reseal(&s, 0);
	pft_stream_append(&s, self->good.buf + first, self->good.len - first);
	EXPECT_TRUE(refused_for(self, &s, "header is too short"));
	pft_stream_free(&s);

	/* The header, the first extent, the end. */
	pft_stream_append(&s, self->good.buf, pft_rec_next(&self->good, first));
	pft_stream_append(&s, self->good.buf + end, self->good.len - end);
	EXPECT_TRUE(refused_for(self, &s, "before it covers the whole device"));
	pft_stream_free(&s);

	copy_good(self, &s);
	tot = pft_stream_end(&s);
	tot->records = htole64(le64toh(tot->records) + 1);
	pft_rec_reseal(&s, end);
	EXPECT_TRUE(refused_for(self, &s, "totals"));
	pft_stream_free(&s);

	copy_good(self, &s);
	pft_stream_append(&s, self->good.buf + end, self->good.len - end);
	EXPECT_TRUE(refused_for(self, &s, "after the end record"));
	pft_stream_free(&s);
}

/*
 * A stream that claims a huge device, payload or extent is refused from
 * the record header that claims it, before any of what it claims is sent:
 * the kernel allocates only a device's size to stage a stream, after the
 * header matched the device, and buffers no payload but a header's.
 */
TEST_F(bad, huge_claims_are_refused_at_the_record_header)
{
	static const struct {
		uint16_t type, flags;
		uint32_t len;
		uint64_t length;
	} claims[] = {
		{ PFLASH_REC_DATA, 0, UINT32_MAX, UINT32_MAX },
		{ PFLASH_REC_DATA, 0, 512, 1ULL << 40 },
		{ PFLASH_REC_ERASED, 0, 0, 1ULL << 63 },
		{ PFLASH_REC_ZERO, 0, 0, UINT64_MAX },
		{ 200, PFLASH_REC_F_OPTIONAL, UINT32_MAX, 0 },
		{ PFLASH_REC_END, 0, UINT32_MAX, 0 },
	};
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	size_t first = pft_rec_next(&self->good, 0);
	struct pflash_stream_info *info;
	struct pflash_stream_rec rec;
	struct pft_stream s;
	unsigned int i;

	/* The header: a huge device, or a huge header. */
	copy_good(self, &s);
	info = (void *)(s.buf + REC_HDR);
	info->size = htole64(1ULL << 62);
	pft_rec_reseal(&s, 0);
	EXPECT_TRUE(refused(self, s.buf, first));
	EXPECT_EQ(EINVAL, ack->error);
	EXPECT_TRUE(unchanged(self));
	pft_rec(&s, 0)->len = htole32(UINT32_MAX);
	EXPECT_TRUE(refused(self, s.buf, REC_HDR));
	EXPECT_EQ(EINVAL, ack->error);
	EXPECT_TRUE(unchanged(self));
	pft_stream_free(&s);

	/* After a good header, a record header alone. */
	for (i = 0; i < ARRAY_SIZE(claims); i++) {
		memset(&rec, 0, sizeof(rec));
		rec.magic = htole32(PFLASH_STREAM_MAGIC);
		rec.type = htole16(claims[i].type);
		rec.flags = htole16(claims[i].flags);
		rec.len = htole32(claims[i].len);
		rec.length = htole64(claims[i].length);
		memset(&s, 0, sizeof(s));
		pft_stream_append(&s, self->good.buf, first);
		pft_stream_append(&s, &rec, sizeof(rec));
		EXPECT_TRUE(refused(self, s.buf, s.len));
		EXPECT_EQ(EINVAL, ack->error);
		EXPECT_NE(0, ack->msg[0]);
		EXPECT_TRUE(unchanged(self));
		pft_stream_free(&s);
	}
}

TEST_F(bad, stale_epoch)
{
	struct pfnl_dev req = {};

	/* Move the target past the stream's epoch, then try it. */
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, self->dst.index);
	pfnl_dev_set(&req, PFLASH_A_DEV_EPOCH, 5);
	ASSERT_EQ(0, pfnl_dev_do(self->h, PFLASH_CMD_ACTIVATE, &req,
				 NULL));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dst.index, false, NULL));
	self->epoch = 5;
	EXPECT_TRUE(refused(self, self->good.buf, self->good.len));
	EXPECT_EQ(ESTALE, pfnl_last_ack(self->h)->error);
	EXPECT_TRUE(unchanged(self));
}

/*
 * Import @len bytes of @buf through a file descriptor, as pflashctl does;
 * 1 if refused, 0 if committed.
 */
static int refused_fd(BAD_SELF *self, const uint8_t *buf, size_t len)
{
	int fd = memfd_create("bad", MFD_CLOEXEC), ret;
	struct pfnl_dev got = {};

	if (fd < 0 || pft_pwrite_full(fd, buf, len, 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ret = pfnl_import_fd(self->h, self->dst.index, fd, &got);
	close(fd);
	return ret || !got.attrs;
}

/*
 * Whether both ways in refuse @s with @err and a message that has @says
 * in it, leaving the target unchanged.
 */
static bool refused_as(BAD_SELF *self, const struct pft_stream *s,
		       int err, const char *says)
{
	const struct pfnl_ack *ack = pfnl_last_ack(self->h);
	int way;

	for (way = 0; way < 2; way++) {
		int r = way ? refused_fd(self, s->buf, s->len) :
			      refused(self, s->buf, s->len);

		if (r != 1 || ack->error != err || !strstr(ack->msg, says) ||
		    !unchanged(self)) {
			fprintf(stderr, "# %s: refused %d, error %d, \"%s\"; wanted %d, \"%s\"\n",
				way ? "from a file" : "in pieces", r,
				ack->error, ack->msg, err, says);
			return false;
		}
	}
	return true;
}

/* @s with the END record's count of DATA bytes one off, resealed. */
static void bad_totals(const struct pft_stream *from, struct pft_stream *s)
{
	size_t end = pft_rec_find(from, PFLASH_REC_END, 0);
	struct pflash_stream_end *e;

	memset(s, 0, sizeof(*s));
	pft_stream_append(s, from->buf, from->len);
	e = (void *)(s->buf + end + REC_HDR);
	e->data_bytes = htole64(le64toh(e->data_bytes) + 1);
	pft_rec_reseal(s, end);
}

/* @s with a byte of its last DATA payload flipped, not resealed. */
static void bad_crc(const struct pft_stream *from, struct pft_stream *s)
{
	size_t data = pft_rec_find(from, PFLASH_REC_DATA, 0);

	memset(s, 0, sizeof(*s));
	pft_stream_append(s, from->buf, from->len);
	s->buf[data + REC_HDR] ^= 0x40;
}

/*
 * What is wrong with a stream itself is said before what is wrong with it
 * for this device (stream-format.rst, "What a reader checks"): a damaged
 * stream into a device past its epoch is called damaged, not stale, as
 * pflashctl inspect calls it.  Seed 512264239 of the differential test
 * found the kernel saying "stale" of such a stream.
 */
TEST_F(bad, damage_is_named_before_staleness)
{
	struct pfnl_dev req = {};
	struct pft_stream s;

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, self->dst.index);
	pfnl_dev_set(&req, PFLASH_A_DEV_EPOCH, 5);
	ASSERT_EQ(0, pfnl_dev_do(self->h, PFLASH_CMD_ACTIVATE, &req, NULL));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dst.index, false, NULL));
	self->epoch = 5;

	bad_totals(&self->good, &s);
	EXPECT_TRUE(refused_as(self, &s, EINVAL, "totals"));
	pft_stream_free(&s);
	bad_crc(&self->good, &s);
	EXPECT_TRUE(refused_as(self, &s, EBADMSG, "checksum"));
	pft_stream_free(&s);
	/* And the stream as it was is stale. */
	EXPECT_TRUE(refused_as(self, &self->good, ESTALE, "stale"));
}

/*
 * The same for a stream of another geometry: it is read to its end, and
 * called damaged if it is, else refused for its geometry; nothing staged.
 */
TEST_F(bad, damage_is_named_before_the_wrong_geometry)
{
	struct pft_stream other, s;

	ASSERT_EQ(0, pft_sample_stream(self->h, 2 * BAD_SIZE, 512, 42, &other));
	EXPECT_TRUE(refused_as(self, &other, EINVAL, "is not the device's"));
	bad_totals(&other, &s);
	EXPECT_TRUE(refused_as(self, &s, EINVAL, "totals"));
	pft_stream_free(&s);
	bad_crc(&other, &s);
	EXPECT_TRUE(refused_as(self, &s, EBADMSG, "checksum"));
	pft_stream_free(&s);
	pft_stream_free(&other);
}

/* A geometry no device can have is the stream's own fault: at its header. */
TEST_F(bad, impossible_geometry_is_refused_at_the_header)
{
	struct pflash_stream_info *info;
	struct pft_stream s;

	copy_good(self, &s);
	info = (void *)(s.buf + REC_HDR);
	info->erase_size = htole32(3000);
	pft_rec_reseal(&s, 0);
	/* Only the header goes: the refusal needs nothing after it. */
	s.len = pft_rec_next(&s, 0);
	EXPECT_TRUE(refused_as(self, &s, EINVAL, "not one a device can have"));
	pft_stream_free(&s);
}

TEST_F(bad, import_into_an_active_device)
{
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, NULL));
	self->epoch++;
	EXPECT_TRUE(refused(self, self->good.buf, self->good.len));
	EXPECT_EQ(EBUSY, pfnl_last_ack(self->h)->error);
	EXPECT_NE(0, pfnl_last_ack(self->h)->msg[0]);
	ASSERT_EQ(0, pft_inactivate(self->h, self->dst.index, false, NULL));
	EXPECT_TRUE(unchanged(self));
}

/* A piece must continue the import in progress, from the same socket. */
TEST_F(bad, pieces_must_follow_on)
{
	struct pfnl *other;
	size_t half = self->good.len / 2;
	struct pfnl_dev got = {};

	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->good.buf, half,
				half, &got));
	/* From elsewhere in the stream. */
	EXPECT_EQ(-EINVAL, pfnl_import(self->h, self->dst.index, half + 1,
				       self->good.buf + half + 1, 1, &got));

	/* From another socket. */
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->good.buf, half,
				half, &got));
	ASSERT_EQ(0, pfnl_open(&other));
	EXPECT_EQ(-EINVAL, pfnl_import(other, self->dst.index, half,
				       self->good.buf + half,
				       self->good.len - half, &got));
	/* Closing the socket that started one ends it. */
	pfnl_close(self->h);
	ASSERT_EQ(0, pfnl_open(&self->h));
	EXPECT_EQ(-EINVAL, pfnl_import(other, self->dst.index, half,
				       self->good.buf + half,
				       self->good.len - half, &got));
	pfnl_close(other);
	EXPECT_TRUE(unchanged(self));
}

TEST_HARNESS_MAIN
