/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Noise IKpsk2 handshake (Noise_IKpsk2_25519_AESGCM_SHA256, Noise rev 34 sections 5,
 * 7, 9 and 11; WireGuard's pattern) and its DoS protection (WireGuard's mac1, mac2 and
 * cookie reply, on HMAC-SHA256 and AES-256-GCM). docs/SECURITY.md gives every message
 * byte by byte.
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss          message 1 (XF_NOISE_MSG1_LEN + n), payload: TAI64N timestamp,
 *                            then n bytes of the caller's (the HELLO's destination field)
 *   <- e, ee, se, psk        message 2 (XF_NOISE_MSG2_LEN), payload: empty
 *
 * Every primitive comes from OpenSSL 3.0 (X25519, SHA-256, HMAC, AES-256-GCM), or from
 * ipsec-mb for a bound cookie jar's work: every mac1 and mac2 an RX core makes or checks,
 * both roles, and the cookie replies it seals or opens; this file is only the state
 * machine. Pure C, no EAL, no allocation on the caller's behalf beyond OpenSSL's own
 * short-lived contexts and a jar's manager, made when it is bound (the responder's
 * handshake and the initiator's Diffie-Hellman run on the engine's handshake thread,
 * xf_hs_queue.h; mac1, mac2 and cookie replies on the RX core: docs/SECURITY.md 8.2). Every
 * length and field of a received message is checked; a message that fails is rejected
 * with a distinct errno and leaves no state behind.
 */
#ifndef XF_NOISE_H
#define XF_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_crypto.h"

#define XF_NOISE_KEY_LEN    32u /**< X25519 keys, PSK, chaining key, hash */
#define XF_NOISE_MAC_LEN    16u /**< mac1, mac2 (HMAC-SHA256 truncated) */
#define XF_NOISE_COOKIE_LEN 16u /**< cookie (HMAC-SHA256 truncated) */
#define XF_NOISE_TAI64N_LEN 12u /**< timestamp payload of message 1 */

/** Message types (first byte; bytes 1..3 are zero). */
enum xf_noise_type {
	XF_NOISE_MSG1 = 1,   /**< initiation */
	XF_NOISE_MSG2 = 2,   /**< response */
	XF_NOISE_COOKIE = 3, /**< cookie reply */
};

#define XF_NOISE_MSG1_LEN       148u /**< 4+4+32+48+28+16+16: with no payload of the caller's */
#define XF_NOISE_MSG2_LEN       76u  /**< 4+4+4+32+16+16 */
#define XF_NOISE_COOKIE_LEN_MSG 52u  /**< 4+4+12+16+16 */

/** Most bytes of the caller's payload message 1 carries after its timestamp (XF_PATH_MAX:
 *  the HELLO's destination field, docs/SECURITY.md 2.1). */
#define XF_NOISE_PAYLOAD_MAX 4095u
/** The longest message 1: its payload at XF_NOISE_PAYLOAD_MAX. */
#define XF_NOISE_MSG1_MAX (XF_NOISE_MSG1_LEN + XF_NOISE_PAYLOAD_MAX)

/** Seconds a cookie secret (responder) and a received cookie (initiator) stay valid. */
#define XF_NOISE_COOKIE_SECS 120u

/** What the prologue binds: a peer that saw other values derives other keys. */
struct xf_noise_prologue {
	uint8_t version;       /**< protocol version */
	uint32_t capabilities; /**< capability flags offered */
	bool has_options;      /**< options follow the capabilities in the prologue */
	uint32_t options;      /**< what an offer says beyond its flags (the HELLO's window:
	                            the deletion limit of a session with XF_HELLO_F_DELETE) */
	uint32_t flags_hi;     /**< capability flags beyond those in capabilities (the HELLO's
	                            flags from bit 16 on), after the options when nonzero */
};

/** This appliance's static key pair and the keys derived from its public key. */
struct xf_noise_static {
	uint8_t priv[XF_NOISE_KEY_LEN];
	uint8_t pub[XF_NOISE_KEY_LEN];
	uint8_t mac1_key[XF_NOISE_KEY_LEN];   /**< SHA256("mac1----" || pub) */
	uint8_t cookie_key[XF_NOISE_KEY_LEN]; /**< SHA256("cookie--" || pub) */
};

/** A peer: its public key, the PSK, and per-peer handshake state. */
struct xf_noise_peer {
	uint8_t pub[XF_NOISE_KEY_LEN];
	uint8_t psk[XF_NOISE_KEY_LEN];        /**< all zero when no PSK is configured */
	uint8_t mac1_key[XF_NOISE_KEY_LEN];   /**< SHA256("mac1----" || pub) */
	uint8_t cookie_key[XF_NOISE_KEY_LEN]; /**< SHA256("cookie--" || pub) */
	uint8_t last_ts[XF_NOISE_TAI64N_LEN]; /**< greatest accepted timestamp (responder) */
	uint8_t cookie[XF_NOISE_COOKIE_LEN];  /**< cookie from this peer (initiator) */
	uint64_t cookie_ns;                   /**< when it arrived (monotonic ns) */
	bool has_cookie;
	uint8_t last_mac1[XF_NOISE_MAC_LEN]; /**< mac1 of our last message 1 to it */
	bool sent_mac1;
};

/**
 * Responder-side cookie state: a secret replaced every XF_NOISE_COOKIE_SECS. One per RX
 * core, whose initiator's side (xf_noise_initiate_jar) uses its manager too. Zeroed,
 * xf_noise_check_macs computes its MACs with OpenSSL's one-shot HMAC (about 13 allocations each),
 * xf_noise_cookie_reply seals with OpenSSL's EVP AES-GCM (a context each) and each new secret and
 * reply nonce comes from RAND_bytes. After xf_noise_cookie_jar_init the whole under-load path
 * (mac1, mac2, a new secret, the cookie reply) runs on ipsec-mb, on the jar's own manager
 * (xf_crypto_mgr_create_hmac: SHA-NI, which the core's AVX-512 manager for frames does not use for
 * HMAC) from keys prepared there once, and allocates nothing and calls no RNG: the RX core's path
 * (docs/SECURITY.md 3). A new
 * secret is then HMAC(seed, its number), the seed random from init (a PRF: as unknowable
 * as a random secret to whoever lacks the seed, and the jar's memory holds the secret
 * anyway); a reply's nonce is a random base from init XOR the reply's number, never the
 * same twice on one core (xf_crypto_nonce).
 */
struct xf_noise_cookie_jar {
	uint8_t secret[XF_NOISE_KEY_LEN];
	uint64_t born_ns;
	bool ready;
	struct xf_crypto_mgr *mgr;           /**< the jar's, for HMAC (NULL: OpenSSL) */
	const struct xf_noise_static *local; /**< whose mac1 key mac1 is */
	struct xf_crypto_hmac_key mac1;      /**< local->mac1_key, prepared */
	struct xf_crypto_hmac_key secret_hk; /**< secret, prepared (when ready) */
	struct xf_crypto_hmac_key seed;      /**< random at init: makes the next secrets */
	uint64_t secrets;                    /**< secrets made from seed */
	struct xf_crypto_key reply_key;      /**< local->cookie_key, iv a random nonce base */
	uint64_t replies;                    /**< cookie replies sealed under reply_key */
};

/** A handshake in progress (either role). Wiped when it ends. */
struct xf_noise_hs {
	uint8_t ck[XF_NOISE_KEY_LEN];
	uint8_t h[XF_NOISE_KEY_LEN];
	uint8_t k[XF_NOISE_KEY_LEN];
	bool has_k;
	uint64_t n;
	uint8_t e_priv[XF_NOISE_KEY_LEN];
	uint8_t e_pub[XF_NOISE_KEY_LEN];
	uint8_t re[XF_NOISE_KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
	bool initiator;
	int state; /**< internal: which message comes next */
	const struct xf_noise_static *local;
	struct xf_noise_peer *peer;
	/** Initiator: the jar whose manager makes message 1's mac1 and mac2, checks message
	 *  2's mac1 and opens a cookie reply (xf_noise_initiate_jar); NULL: OpenSSL. */
	struct xf_noise_cookie_jar *jar;
};

/** The result of a finished handshake: one 32-byte traffic secret per direction. */
struct xf_noise_keys {
	uint8_t send[XF_NOISE_KEY_LEN];
	uint8_t recv[XF_NOISE_KEY_LEN];
	uint8_t hash[XF_NOISE_KEY_LEN]; /**< handshake hash h, binds the transcript */
	uint32_t local_index;
	uint32_t remote_index;
	bool initiator;
};

/** New random private key and its public key. @return 0 or -EIO. */
int xf_noise_keygen(uint8_t *priv, uint8_t *pub);

/** Public key of a private key. @return 0 or -EIO. */
int xf_noise_pubkey(const uint8_t *priv, uint8_t *pub);

/** Fill a static key pair (derives pub, mac1 and cookie keys). @return 0 or -EIO. */
int xf_noise_static_init(struct xf_noise_static *s, const uint8_t *priv);

/**
 * Fill a peer. @param psk 32 bytes, or NULL for the all-zero PSK (as WireGuard without a
 * preshared key: the handshake then rests on the static and ephemeral keys alone).
 * @return 0 or -EIO.
 */
int xf_noise_peer_init(struct xf_noise_peer *p, const uint8_t *pub, const uint8_t *psk);

/** TAI64N label of a Unix time in nanoseconds (12 bytes, big-endian, orders as time). */
void xf_noise_tai64n(uint64_t unix_ns, uint8_t *out);

/**
 * Initiator: write message 1, XF_NOISE_MSG1_LEN + payload_len bytes.
 * @param e_priv Ephemeral private key, or NULL for a fresh random one (tests fix it).
 * @param unix_ns Wall clock for the timestamp; @param mono_ns monotonic clock (cookie age).
 * @param payload, payload_len What message 1 carries after its timestamp, encrypted and
 *        authenticated with it under the keys of es and ss (Noise's message payload), and
 *        so bound to the handshake: at most XF_NOISE_PAYLOAD_MAX bytes (NULL when 0).
 * mac1 and mac2 with OpenSSL's HMAC() (13 allocations each): where no RX core is
 * involved (tests, tools); the engine splits it (xf_noise_initiate_noise on its handshake
 * thread, xf_noise_initiate_macs on the RX core).
 * @return 0, -EINVAL, -EIO (OpenSSL failure, or a low-order peer key).
 */
int xf_noise_initiate(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                      struct xf_noise_peer *peer, const struct xf_noise_prologue *pro,
                      uint32_t local_index, const uint8_t *e_priv, uint64_t unix_ns,
                      uint64_t mono_ns, const uint8_t *payload, size_t payload_len, uint8_t *msg);

/**
 * Initiator with a jar: xf_noise_initiate with message 1's mac1 and mac2 made on jar's
 * manager (a jar bound by xf_noise_cookie_jar_init, of the calling thread, which alone
 * uses it), the peer's mac1 key and the cookie prepared per message: no allocation for
 * them, where OpenSSL's HMAC() makes 13 each. The handshake keeps the jar: its
 * xf_noise_consume_response checks message 2's mac1 there (from the jar's prepared key
 * when the jar is bound to local), and xf_noise_consume_cookie opens a cookie reply with
 * ipsec-mb's AES-GCM; neither allocates for it. The messages are byte for byte
 * xf_noise_initiate's. The X25519, HKDF, hashing and AEAD of the handshake stay
 * OpenSSL's: the engine runs them on its handshake thread instead (xf_noise_initiate_noise,
 * below), and on the RX core only what this adds (xf_noise_initiate_macs).
 * @return as xf_noise_initiate; -EINVAL also for a jar that is not bound.
 */
int xf_noise_initiate_jar(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar,
                          const struct xf_noise_static *local, struct xf_noise_peer *peer,
                          const struct xf_noise_prologue *pro, uint32_t local_index,
                          const uint8_t *e_priv, uint64_t unix_ns, uint64_t mono_ns,
                          const uint8_t *payload, size_t payload_len, uint8_t *msg);

/**
 * Initiator, in two halves, so that the costly one runs off the RX core (the engine's
 * handshake thread, xf_hs_queue.h): xf_noise_initiate_noise writes message 1 without its
 * MACs (XF_NOISE_MSG1_LEN + payload_len bytes, mac1 and mac2 zero): both X25519, the
 * HKDF, the hashing and the AEAD, all OpenSSL's, which allocates. hs then points at peer
 * (its public key is all it reads) and waits for xf_noise_initiate_macs, which adds mac1
 * and mac2 on jar's manager (as xf_noise_initiate_jar: no allocation) for peer (the
 * caller's state of it: its cookie, and the last mac1 sent it, kept for a cookie reply)
 * and makes hs point at peer and jar. The two in turn write the bytes
 * xf_noise_initiate_jar writes.
 * @return as xf_noise_initiate; xf_noise_initiate_macs: -EINVAL also for a jar not bound
 *         or an hs that xf_noise_initiate_noise did not make.
 */
int xf_noise_initiate_noise(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                            struct xf_noise_peer *peer, const struct xf_noise_prologue *pro,
                            uint32_t local_index, const uint8_t *e_priv, uint64_t unix_ns,
                            const uint8_t *payload, size_t payload_len, uint8_t *msg);
int xf_noise_initiate_macs(struct xf_noise_hs *hs, struct xf_noise_cookie_jar *jar,
                           struct xf_noise_peer *peer, uint64_t mono_ns, uint8_t *msg, size_t len);

/**
 * Responder, before any Diffie-Hellman: check the type, length and mac1 of a message 1
 * (XF_NOISE_MSG1_LEN to XF_NOISE_MSG1_MAX bytes, mac1 and mac2 its last 32) or 2, and
 * mac2 when under load.
 * @param src, src_len The sender's address as seen on the wire (bound into the cookie).
 * @return 0 (go on), -EBADMSG (length/type/mac1 wrong: drop), -EAGAIN (under load and
 *         mac2 missing or wrong: answer with xf_noise_cookie_reply, do nothing else).
 */
int xf_noise_check_macs(const struct xf_noise_static *local, struct xf_noise_cookie_jar *jar,
                        const uint8_t *msg, size_t len, const uint8_t *src, size_t src_len,
                        bool under_load, uint64_t mono_ns);

/**
 * Responder under load: write a cookie reply to a message 1 (msg1_len bytes) whose mac1
 * was checked. With a jar bound to local by xf_noise_cookie_jar_init and nonce NULL: no
 * allocation, no RNG (the jar's next nonce, ipsec-mb's AES-GCM).
 * @param nonce 12 bytes (tests fix it: then OpenSSL seals), or NULL: the jar's next one
 *        (bound), else random.
 * @return 0, -EINVAL or -EIO.
 */
int xf_noise_cookie_reply(const struct xf_noise_static *local, struct xf_noise_cookie_jar *jar,
                          const uint8_t *msg1, size_t msg1_len, const uint8_t *src, size_t src_len,
                          const uint8_t *nonce, uint64_t mono_ns, uint8_t *out);

/**
 * Bind a jar (zeroed, or bound before) to our static key, on a manager of its own made
 * here (xf_crypto_mgr_create_hmac; kept when the jar has one): mac1 checks (and mac2, new
 * secrets, cookie replies) against local then allocate nothing. Not on the fast path
 * (makes the manager, prepares keys, draws the seed and the nonce base with RAND_bytes).
 * Its thread alone uses the jar then. Free with xf_noise_cookie_jar_fini.
 * @return 0, -EINVAL, -ENOMEM/-ENOTSUP (no manager), or -EIO (no random bytes).
 */
int xf_noise_cookie_jar_init(struct xf_noise_cookie_jar *jar, const struct xf_noise_static *local);

/** Free a jar's manager and wipe the jar (zeroed after: OpenSSL's again). NULL: no-op. */
void xf_noise_cookie_jar_fini(struct xf_noise_cookie_jar *jar);

/** Set a cookie secret (tests); otherwise the jar draws a random one when it expires. */
void xf_noise_cookie_jar_set(struct xf_noise_cookie_jar *jar, const uint8_t *secret,
                             uint64_t mono_ns);

/**
 * Initiator: take a cookie reply for our last message 1 to peer; the next message 1
 * carries mac2. @return 0, -EBADMSG (length, type, index or tag wrong), -ENOENT (no
 * message 1 outstanding).
 */
int xf_noise_consume_cookie(struct xf_noise_hs *hs, const uint8_t *msg, size_t len,
                            uint64_t mono_ns);

/**
 * Responder: read message 1 (after xf_noise_check_macs). Finds the peer among peers by
 * the decrypted static key, decrypts the timestamp and the payload (one AEAD: a byte
 * changed anywhere in them fails it), checks the timestamp against the peer's last one
 * and only then records it.
 * @param payload Receives the payload, len - XF_NOISE_MSG1_LEN bytes (NULL allowed when
 *        that is 0); written only on success.
 * @return 0; -EBADMSG (malformed or fails to decrypt), -ENOKEY (unknown static key),
 *         -EALREADY (timestamp not newer: a replay), -EIO.
 */
int xf_noise_consume_initiation(struct xf_noise_hs *hs, const struct xf_noise_static *local,
                                struct xf_noise_peer *peers, size_t npeers,
                                const struct xf_noise_prologue *pro, const uint8_t *msg, size_t len,
                                uint8_t *payload);

/**
 * Responder: write message 2 and finish. @param e_priv as in xf_noise_initiate.
 * @return 0, -EINVAL (wrong state), -EIO.
 */
int xf_noise_respond(struct xf_noise_hs *hs, uint32_t local_index, const uint8_t *e_priv,
                     uint8_t *msg, struct xf_noise_keys *keys);

/**
 * Initiator: read message 2 and finish.
 * @return 0, -EBADMSG (malformed, mac1 wrong, index wrong, fails to decrypt), -EINVAL
 *         (wrong state), -EIO.
 */
int xf_noise_consume_response(struct xf_noise_hs *hs, const uint8_t *msg, size_t len,
                              struct xf_noise_keys *keys);

/**
 * Initiator, xf_noise_consume_response in two halves: xf_noise_response_check is what it
 * does before any Diffie-Hellman (the length, type and receiver index, and mac1, on hs's
 * jar: no allocation), on the RX core; xf_noise_response_finish the rest (ee, se, psk,
 * the empty payload's tag: OpenSSL's), on the handshake thread, on a copy of hs whose peer
 * holds the PSK. A failure of either leaves hs as it was.
 * @return as xf_noise_consume_response.
 */
int xf_noise_response_check(const struct xf_noise_hs *hs, const uint8_t *msg, size_t len);
int xf_noise_response_finish(struct xf_noise_hs *hs, const uint8_t *msg, size_t len,
                             struct xf_noise_keys *keys);

/**
 * X25519 operations (Diffie-Hellman) the calling thread has done since it started: a
 * thread-local count, so that an RX core can show it did none (docs/SECURITY.md 3).
 */
uint64_t xf_noise_dh_ops(void);

/** Wipe a handshake (also done by every function that ends one). */
void xf_noise_hs_wipe(struct xf_noise_hs *hs);

#endif /* XF_NOISE_H */
