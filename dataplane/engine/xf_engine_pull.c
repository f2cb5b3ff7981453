/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pulls (docs/PROTOCOL.md 6.18). The puller's side is a job that lists no file and
 * sends a HELLO with XF_HELLO_F_PULL whose dest is the request (xf_engine_pull). The
 * responder's side: a HELLO with the flag, once its handshake authenticated it, opens a
 * session that writes nothing; its RX core checks the request's form and hands it to the
 * control thread through a slot (struct eng_pull_slot), which judges it against the
 * configuration (peers[].allow_pull, control.push_roots) and starts the push; the answer
 * goes back through the slot, and the session tells the puller: a DONE when the push
 * started, an ABORT(REFUSED) with the reason otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xf_base.h"
#include "xf_engine_priv.h"
#include "xf_path.h"
#include "xf_pull.h"

#define MODULE "engine"

/* The refusal's text in the ABORT: its reason's name first, for scripts. */
static void
pull_refuse(struct eng_rx *rx, struct eng_rsess *rs, enum xf_pull_refusal r, const char *msg)
{
	rs->pull = ENG_PULL_REFUSED;
	rx->pull_refused[r]++;
	snprintf(rs->refuse_msg, sizeof(rs->refuse_msg), "pull refused (%s): %s",
	         xf_pull_refusal_str(r), msg);
	XF_LOG(NOTICE, MODULE, "session %08x: %s", rs->id, rs->refuse_msg);
	if (rs->confirmed) {
		eng_rs_refuse(rx, rs);
	}
}

void
eng_pull_open(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg_hello *h)
{
	struct xf_pull_req req;
	struct eng_pull_slot *s = NULL;
	int rc = xf_pull_parse(h->dest, h->dest_len, h->flags, &req);

	rs->pull = ENG_PULL_WAIT;
	if (rc < 0) {
		pull_refuse(rx, rs, XF_PULL_BAD_REQUEST,
		            rc == -EINVAL  ? "malformed (SRC must be an absolute path without "
		                             "'.', '..' or empty parts; DEST a destination)"
		            : rc == -E2BIG ? "too many filter rules"
		                           : "a path or rule too long");
		return;
	}
	for (unsigned int i = 0; i < ENG_PULL_SLOTS && s == NULL; i++) {
		if (atomic_load_explicit(&rx->pulls[i].state, memory_order_acquire) ==
		    ENG_PULL_FREE) {
			s = &rx->pulls[i];
		}
	}
	if (s == NULL) {
		pull_refuse(rx, rs, XF_PULL_BUSY, "other pulls are being judged; try again");
		return;
	}
	s->session = rs->id;
	s->ip = rs->peer_ip;
	s->port = rs->peer_port;
	s->peer = rs->peer;
	s->flags = h->flags;
	s->window = h->window;
	s->req_len = h->dest_len;
	memcpy(s->req, h->dest, h->dest_len);
	rx->pull_asked++;
	atomic_store_explicit(&s->state, ENG_PULL_ASKED, memory_order_release);
	XF_LOG(INFO, MODULE, "session %08x: a pull of peer %u, judged by the control thread",
	       rs->id, rs->peer);
}

/* The control thread's answers, applied to their sessions (gone ones are dropped). */
bool
eng_pull_poll(struct eng_rx *rx)
{
	bool busy = false;

	for (unsigned int i = 0; i < ENG_PULL_SLOTS; i++) {
		struct eng_pull_slot *s = &rx->pulls[i];
		struct eng_rsess *rs;

		if (atomic_load_explicit(&s->state, memory_order_acquire) != ENG_PULL_ANSWERED) {
			continue;
		}
		rs = eng_rs_find(rx, s->session, s->ip, s->port);
		if (rs != NULL && rs->pull == ENG_PULL_WAIT) {
			if (s->refusal != XF_PULL_OK) {
				pull_refuse(rx, rs, (enum xf_pull_refusal)s->refusal, s->msg);
			} else {
				rs->pull = ENG_PULL_ACCEPTED;
				rx->pull_accepted++;
			}
		}
		atomic_store_explicit(&s->state, ENG_PULL_FREE, memory_order_release);
		busy = true;
	}
	return busy;
}

/* An accepted pull's session: its DONE once the puller holds our HELLO_ACK; it ends
 * when the DONE is acknowledged. */
bool
eng_pull_rs_poll(struct eng_rx *rx, struct eng_rsess *rs)
{
	struct xf_msg m = { .hdr = { .type = XF_MSG_DONE, .session = rs->id } };

	if (rs->pull != ENG_PULL_ACCEPTED || !rs->confirmed) {
		return false;
	}
	if (!rs->pull_done_sent) {
		rs->pull_done_sent = true;
		eng_rs_send(rx, rs, &m, true);
		return true;
	}
	if (rs->done_acked) {
		eng_rs_end(rx, rs, false);
		return true;
	}
	return false;
}

unsigned int
xf_engine_pull_serve(struct xf_engine *e, xf_engine_pull_fn fn, void *arg)
{
	unsigned int n = 0;

	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		for (unsigned int i = 0; i < ENG_PULL_SLOTS; i++) {
			struct eng_pull_slot *s = &e->rx[r].pulls[i];
			struct xf_engine_pull_in in;

			if (atomic_load_explicit(&s->state, memory_order_acquire) !=
			    ENG_PULL_ASKED) {
				continue;
			}
			in = (struct xf_engine_pull_in){ .peer = s->peer,
				                         .session = s->session,
				                         .flags = s->flags,
				                         .window = s->window,
				                         .req = s->req,
				                         .req_len = s->req_len };
			s->msg[0] = '\0';
			s->refusal = (uint8_t)fn(arg, &in, s->msg, sizeof(s->msg));
			if (s->refusal > XF_PULL_REFUSAL_MAX) {
				s->refusal = XF_PULL_FAILED;
			}
			atomic_store_explicit(&s->state, ENG_PULL_ANSWERED, memory_order_release);
			n++;
		}
	}
	return n;
}

int
xf_engine_pull(struct xf_engine *e, const struct xf_engine_pull_req *req, char *err, size_t err_len)
{
	const struct xf_engine_push_req *p = &req->push;
	const char *vol = p->volume != NULL ? p->volume : "";
	char dest[64 + 1 + 256];
	uint32_t flags;
	uint8_t ids;
	size_t cap;
	struct eng_job *j;
	int rc;

	if (p->peer >= e->conf.n_peers) {
		snprintf(err, err_len, "no such peer");
		return -EINVAL;
	}
	if (strlen(p->src) >= sizeof(j->src) || strlen(vol) > 63 ||
	    strlen(p->dest) >= sizeof(j->dest)) {
		snprintf(err, err_len, "source, volume or destination too long");
		return -EINVAL;
	}
	j = eng_job_new(e, err, err_len, &rc);
	if (j == NULL) {
		return rc;
	}
	j->pull = true;
	j->req = *p;
	j->req.filter = NULL;
	j->req.itemize = false; /* the itemized list would be the peer's */
	snprintf(j->src, sizeof(j->src), "%s", p->src);
	snprintf(j->dest, sizeof(j->dest), "%s", p->dest);
	snprintf(j->volume, sizeof(j->volume), "%s", vol);
	j->req.src = j->src;
	j->req.dest = j->dest;
	j->req.volume = j->volume;
	snprintf(dest, sizeof(dest), "%s%s%s", j->volume,
	         j->volume[0] != '\0' && j->dest[0] != '\0' ? "/" : "", j->dest);
	flags = (j->volume[0] != '\0' ? XF_HELLO_F_VOLUME : 0) |
	        (p->delete_extra ? XF_HELLO_F_DELETE : 0) |
	        (p->owner || p->group ? XF_HELLO_F_OWNER : 0);
	/* -o, -g, --owner-names travel in the request (its IDS byte): the HELLO's
	 * XF_HELLO_F_OWNER, which the pull session sets for either, cannot tell them apart. */
	ids = (uint8_t)((p->owner ? XF_PULL_IDS_OWNER : 0u) | (p->group ? XF_PULL_IDS_GROUP : 0u) |
	                (p->owner_names && (p->owner || p->group) ? XF_PULL_IDS_NAMES : 0u));
	/* The HELLO must fit one frame of ours: its 52 bytes of header and fields, with AEAD
	 * message 1 and its sealed block's fixed part (a sealed frame's room is what the
	 * job's max_payload is). */
	cap = eng_hello_room(e, true);
	rc = xf_pull_build(j->hello_dest, cap, j->src, dest, req->rules, req->n_rules, flags, ids);
	if (rc < 0) {
		snprintf(err, err_len, "%s",
		         rc == -ENOSPC  ? "the source, destination and filter rules do not fit one "
		                          "HELLO: shorten them or use fewer rules"
		         : rc == -E2BIG ? "too many filter rules"
		         : rc == -ENAMETOOLONG
		                 ? "a path or rule too long"
		                 : "SRC must be an absolute path without '.', '..' or empty parts, "
		                   "DEST a relative one; filter rules not with --delete, nor -i");
		eng_job_free(e, j);
		return -EINVAL;
	}
	j->hello_dest_len = (uint16_t)rc;
	rc = eng_job_submit(e, j, err, err_len);
	if (rc < 0) {
		eng_job_free(e, j);
		return rc;
	}
	XF_LOG(NOTICE, MODULE, "job %u: pull of peer %u:%s into '%s'", j->id, p->peer, j->src,
	       dest);
	return (int)j->id;
}
