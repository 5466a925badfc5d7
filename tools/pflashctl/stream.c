// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl export, import and inspect: a device's state stream, to a file
 * or a pipe and back, checked on its way by the stream reader
 * (tools/lib/pfstream.c), and checked offline.
 *
 * The stream is binary: like gzip, pflashctl refuses to write it to a
 * terminal or to read it from one.  Progress goes to standard error, only
 * when that is a terminal, so that nothing but the stream passes through
 * a pipe or ssh.
 */
#define _GNU_SOURCE		/* asprintf(), mkostemp() */
#include <errno.h>
#include <fcntl.h>
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

/* Whether a complete stream is a snapshot: not a device's final state. */
static bool is_snapshot(const struct pfstream *s)
{
	return !(pfstream_status(s)->end_flags & PFLASH_STREAM_END_F_FINAL);
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
	pct = st->covered * 100 / st->header.size;
	if (pct == p->shown)
		return;
	p->shown = pct;
	ctl_human_size(done, st->covered);
	ctl_human_size(size, st->header.size);
	ctl_status(p->cmd, p->dev, "%3d%% (%s of %s)", pct, done, size);
}

/*
 * The file an export writes: a temporary file in the same directory,
 * renamed into place once the stream is complete and valid, so that a
 * failed export never leaves a file that looks like a stream.
 */
struct out_file {
	const char *path;
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
		unlink(o->tmp);
		tmp_armed = 0;
	}
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->tmp);
}

/*
 * Open @o->path's directory, and a temporary file in it.  Returns the exit
 * status; on failure, out_abort() cleans up.
 */
static int out_open(const struct ctl_cmd *cmd, struct out_file *o)
{
	struct sigaction sa = { .sa_handler = remove_tmp_and_die };
	const char *base = strrchr(o->path, '/');
	int dirlen = base ? base + 1 - o->path : 0;
	sigset_t fatal, old;
	mode_t mask;
	char *dir;
	size_t i;
	int err;

	o->fd = -1;
	o->tmp = NULL;
	base = o->path + dirlen;
	dir = dirlen ? strndup(o->path, dirlen) : strdup(".");
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
	if (asprintf(&o->tmp, "%.*s.%s.XXXXXX", dirlen, o->path, base) < 0) {
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
 * gone either way.
 */
static int out_commit(const struct ctl_cmd *cmd, struct out_file *o)
{
	const char *what = "write";
	int ret, fd = o->fd;

	ret = fsync(fd);
	if (!ret) {
		what = "rename";
		ret = rename(o->tmp, o->path);
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

/**
 * struct export - an export in progress
 * @s: the stream reader that checks it
 * @fd: where it goes
 * @progress: its progress
 * @write_err: the error a write failed with
 */
struct export {
	struct pfstream *s;
	int fd;
	struct progress progress;
	int write_err;
};

static int export_piece(const void *data, size_t len, void *arg)
{
	struct export *ex = arg;
	int ret;

	ret = pfstream_feed(ex->s, data, len);
	if (ret)
		return ret;
	ret = write_full(ex->fd, data, len);
	if (ret) {
		ex->write_err = ret;
		return ret;
	}
	progress_show(&ex->progress, pfstream_status(ex->s));
	return 0;
}

/* Export device @index into @ex.  Returns the exit status. */
static int export_dev(const struct ctl_cmd *cmd, const char *dev,
		      uint32_t index, const char *out, struct export *ex)
{
	const struct pfstream_status *st;
	struct pfnl *h;
	int ret;

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	ret = pfnl_export(h, index, export_piece, ex);
	ctl_status_clear();
	st = pfstream_status(ex->s);
	if (st->error) {
		stream_error(cmd, dev, ex->s, " (the kernel sent it)");
		ret = CTL_EXIT_FAILED;
	} else if (ex->write_err) {
		ctl_msg(cmd, NULL, "cannot write %s: %s", out,
			strerror(-ex->write_err));
		ret = CTL_EXIT_FAILED;
	} else if (ret) {
		ret = ctl_report(cmd, dev, h, ret);
	} else if (pfstream_finish(ex->s)) {
		stream_error(cmd, dev, ex->s, " (the kernel sent it)");
		ret = CTL_EXIT_FAILED;
	}
	pfnl_close(h);
	return ret;
}

static int export_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output",	required_argument, NULL, 'o' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct out_file o = { .fd = STDOUT_FILENO, .dirfd = -1 };
	struct export ex = { 0 };
	char dev[CTL_DEV_PATH_MAX];
	bool quiet = false;
	uint32_t index;
	int c, ret;

	while ((c = ctl_getopt(cmd, argc, argv, "o:qh", longopts)) != -1) {
		switch (c) {
		case 'o':
			o.path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		}
	}
	index = ctl_dev_arg(cmd, ctl_one_arg(cmd, argc, argv, "device"));
	ctl_dev_path(dev, index);
	if (is_std(o.path) && isatty(STDOUT_FILENO))
		ctl_usage_error(cmd, "will not write a binary stream to a terminal: use --output or a redirection");

	if (pfstream_new(&ex.s)) {
		ctl_msg(cmd, NULL, "%s", strerror(ENOMEM));
		return CTL_EXIT_FAILED;
	}
	ret = is_std(o.path) ? CTL_EXIT_OK : out_open(cmd, &o);
	if (!ret) {
		ex.fd = o.fd;
		progress_init(&ex.progress, cmd, dev, quiet);
		ret = export_dev(cmd, dev, index,
				 is_std(o.path) ? "standard output" : o.path,
				 &ex);
	}
	if (!is_std(o.path) && !ret)
		ret = out_commit(cmd, &o);
	else if (!is_std(o.path))
		out_abort(&o);
	if (!ret && !quiet && is_snapshot(ex.s))
		ctl_msg(cmd, dev, "warning: the device was active: the stream is a snapshot, not its final state (for a move, inactivate the device first)");
	pfstream_free(ex.s);
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
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	.run		= export_run,
};

/*
 * Send the stream on @fd to device @index, piece by piece, each checked
 * by @s first.  Returns the exit status; the committed device in @reply.
 */
static int import_stream(const struct ctl_cmd *cmd, const char *dev,
			 struct pfnl *h, uint32_t index, int fd,
			 const char *in, struct pfstream *s,
			 struct progress *progress, struct pfnl_dev *reply)
{
	static const char unchanged[] = " (the device is unchanged)";
	const struct pfstream_status *st = pfstream_status(s);
	static uint8_t buf[READ_MAX];
	uint64_t offset = 0;
	ssize_t n, more;
	uint8_t extra;
	int ret;

	do {
		n = read_full(fd, buf, sizeof(buf));
		if (n < 0) {
			ctl_msg(cmd, NULL, "cannot read '%s': %s", in,
				strerror(-n));
			return CTL_EXIT_FAILED;
		}
		if (pfstream_feed(s, buf, n)) {
			stream_error(cmd, dev, s, unchanged);
			return CTL_EXIT_FAILED;
		}
		/* Nothing may follow the stream: see before it commits. */
		more = st->complete && n == sizeof(buf) ?
		       read_full(fd, &extra, 1) : 0;
		if (more < 0) {
			ctl_msg(cmd, NULL, "cannot read '%s': %s", in,
				strerror(-more));
			return CTL_EXIT_FAILED;
		}
		if (more && pfstream_feed(s, &extra, 1)) {
			stream_error(cmd, dev, s, unchanged);
			return CTL_EXIT_FAILED;
		}
		if (!n)
			break;
		ret = pfnl_import(h, index, offset, buf, n, reply);
		if (ret)
			return ctl_report(cmd, dev, h, ret);
		offset += n;
		progress_show(progress, st);
	} while (!st->complete);
	ctl_status_clear();

	if (pfstream_finish(s)) {
		stream_error(cmd, dev, s, unchanged);
		return CTL_EXIT_FAILED;
	}
	/* The piece that completes the stream commits it, and says so. */
	if (!reply->attrs) {
		ctl_msg(cmd, dev, "the kernel took the whole stream, but did not reply that it committed it");
		return CTL_EXIT_FAILED;
	}
	return ctl_report(cmd, dev, h, 0);
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
	struct pfstream *s;
	struct progress progress;
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
	if (pfstream_new(&s)) {
		ret = ctl_report(cmd, NULL, h, -ENOMEM);
		goto out_nl;
	}
	progress_init(&progress, cmd, dev, quiet);
	ret = import_stream(cmd, dev, h, req.index, fd,
			    is_std(in) ? "standard input" : in, s, &progress,
			    &reply);
	if (!ret && !quiet && is_snapshot(s))
		ctl_msg(cmd, dev, "warning: the stream is a snapshot of an active device, not its final state");
	if (!ret && activate) {
		ret = ctl_report(cmd, dev, h,
				 pfnl_dev_do(h, PFLASH_CMD_ACTIVATE,
					     &req, NULL));
		if (ret)
			ctl_msg(cmd, dev, "the stream was imported; activate the device once it may own its backing file: %s activate %s",
				program_invocation_short_name, dev);
	}
	pfstream_free(s);
out_nl:
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
	for (type = PFLASH_REC_HEADER; type <= PFLASH_REC_END; type++)
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
