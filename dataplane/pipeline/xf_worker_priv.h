/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's internals, shared by its stage files (nothing outside xf_worker*.c
 * includes this). Which file owns which functions (their declarations below are grouped
 * by file), and which fields of struct xf_worker each stage writes:
 *
 *   xf_worker.c         the poll loop, dispatch of items and completions, creation and
 *                       teardown (every field is set up there), abort. Writes out[],
 *                       out_pending (completions to the RX cores), deferred and def_*
 *                       (completions reaped to make room, or kept for a poll with room
 *                       for their handlers), aborting[], abort_rx[], abort_gen[],
 *                       naborting, now; records the commit executor's completions
 *                       wherever they are reaped (sync_res[], sync_got, ch_res[],
 *                       ch_got: keep_cqe()).
 *   xf_worker_stat.c    STAT, quick check, decision, temp file: a file state (files[])
 *                       from W_STAT_DIR to W_OPEN (its identity, kind, mode, decision,
 *                       fd), nodir_*, lead, follow[], nfollow; queues a DELTA file for
 *                       its signatures (sg_head, sg_tail, sg_next).
 *   xf_worker_stage.c   staged directories: stg[], stg_head, stg_tail, stg_last_status,
 *                       stg_path, stg_plen, stg_sid, stg_sess, stg_end, stg_drop_mask,
 *                       sq[], sq_head,
 *                       cdefer[], cmine[]; a file's inplace, stg, stg_busy, and the
 *                       held items' cstatus[] and cchanged[].
 *   xf_worker_delta.c   signatures and the basis: sg_active, sg_head, sg_tail, keep_free[]
 *                       and keep_nfree (chunks taken and given back), a file's sigs, nsig,
 *                       sig_off, keep[], nkeep, basis_fd; the signature cache's entries
 *                       (sc: looked up and stored; made, loaded and saved by xf_worker.c);
 *                       p->delta_failed (compare-and-swap only, shared by the pipeline's
 *                       workers).
 *   xf_worker_write.c   DATA and COPY: wo[], wo_free[], wo_nfree, wo_open, ws_nfree, zip,
 *                       z_free[], z_nfree (the inflation buffers, z_mem), cs[],
 *                       cs_free[], cs_nfree, cpend[], cp_head, cp_tail; a file's inflight,
 *                       crc and crc_off (in order), max_end, status (a failed write).
 *   xf_worker_verify.c  FILE_END, read-back and verification: rb_active, rb_head, rb_tail,
 *                       a file's fe_*, rb_next, crc, W_FINISH; fail_file() and the end of
 *                       a file free its state (W_FREE).
 *   xf_worker_commit.c  the commit executor (worker XF_COMMIT_WORKER): cq_head, bn, bpos,
 *                       bphase, bfs_next, bstep, bctx, bpfd, sync_*, ch_*, cstatus[],
 *                       cchanged[], cfres[], cdir, cdir_fd, cdir_dirty, root_dirty.
 *   xf_worker_partial.c partial files: a file's pkeep and pbasis, p->part_kept and
 *                       p->part_evicted (relaxed atomic adds, shared by the pipeline's
 *                       workers); a failed file's temp file renamed into XF_PARTIAL_DIR.
 *   xf_worker_delete.c  deletions of sessions with --delete (XF_WORK_DELETE), one walk
 *                       at a time, a bounded step per poll: del_head, del_tail.
 *   xf_worker_parent.c  the commit executor's parent directories: the cached one (cdir,
 *                       cdir_fd, cdir_dirty) released and the next opened or made
 *                       (pbuf, plen, ppos, pstart, psave, ppfd).
 *
 * Counters (t) are written by the stage they count. Everything runs on the worker's own
 * core: nothing here is shared with another core except through the rings and
 * p->delta_failed.
 */
#ifndef XF_WORKER_PRIV_H
#define XF_WORKER_PRIV_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "xf_csum.h"
#include "xf_delta.h"
#include "xf_partial.h"
#include "xf_pipeline_priv.h"
#include "xf_sigcache.h"
#include "xf_zip.h"

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
 * Compressed DATA frames (XF_WORK_F_COMPRESSED) inflate into buffers of a per-worker
 * pool, each held from the inflation to its write's completion (the frame's mbuf goes
 * back at once). ZSLOTS of them: 1.1 MiB per worker, four bursts of frames in flight.
 */
#define ZSLOTS 128u
#define ZBUF   ((XF_DATA_RAW_MAX + 63u) & ~63u)
/*
 * A basis of at most KEEP_MAX chunks of CBUF bytes is kept in memory from its signature
 * pass to its COPY ops, so that it is read once instead of twice (the second read was
 * 15% of the receiver's CPU in the `delta` benchmark). The chunks come from a per-worker
 * pool (xf_pipeline_conf.delta_cache_mb); a file that finds too few free goes the old
 * way, reading the basis again for each COPY.
 */
#define KEEP_MAX 8u
/*
 * Files from this size on (64 KiB: 94 blocks of 700 B) are signed while they are
 * written, for a signature cache entry at their commit (docs/DELTA.md, "Signature
 * cache"): a smaller one costs little to read again, and would take cache room and a
 * system call at verification and at commit for little.
 */
#define NS_MIN (64u * 1024u)
enum { NS_NONE = 0, NS_ON, NS_OFF };
/*
 * Staged directories between their creation and their placement (a power of two). The
 * placements trail the creations by up to a window of entries, and a directory-rich tree
 * has a directory every ten of them: /usr/include (863 directories, 8,567 files) had 288
 * staged with 32 and all 863 with 256 (dev pair on tmpfs, docs/PIPELINE.md). 256 costs
 * about 40 KiB of struct stg_dir and up to 256 open directory fds per worker.
 */
#define STG_DIRS 256u
/*
 * What one staged directory takes in place: files of at most XF_STG_FILE_MAX bytes,
 * STG_BYTES in all (the reason: XF_STG_FILE_MAX).
 */
#define STG_FILE_MAX XF_STG_FILE_MAX
#define STG_BYTES    (16u * 1024u * 1024u)

enum tag_type {
	T_STAT = 1, /* index: file state */
	T_TMP,      /* file state: temp open */
	T_WRITE,    /* write slot */
	T_READ,     /* file state: read-back */
	T_IGN,      /* fire and forget (close) */
	T_SYNC,     /* commit executor: the operation(s) of a paused step */
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

/*
 * COPY ranges whose CRC-64 is known (from the basis's block CRCs) but that lie beyond
 * the running CRC (crc_off) when they are applied: the sender's COPY answers overtake
 * its DATA frames (measured: only each file's first COPY was in order in the e2e delta
 * test on XFS). Absorbed once crc_off reaches them, by DATA in order or by the
 * read-back, which reads only the gaps between them. A file with more waits reads them
 * back (never wrong, only slower).
 */
#define CRC_PIECES 16u

struct crc_piece {
	uint64_t off, len, crc;
	bool ns; /* its blocks' records are in the file's own signatures (ns_copy()) */
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
	uint8_t pkeep;       /* its temp file is tagged: kept as a partial if it fails */
	uint8_t pbasis;      /* its basis is its partial, not the file at its final path */
	uint8_t inplace;     /* a staged directory (DIR), or a file written in one (REG) */
	uint8_t lazy;        /* decided WHOLE, its temp file not created yet (lazy_open()) */
	uint8_t stg_busy;    /* REG in place: counted in its directory's busy */
	uint8_t run;         /* REG: in a run after its directory's entry (XF_WORK_F_RUN) */
	uint32_t stg;        /* inplace: the staged directory's number */
	uint16_t sid;
	uint16_t rx;
	uint32_t file;
	uint32_t sess_id;
	uint32_t gen; /* the session's generation (struct xf_work.gen) */
	uint32_t mode;
	uint32_t uid, gid; /* owner and group to set; XF_ID_NONE: left as they are */
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
	uint8_t presized; /* DELTA: its temp file was given size while empty (presize()) */
	uint8_t checksum; /* session in checksum mode */
	uint8_t dry;      /* session is a dry run: decide, write nothing */
	uint8_t itemize;  /* say how the entry differs (items) */
	uint8_t trees;    /* a directory in its way goes with its entries (XF_WORK_F_DELETE) */
	uint8_t redo;     /* its DELTA failed: decided WHOLE whatever is there (XF_WORK_F_REDO) */
	uint32_t xflags;  /* XF_WORK_F_XATTRS, XF_WORK_F_ACLS of its STAT: the set to give it */
	uint16_t items;   /* XF_ITEM_* found at the quick check */
	int basis_fd;
	uint64_t basis_size;
	uint32_t bs, count, nsig;
	uint32_t sg_next; /* signature queue link: slot + 1, 0 = end */
	uint64_t sig_off;
	uint8_t nkeep;          /* chunks of the kept basis (0: not kept) */
	uint8_t keep[KEEP_MAX]; /* their pool indices, in basis order */
	struct xf_sig_rec *sigs;
	struct xf_delta_sig sg;
	/*
	 * Apply by clone (docs/DELTA.md): the CRC-64 of each block of the basis, taken in
	 * the signature pass (bcrc, count of them, NULL when the volume neither clones nor
	 * copies in the kernel), the one being summed (bcrc_run over bcrc_fill bytes of
	 * block bcrc_n), the combine operator of one block (bs_op), the coarse clock before
	 * the quick check's statx (sig_t0, ns: basis_unchanged()), and
	 * whether a COPY's CRC came from bcrc (crc_combined, so the basis is checked
	 * unchanged at FILE_END) or the basis was found changed (basis_moved: no more
	 * clones, COPY ops read and write as before).
	 */
	uint64_t *bcrc;
	uint64_t bcrc_run;
	uint32_t bcrc_n, bcrc_fill;
	uint64_t bs_op;
	int64_t sig_t0;
	uint8_t crc_combined;
	uint8_t basis_moved;
	uint8_t npieces; /* of pieces, sorted by offset */
	struct crc_piece pieces[CRC_PIECES];
	/*
	 * The file's own signatures for the next push (docs/DELTA.md, "Signature cache"):
	 * the block size that push will choose for it (ns_bs, ns_count blocks), the sums
	 * (ns_sigs, ns_n of them) and block CRC-64s (ns_bcrc, ns_bn) of the bytes the
	 * running CRC sees, fed in offset order up to ns_off. A block's CRC-64 is not summed
	 * over its bytes a second time: it comes from the running CRC at the block's end and
	 * at its start (ns_run, ns_fill bytes ago) with ns_op, the combine operator of
	 * ns_bs bytes (crc_feed()). ns_state: NS_NONE (not begun), NS_ON, NS_OFF (not this file:
	 * too small, no cache, or a range the worker did not see). ns_pending: stored pending at
	 * verification, its key to come from the commit.
	 */
	struct xf_sig_rec *ns_sigs;
	uint64_t *ns_bcrc;
	struct xf_sig_rec *bsig; /* the basis's records, for COPY ops that keep its blocks */
	uint64_t ns_off;
	uint64_t ns_run;
	uint64_t ns_op;
	uint32_t ns_bs, ns_count, ns_n, ns_bn, ns_fill;
	uint8_t ns_state;
	uint8_t ns_pending;
	struct xf_delta_sig ns_sg;
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
	uint32_t file;     /* index of its own entry */
	uint32_t last;     /* index of the last entry it took (its own at first) */
	uint32_t n;        /* files it took, */
	uint64_t bytes;    /* their sizes */
	uint32_t busy;     /* of those, not yet verified or failed */
	uint32_t unsynced; /* verified, their commit (under fsync file or batch: their fsync)
	                    * not run yet */
	int fd;
	uint32_t plen;       /* bytes of its final path (seen) */
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

/*
 * Steps the commit executor pauses for (struct xf_worker.bstep): their operations are
 * queued (T_SYNC), and a later poll that has collected them resumes the step.
 */
enum commit_step {
	STEP_MKDIR = 1,     /* a directory's mkdir */
	STEP_SYMLINK,       /* a symlink made under its temp name */
	STEP_SYMLINK_AGAIN, /* the same, after a leftover of that name was removed */
	STEP_CDIR_FSYNC,    /* the cached parent's fsync before it is released (parent_step) */
	STEP_POPEN,         /* opening the item's parent */
	STEP_PMKDIR,        /* making a missing component of it */
	STEP_POPENDIR,      /* opening that component, for the next one */
	STEP_PREOPEN,       /* opening the parent again, once made */
	STEP_STG_DSYNC,     /* fsync file or batch: the head staged directory's fsync, */
	STEP_STG_RENAME,    /* its rename into place, */
	STEP_STG_PSYNC,     /* and its new parent's fsync */
	STEP_RERUN,         /* a chain step the kernel never ran, run alone */
	STEP_LINK_TMP,      /* an unnamed temp whose name was taken: linked at its temp name */
	STEP_LINK_OVER,     /* ... then renamed over the final name */
	STEP_XCHG,          /* a file or symlink exchanged with the directory in its way */
	STEP_DIR_XCHG,      /* a new directory exchanged with the file or symlink in its way */
	STEP_STG_XCHG,      /* a staged directory exchanged with the file or symlink there */
	STEP_FILE_FSYNC,    /* the batch's file fsyncs (or room for them) */
	STEP_DIR_FSYNC,     /* the batch's directory fsyncs */
};

/* Whose step is paused (struct xf_worker.bctx): where the executor resumes it. */
enum commit_ctx {
	CTX_ITEM = 1, /* batch item bpos */
	CTX_STG,      /* the head staged directory's placement */
	CTX_SETTLE,   /* the chain's settlement, at position ch_sj */
	CTX_BATCH,    /* the batch's fsyncs */
};

/* Phases of the batch in flight (struct xf_worker.bphase). */
enum batch_phase {
	PH_FSYNC = 0, /* its temp files' fsyncs */
	PH_ITEMS,     /* its items, in order */
	PH_END,       /* its directories' fsyncs, then its reports */
};

/*
 * Storage slots a commit step needs free before it starts: one operation (two for a
 * batch's directory fsyncs). Checked before every step, so that a prep in the executor
 * never finds the storage full (docs/PIPELINE.md, "No waits on a worker").
 */
#define COMMIT_ROOM 2u
/*
 * Storage slots a completion's handler may take (a STAT's result: a close and an open,
 * and a dirty basis's writeback started by sig_begin(); the end of a COPY: the next
 * COPY's read and its file's read-back), the lead lookup of a parent aside
 * (handler_room()). A completion is dispatched only while this many are free, and an
 * item (which takes one at most) is taken off a ring only while more are. At most the
 * queue's depth (8 at least): the storage has twice as many slots. One handler can
 * start more writebacks than that (sig_start() takes, in a row, every file whose
 * signatures come from the cache): PREP()'s make_room() then waits for completions.
 */
#define HANDLER_ROOM 4u

#define STG_OWN  1u /* the directory's own entry */
#define STG_FILE 2u /* a file written in it */
#define STG_LINK 3u /* a file of another worker, linked (or renamed) into it */

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
	/* Inflation of compressed DATA: igzip's state and the buffer pool (ZSLOTS of ZBUF). */
	struct xf_zip *zip;
	uint8_t *z_mem;
	uint32_t z_free[ZSLOTS];
	uint32_t z_nfree;
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
	/* The signature cache of the files this worker signs (docs/DELTA.md, "Signature
	 * cache"), NULL when off; its file sc_name in the staging directory (sc_dirfd). */
	struct xf_sigcache *sc;
	struct xf_idmap idmap; /* owners and groups sent by name (stat_named()) */
	uint64_t ns_held;      /* bytes of the records of the files being signed (ns_begin()) */
	int sc_dirfd;
	char sc_name[24];
	uint8_t *keep_mem; /* the pool: keep_n chunks of CBUF */
	uint32_t keep_n;
	uint32_t keep_nfree;
	uint8_t keep_free[256];
	/* Commit executor (worker XF_COMMIT_WORKER only). */
	struct xf_work *cq;
	uint32_t cq_cap, cq_head, cq_tail; /* free-running */
	int32_t sync_res[SYNC_MAX];
	uint32_t sync_got, sync_need; /* completions of the paused step's ops, and of those */
	uint16_t sync_sid;
	uint32_t sync_file;
	/* The pending chain of renames: in file-list order, linked, waited for at once. */
	uint32_t ch_n, ch_got;
	uint32_t ch_item[SYNC_MAX];  /* batch index of the k-th rename */
	int ch_pfd[SYNC_MAX];        /* its parent directory fd */
	int ch_fd[SYNC_MAX];         /* an unnamed temp file's fd, linked (-1: a rename) */
	int ch_kfd[SYNC_MAX];        /* a signed named temp's fd, kept for its key (-1: none) */
	uint8_t ch_signed[SYNC_MAX]; /* XF_WORK_F_SIGNED: its key goes to its cache entry */
	int32_t ch_res[SYNC_MAX];
	char ch_tmp[SYNC_MAX][XF_TMPNAME_SIZE]; /* its temp name, valid until completion */
	uint8_t cstatus[SYNC_MAX];              /* of the batch's items */
	uint8_t cchanged[SYNC_MAX];
	int32_t cfres[SYNC_MAX]; /* the batch's file fsync results */
	/* The batch in flight: items [cq_head, cq_head + bn), run up to bpos; a paused
	 * batch waits for its chain (ch_n renames submitted, ch_got completed). */
	uint32_t bn, bpos;
	uint32_t ch_sj; /* settling a completed chain: the next position */
	/* The batch's phase, and its next item whose fsync is to be queued. */
	uint8_t bphase;
	uint32_t bfs_next;
	/* The executor paused for the operation(s) of a step (STEP_*, 0: none) of bctx,
	 * T_SYNC 0 .. sync_need - 1, done once sync_got reaches sync_need; bpfd: the parent
	 * directory of the item (or staged directory) whose step it is. */
	uint8_t bstep;
	uint8_t bctx;
	int bpfd;
	/* A parent made on the way (parent_step()): the path, cut at ppos while a
	 * component is made (its byte there in psave), the component's start, and the
	 * directory it is made in (ppfd, opened beneath the root). */
	char pbuf[XF_PATH_MAX + 1];
	struct xf_partial_id pid; /* scratch of xf_worker_partial.c: a file's partial id */
	uint32_t plen, ppos, pstart;
	char psave;
	int ppfd;
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
	struct xf_storage_cqe *deferred; /* reaped, not yet dispatched */
	uint32_t def_cap, def_head, def_tail;
	/*
	 * Staged directories, one session at a time: [stg_head, stg_tail) made and not yet put
	 * in place, the one at the tail taking files while open (stg_path, its final path);
	 * reports held for the head (sq); the last one placed, and how (stg_head - 1).
	 */
	/* Deletion walks (xf_worker_delete.c), FIFO; the head one runs. */
	struct del_job *del_head, *del_tail;
	bool stg_on;
	uint32_t stg_cap; /* files one directory may take: below the window (credits) */
	struct stg_dir stg[STG_DIRS];
	uint32_t stg_head, stg_tail;
	uint8_t stg_last_status;
	uint32_t stg_plen;
	char stg_path[XF_PATH_MAX + 1];
	uint16_t stg_sid; /* the session of the last one made, and the last entry it took: */
	uint32_t stg_sess;
	uint32_t stg_end;       /* the next may only start after it (their commits come in order) */
	uint64_t stg_drop_mask; /* session slots whose staged directories go once the placement
	                         * or the chain in flight is done (an abort met it) */
	struct stg_report *sq;
	uint32_t sq_cap, sq_head, sq_tail; /* free-running */
	uint32_t cdefer[SYNC_MAX];         /* batch item held for directory number + 1 */
	uint8_t cmine[SYNC_MAX];           /* ... as STG_OWN, STG_FILE or 0 */
	bool aborting[64];                 /* per session slot: abort in progress */
	uint16_t abort_rx[64];
	uint32_t abort_gen[64];
	unsigned int naborting;
	/* Counters; `now` is read once per poll for the stage spans. */
	struct xf_pipeline_times t;
	uint64_t now;
};

static inline uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Queue an operation. A full submission queue is flushed to the kernel (make_room()).
 * A free slot is there: every step that preps checks for room first (HANDLER_ROOM,
 * COMMIT_ROOM), and nothing waits for a completion to free one.
 */
#define PREP(w, call)                                                                              \
	do {                                                                                       \
		while ((call) == -EBUSY) {                                                         \
			make_room(w);                                                              \
		}                                                                                  \
	} while (0)

/* A file's state slot: one window of slots per session slot. */
static inline uint32_t
fslot_of(const struct xf_worker *w, uint16_t sid, uint32_t file)
{
	return (uint32_t)sid * w->window + file % w->window;
}

/* A stage span: the first and the last time the stage ran. */
static inline void
stamp(uint64_t now, uint64_t *first, uint64_t *last)
{
	if (*first == 0) {
		*first = now;
	}
	*last = now;
}

/* Byte off of a file's basis kept in the pool (struct wfile.keep). */
static inline uint8_t *
keep_chunk(const struct xf_worker *w, const struct wfile *f, uint64_t off)
{
	return w->keep_mem + (size_t)f->keep[off / CBUF] * CBUF + off % CBUF;
}

/* Staged directory number num (a ring of STG_DIRS). */
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

/* Is staged directory num made and not yet in place? */
static inline bool
stg_alive(const struct xf_worker *w, uint32_t num)
{
	return num - w->stg_head < w->stg_tail - w->stg_head;
}

/* Item i of the commit queue, counted from its head (the batch in flight). */
static inline struct xf_work *
cq_item(const struct xf_worker *w, uint32_t i)
{
	return &w->cq[(w->cq_head + i) & (w->cq_cap - 1)];
}

/* The last component of a commit item's path. */
static inline const char *
base_of(const struct xf_work *it)
{
	/* A MARK names no file. */
	return it->ptr != NULL ? (const char *)it->ptr + it->len + 1 : "";
}

/* Storage slots free now. */
static inline uint32_t
st_free(const struct xf_worker *w)
{
	return 2u * w->depth - xf_storage_inflight(w->st);
}

/*
 * A commit step of context ctx queues its one operation (T_SYNC 0) and pauses: the
 * executor returns, and resumes the step once a later poll has collected the
 * completion (its result in sync_res[0]). Room was checked (COMMIT_ROOM).
 */
#define STEP_OP(w, ctx, step, call)                                                                \
	do {                                                                                       \
		step_begin(w, ctx, step);                                                          \
		PREP(w, call);                                                                     \
		xf_storage_submit((w)->st);                                                        \
	} while (0)

static inline void
step_begin(struct xf_worker *w, uint8_t ctx, uint8_t step)
{
	w->sync_got = 0;
	w->sync_need = 1;
	w->bstep = step;
	w->bctx = ctx;
}

/* The paused step's result is taken: nothing is paused any more. */
static inline int32_t
step_take(struct xf_worker *w)
{
	w->bstep = 0;
	w->bctx = 0;
	return w->sync_res[0];
}

/* ---- xf_worker_delete.c ---- */
void del_start(struct xf_worker *w, const struct xf_work *it);
int del_run(struct xf_worker *w);
void del_abort(struct xf_worker *w, uint16_t sid, uint32_t gen);
/*
 * Remove the directory tree a type change moved to temp name tmp in the staging
 * directory (it: the COMMIT item that replaced it), step by step behind the walks
 * queued before; its entries count as the session's deletions (it->owner). 0 or -ENOMEM.
 */
int trash_start(struct xf_worker *w, const struct xf_work *it, const char *tmp);

/* Is name in dfd a directory (not a symlink to one)? */
static inline bool
is_dir_at(int dfd, const char *name)
{
	struct stat sb;

	return fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
}
void del_free_all(struct xf_worker *w);

/* ---- xf_worker.c ---- */
void post_done(struct xf_worker *w, uint16_t rx, const struct xf_done *d);
void post_simple(struct xf_worker *w, const struct wfile *f, uint8_t type, uint8_t decision,
                 uint8_t status, int fd);
void keep_cqe(struct xf_worker *w, const struct xf_storage_cqe *c);
void slow_check(struct xf_worker *w, uint64_t t0, const char *what);
void make_room(struct xf_worker *w);
int run_deferred(struct xf_worker *w);
void cqe_dispatch(struct xf_worker *w, const struct xf_storage_cqe *c);

/* ---- xf_worker_stat.c ---- */
void stat_decide(struct xf_worker *w, struct wfile *f, uint32_t fi, uint8_t decision,
                 uint8_t status);
bool path_within(const struct wfile *f, uint16_t sid, uint32_t sess, const char *dir, uint32_t len);
void on_stat(struct xf_worker *w, uint32_t fi, int32_t res);
void on_basis(struct xf_worker *w, uint32_t fi, int32_t res);
void do_stat(struct xf_worker *w, const struct xf_work *it);
void on_tmp(struct xf_worker *w, uint32_t fi, int32_t res);
bool lazy_open(struct xf_worker *w, struct wfile *f, uint32_t fi);

/* ---- xf_worker_stage.c ---- */
void stg_release(struct xf_worker *w, struct wfile *f, bool ok);
bool stg_take(struct xf_worker *w, struct wfile *f, uint32_t fi);
void stg_pop(struct xf_worker *w, uint8_t st);
void stg_drop(struct xf_worker *w, uint16_t sid);
void stg_drop_now(struct xf_worker *w, uint16_t sid);
void stg_drop_pending(struct xf_worker *w);
int stg_into(const struct xf_worker *w, const struct xf_work *it);
bool stg_places(const struct xf_worker *w, const struct xf_work *it);
bool stg_place(struct xf_worker *w);
bool stg_commit(struct xf_worker *w, uint32_t i, const struct xf_work *it);
int stg_idle(struct xf_worker *w);

/* ---- xf_worker_delta.c ---- */
void close_basis(struct xf_worker *w, struct wfile *f);
bool basis_unchanged(struct xf_worker *w, struct wfile *f);
void crc_absorb(struct wfile *f);
uint64_t crc_gap_end(const struct wfile *f, uint64_t end);
void bcrc_feed(struct wfile *f, const uint8_t *p, size_t n, bool last);
uint64_t df_key(const struct xf_worker *w, const struct wfile *f);
void df_remember(struct xf_worker *w, uint64_t key);
bool df_take(struct xf_worker *w, uint64_t key);
void sig_start(struct xf_worker *w, uint32_t fi);
void crc_feed(struct xf_worker *w, struct wfile *f, const uint8_t *p, size_t n);
uint64_t crc_mulmod(uint64_t a, uint64_t b);
uint64_t crc_shift(uint64_t len);
void ns_restart(struct xf_worker *w, struct wfile *f);
void ns_off(struct xf_worker *w, struct wfile *f);
void ns_keep_basis(struct xf_worker *w, struct wfile *f);
bool ns_copy(struct xf_worker *w, struct wfile *f, uint64_t off, uint64_t src, uint64_t len);
void ns_skip(struct wfile *f, uint64_t off, uint64_t len);
void ns_verified(struct xf_worker *w, struct wfile *f);
void sc_settle(struct xf_worker *w, const struct xf_sigcache_key *k);
void sc_notes(struct xf_worker *w);
void sc_note_commit(struct xf_worker *w, const struct xf_work *it, int fd);
void on_sig(struct xf_worker *w, uint32_t fi, int32_t res);

/* ---- xf_worker_write.c ---- */
void wr_flush(struct xf_worker *w);
void do_data(struct xf_worker *w, const struct xf_work *it);
void on_write(struct xf_worker *w, uint32_t oi, int32_t res);
void do_copy(struct xf_worker *w, const struct xf_work *it);
void on_cread(struct xf_worker *w, uint32_t si, int32_t res);
void on_cwrite(struct xf_worker *w, uint32_t si, int32_t res);

/* ---- xf_worker_partial.c ---- */
void partial_tag(struct xf_worker *w, struct wfile *f);
bool partial_basis(struct xf_worker *w, struct wfile *f, uint32_t fi);
void partial_fail(struct xf_worker *w, struct wfile *f, uint8_t status);
void partial_verified(struct xf_worker *w, struct wfile *f);

/* ---- xf_worker_verify.c ---- */
void fail_file(struct xf_worker *w, struct wfile *f, uint8_t status);
void mtime_spec(int64_t mtime_ns, struct timespec ts[2]);
uint8_t owner_set(struct xf_worker *w, int fd, const char *base, uint32_t uid, uint32_t gid);
void file_verify(struct xf_worker *w, struct wfile *f);
void on_read(struct xf_worker *w, uint32_t fi, int32_t res);
void file_finish(struct xf_worker *w, uint32_t fi);
void do_file_end(struct xf_worker *w, const struct xf_work *it);

/* ---- xf_worker_xattr.c ---- */
/* The attribute set stored after name (xf_fname_xattr()) on the open file fd, in the
 * namespaces flags (XF_WORK_F_XATTRS, _ACLS) and the volume keep, read back and compared:
 * XF_ST_OK, or XF_ST_XATTR (logged, counted). */
uint8_t xattr_apply(struct xf_worker *w, int fd, const char *name, uint32_t flags);
/* The same on base beneath dirfd, never through a symlink: a directory (dir), or an
 * up-to-date regular file, whose set is applied only if what it has differs. */
uint8_t xattr_apply_at(struct xf_worker *w, int dirfd, const char *base, const char *name,
                       uint32_t flags, bool dir);
/* rsync's itemize columns x and a for base beneath dirfd (a directory if dir, else a
 * regular file), never through a symlink: XF_ITEM_XATTR when its attributes in the
 * namespaces the flags and volume keep differ from the set after name, XF_ITEM_ACL when
 * its ACLs do as rsync -A tells them apart. Short blocking calls, made only for items. */
uint16_t xattr_items(struct xf_worker *w, int dirfd, const char *base, const char *name,
                     uint32_t flags, bool dir);

/* ---- xf_worker_commit.c ---- */
void mark_dirty(struct xf_worker *w, int pfd);
/* xf_worker_link.c: hard link item it (its parent open at pfd) linked at temp name tmp
 * (*made: then to be renamed into place); XF_ST_OK with !*made: it already is that link. */
uint8_t link_make(struct xf_worker *w, int pfd, const struct xf_work *it, const char *tmp,
                  bool *made);
/* A hard link's leader path (checked by the session): its parent directory, an O_PATH fd
 * opened beneath root_fd without following any symlink (root_fd itself at the top level),
 * and its last component in *lbase; -errno on failure. */
int link_leader_dir(int root_fd, const char *target, const char **lbase);
int commit_run(struct xf_worker *w);
void commit_drain(struct xf_worker *w);

/* ---- xf_worker_parent.c ---- */
bool parent_step(struct xf_worker *w, const struct xf_work *it, bool create, uint8_t ctx, int *out);
void parent_abandon(struct xf_worker *w);

#endif /* XF_WORKER_PRIV_H */
