/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflashctl: what the command files share with the dispatcher
 * (pflashctl.c) and the output code (output.c).
 */
#ifndef PFLASHCTL_H
#define PFLASHCTL_H

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "pfnl.h"
#include "pflash_tools.h"

/* Exit statuses; pflashctl --help lists them, and pflashctl(8). */
enum ctl_exit {
	CTL_EXIT_OK		= 0,
	CTL_EXIT_FAILED		= 1,
	CTL_EXIT_USAGE		= 2,
	CTL_EXIT_NOMODULE	= 3,
};

/* A device's path is CTL_DEV_DIR CTL_DEV_NAME N, N its index. */
#define CTL_DEV_DIR		"/dev/"
#define CTL_DEV_NAME		"pflash"
#define CTL_DEV_FMT		CTL_DEV_DIR CTL_DEV_NAME "%" PRIu32
#define CTL_DEV_PATH_MAX	sizeof(CTL_DEV_DIR CTL_DEV_NAME "4294967295")

#define CTL_STR(x)		CTL_STR_(x)
#define CTL_STR_(x)		#x

/* One option in --help: "-s, --size <size>" and what it does. */
struct ctl_opt_help {
	const char *opt;
	const char *desc;
};

/**
 * struct ctl_hint - what to do next, after a refusal whose reason does not
 * say it: the kernel knows what went wrong, only the tool knows its own
 * options
 * @err: the errno the kernel refused a request of the command with
 * @attr: the attribute the kernel blamed (PFLASH_A_DEV_*), 0 for none
 * @text: the hint
 */
struct ctl_hint {
	int err;
	int attr;
	const char *text;
};

/* The hint of activate and import --activate for a stale epoch. */
#define CTL_EPOCH_HINT \
	"name an epoch greater than the device's ('pflashctl list -o NAME,EPOCH' shows it)"

/**
 * struct ctl_cmd - a subcommand
 * @name: what the user types
 * @args: its synopsis, after the name
 * @summary: what it does, in one line
 * @options: its options for --help, but -h; ends with an empty entry
 * @help_extra: prints more --help text after the options, or NULL
 * @hints: its hints (see ctl_report()), or NULL; ends with an empty entry
 * @run: runs it on its arguments (argv[0] is the command); returns an
 *	exit status
 */
struct ctl_cmd {
	const char *name;
	const char *args;
	const char *summary;
	const struct ctl_opt_help *options;
	void (*help_extra)(FILE *out);
	const struct ctl_hint *hints;
	int (*run)(const struct ctl_cmd *cmd, int argc, char **argv);
};

/* The subcommands, one group per file. */
extern const struct ctl_cmd ctl_create, ctl_destroy, ctl_list;	/* dev.c */
extern const struct ctl_cmd ctl_flush, ctl_inactivate, ctl_activate; /* owner.c */
extern const struct ctl_cmd ctl_export, ctl_import, ctl_inspect; /* stream.c */
extern const struct ctl_cmd ctl_monitor;			/* monitor.c */
extern const struct ctl_cmd ctl_apply;				/* apply.c */

/* Every command takes -h, --help: put this in its struct option array. */
#define CTL_OPT_HELP	{ "help", no_argument, NULL, 'h' }

/*
 * getopt_long() for a command: handles -h (help, exit 0) and invalid
 * options (usage error, exit 2); returns any other option, or -1.
 */
int ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv,
	       const char *optstring, const struct option *longopts);

/* Print a usage error about @cmd and exit with CTL_EXIT_USAGE. */
noreturn void ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
	__printf(2, 3);

/*
 * Print "pflashctl: CMD: DEV: message" to stderr, as every error and
 * warning is; @dev may be NULL.
 */
void ctl_msg(const struct ctl_cmd *cmd, const char *dev, const char *fmt, ...)
	__printf(3, 4);

/*
 * A status line on a terminal, such as progress: ctl_status() prints it
 * as ctl_msg() would, over the one before, and leaves the cursor at its
 * start; ctl_status_clear() clears it, as any message does first.
 */
void ctl_status(const struct ctl_cmd *cmd, const char *dev,
		const char *fmt, ...) __printf(3, 4);
void ctl_status_clear(void);

/*
 * Option and argument values; each one exits with a usage error naming
 * @what if @arg is not valid.
 *  ctl_size_arg(): bytes, with an optional K, M or G suffix, at most @max;
 *  ctl_msec_arg(): milliseconds, with an optional ms or s suffix, that fit
 *	in 32 bits;
 *  ctl_u32_arg(), ctl_u64_arg(): a plain decimal number that fits in 32 or
 *	64 bits;
 *  ctl_dev_arg(): a device, as pflashN, /dev/pflashN or N: its index.
 */
uint64_t ctl_size_arg(const struct ctl_cmd *cmd, const char *what,
		      const char *arg, uint64_t max);
uint32_t ctl_msec_arg(const struct ctl_cmd *cmd, const char *what,
		      const char *arg);
uint32_t ctl_u32_arg(const struct ctl_cmd *cmd, const char *what,
		     const char *arg);
uint64_t ctl_u64_arg(const struct ctl_cmd *cmd, const char *what,
		     const char *arg);
uint32_t ctl_dev_arg(const struct ctl_cmd *cmd, const char *arg);

/*
 * The same values, as a table gives them (pflashtab.c): 0, or -EINVAL or
 * -ERANGE without a word.
 */
int ctl_parse_size(const char *s, uint64_t max, uint64_t *val);
int ctl_parse_msec(const char *s, uint32_t *val);

/*
 * The one argument of a command, argv[optind], which names @what; a usage
 * error if there is none, or more.
 */
const char *ctl_one_arg(const struct ctl_cmd *cmd, int argc, char **argv,
			const char *what);

/* Put the path of device @index, /dev/pflashN, in @buf. */
void ctl_dev_path(char buf[CTL_DEV_PATH_MAX], uint32_t index);

/* --help text for commands that take devices: what a <device> is. */
void ctl_dev_help(FILE *out);

/*
 * Check device arguments, so that usage errors come before any request.
 */
void ctl_dev_args(const struct ctl_cmd *cmd, int ndevs, char **devs);

/*
 * Send the netlink command @nl_cmd for each of @devs (checked with
 * ctl_dev_args()) in turn, with the attributes of @req (NULL for none)
 * and the device's index, pass the device of each reply to @fn, if not
 * NULL, and report each failure.  Returns the exit status.
 */
int ctl_each_dev(const struct ctl_cmd *cmd, struct pfnl *h,
		 int ndevs, char **devs, uint8_t nl_cmd,
		 const struct pfnl_dev *req, pfnl_dev_fn fn, void *arg);

/*
 * Open the netlink handle and run @nl_cmd for each of the command's device
 * arguments, argv[optind] on, as ctl_each_dev() does; a usage error if
 * there is none.  Returns the exit status.
 */
int ctl_run_each_dev(const struct ctl_cmd *cmd, int argc, char **argv,
		     uint8_t nl_cmd, const struct pfnl_dev *req);

/*
 * Run a command whose only option is a flag, -f or --@flag, that sets
 * @attr to 1: parse its options, then ctl_run_each_dev().
 */
int ctl_run_flag(const struct ctl_cmd *cmd, int argc, char **argv,
		 const char *flag, int attr, uint8_t nl_cmd);

/*
 * Open the netlink handle (with @open_fn, ctl_open_with()).  Returns 0, or
 * reports why it could not and returns the exit status for that.
 */
int ctl_open(const struct ctl_cmd *cmd, struct pfnl **hp);
int ctl_open_with(const struct ctl_cmd *cmd,
		  int (*open_fn)(struct pfnl **hp), struct pfnl **hp);

/*
 * Report how a request on @h ended: its error @ret (a negative errno), with
 * the kernel's reason, or the kernel's warning if it succeeded with one.
 * @dev names the device it was about, or is NULL.  On a terminal, a
 * refusal that one of @cmd's hints matches (by errno, and by the attribute
 * the kernel blamed) is followed by that hint.  Returns the exit status.
 */
int ctl_report(const struct ctl_cmd *cmd, const char *dev,
	       const struct pfnl *h, int ret);

/*
 * The guards (guard.c): no command given a mistaken path destroys a store.
 *  ctl_backing_owner(): the index of the device whose backing file is the
 *	file of @st, by its inode, or -1 for none, in *@index; returns the
 *	exit status of asking the kernel (reported if it failed);
 *  ctl_open_backing(): open @path as a device's backing file (read-only
 *	if @read_only); a state stream is refused.  Returns the descriptor,
 *	or -1 once it said why not (about @where, as ctl_msg() would).
 */
struct stat;
int ctl_backing_owner(const struct ctl_cmd *cmd, const struct stat *st,
		      int64_t *index);
int ctl_open_backing(const struct ctl_cmd *cmd, const char *where,
		     const char *path, bool read_only);

/*
 * Names of values (output.c).  The name functions put a number in @buf
 * for a value that has no name (from a newer kernel), and return @buf or
 * the name.
 *  ctl_state_name(): "active" or "inactive";
 *  ctl_cache_name(): "writethrough" or "writeback";
 *  ctl_errno_name(): "ok" for 0, else the errno's name ("EIO").
 * ctl_cache_mode() is the cache mode named @name, or -1.
 */
#define CTL_NAME_MAX	24
const char *ctl_state_name(char buf[CTL_NAME_MAX], uint32_t state);
const char *ctl_cache_name(char buf[CTL_NAME_MAX], uint32_t mode);
const char *ctl_errno_name(char buf[CTL_NAME_MAX], uint32_t err);
int ctl_cache_mode(const char *name);

/* Like zramctl: 0B, 512B, 528K, 1.5M, 1G.  @buf has room for any. */
#define CTL_HUMAN_SIZE_MAX	48
void ctl_human_size(char buf[CTL_HUMAN_SIZE_MAX], uint64_t bytes);

/*
 * A process with a device open for writing (writers.c), as /proc shows it:
 * @pid, its command name @comm, and the descriptor @fd.
 */
#define CTL_COMM_MAX		64
struct ctl_writer {
	pid_t pid;
	int fd;
	char comm[CTL_COMM_MAX];
};

/*
 * ctl_find_writer(): whether a process other than this one has device
 * @index open for writing; the first found in @w.
 * ctl_refuse_writer(): if one has, and the device is active, say so, with
 * what to do @next, and return CTL_EXIT_FAILED; else CTL_EXIT_OK.
 */
bool ctl_find_writer(uint32_t index, struct ctl_writer *w);
int ctl_refuse_writer(const struct ctl_cmd *cmd, uint32_t index,
		      const char *next);

/* The device table of "list" (output.c). */
struct dev_table;

#define DEV_TABLE_COLS_MAX	32

/**
 * struct dev_table_opts - how to print the device table
 * @cols: the columns, by index in the column table
 * @ncols: how many
 * @json: JSON output
 * @raw: raw output
 * @noheadings: no header line
 * @bytes: sizes in bytes instead of human-readable ones
 */
struct dev_table_opts {
	unsigned int cols[DEV_TABLE_COLS_MAX];
	size_t ncols;
	bool json;
	bool raw;
	bool noheadings;
	bool bytes;
};

/*
 * Set @opts->cols from a comma-separated list of column names; a list
 * starting with '+' adds to the default columns.  NULL picks the default.
 * Returns 0, -EINVAL for an unknown column (*bad and *badlen then point at
 * its name in @list), or -E2BIG for too many columns.
 */
int dev_table_cols(struct dev_table_opts *opts, const char *list,
		   const char **bad, int *badlen);
/* Print every column with its description, one a line (for --help). */
void dev_table_help(FILE *out);
/* Put the column names, separated by commas, in @buf. */
void dev_table_names(char *buf, size_t len);

/*
 * A table: dev_table_new() (NULL if out of memory), dev_table_add() a line
 * per device, dev_table_print() it all to stdout, dev_table_free() (NULL is
 * allowed).  The int functions return 0 or a negative errno.
 */
struct dev_table *dev_table_new(const struct dev_table_opts *opts);
int dev_table_add(struct dev_table *t, const struct pfnl_dev *dev);
int dev_table_print(struct dev_table *t);
void dev_table_free(struct dev_table *t);

/*
 * JSON objects (output.c), with json-c, for "inspect" and "monitor", each
 * printed as JSON or as text.  The int functions return 0 or -ENOMEM.
 *  ctl_json_add(): add @val, new (NULL: out of memory), to @obj as @key;
 *	@val is freed if it cannot be added;
 *  dev_json_add(): add to @obj the value of list's column @col (an
 *	existing column's name) for @dev, null if @dev lacks it: a number
 *	(sizes in bytes), a boolean or a string, named as the column in
 *	lower case;
 *  ctl_json_print_text(): print a value as text: a string or number as
 *	one word (see pflashctl(8)), a boolean as yes or no, an object as
 *	"key value, key value";
 *  ctl_json_fprint(): print @obj to @out on a line of its own (or more,
 *	with JSON_C_TO_STRING_PRETTY in @flags);
 *  ctl_json_print(): the same, to standard output.
 */
struct json_object;
int ctl_json_add(struct json_object *obj, const char *key,
		 struct json_object *val);
int dev_json_add(struct json_object *obj, const char *col,
		 const struct pfnl_dev *dev);
void ctl_json_print_text(FILE *out, struct json_object *val);
int ctl_json_fprint(FILE *out, struct json_object *obj, int flags);
int ctl_json_print(struct json_object *obj, int flags);

/* live.c: export --live, in passes */

/* The most passes a live export makes, the final one included. */
#define CTL_LIVE_PASSES_MAX	64

/**
 * enum ctl_live_stop - why the passes of a live export stopped
 * @CTL_LIVE_GO_ON: they did not (yet)
 * @CTL_LIVE_SMALL: what remains is at most --max-final
 * @CTL_LIVE_PASS_LIMIT: the next pass would be the last --max-passes allow
 * @CTL_LIVE_NOT_SHRINKING: a pass left no less than the one before it
 */
enum ctl_live_stop {
	CTL_LIVE_GO_ON,
	CTL_LIVE_SMALL,
	CTL_LIVE_PASS_LIMIT,
	CTL_LIVE_NOT_SHRINKING,
};

/**
 * struct ctl_live_pass - what a pass did
 * @bytes: the stream bytes it wrote
 * @seconds: how long it took (the final pass: with the inactivation)
 * @pending: the bytes written to the device while it ran
 * @final: it was the final pass, the device inactive
 */
struct ctl_live_pass {
	uint64_t bytes;
	double seconds;
	uint64_t pending;
	bool final;
};

/**
 * struct ctl_live - a live export: its options, then what it did
 * @max_final: --max-final: the most bytes the final pass may have to send
 *	for the passes to stop
 * @max_passes: --max-passes: the most passes, the final one included
 * @force: --force: inactivate the device even if it is held exclusively,
 *	mapped for writing or open for writing
 * @quiet: no per-pass lines
 * @json: print what it did as JSON, at the end, on standard error
 * @passes: the passes it made
 * @pass: what each did
 * @stream_bytes: the stream bytes they wrote
 * @stop: why the active passes stopped
 * @inactivated: it inactivated the device
 * @writer: it did not, as a process has the device open for writing (and
 *	it said so)
 * @epoch: the device's epoch then
 * @inactive_seconds: from the start of the inactivation to the end of the
 *	final pass
 * @inactivated_at: when the inactivation started, in seconds since the
 *	epoch (CLOCK_REALTIME), for a move's downtime to be timed from it
 */
struct ctl_live {
	uint64_t max_final;
	uint32_t max_passes;
	bool force;
	bool quiet;
	bool json;
	uint32_t passes;
	struct ctl_live_pass pass[CTL_LIVE_PASSES_MAX];
	uint64_t stream_bytes;
	enum ctl_live_stop stop;
	bool inactivated;
	bool writer;
	uint64_t epoch;
	double inactive_seconds;
	double inactivated_at;
	/*
	 * Where the stream goes through pflashctl (a relay to a terminal's
	 * progress, or to a file the kernel cannot write): wait until its
	 * first @bytes are out, and return 0, or why they cannot be (then
	 * the export stops, before the device is inactivated).
	 */
	int (*settle)(void *arg, uint64_t bytes);
	void *settle_arg;
};

/*
 * Run a live export of device @index (named @dev) into @fd, through @h,
 * as @live's options say.  Returns 0, or the error of the request that
 * failed, whose extended ack @h holds; what it did is in @live, the
 * device as the last request left it in @reply.
 */
int ctl_live_export(const struct ctl_cmd *cmd, const char *dev,
		    struct pfnl *h, uint32_t index, int fd,
		    struct ctl_live *live, struct pfnl_dev *reply);
/*
 * After ctl_live_export() returned @ret, and that was reported: say what
 * the device's state asks of the operator, if it failed, and print the
 * JSON summary, if asked for.
 */
void ctl_live_report(const struct ctl_cmd *cmd, const char *dev,
		     const struct ctl_live *live, int ret);

#endif /* PFLASHCTL_H */
