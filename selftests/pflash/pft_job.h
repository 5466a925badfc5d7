/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transfers through a file descriptor, for the tests of
 * PFLASH_A_DEV_STREAM_FD: streams in memory files, and an export or an
 * import on a thread of its own, which a test can interrupt.
 */
#ifndef PFT_JOB_H
#define PFT_JOB_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "pflash_test.h"

/* Write all @len bytes of @buf to pipe @fd. */
static inline int pft_write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0)
			return -errno;
		buf = (const uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

/* A file in memory holding @len bytes of @buf, at offset 0. */
static inline int pft_memfile(const void *buf, size_t len)
{
	int fd = memfd_create("pflash-stream", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (pft_pwrite_full(fd, buf, len, 0) || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The whole of memory file @fd, which must be @len bytes, equals @buf. */
static inline bool pft_memfile_is(int fd, const void *buf, size_t len)
{
	uint8_t *got = malloc(len + 1);
	bool same;

	same = got && pread(fd, got, len + 1, 0) == (ssize_t)len &&
	       !memcmp(got, buf, len);
	free(got);
	return same;
}

/* Import @len bytes of @buf into @dst through a file; its reply in @out. */
static inline int pft_import_bytes(struct pfnl *h, uint32_t dst,
				   const void *buf, size_t len,
				   struct pfnl_dev *out)
{
	int fd = pft_memfile(buf, len), ret;

	if (fd < 0)
		return -errno;
	ret = pfnl_import_fd(h, dst, fd, out);
	close(fd);
	return ret;
}

/* What a job does. */
enum pft_job_what {
	PFT_JOB_EXPORT,	/* an export of the device into the file */
	PFT_JOB_IMPORT,	/* an import into the device from it */
	PFT_JOB_LIVE,	/* pass 0 of a live export into it */
};

/*
 * A transfer on a thread of its own, on a handle of its own, of device
 * @index through @fd.
 */
struct pft_job {
	uint32_t index;
	int fd;
	enum pft_job_what what;
	struct pfnl_dev reply;
	char msg[PFNL_MSG_MAX];
	int ret;
	atomic_bool done;
	atomic_int tid;		/* the thread's id, a pid_t */
	pthread_t thread;
};

static inline void *pft_job_run(void *arg)
{
	struct pft_job *j = arg;
	struct pfnl *h;

	atomic_store(&j->tid, gettid());
	j->ret = pfnl_open(&h);
	if (!j->ret) {
		if (j->what == PFT_JOB_IMPORT)
			j->ret = pfnl_import_fd(h, j->index, j->fd, &j->reply);
		else if (j->what == PFT_JOB_LIVE)
			j->ret = pfnl_export_pass(h, j->index, j->fd, 0, false,
						  &j->reply);
		else
			j->ret = pfnl_export_fd(h, j->index, j->fd, &j->reply);
		snprintf(j->msg, sizeof(j->msg), "%s", pfnl_last_ack(h)->msg);
		pfnl_close(h);
	}
	atomic_store(&j->done, true);
	return NULL;
}

static inline int pft_job_start(struct pft_job *j, uint32_t index, int fd,
				enum pft_job_what what)
{
	memset(j, 0, sizeof(*j));
	j->index = index;
	j->fd = fd;
	j->what = what;
	return pthread_create(&j->thread, NULL, pft_job_run, j);
}

/*
 * Wait until export @j has filled the pipe whose writing end is @wfd, and
 * that no one reads: it has begun, and, its stream being larger than any
 * pipe, it can go no further until someone reads.  False if it ended
 * instead.
 */
static inline bool pft_job_fills_pipe(struct pft_job *j, int wfd)
{
	struct pollfd room = { .fd = wfd, .events = POLLOUT };
	int n = -1;

	while (!atomic_load(&j->done) && (n = poll(&room, 1, 0)) > 0)
		usleep(1000);
	return !atomic_load(&j->done) && !n;
}

/*
 * Write the first @len bytes of @buf, a stream, into the pipe @p, whose
 * reading end import @j reads, and wait until it has read them all: it
 * has begun, and waits for the rest.  False if it ended instead.
 */
static inline bool pft_job_took(struct pft_job *j, const int p[2],
				const void *buf, size_t len)
{
	int left = -1;

	if (pft_write_all(p[1], buf, len))
		return false;
	while (!atomic_load(&j->done) && !ioctl(p[0], FIONREAD, &left) && left)
		usleep(1000);
	return !atomic_load(&j->done) && !left;
}

static inline void pft_on_signal(int sig)
{
	(void)sig;
}

/*
 * Signal @j until it ends: a signal that comes before it waits in the
 * kernel only runs the handler, so it is sent again.
 */
static inline void pft_job_interrupt(struct pft_job *j)
{
	struct sigaction sa = { .sa_handler = pft_on_signal };	/* no SA_RESTART */

	char path[64], buf[256] = "";
	int tries = 0, fd;

	sigaction(SIGUSR1, &sa, NULL);
	while (!atomic_load(&j->done)) {
		pthread_kill(j->thread, SIGUSR1);
		usleep(20 * 1000);
		if (++tries % 100)
			continue;
		/* Say where it waits, should it not end. */
		snprintf(path, sizeof(path), "/proc/self/task/%d/stack",
			 atomic_load(&j->tid));
		fd = open(path, O_RDONLY);
		if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
			fprintf(stderr, "# still waiting: %s\n", buf);
		if (fd >= 0)
			close(fd);
	}
	pthread_join(j->thread, NULL);
}

/*
 * Read all that @j sends into pipe @rfd, until it ends on its own, and
 * wait for it: 0, or -ENOMEM.
 */
static inline int pft_job_drain(struct pft_job *j, int rfd)
{
	uint8_t *buf = malloc(1 << 20);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	fcntl(rfd, F_SETFL, O_NONBLOCK);
	for (;;) {
		n = read(rfd, buf, 1 << 20);
		if (n < 0 && errno == EAGAIN && atomic_load(&j->done))
			break;
		if (n < 0 && errno == EAGAIN)
			usleep(10 * 1000);
		else if (n <= 0)
			break;
	}
	pthread_join(j->thread, NULL);
	free(buf);
	return 0;
}

/*
 * Start @j, of @what from device @index into a pipe that no one reads,
 * destroy the device once @j has filled the pipe and waits for its
 * reader, then read all @j sends until it ends: 0, or the first step's
 * -errno (-EAGAIN: @j ended before it filled the pipe).
 */
static inline int pft_job_destroyed_meanwhile(struct pfnl *h, uint32_t index,
					      enum pft_job_what what,
					      struct pft_job *j)
{
	int p[2], ret;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	ret = pft_job_start(j, index, p[1], what);
	if (!ret && !pft_job_fills_pipe(j, p[1]))
		ret = -EAGAIN;
	if (!ret)
		ret = pft_destroy(h, index);
	if (!ret)
		ret = pft_job_drain(j, p[0]);
	close(p[0]);
	close(p[1]);
	return ret;
}

#endif /* PFT_JOB_H */
