/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshakes off the RX core (docs/SECURITY.md 3), both roles. The responder's: an RX core that
 * admitted a HELLO (allowlist, mode, mac1, load, mac2: the cheap tests) copies it into a
 * fixed-size record and passes the record to the handshake thread, which runs the Noise
 * responder (X25519 and HKDF through OpenSSL, which allocates) and passes the record back
 * with message 2 and the keys, or a refusal. The RX core applies the results in the order
 * it asked (opens the session, sends the HELLO_ACK). The initiator's (a push's or a pull's
 * HELLO): the RX core asks for message 1, which the handshake thread makes but for its MACs
 * (xf_noise_initiate_noise; the RX core adds them on its jar and sends it), and, for a
 * HELLO_ACK whose message 2's mac1 it checked, for message 2 to be read against the job's
 * handshakes (xf_noise_response_finish); the keys come back in the record.
 *
 * One queue per RX core: XF_HS_QUEUE_LEN records, owned by the RX core except while in
 * flight, and two SP/SC rings of record indices (xf_ring.h): requests (RX core -> the
 * handshake thread) and results (back). A full queue refuses the HELLO (counted: `full`),
 * which bounds both the memory and the handshake thread's backlog. The handshake thread
 * reads nothing of the RX core's but the record: the peer's handshake state (its key, the
 * PSK and the last timestamp accepted) is copied into it, and the new timestamp comes back
 * in it, adopted by the RX core only if still newer than its own (a replay that was in
 * flight beside its original is refused then: xf_hs_rec_adopt).
 *
 * The records hold keys: the queue's memory is locked with the engine's other key memory
 * (xf_keylock.h) and a record is wiped when its result has been applied (xf_hs_queue_done).
 * Pure C, no EAL (the rings work without it), no allocation after xf_hs_queue_init.
 */
#ifndef XF_HS_QUEUE_H
#define XF_HS_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_hs_bell.h"
#include "xf_noise.h"
#include "xf_proto.h"

struct xf_ring;

/** Records per RX core: HELLOs admitted and not yet applied. A power of two. */
#define XF_HS_QUEUE_LEN 32u

/** Bytes of what a HELLO asks for, as a digest (xf_hs_ident). */
#define XF_HS_IDENT_LEN 32u

/** Handshakes a record of the initiator's message 2 tries, at most: the job's, and its
 *  earlier copies of message 1 (the engine's ENG_HELLO_FRESH_MAX). */
#define XF_HS_TRY_MAX 16u

/** What a record asks for. */
enum xf_hs_kind {
	/* The responder's: a HELLO received. */
	XF_HS_NEW = 1,   /**< a HELLO that opens a session */
	XF_HS_REKEY = 2, /**< a new handshake of a running session (rs, rs_gen) */
	/* The initiator's (a push or a pull), for a job (job, job_id, job_seq). */
	XF_HS_MSG1 = 3, /**< make message 1 but its MACs (xf_noise_initiate_noise) */
	XF_HS_MSG2 = 4, /**< read message 2 of a HELLO_ACK (xf_noise_response_finish) */
};

/** One HELLO handed off, and its answer. */
struct xf_hs_rec {
	/* The request, written by the RX core. */
	uint8_t kind;              /**< enum xf_hs_kind */
	uint16_t peer;             /**< allowlist slot of the source address */
	uint16_t rs;               /**< XF_HS_REKEY: the session's slot */
	uint32_t rs_gen;           /**< XF_HS_REKEY: that slot's generation */
	uint32_t ip;               /**< source address, network order */
	uint16_t port;             /**< source port, host order */
	uint8_t mac[6];            /**< Ethernet source (refusals go there) */
	uint64_t asked_ns;         /**< when the RX core passed it on */
	struct xf_hdr hdr;         /**< the HELLO's header */
	struct xf_msg_hello hello; /**< its body; dest and auth point below */
	union {
		/** Noise message 1, hello.auth_len bytes: received (XF_HS_NEW, XF_HS_REKEY),
		 *  or made (XF_HS_MSG1, its MACs zero) */
		uint8_t msg1[XF_NOISE_MSG1_MAX];
		/** XF_HS_MSG2: the HELLO_ACK, frame_len bytes, sealed (the RX core opens it
		 *  under the keys the answer brings) */
		uint8_t frame[XF_NOISE_MSG1_MAX];
	};
	struct xf_noise_peer npeer; /**< the peer's handshake state, a copy */
	/* The initiator's (XF_HS_MSG1, XF_HS_MSG2): what the engine needs to find the job
	 * again and tell a stale answer (the job ended, its slot taken by another, its
	 * handshake replaced meanwhile), opaque here. */
	uint8_t use;                  /**< what the engine will do with the answer */
	uint16_t job;                 /**< the job's slot */
	uint32_t job_id;              /**< the job's id */
	uint32_t job_seq;             /**< the job's handshake, by number */
	struct xf_noise_prologue pro; /**< XF_HS_MSG1: the prologue */
	uint64_t unix_ns;             /**< XF_HS_MSG1: message 1's timestamp */
	uint16_t frame_len;           /**< XF_HS_MSG2: bytes of frame */
	uint8_t n_try;                /**< XF_HS_MSG2: handshakes in ihs to try, in order */
	bool budget_short;            /**< XF_HS_MSG2: more to try, the budget spent */
	/** XF_HS_MSG2: the handshakes message 2 may answer (copies; their peer is npeer);
	 *  XF_HS_MSG1, the result: ihs[0], message 1's (its peer npeer, the RX core's to
	 *  repoint) */
	struct xf_noise_hs ihs[XF_HS_TRY_MAX];
	/* The result, written by the handshake thread. */
	int32_t rc;    /**< 0, or the responder's or the initiator's -errno */
	uint8_t tried; /**< XF_HS_MSG2: which of ihs message 2 answered */
	union {
		/** The destination field message 1 carried (XF_HELLO_F_SEALED_DEST): dest,
		 *  then any rules (hello.dest_len and rules_len say how they split) */
		char dest[XF_PATH_MAX];
		/** XF_HS_MSG1: message 1's payload, hello.auth_len - XF_NOISE_MSG1_LEN
		 *  bytes (the job's sealed block) */
		uint8_t payload[XF_NOISE_PAYLOAD_MAX];
	};
	/** What the HELLO asks for (xf_hs_ident of its fixed fields and that field): a new
	 *  handshake of a session must ask for what its first did (xf_hs_rec_same) */
	uint8_t ident[XF_HS_IDENT_LEN];
	uint8_t msg2[XF_NOISE_MSG2_LEN]; /**< message 2 for the HELLO_ACK (XF_HS_MSG2: to read) */
	struct xf_noise_keys keys;       /**< the session's traffic secrets */
};

/** A queue: one per RX core. Zero it, then xf_hs_queue_init. */
struct xf_hs_queue {
	struct xf_hs_rec rec[XF_HS_QUEUE_LEN];
	struct xf_ring *req;     /**< record indices, RX core -> handshake thread */
	struct xf_ring *res;     /**< record indices, handshake thread -> RX core */
	unsigned int head;       /**< RX core: the oldest record in flight */
	unsigned int n;          /**< RX core: records in flight */
	uint64_t full;           /**< RX core: requests refused, the queue full (both roles) */
	struct xf_hs_bell *bell; /**< rung at each submit (NULL: none) */
};

/**
 * Make the queue's rings. @param rx_core the RX core's id (xf_core_self), @param hs_core
 * the handshake thread's, @param bell rung at each xf_hs_queue_submit (the handshake
 * thread's doorbell, shared by every RX core's queue; NULL: the thread polls).
 * @return 0, or -errno (ENOMEM).
 */
int xf_hs_queue_init(struct xf_hs_queue *q, const char *name, unsigned int rx_core,
                     unsigned int hs_core, struct xf_hs_bell *bell);

/** Free the rings and wipe every record (a queue never initialised is fine). */
void xf_hs_queue_fini(struct xf_hs_queue *q);

/**
 * RX core: a free record for a HELLO, filled from it: the header and body (message 1
 * copied: the record does not point into the frame) and the peer's state. @return the
 * record, to pass on with xf_hs_queue_submit, or NULL: the queue is full (counted in q->full) or
 * the HELLO is not one a record holds (no message 1, a destination field in clear): the HELLO is
 * dropped.
 */
struct xf_hs_rec *xf_hs_queue_fill(struct xf_hs_queue *q, enum xf_hs_kind kind,
                                   const struct xf_msg *hello, const struct xf_noise_peer *npeer,
                                   uint16_t peer, uint32_t ip, uint16_t port, const uint8_t *mac,
                                   uint64_t now_ns);

/**
 * RX core, the initiator's side: a free record asking for message 1 (XF_HS_MSG1) to peer
 * (its key; a copy) under pro, from local_index (the job's session id) at unix_ns, its
 * payload payload_len bytes (at most XF_NOISE_PAYLOAD_MAX). Set use, job, job_id and
 * job_seq, then xf_hs_queue_submit. @return the record, or NULL: the queue is full
 * (counted in q->full) or payload_len too long.
 */
struct xf_hs_rec *xf_hs_queue_fill_msg1(struct xf_hs_queue *q, const struct xf_noise_peer *npeer,
                                        const struct xf_noise_prologue *pro, uint32_t local_index,
                                        uint64_t unix_ns, const uint8_t *payload,
                                        size_t payload_len, uint64_t now_ns);

/**
 * RX core, the initiator's side: a free record asking that message 2 (at msg2_off of the
 * HELLO_ACK frame, frame_len bytes, copied) be read against the handshakes *hs[0..n) in
 * turn (copied; n at most XF_HS_TRY_MAX; their peer is npeer's copy, which holds the
 * PSK), after xf_noise_response_check passed on the RX core. Set use, job, job_id,
 * job_seq and budget_short, then xf_hs_queue_submit. @return the record, or NULL: the
 * queue is full (counted in q->full) or the arguments do not fit.
 */
struct xf_hs_rec *xf_hs_queue_fill_msg2(struct xf_hs_queue *q, const struct xf_noise_hs *const *hs,
                                        unsigned int n, const struct xf_noise_peer *npeer,
                                        const uint8_t *frame, size_t frame_len, size_t msg2_off,
                                        uint64_t now_ns);

/**
 * The handshake thread, the initiator's records: XF_HS_MSG1 makes message 1 but its MACs
 * into msg1 and its handshake into ihs[0]; XF_HS_MSG2 reads message 2 against ihs[0..n_try)
 * in turn, the first that opens it giving keys (tried says which), and wipes them all.
 * Sets r->rc. @return r->rc.
 */
int xf_hs_initiate(struct xf_hs_rec *r, const struct xf_noise_static *local);

/**
 * RX core: is a HELLO of this session (id, source address and port) with the handshake
 * thread, not yet applied? Reads only fields the handshake thread does not write.
 */
bool xf_hs_queue_pending(const struct xf_hs_queue *q, uint32_t session, uint32_t ip, uint16_t port);

/** RX core: pass the record xf_hs_queue_fill returned to the handshake thread (and ring
 *  its bell). */
void xf_hs_queue_submit(struct xf_hs_queue *q, struct xf_hs_rec *r);

/**
 * The handshake thread: answer up to max requests, in order (xf_hs_respond, or
 * xf_hs_initiate for the initiator's), and pass each back. @return how many.
 */
unsigned int xf_hs_queue_serve(struct xf_hs_queue *q, const struct xf_noise_static *local,
                               unsigned int max);

/** RX core: the oldest answered record, or NULL. Apply it, then xf_hs_queue_done. */
struct xf_hs_rec *xf_hs_queue_result(struct xf_hs_queue *q);

/** RX core: wipe the record (its keys) and free it. */
void xf_hs_queue_done(struct xf_hs_queue *q, struct xf_hs_rec *r);

/**
 * The Noise responder on a record: message 1 against the record's peer (another key:
 * -ENOKEY; a timestamp not above the copy's: -EALREADY; its payload changed: -EBADMSG),
 * the initiator's index equal to the HELLO's session id (else -EBADMSG), the destination
 * field of its payload read into r->dest (xf_proto_hello_field; not of that form:
 * -EPROTO) and its digest into r->ident (xf_hs_ident), then message 2 and the keys. Sets
 * r->rc. @return r->rc.
 */
int xf_hs_respond(struct xf_hs_rec *r, const struct xf_noise_static *local);

/**
 * RX core: take an answered record's timestamp into the peer's state, if the peer is the
 * one the record was made for (same public key: a reload may have re-keyed it) and the
 * timestamp is still newer (a copy of the same message 1 answered meanwhile is a replay).
 * @return 0 (adopted), -ENOKEY (the peer changed), -EALREADY (not newer).
 */
int xf_hs_rec_adopt(const struct xf_hs_rec *r, struct xf_noise_peer *npeer);

/**
 * RX core: is an answered XF_HS_REKEY record still for the session in its slot? The slot
 * must be in use, by a session opened as many times over as when the record was made
 * (slot_gen: a slot freed and taken again by another session has moved on) and with the
 * record's session id. @return true (apply it), false (stale: drop it).
 */
bool xf_hs_rec_current(const struct xf_hs_rec *r, bool slot_used, uint32_t slot_gen,
                       uint32_t slot_session);

/**
 * RX core: is an answered initiator record (XF_HS_MSG1, XF_HS_MSG2) still for the job in
 * its slot? The slot must still hold a job of this core's (slot_held: a job cancelled or
 * ended meanwhile has left it, and the control thread may have given the slot to
 * another), with the record's job id (another job in the same slot has another), and,
 * with seq_matters (a new handshake's answer), the job's handshake the one the record
 * was made for (job_seq: a later message 1 replaced it). @return true (apply it), false
 * (stale: drop it).
 */
bool xf_hs_rec_for_job(const struct xf_hs_rec *r, bool slot_held, uint32_t job_id, uint32_t job_seq,
                       bool seq_matters);

/**
 * What a HELLO asks for, as a digest: SHA-256 of its flags (all 32 bits), max_payload,
 * window (the deletion limit) and its destination field (field_len bytes: the
 * destination, the volume it names, a NUL and the filter rules, or a pull's request).
 * Two HELLOs of one session ask for the same thing exactly when their digests are equal.
 * @return 0, or -EIO (OpenSSL failed; out is zeroed, which no digest equals in practice).
 */
int xf_hs_ident(const struct xf_msg_hello *h, const char *field, size_t field_len,
                uint8_t out[XF_HS_IDENT_LEN]);

/**
 * RX core: does an answered record ask for what ident (the session's first handshake's
 * r->ident) says? A new handshake of a running session that names another destination,
 * volume, rules, flags or limit does not (docs/PROTOCOL.md 6.13): it is refused.
 * Constant time. @return true (the same), false.
 */
bool xf_hs_rec_same(const struct xf_hs_rec *r, const uint8_t ident[XF_HS_IDENT_LEN]);

/** The HELLO a record holds, with dest (the field message 1 carried, once answered)
 *  and auth pointing into the record. */
void xf_hs_rec_hello(const struct xf_hs_rec *r, struct xf_msg *out);

/** The prologue a HELLO binds (docs/SECURITY.md 8.1). */
void xf_hs_prologue(struct xf_noise_prologue *pro, uint32_t hello_flags, uint16_t max_payload,
                    uint32_t hello_window);

#endif /* XF_HS_QUEUE_H */
