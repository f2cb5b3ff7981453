/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key files and key memory (docs/SECURITY.md section 6).
 *
 * A key file holds the base64 of one 32-byte key and an optional newline (WireGuard's
 * format). It is created with O_CREAT | O_EXCL and mode 0600, and read only when it is a
 * regular file, not a symlink (O_NOFOLLOW), owned by the effective user and with no group
 * or other permission bits. Key memory is locked (mlock), kept out of core dumps
 * (MADV_DONTDUMP) and wiped before it is released. Nothing here prints a key.
 */
#ifndef XF_KEYFILE_H
#define XF_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define XF_KEY_LEN     32u /**< X25519 key / PSK bytes */
#define XF_KEY_B64_LEN 44u /**< base64 of 32 bytes, with one '=' */

/** Base64 of a 32-byte key into out (XF_KEY_B64_LEN characters and a NUL). */
void xf_key_b64_encode(const uint8_t *key, char *out);

/**
 * Decode exactly XF_KEY_B64_LEN characters of canonical base64 into 32 bytes.
 * @return 0, or -EINVAL (wrong length, character, padding or non-canonical form).
 */
int xf_key_b64_decode(const char *s, size_t len, uint8_t *key);

/**
 * Write a new key file (fails if path exists, even as a dangling symlink).
 * @return 0 or -errno (-EEXIST when it exists).
 */
int xf_keyfile_write(const char *path, const uint8_t *key);

/**
 * Read a key file.
 * @return 0; -ELOOP (a symlink), -EINVAL (not a regular file, or malformed content),
 *         -EPERM (not owned by the effective user, or group/other bits set), -errno.
 */
int xf_keyfile_read(const char *path, uint8_t *key);

/**
 * Allocate len bytes of locked, zeroed memory for keys (page-granular, never in a core
 * dump). @return the memory, or NULL with errno (ENOMEM, or mlock's EPERM/ENOMEM).
 */
void *xf_keymem_alloc(size_t len);

/** Wipe, unlock and release memory from xf_keymem_alloc (NULL is a no-op). */
void xf_keymem_free(void *p, size_t len);

#endif /* XF_KEYFILE_H */
