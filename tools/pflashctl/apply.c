// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl apply: set up the devices of the table, pflashtab(5), as
 * swapon -a and cryptdisks_start set up theirs; with --destroy, take them
 * down with their final writeback.  pflash.service runs both, at boot and
 * at shutdown.
 *
 * apply creates each device of the table that is missing.  A device that
 * is there is left as it is; where it differs from its line, apply says so
 * and fails, but changes nothing: running it again does the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pflashctl.h"
#include "pflashtab.h"

/* How long --destroy waits for a device to be closed: udev may probe it. */
#define BUSY_TRIES	50
#define BUSY_WAIT_NS	100000000L

/* The length of "FILE:LINE: /dev/pflashN", for messages. */
#define WHERE_MAX	(PATH_MAX + 64)

struct apply {
	const struct ctl_cmd *cmd;
	const char *table;
	bool destroy;
	bool dry_run;
	struct pfnl *h;
	struct pfnl_dev *devs;	/* the devices there are */
	size_t ndevs;
	struct pflashtab_line *lines;	/* the table's */
	size_t nlines;
	int status;
};

static void where(char buf[WHERE_MAX], const struct apply *a,
		  const struct pflashtab_line *l, const struct pfnl_dev *dev)
{
	char path[CTL_DEV_PATH_MAX] = "";

	if (dev)
		ctl_dev_path(path, dev->index);
	snprintf(buf, WHERE_MAX, "%s:%u%s%s", a->table, l->lineno,
		 dev ? ": " : "", path);
}

/* Whether @a and @b name the same device. */
static bool same_device(const struct pflashtab_line *a,
			const struct pflashtab_line *b)
{
	if (a->by_uuid != b->by_uuid)
		return false;
	if (a->by_uuid)
		return !memcmp(a->req.uuid, b->req.uuid, PFLASH_UUID_LEN);
	return a->req.index == b->req.index;
}

/* Read the table into @a->lines; a line that is not valid is reported. */
static int read_table(struct apply *a)
{
	struct pflashtab_line *l;
	char err[512], *text = NULL;
	unsigned int lineno = 0;
	size_t cap = 0, i;
	ssize_t n;
	FILE *f;
	int ret;

	f = fopen(a->table, "re");
	if (!f) {
		ret = -errno;
		ctl_msg(a->cmd, NULL, "cannot open the table '%s': %s",
			a->table, strerror(-ret));
		return ret;
	}
	while ((n = getline(&text, &cap, f)) >= 0) {
		lineno++;
		if (n && text[n - 1] == '\n')
			text[n - 1] = '\0';
		l = reallocarray(a->lines, a->nlines + 1, sizeof(*l));
		if (!l) {
			ret = -ENOMEM;
			goto out;
		}
		a->lines = l;
		l += a->nlines;
		ret = pflashtab_parse(text, lineno, l, err, sizeof(err));
		for (i = 0; ret > 0 && i < a->nlines; i++) {
			if (!same_device(&a->lines[i], l))
				continue;
			snprintf(err, sizeof(err),
				 "names the device of line %u again",
				 a->lines[i].lineno);
			ret = -EINVAL;
		}
		if (ret < 0) {
			ctl_msg(a->cmd, NULL, "%s:%u: %s", a->table, lineno,
				err);
			a->status = CTL_EXIT_FAILED;
		}
		if (ret > 0)
			a->nlines++;
	}
	ret = ferror(f) ? -EIO : 0;
out:
	if (ret)
		ctl_msg(a->cmd, NULL, "cannot read the table '%s': %s",
			a->table, strerror(-ret));
	free(text);
	fclose(f);
	return ret;
}

static int add_dev(const struct pfnl_dev *dev, void *arg)
{
	struct apply *a = arg;
	struct pfnl_dev *devs;

	devs = reallocarray(a->devs, a->ndevs + 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	a->devs = devs;
	a->devs[a->ndevs++] = *dev;
	return 0;
}

/* The device that line @l names, or NULL. */
static const struct pfnl_dev *find(const struct apply *a,
				     const struct pflashtab_line *l)
{
	const struct pfnl_dev *dev;
	size_t i;

	for (i = 0; i < a->ndevs; i++) {
		dev = &a->devs[i];
		if (l->by_uuid ? pfnl_dev_has(dev, PFLASH_A_DEV_UUID) &&
				 !memcmp(dev->uuid, l->req.uuid,
					 PFLASH_UUID_LEN) :
				 dev->index == l->req.index)
			return dev;
	}
	return NULL;
}

/* Report that @what of the device is @have where the table says @want. */
static void differs(struct apply *a, const char *at, const char *what,
		    const char *have, const char *want)
{
	ctl_msg(a->cmd, at, "differs from the table: %s %s, the table says %s",
		what, have, want);
	a->status = CTL_EXIT_FAILED;
}

static void differs_num(struct apply *a, const char *at, const char *what,
			uint64_t have, uint64_t want)
{
	char h[24], w[24];

	if (have == want)
		return;
	snprintf(h, sizeof(h), "%" PRIu64, have);
	snprintf(w, sizeof(w), "%" PRIu64, want);
	differs(a, at, what, h, w);
}

/* The size of the backing file, as the kernel would take it; 0 if unknown. */
static uint64_t backing_size(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;

	if (fd < 0)
		return 0;
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	return end < 0 ? 0 : end;
}

/*
 * Whether the backing file of line @l is device @dev's: the same inode, as
 * the kernel reports it, whatever path names it; or, from a kernel that
 * does not, the same path (@have, the device's, and @want, the line's).
 * A file the path no longer names (moved, or deleted: " (deleted)") is
 * not the line's.
 */
static bool same_backing(const struct pflashtab_line *l,
			 const struct pfnl_dev *dev, const char *have,
			 const char *want)
{
	struct stat st;

	if (!l->backing[0] || !pfnl_dev_has(dev, PFLASH_A_DEV_BACKING_INO))
		return !strcmp(have, want);
	return !stat(l->backing, &st) &&
	       (uint64_t)st.st_dev == dev->backing_dev &&
	       (uint64_t)st.st_ino == dev->backing_ino;
}

/* Report how device @dev differs from line @l: what apply would create. */
static void compare(struct apply *a, const struct pflashtab_line *l,
		    const struct pfnl_dev *dev)
{
	const struct pfnl_dev *req = &l->req;
	char at[WHERE_MAX], real[PATH_MAX];
	const char *want = "none", *have = "none";
	uint32_t mode = PFLASHTAB_CACHE_NONE;
	uint64_t size;

	where(at, a, l, dev);
	if (l->backing[0])
		want = realpath(l->backing, real) ? real : l->backing;
	if (pfnl_dev_has(dev, PFLASH_A_DEV_BACKING_PATH))
		have = dev->backing_path;
	if (!same_backing(l, dev, have, want))
		differs(a, at, "backing file", have, want);
	if (dev->read_only != req->read_only)
		differs(a, at, "read-only", dev->read_only ? "yes" : "no",
			req->read_only ? "yes" : "no");
	if (pfnl_dev_has(dev, PFLASH_A_DEV_CACHE_MODE))
		mode = dev->cache_mode;
	if (mode != l->cache_mode)
		differs(a, at, "cache mode", pflashtab_cache_name(mode),
			pflashtab_cache_name(l->cache_mode));

	size = pfnl_dev_has(req, PFLASH_A_DEV_SIZE) ? req->size :
	       backing_size(l->backing);
	if (size)
		differs_num(a, at, "size", dev->size, size);
	differs_num(a, at, "block size", dev->block_size,
		    req->block_size ?: PFLASH_BLOCK_SIZE_DEFAULT);
	differs_num(a, at, "erase-block size", dev->erase_size,
		    req->erase_size ?: PFLASH_ERASE_SIZE_DEFAULT);
	if (mode == PFLASH_CACHE_MODE_WRITEBACK &&
	    l->cache_mode == PFLASH_CACHE_MODE_WRITEBACK)
		differs_num(a, at, "writeback interval (ms)",
			    dev->writeback_interval,
			    pfnl_dev_has(req, PFLASH_A_DEV_WRITEBACK_INTERVAL) ?
			    req->writeback_interval :
			    PFLASH_WRITEBACK_INTERVAL_DEFAULT);
	if (l->by_uuid && pfnl_dev_has(req, PFLASH_A_DEV_INDEX))
		differs_num(a, at, "index", dev->index, req->index);
}

static void create(struct apply *a, const struct pflashtab_line *l)
{
	struct pfnl_dev req = l->req, dev;
	char at[WHERE_MAX], path[CTL_DEV_PATH_MAX];
	int fd = -1, ret;

	where(at, a, l, NULL);
	if (a->dry_run) {
		if (pfnl_dev_has(&req, PFLASH_A_DEV_INDEX))
			ctl_dev_path(path, req.index);
		printf("%s: would create %s\n", at,
		       pfnl_dev_has(&req, PFLASH_A_DEV_INDEX) ? path :
		       "a device");
		return;
	}
	if (l->backing[0]) {
		fd = ctl_open_backing(a->cmd, at, l->backing, req.read_only);
		if (fd < 0) {
			a->status = CTL_EXIT_FAILED;
			return;
		}
		pfnl_dev_set(&req, PFLASH_A_DEV_BACKING_FD, fd);
	}
	ret = pfnl_dev_do(a->h, PFLASH_CMD_DEV_NEW, &req, &dev);
	if (!ret && !pfnl_dev_has(&dev, PFLASH_A_DEV_INDEX))
		ret = -EPROTO;
	if (!ret) {
		ctl_dev_path(path, dev.index);
		printf("%s: created %s\n", at, path);
	}
	if (ctl_report(a->cmd, at, a->h, ret))
		a->status = CTL_EXIT_FAILED;
	if (fd >= 0)
		close(fd);
}

/*
 * Destroy @dev, as `pflashctl destroy` would: its dirty data written back
 * first, and if that fails, the device is kept.  While something has it
 * open, a while at most (udev probes a device it was told of); then its
 * dirty data is written back all the same, so that none is lost.
 */
static void destroy(struct apply *a, const struct pflashtab_line *l,
		    const struct pfnl_dev *dev)
{
	const struct timespec wait = { .tv_nsec = BUSY_WAIT_NS };
	struct pfnl_dev req = { 0 };
	char at[WHERE_MAX], path[CTL_DEV_PATH_MAX];
	int tries = 0, ret;

	where(at, a, l, NULL);
	ctl_dev_path(path, dev->index);
	if (a->dry_run) {
		printf("%s: would destroy %s\n", at, path);
		return;
	}
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, dev->index);
	while ((ret = pfnl_dev_do(a->h, PFLASH_CMD_DEV_DEL, &req,
				       NULL)) == -EBUSY && ++tries < BUSY_TRIES)
		nanosleep(&wait, NULL);
	if (!ret)
		printf("%s: destroyed %s\n", at, path);
	where(at, a, l, dev);
	if (!ctl_report(a->cmd, at, a->h, ret))
		return;
	a->status = CTL_EXIT_FAILED;
	if (ret != -EBUSY)
		return;
	ret = pfnl_dev_do(a->h, PFLASH_CMD_FLUSH, &req, NULL);
	if (!ret)
		ctl_msg(a->cmd, at, "kept, as it is open; its dirty data is written back");
	ctl_report(a->cmd, at, a->h, ret);
}

static int apply_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "table",	required_argument, NULL, 't' },
		{ "destroy",	no_argument,	   NULL, 'd' },
		{ "dry-run",	no_argument,	   NULL, 'n' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct apply a = { .cmd = cmd, .table = PFLASHTAB_PATH };
	const struct pfnl_dev *dev;
	size_t i, k;
	int c, ret;

	while ((c = ctl_getopt(cmd, argc, argv, "t:dnh", longopts)) != -1) {
		switch (c) {
		case 't':
			a.table = optarg;
			break;
		case 'd':
			a.destroy = true;
			break;
		case 'n':
			a.dry_run = true;
			break;
		}
	}
	if (optind < argc)
		ctl_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

	if (read_table(&a)) {
		a.status = CTL_EXIT_FAILED;
		goto out;
	}
	ret = ctl_open(cmd, &a.h);
	if (ret) {
		a.status = ret;
		goto out;
	}
	ret = pfnl_dev_dump(a.h, add_dev, &a);
	if (ctl_report(cmd, NULL, a.h, ret)) {
		a.status = CTL_EXIT_FAILED;
		goto out;
	}
	/* Down in the reverse order of up. */
	for (k = 0; k < a.nlines; k++) {
		i = a.destroy ? a.nlines - 1 - k : k;
		dev = find(&a, &a.lines[i]);
		if (a.destroy && dev)
			destroy(&a, &a.lines[i], dev);
		else if (!a.destroy && dev)
			compare(&a, &a.lines[i], dev);
		else if (!a.destroy)
			create(&a, &a.lines[i]);
	}
out:
	pfnl_close(a.h);
	free(a.devs);
	free(a.lines);
	return a.status;
}

static void apply_help(FILE *out)
{
	fprintf(out, "Each line of the table is a device: <device> <backing file> [<cache mode>\n");
	fprintf(out, "[<options>]], see pflashtab(5).  A device is named by its UUID, or by\n");
	fprintf(out, "its index (pflashN, /dev/pflashN or N).  A device that is there is\n");
	fprintf(out, "compared with its line, and any difference is reported, not changed.\n");
}

const struct ctl_cmd ctl_apply = {
	.name		= "apply",
	.args		= "[options]",
	.summary	= "create the devices of the table that are missing",
	.options	= (const struct ctl_opt_help[]) {
		{ "-t, --table <file>",
		  "the table (default: " PFLASHTAB_PATH ")" },
		{ "-d, --destroy",
		  "destroy the table's devices instead, with their final writeback" },
		{ "-n, --dry-run", "say what would be done, and do nothing" },
		{ NULL }
	},
	.help_extra	= apply_help,
	.run		= apply_run,
};
