/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's configuration from the YAML config (xferd_engine_conf()), and the peer
 * table a reload may change without a restart: engine slots kept by name, new keys
 * derived here on the control thread (xferd_peers_reload()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "xf_cc.h"
#include "xf_config.h"
#include "xf_ctl.h"
#include "xf_engine.h"
#include "xf_filter.h"
#include "xf_itemize.h"
#include "xf_keyfile.h"
#include "xferd.h"
#include "xferd_roots.h"
#include "xf_xattr.h"

_Static_assert((int)XF_CONFIG_CC_NONE == (int)XF_CC_FIXED &&
                       (int)XF_CONFIG_CC_BBR == (int)XF_CC_BBR &&
                       (int)XF_CONFIG_CC_SCAVENGER == (int)XF_CC_SCAVENGER,
               "session.congestion values are the engine's");

_Static_assert(XF_CONFIG_MAX_SESSIONS_PER_PEER == XF_ENGINE_MAX_SESSIONS_PER_PEER,
               "session.max_sessions_per_peer: the schema's range is the engine's");

/* A configuration the schema accepts must start: its list limits are the engine's. */
_Static_assert(XF_CONFIG_MAX_RX == XF_ENGINE_MAX_RX, "cores.rx: schema and engine differ");
_Static_assert(XF_CONFIG_MAX_WORKERS == XF_ENGINE_MAX_WORKERS,
               "cores.workers: schema and engine differ");
_Static_assert(XF_CONFIG_MAX_PEERS == XF_ENGINE_MAX_PEERS, "peers: schema and engine differ");
_Static_assert(XF_CONFIG_MAX_NEIGHBORS == XF_ENGINE_MAX_NEIGH,
               "ports[].neighbors: schema and engine differ");

_Static_assert(XF_CONFIG_MAX_VOLUMES == XF_ENGINE_MAX_VOLUMES, "volumes: schema and engine differ");
_Static_assert(XF_CONFIG_MAX_JOBS == XF_ENGINE_MAX_JOBS,
               "session.max_jobs_per_peer: the schema's range is the engine's");

/*
 * The keys of session.security aead: the private key and the PSK read from their files
 * (a file that cannot be read stops the start), the peers' public keys. A daemon without
 * its own key, or a peer without one, starts and says so: its sessions are refused.
 */
static int
engine_keys(const struct xf_config *cfg, struct xf_engine_conf *ec)
{
	const char *pk = cfg->session.private_key_file;
	const char *psk = cfg->session.psk_file;
	int rc;

	ec->security_none = cfg->session.security == XF_CONFIG_SECURITY_NONE;
	if (ec->security_none) {
		XF_LOG(WARNING, "xferd",
		       "session.security is none: frames travel in clear, and any host that can "
		       "send from a peer's address can write files (lab use only)");
		return 0;
	}
	if (pk[0] == '\0') {
		XF_LOG(WARNING, "xferd",
		       "session.private_key_file is not set: every session is refused "
		       "(xferd keygen FILE makes a key)");
	} else if ((rc = xf_keyfile_read(pk, ec->private_key)) < 0) {
		XF_LOG(ERR, "xferd", "session.private_key_file %s: %s", pk, strerror(-rc));
		return rc;
	} else {
		ec->has_private_key = true;
	}
	if (psk[0] != '\0') {
		rc = xf_keyfile_read(psk, ec->psk);
		if (rc < 0) {
			XF_LOG(ERR, "xferd", "session.psk_file %s: %s", psk, strerror(-rc));
			return rc;
		}
		ec->has_psk = true;
	}
	return 0;
}

_Static_assert(XFERD_SLOTS == XF_CONFIG_MAX_PEERS && XFERD_SLOTS <= XF_ENGINE_MAX_PEERS &&
                       XFERD_SLOT_NAME == XF_CONFIG_NAME_MAX,
               "xferd.h's slot sizes are the config's");

/* A configured peer as the engine holds it; warns when it has no key. */
static void
engine_peer(const struct xf_config *cfg, unsigned int i, struct xf_engine_peer *ep)
{
	const struct xf_config_peer *p = &cfg->peers[i];

	memset(ep, 0, sizeof(*ep));
	ep->ip = htonl(p->ipv4);
	ep->udp_port = (uint16_t)p->udp_port;
	/* The loader checked the form already. */
	ep->has_key = p->public_key[0] != '\0' &&
	              xf_key_b64_decode(p->public_key, strlen(p->public_key), ep->public_key) == 0;
	if (!ep->has_key && cfg->session.security != XF_CONFIG_SECURITY_NONE) {
		XF_LOG(WARNING, "xferd",
		       "peers[%u] (%s) has no public_key: its sessions are refused", i, p->name);
	}
}

void
xferd_slots_init(struct xferd *d)
{
	d->n_slots = XF_MIN(d->cfg->n_peers, XF_CONFIG_MAX_PEERS);
	for (unsigned int i = 0; i < d->n_slots; i++) {
		d->peer_slot[i] = (uint16_t)i;
		snprintf(d->slot_name[i], sizeof(d->slot_name[i]), "%s", d->cfg->peers[i].name);
	}
}

const struct xf_config_peer *
xferd_slot_peer(const struct xferd *d, unsigned int slot)
{
	for (unsigned int i = 0; i < d->cfg->n_peers; i++) {
		if (d->peer_slot[i] == slot) {
			return &d->cfg->peers[i];
		}
	}
	return NULL;
}

const char *
xferd_slot_name(const struct xferd *d, unsigned int slot)
{
	return slot < d->n_slots && d->slot_name[slot][0] != '\0' ? d->slot_name[slot] : "?";
}

int
xferd_peers_reload(struct xferd *d, const struct xf_config *cand)
{
	static struct xf_engine_peer peers[XF_CONFIG_MAX_PEERS];
	static bool present[XF_CONFIG_MAX_PEERS];
	uint16_t slot[XF_CONFIG_MAX_PEERS];
	unsigned int n_slots = d->n_slots;
	int rc;

	memset(present, 0, sizeof(present));
	for (unsigned int i = 0; i < cand->n_peers; i++) {
		unsigned int s = n_slots;

		for (unsigned int k = 0; k < d->n_slots; k++) {
			if (strcmp(d->slot_name[k], cand->peers[i].name) == 0) {
				s = k;
			}
		}
		if (s == n_slots && n_slots++ == XF_CONFIG_MAX_PEERS) {
			XF_LOG(ERR, "reload", "peers: more than %u over this run: restart xferd",
			       XF_CONFIG_MAX_PEERS);
			return -ENOSPC;
		}
		slot[i] = (uint16_t)s;
		present[s] = true;
		engine_peer(cand, i, &peers[s]);
	}
	rc = d->engine != NULL ? xf_engine_set_peers(d->engine, peers, present, n_slots) : 0;
	explicit_bzero(peers, sizeof(peers));
	if (rc == -ETIMEDOUT) {
		/* Published: the slow RX core adopts it at its next poll. The mapping must
		 * follow what the engine holds. */
		XF_LOG(WARNING, "reload", "peers applied; an RX core has not adopted them yet");
		rc = 0;
	}
	if (rc < 0) {
		XF_LOG(ERR, "reload", "peers not applied: %s", strerror(-rc));
		return rc;
	}
	for (unsigned int s = 0; s < n_slots; s++) {
		if (!present[s]) {
			d->slot_name[s][0] = '\0';
		}
	}
	for (unsigned int i = 0; i < cand->n_peers; i++) {
		d->peer_slot[i] = slot[i];
		snprintf(d->slot_name[slot[i]], sizeof(d->slot_name[0]), "%s", cand->peers[i].name);
	}
	d->n_slots = n_slots;
	return 0;
}

int
xferd_engine_conf(const struct xf_config *cfg, struct xf_engine_conf *ec)
{
	const struct xf_config_port *port = &cfg->ports[0];

	memset(ec, 0, sizeof(*ec));
	if (cfg->n_ports > 1) {
		XF_LOG(WARNING, "xferd", "only the first port (%s) carries traffic in this version",
		       port->name);
	}
	ec->device = port->device;
	ec->ip = htonl(port->ipv4);
	ec->prefix_len = (uint8_t)port->prefix_len;
	ec->mtu = (uint16_t)port->mtu;
	ec->udp_port = (uint16_t)port->udp_port;
	ec->rx_desc = (uint16_t)port->rx_desc;
	ec->tx_desc = (uint16_t)port->tx_desc;
	ec->n_neighbors = XF_MIN(port->n_neighbors, XF_ENGINE_MAX_NEIGH);
	for (unsigned int i = 0; i < ec->n_neighbors; i++) {
		ec->neighbors[i].ip = htonl(port->neighbors[i].ipv4);
		memcpy(ec->neighbors[i].mac, port->neighbors[i].mac, 6);
	}
	xf_config_fault_conf(port, &ec->fault);
	ec->udp_checksum = port->udp_checksum == XF_CONFIG_UDP_CSUM_OFF  ? XF_ENGINE_UDP_CSUM_OFF
	                   : port->udp_checksum == XF_CONFIG_UDP_CSUM_ON ? XF_ENGINE_UDP_CSUM_ON
	                                                                 : XF_ENGINE_UDP_CSUM_AUTO;
	if (cfg->cores.n_rx > XF_ENGINE_MAX_RX || cfg->cores.n_workers > XF_ENGINE_MAX_WORKERS) {
		XF_LOG(ERR, "xferd", "at most %u RX cores and %u workers", XF_ENGINE_MAX_RX,
		       XF_ENGINE_MAX_WORKERS);
		return -EINVAL;
	}
	ec->n_rx = cfg->cores.n_rx;
	for (unsigned int i = 0; i < ec->n_rx; i++) {
		ec->rx_lcore[i] = cfg->cores.rx[i];
	}
	ec->n_workers = cfg->cores.n_workers;
	for (unsigned int i = 0; i < ec->n_workers; i++) {
		ec->worker_lcore[i] = cfg->cores.workers[i];
	}
	ec->idle_poll = cfg->cores.idle == XF_CONFIG_IDLE_POLL;
	ec->n_volumes = XF_MIN(cfg->n_volumes, XF_ENGINE_MAX_VOLUMES);
	for (unsigned int v = 0; v < ec->n_volumes; v++) {
		const struct xf_config_volume *cv = &cfg->volumes[v];
		struct xf_engine_volume *ev = &ec->volumes[v];

		ev->name = cv->name;
		ev->path = cv->path;
		ev->fsync = (int)cv->fsync;
		ev->fsync_batch = cv->fsync_batch;
		ev->max_file_size = (uint64_t)cv->max_file_gib << 30;
		ev->fault_rename_hold_ms = cv->fault.rename_hold_ms;
		ev->verify_full = cv->verify == XF_CONFIG_VERIFY_FULL;
		ev->no_clone = cv->delta_apply == XF_CONFIG_APPLY_READ_WRITE;
		ev->sig_cache_mb = cv->sig_cache_mb;
		ev->keep_owner = cv->keep_owner;
		ev->compress = cv->compress;
		ev->xattr_ns = 0;
		for (unsigned int k = 0; k < cv->n_xattr_namespaces; k++) {
			ev->xattr_ns |= cv->xattr_namespaces[k] == XF_CONFIG_XATTR_SECURITY
			                        ? XF_XATTR_NS_SECURITY
			                        : XF_XATTR_NS_TRUSTED;
		}
		ev->partial_max_files = cv->partial_max_files;
		ev->partial_max_bytes = (uint64_t)cv->partial_max_mb << 20;
		/* The config names workers by lcore (checked: each is in cores.workers). */
		for (unsigned int k = 0; k < cv->n_workers; k++) {
			for (unsigned int w = 0; w < ec->n_workers; w++) {
				if (ec->worker_lcore[w] == cv->workers[k]) {
					ev->workers[ev->n_workers++] = w;
				}
			}
		}
	}
	ec->io = (int)cfg->transfer.io; /* XF_CONFIG_IO_* are XF_STORAGE_IO_* */
	ec->window = cfg->session.window_files;
	ec->window_max_frames = cfg->session.window_max_frames;
	ec->max_sessions = cfg->session.max_sessions;
	ec->max_sessions_per_peer = cfg->session.max_sessions_per_peer;
	ec->max_jobs_per_peer = cfg->session.max_jobs_per_peer;
	ec->rate_bps = (uint64_t)cfg->session.rate_mbit * 1000000ull;
	ec->congestion = (int)cfg->session.congestion; /* XF_CONFIG_CC_* are XF_CC_* */
	ec->timeout_ms = cfg->session.timeout_ms;
	ec->keepalive_ms = cfg->session.keepalive_ms;
	ec->rekey_after_ms = cfg->session.rekey_after_ms;
	ec->reject_after_ms = cfg->session.reject_after_ms;
	ec->key_update_frames = cfg->session.key_update_frames;
	ec->handshake_load = cfg->session.handshake_load;
	ec->n_peers = XF_MIN(cfg->n_peers, XF_ENGINE_MAX_PEERS);
	for (unsigned int i = 0; i < ec->n_peers; i++) {
		engine_peer(cfg, i, &ec->peers[i]);
	}
	return engine_keys(cfg, ec);
}
