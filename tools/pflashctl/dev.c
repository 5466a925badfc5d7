// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl create, destroy and list: the life cycle of devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <uuid.h>

#include "pflashctl.h"

static void create_help(FILE *out)
{
	fprintf(out, "<size> is a number of bytes, optionally followed by K, M or G (or KiB,\n");
	fprintf(out, "MiB, GiB): 1K is 1024 bytes.  <ms> is a number of milliseconds,\n");
	fprintf(out, "optionally followed by ms or s (seconds).\n");
}

/* Print the new device as "list --json" would. */
static int print_json(const struct pfnl_dev *dev)
{
	struct dev_table_opts opts = { .json = true };
	struct dev_table *t;
	int ret;

	dev_table_cols(&opts, NULL, NULL, NULL);
	t = dev_table_new(&opts);
	if (!t)
		return -ENOMEM;
	ret = dev_table_add(t, dev);
	if (!ret)
		ret = dev_table_print(t);
	dev_table_free(t);
	return ret;
}

/* create's options that have no short form. */
enum {
	CREATE_OPT_BLOCK_SIZE = CHAR_MAX + 1,
	CREATE_OPT_ERASE_SIZE,
	CREATE_OPT_INDEX,
	CREATE_OPT_SHOW,
	CREATE_OPT_BACKING,
	CREATE_OPT_CACHE,
	CREATE_OPT_WB_INTERVAL,
	CREATE_OPT_INACTIVE,
	CREATE_OPT_UUID,
};

/* What create's command line asks for. */
struct create_args {
	struct pfnl_dev req;
	const char *backing;
	bool show;
	bool json;
};

/* Take option @c, its argument in optarg, into @a; a bad one exits. */
static void create_opt(const struct ctl_cmd *cmd, int c,
		       struct create_args *a)
{
	uuid_t uuid;
	int mode;

	switch (c) {
	case 's':
		pfnl_dev_set(&a->req, PFLASH_A_DEV_SIZE,
			     ctl_size_arg(cmd, "--size", optarg, UINT64_MAX));
		break;
	case CREATE_OPT_BLOCK_SIZE:
		pfnl_dev_set(&a->req, PFLASH_A_DEV_BLOCK_SIZE,
			     ctl_size_arg(cmd, "--block-size", optarg,
					  UINT32_MAX));
		break;
	case CREATE_OPT_ERASE_SIZE:
		pfnl_dev_set(&a->req, PFLASH_A_DEV_ERASE_SIZE,
			     ctl_size_arg(cmd, "--erase-size", optarg,
					  UINT32_MAX));
		break;
	case 'r':
		pfnl_dev_set(&a->req, PFLASH_A_DEV_READ_ONLY, true);
		break;
	case CREATE_OPT_INDEX:
		pfnl_dev_set(&a->req, PFLASH_A_DEV_INDEX,
			     ctl_u32_arg(cmd, "--index", optarg));
		break;
	case CREATE_OPT_SHOW:
		a->show = true;
		break;
	case 'J':
		a->json = true;
		break;
	case CREATE_OPT_BACKING:
		a->backing = optarg;
		break;
	case CREATE_OPT_CACHE:
		mode = ctl_cache_mode(optarg);
		if (mode < 0)
			ctl_usage_error(cmd, "--cache: invalid mode '%s' (expected writethrough or writeback)",
					optarg);
		pfnl_dev_set(&a->req, PFLASH_A_DEV_CACHE_MODE, mode);
		break;
	case CREATE_OPT_WB_INTERVAL:
		pfnl_dev_set(&a->req, PFLASH_A_DEV_WRITEBACK_INTERVAL,
			     ctl_msec_arg(cmd, "--writeback-interval",
					  optarg));
		break;
	case CREATE_OPT_INACTIVE:
		pfnl_dev_set(&a->req, PFLASH_A_DEV_STATE,
			     PFLASH_STATE_INACTIVE);
		break;
	case CREATE_OPT_UUID:
		if (uuid_parse(optarg, uuid))
			ctl_usage_error(cmd, "--uuid: invalid UUID: '%s'",
					optarg);
		pfnl_dev_set_data(&a->req, PFLASH_A_DEV_UUID, uuid,
				  sizeof(uuid));
		break;
	}
}

/* Read create's command line into @a; a bad one exits with its usage. */
static void create_parse(const struct ctl_cmd *cmd, int argc, char **argv,
			 struct create_args *a)
{
	static const struct option longopts[] = {
		{ "size",	required_argument, NULL, 's' },
		{ "block-size",	required_argument, NULL,
		  CREATE_OPT_BLOCK_SIZE },
		{ "erase-size",	required_argument, NULL,
		  CREATE_OPT_ERASE_SIZE },
		{ "read-only",	no_argument,	   NULL, 'r' },
		{ "index",	required_argument, NULL, CREATE_OPT_INDEX },
		{ "backing",	required_argument, NULL, CREATE_OPT_BACKING },
		{ "cache",	required_argument, NULL, CREATE_OPT_CACHE },
		{ "writeback-interval", required_argument, NULL,
		  CREATE_OPT_WB_INTERVAL },
		{ "inactive",	no_argument,	   NULL, CREATE_OPT_INACTIVE },
		{ "uuid",	required_argument, NULL, CREATE_OPT_UUID },
		{ "show",	no_argument,	   NULL, CREATE_OPT_SHOW },
		{ "json",	no_argument,	   NULL, 'J' },
		CTL_OPT_HELP,
		{ NULL }
	};
	int c;

	while ((c = ctl_getopt(cmd, argc, argv, "s:rJh", longopts)) != -1)
		create_opt(cmd, c, a);
	if (optind < argc)
		ctl_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!pfnl_dev_has(&a->req, PFLASH_A_DEV_SIZE) && !a->backing)
		ctl_usage_error(cmd, "--size is required without --backing");
	if (a->show && a->json)
		ctl_usage_error(cmd, "--show and --json are mutually exclusive");
}

/* Ask for the device, print it as asked, and report how it went. */
static int create_send(const struct ctl_cmd *cmd,
		       const struct create_args *a)
{
	struct pfnl_dev dev;
	struct pfnl *h;
	int ret;

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	ret = pfnl_dev_do(h, PFLASH_CMD_DEV_NEW, &a->req, &dev);
	/* Without its index the new device cannot be shown. */
	if (!ret && (a->show || a->json) &&
	    !pfnl_dev_has(&dev, PFLASH_A_DEV_INDEX))
		ret = -EPROTO;
	if (!ret && a->show)
		printf(CTL_DEV_FMT "\n", dev.index);
	if (!ret && a->json)
		ret = print_json(&dev);
	ret = ctl_report(cmd, NULL, h, ret);
	pfnl_close(h);
	return ret;
}

static int create_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	struct create_args a = { 0 };
	int ret;

	create_parse(cmd, argc, argv, &a);
	if (a.backing) {
		ret = ctl_open_backing(cmd, NULL, a.backing, a.req.read_only);
		if (ret < 0)
			return CTL_EXIT_FAILED;
		pfnl_dev_set(&a.req, PFLASH_A_DEV_BACKING_FD, ret);
	}
	ret = create_send(cmd, &a);
	if (a.backing)
		close(a.req.backing_fd);
	return ret;
}

const struct ctl_cmd ctl_create = {
	.name		= "create",
	.args		= "[options] {--size <size> | --backing <file>}",
	.summary	= "create a device",
	.options	= (const struct ctl_opt_help[]) {
		{ "-s, --size <size>",
		  "size of the device (default: the backing file's)" },
		{ "    --block-size <size>",
		  "logical block size: 512 or 4096 (default "
		  CTL_STR(PFLASH_BLOCK_SIZE_DEFAULT) ")" },
		{ "    --erase-size <size>",
		  "erase-block size (default "
		  CTL_STR(PFLASH_ERASE_SIZE_DEFAULT) ")" },
		{ "-r, --read-only", "create a read-only device" },
		{ "    --index <N>",
		  "create " CTL_DEV_DIR CTL_DEV_NAME "N (default: the lowest free index)" },
		{ "    --backing <file>",
		  "keep <file> in accord with the device, and load it" },
		{ "    --cache <mode>",
		  "writethrough (default) or writeback, with --backing" },
		{ "    --writeback-interval <ms>",
		  "between periodic writebacks, 0 for none (default "
		  CTL_STR(PFLASH_WRITEBACK_INTERVAL_DEFAULT) "ms)" },
		{ "    --inactive",
		  "create it inactive: the incoming side of a move" },
		{ "    --uuid <uuid>", "its identity (default: random)" },
		{ "    --show", "print the new device's path" },
		{ "-J, --json", "print the new device in JSON, as list does" },
		{ NULL }
	},
	.help_extra	= create_help,
	.hints		= (const struct ctl_hint[]) {
		/* Another device owns the backing file. */
		{ EBUSY, 0,
		  "create it --inactive, as the incoming side of a move, or inactivate the owner first" },
		{ 0 }
	},
	.run		= create_run,
};

#define DESTROY_HINT \
	"fix the backing file and destroy again, or destroy --force, which loses the data not written back"

static int destroy_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	return ctl_run_flag(cmd, argc, argv, "force", PFLASH_A_DEV_FORCE,
			    PFLASH_CMD_DEV_DEL);
}

const struct ctl_cmd ctl_destroy = {
	.name		= "destroy",
	.args		= "[--force] <device>...",
	.summary	= "destroy devices",
	.options	= (const struct ctl_opt_help[]) {
		{ "-f, --force",
		  "even if the final writeback fails: its data is lost" },
		{ NULL }
	},
	.help_extra	= ctl_dev_help,
	/* The final writeback failed, as writes fail: the device is kept. */
	.hints		= (const struct ctl_hint[]) {
		{ EIO, 0, DESTROY_HINT },
		{ ENOSPC, 0, DESTROY_HINT },
		{ EDQUOT, 0, DESTROY_HINT },
		{ EFBIG, 0, DESTROY_HINT },
		{ EROFS, 0, DESTROY_HINT },
		/* Its backing file was deleted: its contents are in memory. */
		{ ENOENT, 0,
		  "save its state first (pflashctl export), or destroy --force, which loses it" },
		/* It lost its lock, with writes its file never got. */
		{ ENOLCK, 0,
		  "save its state first (pflashctl export) to keep them, or destroy --force, which loses them" },
		{ 0 }
	},
	.run		= destroy_run,
};

struct list_ctx {
	struct dev_table *table;
	unsigned int rows;
	bool lost[PFLASH_INDEX_MAX + 1];
};

static int list_add(const struct pfnl_dev *dev, void *arg)
{
	struct list_ctx *l = arg;
	int ret;

	ret = dev_table_add(l->table, dev);
	if (!ret)
		l->rows++;
	if (!ret && pfnl_dev_has(dev, PFLASH_A_DEV_STATE) &&
	    dev->state == PFLASH_STATE_LOST && dev->index <= PFLASH_INDEX_MAX)
		l->lost[dev->index] = true;
	return ret;
}

/* Under the table, on stderr: what a device that lost its lock means. */
static void list_lost_notes(const struct ctl_cmd *cmd,
			    const struct list_ctx *l)
{
	char name[CTL_DEV_PATH_MAX];
	unsigned int i;

	/* After the table, whether stdout is a terminal, a pipe or a file. */
	fflush(stdout);
	for (i = 0; i <= PFLASH_INDEX_MAX; i++) {
		if (!l->lost[i])
			continue;
		ctl_dev_path(name, i);
		ctl_msg(cmd, name,
			"lost its backing file's lock to another host: its writes fail, and its file is the other host's; destroy it and create it again from the file");
	}
}

static void list_help(FILE *out)
{
	ctl_dev_help(out);
	fprintf(out, "\n<list> is a comma-separated list of columns; with a leading '+',\n");
	fprintf(out, "they are printed after the default ones.\n");
	fprintf(out, "\nAvailable output columns:\n");
	dev_table_help(out);
}

static int list_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	   NULL, 'J' },
		{ "output",	required_argument, NULL, 'o' },
		{ "noheadings",	no_argument,	   NULL, 'n' },
		{ "bytes",	no_argument,	   NULL, 'b' },
		{ "raw",	no_argument,	   NULL, 'r' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct dev_table_opts opts = { 0 };
	struct list_ctx l = { 0 };
	const char *cols = NULL, *bad;
	char names[256];
	struct pfnl *h;
	int c, ret, err, badlen;

	while ((c = ctl_getopt(cmd, argc, argv, "Jo:nbrh", longopts)) != -1) {
		switch (c) {
		case 'J':
			opts.json = true;
			break;
		case 'o':
			cols = optarg;
			break;
		case 'n':
			opts.noheadings = true;
			break;
		case 'b':
			opts.bytes = true;
			break;
		case 'r':
			opts.raw = true;
			break;
		}
	}
	if (opts.json && opts.raw)
		ctl_usage_error(cmd, "--json and --raw are mutually exclusive");
	ret = dev_table_cols(&opts, cols, &bad, &badlen);
	if (ret == -EINVAL) {
		dev_table_names(names, sizeof(names));
		ctl_usage_error(cmd, "unknown column '%.*s' (available: %s)",
				badlen, bad, names);
	}
	if (ret)
		ctl_usage_error(cmd, "too many columns");
	argc -= optind;
	argv += optind;
	ctl_dev_args(cmd, argc, argv);

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	l.table = dev_table_new(&opts);
	if (!l.table)
		ret = ctl_report(cmd, NULL, h, -ENOMEM);
	else if (!argc)
		ret = ctl_report(cmd, NULL, h,
				 pfnl_dev_dump(h, list_add, &l));
	else
		ret = ctl_each_dev(cmd, h, argc, argv, PFLASH_CMD_DEV_GET,
				   NULL, list_add, &l);

	/* A failed dump prints nothing; "list DEV..." what it found. */
	if (l.table && (argc ? l.rows : !ret)) {
		err = dev_table_print(l.table);
		if (err)
			ret = ctl_report(cmd, NULL, h, err);
		list_lost_notes(cmd, &l);
	}
	dev_table_free(l.table);
	pfnl_close(h);
	return ret;
}

const struct ctl_cmd ctl_list = {
	.name		= "list",
	.args		= "[options] [<device>...]",
	.summary	= "list devices (all of them by default)",
	.options	= (const struct ctl_opt_help[]) {
		{ "-J, --json", "use JSON output format" },
		{ "-o, --output <list>", "the columns to print" },
		{ "-n, --noheadings", "do not print a header line" },
		{ "-b, --bytes", "print sizes in bytes" },
		{ "-r, --raw", "use raw output format" },
		{ NULL }
	},
	.help_extra	= list_help,
	.run		= list_run,
};
