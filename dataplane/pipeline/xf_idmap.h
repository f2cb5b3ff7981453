/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owners and groups by name (XF_HELLO_F_OWNER_NAMES, docs/PROTOCOL.md 6.21).
 *
 * Receiver: a worker maps the sender's uid (gid) to the local one through the name the
 * FLIST frame gave for it, with a cache of its own (one per worker: no lock), and keeps
 * the sender's number when the name is unknown here, as rsync does. The lookup
 * (getpwnam_r, getgrnam_r) can block on NSS: it runs on a worker, never on an RX core.
 *
 * Sender: the names of the uids and gids a scan found, looked up once on the control
 * thread when the push is set up (xf_idnames_build); the RX core that builds FLIST frames
 * only reads the sorted table (xf_idnames_find).
 */
#ifndef XF_IDMAP_H
#define XF_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

/**
 * Look up an account: name -> id (receiver) or id -> name (sender).
 * @return 0 and *id (or name[0..*len)) set; -ENOENT if there is no such account;
 *         another -errno if the lookup failed (treated as unknown, not cached for long).
 */
typedef int (*xf_idmap_byname_fn)(void *arg, enum xf_name_kind kind, const char *name,
                                  uint32_t *id);
typedef int (*xf_idmap_byid_fn)(void *arg, enum xf_name_kind kind, uint32_t id,
                                char name[XF_ACCOUNT_NAME_MAX + 1]);

/** getpwnam_r / getgrnam_r: the receiver's lookup. */
int xf_idmap_nss_byname(void *arg, enum xf_name_kind kind, const char *name, uint32_t *id);
/** getpwuid_r / getgrgid_r: the sender's; a name the wire cannot carry is -ENOENT. */
int xf_idmap_nss_byid(void *arg, enum xf_name_kind kind, uint32_t id,
                      char name[XF_ACCOUNT_NAME_MAX + 1]);

/** Cache slots per worker (direct-mapped by a hash of kind and name). */
#define XF_IDMAP_SLOTS 128u
/** A cached answer is asked again after this long, so that accounts added on the
 *  receiver are seen without a restart. */
#define XF_IDMAP_TTL_NS (60ull * 1000000000ull)

struct xf_idmap_slot {
	char name[XF_ACCOUNT_NAME_MAX + 1]; /**< "" for an empty slot */
	uint8_t kind;                       /**< enum xf_name_kind */
	bool found;                         /**< the account exists here (id is valid) */
	uint32_t id;                        /**< the local id */
	uint64_t until_ns;                  /**< asked again from then on */
};

/** One worker's map. */
struct xf_idmap {
	struct xf_idmap_slot slot[XF_IDMAP_SLOTS];
	xf_idmap_byname_fn byname;
	void *arg;
	uint64_t lookups; /**< calls of byname (cache misses) */
};

/** Empty map that asks fn (NULL: xf_idmap_nss_byname). */
void xf_idmap_init(struct xf_idmap *m, xf_idmap_byname_fn fn, void *arg);

/**
 * The local id for the sender's id with its name.
 * @param name      The sender's name (xf_proto_name_ok()), or NULL/"" if it sent none.
 * @param id        The sender's id; XF_ID_NONE (not sent) is returned as it is.
 * @param now_ns    A monotonic clock, for the cache's expiry.
 * @param unmapped  Set to true if a name was sent but is unknown here (the number is
 *                  kept), false otherwise.
 * @return the id to set.
 */
uint32_t xf_idmap_map(struct xf_idmap *m, enum xf_name_kind kind, const char *name, uint32_t id,
                      uint64_t now_ns, bool *unmapped);

/** The sender's table: the names of the ids a scan found, sorted by (kind, id). */
struct xf_idnames {
	struct xf_name_rec *rec; /**< names point into buf */
	uint32_t n;
	char *buf;
};

/**
 * Build the table of the distinct ids in uids[0..n) and gids[0..n) (XF_ID_NONE skipped)
 * that fn (NULL: xf_idmap_nss_byid) names. Blocks: control thread only.
 * @return 0, or -ENOMEM.
 */
int xf_idnames_build(struct xf_idnames *t, const uint32_t *uids, const uint32_t *gids, size_t n,
                     xf_idmap_byid_fn fn, void *arg);

/** The sender's name of id, or NULL if it has none. Does not block. */
const struct xf_name_rec *xf_idnames_find(const struct xf_idnames *t, enum xf_name_kind kind,
                                          uint32_t id);

/** Free the table (safe on a zeroed one). */
void xf_idnames_free(struct xf_idnames *t);

#endif /* XF_IDMAP_H */
