/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delta transfer: block signatures, the matcher and the apply helper (docs/DELTA.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "xf_base.h"
#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_delta_weak.h"

/*
 * Room for new input beyond the pending literal and the window. At least a block so
 * a window always fits, at least 64 KiB so the compaction memmove (at most
 * max_literal + block_size bytes) is amortised over a large refill.
 */
#define LOOKAHEAD_MIN (64u * 1024u)

/* Slot of the open-addressing table; idx1 == 0 marks an empty slot. */
struct slot {
	uint32_t weak; /* copy of sigs[idx1 - 1].weak, so probing stays in the table */
	uint32_t idx1; /* block index + 1 */
};

struct xf_delta_match {
	/* Basis, as the signatures describe it. */
	const struct xf_sig_rec *sigs;
	uint32_t bs;         /* block size */
	uint32_t count;      /* blocks */
	uint32_t tail_len;   /* length of the last block, 0 if unknown */
	bool last_in_table;  /* the last block may be full-size: matched anywhere as such */
	bool tail_search;    /* the last block may be short: also tried at the end */
	uint32_t max_lit;    /* cap of one DATA op */
	uint32_t max_copy;   /* cap of one COPY op */
	struct slot *tab;    /* 2^bits slots, at most half full */
	size_t tab_cap;      /* slots allocated (a reset keeps them if enough) */
	size_t filter_cap;   /* filter words allocated */
	uint32_t mask;       /* slots - 1 */
	unsigned int shift;  /* 32 - bits, for the multiplicative hash */
	uint64_t *filter;    /* 2^fbits bits: set where some block's hash lands */
	unsigned int fshift; /* 32 - fbits */

	/*
	 * The bytes being scanned: win[lit..pos) is the pending literal, win[pos..pos+bs)
	 * the window, win[..fill) what has been read; win[0] is at file offset base. win
	 * is the window buffer buf (capacity cap), or, inside one feed, the caller's
	 * buffer scanned in place; between calls it is always buf.
	 */
	const uint8_t *win;
	uint8_t *buf;
	size_t cap;
	size_t lit, pos, fill;
	uint64_t base;
	struct xf_delta_weak w;
	bool w_valid; /* w is the checksum of the window at pos, and pos was checked */
	int64_t hint; /* block after the last match: tried first (-1: none) */

	/* COPY being coalesced. */
	bool have_copy;
	uint64_t copy_dst, copy_src;
	uint32_t copy_len;

	xf_delta_emit_fn emit;
	void *arg;
	int err; /* sticky: the callback's nonzero value, or -EINVAL after finish */
	bool finished;
	struct xf_delta_stats st;
	bool roll_avx2; /* roll eight positions per step (CPU has AVX2; tests may clear it) */
};

static uint64_t
isqrt64(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;

	while (bit > x) {
		bit >>= 2;
	}
	while (bit != 0) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

uint32_t
xf_delta_block_size(uint64_t size)
{
	uint64_t bs = isqrt64(size) & ~(uint64_t)7;

	if (bs < XF_DELTA_BLOCK_MIN) {
		return XF_DELTA_BLOCK_MIN;
	}
	if (bs > XF_BLOCK_MAX) {
		return XF_BLOCK_MAX;
	}
	return (uint32_t)bs;
}

uint32_t
xf_delta_block_size_aligned(uint64_t size, uint32_t align)
{
	uint32_t bs = xf_delta_block_size(size);

	if (align < 8 || align > XF_BLOCK_MAX || (align & (align - 1)) != 0 || bs < align) {
		return bs;
	}
	/* The nearest multiple, at most align / 2 (half of bs) from sqrt: signature and
	 * literal bytes together grow by at most 8% (docs/DELTA.md, "Block size rule"). */
	bs = (bs + align / 2) / align * align;
	if (bs < XF_DELTA_BLOCK_MIN) {
		bs += align; /* small blocks of a small file system block: the next multiple */
	}
	return bs > XF_BLOCK_MAX ? XF_BLOCK_MAX : bs;
}

uint64_t
xf_delta_block_count(uint64_t size, uint32_t block_size)
{
	if (block_size == 0) {
		return 0;
	}
	return size / block_size + (size % block_size != 0);
}

int
xf_delta_sig_begin(struct xf_delta_sig *g, uint32_t block_size)
{
	if (block_size == 0 || block_size > XF_BLOCK_MAX) {
		return -EINVAL;
	}
	memset(g, 0, sizeof(*g));
	g->block_size = block_size;
	return 0;
}

static void
sig_emit(struct xf_delta_sig *g, struct xf_sig_rec *out)
{
	out->weak = (g->a & 0xffffu) | (g->b << 16);
	out->strong = g->crc;
	g->a = g->b = 0;
	g->crc = 0;
	g->part = 0;
	g->blocks++;
}

int
xf_delta_sig_update(struct xf_delta_sig *g, const void *buf, size_t len, struct xf_sig_rec *out,
                    size_t cap)
{
	const uint8_t *p = buf;
	xf_delta_raw_fn kernel = xf_delta_raw_kernel();
	size_t n = 0;

	if (cap < xf_delta_sig_max_records(g, len)) {
		return -ENOSPC;
	}
	while (len > 0) {
		size_t take = XF_MIN(len, (size_t)(g->block_size - g->part));
		uint32_t A, B;

		/* A block split across calls continues from the running sums in g. */
		kernel(p, take, &A, &B);
		xf_delta_weak_fold(&g->a, &g->b, A, B, take);
		g->crc = xf_csum_crc32c(g->crc, p, take);
		g->part += (uint32_t)take;
		p += take;
		len -= take;
		if (g->part == g->block_size) {
			sig_emit(g, &out[n++]);
		}
	}
	return (int)n;
}

int
xf_delta_sig_finish(struct xf_delta_sig *g, struct xf_sig_rec *out)
{
	if (g->part == 0) {
		return 0;
	}
	sig_emit(g, out);
	return 1;
}

size_t
xf_delta_match_buffer_size(const struct xf_delta_params *p)
{
	uint32_t bs = p->block_count > 0 ? p->block_size : 0;

	return (size_t)p->max_literal + bs + XF_MAX(bs, LOOKAHEAD_MIN);
}

/* Fibonacci hashing: the top bits of weak * 2^32/phi mix both 16-bit halves. */
static inline uint32_t
hash_weak(uint32_t weak)
{
	return weak * 0x9E3779B1u;
}

static inline uint32_t
slot_of(const struct xf_delta_match *m, uint32_t weak)
{
	return hash_weak(weak) >> m->shift;
}

/*
 * The filter is a finer cut of the same hash (more top bits) at 64 bits per block
 * (16 for large tables): about 1.5% (6%) of the positions without a match get past
 * it, the others never touch the table, which at 8 bytes per slot falls out of L1
 * beyond a few thousand blocks.
 */
static inline bool
filter_test(const struct xf_delta_match *m, uint32_t weak)
{
	uint32_t h = hash_weak(weak) >> m->fshift;

	return (m->filter[h >> 6] >> (h & 63)) & 1;
}

static bool
in_table(const struct xf_delta_match *m, uint32_t idx)
{
	return idx != m->count - 1 || m->last_in_table;
}

/* Insert block idx unless an identical block (same weak and strong) is already there. */
static void
table_insert(struct xf_delta_match *m, uint32_t idx)
{
	const struct xf_sig_rec *s = &m->sigs[idx];
	uint32_t i = slot_of(m, s->weak);

	while (m->tab[i].idx1 != 0) {
		if (m->tab[i].weak == s->weak && m->sigs[m->tab[i].idx1 - 1].strong == s->strong) {
			return;
		}
		i = (i + 1) & m->mask;
	}
	m->tab[i].weak = s->weak;
	m->tab[i].idx1 = idx + 1;
	i = hash_weak(s->weak) >> m->fshift;
	m->filter[i >> 6] |= 1ull << (i & 63);
}

/* Room for n elements of size sz in *p (capacity *cap, in elements), zeroed if asked. */
static int
grow(void **p, size_t *cap, size_t n, size_t sz, bool zero)
{
	if (n > *cap) {
		void *q = zero ? calloc(n, sz) : malloc(n * sz);

		if (q == NULL) {
			return -ENOMEM;
		}
		free(*p);
		*p = q;
		*cap = n;
	} else if (zero) {
		memset(*p, 0, n * sz);
	}
	return 0;
}

int
xf_delta_match_reset(struct xf_delta_match *m, const struct xf_delta_params *p,
                     xf_delta_emit_fn emit, void *arg)
{
	struct xf_delta_match keep = *m;
	unsigned int bits = 4, fbits = 6;
	int rc;

	if (p == NULL || emit == NULL || p->max_literal == 0 ||
	    p->block_count > XF_DELTA_BLOCKS_MAX ||
	    (p->block_count > 0 &&
	     (p->sigs == NULL || p->block_size == 0 || p->block_size > XF_BLOCK_MAX ||
	      p->tail_len > p->block_size || (p->max_copy != 0 && p->max_copy < p->block_size)))) {
		return -EINVAL;
	}
	if (p->block_count > 0) {
		/* At most half full, so a miss ends at an empty slot after ~2 probes. */
		while ((1ull << bits) < 2ull * p->block_count) {
			bits++;
		}
		/*
		 * 64 bits per block while the filter stays within 256 KiB (L2): 1.5% of
		 * the positions get past it instead of 6%, and each of those costs a
		 * table probe. Larger tables keep the 16 bits per block bound.
		 */
		while ((1ull << fbits) < 16ull * p->block_count ||
		       ((1ull << fbits) < 64ull * p->block_count && fbits < 21)) {
			fbits++;
		}
	}
	/* Everything about the previous file goes; the buffers stay if they are big enough. */
	memset(m, 0, sizeof(*m));
	m->buf = keep.buf;
	m->cap = keep.cap;
	m->tab = keep.tab;
	m->tab_cap = keep.tab_cap;
	m->filter = keep.filter;
	m->filter_cap = keep.filter_cap;
	{
		/* Through void pointers of their own: no object is written as another type. */
		void *buf = m->buf, *tab = m->tab, *filter = m->filter;

		rc = grow(&buf, &m->cap, xf_delta_match_buffer_size(p), 1, false);
		if (rc == 0 && p->block_count > 0) {
			rc = grow(&tab, &m->tab_cap, (size_t)1 << bits, sizeof(*m->tab), true);
		}
		if (rc == 0 && p->block_count > 0) {
			rc = grow(&filter, &m->filter_cap, (size_t)1 << (fbits - 6),
			          sizeof(*m->filter), true);
		}
		m->buf = buf;
		m->tab = tab;
		m->filter = filter;
	}
	if (rc != 0) {
		m->count = 0;
		m->err = rc; /* the matcher is unusable until a reset succeeds */
		m->finished = true;
		return rc;
	}
	m->sigs = p->sigs;
	m->count = p->block_count;
	m->bs = p->block_count > 0 ? p->block_size : 0;
	m->tail_len = p->tail_len;
	/*
	 * A last block known to be short is matched only at the end of the new file, with
	 * its length. One of unknown length is both: a full-size window that matches its
	 * weak sum and CRC64 is taken as proof that it is full (the same trust every COPY
	 * puts in CRC64), and the end of the new file is searched for a short one.
	 */
	m->last_in_table = p->tail_len == 0 || p->tail_len == m->bs;
	m->tail_search = m->count > 0 && p->tail_len != m->bs;
	m->max_lit = p->max_literal;
	m->max_copy = p->max_copy != 0 ? p->max_copy : XF_DELTA_COPY_MAX;
	m->emit = emit;
	m->arg = arg;
	m->hint = -1;
	m->win = m->buf;
	m->roll_avx2 = xf_delta_avx2_usable();
	if (m->count > 0) {
		m->mask = (1u << bits) - 1;
		m->shift = 32 - bits;
		m->fshift = 32 - fbits;
		for (uint32_t i = 0; i < m->count; i++) {
			if (in_table(m, i)) {
				table_insert(m, i);
			}
		}
	}
	return 0;
}

struct xf_delta_match *
xf_delta_match_create(const struct xf_delta_params *p, xf_delta_emit_fn emit, void *arg)
{
	struct xf_delta_match *m = calloc(1, sizeof(*m));
	int rc;

	if (m == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = xf_delta_match_reset(m, p, emit, arg);
	if (rc != 0) {
		xf_delta_match_free(m);
		errno = -rc;
		return NULL;
	}
	return m;
}

void
xf_delta_match_free(struct xf_delta_match *m)
{
	if (m == NULL) {
		return;
	}
	free(m->filter);
	free(m->tab);
	free(m->buf);
	free(m);
}

const struct xf_delta_stats *
xf_delta_match_stats(const struct xf_delta_match *m)
{
	return &m->st;
}

static int
emit_op(struct xf_delta_match *m, const struct xf_delta_op *op)
{
	int rc = m->emit(m->arg, op);

	if (rc != 0) {
		m->err = rc;
	}
	return rc;
}

static int
flush_copy(struct xf_delta_match *m)
{
	struct xf_delta_op op = {
		.kind = XF_DELTA_OP_COPY,
		.len = m->copy_len,
		.offset = m->copy_dst,
		.src_offset = m->copy_src,
	};

	if (!m->have_copy) {
		return 0;
	}
	m->have_copy = false;
	m->st.copy_ops++;
	m->st.matched_bytes += op.len;
	return emit_op(m, &op);
}

/* Emit buf[lit..lit+len) as one DATA op. */
static int
emit_data(struct xf_delta_match *m, size_t len)
{
	struct xf_delta_op op = {
		.kind = XF_DELTA_OP_DATA,
		.len = (uint32_t)len,
		.offset = m->base + m->lit,
		.bytes = m->win + m->lit,
	};
	int rc = flush_copy(m);

	if (rc != 0) {
		return rc;
	}
	m->lit += len;
	m->st.data_ops++;
	m->st.literal_bytes += len;
	return emit_op(m, &op);
}

/* Emit the pending literal up to end, in pieces of at most max_lit. */
static int
flush_literal(struct xf_delta_match *m, size_t end)
{
	int rc = 0;

	while (rc == 0 && m->lit < end) {
		rc = emit_data(m, XF_MIN(end - m->lit, (size_t)m->max_lit));
	}
	return rc;
}

/* Block idx of length len matched at buf[pos]: flush the literal before it, extend or
 * start a COPY, and move past it. */
static int
matched(struct xf_delta_match *m, uint32_t idx, uint32_t len)
{
	uint64_t dst = m->base + m->pos;
	uint64_t src = (uint64_t)idx * m->bs;
	int rc = flush_literal(m, m->pos);

	if (rc != 0) {
		return rc;
	}
	if (m->have_copy && m->copy_src + m->copy_len == src && m->copy_dst + m->copy_len == dst &&
	    (uint64_t)m->copy_len + len <= m->max_copy) {
		m->copy_len += len;
	} else {
		rc = flush_copy(m);
		if (rc != 0) {
			return rc;
		}
		m->have_copy = true;
		m->copy_dst = dst;
		m->copy_src = src;
		m->copy_len = len;
	}
	m->pos += len;
	m->lit = m->pos;
	m->w_valid = false;
	m->hint = (int64_t)idx + 1;
	return 0;
}

/* The block whose full-size window sits at buf[pos], or -1. */
static int64_t
lookup(struct xf_delta_match *m, uint32_t weak)
{
	const uint8_t *win = m->win + m->pos;
	bool have_strong = false;
	uint32_t strong = 0;
	uint32_t i;

	/* Like rsync: after a match, the next block of the basis wins among equals. */
	if (m->hint >= 0 && m->hint < m->count && in_table(m, (uint32_t)m->hint) &&
	    m->sigs[m->hint].weak == weak) {
		m->st.weak_hits++;
		strong = xf_csum_crc32c(0, win, m->bs);
		have_strong = true;
		if (m->sigs[m->hint].strong == strong) {
			return m->hint;
		}
	}
	for (i = slot_of(m, weak); m->tab[i].idx1 != 0; i = (i + 1) & m->mask) {
		uint32_t idx = m->tab[i].idx1 - 1;

		if (m->tab[i].weak != weak || (int64_t)idx == m->hint) {
			continue;
		}
		if (!have_strong) {
			m->st.weak_hits++;
			strong = xf_csum_crc32c(0, win, m->bs);
			have_strong = true;
		}
		if (m->sigs[idx].strong == strong) {
			return idx;
		}
	}
	if (have_strong) {
		m->st.false_alarms++;
	}
	return -1;
}

/*
 * Roll the window at pos (already checked; pos + bs < fill) forward, in registers,
 * until the filter lets a position through (true), the pending literal reaches
 * max_lit or the buffered bytes run out (false). pos is left on the last position
 * rolled to.
 */
static bool
roll(struct xf_delta_match *m)
{
	const uint8_t *buf = m->win;
	size_t pos = m->pos, bs = m->bs;
	size_t stop = XF_MIN(m->fill - bs, m->lit + m->max_lit);
	uint32_t a = m->w.a, b = m->w.b, n = m->w.len;
	bool maybe = false;

	while (pos < stop) {
		uint32_t yo = (uint32_t)buf[pos] + XF_DELTA_CHAR_OFFSET;

		a += (uint32_t)buf[pos + bs] + XF_DELTA_CHAR_OFFSET - yo;
		b += a - n * yo;
		pos++;
		if (filter_test(m, (a & 0xffffu) | (b << 16))) {
			maybe = true;
			break;
		}
	}
	m->w.a = a;
	m->w.b = b;
	m->pos = pos;
	m->hint = -1;
	return maybe;
}

#if defined(__x86_64__)
/* Inclusive prefix sums of eight 32-bit lanes (wrapping). */
__attribute__((target("avx2"))) static inline __m256i
prefix8(__m256i x)
{
	x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
	x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
	/* Lane 3 of the low half, added to the four lanes of the high half. */
	return _mm256_add_epi32(x,
	                        _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xff));
}

/*
 * Whether some block in the table has this weak sum. When not, lookup() right after
 * roll() (hint is -1 there) would find nothing and change nothing.
 */
static inline bool
table_has(const struct xf_delta_match *m, uint32_t weak)
{
	for (uint32_t i = slot_of(m, weak); m->tab[i].idx1 != 0; i = (i + 1) & m->mask) {
		if (m->tab[i].weak == weak) {
			return true;
		}
	}
	return false;
}

/*
 * roll(), eight positions per step: the byte-by-byte recurrence unrolled into prefix
 * sums. With d[k] = in[k] - out[k] and e[k] = n (out[k] + OFF), after step k
 *   a[k] = a + sum_{j<=k} d[j],  b[k] = b + sum_{j<=k} (a[j] - e[j]),
 * the same wrapping uint32 values as the loop; digests and hashes in vector lanes, the
 * filter bits then tested in position order. It stops at the first position whose
 * weak sum is in the table: roll() stops earlier, at every filter pass, but lookup()
 * finds nothing at the others and scan() rolls on, so both reach the same state.
 */
__attribute__((target("avx2"))) static bool
roll_avx2(struct xf_delta_match *m)
{
	const uint8_t *buf = m->win;
	const uint64_t *filter = m->filter;
	size_t pos = m->pos, bs = m->bs;
	size_t stop = XF_MIN(m->fill - bs, m->lit + m->max_lit);
	uint32_t a = m->w.a, b = m->w.b, n = m->w.len;
	const __m256i off = _mm256_set1_epi32(XF_DELTA_CHAR_OFFSET);
	const __m256i vn = _mm256_set1_epi32((int)n);
	const __m256i golden = _mm256_set1_epi32((int)0x9E3779B1u);
	const __m256i lo16 = _mm256_set1_epi32(0xffff);
	const __m256i last = _mm256_set1_epi32(7);
	const __m128i fshift = _mm_cvtsi32_si128((int)m->fshift);
	__m256i va = _mm256_set1_epi32((int)a), vb = _mm256_set1_epi32((int)b);
	bool maybe = false;

	while (pos + 8 <= stop) {
		__m256i out = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const void *)(buf + pos)));
		__m256i in = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const void *)(buf + pos + bs)));
		__m256i A = _mm256_add_epi32(va, prefix8(_mm256_sub_epi32(in, out)));
		__m256i E = _mm256_mullo_epi32(vn, _mm256_add_epi32(out, off));
		__m256i B = _mm256_add_epi32(vb, prefix8(_mm256_sub_epi32(A, E)));
		__m256i d = _mm256_or_si256(_mm256_and_si256(A, lo16), _mm256_slli_epi32(B, 16));
		__m256i h = _mm256_srl_epi32(_mm256_mullo_epi32(d, golden), fshift);
		uint32_t hs[8];

		_mm256_storeu_si256((__m256i *)(void *)hs, h);
		for (unsigned int k = 0; k < 8; k++) {
			uint32_t as[8], bsum[8], ds[8];

			if (likely(((filter[hs[k] >> 6] >> (hs[k] & 63)) & 1) == 0)) {
				continue;
			}
			/*
			 * Past the filter: probe the table here, where a miss (nearly
			 * always) is a predicted branch and its L2 latency overlaps the
			 * next positions; only a weak sum in the table goes to lookup().
			 */
			_mm256_storeu_si256((__m256i *)(void *)ds, d);
			if (table_has(m, ds[k])) {
				_mm256_storeu_si256((__m256i *)(void *)as, A);
				_mm256_storeu_si256((__m256i *)(void *)bsum, B);
				a = as[k];
				b = bsum[k];
				pos += k + 1;
				maybe = true;
				goto done;
			}
		}
		va = _mm256_permutevar8x32_epi32(A, last);
		vb = _mm256_permutevar8x32_epi32(B, last);
		pos += 8;
	}
	/* The last few positions, one at a time. */
	m->w.a = (uint32_t)_mm256_cvtsi256_si32(va);
	m->w.b = (uint32_t)_mm256_cvtsi256_si32(vb);
	m->pos = pos;
	return roll(m);
done:
	m->w.a = a;
	m->w.b = b;
	m->pos = pos;
	m->hint = -1;
	return maybe;
}
#endif

static inline bool
roll_any(struct xf_delta_match *m)
{
#if defined(__x86_64__)
	if (m->roll_avx2) {
		return roll_avx2(m);
	}
#endif
	return roll(m);
}

void
xf_delta_match_no_simd(struct xf_delta_match *m)
{
	m->roll_avx2 = false;
}

/* Process every window position that the buffered bytes allow. */
static int
scan(struct xf_delta_match *m)
{
	int rc;

	if (m->count == 0) {
		m->pos = m->fill;
		return m->pos - m->lit >= m->max_lit
		               ? flush_literal(m,
		                               m->lit + (m->pos - m->lit) / m->max_lit * m->max_lit)
		               : 0;
	}
	for (;;) {
		int64_t idx;

		if (!m->w_valid) {
			if (m->pos + m->bs > m->fill) {
				return 0;
			}
			xf_delta_weak_init(&m->w, m->win + m->pos, m->bs);
			m->w_valid = true;
		} else {
			bool maybe;

			if (m->pos + m->bs >= m->fill) {
				return 0;
			}
			maybe = roll_any(m);
			if (m->pos - m->lit >= m->max_lit) {
				rc = emit_data(m, m->max_lit);
				if (rc != 0) {
					return rc;
				}
			}
			if (!maybe) {
				continue; /* every position rolled over failed the filter */
			}
		}
		idx = lookup(m, xf_delta_weak_digest(&m->w));
		if (idx >= 0) {
			rc = matched(m, (uint32_t)idx, m->bs);
			if (rc != 0) {
				return rc;
			}
		}
	}
}

/* Drop the bytes before the pending literal to make room at the end of buf. */
static void
compact(struct xf_delta_match *m)
{
	size_t keep = m->fill - m->lit;

	memmove(m->buf, m->buf + m->lit, keep);
	m->base += m->lit;
	m->pos -= m->lit;
	m->fill = keep;
	m->lit = 0;
}

/*
 * Scan the caller's buffer where it lies: the pending bytes of buf, if any, are the r
 * bytes just before p (copied from this same call). Whatever the scan leaves pending
 * (a literal shorter than max_lit and a partial window: less than cap) goes back
 * to buf for the next call.
 */
static int
scan_in_place(struct xf_delta_match *m, const uint8_t *p, size_t r, size_t len)
{
	size_t keep;
	int rc;

	m->base += m->lit;
	m->pos -= m->lit;
	m->lit = 0;
	m->fill = r + len;
	m->win = p - r;
	rc = scan(m);
	keep = m->fill - m->lit;
	if (rc == 0 && unlikely(keep > m->cap)) {
		rc = m->err = -EINVAL; /* cannot happen: scan leaves less than cap pending */
	}
	if (rc != 0) {
		keep = 0; /* the matcher is dead (err is sticky): keep nothing */
		m->pos = m->lit;
	}
	memcpy(m->buf, m->win + m->lit, keep);
	m->base += m->lit;
	m->pos -= m->lit;
	m->fill = keep;
	m->lit = 0;
	m->win = m->buf;
	return rc;
}

int
xf_delta_match_feed(struct xf_delta_match *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t from_p = 0; /* bytes at the end of buf copied from this call's buffer */
	size_t step = XF_MAX((size_t)m->bs, (size_t)4096);

	if (m->err != 0) {
		return m->err;
	}
	if (m->finished) {
		return -EINVAL;
	}
	/*
	 * Copy into buf only what a window or literal that spans the previous call needs:
	 * a step at a time until every pending byte came from this call, then scan the
	 * rest of the caller's buffer in place (no copy, no compaction).
	 */
	while (len > 0) {
		size_t n, r = m->fill - m->lit;
		int rc;

		if (r <= from_p) {
			return scan_in_place(m, p, r, len);
		}
		if (m->fill == m->cap) {
			compact(m);
		}
		n = XF_MIN(XF_MIN(len, m->cap - m->fill), step);
		memcpy(m->buf + m->fill, p, n);
		m->fill += n;
		p += n;
		len -= n;
		from_p += n;
		rc = scan(m);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * The short last block can only be the end of the new file: try every start q in
 * [from, fill) whose length fill - q the last block may have (tail_len if known,
 * otherwise 1..bs-1), growing the weak sum one byte to the left at a time:
 * prepending y to a window of n bytes adds y to a and (n + 1) y to b.
 */
static int64_t
tail_search(struct xf_delta_match *m, size_t from)
{
	const struct xf_sig_rec *last = &m->sigs[m->count - 1];
	uint32_t a = 0, b = 0;

	for (size_t q = m->fill; q > from;) {
		uint32_t y, n;

		q--;
		n = (uint32_t)(m->fill - q);
		if (n >= m->bs || (m->tail_len != 0 && n > m->tail_len)) {
			break;
		}
		y = m->win[q] + XF_DELTA_CHAR_OFFSET;
		a += y;
		b += n * y;
		if ((m->tail_len != 0 && n != m->tail_len) ||
		    ((a & 0xffffu) | (b << 16)) != last->weak) {
			continue;
		}
		m->st.weak_hits++;
		if (xf_csum_crc32c(0, m->win + q, n) == last->strong) {
			return (int64_t)q;
		}
		m->st.false_alarms++;
	}
	return -1;
}

int
xf_delta_match_finish(struct xf_delta_match *m)
{
	int rc;

	if (m->err != 0) {
		return m->err;
	}
	if (m->finished) {
		return -EINVAL;
	}
	m->finished = true;
	if (m->tail_search) {
		/* The window at pos was already tried as a full block if w_valid. */
		int64_t q = tail_search(m, m->w_valid ? m->pos + 1 : m->pos);

		if (q >= 0) {
			m->pos = (size_t)q;
			rc = matched(m, m->count - 1, (uint32_t)(m->fill - (size_t)q));
			if (rc != 0) {
				return rc;
			}
		}
	}
	m->pos = m->fill;
	rc = flush_literal(m, m->fill);
	if (rc == 0) {
		rc = flush_copy(m);
	}
	if (rc == 0) {
		m->err = -EINVAL; /* any later call fails */
	}
	return rc;
}

int
xf_delta_apply(const struct xf_delta_op *op, const void *basis, uint64_t basis_len, void *out,
               uint64_t out_len)
{
	if (op->len == 0) {
		return -EINVAL;
	}
	if (op->offset > out_len || op->len > out_len - op->offset) {
		return -ERANGE;
	}
	switch (op->kind) {
	case XF_DELTA_OP_DATA:
		memcpy((uint8_t *)out + op->offset, op->bytes, op->len);
		return 0;
	case XF_DELTA_OP_COPY:
		if (op->src_offset > basis_len || op->len > basis_len - op->src_offset) {
			return -ERANGE;
		}
		memmove((uint8_t *)out + op->offset, (const uint8_t *)basis + op->src_offset,
		        op->len);
		return 0;
	default:
		return -EINVAL;
	}
}
