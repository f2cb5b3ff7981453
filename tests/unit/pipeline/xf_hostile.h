/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile peer against the real pipeline, no EAL: frames are built one by one, in the
 * order and with the values the test (or the fuzzer) chooses, and fed to one RX core
 * whose worker runs on the same thread; what the receiver sends back (DECISION, COMMIT,
 * DONE, ABORT) is decoded per peer. The volume is <dir>/vol; a CANARY file lies beside
 * it, so anything reaching outside the volume shows.
 *
 * Shared by tests/unit/pipeline/test_hostile.c and tests/fuzz/fuzz_session.c.
 */
#ifndef XF_HOSTILE_H
#define XF_HOSTILE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xf_csum.h"
#include "xf_pipeline.h"
#include "xf_proto.h"

#define XH_FILES   4096u /* indices whose decision and status a peer records */
#define XH_QUEUE   4096u /* frames waiting for the RX core */
#define XH_CANARY  "CANARY"
#define XH_CONTENT "the canary sings\n"

struct xh;

/** One peer's session, seen from the peer. */
struct xh_peer {
	struct xh *h;
	struct xf_session *s;
	uint32_t addr;
	uint16_t port;
	uint32_t id;
	uint64_t pn;
	uint16_t flist_flags; /* FLIST flags every xh_flist() frame has (XF_FLIST_F_OWNER) */
	uint16_t flist_hdr;   /* header flags every xh_flist() frame has (XF_HDR_F_XATTR) */
	uint32_t wait_file;   /* the index xh_wait_decided() waits for */
	bool done;            /* DONE received */
	bool aborted;         /* ABORT received */
	uint16_t abort_code;  /* its code */
	uint32_t committed;   /* from COMMIT */
	uint32_t credit;      /* from COMMIT (0: none yet) */
	bool done_delete;     /* the DONE said what its deletion did: */
	uint32_t deleted, kept;
	uint16_t del_status;
	uint8_t dec[XH_FILES];
	uint8_t st[XH_FILES];
	uint16_t items[XH_FILES]; /* XF_ITEM_* of its DECISION (XF_HELLO_F_ITEMIZE) */
	/* The receiver's list of deletions (FLIST frames, XF_HELLO_F_ITEMIZE with DELETE):
	 * entries, the LAST's index, whether it came before the DONE, the first path. */
	uint32_t del_listed, del_total;
	bool del_last, del_last_before_done;
	char del_first[64];
};

struct xh {
	struct xf_pipeline *p;
	char dir[256]; /* the case's directory: vol and CANARY */
	char vol[300];
	int root;
	struct xf_frame q[XH_QUEUE];
	unsigned int qh, qt; /* free-running */
	long frames_live;    /* frames queued and not yet released */
	unsigned int nw;     /* workers */
};

static inline unsigned int
xh_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct xh *h = arg;
	unsigned int n = 0;

	while (n < max && h->qh != h->qt) {
		out[n++] = h->q[h->qh++ % XH_QUEUE];
	}
	return n;
}

static inline void
xh_release(void *arg, void *owner)
{
	struct xh *h = arg;

	free(owner);
	h->frames_live--;
}

/* What the receiver sent to this peer. */
static inline void
xh_tx(void *arg, const void *frame, unsigned int len)
{
	struct xh_peer *pe = arg;
	struct xf_msg m;

	if (xf_proto_decode(frame, len, &m, NULL) != 0) {
		return;
	}
	switch (m.hdr.type) {
	case XF_MSG_DECISION:
		for (uint16_t i = 0; i < m.decision.count; i++) {
			struct xf_decision_rec r;

			xf_proto_decision_get(&m, i, &r);
			if (r.file < XH_FILES) {
				pe->dec[r.file] = r.decision;
				/* A COMMIT may overtake the DECISION (a hard link settles at
				 * once when its leader is wrong): the failure stays. */
				if (r.status != 0) {
					pe->st[r.file] = r.status;
				}
				pe->items[r.file] = r.items;
			}
		}
		break;
	case XF_MSG_COMMIT:
		pe->committed = m.commit.committed;
		pe->credit = m.commit.credit;
		for (uint16_t i = 0; i < m.commit.count; i++) {
			struct xf_commit_fail f;

			xf_proto_commit_get(&m, i, &f);
			if (f.file < XH_FILES) {
				pe->st[f.file] = (uint8_t)f.status;
			}
		}
		break;
	case XF_MSG_FLIST: {
		struct xf_flist_entry e;
		uint32_t cur = 0;

		while (xf_proto_flist_next(&m, &cur, &e)) {
			if (pe->del_listed++ == 0) {
				snprintf(pe->del_first, sizeof(pe->del_first), "%.*s%s",
				         (int)e.path_len, e.path, e.kind == XF_FILE_DIR ? "/" : "");
			}
		}
		if ((m.flist.flags & XF_FLIST_F_LAST) != 0) {
			pe->del_last = true;
			pe->del_total = m.flist.first_index + m.flist.count;
		}
		break;
	}
	case XF_MSG_DONE:
		pe->done = true;
		pe->del_last_before_done = pe->del_last;
		pe->done_delete = m.done.has_delete;
		pe->deleted = m.done.deleted;
		pe->kept = m.done.kept;
		pe->del_status = m.done.del_status;
		break;
	case XF_MSG_ABORT:
		pe->aborted = true;
		pe->abort_code = m.abort.code;
		break;
	default:
		break;
	}
}

/** Entries in a directory, "." and ".." aside (-1 if it cannot be read). */
static inline int
xh_count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (d == NULL) {
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

/** Open file descriptors of the process. */
static inline int
xh_fds(void)
{
	return xh_count_entries("/proc/self/fd");
}

/**
 * Make <dir>/vol and <dir>/CANARY, and a pipeline of one RX core and workers workers on
 * the volume (window files in flight per session, two session slots, io the storage back
 * end, staged directories unless no_staged, max_paths in a session's path sets, 0: the
 * default). @return 0, or -1 with the reason printed.
 */
static inline int
xh_open_paths(struct xh *h, const char *dir, uint32_t window, uint64_t max_file_size, int io,
              unsigned int workers, bool no_staged, uint32_t max_paths)
{
	struct xf_pipeline_conf pc = {
		.n_rx = 1,
		.n_workers = workers,
		.no_staged_dirs = no_staged,
		.window = window,
		.max_sessions = 2,
		.fsync = XF_FSYNC_NONE,
		.io = io,
		.ring_size = 256,
		.uring_depth = 64,
		.delta_cache_mb = -1,
		.max_file_size = max_file_size,
		.max_paths = max_paths,
		.source = { xh_source },
		.release = xh_release,
	};
	char path[320];
	int fd;

	memset(h, 0, sizeof(*h));
	h->root = -1;
	h->nw = workers;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	snprintf(h->vol, sizeof(h->vol), "%s/vol", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, XH_CANARY);
	if (mkdir(dir, 0700) != 0 || mkdir(h->vol, 0700) != 0) {
		perror("mkdir");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, XH_CONTENT, strlen(XH_CONTENT)) != (ssize_t)strlen(XH_CONTENT)) {
		perror("canary");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	close(fd);
	h->root = open(h->vol, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pc.root_fd = h->root;
	pc.source_arg[0] = h;
	pc.release_arg = h;
	h->p = h->root >= 0 ? xf_pipeline_create(&pc) : NULL;
	if (h->p == NULL) {
		perror("xf_pipeline_create");
		return -1;
	}
	return 0;
}

/** xh_open_paths() with the default bound of paths. */
static inline int
xh_open_opts(struct xh *h, const char *dir, uint32_t window, uint64_t max_file_size, int io,
             unsigned int workers, bool no_staged)
{
	return xh_open_paths(h, dir, window, max_file_size, io, workers, no_staged, 0);
}

/** xh_open_opts() with one worker, staged directories on. */
static inline int
xh_open(struct xh *h, const char *dir, uint32_t window, uint64_t max_file_size, int io)
{
	return xh_open_opts(h, dir, window, max_file_size, io, 1, false);
}

/**
 * Open a session of peer (addr, port, id) with HELLO flags; with XF_HELLO_F_DELETE it
 * deletes beneath dest at most max_delete entries once its files are committed.
 * @return 0 or -1.
 */
static inline int
xh_peer_open_flags(struct xh *h, struct xh_peer *pe, uint32_t addr, uint16_t port, uint32_t id,
                   uint32_t flags, const char *dest, uint32_t max_delete)
{
	memset(pe, 0, sizeof(*pe));
	pe->h = h;
	pe->addr = addr;
	pe->port = port;
	pe->id = id;
	pe->s = xf_pipeline_session_open(h->p, 0, addr, port, id, XF_PAYLOAD_MAX, flags, xh_tx, pe);
	if (pe->s != NULL) {
		xf_pipeline_session_set_delete(pe->s, dest, strlen(dest), max_delete);
	}
	return pe->s != NULL ? 0 : -1;
}

/** Open a session of peer (addr, port, id). @return 0 or -1. */
static inline int
xh_peer_open(struct xh *h, struct xh_peer *pe, uint32_t addr, uint16_t port, uint32_t id)
{
	return xh_peer_open_flags(h, pe, addr, port, id, 0, "", 0);
}

/** Queue a copy of frame from (addr, port). @return 0, or -1 if the queue is full. */
static inline int
xh_push_from(struct xh *h, uint32_t addr, uint16_t port, const void *frame, int len)
{
	void *copy;

	if (len <= 0 || h->qt - h->qh == XH_QUEUE || (copy = malloc((size_t)len)) == NULL) {
		return -1;
	}
	memcpy(copy, frame, (size_t)len);
	h->q[h->qt++ % XH_QUEUE] = (struct xf_frame){
		.buf = copy, .len = (uint32_t)len, .addr = addr, .port = port, .owner = copy
	};
	h->frames_live++;
	return 0;
}

static inline void
xh_hdr(struct xh_peer *pe, struct xf_msg *m, uint8_t type, uint32_t id)
{
	memset(m, 0, sizeof(*m));
	m->hdr.version = XF_PROTO_VERSION;
	m->hdr.type = type;
	m->hdr.session = id;
	m->hdr.pn = pe->pn++;
}

/** xh_flist() with the name table rec[0..nrec) after the entries (XF_HDR_F_NAMES,
 *  docs/PROTOCOL.md 6.21; sorted by (kind, id), ids the entries carry; nrec 0: none). */
static inline int
xh_flist_named(struct xh_peer *pe, uint32_t first, const struct xf_flist_entry *e, unsigned int n,
               bool last, const struct xf_name_rec *rec, unsigned int nrec)
{
	static uint8_t buf[XF_PAYLOAD_MAX];
	struct xf_proto_builder b;
	struct xf_msg m;
	int len;

	xh_hdr(pe, &m, XF_MSG_FLIST, pe->id);
	m.hdr.flags = pe->flist_hdr;
	m.flist.first_index = first;
	m.flist.flags = (uint16_t)((last ? XF_FLIST_F_LAST : 0) | pe->flist_flags);
	if (xf_proto_build_begin(&b, buf, sizeof(buf), &m) < 0) {
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (xf_proto_build_flist(&b, &e[i]) < 0) {
			return -1;
		}
	}
	if (xf_proto_build_names(&b, rec, nrec) < 0) {
		return -1;
	}
	len = xf_proto_build_finish(&b);
	return xh_push_from(pe->h, pe->addr, pe->port, buf, len);
}

/** An FLIST frame (last: XF_FLIST_F_LAST) of n entries from first, from the peer. */
static inline int
xh_flist(struct xh_peer *pe, uint32_t first, const struct xf_flist_entry *e, unsigned int n,
         bool last)
{
	return xh_flist_named(pe, first, e, n, last, NULL, 0);
}

/** One message from the peer (DATA, COPY, FILE_END), m's header filled here but for its
 *  flags (XF_HDR_F_END, XF_HDR_F_REDO), kept as the caller set them. */
static inline int
xh_msg(struct xh_peer *pe, struct xf_msg *m, uint8_t type)
{
	static uint8_t buf[XF_PAYLOAD_MAX];

	m->hdr = (struct xf_hdr){ .version = XF_PROTO_VERSION,
		                  .type = type,
		                  .flags = m->hdr.flags,
		                  .session = pe->id,
		                  .pn = pe->pn++ };
	return xh_push_from(pe->h, pe->addr, pe->port, buf, xf_proto_encode(buf, sizeof(buf), m));
}

static inline int
xh_data(struct xh_peer *pe, uint32_t file, uint64_t off, const void *bytes, uint32_t len)
{
	struct xf_msg m = { .data = { .file = file, .len = len, .offset = off, .bytes = bytes } };

	return xh_msg(pe, &m, XF_MSG_DATA);
}

static inline int
xh_file_end(struct xh_peer *pe, uint32_t file, uint64_t size, uint64_t crc)
{
	struct xf_msg m = { .file_end = { .file = file, .size = size, .crc64 = crc } };

	return xh_msg(pe, &m, XF_MSG_FILE_END);
}

static inline int
xh_copy(struct xh_peer *pe, uint32_t file, uint64_t off, uint64_t src, uint32_t len)
{
	struct xf_msg m = { .copy = {
		                    .file = file, .len = len, .offset = off, .src_offset = src } };

	return xh_msg(pe, &m, XF_MSG_COPY);
}

/** A regular file entry (path NUL-terminated). */
static inline struct xf_flist_entry
xh_reg(const char *path, uint64_t size)
{
	return (struct xf_flist_entry){ .kind = XF_FILE_REG,
		                        .mode = 0644,
		                        .size = size,
		                        .mtime_ns = 1500000000000000000ll,
		                        .path = path,
		                        .path_len = (uint16_t)strlen(path) };
}

static inline struct xf_flist_entry
xh_dir(const char *path, uint32_t mode)
{
	return (struct xf_flist_entry){ .kind = XF_FILE_DIR,
		                        .mode = mode,
		                        .mtime_ns = 1500000000000000000ll,
		                        .path = path,
		                        .path_len = (uint16_t)strlen(path) };
}

static inline struct xf_flist_entry
xh_symlink(const char *path, const char *target)
{
	return (struct xf_flist_entry){ .kind = XF_FILE_SYMLINK,
		                        .mode = 0777,
		                        .size = strlen(target),
		                        .mtime_ns = 1500000000000000000ll,
		                        .path = path,
		                        .path_len = (uint16_t)strlen(path),
		                        .target = target,
		                        .target_len = (uint16_t)strlen(target) };
}

/* A hard link (XF_FILE_HARDLINK) named path to the list's leader path. */
static inline struct xf_flist_entry
xh_hardlink(const char *path, const char *leader)
{
	struct xf_flist_entry e = xh_symlink(path, leader);

	e.kind = XF_FILE_HARDLINK;
	e.mode = 0644;
	return e;
}

static inline uint64_t
xh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** Poll the RX core and each worker once. @return busy. */
static inline int
xh_poll(struct xh *h)
{
	int busy = xf_pipeline_rx_poll(h->p, 0);

	for (unsigned int w = 0; w < h->nw; w++) {
		busy |= xf_pipeline_worker_poll(h->p, w);
	}
	return busy;
}

/** Poll until pred(arg) holds, at most ms milliseconds. @return pred's last value. */
static inline bool
xh_until(struct xh *h, bool (*pred)(void *), void *arg, unsigned int ms)
{
	uint64_t end = xh_now_ms() + ms;

	while (!pred(arg)) {
		if (xh_now_ms() > end) {
			return false;
		}
		xh_poll(h);
	}
	return true;
}

static inline bool
xh_queue_empty(void *arg)
{
	struct xh *h = arg;

	return h->qh == h->qt;
}

static inline bool
xh_session_done(void *arg)
{
	return xf_session_is_done(((struct xh_peer *)arg)->s);
}

/** Every queued frame taken, then a few more polls for what they started. */
static inline bool
xh_drain(struct xh *h, unsigned int ms)
{
	bool ok = xh_until(h, xh_queue_empty, h, ms);

	for (int i = 0; i < 64; i++) {
		xh_poll(h);
	}
	return ok;
}

/**
 * End the peer's session: it is aborted unless it is done, waited for, and closed.
 * @return true if it ended and closed within ms.
 */
static inline bool
xh_peer_end(struct xh_peer *pe, unsigned int ms)
{
	if (pe->s == NULL) {
		return true;
	}
	xh_drain(pe->h, ms);
	if (!xf_session_is_done(pe->s)) {
		xf_session_abort(pe->s);
	}
	if (!xh_until(pe->h, xh_session_done, pe, ms) ||
	    xf_pipeline_session_close(pe->h->p, pe->s) != 0) {
		return false;
	}
	pe->s = NULL;
	return true;
}

/** Entries left in the staging directory (temp files, staged directories). */
static inline int
xh_tmp_left(const struct xh *h)
{
	char path[340];

	snprintf(path, sizeof(path), "%s/.xferd/tmp", h->vol);
	return xh_count_entries(path);
}

/** The file at name in the volume holds exactly want[0..n) (n at most 8 KiB). */
static inline bool
xh_file_is(const struct xh *h, const char *name, const uint8_t *want, size_t n)
{
	static uint8_t got[8192];
	char path[400];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h->vol, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	r = read(fd, got, sizeof(got));
	close(fd);
	return r == (ssize_t)n && memcmp(got, want, n) == 0;
}

/** The case directory holds the volume and an intact canary, nothing else. */
static inline bool
xh_outside_intact(const struct xh *h)
{
	char path[320], got[64] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/%s", h->dir, XH_CANARY);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	if (read(fd, got, sizeof(got) - 1) < 0) {
		got[0] = '\0';
	}
	close(fd);
	return strcmp(got, XH_CONTENT) == 0 && xh_count_entries(h->dir) == 2;
}

static inline bool
xh_decided(void *arg)
{
	struct xh_peer *pe = arg;

	return pe->dec[0] != 0 || pe->aborted;
}

static inline bool
xh_file_decided(void *arg)
{
	struct xh_peer *pe = arg;

	return pe->dec[pe->wait_file] != 0 || pe->aborted;
}

/** Poll until file f's DECISION arrived (DATA before it is dropped), or the session was
 *  aborted, at most ms. @return whether it did. */
static inline bool
xh_wait_decided(struct xh_peer *pe, uint32_t f, unsigned int ms)
{
	pe->wait_file = f < XH_FILES ? f : XH_FILES - 1;
	return xh_until(pe->h, xh_file_decided, pe, ms);
}

static inline bool
xh_done_or_aborted(void *arg)
{
	struct xh_peer *pe = arg;

	return pe->done || pe->aborted;
}

/**
 * A correct session on the pipeline (addr, port, id): one file "ok-<id>" of 5 bytes,
 * decided, sent, committed; its content checked on the volume. @return true if all of
 * that happened within ms.
 */
static inline bool
xh_good_session(struct xh *h, uint32_t addr, uint16_t port, uint32_t id, unsigned int ms)
{
	static const char data[] = "hello";
	struct xh_peer *pe = calloc(1, sizeof(*pe));
	char name[32], path[400], got[16] = { 0 };
	struct xf_flist_entry e;
	bool ok;
	int fd;

	snprintf(name, sizeof(name), "ok-%08x", id);
	e = xh_reg(name, 5);
	ok = pe != NULL && xh_peer_open(h, pe, addr, port, id) == 0 &&
	     xh_flist(pe, 0, &e, 1, true) == 0 && xh_until(h, xh_decided, pe, ms) &&
	     pe->dec[0] == XF_DEC_WHOLE && xh_data(pe, 0, 0, data, 5) == 0 &&
	     xh_file_end(pe, 0, 5, xf_csum_crc64(0, data, 5)) == 0 &&
	     xh_until(h, xh_done_or_aborted, pe, ms) && pe->done && pe->st[0] == XF_ST_OK &&
	     xh_peer_end(pe, ms);
	snprintf(path, sizeof(path), "%s/%s", h->vol, name);
	fd = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ok = fd >= 0 && read(fd, got, sizeof(got)) == 5 && memcmp(got, data, 5) == 0;
	if (fd >= 0) {
		close(fd);
	}
	if (pe != NULL && pe->s != NULL) {
		xh_peer_end(pe, ms);
	}
	free(pe);
	return ok;
}

/* Everything of a tree an xferd write could change: names, types, modes, sizes, mtimes. */
#define XH_SNAP 16384u

struct xh_snapbuf {
	char buf[XH_SNAP];
	size_t len;
};

/* nftw() takes no argument for its callback: the one buffer. */
static inline struct xh_snapbuf *
xh_snapbuf(void)
{
	static struct xh_snapbuf b;

	return &b;
}

static inline int
xh_snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct xh_snapbuf *b = xh_snapbuf();

	(void)type;
	(void)ftw;
	if (strstr(path, "/.xferd") != NULL && strstr(path, "/.xferd/tmp/") == NULL) {
		return 0; /* the staging directory itself; what is in tmp/ counts */
	}
	b->len += (size_t)snprintf(b->buf + b->len, sizeof(b->buf) - b->len,
	                           "%s %o %lld %lld.%09ld\n", path, st->st_mode,
	                           (long long)st->st_size, (long long)st->st_mtim.tv_sec,
	                           st->st_mtim.tv_nsec);
	return b->len >= sizeof(b->buf) - 1;
}

/** The tree under dir (xh_snap_one()) in out. @return 0, or -1 if it could not be read. */
static inline int
xh_snapshot(const char *dir, char *out, size_t cap)
{
	struct xh_snapbuf *b = xh_snapbuf();

	b->len = 0;
	b->buf[0] = '\0';
	if (nftw(dir, xh_snap_one, 16, FTW_PHYS) != 0) {
		return -1;
	}
	snprintf(out, cap, "%s", b->buf);
	return 0;
}

/** Tear the pipeline down (sessions ended first by the caller); frames never taken
 *  are released too. */
static inline void
xh_close(struct xh *h)
{
	xf_pipeline_destroy(h->p);
	h->p = NULL;
	while (h->qh != h->qt) {
		xh_release(h, h->q[h->qh++ % XH_QUEUE].owner);
	}
	if (h->root >= 0) {
		close(h->root);
	}
	h->root = -1;
}

#endif /* XF_HOSTILE_H */
