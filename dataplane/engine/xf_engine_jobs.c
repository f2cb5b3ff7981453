/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An RX core's push jobs (we are the sender): their frames, their file reads through the
 * workers' rings (never blocking the core), their progress and end, and the commands
 * the control plane sends the core; and the job slots the control thread fills and hands
 * to a core (eng_job_new, eng_job_submit); and, for the control thread, a finished job's
 * itemized list and the paths of its entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_random.h>

#include <openssl/crypto.h>

#include "xf_base.h"
#include "xf_engine_priv.h"
#include "xf_filter.h"
#include "xf_hs_block.h"

/* ---- push jobs (we are the sender) ---- */

static void *
push_frame_alloc(void *arg, uint8_t **payload)
{
	struct eng_job *j = arg;

	return eng_frame_new(j->push_rx, payload);
}

static int
push_frame_send(void *arg, void *frame, uint16_t len)
{
	struct eng_job *j = arg;
	struct eng_rx *rx = j->push_rx;
	const struct xf_engine_peer *peer = &rx->peers[j->req.peer];

	/* Two frames at most (an ARP request and this one). */
	if (!eng_tx_room(rx, 2)) {
		return -EAGAIN;
	}
	/* The session keeps its reference for retransmission; the queue takes another. */
	rte_mbuf_refcnt_update(frame, 1);
	if (rx->e->aead && rte_pktmbuf_mtod((struct rte_mbuf *)frame,
	                                    uint8_t *)[XF_NET_HDR_LEN + 3] == XF_MSG_HELLO) {
		/* Sent again: a copy with a fresh message 1 (docs/SECURITY.md 5). */
		if (j->hello_sends++ > 0) {
			frame = eng_secure_hello_again(rx, j, frame, len);
			if (frame == NULL) {
				return 0; /* no mbuf: the timer sends it again */
			}
		} else {
			j->hello_sent_ns = rx->now; /* eng_secure_job_wait */
		}
	} else if (rx->e->aead) {
		/* Sealed (a copy: the session's stays in clear); before the HELLO_ACK there
		 * are no keys, and the frame waits for its retransmission. */
		if (!j->sec_ready) {
			rx->auth_no_keys++;
			rte_pktmbuf_free(frame);
			return 0;
		}
		frame = eng_secure_tx(rx, &j->sec, frame, &len);
		if (frame == NULL) {
			return 0;
		}
	}
	eng_frame_out(rx, frame, len, peer->ip, peer->udp_port, j->lane_port);
	return 0;
}

static void
push_frame_free(void *arg, void *frame)
{
	(void)arg;
	rte_pktmbuf_free(frame);
}

/*
 * The worker that reads a source file: the same for all of one attempt's requests (file
 * affinity: its CRC-64 and its matcher run in order). A DELTA file's reading is CPU
 * work that stays on its worker (CRC-64, matcher; a few literal frames out of megabytes
 * read), so DELTA files spread over every worker, file by file: one push's matching
 * then runs on as many CPUs as the sender has workers. A WHOLE file's frames are all sealed and
 * sent by this RX core: where a worker shares its lcore (combined mode) they are read there, in the
 * cache of the CPU that sends them and without a hand-off between threads per frame (spread over a
 * second worker lcore, A's CPU on `large` went from 0.82 to 1.17 s, same entry). Without such a
 * worker (an RX core of its own) every file spreads.
 */
static unsigned int
reader_of(const struct eng_rx *rx, uint32_t file, bool delta)
{
	if (!delta && rx->here_worker >= 0) {
		return (unsigned int)rx->here_worker;
	}
	return file % rx->e->conf.n_workers;
}

/*
 * Ask the file's worker (reader_of) for frames of a source file; with sig, the worker
 * also runs the matcher over what it reads (a DELTA file) and owns the signatures from
 * then on.
 */
static int
read_request(struct eng_job *j, uint32_t file, const char *path, uint64_t offset, uint32_t nframes,
             uint32_t data_len, bool delta, const struct xf_delta_params *sig)
{
	struct eng_rx *rx = j->push_rx;
	unsigned int w = reader_of(rx, file, delta);
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
		/* The session's: the job's --compress, or its peer's volume asked (6.16). */
		.compress = xf_push_zip(j->push),
	};

	if (sig != NULL) {
		req.sigs = (struct xf_sig_rec *)sig->sigs; /* handed over on success */
		req.block_size = sig->block_size;
		req.block_count = sig->block_count;
	}
	if (xf_ring_enqueue_burst(rx->read_to[w], &req, 1) != 1) {
		return -EAGAIN;
	}
	if (rx->e->w[w].parks) {
		xf_hs_bell_ring(&rx->e->w[w].bell); /* two atomics; a wake-up if it sleeps */
	}
	return 0;
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
	j->queued_ns = (j->run_ns != 0 ? j->run_ns : j->started_ns + j->elapsed_ns) - j->started_ns;
	j->keyed = j->sec_ready;
	if (j->sec_ready) {
		j->keys_born_ns = j->sec.cur.born_ns;
		j->key_updates = xf_secure_sess_key_updates(&j->sec);
		j->rekeys = j->sec.rekeys;
		memcpy(j->peer_key, j->npeer.pub, sizeof(j->peer_key));
	}
	if (error != NULL) {
		snprintf(j->error, sizeof(j->error), "%s", error);
	}
	atomic_fetch_add_explicit(&j->seq, 1, memory_order_acq_rel);
}

/* Entry i of a job's whole list: see job_build_list(). */
void
eng_job_entry(const struct eng_job *j, uint32_t i, struct xf_flist_entry *e)
{
	if (i < j->ndest) {
		*e = j->dest_ent[i];
	} else {
		xf_scan_get(j->scan, i - j->ndest, e);
	}
	/* -o and -g each: what is not asked for is not sent (the receiver leaves it). */
	if (!j->req.owner) {
		e->uid = XF_ID_NONE;
	}
	if (!j->req.group) {
		e->gid = XF_ID_NONE;
	}
}

size_t
eng_hello_room(const struct xf_engine *e, bool field)
{
	size_t room;

	if (e->aead) {
		/* Message 1's payload: the sealed block, of its one size (xf_hs_block.h: the room
		 * at MTU 1500, or less at a smaller MTU), whatever the field; its fixed part
		 * before the field. */
		room = xf_hs_block_len(e->conf.mtu);
		return field ? room - XF_HELLO_SEALED_HDR : room;
	}
	/* In clear: the payload this side announces, less the HELLO's fixed fields
	 * (docs/PROTOCOL.md 3.1). */
	room = XF_MIN(e->conf.mtu - 28u, XF_PAYLOAD_MAX) - XF_HDR_LEN - HELLO_BODY;
	return XF_MIN(room, (size_t)XF_PATH_MAX);
}

int
eng_job_rules(const struct xf_engine *e, struct eng_job *j, const struct xf_filter *f, char *err,
              size_t err_len)
{
	/* The HELLO must fit one frame, as xf_engine_pull.c counts a request. */
	size_t room = eng_hello_room(e, true);
	size_t dl = j->hello_dest_len;
	long n;

	if (!j->req.delete_extra || f == NULL || xf_filter_count(f) == 0) {
		return 0;
	}
	n = dl + 1 < room ? xf_filter_text(f, j->hello_dest + dl + 1, room - dl - 1) : -E2BIG;
	if (n == -EINVAL) {
		snprintf(err, err_len, "a filter rule with a newline cannot go to the receiver");
		return -EINVAL;
	}
	if (n < 0) {
		snprintf(err, err_len,
		         "the filter rules and destination take more than the %zu bytes a HELLO "
		         "holds, which --delete needs to send them (docs/PROTOCOL.md 6.12)",
		         room);
		return -E2BIG;
	}
	j->hello_dest[dl] = '\0';
	j->rules_len = (uint16_t)n;
	j->hello_dest_len = (uint16_t)(dl + 1 + (size_t)n);
	return 0;
}

/* The source's name of an id of the list (xf_push_io.name): a lookup in the table made
 * before the session started, never NSS on the RX core. */
static const struct xf_name_rec *
push_name(void *arg, enum xf_name_kind kind, uint32_t id)
{
	const struct eng_job *j = arg;

	return j->names != NULL ? xf_idnames_find(j->names, kind, id) : NULL;
}

/* The push's view of the file list (xf_push_io.entry); a lane's is its share of it. */
static void
push_entry(void *arg, uint32_t i, struct xf_flist_entry *e)
{
	const struct eng_job *j = arg;

	eng_job_entry(j, j->map != NULL ? j->map[i] : i, e);
}

/* The push's configuration, from the job alone (the same each time; hd holds what its
 * rules point at). */
static void
job_cfg(struct eng_rx *rx, struct eng_job *j, struct xf_msg_hello *hd, struct xf_push_cfg *out)
{
	struct xf_engine *e = rx->e;
	struct xf_push_cfg cfg;

	eng_job_hello_dest(j, hd);
	cfg = (struct xf_push_cfg){
		.session_id = j->session_id,
		.nonce = j->nonce,
		.dest = j->hello_dest,
		.dest_len = hd->dest_len,
		.rules = hd->rules,
		.rules_len = hd->rules_len,
		.pull = j->pull,
		.volume = j->volume[0] != '\0',
		.max_payload = (uint16_t)XF_MIN(e->conf.mtu - 28u, XF_PAYLOAD_MAX),
		.checksum = j->req.checksum,
		/* A scan that lost entries cannot say what the source lacks (rsync too deletes
		 * nothing after an I/O error on the sending side). */
		.delete_extra = j->req.delete_extra && !j->delete_scan_errors,
		.max_delete = j->req.max_delete,
		.dry_run = j->req.dry_run,
		.hard_links = j->req.hard_links,
		.compress = j->req.compress,
		.compress_if_asked = j->req.compress_why != XF_ZIP_REFUSED,
		.owner = j->req.owner || j->req.group,
		.owner_names = j->names != NULL,
		.xattrs = j->req.xattrs,
		.acls = j->req.acls,
		/* transfer.redo (true by default): a basis that changes under the receiver
		 * costs the file's resend, not its failure (docs/DELTA.md, "Sent again
		 * whole"). */
		.redo = j->req.redo,
		.itemize = j->items != NULL,
		.items = j->items,
		.deleted = j->deleted,
		.deleted_cap = j->deleted != NULL ? XF_PUSH_DELETED_MAX : 0,
		.sig_ring = rx->sig_ring,
	};
	if (e->aead) {
		/* Room for the tag: a sealed frame is no larger than the link's payload. */
		cfg.max_payload -= XF_SECURE_FRAME_OVERHEAD;
		cfg.seal_overhead = XF_SECURE_FRAME_OVERHEAD; /* counted as it crosses */
	}
	*out = cfg;
}

/* A job that cannot start: failed, and the control thread's again. */
static void
job_fail(struct eng_job *j, const char *why)
{
	job_publish(j, XF_JOB_FAILED, why);
	atomic_thread_fence(memory_order_release);
	j->finished = true;
}

/*
 * With AEAD: ask for the job's first message 1 (the handshake thread makes it, and the
 * job starts when it comes back: eng_job_hello_made). @return 0 (asked), -ENOBUFS (the
 * queue is full: counted, asked again at the next poll), or another negative errno: the
 * job failed.
 */
static int
job_hello_ask(struct eng_rx *rx, struct eng_job *j)
{
	struct xf_msg_hello hd;
	struct xf_push_cfg cfg, hello_cfg;
	int rc;

	if (!rx->peer_present[j->req.peer]) {
		job_fail(j, "the peer was removed by a reload");
		return -ENOENT;
	}
	job_cfg(rx, j, &hd, &cfg);
	/* The flags the HELLO will carry (with AEAD: message 1 comes with it). */
	hello_cfg = cfg;
	hello_cfg.auth = j->msg1;
	rc = eng_secure_job_start(rx, j, xf_push_hello_flags(&hello_cfg), cfg.max_payload,
	                          cfg.delete_extra ? cfg.max_delete : 0);
	if (rc < 0 && rc != -ENOBUFS) {
		job_fail(j, rc == -ENOKEY ? "no key for the peer (session.private_key_file, "
		                            "peers[].public_key)"
		                          : "handshake failed");
	}
	return rc;
}

static void
job_start(struct eng_rx *rx, struct eng_job *j)
{
	struct xf_engine *e = rx->e;
	struct xf_engine_params par;
	struct xf_msg_hello hd;
	struct xf_push_cfg cfg;
	struct xf_push_io io = {
		.arg = j,
		.entry = push_entry,
		.name = push_name,
		.frame_alloc = push_frame_alloc,
		.frame_send = push_frame_send,
		.frame_free = push_frame_free,
		.read_request = push_read_request,
		.delta_request = push_delta_request,
	};

	if (!rx->peer_present[j->req.peer]) {
		job_publish(j, XF_JOB_FAILED, "the peer was removed by a reload");
		j->finished = true;
		return;
	}
	job_cfg(rx, j, &hd, &cfg);
	if (e->aead) {
		/* Made by the handshake thread, its MACs added here (eng_secure_job_start). */
		cfg.auth = j->msg1;
		cfg.auth_len = j->msg1_len;
	}
	/* Reloadable: a job takes the parameters in effect when it starts. */
	xf_engine_get_params(e, &par);
	cfg.reliab.pace_rate = par.rate_bps / 8;
	cfg.reliab.congestion = (uint8_t)par.congestion;
	cfg.reliab.cc_seed = rx->now;
	cfg.reliab.tx_slots_max = eng_window_max(&e->conf);
	cfg.reliab.keepalive_ns = (uint64_t)par.keepalive_ms * 1000000ull;
	cfg.reliab.idle_timeout_ns = (uint64_t)par.timeout_ms * 1000000ull;
	j->push_rx = rx;
	j->run_ns = xf_engine_now();
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
	eng_secure_job_end(j);
	rx->jobs[k] = rx->jobs[--rx->njobs];
	atomic_thread_fence(memory_order_release);
	j->finished = true;
}

/* A job whose session aborted: why, with the peer's own words when it gave some (its
 * ABORT's text: a volume it does not have, say). */
static void
job_aborted(struct eng_rx *rx, unsigned int k, const struct xf_push_stats *st)
{
	const char *peer_msg = xf_push_peer_abort_msg(rx->e->jobs[rx->jobs[k]].push);
	bool gone = rx->e->jobs[rx->jobs[k]].peer_gone;
	const char *why = gone ? "the peer was removed or re-keyed by a reload"
	                  : st->abort_code == XF_ABORT_TIMEOUT ? "peer silent past the timeout"
	                  : st->abort_code == XF_ABORT_REFUSED ? "refused by the peer"
	                  : st->abort_code == XF_ABORT_CANCEL  ? "cancelled"
	                                                       : "aborted";
	char error[320];

	snprintf(error, sizeof(error), "%s%s%s", why, peer_msg[0] != '\0' ? ": " : "", peer_msg);
	job_end(rx, k,
	        st->abort_code == XF_ABORT_CANCEL && !gone ? XF_JOB_CANCELLED : XF_JOB_FAILED,
	        error);
}

/* Jobs of this core running to peer, or starting (their message 1 being made). */
static unsigned int
jobs_to(const struct eng_rx *rx, unsigned int peer)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < rx->njobs; k++) {
		n += rx->e->jobs[rx->jobs[k]].req.peer == peer;
	}
	for (unsigned int k = 0; k < rx->nwaiting; k++) {
		const struct eng_job *j = &rx->e->jobs[rx->waiting[k]];

		n += j->hello_asked && j->req.peer == peer;
	}
	return n;
}

/* Start waiting jobs, oldest first, while their peers have room. @return started any. */
static bool
jobs_dequeue(struct eng_rx *rx)
{
	bool busy = false;

	for (unsigned int k = 0; k < rx->nwaiting;) {
		struct eng_job *j = &rx->e->jobs[rx->waiting[k]];
		int rc = 0;

		if (j->hello_asked || jobs_to(rx, j->req.peer) >= rx->e->conf.max_jobs_per_peer) {
			k++;
			continue;
		}
		/* With AEAD the job starts once its message 1 is made (eng_job_hello_made);
		 * it waits here meanwhile, and may be cancelled. */
		if (rx->e->aead) {
			rc = job_hello_ask(rx, j);
			if (rc == 0 || rc == -ENOBUFS) {
				busy |= rc == 0;
				k++;
				continue;
			}
		}
		memmove(&rx->waiting[k], &rx->waiting[k + 1],
		        (rx->nwaiting - k - 1) * sizeof(rx->waiting[0]));
		rx->nwaiting--;
		if (rc == 0) {
			job_start(rx, j);
		}
		busy = true;
	}
	return busy;
}

struct eng_job *
eng_job_waiting(struct eng_rx *rx, unsigned int slot, uint32_t id)
{
	for (unsigned int k = 0; k < rx->nwaiting; k++) {
		if (rx->waiting[k] == slot && rx->e->jobs[slot].id == id) {
			return &rx->e->jobs[slot];
		}
	}
	return NULL;
}

/* The handshake thread made a waiting job's first message 1 (rc 0; its MACs added), or
 * failed (rc < 0): the job leaves the queue, and starts or fails. */
void
eng_job_hello_made(struct eng_rx *rx, struct eng_job *j, int rc)
{
	for (unsigned int k = 0; k < rx->nwaiting; k++) {
		if (&rx->e->jobs[rx->waiting[k]] == j) {
			memmove(&rx->waiting[k], &rx->waiting[k + 1],
			        (rx->nwaiting - k - 1) * sizeof(rx->waiting[0]));
			rx->nwaiting--;
			break;
		}
	}
	if (rc < 0) {
		eng_secure_job_end(j);
		job_fail(j, "handshake failed");
		return;
	}
	job_start(rx, j);
}

/*
 * A job the control thread handed over joins the queue and runs at once if its peer has
 * room: jobs to one peer start in the order they were asked for, and one peer's full
 * share never holds up a job to another.
 */
static void
job_arrive(struct eng_rx *rx, struct eng_job *j)
{
	rx->waiting[rx->nwaiting++] = (unsigned int)(j - rx->e->jobs);
	job_publish(j, XF_JOB_QUEUED, NULL);
	jobs_dequeue(rx);
}

/* Take a waiting job out of the queue with state (cancelled: by the operator, or stop). */
static bool
job_unqueue(struct eng_rx *rx, struct eng_job *j, const char *why)
{
	for (unsigned int k = 0; k < rx->nwaiting; k++) {
		if (&rx->e->jobs[rx->waiting[k]] == j) {
			memmove(&rx->waiting[k], &rx->waiting[k + 1],
			        (rx->nwaiting - k - 1) * sizeof(rx->waiting[0]));
			rx->nwaiting--;
			job_publish(j, XF_JOB_CANCELLED, why);
			atomic_thread_fence(memory_order_release);
			j->finished = true;
			return true;
		}
	}
	return false;
}

void
eng_jobs_stop(struct eng_rx *rx)
{
	rx->stopping = true;
	while (rx->nwaiting > 0) {
		job_unqueue(rx, &rx->e->jobs[rx->waiting[0]], "the appliance is stopping");
	}
	for (unsigned int k = 0; k < rx->njobs; k++) {
		xf_push_abort(rx->e->jobs[rx->jobs[k]].push, XF_ABORT_SHUTDOWN, rx->now);
	}
}

/*
 * The allowlist changed (eng_peers_poll): a push to a peer removed or changed (another
 * address or key: its session's keys were made with the old one) ends, and one waiting
 * for such a peer never starts.
 */
void
eng_jobs_peer_gone(struct eng_rx *rx, const bool *changed)
{
	for (unsigned int k = 0; k < rx->nwaiting;) {
		struct eng_job *j = &rx->e->jobs[rx->waiting[k]];

		if (!changed[j->req.peer] || !job_unqueue(rx, j,
		                                          "the peer was removed or "
		                                          "re-keyed by a reload")) {
			k++;
			continue;
		}
		rx->peer_gone++;
	}
	for (unsigned int k = 0; k < rx->njobs; k++) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];

		if (changed[j->req.peer] && !j->peer_gone) {
			j->peer_gone = true;
			rx->peer_gone++;
			xf_push_abort(j->push, XF_ABORT_CANCEL, rx->now);
		}
	}
}

bool
eng_jobs_poll(struct eng_rx *rx)
{
	bool busy = false;
	bool peer_bound = rx->njobs > 0;

	if (rx->nwaiting > 0) {
		busy |= jobs_dequeue(rx);
	}

	for (unsigned int k = 0; k < rx->njobs;) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];
		struct xf_push_stats st;
		struct xf_reliab_stats rel;

		if (j->sec_ready) {
			eng_secure_job_poll(rx, j);
		} else if (rx->e->aead) {
			eng_secure_job_wait(rx, j);
		}
		busy |= xf_push_poll(j->push, rx->now);
		xf_push_reliab_stats(j->push, &rel);
		eng_neigh_watch(rx, &j->nud, rx->peers[j->req.peer].ip, &rel);
		xf_push_stats(j->push, &st);
		if (st.state == XF_PUSH_DONE) {
			job_end(rx, k, XF_JOB_DONE, NULL);
			continue;
		}
		if (st.state == XF_PUSH_ABORTED) {
			job_aborted(rx, k, &st);
			continue;
		}
		/* Publish progress now and then (every ~16 ms) for `xferctl jobs`. */
		if (((rx->now >> 24) & 1) != ((j->elapsed_ns + j->started_ns) >> 24 & 1)) {
			job_publish(j, XF_JOB_RUNNING, NULL);
		}
		peer_bound = peer_bound && xf_push_waits_peer(j->push);
		k++;
	}
	rx->peer_bound = peer_bound && rx->njobs > 0;
	return busy;
}

bool
eng_reads_poll(struct eng_rx *rx)
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
				.raw_len = d[i].raw_len,
				.ztried = d[i].ztried != 0,
				.hole = d[i].hole != 0,
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
struct eng_job *
eng_job_by_session(struct eng_rx *rx, uint32_t id, uint32_t ip, uint16_t port)
{
	for (unsigned int k = 0; k < rx->njobs; k++) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];
		const struct xf_engine_peer *peer = &rx->peers[j->req.peer];

		if (j->session_id == id && peer->ip == ip && peer->udp_port == port) {
			return j;
		}
	}
	return NULL;
}

bool
eng_cmds_poll(struct eng_rx *rx)
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
				job_arrive(rx, j);
			}
			break;
		case ENG_CMD_CANCEL:
			if (j->push != NULL) {
				xf_push_abort(j->push, XF_ABORT_CANCEL, rx->now);
			} else {
				job_unqueue(rx, j, "cancelled");
			}
			break;
		case ENG_CMD_STOP:
			eng_jobs_stop(rx);
			break;
		default:
			break;
		}
	}
	return n != 0;
}

void
eng_job_free(struct xf_engine *e, struct eng_job *j)
{
	if (j->parent != 0) {
		return; /* a lane's record goes with its job's (eng_lanes_free) */
	}
	eng_lanes_free(e, j);
	if (j->names != NULL) {
		xf_idnames_free(j->names);
		free(j->names);
	}
	xf_scan_free(j->scan);
	free(j->dest_ent);
	free(j->items);
	free(j->deleted);
	if (j->dir_fd >= 0) {
		close(j->dir_fd);
	}
	memset(j, 0, sizeof(*j));
	j->dir_fd = -1;
}

/* A slot for a new job: a free one, else the oldest finished one (a whole job: never a
 * lane's record, which goes with its job's). */
struct eng_job *
eng_job_slot(struct xf_engine *e)
{
	struct eng_job *old = NULL;

	for (unsigned int i = 0; i < XF_ENGINE_MAX_JOBS; i++) {
		struct eng_job *j = &e->jobs[i];

		if (j->id == 0) {
			return j;
		}
		if (j->finished && j->parent == 0 && (old == NULL || j->id < old->id)) {
			old = j;
		}
	}
	if (old != NULL) {
		atomic_thread_fence(memory_order_acquire);
		eng_job_free(e, old);
	}
	return old;
}

struct eng_job *
eng_job_new(struct xf_engine *e, char *err, size_t err_len, int *rc)
{
	struct eng_job *j;

	if (atomic_load(&e->stop)) {
		snprintf(err, err_len, "the appliance is stopping");
		*rc = -ESHUTDOWN;
		return NULL;
	}
	j = eng_job_slot(e);
	if (j == NULL) {
		snprintf(err, err_len, "%u jobs are running: wait for one to finish",
		         XF_ENGINE_MAX_JOBS);
		*rc = -EBUSY;
		return NULL;
	}
	memset(j, 0, sizeof(*j));
	j->dir_fd = -1;
	return j;
}

/* Give a job built on this thread its ids and hand it to its RX core. @return 0, -EBUSY. */
int
eng_cmd_post(struct xf_engine *e, const struct eng_job *j, enum eng_cmd_type type)
{
	struct eng_cmd cmd = { .type = type, .job = (uint32_t)(j - e->jobs) };

	return xf_ring_enqueue_burst(e->rx[j->rx].cmd, &cmd, 1) == 1 ? 0 : -EBUSY;
}

int
eng_job_submit(struct xf_engine *e, struct eng_job *j, char *err, size_t err_len)
{
	j->session_id = j->req.session_id;
	while (j->session_id == 0) {
		j->session_id = (uint32_t)rte_rand();
	}
	j->nonce = rte_rand();
	j->id = ++e->next_job_id;
	j->rx = 0; /* replies from a peer hash to one queue: see docs/ENGINE.md */
	j->started_ns = xf_engine_now();
	j->state = XF_JOB_QUEUED;
	if (j->req.lanes > 1) {
		/* Its sessions start from xf_engine_lanes_poll. */
		return eng_lanes_create(e, j, j->req.lanes, err, err_len);
	}
	if (eng_cmd_post(e, j, ENG_CMD_START) < 0) {
		snprintf(err, err_len, "the RX core is not taking jobs");
		return -EBUSY;
	}
	return 0;
}

/* ---- Read by the control thread: a finished job's entries ---- */

int64_t
xf_engine_job_items(struct xf_engine *e, unsigned int id, uint64_t from, xf_engine_item_fn fn,
                    void *arg, bool *end)
{
	struct eng_job *j = eng_job_find(e, id);
	size_t del_len, off;
	uint64_t i;

	*end = false;
	if (j == NULL) {
		return -ENOENT;
	}
	if (j->items == NULL) {
		return -ENODATA;
	}
	/* The RX core wrote items[] (and deleted[]) before it set finished (job_end's
	 * release fence). */
	if (!__atomic_load_n(&j->finished, __ATOMIC_ACQUIRE)) {
		return -EAGAIN;
	}
	/* The deletions first, as rsync prints them: cursors below del_len are offsets in
	 * deleted[], the rest entry indices after it. */
	del_len = j->deleted != NULL ? XF_MIN(j->st.deleted_bytes, (size_t)XF_PUSH_DELETED_MAX) : 0;
	for (off = (size_t)XF_MIN(from, (uint64_t)del_len); off < del_len;) {
		struct xf_flist_entry ent = { .kind = XF_FILE_REG };
		bool dir;

		if (!xf_push_deleted_next(j->deleted, del_len, &off, &ent.path, &ent.path_len,
		                          &dir)) {
			off = del_len;
			break;
		}
		ent.kind = dir ? XF_FILE_DIR : XF_FILE_REG;
		if (!fn(arg, &ent, XF_ENGINE_ITEM_DELETED)) {
			return (int64_t)off;
		}
	}
	if (from < del_len) {
		from = del_len;
	}
	for (i = XF_MAX(from - del_len, (uint64_t)(j->ndest > 0 ? j->ndest - 1 : 0)); i < j->count;
	     i++) {
		struct xf_flist_entry ent;

		if (i < j->ndest) {
			/* The destination directory: the source directory's "./". */
			ent = j->dest_ent[i];
			ent.path_len = 0;
		} else {
			xf_scan_get(j->scan, i - j->ndest, &ent);
			ent.path += j->src_skip;
			ent.path_len = (uint16_t)(ent.path_len - j->src_skip);
			if (ent.kind == XF_FILE_HARDLINK) {
				/* Its leader is a listed file too: named from the same root. */
				ent.target += j->src_skip;
				ent.target_len = (uint16_t)(ent.target_len - j->src_skip);
			}
		}
		if (!fn(arg, &ent, j->items[i])) {
			*end = i + 1 == j->count;
			return (int64_t)(del_len + i + 1);
		}
	}
	*end = true;
	return (int64_t)(del_len + i);
}

int
xf_engine_job_path(struct xf_engine *e, unsigned int id, uint32_t i, const char **path,
                   uint16_t *len)
{
	struct eng_job *j = eng_job_find(e, id);
	struct xf_flist_entry ent;

	if (j == NULL || j->scan == NULL || i >= j->count) {
		return -ENOENT;
	}
	if (i < j->ndest) {
		*path = "";
		*len = 0;
		return 0;
	}
	eng_job_entry(j, i, &ent);
	*path = ent.path + j->src_skip;
	*len = (uint16_t)(ent.path_len - j->src_skip);
	return 0;
}
