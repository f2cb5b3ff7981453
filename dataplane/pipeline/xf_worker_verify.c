/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker, verification: FILE_END, the read-back of what the running CRC64 did not see,
 * size and CRC64 checked against FILE_END, mode and mtime set, the verified fd reported;
 * and a file's failure (docs/PIPELINE.md, "Files on disk").
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xf_worker_priv.h"

void
fail_file(struct xf_worker *w, struct wfile *f, uint8_t status)
{
	/* Failure path only: short blocking calls on the worker, never on an RX core. */
	partial_fail(w, f, status);
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	close_basis(w, f);
	if (f->delta && status == XF_ST_CHECKSUM && !f->aborted) {
		/* Never a corrupt commit: the file fails now and goes whole next time. */
		df_remember(w, df_key(w, f));
	}
	if (f->inplace) {
		/* Written at its name in a staged directory: it must not be there when the
		 * directory is put in place (one that was dropped took it along). Not if it
		 * was never created (lazy): the name may be another file's. */
		if (!f->lazy && stg_alive(w, f->stg)) {
			unlinkat(stg_at(w, f->stg)->fd, f->name + f->dir_len + 1, 0);
		}
		stg_release(w, f, false);
	} else if (!f->unnamed && !f->lazy) {
		unlinkat(w->p->tmp_fd, f->tmpname, 0);
	}
	post_simple(w, f, XF_DONE_FILE, 0, status, -1);
	f->state = W_FREE;
}

/*
 * The times argument of futimens/utimensat that sets the modification time to mtime_ns
 * (nanoseconds since the epoch, negative before 1970) and leaves the access time alone.
 */
void
mtime_spec(int64_t mtime_ns, struct timespec ts[2])
{
	ts[0] = (struct timespec){ .tv_nsec = UTIME_OMIT };
	ts[1].tv_sec = mtime_ns / 1000000000ll;
	ts[1].tv_nsec = mtime_ns % 1000000000ll;
	if (ts[1].tv_nsec < 0) {
		ts[1].tv_sec--;
		ts[1].tv_nsec += 1000000000ll;
	}
}

/*
 * Give an entry the owner and group its list entry carries (docs/PROTOCOL.md 6.17;
 * XF_ID_NONE, chown's -1, leaves that one as it is): the open file fd when base is NULL,
 * else base beneath directory fd, never following a symlink (a symlink's own owner).
 * Before the mode: a chown clears the set-user-ID and set-group-ID bits. A short blocking
 * call on the worker (no io_uring opcode). @return XF_ST_OK, or XF_ST_ATTR: it failed
 * (EPERM without CAP_CHOWN), logged and counted.
 */
uint8_t
owner_set(struct xf_worker *w, int fd, const char *base, uint32_t uid, uint32_t gid)
{
	int rc;

	if (uid == XF_ID_NONE && gid == XF_ID_NONE) {
		return XF_ST_OK;
	}
	rc = base == NULL ? fchown(fd, (uid_t)uid, (gid_t)gid)
	                  : fchownat(fd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
	if (rc != 0) {
		w->t.owners_failed++;
		XF_LOG(WARNING, MODULE, "owner %d, group %d of %s: %s", (int)uid, (int)gid,
		       base != NULL ? base : "a received file", strerror(errno));
		return XF_ST_ATTR;
	}
	w->t.owners_set++;
	return XF_ST_OK;
}

void
file_verify(struct xf_worker *w, struct wfile *f)
{
	struct timespec ts[2];

	if (f->crc != f->fe_crc || f->aborted) {
		fail_file(w, f, XF_ST_CHECKSUM);
		return;
	}
	mtime_spec(f->mtime_ns, ts);
	/* No io_uring opcode sets owner, mode or times: short blocking calls on the worker.
	 * The mode is already right when the file was created with it (tmp_open: never with
	 * a set-id bit, which the chown would clear). The owner is set before the file can
	 * appear: a file that cannot have it fails (XF_ST_ATTR) and never appears; so does
	 * its attribute set (XF_ST_XATTR). */
	{
		uint64_t t0 = now_ns();
		uint8_t st = owner_set(w, f->fd, NULL, f->uid, f->gid);

		/* Its attributes before its mode: an access ACL sets the group bits too, and
		 * the mode set after it agrees with the source's (6.20). */
		if (st == XF_ST_OK && f->xflags != 0) {
			st = xattr_apply(w, f->fd, f->name, f->xflags);
		}
		bool ok = st == XF_ST_OK && (f->mode_set || fchmod(f->fd, f->mode & 07777) == 0) &&
		          futimens(f->fd, ts) == 0;

		slow_check(w, t0, "setting a file's owner, mode and mtime");
		if (!ok) {
			fail_file(w, f, st != XF_ST_OK ? st : XF_ST_IO);
			return;
		}
	}
	ns_verified(w, f);
	partial_verified(w, f);
	close_basis(w, f);
	stg_release(w, f, true);
	w->t.modes_at_create += f->mode_set;
	w->t.unnamed_temps += f->unnamed;
	w->t.files_done++;
	stamp(w->now, &w->t.data_first, &w->t.data_last);
	post_simple(w, f, XF_DONE_FILE, 0, XF_ST_OK, f->fd);
	f->fd = -1; /* the commit worker owns it now */
	f->state = W_FREE;
}

/*
 * Queue the read-back of the file's next piece. A hole where it starts (never written:
 * zeros) goes into the CRC without being read (xf_csum_crc64_zeros), so a file announced
 * huge with one byte at its end costs no read-back of the rest. @return false if nothing
 * is left to read.
 */
static bool
read_next(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];
	off_t data;
	uint64_t left;
	uint32_t len;

	crc_absorb(f); /* ranges whose CRC is known are not read */
	data = lseek(f->fd, (off_t)f->crc_off, SEEK_DATA);
	if (data < 0 ? errno == ENXIO : (uint64_t)data > f->crc_off) {
		uint64_t to = crc_gap_end(
		        f, data < 0 || (uint64_t)data > f->fe_size ? f->fe_size : (uint64_t)data);

		f->crc = xf_csum_crc64_zeros(f->crc, to - f->crc_off);
		f->crc_off = to;
		crc_absorb(f);
	}
	if (f->crc_off >= f->fe_size) {
		return false;
	}
	left = crc_gap_end(f, f->fe_size) - f->crc_off;
	len = left < RB_SIZE ? (uint32_t)left : RB_SIZE;
	PREP(w, xf_storage_prep_read(w->st, f->fd, w->rb_buf, len, f->crc_off, tag_of(T_READ, fi)));
	return true;
}

/* The next file waiting for the read-back buffer: started, or finished at once (all
 * holes, or aborted meanwhile). */
static void
rb_start_next(struct xf_worker *w)
{
	w->rb_active = 0;
	while (w->rb_head != 0) {
		uint32_t fi = w->rb_head - 1;
		struct wfile *f = &w->files[fi];

		w->rb_head = f->rb_next;
		if (w->rb_head == 0) {
			w->rb_tail = 0;
		}
		if (f->aborted) {
			fail_file(w, f, XF_ST_IO);
		} else if (read_next(w, fi)) {
			w->rb_active = fi + 1;
			return;
		} else {
			file_verify(w, f);
		}
	}
}

void
on_read(struct xf_worker *w, uint32_t fi, int32_t res)
{
	struct wfile *f = &w->files[fi];

	if (res <= 0 || f->aborted) {
		/* An abort stops a long read-back between two pieces. */
		rb_start_next(w);
		fail_file(w, f,
		          f->aborted ? XF_ST_IO
		          : res == 0 ? XF_ST_SIZE
		                     : xf_status_of_errno(-res));
		return;
	}
	crc_feed(w, f, w->rb_buf, (size_t)res);
	f->crc_off += (uint64_t)res;
	w->t.readback_bytes += (uint64_t)res;
	if (f->crc_off < f->fe_size && read_next(w, fi)) {
		return;
	}
	rb_start_next(w);
	file_verify(w, f);
}

/*
 * A file whose end is a hole (no DATA reached it: docs/PROTOCOL.md 6.8) gets its size
 * from FILE_END; the hole reads as zeros, which the whole-file CRC then covers, so a range
 * the sender had data in and that never arrived fails the file as any wrong byte does.
 * Bounded by the announced size (file_finish), so a peer cannot make a huge sparse temp.
 * @return false if the file failed.
 */
static bool
set_size(struct xf_worker *w, struct wfile *f)
{
	/* No io_uring opcode on every supported kernel: a short blocking call on the worker,
	 * as for the mode and mtime. */
	uint64_t t0 = now_ns();
	int rc = ftruncate(f->fd, (off_t)f->fe_size);

	slow_check(w, t0, "setting a sparse file's size");
	if (rc != 0) {
		fail_file(w, f, xf_status_of_errno(errno));
		return false;
	}
	f->max_end = f->fe_size;
	return true;
}

void
file_finish(struct xf_worker *w, uint32_t fi)
{
	struct wfile *f = &w->files[fi];

	f->fe_pending = 0;
	f->state = W_FINISH;
	if (f->aborted) {
		fail_file(w, f, XF_ST_IO);
		return;
	}
	if (f->lazy && f->status == XF_ST_OK && f->fe_size <= f->size) {
		lazy_open(w, f, fi); /* no DATA came (an empty file, or all holes) */
	}
	if (f->status != XF_ST_OK) {
		fail_file(w, f, f->status);
		return;
	}
	if (f->max_end > f->fe_size || f->fe_size > f->size) {
		/* Data past the end, or an end past what the file list announced. */
		fail_file(w, f, XF_ST_SIZE);
		return;
	}
	if (f->presized && f->fe_size == f->size) {
		f->max_end = f->fe_size; /* its size already (presize()) */
	}
	if ((f->max_end < f->fe_size || (f->presized && f->fe_size < f->size)) && !set_size(w, f)) {
		return;
	}
	if (w->p->conf.verify_full || (f->crc_combined && !basis_unchanged(w, f))) {
		/* What the file holds, read back: asked for, or COPY CRCs taken from a basis
		 * that has changed since (its clones may hold the new bytes). */
		f->crc = 0;
		f->crc_off = 0;
		f->npieces = 0;
		ns_restart(w, f);
	}
	if (f->crc_off < f->fe_size) {
		/* Data came out of order: CRC the rest from the temp file, one file at a time
		 * through the worker's read-back buffer. */
		f->rb_next = 0;
		if (w->rb_active == 0) {
			if (!read_next(w, fi)) {
				file_verify(w, f);
				return;
			}
			w->rb_active = fi + 1;
		} else if (w->rb_tail == 0) {
			w->rb_head = w->rb_tail = fi + 1;
		} else {
			w->files[w->rb_tail - 1].rb_next = fi + 1;
			w->rb_tail = fi + 1;
		}
		return;
	}
	file_verify(w, f);
}

void
do_file_end(struct xf_worker *w, const struct xf_work *it)
{
	uint32_t fi = fslot_of(w, it->sid, it->file);
	struct wfile *f = &w->files[fi];

	if (f->state != W_OPEN || f->file != it->file || f->sid != it->sid || f->gen != it->gen ||
	    f->fe_pending || f->aborted) {
		return;
	}
	f->fe_pending = 1;
	f->fe_size = it->off;
	f->fe_crc = it->val;
	if (it->status != XF_ST_OK && f->status == XF_ST_OK) {
		f->status = it->status; /* the sender gave the file up: fail it in file_finish() */
	}
	if (f->inflight == 0) {
		file_finish(w, fi);
	}
}

/*
 * Abort of a session: idle files are removed now, busy ones (an operation in flight)
 * are flagged and removed when it completes, reporting nothing. XF_DONE_ABORT goes
 * back once no file of the session is left; it follows every other completion of the
 * session on the same FIFO ring.
 */
