// SPDX-License-Identifier: GPL-2.0
/*
 * Careless hands: no pflashctl command given a mistaken path destroys a
 * store (a device's contents, or its backing file) or a device node.
 *
 * The scene: three devices (writethrough and active, writeback and active,
 * writethrough and inactive), each backed by a file in a scratch
 * directory, which is also bind-mounted elsewhere; and every kind of path
 * a hurried operator types: the device nodes, the backing files and links
 * to them (hard, symbolic, through the bind mount), stream files, a plain
 * file, directories, a FIFO (which a reader drains), a socket, /dev/null,
 * a dangling symbolic link, and paths that do not exist.
 *
 * First the two sequences of the issue, and their variants, each refused
 * with a message and nothing changed, on disk or in /dev.  Then a careless
 * operator: each step draws a pflashctl command with paths drawn from the
 * scene, and a model of the scene says what it must do, exit status and
 * all; after each step every device node is still that block device,
 * every backing path still names its device's inode, every device and
 * file holds what the model says, and every other path is as it was.
 *
 * Every run draws a new seed, and prints it; PFLASH_CARELESS_SEED runs a
 * seed again, PFLASH_CARELESS_STEPS sets the number of steps (300; 100 on
 * the debug kernel).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "pflash_test.h"

#define DEV_SIZE	(64 * 1024)
#define BLOCK		4096
#define NDEVS		3
#define NPATHS		40
/* Steps by default: fewer on the debug kernel, several times slower. */
#define STEPS_DEFAULT	300
#define STEPS_DEBUG	100

/* The kinds of step. */
enum {
	STEP_EXPORT, STEP_EXPORT_STDOUT, STEP_IMPORT, STEP_IMPORT_STDIN,
	STEP_CREATE, STEP_OWNER, STEP_WRITE, STEP_RECREATE, STEP_INSPECT,
	NKINDS
};

static const char *const step_names[NKINDS] = {
	"export -o", "export >>", "import -i", "import <", "create --backing",
	"activate/inactivate/flush", "write", "destroy and create", "inspect",
};

/* How careless_step() draws them: export -o, the issue's, more often. */
static const int step_draws[] = {
	STEP_EXPORT, STEP_EXPORT, STEP_EXPORT, STEP_EXPORT_STDOUT, STEP_IMPORT,
	STEP_IMPORT_STDIN, STEP_CREATE, STEP_OWNER, STEP_WRITE, STEP_RECREATE,
	STEP_INSPECT,
};

/* What a device is, as the model holds it. */
struct cdev {
	uint32_t index;
	bool active;
	bool writeback;
	bool flush_pending;
	uint64_t epoch;
	char file[PATH_MAX];	/* its backing file, as created */
	char node[32];		/* /dev/pflashN */
	dev_t rdev;		/* of the node */
	uint64_t bdev, bino;	/* the backing file's identity */
	uint8_t *mem;		/* what the device holds */
	uint8_t *disk;		/* what its backing file holds */
};

/*
 * A file an export wrote, by its inode (a bind mount gives it other
 * paths): what it holds.  A regular file the model knows nothing of holds
 * no stream.
 */
enum skind { S_JUNK, S_VALID };

struct sfile {
	dev_t dev;
	ino_t ino;
	enum skind kind;
	uint64_t epoch;
	uint8_t data[DEV_SIZE];
};

#define NSTREAMS	64

/* What a path is to export -o, which follows a symbolic link. */
enum kind {
	K_NEW, K_NODIR, K_REG, K_BACKING, K_BLK, K_CHR, K_FIFO, K_DIR,
	K_SOCK, K_DANGLING,
};

static const char *const kind_names[] = {
	"new", "no directory", "regular", "backing", "block", "char", "fifo",
	"directory", "socket", "dangling",
};

/* A path's state, to tell whether a step changed it. */
struct snap {
	bool exists;
	mode_t mode;
	ino_t ino;
	dev_t rdev;
	uint64_t hash;		/* of a regular file's contents */
};

struct scene {
	char dir[64];		/* a tmpfs */
	char bind[64];		/* the same, bind-mounted */
	struct cdev dev[NDEVS];
	char paths[NPATHS][PATH_MAX];
	int npaths;
	struct sfile *streams;	/* NSTREAMS of them */
	int nstreams;
	pid_t drainer;
	int sock;
	struct pfnl *h;
	uint64_t rng;
	/* The current step, for messages. */
	char cmdline[PATH_MAX * 3];
	/* What the steps did, by kind: drawn, run, and succeeded. */
	unsigned int drawn[NKINDS], ran[NKINDS], succeeded[NKINDS];
};

/* --- running pflashctl ------------------------------------------------ */

struct run {
	int status;		/* exit status; -1 if it did not exit */
	char out[1024];
	char err[4096];
};

static void slurp_fd(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/*
 * Run pflashctl with @argv (argv[0] is "pflashctl"), standard input from
 * @in_fd and output to @out_fd (-1: captured), into @r.  @sc's cmdline
 * says what ran, for messages.  Returns 0, or -errno if it could not run.
 */
static int run_ctl(struct scene *sc, struct run *r, int in_fd, int out_fd,
		   const char *const argv[])
{
	int out = memfd_create("out", 0), err = memfd_create("err", 0);
	size_t at = 0;
	pid_t pid;
	int i, st;

	sc->cmdline[0] = '\0';
	for (i = 0; argv[i]; i++)
		at += snprintf(sc->cmdline + at, sizeof(sc->cmdline) - at,
			       "%s%s", i ? " " : "", argv[i]);
	if (out < 0 || err < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(in_fd >= 0 ? in_fd : null, STDIN_FILENO);
		dup2(out_fd >= 0 ? out_fd : out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		execvp("pflashctl", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp_fd(out, r->out, sizeof(r->out));
	slurp_fd(err, r->err, sizeof(r->err));
	return 0;
}

/* --- the scene --------------------------------------------------------- */

static uint64_t rnd(struct scene *sc)
{
	sc->rng ^= sc->rng << 13;
	sc->rng ^= sc->rng >> 7;
	sc->rng ^= sc->rng << 17;
	return sc->rng;
}

static unsigned int pick(struct scene *sc, unsigned int n)
{
	return rnd(sc) % n;
}

static const char *add_path(struct scene *sc, const char *fmt, ...)
{
	va_list ap;
	char *p = sc->paths[sc->npaths++];

	va_start(ap, fmt);
	vsnprintf(p, PATH_MAX, fmt, ap);
	va_end(ap);
	return p;
}

static uint64_t hash(const uint8_t *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return h;
}

/* The contents of a regular file, up to @len bytes; its length, or -1. */
static ssize_t read_file(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	ssize_t n, done = 0;

	if (fd < 0)
		return -1;
	while ((size_t)done < len &&
	       (n = read(fd, buf + done, len - done)) > 0)
		done += n;
	close(fd);
	return done;
}

static void take_snap(const char *path, struct snap *s)
{
	static uint8_t buf[4 * DEV_SIZE];
	struct stat st;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (lstat(path, &st))
		return;
	s->exists = true;
	s->mode = st.st_mode;
	s->ino = st.st_ino;
	s->rdev = st.st_rdev;
	if (S_ISREG(st.st_mode)) {
		n = read_file(path, buf, sizeof(buf));
		s->hash = n < 0 ? 0 : hash(buf, n);
	}
}

static struct cdev *backing_of(struct scene *sc, const struct stat *st)
{
	int i;

	for (i = 0; i < NDEVS; i++)
		if ((uint64_t)st->st_dev == sc->dev[i].bdev &&
		    (uint64_t)st->st_ino == sc->dev[i].bino)
			return &sc->dev[i];
	return NULL;
}

/* What @path is, following a symbolic link; its target in @real. */
static enum kind classify(struct scene *sc, const char *path, char *real)
{
	char parent[PATH_MAX], *slash;
	struct stat st;

	snprintf(real, PATH_MAX, "%s", path);
	if (lstat(path, &st)) {
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		return stat(parent, &st) || !S_ISDIR(st.st_mode) ? K_NODIR :
								   K_NEW;
	}
	if (S_ISLNK(st.st_mode)) {
		if (stat(path, &st) || !realpath(path, real))
			return K_DANGLING;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return backing_of(sc, &st) ? K_BACKING : K_REG;
	case S_IFBLK:
		return K_BLK;
	case S_IFCHR:
		return K_CHR;
	case S_IFIFO:
		return K_FIFO;
	case S_IFDIR:
		return K_DIR;
	default:
		return K_SOCK;
	}
}

/* What the model knows of the file @path names, or NULL. */
static struct sfile *stream_at(struct scene *sc, const char *path)
{
	struct stat st;
	int i;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (i = 0; i < sc->nstreams; i++)
		if (sc->streams[i].dev == st.st_dev &&
		    sc->streams[i].ino == st.st_ino)
			return &sc->streams[i];
	return NULL;
}

/* Whether a path of the scene names the file of @f. */
static bool stream_named(struct scene *sc, const struct sfile *f)
{
	struct stat st;
	int i;

	for (i = 0; i < sc->npaths; i++)
		if (!stat(sc->paths[i], &st) && st.st_dev == f->dev &&
		    st.st_ino == f->ino)
			return true;
	return false;
}

/* Record that the file @path names holds @f's contents. */
static int stream_record(struct scene *sc, const char *path,
			 const struct sfile *f)
{
	struct sfile *at = stream_at(sc, path);
	struct stat st;
	int i;

	if (stat(path, &st))
		return -errno;
	if (!at) {
		/* Forget the files no path names any more. */
		for (i = 0; i < sc->nstreams; )
			if (stream_named(sc, &sc->streams[i]))
				i++;
			else
				sc->streams[i] = sc->streams[--sc->nstreams];
		if (sc->nstreams == NSTREAMS)
			return -ENOSPC;
		at = &sc->streams[sc->nstreams++];
	}
	*at = *f;
	at->dev = st.st_dev;
	at->ino = st.st_ino;
	return 0;
}

/* Create device @d from its file, as the model says it is. */
static int make_dev(struct scene *sc, struct cdev *d)
{
	struct pfnl_dev req = {}, got;
	struct stat st;
	int ret;

	if (d->writeback) {
		pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE,
			     PFLASH_CACHE_MODE_WRITEBACK);
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, 0);
	}
	if (!d->active)
		pfnl_dev_set(&req, PFLASH_A_DEV_STATE, PFLASH_STATE_INACTIVE);
	ret = pft_create_backed(sc->h, d->file, &req, &got);
	if (ret)
		return ret;
	d->index = got.index;
	d->bdev = got.backing_dev;
	d->bino = got.backing_ino;
	d->epoch = 0;
	d->flush_pending = false;
	pft_path(d->node, sizeof(d->node), d->index);
	if (stat(d->node, &st))
		return -errno;
	d->rdev = st.st_rdev;
	memcpy(d->mem, d->disk, DEV_SIZE);
	return 0;
}

/*
 * A process that drains the FIFO @path for ever, holding it open; it dies
 * with the test, and holds none of its output open.
 */
static pid_t drain(const char *path)
{
	pid_t pid = fork();
	char buf[65536];
	int fd;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open("/dev/null", O_RDWR);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	fd = open(path, O_RDWR);
	while (fd >= 0 && read(fd, buf, sizeof(buf)) >= 0)
		;
	_exit(0);
}

static int scene_make(struct scene *sc)
{
	static const char *const names[NDEVS] = { "a.fd", "b.fd", "c.fd" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int i, ret;

	memset(sc, 0, sizeof(*sc));
	sc->sock = -1;
	sc->streams = calloc(NSTREAMS, sizeof(*sc->streams));
	if (!sc->streams)
		return -ENOMEM;
	ret = pfnl_open(&sc->h);
	if (ret)
		return ret;
	ret = pft_tmpfs(sc->dir, sizeof(sc->dir), "8m");
	if (ret)
		return ret;
	snprintf(sc->bind, sizeof(sc->bind), "/tmp/pfc-XXXXXX");
	if (!mkdtemp(sc->bind) ||
	    mount(sc->dir, sc->bind, NULL, MS_BIND, NULL))
		return -errno;

	for (i = 0; i < NDEVS; i++) {
		struct cdev *d = &sc->dev[i];

		d->writeback = i == 1;
		d->active = i != 2;
		snprintf(d->file, sizeof(d->file), "%s/%s", sc->dir, names[i]);
		d->mem = malloc(DEV_SIZE);
		d->disk = malloc(DEV_SIZE);
		if (!d->mem || !d->disk)
			return -ENOMEM;
		pft_pattern(d->disk, DEV_SIZE, 0, 100 + i);
		ret = pft_mkfile(d->file, DEV_SIZE, 100 + i);
		if (!ret)
			ret = make_dev(sc, d);
		if (ret)
			return ret;
		add_path(sc, "%s", d->node);
		add_path(sc, "%s", d->file);
	}
	/* Other names of the backing files. */
	if (link(sc->dev[0].file, add_path(sc, "%s/a.link", sc->dir)) ||
	    symlink("b.fd", add_path(sc, "%s/b.sym", sc->dir)))
		return -errno;
	add_path(sc, "%s/c.fd", sc->bind);
	add_path(sc, "%s/a.link", sc->bind);
	/* Streams and files. */
	add_path(sc, "%s/s1.pfs", sc->dir);
	add_path(sc, "%s/s2.pfs", sc->dir);
	add_path(sc, "%s/s2.pfs", sc->bind);
	add_path(sc, "%s/new.pfs", sc->dir);
	snprintf(path, sizeof(path), "%s/notes.txt", sc->dir);
	if (pft_mkfile(path, 100, 7))
		return -EIO;
	add_path(sc, "%s", path);
	if (symlink("s1.pfs", add_path(sc, "%s/to-s1", sc->dir)))
		return -errno;
	/* Not files. */
	if (mkdir(add_path(sc, "%s/dir", sc->dir), 0700) ||
	    symlink("dir", add_path(sc, "%s/to-dir", sc->dir)) ||
	    symlink("nowhere", add_path(sc, "%s/dangling", sc->dir)))
		return -errno;
	add_path(sc, "%s/nowhere", sc->dir);
	add_path(sc, "%s/none/x.pfs", sc->dir);
	add_path(sc, "%s", sc->dir);
	if (mkfifo(add_path(sc, "%s/fifo", sc->dir), 0600))
		return -errno;
	sc->drainer = drain(sc->paths[sc->npaths - 1]);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", sc->dir);
	sc->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sc->sock < 0 || bind(sc->sock, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	add_path(sc, "%s", sa.sun_path);
	add_path(sc, "/dev/null");
	return 0;
}

static void scene_unmake(struct scene *sc)
{
	int i;

	if (sc->drainer > 0) {
		kill(sc->drainer, SIGKILL);
		waitpid(sc->drainer, NULL, 0);
	}
	if (sc->sock >= 0)
		close(sc->sock);
	for (i = 0; i < NDEVS && sc->h; i++) {
		if (!sc->dev[i].node[0])
			continue;
		pft_destroy_force(sc->h, sc->dev[i].index);
		free(sc->dev[i].mem);
		free(sc->dev[i].disk);
	}
	free(sc->streams);
	if (sc->bind[0]) {
		umount2(sc->bind, MNT_DETACH);
		rmdir(sc->bind);
	}
	if (sc->dir[0])
		pft_tmpfs_remove(sc->dir);
	pfnl_close(sc->h);
}

/* --- the checks ------------------------------------------------------- */

/*
 * Every device node is its block device; every backing path names its
 * device's inode, and the kernel says so; every device and backing file
 * holds what the model says; no temporary file is left, in the scene or
 * in /dev.  Returns NULL, or what is wrong (in a static buffer).
 */
static const char *check_scene(struct scene *sc)
{
	static char why[PATH_MAX + 128];
	struct dirent *de = NULL;
	struct pfnl_dev got;
	struct stat st;
	long long diff;
	DIR *dir;
	int i;

	for (i = 0; i < NDEVS; i++) {
		struct cdev *d = &sc->dev[i];

		if (lstat(d->node, &st) || !S_ISBLK(st.st_mode) ||
		    st.st_rdev != d->rdev)
			return snprintf(why, sizeof(why), "%s is not its block device any more",
					d->node), why;
		if (stat(d->file, &st) || (uint64_t)st.st_dev != d->bdev ||
		    (uint64_t)st.st_ino != d->bino)
			return snprintf(why, sizeof(why),
					"%s no longer names the backing file of %s",
					d->file, d->node), why;
		if (pft_get(sc->h, d->index, &got))
			return snprintf(why, sizeof(why), "%s is gone", d->node), why;
		if (strcmp(got.backing_path, d->file) ||
		    got.backing_dev != d->bdev || got.backing_ino != d->bino)
			return snprintf(why, sizeof(why), "the kernel says %s's backing file is %s",
					d->node, got.backing_path), why;
		if (got.state != (d->active ? PFLASH_STATE_ACTIVE :
					      PFLASH_STATE_INACTIVE) ||
		    got.epoch != d->epoch ||
		    got.flush_pending != d->flush_pending)
			return snprintf(why, sizeof(why),
					"%s: state %u epoch %llu flush-pending %d, the model says otherwise",
					d->node, got.state,
					(unsigned long long)got.epoch,
					got.flush_pending), why;
		diff = pft_dev_diff(d->index, d->mem, DEV_SIZE);
		if (diff != -1)
			return snprintf(why, sizeof(why), "%s differs from the model at %lld",
					d->node, diff), why;
		diff = pft_file_diff(d->file, d->disk, DEV_SIZE);
		if (diff != -1)
			return snprintf(why, sizeof(why), "%s differs from the model at %lld",
					d->file, diff), why;
	}
	dir = opendir(sc->dir);
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
		    strcmp(de->d_name, ".."))
			break;
	if (dir)
		closedir(dir);
	if (de)
		return snprintf(why, sizeof(why), "a temporary file is left: %s", de->d_name), why;
	dir = opendir("/dev");
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, ".pflash", 7))
			break;
	if (dir)
		closedir(dir);
	if (de)
		return snprintf(why, sizeof(why), "a temporary file is left in /dev: %s",
				de->d_name), why;
	return NULL;
}

/* --- the model of each command ----------------------------------------- */

static struct cdev *dev_at(struct scene *sc, unsigned int i)
{
	return &sc->dev[i % NDEVS];
}

/* After a successful writeback of @d: its file holds what it does. */
static void written_back(struct cdev *d)
{
	memcpy(d->disk, d->mem, DEV_SIZE);
}

/* The exit status a state change is expected to end with, as the model. */
static int model_set_state(struct cdev *d, bool activate)
{
	if (activate && !d->active) {
		d->active = true;
		d->epoch++;
		if (d->flush_pending)
			written_back(d);
		d->flush_pending = false;
	} else if (!activate && d->active) {
		written_back(d);
		d->active = false;
	}
	return 0;
}

/*
 * One step: a command, what the model expects of it (@want, the exit
 * status, -1 for "not 0"), and which path it may change (@changes).
 */
struct step {
	const char *argv[12];
	char arg[3][PATH_MAX];
	int in_fd;
	int out_fd;
	int want;
	char changes[PATH_MAX];	/* the file it writes, if it succeeds */
	struct sfile stream;	/* what it writes there */
};

/* export DEV -o PATH: as the tool's guards say. */
static void step_export(struct scene *sc, struct step *s, struct cdev *d,
			const char *path)
{
	char real[PATH_MAX];
	enum kind k = classify(sc, path, real);

	snprintf(s->arg[0], PATH_MAX, "%s", d->node);
	snprintf(s->arg[1], PATH_MAX, "%s", path);
	s->argv[0] = "pflashctl";
	s->argv[1] = "export";
	s->argv[2] = s->arg[0];
	s->argv[3] = "-o";
	s->argv[4] = s->arg[1];
	switch (k) {
	case K_NEW:
	case K_REG:
		s->want = 0;
		snprintf(s->changes, PATH_MAX, "%s", real);
		s->stream.kind = S_VALID;
		s->stream.epoch = d->epoch;
		memcpy(s->stream.data, d->mem, DEV_SIZE);
		break;
	case K_FIFO:
	case K_CHR:
		s->want = 0;
		break;
	default:
		s->want = 1;
		break;
	}
}

/*
 * export DEV >>PATH: standard output as a shell opens it, without
 * truncating; a path the shell cannot open is no step.  Returns false
 * then.
 */
static bool step_export_stdout(struct scene *sc, struct step *s,
			       struct cdev *d, const char *path)
{
	char real[PATH_MAX];
	enum kind k = classify(sc, path, real);
	struct stat st;

	if (k == K_FIFO || k == K_DIR || k == K_SOCK || k == K_NEW ||
	    k == K_NODIR || k == K_DANGLING)
		return false;
	s->out_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->out_fd < 0)
		return false;
	snprintf(s->arg[0], PATH_MAX, "%s", d->node);
	s->argv[0] = "pflashctl";
	s->argv[1] = "export";
	s->argv[2] = s->arg[0];
	s->want = k == K_REG || k == K_CHR ? 0 : 1;
	if (k == K_REG) {
		/* Appended: a stream only if the file was empty. */
		fstat(s->out_fd, &st);
		s->stream.kind = st.st_size ? S_JUNK : S_VALID;
		s->stream.epoch = d->epoch;
		memcpy(s->stream.data, d->mem, DEV_SIZE);
		snprintf(s->changes, PATH_MAX, "%s", real);
	}
	return true;
}

/* import DEV -i PATH, or <PATH: a valid stream into an inactive device. */
static bool step_import(struct scene *sc, struct step *s, struct cdev *d,
			const char *path, bool from_stdin)
{
	char real[PATH_MAX];
	enum kind k = classify(sc, path, real);
	struct sfile *f = k == K_REG ? stream_at(sc, path) : NULL;
	int n = 0;

	/* Reading a FIFO waits for a writer that never comes. */
	if (k == K_FIFO)
		return false;
	if (from_stdin) {
		s->in_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->in_fd < 0)
			return false;
	}
	snprintf(s->arg[0], PATH_MAX, "%s", d->node);
	snprintf(s->arg[1], PATH_MAX, "%s", path);
	s->argv[n++] = "pflashctl";
	s->argv[n++] = "import";
	s->argv[n++] = s->arg[0];
	if (!from_stdin) {
		s->argv[n++] = "-i";
		s->argv[n++] = s->arg[1];
	}
	s->want = 1;
	if (!d->active && f && f->kind == S_VALID && f->epoch >= d->epoch) {
		s->want = 0;
		memcpy(d->mem, f->data, DEV_SIZE);
		d->epoch = f->epoch;
		/* Owed even if nothing changed: then nothing is written. */
		d->flush_pending = true;
	}
	return true;
}

/*
 * create --backing PATH [--inactive] --show: a device made is destroyed
 * again right after.  Only a block device or a backing file of the scene
 * can be one (the lock of an active device's file, and the size, decide);
 * never a stream.
 */
static void step_create(struct scene *sc, struct step *s, const char *path,
			bool inactive)
{
	char real[PATH_MAX];
	enum kind k = classify(sc, path, real);
	int n = 0;

	snprintf(s->arg[0], PATH_MAX, "%s", path);
	s->argv[n++] = "pflashctl";
	s->argv[n++] = "create";
	s->argv[n++] = "--backing";
	s->argv[n++] = s->arg[0];
	s->argv[n++] = "--show";
	if (inactive)
		s->argv[n++] = "--inactive";
	s->want = k == K_BLK || k == K_BACKING ? -2 : 1;
}

/* activate, inactivate, flush [--full] DEV. */
static void step_owner(struct scene *sc, struct step *s, struct cdev *d,
		       unsigned int what)
{
	static const char *const cmds[] = {
		"activate", "inactivate", "flush", "flush",
	};
	int n = 0;

	snprintf(s->arg[0], PATH_MAX, "%s", d->node);
	s->argv[n++] = "pflashctl";
	s->argv[n++] = cmds[what];
	if (what == 3)
		s->argv[n++] = "--full";
	s->argv[n++] = s->arg[0];
	switch (what) {
	case 0:
	case 1:
		s->want = model_set_state(d, what == 0);
		break;
	case 2:
		if (d->active)
			written_back(d);
		s->want = 0;
		break;
	default:
		s->want = d->active ? 0 : 1;
		if (d->active)
			written_back(d);
		break;
	}
}

/* A path of the scene, at random. */
static const char *any_path(struct scene *sc)
{
	return sc->paths[pick(sc, sc->npaths)];
}

/* A path of the scene that names a file an export wrote, or NULL. */
static const char *a_stream_path(struct scene *sc)
{
	const char *found[NPATHS];
	int i, n = 0;

	for (i = 0; i < sc->npaths; i++)
		if (stream_at(sc, sc->paths[i]))
			found[n++] = sc->paths[i];
	return n ? found[pick(sc, n)] : NULL;
}

/* Write a block of an active device, as its user would. */
static const char *write_some(struct scene *sc, struct cdev *d)
{
	static char why[128];
	unsigned int blk = pick(sc, DEV_SIZE / BLOCK);
	uint8_t *buf = pft_alloc(BLOCK);
	int fd, ret;

	fd = open(d->node, O_RDWR | O_DIRECT |
		  (d->writeback ? 0 : O_SYNC));
	if (!d->active) {
		free(buf);
		if (fd >= 0 || errno != EROFS) {
			if (fd >= 0)
				close(fd);
			return snprintf(why, sizeof(why), "%s opened for writing while inactive",
					d->node), why;
		}
		return NULL;
	}
	if (fd < 0) {
		free(buf);
		return snprintf(why, sizeof(why), "%s: cannot open: %s",
				d->node, strerror(errno)), why;
	}
	pft_pattern(buf, BLOCK, (uint64_t)blk * BLOCK, (uint32_t)rnd(sc));
	ret = pft_pwrite_full(fd, buf, BLOCK, (off_t)blk * BLOCK);
	close(fd);
	if (!ret) {
		memcpy(d->mem + blk * BLOCK, buf, BLOCK);
		if (!d->writeback)
			memcpy(d->disk + blk * BLOCK, buf, BLOCK);
	}
	free(buf);
	if (!ret)
		return NULL;
	return snprintf(why, sizeof(why), "%s: write: %s", d->node,
			strerror(-ret)), why;
}

/* Destroy device @d, then create it again from its file, as pflashtab. */
static const char *recreate(struct scene *sc, struct cdev *d)
{
	static char why[sizeof(((struct scene *)0)->cmdline) + 4096 + 8];
	char index[16];
	const char *const destroy[] = { "pflashctl", "destroy", d->node, NULL };
	const char *argv[12] = {
		"pflashctl", "create", "--backing", d->file, "--index", index,
	};
	struct run r;
	int n = 6;

	if (run_ctl(sc, &r, -1, -1, destroy) || r.status)
		return snprintf(why, sizeof(why), "%s: %s", sc->cmdline, r.err), why;
	if (d->active)
		written_back(d);
	snprintf(index, sizeof(index), "%u", d->index);
	if (d->writeback) {
		argv[n++] = "--cache";
		argv[n++] = "writeback";
		argv[n++] = "--writeback-interval";
		argv[n++] = "0";
	}
	if (!d->active)
		argv[n++] = "--inactive";
	if (run_ctl(sc, &r, -1, -1, argv) || r.status)
		return snprintf(why, sizeof(why), "%s: %s", sc->cmdline, r.err), why;
	memcpy(d->mem, d->disk, DEV_SIZE);
	d->epoch = 0;
	d->flush_pending = false;
	return NULL;
}

/*
 * The pflash device a create made, from what --show printed, destroyed
 * again; NULL, or what went wrong.
 */
static const char *undo_create(struct scene *sc, const struct run *r)
{
	static char why[PFNL_MSG_MAX + 1024 + 64];
	unsigned int index;

	if (sscanf(r->out, "/dev/pflash%u", &index) != 1)
		return snprintf(why, sizeof(why), "create printed no device: %s", r->out), why;
	if (pft_destroy(sc->h, index))
		return snprintf(why, sizeof(why),
				"the device create made could not be destroyed: %s",
				pfnl_last_ack(sc->h)->msg), why;
	return NULL;
}

/* Room for what went wrong: a command line, its error, a path. */
#define WHY_MAX (sizeof(((struct scene *)0)->cmdline) + \
		 sizeof(((struct run *)0)->err) + PATH_MAX + 256)

/*
 * Make @s the pflashctl command of a step of kind @what on device @d and
 * path *@path, drawing what else it needs (an import may draw another
 * device, and a stream file for *@path).  Returns false for a step that no shell
 * would run: it is drawn, not run.
 */
static bool careless_command(struct scene *sc, struct step *s,
			     unsigned int what, struct cdev *d,
			     const char **path)
{
	char real[PATH_MAX];
	const char *stream;
	int i;

	switch (what) {
	case STEP_EXPORT:
		step_export(sc, s, d, *path);
		return true;
	case STEP_EXPORT_STDOUT:
		return step_export_stdout(sc, s, d, *path);
	case STEP_IMPORT:
	case STEP_IMPORT_STDIN:
		/*
		 * Mostly into an inactive device, the incoming side, and
		 * half the time from a file an export wrote.
		 */
		for (i = 0; i < NDEVS && d->active && pick(sc, 4); i++)
			d = dev_at(sc, pick(sc, NDEVS));
		stream = pick(sc, 2) ? a_stream_path(sc) : NULL;
		if (stream)
			*path = stream;
		return step_import(sc, s, d, *path,
				   what == STEP_IMPORT_STDIN);
	case STEP_CREATE:
		if (classify(sc, *path, real) == K_FIFO)
			return false;
		step_create(sc, s, *path, pick(sc, 2));
		return true;
	case STEP_OWNER:
		step_owner(sc, s, d, pick(sc, 4));
		return true;
	default:	/* STEP_INSPECT */
		if (classify(sc, *path, real) == K_FIFO)
			return false;
		snprintf(s->arg[0], PATH_MAX, "%s", *path);
		s->argv[0] = "pflashctl";
		s->argv[1] = "inspect";
		s->argv[2] = s->arg[0];
		s->want = classify(sc, *path, real) == K_REG &&
			  stream_at(sc, *path) &&
			  stream_at(sc, *path)->kind == S_VALID ? 0 : 1;
		return true;
	}
}

/*
 * After @s ran as @r: every path of the scene is as it was (@before) but
 * the file it wrote, by any of its names, and the backing files, which
 * check_scene() checks against the model.  NULL, or what went wrong.
 */
static const char *careless_others_unchanged(struct scene *sc,
					     struct step *s,
					     const struct run *r,
					     const struct snap *before)
{
	static char why[WHY_MAX];
	struct stat st, changed;
	char real[PATH_MAX];
	struct snap after;
	int i;

	if (!r->status && s->changes[0]) {
		if (stat(s->changes, &changed) ||
		    stream_record(sc, s->changes, &s->stream))
			return snprintf(why, sizeof(why), "%s: %s is not there",
					sc->cmdline, s->changes), why;
	}
	for (i = 0; i < sc->npaths; i++) {
		take_snap(sc->paths[i], &after);
		/* The file it wrote, by any of its names. */
		if (!r->status && s->changes[0] && !stat(sc->paths[i], &st) &&
		    st.st_dev == changed.st_dev && st.st_ino == changed.st_ino)
			continue;
		/* Backing files change, as the model says (checked below). */
		if (before[i].exists && S_ISREG(before[i].mode) &&
		    after.exists && after.ino == before[i].ino &&
		    classify(sc, sc->paths[i], real) == K_BACKING)
			continue;
		if (memcmp(&before[i], &after, sizeof(after)))
			return snprintf(why, sizeof(why), "%s changed %s",
					sc->cmdline, sc->paths[i]), why;
	}
	return NULL;
}

/*
 * Run the command of step @s, of kind @what on @path: its exit status is
 * the model's, a failure says why, and nothing else changed.  NULL, or
 * what went wrong.
 */
static const char *careless_run(struct scene *sc, struct step *s,
				unsigned int what, const char *path,
				const struct snap *before)
{
	static char why[WHY_MAX];
	char real[PATH_MAX];
	const char *bad;
	struct run r;

	if (run_ctl(sc, &r, s->in_fd, s->out_fd, s->argv))
		return "pflashctl could not run";
	if (s->in_fd >= 0)
		close(s->in_fd);
	if (s->out_fd >= 0)
		close(s->out_fd);
	if (r.status < 0 || r.status == 127)
		return snprintf(why, sizeof(why), "%s: did not exit", sc->cmdline), why;
	if ((s->want >= 0 && r.status != s->want) ||
	    (s->want == -1 && !r.status))
		return snprintf(why, sizeof(why),
				"%s (%s: %s): exit status %d, the model expects %d: %s",
				sc->cmdline, path,
				kind_names[classify(sc, path, real)], r.status,
				s->want, r.err), why;
	if (r.status && !r.err[0])
		return snprintf(why, sizeof(why), "%s: failed without a word", sc->cmdline), why;
	sc->ran[what]++;
	sc->succeeded[what] += !r.status;
	if (what == STEP_CREATE && !r.status) {
		bad = undo_create(sc, &r);
		if (bad)
			return bad;
	}
	return careless_others_unchanged(sc, s, &r, before);
}

/*
 * Draw a step, run it, and check what it did and the scene after it.
 * Returns NULL, or what went wrong.
 */
static const char *careless_step(struct scene *sc)
{
	static char why[WHY_MAX];
	static struct step s;
	struct snap before[NPATHS];
	/* Drawn in this order: a seed replays the same steps. */
	struct cdev *d = dev_at(sc, pick(sc, NDEVS));
	const char *path = any_path(sc), *bad;
	unsigned int what = step_draws[pick(sc, ARRAY_SIZE(step_draws))];
	int i;

	memset(&s, 0, sizeof(s));
	s.in_fd = -1;
	s.out_fd = -1;
	sc->drawn[what]++;
	for (i = 0; i < sc->npaths; i++)
		take_snap(sc->paths[i], &before[i]);
	switch (what) {
	case STEP_WRITE:
		snprintf(sc->cmdline, sizeof(sc->cmdline), "write %s", d->node);
		bad = write_some(sc, d);
		if (bad)
			return bad;
		sc->ran[what]++;
		sc->succeeded[what] += d->active;
		break;
	case STEP_RECREATE:
		snprintf(sc->cmdline, sizeof(sc->cmdline), "recreate %s",
			 d->node);
		bad = recreate(sc, d);
		if (bad)
			return bad;
		sc->ran[what]++;
		sc->succeeded[what]++;
		break;
	default:
		if (!careless_command(sc, &s, what, d, &path))
			return NULL;
		bad = careless_run(sc, &s, what, path, before);
		if (bad)
			return bad;
		break;
	}
	bad = check_scene(sc);
	if (bad)
		return snprintf(why, sizeof(why), "after %s: %s", sc->cmdline, bad), why;
	return NULL;
}

/* --- the tests -------------------------------------------------------- */

FIXTURE(scene) {
	struct scene sc;
};

FIXTURE_SETUP(scene)
{
	ASSERT_EQ(0, scene_make(&self->sc));
	ASSERT_EQ(NULL, check_scene(&self->sc));
}

FIXTURE_TEARDOWN(scene)
{
	scene_unmake(&self->sc);
}

/* Run export @dev -o @path: refused with a message that says @says. */
static void export_refused(struct __test_metadata *_metadata,
			   struct scene *sc, struct cdev *d,
			   const char *path, const char *says)
{
	struct snap before[NPATHS], after;
	struct step s = { .in_fd = -1, .out_fd = -1 };
	struct run r;
	int i;

	for (i = 0; i < sc->npaths; i++)
		take_snap(sc->paths[i], &before[i]);
	step_export(sc, &s, d, path);
	ASSERT_EQ(0, run_ctl(sc, &r, -1, -1, s.argv));
	EXPECT_EQ(1, r.status) TH_LOG("%s: %s", sc->cmdline, r.err);
	EXPECT_NE(NULL, strstr(r.err, says))
		TH_LOG("%s: %s", sc->cmdline, r.err);
	for (i = 0; i < sc->npaths; i++) {
		take_snap(sc->paths[i], &after);
		EXPECT_EQ(0, memcmp(&before[i], &after, sizeof(after)))
			TH_LOG("%s changed %s", sc->cmdline, sc->paths[i]);
	}
	EXPECT_EQ(NULL, check_scene(sc));
}

/*
 * The first sequence of the issue: the stream meant for another device,
 * written over its node.  Refused, pointing at import; the node is the
 * same block device, the device and its file hold what they held.
 */
TEST_F_TIMEOUT(scene, export_onto_a_device_node_is_refused, 300)
{
	struct scene *sc = &self->sc;
	int i;

	for (i = 0; i < NDEVS; i++)
		export_refused(_metadata, sc, &sc->dev[0], sc->dev[i].node,
			       "is a block device, which the stream would overwrite; to load the stream into a pflash device, import it");
}

/*
 * The second: the stream written over the exporter's own backing file, or
 * another device's, by any of its names, active or inactive.  Refused;
 * the file is the same inode, with the same contents, and the device
 * still activates, and is created again from it.
 */
TEST_F_TIMEOUT(scene, export_onto_a_backing_file_is_refused, 300)
{
	struct scene *sc = &self->sc;
	char says[PATH_MAX + 64], path[PATH_MAX];
	static const char *const names[] = {
		"a.fd", "a.link", "b.fd", "b.sym", "c.fd",
	};
	const unsigned int owner[] = { 0, 0, 1, 1, 2 };
	unsigned int i, from, state;

	for (state = 0; state < 2; state++) {
		for (i = 0; i < ARRAY_SIZE(names); i++) {
			struct cdev *o = &sc->dev[owner[i]];

			snprintf(says, sizeof(says),
				 "is the backing file of %s, which the stream would replace",
				 o->node);
			for (from = 0; from < NDEVS; from++) {
				snprintf(path, sizeof(path), "%s/%s", sc->dir,
					 names[i]);
				export_refused(_metadata, sc, &sc->dev[from],
					       path, says);
				snprintf(path, sizeof(path), "%s/%s", sc->bind,
					 names[i]);
				export_refused(_metadata, sc, &sc->dev[from],
					       path, says);
			}
		}
		/* Then with the first two inactive, and the third active. */
		for (i = 0; i < NDEVS; i++) {
			struct step s = {};
			struct run r;

			step_owner(sc, &s, &sc->dev[i], sc->dev[i].active);
			ASSERT_EQ(0, run_ctl(sc, &r, -1, -1, s.argv));
			ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
		}
	}
	for (i = 0; i < NDEVS; i++)
		ASSERT_EQ(NULL, recreate(sc, &sc->dev[i]));
	EXPECT_EQ(NULL, check_scene(sc));
}

/* Standard output that the shell opened on a store: refused too. */
TEST_F_TIMEOUT(scene, export_to_standard_output_on_a_store_is_refused, 300)
{
	struct scene *sc = &self->sc;
	const char *const paths[] = { sc->dev[0].file, sc->dev[1].node,
				      sc->dev[0].node };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		struct step s = { .in_fd = -1, .out_fd = -1 };
		struct run r;

		ASSERT_TRUE(step_export_stdout(sc, &s, &sc->dev[2], paths[i]));
		ASSERT_EQ(0, run_ctl(sc, &r, -1, s.out_fd, s.argv));
		close(s.out_fd);
		EXPECT_EQ(1, r.status) TH_LOG("%s: %s", paths[i], r.err);
		EXPECT_NE(NULL, strstr(r.err, "standard output is"))
			TH_LOG("%s", r.err);
		EXPECT_EQ(NULL, check_scene(sc));
	}
}

/* A FIFO and /dev/null are sinks: written into, and still what they were. */
TEST_F_TIMEOUT(scene, export_into_a_fifo_or_dev_null, 300)
{
	struct scene *sc = &self->sc;
	char fifo[PATH_MAX];
	struct step s = {};
	struct run r;
	struct stat st;

	snprintf(fifo, sizeof(fifo), "%s/fifo", sc->dir);
	step_export(sc, &s, &sc->dev[2], fifo);
	ASSERT_EQ(0, run_ctl(sc, &r, -1, -1, s.argv));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, lstat(fifo, &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	step_export(sc, &s, &sc->dev[2], "/dev/null");
	ASSERT_EQ(0, run_ctl(sc, &r, -1, -1, s.argv));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, lstat("/dev/null", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(NULL, check_scene(sc));
}

/* The careless operator, step after step. */
TEST_F_TIMEOUT(scene, a_careless_operator_destroys_nothing, 1100)
{
	struct scene *sc = &self->sc;
	uint64_t seed = pft_seed("PFLASH_CARELESS_SEED");
	uint64_t steps = pft_env_u64("PFLASH_CARELESS_STEPS",
				     pft_debug_kernel() ? STEPS_DEBUG :
							  STEPS_DEFAULT);
	struct timespec start, end;
	const char *bad;
	char says[160];
	uint64_t i;

	clock_gettime(CLOCK_MONOTONIC, &start);
	sc->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	/* Formatted apart: TH_LOG()'s format cannot sit alone on a line. */
	snprintf(says, sizeof(says),
		 "seed %llu (PFLASH_CARELESS_SEED=%llu runs it again), %llu steps (PFLASH_CARELESS_STEPS)",
		 (unsigned long long)seed, (unsigned long long)seed,
		 (unsigned long long)steps);
	TH_LOG("%s", says);
	for (i = 0; i < steps; i++) {
		bad = careless_step(sc);
		ASSERT_EQ(NULL, bad)
			TH_LOG("step %llu of seed %llu: %s",
			       (unsigned long long)i, (unsigned long long)seed,
			       bad);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	TH_LOG("%llu steps in %ld s", (unsigned long long)steps,
	       (long)(end.tv_sec - start.tv_sec));
	/* What was drawn, run (not a path no shell opens), and done. */
	for (i = 0; i < NKINDS; i++)
		TH_LOG("%s: %u drawn, %u run, %u succeeded", step_names[i],
		       sc->drawn[i], sc->ran[i], sc->succeeded[i]);
}

TEST_HARNESS_MAIN
