/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An in-memory sender for the in-process pipeline (tests, EAL test, benchmark): it
 * plays the pushing side of one session on the RX core that owns the session. Its
 * source callback produces encoded frames (FLIST within the credit, then DATA and
 * FILE_END for the files the receiver decided WHOLE; for DELTA files, once their SIG
 * frames are in, the matcher's COPY and DATA frames), optionally shuffled and
 * duplicated with a seed; its transmit callback decodes the receiver's DECISION,
 * COMMIT and DONE frames. A FILE_END always follows every DATA frame of its file, as
 * the protocol guarantees (FILE_END only after all the file's data was acknowledged).
 * Not a data-path module: it allocates as it goes.
 */
#ifndef XF_MEMSEND_H
#define XF_MEMSEND_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_pipeline.h"

struct xf_memsend;

struct xf_memsend_file {
	const char *path;        /**< relative path, NUL-terminated (sent as is) */
	uint8_t kind;            /**< enum xf_file_kind */
	uint32_t mode;           /**< permission bits */
	int64_t mtime_ns;        /**< modification time */
	uint64_t size;           /**< REG: bytes of data */
	const uint8_t *data;     /**< REG: contents */
	const char *target;      /**< SYMLINK: target */
	uint64_t crc_xor;        /**< tests: XORed into the FILE_END CRC64 (0: correct) */
	uint64_t copy_shift;     /**< tests: added to every COPY's destination offset, as a
	                          *   hostile sender would (0: none) */
	uint64_t copy_src_shift; /**< tests: added to every COPY's basis offset (0: none) */
	bool sparse;             /**< WHOLE: DATA frames of zeros are not sent, as a sender
	                          *   does for the holes of a sparse file */
	uint64_t omit_at;        /**< tests: the DATA frame at offset omit_at - 1 is never
	                          *   sent, as if lost unannounced (0: none) */
	uint64_t end_shift;      /**< tests: added to FILE_END's size (0: none) */
	uint64_t list_extra;     /**< tests: added to the size the file list announces, as
	                          *   for a file that shrank after it was listed (0: none) */
};

/**
 * Frame buffer allocator: returns the owner (released through the pipeline's release
 * callback) and sets *buf to at least cap bytes, or returns NULL when none is free.
 */
typedef void *(*xf_memsend_alloc_fn)(void *arg, uint8_t **buf, uint32_t cap);

struct xf_memsend_conf {
	const struct xf_memsend_file *files;
	uint32_t nfiles;
	uint32_t session;          /**< wire session id */
	uint16_t max_payload;      /**< frame size (both directions) */
	uint32_t window;           /**< initial credit (the receiver's window) */
	uint64_t seed;             /**< shuffle and duplicate choices */
	bool shuffle;              /**< send ready frames in random order */
	unsigned int dup_permille; /**< chance that a sent frame is sent once more later */
	xf_memsend_alloc_fn alloc; /**< NULL: a built-in pool (release: xf_memsend_release) */
	void *alloc_arg;
	/** tests: called when every signature of DELTA file i is in, before its COPY and
	 *  DATA frames are queued (e.g. to change the basis under the receiver). */
	void (*on_sigs)(void *arg, uint32_t file);
	void *on_sigs_arg;
	/** Answer a DECISION WHOLE with XF_ST_REDO (the session's HELLO had
	 *  XF_HELLO_F_REDO) by sending the file again whole, its frames marked
	 *  XF_HDR_F_REDO; once per file. */
	bool redo;
	/** tests: with redo, send a COPY and a DATA frame of the first attempt (unmarked)
	 *  right after the redo decision, as late retransmissions would arrive. */
	bool redo_stale;
	const void *const *raw; /**< tests: raw frames sent first, as they are */
	const uint32_t *raw_len;
	unsigned int nraw;
};

/** @return the sender, or NULL (errno EINVAL, ENOMEM). */
struct xf_memsend *xf_memsend_create(const struct xf_memsend_conf *conf);
void xf_memsend_destroy(struct xf_memsend *ms);

/** xf_pipeline_source_fn: next frames to receive (arg: the sender). */
unsigned int xf_memsend_source(void *arg, struct xf_frame *out, unsigned int max);

/** xf_pipeline_tx_fn: a frame the receiver sent (arg: the sender). */
void xf_memsend_tx(void *arg, const void *frame, unsigned int len);

/** xf_pipeline_release_fn for the built-in pool (arg unused). Any thread. */
void xf_memsend_release(void *arg, void *owner);

/** The receiver sent DONE. */
bool xf_memsend_done(const struct xf_memsend *ms);

/** Decision received for file i (0 if none). */
uint8_t xf_memsend_decision(const struct xf_memsend *ms, uint32_t i);

/** Final status of file i: a REFUSED decision's status or a COMMIT failure, else 0. */
uint8_t xf_memsend_status(const struct xf_memsend *ms, uint32_t i);

/** Counters: frames sent (with duplicates), duplicates, COMMIT frames received,
 *  the DONE frame's file count. */
struct xf_memsend_stats {
	uint64_t frames;
	uint64_t dups;
	uint64_t commits;
	uint32_t done_files;
	uint32_t committed;
	uint32_t sig_files;     /**< DELTA files whose signatures all arrived */
	uint64_t literal_bytes; /**< DELTA: bytes sent as DATA */
	uint64_t matched_bytes; /**< DELTA: bytes sent as COPY */
	uint32_t redone;        /**< files sent again whole (conf.redo) */
};
const struct xf_memsend_stats *xf_memsend_stats(const struct xf_memsend *ms);

#endif /* XF_MEMSEND_H */
