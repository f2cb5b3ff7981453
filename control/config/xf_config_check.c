/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks across fields, run on the filled struct: lcores and CPUs used once, unique
 * names, neighbours and peers inside a port's subnet, volumes that exist, the session's
 * files and the control socket's group. Each error points at a node by key path
 * (xf_config_path_error), so it carries a position like the walk's own errors.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_config_priv.h"

/* ------------------------------------------------------------------------------------ */
/* Cross-field checks                                                                    */

static bool
in_subnet(uint32_t a, uint32_t net, uint32_t plen)
{
	uint32_t mask = plen == 0 ? 0 : ~0u << (32 - plen);

	return (a & mask) == (net & mask);
}

static void
check_lcores(struct loader *ld, const struct xf_config *c)
{
	struct {
		uint32_t id;
		char kind; /* 'm'ain, 'r'x, 'w'orker */
		char path[48];
	} used[1 + XF_CONFIG_MAX_RX + XF_CONFIG_MAX_WORKERS];
	unsigned int n = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	used[n].id = c->cores.main;
	used[n].kind = 'm';
	snprintf(used[n++].path, sizeof(used[0].path), "cores.main");
	for (unsigned int i = 0; i < c->cores.n_rx; i++) {
		used[n].id = c->cores.rx[i];
		used[n].kind = 'r';
		snprintf(used[n++].path, sizeof(used[0].path), "cores.rx[%u]", i);
	}
	for (unsigned int i = 0; i < c->cores.n_workers; i++) {
		used[n].id = c->cores.workers[i];
		used[n].kind = 'w';
		snprintf(used[n++].path, sizeof(used[0].path), "cores.workers[%u]", i);
	}
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = 0; j < i; j++) {
			/* A worker may share an RX core's lcore: combined mode (docs/ENGINE.md). */
			bool combined = used[i].kind == 'w' && used[j].kind == 'r';

			if (used[i].id == used[j].id && !combined) {
				xf_config_path_error(ld, used[i].path,
				                     "lcore %u is already used by %s", used[i].id,
				                     used[j].path);
				break;
			}
		}
	}
	for (unsigned int i = 0; i < c->cores.n_cpus; i++) {
		char path[48];

		snprintf(path, sizeof(path), "cores.cpus[%u]", i);
		if (ncpu > 0 && c->cores.cpus[i] >= (uint32_t)ncpu) {
			xf_config_path_error(ld, path,
			                     "CPU %u does not exist (this host has %ld CPUs)",
			                     c->cores.cpus[i], ncpu);
		}
		for (unsigned int j = 0; j < i; j++) {
			if (c->cores.cpus[j] == c->cores.cpus[i]) {
				xf_config_path_error(ld, path,
				                     "CPU %u is listed twice (also cores.cpus[%u])",
				                     c->cores.cpus[i], j);
				break;
			}
		}
	}
}

static void
check_unique_names(struct loader *ld, const char *list, const char *base, size_t stride,
                   unsigned int n, const char *what)
{
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = 0; j < i; j++) {
			const char *a = base + i * stride, *b = base + j * stride;

			if (a[0] != '\0' && strcmp(a, b) == 0) {
				char path[64];

				snprintf(path, sizeof(path), "%s[%u].%s", list, i, what);
				xf_config_path_error(ld, path, "%s '%s' is already used by %s[%u]",
				                     what, a, list, j);
				break;
			}
		}
	}
}

void
xf_config_fault_conf(const struct xf_config_port *p, struct xf_fault_conf *out)
{
	const struct xf_config_fault *f = &p->fault;

	memset(out, 0, sizeof(*out));
	out->seed = f->seed;
	out->reorder_p = f->reorder_percent / 100.0;
	out->reorder_k = f->reorder_percent > 0 ? 8 : 0;
	out->rate_bps = (uint64_t)f->rate_mbit * 1000000u;
	out->delay_ns = (uint64_t)f->delay_ms * 1000000u;
	out->queue_bytes = f->queue_bytes;
	out->loss = f->loss_ppm / 1e6;
	if (f->burst_ppm > 0) {
		out->ge.p_good_bad = f->burst_ppm / 1e6;
		out->ge.p_bad_good = 1.0 / f->burst_frames;
		out->ge.loss_bad = f->burst_loss_percent / 100.0;
	}
	out->max_frame = p->mtu + 14u;
}

/* ports[i].fault: the emulated link is bounded (docs/RELIABILITY.md, "The port's fault
 * stage"): a delay or a queue needs a rate, and rate x delay plus the queue must fit the
 * slots the stage preallocates and, in full-size frames over the n_rx queues, half the
 * engine's mbuf pool. */
static void
check_fault(struct loader *ld, const struct xf_config_port *p, unsigned int i, unsigned int n_rx)
{
	struct xf_fault_conf fc;
	char path[64];

	xf_config_fault_conf(p, &fc);
	if (fc.rate_bps == 0 && (fc.delay_ns != 0 || fc.queue_bytes != 0)) {
		snprintf(path, sizeof(path), "ports[%u].fault.%s", i,
		         fc.delay_ns != 0 ? "delay_ms" : "queue_bytes");
		xf_config_path_error(ld, path,
		                     "needs ports[%u].fault.rate_mbit: without a rate "
		                     "nothing bounds what the link holds",
		                     i);
		return;
	}
	snprintf(path, sizeof(path), "ports[%u].fault.rate_mbit", i);
	if (xf_fault_link_slots(&fc) > XF_FAULT_MAX_SLOTS) {
		xf_config_path_error(ld, path,
		                     "rate x delay_ms plus the queue is %.0f bytes; the stage "
		                     "holds at most %u frames of %u bytes",
		                     xf_fault_link_bytes(&fc), XF_FAULT_MAX_SLOTS,
		                     XF_FAULT_MIN_FRAME);
	} else if (xf_fault_link_frames(&fc) * n_rx > XF_FAULT_MAX_FRAMES) {
		xf_config_path_error(
		        ld, path,
		        "the links of its %u queues hold up to %llu frames of %u bytes; "
		        "at most %u (half the mbuf pool)",
		        n_rx, (unsigned long long)(xf_fault_link_frames(&fc) * n_rx), fc.max_frame,
		        XF_FAULT_MAX_FRAMES);
	}
}

static void
check_ports(struct loader *ld, struct xf_config *c)
{
	char a[16], path[64];

	check_unique_names(ld, "ports", c->ports[0].name, sizeof(c->ports[0]), c->n_ports, "name");
	check_unique_names(ld, "ports", c->ports[0].device, sizeof(c->ports[0]), c->n_ports,
	                   "device");
	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct xf_config_port *p = &c->ports[i];

		if (!c->eal.pci && xf_config_is_pci_addr(p->device)) {
			snprintf(path, sizeof(path), "ports[%u].device", i);
			xf_config_path_error(ld, path, "'%s' is a PCI device but eal.pci is false",
			                     p->device);
		}
		check_fault(ld, p, i, c->cores.n_rx > 0 ? c->cores.n_rx : 1);
		for (unsigned int j = 0; j < p->n_neighbors; j++) {
			const struct xf_config_neighbor *nb = &p->neighbors[j];

			if (!in_subnet(nb->ipv4, p->ipv4, p->prefix_len)) {
				xf_config_fmt_ipv4(nb->ipv4, a, sizeof(a));
				snprintf(path, sizeof(path), "ports[%u].neighbors[%u].ipv4", i, j);
				xf_config_path_error(ld, path,
				                     "%s is outside the subnet of port '%s'", a,
				                     p->name);
			}
		}
	}
}

static void
check_peers(struct loader *ld, struct xf_config *c)
{
	char a[16], path[64];

	check_unique_names(ld, "peers", c->peers[0].name, sizeof(c->peers[0]), c->n_peers, "name");
	for (unsigned int i = 0; i < c->n_peers; i++) {
		struct xf_config_peer *pe = &c->peers[i];
		int found = -1;

		xf_config_fmt_ipv4(pe->ipv4, a, sizeof(a));
		if (pe->port[0] != '\0') {
			for (unsigned int j = 0; j < c->n_ports; j++) {
				if (strcmp(c->ports[j].name, pe->port) == 0) {
					found = (int)j;
				}
			}
			snprintf(path, sizeof(path), "peers[%u].port", i);
			if (found < 0) {
				xf_config_path_error(ld, path, "no port is named '%s'", pe->port);
				continue;
			}
			if (!in_subnet(pe->ipv4, c->ports[found].ipv4,
			               c->ports[found].prefix_len)) {
				snprintf(path, sizeof(path), "peers[%u].ipv4", i);
				xf_config_path_error(ld, path,
				                     "%s is outside the subnet of port '%s'", a,
				                     pe->port);
				continue;
			}
		} else {
			for (unsigned int j = 0; j < c->n_ports && found < 0; j++) {
				if (in_subnet(pe->ipv4, c->ports[j].ipv4, c->ports[j].prefix_len)) {
					found = (int)j;
				}
			}
			if (found < 0) {
				snprintf(path, sizeof(path), "peers[%u].ipv4", i);
				xf_config_path_error(ld, path,
				                     "%s is not inside the subnet of any port", a);
				continue;
			}
			snprintf(pe->port, sizeof(pe->port), "%s", c->ports[found].name);
		}
		pe->port_index = (unsigned int)found;
		if (pe->ipv4 == c->ports[found].ipv4) {
			snprintf(path, sizeof(path), "peers[%u].ipv4", i);
			xf_config_path_error(ld, path, "%s is the address of port '%s' itself", a,
			                     c->ports[found].name);
		}
	}
}

/* volumes[i].workers: lcores of cores.workers, each once (cores checked already). */
static void
check_volume_workers(struct loader *ld, const struct xf_config *c, unsigned int i)
{
	const struct xf_config_volume *v = &c->volumes[i];
	char path[64];

	for (unsigned int k = 0; k < v->n_workers; k++) {
		bool known = false;

		snprintf(path, sizeof(path), "volumes[%u].workers[%u]", i, k);
		for (unsigned int w = 0; w < c->cores.n_workers; w++) {
			known |= c->cores.workers[w] == v->workers[k];
		}
		if (!known) {
			xf_config_path_error(ld, path, "lcore %u is not one of cores.workers",
			                     v->workers[k]);
			continue;
		}
		for (unsigned int j = 0; j < k; j++) {
			if (v->workers[j] == v->workers[k]) {
				xf_config_path_error(ld, path,
				                     "lcore %u is listed twice (also workers[%u])",
				                     v->workers[k], j);
				break;
			}
		}
	}
}

static void
check_volumes(struct loader *ld, const struct xf_config *c, bool cores_ok)
{
	char path[64];
	struct stat st;

	check_unique_names(ld, "volumes", c->volumes[0].name, sizeof(c->volumes[0]), c->n_volumes,
	                   "name");
	for (unsigned int i = 0; i < c->n_volumes; i++) {
		const char *p = c->volumes[i].path;

		if (p[0] != '/') {
			continue; /* already reported */
		}
		if (cores_ok) {
			check_volume_workers(ld, c, i);
		}
		snprintf(path, sizeof(path), "volumes[%u].path", i);
		if (stat(p, &st) < 0) {
			xf_config_path_error(ld, path, "'%s': %s", p, strerror(errno));
		} else if (!S_ISDIR(st.st_mode)) {
			xf_config_path_error(ld, path, "'%s' is not a directory", p);
		}
	}
}

static bool has_error_under(const struct loader *ld, unsigned int first, const char *prefix);

/*
 * The engine's mbuf pool grows by 2 x (window_max_frames - 4096) frames of the largest
 * port MTU (xf_engine_create). A frame's mbuf: its struct and headroom (256 bytes),
 * max(2048, MTU + 78) of data room (xf_port_pool_create), 64 bytes of mempool header, and
 * at least a 4 KiB page (without hugepages the pool puts no smaller object across a page
 * boundary). Measured at MTU 1500 and 65536: 534 MiB failed, 768 started; 384 MiB is
 * the base pool and the rest of the EAL's memory with a margin.
 */
static uint64_t
window_memory_mb(const struct xf_config *c)
{
	uint32_t mtu = 576;
	uint64_t frame;

	for (unsigned int i = 0; i < c->n_ports; i++) {
		mtu = c->ports[i].mtu > mtu ? c->ports[i].mtu : mtu;
	}
	frame = 256u + (mtu + 78u > 2048u ? mtu + 78u : 2048u) + 64u;
	frame = frame < 4096u ? 4096u : frame;
	return 384u +
	       ((2ull * (c->session.window_max_frames - 4096u) * frame + (1u << 20) - 1) >> 20);
}

static void
check_session(struct loader *ld, const struct xf_config *c, unsigned int first)
{
	const struct loader *view = ld;
	const char *psk = c->session.psk_file;
	struct stat st;

	if (has_error_under(view, first, "session.psk_file")) {
		psk = "";
	}
	if (!has_error_under(view, first, "session.keepalive_ms") &&
	    !has_error_under(view, first, "session.timeout_ms") &&
	    c->session.keepalive_ms >= c->session.timeout_ms) {
		xf_config_path_error(ld, "session.keepalive_ms",
		                     "keepalive_ms (%u) must be less than timeout_ms (%u)",
		                     c->session.keepalive_ms, c->session.timeout_ms);
	}
	if (!has_error_under(view, first, "session.rekey_after_ms") &&
	    !has_error_under(view, first, "session.reject_after_ms") &&
	    c->session.reject_after_ms <= c->session.rekey_after_ms) {
		xf_config_path_error(
		        ld, "session.reject_after_ms",
		        "reject_after_ms (%u) must be greater than rekey_after_ms (%u)",
		        c->session.reject_after_ms, c->session.rekey_after_ms);
	}
	if (!has_error_under(view, first, "session.window_max_frames") &&
	    !has_error_under(view, first, "eal.memory_mb") &&
	    !has_error_under(view, first, "ports") && c->session.window_max_frames > 4096u &&
	    c->eal.memory_mb < window_memory_mb(c)) {
		xf_config_path_error(ld, "session.window_max_frames",
		                     "window_max_frames (%u) needs eal.memory_mb >= %" PRIu64
		                     " for its mbufs (it is %u)",
		                     c->session.window_max_frames, window_memory_mb(c),
		                     c->eal.memory_mb);
	}
	if (psk[0] == '/') {
		if (stat(psk, &st) < 0) {
			xf_config_path_error(ld, "session.psk_file", "'%s': %s", psk,
			                     strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			xf_config_path_error(ld, "session.psk_file", "'%s' is not a regular file",
			                     psk);
		} else if ((st.st_mode & 07777) != 0600) {
			xf_config_path_error(
			        ld, "session.psk_file",
			        "'%s' has mode %04o; a key file must be mode 0600 (owner-only)",
			        psk, (unsigned int)(st.st_mode & 07777));
		}
	}
	if (c->control.socket_group[0] != '\0' &&
	    !has_error_under(view, first, "control.socket_group")) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(c->control.socket_group, &gr, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			xf_config_path_error(ld, "control.socket_group", "no group is named '%s'",
			                     c->control.socket_group);
		}
	}
}

/*
 * Run each cross-field check unless a key it reads already has an error: a value that
 * failed to convert still holds its default, and checking it would report nonsense.
 */
static bool
has_error_under(const struct loader *ld, unsigned int first, const char *prefix)
{
	size_t n = strlen(prefix);

	for (unsigned int i = first; i < ld->errs->count; i++) {
		const char *k = ld->errs->items[i].key;

		if (strncmp(k, prefix, n) == 0 && (k[n] == '\0' || k[n] == '.' || k[n] == '[')) {
			return true;
		}
	}
	return false;
}

void
xf_config_cross_checks(struct loader *ld, struct xf_config *c, unsigned int first)
{
	if (!has_error_under(ld, first, "cores")) {
		check_lcores(ld, c);
	}
	if (!has_error_under(ld, first, "ports") && !has_error_under(ld, first, "eal.pci")) {
		check_ports(ld, c);
	}
	if (!has_error_under(ld, first, "ports") && !has_error_under(ld, first, "peers")) {
		check_peers(ld, c);
	}
	if (!has_error_under(ld, first, "volumes")) {
		check_volumes(ld, c, !has_error_under(ld, first, "cores"));
	}
	check_session(ld, c, first);
}
