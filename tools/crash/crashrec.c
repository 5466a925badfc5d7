// SPDX-License-Identifier: GPL-2.0
/*
 * crashrec: numbered records for the power-loss and replay tests of pflash
 * (tools/crash/).  It writes records to a block device and says which ones
 * the device acknowledged as durable; after the crash, it finds which
 * records a backing file holds intact.
 *
 * A record is one 4 KiB block: record N of run R lives at offset N * 4096
 * and is a header (a magic, R, N) followed by bytes drawn from R and N, so
 * that no record of another run, no other record of this run and no torn
 * write can pass for it.  Each record is written once per run.
 *
 *   crashrec write DEV --run R [--mode writethrough|writeback] [--first N]
 *                      [--count N] [--seed S] [--fill K] [--lie]
 *                      [--mark DM_NAME]
 *
 * writes records first .. first + count - 1 to DEV (unless it is killed
 * first, which is the point) and prints one line per acknowledgement, as
 * soon as it has it, and a last line once it has written them all:
 *
 *   ack R LO HI       records LO..HI of run R are acknowledged
 *   wrote R LO HI     records LO..HI of run R were written
 *
 * What acknowledges a record is the cache mode's promise:
 *  - writethrough: a completed O_DIRECT write acknowledges what it wrote;
 *  - writeback: a completed fsync() acknowledges every record written
 *    before it (O_DIRECT or through the page cache); a completed O_DSYNC
 *    write acknowledges what it wrote (a FUA write, with a flush after it:
 *    Linux adds one to every O_DSYNC write to a block device).  A record
 *    written since the last completed flush is not acknowledged.
 * The writes mix sizes (one to eight records), O_DIRECT and page-cache
 * writes, flushes and O_DSYNC writes, drawn from the seed.
 *
 * --fill K writes the records in order, in large writes, acknowledging
 * only the first K, with one fsync() after them (for the tests of
 * inactivation, import and activation, whose caller acknowledges the rest).
 * --lie is a broken writer, for proving that the tests catch one: in
 * writeback mode it acknowledges each write as soon as it completes and
 * never flushes (no fsync, no O_DSYNC), and once it has acknowledged
 * LIE_ARMED records it says so, in a line "lied", for the host to kill it
 * after.  On a device with no periodic writeback (pflashctl create
 * --writeback-interval 0), not one of its acknowledged records can reach
 * the backing file before the kill, so the check must find every one of
 * them lost, every time (in writethrough mode it acknowledges its
 * page-cache writes without their fsync).  --mark also sets a dm-log-writes mark "ack:R:LO:HI" on
 * DM_NAME after each acknowledgement, so that a replay of the log knows
 * what was acknowledged at each point.
 *
 *   crashrec map FILE
 *
 * prints where each 4 KiB block of FILE is on its file system's device,
 * in bytes, one block a line (FIEMAP); it fails if a block has no place of
 * its own there yet (a hole, an unwritten or inline extent).
 *
 *   crashrec check FILE --run R [--run R2 [--run R3]] [--count N] [--map MAP]
 *                       [--acked ACKS]
 *
 * reads records 0 .. N - 1 of FILE (default: as many as it holds), or,
 * with --map, of the device or image FILE at the places MAP (the output of
 * map) gives, and prints, for each run:
 *
 *   intact R COUNT RANGES       the records of run R the file holds intact,
 *                               as "LO-HI,LO-HI,..." ("-" for none)
 *   torn R COUNT                records with run R's header but not its
 *                               bytes
 *
 * and, with --acked, a file of acknowledgements ("ack R LO HI" lines, as
 * write prints them, or "ack:R:LO:HI" marks), for each run:
 *
 *   lost R COUNT ACKED          of the ACKED records of run R that were
 *                               acknowledged, COUNT are not intact
 *
 * and it then exits 1 if a record was lost.
 */
#define _GNU_SOURCE		/* O_DIRECT */
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
#include <sys/ioctl.h>

#include <linux/dm-ioctl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#define REC_SIZE	4096
#define REC_MAGIC	0x7065726372686c66ULL	/* "flhrcrep" */
#define MAX_RUNS	3
/* The most records one write carries. */
#define WRITE_MAX	8
/* --fill writes this many records at a time. */
#define FILL_CHUNK	64
/* --lie says "lied" once it has acknowledged this many records. */
#define LIE_ARMED	64

struct rec_head {
	uint64_t magic;
	uint64_t run;
	uint64_t number;
};

static const char *prog = "crashrec";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* splitmix64: the bytes of a record, and the writer's choices. */
static uint64_t mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Record @number of run @run, into @buf (REC_SIZE bytes). */
static void rec_make(uint8_t *buf, uint64_t run, uint64_t number)
{
	struct rec_head h = { REC_MAGIC, run, number };
	uint64_t state = run * 0xd1342543de82ef95ULL ^ number, v;
	size_t i;

	memcpy(buf, &h, sizeof(h));
	for (i = sizeof(h); i < REC_SIZE; i += sizeof(v)) {
		v = mix(&state);
		memcpy(buf + i, &v, sizeof(v));
	}
}

/* ---- write ------------------------------------------------------------ */

struct writer {
	const char *dev;
	uint64_t run;
	bool writeback;
	uint64_t first, count;
	uint64_t seed;
	uint64_t fill;		/* --fill K: K + 1; 0 without */
	bool lie;
	const char *mark;
	int fd_direct, fd_dsync, fd_cached;
	/* Records written since the last flush: [pending, next). */
	uint64_t pending, next;
	int dm_fd;
	uint8_t *buf;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on standard output, at once: the host reads it as it comes. */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    write(STDOUT_FILENO, line, n) != n)
		die("cannot write to standard output: %s", strerror(errno));
}

/* Set a dm-log-writes mark, a message to the target: "mark TEXT". */
static void dm_mark(struct writer *w, const char *text)
{
	/* A struct dm_ioctl, then a struct dm_target_msg and its text. */
	union {
		struct dm_ioctl io;
		uint8_t bytes[sizeof(struct dm_ioctl) +
			      sizeof(struct dm_target_msg) + 128];
	} req;
	struct dm_target_msg *msg = (void *)(req.bytes + sizeof(req.io));

	memset(&req, 0, sizeof(req));
	req.io.version[0] = DM_VERSION_MAJOR;
	req.io.data_size = sizeof(req);
	req.io.data_start = sizeof(req.io);
	snprintf(req.io.name, sizeof(req.io.name), "%s", w->mark);
	snprintf(msg->message, sizeof(req) - sizeof(req.io) - sizeof(*msg),
		 "mark %s", text);
	if (ioctl(w->dm_fd, DM_TARGET_MSG, &req))
		die("dm message to %s: %s", w->mark, strerror(errno));
}

static void ack(struct writer *w, uint64_t lo, uint64_t hi)
{
	char text[96];

	if (w->mark) {
		snprintf(text, sizeof(text), "ack:%" PRIu64 ":%" PRIu64 ":%" PRIu64,
			 w->run, lo, hi);
		dm_mark(w, text);
	}
	say("ack %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", w->run, lo, hi);
}

/* Write @n records from @w->next on, through @fd. */
static void put(struct writer *w, int fd, unsigned int n)
{
	size_t len = (size_t)n * REC_SIZE;
	off_t off = (off_t)w->next * REC_SIZE;
	unsigned int i;
	ssize_t done;

	for (i = 0; i < n; i++)
		rec_make(w->buf + (size_t)i * REC_SIZE, w->run, w->next + i);
	done = pwrite(fd, w->buf, len, off);
	if (done != (ssize_t)len)
		die("write of records %" PRIu64 "-%" PRIu64 " to %s: %s",
		    w->next, w->next + n - 1, w->dev,
		    done < 0 ? strerror(errno) : "short write");
	w->next += n;
}

static void flush(struct writer *w, int fd)
{
	if (fsync(fd))
		die("fsync of %s: %s", w->dev, strerror(errno));
	if (w->pending < w->next)
		ack(w, w->pending, w->next - 1);
	w->pending = w->next;
}

static void write_fill(struct writer *w)
{
	uint64_t end = w->first + w->count, upto = w->first + w->fill - 1;
	unsigned int n;

	while (w->next < end) {
		n = FILL_CHUNK;
		if (w->next < upto && upto - w->next < n)
			n = upto - w->next;
		if (end - w->next < n)
			n = end - w->next;
		put(w, w->fd_direct, n);
		if (w->next == upto)
			flush(w, w->fd_direct);
	}
	w->pending = w->next;
}

static void write_random(struct writer *w)
{
	uint64_t end = w->first + w->count, state = w->seed;
	unsigned int n, r;

	while (w->next < end) {
		r = mix(&state) % 100;
		n = 1 + mix(&state) % WRITE_MAX;
		if (n > end - w->next)
			n = end - w->next;
		if (!w->writeback) {
			/*
			 * Through the page cache, then fsync (--lie: without
			 * it); or O_DIRECT, which is durable when it returns.
			 */
			if (r < 10) {
				put(w, w->fd_cached, n);
				if (w->lie)
					ack(w, w->next - n, w->next - 1);
				else
					flush(w, w->fd_cached);
			} else {
				put(w, w->fd_direct, n);
				ack(w, w->next - n, w->next - 1);
			}
			w->pending = w->next;
			continue;
		}
		if (w->lie) {
			put(w, r < 25 ? w->fd_cached : w->fd_direct, n);
			ack(w, w->next - n, w->next - 1);
			if (w->next - w->first >= LIE_ARMED &&
			    w->next - n - w->first < LIE_ARMED)
				say("lied\n");
		} else if (r < 20) {
			flush(w, w->fd_direct);
		} else if (r < 35) {
			/*
			 * O_DSYNC acknowledges this write; the records before
			 * it stay pending until the next flush (which
			 * acknowledges these again, harmlessly).
			 */
			put(w, w->fd_dsync, n);
			ack(w, w->next - n, w->next - 1);
		} else {
			put(w, r < 45 ? w->fd_cached : w->fd_direct, n);
		}
	}
	/* Whatever is pending stays so: the host kills us meanwhile. */
}

static int open_dev(const char *dev, int flags)
{
	int fd = open(dev, flags | O_CLOEXEC);

	if (fd < 0)
		die("cannot open %s: %s", dev, strerror(errno));
	return fd;
}

static int cmd_write(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "first", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "fill", required_argument, NULL, 'F' },
		{ "lie", no_argument, NULL, 'l' },
		{ "mark", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 }
	};
	struct writer w = { .count = UINT64_MAX / 2, .dm_fd = -1 };
	bool have_run = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			w.run = strtoull(optarg, NULL, 0);
			have_run = true;
			break;
		case 'm':
			if (!strcmp(optarg, "writeback"))
				w.writeback = true;
			else if (strcmp(optarg, "writethrough"))
				die("--mode: writethrough or writeback");
			break;
		case 'f':
			w.first = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			w.count = strtoull(optarg, NULL, 0);
			break;
		case 's':
			w.seed = strtoull(optarg, NULL, 0);
			break;
		case 'F':
			w.fill = strtoull(optarg, NULL, 0) + 1;
			break;
		case 'l':
			w.lie = true;
			break;
		case 'M':
			w.mark = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !have_run)
		die("usage: crashrec write DEV --run R [options]");
	w.dev = argv[optind];
	w.next = w.pending = w.first;
	if (posix_memalign((void **)&w.buf, REC_SIZE,
			   (size_t)FILL_CHUNK * REC_SIZE))
		die("out of memory");
	w.fd_direct = open_dev(w.dev, O_WRONLY | O_DIRECT);
	w.fd_dsync = open_dev(w.dev, O_WRONLY | O_DIRECT | O_DSYNC);
	w.fd_cached = open_dev(w.dev, O_WRONLY);
	if (w.mark)
		w.dm_fd = open_dev("/dev/mapper/control", O_RDWR);

	if (w.fill)
		write_fill(&w);
	else
		write_random(&w);
	say("wrote %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", w.run, w.first,
	    w.next - 1);
	return 0;
}

/* ---- map -------------------------------------------------------------- */

#define MAP_EXTENTS	64

static int cmd_map(int argc, char **argv)
{
	union {
		struct fiemap fm;
		uint8_t bytes[sizeof(struct fiemap) +
			      MAP_EXTENTS * sizeof(struct fiemap_extent)];
	} req;
	uint64_t size, next = 0, b, end;
	struct fiemap_extent *e;
	unsigned int i;
	off_t len;
	int fd;

	if (argc != 2)
		die("usage: crashrec map FILE");
	fd = open_dev(argv[1], O_RDONLY);
	len = lseek(fd, 0, SEEK_END);
	if (len < 0)
		die("cannot seek %s: %s", argv[1], strerror(errno));
	size = len;
	while (next < size) {
		memset(&req, 0, sizeof(req));
		req.fm.fm_start = next;
		req.fm.fm_length = size - next;
		req.fm.fm_flags = FIEMAP_FLAG_SYNC;
		req.fm.fm_extent_count = MAP_EXTENTS;
		if (ioctl(fd, FS_IOC_FIEMAP, &req.fm))
			die("FIEMAP of %s: %s", argv[1], strerror(errno));
		if (!req.fm.fm_mapped_extents)
			break;
		for (i = 0; i < req.fm.fm_mapped_extents; i++) {
			e = &req.fm.fm_extents[i];
			if (e->fe_logical != next ||
			    e->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
					   FIEMAP_EXTENT_UNWRITTEN |
					   FIEMAP_EXTENT_NOT_ALIGNED |
					   FIEMAP_EXTENT_DATA_INLINE) ||
			    e->fe_logical % REC_SIZE || e->fe_length % REC_SIZE)
				die("%s: bytes %" PRIu64 " on are not plainly on the device (a hole?)",
				    argv[1], next);
			end = e->fe_logical + e->fe_length;
			for (b = e->fe_logical; b < end && b < size; b += REC_SIZE)
				say("%" PRIu64 "\n",
				    (uint64_t)(e->fe_physical + (b - e->fe_logical)));
			next = end;
		}
	}
	if (next < size)
		die("%s: bytes %" PRIu64 " on are a hole", argv[1], next);
	close(fd);
	return 0;
}

/* The places of the records, from the output of map. */
static uint64_t *map_read(const char *path, uint64_t *count)
{
	uint64_t *map = NULL, v;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fscanf(f, "%" SCNu64, &v) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			map = realloc(map, cap * sizeof(*map));
			if (!map)
				die("out of memory");
		}
		map[n++] = v;
	}
	if (!feof(f))
		die("%s: not a map", path);
	fclose(f);
	if (n < *count)
		*count = n;
	return map;
}

/* ---- check ------------------------------------------------------------ */

struct tally {
	uint64_t run;
	uint64_t intact, torn;
	/* One byte per record: 1 intact, 2 acknowledged. */
	uint8_t *state;
	uint64_t state_len;
	/* The ranges of intact records, as text. */
	char *ranges;
	size_t len, cap;
	uint64_t lo, hi;
	bool open;
};

static void tally_add(struct tally *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tally_add(struct tally *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->ranges + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("formatting failed");
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = (t->cap + n) * 2;
		t->ranges = realloc(t->ranges, t->cap);
		if (!t->ranges)
			die("out of memory");
	}
	t->len += n;
}

static void tally_close(struct tally *t)
{
	if (!t->open)
		return;
	tally_add(t, "%s%" PRIu64 "-%" PRIu64, t->len ? "," : "", t->lo, t->hi);
	t->open = false;
}

/* Mark record @n of @t with @flag, growing the state as needed. */
static void tally_mark(struct tally *t, uint64_t n, uint8_t flag)
{
	uint64_t len;

	if (n >= t->state_len) {
		len = n + 1 > 2 * t->state_len ? n + 1 : 2 * t->state_len;
		t->state = realloc(t->state, len);
		if (!t->state)
			die("out of memory");
		memset(t->state + t->state_len, 0, len - t->state_len);
		t->state_len = len;
	}
	t->state[n] |= flag;
}

static void tally_intact(struct tally *t, uint64_t n)
{
	tally_mark(t, n, 1);
	t->intact++;
	if (t->open && t->hi + 1 == n) {
		t->hi = n;
		return;
	}
	tally_close(t);
	t->lo = t->hi = n;
	t->open = true;
}

/* The acknowledgements of @path, marked on the runs of @t. */
static void acked_read(const char *path, struct tally *t, int nr)
{
	uint64_t run, lo, hi, n;
	char line[256];
	FILE *f = fopen(path, "r");
	int i;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "ack %" SCNu64 " %" SCNu64 " %" SCNu64,
			   &run, &lo, &hi) != 3 &&
		    sscanf(line, "ack:%" SCNu64 ":%" SCNu64 ":%" SCNu64,
			   &run, &lo, &hi) != 3)
			continue;
		if (hi < lo || hi - lo > (1U << 24))
			die("%s: a bad acknowledgement: %s", path, line);
		for (i = 0; i < nr; i++)
			if (run == t[i].run)
				for (n = lo; n <= hi; n++)
					tally_mark(&t[i], n, 2);
	}
	fclose(f);
}

/* What check's command line asks for. */
struct check_args {
	const char *file;
	const char *map_path;
	const char *acked;
	uint64_t count;
	int nr;
};

/* Read check's command line into @a and the runs into @t. */
static void check_parse(int argc, char **argv, struct check_args *a,
			struct tally *t)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "map", required_argument, NULL, 'M' },
		{ "acked", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (a->nr == MAX_RUNS)
				die("at most %d runs", MAX_RUNS);
			t[a->nr++].run = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			a->count = strtoull(optarg, NULL, 0);
			break;
		case 'M':
			a->map_path = optarg;
			break;
		case 'a':
			a->acked = optarg;
			break;
		default:
			exit(2);
		}
	}
	if (optind != argc - 1 || !a->nr)
		die("usage: crashrec check FILE --run R [--run R2] [--count N] [--map MAP]");
	a->file = argv[optind];
}

/*
 * Read the records of @a->file, open as @fd, at the places @map gives if
 * not NULL, and tally each that has the header of one of the runs of @t:
 * intact or torn.
 */
static void check_records(const struct check_args *a, int fd,
			  const uint64_t *map, struct tally *t)
{
	uint8_t *buf = malloc(REC_SIZE), *want = malloc(REC_SIZE);
	struct rec_head h;
	uint64_t n;
	ssize_t got;
	int i;

	if (!buf || !want)
		die("out of memory");
	for (n = 0; n < a->count; n++) {
		got = pread(fd, buf, REC_SIZE,
			    map ? (off_t)map[n] : (off_t)n * REC_SIZE);
		if (got < 0)
			die("cannot read %s: %s", a->file, strerror(errno));
		if (got < REC_SIZE)
			break;
		memcpy(&h, buf, sizeof(h));
		for (i = 0; i < a->nr; i++) {
			if (h.magic != REC_MAGIC || h.run != t[i].run ||
			    h.number != n)
				continue;
			rec_make(want, t[i].run, n);
			if (memcmp(buf, want, REC_SIZE))
				t[i].torn++;
			else
				tally_intact(&t[i], n);
		}
	}
	free(buf);
	free(want);
}

/*
 * Print, for each of the @nr runs of @t, how many of its acknowledged
 * records are not intact; returns how many in all.
 */
static uint64_t check_lost(struct tally *t, int nr)
{
	uint64_t lost_all = 0, lost, all, n;
	int i;

	for (i = 0; i < nr; i++) {
		lost = 0;
		all = 0;
		for (n = 0; n < t[i].state_len; n++) {
			if (!(t[i].state[n] & 2))
				continue;
			all++;
			if (!(t[i].state[n] & 1))
				lost++;
		}
		say("lost %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		    t[i].run, lost, all);
		lost_all += lost;
	}
	return lost_all;
}

static int cmd_check(int argc, char **argv)
{
	struct check_args a = { .count = UINT64_MAX };
	struct tally t[MAX_RUNS] = { 0 };
	uint64_t lost_all = 0, *map = NULL;
	int fd, i;

	check_parse(argc, argv, &a, t);
	/* The file first: a check of a missing file says so, map or not. */
	fd = open_dev(a.file, O_RDONLY);
	if (a.map_path)
		map = map_read(a.map_path, &a.count);
	for (i = 0; i < a.nr; i++) {
		t[i].cap = 64;
		t[i].ranges = calloc(1, t[i].cap);
		if (!t[i].ranges)
			die("out of memory");
	}
	check_records(&a, fd, map, t);
	for (i = 0; i < a.nr; i++) {
		tally_close(&t[i]);
		say("intact %" PRIu64 " %" PRIu64 " %s\n", t[i].run,
		    t[i].intact, t[i].len ? t[i].ranges : "-");
		say("torn %" PRIu64 " %" PRIu64 "\n", t[i].run, t[i].torn);
		free(t[i].ranges);
	}
	if (a.acked) {
		acked_read(a.acked, t, a.nr);
		lost_all = check_lost(t, a.nr);
	}
	for (i = 0; i < a.nr; i++)
		free(t[i].state);
	free(map);
	close(fd);
	return lost_all ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: crashrec write|check|map ...");
	if (!strcmp(argv[1], "write"))
		return cmd_write(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "map"))
		return cmd_map(argc - 1, argv + 1);
	die("unknown command '%s': write, check or map", argv[1]);
}
