/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pflashctl: the device table, /etc/pflash/pflashtab (pflashtab(5)), which
 * "pflashctl apply" sets up.  This part only reads it; apply.c acts on it.
 */
#ifndef PFLASHTAB_H
#define PFLASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include "pfnl.h"

#define PFLASHTAB_PATH	"/etc/pflash/pflashtab"

/* The cache mode of a device that never writes a backing file. */
#define PFLASHTAB_CACHE_NONE	UINT32_MAX

/**
 * struct pflashtab_line - one device of the table
 * @lineno: where it is in the table, from 1
 * @by_uuid: the device is the one with @req's uuid, else the one with
 *	@req's index
 * @backing: the backing file, an absolute path, or "" for none
 * @cache_mode: the cache mode the device has once created: a
 *	&enum pflash_cache_mode, or PFLASHTAB_CACHE_NONE
 * @req: what DEV_NEW is sent to create it, but its backing file: the
 *	attributes the line sets, the uuid or index that names it
 */
struct pflashtab_line {
	unsigned int lineno;
	bool by_uuid;
	char backing[PATH_MAX];
	uint32_t cache_mode;
	struct pfnl_dev req;
};

/**
 * pflashtab_parse() - read one line of the table
 * @text: the line, without its newline
 * @lineno: its number, for @out
 * @out: the device, if the line has one
 * @err: where to say what is wrong with the line
 * @errlen: the size of @err
 *
 * Return: 1 for a device, 0 for a blank line or a comment, -EINVAL if the
 * line is not valid (@err says why).
 */
int pflashtab_parse(const char *text, unsigned int lineno,
		    struct pflashtab_line *out, char *err, size_t errlen);

/* The name of a cache mode, as the table and sysfs spell it. */
const char *pflashtab_cache_name(uint32_t mode);

#endif /* PFLASHTAB_H */
