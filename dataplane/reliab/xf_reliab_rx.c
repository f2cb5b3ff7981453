/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receiving side of the per-session reliability engine (xf_reliab.h,
 * docs/RELIABILITY.md): which packet numbers arrived, and the ACKs that say so.
 *
 * Receiver: a bitmap of rx_window packet numbers starting at rx_base; everything below
 * rx_base counts as seen. The window slides forward when a number beyond it arrives;
 * if rx_window >= the peer's tx_slots it only forgets numbers the peer has settled.
 * A tracked frame is numbered less than tx_slots above the oldest frame in flight, and
 * every tracked number below that is acknowledged or was declared lost below an
 * acknowledged one; so the peer's largest accepted number is at most tx_slots plus the
 * untracked numbers (probes, ACKs) lost since, below ours. A window of twice the peer's
 * table accepts our frames after an outage with tx_slots to spare for those
 * (docs/RELIABILITY.md, "Packet-number window").
 */
#include <errno.h>
#include <string.h>

#include "xf_base.h"
#include "xf_reliab.h"
#include "xf_reliab_priv.h"

static inline bool
rx_bit(const struct xf_reliab *r, uint64_t pn)
{
	uint64_t i = pn & (r->rx_bits - 1);

	return (r->rx_map[i >> 6] >> (i & 63)) & 1u;
}

/* Slide the window so that pn fits; forget (as "seen") everything below the new base. */
static void
rx_slide(struct xf_reliab *r, uint64_t pn)
{
	uint64_t new_base = pn - r->rx_bits + 1;
	uint64_t p = r->rx_base;

	if (new_base - r->rx_base >= r->rx_bits) {
		memset(r->rx_map, 0, r->rx_bits / 8);
	} else {
		while (p < new_base) {
			uint64_t i = p & (r->rx_bits - 1);

			if ((i & 63) == 0 && new_base - p >= 64) {
				r->rx_map[i >> 6] = 0;
				p += 64;
			} else {
				r->rx_map[i >> 6] &= ~(1ull << (i & 63));
				p++;
			}
		}
	}
	r->rx_base = new_base;
}

int
xf_reliab_rx_filter(struct xf_reliab *r, uint64_t now, uint64_t pn, bool ack_eliciting)
{
	(void)now; /* only an accepted frame restarts the idle timer */
	/* Accepting pn slides the base to at most rx_largest + 1 (rx_slide): no number the
	 * peer has not sent yet can fall below it. */
	if (r->rx_any && pn > r->rx_largest && pn - r->rx_largest > r->rx_bits) {
		r->st.pn_ahead++;
		return -ERANGE;
	}
	if (pn < r->rx_base || (pn - r->rx_base < r->rx_bits && rx_bit(r, pn))) {
		r->st.duplicates++;
		if (ack_eliciting) {
			r->ack_now = true;
		}
		return -EALREADY;
	}
	return 0;
}

void
xf_reliab_rx_accept(struct xf_reliab *r, uint64_t now, uint64_t pn, bool ack_eliciting)
{
	uint64_t i;

	if (pn < r->rx_base) {
		return;
	}
	if (pn - r->rx_base >= r->rx_bits) {
		rx_slide(r, pn);
	}
	if (rx_bit(r, pn)) {
		return;
	}
	i = pn & (r->rx_bits - 1);
	r->rx_map[i >> 6] |= 1ull << (i & 63);
	r->st.received++;
	r->last_recv = XF_MAX(r->last_recv, now);
	/* Numbers skipped are the peer's frames lost (or late); a late one fills its gap. */
	if (r->rx_any && pn > r->rx_largest + 1) {
		r->st.rx_missing += pn - r->rx_largest - 1;
	} else if (r->rx_any && pn < r->rx_largest && r->st.rx_missing > 0) {
		r->st.rx_missing--;
	}
	if (!ack_eliciting) {
		if (!r->rx_any || pn > r->rx_largest) {
			r->rx_largest = pn;
			r->rx_largest_time = now;
			r->rx_any = true;
		}
		return;
	}
	/* Out of order (a gap opened or filled): tell the sender at once (RFC 9000 13.2.1). */
	if (r->rx_any && pn != r->rx_largest + 1) {
		r->ack_now = true;
	}
	if (!r->rx_any || pn > r->rx_largest) {
		r->rx_largest = pn;
		r->rx_largest_time = now;
		r->rx_any = true;
	}
	if (r->rx_unacked == 0) {
		r->rx_first_unacked_time = now;
	}
	r->rx_unacked++;
	if (r->rx_unacked >= XF_RELIAB_ACK_EVERY) {
		r->ack_now = true;
	}
}

void
xf_reliab_ack_now(struct xf_reliab *r)
{
	r->ack_now = true;
}

uint64_t
xf_reliab_ack_deadline(const struct xf_reliab *r)
{
	if (r->ack_now) {
		return 0;
	}
	if (r->rx_unacked > 0) {
		return r->rx_first_unacked_time + r->cfg.max_ack_delay_ns;
	}
	return XF_RELIAB_NEVER;
}

/*
 * Find the highest pn in [rx_base, from] whose bit equals want. Positions below rx_base
 * in the same word belong to numbers at the top of the window, so a hit below rx_base
 * means "none".
 */
static bool
rx_scan_down(const struct xf_reliab *r, uint64_t from, bool want, uint64_t *out)
{
	uint64_t pn = from;

	for (;;) {
		uint64_t i = pn & (r->rx_bits - 1);
		unsigned int bit = (unsigned int)(i & 63);
		uint64_t w = want ? r->rx_map[i >> 6] : ~r->rx_map[i >> 6];

		w &= bit == 63 ? ~0ull : ((1ull << (bit + 1)) - 1);
		if (w != 0) {
			unsigned int msb = 63u - (unsigned int)__builtin_clzll(w);
			uint64_t hit = pn - (bit - msb);

			if (hit < r->rx_base) {
				return false;
			}
			*out = hit;
			return true;
		}
		if (pn - r->rx_base <= bit) {
			return false;
		}
		pn -= (uint64_t)bit + 1;
	}
}

unsigned int
xf_reliab_ack_build(const struct xf_reliab *r, uint64_t now, struct xf_ack_range *ranges,
                    uint64_t *largest, uint32_t *ack_delay_us)
{
	unsigned int n = 0;
	uint64_t hi, gap, delay_us;

	if (!r->rx_any || r->rx_largest < r->rx_base) {
		return 0;
	}
	hi = r->rx_largest; /* accepted, so its bit is set */
	while (n < XF_ACK_RANGES) {
		uint64_t lo = rx_scan_down(r, hi, false, &gap) ? gap + 1 : r->rx_base;

		ranges[n].first = lo;
		ranges[n].last = hi;
		n++;
		if (lo == r->rx_base || !rx_scan_down(r, lo - 1, true, &hi)) {
			break;
		}
	}
	*largest = ranges[0].last;
	delay_us = now > r->rx_largest_time ? (now - r->rx_largest_time) / 1000u : 0;
	*ack_delay_us = delay_us > UINT32_MAX ? UINT32_MAX : (uint32_t)delay_us;
	return n;
}

void
xf_reliab_ack_sent(struct xf_reliab *r)
{
	r->rx_unacked = 0;
	r->ack_now = false;
	r->st.acks_sent++;
}
