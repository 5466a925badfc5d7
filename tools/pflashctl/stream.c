// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl export, import and inspect: a device's state stream, to a file
 * or a pipe and back, and checked offline by the stream reader
 * (tools/lib/pfstream.c).
 *
 * export and import hand the kernel the stream's file descriptor itself
 * (PFLASH_A_DEV_STREAM_FD): the kernel writes the stream into it, or reads
 * it from it, with no copy through pflashctl.  Only to draw progress, on
 * a terminal, does pflashctl pass the stream on through a pipe of its own,
 * a relay on a thread that checks every record as it passes.  Where the
 * kernel refuses a stream read from a file, pflashctl reads the file
 * again with its own reader, to say at which offset it is wrong.
 *
 * The stream is binary: like gzip, pflashctl refuses to write it to a
 * terminal or to read it from one.  Progress goes to standard error, only
 * when that is a terminal, so that nothing but the stream passes through
 * a pipe or ssh; and an import draws none from a pipe, whose other end,
 * an export, may draw on the same terminal.
 */
#define _GNU_SOURCE		/* asprintf(), mkostemp(), F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>
#include <uuid.h>

#include "pfstream.h"
#include "pflashctl.h"

/* How much of the stream import and inspect read at a time. */
#define READ_MAX	PFLASH_STREAM_CHUNK_MAX

/* Read up to @len bytes, fewer only at the end of the file. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int write_full(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

/* "-" or none is standard input or output. */
static bool is_std(const char *path)
{
	return !path || !strcmp(path, "-");
}

/*
 * Open the stream to read: @path, or standard input if is_std(@path).
 * Returns the descriptor; or reports why not and exits.
 */
static int open_input(const struct ctl_cmd *cmd, const char *path)
{
	struct stat st;
	int fd;

	if (is_std(path)) {
		if (isatty(STDIN_FILENO))
			ctl_usage_error(cmd, "will not read a binary stream from a terminal: name a file or use a redirection");
		return STDIN_FILENO;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ctl_msg(cmd, NULL, "cannot open '%s': %s", path,
			strerror(errno));
		exit(CTL_EXIT_FAILED);
	}
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		ctl_msg(cmd, NULL, "cannot read '%s': %s", path,
			strerror(EISDIR));
		exit(CTL_EXIT_FAILED);
	}
	return fd;
}

/* What is wrong with the stream @s, found in @where. */
static void stream_error(const struct ctl_cmd *cmd, const char *where,
			 const struct pfstream *s, const char *then)
{
	const struct pfstream_status *st = pfstream_status(s);

	ctl_msg(cmd, where, "invalid stream at offset %" PRIu64 ": %s%s",
		st->error_offset, st->msg, then);
}

/* Progress through the device, on a terminal. */
struct progress {
	const struct ctl_cmd *cmd;
	const char *dev;
	bool on;
	int shown;
};

static void progress_init(struct progress *p, const struct ctl_cmd *cmd,
			  const char *dev, bool quiet)
{
	p->cmd = cmd;
	p->dev = dev;
	p->on = !quiet && isatty(STDERR_FILENO);
	p->shown = -1;
}

static void progress_show(struct progress *p,
			  const struct pfstream_status *st)
{
	char done[CTL_HUMAN_SIZE_MAX], size[CTL_HUMAN_SIZE_MAX];
	int pct;

	if (!p->on || !st->have_header)
		return;
	if (st->passes > 1) {
		const struct pfstream_pass *pass = &st->pass[st->passes - 1];

		/* A later pass of a live export: no end is known. */
		ctl_human_size(done, pass->data_bytes + pass->erased_bytes +
				     pass->zero_bytes);
		ctl_status(p->cmd, p->dev, "pass %u: %s", st->passes - 1,
			   done);
		return;
	}
	pct = st->covered * 100 / st->header.size;
	if (pct == p->shown)
		return;
	p->shown = pct;
	ctl_human_size(done, st->covered);
	ctl_human_size(size, st->header.size);
	ctl_status(p->cmd, p->dev, "%3d%% (%s of %s)", pct, done, size);
}

/*
 * Where an export writes (-o): what the path names decides how, and the
 * guards of guard.c whether.
 *  - A new file, or a regular file: a temporary file in the same
 *    directory, renamed into place once the stream is complete and valid,
 *    so that a failed export never leaves a file that looks like a stream.
 *    Never the backing file of a pflash device, by whatever name (a hard
 *    link, a bind mount): renamed over, it would leave the device writing
 *    into a file that no path names any more.
 *  - A FIFO or a character device (/dev/null): written into, as the
 *    stream's sink; nothing is renamed over it.
 *  - A block device, a directory, a socket: refused.  A block device is a
 *    store, which import loads a stream into.
 *  - A symbolic link: what it points to, as above (a link to nothing is
 *    refused); the link itself stays as it was.
 */
struct out_file {
	const char *path;
	char *real;
	const char *target;
	bool sink;
	char *tmp;
	int fd;
	int dirfd;
};

/*
 * The temporary file, for a signal that ends pflashctl to remove: the
 * handler reads tmp_path only while tmp_armed is set.
 */
static const char *tmp_path;
static volatile sig_atomic_t tmp_armed;

static const int fatal_signals[] = { SIGHUP, SIGINT, SIGTERM };

static void remove_tmp_and_die(int sig)
{
	if (tmp_armed)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Give up: remove the temporary file, if there is one. */
static void out_abort(struct out_file *o)
{
	if (o->fd >= 0) {
		close(o->fd);
		if (!o->sink)
			unlink(o->tmp);
		tmp_armed = 0;
	}
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->tmp);
	free(o->real);
}

#define OUT_IMPORT_HINT \
	"to load the stream into a pflash device, import it: pflashctl export DEVICE | pflashctl import OTHER"

/*
 * Whether the stream may go where @o->path names, as struct out_file
 * says: sets @o->target, the file to write or rename over, and @o->sink.
 * Returns the exit status; a refusal is reported.
 */
static int out_check(const struct ctl_cmd *cmd, struct out_file *o)
{
	const char *path = o->path;
	struct stat st;
	int64_t owner;
	int ret;

	o->target = path;
	o->sink = false;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return CTL_EXIT_OK;
		ctl_msg(cmd, NULL, "cannot write '%s': %s", path,
			strerror(errno));
		return CTL_EXIT_FAILED;
	}
	if (S_ISLNK(st.st_mode)) {
		free(o->real);
		o->real = NULL;
		if (stat(path, &st) || !(o->real = realpath(path, NULL))) {
			ctl_msg(cmd, NULL, "cannot write '%s', a symbolic link: %s",
				path, strerror(errno));
			return CTL_EXIT_FAILED;
		}
		o->target = o->real;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		ret = ctl_backing_owner(cmd, &st, &owner);
		if (!ret && owner >= 0) {
			ctl_msg(cmd, NULL, "'%s' is the backing file of " CTL_DEV_FMT ", which the stream would replace: write it to another file",
				path, (uint32_t)owner);
			ret = CTL_EXIT_FAILED;
		}
		return ret;
	case S_IFIFO:
	case S_IFCHR:
		o->sink = true;
		return CTL_EXIT_OK;
	case S_IFBLK:
		ctl_msg(cmd, NULL, "'%s' is a block device, which the stream would overwrite; " OUT_IMPORT_HINT,
			path);
		return CTL_EXIT_FAILED;
	case S_IFDIR:
		ctl_msg(cmd, NULL, "cannot write '%s': %s", path,
			strerror(EISDIR));
		return CTL_EXIT_FAILED;
	default:
		ctl_msg(cmd, NULL, "cannot write '%s': it is a socket, not a file, a FIFO or a character device",
			path);
		return CTL_EXIT_FAILED;
	}
}

/*
 * Standard output, which the shell opened, is no store either: not a
 * block device, nor a backing file.  Returns the exit status.
 */
static int out_check_stdout(const struct ctl_cmd *cmd)
{
	struct stat st;
	int64_t owner;
	int ret;

	if (fstat(STDOUT_FILENO, &st))
		return CTL_EXIT_OK;
	if (S_ISBLK(st.st_mode)) {
		ctl_msg(cmd, NULL, "standard output is a block device, which the stream would overwrite; " OUT_IMPORT_HINT);
		return CTL_EXIT_FAILED;
	}
	if (!S_ISREG(st.st_mode))
		return CTL_EXIT_OK;
	ret = ctl_backing_owner(cmd, &st, &owner);
	if (!ret && owner >= 0) {
		ctl_msg(cmd, NULL, "standard output is the backing file of " CTL_DEV_FMT ", which the stream would overwrite; nothing was written (if the shell emptied it, 'pflashctl flush --full " CTL_DEV_NAME "%" PRIu32 "' writes the device to it again)",
			(uint32_t)owner, (uint32_t)owner);
		ret = CTL_EXIT_FAILED;
	}
	return ret;
}

/* Open the sink @o->target, a FIFO or a character device, as it is. */
static int out_open_sink(const struct ctl_cmd *cmd, struct out_file *o)
{
	o->fd = open(o->target, O_WRONLY | O_CLOEXEC);
	if (o->fd < 0) {
		ctl_msg(cmd, NULL, "cannot open '%s': %s", o->path,
			strerror(errno));
		return CTL_EXIT_FAILED;
	}
	if (isatty(o->fd)) {
		ctl_msg(cmd, NULL, "will not write a binary stream to a terminal ('%s')",
			o->path);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/*
 * Check what @o->path names; open the sink it is, or its directory and a
 * temporary file in it.  Returns the exit status; on failure, out_abort()
 * cleans up.
 */
static int out_open(const struct ctl_cmd *cmd, struct out_file *o)
{
	struct sigaction sa = { .sa_handler = remove_tmp_and_die };
	const char *base;
	int dirlen, ret;
	sigset_t fatal, old;
	mode_t mask;
	char *dir;
	size_t i;
	int err;

	o->fd = -1;
	o->tmp = NULL;
	ret = out_check(cmd, o);
	if (!ret && o->sink)
		ret = out_open_sink(cmd, o);
	if (ret || o->sink)
		return ret;
	base = strrchr(o->target, '/');
	dirlen = base ? base + 1 - o->target : 0;
	base = o->target + dirlen;
	dir = dirlen ? strndup(o->target, dirlen) : strdup(".");
	if (!dir) {
		ctl_msg(cmd, NULL, "%s", strerror(ENOMEM));
		return CTL_EXIT_FAILED;
	}
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	if (o->dirfd < 0)
		ctl_msg(cmd, NULL, "cannot open directory '%s': %s", dir,
			strerror(err));
	free(dir);
	if (o->dirfd < 0)
		return CTL_EXIT_FAILED;
	if (asprintf(&o->tmp, "%.*s.%s.XXXXXX", dirlen, o->target, base) < 0) {
		o->tmp = NULL;
		ctl_msg(cmd, NULL, "%s", strerror(ENOMEM));
		return CTL_EXIT_FAILED;
	}
	sigemptyset(&fatal);
	for (i = 0; i < ARRAY_SIZE(fatal_signals); i++) {
		sigaddset(&fatal, fatal_signals[i]);
		sigaction(fatal_signals[i], &sa, NULL);
	}
	/* No signal between creating the file and knowing its name. */
	sigprocmask(SIG_BLOCK, &fatal, &old);
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	err = errno;
	tmp_path = o->tmp;
	tmp_armed = o->fd >= 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (o->fd < 0) {
		ctl_msg(cmd, NULL, "cannot create '%s': %s", o->tmp,
			strerror(err));
		return CTL_EXIT_FAILED;
	}

	/* The mode of a file the shell would create; mkostemp() uses 0600. */
	mask = umask(0);
	umask(mask);
	if (fchmod(o->fd, 0666 & ~mask)) {
		ctl_msg(cmd, NULL, "cannot set the mode of '%s': %s", o->tmp,
			strerror(errno));
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

/*
 * The stream is complete: make the file durable, put it in place, and
 * make that durable too.  Returns the exit status; the temporary file is
 * gone either way.  What the path names is checked again first: it may
 * have changed while the stream was written.
 */
static int out_commit(const struct ctl_cmd *cmd, struct out_file *o)
{
	const char *what = "write";
	int ret, fd = o->fd;
	char *target;

	if (o->sink) {
		out_abort(o);
		return CTL_EXIT_OK;
	}
	target = strdup(o->target);
	ret = target ? out_check(cmd, o) : CTL_EXIT_FAILED;
	if (!target)
		ctl_msg(cmd, NULL, "%s", strerror(ENOMEM));
	else if (!ret && (o->sink || strcmp(target, o->target))) {
		ctl_msg(cmd, NULL, "'%s' changed while the stream was written; it is left as it is",
			o->path);
		ret = CTL_EXIT_FAILED;
	}
	free(target);
	if (ret) {
		o->sink = false;
		out_abort(o);
		return ret;
	}
	ret = fsync(fd);
	if (!ret) {
		what = "rename";
		ret = rename(o->tmp, o->target);
	}
	if (!ret) {
		/* Renamed: there is no temporary file any more. */
		o->fd = -1;
		tmp_armed = 0;
		what = "sync the directory of";
		ret = fsync(o->dirfd);
	}
	if (ret)
		ctl_msg(cmd, NULL, "cannot %s '%s': %s", what, o->path,
			strerror(errno));
	if (o->fd < 0)
		close(fd);
	out_abort(o);
	return ret ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}

/*
 * The kernel moves the stream a step of 1 MiB at a time (module/export.c,
 * module/import.c).  A pipe of its default 64 KiB would wake the other
 * end sixteen times a step; so a pipe is widened to a step, as far as
 * /proc/sys/fs/pipe-max-size lets it (a failure leaves it as it was).
 */
#define PIPE_STEP	(1 << 20)

static void pipe_widen(int fd)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return;
	if (fcntl(fd, F_GETPIPE_SZ) < PIPE_STEP)
		fcntl(fd, F_SETPIPE_SZ, PIPE_STEP);
}

/**
 * struct relay - the stream passed on between a pipe and a file, checked
 * @from: where it is read
 * @to: where it goes
 * @own: which of the two the relay closes when it ends, so that the other
 *	side sees the end of the stream (or, a reader, a broken pipe)
 * @s: the stream reader that checks it
 * @progress: drawn as it goes
 * @read_err: the negative errno a read failed with
 * @write_err: the negative errno a write failed with
 * @thread: the relay's
 */
struct relay {
	bool on;
	_Atomic uint64_t out;	/* bytes written on */
	_Atomic bool done;
	int from;
	int to;
	int own;
	struct pfstream *s;
	struct progress *progress;
	int read_err;
	int write_err;
	pthread_t thread;
};

static void *relay_run(void *arg)
{
	struct relay *r = arg;
	uint8_t *buf = malloc(READ_MAX);
	ssize_t n;

	while (buf) {
		n = read(r->from, buf, READ_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r->read_err = -errno;
		if (n <= 0 || pfstream_feed(r->s, buf, n))
			break;
		r->write_err = write_full(r->to, buf, n);
		if (r->write_err)
			break;
		r->out += n;
		progress_show(r->progress, pfstream_status(r->s));
	}
	if (!buf)
		r->read_err = -ENOMEM;
	free(buf);
	close(r->own);
	r->done = true;
	return NULL;
}

/*
 * A live export's ctl_live.settle: wait until relay @arg wrote on the
 * stream's first @bytes; 0, or -EPIPE if it stopped short of them.
 */
static int relay_settle(void *arg, uint64_t bytes)
{
	struct relay *r = arg;

	while (r->out < bytes && !r->done)
		usleep(1000);
	return r->out < bytes ? -EPIPE : 0;
}

/*
 * Start a relay from @from to @to through a new pipe, of which the end
 * the kernel uses is returned (an export writes its write end, an import
 * reads its read end); the relay owns the other.  Returns -1 if the relay
 * could not start.
 */
static int relay_start(struct relay *r, int from, int to, bool to_kernel,
		       struct pfstream *s, struct progress *progress)
{
	int p[2], kernel_end;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pipe_widen(p[0]);
	/* The relay's end of a pipe the other side closed: EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	*r = (struct relay) {
		.from = to_kernel ? from : p[0],
		.to = to_kernel ? p[1] : to,
		.own = to_kernel ? p[1] : p[0],
		.s = s,
		.progress = progress,
	};
	kernel_end = to_kernel ? p[0] : p[1];
	if (pthread_create(&r->thread, NULL, relay_run, r)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return kernel_end;
}

/* Wait for the relay: the kernel is done with @kernel_end, closed here. */
static void relay_stop(struct relay *r, int kernel_end)
{
	close(kernel_end);
	pthread_join(r->thread, NULL);
	ctl_status_clear();
}

/*
 * The stream's file for the kernel: @fd itself, or the pipe of a relay
 * started from it (from the kernel, for an export, to it, for an import),
 * with progress on, or if @fd is a character device, which the kernel
 * cannot read or write in its own name (/dev/full, a serial line: no
 * ->read_iter() or ->write_iter()).  Returns -1 if the relay could not
 * start; @r->on says whether it runs.
 */
static int transfer_fd(struct relay *r, int fd, bool to_kernel,
		       struct pfstream *s, struct progress *progress)
{
	struct stat st;
	int kfd;

	r->on = false;
	pipe_widen(fd);
	if (!progress->on && (fstat(fd, &st) || !S_ISCHR(st.st_mode)))
		return fd;
	kfd = to_kernel ? relay_start(r, fd, -1, true, s, progress) :
			  relay_start(r, -1, fd, false, s, progress);
	r->on = kfd >= 0;
	return kfd;
}

/*
 * Inactivate device @index for an export of its final state, as pflashctl
 * inactivate does: not while a process has it open for writing (said, and
 * *@writer set), unless @force, which also inactivates a device held
 * exclusively.
 */
static int export_inactivate(const struct ctl_cmd *cmd, struct pfnl *h,
			     uint32_t index, bool force, bool *writer)
{
	struct pfnl_dev req = { 0 };

	if (!force &&
	    ctl_refuse_writer(cmd, index, "stop it, or export --inactivate --force")) {
		*writer = true;
		return -EBUSY;
	}
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	if (force)
		pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, true);
	return pfnl_dev_do(h, PFLASH_CMD_INACTIVATE, &req, NULL);
}

/*
 * Export device @index into @fd, named @out; a live export if @live is
 * not NULL, else, with @inactivate, of the device inactivated first (even
 * if it is held exclusively, with @force).  Returns the exit status; the
 * kernel's reply, with whether the stream is final and the device's
 * state, in @reply.
 */
static int export_dev(const struct ctl_cmd *cmd, const char *dev,
		      uint32_t index, int fd, const char *out, bool quiet,
		      bool inactivate, bool force, struct ctl_live *live,
		      struct pfnl_dev *reply)
{
	bool inactivated = false, writer = false;
	struct progress progress;
	struct relay relay;
	struct pfstream *s;
	struct pfnl *h;
	int kfd, ret;

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	if (pfstream_new(&s)) {
		ret = ctl_report(cmd, NULL, h, -ENOMEM);
		goto out_close;
	}
	/*
	 * The kernel writes the stream in this process's name: a reader that
	 * went away is an error to report (with the way back, of a live
	 * export), not SIGPIPE's silent death.
	 */
	signal(SIGPIPE, SIG_IGN);
	progress_init(&progress, cmd, dev, quiet);
	kfd = transfer_fd(&relay, fd, false, s, &progress);
	if (kfd < 0) {
		ret = ctl_report(cmd, NULL, h, -errno);
		goto out_free;
	}
	if (live && relay.on) {
		live->settle = relay_settle;
		live->settle_arg = &relay;
	}
	if (live) {
		ret = ctl_live_export(cmd, dev, h, index, kfd, live, reply);
	} else {
		ret = inactivate ?
		      export_inactivate(cmd, h, index, force, &writer) : 0;
		inactivated = inactivate && !ret;
		ret = ret ?: pfnl_export_fd(h, index, kfd, reply);
	}
	if (relay.on)
		relay_stop(&relay, kfd);
	/* The relay stopped at a bad record, or the output failed it. */
	if (relay.on && (pfstream_status(s)->error ||
			    (!ret && !relay.write_err && pfstream_finish(s)))) {
		stream_error(cmd, dev, s, " (the kernel sent it)");
		ret = CTL_EXIT_FAILED;
	} else if (relay.on && relay.write_err) {
		ctl_msg(cmd, NULL, "cannot write %s: %s", out,
			strerror(-relay.write_err));
		ret = CTL_EXIT_FAILED;
	} else if (writer || (live && live->writer)) {
		ret = CTL_EXIT_FAILED;	/* said so already */
	} else {
		ret = ctl_report(cmd, dev, h, ret);
	}
	if (live)
		ctl_live_report(cmd, dev, live, ret);
	else if (ret && inactivated)
		ctl_msg(cmd, dev, "the device stays inactive: export again, or roll back with '%s activate %s'",
			program_invocation_short_name, dev);
out_free:
	pfstream_free(s);
out_close:
	pfnl_close(h);
	return ret;
}

/* The options that go only with others. */
static void export_check_options(const struct ctl_cmd *cmd, bool is_live,
				 bool live_opt, bool inactivate, bool force)
{
	if (live_opt && !is_live)
		ctl_usage_error(cmd, "--max-final, --max-passes and --json are for a live export: add --live");
	if (is_live && inactivate)
		ctl_usage_error(cmd, "--live inactivates the device before its final pass: --inactivate is for an export that is not live");
	if (force && !is_live && !inactivate)
		ctl_usage_error(cmd, "--force is for an export that inactivates the device: add --inactivate or --live");
}

/* A stream written that is not the device's final state says so. */
static void export_warn_not_final(const struct ctl_cmd *cmd, const char *dev,
				  const struct pfnl_dev *reply)
{
	if (reply->state == PFLASH_STATE_LOST)
		ctl_msg(cmd, dev, "warning: the device lost its backing file's lock: the stream holds its contents, not its file's, and is not final (keep it for a post-mortem; do not move it)");
	else if (!reply->stream_final)
		ctl_msg(cmd, dev, "warning: the device was active: the stream is a snapshot, not its final state (for a move, inactivate the device first)");
}

static const struct option export_longopts[] = {
	{ "output",	required_argument, NULL, 'o' },
	{ "quiet",	no_argument,	   NULL, 'q' },
	{ "live",	no_argument,	   NULL, 'l' },
	{ "inactivate",	no_argument,	   NULL, 'I' },
	{ "max-final",	required_argument, NULL, 'm' },
	{ "max-passes",	required_argument, NULL, 'p' },
	{ "force",	no_argument,	   NULL, 'f' },
	{ "json",	no_argument,	   NULL, 'J' },
	CTL_OPT_HELP,
	{ NULL }
};

static int export_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static struct ctl_live live = {
		.max_final = 64 << 10,
		.max_passes = 8,
	};
	struct out_file o = { .fd = STDOUT_FILENO, .dirfd = -1 };
	char dev[CTL_DEV_PATH_MAX];
	struct pfnl_dev reply = { 0 };
	bool quiet = false, is_live = false, live_opt = false;
	bool inactivate = false;
	uint32_t index;
	int c, ret;

	while ((c = ctl_getopt(cmd, argc, argv, "o:qlIm:p:fJh",
			       export_longopts)) != -1) {
		switch (c) {
		case 'o':
			o.path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'l':
			is_live = true;
			break;
		case 'I':
			inactivate = true;
			break;
		case 'm':
			live.max_final = ctl_size_arg(cmd, "--max-final",
						      optarg, UINT64_MAX);
			live_opt = true;
			break;
		case 'p':
			live.max_passes = ctl_u32_arg(cmd, "--max-passes",
						      optarg);
			if (!live.max_passes ||
			    live.max_passes > CTL_LIVE_PASSES_MAX)
				ctl_usage_error(cmd, "--max-passes must be 1 to %d",
						CTL_LIVE_PASSES_MAX);
			live_opt = true;
			break;
		case 'f':
			live.force = true;
			break;
		case 'J':
			live.json = true;
			live_opt = true;
			break;
		}
	}
	export_check_options(cmd, is_live, live_opt, inactivate, live.force);
	live.quiet = quiet;
	index = ctl_dev_arg(cmd, ctl_one_arg(cmd, argc, argv, "device"));
	ctl_dev_path(dev, index);
	if (is_std(o.path) && isatty(STDOUT_FILENO))
		ctl_usage_error(cmd, "will not write a binary stream to a terminal: use --output or a redirection");

	ret = is_std(o.path) ? out_check_stdout(cmd) : out_open(cmd, &o);
	if (!ret)
		ret = export_dev(cmd, dev, index, o.fd,
				 is_std(o.path) ? "standard output" : o.path,
				 quiet, inactivate, live.force,
				 is_live ? &live : NULL, &reply);
	if (!is_std(o.path) && !ret)
		ret = out_commit(cmd, &o);
	else if (!is_std(o.path))
		out_abort(&o);
	if (!ret && !quiet)
		export_warn_not_final(cmd, dev, &reply);
	return ret;
}

const struct ctl_cmd ctl_export = {
	.name		= "export",
	.args		= "[options] <device>",
	.summary	= "write a device's state stream",
	.options	= (const struct ctl_opt_help[]) {
		{ "-o, --output <file>",
		  "write to <file> (default: standard output, as -)" },
		{ "-q, --quiet", "no warning, no progress" },
		{ "-l, --live",
		  "send the device in passes while it stays active, then inactivate it and send the rest" },
		{ "-I, --inactivate",
		  "inactivate the device first, as 'inactivate' does, and send its final state" },
		{ "-m, --max-final <size>",
		  "with --live: stop the passes once at most <size> remains (default 64K)" },
		{ "-p, --max-passes <N>",
		  "with --live: make at most <N> passes, the final one included (default 8)" },
		{ "-f, --force",
		  "with --live or --inactivate: inactivate the device even if it is in use for writing or held exclusively" },
		{ "-J, --json",
		  "with --live: print the passes as JSON, at the end, on standard error" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.run		= export_run,
};

/*
 * Where the kernel refused a stream from a file that can be read again,
 * the stream reader says where it is wrong, if it finds it wrong.  Returns
 * whether it did (and said so).
 */
static bool import_recheck(const struct ctl_cmd *cmd, const char *dev,
			   int fd, off_t start)
{
	static const char unchanged[] = " (the device is unchanged)";
	struct pfstream *s;
	uint8_t *buf;
	bool found = false;
	ssize_t n;

	if (lseek(fd, start, SEEK_SET) != start || pfstream_new(&s))
		return false;
	buf = malloc(READ_MAX);
	while (buf && (n = read_full(fd, buf, READ_MAX)) > 0 &&
	       !pfstream_feed(s, buf, n))
		;
	/* A file that cannot be read again tells nothing more. */
	if (buf && n >= 0 &&
	    (pfstream_status(s)->error || pfstream_finish(s))) {
		stream_error(cmd, dev, s, unchanged);
		found = true;
	}
	free(buf);
	pfstream_free(s);
	return found;
}

/*
 * Import the stream on @fd, named @in, into device @index.  Returns the
 * exit status; the committed device in @reply.
 */
static int import_stream(const struct ctl_cmd *cmd, const char *dev,
			 struct pfnl *h, uint32_t index, int fd,
			 const char *in, bool quiet, struct pfnl_dev *reply)
{
	struct progress progress;
	struct relay relay;
	struct pfstream *s;
	struct stat st;
	off_t start;
	int kfd, ret;

	if (pfstream_new(&s))
		return ctl_report(cmd, NULL, h, -ENOMEM);
	/* From a pipe, the export at its other end draws the progress. */
	progress_init(&progress, cmd, dev,
		      quiet || fstat(fd, &st) || !S_ISREG(st.st_mode));
	start = lseek(fd, 0, SEEK_CUR);
	kfd = transfer_fd(&relay, fd, true, s, &progress);
	if (kfd < 0) {
		ret = ctl_report(cmd, NULL, h, -errno);
		goto out_free;
	}
	ret = pfnl_import_fd(h, index, kfd, reply);
	if (relay.on)
		relay_stop(&relay, kfd);
	if (relay.on && relay.read_err) {
		ctl_msg(cmd, NULL, "cannot read '%s': %s", in,
			strerror(-relay.read_err));
		ret = CTL_EXIT_FAILED;
	} else if (relay.on && pfstream_status(s)->error) {
		stream_error(cmd, dev, s, " (the device is unchanged)");
		ret = CTL_EXIT_FAILED;
	} else if (ret && start >= 0 && ret != -ECANCELED &&
		   pfnl_last_ack(h)->error &&
		   import_recheck(cmd, dev, fd, start)) {
		ret = CTL_EXIT_FAILED;
	} else {
		ret = ctl_report(cmd, dev, h, ret);
	}
out_free:
	pfstream_free(s);
	return ret;
}

static int import_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input",	required_argument, NULL, 'i' },
		{ "activate",	no_argument,	   NULL, 'a' },
		{ "epoch",	required_argument, NULL, 'e' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct pfnl_dev req = { 0 }, reply = { 0 };
	const char *in = NULL;
	char dev[CTL_DEV_PATH_MAX];
	bool activate = false, quiet = false;
	struct pfnl *h;
	int c, fd, ret;

	while ((c = ctl_getopt(cmd, argc, argv, "i:ae:qh", longopts)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'a':
			activate = true;
			break;
		case 'e':
			pfnl_dev_set(&req, PFLASH_A_DEV_EPOCH,
				     ctl_u64_arg(cmd, "--epoch", optarg));
			break;
		case 'q':
			quiet = true;
			break;
		}
	}
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX,
		     ctl_dev_arg(cmd, ctl_one_arg(cmd, argc, argv, "device")));
	ctl_dev_path(dev, req.index);
	if (pfnl_dev_has(&req, PFLASH_A_DEV_EPOCH) && !activate)
		ctl_usage_error(cmd, "--epoch needs --activate");
	fd = open_input(cmd, in);

	ret = ctl_open(cmd, &h);
	if (ret)
		goto out_close;
	ret = import_stream(cmd, dev, h, req.index, fd,
			    is_std(in) ? "standard input" : in, quiet, &reply);
	if (!ret && !quiet && !reply.stream_final)
		ctl_msg(cmd, dev, "warning: the stream is a snapshot of an active device, not its final state");
	if (!ret && activate) {
		ret = ctl_report(cmd, dev, h,
				 pfnl_dev_do(h, PFLASH_CMD_ACTIVATE,
					     &req, NULL));
		if (ret)
			ctl_msg(cmd, dev, "the stream was imported; activate the device once it may own its backing file: %s activate %s",
				program_invocation_short_name, dev);
	}
	pfnl_close(h);
out_close:
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

const struct ctl_cmd ctl_import = {
	.name		= "import",
	.args		= "[options] <device>",
	.summary	= "load a state stream into an inactive device",
	.options	= (const struct ctl_opt_help[]) {
		{ "-i, --input <file>",
		  "read from <file> (default: standard input, as -)" },
		{ "-a, --activate", "then activate the device" },
		{ "-e, --epoch <N>", "with --activate: the epoch to take" },
		{ "-q, --quiet", "no warning, no progress" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.hints		= (const struct ctl_hint[]) {
		/* The activation after it (--activate --epoch). */
		{ ESTALE, PFLASH_A_DEV_EPOCH, CTL_EPOCH_HINT },
		/* The stream's epoch is lower than the device's. */
		{ ESTALE, 0,
		  "the device holds a newer state than the stream: export the stream again from its source" },
		{ 0 }
	},
	.run		= import_run,
};

/* What inspect prints about each pass of a live export's stream. */
static struct json_object *passes_summary(const struct pfstream_status *st)
{
	struct json_object *arr = json_object_new_array(), *obj;
	uint32_t i;
	int ret = 0;

	for (i = 0; arr && i < st->passes; i++) {
		const struct pfstream_pass *p = &st->pass[i];

		obj = json_object_new_object();
		if (!obj || json_object_array_add(arr, obj)) {
			json_object_put(obj);
			goto err;
		}
#define ADD(key, val)	(ret = ret ?: ctl_json_add(obj, key, val))
		ADD("pass", json_object_new_uint64(i));
		ADD("final", json_object_new_boolean(p->flags &
					PFLASH_STREAM_PASS_F_FINAL));
		ADD("records", json_object_new_uint64(p->records));
		ADD("data-bytes", json_object_new_uint64(p->data_bytes));
		ADD("erased-bytes", json_object_new_uint64(p->erased_bytes));
		ADD("zero-bytes", json_object_new_uint64(p->zero_bytes));
#undef ADD
		if (ret)
			goto err;
	}
	return arr;
err:
	json_object_put(arr);
	return NULL;
}

/* What inspect prints about a valid stream. */
static struct json_object *
summary(const struct pfstream_status *st)
{
	const struct pfstream_header *hd = &st->header;
	struct json_object *obj, *recs;
	char version[16], uuid[37];
	unsigned int type;
	int ret = 0;

	obj = json_object_new_object();
	recs = json_object_new_object();
	if (!obj || !recs)
		goto err;
	snprintf(version, sizeof(version), "%u.%u", hd->version_major,
		 hd->version_minor);
	uuid_unparse_lower(hd->uuid, uuid);
	for (type = PFLASH_REC_HEADER; type <= PFLASH_REC_PASS; type++)
		ret = ret ?: ctl_json_add(recs, pfstream_rec_name(type),
				json_object_new_uint64(st->records[type]));
	ret = ret ?: ctl_json_add(recs, "skipped",
				  json_object_new_uint64(st->skipped));
	if (ret)
		goto err;

#define ADD(key, val)	(ret = ret ?: ctl_json_add(obj, key, val))
	ADD("version", json_object_new_string(version));
	ADD("read-only", json_object_new_boolean(hd->flags &
					PFLASH_STREAM_INFO_F_READ_ONLY));
	ADD("inactive", json_object_new_boolean(hd->flags &
					PFLASH_STREAM_INFO_F_INACTIVE));
	ADD("live", json_object_new_boolean(hd->flags &
					    PFLASH_STREAM_INFO_F_LIVE));
	ADD("size", json_object_new_uint64(hd->size));
	ADD("block-size", json_object_new_uint64(hd->block_size));
	ADD("erase-size", json_object_new_uint64(hd->erase_size));
	ADD("epoch", json_object_new_uint64(hd->epoch));
	ADD("uuid", json_object_new_string(uuid));
	ADD("records", json_object_get(recs));
	ADD("data-bytes", json_object_new_uint64(st->data_bytes));
	ADD("erased-bytes", json_object_new_uint64(st->erased_bytes));
	ADD("zero-bytes", json_object_new_uint64(st->zero_bytes));
	ADD("stream-bytes", json_object_new_uint64(st->bytes));
	ADD("final", json_object_new_boolean(st->end_flags &
					     PFLASH_STREAM_END_F_FINAL));
	if (st->passes)
		ADD("passes", passes_summary(st));
#undef ADD
	/* obj holds recs, if it could be added. */
	json_object_put(recs);
	if (!ret)
		return obj;
	recs = NULL;
err:
	json_object_put(recs);
	json_object_put(obj);
	return NULL;
}

static int inspect_print(const struct pfstream_status *st, bool json)
{
	struct json_object *obj = summary(st);
	int ret = 0;

	if (!obj)
		return -ENOMEM;
	if (json) {
		ret = ctl_json_print(obj, JSON_C_TO_STRING_PRETTY |
				     JSON_C_TO_STRING_SPACED);
	} else {
		json_object_object_foreach(obj, key, val) {
			printf("%s:%*s", key, (int)(14 - strlen(key)), "");
			ctl_json_print_text(stdout, val);
			putchar('\n');
		}
	}
	json_object_put(obj);
	return ret;
}

static void inspect_help(FILE *out)
{
	fprintf(out, "<file> is a state stream, as export writes it; - is standard input.\n");
}

static int inspect_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument, NULL, 'J' },
		CTL_OPT_HELP,
		{ NULL }
	};
	static uint8_t buf[READ_MAX];
	struct pfstream *s;
	const char *in;
	bool json = false;
	int fd, err;
	ssize_t n;

	/* --json is the only option. */
	while (ctl_getopt(cmd, argc, argv, "Jh", longopts) != -1)
		json = true;
	in = ctl_one_arg(cmd, argc, argv, "file");
	fd = open_input(cmd, in);
	if (is_std(in))
		in = "standard input";

	err = pfstream_new(&s);
	if (err) {
		ctl_msg(cmd, NULL, "%s", strerror(-err));
		goto out_close;
	}
	do {
		n = read_full(fd, buf, sizeof(buf));
	} while (n > 0 && !pfstream_feed(s, buf, n));
	if (n < 0) {
		err = n;
		ctl_msg(cmd, NULL, "cannot read '%s': %s", in, strerror(-err));
	} else if (pfstream_finish(s)) {
		err = -EINVAL;
		stream_error(cmd, in, s, "");
	} else {
		err = inspect_print(pfstream_status(s), json);
		if (err)
			ctl_msg(cmd, NULL, "%s", strerror(-err));
	}
	pfstream_free(s);
out_close:
	if (fd != STDIN_FILENO)
		close(fd);
	return err ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}

const struct ctl_cmd ctl_inspect = {
	.name		= "inspect",
	.args		= "[--json] <file>",
	.summary	= "check a state stream, and describe it",
	.options	= (const struct ctl_opt_help[]) {
		{ "-J, --json", "use JSON output format" },
		{ NULL }
	},
	.help_extra	= inspect_help,
	.run		= inspect_run,
};
