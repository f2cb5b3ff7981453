/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the sending side of a session (xf_push): its state and the functions its
 * three files share. One core runs a session, so the split is by concern, not by
 * owner thread. Which file writes which fields:
 *
 *   xf_push.c        the session's life and completion: cfg, io, rel, count,
 *                    files, state, peer_payload, credit, committed, peer_done,
 *                    hello_queued, abort_code; the frame records and the send queues
 *                    (pool, free_list, extra, nextra, q_*, rq_*, fq_tail);
 *   xf_push_send.c   the file list and whole-file data: done_sent, act, active,
 *                    fq_head, and a file's eof, give_up, decided, reqs, next_off, size,
 *                    crc64, handed;
 *   xf_push_delta.c  delta transfer: ops*, lit*, op_seq, emit_file, emit_err, and a
 *                    file's delta, block_size, block_count, sigs_got, match,
 *                    last_seq.
 *
 * Written by more than one of them, as frames, reads and acknowledgements move a file
 * along: next_list, read_ahead, pool_free, sig_blocks, st (the counters), and a file's
 * state, status, unacked, asked, got_off, dops, sigs and have (the reader takes the
 * signatures over once handed).
 */
#ifndef XF_PUSH_PRIV_H
#define XF_PUSH_PRIV_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "xf_base.h"
#include "xf_delta.h"
#include "xf_push.h"

/* Files whose data may be read at once: enough to keep small files pipelined. */
#define ACTIVE_FILES 64u
/* Frames asked of the reader in one request, and requests outstanding per file: a large
 * file keeps the reader READ_CHUNK * REQS_PER_FILE frames ahead. */
#define READ_CHUNK    32u
#define REQS_PER_FILE 4u
/* Frame records beyond the tracked slots and the read-ahead, for control frames. */
#define CONTROL_FRAMES 64u
/* DELTA: matcher ops waiting for a frame above which no more of a DELTA file is read. */
#define OPS_HIGH 512u
/* DELTA: signature blocks held at once over all files (8 bytes + 1 each); a file whose
 * signatures would exceed it is sent as literals only (a matcher with no blocks). */
#define SIG_BLOCKS_MAX (1u << 24)

enum file_state {
	F_UNLISTED = 0, /**< not yet in a FLIST frame (waiting for credit) */
	F_LISTED,       /**< listed, no decision yet */
	F_SIGWAIT,      /**< DELTA: collecting the basis signatures */
	F_QUEUED,       /**< WHOLE: waiting for a reading slot */
	F_READING,      /**< data being read and sent */
	F_DATA_DONE,    /**< every DATA frame sent; FILE_END once all are acknowledged */
	F_END_SENT,     /**< FILE_END sent; waiting for COMMIT */
	F_SETTLED,      /**< committed, up to date or failed */
};

/* One per file-list entry, so its fields are ordered by size: no padding (96 bytes, where
 * declaration order by meaning took 120; perf/memory/rss-per-entry.sh measures it). */
struct push_file {
	uint64_t got_off;  /**< end of the data delivered so far */
	uint64_t next_off; /**< offset of the next frame to ask for */
	uint64_t size;     /**< at eof: bytes read */
	uint64_t crc64;    /**< at eof */
	/* DELTA */
	struct xf_sig_rec *sigs;      /**< block_count records */
	uint8_t *have;                /**< per block: record received */
	struct xf_delta_match *match; /**< while reading */
	uint64_t last_seq;            /**< sequence number of its last op so far */
	uint32_t block_size;          /**< from the DECISION */
	uint32_t block_count;         /**< records expected (0: no usable basis) */
	uint32_t sigs_got;            /**< distinct records received */
	uint32_t dops;                /**< ops of this file waiting for a frame */
	/* every file */
	uint32_t unacked; /**< DATA frames sent, not yet acknowledged */
	uint32_t asked;   /**< frames asked for and not yet delivered or given up */
	uint8_t state;    /**< enum file_state */
	uint8_t status;   /**< enum xf_file_status once failed */
	uint8_t eof;      /**< the reader delivered the last frame */
	uint8_t give_up;  /**< F_QUEUED: give it up (this status) once it gets a slot */
	uint8_t decided;  /**< its DECISION arrived (DECIDED_ONCE), or a second one asked for
	                   *   it again whole (DECIDED_REDO) */
	uint8_t reqs;     /**< read requests outstanding */
	uint8_t delta;    /**< decided DELTA: the reader's data feeds the matcher */
	uint8_t handed;   /**< delta_request: the reader owns the signatures */
};

_Static_assert(sizeof(struct push_file) == 96, "push_file: one per entry, no padding");

/* How long the reader may refuse to start reads for want of a table entry or buffers,
 * with no frame delivered meanwhile, before the files it refuses fail as unreadable:
 * the session timeout's default, so a reader that never frees one does not hold the
 * job for ever. */
#define XF_PUSH_READ_RETRY_NS (10ull * 1000000000ull)

/* push_file.decided */
#define DECIDED_ONCE 1u
/* The receiver asked for the file again whole (DECISION WHOLE with XF_ST_REDO,
 * docs/PROTOCOL.md 6.19): its DATA and FILE_END carry XF_HDR_F_REDO. While its next_off
 * is 0 it has asked the reader for nothing yet, and what the reader answers for it is
 * the first attempt's (answers come in order, and the first request of the second
 * attempt waits until the first attempt's are all answered). */
#define DECIDED_REDO 2u

/* A matcher op waiting for a frame: DATA bytes are in the push's literal buffer. */
struct dop {
	uint8_t kind; /**< XF_DELTA_OP_* */
	uint32_t file;
	uint32_t len;
	uint64_t off;
	uint64_t src; /**< COPY: basis offset; DATA: offset in lit */
	uint64_t seq; /**< op sequence number */
};

/* push_frame.ra */
#define RA_READ  1u
#define RA_DELTA 2u

/* A frame the session holds: queued to send, or in flight in the reliability engine. */
struct push_frame {
	void *frame;
	uint8_t *payload;
	uint16_t len;
	uint8_t type;            /**< enum xf_msg_type */
	uint8_t retransmit;      /**< queued again after a loss */
	uint8_t ra;              /**< until its first transmission, counted in read_ahead
	                          *   (RA_READ) or in delta_queued (RA_DELTA) */
	uint32_t file;           /**< file index for DATA and FILE_END */
	struct push_frame *next; /**< send queue or free list */
};

struct xf_push {
	struct xf_push_cfg cfg;
	struct xf_push_io io;
	struct xf_reliab *rel;
	uint32_t count; /**< entries in the file list (read through io.entry) */
	struct push_file *files;
	enum xf_push_state state;

	uint16_t peer_payload; /**< min(ours, the peer's max_payload) once known */
	bool data_end;         /**< the receiver takes a file's end in its one DATA frame
	                        *   (XF_HELLO_F_DATA_END in its HELLO_ACK) */
	uint32_t credit;       /**< files with index < credit may be listed */
	uint32_t next_list;    /**< next index to put in a FLIST frame */
	uint32_t committed;    /**< receiver: every index below it is settled */
	uint16_t commit_seq;   /**< the seq of the receiver's next COMMIT to apply */
	/* Files the reader works on (F_READING), and files waiting for one of those slots
	 * (F_QUEUED, in decision order): polls look at these, never at the whole credit
	 * window (a scan of it per poll was a third of the sender's time on small files). A
	 * file read to its end leaves its slot: its FILE_END waits in no slot for its
	 * acknowledgements (end_ready), so a round trip per file does not bound how many
	 * files a second cross a long path. */
	uint32_t act[ACTIVE_FILES]; /**< in file-list order (act_add) */
	uint32_t active;
	uint32_t *queued;          /**< FIFO of file indices, a ring with room for every file */
	uint32_t fq_head, fq_tail; /**< free-running (at most two enqueues per file) */
	/** Files whose FILE_END may go (F_DATA_DONE, every DATA and COPY frame acknowledged,
	 *  no matcher op left: end_ready), a ring with room for every file: a file enters it
	 *  once per attempt, when the last of those comes true, and leaves it as its FILE_END
	 *  is queued (xf_push_check_file_ends). */
	uint32_t *due;
	uint32_t due_head, due_tail; /**< free-running */
	uint32_t reqs_out;   /**< read requests outstanding, every file's (a file read to its
	                      *   end may still have some, in no slot) */
	uint32_t read_ahead; /**< DATA frames asked of the reader and not yet sent once */
	/** DELTA frames (the matcher's DATA and COPY) queued and not yet sent once: the
	 * reader's answers for a DELTA file release their request's read_ahead at its end,
	 * not as their frames go, so this is what bounds how far DELTA files are read ahead
	 * of the wire (xf_push_schedule_reads), and how long a FILE_END queues behind them. */
	uint32_t delta_queued;
	uint32_t pool_free; /**< frame records free */
	bool done_sent;     /**< the empty LAST FLIST of an empty list is queued */
	bool peer_done;     /**< the receiver's DONE arrived */
	bool hello_queued;
	/** The first read the reader could not start for want of a table entry or buffers
	 *  (-EMFILE, -ENOMEM: many jobs at once) since it last delivered a frame of ours,
	 *  0 if none: such a file is asked for again, until XF_PUSH_READ_RETRY_NS pass
	 *  without a frame (xf_push_on_read). */
	uint64_t read_busy_since;

	struct push_frame *pool; /**< every frame record, allocated once */
	struct push_frame *free_list;
	struct push_frame *q_head, *q_tail;   /**< send queue, FIFO */
	struct push_frame *rq_head, *rq_tail; /**< retransmissions, sent first */

	struct xf_push_stats st;
	uint16_t abort_code;
	/** The peer's ABORT text (printable ASCII, NUL-terminated), "" if none came. */
	char peer_abort_msg[XF_ABORT_MSG_MAX + 1];

	/* DELTA: ops waiting for frames (FIFO) and their literal bytes. */
	struct dop *ops;
	size_t ops_head, ops_n, ops_cap;
	uint8_t *lit;
	size_t lit_head, lit_n, lit_cap;
	uint64_t op_seq;
	uint32_t emit_file; /**< file whose matcher is running (emit callback) */
	int emit_err;
	uint64_t sig_blocks; /**< signature records allocated over all files */
	/* Frame records beyond the pool: DATA ops of the reader's matcher that found the
	 * pool empty (its output per request is not bounded by the frames asked for). */
	struct push_frame **extra;
	uint32_t nextra;
	/* The receiver's list of deletions (cfg.deleted): the next index expected, and
	 * whether its LAST frame came. */
	uint32_t del_next;
	bool del_last;
};

/* ---- Small helpers of every file ---- */

/* The file's contents differ from the receiver's: kept for its itemized line. */
static inline void
mark_data(struct xf_push *p, uint32_t file)
{
	if (p->cfg.itemize && p->cfg.items != NULL && file < p->count) {
		p->cfg.items[file] |= XF_PUSH_ITEM_DATA;
	}
}

static inline void
enqueue(struct push_frame **head, struct push_frame **tail, struct push_frame *f)
{
	f->next = NULL;
	if (*tail != NULL) {
		(*tail)->next = f;
	} else {
		*head = f;
	}
	*tail = f;
}

static inline struct push_frame *
dequeue(struct push_frame **head, struct push_frame **tail)
{
	struct push_frame *f = *head;

	if (f != NULL) {
		*head = f->next;
		if (*head == NULL) {
			*tail = NULL;
		}
		f->next = NULL;
	}
	return f;
}

static inline struct xf_hdr
hdr_for(const struct xf_push *p, uint8_t type)
{
	struct xf_hdr h = { .type = type, .session = p->cfg.session_id };

	return h;
}

/* The header of a file's DATA or FILE_END: marked when it is its second attempt. */
static inline struct xf_hdr
hdr_for_file(const struct xf_push *p, uint8_t type, const struct push_file *f)
{
	struct xf_hdr h = hdr_for(p, type);

	if (f->decided == DECIDED_REDO) {
		h.flags |= XF_HDR_F_REDO;
	}
	return h;
}

/*
 * act[] is kept in file-list order: reads are asked in its order (xf_push_schedule_reads),
 * so where the read-ahead is what limits them (a paced or congested session) the first
 * file of the list that waits for a read gets it. The receiver commits in list order: a
 * file read late holds every file after it uncommitted, until the session's end if
 * later files keep overtaking it. Neither the order files take a slot in (the order they
 * became ready: a DELTA file waits for the receiver's signatures) nor moving the last
 * file into a freed slot keeps that order.
 */
static inline void
act_add(struct xf_push *p, uint32_t idx)
{
	uint32_t k = p->active;

	while (k > 0 && p->act[k - 1] > idx) {
		p->act[k] = p->act[k - 1];
		k--;
	}
	p->act[k] = idx;
	p->active++;
}

static inline void
act_remove(struct xf_push *p, uint32_t idx)
{
	for (uint32_t k = 0; k < p->active; k++) {
		if (p->act[k] == idx) {
			memmove(&p->act[k], &p->act[k + 1],
			        (p->active - k - 1) * sizeof(p->act[0]));
			p->active--;
			return;
		}
	}
}

/*
 * Called where a file may have become ready for its FILE_END: it reached F_DATA_DONE, its
 * last unacknowledged DATA or COPY frame was acknowledged, or its last matcher op was
 * let go. Ready is F_DATA_DONE with neither left, and neither count rises again in that
 * state, so each attempt of a file enters p->due once.
 */
static inline void
end_ready(struct xf_push *p, uint32_t idx)
{
	const struct push_file *f = &p->files[idx];

	if (f->state == F_DATA_DONE && f->unacked == 0 && f->dops == 0) {
		assert(p->due_tail - p->due_head < p->count); /* one entry a file at most */
		p->due[p->due_tail++ % p->count] = idx;
	}
}

/* ---- xf_push.c ---- */

/*
 * A record and a buffer for a control frame. Records for the DATA frames the reader
 * was asked for are reserved: control frames never take them, so a delivered frame
 * always finds a record.
 */
struct push_frame *xf_push_pf_get(struct xf_push *p);

/* A record for a DATA frame of the reader's matcher: reserved ones first, else a new
 * one (it joins the free list when done, so the pool only grows to the peak). */
struct push_frame *xf_push_pf_take(struct xf_push *p);

void xf_push_pf_put(struct xf_push *p, struct push_frame *f);

/* A file decided WHOLE or DELTA waits for a reading slot. */
void xf_push_enqueue_file(struct xf_push *p, uint32_t idx);

void xf_push_settle(struct xf_push *p, uint32_t idx, uint8_t status);

/* Encode a fixed message into a new frame and queue it. */
int xf_push_queue_msg(struct xf_push *p, const struct xf_msg *msg, uint32_t file);

/* Queue a frame of an array type with no records (an empty LAST FLIST). */
int xf_push_queue_msg_built(struct xf_push *p, const struct xf_msg *msg);

void xf_push_queue_abort(struct xf_push *p, uint16_t code, const char *why);

void xf_push_enter_aborted(struct xf_push *p, uint16_t code);

/* ---- xf_push_send.c ---- */

/* List as many entries as credit and the frame pool allow. */
bool xf_push_send_flist(struct xf_push *p);

uint32_t xf_push_frame_data_len(const struct xf_push *p);

/*
 * We cannot send a file the receiver is waiting for (its read failed): tell it with a
 * FILE_END carrying the status, at once (its data is void, so nothing needs waiting
 * for). The file settles, as failed, with the receiver's COMMIT.
 */
void xf_push_give_up(struct xf_push *p, uint32_t idx, uint8_t status);

/* Start reading queued files, and ask the reader for more frames of active ones. */
bool xf_push_schedule_reads(struct xf_push *p);

/* FILE_END for files whose data is all acknowledged. Regular files only. */
bool xf_push_check_file_ends(struct xf_push *p);

/* Queue a DATA frame the reader filled (its header of len bytes written) for sending. */
void xf_push_queue_data(struct xf_push *p, struct push_file *f, struct push_frame *pf,
                        const struct xf_push_read *rd, int len, bool read_ahead);

void xf_push_on_decisions(struct xf_push *p, const struct xf_msg *msg);

/* ---- xf_push_delta.c ---- */

void xf_push_delta_free(struct xf_push *p, struct push_file *f);

/* Frames for queued ops, in order. */
bool xf_push_drain_ops(struct xf_push *p);

/* A DELTA decision: collect the signatures (SIG frames, any order), then read. */
void xf_push_delta_begin(struct xf_push *p, uint32_t idx, const struct xf_decision_rec *d);

/* An op from the reader's matcher (delta_request). */
void xf_push_delta_op(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd);

/*
 * SIG records of a file. False if the frame cannot be taken yet (its DECISION has not
 * arrived: then it is not acknowledged and comes again).
 */
bool xf_push_on_sig(struct xf_push *p, const struct xf_msg *msg);

/* Data of a DELTA file from the reader: through the matcher, the frame is not sent. */
void xf_push_delta_feed(struct xf_push *p, struct push_file *f, const struct xf_push_read *rd);

/* Entry i of the file list, from its owner (io.entry): the session keeps no copy. */
static inline struct xf_flist_entry
xf_push_entry(const struct xf_push *p, uint32_t i)
{
	struct xf_flist_entry e;

	p->io.entry(p->io.arg, i, &e);
	return e;
}

#endif /* XF_PUSH_PRIV_H */
