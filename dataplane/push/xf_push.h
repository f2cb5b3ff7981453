/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of one session (a push job), as a state machine: handshake,
 * FLIST under credit, DATA from the file reader, FILE_END once a file's data is
 * acknowledged, COMMIT progress, DONE. Reliability is xf_reliab's.
 *
 * Pure C, no EAL, no I/O of its own: frames, file reads and time come through
 * struct xf_push_io, so the same code runs on an RX core over DPDK and in a unit
 * test over an in-memory channel. Owned by one core; no locks.
 */
#ifndef XF_PUSH_H
#define XF_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_delta.h"
#include "xf_lease.h"
#include "xf_proto.h"
#include "xf_reliab.h"

/** Where the session is. */
enum xf_push_state {
	XF_PUSH_HELLO = 1, /**< HELLO sent, waiting for HELLO_ACK */
	XF_PUSH_RUNNING,   /**< file list and data flowing */
	XF_PUSH_CLOSING,   /**< every file settled, DONE exchanged, draining ACKs */
	XF_PUSH_DONE,      /**< finished: every file committed, up to date or failed */
	XF_PUSH_ABORTED,   /**< ended early: see abort_code */
};

/**
 * The I/O a session needs. Frame buffers are opaque handles (an rte_mbuf on the
 * appliance) with room for one UDP payload of the negotiated size.
 */
struct xf_push_io {
	void *arg; /**< first argument of every callback */
	/**
	 * Entry i (below the count given to xf_push_create) of the file list, in list
	 * order. Its path and target stay valid and NUL-terminated for the session's life.
	 * The session asks whenever it needs an entry and keeps no copy, so the list is held
	 * once, by its owner (a push job: the scan of its source tree).
	 */
	void (*entry)(void *arg, uint32_t i, struct xf_flist_entry *e);
	/**
	 * With xf_push_cfg.owner_names: the sender's name of a uid (XF_NAME_USER) or gid, or
	 * NULL if it has none (the receiver then keeps the number). Must not block: it runs
	 * on the core that builds FLIST frames (a table looked up beforehand).
	 */
	const struct xf_name_rec *(*name)(void *arg, enum xf_name_kind kind, uint32_t id);
	/** A frame buffer; *payload points where the UDP payload goes. NULL when none. */
	void *(*frame_alloc)(void *arg, uint8_t **payload);
	/**
	 * Send len payload bytes of a frame. The session keeps its reference for
	 * retransmission until xf_push_io.frame_free; the I/O layer must not change the
	 * bytes. Returns 0, or -EAGAIN if it cannot send now (the session retries).
	 */
	int (*frame_send)(void *arg, void *frame, uint16_t len);
	/** The session is done with a frame. */
	void (*frame_free)(void *arg, void *frame);
	/**
	 * Ask the file reader for up to nframes frames of data_len bytes each, from
	 * offset on, of a regular file (path relative to the push's source root). The
	 * reader answers with xf_push_on_read(): one call per frame, in offset order, the
	 * one marked last per request, eof set once the end of the file was reached. A file
	 * may have several requests outstanding, asked in offset order and all to the same
	 * reader, which answers them in that order so that its CRC runs over the file in
	 * order. Returns 0, or -EAGAIN to be asked again later.
	 */
	int (*read_request)(void *arg, uint32_t file, const char *path, uint16_t path_len,
	                    uint64_t offset, uint32_t nframes, uint32_t data_len);
	/**
	 * Optional: read a DELTA file and run the matcher where it is read (the file's
	 * worker). Like read_request (nframes pieces of data_len bytes from offset, in
	 * order, requests answered in order), but the reader feeds what it reads to a
	 * matcher (xf_delta_match_create(sig) on the file's first request, max_literal
	 * data_len) and answers its ops through xf_push_on_read(): a DATA op as a frame
	 * (literal at offset, in the frame like read data), a COPY op with frame NULL and
	 * copy_len / src_offset set, then one answer with last set (frame NULL, offset = the
	 * end of the input read so far, undelivered = nframes, eof / error / size / crc64 as
	 * for read_request). On the first request (sig != NULL) and a 0 return, the reader
	 * takes sig->sigs (from xf_lease_alloc, cfg.sig_ring) and gives it back with
	 * xf_lease_free when done. NULL: the session runs the
	 * matcher itself over read_request data.
	 */
	int (*delta_request)(void *arg, uint32_t file, const char *path, uint16_t path_len,
	                     uint64_t offset, uint32_t nframes, uint32_t data_len,
	                     const struct xf_delta_params *sig);
};

/** What the session reports. */
/** Failed files a push names (xf_push_stats.fail_file); the rest are only counted. */
#define XF_PUSH_FAILS_KEPT 16u

struct xf_push_stats {
	uint32_t files_total;     /**< entries in the file list */
	uint32_t files_committed; /**< settled: committed at the receiver */
	uint32_t files_uptodate;  /**< settled: nothing to send */
	uint32_t files_failed;    /**< settled: failed (refused, read error, receiver error) */
	uint32_t files_sent;      /**< files whose data was sent */
	uint32_t files_redone;    /**< DELTA files the receiver asked again whole (they failed
	                           *   its CRC-64), sent again in the same session */
	uint32_t files_data_end;  /**< of files_sent, those whose one DATA frame carried their
	                           *   end (XF_HDR_F_END, docs/PROTOCOL.md 6.9) */
	uint64_t read_retries;    /**< reads asked for again because the reader could not start
	                           *   them (no table entry or buffers, many jobs at once) */
	/** The first XF_PUSH_FAILS_KEPT failed files, in the order they failed: their list
	 *  indices and statuses (enum xf_file_status), so that an operator is told which */
	uint32_t fail_file[XF_PUSH_FAILS_KEPT];
	uint8_t fail_status[XF_PUSH_FAILS_KEPT];
	uint8_t fails_kept;
	uint64_t bytes_total;         /**< bytes of regular files in the list */
	uint64_t bytes_sent;          /**< file bytes sent in DATA (first transmission) */
	uint64_t bytes_literal;       /**< bytes sent as literals (DATA), whole files included */
	uint64_t bytes_sparse;        /**< bytes of holes in whole files: read, not sent */
	uint64_t bytes_matched;       /**< DELTA: bytes the receiver copied from its basis (COPY) */
	uint64_t bytes_data_wire;     /**< DATA bytes as sent (first transmission): bytes_literal
	                               *   less what compression saved */
	uint64_t zip_tried;           /**< DATA frames the reader tried to compress */
	uint64_t zip_frames;          /**< of those, frames sent compressed */
	uint64_t wire_bytes_sent;     /**< UDP payload bytes sent (sealed: with the tag) */
	uint64_t wire_bytes_received; /**< UDP payload bytes received (sealed: with the tag) */
	uint64_t frames_sent;
	uint64_t retransmits;
	uint16_t abort_code;      /**< enum xf_abort_code when ABORTED */
	uint8_t state;            /**< enum xf_push_state */
	bool delete_reported;     /**< the receiver's DONE said what its deletion did (below) */
	uint16_t delete_status;   /**< enum xf_delete_status */
	uint32_t files_deleted;   /**< entries the receiver deleted */
	uint32_t delete_kept;     /**< extraneous entries it left (limit, errors) */
	uint32_t done_early;      /**< DONE frames left unacknowledged: they came before every
	                           *   file was settled (a COMMIT ahead of them lost) */
	uint32_t commits_early;   /**< COMMIT frames left unacknowledged: one before them was
	                           *   lost or is late (they are applied in order) */
	uint32_t deleted_listed;  /**< entries of the receiver's list kept in cfg.deleted */
	uint32_t deleted_dropped; /**< entries of it that did not fit cfg.deleted */
	size_t deleted_bytes;     /**< bytes of cfg.deleted used */
	/** The reader compresses (xf_push_zip): cfg.compress, or the HELLO_ACK asked and
	 *  cfg.compress_if_asked. */
	bool zip_on;
	/** The receiver's HELLO_ACK asked for compressed DATA. */
	bool zip_asked;
};

/** A read result delivered by the reader. */
/** Bytes of the file a read result covers: raw_len when compressed, else len. */
#define XF_PUSH_READ_SPAN(rd) ((rd)->raw_len != 0 ? (rd)->raw_len : (rd)->len)

struct xf_push_read {
	uint32_t file;
	void *frame;      /**< filled frame, or NULL (eof with no more data, or an error) */
	uint8_t *payload; /**< the frame's payload start; data is at payload + XF_DATA_OVERHEAD */
	uint32_t len;     /**< data bytes in the frame */
	uint32_t raw_len; /**< 0: plain; else the frame's bytes are compressed from raw_len
	                   *   bytes (the DATA frame's raw_len, XF_HELLO_F_COMPRESS) */
	bool ztried;      /**< the reader tried to compress the frame (raw_len may be 0) */
	bool hole;        /**< len bytes of zeros in a hole of the file (frame NULL): counted
	                   *   as read, never sent */
	uint64_t offset;  /**< file offset of the data */
	bool last;        /**< the last answer to this request */
	uint32_t undelivered; /**< with last: frames of this request that never came (end of
	                       *   file or error) */
	bool eof;             /**< end of file reached: size and crc64 are final */
	int32_t error;        /**< -errno if the read failed (then last is true) */
	uint64_t size;        /**< at eof: bytes of the whole file */
	uint64_t crc64;       /**< at eof: CRC-64/XZ of the whole file */
	uint32_t copy_len;    /**< delta_request: a COPY op of this many bytes (frame NULL) */
	uint64_t src_offset;  /**< delta_request: the COPY's basis offset */
};

/** Frames the reader may have been asked for and not yet sent, per session. */
#define XF_PUSH_READ_AHEAD 256u

struct xf_push_cfg {
	uint32_t session_id; /**< nonzero, random */
	uint64_t nonce;      /**< random */
	const char *dest;    /**< destination path in the peer's volume ("" for its root) */
	/** With delete_extra: the filter rules, rules_len bytes, "- PAT\n" a line, that the
	 *  receiver's deletion keeps what they exclude by (XF_HELLO_F_FILTERS); else NULL. */
	const char *rules;
	uint16_t rules_len;
	/** dest's length when it is not NUL-terminated (a pull request holds NULs), 0: strlen */
	uint16_t dest_len;
	/** A pull (XF_HELLO_F_PULL): dest is a pull request (xf_pull.h); list no file */
	bool pull;
	uint16_t max_payload; /**< largest UDP payload we send and accept */
	bool checksum;        /**< ask for quick check by checksum */
	/** dest's first component names the peer's volume (XF_HELLO_F_VOLUME, xf_dest.h) */
	bool volume;
	bool delete_extra;   /**< ask the receiver to delete what the list lacks beneath
	                          dest once every file is committed (XF_HELLO_F_DELETE) */
	uint32_t max_delete; /**< with delete_extra: at most this many (XF_DELETE_UNLIMITED) */
	/** A dry run (XF_HELLO_F_DRYRUN): the receiver decides every entry and writes nothing;
	 *  no DATA, COPY or FILE_END is sent. */
	bool dry_run;
	/** The list may hold hard links (XF_FILE_HARDLINK): XF_HELLO_F_HARDLINKS. */
	bool hard_links;
	/** Ask for each entry's items (XF_HELLO_F_ITEMIZE), kept in items[]. */
	bool itemize;
	/** Announce XF_HELLO_F_COMPRESS: the reader may send DATA literals compressed. */
	bool compress;
	/** Without compress: compress all the same when the receiver's HELLO_ACK asks for it
	 *  (its XF_HELLO_F_COMPRESS: its volume's volumes[].compress, docs/PROTOCOL.md 6.16);
	 *  false when the job said --no-compress. */
	bool compress_if_asked;
	/** Announce XF_HELLO_F_OWNER: every FLIST frame carries each entry's uid and gid
	 *  (XF_FLIST_F_OWNER; the entry callback gives XF_ID_NONE for one not sent). */
	bool owner;
	/** With owner: announce XF_HELLO_F_OWNER_NAMES; FLIST frames carry the names
	 *  xf_push_io.name gives for their ids (docs/PROTOCOL.md 6.21). */
	bool owner_names;
	/** Announce XF_HELLO_F_XATTRS, XF_HELLO_F_ACLS: every FLIST frame has XF_HDR_F_XATTR
	 *  and each entry its attribute set (the entry callback's xattr, docs/PROTOCOL.md
	 *  6.20). */
	bool xattrs;
	bool acls;
	/** Announce XF_HELLO_F_REDO: a DELTA file that fails the receiver's CRC-64 is sent
	 *  again whole when it asks (docs/PROTOCOL.md 6.19); without it such a file fails. */
	bool redo;
	/** With itemize: count records, zeroed by the caller, which the session fills as the
	 *  DECISIONs arrive (xf_push_item()); owned by the caller, outliving the session. */
	uint16_t *items;
	/** With itemize and delete_extra: deleted_cap bytes where the session keeps what the
	 *  receiver says it deleted (its FLIST frames, docs/PROTOCOL.md 6.14), as records of
	 *  a u8 (1: directory), a big-endian u16 length and the path (xf_push_deleted_next());
	 *  owned by the caller. The session then takes the receiver's DONE only once that
	 *  list is complete. */
	uint8_t *deleted;
	size_t deleted_cap;
	/** Noise message 1 for the HELLO (auth_len bytes, outliving the session), or NULL for
	 *  a session without AEAD (session.security none). With it the HELLO asks for
	 *  XF_HELLO_F_AEAD, and an answer that does not echo it is ignored; message 1 then
	 *  carries the options and the destination field in its payload
	 *  (XF_HELLO_F_SEALED_OPTS, XF_HELLO_F_SEALED_DEST: the caller made it so from
	 *  xf_push_hello_flags), the HELLO's flags in clear are XF_HELLO_F_CLEAR_AEAD and
	 *  its window 0, and dest and rules say only which flags message 1 carries. */
	const uint8_t *auth;
	uint16_t auth_len; /**< with auth: XF_HELLO_AUTH_LEN..XF_HELLO_AUTH_MAX */
	/** Bytes frame_send adds to every frame but the HELLO as it seals it (the AEAD tag,
	 *  with auth; 0 in clear): counted in wire_bytes_sent, so that it counts what crosses. */
	uint16_t seal_overhead;
	/** Where DELTA files' signature arrays and maps come from (xf_lease.h): owned by the
	 *  caller's core and outliving the session and any reader still holding an array;
	 *  NULL: the heap. */
	struct xf_lease_ring *sig_ring;
	struct xf_reliab_cfg reliab; /**< callbacks are set by the session */
};

struct xf_push;

/**
 * Create a session over a file list of count entries, read through io->entry, and queue
 * its HELLO.
 * @return the session, or NULL with errno EINVAL (bad config, no io->entry; an empty
 *         list is fine) or ENOMEM.
 */
struct xf_push *xf_push_create(const struct xf_push_cfg *cfg, const struct xf_push_io *io,
                               uint32_t count, uint64_t now);

/** Room for the receiver's list of deletions (cfg.deleted) a job gives: as much as a
 *  receiver keeps (XF_DELETE_LIST_MAX, the same records). */
#define XF_PUSH_DELETED_MAX (4u << 20)

/** items[] record: the decision (enum xf_decision, 4 bits) above the XF_ITEM_* bits. */
#define XF_PUSH_ITEM_DEC_SHIFT 12
/** items[] record: the file's contents differ from the receiver's (a DATA frame was sent,
 *  or a COPY from another offset): what rsync --checksum marks as sent. */
#define XF_PUSH_ITEM_DATA 0x200u

_Static_assert(XF_ITEM_ALL < XF_PUSH_ITEM_DATA && XF_PUSH_ITEM_DATA < 1u << XF_PUSH_ITEM_DEC_SHIFT,
               "items[] record: the item bits, DATA and the decision do not overlap");

/** An items[] record of a DECISION. */
static inline uint16_t
xf_push_item(uint8_t decision, uint16_t items)
{
	return (uint16_t)((uint16_t)decision << XF_PUSH_ITEM_DEC_SHIFT | (items & XF_ITEM_ALL));
}

/**
 * The record of cfg.deleted at *off (0 for the first), *off moved past it.
 * @return false at the end (off reached len) or on a record that does not fit.
 */
static inline bool
xf_push_deleted_next(const uint8_t *buf, size_t len, size_t *off, const char **path,
                     uint16_t *path_len, bool *dir)
{
	uint16_t n;

	if (*off + 3 > len) {
		return false;
	}
	n = (uint16_t)(buf[*off + 1] << 8 | buf[*off + 2]);
	if (*off + 3 + n > len) {
		return false;
	}
	*dir = buf[*off] != 0;
	*path = (const char *)buf + *off + 3;
	*path_len = n;
	*off += 3u + n;
	return true;
}

/** The HELLO flags a session with cfg sends (bound into the handshake's prologue). */
uint32_t xf_push_hello_flags(const struct xf_push_cfg *cfg);

/** Free the session and every frame it still holds. NULL is a no-op. */
void xf_push_destroy(struct xf_push *p);

/**
 * A frame from the peer (already decoded, session id checked by the caller).
 * @param bytes Its UDP payload length as it crossed (sealed: with its tag), for the wire
 *              counters.
 */
void xf_push_on_frame(struct xf_push *p, const struct xf_msg *msg, uint32_t bytes, uint64_t now);

/** A read result from the reader; the session takes the frame. */
void xf_push_on_read(struct xf_push *p, const struct xf_push_read *rd, uint64_t now);

/**
 * Do what is due: (re)send frames, FLIST under credit, FILE_END, ACKs, timers, pacing.
 * @return true if it did anything (busy), false if idle.
 */
bool xf_push_poll(struct xf_push *p, uint64_t now);

/**
 * Whether the push, right after xf_push_poll(), can do nothing more until a frame of the
 * peer's comes: running (or closing), no read outstanding at the reader, no DELTA op
 * waiting for a frame, no file waiting for a reading slot, and nothing queued that it
 * may send (the queues are empty, or the window is full: the next ACK or COMMIT opens
 * it). Not when a frame waits only for the pacer or the I/O layer, nor during the
 * handshake (the handshake thread answers). The engine's idle back-off skips its spin
 * then: what ends the wait is the peer's, tens of microseconds or more away.
 */
bool xf_push_waits_peer(const struct xf_push *p);

/** When xf_push_poll() must next run if nothing arrives (ns), or XF_RELIAB_NEVER. */
uint64_t xf_push_next_deadline(const struct xf_push *p);

/** Cancel: send ABORT(code) and end. */
void xf_push_abort(struct xf_push *p, uint16_t code, uint64_t now);

void xf_push_stats(const struct xf_push *p, struct xf_push_stats *st);

/** Does the session's reader compress its DATA literals (stats.zip_on)? What the read
 *  requests say, from the HELLO_ACK on (none is asked before it). */
bool xf_push_zip(const struct xf_push *p);

/** The text of the peer's ABORT, if one came (printable ASCII), else "". */
const char *xf_push_peer_abort_msg(const struct xf_push *p);

/** The reliability engine's counters (RTT, losses). */
void xf_push_reliab_stats(const struct xf_push *p, struct xf_reliab_stats *st);

#endif /* XF_PUSH_H */
