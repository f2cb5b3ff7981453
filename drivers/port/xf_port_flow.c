/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow steering of a port (see xf_port_steer() in xf_port.h): rte_flow rules on the UDP
 * ports, all or none, and the fallback when the device refuses them. Control path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_flow.h>

#include "xf_base.h"
#include "xf_port.h"

#define MOD "port"

static const char *const steering_names[] = {
	[XF_PORT_STEER_NONE] = "none",
	[XF_PORT_STEER_SENDER] = "sender",
	[XF_PORT_STEER_RSS] = "rss",
	[XF_PORT_STEER_FLOW] = "flow",
};

const char *
xf_port_steering_name(enum xf_port_steering s)
{
	return (unsigned int)s < XF_ARRAY_SIZE(steering_names) ? steering_names[s] : "?";
}

/* Validate, then create, one rule; NULL with the reason in err when refused. */
static struct rte_flow *
rule_make(const struct xf_port *port, const struct xf_port_rule *r, struct rte_flow_error *err)
{
	static const struct rte_flow_attr attr = { .ingress = 1 };
	struct rte_flow_item_udp spec = { 0 }, mask = { 0 };
	struct rte_flow_action_queue queue = { .index = r->queue };
	struct rte_flow_item pattern[] = {
		{ .type = RTE_FLOW_ITEM_TYPE_ETH },
		{ .type = RTE_FLOW_ITEM_TYPE_IPV4 },
		{ .type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &spec, .mask = &mask },
		{ .type = RTE_FLOW_ITEM_TYPE_END },
	};
	const struct rte_flow_action actions[] = {
		{ .type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &queue },
		{ .type = RTE_FLOW_ACTION_TYPE_END },
	};

	spec.hdr.dst_port = rte_cpu_to_be_16(r->dst_port);
	mask.hdr.dst_port = RTE_BE16(0xffff);
	if (r->src_port != 0) {
		spec.hdr.src_port = rte_cpu_to_be_16(r->src_port);
		mask.hdr.src_port = RTE_BE16(0xffff);
	}
	memset(err, 0, sizeof(*err));
	if (rte_flow_validate(port->port_id, &attr, pattern, actions, err) != 0) {
		return NULL;
	}
	return rte_flow_create(port->port_id, &attr, pattern, actions, err);
}

void
xf_port_unsteer(struct xf_port *port)
{
	struct rte_flow_error err;

	for (uint32_t i = 0; i < port->rules_installed; i++) {
		if (rte_flow_destroy(port->port_id, port->flows[i], &err) != 0) {
			XF_LOG(WARNING, MOD, "%s: rte_flow_destroy: %s", port->name,
			       err.message != NULL ? err.message : strerror(rte_errno));
		}
	}
	port->rules_installed = 0;
	free(port->flows);
	port->flows = NULL;
}

/* What spreads frames when no rule does. */
static enum xf_port_steering
fallback(const struct xf_port *port)
{
	return port->rss_hf != 0 || port->kernel_hash ? XF_PORT_STEER_RSS : XF_PORT_STEER_NONE;
}

enum xf_port_steering
xf_port_steer(struct xf_port *port, const struct xf_port_rule *rules, unsigned int n)
{
	struct rte_flow_error err;
	const struct xf_port_rule *bad = NULL;

	xf_port_unsteer(port);
	port->rules_refused = 0;
	if (port->nb_queues <= 1) {
		port->steering = XF_PORT_STEER_NONE;
		return port->steering;
	}
	if (port->memory_link) {
		port->steering = XF_PORT_STEER_SENDER;
		return port->steering;
	}
	port->flows = calloc(n > 0 ? n : 1, sizeof(*port->flows));
	if (port->flows == NULL) {
		XF_LOG(WARNING, MOD, "%s: no memory for %u flow rules", port->name, n);
		port->rules_refused = n;
		port->steering = fallback(port);
		return port->steering;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct rte_flow *f =
		        rules[i].queue < port->nb_queues ? rule_make(port, &rules[i], &err) : NULL;

		if (f == NULL) {
			if (bad == NULL) {
				bad = &rules[i];
				XF_LOG(NOTICE, MOD,
				       "%s: flow rule UDP %u -> %u to queue %u refused: %s",
				       port->name, rules[i].src_port, rules[i].dst_port,
				       rules[i].queue,
				       rules[i].queue >= port->nb_queues ? "no such queue"
				       : err.message != NULL             ? err.message
				                                         : strerror(rte_errno));
			}
			port->rules_refused++;
			continue;
		}
		port->flows[port->rules_installed++] = f;
	}
	if (bad != NULL || n == 0) {
		xf_port_unsteer(port); /* all or none: a partial set steers some lanes only */
		port->steering = fallback(port);
	} else {
		port->steering = XF_PORT_STEER_FLOW;
	}
	XF_LOG(INFO, MOD, "%s: steering %s (%u flow rules installed, %u refused)", port->name,
	       xf_port_steering_name(port->steering), port->rules_installed, port->rules_refused);
	return port->steering;
}
