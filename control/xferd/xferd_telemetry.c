/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (/xferd/...), so that dpdk-telemetry.py reads the same
 * counters as `xferctl`. docs/OPERATIONS.md lists them.
 *
 * The callbacks run on DPDK's telemetry thread, while the running configuration and
 * the job slots belong to the control thread (reload replaces the one, a new push
 * reuses the others). So the telemetry thread touches neither: the control thread
 * publishes a snapshot (counters, jobs, the few config values shown) under a mutex
 * every round of its loop, and the callbacks only read that snapshot. Telemetry is
 * at most one control-loop round (50 ms) behind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_telemetry.h>
#include <rte_version.h>

#include "xf_config.h"
#include "xf_engine.h"
#include "xferd.h"

struct tel_job {
	struct xf_job_info info;
	char peer[XF_CONFIG_NAME_MAX];
};

struct tel_snap {
	bool valid;
	char name[XF_CONFIG_NAME_MAX];
	char log_level[16];
	char port[XF_CONFIG_NAME_MAX];
	const char *udp_tx;   /**< a static string of the engine's */
	const char *steering; /**< likewise: "flow", "rss", "sender", "none" */
	uint32_t flow_rules, flow_rules_refused;
	const char *volume_io;    /**< likewise: "io_uring" or "inline" */
	const char *volume_apply; /**< likewise: "clone", "copy_file_range", "read_write" */
	char ipv4[32];
	bool stopping;
	uint64_t uptime_s;
	unsigned long reloads, reloads_refused;
	struct xf_engine_stats st;
	struct xf_engine_params par; /**< what the engine gives new sessions */
	unsigned int njobs;
	struct tel_job jobs[XF_ENGINE_MAX_JOBS];
};

/* The published snapshot; the telemetry callbacks take no argument in DPDK 22.11, so
 * it is a static. It outlives the engine: a late query gets the last values. */
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tel_snap tel_pub;
/* Built by the control thread outside the lock, then copied in. */
static struct tel_snap tel_next;

static const char *
level_name(enum xf_log_level l)
{
	static const char *const names[] = {
		[XF_LOG_ERR] = "err",   [XF_LOG_WARNING] = "warning", [XF_LOG_NOTICE] = "notice",
		[XF_LOG_INFO] = "info", [XF_LOG_DEBUG] = "debug",
	};

	return (unsigned int)l < XF_ARRAY_SIZE(names) && names[l] != NULL ? names[l] : "?";
}

void
xferd_telemetry_refresh(struct xferd *d)
{
	struct tel_snap *s = &tel_next;
	const struct xf_config_port *port = &d->cfg->ports[0];
	unsigned int ids[XF_ENGINE_MAX_JOBS], n;

	memset(s, 0, sizeof(*s));
	s->valid = true;
	snprintf(s->name, sizeof(s->name), "%s", d->cfg->appliance.name);
	snprintf(s->log_level, sizeof(s->log_level), "%s", level_name(d->cfg->appliance.log_level));
	snprintf(s->port, sizeof(s->port), "%s", port->name);
	s->udp_tx = xf_engine_udp_tx_checksum(d->engine);
	s->steering = xf_engine_steering(d->engine, &s->flow_rules, &s->flow_rules_refused);
	/* The first volume's (xferctl stats lists every volume's). */
	s->volume_io = xf_engine_volume_io(d->engine, 0);
	s->volume_apply = xf_engine_volume_apply(d->engine, 0);
	snprintf(s->ipv4, sizeof(s->ipv4), "%u.%u.%u.%u/%u", port->ipv4 >> 24,
	         (port->ipv4 >> 16) & 0xff, (port->ipv4 >> 8) & 0xff, port->ipv4 & 0xff,
	         port->prefix_len);
	s->stopping = d->stopping;
	s->uptime_s = (uint64_t)(time(NULL) - d->started);
	s->reloads = d->reloads;
	s->reloads_refused = d->reloads_refused;
	xf_engine_stats(d->engine, &s->st);
	xf_engine_get_params(d->engine, &s->par);
	n = xf_engine_jobs(d->engine, ids, XF_ENGINE_MAX_JOBS);
	for (unsigned int i = 0; i < n; i++) {
		struct tel_job *j = &s->jobs[s->njobs];

		if (xf_engine_job(d->engine, ids[i], &j->info) == 0) {
			snprintf(j->peer, sizeof(j->peer), "%s", xferd_slot_name(d, j->info.peer));
			s->njobs++;
		}
	}
	pthread_mutex_lock(&tel_lock);
	memcpy(&tel_pub, s, sizeof(*s));
	pthread_mutex_unlock(&tel_lock);
}

/* Copy the snapshot out for one callback: the lock is held only for the copy. */
static struct tel_snap *
snap_get(void)
{
	struct tel_snap *s = malloc(sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&tel_lock);
	memcpy(s, &tel_pub, sizeof(*s));
	pthread_mutex_unlock(&tel_lock);
	if (!s->valid) {
		free(s);
		return NULL;
	}
	return s;
}

static unsigned int
running_jobs(const struct tel_snap *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->njobs; i++) {
		n += s->jobs[i].info.state == XF_JOB_RUNNING ||
		     s->jobs[i].info.state == XF_JOB_QUEUED;
	}
	return n;
}

static int
tel_status(const char *cmd, const char *params, struct rte_tel_data *info)
{
	struct tel_snap *s = snap_get();

	(void)cmd;
	(void)params;
	if (s == NULL) {
		return -ENODATA;
	}
	rte_tel_data_start_dict(info);
	rte_tel_data_add_dict_string(info, "name", s->name);
	rte_tel_data_add_dict_string(info, "version", XFERD_VERSION);
	rte_tel_data_add_dict_string(info, "dpdk", rte_version());
	rte_tel_data_add_dict_string(info, "state", s->stopping ? "stopping" : "running");
	rte_tel_data_add_dict_u64(info, "uptime_s", s->uptime_s);
	rte_tel_data_add_dict_u64(info, "sessions", s->st.sessions);
	rte_tel_data_add_dict_u64(info, "jobs", running_jobs(s));
	rte_tel_data_add_dict_string(info, "log_level", s->log_level);
	rte_tel_data_add_dict_u64(info, "reloads", s->reloads);
	rte_tel_data_add_dict_u64(info, "reloads_refused", s->reloads_refused);
	/* The engine's parameters, not the file's: they show that a reload took effect. */
	rte_tel_data_add_dict_u64(info, "rate_mbit", s->par.rate_bps / 1000000);
	rte_tel_data_add_dict_u64(info, "timeout_ms", s->par.timeout_ms);
	rte_tel_data_add_dict_u64(info, "keepalive_ms", s->par.keepalive_ms);
	rte_tel_data_add_dict_string(info, "idle", s->par.idle_poll ? "poll" : "backoff");
	rte_tel_data_add_dict_string(info, "port", s->port);
	rte_tel_data_add_dict_string(info, "ipv4", s->ipv4);
	rte_tel_data_add_dict_int(info, "link_up", s->st.link_up);
	rte_tel_data_add_dict_u64(info, "speed_mbps", s->st.link_speed_mbps);
	free(s);
	return 0;
}

/*
 * DPDK 22.11 dictionaries hold scalars and arrays, not dictionaries, so the nested
 * objects of `xferctl stats --json` are flattened: ports[0].X is port_X, drops.X is
 * drop_X, dataplane.X is X.
 */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *info)
{
	struct tel_snap *s = snap_get();
	const struct xf_engine_stats *st;
	char key[RTE_TEL_MAX_STRING_LEN];

	(void)cmd;
	(void)params;
	if (s == NULL) {
		return -ENODATA;
	}
	st = &s->st;
	rte_tel_data_start_dict(info);
	rte_tel_data_add_dict_string(info, "port_name", s->port);
	rte_tel_data_add_dict_string(info, "port_udp_checksum_tx", s->udp_tx);
	rte_tel_data_add_dict_string(info, "port_steering", s->steering);
	rte_tel_data_add_dict_u64(info, "port_flow_rules", s->flow_rules);
	rte_tel_data_add_dict_u64(info, "port_flow_rules_refused", s->flow_rules_refused);
	rte_tel_data_add_dict_string(info, "volume_io", s->volume_io);
	rte_tel_data_add_dict_string(info, "volume_apply", s->volume_apply);
	rte_tel_data_add_dict_u64(info, "port_rx_packets", st->rx_packets);
	rte_tel_data_add_dict_u64(info, "port_tx_packets", st->tx_packets);
	rte_tel_data_add_dict_u64(info, "port_rx_bytes", st->rx_bytes);
	rte_tel_data_add_dict_u64(info, "port_tx_bytes", st->tx_bytes);
	rte_tel_data_add_dict_u64(info, "port_rx_missed", st->rx_missed);
	rte_tel_data_add_dict_u64(info, "port_tx_errors", st->tx_dropped);
	/* The same selection as the control socket: reasons that happened, and always
	 * the two session-level ones. */
	for (unsigned int i = 1; i < XF_ARRAY_SIZE(st->frame_drops); i++) {
		if (st->frame_drops[i] != 0) {
			snprintf(key, sizeof(key), "drop_frame_%s", xf_engine_frame_drop_name(i));
			rte_tel_data_add_dict_u64(info, key, st->frame_drops[i]);
		}
	}
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(st->net_drops); i++) {
		if (st->net_drops[i] != 0) {
			snprintf(key, sizeof(key), "drop_net_%s", xf_engine_net_drop_name(i));
			rte_tel_data_add_dict_u64(info, key, st->net_drops[i]);
		}
	}
	rte_tel_data_add_dict_u64(info, "drop_no_session", st->no_session);
	rte_tel_data_add_dict_u64(info, "drop_hello_refused", st->hello_refused);
	rte_tel_data_add_dict_u64(info, "drop_hello_ended", st->hello_ended);
	rte_tel_data_add_dict_u64(info, "drop_hello_not_allowed", st->hello_not_allowed);
	rte_tel_data_add_dict_u64(info, "drop_hello_peer_cap", st->hello_peer_cap);
	rte_tel_data_add_dict_u64(info, "drop_volume_refused", st->volume_refused);
	rte_tel_data_add_dict_u64(info, "drop_owner_refused", st->owner_refused);
	rte_tel_data_add_dict_u64(info, "drop_unconfirmed", st->unconfirmed);
	rte_tel_data_add_dict_u64(info, "drop_pn_ahead", st->pn_ahead);
	rte_tel_data_add_dict_u64(info, "drop_pend_full", st->pend_full);
	rte_tel_data_add_dict_u64(info, "drop_tx_full", st->tx_full);
	rte_tel_data_add_dict_u64(info, "drop_auth_failed", st->auth_failed);
	rte_tel_data_add_dict_u64(info, "drop_auth_replayed", st->auth_replayed);
	rte_tel_data_add_dict_u64(info, "drop_auth_too_old", st->auth_too_old);
	rte_tel_data_add_dict_u64(info, "drop_auth_expired", st->auth_expired);
	rte_tel_data_add_dict_u64(info, "drop_auth_no_keys", st->auth_no_keys);
	rte_tel_data_add_dict_u64(info, "drop_hs_bad_mac", st->hs_bad_mac);
	rte_tel_data_add_dict_u64(info, "drop_hs_no_key", st->hs_no_key);
	rte_tel_data_add_dict_u64(info, "drop_hs_replay", st->hs_replay);
	rte_tel_data_add_dict_u64(info, "drop_hs_bad_response", st->hs_bad_response);
	rte_tel_data_add_dict_u64(info, "drop_hs_mode", st->hs_mode);
	rte_tel_data_add_dict_u64(info, "drop_hs_failed", st->hs_failed);
	rte_tel_data_add_dict_u64(info, "drop_hs_cookie", st->hs_cookie);
	rte_tel_data_add_dict_u64(info, "drop_hs_rate", st->hs_rate);
	rte_tel_data_add_dict_u64(info, "drop_hs_bad_cookie", st->hs_bad_cookie);
	rte_tel_data_add_dict_u64(info, "drop_hs_queue_full", st->hs_queue_full);
	rte_tel_data_add_dict_u64(info, "drop_hs_stale", st->hs_stale);
	rte_tel_data_add_dict_u64(info, "drop_hs_in_flight", st->hs_in_flight);
	rte_tel_data_add_dict_u64(info, "drop_hs_rekey_changed", st->hs_rekey_changed);
	rte_tel_data_add_dict_u64(info, "drop_hs_response_rate", st->hs_response_rate);
	rte_tel_data_add_dict_u64(info, "frames", st->frames);
	rte_tel_data_add_dict_u64(info, "bad_frames", st->bad_frames);
	rte_tel_data_add_dict_u64(info, "sessions_opened", st->sessions_opened);
	rte_tel_data_add_dict_u64(info, "sessions_closed", st->sessions_closed);
	rte_tel_data_add_dict_u64(info, "sessions_timed_out", st->sessions_timed_out);
	rte_tel_data_add_dict_u64(info, "retransmits", st->retransmits);
	rte_tel_data_add_dict_u64(info, "arp_replied", st->arp_replied);
	rte_tel_data_add_dict_u64(info, "icmp_echo_replied", st->icmp_echo_replied);
	rte_tel_data_add_dict_u64(info, "arp_held", st->arp_held);
	rte_tel_data_add_dict_u64(info, "arp_expired", st->arp_expired);
	rte_tel_data_add_dict_u64(info, "arp_requests", st->arp_requests);
	rte_tel_data_add_dict_u64(info, "arp_probes", st->arp_probes);
	rte_tel_data_add_dict_u64(info, "arp_announced", st->arp_announced);
	rte_tel_data_add_dict_u64(info, "neigh_changed", st->neigh_changed);
	rte_tel_data_add_dict_u64(info, "neigh_failed", st->neigh_failed);
	rte_tel_data_add_dict_u64(info, "slow_storage_steps", st->slow_storage_steps);
	rte_tel_data_add_dict_u64(info, "source_fd_waits", st->source_fd_waits);
	rte_tel_data_add_dict_u64(info, "staged_dirs", st->staged_dirs);
	rte_tel_data_add_dict_u64(info, "staged_files", st->staged_files);
	rte_tel_data_add_dict_u64(info, "staged_failed", st->staged_failed);
	/* xferctl stats' dataplane.source_readers[], one dict per reader: flattened by lcore,
	 * as DPDK 22.11 arrays hold no dictionaries. */
	for (unsigned int w = 0; w < st->n_readers; w++) {
		static const char *const names[] = { "whole_files", "delta_files", "parks" };
		const uint64_t vals[] = { st->readers[w].whole_files, st->readers[w].delta_files,
			                  st->readers[w].parks };

		for (unsigned int k = 0; k < 3; k++) {
			snprintf(key, sizeof(key), "source_reader_%u_%s", st->readers[w].lcore,
			         names[k]);
			rte_tel_data_add_dict_u64(info, key, vals[k]);
		}
	}
	rte_tel_data_add_dict_u64(info, "delta_basis_kept_bytes", st->basis_kept_bytes);
	rte_tel_data_add_dict_u64(info, "delta_sig_from_ring", st->sig_from_ring);
	rte_tel_data_add_dict_u64(info, "delta_sig_from_heap", st->sig_from_heap);
	rte_tel_data_add_dict_u64(info, "delta_cloned_bytes", st->cloned_bytes);
	rte_tel_data_add_dict_u64(info, "delta_copy_range_bytes", st->copy_range_bytes);
	rte_tel_data_add_dict_u64(info, "delta_crc_combined_bytes", st->crc_combined_bytes);
	rte_tel_data_add_dict_u64(info, "delta_basis_changed", st->basis_changed);
	rte_tel_data_add_dict_u64(info, "delta_basis_dirty", st->basis_dirty);
	rte_tel_data_add_dict_u64(info, "delta_basis_sync_done", st->basis_sync_done);
	rte_tel_data_add_dict_u64(info, "delta_temp_presized", st->temp_presized);
	rte_tel_data_add_dict_u64(info, "delta_clone_slow", st->clone_slow);
	rte_tel_data_add_dict_u64(info, "delta_partial_kept", st->partial_kept);
	rte_tel_data_add_dict_u64(info, "delta_partial_used", st->partial_used);
	rte_tel_data_add_dict_u64(info, "delta_partial_bytes_saved", st->partial_saved);
	rte_tel_data_add_dict_u64(info, "delta_partial_evicted", st->partial_evicted);
	rte_tel_data_add_dict_u64(info, "delta_partial_stale", st->partial_stale);
	rte_tel_data_add_dict_u64(info, "delta_partial_recovered", st->partial_recovered);
	rte_tel_data_add_dict_u64(info, "delta_partial_discarded", st->partial_discarded);
	rte_tel_data_add_dict_u64(info, "delta_partial_untagged", st->partial_untagged);
	rte_tel_data_add_dict_u64(info, "delta_redone", st->redone);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_hits", st->sc_hits);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_misses", st->sc_misses);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_stale", st->sc_stale);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_stored", st->sc_stored);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_committed", st->sc_committed);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_evicted", st->sc_evicted);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_loaded", st->sc_loaded);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_corrupt", st->sc_corrupt);
	rte_tel_data_add_dict_u64(info, "delta_sig_cache_bytes", st->sc_bytes);
	rte_tel_data_add_dict_u64(info, "compress_frames_inflated", st->zip_frames);
	rte_tel_data_add_dict_u64(info, "compress_bytes_in", st->zip_bytes_in);
	rte_tel_data_add_dict_u64(info, "compress_bytes_out", st->zip_bytes_out);
	rte_tel_data_add_dict_u64(info, "compress_refused_bad", st->zip_bad);
	rte_tel_data_add_dict_u64(info, "compress_refused_long", st->zip_long);
	rte_tel_data_add_dict_u64(info, "compress_refused_short", st->zip_short);
	/* Every volume's receive pipeline, summed (xferctl stats has them per volume). */
	for (size_t i = 0; i < XF_PIPELINE_RX_STATS_N; i++) {
		snprintf(key, sizeof(key), "pipeline_%s", xf_pipeline_rx_stats_names[i]);
		rte_tel_data_add_dict_u64(info, key, ((const uint64_t *)&st->pipeline)[i]);
	}
	free(s);
	return 0;
}

/* "N" as a job id, or 0 if params is not a positive decimal number. */
static unsigned int
param_id(const char *params)
{
	char *end;
	unsigned long v;

	if (params == NULL || params[0] < '0' || params[0] > '9') {
		return 0;
	}
	errno = 0;
	v = strtoul(params, &end, 10);
	return errno == 0 && *end == '\0' && v <= UINT32_MAX ? (unsigned int)v : 0;
}

static void
job_dict(struct rte_tel_data *info, const struct tel_job *tj)
{
	const struct xf_job_info *j = &tj->info;
	uint32_t settled = j->push.files_committed + j->push.files_uptodate + j->push.files_failed;

	rte_tel_data_start_dict(info);
	rte_tel_data_add_dict_u64(info, "id", j->id);
	rte_tel_data_add_dict_string(info, "state", xf_job_state_str(j->state));
	rte_tel_data_add_dict_string(info, "src", j->src);
	rte_tel_data_add_dict_string(info, "peer", tj->peer);
	rte_tel_data_add_dict_string(info, "dest", j->dest);
	rte_tel_data_add_dict_string(info, "io", j->io);
	rte_tel_data_add_dict_u64(info, "files_total", j->push.files_total);
	rte_tel_data_add_dict_u64(info, "files_done", settled);
	rte_tel_data_add_dict_u64(info, "files_sent", j->push.files_sent);
	rte_tel_data_add_dict_u64(info, "files_redone", j->push.files_redone);
	rte_tel_data_add_dict_u64(info, "files_data_end", j->push.files_data_end);
	rte_tel_data_add_dict_u64(info, "files_committed", j->push.files_committed);
	rte_tel_data_add_dict_u64(info, "files_uptodate", j->push.files_uptodate);
	rte_tel_data_add_dict_u64(info, "files_failed", j->push.files_failed);
	rte_tel_data_add_dict_u64(info, "files_skipped", j->files_skipped);
	rte_tel_data_add_dict_u64(info, "bytes_total", j->push.bytes_total);
	rte_tel_data_add_dict_u64(info, "bytes_done", j->push.bytes_sent);
	rte_tel_data_add_dict_u64(info, "wire_bytes_sent", j->push.wire_bytes_sent);
	rte_tel_data_add_dict_u64(info, "wire_bytes_received", j->push.wire_bytes_received);
	rte_tel_data_add_dict_u64(info, "retransmits", j->push.retransmits);
	rte_tel_data_add_dict_u64(info, "lost", j->rel.lost);
	rte_tel_data_add_dict_u64(info, "rtt_us", j->rel.smoothed_rtt_ns / 1000);
	rte_tel_data_add_dict_u64(info, "elapsed_ms", j->elapsed_ns / 1000000);
	/* the congestion controller, as "cc" of xferctl sessions --json (flat: cc_*) */
	rte_tel_data_add_dict_string(info, "cc_algo", xf_cc_algo_str(j->rel.cc.algo));
	rte_tel_data_add_dict_string(info, "cc_state", xf_cc_state_str(j->rel.cc.state));
	rte_tel_data_add_dict_u64(info, "cc_bw_bps", j->rel.cc.bw * 8);
	rte_tel_data_add_dict_u64(info, "cc_min_rtt_us", j->rel.cc.min_rtt_ns / 1000);
	rte_tel_data_add_dict_u64(info, "cc_pacing_bps", j->rel.cc.pacing_rate * 8);
	rte_tel_data_add_dict_u64(info, "cc_inflight_bytes", j->rel.cc.inflight);
	if (j->rel.cc.cwnd != UINT64_MAX) {
		rte_tel_data_add_dict_u64(info, "cc_cwnd_bytes", j->rel.cc.cwnd);
	}
	rte_tel_data_add_dict_u64(info, "cc_loss_pm", j->rel.cc.loss_pm);
	if (j->error[0] != '\0') {
		rte_tel_data_add_dict_string(info, "error", j->error);
	}
}

/*
 * /xferd/jobs: {"ids": [...], "running": N}; /xferd/jobs,ID: that job, with the
 * fields of `xferctl jobs --json`. /xferd/sessions: the same over running jobs (the
 * sessions this appliance sends on) plus "receiving", the sessions it serves.
 */
static int
list_or_one(const char *params, struct rte_tel_data *info, bool sessions)
{
	struct tel_snap *s = snap_get();
	struct rte_tel_data *ids;
	unsigned int id = param_id(params);
	int rc = 0;

	if (s == NULL) {
		return -ENODATA;
	}
	if (params != NULL && params[0] != '\0') {
		rc = -EINVAL;
		for (unsigned int i = 0; id != 0 && i < s->njobs; i++) {
			if (s->jobs[i].info.id == id &&
			    (!sessions || s->jobs[i].info.state == XF_JOB_RUNNING)) {
				job_dict(info, &s->jobs[i]);
				rc = 0;
			}
		}
		free(s);
		return rc;
	}
	ids = rte_tel_data_alloc();
	if (ids == NULL) {
		free(s);
		return -ENOMEM;
	}
	rte_tel_data_start_array(ids, RTE_TEL_U64_VAL);
	for (unsigned int i = 0; i < s->njobs; i++) {
		if (!sessions || s->jobs[i].info.state == XF_JOB_RUNNING) {
			rte_tel_data_add_array_u64(ids, s->jobs[i].info.id);
		}
	}
	rte_tel_data_start_dict(info);
	rte_tel_data_add_dict_container(info, sessions ? "sending" : "ids", ids, 0);
	if (sessions) {
		rte_tel_data_add_dict_u64(info, "receiving", s->st.sessions);
	} else {
		rte_tel_data_add_dict_u64(info, "running", running_jobs(s));
	}
	free(s);
	return 0;
}

static int
tel_jobs(const char *cmd, const char *params, struct rte_tel_data *info)
{
	(void)cmd;
	return list_or_one(params, info, false);
}

static int
tel_sessions(const char *cmd, const char *params, struct rte_tel_data *info)
{
	(void)cmd;
	return list_or_one(params, info, true);
}

int
xferd_telemetry_init(struct xferd *d)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/xferd/status", tel_status, "Appliance status. Takes no parameters." },
		{ "/xferd/stats", tel_stats,
		  "Port, drop and dataplane counters (as xferctl stats). No parameters." },
		{ "/xferd/jobs", tel_jobs,
		  "Job ids; with a parameter, one job's counters. Parameters: int job_id" },
		{ "/xferd/sessions", tel_sessions,
		  "Sending sessions (running jobs) and the count of receiving ones; with a "
		  "parameter, one. Parameters: int job_id" },
	};

	/* Publish before registering: a query never sees an empty snapshot. */
	xferd_telemetry_refresh(d);
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(cmds); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);

		if (rc < 0) {
			XF_LOG(WARNING, "xferd", "telemetry %s: %s", cmds[i].cmd, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
