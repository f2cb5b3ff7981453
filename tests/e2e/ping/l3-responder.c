/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal L3 responder for end-to-end tests with the kernel as a peer: brings up one
 * port with xf_port, answers ARP and ICMP echo with xf_net, drops everything else, and
 * prints "ready" on stdout once it is answering. It exits after --seconds, or as soon as
 * its stdin closes (so the test script controls its lifetime without signals), then
 * prints its counters as "name=value" lines.
 *
 *   l3-responder [EAL args] -- --device DEV --ip A.B.C.D [--seconds N]
 *
 * Exit status: 0 ran; 1 error; 77 the device could not be opened (PMD or privilege
 * missing).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "xf_net.h"
#include "xf_port.h"

#define BURST 32

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* True once stdin has reached end of file; waits up to timeout_ms for it. */
static bool
stdin_closed(int timeout_ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[64];

	if (poll(&pfd, 1, timeout_ms) <= 0) {
		return false;
	}
	if (pfd.revents & (POLLIN | POLLHUP)) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		return n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN);
	}
	return (pfd.revents & (POLLERR | POLLNVAL)) != 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: l3-responder [EAL args] -- --device DEV --ip A.B.C.D "
	                "[--seconds N]\n");
}

/* Answer what xf_net answers on every frame waiting; true when any frame came in. */
static bool
serve(struct xf_port *port, struct xf_net *net, uint64_t now)
{
	struct rte_mbuf *pkts[BURST], *replies[BURST];
	uint16_t nb, nr = 0, sent;

	nb = xf_port_rx_burst(port, 0, pkts, BURST);
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		struct xf_net_rx_result r;
		uint16_t len = rte_pktmbuf_data_len(m);

		if (m->nb_segs != 1) {
			rte_pktmbuf_free(m); /* not produced at MTU 1500 */
			continue;
		}
		xf_net_rx(net, rte_pktmbuf_mtod(m, uint8_t *), len,
		          (uint16_t)(len + rte_pktmbuf_tailroom(m)),
		          xf_net_rx_flags_from_mbuf(m->ol_flags), now, &r);
		if (r.verdict == XF_NET_REPLY) {
			m->data_len = r.reply_len;
			m->pkt_len = r.reply_len;
			m->ol_flags = 0;
			replies[nr++] = m;
		} else {
			rte_pktmbuf_free(m);
		}
	}
	if (nr > 0) {
		sent = xf_port_tx_burst(port, 0, replies, nr);
		if (sent < nr) {
			rte_pktmbuf_free_bulk(replies + sent, (unsigned int)(nr - sent));
		}
	}
	return nb > 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL;
	struct in_addr ip = { 0 };
	unsigned long seconds = 30;
	struct rte_mempool *pool;
	struct xf_port_conf pc;
	struct xf_net_conf nc;
	struct xf_port port;
	struct xf_net net;
	uint64_t deadline;
	int ret, opt, status = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "l3-responder: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			device = optarg;
			break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &ip) != 1) {
				usage();
				return 1;
			}
			break;
		case 's':
			seconds = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
			return 1;
		}
	}
	if (device == NULL || ip.s_addr == 0 || seconds == 0) {
		usage();
		return 1;
	}

	pool = rte_pktmbuf_pool_create("l3resp", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "l3-responder: mbuf pool: %s\n", rte_strerror(rte_errno));
		status = 1;
		goto out_eal;
	}
	memset(&pc, 0, sizeof(pc));
	pc.device = device;
	pc.nb_queues = 1;
	pc.nb_rxd = 512;
	pc.nb_txd = 512;
	pc.mtu = 1500;
	pc.mp = pool;
	ret = xf_port_open(&port, &pc);
	if (ret == -ENODEV) {
		fprintf(stderr, "l3-responder: cannot open %s (PMD missing?)\n", device);
		status = 77;
		goto out_pool;
	} else if (ret != 0) {
		status = 1;
		goto out_pool;
	}
	ret = xf_port_start(&port);
	if (ret != 0) {
		status = 1;
		goto out_close;
	}
	memset(&nc, 0, sizeof(nc));
	nc.mac = port.mac;
	nc.ip = ip.s_addr;
	nc.prefix_len = 24;
	nc.udp_port = 7400;
	nc.mtu = port.mtu;
	nc.arp_interval = 1000;
	if (xf_net_init(&net, &nc) != 0) {
		fprintf(stderr, "l3-responder: bad address configuration\n");
		status = 1;
		goto out_close;
	}

	printf("ready\n");
	fflush(stdout);
	deadline = now_ms() + seconds * 1000u;
	for (;;) {
		uint64_t now = now_ms();
		bool busy = serve(&port, &net, now);

		if (now >= deadline) {
			break;
		}
		/* Idle: wait on stdin for up to 1 ms, which is also the back-off. */
		if (stdin_closed(busy ? 0 : 1)) {
			break;
		}
	}

	printf("rx_frames=%llu\narp_replied=%llu\nicmp_echo_replied=%llu\n",
	       (unsigned long long)net.ctr.rx_frames, (unsigned long long)net.ctr.arp_replied,
	       (unsigned long long)net.ctr.icmp_echo_replied);
	for (unsigned int i = 0; i < XF_NET_DROP_MAX; i++) {
		if (net.ctr.drop[i] != 0) {
			printf("drop_%s=%llu\n", xf_net_drop_name((enum xf_net_drop)i),
			       (unsigned long long)net.ctr.drop[i]);
		}
	}
	fflush(stdout);
out_close:
	xf_port_close(&port);
out_pool:
	rte_mempool_free(pool);
out_eal:
	rte_eal_cleanup();
	return status;
}
