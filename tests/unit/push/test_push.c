/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sending side of a session against a scripted receiver, over an in-memory
 * channel that loses, duplicates and reorders the sender's frames (seeded).
 *
 * The receiver here is a test double, written from docs/PROTOCOL.md: it answers
 * HELLO, decides each file, rebuilds files from DATA frames, checks FILE_END against
 * the bytes it got, commits in order and says DONE. Its own frames go through a
 * lossless direction so that it needs no retransmission of its own; losses of the
 * sender's frames and of the ACKs' effect (a frame delivered twice) are what is tested.
 * The channel, reader and receiver are in push_harness.c; the DELTA cases in
 * test_push_delta.c.
 */

#include <stdio.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "push_harness.h"

static void
test_clean_channel(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(200, 20000, 0, 0, 0, 32);
	T.refuse_index = 17;
	T.uptodate_index = 5;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_total, 200);
	CU_ASSERT_EQUAL(st.files_failed, 1);
	/* ... and named, with the receiver's reason. */
	CU_ASSERT_EQUAL(st.fails_kept, 1);
	CU_ASSERT_EQUAL(st.fail_file[0], 17);
	CU_ASSERT_NOT_EQUAL(st.fail_status[0], XF_ST_OK);
	CU_ASSERT_EQUAL(st.files_uptodate, 1);
	CU_ASSERT_EQUAL(st.files_committed, 198);
	CU_ASSERT_EQUAL(st.files_sent, 198);
	CU_ASSERT_EQUAL(st.retransmits, 0);
	if (st.retransmits != 0) {
		fprintf(stderr, "lost %lu pto %lu spurious %lu srtt %lu\n", (unsigned long)rs.lost,
		        (unsigned long)rs.pto, (unsigned long)rs.spurious,
		        (unsigned long)rs.smoothed_rtt_ns);
	}
	CU_ASSERT_EQUAL(T.committed, 200);
	/* Out of credit (32 files) or window, the sender waits for the receiver, whose
	 * frames are 200 us away, and says so (xf_push_waits_peer): the engine's idle
	 * back-off then sleeps instead of spinning. push_run checks on every turn of every
	 * case that it is never said with reads out or when another poll would do something. */
	CU_ASSERT(T.peer_waits > 100);
	/* In clear, what crosses is what the session built. */
	CU_ASSERT_EQUAL(st.frames_sent, T.sent_frames);
	CU_ASSERT_EQUAL(st.wire_bytes_sent, T.sent_bytes);
	push_teardown();
}

/*
 * A file whose bytes fit one frame with room for its CRC goes as that one DATA frame with
 * its end (XF_HDR_F_END, docs/PROTOCOL.md 6.9), to a receiver whose HELLO_ACK takes it:
 * no FILE_END of its own, so one frame fewer a file. A larger file, an empty one, and
 * every file to a receiver that did not say so go as DATA and FILE_END. Through loss,
 * duplicates and reordering too: a copy sent again carries the same end.
 */
static void
test_data_end(void)
{
	const uint32_t room = 1472 - XF_DATA_OVERHEAD - XF_DATA_END_LEN; /* the harness's MTU */
	for (unsigned int c = 0; c < 4; c++) {
		bool offered = c % 2 == 0, lossy = c >= 2;
		struct xf_push_stats st;
		struct xf_reliab_stats rs;
		uint32_t small = 0;

		push_setup(200, 3000, lossy ? 5 : 0, lossy ? 5 : 0, lossy ? 10 : 0, 32);
		T.data_end = offered;
		for (uint32_t i = 0; i < T.count; i++) {
			small += T.ent[i].size > 0 && T.ent[i].size <= room;
		}
		CU_ASSERT_FATAL(small > 20 && small < T.count - 20);
		push_run(&st, &rs);
		CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
		CU_ASSERT_EQUAL(st.files_failed, 0);
		CU_ASSERT_EQUAL(T.committed, T.count);
		CU_ASSERT_EQUAL(st.files_data_end, offered ? small : 0);
		CU_ASSERT_EQUAL(T.data_ends, offered ? small : 0);
		if (!lossy) {
			/* One FILE_END fewer for each small file, and no copy sent again. */
			CU_ASSERT_EQUAL(T.file_ends, T.count - (offered ? small : 0));
			CU_ASSERT_EQUAL(T.late_ends, 0);
		}
		push_teardown();
	}
}

/*
 * On a long path a file read to its end leaves its reading slot while its FILE_END waits
 * for its acknowledgements, so more files than the 64 slots are in flight at once (their
 * data at the receiver, their ends not yet) and a push of many files is not held to 64
 * files a round trip. 256 files of 3 frames, a 20 ms round trip, a window of 256 files:
 * through the slots alone it would take 4 round trips of data at least.
 */
static void
test_ends_leave_slots(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(256, 0, 0, 0, 0, 256);
	for (uint32_t i = 0; i < T.count; i++) {
		T.ent[i].size = 4000; /* 3 frames at the harness's MTU: never one with its end */
		T.src[i] = realloc(T.src[i], T.ent[i].size);
		for (uint64_t k = 0; k < T.ent[i].size; k++) {
			T.src[i][k] = (uint8_t)(i + k);
		}
	}
	T.one_way_ns = 10000000;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 256);
	CU_ASSERT_EQUAL(st.files_data_end, 0);
	CU_ASSERT(T.max_open > 64);
	fprintf(stderr, "\n  %u files open at once at most, done in %.1f ms ", T.max_open,
	        (double)(T.done_ns - START_NS) / 1e6);
	push_teardown();
}

/* A file the sender cannot read is given up with FILE_END(status): it fails, the rest
 * commits, and the session still ends. */
static void
test_unreadable_file(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(50, 20000, 0, 0, 0, 16);
	T.unreadable_index = 7;
	if (T.ent[7].size == 0) {
		T.ent[7].size = 5000; /* a file with data to read */
	}
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_failed, 1);
	CU_ASSERT_EQUAL(st.fails_kept, 1);
	CU_ASSERT_EQUAL(st.fail_file[0], 7);
	CU_ASSERT_NOT_EQUAL(st.fail_status[0], XF_ST_OK);
	CU_ASSERT_EQUAL(st.files_committed, 49);
	CU_ASSERT(T.rf[7].failed);
	push_teardown();
}

/* A file the reader cannot start (no table entry, no buffers: many jobs at once) is
 * asked for again from its start, not failed: it arrives whole, the retries counted.
 * Refused for good, it fails as unreadable once the reader has delivered nothing for
 * XF_PUSH_READ_RETRY_NS, and the session still ends. */
static void
test_reader_busy(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(50, 400000, 0, 0, 0, 16);
	for (unsigned int i = 0; i < T.count; i++) { /* the largest: several requests out */
		if (T.ent[i].kind == XF_FILE_REG &&
		    (T.busy_index == UINT32_MAX || T.ent[i].size > T.ent[T.busy_index].size)) {
			T.busy_index = i;
		}
	}
	CU_ASSERT_FATAL(T.ent[T.busy_index].size > 100000);
	T.busy_left = 5;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_failed, 0);
	CU_ASSERT_EQUAL(st.files_committed, 50);
	CU_ASSERT_EQUAL(st.read_retries, 5);
	CU_ASSERT_FALSE(T.rf[T.busy_index].failed);
	push_teardown();

	push_setup(50, 20000, 0, 0, 0, 16);
	T.ent[7].size = 5000;
	T.busy_index = 7;
	T.busy_left = UINT32_MAX;
	T.unreadable_index = 7; /* the harness's receiver then expects its failed FILE_END */
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_failed, 1);
	CU_ASSERT_EQUAL(st.fail_file[0], 7);
	CU_ASSERT_NOT_EQUAL(st.fail_status[0], XF_ST_OK);
	CU_ASSERT_EQUAL(st.files_committed, 49);
	CU_ASSERT(st.read_retries > 1);
	CU_ASSERT(T.rf[7].failed);
	push_teardown();
}

/* Entries too large for a frame (a symlink's long target; a path with one) are listed
 * as placeholders (XF_FLIST_F_GIVEUP, docs/PROTOCOL.md 6.23), each in a frame of its own
 * with its path cut to fit: each fails XF_ST_TOOBIG, named, and the rest commits. The
 * last entry of the list too, so its placeholder carries LAST. */
static void
test_entry_too_large(void)
{
	static char target[3000], path[1460];
	const uint32_t big[] = { 3, 4, 29 };
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	memset(target, 't', sizeof(target));
	memset(path, 'p', sizeof(path));
	push_setup(30, 20000, 0, 0, 0, 16);
	T.ent[3] = (struct xf_flist_entry){ .kind = XF_FILE_SYMLINK,
		                            .mode = 0777,
		                            .size = sizeof(target),
		                            .path = T.paths[3],
		                            .path_len = (uint16_t)strlen(T.paths[3]),
		                            .target = target,
		                            .target_len = sizeof(target) };
	T.ent[4].path = path; /* 1460 bytes: over what a 1472-byte frame holds */
	T.ent[4].path_len = sizeof(path);
	T.ent[29].path = path;
	T.ent[29].path_len = sizeof(path);
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(T.giveups, 3);
	CU_ASSERT_EQUAL(st.files_failed, 3);
	CU_ASSERT_EQUAL_FATAL(st.fails_kept, 3);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(st.fail_file[i], big[i]);
		CU_ASSERT_EQUAL(st.fail_status[i], XF_ST_TOOBIG);
	}
	CU_ASSERT_EQUAL(st.files_committed, 27);
	CU_ASSERT_EQUAL(T.committed, 30);
	push_teardown();
}

/*
 * Sparse sources: the reader answers the frames of holes without data (here: every
 * all-zero frame). Those never cross the wire, the FILE_END still carries the whole
 * size and the CRC of every byte, zeros included, and the receiver's copy (holes as
 * zeros, a file that ends in one given its size) is identical; also under loss,
 * duplication and reordering, and for a file that is all hole.
 */
static void
test_sparse_files(void)
{
	for (unsigned int lossy = 0; lossy < 2; lossy++) {
		struct xf_push_stats st;
		struct xf_reliab_stats rs;
		uint64_t total = 0, zeroed = 0, ranges = 0;

		push_setup(60, 200000, lossy ? 3 : 0, lossy, lossy ? 10 : 0, 32);
		T.sparse = true;
		for (uint32_t i = 0; i < T.count; i++) {
			uint64_t n = T.ent[i].size;
			uint64_t a = i == 0 ? 0 : n / 4, b = i == 0 ? n : 3 * n / 4;

			memset(T.src[i] + a, 0, b - a); /* a hole in the middle (file 0: all) */
			zeroed += b - a;
			ranges++;
			if (i % 2 == 1 && n > 0) {
				memset(T.src[i] + 7 * n / 8, 0, n - 7 * n / 8); /* ends in a hole */
				zeroed += n - 7 * n / 8;
				ranges++;
			}
			total += n;
		}
		push_run(&st, &rs);
		CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
		CU_ASSERT_EQUAL(st.files_committed, 60);
		CU_ASSERT_EQUAL(st.files_failed, 0);
		CU_ASSERT_EQUAL(T.committed, 60);
		/* Every byte was either sent once (first transmissions) or a hole. */
		CU_ASSERT_EQUAL(st.bytes_literal + st.bytes_sparse, total);
		/* Each zeroed range loses at most the two frames it straddles. */
		CU_ASSERT(st.bytes_sparse + ranges * 2 * 1448 >= zeroed);
		CU_ASSERT(st.bytes_sparse <= zeroed);
		CU_ASSERT(T.literal < total - zeroed + ranges * 2 * 1448 + (lossy ? total : 0));
		push_teardown();
	}
}

/*
 * --compress: the reader compresses the frames of the text-like files (the odd ones stay
 * random); the receiver inflates exactly raw_len bytes of each, and every file arrives
 * whole through loss, duplication and reordering. Offsets advance by the raw bytes, the
 * stats count both sizes, and a compressed frame is retransmitted as it was.
 */
/*
 * -o -g --owner-names: the HELLO says so, each FLIST frame names every id of its entries
 * the sender can name, once, and none it cannot (push_harness.c check_names()), through
 * loss and duplication; the push ends as without names.
 */
static void
test_owner_names(void)
{
	for (unsigned int lossy = 0; lossy < 2; lossy++) {
		struct xf_push_stats st;
		struct xf_reliab_stats rs;

		push_setup(300, 200, lossy ? 3 : 0, lossy, lossy ? 10 : 0, 64);
		T.owner_names = true;
		push_run(&st, &rs);
		CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
		CU_ASSERT_EQUAL(st.files_failed, 0);
		CU_ASSERT(T.names_seen >= 6 + 3); /* each frame names its own */
		push_teardown();
	}
}

static void
test_compressed_frames(void)
{
	for (unsigned int lossy = 0; lossy < 2; lossy++) {
		struct xf_push_stats st;
		struct xf_reliab_stats rs;
		uint64_t total = 0;

		push_setup(40, 100000, lossy ? 3 : 0, lossy, lossy ? 10 : 0, 32);
		T.compress = true;
		for (uint32_t i = 0; i < T.count; i++) {
			for (uint64_t k = 0; i % 2 == 0 && k < T.ent[i].size; k++) {
				T.src[i][k] =
				        (uint8_t) "int xf_frame(struct xf_work *it);\n"[k % 34];
			}
			total += T.ent[i].size;
		}
		push_run(&st, &rs);
		CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
		CU_ASSERT_EQUAL(st.files_committed, 40);
		CU_ASSERT_EQUAL(st.files_failed, 0);
		CU_ASSERT_EQUAL(T.committed, 40);
		CU_ASSERT_EQUAL(st.bytes_literal, total);
		CU_ASSERT(st.zip_frames > 0);
		CU_ASSERT(st.zip_frames < st.zip_tried); /* the random files' frames did not */
		CU_ASSERT(st.bytes_data_wire < st.bytes_literal / 2 + st.bytes_literal / 4);
		CU_ASSERT(T.inflated >= st.zip_frames);
		CU_ASSERT(T.wire_literal < T.literal);
		if (!lossy) {
			CU_ASSERT_EQUAL(T.inflated, st.zip_frames);
			CU_ASSERT_EQUAL(T.wire_literal, st.bytes_data_wire);
		}
		push_teardown();
	}
}

/*
 * The receiver's volume asks for compressed DATA in its HELLO_ACK (docs/PROTOCOL.md
 * 6.16): a push that said nothing compresses from then on, in clear and under AEAD (the
 * answer is authenticated there); one that said --no-compress sends every frame as it is
 * and tries none, and a HELLO_ACK that does not ask leaves a plain push plain.
 */
static void
test_volume_asks_compression(void)
{
	static const uint8_t msg1[XF_HELLO_AUTH_LEN + 4]; /* as if its payload were the field */

	for (unsigned int c = 0; c < 6; c++) {
		bool no = c % 3 == 1, asks = c % 3 != 2, aead = c >= 3;
		struct xf_push_stats st;
		struct xf_reliab_stats rs;

		push_setup(20, 60000, 0, 0, 0, 32);
		T.vol_asks = asks;
		T.no_compress = no;
		if (aead) {
			T.auth = msg1;
			T.auth_len = sizeof(msg1);
		}
		for (uint32_t i = 0; i < T.count; i++) {
			for (uint64_t k = 0; k < T.ent[i].size; k++) {
				T.src[i][k] = (uint8_t) "static int frame_out(void);\n"[k % 28];
			}
		}
		push_run(&st, &rs);
		CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
		CU_ASSERT_EQUAL(st.files_failed, 0);
		CU_ASSERT_EQUAL(T.committed, 20);
		CU_ASSERT_EQUAL(st.zip_asked, asks);
		CU_ASSERT_EQUAL(st.zip_on, asks && !no);
		if (asks && !no) {
			CU_ASSERT(st.zip_frames > 0);
			CU_ASSERT_EQUAL(T.inflated, st.zip_frames);
			CU_ASSERT(st.bytes_data_wire < st.bytes_literal / 2);
		} else {
			CU_ASSERT_EQUAL(st.zip_tried, 0);
			CU_ASSERT_EQUAL(st.zip_frames, 0);
			CU_ASSERT_EQUAL(T.inflated, 0);
			CU_ASSERT_EQUAL(st.bytes_data_wire, st.bytes_literal);
		}
		push_teardown();
	}
}

static void
test_lossy_channel(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	/* 3% loss, 1% duplication, 10% reordering of the sender's frames. */
	push_setup(300, 30000, 3, 1, 10, 64);
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 300);
	CU_ASSERT_EQUAL(st.files_failed, 0);
	CU_ASSERT(st.retransmits > 0);
	CU_ASSERT(rs.lost > 0);
	CU_ASSERT_EQUAL(T.committed, 300);
	push_teardown();
}

/*
 * A receiver that is only slow, on a lossless wire: it stops reading for 4 ms in every
 * 8 ms, past the sender's probe timeout (srtt is 0.4 ms; the push takes about 9 ms, so
 * it meets at least one stall). The timeouts send
 * probes and declare nothing lost, so no frame goes twice (docs/RELIABILITY.md,
 * "Lossless links").
 */
static void
test_slow_receiver_lossless(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(300, 200000, 0, 0, 0, 64);
	T.stall_ns = 4000000;
	T.stall_period_ns = 8000000;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 300);
	CU_ASSERT(rs.pto > 0);
	CU_ASSERT_EQUAL(rs.probes, XF_RELIAB_PTO_FRAMES * rs.pto);
	CU_ASSERT_EQUAL(st.retransmits, 0);
	CU_ASSERT_EQUAL(rs.lost, 0);
	CU_ASSERT_EQUAL(rs.spurious, 0);
	printf("\n  slow receiver: %llu PTOs, %llu probes, %llu lost, %llu retransmitted\n",
	       (unsigned long long)rs.pto, (unsigned long long)rs.probes,
	       (unsigned long long)rs.lost, (unsigned long long)st.retransmits);
	CU_ASSERT_EQUAL(T.committed, 300);
	push_teardown();
}

/*
 * A paced session, whose reads the read-ahead bounds (the frames read and not yet sent
 * fill it), asks for them oldest file first: no file waits for its data while later ones
 * are sent, so the receiver, which commits in list order, commits as the data comes and
 * not in one burst at the end. 200 files of up to 20 kB at 2 MB/s (about 1 s): no file
 * settles beyond one not settled yet. (A list of active files that lets the newest
 * overtake older ones, as moving the last into a freed slot does, gives 152 here.)
 */
static void
test_paced_reads_in_order(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(200, 20000, 0, 0, 0, 1024);
	T.pace_rate = 2000000;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 200);
	printf("\n  paced: at most %u files settled beyond a late one\n", T.max_ahead);
	CU_ASSERT(T.max_ahead <= 16); /* slack for a reordering reader */
	push_teardown();
}

/*
 * Keep-alive PINGs lost on the wire (as they are in the sender's ARP hold queue while a
 * stalled receiver answers no ARP, e2e-push-stall) are declared lost but not sent again:
 * they carry nothing, and the keep-alive sends a fresh one when due.
 */
static void
test_lost_pings_not_resent(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(100, 30000, 0, 0, 0, 16);
	T.lose_pings = true;
	T.stall_ns = 400000000; /* 4 keep-alive intervals in every 405 ms */
	T.stall_period_ns = 405000000;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 100);
	CU_ASSERT(rs.lost > 0);
	CU_ASSERT_EQUAL(st.retransmits, 0);
	printf("\n  %llu PINGs lost, %llu retransmitted\n", (unsigned long long)rs.lost,
	       (unsigned long long)st.retransmits);
	push_teardown();
}

/*
 * The HELLO's own acknowledgement never comes (as when it is slower than the loss timer,
 * or lost), but its HELLO_ACK does: once the session runs the HELLO is declared lost, and
 * must not go again. Sent again it could reach the receiver after its session ended and
 * open it anew (docs/PROTOCOL.md 6.1).
 */
static void
test_lost_hello_not_resent_after_ack(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(100, 30000, 0, 0, 0, 16);
	T.unacked_hello = true;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 100);
	CU_ASSERT(rs.lost > 0);
	CU_ASSERT_EQUAL(T.sent_hellos, 1);
	CU_ASSERT_EQUAL(T.hellos, 1);
	CU_ASSERT_EQUAL(st.retransmits, 0);
	push_teardown();
}

static void
test_empty_list_and_empty_files(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(0, 0, 0, 0, 0, 16);
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_total, 0);
	push_teardown();

	push_setup(10, 0, 0, 0, 0, 16); /* ten empty files (and some of one or two frames) */
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 10);
	push_teardown();
}

/* With AEAD the HELLO carries message 1 (cfg.auth), shows XF_HELLO_F_CLEAR_AEAD and
 * nothing else (a REDO push here: no option in clear, window 0), and has no destination in
 * clear (message 1 carries the options and it, xf_push_hello_flags the caller's); an
 * answer without it (a forged refusal in clear, a downgrade, a peer of
 * session.security none) is ignored, and the keyed answer that follows is taken. */
static void
test_aead_hello(void)
{
	/* As if its payload held the destination (4 bytes): the HELLO carries no dest. */
	static uint8_t msg1[XF_HELLO_AUTH_LEN + 4];
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	for (unsigned int i = 0; i < sizeof(msg1); i++) {
		msg1[i] = (uint8_t)(i * 13 + 1);
	}
	push_setup(20, 3000, 0, 0, 0, 16);
	T.auth = msg1;
	T.auth_len = sizeof(msg1);
	T.plain_answers = 3;
	T.seal_overhead = 16;
	T.redo = true;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 20);
	CU_ASSERT_EQUAL(T.plain_answers, 0); /* the refusals in clear went out first */
	/* wire_bytes_sent counts what crosses: every frame but the HELLO with the tag that
	 * sealing adds. */
	CU_ASSERT(T.sent_hellos >= 1);
	CU_ASSERT(T.sent_frames > T.sent_hellos + 20);
	CU_ASSERT_EQUAL(st.frames_sent, T.sent_frames);
	CU_ASSERT_EQUAL(st.wire_bytes_sent, T.sent_bytes + 16 * (T.sent_frames - T.sent_hellos));
	push_teardown();
}

/*
 * push -i --delete: the receiver's list of 100 deletions in three FLIST frames and an
 * empty LAST, sent last first with its DONE, and again every millisecond until the
 * DONE is acknowledged. The sender takes the frames in index order only (one more per
 * round), takes no DONE before the LAST, keeps every name in order, and ends.
 */
static void
test_deleted_list(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;
	size_t off = 0;
	uint32_t n = 0;
	const char *path;
	uint16_t len;
	bool dir, ordered = true;
	char want[32];

	push_setup(20, 3000, 0, 0, 0, 16);
	T.ndeleted = 100;
	T.close_on_done_ack = true;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, 20);
	CU_ASSERT_EQUAL(st.deleted_listed, 100);
	CU_ASSERT_EQUAL(st.deleted_dropped, 0);
	CU_ASSERT_EQUAL(st.files_deleted, 100);
	/* Three frames out of order: one taken per round, the LAST and DONE in the fourth. */
	CU_ASSERT(T.list_rounds >= 4);
	while (xf_push_deleted_next(T.deleted, st.deleted_bytes, &off, &path, &len, &dir)) {
		snprintf(want, sizeof(want), "gone/%u", n);
		ordered &=
		        len == strlen(want) && memcmp(path, want, len) == 0 && dir == (n % 7 == 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 100);
	CU_ASSERT_TRUE(ordered);
	CU_ASSERT_EQUAL(off, st.deleted_bytes);
	/* Every file's decision is kept for its itemized line. */
	for (uint32_t i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(T.items[i] >> XF_PUSH_ITEM_DEC_SHIFT, XF_DEC_WHOLE);
	}
	push_teardown();
}

static void
test_silent_peer_times_out(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(3, 100, 100, 0, 0, 16); /* everything the sender sends is lost */
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_ABORTED);
	CU_ASSERT_EQUAL(st.abort_code, XF_ABORT_TIMEOUT);
	push_teardown();
}

/* 50 files to a receiver that confirms the session as xferd's does, the sender's first
 * lose_acks ACK frames lost; the push must complete. */
static void
run_confirming_receiver(unsigned int lose_acks, struct xf_push_stats *st,
                        struct xf_reliab_stats *rs)
{
	push_setup(50, 3000, 0, 0, 0, 16);
	T.confirm_hello = true;
	T.rx_pn = (1ull << 61) + 12345;
	T.lose_acks = lose_acks;
	push_run(st, rs);
	CU_ASSERT_EQUAL(st->state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st->files_committed, T.count);
	CU_ASSERT(T.confirmed);
}

/*
 * A receiver that takes the sender's frames only once it acknowledged the HELLO_ACK
 * (numbered from a random value, flagged ACKNOW): the sender's ACK goes out before its
 * first FLIST, so on a clean channel nothing is refused and nothing is sent twice.
 */
static void
test_hello_ack_acknowledged_first(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	run_confirming_receiver(0, &st, &rs);
	CU_ASSERT_EQUAL(T.unconfirmed, 0);
	CU_ASSERT_EQUAL(st.retransmits, 0);
	push_teardown();
}

/*
 * The same receiver, with the sender's ACK of its HELLO_ACK lost: it refuses the file
 * list until an ACK covering the HELLO_ACK arrives, and this one never sends the HELLO_ACK
 * again. The sender's first probe timeout sends its ACK with the probes, and the probes'
 * ACK resets the backoff: the push goes on after one timeout (a few ms of simulated time
 * here). Before, the sender sent no ACK until the receiver sent something new, and the
 * push hung until the receiver's own timeout (xferd's: 1 s, from the initial RTT).
 */
static void
test_hello_ack_ack_lost(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	run_confirming_receiver(1, &st, &rs);
	CU_ASSERT(T.unconfirmed > 0); /* the first FLISTs were refused */
	CU_ASSERT(rs.pto_backoff_max >= 1 && rs.pto_backoff_max <= 2);
	CU_ASSERT(T.now - START_NS < 50000000ull);
	printf("\n  refused %u, pto %llu, backoff at most %u, done in %.1f ms\n", T.unconfirmed,
	       (unsigned long long)rs.pto, rs.pto_backoff_max, (double)(T.now - START_NS) / 1e6);
	push_teardown();
}

/*
 * The receiver closes once its DONE is acknowledged (docs/PROTOCOL.md, 6.10) while a
 * PING of the sender's is still unacknowledged: its DONE came after a silence longer
 * than the keep-alive interval, and the ACK of that PING was lost. The sender must end
 * once it has acknowledged the DONE, not wait for an ACK that no one will send (it timed
 * the finished push out: CI's e2e-push-many flake, "peer silent past the timeout").
 */
static void
test_receiver_closes_on_done_ack(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(20, 3000, 0, 0, 0, 16);
	T.close_on_done_ack = true;
	T.done_delay_ns = 250000000ull; /* 2.5 keep-alive intervals */
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, T.count);
	/* What the sender sent last reaches the receiver: the ACK of its DONE is among it. */
	T.now += 10000000ull;
	push_deliver(&T.to_rx, NULL);
	CU_ASSERT(T.rx_closed);
	CU_ASSERT(T.pings > 0);
	printf("\n  %u PINGs unanswered, %u frames after the receiver closed; lost %llu, "
	       "retransmitted %llu\n",
	       T.pings, T.dropped_after_close, (unsigned long long)rs.lost,
	       (unsigned long long)st.retransmits);
	push_teardown();
}

/*
 * The COMMIT that settles the last file is lost and the DONE sent right behind it
 * arrives. The sender must leave that DONE unacknowledged: the receiver closes on its
 * ACK and would never send the COMMIT again, and the sender, short of one file, would
 * wait for it until its timeout (e2e-net-lossy-goodput at 5% loss, about one push in
 * ten). It acknowledges the DONE that comes again after the COMMIT.
 */
static void
test_done_before_lost_commit(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(20, 3000, 0, 0, 0, 16);
	T.close_on_done_ack = true;
	T.lose_final_commit = true;
	T.resend_held = true;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_committed, T.count);
	CU_ASSERT(st.done_early >= 1);
	CU_ASSERT(T.resends >= 1);
	T.now += 10000000ull;
	push_deliver(&T.to_rx, NULL);
	CU_ASSERT(T.rx_closed);
	printf("\n  %u DONE(s) before the COMMIT, receiver resent %u time(s)\n", st.done_early,
	       T.resends);
	push_teardown();
}

/*
 * A file fails at the receiver's commit and the COMMIT that lists it arrives late,
 * behind the next COMMIT, whose `committed` covers the failed file too. Taken in
 * arrival order, the file would be reported committed and the failure dropped as
 * already settled. COMMITs carry a seq and apply in its order (docs/PROTOCOL.md 3.8).
 */
static void
test_late_commit_keeps_its_failure(void)
{
	struct xf_push_stats st;
	struct xf_reliab_stats rs;

	push_setup(60, 30000, 0, 0, 0, 64); /* the whole list in the first credit */
	T.fail_index = 20;
	T.late_commit_ns = 5000000ull; /* 5 ms: behind the COMMITs of later files */
	T.resend_held = true;
	push_run(&st, &rs);
	CU_ASSERT_EQUAL(st.state, XF_PUSH_DONE);
	CU_ASSERT_EQUAL(st.files_failed, 1);
	CU_ASSERT_EQUAL(st.files_committed, T.count - 1);
	CU_ASSERT(st.commits_early >= 1);
	printf("\n  %u COMMIT(s) ahead of the late one left unacknowledged, %u resent\n",
	       st.commits_early, T.resends);
	push_teardown();
}

static const struct xf_test tests[] = {
	{ "clean channel", test_clean_channel },
	{ "a small file's one DATA frame carries its end", test_data_end },
	{ "a file read to its end leaves its slot for the next", test_ends_leave_slots },
	{ "AEAD: message 1 in the HELLO, plain answers ignored", test_aead_hello },
	{ "push -i --delete: the receiver's list of deletions, out of order", test_deleted_list },
	{ "lossy channel", test_lossy_channel },
	{ "sparse files: holes are counted, not sent", test_sparse_files },
	{ "compressed frames: inflated to their raw_len, through loss", test_compressed_frames },
	{ "the receiver's volume asks for compression in its HELLO_ACK",
	  test_volume_asks_compression },
	{ "owners by name: each FLIST names its ids", test_owner_names },
	{ "a slow receiver on a lossless wire: probes, no retransmission",
	  test_slow_receiver_lossless },
	{ "paced: reads asked oldest file first, commits as the data comes",
	  test_paced_reads_in_order },
	{ "lost keep-alive PINGs are not sent again", test_lost_pings_not_resent },
	{ "a HELLO lost after its HELLO_ACK is not sent again",
	  test_lost_hello_not_resent_after_ack },
	{ "unreadable file", test_unreadable_file },
	{ "a file the reader cannot start is asked for again", test_reader_busy },
	{ "entries too large for a frame: placeholders, failed alone", test_entry_too_large },
	{ "empty list, empty files", test_empty_list_and_empty_files },
	{ "silent peer times out", test_silent_peer_times_out },
	{ "the HELLO_ACK is acknowledged before the first FLIST",
	  test_hello_ack_acknowledged_first },
	{ "the ACK of the HELLO_ACK lost: the probes carry the next one", test_hello_ack_ack_lost },
	{ "the receiver closes once its DONE is acknowledged", test_receiver_closes_on_done_ack },
	{ "a DONE ahead of a lost COMMIT is not acknowledged", test_done_before_lost_commit },
	{ "a late COMMIT keeps its failure", test_late_commit_keeps_its_failure },
	{ "delta", push_test_delta },
	{ "delta, matcher in the reader", push_test_delta_reader_matches },
	{ "delta, sent again whole when the receiver asks", push_test_redo },
	{ "delta, sent again whole, matcher in the reader", push_test_redo_reader_matches },
	{ "delta, paced: literals count against the read-ahead", push_test_delta_paced },
};

int
main(void)
{
	return xf_test_main("push", NULL, NULL, XF_TESTS(tests));
}
