/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, STAT stage: the parent directory looked up beneath the root, statx, the quick
 * check and the decision (UPTODATE, WHOLE, DELTA), the free-space check, and the temp
 * file a WHOLE or DELTA file is written to (docs/PIPELINE.md, "Files on disk").
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "xf_worker_priv.h"

/*
 * The statx of the quick check, and the coarse clock just before it: a basis whose
 * ctime is older than that tick shows any later write by a new ctime (basis_unchanged()
 * in xf_worker_delta.c).
 */
static void
stat_prep(struct xf_worker *w, struct wfile *f, uint32_t fi, int dir_fd, const char *name)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	f->sig_t0 = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
	f->state = W_STAT;
	PREP(w, xf_storage_prep_statx(w->st, dir_fd, name, &f->stx, tag_of(T_STAT, fi)));
}

/*
 * Create the temp file. A new file (nothing at its final path at the quick check) gets an
 * unnamed one (O_TMPFILE) when the volume allows it: the commit then links it to its
 * final name (linkat AT_EMPTY_PATH) instead of renaming it there, one name operation less
 * per file (docs/PIPELINE.md, "Unnamed temp files"). When the umask (or a default ACL) of
 * the staging directory keeps
 * every bit of the file's mode, and it has no set-id or sticky bit, the file is created
 * with its mode and file_verify() skips the fchmod. Otherwise it starts as 0600 and gets its
 * mode there. The staging directory is 0700, so nobody else can reach it meanwhile.
 * O_EXCL: a file of the same name in the way (none should be) would keep its own mode.
 */
static void
tmp_open(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	uint32_t want = f->mode & 07777;
	uint32_t mode = 0600;

	f->mode_set = (want & ~0777u) == 0 && (want & w->p->create_keep) == want;
	if (f->mode_set) {
		mode = want;
	}
	if (f->lazy) {
		return; /* created by lazy_open() */
	}
	if (f->inplace) {
		/* At its name in its staged directory (stg_take()). */
		PREP(w, xf_storage_prep_open(w->st, w->stg[f->stg & (STG_DIRS - 1)].fd,
		                             f->name + f->dir_len + 1, O_RDWR | O_CREAT | O_EXCL,
		                             mode, tag_of(T_TMP, fi)));
		return;
	}
	if (f->unnamed) {
		PREP(w, xf_storage_prep_open(w->st, w->p->tmp_fd, ".", O_RDWR | O_TMPFILE, mode,
		                             tag_of(T_TMP, fi)));
		return;
	}
	PREP(w, xf_storage_prep_open(w->st, w->p->tmp_fd, f->tmpname, O_RDWR | O_CREAT | O_EXCL,
	                             mode, tag_of(T_TMP, fi)));
}

/*
 * Create a lazy file's temp file now, in the worker, at its first DATA or at its FILE_END
 * (a file with no data), as tmp_open() would have at its decision: at its name in its
 * staged directory, or unnamed (named if the volume refuses that). Why so late: on XFS a
 * write to a file whose timestamps are older than the clock's tick (4 ms at HZ=250) logs
 * a timestamp update, a transaction of its own; created at its decision, a window of
 * entries ahead of its data, every file paid one (docs/PIPELINE.md, "Created at the
 * first data"). @return false if it failed: f->status says why, and nothing was made.
 */
bool
lazy_open(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	uint32_t mode = f->mode_set ? f->mode & 07777 : 0600;
	int fd;

	if (f->inplace && !stg_alive(w, f->stg)) {
		fd = -EIO; /* its staged directory is gone (never, while it holds the file) */
	} else if (f->inplace) {
		fd = xf_storage_open_now(w->st, w->stg[f->stg & (STG_DIRS - 1)].fd,
		                         f->name + f->dir_len + 1, O_RDWR | O_CREAT | O_EXCL, mode,
		                         tag_of(T_TMP, fi));
	} else {
		fd = xf_storage_open_now(w->st, w->p->tmp_fd, ".", O_RDWR | O_TMPFILE, mode,
		                         tag_of(T_TMP, fi));
		if (fd < 0) {
			/* The volume refused an unnamed temp file after all: a named one. */
			f->unnamed = 0;
			fd = xf_storage_open_now(w->st, w->p->tmp_fd, f->tmpname,
			                         O_RDWR | O_CREAT | O_EXCL, mode,
			                         tag_of(T_TMP, fi));
		}
	}
	if (fd < 0) {
		if (f->status == XF_ST_OK) {
			f->status = xf_status_of_errno(-fd);
		}
		return false;
	}
	f->fd = fd;
	f->lazy = 0;
	w->t.lazy_creates++;
	return true;
}

void
stat_decide(struct xf_worker *w, struct wfile *f, uint32_t fi, uint8_t decision, uint8_t status)
{
	w->t.stat_items++;
	stamp(w->now, &w->t.stat_first, &w->t.stat_last);
	if (f->inplace && f->itemize) {
		f->items = XF_ITEM_NEW; /* a staged directory, or a file in one: new */
	}
	if (f->aborted) {
		close_basis(w, f);
		f->state = W_FREE;
		return;
	}
	if (decision == XF_DEC_WHOLE && f->kind == XF_FILE_REG && !f->dry) {
		/* The temp file exists before the decision goes out, so DATA never waits. */
		f->state = W_TMP;
		xf_work_tmpname(f->tmpname, f->sid, f->sess_id, f->file);
		/* A large file's temp file is named and tagged, to be kept as a partial if it
		 * fails, or found again after a crash (docs/PIPELINE.md, "Partial files"). */
		f->pkeep = w->p->part_fd >= 0 && !f->inplace && f->size >= XF_PARTIAL_MIN;
		f->unnamed = f->fresh && !f->delta && !f->inplace && !f->pkeep && w->p->unnamed_ok;
		/* A new file (in place or unnamed) on a context that opens inline is created
		 * at its first data instead (lazy_open()), so its decision goes out now. */
		f->lazy = (f->inplace || f->unnamed) && !w->p->conf.eager_temps &&
		          (xf_storage_route(w->st) & (1u << XF_SOP_OPEN)) != 0;
		tmp_open(w, f, fi);
		if (f->lazy) {
			f->fd = -1;
			f->state = W_OPEN;
			w->t.redone += f->redo;
			post_simple(w, f, XF_DONE_STAT, XF_DEC_WHOLE, XF_ST_OK, -1);
		}
		return;
	}
	post_simple(w, f, XF_DONE_STAT, decision, status, -1);
	f->state = W_FREE;
}

static bool
kind_matches(uint8_t kind, uint16_t mode)
{
	switch (kind) {
	case XF_FILE_REG:
		return S_ISREG(mode);
	case XF_FILE_DIR:
		return S_ISDIR(mode);
	case XF_FILE_SYMLINK:
		return S_ISLNK(mode);
	case XF_FILE_HARDLINK:
		return S_ISREG(mode); /* a file there (its items compare time and mode) */
	default:
		return false;
	}
}

/*
 * Quick check: same kind, size (target length for symlinks) and mtime => UPTODATE.
 * Directory sizes are the file system's business, so they compare kind and mtime only.
 * A regular file that differs, with a nonempty basis at the final path, goes DELTA (an
 * empty new file or basis, or a basis of more blocks than a sender accepts, go WHOLE).
 * Checksum mode decides every existing regular file DELTA: the sender's matcher and
 * FILE_END's whole-file CRC64 then compare the contents (docs/DELTA.md).
 */
static uint8_t
quick_check(const struct wfile *f)
{
	const struct statx *x = &f->stx;
	int64_t mt = (int64_t)x->stx_mtime.tv_sec * 1000000000ll + x->stx_mtime.tv_nsec;
	bool same;

	if (!kind_matches(f->kind, x->stx_mode) || f->kind == XF_FILE_HARDLINK) {
		/* A hard link is settled at commit, once its leader is: whether the name
		 * already is that link can only be told then (xf_worker_link.c). */
		return XF_DEC_WHOLE;
	}
	same = mt == f->mtime_ns && (f->kind == XF_FILE_DIR || x->stx_size == f->size);
	if (f->kind != XF_FILE_REG) {
		return same ? XF_DEC_UPTODATE : XF_DEC_WHOLE;
	}
	if (f->checksum && x->stx_size == 0 && f->size == 0) {
		return XF_DEC_UPTODATE; /* two empty files */
	}
	if (same && !f->checksum) {
		return XF_DEC_UPTODATE;
	}
	if (x->stx_size == 0 || f->size == 0 ||
	    xf_delta_block_count(x->stx_size, xf_delta_block_size(x->stx_size)) >
	            XF_DELTA_BLOCKS_MAX) {
		return XF_DEC_WHOLE;
	}
	return XF_DEC_DELTA;
}

/* XF_ITEM_OWNER, XF_ITEM_GROUP: the entry at the path (statx in f->stx) has another
 * owner or group than the list gives (only those the list carries, 6.17). */
static uint16_t
owner_items(const struct wfile *f)
{
	return (f->uid != XF_ID_NONE && f->uid != f->stx.stx_uid ? XF_ITEM_OWNER : 0u) |
	       (f->gid != XF_ID_NONE && f->gid != f->stx.stx_gid ? XF_ITEM_GROUP : 0u);
}

/*
 * A hard link's items: XF_ITEM_CHANGE unless the regular file at its name (statx in
 * f->stx) is its leader's inode now (rsync's "hf" line for a name made a link; the
 * commit, once the leader is settled, tells for sure: xf_worker_link.c). Short blocking
 * calls, made only when the sender asked for items.
 */
static uint16_t
link_items(const struct wfile *f, int root_fd, const char *base)
{
	const char *lbase;
	struct stat lsb;
	int lfd = link_leader_dir(root_fd, base + strlen(base) + 1, &lbase);
	bool same = lfd >= 0 && fstatat(lfd, lbase, &lsb, AT_SYMLINK_NOFOLLOW) == 0 &&
	            S_ISREG(lsb.st_mode) && lsb.st_ino == f->stx.stx_ino &&
	            major(lsb.st_dev) == f->stx.stx_dev_major &&
	            minor(lsb.st_dev) == f->stx.stx_dev_minor;

	if (lfd >= 0 && lfd != root_fd) {
		close(lfd);
	}
	return same ? 0 : XF_ITEM_CHANGE;
}

/*
 * How the entry found at the path (statx in f->stx, beneath dir_fd) differs from the
 * list's, for rsync's itemized changes (XF_ITEM_*). A symlink's target is read to tell a
 * changed one (readlinkat: a short blocking call on the worker, made only when the
 * sender asked for items; the quick check compares target lengths only).
 */
static uint16_t
items_of(struct xf_worker *w, const struct wfile *f, int root_fd, int dir_fd, const char *base)
{
	const struct statx *x = &f->stx;
	int64_t mt = (int64_t)x->stx_mtime.tv_sec * 1000000000ll + x->stx_mtime.tv_nsec;
	uint16_t items = 0;

	if (!kind_matches(f->kind, x->stx_mode)) {
		return XF_ITEM_NEW;
	}
	if (f->kind == XF_FILE_HARDLINK) {
		return link_items(f, root_fd, base);
	}
	if (f->kind == XF_FILE_REG && x->stx_size != f->size) {
		items |= XF_ITEM_SIZE;
	}
	if (mt != f->mtime_ns) {
		items |= XF_ITEM_TIME;
	}
	if (f->kind == XF_FILE_SYMLINK) {
		const char *want = base + strlen(base) + 1;
		char got[XF_PATH_MAX + 1];
		ssize_t n = readlinkat(dir_fd, base, got, sizeof(got));

		if (n < 0 || (uint64_t)n != f->size || memcmp(got, want, (size_t)n) != 0) {
			items |= XF_ITEM_CHANGE;
		}
	} else {
		if ((x->stx_mode & 07777) != (f->mode & 07777)) {
			items |= XF_ITEM_PERMS;
		}
		if (f->xflags != 0) {
			items |= xattr_items(w, dir_fd, base, f->name, f->xflags,
			                     f->kind == XF_FILE_DIR);
		}
	}
	return items | owner_items(f);
}

/*
 * f is a file of session (sid, sess) whose parent directory is dir[0, len) or beneath it.
 * A file's name is its directory path, a NUL, its base name: name[dir_len] is the NUL.
 */
bool
path_within(const struct wfile *f, uint16_t sid, uint32_t sess, const char *dir, uint32_t len)
{
	return len != 0 && f->sid == sid && f->sess_id == sess && f->dir_len >= len &&
	       memcmp(f->name, dir, len) == 0 && (f->dir_len == len || f->name[len] == '/');
}

/*
 * The quick check's first step for a file not at the root: find its parent directory.
 * Not looked up when it is (or is beneath) the directory last found missing: WHOLE. A
 * file whose parent is, or is beneath, the directory of the lookup in flight waits for
 * that lookup (a directory's entry and then its files come in one burst, before the
 * lookup of the entry's parent can have answered). Otherwise it is looked up.
 */
static void
lookup_parent(struct xf_worker *w, struct wfile *f, uint32_t fi)
{
	const struct wfile *lead = w->lead != 0 ? &w->files[w->lead - 1] : NULL;

	if (path_within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
		f->state = W_STAT_DIR;
		w->t.stat_nodir++;
		on_stat(w, fi, -ENOENT); /* its parent is still missing: WHOLE */
	} else if (lead != NULL && w->nfollow < XF_MIN(FOLLOW_MAX, 2u * w->depth - HANDLER_ROOM) &&
	           path_within(f, lead->sid, lead->sess_id, lead->name, lead->dir_len)) {
		f->state = W_STAT_FOLLOW;
		w->follow[w->nfollow++] = fi;
	} else {
		f->state = W_STAT_DIR;
		w->t.stat_lookups++;
		if (w->lead == 0) {
			w->lead = fi + 1;
		}
		PREP(w, xf_storage_prep_open_dir_nolinks(w->st, f->name, tag_of(T_STAT, fi)));
	}
}

/*
 * The lead lookup (of a directory lead_len bytes long) answered res. Missing: so is
 * everything beneath it, and its followers go WHOLE. Found: a follower in that very
 * directory needs an fd of its own and looks it up; one beneath it starts over (it may
 * lead, or follow, the lookup of its own directory).
 */
static void
release_followers(struct xf_worker *w, int32_t res, uint32_t lead_len)
{
	uint32_t follow[FOLLOW_MAX];
	uint32_t n = w->nfollow;

	memcpy(follow, w->follow, n * sizeof(follow[0]));
	w->lead = 0;
	w->nfollow = 0;
	for (uint32_t k = 0; k < n; k++) {
		struct wfile *f = &w->files[follow[k]];

		f->state = W_STAT_DIR;
		if (res == -ENOENT) {
			w->t.stat_nodir++;
			on_stat(w, follow[k], -ENOENT);
		} else if (f->dir_len == lead_len) {
			w->t.stat_lookups++;
			PREP(w, xf_storage_prep_open_dir_nolinks(w->st, f->name,
			                                         tag_of(T_STAT, follow[k])));
		} else {
			lookup_parent(w, f, follow[k]);
		}
	}
}

/* The parent directory the quick check kept open, closed (queued). */
static void
close_dirfd(struct xf_worker *w, struct wfile *f)
{
	if (f->dirfd >= 0) {
		PREP(w, xf_storage_prep_close(w->st, f->dirfd, tag_of(T_IGN, 0)));
		f->dirfd = -1;
	}
}

void
on_stat(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];
	const char *base = f->name + f->dir_len + 1;

	if (f->state == W_STAT_DIR) {
		bool lead = w->lead == fi + 1;
		uint32_t dir_len = f->dir_len;

		/* Remember the widest directory known missing (a follower's is beneath it). */
		if (res == -ENOENT && f->dir_len <= XF_PATH_MAX &&
		    !path_within(f, w->nodir_sid, w->nodir_sess, w->nodir, w->nodir_len)) {
			w->nodir_sid = f->sid;
			w->nodir_sess = f->sess_id;
			w->nodir_len = f->dir_len;
			memcpy(w->nodir, f->name, f->dir_len);
		}
		if (res == -ENOENT || res == -ENOTDIR || res == -ELOOP) {
			/*
			 * No parent yet, or a file or a symlink in its place: its entry, listed
			 * before, replaces it at commit (a list without one fails there). A
			 * symlink is never looked through: what it names is not this path
			 * (docs/PIPELINE.md, "Type changes").
			 */
			f->fresh = 1;
			f->items = f->itemize ? XF_ITEM_NEW : 0;
			/* New, or its partial file as the basis (its parent is made at commit). */
			if (!partial_basis(w, f, fi)) {
				stat_decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
			}
		} else if (res < 0) {
			stat_decide(w, f, fi, XF_DEC_REFUSED, xf_status_of_errno(-res));
		} else {
			f->dirfd = res;
			stat_prep(w, f, fi, f->dirfd, base);
		}
		if (lead) {
			release_followers(w, res, dir_len);
		}
		return;
	}
	uint8_t dec = res >= 0 ? quick_check(f) : XF_DEC_WHOLE;

	f->fresh = res == -ENOENT;
	if (f->itemize) {
		f->items = res >= 0 ? items_of(w, f, w->root_fd,
		                               f->dirfd >= 0 ? f->dirfd : w->root_fd, base)
		                    : XF_ITEM_NEW;
	}
	if (res >= 0 && f->kind != XF_FILE_DIR && S_ISDIR(f->stx.stx_mode) && !f->trees &&
	    xf_pipeline_dir_empty(f->dirfd >= 0 ? f->dirfd : w->root_fd, base) == 0) {
		/*
		 * A directory with entries in the way of a file or symlink, and no --delete to
		 * remove them: refused before anything is sent, as rsync refuses it ("cannot
		 * delete non-empty directory"). An empty one is replaced at commit.
		 */
		dec = XF_DEC_REFUSED;
		res = -ENOTEMPTY;
	}
	if (f->dry && dec == XF_DEC_DELTA) {
		/* Nothing is sent: no basis, no signatures (and the mark of a failed DELTA,
		 * df_take(), stays for the push that writes). */
		dec = XF_DEC_WHOLE;
	}
	if (dec == XF_DEC_DELTA && (f->aborted || df_take(w, df_key(w, f)))) {
		dec = XF_DEC_WHOLE; /* its last DELTA failed: whole this time */
	}
	if (f->redo && (dec == XF_DEC_DELTA || dec == XF_DEC_UPTODATE)) {
		/* Sent again whole after its DELTA failed: whatever the path holds now is not
		 * what the sender has, even with the file list's size and mtime; nor is a
		 * partial of it a basis. */
		dec = XF_DEC_WHOLE;
	} else if ((res >= 0 || res == -ENOENT) && (dec == XF_DEC_DELTA || dec == XF_DEC_WHOLE) &&
	           partial_basis(w, f, fi)) {
		return;
	}
	if (res >= 0 && dec == XF_DEC_DELTA) {
		/* Open the basis beneath its parent (kept open until then), never following
		 * a symlink at the final path. */
		f->state = W_BASIS;
		f->basis_size = f->stx.stx_size;
		PREP(w, xf_storage_prep_open(w->st, f->dirfd, base, O_RDONLY | O_NOFOLLOW, 0,
		                             tag_of(T_BASIS, fi)));
		return;
	}
	if (res >= 0 && dec == XF_DEC_UPTODATE && !f->dry) {
		int pfd = f->dirfd >= 0 ? f->dirfd : w->root_fd;
		bool chowned = false;

		if (owner_items(f) != 0) {
			/* Same content, another owner or group: set them (6.17), never
			 * through a symlink; the entry is refused if it cannot have them. */
			if (owner_set(w, pfd, base, f->uid, f->gid) != XF_ST_OK) {
				close_dirfd(w, f);
				stat_decide(w, f, fi, XF_DEC_REFUSED, XF_ST_ATTR);
				return;
			}
			chowned = true;
		}
		/* Same content, maybe other attributes: set in place when they differ (6.20);
		 * refused if it cannot have them. */
		if ((f->kind == XF_FILE_REG || f->kind == XF_FILE_DIR) && f->xflags != 0 &&
		    xattr_apply_at(w, pfd, base, f->name, f->xflags, f->kind == XF_FILE_DIR) !=
		            XF_ST_OK) {
			close_dirfd(w, f);
			stat_decide(w, f, fi, XF_DEC_REFUSED, XF_ST_XATTR);
			return;
		}
		/*
		 * Same content, other permissions (the quick check does not look at them), or
		 * a set-id bit the chown just cleared: apply the mode, as rsync does. A short
		 * blocking call on the worker (no io_uring opcode); AT_SYMLINK_NOFOLLOW so a
		 * symlink swapped in since the statx is never followed out of the volume. On
		 * failure the file is refused: it is not what the sender has.
		 */
		if (f->kind != XF_FILE_SYMLINK &&
		    ((f->stx.stx_mode & 07777) != (f->mode & 07777) ||
		     (chowned && (f->mode & 06000) != 0)) &&
		    fchmodat(pfd, base, f->mode & 07777, AT_SYMLINK_NOFOLLOW) != 0) {
			dec = XF_DEC_REFUSED;
			res = -errno;
		}
	}
	close_dirfd(w, f);
	if (res == -ENOENT) {
		stat_decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
	} else if (res < 0) {
		stat_decide(w, f, fi, XF_DEC_REFUSED, xf_status_of_errno(-res));
	} else {
		stat_decide(w, f, fi, dec, XF_ST_OK);
	}
}

void
on_basis(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	close_dirfd(w, f);
	if (res >= 0) {
		f->basis_fd = res;
		f->delta = 1;
		/* Cloned COPY ops want block-aligned runs (docs/DELTA.md, "Block size rule"). */
		f->bs = w->p->clone == XF_STORAGE_CLONE_REFLINK
		                ? xf_delta_block_size_aligned(f->basis_size, w->p->clone_blk)
		                : xf_delta_block_size(f->basis_size);
		f->count = (uint32_t)xf_delta_block_count(f->basis_size, f->bs);
	}
	/* No basis after all (it went away): the file goes whole. The temp file comes
	 * first either way; a DELTA file then gets its signatures (on_tmp). */
	stat_decide(w, f, fi, XF_DEC_WHOLE, XF_ST_OK);
}

/* Files from this size on are checked against the volume's free space at STAT (one
 * fstatvfs each); smaller ones are not worth a system call. */
#define SPACE_CHECK_MIN (1024u * 1024u)

/* Can size bytes fit in the volume's free space now? True if it cannot be known. */
static bool
space_for(const struct xf_worker *w, uint64_t size)
{
	struct statvfs sv;

	return fstatvfs(w->root_fd, &sv) != 0 || size <= (uint64_t)sv.f_bavail * sv.f_frsize;
}

void
do_stat(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];

	if (f->state != W_FREE) {
		/* The window guarantees the slot is free; a second STAT is a bug upstream. */
		XF_LOG(ERR, MODULE, "file %u: state slot busy", it->file);
		return;
	}
	memset(f, 0, offsetof(struct wfile, stx));
	f->kind = it->kind;
	f->sid = it->sid;
	f->rx = it->rx;
	f->file = it->file;
	f->sess_id = it->sess_id;
	f->gen = it->gen;
	f->mode = it->mode;
	f->uid = it->uid;
	f->gid = it->gid;
	f->dir_len = it->len;
	f->fd = -1;
	f->dirfd = -1;
	f->size = it->off;
	f->mtime_ns = (int64_t)it->val;
	f->name = it->ptr;
	f->basis_fd = -1;
	f->dry = (it->flags & XF_WORK_F_DRYRUN) != 0;
	/* Checksum mode compares contents as the file is sent (FILE_END's CRC); a dry run
	 * sends nothing, so it decides by size and mtime. */
	f->checksum = (it->flags & XF_WORK_F_CHECKSUM) != 0 && !f->dry;
	f->itemize = (it->flags & XF_WORK_F_ITEMIZE) != 0;
	f->trees = (it->flags & XF_WORK_F_DELETE) != 0;
	f->run = (it->flags & XF_WORK_F_RUN) != 0;
	f->xflags = it->flags & (XF_WORK_F_XATTRS | XF_WORK_F_ACLS);
	f->redo = (it->flags & XF_WORK_F_REDO) != 0;
	if (f->kind == XF_FILE_REG && f->size >= SPACE_CHECK_MIN && !f->dry &&
	    !space_for(w, f->size)) {
		/* Refused before anything is written: it cannot fit. */
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, XF_ST_NOSPACE, -1);
		return;
	}
	if (w->stg_on && !f->dry && stg_take(w, f, fi)) {
		return;
	}
	if (f->dir_len == 0) {
		stat_prep(w, f, fi, w->root_fd, f->name + 1);
	} else {
		lookup_parent(w, f, fi);
	}
}

void
on_tmp(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	if (res < 0 && f->inplace) {
		/* Its own new directory has the name already: the list names it twice. */
		stg_release(w, f, false);
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, xf_status_of_errno(-res), -1);
		f->state = W_FREE;
		return;
	}
	if (res < 0 && f->unnamed && !f->aborted) {
		/* The volume refused an unnamed temp file after all: a named one, then. */
		f->unnamed = 0;
		tmp_open(w, f, fi);
		return;
	}
	if (res == -EEXIST && !f->tmp_retried && !f->aborted) {
		/* A leftover of an earlier attempt under this name: remove it and try once more
		 * (a short blocking call, on a path that should never run). */
		f->tmp_retried = 1;
		w->t.tmp_leftovers++;
		if (unlinkat(w->p->tmp_fd, f->tmpname, 0) == 0 || errno == ENOENT) {
			tmp_open(w, f, fi);
			return;
		}
		res = -errno;
	}
	if (res < 0) {
		close_basis(w, f);
		post_simple(w, f, XF_DONE_STAT, XF_DEC_REFUSED, xf_status_of_errno(-res), -1);
		f->state = W_FREE;
		return;
	}
	f->fd = res;
	f->state = W_OPEN;
	if (f->pkeep && f->aborted) {
		f->pkeep = 0; /* never tagged: removed below as any temp file */
	} else if (f->pkeep) {
		partial_tag(w, f);
	}
	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		return;
	}
	if (f->delta) {
		/* Signatures first; the DELTA decision goes out with them (sig_done). */
		f->sigs =
		        xf_lease_alloc(w->p->sig_ring[w->idx], (size_t)f->count * sizeof(*f->sigs));
		if (f->sigs != NULL && xf_delta_sig_begin(&f->sg, f->bs) == 0) {
			f->state = W_SIG;
			f->sg_next = 0;
			if (w->sg_active == 0) {
				sig_start(w, fi);
			} else if (w->sg_tail == 0) {
				w->sg_head = w->sg_tail = fi + 1;
			} else {
				w->files[w->sg_tail - 1].sg_next = fi + 1;
				w->sg_tail = fi + 1;
			}
			return;
		}
		close_basis(w, f);
		f->delta = 0;
	}
	w->t.redone += f->redo;
	post_simple(w, f, XF_DONE_STAT, XF_DEC_WHOLE, XF_ST_OK, -1);
}
