/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signature cache (dataplane/delta/xf_sigcache.c): a hit gives back exactly what was
 * stored; a change of any key field, of the block size or of the count is a miss that
 * drops the entry; the byte bound evicts the oldest entries first and never loses the
 * newest; save and load round-trip; a damaged, truncated, extended or foreign file is
 * refused, counted, and leaves an empty cache.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_delta_test.h"
#include "xf_sigcache.h"

#define SC_BS 2048u

/* Records of a made-up file: derived from its key, so that a hit shows whose they are. */
static void
fake_records(const struct xf_sigcache_key *k, uint32_t count, struct xf_sig_rec *sigs,
             uint64_t *bcrc)
{
	for (uint32_t i = 0; i < count; i++) {
		sigs[i].weak = (uint32_t)(k->ino * 31u + i);
		sigs[i].strong = (uint32_t)(k->dev ^ (i * 7u));
		bcrc[i] = k->ino * 0x100000001b3ull + i;
	}
}

static struct xf_sigcache_key
key_of(uint64_t ino, uint64_t size)
{
	return (struct xf_sigcache_key){ .dev = 0x801,
		                         .ino = ino,
		                         .size = size,
		                         .mtime_ns = 1700000000123456789ll,
		                         .ctime_ns = 1700000000223456789ll };
}

static uint32_t
blocks(uint64_t size)
{
	return (uint32_t)((size + SC_BS - 1) / SC_BS);
}

static void
put_file(struct xf_sigcache *c, const struct xf_sigcache_key *k)
{
	uint32_t n = blocks(k->size);
	struct xf_sig_rec *s = calloc(n, sizeof(*s));
	uint64_t *b = calloc(n, sizeof(*b));

	CU_ASSERT_FATAL(s != NULL && b != NULL);
	fake_records(k, n, s, b);
	CU_ASSERT_EQUAL(xf_sigcache_put(c, k, SC_BS, n, s, b), 0);
	free(s);
	free(b);
}

/* Is k's entry there, with k's own records? */
static bool
hit(struct xf_sigcache *c, const struct xf_sigcache_key *k)
{
	uint32_t n = blocks(k->size);
	struct xf_sig_rec *s = calloc(n, sizeof(*s)), *ws = calloc(n, sizeof(*ws));
	uint64_t *b = calloc(n, sizeof(*b)), *wb = calloc(n, sizeof(*wb));
	bool ok;

	CU_ASSERT_FATAL(s != NULL && b != NULL && ws != NULL && wb != NULL);
	fake_records(k, n, ws, wb);
	ok = xf_sigcache_get(c, k, SC_BS, n, s, b) == 0;
	if (ok) {
		CU_ASSERT(memcmp(s, ws, n * sizeof(*s)) == 0);
		CU_ASSERT(memcmp(b, wb, n * sizeof(*b)) == 0);
	}
	free(s);
	free(b);
	free(ws);
	free(wb);
	return ok;
}

void
test_sigcache_hit_and_key_fields(void)
{
	struct xf_sigcache *c = xf_sigcache_create(1u << 20);
	struct xf_sigcache_stats st;
	struct xf_sigcache_key k = key_of(10, 100000), other;
	struct xf_sig_rec s[64];
	uint64_t b[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(hit(c, &k));
	put_file(c, &k);
	CU_ASSERT_TRUE(hit(c, &k));
	CU_ASSERT_TRUE(hit(c, &k)); /* a hit keeps the entry */
	/* Each key field alone: a miss, and the entry is gone (the true key misses after). */
	for (int field = 0; field < 5; field++) {
		put_file(c, &k);
		other = k;
		switch (field) {
		case 0:
			other.dev++;
			break;
		case 1:
			other.ino++;
			break;
		case 2:
			other.size += SC_BS;
			break; /* a block more: also another count */
		case 3:
			other.mtime_ns++;
			break;
		default:
			other.ctime_ns++;
			break;
		}
		CU_ASSERT_FALSE(hit(c, &other));
		if (field >= 2) {
			/* Same file (dev, ino), another version: dropped. */
			CU_ASSERT_FALSE(hit(c, &k));
		} else {
			/* Another file: this one is untouched. */
			CU_ASSERT_TRUE(hit(c, &k));
			xf_sigcache_drop(c, k.dev, k.ino);
			CU_ASSERT_FALSE(hit(c, &k));
		}
	}
	/* Same key, another block size or count: dropped as well. */
	put_file(c, &k);
	CU_ASSERT_EQUAL(xf_sigcache_get(c, &k, SC_BS * 2, blocks(k.size) / 2 + 1, s, b), -ENOENT);
	CU_ASSERT_FALSE(hit(c, &k));
	/* A size whose block count differs from count is refused. */
	CU_ASSERT_EQUAL(xf_sigcache_put(c, &k, SC_BS, 3, s, b), -EINVAL);
	CU_ASSERT_EQUAL(xf_sigcache_put(c, &k, 0, 3, s, b), -EINVAL);
	xf_sigcache_stats(c, &st);
	CU_ASSERT_EQUAL(st.stale, 4); /* size, mtime, ctime, block size */
	CU_ASSERT(st.hits >= 4);
	CU_ASSERT_EQUAL(xf_sigcache_count(c), 0);
	xf_sigcache_destroy(c);
}

void
test_sigcache_bound(void)
{
	const size_t budget = 256u * 1024u;
	struct xf_sigcache *c = xf_sigcache_create(budget);
	struct xf_sigcache_stats st;
	struct xf_sigcache_key big = key_of(1, 300u * 1024u * 1024u);
	uint32_t live = 0;
	struct xf_sig_rec *s = calloc(blocks(big.size), sizeof(*s));
	uint64_t *b = calloc(blocks(big.size), sizeof(*b));

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* 2,000 files of random sizes (1 to 40 blocks): far more than fit. The newest is
	 * always there, the oldest gone, and the arena never holds more than its bound. */
	seed(21);
	for (uint64_t i = 1; i <= 2000; i++) {
		struct xf_sigcache_key k = key_of(1000 + i, 1 + rnd_below(40u * SC_BS));

		put_file(c, &k);
		CU_ASSERT_TRUE(hit(c, &k));
		xf_sigcache_stats(c, &st);
		CU_ASSERT(st.bytes <= st.capacity);
		CU_ASSERT(st.capacity <= budget);
	}
	xf_sigcache_stats(c, &st);
	CU_ASSERT(st.evicted > 1000);
	CU_ASSERT_EQUAL(st.stored - st.evicted, xf_sigcache_count(c));
	/* The newest entries are all there, in order, back to the first one evicted. */
	seed(21);
	for (uint64_t i = 1; i <= 2000; i++) {
		struct xf_sigcache_key k = key_of(1000 + i, 1 + rnd_below(40u * SC_BS));

		live += hit(c, &k);
	}
	CU_ASSERT_EQUAL(live, xf_sigcache_count(c));
	/* Larger than the whole cache: refused, nothing else lost. */
	CU_ASSERT_FATAL(s != NULL && b != NULL);
	CU_ASSERT_EQUAL(xf_sigcache_put(c, &big, SC_BS, blocks(big.size), s, b), -E2BIG);
	CU_ASSERT_EQUAL(xf_sigcache_count(c), live);
	CU_ASSERT_PTR_NULL(xf_sigcache_create(100));
	free(s);
	free(b);
	xf_sigcache_destroy(c);
}

static char *
tmp_dir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/xf-sigcache.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	return dir;
}

static uint8_t *
read_all(int dfd, const char *name, size_t *len)
{
	struct stat sb;
	int fd = openat(dfd, name, O_RDONLY);
	uint8_t *p;

	CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &sb) == 0);
	p = malloc((size_t)sb.st_size + 16);
	CU_ASSERT_FATAL(p != NULL && read(fd, p, (size_t)sb.st_size) == sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return p;
}

static void
write_all(int dfd, const char *name, const uint8_t *p, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0 && write(fd, p, len) == (ssize_t)len);
	close(fd);
}

void
test_sigcache_file(void)
{
	const char *dir = tmp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct xf_sigcache *c = xf_sigcache_create(1u << 20);
	struct xf_sigcache *d = xf_sigcache_create(1u << 20);
	struct xf_sigcache_stats st;
	struct xf_sigcache_key k[20];
	uint8_t *img, *bad;
	size_t len;
	uint64_t corrupt = 0;

	CU_ASSERT_FATAL(dfd >= 0 && c != NULL && d != NULL);
	/* No file: an empty cache, nothing counted. */
	CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "sigcache"), 0);
	for (uint32_t i = 0; i < 20; i++) {
		k[i] = key_of(500 + i, 1 + i * 5000u);
		put_file(c, &k[i]);
	}
	xf_sigcache_drop(c, k[3].dev, k[3].ino); /* a dropped entry is not written */
	CU_ASSERT_EQUAL(xf_sigcache_save(c, dfd, "sigcache"), 19);
	CU_ASSERT_EQUAL(faccessat(dfd, "sigcache.tmp", F_OK, 0), -1); /* renamed away */
	CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "sigcache"), 19);
	for (uint32_t i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(hit(d, &k[i]), i != 3);
	}
	/* Damage, every way: each is refused whole, counted, and leaves nothing behind. */
	img = read_all(dfd, "sigcache", &len);
	bad = malloc(len + 16);
	CU_ASSERT_FATAL(bad != NULL);
	seed(7);
	for (int round = 0; round < 300; round++) {
		size_t blen = len;

		memcpy(bad, img, len);
		switch (round % 6) {
		case 0:
			bad[rnd_below(len)] ^= (uint8_t)(1u << rnd_below(8));
			break; /* a bit */
		case 1:
			blen = rnd_below(len);
			break; /* cut */
		case 2:
			memset(bad + len, 0, 16);
			blen = len + 1 + rnd_below(15);
			break; /* more */
		case 3:
			bad[12]++;
			break; /* record count */
		case 4:
			bad[rnd_below(8)] ^= 0x20;
			break; /* magic */
		default:
			bad[8] = 2;
			break; /* version */
		}
		if (blen == len && memcmp(bad, img, len) == 0) {
			continue;
		}
		CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "sigcache"), 19); /* the good one */
		write_all(dfd, "bad", bad, blen);
		CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "bad"), -EBADMSG);
		corrupt++;
		CU_ASSERT_EQUAL(xf_sigcache_count(d), 0);
		CU_ASSERT_FALSE(hit(d, &k[0]));
	}
	/* A record whose checksum holds but whose count does not fit its size. */
	{
		uint8_t *r = bad + 16;
		uint32_t blen, crc;

		memcpy(bad, img, len);
		memcpy(&blen, r, 4);
		r[8 + 16] ^= 1; /* its size */
		crc = xf_csum_crc32c(0, r + 8, blen);
		memcpy(r + 4, &crc, 4);
		write_all(dfd, "bad", bad, len);
		CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "bad"), -EBADMSG);
		corrupt++;
	}
	/* Not a regular file, and a file larger than the cache could write. */
	CU_ASSERT_EQUAL(mkdirat(dfd, "adir", 0700), 0);
	CU_ASSERT(xf_sigcache_load(d, dfd, "adir") < 0);
	{
		int fd = openat(dfd, "huge", O_WRONLY | O_CREAT, 0600);

		CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, 8u << 20) == 0);
		close(fd);
		CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "huge"), -EBADMSG);
		corrupt += 2;
	}
	xf_sigcache_stats(d, &st);
	CU_ASSERT_EQUAL(st.corrupt, corrupt);
	/* A smaller cache (above half the size) loads what fits, newest kept. */
	{
		struct xf_sigcache *s = xf_sigcache_create(6144);

		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT(xf_sigcache_load(s, dfd, "sigcache") > 0);
		CU_ASSERT_TRUE(hit(s, &k[19]));
		CU_ASSERT_FALSE(hit(s, &k[0]));
		xf_sigcache_destroy(s);
	}
	free(img);
	free(bad);
	xf_sigcache_destroy(c);
	xf_sigcache_destroy(d);
	unlinkat(dfd, "sigcache", 0);
	unlinkat(dfd, "bad", 0);
	unlinkat(dfd, "huge", 0);
	unlinkat(dfd, "adir", AT_REMOVEDIR);
	close(dfd);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

/*
 * A pending entry (made at a file's verification) is never a hit, is settled by the key
 * of its committed file only if size and mtime are the verified ones (else dropped), and
 * is not saved; a settled one is an entry like any other.
 */
void
test_sigcache_pending(void)
{
	const char *dir = tmp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct xf_sigcache *c = xf_sigcache_create(1u << 20);
	struct xf_sigcache *d = xf_sigcache_create(1u << 20);
	struct xf_sigcache_key k[4], fin;
	struct xf_sigcache_stats st;
	uint32_t n = blocks(100000);
	struct xf_sig_rec *s = calloc(n, sizeof(*s));
	uint64_t *b = calloc(n, sizeof(*b));

	CU_ASSERT_FATAL(dfd >= 0 && c != NULL && d != NULL && s != NULL && b != NULL);
	for (uint32_t i = 0; i < 4; i++) {
		k[i] = key_of(900 + i, 100000);
		fake_records(&k[i], n, s, b);
		CU_ASSERT_EQUAL(xf_sigcache_put_pending(c, &k[i], SC_BS, n, s, b), 0);
		CU_ASSERT(!hit(c, &k[i])); /* pending: a miss, and dropped */
		CU_ASSERT_EQUAL(xf_sigcache_put_pending(c, &k[i], SC_BS, n, s, b), 0);
	}
	/* 0: settled, its ctime moved by the commit. */
	fin = k[0];
	fin.ctime_ns += 1234567;
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), 0);
	CU_ASSERT(!hit(c, &k[0])); /* the key before the commit: stale, dropped */
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), -ENOENT);
	fake_records(&fin, n, s, b);
	CU_ASSERT_EQUAL(xf_sigcache_put_pending(c, &fin, SC_BS, n, s, b), 0);
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), 0);
	CU_ASSERT(hit(c, &fin));
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), -ENOENT); /* settled once */
	CU_ASSERT(hit(c, &fin));
	/* 1: another size, 2: another mtime at commit: not the verified version, dropped. */
	fin = k[1];
	fin.size++;
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), -ENOENT);
	fin = k[2];
	fin.mtime_ns--;
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &fin), -ENOENT);
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &k[1]), -ENOENT);
	CU_ASSERT_EQUAL(xf_sigcache_settle(c, &k[2]), -ENOENT);
	/* 3 stays pending: the save writes only the settled one. */
	CU_ASSERT_EQUAL(xf_sigcache_count(c), 2);
	CU_ASSERT_EQUAL(xf_sigcache_save(c, dfd, "sigcache-p"), 1);
	CU_ASSERT_EQUAL(xf_sigcache_load(d, dfd, "sigcache-p"), 1);
	fin = k[0];
	fin.ctime_ns += 1234567;
	CU_ASSERT(hit(d, &fin));
	CU_ASSERT(!hit(d, &k[3]));
	xf_sigcache_stats(c, &st);
	CU_ASSERT_EQUAL(st.committed, 2);
	CU_ASSERT_EQUAL(st.stored, 2);
	unlinkat(dfd, "sigcache-p", 0);
	free(s);
	free(b);
	xf_sigcache_destroy(c);
	xf_sigcache_destroy(d);
	close(dfd);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}
