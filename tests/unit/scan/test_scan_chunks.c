/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * unit-scan again, white-box, with chunks of 4 records and the smallest arena chunk the
 * scan allows: the test tree then spans many chunks of both, so every path and record
 * read back crosses the chunk arithmetic.
 */
#define XF_SCAN_SMALL_CHUNKS
#define REC_CHUNK_SHIFT 2
#define ARENA_CHUNK     (2u * (XF_PATH_MAX + 1))
#include "../../../dataplane/scan/xf_scan.c"

#include "test_scan.c"
