/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lane split (xf_lanes.h): the directory pass, contiguous runs of about equal
 * weight, hard links with their leaders; and where steering puts each lane: the flow
 * rules, or under a NIC's RSS the source ports whose answers hash to each queue.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_lanes.h"

__extension__ typedef unsigned __int128 u128;

#define DIR_PASS 0xffu /* lane_of[] of a directory */

/* A table of the list's regular files by path, for hard links' leaders (open addressing,
 * index + 1 per slot, 0 empty). Built only when the list has hard links. */
struct leaders {
	uint32_t *slot;
	uint32_t mask;
};

static uint64_t
path_hash(const char *p, uint16_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (uint16_t i = 0; i < len; i++) {
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	}
	return h;
}

static int
leaders_init(struct leaders *t, uint32_t nreg)
{
	uint32_t size = 16;

	while (size < 2ull * nreg && size < (1u << 31)) {
		size <<= 1;
	}
	t->slot = calloc(size, sizeof(*t->slot));
	t->mask = size - 1;
	return t->slot != NULL ? 0 : -ENOMEM;
}

static void
leaders_add(struct leaders *t, const struct xf_flist_entry *e, uint32_t i)
{
	uint32_t s = (uint32_t)path_hash(e->path, e->path_len) & t->mask;

	while (t->slot[s] != 0) {
		s = (s + 1) & t->mask;
	}
	t->slot[s] = i + 1;
}

/* The index of the regular file named target, or UINT32_MAX. */
static uint32_t
leaders_find(const struct leaders *t, const char *target, uint16_t len, xf_lanes_entry_fn entry,
             void *arg)
{
	for (uint32_t s = (uint32_t)path_hash(target, len) & t->mask; t->slot[s] != 0;
	     s = (s + 1) & t->mask) {
		struct xf_flist_entry le;

		entry(arg, t->slot[s] - 1, &le);
		if (le.path_len == len && memcmp(le.path, target, len) == 0) {
			return t->slot[s] - 1;
		}
	}
	return UINT32_MAX;
}

/* What an entry placed by position weighs (regular files and symlinks). */
static u128
weight_of(const struct xf_flist_entry *e)
{
	return (e->kind == XF_FILE_REG ? (u128)e->size : 0) + XF_LANE_ENTRY_COST;
}

static bool
positional(uint8_t kind)
{
	return kind != XF_FILE_DIR && kind != XF_FILE_HARDLINK;
}

/*
 * Each entry's lane: directories to the pass, positional entries by the midpoint rule
 * (the run of lane k ends before the entry whose middle lies past (k + 1) / nlanes of
 * the total, so every cut is within half an entry of its target), hard links to their
 * leader's lane.
 */
static int
assign(struct xf_lanes *l, uint8_t *lane_of, xf_lanes_entry_fn entry, void *arg)
{
	struct leaders t = { NULL, 0 };
	u128 total = 0, cum = 0, w[XF_LANES_MAX] = { 0 };
	uint32_t nreg = 0, nlinks = 0, in_lane = 0;
	unsigned int k = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		struct xf_flist_entry e;

		entry(arg, i, &e);
		total += positional(e.kind) ? weight_of(&e) : 0;
		nreg += e.kind == XF_FILE_REG;
		nlinks += e.kind == XF_FILE_HARDLINK;
	}
	if (nlinks > 0 && leaders_init(&t, nreg) < 0) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < l->n; i++) {
		struct xf_flist_entry e;
		u128 we;

		entry(arg, i, &e);
		if (e.kind == XF_FILE_DIR) {
			lane_of[i] = DIR_PASS;
			l->ndirs++;
			continue;
		}
		if (e.kind == XF_FILE_HARDLINK) {
			uint32_t leader = leaders_find(&t, e.target, e.target_len, entry, arg);

			if (leader == UINT32_MAX) {
				free(t.slot);
				return -ENOENT;
			}
			lane_of[i] = lane_of[leader];
			w[lane_of[i]] += XF_LANE_ENTRY_COST;
			continue;
		}
		we = weight_of(&e);
		if (k + 1 < l->nlanes && in_lane > 0 &&
		    (2 * cum + we) * l->nlanes > 2 * (u128)(k + 1) * total) {
			k++;
			in_lane = 0;
		}
		lane_of[i] = (uint8_t)k;
		w[k] += we;
		cum += we;
		in_lane++;
		if (nlinks > 0 && e.kind == XF_FILE_REG) {
			leaders_add(&t, &e, i);
		}
	}
	free(t.slot);
	for (unsigned int j = 0; j < l->nlanes; j++) {
		l->weight[j] = w[j] > UINT64_MAX ? UINT64_MAX : (uint64_t)w[j];
	}
	return 0;
}

struct xf_lanes *
xf_lanes_split(uint32_t n, unsigned int nlanes, xf_lanes_entry_fn entry, void *arg)
{
	uint32_t pos[XF_LANES_MAX + 1] = { 0 }, ndir = 0;
	struct xf_lanes *l;
	uint8_t *lane_of;
	int rc;

	if (nlanes == 0 || nlanes > XF_LANES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	lane_of = malloc(n > 0 ? n : 1);
	if (l == NULL || lane_of == NULL ||
	    (l->order = malloc((n > 0 ? n : 1) * sizeof(*l->order))) == NULL) {
		rc = -ENOMEM;
		goto err_free;
	}
	l->n = n;
	l->nlanes = nlanes;
	rc = assign(l, lane_of, entry, arg);
	if (rc < 0) {
		goto err_free;
	}
	/* Counting sort by lane, stable: list order within the pass and each lane. */
	for (uint32_t i = 0; i < n; i++) {
		if (lane_of[i] != DIR_PASS) {
			l->start[lane_of[i] + 1]++;
		}
	}
	l->start[0] = l->ndirs;
	for (unsigned int k = 0; k < nlanes; k++) {
		l->start[k + 1] += l->start[k];
		pos[k] = l->start[k];
	}
	for (uint32_t i = 0; i < n; i++) {
		if (lane_of[i] == DIR_PASS) {
			l->order[ndir++] = i;
		} else {
			l->order[pos[lane_of[i]]++] = i;
		}
	}
	free(lane_of);
	return l;
err_free:
	free(lane_of);
	xf_lanes_free(l);
	errno = -rc;
	return NULL;
}

void
xf_lanes_free(struct xf_lanes *l)
{
	if (l != NULL) {
		free(l->order);
		free(l);
	}
}

static int
rule_add(struct xf_lanes_rule *out, unsigned int max, unsigned int *n, uint32_t src, uint32_t dst,
         uint16_t queue)
{
	if (src > UINT16_MAX || dst > UINT16_MAX) {
		return 0;
	}
	if (*n >= max) {
		return -ENOSPC;
	}
	out[*n] = (struct xf_lanes_rule){ .src_port = (uint16_t)src,
		                          .dst_port = (uint16_t)dst,
		                          .queue = queue };
	(*n)++;
	return 0;
}

int
xf_lanes_rules(uint16_t udp_port, const uint16_t *peer_ports, unsigned int npeer, uint16_t nq,
               struct xf_lanes_rule *out, unsigned int max)
{
	unsigned int n = 0;

	if (udp_port == 0 || nq == 0) {
		return -EINVAL;
	}
	for (unsigned int k = 1; k < XF_LANES_MAX; k++) {
		if (rule_add(out, max, &n, 0, (uint32_t)udp_port + k, xf_lanes_queue(k, nq)) < 0) {
			return -ENOSPC;
		}
	}
	for (unsigned int p = 0; p < npeer; p++) {
		bool seen = peer_ports[p] == 0;

		for (unsigned int i = 0; i < p && !seen; i++) {
			seen = peer_ports[i] == peer_ports[p];
		}
		for (unsigned int k = 0; k < XF_LANES_MAX && !seen; k++) {
			if (rule_add(out, max, &n, (uint32_t)peer_ports[p] + k, udp_port,
			             xf_lanes_queue(k, nq)) < 0) {
				return -ENOSPC;
			}
		}
	}
	return (int)n;
}

uint32_t
xf_lanes_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len)
{
	uint32_t hash = 0, window;
	size_t next = 4; /* the key byte that shifts into the window next */

	if (key_len < len + 4) {
		return 0;
	}
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			if ((in[i] >> b) & 1u) {
				hash ^= window;
			}
			window = window << 1 | (uint32_t)((key[next] >> b) & 1u);
		}
		next++;
	}
	return hash;
}

uint16_t
xf_lanes_rss_queue(const struct xf_lanes_rss *rss, uint32_t src_ip, uint32_t dst_ip,
                   uint16_t src_port, uint16_t dst_port)
{
	const uint8_t in[12] = {
		(uint8_t)(src_ip >> 24), (uint8_t)(src_ip >> 16),  (uint8_t)(src_ip >> 8),
		(uint8_t)src_ip,         (uint8_t)(dst_ip >> 24),  (uint8_t)(dst_ip >> 16),
		(uint8_t)(dst_ip >> 8),  (uint8_t)dst_ip,          (uint8_t)(src_port >> 8),
		(uint8_t)src_port,       (uint8_t)(dst_port >> 8), (uint8_t)dst_port,
	};

	return rss
	        ->reta[xf_lanes_toeplitz(rss->key, rss->key_len, in, sizeof(in)) % rss->reta_size];
}

int
xf_lanes_rss_ports(const struct xf_lanes_rss *rss, uint32_t our_ip, uint32_t peer_ip,
                   uint16_t peer_port, uint16_t udp_port, uint16_t nq, unsigned int nlanes,
                   uint16_t *port, uint16_t *queue)
{
	unsigned int nports = XF_MIN(XF_LANES_MAX, 65536u - udp_port);
	uint16_t q_of[XF_LANES_MAX];
	unsigned int on_q[XF_LANES_MAX] = { 0 };
	bool used[XF_LANES_MAX] = { false };

	if (rss == NULL || rss->key_len < 16 || rss->reta_size == 0 || udp_port == 0 || nq == 0 ||
	    nq > XF_LANES_MAX || nlanes == 0 || nlanes > nports) {
		return -EINVAL;
	}
	for (unsigned int j = 0; j < nports; j++) {
		q_of[j] = xf_lanes_rss_queue(rss, peer_ip, our_ip, peer_port,
		                             (uint16_t)(udp_port + j));
		if (q_of[j] >= nq) {
			return -EINVAL; /* a table that names a queue we do not poll */
		}
	}
	for (unsigned int k = 0; k < nlanes; k++) {
		unsigned int best = nports;

		for (unsigned int j = 0; j < nports; j++) {
			if (used[j]) {
				continue;
			}
			if (q_of[j] == xf_lanes_queue(k, nq)) {
				best = j;
				break;
			}
			if (best == nports || on_q[q_of[j]] < on_q[q_of[best]]) {
				best = j; /* no port of its own queue left: the least loaded */
			}
		}
		used[best] = true;
		on_q[q_of[best]]++;
		port[k] = (uint16_t)(udp_port + best);
		queue[k] = q_of[best];
	}
	return 0;
}
