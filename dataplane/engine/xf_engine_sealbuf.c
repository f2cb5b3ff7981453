/* SPDX-License-Identifier: BSD-3-Clause */
/* Warm mbufs for sealed copies (xf_engine_sealbuf.h). */
#include "xf_engine_sealbuf.h"

struct rte_mbuf *
xf_sealbuf_get(struct xf_sealbuf *sb, struct rte_mempool *mp)
{
	struct rte_mbuf **s = &sb->slot[sb->next];
	struct rte_mbuf *m = *s;

	sb->next = (sb->next + 1) % XF_SEALBUF_SLOTS;
	/* Only our reference left: the TX path is done with it, nobody reads it any more. */
	if (m != NULL && rte_mbuf_refcnt_read(m) == 1) {
		rte_pktmbuf_reset(m);
		sb->reused++;
	} else {
		struct rte_mbuf *n = rte_pktmbuf_alloc(mp);

		if (n == NULL) {
			return NULL;
		}
		/* Still queued or held (an ARP wait): the TX path's reference frees it. */
		rte_pktmbuf_free(m);
		*s = m = n;
		sb->fresh++;
	}
	rte_mbuf_refcnt_update(m, 1);
	return m;
}

void
xf_sealbuf_fini(struct xf_sealbuf *sb)
{
	for (unsigned int i = 0; i < XF_SEALBUF_SLOTS; i++) {
		rte_pktmbuf_free(sb->slot[i]);
		sb->slot[i] = NULL;
	}
	sb->next = 0;
}
