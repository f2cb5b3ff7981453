/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sessions an RX core serves (we are the receiver): reliability around the
 * pipeline's receive session, from the HELLO that opens one to its end. Every file
 * system call of theirs runs on the workers, inside the pipeline.
 */
#include <errno.h>
#include <string.h>

#include <rte_random.h>

#include "xf_base.h"
#include "xf_dest.h"
#include "xf_engine_priv.h"
#include "xf_path.h"

#define MODULE "engine"

/* ---- sessions we serve (we are the receiver) ---- */

/*
 * An acknowledgement of a frame of ours. The first frame we send on a session is the
 * HELLO_ACK, under a random packet number, and nothing else is sent before the sender
 * acknowledges it: so any acknowledgement (or a late one, of a copy declared lost)
 * proves the sender received it (docs/PROTOCOL.md 6.1).
 */
/* The tag of a tracked frame of ours that carries the pipeline's DONE (rs_flush). */
#define RS_TAG_DONE 1u

static void
rs_on_acked(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;

	rs->confirmed = true;
	rs->done_acked |= s->tag == RS_TAG_DONE;
	rte_pktmbuf_free(s->handle);
}

static void
rs_on_spurious(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;

	/* the handle went back at on_lost */
	rs->confirmed = true;
	rs->done_acked |= s->tag == RS_TAG_DONE;
}

static void
rs_on_lost(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;
	struct rte_mbuf *m = s->handle;
	unsigned int at;

	/*
	 * To the front of the queue, to go out again under a new number, but behind the
	 * retransmissions already there: losses are declared in the order the frames were
	 * sent, and COMMITs are taken only in their seq order (docs/PROTOCOL.md 3.8). Each
	 * put at the very front reversed them, and the sender left all but the first of a
	 * run of lost COMMITs unacknowledged, one more loss round each.
	 */
	if (rs->txq_n == ENG_TXQ_MAX) {
		rte_pktmbuf_free(m); /* cannot happen: the queue holds what the table cannot */
		return;
	}
	rs->txq_head = (rs->txq_head + ENG_TXQ_MAX - 1) % ENG_TXQ_MAX;
	for (unsigned int i = 0; i < rs->txq_rtx; i++) {
		unsigned int to = (rs->txq_head + i) % ENG_TXQ_MAX;
		unsigned int from = (to + 1) % ENG_TXQ_MAX;

		rs->txq[to] = rs->txq[from];
		rs->txq_len[to] = rs->txq_len[from];
	}
	at = (rs->txq_head + rs->txq_rtx) % ENG_TXQ_MAX;
	rs->txq[at] = m;
	rs->txq_len[at] = (uint16_t)s->bytes;
	rs->txq_n++;
	rs->txq_rtx++;
	rs->retransmits++;
	rs->rx->retransmits++; /* live in `stats`, not only once the session is reaped */
}

/* A frame of the session out to its peer: sealed first unless the lab mode is on. */
static void
rs_out(struct eng_rx *rx, struct eng_rsess *rs, struct rte_mbuf *m, uint16_t len)
{
	if (rx->e->aead && (m = eng_secure_tx(rx, &rs->sec, m, &len)) == NULL) {
		return;
	}
	eng_frame_out(rx, m, len, rs->peer_ip, rs->peer_port, 0);
}

/* Send queued frames while the reliability engine and the pacer allow. */
static bool
rs_flush(struct eng_rx *rx, struct eng_rsess *rs)
{
	bool busy = false;

	while (rs->txq_n > 0 && xf_reliab_can_send(rs->rel) && eng_tx_room(rx, 2) &&
	       xf_reliab_pace_next(rs->rel, rx->now, rs->txq_len[rs->txq_head]) <= rx->now) {
		struct rte_mbuf *m = rs->txq[rs->txq_head];
		uint16_t len = rs->txq_len[rs->txq_head];
		uint8_t *payload = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;

		xf_proto_set_pn(payload, xf_reliab_next_pn(rs->rel));
		rs->txq_head = (rs->txq_head + 1) % ENG_TXQ_MAX;
		rs->txq_n--;
		rs->txq_rtx -= rs->txq_rtx > 0;
		xf_reliab_on_sent(rs->rel, rx->now, len, m,
		                  payload[3] == XF_MSG_DONE ? RS_TAG_DONE : 0,
		                  XF_RELIAB_F_ACK_ELICITING, NULL);
		rte_mbuf_refcnt_update(m, 1);
		rs_out(rx, rs, m, len);
		busy = true;
	}
	/*
	 * Nothing left that the window would let go: the controller's samples measure how
	 * little we had to say, not the path, and must not lower its estimate (as the push
	 * does, xf_push.c transmit()). Unmarked, a receiver's BBR took its trickle of
	 * DECISION and COMMIT frames, a few KB/s, for the path's bandwidth and paced them
	 * at that.
	 */
	if (rs->txq_n == 0 && xf_reliab_can_send(rs->rel)) {
		xf_reliab_app_limited(rs->rel);
	}
	return busy;
}

/* The pipeline session's transmit callback: DECISION, COMMIT, DONE. */
static void
rs_tx(void *arg, const void *frame, unsigned int len)
{
	struct eng_rsess *rs = arg;
	struct eng_rx *rx = rs->rx;
	uint8_t *payload;
	struct rte_mbuf *m;
	unsigned int tail;

	if (rs->txq_n == ENG_TXQ_MAX || (m = eng_frame_new(rx, &payload)) == NULL) {
		/* The peer will not get this frame; the session ends by timeout. Counted per
		 * frame, logged once per session: never a log line per frame on an RX core. */
		rx->tx_full++;
		if (!rs->tx_dropped) {
			rs->tx_dropped = true;
			XF_LOG(WARNING, MODULE, "session %08x: transmit queue full, frames dropped",
			       rs->id);
		}
		return;
	}
	memcpy(payload, frame, len);
	/* The HELLO_ACK asks for its ACK at once: frames of the session wait for it. */
	xf_proto_set_flags(payload, ((const uint8_t *)frame)[3] == XF_MSG_HELLO_ACK
	                                    ? XF_HDR_F_REPLY | XF_HDR_F_ACKNOW
	                                    : XF_HDR_F_REPLY);
	tail = (rs->txq_head + rs->txq_n) % ENG_TXQ_MAX;
	rs->txq[tail] = m;
	rs->txq_len[tail] = (uint16_t)len;
	rs->txq_n++;
	rs_flush(rx, rs);
}

/* Room in the session's transmit queue: SIG frames leave some for control frames. */
static unsigned int
rs_tx_room(void *arg)
{
	const struct eng_rsess *rs = arg;

	return ENG_TXQ_MAX - rs->txq_n;
}

/* A small frame of ours: tracked (through the session's queue), else a probe. */
void
eng_rs_send(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg *msg, bool tracked)
{
	uint8_t *payload;
	struct rte_mbuf *m = eng_frame_new(rx, &payload);
	int len;

	if (m == NULL) {
		return;
	}
	len = xf_proto_encode(payload, rs->max_payload, msg);
	if (len < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (tracked) {
		rs_tx(rs, payload, (unsigned int)len); /* copies into a frame of its own */
		rte_pktmbuf_free(m);
		return;
	}
	xf_reliab_on_sent(rs->rel, rx->now, (uint32_t)len, NULL, 0, XF_RELIAB_F_PROBE, NULL);
	rs_out(rx, rs, m, (uint16_t)len);
}

/*
 * The probes a probe timeout asked for: PINGs the sender answers at once, carrying no
 * data, so a sender that was only slow never gets a frame of ours twice (the ACK of a
 * probe lets the thresholds settle what is in flight; docs/RELIABILITY.md).
 */
static bool
rs_send_probes(struct eng_rx *rx, struct eng_rsess *rs)
{
	bool busy = false;

	while (xf_reliab_probes_due(rs->rel) > 0 && eng_tx_room(rx, 2)) {
		struct xf_msg m = { .hdr = { .type = XF_MSG_PING,
			                     .flags = XF_HDR_F_REPLY | XF_HDR_F_ACKNOW,
			                     .session = rs->id,
			                     .pn = xf_reliab_next_pn(rs->rel) } };
		uint64_t sent = xf_reliab_next_pn(rs->rel);

		eng_rs_send(rx, rs, &m, false);
		if (xf_reliab_next_pn(rs->rel) == sent) {
			break; /* no mbuf: the next poll tries again */
		}
		busy = true;
	}
	return busy;
}

static void
rs_send_ack(struct eng_rx *rx, struct eng_rsess *rs)
{
	struct xf_ack_range ranges[XF_ACK_RANGES];
	struct xf_msg m = { .hdr = { .type = XF_MSG_ACK, .flags = XF_HDR_F_REPLY } };
	struct xf_proto_builder b;
	unsigned int n;
	uint64_t largest;
	uint32_t delay;
	uint8_t *payload;
	struct rte_mbuf *mb;
	int len;

	n = xf_reliab_ack_build(rs->rel, rx->now, ranges, &largest, &delay);
	if (n == 0 || (mb = eng_frame_new(rx, &payload)) == NULL) {
		return;
	}
	m.hdr.session = rs->id;
	m.hdr.pn = xf_reliab_next_pn(rs->rel);
	m.ack.largest = largest;
	m.ack.ack_delay_us = delay;
	len = xf_proto_build_begin(&b, payload, rs->max_payload, &m);
	for (unsigned int i = 0; len == 0 && i < n; i++) {
		if (xf_proto_build_ack(&b, &ranges[i]) < 0) {
			break;
		}
	}
	len = len == 0 ? xf_proto_build_finish(&b) : len;
	if (len <= 0) {
		rte_pktmbuf_free(mb);
		return;
	}
	xf_reliab_on_sent(rs->rel, rx->now, (uint32_t)len, NULL, 0, 0, NULL);
	xf_reliab_ack_sent(rs->rel);
	rs_out(rx, rs, mb, (uint16_t)len);
}

/*
 * End a session we serve. Our frames are given back; a session that did not finish is
 * aborted in the pipeline (workers drop its files and temps) and keeps its slot until
 * the pipeline says every worker has let go of it (eng_rs_poll frees it then).
 */
static void
rs_remember_ended(struct eng_rx *rx, const struct eng_rsess *rs)
{
	struct xf_engine_params par;
	struct eng_ended *x = &rx->ended[rx->ended_next];

	xf_engine_get_params(rx->e, &par);
	x->until = rx->now + (uint64_t)par.timeout_ms * 1000000ull;
	x->id = rs->id;
	x->ip = rs->peer_ip;
	x->port = rs->peer_port;
	rx->ended_next = (rx->ended_next + 1) % ENG_ENDED_MAX;
}

/* @return true if (id, ip, port) names a session that ended here within the timeout. */
static bool
rs_recently_ended(const struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port)
{
	for (unsigned int i = 0; i < ENG_ENDED_MAX; i++) {
		const struct eng_ended *x = &rx->ended[i];

		if (x->until > rx->now && x->id == id && x->ip == ip && x->port == port) {
			return true;
		}
	}
	return false;
}

void
eng_rs_end(struct eng_rx *rx, struct eng_rsess *rs, bool timed_out)
{
	while (rs->txq_n > 0) {
		rte_pktmbuf_free(rs->txq[rs->txq_head]);
		rs->txq_head = (rs->txq_head + 1) % ENG_TXQ_MAX;
		rs->txq_n--;
	}
	rs->txq_rtx = 0;
	xf_reliab_drain(rs->rel, rs_on_acked, rs); /* our frames still in flight */
	if (rs->ps != NULL && !xf_session_is_done(rs->ps)) {
		xf_session_abort(rs->ps);
	}
	rs->closing = true;
	rs_remember_ended(rx, rs);
	rx->timed_out += timed_out;
	XF_LOG(INFO, MODULE, "session %08x ended%s", rs->id, timed_out ? " (timeout)" : "");
}

/*
 * The ABORT(REFUSED) of a session whose destination we do not serve, with the reason in
 * its text (printable ASCII: what the sender's operator reads in `xferctl jobs`). Not
 * tracked: the sender stops on it and acknowledges nothing more, so it goes out again
 * for every frame the sender sends instead (eng_rs_input), one answer per frame.
 */
void
eng_rs_refuse(struct eng_rx *rx, struct eng_rsess *rs)
{
	struct xf_msg m = { .hdr = { .type = XF_MSG_ABORT,
		                     .flags = XF_HDR_F_REPLY,
		                     .session = rs->id,
		                     .pn = xf_reliab_next_pn(rs->rel) } };

	m.abort.code = XF_ABORT_REFUSED;
	m.abort.msg = rs->refuse_msg;
	m.abort.msg_len = (uint16_t)strlen(rs->refuse_msg);
	eng_rs_send(rx, rs, &m, false);
	rs->refuse_sent = true;
}

/*
 * Finished: DONE sent and acknowledged, with nothing left to send. A probe or keep-alive
 * of ours still unacknowledged is not waited for: the sender has every answer and closes
 * once it acknowledged our DONE, after which nobody would acknowledge it, and waiting
 * would hold the slot (and the peer's max_sessions_per_peer share) for the idle timeout,
 * refusing the sender's next job meanwhile.
 */
static bool
rs_finished(struct eng_rsess *rs)
{
	return rs->ps != NULL && xf_session_is_done(rs->ps) && rs->txq_n == 0 &&
	       (rs->done_acked || xf_reliab_bytes_in_flight(rs->rel) == 0);
}

static bool rs_reap(struct eng_rx *rx, struct eng_rsess *rs);

/*
 * Before a HELLO of peer pi is refused for want of a slot: end and free its sessions on
 * this core that have finished but were not polled yet. The ACK of a session's DONE and
 * the HELLO of the sender's next job often arrive in one burst, the HELLO read before
 * the poll that would free the first session's slot.
 */
static void
rs_reap_finished(struct eng_rx *rx, int pi)
{
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		struct eng_rsess *rs = &rx->rs[i];

		if (!rs->used || rs->peer != pi) {
			continue;
		}
		if (!rs->closing && rs_finished(rs)) {
			eng_rs_end(rx, rs, false);
		}
		if (rs->closing) {
			rs_reap(rx, rs);
		}
	}
}

/*
 * Publish what xferctl sessions shows of a session (live), or that it is gone: a seqlock
 * the control thread reads (xf_engine_rsessions). A few stores, every 100 ms at most.
 */
void
eng_rs_publish(struct eng_rx *rx, struct eng_rsess *rs, bool live)
{
	struct eng_rs_pub *p = &rx->rs_pub[rs - rx->rs];
	struct xf_engine_rsess_info *i = &p->info;

	rs->pub_ns = rx->now;
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
	p->live = live;
	i->id = rs->id;
	i->rx = rx->idx;
	i->peer = rs->peer;
	i->peer_ip = rs->peer_ip;
	i->peer_port = rs->peer_port;
	/* A pull session writes nothing either, but is refused only once judged so. */
	i->refused = rs->ps == NULL && (rs->pull == ENG_PULL_NONE || rs->pull == ENG_PULL_REFUSED);
	i->opened_ns = rs->opened_ns;
	if (live && rs->ps != NULL) {
		xf_session_counts(rs->ps, &i->files);
		i->done = xf_session_is_done(rs->ps);
	}
	i->keyed = live && rx->e->aead;
	if (i->keyed) {
		memcpy(i->peer_key, rx->npeers[rs->peer].pub, sizeof(i->peer_key));
		i->keys_born_ns = rs->sec.cur.born_ns;
		i->key_updates = xf_secure_sess_key_updates(&rs->sec);
		i->rekeys = rs->sec.rekeys;
	}
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
}

/* Free the slot once the pipeline has let go of the session. */
static bool
rs_reap(struct eng_rx *rx, struct eng_rsess *rs)
{
	if (rs->ps != NULL && !xf_session_is_done(rs->ps)) {
		return false;
	}
	eng_rs_publish(rx, rs, true); /* its final counts, while its pipeline session is here */
	if (rs->ps != NULL && xf_pipeline_session_close(rx->e->vol[rs->vol].pl, rs->ps) < 0) {
		return false;
	}
	rx->vol_sessions[rs->vol] -= rs->ps != NULL;
	xf_reliab_destroy(rs->rel);
	atomic_fetch_sub_explicit(&rx->e->peer_sessions[rs->peer], 1, memory_order_relaxed);
	rx->nrs--;
	rx->closed++;
	eng_rs_publish(rx, rs, false);
	xf_secure_sess_wipe(&rs->sec);
	memset(rs, 0, sizeof(*rs));
	return true;
}

bool
eng_rs_poll(struct eng_rx *rx, struct eng_rsess *rs)
{
	struct xf_reliab_stats rel;
	bool busy = false;

	if (rs->closing) {
		return rs_reap(rx, rs);
	}
	xf_reliab_stats(rs->rel, &rel);
	eng_neigh_watch(rx, &rs->nud, rs->peer_ip, &rel);
	if (rx->e->aead) {
		eng_secure_maintain(rx, &rs->sec);
	}
	if (rx->now - rs->pub_ns >= ENG_RS_PUB_NS) {
		eng_rs_publish(rx, rs, true);
	}
	/*
	 * While this core leaves frames in the NIC queue (our storage is behind, say a
	 * disk stalled behind its journal), the peer's frames are not read, so silence is
	 * ours, not the peer's: no idle expiry then, nor for a whole timeout after (the
	 * peer's frames of that time are read only now). And the ACK goes out again every
	 * keep-alive interval, so that the peer, which hears nothing else from us, does not
	 * time the session out (it did in CI after 10 s of a stalled commit step).
	 */
	if (eng_rx_held_back(rx)) {
		rs->held_ns = rx->now;
	} else if (xf_reliab_idle_expired_since(rs->rel, rx->now, rs->held_ns)) {
		eng_rs_end(rx, rs, true);
		return true;
	}
	busy |= xf_reliab_on_timeout(rs->rel, rx->now) > 0;
	busy |= rs_send_probes(rx, rs);
	busy |= rs_flush(rx, rs);
	if (rs->ack_now || xf_reliab_ack_deadline(rs->rel) <= rx->now ||
	    xf_reliab_keepalive_due(rs->rel, rx->now)) {
		rs_send_ack(rx, rs);
		rs->ack_now = false;
		busy = true;
	}
	if (rs->pull != ENG_PULL_NONE && rs->pull != ENG_PULL_REFUSED) {
		return eng_pull_rs_poll(rx, rs) || busy;
	}
	if (rs->ps == NULL) {
		/* Refused: the ABORT once the sender has shown it holds the HELLO_ACK; the
		 * session then lasts until the sender falls silent (the idle expiry above). */
		if (rs->confirmed && !rs->refuse_sent) {
			eng_rs_refuse(rx, rs);
			busy = true;
		}
		return busy;
	}
	if (rs_finished(rs)) {
		eng_rs_end(rx, rs, false);
		return true;
	}
	return busy;
}

/*
 * The allowlist changed and this session's peer was removed or changed (another address
 * or key: the session's keys were made with the old one): it ends, and the sender learns
 * why in an ABORT(REFUSED), sealed under the session's keys while they are still here.
 */
void
eng_rs_peer_gone(struct eng_rx *rx, struct eng_rsess *rs)
{
	snprintf(rs->refuse_msg, sizeof(rs->refuse_msg), "%s",
	         "the peer was removed or re-keyed by a reload");
	if (rs->confirmed) {
		eng_rs_refuse(rx, rs);
	}
	rx->peer_gone++;
	XF_LOG(NOTICE, MODULE, "session %08x: its peer was removed or re-keyed by a reload",
	       rs->id);
	eng_rs_end(rx, rs, false);
}

/*
 * A session we serve, by (peer address, peer port, session id): each initiator picks its
 * ids, so two peers (or two sockets of one) may pick the same one (docs/PROTOCOL.md 2).
 */
struct eng_rsess *
eng_rs_find(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port)
{
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		const struct eng_rsess *rs = &rx->rs[i];

		if (rs->used && !rs->closing && rs->id == id && rs->peer_ip == ip &&
		    rs->peer_port == port) {
			return &rx->rs[i];
		}
	}
	return NULL;
}

/* @return the slot of the peer with address ip in this core's allowlist, or -1. */
static int
peer_index(const struct eng_rx *rx, uint32_t ip)
{
	for (unsigned int i = 0; i < rx->n_peers; i++) {
		if (rx->peer_present[i] && rx->peers[i].ip == ip) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * Refuse a HELLO we will not serve (with AEAD: counted, never answered; with
 * session.security none: one unreliable HELLO_ACK with the reason), sent to
 * the Ethernet address the HELLO came from, never through ARP. The source address of a
 * refused HELLO is unproven (anyone on the link can write any), so it must not create
 * neighbour entries nor ARP requests: spoofed on-link sources would churn the table
 * and evict real peers. The frame's source MAC is the next hop the HELLO came through.
 */
static void
hello_refuse(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
             const struct rte_ether_addr *src_mac, uint16_t code)
{
	struct xf_net_flow flow = { .dst_mac = *src_mac, .dst_ip = ip, .dst_port = port };
	struct xf_msg a = { .hdr = { .type = XF_MSG_HELLO_ACK,
		                     .flags = XF_HDR_F_REPLY | XF_HDR_F_NOACK,
		                     .session = hello->hdr.session } };
	uint8_t *payload;
	struct rte_mbuf *m;
	int len;

	rx->hello_refused++;
	if (rx->e->aead) {
		/* Nothing is said in clear: a refusal nobody can authenticate would let anyone
		 * end a peer's handshake, and would answer strangers. Counted, not sent. */
		return;
	}
	m = eng_frame_new(rx, &payload);
	if (m == NULL) {
		return;
	}
	a.hello.min_version = a.hello.max_version = XF_PROTO_VERSION;
	a.hello.max_payload = XF_PAYLOAD_MIN;
	a.hello.status = code;
	a.hello.nonce = hello->hello.nonce;
	len = xf_proto_encode(payload, XF_PAYLOAD_MIN, &a);
	if (len < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	eng_frame_send(rx, m, (uint16_t)len, &flow);
}

/* Count a session of peer pi, unless it holds max_sessions_per_peer already. */
static bool
peer_take(struct xf_engine *e, int pi)
{
	atomic_uint *n = &e->peer_sessions[pi];
	unsigned int cur = atomic_load_explicit(n, memory_order_relaxed);

	do {
		if (cur >= e->conf.max_sessions_per_peer) {
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(n, &cur, cur + 1, memory_order_relaxed,
	                                                memory_order_relaxed));
	return true;
}

/*
 * The volume a HELLO's destination names (xf_dest.h) and, in *d, its parts (the path in
 * that volume is what --delete walks), or -1 with the reason, for the ABORT, in
 * rs->refuse_msg: printable ASCII (the name from the wire escaped), and our volumes'
 * names, which the sender's operator needs to write a destination we serve. A HELLO that
 * asks for owners (XF_HELLO_F_OWNER) into a volume that does not keep them is refused
 * so too (docs/PROTOCOL.md 6.17): a push never ends "done" without what it asked for.
 */
static int
rs_volume(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg_hello *h, struct xf_dest *d)
{
	const struct xf_engine *e = rx->e;
	char name[XF_PATH_ESCAPED_SIZE(XF_DEST_VOLUME_MAX)];
	size_t n;
	int v, rc = xf_dest_parse(h->dest, h->dest_len, h->flags, d);

	if (rc == 0 && (v = xf_dest_volume(d, e->vol_names, e->conf.n_volumes)) >= 0) {
		if ((h->flags & XF_HELLO_F_OWNER) == 0 || e->conf.volumes[v].keep_owner) {
			return v;
		}
		rx->volume_refused++;
		rx->owner_refused++;
		snprintf(rs->refuse_msg, sizeof(rs->refuse_msg),
		         "volume '%s' does not keep owners and groups (volumes[].keep_owner)",
		         e->vol_names[v]);
		return -1;
	}
	rx->volume_refused++;
	if (rc < 0) {
		snprintf(rs->refuse_msg, sizeof(rs->refuse_msg),
		         "destination refused: %s (a relative path without '.', '..' or empty "
		         "parts, in a volume named by at most %u bytes)",
		         rc == -ENAMETOOLONG ? "too long" : "malformed", XF_DEST_VOLUME_MAX);
		return -1;
	}
	/* Escaped into at most 64 bytes, so that the names of ours fit after it. */
	xf_path_escape(name, 64, d->volume, d->volume_len);
	n = (size_t)snprintf(rs->refuse_msg, sizeof(rs->refuse_msg),
	                     "no volume '%s' on this appliance; its volumes:", name);
	for (unsigned int i = 0; i < e->conf.n_volumes && n < sizeof(rs->refuse_msg); i++) {
		n += (size_t)snprintf(rs->refuse_msg + n, sizeof(rs->refuse_msg) - n, "%s %s",
		                      i > 0 ? "," : "", e->vol_names[i]);
	}
	return -1;
}

/*
 * A HELLO that opens a session: the tests that refuse it in clear (the allowlist, stopping,
 * the version). @return the peer's slot, or -1: refused (counted).
 */
static int
rs_hello_peer(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
              const struct rte_ether_addr *src_mac)
{
	int pi = peer_index(rx, ip);

	if (pi < 0) {
		rx->hello_not_allowed++;
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_REFUSED);
		return -1;
	}
	if (rx->stopping) {
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_SHUTDOWN);
		return -1;
	}
	if (hello->hello.min_version > XF_PROTO_VERSION ||
	    hello->hello.max_version < XF_PROTO_VERSION) {
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_VERSION);
		return -1;
	}
	return pi;
}

/*
 * A free session slot for peer pi (finished sessions of that peer are reaped first when
 * the core or the peer is at its limit), taken with the peer's share when take is set.
 * @return the slot, or NULL: refused BUSY (counted).
 */
static struct eng_rsess *
rs_slot(struct eng_rx *rx, int pi, bool take, const struct xf_msg *hello, uint32_t ip,
        uint16_t port, const struct rte_ether_addr *src_mac)
{
	struct xf_engine *e = rx->e;
	struct eng_rsess *rs = NULL;

	if (rx->nrs >= e->conf.max_sessions ||
	    atomic_load_explicit(&e->peer_sessions[pi], memory_order_relaxed) >=
	            e->conf.max_sessions_per_peer) {
		rs_reap_finished(rx, pi);
	}
	for (unsigned int i = 0; i < ENG_RSESS_MAX && rx->nrs < e->conf.max_sessions; i++) {
		if (!rx->rs[i].used) {
			rs = &rx->rs[i];
			break;
		}
	}
	if (rs == NULL) {
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_BUSY);
		return NULL;
	}
	if (take ? !peer_take(e, pi)
	         : atomic_load_explicit(&e->peer_sessions[pi], memory_order_relaxed) >=
	                    e->conf.max_sessions_per_peer) {
		rx->hello_peer_cap++;
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_BUSY);
		return NULL;
	}
	return rs;
}

/*
 * With AEAD, a HELLO that opens a session passes the RX core's tests (rs_hello_peer; mac1,
 * and under load mac2 or a cookie reply: a flood of HELLOs holds no slot and costs no
 * Diffie-Hellman work, docs/SECURITY.md 3; a slot free now), then goes to the handshake
 * thread (eng_secure_hs_submit): the session opens when its answer comes back
 * (eng_rs_open_keyed).
 */
static void
rs_hello_admit(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
               const struct rte_ether_addr *src_mac)
{
	int pi = rs_hello_peer(rx, hello, ip, port, src_mac);

	/* A copy of a HELLO whose answer is on its way (the push sends its first HELLO
	 * again, fresh, on a timer that can be shorter than the handshake thread's wait):
	 * that answer's HELLO_ACK will do for both, as a copy after it does (no DH). */
	if (pi >= 0 && xf_hs_queue_pending(&rx->hsq, hello->hdr.session, ip, port)) {
		rx->hs_in_flight++;
		return;
	}
	if (pi < 0 || eng_secure_hello_gate(rx, pi, hello, ip, port, src_mac) < 0 ||
	    rs_slot(rx, pi, false, hello, ip, port, src_mac) == NULL) {
		return;
	}
	(void)eng_secure_hs_submit(rx, XF_HS_NEW, pi, hello, ip, port, src_mac, NULL);
}

/*
 * Open a session for a HELLO: with AEAD, hs is the handshake thread's answer (message 2
 * and the keys, for the peer it names), without, NULL.
 */
static struct eng_rsess *
rs_open(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
        const struct rte_ether_addr *src_mac, const struct xf_hs_rec *hs)
{
	struct xf_engine *e = rx->e;
	struct xf_engine_params par;
	struct xf_reliab_cfg rc = {
		.keepalive_ns = 0, /* the sender keeps the session alive */
		.on_acked = rs_on_acked,
		.on_lost = rs_on_lost,
		.on_spurious = rs_on_spurious,
		/* Random, so that only a sender that got the HELLO_ACK can acknowledge it. */
		.initial_pn = rte_rand() & (XF_RELIAB_PN_LIMIT - 1),
	};
	struct eng_rsess *rs = NULL;
	struct xf_msg a = { .hdr = { .type = XF_MSG_HELLO_ACK, .session = hello->hdr.session } };
	char dest[XF_PATH_ESCAPED_SIZE(64)];
	struct xf_dest d;
	int pi = rs_hello_peer(rx, hello, ip, port, src_mac), vol;

	if (pi < 0) {
		return NULL;
	}
	if (hs != NULL && pi != hs->peer) {
		rx->hs_stale++; /* a reload gave the address to another slot meanwhile */
		return NULL;
	}
	rs = rs_slot(rx, pi, true, hello, ip, port, src_mac);
	if (rs == NULL) {
		return NULL;
	}
	rs->rx = rx;
	rs->peer = (uint16_t)pi;
	rs->id = hello->hdr.session;
	rs->peer_ip = ip;
	rs->peer_port = port;
	rs->max_payload =
	        (uint16_t)XF_MIN(hello->hello.max_payload,
	                         e->conf.mtu - 28u - (e->aead ? XF_SECURE_FRAME_OVERHEAD : 0));
	if (e->aead ? hs == NULL || eng_secure_accept(rx, rs, hs) < 0
	            : (hello->hello.flags & XF_HELLO_F_AEAD) != 0) {
		/* Dropped unanswered (counted by reason): whoever cannot complete the
		 * handshake learns nothing, not even that we are here. */
		rx->hs_mode += !e->aead;
		atomic_fetch_sub_explicit(&e->peer_sessions[pi], 1, memory_order_relaxed);
		xf_secure_sess_wipe(&rs->sec);
		memset(rs, 0, sizeof(*rs));
		return NULL;
	}
	/* Accepted: the HELLO's source is our peer. Its ARP answers may reach another
	 * queue than ours (docs/ENGINE.md, "Steering"): the HELLO tells its MAC. */
	xf_net_neigh_heard(&rx->net, ip, src_mac, rx->now, true);
	/* Reloadable: a session takes the parameters in effect when it opens. */
	xf_engine_get_params(e, &par);
	rc.pace_rate = par.rate_bps / 8;
	rc.congestion = (uint8_t)par.congestion;
	rc.cc_seed = rx->now ^ hello->hdr.session;
	/* the peer's table may grow to window_max_frames (the same on both appliances) */
	rc.rx_window = 2 * eng_window_max(&e->conf);
	rc.idle_timeout_ns = (uint64_t)par.timeout_ms * 1000000ull;
	/* Our ACK goes out again this often when nothing else does (eng_rs_poll). */
	rc.keepalive_ns = (uint64_t)par.keepalive_ms * 1000000ull;
	rc.cb_arg = rs;
	rs->rel = xf_reliab_create(&rc, rx->now);
	if (rs->rel == NULL) {
		goto err_peer;
	}
	/* A destination we do not serve still gets its session (with AEAD, the only way to
	 * tell the sender why is a sealed frame): it writes nothing and ends in an ABORT. */
	/* A pull writes nothing here: the control thread judges it (xf_engine_pull.c). */
	vol = (hello->hello.flags & XF_HELLO_F_PULL) != 0 ? -1
	                                                  : rs_volume(rx, rs, &hello->hello, &d);
	if (vol >= 0) {
		rs->vol = (uint8_t)vol;
		rs->zip_ask = xf_hello_ack_zip(hello->hello.flags, (par.zip_volumes >> vol) & 1u);
		/* A session whose HELLO_ACK asks for compressed DATA takes it (6.16). */
		rs->ps = xf_pipeline_session_open(
		        e->vol[vol].pl, rx->idx, ip, port, rs->id, rs->max_payload,
		        xf_hello_rx_flags(hello->hello.flags, rs->zip_ask), rs_tx, rs);
		if (rs->ps == NULL) {
			xf_reliab_destroy(rs->rel);
			goto err_peer;
		}
		xf_pipeline_session_set_tx_room(rs->ps, rs_tx_room);
		/* --delete walks the path in the session's volume (under its pipeline's root),
		 * never the volume's name the HELLO's destination starts with. */
		xf_pipeline_session_set_delete(rs->ps, d.path, d.path_len, hello->hello.window);
		xf_pipeline_session_set_protect(rs->ps, hello->hello.rules, hello->hello.rules_len);
		rx->vol_opened[vol]++;
		rx->vol_sessions[vol]++;
	}
	rs->used = true;
	rx->rs_gen[rs - rx->rs]++; /* a handshake answer for the slot's last session is stale */
	rs->opened_ns = rx->now;
	eng_rs_publish(rx, rs, true);
	rx->nrs++;
	rx->opened++;
	/* The destination comes from the wire: escaped, never raw (log injection). */
	xf_path_escape(dest, sizeof(dest), hello->hello.dest, hello->hello.dest_len);
	if ((hello->hello.flags & XF_HELLO_F_PULL) != 0) {
		eng_pull_open(rx, rs, &hello->hello);
	} else if (vol >= 0) {
		XF_LOG(INFO, MODULE,
		       "session %08x opened for %u.%u.%u.%u port %u (volume %s, dest '%s')", rs->id,
		       ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24, port,
		       e->vol_names[vol], dest);
	} else {
		XF_LOG(NOTICE, MODULE,
		       "session %08x for %u.%u.%u.%u port %u refused (dest '%s'): %s", rs->id,
		       ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24, port, dest,
		       rs->refuse_msg);
	}
	a.hello.min_version = a.hello.max_version = XF_PROTO_VERSION;
	a.hello.max_payload = rs->max_payload;
	a.hello.window = e->conf.window;
	a.hello.nonce = hello->hello.nonce;
	a.hello.flags = eng_rs_ack_flags(rx, rs);
	if (e->aead) {
		a.hello.auth = rs->msg2;
		a.hello.auth_len = XF_HELLO_ACK_AUTH_LEN;
	}
	eng_rs_send(rx, rs, &a, true);
	/* The HELLO's number is taken as seen only once the session exists. */
	xf_reliab_rx_filter(rs->rel, rx->now, hello->hdr.pn, true);
	xf_reliab_rx_accept(rs->rel, rx->now, hello->hdr.pn, true);
	return rs;

err_peer:
	atomic_fetch_sub_explicit(&e->peer_sessions[pi], 1, memory_order_relaxed);
	memset(rs, 0, sizeof(*rs));
	hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_BUSY);
	return NULL;
}

/*
 * The handshake thread's answer to a HELLO that opens a session (eng_secure_hs_poll): the
 * session opens now, unless its slot or peer went meanwhile. A copy of the HELLO that was
 * in flight beside the one that opened it is dropped (the push sends it again, and gets
 * the HELLO_ACK again: eng_secure_rekey).
 */
void
eng_rs_open_keyed(struct eng_rx *rx, const struct xf_hs_rec *hs)
{
	struct rte_ether_addr mac;
	struct xf_msg hello;

	xf_hs_rec_hello(hs, &hello);
	memcpy(mac.addr_bytes, hs->mac, sizeof(mac.addr_bytes));
	if (eng_rs_find(rx, hello.hdr.session, hs->ip, hs->port) != NULL) {
		rx->hs_stale++;
		return;
	}
	(void)rs_open(rx, &hello, hs->ip, hs->port, &mac, hs);
}

/* A frame of a session we serve. @return true if the mbuf was kept (for the pipeline). */
bool
eng_rs_input(struct eng_rx *rx, struct rte_mbuf *m, const struct xf_msg *msg,
             const uint8_t *payload, uint16_t len, uint32_t ip, uint16_t port)
{
	struct eng_rsess *rs = eng_rs_find(rx, msg->hdr.session, ip, port);
	bool eliciting = msg->hdr.type != XF_MSG_ACK && !(msg->hdr.flags & XF_HDR_F_NOACK);
	struct xf_ack_range ranges[XF_ACK_RANGES];
	struct eng_pend *pq;
	int rc;

	if (rs == NULL) {
		const struct rte_ether_addr *src_mac =
		        &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;

		if (msg->hdr.type == XF_MSG_HELLO &&
		    rs_recently_ended(rx, msg->hdr.session, ip, port)) {
			/* Its sender is done with it, or gives up within the timeout: a new
			 * session now would only wait for that timeout, holding a slot. */
			rx->hello_ended++;
		} else if (msg->hdr.type == XF_MSG_HELLO && rx->e->aead) {
			rs_hello_admit(rx, msg, ip, port, src_mac);
		} else if (msg->hdr.type == XF_MSG_HELLO) {
			(void)rs_open(rx, msg, ip, port, src_mac, NULL);
		} else {
			rx->no_session++;
		}
		return false;
	}
	if (rx->e->aead && msg->hdr.type == XF_MSG_HELLO) {
		/* In clear, so unauthenticated: it must not mark its packet number as seen.
		 * Before the sender confirmed our HELLO_ACK it is the first HELLO again (our
		 * HELLO_ACK goes out again); after, it starts a new handshake (docs/SECURITY.md
		 * 5), which its message 1 authenticates. */
		eng_secure_rekey(rx, rs, msg);
		return false;
	}
	rc = xf_reliab_rx_filter(rs->rel, rx->now, msg->hdr.pn, eliciting);
	if (rc < 0) {
		rx->pn_ahead += rc == -ERANGE;
		return false; /* duplicate (counted, re-acked), or numbered too far ahead */
	}
	switch (msg->hdr.type) {
	case XF_MSG_ACK:
		for (uint16_t i = 0; i < msg->ack.count; i++) {
			xf_proto_ack_get(msg, i, &ranges[i]);
		}
		xf_reliab_on_ack(rs->rel, rx->now, msg->ack.largest, msg->ack.ack_delay_us, ranges,
		                 msg->ack.count);
		break;
	case XF_MSG_FLIST:
	case XF_MSG_DATA:
	case XF_MSG_COPY:
	case XF_MSG_FILE_END:
		if (!rs->confirmed) {
			/* The sender has not shown it got our HELLO_ACK (its source may be
			 * spoofed): not accepted, not acknowledged; a real sender sends it again
			 * after its ACK (docs/PROTOCOL.md 6.1). */
			rx->unconfirmed++;
			return false;
		}
		if (rs->pull != ENG_PULL_NONE && rs->pull != ENG_PULL_REFUSED) {
			rx->pull_frames++; /* a puller lists no file (docs/PROTOCOL.md 6.18) */
			return false;
		}
		if (rs->ps == NULL) {
			eng_rs_refuse(rx, rs); /* not accepted: the sender learns why again */
			return false;
		}
		pq = &rx->pend[rs->vol];
		if (pq->n == ENG_PEND_MAX) {
			rx->pend_full++;
			return false; /* not accepted: not acked, the sender sends it again */
		}
		/* The volume's pipeline finds the session by the key it was opened with. */
		pq->f[(pq->head + pq->n) % ENG_PEND_MAX] = (struct xf_frame){ .buf = payload,
			                                                      .len = len,
			                                                      .addr = rs->peer_ip,
			                                                      .port = rs->peer_port,
			                                                      .owner = m };
		pq->n++;
		xf_reliab_rx_accept(rs->rel, rx->now, msg->hdr.pn, eliciting);
		rs->ack_now |= (msg->hdr.flags & XF_HDR_F_ACKNOW) != 0;
		return true;
	case XF_MSG_ABORT:
		XF_LOG(NOTICE, MODULE, "session %08x aborted by the sender (code %u)", rs->id,
		       msg->abort.code);
		eng_rs_end(rx, rs, false);
		return false;
	default:
		break; /* HELLO again (our HELLO_ACK was lost: the engine resends it), PING */
	}
	xf_reliab_rx_accept(rs->rel, rx->now, msg->hdr.pn, eliciting);
	/* A probe asks for its ACK at once: the sender waits on it to settle its losses. */
	rs->ack_now |= (msg->hdr.flags & XF_HDR_F_ACKNOW) != 0;
	return false;
}
