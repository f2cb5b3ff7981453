/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An RX core's transmit side: the TX batch handed to the NIC, frames held while their
 * next hop's MAC is resolved, and the neighbour timers. The push jobs
 * (xf_engine_jobs.c) and the served sessions (xf_engine_rsess.c) both send through it.
 */
#include <errno.h>
#include <string.h>

#include "xf_base.h"
#include "xf_engine_priv.h"

/* ---- transmit ---- */

/*
 * Hand queued frames to the NIC. What the TX queue cannot take now stays queued, in
 * order: a full queue (a memif peer that has not caught up) pushes back on the
 * sessions instead of turning into losses they would have to recover from.
 */
void
eng_tx_flush(struct eng_rx *rx)
{
	uint16_t sent;

	if (rx->ntx == 0) {
		return;
	}
	sent = xf_port_tx_burst(&rx->e->port, (uint16_t)rx->idx, rx->tx, (uint16_t)rx->ntx);
	if (sent < rx->ntx) {
		memmove(rx->tx, rx->tx + sent, (rx->ntx - sent) * sizeof(rx->tx[0]));
	}
	rx->ntx -= sent;
}

/* Room for n more frames in the TX queue (flushing once if needed). */
bool
eng_tx_room(struct eng_rx *rx, unsigned int n)
{
	if (rx->ntx + n > ENG_TXBUF) {
		eng_tx_flush(rx);
	}
	return rx->ntx + n <= ENG_TXBUF;
}

void
eng_tx_enqueue(struct eng_rx *rx, struct rte_mbuf *m)
{
	if (!eng_tx_room(rx, 1)) {
		/* Only frames nobody retransmits get here without checking: ARP and ICMP
		 * replies, ACKs, refusals. Counted, never silent. */
		rx->tx_full++;
		rte_pktmbuf_free(m);
		return;
	}
	eng_capture_tap(rx, &m, 1, true);
	rx->tx[rx->ntx++] = m;
	if (rx->ntx >= ENG_BURST) {
		eng_tx_flush(rx);
	}
}

/* Send an ARP request built by xf_net_neigh_resolve() (arp_len 0: none due). */
static void
arp_out(struct eng_rx *rx, const uint8_t *arp_buf, uint16_t arp_len)
{
	struct rte_mbuf *arp;

	if (arp_len > 0 && (arp = rte_pktmbuf_alloc(rx->e->mp)) != NULL) {
		memcpy(rte_pktmbuf_mtod(arp, void *), arp_buf, arp_len);
		arp->data_len = arp->pkt_len = arp_len;
		eng_tx_enqueue(rx, arp);
	}
}

/* Headers in front of a frame whose next hop's MAC is known, then the TX queue. */
void
eng_frame_send(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len, const struct xf_net_flow *flow)
{
	int rc = xf_net_tx_build(&rx->net, flow, rte_pktmbuf_mtod(m, uint8_t *), len,
	                         rx->e->tx_flags);

	if (rc < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = m->pkt_len = (uint32_t)rc;
	m->ol_flags = xf_net_tx_ol_flags(rx->e->tx_flags);
	m->l2_len = 14;
	m->l3_len = 20;
	eng_tx_enqueue(rx, m);
}

/*
 * Put Ethernet/IPv4/UDP headers in front of the len payload bytes at mtod + 42 and
 * queue the frame; the queue's reference is the one in m (the caller adds its own if it
 * keeps the frame). A frame to a neighbour not resolved yet waits, with an ARP request
 * out, until the reply comes (eng_held_poll()): the first HELLO after start would otherwise
 * be lost and wait for its retransmission timer (about a second). A full hold queue, or
 * a next hop that cannot be resolved, drops the frame (counted): reliable frames come
 * again, and a failed neighbour is resolved again for them. sport: our source port (0:
 * conf.udp_port; a push's lane: its own, docs/ENGINE.md "Lanes").
 */
void
eng_frame_out(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len, uint32_t ip, uint16_t port,
              uint16_t sport)
{
	struct xf_net_flow flow = { .dst_ip = ip, .dst_port = port, .src_port = sport };
	uint16_t arp_len = 0;
	uint8_t arp_buf[XF_NET_MIN_FRAME];
	int rc;

	rc = xf_net_neigh_resolve(&rx->net, xf_net_next_hop(&rx->net, ip), rx->now, &flow.dst_mac,
	                          arp_buf, &arp_len);
	if (rc == 0) {
		eng_frame_send(rx, m, len, &flow);
		return;
	}
	arp_out(rx, arp_buf, arp_len);
	if (rc == -EAGAIN && rx->nheld < ENG_HOLD_MAX) {
		rx->held[rx->nheld++] = (struct eng_held){
			.m = m, .since = rx->now, .ip = ip, .len = len, .port = port, .sport = sport
		};
		rx->arp_held++;
		return;
	}
	rx->arp_expired++; /* the hold queue is full, or no next hop */
	rte_pktmbuf_free(m);
}

/*
 * Held frames whose next hop has answered go out, in the order they were held; those
 * whose next hop failed, or held longer than ENG_HOLD_NS, are dropped (the neighbour's
 * requests run on their own timer, eng_neigh_poll).
 */
bool
eng_held_poll(struct eng_rx *rx)
{
	unsigned int keep = 0;
	bool busy = false;

	for (unsigned int i = 0; i < rx->nheld; i++) {
		struct eng_held *h = &rx->held[i];
		struct xf_net_flow flow = { .dst_ip = h->ip,
			                    .dst_port = h->port,
			                    .src_port = h->sport };
		int rc = xf_net_neigh_lookup(&rx->net, xf_net_next_hop(&rx->net, h->ip),
		                             &flow.dst_mac);

		if (rc == 0) {
			eng_frame_send(rx, h->m, h->len, &flow);
			busy = true;
		} else if (rc != -EAGAIN || rx->now - h->since > ENG_HOLD_NS || rx->stopping) {
			rx->arp_expired++;
			rte_pktmbuf_free(h->m);
		} else {
			rx->held[keep++] = *h;
		}
	}
	rx->nheld = keep;
	return busy;
}

/*
 * Neighbour timers (requests and probes that fall due), and a gratuitous ARP each time
 * the link comes up (xf_engine_link_poll), from the first RX core: the one ARP lands on.
 * On net_memif from every RX core: there a frame lands on the peer's queue of the
 * number it was sent on, and each of the peer's RX cores keeps its own neighbour table
 * (a lane on its RX core 1 would otherwise send to our old MAC until its probes found
 * the new one: docs/ENGINE.md, "Lanes").
 */
void
eng_neigh_poll(struct eng_rx *rx)
{
	uint8_t arp_buf[XF_NET_MIN_FRAME];
	uint16_t len;
	unsigned int ups;

	while ((len = xf_net_neigh_poll(&rx->net, rx->now, arp_buf)) > 0) {
		arp_out(rx, arp_buf, len);
	}
	ups = atomic_load_explicit(&rx->e->link_ups, memory_order_relaxed);
	if ((rx->idx == 0 || rx->e->port.memory_link) && ups != rx->link_ups) {
		rx->link_ups = ups;
		arp_out(rx, arp_buf, xf_net_announce(&rx->net, arp_buf));
	}
}

/*
 * Reachability hints from a session to its peer's neighbour entry: our frames newly
 * acknowledged confirm it; a second probe timeout in a row without an acknowledgement
 * (the peer silent, long before the session times out) probes it once, so that a peer
 * that restarted with another MAC is found again (docs/ENGINE.md, "Neighbours").
 */
void
eng_neigh_watch(struct eng_rx *rx, struct eng_nud *w, uint32_t ip, const struct xf_reliab_stats *st)
{
	if (st->acked != w->acked) {
		w->acked = st->acked;
		xf_net_neigh_confirm(&rx->net, ip, rx->now);
	}
	if (st->pto_backoff < 2) {
		w->probed = false;
	} else if (!w->probed) {
		w->probed = true;
		xf_net_neigh_probe(&rx->net, ip, rx->now);
	}
}

struct rte_mbuf *
eng_frame_new(struct eng_rx *rx, uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(rx->e->mp);

	if (m == NULL) {
		return NULL;
	}
	*payload = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;
	return m;
}
