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
 * Paths are let go as the window moves (xf_ftable_settled): a chunk is freed once every
 * entry in it is settled, so the paths held are those of about two windows of entries,
 * whatever the peer sent before. The paths of directories whose mtime is set at the end
 * of the session are copied into a second arena of at most XF_FTABLE_KEEP_MAX bytes.
 *
 * Resident size: 48 bytes of entry (array grown by doubling) plus the path bytes plus
 * three NULs; the unit test measures it for one million entries.
 *
 * On the RX core, against its rule (no allocation there): the entry array grows by
 * realloc doubling (a copy or remap of the whole array and a memset of its new half)
 * and the arena mallocs a 64 KiB chunk per 64 KiB of paths. The doubling is the pause:
 * worst single add 0.25 ms at 10^5 entries, 12.8 ms at 10^6, against a floor of 0.08
 * and 0.15 ms for one timed operation on the shared development machine
 * (XF_PERF_CLOCK=thread xf-bench-pathset, release build, medians of 5; docs/PIPELINE.md
 * "Bounds"). The session's path sets no longer do this (xf_pathset.h: a reservation
 * made with the pipeline); the same could hold the entry array.
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

/** One arena chunk: its bytes and the highest entry index with a path in it. */
struct xf_fchunk {
	char *mem;
	size_t size;
	uint32_t max_idx;
};

/** Chunks [first, n) are live; the last one takes new paths. */
struct xf_farena {
	struct xf_fchunk *c;
	uint32_t first, n, cap;
	size_t used; /**< bytes used in the last chunk */
};

struct xf_ftable {
	struct xf_fentry *ent; /**< dense, by index */
	uint32_t cap;          /**< entries allocated */
	uint32_t count;        /**< entries known */
	struct xf_farena live; /**< paths of entries not yet settled (and some settled) */
	struct xf_farena keep; /**< paths of directories kept past their settling */
	size_t kept;           /**< bytes in keep */
	size_t mem;            /**< bytes allocated, for accounting */
};

/** Initialise an empty table (no allocation yet). */
void xf_ftable_init(struct xf_ftable *ft);

/** Free everything; paths handed out become invalid. */
void xf_ftable_fini(struct xf_ftable *ft);

/**
 * Add entry idx.
 * @param ft    The table.
 * @param idx   File index (FLIST first_index + i).
 * @param e     The entry as decoded; its path bytes are copied.
 * @param limit Indices must be below this (the credit limit).
 * @return 0 added; -EALREADY an identical entry is already known, or the index is
 *         settled and its path let go (ignore it);
 *         -EEXIST a different entry has this index (refuse it); -ERANGE idx >= limit;
 *         -EINVAL bad kind or lengths; -ENOMEM.
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
 * arena, while there is room). Called in index order; every chunk whose entries are all
 * at or below idx is freed.
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

/** Bytes the table holds allocated (entries and arena). */
static inline size_t
xf_ftable_mem(const struct xf_ftable *ft)
{
	return ft->mem;
}

#endif /* XF_FTABLE_H */
