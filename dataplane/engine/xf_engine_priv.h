/* SPDX-License-Identifier: BSD-3-Clause */
/* Engine internals shared by its RX core, worker and control parts. */
#ifndef XF_ENGINE_PRIV_H
#define XF_ENGINE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "xf_capture.h"
#include "xf_delta.h"
#include "xf_engine.h"
#include "xf_engine_sealbuf.h"
#include "xf_hs_load.h"
#include "xf_hs_queue.h"
#include "xf_lanes.h"
#include "xf_net.h"
#include "xf_pipeline.h"
#include "xf_port.h"
#include "xf_push.h"
#include "xf_reliab.h"
#include "xf_ring.h"
#include "xf_scan.h"
#include "xf_secure_frame.h"
#include "xf_secure_sess.h"
#include "xf_sparse.h"
#include "xf_storage.h"
#include "xf_zip.h"

#define ENG_BURST 32u
/* The handshake thread's core id for the rings' owner checks: no EAL lcore has it. */
#define ENG_HS_CORE         RTE_MAX_LCORE
#define ENG_HELLO_FRESH_MAX 15u  /* first HELLOs resent with a fresh message 1, at most */
#define ENG_PEND_MAX        512u /* frames waiting for the pipeline on one RX core */
#define ENG_RSESS_MAX       64u  /* receive sessions per RX core */
#define ENG_RING_SIZE       1024u
#define ENG_READS_MAX       32u /* read requests a worker works on at once */
/* Signature ring of an RX core: 8 MiB, about 450 DELTA files of 4 MiB (2048 records of
 * 8 bytes and a 2048-byte map each) signed and not yet matched; beyond, the heap. */
#define ENG_SIG_RING_BYTES (8u * 1024u * 1024u)
/* Matchers a worker keeps for the next DELTA files (each about 100-200 KiB for 4 MiB
 * files: window buffer, table and filter). */
#define ENG_SPARE_MATCHERS 8u
#ifndef ENG_FDS_MAX     /* a build may set it smaller to exercise a full table */
#define ENG_FDS_MAX 64u /* open source files a worker keeps */
#endif
#define ENG_FD_WAITERS (ENG_READS_MAX / 2) /* requests waiting for a table entry */
#define ENG_TXQ_MAX    256u /* frames a receive session holds back when its table is full */
#define ENG_TXBUF      512u /* frames an RX core queues for its NIC TX queue */

/* Control thread -> RX core. */
enum eng_cmd_type {
	ENG_CMD_START = 1,
	ENG_CMD_CANCEL,
	ENG_CMD_STOP,
};

struct eng_cmd {
	uint32_t type;
	uint32_t job; /**< job slot */
};

/* RX core -> worker: read frames of a source file for a push. */
struct eng_read_req {
	uint16_t job;
	uint16_t rx;
	uint32_t job_id; /**< the job's id: its slot may be reused by a later job */
	uint32_t file;
	uint64_t off;
	uint32_t n;
	uint32_t dl;
	const char *path;  /**< NUL-terminated, in the job's path arena */
	int32_t dir_fd;    /**< the job's source directory */
	uint8_t delta;     /**< run the matcher over what is read, answer its ops */
	uint8_t io_inline; /**< read through the worker's inline storage (eng_job) */
	uint8_t compress;  /**< compress the frames' literals where it helps (--compress) */
	uint8_t pad;
	struct xf_sig_rec *sigs; /**< first DELTA request: the signatures, ours to free */
	uint32_t block_size;     /**< with sigs */
	uint32_t block_count;    /**< with sigs */
};

/* Worker -> RX core: one read result (struct xf_push_read plus the job slot). */
struct eng_read_done {
	uint16_t job;
	uint16_t pad;
	uint32_t job_id; /**< answers of a job that ended are dropped, not fed to the next */
	uint32_t file;
	struct rte_mbuf *m;
	uint8_t *payload;
	uint32_t len;
	uint8_t last, eof;
	uint8_t hole;     /**< len bytes of zeros in a hole of the file: m NULL, nothing to send */
	uint8_t ztried;   /**< the worker tried to compress the frame */
	uint32_t raw_len; /**< 0: plain; else len compressed bytes inflate to raw_len */
	int32_t error;
	uint32_t undelivered; /**< with last: frames of the request not delivered */
	uint64_t off;
	uint64_t size;
	uint64_t crc64;
	uint32_t copy_len; /**< a COPY op of the matcher (m NULL) */
	uint16_t rx;       /**< queued answers: the RX core it goes to */
	uint16_t pad3;
	uint64_t src_offset; /**< the COPY's basis offset */
};

/* What the engine last saw of a session's reliability, for its peer's neighbour entry
 * (eng_neigh_watch in xf_engine_tx.c). */
struct eng_nud {
	uint64_t acked; /**< our frames acknowledged: more confirms the entry */
	bool probed;    /**< its peer was probed in the current silence */
};

/* Bytes of the HELLO body before its destination (docs/PROTOCOL.md 3.1). */
#define HELLO_BODY 28u

/* A push job. Immutable parts are set by the control thread before START; the RX core
 * owns `push` while the job runs and publishes snapshots under `seq`. */
struct eng_job {
	unsigned int id; /**< 0: free slot */
	unsigned int rx; /**< RX core that runs it */
	struct xf_engine_push_req req;
	char src[256], dest[256], volume[64];
	/** The HELLO's destination: "VOLUME/dest" (XF_HELLO_F_VOLUME) or dest (xf_dest.h);
	 *  a pull's: its request (xf_pull.h, NULs inside). */
	char hello_dest[XF_PATH_MAX + 1];
	uint16_t hello_dest_len;
	/** Of hello_dest_len, the filter rules at its end, after the destination and a NUL
	 *  (XF_HELLO_F_FILTERS: --delete with filters, eng_job_rules()); 0: none. */
	uint16_t rules_len;
	bool pull; /**< a pull job (xf_engine_pull): no file list, XF_HELLO_F_PULL */
	int dir_fd;
	bool io_inline; /**< its source's file system reads best inline (xf_storage_io) */
	/* The file list: the destination's directories, then the scan, whose paths are
	 * stored as "dest/relpath" (NUL-terminated): the list is held once, per entry 32
	 * bytes and the path (job_entry()). */
	struct xf_scan *scan;
	struct xf_flist_entry *dest_ent; /**< the destination's directories, made first */
	/** --owner-names: the source's names of the ids the list carries, looked up on the
	 *  control thread before the session starts (job_names()); the RX core only reads
	 *  it. A lane's record shares its job's. NULL without --owner-names. */
	struct xf_idnames *names;
	uint32_t ndest;
	uint32_t count; /**< ndest + the scan's entries */
	uint64_t skipped;
	uint64_t filtered;       /* entries the filter excluded (xf_scan_stats.filtered) */
	uint64_t hardlinked;     /* names listed as hard links (xf_scan_stats.hardlinks) */
	bool delete_scan_errors; /* the scan lost entries: --delete is not asked of the peer */
	uint64_t started_ns;
	uint64_t run_ns; /**< when its session started (after waiting queued), 0: not yet */
	uint32_t session_id;
	uint64_t nonce;
	unsigned int src_skip; /**< bytes of "dest/" in front of each source path */
	/** -i: per entry, the receiver's decision and items (xf_push_cfg.items), written by
	 *  the RX core while running, read by the control thread once finished */
	uint16_t *items;
	/** -i with --delete: what the peer deleted (xf_push_cfg.deleted), same ownership */
	uint8_t *deleted;
	/* owned by the RX core while running */
	struct xf_push *push;
	struct eng_rx *push_rx;
	struct eng_nud nud;
	/* AEAD (owned by the RX core): the handshake until HELLO_ACK, then the keys */
	struct xf_noise_peer npeer;
	struct xf_noise_hs hs;
	/** Its message 1's payload, sealed_len bytes: the HELLO's real flags and limit and
	 *  the destination field (hello_dest), zero-padded to the block's one size
	 *  (XF_HELLO_F_SEALED_OPTS, xf_proto_hello_seal to xf_hs_block_len), the same in
	 *  every message 1. */
	uint8_t sealed[XF_NOISE_PAYLOAD_MAX];
	uint16_t sealed_len;
	/** Its message 1, msg1_len bytes: sealed is its payload (XF_HELLO_F_SEALED_DEST,
	 *  XF_HELLO_F_SEALED_OPTS), so every message 1 of the job has this length. */
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	uint16_t msg1_len;
	/* The handshakes of earlier copies of the first HELLO (each resent with a fresh
	 * message 1): the responder answers the first it got, which may be any of them. */
	struct xf_noise_hs hs_old[ENG_HELLO_FRESH_MAX];
	unsigned int n_hs_old;
	/** Reads of message 2 (two DH each) this second: ENG_HS_ANSWER_MAX at most */
	struct xf_hs_budget answer_budget;
	unsigned int hello_sends; /**< copies of the first HELLO sent */
	uint64_t hello_sent_ns;   /**< when the first went out */
	bool sec_ready;
	struct xf_secure_sess sec;
	/** Of its HELLO in clear (XF_HELLO_F_CLEAR_AEAD: the real ones are in sealed): the
	 *  prologue of every handshake */
	uint32_t hello_flags;
	uint16_t hello_max_payload; /**< of its HELLO, likewise */
	uint32_t hello_window;      /**< of its HELLO in clear, likewise: 0 (the limit is sealed) */
	bool rekeying;              /**< a new handshake's message 1 is out (hs holds it) */
	bool peer_gone;             /**< aborted: a reload removed or re-keyed its peer */
	uint8_t rekey_msg1[XF_NOISE_MSG1_MAX]; /**< that message 1 (msg1 is the push's) */
	uint64_t rekey_sent_ns;                /**< when that message 1 went out */
	/* The handshake thread makes each message 1 and reads each message 2 (xf_hs_queue.h,
	 * docs/SECURITY.md 3): what is asked of it and not yet answered. */
	bool hello_asked; /**< waiting: its first message 1 is being made */
	bool rekey_asked; /**< a new handshake's message 1 is being made */
	bool copy_asked;  /**< the next copy's message 1 is being made */
	/** The next copy of the first HELLO's message 1, made ahead (its MACs added when it
	 *  goes out, eng_secure_hello_again), msg1_len bytes, and its handshake */
	bool copy_ready;
	uint8_t copy_msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs_copy;
	uint32_t hs_seq; /**< hs replaced so many times: an answer to an earlier one is stale */
	/* published by the RX core */
	atomic_uint seq;
	uint8_t state; /**< enum xf_job_state */
	bool finished; /**< the RX core is done with the job: control may free it */
	char error[320];
	uint64_t elapsed_ns;
	uint64_t queued_ns;    /**< published: time spent queued */
	bool keyed;            /**< published sec_ready */
	uint64_t keys_born_ns; /**< published sec.born_ns */
	uint64_t key_updates;  /**< published key updates of sec */
	uint64_t rekeys;       /**< published handshakes that replaced sec's keys */
	uint8_t peer_key[32];  /**< published npeer.pub once keyed */
	struct xf_push_stats st;
	struct xf_reliab_stats rel;
	/* Lanes (xf_engine_lanes.c, docs/ENGINE.md "Lanes"). A job of several lanes is a
	 * parent record the control thread drives (it never goes to an RX core) and child
	 * records, one per session, that run as any job. A child borrows the parent's scan,
	 * destination entries and source directory, and lists the parent's entries map[0..
	 * count): its file i is the parent's map[i]. */
	unsigned int parent;     /**< a child: its parent's slot + 1; 0 otherwise */
	const uint32_t *map;     /**< a child: its entries in the parent's list */
	uint16_t lane_port;      /**< a child: its UDP source port (0: conf.udp_port) */
	struct eng_lanes *lanes; /**< a parent: its children and phases, else NULL */
};

/* A session we serve (the receiving side), on one RX core. */
/* What an RX core publishes of a session it serves, for xferctl sessions (seqlock),
 * every ENG_RS_PUB_NS at most. */
#define ENG_RS_PUB_NS (100ull * 1000000ull)
struct eng_rs_pub {
	atomic_uint seq; /* odd while the RX core writes */
	bool live;
	struct xf_engine_rsess_info info;
};

struct eng_rsess {
	bool used;
	bool closing;
	bool ack_now;     /**< a frame asked to be acknowledged at once */
	bool tx_dropped;  /**< a frame of ours was dropped (logged once) */
	bool confirmed;   /**< the sender acknowledged a frame of ours (the HELLO_ACK) */
	bool done_acked;  /**< the sender acknowledged the pipeline's DONE */
	uint16_t peer;    /**< index in conf.peers */
	uint64_t held_ns; /**< last time its RX core left frames unread (rs_poll), 0: never */
	uint32_t id;
	uint32_t peer_ip;   /**< network order */
	uint16_t peer_port; /**< host order */
	uint16_t max_payload;
	struct xf_session *ps; /**< the pipeline's session; NULL: refused (refuse_msg) */
	uint8_t vol;           /**< the volume it writes into (index in conf.volumes) */
	bool refuse_sent;      /**< the ABORT of a refused session went out once */
	/** its volume asked for compressed DATA: every HELLO_ACK of it says so
	 *  (XF_HELLO_F_COMPRESS, eng_rs_ack_flags) */
	bool zip_ask;
	/** Why a session whose destination we do not serve is refused: the ABORT's text,
	 *  sent once the sender confirmed the HELLO_ACK and again for each frame it sends. */
	char refuse_msg[XF_ABORT_MSG_MAX + 1];
	struct xf_reliab *rel;
	struct eng_rx *rx;
	uint64_t opened_ns;
	uint64_t pub_ns; /* when it was last published (rx->rs_pub) */
	/* frames queued for their first transmission or for a retransmission */
	struct rte_mbuf *txq[ENG_TXQ_MAX];
	uint16_t txq_len[ENG_TXQ_MAX];
	unsigned int txq_head, txq_n;
	unsigned int txq_rtx; /* of them, retransmissions at the front, in their first order */
	uint64_t retransmits;
	struct eng_nud nud;
	struct xf_secure_sess sec;       /**< AEAD keys (unused with session.security none) */
	uint8_t msg2[XF_NOISE_MSG2_LEN]; /**< message 2 of its HELLO_ACK (sent again) */
	/** What its HELLO asked for (xf_hs_ident: flags, limit, destination field): a new
	 *  handshake must ask for the same (eng_secure_hs_poll) */
	uint8_t hello_ident[XF_HS_IDENT_LEN];
	bool rekey_changed_logged; /**< such a new handshake was refused and logged (once) */
	/** A pull session (XF_HELLO_F_PULL, ps NULL): waiting for the control thread's
	 *  answer, refused (refuse_msg, sent as for a refused destination), or accepted (a
	 *  DONE goes out; the session ends when it is acknowledged). */
	enum eng_pull_state {
		ENG_PULL_NONE = 0,
		ENG_PULL_WAIT,
		ENG_PULL_REFUSED,
		ENG_PULL_ACCEPTED
	} pull;
	bool pull_done_sent;
};

/*
 * A pull request handed from an RX core to the control thread (xf_engine_pull_serve):
 * the RX core fills a FREE slot and stores ASKED; the control thread judges it, fills
 * the answer and stores ANSWERED; the RX core applies the answer and stores FREE. Each
 * side writes only in the states it owns (release/acquire on state).
 */
#define ENG_PULL_SLOTS 4u

enum eng_pull_slot_state { ENG_PULL_FREE = 0, ENG_PULL_ASKED, ENG_PULL_ANSWERED };

struct eng_pull_slot {
	atomic_uint state;
	uint32_t session, ip;
	uint16_t port, peer;
	uint32_t flags, window;
	uint16_t req_len;
	char req[XF_PATH_MAX + 1];
	uint8_t refusal; /**< the answer: enum xf_pull_refusal */
	char msg[200];   /**< its text (the ABORT adds the reason's name) */
};

/*
 * Sessions an RX core served that have ended, remembered for the idle timeout so that a
 * HELLO of theirs arriving again (a retransmission still in flight, a duplicate on the
 * path) does not open them anew: the sender gave up that session when its own idle
 * timeout passed, so no HELLO of it can come later (docs/PROTOCOL.md 6.1). Bounded:
 * the oldest is forgotten first once ENG_ENDED_MAX sessions ended within one timeout.
 */
#define ENG_ENDED_MAX 64u

struct eng_ended {
	uint64_t until; /**< rx->now after which it is forgotten; 0: free */
	uint32_t id, ip;
	uint16_t port;
};

/* Frames an RX core holds while their next hop is being resolved, and for how long. */
#define ENG_HOLD_MAX 16u
#define ENG_HOLD_NS  (1000ull * 1000ull * 1000ull)

struct eng_rx {
	struct xf_engine *e;
	unsigned int idx;
	unsigned int lcore;
	/** The worker on this core's lcore (combined mode: xf_engine_combined_loop), or -1:
	 *  its pushes' WHOLE files are read there (xf_engine_jobs.c reader_of). */
	int here_worker;
	/* Signature arrays and "have" maps of its pushes' DELTA files: taken by this core,
	 * given back by it or by the reader that matched the file (xf_lease.h). */
	struct xf_lease_ring *sig_ring;
	struct xf_net net;
	/* Frames for the pipelines, one queue per volume: each is that pipeline's source. */
	struct eng_pend {
		struct xf_frame f[ENG_PEND_MAX];
		unsigned int head, n;
	} pend[XF_ENGINE_MAX_VOLUMES];
	struct rte_mbuf *tx[ENG_TXBUF];
	unsigned int ntx;
	struct eng_rsess rs[ENG_RSESS_MAX];
	unsigned int nrs;
	struct xf_ring *cmd; /**< control -> this core */
	struct xf_ring *read_to[XF_ENGINE_MAX_WORKERS];
	struct xf_ring *read_from[XF_ENGINE_MAX_WORKERS];
	unsigned int jobs[XF_ENGINE_MAX_JOBS]; /**< job slots this core runs */
	unsigned int njobs;
	/** Job slots waiting for their peer to have fewer than max_jobs_per_peer jobs
	 *  running, oldest first (eng_jobs_poll starts them). */
	unsigned int waiting[XF_ENGINE_MAX_JOBS];
	unsigned int nwaiting;
	/** The round's clock (ns, xf_engine_now()): read at its start, and again right after
	 *  a burst that returned frames, which it stamps (xf_engine_rx.c port_poll). */
	uint64_t now;
	bool stopping;
	/* counters, read by the control thread (relaxed; they only grow) */
	uint64_t frames, bad_frames, no_session, hello_refused;
	uint64_t hello_not_allowed, hello_peer_cap, unconfirmed, pn_ahead, pend_full;
	uint64_t volume_refused; /* destinations we do not serve */
	uint64_t owner_refused;  /* of those, owners asked of a volume that does not keep them */
	uint64_t hello_ended;    /* HELLOs of a session that ended here (eng_ended): dropped */
	struct eng_pull_slot pulls[ENG_PULL_SLOTS]; /* pull requests with the control thread */
	uint64_t pull_asked, pull_accepted, pull_refused[XF_PULL_REFUSAL_MAX + 1], pull_frames;
	struct eng_ended ended[ENG_ENDED_MAX];
	unsigned int ended_next;                    /* the slot the next ended session takes */
	uint64_t vol_opened[XF_ENGINE_MAX_VOLUMES]; /* sessions opened, per volume */
	unsigned int vol_sessions[XF_ENGINE_MAX_VOLUMES]; /* open now, per volume */
	uint64_t frame_drops[XF_R_MAX];
	uint64_t opened, closed, timed_out, retransmits;
	uint64_t tx_full; /* unreliable frames dropped: our TX queue was full */
	uint64_t auth_failed, auth_replayed, auth_too_old, auth_expired, auth_no_keys;
	uint64_t nonce_refused, sealed, unsealed, handshakes;
	uint64_t rekeys;      /* handshakes that replaced a live session's keys, either role */
	uint64_t key_updates; /* key updates this core started (phase bit, HKDF) */
	uint64_t hs_bad_mac, hs_no_key, hs_replay, hs_bad_response, hs_mode, hs_failed;
	uint64_t hs_cookie, hs_rate, hs_bad_cookie, cookie_replies, cookies_taken, hs_dh;
	uint64_t hs_stale;         /* handshake answers whose session or peer went meanwhile */
	uint64_t hs_in_flight;     /* copies of a HELLO whose handshake was in flight */
	uint64_t hs_rekey_changed; /* new handshakes that asked for another destination */
	uint64_t hs_response_rate; /* message 2 reads refused: a push's budget was spent */
	uint64_t dh_ops;           /* X25519 operations this core's thread did (xf_noise_dh_ops) */
	/* The responder's handshakes in flight to the handshake thread (xf_hs_queue.h) */
	struct xf_hs_queue hsq;
	uint32_t rs_gen[ENG_RSESS_MAX]; /* sessions opened in each slot: stale answers */
	/* Under load until then (rx->now), as judged at the last HELLO with a valid mac1:
	 * the windows that count last two seconds. */
	uint64_t under_load_until;
	struct xf_hs_load hs_load; /* docs/SECURITY.md 3 */
	/* AEAD: this core's ipsec-mb manager (made at start), and its own copy of the peers'
	 * handshake state (each message 1 moves its peer's timestamp: no sharing) */
	struct xf_crypto_mgr *cmgr;
	struct xf_sealbuf sealbuf; /* warm mbufs for kept frames' sealed copies */
	struct xf_noise_peer npeers[XF_ENGINE_MAX_PEERS];
	struct xf_noise_cookie_jar jar;
	/* The allowlist as this core uses it, by slot (xf_engine_peers.c): the engine's
	 * configured one, then each reload's, adopted between polls. */
	struct xf_engine_peer peers[XF_ENGINE_MAX_PEERS];
	bool peer_present[XF_ENGINE_MAX_PEERS];  /* false: a slot of a removed peer */
	unsigned int n_peers;                    /* slots in use (present or not) */
	atomic_uint peers_gen;                   /* the generation adopted (control reads) */
	uint64_t peer_gone;                      /* sessions and jobs ended by a reload */
	struct eng_rs_pub rs_pub[ENG_RSESS_MAX]; /* rs[i] as xferctl sessions sees it */
	/* Frames waiting for their next hop's MAC (an ARP request is out), oldest first;
	 * sent when the reply arrives, dropped after ENG_HOLD_NS (as Linux's arp_queue). */
	struct eng_held {
		struct rte_mbuf *m;
		uint64_t since;
		uint32_t ip;
		uint16_t len, port, sport;
	} held[ENG_HOLD_MAX];
	unsigned int nheld;
	/** After its last poll, this core can do nothing more until a peer's frame comes:
	 *  it runs push jobs only, each waiting for its peer (xf_push_waits_peer), and serves
	 *  no session. Its idle back-off then sleeps at once (xf_engine_idle). */
	bool peer_bound;
	uint64_t arp_held, arp_expired; /* frames held for ARP; frames dropped unresolved */
	unsigned int link_ups;          /**< xf_engine.link_ups announced (RX core 0) */
};

struct eng_fd {
	uint16_t job;
	uint32_t job_id;
	uint32_t file;
	int fd;                /**< -1: free */
	struct xf_storage *st; /**< the worker's storage its reads go through */
	uint64_t crc;
	uint64_t next_off; /**< offset of the next frame to deliver (CRC covers below it) */
	uint64_t used_ns;  /**< last request, for taking over entries of ended jobs */
	int32_t err;       /**< FD_ENDED: the error that ended it, or 0 at end of file */
	struct xf_delta_match *match; /**< DELTA: the matcher over this file */
	struct xf_sig_rec *sigs;      /**< DELTA: its signatures (ours) */
	struct xf_sparse_hole hole;   /**< WHOLE: the file's hole at or after next_off */
};

struct eng_read {
	bool used;
	struct eng_read_req req;
	struct eng_fd *fd;
	int phase;              /**< R_WAIT_OPEN, R_READING, R_COMPLETE (xf_engine_worker.c) */
	int32_t err;            /**< a request that failed before reading */
	unsigned int completed; /**< reads completed */
	unsigned int done;      /**< results answered, in order */
	struct rte_mbuf *m[ENG_BURST];
	int32_t res[ENG_BURST];
	struct iovec iov[ENG_BURST]; /**< the frames' payload areas: one readv */
	/** DELTA requests read here instead, contiguous, no mbuf (the matcher's DATA ops
	 *  take frames of their own): made at the slot's first DELTA request, grown to the
	 *  largest n * dl it met, freed with the engine. */
	uint8_t *dbuf;
	size_t dbuf_cap;
	unsigned int zk; /**< frame zk - 1 was tried (and maybe compressed in place) and its
	                  *   answer, zsave, found no room: answered as it is next time */
	struct eng_read_done zsave;
};

/* Answers of the delta matchers queued on a worker, FIFO, until the rings take them. */
#define ENG_OQ_SIZE 4096u
/* Room a DELTA request needs in that queue: ops of ENG_BURST frames (up to 3 each) and
 * the matcher's final flush (its window: up to two blocks and 64 KiB of literals). */
#define ENG_OQ_NEED 512u

struct eng_worker {
	struct xf_engine *e;
	unsigned int idx;
	unsigned int lcore;
	struct xf_storage *st;        /**< reads of push sources, io_uring */
	struct xf_storage *st_inline; /**< the same on memory file systems (inline) */
	struct eng_read reads[ENG_READS_MAX];
	unsigned int fd_waiters; /* reads[] waiting for a table entry (R_WAIT_FD) */
	uint64_t fd_waits;       /* requests that waited so: counted, read by stats */
	uint64_t whole_files;    /* source files read to their end: WHOLE, */
	uint64_t delta_files;    /* and DELTA (matched); read by stats */
	/** A worker of no volume's pipeline on an lcore of its own (a reader of pushes
	 *  only) parks on its bell once idle with nothing in hand, instead of waking every
	 *  200 us; the RX cores ring it after each read request they give it (set at launch,
	 *  xf_engine_reader_idle). */
	bool parks;
	struct xf_hs_bell bell;
	struct eng_fd fds[ENG_FDS_MAX];
	struct eng_read_done *oq;  /**< ENG_OQ_SIZE answers of the matchers */
	uint32_t oq_head, oq_tail; /**< free-running */
	struct eng_read *emit_r;   /**< the request being matched (emit callback) */
	struct xf_delta_match *spare[ENG_SPARE_MATCHERS]; /**< matchers kept for reuse */
	/** The pipelines this worker writes for (volumes[].workers) and its index in each. */
	unsigned int nvol;
	struct {
		struct xf_pipeline *pl;
		unsigned int idx;
	} vol[XF_ENGINE_MAX_VOLUMES];
	unsigned int nspare;
	int emit_err;
	/* --compress: igzip's state, the frame being compressed, and per job slot the guess
	 * whether its data compresses (eng_zip_frame(), xf_engine_worker.c). */
	struct xf_zip *zip;
	uint8_t *zbuf; /**< XF_DATA_RAW_MAX bytes */
	struct eng_zguess {
		uint32_t job_id; /**< the job the guess is of */
		uint16_t misses; /**< frames in a row that did not shrink */
		uint16_t skip;   /**< frames still sent as they are before the next try */
	} zguess[XF_ENGINE_MAX_JOBS];
};

/* Reloadable parameters (xf_engine_params.c): one writer, the control thread; readers on
 * any core. Sequence-counted so a reader never mixes two publications; seq 0 means
 * never published (the values of conf apply). */
struct eng_params {
	atomic_uint seq;
	_Atomic uint64_t rate_bps;
	atomic_int congestion;
	atomic_uint timeout_ms;
	atomic_uint keepalive_ms;
	atomic_bool idle_poll;
	atomic_uint zip_volumes;
};

struct xf_engine {
	struct xf_engine_conf conf;
	struct eng_params params;
	struct rte_mempool *mp;
	struct xf_port port;
	bool port_open;
	/* One receive pipeline per volume: its root, its workers, its sessions. */
	struct eng_volume {
		struct xf_pipeline *pl;
		int fd;
		enum xf_storage_io io; /**< how its workers reach it */
	} vol[XF_ENGINE_MAX_VOLUMES];
	const char *vol_names[XF_ENGINE_MAX_VOLUMES];
	int root_fd; /**< "/": the readers' storage root; jobs open beneath their source */
	uint32_t tx_flags;
	const char *udp_tx; /**< UDP checksums sent: "none", "offload" or "software" */
	struct eng_rx rx[XF_ENGINE_MAX_RX];
	struct eng_worker w[XF_ENGINE_MAX_WORKERS];
	struct eng_job jobs[XF_ENGINE_MAX_JOBS];
	unsigned int next_job_id;
	atomic_bool stop;         /**< RX cores: end sessions and jobs, then return */
	atomic_bool workers_stop; /**< workers: return (after the RX cores have) */
	atomic_uint rx_running;   /**< RX loops not finished yet */
	atomic_uint link_ups;     /**< times the link came up (xf_engine_link_poll) */
	bool link_was_up;         /**< control thread: the link at its last poll */

	unsigned int next_lane_id; /**< ids of lanes' records: ENG_LANE_ID_BIT | n */
	/** Sessions each peer holds, over every RX core (rs_open, rs_reap). */
	atomic_uint peer_sessions[XF_ENGINE_MAX_PEERS];
	bool aead;                    /**< not session.security none */
	struct xf_noise_static local; /**< our static key pair (aead and has_private_key) */
	bool has_psk;                 /**< psk is session.psk_file's (else all zero) */
	uint8_t psk[32];              /**< kept for the peers a reload adds or re-keys */
	/** The allowlist a reload publishes (xf_engine_peers.c): written by the control
	 *  thread while no RX core is adopting one, read by RX cores after peers_gen. */
	struct eng_peers_next {
		struct xf_engine_peer peers[XF_ENGINE_MAX_PEERS];
		struct xf_noise_peer npeers[XF_ENGINE_MAX_PEERS]; /**< of changed slots */
		bool present[XF_ENGINE_MAX_PEERS];
		bool changed[XF_ENGINE_MAX_PEERS]; /**< added, removed, other address or key */
		unsigned int n;
	} peers_next;
	atomic_uint peers_gen; /**< generation of peers_next (0: the configured one) */
	/** The handshake thread (xf_engine_hs.c): the responder's Noise handshakes. */
	pthread_t hs_thread;
	bool hs_started;
	atomic_bool hs_stop;
	struct xf_hs_bell hs_bell; /**< every RX core's queue rings it at each submit */
	uint64_t hs_dh_ops;        /**< X25519 operations it did (it writes, stats read) */
	/** The pages of the structures that hold keys are locked (eng_secure_create), this
	 *  many bytes of them: 0 when mlock was refused (a warning said why). */
	size_t keys_locked;
	struct eng_combined {
		struct eng_rx *rx;
		struct eng_worker *w;
		bool rx_finished;     /**< its RX core has stopped: poll only the worker */
	} combined[XF_ENGINE_MAX_RX]; /**< lcores that are an RX core and a worker */
	bool launched;
	/** The capture tap (xf_engine_capture): NULL until the first capture, then kept
	 *  until xf_engine_destroy; the RX cores load it on every burst. */
	struct xf_capture *_Atomic cap;
};

/* RX core rx: copy frames for a capture, if one was ever asked for (xf_capture_tap
 * then checks whether one is on). */
static inline void
eng_capture_tap(struct eng_rx *rx, struct rte_mbuf *const *pkts, unsigned int n, bool out)
{
	struct xf_capture *c = atomic_load_explicit(&rx->e->cap, memory_order_acquire);

	if (unlikely(c != NULL)) {
		xf_capture_tap(c, rx->idx, pkts, n, out);
	}
}

/* Core loops. An lcore that is both an RX core and a worker (a small machine, see
 * docs/ENGINE.md) runs xf_engine_combined_loop, which polls both in turn. */
int xf_engine_rx_loop(void *arg);
int xf_engine_worker_loop(void *arg);
int xf_engine_combined_loop(void *arg);
bool xf_engine_rx_poll(struct eng_rx *rx);
bool xf_engine_rx_finished(struct eng_rx *rx);
bool xf_engine_worker_poll(struct eng_worker *w);
/* The last RX loop to finish lets the workers stop: nothing will give them work. */
void xf_engine_rx_done(struct xf_engine *e);
uint64_t xf_engine_now(void);
/* The idle back-off (xf_engine_idle): empty polls spun, then sleeps doubling between;
 * a core that waits for its peer alone (peer_bound) does not spin. */
#define XF_IDLE_SPIN         256u
#define XF_IDLE_SLEEP_MIN_US 20l
#define XF_IDLE_SLEEP_MAX_US 200l
#define XF_IDLE_DOUBLINGS    4u /* 20, 40, 80, 160 us, then 200 us */
void xf_engine_idle(struct xf_engine *e, unsigned int *idle, bool peer_bound);
/* A worker holding no read request and no answer (xf_engine_worker.c). */
bool xf_engine_reader_idle(const struct eng_worker *w);
bool xf_engine_idle_poll(const struct xf_engine *e); /* xf_engine_params.c */

/* Job records (xf_engine.c): a free slot (or the oldest finished job's, freed), and
 * entry i of a job's whole list (the destination's directories, then the scan). */
struct eng_job *eng_job_slot(struct xf_engine *e);
void eng_job_entry(const struct eng_job *j, uint32_t i, struct xf_flist_entry *ent);
/* The job of id (not a lane's), or NULL (control thread). */
struct eng_job *eng_job_find(struct xf_engine *e, unsigned int id);

/* Jobs of several lanes (xf_engine_lanes.c), on the control thread. The lanes' records
 * have ids of their own, never shown: ENG_LANE_ID_BIT | n. */
#define ENG_LANE_ID_BIT 0x80000000u
int eng_lanes_check(const struct xf_engine *e, const struct xf_engine_push_req *req, char *err,
                    size_t err_len);
int eng_lanes_create(struct xf_engine *e, struct eng_job *p, unsigned int nlanes, char *err,
                     size_t err_len);
void eng_lanes_free(struct xf_engine *e, struct eng_job *p);
int eng_lanes_cancel(struct xf_engine *e, struct eng_job *p);
void eng_lanes_info(struct xf_engine *e, const struct eng_job *p, struct xf_job_info *out);

/* An RX core's stages, polled in turn by xf_engine_rx_poll (xf_engine_rx.c). */
/* Transmit: TX batch, held frames, neighbours (xf_engine_tx.c). */
void eng_tx_flush(struct eng_rx *rx);
bool eng_tx_room(struct eng_rx *rx, unsigned int n);
void eng_tx_enqueue(struct eng_rx *rx, struct rte_mbuf *m);
void eng_frame_send(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len,
                    const struct xf_net_flow *flow);
void eng_frame_out(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len, uint32_t ip, uint16_t port,
                   uint16_t sport);
struct rte_mbuf *eng_frame_new(struct eng_rx *rx, uint8_t **payload);
bool eng_held_poll(struct eng_rx *rx);
void eng_neigh_poll(struct eng_rx *rx);
void eng_neigh_watch(struct eng_rx *rx, struct eng_nud *w, uint32_t ip,
                     const struct xf_reliab_stats *st);
/* Push jobs and the control plane's commands (xf_engine_jobs.c). */
bool eng_jobs_poll(struct eng_rx *rx);
/* A zeroed slot for a new job (control thread), or NULL with *rc -ESHUTDOWN or -EBUSY
 * and err set. */
struct eng_job *eng_job_new(struct xf_engine *e, char *err, size_t err_len, int *rc);
void eng_job_free(struct xf_engine *e, struct eng_job *j);
int eng_job_submit(struct xf_engine *e, struct eng_job *j, char *err, size_t err_len);
/* A command for job j to its RX core (control thread). @return 0, or -EBUSY (ring full). */
int eng_cmd_post(struct xf_engine *e, const struct eng_job *j, enum eng_cmd_type type);
/* xf_engine_pull.c: the responder's side of pulls (docs/PROTOCOL.md 6.18). */
void eng_pull_open(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg_hello *h);
bool eng_pull_poll(struct eng_rx *rx);
bool eng_pull_rs_poll(struct eng_rx *rx, struct eng_rsess *rs);
void eng_rs_send(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg *msg, bool tracked);
void eng_rs_refuse(struct eng_rx *rx, struct eng_rsess *rs);
bool eng_reads_poll(struct eng_rx *rx);
bool eng_cmds_poll(struct eng_rx *rx);
/* Stopping: queued jobs are cancelled, running ones aborted (SHUTDOWN). */
void eng_jobs_stop(struct eng_rx *rx);
struct eng_job *eng_job_by_session(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port);

/**
 * Control thread: with --delete, the job's filter rules go to the receiver in its HELLO
 * (XF_HELLO_F_FILTERS), so that its deletion keeps what they exclude: appended to
 * j->hello_dest after a NUL (j->rules_len). @return 0, or -E2BIG or -EINVAL with err set.
 */
int eng_job_rules(const struct xf_engine *e, struct eng_job *j, const struct xf_filter *f,
                  char *err, size_t err_len);

/**
 * Bytes this engine's HELLO has for its destination field (field true) or, under AEAD, for
 * message 1's payload (field false). In clear: what fits one frame of the payload this side
 * announces, at most XF_PATH_MAX. Under AEAD: the sealed block's one size
 * (xf_hs_block_len: the room at MTU 1500, or at a smaller one), which every message 1 of
 * this engine's has, less its fixed part (XF_HELLO_SEALED_HDR) for a field.
 */
size_t eng_hello_room(const struct xf_engine *e, bool field);

/** The destination and rules of a job's HELLO, from its destination field. */
static inline void
eng_job_hello_dest(const struct eng_job *j, struct xf_msg_hello *h)
{
	h->dest = j->hello_dest;
	h->dest_len = (uint16_t)(j->hello_dest_len - (j->rules_len != 0 ? j->rules_len + 1u : 0u));
	h->rules = j->rules_len != 0 ? j->hello_dest + h->dest_len + 1 : NULL;
	h->rules_len = j->rules_len;
}

/* Served sessions (xf_engine_rsess.c). */
bool eng_rs_input(struct eng_rx *rx, struct rte_mbuf *m, const struct xf_msg *msg,
                  const uint8_t *payload, uint16_t len, uint32_t ip, uint16_t port);
bool eng_rs_poll(struct eng_rx *rx, struct eng_rsess *rs);
void eng_rs_end(struct eng_rx *rx, struct eng_rsess *rs, bool timed_out);
struct eng_rsess *eng_rs_find(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port);
void eng_rs_open_keyed(struct eng_rx *rx, const struct xf_hs_rec *hs);

/* The flags of every HELLO_ACK of an accepted session: the AEAD echo, its volume's ask
 * for compressed DATA (rs->zip_ask, docs/PROTOCOL.md 6.16), and, where a pipeline takes
 * its files, that a file's one DATA frame may carry its end (6.9). */
static inline uint32_t
eng_rs_ack_flags(const struct eng_rx *rx, const struct eng_rsess *rs)
{
	return (rx->e->aead ? XF_HELLO_F_AEAD : 0) | (rs->zip_ask ? XF_HELLO_F_COMPRESS : 0) |
	       (rs->ps != NULL ? XF_HELLO_F_DATA_END : 0);
}
/* AEAD (xf_engine_secure.c). */
int eng_secure_create(struct xf_engine *e);
void eng_secure_destroy(struct xf_engine *e);
int eng_secure_rx(struct eng_rx *rx, uint8_t *frame, uint16_t *len, uint32_t ip, uint16_t port);
struct rte_mbuf *eng_secure_tx(struct eng_rx *rx, struct xf_secure_sess *s, struct rte_mbuf *m,
                               uint16_t *len);
void eng_secure_prologue(struct xf_noise_prologue *pro, uint32_t hello_flags, uint16_t max_payload,
                         uint32_t hello_window);
struct rte_mbuf *eng_secure_hello_again(struct eng_rx *rx, struct eng_job *j, struct rte_mbuf *m,
                                        uint16_t len);
int eng_secure_job_start(struct eng_rx *rx, struct eng_job *j, uint32_t hello_flags,
                         uint16_t max_payload, uint32_t hello_window);
int eng_secure_hello_gate(struct eng_rx *rx, int pi, const struct xf_msg *hello, uint32_t ip,
                          uint16_t port, const struct rte_ether_addr *mac);
int eng_secure_accept(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_hs_rec *hs);
int eng_secure_hs_submit(struct eng_rx *rx, enum xf_hs_kind kind, int pi,
                         const struct xf_msg *hello, uint32_t ip, uint16_t port,
                         const struct rte_ether_addr *mac, const struct eng_rsess *rs);
bool eng_secure_hs_poll(struct eng_rx *rx);
/* The handshake thread (xf_engine_hs.c). */
int eng_hs_start(struct xf_engine *e);
void eng_hs_stop(struct xf_engine *e);
void eng_secure_rekey(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg *hello);
void eng_secure_maintain(struct eng_rx *rx, struct xf_secure_sess *s);
void eng_secure_job_poll(struct eng_rx *rx, struct eng_job *j);
void eng_secure_job_end(struct eng_job *j);
void eng_secure_job_wait(struct eng_rx *rx, struct eng_job *j);
void eng_job_hello_made(struct eng_rx *rx, struct eng_job *j, int rc);
struct eng_job *eng_job_waiting(struct eng_rx *rx, unsigned int slot, uint32_t id);
/* Peers replaced by a reload (xf_engine_peers.c). */
void eng_peers_init(struct xf_engine *e);
bool eng_peers_poll(struct eng_rx *rx);
void eng_rs_peer_gone(struct eng_rx *rx, struct eng_rsess *rs); /* xf_engine_rsess.c */
void eng_rs_publish(struct eng_rx *rx, struct eng_rsess *rs, bool live);
void eng_jobs_peer_gone(struct eng_rx *rx, const bool *changed); /* xf_engine_jobs.c */
/* The pipeline is behind: frames stay in the NIC queue (xf_engine_rx.c). */
bool eng_rx_held_back(const struct eng_rx *rx);

/* window_max_frames, its default applied */
static inline uint32_t
eng_window_max(const struct xf_engine_conf *conf)
{
	return conf->window_max_frames != 0 ? conf->window_max_frames : XF_RELIAB_DEFAULT_SLOTS;
}

#endif /* XF_ENGINE_PRIV_H */
