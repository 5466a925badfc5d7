// SPDX-License-Identifier: GPL-2.0
/*
 * Two readers of one format must agree: every stream of the fuzzers' seed
 * corpus (tools/fuzz/corpus/, installed beside this test as corpus/), and
 * mutations of them, goes both to the kernel's import and to `pflashctl
 * inspect`, which must accept or refuse it alike.  A stream the kernel
 * commits is one inspect accepts, and the other way round.  When both
 * refuse it, they must name the same kind of problem (the errno), as the
 * user-space reader (tools/lib/pfstream.c) promises to follow the
 * kernel check by check.
 *
 * The kernel imports into an inactive device of the stream's geometry
 * (as the header gives it, if the reader could read one; else the
 * geometry of the corpus stream it came from), in pieces of a size drawn
 * for each stream.  A stream it commits changes the device, whose epoch
 * could then make a later stream stale: such a device is destroyed and
 * made again.  Streams of devices larger than 64 MiB are not imported.
 *
 * Mutations: bits flipped, bytes set to edge values, the stream cut,
 * spliced with another, bytes inserted or deleted, records dropped,
 * repeated or swapped, and the fields of a record (its type, flags,
 * lengths, offsets, or the header's and the end's) changed; most mutants
 * then have every record's CRC-32C recomputed, so that they reach the
 * checks behind the checksums.
 *
 * Every run draws a new seed, and prints it; PFLASH_DIFF_SEED runs it
 * again, PFLASH_DIFF_COUNT sets the number of mutants (default 150, 80 on
 * the debug kernel).  A disagreement is printed with the seed, the
 * mutant's number and the stream, saved in /tmp.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "pfstream.h"
#include "pft_stream.h"

#define CORPUS_MAX	64
/* Streams of larger devices are read by inspect only. */
#define DEV_SIZE_MAX	(64ULL << 20)
#define SHOWN_MAX	5

extern char **environ;

struct geometry {
	uint64_t size;
	uint32_t block_size, erase_size;
};

struct diff {
	struct pfnl *h;
	uint64_t seed, rng;
	char dir[64];
	struct pft_stream corpus[CORPUS_MAX];
	struct geometry corpus_geo[CORPUS_MAX];
	int nr_corpus;
	/* The inactive device the kernel imports into, and its geometry. */
	int dev;
	struct geometry dev_geo;
	/* Figures. */
	uint64_t streams, mutants, accepted, rejected, too_large, resealed;
	uint64_t disagree, errno_disagree;
	double secs_inspect, secs_import;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rnd(struct diff *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct diff *d, uint64_t n)
{
	return n ? rnd(d) % n : 0;
}

/* The directory this program is in. */
static void own_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	buf[n > 0 ? n : 0] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

static int load_file(const char *path, struct pft_stream *s)
{
	uint8_t buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	memset(s, 0, sizeof(*s));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (pft_stream_append(s, buf, n))
			break;
	close(fd);
	return n ? -EIO : 0;
}

/* What the user-space reader makes of @s: its status, into @st. */
static void lib_read(const struct pft_stream *s,
		     struct pfstream_status *st)
{
	struct pfstream *r;

	memset(st, 0, sizeof(*st));
	if (pfstream_new(&r))
		return;
	pfstream_feed(r, s->buf, s->len);
	pfstream_finish(r);
	*st = *pfstream_status(r);
	pfstream_free(r);
}

/* `pflashctl inspect FILE`: 0 if it accepts the stream, 1 if not, -1. */
static int inspect(const char *file)
{
	char *argv[] = { "pflashctl", "inspect", (char *)file, NULL };
	posix_spawn_file_actions_t fa;
	int status, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, "pflashctl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) ? 1 : 0;
}

/* An inactive device of geometry @g, made if the one there is not. */
static int device_for(struct diff *d, const struct geometry *g)
{
	struct pfnl_dev req = {}, dev = {};
	int ret;

	if (d->dev >= 0 && !memcmp(&d->dev_geo, g, sizeof(*g)))
		return 0;
	if (d->dev >= 0 && pft_destroy(d->h, d->dev))
		return -EBUSY;
	d->dev = -1;
	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, g->size);
	pfnl_dev_set(&req, PFLASH_A_DEV_BLOCK_SIZE, g->block_size);
	pfnl_dev_set(&req, PFLASH_A_DEV_ERASE_SIZE, g->erase_size);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ret = pft_create(d->h, &req, &dev);
	if (ret)
		return ret;
	d->dev = dev.index;
	d->dev_geo = *g;
	return 0;
}

/*
 * The kernel's verdict on @s: 0 if it committed it, else the errno of the
 * piece it refused (or -EINVAL if it took every piece but did not commit:
 * a truncated stream).  1 if the stream was not imported: too large.
 */
static int kernel_import(struct diff *d, const struct pft_stream *s,
			 const struct geometry *g)
{
	static const size_t chunks[] = { 1, 7, 32, 100, 4096,
					 PFLASH_STREAM_CHUNK_MAX };
	struct pfnl_dev out;
	size_t chunk;
	int ret;

	if (g->size > DEV_SIZE_MAX)
		return 1;
	ret = device_for(d, g);
	if (ret)
		return ret;
	if (!s->len)
		return -EINVAL;
	/* Tiny pieces for small streams only: each is a message. */
	do
		chunk = chunks[below(d, ARRAY_SIZE(chunks))];
	while (s->len / chunk > 64);
	ret = pft_import(d->h, d->dev, s->buf, s->len, chunk, &out);
	/*
	 * Committed: the device changed (its epoch among the rest); the next
	 * stream gets a new one.  Also when a later piece was refused: the
	 * piece that ends the stream commits it, and one after it continues
	 * no import (netlink.rst), the kernel's refusal of the bytes after
	 * the END record.  Seed 512264239 found this device kept, at a higher
	 * epoch, making a later stream stale.
	 */
	if (out.attrs && !pft_destroy(d->h, d->dev))
		d->dev = -1;
	if (ret)
		return ret;
	return out.attrs ? 0 : -EINVAL;
}

/*
 * The payload length of the record at @o, read byte-wise: a mutant's
 * records need not be aligned.
 */
static size_t rec_len(const struct pft_stream *s, size_t o)
{
	struct pflash_stream_rec rec;

	memcpy(&rec, s->buf + o, REC_HDR);
	return le32toh(rec.len);
}

/* Walk the records of @s: the offsets of the first @max, in @off. */
static int records(const struct pft_stream *s, size_t *off, int max)
{
	size_t o = 0;
	int n = 0;

	while (n < max && s->len - o >= REC_HDR) {
		off[n++] = o;
		if (rec_len(s, o) > s->len - o - REC_HDR)
			break;
		o += REC_HDR + rec_len(s, o);
	}
	return n;
}

static void reseal_all(struct pft_stream *s)
{
	size_t off[4096];
	int i, n = records(s, off, 4096);

	for (i = 0; i < n; i++)
		if (rec_len(s, off[i]) <= s->len - off[i] - REC_HDR)
			pft_rec_reseal(s, off[i]);
}

#define chance_pick(d, v)	((v)[below(d, sizeof(v) / sizeof((v)[0]))])

static uint64_t edge_value(struct diff *d)
{
	static const uint64_t v[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 511,
				      512, 4095, 4096, 65535, 65536, 65537,
				      0x7fffffff, 0xffffffff, 1ULL << 32,
				      UINT64_MAX };

	return below(d, 4) ? chance_pick(d, v) : rnd(d);
}

/* Change one field of the record at @o of @s. */
static void mutate_field(struct diff *d, struct pft_stream *s, size_t o)
{
	struct pflash_stream_rec r, *rec = &r;
	uint8_t *payload = s->buf + o + REC_HDR;
	size_t len = rec_len(s, o);
	uint64_t v = edge_value(d);

	memcpy(rec, s->buf + o, REC_HDR);
	/* The record may be cut short: only what is there. */
	if (len > s->len - o - REC_HDR)
		len = s->len - o - REC_HDR;

	switch (below(d, 9)) {
	case 0:
		rec->type = htole16(below(d, 3) ? 1 + below(d, 6) : v);
		break;
	case 1:
		rec->flags = htole16(below(d, 2) ? PFLASH_REC_F_OPTIONAL : v);
		break;
	case 2:
		rec->offset = htole64(below(d, 2) ?
				      le64toh(rec->offset) + below(d, 9) - 4 : v);
		break;
	case 3:
		rec->length = htole64(below(d, 2) ?
				      le64toh(rec->length) + below(d, 9) - 4 : v);
		break;
	case 4:
		rec->magic = htole32(v);
		break;
	default:
		/* A field of a header or end payload: a u16, u32 or u64. */
		if (len >= 8) {
			size_t at = below(d, len / 2) * 2;
			int width = 1 << below(d, 3);

			if (at + 2 * width > len)
				at = len - 2 * width;
			memcpy(payload + at, &v, 2 * width);
		}
		break;
	}
	memcpy(s->buf + o, rec, REC_HDR);
}

/* Insert a copy of @n bytes of @s, from @a, at @a. */
static void insert_copy(struct pft_stream *s, size_t a, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	size_t len = s->len;

	if (!copy)
		return;
	memcpy(copy, s->buf + a, n);
	if (!pft_stream_append(s, copy, n)) {
		memmove(s->buf + a + n, s->buf + a, len - a);
		memcpy(s->buf + a, copy, n);
	}
	free(copy);
}

/* A mutant of corpus stream @from, into @s. */
static void mutate(struct diff *d, int from, struct pft_stream *s)
{
	const struct pft_stream *src = &d->corpus[from];
	size_t off[4096], a, b, n;
	int nrec, i, steps = 1 + below(d, 3);
	static const uint8_t edge[] = { 0, 1, 0x7f, 0x80, 0xff };
	uint8_t tmp[REC_HDR];

	memset(s, 0, sizeof(*s));
	pft_stream_append(s, src->buf, src->len);
	while (steps--) {
		nrec = records(s, off, 4096);
		switch (below(d, 10)) {
		case 0:	/* flip bits */
			for (i = 1 + below(d, 8); i-- && s->len;)
				s->buf[below(d, s->len)] ^= 1 << below(d, 8);
			break;
		case 1:	/* an edge byte */
			if (s->len)
				s->buf[below(d, s->len)] =
					edge[below(d, ARRAY_SIZE(edge))];
			break;
		case 2:	/* cut */
			s->len = below(d, s->len + 1);
			break;
		case 3:	/* splice with another corpus stream */
			src = &d->corpus[below(d, d->nr_corpus)];
			a = below(d, s->len + 1);
			b = below(d, src->len + 1);
			s->len = a;
			pft_stream_append(s, src->buf + b, src->len - b);
			break;
		case 4:	/* delete bytes */
			a = below(d, s->len + 1);
			n = below(d, s->len - a + 1);
			memmove(s->buf + a, s->buf + a + n, s->len - a - n);
			s->len -= n;
			break;
		case 5:	/* insert bytes: a copy of some of the stream */
			a = below(d, s->len + 1);
			n = below(d, 64);
			if (n > s->len - a)
				n = s->len - a;
			insert_copy(s, a, n);
			break;
		case 6:	/* drop, or repeat, a whole record */
		case 7:
			if (nrec < 2)
				break;
			i = below(d, nrec - 1);
			a = off[i];
			n = off[i + 1] - off[i];
			if (below(d, 2)) {
				memmove(s->buf + a, s->buf + a + n,
					s->len - a - n);
				s->len -= n;
			} else {
				insert_copy(s, a, n);
			}
			break;
		case 8:	/* swap the headers of two records */
			if (nrec < 2)
				break;
			a = off[below(d, nrec)];
			b = off[below(d, nrec)];
			memcpy(tmp, s->buf + a, REC_HDR);
			memmove(s->buf + a, s->buf + b, REC_HDR);
			memcpy(s->buf + b, tmp, REC_HDR);
			break;
		default:	/* a field of a record */
			if (nrec)
				mutate_field(d, s, off[below(d, nrec)]);
			break;
		}
	}
	if (below(d, 10) < 7) {
		reseal_all(s);
		d->resealed++;
	}
}

static void save(struct diff *d, const struct pft_stream *s, char *path,
		 size_t len, uint64_t nr)
{
	int fd;

	snprintf(path, len, "%s/stream-%" PRIu64 ".pfs", d->dir, nr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, s->buf, s->len) != (ssize_t)s->len)
			path[0] = '\0';
		close(fd);
	}
}

/* One stream through both readers; false if they disagree. */
static bool one(struct diff *d, const struct pft_stream *s, int from,
		uint64_t nr)
{
	struct pfstream_status st;
	struct geometry g = d->corpus_geo[from];
	char path[160], keep[192];
	int user, lib, kernel;
	double t;

	snprintf(path, sizeof(path), "%s/stream.pfs", d->dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, s->buf, s->len) != (ssize_t)s->len) {
			if (fd >= 0)
				close(fd);
			return false;
		}
		close(fd);
	}
	t = now();
	user = inspect(path);
	d->secs_inspect += now() - t;
	lib_read(s, &st);
	lib = st.error;
	if (st.have_header) {
		g.size = st.header.size;
		g.block_size = st.header.block_size;
		g.erase_size = st.header.erase_size;
	}
	t = now();
	kernel = kernel_import(d, s, &g);
	d->secs_import += now() - t;
	d->streams++;
	if (kernel == 1) {
		d->too_large++;
		return true;
	}
	if (kernel == -ENOMEM)
		return true;
	if (!kernel)
		d->accepted++;
	else
		d->rejected++;
	if (user == (kernel ? 1 : 0) && !lib == !kernel &&
	    (!kernel || kernel == lib))
		return true;

	if (user != (kernel ? 1 : 0) || !lib != !kernel)
		d->disagree++;
	else
		d->errno_disagree++;
	if (d->disagree + d->errno_disagree <= SHOWN_MAX) {
		save(d, s, keep, sizeof(keep), nr);
		fprintf(stderr,
			"# seed %" PRIu64 ", stream %" PRIu64 " (%zu bytes, from corpus stream %d, kept in %s): "
			"the kernel %s (%d), inspect %s, the reader %s (%d: %s)\n",
			d->seed, nr, s->len, from, keep[0] ? keep : "-",
			kernel ? "refuses it" : "commits it", kernel,
			user ? (user < 0 ? "did not run" : "refuses it") : "accepts it",
			lib ? "refuses it" : "accepts it", lib, st.msg);
	}
	return false;
}

FIXTURE(diff) {
	struct diff *d;
};

FIXTURE_SETUP(diff)
{
	struct pfstream_status st;
	char corpus[4096], path[4400];
	struct dirent **names;
	struct diff *d;
	int i, n;

	d = calloc(1, sizeof(*d));
	ASSERT_NE(NULL, d);
	self->d = d;
	d->dev = -1;
	d->seed = pft_seed("PFLASH_DIFF_SEED");
	ASSERT_EQ(0, pfnl_open(&d->h));
	ASSERT_EQ(0, pft_tmpfs(d->dir, sizeof(d->dir), "64m"));

	own_dir(corpus, sizeof(corpus) - 8);
	strcat(corpus, "/corpus");
	n = scandir(corpus, &names, NULL, alphasort);
	ASSERT_LT(0, n) TH_LOG("no corpus in %s", corpus);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && d->nr_corpus < CORPUS_MAX) {
			snprintf(path, sizeof(path), "%s/%s", corpus,
				 names[i]->d_name);
			ASSERT_EQ(0, load_file(path, &d->corpus[d->nr_corpus]));
			lib_read(&d->corpus[d->nr_corpus], &st);
			/* Damaged seeds read as a small default device. */
			d->corpus_geo[d->nr_corpus] = (struct geometry){
				16384, 512, 4096 };
			if (st.have_header)
				d->corpus_geo[d->nr_corpus] = (struct geometry){
					st.header.size, st.header.block_size,
					st.header.erase_size };
			d->nr_corpus++;
		}
		free(names[i]);
	}
	free(names);
	ASSERT_LT(0, d->nr_corpus);
}

FIXTURE_TEARDOWN(diff)
{
	struct diff *d = self->d;
	int i;

	if (!d)
		return;
	if (d->dev >= 0)
		pft_destroy(d->h, d->dev);
	for (i = 0; i < d->nr_corpus; i++)
		pft_stream_free(&d->corpus[i]);
	if (d->dir[0])
		pft_tmpfs_remove(d->dir);
	pfnl_close(d->h);
	free(d);
}

/*
 * The seconds of mutants a run may take, well inside the tests' 280: the
 * last stream may be a slow one, and the teardown follows.
 */
#define DIFF_BOX_S	200

/*
 * Run seed @seed: the corpus as it is, then @count mutants (or fewer, if
 * @secs run out).  The figures start from zero.
 */
static void run_seed(struct diff *d, uint64_t seed, uint64_t count, int secs)
{
	time_t start = time(NULL);
	struct pft_stream s;
	uint64_t nr = 0;
	int i, from;

	d->seed = seed;
	d->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	d->streams = d->mutants = d->accepted = d->rejected = 0;
	d->too_large = d->resealed = d->disagree = d->errno_disagree = 0;
	d->secs_inspect = d->secs_import = 0;
	/* The corpus as it is: every seed, valid and damaged. */
	for (i = 0; i < d->nr_corpus; i++)
		one(d, &d->corpus[i], i, nr++);
	while (d->mutants < count && time(NULL) - start < secs) {
		from = below(d, d->nr_corpus);
		mutate(d, from, &s);
		one(d, &s, from, nr++);
		pft_stream_free(&s);
		d->mutants++;
	}
	if (d->mutants < count)
		fprintf(stderr, "# %s:%d:stopped after %d s at %" PRIu64 " of %" PRIu64 " mutants: PFLASH_DIFF_SEED=%" PRIu64 " PFLASH_DIFF_COUNT=%" PRIu64 " runs these again\n",
			__FILE__, __LINE__, secs, d->mutants, count, d->seed,
			d->mutants);
	fprintf(stderr, "# %s:%d:fuzz: stream import vs inspect: seed %" PRIu64 ", %" PRIu64 " streams (%d corpus, %" PRIu64 " mutants, %" PRIu64 " resealed) in %ld s (inspect %.1f s, import %.1f s): "
		"%" PRIu64 " accepted by both, %" PRIu64 " refused, %" PRIu64 " too large to import; disagreements %" PRIu64 " (and %" PRIu64 " on the errno)\n",
		__FILE__, __LINE__, d->seed, d->streams, d->nr_corpus, d->mutants, d->resealed,
		(long)(time(NULL) - start), d->secs_inspect, d->secs_import,
		d->accepted, d->rejected,
		d->too_large, d->disagree, d->errno_disagree);
}

/*
 * The seeds that once found a disagreement, each with the mutants it takes
 * to reach the stream that showed it: every run replays them, so that a
 * bug a fresh seed found stays found (durability.rst, "Fresh seeds").
 */
static const struct {
	uint64_t seed, mutants;
} regression_seeds[] = {
	/*
	 * Stream 59: a stale epoch (of a device the test had kept by
	 * mistake) refused before the END record's bad totals.
	 */
	{ 512264239, 60 },
};

TEST_F_TIMEOUT(diff, regression_seeds_agree, 280)
{
	struct diff *d = self->d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(regression_seeds); i++) {
		/* All of its mutants, however long they take: no box. */
		run_seed(d, regression_seeds[i].seed,
			 regression_seeds[i].mutants, INT_MAX);
		EXPECT_EQ(0, d->disagree)
			TH_LOG("seed %" PRIu64, d->seed);
		EXPECT_EQ(0, d->errno_disagree)
			TH_LOG("seed %" PRIu64, d->seed);
	}
}

TEST_F_TIMEOUT(diff, kernel_import_and_inspect_agree_on_every_stream, 280)
{
	struct diff *d = self->d;
	uint64_t count = pft_env_u64("PFLASH_DIFF_COUNT",
				     pft_debug_kernel() ? 80 : 150);

	TH_LOG("seed %" PRIu64 " (PFLASH_DIFF_SEED=%" PRIu64 " runs it again), %d corpus streams, %" PRIu64 " mutants (PFLASH_DIFF_COUNT)",
	       d->seed, d->seed, d->nr_corpus, count);
	run_seed(d, d->seed, count, DIFF_BOX_S);
	EXPECT_EQ(0, d->disagree);
	EXPECT_EQ(0, d->errno_disagree);
	/* Both kinds of stream were seen: the test can tell them apart. */
	EXPECT_LT(0, d->accepted);
	EXPECT_LT(0, d->rejected);
}

TEST_HARNESS_MAIN
