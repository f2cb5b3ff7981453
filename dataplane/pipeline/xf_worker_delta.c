/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, DELTA: the signatures of a basis (one file at a time through sg_buf, docs/
 * DELTA.md), a written file's own signatures for the cache, taken with its running CRC in
 * one pass (crc_feed(), with the CRC-64 product it derives block CRCs by), and the
 * pipeline's set of files whose DELTA failed verification. The COPY ops that use the
 * basis are writes (xf_worker_write.c).
 */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "xf_worker_priv.h"

/*
 * Files whose DELTA failed verification: struct xf_pipeline.delta_failed, one set per
 * pipeline (its workers share it). A full set forgets: such a file then goes DELTA again,
 * which is never wrong, only possibly failed again.
 */
#define DF_PROBE 8u

uint64_t
df_key(const struct xf_worker *w, const struct wfile *f)
{
	uint64_t h = 0xcbf29ce484222325ull ^ w->p->volume_id;
	const char *base = f->name + f->dir_len + 1;

	for (uint32_t i = 0; i < f->dir_len; i++) {
		h = (h ^ (uint8_t)f->name[i]) * 0x100000001b3ull;
	}
	h = (h ^ '/') * 0x100000001b3ull;
	for (const char *c = base; *c != '\0'; c++) {
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	}
	return h != 0 ? h : 1;
}

void
df_remember(struct xf_worker *w, uint64_t key)
{
	for (uint32_t i = 0; i < DF_PROBE; i++) {
		_Atomic uint64_t *slot = &w->p->delta_failed[(key + i) % XF_DF_SLOTS];
		uint64_t cur = atomic_load_explicit(slot, memory_order_relaxed);

		if (cur == key || (cur == 0 && atomic_compare_exchange_strong(slot, &cur, key)) ||
		    cur == key) {
			return;
		}
	}
}

/* True (and forgotten) if the key was remembered. */
bool
df_take(struct xf_worker *w, uint64_t key)
{
	for (uint32_t i = 0; i < DF_PROBE; i++) {
		_Atomic uint64_t *slot = &w->p->delta_failed[(key + i) % XF_DF_SLOTS];
		uint64_t cur = key;

		if (atomic_compare_exchange_strong(slot, &cur, 0)) {
			return true;
		}
	}
	return false;
}

/* A DELTA file is done with its basis: the fd, its signatures and its kept chunks. */
void
close_basis(struct xf_worker *w, struct wfile *f)
{
	if (f->basis_fd >= 0) {
		close(f->basis_fd); /* a file opened for reading: close does not block */
		f->basis_fd = -1;
	}
	xf_lease_free(f->sigs);
	f->sigs = NULL;
	xf_lease_free(f->bcrc);
	f->bcrc = NULL;
	while (f->nkeep > 0) {
		w->keep_free[w->keep_nfree++] = f->keep[--f->nkeep];
	}
	ns_off(w, f);
	xf_lease_free(f->bsig);
	f->bsig = NULL;
}

/*
 * A basis that was settled when its signatures began and is the same now: same inode,
 * size and change time as the quick check's statx. Any write to it since moves its
 * ctime (metadata changes too: never a false "same"), provided the statx's ctime is from
 * an earlier clock tick than the statx (sig_t0, CLOCK_REALTIME_COARSE, the clock file
 * times come from): a write within the same tick could otherwise leave it unchanged
 * where timestamps are coarse. A short blocking call on the worker (fstat),
 * once per COPY and once at FILE_END of a file whose COPY ops were cloned or copied in
 * the kernel.
 */
static int64_t
ctime_ns(const struct wfile *f)
{
	return (int64_t)f->stx.stx_ctime.tv_sec * 1000000000ll + f->stx.stx_ctime.tv_nsec;
}

static bool
basis_same(const struct wfile *f)
{
	const struct statx *x = &f->stx;
	struct stat sb;

	return f->basis_fd >= 0 && fstat(f->basis_fd, &sb) == 0 && sb.st_ino == x->stx_ino &&
	       (uint64_t)sb.st_size == x->stx_size && sb.st_ctim.tv_sec == x->stx_ctime.tv_sec &&
	       sb.st_ctim.tv_nsec == (long)x->stx_ctime.tv_nsec && ctime_ns(f) < f->sig_t0;
}

bool
basis_unchanged(struct xf_worker *w, struct wfile *f)
{
	bool same;

	if (f->basis_moved) {
		return false;
	}
	same = basis_same(f);
	if (!same) {
		f->basis_moved = 1;
		w->t.basis_changed++;
	}
	return same;
}

/* The block CRC-64s of the basis, from the bytes of its signature pass in order. */
void
bcrc_feed(struct wfile *f, const uint8_t *p, size_t n, bool last)
{
	while (n > 0 && f->bcrc_n < f->count) {
		size_t take = f->bs - f->bcrc_fill;

		take = n < take ? n : take;
		f->bcrc_run = xf_csum_crc64(f->bcrc_run, p, take);
		f->bcrc_fill += (uint32_t)take;
		p += take;
		n -= take;
		if (f->bcrc_fill == f->bs) {
			f->bcrc[f->bcrc_n++] = f->bcrc_run;
			f->bcrc_run = 0;
			f->bcrc_fill = 0;
		}
	}
	if (last && f->bcrc_fill > 0 && f->bcrc_n < f->count) {
		f->bcrc[f->bcrc_n++] = f->bcrc_run; /* the short last block */
		f->bcrc_fill = 0;
	}
}

/* ---- the signature cache (docs/DELTA.md, "Signature cache") ---- */

/* The basis's identity, from the quick check's statx. */
static void
sc_key(const struct wfile *f, struct xf_sigcache_key *k)
{
	const struct statx *x = &f->stx;

	*k = (struct xf_sigcache_key){
		.dev = makedev(x->stx_dev_major, x->stx_dev_minor),
		.ino = x->stx_ino,
		.size = x->stx_size,
		.mtime_ns = (int64_t)x->stx_mtime.tv_sec * 1000000000ll + x->stx_mtime.tv_nsec,
		.ctime_ns = ctime_ns(f),
	};
}

/*
 * Will the COPY ops of f take their CRC-64 from the basis's block CRCs (copy_direct() in
 * xf_worker_write.c: cloned, or copied in the kernel)?
 */
static bool
bcrc_used(const struct xf_worker *w, const struct wfile *f)
{
	return w->p->clone == XF_STORAGE_CLONE_REFLINK ||
	       (w->p->clone == XF_STORAGE_CLONE_COPY_RANGE && f->nkeep == 0);
}

/*
 * The basis's records from the cache, instead of reading it. Only a basis settled at its
 * statx (ctime older than the coarse clock read before it, as basis_unchanged() asks):
 * every write after the entry was made then shows as another ctime, and the entry is
 * dropped (xf_sigcache_get).
 */
static bool
sc_lookup(struct xf_worker *w, struct wfile *f)
{
	struct xf_sigcache_key k;

	if (w->sc == NULL || ctime_ns(f) >= f->sig_t0) {
		return false;
	}
	sc_key(f, &k);
	if (xf_sigcache_get(w->sc, &k, f->bs, f->count, f->sigs, f->bcrc) != 0) {
		return false;
	}
	f->nsig = f->count;
	f->bcrc_n = f->bcrc != NULL ? f->count : 0;
	return true;
}

/*
 * A completed signature pass goes into the cache when what was read is the version of
 * the key: the basis was settled at its statx and is the same now (inode, size, ctime),
 * so no write overlapped the reads.
 */
static void
sc_store(struct xf_worker *w, struct wfile *f)
{
	struct xf_sigcache_key k;

	if (w->sc == NULL || f->bcrc == NULL || f->bcrc_n != f->count || !basis_same(f)) {
		return;
	}
	sc_key(f, &k);
	xf_sigcache_put(w->sc, &k, f->bs, f->count, f->sigs, f->bcrc);
}

/* ---- DELTA: signatures of the basis, one file at a time through sg_buf ---- */

static void
sig_read(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];
	uint64_t left = f->basis_size - f->sig_off;
	uint32_t len;

	if (f->nkeep > 0) {
		/* Up to the end of the chunk (a short read leaves sig_off inside one). */
		len = CBUF - (uint32_t)(f->sig_off % CBUF);
		len = left < len ? (uint32_t)left : len;
		PREP(w, xf_storage_prep_read(w->st, f->basis_fd, keep_chunk(w, f, f->sig_off), len,
		                             f->sig_off, tag_of(T_SIG, fi)));
		return;
	}
	len = left < RB_SIZE ? (uint32_t)left : RB_SIZE;
	PREP(w, xf_storage_prep_read(w->st, f->basis_fd, w->sg_buf, len, f->sig_off,
	                             tag_of(T_SIG, fi)));
}

/* The signatures of f are complete: the DELTA decision goes out with them. */
static void
sig_done(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];
	struct xf_done d = {
		.type = XF_DONE_STAT,
		.decision = XF_DEC_DELTA,
		.sid = f->sid,
		.file = f->file,
		.fd = -1,
		.block_size = f->bs,
		.block_count = f->count,
		.gen = f->gen,
		.items = f->items,
		.uid = f->uid,
		.gid = f->gid,
		.sigs = f->sigs, /* the RX core's now: it sends them and gives them back */
	};

	ns_keep_basis(w, f);
	f->sigs = NULL;
	f->state = W_OPEN;
	post_done(w, f->rx, &d);
}

/*
 * Give f's temp file its announced size now, while it is empty, so that no COPY ever
 * lands past its end. The sender's COPY answers overtake its DATA frames, so a COPY
 * often started past the temp file's end then; a clone there makes XFS write back the
 * file's dirty last block and wait for it inside FICLONERANGE (it flushes from the old
 * end on), then drop that block from the page cache, and the write that later fills it
 * reads it back from the device, both on the worker (on the dev pair, an RX core's
 * lcore). Measured in the `delta` benchmark on XFS: 1,751 of 8,795 clones slept, every
 * one of them past the end, up to 39.8 ms; none once the size was set first
 * (docs/DELTA.md, "Apply by clone"). An empty file grows without writing anything
 * back (one transaction). Every volume, so the rule is one: on the others it
 * only changes when the size is set (file_finish() shrinks a file whose FILE_END says
 * less). Not fatal if refused: the file is written as before.
 */
static void
presize(struct xf_worker *w, struct wfile *f)
{
	uint64_t t0 = now_ns();

	if (ftruncate(f->fd, (off_t)f->size) == 0) {
		f->presized = 1;
		w->t.temp_presized++;
	}
	slow_check(w, t0, "giving a DELTA temp file its size");
}

/*
 * Begin the signatures of f: its first read is queued (false), or it is done at once
 * (true): aborted while queued, or its records came from the cache.
 */
static bool
sig_begin(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];

	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		return true;
	}
	presize(w, f);
	{
		uint64_t need = (f->basis_size + CBUF - 1) / CBUF;

		if (need <= KEEP_MAX && need <= w->keep_nfree) {
			while (f->nkeep < need) {
				f->keep[f->nkeep++] = w->keep_free[--w->keep_nfree];
			}
		}
	}
	/*
	 * A basis not yet written back (just written, by the push before: the `delta`
	 * benchmark): XFS writes a source range back before it shares it, synchronously,
	 * inside the clone, and that took 1.3 s for 64 files of 4 MiB against 0.07 s clean
	 * (docs/DELTA.md, "Apply by clone"). So its writeback starts here, not waited for
	 * (SYNC_FILE_RANGE_WRITE alone): its COPY ops come a round trip and the sender's
	 * matching later and find it written, or nearly. Reading such a basis and writing
	 * every byte again instead was most of the receiver's CPU when half the bases were
	 * dirty (perf/RESULTS.md, 2026-12-07 delta-1).
	 * Not called here: sync_file_range blocks while the device's queue is full, 433 ms of
	 * the lcore in 88 calls of one traced job (docs/DELTA.md, "What bounds the delta
	 * push"), so the storage runs it on its ring (an io-wq thread), on a duplicate of
	 * basis_fd that it closes itself, and its completion is only counted (T_IGN). On a
	 * context with no ring it is not run at all (completes -EOPNOTSUPP): the clone then
	 * waits for that writeback instead.
	 */
	if (w->p->clone == XF_STORAGE_CLONE_REFLINK) {
		uint64_t pages = 0;

		if (xf_storage_unwritten_pages(f->basis_fd, &pages) == 0 && pages > 0) {
			w->t.basis_dirty++;
			PREP(w,
			     xf_storage_prep_sync_range(w->st, f->basis_fd, 0, 0,
			                                SYNC_FILE_RANGE_WRITE, tag_of(T_IGN, 0)));
		}
	}
	/* Block CRC-64s where the COPY ops will not pass through the worker's memory
	 * (bcrc_used()), and for the cache. */
	if (w->sc != NULL || bcrc_used(w, f)) {
		f->bcrc =
		        xf_lease_alloc(w->p->sig_ring[w->idx], (size_t)f->count * sizeof(*f->bcrc));
		f->bs_op = xf_csum_crc64_shift(f->bs);
	}
	if (sc_lookup(w, f)) {
		/* Not read: nothing kept in memory, COPY ops go as for a large basis. */
		while (f->nkeep > 0) {
			w->keep_free[w->keep_nfree++] = f->keep[--f->nkeep];
		}
		if (f->bcrc != NULL && !bcrc_used(w, f)) {
			xf_lease_free(f->bcrc);
			f->bcrc = NULL;
		}
		sig_done(w, fi);
		return true;
	}
	sig_read(w, fi);
	return false;
}

/* The next queued file, or 0. */
static uint32_t
sig_pop(struct xf_worker *w)
{
	uint32_t fi = w->sg_head;

	if (fi != 0) {
		w->sg_head = w->files[fi - 1].sg_next;
		if (w->sg_head == 0) {
			w->sg_tail = 0;
		}
	}
	return fi;
}

/* Files whose signatures end at once are taken in a loop, not by recursion: a push of
 * many files found in the cache would otherwise nest as deep as the queue is long. */
void
sig_start(struct xf_worker *w, uint32_t fi)
{
	for (;;) {
		uint32_t nx;

		w->sg_active = fi + 1;
		if (!sig_begin(w, fi)) {
			return;
		}
		w->sg_active = 0;
		nx = sig_pop(w);
		if (nx == 0) {
			return;
		}
		fi = nx - 1;
	}
}

static void
sig_next_file(struct xf_worker *w)
{
	uint32_t nx = sig_pop(w);

	w->sg_active = 0;
	if (nx != 0) {
		sig_start(w, nx - 1);
	}
}

void
on_sig(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];
	int n;

	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		sig_next_file(w);
		return;
	}
	if (res > 0) {
		const uint8_t *got = f->nkeep > 0 ? keep_chunk(w, f, f->sig_off) : w->sg_buf;

		n = xf_delta_sig_update(&f->sg, got, (size_t)res, f->sigs + f->nsig,
		                        f->count - f->nsig);
		if (n >= 0) {
			f->nsig += (uint32_t)n;
			f->sig_off += (uint64_t)res;
			if (f->bcrc != NULL) {
				bcrc_feed(f, got, (size_t)res, f->sig_off >= f->basis_size);
			}
			if (f->sig_off < f->basis_size) {
				sig_read(w, fi);
				return;
			}
			if (f->nsig < f->count) {
				f->nsig += (uint32_t)xf_delta_sig_finish(&f->sg, f->sigs + f->nsig);
			}
		}
	}
	if (f->bcrc != NULL && f->bcrc_n != f->count) {
		/* Cannot happen with nsig == count; a file without them reads back instead. */
		xf_lease_free(f->bcrc);
		f->bcrc = NULL;
	}
	if (res <= 0 || f->nsig != f->count) {
		/* The basis shrank or cannot be read: no signatures, the file goes whole. */
		close_basis(w, f);
		f->delta = 0;
		f->state = W_OPEN;
		post_simple(w, f, XF_DONE_STAT, XF_DEC_WHOLE, XF_ST_OK, -1);
		sig_next_file(w);
		return;
	}
	sc_store(w, f);
	if (f->bcrc != NULL && !bcrc_used(w, f)) {
		xf_lease_free(f->bcrc); /* taken for the cache only */
		f->bcrc = NULL;
	}
	sig_done(w, fi);
	sig_next_file(w);
}

/* ---- signatures of the file being written, for its entry at commit ---- */

/* f is not signed (any more): its records go back. */
void
ns_off(struct xf_worker *w, struct wfile *f)
{
	if (f->ns_sigs != NULL) {
		w->ns_held -= (uint64_t)f->ns_count * (sizeof(*f->ns_sigs) + sizeof(*f->ns_bcrc));
		xf_lease_free(f->ns_sigs);
	}
	f->ns_sigs = NULL;
	f->ns_bcrc = NULL;
	f->ns_state = NS_OFF;
}

/*
 * Begin signing f as the next push will sign it as a basis of its announced size: the
 * block size is the receiver's choice from that size and this volume alone (on_basis()),
 * so it is known now. Only where an entry can be made safely (ctime_fine) and is worth
 * it (NS_MIN). The size is the peer's word: the records of the files being signed are
 * bounded together by the worker's cache (what they could take in it at most).
 */
static void
ns_begin(struct xf_worker *w, struct wfile *f)
{
	struct xf_sigcache_stats st;
	uint64_t count, need;

	f->ns_state = NS_OFF;
	if (w->sc == NULL || !w->p->ctime_fine || f->size < NS_MIN || f->dry) {
		return;
	}
	f->ns_bs = w->p->clone == XF_STORAGE_CLONE_REFLINK
	                   ? xf_delta_block_size_aligned(f->size, w->p->clone_blk)
	                   : xf_delta_block_size(f->size);
	count = xf_delta_block_count(f->size, f->ns_bs);
	need = count * (sizeof(*f->ns_sigs) + sizeof(*f->ns_bcrc));
	xf_sigcache_stats(w->sc, &st);
	if (count > XF_DELTA_BLOCKS_MAX || need > st.capacity - XF_MIN(w->ns_held, st.capacity) ||
	    xf_delta_sig_begin(&f->ns_sg, f->ns_bs) != 0) {
		return;
	}
	f->ns_count = (uint32_t)count;
	f->ns_sigs = xf_lease_alloc(w->p->sig_ring[w->idx], (size_t)need);
	if (f->ns_sigs == NULL) {
		return;
	}
	w->ns_held += need;
	f->ns_bcrc = (uint64_t *)(void *)(f->ns_sigs + f->ns_count);
	f->ns_off = 0;
	f->ns_n = 0;
	f->ns_bn = 0;
	f->ns_fill = 0;
	f->ns_run = 0;
	f->ns_op = crc_shift(f->ns_bs);
	f->ns_state = NS_ON;
}

/* The running CRC starts again from 0 (verify: full): so do the signatures. */
void
ns_restart(struct xf_worker *w, struct wfile *f)
{
	ns_off(w, f);
	f->ns_state = NS_NONE; /* the read-back from 0 begins them again (crc_feed()) */
}

/* The CRC-64 product and shift (drivers/csum: a carry-less multiply where the CPU has
 * one): one product per signed block, where ISA-L would otherwise sum the block's bytes
 * a second time. */
uint64_t
crc_mulmod(uint64_t a, uint64_t b)
{
	return xf_csum_crc64_mulmod(a, b);
}

uint64_t
crc_shift(uint64_t len)
{
	return xf_csum_crc64_shift(len);
}

/*
 * The running CRC takes bytes [f->crc_off, + n) of f (p; the caller moves crc_off on).
 * While f is being signed (ns_state NS_ON), its signatures take them too, and each
 * block's CRC-64 comes from the running CRC at the block's end and at its start:
 * crc(block) = crc(..block) ^ shift(block) * crc(..start), one product, so the bytes
 * are summed once. A range the CRC took without bytes (a cloned COPY's combined CRC, a
 * hole) leaves a gap: the next bytes do not start at ns_off, and the file is not signed
 * (docs/DELTA.md, "Signature cache", what it covers).
 */
void
crc_feed(struct xf_worker *w, struct wfile *f, const uint8_t *p, size_t n)
{
	uint64_t off = f->crc_off;
	int got;

	if (f->ns_state == NS_NONE) {
		ns_begin(w, f);
	}
	if (f->ns_state == NS_ON && (off != f->ns_off || n > f->size - off)) {
		ns_off(w, f);
	}
	if (f->ns_state != NS_ON) {
		f->crc = xf_csum_crc64(f->crc, p, n);
		return;
	}
	got = xf_delta_sig_update(&f->ns_sg, p, n, f->ns_sigs + f->ns_n, f->ns_count - f->ns_n);
	if (got < 0) {
		ns_off(w, f);
		f->crc = xf_csum_crc64(f->crc, p, n);
		return;
	}
	f->ns_n += (uint32_t)got;
	f->ns_off = off + n;
	while (n > 0) {
		size_t take = f->ns_bs - f->ns_fill;

		take = n < take ? n : take;
		if (f->ns_fill == 0) {
			f->ns_run = f->crc; /* the CRC of the file up to this block */
		}
		f->crc = xf_csum_crc64(f->crc, p, take);
		f->ns_fill += (uint32_t)take;
		off += take;
		p += take;
		n -= take;
		if (f->ns_fill == f->ns_bs) {
			f->ns_bcrc[f->ns_bn++] = f->crc ^ crc_mulmod(f->ns_op, f->ns_run);
			f->ns_fill = 0;
		} else if (off == f->size) {
			/* The short last block. */
			f->ns_bcrc[f->ns_bn++] =
			        f->crc ^ crc_mulmod(crc_shift(f->ns_fill), f->ns_run);
			f->ns_fill = 0;
		}
	}
}

/*
 * A DELTA file whose COPY ops will not pass through the worker (cloned, or copied in the
 * kernel: their CRC-64 comes from the basis's block CRCs) and whose next block size is
 * the basis's (a file of about the same size): the basis's records are kept, so that a
 * COPY that keeps whole blocks in place gives the file's own records without its bytes
 * (ns_copy()). 8 bytes per block, from the worker's lease ring.
 */
void
ns_keep_basis(struct xf_worker *w, struct wfile *f)
{
	if (f->bcrc == NULL || f->sigs == NULL) {
		return;
	}
	if (f->ns_state == NS_NONE) {
		ns_begin(w, f);
	}
	if (f->ns_state != NS_ON || f->ns_bs != f->bs) {
		return;
	}
	f->bsig = xf_lease_alloc(w->p->sig_ring[w->idx], (size_t)f->count * sizeof(*f->bsig));
	if (f->bsig != NULL) {
		memcpy(f->bsig, f->sigs, (size_t)f->count * sizeof(*f->bsig));
	}
}

/*
 * A COPY of whole basis blocks [src, src + len) to [off, off + len) whose CRC-64 was
 * combined from the basis's block CRCs: where it starts on a block of the file's own
 * signatures (same block size), each of its blocks is a block of the file, with the
 * basis block's weak and strong sums and CRC-64. The last block may be short only where
 * it is both files' last. The records go in place now; the signatures pass over the
 * range when the running CRC does (ns_skip()).
 * @return true if the records were placed.
 */
bool
ns_copy(struct xf_worker *w, struct wfile *f, uint64_t off, uint64_t src, uint64_t len)
{
	uint64_t bs = f->bs, first = off / bs, nb = (len + bs - 1) / bs;

	(void)w;
	if (f->ns_state != NS_ON || f->bsig == NULL || off % bs != 0 || src % bs != 0 ||
	    off > f->size || len > f->size - off || src > f->basis_size ||
	    len > f->basis_size - src ||
	    (len % bs != 0 && (src + len != f->basis_size || off + len != f->size))) {
		return false;
	}
	memcpy(f->ns_sigs + first, f->bsig + src / bs, nb * sizeof(*f->ns_sigs));
	memcpy(f->ns_bcrc + first, f->bcrc + src / bs, nb * sizeof(*f->ns_bcrc));
	return true;
}

/*
 * The running CRC passed over [off, off + len) without its bytes (a COPY's combined CRC):
 * so do the signatures, if that range's records were placed (ns_copy()) and they stand at
 * its start; otherwise the next bytes find a gap and the file is not signed.
 */
void
ns_skip(struct wfile *f, uint64_t off, uint64_t len)
{
	uint64_t nb = (len + f->ns_bs - 1) / f->ns_bs;

	if (f->ns_state != NS_ON || f->ns_off != off || f->ns_fill != 0 ||
	    f->ns_n != off / f->ns_bs) {
		return;
	}
	f->ns_n += (uint32_t)nb;
	f->ns_bn += (uint32_t)nb;
	f->ns_sg.blocks += nb;
	f->ns_off = off + len;
}

static void
key_of(const struct stat *sb, struct xf_sigcache_key *k)
{
	*k = (struct xf_sigcache_key){
		.dev = sb->st_dev,
		.ino = sb->st_ino,
		.size = (uint64_t)sb->st_size,
		.mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000ll + sb->st_mtim.tv_nsec,
		.ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000ll + sb->st_ctim.tv_nsec,
	};
}

/*
 * f is verified (its mode and mtime set): a file signed whole goes into the cache,
 * pending, under its inode; the commit gives it its key (sc_note_commit()). A file
 * written at its name in a staged directory has had its last step that moves its ctime
 * (its mtime): the directory's rename does not touch it, so its key is taken now. A
 * short blocking call on the worker (fstat), once per signed file.
 */
void
ns_verified(struct xf_worker *w, struct wfile *f)
{
	struct xf_sigcache_key k;
	struct stat sb;

	if (f->ns_state != NS_ON) {
		return;
	}
	if (f->ns_off == f->size && f->fe_size == f->size) {
		if (f->ns_n < f->ns_count) {
			f->ns_n += (uint32_t)xf_delta_sig_finish(&f->ns_sg, f->ns_sigs + f->ns_n);
		}
		if (f->ns_n == f->ns_count && f->ns_bn == f->ns_count && fstat(f->fd, &sb) == 0) {
			key_of(&sb, &k);
			f->ns_pending = k.size == f->size && k.mtime_ns == f->mtime_ns &&
			                xf_sigcache_put_pending(w->sc, &k, f->ns_bs, f->ns_count,
			                                        f->ns_sigs, f->ns_bcrc) == 0;
			if (f->ns_pending && f->inplace) {
				xf_sigcache_settle(w->sc, &k);
				f->ns_pending = 0;
			}
		}
	}
	ns_off(w, f);
}

/* A committed file's key: its pending entry becomes an entry (this worker's cache). */
void
sc_settle(struct xf_worker *w, const struct xf_sigcache_key *k)
{
	if (w->sc != NULL) {
		xf_sigcache_settle(w->sc, k);
	}
}

/* The keys the commit executor sent this worker. */
void
sc_notes(struct xf_worker *w)
{
	struct xf_sigcache_key k[16];
	unsigned int n;

	if (w->p->sc_note[w->idx] == NULL) {
		return;
	}
	n = xf_ring_dequeue_burst(w->p->sc_note[w->idx], k, XF_ARRAY_SIZE(k));
	for (unsigned int i = 0; i < n; i++) {
		sc_settle(w, &k[i]);
	}
}

/*
 * The commit executor made the signed file of it (fd) final: its key, taken now, after
 * the last step that moves its ctime (its rename or link; the mode and mtime were set
 * before), goes to the worker whose cache holds its pending entry. Why this key cannot
 * hide a later write: docs/DELTA.md, "Signature cache". A full ring loses the key (the
 * entry stays pending, never a hit), counted.
 */
void
sc_note_commit(struct xf_worker *w, const struct xf_work *it, int fd)
{
	unsigned int owner = xf_pipeline_worker_of(w->p, it->file);
	struct xf_sigcache_key k;
	struct stat sb;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		return;
	}
	key_of(&sb, &k);
	if (owner == w->idx) {
		sc_settle(w, &k);
	} else if (xf_ring_enqueue_burst(w->p->sc_note[owner], &k, 1) != 1) {
		w->t.sc_notes_lost++;
	}
}
