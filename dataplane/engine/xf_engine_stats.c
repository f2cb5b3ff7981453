/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread reads of a running engine: the counters summed over the RX
 * cores, workers and volumes (xf_engine_stats), the rings, the queues and the volumes.
 * Every counter is written by one core only and only grows; these reads take no lock
 * and may see a slightly old value, never a torn state (docs/ENGINE.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <openssl/crypto.h>

#include "xf_base.h"
#include "xf_dest.h"
#include "xf_engine_priv.h"
#include "xf_path.h"

void
xf_engine_stats(struct xf_engine *e, struct xf_engine_stats *st)
{
	struct xf_port_stats ps;
	struct rte_eth_link link;

	memset(st, 0, sizeof(*st));
	st->keys_locked = e->keys_locked;
	st->hs_dh_offcore = __atomic_load_n(&e->hs_dh_ops, __ATOMIC_RELAXED);
	if (xf_port_stats(&e->port, &ps) == 0) {
		st->rx_packets = ps.rx_packets;
		st->tx_packets = ps.tx_packets;
		st->rx_bytes = ps.rx_bytes;
		st->tx_bytes = ps.tx_bytes;
		st->rx_missed = ps.rx_missed;
		st->tx_dropped = ps.tx_errors;
	}
	if (xf_port_link(&e->port, &link) == 0) {
		st->link_up = link.link_status == RTE_ETH_LINK_UP;
		st->link_speed_mbps = link.link_speed;
	}
	memcpy(st->mac, e->port.mac.addr_bytes, sizeof(st->mac));
	{
		struct xf_port_fault_stats fs;

		st->fault_on = xf_port_fault_stats(&e->port, &fs);
		st->fault = fs.st;
		st->fault_refused = fs.refused;
	}
	/* Read workers' counters: written by their cores only, and only grow. */
	st->n_readers = e->conf.n_workers;
	for (unsigned int w = 0; w < e->conf.n_workers; w++) {
		const volatile struct eng_worker *vw = &e->w[w];

		st->source_fd_waits += vw->fd_waits;
		st->readers[w] = (struct xf_engine_reader_stats){
			.lcore = vw->lcore,
			.whole_files = vw->whole_files,
			.delta_files = vw->delta_files,
			.parks = __atomic_load_n(&e->w[w].bell.sleeps, __ATOMIC_RELAXED),
		};
	}
	/* Counters are written by the RX cores only and only grow; a racy read is a
	 * slightly old value, which is all a stats reader needs. */
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		const volatile struct eng_rx *rx = &e->rx[r];

		st->frames += rx->frames;
		st->bad_frames += rx->bad_frames;
		st->no_session += rx->no_session;
		st->hello_refused += rx->hello_refused;
		st->hello_ended += rx->hello_ended;
		st->hello_not_allowed += rx->hello_not_allowed;
		st->hello_peer_cap += rx->hello_peer_cap;
		st->volume_refused += rx->volume_refused;
		st->owner_refused += rx->owner_refused;
		st->pull_asked += rx->pull_asked;
		st->pull_accepted += rx->pull_accepted;
		st->pull_frames += rx->pull_frames;
		for (unsigned int k = 0; k <= XF_PULL_REFUSAL_MAX; k++) {
			st->pull_refused[k] += rx->pull_refused[k];
		}
		st->unconfirmed += rx->unconfirmed;
		st->pn_ahead += rx->pn_ahead;
		st->pend_full += rx->pend_full;
		st->tx_full += rx->tx_full;
		st->auth_failed += rx->auth_failed;
		st->auth_replayed += rx->auth_replayed;
		st->auth_too_old += rx->auth_too_old;
		st->auth_expired += rx->auth_expired;
		st->auth_no_keys += rx->auth_no_keys;
		st->nonce_refused += rx->nonce_refused;
		st->sealed += rx->sealed;
		st->opened += rx->unsealed;
		st->handshakes += rx->handshakes;
		st->rekeys += rx->rekeys;
		st->key_updates += rx->key_updates;
		st->hs_bad_mac += rx->hs_bad_mac;
		st->hs_no_key += rx->hs_no_key;
		st->hs_replay += rx->hs_replay;
		st->hs_bad_response += rx->hs_bad_response;
		st->hs_mode += rx->hs_mode;
		st->hs_failed += rx->hs_failed;
		st->hs_cookie += rx->hs_cookie;
		st->hs_rate += rx->hs_rate;
		st->hs_bad_cookie += rx->hs_bad_cookie;
		st->cookie_replies += rx->cookie_replies;
		st->cookies_taken += rx->cookies_taken;
		st->hs_dh += rx->hs_dh;
		st->hs_queue_full += rx->hsq.full;
		st->hs_stale += rx->hs_stale;
		st->hs_in_flight += rx->hs_in_flight;
		st->hs_rekey_changed += rx->hs_rekey_changed;
		st->hs_response_rate += rx->hs_response_rate;
		st->hs_dh_oncore += rx->dh_ops;
		st->peer_gone += rx->peer_gone;
		st->under_load += rx->under_load_until > rx->now;
		st->sessions_opened += rx->opened;
		st->sessions_closed += rx->closed;
		st->sessions_timed_out += rx->timed_out;
		st->retransmits += rx->retransmits;
		st->sessions += rx->nrs;
		st->arp_replied += rx->net.ctr.arp_replied;
		st->arp_held += rx->arp_held;
		st->arp_expired += rx->arp_expired;
		st->arp_requests += rx->net.ctr.arp_requests;
		st->arp_probes += rx->net.ctr.arp_probes;
		st->arp_announced += rx->net.ctr.arp_announced;
		st->neigh_changed += rx->net.ctr.neigh_changed;
		st->neigh_failed += rx->net.ctr.neigh_failed;
		st->icmp_echo_replied += rx->net.ctr.icmp_echo_replied;
		for (unsigned int i = 0; i < XF_R_MAX && i < XF_ARRAY_SIZE(st->frame_drops); i++) {
			st->frame_drops[i] += rx->frame_drops[i];
		}
		for (unsigned int i = 0; i < XF_NET_DROP_MAX && i < XF_ARRAY_SIZE(st->net_drops);
		     i++) {
			st->net_drops[i] += rx->net.ctr.drop[i];
		}
		if (rx->sig_ring != NULL) {
			struct xf_lease_stats ls;

			xf_lease_stats(rx->sig_ring, &ls);
			st->sig_from_ring += ls.taken;
			st->sig_from_heap += ls.heap;
		}
	}
	for (unsigned int v = 0; v < e->conf.n_volumes; v++) {
		struct xf_pipeline_times t;

		if (e->vol[v].pl == NULL) {
			continue;
		}
		/* the workers' counters, read racily as well */
		xf_pipeline_times(e->vol[v].pl, &t);
		st->basis_kept_bytes += t.copy_kept;
		st->cloned_bytes += t.copy_cloned;
		st->copy_range_bytes += t.copy_ranged;
		st->crc_combined_bytes += t.crc_combined;
		st->basis_changed += t.basis_changed;
		st->basis_dirty += t.basis_dirty;
		st->basis_sync_done += t.basis_sync_done;
		st->temp_presized += t.temp_presized;
		st->clone_slow += t.clone_slow;
		st->partial_kept += t.partial_kept;
		st->partial_used += t.partial_used;
		st->partial_saved += t.partial_saved;
		st->partial_evicted += t.partial_evicted;
		st->partial_stale += t.partial_stale;
		st->partial_recovered += t.partial_recovered;
		st->partial_discarded += t.partial_discarded;
		st->partial_untagged += t.partial_untagged;
		st->redone += t.redone;
		st->zip_frames += t.zip_frames;
		st->zip_bytes_in += t.zip_bytes_in;
		st->zip_bytes_out += t.zip_bytes_out;
		st->zip_bad += t.zip_bad;
		st->zip_long += t.zip_long;
		st->zip_short += t.zip_short;
		st->sc_hits += t.sc_hits;
		st->sc_misses += t.sc_misses;
		st->sc_stale += t.sc_stale;
		st->sc_stored += t.sc_stored;
		st->sc_committed += t.sc_committed;
		st->sc_evicted += t.sc_evicted;
		st->sc_loaded += t.sc_loaded;
		st->sc_corrupt += t.sc_corrupt;
		st->sc_bytes += t.sc_bytes;
		st->sig_from_ring += t.sig_leased;
		st->sig_from_heap += t.sig_heap;
		st->slow_storage_steps += t.slow_steps;
		st->staged_dirs += t.staged_dirs;
		/* The files that came in them: written in place, or linked in (another
		 * worker's: docs/PIPELINE.md, "Staged directories"). */
		st->staged_files += t.staged_files + t.staged_linked;
		st->staged_failed += t.staged_failed;
		xf_pipeline_rx_stats_add(e->vol[v].pl, &st->pipeline);
	}
}

struct ring_walk {
	struct xf_engine_ring_info *out;
	unsigned int n, max;
};

static void
ring_add(void *arg, const struct xf_ring *ring)
{
	struct ring_walk *rw = arg;

	if (ring == NULL || rw->n == rw->max) {
		return;
	}
	snprintf(rw->out[rw->n].name, sizeof(rw->out[0].name), "%s", ring->r->name);
	rw->out[rw->n].count = xf_ring_count(ring);
	rw->out[rw->n].free = xf_ring_free_count(ring);
	rw->n++;
}

unsigned int
xf_engine_rings(struct xf_engine *e, struct xf_engine_ring_info *out, unsigned int max)
{
	struct ring_walk rw = { .out = out, .max = max };

	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		ring_add(&rw, e->rx[r].cmd);
		for (unsigned int w = 0; w < e->conf.n_workers; w++) {
			ring_add(&rw, e->rx[r].read_to[w]);
			ring_add(&rw, e->rx[r].read_from[w]);
		}
	}
	for (unsigned int v = 0; v < e->conf.n_volumes; v++) {
		xf_pipeline_rings(e->vol[v].pl, ring_add, &rw);
	}
	return rw.n;
}

unsigned int
xf_engine_queues(struct xf_engine *e, struct xf_engine_queue_info *out, unsigned int max)
{
	struct xf_port_stats ps;
	unsigned int n = XF_MIN(XF_MIN(e->conf.n_rx, max), (unsigned int)XF_PORT_STATS_QUEUES);

	if (xf_port_stats(&e->port, &ps) != 0) {
		return 0;
	}
	for (unsigned int q = 0; q < n; q++) {
		out[q] = (struct xf_engine_queue_info){
			.rx_packets = ps.q[q].rx_packets,
			.tx_packets = ps.q[q].tx_packets,
			.rx_bytes = ps.q[q].rx_bytes,
			.tx_bytes = ps.q[q].tx_bytes,
		};
	}
	return n;
}

const char *
xf_engine_volume_io(const struct xf_engine *e, unsigned int v)
{
	return v < e->conf.n_volumes ? xf_storage_io_str(e->vol[v].io) : "?";
}

int
xf_engine_volume(struct xf_engine *e, unsigned int v, struct xf_engine_volume_info *out)
{
	struct xf_pipeline_times t;

	if (v >= e->conf.n_volumes || e->vol[v].pl == NULL) {
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->io = xf_storage_io_str(e->vol[v].io);
	out->apply = xf_engine_volume_apply(e, v);
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		out->sessions_opened += e->rx[r].vol_opened[v];
		out->sessions += e->rx[r].vol_sessions[v];
	}
	xf_pipeline_times(e->vol[v].pl, &t); /* racy by design, as xf_engine_stats */
	out->files_verified = t.files_done;
	out->commits = t.commits;
	out->bytes_written = t.data_bytes;
	out->staged_dirs = t.staged_dirs;
	out->type_changes = t.type_changes;
	out->trees_replaced = t.trees_replaced;
	out->owners_set = t.owners_set;
	out->owners_failed = t.owners_failed;
	out->owners_unmapped = t.owners_unmapped;
	out->xattrs_set = t.xattrs_set;
	out->xattrs_failed = t.xattrs_failed;
	out->xattrs_skipped = t.xattrs_skipped;
	xf_pipeline_rx_stats_add(e->vol[v].pl, &out->rx); /* out is zeroed */
	return 0;
}

const char *
xf_engine_volume_apply(const struct xf_engine *e, unsigned int v)
{
	if (v >= e->conf.n_volumes || e->vol[v].pl == NULL) {
		return "?";
	}
	return xf_storage_clone_str((enum xf_storage_clone)xf_pipeline_clone_mode(e->vol[v].pl));
}

const char *
xf_engine_udp_tx_checksum(const struct xf_engine *e)
{
	return e->udp_tx != NULL ? e->udp_tx : "software";
}

const char *
xf_engine_steering(const struct xf_engine *e, uint32_t *rules, uint32_t *refused)
{
	*rules = e->port.rules_installed;
	*refused = e->port.rules_refused;
	return xf_port_steering_name(e->port.steering);
}

_Static_assert(XF_PULL_REFUSAL_MAX < 8, "xf_engine_stats.pull_refused has 8 slots");

/* A consistent snapshot of a published session: retried while its RX core writes one. */
static bool
rs_snapshot(struct eng_rs_pub *p, struct xf_engine_rsess_info *out)
{
	unsigned int s1, s2;
	bool live;

	do {
		s1 = atomic_load_explicit(&p->seq, memory_order_acquire);
		live = p->live;
		*out = p->info;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&p->seq, memory_order_acquire);
	} while (s1 != s2 || (s1 & 1));
	return live;
}

unsigned int
xf_engine_rsessions(struct xf_engine *e, struct xf_engine_rsess_info *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		for (unsigned int k = 0; k < ENG_RSESS_MAX && n < max; k++) {
			n += rs_snapshot(&e->rx[r].rs_pub[k], &out[n]);
		}
	}
	return n;
}

int
xf_engine_rsession(struct xf_engine *e, unsigned int peer, uint32_t id,
                   struct xf_engine_rsess_info *out, bool *live)
{
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		for (unsigned int k = 0; k < ENG_RSESS_MAX; k++) {
			*live = rs_snapshot(&e->rx[r].rs_pub[k], out);
			/* A slot never used has id 0, which no session has. */
			if (out->id == id && out->peer == peer && id != 0) {
				return 0;
			}
		}
	}
	return -ENOENT;
}
