/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's view of push jobs: `jobs` (each job's counters, rates, its share
 * of the running jobs' rate, what --delete did, the failed files it names) as the
 * engine's snapshots give them. Read-only: what starts, drives or cancels a job is in
 * xferd_engine.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_cc.h"
#include "xf_ctl.h"
#include "xf_engine.h"
#include "xferd.h"

/* What --delete did: status "pending" until the receiver's DONE says (docs/CONTROL.md). */
static json_t *
job_delete_json(const struct xf_job_info *j)
{
	static const char *const names[] = {
		[XF_DEL_OK] = "done",
		[XF_DEL_LIMIT] = "limit",
		[XF_DEL_SKIPPED] = "skipped",
		[XF_DEL_ERROR] = "error",
	};
	const char *st = "pending";

	if (j->delete_scan_errors) {
		st = "scan_errors";
	} else if (j->push.delete_reported && j->push.delete_status <= XF_DEL_MAX) {
		st = names[j->push.delete_status];
	}
	return json_pack("{s:s,s:I,s:I}", "status", st, "deleted",
	                 (json_int_t)j->push.files_deleted, "kept",
	                 (json_int_t)j->push.delete_kept);
}

/* The congestion controller of a session (docs/CONTROL.md, sessions): rates in bits/s;
 * cwnd null when there is none (session.congestion none). */
json_t *
xferd_cc_json(const struct xf_cc_info *cc)
{
	json_t *o =
	        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "algo", xf_cc_algo_str(cc->algo),
	                  "state", xf_cc_state_str(cc->state), "bw_bps", (json_int_t)(cc->bw * 8),
	                  "min_rtt_us", (json_int_t)(cc->min_rtt_ns / 1000), "pacing_bps",
	                  (json_int_t)(cc->pacing_rate * 8), "inflight_bytes",
	                  (json_int_t)cc->inflight, "loss_pm", (json_int_t)cc->loss_pm);

	if (o != NULL) {
		json_object_set_new(o, "cwnd_bytes",
		                    cc->cwnd == UINT64_MAX ? json_null()
		                                           : json_integer((json_int_t)cc->cwnd));
	}
	return o;
}

/* A job's rate in bit/s over the time it ran (not the time it waited queued). */
static uint64_t
job_rate(const struct xf_job_info *j)
{
	double secs = (double)(j->elapsed_ns - XF_MIN(j->queued_ns, j->elapsed_ns)) / 1e9;
	uint64_t done_bytes = j->push.bytes_literal + j->push.bytes_matched + j->push.bytes_sparse;

	return secs > 0 ? (uint64_t)((double)done_bytes * 8 / secs) : 0;
}

/*
 * How the running jobs share the appliance: each running job's share of their summed
 * rates against the fair share (1/n), and Jain's index over their rates (1: all equal,
 * 1/n: one job has it all). Rates are each job's average since it started running.
 */
struct job_shares {
	unsigned int running;
	double sum, sum_sq; /**< of the running jobs' rates */
};

/* A path as a JSON string: as it is when it is UTF-8, else with each byte that is not
 * (and each control character) written as rsync writes it, "\#ooo". */
static json_t *
path_json(const char *p, size_t len)
{
	json_t *s = json_stringn(p, len);
	char *buf;
	size_t at = 0;

	if (s != NULL || (buf = malloc(len * 5 + 1)) == NULL) {
		return s;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch >= 0x7f) {
			at += (size_t)sprintf(buf + at, "\\#%03o", ch);
		} else {
			buf[at++] = (char)ch;
		}
	}
	s = json_stringn(buf, at);
	free(buf);
	return s;
}

/* The first failed files of a job by name and status (xf_push_stats.fail_file): which
 * ones an operator must look at; beyond XF_PUSH_FAILS_KEPT they are only counted. */
static json_t *
failures_json(const struct xf_job_info *j, const struct xferd *d)
{
	json_t *a = json_array();

	for (unsigned int k = 0; a != NULL && k < j->push.fails_kept; k++) {
		const char *path;
		uint16_t len;

		if (xf_engine_job_path(d->engine, j->id, j->push.fail_file[k], &path, &len) != 0) {
			continue;
		}
		json_array_append_new(a, json_pack("{s:o, s:s}", "path", path_json(path, len),
		                                   "status",
		                                   xf_proto_status_str(j->push.fail_status[k])));
	}
	return a;
}

static json_t *
job_json(const struct xf_job_info *j, const struct xferd *d, const struct job_shares *sh)
{
	double secs = (double)(j->elapsed_ns - XF_MIN(j->queued_ns, j->elapsed_ns)) / 1e9;
	/* File bytes covered: sent as literals, matched in the receiver's basis (COPY), or holes
	 * of sparse files (not sent). */
	uint64_t done_bytes = j->push.bytes_literal + j->push.bytes_matched + j->push.bytes_sparse;
	uint64_t rate = secs > 0 ? (uint64_t)((double)done_bytes * 8 / secs) : 0;
	uint32_t settled = j->push.files_committed + j->push.files_uptodate + j->push.files_failed;
	uint64_t left = j->push.bytes_total > done_bytes ? j->push.bytes_total - done_bytes : 0;
	json_t *o = json_pack(
	        "{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	        "s:I, s:I, s:I, s:I, s:I}",
	        "id", (int)j->id, "state", xf_job_state_str(j->state), "src", j->src, "peer",
	        xferd_slot_name(d, j->peer), "dest", j->dest, "files_total",
	        (json_int_t)j->push.files_total, "files_done", (json_int_t)settled, "files_sent",
	        (json_int_t)j->push.files_sent, "files_uptodate",
	        (json_int_t)j->push.files_uptodate, "files_failed",
	        (json_int_t)j->push.files_failed, "files_skipped", (json_int_t)j->files_skipped,
	        "bytes_total", (json_int_t)j->push.bytes_total, "bytes_done",
	        (json_int_t)done_bytes, "bytes_literal", (json_int_t)j->push.bytes_literal,
	        "bytes_matched", (json_int_t)j->push.bytes_matched, "wire_bytes_sent",
	        (json_int_t)j->push.wire_bytes_sent, "wire_bytes_received",
	        (json_int_t)j->push.wire_bytes_received, "retransmits",
	        (json_int_t)j->push.retransmits, "rate_bps", (json_int_t)rate, "eta_s",
	        (json_int_t)(rate > 0 ? left * 8 / rate : 0), "elapsed_ms",
	        (json_int_t)(j->elapsed_ns / 1000000));

	if (o != NULL) {
		json_object_set_new(o, "bytes_sparse",
		                    json_integer((json_int_t)j->push.bytes_sparse));
		/* DELTA files the receiver asked again whole (docs/DELTA.md, "Sent again
		 * whole"): counted once in files_sent. */
		json_object_set_new(o, "files_redone",
		                    json_integer((json_int_t)j->push.files_redone));
		/* Files sent in one frame with their end (docs/PROTOCOL.md 6.9). */
		json_object_set_new(o, "files_data_end",
		                    json_integer((json_int_t)j->push.files_data_end));
		json_object_set_new(o, "read_retries",
		                    json_integer((json_int_t)j->push.read_retries));
		if (j->push.fails_kept > 0) {
			json_object_set_new(o, "failures", failures_json(j, d));
		}
		json_object_set_new(o, "rtt_us",
		                    json_integer((json_int_t)(j->rel.smoothed_rtt_ns / 1000)));
		json_object_set_new(o, "lost", json_integer((json_int_t)j->rel.lost));
		/* The receiver's COMMITs and DONEs left unacknowledged for one missing ahead
		 * of them (docs/PROTOCOL.md 3.8): the receiver sends them again. */
		json_object_set_new(
		        o, "out_of_order",
		        json_integer((json_int_t)j->push.commits_early + j->push.done_early));
		/* Losses later disproved by an ACK, and probe timeouts: on a lossless link
		 * every retransmission should be explained by these (docs/RELIABILITY.md). */
		json_object_set_new(o, "spurious", json_integer((json_int_t)j->rel.spurious));
		json_object_set_new(o, "pto", json_integer((json_int_t)j->rel.pto));
		/* Where a lossy push spends its time: how far the probe timer backed off, and
		 * the receiver's frames (ACKs included) that never reached us. */
		json_object_set_new(o, "pto_backoff_max",
		                    json_integer((json_int_t)j->rel.pto_backoff_max));
		json_object_set_new(o, "peer_missing", json_integer((json_int_t)j->rel.rx_missing));
		json_object_set_new(o, "cc", xferd_cc_json(&j->rel.cc));
		json_object_set_new(o, "io", json_string(j->io));
		/* The peer's volume as asked ("" for its first one, whatever its name). */
		json_object_set_new(o, "volume", json_string(j->volume));
		json_object_set_new(o, "files_filtered",
		                    json_integer((json_int_t)j->files_filtered));
		json_object_set_new(o, "dry_run", json_boolean(j->dry_run));
		json_object_set_new(o, "itemize", json_boolean(j->itemize));
		json_object_set_new(o, "hard_links", json_boolean(j->hard_links));
		json_object_set_new(o, "owner", json_boolean(j->owner));
		json_object_set_new(o, "group", json_boolean(j->group));
		json_object_set_new(o, "owner_names", json_boolean(j->owner_names));
		json_object_set_new(o, "xattrs", json_boolean(j->xattrs));
		json_object_set_new(o, "acls", json_boolean(j->acls));
		json_object_set_new(o, "files_hardlinked",
		                    json_integer((json_int_t)j->files_hardlinked));
		/* --compress: whether and why (the job, transfer.compress, the peer's volume),
		 * what the reader tried and what it saved (docs/PROTOCOL.md 6.16). */
		json_object_set_new(
		        o, "compress",
		        json_pack("{s:b, s:s, s:b, s:I, s:I, s:I, s:I}", "on", j->compress, "why",
		                  xf_zip_why_str((enum xf_zip_why)j->compress_why), "peer_asked",
		                  j->push.zip_asked, "frames_tried", (json_int_t)j->push.zip_tried,
		                  "frames_compressed", (json_int_t)j->push.zip_frames, "bytes_raw",
		                  (json_int_t)j->push.bytes_literal, "bytes_wire",
		                  (json_int_t)j->push.bytes_data_wire));
		/* Sessions that carry it (docs/ENGINE.md, "Lanes"): the counters add theirs. */
		json_object_set_new(o, "lanes", json_integer((json_int_t)j->lanes));
		json_object_set_new(o, "queued_ms",
		                    json_integer((json_int_t)(j->queued_ns / 1000000)));
		if (j->state == XF_JOB_RUNNING) {
			json_object_set_new(
			        o, "share",
			        json_real(sh->sum > 0 ? (double)job_rate(j) / sh->sum : 0));
			json_object_set_new(o, "fair_share",
			                    json_real(sh->running > 0 ? 1.0 / sh->running : 1.0));
		}
		if (j->delete_asked) {
			json_object_set_new(o, "delete", job_delete_json(j));
		}
		if (j->pull) {
			json_object_set_new(o, "pull", xferd_pull_json(d, j));
		}
		if (j->error[0] != '\0') {
			json_object_set_new(o, "error", json_string(j->error));
		}
	}
	return o;
}

/*
 * Every job read once: a reply's list, each running job's share and fair share and its
 * fairness summary all come from these copies. The engine's RX core moves jobs on while
 * the control thread reads them, so reading each job twice (once to sum the shares, once
 * to list it) could count a job running in the sum and done in the list: fair shares
 * that did not add up to the running jobs listed, or a share above 1.
 */
struct jobs_snap {
	unsigned int n;
	struct job_shares sh; /**< of the running jobs among info[] */
	struct xf_job_info info[XF_ENGINE_MAX_JOBS];
};

/* @return the snapshot (free()), or NULL out of memory. */
static struct jobs_snap *
jobs_snap(struct xferd *d)
{
	unsigned int ids[XF_ENGINE_MAX_JOBS],
	        nids = xf_engine_jobs(d->engine, ids, XF_ENGINE_MAX_JOBS);
	/* on the heap: XF_ENGINE_MAX_JOBS copies are too large for the control thread's stack */
	struct jobs_snap *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	for (unsigned int i = 0; i < nids; i++) {
		struct xf_job_info *info = &s->info[s->n];

		if (xf_engine_job(d->engine, ids[i], info) != 0) {
			continue; /* gone since it was listed */
		}
		s->n++;
		if (info->state == XF_JOB_RUNNING) {
			double r = (double)job_rate(info);

			s->sh.running++;
			s->sh.sum += r;
			s->sh.sum_sq += r * r;
		}
	}
	return s;
}

static json_t *
snap_list_json(const struct jobs_snap *s, struct xferd *d)
{
	json_t *list = json_array();

	for (unsigned int i = 0; list != NULL && i < s->n; i++) {
		json_array_append_new(list, job_json(&s->info[i], d, &s->sh));
	}
	return list;
}

json_t *
xferd_jobs_json(struct xferd *d)
{
	struct jobs_snap *s = jobs_snap(d);
	json_t *list;

	if (s == NULL) {
		return NULL;
	}
	list = snap_list_json(s, d);
	free(s);
	return list;
}

void
xferd_h_jobs(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	json_t *id = json_object_get(args, "id"), *list = NULL;
	struct jobs_snap *s;

	if (id != NULL && !json_is_integer(id)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "args.id: expected an integer");
		return;
	}
	s = jobs_snap(d);
	if (s == NULL) {
		xf_ctl_reply_error(reply, XF_CTL_E_BUSY, "out of memory");
		return;
	}
	/* Shares are of every running job, whichever ones were asked for. */
	if (id == NULL) {
		list = snap_list_json(s, d);
	} else {
		for (unsigned int i = 0; i < s->n; i++) {
			if ((json_int_t)s->info[i].id == json_integer_value(id)) {
				list = json_pack("[o]", job_json(&s->info[i], d, &s->sh));
				break;
			}
		}
		if (list == NULL) {
			xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND,
			                   "no job %" JSON_INTEGER_FORMAT, json_integer_value(id));
			free(s);
			return;
		}
	}
	reply->result = json_pack(
	        "{s:o, s:{s:i, s:f}}", "jobs", list, "fairness", "running", (int)s->sh.running,
	        "jain",
	        s->sh.sum_sq > 0 ? s->sh.sum * s->sh.sum / (s->sh.running * s->sh.sum_sq) : 1.0);
	free(s);
}
