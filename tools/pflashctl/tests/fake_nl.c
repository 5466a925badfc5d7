// SPDX-License-Identifier: GPL-2.0
/*
 * A fake kernel for host tests of pflashctl.  tests/pflashctl-fake is
 * pflashctl linked with -Wl,--wrap for the library calls that talk to the
 * kernel: these answer from the environment instead.
 *
 *  PFLASH_FAKE_DEVS	the devices there are, separated by spaces, each
 *			"index:size:block_size:erase_size:read_only", then,
 *			optionally, ":state:epoch:cache_mode:dirty_bytes:
 *			flush_pending:writeback_error:writeback_interval:
 *			backing_path:uuid:backing_dev:backing_ino"; a field
 *			"-" or left out leaves its attribute out of replies
 *  PFLASH_FAKE_OPEN	pfnl_open() fails with this errno
 *  PFLASH_FAKE_ERROR	requests fail: "errno:attr:miss_type:message"
 *			(the kernel's errno, the attribute it blamed and the
 *			missing one, 0 for none, and its message)
 *  PFLASH_FAKE_FAIL_AT	only the Nth request of a handle fails (from 1)
 *  PFLASH_FAKE_FAIL_CMD	only requests of this command fail, named as
 *			the log names them ("EXPORT", "DEV_GET dump"); the
 *			others are not counted for PFLASH_FAKE_FAIL_AT
 *  PFLASH_FAKE_WARNING	every request succeeds with this warning
 *  PFLASH_FAKE_LOG	file to which each request is appended, one a line:
 *			"COMMAND attr=value..."
 *  PFLASH_FAKE_EXPORT	file whose contents an export writes into the
 *			stream's file descriptor, in pieces of
 *			PFLASH_FAKE_PIECE bytes (default 4096); an export
 *			that fails writes half of them first
 *  PFLASH_FAKE_STALL	an export stops after its first piece, until a
 *			signal ends the process
 *  PFLASH_FAKE_PENDING	a live export's passes: what each leaves written
 *			meanwhile, in bytes, separated by commas (default
 *			0); PFLASH_FAKE_EXPORT is then a live export's
 *			stream, of which each pass writes its own part,
 *			and the final pass the rest
 *  PFLASH_FAKE_IMPORT	file to which what an import reads from its file
 *			descriptor is appended
 *  PFLASH_FAKE_EVENTS	the events there are, separated by spaces, each
 *			"cmd:index" or, for a flush, "cmd:index:full:error";
 *			the device is one of PFLASH_FAKE_DEVS
 *  PFLASH_FAKE_EVENTS_OPEN  pfnl_events_open() fails with this errno
 *  PFLASH_FAKE_EVENTS_END   after the events, pfnl_events_recv()
 *			fails with this errno (default ENOBUFS)
 *
 * An unknown device gets ENODEV with the message "no such device".  An
 * import is checked by the stream reader, as the kernel checks it, and
 * the piece that completes the stream gets the device in reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <uuid.h>

#include "../pflashctl.h"
#include "pfstream.h"

#define FAKE_DEVS_MAX	16
struct fake {
	struct pfnl_ack ack;
	struct pfnl_dev devs[FAKE_DEVS_MAX];
	unsigned int ndevs;
	unsigned int requests;
	struct pfstream *import;
	uint64_t import_offset;
	char *events;
	char *next_event;
	unsigned int live_passes;
};

/* The attributes of PFLASH_FAKE_DEVS, in order. */
static const int dev_fields[] = {
	PFLASH_A_DEV_INDEX,
	PFLASH_A_DEV_SIZE,
	PFLASH_A_DEV_BLOCK_SIZE,
	PFLASH_A_DEV_ERASE_SIZE,
	PFLASH_A_DEV_READ_ONLY,
	PFLASH_A_DEV_STATE,
	PFLASH_A_DEV_EPOCH,
	PFLASH_A_DEV_CACHE_MODE,
	PFLASH_A_DEV_DIRTY_BYTES,
	PFLASH_A_DEV_FLUSH_PENDING,
	PFLASH_A_DEV_WRITEBACK_ERROR,
	PFLASH_A_DEV_WRITEBACK_INTERVAL,
	PFLASH_A_DEV_BACKING_PATH,
	PFLASH_A_DEV_UUID,
	PFLASH_A_DEV_BACKING_DEV,
	PFLASH_A_DEV_BACKING_INO,
};

/* Set @attr of @d from its text in PFLASH_FAKE_DEVS. */
static void set_field(struct pfnl_dev *d, int attr, const char *text)
{
	uuid_t uuid;

	switch (attr) {
	case PFLASH_A_DEV_BACKING_PATH:
		pfnl_dev_set_data(d, attr, text, strlen(text));
		break;
	case PFLASH_A_DEV_UUID:
		if (!uuid_parse(text, uuid))
			pfnl_dev_set_data(d, attr, uuid, sizeof(uuid));
		break;
	default:
		pfnl_dev_set(d, attr, strtoull(text, NULL, 0));
		break;
	}
}

static void parse_devs(struct fake *f, char *s)
{
	char *dev, *field, *save_dev, *save_field;
	unsigned int i;

	for (dev = strtok_r(s, " ", &save_dev); dev && f->ndevs < FAKE_DEVS_MAX;
	     dev = strtok_r(NULL, " ", &save_dev)) {
		struct pfnl_dev *d = &f->devs[f->ndevs++];

		field = strtok_r(dev, ":", &save_field);
		for (i = 0; field && i < ARRAY_SIZE(dev_fields); i++) {
			if (strcmp(field, "-"))
				set_field(d, dev_fields[i], field);
			field = strtok_r(NULL, ":", &save_field);
		}
	}
}

int __wrap_pfnl_open(struct pfnl **hp)
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
	*hp = (struct pfnl *)f;
	return 0;
}

void __wrap_pfnl_close(struct pfnl *h)
{
	struct fake *f = (struct fake *)h;

	if (!f)
		return;
	pfstream_free(f->import);
	free(f->events);
	free(f);
}

const struct pfnl_ack *__wrap_pfnl_last_ack(const struct pfnl *h)
{
	return &((const struct fake *)h)->ack;
}

/* Log attribute @attr of request @req. */
static void log_attr(FILE *out, const struct pfnl_dev *req, int attr)
{
	char text[PFLASH_BACKING_PATH_MAX] = "", link[32], uuid[37];
	int mode;

	fprintf(out, " %s=", pfnl_dev_attr_name(attr));
	switch (attr) {
	case PFLASH_A_DEV_BACKING_FD:
		/* What the kernel would open: the file, and how. */
		snprintf(link, sizeof(link), "/proc/self/fd/%u", req->backing_fd);
		mode = fcntl(req->backing_fd, F_GETFL) & O_ACCMODE;
		if (readlink(link, text, sizeof(text) - 1) < 0)
			strcpy(text, "?");
		fprintf(out, "%s:%s", mode == O_RDWR ? "rw" :
			mode == O_RDONLY ? "ro" : "?", text);
		break;
	case PFLASH_A_DEV_UUID:
		uuid_unparse_lower(req->uuid, uuid);
		fputs(uuid, out);
		break;
	case PFLASH_A_DEV_STREAM_FD: {
		/* What kind of file the kernel would read or write. */
		struct stat st;

		fputs(fstat(req->stream_fd, &st) ? "?" :
		      S_ISFIFO(st.st_mode) ? "pipe" :
		      S_ISREG(st.st_mode) ? "file" :
		      S_ISCHR(st.st_mode) ? "chr" : "other", out);
		break;
	}
	default:
		fprintf(out, "%" PRIu64, pfnl_dev_get(req, attr));
		break;
	}
}

/* Log the request, then answer as the environment says; 0 to go on. */
static int request(struct fake *f, const char *cmd,
		   const struct pfnl_dev *req)
{
	const char *log = getenv("PFLASH_FAKE_LOG");
	const char *error = getenv("PFLASH_FAKE_ERROR");
	const char *fail_at = getenv("PFLASH_FAKE_FAIL_AT");
	const char *fail_cmd = getenv("PFLASH_FAKE_FAIL_CMD");
	const char *warning = getenv("PFLASH_FAKE_WARNING");
	struct pfnl_ack *ack = &f->ack;
	FILE *out;
	int attr;

	if (fail_cmd && *fail_cmd && strcmp(fail_cmd, cmd))
		error = NULL;
	else
		f->requests++;
	if (log) {
		out = fopen(log, "a");
		if (!out)
			return -errno;
		fputs(cmd, out);
		for (attr = 1; req && attr <= PFLASH_A_DEV_MAX; attr++)
			if (pfnl_dev_has(req, attr))
				log_attr(out, req, attr);
		fputc('\n', out);
		if (fclose(out))
			return -errno;
	}

	memset(ack, 0, sizeof(*ack));
	if (error && (!fail_at || (unsigned int)atoi(fail_at) == f->requests)) {
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

/* Fail the request as the kernel does, with @err and @msg. */
static int refuse(struct fake *f, int err, int attr, const char *msg)
{
	f->ack.error = err;
	f->ack.attr = attr;
	snprintf(f->ack.msg, sizeof(f->ack.msg), "%s", msg);
	return -err;
}

static struct pfnl_dev *find(struct fake *f, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < f->ndevs; i++)
		if (f->devs[i].index == index)
			return &f->devs[i];
	refuse(f, ENODEV, PFLASH_A_DEV_INDEX, "no such device");
	return NULL;
}

/* The device DEV_NEW creates: what @req says, and the kernel's defaults. */
static void create(struct pfnl_dev *dev, const struct pfnl_dev *req)
{
	char link[32];
	int attr;

	memset(dev, 0, sizeof(*dev));
	for (attr = 1; attr <= PFLASH_A_DEV_MAX; attr++)
		if (attr != PFLASH_A_DEV_BACKING_FD && pfnl_dev_has(req, attr))
			pfnl_dev_set(dev, attr, pfnl_dev_get(req, attr));
	if (pfnl_dev_has(req, PFLASH_A_DEV_UUID))
		pfnl_dev_set_data(dev, PFLASH_A_DEV_UUID, req->uuid,
				  sizeof(req->uuid));
	pfnl_dev_set(dev, PFLASH_A_DEV_INDEX, req->index);
	pfnl_dev_set(dev, PFLASH_A_DEV_BLOCK_SIZE,
		     req->block_size ?: PFLASH_BLOCK_SIZE_DEFAULT);
	pfnl_dev_set(dev, PFLASH_A_DEV_ERASE_SIZE,
		     req->erase_size ?: PFLASH_ERASE_SIZE_DEFAULT);
	pfnl_dev_set(dev, PFLASH_A_DEV_READ_ONLY, req->read_only);
	pfnl_dev_set(dev, PFLASH_A_DEV_STATE, req->state);
	pfnl_dev_set(dev, PFLASH_A_DEV_EPOCH, 0);
	if (!pfnl_dev_has(req, PFLASH_A_DEV_BACKING_FD))
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%u", req->backing_fd);
	if (readlink(link, dev->backing_path, sizeof(dev->backing_path) - 1) > 0)
		dev->attrs |= PFNL_DEV_ATTR(PFLASH_A_DEV_BACKING_PATH);
	if (!req->size)
		pfnl_dev_set(dev, PFLASH_A_DEV_SIZE,
			     lseek(req->backing_fd, 0, SEEK_END));
	pfnl_dev_set(dev, PFLASH_A_DEV_DIRTY_BYTES, 0);
}

int __wrap_pfnl_dev_do(struct pfnl *h, uint8_t cmd,
		       const struct pfnl_dev *req,
		       struct pfnl_dev *reply)
{
	static const char *const names[] = {
		[PFLASH_CMD_DEV_NEW] = "DEV_NEW",
		[PFLASH_CMD_DEV_DEL] = "DEV_DEL",
		[PFLASH_CMD_DEV_GET] = "DEV_GET",
		[PFLASH_CMD_FLUSH] = "FLUSH",
		[PFLASH_CMD_INACTIVATE] = "INACTIVATE",
		[PFLASH_CMD_ACTIVATE] = "ACTIVATE",
	};
	struct fake *f = (struct fake *)h;
	struct pfnl_dev *dev;
	int ret;

	if (reply)
		memset(reply, 0, sizeof(*reply));
	ret = request(f, names[cmd], req);
	if (ret)
		return ret;
	if (cmd == PFLASH_CMD_DEV_NEW) {
		dev = &f->devs[0];
		create(dev, req);
	} else {
		dev = find(f, req->index);
		if (!dev)
			return -f->ack.error;
	}
	if (cmd == PFLASH_CMD_INACTIVATE)
		pfnl_dev_set(dev, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	if (cmd == PFLASH_CMD_ACTIVATE) {
		pfnl_dev_set(dev, PFLASH_A_DEV_STATE, PFLASH_STATE_ACTIVE);
		pfnl_dev_set(dev, PFLASH_A_DEV_EPOCH,
			     pfnl_dev_has(req, PFLASH_A_DEV_EPOCH) ?
			     req->epoch : dev->epoch + 1);
	}
	if (reply && cmd != PFLASH_CMD_DEV_DEL && cmd != PFLASH_CMD_FLUSH)
		*reply = *dev;
	return 0;
}

int __wrap_pfnl_dev_dump(struct pfnl *h, pfnl_dev_fn fn,
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

/* The whole of file @path, its length in *@len; NULL if it cannot be read. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	long size;
	FILE *in;

	in = path ? fopen(path, "rb") : NULL;
	if (!in)
		return NULL;
	size = fseek(in, 0, SEEK_END) ? -1 : ftell(in);
	if (size >= 0 && !fseek(in, 0, SEEK_SET)) {
		buf = malloc(size ?: 1);
		*len = size;
		if (buf && fread(buf, 1, size, in) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(in);
	return buf;
}

/* Take a piece of an import, as the kernel does. */
static int import_piece(struct fake *f, struct pfnl_dev *dev,
			uint64_t offset, const void *data, size_t len)
{
	const struct pfstream_status *st;
	const char *path = getenv("PFLASH_FAKE_IMPORT");
	FILE *out;

	if (dev->state != PFLASH_STATE_INACTIVE)
		return refuse(f, EBUSY, 0,
			      "the device is active: inactivate it before importing");
	if (!offset) {
		pfstream_free(f->import);
		f->import = NULL;
		if (pfstream_new(&f->import))
			return -ENOMEM;
		f->import_offset = 0;
	}
	if (!f->import || offset != f->import_offset)
		return refuse(f, EINVAL, 0,
			      "this piece does not continue an import in progress; start again at offset 0");
	st = pfstream_status(f->import);
	if (pfstream_feed(f->import, data, len))
		return refuse(f, -st->error, 0, st->msg);
	f->import_offset += len;
	out = path ? fopen(path, "ab") : NULL;
	if (path && (!out || fwrite(data, 1, len, out) != len))
		return refuse(f, EIO, 0, "PFLASH_FAKE_IMPORT cannot be written");
	if (out && fclose(out))
		return refuse(f, EIO, 0, "PFLASH_FAKE_IMPORT cannot be written");
	if (st->complete) {
		pfnl_dev_set(dev, PFLASH_A_DEV_EPOCH, st->header.epoch);
		memcpy(dev->uuid, st->header.uuid, sizeof(dev->uuid));
		dev->attrs |= PFNL_DEV_ATTR(PFLASH_A_DEV_UUID);
	}
	return 0;
}

/* The device, with what a transfer of @stream (@len bytes) moved. */
static void transfer_reply(struct pfnl_dev *reply, const struct pfnl_dev *dev,
			   const uint8_t *stream, size_t len)
{
	struct pfstream *s;

	*reply = *dev;
	pfnl_dev_set(reply, PFLASH_A_DEV_STREAM_BYTES, len);
	if (!pfstream_new(&s)) {
		if (!pfstream_feed(s, stream, len) && !pfstream_finish(s))
			pfnl_dev_set(reply, PFLASH_A_DEV_STREAM_FINAL,
				     pfstream_status(s)->end_flags &
				     PFLASH_STREAM_END_F_FINAL);
		pfstream_free(s);
	}
}

/*
 * The part of live export stream @buf (@len bytes) that pass @asked, which
 * must be the next, writes, [*@from, *@to), and what the pass leaves
 * pending; 0, or the refusal.
 */
static int live_part(struct fake *f, uint32_t asked, const uint8_t *buf,
		     size_t len, bool final, size_t *from, size_t *to,
		     uint64_t *pending)
{
	const char *list = getenv("PFLASH_FAKE_PENDING");
	unsigned int nr = f->live_passes++, i;
	const struct pfstream_status *st;
	struct pfstream *s;
	int err = 0;

	if (asked != nr)
		return refuse(f, EINVAL, 0, "not the next pass of the live export");
	if (pfstream_new(&s))
		return -ENOMEM;
	st = pfstream_status(s);
	if (pfstream_feed(s, buf, len) || pfstream_finish(s) ||
	    nr >= st->passes || (!final && nr + 1 >= st->passes)) {
		err = refuse(f, EIO, 0,
			     "PFLASH_FAKE_EXPORT has no such pass");
	} else {
		*from = nr ? st->pass[nr].start : 0;
		*to = final ? len : st->pass[nr + 1].start;
	}
	pfstream_free(s);
	for (i = 0, *pending = 0; list && i <= nr; i++) {
		*pending = strtoull(list, (char **)&list, 0);
		list = *list == ',' ? list + 1 : NULL;
	}
	return err;
}

/* An export, or a pass of a live export, as @req asks. */
static int fake_export(struct fake *f, const struct pfnl_dev *req, int fd,
		       struct pfnl_dev *reply)
{
	const char *piece = getenv("PFLASH_FAKE_PIECE");
	size_t n, len, from = 0, to, size = piece ? atoi(piece) : 4096;
	bool final = req->live_final;
	struct pfnl_dev *dev;
	uint64_t pending = 0;
	ssize_t w;
	uint8_t *buf;
	int err;

	memset(reply, 0, sizeof(*reply));
	err = request(f, "EXPORT", req);
	dev = find(f, req->index);
	if (!err && !dev)
		return -f->ack.error;
	buf = slurp(getenv("PFLASH_FAKE_EXPORT"), &len);
	if (!buf)
		return refuse(f, EIO, 0, "PFLASH_FAKE_EXPORT cannot be read");
	to = len;
	if (!err && req->live) {
		err = live_part(f, req->live_pass, buf, len, final, &from, &to,
				&pending);
		if (!err && final && dev->state != PFLASH_STATE_INACTIVE)
			err = refuse(f, EBUSY, 0,
				     "the final pass of a live export needs the device inactive: inactivate it first");
	}
	/* A failed export writes half its stream; a good one all of it. */
	if (err)
		to = from + (to - from) / 2;
	for (n = from; n < to; n += w) {
		w = write(fd, buf + n, to - n < size ? to - n : size);
		if (w < 0) {
			err = refuse(f, errno, 0, "could not write the stream");
			break;
		}
		while (getenv("PFLASH_FAKE_STALL"))
			pause();
	}
	if (!err) {
		transfer_reply(reply, dev, buf, len);
		pfnl_dev_set(reply, PFLASH_A_DEV_STREAM_BYTES, to - from);
	}
	if (!err && req->live) {
		if (!final)
			pfnl_dev_set(reply, PFLASH_A_DEV_STREAM_FINAL, false);
		pfnl_dev_set(reply, PFLASH_A_DEV_LIVE_PASS,
			     f->live_passes - 1);
		pfnl_dev_set(reply, PFLASH_A_DEV_LIVE_PENDING, pending);
	}
	free(buf);
	return err;
}

int __wrap_pfnl_export_fd(struct pfnl *h, uint32_t index, int fd,
			  struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	pfnl_dev_set(&req, PFLASH_A_DEV_STREAM_FD, fd);
	return fake_export((struct fake *)h, &req, fd, reply);
}

int __wrap_pfnl_export_pass(struct pfnl *h, uint32_t index, int fd,
			    uint32_t pass, bool final, struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };

	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	pfnl_dev_set(&req, PFLASH_A_DEV_STREAM_FD, fd);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE, true);
	pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_PASS, pass);
	if (final)
		pfnl_dev_set(&req, PFLASH_A_DEV_LIVE_FINAL, true);
	return fake_export((struct fake *)h, &req, fd, reply);
}

int __wrap_pfnl_import_fd(struct pfnl *h, uint32_t index, int fd,
			  struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 }, *dev;
	struct fake *f = (struct fake *)h;
	uint8_t *stream = NULL, *more;
	size_t len = 0;
	ssize_t n;
	int ret;

	memset(reply, 0, sizeof(*reply));
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	pfnl_dev_set(&req, PFLASH_A_DEV_STREAM_FD, fd);
	ret = request(f, "IMPORT", &req);
	if (ret)
		return ret;
	dev = find(f, index);
	if (!dev)
		return -f->ack.error;
	/* The kernel reads it all, checking it as it goes. */
	do {
		more = realloc(stream, len + PFLASH_STREAM_CHUNK_MAX);
		if (!more) {
			free(stream);
			return -ENOMEM;
		}
		stream = more;
		n = read(fd, stream + len, PFLASH_STREAM_CHUNK_MAX);
		if (n < 0) {
			free(stream);
			return refuse(f, errno, 0, "could not read the stream");
		}
		if (n)
			ret = import_piece(f, dev, len, stream + len, n);
		len += n;
	} while (n && !ret);
	if (!ret && (!f->import || !pfstream_status(f->import)->complete))
		ret = refuse(f, EINVAL, 0,
			     "the stream is truncated: it ends before its end record");
	if (!ret)
		transfer_reply(reply, dev, stream, len);
	free(stream);
	return ret;
}

int __wrap_pfnl_events_open(struct pfnl **hp)
{
	const char *open_err = getenv("PFLASH_FAKE_EVENTS_OPEN");
	const char *events = getenv("PFLASH_FAKE_EVENTS");
	struct fake *f;
	int ret;

	if (open_err)
		return -atoi(open_err);
	ret = __wrap_pfnl_open(hp);
	if (ret)
		return ret;
	f = (struct fake *)*hp;
	f->events = strdup(events ?: "");
	if (!f->events) {
		__wrap_pfnl_close(*hp);
		return -ENOMEM;
	}
	f->next_event = f->events;
	return 0;
}

/* One event a call, then the error of PFLASH_FAKE_EVENTS_END. */
int __wrap_pfnl_events_recv(struct pfnl *h, pfnl_event_fn fn,
			    void *arg)
{
	const char *end = getenv("PFLASH_FAKE_EVENTS_END");
	struct fake *f = (struct fake *)h;
	unsigned int cmd, index, full, error;
	struct pfnl_dev *dev, ev;
	int n = 0, fields;

	fields = sscanf(f->next_event, " %u:%u%n:%u:%u%n", &cmd, &index, &n,
			&full, &error, &n);
	if (fields < 2)
		return -(end ? atoi(end) : ENOBUFS);
	f->next_event += n;
	dev = find(f, index);
	if (!dev)
		return -ENODEV;
	ev = *dev;
	if (fields == 4) {
		pfnl_dev_set(&ev, PFLASH_A_DEV_FLUSH_FULL, full);
		pfnl_dev_set(&ev, PFLASH_A_DEV_FLUSH_ERROR, error);
	}
	return fn(cmd, &ev, arg);
}
