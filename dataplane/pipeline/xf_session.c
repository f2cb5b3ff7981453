/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A receive session on its RX core: file-list enumeration, dispatch of work to the
 * file's worker, decisions, the reorder window and in-order commit reporting.
 *
 * Everything here runs on the session's RX core and never blocks: the only calls out
 * are ring enqueues/dequeues, the codec, and the transmit callback.
 *
 * Over 1,000 lines: one concern, a receive session's state machine on its RX
 * core (what it takes from the peer, what it hands the workers, what it sends back, in
 * which phase). The entry checks of hard links, compressed DATA, owners and their
 * names, attribute sets, type changes, placeholders, a file sent again whole and a
 * file's data with its end are a few lines each at the points where the machine takes
 * an entry or a frame (the name table's rules about 80 lines, attribute sets' bounds in
 * xf_xattr.c); its stages' work
 * (stat, write, inflate, verify, commit, link, set attributes, delete) lives in the
 * worker's files. Splitting the phases apart would spread one state machine, whose
 * fields every handler reads, over files that could then only agree through it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xf_delta.h"
#include "xf_filter.h"
#include "xf_path.h"
#include "xf_pipeline_priv.h"
#include "xf_xattr.h"

#define MODULE "pipeline"

static inline struct xf_ring *
ring_to(struct xf_session *s, unsigned int w)
{
	return s->p->to_w[s->rx][w];
}

static inline struct xf_pipeline_rx_stats *
stats(struct xf_session *s)
{
	return &s->p->rx[s->rx].stats;
}

int
xf_session_init(struct xf_session *s, struct xf_pipeline *p, uint16_t sid, uint16_t rx,
                uint32_t addr, uint16_t port, uint32_t id, uint16_t max_payload)
{
	memset(s, 0, offsetof(struct xf_session, dec_buf));
	s->p = p;
	s->sid = sid;
	s->rx = rx;
	s->addr = addr;
	s->port = port;
	s->id = id;
	s->gen = atomic_fetch_add(&p->gen_next, 1);
	s->max_payload = max_payload;
	s->fail_cap = (max_payload - XF_HDR_LEN - 12u) / 8u;
	if (s->fail_cap > XF_COMMIT_FAIL_MAX) {
		s->fail_cap = XF_COMMIT_FAIL_MAX;
	}
	s->total = UINT32_MAX;
	/* Reserved with the pipeline: emptied here, nothing allocated. */
	xf_ftable_reset(&s->ft);
	xf_pathset_reset(&s->keep);
	xf_pathset_reset(&s->linkable);
	/* The slot's, made with the pipeline: cleared here, nothing allocated. */
	xf_reorder_attach(&s->ro, s->ro_val, s->ro_full, p->conf.window, 0);
	/* At most a window of files is undecided or waiting for its SIG frames. */
	s->sigq = s->sigq_mem;
	memset(s->sigq, 0, (size_t)p->conf.window * sizeof(*s->sigq));
	s->used = true;
	return 0;
}

void
xf_session_fini(struct xf_session *s)
{
	if (!s->used) {
		return;
	}
	xf_delete_list_free(&s->del_list);
	free(s->del_dest);
	s->del_dest = NULL;
	xf_filter_free(s->del_protect);
	s->del_protect = NULL;
	for (uint32_t i = 0; i < s->sigq_n; i++) {
		xf_lease_free(s->sigq[(s->sigq_head + i) % s->p->conf.window].sigs);
	}
	s->sigq = NULL;
	s->sigq_n = 0;
	s->used = false;
}

/* Aborting, or draining the workers after DONE: what comes back is let go, not used. */
static inline bool
winding_down(const struct xf_session *s)
{
	return s->phase == PH_ABORT || s->phase == PH_DRAIN;
}

bool
xf_session_is_done(const struct xf_session *s)
{
	return s->phase == PH_DONE;
}

uint32_t
xf_session_committed(const struct xf_session *s)
{
	return s->committed;
}

void
xf_session_counts(const struct xf_session *s, struct xf_session_counts *out)
{
	out->total = s->total;
	out->settled = s->committed;
	out->changed = s->changed;
	out->failed = s->failed;
}

static void
hdr_init(struct xf_session *s, struct xf_msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->hdr.version = XF_PROTO_VERSION;
	m->hdr.type = type;
	m->hdr.session = s->id;
	m->hdr.pn = s->tx_pn++;
}

static void
flush_decisions(struct xf_session *s)
{
	int n;

	if (!s->dec_open) {
		return;
	}
	s->dec_open = false;
	n = xf_proto_build_finish(&s->dec_b);
	if (n > 0) {
		s->tx(s->tx_arg, s->dec_buf, (unsigned int)n);
	}
}

static void
add_decision(struct xf_session *s, uint32_t file, uint8_t decision, uint8_t status, uint16_t items,
             uint32_t block_size, uint32_t block_count)
{
	struct xf_decision_rec rec = { .file = file,
		                       .decision = decision,
		                       .status = status,
		                       /* Only when asked: a sender that did not ask has
		                        * them reserved. */
		                       .items = (s->flags & XF_HELLO_F_ITEMIZE) != 0 ? items : 0,
		                       .block_size = block_size,
		                       .block_count = block_count };
	struct xf_msg m;

	for (int tries = 0; tries < 2; tries++) {
		if (!s->dec_open) {
			hdr_init(s, &m, XF_MSG_DECISION);
			if (xf_proto_build_begin(&s->dec_b, s->dec_buf, s->max_payload, &m) < 0) {
				return;
			}
			s->dec_open = true;
		}
		if (xf_proto_build_decision(&s->dec_b, &rec) == 0) {
			return;
		}
		flush_decisions(s);
	}
}

/* Send COMMIT(committed, credit, the failures settled since the last one). */
static int
send_commit(struct xf_session *s)
{
	const struct xf_commit_fail *fails = s->fails;
	unsigned int nfail = s->nfail;

	struct xf_proto_builder b;
	struct xf_msg m;
	int n;

	hdr_init(s, &m, XF_MSG_COMMIT);
	m.commit.committed = s->committed;
	m.commit.credit = xf_reorder_limit(&s->ro);
	m.commit.seq = s->commit_seq;
	if (xf_proto_build_begin(&b, s->com_buf, s->max_payload, &m) < 0) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < nfail; i++) {
		if (xf_proto_build_commit(&b, &fails[i]) < 0) {
			break;
		}
	}
	n = xf_proto_build_finish(&b);
	if (n < 0) {
		return n;
	}
	s->tx(s->tx_arg, s->com_buf, (unsigned int)n);
	s->commit_seq++;
	s->reported = s->committed;
	s->nfail = 0;
	return 0;
}

/* A file is settled (committed, up to date or failed), strictly in order. */
static void on_settled(struct xf_session *s, uint32_t file, uint8_t status, bool changed);

static void
settle(struct xf_session *s, uint32_t file, uint64_t val)
{
	struct xf_fentry *fe = xf_ftable_get(&s->ft, file);
	int rc;

	if (fe != NULL) {
		fe->state = FS_SETTLED;
		fe->status = (uint8_t)(val & 0xffu);
	}
	rc = xf_reorder_insert(&s->ro, file, val);
	if (rc < 0) {
		/* Cannot happen: entries are only accepted below the credit limit. */
		XF_LOG(ERR, MODULE, "session %08x: file %u not in window (%d)", s->id, file, rc);
	}
}

static void
refuse(struct xf_session *s, uint32_t file, struct xf_fentry *fe, uint8_t status)
{
	fe->decision = XF_DEC_REFUSED;
	add_decision(s, file, XF_DEC_REFUSED, status, 0, 0, 0);
	settle(s, file, status);
}

/*
 * The staging directory is ours: a path with a component named like it, in any case (a
 * case-insensitive volume takes .XFERD for .xferd), is refused like a bad path, and so is
 * a symlink whose target has one. Any lookup that reaches the staging directory from the
 * root must look its name up there, and that name comes from a path or a symlink target;
 * refusing both at every component means that no symlink the peer makes (x -> .) and no
 * path it sends (x/.xferd/tmp) can get there (docs/PIPELINE.md, "Invariants").
 */
bool
xf_session_names_staging(const char *path, size_t len)
{
	const size_t n = strlen(XF_STAGING_DIR);

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && path[j] != '/') {
			j++;
		}
		if (j - i == n && strncasecmp(path + i, XF_STAGING_DIR, n) == 0) {
			return true;
		}
		i = j + 1;
	}
	return false;
}

/* Nothing more is taken from the peer: ABORT(code) goes out (after the decisions made so
 * far) and the session aborts. For what a correct sender never does (a frame was already
 * acknowledged, so dropping it silently would leave the sender waiting forever). */
static void
proto_abort(struct xf_session *s, uint16_t code, const char *why)
{
	uint8_t buf[64];
	struct xf_msg m;
	int n;

	stats(s)->proto_err++;
	stats(s)->proto_aborts++;
	XF_LOG(NOTICE, MODULE, "session %08x: %s: aborted", s->id, why);
	xf_session_abort(s);
	hdr_init(s, &m, XF_MSG_ABORT);
	m.abort.code = code;
	n = xf_proto_encode(buf, sizeof(buf), &m);
	if (n > 0) {
		s->tx(s->tx_arg, buf, (unsigned int)n);
	}
}

/* A path set (which: "--delete" or "hard link") is full: the session cannot delete, or
 * link, from a set that missed a path, so it ends here with the reason, counted. */
static void
paths_over(struct xf_session *s, const struct xf_pathset *ps, const char *which)
{
	char why[128];

	stats(s)->paths_over++;
	snprintf(why, sizeof(why), "%s path set full at %zu of its %zu paths", which,
	         xf_pathset_count(ps), ps->max);
	proto_abort(s, XF_ABORT_BUSY, why);
}

/* The file table refused entry idx (xf_ftable.h, "Bounds"): an index past its bound, or
 * every path chunk live. The session ends here with the reason, counted. */
static void
entries_over(struct xf_session *s, uint32_t idx)
{
	char why[128];

	stats(s)->entries_over++;
	snprintf(why, sizeof(why), "file table full at entry %u (%u entries, %u path chunks)", idx,
	         s->ft.max, s->ft.nchunks);
	proto_abort(s, XF_ABORT_BUSY, why);
}

/* Entries the state machine cannot accept from a correct sender. @return the reason, or
 * NULL if the frame may be taken. */
static const char *
flist_violation(const struct xf_session *s, const struct xf_msg *m, uint32_t limit)
{
	const struct xf_msg_flist *fl = &m->flist;
	bool sets = (s->flags & (XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS)) != 0;
	uint32_t end;

	if (fl->first_index > UINT32_MAX - fl->count) {
		return "FLIST indices wrap";
	}
	end = fl->first_index + fl->count;
	if (end > limit) {
		return "FLIST beyond the credit";
	}
	if (s->total != UINT32_MAX && end > s->total) {
		return "FLIST entry at or above the LAST total";
	}
	if (((fl->flags & XF_FLIST_F_OWNER) != 0) != ((s->flags & XF_HELLO_F_OWNER) != 0)) {
		/* Entries of another layout than the HELLO announced (6.17). */
		return (fl->flags & XF_FLIST_F_OWNER) != 0
		               ? "FLIST with owners in a session without XF_HELLO_F_OWNER"
		               : "FLIST without owners in a session with XF_HELLO_F_OWNER";
	}
	if (((m->hdr.flags & XF_HDR_F_XATTR) != 0) != sets) {
		/* Entries of another layout than the HELLO announced (6.20). */
		return sets ? "FLIST without attribute sets in a session with XF_HELLO_F_XATTRS "
		              "or XF_HELLO_F_ACLS"
		            : "FLIST with attribute sets in a session without XF_HELLO_F_XATTRS "
		              "or XF_HELLO_F_ACLS";
	}
	if ((fl->flags & XF_FLIST_F_LAST) != 0) {
		if (end < s->seen_end) {
			return "LAST below an index already seen";
		}
		if (s->total != UINT32_MAX && s->total != end) {
			return "a second LAST with another total";
		}
	}
	return NULL;
}

/*
 * Does a directory in the way of a file or symlink go with what it holds (--delete
 * without --max-delete, as rsync's --delete removes it)? Otherwise only an empty one is
 * replaced, and one with entries refuses the entry (CONFLICT), as rsync without --delete
 * or --force fails it (docs/PIPELINE.md, "Type changes"). Not with protect rules
 * either: the tree's removal does not apply them, and rsync fails such an entry when the
 * tree holds one they keep.
 */
static bool
replaces_trees(const struct xf_session *s)
{
	return (s->flags & XF_HELLO_F_DELETE) != 0 && !s->del_broken &&
	       s->del_conf.max_delete == XF_DELETE_UNLIMITED && s->del_protect == NULL;
}

/*
 * Is regular file entry idx (fe) in a run: is every entry from its directory's own entry
 * up to it a regular file in that directory, of at most XF_STG_FILE_MAX bytes (the larger
 * ones are never staged: they end a run)? Known from entry idx - 1 alone, if this core
 * has it yet (FLIST frames may come out of order: then it is not). A file in a run may be
 * written in its staged directory by the commit worker even if some of the files before
 * it are another worker's: all of those only go into the same directory at commit
 * (docs/PIPELINE.md, "Staged directories").
 */
static bool
in_run(struct xf_session *s, uint32_t idx, const struct xf_fentry *fe)
{
	const struct xf_fentry *pe = idx != 0 ? xf_ftable_get(&s->ft, idx - 1) : NULL;

	if (fe->kind != XF_FILE_REG || fe->size > XF_STG_FILE_MAX || fe->dir_len == 0 ||
	    pe == NULL || pe->name == NULL) {
		return false;
	}
	if (pe->kind == XF_FILE_REG) {
		/* The same directory as the file before it, which is in a run. */
		return pe->run && pe->dir_len == fe->dir_len &&
		       memcmp(xf_fentry_dir(pe), xf_fentry_dir(fe), fe->dir_len) == 0;
	}
	/* Right after its own directory's entry: parent "/" base of pe is fe's parent. */
	return pe->kind == XF_FILE_DIR && pe->path_len == fe->dir_len &&
	       memcmp(xf_fentry_dir(pe), xf_fentry_dir(fe), pe->dir_len) == 0 &&
	       (pe->dir_len == 0 || xf_fentry_dir(fe)[pe->dir_len] == '/') &&
	       memcmp(xf_fentry_base(pe), xf_fentry_dir(fe) + pe->dir_len + (pe->dir_len != 0),
	              xf_fentry_base_len(pe)) == 0;
}

/* The STAT item of entry idx (fe->run already set). */
static void owner_of(const struct xf_session *s, const struct xf_fentry *fe, struct xf_work *it);

/* Whether the session's STAT items map owners by name (XF_HELLO_F_OWNER_NAMES, 6.21). */
static bool
maps_names(const struct xf_session *s)
{
	return (s->flags & XF_HELLO_F_OWNER_NAMES) != 0 && s->p->conf.keep_owner;
}

static void
stat_item(const struct xf_session *s, uint32_t idx, const struct xf_fentry *fe, struct xf_work *it)
{
	memset(it, 0, sizeof(*it));
	it->type = XF_WORK_STAT;
	it->kind = fe->kind;
	it->sid = s->sid;
	it->rx = s->rx;
	it->file = idx;
	it->len = fe->dir_len;
	it->mode = fe->mode;
	owner_of(s, fe, it);
	if (maps_names(s)) {
		it->flags |= XF_WORK_F_NAMES;
	}
	it->fd = -1;
	it->sess_id = s->id;
	it->gen = s->gen;
	it->off = fe->kind == XF_FILE_SYMLINK ? fe->target_len : fe->size;
	it->val = (uint64_t)fe->mtime_ns;
	it->ptr = fe->name;
	if ((s->flags & XF_HELLO_F_CHECKSUM) != 0) {
		it->flags |= XF_WORK_F_CHECKSUM;
	}
	if ((s->flags & XF_HELLO_F_DRYRUN) != 0) {
		it->flags |= XF_WORK_F_DRYRUN;
	}
	if ((s->flags & XF_HELLO_F_ITEMIZE) != 0) {
		it->flags |= XF_WORK_F_ITEMIZE;
	}
	if (replaces_trees(s)) {
		it->flags |= XF_WORK_F_DELETE;
	}
	if (fe->run) {
		it->flags |= XF_WORK_F_RUN;
	}
}

/*
 * A hard link's entry (XF_FILE_HARDLINK) as listed: only in a session that asked for them,
 * and its leader's path passes the rules of any path (it is opened beneath the root like
 * one) and is not its own. Whether the leader is a regular file this session committed
 * before it is known only when everything before it is settled (link_status()).
 */
static bool
link_entry_ok(const struct xf_session *s, const struct xf_flist_entry *e)
{
	return (s->flags & XF_HELLO_F_HARDLINKS) != 0 &&
	       xf_path_validate(e->target, e->target_len) == 0 &&
	       !xf_session_names_staging(e->target, e->target_len) &&
	       !(e->target_len == e->path_len && memcmp(e->target, e->path, e->path_len) == 0);
}

/* The whole path of a table entry into buf (XF_PATH_MAX + 1 bytes); its length. */
static size_t
fentry_path(const struct xf_fentry *fe, char *buf)
{
	size_t n = 0;

	if (fe->dir_len != 0) {
		memcpy(buf, xf_fentry_dir(fe), fe->dir_len);
		buf[fe->dir_len] = '/';
		n = fe->dir_len + 1u;
	}
	memcpy(buf + n, xf_fentry_base(fe), xf_fentry_base_len(fe));
	return n + xf_fentry_base_len(fe);
}

/*
 * A hard link whose every predecessor is settled: XF_ST_OK if its leader (the target) is
 * a regular file this session committed or found up to date, else XF_ST_LINK (a later
 * entry, itself, a directory, a symlink, a failed file, a path not in the list, or one
 * of another session: none of them is in the set).
 */
static uint8_t
link_status(const struct xf_session *s, const struct xf_fentry *fe)
{
	if (!xf_pathset_has(&s->linkable, xf_fentry_target(fe), fe->target_len)) {
		return XF_ST_LINK; /* counted as it settles (on_settled()) */
	}
	return XF_ST_OK;
}

/* The owner and group a STAT or COMMIT item of entry fe sets: those the list carries,
 * on a volume that keeps them (else none: XF_ID_NONE leaves them); and whether it sets
 * the attribute set stored after its name (6.20). */
static void
owner_of(const struct xf_session *s, const struct xf_fentry *fe, struct xf_work *it)
{
	bool keep = s->p->conf.keep_owner;

	it->uid = keep ? fe->uid : XF_ID_NONE;
	it->gid = keep ? fe->gid : XF_ID_NONE;
	if ((s->flags & XF_HELLO_F_XATTRS) != 0) {
		it->flags |= XF_WORK_F_XATTRS;
	}
	if ((s->flags & XF_HELLO_F_ACLS) != 0) {
		it->flags |= XF_WORK_F_ACLS;
	}
}

/* Namespaces an attribute set of this session may hold: what its HELLO asked for (the
 * volume's choice among them is the worker's, which leaves the others out). */
static unsigned int
xattr_carried(const struct xf_session *s)
{
	return ((s->flags & XF_HELLO_F_XATTRS) != 0
	                ? XF_XATTR_NS_USER | XF_XATTR_NS_SECURITY | XF_XATTR_NS_TRUSTED
	                : 0u) |
	       ((s->flags & XF_HELLO_F_ACLS) != 0 ? XF_XATTR_NS_ACL : 0u);
}

/* The counter of a refused set's reason. */
static void
xattr_count_refusal(struct xf_session *s, enum xf_xattr_reason why)
{
	struct xf_pipeline_rx_stats *st = stats(s);

	switch (why) {
	case XF_XATTR_R_CRC:
		st->xattr_crc++;
		break;
	case XF_XATTR_R_NAME:
		st->xattr_name++;
		break;
	case XF_XATTR_R_VALUE:
		st->xattr_value++;
		break;
	case XF_XATTR_R_COUNT:
		st->xattr_count++;
		break;
	case XF_XATTR_R_TOTAL:
		st->xattr_total++;
		break;
	default:
		st->xattr_malformed++;
		break;
	}
}

/* The name table of FLIST m (XF_HDR_F_NAMES) as records, in the wire's (kind, id) order. */
static uint16_t
frame_names(const struct xf_msg *m, struct xf_name_rec *rec)
{
	uint32_t cursor = 0;
	uint16_t n = 0;

	while (n < XF_NAMES_MAX && xf_proto_flist_name_next(m, &cursor, &rec[n])) {
		n++;
	}
	return n;
}

/* The record of (kind, id) among rec[0..n), sorted by (kind, id); NULL if none. */
static const struct xf_name_rec *
name_find(const struct xf_name_rec *rec, uint16_t n, enum xf_name_kind kind, uint32_t id)
{
	uint64_t key = ((uint64_t)kind << 32) | id;
	uint16_t lo = 0, hi = n;

	while (lo < hi) {
		uint16_t mid = (uint16_t)(lo + (hi - lo) / 2);
		uint64_t k = ((uint64_t)rec[mid].kind << 32) | rec[mid].id;

		if (k == key) {
			return &rec[mid];
		}
		if (k < key) {
			lo = (uint16_t)(mid + 1);
		} else {
			hi = mid;
		}
	}
	return NULL;
}

/* Remember the names of a frame (the first XF_SESSION_NAMES ids); false if one of them
 * names an id the sender named otherwise before: a correct sender names each id once
 * per session, so the frame's entries could be set to two accounts for one owner. */
static bool
names_remember(struct xf_session *s, const struct xf_name_rec *rec, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint16_t j;

		for (j = 0; j < s->n_names; j++) {
			const struct sess_name *k = &s->names[j];

			if (k->kind == rec[i].kind && k->id == rec[i].id) {
				break;
			}
		}
		if (j < s->n_names) {
			if (s->names[j].len != rec[i].len ||
			    memcmp(s->names[j].name, rec[i].name, rec[i].len) != 0) {
				return false;
			}
		} else if (s->n_names < XF_SESSION_NAMES) {
			struct sess_name *k = &s->names[s->n_names++];

			k->id = rec[i].id;
			k->kind = rec[i].kind;
			k->len = rec[i].len;
			memcpy(k->name, rec[i].name, rec[i].len);
		}
	}
	return true;
}

/* The names of FLIST m's ids into rec[] (*n of them); NULL, or why the session must end. */
static const char *
flist_names(struct xf_session *s, const struct xf_msg *m, struct xf_name_rec *rec, uint16_t *n)
{
	*n = 0;
	if ((m->hdr.flags & XF_HDR_F_NAMES) == 0) {
		return NULL;
	}
	if ((s->flags & XF_HELLO_F_OWNER_NAMES) == 0) {
		return "FLIST with names in a session without XF_HELLO_F_OWNER_NAMES";
	}
	*n = frame_names(m, rec);
	return names_remember(s, rec, *n) ? NULL : "a second, different name for an owner or group";
}

static int
on_flist(struct xf_session *s, const struct xf_msg *m)
{
	const struct xf_msg_flist *fl = &m->flist;
	unsigned int need[XF_PIPELINE_MAX_WORKERS] = { 0 };
	struct xf_flist_entry e;
	uint32_t cursor = 0, idx = fl->first_index;
	uint32_t limit = xf_reorder_limit(&s->ro);
	const char *why = flist_violation(s, m, limit);
	struct xf_name_rec names[XF_NAMES_MAX];
	uint16_t n_names = 0;
	bool named = (s->flags & XF_HELLO_F_OWNER_NAMES) != 0;

	if (why != NULL) {
		proto_abort(s, XF_ABORT_PROTOCOL, why);
		return 0;
	}
	why = flist_names(s, m, names, &n_names);
	if (why != NULL) {
		stats(s)->names_refused++;
		proto_abort(s, XF_ABORT_PROTOCOL, why);
		return 0;
	}
	/* All or nothing: the frame is accepted only if every STAT fits its ring now.
	 * Only this core enqueues, so the free counts can only grow until we do. */
	while (xf_proto_flist_next(m, &cursor, &e)) {
		need[xf_pipeline_stat_worker(s->p, idx++, e.kind)]++;
	}
	cursor = 0;
	idx = fl->first_index;
	for (unsigned int w = 0; w < s->p->conf.n_workers; w++) {
		if (need[w] != 0 && xf_ring_free_count(ring_to(s, w)) < need[w]) {
			return -EAGAIN;
		}
	}
	while (xf_proto_flist_next(m, &cursor, &e)) {
		struct xf_fentry *fe;
		struct xf_work it;
		int rc =
		        named ? xf_ftable_add_named(&s->ft, idx, &e, limit,
		                                    name_find(names, n_names, XF_NAME_USER, e.uid),
		                                    name_find(names, n_names, XF_NAME_GROUP, e.gid))
		              : xf_ftable_add(&s->ft, idx, &e, limit);

		if (rc == -EALREADY) {
			stats(s)->entries_dup++;
			idx++;
			continue;
		}
		if (rc < 0) {
			if (rc == -ENOSPC) {
				entries_over(s, idx);
				return 0;
			}
			stats(s)->proto_err++;
			idx++;
			continue;
		}
		fe = xf_ftable_get(&s->ft, idx);
		if ((fl->flags & XF_FLIST_F_GIVEUP) != 0) {
			/* The sender gave this entry up, too large for a frame: only its index is
			 * real (6.23). Failed here as the sender's job reports it; nothing is
			 * looked up, written or kept for --delete (the push has a failure, so
			 * it deletes nothing). */
			stats(s)->entries_given_up++;
			XF_LOG(NOTICE, MODULE,
			       "session %08x: entry %u given up by the sender (too "
			       "large for a frame)",
			       s->id, idx);
			refuse(s, idx, fe, XF_ST_TOOBIG);
			idx++;
			continue;
		}
		if (fe->kind == XF_FILE_DIR) {
			s->ndirs++;
		}
		if ((s->flags & XF_HELLO_F_DELETE) != 0 && !s->del_broken &&
		    xf_pathset_add(&s->keep, e.path, e.path_len) < 0) {
			/* Without every path, nothing may be deleted. */
			paths_over(s, &s->keep, "--delete");
			return 0;
		}
		if (xf_path_validate(e.path, e.path_len) != 0 ||
		    xf_session_names_staging(e.path, e.path_len) ||
		    (e.kind == XF_FILE_SYMLINK &&
		     (e.target_len == 0 || xf_session_names_staging(e.target, e.target_len)))) {
			refuse(s, idx, fe, XF_ST_BAD_PATH);
			idx++;
			continue;
		}
		if (e.kind == XF_FILE_HARDLINK && !link_entry_ok(s, &e)) {
			refuse(s, idx, fe, XF_ST_LINK);
			idx++;
			continue;
		}
		if (fe->kind == XF_FILE_REG && fe->size > s->p->conf.max_file_size) {
			/* Announced larger than this volume takes: refused before anything is
			 * written (the free space is the worker's check, at STAT). */
			refuse(s, idx, fe, XF_ST_SIZE);
			idx++;
			continue;
		}
		if (e.xattr_len != 0) {
			/* Checked like the file's data: bounds and CRC-64 here, the read-back of
			 * what was set on the worker before the entry appears (6.20). */
			enum xf_xattr_reason xr =
			        xf_xattr_check(e.xattr, e.xattr_len, xattr_carried(s));

			if (xr != XF_XATTR_OK) {
				xattr_count_refusal(s, xr);
				XF_LOG(NOTICE, MODULE,
				       "session %08x: entry %u: attribute set refused (%s)", s->id,
				       idx, xf_xattr_reason_name(xr));
				refuse(s, idx, fe, XF_ST_XATTR);
				idx++;
				continue;
			}
		}
		fe->run = in_run(s, idx, fe);
		stat_item(s, idx, fe, &it);
		if (xf_ring_enqueue_burst(ring_to(s, xf_pipeline_stat_worker(s->p, idx, fe->kind)),
		                          &it, 1) != 1) {
			/* Room was checked above; a failure here is a bug, not back-pressure. */
			XF_LOG(ERR, MODULE, "session %08x: STAT ring full", s->id);
		}
		fe->state = FS_STAT;
		idx++;
	}
	if (fl->first_index + fl->count > s->seen_end) {
		s->seen_end = fl->first_index + fl->count;
	}
	if ((fl->flags & XF_FLIST_F_LAST) != 0) {
		s->total = fl->first_index + fl->count; /* flist_violation() checked it */
	}
	return 0;
}

/*
 * The entry of a file that DATA, COPY or FILE_END may address: decided WHOLE or DELTA
 * (COPY: DELTA only) and not yet at its end, of the file's current attempt. Anything else
 * is late or a duplicate: counted and dropped.
 */
static struct xf_fentry *
data_target(struct xf_session *s, const struct xf_msg *m, uint32_t file, bool copy)
{
	struct xf_fentry *fe = xf_ftable_get(&s->ft, file);
	bool second = (m->hdr.flags & XF_HDR_F_REDO) != 0;

	if ((s->flags & XF_HELLO_F_DRYRUN) != 0) {
		/* A dry run writes nothing, whatever the sender sends (every file is settled
		 * at its decision, so this is the first of two fences). */
		stats(s)->dry_dropped++;
		return NULL;
	}
	if (fe != NULL && second != (fe->redo != 0)) {
		/*
		 * The first attempt's frames that come after the file was asked again whole
		 * (a retransmission of a frame whose first copy was acknowledged, say): its
		 * COPY would write the changed basis into the new temp file. Or a second
		 * attempt's frame for a file not asked again: a broken peer.
		 */
		if (fe->redo) {
			stats(s)->redo_stale++;
		} else {
			stats(s)->redo_unasked++;
		}
		return NULL;
	}
	if (fe == NULL || fe->kind != XF_FILE_REG || fe->state != FS_DECIDED ||
	    (fe->decision != XF_DEC_DELTA && (copy || fe->decision != XF_DEC_WHOLE))) {
		stats(s)->data_dropped++;
		return NULL;
	}
	return fe;
}

/* Name the session a work item comes from. */
static void
stamp(const struct xf_session *s, struct xf_work *it)
{
	it->sid = s->sid;
	it->rx = s->rx;
	it->gen = s->gen;
	it->fd = -1;
}

/* Hand a work item to the file's worker. @return 0, or -EAGAIN when its ring is full. */
static int
to_worker(struct xf_session *s, struct xf_work *it)
{
	stamp(s, it);
	return xf_ring_enqueue_burst(ring_to(s, xf_pipeline_worker_of(s->p, it->file)), it, 1) == 1
	               ? 0
	               : -EAGAIN;
}

/*
 * Nothing past the size the file list announced is written (offset + len cannot
 * overflow: the codec caps both): a hostile peer could otherwise make a huge sparse
 * temp file. Such a file fails with XF_ST_SIZE at its FILE_END, never written; a file
 * that grew since the sender's scan is sent by the next push.
 */
static uint8_t
bound_status(const struct xf_fentry *fe, uint64_t offset, uint32_t len)
{
	return offset + len > fe->size ? XF_ST_SIZE : XF_ST_OK;
}

/* A FILE_END's work item: the worker verifies the file's size bytes against crc64. */
static struct xf_work
file_end_item(uint32_t file, uint64_t size, uint64_t crc64, uint8_t status)
{
	return (struct xf_work){
		.type = XF_WORK_FILE_END,
		.file = file,
		.off = size,
		.val = crc64,
		.status = status,
	};
}

/*
 * A file's one DATA frame with its end (XF_HDR_F_END, docs/PROTOCOL.md 6.9): its DATA
 * item and its FILE_END item go to the worker in one bulk, both or neither, so that a full
 * ring hands the buffer to nobody and the frame is offered again whole. Refused data
 * (compressed, not announced) still ends the file: it then fails its CRC, as a refused
 * DATA frame followed by its FILE_END would.
 */
static int
data_with_end(struct xf_session *s, struct xf_fentry *fe, const struct xf_work *data,
              const struct xf_msg_data *d)
{
	struct xf_work it[2];
	unsigned int n = 0;

	if (data != NULL) {
		it[n++] = *data;
	}
	it[n++] = file_end_item(d->file, xf_proto_data_span(d), d->crc64, XF_ST_OK);
	for (unsigned int k = 0; k < n; k++) {
		stamp(s, &it[k]);
	}
	if (xf_ring_enqueue_bulk(ring_to(s, xf_pipeline_worker_of(s->p, d->file)), it, n) != n) {
		return -EAGAIN;
	}
	fe->state = FS_FILE_END;
	stats(s)->data_ends++;
	return data != NULL ? 1 : 0; /* 1: the worker owns the buffer */
}

static int
on_data(struct xf_session *s, const struct xf_msg *m, void *owner)
{
	const struct xf_msg_data *d = &m->data;
	struct xf_fentry *fe = data_target(s, m, d->file, false);
	struct xf_work it = {
		.type = XF_WORK_DATA,
		.file = d->file,
		.len = d->len,
		.off = d->offset,
		.ptr = d->bytes,
		.owner = owner,
	};
	bool refused = false;

	if (d->raw_len != 0) {
		if ((s->flags & XF_HELLO_F_COMPRESS) == 0) {
			/* Not announced: a correct sender never sends it (PROTOCOL.md 6.16). */
			stats(s)->zip_refused++;
			refused = true;
		}
		/* Inflated by the worker, never here: the RX core only forwards. */
		it.flags = XF_WORK_F_COMPRESSED;
		it.val = d->raw_len;
	}
	if (fe == NULL || (refused && !xf_proto_data_ends(m))) {
		return 0;
	}
	it.status = bound_status(fe, d->offset, xf_proto_data_span(d));
	if (xf_proto_data_ends(m)) {
		return data_with_end(s, fe, refused ? NULL : &it, d);
	}
	return to_worker(s, &it) == 0 ? 1 : -EAGAIN; /* 1: the worker owns the buffer */
}

static int
on_file_end(struct xf_session *s, const struct xf_msg *m)
{
	const struct xf_msg_file_end *f = &m->file_end;
	struct xf_fentry *fe = data_target(s, m, f->file, false);
	struct xf_work it = file_end_item(f->file, f->size, f->crc64, (uint8_t)f->status);

	if (fe == NULL) {
		return 0;
	}
	if (to_worker(s, &it) < 0) {
		return -EAGAIN;
	}
	fe->state = FS_FILE_END;
	return 0;
}

/* COPY: only for a DELTA file (it has a basis); the worker reads and writes it. */
static int
on_copy(struct xf_session *s, const struct xf_msg *m)
{
	const struct xf_msg_copy *c = &m->copy;
	struct xf_fentry *fe = data_target(s, m, c->file, true);
	struct xf_work it = {
		.type = XF_WORK_COPY,
		.file = c->file,
		.len = c->len,
		.off = c->offset,
		.val = c->src_offset,
	};

	if (fe == NULL) {
		return 0;
	}
	/* No COPY is longer than the matcher makes them: a 48-byte frame never asks for more
	 * than XF_DELTA_COPY_MAX bytes of work. */
	it.status = c->len > XF_DELTA_COPY_MAX ? XF_ST_SIZE : bound_status(fe, c->offset, c->len);
	return to_worker(s, &it);
}

int
xf_session_input(struct xf_session *s, const struct xf_msg *m, void *owner)
{
	if (s->phase != PH_RUN) {
		/* Everything is settled (or aborted): late frames change nothing. */
		return 0;
	}
	switch (m->hdr.type) {
	case XF_MSG_FLIST:
		return on_flist(s, m);
	case XF_MSG_DATA:
		return on_data(s, m, owner);
	case XF_MSG_COPY:
		return on_copy(s, m);
	case XF_MSG_FILE_END:
		return on_file_end(s, m);
	default:
		/* HELLO, ACK, PING, DONE belong to the session and reliability layers. */
		return 0;
	}
}

/* Frames kept free for DECISION, COMMIT and DONE when SIG frames fill the TX path. */
#define TX_RESERVE 16u

/*
 * SIG frames of the DELTA files decided so far, after their DECISION (flushed before),
 * as many as the transmit path has room for; each file's array is freed once sent.
 */
static int
send_sigs(struct xf_session *s)
{
	uint8_t buf[XF_PAYLOAD_MAX];
	int busy = 0;

	while (s->sigq_n > 0) {
		struct sig_out *so = &s->sigq[s->sigq_head];
		struct xf_proto_builder b;
		struct xf_msg m;
		int n;

		if (s->sig_next < so->count) {
			if (s->tx_room != NULL && s->tx_room(s->tx_arg) <= TX_RESERVE) {
				break;
			}
			hdr_init(s, &m, XF_MSG_SIG);
			m.sig.file = so->file;
			m.sig.block_size = so->block_size;
			m.sig.first_block = s->sig_next;
			if (xf_proto_build_begin(&b, buf, s->max_payload, &m) < 0) {
				break;
			}
			while (s->sig_next < so->count &&
			       xf_proto_build_sig(&b, &so->sigs[s->sig_next]) == 0) {
				s->sig_next++;
			}
			n = xf_proto_build_finish(&b);
			if (n > 0) {
				s->tx(s->tx_arg, buf, (unsigned int)n);
			}
			busy = 1;
			continue;
		}
		xf_lease_free(so->sigs);
		so->sigs = NULL;
		s->sigq_head = (s->sigq_head + 1) % s->p->conf.window;
		s->sigq_n--;
		s->sig_next = 0;
	}
	return busy;
}

/*
 * With XF_HELLO_F_DELETE and XF_HELLO_F_ITEMIZE, before the DONE: what the deletion
 * removed (or, dry, would), as FLIST frames to the sender (docs/PROTOCOL.md 6.14): a
 * directory or a regular-file entry per path, relative to the destination, indexed from
 * 0 in the order of deletion, then an empty LAST frame whose first_index is the count.
 * Sent even when nothing was deleted (the sender waits for the LAST), as the TX path
 * has room. A path too long for a frame is left out (the DONE's count still has it).
 */
static int
send_deleted(struct xf_session *s)
{
	uint8_t buf[XF_PAYLOAD_MAX];
	int busy = 0;

	while (!s->del_listed) {
		bool last = s->del_off >= s->del_list.len;
		struct xf_proto_builder b;
		struct xf_msg m;
		int n;

		if (s->tx_room != NULL && s->tx_room(s->tx_arg) <= TX_RESERVE) {
			break;
		}
		hdr_init(s, &m, XF_MSG_FLIST);
		m.flist.first_index = s->del_idx;
		m.flist.flags = last ? XF_FLIST_F_LAST : 0;
		if (xf_proto_build_begin(&b, buf, s->max_payload, &m) < 0) {
			s->del_listed = true; /* cannot happen: the fixed part always fits */
			break;
		}
		while (!last) {
			struct xf_flist_entry e = { .kind = XF_FILE_REG };
			size_t off = s->del_off;
			bool dir;
			int rc;

			if (!xf_delete_list_next(&s->del_list, &off, &e.path, &e.path_len, &dir)) {
				break;
			}
			e.kind = dir ? XF_FILE_DIR : XF_FILE_REG;
			rc = xf_proto_build_flist(&b, &e);
			if (rc == -ENOSPC && b.count != 0) {
				break; /* the next frame takes it */
			}
			s->del_off = off;
			s->del_idx += rc == 0;
		}
		n = xf_proto_build_finish(&b);
		if (n > 0) {
			s->tx(s->tx_arg, buf, (unsigned int)n);
		}
		busy = 1;
		s->del_listed = last;
	}
	return busy;
}

static void
finished(struct xf_session *s)
{
	s->phase = PH_DONE;
	if (atomic_fetch_add(&s->p->ndone, 1) + 1 == s->p->nopen && s->p->conf.stop_when_done) {
		xf_pipeline_stop(s->p);
	}
}

static void
send_done(struct xf_session *s)
{
	uint8_t buf[64];
	struct xf_msg m;
	int n;

	if (s->committed != s->reported || s->nfail != 0) {
		send_commit(s);
	}
	hdr_init(s, &m, XF_MSG_DONE);
	m.done.files = s->committed;
	m.done.status = 0;
	if ((s->flags & XF_HELLO_F_DELETE) != 0) {
		m.done.has_delete = true;
		m.done.deleted = s->del_res.deleted;
		m.done.kept = s->del_res.kept;
		m.done.del_status = s->del_res.status;
	}
	n = xf_proto_encode(buf, sizeof(buf), &m);
	if (n > 0) {
		s->tx(s->tx_arg, buf, (unsigned int)n);
	}
	/* Every file is settled, yet the session is done only once every worker has said
	 * it holds nothing of it (the ABORT round of abort_progress(), which finds nothing
	 * to drop): its file table is freed after that, never under a worker. */
	s->phase = PH_DRAIN;
	s->abort_sent = 0;
	s->abort_acks = 0;
}

/* A directory whose mtime is set at the end (PH_DIRTIME): made or found, not refused. */
static inline bool
dirtime_wanted(const struct xf_fentry *fe)
{
	return fe->kind == XF_FILE_DIR && fe->status == XF_ST_OK && fe->decision != XF_DEC_REFUSED;
}

static void
on_settled(struct xf_session *s, uint32_t file, uint8_t status, bool changed)
{
	struct xf_fentry *fe;
	bool over = false;

	if (file != s->committed) {
		XF_LOG(ERR, MODULE, "session %08x: settled %u, expected %u", s->id, file,
		       s->committed);
		return;
	}
	if (status == XF_ST_LINK) {
		/* Refused as listed, for its leader here, or by the commit worker's lookup. */
		stats(s)->links_refused++;
	}
	if (status != XF_ST_OK) {
		s->failed++;
		if (s->nfail == s->fail_cap) {
			/* Files below `file` are settled; its failure goes in the next frame. */
			send_commit(s);
		}
		s->fails[s->nfail].file = file;
		s->fails[s->nfail].status = status;
		s->nfail++;
	}
	if (changed) {
		s->changed++;
	}
	s->committed = file + 1;
	xf_reorder_release(&s->ro, s->committed);
	/* Its path is not needed any more (a directory's, for its mtime at the end, is kept),
	 * so the file list holds what the window holds, not what the peer sent. */
	fe = xf_ftable_get(&s->ft, file);
	if ((s->flags & XF_HELLO_F_HARDLINKS) != 0 && fe != NULL && fe->kind == XF_FILE_REG &&
	    fe->name != NULL && status == XF_ST_OK) {
		char path[XF_PATH_MAX + 1];

		over = xf_pathset_add(&s->linkable, path, fentry_path(fe, path)) < 0;
	}
	xf_ftable_settled(&s->ft, file, fe != NULL && status == XF_ST_OK && dirtime_wanted(fe));
	if (over) {
		/* Its callers take no more results once the session winds down. */
		paths_over(s, &s->linkable, "hard link");
	}
}

/* The reorder value of a verified file: commit it, with its temp fd (and kind of name). */
static uint64_t
rv_commit(const struct xf_done *d)
{
	uint64_t v = XF_RV_COMMIT | ((d->flags & XF_DONE_F_UNNAMED) != 0 ? XF_RV_UNNAMED : 0) |
	             ((uint64_t)(uint32_t)d->fd << 32);

	if ((d->flags & XF_DONE_F_SIGNED) != 0) {
		v |= XF_RV_SIGNED;
	}
	if ((d->flags & XF_DONE_F_INPLACE) != 0) {
		v |= XF_RV_INPLACE | (uint64_t)(d->block_count & 0xffffu) << XF_RV_STG_SHIFT;
	}
	return v;
}

static void
done_aborted(struct xf_session *s, const struct xf_done *d)
{
	switch (d->type) {
	case XF_DONE_STAT:
		xf_lease_free(d->sigs); /* a DELTA decision that will never be sent */
		break;
	case XF_DONE_FILE:
		if (d->status == XF_ST_OK) {
			/* Verified but never to be committed: the abort drain discards it. */
			xf_reorder_insert(&s->ro, d->file, rv_commit(d));
		}
		break;
	case XF_DONE_COMMIT:
	case XF_DONE_MARK:
	case XF_DONE_DELETE:
		s->commit_inflight--;
		break;
	case XF_DONE_ABORT:
		s->abort_acks++;
		break;
	default:
		break;
	}
}

/*
 * A decision of a dry run: sent as made (DELTA, which the worker never makes in a dry
 * run, as WHOLE: no signatures), and the entry settled at once, never committed. Nothing
 * of it reaches the commit worker, and DATA, COPY and FILE_END find no file to write.
 */
static void
dry_decided(struct xf_session *s, struct xf_fentry *fe, const struct xf_done *d)
{
	uint8_t dec = d->decision == XF_DEC_DELTA ? XF_DEC_WHOLE : d->decision;

	xf_lease_free(d->sigs);
	fe->decision = dec;
	add_decision(s, d->file, dec, d->status, d->items, 0, 0);
	settle(s, d->file, dec == XF_DEC_REFUSED ? d->status : XF_ST_OK);
}

/*
 * A DELTA file that failed its whole-file CRC-64 (its basis changed while in use, or a
 * false block match) is sent again whole in this session, once, when the sender can
 * (XF_HELLO_F_REDO): a STAT that decides WHOLE whatever the path holds makes a new temp
 * file, and its DECISION (WHOLE, XF_ST_REDO) asks the sender for the file again. The file
 * is not settled meanwhile, so the commit chain waits at it and every later file waits
 * in the reorder window, which the credit bounds (docs/PROTOCOL.md 6.19).
 * @return false when it is not sent again: the caller fails it.
 */
static bool
redo(struct xf_session *s, uint32_t file, struct xf_fentry *fe, uint8_t status)
{
	struct xf_work it;

	if ((s->flags & XF_HELLO_F_REDO) == 0 || fe == NULL || fe->redo ||
	    fe->decision != XF_DEC_DELTA || status != XF_ST_CHECKSUM) {
		return false;
	}
	stat_item(s, file, fe, &it);
	it.flags |= XF_WORK_F_REDO;
	if (xf_ring_enqueue_burst(ring_to(s, xf_pipeline_stat_worker(s->p, file, fe->kind)), &it,
	                          1) != 1) {
		/* No room now: it fails as without the flag (never waits on a ring here). */
		stats(s)->redo_no_room++;
		return false;
	}
	fe->redo = 1;
	fe->decision = 0;
	fe->state = FS_STAT;
	return true;
}

void
xf_session_done(struct xf_session *s, const struct xf_done *d)
{
	struct xf_fentry *fe = xf_ftable_get(&s->ft, d->file);

	if (winding_down(s)) {
		done_aborted(s, d);
		return;
	}
	switch (d->type) {
	case XF_DONE_STAT:
		if (fe == NULL) {
			return;
		}
		if (maps_names(s)) {
			/* The ids the worker mapped the names to: those the commit sets (6.21). */
			fe->uid = d->uid;
			fe->gid = d->gid;
		}
		if ((s->flags & XF_HELLO_F_DRYRUN) != 0) {
			dry_decided(s, fe, d);
			return;
		}
		fe->decision = d->decision;
		if (fe->redo) {
			/* Sent again whole: the sender has had its first DECISION. Refused now
			 * (say, a directory in its place): it fails, reported in COMMIT. */
			if (d->decision == XF_DEC_WHOLE) {
				add_decision(s, d->file, XF_DEC_WHOLE, XF_ST_REDO, 0, 0, 0);
				fe->state = FS_DECIDED;
			} else {
				settle(s, d->file,
				       d->decision == XF_DEC_REFUSED ? d->status : XF_ST_IO);
			}
			break;
		}
		if (d->decision == XF_DEC_DELTA) {
			add_decision(s, d->file, d->decision, d->status, d->items, d->block_size,
			             d->block_count);
		} else {
			/* block_count may carry a staged directory's number (XF_DONE_F_*). */
			add_decision(s, d->file, d->decision, d->status, d->items, 0, 0);
		}
		if (d->decision == XF_DEC_DELTA) {
			/* Its signatures follow the DECISION (the frame goes out first). */
			struct sig_out *so =
			        &s->sigq[(s->sigq_head + s->sigq_n) % s->p->conf.window];

			so->file = d->file;
			so->block_size = d->block_size;
			so->count = d->block_count;
			so->sigs = d->sigs;
			s->sigq_n++;
		}
		if (d->decision == XF_DEC_UPTODATE) {
			settle(s, d->file, XF_ST_OK);
		} else if (d->decision == XF_DEC_REFUSED) {
			settle(s, d->file, d->status);
		} else if (fe->kind != XF_FILE_REG) {
			/* Directories and symlinks get no data: made at commit from the entry (a
			 * staged directory: put in place there). */
			uint64_t v = XF_RV_COMMIT | ((uint64_t)UINT32_MAX << 32);

			if ((d->flags & XF_DONE_F_STAGED) != 0) {
				v |= XF_RV_STAGED | (uint64_t)(d->block_count & 0xffffu)
				                            << XF_RV_STG_SHIFT;
			}
			settle(s, d->file, v);
		} else {
			fe->state = FS_DECIDED;
		}
		break;
	case XF_DONE_FILE:
		if (d->status == XF_ST_OK) {
			settle(s, d->file, rv_commit(d));
		} else if (!redo(s, d->file, fe, d->status)) {
			settle(s, d->file, d->status);
		}
		break;
	case XF_DONE_COMMIT:
		s->commit_inflight--;
		on_settled(s, d->file, d->status, d->changed != 0);
		break;
	case XF_DONE_MARK:
		s->commit_inflight--;
		send_done(s);
		break;
	case XF_DONE_DELETE:
		s->commit_inflight--;
		s->del_res = (struct xf_delete_result){ .deleted = d->block_size,
			                                .kept = d->block_count,
			                                .protected_n = d->file,
			                                .status = d->status };
		stats(s)->delete_protected += d->file;
		s->del_done = true;
		/* Deleting moved the mtimes of the directories it deleted in. */
		s->changed += d->block_size != 0;
		s->phase = PH_RUN;
		break;
	default:
		break;
	}
}

static bool
commit_item(struct xf_session *s, uint8_t type, uint32_t file, uint64_t val)
{
	struct xf_fentry *fe = xf_ftable_get(&s->ft, file);
	struct xf_work it;

	memset(&it, 0, sizeof(it));
	it.type = type;
	it.sid = s->sid;
	it.rx = s->rx;
	it.file = file;
	it.fd = -1;
	it.sess_id = s->id;
	it.gen = s->gen;
	if (type == XF_WORK_DELETE) {
		it.ptr = &s->del_conf;
		it.owner = &s->del_conf;
	} else if (fe != NULL && type != XF_WORK_MARK) {
		/* A MARK names no file (entry 0's path may be gone by then). */
		it.kind = fe->kind;
		it.len = fe->dir_len;
		it.mode = fe->mode;
		owner_of(s, fe, &it);
		it.val = (uint64_t)fe->mtime_ns;
		it.ptr = fe->name;
	}
	if (type == XF_WORK_COMMIT) {
		it.status = (uint8_t)(val & 0xffu);
		if ((val & XF_RV_COMMIT) != 0) {
			it.fd = (int32_t)(val >> 32);
			if ((val & XF_RV_UNNAMED) != 0) {
				it.flags |= XF_WORK_F_UNNAMED;
			}
			if ((val & XF_RV_SIGNED) != 0) {
				it.flags |= XF_WORK_F_SIGNED;
			}
			if ((val & (XF_RV_STAGED | XF_RV_INPLACE)) != 0) {
				it.flags |= (val & XF_RV_STAGED) != 0 ? XF_WORK_F_STAGED
				                                      : XF_WORK_F_INPLACE;
				it.off = (val >> XF_RV_STG_SHIFT) & 0xffffu;
			}
		} else {
			it.flags = XF_WORK_F_NOOP;
		}
		if (fe != NULL && fe->run) {
			it.flags |= XF_WORK_F_RUN;
		}
		if (replaces_trees(s)) {
			it.flags |= XF_WORK_F_DELETE;
			it.owner = &s->del_conf;
		}
		if (winding_down(s)) {
			it.flags |= XF_WORK_F_DISCARD;
		}
	}
	return xf_ring_enqueue_burst(ring_to(s, XF_COMMIT_WORKER), &it, 1) == 1;
}

void
xf_session_abort(struct xf_session *s)
{
	if (winding_down(s) || s->phase == PH_DONE) {
		return;
	}
	s->phase = PH_ABORT;
	s->abort_sent = 0;
	s->abort_acks = 0;
	flush_decisions(s);
	while (s->sigq_n > 0) {
		xf_lease_free(s->sigq[s->sigq_head].sigs);
		s->sigq_head = (s->sigq_head + 1) % s->p->conf.window;
		s->sigq_n--;
	}
	s->sig_next = 0;
}

/*
 * Abort in progress: tell every worker (as ring room allows), hand verified temp files
 * in the window to the commit worker to be discarded, and finish once every worker has
 * let go of the session (its XF_DONE_ABORT follows every other completion of the
 * session on the same FIFO ring) and no commit item is outstanding.
 */
static int
abort_progress(struct xf_session *s)
{
	struct xf_ring *cr = ring_to(s, XF_COMMIT_WORKER);
	unsigned int nw = s->p->conf.n_workers;
	uint64_t val;

	for (unsigned int w = 0; w < nw; w++) {
		struct xf_work it = {
			.type = XF_WORK_ABORT, .sid = s->sid, .rx = s->rx, .fd = -1, .gen = s->gen
		};

		if ((s->abort_sent & (1u << w)) == 0 &&
		    xf_ring_enqueue_burst(ring_to(s, w), &it, 1) == 1) {
			s->abort_sent |= 1u << w;
		}
	}
	for (uint32_t i = s->ro.next; i < xf_reorder_limit(&s->ro); i++) {
		if (xf_ring_free_count(cr) == 0) {
			break;
		}
		if (xf_reorder_take(&s->ro, i, &val) && (val & XF_RV_COMMIT) != 0 &&
		    (int32_t)(val >> 32) >= 0) {
			struct xf_fentry *fe = xf_ftable_get(&s->ft, i);

			if (fe != NULL && fe->kind == XF_FILE_REG &&
			    commit_item(s, XF_WORK_COMMIT, i, val)) {
				s->commit_inflight++;
			}
		}
	}
	if (s->abort_acks == nw && s->commit_inflight == 0 && s->ro.held == 0) {
		finished(s);
	}
	return 1;
}

/*
 * Every file is committed: delete what the list lacks, on the commit worker (it may take
 * a while; this core only waits for its XF_DONE_DELETE). Not after a failure: a file
 * that failed may be one whose old version the list still names, and rsync too deletes
 * nothing after an error.
 */
static void
start_delete(struct xf_session *s)
{
	if (s->failed != 0 || s->del_broken) {
		s->del_res.status = s->failed != 0 ? XF_DEL_SKIPPED : XF_DEL_ERROR;
		s->del_done = true;
		return;
	}
	s->del_conf.keep = &s->keep;
	s->del_conf.dry = (s->flags & XF_HELLO_F_DRYRUN) != 0;
	/* With items, the list was set up at open (xf_pipeline_session_set_delete()). */
	if (commit_item(s, XF_WORK_DELETE, 0, 0)) {
		s->commit_inflight++;
		s->phase = PH_DELETE;
	}
}

static bool
is_link(struct xf_session *s, uint32_t idx)
{
	const struct xf_fentry *fe = xf_ftable_get(&s->ft, idx);

	return fe != NULL && fe->kind == XF_FILE_HARDLINK;
}

/*
 * A hard link waits on the reorder window until every entry before it is settled (not
 * only handed to the commit worker): its leader, at an earlier index, has then committed
 * or failed, and the set of committed regular files says which (link_status()).
 */
static bool
link_waits(struct xf_session *s)
{
	return s->commit_inflight != 0 && is_link(s, s->ro.next);
}

int
xf_session_progress(struct xf_session *s)
{
	struct xf_ring *cr = ring_to(s, XF_COMMIT_WORKER);
	int busy = 0;
	uint32_t idx;
	uint64_t val;

	if (s->phase == PH_DONE) {
		return 0;
	}
	if (winding_down(s)) {
		return abort_progress(s);
	}
	/*
	 * In-order commit: pop what is ready in file-list order and hand it to the commit
	 * worker, whose ring is FIFO and which executes one at a time. A result that needs
	 * nothing on disk settles here directly, unless commits are still in flight ahead
	 * of it (then it travels through the commit worker to keep the order).
	 */
	while (!winding_down(s) && xf_ring_free_count(cr) != 0 && !link_waits(s) &&
	       xf_reorder_pop(&s->ro, &idx, &val)) {
		busy = 1;
		if ((val & XF_RV_COMMIT) != 0 && is_link(s, idx)) {
			/* Everything before it is settled (link_waits()): its leader is known. */
			uint8_t st = link_status(s, xf_ftable_get(&s->ft, idx));

			if (st != XF_ST_OK) {
				on_settled(s, idx, st, false);
				continue;
			}
		}
		if ((val & XF_RV_COMMIT) == 0 && s->commit_inflight == 0) {
			on_settled(s, idx, (uint8_t)(val & 0xffu), false);
			continue;
		}
		commit_item(s, XF_WORK_COMMIT, idx, val);
		s->commit_inflight++;
	}
	if (s->committed != s->reported) {
		send_commit(s);
	}
	flush_decisions(s);
	busy |= send_sigs(s);
	if (s->phase == PH_RUN && s->committed == s->total && s->commit_inflight == 0) {
		busy = 1;
		if ((s->flags & XF_HELLO_F_DELETE) != 0 && !s->del_done) {
			start_delete(s);
			if (!s->del_done) {
				return busy; /* deleting, or the ring is full: again next poll */
			}
		}
		if ((s->flags & (XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE)) ==
		            (XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE) &&
		    !s->del_listed) {
			send_deleted(s);
			if (!s->del_listed) {
				return busy; /* the TX path is full: again next poll */
			}
		}
		if (s->changed != 0 && s->ndirs != 0 && (s->flags & XF_HELLO_F_DRYRUN) == 0) {
			s->phase = PH_DIRTIME;
			s->dir_cursor = 0;
		} else {
			send_done(s);
			return busy;
		}
	}
	if (s->phase == PH_DIRTIME) {
		/*
		 * Committing files into a directory moves its mtime, so directory times are
		 * set once everything is in place, through the commit worker (in order).
		 */
		busy = 1;
		while (s->dir_cursor < s->total && xf_ring_free_count(cr) > 1) {
			struct xf_fentry *fe = xf_ftable_get(&s->ft, s->dir_cursor);

			if (fe != NULL && fe->kind == XF_FILE_DIR && fe->name != NULL &&
			    dirtime_wanted(fe)) {
				commit_item(s, XF_WORK_DIRTIME, s->dir_cursor, 0);
			}
			s->dir_cursor++;
		}
		if (s->dir_cursor == s->total && commit_item(s, XF_WORK_MARK, 0, 0)) {
			s->commit_inflight++;
			s->phase = PH_MARK;
		}
	}
	return busy;
}
