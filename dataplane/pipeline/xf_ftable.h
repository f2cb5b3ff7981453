/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A session's file table: one entry per file-list index, paths in a chunked arena.
 *
 * Owned by the session's RX core. Entries are indexed by file index and may be added in
 * any order. A path is stored split for the *at() calls: the parent directory
 * ("" at the top level) and the last component, each NUL-terminated, then the symlink
 * target, then the attribute set (XF_HDR_F_XATTR: a native 16-bit length, 0 for none, and
 * its bytes; xf_fname_xattr()). Arena chunks never move, so a worker may read a path through a
 * pointer carried in a work item until the entry is settled (its last completion came back); the
 * ring's release/acquire ordering publishes the bytes.
 *
 * Paths are let go as the window moves (xf_ftable_settled): a chunk goes back to the
 * table's free list once every entry in it is settled, so the paths held are those of
 * about two windows of entries, whatever the peer sent before. The paths of directories
 * whose mtime is set at the end of the session are copied into a second region of at
 * most XF_FTABLE_KEEP_MAX bytes.
 *
 * Memory: one mmap(MAP_NORESERVE) reservation per table, made by xf_ftable_reserve() on
 * the control thread (the pipeline reserves one per session slot when it is built, for
 * xf_pipeline_conf.max_paths entries, the path sets' bound, halved with them while they
 * do not fit the address space). Nothing is allocated after it, on the RX core or
 * anywhere: the entry array (48 bytes an index), the chunks (64 KiB each, a free list,
 * the most recently freed taken first), the live chunks' ring and the kept region are
 * all in it, and pages are touched only as they fill. A new session clears only the
 * entries it reaches (xf_ftable_reset(): no system call), a window's worth at most per
 * add. Reserved per slot at 2^24 entries and a window of 1024: 768 MiB of entries,
 * XF_FTABLE_CHUNKS(1024) = 333 chunks (20.8 MiB) and 8 MiB kept, none resident until
 * used. Resident: the entries up to the highest index a session of the slot reached
 * (48 MiB at 10^6), the chunks that were ever live at once (the same bound on paths as
 * before: about two windows) and the kept bytes; the pages stay with the slot for its
 * next session, and are unmapped with the pipeline.
 *
 * Bounds: an index at or above the reserved entries, or a path when every chunk is live
 * (a correct sender cannot reach that: XF_FTABLE_CHUNKS), is refused -ENOSPC with the
 * table unchanged; the session aborts BUSY with the reason, counted in
 * xf_pipeline_rx_stats.entries_over.
 *
 * Measured (XF_PERF_CLOCK=thread xf-bench-pathset, release build, medians of 5;
 * docs/PIPELINE.md "Bounds"): the realloc doubling of the entry array this replaced
 * paused the RX core 0.25 ms at 10^5 entries and 12.8 ms at 10^6 in one add; see there
 * for the reserved table's figures.
 */
#ifndef XF_FTABLE_H
#define XF_FTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xf_proto.h"

/** Bytes of kept directory paths per table (beyond, a directory's mtime is not set). */
#define XF_FTABLE_KEEP_MAX (8u * 1024u * 1024u)

/** Bytes of one arena chunk: a path never spans two. */
#define XF_FTABLE_CHUNK (64u * 1024u)

/** Bytes of the largest entry a frame can carry: its path, target and attribute set
 *  (all in one payload), the three NULs and the set's length, and two owner names. */
#define XF_FTABLE_ENTRY_MAX (XF_PAYLOAD_MAX + 5u + 2u * (XF_ACCOUNT_NAME_MAX + 1u))

/**
 * Chunks a table of a window of `w` files reserves. Live chunks hold paths of entries
 * added since the oldest live chunk was started, whose indices are below two windows
 * past the settled ones, each at most XF_FTABLE_ENTRY_MAX bytes; a chunk is left when
 * the next path does not fit, so every chunk but the last holds more than
 * XF_FTABLE_CHUNK - XF_FTABLE_ENTRY_MAX bytes; plus the oldest and the newest chunk.
 */
#define XF_FTABLE_CHUNKS(w)                                                                        \
	((uint32_t)((2ull * (w)*XF_FTABLE_ENTRY_MAX + XF_FTABLE_CHUNK - XF_FTABLE_ENTRY_MAX -      \
	             1u) /                                                                         \
	            (XF_FTABLE_CHUNK - XF_FTABLE_ENTRY_MAX)) +                                     \
	 2u)

struct xf_fentry {
	uint64_t size;       /**< from FLIST */
	int64_t mtime_ns;    /**< from FLIST */
	const char *name;    /**< arena: parent NUL, last component NUL, target NUL; NULL
	                          once settled (unless kept) */
	uint32_t mode;       /**< permission bits */
	uint32_t uid;        /**< owner, XF_ID_NONE: not kept (XF_FLIST_F_OWNER) */
	uint32_t gid;        /**< group, XF_ID_NONE: not kept */
	uint16_t path_len;   /**< bytes of the whole relative path */
	uint16_t dir_len;    /**< bytes of the parent part (0 at the top level) */
	uint16_t target_len; /**< symlink target (hard link: leader path) bytes */
	uint8_t kind;        /**< enum xf_file_kind; 0 for an unknown index */
	uint8_t state;       /**< owner's (RX core's) per-file progress */
	uint8_t decision;    /**< enum xf_decision once decided, else 0 */
	uint8_t status;      /**< enum xf_file_status */
	uint8_t run;         /**< owner's: a regular file in a run (XF_WORK_F_RUN) */
	uint8_t redo;        /**< owner's: being sent again whole (XF_HELLO_F_REDO): its
	                          frames carry XF_HDR_F_REDO, the first attempt's are dropped */
};

/** A live arena chunk: its number and the highest entry index with a path in it. */
struct xf_fchunk {
	uint32_t no;
	uint32_t max_idx;
};

struct xf_ftable {
	void *base;            /**< the reservation (NULL: none, every add is refused) */
	size_t bytes;          /**< its length */
	struct xf_fentry *ent; /**< max entries, dense by index */
	uint32_t max;          /**< entries reserved: indices below */
	uint32_t cap;          /**< entries [0, cap) are this session's (cleared or added) */
	uint32_t dirty;        /**< entries [0, dirty) may hold an earlier session's bytes */
	uint32_t count;        /**< entries known */
	char *chunks;          /**< nchunks x XF_FTABLE_CHUNK */
	uint32_t nchunks;
	uint32_t fresh;    /**< chunks [0, fresh) were used (touched) at some time */
	uint32_t *free_no; /**< chunks used and free now, the last freed on top */
	uint32_t nfree;
	struct xf_fchunk *live; /**< ring of nchunks: [first, first + nlive) live, the last
	                             one takes new paths */
	uint32_t first, nlive;
	size_t used; /**< bytes used in the last live chunk */
	char *keep;  /**< XF_FTABLE_KEEP_MAX bytes: paths of directories kept */
	size_t kept; /**< bytes in keep */
	size_t mem;  /**< bytes in use (entries of this session, live chunks, kept) */
};

/**
 * Reserve the address space of a table and make it empty. Not on an RX core (it maps
 * memory).
 * @param ft          The table (any content: it is overwritten).
 * @param max_entries Indices it takes (1..2^31).
 * @param window      Files in flight per session (the credit): its chunks are
 *                    XF_FTABLE_CHUNKS(window).
 * @return 0; -EINVAL out of range; -ENOMEM the mapping failed.
 */
int xf_ftable_reserve(struct xf_ftable *ft, uint32_t max_entries, uint32_t window);

/** Unmap the reservation (a table never reserved, or released, is left as is); paths
 *  handed out become invalid. */
void xf_ftable_release(struct xf_ftable *ft);

/** Empty the table for a new session: no allocation, no system call (the live chunks go
 *  back to the free list, entries are cleared as the new session reaches them). */
void xf_ftable_reset(struct xf_ftable *ft);

/**
 * Add entry idx.
 * @param ft    The table.
 * @param idx   File index (FLIST first_index + i).
 * @param e     The entry as decoded; its path bytes are copied.
 * @param limit Indices must be below this (the credit limit).
 * @return 0 added; -EALREADY an identical entry is already known, or the index is
 *         settled and its path let go (ignore it);
 *         -EEXIST a different entry has this index (refuse it); -ERANGE idx >= limit;
 *         -EINVAL bad kind or lengths (or more than XF_FTABLE_CHUNK bytes);
 *         -ENOSPC idx at or above the entries reserved, or every chunk live (the table
 *         is unchanged).
 */
int xf_ftable_add(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e,
                  uint32_t limit);

/**
 * xf_ftable_add() for a session that maps owners by name (docs/PROTOCOL.md 6.21): the
 * entry's user and group names (NULL: none) are stored after its attribute set, each
 * NUL-terminated ("" for none), where a STAT item with XF_WORK_F_NAMES finds them.
 * Same returns.
 */
int xf_ftable_add_named(struct xf_ftable *ft, uint32_t idx, const struct xf_flist_entry *e,
                        uint32_t limit, const struct xf_name_rec *user,
                        const struct xf_name_rec *group);

/**
 * Entry idx is settled: its path is not needed any more (keep: copy it into the kept
 * region, while there is room). Called in index order; every chunk whose entries are all
 * at or below idx goes back to the free list.
 */
void xf_ftable_settled(struct xf_ftable *ft, uint32_t idx, bool keep);

/** Entry idx, or NULL if that index is not known. */
static inline struct xf_fentry *
xf_ftable_get(struct xf_ftable *ft, uint32_t idx)
{
	if (idx >= ft->cap || ft->ent[idx].kind == 0) {
		return NULL;
	}
	return &ft->ent[idx];
}

/** Parent directory of an entry, NUL-terminated ("" at the top level). */
static inline const char *
xf_fentry_dir(const struct xf_fentry *fe)
{
	return fe->name;
}

/** Bytes of the last component. */
static inline uint16_t
xf_fentry_base_len(const struct xf_fentry *fe)
{
	return (uint16_t)(fe->path_len - fe->dir_len - (fe->dir_len != 0 ? 1 : 0));
}

/** Last path component, NUL-terminated. */
static inline const char *
xf_fentry_base(const struct xf_fentry *fe)
{
	return fe->name + fe->dir_len + 1;
}

/** Symlink target or a hard link's leader path, NUL-terminated ("" for other kinds). */
static inline const char *
xf_fentry_target(const struct xf_fentry *fe)
{
	return xf_fentry_base(fe) + xf_fentry_base_len(fe) + 1;
}

/**
 * The attribute set stored after an entry's name (name: struct xf_fentry.name, or the
 * name a work item carries), and its length in *len (0: none). The set was checked by
 * the session (xf_xattr_check()); a kept directory's name keeps it. Found by the NULs:
 * only for an entry whose path passed xf_path_validate() (no NUL in it) and that has no
 * target (a regular file or a directory), as every work item that sets one is.
 */
static inline const uint8_t *
xf_fname_xattr(const char *name, uint16_t *len)
{
	const char *base = name + strlen(name) + 1;
	const char *target = base + strlen(base) + 1;
	const uint8_t *x = (const uint8_t *)target + strlen(target) + 1;

	memcpy(len, x, sizeof(*len));
	return x + sizeof(*len);
}

/** The attribute set of a table entry by its lengths (any entry, its path checked or
 *  not), and its length in *len. */
static inline const uint8_t *
xf_fentry_xattr(const struct xf_fentry *fe, uint16_t *len)
{
	const uint8_t *x = (const uint8_t *)xf_fentry_target(fe) + fe->target_len + 1;

	memcpy(len, x, sizeof(*len));
	return x + sizeof(*len);
}

/** Bytes the table has in use (this session's entries, live chunks, kept paths). */
static inline size_t
xf_ftable_mem(const struct xf_ftable *ft)
{
	return ft->mem;
}

#endif /* XF_FTABLE_H */
