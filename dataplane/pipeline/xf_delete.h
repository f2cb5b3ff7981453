/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deletion of what a session's file list lacks beneath its destination (--delete,
 * docs/PIPELINE.md "Deletion"), as a walk that runs a bounded number of directory
 * entries per call, so that the worker that runs it keeps polling between steps.
 *
 * Never leaves the volume and never follows a symlink: the destination is opened beneath
 * the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and every directory below
 * it with openat(O_NOFOLLOW | O_DIRECTORY) relative to its parent's fd, which the walk
 * holds; entries are removed with unlinkat() relative to that fd. A symlink is removed as
 * a symlink. A directory swapped for a symlink after it was listed fails its O_NOFOLLOW
 * open and is removed (or kept) as the symlink it is now. Names equal to the staging
 * directory (".xferd", any case: paths naming it are refused from the wire too) are
 * never touched.
 *
 * An extraneous directory is deleted with everything in it, each entry counted (as rsync
 * counts them against --max-delete); its contents go first, the directory last.
 *
 * With protect rules (the sender's filter, XF_HELLO_F_FILTERS), an extraneous entry they
 * exclude is kept and, if a directory, not entered, and so are the directories above it
 * (they are not empty): rsync's "excluded files are protected from deletion". Entries are
 * matched by their path relative to dest, as the sender's scan matched its own.
 */
#ifndef XF_DELETE_H
#define XF_DELETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_pathset.h"

struct xf_filter;

/** Directories open at once (the walk's depth); a deeper one is an error. */
#define XF_DELETE_DEPTH 256u

/**
 * Called for each entry deleted (or, dry, that would be), in the order of deletion.
 * path is relative to the volume root (NULL past XF_PATH_MAX); dir tells a directory.
 */
typedef void (*xf_delete_item_fn)(void *arg, const char *path, size_t len, bool dir);

struct xf_delete_conf {
	int root_fd;                     /**< the volume root */
	const char *dest;                /**< where the walk starts, relative to the root */
	size_t dest_len;                 /**< 0: the root itself */
	const struct xf_pathset *keep;   /**< every path of the file list */
	const struct xf_filter *protect; /**< NULL, or what is kept that the list lacks */
	uint32_t max_delete;             /**< at most this many deletions (XF_DELETE_UNLIMITED) */
	bool dry;                        /**< decide and count, remove nothing */
	bool all;               /**< remove everything beneath dest, staging names too, keep
	                         *   unused: a tree moved aside by a type change */
	xf_delete_item_fn item; /**< optional */
	void *item_arg;
	/** Entries of directories a type change replaced (docs/PIPELINE.md, "Type changes"):
	 *  removed, or left, before the walk; written and read by the commit worker only, and
	 *  added to the walk's result. */
	uint32_t replaced_deleted, replaced_kept;
};

struct xf_delete_result {
	uint32_t deleted;     /**< entries removed (dry: that would be) */
	uint32_t kept;        /**< extraneous entries left: past the limit, or not removable */
	uint32_t protected_n; /**< extraneous entries the protect rules kept, and directories
	                       *   left because they hold one (neither deleted nor kept) */
	uint16_t status;      /**< enum xf_delete_status (xf_proto.h) */
};

/**
 * The entries a walk deleted (or, dry, would delete), for the sender's itemized list
 * (XF_HELLO_F_ITEMIZE): records of a u8 (1: directory), a u16 length and the path
 * relative to the destination, back to back, at most XF_DELETE_LIST_MAX bytes (more are
 * counted in dropped, as are paths too long to name). Filled by the worker that runs the
 * walk, read by the RX core once the walk is over.
 */
struct xf_delete_list {
	uint8_t *buf;
	size_t len, cap;
	size_t skip;      /**< bytes of "DEST/" in front of every path the walk gives */
	uint32_t n;       /**< records */
	uint32_t dropped; /**< entries not recorded */
};

/** Bytes of records a list holds at most (4 MiB: about 100,000 paths of 40 bytes). */
#define XF_DELETE_LIST_MAX (4u << 20)

/** An xf_delete_item_fn that appends to the struct xf_delete_list arg. */
void xf_delete_list_add(void *arg, const char *path, size_t len, bool dir);

/**
 * The record at *off (0 for the first), and *off moved past it.
 * @return false at the end.
 */
bool xf_delete_list_next(const struct xf_delete_list *l, size_t *off, const char **path,
                         uint16_t *len, bool *dir);

/** Free the records. */
void xf_delete_list_free(struct xf_delete_list *l);

struct xf_delete;

/**
 * Start a walk (opens the destination; a missing one means nothing to delete).
 * @return the walk, or NULL with errno ENOMEM. conf->dest and conf->keep must outlive it.
 */
struct xf_delete *xf_delete_start(const struct xf_delete_conf *conf);

/**
 * Walk on through at most budget directory entries.
 * @return true once the walk is finished (the result is final), false if there is more.
 */
bool xf_delete_step(struct xf_delete *d, unsigned int budget);

/** Stop: the next step finishes the walk without deleting anything more. */
void xf_delete_cancel(struct xf_delete *d);

/** What the walk did so far. */
void xf_delete_result(const struct xf_delete *d, struct xf_delete_result *r);

/** Close what is open and free the walk. NULL is a no-op. */
void xf_delete_free(struct xf_delete *d);

#endif /* XF_DELETE_H */
