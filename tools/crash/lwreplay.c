// SPDX-License-Identifier: GPL-2.0
/*
 * lwreplay: replay a dm-log-writes log onto a device or file, stopping at
 * every point where the log says something became durable, to check it
 * there.  Written from the log format of the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst and
 * drivers/md/dm-log-writes.c (log version 1):
 *
 *  - block 0 (of the data device's logical block size, "sectorsize") is
 *    the super: __le64 magic, version, nr_entries; __le32 sectorsize;
 *  - from block 1 on, nr_entries entries, each a block that starts with
 *    __le64 sector, nr_sectors, flags, data_len, followed (unless the entry
 *    is a discard) by nr_sectors blocks of the data written at block
 *    "sector" of the device.  A mark (flag MARK) carries its text, data_len
 *    bytes, in its own block, after those four fields.
 *
 * The log holds writes in the order they became durable: a write is logged
 * only when the flush after it completes, just before the flush itself; a
 * FUA write as soon as it completes.  So the device as replayed up to any
 * entry is a state a power loss could have left.
 *
 *   lwreplay LOG TARGET [--marks FILE] [--run COMMAND | --pause]
 *
 * replays LOG onto TARGET, whose contents must be those of the device when
 * logging began, and stops at each point: after a flush, after a FUA write,
 * after a mark and at the end of the log.  There, with --run, it runs
 * COMMAND (with /bin/sh -c), which gets, in its environment:
 *
 *   LW_ENTRY     the number of the entry just replayed (from 0), or the
 *                number of entries at the end
 *   LW_POINT     flush, fua, mark or end
 *   LW_CHANGED   1 if TARGET changed since the last point, else 0
 *   LW_MARK      the text of the mark, at a mark
 *
 * A command that fails is counted and the replay goes on.  With --pause,
 * it prints "point ENTRY KIND CHANGED [MARK]" (the same four) instead and
 * waits for a line on its standard input, "ok" or "failed", before it goes
 * on: a caller that checks many points runs once, not once per point.
 * --marks FILE gets the text of every mark so far, one per line, before
 * each point.  At the end lwreplay prints what it replayed:
 *
 *   replay: entries N, writes N, flushes N, fua N, discards N, marks N,
 *   points N, failed N
 *
 * and exits 1 if a command failed or the log is damaged.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define LOG_FLUSH_FLAG		(1U << 0)
#define LOG_FUA_FLAG		(1U << 1)
#define LOG_DISCARD_FLAG	(1U << 2)
#define LOG_MARK_FLAG		(1U << 3)

#define WRITE_LOG_VERSION	1ULL
#define WRITE_LOG_MAGIC		0x6a736677736872ULL

struct log_write_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_write_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("lwreplay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void read_at(int fd, void *buf, size_t len, uint64_t off,
		    const char *what)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n != (ssize_t)len)
		die("cannot read %s at byte %" PRIu64 ": %s", what, off,
		    n < 0 ? strerror(errno) : "the log ends there");
}

static void write_at(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	if (n != (ssize_t)len)
		die("cannot write the target at byte %" PRIu64 ": %s", off,
		    n < 0 ? strerror(errno) : "short write");
}

struct replay {
	const char *run;
	bool pause;
	FILE *marks;
	bool changed;
	uint64_t points, failed;
	/* The log and the target, and the log's block size. */
	int log, target;
	uint32_t bs;
	/* A block of the log, and the data of an entry. */
	uint8_t *blk, *data;
	size_t data_cap;
	/* What was replayed, for the last line. */
	uint64_t writes, flushes, fua, discards, marks_seen;
};

static void point(struct replay *r, uint64_t entry, const char *kind,
		  const char *mark)
{
	char num[32];
	pid_t pid;
	int status;

	char answer[64];

	r->points++;
	if (r->marks && fflush(r->marks))
		die("cannot write the marks file: %s", strerror(errno));
	if (r->pause) {
		printf("point %" PRIu64 " %s %d%s%s\n", entry, kind, r->changed,
		       mark ? " " : "", mark ?: "");
		if (fflush(stdout))
			die("cannot write to standard output: %s",
			    strerror(errno));
		if (!fgets(answer, sizeof(answer), stdin))
			die("no answer at point %" PRIu64, entry);
		if (strcmp(answer, "ok\n"))
			r->failed++;
		r->changed = false;
		return;
	}
	if (!r->run)
		return;
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		snprintf(num, sizeof(num), "%" PRIu64, entry);
		setenv("LW_ENTRY", num, 1);
		setenv("LW_POINT", kind, 1);
		setenv("LW_CHANGED", r->changed ? "1" : "0", 1);
		if (mark)
			setenv("LW_MARK", mark, 1);
		else
			unsetenv("LW_MARK");
		execl("/bin/sh", "sh", "-c", r->run, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		r->failed++;
	r->changed = false;
}

/* Read the command line into @r and open the log and the target. */
static void replay_open(struct replay *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "marks", required_argument, NULL, 'm' },
		{ "run", required_argument, NULL, 'r' },
		{ "pause", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			r->marks = fopen(optarg, "w");
			if (!r->marks)
				die("cannot create %s: %s", optarg,
				    strerror(errno));
			break;
		case 'r':
			r->run = optarg;
			break;
		case 'p':
			r->pause = true;
			break;
		default:
			exit(2);
		}
	}
	if (optind != argc - 2)
		die("usage: lwreplay LOG TARGET [--marks FILE] [--run COMMAND | --pause]");
	r->log = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (r->log < 0)
		die("cannot open %s: %s", argv[optind], strerror(errno));
	r->target = open(argv[optind + 1], O_WRONLY | O_CLOEXEC);
	if (r->target < 0)
		die("cannot open %s: %s", argv[optind + 1], strerror(errno));
}

/*
 * Read the super of the log @name and check it: the block size into
 * @r->bs, a block of it allocated; returns the number of entries.
 */
static uint64_t replay_super(struct replay *r, const char *name)
{
	struct log_write_super super;

	read_at(r->log, &super, sizeof(super), 0, "the super");
	r->bs = le32toh(super.sectorsize);
	if (le64toh(super.magic) != WRITE_LOG_MAGIC)
		die("%s is not a dm-log-writes log (bad magic)", name);
	if (le64toh(super.version) != WRITE_LOG_VERSION)
		die("log version %" PRIu64 ": only version %llu is known",
		    (uint64_t)le64toh(super.version), WRITE_LOG_VERSION);
	if (r->bs < 512 || r->bs > 65536 || (r->bs & (r->bs - 1)))
		die("bad sector size %" PRIu32 " in the super", r->bs);
	r->blk = malloc(r->bs);
	if (!r->blk)
		die("out of memory");
	return le64toh(super.nr_entries);
}

/* Entry @i, a mark, in @r->blk: a point, its text written to --marks. */
static void replay_mark(struct replay *r, uint64_t i,
			const struct log_write_entry *e)
{
	size_t tl = le64toh(e->data_len);
	char text[512];

	if (tl > r->bs - sizeof(*e) || tl >= sizeof(text))
		die("entry %" PRIu64 ": a mark of %zu bytes", i, tl);
	memcpy(text, r->blk + sizeof(*e), tl);
	text[tl] = '\0';
	r->marks_seen++;
	if (r->marks)
		fprintf(r->marks, "%s\n", text);
	point(r, i, "mark", text);
}

/* A discard of @len bytes at @e's sector. */
static void replay_discard(struct replay *r, const struct log_write_entry *e,
			   uint64_t len)
{
	/* Discarded blocks may read as anything: zeros here. */
	if (len > r->data_cap) {
		free(r->data);
		r->data = calloc(1, len);
		r->data_cap = len;
	} else if (r->data) {
		memset(r->data, 0, len);
	}
	if (len && !r->data)
		die("out of memory");
	if (len)
		write_at(r->target, r->data, len, le64toh(e->sector) * r->bs);
	r->discards++;
	r->changed |= len != 0;
}

/* A write of @len bytes at @e's sector, its data at @pos of the log. */
static void replay_write(struct replay *r, const struct log_write_entry *e,
			 uint64_t len, uint64_t pos)
{
	if (len > r->data_cap) {
		free(r->data);
		r->data = malloc(len);
		r->data_cap = len;
		if (!r->data)
			die("out of memory");
	}
	read_at(r->log, r->data, len, pos, "an entry's data");
	write_at(r->target, r->data, len, le64toh(e->sector) * r->bs);
	r->writes++;
	r->changed = true;
}

/* Replay the @n entries of the log, stopping at each point. */
static void replay_entries(struct replay *r, uint64_t n)
{
	struct log_write_entry e;
	uint64_t pos, i, flags, len;

	for (i = 0, pos = r->bs; i < n; i++) {
		read_at(r->log, r->blk, r->bs, pos, "an entry");
		memcpy(&e, r->blk, sizeof(e));
		flags = le64toh(e.flags);
		len = le64toh(e.nr_sectors) * r->bs;
		pos += r->bs;
		if (flags & LOG_MARK_FLAG) {
			replay_mark(r, i, &e);
			continue;
		}
		if (flags & LOG_DISCARD_FLAG) {
			replay_discard(r, &e, len);
			continue;
		}
		if (len) {
			replay_write(r, &e, len, pos);
			pos += len;
		}
		if (flags & LOG_FLUSH_FLAG) {
			r->flushes++;
			point(r, i, "flush", NULL);
		} else if (flags & LOG_FUA_FLAG) {
			r->fua++;
			point(r, i, "fua", NULL);
		}
	}
}

int main(int argc, char **argv)
{
	struct replay r = { 0 };
	uint64_t n;

	replay_open(&r, argc, argv);
	n = replay_super(&r, argv[optind]);
	replay_entries(&r, n);
	point(&r, n, "end", NULL);
	printf("replay: entries %" PRIu64 ", writes %" PRIu64 ", flushes %" PRIu64
	       ", fua %" PRIu64 ", discards %" PRIu64 ", marks %" PRIu64
	       ", points %" PRIu64 ", failed %" PRIu64 "\n",
	       n, r.writes, r.flushes, r.fua, r.discards, r.marks_seen,
	       r.points, r.failed);
	if (r.marks)
		fclose(r.marks);
	free(r.blk);
	free(r.data);
	close(r.log);
	if (fsync(r.target))
		die("cannot fsync the target: %s", strerror(errno));
	close(r.target);
	return r.failed ? 1 : 0;
}
