// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl: control pflash devices over the "pflash" generic netlink
 * family.  This file dispatches to the subcommands and holds what they
 * share: help, option values and error reports.
 */
#define _GNU_SOURCE		/* program_invocation_short_name */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pflashctl.h"

static const struct ctl_cmd *const cmds[] = {
	&ctl_create,
	&ctl_destroy,
	&ctl_list,
	&ctl_flush,
	&ctl_inactivate,
	&ctl_activate,
	&ctl_export,
	&ctl_import,
	&ctl_inspect,
	&ctl_monitor,
	&ctl_apply,
};

static const struct {
	enum ctl_exit status;
	const char *meaning;
} exit_statuses[] = {
	{ CTL_EXIT_OK,		"success" },
	{ CTL_EXIT_FAILED,	"the operation failed" },
	{ CTL_EXIT_USAGE,	"usage error" },
	{ CTL_EXIT_NOMODULE,	"the pflash module is not available" },
};

/* What ends a status line: the rest of the old one is cleared. */
#define STATUS_END	"\033[K\r"

#define EPERM_HINT	" (CAP_NET_ADMIN is needed: run as root)"

static const struct ctl_opt_help help_opt = {
	"-h, --help", "display this help"
};

static const struct ctl_opt_help main_options[] = {
	{ "-V, --version", "display the version" },
	{ NULL }
};

/*
 * Whether a status line (ctl_status()) is on the terminal; under
 * term_lock, which keeps the lines of a thread that draws progress and of
 * the main thread apart.
 */
static bool status_shown;
static pthread_mutex_t term_lock = PTHREAD_MUTEX_INITIALIZER;

static void status_clear_locked(void)
{
	if (status_shown)
		fputs("\033[K", stderr);
	status_shown = false;
}

/*
 * Print "pflashctl: CMD: DEV: message" to stderr, then @end; @cmd, @dev
 * may be NULL.
 */
static void __printf(3, 0) vmsg(const struct ctl_cmd *cmd, const char *dev,
				const char *fmt, va_list ap, const char *end)
{
	pthread_mutex_lock(&term_lock);
	status_clear_locked();
	fprintf(stderr, "%s: ", program_invocation_short_name);
	if (cmd)
		fprintf(stderr, "%s: ", cmd->name);
	if (dev)
		fprintf(stderr, "%s: ", dev);
	vfprintf(stderr, fmt, ap);
	fputs(end, stderr);
	/* A status line stays until the next line clears it. */
	status_shown = !strcmp(end, STATUS_END);
	pthread_mutex_unlock(&term_lock);
}

void ctl_msg(const struct ctl_cmd *cmd, const char *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, dev, fmt, ap, "\n");
	va_end(ap);
}

void ctl_status(const struct ctl_cmd *cmd, const char *dev,
		const char *fmt, ...)
{
	va_list ap;

	/* Over the status line before: its end is cleared. */
	va_start(ap, fmt);
	vmsg(cmd, dev, fmt, ap, STATUS_END);
	va_end(ap);
}

void ctl_status_clear(void)
{
	pthread_mutex_lock(&term_lock);
	status_clear_locked();
	pthread_mutex_unlock(&term_lock);
}

static noreturn void try_help(const struct ctl_cmd *cmd)
{
	fprintf(stderr, "Try '%s%s%s --help' for more information.\n",
		program_invocation_short_name, cmd ? " " : "",
		cmd ? cmd->name : "");
	exit(CTL_EXIT_USAGE);
}

noreturn void ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, NULL, fmt, ap, "\n");
	va_end(ap);
	try_help(cmd);
}

/* Print options aligned, ending with -h, --help. */
static void print_options(const struct ctl_opt_help *opts)
{
	const struct ctl_opt_help *o;
	int width = strlen(help_opt.opt);

	for (o = opts; o->opt; o++)
		if ((int)strlen(o->opt) > width)
			width = strlen(o->opt);
	printf("\nOptions:\n");
	for (o = opts; o->opt; o++)
		printf(" %-*s  %s\n", width, o->opt, o->desc);
	printf(" %-*s  %s\n", width, help_opt.opt, help_opt.desc);
}

static noreturn void help_main(void)
{
	const char *name = program_invocation_short_name;
	int width = 0;
	size_t i;

	printf("Usage:\n %s [options] <command> [<args>]\n\n", name);
	printf("Control pflash devices: RAM-backed parallel-flash block devices.\n");
	printf("\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if ((int)strlen(cmds[i]->name) > width)
			width = strlen(cmds[i]->name);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		printf(" %-*s  %s\n", width, cmds[i]->name, cmds[i]->summary);
	print_options(main_options);
	printf("\nExit status:\n");
	for (i = 0; i < ARRAY_SIZE(exit_statuses); i++)
		printf(" %d  %s\n", exit_statuses[i].status,
		       exit_statuses[i].meaning);
	printf("\nRun '%s <command> --help' for the options of a command.\n",
	       name);
	printf("For more details see pflashctl(8).\n");
	exit(CTL_EXIT_OK);
}

static noreturn void help_cmd(const struct ctl_cmd *cmd)
{
	printf("Usage:\n %s %s %s\n\n", program_invocation_short_name,
	       cmd->name, cmd->args);
	printf("%c%s.\n", toupper((unsigned char)cmd->summary[0]),
	       cmd->summary + 1);
	print_options(cmd->options);
	if (cmd->help_extra) {
		putchar('\n');
		cmd->help_extra(stdout);
	}
	printf("\nFor more details see pflashctl(8).\n");
	exit(CTL_EXIT_OK);
}

int ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv,
	       const char *optstring, const struct option *longopts)
{
	int c = getopt_long(argc, argv, optstring, longopts, NULL);

	if (c == 'h')
		help_cmd(cmd);
	if (c == '?')
		try_help(cmd);
	return c;
}

/* A suffix of a number, as it must be written, and what it multiplies. */
struct unit {
	const char *suffix;
	uint64_t mult;
};

/* A size's suffix in either case, optionally followed by "iB". */
static const struct unit size_units[] = {
	{ "K", 1ULL << 10 }, { "k", 1ULL << 10 },
	{ "KiB", 1ULL << 10 }, { "kiB", 1ULL << 10 },
	{ "M", 1ULL << 20 }, { "m", 1ULL << 20 },
	{ "MiB", 1ULL << 20 }, { "miB", 1ULL << 20 },
	{ "G", 1ULL << 30 }, { "g", 1ULL << 30 },
	{ "GiB", 1ULL << 30 }, { "giB", 1ULL << 30 },
	{ NULL }
};

static const struct unit msec_units[] = {
	{ "ms", 1 }, { "s", 1000 },
	{ NULL }
};

/*
 * Parse @s, a decimal number made of digits only (no sign, no blanks),
 * optionally followed by one of @units (NULL for none).  Returns 0, -EINVAL,
 * or -ERANGE if the value is above @max.
 */
static int parse_number(const char *s, const struct unit *units, uint64_t max,
			uint64_t *val)
{
	uint64_t n, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end) {
		for (; units && units->suffix; units++)
			if (!strcmp(end, units->suffix))
				break;
		if (!units || !units->suffix)
			return -EINVAL;
		mult = units->mult;
	}
	if (n > max / mult)
		return -ERANGE;
	*val = n * mult;
	return 0;
}

static uint64_t number_arg(const struct ctl_cmd *cmd, const char *what,
			   const char *kind, const char *arg,
			   const struct unit *units, uint64_t max)
{
	uint64_t val;
	int ret;

	ret = parse_number(arg, units, max, &val);
	if (ret == -ERANGE)
		ctl_usage_error(cmd, "%s: %s too large: '%s'", what, kind, arg);
	if (ret && arg[0] == '-')
		ctl_usage_error(cmd, "%s: %s must not be negative: '%s'",
				what, kind, arg);
	if (ret)
		ctl_usage_error(cmd, "%s: invalid %s: '%s'", what, kind, arg);
	return val;
}

uint64_t ctl_size_arg(const struct ctl_cmd *cmd, const char *what,
		      const char *arg, uint64_t max)
{
	return number_arg(cmd, what, "size", arg, size_units, max);
}

uint32_t ctl_msec_arg(const struct ctl_cmd *cmd, const char *what,
		      const char *arg)
{
	return number_arg(cmd, what, "duration", arg, msec_units, UINT32_MAX);
}

uint32_t ctl_u32_arg(const struct ctl_cmd *cmd, const char *what,
		     const char *arg)
{
	return number_arg(cmd, what, "number", arg, NULL, UINT32_MAX);
}

uint64_t ctl_u64_arg(const struct ctl_cmd *cmd, const char *what,
		     const char *arg)
{
	return number_arg(cmd, what, "number", arg, NULL, UINT64_MAX);
}

int ctl_parse_size(const char *s, uint64_t max, uint64_t *val)
{
	return parse_number(s, size_units, max, val);
}

int ctl_parse_msec(const char *s, uint32_t *val)
{
	uint64_t n;
	int ret = parse_number(s, msec_units, UINT32_MAX, &n);

	if (!ret)
		*val = n;
	return ret;
}

uint32_t ctl_dev_arg(const struct ctl_cmd *cmd, const char *arg)
{
	static const char *const prefixes[] = {
		CTL_DEV_DIR CTL_DEV_NAME,
		CTL_DEV_NAME,
		"",
	};
	const char *num = arg;
	uint64_t index;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (!strncmp(arg, prefixes[i], strlen(prefixes[i]))) {
			num = arg + strlen(prefixes[i]);
			break;
		}
	}
	/* A device has one name: refuse leading zeros. */
	if ((num[0] == '0' && num[1]) ||
	    parse_number(num, NULL, UINT32_MAX, &index))
		ctl_usage_error(cmd, "invalid device '%s' (expected %sN, %sN or N)",
				arg, CTL_DEV_NAME, CTL_DEV_DIR CTL_DEV_NAME);
	return index;
}

const char *ctl_one_arg(const struct ctl_cmd *cmd, int argc, char **argv,
			const char *what)
{
	if (optind == argc)
		ctl_usage_error(cmd, "no %s given", what);
	if (optind + 1 < argc)
		ctl_usage_error(cmd, "unexpected argument '%s'",
				argv[optind + 1]);
	return argv[optind];
}

void ctl_dev_help(FILE *out)
{
	fprintf(out, "A <device> is %sN, %sN or N.\n", CTL_DEV_NAME,
		CTL_DEV_DIR CTL_DEV_NAME);
}

void ctl_dev_path(char buf[CTL_DEV_PATH_MAX], uint32_t index)
{
	snprintf(buf, CTL_DEV_PATH_MAX, CTL_DEV_FMT, index);
}

void ctl_dev_args(const struct ctl_cmd *cmd, int ndevs, char **devs)
{
	int i;

	for (i = 0; i < ndevs; i++)
		ctl_dev_arg(cmd, devs[i]);
}

int ctl_each_dev(const struct ctl_cmd *cmd, struct pfnl *h,
		 int ndevs, char **devs, uint8_t nl_cmd,
		 const struct pfnl_dev *req, pfnl_dev_fn fn, void *arg)
{
	int i, ret, status = CTL_EXIT_OK;

	for (i = 0; i < ndevs; i++) {
		struct pfnl_dev one = { 0 }, dev;
		char path[CTL_DEV_PATH_MAX];

		if (req)
			one = *req;
		pfnl_dev_set(&one, PFLASH_A_DEV_INDEX,
			     ctl_dev_arg(cmd, devs[i]));
		ctl_dev_path(path, one.index);
		ret = pfnl_dev_do(h, nl_cmd, &one, &dev);
		if (!ret && fn)
			ret = fn(&dev, arg);
		ret = ctl_report(cmd, path, h, ret);
		if (ret)
			status = ret;
	}
	return status;
}

int ctl_run_each_dev(const struct ctl_cmd *cmd, int argc, char **argv,
		     uint8_t nl_cmd, const struct pfnl_dev *req)
{
	struct pfnl *h;
	int ret;

	argc -= optind;
	argv += optind;
	if (!argc)
		ctl_usage_error(cmd, "no device given");
	ctl_dev_args(cmd, argc, argv);

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	ret = ctl_each_dev(cmd, h, argc, argv, nl_cmd, req, NULL, NULL);
	pfnl_close(h);
	return ret;
}

int ctl_run_flag(const struct ctl_cmd *cmd, int argc, char **argv,
		 const char *flag, int attr, uint8_t nl_cmd)
{
	const struct option longopts[] = {
		{ flag,		no_argument, NULL, 'f' },
		CTL_OPT_HELP,
		{ NULL }
	};
	struct pfnl_dev req = { 0 };

	while (ctl_getopt(cmd, argc, argv, "fh", longopts) != -1)
		pfnl_dev_set(&req, attr, true);
	return ctl_run_each_dev(cmd, argc, argv, nl_cmd, &req);
}

int ctl_open_with(const struct ctl_cmd *cmd,
		  int (*open_fn)(struct pfnl **hp), struct pfnl **hp)
{
	int ret;

	ret = open_fn(hp);
	if (ret == -ENOENT) {
		ctl_msg(cmd, NULL,
			"the pflash module is not available: the kernel could not load it (is it installed? modprobe pflash says why)");
		return CTL_EXIT_NOMODULE;
	}
	if (ret) {
		ctl_msg(cmd, NULL, "cannot open the pflash netlink family: %s%s",
			strerror(-ret), ret == -EPERM ? EPERM_HINT : "");
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

int ctl_open(const struct ctl_cmd *cmd, struct pfnl **hp)
{
	return ctl_open_with(cmd, pfnl_open, hp);
}

/* Name an attribute of a request in a message: "size", or its number. */
static const char *attr_name(char *buf, size_t len, int attr)
{
	const char *name = pfnl_dev_attr_name(attr);

	if (name)
		return name;
	snprintf(buf, len, "%d", attr);
	return buf;
}

/* The hint of @cmd for the kernel's refusal @ack, or NULL. */
static const char *hint(const struct ctl_cmd *cmd, const struct pfnl_ack *ack)
{
	const struct ctl_hint *h;

	if (!cmd || !cmd->hints || !ack->error)
		return NULL;
	for (h = cmd->hints; h->text; h++)
		if (h->err == ack->error && h->attr == ack->attr)
			return h->text;
	return NULL;
}

int ctl_report(const struct ctl_cmd *cmd, const char *dev,
	       const struct pfnl *h, int ret)
{
	const char *next;
	const struct pfnl_ack *ack = pfnl_last_ack(h);
	char reason[PFNL_MSG_MAX + 64] = "";
	char what[64] = "";
	char num[16];

	if (!ret) {
		if (ack->msg[0])
			ctl_msg(cmd, dev, "warning: %s", ack->msg);
		return CTL_EXIT_OK;
	}

	/*
	 * If the kernel refused the request, give its reason: its message,
	 * and the attribute it blamed, which is all there is without one.
	 */
	if (ack->error && ack->miss_type)
		snprintf(what, sizeof(what), "missing attribute %s",
			 attr_name(num, sizeof(num), ack->miss_type));
	else if (ack->error && ack->attr)
		snprintf(what, sizeof(what), "%sattribute %s",
			 ack->msg[0] ? "" : "invalid ",
			 attr_name(num, sizeof(num), ack->attr));
	if (ack->error && ack->msg[0] && what[0])
		snprintf(reason, sizeof(reason), "%s (%s): ", ack->msg, what);
	else if (ack->error && ack->msg[0])
		snprintf(reason, sizeof(reason), "%s: ", ack->msg);
	else if (what[0])
		snprintf(reason, sizeof(reason), "%s: ", what);

	ctl_msg(cmd, dev, "%s%s%s", reason, strerror(-ret),
		ret == -EPERM ? EPERM_HINT : "");
	/*
	 * For a person, on a terminal: a script that reads the error line
	 * gets that line alone.
	 */
	next = isatty(STDERR_FILENO) ? hint(cmd, ack) : NULL;
	if (next)
		ctl_msg(cmd, dev, "hint: %s", next);
	return CTL_EXIT_FAILED;
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

/* A failed write to stdout, say to a full disk, fails the command. */
static void close_stdout(void)
{
	bool failed = ferror(stdout);

	if (fclose(stdout) || failed) {
		fprintf(stderr, "%s: write error\n",
			program_invocation_short_name);
		_exit(CTL_EXIT_FAILED);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version",	no_argument, NULL, 'V' },
		CTL_OPT_HELP,
		{ NULL }
	};
	static char prefix[64];
	const struct ctl_cmd *cmd;
	int c;

	atexit(close_stdout);

	/* getopt_long() starts its messages with argv[0]. */
	argv[0] = program_invocation_short_name;
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_main();
		case 'V':
			printf("%s %s\n", program_invocation_short_name,
			       PFLASHCTL_VERSION);
			return CTL_EXIT_OK;
		default:
			try_help(NULL);
		}
	}
	if (optind == argc)
		ctl_usage_error(NULL, "no command given");
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		ctl_usage_error(NULL, "unknown command '%s'", argv[optind]);

	/* The command's own getopt_long() messages: "pflashctl: create: ". */
	argc -= optind;
	argv += optind;
	snprintf(prefix, sizeof(prefix), "%s: %s",
		 program_invocation_short_name, cmd->name);
	argv[0] = prefix;
	optind = 0;
	return cmd->run(cmd, argc, argv);
}
