// SPDX-License-Identifier: GPL-2.0
/*
 * The state stream through a file descriptor (PFLASH_A_DEV_STREAM_FD):
 * an export that the kernel writes into a pipe or a file, an import that
 * it reads from one.  Each test asserts the bytes moved and the state of
 * the devices after:
 *
 *  - the stream is the one the dump gives, byte for byte, and an import
 *    of it makes the target the source's copy, through a file or a pipe;
 *  - a slow reader holds no lock: other commands on the device, destroy
 *    included, go on while an export waits for its reader, and an export
 *    of a destroyed device ends with ENODEV;
 *  - a signal in the middle ends an export or an import with ECANCELED, a
 *    reader that closed its pipe ends an export with EPIPE, and the
 *    device is as it was;
 *  - a second import at once is refused, two exports at once both work,
 *    and activation ends an import;
 *  - bad file descriptors, data after the stream, a truncated stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pft_job.h"
#include "pft_stream.h"

#define SIZE		(4 << 20)

FIXTURE(xfer) {
	struct pfnl *h;
	struct pfnl_dev src, dst;
	uint8_t *data;		/* the source's contents */
	uint8_t *erased;	/* the target's, before any import */
	struct pft_stream s;	/* the source's stream, by dump */
};

FIXTURE_SETUP(xfer)
{
	struct pfnl_dev req = {};
	int fd;

	/* A reader that went away is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pfnl_open(&self->h));
	self->data = pft_alloc(SIZE);
	self->erased = pft_alloc(SIZE);
	ASSERT_NE(NULL, self->data);
	ASSERT_NE(NULL, self->erased);
	memset(self->erased, 0xff, SIZE);
	/* Data, with an erased and a zero stretch, as a store has. */
	pft_pattern(self->data, SIZE, 0, 7);
	memset(self->data + SIZE / 4, 0xff, SIZE / 8);
	memset(self->data + SIZE / 2, 0, SIZE / 8);

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, SIZE);
	ASSERT_EQ(0, pft_create(self->h, &req, &self->src));
	fd = pft_open(self->src.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_pwrite_full(fd, self->data, SIZE, 0));
	close(fd);
	/* Inactive: its stream is final, and the same every time. */
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create(self->h, &req, &self->dst));
	ASSERT_EQ(0, pft_export(self->h, self->src.index, &self->s));
}

FIXTURE_TEARDOWN(xfer)
{
	if (self->src.attrs)
		pft_destroy(self->h, self->src.index);
	if (self->dst.attrs)
		pft_destroy(self->h, self->dst.index);
	pft_stream_free(&self->s);
	free(self->data);
	free(self->erased);
	pfnl_close(self->h);
}

TEST_F(xfer, export_into_a_file_is_the_dumped_stream)
{
	struct pfnl_dev got = {};
	int fd = memfd_create("out", MFD_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pfnl_export_fd(self->h, self->src.index, fd, &got));
	EXPECT_TRUE(pft_memfile_is(fd, self->s.buf, self->s.len));
	EXPECT_EQ(self->s.len, got.stream_bytes);
	EXPECT_TRUE(pfnl_dev_has(&got, PFLASH_A_DEV_STREAM_FINAL));
	EXPECT_TRUE(got.stream_final);
	EXPECT_EQ(self->src.index, got.index);
	close(fd);
}

TEST_F(xfer, export_of_an_active_device_is_not_final)
{
	struct pfnl_dev got = {};
	int fd = memfd_create("out", MFD_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, -1, NULL));
	ASSERT_EQ(0, pfnl_export_fd(self->h, self->src.index, fd, &got));
	EXPECT_TRUE(pfnl_dev_has(&got, PFLASH_A_DEV_STREAM_FINAL));
	EXPECT_FALSE(got.stream_final);
	close(fd);
}

TEST_F(xfer, import_from_a_file_makes_the_copy)
{
	struct pfnl_dev got = {};

	ASSERT_EQ(0, pft_import_bytes(self->h, self->dst.index, self->s.buf,
				      self->s.len, &got));
	EXPECT_EQ(self->s.len, got.stream_bytes);
	EXPECT_TRUE(got.stream_final);
	EXPECT_EQ(self->src.epoch, got.epoch);
	EXPECT_EQ(0, memcmp(self->src.uuid, got.uuid, PFLASH_UUID_LEN));
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->data, SIZE));
}

TEST_F(xfer, export_piped_into_import)
{
	struct pft_job ex, im;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	ASSERT_EQ(0, pft_job_start(&ex, self->src.index, p[1], PFT_JOB_EXPORT));
	pthread_join(ex.thread, NULL);
	close(p[1]);
	pthread_join(im.thread, NULL);
	close(p[0]);
	ASSERT_EQ(0, ex.ret) TH_LOG("export: %s", ex.msg);
	ASSERT_EQ(0, im.ret) TH_LOG("import: %s", im.msg);
	EXPECT_EQ(ex.reply.stream_bytes, im.reply.stream_bytes);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->data, SIZE));
}

TEST_F(xfer, a_slow_reader_holds_up_no_other_command)
{
	struct pfnl_dev got = {};
	struct pft_job ex;
	int p[2];

	/* No one reads: the export waits once the pipe is full. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&ex, self->src.index, p[1], PFT_JOB_EXPORT));
	ASSERT_TRUE(pft_job_fills_pipe(&ex, p[1])) TH_LOG("%d: %s", ex.ret, ex.msg);
	EXPECT_EQ(0, pft_get(self->h, self->src.index, &got));
	EXPECT_EQ(0, pft_flush(self->h, self->src.index, false));
	EXPECT_EQ(0, pft_activate(self->h, self->src.index, -1, NULL));
	EXPECT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	/* Destroy, too: the export notices at its next step. */
	EXPECT_EQ(0, pft_destroy(self->h, self->src.index));
	self->src.attrs = 0;
	EXPECT_FALSE(ex.done);
	close(p[0]);
	pthread_join(ex.thread, NULL);
	close(p[1]);
	EXPECT_TRUE(ex.ret == -ENODEV || ex.ret == -EPIPE) TH_LOG("%d: %s", ex.ret, ex.msg);
}

TEST_F(xfer, a_destroy_ends_an_export_between_its_steps)
{
	struct pft_job ex;

	/* Read all it sends: it ends on its own, with ENODEV. */
	ASSERT_EQ(0, pft_job_destroyed_meanwhile(self->h, self->src.index,
						 PFT_JOB_EXPORT, &ex));
	self->src.attrs = 0;
	EXPECT_EQ(-ENODEV, ex.ret);
	EXPECT_STREQ("the device was destroyed during the export", ex.msg);
}

TEST_F(xfer, a_signal_ends_an_export)
{
	struct pfnl_dev got = {};
	struct pft_job ex;
	int p[2], fd;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&ex, self->src.index, p[1], PFT_JOB_EXPORT));
	ASSERT_TRUE(pft_job_fills_pipe(&ex, p[1])) TH_LOG("%d: %s", ex.ret, ex.msg);
	pft_job_interrupt(&ex);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-ECANCELED, ex.ret);
	EXPECT_STREQ("the transfer was interrupted by a signal", ex.msg);
	/* Nothing is left of it: the next export is whole. */
	fd = memfd_create("out", MFD_CLOEXEC);
	ASSERT_EQ(0, pfnl_export_fd(self->h, self->src.index, fd, &got));
	EXPECT_TRUE(pft_memfile_is(fd, self->s.buf, self->s.len));
	close(fd);
}

TEST_F(xfer, a_signal_ends_an_import_and_the_device_is_unchanged)
{
	struct pfnl_dev got = {};
	struct pft_job im;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	/* The start of the stream, then nothing. */
	ASSERT_TRUE(pft_job_took(&im, p, self->s.buf, 4096))
		TH_LOG("%d: %s", im.ret, im.msg);
	pft_job_interrupt(&im);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-ECANCELED, im.ret);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->erased, SIZE));
	ASSERT_EQ(0, pft_get(self->h, self->dst.index, &got));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, got.state);
	EXPECT_EQ(0, got.epoch);
	/* No import is left over: a new one goes through. */
	ASSERT_EQ(0, pft_import_bytes(self->h, self->dst.index, self->s.buf,
				      self->s.len, &got));
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->data, SIZE));
}

TEST_F(xfer, a_closed_pipe_ends_an_export)
{
	struct pfnl_dev got = {};
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	close(p[0]);
	EXPECT_EQ(-EPIPE, pfnl_export_fd(self->h, self->src.index, p[1],
					 &got));
	EXPECT_STREQ("the stream's reader went away (broken pipe)",
		     pfnl_last_ack(self->h)->msg);
	close(p[1]);
}

TEST_F(xfer, a_second_import_at_once_is_refused)
{
	struct pfnl_dev got = {};
	struct pft_job im;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	ASSERT_TRUE(pft_job_took(&im, p, self->s.buf, 4096))
		TH_LOG("%d: %s", im.ret, im.msg);
	EXPECT_EQ(-EBUSY, pft_import_bytes(self->h, self->dst.index, self->s.buf,
					   self->s.len, &got));
	EXPECT_STREQ("an import from a file descriptor is in progress",
		     pfnl_last_ack(self->h)->msg);
	/* An import in pieces is refused too. */
	EXPECT_EQ(-EBUSY, pft_import(self->h, self->dst.index, self->s.buf,
				     self->s.len, PFLASH_STREAM_CHUNK_MAX,
				     &got));
	/* The first ends with its truncated stream. */
	close(p[1]);
	pthread_join(im.thread, NULL);
	close(p[0]);
	EXPECT_EQ(-EINVAL, im.ret);
	EXPECT_STREQ("the stream is truncated: it ends before its end record",
		     im.msg);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->erased, SIZE));
}

TEST_F(xfer, two_exports_at_once)
{
	struct pft_job a, b;
	int fa = memfd_create("a", MFD_CLOEXEC);
	int fb = memfd_create("b", MFD_CLOEXEC);

	ASSERT_EQ(0, pft_job_start(&a, self->src.index, fa, PFT_JOB_EXPORT));
	ASSERT_EQ(0, pft_job_start(&b, self->src.index, fb, PFT_JOB_EXPORT));
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(0, b.ret);
	EXPECT_TRUE(pft_memfile_is(fa, self->s.buf, self->s.len));
	EXPECT_TRUE(pft_memfile_is(fb, self->s.buf, self->s.len));
	close(fa);
	close(fb);
}

TEST_F(xfer, activation_ends_an_import)
{
	struct pft_job im;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, self->dst.index, p[0], PFT_JOB_IMPORT));
	ASSERT_TRUE(pft_job_took(&im, p, self->s.buf, 4096))
		TH_LOG("%d: %s", im.ret, im.msg);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, NULL));
	/* The rest of the stream: it checks out, but may not commit. */
	ASSERT_EQ(0, pft_write_all(p[1], self->s.buf + 4096, self->s.len - 4096));
	close(p[1]);
	pthread_join(im.thread, NULL);
	close(p[0]);
	EXPECT_EQ(-EBUSY, im.ret);
	EXPECT_STREQ("the device was activated during the import", im.msg);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->erased, SIZE));
}

/*
 * An activation that loads the file again (it changed while the device
 * was inactive) ends an import from a file that is still reading: the
 * device holds the file's contents, and the import, which goes on
 * comparing what it stages with the device's contents, may not commit.
 * (That it never reads the contents the activation freed is the RCU
 * grace period's to ensure: a race of one comparison, which this test
 * does not make happen.)
 */
TEST_F(xfer, activation_that_loads_the_file_ends_an_import)
{
	struct pfnl_dev req = {}, dev = {};
	char dir[64], path[96];
	struct pft_job im;
	uint8_t *now;
	int p[2];

	ASSERT_EQ(0, pft_tmpfs(dir, sizeof(dir), "4m"));
	snprintf(path, sizeof(path), "%s/vars.fd", dir);
	ASSERT_EQ(0, pft_mkfile(path, SIZE, 3));
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create_backed(self->h, path, &req, &dev));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, pft_job_start(&im, dev.index, p[0], PFT_JOB_IMPORT));
	ASSERT_TRUE(pft_job_took(&im, p, self->s.buf, 4096))
		TH_LOG("%d: %s", im.ret, im.msg);
	ASSERT_EQ(0, pft_mkfile(path, SIZE, 4));
	now = pft_slurp(path, SIZE);
	ASSERT_NE(NULL, now);
	ASSERT_EQ(0, pft_activate(self->h, dev.index, -1, NULL));
	EXPECT_EQ(-1, pft_dev_diff(dev.index, now, SIZE));
	/* The rest of the stream, compared as it is staged. */
	ASSERT_EQ(0, pft_write_all(p[1], self->s.buf + 4096, self->s.len - 4096));
	close(p[1]);
	pthread_join(im.thread, NULL);
	close(p[0]);
	EXPECT_EQ(-EBUSY, im.ret);
	EXPECT_EQ(-1, pft_dev_diff(dev.index, now, SIZE));
	EXPECT_EQ(0, pft_destroy(self->h, dev.index));
	pft_tmpfs_remove(dir);
	free(now);
}

TEST_F(xfer, data_after_the_stream_and_a_truncated_one_are_refused)
{
	struct pfnl_dev got = {};
	uint8_t *more = malloc(self->s.len + 1);

	ASSERT_NE(NULL, more);
	memcpy(more, self->s.buf, self->s.len);
	more[self->s.len] = 0;
	EXPECT_EQ(-EINVAL, pft_import_bytes(self->h, self->dst.index, more,
					    self->s.len + 1, &got));
	EXPECT_STREQ("there is data after the end record",
		     pfnl_last_ack(self->h)->msg);
	EXPECT_EQ(-EINVAL, pft_import_bytes(self->h, self->dst.index, more,
					    self->s.len - 1, &got));
	EXPECT_STREQ("the stream is truncated: it ends before its end record",
		     pfnl_last_ack(self->h)->msg);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->erased, SIZE));
	free(more);
}

/* What the kernel says of a file it cannot move a stream through. */
#define NO_WRITE_ITER_MSG	"the kernel cannot move a stream through this kind of file (a character device?): give a pipe, a socket or a regular file"

TEST_F(xfer, bad_file_descriptors_are_refused)
{
	struct pfnl_dev got = {};
	int ro = pft_memfile(self->s.buf, 16), dir = open("/", O_RDONLY);
	struct nl_msg *msg;
	int p[2];

	ASSERT_LE(0, ro);
	ASSERT_LE(0, dir);
	EXPECT_EQ(-EBADF, pfnl_export_fd(self->h, self->src.index, 999, &got));
	EXPECT_STREQ("the stream's file descriptor is not open",
		     pfnl_last_ack(self->h)->msg);
	EXPECT_EQ(PFLASH_A_DEV_STREAM_FD, pfnl_last_ack(self->h)->attr);
	close(ro);
	ro = open("/proc/self/exe", O_RDONLY);
	EXPECT_EQ(-EBADF, pfnl_export_fd(self->h, self->src.index, ro, &got));
	EXPECT_STREQ("the stream's file descriptor is not open for writing",
		     pfnl_last_ack(self->h)->msg);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-EBADF, pfnl_import_fd(self->h, self->dst.index, p[1], &got));
	EXPECT_STREQ("the stream's file descriptor is not open for reading",
		     pfnl_last_ack(self->h)->msg);
	EXPECT_EQ(-EISDIR, pfnl_import_fd(self->h, self->dst.index, dir, &got));
	EXPECT_STREQ("the stream's file descriptor is a directory",
		     pfnl_last_ack(self->h)->msg);
	/* A character device with no ->write_iter(): kernel_write() can't. */
	close(dir);
	dir = open("/dev/full", O_WRONLY);
	ASSERT_LE(0, dir);
	EXPECT_EQ(-EINVAL, pfnl_export_fd(self->h, self->src.index, dir, &got));
	EXPECT_STREQ(NO_WRITE_ITER_MSG, pfnl_last_ack(self->h)->msg);
	/* A non-blocking pipe with nothing in it: not a clean end of file. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	EXPECT_EQ(-EAGAIN, pfnl_import_fd(self->h, self->dst.index, p[0],
					  &got));
	/* A file descriptor and pieces at once. */
	msg = pfnl_msg_new(self->h, PFLASH_CMD_IMPORT, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, PFLASH_A_DEV_INDEX, self->dst.index);
	nla_put_u32(msg, PFLASH_A_DEV_STREAM_FD, p[0]);
	nla_put_u64(msg, PFLASH_A_DEV_STREAM_OFFSET, 0);
	EXPECT_EQ(-EINVAL, pfnl_exec(self->h, msg, NULL, NULL));
	EXPECT_EQ(PFLASH_A_DEV_STREAM_OFFSET, pfnl_last_ack(self->h)->attr);
	nlmsg_free(msg);
	/* An export as a do request needs one. */
	EXPECT_EQ(-EINVAL, pft_index_cmd(self->h, PFLASH_CMD_EXPORT,
					 self->src.index, &got));
	EXPECT_EQ(PFLASH_A_DEV_STREAM_FD, pfnl_last_ack(self->h)->miss_type);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->erased, SIZE));
	close(p[0]);
	close(p[1]);
	close(ro);
	close(dir);
}

TEST_HARNESS_MAIN
