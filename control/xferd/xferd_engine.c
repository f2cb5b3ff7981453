/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's bridge to the dataplane: the control-socket commands that read or drive
 * the engine (jobs, push, itemize, cancel, stats, sessions). The engine's configuration
 * and the peer table are in xferd_engine_conf.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "xf_cc.h"
#include "xf_config.h"
#include "xf_ctl.h"
#include "xf_engine.h"
#include "xf_filter.h"
#include "xf_itemize.h"
#include "xf_keyfile.h"
#include "xf_lanes.h"
#include "xferd.h"
#include "xferd_roots.h"

/*
 * args.filters: an array of rules in the --filter form ("- PAT", "+ PAT"), in order, as
 * xferctl sends them (docs/FILTERS.md). Untrusted: at most XF_FILTER_RULES_MAX rules and
 * XF_FILTER_TEXT_MAX bytes, each parsed in full; a refusal names the rule and is counted.
 * @return 0 with *out NULL (no rules) or the compiled filter, or -EINVAL (reply set).
 */
int
xferd_push_filters(struct xferd *d, json_t *args, struct xf_filter **out,
                   struct xf_ctl_reply *reply)
{
	json_t *rules = json_object_get(args, "filters");
	struct xf_filter *f;
	char err[512];
	size_t i;
	json_t *r;

	*out = NULL;
	if (rules == NULL || (json_is_array(rules) && json_array_size(rules) == 0)) {
		return 0;
	}
	if (!json_is_array(rules) || json_array_size(rules) > XF_FILTER_RULES_MAX) {
		d->push_filters_refused++;
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.filters: expected an array of at most %u strings",
		                   XF_FILTER_RULES_MAX);
		return -EINVAL;
	}
	f = xf_filter_new();
	if (f == NULL) {
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "out of memory for the filter");
		return -ENOMEM;
	}
	json_array_foreach(rules, i, r)
	{
		int rc = -EINVAL;

		if (!json_is_string(r)) {
			snprintf(err, sizeof(err), "not a string");
		} else {
			rc = xf_filter_add(f, XF_FILTER_FORM_RULE, json_string_value(r),
			                   json_string_length(r), err, sizeof(err));
		}
		if (rc < 0) {
			d->push_filters_refused++;
			xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "args.filters[%zu]: %s", i,
			                   err);
			xf_filter_free(f);
			return rc;
		}
	}
	*out = f;
	return 0;
}

/*
 * args.delete (bool) and args.max_delete (integer, 0..2^32-2). With filters, the rules go
 * to the receiver too, whose deletion keeps what they exclude (docs/PROTOCOL.md 6.12).
 */
int
xferd_push_delete(json_t *args, struct xf_engine_push_req *req, struct xf_ctl_reply *reply)
{
	json_t *del = json_object_get(args, "delete");
	json_t *max = json_object_get(args, "max_delete");

	if (del != NULL && !json_is_boolean(del)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "args.delete: expected a bool");
		return -EINVAL;
	}
	if (max != NULL && (!json_is_integer(max) || json_integer_value(max) < 0 ||
	                    json_integer_value(max) >= (json_int_t)XF_DELETE_UNLIMITED)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.max_delete: expected an integer from 0 to %u",
		                   XF_DELETE_UNLIMITED - 1);
		return -EINVAL;
	}
	req->delete_extra = json_is_true(del);
	req->max_delete = max != NULL ? (uint32_t)json_integer_value(max) : XF_DELETE_UNLIMITED;
	if (max != NULL && !req->delete_extra) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.max_delete: only with args.delete");
		return -EINVAL;
	}
	return 0;
}

/* args.dry_run, args.itemize, args.hard_links, args.compress, args.owner, args.group,
 * args.owner_names, args.xattrs and args.acls (bools; compress absent: transfer.compress,
 * reloadable, else the peer's volume's volumes[].compress; false: off whatever that
 * says). */
int
xferd_push_modes(const struct xferd *d, json_t *args, struct xf_engine_push_req *req,
                 struct xf_ctl_reply *reply)
{
	json_t *dry = json_object_get(args, "dry_run");
	json_t *itemize = json_object_get(args, "itemize");
	json_t *links = json_object_get(args, "hard_links");
	json_t *compress = json_object_get(args, "compress");
	json_t *owner = json_object_get(args, "owner");
	json_t *group = json_object_get(args, "group");
	json_t *names = json_object_get(args, "owner_names");
	json_t *xattrs = json_object_get(args, "xattrs");
	json_t *acls = json_object_get(args, "acls");

	if ((dry != NULL && !json_is_boolean(dry)) ||
	    (itemize != NULL && !json_is_boolean(itemize)) ||
	    (links != NULL && !json_is_boolean(links)) ||
	    (compress != NULL && !json_is_boolean(compress)) ||
	    (owner != NULL && !json_is_boolean(owner)) ||
	    (group != NULL && !json_is_boolean(group)) ||
	    (names != NULL && !json_is_boolean(names)) ||
	    (xattrs != NULL && !json_is_boolean(xattrs)) ||
	    (acls != NULL && !json_is_boolean(acls))) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.dry_run, args.itemize, args.hard_links, args.compress, "
		                   "args.owner, args.group, args.owner_names, args.xattrs, "
		                   "args.acls: expected bools");
		return -EINVAL;
	}
	if (json_is_true(names) && !json_is_true(owner) && !json_is_true(group)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.owner_names: maps what args.owner and args.group send; "
		                   "neither is true");
		return -EINVAL;
	}
	req->owner_names = json_is_true(names);
	req->owner = json_is_true(owner);
	req->group = json_is_true(group);
	req->xattrs = json_is_true(xattrs);
	req->acls = json_is_true(acls);
	req->dry_run = json_is_true(dry);
	req->itemize = json_is_true(itemize);
	req->hard_links = json_is_true(links);
	/* Said by the job, else transfer.compress, else the peer's volume may ask (its
	 * HELLO_ACK, docs/PROTOCOL.md 6.16) unless the job said --no-compress. */
	req->compress = compress != NULL ? json_is_true(compress) : d->cfg->transfer.compress;
	req->compress_why = compress != NULL ? (req->compress ? XF_ZIP_JOB : XF_ZIP_REFUSED)
	                    : req->compress  ? XF_ZIP_CONFIG
	                                     : XF_ZIP_NONE;
	req->redo = d->cfg->transfer.redo;
	return 0;
}

/* args.lanes (integer 1..16; absent: transfer.lanes, reloadable). The engine checks it
 * against its ports. */
static int
push_lanes(const struct xferd *d, json_t *args, struct xf_engine_push_req *req,
           struct xf_ctl_reply *reply)
{
	json_t *lanes = json_object_get(args, "lanes");

	if (lanes != NULL && (!json_is_integer(lanes) || json_integer_value(lanes) < 1 ||
	                      json_integer_value(lanes) > XF_LANES_MAX)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.lanes: expected an integer from 1 to %u", XF_LANES_MAX);
		return -EINVAL;
	}
	if (lanes != NULL) {
		req->lanes = (unsigned int)json_integer_value(lanes);
	} else {
		req->lanes = d->cfg->transfer.lanes;
	}
	return 0;
}

int
xferd_job_args(const struct xferd *d, json_t *args, struct xf_engine_push_req *req,
               struct xf_ctl_reply *reply)
{
	const char *src = json_string_value(json_object_get(args, "src"));
	const char *peer = json_string_value(json_object_get(args, "peer"));
	const char *dest = json_string_value(json_object_get(args, "dest"));
	json_t *volume = json_object_get(args, "volume");
	json_t *checksum = json_object_get(args, "checksum");

	if (src == NULL || peer == NULL || dest == NULL ||
	    (checksum != NULL && !json_is_boolean(checksum)) ||
	    (volume != NULL && !json_is_string(volume))) {
		xf_ctl_reply_error(
		        reply, XF_CTL_E_INVALID_ARGS,
		        "expected src, peer, dest, volume (strings) and checksum (bool)");
		return -EINVAL;
	}
	if (src[0] != '/') {
		xf_ctl_reply_error(
		        reply, XF_CTL_E_INVALID_ARGS,
		        "src must be an absolute path (the daemon's working directory is "
		        "not yours)");
		return -EINVAL;
	}
	req->src = src;
	/* The peer's volume; absent or "": its first. The engine checks its form. */
	req->volume = volume != NULL ? json_string_value(volume) : NULL;
	req->checksum = json_is_true(checksum);
	req->peer = XF_CONFIG_MAX_PEERS;
	for (unsigned int i = 0; i < d->cfg->n_peers; i++) {
		if (strcmp(d->cfg->peers[i].name, peer) == 0) {
			req->peer = d->peer_slot[i]; /* the engine's slot of the peer */
		}
	}
	if (req->peer == XF_CONFIG_MAX_PEERS) {
		xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no peer '%s' in the config", peer);
		return -EINVAL;
	}
	/* A leading '/' in DEST means the root of the volume, as does "". */
	while (dest[0] == '/') {
		dest++;
	}
	req->dest = dest;
	return 0;
}

static void
h_push(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	struct xf_engine_push_req req = { 0 };
	struct xf_filter *filter;
	char err[1024] = "";
	char resolved[PATH_MAX];
	int rc;

	if (xferd_job_args(d, args, &req, reply) < 0) {
		return;
	}
	rc = xferd_push_root_check(d->cfg, req.src, resolved, err, sizeof(err));
	if (rc < 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "%s", err);
		return;
	}
	req.src = resolved;
	/* transfer.checksum (reloadable) makes every push compare by checksum. */
	req.checksum = req.checksum || d->cfg->transfer.checksum;
	if (xferd_push_modes(d, args, &req, reply) < 0) {
		return;
	}
	if (xferd_push_filters(d, args, &filter, reply) < 0) {
		return;
	}
	req.filter = filter;
	if (xferd_push_delete(args, &req, reply) < 0 || push_lanes(d, args, &req, reply) < 0) {
		xf_filter_free(filter);
		return;
	}
	rc = xf_engine_push(d->engine, &req, err, sizeof(err));
	xf_filter_free(filter);
	if (rc < 0) {
		xf_ctl_reply_error(reply, rc == -EBUSY ? XF_CTL_E_BUSY : XF_CTL_E_FAILED, "%s",
		                   err);
		return;
	}
	reply->result = json_pack("{s:i}", "job", rc);
}

/* One reply carries at most this many itemized lines, or about this many bytes of them:
 * a reply stays far below the client's output bound (XF_CTL_OUTPUT_MAX). */
#define ITEMIZE_LINES 512u
#define ITEMIZE_BYTES (64u * 1024u)

struct itemize_ctx {
	json_t *lines;
	bool checksum;
	unsigned int n;
	size_t bytes;
	char buf[XF_ITEMIZE_LINE_MAX];
};

static bool
itemize_one(void *arg, const struct xf_flist_entry *e, uint16_t rec)
{
	struct itemize_ctx *c = arg;
	int n = rec == XF_ENGINE_ITEM_DELETED
	                ? xf_itemize_deleting(c->buf, sizeof(c->buf), e->path, e->path_len,
	                                      e->kind == XF_FILE_DIR)
	                : xf_itemize_line(c->buf, sizeof(c->buf), e->kind, rec, c->checksum,
	                                  e->path, e->path_len, e->target, e->target_len);

	if (n > 0) {
		json_array_append_new(c->lines, json_stringn(c->buf, (size_t)n));
		c->n++;
		c->bytes += (size_t)n;
	}
	return c->n < ITEMIZE_LINES && c->bytes < ITEMIZE_BYTES;
}

/*
 * itemize {id, from}: a finished job's itemized lines (push with itemize), from entry
 * index from on: {lines[], next, end}. Ask again with from = next until end.
 */
static void
h_itemize(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	json_t *id = json_object_get(args, "id");
	json_t *from = json_object_get(args, "from");
	struct itemize_ctx *c;
	struct xf_job_info info;
	int64_t next;
	bool end;

	if (!json_is_integer(id) || (from != NULL && !json_is_integer(from)) ||
	    (from != NULL && json_integer_value(from) < 0)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "expected id and from (integers, from >= 0)");
		return;
	}
	if (xf_engine_job(d->engine, (unsigned int)json_integer_value(id), &info) < 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no job %lld",
		                   (long long)json_integer_value(id));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		xf_ctl_reply_error(reply, XF_CTL_E_BUSY, "out of memory");
		return;
	}
	c->lines = json_array();
	c->checksum = info.checksum;
	next = xf_engine_job_items(d->engine, info.id,
	                           from != NULL ? (uint64_t)json_integer_value(from) : 0,
	                           itemize_one, c, &end);
	if (next < 0) {
		json_decref(c->lines);
		free(c);
		if (next == -EAGAIN) {
			xf_ctl_reply_error(reply, XF_CTL_E_BUSY, "job %u has not finished",
			                   info.id);
		} else if (next == -ENODATA) {
			xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
			                   "job %u was not asked to itemize", info.id);
		} else {
			xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no job %u", info.id);
		}
		return;
	}
	/* Deletions the peer made beyond those it could list (a list over 4 MiB, a path too
	 * long for a frame): rsync would have named them. */
	reply->result =
	        json_pack("{s:o, s:I, s:b, s:I}", "lines", c->lines, "next", (json_int_t)next,
	                  "end", end, "deletions_unlisted",
	                  (json_int_t)(info.push.files_deleted > info.push.deleted_listed
	                                       ? info.push.files_deleted - info.push.deleted_listed
	                                       : 0));
	free(c);
}

static void
h_cancel(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	json_t *id = json_object_get(args, "id");
	int rc;

	if (!json_is_integer(id)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "args.id: expected an integer");
		return;
	}
	rc = xf_engine_cancel(d->engine, (unsigned int)json_integer_value(id));
	if (rc == -ENOENT) {
		xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no job %lld",
		                   (long long)json_integer_value(id));
	} else if (rc == -EALREADY) {
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "job %lld has already finished",
		                   (long long)json_integer_value(id));
	} else if (rc < 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_BUSY, "try again");
	}
}

/* Every volume with its settings and counters (docs/CONTROL.md, `stats`). */
static json_t *
volumes_json(struct xferd *d)
{
	json_t *list = json_array();

	for (unsigned int v = 0; v < d->cfg->n_volumes; v++) {
		const struct xf_config_volume *cv = &d->cfg->volumes[v];
		struct xf_engine_volume_info vi;
		json_t *workers = json_array(), *vo;

		if (xf_engine_volume(d->engine, v, &vi) < 0) {
			json_decref(workers);
			continue;
		}
		for (unsigned int k = 0; k < cv->n_workers; k++) {
			json_array_append_new(workers, json_integer(cv->workers[k]));
		}
		for (unsigned int k = 0; cv->n_workers == 0 && k < d->cfg->cores.n_workers; k++) {
			json_array_append_new(workers, json_integer(d->cfg->cores.workers[k]));
		}
		vo = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
		        "s:I, s:I, s:I, s:I}",
		        "name", cv->name, "path", cv->path, "io", vi.io, "apply", vi.apply,
		        "verify", cv->verify == XF_CONFIG_VERIFY_FULL ? "full" : "fast", "workers",
		        workers, "sessions", (int)vi.sessions, "sessions_opened",
		        (json_int_t)vi.sessions_opened, "files_verified",
		        (json_int_t)vi.files_verified, "commits", (json_int_t)vi.commits,
		        "bytes_written", (json_int_t)vi.bytes_written, "staged_dirs",
		        (json_int_t)vi.staged_dirs, "type_changes", (json_int_t)vi.type_changes,
		        "trees_replaced", (json_int_t)vi.trees_replaced, "owners_set",
		        (json_int_t)vi.owners_set, "owners_failed", (json_int_t)vi.owners_failed,
		        "owners_unmapped", (json_int_t)vi.owners_unmapped);
		if (vo != NULL) {
			/* Attribute sets (docs/PROTOCOL.md 6.20). */
			json_object_set_new(vo, "xattrs_set",
			                    json_integer((json_int_t)vi.xattrs_set));
			json_object_set_new(vo, "xattrs_failed",
			                    json_integer((json_int_t)vi.xattrs_failed));
			json_object_set_new(vo, "xattrs_skipped",
			                    json_integer((json_int_t)vi.xattrs_skipped));
		}
		/* Its receive pipeline's counters, flat, so /metrics maps them as the rest. */
		for (size_t i = 0; vo != NULL && i < XF_PIPELINE_RX_STATS_N; i++) {
			char key[64];

			snprintf(key, sizeof(key), "pipeline_%s", xf_pipeline_rx_stats_names[i]);
			json_object_set_new(
			        vo, key, json_integer((json_int_t)((const uint64_t *)&vi.rx)[i]));
		}
		json_array_append_new(list, vo);
	}
	return list;
}

json_t *
xferd_stats_json(struct xferd *d)
{
	struct xf_engine_stats st;
	/* The engine's rings and every volume's pipeline's (2 x RX cores x workers each):
	 * at most 264 + 4096, too many for the stack. */
	const unsigned int ri_max =
	        XF_ENGINE_MAX_RX * (1 + 2 * XF_ENGINE_MAX_WORKERS) +
	        XF_ENGINE_MAX_VOLUMES * 2 * XF_ENGINE_MAX_RX * XF_ENGINE_MAX_WORKERS;
	struct xf_engine_ring_info *ri = calloc(ri_max, sizeof(*ri));
	struct xf_engine_queue_info qi[XF_ENGINE_MAX_RX];
	unsigned int nr, nq;
	json_t *rings, *queues;
	json_t *drops = json_object(), *cores = json_array();
	char key[64];
	json_t *result;

	xf_engine_stats(d->engine, &st);
	for (unsigned int i = 1; i < XF_ARRAY_SIZE(st.frame_drops); i++) {
		if (st.frame_drops[i] != 0) {
			snprintf(key, sizeof(key), "frame_%s", xf_engine_frame_drop_name(i));
			json_object_set_new(drops, key,
			                    json_integer((json_int_t)st.frame_drops[i]));
		}
	}
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(st.net_drops); i++) {
		if (st.net_drops[i] != 0) {
			snprintf(key, sizeof(key), "net_%s", xf_engine_net_drop_name(i));
			json_object_set_new(drops, key, json_integer((json_int_t)st.net_drops[i]));
		}
	}
	json_object_set_new(drops, "no_session", json_integer((json_int_t)st.no_session));
	json_object_set_new(drops, "hello_refused", json_integer((json_int_t)st.hello_refused));
	json_object_set_new(drops, "hello_ended", json_integer((json_int_t)st.hello_ended));
	json_object_set_new(drops, "hello_not_allowed",
	                    json_integer((json_int_t)st.hello_not_allowed));
	json_object_set_new(drops, "hello_peer_cap", json_integer((json_int_t)st.hello_peer_cap));
	json_object_set_new(drops, "unconfirmed", json_integer((json_int_t)st.unconfirmed));
	json_object_set_new(drops, "pn_ahead", json_integer((json_int_t)st.pn_ahead));
	json_object_set_new(drops, "pend_full", json_integer((json_int_t)st.pend_full));
	json_object_set_new(drops, "tx_full", json_integer((json_int_t)st.tx_full));
	/* AEAD and handshake drops by reason (docs/SECURITY.md 8). */
	json_object_update_new(
	        drops,
	        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "auth_failed",
	                  (json_int_t)st.auth_failed, "auth_replayed", (json_int_t)st.auth_replayed,
	                  "auth_too_old", (json_int_t)st.auth_too_old, "auth_expired",
	                  (json_int_t)st.auth_expired, "auth_no_keys", (json_int_t)st.auth_no_keys,
	                  "hs_bad_mac", (json_int_t)st.hs_bad_mac, "hs_no_key",
	                  (json_int_t)st.hs_no_key, "hs_replay", (json_int_t)st.hs_replay,
	                  "hs_bad_response", (json_int_t)st.hs_bad_response, "hs_mode",
	                  (json_int_t)st.hs_mode, "hs_failed", (json_int_t)st.hs_failed));
	json_object_update_new(
	        drops, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "hs_cookie",
	                         (json_int_t)st.hs_cookie, "hs_rate", (json_int_t)st.hs_rate,
	                         "hs_bad_cookie", (json_int_t)st.hs_bad_cookie, "hs_queue_full",
	                         (json_int_t)st.hs_queue_full, "hs_stale", (json_int_t)st.hs_stale,
	                         "hs_in_flight", (json_int_t)st.hs_in_flight, "hs_rekey_changed",
	                         (json_int_t)st.hs_rekey_changed, "hs_response_rate",
	                         (json_int_t)st.hs_response_rate));
	for (unsigned int i = 0; i < d->cfg->cores.n_rx; i++) {
		json_array_append_new(
		        cores, json_pack("{s:i, s:s}", "lcore", d->cfg->cores.rx[i], "role", "rx"));
	}
	for (unsigned int i = 0; i < d->cfg->cores.n_workers; i++) {
		json_array_append_new(cores, json_pack("{s:i, s:s}", "lcore",
		                                       d->cfg->cores.workers[i], "role", "worker"));
	}
	rings = json_array();
	nr = ri != NULL ? xf_engine_rings(d->engine, ri, ri_max) : 0;
	for (unsigned int i = 0; i < nr; i++) {
		json_array_append_new(rings,
		                      json_pack("{s:s, s:i, s:i}", "name", ri[i].name, "count",
		                                (int)ri[i].count, "free", (int)ri[i].free));
	}
	free(ri);
	queues = json_array();
	nq = xf_engine_queues(d->engine, qi, XF_ARRAY_SIZE(qi));
	for (unsigned int q = 0; q < nq; q++) {
		json_array_append_new(queues,
		                      json_pack("{s:i, s:I, s:I, s:I, s:I}", "queue", (int)q,
		                                "rx_packets", (json_int_t)qi[q].rx_packets,
		                                "tx_packets", (json_int_t)qi[q].tx_packets,
		                                "rx_bytes", (json_int_t)qi[q].rx_bytes, "tx_bytes",
		                                (json_int_t)qi[q].tx_bytes));
	}
	result = json_pack(
	        "{s:[{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}], s:o, s:o, s:o, s:o, s:{s:I, s:I, "
	        "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	        "ports", "name", d->cfg->ports[0].name, "udp_checksum_tx",
	        xf_engine_udp_tx_checksum(d->engine), "rx_packets", (json_int_t)st.rx_packets,
	        "tx_packets", (json_int_t)st.tx_packets, "rx_bytes", (json_int_t)st.rx_bytes,
	        "tx_bytes", (json_int_t)st.tx_bytes, "rx_missed", (json_int_t)st.rx_missed,
	        "tx_errors", (json_int_t)st.tx_dropped, "queues", queues, "cores", cores, "rings",
	        rings, "drops", drops, "dataplane", "frames", (json_int_t)st.frames, "bad_frames",
	        (json_int_t)st.bad_frames, "sessions_opened", (json_int_t)st.sessions_opened,
	        "sessions_closed", (json_int_t)st.sessions_closed, "sessions_timed_out",
	        (json_int_t)st.sessions_timed_out, "retransmits", (json_int_t)st.retransmits,
	        "arp_replied", (json_int_t)st.arp_replied, "icmp_echo_replied",
	        (json_int_t)st.icmp_echo_replied, "arp_held", (json_int_t)st.arp_held,
	        "arp_expired", (json_int_t)st.arp_expired);
	if (result != NULL) {
		json_t *dp = json_object_get(result, "dataplane");
		json_t *port0 = json_array_get(json_object_get(result, "ports"), 0);
		uint32_t rules, refused;
		const char *steering = xf_engine_steering(d->engine, &rules, &refused);

		json_object_set_new(port0, "steering", json_string(steering));
		json_object_set_new(port0, "flow_rules", json_integer((json_int_t)rules));
		json_object_set_new(port0, "flow_rules_refused", json_integer((json_int_t)refused));

		json_object_set_new(dp, "arp_requests", json_integer((json_int_t)st.arp_requests));
		json_object_set_new(dp, "arp_probes", json_integer((json_int_t)st.arp_probes));
		json_object_set_new(dp, "arp_announced",
		                    json_integer((json_int_t)st.arp_announced));
		json_object_set_new(dp, "neigh_changed",
		                    json_integer((json_int_t)st.neigh_changed));
		json_object_set_new(dp, "neigh_failed", json_integer((json_int_t)st.neigh_failed));
		json_object_set_new(result, "compress",
		                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "frames_inflated",
		                              (json_int_t)st.zip_frames, "bytes_in",
		                              (json_int_t)st.zip_bytes_in, "bytes_out",
		                              (json_int_t)st.zip_bytes_out, "refused_bad",
		                              (json_int_t)st.zip_bad, "refused_long",
		                              (json_int_t)st.zip_long, "refused_short",
		                              (json_int_t)st.zip_short));
		json_object_set_new(result, "control",
		                    json_pack("{s:I}", "push_filters_refused",
		                              (json_int_t)d->push_filters_refused));
		json_object_set_new(
		        result, "delta",
		        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		                  "basis_kept_bytes", (json_int_t)st.basis_kept_bytes,
		                  "sig_from_ring", (json_int_t)st.sig_from_ring, "sig_from_heap",
		                  (json_int_t)st.sig_from_heap, "cloned_bytes",
		                  (json_int_t)st.cloned_bytes, "copy_range_bytes",
		                  (json_int_t)st.copy_range_bytes, "crc_combined_bytes",
		                  (json_int_t)st.crc_combined_bytes, "basis_changed",
		                  (json_int_t)st.basis_changed, "basis_dirty",
		                  (json_int_t)st.basis_dirty, "basis_sync_done",
		                  (json_int_t)st.basis_sync_done, "temp_presized",
		                  (json_int_t)st.temp_presized, "clone_slow",
		                  (json_int_t)st.clone_slow, "redone", (json_int_t)st.redone));
		json_object_set_new(
		        json_object_get(result, "delta"), "sig_cache",
		        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "hits",
		                  (json_int_t)st.sc_hits, "misses", (json_int_t)st.sc_misses,
		                  "stale", (json_int_t)st.sc_stale, "stored",
		                  (json_int_t)st.sc_stored, "committed",
		                  (json_int_t)st.sc_committed, "evicted", (json_int_t)st.sc_evicted,
		                  "loaded", (json_int_t)st.sc_loaded, "corrupt",
		                  (json_int_t)st.sc_corrupt, "bytes", (json_int_t)st.sc_bytes));
		json_object_set_new(json_object_get(result, "delta"), "partial",
		                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "kept",
		                              (json_int_t)st.partial_kept, "used",
		                              (json_int_t)st.partial_used, "bytes_saved",
		                              (json_int_t)st.partial_saved, "evicted",
		                              (json_int_t)st.partial_evicted, "stale",
		                              (json_int_t)st.partial_stale, "recovered",
		                              (json_int_t)st.partial_recovered, "discarded",
		                              (json_int_t)st.partial_discarded, "untagged",
		                              (json_int_t)st.partial_untagged));
		json_object_set_new(json_object_get(result, "dataplane"), "slow_storage_steps",
		                    json_integer((json_int_t)st.slow_storage_steps));
		json_object_set_new(json_object_get(result, "dataplane"), "source_fd_waits",
		                    json_integer((json_int_t)st.source_fd_waits));
		{
			json_t *rd = json_array();

			for (unsigned int w = 0; w < st.n_readers; w++) {
				json_array_append_new(
				        rd, json_pack("{s:i, s:I, s:I, s:I}", "lcore",
				                      (int)st.readers[w].lcore, "whole_files",
				                      (json_int_t)st.readers[w].whole_files,
				                      "delta_files",
				                      (json_int_t)st.readers[w].delta_files,
				                      "parks", (json_int_t)st.readers[w].parks));
			}
			json_object_set_new(json_object_get(result, "dataplane"), "source_readers",
			                    rd);
		}
		json_object_update_new(json_object_get(result, "dataplane"),
		                       json_pack("{s:I, s:I, s:I}", "staged_dirs",
		                                 (json_int_t)st.staged_dirs, "staged_files",
		                                 (json_int_t)st.staged_files, "staged_failed",
		                                 (json_int_t)st.staged_failed));
		json_object_set_new(
		        result, "security",
		        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "mode",
		                  d->cfg->session.security == XF_CONFIG_SECURITY_NONE ? "none"
		                                                                      : "aead",
		                  "handshakes", (json_int_t)st.handshakes, "rekeys",
		                  (json_int_t)st.rekeys, "key_updates", (json_int_t)st.key_updates,
		                  "frames_sealed", (json_int_t)st.sealed, "frames_opened",
		                  (json_int_t)st.opened, "nonce_refused",
		                  (json_int_t)st.nonce_refused));
		json_object_update_new(json_object_get(result, "security"),
		                       json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		                                 "key_memory_locked", (json_int_t)st.keys_locked,
		                                 "peer_sessions_ended", (json_int_t)st.peer_gone,
		                                 "cookie_replies", (json_int_t)st.cookie_replies,
		                                 "cookies_taken", (json_int_t)st.cookies_taken,
		                                 "hs_dh", (json_int_t)st.hs_dh, "under_load",
		                                 (json_int_t)st.under_load));
		json_object_update_new(json_object_get(result, "security"),
		                       json_pack("{s:I, s:I}", "hs_dh_offcore",
		                                 (json_int_t)st.hs_dh_offcore, "hs_dh_oncore",
		                                 (json_int_t)st.hs_dh_oncore));
		json_object_set_new(result, "volumes", volumes_json(d));
		if (st.fault_on) {
			/* ports[].fault: what the test-only stage did to the frames sent */
			json_object_set_new(
			        result, "fault",
			        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "frames",
			                  (json_int_t)st.fault.frames, "delivered",
			                  (json_int_t)st.fault.delivered, "drop_queue_full",
			                  (json_int_t)st.fault.drop_queue, "drop_random",
			                  (json_int_t)st.fault.drop_random, "drop_burst",
			                  (json_int_t)st.fault.drop_burst, "drop_slots",
			                  (json_int_t)st.fault.drop_slots, "reordered",
			                  (json_int_t)st.fault.reordered, "refused",
			                  (json_int_t)st.fault_refused));
		}
		json_object_set_new(drops, "volume_refused",
		                    json_integer((json_int_t)st.volume_refused));
		json_object_set_new(drops, "owner_refused",
		                    json_integer((json_int_t)st.owner_refused));
		json_object_set_new(result, "pull", xferd_pull_stats_json(&st));
	}
	return result;
}

static void
h_stats(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)args;
	reply->result = xferd_stats_json(arg);
}

/* A public key's fingerprint for humans: the first 8 bytes of its SHA-256, in hex (as
 * the key itself is never printed by stats). "" if the digest fails. */
static void
key_fingerprint(const uint8_t *key, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (EVP_Digest(key, XF_KEY_LEN, md, &n, EVP_sha256(), NULL) != 1 || n < 8) {
		return;
	}
	for (unsigned int i = 0; i < 8; i++) {
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A session's keys: its peer's key fingerprint, its current keys' age, key updates and
 * new handshakes (docs/SECURITY.md 5). */
static json_t *
keys_json(const uint8_t *peer_key, uint64_t born_ns, uint64_t key_updates, uint64_t rekeys)
{
	char fp[17];

	key_fingerprint(peer_key, fp);
	return json_pack("{s:s, s:I, s:I, s:I}", "key_fingerprint", fp, "key_age_ms",
	                 (json_int_t)((mono_ns() - born_ns) / 1000000), "key_updates",
	                 (json_int_t)key_updates, "rekeys", (json_int_t)rekeys);
}

static void
h_sessions(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	static struct xf_engine_rsess_info rs[XF_ENGINE_MAX_RX * XF_CONFIG_MAX_SESSIONS];
	unsigned int nr;
	struct xf_engine_stats st;
	unsigned int ids[XF_ENGINE_MAX_JOBS],
	        n = xf_engine_jobs(d->engine, ids, XF_ENGINE_MAX_JOBS);
	json_t *list = json_array();

	(void)args;
	xf_engine_stats(d->engine, &st);
	for (unsigned int i = 0; i < n; i++) {
		struct xf_job_info j;

		if (xf_engine_job(d->engine, ids[i], &j) < 0 || j.state != XF_JOB_RUNNING) {
			continue;
		}
		json_t *o;

		o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id", (int)j.id,
		              "peer", xferd_slot_name(d, j.peer), "role", "sender", "state",
		              "running", "files_total", (json_int_t)j.push.files_total,
		              "files_committed", (json_int_t)j.push.files_committed, "files_failed",
		              (json_int_t)j.push.files_failed, "bytes",
		              (json_int_t)j.push.bytes_sent, "rtt_us",
		              (json_int_t)(j.rel.smoothed_rtt_ns / 1000), "retransmits",
		              (json_int_t)j.push.retransmits);
		if (o != NULL) {
			json_object_set_new(o, "cc", xferd_cc_json(&j.rel.cc));
		}
		/* The peer's key (fingerprint), the age of the session's current keys, key
		 * updates and new handshakes. */
		if (o != NULL && j.keyed) {
			json_object_update_new(
			        o, keys_json(j.peer_key, j.keys_born_ns, j.key_updates, j.rekeys));
		}
		json_array_append_new(list, o);
	}
	/* The sessions served, each with the keys of its peer likewise. */
	nr = xf_engine_rsessions(d->engine, rs, XF_ARRAY_SIZE(rs));
	for (unsigned int i = 0; i < nr; i++) {
		struct in_addr a = { .s_addr = rs[i].peer_ip };
		char ip[INET_ADDRSTRLEN];
		json_t *o;

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:I}", "id", (json_int_t)rs[i].id,
		              "peer", xferd_slot_name(d, rs[i].peer), "role", "receiver", "state",
		              rs[i].refused ? "refused" : "running", "peer_ip", ip, "peer_port",
		              (int)rs[i].peer_port, "age_ms",
		              (json_int_t)((mono_ns() - rs[i].opened_ns) / 1000000));
		if (o != NULL && rs[i].keyed) {
			json_object_update_new(o, keys_json(rs[i].peer_key, rs[i].keys_born_ns,
			                                    rs[i].key_updates, rs[i].rekeys));
		}
		json_array_append_new(list, o);
	}
	reply->result = json_pack("{s:o, s:i}", "sessions", list, "receiving", st.sessions);
}

int
xferd_engine_register(struct xferd *d, struct xf_ctl_server *ctl)
{
	if (xf_ctl_server_register(ctl, "jobs", xferd_h_jobs, d) < 0 ||
	    xf_ctl_server_register(ctl, "push", h_push, d) < 0 ||
	    xf_ctl_server_register(ctl, "pull", xferd_h_pull, d) < 0 ||
	    xf_ctl_server_register(ctl, "cancel", h_cancel, d) < 0 ||
	    xf_ctl_server_register(ctl, "itemize", h_itemize, d) < 0 ||
	    xf_ctl_server_register(ctl, "stats", h_stats, d) < 0 ||
	    xf_ctl_server_register(ctl, "sessions", h_sessions, d) < 0) {
		return -EINVAL;
	}
	return 0;
}
