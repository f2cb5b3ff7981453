/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sender's scan of a source tree for push jobs. Pure C, no EAL.
 *
 * The walk uses openat/fdopendir/fstatat(AT_SYMLINK_NOFOLLOW) and opens every
 * subdirectory with O_NOFOLLOW, so it never leaves the tree through a symlink: a
 * symlink is listed as a symlink with its target. Order is deterministic: depth
 * first, a directory right before its contents; within a directory its regular files,
 * then its symlinks, then its subdirectories (each followed by its contents), each group
 * sorted bytewise (memcmp), so that a directory's files are consecutive in the list
 * (docs/DELTA.md, "Source scan"). Regular files, directories (empty ones too) and symlinks
 * are listed; fifos, sockets and devices are skipped and counted, and so are
 * entries whose relative path would exceed XF_PATH_MAX or a name XF_NAME_MAX
 * (a directory skipped this way is skipped with everything below it).
 *
 * Hard links (XF_SCAN_F_HARDLINKS): regular files with st_nlink > 1 are grouped by
 * (st_dev, st_ino) after the walk; the first of a group in list order (its leader) stays a
 * regular file, and each later one becomes an XF_FILE_HARDLINK entry whose target is the
 * leader's path (docs/PROTOCOL.md 6.15). A file whose other names are outside the tree
 * (or filtered out) stays a regular file. Without the flag, every name is a regular file.
 *
 * Memory: one fixed 40-byte record per entry (8 bytes of it the owner and group) plus its path and
 * target bytes, each NUL-terminated, and with XF_SCAN_F_XATTRS or _ACLS its attribute set (a
 * 16-bit length and the encoded set), in an arena; the scan holds the names of the directories on
 * the current path only. Paths are stored with the caller's prefix ("dest/"), so a push job's file
 * list is the scan itself: nothing is copied per entry.
 */
#ifndef XF_SCAN_H
#define XF_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

/** What a scan found and skipped. */
struct xf_scan_stats {
	uint64_t files;           /**< regular files listed */
	uint64_t dirs;            /**< directories listed (the root not included) */
	uint64_t symlinks;        /**< symlinks listed */
	uint64_t bytes;           /**< total size of the regular files */
	uint64_t skipped_special; /**< fifos, sockets, devices: skipped with a warning */
	uint64_t skipped_long;    /**< path or name too long: skipped with a warning */
	uint64_t errors;          /**< entries that vanished or could not be read */
	uint64_t filtered;        /**< excluded by the filter (an excluded directory counts
	                               once: what is below it is not read) */
	uint64_t skipped_staging; /**< entries named like a volume's staging directory
	                               (".xferd", any case, any depth): never listed */
	uint64_t hardlinks;       /**< with XF_SCAN_F_HARDLINKS: names listed as hard links
	                               to an earlier file (not counted in files and bytes) */
	uint64_t skipped_xattr;   /**< with XF_SCAN_F_XATTRS or _ACLS: entries whose attribute
	                               set encodes to more than XF_XATTR_WIRE_MAX bytes or
	                               more than XF_XATTR_LIST_MAX attributes: skipped with a
	                               warning */
};

/** Attributes of one entry a scan reads, at most (more: the entry is skipped). */
#define XF_XATTR_LIST_MAX 256u

/** Group regular files that share an inode: later names become XF_FILE_HARDLINK. */
#define XF_SCAN_F_HARDLINKS 0x1u
/** Read the user.*, security.* and trusted.* extended attributes of regular files and
 *  directories (and the root's: xf_scan_root_xattr()) into each entry's attribute set
 *  (xf_xattr.h, docs/PROTOCOL.md 6.20). */
#define XF_SCAN_F_XATTRS 0x2u
/** Likewise their access and default ACLs (system.posix_acl_access, _default). */
#define XF_SCAN_F_ACLS 0x4u

struct xf_scan;
struct xf_filter;

/**
 * Walk the tree under root.
 *
 * @param root   The source directory (followed if it is itself a symlink: the operator
 *               named it); its entries get paths relative to it.
 * @param prefix NULL or "": paths are relative to root. Otherwise every path is stored
 *               as "prefix/relative" (a push's destination directory), and the
 *               XF_PATH_MAX limit applies to that whole path.
 * @param filter NULL, or the rules that decide which entries are listed: each entry's
 *               path relative to root is matched (the prefix is not part of it); an
 *               excluded entry is left out and counted in st->filtered, and an excluded
 *               directory is not read (xf_filter.h, docs/FILTERS.md).
 * @param flags  0 or XF_SCAN_F_HARDLINKS, XF_SCAN_F_XATTRS, XF_SCAN_F_ACLS.
 * @param st     Filled with the counters (also on failure, as far as the walk got); may
 *               be NULL.
 * @return the scan, or NULL with errno: that of open(root) (ENOENT, ENOTDIR,
 *         EACCES...), ENAMETOOLONG (the prefix alone reaches XF_PATH_MAX), or ENOMEM.
 *         Errors below the root do not fail the scan: they are logged and counted in
 *         st->errors.
 */
struct xf_scan *xf_scan_tree(const char *root, const char *prefix, const struct xf_filter *filter,
                             unsigned int flags, struct xf_scan_stats *st);

/** Number of entries listed. */
size_t xf_scan_count(const struct xf_scan *s);

/**
 * Entry i (< xf_scan_count()) in file-list order, ready for the FLIST builder. path
 * and target (a symlink's, or a hard link's leader path) point into the scan, are NUL-terminated,
 * and stay valid until xf_scan_free().
 */
void xf_scan_get(const struct xf_scan *s, size_t i, struct xf_flist_entry *e);

/** The root directory's own attribute set (XF_SCAN_F_XATTRS, _ACLS), given to the
 *  destination directory of a push; *len 0 (and NULL) for none. */
const uint8_t *xf_scan_root_xattr(const struct xf_scan *s, uint16_t *len);

/** Free the scan; NULL is allowed. */
void xf_scan_free(struct xf_scan *s);

#endif /* XF_SCAN_H */
