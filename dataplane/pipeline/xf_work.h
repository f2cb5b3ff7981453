/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Work items (RX core -> worker) and completions (worker -> RX core). Both are
 * fixed-size records copied by value through SP/SC xf_rings: passing work allocates
 * nothing. Pointers in them (paths, DATA bytes) stay valid until the completion or the
 * buffer release that ends their use.
 */
#ifndef XF_WORK_H
#define XF_WORK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** Work item types. */
enum xf_work_type {
	XF_WORK_STAT = 1, /**< quick check of the final path; creates the temp file */
	XF_WORK_DATA,     /**< write len bytes at off from ptr; release owner after */
	XF_WORK_FILE_END, /**< all data enqueued: verify size off and CRC64 val */
	XF_WORK_COMMIT,   /**< commit worker: make file final, in order */
	XF_WORK_DIRTIME,  /**< commit worker: set a directory's mtime (end of session) */
	XF_WORK_MARK,     /**< commit worker: echo back once everything before is done */
	XF_WORK_ABORT,    /**< drop every file of the session, remove its temps */
	XF_WORK_COPY,     /**< copy len bytes of the basis at val to off in the temp file */
	XF_WORK_DELETE,   /**< commit worker: delete what the list lacks (ptr, owner: the
	                   *   session's struct xf_delete_conf); after every commit */
};

/** COMMIT: nothing to do on disk (up to date or already failed); echo in order. */
#define XF_WORK_F_NOOP 0x1u
/** COMMIT: the session was aborted: close fd and remove the temp file, echo. */
#define XF_WORK_F_DISCARD 0x2u
/** STAT: the session compares whole-file checksums (XF_HELLO_F_CHECKSUM): an existing
 *  regular file is decided DELTA whatever its size and mtime. */
#define XF_WORK_F_CHECKSUM 0x4u
/** COMMIT of a regular file: its temp file has no name (O_TMPFILE); the commit links fd. */
#define XF_WORK_F_UNNAMED 0x8u
/** COMMIT of a directory made under a staged name (a staged directory, docs/PIPELINE.md):
 *  the commit renames it into place once the files written in it are committed; off is
 *  its number. */
#define XF_WORK_F_STAGED 0x10u
/** COMMIT of a regular file written at its name in staged directory number off: nothing
 *  to rename, it appears when the directory is put in place. */
#define XF_WORK_F_INPLACE 0x20u
/** STAT and COMMIT of a regular file: every entry from its directory's own entry up to
 *  it is a regular file of at most 1 MiB in that directory (the RX core knew entry
 *  file - 1 when it sent the STAT): nothing between them does anything on disk at commit
 *  but be put in that directory (docs/PIPELINE.md, "Staged directories"). */
#define XF_WORK_F_RUN 0x40u
/** STAT of a dry-run session (XF_HELLO_F_DRYRUN): decide, write nothing (no temp file,
 *  no staged directory, no mode applied, no basis opened). */
#define XF_WORK_F_DRYRUN 0x80u
/** STAT: say how the entry at the path differs (XF_ITEM_*, XF_HELLO_F_ITEMIZE). */
#define XF_WORK_F_ITEMIZE 0x100u
/** STAT and COMMIT: a directory in the way of a file or symlink goes even with entries in
 *  it (--delete without a limit: docs/PIPELINE.md, "Type changes"); on COMMIT, owner is
 *  the session's struct xf_delete_conf, whose list and counts the removal adds to. */
#define XF_WORK_F_DELETE 0x200u
/** COMMIT of a regular file whose signatures wait in its worker's cache for the key
 *  the commit gives it (docs/DELTA.md, "Signature cache"). */
#define XF_WORK_F_SIGNED 0x800u
/** DATA: ptr holds len bytes of one raw DEFLATE stream that inflates to val bytes
 *  (the frame's raw_len, XF_HELLO_F_COMPRESS); the worker inflates it. */
#define XF_WORK_F_COMPRESSED 0x400u
/** STAT of a file whose DELTA failed its CRC-64: decide WHOLE whatever the final path
 *  holds (a new temp file), so that it is sent again whole in this session
 *  (XF_HELLO_F_REDO, docs/DELTA.md "Sent again whole"). */
#define XF_WORK_F_REDO 0x10000u
/** STAT of a session that maps owners by name (XF_HELLO_F_OWNER_NAMES): uid and gid are
 *  the sender's; their names, each NUL-terminated ("" for none), follow the target's NUL
 *  in ptr; the worker maps them and the STAT completion carries the local ids. */
#define XF_WORK_F_NAMES 0x20000u
/** STAT and COMMIT of a regular file or a directory: the session carries user.*,
 *  security.* and trusted.* attributes (XF_HELLO_F_XATTRS): the entry gets the set stored
 *  after its name (xf_fname_xattr()), in the namespaces its volume keeps. */
#define XF_WORK_F_XATTRS 0x1000u
/** Likewise for the access and default ACLs (XF_HELLO_F_ACLS). */
#define XF_WORK_F_ACLS 0x2000u
/** FILE done: the temp file has no name (O_TMPFILE). */
#define XF_DONE_F_UNNAMED 0x1u
/** STAT done (a directory): made under a staged name; block_count is its number. */
#define XF_DONE_F_STAGED 0x2u
/** FILE done: written at its name in staged directory number block_count. */
#define XF_DONE_F_INPLACE 0x4u
/** FILE done: signed while written; pending in its worker's signature cache. */
#define XF_DONE_F_SIGNED 0x8u

struct xf_work {
	uint8_t type;     /**< enum xf_work_type */
	uint8_t kind;     /**< enum xf_file_kind */
	uint8_t status;   /**< COMMIT: status so far; FILE_END: the sender's (it gave up) */
	uint32_t flags;   /**< XF_WORK_F_* */
	uint16_t sid;     /**< session slot in the pipeline */
	uint16_t rx;      /**< RX core index to reply to */
	uint16_t mode;    /**< permission bits */
	uint32_t file;    /**< file index */
	uint32_t len;     /**< DATA: bytes; STAT/COMMIT/DIRTIME: parent dir length */
	int32_t fd;       /**< COMMIT: verified temp file, or -1 */
	uint32_t sess_id; /**< wire session id, names the temp files */
	uint32_t gen;     /**< the slot's generation (a session opened in it): its items and
	                   *   completions name it, so that nothing of a closed session can
	                   *   be taken for the next one's */
	uint32_t uid;     /**< STAT/COMMIT: owner to set, XF_ID_NONE: leave it (6.17) */
	uint32_t gid;     /**< STAT/COMMIT: group to set, XF_ID_NONE: leave it */
	uint64_t off;     /**< DATA: offset; FILE_END: size; STAT: size from FLIST; COMMIT with
	                   *   XF_WORK_F_STAGED or _INPLACE: the staged directory's number */
	uint64_t val;     /**< FILE_END: CRC64; STAT/COMMIT/DIRTIME: mtime (ns); DATA with
	                   *   XF_WORK_F_COMPRESSED: bytes once inflated */
	const void *ptr;  /**< DATA: bytes; else the entry's name (dir NUL base NUL target NUL) */
	void *owner;      /**< DATA: buffer owner, released after the write */
};

/** Completion types. */
enum xf_done_type {
	XF_DONE_STAT = 1, /**< decision made */
	XF_DONE_FILE,     /**< file verified (status 0, fd) or failed */
	XF_DONE_COMMIT,   /**< file settled on disk, in order */
	XF_DONE_MARK,     /**< every commit item before the mark is done */
	XF_DONE_ABORT,    /**< the worker holds nothing of the session any more */
	XF_DONE_DELETE,   /**< deletion finished: status enum xf_delete_status, block_size
	                   *   entries deleted, block_count extraneous entries left */
};

struct xf_done {
	uint8_t type;         /**< enum xf_done_type */
	uint8_t decision;     /**< STAT: enum xf_decision */
	uint8_t status;       /**< enum xf_file_status */
	uint8_t changed;      /**< COMMIT: something was written at the final path */
	uint16_t sid;         /**< session slot */
	uint16_t flags;       /**< XF_DONE_F_* */
	uint32_t file;        /**< file index */
	int32_t fd;           /**< FILE: the verified temp file, -1 otherwise */
	uint32_t block_size;  /**< STAT DELTA: bytes per basis block */
	uint32_t block_count; /**< STAT DELTA: blocks (records in sigs); with
	                       *   XF_DONE_F_STAGED or _INPLACE: the staged directory's number */
	uint32_t gen;         /**< generation of the item it answers (struct xf_work.gen) */
	uint16_t items;       /**< STAT: XF_ITEM_* (with XF_WORK_F_ITEMIZE), 0 for REFUSED */
	uint32_t uid, gid;    /**< STAT with XF_WORK_F_NAMES: the owner and group to set */
	void *sigs;           /**< STAT DELTA: struct xf_sig_rec[block_count] from the worker's
	                       *   lease ring; the RX core sends them in SIG frames and gives
	                       *   them back (xf_lease_free) */
};

/* The staging directory under the volume root; created and emptied at startup. */
#define XF_STAGING_DIR  ".xferd"
#define XF_STAGING_TMP  ".xferd/tmp"
#define XF_TMPNAME_SIZE 40u

static inline char *
xf_work_put_dec(char *p, uint32_t v)
{
	char t[10];
	unsigned int n = 0;

	do {
		t[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	while (n > 0) {
		*p++ = t[--n];
	}
	return p;
}

/**
 * Name of a file's temp file in XF_STAGING_TMP: unique per (slot, session, file), as
 * "%u.%08x.%u" would print it (at most 31 bytes with the NUL). Formatted by hand: it is
 * made for every file received, and snprintf was 2% of the receiver's samples with
 * 20,000 small files.
 */
static inline void
xf_work_tmpname(char *buf, unsigned int sid, uint32_t sess_id, uint32_t file)
{
	static const char hex[] = "0123456789abcdef";
	char *p = xf_work_put_dec(buf, (uint32_t)sid);

	*p++ = '.';
	for (int s = 28; s >= 0; s -= 4) {
		*p++ = hex[(sess_id >> s) & 0xfu];
	}
	*p++ = '.';
	p = xf_work_put_dec(p, file);
	*p = '\0';
}

#endif /* XF_WORK_H */
