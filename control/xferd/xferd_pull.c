/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pulls (docs/CONTROL.md, "Pull"; docs/PROTOCOL.md 6.18), both sides on the control
 * thread: the `pull` command, which starts a pull job to a peer, and the judge of the
 * pulls peers ask of us, which applies the same rules as the push command (the peer may
 * pull: peers[].allow_pull; its source beneath control.push_roots, resolved) and starts
 * the push back to the puller.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xf_base.h"
#include "xf_config.h"
#include "xf_ctl.h"
#include "xf_dest.h"
#include "xf_engine.h"
#include "xf_filter.h"
#include "xf_proto.h"
#include "xf_pull.h"
#include "xferd.h"
#include "xferd_roots.h"

/* The request's filter rules, compiled as the push command compiles args.filters. */
static int
pull_filter(const struct xf_pull_req *req, struct xf_filter **out, char *msg, size_t msg_len)
{
	struct xf_filter *f;
	const char *rule;
	size_t pos = 0, len;
	char err[256];

	*out = NULL;
	if (req->n_rules == 0) {
		return 0;
	}
	f = xf_filter_new();
	if (f == NULL) {
		snprintf(msg, msg_len, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; (rule = xf_pull_rule_next(req, &pos, &len)) != NULL; i++) {
		if (xf_filter_add(f, XF_FILTER_FORM_RULE, rule, len, err, sizeof(err)) < 0) {
			snprintf(msg, msg_len, "filter rule %u: %s", i, err);
			xf_filter_free(f);
			return -EINVAL;
		}
	}
	*out = f;
	return 0;
}

/*
 * Is the directory a pull serves (resolved) in one of our volumes with compress: true?
 * Compared resolved to resolved, at a component boundary (a volume /srv/a does not hold
 * /srv/ab). A volume path that does not resolve holds nothing.
 */
static bool
src_volume_zip(const struct xferd *d, const char *resolved)
{
	char root[PATH_MAX];

	for (unsigned int v = 0; v < d->cfg->n_volumes; v++) {
		size_t n;

		if (!d->cfg->volumes[v].compress ||
		    realpath(d->cfg->volumes[v].path, root) == NULL) {
			continue;
		}
		n = strlen(root);
		if (strncmp(resolved, root, n) == 0 &&
		    (resolved[n] == '\0' || resolved[n] == '/' || (n == 1 && root[0] == '/'))) {
			return true;
		}
	}
	return false;
}

static enum xf_pull_refusal
pull_judge(void *arg, const struct xf_engine_pull_in *in, char *msg, size_t msg_len)
{
	struct xferd *d = arg;
	const struct xf_config_peer *peer = xferd_slot_peer(d, in->peer);
	struct xf_engine_push_req push = { .peer = in->peer, .session_id = in->session };
	char src[XF_PATH_MAX + 1], resolved[PATH_MAX], err[1024];
	char volume[XF_DEST_VOLUME_MAX + 1], dest[XF_PATH_MAX + 1];
	struct xf_filter *filter = NULL;
	struct xf_pull_req req;
	struct xf_dest dd;
	struct stat st;
	int rc;

	if (peer == NULL || !peer->allow_pull) {
		snprintf(msg, msg_len, "this peer may not pull from %s (peers[].allow_pull)",
		         d->cfg->appliance.name);
		return XF_PULL_NOT_ALLOWED;
	}
	/* The RX core checked the form; parsed again here for its parts. */
	if (xf_pull_parse(in->req, in->req_len, in->flags, &req) < 0 ||
	    xf_dest_parse(req.dest, req.dest_len, in->flags, &dd) < 0) {
		snprintf(msg, msg_len, "malformed request");
		return XF_PULL_BAD_REQUEST;
	}
	memcpy(src, req.src, req.src_len);
	src[req.src_len] = '\0';
	rc = xferd_push_root_check(d->cfg, src, resolved, err, sizeof(err));
	if (rc == -EPERM) {
		/* The roots themselves are not told to the peer. */
		snprintf(msg, msg_len, "'%.120s' is not beneath control.push_roots of %s", src,
		         d->cfg->appliance.name);
		return XF_PULL_OUTSIDE_ROOTS;
	}
	if (rc == 0 && (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode))) {
		rc = -ENOTDIR;
	}
	if (rc < 0) {
		snprintf(msg, msg_len, "'%.120s': %s", src, strerror(-rc));
		return XF_PULL_NO_SUCH_PATH;
	}
	if (pull_filter(&req, &filter, msg, msg_len) < 0) {
		return XF_PULL_BAD_REQUEST;
	}
	snprintf(volume, sizeof(volume), "%.*s", (int)dd.volume_len,
	         dd.volume != NULL ? dd.volume : "");
	snprintf(dest, sizeof(dest), "%.*s", (int)dd.path_len, dd.path);
	push.src = resolved;
	push.dest = dest;
	push.volume = volume;
	push.filter = filter;
	/* The puller's options, as the flags of its HELLO carry them; transfer.checksum
	 * (ours: we are the sender) makes every push compare by checksum. */
	push.checksum = (in->flags & XF_HELLO_F_CHECKSUM) != 0 || d->cfg->transfer.checksum;
	push.delete_extra = (in->flags & XF_HELLO_F_DELETE) != 0;
	push.max_delete = push.delete_extra ? in->window : XF_DELETE_UNLIMITED;
	push.dry_run = (in->flags & XF_HELLO_F_DRYRUN) != 0;
	push.hard_links = (in->flags & XF_HELLO_F_HARDLINKS) != 0;
	/* --compress, --no-compress, else our volume the source is in may turn it on, and
	 * the puller's volume may ask for it (docs/PROTOCOL.md 6.16, 6.18). */
	push.compress = (in->flags & XF_HELLO_F_COMPRESS) != 0;
	push.compress_why = push.compress                               ? XF_ZIP_JOB
	                    : (in->flags & XF_HELLO_F_NO_COMPRESS) != 0 ? XF_ZIP_REFUSED
	                    : src_volume_zip(d, resolved)               ? XF_ZIP_SRC_VOLUME
	                                                                : XF_ZIP_NONE;
	push.compress |= push.compress_why == XF_ZIP_SRC_VOLUME;
	push.xattrs = (in->flags & XF_HELLO_F_XATTRS) != 0;
	push.acls = (in->flags & XF_HELLO_F_ACLS) != 0;
	/* -o, -g, --owner-names: the request's IDS (the HELLO flag says only "some"). */
	push.owner = (req.ids & XF_PULL_IDS_OWNER) != 0;
	push.group = (req.ids & XF_PULL_IDS_GROUP) != 0;
	push.owner_names = (req.ids & XF_PULL_IDS_NAMES) != 0;
	rc = xf_engine_push(d->engine, &push, err, sizeof(err));
	xf_filter_free(filter);
	if (rc < 0) {
		snprintf(msg, msg_len, "%.180s", err);
		return rc == -EBUSY ? XF_PULL_BUSY : XF_PULL_FAILED;
	}
	XF_LOG(NOTICE, "xferd", "pull by peer %s of %s: job %d", peer->name, resolved, rc);
	return XF_PULL_OK;
}

json_t *
xferd_pull_json(const struct xferd *d, const struct xf_job_info *j)
{
	struct xf_engine_rsess_info ri = { 0 };
	const char *state = "waiting";
	bool live = false, complete;

	if (j->state != XF_JOB_DONE) {
		state = "none"; /* not accepted (yet) */
	} else if (xf_engine_rsession(d->engine, j->peer, j->session, &ri, &live) == 0) {
		state = ri.refused ? "refused" : live ? "running" : "ended";
	}
	complete = strcmp(state, "ended") == 0 && ri.done && ri.files.total != UINT32_MAX &&
	           ri.files.settled == ri.files.total;
	return json_pack(
	        "{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "state", state, "session",
	        (json_int_t)j->session, "files_total",
	        (json_int_t)(ri.files.total == UINT32_MAX ? -1 : (json_int_t)ri.files.total),
	        "files_settled", (json_int_t)ri.files.settled, "files_written",
	        (json_int_t)ri.files.changed, "files_failed", (json_int_t)ri.files.failed,
	        "complete", complete);
}

json_t *
xferd_pull_stats_json(const struct xf_engine_stats *st)
{
	json_t *refused = json_object();

	for (unsigned int r = XF_PULL_NOT_ALLOWED; refused != NULL && r <= XF_PULL_REFUSAL_MAX;
	     r++) {
		json_object_set_new(refused, xf_pull_refusal_str((enum xf_pull_refusal)r),
		                    json_integer((json_int_t)st->pull_refused[r]));
	}
	return json_pack("{s:I, s:I, s:o, s:I}", "asked", (json_int_t)st->pull_asked, "accepted",
	                 (json_int_t)st->pull_accepted, "refused", refused, "frames_dropped",
	                 (json_int_t)st->pull_frames);
}

void
xferd_pull_serve(struct xferd *d)
{
	(void)xf_engine_pull_serve(d->engine, pull_judge, d);
}

/* Does our volume name (a pull's destination; "" the first) keep owners? A volume we do
 * not have is the peer's push's to refuse, as for any push. */
static bool
keeps_owner(const struct xferd *d, const char *name)
{
	for (unsigned int v = 0; v < d->cfg->n_volumes; v++) {
		if (name[0] == '\0' || strcmp(d->cfg->volumes[v].name, name) == 0) {
			return d->cfg->volumes[v].keep_owner;
		}
	}
	return true;
}

/*
 * args: peer, src (absolute on the peer), dest, volume (ours: where the peer's push
 * goes), checksum, and the push command's filters, delete, max_delete, dry_run,
 * hard_links, compress, owner, group, owner_names, xattrs, acls. itemize is refused: the
 * itemized list would be the peer's. owner or group into a volume of ours without
 * keep_owner is refused here, before the peer is asked: its push back would be.
 */
void
xferd_h_pull(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	struct xf_engine_pull_req req = { 0 };
	const char *rules[XF_FILTER_RULES_MAX];
	struct xf_filter *filter;
	char err[1024] = "";
	int rc;

	/* src is the peer's: checked there, against its control.push_roots. */
	if (xferd_job_args(d, args, &req.push, reply) < 0) {
		return;
	}
	if (xferd_push_modes(d, args, &req.push, reply) < 0) {
		return;
	}
	if (req.push.itemize) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.itemize: not for a pull (the peer is the sender)");
		return;
	}
	if ((req.push.owner || req.push.group) &&
	    !keeps_owner(d, req.push.volume != NULL ? req.push.volume : "")) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.owner, args.group: volume '%s' does not keep owners and "
		                   "groups (volumes[].keep_owner)",
		                   req.push.volume != NULL && req.push.volume[0] != '\0'
		                           ? req.push.volume
		                           : d->cfg->volumes[0].name);
		return;
	}
	if (xferd_push_filters(d, args, &filter, reply) < 0) {
		return;
	}
	if (xferd_push_delete(args, &req.push, reply) < 0) {
		xf_filter_free(filter);
		return;
	}
	for (unsigned int i = 0; filter != NULL && i < xf_filter_count(filter); i++) {
		rules[req.n_rules++] = xf_filter_rule(filter, i);
	}
	req.rules = rules;
	rc = xf_engine_pull(d->engine, &req, err, sizeof(err));
	xf_filter_free(filter);
	if (rc < 0) {
		xf_ctl_reply_error(reply,
		                   rc == -EBUSY    ? XF_CTL_E_BUSY
		                   : rc == -EINVAL ? XF_CTL_E_INVALID_ARGS
		                                   : XF_CTL_E_FAILED,
		                   "%s", err);
		return;
	}
	reply->result = json_pack("{s:i}", "job", rc);
}
