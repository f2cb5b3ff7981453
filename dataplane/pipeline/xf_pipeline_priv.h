/* SPDX-License-Identifier: BSD-3-Clause */
/* Pipeline internals shared by the session, worker and driver sources. */
#ifndef XF_PIPELINE_PRIV_H
#define XF_PIPELINE_PRIV_H

#include <errno.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "xf_delete.h"
#include "xf_ftable.h"
#include "xf_pathset.h"
#include "xf_lease.h"
#include "xf_pipeline.h"
#include "xf_proto.h"
#include "xf_reorder.h"
#include "xf_ring.h"
#include "xf_storage.h"
#include "xf_work.h"

#define RX_BURST 32u
/* Slots of struct xf_pipeline.delta_failed. */
#define XF_DF_SLOTS 1024u
#define W_BURST     32u

/* Bytes of each worker's signature ring: 256 DELTA files of 4 MiB (2048 blocks of 8-byte
 * records each) between their signature pass and their SIG frames; beyond, the heap. */
#define XF_SIG_RING_BYTES (4u * 1024u * 1024u)

/* Per-file progress on the RX core (struct xf_fentry.state). */
enum {
	FS_NEW = 0,  /* stored, STAT not sent */
	FS_STAT,     /* STAT sent */
	FS_DECIDED,  /* decision made and sent */
	FS_FILE_END, /* FILE_END enqueued: later DATA is dropped */
	FS_SETTLED,  /* in the reorder window */
};

/* Reorder values: status in bits 0-7, XF_RV_COMMIT when a commit op is needed,
 * XF_RV_UNNAMED when its temp file has no name (O_TMPFILE: the commit links the fd),
 * XF_RV_STAGED (a directory made under a staged name) or XF_RV_INPLACE (a file written in
 * one) with the staged directory's number in bits 16-31, the verified temp fd in bits
 * 32-63. */
#define XF_RV_COMMIT    0x100u
#define XF_RV_UNNAMED   0x200u
#define XF_RV_STAGED    0x400u
#define XF_RV_INPLACE   0x800u
#define XF_RV_SIGNED    0x1000u /* a pending signature cache entry waits for its key */
#define XF_RV_STG_SHIFT 16

/*
 * The largest file a staged directory takes. Its files become visible together, so this
 * bounds what a crash before it is in place costs the next push; a bigger file's link is
 * nothing beside its data. The RX core ends a run of files (XF_WORK_F_RUN) at one.
 */
#define XF_STG_FILE_MAX (1024u * 1024u)

enum sess_phase {
	PH_RUN = 0,
	PH_DELETE,  /* all settled; the commit worker deletes what the list lacks */
	PH_DIRTIME, /* all settled; directory mtimes being fixed */
	PH_MARK,    /* waiting for the commit worker's mark */
	PH_ABORT,   /* aborted: workers clean up, verified temps are discarded */
	PH_DRAIN,   /* DONE sent: waiting for every worker to say it holds nothing of it */
	PH_DONE,
};

/* A DELTA file's signatures to send (the array is the worker's malloc, ours now). */
struct sig_out {
	uint32_t file;
	uint32_t block_size;
	uint32_t count;
	struct xf_sig_rec *sigs;
};

/** Names of ids a session remembers to refuse a second name for one of them (6.21). */
#define XF_SESSION_NAMES 64u

struct sess_name {
	uint32_t id;
	uint8_t kind; /* enum xf_name_kind */
	uint8_t len;
	char name[XF_ACCOUNT_NAME_MAX];
};

struct xf_session {
	struct xf_pipeline *p;
	uint16_t sid;
	uint16_t rx;
	uint32_t id;
	uint32_t addr; /* the peer (with port and id, the key frames are matched with) */
	uint16_t port;
	uint16_t max_payload;
	uint32_t gen; /* generation of the slot: stamped on every work item */
	bool used;
	enum sess_phase phase;
	struct xf_reorder ro;
	uint32_t total;      /* UINT32_MAX until the LAST FLIST */
	uint32_t seen_end;   /* one past the highest index an FLIST frame carried */
	uint32_t committed;  /* every index below is settled */
	uint32_t reported;   /* committed value last sent in COMMIT */
	uint16_t commit_seq; /* the next COMMIT frame's seq (docs/PROTOCOL.md 3.8) */
	uint32_t commit_inflight;
	uint32_t changed; /* commits that wrote something */
	uint32_t ndirs;
	uint32_t dir_cursor;
	/* XF_HELLO_F_OWNER_NAMES: the first XF_SESSION_NAMES names the sender gave, so that
	 * a second, different name for one of those ids aborts the session (6.21). */
	struct sess_name names[XF_SESSION_NAMES];
	uint16_t n_names;
	uint32_t abort_sent; /* bit per worker: ABORT item enqueued */
	uint32_t abort_acks; /* workers that reported XF_DONE_ABORT */
	uint64_t tx_pn;
	xf_pipeline_tx_fn tx;
	void *tx_arg;
	xf_pipeline_tx_room_fn tx_room; /* NULL: unlimited */
	uint32_t flags;                 /* XF_HELLO_F_* */
	uint32_t failed;                /* files settled with a failure, in all */
	/* --delete (XF_HELLO_F_DELETE): the walk's parameters (read by the commit worker when
	 * it starts the walk) and its outcome, sent in DONE; the list's paths are in keep. */
	struct xf_delete_conf del_conf;
	char *del_dest;
	struct xf_filter *del_protect; /* XF_HELLO_F_FILTERS: what the deletion keeps */
	bool del_broken; /* the destination or the filter rules are bad: nothing is deleted */
	bool del_done;   /* del_res is final */
	struct xf_delete_result del_res;
	/* With XF_HELLO_F_ITEMIZE too: what the walk deleted, sent back in FLIST frames
	 * before the DONE (docs/PROTOCOL.md 6.14): the next record and its index. */
	struct xf_delete_list del_list;
	size_t del_off;
	uint32_t del_idx;
	bool del_listed; /* the LAST of those frames is out */
	/* Signatures of DELTA files waiting to go out in SIG frames, FIFO (window slots). */
	struct sig_out *sigq;
	uint32_t sigq_head, sigq_n;
	uint32_t sig_next; /* next block of the head entry */
	/* Outgoing DECISION and COMMIT frames under construction. */
	struct xf_proto_builder dec_b;
	bool dec_open;
	unsigned int nfail;    /* failures settled since the last COMMIT frame */
	unsigned int fail_cap; /* failures that fit one COMMIT frame */
	struct xf_commit_fail fails[XF_COMMIT_FAIL_MAX];
	uint8_t dec_buf[XF_PAYLOAD_MAX];
	uint8_t com_buf[XF_PAYLOAD_MAX];
	/* The slot is taken: set by the one RX core whose compare-and-swap won it (several
	 * RX cores open sessions in one pipeline at the same moment: a job's lanes), cleared
	 * after its close. After dec_buf, so xf_session_init's memset leaves it. */
	atomic_bool claimed;
	/* The slot's path sets, reserved with the pipeline and emptied by xf_session_init
	 * (after dec_buf too: their reservations outlive the sessions). keep: --delete
	 * (XF_HELLO_F_DELETE), every path of the list. linkable: XF_HELLO_F_HARDLINKS, the
	 * paths of the regular files this session committed (or found up to date), the only
	 * leaders a hard link may name (docs/PIPELINE.md, "Hard links"). Either one full
	 * aborts the session (paths_over). */
	struct xf_pathset keep;
	struct xf_pathset linkable;
	/* The slot's file table, reserved with the pipeline like the path sets and emptied
	 * by xf_session_init (xf_ftable.h). A list past its bound aborts the session
	 * (entries_over). */
	struct xf_ftable ft;
	/* The reorder window's slots and the signature queue (window entries each), made
	 * with the pipeline and taken by xf_session_init: nothing allocated at a HELLO. */
	uint64_t *ro_val;
	uint8_t *ro_full;
	struct sig_out *sigq_mem;
};

struct xf_rxcore {
	struct xf_pipeline *p;
	unsigned int idx;
	struct xf_session *sess[64]; /* sessions on this core (slot pointers) */
	unsigned int nsess;
	struct xf_frame stalled[RX_BURST]; /* frames waiting for ring room, in order */
	unsigned int nstalled;
	unsigned int stalled_pos;
	struct xf_pipeline_rx_stats stats;
};

struct xf_worker; /* xf_worker_priv.h */

struct xf_core_arg {
	struct xf_pipeline *p;
	int role;
	unsigned int idx;
};

struct xf_pipeline {
	struct xf_pipeline_conf conf;
	int root_fd;          /* O_RDONLY | O_DIRECTORY, ours */
	int tmp_fd;           /* XF_STAGING_TMP, ours */
	uint32_t create_keep; /* mode bits a file created in tmp_fd keeps (probed at start) */
	bool unnamed_ok;      /* O_TMPFILE in tmp_fd and linkat AT_EMPTY_PATH work (probed) */
	uint8_t clone;        /* enum xf_storage_clone: how COPY ops are applied (probed) */
	uint32_t clone_blk;   /* the volume's block size: clones are aligned to it */
	bool ctime_fine;      /* a change after a read of the ctime moves it (probed) */
	struct xf_ring *to_w[XF_PIPELINE_MAX_RX][XF_PIPELINE_MAX_WORKERS];
	struct xf_ring *to_rx[XF_PIPELINE_MAX_WORKERS][XF_PIPELINE_MAX_RX];
	struct xf_worker *w[XF_PIPELINE_MAX_WORKERS];
	/* Signature arrays of DELTA files: taken by worker w, given back by the RX core
	 * that sends them (xf_lease.h). The pipeline's, so they outlive the sessions. */
	struct xf_lease_ring *sig_ring[XF_PIPELINE_MAX_WORKERS];
	/* Keys of committed files, from the commit executor to the worker whose signature
	 * cache holds their pending entries (docs/DELTA.md, "Signature cache"). */
	struct xf_ring *sc_note[XF_PIPELINE_MAX_WORKERS];
	struct xf_rxcore rx[XF_PIPELINE_MAX_RX];
	struct xf_session *sessions; /* max_sessions slots */
	struct xf_core_arg rx_arg[XF_PIPELINE_MAX_RX];
	struct xf_core_arg w_arg[XF_PIPELINE_MAX_WORKERS];
	atomic_uint nopen; /* every RX core opens and closes sessions */
	atomic_uint ndone;
	atomic_bool stop;
	xf_pipeline_fault_fn fault;
	void *fault_arg;
	uint64_t volume_id;   /* st_dev and st_ino of the root, mixed */
	atomic_uint gen_next; /* the next session's generation */
	/*
	 * Files whose DELTA failed verification (their basis changed while it was used): the
	 * next push of the same path is decided WHOLE (docs/DELTA.md). Keys (volume, path)
	 * in a small open-addressed set, shared by this pipeline's workers and updated with
	 * compare-and-swap only (no lock); each pipeline has its own.
	 */
	_Atomic uint64_t delta_failed[XF_DF_SLOTS];
	/*
	 * Partial files (docs/PIPELINE.md, "Partial files"): XF_STAGING_DIR/XF_PARTIAL_DIR,
	 * ours (-1: none kept), and the counters of the workers that keep and evict them
	 * (any worker: relaxed atomic adds, on a failure path) and of the start-up scan.
	 */
	int part_fd;
	_Atomic uint64_t part_kept;
	_Atomic uint64_t part_evicted;
	uint64_t part_discarded;
	uint64_t part_recovered;
};

/* Session side (xf_session.c), all on the session's RX core. */
int xf_session_input(struct xf_session *s, const struct xf_msg *m, void *owner);
void xf_session_done(struct xf_session *s, const struct xf_done *d);
int xf_session_progress(struct xf_session *s);
int xf_session_init(struct xf_session *s, struct xf_pipeline *p, uint16_t sid, uint16_t rx,
                    uint32_t addr, uint16_t port, uint32_t id, uint16_t max_payload);
void xf_session_fini(struct xf_session *s);
/* Whether a path names the staging directory at any component (in any case). */
bool xf_session_names_staging(const char *path, size_t len);

/* Worker side (xf_worker.c). */
struct xf_worker *xf_worker_create(struct xf_pipeline *p, unsigned int idx);
void xf_worker_destroy(struct xf_worker *w);
int xf_worker_poll(struct xf_worker *w);
bool xf_worker_idle(const struct xf_worker *w);
void xf_worker_set_fault(struct xf_worker *w);
void xf_worker_add_times(const struct xf_worker *w, struct xf_pipeline_times *t);

/* Worker that owns file idx (file affinity) and the commit worker. */
static inline unsigned int
xf_pipeline_worker_of(const struct xf_pipeline *p, uint32_t file)
{
	return file % p->conf.n_workers;
}

#define XF_COMMIT_WORKER 0u

/*
 * Worker whose STAT decides entry idx of kind kind. A directory has no data, only its
 * STAT and its commit: while directories may be staged, every directory's STAT goes to
 * the commit worker, which makes and places the staged ones (docs/PIPELINE.md, "Staged
 * directories"). Everything else: file affinity.
 */
static inline unsigned int
xf_pipeline_stat_worker(const struct xf_pipeline *p, uint32_t idx, uint8_t kind)
{
	return kind == XF_FILE_DIR && !p->conf.no_staged_dirs ? XF_COMMIT_WORKER
	                                                      : xf_pipeline_worker_of(p, idx);
}

/* Remove name (a file, or a directory and everything beneath it) in dir_fd; never
 * follows a symlink. 0 or -errno (the first failure; it goes on past it). */
int xf_pipeline_remove_tree(int dir_fd, const char *name);

/* Is name in dir_fd a directory with no entries (never following a symlink)? 1 yes, 0
 * it has entries, or -errno (-ENOTDIR: not a directory). One openat and one getdents:
 * a short blocking call, made for type changes only (docs/PIPELINE.md, "Type changes"). */
int xf_pipeline_dir_empty(int dir_fd, const char *name);

/* Map an errno from storage to a file status. */
static inline uint8_t
xf_status_of_errno(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return XF_ST_NOSPACE;
	case EXDEV:
	case ELOOP:
		return XF_ST_ESCAPE;
	case EISDIR:
	case ENOTDIR:
	case ENOTEMPTY:
	case EEXIST:
		return XF_ST_CONFLICT;
	default:
		return XF_ST_IO;
	}
}

/* Does a change right after a read of a file's ctime move it, in directory dir_fd (a
 * probe file made and removed there; xf_pipeline.c)? */
bool xf_pipeline_probe_ctime_fine(int dir_fd);

#endif /* XF_PIPELINE_PRIV_H */
