/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-session reliability engine (docs/RELIABILITY.md): packet numbers, the sent-frame
 * table, ACK processing, RTT estimation, loss detection and probe timeouts as in RFC 9002;
 * received packet numbers, duplicate suppression and ACK generation; a pacer; keep-alive
 * and idle timers.
 *
 * Pure C: no EAL, no I/O, no allocation after xf_reliab_create(), no locks. Time is
 * passed in as nanoseconds on any monotonic clock, so the engine is deterministic. One
 * session's engine is owned by the one RX core that owns the session.
 */
#ifndef XF_RELIAB_H
#define XF_RELIAB_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_cc.h"
#include "xf_proto.h"

/** Packet threshold of loss detection (RFC 9002 kPacketThreshold). */
#define XF_RELIAB_PKT_THRESHOLD 3u
/** Timer granularity: floor of the loss delay and of 4 x rttvar in the PTO (1 ms). */
#define XF_RELIAB_GRANULARITY_NS 1000000ull
/** Default max_ack_delay, both the delay we promise and the one we assume of the peer. */
#define XF_RELIAB_MAX_ACK_DELAY_NS 1000000ull
/** Default RTT before the first sample (RFC 9002 kInitialRtt). */
#define XF_RELIAB_INITIAL_RTT_NS 333000000ull
/** Default sent-frame table slots (tracked frames in flight). */
#define XF_RELIAB_DEFAULT_SLOTS 4096u
/**
 * Default receive window (packet numbers): twice the peer's table. The peer numbers a
 * tracked frame at most its tx_slots above our largest accepted number plus the
 * untracked numbers (probes, ACKs) it lost since; the second half of the window is for
 * those, so that a session recovers from an outage (docs/RELIABILITY.md,
 * "Packet-number window").
 */
#define XF_RELIAB_DEFAULT_WINDOW (2u * XF_RELIAB_DEFAULT_SLOTS)
/** Default pacer burst, in full frames. */
#define XF_RELIAB_DEFAULT_BURST 4u
/**
 * Probes a probe timeout asks for (RFC 9002 6.2.4: one or two). Before anything was
 * acknowledged (the handshake) it declares this many oldest frames lost instead.
 */
#define XF_RELIAB_PTO_FRAMES 2u
/** Ack-eliciting frames received before an ACK is sent at once. */
#define XF_RELIAB_ACK_EVERY 2u
/** Bound of initial_pn: numbers stay far from wrapping around 2^64. */
#define XF_RELIAB_PN_LIMIT (1ull << 62)
/** Deadline value meaning "no deadline". */
#define XF_RELIAB_NEVER UINT64_MAX

/** xf_reliab_on_sent() flags. */
#define XF_RELIAB_F_ACK_ELICITING 0x1u /**< the peer must acknowledge it; tracked */
#define XF_RELIAB_F_RETRANSMIT    0x2u /**< same content as a frame declared lost */
/** A probe asked for by xf_reliab_probes_due(): ack-eliciting on the wire (a PING),
 *  untracked here unless XF_RELIAB_F_ACK_ELICITING is given too. */
#define XF_RELIAB_F_PROBE 0x4u

/** A tracked (ack-eliciting) frame, as the callbacks see it. */
struct xf_reliab_sent {
	uint64_t pn;        /**< packet number it was sent under */
	uint64_t time_sent; /**< ns */
	void *handle;       /**< caller's frame, e.g. an mbuf; opaque to the engine */
	uint64_t tag;       /**< caller's tag (file index, kind...) */
	uint32_t bytes;     /**< bytes on the wire, for bytes in flight and pacing */
	uint8_t state;      /**< private */
	uint8_t flags;      /**< XF_RELIAB_F_* given at send */
};

/**
 * Called for each tracked frame acknowledged (ownership of the handle returns to the
 * caller, which frees it), declared lost (ownership returns; the caller re-sends the
 * same content under a new packet number, or drops it if the content is no longer
 * needed), or acknowledged after it was declared lost (spurious; the handle was already
 * given back, so it is informational only and must not be dereferenced).
 * The callback must not call into the same engine; it queues work instead.
 */
typedef void (*xf_reliab_frame_fn)(void *arg, const struct xf_reliab_sent *frame);

/** Engine configuration; a zero field takes the default named beside it. */
struct xf_reliab_cfg {
	uint32_t tx_slots;              /**< sent-frame table at the start, power of two
	                                     (XF_RELIAB_DEFAULT_SLOTS) */
	uint32_t tx_slots_max;          /**< the table grows up to this (power of two >= tx_slots;
	                                     0 = tx_slots: no growth): to 2 x the measured BDP in
	                                     full frames. Allocated at create, never later */
	uint32_t rx_window;             /**< received-pn window, power of two >= 64; should be >=
	                                     2 x the peer's tx_slots_max (default: 2 x our own
	                                     tx_slots_max, XF_RELIAB_DEFAULT_WINDOW without growth) */
	uint64_t max_ack_delay_ns;      /**< XF_RELIAB_MAX_ACK_DELAY_NS */
	uint64_t initial_rtt_ns;        /**< XF_RELIAB_INITIAL_RTT_NS */
	uint64_t pace_rate;             /**< bytes per second; 0 = unpaced (no default). With a
	                                     congestion controller, the ceiling of its rate (0 =
	                                     none: the NIC's speed) */
	uint32_t pace_burst;            /**< frames (XF_RELIAB_DEFAULT_BURST) */
	uint32_t pace_frame_bytes;      /**< bytes of a full frame (XF_PAYLOAD_MAX) */
	uint64_t keepalive_ns;          /**< silence before a PING; 0 = never (no default) */
	uint64_t idle_timeout_ns;       /**< silence from the peer before abort; 0 = never */
	uint8_t congestion;             /**< enum xf_cc_algo; XF_CC_FIXED (0) paces at pace_rate
	                                     with no window but the table */
	uint64_t cc_seed;               /**< seed of the controller's randomised probing */
	uint64_t initial_pn;            /**< first packet number sent, < XF_RELIAB_PN_LIMIT: 0 for
	                                     the initiator, random for the responder (the proof
	                                     that the initiator got the HELLO_ACK is its ACK of that
	                                     number: docs/PROTOCOL.md 6.1) */
	xf_reliab_frame_fn on_acked;    /**< may be NULL */
	xf_reliab_frame_fn on_lost;     /**< may be NULL */
	xf_reliab_frame_fn on_spurious; /**< may be NULL */
	void *cb_arg;                   /**< first argument of the callbacks */
};

/** Counters and RTT figures of one engine. */
struct xf_reliab_stats {
	uint64_t sent;            /**< frames sent, every kind */
	uint64_t sent_tracked;    /**< ack-eliciting frames sent */
	uint64_t acked;           /**< tracked frames acknowledged (not counting spurious) */
	uint64_t lost;            /**< tracked frames declared lost (thresholds and PTO) */
	uint64_t retransmitted;   /**< frames sent with XF_RELIAB_F_RETRANSMIT */
	uint64_t spurious;        /**< frames acknowledged after being declared lost */
	uint64_t pto;             /**< probe timeouts fired */
	uint64_t probes;          /**< probe frames sent (XF_RELIAB_F_PROBE) */
	uint64_t received;        /**< frames accepted (new packet numbers) */
	uint64_t duplicates;      /**< frames dropped as duplicates */
	uint64_t pn_ahead;        /**< frames dropped: numbered beyond the receive window */
	uint64_t acks_sent;       /**< ACK frames reported by xf_reliab_ack_sent() */
	uint64_t acks_received;   /**< ACK frames processed */
	uint64_t bytes_in_flight; /**< bytes of tracked frames neither acked nor lost */
	uint32_t in_flight;       /**< tracked frames neither acked nor lost */
	uint32_t tx_window;       /**< sent-frame table in use now (tx_slots .. tx_slots_max) */
	uint32_t pto_backoff;     /**< consecutive PTOs (the exponent of the backoff) */
	uint32_t pto_backoff_max; /**< the most consecutive PTOs so far: how far the timer
	                               backed off before an ACK answered */
	uint64_t rx_missing;      /**< the peer's numbers skipped and not (yet) received:
	                               its frames lost on the way, ACKs included, less those
	                               that arrived late (reordered) */
	uint64_t latest_rtt_ns;   /**< 0 before the first sample */
	uint64_t min_rtt_ns;      /**< 0 before the first sample */
	uint64_t smoothed_rtt_ns; /**< initial_rtt before the first sample */
	uint64_t rttvar_ns;       /**< initial_rtt / 2 before the first sample */
	struct xf_cc_info cc;     /**< the congestion controller now (xferctl sessions) */
};

struct xf_reliab;

/**
 * Create an engine; the only allocation it ever makes.
 *
 * @param cfg Configuration; copied.
 * @param now Current time (ns): start of the keep-alive and idle timers.
 * @return The engine, or NULL with errno EINVAL (a size not a power of two, rx_window
 *         below 64, pace_burst x pace_frame_bytes overflowing, initial_pn not below
 *         XF_RELIAB_PN_LIMIT) or ENOMEM.
 */
struct xf_reliab *xf_reliab_create(const struct xf_reliab_cfg *cfg, uint64_t now);

/**
 * Give back every tracked frame still in flight, once each, through fn (for teardown:
 * the caller frees them). The engine must not be used for sending afterwards.
 */
void xf_reliab_drain(struct xf_reliab *r, xf_reliab_frame_fn fn, void *arg);

/** Free an engine. Handles still in flight are not touched (the caller owns them). NULL ok. */
void xf_reliab_destroy(struct xf_reliab *r);

/* --- Sender side ---------------------------------------------------------------- */

/**
 * @return The packet number the next xf_reliab_on_sent() will assign, for the header.
 */
uint64_t xf_reliab_next_pn(const struct xf_reliab *r);

/**
 * @return true when an ack-eliciting frame may be sent now: the sent-frame table has a
 *         free slot for the next packet number and the bytes in flight are below the
 *         congestion window. Non-eliciting frames can always be sent.
 */
bool xf_reliab_can_send(const struct xf_reliab *r);

/**
 * Record a frame handed to the NIC under xf_reliab_next_pn(), and consume pacing credit.
 *
 * @param r      Engine.
 * @param now    Send time (ns).
 * @param bytes  Bytes on the wire.
 * @param handle Caller's frame, returned by the callbacks (tracked frames only).
 * @param tag    Caller's tag, returned by the callbacks.
 * @param flags  XF_RELIAB_F_*. Without XF_RELIAB_F_ACK_ELICITING the frame only takes a
 *               packet number: it is neither tracked nor retransmitted.
 * @param pn     Set to the packet number used; may be NULL.
 * @return 0; -ENOBUFS if the frame is ack-eliciting and xf_reliab_can_send() is false
 *         (nothing recorded, no number consumed).
 */
int xf_reliab_on_sent(struct xf_reliab *r, uint64_t now, uint32_t bytes, void *handle, uint64_t tag,
                      unsigned int flags, uint64_t *pn);

/**
 * Process a received ACK: acknowledge frames, take an RTT sample, detect losses. Calls
 * on_acked and on_spurious range by range, then on_lost for the frames loss detection
 * declares lost. A frame reported lost is never reported acked later (only spurious).
 *
 * @param r            Engine.
 * @param now          Receive time (ns).
 * @param largest      Largest acknowledged packet number (== ranges[0].last).
 * @param ack_delay_us Peer's delay between receiving largest and sending the ACK.
 * @param ranges       Ranges, descending, disjoint and not adjacent, first <= last.
 * @param count        Number of ranges, 1..XF_ACK_RANGES.
 * @return 0; -EINVAL for malformed ranges; -EPROTO if a range acknowledges a number never
 *         sent (the peer broke the protocol). On error nothing changed.
 */
int xf_reliab_on_ack(struct xf_reliab *r, uint64_t now, uint64_t largest, uint32_t ack_delay_us,
                     const struct xf_ack_range *ranges, unsigned int count);

/**
 * @return When xf_reliab_on_timeout() must next run for the sender side: the earliest
 *         time-threshold loss, else the probe timeout while frames are in flight, else
 *         XF_RELIAB_NEVER.
 */
uint64_t xf_reliab_loss_deadline(const struct xf_reliab *r);

/**
 * Fire the sender's timer if it is due: declare time-threshold losses, or on a probe
 * timeout ask for XF_RELIAB_PTO_FRAMES probes (xf_reliab_probes_due()), make our ACK due
 * at once if anything was received (it goes out with the probes), and double the next
 * timeout until an ACK newly acknowledges a frame or the last probe. A probe timeout
 * declares nothing lost: the frames in flight may only be waiting in a slow receiver's
 * queue, and the probe's ACK settles which are lost. Only before the first
 * acknowledgement (nothing could answer a probe yet) does it declare the
 * XF_RELIAB_PTO_FRAMES oldest frames lost, calling on_lost for each.
 *
 * @return Frames declared lost (0 if the timer was not due or it asked for probes).
 */
unsigned int xf_reliab_on_timeout(struct xf_reliab *r, uint64_t now);

/**
 * @return Probes due now: the caller sends that many small ack-eliciting frames that
 *         carry no data (PING, with XF_HDR_F_ACKNOW), each recorded with
 *         xf_reliab_on_sent(..., XF_RELIAB_F_PROBE, ...). The next deadline stays "now"
 *         while any is due.
 */
unsigned int xf_reliab_probes_due(const struct xf_reliab *r);

/** @return Bytes of tracked frames neither acknowledged nor declared lost. */
uint64_t xf_reliab_bytes_in_flight(const struct xf_reliab *r);

/* --- Receiver side -------------------------------------------------------------- */

/**
 * Classify a received, well-formed frame by packet number, before it is processed.
 * Nothing here restarts the idle timer: only xf_reliab_rx_accept() does, so a peer (or
 * anyone spoofing it) that replays old frames does not keep a session alive. A
 * duplicate is counted and, if ack-eliciting, makes an ACK due at once (our previous ACK
 * may have been lost). Once a number was accepted, a number more than rx_window above
 * the largest accepted one is refused and counted (pn_ahead): accepting it would slide
 * the window past numbers the peer has not sent yet and make them duplicates (one
 * spoofed frame numbered 2^64-1 would silence the session). The first number is free.
 *
 * @param r             Engine.
 * @param now           Receive time (ns).
 * @param pn            The frame's packet number.
 * @param ack_eliciting The frame needs an acknowledgement.
 * @return 0 for a new number (process the frame, then xf_reliab_rx_accept()); -EALREADY
 *         for a duplicate or a number below the window, -ERANGE for a number too far
 *         ahead (drop it, unacknowledged).
 */
int xf_reliab_rx_filter(struct xf_reliab *r, uint64_t now, uint64_t pn, bool ack_eliciting);

/**
 * Record that a new frame was accepted (its work enqueued), so that it is acknowledged
 * and later copies are duplicates. A frame dropped for lack of room is not accepted and
 * the peer will retransmit it. Accepting a number already seen does nothing.
 *
 * @param r             Engine.
 * @param now           Receive time (ns), for ack_delay and the ACK deadline.
 * @param pn            Packet number that xf_reliab_rx_filter() returned 0 for.
 * @param ack_eliciting The frame needs an acknowledgement.
 */
void xf_reliab_rx_accept(struct xf_reliab *r, uint64_t now, uint64_t pn, bool ack_eliciting);

/**
 * @return When an ACK must be sent: 0 if at once (2 ack-eliciting frames unacknowledged,
 *         out-of-order arrival or a duplicate), the first unacknowledged frame's time plus
 *         max_ack_delay, or XF_RELIAB_NEVER if nothing needs acknowledging.
 */
uint64_t xf_reliab_ack_deadline(const struct xf_reliab *r);

/**
 * Build the ACK contents: ranges of accepted packet numbers, most recent first.
 *
 * @param r            Engine.
 * @param now          Time the ACK is sent (ns), for ack_delay.
 * @param ranges       Output, room for XF_ACK_RANGES; descending, with gaps. Numbers
 *                     older than the window are never reported.
 * @param largest      Set to ranges[0].last.
 * @param ack_delay_us Set to the time since largest was received, in us (saturated).
 * @return Ranges written; 0 if nothing was ever accepted (send no ACK).
 */
unsigned int xf_reliab_ack_build(const struct xf_reliab *r, uint64_t now,
                                 struct xf_ack_range *ranges, uint64_t *largest,
                                 uint32_t *ack_delay_us);

/** Make an ACK due at once: the peer asked for it (XF_HDR_F_ACKNOW). */
void xf_reliab_ack_now(struct xf_reliab *r);

/** Record that the ACK built last was sent: the ACK schedule restarts. */
void xf_reliab_ack_sent(struct xf_reliab *r);

/* --- Pacer ------------------------------------------------------------------------ */

/**
 * @param r     Engine.
 * @param now   Current time (ns).
 * @param bytes Size of the frame to send.
 * @return The earliest time (>= now) the frame may be sent; now when unpaced.
 */
uint64_t xf_reliab_pace_next(const struct xf_reliab *r, uint64_t now, uint32_t bytes);

/**
 * Change the pacing rate at run time (with a congestion controller: its ceiling, 0 =
 * none); credit earned so far is kept (as bytes, capped by the new burst).
 *
 * @param r           Engine.
 * @param now         Current time (ns).
 * @param rate        Bytes per second; 0 = unpaced.
 * @param burst       Frames of burst; 0 = XF_RELIAB_DEFAULT_BURST.
 * @param frame_bytes Bytes of a full frame; 0 = XF_PAYLOAD_MAX.
 * @return 0; -EINVAL if burst x frame_bytes overflows.
 */
int xf_reliab_pace_set(struct xf_reliab *r, uint64_t now, uint64_t rate, uint32_t burst,
                       uint32_t frame_bytes);

/* --- Congestion control ---------------------------------------------------------- */

/**
 * Tell the controller the sender has nothing to send although the window and the pacer
 * would let it: the delivery-rate samples of what is in flight are app-limited (they
 * measure the sender, not the path). Call it when the send queue runs empty.
 */
void xf_reliab_app_limited(struct xf_reliab *r);

/** Fill info with the controller's state (xferctl sessions, telemetry). */
void xf_reliab_cc_info(const struct xf_reliab *r, struct xf_cc_info *info);

/* --- Session timers --------------------------------------------------------------- */

/** @return true when nothing was sent for keepalive_ns: send a PING (the peer's idle
 *  timer hears only what we send; what we receive does not put it off). Sending anything
 *  restarts the interval. */
bool xf_reliab_keepalive_due(const struct xf_reliab *r, uint64_t now);

/** @return true when nothing was received for idle_timeout_ns: abort (TIMEOUT). */
bool xf_reliab_idle_expired(const struct xf_reliab *r, uint64_t now);

/**
 * The same, counting the peer as heard at `since` too: a receiver that left the peer's
 * frames unread until then (its pipeline was behind) does not blame the peer for it.
 */
bool xf_reliab_idle_expired_since(const struct xf_reliab *r, uint64_t now, uint64_t since);

/**
 * @return The earliest of the loss deadline, the ACK deadline, the keep-alive time and
 *         the idle timeout, or XF_RELIAB_NEVER: when the owner must next look at this
 *         session if no frame arrives; 0 while a probe is due.
 */
uint64_t xf_reliab_next_deadline(const struct xf_reliab *r);

/** Fill stats with the engine's counters and RTT figures. */
void xf_reliab_stats(const struct xf_reliab *r, struct xf_reliab_stats *stats);

#endif /* XF_RELIAB_H */
