/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A job carried by several sessions ("lanes", docs/ENGINE.md "Lanes"), on the control
 * thread: the file list split (xf_lanes.h), one child record per session, the phases
 * (the directories, then the lanes side by side, then the directories again for their
 * mtimes, or with --delete the deletion pass over the whole list), the job's end when its
 * sessions have ended, its stats as their sum and its itemized list as their records.
 * The children run on the RX cores as any job does (xf_engine_jobs.c); this file only
 * starts them, reads what they publish and cancels them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_random.h>

#include "xf_base.h"
#include "xf_engine_priv.h"
#include "xf_lanes.h"

#define MODULE "engine"

/* The phases, in order; a phase with no session is passed over. */
enum {
	PH_DIRS,     /* the directory pass: every directory made, with its mode */
	PH_LANES,    /* the lanes, side by side */
	PH_DIRTIMES, /* the directory pass again: mtimes the lanes' files moved are set */
	PH_DELETE,   /* --delete: the whole list in one session, which deletes what it lacks */
	PH_END,
};

#define CHILD_MAX  (XF_LANES_MAX + 3u)
#define DIR_PASS_A UINT8_MAX       /* lane_of[] of the directory passes */
#define DIR_PASS_B (UINT8_MAX - 1) /* (for the error messages) */
#define DEL_PASS   (UINT8_MAX - 2) /* lane_of[] of the deletion pass */

struct eng_lanes {
	struct xf_lanes *split;
	unsigned int nlanes;
	unsigned int n;               /* children */
	unsigned int slot[CHILD_MAX]; /* their records */
	unsigned int id[CHILD_MAX];   /* their ids (a record is freed with the parent) */
	uint8_t phase_of[CHILD_MAX];  /* PH_* */
	uint8_t lane_of[CHILD_MAX];   /* lane index, or DIR_PASS_* */
	bool sent[CHILD_MAX];         /* its START went to its RX core */
	bool cancel_sent[CHILD_MAX];  /* its CANCEL did */
	unsigned int phase;
	bool cancel; /* the operator cancelled the job */
	int failed;  /* the first child that ended other than DONE, -1: none */
	/* -i: the records of the directory pass and the lanes, in split order (items[k] is
	 * entry order[k]'s), merged into the job's at its end (items_merge) */
	uint16_t *items;
	bool delete_skipped; /* --delete: a file of a lane failed, so the pass did not run */
};

static void
split_entry(void *arg, uint32_t i, struct xf_flist_entry *e)
{
	eng_job_entry(arg, i, e);
}

/* Where a job's sessions run: lane k on RX core rx[k], sending from port[k] (0:
 * udp_port); the passes on pass_rx, from udp_port. */
struct lanes_place {
	uint16_t rx[XF_LANES_MAX];
	uint16_t port[XF_LANES_MAX];
	uint16_t pass_rx;
};

/* Whether a core other than 0 can resolve the peer: ARP answers reach one queue only (a
 * NIC's RSS puts non-IP frames on queue 0), so only from a static entry
 * (ports[].neighbors) of its next hop. */
static bool
hop_static(const struct xf_engine *e, const struct eng_job *p)
{
	uint32_t hop = xf_net_next_hop(&e->rx[0].net, e->peers_next.peers[p->req.peer].ip);

	for (unsigned int i = 0; i < e->conf.n_neighbors; i++) {
		if (e->conf.neighbors[i].ip == hop) {
			return true;
		}
	}
	return false;
}

/* Under a NIC's RSS whose key and table we read (xf_port rss_read), the ports whose
 * answers hash to each lane's queue, and the passes' queue (their answers come to
 * udp_port). */
static bool
place_rss(const struct xf_engine *e, const struct eng_job *p, unsigned int nlanes,
          struct lanes_place *pl)
{
	const struct xf_engine_peer *peer = &e->peers_next.peers[p->req.peer];
	const struct xf_lanes_rss rss = {
		.key = e->port.rss_key,
		.key_len = e->port.rss_key_len,
		.reta = e->port.reta,
		.reta_size = e->port.reta_size,
	};
	uint32_t us = rte_be_to_cpu_32(e->conf.ip), them = rte_be_to_cpu_32(peer->ip);

	if (e->port.rss_key_len == 0 || e->port.nb_queues != e->conf.n_rx ||
	    xf_lanes_rss_ports(&rss, us, them, peer->udp_port, (uint16_t)e->conf.udp_port,
	                       (uint16_t)e->conf.n_rx, nlanes, pl->port, pl->rx) < 0) {
		return false;
	}
	pl->pass_rx =
	        xf_lanes_rss_queue(&rss, them, us, peer->udp_port, (uint16_t)e->conf.udp_port);
	return true;
}

/* Whether a job's lanes run on their own RX cores, and where (docs/ENGINE.md,
 * "Steering"). On net_memif a frame comes out of the peer's queue of the number it was
 * sent on, and the peer answers on that queue too: lane k on core k % n_rx. Under flow
 * rules the answers to lane k's port go to queue k % n_rx, and under RSS those to a port
 * go where the hash of its 5-tuple sends them, which xf_lanes_rss_ports picks the ports
 * by; both need the next hop's static entry. Else every lane runs on RX core 0 (from
 * lane k's port, or under flow rules, which would put its answers on queue k, from
 * ours). */
static bool
lanes_spread(const struct xf_engine *e, const struct eng_job *p, unsigned int nlanes,
             struct lanes_place *pl)
{
	bool flow = e->port.steering == XF_PORT_STEER_FLOW;

	pl->pass_rx = 0;
	if (e->port.steering == XF_PORT_STEER_RSS && e->conf.n_rx > 1 && hop_static(e, p) &&
	    place_rss(e, p, nlanes, pl)) {
		return true;
	}
	if (e->port.steering == XF_PORT_STEER_SENDER || (flow && hop_static(e, p))) {
		for (unsigned int k = 0; k < nlanes; k++) {
			pl->rx[k] = xf_lanes_queue(k, (uint16_t)e->conf.n_rx);
			pl->port[k] = (uint16_t)(e->conf.udp_port + k);
		}
		return true;
	}
	for (unsigned int k = 0; k < nlanes; k++) {
		pl->rx[k] = 0;
		pl->port[k] = flow ? 0 : (uint16_t)(e->conf.udp_port + k);
	}
	return false;
}

static int
child_add(struct xf_engine *e, struct eng_job *p, const uint32_t *map, uint32_t count,
          uint8_t phase, uint8_t lane, const struct lanes_place *pl)
{
	struct eng_lanes *L = p->lanes;
	struct eng_job *c = eng_job_slot(e);

	if (c == NULL) {
		return -EBUSY;
	}
	memcpy(c, p, sizeof(*c));
	atomic_store_explicit(&c->seq, 0, memory_order_relaxed);
	c->lanes = NULL;
	/* -i: a session's records go where its entries' are kept: the deletion pass lists
	 * the whole list (map NULL) and writes the job's own, which the lanes' overwrite at
	 * the end (items_merge); it alone deletes, and lists what it deleted. The second
	 * directory pass reports nothing the first did not. */
	c->items = L->items == NULL || phase == PH_DIRTIMES ? NULL
	           : phase == PH_DELETE                     ? p->items
	                                                    : L->items + (map - L->split->order);
	c->deleted = phase == PH_DELETE ? p->deleted : NULL;
	c->req.delete_extra = phase == PH_DELETE;
	/* The lanes committed every file with its size and mtime (by checksum with -c):
	 * the deletion pass finds them by the quick check, reading none again. */
	c->req.checksum = c->req.checksum && phase != PH_DELETE;
	c->parent = (unsigned int)(p - e->jobs) + 1;
	c->map = map;
	c->count = count;
	do {
		c->session_id = (uint32_t)rte_rand();
	} while (c->session_id == 0);
	c->nonce = rte_rand();
	e->next_lane_id = (e->next_lane_id + 1) & ~ENG_LANE_ID_BIT;
	c->id = ENG_LANE_ID_BIT | e->next_lane_id;
	/* As lanes_spread placed it; a pass from udp_port. */
	c->rx = phase == PH_LANES ? pl->rx[lane] : pl->pass_rx;
	c->lane_port = phase == PH_LANES ? pl->port[lane] : 0;
	L->slot[L->n] = (unsigned int)(c - e->jobs);
	L->id[L->n] = c->id;
	L->phase_of[L->n] = phase;
	L->lane_of[L->n] = lane;
	L->n++;
	return 0;
}

int
eng_lanes_create(struct xf_engine *e, struct eng_job *p, unsigned int nlanes, char *err,
                 size_t err_len)
{
	struct eng_lanes *L = calloc(1, sizeof(*L));
	struct lanes_place pl;
	bool spread = lanes_spread(e, p, nlanes, &pl);
	int rc = 0;

	if (!spread && e->conf.n_rx > 1 &&
	    (e->port.steering == XF_PORT_STEER_FLOW || e->port.steering == XF_PORT_STEER_RSS)) {
		XF_LOG(NOTICE, MODULE, "job %u: its lanes run on RX core 0: %s", p->id,
		       !hop_static(e, p)
		               ? "the peer's next hop has no static entry (ports[].neighbors), "
		                 "and ARP answers reach queue 0 only"
		               : "the port's RSS key and table are not known, or it has other "
		                 "queues than RX cores");
	}
	if (L == NULL) {
		snprintf(err, err_len, "out of memory for the lanes");
		return -ENOMEM;
	}
	L->failed = -1;
	L->nlanes = nlanes;
	p->lanes = L;
	if (p->items != NULL) {
		L->items = calloc(p->count > 0 ? p->count : 1, sizeof(*L->items));
		if (L->items == NULL) {
			snprintf(err, err_len, "out of memory for the lanes' itemized lists");
			return -ENOMEM;
		}
	}
	L->split = xf_lanes_split(p->count, nlanes, split_entry, p);
	if (L->split == NULL) {
		rc = -errno;
		snprintf(err, err_len, "%s",
		         rc == -ENOENT ? "a hard link whose leader is not in the list"
		                       : "out of memory for the lanes");
		return rc;
	}
	if (L->split->ndirs > 0) {
		rc = child_add(e, p, L->split->order, L->split->ndirs, PH_DIRS, DIR_PASS_A, &pl);
	}
	for (unsigned int k = 0; k < nlanes && rc == 0; k++) {
		if (xf_lanes_count(L->split, k) > 0) {
			rc = child_add(e, p, L->split->order + L->split->start[k],
			               xf_lanes_count(L->split, k), PH_LANES, (uint8_t)k, &pl);
		}
	}
	/* A dry run moves no mtime. The deletion pass sets those its deletions moved. */
	if (L->split->ndirs > 0 && !p->req.dry_run && rc == 0) {
		rc = child_add(e, p, L->split->order, L->split->ndirs, PH_DIRTIMES, DIR_PASS_B,
		               &pl);
	}
	if (p->req.delete_extra && rc == 0) {
		rc = child_add(e, p, NULL, p->count, PH_DELETE, DEL_PASS, &pl);
	}
	if (rc < 0) {
		snprintf(err, err_len,
		         "no room for %u lanes: %u job records are in use (each lane takes one, "
		         "a tree with directories two more, and --delete one more)",
		         nlanes, XF_ENGINE_MAX_JOBS);
	}
	return rc;
}

void
eng_lanes_free(struct xf_engine *e, struct eng_job *p)
{
	struct eng_lanes *L = p->lanes;

	if (L == NULL) {
		return;
	}
	for (unsigned int i = 0; i < L->n; i++) {
		struct eng_job *c = &e->jobs[L->slot[i]];

		if (c->id == L->id[i]) {
			memset(c, 0, sizeof(*c));
			c->dir_fd = -1;
		}
	}
	xf_lanes_free(L->split);
	free(L->items);
	free(L);
	p->lanes = NULL;
}

static bool
child_finished(const struct eng_job *c)
{
	return __atomic_load_n(&c->finished, __ATOMIC_ACQUIRE);
}

static bool
child_cmd(struct xf_engine *e, const struct eng_job *c, uint32_t type)
{
	return eng_cmd_post(e, c, (enum eng_cmd_type)type) == 0;
}

/* The running children of the phase are cancelled (a failed lane, or the operator);
 * a CANCEL that found its command ring full goes at the next poll. */
static void
phase_cancel(struct xf_engine *e, struct eng_lanes *L)
{
	for (unsigned int i = 0; i < L->n; i++) {
		const struct eng_job *c = &e->jobs[L->slot[i]];

		if (L->phase_of[i] == L->phase && L->sent[i] && !L->cancel_sent[i] &&
		    !child_finished(c)) {
			L->cancel_sent[i] = child_cmd(e, c, ENG_CMD_CANCEL);
		}
	}
}

/* -i: the directory pass's and the lanes' records into the job's list, each at its
 * entry's index in the job (xf_lanes_items_merge), over the deletion pass's: the job's
 * itemized list is then the one a single session would give, in list order. The
 * children wrote theirs before they finished (job_end's release fence; child_finished
 * acquires). */
static void
items_merge(struct xf_engine *e, struct eng_job *p)
{
	const struct eng_lanes *L = p->lanes;

	if (L->items != NULL) {
		xf_lanes_items_merge(L->split, L->items, p->items);
	}
	for (unsigned int i = 0; i < L->n; i++) {
		const struct eng_job *c = &e->jobs[L->slot[i]];

		if (L->phase_of[i] == PH_DELETE && L->sent[i]) {
			p->st.deleted_bytes = c->st.deleted_bytes; /* read by xf_engine_job_items */
		}
	}
}

static void
lanes_finish(struct xf_engine *e, struct eng_job *p, enum xf_job_state state, const char *error)
{
	items_merge(e, p);
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
	p->state = (uint8_t)state;
	p->elapsed_ns = xf_engine_now() - p->started_ns;
	snprintf(p->error, sizeof(p->error), "%s", error != NULL ? error : "");
	atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
	p->finished = true;
	XF_LOG(NOTICE, MODULE, "job %u: %s over %u lanes%s%s", p->id, xf_job_state_str(state),
	       p->lanes->nlanes, error != NULL ? ": " : "", error != NULL ? error : "");
}

/* Why the job failed: which session, in its own words. */
static void
fail_message(const struct eng_lanes *L, const struct eng_job *c, char *buf, size_t len)
{
	uint8_t lane = L->lane_of[L->failed];

	if (lane == DEL_PASS) {
		snprintf(buf, len, "the deletion pass: %s", c->error);
	} else if (lane == DIR_PASS_A || lane == DIR_PASS_B) {
		snprintf(buf, len, "the directory pass%s: %s",
		         lane == DIR_PASS_B ? " (mtimes)" : "", c->error);
	} else {
		snprintf(buf, len, "lane %u of %u: %s", lane, L->nlanes, c->error);
	}
}

/* Whether a file of the directory pass or of a lane failed (their records are final). */
static bool
lanes_failed_files(const struct xf_engine *e, const struct eng_lanes *L)
{
	for (unsigned int i = 0; i < L->n; i++) {
		if (L->phase_of[i] < PH_DELETE && e->jobs[L->slot[i]].st.files_failed > 0) {
			return true;
		}
	}
	return false;
}

/* One job's phases, as far as they go now. */
static void
lanes_step(struct xf_engine *e, struct eng_job *p)
{
	struct eng_lanes *L = p->lanes;

	while (L->phase < PH_END) {
		bool all = true;

		if (L->cancel || L->failed >= 0) {
			phase_cancel(e, L); /* those whose CANCEL has not gone yet */
		}
		for (unsigned int i = 0; i < L->n; i++) {
			struct eng_job *c = &e->jobs[L->slot[i]];

			if (L->phase_of[i] != L->phase) {
				continue;
			}
			if (!L->sent[i]) {
				if (L->cancel || L->failed >= 0) {
					continue; /* never started */
				}
				c->started_ns = xf_engine_now();
				L->sent[i] = child_cmd(e, c, ENG_CMD_START);
				all = false;
				continue;
			}
			if (!child_finished(c)) {
				all = false;
			} else if (c->state != XF_JOB_DONE && L->failed < 0) {
				L->failed = (int)i;
				phase_cancel(e, L);
			}
		}
		if (!all) {
			return;
		}
		if (L->failed >= 0 &&
		    !(L->cancel && e->jobs[L->slot[L->failed]].state == XF_JOB_CANCELLED)) {
			char why[sizeof(p->error)];

			fail_message(L, &e->jobs[L->slot[L->failed]], why, sizeof(why));
			lanes_finish(e, p, XF_JOB_FAILED, why);
			return;
		}
		if (L->cancel || L->failed >= 0) {
			lanes_finish(e, p, XF_JOB_CANCELLED, "cancelled");
			return;
		}
		L->phase++;
		if (L->phase == PH_DELETE && p->req.delete_extra && lanes_failed_files(e, L)) {
			/* As a single session deletes nothing after a failed file (one that
			 * failed may be one whose old version the list still names). */
			L->delete_skipped = true;
			L->phase++;
		}
	}
	lanes_finish(e, p, XF_JOB_DONE, NULL);
}

bool
xf_engine_lanes_poll(struct xf_engine *e)
{
	bool running = false;

	for (unsigned int i = 0; i < XF_ENGINE_MAX_JOBS; i++) {
		struct eng_job *p = &e->jobs[i];

		if (p->id != 0 && p->lanes != NULL && !p->finished) {
			lanes_step(e, p);
			running |= !p->finished;
		}
	}
	return running;
}

int
eng_lanes_cancel(struct xf_engine *e, struct eng_job *p)
{
	if (p->finished) {
		return -EALREADY;
	}
	p->lanes->cancel = true;
	phase_cancel(e, p->lanes);
	return 0;
}

/* A child's snapshot (it publishes under seq, as xf_engine_job reads a job). */
static void
child_snap(const struct eng_job *c, struct eng_job *out)
{
	unsigned int s1, s2;

	do {
		s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
		out->state = c->state;
		out->st = c->st;
		out->rel = c->rel;
		out->queued_ns = c->queued_ns;
		out->keyed = c->keyed;
		out->key_updates = c->key_updates;
		out->rekeys = c->rekeys;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&c->seq, memory_order_acquire);
	} while (s1 != s2 || (s1 & 1));
}

/* A lane's counters into its job's; with files, its entries' counts too; with fails, its
 * failed files (named by their index in the job's list: the session's file i is map[i],
 * or i for the deletion pass, which lists the whole list). */
static void
push_add(struct xf_push_stats *d, const struct xf_push_stats *s, bool files, bool fails,
         const uint32_t *map)
{
	if (files) {
		d->files_committed += s->files_committed;
		d->files_uptodate += s->files_uptodate;
		d->files_sent += s->files_sent;
		d->bytes_total += s->bytes_total;
	}
	for (unsigned int k = 0; fails && k < s->fails_kept && d->fails_kept < XF_PUSH_FAILS_KEPT;
	     k++) {
		d->fail_file[d->fails_kept] = map != NULL ? map[s->fail_file[k]] : s->fail_file[k];
		d->fail_status[d->fails_kept++] = s->fail_status[k];
	}
	d->files_failed += fails ? s->files_failed : 0;
	d->files_redone += s->files_redone;
	d->files_data_end += s->files_data_end;
	d->read_retries += s->read_retries;
	d->bytes_sent += s->bytes_sent;
	d->bytes_literal += s->bytes_literal;
	d->bytes_sparse += s->bytes_sparse;
	d->bytes_matched += s->bytes_matched;
	d->bytes_data_wire += s->bytes_data_wire;
	d->zip_tried += s->zip_tried;
	d->zip_frames += s->zip_frames;
	d->zip_on |= s->zip_on;
	d->zip_asked |= s->zip_asked;
	d->wire_bytes_sent += s->wire_bytes_sent;
	d->wire_bytes_received += s->wire_bytes_received;
	d->frames_sent += s->frames_sent;
	d->retransmits += s->retransmits;
	d->done_early += s->done_early;
	d->commits_early += s->commits_early;
}

/* What the deletion pass's receiver said its deletion did. */
static void
delete_copy(struct xf_push_stats *d, const struct xf_push_stats *s)
{
	d->delete_reported = s->delete_reported;
	d->delete_status = s->delete_status;
	d->files_deleted = s->files_deleted;
	d->delete_kept = s->delete_kept;
	d->deleted_listed = s->deleted_listed;
	d->deleted_dropped = s->deleted_dropped;
	d->deleted_bytes = s->deleted_bytes;
}

/* Counters add up; the path's estimates (RTT, congestion) are the busiest lane's. */
static void
rel_add(struct xf_reliab_stats *d, const struct xf_reliab_stats *s)
{
	struct xf_reliab_stats sum = s->sent > d->sent ? *s : *d;

	sum.sent = d->sent + s->sent;
	sum.sent_tracked = d->sent_tracked + s->sent_tracked;
	sum.acked = d->acked + s->acked;
	sum.lost = d->lost + s->lost;
	sum.retransmitted = d->retransmitted + s->retransmitted;
	sum.spurious = d->spurious + s->spurious;
	sum.pto = d->pto + s->pto;
	sum.probes = d->probes + s->probes;
	sum.received = d->received + s->received;
	sum.duplicates = d->duplicates + s->duplicates;
	sum.pn_ahead = d->pn_ahead + s->pn_ahead;
	sum.acks_sent = d->acks_sent + s->acks_sent;
	sum.acks_received = d->acks_received + s->acks_received;
	sum.bytes_in_flight = d->bytes_in_flight + s->bytes_in_flight;
	sum.in_flight = d->in_flight + s->in_flight;
	sum.rx_missing = d->rx_missing + s->rx_missing;
	sum.pto_backoff_max = XF_MAX(d->pto_backoff_max, s->pto_backoff_max);
	*d = sum;
}

void
eng_lanes_info(struct xf_engine *e, const struct eng_job *p, struct xf_job_info *out)
{
	const struct eng_lanes *L = p->lanes;
	bool started = false, keyed = true;

	memset(&out->push, 0, sizeof(out->push));
	memset(&out->rel, 0, sizeof(out->rel));
	out->lanes = L->nlanes;
	out->key_updates = out->rekeys = 0;
	out->queued_ns = 0;
	for (unsigned int i = 0; i < L->n; i++) {
		struct eng_job s;

		if (!L->sent[i]) {
			keyed = false;
			continue;
		}
		child_snap(&e->jobs[L->slot[i]], &s);
		/* The second directory pass lists the directories again, and the deletion pass
		 * the whole list: their traffic counts, their entries were counted by the
		 * others; what the deletion pass deleted is the job's. */
		push_add(&out->push, &s.st, L->phase_of[i] < PH_DIRTIMES,
		         L->phase_of[i] != PH_DIRTIMES, e->jobs[L->slot[i]].map);
		if (L->phase_of[i] == PH_DELETE) {
			delete_copy(&out->push, &s.st);
		}
		rel_add(&out->rel, &s.rel);
		started |= s.state != XF_JOB_QUEUED;
		keyed &= s.keyed;
		out->key_updates += s.key_updates;
		out->rekeys += s.rekeys;
		if (i == 0) {
			out->queued_ns = s.queued_ns;
		}
	}
	out->keyed = keyed && L->n > 0;
	if (L->delete_skipped) {
		out->push.delete_reported = true;
		out->push.delete_status = XF_DEL_SKIPPED;
	}
	out->push.files_total = p->count;
	if (!p->finished) {
		out->state = started ? XF_JOB_RUNNING : XF_JOB_QUEUED;
		out->elapsed_ns = xf_engine_now() - p->started_ns;
	}
}

int
eng_lanes_check(const struct xf_engine *e, const struct xf_engine_push_req *req, char *err,
                size_t err_len)
{
	unsigned int ports = XF_MIN(XF_LANES_MAX, 65536u - e->conf.udp_port);

	if (req->lanes > ports) {
		snprintf(err, err_len, "lanes: %u is more than %u (one UDP port each, from %u on)",
		         req->lanes, ports, e->conf.udp_port);
		return -EINVAL;
	}
	return 0;
}
