/* SPDX-License-Identifier: BSD-3-Clause */
/* DPDK port bring-up (see xf_port.h). Control path, except the burst functions. */
#include "xf_port.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>

#include "xf_base.h"

#define MOD      "port"
#define TX_CHUNK XF_FAULT_BURST
#define RSS_WANT (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP)

/* Log which ethdev call failed and pass its -errno on. */
static int
fail(const struct xf_port *port, const char *call, int ret)
{
	if (ret >= 0) {
		ret = -EIO; /* a call that signals failure without an errno */
	}
	XF_LOG(ERR, MOD, "%s: %s failed: %s", port->name[0] != '\0' ? port->name : "?", call,
	       strerror(-ret));
	return ret;
}

/* "01:00.0" names the same PCI device as ethdev's "0000:01:00.0". */
static bool
is_short_pci(const char *s, size_t len)
{
	static const char pat[] = "xx:xx.x";

	if (len != sizeof(pat) - 1) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i]) {
			return false;
		}
	}
	return true;
}

/* The ethdev name of a device string: everything before the first ','. */
static int
device_name(const char *device, char *name, size_t size)
{
	size_t len = strcspn(device, ",");
	const char *prefix = is_short_pci(device, len) ? "0000:" : "";

	if (len == 0) {
		return -EINVAL;
	}
	if (strlen(prefix) + len + 1 > size) {
		return -ENAMETOOLONG;
	}
	snprintf(name, size, "%s%.*s", prefix, (int)len, device);
	return 0;
}

/* Find the port by name; probe (hot-plug) the device when EAL has not. */
static int
find_or_probe(struct xf_port *port, const char *device)
{
	int ret;

	if (rte_eth_dev_get_port_by_name(port->name, &port->port_id) == 0) {
		return 0;
	}
	ret = rte_dev_probe(device);
	if (ret < 0) {
		XF_LOG(ERR, MOD, "%s: rte_dev_probe(\"%s\") failed: %s", port->name, device,
		       strerror(-ret));
		return -ENODEV;
	}
	port->hotplugged = true;
	ret = rte_eth_dev_get_port_by_name(port->name, &port->port_id);
	if (ret != 0) {
		XF_LOG(ERR, MOD, "%s: probed \"%s\" but no ethdev has that name", port->name,
		       device);
		return -ENODEV;
	}
	return 0;
}

/* Pick RSS and checksum offloads from what the device offers. */
static void
choose_offloads(struct xf_port *port, const struct rte_eth_dev_info *info, struct rte_eth_conf *ec)
{
	memset(ec, 0, sizeof(*ec));
	if (port->nb_queues > 1) {
		port->rss_hf = info->flow_type_rss_offloads & RSS_WANT;
		if (port->rss_hf != 0) {
			ec->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			ec->rx_adv_conf.rss_conf.rss_hf = port->rss_hf;
		} else if (!port->kernel_hash && !port->memory_link) {
			XF_LOG(WARNING, MOD,
			       "%s: %u queues but no IPv4/UDP RSS: every frame lands on queue 0",
			       port->name, port->nb_queues);
		}
	}
	port->rx_ip_cksum = (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	port->rx_udp_cksum = (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
	port->tx_ip_cksum = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	port->tx_udp_cksum = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	if (port->rx_ip_cksum) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	}
	if (port->rx_udp_cksum) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	}
	if (port->tx_ip_cksum) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	}
	if (port->tx_udp_cksum) {
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	}
}

/* Set the MTU, clamped to what the device allows. */
static int
set_mtu(struct xf_port *port, const struct rte_eth_dev_info *info, uint16_t want)
{
	uint16_t mtu = want;
	int ret;

	if (mtu > info->max_mtu) {
		XF_LOG(ERR, MOD, "%s: MTU %u is above the device maximum %u: clamped to %u",
		       port->name, want, info->max_mtu, info->max_mtu);
		mtu = info->max_mtu;
	}
	if (mtu < info->min_mtu) {
		XF_LOG(ERR, MOD, "%s: MTU %u is below the device minimum %u: raised to %u",
		       port->name, want, info->min_mtu, info->min_mtu);
		mtu = info->min_mtu;
	}
	ret = rte_eth_dev_set_mtu(port->port_id, mtu);
	if (ret == -ENOTSUP) {
		/* Virtual devices without MTU control (ring, null): xf_net bounds what we send. */
		XF_LOG(INFO, MOD, "%s: device has no MTU control; using %u in software", port->name,
		       mtu);
	} else if (ret != 0) {
		return fail(port, "rte_eth_dev_set_mtu", ret);
	}
	port->mtu = mtu;
	return 0;
}

static int
setup_queues(struct xf_port *port, const struct rte_eth_dev_info *info,
             const struct rte_eth_conf *ec, struct rte_mempool *mp)
{
	int socket = rte_eth_dev_socket_id(port->port_id);
	struct rte_eth_rxconf rxc = info->default_rxconf;
	struct rte_eth_txconf txc = info->default_txconf;
	int ret;

	if (socket < 0) {
		socket = SOCKET_ID_ANY;
	}
	rxc.offloads = ec->rxmode.offloads;
	txc.offloads = ec->txmode.offloads;
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port->port_id, q, port->nb_rxd, (unsigned int)socket,
		                             &rxc, mp);
		if (ret != 0) {
			return fail(port, "rte_eth_rx_queue_setup", ret);
		}
		ret = rte_eth_tx_queue_setup(port->port_id, q, port->nb_txd, (unsigned int)socket,
		                             &txc);
		if (ret != 0) {
			return fail(port, "rte_eth_tx_queue_setup", ret);
		}
	}
	return 0;
}

/*
 * Some virtual devices (net_ring) have an all-zero MAC, which no peer can address:
 * give them a random locally administered one. Devices that cannot be told keep it
 * in software; they do not filter by MAC anyway.
 */
static int
assign_mac(struct xf_port *port)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	int ret;

	rte_eth_random_addr(port->mac.addr_bytes);
	ret = rte_eth_dev_default_mac_addr_set(port->port_id, &port->mac);
	if (ret != 0 && ret != -ENOTSUP) {
		return fail(port, "rte_eth_dev_default_mac_addr_set", ret);
	}
	rte_ether_format_addr(buf, sizeof(buf), &port->mac);
	XF_LOG(NOTICE, MOD, "%s: device has no MAC address; using %s", port->name, buf);
	return 0;
}

/* The fault stages' clock: the engine's (CLOCK_MONOTONIC, a vDSO read, no syscall). */
static uint64_t
fault_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *
fault_error(int rc)
{
	return rc == -E2BIG ? "rate x delay plus the queue is more than its slots can hold"
	                    : "a value out of range, or a delay or queue without a rate";
}

/*
 * One stage per TX queue, each owned by the queue's core. The frames a link holds are
 * mbufs of the pool the port also receives into: the full-size frames the links can hold
 * at once (their bytes over the MTU's frame) must leave half the pool.
 */
static int
setup_fault(struct xf_port *port, const struct xf_fault_conf *fc, const struct rte_mempool *mp)
{
	struct xf_fault_conf c = *fc;
	uint64_t frame = (uint64_t)port->mtu + RTE_ETHER_HDR_LEN;
	uint64_t now = fault_now();
	int ret;

	c.max_frame = (uint32_t)frame;
	ret = xf_fault_check(&c);
	if (ret != 0) {
		XF_LOG(ERR, MOD, "%s: bad fault stage: %s", port->name, fault_error(ret));
		return ret;
	}
	if (!xf_fault_conf_on(&c)) {
		return 0;
	}
	if (xf_fault_link_frames(&c) * port->nb_queues > mp->size / 2) {
		XF_LOG(ERR, MOD,
		       "%s: fault stage: the links can hold %llu full frames, more than half the "
		       "mbuf pool (%u): lower ports[].fault rate_mbit, delay_ms or queue_bytes",
		       port->name, (unsigned long long)(xf_fault_link_frames(&c) * port->nb_queues),
		       mp->size);
		return -E2BIG;
	}
	port->fault = calloc(port->nb_queues, sizeof(*port->fault));
	if (port->fault == NULL) {
		return -ENOMEM;
	}
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		struct xf_fault_conf qc = c;

		qc.seed = c.seed + q; /* distinct but reproducible per queue */
		ret = xf_fault_init(&port->fault[q].stage, &qc, now);
		if (ret != 0) {
			XF_LOG(ERR, MOD, "%s: fault stage of queue %u: %s", port->name, q,
			       strerror(-ret));
			return ret; /* xf_port_close() finishes what was made */
		}
	}
	XF_LOG(WARNING, MOD,
	       "%s: TX fault stage on: rate %llu bit/s, delay %llu ns, queue %llu B, loss %g, "
	       "bursts %g/%g (loss %g), reorder p %g k %u, seed %llu; %llu link slots per queue",
	       port->name, (unsigned long long)c.rate_bps, (unsigned long long)c.delay_ns,
	       (unsigned long long)xf_fault_queue_bytes(&c), c.loss, c.ge.p_good_bad,
	       c.ge.p_bad_good, c.ge.loss_bad, c.reorder_p, c.reorder_k, (unsigned long long)c.seed,
	       (unsigned long long)xf_fault_link_slots(&c));
	return 0;
}

int
xf_port_open(struct xf_port *port, const struct xf_port_conf *conf)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	int ret;

	memset(port, 0, sizeof(*port));
	if (conf->device == NULL || conf->mp == NULL || conf->nb_queues == 0) {
		XF_LOG(ERR, MOD, "port config needs a device, a mempool and at least one queue");
		return -EINVAL;
	}
	if (strlen(conf->device) >= XF_PORT_DEVICE_MAX) {
		XF_LOG(ERR, MOD, "device string too long (%zu bytes)", strlen(conf->device));
		return -ENAMETOOLONG;
	}
	ret = device_name(conf->device, port->name, sizeof(port->name));
	if (ret != 0) {
		XF_LOG(ERR, MOD, "bad device string \"%s\"", conf->device);
		return ret;
	}
	ret = find_or_probe(port, conf->device);
	if (ret != 0) {
		goto err_clear;
	}
	ret = rte_eth_dev_info_get(port->port_id, &info);
	if (ret != 0) {
		ret = fail(port, "rte_eth_dev_info_get", ret);
		goto err_close;
	}
	port->dev = info.device;
	port->memory_link = info.driver_name != NULL && strcmp(info.driver_name, "net_memif") == 0;
	port->kernel_hash =
	        info.driver_name != NULL && (strcmp(info.driver_name, "net_af_packet") == 0 ||
	                                     strcmp(info.driver_name, "net_tap") == 0);
	if (conf->nb_queues > info.max_rx_queues || conf->nb_queues > info.max_tx_queues) {
		XF_LOG(ERR, MOD, "%s: %u queue pairs asked, device has at most %u RX and %u TX",
		       port->name, conf->nb_queues, info.max_rx_queues, info.max_tx_queues);
		ret = -EINVAL;
		goto err_close;
	}
	port->nb_queues = conf->nb_queues;
	choose_offloads(port, &info, &ec);
	ret = rte_eth_dev_configure(port->port_id, port->nb_queues, port->nb_queues, &ec);
	if (ret != 0) {
		ret = fail(port, "rte_eth_dev_configure", ret);
		goto err_close;
	}
	port->nb_rxd = conf->nb_rxd != 0 ? conf->nb_rxd : XF_PORT_DEFAULT_DESC;
	port->nb_txd = conf->nb_txd != 0 ? conf->nb_txd : XF_PORT_DEFAULT_DESC;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port->port_id, &port->nb_rxd, &port->nb_txd);
	if (ret != 0) {
		ret = fail(port, "rte_eth_dev_adjust_nb_rx_tx_desc", ret);
		goto err_close;
	}
	ret = set_mtu(port, &info, conf->mtu != 0 ? conf->mtu : RTE_ETHER_MTU);
	if (ret != 0) {
		goto err_close;
	}
	ret = setup_queues(port, &info, &ec, conf->mp);
	if (ret != 0) {
		goto err_close;
	}
	ret = rte_eth_macaddr_get(port->port_id, &port->mac);
	if (ret != 0) {
		ret = fail(port, "rte_eth_macaddr_get", ret);
		goto err_close;
	}
	if (rte_is_zero_ether_addr(&port->mac)) {
		ret = assign_mac(port);
		if (ret != 0) {
			goto err_close;
		}
	}
	ret = setup_fault(port, &conf->fault, conf->mp);
	if (ret != 0) {
		goto err_close;
	}
	XF_LOG(INFO, MOD,
	       "%s: port %u, %u queue pairs (%u/%u desc), MTU %u, RSS %#llx, "
	       "csum offload rx ip %d udp %d, tx ip %d udp %d",
	       port->name, port->port_id, port->nb_queues, port->nb_rxd, port->nb_txd, port->mtu,
	       (unsigned long long)port->rss_hf, port->rx_ip_cksum, port->rx_udp_cksum,
	       port->tx_ip_cksum, port->tx_udp_cksum);
	return 0;

err_close:
	xf_port_close(port);
	return ret;
err_clear:
	memset(port, 0, sizeof(*port));
	return ret;
}

/*
 * Under a NIC's RSS, read back its key and redirection table. DPDK 22.11 does not say
 * which hash function a device uses: the Toeplitz hash is every supported NIC's default
 * (ice, i40e, ixgbe, mlx5), and a port left at its defaults keeps it. A device that
 * does not answer leaves them unknown, and pushes run their lanes on RX core 0.
 */
static void
rss_read(struct xf_port *port)
{
	struct rte_eth_rss_reta_entry64 reta[XF_PORT_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf rc = { .rss_key = port->rss_key };
	struct rte_eth_dev_info info;
	int ret;

	port->rss_key_len = 0;
	if (port->rss_hf == 0 || port->kernel_hash || port->memory_link ||
	    rte_eth_dev_info_get(port->port_id, &info) != 0 || info.reta_size == 0 ||
	    info.reta_size > XF_PORT_RETA_MAX || info.reta_size % RTE_ETH_RETA_GROUP_SIZE != 0 ||
	    info.hash_key_size < 16 || info.hash_key_size > XF_PORT_RSS_KEY_MAX) {
		return;
	}
	rc.rss_key_len = info.hash_key_size;
	memset(reta, 0, sizeof(reta));
	for (unsigned int g = 0; g < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; g++) {
		reta[g].mask = UINT64_MAX;
	}
	ret = rte_eth_dev_rss_hash_conf_get(port->port_id, &rc);
	if (ret == 0) {
		ret = rte_eth_dev_rss_reta_query(port->port_id, reta, info.reta_size);
	}
	if (ret != 0) {
		XF_LOG(NOTICE, MOD,
		       "%s: RSS key or table not readable (%s): lanes of pushes run "
		       "on RX core 0",
		       port->name, strerror(-ret));
		return;
	}
	for (unsigned int i = 0; i < info.reta_size; i++) {
		port->reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	}
	port->reta_size = info.reta_size;
	port->rss_key_len = (uint8_t)info.hash_key_size;
}

int
xf_port_start(struct xf_port *port)
{
	int ret = rte_eth_dev_start(port->port_id);

	if (ret != 0) {
		return fail(port, "rte_eth_dev_start", ret);
	}
	port->started = true;
	rss_read(port);
	/* Our MAC and broadcast only; virtual devices without the knob are fine. */
	ret = rte_eth_promiscuous_disable(port->port_id);
	if (ret != 0 && ret != -ENOTSUP) {
		XF_LOG(WARNING, MOD, "%s: rte_eth_promiscuous_disable failed: %s", port->name,
		       strerror(-ret));
	}
	return 0;
}

int
xf_port_link(const struct xf_port *port, struct rte_eth_link *link)
{
	int ret = rte_eth_link_get_nowait(port->port_id, link);

	if (ret != 0) {
		return fail(port, "rte_eth_link_get_nowait", ret);
	}
	return 0;
}

int
xf_port_xstats(const struct xf_port *port, xf_port_xstat_fn fn, void *arg)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *values = NULL;
	int n, got, ret;

	n = rte_eth_xstats_get_names(port->port_id, NULL, 0);
	if (n < 0) {
		return fail(port, "rte_eth_xstats_get_names", n);
	}
	names = calloc((size_t)n + 1, sizeof(*names));
	values = calloc((size_t)n + 1, sizeof(*values));
	if (names == NULL || values == NULL) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = rte_eth_xstats_get_names(port->port_id, names, (unsigned int)n);
	if (ret < 0 || ret > n) {
		ret = fail(port, "rte_eth_xstats_get_names", ret < 0 ? ret : -EAGAIN);
		goto out_free;
	}
	got = rte_eth_xstats_get(port->port_id, values, (unsigned int)n);
	if (got < 0 || got > n) {
		ret = fail(port, "rte_eth_xstats_get", got < 0 ? got : -EAGAIN);
		goto out_free;
	}
	for (int i = 0; i < got; i++) {
		if (values[i].id < (uint64_t)n) {
			fn(arg, names[values[i].id].name, values[i].value);
		}
	}
	ret = got;
out_free:
	free(values);
	free(names);
	return ret;
}

/* Send what the stage lets out; free what the device refuses (a test-only path). */
static uint16_t
send_or_free(struct xf_port *port, uint16_t q, struct rte_mbuf **out, uint16_t m)
{
	uint16_t sent = m == 0 ? 0 : rte_eth_tx_burst(port->port_id, q, out, m);

	if (sent < m) {
		port->fault[q].refused += (uint64_t)(m - sent);
		rte_pktmbuf_free_bulk(out + sent, (unsigned int)(m - sent));
	}
	return sent;
}

/* Offer n (<= TX_CHUNK) frames to queue q's stage at now; send what comes out. */
static uint16_t
fault_step(struct xf_port *port, uint16_t q, uint64_t now, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *out[XF_FAULT_OUT_MAX], *drop[XF_FAULT_DROP_MAX];
	uint32_t bytes[TX_CHUNK];
	uint16_t m, nd;

	for (uint16_t i = 0; i < n; i++) {
		bytes[i] = pkts[i]->pkt_len;
	}
	m = xf_fault_apply(&port->fault[q].stage, now, (void *const *)pkts, bytes, n, (void **)out,
	                   (void **)drop, &nd);
	if (nd > 0) {
		rte_pktmbuf_free_bulk(drop, nd);
	}
	return send_or_free(port, q, out, m);
}

uint16_t
xf_port_tx_burst(struct xf_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t now;

	if (likely(port->fault == NULL)) {
		return rte_eth_tx_burst(port->port_id, q, pkts, n);
	}
	now = fault_now();
	for (uint16_t done = 0; done < n;) {
		uint16_t chunk = (uint16_t)XF_MIN((unsigned int)(n - done), TX_CHUNK);

		fault_step(port, q, now, pkts + done, chunk);
		done = (uint16_t)(done + chunk);
	}
	return n;
}

uint16_t
xf_port_tx_poll(struct xf_port *port, uint16_t q, bool idle)
{
	struct rte_mbuf *out[XF_FAULT_MAX_HELD];
	struct xf_fault *f;
	uint16_t sent = 0;
	uint64_t now;

	if (likely(port->fault == NULL)) {
		return 0;
	}
	f = &port->fault[q].stage;
	now = fault_now();
	/* One time for the whole round, so that it ends: what falls due meanwhile waits for
	 * the next round. */
	while (xf_fault_due(f, now)) {
		sent = (uint16_t)(sent + fault_step(port, q, now, NULL, 0));
	}
	if (idle) {
		sent = (uint16_t)(sent +
		                  send_or_free(port, q, out, xf_fault_flush(f, (void **)out)));
	}
	return sent;
}

bool
xf_port_fault_stats(const struct xf_port *port, struct xf_port_fault_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (port->fault == NULL) {
		return false;
	}
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		const volatile struct xf_port_fault *pf = &port->fault[q];

		out->st.frames += pf->stage.st.frames;
		out->st.delivered += pf->stage.st.delivered;
		out->st.drop_queue += pf->stage.st.drop_queue;
		out->st.drop_random += pf->stage.st.drop_random;
		out->st.drop_burst += pf->stage.st.drop_burst;
		out->st.drop_slots += pf->stage.st.drop_slots;
		out->st.reordered += pf->stage.st.reordered;
		out->refused += pf->refused;
	}
	return true;
}

void
xf_port_stop(struct xf_port *port)
{
	int ret;

	if (port->fault != NULL) {
		struct rte_mbuf *held[XF_FAULT_OUT_MAX];

		for (uint16_t q = 0; q < port->nb_queues; q++) {
			unsigned int m;

			do {
				m = xf_fault_drain(&port->fault[q].stage, (void **)held,
				                   XF_FAULT_OUT_MAX);
				rte_pktmbuf_free_bulk(held, m);
			} while (m == XF_FAULT_OUT_MAX);
		}
	}
	xf_port_unsteer(port);
	if (!port->started) {
		return;
	}
	ret = rte_eth_dev_stop(port->port_id);
	if (ret != 0) {
		fail(port, "rte_eth_dev_stop", ret);
	}
	port->started = false;
}

void
xf_port_close(struct xf_port *port)
{
	int ret;

	if (port->name[0] == '\0') {
		return;
	}
	xf_port_stop(port);
	ret = rte_eth_dev_close(port->port_id);
	if (ret != 0) {
		fail(port, "rte_eth_dev_close", ret);
	}
	if (port->hotplugged && port->dev != NULL) {
		ret = rte_dev_remove(port->dev);
		if (ret != 0) {
			fail(port, "rte_dev_remove", ret);
		}
	}
	if (port->fault != NULL) {
		for (uint16_t q = 0; q < port->nb_queues; q++) {
			xf_fault_fini(&port->fault[q].stage);
		}
	}
	free(port->fault);
	memset(port, 0, sizeof(*port));
}

struct populate_ctx {
	uintptr_t page;
	int64_t bytes;
	int err;
};

static void
populate_chunk(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr,
               unsigned int mem_idx)
{
	struct populate_ctx *c = opaque;
	uintptr_t start = (uintptr_t)memhdr->addr & ~(c->page - 1);
	uintptr_t end = ((uintptr_t)memhdr->addr + memhdr->len + c->page - 1) & ~(c->page - 1);

	(void)mp;
	(void)mem_idx;
	if (c->err != 0) {
		return;
	}
	if (madvise((void *)start, end - start, MADV_POPULATE_WRITE) != 0) {
		c->err = errno;
		return;
	}
	c->bytes += (int64_t)(end - start);
}

int64_t
xf_port_pool_populate(struct rte_mempool *mp)
{
	struct populate_ctx c = { .page = (uintptr_t)sysconf(_SC_PAGESIZE) };

	rte_mempool_mem_iter(mp, populate_chunk, &c);
	return c.err != 0 ? -c.err : c.bytes;
}

struct rte_mempool *
xf_port_pool_create(const char *name, unsigned int n, uint16_t mtu)
{
	/* One frame per mbuf: Ethernet header, VLAN tags and CRC room around the MTU. */
	uint32_t room = RTE_PKTMBUF_HEADROOM + XF_MAX(2048u, (uint32_t)mtu + 14u + 64u);
	struct rte_mempool *mp =
	        rte_pktmbuf_pool_create(name, n, 256, 0, (uint16_t)room, (int)rte_socket_id());
	int64_t bytes;

	if (mp == NULL) {
		errno = rte_errno;
		return NULL;
	}
	bytes = xf_port_pool_populate(mp);
	if (bytes < 0) {
		XF_LOG(WARNING, MOD, "mbuf pool %s: populating its pages: %s", name,
		       strerror((int)-bytes));
	} else {
		XF_LOG(INFO, MOD, "mbuf pool %s: %lld MiB populated", name,
		       (long long)(bytes >> 20));
	}
	return mp;
}

void
xf_port_pool_free(struct rte_mempool *mp)
{
	rte_mempool_free(mp);
}

int
xf_port_stats(const struct xf_port *port, struct xf_port_stats *out)
{
	struct rte_eth_stats es;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = rte_eth_stats_get(port->port_id, &es);
	if (ret != 0) {
		return ret < 0 ? ret : -EIO;
	}
	out->rx_packets = es.ipackets;
	out->tx_packets = es.opackets;
	out->rx_bytes = es.ibytes;
	out->tx_bytes = es.obytes;
	out->rx_missed = es.imissed;
	out->tx_errors = es.oerrors;
	for (unsigned int q = 0; q < XF_PORT_STATS_QUEUES; q++) {
		out->q[q].rx_packets = es.q_ipackets[q];
		out->q[q].tx_packets = es.q_opackets[q];
		out->q[q].rx_bytes = es.q_ibytes[q];
		out->q[q].tx_bytes = es.q_obytes[q];
	}
	return 0;
}
