/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture of what the dataplane sees (`xferctl capture`, docs/OPERATIONS.md): each RX
 * core copies the frames it receives and sends into a pool of its own and passes the
 * copies on a single-producer/single-consumer ring to one writer thread, which writes
 * them to a pcapng file with DPDK's rte_pcapng.
 *
 * The RX core never blocks and never touches the data pool: a copy comes from the
 * core's capture pool; when that pool or the ring is full the frame is not captured and
 * counted (`missed`). The writer takes at most `count` frames, then the capture stops.
 */
#ifndef XF_CAPTURE_H
#define XF_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct xf_capture;

/** Most RX cores a capture serves. */
#define XF_CAPTURE_MAX_QUEUES 16u
/** Frames in flight per RX core: its ring's size and its pool's. */
#define XF_CAPTURE_DEPTH 1024u

/** Counters of the current (or last) capture. */
struct xf_capture_stats {
	uint64_t written; /**< frames written to the file */
	uint64_t missed;  /**< frames not captured: a core's pool or ring was full */
	bool on;          /**< the cores are copying */
};

/**
 * Create the rings and pools (no capture runs yet). Control thread, before or after the
 * cores start.
 *
 * @param port_id  The ethdev port whose frames are captured (the pcapng interface).
 * @param nq       RX cores (queues), 1..XF_CAPTURE_MAX_QUEUES.
 * @param cores    nq core ids: cores[q] is the only producer of ring q.
 * @param writer   Core id the writer thread runs as (xf_core_set_self), their consumer.
 * @param snaplen  Bytes kept of each frame (the port's MTU plus its Ethernet header).
 * @return the capture, or NULL (errno: EINVAL, ENOMEM).
 */
struct xf_capture *xf_capture_create(uint16_t port_id, unsigned int nq, const unsigned int *cores,
                                     unsigned int writer, uint32_t snaplen);

/** Free it; no core may tap it any more. NULL is ignored. */
void xf_capture_free(struct xf_capture *c);

/**
 * RX core q: copy frames it received (out false) or is sending (out true) when a
 * capture is on; a relaxed load and nothing else when it is off.
 */
void xf_capture_tap(struct xf_capture *c, unsigned int q, struct rte_mbuf *const *pkts,
                    unsigned int n, bool out);

/**
 * Writer side (one thread at a time, running as the rings' consumer core): start a capture of count
 * frames into fd (an empty file, taken over: xf_capture_end closes it). Copies left from an earlier
 * capture are dropped first.
 * @return 0, -EBUSY (one is on), -EINVAL (count 0), -EIO (pcapng header not written).
 */
int xf_capture_begin(struct xf_capture *c, int fd, uint64_t count);

/**
 * Writer thread: write what the cores queued, at most up to count.
 * @return frames written by this call (0: nothing queued), or -EIO (the file: the
 *         capture stops, xf_capture_end still has to be called).
 */
int xf_capture_drain(struct xf_capture *c);

/** Writer thread: true once count frames are written. */
bool xf_capture_full(const struct xf_capture *c);

/** Writer thread: stop the cores, write the interface statistics, close the file. */
void xf_capture_end(struct xf_capture *c);

/** Writer thread: the counters of the current or last capture. */
void xf_capture_stats(const struct xf_capture *c, struct xf_capture_stats *st);

#endif /* XF_CAPTURE_H */
