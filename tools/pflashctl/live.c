// SPDX-License-Identifier: GPL-2.0
/*
 * pflashctl export --live: a live export's passes, and when to stop them.
 *
 * Pass 0 sends the whole device while it stays active; each later pass
 * what was written while the pass before ran, as the kernel tracks it
 * (module/live.c).  After each pass, the kernel says how much was written
 * meanwhile: what the next pass would send.  Once that is small enough
 * (--max-final), or the passes reach their limit (--max-passes), or stop
 * shrinking because the writer outpaces them, the device is inactivated,
 * as "pflashctl inactivate" does, and the final pass sends the rest, then
 * the END record.  The device is inactive only for the final pass: that is
 * the downtime a move adds on the source's side.  Before it inactivates,
 * the export waits for the reader to take what the passes sent into the
 * pipe or socket (live_drain()): what the target has not yet read when
 * the device goes inactive, it reads, checks and stages in the downtime.
 *
 * What a pass leaves is what the guest wrote while it ran, and pass 0, the
 * whole device, runs longest: with a writer at a steady rate, what it
 * leaves grows with the device's size.  A --max-final that pass 0 already
 * meets would let that into the downtime, so the default (64K) is small
 * enough that a later pass, short since it sends only what pass 0 left,
 * comes first, and the final pass carries what was written during that
 * short pass: the downtime then follows the guest's writing, not the size.
 *
 * Every pass goes through the one netlink socket, which the kernel ties
 * the live export to: closing it, as pflashctl does when it ends, ends the
 * export, and a failed pass ends it too, with nothing but a retry lost.
 */
#define _GNU_SOURCE		/* program_invocation_short_name */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>
#include <linux/sockios.h>

#include "pflashctl.h"

/* Seconds on @clock. */
static double seconds_on(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds on the monotonic clock, for durations. */
static double now(void)
{
	return seconds_on(CLOCK_MONOTONIC);
}

/* Seconds since the epoch, for a moment other processes can compare. */
static double wall_now(void)
{
	return seconds_on(CLOCK_REALTIME);
}

static const char *const stop_reasons[] = {
	[CTL_LIVE_SMALL]	= "small-enough",
	[CTL_LIVE_PASS_LIMIT]	= "pass-limit",
	[CTL_LIVE_NOT_SHRINKING] = "not-shrinking",
};

/* Why the passes after @nr (0-based), which left @pending, stop, if. */
static enum ctl_live_stop live_stop(const struct ctl_live *live, uint32_t nr,
				    uint64_t pending)
{
	if (pending <= live->max_final)
		return CTL_LIVE_SMALL;
	/* The final pass is one of them. */
	if (nr + 2 >= live->max_passes)
		return CTL_LIVE_PASS_LIMIT;
	if (nr && pending >= live->pass[nr - 1].pending)
		return CTL_LIVE_NOT_SHRINKING;
	return CTL_LIVE_GO_ON;
}

/* Run one pass, and note what it did; the kernel's error, or 0. */
static int live_pass(struct ctl_live *live, struct pfnl *h, uint32_t index,
		     int fd, bool final, struct pfnl_dev *reply)
{
	struct ctl_live_pass *p = &live->pass[live->passes];
	double start = now();
	int ret;

	ret = pfnl_export_pass(h, index, fd, live->passes, final, reply);
	if (!ret && live->settle)
		ret = live->settle(live->settle_arg,
				   live->stream_bytes + reply->stream_bytes);
	if (ret)
		return ret;
	*p = (struct ctl_live_pass) {
		.bytes = reply->stream_bytes,
		.seconds = now() - start,
		.pending = final ? 0 : reply->live_pending,
		.final = final,
	};
	live->stream_bytes += p->bytes;
	live->passes++;
	return 0;
}

/*
 * Before the final inactivation, wait until the stream's reader has taken
 * what the passes sent into @fd, a pipe or a local socket: what it still
 * held would be read, checked and staged by the target inside the
 * downtime.  Gives up waiting once what it holds has not shrunk for a
 * second (a reader that stalls: the final pass will wait for it as any
 * pass does).  -EPIPE if the reader has gone, so that the device is not
 * inactivated for a stream no one reads; 0 otherwise.
 */
static int live_drain(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int queued, least = INT_MAX;
	double since = now();
	unsigned long what;
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	if (S_ISFIFO(st.st_mode))
		what = FIONREAD;	/* a pipe: the bytes not yet read */
	else if (S_ISSOCK(st.st_mode))
		what = SIOCOUTQ;	/* a socket: those not yet taken */
	else
		return 0;
	for (;;) {
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP)))
			return -EPIPE;
		if (ioctl(fd, what, &queued) || !queued)
			return 0;
		if (queued < least) {
			least = queued;
			since = now();
		} else if (now() - since >= 1) {
			return 0;
		}
		usleep(200);
	}
}

/* The per-pass line, on standard error. */
static void live_say_pass(const struct ctl_cmd *cmd, const char *dev,
			  const struct ctl_live *live)
{
	const struct ctl_live_pass *p = &live->pass[live->passes - 1];
	char bytes[CTL_HUMAN_SIZE_MAX], pending[CTL_HUMAN_SIZE_MAX];

	if (live->quiet || live->json)
		return;
	ctl_human_size(bytes, p->bytes);
	if (p->final) {
		ctl_msg(cmd, dev, "final pass %u: %s in %.3f s; the device was inactive for %.3f s",
			live->passes - 1, bytes, p->seconds,
			live->inactive_seconds);
		return;
	}
	ctl_human_size(pending, p->pending);
	ctl_msg(cmd, dev, "pass %u: %s in %.3f s; %s written meanwhile",
		live->passes - 1, bytes, p->seconds, pending);
}

int ctl_live_export(const struct ctl_cmd *cmd, const char *dev,
		    struct pfnl *h, uint32_t index, int fd,
		    struct ctl_live *live, struct pfnl_dev *reply)
{
	struct pfnl_dev req = { 0 };
	double inactivate;
	int ret;

	/* Active passes, unless one pass in all is allowed. */
	live->stop = live->max_passes > 1 ? CTL_LIVE_GO_ON :
					    CTL_LIVE_PASS_LIMIT;
	while (live->stop == CTL_LIVE_GO_ON) {
		ret = live_pass(live, h, index, fd, false, reply);
		if (ret)
			return ret;
		live_say_pass(cmd, dev, live);
		live->stop = live_stop(live, live->passes - 1,
				       reply->live_pending);
	}
	if (live->stop != CTL_LIVE_SMALL && !live->quiet && live->passes) {
		char pending[CTL_HUMAN_SIZE_MAX];

		ctl_human_size(pending, reply->live_pending);
		ctl_msg(cmd, dev, "%s: the writer outpaces the passes; the final pass sends %s, with the device inactive",
			live->stop == CTL_LIVE_PASS_LIMIT ?
			"pass limit reached" : "the passes stopped shrinking",
			pending);
	}

	/* As pflashctl inactivate does: not under a writer, unless forced. */
	if (!live->force &&
	    ctl_refuse_writer(cmd, index, "stop it, or export --live --force")) {
		live->writer = true;
		return -EBUSY;
	}
	ret = live_drain(fd);
	if (ret)
		return ret;
	inactivate = now();
	live->inactivated_at = wall_now();
	pfnl_dev_set(&req, PFLASH_A_DEV_INDEX, index);
	if (live->force)
		pfnl_dev_set(&req, PFLASH_A_DEV_FORCE, true);
	ret = pfnl_dev_do(h, PFLASH_CMD_INACTIVATE, &req, reply);
	if (ret)
		return ret;
	live->inactivated = true;
	live->epoch = reply->epoch;
	ret = live_pass(live, h, index, fd, true, reply);
	live->inactive_seconds = now() - inactivate;
	if (ret)
		return ret;
	live->pass[live->passes - 1].seconds = live->inactive_seconds;
	live_say_pass(cmd, dev, live);
	return 0;
}

/* What -J prints. */
static struct json_object *live_json(const char *dev,
				     const struct ctl_live *live, int ret)
{
	struct json_object *obj = json_object_new_object(), *arr, *p;
	uint32_t i;
	int err = 0;

	arr = json_object_new_array();
#define ADD(o, key, val)	(err = err ?: ctl_json_add(o, key, val))
	ADD(obj, "device", json_object_new_string(dev));
	ADD(obj, "passes", arr);
	for (i = 0; !err && i < live->passes; i++) {
		const struct ctl_live_pass *lp = &live->pass[i];

		p = json_object_new_object();
		if (!p || json_object_array_add(arr, p)) {
			json_object_put(p);
			err = -ENOMEM;
			break;
		}
		ADD(p, "pass", json_object_new_uint64(i));
		ADD(p, "bytes", json_object_new_uint64(lp->bytes));
		ADD(p, "seconds", json_object_new_double(lp->seconds));
		ADD(p, "pending", json_object_new_uint64(lp->pending));
		ADD(p, "final", json_object_new_boolean(lp->final));
	}
	ADD(obj, "stream-bytes", json_object_new_uint64(live->stream_bytes));
	if (live->stop != CTL_LIVE_GO_ON)
		ADD(obj, "stopped", json_object_new_string(
				stop_reasons[live->stop]));
	ADD(obj, "inactivated", json_object_new_boolean(live->inactivated));
	if (live->inactivated) {
		ADD(obj, "inactivated-at",
		    json_object_new_double(live->inactivated_at));
		ADD(obj, "inactive-seconds",
		    json_object_new_double(live->inactive_seconds));
	}
	ADD(obj, "complete", json_object_new_boolean(!ret));
#undef ADD
	if (!err)
		return obj;
	json_object_put(obj);
	return NULL;
}

void ctl_live_report(const struct ctl_cmd *cmd, const char *dev,
		     const struct ctl_live *live, int ret)
{
	struct json_object *obj;

	if (ret && live->inactivated)
		ctl_msg(cmd, dev, "the device is inactive, and no target can have the whole stream: roll back with '%s activate --epoch N %s', N greater than %" PRIu64 " and than any epoch a target was given, or export again",
			program_invocation_short_name, dev, live->epoch);
	else if (ret)
		ctl_msg(cmd, dev, "the device is still active, and unchanged: the move can start again");
	if (!live->json)
		return;
	obj = live_json(dev, live, ret);
	if (!obj) {
		ctl_msg(cmd, dev, "%s", strerror(ENOMEM));
		return;
	}
	if (ctl_json_fprint(stderr, obj, JSON_C_TO_STRING_PRETTY |
					 JSON_C_TO_STRING_SPACED))
		ctl_msg(cmd, dev, "%s", strerror(ENOMEM));
	json_object_put(obj);
}
