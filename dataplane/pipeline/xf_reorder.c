/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_reorder.h"

int
xf_reorder_init(struct xf_reorder *ro, uint32_t window, uint32_t first)
{
	if (window == 0) {
		return -EINVAL;
	}
	ro->val = calloc(window, sizeof(*ro->val));
	ro->full = calloc(window, sizeof(*ro->full));
	if (ro->val == NULL || ro->full == NULL) {
		free(ro->val);
		free(ro->full);
		ro->val = NULL;
		ro->full = NULL;
		return -ENOMEM;
	}
	ro->window = window;
	ro->base = first;
	ro->next = first;
	ro->held = 0;
	return 0;
}

void
xf_reorder_attach(struct xf_reorder *ro, uint64_t *val, uint8_t *full, uint32_t window,
                  uint32_t first)
{
	memset(val, 0, (size_t)window * sizeof(*val));
	memset(full, 0, (size_t)window * sizeof(*full));
	*ro = (struct xf_reorder){
		.val = val, .full = full, .window = window, .base = first, .next = first
	};
}

void
xf_reorder_fini(struct xf_reorder *ro)
{
	free(ro->val);
	free(ro->full);
	ro->val = NULL;
	ro->full = NULL;
}

int
xf_reorder_insert(struct xf_reorder *ro, uint32_t idx, uint64_t val)
{
	uint32_t slot;

	/* Unsigned distances: indices wrap only after 2^32 files, which a list never has. */
	if (idx - ro->base >= ro->window) {
		return idx < ro->base ? -EALREADY : -ERANGE;
	}
	if (idx < ro->next) {
		return -EALREADY;
	}
	slot = idx % ro->window;
	if (ro->full[slot]) {
		return -EALREADY;
	}
	ro->full[slot] = 1;
	ro->val[slot] = val;
	ro->held++;
	return 0;
}

bool
xf_reorder_pop(struct xf_reorder *ro, uint32_t *idx, uint64_t *val)
{
	uint32_t slot;

	if (ro->next - ro->base >= ro->window) {
		return false;
	}
	slot = ro->next % ro->window;
	if (!ro->full[slot]) {
		return false;
	}
	ro->full[slot] = 0;
	ro->held--;
	*idx = ro->next++;
	*val = ro->val[slot];
	return true;
}

int
xf_reorder_release(struct xf_reorder *ro, uint32_t upto)
{
	if (upto < ro->base || upto > ro->next) {
		return -EINVAL;
	}
	ro->base = upto;
	return 0;
}

bool
xf_reorder_take(struct xf_reorder *ro, uint32_t idx, uint64_t *val)
{
	uint32_t slot;

	if (idx < ro->next || idx - ro->base >= ro->window) {
		return false;
	}
	slot = idx % ro->window;
	if (!ro->full[slot]) {
		return false;
	}
	ro->full[slot] = 0;
	ro->held--;
	*val = ro->val[slot];
	return true;
}
