/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_delta: the matcher on crafted edits and on 200 random edit scripts, and the test
 * table of the whole program (the checksum and signature cases are in
 * test_delta_sums.c). Every delta is replayed with xf_delta_apply() and must rebuild
 * the new file byte for byte; every op stream is checked for order, tiling and size caps.
 */
#include "xf_delta_test.h"

uint64_t xf_dt_rng_state;

/* Collects a delta: applies each op to out and checks the stream's invariants. */
struct run {
	const uint8_t *basis;
	size_t blen;
	uint8_t *out;
	size_t nlen;
	uint32_t max_lit, max_copy;
	uint64_t next;    /* offset the next op must start at */
	unsigned int bad; /* broken invariants */
	uint64_t data_ops, copy_ops, literal, matched;
	int fail_after; /* >0: the callback fails with -EIO on that op */
	int ops;
};

static int
collect(void *arg, const struct xf_delta_op *op)
{
	struct run *r = arg;

	r->ops++;
	if (r->fail_after > 0 && r->ops == r->fail_after) {
		return -EIO;
	}
	if (op->offset != r->next || op->len == 0) {
		r->bad++;
	}
	if (op->kind == XF_DELTA_OP_DATA) {
		r->data_ops++;
		r->literal += op->len;
		if (op->len > r->max_lit) {
			r->bad++;
		}
	} else {
		r->copy_ops++;
		r->matched += op->len;
		if (op->len > r->max_copy) {
			r->bad++;
		}
	}
	if (xf_delta_apply(op, r->basis, r->blen, r->out, r->nlen) != 0) {
		r->bad++;
	}
	r->next = op->offset + op->len;
	return 0;
}

struct opts {
	uint32_t bs;       /* 0: the block size rule */
	uint32_t max_lit;  /* 0: a frame's worth */
	uint32_t max_copy; /* 0: the default */
	bool tail_known;   /* pass tail_len */
	size_t max_chunk;  /* 0: 64 KiB */
};

/* test_reset_reuse: every run_delta through this one matcher, reset between files. */
static bool reuse;
static struct xf_delta_match *reuse_m;

/* Delta of nw against basis, replayed; returns the matcher's counters. */
static struct xf_delta_stats
run_delta(const uint8_t *basis, size_t blen, const uint8_t *nw, size_t nlen, const struct opts *o)
{
	struct xf_delta_stats st = { 0 };
	struct xf_delta_params p = { 0 };
	struct xf_delta_match *m;
	struct xf_sig_rec *sigs;
	struct run r = { 0 };
	uint32_t count;
	size_t off = 0, max_chunk = o->max_chunk != 0 ? o->max_chunk : 65536;

	p.block_size = o->bs != 0 ? o->bs : xf_delta_block_size(blen);
	sigs = xf_dt_make_sigs(basis, blen, p.block_size, 65536, &count);
	p.block_count = count;
	p.sigs = sigs;
	p.max_literal = o->max_lit != 0 ? o->max_lit : FRAME_LIT;
	p.max_copy = o->max_copy;
	if (o->tail_known && count > 0) {
		p.tail_len = (uint32_t)(blen - (size_t)(count - 1) * p.block_size);
	}
	r.basis = basis;
	r.blen = blen;
	r.nlen = nlen;
	r.out = malloc(nlen + 1);
	r.max_lit = p.max_literal;
	r.max_copy = o->max_copy != 0 ? o->max_copy : XF_DELTA_COPY_MAX;
	CU_ASSERT_FATAL(r.out != NULL);
	memset(r.out, 0xA5, nlen);
	if (reuse && reuse_m != NULL) {
		CU_ASSERT_EQUAL_FATAL(xf_delta_match_reset(reuse_m, &p, collect, &r), 0);
		m = reuse_m;
	} else {
		m = xf_delta_match_create(&p, collect, &r);
		reuse_m = reuse ? m : NULL;
	}
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(xf_delta_match_buffer_size(&p) <=
	          2 * (size_t)p.block_size + p.max_literal + 65536);
	while (off < nlen) {
		size_t want = 1 + rnd_below(max_chunk), c = TEST_MIN(nlen - off, want);

		CU_ASSERT_EQUAL(xf_delta_match_feed(m, nw + off, c), 0);
		off += c;
	}
	CU_ASSERT_EQUAL(xf_delta_match_finish(m), 0);
	CU_ASSERT_EQUAL(xf_delta_match_finish(m), -EINVAL);
	CU_ASSERT_EQUAL(xf_delta_match_feed(m, nw, nlen), -EINVAL);
	st = *xf_delta_match_stats(m);
	CU_ASSERT_EQUAL(r.bad, 0);
	CU_ASSERT_EQUAL(r.next, nlen);
	CU_ASSERT(memcmp(r.out, nw, nlen) == 0);
	CU_ASSERT_EQUAL(st.literal_bytes, r.literal);
	CU_ASSERT_EQUAL(st.matched_bytes, r.matched);
	CU_ASSERT_EQUAL(st.data_ops, r.data_ops);
	CU_ASSERT_EQUAL(st.copy_ops, r.copy_ops);
	CU_ASSERT_EQUAL(st.literal_bytes + st.matched_bytes, nlen);
	if (!reuse) {
		xf_delta_match_free(m);
	}
	free(r.out);
	free(sigs);
	return st;
}

static const struct opts defaults = { 0 };

static void
test_identical(void)
{
	static const size_t lens[] = { 4 * MIB, 4 * MIB + 777, 3 * MIB + 5 };
	struct opts o = defaults;

	seed(3);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		uint8_t *p = random_buf(len);
		uint32_t bs = xf_delta_block_size(len);
		/* A coalesced COPY holds whole blocks only, up to the 1 MiB cap. */
		uint64_t per_op = XF_DELTA_COPY_MAX / bs * bs;
		uint64_t want = (len + per_op - 1) / per_op;

		for (int known = 0; known < 2; known++) {
			struct xf_delta_stats st;

			o.tail_known = known;
			st = run_delta(p, len, p, len, &o);
			CU_ASSERT_EQUAL(st.literal_bytes, 0);
			CU_ASSERT_EQUAL(st.data_ops, 0);
			CU_ASSERT_EQUAL(st.copy_ops, want);
		}
		free(p);
	}
}

/* Blocks of equal content: the next sequential block must win, or nothing coalesces. */
static void
test_identical_zeros(void)
{
	uint8_t *p = calloc(1, MIB);
	struct xf_delta_stats st;

	CU_ASSERT_FATAL(p != NULL);
	st = run_delta(p, MIB, p, MIB, &defaults);
	CU_ASSERT_EQUAL(st.literal_bytes, 0);
	CU_ASSERT_EQUAL(st.copy_ops, 1);
	free(p);
}

static void
test_insert_delete(void)
{
	const size_t blen = 200000, ins = 1000;
	uint8_t *b, *n;
	uint32_t bs = xf_delta_block_size(blen);
	struct xf_delta_stats st;

	seed(4);
	b = random_buf(blen);
	n = random_buf(blen + ins);
	/* Insertion at 100000: only the block broken by it is resent. */
	memcpy(n, b, 100000);
	memcpy(n + 100000 + ins, b + 100000, blen - 100000);
	st = run_delta(b, blen, n, blen + ins, &defaults);
	CU_ASSERT(st.literal_bytes >= ins);
	CU_ASSERT(st.literal_bytes <= ins + bs);
	/* Deletion of [50000, 53000). */
	memcpy(n, b, 50000);
	memcpy(n + 50000, b + 53000, blen - 53000);
	st = run_delta(b, blen, n, blen - 3000, &defaults);
	CU_ASSERT(st.literal_bytes <= bs);
	CU_ASSERT(st.matched_bytes >= blen - 3000 - bs);
	free(b);
	free(n);
}

static void
test_moved_and_repeated(void)
{
	const size_t blen = 300000;
	uint32_t bs = xf_delta_block_size(blen);
	uint8_t *b, *n;
	struct xf_delta_stats st;

	seed(5);
	b = random_buf(blen);
	n = malloc(blen * 2);
	CU_ASSERT_FATAL(n != NULL);
	/* Halves swapped at an unaligned point. */
	memcpy(n, b + 123457, blen - 123457);
	memcpy(n + blen - 123457, b, 123457);
	st = run_delta(b, blen, n, blen, &defaults);
	CU_ASSERT(st.literal_bytes <= 2 * (uint64_t)bs);
	/* Block 3 repeated 40 times, then block 7 twice. */
	for (size_t i = 0; i < 40; i++) {
		memcpy(n + i * bs, b + 3 * (size_t)bs, bs);
	}
	memcpy(n + 40 * (size_t)bs, b + 7 * (size_t)bs, bs);
	memcpy(n + 41 * (size_t)bs, b + 7 * (size_t)bs, bs);
	st = run_delta(b, blen, n, 42 * (size_t)bs, &defaults);
	CU_ASSERT_EQUAL(st.literal_bytes, 0);
	CU_ASSERT_EQUAL(st.copy_ops, 42);
	free(b);
	free(n);
}

static void
test_tail(void)
{
	const uint32_t bs = 1000;
	const size_t blen = 10 * bs + 123;
	uint8_t *b, *n;
	struct opts o = { .bs = bs };
	struct xf_delta_stats st;

	seed(6);
	b = random_buf(blen);
	n = random_buf(blen + 5000);
	for (int known = 0; known < 2; known++) {
		o.tail_known = known;
		/* Identical: the short tail matches at the end. */
		st = run_delta(b, blen, b, blen, &o);
		CU_ASSERT_EQUAL(st.literal_bytes, 0);
		CU_ASSERT_EQUAL(st.copy_ops, 1);
		/* Grown: bytes after the tail, so the tail is literal with them. */
		memcpy(n, b, blen);
		st = run_delta(b, blen, n, blen + 5000, &o);
		CU_ASSERT_EQUAL(st.literal_bytes, 5000 + 123);
		/* Shrunk into the middle of a block: that partial block is literal. */
		st = run_delta(b, blen, b, 5 * bs + 10, &o);
		CU_ASSERT_EQUAL(st.literal_bytes, 10);
		/* The tail alone, after a new prefix: matched at the very end only. */
		fill_random(n, 3000);
		memcpy(n + 3000, b + 10 * bs, 123);
		st = run_delta(b, blen, n, 3123, &o);
		CU_ASSERT_EQUAL(st.matched_bytes, 123);
		/* The tail's bytes not at the end of the new file: literal. */
		memcpy(n + 3000, b + 10 * bs, 123);
		st = run_delta(b, blen, n, 3124, &o);
		CU_ASSERT_EQUAL(st.matched_bytes, 0);
		/* Shorter and longer than a block: a basis of one short block. */
		st = run_delta(b, 123, b, 123, &o);
		CU_ASSERT_EQUAL(st.matched_bytes, 123);
	}
	free(b);
	free(n);
}

static void
test_empty_and_larger_basis(void)
{
	const size_t len = 100000;
	uint8_t *b, *n;
	struct opts o = defaults;
	struct xf_delta_stats st;

	seed(7);
	b = random_buf(MIB);
	n = random_buf(len);
	/* Empty basis: all literal, cut to the frame size. */
	st = run_delta(b, 0, n, len, &defaults);
	CU_ASSERT_EQUAL(st.literal_bytes, len);
	CU_ASSERT_EQUAL(st.data_ops, (len + FRAME_LIT - 1) / FRAME_LIT);
	o.max_lit = 1;
	st = run_delta(b, 0, n, 3000, &o);
	CU_ASSERT_EQUAL(st.data_ops, 3000);
	/* Empty new file: no ops at all. */
	st = run_delta(b, MIB, n, 0, &defaults);
	CU_ASSERT_EQUAL(st.data_ops + st.copy_ops, 0);
	st = run_delta(b, 0, n, 0, &defaults);
	CU_ASSERT_EQUAL(st.data_ops + st.copy_ops, 0);
	/* Basis larger than the file: a slice of it. */
	st = run_delta(b, MIB, b + 300000, len, &defaults);
	CU_ASSERT(st.literal_bytes <= 2 * (uint64_t)xf_delta_block_size(MIB));
	free(b);
	free(n);
}

static void
test_small_changes_4mib(void)
{
	const size_t len = 4 * MIB;
	uint32_t bs = xf_delta_block_size(len);
	uint8_t *b, *n;
	struct xf_delta_stats st;

	seed(8);
	b = random_buf(len);
	n = malloc(len);
	CU_ASSERT_FATAL(n != NULL);
	/* One byte changed: its block, and nothing else, goes as literal. */
	memcpy(n, b, len);
	n[1234567] ^= 0x40;
	st = run_delta(b, len, n, len, &defaults);
	CU_ASSERT(st.literal_bytes >= 1);
	CU_ASSERT(st.literal_bytes <= bs);
	CU_ASSERT_EQUAL(st.matched_bytes, len - st.literal_bytes);
	/* Four runs of 100 bytes, each inside one block. */
	memcpy(n, b, len);
	for (int i = 0; i < 4; i++) {
		size_t blk = 1 + rnd_below(len / bs - 2);
		size_t at = blk * bs + rnd_below(bs - 100);

		fill_random(n + at, 100);
	}
	st = run_delta(b, len, n, len, &defaults);
	CU_ASSERT(st.literal_bytes >= 100);
	CU_ASSERT(st.literal_bytes <= 4 * (uint64_t)bs);
	/* Four runs anywhere (possibly across a boundary): two blocks each at most. */
	memcpy(n, b, len);
	for (int i = 0; i < 4; i++) {
		fill_random(n + rnd_below(len - 100), 100);
	}
	st = run_delta(b, len, n, len, &defaults);
	CU_ASSERT(st.literal_bytes <= 8 * (uint64_t)bs);
	free(b);
	free(n);
}

static void
test_caps_and_chunks(void)
{
	const size_t blen = 50000;
	uint8_t *b = random_buf(blen), *n = random_buf(blen);
	struct opts o = { .bs = 700, .max_lit = 100, .max_copy = 2100, .max_chunk = 3 };
	struct xf_delta_stats st;

	seed(9);
	memcpy(n, b, blen);
	fill_random(n + 20000, 5000);
	/* One-to-three-byte chunks, tiny literal and copy caps. */
	st = run_delta(b, blen, n, blen, &o);
	CU_ASSERT(st.data_ops >= 5000 / 100);
	CU_ASSERT(st.copy_ops >= (blen - 5700) / 2100);
	/* Block size 1: every byte a block. */
	o.bs = 1;
	o.max_copy = 0;
	o.max_chunk = 1000;
	st = run_delta(b, 3000, n, 3000, &o);
	CU_ASSERT_EQUAL(st.literal_bytes, 0);
	free(b);
	free(n);
}

static int
count_ops(void *arg, const struct xf_delta_op *op)
{
	(void)op;
	return ++*(int *)arg == 3 ? -EIO : 0;
}

static void
test_errors(void)
{
	struct xf_sig_rec sig = { 0 };
	struct xf_delta_params p = {
		.block_size = 700, .block_count = 1, .max_literal = 10, .sigs = &sig
	};
	struct xf_delta_params empty = { .max_literal = 10 };
	struct xf_delta_match *m;
	struct xf_delta_op op = {
		.kind = XF_DELTA_OP_COPY, .len = 10, .offset = 0, .src_offset = 95
	};
	uint8_t buf[100] = { 0 }, out[100];
	int calls = 0;

	p.max_literal = 0;
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&p, count_ops, &calls));
	CU_ASSERT_EQUAL(errno, EINVAL);
	p.max_literal = 10;
	p.tail_len = 701;
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&p, count_ops, &calls));
	p.tail_len = 0;
	p.max_copy = 699;
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&p, count_ops, &calls));
	p.max_copy = 0;
	p.block_count = XF_DELTA_BLOCKS_MAX + 1; /* from the peer: refused before any allocation */
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&p, count_ops, &calls));
	CU_ASSERT_EQUAL(errno, EINVAL);
	p.block_count = 1;
	p.sigs = NULL;
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&p, count_ops, &calls));
	CU_ASSERT_PTR_NULL(xf_delta_match_create(&empty, NULL, NULL));

	/* The callback's error stops the matcher and sticks. */
	m = xf_delta_match_create(&empty, count_ops, &calls);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(xf_delta_match_feed(m, buf, sizeof(buf)), -EIO);
	CU_ASSERT_EQUAL(calls, 3);
	CU_ASSERT_EQUAL(xf_delta_match_feed(m, buf, sizeof(buf)), -EIO);
	CU_ASSERT_EQUAL(xf_delta_match_finish(m), -EIO);
	CU_ASSERT_EQUAL(calls, 3);
	xf_delta_match_free(m);
	xf_delta_match_free(NULL);

	/* apply refuses ranges outside the basis or the output. */
	CU_ASSERT_EQUAL(xf_delta_apply(&op, buf, 100, out, 100), -ERANGE);
	op.src_offset = 90;
	CU_ASSERT_EQUAL(xf_delta_apply(&op, buf, 100, out, 100), 0);
	op.offset = 91;
	CU_ASSERT_EQUAL(xf_delta_apply(&op, buf, 100, out, 100), -ERANGE);
	op.offset = 0;
	op.len = 0;
	CU_ASSERT_EQUAL(xf_delta_apply(&op, buf, 100, out, 100), -EINVAL);
	op.len = 1;
	op.kind = 9;
	CU_ASSERT_EQUAL(xf_delta_apply(&op, buf, 100, out, 100), -EINVAL);
}

/* A random edit of src into dst (capacity cap); returns the new length. */
static size_t
random_edit(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
	size_t at = rnd_below(len + 1), n;

	switch (rnd_below(4)) {
	case 0: /* insert */
		n = rnd_below(5000) + 1;
		n = TEST_MIN(n, cap - len);
		memcpy(dst, src, at);
		fill_random(dst + at, n);
		memcpy(dst + at + n, src + at, len - at);
		return len + n;
	case 1: /* delete */
		n = rnd_below(len - at + 1);
		memcpy(dst, src, at);
		memcpy(dst + at, src + at + n, len - at - n);
		return len - n;
	case 2: /* replace */
		n = rnd_below(TEST_MIN(len - at, 3000) + 1);
		memcpy(dst, src, len);
		fill_random(dst + at, n);
		return len;
	default: { /* move [at, at + n) to to */
		size_t to;

		n = rnd_below(len - at + 1);
		to = rnd_below(len - n + 1);
		memcpy(dst, src, at);
		memcpy(dst + at, src + at + n, len - at - n); /* without the piece */
		memmove(dst + to + n, dst + to, len - n - to);
		memcpy(dst + to, src + at, n);
		return len;
	}
	}
}

static void
test_property(void)
{
	const size_t cap = 400000;
	uint8_t *basis = malloc(cap), *a = malloc(cap), *b = malloc(cap);

	CU_ASSERT_FATAL(basis != NULL && a != NULL && b != NULL);
	for (uint64_t s = 0; s < PROPERTY_CASES; s++) {
		size_t blen, nlen;
		unsigned int edits;
		struct opts o = { 0 };

		seed(1000 + s);
		blen = rnd_below(4) == 0 ? rnd_below(3000) : rnd_below(300000);
		fill_random(basis, blen);
		if (rnd_below(8) == 0 && blen > 0) {
			/* Repetitive content: many equal blocks and weak sums. */
			for (size_t i = 0; i < blen; i++) {
				basis[i] = (uint8_t)(i % 7);
			}
		}
		memcpy(a, basis, blen);
		nlen = blen;
		edits = (unsigned int)rnd_below(8);
		for (unsigned int e = 0; e < edits; e++) {
			nlen = random_edit(a, nlen, b, cap - 10000);
			memcpy(a, b, nlen);
		}
		switch (rnd_below(4)) {
		case 0:
			o.bs = (uint32_t)(1 + rnd_below(64));
			break;
		case 1:
			o.bs = (uint32_t)(1 + rnd_below(5000));
			break;
		default:
			break; /* the block size rule */
		}
		o.max_lit = rnd_below(2) ? (uint32_t)(1 + rnd_below(9000)) : 0;
		o.tail_known = rnd_below(2);
		o.max_chunk = 1 + rnd_below(100000);
		if (o.bs > 0 && rnd_below(2)) {
			o.max_copy = o.bs * (uint32_t)(1 + rnd_below(10));
		}
		(void)run_delta(basis, blen, a, nlen, &o);
		if (CU_get_number_of_failures() > 0) {
			fprintf(stderr, "property case %llu failed\n", (unsigned long long)s);
			break;
		}
	}
	free(basis);
	free(a);
	free(b);
}

/* Every op of one run, DATA bytes as a hash: what two feedings must agree on. */
struct oplog {
	size_t n, cap;
	uint64_t *v; /* kind, len, offset, src_offset, bytes hash per op */
};

static int
log_op(void *arg, const struct xf_delta_op *op)
{
	struct oplog *l = arg;
	uint64_t h = 0xcbf29ce484222325ull;

	if (op->kind == XF_DELTA_OP_DATA) {
		for (uint32_t i = 0; i < op->len; i++) {
			h = (h ^ op->bytes[i]) * 0x100000001b3ull;
		}
	}
	if (l->n + 5 > l->cap) {
		l->cap = 2 * l->cap + 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		CU_ASSERT_FATAL(l->v != NULL);
	}
	l->v[l->n++] = op->kind;
	l->v[l->n++] = op->len;
	l->v[l->n++] = op->offset;
	l->v[l->n++] = op->src_offset;
	l->v[l->n++] = h;
	return 0;
}

/*
 * The ops of nw fed in chunks of 1..max_chunk bytes (0: one call), rolling with the
 * vector code where the CPU has it, or always one byte at a time (scalar).
 */
static struct oplog
feed_log(const struct xf_delta_params *p, const uint8_t *nw, size_t nlen, size_t max_chunk,
         bool scalar, struct xf_delta_stats *st)
{
	struct oplog l = { 0 };
	struct xf_delta_match *m = xf_delta_match_create(p, log_op, &l);
	size_t off = 0;

	CU_ASSERT_FATAL(m != NULL);
	if (scalar) {
		xf_delta_match_no_simd(m);
	}
	while (off < nlen) {
		size_t want = max_chunk == 0 ? nlen : 1 + (size_t)rnd_below(max_chunk);
		size_t c = TEST_MIN(nlen - off, want); /* the macro evaluates twice */

		CU_ASSERT_EQUAL(xf_delta_match_feed(m, nw + off, c), 0);
		off += c;
	}
	CU_ASSERT_EQUAL(xf_delta_match_finish(m), 0);
	*st = *xf_delta_match_stats(m);
	xf_delta_match_free(m);
	return l;
}

/*
 * The matcher scans the caller's buffer in place and copies only what spans calls,
 * and rolls eight positions per step with AVX2: however the new file is cut, and
 * whichever roll runs, the ops (and the counters) must be the same.
 */
static void
test_chunking_invariant(void)
{
	const size_t cap = 300000;
	uint8_t *basis = malloc(cap), *a = malloc(cap), *b = malloc(cap);

	CU_ASSERT_FATAL(basis != NULL && a != NULL && b != NULL);
	for (uint64_t s = 0; s < 40; s++) {
		struct xf_delta_params p = { 0 };
		struct xf_sig_rec *sigs;
		struct oplog ref;
		struct xf_delta_stats st_ref;
		size_t blen, nlen;
		uint32_t count;

		seed(5000 + s);
		blen = s % 10 == 0 ? 0 : (size_t)rnd_below(200000);
		fill_random(basis, blen);
		memcpy(a, basis, blen);
		nlen = blen;
		for (unsigned int e = (unsigned int)rnd_below(6); e > 0; e--) {
			nlen = random_edit(a, nlen, b, cap - 10000);
			memcpy(a, b, nlen);
		}
		p.block_size =
		        s % 3 == 0 ? (uint32_t)(1 + rnd_below(3000)) : xf_delta_block_size(blen);
		sigs = xf_dt_make_sigs(basis, blen, p.block_size, 65536, &count);
		p.block_count = count;
		p.sigs = sigs;
		p.max_literal = (uint32_t)(1 + rnd_below(9000));
		/* The reference: one call, the byte-at-a-time roll. */
		ref = feed_log(&p, a, nlen, 0, true, &st_ref);
		for (int k = 0; k < 5; k++) {
			static const size_t chunks[] = { 0, 7, 5000, 100000, 3000 };
			struct xf_delta_stats st;
			struct oplog l = feed_log(&p, a, nlen, chunks[k], k == 4, &st);

			CU_ASSERT_EQUAL(l.n, ref.n);
			CU_ASSERT(l.n == ref.n &&
			          (l.n == 0 || memcmp(l.v, ref.v, l.n * sizeof(*l.v)) == 0));
			CU_ASSERT(memcmp(&st, &st_ref, sizeof(st)) == 0);
			free(l.v);
		}
		free(ref.v);
		free(sigs);
	}
	free(basis);
	free(a);
	free(b);
}

/*
 * Every matcher case again, and the 200 random edit scripts, through one matcher reset
 * between files, as the engine's readers reuse theirs: block counts and sizes go up and
 * down, so its buffers are both grown and reused larger than needed. Any state left
 * from an earlier file (a table entry, a pending literal, a counter) shows as a wrong
 * rebuild or wrong counters in run_delta's checks. A bad parameter set is refused and
 * leaves the matcher usable.
 */
static void
test_reset_reuse(void)
{
	struct xf_delta_params bad = { .block_count = 1, .block_size = 0, .max_literal = 1 };

	reuse = true;
	test_small_changes_4mib();
	test_identical();
	test_identical_zeros();
	test_insert_delete();
	test_moved_and_repeated();
	test_tail();
	test_empty_and_larger_basis();
	test_caps_and_chunks();
	test_property();
	CU_ASSERT_PTR_NOT_NULL_FATAL(reuse_m);
	CU_ASSERT_EQUAL(xf_delta_match_reset(reuse_m, &bad, collect, NULL), -EINVAL);
	test_insert_delete();
	reuse = false;
	xf_delta_match_free(reuse_m);
	reuse_m = NULL;
}

static const struct xf_test tests[] = {
	{ "weak sum vs definition", test_weak_fresh },
	{ "weak kernels equal the byte loop", test_weak_kernels },
	{ "weak kernel dispatch", test_weak_dispatch },
	{ "rolling equals fresh at every offset", test_weak_roll },
	{ "block size rule", test_block_size },
	{ "block size rule, aligned to the file system's block", test_block_size_aligned },
	{ "signatures per block", test_signatures },
	{ "signatures in random chunks equal one call", test_signature_chunks },
	{ "signature errors", test_signature_errors },
	{ "identical files", test_identical },
	{ "identical zero blocks coalesce", test_identical_zeros },
	{ "insertion and deletion", test_insert_delete },
	{ "moved and repeated blocks", test_moved_and_repeated },
	{ "short tail block", test_tail },
	{ "empty and larger basis", test_empty_and_larger_basis },
	{ "small changes in 4 MiB", test_small_changes_4mib },
	{ "caps and tiny chunks", test_caps_and_chunks },
	{ "errors", test_errors },
	{ "200 random edit scripts", test_property },
	{ "ops independent of how the input is cut", test_chunking_invariant },
	{ "one matcher reset between files", test_reset_reuse },
	{ "signature cache: hit, and a miss for each key field", test_sigcache_hit_and_key_fields },
	{ "signature cache: bounded in bytes, oldest evicted", test_sigcache_bound },
	{ "signature cache: saved, loaded, damaged files refused", test_sigcache_file },
	{ "signature cache: pending entries, settled at commit", test_sigcache_pending },
};

int
main(void)
{
	return xf_test_main("delta", NULL, NULL, XF_TESTS(tests));
}
