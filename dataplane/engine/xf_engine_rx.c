/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An RX core's poll loop: its NIC queue (ARP and ICMP answered there, the rest to the
 * push jobs or the served sessions), the pipeline's frame source, and the order the
 * stages are polled in. It never blocks: file reads go to the workers through SP/SC
 * rings, and so does every file system call of the sessions it serves (inside the
 * pipeline). The stages: xf_engine_tx.c (TX batch, held frames, neighbours),
 * xf_engine_jobs.c (push jobs), xf_engine_rsess.c (served sessions).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "xf_base.h"
#include "xf_engine_priv.h"

uint64_t
xf_engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Idle cores back off so two appliances can share a 2-core test machine: spin a
 * bounded number of rounds, then sleep, each sleep of a stretch twice the one before,
 * from 20 us to at most 200 us. The config can pin them to polling.
 *
 * A core whose only work waits for the peer (peer_bound: a sender whose window or
 * credit is used up, nothing read or queued it may send) skips the spin: the peer's
 * next ACK or COMMIT is tens of microseconds to milliseconds away, and a spin caught it
 * in a fifth of such waits on the dev pair, while its 256 empty polls were a quarter to
 * nearly half of the sender's CPU on `small` onto XFS (docs/ENGINE.md).
 *
 * Why doubling: a sleep and the switch back in cost about 15 us of CPU here, and a
 * core waiting for its peer or its storage threads slept 20 us at a time, thousands of
 * times a second (a fifth to a third of each process's CPU in the profiles). Doubling
 * makes a long wait a few sleeps while a short gap still ends within 20-40 us: up to a
 * third less CPU per push (docs/ENGINE.md has the figures and what it costs in time).
 */
void
xf_engine_idle(struct xf_engine *e, unsigned int *idle, bool peer_bound)
{
	if (xf_engine_idle_poll(e)) {
		return;
	}
	if (peer_bound && *idle + 1 < XF_IDLE_SPIN) {
		*idle = XF_IDLE_SPIN - 1; /* straight to the stretch's first sleep */
	}
	if (*idle + 1 < XF_IDLE_SPIN) {
		++*idle;
		rte_pause();
		return;
	}
	/* The stretch's sleeps so far: 0 at the first; *idle stops growing at the longest. */
	unsigned int nth = *idle + 1 - XF_IDLE_SPIN;
	long us = XF_IDLE_SLEEP_MAX_US;

	if (nth < XF_IDLE_DOUBLINGS) {
		us = XF_IDLE_SLEEP_MIN_US << nth;
		++*idle;
	}
	nanosleep(&(struct timespec){ .tv_nsec = us * 1000 }, NULL);
}

/* ---- the pipelines' frame sources: what eng_rs_input queued, one queue per volume ---- */

unsigned int xf_engine_source(void *arg, struct xf_frame *out, unsigned int max);

unsigned int
xf_engine_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct eng_pend *q = arg;
	unsigned int n = XF_MIN(max, q->n);

	for (unsigned int i = 0; i < n; i++) {
		out[i] = q->f[q->head];
		q->head = (q->head + 1) % ENG_PEND_MAX;
	}
	q->n -= n;
	return n;
}

/* ---- the NIC queue ---- */

/*
 * A pipeline is behind: frames stay in the NIC queue until it has room. One volume's
 * queue full holds back every session of this core, as one session's did before there
 * were several volumes: the NIC queue is not sorted by volume before it is read.
 */
bool
eng_rx_held_back(const struct eng_rx *rx)
{
	for (unsigned int v = 0; v < rx->e->conf.n_volumes; v++) {
		if (rx->pend[v].n + ENG_BURST > ENG_PEND_MAX) {
			return true;
		}
	}
	return false;
}

static void
udp_input(struct eng_rx *rx, struct rte_mbuf *m, const struct xf_net_rx_result *res)
{
	uint8_t *payload = rte_pktmbuf_mtod(m, uint8_t *) + res->payload_off;
	uint16_t len = res->payload_len; /* then without the tag, once opened */
	enum xf_proto_reason why = XF_R_OK;
	struct xf_msg msg;
	int rc;

	rx->frames++;
	/* The lanes' ports take our pushes' answers only (docs/ENGINE.md, "Lanes"): a frame
	 * there without XF_HDR_F_REPLY (header flags, offset 4, big-endian: authenticated,
	 * not encrypted) is dropped before anything else reads it. */
	if (res->dst_port != rx->e->conf.udp_port &&
	    (len < XF_HDR_LEN || !((payload[4] << 8 | payload[5]) & XF_HDR_F_REPLY))) {
		rx->no_session++;
		rte_pktmbuf_free(m);
		return;
	}
	/* With AEAD, nothing of a frame but its header is read before its tag verified
	 * (a new handshake's answer is taken there whole: 1). */
	if (rx->e->aead && eng_secure_rx(rx, payload, &len, res->src_ip, res->src_port) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rc = xf_proto_decode(payload, len, &msg, &why);
	if (rc < 0) {
		rx->bad_frames++;
		rx->frame_drops[why < XF_R_MAX ? why : 0]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* Frames wait for a neighbour this core resolves: the peer's ARP answer may reach
	 * another queue (docs/ENGINE.md, "Steering"); a session's frame tells the MAC. */
	if (rx->nheld > 0) {
		xf_net_neigh_heard(&rx->net, res->src_ip,
		                   &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, rx->now,
		                   false);
	}
	if (msg.hdr.flags & XF_HDR_F_REPLY) {
		struct eng_job *j =
		        eng_job_by_session(rx, msg.hdr.session, res->src_ip, res->src_port);

		if (j != NULL) {
			/* what crossed: a sealed frame with its tag */
			xf_push_on_frame(j->push, &msg, res->payload_len, rx->now);
		} else {
			rx->no_session++;
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (!eng_rs_input(rx, m, &msg, payload, len, res->src_ip, res->src_port)) {
		rte_pktmbuf_free(m);
	}
}

static bool
port_poll(struct eng_rx *rx)
{
	struct rte_mbuf *pkts[ENG_BURST];
	uint16_t n;

	if (eng_rx_held_back(rx)) {
		return false;
	}
	n = xf_port_rx_burst(&rx->e->port, (uint16_t)rx->idx, pkts, ENG_BURST);
	if (n == 0) {
		return false;
	}
	/*
	 * The burst's receive time: read after the frames are in hand, never before. A round
	 * preempted between its first clock read and the burst would otherwise stamp frames
	 * that came in meanwhile too early, and RTT samples (BBR's min RTT, its bandwidth)
	 * too short. The round's clock moves forward to it, so every time the sessions are
	 * given in this round stays in order (docs/RELIABILITY.md, "Timestamps").
	 */
	rx->now = xf_engine_now();
	eng_capture_tap(rx, pkts, n, false);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct xf_net_rx_result res;
		uint32_t flags = xf_net_rx_flags_from_mbuf(m->ol_flags);

		if (m->nb_segs != 1) {
			/* We never send chained frames, nor ask for them. */
			xf_net_rx_discard(&rx->net, XF_NET_DROP_CHAINED);
			rte_pktmbuf_free(m);
			continue;
		}
		switch (xf_net_rx(&rx->net, rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
		                  (uint16_t)(m->buf_len - m->data_off), flags, rx->now, &res)) {
		case XF_NET_REPLY:
			m->data_len = m->pkt_len = res.reply_len;
			m->ol_flags = 0;
			eng_tx_enqueue(rx, m);
			break;
		case XF_NET_PAYLOAD:
			udp_input(rx, m, &res);
			break;
		default:
			rte_pktmbuf_free(m);
			break;
		}
	}
	return true;
}

/* Abort what this core runs, once the engine is told to stop. */
static void
rx_stopping(struct eng_rx *rx)
{
	eng_jobs_stop(rx);
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		if (rx->rs[i].used && !rx->rs[i].closing) {
			eng_rs_end(rx, &rx->rs[i], false);
		}
	}
}

bool
xf_engine_rx_poll(struct eng_rx *rx)
{
	struct xf_engine *e = rx->e;
	bool busy = false;

	rx->now = xf_engine_now();
	busy |= eng_cmds_poll(rx);
	busy |= eng_pull_poll(rx); /* the control thread's answers to pulls */
	busy |= eng_peers_poll(rx);
	busy |= port_poll(rx);
	busy |= eng_secure_hs_poll(rx); /* the handshake thread's answers */
	rx->dh_ops = xf_noise_dh_ops(); /* 0 unless it runs a push (docs/SECURITY.md 3) */
	/* Frames left in the NIC queue hold ARP answers too: the neighbours are not judged
	 * meanwhile (their timers wait, as the sessions' idle timers do). */
	if (!eng_rx_held_back(rx)) {
		eng_neigh_poll(rx);
	}
	if (rx->nheld > 0) {
		busy |= eng_held_poll(rx);
	}
	busy |= eng_reads_poll(rx);
	for (unsigned int v = 0; v < e->conf.n_volumes; v++) {
		busy |= xf_pipeline_rx_poll(e->vol[v].pl, rx->idx) != 0;
	}
	busy |= eng_jobs_poll(rx);
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		if (rx->rs[i].used) {
			busy |= eng_rs_poll(rx, &rx->rs[i]);
		}
	}
	eng_tx_flush(rx);
	/* The fault stage's link releases frames at their time, busy or not. */
	busy |= xf_port_tx_poll(&e->port, (uint16_t)rx->idx, !busy) > 0;
	if (atomic_load_explicit(&e->stop, memory_order_acquire) && !rx->stopping) {
		rx_stopping(rx);
	}
	/* (eng_jobs_poll set peer_bound for the jobs alone.) */
	rx->peer_bound = rx->peer_bound && rx->nrs == 0 && rx->nwaiting == 0 && rx->nheld == 0 &&
	                 !rx->stopping;
	return busy;
}

bool
xf_engine_rx_finished(struct eng_rx *rx)
{
	if (!rx->stopping || rx->njobs > 0 || rx->nrs > 0) {
		return false;
	}
	eng_held_poll(rx); /* stopping: whatever is still unresolved is dropped */
	eng_tx_flush(rx);
	return true;
}

int
xf_engine_rx_loop(void *arg)
{
	struct eng_rx *rx = arg;
	unsigned int idle = 0;

	xf_core_set_self(rx->lcore);
	/* Idle back-off sleeps are short: ask the kernel not to stretch them. */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	while (!xf_engine_rx_finished(rx)) {
		if (xf_engine_rx_poll(rx)) {
			idle = 0;
		} else {
			xf_engine_idle(rx->e, &idle, rx->peer_bound);
		}
	}
	xf_engine_rx_done(rx->e);
	return 0;
}
