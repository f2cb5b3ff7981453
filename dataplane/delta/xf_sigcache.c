/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature cache (xf_sigcache.h, docs/DELTA.md "Signature cache").
 *
 * Memory: one allocation made at creation, an index and an arena. The arena is a ring
 * of variable-size entries, each a header and its records (8 bytes of sums and 8 of
 * CRC-64 per block), written at the tail and evicted at the head, oldest first; an entry
 * never straddles the end (the tail wraps to 0 and the head evicts up to it). The index
 * is open addressing with linear probing over (dev, ino), at most half full by
 * construction (a slot per 32 bytes of budget, an entry takes at least 72), and deletes
 * by backward shift, so it never needs rebuilding.
 *
 * The file: a 16-byte header (magic, version, record count), then one record per entry,
 * oldest first: its body length, the CRC-32C of the body, the body (the key, block size
 * and count, the sums, the CRC-64s). Little-endian (x86-64, asserted).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_sigcache.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cache file is little-endian");

#define SC_MAGIC   "XFSIGC\r\n"
#define SC_VERSION 1u
#define SC_HDR     16u /* file header: magic, version, record count */
#define SC_BODY    48u /* record body before the records: key (40), bs, count */
#define SC_PER_BLK 16u /* sums (8) and CRC-64 (8) per block */
#define SC_MIN     (4u * 1024u)

struct ent {
	struct xf_sigcache_key k;
	uint32_t bs, count;
	uint32_t len;  /* bytes of the entry in the arena: header and records */
	uint32_t live; /* 0: dropped, its bytes wait for eviction at the head; ENT_PENDING:
	                * made at a file's verification, its ctime not known yet */
};

#define ENT_LIVE    1u
#define ENT_PENDING 2u
_Static_assert(sizeof(struct ent) == 56, "struct ent is packed by hand");

struct xf_sigcache {
	uint8_t *mem;  /* the one allocation: index, then arena */
	uint32_t *idx; /* entry offset + 1, 0 = empty */
	uint32_t idx_mask;
	uint8_t *arena;
	uint32_t cap;  /* arena bytes */
	uint32_t head; /* oldest entry */
	uint32_t tail; /* next entry */
	uint32_t
	        wrap_end; /* wrapped: entries are [head, wrap_end) and [0, tail); 0: [head, tail) */
	uint32_t n;       /* live entries, pending ones included */
	uint32_t npending; /* of those, pending (ENT_PENDING) */
	uint64_t used;     /* arena bytes of entries, live or dropped */
	struct xf_sigcache_stats st;
};

static uint32_t
ent_len(uint32_t count)
{
	return (uint32_t)sizeof(struct ent) + count * SC_PER_BLK;
}

static struct ent *
ent_at(const struct xf_sigcache *c, uint32_t off)
{
	return (struct ent *)(void *)(c->arena + off);
}

static uint32_t
slot_of(const struct xf_sigcache *c, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;

	return (uint32_t)(h >> 32) & c->idx_mask;
}

/* The index slot of (dev, ino), or the empty slot where it would go. */
static uint32_t
find(const struct xf_sigcache *c, uint64_t dev, uint64_t ino)
{
	uint32_t i = slot_of(c, dev, ino);

	while (c->idx[i] != 0) {
		const struct ent *e = ent_at(c, c->idx[i] - 1);

		if (e->k.dev == dev && e->k.ino == ino) {
			return i;
		}
		i = (i + 1) & c->idx_mask;
	}
	return i;
}

/* Empty slot i and move later members of its run back (linear probing's delete). */
static void
idx_remove(struct xf_sigcache *c, uint32_t i)
{
	uint32_t j = i;

	c->idx[i] = 0;
	for (;;) {
		const struct ent *e;
		uint32_t home;

		j = (j + 1) & c->idx_mask;
		if (c->idx[j] == 0) {
			return;
		}
		e = ent_at(c, c->idx[j] - 1);
		home = slot_of(c, e->k.dev, e->k.ino);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (((j - home) & c->idx_mask) >= ((j - i) & c->idx_mask)) {
			c->idx[i] = c->idx[j];
			c->idx[j] = 0;
			i = j;
		}
	}
}

static void
drop_slot(struct xf_sigcache *c, uint32_t i)
{
	struct ent *e = ent_at(c, c->idx[i] - 1);

	if (e->live == ENT_PENDING) {
		c->npending--;
	}
	e->live = 0;
	idx_remove(c, i);
	c->n--;
}

static void
evict_head(struct xf_sigcache *c)
{
	struct ent *e = ent_at(c, c->head);

	if (e->live) {
		drop_slot(c, find(c, e->k.dev, e->k.ino));
		c->st.evicted++;
	}
	c->used -= e->len;
	c->head += e->len;
	if (c->wrap_end != 0 && c->head == c->wrap_end) {
		c->wrap_end = 0;
		c->head = 0;
	}
	if (c->wrap_end == 0 && c->head == c->tail) {
		c->head = c->tail = 0;
	}
}

/* Room for len bytes at the tail (len <= cap), the oldest entries evicted for it. */
static uint32_t
arena_alloc(struct xf_sigcache *c, uint32_t len)
{
	for (;;) {
		if (c->wrap_end == 0) {
			if (c->head == c->tail) {
				c->head = c->tail = 0;
			}
			if (len <= c->cap - c->tail) {
				break;
			}
			c->wrap_end = c->tail;
			c->tail = 0;
			if (c->head == c->wrap_end) { /* nothing held: start over */
				c->wrap_end = 0;
				c->head = 0;
			}
			continue;
		}
		if (len <= c->head - c->tail) {
			break;
		}
		evict_head(c);
	}
	c->tail += len;
	c->used += len;
	return c->tail - len;
}

static void
reset(struct xf_sigcache *c)
{
	memset(c->idx, 0, ((size_t)c->idx_mask + 1) * sizeof(*c->idx));
	c->head = c->tail = c->wrap_end = 0;
	c->n = 0;
	c->npending = 0;
	c->used = 0;
}

struct xf_sigcache *
xf_sigcache_create(size_t bytes)
{
	struct xf_sigcache *c;
	size_t slots = 64;

	if (bytes < SC_MIN) {
		errno = EINVAL;
		return NULL;
	}
	if (bytes > UINT32_MAX / 2) {
		bytes = UINT32_MAX / 2;
	}
	while (slots < bytes / 32) {
		slots *= 2;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->cap = (uint32_t)(bytes - slots * sizeof(uint32_t)) & ~7u;
	/* Touched now (calloc of a large block maps zero pages lazily: memset them). */
	c->mem = aligned_alloc(64, (slots * sizeof(uint32_t) + c->cap + 63) & ~(size_t)63);
	if (c->mem == NULL) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	memset(c->mem, 0, slots * sizeof(uint32_t) + c->cap);
	c->idx = (uint32_t *)(void *)c->mem;
	c->idx_mask = (uint32_t)slots - 1;
	c->arena = c->mem + slots * sizeof(uint32_t);
	c->st.capacity = c->cap;
	return c;
}

void
xf_sigcache_destroy(struct xf_sigcache *c)
{
	if (c == NULL) {
		return;
	}
	free(c->mem);
	free(c);
}

/* Is count the block count of size at block size bs (bs in range)? No overflow. */
static bool
count_fits(uint64_t size, uint32_t bs, uint32_t count)
{
	return bs >= 1 && bs <= XF_BLOCK_MAX && size >= 1 && count >= 1 &&
	       count <= XF_DELTA_BLOCKS_MAX && size <= (uint64_t)count * bs &&
	       size > (uint64_t)(count - 1) * bs;
}

static bool
key_eq(const struct xf_sigcache_key *a, const struct xf_sigcache_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

int
xf_sigcache_get(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs, uint32_t count,
                struct xf_sig_rec *sigs, uint64_t *bcrc)
{
	uint32_t i = find(c, k->dev, k->ino);
	const struct ent *e;

	if (c->idx[i] == 0) {
		c->st.misses++;
		return -ENOENT;
	}
	e = ent_at(c, c->idx[i] - 1);
	if (e->live == ENT_PENDING || !key_eq(&e->k, k) || e->bs != bs || e->count != count) {
		drop_slot(c, i);
		c->st.stale++;
		return -ENOENT;
	}
	memcpy(sigs, e + 1, (size_t)count * sizeof(*sigs));
	if (bcrc != NULL) {
		memcpy(bcrc, (const uint8_t *)(e + 1) + (size_t)count * sizeof(*sigs),
		       (size_t)count * sizeof(*bcrc));
	}
	c->st.hits++;
	return 0;
}

static int
put(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs, uint32_t count,
    const struct xf_sig_rec *sigs, const uint64_t *bcrc, uint32_t live)
{
	uint32_t i, off, len;
	struct ent *e;

	if (!count_fits(k->size, bs, count)) {
		return -EINVAL;
	}
	len = ent_len(count);
	if ((uint64_t)count * SC_PER_BLK + sizeof(struct ent) > c->cap) {
		c->st.too_big++;
		return -E2BIG;
	}
	xf_sigcache_drop(c, k->dev, k->ino);
	off = arena_alloc(c, len);
	e = ent_at(c, off);
	*e = (struct ent){ .k = *k, .bs = bs, .count = count, .len = len, .live = live };
	memcpy(e + 1, sigs, (size_t)count * sizeof(*sigs));
	memcpy((uint8_t *)(e + 1) + (size_t)count * sizeof(*sigs), bcrc,
	       (size_t)count * sizeof(*bcrc));
	/* The eviction above may have moved index members: look the slot up afresh. */
	i = find(c, k->dev, k->ino);
	c->idx[i] = off + 1;
	c->n++;
	if (live == ENT_LIVE) {
		c->st.stored++;
	} else {
		c->npending++;
	}
	return 0;
}

int
xf_sigcache_put(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs, uint32_t count,
                const struct xf_sig_rec *sigs, const uint64_t *bcrc)
{
	return put(c, k, bs, count, sigs, bcrc, ENT_LIVE);
}

int
xf_sigcache_put_pending(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs,
                        uint32_t count, const struct xf_sig_rec *sigs, const uint64_t *bcrc)
{
	return put(c, k, bs, count, sigs, bcrc, ENT_PENDING);
}

int
xf_sigcache_settle(struct xf_sigcache *c, const struct xf_sigcache_key *k)
{
	uint32_t i = find(c, k->dev, k->ino);
	struct ent *e;

	if (c->idx[i] == 0) {
		return -ENOENT;
	}
	e = ent_at(c, c->idx[i] - 1);
	if (e->live != ENT_PENDING) {
		return -ENOENT; /* an entry of its own key: not this one's to change */
	}
	if (e->k.size != k->size || e->k.mtime_ns != k->mtime_ns) {
		/* Not the version that was verified: nothing to vouch for. */
		drop_slot(c, i);
		return -ENOENT;
	}
	e->k.ctime_ns = k->ctime_ns;
	e->live = ENT_LIVE;
	c->npending--;
	c->st.stored++;
	c->st.committed++;
	return 0;
}

void
xf_sigcache_drop(struct xf_sigcache *c, uint64_t dev, uint64_t ino)
{
	uint32_t i = find(c, dev, ino);

	if (c->idx[i] != 0) {
		drop_slot(c, i);
	}
}

uint32_t
xf_sigcache_count(const struct xf_sigcache *c)
{
	return c->n;
}

void
xf_sigcache_stats(const struct xf_sigcache *c, struct xf_sigcache_stats *st)
{
	*st = c->st;
	st->bytes = c->used;
}

/* ---- the file ---- */

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* One record's body (blen bytes, checksum verified): its entry, or false. */
static bool
load_record(struct xf_sigcache *c, const uint8_t *b, uint32_t blen)
{
	struct xf_sigcache_key k = {
		.dev = get64(b),
		.ino = get64(b + 8),
		.size = get64(b + 16),
		.mtime_ns = (int64_t)get64(b + 24),
		.ctime_ns = (int64_t)get64(b + 32),
	};
	uint32_t bs = get32(b + 40), count = get32(b + 44);
	struct ent *e;
	uint32_t off;

	if ((uint64_t)count * SC_PER_BLK != blen - SC_BODY || !count_fits(k.size, bs, count) ||
	    c->idx[find(c, k.dev, k.ino)] != 0) {
		return false; /* inconsistent, or a second entry of one file */
	}
	if ((uint64_t)ent_len(count) > c->cap) {
		c->st.too_big++; /* written by a larger cache: skipped, not damage */
		return true;
	}
	off = arena_alloc(c, ent_len(count));
	e = ent_at(c, off);
	*e = (struct ent){ .k = k, .bs = bs, .count = count, .len = ent_len(count), .live = 1 };
	memcpy(e + 1, b + SC_BODY, (size_t)count * SC_PER_BLK);
	c->idx[find(c, k.dev, k.ino)] = off + 1;
	c->n++;
	c->st.loaded++;
	return true;
}

int
xf_sigcache_load_buffer(struct xf_sigcache *c, const uint8_t *buf, size_t len)
{
	uint64_t loaded0 = c->st.loaded;
	uint32_t nrec, got = 0;
	size_t pos = SC_HDR;

	reset(c);
	if (len < SC_HDR || memcmp(buf, SC_MAGIC, 8) != 0 || get32(buf + 8) != SC_VERSION) {
		goto corrupt;
	}
	nrec = get32(buf + 12);
	while (pos < len) {
		uint32_t blen, crc;

		if (len - pos < 8 || got == nrec) {
			goto corrupt;
		}
		blen = get32(buf + pos);
		crc = get32(buf + pos + 4);
		pos += 8;
		if (blen < SC_BODY || blen > len - pos ||
		    xf_csum_crc32c(0, buf + pos, blen) != crc || !load_record(c, buf + pos, blen)) {
			goto corrupt;
		}
		pos += blen;
		got++;
	}
	if (got != nrec) {
		goto corrupt;
	}
	return (int)(c->st.loaded - loaded0);
corrupt:
	reset(c);
	c->st.loaded = loaded0;
	c->st.corrupt++;
	return -EBADMSG;
}

int
xf_sigcache_load(struct xf_sigcache *c, int dir_fd, const char *name)
{
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	/* No file this cache could write is larger than its arena and a record header per
	 * 72 bytes of it; a larger one (another size, or damage) is refused unread. */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > SC_HDR + (uint64_t)c->cap * 2) {
		close(fd);
		reset(c);
		c->st.corrupt++;
		return -EBADMSG;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	rc = xf_sigcache_load_buffer(c, buf, got);
	free(buf);
	return rc;
}

struct wbuf {
	int fd;
	int err;
	uint32_t n;
	uint8_t b[64 * 1024];
};

static void
wb_flush(struct wbuf *w)
{
	uint32_t done = 0;

	while (w->err == 0 && done < w->n) {
		ssize_t k = write(w->fd, w->b + done, w->n - done);

		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k <= 0) {
			w->err = k < 0 ? -errno : -EIO;
			break;
		}
		done += (uint32_t)k;
	}
	w->n = 0;
}

static void
wb_put(struct wbuf *w, const void *p, size_t len)
{
	const uint8_t *s = p;

	while (len > 0 && w->err == 0) {
		size_t take = sizeof(w->b) - w->n;

		take = take < len ? take : len;
		memcpy(w->b + w->n, s, take);
		w->n += (uint32_t)take;
		s += take;
		len -= take;
		if (w->n == sizeof(w->b)) {
			wb_flush(w);
		}
	}
}

static void
save_entry(struct wbuf *w, const struct ent *e)
{
	uint8_t body[SC_BODY];
	uint32_t blen = SC_BODY + e->count * SC_PER_BLK, crc;
	const uint8_t *recs = (const uint8_t *)(e + 1);

	memcpy(body, &e->k.dev, 8);
	memcpy(body + 8, &e->k.ino, 8);
	memcpy(body + 16, &e->k.size, 8);
	memcpy(body + 24, &e->k.mtime_ns, 8);
	memcpy(body + 32, &e->k.ctime_ns, 8);
	memcpy(body + 40, &e->bs, 4);
	memcpy(body + 44, &e->count, 4);
	crc = xf_csum_crc32c(0, body, SC_BODY);
	crc = xf_csum_crc32c(crc, recs, (size_t)e->count * SC_PER_BLK);
	wb_put(w, &blen, 4);
	wb_put(w, &crc, 4);
	wb_put(w, body, SC_BODY);
	wb_put(w, recs, (size_t)e->count * SC_PER_BLK);
}

/* Every live entry, oldest first. */
static void
save_all(const struct xf_sigcache *c, struct wbuf *w)
{
	uint32_t off = c->head, end = c->wrap_end != 0 ? c->wrap_end : c->tail;

	for (int part = 0; part < 2; part++) {
		while (off < end) {
			const struct ent *e = ent_at(c, off);

			if (e->live == ENT_LIVE) {
				save_entry(w, e);
			}
			off += e->len;
		}
		if (c->wrap_end == 0) {
			break;
		}
		off = 0;
		end = c->tail;
	}
}

int
xf_sigcache_save(struct xf_sigcache *c, int dir_fd, const char *name)
{
	char tmp[256];
	struct wbuf *w;
	/* Pending entries are not saved: nothing would settle them after a restart. */
	uint32_t hdr[2] = { SC_VERSION, c->n - c->npending };
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	w->n = 0;
	w->err = 0;
	w->fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rc = -errno;
		free(w);
		return rc;
	}
	wb_put(w, SC_MAGIC, 8);
	wb_put(w, hdr, sizeof(hdr));
	save_all(c, w);
	wb_flush(w);
	rc = w->err;
	if (rc == 0 && fsync(w->fd) != 0) {
		rc = -errno;
	}
	close(w->fd);
	free(w);
	if (rc == 0 && renameat(dir_fd, tmp, dir_fd, name) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		unlinkat(dir_fd, tmp, 0);
		return rc;
	}
	fsync(dir_fd);
	c->st.saved = hdr[1];
	return (int)hdr[1];
}
