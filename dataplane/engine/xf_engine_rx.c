/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An RX core: its NIC queue, ARP and ICMP, the sessions it serves (reliability around
 * the pipeline's receive session) and the push jobs it runs. It never blocks: file
 * reads go to the workers through SP/SC rings, and so does every file system call of
 * the sessions it serves (inside the pipeline).
 *
 * Over 1,000 lines: its parts are the TX batch and held frames (tx_*, frame_*), the
 * push jobs (job_*, reads_poll), the receive sessions (rs_*) and the poll loop, and the
 * jobs and the sessions both send through the TX helpers, static in this file; a split
 * along those seams would export the helpers through xf_engine_priv.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_random.h>

#include "xf_base.h"
#include "xf_engine_priv.h"
#include "xf_path.h"

#define MODULE "engine"

uint64_t
xf_engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Idle cores back off so two appliances can share a 2-core test machine: spin a
 * bounded number of rounds, then sleep briefly. The config can pin them to polling.
 */
void
xf_engine_idle(struct xf_engine *e, unsigned int *idle)
{
	if (xf_engine_idle_poll(e)) {
		return;
	}
	if (++*idle < 256) {
		rte_pause();
		return;
	}
	nanosleep(&(struct timespec){ .tv_nsec = *idle < 4096 ? 20000 : 200000 }, NULL);
}

/* ---- transmit ---- */

/*
 * Hand queued frames to the NIC. What the TX queue cannot take now stays queued, in
 * order: a full queue (a memif peer that has not caught up) pushes back on the
 * sessions instead of turning into losses they would have to recover from.
 */
static void
tx_flush(struct eng_rx *rx)
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
static bool
tx_room(struct eng_rx *rx, unsigned int n)
{
	if (rx->ntx + n > ENG_TXBUF) {
		tx_flush(rx);
	}
	return rx->ntx + n <= ENG_TXBUF;
}

static void
tx_enqueue(struct eng_rx *rx, struct rte_mbuf *m)
{
	if (!tx_room(rx, 1)) {
		/* Only frames nobody retransmits get here without checking: ARP and ICMP
		 * replies, ACKs, refusals. Counted, never silent. */
		rx->tx_full++;
		rte_pktmbuf_free(m);
		return;
	}
	rx->tx[rx->ntx++] = m;
	if (rx->ntx >= ENG_BURST) {
		tx_flush(rx);
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
		tx_enqueue(rx, arp);
	}
}

/* Headers in front of a frame whose next hop's MAC is known, then the TX queue. */
static void
frame_send(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len, const struct xf_net_flow *flow)
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
	tx_enqueue(rx, m);
}

/*
 * Put Ethernet/IPv4/UDP headers in front of the len payload bytes at mtod + 42 and
 * queue the frame; the queue's reference is the one in m (the caller adds its own if it
 * keeps the frame). A frame to a neighbour not resolved yet waits, with an ARP request
 * out, until the reply comes (held_poll()): the first HELLO after start would otherwise
 * be lost and wait for its retransmission timer (about a second). A full hold queue, or
 * a next hop that cannot be resolved, drops the frame (counted): reliable frames come
 * again, and a failed neighbour is resolved again for them.
 */
static void
frame_out(struct eng_rx *rx, struct rte_mbuf *m, uint16_t len, uint32_t ip, uint16_t port)
{
	struct xf_net_flow flow = { .dst_ip = ip, .dst_port = port };
	uint16_t arp_len = 0;
	uint8_t arp_buf[XF_NET_MIN_FRAME];
	int rc;

	rc = xf_net_neigh_resolve(&rx->net, xf_net_next_hop(&rx->net, ip), rx->now, &flow.dst_mac,
	                          arp_buf, &arp_len);
	if (rc == 0) {
		frame_send(rx, m, len, &flow);
		return;
	}
	arp_out(rx, arp_buf, arp_len);
	if (rc == -EAGAIN && rx->nheld < ENG_HOLD_MAX) {
		rx->held[rx->nheld++] = (struct eng_held){
			.m = m, .since = rx->now, .ip = ip, .len = len, .port = port
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
 * requests run on their own timer, neigh_poll).
 */
static bool
held_poll(struct eng_rx *rx)
{
	unsigned int keep = 0;
	bool busy = false;

	for (unsigned int i = 0; i < rx->nheld; i++) {
		struct eng_held *h = &rx->held[i];
		struct xf_net_flow flow = { .dst_ip = h->ip, .dst_port = h->port };
		int rc = xf_net_neigh_lookup(&rx->net, xf_net_next_hop(&rx->net, h->ip),
		                             &flow.dst_mac);

		if (rc == 0) {
			frame_send(rx, h->m, h->len, &flow);
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
 */
static void
neigh_poll(struct eng_rx *rx)
{
	uint8_t arp_buf[XF_NET_MIN_FRAME];
	uint16_t len;
	unsigned int ups;

	while ((len = xf_net_neigh_poll(&rx->net, rx->now, arp_buf)) > 0) {
		arp_out(rx, arp_buf, len);
	}
	ups = atomic_load_explicit(&rx->e->link_ups, memory_order_relaxed);
	if (rx->idx == 0 && ups != rx->link_ups) {
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
static void
neigh_watch(struct eng_rx *rx, struct eng_nud *w, uint32_t ip, const struct xf_reliab_stats *st)
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

static struct rte_mbuf *
frame_new(struct eng_rx *rx, uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(rx->e->mp);

	if (m == NULL) {
		return NULL;
	}
	*payload = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;
	return m;
}

/* ---- push jobs (we are the sender) ---- */

static void *
push_frame_alloc(void *arg, uint8_t **payload)
{
	struct eng_job *j = arg;

	return frame_new(j->push_rx, payload);
}

static int
push_frame_send(void *arg, void *frame, uint16_t len)
{
	struct eng_job *j = arg;
	struct eng_rx *rx = j->push_rx;
	const struct xf_engine_peer *peer = &rx->e->conf.peers[j->req.peer];

	/* Two frames at most (an ARP request and this one). */
	if (!tx_room(rx, 2)) {
		return -EAGAIN;
	}
	/* The session keeps its reference for retransmission; the queue takes another. */
	rte_mbuf_refcnt_update(frame, 1);
	frame_out(rx, frame, len, peer->ip, peer->udp_port);
	return 0;
}

static void
push_frame_free(void *arg, void *frame)
{
	(void)arg;
	rte_pktmbuf_free(frame);
}

/*
 * Ask the file's worker (file affinity: one file, one worker, so its CRC runs in order)
 * for frames of a source file; with sig, the worker also runs the matcher over what it
 * reads (a DELTA file) and owns the signatures from then on.
 */
static int
read_request(struct eng_job *j, uint32_t file, const char *path, uint64_t offset, uint32_t nframes,
             uint32_t data_len, bool delta, const struct xf_delta_params *sig)
{
	struct eng_rx *rx = j->push_rx;
	unsigned int w = file % rx->e->conf.n_workers;
	struct eng_read_req req = {
		.job = (uint16_t)(j - rx->e->jobs),
		.job_id = j->id,
		.rx = (uint16_t)rx->idx,
		.file = file,
		.off = offset,
		.n = XF_MIN(nframes, ENG_BURST),
		.dl = data_len,
		.path = path + j->src_skip, /* the source path, without "dest/" */
		.dir_fd = j->dir_fd,
		.delta = delta,
		.io_inline = j->io_inline,
	};

	if (sig != NULL) {
		req.sigs = (struct xf_sig_rec *)sig->sigs; /* handed over on success */
		req.block_size = sig->block_size;
		req.block_count = sig->block_count;
	}
	return xf_ring_enqueue_burst(rx->read_to[w], &req, 1) == 1 ? 0 : -EAGAIN;
}

static int
push_read_request(void *arg, uint32_t file, const char *path, uint16_t path_len, uint64_t offset,
                  uint32_t nframes, uint32_t data_len)
{
	(void)path_len; /* the scan keeps every path NUL-terminated */
	return read_request(arg, file, path, offset, nframes, data_len, false, NULL);
}

static int
push_delta_request(void *arg, uint32_t file, const char *path, uint16_t path_len, uint64_t offset,
                   uint32_t nframes, uint32_t data_len, const struct xf_delta_params *sig)
{
	(void)path_len;
	return read_request(arg, file, path, offset, nframes, data_len, true, sig);
}

static void
job_publish(struct eng_job *j, enum xf_job_state state, const char *error)
{
	atomic_fetch_add_explicit(&j->seq, 1, memory_order_acq_rel);
	if (j->push != NULL) {
		xf_push_stats(j->push, &j->st);
		xf_push_reliab_stats(j->push, &j->rel);
	}
	j->state = (uint8_t)state;
	j->elapsed_ns = xf_engine_now() - j->started_ns;
	if (error != NULL) {
		snprintf(j->error, sizeof(j->error), "%s", error);
	}
	atomic_fetch_add_explicit(&j->seq, 1, memory_order_acq_rel);
}

/* The push's view of the file list (xf_push_io.entry): see job_build_list(). */
static void
push_entry(void *arg, uint32_t i, struct xf_flist_entry *e)
{
	struct eng_job *j = arg;

	if (i < j->ndest) {
		*e = j->dest_ent[i];
	} else {
		xf_scan_get(j->scan, i - j->ndest, e);
	}
}

static void
job_start(struct eng_rx *rx, struct eng_job *j)
{
	struct xf_engine *e = rx->e;
	struct xf_engine_params par;
	struct xf_push_cfg cfg = {
		.session_id = j->session_id,
		.nonce = j->nonce,
		.dest = j->dest,
		.max_payload = (uint16_t)XF_MIN(e->conf.mtu - 28u, XF_PAYLOAD_MAX),
		.checksum = j->req.checksum,
		.sig_ring = rx->sig_ring,
	};
	struct xf_push_io io = {
		.arg = j,
		.entry = push_entry,
		.frame_alloc = push_frame_alloc,
		.frame_send = push_frame_send,
		.frame_free = push_frame_free,
		.read_request = push_read_request,
		.delta_request = push_delta_request,
	};

	/* Reloadable: a job takes the parameters in effect when it starts. */
	xf_engine_get_params(e, &par);
	cfg.reliab.pace_rate = par.rate_bps / 8;
	cfg.reliab.keepalive_ns = (uint64_t)par.keepalive_ms * 1000000ull;
	cfg.reliab.idle_timeout_ns = (uint64_t)par.timeout_ms * 1000000ull;
	j->push_rx = rx;
	j->push = xf_push_create(&cfg, &io, j->count, rx->now);
	if (j->push == NULL) {
		job_publish(j, XF_JOB_FAILED, "cannot create the session (out of memory)");
		j->finished = true;
		return;
	}
	rx->jobs[rx->njobs++] = (unsigned int)(j - e->jobs);
	job_publish(j, XF_JOB_RUNNING, NULL);
}

static void
job_end(struct eng_rx *rx, unsigned int k, enum xf_job_state state, const char *error)
{
	struct eng_job *j = &rx->e->jobs[rx->jobs[k]];

	job_publish(j, state, error);
	xf_push_destroy(j->push);
	j->push = NULL;
	rx->jobs[k] = rx->jobs[--rx->njobs];
	atomic_thread_fence(memory_order_release);
	j->finished = true;
}

static bool
jobs_poll(struct eng_rx *rx)
{
	bool busy = false;

	for (unsigned int k = 0; k < rx->njobs;) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];
		struct xf_push_stats st;
		struct xf_reliab_stats rel;

		busy |= xf_push_poll(j->push, rx->now);
		xf_push_reliab_stats(j->push, &rel);
		neigh_watch(rx, &j->nud, rx->e->conf.peers[j->req.peer].ip, &rel);
		xf_push_stats(j->push, &st);
		if (st.state == XF_PUSH_DONE) {
			job_end(rx, k, XF_JOB_DONE, NULL);
			continue;
		}
		if (st.state == XF_PUSH_ABORTED) {
			job_end(rx, k,
			        st.abort_code == XF_ABORT_CANCEL ? XF_JOB_CANCELLED : XF_JOB_FAILED,
			        st.abort_code == XF_ABORT_TIMEOUT   ? "peer silent past the timeout"
			        : st.abort_code == XF_ABORT_REFUSED ? "refused by the peer"
			        : st.abort_code == XF_ABORT_CANCEL  ? "cancelled"
			                                            : "aborted");
			continue;
		}
		/* Publish progress now and then (every ~16 ms) for `xferctl jobs`. */
		if (((rx->now >> 24) & 1) != ((j->elapsed_ns + j->started_ns) >> 24 & 1)) {
			job_publish(j, XF_JOB_RUNNING, NULL);
		}
		k++;
	}
	return busy;
}

static bool
reads_poll(struct eng_rx *rx)
{
	struct eng_read_done d[ENG_BURST];
	bool busy = false;

	for (unsigned int w = 0; w < rx->e->conf.n_workers; w++) {
		unsigned int n = xf_ring_dequeue_burst(rx->read_from[w], d, ENG_BURST);

		for (unsigned int i = 0; i < n; i++) {
			struct eng_job *j = &rx->e->jobs[d[i].job];
			struct xf_push_read rd = {
				.file = d[i].file,
				.frame = d[i].m,
				.payload = d[i].payload,
				.len = d[i].len,
				.offset = d[i].off,
				.last = d[i].last,
				.eof = d[i].eof,
				.error = d[i].error,
				.undelivered = d[i].undelivered,
				.size = d[i].size,
				.crc64 = d[i].crc64,
				.copy_len = d[i].copy_len,
				.src_offset = d[i].src_offset,
			};

			if (j->push == NULL || j->id != d[i].job_id) {
				rte_pktmbuf_free(d[i].m); /* the job ended meanwhile */
				continue;
			}
			xf_push_on_read(j->push, &rd, rx->now);
		}
		busy |= n != 0;
	}
	return busy;
}

/* A push job by (peer address, peer port, session id): the peer answers from its port. */
static struct eng_job *
job_by_session(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port)
{
	for (unsigned int k = 0; k < rx->njobs; k++) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];
		const struct xf_engine_peer *peer = &rx->e->conf.peers[j->req.peer];

		if (j->session_id == id && peer->ip == ip && peer->udp_port == port) {
			return j;
		}
	}
	return NULL;
}

static bool
cmds_poll(struct eng_rx *rx)
{
	struct eng_cmd c[8];
	unsigned int n = xf_ring_dequeue_burst(rx->cmd, c, XF_ARRAY_SIZE(c));

	for (unsigned int i = 0; i < n; i++) {
		struct eng_job *j = &rx->e->jobs[c[i].job];

		switch (c[i].type) {
		case ENG_CMD_START:
			if (rx->stopping) {
				job_publish(j, XF_JOB_CANCELLED, "the appliance is stopping");
				j->finished = true;
			} else {
				job_start(rx, j);
			}
			break;
		case ENG_CMD_CANCEL:
			if (j->push != NULL) {
				xf_push_abort(j->push, XF_ABORT_CANCEL, rx->now);
			}
			break;
		case ENG_CMD_STOP:
			rx->stopping = true;
			for (unsigned int k = 0; k < rx->njobs; k++) {
				xf_push_abort(rx->e->jobs[rx->jobs[k]].push, XF_ABORT_SHUTDOWN,
				              rx->now);
			}
			break;
		default:
			break;
		}
	}
	return n != 0;
}

/* ---- sessions we serve (we are the receiver) ---- */

/*
 * An acknowledgement of a frame of ours. The first frame we send on a session is the
 * HELLO_ACK, under a random packet number, and nothing else is sent before the sender
 * acknowledges it: so any acknowledgement (or a late one, of a copy declared lost)
 * proves the sender received it (docs/PROTOCOL.md 6.1).
 */
static void
rs_on_acked(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;

	rs->confirmed = true;
	rte_pktmbuf_free(s->handle);
}

static void
rs_on_spurious(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;

	(void)s; /* the handle went back at on_lost */
	rs->confirmed = true;
}

static void
rs_on_lost(void *arg, const struct xf_reliab_sent *s)
{
	struct eng_rsess *rs = arg;
	struct rte_mbuf *m = s->handle;

	/* Back to the front of the queue, to go out again under a new number. */
	if (rs->txq_n == ENG_TXQ_MAX) {
		rte_pktmbuf_free(m); /* cannot happen: the queue holds what the table cannot */
		return;
	}
	rs->txq_head = (rs->txq_head + ENG_TXQ_MAX - 1) % ENG_TXQ_MAX;
	rs->txq[rs->txq_head] = m;
	rs->txq_len[rs->txq_head] = (uint16_t)s->bytes;
	rs->txq_n++;
	rs->retransmits++;
}

/* Send queued frames while the reliability engine and the pacer allow. */
static bool
rs_flush(struct eng_rx *rx, struct eng_rsess *rs)
{
	bool busy = false;

	while (rs->txq_n > 0 && xf_reliab_can_send(rs->rel) && tx_room(rx, 2) &&
	       xf_reliab_pace_next(rs->rel, rx->now, rs->txq_len[rs->txq_head]) <= rx->now) {
		struct rte_mbuf *m = rs->txq[rs->txq_head];
		uint16_t len = rs->txq_len[rs->txq_head];
		uint8_t *payload = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;

		xf_proto_set_pn(payload, xf_reliab_next_pn(rs->rel));
		rs->txq_head = (rs->txq_head + 1) % ENG_TXQ_MAX;
		rs->txq_n--;
		xf_reliab_on_sent(rs->rel, rx->now, len, m, 0, XF_RELIAB_F_ACK_ELICITING, NULL);
		rte_mbuf_refcnt_update(m, 1);
		frame_out(rx, m, len, rs->peer_ip, rs->peer_port);
		busy = true;
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

	if (rs->txq_n == ENG_TXQ_MAX || (m = frame_new(rx, &payload)) == NULL) {
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
static void
rs_send_small(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg *msg, bool tracked)
{
	uint8_t *payload;
	struct rte_mbuf *m = frame_new(rx, &payload);
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
	frame_out(rx, m, (uint16_t)len, rs->peer_ip, rs->peer_port);
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

	while (xf_reliab_probes_due(rs->rel) > 0 && tx_room(rx, 2)) {
		struct xf_msg m = { .hdr = { .type = XF_MSG_PING,
			                     .flags = XF_HDR_F_REPLY | XF_HDR_F_ACKNOW,
			                     .session = rs->id,
			                     .pn = xf_reliab_next_pn(rs->rel) } };
		uint64_t sent = xf_reliab_next_pn(rs->rel);

		rs_send_small(rx, rs, &m, false);
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
	if (n == 0 || (mb = frame_new(rx, &payload)) == NULL) {
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
	frame_out(rx, mb, (uint16_t)len, rs->peer_ip, rs->peer_port);
}

/*
 * End a session we serve. Our frames are given back; a session that did not finish is
 * aborted in the pipeline (workers drop its files and temps) and keeps its slot until
 * the pipeline says every worker has let go of it (rs_poll frees it then).
 */
static void
rs_end(struct eng_rx *rx, struct eng_rsess *rs, bool timed_out)
{
	while (rs->txq_n > 0) {
		rte_pktmbuf_free(rs->txq[rs->txq_head]);
		rs->txq_head = (rs->txq_head + 1) % ENG_TXQ_MAX;
		rs->txq_n--;
	}
	xf_reliab_drain(rs->rel, rs_on_acked, rs); /* our frames still in flight */
	if (!xf_session_is_done(rs->ps)) {
		xf_session_abort(rs->ps);
	}
	rs->closing = true;
	rx->timed_out += timed_out;
	XF_LOG(INFO, MODULE, "session %08x ended%s", rs->id, timed_out ? " (timeout)" : "");
}

/* Free the slot once the pipeline has let go of the session. */
static bool
rs_reap(struct eng_rx *rx, struct eng_rsess *rs)
{
	if (!xf_session_is_done(rs->ps) || xf_pipeline_session_close(rx->e->pl, rs->ps) < 0) {
		return false;
	}
	xf_reliab_destroy(rs->rel);
	atomic_fetch_sub_explicit(&rx->e->peer_sessions[rs->peer], 1, memory_order_relaxed);
	rx->retransmits += rs->retransmits;
	rx->nrs--;
	rx->closed++;
	memset(rs, 0, sizeof(*rs));
	return true;
}

/* The pipeline is behind: frames stay in the NIC queue until it has room. */
static bool
rx_held_back(const struct eng_rx *rx)
{
	return rx->pend_n + ENG_BURST > ENG_PEND_MAX;
}

static bool
rs_poll(struct eng_rx *rx, struct eng_rsess *rs)
{
	struct xf_reliab_stats rel;
	bool busy = false;

	if (rs->closing) {
		return rs_reap(rx, rs);
	}
	xf_reliab_stats(rs->rel, &rel);
	neigh_watch(rx, &rs->nud, rs->peer_ip, &rel);
	/*
	 * While this core leaves frames in the NIC queue (our storage is behind, say a
	 * disk stalled behind its journal), the peer's frames are not read, so silence is
	 * ours, not the peer's: no idle expiry then, nor for a whole timeout after (the
	 * peer's frames of that time are read only now). And the ACK goes out again every
	 * keep-alive interval, so that the peer, which hears nothing else from us, does not
	 * time the session out (it did in CI after 10 s of a stalled commit step).
	 */
	if (rx_held_back(rx)) {
		rs->held_ns = rx->now;
	} else if (xf_reliab_idle_expired_since(rs->rel, rx->now, rs->held_ns)) {
		rs_end(rx, rs, true);
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
	/* Finished: DONE sent and every frame of ours acknowledged. */
	if (xf_session_is_done(rs->ps) && rs->txq_n == 0 &&
	    xf_reliab_bytes_in_flight(rs->rel) == 0) {
		rs_end(rx, rs, false);
		return true;
	}
	return busy;
}

/*
 * A session we serve, by (peer address, peer port, session id): each initiator picks its
 * ids, so two peers (or two sockets of one) may pick the same one (docs/PROTOCOL.md 2).
 */
static struct eng_rsess *
rs_find(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port)
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

/* @return the index of the peer with address ip in the allowlist, or -1. */
static int
peer_index(const struct xf_engine *e, uint32_t ip)
{
	for (unsigned int i = 0; i < e->conf.n_peers; i++) {
		if (e->conf.peers[i].ip == ip) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * Answer a HELLO we will not serve: one unreliable HELLO_ACK with the reason, sent to
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
	struct rte_mbuf *m = frame_new(rx, &payload);
	int len;

	rx->hello_refused++;
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
	frame_send(rx, m, (uint16_t)len, &flow);
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

static struct eng_rsess *
rs_open(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
        const struct rte_ether_addr *src_mac)
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
	int pi = peer_index(e, ip);

	if (pi < 0) {
		rx->hello_not_allowed++;
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_REFUSED);
		return NULL;
	}
	if (rx->stopping) {
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_SHUTDOWN);
		return NULL;
	}
	if (hello->hello.min_version > XF_PROTO_VERSION ||
	    hello->hello.max_version < XF_PROTO_VERSION) {
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_VERSION);
		return NULL;
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
	if (!peer_take(e, pi)) {
		rx->hello_peer_cap++;
		hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_BUSY);
		return NULL;
	}
	rs->rx = rx;
	rs->peer = (uint16_t)pi;
	rs->id = hello->hdr.session;
	rs->peer_ip = ip;
	rs->peer_port = port;
	rs->max_payload = (uint16_t)XF_MIN(hello->hello.max_payload, e->conf.mtu - 28u);
	/* Reloadable: a session takes the parameters in effect when it opens. */
	xf_engine_get_params(e, &par);
	rc.pace_rate = par.rate_bps / 8;
	rc.idle_timeout_ns = (uint64_t)par.timeout_ms * 1000000ull;
	/* Our ACK goes out again this often when nothing else does (rs_poll). */
	rc.keepalive_ns = (uint64_t)par.keepalive_ms * 1000000ull;
	rc.cb_arg = rs;
	rs->rel = xf_reliab_create(&rc, rx->now);
	if (rs->rel == NULL) {
		goto err_peer;
	}
	rs->ps = xf_pipeline_session_open(e->pl, rx->idx, ip, port, rs->id, rs->max_payload,
	                                  hello->hello.flags, rs_tx, rs);
	if (rs->ps == NULL) {
		xf_reliab_destroy(rs->rel);
		goto err_peer;
	}
	xf_pipeline_session_set_tx_room(rs->ps, rs_tx_room);
	rs->used = true;
	rs->opened_ns = rx->now;
	rx->nrs++;
	rx->opened++;
	/* The destination comes from the wire: escaped, never raw (log injection). */
	XF_LOG(INFO, MODULE, "session %08x opened for %u.%u.%u.%u port %u (dest '%s')", rs->id,
	       ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff, ip >> 24, port,
	       xf_path_escape(dest, sizeof(dest), hello->hello.dest, hello->hello.dest_len));
	a.hello.min_version = a.hello.max_version = XF_PROTO_VERSION;
	a.hello.max_payload = rs->max_payload;
	a.hello.window = e->conf.window;
	a.hello.nonce = hello->hello.nonce;
	rs_send_small(rx, rs, &a, true);
	return rs;

err_peer:
	atomic_fetch_sub_explicit(&e->peer_sessions[pi], 1, memory_order_relaxed);
	memset(rs, 0, sizeof(*rs));
	hello_refuse(rx, hello, ip, port, src_mac, XF_ABORT_BUSY);
	return NULL;
}

/* A frame of a session we serve. @return true if the mbuf was kept (for the pipeline). */
static bool
rs_input(struct eng_rx *rx, struct rte_mbuf *m, const struct xf_msg *msg, const uint8_t *payload,
         uint16_t len, uint32_t ip, uint16_t port)
{
	struct eng_rsess *rs = rs_find(rx, msg->hdr.session, ip, port);
	bool eliciting = msg->hdr.type != XF_MSG_ACK && !(msg->hdr.flags & XF_HDR_F_NOACK);
	struct xf_ack_range ranges[XF_ACK_RANGES];
	int rc;

	if (rs == NULL) {
		if (msg->hdr.type == XF_MSG_HELLO) {
			rs = rs_open(rx, msg, ip, port,
			             &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr);
			if (rs != NULL) {
				xf_reliab_rx_filter(rs->rel, rx->now, msg->hdr.pn, true);
				xf_reliab_rx_accept(rs->rel, rx->now, msg->hdr.pn, true);
			}
		} else {
			rx->no_session++;
		}
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
		if (rx->pend_n == ENG_PEND_MAX) {
			return false; /* not accepted: not acked, the sender sends it again */
		}
		/* The pipeline finds the session by the key it was opened with. */
		rx->pend[(rx->pend_head + rx->pend_n) % ENG_PEND_MAX] =
		        (struct xf_frame){ .buf = payload,
			                   .len = len,
			                   .addr = rs->peer_ip,
			                   .port = rs->peer_port,
			                   .owner = m };
		rx->pend_n++;
		xf_reliab_rx_accept(rs->rel, rx->now, msg->hdr.pn, eliciting);
		rs->ack_now |= (msg->hdr.flags & XF_HDR_F_ACKNOW) != 0;
		return true;
	case XF_MSG_ABORT:
		XF_LOG(NOTICE, MODULE, "session %08x aborted by the sender (code %u)", rs->id,
		       msg->abort.code);
		rs_end(rx, rs, false);
		return false;
	default:
		break; /* HELLO again (our HELLO_ACK was lost: the engine resends it), PING */
	}
	xf_reliab_rx_accept(rs->rel, rx->now, msg->hdr.pn, eliciting);
	/* A probe asks for its ACK at once: the sender waits on it to settle its losses. */
	rs->ack_now |= (msg->hdr.flags & XF_HDR_F_ACKNOW) != 0;
	return false;
}

/* ---- the pipeline's frame source: what rs_input queued ---- */

unsigned int xf_engine_source(void *arg, struct xf_frame *out, unsigned int max);

unsigned int
xf_engine_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct eng_rx *rx = arg;
	unsigned int n = XF_MIN(max, rx->pend_n);

	for (unsigned int i = 0; i < n; i++) {
		out[i] = rx->pend[rx->pend_head];
		rx->pend_head = (rx->pend_head + 1) % ENG_PEND_MAX;
	}
	rx->pend_n -= n;
	return n;
}

/* ---- the NIC queue ---- */

static void
udp_input(struct eng_rx *rx, struct rte_mbuf *m, const struct xf_net_rx_result *res)
{
	uint8_t *payload = rte_pktmbuf_mtod(m, uint8_t *) + res->payload_off;
	enum xf_proto_reason why = XF_R_OK;
	struct xf_msg msg;
	int rc;

	rx->frames++;
	rc = xf_proto_decode(payload, res->payload_len, &msg, &why);
	if (rc < 0) {
		rx->bad_frames++;
		rx->frame_drops[why < XF_R_MAX ? why : 0]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (msg.hdr.flags & XF_HDR_F_REPLY) {
		struct eng_job *j = job_by_session(rx, msg.hdr.session, res->src_ip, res->src_port);

		if (j != NULL) {
			xf_push_on_frame(j->push, &msg, res->payload_len, rx->now);
		} else {
			rx->no_session++;
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (!rs_input(rx, m, &msg, payload, res->payload_len, res->src_ip, res->src_port)) {
		rte_pktmbuf_free(m);
	}
}

static bool
port_poll(struct eng_rx *rx)
{
	struct rte_mbuf *pkts[ENG_BURST];
	uint16_t n;

	if (rx_held_back(rx)) {
		return false;
	}
	n = xf_port_rx_burst(&rx->e->port, (uint16_t)rx->idx, pkts, ENG_BURST);
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
			tx_enqueue(rx, m);
			break;
		case XF_NET_PAYLOAD:
			udp_input(rx, m, &res);
			break;
		default:
			rte_pktmbuf_free(m);
			break;
		}
	}
	return n != 0;
}

/* Abort what this core runs, once the engine is told to stop. */
static void
rx_stopping(struct eng_rx *rx)
{
	rx->stopping = true;
	for (unsigned int k = 0; k < rx->njobs; k++) {
		xf_push_abort(rx->e->jobs[rx->jobs[k]].push, XF_ABORT_SHUTDOWN, rx->now);
	}
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		if (rx->rs[i].used && !rx->rs[i].closing) {
			rs_end(rx, &rx->rs[i], false);
		}
	}
}

bool
xf_engine_rx_poll(struct eng_rx *rx)
{
	struct xf_engine *e = rx->e;
	bool busy = false;

	rx->now = xf_engine_now();
	busy |= cmds_poll(rx);
	busy |= port_poll(rx);
	/* Frames left in the NIC queue hold ARP answers too: the neighbours are not judged
	 * meanwhile (their timers wait, as the sessions' idle timers do). */
	if (!rx_held_back(rx)) {
		neigh_poll(rx);
	}
	if (rx->nheld > 0) {
		busy |= held_poll(rx);
	}
	busy |= reads_poll(rx);
	busy |= xf_pipeline_rx_poll(e->pl, rx->idx) != 0;
	busy |= jobs_poll(rx);
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		if (rx->rs[i].used) {
			busy |= rs_poll(rx, &rx->rs[i]);
		}
	}
	tx_flush(rx);
	if (!busy) {
		xf_port_tx_flush(&e->port, (uint16_t)rx->idx);
	}
	if (atomic_load_explicit(&e->stop, memory_order_acquire) && !rx->stopping) {
		rx_stopping(rx);
	}
	return busy;
}

bool
xf_engine_rx_finished(struct eng_rx *rx)
{
	if (!rx->stopping || rx->njobs > 0 || rx->nrs > 0) {
		return false;
	}
	held_poll(rx); /* stopping: whatever is still unresolved is dropped */
	tx_flush(rx);
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
			xf_engine_idle(rx->e, &idle);
		}
	}
	xf_engine_rx_done(rx->e);
	return 0;
}
