/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xferd wire codec, version 1 (docs/PROTOCOL.md). Pure C, no EAL.
 *
 * One frame is one UDP payload. Every multi-byte field is big-endian. The decoder
 * checks the whole frame before it returns, so a decoded message is always safe to
 * read; array fields are views into the caller's buffer (zero copy), read through
 * the accessors below. The encoder writes into a caller buffer and never past cap.
 */
#ifndef XF_PROTO_H
#define XF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XF_PROTO_MAGIC   0x5846u /**< "XF" */
#define XF_PROTO_VERSION 2u
#define XF_HDR_LEN       24u

/** Largest UDP payload at MTU 1500 (20 bytes IPv4, 8 bytes UDP, no options). */
#define XF_PAYLOAD_MTU1500 1472u
/** Largest UDP payload at MTU 9000; no frame is ever larger. */
#define XF_PAYLOAD_MAX 8972u
/** Smallest max_payload a peer may announce in HELLO. */
#define XF_PAYLOAD_MIN 512u

#define XF_PATH_MAX      4095u /**< bytes of a relative path, no NUL */
#define XF_NAME_MAX      255u  /**< bytes of one path component */
#define XF_FLIST_MAX     256u  /**< entries in one FLIST frame */
#define XF_ACK_RANGES    64u   /**< selective ranges in one ACK */
#define XF_ABORT_MSG_MAX 256u

/*
 * Record limits of the other array frames: as many as fit a frame of XF_PAYLOAD_MAX
 * (fixed parts 4, 16 and 12 bytes; records 16, 12 and 8 bytes, docs/PROTOCOL.md).
 */
#define XF_DECISION_MAX    ((XF_PAYLOAD_MAX - XF_HDR_LEN - 4u) / 16u) /**< 559 */
#define XF_SIG_MAX         ((XF_PAYLOAD_MAX - XF_HDR_LEN - 16u) / 8u) /**< 1116 */
#define XF_COMMIT_FAIL_MAX ((XF_PAYLOAD_MAX - XF_HDR_LEN - 12u) / 8u) /**< 1117 */

/**
 * Frame bytes around one FLIST entry's path and target (header, FLIST fields, entry
 * fields): an entry fits a frame of max_payload bytes iff
 * XF_FLIST_OVERHEAD + path_len + target_len <= max_payload.
 */
#define XF_FLIST_OVERHEAD (XF_HDR_LEN + 8u + 24u)
/** Bytes each entry of an FLIST frame with XF_FLIST_F_OWNER adds (uid, gid). */
#define XF_FLIST_OWNER_LEN 8u
/** Bytes of an account name in an FLIST name table (XF_HDR_F_NAMES, docs/PROTOCOL.md 6.21). */
#define XF_ACCOUNT_NAME_MAX 64u
/** Records of one FLIST name table: at most a user and a group per entry. */
#define XF_NAMES_MAX (2u * XF_FLIST_MAX)
/** Bytes of a name table's count, and of a record before its name (kind, len, id). */
#define XF_NAMES_LEN    2u
#define XF_NAME_REC_LEN 6u

/** Frame types. Values are fixed on the wire. */
enum xf_msg_type {
	XF_MSG_HELLO = 1,     /**< initiator -> responder: open a session */
	XF_MSG_HELLO_ACK = 2, /**< responder -> initiator: accept or refuse */
	XF_MSG_FLIST = 3,     /**< sender -> receiver: a batch of file-list entries */
	XF_MSG_DECISION = 4,  /**< receiver -> sender: per-file decisions */
	XF_MSG_SIG = 5,       /**< receiver -> sender: block signatures of a basis */
	XF_MSG_DATA = 6,      /**< sender -> receiver: literal bytes at an offset */
	XF_MSG_COPY = 7,      /**< sender -> receiver: copy a basis range to an offset */
	XF_MSG_FILE_END = 8,  /**< sender -> receiver: size and checksum of a whole file */
	XF_MSG_COMMIT = 9,    /**< receiver -> sender: committed-through, credits, failures */
	XF_MSG_ACK = 10,      /**< both: selective acknowledgement of packet numbers */
	XF_MSG_DONE = 11,     /**< both: end of the file list / end of the session */
	XF_MSG_ABORT = 12,    /**< both: the session ends now, with a reason */
	XF_MSG_PING = 13,     /**< both: keep-alive, elicits an ACK; no payload */
	XF_MSG_TYPE_MAX = 13,
};

/** Why the decoder rejected a frame; every value is counted by the receiver. */
enum xf_proto_reason {
	XF_R_OK = 0,
	XF_R_SHORT,     /**< shorter than the frame header */
	XF_R_MAGIC,     /**< wrong magic */
	XF_R_VERSION,   /**< version we do not speak */
	XF_R_TYPE,      /**< unknown frame type */
	XF_R_LENGTH,    /**< header length disagrees with the datagram, or over XF_PAYLOAD_MAX */
	XF_R_TRUNCATED, /**< payload shorter than its fields or its declared arrays */
	XF_R_TRAILING,  /**< bytes left over after the last field */
	XF_R_RESERVED,  /**< a reserved field or flag bit is not zero */
	XF_R_COUNT,     /**< an array count is zero where forbidden or over its limit */
	XF_R_FIELD,     /**< a field value out of range (kind, mode, decision, status...) */
	XF_R_RANGE,     /**< inconsistent ranges: offset+len overflow, ACK ranges disordered */
	XF_R_NAME,      /**< an FLIST name table's name: empty, too long, or a byte refused */
	XF_R_NAME_ID,   /**< an FLIST name table's record: unknown kind, an id no entry of
	                 *   the frame carries, or not in strictly increasing (kind, id) order
	                 *   (a repeated id, a second name for it) */
	XF_R_MAX,
};

/** Frame header, decoded. */
struct xf_hdr {
	uint8_t version;  /**< XF_PROTO_VERSION */
	uint8_t type;     /**< enum xf_msg_type */
	uint16_t flags;   /**< XF_HDR_F_*; others reserved */
	uint16_t len;     /**< payload bytes after the header */
	uint32_t session; /**< session id chosen by the initiator, nonzero */
	uint64_t pn;      /**< packet number in the sender's number space */
};

/** The frame carries no data that needs acknowledging (ACK, PING replies). */
#define XF_HDR_F_NOACK 0x0001u
/**
 * The frame is sent by the session's responder (the receiving side). Session ids are
 * chosen by each initiator, so two appliances pushing to each other may pick the same
 * id; the flag says which of the two sessions a frame belongs to.
 */
#define XF_HDR_F_REPLY 0x0002u
/**
 * Acknowledge this frame at once rather than after max_ack_delay: the sender waits on
 * it (the last DATA frame of a file: FILE_END goes out only when all of it is acked).
 */
#define XF_HDR_F_ACKNOW 0x0004u
/** Key phase of an AEAD frame (docs/SECURITY.md 5); the codec sees it cleared. */
#define XF_HDR_F_KEY_PHASE 0x0008u
/** Parity of the handshake whose keys sealed an AEAD frame (docs/SECURITY.md 5: a new
 *  handshake replaces the keys every session.rekey_after_ms); the codec sees it cleared. */
#define XF_HDR_F_KEY_EPOCH 0x0010u
/**
 * DATA and FILE_END of a file's second attempt: the receiver asked for it to be sent
 * again whole (a DECISION WHOLE with status XF_ST_REDO, XF_HELLO_F_REDO); the receiver
 * drops the first attempt's frames that arrive after that (docs/PROTOCOL.md 6.19).
 */
#define XF_HDR_F_REDO 0x0020u
/**
 * FLIST with XF_FLIST_F_OWNER only: a name table follows the entries, the sender's user
 * and group names of the ids they carry (XF_HELLO_F_OWNER_NAMES, docs/PROTOCOL.md 6.21).
 */
#define XF_HDR_F_NAMES 0x0080u
/**
 * FLIST only, in a session with XF_HELLO_F_XATTRS or XF_HELLO_F_ACLS (on every FLIST
 * frame of it, on none of another): each entry ends with a 16-bit length and that many
 * bytes of attribute set (xf_xattr.h, docs/PROTOCOL.md 6.20).
 */
#define XF_HDR_F_XATTR 0x0040u
/**
 * DATA only: the file's one DATA frame and its end (docs/PROTOCOL.md 3.5, 6.9). The
 * frame's bytes are the whole file from offset 0, and XF_DATA_END_LEN bytes after them
 * hold the whole file's CRC-64; the receiver takes it as that DATA followed by FILE_END
 * (status 0, size the bytes written). Sent only to a receiver whose HELLO_ACK had
 * XF_HELLO_F_DATA_END.
 */
#define XF_HDR_F_END 0x0100u

/**
 * May a frame of this type carry these header flags (the key phase and epoch of a sealed
 * frame cleared)? The codec's rule, for a reader that looks at a header before it decodes.
 */
static inline bool
xf_proto_hdr_flags_ok(uint8_t type, uint16_t flags)
{
	if ((flags & ~(XF_HDR_F_NOACK | XF_HDR_F_REPLY | XF_HDR_F_ACKNOW | XF_HDR_F_REDO |
	               XF_HDR_F_NAMES | XF_HDR_F_XATTR | XF_HDR_F_END)) != 0) {
		return false;
	}
	/* Name tables and entries with attribute sets are FLIST layouts (docs/PROTOCOL.md
	 * 6.20, 6.21); a file's data with its end is a DATA layout (3.5). */
	if ((flags & (XF_HDR_F_NAMES | XF_HDR_F_XATTR)) != 0 && type != XF_MSG_FLIST) {
		return false;
	}
	if ((flags & XF_HDR_F_END) != 0 && type != XF_MSG_DATA) {
		return false;
	}
	/* A second attempt is a property of a file's contents: only the frames that carry
	 * them may say so (docs/PROTOCOL.md 6.19). */
	return (flags & XF_HDR_F_REDO) == 0 || type == XF_MSG_DATA || type == XF_MSG_COPY ||
	       type == XF_MSG_FILE_END;
}

/** File kinds in FLIST entries. */
enum xf_file_kind {
	XF_FILE_REG = 1,
	XF_FILE_DIR = 2,
	XF_FILE_SYMLINK = 3,
	/** A hard link to an earlier regular file of the list (the group's leader), whose
	 *  path is the target; only in a session with XF_HELLO_F_HARDLINKS
	 *  (docs/PROTOCOL.md 6.15). */
	XF_FILE_HARDLINK = 4,
};

/** One file-list entry; path and target point into the frame (not NUL-terminated). */
struct xf_flist_entry {
	uint8_t kind;         /**< enum xf_file_kind */
	uint32_t mode;        /**< permission bits, at most 07777 */
	uint64_t size;        /**< bytes; 0 for directories; target length for symlinks and
	                           hard links */
	int64_t mtime_ns;     /**< modification time, nanoseconds since the epoch */
	const char *path;     /**< relative path, validated by xf_path_validate() later */
	uint16_t path_len;    /**< 1..XF_PATH_MAX */
	const char *target;   /**< symlink target, or a hard link's leader path; NULL otherwise */
	uint16_t target_len;  /**< 1..XF_PATH_MAX for symlinks and hard links, 0 otherwise */
	uint32_t uid;         /**< owner (XF_FLIST_F_OWNER), or XF_ID_NONE: not kept */
	uint32_t gid;         /**< group (XF_FLIST_F_OWNER), or XF_ID_NONE: not kept */
	const uint8_t *xattr; /**< attribute set (XF_HDR_F_XATTR, xf_xattr.h); NULL if none */
	uint16_t xattr_len;   /**< its bytes, 0 for none */
};

/** uid or gid of an entry whose owner (or group) is not kept: chown's (uid_t)-1, which
 *  no account has. Entries of a frame without XF_FLIST_F_OWNER decode with it. */
#define XF_ID_NONE UINT32_MAX

/** Receiver's decision about one file. */
enum xf_decision {
	XF_DEC_UPTODATE = 1, /**< quick check matched: nothing to send */
	XF_DEC_WHOLE = 2,    /**< send the whole file as DATA */
	XF_DEC_DELTA = 3,    /**< SIG frames follow; send COPY and DATA */
	XF_DEC_REFUSED = 4,  /**< the entry is refused (reason in status) */
};

/** Per-file status codes, carried in DECISION and COMMIT. */
enum xf_file_status {
	XF_ST_OK = 0,
	XF_ST_BAD_PATH = 1, /**< path failed validation */
	XF_ST_ESCAPE = 2,   /**< resolution would leave the volume root */
	XF_ST_IO = 3,       /**< I/O error (errno in the log) */
	XF_ST_NOSPACE = 4,  /**< ENOSPC or EDQUOT */
	XF_ST_CHECKSUM = 5, /**< whole-file checksum mismatch */
	XF_ST_SIZE = 6,     /**< data beyond or short of the announced size */
	XF_ST_CONFLICT = 7, /**< wrong kind at the final path (e.g. a directory) */
	XF_ST_LINK = 8,     /**< a hard link whose leader is not a regular file this session
	                         committed (docs/PROTOCOL.md 6.15) */
	XF_ST_ATTR = 9,     /**< the owner or group could not be set (docs/PROTOCOL.md 6.17) */
	XF_ST_XATTR = 11,   /**< the attribute set was refused (bounds, CRC-64) or could not be
	                         set and verified (docs/PROTOCOL.md 6.20) */
	XF_ST_TOOBIG = 12,  /**< the sender gave the entry up: too large for a frame
	                         (XF_FLIST_F_GIVEUP, docs/PROTOCOL.md 6.23) */
	XF_ST_MAX = 12,     /**< the largest failure status (10, XF_ST_REDO, is none) */
	/** Not a failure: in a DECISION WHOLE only, "send this file again, whole, in this
	 *  session" (XF_HELLO_F_REDO, docs/PROTOCOL.md 6.19). */
	XF_ST_REDO = 10,
};

struct xf_decision_rec {
	uint32_t file;        /**< file index */
	uint8_t decision;     /**< enum xf_decision */
	uint8_t status;       /**< enum xf_file_status, nonzero only with REFUSED */
	uint16_t items;       /**< XF_ITEM_* (XF_HELLO_F_ITEMIZE), 0 with REFUSED */
	uint32_t block_size;  /**< DELTA: block size of the signatures, else 0 */
	uint32_t block_count; /**< DELTA: number of blocks, else 0 */
};

struct xf_sig_rec {
	uint32_t weak;   /**< rolling checksum of the block */
	uint32_t strong; /**< CRC-32C of the block */
};

struct xf_ack_range {
	uint64_t first; /**< lowest packet number in the range */
	uint64_t last;  /**< highest, inclusive */
};

struct xf_commit_fail {
	uint32_t file;
	uint16_t status; /**< enum xf_file_status, nonzero */
};

struct xf_msg_hello {
	uint16_t min_version;
	uint16_t max_version;
	uint16_t max_payload; /**< largest payload this side accepts, XF_PAYLOAD_MIN..MAX */
	uint16_t status;      /**< HELLO_ACK: 0 accepted, else enum xf_abort_code */
	uint32_t window;      /**< HELLO_ACK: files the receiver lets be in flight (credits);
	                           HELLO with XF_HELLO_F_DELETE: the most entries the receiver
	                           may delete (XF_DELETE_UNLIMITED: no limit); else 0 */
	uint32_t flags;       /**< XF_HELLO_F_*; others reserved */
	uint64_t nonce;       /**< random, echoed in HELLO_ACK */
	const char *dest;     /**< HELLO: destination path in the volume, may be empty; with
	                           XF_HELLO_F_SEALED_DEST none crosses in clear (0 bytes) */
	uint16_t dest_len;
	/** HELLO with XF_HELLO_F_FILTERS: the sender's filter rules, which protect what they
	 *  exclude from deletion (docs/PROTOCOL.md 6.12): one rule a line in the --filter
	 *  form ("- PAT\n"), on the wire after dest and one NUL, in the field dest_len
	 *  counts; rules_len > 0 exactly when the flag is set. */
	const char *rules;
	uint16_t rules_len;
	/** The handshake message after dest (docs/SECURITY.md 8): HELLO 0 or
	 *  XF_HELLO_AUTH_LEN..XF_HELLO_AUTH_MAX (Noise message 1, whose payload holds the
	 *  destination field: XF_HELLO_F_SEALED_DEST), HELLO_ACK 0 or XF_HELLO_ACK_AUTH_LEN
	 *  (message 2); nonzero exactly when flags has XF_HELLO_F_AEAD. */
	const uint8_t *auth;
	uint16_t auth_len;
};

/** Quick check compares whole-file checksums instead of size and mtime. */
#define XF_HELLO_F_CHECKSUM 0x1u
/** Every frame after the handshake is AEAD-sealed; the HELLO carries Noise message 1. */
#define XF_HELLO_F_AEAD 0x2u
/** Mirror: once every file is committed, the receiver deletes what the file list lacks
 *  beneath the destination (docs/PROTOCOL.md 6.12); the HELLO's window is the limit. */
#define XF_HELLO_F_DELETE 0x4u
/** HELLO only: dest's first component names the receiver's volume (xf_dest.h); without
 *  it dest is a path in the receiver's first volume. */
#define XF_HELLO_F_VOLUME 0x8u
/** HELLO_ACK only, in clear: auth is a cookie reply (docs/SECURITY.md 3), read by the
 *  engine before the codec (which refuses the flag as reserved). */
#define XF_HELLO_F_COOKIE 0x10u
/** HELLO only: a dry run; the receiver decides every entry (and, with XF_HELLO_F_DELETE,
 *  what it would delete) and writes nothing (docs/PROTOCOL.md 6.14). */
#define XF_HELLO_F_DRYRUN 0x20u
/** HELLO only: the receiver says in each DECISION record how the entry differs
 *  (XF_ITEM_*, rsync's itemized changes: docs/PROTOCOL.md 6.14). */
#define XF_HELLO_F_ITEMIZE 0x40u
/** HELLO only: the file list may hold hard links (XF_FILE_HARDLINK, docs/PROTOCOL.md 6.15);
 *  a receiver refuses them in a session without it. */
#define XF_HELLO_F_HARDLINKS 0x80u
/** HELLO: DATA frames of this session may be compressed (a nonzero raw_len,
 *  docs/PROTOCOL.md 6.16); without it a compressed DATA frame is dropped. HELLO_ACK
 *  (accepted only): the receiver's volume asks for compressed DATA (volumes[].compress),
 *  and takes it in this session whatever the HELLO said. */
#define XF_HELLO_F_COMPRESS 0x100u
/** HELLO only: the file list carries owners and groups (every FLIST frame has
 *  XF_FLIST_F_OWNER, docs/PROTOCOL.md 6.17); the receiver's volume must keep them. */
#define XF_HELLO_F_OWNER 0x200u
/** HELLO only: entries carry their user.* (and, where the receiving volume keeps them,
 *  security.* and trusted.*) extended attributes (XF_HDR_F_XATTR, docs/PROTOCOL.md 6.20). */
#define XF_HELLO_F_XATTRS 0x400u
/** HELLO only: entries carry their access and default ACLs, as the attributes
 *  system.posix_acl_access and system.posix_acl_default (docs/PROTOCOL.md 6.20). */
#define XF_HELLO_F_ACLS 0x800u
/** HELLO only: a pull (docs/PROTOCOL.md 3.1.2, 6.18): dest is a pull request (xf_pull.h)
 *  asking the responder to push its SRC back to the initiator, with the push flags
 *  (CHECKSUM, DELETE and its window, VOLUME, DRYRUN, HARDLINKS, COMPRESS) of this HELLO. */
#define XF_HELLO_F_PULL 0x1000u
/** HELLO only, with XF_HELLO_F_AEAD (and required by it): the destination field (dest,
 *  rules, a pull request) is not in clear; it is the payload of Noise message 1 after its
 *  timestamp, encrypted and authenticated by the handshake (docs/PROTOCOL.md 3.1,
 *  docs/SECURITY.md 2.1), so dest_len is 0 and auth_len XF_HELLO_AUTH_LEN plus the field's
 *  bytes. The responder reads the field once message 1 has verified
 *  (xf_proto_hello_field). */
#define XF_HELLO_F_SEALED_DEST 0x4000u
/** HELLO only: the sender sends a DELTA file again whole when the receiver asks (DECISION
 *  WHOLE with XF_ST_REDO, docs/PROTOCOL.md 6.19); without it such a file fails. */
#define XF_HELLO_F_REDO 0x8000u
/** HELLO only, with XF_HELLO_F_DELETE: the destination field carries the sender's filter
 *  rules after the path and a NUL (rules), and the receiver's deletion keeps what they
 *  exclude, as rsync's does (docs/PROTOCOL.md 6.12). Under AEAD it travels in message 1's
 *  sealed block with the other options (XF_HELLO_F_SEALED_OPTS). */
#define XF_HELLO_F_FILTERS 0x10000u
/** HELLO only, with XF_HELLO_F_OWNER: owners and groups are mapped by name: an FLIST
 *  frame whose ids the sender can name has XF_HDR_F_NAMES, only in such a session
 *  (docs/PROTOCOL.md 6.21). */
#define XF_HELLO_F_OWNER_NAMES 0x2000u
/** HELLO only, with XF_HELLO_F_AEAD (and required by it): the options too travel in message
 *  1's payload, not in clear (docs/PROTOCOL.md 3.1.4): the clear HELLO's flags are exactly
 *  XF_HELLO_F_CLEAR_AEAD and its window 0; the payload is the sealed block of
 *  xf_proto_hello_seal (the real flags, the window, the field's length, the field, zero
 *  padding to the block's one size, xf_hs_block_len), read by xf_proto_hello_unseal once
 *  message 1 has verified. */
#define XF_HELLO_F_SEALED_OPTS 0x20000u
/** HELLO only, with XF_HELLO_F_PULL and without XF_HELLO_F_COMPRESS: the pull said
 *  --no-compress, so the push back sends no DATA compressed, whatever the responder's
 *  volume or the initiator's own (its HELLO_ACK) would ask (docs/PROTOCOL.md 6.16). */
#define XF_HELLO_F_NO_COMPRESS 0x40000u
/** HELLO_ACK only, accepting: this receiver takes a DATA frame with XF_HDR_F_END (a file's
 *  data and its end in one frame, docs/PROTOCOL.md 6.9); a sender sends one only then. */
#define XF_HELLO_F_DATA_END 0x80000u
/** The only flags a HELLO under AEAD shows in clear: what the responder reads before it
 *  decrypts message 1 (docs/SECURITY.md 2.5). */
#define XF_HELLO_F_CLEAR_AEAD (XF_HELLO_F_AEAD | XF_HELLO_F_SEALED_DEST | XF_HELLO_F_SEALED_OPTS)
/** The sealed block's fixed part: flags (4), window (4), the field's length (2). */
#define XF_HELLO_SEALED_HDR 10u
/**
 * Does the HELLO_ACK to a HELLO with hello_flags ask for compressed DATA (its
 * XF_HELLO_F_COMPRESS), the receiver's volume asking (volumes[].compress)? Not when the
 * HELLO announced compression already (the session takes it anyway, and a sender of an
 * earlier build, which refuses the flag in a HELLO_ACK, keeps working with --compress),
 * nor for a dry run or a pull, which send no DATA (docs/PROTOCOL.md 6.16).
 */
static inline bool
xf_hello_ack_zip(uint32_t hello_flags, bool volume_asks)
{
	return volume_asks &&
	       (hello_flags & (XF_HELLO_F_COMPRESS | XF_HELLO_F_DRYRUN | XF_HELLO_F_PULL)) == 0;
}

/**
 * The flags a receiver's session keeps of a HELLO with hello_flags whose HELLO_ACK asked
 * for compressed DATA (ack_zip, xf_hello_ack_zip): asked, the session takes compressed
 * DATA as if the HELLO had announced it (docs/PROTOCOL.md 6.16); not asked, such DATA
 * is dropped unless the HELLO announced it (pipeline_zip_refused).
 */
static inline uint32_t
xf_hello_rx_flags(uint32_t hello_flags, bool ack_zip)
{
	return hello_flags | (ack_zip ? XF_HELLO_F_COMPRESS : 0u);
}

/** HELLO flags the codec accepts (not XF_HELLO_F_COOKIE: the engine reads it first). */
#define XF_HELLO_F_ALL                                                                             \
	(XF_HELLO_F_CHECKSUM | XF_HELLO_F_AEAD | XF_HELLO_F_DELETE | XF_HELLO_F_VOLUME |           \
	 XF_HELLO_F_DRYRUN | XF_HELLO_F_ITEMIZE | XF_HELLO_F_HARDLINKS | XF_HELLO_F_COMPRESS |     \
	 XF_HELLO_F_OWNER | XF_HELLO_F_PULL | XF_HELLO_F_REDO | XF_HELLO_F_FILTERS |               \
	 XF_HELLO_F_OWNER_NAMES | XF_HELLO_F_SEALED_DEST | XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS |   \
	 XF_HELLO_F_SEALED_OPTS | XF_HELLO_F_NO_COMPRESS | XF_HELLO_F_DATA_END)
/** HELLO flags only an initiator sends (reserved in HELLO_ACK). */
#define XF_HELLO_F_HELLO_ONLY                                                                      \
	(XF_HELLO_F_DELETE | XF_HELLO_F_VOLUME | XF_HELLO_F_DRYRUN | XF_HELLO_F_ITEMIZE |          \
	 XF_HELLO_F_HARDLINKS | XF_HELLO_F_OWNER | XF_HELLO_F_PULL | XF_HELLO_F_REDO |             \
	 XF_HELLO_F_FILTERS | XF_HELLO_F_OWNER_NAMES | XF_HELLO_F_SEALED_DEST |                    \
	 XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS | XF_HELLO_F_SEALED_OPTS | XF_HELLO_F_NO_COMPRESS)

/**
 * Bytes of a HELLO's destination field: dest, and with rules a NUL and the rules. In a
 * decoded HELLO (or one a sealed field was read into, xf_proto_hello_field) they are
 * contiguous from dest.
 */
static inline uint16_t
xf_hello_dest_field_len(const struct xf_msg_hello *h)
{
	return (uint16_t)(h->dest_len + (h->rules_len != 0 ? 1u + h->rules_len : 0u));
}

/*
 * DECISION record items (u16 at offset 6): how the receiver's entry at the path differs
 * from the file list's, for rsync's itemized changes. 0 unless the HELLO asked
 * (XF_HELLO_F_ITEMIZE), and always 0 with REFUSED.
 */
/** Nothing of the entry's kind at the path (absent, or another kind): created. */
#define XF_ITEM_NEW 0x1u
/** A regular file of another size. */
#define XF_ITEM_SIZE 0x2u
/** Another modification time. */
#define XF_ITEM_TIME 0x4u
/** Other permission bits (never for a symlink). */
#define XF_ITEM_PERMS 0x8u
/** A symlink with another target. */
#define XF_ITEM_CHANGE 0x10u
/** Another owner (only when the list carries the owner: XF_HELLO_F_OWNER). */
#define XF_ITEM_OWNER 0x20u
/** Another group (only when the list carries the group: XF_HELLO_F_OWNER). */
#define XF_ITEM_GROUP 0x40u
/** Other extended attributes in the namespaces the receiver keeps (a regular file or a
 *  directory, only with XF_HELLO_F_XATTRS; docs/PROTOCOL.md 6.20). */
#define XF_ITEM_XATTR 0x80u
/** Another ACL: a named entry, the mask's presence or the owning group's entry of the
 *  access ACL, or the default ACL (not the bits the mode gives; a regular file or a
 *  directory, only with XF_HELLO_F_ACLS; 6.20). */
#define XF_ITEM_ACL 0x100u
/** Every item bit; the rest are reserved. */
#define XF_ITEM_ALL 0x1ffu

/** HELLO window with XF_HELLO_F_DELETE: no limit on deletions. */
#define XF_DELETE_UNLIMITED UINT32_MAX
#define XF_HELLO_AUTH_LEN   148u /**< Noise IKpsk2 message 1 (XF_NOISE_MSG1_LEN) */
/** Message 1 with the longest destination field in its payload (XF_NOISE_MSG1_MAX). */
#define XF_HELLO_AUTH_MAX (XF_HELLO_AUTH_LEN + XF_PATH_MAX)
/** The longest sealed block: message 1's payload in the longest auth (XF_NOISE_PAYLOAD_MAX). */
#define XF_HELLO_SEALED_MAX   (XF_HELLO_AUTH_MAX - XF_HELLO_AUTH_LEN)
#define XF_HELLO_ACK_AUTH_LEN 76u /**< Noise IKpsk2 message 2 (XF_NOISE_MSG2_LEN) */

struct xf_msg_flist {
	uint32_t first_index; /**< index of the first entry; the rest follow in order */
	uint16_t count;       /**< 1..XF_FLIST_MAX */
	uint16_t flags;       /**< XF_FLIST_F_* */
	const uint8_t *raw;   /**< entries, validated; read with xf_proto_flist_next() */
	uint32_t raw_len;
	/** With XF_HDR_F_NAMES: the name table's records (after its count: n_names),
	 *  validated when decoded; read with xf_proto_flist_name_next(). Decoded without
	 *  the flag: NULL, 0 and 0. The encoder writes n_names and these bytes after the
	 *  entries when the header has the flag (the builder: xf_proto_build_names()). */
	const uint8_t *names;
	uint32_t names_len;
	uint16_t n_names;
};

/** Kinds of FLIST name-table records. */
enum xf_name_kind {
	XF_NAME_USER = 1,  /**< the name of a uid */
	XF_NAME_GROUP = 2, /**< the name of a gid */
};

/** One record of an FLIST name table (docs/PROTOCOL.md 6.21). */
struct xf_name_rec {
	uint8_t kind;     /**< enum xf_name_kind */
	uint8_t len;      /**< 1..XF_ACCOUNT_NAME_MAX */
	uint32_t id;      /**< a uid (or gid) an entry of the frame carries */
	const char *name; /**< len bytes, not NUL-terminated (xf_proto_name_ok()) */
};

/** This frame holds the last entries of the file list. */
#define XF_FLIST_F_LAST 0x1u
/** Every entry of this frame carries uid and gid (XF_FLIST_OWNER_LEN bytes after its
 *  fixed fields); set on every FLIST frame of a session with XF_HELLO_F_OWNER, on none
 *  of another (docs/PROTOCOL.md 3.2, 6.17). */
#define XF_FLIST_F_OWNER 0x2u
/**
 * The frame's one entry is a placeholder for an entry the sender gives up, too large for
 * a frame with its path, target and attribute set: a regular file of size 0, no target,
 * no attribute set, its path cut to what fits. The receiver refuses that index with
 * XF_ST_TOOBIG and nothing else of the list changes (docs/PROTOCOL.md 3.2, 6.23). A flag
 * of the FLIST body, not of the header: it is sealed with the entry.
 */
#define XF_FLIST_F_GIVEUP 0x4u
/** FLIST flags the codec accepts. */
#define XF_FLIST_F_ALL (XF_FLIST_F_LAST | XF_FLIST_F_OWNER | XF_FLIST_F_GIVEUP)

struct xf_msg_decision {
	uint16_t count; /**< 1..limit that fits the frame */
	const uint8_t *raw;
};

struct xf_msg_sig {
	uint32_t file;
	uint32_t block_size;  /**< 1..XF_BLOCK_MAX */
	uint32_t first_block; /**< index of the first record */
	uint16_t count;
	const uint8_t *raw;
};

#define XF_BLOCK_MAX (128u * 1024u)

struct xf_msg_data {
	uint32_t file;
	uint32_t len;         /**< bytes in the frame, 1..payload */
	uint32_t raw_len;     /**< 0: the bytes are plain; else they are one raw DEFLATE stream
	                       *   that inflates to exactly raw_len (1..XF_DATA_RAW_MAX) bytes
	                       *   (XF_HELLO_F_COMPRESS, docs/PROTOCOL.md 6.16) */
	uint64_t offset;      /**< offset + the bytes written (xf_proto_data_span) fits off_t */
	const uint8_t *bytes; /**< points into the frame */
	uint64_t crc64;       /**< with XF_HDR_F_END: CRC-64/XZ of the whole file */
};

/** Bytes after the data of a DATA frame with XF_HDR_F_END: the file's CRC-64. */
#define XF_DATA_END_LEN 8u

/** Most bytes one DATA frame writes: what a plain frame of XF_PAYLOAD_MAX carries, so
 *  that a compressed frame still maps to one write of at most one frame's bytes. */
#define XF_DATA_RAW_MAX (XF_PAYLOAD_MAX - XF_HDR_LEN - 16u)

/** Bytes a DATA frame writes in the file: raw_len if compressed, else len. */
static inline uint32_t
xf_proto_data_span(const struct xf_msg_data *d)
{
	return d->raw_len != 0 ? d->raw_len : d->len;
}

struct xf_msg_copy {
	uint32_t file;
	uint32_t len;        /**< bytes to copy, nonzero */
	uint64_t offset;     /**< in the new file */
	uint64_t src_offset; /**< in the basis file */
};

struct xf_msg_file_end {
	uint32_t file;
	uint16_t status; /**< 0; or the sender gives the file up (XF_ST_IO: it could not read
	                  *   it): the receiver fails it with this status, its data is void */
	uint64_t size;   /**< final size of the file */
	uint64_t crc64;  /**< CRC64 (ECMA-182, reflected) of the whole file */
};

struct xf_msg_commit {
	uint32_t committed; /**< every file with index < committed is settled */
	uint32_t credit;    /**< the sender may send files with index < credit */
	uint16_t count;     /**< failed files listed */
	uint16_t seq;       /**< the session's COMMIT frames numbered from 0, mod 2^16 */
	const uint8_t *raw;
};

struct xf_msg_ack {
	uint64_t largest;      /**< equals the first range's last */
	uint32_t ack_delay_us; /**< time between receiving largest and sending this ACK */
	uint16_t count;        /**< 1..XF_ACK_RANGES, ranges descending with gaps */
	const uint8_t *raw;
};

/** What a receiver's deletion did (DONE of a session with XF_HELLO_F_DELETE). */
enum xf_delete_status {
	XF_DEL_OK = 0,      /**< ran to the end: every extraneous entry was deleted */
	XF_DEL_LIMIT = 1,   /**< stopped at the limit: `kept` entries were left */
	XF_DEL_SKIPPED = 2, /**< not run: a file of the session failed */
	XF_DEL_ERROR = 3,   /**< ran; some entries could not be deleted (`kept` of them) */
	XF_DEL_MAX = XF_DEL_ERROR,
};

struct xf_msg_done {
	uint32_t files;      /**< sender: total entries in the file list; receiver: committed */
	uint32_t status;     /**< 0, or enum xf_abort_code */
	bool has_delete;     /**< the 20-byte form: the receiver of a deleting session */
	uint32_t deleted;    /**< has_delete: entries deleted */
	uint32_t kept;       /**< has_delete: extraneous entries left (limit, errors) */
	uint16_t del_status; /**< has_delete: enum xf_delete_status */
};

/** Session-level reasons (ABORT, HELLO_ACK refusals). */
enum xf_abort_code {
	XF_ABORT_NONE = 0,
	XF_ABORT_VERSION = 1,  /**< no common protocol version */
	XF_ABORT_REFUSED = 2,  /**< peer not allowed, or destination refused */
	XF_ABORT_BUSY = 3,     /**< too many sessions */
	XF_ABORT_TIMEOUT = 4,  /**< peer silent past the session timeout */
	XF_ABORT_SHUTDOWN = 5, /**< the appliance is stopping */
	XF_ABORT_CANCEL = 6,   /**< the operator cancelled the job */
	XF_ABORT_PROTOCOL = 7, /**< the peer broke the protocol */
	XF_ABORT_MAX = 7,
};

struct xf_msg_abort {
	uint16_t code;    /**< enum xf_abort_code */
	uint16_t msg_len; /**< 0..XF_ABORT_MSG_MAX */
	const char *msg;  /**< printable ASCII, not NUL-terminated */
};

/** A decoded frame. */
struct xf_msg {
	struct xf_hdr hdr;
	union {
		struct xf_msg_hello hello;
		struct xf_msg_flist flist;
		struct xf_msg_decision decision;
		struct xf_msg_sig sig;
		struct xf_msg_data data;
		struct xf_msg_copy copy;
		struct xf_msg_file_end file_end;
		struct xf_msg_commit commit;
		struct xf_msg_ack ack;
		struct xf_msg_done done;
		struct xf_msg_abort abort;
	};
};

/** Is m a file's one DATA frame with its end (XF_HDR_F_END: offset 0, data.crc64)? */
static inline bool
xf_proto_data_ends(const struct xf_msg *m)
{
	return m->hdr.type == XF_MSG_DATA && (m->hdr.flags & XF_HDR_F_END) != 0;
}

/**
 * Decode and validate one frame.
 *
 * @param buf    The UDP payload.
 * @param len    Its length in bytes.
 * @param msg    Filled on success; views point into buf, which must outlive them.
 * @param reason Set to why the frame was rejected (XF_R_OK on success); may be NULL.
 * @return 0 on success; -EBADMSG for a malformed frame; -EPROTONOSUPPORT for a
 *         version we do not speak (reason XF_R_VERSION).
 */
int xf_proto_decode(const void *buf, size_t len, struct xf_msg *msg, enum xf_proto_reason *reason);

/**
 * Read a HELLO's destination field (field, len bytes: untrusted) into h, as the decoder
 * reads one that crosses in clear: h->dest and h->dest_len, and with XF_HELLO_F_FILTERS
 * in h->flags h->rules and h->rules_len (the path, one NUL, rules that are not empty,
 * hold no other NUL and end their last line). The responder of a HELLO with
 * XF_HELLO_F_SEALED_DEST calls it on the field message 1 carried. h points into field.
 * @return XF_R_OK, or XF_R_FIELD (longer than XF_PATH_MAX, or not of that form).
 */
enum xf_proto_reason xf_proto_hello_field(struct xf_msg_hello *h, const char *field, size_t len);

/**
 * Initiator under AEAD: message 1's payload (XF_HELLO_F_SEALED_OPTS) into out, exactly len
 * bytes: flags (the HELLO's real flags, XF_HELLO_F_CLEAR_AEAD among them) and window
 * big-endian, the field's length (2 bytes), the field (field_len bytes: dest, and with
 * rules a NUL and the rules), then zero bytes up to len. The caller gives the block's one
 * size (xf_hs_block_len, dataplane/secure/xf_hs_block.h), so that the block's length never
 * depends on the field; this is the only place that pads it.
 * @return len, or -EINVAL (out NULL, len over XF_HELLO_SEALED_MAX), -EMSGSIZE (the field
 *         is over XF_PATH_MAX, NULL with a length, or does not fit: len - 10 bytes at most).
 */
long xf_proto_hello_seal(uint8_t *out, size_t len, uint32_t flags, uint32_t window,
                         const char *field, size_t field_len);

/**
 * Responder: read the sealed block message 1 carried (block, len bytes, decrypted and
 * verified but from the peer: checked like a wire field) into h, a HELLO decoded with
 * XF_HELLO_F_SEALED_OPTS: h->flags and h->window become the block's, judged by the
 * decoder's rules for a HELLO (reserved bits, flag pairs, the limit only with DELETE;
 * XF_HELLO_F_CLEAR_AEAD must be among them), and the field is read as
 * xf_proto_hello_field reads one (moved to the start of block: h points into it).
 * Padding must be zero bytes; a block of any length is read (keeping its length fixed is
 * the sender's part, docs/PROTOCOL.md 3.1.4). h is unchanged on failure.
 * @return XF_R_OK, XF_R_TRUNCATED (shorter than its fixed part or its field's length),
 *         XF_R_RESERVED (an unknown flag) or XF_R_FIELD.
 */
enum xf_proto_reason xf_proto_hello_unseal(struct xf_msg_hello *h, char *block, size_t len);

/** Name of a reject reason, for counters and logs ("truncated"). Never NULL. */
const char *xf_proto_reason_str(enum xf_proto_reason reason);

/** Name of a frame type ("FLIST"), or "?" for an unknown value. Never NULL. */
const char *xf_proto_type_str(unsigned int type);

/** Name of a file status (enum xf_file_status: "ok", "checksum"), as `xferctl jobs`
 *  reports a failed file's, or "?" for an unknown value. Never NULL. */
const char *xf_proto_status_str(unsigned int status);

/**
 * Read the next entry of a decoded FLIST.
 *
 * @param msg    A message decoded as XF_MSG_FLIST.
 * @param cursor Opaque position, 0 before the first call.
 * @param e      Filled with the entry.
 * @return true while an entry was read, false after the last one.
 */
bool xf_proto_flist_next(const struct xf_msg *msg, uint32_t *cursor, struct xf_flist_entry *e);

/**
 * Read the next record of a decoded FLIST's name table (XF_HDR_F_NAMES).
 *
 * @param msg    A message decoded as XF_MSG_FLIST.
 * @param cursor Opaque position, 0 before the first call.
 * @param rec    Filled with the record; rec->name points into the frame.
 * @return true while a record was read, false after the last one (or without a table).
 */
bool xf_proto_flist_name_next(const struct xf_msg *msg, uint32_t *cursor, struct xf_name_rec *rec);

/**
 * Whether len bytes at name are an account name the wire carries: 1..XF_ACCOUNT_NAME_MAX
 * bytes, none a control byte, space, DEL, '/' or ':' (so never NUL), as the decoder checks.
 */
bool xf_proto_name_ok(const char *name, size_t len);

/** Record i (< count) of a decoded DECISION / SIG / ACK / COMMIT. */
void xf_proto_decision_get(const struct xf_msg *msg, uint16_t i, struct xf_decision_rec *rec);
void xf_proto_sig_get(const struct xf_msg *msg, uint16_t i, struct xf_sig_rec *rec);
void xf_proto_ack_get(const struct xf_msg *msg, uint16_t i, struct xf_ack_range *range);
void xf_proto_commit_get(const struct xf_msg *msg, uint16_t i, struct xf_commit_fail *fail);

/**
 * Encode a message that has no arrays (HELLO, HELLO_ACK, DATA, COPY, FILE_END, DONE,
 * ABORT, PING), or whose arrays the caller passes as raw wire bytes. hdr.len is
 * computed; hdr.version is forced to XF_PROTO_VERSION.
 *
 * For DATA, msg->data.bytes is copied after the header. To build a DATA frame in
 * place (payload already in the buffer), use xf_proto_data_hdr_encode().
 *
 * @return bytes written, -EMSGSIZE if it does not fit in cap or XF_PAYLOAD_MAX,
 *         -EINVAL if a field is out of the range the decoder accepts.
 */
int xf_proto_encode(void *buf, size_t cap, const struct xf_msg *msg);

/**
 * Rewrite the packet number of an encoded frame in place: a retransmission is the same
 * bytes under a new number. @param frame At least XF_HDR_LEN bytes of an encoded frame.
 */
void xf_proto_set_pn(void *frame, uint64_t pn);

/** Set header flag bits (XF_HDR_F_*) of an encoded frame in place. */
void xf_proto_set_flags(void *frame, uint16_t flags);

/** Bytes of header in front of a DATA frame's payload (XF_HDR_LEN + DATA fields). */
#define XF_DATA_OVERHEAD (XF_HDR_LEN + 16u)

/**
 * Write the frame header and DATA fields into buf[0..XF_DATA_OVERHEAD) for a payload
 * of len bytes that the caller has placed (or will place) at buf + XF_DATA_OVERHEAD.
 * @param raw_len 0 for plain bytes; else the payload is a raw DEFLATE stream of that
 *                many bytes once inflated (1..XF_DATA_RAW_MAX).
 * @return XF_DATA_OVERHEAD + len, or -EMSGSIZE / -EINVAL.
 */
int xf_proto_data_hdr_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint64_t offset,
                             uint32_t len, uint32_t raw_len);

/**
 * As xf_proto_data_hdr_encode() for a file's one DATA frame with its end (XF_HDR_F_END,
 * offset 0): also writes the whole file's crc64 after the len bytes at
 * buf + XF_DATA_OVERHEAD, so buf must hold XF_DATA_OVERHEAD + len + XF_DATA_END_LEN.
 * @return that many bytes, or -EMSGSIZE / -EINVAL.
 */
int xf_proto_data_end_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint32_t len,
                             uint32_t raw_len, uint64_t crc64);

/**
 * Builder for frames with arrays (FLIST, DECISION, SIG, ACK, COMMIT): begin with the
 * header and the fixed fields in msg, add records until one does not fit, finish.
 */
struct xf_proto_builder {
	uint8_t *buf;
	size_t cap; /**< min(capacity, XF_HDR_LEN + max payload) */
	size_t len; /**< bytes used so far */
	uint16_t count;
	uint16_t limit; /**< most records this frame type allows */
	uint8_t type;
	size_t reserve; /**< bytes records leave free at the end (FLIST: its name table) */
	bool names;     /**< FLIST: xf_proto_build_names() added a table */
};

/**
 * @param cap Room in buf; also bounds the frame (pass the peer's max_payload).
 * @return 0, -EMSGSIZE if not even the fixed part fits, -EINVAL for a type without arrays.
 */
int xf_proto_build_begin(struct xf_proto_builder *b, void *buf, size_t cap,
                         const struct xf_msg *msg);

/** @return 0 if added; -ENOSPC if the frame is full (finish and start another);
 *  -EINVAL if the record is out of range (it would not decode). */
int xf_proto_build_flist(struct xf_proto_builder *b, const struct xf_flist_entry *e);
int xf_proto_build_decision(struct xf_proto_builder *b, const struct xf_decision_rec *rec);
int xf_proto_build_sig(struct xf_proto_builder *b, const struct xf_sig_rec *rec);
int xf_proto_build_ack(struct xf_proto_builder *b, const struct xf_ack_range *range);
int xf_proto_build_commit(struct xf_proto_builder *b, const struct xf_commit_fail *fail);

/**
 * Bytes the name table of an FLIST takes with n records whose names add name_bytes:
 * what a sender keeps free (xf_proto_builder.reserve) while it adds entries.
 */
static inline size_t
xf_proto_names_size(unsigned int n, size_t name_bytes)
{
	return n == 0 ? 0u : XF_NAMES_LEN + (size_t)n * XF_NAME_REC_LEN + name_bytes;
}

/**
 * Append the name table to an FLIST builder after its last entry and set XF_HDR_F_NAMES
 * (the frame must have XF_FLIST_F_OWNER). recs: strictly increasing by (kind, id), each
 * id carried by an entry of the frame (the decoder refuses the frame otherwise).
 * @return 0 (n == 0 appends nothing, to any FLIST); -ENOSPC if it does not fit (the reserve was too
 *         small); -EINVAL for a record that would not decode or an FLIST without owners.
 */
int xf_proto_build_names(struct xf_proto_builder *b, const struct xf_name_rec *recs,
                         unsigned int n);

/**
 * Patch counts and lengths.
 * @return total frame bytes, or -EINVAL if no record was added where one is required.
 */
int xf_proto_build_finish(struct xf_proto_builder *b);

#endif /* XF_PROTO_H */
