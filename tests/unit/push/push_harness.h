/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness of unit-push: the in-memory channel that loses, duplicates and reorders
 * the sender's frames (seeded), the test reader, and the scripted receiver (see
 * test_push.c). Private to this test.
 */
#ifndef XF_PUSH_HARNESS_H
#define XF_PUSH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_base.h"
#include "xf_delta.h"
#include "xf_push.h"

#define MAX_FILES 300
#define MAX_Q     65536
#define TICK_NS   50000ull      /* 50 us of simulated time per loop turn */
#define START_NS  1000000000ull /* simulated time when a push starts */
#define RESEND_NS 20000000ull   /* the scripted receiver's retransmission timer */
#define MAX_HELD  1024          /* COMMIT and DONE frames the receiver keeps */

struct tframe {
	uint8_t buf[XF_PAYLOAD_MAX];
};

/* A datagram on the wire: a copy of the bytes. */
struct dgram {
	uint16_t len;
	uint64_t due; /* delivery time (ns) */
	uint64_t seq; /* send order: ties in due time keep it, as a wire does */
	uint8_t *bytes;
};

struct chan {
	struct dgram q[MAX_Q];
	unsigned int n;
};

struct rfile {
	uint8_t *data; /* rebuilt contents */
	uint64_t size;
	uint8_t decided;
	uint8_t decision;
	uint8_t settled;
	uint8_t failed;
	uint8_t opened; /* DATA came, its FILE_END not yet */
};

struct push_harness {
	/* the source tree, in memory */
	struct xf_flist_entry ent[MAX_FILES];
	char paths[MAX_FILES][32];
	uint8_t *src[MAX_FILES];
	uint32_t count;
	/* reader state per file */
	uint64_t crc[MAX_FILES];
	/* pending read requests */
	struct {
		uint32_t file;
		uint64_t off;
		uint32_t n, dl;
		bool delta;
	} reads[1024];
	unsigned int nreads;
	/* the channel */
	struct chan to_rx, to_tx;
	uint64_t now;
	uint64_t seq;
	uint64_t seed;
	unsigned int loss_pct, dup_pct, reorder_pct;
	/* the scripted receiver */
	struct rfile rf[MAX_FILES];
	uint32_t window;
	uint32_t total; /* from the sender's DONE, or UINT32_MAX */
	uint32_t committed;
	uint64_t rx_pn;   /* receiver's packet numbers */
	uint64_t largest; /* largest pn seen from the sender */
	uint8_t *seen;    /* pn seen, for the receiver's duplicate check */
	unsigned int dups_applied;
	unsigned int frames_alive;
	unsigned int refuse_index;     /* a file the receiver refuses, or UINT32_MAX */
	unsigned int giveups;          /* placeholder entries received (XF_FLIST_F_GIVEUP) */
	unsigned int unreadable_index; /* a file the sender cannot read, or UINT32_MAX */
	unsigned int busy_index;       /* a file the reader cannot start, or UINT32_MAX: */
	unsigned int busy_left;        /* answered -EMFILE (odd) or -ENOMEM this many times */
	bool sparse; /* the reader answers all-zero frames as holes, as the engine's does
	              * for frames in a hole of the file (xf_sparse_in_hole) */
	/* --compress: the reader compresses frames that shrink by 1/16 as the engine's does
	 * (raw_len), the receiver inflates them; zip is the state of both (push_run's). */
	bool compress;
	/* The receiver's HELLO_ACK asks for compressed DATA (its volume's volumes[].compress);
	 * no_compress: the push said --no-compress (cfg.compress_if_asked false). */
	bool vol_asks;
	bool no_compress;
	/* The receiver's HELLO_ACK says it takes a file's end in its one DATA frame
	 * (XF_HELLO_F_DATA_END), as every xferd receiver does: on by default (push_setup). It
	 * counts such frames (data_ends), and their copies after the file settled. */
	bool data_end;
	unsigned int data_ends, late_ends;
	unsigned int file_ends; /* FILE_END frames received, copies included */
	/* Files some DATA of which came and whose FILE_END did not yet: now, and the most at
	 * once. */
	unsigned int open_now, max_open;
	uint64_t one_way_ns; /* each frame's delay on the wire, both ways (200 us) */
	uint64_t done_ns;    /* simulated time at the end of push_run's push */
	struct xf_zip *zip;
	/* -o -g --owner-names: entry i has uid 1000 + i % 7 and gid 100 + i % 3; the sender
	 * names uid u "u<u>" and gid g "g<g>" except u % 7 == 6 (no name); the receiver
	 * checks every FLIST's table against that and counts the records (names_seen). */
	bool owner_names;
	unsigned int names_seen;
	unsigned int uptodate_index;
	bool done_sent;
	uint32_t session;
	uint64_t nonce;
	/* DELTA: the receiver's basis of a file (NULL: none, the file goes WHOLE) */
	uint8_t *basis[MAX_FILES];
	uint64_t basis_size[MAX_FILES];
	unsigned int absurd_index; /* a DELTA decision with an absurd block count */
	uint64_t copied, literal;  /* bytes applied from COPY and DATA frames */
	uint64_t wire_literal;     /* DATA bytes as they came (compressed or not) */
	uint64_t inflated;         /* compressed DATA frames inflated */
	/* The reader runs the matcher (delta_request), as the engine's workers do. */
	bool reader_matches;
	/* A receiver that closes as xferd's does, once its DONE is acknowledged, and drops
	 * everything after; its DONE goes out done_delay_ns after the last commit, and its
	 * ACKs of PINGs are lost (so a PING is unacknowledged when it closes). */
	bool close_on_done_ack;
	uint64_t done_delay_ns, done_at;
	uint64_t done_pn;
	bool rx_closed;
	unsigned int dropped_after_close, pings;
	/* The receiver's COMMIT and DONE frames, kept until acknowledged and sent again
	 * under a new packet number every RESEND_NS, as xferd's loss recovery does. */
	struct {
		uint8_t buf[XF_PAYLOAD_MAX];
		uint16_t len;
		uint64_t pn, sent_at;
		bool live;
	} held[MAX_HELD];
	unsigned int nheld, resends;
	bool resend_held;       /* the receiver sends unacknowledged COMMIT and DONE again */
	uint16_t commit_seq;    /* the next COMMIT's seq */
	uint64_t done_pn_first; /* the first DONE's packet number; done_pn: the latest */
	bool lose_final_commit; /* the COMMIT that settles the last file is lost, once */
	uint32_t fail_index;    /* a file that fails at commit (the receiver's checks), or
	                         * UINT32_MAX; its COMMIT arrives late_commit_ns late */
	uint64_t late_commit_ns;
	struct xf_delta_match *tm[MAX_FILES];
	struct xf_sig_rec *tsigs[MAX_FILES];
	struct xf_lease_ring *sig_ring; /* cfg.sig_ring (NULL: the heap) */
	unsigned int delta_requests;
	uint64_t fed[MAX_FILES];
	struct xf_push *cur_push;
	uint32_t cur_file;
	/* A receiver that, as xferd's, numbers its frames from a random value and takes
	 * FLIST, DATA, COPY and FILE_END only once the sender acknowledged its HELLO_ACK
	 * (docs/PROTOCOL.md 6.1); what it refuses before that is counted. */
	bool confirm_hello;
	bool confirmed;
	/* A slow receiver on a lossless wire: it reads nothing for the last stall_ns of every
	 * stall_period_ns (its pipeline full, its process descheduled); frames wait. */
	uint64_t stall_ns, stall_period_ns;
	/* cfg.reliab.pace_rate (bytes per second, 0: unpaced); with it the read-ahead, not
	 * the wire, is what bounds the reads. max_ahead: the most files the receiver had
	 * settled (FILE_END checked) beyond the first not yet settled, at any moment: what
	 * waits to be committed behind a file that is late. */
	uint64_t pace_rate;
	uint32_t max_ahead;
	/* The most bytes the sender had read (queued, literal or matched) and the receiver
	 * had not yet applied, at any moment: how far the reads ran ahead of the wire. */
	uint64_t max_unsent;
	/* Turns that ended with the sender waiting for the receiver alone
	 * (xf_push_waits_peer), and of them those where it had read requests out or a
	 * further poll found something to do: the engine skips its spin when it says so,
	 * which must then be true (every push_run checks). */
	unsigned int peer_waits, peer_waits_wrong;
	bool lose_pings;        /* the sender's PINGs are lost on the wire */
	bool unacked_hello;     /* the receiver answers the HELLO but never acknowledges it */
	unsigned int lose_acks; /* the sender's next ACK frames lost on the wire */
	uint64_t hello_ack_pn;
	unsigned int unconfirmed;
	/* AEAD (cfg.auth): the message 1 the HELLO must carry; the receiver's first
	 * plain_answers answers lack XF_HELLO_F_AEAD (a downgrade the sender must ignore). */
	const uint8_t *auth;
	uint16_t auth_len;
	unsigned int plain_answers;
	unsigned int hellos;
	/* cfg.seal_overhead (the tag the engine's sealing adds), and what frame_send got:
	 * frames, of them HELLOs, their bytes before any sealing */
	uint16_t seal_overhead;
	uint64_t sent_frames, sent_hellos, sent_bytes;
	/* push -i --delete (docs/PROTOCOL.md 6.14): the receiver's list of ndeleted
	 * deletions ("gone/N"), sent with its DONE last frame first, and again every
	 * millisecond until the DONE is acknowledged (it closes then: close_on_done_ack);
	 * the sender's buffer of them. */
	uint32_t ndeleted;
	unsigned int list_rounds;
	uint64_t list_next_ns;
	uint8_t deleted[16384];
	uint16_t items[MAX_FILES];
	/* XF_HELLO_F_REDO (cfg.redo): the receiver answers the first FILE_END of DELTA file
	 * redo_index with a DECISION WHOLE, XF_ST_REDO, and rebuilds it from the marked
	 * (XF_HDR_F_REDO) DATA that follows; unmarked frames of it after that are stale. */
	bool redo;
	uint32_t redo_index;
	bool redo_asked;
	unsigned int redo_frames, redo_stale;
};

/* The one state of the harness, which every case sets up and reads. */
extern struct push_harness T;

uint32_t push_rnd(void);
unsigned int push_deliver(struct chan *c, struct xf_push *p);
void push_setup(uint32_t count, uint64_t max_size, unsigned int loss, unsigned int dup,
                unsigned int reorder, uint32_t window);
void push_teardown(void);
void push_run(struct xf_push_stats *st, struct xf_reliab_stats *rs);

/* The cases of test_push_delta.c. */
void push_test_delta(void);
void push_test_delta_reader_matches(void);
void push_test_redo(void);
void push_test_redo_reader_matches(void);
void push_test_delta_paced(void);

#endif
