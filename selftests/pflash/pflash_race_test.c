// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle races: many threads at once on a few device indices, each
 * creating, destroying, describing, flushing, inactivating, activating,
 * exporting (to the end, or cut short) and importing, while others open
 * the devices and read and write them.  Every outcome must be success or
 * an errno that the race explains, with an extended-ack message; nothing
 * may splat, leak or hang (KASAN, lockdep and kmemleak watch on the debug
 * kernel).  Afterwards every device left can be described, read whole and
 * destroyed, and nothing else is left.
 *
 * Also, one race made to happen every time: a device destroyed in the
 * middle of its export dump, which then ends with ENODEV and says why.
 * And reads of an inactive device while imports replace its contents,
 * one after another: each read sees the contents before an import or
 * after it, whole.
 *
 * The work is counted, not timed: PFLASH_RACE_OPS operations per control
 * thread (default 150 on the debug kernel, 400 elsewhere).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "../kselftest_harness.h"
#include "pft_raw.h"
#include "pft_stream.h"

/* The indices the threads fight over. */
#define RACE_INDEX	960
#define RACE_DEVS	6
#define RACE_SIZE	65536
#define CTL_THREADS	3
#define IO_THREADS	2

enum op {
	OP_CREATE, OP_DESTROY, OP_GET, OP_FLUSH, OP_INACTIVATE, OP_ACTIVATE,
	OP_EXPORT, OP_EXPORT_CUT, OP_IMPORT, OP_DUMP, NR_OPS,
};

static const char *const op_names[NR_OPS] = {
	"create", "destroy", "get", "flush", "inactivate", "activate",
	"export", "export cut short", "import", "dump",
};

/*
 * The errnos each operation may end with, when another thread got there
 * first: the device is gone or going (ENODEV), open (EBUSY), inactive
 * (EROFS for a full flush, EBUSY for an import), taken (EEXIST), or an
 * import from another thread took over (EINVAL: this one's next piece does
 * not follow on), or the device was activated since the stream was made
 * (ESTALE: its epoch is past the stream's).
 */
static bool allowed(enum op op, int err)
{
	switch (op) {
	case OP_CREATE:
		return err == -EEXIST;
	case OP_DESTROY:
	case OP_INACTIVATE:
		return err == -ENODEV || err == -EBUSY;
	case OP_GET:
	case OP_ACTIVATE:
	case OP_EXPORT:
	case OP_EXPORT_CUT:
		return err == -ENODEV;
	case OP_FLUSH:
		return err == -ENODEV || err == -EROFS;
	case OP_IMPORT:
		return err == -ENODEV || err == -EBUSY || err == -EINVAL ||
		       err == -ESTALE;
	default:
		return false;
	}
}

struct race {
	char dir[64];
	char file[RACE_DEVS][96];
	struct pft_stream good;		/* imports into any of the devices */
	unsigned int ops;		/* per control thread */
	atomic_bool stop;
	atomic_uint done[NR_OPS];	/* successes */
	atomic_uint refused[NR_OPS];	/* allowed errnos */
	atomic_uint io_ok, io_refused;
	atomic_uint bad;
	char first_bad[256];
	pthread_mutex_t lock;		/* first_bad */
};

static void bad(struct race *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (!r->bad++) {
		va_start(ap, fmt);
		vsnprintf(r->first_bad, sizeof(r->first_bad), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->lock);
}

static uint32_t next_rand(uint32_t *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

static int count_dev(const struct pfnl_dev *dev, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Export device @index; read one message and hang up. */
static int export_cut(uint32_t index)
{
	static __thread uint8_t buf[1 << 16];
	struct pft_raw raw;
	size_t len;
	int n, ret;

	ret = pft_raw_open(&raw);
	if (ret)
		return ret;
	len = pft_raw_start(buf, raw.family, NLM_F_REQUEST | NLM_F_DUMP, 1,
			    PFLASH_CMD_EXPORT);
	pft_raw_put(buf, &len, PFLASH_A_DEV_INDEX, &index, 4);
	((struct nlmsghdr *)buf)->nlmsg_len = len;
	ret = pft_raw_send(raw.fd, buf, len);
	if (!ret) {
		n = pft_raw_recv(raw.fd, buf, sizeof(buf), sizeof(buf), 60000);
		ret = n < 0 ? n : 0;
		/* A refusal at once is an answer like any other. */
		if (n > 0 && (((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_DONE ||
			      ((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR))
			ret = pft_raw_error((struct nlmsghdr *)buf);
	}
	close(raw.fd);
	return ret;
}

/* One operation on device @index. */
static int do_op(struct race *r, struct pfnl *h, enum op op,
		 uint32_t index, uint32_t rnd)
{
	struct pfnl_dev req = {}, got;
	struct pft_stream s;
	int ret, fd;

	switch (op) {
	case OP_CREATE:
		pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
		if (rnd & 1)
			pfnl_dev_set(&req, PFLASH_A_DEV_STATE,
				     PFLASH_STATE_INACTIVE);
		if (index % 2)
			break;
		/* Even indices have a backing file of their own. */
		if (rnd & 2)
			pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
				     PFLASH_CACHE_MODE_WRITEBACK);
		fd = open(r->file[index - RACE_INDEX], O_RDWR);
		if (fd < 0)
			return -errno;
		pfnl_dev_set(&req, PFLASH_A_DEV_BACKING_FD, fd);
		ret = pft_create(h, &req, NULL);
		close(fd);
		return ret;
	case OP_DESTROY:
		pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
		if (rnd & 4)
			pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, 1);
		return pfnl_dev_do(h, PFLASH_CMD_DEV_DEL, &req, NULL);
	case OP_GET:
		return pft_get(h, index, &got);
	case OP_FLUSH:
		return pft_flush(h, index, rnd & 8);
	case OP_INACTIVATE:
		return pft_index_cmd(h, PFLASH_CMD_INACTIVATE, index, NULL);
	case OP_ACTIVATE:
		return pft_index_cmd(h, PFLASH_CMD_ACTIVATE, index, NULL);
	case OP_EXPORT:
		ret = pft_export(h, index, &s);
		pft_stream_free(&s);
		return ret;
	case OP_EXPORT_CUT:
		return export_cut(index);
	case OP_IMPORT:
		return pft_import(h, index, r->good.buf, r->good.len,
				  256 + rnd % r->good.len, &got);
	case OP_DUMP:
		fd = 0;
		return pfnl_dev_dump(h, count_dev, &fd);
	default:
		return -EINVAL;
	}
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, RACE_SIZE);
	return pft_create(h, &req, NULL);
}

/*
 * Operation @op alone, once the race is over, on a device at RACE_INDEX
 * (which has a backing file) made for it: none for a create, an inactive
 * one, new, for an import (its epoch is not past the stream's), an active
 * one for the others.  Its error.
 */
static int op_alone(struct race *r, struct pfnl *h, enum op op)
{
	int ret;

	ret = pft_destroy(h, RACE_INDEX);
	if (ret && ret != -ENODEV)
		return ret;
	if (op != OP_CREATE) {
		ret = do_op(r, h, OP_CREATE, RACE_INDEX, op == OP_IMPORT);
		if (ret)
			return ret;
	}
	return do_op(r, h, op, RACE_INDEX, 0);
}

struct worker {
	struct race *r;
	uint32_t seed;
	pthread_t tid;
};

static void *ctl_thread(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;
	struct pfnl *h;
	unsigned int i;

	if (pfnl_open(&h)) {
		bad(r, "a control thread could not open a handle");
		return NULL;
	}
	for (i = 0; i < r->ops; i++) {
		uint32_t rnd = next_rand(&w->seed);
		enum op op = rnd % NR_OPS;
		uint32_t index = RACE_INDEX + (rnd >> 8) % RACE_DEVS;
		int ret = do_op(r, h, op, index, rnd >> 16);

		if (!ret) {
			r->done[op]++;
		} else if (allowed(op, ret) &&
			   (op == OP_EXPORT_CUT || pfnl_last_ack(h)->msg[0])) {
			r->refused[op]++;
		} else {
			bad(r, "%s of pflash%u: %d (%s)", op_names[op], index,
			    ret, pfnl_last_ack(h)->msg);
		}
	}
	pfnl_close(h);
	return NULL;
}

/* Open, read, write, discard and close devices while they come and go. */
static void *io_thread(void *arg)
{
	static const int gone[] = { ENOENT, ENXIO, ENODEV, EROFS, EPERM, EIO };
	struct worker *w = arg;
	struct race *r = w->r;
	uint8_t *buf = pft_alloc(4096);
	unsigned int i;

	if (!buf)
		return NULL;
	while (!r->stop) {
		uint32_t rnd = next_rand(&w->seed);
		uint32_t index = RACE_INDEX + rnd % RACE_DEVS;
		uint64_t off = (rnd >> 8) % (RACE_SIZE / 4096) * 4096;
		uint64_t range[2] = { off, 4096 };
		int fd = pft_open(index, (rnd & 0x10000 ? O_RDWR : O_RDONLY) |
					 O_DIRECT);
		int ret = fd < 0 ? -errno : 0;

		if (!ret) {
			pft_pattern(buf, 4096, off, rnd);
			if (rnd & 0x10000)
				ret = rnd & 0x20000 ? pft_pwrite_full(fd, buf, 4096, off) :
				      ioctl(fd, BLKDISCARD, range) ? -errno : 0;
			if (!ret)
				ret = pft_pread_full(fd, buf, 4096, off);
			if (!ret && (rnd & 0x40000))
				ret = fsync(fd) ? -errno : 0;
			close(fd);
		}
		if (!ret) {
			r->io_ok++;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(gone); i++)
			if (ret == -gone[i])
				break;
		if (i == ARRAY_SIZE(gone))
			bad(r, "I/O on pflash%u: %d", index, ret);
		r->io_refused++;
	}
	free(buf);
	return NULL;
}

FIXTURE(race) {
	struct race *r;
	struct pfnl *h;
	int before;
};

FIXTURE_SETUP(race)
{
	struct race *r = calloc(1, sizeof(*r));
	const char *ops = getenv("PFLASH_RACE_OPS");
	int i;

	ASSERT_NE(NULL, r);
	self->r = r;
	pthread_mutex_init(&r->lock, NULL);
	r->ops = ops && *ops ? strtoul(ops, NULL, 0) : pft_debug_kernel() ? 150 : 400;
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, pfnl_dev_dump(self->h, count_dev, &self->before));
	ASSERT_EQ(0, pft_tmpfs(r->dir, sizeof(r->dir), "16m"));
	for (i = 0; i < RACE_DEVS; i++) {
		snprintf(r->file[i], sizeof(r->file[i]), "%s/%d.fd", r->dir, i);
		ASSERT_EQ(0, pft_mkfile(r->file[i], RACE_SIZE, 1 + i));
	}

	/* A stream with data, zeros and erased flash, for the imports. */
	ASSERT_EQ(0, pft_sample_stream(self->h, RACE_SIZE, 4096, 5, &r->good));
}

FIXTURE_TEARDOWN(race)
{
	struct race *r = self->r;
	int i, n = 0;

	if (!r)
		return;
	for (i = 0; i < RACE_DEVS; i++)
		pft_destroy(self->h, RACE_INDEX + i);
	EXPECT_EQ(0, pfnl_dev_dump(self->h, count_dev, &n));
	EXPECT_EQ(self->before, n);
	pft_tmpfs_remove(r->dir);
	pft_stream_free(&r->good);
	pfnl_close(self->h);
	free(r);
}

TEST_F_TIMEOUT(race, control_and_io_threads_on_the_same_devices, 280)
{
	struct worker ctl[CTL_THREADS], io[IO_THREADS];
	struct race *r = self->r;
	unsigned int i, total = 0, refused = 0, left = 0;
	uint8_t *buf = pft_alloc(RACE_SIZE);

	ASSERT_NE(NULL, buf);
	for (i = 0; i < IO_THREADS; i++) {
		io[i] = (struct worker){ .r = r, .seed = 100 + i };
		ASSERT_EQ(0, pthread_create(&io[i].tid, NULL, io_thread, &io[i]));
	}
	for (i = 0; i < CTL_THREADS; i++) {
		ctl[i] = (struct worker){ .r = r, .seed = 1 + i };
		ASSERT_EQ(0, pthread_create(&ctl[i].tid, NULL, ctl_thread, &ctl[i]));
	}
	for (i = 0; i < CTL_THREADS; i++)
		pthread_join(ctl[i].tid, NULL);
	r->stop = true;
	for (i = 0; i < IO_THREADS; i++)
		pthread_join(io[i].tid, NULL);

	for (i = 0; i < NR_OPS; i++) {
		TH_LOG("%-16s %4u done, %4u refused by the race", op_names[i],
		       r->done[i], r->refused[i]);
		total += r->done[i] + r->refused[i];
		refused += r->refused[i];
	}
	TH_LOG("%u operations (%u refused by the race), %u I/O rounds (%u refused)",
	       total, refused, r->io_ok + r->io_refused, r->io_refused);
	if (r->bad)
		TH_LOG("%u unexplained outcome(s), the first: %s", r->bad,
		       r->first_bad);
	EXPECT_EQ(0, r->bad);
	EXPECT_EQ(CTL_THREADS * r->ops, total);
	/* What is left can be described, read whole and destroyed. */
	for (i = 0; i < RACE_DEVS; i++) {
		struct pfnl_dev got;
		int fd;

		if (pft_get(self->h, RACE_INDEX + i, &got) == -ENODEV)
			continue;
		left++;
		EXPECT_EQ(RACE_SIZE, got.size);
		fd = pft_open(RACE_INDEX + i, O_RDONLY | O_DIRECT);
		EXPECT_LE(0, fd);
		if (fd >= 0) {
			EXPECT_EQ(0, pft_pread_full(fd, buf, RACE_SIZE, 0));
			close(fd);
		}
		EXPECT_EQ(0, pft_destroy(self->h, RACE_INDEX + i));
	}
	TH_LOG("%u device(s) left, all destroyed", left);
	/*
	 * Which operations the race lets through is the interleaving's to
	 * say (an import, say, needs a fresh inactive device).  One that it
	 * never let through must go through alone, on a device made for it.
	 */
	for (i = 0; i < NR_OPS; i++) {
		if (r->done[i])
			continue;
		TH_LOG("the race let no %s through: once more, alone",
		       op_names[i]);
		EXPECT_EQ(0, op_alone(r, self->h, i))
			TH_LOG("%s alone: %s", op_names[i],
			       pfnl_last_ack(self->h)->msg);
	}

	free(buf);
}

/*
 * A device destroyed while its export dump is under way: the dump ends
 * with ENODEV, and says why; the reader's socket, the export and the
 * device all go away cleanly (KASAN and kmemleak watch).
 */
TEST_F(race, destroy_during_an_export_dump)
{
	static uint8_t buf[1 << 16];
	struct pfnl_dev req = {}, dev;
	uint8_t *data = pft_alloc(1 << 20);
	struct pft_raw raw;
	bool ended = false;
	unsigned int msgs = 0;
	size_t len;
	int fd, n;

	/* 1 MiB of data: an export of many messages. */
	ASSERT_NE(NULL, data);
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, 1 << 20);
	ASSERT_EQ(0, pft_create(self->h, &req, &dev));
	fd = pft_open(dev.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	pft_pattern(data, 1 << 20, 0, 3);
	ASSERT_EQ(0, pft_pwrite_full(fd, data, 1 << 20, 0));
	close(fd);

	ASSERT_EQ(0, pft_raw_open(&raw));
	len = pft_raw_start(buf, raw.family, NLM_F_REQUEST | NLM_F_DUMP, 1,
			    PFLASH_CMD_EXPORT);
	pft_raw_put(buf, &len, PFLASH_A_DEV_INDEX, &dev.index, 4);
	((struct nlmsghdr *)buf)->nlmsg_len = len;
	ASSERT_EQ(0, pft_raw_send(raw.fd, buf, len));
	n = pft_raw_recv(raw.fd, buf, sizeof(buf), 8192, 60000);
	ASSERT_LT(0, n);
	EXPECT_EQ(raw.family, ((struct nlmsghdr *)buf)->nlmsg_type);

	/* Mid-dump: the device goes. */
	ASSERT_EQ(0, pft_destroy(self->h, dev.index));
	while (!ended) {
		n = pft_raw_recv(raw.fd, buf, sizeof(buf), 8192, 60000);
		ASSERT_LT(0, n);
		for (struct nlmsghdr *nlh = (void *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			msgs++;
			if (nlh->nlmsg_type != NLMSG_DONE)
				continue;
			ended = true;
			EXPECT_EQ(-ENODEV, pft_raw_error(nlh));
			EXPECT_NE(NULL, pft_raw_ext_msg(nlh));
		}
	}
	TH_LOG("the dump ended after %u more message(s)", msgs);
	/* A few messages were under way, not the megabyte. */
	EXPECT_GT(16, msgs);
	close(raw.fd);
	free(data);
}

/*
 * Reads while imports replace an inactive device's contents.  An import's
 * commit swaps the buffer under the data path without freezing the queue
 * (pflash_blk_replace()), and a bio reads the buffer's address once: each
 * read, one bio, is served wholly from the contents before the swap or
 * wholly from those after it.  The two streams fill the device with one
 * byte each, so a read of both bytes is a mix.
 */
#define SWAP_SIZE	(1024 * 1024)
#define SWAP_READ	(256 * 1024)	/* 64 pages: one bio */
#define SWAP_READERS	2

static const uint8_t swap_fill[2] = { 0x5a, 0xa5 };

struct swap_reader {
	pthread_t tid;
	uint32_t index;
	atomic_bool *stop;
	unsigned int reads, mixed, seen[2];
	int err;
};

static void *swap_reader(void *arg)
{
	struct swap_reader *rd = arg;
	uint8_t *buf = pft_alloc(SWAP_READ);
	off_t off = 0;
	size_t i;
	int fd;

	fd = pft_open(rd->index, O_RDONLY | O_DIRECT);
	if (!buf || fd < 0) {
		rd->err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	while (!atomic_load(rd->stop)) {
		rd->err = pft_pread_full(fd, buf, SWAP_READ, off);
		if (rd->err)
			break;
		rd->reads++;
		for (i = 1; i < SWAP_READ && buf[i] == buf[0]; i++)
			;
		if (i < SWAP_READ ||
		    (buf[0] != swap_fill[0] && buf[0] != swap_fill[1]))
			rd->mixed++;
		else
			rd->seen[buf[0] == swap_fill[1]]++;
		off = (off + SWAP_READ) % SWAP_SIZE;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

TEST(reads_during_imports_see_the_old_contents_or_the_new)
{
	unsigned int i, imports = pft_debug_kernel() ? 100 : 300;
	struct swap_reader rd[SWAP_READERS];
	struct pfnl_dev req = {}, src, dst, out;
	uint8_t *buf = pft_alloc(SWAP_SIZE);
	unsigned int reads = 0, seen[2] = {};
	atomic_bool stop = false;
	struct pft_stream s[2];
	struct pfnl *h;
	int fd;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pfnl_open(&h));
	/* The two streams, from one device filled with each byte in turn. */
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, SWAP_SIZE);
	ASSERT_EQ(0, pft_create(h, &req, &src));
	fd = pft_open(src.index, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		memset(buf, swap_fill[i], SWAP_SIZE);
		ASSERT_EQ(0, pft_pwrite_full(fd, buf, SWAP_SIZE, 0));
		ASSERT_EQ(0, pft_export(h, src.index, &s[i]));
	}
	close(fd);
	ASSERT_EQ(0, pft_destroy(h, src.index));

	/* The target, inactive, and the first stream in it. */
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ASSERT_EQ(0, pft_create(h, &req, &dst));
	ASSERT_EQ(0, pft_import(h, dst.index, s[0].buf, s[0].len,
				PFLASH_STREAM_CHUNK_MAX, &out));

	for (i = 0; i < SWAP_READERS; i++) {
		rd[i] = (struct swap_reader){ .index = dst.index, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&rd[i].tid, NULL, swap_reader,
					    &rd[i]));
	}
	for (i = 1; i <= imports; i++) {
		const struct pft_stream *next = &s[i % 2];

		EXPECT_EQ(0, pft_import(h, dst.index, next->buf, next->len,
					PFLASH_STREAM_CHUNK_MAX, &out))
			TH_LOG("import %u: %s", i, pfnl_last_ack(h)->msg);
	}
	atomic_store(&stop, true);
	for (i = 0; i < SWAP_READERS; i++) {
		pthread_join(rd[i].tid, NULL);
		EXPECT_EQ(0, rd[i].err);
		EXPECT_EQ(0, rd[i].mixed);
		reads += rd[i].reads;
		seen[0] += rd[i].seen[0];
		seen[1] += rd[i].seen[1];
	}
	TH_LOG("%u imports, %u reads of %u KiB: %u of the first contents, %u of the second",
	       imports, reads, SWAP_READ / 1024, seen[0], seen[1]);
	/* The reads ran beside the imports, not before or after them all. */
	EXPECT_LT(0, seen[0]);
	EXPECT_LT(0, seen[1]);

	/* The last import's contents, whole. */
	fd = pft_open(dst.index, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pft_pread_full(fd, buf, SWAP_SIZE, 0));
	close(fd);
	for (i = 0; i < SWAP_SIZE && buf[i] == swap_fill[imports % 2]; i++)
		;
	EXPECT_EQ(SWAP_SIZE, i);
	EXPECT_EQ(0, pft_destroy(h, dst.index));
	pft_stream_free(&s[0]);
	pft_stream_free(&s[1]);
	pfnl_close(h);
	free(buf);
}

TEST_HARNESS_MAIN
