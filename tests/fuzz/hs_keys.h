/* SPDX-License-Identifier: BSD-3-Clause */
/* The fixed keys and inputs shared by fuzz_handshake.c and gen_hs_seeds.c, so that the
 * seeds are genuine messages for the harness. */
#ifndef XF_HS_KEYS_H
#define XF_HS_KEYS_H

#include <stdint.h>

#include "xf_noise.h"

static const uint8_t hs_ipriv[32] = { 1, 2, 3 };
static const uint8_t hs_rpriv[32] = { 4, 5, 6 };
static const uint8_t hs_ieph[32] = { 7, 8, 9 };
static const uint8_t hs_reph[32] = { 10, 11, 12 };
static const uint8_t hs_cookie_secret[32] = { 9 };
static const struct xf_noise_prologue hs_pro = { .version = 2, .capabilities = 1 };
static const uint8_t hs_src[6] = { 192, 0, 2, 1, 0, 80 };
#define HS_UNIX_NS 1700000000000000000ull
#define HS_I_INDEX 77u
#define HS_R_INDEX 5u

#endif /* XF_HS_KEYS_H */
