/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Partial files kept for a resumed push (docs/PIPELINE.md, "Partial files"): the temp
 * file of a large file that failed or whose session ended before it committed is kept in
 * XF_STAGING_DIR/partial under a name made of its destination path's hash, and the next
 * push of that path uses it as its delta basis. What a partial is for travels with it as
 * an extended attribute (XF_PARTIAL_XATTR: the path, and the size and mtime the file list
 * announced), so it is never taken for another file or another version of the source.
 *
 * A partial is only ever a basis: its bytes reach a new file through COPY ops whose blocks
 * the sender matched by strong checksum, and FILE_END's whole-file CRC-64 verifies the
 * result. So a wrong partial costs bytes on the wire, never correctness, and a hole in it
 * (a range never written) is zeros that only match zeros.
 *
 * Short blocking calls (openat, fgetxattr, renameat, readdir): made on a worker only once
 * per file of XF_PARTIAL_MIN or more, on a failure path, or at start.
 */
#ifndef XF_PARTIAL_H
#define XF_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

#define XF_PARTIAL_DIR   "partial"            /**< in XF_STAGING_DIR */
#define XF_PARTIAL_XATTR "user.xferd.partial" /**< what a partial (or a temp) is for */
/** Files from this size on keep their temp file as a partial (a smaller one costs little
 * to send again). */
#define XF_PARTIAL_MIN       (1024u * 1024u)
#define XF_PARTIAL_NAME_SIZE 17u /**< 16 hex digits and a NUL */
/** Bytes of the attribute's fixed part: magic, size, mtime. */
#define XF_PARTIAL_HDR     20u
#define XF_PARTIAL_TAG_MAX (XF_PARTIAL_HDR + XF_PATH_MAX)

/** What a partial is for: the file-list entry it was written for. */
struct xf_partial_id {
	uint64_t size;              /**< the size the file list announced */
	int64_t mtime_ns;           /**< the mtime the file list announced */
	uint32_t path_len;          /**< bytes of path, 1 to XF_PATH_MAX */
	char path[XF_PATH_MAX + 1]; /**< volume-relative, NUL-terminated */
};

/** Counters of a start-up scan (xf_partial_recover()). */
struct xf_partial_start {
	uint64_t recovered; /**< temp files of a stopped run moved to the partials */
	uint64_t kept;      /**< partials found valid */
	uint64_t discarded; /**< partials and tagged temps that could not prove what they are */
};

/**
 * Fill id from a worker's file name ("dir NUL base", dir_len bytes of dir; the root's
 * files have dir_len 0 and the base at name + 1).
 * @return 0, or -ENAMETOOLONG (the joined path is longer than XF_PATH_MAX).
 */
int xf_partial_id_of(struct xf_partial_id *id, const char *name, uint32_t dir_len, uint64_t size,
                     int64_t mtime_ns);

/** The attribute's bytes for id into buf (XF_PARTIAL_TAG_MAX bytes). @return its length. */
size_t xf_partial_encode(const struct xf_partial_id *id, uint8_t *buf);

/**
 * Parse an attribute's bytes.
 * @return 0, or -EBADMSG (wrong magic, length, or a path of 0 bytes or with a NUL).
 */
int xf_partial_decode(const uint8_t *buf, size_t len, struct xf_partial_id *id);

/** The file name of the partial of path: 16 lower-case hex digits of its hash. */
void xf_partial_name(const char *path, size_t len, char out[XF_PARTIAL_NAME_SIZE]);

/** Whether two ids name the same path and source version. */
bool xf_partial_id_eq(const struct xf_partial_id *a, const struct xf_partial_id *b);

/** Tag an open temp file with id. @return 0 or -errno (-ENOTSUP: no user xattrs here). */
int xf_partial_tag(int fd, const struct xf_partial_id *id);

/** Read the tag of an open file. @return 0, -ENODATA (none), -EBADMSG, or -errno. */
int xf_partial_read_tag(int fd, struct xf_partial_id *id);

/** Remove the tag from a verified temp file before it reaches its final path. */
void xf_partial_untag(int fd);

/**
 * Open the partial of id->path in dir_fd for reading if it is for exactly id.
 * @return an fd; -ENOENT (none); -ESTALE (one for another version of the source or
 *         whose tag is unreadable: removed, it can never be used); or another -errno.
 */
int xf_partial_open(int dir_fd, const struct xf_partial_id *id);

/**
 * Keep the temp file tmpname in tmp_fd (open as fd, tagged as id) as the partial of
 * id->path in dir_fd, replacing the one there unless that one is for the same version
 * and holds more bytes (then the temp file is removed). A trailing hole is cut off
 * first (fd open for writing), so that its size is the end of its data.
 * @return 1 kept, 0 the older partial stays, or -errno (the temp file is removed).
 */
int xf_partial_keep(int tmp_fd, const char *tmpname, int fd, int dir_fd,
                    const struct xf_partial_id *id);

/** Remove the partial of path, if any. @return true if one was removed. */
bool xf_partial_remove(int dir_fd, const char *path, size_t len);

/** A partial seen by xf_partial_pick(). */
struct xf_partial_ent {
	char name[XF_PARTIAL_NAME_SIZE];
	uint64_t bytes; /**< space it takes (allocated blocks) */
	int64_t age_ns; /**< its ctime: when it was kept */
};

/**
 * Order ents oldest first and say how many of them, from the front, must go so that the
 * rest fit in max_count files and max_bytes bytes.
 */
size_t xf_partial_pick(struct xf_partial_ent *ents, size_t n, uint32_t max_count,
                       uint64_t max_bytes);

/**
 * Bring the partials in dir_fd within max_count files and max_bytes bytes, oldest out.
 * @return how many were removed, or -errno (the directory could not be read).
 */
int xf_partial_evict(int dir_fd, uint32_t max_count, uint64_t max_bytes);

/**
 * At start: move each tagged temp file in tmp_fd to the partials in dir_fd (the temp
 * files of a run that was killed), and remove every entry of dir_fd that is not a
 * regular file named by the hash of the path its valid tag names. Untagged temp files
 * are left for the caller to empty.
 */
void xf_partial_recover(int tmp_fd, int dir_fd, struct xf_partial_start *st);

#endif /* XF_PARTIAL_H */
