// SPDX-License-Identifier: GPL-2.0
/*
 * Live exports (PFLASH_A_DEV_LIVE): a move whose downtime follows what
 * changed.  Each test asserts the bytes of the devices and of their files,
 * and their states, after:
 *
 *  - a 64 MiB device moves while a writer changes it throughout (make
 *    bench measures larger moves; under TCG each takes minutes), in both
 *    cache modes, piped from the passes into an import, as pflashctl does:
 *    the target's device and file, and the source's file, are the
 *    source's final contents;
 *  - a pass sends what was written since the pass before began, and
 *    neither reads nor clears the writeback's dirty bits;
 *  - the pipe breaks while the source is active (it runs on, unchanged,
 *    and a retry starts at pass 0), or once it is inactive (it rolls back
 *    with an activation at a higher epoch, or the move is retried); the
 *    target dies mid-stream (it is unchanged); a writer outpaces the
 *    passes (the move is right, whichever ends the passes); the source
 *    is destroyed during a pass or between two;
 *  - one socket drives a device's live export: another is refused until
 *    it closes; passes out of order, a final pass of an active device and
 *    live attributes out of place are refused; an import into the device
 *    ends its live export.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <endian.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pft_job.h"
#include "pft_stream.h"

#define MOVE_SIZE	(64u << 20)
#define SMALL_SIZE	(4u << 20)
#define WRITE_SIZE	4096u
/* --max-final 1M (pflashctl's default is 64K), --max-passes 8. */
#define MAX_FINAL	(1024u * 1024)
#define MAX_PASSES	8u

/*
 * A writer, as a guest's: direct writes of WRITE_SIZE at random places of
 * device @index, @rate_kib KiB a second (0: as fast as it can), until
 * told to stop.  Writes refused because the device went inactive (EPERM,
 * by the read-only disk, or EIO, for a write the inactivation held back)
 * are counted, and tried again a little later.
 */
struct writer {
	uint32_t index;
	uint64_t size;
	unsigned int rate_kib;
	unsigned int seed;
	atomic_bool stop;
	uint64_t writes;
	uint64_t refused;
	int error;
	pthread_t thread;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = pft_alloc(WRITE_SIZE);
	int fd = pft_open(w->index, O_RDWR | O_DIRECT);
	useconds_t pause = 0;
	uint64_t off;

	if (w->rate_kib)
		pause = 1000000ull * (WRITE_SIZE / 1024) / w->rate_kib;
	if (!buf || fd < 0) {
		w->error = buf ? errno : ENOMEM;
		goto out;
	}
	while (!atomic_load(&w->stop)) {
		off = (uint64_t)(rand_r(&w->seed) % (w->size / WRITE_SIZE)) *
		      WRITE_SIZE;
		pft_pattern(buf, WRITE_SIZE, off, w->writes + 100);
		if (pwrite(fd, buf, WRITE_SIZE, off) == WRITE_SIZE) {
			__atomic_add_fetch(&w->writes, 1, __ATOMIC_RELAXED);
		} else if (errno == EPERM || errno == EIO) {
			w->refused++;
			usleep(1000);
			continue;
		} else {
			__atomic_store_n(&w->error, errno, __ATOMIC_RELAXED);
			break;
		}
		if (pause)
			usleep(pause);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int writer_start(struct writer *w, uint32_t index, uint64_t size,
			unsigned int rate_kib)
{
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->size = size;
	w->rate_kib = rate_kib;
	w->seed = index * 7919 + 1;
	return pthread_create(&w->thread, NULL, writer_run, w);
}

static void writer_stop(struct writer *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
}

/* The writes @w has made so far. */
static uint64_t writer_writes(struct writer *w)
{
	return __atomic_load_n(&w->writes, __ATOMIC_RELAXED);
}

/*
 * Wait until @w has made @n writes in all, or has failed: whether it made
 * them.  Its progress, not the clock, says when a test goes on.
 */
static bool writer_reaches(struct writer *w, uint64_t n)
{
	while (writer_writes(w) < n &&
	       !__atomic_load_n(&w->error, __ATOMIC_RELAXED))
		usleep(1000);
	return writer_writes(w) >= n;
}

/* What a live export did. */
struct live_move {
	unsigned int passes;	/* written, the final one included */
	uint64_t bytes;		/* of the stream */
	uint64_t first_bytes;	/* of pass 0 */
	bool limit;		/* the pass limit ended the passes */
	uint64_t writes_first;	/* the writer's, once pass 0 had ended */
	uint64_t writes_active;	/* the writer's, at the inactivation */
};

/*
 * A live export of @src into @fd, driven as pflashctl drives it: passes
 * while the device is active until what they leave is at most @max_final
 * or the next would be the last of @max_passes, then inactivation, then
 * the final pass.  With writer @w, the inactivation waits until @w has
 * made two writes since pass 0 ended (the first may have begun before),
 * so that the passes after pass 0 have a write to carry, however fast
 * they are.  0, or the first error.
 */
static int live_export_writing(struct pfnl *h, uint32_t src, int fd,
			       uint64_t max_final, unsigned int max_passes,
			       struct writer *w, struct live_move *m)
{
	struct pfnl_dev r;
	int ret;

	memset(m, 0, sizeof(*m));
	for (;;) {
		ret = pfnl_export_pass(h, src, fd, m->passes, false, &r);
		if (ret)
			return ret;
		if (r.live_pass != m->passes || r.stream_final)
			return -EPROTO;
		if (!m->passes) {
			m->first_bytes = r.stream_bytes;
			m->writes_first = w ? writer_writes(w) : 0;
		}
		m->passes++;
		m->bytes += r.stream_bytes;
		if (r.live_pending <= max_final)
			break;
		if (m->passes + 1 >= max_passes) {
			m->limit = true;
			break;
		}
	}
	if (w) {
		writer_reaches(w, m->writes_first + 2);
		m->writes_active = writer_writes(w);
	}
	ret = pft_inactivate(h, src, false, NULL);
	if (!ret)
		ret = pfnl_export_pass(h, src, fd, m->passes, true, &r);
	if (!ret && (r.live_pass != m->passes || !r.stream_final))
		ret = -EPROTO;
	if (!ret) {
		m->passes++;
		m->bytes += r.stream_bytes;
	}
	return ret;
}

/* A live export with no writer to wait for: see live_export_writing(). */
static int live_export(struct pfnl *h, uint32_t src, int fd,
		       uint64_t max_final, unsigned int max_passes,
		       struct live_move *m)
{
	return live_export_writing(h, src, fd, max_final, max_passes, NULL,
				   m);
}

/*
 * What @m says of a move under writer @w: the writer wrote while the
 * source was active, after pass 0, and the passes after pass 0 carried
 * those writes.
 */
static void expect_carried(struct __test_metadata *_metadata,
			   const struct live_move *m)
{
	EXPECT_LE(m->writes_first + 2, m->writes_active);
	EXPECT_LE(WRITE_SIZE, m->bytes - m->first_bytes);
}

/* The @len bytes of device @index, read direct, in a new buffer. */
static uint8_t *dev_slurp(uint32_t index, size_t len)
{
	uint8_t *buf = pft_alloc(len);
	int fd = pft_open(index, O_RDONLY | O_DIRECT);

	if (fd < 0 || !buf || pft_pread_full(fd, buf, len, 0)) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* A device of @size backed by file @path, in @mode, and @state. */
static int create_backed(struct pfnl *h, const char *path, uint64_t size,
			 uint32_t mode, uint32_t state, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, mode);
	if (mode == PFLASH_CACHE_MODE_WRITEBACK)	/* flushed when told */
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, 0);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	return pft_create_backed(h, path, &req, out);
}

/* The large move, in each cache mode. */
FIXTURE(move) {
	struct pfnl *h;
	struct pfnl_dev src, dst;
	char dir[64], src_path[96], dst_path[96];
};

#define PFT_FIXTURE move
#include "pft_cache_modes.h"

FIXTURE_SETUP(move)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "160m"));
	snprintf(self->src_path, sizeof(self->src_path), "%s/src.img",
		 self->dir);
	snprintf(self->dst_path, sizeof(self->dst_path), "%s/dst.img",
		 self->dir);
	ASSERT_EQ(0, pft_mkfile(self->src_path, MOVE_SIZE, 3));
	ASSERT_EQ(0, pft_mkfile(self->dst_path, MOVE_SIZE, 0));
	ASSERT_EQ(0, create_backed(self->h, self->src_path, MOVE_SIZE,
				   variant->cache_mode, PFLASH_STATE_ACTIVE,
				   &self->src));
	ASSERT_EQ(0, create_backed(self->h, self->dst_path, MOVE_SIZE,
				   variant->cache_mode, PFLASH_STATE_INACTIVE,
				   &self->dst));
}

FIXTURE_TEARDOWN(move)
{
	if (self->src.attrs)
		pft_destroy(self->h, self->src.index);
	if (self->dst.attrs)
		pft_destroy(self->h, self->dst.index);
	pft_tmpfs_remove(self->dir);
	pfnl_close(self->h);
}

/* What the large move did, in its log. */
#define MOVE_LOG \
	"passes %u in %.1f s, stream %llu bytes (%llu after pass 0), writes %llu (%llu after pass 0 while active, %llu refused)"

TEST_F_TIMEOUT(move, a_large_device_moves_with_a_writer_running_throughout,
	       1200)
{
	struct pfnl_dev got = {};
	double start = pft_now();
	struct live_move m;
	struct writer w;
	uint8_t *final;
	struct pft_job im;
	int p[2], ret;

	ASSERT_EQ(0, writer_start(&w, self->src.index, MOVE_SIZE, 1024));
	ASSERT_TRUE(writer_reaches(&w, 1)) TH_LOG("writer: %d", w.error);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	ret = live_export_writing(self->h, self->src.index, p[1], MAX_FINAL,
				  MAX_PASSES, &w, &m);
	writer_stop(&w);
	close(p[1]);
	pthread_join(im.thread, NULL);
	close(p[0]);
	ASSERT_EQ(0, ret) TH_LOG("export: %s", pfnl_last_ack(self->h)->msg);
	ASSERT_EQ(0, im.ret) TH_LOG("import: %s", im.msg);
	ASSERT_EQ(0, w.error);
	TH_LOG(MOVE_LOG, m.passes, pft_now() - start,
	       (unsigned long long)m.bytes,
	       (unsigned long long)(m.bytes - m.first_bytes),
	       (unsigned long long)w.writes,
	       (unsigned long long)(m.writes_active - m.writes_first),
	       (unsigned long long)w.refused);
	expect_carried(_metadata, &m);
	EXPECT_EQ(m.bytes, im.reply.stream_bytes);
	EXPECT_TRUE(im.reply.stream_final);

	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, got.state);
	EXPECT_EQ(0, got.flush_pending);
	EXPECT_EQ(0, memcmp(self->src.uuid, got.uuid, PFLASH_UUID_LEN));
	final = dev_slurp(self->src.index, MOVE_SIZE);
	ASSERT_NE(NULL, final);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, final, MOVE_SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->dst_path, final, MOVE_SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->src_path, final, MOVE_SIZE));
	free(final);
}

/*
 * The failure cases, on 4 MiB devices in writeback mode, whose files take
 * only what a flush writes.  @shadow is what the source holds.
 */
FIXTURE(live) {
	struct pfnl *h;
	struct pfnl_dev src, dst;
	char dir[64], src_path[96], dst_path[96];
	uint8_t *shadow;
	uint8_t *erased;
	uint8_t *orig;
};

/* The fixture's types, for the helpers that take them. */
#define LIVE_SELF	FIXTURE_DATA(live)

FIXTURE_SETUP(live)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_tmpfs(self->dir, sizeof(self->dir), "64m"));
	snprintf(self->src_path, sizeof(self->src_path), "%s/src.img",
		 self->dir);
	snprintf(self->dst_path, sizeof(self->dst_path), "%s/dst.img",
		 self->dir);
	ASSERT_EQ(0, pft_mkfile(self->src_path, SMALL_SIZE, 5));
	ASSERT_EQ(0, pft_mkfile(self->dst_path, SMALL_SIZE, 0));
	self->shadow = pft_slurp(self->src_path, SMALL_SIZE);
	self->orig = pft_slurp(self->src_path, SMALL_SIZE);
	self->erased = pft_slurp(self->dst_path, SMALL_SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_NE(NULL, self->orig);
	ASSERT_NE(NULL, self->erased);
	ASSERT_EQ(0, create_backed(self->h, self->src_path, SMALL_SIZE,
				   PFLASH_CACHE_MODE_WRITEBACK,
				   PFLASH_STATE_ACTIVE, &self->src));
	ASSERT_EQ(0, create_backed(self->h, self->dst_path, SMALL_SIZE,
				   PFLASH_CACHE_MODE_WRITEBACK,
				   PFLASH_STATE_INACTIVE, &self->dst));
}

FIXTURE_TEARDOWN(live)
{
	if (self->src.attrs)
		pft_destroy(self->h, self->src.index);
	if (self->dst.attrs)
		pft_destroy(self->h, self->dst.index);
	pft_tmpfs_remove(self->dir);
	free(self->shadow);
	free(self->orig);
	free(self->erased);
	pfnl_close(self->h);
}

/* Write pattern @seed at [@off, @off + @len) of the source, and its shadow. */
static int src_write(LIVE_SELF *self, uint64_t off, size_t len,
		     uint32_t seed)
{
	int fd = pft_open(self->src.index, O_RDWR | O_DIRECT);
	int ret;

	if (fd < 0)
		return -errno;
	ret = pft_write_pattern(fd, self->shadow, off, len, seed, false);
	close(fd);
	return ret;
}

/* A pipe whose reader is gone: a write into it fails with EPIPE. */
static int broken_pipe(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	close(p[0]);
	return p[1];
}

/* The whole of memory file @fd, in @s. */
static int memfile_stream(int fd, struct pft_stream *s)
{
	off_t len = lseek(fd, 0, SEEK_END);
	uint8_t *buf;
	int ret;

	memset(s, 0, sizeof(*s));
	if (len < 0)
		return -errno;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	ret = pft_pread_full(fd, buf, len, 0);
	if (!ret)
		ret = pft_stream_append(s, buf, len);
	free(buf);
	return ret;
}

/* Device @index: its state and contents are @state and @expect. */
static bool dev_is(struct pfnl *h, uint32_t index, uint32_t state,
		   const uint8_t *expect)
{
	struct pfnl_dev got = {};

	return !pft_get(h, index, &got) && got.state == state &&
	       pft_dev_diff(index, expect, SMALL_SIZE) == -1;
}

/* The target took the move of the source, and activates into its copy. */
static void expect_moved(struct __test_metadata *_metadata,
			 LIVE_SELF *self, int stream_fd)
{
	struct pfnl_dev got = {};

	ASSERT_EQ(0, lseek(stream_fd, 0, SEEK_SET));
	ASSERT_EQ(0, pfnl_import_fd(self->h, self->dst.index, stream_fd,
				    &got))
		TH_LOG("import: %s", pfnl_last_ack(self->h)->msg);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->shadow, SMALL_SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->dst_path, self->shadow, SMALL_SIZE));
}

/* The target is as it was: inactive, erased, its file too. */
static void expect_untouched(struct __test_metadata *_metadata,
			     LIVE_SELF *self)
{
	EXPECT_TRUE(dev_is(self->h, self->dst.index, PFLASH_STATE_INACTIVE,
			   self->erased));
	EXPECT_EQ(-1, pft_file_diff(self->dst_path, self->erased, SMALL_SIZE));
}

TEST_F(live, a_pass_sends_what_changed_and_leaves_the_dirty_bits)
{
	struct pfnl_dev r = {}, got = {};
	int fd = memfd_create("live", MFD_CLOEXEC);
	uint64_t dirty;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, src_write(self, 0, 65536, 9));
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &got));
	dirty = got.dirty_bytes;
	ASSERT_EQ(65536, dirty);

	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	EXPECT_EQ(0, r.live_pass);
	EXPECT_EQ(0, r.live_pending);
	EXPECT_LT(SMALL_SIZE / 2, r.stream_bytes);	/* the whole device */
	ASSERT_EQ(0, src_write(self, 1 << 20, 8192, 10));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 1, false,
				      &r));
	EXPECT_EQ(1, r.live_pass);
	EXPECT_FALSE(r.stream_final);
	/* The 8 KiB written, and records around them. */
	EXPECT_LE(8192, r.stream_bytes);
	EXPECT_GT(8192 + 1024, r.stream_bytes);
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 2, false,
				      &r));
	EXPECT_GT(1024, r.stream_bytes);	/* nothing changed */

	/* The writeback's bits are as the writes left them. */
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &got));
	EXPECT_EQ(dirty + 8192, got.dirty_bytes);
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->orig, SMALL_SIZE));
	ASSERT_EQ(0, pft_flush(self->h, self->src.index, false));
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->shadow, SMALL_SIZE));

	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 3, true,
				      &r));
	EXPECT_TRUE(r.stream_final);
	expect_moved(_metadata, self, fd);
	close(fd);
}

/* The refusal of a pass after a failed one. */
#define ENDED_MSG \
	"the live export ended (a pass failed, or an import or a destroy ended it): start again at pass 0"

TEST_F(live, the_pipe_breaks_while_the_source_is_active)
{
	int fd = memfd_create("live", MFD_CLOEXEC), bad = broken_pipe();
	struct pfnl_dev r = {}, got = {};
	struct live_move m;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, bad);
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	ASSERT_EQ(0, src_write(self, 0, 16384, 11));
	EXPECT_EQ(-EPIPE, pfnl_export_pass(self->h, self->src.index, bad, 1,
					   false, &r));
	close(bad);

	/* The source runs on, unchanged, its writeback owed as before. */
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &got));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, got.state);
	EXPECT_EQ(16384, got.dirty_bytes);
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, self->shadow, SMALL_SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->orig, SMALL_SIZE));
	ASSERT_EQ(0, src_write(self, 8192, 4096, 12));

	/* The export ended with the pass: a retry starts at pass 0. */
	EXPECT_EQ(-ENOENT, pfnl_export_pass(self->h, self->src.index, fd, 2,
					    false, &r));
	EXPECT_STREQ(ENDED_MSG, pfnl_last_ack(self->h)->msg);
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, live_export(self->h, self->src.index, fd, MAX_FINAL,
				 MAX_PASSES, &m));
	expect_moved(_metadata, self, fd);
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->shadow, SMALL_SIZE));
	close(fd);
}

TEST_F(live, the_pipe_breaks_once_the_source_is_inactive_and_it_rolls_back)
{
	int fd = memfd_create("live", MFD_CLOEXEC), bad = broken_pipe();
	struct pfnl_dev r = {}, got = {};

	ASSERT_LE(0, fd);
	ASSERT_LE(0, bad);
	ASSERT_EQ(0, src_write(self, 4096, 4096, 13));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, &got));
	EXPECT_EQ(-EPIPE, pfnl_export_pass(self->h, self->src.index, bad, 1,
					   true, &r));
	close(bad);

	/* What reached the target is no whole stream: it is refused. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_NE(0, pfnl_import_fd(self->h, self->dst.index, fd, &r));
	expect_untouched(_metadata, self);

	/* The source, inactive with its file whole, takes over again. */
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->shadow, SMALL_SIZE));
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, got.epoch + 1,
				  &r));
	EXPECT_EQ(PFLASH_STATE_ACTIVE, r.state);
	EXPECT_EQ(got.epoch + 1, r.epoch);
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, self->shadow, SMALL_SIZE));
	EXPECT_EQ(0, src_write(self, 0, 4096, 14));
	close(fd);
}

TEST_F(live, the_pipe_breaks_once_the_source_is_inactive_and_it_is_retried)
{
	int fd = memfd_create("live", MFD_CLOEXEC), bad = broken_pipe();
	struct pfnl_dev r = {};

	ASSERT_LE(0, fd);
	ASSERT_LE(0, bad);
	ASSERT_EQ(0, src_write(self, 4096, 4096, 15));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	EXPECT_EQ(-EPIPE, pfnl_export_pass(self->h, self->src.index, bad, 1,
					   true, &r));
	close(bad);

	/* Retried: one final pass 0, the whole device, at once. */
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, true,
				      &r));
	EXPECT_EQ(0, r.live_pass);
	EXPECT_TRUE(r.stream_final);
	expect_moved(_metadata, self, fd);
	close(fd);
}

TEST_F(live, the_target_dies_mid_stream_and_is_unchanged)
{
	int fd = memfd_create("live", MFD_CLOEXEC), half;
	struct pfnl_dev r = {};
	struct pft_stream s;
	struct live_move m;
	struct pft_job im;
	int p[2];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, src_write(self, 0, 8192, 16));
	ASSERT_EQ(0, live_export(self->h, self->src.index, fd, MAX_FINAL,
				 MAX_PASSES, &m));
	ASSERT_EQ(0, memfile_stream(fd, &s));

	/* Cut off: half the stream, then its end. */
	half = pft_memfile(s.buf, s.len / 2);
	ASSERT_LE(0, half);
	EXPECT_NE(0, pfnl_import_fd(self->h, self->dst.index, half, &r));
	close(half);
	expect_untouched(_metadata, self);

	/* Killed while it waits for the rest. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	ASSERT_TRUE(pft_job_took(&im, p, s.buf, s.len / 2))
		TH_LOG("%d: %s", im.ret, im.msg);
	pft_job_interrupt(&im);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-ECANCELED, im.ret) TH_LOG("%s", im.msg);
	expect_untouched(_metadata, self);

	/* The whole stream still moves it. */
	expect_moved(_metadata, self, fd);
	pft_stream_free(&s);
	close(fd);
}

/* What the move under a fast writer did, in its log. */
#define OUTPACED_LOG \
	"passes %u%s in %.1f s, writes %llu (%llu after pass 0 while active), %llu bytes after pass 0"

TEST_F(live, a_writer_that_outpaces_the_passes_still_moves_it)
{
	int fd = memfd_create("live", MFD_CLOEXEC), ret;
	double start = pft_now();
	struct live_move m;
	struct writer w;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, writer_start(&w, self->src.index, SMALL_SIZE, 0));
	ASSERT_TRUE(writer_reaches(&w, 1)) TH_LOG("writer: %d", w.error);
	/*
	 * Only a pass during which nothing was written is small enough, so
	 * the limit ends the passes, but for such a pass: a pass can be
	 * shorter than the time between two writes here.  (pflashctl's
	 * choice of when to stop is tested on the host, with a fake
	 * kernel.)  Whichever ends them, the move is right.
	 */
	ret = live_export_writing(self->h, self->src.index, fd, 0, MAX_PASSES,
				  &w, &m);
	writer_stop(&w);
	ASSERT_EQ(0, ret) TH_LOG("%s", pfnl_last_ack(self->h)->msg);
	ASSERT_EQ(0, w.error);
	TH_LOG(OUTPACED_LOG, m.passes, m.limit ? " (the limit)" : "",
	       pft_now() - start,
	       (unsigned long long)w.writes,
	       (unsigned long long)(m.writes_active - m.writes_first),
	       (unsigned long long)(m.bytes - m.first_bytes));
	expect_carried(_metadata, &m);
	EXPECT_GE(MAX_PASSES, m.passes);
	EXPECT_TRUE(!m.limit || m.passes == MAX_PASSES);
	free(self->shadow);
	self->shadow = dev_slurp(self->src.index, SMALL_SIZE);
	ASSERT_NE(NULL, self->shadow);
	expect_moved(_metadata, self, fd);
	EXPECT_EQ(-1, pft_file_diff(self->src_path, self->shadow, SMALL_SIZE));
	close(fd);
}

TEST_F(live, a_destroy_between_passes_ends_the_export)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev r = {};

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	ASSERT_EQ(0, pft_destroy(self->h, self->src.index));
	self->src.attrs = 0;
	EXPECT_EQ(-ENODEV, pfnl_export_pass(self->h, self->src.index, fd, 1,
					    false, &r));
	/* What was sent is no whole stream. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_NE(0, pfnl_import_fd(self->h, self->dst.index, fd, &r));
	expect_untouched(_metadata, self);
	close(fd);
}

TEST_F(live, a_destroy_during_a_pass_ends_it)
{
	struct pft_job ex;

	/* No one reads: pass 0 waits once the pipe is full. */
	ASSERT_EQ(0, pft_job_destroyed_meanwhile(self->h, self->src.index,
						 PFT_JOB_LIVE, &ex));
	self->src.attrs = 0;
	EXPECT_EQ(-ENODEV, ex.ret);
	EXPECT_STREQ("the device was destroyed during the export", ex.msg);
}

TEST_F(live, one_socket_drives_a_live_export)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev r = {};
	struct pfnl *first;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pfnl_open(&first));
	ASSERT_EQ(0, pfnl_export_pass(first, self->src.index, fd, 0, false,
				      &r));
	EXPECT_EQ(-EBUSY, pfnl_export_pass(self->h, self->src.index, fd, 0,
					   false, &r));
	EXPECT_STREQ("another live export of the device is in progress",
		     pfnl_last_ack(self->h)->msg);
	/* A plain export is no live one: it goes on beside it. */
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_EQ(0, pfnl_export_fd(self->h, self->src.index, fd, &r));
	/* Closing the socket ends its export; the device is unchanged. */
	pfnl_close(first);
	EXPECT_TRUE(dev_is(self->h, self->src.index, PFLASH_STATE_ACTIVE,
			   self->shadow));
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	close(fd);
}

TEST_F(live, passes_out_of_order_are_refused)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev r = {};
	struct pft_stream s;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, pfnl_export_pass(self->h, self->src.index, fd, 1,
					    false, &r));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	EXPECT_EQ(-EINVAL, pfnl_export_pass(self->h, self->src.index, fd, 2,
					    false, &r));
	EXPECT_STREQ("the pass is not the next one of the live export",
		     pfnl_last_ack(self->h)->msg);
	/* A refusal leaves the export as it was. */
	EXPECT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 1, false,
				      &r));
	/* Pass 0 starts it again, in a new stream, with its header. */
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	EXPECT_EQ(0, r.live_pass);
	ASSERT_EQ(0, memfile_stream(fd, &s));
	ASSERT_LE(REC_HDR, s.len);
	EXPECT_EQ(PFLASH_STREAM_MAGIC, le32toh(pft_rec(&s, 0)->magic));
	EXPECT_EQ(PFLASH_REC_HEADER, le16toh(pft_rec(&s, 0)->type));
	pft_stream_free(&s);
	close(fd);
}

/* The refusal of a final pass while the device is active. */
#define INACTIVE_FIRST_MSG \
	"the final pass of a live export needs the device inactive: inactivate it first"

TEST_F(live, the_final_pass_needs_the_source_inactive)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev r = {};

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	EXPECT_EQ(-EBUSY, pfnl_export_pass(self->h, self->src.index, fd, 1,
					   true, &r));
	EXPECT_STREQ(INACTIVE_FIRST_MSG, pfnl_last_ack(self->h)->msg);
	EXPECT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 1, false,
				      &r));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	EXPECT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 2, true,
				      &r));
	expect_moved(_metadata, self, fd);
	close(fd);
}

/* EXPORT with the attributes of @req, on device @index: its error. */
static int export_with(struct pfnl *h, uint32_t index, int fd,
		       struct pfnl_dev *req)
{
	pfnl_dev_set(req, PFLASH_A_DEV_INDEX, index);
	if (fd >= 0)
		pfnl_dev_set(req, PFLASH_A_DEV_STREAM_FD, fd);
	return pfnl_dev_do(h, PFLASH_CMD_EXPORT, req, NULL);
}

TEST_F(live, live_attributes_out_of_place_are_refused)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev req = {};
	struct nl_msg *msg;

	ASSERT_LE(0, fd);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_FINAL, 1);
	EXPECT_EQ(-EINVAL, export_with(self->h, self->src.index, fd, &req));
	EXPECT_STREQ("a pass, final or not, is for a live export",
		     pfnl_last_ack(self->h)->msg);
	memset(&req, 0, sizeof(req));
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE, 0);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_PASS, 0);
	EXPECT_EQ(-EINVAL, export_with(self->h, self->src.index, fd, &req));
	memset(&req, 0, sizeof(req));
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE, 1);
	EXPECT_EQ(-EINVAL, export_with(self->h, self->src.index, fd, &req));
	EXPECT_STREQ("the number of the pass to write is missing",
		     pfnl_last_ack(self->h)->msg);
	memset(&req, 0, sizeof(req));
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE, 1);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_PASS, 0);
	EXPECT_EQ(-EINVAL, export_with(self->h, self->src.index, -1, &req));
	/* Nor in a dump. */
	msg = pfnl_msg_new(self->h, PFLASH_CMD_EXPORT, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, self->src.index);
	nla_put_u8(msg, PFLASH_A_DEV_LIVE, 1);
	EXPECT_EQ(-EINVAL, pfnl_exec(self->h, msg, NULL, NULL));
	nlmsg_free(msg);
	/* None of it started a live export. */
	EXPECT_EQ(-ENOENT, pfnl_export_pass(self->h, self->src.index, fd, 1,
					    false, &req));
	close(fd);
}

TEST_F(live, an_import_into_the_device_ends_its_live_export)
{
	int fd = memfd_create("live", MFD_CLOEXEC);
	struct pfnl_dev r = {};
	struct pft_stream s;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_export(self->h, self->dst.index, &s));
	ASSERT_EQ(0, pfnl_export_pass(self->h, self->src.index, fd, 0, false,
				      &r));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, pft_import_bytes(self->h, self->src.index, s.buf, s.len, &r));
	EXPECT_EQ(-ENOENT, pfnl_export_pass(self->h, self->src.index, fd, 1,
					    true, &r));
	EXPECT_TRUE(dev_is(self->h, self->src.index, PFLASH_STATE_INACTIVE,
			   self->erased));
	pft_stream_free(&s);
	close(fd);
}

TEST_HARNESS_MAIN
