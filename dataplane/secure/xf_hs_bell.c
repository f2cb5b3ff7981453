/* SPDX-License-Identifier: BSD-3-Clause */
/* The handshake thread's doorbell (xf_hs_bell.h). */
#include <limits.h>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/syscall.h>

#include "xf_hs_bell.h"

uint32_t
xf_hs_bell_token(const struct xf_hs_bell *b)
{
	return __atomic_load_n(&b->seq, __ATOMIC_SEQ_CST);
}

void
xf_hs_bell_ring(struct xf_hs_bell *b)
{
	/* Sequentially consistent with the waiter's store of waiting and load of seq: either
	 * the waiter sees the new count and does not sleep, or this sees waiting set. */
	__atomic_add_fetch(&b->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&b->waiting, __ATOMIC_SEQ_CST) != 0) {
		__atomic_add_fetch(&b->wakes, 1, __ATOMIC_RELAXED);
		(void)syscall(SYS_futex, &b->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	}
}

int
xf_hs_bell_wait(struct xf_hs_bell *b, uint32_t token)
{
	int slept = 0;

	__atomic_store_n(&b->waiting, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&b->seq, __ATOMIC_SEQ_CST) == token) {
		/* The kernel compares seq with token again under its lock: a ring after the load
		 * above makes this return at once (EAGAIN). EINTR: the caller loops anyway. */
		(void)syscall(SYS_futex, &b->seq, FUTEX_WAIT_PRIVATE, token, NULL, NULL, 0);
		b->sleeps++;
		slept = 1;
	}
	__atomic_store_n(&b->waiting, 0, __ATOMIC_RELEASE);
	return slept;
}
