/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker core: one io_uring (xf_storage), the files whose index maps to it (file
 * affinity), and for worker 0 also the commit executor.
 *
 * Per file: STAT (open parent beneath the root, statx, quick check), temp file created
 * in XF_STAGING_TMP, DATA written straight from the frame buffer, CRC64 kept running
 * while data arrives in offset order, read back from the temp file for the rest, then
 * FILE_END verified (size, CRC64), mode and mtime set, and the verified fd reported.
 * Everything a poll prepares goes to the kernel in one xf_storage_submit().
 *
 * No allocation after creation: file states, write slots, the read-back buffer, the
 * overflow queues and the commit queue are sized from the configuration up front.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h> /* RENAME_NOREPLACE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_pipeline_priv.h"

#define MODULE "worker"

#define WSLOTS   512u            /* DATA frames in flight per worker */
#define WIOV     W_BURST         /* frames per coalesced write: one dequeued burst */
#define RB_SIZE  (1024u * 1024u) /* read-back and signature chunk: one io-wq hand-off per MiB */
#define CQE_MAX  64u
#define SYNC_MAX 512u            /* operations of one commit batch phase */
#define CSLOTS   8u              /* COPY operations in flight per worker */
#define CBUF     (1024u * 1024u) /* bytes of one COPY read/write step */
#define CPEND    256u            /* COPY items waiting for a slot */
/*
 * A basis of at most KEEP_MAX chunks of CBUF bytes is kept in memory from its signature
 * pass to its COPY ops, so that it is read once instead of twice (the second read was
 * 15% of the receiver's CPU in the `delta` benchmark). The chunks come from a per-worker
 * pool (xf_pipeline_conf.delta_cache_mb); a file that finds too few free goes the old
 * way, reading the basis again for each COPY.
 */
#define KEEP_MAX 8u
/* Staged directories between their creation and their placement (a power of two). */
#define STG_DIRS 32u
/*
 * What one staged directory takes: files of at most STG_FILE_MAX bytes, STG_BYTES in
 * all. Its files become visible together, so this bounds what a crash before it is put
 * in place costs the next push; a bigger file's link is nothing beside its data.
 */
#define STG_FILE_MAX (1024u * 1024u)
#define STG_BYTES    (16u * 1024u * 1024u)

enum tag_type {
	T_STAT = 1, /* index: file state */
	T_TMP,      /* file state: temp open */
	T_WRITE,    /* write slot */
	T_READ,     /* file state: read-back */
	T_IGN,      /* fire and forget (close) */
	T_SYNC,     /* commit executor, waited for */
	T_CHAIN,    /* commit executor: k-th rename of the pending chain */
	T_BASIS,    /* file state: basis open (DELTA) */
	T_SIG,      /* file state: basis read for signatures */
	T_CREAD,    /* copy slot: basis read */
	T_CWRITE,   /* copy slot: temp write */
};

static inline uint64_t
tag_of(enum tag_type t, uint32_t idx)
{
	return ((uint64_t)t << 56) | idx;
}

/* Files that may wait for one parent lookup (beyond: they look it up themselves). */
#define FOLLOW_MAX 64u

enum wstate {
	W_FREE = 0,
	W_STAT_DIR,    /* opening the parent directory */
	W_STAT_FOLLOW, /* waiting for the lookup of the same parent for an earlier file */
	W_STAT,        /* statx */
	W_BASIS,       /* opening the basis (DELTA) */
	W_TMP,         /* creating the temp file */
	W_SIG,         /* DELTA: reading the basis for signatures (queued or active) */
	W_OPEN,        /* receiving data */
	W_FINISH,      /* verifying (read-back) */
};

struct wfile {
	uint8_t state;
	uint8_t kind;
	uint8_t status; /* first failure */
	uint8_t fe_pending;
	uint8_t aborted;     /* session aborted while busy: clean up, report nothing */
	uint8_t mode_set;    /* the temp file was created with the file's mode: no fchmod */
	uint8_t tmp_retried; /* a leftover temp file of the same name was removed */
	uint8_t fresh;       /* the quick check found nothing at the final path */
	uint8_t unnamed;     /* the temp file has no name (O_TMPFILE): the commit links it */
	uint8_t inplace;     /* a staged directory (DIR), or a file written in one (REG) */
	uint8_t stg_busy;    /* REG in place: counted in its directory's busy */
	uint32_t stg;        /* inplace: the staged directory's number */
	uint16_t sid;
	uint16_t rx;
	uint32_t file;
	uint32_t sess_id;
	uint32_t gen; /* the session's generation (struct xf_work.gen) */
	uint32_t mode;
	uint32_t dir_len;
	int fd;
	int dirfd;
	uint32_t inflight; /* writes not completed */
	uint32_t rb_next;  /* read-back queue link: slot + 1, 0 = end */
	uint64_t size;     /* FLIST size (quick check) */
	int64_t mtime_ns;
	uint64_t crc;
	uint64_t crc_off; /* CRC covers [0, crc_off) */
	uint64_t max_end;
	uint64_t fe_size;
	uint64_t fe_crc;
	const char *name;
	/* DELTA: the basis (the file at the final path) and its signatures. */
	uint8_t delta;    /* decided DELTA: COPY reads basis_fd */
	uint8_t checksum; /* session in checksum mode */
	int basis_fd;
	uint64_t basis_size;
	uint32_t bs, count, nsig;
	uint32_t sg_next; /* signature queue link: slot + 1, 0 = end */
	uint64_t sig_off;
	uint8_t nkeep;          /* chunks of the kept basis (0: not kept) */
	uint8_t keep[KEEP_MAX]; /* their pool indices, in basis order */
	struct xf_sig_rec *sigs;
	struct xf_delta_sig sg;
	char tmpname[XF_TMPNAME_SIZE];
	struct statx stx;
};

/* A COPY in progress: the basis range is read and written in CBUF steps. */
struct cslot {
	uint32_t fslot;
	uint32_t left;  /* bytes of the op still to copy */
	uint32_t piece; /* bytes read into buf for the current step */
	uint32_t wdone; /* of those, written */
	uint64_t off;   /* destination of the current step */
	uint64_t src;   /* basis offset of the current step */
	uint8_t *buf;
	const uint8_t *data; /* the current step's bytes: buf, or the kept basis */
};

/*
 * One write operation: DATA frames of one file at contiguous offsets, taken off the
 * ring in the same burst, written by one pwritev. A short write advances through iov
 * (first, and the base and length of iov[first]); the owners are released together
 * once every byte is written, or the write failed.
 */
struct wop {
	uint32_t fslot;
	uint16_t n;     /* frames (iovecs, owners) */
	uint16_t first; /* first iovec not completely written */
	uint64_t off;   /* file offset of iov[first] */
	uint64_t end;   /* file offset after the last byte */
	struct iovec iov[WIOV];
	void *owner[WIOV];
};

struct outq {
	struct xf_done *q;
	uint32_t head, tail; /* free-running */
};

/*
 * A staged directory (docs/PIPELINE.md, "Staged directories"): a new directory made under
 * a staging name, in which the regular files listed right after its entry are written at
 * their names; put in place by one rename once they are committed.
 */
struct stg_dir {
	uint32_t num; /* its number (free-running, like stg_head and stg_tail) */
	uint16_t sid; /* its session */
	uint32_t sess;
	uint32_t file;  /* index of its own entry */
	uint32_t last;  /* index of the last entry it took (its own at first) */
	uint32_t n;     /* files it took, */
	uint64_t bytes; /* their sizes */
	uint32_t busy;  /* of those, not yet verified or failed */
	int fd;
	bool open;           /* still taking the files that follow */
	bool seen;           /* its COMMIT item reached the commit executor */
	struct xf_work item; /* that item */
	char tmp[XF_TMPNAME_SIZE];
};

/* A commit report held until the staged directory at the head is put in place. */
struct stg_report {
	struct xf_done d;
	uint16_t rx;
	uint8_t mine; /* STG_OWN or STG_FILE: its status follows the placement; 0: its own */
};

#define STG_OWN  1u /* the directory's own entry */
#define STG_FILE 2u /* a file written in it */

struct xf_worker {
	struct xf_pipeline *p;
	unsigned int idx;
	struct xf_storage *st;
	int root_fd; /* the storage's root */
	unsigned int depth;
	uint32_t window;
	struct wfile *files;
	uint32_t nfiles;
	struct wop *wo; /* WSLOTS: never more operations than frames */
	uint32_t wo_free[WSLOTS];
	uint32_t wo_nfree;
	uint32_t wo_open;  /* operation being filled from the current burst: index + 1 */
	uint32_t ws_nfree; /* frames that may still go in flight */
	uint8_t *rb_buf;
	uint32_t rb_active; /* slot + 1 */
	uint32_t rb_head, rb_tail;
	struct outq out[XF_PIPELINE_MAX_RX];
	uint32_t out_cap; /* power of two */
	uint32_t out_pending;
	struct xf_storage_cqe cqe[CQE_MAX];
	/* DELTA: one signature pass at a time through sg_buf; COPY slots and their queue. */
	uint8_t *sg_buf;
	uint32_t sg_active; /* slot + 1 */
	uint32_t sg_head, sg_tail;
	struct cslot cs[CSLOTS];
	uint32_t cs_free[CSLOTS];
	uint32_t cs_nfree;
	struct xf_work cpend[CPEND];
	uint32_t cp_head, cp_tail; /* free-running */
	uint8_t *keep_mem;         /* the pool: keep_n chunks of CBUF */
	uint32_t keep_n;
	uint32_t keep_nfree;
	uint8_t keep_free[256];
	/* Commit executor (worker XF_COMMIT_WORKER only). */
	struct xf_work *cq;
	uint32_t cq_cap, cq_head, cq_tail; /* free-running */
	int32_t sync_res[SYNC_MAX];
	uint32_t sync_got;
	uint16_t sync_sid;
	uint32_t sync_file;
	/* The pending chain of renames: in file-list order, linked, waited for at once. */
	uint32_t ch_n, ch_got;
	uint32_t ch_item[SYNC_MAX]; /* batch index of the k-th rename */
	int ch_pfd[SYNC_MAX];       /* its parent directory fd */
	int ch_fd[SYNC_MAX];        /* an unnamed temp file's fd, linked (-1: a rename) */
	int32_t ch_res[SYNC_MAX];
	char ch_tmp[SYNC_MAX][XF_TMPNAME_SIZE]; /* its temp name, valid until completion */
	uint8_t cstatus[SYNC_MAX];              /* of the batch's items */
	uint8_t cchanged[SYNC_MAX];
	int32_t cfres[SYNC_MAX]; /* the batch's file fsync results */
	/* The batch in flight: items [cq_head, cq_head + bn), run up to bpos; a paused
	 * batch waits for its chain (ch_n renames submitted, ch_got completed). */
	uint32_t bn, bpos;
	int cdir_fd;
	bool cdir_dirty;
	bool root_dirty;
	char cdir[XF_PATH_MAX + 1];
	/*
	 * Quick check: the parent directory this worker last found missing, for one session
	 * (nodir_len 0: none). The session's other files in it or in any directory beneath
	 * it go WHOLE without a lookup each: what a lookup would decide while it is
	 * missing, and still right if it appeared since (WHOLE sends the file whatever is
	 * there; it only forgoes UPTODATE or DELTA for a file that someone else put there
	 * meanwhile). A push into a destination directory that does not exist yet then
	 * makes one lookup in all; before, beneath only, it made one per directory, and
	 * more for each burst that came before the last lookup had answered.
	 */
	uint16_t nodir_sid;
	uint32_t nodir_sess;
	uint32_t nodir_len;
	char nodir[XF_PATH_MAX + 1];
	/*
	 * The parent lookup in flight that later files of the same session, in the same
	 * directory or beneath it, wait for instead of looking it up too (file slot + 1,
	 * 0: none), and those files (W_STAT_FOLLOW), in arrival order (lookup_parent).
	 */
	uint32_t lead;
	uint32_t nfollow;
	uint32_t follow[FOLLOW_MAX];
	struct xf_storage_cqe scqe[CQE_MAX];
	struct xf_storage_cqe *deferred; /* reaped by make_room, not yet dispatched */
	uint32_t def_cap, def_head, def_tail;
	/*
	 * Staged directories, one session at a time: [stg_head, stg_tail) made and not yet put
	 * in place, the one at the tail taking files while open (stg_path, its final path);
	 * reports held for the head (sq); the last one placed, and how (stg_head - 1).
	 */
	bool stg_on;
	uint32_t stg_cap; /* files one directory may take: below the window (credits) */
	struct stg_dir stg[STG_DIRS];
	uint32_t stg_head, stg_tail;
	uint8_t stg_last_status;
	uint32_t stg_plen;
	char stg_path[XF_PATH_MAX + 1];
	uint16_t stg_sid; /* the session of the last one made, and the last entry it took: */
	uint32_t stg_sess;
	uint32_t stg_end; /* the next may only start after it (their commits come in order) */
	struct stg_report *sq;
	uint32_t sq_cap, sq_head, sq_tail; /* free-running */
	uint32_t cdefer[SYNC_MAX];         /* batch item held for directory number + 1 */
	uint8_t cmine[SYNC_MAX];           /* ... as STG_OWN, STG_FILE or 0 */
	bool aborting[64];                 /* per session slot: abort in progress */
	uint16_t abort_rx[64];
	uint32_t abort_gen[64];
	unsigned int naborting;
	/* What to serve while waiting for a storage step (xf_pipeline_set_wait_poll). */
	xf_pipeline_wait_fn wait_fn;
	void *wait_arg;
	/* Counters; `now` is read once per poll for the stage spans. */
	struct xf_pipeline_times t;
	uint64_t now;
};

static void dispatch(struct xf_worker *w, const struct xf_storage_cqe *c);

/*
 * Files whose DELTA failed verification: struct xf_pipeline.delta_failed, one set per
 * pipeline (its workers share it). A full set forgets: such a file then goes DELTA again,
 * which is never wrong, only possibly failed again.
 */
#define DF_PROBE 8u

static uint64_t
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

static void
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
static bool
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
static void fail_file(struct xf_worker *w, struct wfile *f, uint8_t status);

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_room(struct xf_worker *w);

/*
 * Queue an operation. A full submission queue is flushed to the kernel; if every
 * completion slot is taken, completions are collected (waiting for one if need be)
 * and kept for the poll loop to dispatch, so a prep never recurses into handlers.
 */
#define PREP(w, call)                                                                              \
	do {                                                                                       \
		while ((call) == -EBUSY) {                                                         \
			make_room(w);                                                              \
		}                                                                                  \
	} while (0)

static inline uint32_t
fslot_of(const struct xf_worker *w, uint16_t sid, uint32_t file)
{
	return (uint32_t)sid * w->window + file % w->window;
}

static void
post(struct xf_worker *w, uint16_t rx, const struct xf_done *d)
{
	struct outq *o = &w->out[rx];

	if (o->head == o->tail && xf_ring_enqueue_burst(w->p->to_rx[w->idx][rx], d, 1) == 1) {
		return;
	}
	/* The ring back is full: keep it in order behind what is already waiting. The
	 * queue holds every completion the window allows, so it cannot overflow. */
	o->q[o->tail++ & (w->out_cap - 1)] = *d;
	w->out_pending++;
}

static int
flush_out(struct xf_worker *w)
{
	int busy = 0;

	if (w->out_pending == 0) {
		return 0;
	}
	for (unsigned int r = 0; r < w->p->conf.n_rx; r++) {
		struct outq *o = &w->out[r];

		while (o->head != o->tail) {
			if (xf_ring_enqueue_burst(w->p->to_rx[w->idx][r],
			                          &o->q[o->head & (w->out_cap - 1)], 1) != 1) {
				break;
			}
			o->head++;
			w->out_pending--;
			busy = 1;
		}
	}
	return busy;
}

static void
post_simple(struct xf_worker *w, const struct wfile *f, uint8_t type, uint8_t decision,
            uint8_t status, int fd)
{
	struct xf_done d;

	if (f->aborted) {
		return;
	}
	d = (struct xf_done){
		.type = type,
		.decision = decision,
		.status = status,
		.sid = f->sid,
		.flags = f->unnamed ? XF_DONE_F_UNNAMED : 0,
		.file = f->file,
		.fd = fd,
		.gen = f->gen,
	};
	if (f->inplace) {
		d.flags |= f->kind == XF_FILE_DIR ? XF_DONE_F_STAGED : XF_DONE_F_INPLACE;
		d.block_count = f->stg;
	}
	post(w, f->rx, &d);
}

static void
keep_cqe(struct xf_worker *w, const struct xf_storage_cqe *c)
{
	if ((c->tag >> 56) == T_SYNC) {
		w->sync_res[(uint32_t)c->tag] = c->res;
		w->sync_got++;
		return;
	}
	if ((c->tag >> 56) == T_CHAIN) {
		/* Recorded wherever it is reaped (here, or the poll's dispatch()): the batch
		 * in flight settles once ch_got reaches ch_n. */
		w->ch_res[(uint32_t)c->tag] = c->res;
		w->ch_got++;
		return;
	}
	if (w->def_tail - w->def_head == w->def_cap) {
		/* Cannot happen: at most every slot's completion is ever kept. */
		XF_LOG(ERR, MODULE, "deferred completions overflow");
		return;
	}
	w->deferred[w->def_tail++ & (w->def_cap - 1)] = *c;
}

/* Waits call the wait poll instead of sleeping in the kernel (inline steps have run). */
static bool
served(const struct xf_worker *w)
{
	return w->wait_fn != NULL && xf_storage_io(w->st) != XF_STORAGE_IO_INLINE;
}

/*
 * A storage step that kept the worker (and, in combined mode, maybe its RX core) for
 * more than a second: counted, and logged with what it was, since a peer times a
 * session out after session.timeout_ms of silence. Rare by definition: a disk stalled
 * behind its journal, say.
 */
#define SLOW_STEP_NS 1000000000ull

static void
slow_check(struct xf_worker *w, uint64_t t0, const char *what)
{
	uint64_t d = now_ns() - t0;

	if (d >= SLOW_STEP_NS) {
		w->t.slow_steps++;
		XF_LOG(WARNING, MODULE, "worker %u: %s took %.1f s (its RX core %s meanwhile)",
		       w->idx, what, (double)d / 1e9, served(w) ? "was served" : "waited");
	}
}

/*
 * Wait until at least one completion is there (at most CQE_MAX into out), or min of
 * them when not served. Served, the wait poll is called between checks, at least once
 * per wait, and the completions are taken as they come.
 */
static int
worker_wait(struct xf_worker *w, struct xf_storage_cqe *out, unsigned int min)
{
	int rc;

	if (!served(w)) {
		return xf_storage_wait(w->st, out, min, CQE_MAX);
	}
	for (;;) {
		unsigned int n;

		/* Again each round: what a full completion queue refused (-EBUSY) goes once
		 * reaping has made room. Nothing is entered when nothing is queued. */
		rc = xf_storage_submit(w->st);
		if (rc < 0 && rc != -EBUSY && rc != -EAGAIN && rc != -EINTR) {
			return rc;
		}
		w->t.wait_polls++;
		w->wait_fn(w->wait_arg);
		n = xf_storage_reap(w->st, out, CQE_MAX);
		if (n > 0 || xf_storage_inflight(w->st) == 0) {
			return (int)n;
		}
	}
}

static void
make_room(struct xf_worker *w)
{
	struct xf_storage_cqe c[CQE_MAX];
	int n;

	if (xf_storage_submit(w->st) >= 0 && xf_storage_inflight(w->st) < 2u * w->depth) {
		return; /* the submission queue had filled up: it is empty now */
	}
	{
		uint64_t t0 = now_ns();

		n = worker_wait(w, c, 1);
		slow_check(w, t0, "waiting for room in the submission queue");
	}
	for (int i = 0; i < n; i++) {
		keep_cqe(w, &c[i]);
	}
}

static int
run_deferred(struct xf_worker *w)
{
	int busy = w->def_head != w->def_tail;

	while (w->def_head != w->def_tail) {
		struct xf_storage_cqe c = w->deferred[w->def_head++ & (w->def_cap - 1)];

		dispatch(w, &c);
	}
	return busy;
}

/* ---- STAT and decision ---- */

static inline void
stamp(uint64_t now, uint64_t *first, uint64_t *last)
{
	if (*first == 0) {
		*first = now;
	}
	*last = now;
}

static void
close_basis(struct xf_worker *w, struct wfile *f)
{
	if (f->basis_fd >= 0) {
		close(f->basis_fd); /* a file opened for reading: close does not block */
		f->basis_fd = -1;
	}
	xf_lease_free(f->sigs);
	f->sigs = NULL;
	while (f->nkeep > 0) {
		w->keep_free[w->keep_nfree++] = f->keep[--f->nkeep];
	}
}

static inline uint8_t *
keep_chunk(const struct xf_worker *w, const struct wfile *f, uint64_t off)
{
	return w->keep_mem + (size_t)f->keep[off / CBUF] * CBUF + off % CBUF;
}

static void sig_start(struct xf_worker *w, uint32_t fi);

/*
 * Create the temp file. A new file (nothing at its final path at the quick check) gets an
 * unnamed one (O_TMPFILE) when the volume allows it: the commit then links it to its
 * final name (linkat AT_EMPTY_PATH) instead of renaming it there, one name operation less
 * per file (docs/PIPELINE.md, "Unnamed temp files"). When the umask (or a default ACL) of
 * the staging directory keeps
 * every bit of the file's mode, and it has no set-id or sticky bit, the file is created
 * with its mode and verify() skips the fchmod. Otherwise it starts as 0600 and gets its
 * mode there. The staging directory is 0700, so nobody else can reach it meanwhile.
 * O_EXCL: a file of the same name in the way (none should be) would keep its own mode.
 */
static void
tmp_open(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	uint32_t want = f->mode & 07777;
	uint32_t mode = 0600;

	f->mode_set = (want & ~0777u) == 0 && (want & w->p->create_keep) == want;
	if (f->mode_set) {
		mode = want;
	}
	if (f->inplace) {
		/* At its name in its staged directory (stg_take()). */
		PREP(w, xf_storage_prep_open(w->st, w->stg[f->stg & (STG_DIRS - 1)].fd,
		                             f->name + f->dir_len + 1, O_RDWR | O_CREAT | O_EXCL,
		                             mode, tag_of(T_TMP, fi)));
		return;
	}
	if (f->unnamed) {
		PREP(w, xf_storage_prep_open(w->st, w->p->tmp_fd, ".", O_RDWR | O_TMPFILE, mode,
		                             tag_of(T_TMP, fi)));
		return;
	}
	PREP(w, xf_storage_prep_open(w->st, w->p->tmp_fd, f->tmpname, O_RDWR | O_CREAT | O_EXCL,
	                             mode, tag_of(T_TMP, fi)));
}

static void
decide(struct xf_worker *w, struct wfile *f, uint32_t fi, uint8_t decision, uint8_t status)
{
	w->t.stat_items++;
	stamp(w->now, &w->t.stat_first, &w->t.stat_last);
	if (f->aborted) {
		close_basis(w, f);
		f->state = W_FREE;
		return;
	}
	if (decision == XF_DEC_WHOLE && f->kind == XF_FILE_REG) {
		/* The temp file exists before the decision goes out, so DATA never waits. */
		f->state = W_TMP;
		xf_work_tmpname(f->tmpname, f->sid, f->sess_id, f->file);
		f->unnamed = f->fresh && !f->delta && !f->inplace && w->p->unnamed_ok;
		tmp_open(w, f, fi);
		return;
	}
	post_simple(w, f, XF_DONE_STAT, decision, status, -1);
	f->state = W_FREE;
}

static bool
kind_matches(uint8_t kind, uint16_t mode)
{
	switch (kind) {
	case XF_FILE_REG:
		return S_ISREG(mode);
	case XF_FILE_DIR:
		return S_ISDIR(mode);
	case XF_FILE_SYMLINK:
		return S_ISLNK(mode);
	default:
		return false;
	}
}

/*
 * Quick check: same kind, size (target length for symlinks) and mtime => UPTODATE.
 * Directory sizes are the file system's business, so they compare kind and mtime only.
 * A regular file that differs, with a nonempty basis at the final path, goes DELTA (an
 * empty new file or basis, or a basis of more blocks than a sender accepts, go WHOLE).
 * Checksum mode decides every existing regular file DELTA: the sender's matcher and
 * FILE_END's whole-file CRC64 then compare the contents (docs/DELTA.md).
 */
static uint8_t
quick_check(const struct wfile *f)
{
	const struct statx *x = &f->stx;
	int64_t mt = (int64_t)x->stx_mtime.tv_sec * 1000000000ll + x->stx_mtime.tv_nsec;
	bool same;

	if (!kind_matches(f->kind, x->stx_mode)) {
		return XF_DEC_WHOLE;
	}
	same = mt == f->mtime_ns && (f->kind == XF_FILE_DIR || x->stx_size == f->size);
	if (f->kind != XF_FILE_REG) {
		return same ? XF_DEC_UPTODATE : XF_DEC_WHOLE;
	}
	if (f->checksum && x->stx_size == 0 && f->size == 0) {
		return XF_DEC_UPTODATE; /* two empty files */
	}
	if (same && !f->checksum) {
		return XF_DEC_UPTODATE;
	}
	if (x->stx_size == 0 || f->size == 0 ||
	    xf_delta_block_count(x->stx_size, xf_delta_block_size(x->stx_size)) >
	            XF_DELTA_BLOCKS_MAX) {
		return XF_DEC_WHOLE;
	}
	return XF_DEC_DELTA;
}

/*
 * f is a file of session (sid, sess) whose parent directory is dir[0, len) or beneath it.
 * A file's name is its directory path, a NUL, its base name: name[dir_len] is the NUL.
 */
static bool
within(const struct wfile *f, uint16_t sid, uint32_t sess, const char *dir, uint32_t len)
{
	return len != 0 && f->sid == sid && f->sess_id == sess && f->dir_len >= len &&
	       memcmp(f->name, dir, len) == 0 && (f->dir_len == len || f->name[len] == '/');
}

static void on_stat(struct xf_worker *w, uint32_t fi, int32_t res);

/*
 * The quick check's first step for a file not at the root: find its parent directory.
 * Not looked up when it is (or is beneath) the directory last found missing: WHOLE. A
 * file whose parent is, or is beneath, the directory of the lookup in flight waits for
 * that lookup (a directory's entry and then its files come in one burst, before the
 * lookup of the entry's parent can have answered). Otherwise it is looked up.
 */
static void
lookup_parent(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	const struct wfile *lead = w->lead != 0 ? &w->files[w->lead - 1] : NULL;

	if (within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
		f->state = W_STAT_DIR;
		w->t.stat_nodir++;
		on_stat(w, fi, -ENOENT); /* its parent is still missing: WHOLE */
	} else if (lead != NULL && w->nfollow < FOLLOW_MAX &&
	           within(f, lead->sid, lead->sess_id, lead->name, lead->dir_len)) {
		f->state = W_STAT_FOLLOW;
		w->follow[w->nfollow++] = fi;
	} else {
		f->state = W_STAT_DIR;
		w->t.stat_lookups++;
		if (w->lead == 0) {
			w->lead = fi + 1;
		}
		PREP(w, xf_storage_prep_open_dir(w->st, f->name, tag_of(T_STAT, fi)));
	}
}

/*
 * The lead lookup (of a directory lead_len bytes long) answered res. Missing: so is
 * everything beneath it, and its followers go WHOLE. Found: a follower in that very
 * directory needs an fd of its own and looks it up; one beneath it starts over (it may
 * lead, or follow, the lookup of its own directory).
 */
static void
release_followers(struct xf_worker *w, int32_t res, uint32_t lead_len)
{
	uint32_t follow[FOLLOW_MAX];
	uint32_t n = w->nfollow;

	memcpy(follow, w->follow, n * sizeof(follow[0]));
	w->lead = 0;
	w->nfollow = 0;
	for (uint32_t k = 0; k < n; k++) {
		struct wfile *f = &w->files[follow[k]];

		f->state = W_STAT_DIR;
		if (res == -ENOENT) {
			w->t.stat_nodir++;
			on_stat(w, follow[k], -ENOENT);
		} else if (f->dir_len == lead_len) {
			w->t.stat_lookups++;
			PREP(w,
			     xf_storage_prep_open_dir(w->st, f->name, tag_of(T_STAT, follow[k])));
		} else {
			lookup_parent(w, f, follow[k]);
		}
	}
}

static void
on_stat(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];
	const char *base = f->name + f->dir_len + 1;

	if (f->state == W_STAT_DIR) {
		bool lead = w->lead == fi + 1;
		uint32_t dir_len = f->dir_len;

		/* Remember the widest directory known missing (a follower's is beneath it). */
		if (res == -ENOENT && f->dir_len <= XF_PATH_MAX &&
		    !within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
			w->nodir_sid = f->sid;
			w->nodir_sess = f->sess_id;
			w->nodir_len = f->dir_len;
			memcpy(w->nodir, f->name, f->dir_len);
		}
		if (res == -ENOENT || res == -ENOTDIR) {
			/* No parent yet (or a file in its place: the commit reports it). */
			f->fresh = 1;
			decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
		} else if (res < 0) {
			decide(w, f, fi, XF_DEC_REFUSED, xf_status_of_errno(-res));
		} else {
			f->dirfd = res;
			f->state = W_STAT;
			PREP(w, xf_storage_prep_statx(w->st, f->dirfd, base, &f->stx,
			                              tag_of(T_STAT, fi)));
		}
		if (lead) {
			release_followers(w, res, dir_len);
		}
		return;
	}
	uint8_t dec = res >= 0 ? quick_check(f) : XF_DEC_WHOLE;

	f->fresh = res == -ENOENT;

	if (dec == XF_DEC_DELTA && (f->aborted || df_take(w, df_key(w, f)))) {
		dec = XF_DEC_WHOLE; /* its last DELTA failed: whole this time */
	}
	if (res >= 0 && dec == XF_DEC_DELTA) {
		/* Open the basis beneath its parent (kept open until then), never following
		 * a symlink at the final path. */
		f->state = W_BASIS;
		f->basis_size = f->stx.stx_size;
		PREP(w, xf_storage_prep_open(w->st, f->dirfd, base, O_RDONLY | O_NOFOLLOW, 0,
		                             tag_of(T_BASIS, fi)));
		return;
	}
	if (res >= 0 && dec == XF_DEC_UPTODATE && f->kind != XF_FILE_SYMLINK &&
	    (f->stx.stx_mode & 07777) != (f->mode & 07777)) {
		/*
		 * Same content, other permissions (the quick check does not look at them):
		 * apply the mode, as rsync does. A short blocking call on the worker (no
		 * io_uring opcode); AT_SYMLINK_NOFOLLOW so a symlink swapped in since the statx
		 * is never followed out of the volume. On failure the file is refused: it is
		 * not what the sender has.
		 */
		if (fchmodat(f->dirfd, base, f->mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) {
			dec = XF_DEC_REFUSED;
			res = -errno;
		}
	}
	if (f->dirfd >= 0) {
		PREP(w, xf_storage_prep_close(w->st, f->dirfd, tag_of(T_IGN, 0)));
		f->dirfd = -1;
	}
	if (res == -ENOENT) {
		decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
	} else if (res < 0) {
		decide(w, f, fi, XF_DEC_REFUSED, xf_status_of_errno(-res));
	} else {
		decide(w, f, fi, dec, XF_ST_OK);
	}
}

static void
on_basis(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	if (f->dirfd >= 0) {
		PREP(w, xf_storage_prep_close(w->st, f->dirfd, tag_of(T_IGN, 0)));
		f->dirfd = -1;
	}
	if (res >= 0) {
		f->basis_fd = res;
		f->delta = 1;
		f->bs = xf_delta_block_size(f->basis_size);
		f->count = (uint32_t)xf_delta_block_count(f->basis_size, f->bs);
	}
	/* No basis after all (it went away): the file goes whole. The temp file comes
	 * first either way; a DELTA file then gets its signatures (on_tmp). */
	decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
}

/* ---- staged directories: the STAT side (docs/PIPELINE.md, "Staged directories") ---- */

static inline struct stg_dir *
stg_at(struct xf_worker *w, uint32_t num)
{
	return &w->stg[num & (STG_DIRS - 1)];
}

/* The oldest staged directory not yet in place, or NULL. */
static inline struct stg_dir *
stg_first(struct xf_worker *w)
{
	return w->stg_head != w->stg_tail ? stg_at(w, w->stg_head) : NULL;
}

static inline bool
stg_alive(const struct xf_worker *w, uint32_t num)
{
	return num - w->stg_head < w->stg_tail - w->stg_head;
}

/* The full number of a staged directory from its low 16 bits (as the RX core passes it
 * on): one of the last placed, or one not yet placed. */
static inline uint32_t
stg_num(const struct xf_worker *w, uint64_t low)
{
	uint32_t ref = w->stg_head - 1;

	return ref + (uint16_t)((uint16_t)low - (uint16_t)ref);
}

/* A file written in its staged directory is verified or failed: one less to wait for. */
static void
stg_release(struct xf_worker *w, struct wfile *f)
{
	if (f->stg_busy) {
		f->stg_busy = 0;
		if (stg_alive(w, f->stg)) {
			stg_at(w, f->stg)->busy--;
		}
	}
}

/*
 * Is there nothing at the final path of directory entry f? Asked at once, not through
 * the storage queue, so that the files listed right after it (in the same burst) can be
 * written in its staged directory: a short lookup per new directory, on the worker.
 */
static bool
stg_fresh(struct xf_worker *w, const struct wfile *f)
{
	const char *base = f->name + f->dir_len + 1;
	struct stat sb;
	int pfd = w->root_fd;
	int rc, err;

	if (within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
		return true; /* its parent is missing */
	}
	if (f->dir_len != 0) {
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		pfd = (int)syscall(SYS_openat2, w->root_fd, f->name, &how, sizeof(how));
		if (pfd < 0) {
			return errno == ENOENT;
		}
	}
	rc = fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW);
	err = errno;
	if (pfd != w->root_fd) {
		close(pfd);
	}
	return rc != 0 && err == ENOENT;
}

/* Directory entry f is new: make it under a staging name and let it take the files that
 * follow. False if it cannot be staged (it then goes the usual way). */
static bool
stg_new(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	const char *base = f->name + f->dir_len + 1;
	size_t blen = strlen(base);
	char tmp[XF_TMPNAME_SIZE];
	struct stg_dir *d;
	int fd;

	if (w->stg_tail - w->stg_head == STG_DIRS || f->dir_len + 1 + blen > XF_PATH_MAX) {
		return false;
	}
	d = stg_first(w);
	if (d != NULL && (d->sid != f->sid || d->sess != f->sess_id)) {
		return false; /* one session at a time */
	}
	if (w->stg_sid == f->sid && w->stg_sess == f->sess_id && f->file <= w->stg_end &&
	    w->stg_tail != 0) {
		/* Listed before what an earlier one took (STATs out of order: FLIST frames
		 * reordered): its commit would come in the middle of theirs. */
		return false;
	}
	if (!stg_fresh(w, f)) {
		return false;
	}
	xf_work_tmpname(tmp, f->sid, f->sess_id, f->file);
	if (mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
		/* A leftover of an earlier attempt (a crash): removed, as a temp file's. */
		if (errno != EEXIST || xf_pipeline_remove_tree(w->p->tmp_fd, tmp) != 0 ||
		    mkdirat(w->p->tmp_fd, tmp, 0700) != 0) {
			return false;
		}
		w->t.tmp_leftovers++;
	}
	fd = openat(w->p->tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		unlinkat(w->p->tmp_fd, tmp, AT_REMOVEDIR);
		return false;
	}
	d = stg_at(w, w->stg_tail);
	*d = (struct stg_dir){
		.num = w->stg_tail,
		.sid = f->sid,
		.sess = f->sess_id,
		.file = f->file,
		.last = f->file,
		.fd = fd,
		.open = true,
	};
	memcpy(d->tmp, tmp, sizeof(tmp));
	w->stg_tail++;
	w->stg_sid = f->sid;
	w->stg_sess = f->sess_id;
	w->stg_end = f->file;
	if (f->dir_len == 0) {
		memcpy(w->stg_path, base, blen);
		w->stg_plen = (uint32_t)blen;
	} else {
		memcpy(w->stg_path, f->name, f->dir_len);
		w->stg_path[f->dir_len] = '/';
		memcpy(w->stg_path + f->dir_len + 1, base, blen);
		w->stg_plen = f->dir_len + 1 + (uint32_t)blen;
	}
	f->inplace = 1;
	f->stg = d->num;
	decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
	return true;
}

/*
 * The STAT of f, before any quick check: a regular file listed right after the open
 * staged directory's entry (or its last file), in it, is taken (within the bounds above):
 * nothing can be at its final path, it is written there at its name. Anything else of the session
 * closes the directory; a new directory may start the next. Returns true if f is decided.
 */
static bool
stg_take(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	struct stg_dir *d = w->stg_tail != w->stg_head ? stg_at(w, w->stg_tail - 1) : NULL;

	if (d != NULL && d->open && f->sid == d->sid && f->sess_id == d->sess) {
		if (f->kind == XF_FILE_REG && f->file == d->last + 1 && d->n < w->stg_cap &&
		    f->size <= STG_FILE_MAX && d->bytes + f->size <= STG_BYTES &&
		    f->dir_len == w->stg_plen && memcmp(f->name, w->stg_path, w->stg_plen) == 0) {
			d->last = f->file;
			w->stg_end = f->file;
			d->n++;
			d->bytes += f->size;
			d->busy++;
			f->inplace = 1;
			f->stg_busy = 1;
			f->stg = d->num;
			f->fresh = 1;
			decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
			return true;
		}
		d->open = false;
	}
	return f->kind == XF_FILE_DIR && stg_new(w, f, fi);
}

/* Files from this size on are checked against the volume's free space at STAT (one
 * fstatvfs each); smaller ones are not worth a system call. */
#define SPACE_CHECK_MIN (1024u * 1024u)

/* Can size bytes fit in the volume's free space now? True if it cannot be known. */
static bool
space_for(const struct xf_worker *w, uint64_t size)
{
	struct statvfs sv;

	return fstatvfs(w->root_fd, &sv) != 0 || size <= (uint64_t)sv.f_bavail * sv.f_frsize;
}

static void
do_stat(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];

	if (f->state != W_FREE) {
		/* The window guarantees the slot is free; a second STAT is a bug upstream. */
		XF_LOG(ERR, MODULE, "file %u: state slot busy", it->file);
		return;
	}
	memset(f, 0, offsetof(struct wfile, stx));
	f->kind = it->kind;
	f->sid = it->sid;
	f->rx = it->rx;
	f->file = it->file;
	f->sess_id = it->sess_id;
	f->gen = it->gen;
	f->mode = it->mode;
	f->dir_len = it->len;
	f->fd = -1;
	f->dirfd = -1;
	f->size = it->off;
	f->mtime_ns = (int64_t)it->val;
	f->name = it->ptr;
	f->basis_fd = -1;
	f->checksum = (it->flags & XF_WORK_F_CHECKSUM) != 0;
	if (f->kind == XF_FILE_REG && f->size >= SPACE_CHECK_MIN && !space_for(w, f->size)) {
		/* Refused before anything is written: it cannot fit. */
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, XF_ST_NOSPACE, -1);
		return;
	}
	if (w->stg_on && stg_take(w, f, fi)) {
		return;
	}
	if (f->dir_len == 0) {
		f->state = W_STAT;
		PREP(w, xf_storage_prep_statx(w->st, w->root_fd, f->name + 1, &f->stx,
		                              tag_of(T_STAT, fi)));
	} else {
		lookup_parent(w, f, fi);
	}
}

static void
on_tmp(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	if (res < 0 && f->inplace) {
		/* Its own new directory has the name already: the list names it twice. */
		stg_release(w, f);
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, xf_status_of_errno(-res), -1);
		f->state = W_FREE;
		return;
	}
	if (res < 0 && f->unnamed && !f->aborted) {
		/* The volume refused an unnamed temp file after all: a named one, then. */
		f->unnamed = 0;
		tmp_open(w, f, fi);
		return;
	}
	if (res == -EEXIST && !f->tmp_retried && !f->aborted) {
		/* A leftover of an earlier attempt under this name: remove it and try once more
		 * (a short blocking call, on a path that should never run). */
		f->tmp_retried = 1;
		w->t.tmp_leftovers++;
		if (unlinkat(w->p->tmp_fd, f->tmpname, 0) == 0 || errno == ENOENT) {
			tmp_open(w, f, fi);
			return;
		}
		res = -errno;
	}
	if (res < 0) {
		close_basis(w, f);
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, xf_status_of_errno(-res), -1);
		f->state = W_FREE;
		return;
	}
	f->fd = res;
	f->state = W_OPEN;
	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		return;
	}
	if (f->delta) {
		/* Signatures first; the DELTA decision goes out with them (sig_done). */
		f->sigs =
		        xf_lease_alloc(w->p->sig_ring[w->idx], (size_t)f->count * sizeof(*f->sigs));
		if (f->sigs != NULL && xf_delta_sig_begin(&f->sg, f->bs) == 0) {
			f->state = W_SIG;
			f->sg_next = 0;
			if (w->sg_active == 0) {
				sig_start(w, fi);
			} else if (w->sg_tail == 0) {
				w->sg_head = w->sg_tail = fi + 1;
			} else {
				w->files[w->sg_tail - 1].sg_next = fi + 1;
				w->sg_tail = fi + 1;
			}
			return;
		}
		close_basis(w, f);
		f->delta = 0;
	}
	post_simple(w, f, XF_DONE_STAT, XF_DEC_WHOLE, XF_ST_OK, -1);
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

static void
sig_start(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];

	w->sg_active = fi + 1;
	if (f->aborted) {
		/* Aborted while queued: let go of it, then the next one. */
		w->sg_active = 0;
		fail_file(w, f, XF_ST_IO);
		if (w->sg_head != 0) {
			uint32_t nx = w->sg_head - 1;

			w->sg_head = w->files[nx].sg_next;
			if (w->sg_head == 0) {
				w->sg_tail = 0;
			}
			sig_start(w, nx);
		}
		return;
	}
	{
		uint64_t need = (f->basis_size + CBUF - 1) / CBUF;

		if (need <= KEEP_MAX && need <= w->keep_nfree) {
			while (f->nkeep < need) {
				f->keep[f->nkeep++] = w->keep_free[--w->keep_nfree];
			}
		}
	}
	sig_read(w, fi);
}

static void
sig_next_file(struct xf_worker *w)
{
	w->sg_active = 0;
	if (w->sg_head != 0) {
		uint32_t fi = w->sg_head - 1;

		w->sg_head = w->files[fi].sg_next;
		if (w->sg_head == 0) {
			w->sg_tail = 0;
		}
		sig_start(w, fi);
	}
}

static void
on_sig(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];
	struct xf_done d;
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
			if (f->sig_off < f->basis_size) {
				sig_read(w, fi);
				return;
			}
			if (f->nsig < f->count) {
				f->nsig += (uint32_t)xf_delta_sig_finish(&f->sg, f->sigs + f->nsig);
			}
		}
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
	d = (struct xf_done){
		.type = XF_DONE_STAT,
		.decision = XF_DEC_DELTA,
		.sid = f->sid,
		.file = f->file,
		.fd = -1,
		.block_size = f->bs,
		.block_count = f->count,
		.gen = f->gen,
		.sigs = f->sigs, /* the RX core's now: it sends them and gives them back */
	};
	f->sigs = NULL;
	f->state = W_OPEN;
	post(w, f->rx, &d);
	sig_next_file(w);
}

/* ---- data, verification ---- */

static void
fail_file(struct xf_worker *w, struct wfile *f, uint8_t status)
{
	/* Failure path only: short blocking calls on the worker, never on an RX core. */
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	close_basis(w, f);
	if (f->delta && status == XF_ST_CHECKSUM && !f->aborted) {
		/* Never a corrupt commit: the file fails now and goes whole next time. */
		df_remember(w, df_key(w, f));
	}
	if (f->inplace) {
		/* Written at its name in a staged directory: it must not be there when the
		 * directory is put in place (one that was dropped took it along). */
		if (stg_alive(w, f->stg)) {
			unlinkat(stg_at(w, f->stg)->fd, f->name + f->dir_len + 1, 0);
		}
		stg_release(w, f);
	} else if (!f->unnamed) {
		unlinkat(w->p->tmp_fd, f->tmpname, 0);
	}
	post_simple(w, f, XF_DONE_FILE, 0, status, -1);
	f->state = W_FREE;
}

/*
 * The times argument of futimens/utimensat that sets the modification time to mtime_ns
 * (nanoseconds since the epoch, negative before 1970) and leaves the access time alone.
 */
static void
mtime_spec(int64_t mtime_ns, struct timespec ts[2])
{
	ts[0] = (struct timespec){ .tv_nsec = UTIME_OMIT };
	ts[1].tv_sec = mtime_ns / 1000000000ll;
	ts[1].tv_nsec = mtime_ns % 1000000000ll;
	if (ts[1].tv_nsec < 0) {
		ts[1].tv_sec--;
		ts[1].tv_nsec += 1000000000ll;
	}
}

static void
verify(struct xf_worker *w, struct wfile *f)
{
	struct timespec ts[2];

	if (f->crc != f->fe_crc || f->aborted) {
		fail_file(w, f, XF_ST_CHECKSUM);
		return;
	}
	mtime_spec(f->mtime_ns, ts);
	/* No io_uring opcode sets mode or times: short blocking calls on the worker. The mode
	 * is already right when the file was created with it (tmp_open). */
	{
		uint64_t t0 = now_ns();
		bool ok = (f->mode_set || fchmod(f->fd, f->mode & 07777) == 0) &&
		          futimens(f->fd, ts) == 0;

		slow_check(w, t0, "setting a file's mode and mtime");
		if (!ok) {
			fail_file(w, f, XF_ST_IO);
			return;
		}
	}
	close_basis(w, f);
	stg_release(w, f);
	w->t.modes_at_create += f->mode_set;
	w->t.unnamed_temps += f->unnamed;
	w->t.files_done++;
	stamp(w->now, &w->t.data_first, &w->t.data_last);
	post_simple(w, f, XF_DONE_FILE, 0, XF_ST_OK, f->fd);
	f->fd = -1; /* the commit worker owns it now */
	f->state = W_FREE;
}

/*
 * Queue the read-back of the file's next piece. A hole where it starts (never written:
 * zeros) goes into the CRC without being read (xf_csum_crc64_zeros), so a file announced
 * huge with one byte at its end costs no read-back of the rest. @return false if nothing
 * is left to read.
 */
static bool
read_next(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];
	off_t data = lseek(f->fd, (off_t)f->crc_off, SEEK_DATA);
	uint64_t left;
	uint32_t len;

	if (data < 0 ? errno == ENXIO : (uint64_t)data > f->crc_off) {
		uint64_t to = data < 0 || (uint64_t)data > f->fe_size ? f->fe_size : (uint64_t)data;

		f->crc = xf_csum_crc64_zeros(f->crc, to - f->crc_off);
		f->crc_off = to;
	}
	if (f->crc_off >= f->fe_size) {
		return false;
	}
	left = f->fe_size - f->crc_off;
	len = left < RB_SIZE ? (uint32_t)left : RB_SIZE;
	PREP(w, xf_storage_prep_read(w->st, f->fd, w->rb_buf, len, f->crc_off, tag_of(T_READ, fi)));
	return true;
}

/* The next file waiting for the read-back buffer: started, or finished at once (all
 * holes, or aborted meanwhile). */
static void
rb_start_next(struct xf_worker *w)
{
	w->rb_active = 0;
	while (w->rb_head != 0) {
		uint32_t fi = w->rb_head - 1;
		struct wfile *f = &w->files[fi];

		w->rb_head = f->rb_next;
		if (w->rb_head == 0) {
			w->rb_tail = 0;
		}
		if (f->aborted) {
			fail_file(w, f, XF_ST_IO);
		} else if (read_next(w, fi)) {
			w->rb_active = fi + 1;
			return;
		} else {
			verify(w, f);
		}
	}
}

static void
on_read(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	if (res <= 0 || f->aborted) {
		/* An abort stops a long read-back between two pieces. */
		rb_start_next(w);
		fail_file(w, f,
		          f->aborted ? XF_ST_IO
		          : res == 0 ? XF_ST_SIZE
		                     : xf_status_of_errno(-res));
		return;
	}
	f->crc = xf_csum_crc64(f->crc, w->rb_buf, (size_t)res);
	f->crc_off += (uint64_t)res;
	w->t.readback_bytes += (uint64_t)res;
	if (f->crc_off < f->fe_size && read_next(w, fi)) {
		return;
	}
	rb_start_next(w);
	verify(w, f);
}

static void
finish(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];

	f->fe_pending = 0;
	f->state = W_FINISH;
	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		return;
	}
	if (f->status != XF_ST_OK) {
		fail_file(w, f, f->status);
		return;
	}
	if (f->max_end != f->fe_size) {
		fail_file(w, f, XF_ST_SIZE);
		return;
	}
	if (f->crc_off < f->fe_size) {
		/* Data came out of order: CRC the rest from the temp file, one file at a time
		 * through the worker's read-back buffer. */
		f->rb_next = 0;
		if (w->rb_active == 0) {
			if (!read_next(w, fi)) {
				verify(w, f);
				return;
			}
			w->rb_active = fi + 1;
		} else if (w->rb_tail == 0) {
			w->rb_head = w->rb_tail = fi + 1;
		} else {
			w->files[w->rb_tail - 1].rb_next = fi + 1;
			w->rb_tail = fi + 1;
		}
		return;
	}
	verify(w, f);
}

static void
release(struct xf_worker *w, void *owner)
{
	if (w->p->conf.release != NULL) {
		w->p->conf.release(w->p->conf.release_arg, owner);
	}
}

/* Write what is left of operation oi: from iov[first], at off. */
static void
wr_prep(struct xf_worker *w, uint32_t oi)
{
	struct wop *o = &w->wo[oi];
	int fd = w->files[o->fslot].fd;

	if (o->n - o->first == 1) {
		/* A lone frame (small files, out of order): a plain write. */
		PREP(w, xf_storage_prep_write(w->st, fd, o->iov[o->first].iov_base,
		                              (uint32_t)o->iov[o->first].iov_len, o->off,
		                              tag_of(T_WRITE, oi)));
		return;
	}
	PREP(w,
	     xf_storage_prep_writev(w->st, fd, o->iov + o->first, (unsigned int)(o->n - o->first),
	                            o->off, tag_of(T_WRITE, oi)));
}

/* Send the operation being filled (if any): one pwritev for all its frames. */
static void
wr_flush(struct xf_worker *w)
{
	uint32_t oi;

	if (w->wo_open == 0) {
		return;
	}
	oi = w->wo_open - 1;
	w->wo_open = 0;
	w->t.data_writes++;
	wr_prep(w, oi);
}

/*
 * A DATA item. Its bytes join the operation being filled when they continue it (same
 * file, next offset, room left); otherwise that one is sent and a new one begins.
 * Nothing waits for a later burst: the poll loop sends the last one after the burst.
 */
static void
do_data(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];
	uint64_t end = it->off + it->len;
	struct wop *o = w->wo_open != 0 ? &w->wo[w->wo_open - 1] : NULL;

	if (f->state != W_OPEN || f->file != it->file || f->sid != it->sid || f->gen != it->gen ||
	    f->fe_pending || f->status != XF_ST_OK || f->aborted) {
		release(w, it->owner);
		return;
	}
	if (it->status != XF_ST_OK) {
		/* Data past the announced size: never written (a hostile peer could make a
		 * huge sparse temp); the file fails with this status at its FILE_END. */
		f->status = it->status;
		release(w, it->owner);
		return;
	}
	/* Running CRC while data arrives in offset order (the buffer is ours until the
	 * release after the write), including the new part of an overlapping frame. */
	if (it->off <= f->crc_off && end > f->crc_off) {
		f->crc = xf_csum_crc64(f->crc, (const uint8_t *)it->ptr + (f->crc_off - it->off),
		                       (size_t)(end - f->crc_off));
		f->crc_off = end;
	}
	if (end > f->max_end) {
		f->max_end = end;
	}
	if (o == NULL || o->fslot != fi || o->end != it->off || o->n == WIOV) {
		uint32_t oi;

		wr_flush(w);
		oi = w->wo_free[--w->wo_nfree];
		o = &w->wo[oi];
		o->fslot = fi;
		o->n = 0;
		o->first = 0;
		o->off = it->off;
		o->end = it->off;
		w->wo_open = oi + 1;
		f->inflight++;
	}
	o->iov[o->n] = (struct iovec){ .iov_base = (void *)(uintptr_t)it->ptr, .iov_len = it->len };
	o->owner[o->n++] = it->owner;
	o->end = end;
	w->ws_nfree--;
}

static void
on_write(struct xf_worker *w, uint32_t oi, int32_t res)
{
	struct wop *o = &w->wo[oi];
	struct wfile *f = &w->files[o->fslot];

	if (res > 0) {
		w->t.data_bytes += (uint64_t)res;
		if (o->off + (uint64_t)res < o->end) {
			/* Short write: send the rest, from inside whichever frame it stopped. */
			size_t left = (size_t)res;

			o->off += (uint64_t)res;
			while (o->first < o->n && left >= o->iov[o->first].iov_len) {
				left -= o->iov[o->first++].iov_len;
			}
			o->iov[o->first].iov_base = (uint8_t *)o->iov[o->first].iov_base + left;
			o->iov[o->first].iov_len -= left;
			wr_prep(w, oi);
			return;
		}
		w->t.data_items += o->n;
		stamp(w->now, &w->t.data_first, &w->t.data_last);
	} else if (f->status == XF_ST_OK) {
		f->status = res == 0 ? XF_ST_IO : xf_status_of_errno(-res);
	}
	for (uint32_t i = 0; i < o->n; i++) {
		release(w, o->owner[i]);
	}
	w->ws_nfree += o->n;
	w->wo_free[w->wo_nfree++] = oi;
	if (--f->inflight == 0 && (f->fe_pending || f->aborted)) {
		finish(w, o->fslot);
	}
}

/* ---- COPY: a basis range into the temp file, through io_uring in CBUF steps ---- */

static void on_cread(struct xf_worker *w, uint32_t si, int32_t res);

static void
copy_step(struct xf_worker *w, uint32_t si)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	c->piece = c->left < CBUF ? c->left : CBUF;
	c->wdone = 0;
	if (f->nkeep > 0) {
		/* The basis as its signatures saw it: no read. Past its end is what a read of
		 * a basis shorter than the range gives (0: the file fails). */
		uint64_t end = c->src < f->basis_size ? f->basis_size - c->src : 0;
		uint32_t piece = CBUF - (uint32_t)(c->src % CBUF);

		piece = c->piece < piece ? c->piece : piece;
		piece = end < piece ? (uint32_t)end : piece;
		c->data = piece > 0 ? keep_chunk(w, f, c->src) : NULL;
		w->t.copy_kept += piece;
		on_cread(w, si, (int32_t)piece);
		return;
	}
	c->data = c->buf;
	PREP(w, xf_storage_prep_read(w->st, f->basis_fd, c->buf, c->piece, c->src,
	                             tag_of(T_CREAD, si)));
}

static bool
copy_valid(const struct wfile *f, const struct xf_work *it)
{
	return f->state == W_OPEN && f->file == it->file && f->sid == it->sid &&
	       f->gen == it->gen && f->delta && f->basis_fd >= 0 && !f->fe_pending && !f->aborted;
}

/* Start a queued COPY in slot si (its file's inflight already counts it). */
static void
copy_begin(struct xf_worker *w, uint32_t si, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct cslot *c = &w->cs[si];

	c->fslot = fi;
	c->left = it->len;
	c->off = it->off;
	c->src = it->val;
	copy_step(w, si);
}

static void
copy_end(struct xf_worker *w, uint32_t si)
{
	uint32_t fi = w->cs[si].fslot;
	struct wfile *f = &w->files[fi];

	w->cs_free[w->cs_nfree++] = si;
	while (w->cp_head != w->cp_tail && w->cs_nfree > 0) {
		const struct xf_work *it = &w->cpend[w->cp_head++ % CPEND];
		struct wfile *g = &w->files[fslot_of(w, it->sid, it->file)];

		if (g->status != XF_ST_OK || g->aborted) {
			/* Its file failed meanwhile: nothing to copy, but it was counted. */
			if (--g->inflight == 0 && (g->fe_pending || g->aborted)) {
				finish(w, fslot_of(w, it->sid, it->file));
			}
			continue;
		}
		copy_begin(w, w->cs_free[--w->cs_nfree], it);
	}
	if (--f->inflight == 0 && (f->fe_pending || f->aborted)) {
		finish(w, fi);
	}
}

static void
do_copy(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];
	uint64_t end = it->off + it->len;

	if (!copy_valid(f, it) || f->status != XF_ST_OK) {
		return;
	}
	if (it->status != XF_ST_OK) {
		f->status = it->status; /* past the announced size: never written (see do_data) */
		return;
	}
	if (end > f->max_end) {
		f->max_end = end;
	}
	f->inflight++;
	if (w->cs_nfree > 0) {
		copy_begin(w, w->cs_free[--w->cs_nfree], it);
	} else {
		/* Room was checked before the item was taken off the ring. */
		w->cpend[w->cp_tail++ % CPEND] = *it;
	}
}

static void
on_cread(struct xf_worker *w, uint32_t si, int32_t res)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	if (res <= 0 || f->status != XF_ST_OK || f->aborted) {
		if (f->status == XF_ST_OK) {
			/* A basis shorter than its signatures said: it changed under us. */
			f->status = res == 0 ? XF_ST_CHECKSUM : xf_status_of_errno(-res);
		}
		copy_end(w, si);
		return;
	}
	c->piece = (uint32_t)res; /* a short read: the rest in the next step */
	if (c->off <= f->crc_off && c->off + c->piece > f->crc_off) {
		f->crc = xf_csum_crc64(f->crc, c->data + (f->crc_off - c->off),
		                       (size_t)(c->off + c->piece - f->crc_off));
		f->crc_off = c->off + c->piece;
	}
	PREP(w,
	     xf_storage_prep_write(w->st, f->fd, c->data, c->piece, c->off, tag_of(T_CWRITE, si)));
}

static void
on_cwrite(struct xf_worker *w, uint32_t si, int32_t res)
{
	struct cslot *c = &w->cs[si];
	struct wfile *f = &w->files[c->fslot];

	if (res <= 0) {
		if (f->status == XF_ST_OK) {
			f->status = res == 0 ? XF_ST_IO : xf_status_of_errno(-res);
		}
		copy_end(w, si);
		return;
	}
	c->wdone += (uint32_t)res;
	w->t.data_bytes += (uint64_t)res;
	if (c->wdone < c->piece) {
		PREP(w, xf_storage_prep_write(w->st, f->fd, c->data + c->wdone, c->piece - c->wdone,
		                              c->off + c->wdone, tag_of(T_CWRITE, si)));
		return;
	}
	c->off += c->piece;
	c->src += c->piece;
	c->left -= c->piece;
	if (c->left > 0 && f->status == XF_ST_OK && !f->aborted) {
		copy_step(w, si);
		return;
	}
	w->t.data_items++;
	copy_end(w, si);
}

static void
do_file_end(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];

	if (f->state != W_OPEN || f->file != it->file || f->sid != it->sid || f->gen != it->gen ||
	    f->fe_pending || f->aborted) {
		return;
	}
	f->fe_pending = 1;
	f->fe_size = it->off;
	f->fe_crc = it->val;
	if (it->status != XF_ST_OK && f->status == XF_ST_OK) {
		f->status = it->status; /* the sender gave the file up: fail it in finish() */
	}
	if (f->inflight == 0) {
		finish(w, fi);
	}
}

/*
 * Abort of a session: idle files are removed now, busy ones (an operation in flight)
 * are flagged and removed when it completes, reporting nothing. XF_DONE_ABORT goes
 * back once no file of the session is left; it follows every other completion of the
 * session on the same FIFO ring.
 */
static bool
abort_check(struct xf_worker *w, uint16_t sid)
{
	for (uint32_t i = 0; i < w->window; i++) {
		if (w->files[(uint32_t)sid * w->window + i].state != W_FREE) {
			return false;
		}
	}
	post(w, w->abort_rx[sid],
	     &(struct xf_done){
	             .type = XF_DONE_ABORT, .sid = sid, .fd = -1, .gen = w->abort_gen[sid] });
	w->aborting[sid] = false;
	w->naborting--;
	return true;
}

static void stg_drop(struct xf_worker *w, uint16_t sid);

static void
do_abort(struct xf_worker *w, const struct xf_work *it)
{
	for (uint32_t i = 0; i < w->window; i++) {
		struct wfile *f = &w->files[(uint32_t)it->sid * w->window + i];

		if (f->state == W_FREE) {
			continue;
		}
		f->aborted = 1;
		if (f->state == W_OPEN && f->inflight == 0) {
			fail_file(w, f, XF_ST_IO);
		}
	}
	if (w->stg_on) {
		stg_drop(w, it->sid);
	}
	if (!w->aborting[it->sid]) {
		w->aborting[it->sid] = true;
		w->abort_rx[it->sid] = it->rx;
		w->abort_gen[it->sid] = it->gen;
		w->naborting++;
	}
	abort_check(w, it->sid);
}

/* ---- commit executor (worker XF_COMMIT_WORKER) ----
 *
 * Why this keeps file-list order without the RX core blocking: each RX core sends its
 * sessions' commit items, already in file-list order, on its own FIFO ring to this one
 * worker, which runs them strictly one after another. The renames that make files final
 * go out as one chain (xf_storage_chain(): each starts only once the one before it has
 * completed, whatever its result), so a run of them costs one submission, the kernel
 * runs them on one io-wq thread without a wake-up per file, and they still reach the
 * file system in list order. The worker does not wait for a chain: commit_run() pauses
 * the batch and returns, later polls collect the completions (T_CHAIN) and resume it.
 * Every other ordered step (open or create a parent, mkdir, symlink, a directory's
 * fsync or mtime, dropping a temp) needs the pending chain complete: the batch pauses
 * before it, then it is one operation or system call of its own, waited for (RUN1).
 * While it waits, completions of its other files are dispatched as usual. Operations
 * whose order does not matter (the fsyncs of a batch's files) go out together in one
 * submission, waited for at the start of the batch.
 */

/* Submit and wait until n T_SYNC operations (indices 0..n-1) have completed. */
static void
sync_wait(struct xf_worker *w, uint32_t n)
{
	uint64_t t0 = now_ns();

	while (w->sync_got < n) {
		int k = worker_wait(w, w->scqe, 1);

		if (k < 0) {
			if (k == -EINTR || k == -EAGAIN) {
				continue;
			}
			XF_LOG(ERR, MODULE, "storage wait: %d", k);
			for (uint32_t i = w->sync_got; i < n; i++) {
				w->sync_res[i] = k;
			}
			w->sync_got = n;
			return;
		}
		for (int i = 0; i < k; i++) {
			keep_cqe(w, &w->scqe[i]);
		}
		run_deferred(w);
	}
	slow_check(w, t0, "waiting for a commit step");
}

static void chain_flush(struct xf_worker *w);

/* One operation, waited for, after the pending renames; its result goes to out. */
#define RUN1(w, out, call)                                                                         \
	do {                                                                                       \
		chain_flush(w);                                                                    \
		(w)->sync_got = 0;                                                                 \
		PREP(w, call);                                                                     \
		sync_wait(w, 1);                                                                   \
		(out) = (w)->sync_res[0];                                                          \
	} while (0)

static inline struct xf_work *
cq_item(const struct xf_worker *w, uint32_t i)
{
	return &w->cq[(w->cq_head + i) & (w->cq_cap - 1)];
}

static inline const char *
base_of(const struct xf_work *it)
{
	/* A MARK names no file. */
	return it->ptr != NULL ? (const char *)it->ptr + it->len + 1 : "";
}

static void
mark_dirty(struct xf_worker *w, int pfd)
{
	if (pfd == w->root_fd) {
		w->root_dirty = true;
	} else {
		w->cdir_dirty = true;
	}
}

/* Chain position j's step (a rename, or the link of an unnamed temp), prepped with tag. */
static int
chain_prep(struct xf_worker *w, uint32_t j, const char *base, uint64_t tag)
{
	if (w->ch_fd[j] >= 0) {
		return xf_storage_prep_link(w->st, w->ch_fd[j], w->ch_pfd[j], base, tag);
	}
	return xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j], w->ch_pfd[j], base, 0,
	                              tag);
}

/*
 * An unnamed temp file whose final name was taken since its quick check (link: EEXIST):
 * replace what is there, as a named one would have. It gets its staging name, then is
 * renamed over the final path. Rare, so synchronous. @return 0 or -errno.
 */
static int32_t
link_taken(struct xf_worker *w, uint32_t j, const char *base)
{
	int32_t rc;

	w->t.link_taken++;
	RUN1(w, rc,
	     xf_storage_prep_link(w->st, w->ch_fd[j], w->p->tmp_fd, w->ch_tmp[j],
	                          tag_of(T_SYNC, 0)));
	if (rc < 0) {
		return rc;
	}
	RUN1(w, rc,
	     xf_storage_prep_rename(w->st, w->p->tmp_fd, w->ch_tmp[j], w->ch_pfd[j], base, 0,
	                            tag_of(T_SYNC, 0)));
	if (rc < 0) {
		unlinkat(w->p->tmp_fd, w->ch_tmp[j], 0);
	}
	return rc;
}

/*
 * Settle each item of a completed chain as its step run alone would be: a failure
 * removes a named temp and gives the item the status of its error (the final path
 * keeps what it had); a success marks the parent for its fsync. An unnamed temp's fd,
 * open until its link ran, is closed here.
 */
static void
chain_settle(struct xf_worker *w)
{
	uint32_t n = w->ch_n;

	w->ch_n = 0;
	w->ch_got = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = w->ch_item[j];
		const struct xf_work *it = cq_item(w, i);
		int32_t rc = w->ch_res[j];
		uint16_t sid = w->sync_sid;
		uint32_t file = w->sync_file;

		w->sync_sid = it->sid;
		w->sync_file = it->file;
		if (rc == -ECANCELED) {
			/* The kernel failed the chain at submission and never ran this one: run
			 * it now, alone; the ones after it follow, so the order holds. */
			RUN1(w, rc, chain_prep(w, j, base_of(it), tag_of(T_SYNC, 0)));
		}
		if (rc == -EEXIST && w->ch_fd[j] >= 0) {
			rc = link_taken(w, j, base_of(it));
		}
		w->sync_sid = sid;
		w->sync_file = file;
		if (w->ch_fd[j] >= 0) {
			close(w->ch_fd[j]);
			w->ch_fd[j] = -1;
		} else if (rc < 0) {
			unlinkat(w->p->tmp_fd, w->ch_tmp[j], 0);
		}
		if (rc < 0) {
			w->cstatus[i] = xf_status_of_errno(-rc);
			w->cchanged[i] = 0;
		} else {
			mark_dirty(w, w->ch_pfd[j]);
			w->cstatus[i] = XF_ST_OK;
			w->cchanged[i] = 1;
		}
	}
}

/*
 * Wait for every rename of the pending chain and settle it: the synchronous way, for
 * the steps that cannot be paused (the fallbacks of chain_add(), a directory's
 * release, teardown). commit_run() itself never waits for a chain.
 */
static void
chain_flush(struct xf_worker *w)
{
	uint32_t n = w->ch_n;
	uint64_t t0;

	if (n == 0) {
		return;
	}
	t0 = now_ns();
	while (w->ch_got < n) {
		/* Wake once for the whole chain, not once per rename. */
		int k = worker_wait(w, w->scqe, n - w->ch_got);

		if (k < 0) {
			if (k == -EINTR || k == -EAGAIN) {
				continue;
			}
			XF_LOG(ERR, MODULE, "storage wait: %d", k);
			for (uint32_t j = 0; j < n; j++) {
				if (w->ch_res[j] > 0) {
					w->ch_res[j] = k;
				}
			}
			break;
		}
		for (int i = 0; i < k; i++) {
			keep_cqe(w, &w->scqe[i]);
		}
		run_deferred(w);
	}
	slow_check(w, t0, "waiting for the rename chain");
	chain_settle(w);
}

/* Fill chain position k before its step is prepped (the fault hook maps it back). */
static void
chain_slot(struct xf_worker *w, uint32_t k, uint32_t i, int pfd, const char *tmp, int fd)
{
	w->ch_item[k] = i;
	w->ch_pfd[k] = pfd;
	w->ch_fd[k] = fd;
	w->ch_res[k] = 1; /* pending: renames and links report 0 or -errno */
	memcpy(w->ch_tmp[k], tmp, XF_TMPNAME_SIZE);
}

/*
 * Queue the commit step of batch item i behind the pending ones: the rename of its temp
 * file tmp, or with fd >= 0 the link of its unnamed temp file fd (which the chain then
 * owns, and closes when settled). Room for the whole chain is made up front (an empty
 * submission queue, free slots), so the link to it is never left open at a submit and
 * one submission carries the chain.
 */
static void
chain_add(struct xf_worker *w, uint32_t i, int pfd, const char *tmp, const char *base, int fd)
{
	uint32_t k;
	int rc;

	if (w->ch_n == XF_MIN(w->depth, SYNC_MAX) || xf_storage_inflight(w->st) >= 2u * w->depth) {
		chain_flush(w);
	}
	if (w->ch_n == 0) {
		xf_storage_submit(w->st);
	} else {
		xf_storage_chain(w->st);
	}
	k = w->ch_n;
	chain_slot(w, k, i, pfd, tmp, fd);
	rc = chain_prep(w, k, base, tag_of(T_CHAIN, k));
	if (rc == -EBUSY) {
		/* Not expected given the room made above. Should it happen, the submit in the
		 * flush ends the open link and the flush waits for it: the order holds. */
		chain_flush(w);
		k = 0;
		chain_slot(w, k, i, pfd, tmp, fd);
		PREP(w, chain_prep(w, k, base, tag_of(T_CHAIN, k)));
	}
	w->ch_n = k + 1;
}

static void
cdir_release(struct xf_worker *w)
{
	int32_t ign;

	if (w->cdir_fd < 0) {
		return;
	}
	/* Renames into it still pending must land (and mark it dirty) before it goes. */
	chain_flush(w);
	if (w->cdir_dirty && w->p->conf.fsync != XF_FSYNC_NONE) {
		RUN1(w, ign, xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, 0)));
		if (ign < 0) {
			XF_LOG(ERR, MODULE, "fsync of directory %s: %d", w->cdir, ign);
		}
	}
	close(w->cdir_fd);
	w->cdir_fd = -1;
	w->cdir_dirty = false;
}

/* mkdir -p of a parent that does not exist (directories missing from the list). */
static int
mkdir_parents(struct xf_worker *w, const char *dir)
{
	char buf[XF_PATH_MAX + 1];
	size_t len = strlen(dir);
	int pfd = w->root_fd;
	size_t start = 0;
	int rc = 0;

	memcpy(buf, dir, len + 1);
	for (size_t i = 0; i <= len; i++) {
		char save;
		int nfd;

		if (buf[i] != '/' && buf[i] != '\0') {
			continue;
		}
		save = buf[i];
		buf[i] = '\0';
		RUN1(w, rc,
		     xf_storage_prep_mkdir(w->st, pfd, buf + start, 0755, tag_of(T_SYNC, 0)));
		if (rc < 0 && rc != -EEXIST) {
			break;
		}
		RUN1(w, nfd, xf_storage_prep_open_dir(w->st, buf, tag_of(T_SYNC, 0)));
		if (pfd != w->root_fd) {
			close(pfd);
		}
		if (nfd < 0) {
			return nfd;
		}
		pfd = nfd;
		rc = 0;
		buf[i] = save;
		start = i + 1;
	}
	if (pfd != w->root_fd) {
		close(pfd);
	}
	return rc;
}

/* Directory fd (readable, so it can be fsynced) of the item's parent, cached. */
static int
parent_fd(struct xf_worker *w, const struct xf_work *it, bool create)
{
	const char *dir = it->ptr;
	int fd;

	if (it->len == 0) {
		return w->root_fd;
	}
	if (w->cdir_fd >= 0 && strcmp(w->cdir, dir) == 0) {
		return w->cdir_fd;
	}
	cdir_release(w);
	RUN1(w, fd,
	     xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0, tag_of(T_SYNC, 0)));
	if (fd == -ENOENT && create) {
		fd = mkdir_parents(w, dir);
		if (fd == 0) {
			RUN1(w, fd,
			     xf_storage_prep_open(w->st, -1, dir, O_RDONLY | O_DIRECTORY, 0,
			                          tag_of(T_SYNC, 0)));
		}
	}
	if (fd < 0) {
		return fd;
	}
	w->cdir_fd = fd;
	memcpy(w->cdir, dir, it->len + 1);
	return fd;
}

/* A temp file that will not be committed: a named one is removed, an unnamed one's fd
 * (its only reference) closed. */
static void
drop_tmp(struct xf_worker *w, const char *tmp, int fd)
{
	if (fd >= 0) {
		close(fd);
	} else {
		unlinkat(w->p->tmp_fd, tmp, 0);
	}
}

/*
 * Give a staged temp file (or symlink) of batch item i its final name in its parent:
 * the one step that makes a file appear, atomically. A named temp tmp is renamed there;
 * an unnamed one (fd >= 0, owned by this call from here on) is linked there. The step
 * joins the pending chain and chain_settle() settles its status; on any failure the temp
 * is dropped and the final path keeps what it had.
 */
static uint8_t
place_tmp(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
          const char *tmp, int fd)
{
	int pfd = parent_fd(w, it, true);

	if (pfd < 0) {
		drop_tmp(w, tmp, fd);
		return xf_status_of_errno(-pfd);
	}
	chain_add(w, i, pfd, tmp, base, fd);
	return XF_ST_OK;
}

/* A verified regular file. An unnamed temp's fd is the commit's to close (a named one's
 * is closed by the caller: its rename works on names). */
static uint8_t
commit_reg(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
           const char *tmp, int32_t fsync_res)
{
	int fd = (it->flags & XF_WORK_F_UNNAMED) != 0 ? it->fd : -1;

	if (fsync_res < 0) {
		drop_tmp(w, tmp, fd);
		return xf_status_of_errno(-fsync_res);
	}
	return place_tmp(w, i, it, base, tmp, fd);
}

static uint8_t
commit_dir(struct xf_worker *w, const struct xf_work *it, const char *base)
{
	struct stat sb;
	int pfd, rc;

	pfd = parent_fd(w, it, true);
	if (pfd < 0) {
		return xf_status_of_errno(-pfd);
	}
	RUN1(w, rc, xf_storage_prep_mkdir(w->st, pfd, base, 0700, tag_of(T_SYNC, 0)));
	if (rc == -EEXIST) {
		/* Fine if it is a directory (not a symlink to one). */
		if (fstatat(pfd, base, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode)) {
			return XF_ST_CONFLICT;
		}
	} else if (rc < 0) {
		return xf_status_of_errno(-rc);
	}
	/* The exact mode regardless of umask; its mtime is set at the end of the session. */
	if (fchmodat(pfd, base, it->mode & 07777, 0) != 0) {
		return XF_ST_IO;
	}
	mark_dirty(w, pfd);
	return XF_ST_OK;
}

static uint8_t
commit_symlink(struct xf_worker *w, uint32_t i, const struct xf_work *it, const char *base,
               const char *tmp)
{
	const char *target = base + strlen(base) + 1;
	struct timespec ts[2];
	int rc;

	mtime_spec((int64_t)it->val, ts);
	/* Made under a temp name then renamed: the final path flips atomically. */
	RUN1(w, rc, xf_storage_prep_symlink(w->st, target, w->p->tmp_fd, tmp, tag_of(T_SYNC, 0)));
	if (rc == -EEXIST) {
		unlinkat(w->p->tmp_fd, tmp, 0);
		RUN1(w, rc,
		     xf_storage_prep_symlink(w->st, target, w->p->tmp_fd, tmp, tag_of(T_SYNC, 0)));
	}
	if (rc < 0) {
		return xf_status_of_errno(-rc);
	}
	if (utimensat(w->p->tmp_fd, tmp, ts, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = -errno;
		unlinkat(w->p->tmp_fd, tmp, 0);
		return xf_status_of_errno(-rc);
	}
	return place_tmp(w, i, it, base, tmp, -1);
}

static void
dirtime(struct xf_worker *w, const struct xf_work *it)
{
	const char *base = (const char *)it->ptr + it->len + 1;
	struct timespec ts[2];
	int pfd;

	mtime_spec((int64_t)it->val, ts);
	/* A rename into the directory still pending would move its mtime again. */
	chain_flush(w);
	pfd = parent_fd(w, it, false);
	if (pfd >= 0) {
		uint64_t t0 = now_ns();

		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		slow_check(w, t0, "setting a directory's mtime");
	}
}

/* ---- staged directories: the commit side ---- */

/*
 * The head staged directory is done with (st: put in place, or why not): release the
 * reports held for it, in order, the held ones first (earlier batches), then the batch's.
 * Those of its own entry and its files carry st when it failed.
 */
static void
stg_pop(struct xf_worker *w, uint8_t st)
{
	uint32_t num = w->stg_head++;

	w->stg_last_status = st;
	while (w->sq_head != w->sq_tail) {
		struct stg_report *r = &w->sq[w->sq_head++ & (w->sq_cap - 1)];

		if (r->mine != 0 && st != XF_ST_OK) {
			r->d.status = st;
			r->d.changed = 0;
		}
		w->t.staged_files += r->mine == STG_FILE && r->d.status == XF_ST_OK;
		post(w, r->rx, &r->d);
	}
	for (uint32_t i = 0; i < w->bn; i++) {
		if (w->cdefer[i] != num + 1) {
			continue;
		}
		w->cdefer[i] = 0;
		if (w->cmine[i] != 0 && st != XF_ST_OK) {
			w->cstatus[i] = st;
			w->cchanged[i] = 0;
		}
		w->t.staged_files += w->cmine[i] == STG_FILE && w->cstatus[i] == XF_ST_OK;
	}
}

/* Put the head staged directory in place: its mode, then one rename that never replaces
 * anything. On any failure it is removed, with the files in it. */
static void
stg_place(struct xf_worker *w)
{
	struct stg_dir *d = stg_at(w, w->stg_head);
	const struct xf_work *it = &d->item;
	uint8_t st = XF_ST_OK;
	int32_t rc;
	int pfd;

	d->open = false;
	if (d->busy != 0) {
		/* Cannot happen (its files are listed, so committed, before whatever places
		 * it); if it did, a file still being written must not appear. */
		XF_LOG(ERR, MODULE, "staged directory %s: %u files still busy", d->tmp, d->busy);
		st = XF_ST_IO;
	} else if (fchmodat(w->p->tmp_fd, d->tmp, it->mode & 07777, 0) != 0) {
		st = XF_ST_IO;
	} else if ((pfd = parent_fd(w, it, true)) < 0) {
		st = xf_status_of_errno(-pfd);
	} else {
		uint16_t sid = w->sync_sid;
		uint32_t file = w->sync_file;

		w->sync_sid = it->sid; /* the step is the directory's own (fault hook) */
		w->sync_file = it->file;
		RUN1(w, rc,
		     xf_storage_prep_rename(w->st, w->p->tmp_fd, d->tmp, pfd, base_of(it),
		                            RENAME_NOREPLACE, tag_of(T_SYNC, 0)));
		w->sync_sid = sid;
		w->sync_file = file;
		if (rc < 0) {
			st = xf_status_of_errno(-rc);
		} else {
			mark_dirty(w, pfd);
		}
	}
	close(d->fd);
	if (st == XF_ST_OK) {
		w->t.staged_dirs++;
	} else {
		xf_pipeline_remove_tree(w->p->tmp_fd, d->tmp);
		w->t.staged_failed++;
	}
	stg_pop(w, st);
}

/* Every staged directory of session slot sid is dropped (abort, teardown): removed with
 * its files; what was held for them is released. */
static void
stg_drop(struct xf_worker *w, uint16_t sid)
{
	struct stg_dir *d;

	while ((d = stg_first(w)) != NULL && d->sid == sid) {
		close(d->fd);
		xf_pipeline_remove_tree(w->p->tmp_fd, d->tmp);
		w->t.staged_failed++;
		stg_pop(w, XF_ST_IO);
	}
}

static inline void
stg_hold(struct xf_worker *w, uint32_t i, uint32_t num, uint8_t mine)
{
	w->cdefer[i] = num + 1;
	w->cmine[i] = mine;
}

/*
 * Must the head staged directory go in place before item it runs? Yes for an item of its
 * session that does something on disk (not one of its files, a no-op or a discard),
 * once its own entry was committed; and for another session's item once it waits for
 * nothing (another session can keep the commit queue from running dry for long).
 */
static bool
stg_places(const struct xf_worker *w, const struct xf_work *it)
{
	const struct stg_dir *d = &w->stg[w->stg_head & (STG_DIRS - 1)];
	bool passive = it->type == XF_WORK_COMMIT &&
	               (it->flags & (XF_WORK_F_NOOP | XF_WORK_F_INPLACE | XF_WORK_F_DISCARD)) != 0;

	if (w->stg_head == w->stg_tail || !d->seen) {
		return false;
	}
	if (it->sid == d->sid && it->sess_id == d->sess) {
		return !passive;
	}
	return d->busy == 0;
}

/*
 * Batch item i (it) meets the staged directories. While the head one's entry has been
 * committed and it is not in place yet, the reports of its session wait for it (file-list
 * order): its files commit as they are (they are at their names in it), a no-op is held;
 * stg_places() says what puts it in place first. A staged directory's own entry becomes
 * the head. Returns true if the item is done with, false if it runs as usual.
 */
static bool
stg_commit(struct xf_worker *w, uint32_t i, const struct xf_work *it)
{
	struct stg_dir *d;
	bool held;

	if (stg_places(w, it)) {
		stg_place(w);
	}
	d = stg_first(w);
	held = d != NULL && d->seen && it->sid == d->sid && it->sess_id == d->sess;
	if (it->type != XF_WORK_COMMIT || (it->flags & XF_WORK_F_DISCARD) != 0) {
		return false;
	}
	if ((it->flags & XF_WORK_F_INPLACE) != 0) {
		uint32_t num = stg_num(w, it->off);

		if (it->fd >= 0) {
			close(it->fd); /* verified, at its name */
		}
		if (held && num == d->num) {
			stg_hold(w, i, num, STG_FILE);
		} else if (num == w->stg_head - 1 && w->stg_last_status == XF_ST_OK) {
			w->t.staged_files++; /* already in place with its directory */
		} else {
			/* Its directory was dropped or failed, and took it along. */
			w->cstatus[i] = num == w->stg_head - 1 ? w->stg_last_status : XF_ST_IO;
		}
		w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
		w->t.commits++;
		return true;
	}
	if ((it->flags & XF_WORK_F_NOOP) != 0) {
		if (held) {
			stg_hold(w, i, d->num, 0);
		}
		return true;
	}
	if ((it->flags & XF_WORK_F_STAGED) == 0) {
		return false;
	}
	if (d == NULL || d->num != stg_num(w, it->off) || d->file != it->file ||
	    d->sid != it->sid || d->sess != it->sess_id) {
		w->cstatus[i] = XF_ST_IO; /* dropped (its session was aborted) */
		return true;
	}
	d->seen = true;
	d->item = *it;
	stg_hold(w, i, d->num, STG_OWN);
	w->cchanged[i] = 1;
	w->t.commits++;
	return true;
}

/* Nothing left to commit: the head staged directory goes in place once the files it
 * took are all verified or failed (it takes no more then), so that the session's end
 * never waits for it. */
static int
stg_idle(struct xf_worker *w)
{
	const struct stg_dir *d = stg_first(w);

	if (d == NULL || !d->seen || d->busy != 0) {
		return 0;
	}
	stg_place(w);
	return 1;
}

static uint32_t
batch_size(const struct xf_worker *w)
{
	switch (w->p->conf.fsync) {
	case XF_FSYNC_FILE:
		return 1;
	case XF_FSYNC_BATCH:
		return w->p->conf.fsync_batch != 0 ? w->p->conf.fsync_batch : 1;
	default:
		return SYNC_MAX;
	}
}

/*
 * Whether running batch item i (it) would have to wait for the pending chain: every
 * step outside the chain does (see above), and so does a rename that finds the chain
 * full. commit_run() pauses the batch there instead of waiting.
 */
static bool
needs_chain(const struct xf_worker *w, uint32_t i, const struct xf_work *it)
{
	if (w->stg_on && stg_places(w, it)) {
		return true; /* puts the staged directory in place first */
	}
	if (it->type == XF_WORK_COMMIT && (it->flags & XF_WORK_F_INPLACE) != 0) {
		return false; /* nothing to do on disk */
	}
	if (it->type == XF_WORK_DIRTIME) {
		return true;
	}
	if (it->type != XF_WORK_COMMIT || (it->flags & XF_WORK_F_DISCARD) != 0) {
		return it->type == XF_WORK_COMMIT;
	}
	if ((it->flags & XF_WORK_F_NOOP) != 0) {
		return false;
	}
	if (it->kind == XF_FILE_REG && w->cfres[i] < 0) {
		return false; /* fsync failed: the temp goes, nothing is renamed */
	}
	if (it->kind != XF_FILE_REG) {
		return true; /* mkdir, or the symlink made under its temp name */
	}
	if (it->len != 0 && (w->cdir_fd < 0 || strcmp(w->cdir, (const char *)it->ptr) != 0)) {
		return true; /* a new parent: opened (or created) and waited for */
	}
	return w->ch_n == XF_MIN(w->depth, SYNC_MAX) || xf_storage_inflight(w->st) >= 2u * w->depth;
}

/*
 * Start a batch of up to batch_size() queued items: fsync its verified temp files in
 * one submission and wait for them (only under fsync file or batch; no chain is in
 * flight between batches, so this keeps fsync-before-rename without ordering work).
 */
static void
batch_start(struct xf_worker *w)
{
	uint32_t n = XF_MIN(w->cq_tail - w->cq_head, batch_size(w));
	bool durable = w->p->conf.fsync != XF_FSYNC_NONE;
	uint32_t nsync = 0;

	w->sync_got = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xf_work *it = cq_item(w, i);

		w->sync_res[i] = 0;
		if (durable && it->type == XF_WORK_COMMIT && it->kind == XF_FILE_REG &&
		    it->fd >= 0 && (it->flags & XF_WORK_F_DISCARD) == 0) {
			PREP(w, xf_storage_prep_fsync(w->st, it->fd, false, tag_of(T_SYNC, i)));
			nsync++;
		}
	}
	if (nsync != 0) {
		w->sync_got = n - nsync; /* the others count as done */
		sync_wait(w, n);
	}
	memcpy(w->cfres, w->sync_res, n * sizeof(w->cfres[0]));
	memset(w->cdefer, 0, n * sizeof(w->cdefer[0])); /* stg_pop() looks at the whole batch */
	w->bn = n;
	w->bpos = 0;
}

/*
 * Run the batch's items from bpos on: each regular file (or symlink) joins the chain
 * of renames; any other step runs at once, after the chain. Returns true when the
 * batch is paused with a chain submitted (at an item that has to wait for it, or at
 * the end), false when every item is settled.
 */
static bool
batch_items(struct xf_worker *w)
{
	for (uint32_t i = w->bpos; i < w->bn; i++) {
		struct xf_work *it = cq_item(w, i);
		const char *base = base_of(it);
		char tmp[XF_TMPNAME_SIZE];

		if (w->ch_n != 0 && needs_chain(w, i, it)) {
			w->bpos = i;
			xf_storage_submit(w->st);
			return true;
		}
		w->sync_sid = it->sid;
		w->sync_file = it->file;
		w->cstatus[i] = it->status;
		w->cchanged[i] = 0;
		if (w->stg_on && stg_commit(w, i, it)) {
			continue;
		}
		if (it->type == XF_WORK_DIRTIME) {
			dirtime(w, it);
			continue;
		}
		if (it->type != XF_WORK_COMMIT) {
			continue;
		}
		xf_work_tmpname(tmp, it->sid, it->sess_id, it->file);
		if ((it->flags & XF_WORK_F_DISCARD) != 0) {
			/* Aborted session: a verified temp file is dropped, not committed.
			 * After the pending renames, like every step outside the chain. */
			chain_flush(w);
			if (it->kind == XF_FILE_REG && it->fd >= 0) {
				if ((it->flags & XF_WORK_F_UNNAMED) == 0) {
					unlinkat(w->p->tmp_fd, tmp, 0);
				}
				close(it->fd);
			}
			continue;
		}
		if ((it->flags & XF_WORK_F_NOOP) != 0) {
			continue;
		}
		switch (it->kind) {
		case XF_FILE_REG:
			w->cstatus[i] = commit_reg(w, i, it, base, tmp, w->cfres[i]);
			if ((it->flags & XF_WORK_F_UNNAMED) == 0) {
				/* Its rename works on names: the fd can go before it runs. */
				close(it->fd);
			}
			break;
		case XF_FILE_DIR:
			w->cstatus[i] = commit_dir(w, it, base);
			break;
		default:
			w->cstatus[i] = commit_symlink(w, i, it, base, tmp);
			break;
		}
		/* A queued rename is settled by chain_settle(), which overwrites both. */
		w->cchanged[i] = w->cstatus[i] == XF_ST_OK;
		w->t.commits++;
	}
	w->bpos = w->bn;
	if (w->ch_n != 0) {
		xf_storage_submit(w->st);
		return true;
	}
	return false;
}

/*
 * End of a batch, every rename settled: fsync the directories that changed (fsync
 * file or batch), then report the batch in order. A file is reported committed only
 * here, so "committed through N" follows its rename and is durable under the policy.
 */
static void
batch_end(struct xf_worker *w)
{
	int32_t ign = 0;

	if (w->p->conf.fsync != XF_FSYNC_NONE) {
		if (w->cdir_fd >= 0 && w->cdir_dirty) {
			RUN1(w, ign,
			     xf_storage_prep_fsync(w->st, w->cdir_fd, false, tag_of(T_SYNC, 0)));
			w->cdir_dirty = false;
		}
		if (w->root_dirty) {
			RUN1(w, ign,
			     xf_storage_prep_fsync(w->st, w->root_fd, false, tag_of(T_SYNC, 0)));
			w->root_dirty = false;
		}
		if (ign < 0) {
			/* The renames are done; the files stay committed, the error is logged. */
			XF_LOG(ERR, MODULE, "fsync of a directory: %d", ign);
		}
	}
	for (uint32_t i = 0; i < w->bn; i++) {
		const struct xf_work *it = cq_item(w, i);
		struct xf_done d = {
			.status = w->cstatus[i],
			.changed = w->cchanged[i],
			.sid = it->sid,
			.file = it->file,
			.fd = -1,
			.gen = it->gen,
		};

		if (it->type == XF_WORK_DIRTIME) {
			continue;
		}
		d.type = it->type == XF_WORK_MARK ? XF_DONE_MARK : XF_DONE_COMMIT;
		if (w->cdefer[i] != 0) {
			/* Held for the staged directory at the head (stg_commit()). */
			if (w->sq_tail - w->sq_head == w->sq_cap) {
				XF_LOG(ERR, MODULE, "held commit reports overflow");
			} else {
				w->sq[w->sq_tail++ & (w->sq_cap - 1)] = (struct stg_report){
					.d = d, .rx = it->rx, .mine = w->cmine[i]
				};
				continue;
			}
		}
		post(w, it->rx, &d);
	}
	w->cq_head += w->bn;
	w->bn = 0;
	w->bpos = 0;
}

/*
 * Drive the commit queue, one batch in flight at a time, without waiting for renames:
 * (1) batch_start(): fsync the batch's temp files (fsync file/batch), (2) batch_items():
 * make each file final in order, the renames as one chain, submitted; the batch pauses
 * while the chain runs and a later poll, once dispatch() has counted every rename's
 * completion, settles it and resumes, (3) batch_end(): fsync the directories that
 * changed, report the batch in order. Returns 1 if it did anything.
 */
static int
commit_run(struct xf_worker *w)
{
	int busy = 0;

	for (;;) {
		uint64_t t0;
		bool paused;

		if (w->bn == 0 && w->cq_tail == w->cq_head) {
			return w->stg_on ? busy | stg_idle(w) : busy;
		}
		if (w->bn != 0 && w->ch_got < w->ch_n) {
			return busy; /* the chain is running */
		}
		t0 = now_ns();
		if (w->bn == 0) {
			batch_start(w);
		} else if (w->ch_n != 0) {
			chain_settle(w);
		}
		paused = batch_items(w);
		if (!paused) {
			batch_end(w);
		}
		w->now = now_ns();
		stamp(t0, &w->t.commit_first, &w->t.commit_last);
		w->t.commit_last = w->now;
		w->t.busy_commit_s += (double)(w->now - t0) / 1e9;
		busy = 1;
		if (paused) {
			return busy;
		}
	}
}

/* ---- poll ---- */

static void
dispatch(struct xf_worker *w, const struct xf_storage_cqe *c)
{
	uint32_t idx = (uint32_t)c->tag;

	switch (c->tag >> 56) {
	case T_STAT:
		on_stat(w, idx, c->res);
		break;
	case T_TMP:
		on_tmp(w, idx, c->res);
		break;
	case T_WRITE:
		on_write(w, idx, c->res);
		break;
	case T_READ:
		on_read(w, idx, c->res);
		break;
	case T_BASIS:
		on_basis(w, idx, c->res);
		break;
	case T_SIG:
		on_sig(w, idx, c->res);
		break;
	case T_CREAD:
		on_cread(w, idx, c->res);
		break;
	case T_CWRITE:
		on_cwrite(w, idx, c->res);
		break;
	case T_CHAIN:
		keep_cqe(w, c);
		break;
	default:
		break;
	}
}

static void
handle(struct xf_worker *w, const struct xf_work *it)
{
	switch (it->type) {
	case XF_WORK_STAT:
		do_stat(w, it);
		break;
	case XF_WORK_DATA:
		do_data(w, it);
		break;
	case XF_WORK_FILE_END:
		do_file_end(w, it);
		break;
	case XF_WORK_COMMIT:
	case XF_WORK_DIRTIME:
	case XF_WORK_MARK:
		/* Bounded: at most a window of items per session is ever outstanding. */
		w->cq[w->cq_tail++ & (w->cq_cap - 1)] = *it;
		break;
	case XF_WORK_ABORT:
		do_abort(w, it);
		break;
	case XF_WORK_COPY:
		do_copy(w, it);
		break;
	default:
		break;
	}
}

int
xf_worker_poll(struct xf_worker *w)
{
	struct xf_work items[W_BURST];
	unsigned int n;
	int busy;

	w->now = now_ns();
	busy = flush_out(w);
	busy |= run_deferred(w);
	n = xf_storage_reap(w->st, w->cqe, CQE_MAX);
	for (unsigned int i = 0; i < n; i++) {
		dispatch(w, &w->cqe[i]);
	}
	busy |= n != 0;
	busy |= run_deferred(w);
	if (w->cq != NULL) {
		busy |= commit_run(w);
	}
	/* Back-pressure: take new work only when its completions and writes have room. */
	if (w->out_pending == 0) {
		for (unsigned int r = 0; r < w->p->conf.n_rx; r++) {
			unsigned int room = XF_MIN(w->ws_nfree, W_BURST);

			if (w->cq != NULL) {
				room = XF_MIN(room, w->cq_cap - (w->cq_tail - w->cq_head));
			}
			/* Any item may be a COPY that has to wait for a slot. */
			room = XF_MIN(room, CPEND - (w->cp_tail - w->cp_head));

			if (room == 0) {
				break;
			}
			n = xf_ring_dequeue_burst(w->p->to_w[r][w->idx], items, room);
			for (unsigned int i = 0; i < n; i++) {
				if (items[i].type == XF_WORK_DATA) {
					do_data(w, &items[i]);
					continue;
				}
				/* Anything else (FILE_END above all) sees the writes before
				 * it in flight, as if each had gone out on its own. */
				wr_flush(w);
				handle(w, &items[i]);
			}
			wr_flush(w);
			busy |= n != 0;
		}
	}
	for (unsigned int sid = 0; w->naborting != 0 && sid < XF_ARRAY_SIZE(w->aborting); sid++) {
		if (w->aborting[sid]) {
			abort_check(w, (uint16_t)sid);
		}
	}
	if (xf_storage_submit(w->st) > 0) {
		busy = 1;
	}
	return busy;
}

bool
xf_worker_idle(const struct xf_worker *w)
{
	return xf_storage_inflight(w->st) == 0 && w->out_pending == 0 && w->cq_tail == w->cq_head;
}

static int32_t
fault_hook(void *arg, enum xf_storage_op op, uint64_t tag, int32_t res)
{
	struct xf_worker *w = arg;
	uint32_t idx = (uint32_t)tag;
	const struct wfile *f = NULL;

	switch (tag >> 56) {
	case T_STAT:
	case T_TMP:
	case T_READ:
	case T_BASIS:
	case T_SIG:
		f = &w->files[idx];
		break;
	case T_CREAD:
	case T_CWRITE:
		f = &w->files[w->cs[idx].fslot];
		break;
	case T_WRITE:
		f = &w->files[w->wo[idx].fslot];
		break;
	case T_SYNC:
		return w->p->fault(w->p->fault_arg, w->sync_sid, w->sync_file, op, res);
	case T_CHAIN: {
		const struct xf_work *it = cq_item(w, w->ch_item[idx]);

		return w->p->fault(w->p->fault_arg, it->sid, it->file, op, res);
	}
	default:
		return res;
	}
	return w->p->fault(w->p->fault_arg, f->sid, f->file, op, res);
}

void
xf_worker_set_fault(struct xf_worker *w)
{
	xf_storage_set_fault(w->st, w->p->fault != NULL ? fault_hook : NULL, w);
}

void
xf_worker_set_wait_poll(struct xf_worker *w, xf_pipeline_wait_fn fn, void *arg)
{
	w->wait_fn = fn;
	w->wait_arg = arg;
}

void
xf_worker_add_times(const struct xf_worker *w, struct xf_pipeline_times *t)
{
	t->stat_items += w->t.stat_items;
	t->data_items += w->t.data_items;
	t->data_bytes += w->t.data_bytes;
	t->data_writes += w->t.data_writes;
	t->stat_nodir += w->t.stat_nodir;
	t->stat_lookups += w->t.stat_lookups;
	t->copy_kept += w->t.copy_kept;
	t->wait_polls += w->t.wait_polls;
	t->slow_steps += w->t.slow_steps;
	t->modes_at_create += w->t.modes_at_create;
	t->tmp_leftovers += w->t.tmp_leftovers;
	t->unnamed_temps += w->t.unnamed_temps;
	t->link_taken += w->t.link_taken;
	t->staged_dirs += w->t.staged_dirs;
	t->staged_files += w->t.staged_files;
	t->staged_failed += w->t.staged_failed;
	t->readback_bytes += w->t.readback_bytes;
	{
		struct xf_lease_stats ls;

		xf_lease_stats(w->p->sig_ring[w->idx], &ls);
		t->sig_leased += ls.taken;
		t->sig_heap += ls.heap;
	}
	t->files_done += w->t.files_done;
	t->commits += w->t.commits;
	t->busy_commit_s += w->t.busy_commit_s;
	if (w->t.stat_first != 0 && (t->stat_first == 0 || w->t.stat_first < t->stat_first)) {
		t->stat_first = w->t.stat_first;
	}
	if (w->t.data_first != 0 && (t->data_first == 0 || w->t.data_first < t->data_first)) {
		t->data_first = w->t.data_first;
	}
	if (w->t.commit_first != 0 &&
	    (t->commit_first == 0 || w->t.commit_first < t->commit_first)) {
		t->commit_first = w->t.commit_first;
	}
	t->stat_last = XF_MAX(t->stat_last, w->t.stat_last);
	t->data_last = XF_MAX(t->data_last, w->t.data_last);
	t->commit_last = XF_MAX(t->commit_last, w->t.commit_last);
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t v = 1;

	while (v < n) {
		v <<= 1;
	}
	return v;
}

struct xf_worker *
xf_worker_create(struct xf_pipeline *p, unsigned int idx)
{
	struct xf_worker *w = calloc(1, sizeof(*w));
	unsigned int depth = p->conf.uring_depth != 0 ? p->conf.uring_depth : 512;
	uint32_t outstanding = 3u * p->conf.max_sessions * p->conf.window + 64u;

	if (w == NULL) {
		return NULL;
	}
	w->p = p;
	w->idx = idx;
	w->window = p->conf.window;
	w->cdir_fd = -1;
	w->depth = depth;
	w->st = xf_storage_create(p->root_fd, depth, (enum xf_storage_io)p->conf.io);
	if (w->st == NULL) {
		goto err_free;
	}
	w->root_fd = xf_storage_root_fd(w->st);
	if (idx == XF_COMMIT_WORKER && p->conf.test_rename_hold_ms != 0) {
		/* The commit step: a rename, or the link of an unnamed temp file. */
		xf_storage_set_hold(w->st, XF_SOP_RENAME,
		                    (uint64_t)p->conf.test_rename_hold_ms * 1000000ull);
		xf_storage_set_hold(w->st, XF_SOP_LINK,
		                    (uint64_t)p->conf.test_rename_hold_ms * 1000000ull);
	}
	w->nfiles = p->conf.max_sessions * p->conf.window;
	w->files = calloc(w->nfiles, sizeof(*w->files));
	w->rb_buf = aligned_alloc(4096, RB_SIZE);
	w->sg_buf = aligned_alloc(4096, RB_SIZE);
	for (uint32_t i = 0; i < CSLOTS; i++) {
		w->cs[i].buf = aligned_alloc(4096, CBUF);
		if (w->cs[i].buf == NULL) {
			goto err_destroy;
		}
		w->cs_free[i] = CSLOTS - 1 - i;
	}
	w->cs_nfree = CSLOTS;
	if (p->conf.delta_cache_mb >= 0) {
		w->keep_n = p->conf.delta_cache_mb != 0 ? (uint32_t)p->conf.delta_cache_mb
		                                        : XF_PIPELINE_DELTA_CACHE_MB;
		w->keep_n = XF_MIN(w->keep_n * (1024u * 1024u / CBUF), XF_ARRAY_SIZE(w->keep_free));
		/* Touched now, so that no page fault lands in a transfer. */
		w->keep_mem = aligned_alloc(4096, (size_t)w->keep_n * CBUF);
		if (w->keep_mem == NULL) {
			goto err_destroy;
		}
		memset(w->keep_mem, 0, (size_t)w->keep_n * CBUF);
		for (uint32_t i = 0; i < w->keep_n; i++) {
			w->keep_free[i] = (uint8_t)(w->keep_n - 1 - i);
		}
		w->keep_nfree = w->keep_n;
	}
	w->out_cap = pow2_at_least(outstanding);
	for (unsigned int r = 0; r < p->conf.n_rx; r++) {
		w->out[r].q = calloc(w->out_cap, sizeof(struct xf_done));
		if (w->out[r].q == NULL) {
			goto err_destroy;
		}
	}
	w->def_cap = pow2_at_least(4u * depth + 4u * CQE_MAX);
	w->deferred = calloc(w->def_cap, sizeof(*w->deferred));
	if (w->deferred == NULL) {
		goto err_destroy;
	}
	if (idx == XF_COMMIT_WORKER) {
		/* Any size works: the worker takes items off its rings only while the
		 * commit queue has room for them. */
		w->cq_cap = 1024;
		w->cq = calloc(w->cq_cap, sizeof(*w->cq));
		if (w->cq == NULL) {
			goto err_destroy;
		}
	}
	/* Staged directories need the files' STATs and their commits on one core, in list
	 * order, and commits that need no fsync (docs/PIPELINE.md, "Staged directories"). */
	w->stg_on =
	        p->conf.n_workers == 1 && p->conf.fsync == XF_FSYNC_NONE && !p->conf.no_staged_dirs;
	if (w->stg_on) {
		/* Reports held for one directory stay below the window: the sender can always
		 * send the files it waits for. */
		w->stg_cap = p->conf.window / 2;
		w->sq_cap = pow2_at_least(p->conf.window);
		w->sq = calloc(w->sq_cap, sizeof(*w->sq));
		if (w->sq == NULL) {
			goto err_destroy;
		}
	}
	w->wo = calloc(WSLOTS, sizeof(*w->wo));
	if (w->files == NULL || w->rb_buf == NULL || w->sg_buf == NULL || w->wo == NULL) {
		goto err_destroy;
	}
	for (uint32_t i = 0; i < WSLOTS; i++) {
		w->wo_free[i] = WSLOTS - 1 - i;
	}
	w->wo_nfree = WSLOTS;
	w->ws_nfree = WSLOTS;
	return w;
err_destroy:
	xf_worker_destroy(w);
	errno = ENOMEM;
	return NULL;
err_free:
	free(w);
	return NULL;
}

void
xf_worker_destroy(struct xf_worker *w)
{
	if (w == NULL) {
		return;
	}
	/* The loops have returned and the cores' state is going away: the waits below
	 * (the paused chain, the storage's drain) must not serve an RX core. */
	w->wait_fn = NULL;
	if (w->st != NULL && w->ch_n != 0) {
		/* Stopped with a batch paused: its renames complete before the fds go. */
		chain_flush(w);
	}
	if (w->cdir_fd >= 0) {
		close(w->cdir_fd);
	}
	/* Staged directories left at a stop are removed; their held reports go nowhere. */
	w->sq_head = w->sq_tail;
	w->bn = 0;
	while (stg_first(w) != NULL) {
		stg_drop(w, stg_first(w)->sid);
	}
	for (uint32_t i = 0; w->files != NULL && i < w->nfiles; i++) {
		if (w->files[i].state != W_FREE && w->files[i].fd >= 0) {
			close(w->files[i].fd);
		}
		if (w->files[i].state != W_FREE) {
			close_basis(w, &w->files[i]);
		}
	}
	xf_storage_destroy(w->st);
	for (unsigned int r = 0; r < XF_PIPELINE_MAX_RX; r++) {
		free(w->out[r].q);
	}
	free(w->cq);
	free(w->sq);
	free(w->deferred);
	free(w->rb_buf);
	free(w->sg_buf);
	free(w->keep_mem);
	for (uint32_t i = 0; i < CSLOTS; i++) {
		free(w->cs[i].buf);
	}
	free(w->wo);
	free(w->files);
	free(w);
}
