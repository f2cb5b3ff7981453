/* SPDX-License-Identifier: BSD-3-Clause */
/* unit-push: DELTA files, the receiver holding an older version of most of them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "push_harness.h"

/*
 * The receiver holds an older version of most files (bytes changed, inserted, deleted,
 * a file cut short, one grown); it answers DELTA with the signatures of its basis and
 * rebuilds each file from COPY (xf_delta_apply) and DATA. Over a lossy, reordering
 * channel every file must arrive identical, with most bytes matched, not sent.
 */
static void
delta_case(bool reader_matches)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;
	uint64_t total = 0, delta_total = 0;

	struct xf_lease_ring *ring;
	struct xf_lease_stats ls;

	push_setup(40, 60000, 3, 1, 10, 16);
	T.reader_matches = reader_matches;
	/* Small enough that some files' signatures go to the heap while others are held. */
	T.sig_ring = ring = xf_lease_create(2048);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	for (uint32_t i = 0; i < T.count; i++) {
		uint64_t size = T.ent[i].size;
		uint8_t *b;

		total += size;
		if (i % 4 == 0 || size < 2000) {
			continue; /* no basis: WHOLE */
		}
		b = malloc(size + 4096);
		memcpy(b, T.src[i], size);
		T.basis_size[i] = size;
		switch (i % 4) {
		case 1: /* a few bytes changed */
			for (int k = 0; k < 3; k++) {
				b[push_rnd() % size] ^= 0x5a;
			}
			break;
		case 2: /* 100 bytes deleted in the middle (the new file has them) */
			memmove(b + size / 2, b + size / 2 + 100, size - size / 2 - 100);
			T.basis_size[i] = size - 100;
			break;
		default: /* basis longer: junk appended; and the head changed */
			for (int k = 0; k < 4096; k++) {
				b[size + (uint64_t)k] = (uint8_t)push_rnd();
			}
			b[0] ^= 1;
			T.basis_size[i] = size + 4096;
			break;
		}
		T.basis[i] = b;
		delta_total += size;
	}
	/* A file whose DECISION claims an absurd block count: sent as literals only. */
	T.absurd_index = 0;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, T.count);
	CU_ASSERT_EQUAL(st.files_failed, 0);
	CU_ASSERT_EQUAL(T.committed, T.count);
	/* Every byte of every file went once, as a literal or as a match. */
	CU_ASSERT_EQUAL(st.bytes_literal + st.bytes_matched, total);
	CU_ASSERT(T.copied >= st.bytes_matched);  /* retransmitted COPYs apply again */
	CU_ASSERT(T.literal >= st.bytes_literal); /* retransmissions and duplicates */
	/* Most of the DELTA files' bytes were matched. */
	CU_ASSERT(st.bytes_matched > delta_total * 8 / 10);
	printf("\n  %llu bytes, %llu in DELTA files: %llu literal, %llu matched, %llu on the "
	       "wire\n",
	       (unsigned long long)total, (unsigned long long)delta_total,
	       (unsigned long long)st.bytes_literal, (unsigned long long)st.bytes_matched,
	       (unsigned long long)st.wire_bytes_sent);
	CU_ASSERT_EQUAL(T.delta_requests > 0, reader_matches);
	push_teardown();
	/* Arrays and maps came from the ring, and every one was given back: a new block is
	 * then all the ring holds. */
	xf_lease_stats(ring, &ls);
	printf("  signature arrays and maps: %llu from the ring, %llu from the heap\n",
	       (unsigned long long)ls.taken, (unsigned long long)ls.heap);
	CU_ASSERT(ls.taken > 0);
	CU_ASSERT_PTR_NOT_NULL(xf_lease_take(ring, 8));
	xf_lease_stats(ring, &ls);
	CU_ASSERT_EQUAL(ls.in_use, 16);
	xf_lease_destroy(ring);
}

void
push_test_delta(void)
{
	delta_case(false);
}

/* The same with the matcher in the reader (delta_request), as on the appliance. */
void
push_test_delta_reader_matches(void)
{
	delta_case(true);
}

/*
 * The receiver asks for a DELTA file again whole after its FILE_END (XF_HELLO_F_REDO, as
 * when its basis changed under it): the sender reads it again from the start and sends
 * it as marked DATA (no COPY) and a marked FILE_END, once, over a lossy channel; the
 * file commits identical and is counted in files_redone, not twice in files_sent.
 */
static void
redo_case(bool reader_matches)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(12, 60000, 3, 1, 10, 4);
	T.reader_matches = reader_matches;
	T.redo = true;
	for (uint32_t i = 0; i < T.count; i++) {
		uint64_t size = T.ent[i].size;

		if (size < 20000) {
			continue;
		}
		T.basis[i] = malloc(size);
		memcpy(T.basis[i], T.src[i], size);
		T.basis[i][size / 3] ^= 0x5a;
		T.basis_size[i] = size;
		if (T.redo_index == UINT32_MAX && i > 0) {
			T.redo_index = i; /* not the first: later files wait behind it */
		}
	}
	CU_ASSERT_FATAL(T.redo_index != UINT32_MAX);
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_TRUE(T.redo_asked);
	CU_ASSERT_EQUAL(st.files_redone, 1);
	CU_ASSERT_EQUAL(st.files_committed, T.count);
	CU_ASSERT_EQUAL(st.files_failed, 0);
	CU_ASSERT_EQUAL(st.files_sent, T.count);
	CU_ASSERT_EQUAL(T.committed, T.count);
	/* Every frame of the file's size again, and its FILE_END (the receiver's check of
	 * each FILE_END compares the rebuilt bytes with the source). */
	CU_ASSERT(T.redo_frames >= (T.ent[T.redo_index].size + (1472 - XF_DATA_OVERHEAD) - 1) /
	                                           (1472 - XF_DATA_OVERHEAD) +
	                                   1);
	CU_ASSERT(st.bytes_literal >= T.ent[T.redo_index].size);
	push_teardown();
}

void
push_test_redo(void)
{
	redo_case(false);
}

void
push_test_redo_reader_matches(void)
{
	redo_case(true);
}

/*
 * A paced session of DELTA files whose bases share nothing with them (the matcher in the
 * reader, as the engine runs it): every byte goes as a literal DATA frame. Those frames
 * count against the read-ahead until they are sent, as read frames of a WHOLE file do,
 * so the reads stay at most XF_PUSH_READ_AHEAD frames (and the requests in flight) ahead
 * of the wire, and each file's FILE_END queues behind no more than that: 0.36 MB here,
 * the bound 0.47 MB. (Counted only at the end of their requests, they let all
 * ACTIVE_FILES files be read ahead: 2.8 MB, and every FILE_END of a paced session then
 * comes near its end, and every commit with it.)
 */
void
push_test_delta_paced(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(100, 100000, 0, 0, 0, 1024);
	T.reader_matches = true;
	T.pace_rate = 2000000;
	for (uint32_t i = 0; i < T.count; i++) {
		uint64_t size = T.ent[i].size;

		T.basis[i] = malloc(size + 1);
		for (uint64_t k = 0; k < size; k++) {
			T.basis[i][k] = (uint8_t)push_rnd();
		}
		T.basis_size[i] = size;
	}
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, T.count);
	CU_ASSERT_EQUAL(st.bytes_matched, 0);
	printf("\n  paced DELTA: at most %llu bytes read ahead of the receiver\n",
	       (unsigned long long)T.max_unsent);
	CU_ASSERT(T.max_unsent <= (XF_PUSH_READ_AHEAD + 64) * 1472);
	push_teardown();
}
