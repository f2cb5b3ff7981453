/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's dataplane on EAL lcores: one DPDK port, RX cores that own the
 * sessions (both the ones we serve and our push jobs), and workers that own the
 * io_uring rings. docs/ENGINE.md describes the loops and who owns what.
 *
 * The control thread (the EAL main lcore) creates the engine, launches it, and then
 * talks to it only through this API: jobs go to an RX core through a ring it alone
 * produces into, and what it reads back are snapshots the RX cores publish.
 */
#ifndef XF_ENGINE_H
#define XF_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_fault.h"
#include "xf_pipeline.h"
#include "xf_pull.h"
#include "xf_push.h"

#define XF_ENGINE_MAX_RX      8u
#define XF_ENGINE_MAX_WORKERS 16u
#define XF_ENGINE_MAX_PEERS   256u
#define XF_ENGINE_MAX_NEIGH   32u
#define XF_ENGINE_MAX_JOBS    64u
#define XF_ENGINE_MAX_VOLUMES 16u

/** Highest max_sessions_per_peer (the config schema's bound). */
#define XF_ENGINE_MAX_SESSIONS_PER_PEER 1024u

/** Largest window_max_frames (session.window_max_frames's bound). */
#define XF_ENGINE_MAX_WINDOW_FRAMES 65536u

struct xf_engine_peer {
	uint32_t ip;            /**< network order */
	uint16_t udp_port;      /**< host order */
	bool has_key;           /**< public_key is set: sessions with it can be made */
	uint8_t public_key[32]; /**< X25519 (peers[].public_key) */
};

/** Why a push compresses its DATA literals, or not (xf_engine_push_req.compress_why). */
enum xf_zip_why {
	XF_ZIP_NONE = 0,        /**< off: nothing asked (the peer's volume may still) */
	XF_ZIP_JOB = 1,         /**< the job said --compress */
	XF_ZIP_CONFIG = 2,      /**< transfer.compress */
	XF_ZIP_REFUSED = 3,     /**< the job said --no-compress: off whatever the peer asks */
	XF_ZIP_PEER_VOLUME = 4, /**< the receiver's volume asked (volumes[].compress, HELLO_ACK) */
	XF_ZIP_SRC_VOLUME = 5,  /**< a pull served from a directory in our volume with compress */
};

/** The name of a reason (xferctl jobs: compress.why). */
const char *xf_zip_why_str(enum xf_zip_why why);

/** A volume that receives: each has a receive pipeline of its own (docs/ENGINE.md). */
struct xf_engine_volume {
	const char *name; /**< what a destination's VOLUME names (xf_dest.h) */
	const char *path; /**< its root directory */
	int fsync;        /**< enum xf_fsync_policy */
	unsigned int fsync_batch;
	/** largest announced file size taken (0: the pipeline's default) */
	uint64_t max_file_size;
	uint32_t fault_rename_hold_ms; /**< test-only: the first commit rename held, 0 = off */
	bool verify_full;              /**< every received file read back for its CRC-64 */
	bool no_clone;                 /**< COPY ops read and write, whatever the volume can do */
	uint32_t sig_cache_mb;         /**< signature cache, MiB (xf_pipeline_conf.sig_cache_mb) */
	bool keep_owner;               /**< keeps owners and groups (xf_pipeline_conf.keep_owner) */
	/** asks pushes into it for compressed DATA (volumes[].compress): the first value of
	 *  xf_engine_params.zip_volumes, which a reload changes */
	bool compress;
	unsigned int xattr_ns;      /**< xf_pipeline_conf.xattr_ns (volumes[].xattr_namespaces) */
	uint32_t partial_max_files; /**< xf_pipeline_conf.partial_max_files */
	uint64_t partial_max_bytes; /**< xf_pipeline_conf.partial_max_bytes */
	/** Workers that write it, as indices into worker_lcore[] (the first is its commit
	 *  worker); 0: every worker, in order. */
	unsigned int n_workers;
	unsigned int workers[XF_ENGINE_MAX_WORKERS];
};

/* UDP checksums on transmit (xf_engine_conf.udp_checksum). */
#define XF_ENGINE_UDP_CSUM_AUTO 0 /**< offload, else software; none on a shared-memory link */
#define XF_ENGINE_UDP_CSUM_ON   1 /**< offload, else software */
#define XF_ENGINE_UDP_CSUM_OFF  2 /**< none: the field is 0 */

/** session.handshake_load when the configuration leaves it 0 (docs/SECURITY.md 3). */
#define XF_ENGINE_HS_LOAD_DEFAULT 64u

struct xf_engine_conf {
	/* the port */
	const char *device; /**< PCI address or vdev name (the vdev is created by EAL) */
	uint32_t ip;        /**< our address, network order */
	uint8_t prefix_len;
	uint16_t mtu;
	uint16_t udp_port;
	uint16_t rx_desc, tx_desc;
	unsigned int n_neighbors;
	struct {
		uint32_t ip; /**< network order */
		uint8_t mac[6];
	} neighbors[XF_ENGINE_MAX_NEIGH];
	struct xf_fault_conf fault; /**< test-only TX fault stage (emulated link, reordering);
	                                 all zero = off */
	int udp_checksum;           /**< XF_ENGINE_UDP_CSUM_* */
	/* cores */
	unsigned int n_rx;
	unsigned int rx_lcore[XF_ENGINE_MAX_RX];
	unsigned int n_workers;
	unsigned int worker_lcore[XF_ENGINE_MAX_WORKERS];
	bool idle_poll; /**< never sleep when idle (isolated cores) */
	/* the volumes sessions write into: a HELLO names one, else the first receives */
	unsigned int n_volumes; /**< 1..XF_ENGINE_MAX_VOLUMES */
	struct xf_engine_volume volumes[XF_ENGINE_MAX_VOLUMES];
	int io; /**< enum xf_storage_io: volume writes and push reads (0: AUTO) */
	/* sessions */
	uint32_t window; /**< credits: files in flight per session */
	/** Most frames a push keeps in flight, a power of two (0: XF_RELIAB_DEFAULT_SLOTS):
	 *  its sent-frame table grows to 2 x the BDP up to this, and a receive session's
	 *  window is twice it (docs/RELIABILITY.md, "Windows sized to the path"). */
	uint32_t window_max_frames;
	unsigned int max_sessions;
	/** Sessions one peer address may hold at once, 1..XF_ENGINE_MAX_SESSIONS_PER_PEER:
	 *  one peer (or HELLOs spoofing it) cannot take every slot. */
	unsigned int max_sessions_per_peer;
	/** Push jobs to one peer that run at once, 1..XF_ENGINE_MAX_JOBS; more wait, queued,
	 *  in the order they were asked for (a peer refuses sessions beyond its own
	 *  max_sessions_per_peer, silently with AEAD, so sending more only times out). */
	unsigned int max_jobs_per_peer;
	uint64_t rate_bps; /**< ceiling of each session's pacing, 0 = none */
	int congestion;    /**< enum xf_cc_algo of each session */
	uint32_t timeout_ms;
	uint32_t keepalive_ms;
	unsigned int n_peers; /**< the allowlist: only these may open sessions */
	struct xf_engine_peer peers[XF_ENGINE_MAX_PEERS];
	/* security (docs/SECURITY.md): the engine copies the keys and xf_engine_create
	 * wipes them here; the caller wipes its own copies */
	bool security_none;      /**< session.security none: no handshake, frames in clear */
	bool has_private_key;    /**< private_key is set (else every session is refused) */
	uint8_t private_key[32]; /**< X25519 static private key */
	bool has_psk;            /**< psk is set (else the all-zero PSK) */
	uint8_t psk[32];
	/* Key lifetimes (docs/SECURITY.md 5); 0 = the default of each (xf_secure.h). */
	uint32_t rekey_after_ms;    /**< a push starts a new handshake at this key age */
	uint32_t reject_after_ms;   /**< keys this old seal and open nothing */
	uint32_t key_update_frames; /**< frames sealed per key before a key update */
	/** HELLOs with a valid mac1 per second on one RX core from which it is under load
	 *  (docs/SECURITY.md 3); 0 = XF_ENGINE_HS_LOAD_DEFAULT (64). */
	uint32_t handshake_load;
};

struct xf_engine;

/**
 * Build the dataplane: mbuf pool, port (started), pipeline over the volume, rings.
 * Call on the main lcore after rte_eal_init. @return the engine, or NULL (logged).
 */
struct xf_engine *xf_engine_create(const struct xf_engine_conf *conf);

/** Launch the RX and worker loops on their lcores. @return 0 or -errno. */
int xf_engine_launch(struct xf_engine *e);

/**
 * Stop: no new sessions; push jobs are aborted; the loops finish what is in flight
 * and return; then wait for them. Temp files of unfinished files are removed.
 */
void xf_engine_stop(struct xf_engine *e);

void xf_engine_destroy(struct xf_engine *e);

/**
 * Watch the port's link (control thread, a few times a second): each time it comes up,
 * including the first time after start, the first RX core announces our MAC with a
 * gratuitous ARP, so that a peer that knew another MAC for our address (we restarted
 * with a new one, or replaced an appliance) updates it at once. Transitions are logged.
 *
 * @param e  The engine.
 * @return Whether the link is up.
 */
bool xf_engine_link_poll(struct xf_engine *e);

struct xf_filter;

/** A push job as the operator asked for it. */
struct xf_engine_push_req {
	const char *src;   /**< source directory */
	unsigned int peer; /**< index into conf.peers */
	const char *dest;  /**< destination directory in the peer's volume ("" = its root) */
	/** the peer's volume (an identifier, at most XF_DEST_VOLUME_MAX bytes), or NULL or ""
	 *  for its first one */
	const char *volume;
	bool checksum;
	/** NULL, or the rules the scan applies (xf_filter.h); used during xf_engine_push()
	 *  only, not kept by the job. */
	const struct xf_filter *filter;
	bool delete_extra;   /**< --delete: the receiver deletes what the source lacks */
	uint32_t max_delete; /**< with delete_extra: at most this many (XF_DELETE_UNLIMITED) */
	bool dry_run;        /**< -n: the peer decides everything and writes nothing */
	bool itemize;        /**< -i: keep each entry's decision and items (xf_engine_job_items) */
	bool hard_links;     /**< -H: files sharing an inode are sent as hard links */
	bool compress;       /**< --compress: DATA literals compressed where it helps
	                          (XF_HELLO_F_COMPRESS, docs/PROTOCOL.md 6.16) */
	bool owner;          /**< -o: each entry's uid is sent and set (XF_HELLO_F_OWNER) */
	bool group;          /**< -g: each entry's gid is sent and set (XF_HELLO_F_OWNER) */
	/** enum xf_zip_why: who turned compress on, or XF_ZIP_REFUSED (--no-compress: the
	 *  peer's volume does not turn it on either); XF_ZIP_NONE: off, and the peer's
	 *  volume may ask (its HELLO_ACK) */
	uint8_t compress_why;
	/** --owner-names, with owner or group: the names of the ids go with them and the
	 *  receiver sets the ids those names have there (XF_HELLO_F_OWNER_NAMES, 6.21) */
	bool owner_names;
	bool xattrs; /**< -X: extended attributes (XF_HELLO_F_XATTRS, 6.20) */
	bool acls;   /**< -A: access and default ACLs (XF_HELLO_F_ACLS, 6.20) */
	/** --lanes: sessions that carry the job, 1..XF_LANES_MAX (0: 1); more than one
	 *  only without dry_run, itemize and delete_extra (docs/ENGINE.md, "Lanes") */
	unsigned int lanes;
	/** 0: a random session id; else the id the push's session takes (the push a pull
	 *  starts takes the pull's, so that the puller knows it: docs/PROTOCOL.md 6.18) */
	uint32_t session_id;
	bool redo; /**< transfer.redo: a DELTA file that fails the peer's CRC-64 is
	                sent again whole when it asks (XF_HELLO_F_REDO) */
};

/**
 * A pull (xferctl pull): ask the peer to push its directory src back here, into dest in
 * volume (the push request's fields, the same meaning; filter, itemize unused). The job
 * sends a HELLO with XF_HELLO_F_PULL and lists no file; it ends DONE when the peer
 * started the push (which comes under the job's session id, xf_job_info.session), or
 * FAILED with the peer's reason.
 */
struct xf_engine_pull_req {
	struct xf_engine_push_req push; /**< src: the peer's directory (absolute) */
	const char *const *rules;       /**< filter rules in the --filter form, or NULL */
	unsigned int n_rules;
};

/**
 * Start a pull job. @return the job id (> 0), or -errno: EINVAL (peer, src, destination,
 *         rules: err says which; the request must fit one HELLO), EBUSY, ESHUTDOWN.
 */
int xf_engine_pull(struct xf_engine *e, const struct xf_engine_pull_req *req, char *err,
                   size_t err_len);

/** A peer's pull request, authenticated and well-formed (xf_pull_parse()), to be judged. */
struct xf_engine_pull_in {
	unsigned int peer; /**< the peer's slot (xf_engine_set_peers) */
	uint32_t session;  /**< the pull's session id: the push it starts must take it */
	uint32_t flags;    /**< the HELLO's flags: the push's options */
	uint32_t window;   /**< with XF_HELLO_F_DELETE: the deletion limit */
	const char *req;   /**< the request's bytes (xf_pull.h) */
	uint16_t req_len;
};

/**
 * Judge one pull request on the control thread: start the push and return XF_PULL_OK,
 * or return the refusal with its reason in msg (printable ASCII; the puller reads it).
 */
typedef enum xf_pull_refusal (*xf_engine_pull_fn)(void *arg, const struct xf_engine_pull_in *in,
                                                  char *msg, size_t msg_len);

/**
 * Judge the pull requests the RX cores hold (control thread, each poll). Each answer
 * goes back to its RX core, which tells the puller. @return the requests judged.
 */
unsigned int xf_engine_pull_serve(struct xf_engine *e, xf_engine_pull_fn fn, void *arg);

/** States of a job (what `xferctl jobs` shows). */
enum xf_job_state {
	XF_JOB_QUEUED = 0,
	XF_JOB_RUNNING,
	XF_JOB_DONE,
	XF_JOB_FAILED,
	XF_JOB_CANCELLED,
};

const char *xf_job_state_str(enum xf_job_state s);

/** A snapshot of a job. */
struct xf_job_info {
	unsigned int id;
	enum xf_job_state state;
	char src[256];
	char dest[256];
	char volume[64]; /**< "": the peer's first */
	unsigned int peer;
	char error[320];
	uint64_t started_ns;
	uint64_t elapsed_ns;
	uint64_t queued_ns; /**< of elapsed_ns, the time it waited queued (max_jobs_per_peer) */
	struct xf_push_stats push;
	struct xf_reliab_stats rel;
	uint64_t files_skipped;    /**< specials and too-long names left out by the scan */
	uint64_t files_filtered;   /**< entries the filter excluded (a directory counts once) */
	const char *io;            /**< how its sources are read: "io_uring" or "inline" */
	bool keyed;                /**< its handshake finished (session.security aead) */
	uint64_t keys_born_ns;     /**< when its current keys were made (xf_engine_now's clock) */
	uint64_t key_updates;      /**< key updates of the session, both directions */
	uint64_t rekeys;           /**< new handshakes that replaced its keys */
	uint8_t peer_key[32];      /**< the peer's public key its handshake used (keyed) */
	bool checksum;             /**< the push compares by checksum */
	bool dry_run;              /**< the push is a dry run (-n) */
	bool itemize;              /**< the push keeps its itemized list (-i) */
	bool compress;             /**< the push compresses its DATA literals: compress_why,
	                            *   or a session's HELLO_ACK asked (push.zip_on) */
	uint8_t compress_why;      /**< enum xf_zip_why; XF_ZIP_PEER_VOLUME when the peer's
	                            *   volume turned it on */
	bool hard_links;           /**< the push keeps hard links (-H) */
	bool owner;                /**< the push sends owners (-o) */
	bool owner_names;          /**< ... with their names (--owner-names, 6.21) */
	bool group;                /**< the push sends groups (-g) */
	bool xattrs;               /**< the push sends extended attributes (-X) */
	bool acls;                 /**< the push sends ACLs (-A) */
	uint64_t files_hardlinked; /**< with hard_links: names sent as links to another */
	bool delete_asked;         /**< the push asked for --delete */
	bool delete_scan_errors;   /**< ... and the scan lost entries, so none was asked of the
	                                receiver */
	unsigned int lanes;        /**< sessions that carry it (its push and rel add theirs up) */
	bool pull;                 /**< a pull job (xf_engine_pull): src is the peer's */
	uint32_t session;          /**< its session id (a pull's push comes under it) */
};

/**
 * Start a push job: scan the tree (on this thread), hand the session to an RX core.
 * @return the job id (> 0), or -errno: ENOENT/ENOTDIR/EACCES (source), EINVAL (peer,
 *         destination path), EBUSY (too many jobs), ENOMEM.
 */
int xf_engine_push(struct xf_engine *e, const struct xf_engine_push_req *req, char *err,
                   size_t err_len);

/** Snapshot of job id. @return 0, or -ENOENT. */
int xf_engine_job(struct xf_engine *e, unsigned int id, struct xf_job_info *out);

/**
 * One entry of a finished job's itemized list: its kind, its path relative to the push's
 * source (empty for the source directory itself, rsync's "./"), a symlink's target, and
 * its record (xf_push_item(): the receiver's decision and XF_ITEM_* bits; 0 when no
 * decision came). @return true to go on, false to stop after it.
 */
typedef bool (*xf_engine_item_fn)(void *arg, const struct xf_flist_entry *e, uint16_t rec);

/** The record of an entry the peer deleted (or, dry, would delete): e names it. */
#define XF_ENGINE_ITEM_DELETED UINT16_MAX

/**
 * Walk a finished job's itemized list from cursor from on, calling fn for each: first
 * what the peer deleted (with --delete: rec XF_ENGINE_ITEM_DELETED), then its entries
 * (the destination's parent directories, which rsync would not list, are skipped).
 *
 * @param e    The engine.
 * @param id   The job.
 * @param from The cursor (0 for the start, then a value this function returned).
 * @param fn   Called for each until it returns false.
 * @param arg  fn's first argument.
 * @param end  Set when the walk reached the end.
 * @return The cursor to continue from, or -ENOENT (no such job), -ENODATA (it was not
 *         asked to itemize), -EAGAIN (it has not finished yet).
 */
int64_t xf_engine_job_items(struct xf_engine *e, unsigned int id, uint64_t from,
                            xf_engine_item_fn fn, void *arg, bool *end);

/**
 * The path of entry i of a job's list (as xf_push_stats.fail_file names it), relative to
 * the push's source: "" for the destination directory itself. Control thread; the list
 * stays unchanged while the job is known.
 * @return 0, or -ENOENT (no such job, or no entry i).
 */
int xf_engine_job_path(struct xf_engine *e, unsigned int id, uint32_t i, const char **path,
                       uint16_t *len);

/**
 * Drive the jobs of several lanes (control thread, in its loop): start each phase's
 * sessions, end a job once they all ended, cancel the others when one fails.
 * @return true while such a job runs (the loop should come back soon: each phase
 *         starts at the poll after the one before it ended).
 */
bool xf_engine_lanes_poll(struct xf_engine *e);

/** Ids of known jobs, newest last. @return the count written. */
unsigned int xf_engine_jobs(struct xf_engine *e, unsigned int *ids, unsigned int max);

/** A session this appliance serves (receives), as its RX core last published it. */
struct xf_engine_rsess_info {
	uint32_t id;           /**< the sender's session id */
	unsigned int rx;       /**< the RX core that serves it */
	unsigned int peer;     /**< the peer's slot (xf_engine_set_peers) */
	uint32_t peer_ip;      /**< network order */
	uint16_t peer_port;    /**< host order */
	bool refused;          /**< its destination is not served: it ends in an ABORT */
	uint64_t opened_ns;    /**< xf_engine_now's clock */
	bool keyed;            /**< AEAD keys in place (session.security aead) */
	uint8_t peer_key[32];  /**< the peer's public key its handshake used (keyed) */
	uint64_t keys_born_ns; /**< when its current keys were made (xf_engine_now's clock) */
	uint64_t key_updates;  /**< key updates of the session, both directions */
	uint64_t rekeys;       /**< new handshakes that replaced its keys */
	/** What it did, as last published (final once it ended): its list's length
	 *  (UINT32_MAX until known), entries settled, written, failed */
	struct xf_session_counts files;
	bool done; /**< its pipeline finished (DONE sent, or aborted) */
};

/**
 * One session this appliance serves or served, by its peer's slot and id (the push a
 * pull started comes under the pull job's session id): while its slot is not reused,
 * an ended one is still found, with its final counts. @return 0 (*live says whether it
 * is open), or -ENOENT.
 */
int xf_engine_rsession(struct xf_engine *e, unsigned int peer, uint32_t id,
                       struct xf_engine_rsess_info *out, bool *live);

/**
 * The sessions this appliance serves, as their RX cores published them (at most 100 ms
 * old). @return the count written to out (at most max).
 */
unsigned int xf_engine_rsessions(struct xf_engine *e, struct xf_engine_rsess_info *out,
                                 unsigned int max);

/** Cancel a job. @return 0, -ENOENT, -EALREADY (finished). */
int xf_engine_cancel(struct xf_engine *e, unsigned int id);

struct xf_capture;

/**
 * The capture tap of the RX cores (drivers/capture/xf_capture.h), made at the first
 * call and kept until xf_engine_destroy. Control thread only.
 * @param writer Core id the capture's writer thread runs as (its rings' consumer).
 * @return it, or NULL (errno).
 */
struct xf_capture *xf_engine_capture(struct xf_engine *e, unsigned int writer);

/** Counters of the whole dataplane, summed over cores. */
struct xf_engine_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_missed, tx_dropped;
	uint64_t frames;          /**< xferd frames received */
	uint64_t bad_frames;      /**< rejected by the codec */
	uint64_t frame_drops[16]; /**< by enum xf_proto_reason */
	uint64_t net_drops[32];   /**< by enum xf_net_drop */
	uint64_t no_session;      /**< frames for an unknown session */
	uint64_t hello_refused;   /**< HELLOs answered with a refusal, every reason */
	uint64_t hello_ended;     /**< HELLOs of a session that ended here: dropped */
	uint64_t tx_full;         /**< frames dropped because a TX queue was full: replies,
	                             ACKs, refusals, or a served session's frame when its
	                             own queue was full (the session then times out) */
	/* Of hello_refused: the source is not in the allowlist; the peer holds
	 * max_sessions_per_peer sessions already. */
	uint64_t hello_not_allowed, hello_peer_cap;
	/** Sessions refused because their destination named no volume of ours, or was
	 *  malformed (the sender is told why in an ABORT). */
	uint64_t volume_refused;
	/** Of those, sessions that asked for owners (XF_HELLO_F_OWNER) into a volume
	 *  without volumes[].keep_owner. */
	uint64_t owner_refused;
	/** Pulls (docs/PROTOCOL.md 6.18): requests handed to the control thread, accepted
	 *  (a push started), refused by enum xf_pull_refusal, and frames other than ACK,
	 *  PING and ABORT a puller sent on its pull session (dropped). */
	uint64_t pull_asked, pull_accepted, pull_refused[8], pull_frames;
	/* FLIST/DATA/COPY/FILE_END before the sender acknowledged our HELLO_ACK (dropped, not
	 * acknowledged); frames numbered more than a window ahead (xf_reliab). */
	uint64_t unconfirmed, pn_ahead;
	/* Frames of a served session not taken because the RX core's queue to its pipeline
	 * was full (not acknowledged: the sender sends them again). The core stops reading
	 * its port before that queue can fill, so 0 unless that bound is broken. */
	uint64_t pend_full;
	/* AEAD (docs/SECURITY.md 8): frames whose tag failed, replayed (duplicate packet
	 * number) or behind the window, after the keys expired, for a session without keys
	 * yet; seals refused because a packet number was not above the last (never expected:
	 * a nonzero count is a bug); frames sealed and opened. */
	uint64_t auth_failed, auth_replayed, auth_too_old, auth_expired, auth_no_keys;
	uint64_t nonce_refused, sealed, opened;
	/* Handshake drops by reason: mac1 wrong or malformed, unknown static key (or the key
	 * of another peer than the source address), replayed message 1 (timestamp), message
	 * 2 failed (wrong key or PSK), HELLO whose security mode differs from ours, other. */
	uint64_t hs_bad_mac, hs_no_key, hs_replay, hs_bad_response, hs_mode, hs_failed;
	uint64_t handshakes;  /**< completed, either role */
	uint64_t rekeys;      /**< handshakes that replaced a live session's keys, either role */
	uint64_t key_updates; /**< key updates started (session.key_update_frames) */
	/* Under load (docs/SECURITY.md 3): initiations answered with a cookie reply and no
	 * DH (mac2 missing or wrong), initiations with a valid mac2 dropped because the
	 * second's budget of them was spent; cookie replies that did not verify (initiator). */
	uint64_t hs_cookie, hs_rate, hs_bad_cookie;
	uint64_t cookie_replies; /**< cookie replies sent (responder) */
	uint64_t cookies_taken;  /**< cookie replies that verified (initiator) */
	uint64_t hs_dh;          /**< initiations that got Diffie-Hellman work (responder) */
	uint64_t hs_queue_full;  /**< HELLOs dropped: the RX core's handshake queue was full */
	uint64_t hs_stale; /**< handshake answers dropped: their session or peer went meanwhile */
	uint64_t hs_in_flight; /**< HELLOs dropped: a copy of one with the handshake thread */
	/** New handshakes of a running session refused: their HELLO asked for another
	 *  destination, volume, rules, flags or limit than the session's first */
	uint64_t hs_rekey_changed;
	/** HELLO_ACKs a push did not read: its budget of message 2 reads (two X25519 on the
	 *  RX core each) for the second was spent, as by forged ones */
	uint64_t hs_response_rate;
	uint64_t hs_dh_offcore; /**< X25519 operations the handshake thread did */
	uint64_t hs_dh_oncore;  /**< X25519 operations the RX cores did (expected 0) */
	uint32_t under_load;    /**< RX cores under load now */
	uint64_t keys_locked;   /**< bytes of key memory locked (0: mlock refused, or none) */
	uint64_t peer_gone;     /**< sessions and pushes ended: a reload removed or re-keyed
	                             their peer */
	uint64_t sessions_opened, sessions_closed, sessions_timed_out;
	uint64_t arp_replied, icmp_echo_replied;
	uint64_t arp_held;    /**< frames held while their next hop was being resolved */
	uint64_t arp_expired; /**< dropped unresolved: failed, after 1 s, at stop, queue full */
	/* Neighbours (docs/ENGINE.md, "Neighbours"): requests sent (broadcast, unicast
	 * probes, gratuitous), MACs that changed, neighbours given up. */
	uint64_t arp_requests, arp_probes, arp_announced, neigh_changed, neigh_failed;
	uint64_t retransmits;  /**< receive sessions: our frames sent again */
	unsigned int sessions; /**< receive sessions open now */
	/* DELTA, both roles (docs/DELTA.md): COPY bytes written from a basis kept since its
	 * signatures; signature arrays and maps from the lease rings, and from the heap when
	 * a ring was full. */
	uint64_t basis_kept_bytes;
	/* Apply by clone (docs/DELTA.md): COPY bytes cloned, copied by copy_file_range,
	 * whose CRC-64 came from block CRCs; files whose basis changed under them. */
	uint64_t cloned_bytes, copy_range_bytes, crc_combined_bytes, basis_changed;
	uint64_t basis_dirty;     /**< DELTA files whose basis was not written back: started */
	uint64_t basis_sync_done; /**< of those, started on the storage's ring: completed */
	uint64_t temp_presized;   /**< DELTA temp files given their size while empty */
	uint64_t clone_slow;      /**< clones that kept a worker 1 ms or more */
	/** Partial files, every volume (xf_pipeline_times.partial_*: kept, used as a basis,
	 *  COPY bytes taken from them, evicted, removed as another version's, found at start,
	 *  dropped at start, temp files that could not be tagged). */
	uint64_t partial_kept, partial_used, partial_saved, partial_evicted, partial_stale,
	        partial_recovered, partial_discarded, partial_untagged;
	uint64_t redone; /**< DELTA files that failed and were sent again whole */
	/* Compressed DATA received (docs/PROTOCOL.md 6.16), every volume: frames inflated,
	 * their bytes as they came and inflated, and those refused by reason (their file
	 * fails). struct xf_pipeline_times's zip_* counters. */
	uint64_t zip_frames, zip_bytes_in, zip_bytes_out, zip_bad, zip_long, zip_short;
	/* The receivers' signature caches (docs/DELTA.md, "Signature cache"), every volume:
	 * struct xf_sigcache_stats's counters of the same names. */
	uint64_t sc_hits, sc_misses, sc_stale, sc_stored, sc_committed, sc_evicted, sc_loaded,
	        sc_corrupt;
	uint64_t sc_bytes;
	uint64_t sig_from_ring, sig_from_heap;
	uint64_t slow_storage_steps; /**< steps that kept a worker for a second or more */
	uint64_t source_fd_waits;    /**< read requests that waited for a source file entry */
	/** The readers of push sources, one per worker: the source files each read to their
	 *  end, WHOLE (frames read) and DELTA (matched). */
	unsigned int n_readers;
	struct xf_engine_reader_stats {
		unsigned int lcore;
		uint64_t whole_files, delta_files;
		uint64_t parks; /**< idle waits on its bell that slept (0: it does not park) */
	} readers[XF_ENGINE_MAX_WORKERS];
	/* Received new directories made under a staging name and put in place whole
	 * (docs/PIPELINE.md, "Staged directories"): those put in place, the files that came
	 * in them, those that could not be put in place (their files failed). */
	uint64_t staged_dirs, staged_files, staged_failed;
	struct xf_pipeline_rx_stats pipeline; /**< every volume's receive pipeline, summed */
	bool link_up;
	uint32_t link_speed_mbps;
	uint8_t mac[6]; /**< the port's MAC */
	/** The port's fault stage (ports[].fault), summed over its TX queues */
	bool fault_on;
	struct xf_fault_stats fault;
	uint64_t fault_refused; /**< frames the device refused after the stage */
};

void xf_engine_stats(struct xf_engine *e, struct xf_engine_stats *st);

/** A ring of the dataplane, as `xferctl stats` shows it. */
struct xf_engine_ring_info {
	char name[32];
	unsigned int count; /**< elements waiting (a snapshot) */
	unsigned int free;  /**< room left */
};

/**
 * The engine's and the pipeline's rings (snapshots, read from the control thread).
 * @return the number written to out (at most max).
 */
unsigned int xf_engine_rings(struct xf_engine *e, struct xf_engine_ring_info *out,
                             unsigned int max);

/** Packets of NIC queue q (the RX core of the same index), for stats. */
struct xf_engine_queue_info {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
};

/** @return the number of queues written to out (one per RX core, at most max). */
unsigned int xf_engine_queues(struct xf_engine *e, struct xf_engine_queue_info *out,
                              unsigned int max);

/** Name of frame drop reason i / net drop reason i, for stats output. */
const char *xf_engine_frame_drop_name(unsigned int i);
const char *xf_engine_net_drop_name(unsigned int i);

/**
 * The session parameters a reload may change while the engine runs. Each new session
 * (a push job starting, a peer's HELLO accepted) takes the values published last;
 * sessions already open keep theirs. Idle behaviour applies at once.
 */
struct xf_engine_params {
	uint64_t rate_bps;     /**< ceiling of each session's pacing, 0 = none */
	int congestion;        /**< enum xf_cc_algo of each session */
	uint32_t timeout_ms;   /**< idle session timeout, > 0 */
	uint32_t keepalive_ms; /**< keepalive interval of push sessions, < timeout_ms */
	bool idle_poll;        /**< never sleep when idle */
	/** bit v: volume v asks the pushes into it for compressed DATA (volumes[].compress,
	 *  the HELLO_ACK's XF_HELLO_F_COMPRESS, docs/PROTOCOL.md 6.16) */
	uint32_t zip_volumes;
};

/**
 * Publish new session parameters to the RX and worker cores. Call from one thread only
 * (the control thread); the cores read them without locks.
 *
 * @param e  Engine.
 * @param p  New parameters.
 * @return 0, or -EINVAL if timeout_ms is 0 or keepalive_ms is not below it (nothing is
 *         published then).
 */
int xf_engine_set_params(struct xf_engine *e, const struct xf_engine_params *p);

/**
 * Replace the allowlist (a reload; control thread). Slots are stable: a peer keeps its
 * slot for as long as it is configured (xf_engine_push_req.peer names a slot), a removed
 * peer's slot is never given to another, an added peer takes a slot never used. Every
 * RX core adopts the table between two polls and ends the sessions it serves and the
 * pushes it runs whose peer was removed or changed (address, UDP port or key); this
 * returns once every RX core has.
 * @param peers   n_slots entries, by slot.
 * @param present n_slots flags: false for a slot whose peer is removed.
 * @param n_slots at least the slots in use, at most XF_ENGINE_MAX_PEERS.
 * @return 0; -EINVAL (n_slots out of range), -EIO (a peer's key is not usable), -EBUSY
 *         (a previous change is still being adopted: nothing changed), -ETIMEDOUT (applied
 *         and published, but an RX core did not adopt it within 5 s: it will, at its
 *         next poll).
 */
int xf_engine_set_peers(struct xf_engine *e, const struct xf_engine_peer *peers,
                        const bool *present, unsigned int n_slots);

/**
 * Read the parameters in effect: the last published ones, or those of the engine's
 * configuration if none were. Safe on any thread.
 *
 * @param e    Engine.
 * @param out  Filled with one consistent set (never a mix of two publications).
 */
void xf_engine_get_params(const struct xf_engine *e, struct xf_engine_params *out);

/** UDP checksums this engine's port sends: "none", "offload" or "software". */
const char *xf_engine_udp_tx_checksum(const struct xf_engine *e);

/**
 * How the port puts lanes on their queues (docs/ENGINE.md, "Steering").
 *
 * @param e        Engine.
 * @param rules    Set to the flow rules installed.
 * @param refused  Set to the flow rules the device refused.
 * @return "flow", "rss", "sender" or "none".
 */
const char *xf_engine_steering(const struct xf_engine *e, uint32_t *rules, uint32_t *refused);

/** A volume as `xferctl stats` shows it: its counters, summed over the cores. */
struct xf_engine_volume_info {
	const char *io;           /**< "io_uring" or "inline" (transfer.io resolved for it) */
	const char *apply;        /**< how COPY ops are applied (xf_engine_volume_apply()) */
	unsigned int sessions;    /**< receive sessions writing into it now */
	uint64_t sessions_opened; /**< receive sessions opened into it */
	uint64_t files_verified;  /**< files written and verified (size, CRC-64) */
	uint64_t commits;         /**< commit steps done (renames, directories, links) */
	uint64_t bytes_written;   /**< file bytes written (DATA and COPY) */
	uint64_t staged_dirs;     /**< staged directories put in place */
	uint64_t type_changes;    /**< entries that replaced one of another kind by an exchange */
	uint64_t trees_replaced;  /**< of those, directories with entries removed after */
	uint64_t owners_set;      /**< entries given the owner and group a push sent */
	uint64_t owners_failed;   /**< entries that could not have them (XF_ST_ATTR) */
	uint64_t owners_unmapped; /**< names sent with them that no account has here: the
	                               sender's number was set (6.21) */
	uint64_t xattrs_set;      /**< entries given their attribute set, read back equal */
	uint64_t xattrs_failed;   /**< entries whose set could not be set so (XF_ST_XATTR) */
	uint64_t xattrs_skipped;  /**< attributes of a namespace the volume does not keep */
	/** its receive pipeline's counters, summed over the RX cores (docs/CONTROL.md,
	 *  volumes[].pipeline_*) */
	struct xf_pipeline_rx_stats rx;
};

/**
 * Counters of volume v (snapshots, read racily from the control thread).
 * @return 0, or -ENOENT (no volume v).
 */
int xf_engine_volume(struct xf_engine *e, unsigned int v, struct xf_engine_volume_info *out);

/** How volume v is written and read: "io_uring" or "inline" ("?" for no such volume). */
const char *xf_engine_volume_io(const struct xf_engine *e, unsigned int v);

/** How volume v applies COPY ops: "clone", "copy_file_range" or "read_write" (its
 *  pipeline's probe, on its file system; "?" for no such volume). */
const char *xf_engine_volume_apply(const struct xf_engine *e, unsigned int v);

#endif /* XF_ENGINE_H */
