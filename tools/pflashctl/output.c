// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl output: the names of values, the device table of "pflashctl
 * list", printed with libsmartcols in the style of zramctl and losetup,
 * and the JSON objects of "inspect" and "monitor", built with json-c and
 * printed as JSON or as text.
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>
#include <libsmartcols.h>
#include <uuid.h>

#include "pflashctl.h"

static const char *const state_names[] = {
	[PFLASH_STATE_ACTIVE]	= "active",
	[PFLASH_STATE_INACTIVE]	= "inactive",
	[PFLASH_STATE_LOST]	= "lost",
};

static const char *const cache_names[] = {
	[PFLASH_CACHE_MODE_WRITETHROUGH] = "writethrough",
	[PFLASH_CACHE_MODE_WRITEBACK]	 = "writeback",
};

/* @names[@val], or @val as a number in @buf. */
static const char *value_name(char buf[CTL_NAME_MAX],
			      const char *const *names, size_t n, uint32_t val)
{
	if (val < n && names[val])
		return names[val];
	snprintf(buf, CTL_NAME_MAX, "%" PRIu32, val);
	return buf;
}

const char *ctl_state_name(char buf[CTL_NAME_MAX], uint32_t state)
{
	return value_name(buf, state_names, ARRAY_SIZE(state_names), state);
}

const char *ctl_cache_name(char buf[CTL_NAME_MAX], uint32_t mode)
{
	return value_name(buf, cache_names, ARRAY_SIZE(cache_names), mode);
}

const char *ctl_errno_name(char buf[CTL_NAME_MAX], uint32_t err)
{
	const char *name = err <= INT32_MAX ? strerrorname_np(err) : NULL;

	if (!err)
		return "ok";
	if (name)
		return name;
	snprintf(buf, CTL_NAME_MAX, "%" PRIu32, err);
	return buf;
}

int ctl_cache_mode(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cache_names); i++)
		if (!strcmp(name, cache_names[i]))
			return i;
	return -1;
}

/* How a column shows the value of its attribute. */
enum col_kind {
	COL_PATH,	/* the device's path, from its index */
	COL_SIZE,	/* bytes: human-readable unless --bytes */
	COL_NUMBER,
	COL_BOOL,	/* 1 or 0; true or false in JSON */
	COL_STATE,	/* by name */
	COL_CACHE,	/* by name */
	COL_ERRNO,	/* by name: ok, EIO, ... */
	COL_BACKING,	/* the backing file's path */
	COL_UUID,
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
	[COL_STATE]	= { 8,	  0,		  SCOLS_JSON_STRING },
	[COL_CACHE]	= { 12,	  0,		  SCOLS_JSON_STRING },
	[COL_ERRNO]	= { 6,	  0,		  SCOLS_JSON_STRING },
	[COL_BACKING]	= { 0.3,  0,		  SCOLS_JSON_STRING },
	[COL_UUID]	= { 36,	  0,		  SCOLS_JSON_STRING },
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

/* The columns: the default ones first, in their order. */
static const struct colinfo infos[] = {
	{ "NAME",	COL_PATH,	PFLASH_A_DEV_INDEX,	 true,
	  "device path" },
	{ "SIZE",	COL_SIZE,	PFLASH_A_DEV_SIZE,	 true,
	  "size of the device" },
	{ "RO",		COL_BOOL,	PFLASH_A_DEV_READ_ONLY,	 true,
	  "read-only device" },
	{ "STATE",	COL_STATE,	PFLASH_A_DEV_STATE,	 true,
	  "active (owns the backing file), inactive, or lost (lost its lock to another host)" },
	{ "EPOCH",	COL_NUMBER,	PFLASH_A_DEV_EPOCH,	 true,
	  "ownership epoch" },
	{ "CACHE",	COL_CACHE,	PFLASH_A_DEV_CACHE_MODE, true,
	  "cache mode: writethrough or writeback" },
	{ "DIRTY",	COL_SIZE,	PFLASH_A_DEV_DIRTY_BYTES, true,
	  "data not yet durable in the backing file" },
	{ "BACKING",	COL_BACKING,	PFLASH_A_DEV_BACKING_PATH, true,
	  "backing file" },
	{ "BLOCK-SIZE",	COL_NUMBER,	PFLASH_A_DEV_BLOCK_SIZE, false,
	  "logical block size in bytes" },
	{ "ERASE-SIZE",	COL_NUMBER,	PFLASH_A_DEV_ERASE_SIZE, false,
	  "erase-block size in bytes" },
	{ "FLUSH-PENDING", COL_BOOL,	PFLASH_A_DEV_FLUSH_PENDING, false,
	  "owes the backing file the flush an import left (activation makes it)" },
	{ "WB-ERROR",	COL_ERRNO,	PFLASH_A_DEV_WRITEBACK_ERROR, false,
	  "error of the last writeback: ok, or its errno" },
	{ "WB-INTERVAL", COL_NUMBER,	PFLASH_A_DEV_WRITEBACK_INTERVAL, false,
	  "milliseconds between periodic writebacks" },
	{ "UUID",	COL_UUID,	PFLASH_A_DEV_UUID,	 false,
	  "identity, which an export carries" },
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

void ctl_human_size(char buf[CTL_HUMAN_SIZE_MAX], uint64_t bytes)
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
		snprintf(buf, CTL_HUMAN_SIZE_MAX, "%" PRIu64 ".%" PRIu64 "%c",
			 whole, tenths, units[shift / 10]);
	else
		snprintf(buf, CTL_HUMAN_SIZE_MAX, "%" PRIu64 "%c", whole,
			 units[shift / 10]);
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

/* Room for the text of any cell but a backing file's. */
#define CELL_MAX	48

/*
 * The text of column @ci's cell for @dev, with sizes in bytes if @bytes;
 * NULL if @dev lacks its attribute.  @buf may hold it.
 */
static const char *cell_text(const struct colinfo *ci,
			     const struct pfnl_dev *dev, bool bytes,
			     char buf[CELL_MAX])
{
	uint64_t val = pfnl_dev_get(dev, ci->attr);

	if (!pfnl_dev_has(dev, ci->attr))
		return NULL;
	switch (ci->kind) {
	case COL_PATH:
		ctl_dev_path(buf, val);
		break;
	case COL_SIZE:
		if (bytes)
			snprintf(buf, CELL_MAX, "%" PRIu64, val);
		else
			ctl_human_size(buf, val);
		break;
	case COL_NUMBER:
	case COL_BOOL:
		snprintf(buf, CELL_MAX, "%" PRIu64, val);
		break;
	case COL_STATE:
		return ctl_state_name(buf, val);
	case COL_CACHE:
		return ctl_cache_name(buf, val);
	case COL_ERRNO:
		return ctl_errno_name(buf, val);
	case COL_BACKING:
		return dev->backing_path;
	case COL_UUID:
		uuid_unparse_lower(dev->uuid, buf);
		break;
	}
	return buf;
}

_Static_assert(CELL_MAX >= CTL_DEV_PATH_MAX && CELL_MAX >= CTL_NAME_MAX &&
	       CELL_MAX >= CTL_HUMAN_SIZE_MAX && CELL_MAX >= 37,
	       "every cell but a path fits in CELL_MAX");

static int set_cell(const struct dev_table *t, struct libscols_line *ln,
		    size_t n, const struct pfnl_dev *dev)
{
	const char *text;
	char buf[CELL_MAX];

	text = cell_text(&infos[t->opts.cols[n]], dev, t->opts.bytes, buf);
	return text ? scols_line_set_data(ln, n, text) : 0;
}

int dev_table_add(struct dev_table *t, const struct pfnl_dev *dev)
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

int ctl_json_add(struct json_object *obj, const char *key,
		 struct json_object *val)
{
	if (val && !json_object_object_add(obj, key, val))
		return 0;
	json_object_put(val);
	return -ENOMEM;
}

int dev_json_add(struct json_object *obj, const char *col,
		 const struct pfnl_dev *dev)
{
	char key[32], buf[CELL_MAX];
	const struct colinfo *ci;
	struct json_object *val;
	const char *text;
	size_t i;

	for (ci = infos; strcmp(ci->name, col); ci++)
		;
	for (i = 0; ci->name[i] && i < sizeof(key) - 1; i++)
		key[i] = tolower((unsigned char)ci->name[i]);
	key[i] = '\0';

	text = cell_text(ci, dev, true, buf);
	if (!text)
		return json_object_object_add(obj, key, NULL) ? -ENOMEM : 0;
	switch (ci->kind) {
	case COL_SIZE:
	case COL_NUMBER:
		val = json_object_new_uint64(pfnl_dev_get(dev, ci->attr));
		break;
	case COL_BOOL:
		val = json_object_new_boolean(pfnl_dev_get(dev, ci->attr));
		break;
	default:
		val = json_object_new_string(text);
		break;
	}
	return ctl_json_add(obj, key, val);
}

/*
 * @s with blanks, backslashes and other characters that are not printable
 * written as \xHH, so that it is one word.
 */
static void print_word(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (isgraph((unsigned char)*s) && *s != '\\')
			fputc(*s, out);
		else
			fprintf(out, "\\x%02x", (unsigned char)*s);
	}
}

void ctl_json_print_text(FILE *out, struct json_object *val)
{
	const char *sep = "";
	size_t i;

	switch (json_object_get_type(val)) {
	case json_type_boolean:
		fputs(json_object_get_boolean(val) ? "yes" : "no", out);
		break;
	case json_type_array:
		/* "a 1, b 2; a 3, b 4" */
		for (i = 0; i < json_object_array_length(val); i++) {
			fputs(sep, out);
			ctl_json_print_text(out,
					    json_object_array_get_idx(val, i));
			sep = "; ";
		}
		break;
	case json_type_object:
		json_object_object_foreach(val, key, member) {
			fprintf(out, "%s%s ", sep, key);
			ctl_json_print_text(out, member);
			sep = ", ";
		}
		break;
	default:
		print_word(out, json_object_get_string(val));
		break;
	}
}

int ctl_json_fprint(FILE *out, struct json_object *obj, int flags)
{
	const char *text;

	text = json_object_to_json_string_ext(obj, flags |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return -ENOMEM;
	fprintf(out, "%s\n", text);
	return 0;
}

int ctl_json_print(struct json_object *obj, int flags)
{
	return ctl_json_fprint(stdout, obj, flags);
}
