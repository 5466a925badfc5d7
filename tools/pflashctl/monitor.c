// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl monitor: the events of the pflash family, one line each, in the
 * style of "drbdsetup events2": the event, the device, then key:value
 * pairs; or, with --json, one JSON object a line.  Every line is flushed
 * as it is printed, for the programs that read it through a pipe.
 */
#include <errno.h>
#include <string.h>

#include <json.h>

#include "pflashctl.h"

static const char *const event_names[] = {
	[PFLASH_CMD_DEV_NEW_NTF]	= "create",
	[PFLASH_CMD_DEV_DEL_NTF]	= "destroy",
	[PFLASH_CMD_INACTIVATE_NTF]	= "inactivate",
	[PFLASH_CMD_ACTIVATE_NTF]	= "activate",
	[PFLASH_CMD_FLUSH_NTF]		= "flush",
	[PFLASH_CMD_IMPORT_NTF]		= "import",
	[PFLASH_CMD_LOST_NTF]		= "lost",
};

/* What every event says about its device: columns of list. */
static const char *const dev_cols[] = {
	"STATE", "EPOCH", "FLUSH-PENDING", "DIRTY", "BACKING",
};

/* An event as JSON: @event, and what it says about @dev (NULL: none). */
static struct json_object *event_json(const char *event,
				      const struct pfnl_dev *dev, bool flush)
{
	char name[CTL_DEV_PATH_MAX], buf[CTL_NAME_MAX];
	struct json_object *obj;
	size_t i;
	int ret;

	obj = json_object_new_object();
	if (!obj)
		return NULL;
	ret = ctl_json_add(obj, "event", json_object_new_string(event));
	if (!ret && !dev)
		ret = json_object_object_add(obj, "name", NULL) ? -ENOMEM : 0;
	if (!ret && dev) {
		snprintf(name, sizeof(name), CTL_DEV_NAME "%" PRIu32,
			 dev->index);
		ret = ctl_json_add(obj, "name", json_object_new_string(name));
	}
	for (i = 0; !ret && dev && i < ARRAY_SIZE(dev_cols); i++)
		ret = dev_json_add(obj, dev_cols[i], dev);
	if (!ret && flush)
		ret = ctl_json_add(obj, "full",
				   json_object_new_boolean(dev->flush_full));
	if (!ret && flush)
		ret = ctl_json_add(obj, "result", json_object_new_string(
				   ctl_errno_name(buf, dev->flush_error)));
	if (!ret)
		return obj;
	json_object_put(obj);
	return NULL;
}

/* "event name key:value...": a null value is left out, but for "-". */
static void print_text(struct json_object *obj)
{
	json_object_object_foreach(obj, key, val) {
		if (!strcmp(key, "event")) {
			ctl_json_print_text(stdout, val);
		} else if (!strcmp(key, "name")) {
			putchar(' ');
			if (val)
				ctl_json_print_text(stdout, val);
			else
				putchar('-');
		} else if (val) {
			printf(" %s:", key);
			ctl_json_print_text(stdout, val);
		}
	}
	putchar('\n');
}

/* Print a line; returns 0 or a negative errno. */
static int print_event(bool json, const char *event,
		       const struct pfnl_dev *dev, bool flush)
{
	struct json_object *obj;
	int ret = 0;

	obj = event_json(event, dev, flush);
	if (!obj)
		return -ENOMEM;
	if (json)
		ret = ctl_json_print(obj, JSON_C_TO_STRING_PLAIN);
	else
		print_text(obj);
	json_object_put(obj);
	if (!ret && (fflush(stdout) || ferror(stdout)))
		ret = -errno;
	return ret;
}

static int print_exists(const struct pfnl_dev *dev, void *arg)
{
	return print_event(*(bool *)arg, "exists", dev, false);
}

static int print_ntf(uint8_t cmd, const struct pfnl_dev *dev, void *arg)
{
	char unknown[16];
	const char *event = cmd < ARRAY_SIZE(event_names) ?
			    event_names[cmd] : NULL;

	if (!event) {
		snprintf(unknown, sizeof(unknown), "event-%u", cmd);
		event = unknown;
	}
	return print_event(*(bool *)arg, event, dev,
			   cmd == PFLASH_CMD_FLUSH_NTF);
}

/* The devices there are, then "exists -".  Returns the exit status. */
static int print_now(const struct ctl_cmd *cmd, bool *json)
{
	struct pfnl *h;
	int ret;

	ret = ctl_open(cmd, &h);
	if (ret)
		return ret;
	ret = pfnl_dev_dump(h, print_exists, json);
	if (!ret)
		ret = print_event(*json, "exists", NULL, false);
	ret = ctl_report(cmd, NULL, h, ret);
	pfnl_close(h);
	return ret;
}

static int monitor_run(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument, NULL, 'J' },
		{ "now",	no_argument, NULL, 'n' },
		CTL_OPT_HELP,
		{ NULL }
	};
	bool json = false, now = false;
	struct pfnl *ev;
	int c, ret;

	while ((c = ctl_getopt(cmd, argc, argv, "Jnh", longopts)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'n':
			now = true;
			break;
		}
	}
	if (optind < argc)
		ctl_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

	/* Listen first, so that no change falls between --now and events. */
	ret = ctl_open_with(cmd, pfnl_events_open, &ev);
	if (ret)
		return ret;
	ret = now ? print_now(cmd, &json) : CTL_EXIT_OK;
	while (!ret)
		ret = pfnl_events_recv(ev, print_ntf, &json);
	if (ret == -ENOBUFS)
		ctl_msg(cmd, NULL, "events came faster than they were read, and some were lost: start again with --now to see the current state");
	else if (ret < 0)
		ctl_msg(cmd, NULL, "%s", strerror(-ret));
	pfnl_close(ev);
	return CTL_EXIT_FAILED;
}

const struct ctl_cmd ctl_monitor = {
	.name		= "monitor",
	.args		= "[options]",
	.summary	= "print events as they happen",
	.options	= (const struct ctl_opt_help[]) {
		{ "-J, --json", "one JSON object a line" },
		{ "-n, --now",
		  "first the devices there are, as \"exists\" events, then \"exists -\"" },
		{ NULL }
	},
	.run		= monitor_run,
};
