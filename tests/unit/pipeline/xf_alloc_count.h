/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocations by a test program since it started: its malloc, calloc, realloc, mmap and
 * mmap64 calls, counted through -Wl,--wrap=... (tests/unit/pipeline/meson.build), for
 * the tests that show a structure allocates nothing after its reservation.
 */
#ifndef XF_ALLOC_COUNT_H
#define XF_ALLOC_COUNT_H

#include <stdint.h>

extern uint64_t xf_allocs;

#endif /* XF_ALLOC_COUNT_H */
