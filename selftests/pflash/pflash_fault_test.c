// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures injected into pflash's commands: failslab and
 * fail_page_alloc, filtered to this task, fail the first, then the second,
 * ... allocation an operation makes (every one early on, then a sample),
 * until it runs through with none failed.  Every attempt must end in success or in a
 * clean error, and leave the devices as the error says: a failed create
 * leaves no device, a failed import leaves the target as it was.  Leaks
 * are for kmemleak, which the harness runs after the suite.
 *
 * Needs a kernel with fault injection in debugfs (the debug kernel); skips
 * elsewhere.
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
#include "pft_stream.h"

#define DEBUGFS		"/sys/kernel/debug"
/* The index the tests create at, so a device made unseen can be found. */
#define INDEX		990
/*
 * Which allocations to fail: every one of the first EVERY_STEP_UNTIL,
 * where a command's own error paths are, then ever sparser ones (a
 * quarter further each time) through what the block layer and sysfs
 * allocate for a new disk, which would take too long one by one on the
 * debug kernel.  A command that has not run through by MAX_STEPS fails.
 */
#define EVERY_STEP_UNTIL	48
#define MAX_STEPS		100000

static int next_step(int step)
{
	return step < EVERY_STEP_UNTIL ? step + 1 : step + step / 4;
}

static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* One fault_attr in debugfs: "failslab" or "fail_page_alloc". */
static int attr_set(const char *attr, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr, file);
	return pft_write_str(path, val);
}

/*
 * The files that switch injection on and off, kept open from arm() to
 * disarm(): opening a file allocates, and an allocation of disarm()'s own
 * could take the failure meant for the command under test.
 */
static int armed_probability = -1, armed_make_it_fail = -1;

static int write_fd(int fd, const char *val)
{
	return write(fd, val, strlen(val)) < 0 ? -errno : 0;
}

/* Arm @attr to fail the @nth allocation of this task, once. */
static int arm(const char *attr, int nth)
{
	char n[16], path[128];

	snprintf(n, sizeof(n), "%d", nth);
	if (attr_set(attr, "probability", "0") ||
	    attr_set(attr, "task-filter", "Y") ||
	    attr_set(attr, "ignore-gfp-wait", "N") ||
	    attr_set(attr, "verbose", "0") ||
	    attr_set(attr, "space", "0") ||
	    attr_set(attr, "interval", n) ||
	    attr_set(attr, "times", "1"))
		return -1;
	if (!strcmp(attr, "fail_page_alloc") &&
	    (attr_set(attr, "ignore-gfp-highmem", "N") ||
	     attr_set(attr, "min-order", "0")))
		return -1;
	snprintf(path, sizeof(path), DEBUGFS "/%s/probability", attr);
	armed_probability = open(path, O_WRONLY);
	armed_make_it_fail = open("/proc/self/make-it-fail", O_WRONLY);
	if (armed_probability < 0 || armed_make_it_fail < 0)
		return -errno;
	if (write_fd(armed_probability, "100"))
		return -1;
	return write_fd(armed_make_it_fail, "1");
}

/* Disarm; returns whether the armed failure happened. */
static bool disarm(const char *attr)
{
	char path[128];

	/* Off first, before anything that could allocate. */
	if (armed_probability >= 0)
		write_fd(armed_probability, "0");
	if (armed_make_it_fail >= 0)
		write_fd(armed_make_it_fail, "0");
	if (armed_probability >= 0)
		close(armed_probability);
	if (armed_make_it_fail >= 0)
		close(armed_make_it_fail);
	armed_probability = -1;
	armed_make_it_fail = -1;
	attr_set(attr, "probability", "0");
	pft_write_str("/proc/self/make-it-fail", "0");
	snprintf(path, sizeof(path), DEBUGFS "/%s/times", attr);
	return read_long(path) == 0;
}

static int count_dev(const struct pfnl_dev *dev, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int nr_devices(struct pfnl *h)
{
	int n = 0;

	return pfnl_dev_dump(h, count_dev, &n) ? -1 : n;
}

FIXTURE(fault) {
	struct pfnl *h;
	char dir[64];
	char file[96];
	int before;
};

FIXTURE_VARIANT(fault) {
	const char *attr;
};

FIXTURE_VARIANT_ADD(fault, failslab) {
	.attr = "failslab",
};

FIXTURE_VARIANT_ADD(fault, fail_page_alloc) {
	.attr = "fail_page_alloc",
};

FIXTURE_SETUP(fault)
{
	char path[128];

	snprintf(path, sizeof(path), DEBUGFS "/%s/probability", variant->attr);
	if (access(path, W_OK))
		SKIP(return, "no %s in debugfs: not the debug kernel",
		     variant->attr);
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pft_scratch_vars(self->dir, sizeof(self->dir), "16m",
				      self->file, sizeof(self->file), 65536,
				      NULL));
	self->before = nr_devices(self->h);
	ASSERT_LE(0, self->before);
}

FIXTURE_TEARDOWN(fault)
{
	if (!self->h)
		return;
	disarm(variant->attr);
	EXPECT_EQ(self->before, nr_devices(self->h));
	pft_tmpfs_remove(self->dir);
	pfnl_close(self->h);
}

/*
 * Run @op under injection, failing its first, second, ... allocation;
 * @check judges each outcome (see next_step() for which allocations are
 * failed).  @op runs on a handle of its own, @h: an
 * injected failure may cost the socket the kernel's answer (netlink then
 * reports ENOBUFS on the socket), so the handle is not reused, and
 * __lost tells @check that the outcome is unknown.  Evaluates to the
 * step at which @op ran through without an injected failure.
 */
#define INJECT(op, check) ({						\
	int __step, __ret, __failed = 0;				\
	double __start = pft_now();					\
	struct pfnl *h;							\
	bool __lost;							\
									\
	for (__step = 1; __step <= MAX_STEPS;				\
	     __step = next_step(__step)) {				\
		ASSERT_EQ(0, pfnl_open(&h));				\
		ASSERT_EQ(0, arm(variant->attr, __step));		\
		__ret = (op);						\
		__failed = disarm(variant->attr);			\
		__lost = __ret < 0 && !pfnl_last_ack(h)->error;		\
		(void)__lost;	/* not every @check looks at it */	\
		pfnl_close(h);						\
		check;							\
		if (!__failed)						\
			break;						\
	}								\
	EXPECT_GT(MAX_STEPS, __step);					\
	TH_LOG("%s: ran through at step %d, in %.1f s", variant->attr,	\
	       __step, pft_now() - __start);				\
	__step;								\
})

TEST_F(fault, create)
{
	struct pfnl_dev req = {}, dev;

	if (pft_setup_skipped(_metadata))
		return;

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 1 << 20);
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, INDEX);
	INJECT(pft_create(h, &req, &dev), ({
		if (__lost) {
			/* Unknown: take away what may have been made. */
			pft_destroy(self->h, INDEX);
		} else if (__ret) {
			/* A clean error, and no device. */
			EXPECT_GT(0, __ret);
			EXPECT_EQ(self->before, nr_devices(self->h));
		} else {
			EXPECT_EQ(0, pft_destroy(self->h, INDEX));
		}
	}));
}

TEST_F(fault, create_backed_writeback_and_destroy)
{
	struct pfnl_dev req = {}, dev;

	if (pft_setup_skipped(_metadata))
		return;

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, INDEX);
	INJECT(pft_create_backed(h, self->file, &req, &dev), ({
		if (__lost) {
			pft_destroy(self->h, INDEX);
		} else if (__ret) {
			EXPECT_GT(0, __ret);
			EXPECT_EQ(self->before, nr_devices(self->h));
			/* Nothing holds the backing file's lock. */
			EXPECT_EQ(0, pft_locked(self->file));
		} else {
			EXPECT_EQ(0, pft_destroy(self->h, INDEX));
		}
	}));
	/*
	 * Destroy under injection too: it either goes, or stays whole.  Once
	 * it has gone (perhaps in a step whose answer was lost), there is
	 * nothing left to inject into.
	 */
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &dev));
	INJECT(pft_destroy(h, dev.index), ({
		int __got = pft_get(self->h, dev.index, NULL);

		if (!__ret) {
			EXPECT_EQ(-ENODEV, __got);
		} else if (!__lost) {
			EXPECT_EQ(0, __got)
				TH_LOG("destroy failed at step %d with %d, yet the device is gone",
				       __step, __ret);
		}
		if (__got == -ENODEV)
			__failed = 0;
	}));
	EXPECT_EQ(-ENODEV, pft_get(self->h, dev.index, NULL));
}

TEST_F(fault, netlink_commands)
{
	struct pfnl_dev req = {}, dev, got;

	if (pft_setup_skipped(_metadata))
		return;

	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
		     PFLASH_CACHE_MODE_WRITEBACK);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &dev));
	INJECT(pft_get(h, dev.index, &got), EXPECT_LE(__ret, 0));
	INJECT(nr_devices(h),
	       EXPECT_TRUE(__ret == -1 || __ret == self->before + 1));
	INJECT(pft_flush(h, dev.index, true), EXPECT_LE(__ret, 0));
	/* Inactivate and activate: either done, or not begun. */
	INJECT(pft_index_cmd(h, PFLASH_CMD_INACTIVATE, dev.index, NULL),
	       ({
		ASSERT_EQ(0, pft_get(self->h, dev.index, &got));
		if (!__lost)
			EXPECT_EQ(__ret ? PFLASH_STATE_ACTIVE :
				  PFLASH_STATE_INACTIVE, got.state);
		if (got.state == PFLASH_STATE_INACTIVE && __failed)
			/* It got through; go back for the next step. */
			ASSERT_EQ(0, pft_index_cmd(self->h,
						   PFLASH_CMD_ACTIVATE,
						   dev.index, NULL));
	}));
	INJECT(pft_index_cmd(h, PFLASH_CMD_ACTIVATE, dev.index, NULL),
	       ({
		ASSERT_EQ(0, pft_get(self->h, dev.index, &got));
		if (!__lost)
			EXPECT_EQ(__ret ? PFLASH_STATE_INACTIVE :
				  PFLASH_STATE_ACTIVE, got.state);
		/* The lock is held exactly while active. */
		EXPECT_EQ(got.state == PFLASH_STATE_ACTIVE,
			  pft_locked(self->file));
		if (got.state == PFLASH_STATE_ACTIVE && __failed)
			ASSERT_EQ(0, pft_index_cmd(self->h,
						   PFLASH_CMD_INACTIVATE,
						   dev.index, NULL));
	}));
	EXPECT_EQ(0, pft_destroy(self->h, dev.index));
}

TEST_F(fault, export_and_import)
{
	struct pfnl_dev req = {}, src, dst, got;
	struct pft_stream s = {}, tmp;
	uint8_t *before;

	if (pft_setup_skipped(_metadata))
		return;
	before = pft_slurp(self->file, 65536);

	ASSERT_NE(NULL, before);
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 65536);
	ASSERT_EQ(0, pft_create(self->h, &req, &src));
	ASSERT_EQ(0, pft_export(self->h, src.index, &s));

	INJECT(pft_export(h, src.index, &tmp), ({
		if (!__ret)
			EXPECT_EQ(0, memcmp(tmp.buf, s.buf, s.len) ||
				  tmp.len != s.len);
		pft_stream_free(&tmp);
	}));

	req.attrs = 0;
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create_backed(self->h, self->file, &req, &dst));
	INJECT(pft_import(h, dst.index, s.buf, s.len,
			  PFLASH_STREAM_CHUNK_MAX, &got), ({
		struct pfnl_dev now = {};
		int fd = pft_open(dst.index, O_RDONLY | O_DIRECT);

		ASSERT_EQ(0, pft_get(self->h, dst.index, &now));
		if (__lost && now.flush_pending) {
			close(fd);
			ASSERT_EQ(0, pft_destroy(self->h, dst.index));
			ASSERT_EQ(0, pft_create_backed(self->h, self->file,
						       &req, &dst));
		} else if (__ret || !got.attrs) {
			/* Not committed: the target is as it was. */
			EXPECT_FALSE(now.flush_pending);
			EXPECT_EQ(-1, pft_diff(fd, before, 65536));
			close(fd);
		} else {
			/* Committed: start the next step afresh. */
			EXPECT_TRUE(now.flush_pending);
			close(fd);
			ASSERT_EQ(0, pft_destroy(self->h, dst.index));
			ASSERT_EQ(0, pft_create_backed(self->h, self->file,
						       &req, &dst));
		}
	}));
	EXPECT_EQ(0, pft_destroy(self->h, dst.index));
	EXPECT_EQ(0, pft_destroy(self->h, src.index));
	pft_stream_free(&s);
	free(before);
}

TEST_HARNESS_MAIN
