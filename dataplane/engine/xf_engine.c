/*
 * Engine set-up and the control thread's side: build the port, pool, pipeline and
 * rings; launch and stop the loops; start push jobs (the tree is scanned here, on
 * the control thread, where a blocking walk is allowed); the jobs and sessions the
 * control thread asks for. Its counters and read-outs are in xf_engine_stats.c; the RX
 * and worker loops, jobs, sessions and security in their own xf_engine_*.c files.
 */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine set-up and the control thread's side: build the port, pool, pipeline and
 * rings; launch and stop the loops; start push jobs (the tree is scanned here, on
 * the control thread, where a blocking walk is allowed); read snapshots.
 *
 * Over 1,000 lines: one concern, the engine's life on the control thread (make, run,
 * stop, free, and the jobs and sessions the control thread asks for); its counters and
 * read-outs are in xf_engine_stats.c, the RX and worker loops, jobs, sessions and
 * security in their own xf_engine_*.c files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <openssl/crypto.h>

#include "xf_base.h"
#include "xf_dest.h"
#include "xf_engine_priv.h"
#include "xf_path.h"

#define MODULE "engine"

unsigned int xf_engine_source(void *arg, struct xf_frame *out, unsigned int max);

static const char *const job_states[] = {
	[XF_JOB_QUEUED] = "queued", [XF_JOB_RUNNING] = "running",     [XF_JOB_DONE] = "done",
	[XF_JOB_FAILED] = "failed", [XF_JOB_CANCELLED] = "cancelled",
};

const char *
xf_job_state_str(enum xf_job_state s)
{
	return (unsigned int)s < XF_ARRAY_SIZE(job_states) ? job_states[s] : "?";
}

const char *
xf_engine_frame_drop_name(unsigned int i)
{
	return xf_proto_reason_str((enum xf_proto_reason)i);
}

const char *
xf_engine_net_drop_name(unsigned int i)
{
	return xf_net_drop_name((enum xf_net_drop)i);
}

static void
release_mbuf(void *arg, void *owner)
{
	(void)arg;
	rte_pktmbuf_free(owner);
}

static int
create_rings(struct xf_engine *e)
{
	unsigned int main_lcore = rte_get_main_lcore();
	char name[RTE_RING_NAMESIZE];

	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		struct eng_rx *rx = &e->rx[r];

		snprintf(name, sizeof(name), "xf_cmd_%u", r);
		rx->cmd =
		        xf_ring_create(name, 64, sizeof(struct eng_cmd), main_lcore, rx->lcore, -1);
		if (rx->cmd == NULL) {
			return -errno;
		}
		for (unsigned int w = 0; w < e->conf.n_workers; w++) {
			unsigned int wl = e->w[w].lcore;

			snprintf(name, sizeof(name), "xf_rd_%u_%u", r, w);
			rx->read_to[w] = xf_ring_create(name, 256, sizeof(struct eng_read_req),
			                                rx->lcore, wl, -1);
			snprintf(name, sizeof(name), "xf_rdd_%u_%u", w, r);
			rx->read_from[w] =
			        xf_ring_create(name, ENG_RING_SIZE, sizeof(struct eng_read_done),
			                       wl, rx->lcore, -1);
			if (rx->read_to[w] == NULL || rx->read_from[w] == NULL) {
				return -errno;
			}
		}
	}
	return 0;
}

static int
create_net(struct xf_engine *e)
{
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		struct xf_net_conf nc = {
			.mac = e->port.mac,
			.ip = e->conf.ip,
			.prefix_len = e->conf.prefix_len,
			.udp_port = e->conf.udp_port,
			/* The lanes' source ports, where they fit below 65536. */
			.udp_ports = (uint16_t)XF_MIN(XF_LANES_MAX, 65536u - e->conf.udp_port),
			.mtu = e->port.mtu != 0 ? XF_MIN(e->port.mtu, e->conf.mtu) : e->conf.mtu,
			/* Neighbour timers in the loops' ns clock; why these values:
			 * docs/ENGINE.md, "Neighbours". */
			.arp_interval = 100000000ull,     /* 100 ms */
			.reachable_time = 30000000000ull, /* 30 s */
			.delay_time = 1000000000ull,      /* 1 s */
		};
		int rc = xf_net_init(&e->rx[r].net, &nc);

		if (rc < 0) {
			return rc;
		}
		for (unsigned int i = 0; i < e->conf.n_neighbors; i++) {
			struct rte_ether_addr mac;

			memcpy(mac.addr_bytes, e->conf.neighbors[i].mac, 6);
			rc = xf_net_neigh_add_static(&e->rx[r].net, e->conf.neighbors[i].ip, &mac);
			if (rc < 0) {
				return rc;
			}
		}
	}
	return 0;
}

/*
 * Put every lane on its queue (docs/ENGINE.md, "Steering"): flow rules on the UDP ports
 * of our lanes and of the configured peers' lanes, before any frame is read, so a
 * session's frames never move between queues. A peer added by a reload gets no rule:
 * its frames are spread by the fallback (a hash of the 5-tuple: one queue per session).
 */
static void
steer(struct xf_engine *e)
{
	uint16_t peer_ports[XF_ENGINE_MAX_PEERS];
	struct xf_lanes_rule lr[XF_LANES_RULES_MAX(XF_ENGINE_MAX_PEERS)];
	struct xf_port_rule pr[XF_ARRAY_SIZE(lr)];
	int n;

	for (unsigned int p = 0; p < e->conf.n_peers; p++) {
		peer_ports[p] = e->conf.peers[p].udp_port;
	}
	n = xf_lanes_rules(e->conf.udp_port, peer_ports, e->conf.n_peers, e->port.nb_queues, lr,
	                   XF_ARRAY_SIZE(lr));
	for (int i = 0; i < n; i++) {
		pr[i] = (struct xf_port_rule){ .src_port = lr[i].src_port,
			                       .dst_port = lr[i].dst_port,
			                       .queue = lr[i].queue };
	}
	xf_port_steer(&e->port, pr, n > 0 ? (unsigned int)n : 0);
}

/*
 * UDP checksums on transmit. The device computes them where it can. Otherwise software
 * does, except on a shared-memory link (net_memif between two processes of one host,
 * the dev pair): nothing on it can corrupt a frame, just as the kernel's loopback skips
 * TCP/UDP checksums, and computing and verifying it costs two passes over every byte
 * (about 10% of a bulk push's CPU on the dev pair, perf/RESULTS.md). Receivers
 * accept a zero checksum (RFC 768) and verify any other.
 */
static uint32_t
udp_tx_flag(struct xf_engine *e)
{
	const char *how;
	uint32_t flag;

	if (e->conf.udp_checksum == XF_ENGINE_UDP_CSUM_OFF ||
	    (e->conf.udp_checksum == XF_ENGINE_UDP_CSUM_AUTO && !e->port.tx_udp_cksum &&
	     e->port.memory_link)) {
		how = e->conf.udp_checksum == XF_ENGINE_UDP_CSUM_OFF ? "none (udp_checksum: off)"
		                                                     : "none (shared-memory link)";
		flag = XF_NET_TX_UDP_NONE;
	} else if (e->port.tx_udp_cksum) {
		how = "device offload";
		flag = XF_NET_TX_UDP_CKSUM;
	} else {
		how = "software";
		flag = 0;
	}
	XF_LOG(INFO, MODULE, "UDP checksums sent: %s", how);
	e->udp_tx = flag == XF_NET_TX_UDP_NONE    ? "none"
	            : flag == XF_NET_TX_UDP_CKSUM ? "offload"
	                                          : "software";
	return flag;
}

/*
 * Volume v's receive pipeline: its own root, staging directory, fsync policy and size
 * limit, written by the workers volumes[v].workers names (all by default; the first is
 * its commit worker), fed by every RX core from that core's queue for v. Sessions whose
 * HELLO names v open in it, so nothing they write can reach another volume's root.
 */
static int
create_volume(struct xf_engine *e, unsigned int v)
{
	const struct xf_engine_conf *conf = &e->conf;
	const struct xf_engine_volume *cv = &conf->volumes[v];
	struct xf_pipeline_conf plc = { 0 };
	struct eng_volume *ev = &e->vol[v];
	unsigned int nw = cv->n_workers > 0 ? cv->n_workers : conf->n_workers;
	int rc;

	e->vol_names[v] = cv->name;
	ev->fd = open(cv->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ev->fd < 0) {
		rc = -errno;
		XF_LOG(ERR, MODULE, "volume %s (%s): %s", cv->name, cv->path, strerror(-rc));
		return rc;
	}
	rc = xf_storage_io_resolve(ev->fd, (enum xf_storage_io)conf->io, &ev->io);
	if (rc < 0) {
		XF_LOG(ERR, MODULE, "volume %s (%s): file I/O %s: %s", cv->name, cv->path,
		       xf_storage_io_str((enum xf_storage_io)conf->io), strerror(-rc));
		return rc;
	}
	plc.n_rx = conf->n_rx;
	plc.n_workers = nw;
	for (unsigned int r = 0; r < conf->n_rx; r++) {
		plc.rx_core[r] = conf->rx_lcore[r];
		plc.source[r] = xf_engine_source;
		plc.source_arg[r] = &e->rx[r].pend[v];
	}
	for (unsigned int i = 0; i < nw; i++) {
		unsigned int w = cv->n_workers > 0 ? cv->workers[i] : i;
		struct eng_worker *ew = &e->w[w];

		if (w >= conf->n_workers) {
			XF_LOG(ERR, MODULE, "volume %s: worker %u does not exist", cv->name, w);
			return -EINVAL;
		}
		plc.worker_core[i] = conf->worker_lcore[w];
		ew->vol[ew->nvol].idx = i;
		ew->vol[ew->nvol++].pl = NULL; /* set below, once made */
	}
	plc.root_fd = ev->fd;
	plc.window = conf->window;
	plc.max_sessions = conf->max_sessions;
	plc.fsync = (enum xf_fsync_policy)cv->fsync;
	plc.fsync_batch = cv->fsync_batch;
	plc.max_file_size = cv->max_file_size;
	plc.test_rename_hold_ms = cv->fault_rename_hold_ms;
	/* AUTO stays AUTO: each worker's storage takes the same back end on the volume and,
	 * on io_uring, AUTO's route (the operations it runs inline, xf_storage_auto_route()). */
	plc.io = conf->io;
	plc.verify_full = cv->verify_full;
	plc.no_clone = cv->no_clone;
	plc.sig_cache_mb = cv->sig_cache_mb;
	plc.keep_owner = cv->keep_owner;
	plc.xattr_ns = cv->xattr_ns;
	plc.partial_max_files = cv->partial_max_files;
	plc.partial_max_bytes = cv->partial_max_bytes;
	plc.release = release_mbuf;
	ev->pl = xf_pipeline_create(&plc);
	if (ev->pl == NULL) {
		rc = -errno;
		XF_LOG(ERR, MODULE, "pipeline over volume %s (%s): %s", cv->name, cv->path,
		       strerror(-rc));
		return rc;
	}
	for (unsigned int i = 0; i < nw; i++) {
		struct eng_worker *ew = &e->w[cv->n_workers > 0 ? cv->workers[i] : i];

		ew->vol[ew->nvol - 1].pl = ev->pl;
	}
	/* The clone probe ran in this volume's pipeline, on its own file system. */
	XF_LOG(INFO, MODULE, "volume %s (%s): file I/O %s, %u worker%s, COPY ops by %s, verify %s",
	       cv->name, cv->path, xf_storage_io_str(ev->io), nw, nw == 1 ? "" : "s",
	       xf_engine_volume_apply(e, v), cv->verify_full ? "full" : "fast");
	return 0;
}

struct xf_engine *
xf_engine_create(const struct xf_engine_conf *conf)
{
	struct xf_engine *e;
	struct xf_port_conf pc = { 0 };
	int rc;

	if (conf->n_rx == 0 || conf->n_rx > XF_ENGINE_MAX_RX || conf->n_workers == 0 ||
	    conf->n_workers > XF_ENGINE_MAX_WORKERS || conf->n_peers > XF_ENGINE_MAX_PEERS ||
	    conf->max_sessions_per_peer == 0 ||
	    conf->max_sessions_per_peer > XF_ENGINE_MAX_SESSIONS_PER_PEER || conf->n_volumes == 0 ||
	    conf->n_volumes > XF_ENGINE_MAX_VOLUMES) {
		XF_LOG(ERR, MODULE, "bad core, peer, per-peer session or volume counts");
		errno = EINVAL;
		return NULL;
	}
	if (eng_window_max(conf) < XF_RELIAB_DEFAULT_SLOTS ||
	    eng_window_max(conf) > XF_ENGINE_MAX_WINDOW_FRAMES ||
	    (eng_window_max(conf) & (eng_window_max(conf) - 1)) != 0) {
		XF_LOG(ERR, MODULE, "window_max_frames %u: a power of two, %u..%u",
		       conf->window_max_frames, XF_RELIAB_DEFAULT_SLOTS,
		       XF_ENGINE_MAX_WINDOW_FRAMES);
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return NULL;
	}
	e->conf = *conf;
	if (e->conf.max_jobs_per_peer == 0) {
		e->conf.max_jobs_per_peer = XF_ENGINE_MAX_JOBS; /* not limited */
	}
	e->root_fd = -1;
	for (unsigned int v = 0; v < XF_ENGINE_MAX_VOLUMES; v++) {
		e->vol[v].fd = -1;
	}
	for (unsigned int w = 0; w < XF_ENGINE_MAX_WORKERS; w++) {
		for (unsigned int i = 0; i < ENG_FDS_MAX; i++) {
			e->w[w].fds[i].fd = -1;
		}
	}
	for (unsigned int r = 0; r < conf->n_rx; r++) {
		e->rx[r].e = e;
		e->rx[r].idx = r;
		e->rx[r].lcore = conf->rx_lcore[r];
		e->rx[r].sig_ring = xf_lease_create(ENG_SIG_RING_BYTES);
		if (e->rx[r].sig_ring == NULL) {
			XF_LOG(ERR, MODULE, "signature ring: out of memory");
			goto err;
		}
	}
	for (unsigned int w = 0; w < conf->n_workers; w++) {
		e->w[w].e = e;
		e->w[w].idx = w;
		e->w[w].lcore = conf->worker_lcore[w];
	}
	for (unsigned int r = 0; r < conf->n_rx; r++) {
		e->rx[r].here_worker = -1;
		for (unsigned int w = 0; w < conf->n_workers; w++) {
			if (e->w[w].lcore == e->rx[r].lcore) {
				e->rx[r].here_worker = (int)w;
				break;
			}
		}
	}
	eng_peers_init(e);
	rc = eng_secure_create(e);
	/* The keys live on in their derived forms (the static pair, the peers' state). */
	OPENSSL_cleanse(e->conf.private_key, sizeof(e->conf.private_key));
	OPENSSL_cleanse(e->conf.psk, sizeof(e->conf.psk));
	if (rc < 0) {
		goto err;
	}

	/* ports[].fault's links may keep XF_FAULT_MAX_FRAMES of these: half (the config says). */
	_Static_assert(XF_FAULT_MAX_FRAMES <= 16383 / 2, "the fault stage's share of the pool");
	/* A push holds an mbuf per frame in flight: beyond the default table's 4,096, room
	 * for one session's whole window and as much again for the others. */
	e->mp = xf_port_pool_create("xf_mbufs",
	                            16383 + 2 * (eng_window_max(conf) - XF_RELIAB_DEFAULT_SLOTS),
	                            conf->mtu);
	if (e->mp == NULL) {
		XF_LOG(ERR, MODULE, "mbuf pool: %s", strerror(errno));
		goto err;
	}
	pc.device = conf->device;
	pc.nb_queues = (uint16_t)conf->n_rx;
	pc.nb_rxd = conf->rx_desc;
	pc.nb_txd = conf->tx_desc;
	pc.mtu = conf->mtu;
	pc.mp = e->mp;
	pc.fault = conf->fault;
	rc = xf_port_open(&e->port, &pc);
	if (rc < 0) {
		XF_LOG(ERR, MODULE, "port %s: %s", conf->device, strerror(-rc));
		goto err;
	}
	e->port_open = true;
	e->tx_flags = (e->port.tx_ip_cksum ? XF_NET_TX_IP_CKSUM : 0) | udp_tx_flag(e);
	if (create_net(e) < 0) {
		XF_LOG(ERR, MODULE, "interface configuration refused");
		goto err;
	}

	e->root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->root_fd < 0) {
		XF_LOG(ERR, MODULE, "/: %s", strerror(errno));
		goto err;
	}
	for (unsigned int v = 0; v < conf->n_volumes; v++) {
		if (create_volume(e, v) < 0) {
			goto err;
		}
	}
	for (unsigned int w = 0; w < conf->n_workers; w++) {
		/* Sources can be anywhere: each job reads through the one its source directory
		 * calls for (xf_engine_push() resolves transfer.io for it). Forced inline, no
		 * io_uring at all: the way to run where io_uring is disabled. */
		if (conf->io != XF_STORAGE_IO_INLINE) {
			e->w[w].st = xf_storage_create(e->root_fd, ENG_READS_MAX * ENG_BURST * 2,
			                               XF_STORAGE_IO_URING);
		}
		e->w[w].st_inline = xf_storage_create(e->root_fd, ENG_READS_MAX * ENG_BURST * 2,
		                                      XF_STORAGE_IO_INLINE);
		if ((e->w[w].st == NULL && conf->io != XF_STORAGE_IO_INLINE) ||
		    e->w[w].st_inline == NULL) {
			XF_LOG(ERR, MODULE, "storage for worker %u: %s", w, strerror(errno));
			goto err;
		}
		e->w[w].oq = calloc(ENG_OQ_SIZE, sizeof(*e->w[w].oq));
		e->w[w].zip = xf_zip_create();
		e->w[w].zbuf = malloc(XF_DATA_RAW_MAX);
		if (e->w[w].oq == NULL || e->w[w].zip == NULL || e->w[w].zbuf == NULL) {
			XF_LOG(ERR, MODULE, "worker %u: out of memory", w);
			goto err;
		}
	}
	rc = create_rings(e);
	if (rc < 0) {
		XF_LOG(ERR, MODULE, "rings: %s", strerror(-rc));
		goto err;
	}
	rc = xf_port_start(&e->port);
	if (rc < 0) {
		XF_LOG(ERR, MODULE, "port start: %s", strerror(-rc));
		goto err;
	}
	steer(e);
	return e;
err:
	xf_engine_destroy(e);
	return NULL;
}

void
xf_engine_rx_done(struct xf_engine *e)
{
	if (atomic_fetch_sub_explicit(&e->rx_running, 1, memory_order_acq_rel) == 1) {
		atomic_store_explicit(&e->workers_stop, true, memory_order_release);
		for (unsigned int w = 0; w < e->conf.n_workers; w++) {
			xf_hs_bell_ring(&e->w[w].bell); /* a parked worker sees the stop */
		}
	}
}

static void
combined_rx_poll(struct eng_combined *c, bool *busy)
{
	if (!c->rx_finished) {
		*busy |= xf_engine_rx_poll(c->rx);
		if (xf_engine_rx_finished(c->rx)) {
			c->rx_finished = true;
			xf_engine_rx_done(c->rx->e);
		}
	}
}

/*
 * An lcore that is both an RX core and a worker polls both in turn: on a small machine
 * (two appliances on two CPUs) one polling thread per process instead of two halves the
 * context switches each frame costs. The rings between them are still SP/SC with one
 * owner at each end; both ends are this lcore.
 */
int
xf_engine_combined_loop(void *arg)
{
	struct eng_combined *c = arg;
	struct xf_engine *e = c->rx->e;
	unsigned int idle = 0;

	xf_core_set_self(c->rx->lcore);
	prctl(PR_SET_TIMERSLACK, 1000UL); /* see xf_engine_rx_loop */
	while (!atomic_load_explicit(&e->workers_stop, memory_order_acquire)) {
		bool busy = false;

		combined_rx_poll(c, &busy);
		busy |= xf_engine_worker_poll(c->w);
		if (busy) {
			idle = 0;
		} else {
			/* Its worker's reads are work of its own: the spin stays for them. */
			xf_engine_idle(e, &idle,
			               !c->rx_finished && c->rx->peer_bound &&
			                       xf_engine_reader_idle(c->w));
		}
	}
	return 0;
}

static struct eng_worker *
worker_on(struct xf_engine *e, unsigned int lcore)
{
	for (unsigned int w = 0; w < e->conf.n_workers; w++) {
		if (e->w[w].lcore == lcore) {
			return &e->w[w];
		}
	}
	return NULL;
}

static bool
is_rx_lcore(const struct xf_engine *e, unsigned int lcore)
{
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		if (e->rx[r].lcore == lcore) {
			return true;
		}
	}
	return false;
}

int
xf_engine_launch(struct xf_engine *e)
{
	int hs_rc = eng_hs_start(e); /* before any HELLO can reach an RX core */

	if (hs_rc < 0) {
		return hs_rc;
	}
	atomic_store(&e->rx_running, e->conf.n_rx);
	for (unsigned int w = 0; w < e->conf.n_workers; w++) {
		int rc;

		if (is_rx_lcore(e, e->w[w].lcore)) {
			continue; /* launched with its RX core below */
		}
		/* No pipeline to poll: all its work comes by read requests, which ring it. */
		e->w[w].parks = e->w[w].nvol == 0;
		rc = rte_eal_remote_launch(xf_engine_worker_loop, &e->w[w], e->w[w].lcore);
		if (rc < 0) {
			return rc;
		}
	}
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		struct eng_worker *w = worker_on(e, e->rx[r].lcore);
		int rc;

		if (w != NULL) {
			e->combined[r] = (struct eng_combined){ .rx = &e->rx[r], .w = w };
			rc = rte_eal_remote_launch(xf_engine_combined_loop, &e->combined[r],
			                           e->rx[r].lcore);
		} else {
			rc = rte_eal_remote_launch(xf_engine_rx_loop, &e->rx[r], e->rx[r].lcore);
		}
		if (rc < 0) {
			return rc;
		}
	}
	e->launched = true;
	return 0;
}

void
xf_engine_stop(struct xf_engine *e)
{
	if (!e->launched) {
		eng_hs_stop(e); /* a launch that failed after starting it */
		return;
	}
	/* RX cores end their sessions and jobs; the last one to finish stops the workers. */
	atomic_store_explicit(&e->stop, true, memory_order_release);
	rte_eal_mp_wait_lcore();
	eng_hs_stop(e);
	e->launched = false;
}

struct xf_capture *
xf_engine_capture(struct xf_engine *e, unsigned int writer)
{
	struct xf_capture *c = atomic_load_explicit(&e->cap, memory_order_relaxed);
	unsigned int cores[XF_ENGINE_MAX_RX];

	if (c != NULL) {
		return c;
	}
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		cores[r] = e->rx[r].lcore;
	}
	/* The whole frame: Ethernet header (with room for a VLAN tag) and the IP MTU. */
	c = xf_capture_create(e->port.port_id, e->conf.n_rx, cores, writer,
	                      (uint32_t)e->port.mtu + RTE_ETHER_HDR_LEN + 4u);
	if (c != NULL) {
		atomic_store_explicit(&e->cap, c, memory_order_release);
	}
	return c;
}

void
xf_engine_destroy(struct xf_engine *e)
{
	if (e == NULL) {
		return;
	}
	xf_engine_stop(e);
	xf_capture_free(atomic_load_explicit(&e->cap, memory_order_relaxed));
	for (unsigned int i = 0; i < XF_ENGINE_MAX_JOBS; i++) {
		if (e->jobs[i].id != 0) {
			eng_job_free(e, &e->jobs[i]);
		}
	}
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		xf_ring_free(e->rx[r].cmd);
		for (unsigned int w = 0; w < e->conf.n_workers; w++) {
			xf_ring_free(e->rx[r].read_to[w]);
			xf_ring_free(e->rx[r].read_from[w]);
		}
	}
	for (unsigned int w = 0; w < e->conf.n_workers; w++) {
		for (unsigned int i = 0; i < ENG_FDS_MAX; i++) {
			if (e->w[w].fds[i].fd >= 0) {
				close(e->w[w].fds[i].fd);
			}
			xf_delta_match_free(e->w[w].fds[i].match);
			xf_lease_free(e->w[w].fds[i].sigs);
		}
		for (unsigned int i = 0; i < e->w[w].nspare; i++) {
			xf_delta_match_free(e->w[w].spare[i]);
		}
		/* Matcher answers never taken: their frames go back to the pool. */
		for (uint32_t q = e->w[w].oq_head; e->w[w].oq != NULL && q != e->w[w].oq_tail;
		     q++) {
			rte_pktmbuf_free(e->w[w].oq[q % ENG_OQ_SIZE].m);
		}
		for (unsigned int i = 0; i < ENG_READS_MAX; i++) {
			free(e->w[w].reads[i].dbuf);
		}
		free(e->w[w].oq);
		xf_zip_free(e->w[w].zip);
		free(e->w[w].zbuf);
		xf_storage_destroy(e->w[w].st);
		xf_storage_destroy(e->w[w].st_inline);
	}
	for (unsigned int v = 0; v < XF_ENGINE_MAX_VOLUMES; v++) {
		xf_pipeline_destroy(e->vol[v].pl);
		if (e->vol[v].fd >= 0) {
			close(e->vol[v].fd);
		}
	}
	for (unsigned int r = 0; r < XF_ENGINE_MAX_RX; r++) {
		/* Last: the jobs and the readers above gave back what they held. Arrays still
		 * in the rings between the cores go with the ring's memory. */
		xf_lease_destroy(e->rx[r].sig_ring);
		xf_sealbuf_fini(&e->rx[r].sealbuf); /* before the pool goes */
	}
	if (e->port_open) {
		xf_port_stop(&e->port);
		xf_port_close(&e->port);
	}
	if (e->root_fd >= 0) {
		close(e->root_fd);
	}
	xf_port_pool_free(e->mp);
	eng_secure_destroy(e);
	free(e);
}

/*
 * The file list of a job: the destination's directories first (so the receiver makes
 * them, in order, with the source root's mode and time), then the scanned tree, whose
 * paths the scan stored under "dest/". The directories' paths are prefixes of j->dest:
 * the FLIST builder takes a path by length, and a directory is never read.
 */
static int
job_build_list(struct eng_job *j, const struct stat *root_st, char *err, size_t err_len)
{
	size_t dest_len = strlen(j->dest);
	uint32_t k = 0;

	for (size_t i = 0; i < dest_len; i++) {
		j->ndest += j->dest[i] == '/';
	}
	j->ndest += dest_len > 0;
	j->dest_ent = calloc(j->ndest > 0 ? j->ndest : 1, sizeof(*j->dest_ent));
	if (j->dest_ent == NULL) {
		snprintf(err, err_len, "out of memory for the destination's directories");
		return -ENOMEM;
	}
	for (size_t i = 0; i < dest_len; i++) {
		if (j->dest[i + 1] == '/' || i + 1 == dest_len) {
			j->dest_ent[k++] = (struct xf_flist_entry){
				.kind = XF_FILE_DIR,
				.mode = root_st->st_mode & 07777,
				.mtime_ns = (int64_t)root_st->st_mtim.tv_sec * 1000000000ll +
				            root_st->st_mtim.tv_nsec,
				.path = j->dest,
				.path_len = (uint16_t)(i + 1),
				.uid = (uint32_t)root_st->st_uid,
				.gid = (uint32_t)root_st->st_gid,
			};
		}
	}
	/* The destination directory is the source root: it gets the root's attributes
	 * (the directories above it only its mode, as they get its mtime). */
	if (j->ndest > 0) {
		j->dest_ent[j->ndest - 1].xattr =
		        xf_scan_root_xattr(j->scan, &j->dest_ent[j->ndest - 1].xattr_len);
	}
	j->src_skip = dest_len > 0 ? (unsigned int)dest_len + 1 : 0;
	j->count = j->ndest + (uint32_t)xf_scan_count(j->scan);
	return 0;
}

/* --owner-names: the names of the uids and gids the list carries (what -o and -g send),
 * looked up here, on the control thread, since NSS may block (docs/PROTOCOL.md 6.21). */
static int
job_names(struct eng_job *j, char *err, size_t err_len)
{
	uint32_t *ids = malloc(2 * (size_t)(j->count > 0 ? j->count : 1) * sizeof(*ids));
	int rc = -ENOMEM;

	j->names = calloc(1, sizeof(*j->names));
	if (ids != NULL && j->names != NULL) {
		for (uint32_t i = 0; i < j->count; i++) {
			struct xf_flist_entry ent;

			eng_job_entry(j, i, &ent); /* XF_ID_NONE for what -o, -g do not send */
			ids[i] = ent.uid;
			ids[j->count + i] = ent.gid;
		}
		rc = xf_idnames_build(j->names, ids, ids + j->count, j->count, NULL, NULL);
	}
	free(ids);
	if (rc < 0) {
		free(j->names);
		j->names = NULL;
		snprintf(err, err_len, "out of memory for the owners' names");
	}
	return rc;
}

/* What a push's reader does through storage to its source files (xf_engine_worker.c). */
#define READER_OPS ((1u << XF_SOP_OPEN) | (1u << XF_SOP_READ))

int
xf_engine_push(struct xf_engine *e, const struct xf_engine_push_req *req, char *err, size_t err_len)
{
	struct xf_scan_stats ss;
	struct eng_job *j;
	struct stat st;
	struct statfs sfs;
	enum xf_storage_io io;
	struct xf_dest vd;
	const char *vol;
	int rc;

	if (req->peer >= e->conf.n_peers) {
		snprintf(err, err_len, "no such peer");
		return -EINVAL;
	}
	if (strlen(req->src) >= sizeof(j->src) || strlen(req->dest) >= sizeof(j->dest) ||
	    (req->dest[0] != '\0' && xf_path_validate(req->dest, strlen(req->dest)) < 0)) {
		snprintf(err, err_len,
		         "destination '%s' is not a relative path without '..' or empty parts",
		         req->dest);
		return -EINVAL;
	}
	/* A volume is checked as the receiver will check it: one component of the HELLO. */
	vol = req->volume != NULL ? req->volume : "";
	if (vol[0] != '\0' &&
	    (xf_dest_parse(vol, strlen(vol), XF_HELLO_F_VOLUME, &vd) < 0 || vd.path_len != 0)) {
		snprintf(err, err_len,
		         "volume '%.64s' is not a name of at most %u bytes without '/' (nor '.', "
		         "'..')",
		         vol, XF_DEST_VOLUME_MAX);
		return -EINVAL;
	}
	rc = eng_lanes_check(e, req, err, err_len);
	if (rc < 0) {
		return rc;
	}
	j = eng_job_new(e, err, err_len, &rc);
	if (j == NULL) {
		return rc;
	}
	j->req = *req;
	snprintf(j->src, sizeof(j->src), "%s", req->src);
	snprintf(j->dest, sizeof(j->dest), "%s", req->dest);
	snprintf(j->volume, sizeof(j->volume), "%s", vol);
	/* The HELLO names the volume before the path: "VOLUME/PATH", "VOLUME" for its root
	 * (xf_dest.h); the file list's paths stay relative to the volume's root. */
	j->hello_dest_len =
	        (uint16_t)snprintf(j->hello_dest, sizeof(j->hello_dest), "%s%s%s", j->volume,
	                           j->volume[0] != '\0' && j->dest[0] != '\0' ? "/" : "", j->dest);
	j->req.volume = j->volume;
	j->req.src = j->src;
	j->req.dest = j->dest;
	j->req.filter = NULL; /* the caller's: used by the scan below only */
	rc = eng_job_rules(e, j, req->filter, err, err_len);
	if (rc < 0) {
		goto err_job;
	}
	j->dir_fd = open(req->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0 || fstat(j->dir_fd, &st) < 0) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", req->src, strerror(errno));
		goto err_job;
	}
	rc = xf_storage_io_resolve(j->dir_fd, (enum xf_storage_io)e->conf.io, &io);
	if (rc < 0) {
		snprintf(err, err_len, "%s: %s", req->src, strerror(-rc));
		goto err_job;
	}
	/* The reader opens and reads: under AUTO it runs them as AUTO's route says
	 * for the source's file system (inline everywhere today: xf_storage_auto_route()),
	 * through the worker's inline context if both are routed inline. */
	j->io_inline = io == XF_STORAGE_IO_INLINE ||
	               (e->conf.io == XF_STORAGE_IO_AUTO && fstatfs(j->dir_fd, &sfs) == 0 &&
	                (xf_storage_auto_route((uint64_t)sfs.f_type) & READER_OPS) == READER_OPS);
	j->scan = xf_scan_tree(req->src, j->dest, req->filter,
	                       (req->hard_links ? XF_SCAN_F_HARDLINKS : 0) |
	                               (req->xattrs ? XF_SCAN_F_XATTRS : 0) |
	                               (req->acls ? XF_SCAN_F_ACLS : 0),
	                       &ss);
	if (j->scan == NULL) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", req->src, strerror(errno));
		goto err_job;
	}
	j->skipped = ss.skipped_special + ss.skipped_long + ss.skipped_xattr;
	j->delete_scan_errors = ss.skipped_long + ss.skipped_xattr + ss.errors != 0;
	j->filtered = ss.filtered;
	j->hardlinked = ss.hardlinks;
	rc = job_build_list(j, &st, err, err_len);
	if (rc < 0) {
		goto err_job;
	}
	if (req->owner_names && (req->owner || req->group)) {
		rc = job_names(j, err, err_len);
		if (rc < 0) {
			goto err_job;
		}
	}
	if (req->itemize) {
		j->items = calloc(j->count > 0 ? j->count : 1, sizeof(*j->items));
		if (j->items == NULL) {
			rc = -ENOMEM;
			snprintf(err, err_len, "out of memory for the itemized list");
			goto err_job;
		}
		/* The pages are touched only as deletions come in. */
		j->deleted = req->delete_extra ? malloc(XF_PUSH_DELETED_MAX) : NULL;
		if (req->delete_extra && j->deleted == NULL) {
			rc = -ENOMEM;
			snprintf(err, err_len, "out of memory for the itemized deletions");
			goto err_job;
		}
	}
	rc = eng_job_submit(e, j, err, err_len);
	if (rc < 0) {
		goto err_job;
	}
	XF_LOG(NOTICE, MODULE, "job %u: %s -> peer %u:%s, %u entries (%lu skipped, %lu filtered)",
	       j->id, req->src, req->peer, req->dest, j->count, (unsigned long)j->skipped,
	       (unsigned long)j->filtered);
	return (int)j->id;
err_job:
	eng_job_free(e, j);
	return rc;
}

struct eng_job *
eng_job_find(struct xf_engine *e, unsigned int id)
{
	for (unsigned int i = 0; i < XF_ENGINE_MAX_JOBS; i++) {
		if (id != 0 && (id & ENG_LANE_ID_BIT) == 0 && e->jobs[i].id == id) {
			return &e->jobs[i];
		}
	}
	return NULL;
}

int
xf_engine_job(struct xf_engine *e, unsigned int id, struct xf_job_info *out)
{
	struct eng_job *j = eng_job_find(e, id);
	unsigned int s1, s2;

	if (j == NULL) {
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->id = j->id;
	snprintf(out->src, sizeof(out->src), "%s", j->src);
	snprintf(out->dest, sizeof(out->dest), "%s", j->dest);
	snprintf(out->volume, sizeof(out->volume), "%s", j->volume);
	out->peer = j->req.peer;
	out->started_ns = j->started_ns;
	out->files_skipped = j->skipped;
	out->files_filtered = j->filtered;
	out->checksum = j->req.checksum;
	out->dry_run = j->req.dry_run;
	out->itemize = j->items != NULL;
	out->hard_links = j->req.hard_links;
	out->owner = j->req.owner;
	out->group = j->req.group;
	/* A push keeps the names it sends; a pull asks its peer for them (its IDS byte). */
	out->owner_names = j->names != NULL ||
	                   (j->pull && j->req.owner_names && (j->req.owner || j->req.group));
	out->xattrs = j->req.xattrs;
	out->acls = j->req.acls;
	out->files_hardlinked = j->hardlinked;
	out->compress = j->req.compress;
	out->compress_why = j->req.compress_why;
	out->delete_asked = j->req.delete_extra;
	out->delete_scan_errors = j->req.delete_extra && j->delete_scan_errors;
	out->pull = j->pull;
	out->session = j->session_id;
	out->io = xf_storage_io_str(j->io_inline ? XF_STORAGE_IO_INLINE : XF_STORAGE_IO_URING);
	/* A consistent snapshot: retry while the RX core is writing one. */
	do {
		s1 = atomic_load_explicit(&j->seq, memory_order_acquire);
		out->state = (enum xf_job_state)j->state;
		out->push = j->st;
		out->rel = j->rel;
		out->elapsed_ns = j->elapsed_ns;
		out->queued_ns = j->queued_ns;
		out->keyed = j->keyed;
		out->keys_born_ns = j->keys_born_ns;
		out->key_updates = j->key_updates;
		out->rekeys = j->rekeys;
		memcpy(out->peer_key, j->peer_key, sizeof(out->peer_key));
		memcpy(out->error, j->error, sizeof(out->error));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&j->seq, memory_order_acquire);
	} while (s1 != s2 || (s1 & 1));
	out->error[sizeof(out->error) - 1] = '\0';
	if (out->state == XF_JOB_QUEUED) {
		out->push.files_total = j->count;
	}
	out->lanes = 1;
	if (j->lanes != NULL) {
		eng_lanes_info(e, j, out);
	}
	if (!out->compress && out->push.zip_on) {
		out->compress = true; /* a session's HELLO_ACK asked (docs/PROTOCOL.md 6.16) */
		out->compress_why = XF_ZIP_PEER_VOLUME;
	}
	return 0;
}

const char *
xf_zip_why_str(enum xf_zip_why why)
{
	switch (why) {
	case XF_ZIP_JOB:
		return "job";
	case XF_ZIP_CONFIG:
		return "transfer.compress";
	case XF_ZIP_REFUSED:
		return "no-compress";
	case XF_ZIP_PEER_VOLUME:
		return "peer volume";
	case XF_ZIP_SRC_VOLUME:
		return "source volume";
	default:
		return "none";
	}
}

unsigned int
xf_engine_jobs(struct xf_engine *e, unsigned int *ids, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int id = 1; id <= e->next_job_id && n < max; id++) {
		if (eng_job_find(e, id) != NULL) {
			ids[n++] = id;
		}
	}
	return n;
}

int
xf_engine_cancel(struct xf_engine *e, unsigned int id)
{
	struct eng_job *j = eng_job_find(e, id);

	if (j == NULL) {
		return -ENOENT;
	}
	if (j->finished) {
		return -EALREADY;
	}
	if (j->lanes != NULL) {
		return eng_lanes_cancel(e, j);
	}
	return eng_cmd_post(e, j, ENG_CMD_CANCEL);
}

bool
xf_engine_link_poll(struct xf_engine *e)
{
	struct rte_eth_link link;
	bool up = xf_port_link(&e->port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;

	if (up != e->link_was_up) {
		XF_LOG(NOTICE, MODULE, "%s: link %s", e->port.name, up ? "up" : "down");
		if (up) {
			atomic_fetch_add_explicit(&e->link_ups, 1, memory_order_relaxed);
		}
		e->link_was_up = up;
	}
	return up;
}
