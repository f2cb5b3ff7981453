/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extended attributes and POSIX ACLs of a file-list entry (docs/PROTOCOL.md 6.20): the
 * attribute set an FLIST entry carries with XF_HDR_F_XATTR, its encoding, its CRC-64 and
 * the receiver's bounds. Pure C, no EAL: the sender's scan encodes, the receiver's RX core
 * checks (no allocation, no system call), its workers read back and compare.
 *
 * A set is the CRC-64/XZ of what follows it (8 bytes), a count (2 bytes), then that many
 * records, each a name length (1 byte), a value length (2 bytes), the name, the value;
 * names in bytewise order, each once. The order makes the encoding canonical, so the
 * receiver's read-back of the attributes it set encodes to the same bytes and the same
 * CRC-64: the set is verified like file data. ACLs travel as the kernel's own values of
 * system.posix_acl_access and system.posix_acl_default (numeric ids, as rsync's
 * --numeric-ids), which the receiver's kernel checks when they are set.
 */
#ifndef XF_XATTR_H
#define XF_XATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of a name, with its namespace prefix (Linux XATTR_NAME_MAX). */
#define XF_XATTR_NAME_MAX 255u
/** Bytes of one value the receiver takes. */
#define XF_XATTR_VALUE_MAX 1024u
/** Attributes of one entry the receiver takes. */
#define XF_XATTR_COUNT_MAX 32u
/** Bytes of one entry's encoded set the receiver takes. */
#define XF_XATTR_SET_MAX 2048u
/** Largest encoded set a sender lists (the entry's length field on the wire is 16 bits;
 *  larger sets are not listed at all: the entry is skipped by the scan, counted). */
#define XF_XATTR_WIRE_MAX 8192u
/** Bytes before the first record: CRC-64 and count. */
#define XF_XATTR_HDR_LEN 10u
/** Bytes of a record before its name: name length, value length. */
#define XF_XATTR_REC_LEN 3u

/** Namespaces, as a mask: what a set may hold, what a volume keeps. */
#define XF_XATTR_NS_USER     0x1u /**< user.*: always, with XF_HELLO_F_XATTRS */
#define XF_XATTR_NS_SECURITY 0x2u /**< security.*: volumes[].xattr_namespaces */
#define XF_XATTR_NS_TRUSTED  0x4u /**< trusted.*: volumes[].xattr_namespaces */
#define XF_XATTR_NS_ACL      0x8u /**< system.posix_acl_access, _default: XF_HELLO_F_ACLS */

/** Why a set is refused; counted per reason by the receiver. */
enum xf_xattr_reason {
	XF_XATTR_OK = 0,
	XF_XATTR_R_MALFORMED, /**< short, a zero count, a record past the end, bytes left over */
	XF_XATTR_R_CRC,       /**< the CRC-64 does not match the records */
	XF_XATTR_R_NAME,      /**< a name empty, over XF_XATTR_NAME_MAX, with a NUL, out of
	                           order or twice, or in no namespace the session carries */
	XF_XATTR_R_VALUE,     /**< a value over XF_XATTR_VALUE_MAX */
	XF_XATTR_R_COUNT,     /**< more than XF_XATTR_COUNT_MAX attributes */
	XF_XATTR_R_TOTAL,     /**< the set over XF_XATTR_SET_MAX bytes */
	XF_XATTR_R_MAX,
};

/** One attribute; both point into the set. */
struct xf_xattr {
	const char *name; /**< not NUL-terminated */
	const uint8_t *value;
	uint8_t name_len;
	uint16_t value_len;
};

/** CRC-64/XZ (ECMA-182 reflected, as xf_csum_crc64) of len bytes, continuing crc
 *  (0 to start). A portable nibble-table version: sets are small. */
uint64_t xf_xattr_crc64(uint64_t crc, const void *buf, size_t len);

/**
 * The namespace of an attribute name.
 * @return one XF_XATTR_NS_* bit, or 0 for any other name (system.* but the two ACLs,
 *         or no known prefix).
 */
unsigned int xf_xattr_ns(const char *name, size_t len);

/**
 * Check a set from the wire (untrusted) against the receiver's bounds.
 * @param set  The bytes; len 0 is the empty set (always fine).
 * @param ns   Namespaces the session may carry (XF_XATTR_NS_*).
 * @return XF_XATTR_OK or the first reason found.
 */
enum xf_xattr_reason xf_xattr_check(const uint8_t *set, size_t len, unsigned int ns);

/** Attribute at *cursor (start at 0) of a checked set; false at the end. */
bool xf_xattr_next(const uint8_t *set, size_t len, size_t *cursor, struct xf_xattr *a);

/** An encoder into a caller buffer. */
struct xf_xattr_enc {
	uint8_t *buf;
	size_t cap, len;
	uint16_t count;
	bool overflow; /**< a record did not fit cap */
};

/** Start a set in buf[0, cap). */
void xf_xattr_enc_init(struct xf_xattr_enc *e, uint8_t *buf, size_t cap);

/**
 * Add one attribute; names must come in bytewise order (the caller sorts).
 * @return 0, -EINVAL (empty name, over XF_XATTR_NAME_MAX, or value over 65535 bytes),
 *         -ENOSPC (past cap: e->overflow is set and the set is unusable).
 */
int xf_xattr_enc_add(struct xf_xattr_enc *e, const char *name, size_t name_len, const void *value,
                     size_t value_len);

/** Finish: the count and the CRC-64. @return the set's bytes (0: no attribute, nothing to
 *  carry), or -ENOSPC if a record did not fit. */
int xf_xattr_enc_finish(struct xf_xattr_enc *e);

/**
 * Do two values of system.posix_acl_access (access) or system.posix_acl_default differ as
 * rsync -A tells ACLs apart (its `a` itemize column)? The kernel's format: a 4-byte
 * version, then 8-byte entries (tag, permissions, id; little-endian). Length 0 is no ACL.
 * A default ACL differs in any byte. An access ACL differs in its named users and
 * groups, in having a mask or not, and, with a mask, in the owning group's entry; not in
 * the owner's, the mask's or others' permissions, which are the file's mode bits (the
 * `p` column). A value that is not a whole number of entries is compared bytewise.
 */
bool xf_xattr_acl_differs(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                          bool access);

/** Short name of a reason ("name", "value"...), for counters and logs. */
const char *xf_xattr_reason_name(enum xf_xattr_reason r);

#endif /* XF_XATTR_H */
