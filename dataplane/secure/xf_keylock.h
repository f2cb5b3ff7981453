/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key memory inside larger structures (docs/SECURITY.md 6): the pages that hold a range
 * are locked in memory (mlock: never written to swap) and kept out of core dumps
 * (MADV_DONTDUMP); on release the range is wiped, then unlocked. For memory that holds
 * only keys, control/keyfile's xf_keymem_alloc maps pages of its own; this is for key
 * state that lives in the engine's structures beside other data (session keys, peers'
 * handshake state), whose pages are locked whole.
 *
 * mlock is not counted per range: two ranges that share a page are unlocked together,
 * so every range locked is released together (at teardown). Pure C, no EAL.
 */
#ifndef XF_KEYLOCK_H
#define XF_KEYLOCK_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Lock the pages holding [p, p + len) and keep them out of core dumps.
 * @return 0; -errno of mlock when the pages could not be locked (EPERM or ENOMEM:
 *         RLIMIT_MEMLOCK too low, without CAP_IPC_LOCK), the range then unlocked but
 *         still out of core dumps; -EINVAL for a NULL or empty range.
 */
int xf_keylock(void *p, size_t len);

/** Unlock the pages holding [p, p + len) and let them into core dumps again; no wipe. */
void xf_keyunlock(void *p, size_t len);

/**
 * Wipe [p, p + len); then, when locked, xf_keyunlock it (the memory may be reused for
 * other data).
 */
void xf_keylock_release(void *p, size_t len, bool locked);

/** Bytes mlock counts for [p, p + len): its pages, whole. */
size_t xf_keylock_span(const void *p, size_t len);

#endif /* XF_KEYLOCK_H */
