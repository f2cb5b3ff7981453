/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receiver's signature cache (docs/DELTA.md, "Signature cache"): per basis file its
 * block size, weak and strong sums and block CRC-64s, so that a push that finds the same
 * basis again does not read it for its signatures. Keyed by (device, inode, size, mtime,
 * ctime): an entry whose file differs in any of them is dropped. Bounded in bytes (one
 * arena allocated at creation, oldest entries evicted first), saved to a file on the
 * volume (temp file, fsync, rename) and loaded from it with every byte untrusted.
 * Pure C, single owner (one per worker): no locks.
 */
#ifndef XF_SIGCACHE_H
#define XF_SIGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

/** What identifies one version of a file: any change to its bytes changes ctime. */
struct xf_sigcache_key {
	uint64_t dev;     /**< device (makedev of statx's major and minor) */
	uint64_t ino;     /**< inode number */
	uint64_t size;    /**< bytes, at least 1 */
	int64_t mtime_ns; /**< modification time, ns since the epoch */
	int64_t ctime_ns; /**< change time, ns since the epoch */
};

/** Counters of one cache (xf_sigcache_stats). */
struct xf_sigcache_stats {
	uint64_t hits;      /**< lookups that found the file's entry, same key and block size */
	uint64_t misses;    /**< lookups that found no entry for the file */
	uint64_t stale;     /**< lookups that found an entry of another version: dropped */
	uint64_t stored;    /**< entries stored (settled ones included) */
	uint64_t committed; /**< of those, made at a file's commit (xf_sigcache_settle) */
	uint64_t evicted;   /**< entries dropped to make room for newer ones */
	uint64_t too_big;   /**< entries not stored: larger than the whole cache */
	uint64_t loaded;    /**< entries taken from the file at load */
	uint64_t corrupt;   /**< cache files refused at load (damaged, truncated, foreign) */
	uint64_t saved;     /**< entries written by the last save */
	uint64_t bytes;     /**< bytes of the arena in use now */
	uint64_t capacity;  /**< bytes of the arena */
};

struct xf_sigcache;

/**
 * Make an empty cache of at most bytes bytes of entries (allocated and touched now).
 * @return the cache, or NULL with errno set (EINVAL below 4 KiB, ENOMEM).
 */
struct xf_sigcache *xf_sigcache_create(size_t bytes);

/** Free the cache (NULL is fine). */
void xf_sigcache_destroy(struct xf_sigcache *c);

/**
 * Look the file up. An entry of the same (dev, ino) with any other key field or block
 * size is dropped (stale). On a hit, the entry's records are copied out.
 * @param k     The file's key, from a statx of the open file.
 * @param bs    The block size the caller will use.
 * @param count Blocks: xf_delta_block_count(k->size, bs); sigs and bcrc hold as many.
 * @param sigs  Out: weak and strong sum of each block.
 * @param bcrc  Out: CRC-64 of each block (NULL: not wanted).
 * @return 0 on a hit, -ENOENT on a miss or a stale entry.
 */
int xf_sigcache_get(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs,
                    uint32_t count, struct xf_sig_rec *sigs, uint64_t *bcrc);

/**
 * Store a file's records, replacing any entry of the same (dev, ino); the oldest entries
 * make room.
 * @return 0, -EINVAL (bs 0 or above XF_BLOCK_MAX, count not the size's block count), or
 *         -E2BIG (larger than the cache).
 */
int xf_sigcache_put(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs,
                    uint32_t count, const struct xf_sig_rec *sigs, const uint64_t *bcrc);

/**
 * Store the records of a file this receiver wrote and verified, pending: never a hit
 * until xf_sigcache_settle() gives it the ctime its file has once committed. Not saved.
 * @return as xf_sigcache_put().
 */
int xf_sigcache_put_pending(struct xf_sigcache *c, const struct xf_sigcache_key *k, uint32_t bs,
                            uint32_t count, const struct xf_sig_rec *sigs, const uint64_t *bcrc);

/**
 * The pending entry of (k->dev, k->ino) gets k->ctime_ns (the committed file's, taken
 * after its last step that moves the ctime) and becomes an entry like any other, if its
 * size and mtime are k's; otherwise it is dropped. An entry that is not pending is left
 * as it is.
 * @return 0, or -ENOENT (no pending entry of k's version).
 */
int xf_sigcache_settle(struct xf_sigcache *c, const struct xf_sigcache_key *k);

/** Forget the entry of (dev, ino), if any. */
void xf_sigcache_drop(struct xf_sigcache *c, uint64_t dev, uint64_t ino);

/** Entries held now. */
uint32_t xf_sigcache_count(const struct xf_sigcache *c);

/**
 * Replace the contents by the entries of a cache file's bytes. Every byte is untrusted:
 * the magic, the version, each record's length, checksum (CRC-32C) and consistency
 * (block count of its size, block size in range) and the record count are checked. A
 * buffer that fails any check leaves the cache empty and counts one `corrupt`.
 * @return entries loaded, or -EBADMSG.
 */
int xf_sigcache_load_buffer(struct xf_sigcache *c, const uint8_t *buf, size_t len);

/**
 * Load the cache file dir_fd/name (xf_sigcache_load_buffer). A missing file is an empty
 * cache; a file larger than any the cache could have written is corrupt.
 * @return entries loaded, 0 if there is no file, -EBADMSG, or -errno of the read.
 */
int xf_sigcache_load(struct xf_sigcache *c, int dir_fd, const char *name);

/**
 * Write every entry, oldest first, to dir_fd/name crash-safely: a temp file name.tmp,
 * fsync, rename over name, fsync of the directory. A crash leaves the old file or the
 * new one, never a mix.
 * @return entries written, or -errno.
 */
int xf_sigcache_save(struct xf_sigcache *c, int dir_fd, const char *name);

/** The counters. */
void xf_sigcache_stats(const struct xf_sigcache *c, struct xf_sigcache_stats *st);

#endif /* XF_SIGCACHE_H */
