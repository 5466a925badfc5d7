// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl output: the device table of "pflashctl list", printed with
 * libsmartcols in the style of zramctl and losetup.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols.h>

#include "pflashctl.h"

/* How a column shows the value of its attribute. */
enum col_kind {
	COL_PATH,	/* the device's path, from its index */
	COL_SIZE,	/* bytes: human-readable unless --bytes */
	COL_NUMBER,
	COL_BOOL,	/* 1 or 0; true or false in JSON */
};

static const struct {
	double whint;
	int flags;
	int json_type;
} kinds[] = {
	[COL_PATH]	= { 0.25, 0,		  SCOLS_JSON_STRING },
	[COL_SIZE]	= { 5,	  SCOLS_FL_RIGHT, SCOLS_JSON_STRING },
	[COL_NUMBER]	= { 5,	  SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[COL_BOOL]	= { 1,	  SCOLS_FL_RIGHT, SCOLS_JSON_BOOLEAN },
};

/**
 * struct colinfo - a column of the device table
 * @name: its name, for --output and the header
 * @kind: how it shows @attr
 * @attr: the PFLASH_A_DEV_* attribute it shows; the cell stays empty if
 *	the kernel did not report it
 * @dflt: whether it is printed without --output
 * @help: what it shows, for --help
 */
struct colinfo {
	const char *name;
	enum col_kind kind;
	int attr;
	bool dflt;
	const char *help;
};

/* The columns, in their default order. */
static const struct colinfo infos[] = {
	{ "NAME",	COL_PATH,	PFLASH_A_DEV_INDEX,	 true,
	  "device path" },
	{ "SIZE",	COL_SIZE,	PFLASH_A_DEV_SIZE,	 true,
	  "size of the device" },
	{ "BLOCK-SIZE",	COL_NUMBER,	PFLASH_A_DEV_BLOCK_SIZE, true,
	  "logical block size in bytes" },
	{ "ERASE-SIZE",	COL_NUMBER,	PFLASH_A_DEV_ERASE_SIZE, true,
	  "erase-block size in bytes" },
	{ "RO",		COL_BOOL,	PFLASH_A_DEV_READ_ONLY,	 true,
	  "read-only device" },
};

_Static_assert(ARRAY_SIZE(infos) <= DEV_TABLE_COLS_MAX,
	       "the default columns must fit in struct dev_table_opts");

struct dev_table {
	struct libscols_table *tb;
	struct dev_table_opts opts;
};

int dev_table_cols(struct dev_table_opts *opts, const char *list,
		   const char **bad, int *badlen)
{
	size_t i, len;

	opts->ncols = 0;
	if (!list || *list == '+') {
		for (i = 0; i < ARRAY_SIZE(infos); i++)
			if (infos[i].dflt)
				opts->cols[opts->ncols++] = i;
		if (!list)
			return 0;
		list++;
	}
	for (;;) {
		len = strcspn(list, ",");
		for (i = 0; i < ARRAY_SIZE(infos); i++)
			if (strlen(infos[i].name) == len &&
			    !strncasecmp(infos[i].name, list, len))
				break;
		if (i == ARRAY_SIZE(infos)) {
			*bad = list;
			*badlen = len;
			return -EINVAL;
		}
		if (opts->ncols == DEV_TABLE_COLS_MAX)
			return -E2BIG;
		opts->cols[opts->ncols++] = i;
		if (!list[len])
			return 0;
		list += len + 1;
	}
}

void dev_table_help(FILE *out)
{
	int width = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(infos); i++)
		if ((int)strlen(infos[i].name) > width)
			width = strlen(infos[i].name);
	for (i = 0; i < ARRAY_SIZE(infos); i++)
		fprintf(out, " %-*s  %s\n", width, infos[i].name,
			infos[i].help);
}

void dev_table_names(char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(infos) && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s",
				 i ? ", " : "", infos[i].name);
}

/* Like zramctl: 0B, 512B, 528K, 1.5M, 1G. */
static void human_size(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	unsigned int shift = 0;
	uint64_t whole, tenths;

	while (shift < 60 && bytes >> (shift + 10))
		shift += 10;
	whole = bytes >> shift;
	/* The remainder, in tenths of a unit, rounded half up. */
	tenths = ((bytes & ((1ULL << shift) - 1)) * 10 +
		  (1ULL << shift) / 2) >> shift;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (tenths)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", whole, tenths,
			 units[shift / 10]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", whole, units[shift / 10]);
}

void dev_table_free(struct dev_table *t)
{
	if (!t)
		return;
	scols_unref_table(t->tb);
	free(t);
}

struct dev_table *dev_table_new(const struct dev_table_opts *opts)
{
	struct dev_table *t;
	size_t i;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->opts = *opts;
	t->tb = scols_new_table();
	if (!t->tb || scols_table_set_name(t->tb, "pflashdevices"))
		goto err;
	scols_table_enable_json(t->tb, opts->json);
	scols_table_enable_raw(t->tb, opts->raw);
	scols_table_enable_noheadings(t->tb, opts->noheadings);

	for (i = 0; i < opts->ncols; i++) {
		const struct colinfo *ci = &infos[opts->cols[i]];
		struct libscols_column *cl;
		int json_type = kinds[ci->kind].json_type;

		if (ci->kind == COL_SIZE && opts->bytes)
			json_type = SCOLS_JSON_NUMBER;
		cl = scols_table_new_column(t->tb, ci->name,
					    kinds[ci->kind].whint,
					    kinds[ci->kind].flags);
		if (!cl || scols_column_set_json_type(cl, json_type))
			goto err;
	}
	return t;

err:
	dev_table_free(t);
	return NULL;
}

static int set_cell(const struct dev_table *t, struct libscols_line *ln,
		    size_t n, const struct pflash_dev *dev)
{
	const struct colinfo *ci = &infos[t->opts.cols[n]];
	char buf[32];
	uint64_t val;

	if (!pflash_dev_has(dev, ci->attr))
		return 0;
	val = pflash_dev_get(dev, ci->attr);
	if (ci->kind == COL_PATH)
		snprintf(buf, sizeof(buf), CTL_DEV_FMT, (uint32_t)val);
	else if (ci->kind == COL_SIZE && !t->opts.bytes)
		human_size(buf, sizeof(buf), val);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, val);
	return scols_line_set_data(ln, n, buf);
}

int dev_table_add(struct dev_table *t, const struct pflash_dev *dev)
{
	struct libscols_line *ln;
	size_t n;
	int ret;

	ln = scols_table_new_line(t->tb, NULL);
	if (!ln)
		return -ENOMEM;
	for (n = 0; n < t->opts.ncols; n++) {
		ret = set_cell(t, ln, n, dev);
		if (ret) {
			scols_table_remove_line(t->tb, ln);
			return ret;
		}
	}
	return 0;
}

int dev_table_print(struct dev_table *t)
{
	return scols_print_table(t->tb);
}
