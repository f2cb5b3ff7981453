/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_memsend.h"
#include "xf_proto.h"

#define POOL_FRAMES 2048u

enum { D_FLIST = 1, D_DATA, D_FILE_END, D_RAW, D_COPY };

struct desc {
	uint8_t type;
	uint8_t dup;
	uint8_t redo; /* DATA, FILE_END: the file's second attempt (XF_HDR_F_REDO) */
	uint16_t flags;
	uint32_t file; /* FLIST: first index; RAW: raw index */
	uint32_t len;  /* FLIST: count; DATA: bytes */
	uint64_t off;
	uint64_t src; /* COPY: basis offset */
};

/* Signatures of a DELTA file as they arrive. */
struct msig {
	uint32_t block_size;
	uint32_t count;
	uint32_t got;
	struct xf_sig_rec *rec;
	uint8_t *have;
};

struct xf_memsend;

struct pool_buf {
	struct xf_memsend *ms;
	atomic_bool busy;
	uint8_t data[XF_PAYLOAD_MAX];
};

struct xf_memsend {
	struct xf_memsend_conf c;
	uint64_t rng;
	uint64_t pn;
	uint32_t credit;
	uint32_t flist_next; /* first index not yet put in an FLIST */
	bool done;
	struct desc *out;
	size_t head, n, cap;
	uint64_t *crc;
	uint32_t *left; /* DATA frames of a file not yet sent */
	uint8_t *dec;
	uint8_t *status;
	uint8_t *redone; /* sent again whole */
	struct msig *sig;
	struct pool_buf *pool;
	atomic_uint pool_free; /* buffers not busy: no scan when there are none */
	uint32_t hand;
	struct xf_memsend_stats st;
};

static uint64_t
rnd(struct xf_memsend *ms)
{
	ms->rng ^= ms->rng << 13;
	ms->rng ^= ms->rng >> 7;
	ms->rng ^= ms->rng << 17;
	return ms->rng;
}

static int
push(struct xf_memsend *ms, struct desc d)
{
	if (ms->head > 4096 && ms->head * 2 > ms->n) {
		memmove(ms->out, ms->out + ms->head, (ms->n - ms->head) * sizeof(*ms->out));
		ms->n -= ms->head;
		ms->head = 0;
	}
	if (ms->n == ms->cap) {
		size_t ncap = ms->cap != 0 ? ms->cap * 2 : 1024;
		struct desc *no = realloc(ms->out, ncap * sizeof(*no));

		if (no == NULL) {
			return -ENOMEM;
		}
		ms->out = no;
		ms->cap = ncap;
	}
	ms->out[ms->n++] = d;
	return 0;
}

static uint32_t
data_max(const struct xf_memsend *ms)
{
	return ms->c.max_payload - XF_DATA_OVERHEAD;
}

/* Pack the newly credited entries into FLIST frames. */
static void
queue_flist(struct xf_memsend *ms)
{
	uint32_t end = ms->credit < ms->c.nfiles ? ms->credit : ms->c.nfiles;

	while (ms->flist_next < end) {
		struct desc d = { .type = D_FLIST, .file = ms->flist_next };
		uint32_t used = XF_HDR_LEN + 8u;

		while (ms->flist_next < end && d.len < XF_FLIST_MAX) {
			const struct xf_memsend_file *f = &ms->c.files[ms->flist_next];
			uint32_t cost = 24u + (uint32_t)strlen(f->path) +
			                (f->target != NULL ? (uint32_t)strlen(f->target) : 0u);

			if (d.len != 0 && used + cost > ms->c.max_payload) {
				break;
			}
			used += cost;
			d.len++;
			ms->flist_next++;
		}
		if (ms->flist_next == ms->c.nfiles) {
			d.flags = XF_FLIST_F_LAST;
		}
		push(ms, d);
	}
}

struct xf_memsend *
xf_memsend_create(const struct xf_memsend_conf *conf)
{
	struct xf_memsend *ms;

	if (conf->session == 0 || conf->max_payload < XF_PAYLOAD_MIN ||
	    conf->max_payload > XF_PAYLOAD_MAX || conf->window == 0) {
		errno = EINVAL;
		return NULL;
	}
	ms = calloc(1, sizeof(*ms));
	if (ms == NULL) {
		return NULL;
	}
	ms->c = *conf;
	ms->rng = conf->seed != 0 ? conf->seed : 0x2545F4914F6CDD1Dull;
	ms->credit = conf->window;
	ms->crc = calloc(conf->nfiles + 1, sizeof(*ms->crc));
	ms->left = calloc(conf->nfiles + 1, sizeof(*ms->left));
	ms->dec = calloc(conf->nfiles + 1, 1);
	ms->status = calloc(conf->nfiles + 1, 1);
	ms->redone = calloc(conf->nfiles + 1, 1);
	ms->sig = calloc(conf->nfiles + 1, sizeof(*ms->sig));
	if (conf->alloc == NULL) {
		ms->pool = calloc(POOL_FRAMES, sizeof(*ms->pool));
		for (uint32_t i = 0; ms->pool != NULL && i < POOL_FRAMES; i++) {
			ms->pool[i].ms = ms;
		}
		atomic_store(&ms->pool_free, POOL_FRAMES);
	}
	if (ms->crc == NULL || ms->left == NULL || ms->dec == NULL || ms->status == NULL ||
	    ms->redone == NULL || (conf->alloc == NULL && ms->pool == NULL)) {
		xf_memsend_destroy(ms);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < conf->nfiles; i++) {
		const struct xf_memsend_file *f = &conf->files[i];

		if (f->kind == XF_FILE_REG) {
			ms->crc[i] = xf_csum_crc64(0, f->data, f->size) ^ f->crc_xor;
		}
	}
	for (unsigned int i = 0; i < conf->nraw; i++) {
		push(ms, (struct desc){ .type = D_RAW, .file = i });
	}
	queue_flist(ms);
	return ms;
}

void
xf_memsend_destroy(struct xf_memsend *ms)
{
	if (ms == NULL) {
		return;
	}
	free(ms->out);
	free(ms->crc);
	free(ms->left);
	free(ms->dec);
	free(ms->redone);
	free(ms->status);
	for (uint32_t i = 0; ms->sig != NULL && i < ms->c.nfiles; i++) {
		free(ms->sig[i].rec);
		free(ms->sig[i].have);
	}
	free(ms->sig);
	free(ms->pool);
	free(ms);
}

static void *
pool_alloc(struct xf_memsend *ms, uint8_t **buf)
{
	if (atomic_load_explicit(&ms->pool_free, memory_order_acquire) == 0) {
		return NULL;
	}
	for (uint32_t k = 0; k < POOL_FRAMES; k++) {
		struct pool_buf *b = &ms->pool[ms->hand];

		ms->hand = (ms->hand + 1) % POOL_FRAMES;
		if (!atomic_load_explicit(&b->busy, memory_order_acquire)) {
			atomic_store_explicit(&b->busy, true, memory_order_relaxed);
			atomic_fetch_sub_explicit(&ms->pool_free, 1, memory_order_relaxed);
			*buf = b->data;
			return b;
		}
	}
	return NULL;
}

void
xf_memsend_release(void *arg, void *owner)
{
	struct pool_buf *b = owner;

	atomic_store_explicit(&b->busy, false, memory_order_release);
	atomic_fetch_add_explicit(&b->ms->pool_free, 1, memory_order_release);
	(void)arg;
}

static int
encode(struct xf_memsend *ms, const struct desc *d, uint8_t *buf)
{
	struct xf_msg m;
	int n;

	memset(&m, 0, sizeof(m));
	m.hdr.version = XF_PROTO_VERSION;
	m.hdr.session = ms->c.session;
	m.hdr.pn = ms->pn++;
	m.hdr.flags = d->redo ? XF_HDR_F_REDO : 0;
	switch (d->type) {
	case D_RAW:
		memcpy(buf, ms->c.raw[d->file], ms->c.raw_len[d->file]);
		return (int)ms->c.raw_len[d->file];
	case D_FLIST: {
		struct xf_proto_builder b;

		m.hdr.type = XF_MSG_FLIST;
		m.flist.first_index = d->file;
		m.flist.flags = d->flags;
		if (xf_proto_build_begin(&b, buf, ms->c.max_payload, &m) < 0) {
			return -EINVAL;
		}
		for (uint32_t i = 0; i < d->len; i++) {
			const struct xf_memsend_file *f = &ms->c.files[d->file + i];
			struct xf_flist_entry e = {
				.kind = f->kind,
				.mode = f->mode,
				.size = f->kind == XF_FILE_SYMLINK ? strlen(f->target)
				                                   : f->size + f->list_extra,
				.mtime_ns = f->mtime_ns,
				.path = f->path,
				.path_len = (uint16_t)strlen(f->path),
				.target = f->target,
				.target_len = f->target != NULL ? (uint16_t)strlen(f->target) : 0,
			};

			if (f->kind == XF_FILE_DIR) {
				e.size = 0;
			}
			if (xf_proto_build_flist(&b, &e) < 0) {
				return -EINVAL;
			}
		}
		return xf_proto_build_finish(&b);
	}
	case D_DATA:
		m.hdr.type = XF_MSG_DATA;
		n = xf_proto_data_hdr_encode(buf, &m.hdr, d->file, d->off, d->len, 0);
		if (n > 0) {
			memcpy(buf + XF_DATA_OVERHEAD, ms->c.files[d->file].data + d->off, d->len);
		}
		return n;
	case D_COPY:
		m.hdr.type = XF_MSG_COPY;
		m.copy.file = d->file;
		m.copy.len = d->len;
		m.copy.offset = d->off + ms->c.files[d->file].copy_shift;
		m.copy.src_offset = d->src + ms->c.files[d->file].copy_src_shift;
		return xf_proto_encode(buf, ms->c.max_payload, &m);
	case D_FILE_END:
		m.hdr.type = XF_MSG_FILE_END;
		m.file_end.file = d->file;
		m.file_end.size = ms->c.files[d->file].size + ms->c.files[d->file].end_shift;
		m.file_end.crc64 = ms->crc[d->file];
		return xf_proto_encode(buf, ms->c.max_payload, &m);
	default:
		return -EINVAL;
	}
}

unsigned int
xf_memsend_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct xf_memsend *ms = arg;
	unsigned int k = 0;

	while (k < max && ms->head < ms->n) {
		struct desc d;
		uint8_t *buf;
		void *owner;
		int len;

		owner = ms->c.alloc != NULL ? ms->c.alloc(ms->c.alloc_arg, &buf, ms->c.max_payload)
		                            : pool_alloc(ms, &buf);
		if (owner == NULL) {
			break;
		}
		if (ms->c.shuffle) {
			size_t j = ms->head + (size_t)(rnd(ms) % (ms->n - ms->head));

			d = ms->out[j];
			ms->out[j] = ms->out[ms->head];
		} else {
			d = ms->out[ms->head];
		}
		ms->head++;
		len = encode(ms, &d, buf);
		if (len <= 0) {
			/* Cannot happen for entries the codec accepts; drop the descriptor. */
			if (ms->c.alloc == NULL) {
				xf_memsend_release(NULL, owner);
			}
			continue;
		}
		/* From address 0, port 0: sessions opened with those take them. */
		out[k] = (struct xf_frame){ .buf = buf, .len = (uint32_t)len, .owner = owner };
		k++;
		ms->st.frames++;
		if (d.dup) {
			ms->st.dups++;
		} else if (ms->c.dup_permille != 0 && rnd(ms) % 1000 < ms->c.dup_permille) {
			struct desc again = d;

			again.dup = 1;
			push(ms, again);
		}
		if ((d.type == D_DATA || d.type == D_COPY) && !d.dup && --ms->left[d.file] == 0) {
			push(ms,
			     (struct desc){ .type = D_FILE_END, .file = d.file, .redo = d.redo });
		}
	}
	return k;
}

/* Matcher output: one descriptor per op (DATA bytes are the new file's at its offset). */
static int
emit_op(void *arg, const struct xf_delta_op *op)
{
	struct xf_memsend *ms = ((void **)arg)[0];
	uint32_t file = *(uint32_t *)((void **)arg)[1];
	struct desc d = { .file = file, .off = op->offset, .len = op->len };

	if (op->kind == XF_DELTA_OP_COPY) {
		d.type = D_COPY;
		d.src = op->src_offset;
		ms->st.matched_bytes += op->len;
	} else {
		d.type = D_DATA;
		ms->st.literal_bytes += op->len;
	}
	ms->left[file]++;
	return push(ms, d);
}

/* Every signature of a DELTA file is in: match the new file against them. */
static void
run_delta(struct xf_memsend *ms, uint32_t file)
{
	const struct xf_memsend_file *f = &ms->c.files[file];
	struct msig *sg = &ms->sig[file];
	struct xf_delta_params p = {
		.block_size = sg->block_size,
		.block_count = sg->count,
		.max_literal = data_max(ms),
		.sigs = sg->rec,
	};
	void *arg[2] = { ms, &file };
	struct xf_delta_match *m;

	if (ms->c.on_sigs != NULL) {
		ms->c.on_sigs(ms->c.on_sigs_arg, file);
	}
	m = xf_delta_match_create(&p, emit_op, arg);
	if (m == NULL) {
		return;
	}
	ms->left[file] = 0;
	if (f->size > 0) {
		xf_delta_match_feed(m, f->data, f->size);
	}
	xf_delta_match_finish(m);
	xf_delta_match_free(m);
	if (ms->left[file] == 0) {
		push(ms, (struct desc){ .type = D_FILE_END, .file = file });
	}
}

static void
on_sig(struct xf_memsend *ms, const struct xf_msg *m)
{
	struct msig *sg;

	if (m->sig.file >= ms->c.nfiles || ms->dec[m->sig.file] != XF_DEC_DELTA) {
		return;
	}
	sg = &ms->sig[m->sig.file];
	if (sg->rec == NULL || m->sig.block_size != sg->block_size ||
	    m->sig.first_block > sg->count || m->sig.count > sg->count - m->sig.first_block) {
		return;
	}
	for (uint16_t i = 0; i < m->sig.count; i++) {
		uint32_t b = m->sig.first_block + i;

		if (!sg->have[b]) {
			sg->have[b] = 1;
			xf_proto_sig_get(m, i, &sg->rec[b]);
			sg->got++;
		}
	}
	if (sg->got == sg->count) {
		ms->st.sig_files++;
		sg->got++; /* once */
		run_delta(ms, m->sig.file);
	}
}

static bool
all_zero(const uint8_t *p, uint64_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* A WHOLE file's DATA frames (its FILE_END follows the last), or its FILE_END alone. */
static void
queue_whole(struct xf_memsend *ms, uint32_t file, uint8_t redo)
{
	const struct xf_memsend_file *f = &ms->c.files[file];
	uint32_t dm = data_max(ms);

	if (f->size == 0) {
		push(ms, (struct desc){ .type = D_FILE_END, .file = file, .redo = redo });
		return;
	}
	ms->left[file] = 0;
	for (uint64_t off = 0; off < f->size; off += dm) {
		uint64_t len = f->size - off < dm ? f->size - off : dm;

		if ((f->sparse && all_zero(f->data + off, len)) || f->omit_at == off + 1) {
			continue;
		}
		ms->left[file]++;
		push(ms, (struct desc){ .type = D_DATA,
		                        .file = file,
		                        .off = off,
		                        .len = (uint32_t)len,
		                        .redo = redo });
	}
	if (ms->left[file] == 0) {
		/* all hole */
		push(ms, (struct desc){ .type = D_FILE_END, .file = file, .redo = redo });
	}
}

/* DECISION WHOLE with XF_ST_REDO for a DELTA file: the file again, whole, once. */
static void
on_redo(struct xf_memsend *ms, uint32_t file)
{
	const struct xf_memsend_file *f = &ms->c.files[file];

	if (!ms->c.redo || ms->dec[file] != XF_DEC_DELTA || ms->redone[file] ||
	    f->kind != XF_FILE_REG) {
		return;
	}
	ms->redone[file] = 1;
	ms->st.redone++;
	if (ms->c.redo_stale && f->size > 0) {
		uint32_t n = f->size < 4096 ? (uint32_t)f->size : 4096u;

		/* Late frames of the first attempt: dup, so they end nothing. */
		push(ms, (struct desc){ .type = D_COPY, .dup = 1, .file = file, .len = n });
		push(ms, (struct desc){ .type = D_DATA, .dup = 1, .file = file, .len = n });
		push(ms, (struct desc){ .type = D_FILE_END, .dup = 1, .file = file });
	}
	queue_whole(ms, file, 1);
}

static void
on_decision(struct xf_memsend *ms, uint32_t file, uint8_t decision, uint8_t status,
            uint32_t block_size, uint32_t block_count)
{
	const struct xf_memsend_file *f;

	if (file < ms->c.nfiles && decision == XF_DEC_WHOLE && status == XF_ST_REDO) {
		on_redo(ms, file);
		return;
	}
	if (file >= ms->c.nfiles || ms->dec[file] != 0) {
		return;
	}
	ms->dec[file] = decision;
	if (decision == XF_DEC_REFUSED) {
		ms->status[file] = status;
		return;
	}
	f = &ms->c.files[file];
	if (decision == XF_DEC_DELTA && f->kind == XF_FILE_REG) {
		/* The signatures follow; the ops are queued once all are in (on_sig). */
		ms->sig[file].block_size = block_size;
		ms->sig[file].count = block_count;
		ms->sig[file].rec = calloc(block_count, sizeof(struct xf_sig_rec));
		ms->sig[file].have = calloc(block_count, 1);
		return;
	}
	if (decision != XF_DEC_WHOLE || f->kind != XF_FILE_REG) {
		return;
	}
	queue_whole(ms, file, 0);
}

void
xf_memsend_tx(void *arg, const void *frame, unsigned int len)
{
	struct xf_memsend *ms = arg;
	struct xf_msg m;

	if (xf_proto_decode(frame, len, &m, NULL) != 0) {
		return;
	}
	switch (m.hdr.type) {
	case XF_MSG_DECISION:
		for (uint16_t i = 0; i < m.decision.count; i++) {
			struct xf_decision_rec r;

			xf_proto_decision_get(&m, i, &r);
			on_decision(ms, r.file, r.decision, r.status, r.block_size, r.block_count);
		}
		break;
	case XF_MSG_SIG:
		on_sig(ms, &m);
		break;
	case XF_MSG_COMMIT:
		ms->st.commits++;
		for (uint16_t i = 0; i < m.commit.count; i++) {
			struct xf_commit_fail cf;

			xf_proto_commit_get(&m, i, &cf);
			if (cf.file < ms->c.nfiles) {
				ms->status[cf.file] = (uint8_t)cf.status;
			}
		}
		ms->st.committed = m.commit.committed;
		if (m.commit.credit > ms->credit) {
			ms->credit = m.commit.credit;
			queue_flist(ms);
		}
		break;
	case XF_MSG_DONE:
		ms->done = true;
		ms->st.done_files = m.done.files;
		break;
	default:
		break;
	}
}

bool
xf_memsend_done(const struct xf_memsend *ms)
{
	return ms->done;
}

uint8_t
xf_memsend_decision(const struct xf_memsend *ms, uint32_t i)
{
	return i < ms->c.nfiles ? ms->dec[i] : 0;
}

uint8_t
xf_memsend_status(const struct xf_memsend *ms, uint32_t i)
{
	return i < ms->c.nfiles ? ms->status[i] : 0;
}

const struct xf_memsend_stats *
xf_memsend_stats(const struct xf_memsend *ms)
{
	return &ms->st;
}
