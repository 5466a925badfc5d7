// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl: reading the device table, pflashtab(5).
 *
 * One device a line, in up to four fields separated by blanks, as in
 * fstab(5) and crypttab(5):
 *
 *	<device> <backing file> [<cache mode> [<options>]]
 *
 * A line whose first field starts with '#' is a comment.  The meaning of
 * each field is in pflashtab(5); this file only checks that a line makes a
 * device that the kernel would create, so that a mistake in the table is
 * reported with its line, before anything is created.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <uuid.h>

#include "pflashctl.h"
#include "pflashtab.h"

#define FIELDS_MAX	4

/* Format a message about the line into @err; returns -EINVAL. */
static int __printf(3, 4) bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *pflashtab_cache_name(uint32_t mode)
{
	switch (mode) {
	case PFLASH_CACHE_MODE_WRITETHROUGH:
		return "writethrough";
	case PFLASH_CACHE_MODE_WRITEBACK:
		return "writeback";
	default:
		return "none";
	}
}

/* A device index: N, pflashN or /dev/pflashN, as on the command line. */
static int parse_index(const char *s, uint32_t *index)
{
	static const char *const prefixes[] = {
		CTL_DEV_DIR CTL_DEV_NAME,
		CTL_DEV_NAME,
	};
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (!strncmp(s, prefixes[i], strlen(prefixes[i]))) {
			s += strlen(prefixes[i]);
			break;
		}
	}
	/* Digits, without leading zeros: a device has one name. */
	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = n * 10 + (*s - '0');
		if (n > PFLASH_INDEX_MAX)
			return -ERANGE;
	}
	*index = n;
	return 0;
}

static int parse_device(const char *field, struct pflashtab_line *out,
			char *err, size_t errlen)
{
	uint32_t index;

	if (strlen(field) == 36 && !uuid_parse(field, out->req.uuid)) {
		out->by_uuid = true;
		out->req.attrs |= PFNL_DEV_ATTR(PFLASH_A_DEV_UUID);
		return 0;
	}
	if (parse_index(field, &index))
		return bad(err, errlen,
			   "invalid device '%s' (expected a UUID, %sN, %sN or N, N up to %d)",
			   field, CTL_DEV_NAME, CTL_DEV_DIR CTL_DEV_NAME,
			   PFLASH_INDEX_MAX);
	pfnl_dev_set(&out->req, PFLASH_A_DEV_INDEX, index);
	return 0;
}

/* The value options, by name, with the attribute each sets. */
static const struct {
	const char *name;
	int attr;
	uint64_t max;
} value_opts[] = {
	{ "size",		PFLASH_A_DEV_SIZE,	     PFLASH_SIZE_MAX },
	{ "block-size",		PFLASH_A_DEV_BLOCK_SIZE,     UINT32_MAX },
	{ "erase-size",		PFLASH_A_DEV_ERASE_SIZE,     UINT32_MAX },
	{ "writeback-interval",	PFLASH_A_DEV_WRITEBACK_INTERVAL,
	  PFLASH_WRITEBACK_INTERVAL_MAX },
	{ "index",		PFLASH_A_DEV_INDEX,	     PFLASH_INDEX_MAX },
};

/* One option, "name" or "name=value". */
static int parse_option(char *opt, struct pflashtab_line *out, char *err,
			size_t errlen)
{
	struct pfnl_dev *req = &out->req;
	char *val = strchr(opt, '=');
	uint64_t n;
	uint32_t ms, index;
	size_t i;

	if (val)
		*val++ = '\0';
	if (!val && !strcmp(opt, "read-only")) {
		if (req->read_only)
			return bad(err, errlen, "option 'read-only' given twice");
		pfnl_dev_set(req, PFLASH_A_DEV_READ_ONLY, 1);
		return 0;
	}
	if (!val && !strcmp(opt, "inactive")) {
		if (pfnl_dev_has(req, PFLASH_A_DEV_STATE))
			return bad(err, errlen, "option 'inactive' given twice");
		pfnl_dev_set(req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(value_opts); i++)
		if (!strcmp(opt, value_opts[i].name))
			break;
	if (i == ARRAY_SIZE(value_opts))
		return bad(err, errlen, "unknown option '%s'", opt);
	if (!val || !*val)
		return bad(err, errlen, "option '%s' needs a value", opt);
	if (value_opts[i].attr == PFLASH_A_DEV_INDEX && !out->by_uuid)
		return bad(err, errlen,
			   "option 'index' is for a device named by its UUID");
	if (pfnl_dev_has(req, value_opts[i].attr))
		return bad(err, errlen, "option '%s' given twice", opt);
	switch (value_opts[i].attr) {
	case PFLASH_A_DEV_WRITEBACK_INTERVAL:
		if (ctl_parse_msec(val, &ms) || ms > value_opts[i].max)
			return bad(err, errlen,
				   "invalid duration '%s' for option '%s' (at most %" PRIu64 "ms)",
				   val, opt, value_opts[i].max);
		pfnl_dev_set(req, PFLASH_A_DEV_WRITEBACK_INTERVAL, ms);
		return 0;
	case PFLASH_A_DEV_INDEX:
		if (parse_index(val, &index))
			return bad(err, errlen, "invalid index '%s'", val);
		pfnl_dev_set(req, PFLASH_A_DEV_INDEX, index);
		return 0;
	default:
		if (ctl_parse_size(val, value_opts[i].max, &n))
			return bad(err, errlen,
				   "invalid size '%s' for option '%s'", val,
				   opt);
		pfnl_dev_set(req, value_opts[i].attr, n);
		return 0;
	}
}

static int parse_options(char *field, struct pflashtab_line *out, char *err,
			 size_t errlen)
{
	char *opt, *save;
	int ret;

	if (!field || !strcmp(field, "-") || !strcmp(field, "defaults"))
		return 0;
	for (opt = strtok_r(field, ",", &save); opt;
	     opt = strtok_r(NULL, ",", &save)) {
		ret = parse_option(opt, out, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* The cache mode, once the backing file and the options are known. */
static int parse_cache(const char *field, struct pflashtab_line *out,
		       char *err, size_t errlen)
{
	bool writes_back = out->backing[0] && !out->req.read_only;
	int mode;

	if (!strcmp(field, "-")) {
		out->cache_mode = writes_back ? PFLASH_CACHE_MODE_WRITETHROUGH :
						PFLASHTAB_CACHE_NONE;
		return 0;
	}
	if (!strcmp(field, "none")) {
		if (writes_back)
			return bad(err, errlen,
				   "cache mode 'none' is for a device without a backing file, or read-only: give writethrough or writeback");
		out->cache_mode = PFLASHTAB_CACHE_NONE;
		return 0;
	}
	mode = ctl_cache_mode(field);
	if (mode < 0)
		return bad(err, errlen,
			   "invalid cache mode '%s' (expected writethrough, writeback, none or -)",
			   field);
	if (!writes_back)
		return bad(err, errlen,
			   "cache mode '%s' needs a writable device with a backing file",
			   field);
	out->cache_mode = mode;
	pfnl_dev_set(&out->req, PFLASH_A_DEV_CACHE_MODE, mode);
	return 0;
}

int pflashtab_parse(const char *text, unsigned int lineno,
		    struct pflashtab_line *out, char *err, size_t errlen)
{
	char buf[PATH_MAX + 1024], *field[FIELDS_MAX + 1], *save;
	const struct pfnl_dev *req = &out->req;
	int n, ret;

	memset(out, 0, sizeof(*out));
	out->lineno = lineno;
	if (strlen(text) >= sizeof(buf))
		return bad(err, errlen, "line too long");
	strcpy(buf, text);
	for (n = 0; n <= FIELDS_MAX; n++) {
		field[n] = strtok_r(n ? NULL : buf, " \t", &save);
		if (!field[n])
			break;
	}
	if (!n || field[0][0] == '#')
		return 0;
	if (n < 2)
		return bad(err, errlen,
			   "a device needs a backing file, or '-' for none");
	if (n > FIELDS_MAX)
		return bad(err, errlen, "unexpected field '%s'",
			   field[FIELDS_MAX]);

	ret = parse_device(field[0], out, err, errlen);
	if (ret)
		return ret;
	if (strcmp(field[1], "-")) {
		if (field[1][0] != '/')
			return bad(err, errlen,
				   "the backing file must be an absolute path, or '-' for none: '%s'",
				   field[1]);
		snprintf(out->backing, sizeof(out->backing), "%s", field[1]);
	}
	ret = parse_options(n > 3 ? field[3] : NULL, out, err, errlen);
	if (ret)
		return ret;
	ret = parse_cache(n > 2 ? field[2] : "-", out, err, errlen);
	if (ret)
		return ret;

	if (!out->backing[0] && !pfnl_dev_has(req, PFLASH_A_DEV_SIZE))
		return bad(err, errlen,
			   "a device without a backing file needs option 'size'");
	if (pfnl_dev_has(req, PFLASH_A_DEV_WRITEBACK_INTERVAL) &&
	    out->cache_mode != PFLASH_CACHE_MODE_WRITEBACK)
		return bad(err, errlen,
			   "option 'writeback-interval' needs cache mode writeback");
	return 1;
}
