// SPDX-License-Identifier: GPL-2.0
/*
 * A fake kernel for host tests of pflashctl.  tests/pflashctl-fake is
 * pflashctl linked with -Wl,--wrap for the library calls that talk to the
 * kernel: these answer from the environment instead.
 *
 *  PFLASH_FAKE_DEVS	the devices there are, separated by spaces, each
 *			"index:size:block_size:erase_size:read_only"; a
 *			field "-" leaves its attribute out of replies
 *  PFLASH_FAKE_OPEN	pflash_nl_open() fails with this errno
 *  PFLASH_FAKE_ERROR	every request fails: "errno:attr:miss_type:message"
 *			(the kernel's errno, the attribute it blamed and the
 *			missing one, 0 for none, and its message)
 *  PFLASH_FAKE_WARNING	every request succeeds with this warning
 *  PFLASH_FAKE_LOG	file to which each request is appended, one a line:
 *			"COMMAND attr=value..."
 *
 * An unknown device gets ENODEV with the message "no such device".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../pflashctl.h"

#define FAKE_DEVS_MAX	16
struct fake {
	struct pflash_nl_ack ack;
	struct pflash_dev devs[FAKE_DEVS_MAX];
	unsigned int ndevs;
};

static const int dev_attrs[] = {
	PFLASH_A_DEV_INDEX,
	PFLASH_A_DEV_SIZE,
	PFLASH_A_DEV_BLOCK_SIZE,
	PFLASH_A_DEV_ERASE_SIZE,
	PFLASH_A_DEV_READ_ONLY,
};

static void parse_devs(struct fake *f, char *s)
{
	char *dev, *field, *save_dev, *save_field;
	unsigned int i;

	for (dev = strtok_r(s, " ", &save_dev); dev && f->ndevs < FAKE_DEVS_MAX;
	     dev = strtok_r(NULL, " ", &save_dev)) {
		struct pflash_dev *d = &f->devs[f->ndevs++];

		field = strtok_r(dev, ":", &save_field);
		for (i = 0; field && i < ARRAY_SIZE(dev_attrs); i++) {
			if (strcmp(field, "-"))
				pflash_dev_set(d, dev_attrs[i],
					       strtoull(field, NULL, 0));
			field = strtok_r(NULL, ":", &save_field);
		}
	}
}

int __wrap_pflash_nl_open(struct pflash_nl **hp)
{
	const char *open_err = getenv("PFLASH_FAKE_OPEN");
	const char *devs = getenv("PFLASH_FAKE_DEVS");
	struct fake *f;
	char *copy;

	if (open_err)
		return -atoi(open_err);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (devs) {
		copy = strdup(devs);
		if (!copy) {
			free(f);
			return -ENOMEM;
		}
		parse_devs(f, copy);
		free(copy);
	}
	*hp = (struct pflash_nl *)f;
	return 0;
}

void __wrap_pflash_nl_close(struct pflash_nl *h)
{
	free(h);
}

const struct pflash_nl_ack *__wrap_pflash_nl_last_ack(const struct pflash_nl *h)
{
	return &((const struct fake *)h)->ack;
}

/* Log the request, then answer as the environment says; 0 to go on. */
static int request(struct fake *f, const char *cmd,
		   const struct pflash_dev *req)
{
	const char *log = getenv("PFLASH_FAKE_LOG");
	const char *error = getenv("PFLASH_FAKE_ERROR");
	const char *warning = getenv("PFLASH_FAKE_WARNING");
	struct pflash_nl_ack *ack = &f->ack;
	unsigned int i;
	FILE *out;

	if (log) {
		out = fopen(log, "a");
		if (!out)
			return -errno;
		fputs(cmd, out);
		for (i = 0; req && i < ARRAY_SIZE(dev_attrs); i++)
			if (pflash_dev_has(req, dev_attrs[i]))
				fprintf(out, " %s=%" PRIu64,
					pflash_dev_attr_name(dev_attrs[i]),
					pflash_dev_get(req, dev_attrs[i]));
		fputc('\n', out);
		if (fclose(out))
			return -errno;
	}

	memset(ack, 0, sizeof(*ack));
	if (error) {
		unsigned int attr = 0, miss_type = 0;
		int n = 0;

		if (sscanf(error, "%d:%u:%u:%n", &ack->error, &attr,
			   &miss_type, &n) < 3)
			return -EINVAL;
		ack->attr = attr;
		ack->miss_type = miss_type;
		if (n)
			snprintf(ack->msg, sizeof(ack->msg), "%s", error + n);
		return -ack->error;
	}
	if (warning)
		snprintf(ack->msg, sizeof(ack->msg), "%s", warning);
	return 0;
}

static struct pflash_dev *find(struct fake *f, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < f->ndevs; i++)
		if (f->devs[i].index == index)
			return &f->devs[i];
	f->ack.error = ENODEV;
	f->ack.attr = PFLASH_A_DEV_INDEX;
	snprintf(f->ack.msg, sizeof(f->ack.msg), "no such device");
	return NULL;
}

int __wrap_pflash_nl_dev_do(struct pflash_nl *h, uint8_t cmd,
			    const struct pflash_dev *req,
			    struct pflash_dev *reply)
{
	static const char *const names[] = {
		[PFLASH_CMD_DEV_NEW] = "DEV_NEW",
		[PFLASH_CMD_DEV_DEL] = "DEV_DEL",
		[PFLASH_CMD_DEV_GET] = "DEV_GET",
	};
	struct fake *f = (struct fake *)h;
	struct pflash_dev *dev;
	int ret;

	if (reply)
		memset(reply, 0, sizeof(*reply));
	ret = request(f, names[cmd], req);
	if (ret)
		return ret;
	if (cmd == PFLASH_CMD_DEV_NEW) {
		dev = &f->devs[0];
		memset(dev, 0, sizeof(*dev));
		pflash_dev_set(dev, PFLASH_A_DEV_INDEX, req->index);
		pflash_dev_set(dev, PFLASH_A_DEV_SIZE, req->size);
		pflash_dev_set(dev, PFLASH_A_DEV_BLOCK_SIZE,
			       req->block_size ?: PFLASH_BLOCK_SIZE_DEFAULT);
		pflash_dev_set(dev, PFLASH_A_DEV_ERASE_SIZE,
			       req->erase_size ?: PFLASH_ERASE_SIZE_DEFAULT);
		pflash_dev_set(dev, PFLASH_A_DEV_READ_ONLY, req->read_only);
	} else {
		dev = find(f, req->index);
		if (!dev)
			return -f->ack.error;
	}
	if (reply && cmd != PFLASH_CMD_DEV_DEL)
		*reply = *dev;
	return 0;
}

int __wrap_pflash_nl_dev_dump(struct pflash_nl *h, pflash_dev_fn fn,
			      void *arg)
{
	struct fake *f = (struct fake *)h;
	unsigned int i;
	int ret;

	ret = request(f, "DEV_GET dump", NULL);
	for (i = 0; !ret && i < f->ndevs; i++)
		ret = fn(&f->devs[i], arg);
	return ret;
}
