// SPDX-License-Identifier: GPL-2.0
/*
 * Activation after an import leaves every byte of the backing file equal
 * to the device, whatever happened to the file while no device owned it.
 *
 * A source device writes, inactivates and exports its final state; a
 * target, created inactive over its own file (separate storage) or over
 * the source's (shared storage), imports it and activates.  Before the
 * import, or after it, the target's file is changed: bytes edited at
 * random places, the file cut short, extended, restored from an old copy,
 * written through a shared mapping, or written by another pflash device.
 * After the activation, the target's device and its file are compared,
 * byte for byte and in size.  Every test runs in both cache modes, with
 * and without shared storage, on tmpfs (whose change attribute pflash does
 * not trust: the whole device is written) and on ext4 (whose attribute
 * proves an untouched file equal, so that less is written).
 *
 * random_moves: moves, failed moves, rollbacks, destroys and re-creates of
 * devices over shared and separate files, and changes to the files while
 * no device owns them, at random, each step checked by bytes.  Its seed is
 * printed; PFLASH_MOVES_SEED=N replays one, PFLASH_MOVES_STEPS=N sets the
 * number of steps (300, 100 on the debug kernel, whose checks make each
 * step about five times slower).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "pft_stream.h"

#define SIZE		(256 * 1024)
#define CHUNK		PFLASH_STREAM_CHUNK_MAX
/*
 * The disk of the ext4 file systems: room for a few files of SIZE, and one
 * of BIG_SIZE, beside the 4 MiB journal mkfs.ext4 gives a disk this small.
 */
#define EXT4_DISK	(16 << 20)

/* A small, fixed generator: a test's changes are the same every run. */
static uint64_t rnd_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t rnd_below(uint64_t *x, uint64_t n)
{
	return rnd_next(x) % n;
}

/*
 * A scratch file system at @dir: tmpfs, or ext4 on a new pflash device.
 * The ext4 one is made whole by mkfs: left to itself, ext4 zeroes a lazily
 * made inode table in a kernel thread up to 5 s after the mount (a random
 * delay), about 2040 sectors of writes (measured on a 16 MiB one) that
 * land in whatever a test counts.
 */
struct scratch {
	char dir[64];
	bool ext4;
	struct pfnl_dev disk;
};

static int scratch_mount(struct pfnl *h, struct scratch *sc, bool ext4)
{
	char path[32], cmd[128];

	sc->ext4 = ext4;
	if (!ext4)
		return pft_tmpfs(sc->dir, sizeof(sc->dir), "16m");
	if (pft_create_simple(h, EXT4_DISK, 4096, 4096, &sc->disk))
		return -EIO;
	pft_path(path, sizeof(path), sc->disk.index);
	snprintf(cmd, sizeof(cmd),
		 "mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 %s >/dev/null 2>&1",
		 path);
	snprintf(sc->dir, sizeof(sc->dir), "/tmp/pft-XXXXXX");
	if (system(cmd) || !mkdtemp(sc->dir))
		return -EIO;
	if (mount(path, sc->dir, "ext4", 0, NULL)) {
		rmdir(sc->dir);
		return -errno;
	}
	return pft_iostats_set(sc->disk.index, true);
}

static void scratch_unmount(struct pfnl *h, struct scratch *sc)
{
	if (!sc->ext4) {
		pft_tmpfs_remove(sc->dir);
		return;
	}
	if (sc->dir[0] == '/') {
		umount(sc->dir);
		rmdir(sc->dir);
	}
	if (sc->disk.attrs)
		pft_destroy(h, sc->disk.index);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Whether the file at @path is @len bytes that equal @expect. */
static bool file_is(const char *path, const uint8_t *expect, size_t len)
{
	return file_size(path) == (long long)len &&
	       pft_file_diff(path, expect, len) == -1;
}

/* Create a device over @path in @state and cache mode @cache. */
static int make_dev_sized(struct pfnl *h, const char *path, uint64_t size,
			  uint32_t state, uint32_t cache, struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	if (size)
		pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, size);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE, state);
	return pft_create_in_mode(h, path, &req, cache, out);
}

/* A device of @path's size, in @state and @cache mode. */
static int make_dev(struct pfnl *h, const char *path, uint32_t state,
		    uint32_t cache, struct pfnl_dev *out)
{
	return make_dev_sized(h, path, 0, state, cache, out);
}

/* Write @len bytes of pattern @seed at @off of device @index (direct). */
static int dev_write(uint32_t index, uint8_t *shadow, uint64_t off,
		     size_t len, uint32_t seed)
{
	int fd = pft_open(index, O_RDWR | O_DIRECT), ret;

	if (fd < 0)
		return -errno;
	ret = pft_write_pattern(fd, shadow, off, len, seed, false);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The ways the tests change a file that no device owns.  Each keeps to
 * the file's first SIZE bytes, or its length, and is fixed by @seed.
 */
enum change {
	CHANGE_NONE,
	CHANGE_EDIT,		/* bytes at random places */
	CHANGE_TRUNCATE,	/* cut short */
	CHANGE_EXTEND,		/* bytes appended */
	CHANGE_RESTORE,		/* an old copy written over it */
	CHANGE_MMAP,		/* stores through a shared mapping */
	CHANGE_DEVICE,		/* another pflash device writes it */
	CHANGE_KINDS,
};

static const char *const change_names[CHANGE_KINDS] = {
	"none", "edit", "truncate", "extend", "restore", "mmap", "device",
};

static int change_edit(int fd, uint64_t *x)
{
	uint8_t buf[4096];
	int i, ret = 0;

	for (i = 0; !ret && i < 6; i++) {
		size_t len = 1 + rnd_below(x, sizeof(buf));
		off_t off = rnd_below(x, SIZE - len + 1);

		pft_pattern(buf, len, off, rnd_next(x));
		ret = pft_pwrite_full(fd, buf, len, off);
	}
	return ret;
}

/*
 * Add @add to the byte at @p of a shared mapping: a load of it, then a
 * store, each made as written, which the compiler may not leave out.
 */
static void map_add(uint8_t *p, uint8_t add)
{
	uint8_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

	__atomic_store_n(p, (uint8_t)(v + add), __ATOMIC_RELAXED);
}

/* Stores into the file's first SIZE bytes, or as many as it has. */
static int change_mmap(int fd, uint64_t *x)
{
	struct stat st;
	size_t len;
	uint8_t *map;
	int i;

	if (fstat(fd, &st))
		return -errno;
	len = st.st_size < SIZE ? st.st_size : SIZE;
	if (!len)
		return 0;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	for (i = 0; i < 16; i++) {
		size_t off = rnd_below(x, len);

		/* A read first: it maps the page before the store. */
		map_add(map + off, 1 + rnd_below(x, 255));
	}
	i = msync(map, len, MS_SYNC) ? -errno : 0;
	munmap(map, len);
	return i;
}

/*
 * Another device on @path, in cache mode @cache, writes it, then goes:
 * the file must have no owner.
 */
static int change_device(struct pfnl *h, const char *path, uint32_t cache,
			 uint64_t *x)
{
	struct pfnl_dev other = {};
	uint8_t *shadow = pft_alloc(SIZE);
	int ret;

	if (!shadow)
		return -ENOMEM;
	ret = make_dev(h, path, PFLASH_STATE_ACTIVE, cache, &other);
	if (!ret)
		ret = dev_write(other.index, shadow,
				rnd_below(x, SIZE / 4096 - 4) * 4096, 12288,
				rnd_next(x));
	if (other.attrs && pft_destroy(h, other.index))
		ret = ret ?: -EIO;
	free(shadow);
	return ret;
}

/* Change @path in the way @kind says, with the pattern of @seed. */
static int change(struct pfnl *h, const char *path, enum change kind,
		  uint32_t cache, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + kind + 1;
	uint8_t buf[8192];
	uint8_t *old;
	int fd, ret = 0;

	if (kind == CHANGE_NONE)
		return 0;
	if (kind == CHANGE_DEVICE)
		return change_device(h, path, cache, &x);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	switch (kind) {
	case CHANGE_EDIT:
		ret = change_edit(fd, &x);
		break;
	case CHANGE_TRUNCATE:
		ret = ftruncate(fd, rnd_below(&x, SIZE)) ? -errno : 0;
		break;
	case CHANGE_EXTEND:
		pft_pattern(buf, sizeof(buf), SIZE, rnd_next(&x));
		ret = pft_pwrite_full(fd, buf, 1 + rnd_below(&x, sizeof(buf)),
				      file_size(path));
		break;
	case CHANGE_RESTORE:
		/* A backup, of other contents: written over the whole file. */
		old = malloc(SIZE);
		if (!old) {
			ret = -ENOMEM;
			break;
		}
		pft_pattern(old, SIZE, 0, 100 + rnd_below(&x, 100));
		ret = ftruncate(fd, 0) ? -errno :
		      pft_pwrite_full(fd, old, SIZE, 0);
		free(old);
		break;
	case CHANGE_MMAP:
		ret = change_mmap(fd, &x);
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(act) {
	struct pfnl *h;
	struct scratch sc;
	struct pfnl_dev src, dst;
	char file_a[96];	/* the source's */
	/*
	 * The target's own, for separate storage: a copy of the source's,
	 * as an earlier move would leave it.
	 */
	char file_b[96];
	const char *target;	/* the target's file: one of the two */
	uint8_t *shadow;	/* the source's contents */
	struct pft_stream s;
};

FIXTURE_VARIANT(act) {
	uint32_t cache;
	bool shared;
	bool ext4;
};

/* The fixture's types, for the helpers that take them. */
#define ACT_SELF	FIXTURE_DATA(act)
#define ACT_VARIANT	FIXTURE_VARIANT(act)

FIXTURE_VARIANT_ADD(act, tmpfs_writethrough_separate) {
	.cache = PFLASH_CACHE_MODE_WRITETHROUGH,
	.shared = false,
	.ext4 = false,
};

FIXTURE_VARIANT_ADD(act, tmpfs_writethrough_shared) {
	.cache = PFLASH_CACHE_MODE_WRITETHROUGH,
	.shared = true,
	.ext4 = false,
};

FIXTURE_VARIANT_ADD(act, tmpfs_writeback_separate) {
	.cache = PFLASH_CACHE_MODE_WRITEBACK,
	.shared = false,
	.ext4 = false,
};

FIXTURE_VARIANT_ADD(act, tmpfs_writeback_shared) {
	.cache = PFLASH_CACHE_MODE_WRITEBACK,
	.shared = true,
	.ext4 = false,
};

FIXTURE_VARIANT_ADD(act, ext4_writethrough_separate) {
	.cache = PFLASH_CACHE_MODE_WRITETHROUGH,
	.shared = false,
	.ext4 = true,
};

FIXTURE_VARIANT_ADD(act, ext4_writethrough_shared) {
	.cache = PFLASH_CACHE_MODE_WRITETHROUGH,
	.shared = true,
	.ext4 = true,
};

FIXTURE_VARIANT_ADD(act, ext4_writeback_separate) {
	.cache = PFLASH_CACHE_MODE_WRITEBACK,
	.shared = false,
	.ext4 = true,
};

FIXTURE_VARIANT_ADD(act, ext4_writeback_shared) {
	.cache = PFLASH_CACHE_MODE_WRITEBACK,
	.shared = true,
	.ext4 = true,
};

FIXTURE_SETUP(act)
{
	ASSERT_EQ(0, pfnl_open(&self->h));
	ASSERT_EQ(0, scratch_mount(self->h, &self->sc, variant->ext4));
	snprintf(self->file_a, sizeof(self->file_a), "%s/a.fd", self->sc.dir);
	snprintf(self->file_b, sizeof(self->file_b), "%s/b.fd", self->sc.dir);
	ASSERT_EQ(0, pft_mkfile(self->file_a, SIZE, 1));
	ASSERT_EQ(0, pft_mkfile(self->file_b, SIZE, 1));
	/* On disk: a later fsync of the file writes only what changed. */
	sync();
	self->target = variant->shared ? self->file_a : self->file_b;
	self->shadow = pft_slurp(self->file_a, SIZE);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_EQ(0, make_dev(self->h, self->file_a, PFLASH_STATE_ACTIVE,
			      variant->cache, &self->src));
	ASSERT_EQ(0, make_dev(self->h, self->target, PFLASH_STATE_INACTIVE,
			      variant->cache, &self->dst));
}

FIXTURE_TEARDOWN(act)
{
	if (self->dst.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->dst.index));
	if (self->src.attrs)
		EXPECT_EQ(0, pft_destroy(self->h, self->src.index));
	scratch_unmount(self->h, &self->sc);
	pft_stream_free(&self->s);
	free(self->shadow);
	pfnl_close(self->h);
}

/*
 * The move: the source writes (what the target's file lacks), inactivates
 * and exports; the target imports and activates; the target's file is
 * changed in the way @kind says before the import, or @after it.  Then
 * the target's device and file must both hold the source's contents, the
 * file no more.
 */
static void move_with_change(struct __test_metadata *_metadata,
			     ACT_SELF *self,
			     const ACT_VARIANT *variant,
			     enum change kind, bool after)
{
	uint32_t cache = variant->cache;
	struct pfnl_dev got = {};
	long long mtime, written;

	ASSERT_EQ(0, dev_write(self->src.index, self->shadow, 0, 20480, 3));
	ASSERT_EQ(0, dev_write(self->src.index, self->shadow, 131072, 8192, 4));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, pft_export(self->h, self->src.index, &self->s));
	if (!after)
		ASSERT_EQ(0, change(self->h, self->target, kind, cache, 7));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	ASSERT_TRUE(got.flush_pending);
	if (after)
		ASSERT_EQ(0, change(self->h, self->target, kind, cache, 7));

	mtime = pft_mtime(self->target);
	/* A write after this moves the file's time stamp. */
	pft_past_mtime(mtime);
	/*
	 * What the file system still had to write (the change, the import's
	 * files) goes down now, not while the activation is counted: on a
	 * slow kernel its writeback landed there (1072 sectors, debug).
	 */
	sync();
	written = pft_sectors_written(self->sc.disk.index);
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_FALSE(got.flush_pending);
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, self->shadow, SIZE));
	EXPECT_EQ(SIZE, file_size(self->target));
	EXPECT_EQ(-1, pft_file_diff(self->target, self->shadow, SIZE));
	if (kind != CHANGE_NONE)
		return;

	/*
	 * An untouched file: on ext4, its change attribute proves it equal
	 * to the source's contents (shared storage: nothing is written), or
	 * to the target's own but for what the import changed (separate
	 * storage: less than the device); tmpfs proves nothing, and the
	 * whole device is written.
	 */
	if (variant->ext4 && variant->shared)
		EXPECT_EQ(mtime, pft_mtime(self->target));
	if (variant->ext4)
		EXPECT_GT(SIZE / 512, pft_sectors_written(self->sc.disk.index) -
				      written);
	if (!variant->ext4)
		EXPECT_NE(mtime, pft_mtime(self->target));
}

TEST_F(act, untouched_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_NONE, false);
}

TEST_F(act, untouched_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_NONE, true);
}

TEST_F(act, edited_at_random_places_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_EDIT, false);
}

TEST_F(act, edited_at_random_places_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_EDIT, true);
}

TEST_F(act, truncated_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_TRUNCATE, false);
}

TEST_F(act, truncated_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_TRUNCATE, true);
}

TEST_F(act, extended_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_EXTEND, false);
}

TEST_F(act, extended_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_EXTEND, true);
}

TEST_F(act, restored_from_a_backup_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_RESTORE, false);
}

TEST_F(act, restored_from_a_backup_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_RESTORE, true);
}

TEST_F(act, written_through_a_shared_mapping_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_MMAP, false);
}

TEST_F(act, written_through_a_shared_mapping_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_MMAP, true);
}

TEST_F(act, written_by_another_pflash_device_before_import)
{
	move_with_change(_metadata, self, variant, CHANGE_DEVICE, false);
}

TEST_F(act, written_by_another_pflash_device_after_import)
{
	move_with_change(_metadata, self, variant, CHANGE_DEVICE, true);
}

/*
 * The scratch ext4 writes nothing of its own accord once mounted: what a
 * test counts on its disk is what the test did.  It is watched for 7 s,
 * longer than the 5 s within which ext4 would start to zero an inode
 * table that mkfs had left to it.
 */
TEST(scratch_ext4_writes_nothing_by_itself)
{
	struct scratch sc = {};
	struct pfnl *h;
	long long written;

	ASSERT_EQ(0, pfnl_open(&h));
	ASSERT_EQ(0, scratch_mount(h, &sc, true));
	sync();
	written = pft_sectors_written(sc.disk.index);
	sleep(7);
	EXPECT_EQ(written, pft_sectors_written(sc.disk.index));
	scratch_unmount(h, &sc);
	pfnl_close(h);
}

/*
 * An activation with no import owed takes the file as it is: what an edit
 * made while the device did not own it is what the device then holds; a
 * file cut short meanwhile is refused (ENODATA), the device still inactive.
 */
TEST_F(act, activation_without_an_import_takes_the_file)
{
	struct pfnl_dev got = {};
	uint8_t *now;

	ASSERT_EQ(0, dev_write(self->src.index, self->shadow, 0, 8192, 3));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, change(self->h, self->file_a, CHANGE_EDIT, variant->cache,
			    9));
	now = pft_slurp(self->file_a, SIZE);
	ASSERT_NE(NULL, now);
	ASSERT_NE(-1, pft_dev_diff(self->src.index, now, SIZE));
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, -1, NULL));
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, now, SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->file_a, now, SIZE));

	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, change(self->h, self->file_a, CHANGE_TRUNCATE,
			    variant->cache, 10));
	EXPECT_EQ(-ENODATA, pft_activate(self->h, self->src.index, -1, NULL));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg,
			       "shorter than the device"));
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &got));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, got.state);
	/* As it was, and the file's lock given back. */
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, now, SIZE));
	EXPECT_EQ(0, pft_locked(self->file_a));
	free(now);
}

/*
 * A file that changed while its device was inactive is not taken under a
 * holder (a mounted file system, left there by a forced inactivation),
 * which would see the contents change under what it cached, nor under a
 * shared writable mapping, whose stores to the old contents could be
 * written back over the new: EBUSY, the device inactive and as it was.
 * Released, the device takes the file.  An unchanged file is no reason to
 * refuse.
 */
static void changed_file_refused_while_held(struct __test_metadata *_metadata,
					    ACT_SELF *self,
					    const ACT_VARIANT *variant,
					    bool mapped)
{
	struct pfnl_dev got = {};
	void *map = MAP_FAILED;
	char path[32];
	uint8_t *now;
	int fd;

	pft_path(path, sizeof(path), self->src.index);
	fd = open(path, mapped ? O_RDWR : O_RDONLY | O_EXCL);
	ASSERT_LE(0, fd);
	if (mapped) {
		map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   0);
		ASSERT_NE(MAP_FAILED, map);
	}
	EXPECT_EQ(-EBUSY, pft_inactivate(self->h, self->src.index, false,
					 NULL));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, true, NULL));
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, -1, NULL));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, true, NULL));

	ASSERT_EQ(0, change(self->h, self->file_a, CHANGE_EDIT, variant->cache,
			    12));
	now = pft_slurp(self->file_a, SIZE);
	ASSERT_NE(NULL, now);
	EXPECT_EQ(-EBUSY, pft_activate(self->h, self->src.index, -1, NULL));
	EXPECT_NE(NULL, strstr(pfnl_last_ack(self->h)->msg,
			       "changed while the device was inactive"));
	ASSERT_EQ(0, pft_get(self->h, self->src.index, &got));
	EXPECT_EQ(PFLASH_STATE_INACTIVE, got.state);
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, self->shadow, SIZE));
	EXPECT_EQ(0, pft_locked(self->file_a));

	if (mapped)
		munmap(map, SIZE);
	close(fd);
	ASSERT_EQ(0, pft_activate(self->h, self->src.index, -1, NULL));
	EXPECT_EQ(-1, pft_dev_diff(self->src.index, now, SIZE));
	EXPECT_EQ(-1, pft_file_diff(self->file_a, now, SIZE));
	free(now);
}

TEST_F(act, a_changed_file_is_not_taken_under_a_holder)
{
	changed_file_refused_while_held(_metadata, self, variant, false);
}

TEST_F(act, a_changed_file_is_not_taken_under_a_writable_mapping)
{
	changed_file_refused_while_held(_metadata, self, variant, true);
}

/*
 * The reload compares the file with the device a megabyte at a time
 * (owner.c), and copies from the first piece that differs on: a device of
 * several pieces, its last one short, whose file changed only past its
 * first piece, takes every changed byte, and keeps every other.
 */
#define BIG_SIZE	(3 * (1 << 20) + 8192)

TEST_F(act, activation_takes_changes_past_the_first_pieces)
{
	static const off_t offs[] = {
		(2 << 20) + 5000, (2 << 20) + 5001, (3 << 20) + 100,
		BIG_SIZE - 1,
	};
	uint8_t *now, b;
	char path[128];
	unsigned int i;
	int fd;

	snprintf(path, sizeof(path), "%s/big.fd", self->sc.dir);
	ASSERT_EQ(0, pft_mkfile(path, BIG_SIZE, 11));
	ASSERT_EQ(0, pft_destroy(self->h, self->dst.index));
	self->dst.attrs = 0;
	ASSERT_EQ(0, make_dev(self->h, path, PFLASH_STATE_ACTIVE,
			      variant->cache, &self->dst));
	ASSERT_EQ(0, pft_inactivate(self->h, self->dst.index, false, NULL));

	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		ASSERT_EQ(1, pread(fd, &b, 1, offs[i]));
		b = ~b;
		ASSERT_EQ(1, pwrite(fd, &b, 1, offs[i]));
	}
	close(fd);
	now = pft_slurp(path, BIG_SIZE);
	ASSERT_NE(NULL, now);
	ASSERT_EQ((long long)offs[0], pft_dev_diff(self->dst.index, now,
						   BIG_SIZE));

	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, NULL));
	EXPECT_EQ(-1, pft_dev_diff(self->dst.index, now, BIG_SIZE));
	EXPECT_EQ(-1, pft_file_diff(path, now, BIG_SIZE));
	free(now);
}

/*
 * A file that was longer than the device when it was created keeps its
 * tail: only a file of the device's size is the device's, every byte.
 * The long file is the target's own in every variant, in its cache mode.
 */
TEST_F(act, a_longer_file_keeps_its_tail)
{
	struct pfnl_dev got = {};
	uint8_t *tail;
	char path[128];

	snprintf(path, sizeof(path), "%s/long.fd", self->sc.dir);
	ASSERT_EQ(0, pft_mkfile(path, SIZE + 8192, 5));
	tail = pft_slurp(path, SIZE + 8192);
	ASSERT_NE(NULL, tail);
	ASSERT_EQ(0, pft_destroy(self->h, self->dst.index));
	self->dst.attrs = 0;
	ASSERT_EQ(0, make_dev_sized(self->h, path, SIZE, PFLASH_STATE_INACTIVE,
				    variant->cache, &self->dst));

	ASSERT_EQ(0, dev_write(self->src.index, self->shadow, 0, 8192, 3));
	ASSERT_EQ(0, pft_inactivate(self->h, self->src.index, false, NULL));
	ASSERT_EQ(0, pft_export(self->h, self->src.index, &self->s));
	ASSERT_EQ(0, change(self->h, path, CHANGE_EDIT, variant->cache, 8));
	ASSERT_EQ(0, pft_import(self->h, self->dst.index, self->s.buf,
				self->s.len, CHUNK, &got));
	ASSERT_EQ(0, pft_activate(self->h, self->dst.index, -1, &got));
	EXPECT_EQ(SIZE + 8192, file_size(path));
	EXPECT_EQ(-1, pft_file_diff(path, self->shadow, SIZE));
	memcpy(tail, self->shadow, SIZE);
	EXPECT_EQ(-1, pft_file_diff(path, tail, SIZE + 8192));
	free(tail);
}

/* --- random_moves ------------------------------------------------------- */

#define NFILES	3
#define NDEVS	4
#define NSTREAMS 3

struct rm_dev {
	bool exists;
	struct pfnl_dev d;
	int file;
	bool fits;		/* its file was SIZE bytes at its creation */
	uint32_t cache;
	uint64_t epoch;
	bool active;
	bool pending;		/* an import is owed to the file */
	bool synced;		/* the file is known to hold the device */
	uint64_t file_gen;	/* the file's generation when it was so */
	uint8_t *shadow;	/* what the device holds */
};

struct rm_file {
	char path[96];
	uint64_t gen;		/* one more for each change to the file */
};

struct rm_stream {
	struct pft_stream s;
	uint8_t *image;		/* what it holds */
	uint64_t epoch;
};

struct rm {
	struct pfnl *h;
	struct scratch sc;
	uint64_t x;
	uint32_t step;
	struct rm_file f[NFILES];
	struct rm_dev d[NDEVS];
	struct rm_stream s[NSTREAMS];
	char what[160];		/* the step being taken, for failures */
};

/* The active device on file @fi, or -1. */
static int rm_owner(const struct rm *m, int fi)
{
	int i;

	for (i = 0; i < NDEVS; i++)
		if (m->d[i].exists && m->d[i].active && m->d[i].file == fi)
			return i;
	return -1;
}

/* The file's contents, as a device would load them: the first SIZE bytes. */
static int rm_file_read(const struct rm *m, int fi, uint8_t *buf)
{
	int fd = open(m->f[fi].path, O_RDONLY), ret;

	if (fd < 0)
		return -errno;
	ret = pft_pread_full(fd, buf, SIZE, 0);
	close(fd);
	return ret;
}

/*
 * Whether the file of device @d holds the device: its first SIZE bytes,
 * and no more if it was SIZE bytes when the device was created.
 */
static bool rm_file_holds(const struct rm *m, const struct rm_dev *d)
{
	const char *path = m->f[d->file].path;

	if (d->fits)
		return file_is(path, d->shadow, SIZE);
	return file_size(path) >= SIZE &&
	       pft_file_diff(path, d->shadow, SIZE) == -1;
}

/*
 * Check what is always true: each device holds what the model says; the
 * file of each device that is active and synced holds it too, every byte
 * (in writeback mode, once flushed).  Returns 0, or says what differs.
 */
static int rm_check(struct rm *m)
{
	int i;

	for (i = 0; i < NDEVS; i++) {
		struct rm_dev *d = &m->d[i];
		long long at;

		if (!d->exists)
			continue;
		at = pft_dev_diff(d->d.index, d->shadow, SIZE);
		if (at != -1) {
			fprintf(stdout,
				"# step %u (%s): device %d (pflash%u) differs from the model at %lld\n",
				m->step, m->what, i, d->d.index, at);
			return -1;
		}
		if (!d->active || !d->synced)
			continue;
		if (d->cache == PFLASH_CACHE_MODE_WRITEBACK &&
		    pft_flush(m->h, d->d.index, false))
			return -1;
		if (!rm_file_holds(m, d)) {
			fprintf(stdout,
				"# step %u (%s): the file of active device %d (pflash%u), %s, differs from it (size %lld, first difference at %lld)\n",
				m->step, m->what, i, d->d.index,
				m->f[d->file].path,
				file_size(m->f[d->file].path),
				pft_file_diff(m->f[d->file].path, d->shadow,
					      SIZE));
			return -1;
		}
	}
	return 0;
}

static void rm_say(struct rm *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->what, sizeof(m->what), fmt, ap);
	va_end(ap);
}

/* A file changed behind every device's back: only one no device owns. */
static int rm_change_file(struct rm *m)
{
	int fi = rnd_below(&m->x, NFILES), i;
	enum change kind = 1 + rnd_below(&m->x, CHANGE_KINDS - 1);

	if (rm_owner(m, fi) >= 0)
		return 0;
	/* Another device's writes go through a device of the test's. */
	if (kind == CHANGE_DEVICE)
		kind = CHANGE_EDIT;
	rm_say(m, "change %s: %s", m->f[fi].path, change_names[kind]);
	if (change(m->h, m->f[fi].path, kind, 0, rnd_next(&m->x)))
		return -1;
	m->f[fi].gen++;
	for (i = 0; i < NDEVS; i++)
		if (m->d[i].exists && m->d[i].file == fi)
			m->d[i].synced = false;
	return 0;
}

/* A device of SIZE bytes over file @fi. */
static int rm_make_dev(struct rm *m, int fi, bool active, uint32_t cache,
		       struct pfnl_dev *out)
{
	struct pfnl_dev req = {};

	pfnl_dev_set(&req, PFLASH_A_DEV_SIZE, SIZE);
	pfnl_dev_set(&req, PFLASH_A_DEV_STATE,
		     active ? PFLASH_STATE_ACTIVE : PFLASH_STATE_INACTIVE);
	pfnl_dev_set(&req, PFLASH_A_DEV_CACHE_MODE, cache);
	if (cache == PFLASH_CACHE_MODE_WRITEBACK)
		pfnl_dev_set(&req, PFLASH_A_DEV_WRITEBACK_INTERVAL, 0);
	return pft_create_backed(m->h, m->f[fi].path, &req, out);
}

static int rm_create(struct rm *m, int di)
{
	struct rm_dev *d = &m->d[di];
	int fi = rnd_below(&m->x, NFILES);
	bool active = rm_owner(m, fi) < 0 && rnd_below(&m->x, 2);
	int ret;

	d->cache = rnd_below(&m->x, 2) ? PFLASH_CACHE_MODE_WRITEBACK :
					 PFLASH_CACHE_MODE_WRITETHROUGH;
	rm_say(m, "create device %d on %s, %s, %s", di, m->f[fi].path,
	       active ? "active" : "inactive",
	       d->cache == PFLASH_CACHE_MODE_WRITEBACK ? "writeback" :
							 "writethrough");
	ret = rm_make_dev(m, fi, active, d->cache, &d->d);
	/* A file cut short holds too little for a device. */
	if (file_size(m->f[fi].path) < SIZE)
		return ret == -EINVAL ? 0 : -1;
	if (ret) {
		printf("# step %u (%s): %s\n", m->step, m->what,
		       strerror(-ret));
		return -1;
	}
	if (rm_file_read(m, fi, d->shadow))
		return -1;
	d->exists = true;
	d->file = fi;
	d->fits = file_size(m->f[fi].path) == SIZE;
	d->epoch = d->d.epoch;
	d->active = active;
	d->pending = false;
	d->synced = true;
	d->file_gen = m->f[fi].gen;
	return 0;
}

static int rm_write(struct rm *m, int di)
{
	struct rm_dev *d = &m->d[di];
	uint64_t off = rnd_below(&m->x, SIZE / 4096) * 4096;
	size_t len = 4096 * (1 + rnd_below(&m->x, 4));

	if (off + len > SIZE)
		len = SIZE - off;
	rm_say(m, "write device %d: %zu bytes at %llu", di, len,
	       (unsigned long long)off);
	if (dev_write(d->d.index, d->shadow, off, len, rnd_next(&m->x)))
		return -1;
	/* The file changes: at once, or at the next flush. */
	m->f[d->file].gen++;
	d->file_gen = m->f[d->file].gen;
	return 0;
}

static int rm_inactivate(struct rm *m, int di)
{
	struct rm_dev *d = &m->d[di];

	rm_say(m, "inactivate device %d", di);
	if (pft_inactivate(m->h, d->d.index, false, NULL))
		return -1;
	d->active = false;
	if (d->synced)
		d->file_gen = m->f[d->file].gen;
	return 0;
}

/* Activation: refused while another device owns the file. */
static int rm_activate(struct rm *m, int di)
{
	static uint8_t before[SIZE];
	struct rm_dev *d = &m->d[di];
	int owner = rm_owner(m, d->file), ret;
	struct pfnl_dev got;

	rm_say(m, "activate device %d%s%s", di,
	       d->pending ? ", an import owed" : "",
	       owner >= 0 ? ", the file owned by another" : "");
	/* What the file holds: no import owed, the activation writes none of it. */
	if (!d->pending && file_size(m->f[d->file].path) >= SIZE &&
	    rm_file_read(m, d->file, before))
		return -1;
	ret = pft_activate(m->h, d->d.index, -1, &got);
	if (owner >= 0)
		return ret == -EBUSY ? 0 : -1;
	/* With no import owed, a file cut short is refused. */
	if (!d->pending && file_size(m->f[d->file].path) < SIZE)
		return ret == -ENODATA ? 0 : -1;
	if (ret)
		return -1;
	d->active = true;
	d->epoch = got.epoch;
	if (d->pending) {
		/* The point of it all: the file holds the device. */
		d->pending = false;
		d->synced = true;
		m->f[d->file].gen++;
		d->file_gen = m->f[d->file].gen;
		if (!rm_file_holds(m, d)) {
			fprintf(stdout,
				"# step %u (%s): after the activation, the file differs from the device (size %lld, first difference at %lld)\n",
				m->step, m->what, file_size(m->f[d->file].path),
				pft_file_diff(m->f[d->file].path, d->shadow,
					      SIZE));
			return -1;
		}
	} else {
		/*
		 * Without an import, nothing is written, and the device takes
		 * the file as it was: the file holds the device, but for a
		 * tail the file grew where it was the device's size.
		 */
		if (rm_file_read(m, d->file, d->shadow) ||
		    memcmp(d->shadow, before, SIZE)) {
			printf("# step %u (%s): the activation wrote the file\n",
			       m->step, m->what);
			return -1;
		}
		d->synced = !d->fits || file_size(m->f[d->file].path) == SIZE;
		d->file_gen = m->f[d->file].gen;
	}
	return 0;
}

static int rm_export(struct rm *m, int di)
{
	struct rm_stream *st = &m->s[rnd_below(&m->x, NSTREAMS)];
	struct rm_dev *d = &m->d[di];

	rm_say(m, "export device %d (%s)", di,
	       d->active ? "active" : "inactive");
	pft_stream_free(&st->s);
	if (pft_export(m->h, d->d.index, &st->s))
		return -1;
	memcpy(st->image, d->shadow, SIZE);
	st->epoch = d->epoch;
	return 0;
}

/* An import, which a damaged stream fails with the device unchanged. */
static int rm_import(struct rm *m, int di)
{
	struct rm_stream *st = &m->s[rnd_below(&m->x, NSTREAMS)];
	bool damage = rnd_below(&m->x, 4) == 0;
	struct rm_dev *d = &m->d[di];
	struct pfnl_dev got;
	int ret;

	if (!st->s.len)
		return 0;
	rm_say(m, "import into device %d (%s)%s", di,
	       d->active ? "active" : "inactive",
	       damage ? ", a damaged stream" : "");
	if (damage)
		st->s.buf[rnd_below(&m->x, st->s.len)] ^= 0x40;
	ret = pft_import(m->h, d->d.index, st->s.buf, st->s.len, CHUNK, &got);
	if (damage) {
		pft_stream_free(&st->s);
		return ret ? 0 : -1;
	}
	if (d->active)
		return ret == -EBUSY ? 0 : -1;
	/* A stream older than the device's epoch is stale. */
	if (st->epoch < d->epoch)
		return ret == -ESTALE ? 0 : -1;
	if (ret)
		return -1;
	memcpy(d->shadow, st->image, SIZE);
	d->epoch = st->epoch;
	d->pending = true;
	return 0;
}

static int rm_destroy(struct rm *m, int di)
{
	struct rm_dev *d = &m->d[di];

	rm_say(m, "destroy device %d (%s)", di,
	       d->active ? "active" : "inactive");
	if (pft_destroy(m->h, d->d.index))
		return -1;
	/* An active device wrote back what it held. */
	if (d->active)
		m->f[d->file].gen++;
	d->exists = false;
	return 0;
}

/* One random step. */
static int rm_step(struct rm *m)
{
	int di = rnd_below(&m->x, NDEVS);
	struct rm_dev *d = &m->d[di];

	switch (rnd_below(&m->x, 8)) {
	case 0:
		return rm_change_file(m);
	case 1:
		return d->exists ? rm_destroy(m, di) : rm_create(m, di);
	case 2:
		if (!d->exists)
			return rm_create(m, di);
		return d->active ? rm_write(m, di) : rm_activate(m, di);
	case 3:
		if (!d->exists)
			return 0;
		return d->active ? rm_inactivate(m, di) : rm_activate(m, di);
	case 4:
	case 5:
		return d->exists ? rm_export(m, di) : 0;
	default:
		return d->exists ? rm_import(m, di) : 0;
	}
}

FIXTURE(moves) {
	struct rm m;
};

FIXTURE_VARIANT(moves) {
	bool ext4;
};

FIXTURE_VARIANT_ADD(moves, tmpfs) {
	.ext4 = false,
};

FIXTURE_VARIANT_ADD(moves, ext4) {
	.ext4 = true,
};

FIXTURE_SETUP(moves)
{
	struct rm *m = &self->m;
	int i;

	memset(m, 0, sizeof(*m));
	ASSERT_EQ(0, pfnl_open(&m->h));
	ASSERT_EQ(0, scratch_mount(m->h, &m->sc, variant->ext4));
	for (i = 0; i < NFILES; i++) {
		snprintf(m->f[i].path, sizeof(m->f[i].path), "%s/f%d.fd",
			 m->sc.dir, i);
		ASSERT_EQ(0, pft_mkfile(m->f[i].path, SIZE, i + 1));
	}
	for (i = 0; i < NDEVS; i++) {
		m->d[i].shadow = pft_alloc(SIZE);
		ASSERT_NE(NULL, m->d[i].shadow);
	}
	for (i = 0; i < NSTREAMS; i++) {
		m->s[i].image = malloc(SIZE);
		ASSERT_NE(NULL, m->s[i].image);
	}
}

FIXTURE_TEARDOWN(moves)
{
	struct rm *m = &self->m;
	int i;

	for (i = 0; i < NDEVS; i++) {
		if (m->d[i].exists)
			EXPECT_EQ(0, pft_destroy(m->h, m->d[i].d.index));
		free(m->d[i].shadow);
	}
	for (i = 0; i < NSTREAMS; i++) {
		pft_stream_free(&m->s[i].s);
		free(m->s[i].image);
	}
	scratch_unmount(m->h, &m->sc);
	pfnl_close(m->h);
}

/* Run @steps steps from @seed, each checked; the number of them that passed. */
static uint32_t rm_run(struct rm *m, uint64_t seed, uint32_t steps)
{
	m->x = seed;
	for (m->step = 0; m->step < steps; m->step++) {
		if (rm_step(m)) {
			printf("# step %u (%s) failed\n", m->step, m->what);
			break;
		}
		if (rm_check(m))
			break;
	}
	return m->step;
}

TEST_F_TIMEOUT(moves, random_moves, 900)
{
	uint64_t seed = pft_seed("PFLASH_MOVES_SEED");
	uint32_t steps = pft_env_u64("PFLASH_MOVES_STEPS",
				     pft_debug_kernel() ? 100 : 300);

	/* What went wrong is printed before the harness ends the test. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# seed %llu, %u steps: PFLASH_MOVES_SEED=%llu replays it\n",
	       (unsigned long long)seed, steps, (unsigned long long)seed);
	EXPECT_EQ(steps, rm_run(&self->m, seed, steps)) {
		printf("# seed %llu: PFLASH_MOVES_SEED=%llu replays it\n",
		       (unsigned long long)seed, (unsigned long long)seed);
	}
}

/*
 * A seed a fresh run found a bug with, replayed as far as its finding in
 * every run: 423103812, step 60 on ext4.  A file truncated while its
 * device was inactive; the device activated with no import owed (which
 * writes nothing), then inactivated, and marked the short file as holding
 * its contents; an import's activation trusted the mark and left the file
 * short.  (That first activation, which now loads the file, is refused
 * with ENODATA.)
 */
TEST_F_TIMEOUT(moves, regression_seed_423103812, 900)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	EXPECT_EQ(64, rm_run(&self->m, 423103812, 64));
}

TEST_HARNESS_MAIN
