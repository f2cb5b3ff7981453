/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL argument vector built from the config (cores, memory, devices, extra args).
 * No EAL here: the vector is only built; xferd passes it to rte_eal_init.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xf_config_priv.h"

/* ------------------------------------------------------------------------------------ */
/* EAL arguments                                                                         */

static int push_arg(char **argv, int *argc, int max, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int
push_arg(char **argv, int *argc, int max, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (*argc + 1 >= max) {
		return -E2BIG;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -ENOMEM;
	}
	argv[(*argc)++] = s;
	argv[*argc] = NULL;
	return 0;
}

static size_t
fmt_id_list(char *buf, size_t size, const uint32_t *ids, unsigned int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && len < size; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%u", i ? "," : "", ids[i]);
	}
	return len;
}

int
xf_config_eal_args(const struct xf_config *cfg, char **argv, int max)
{
	uint32_t lcores[1 + XF_CONFIG_MAX_RX + XF_CONFIG_MAX_WORKERS];
	unsigned int n = 0;
	char list[2048], cpus[1024];
	int argc = 0, rc;

	if (max < 1) {
		return -E2BIG;
	}
	argv[0] = NULL;
	lcores[n++] = cfg->cores.main;
	for (unsigned int i = 0; i < cfg->cores.n_rx; i++) {
		lcores[n++] = cfg->cores.rx[i];
	}
	for (unsigned int i = 0; i < cfg->cores.n_workers; i++) {
		bool combined = false; /* a worker on an RX core's lcore is listed once */

		for (unsigned int j = 0; j < cfg->cores.n_rx; j++) {
			combined |= cfg->cores.rx[j] == cfg->cores.workers[i];
		}
		if (!combined) {
			lcores[n++] = cfg->cores.workers[i];
		}
	}
	/* Ascending order reads better and is what EAL prints back. */
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = i; j > 0 && lcores[j - 1] > lcores[j]; j--) {
			uint32_t t = lcores[j];

			lcores[j] = lcores[j - 1];
			lcores[j - 1] = t;
		}
	}
	rc = push_arg(argv, &argc, max, "xferd");
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "--file-prefix=%s", cfg->eal.file_prefix);
	}
	if (rc == 0 && cfg->cores.n_cpus == 0) {
		fmt_id_list(list, sizeof(list), lcores, n);
		rc = push_arg(argv, &argc, max, "-l");
		if (rc == 0) {
			rc = push_arg(argv, &argc, max, "%s", list);
		}
	} else if (rc == 0) {
		size_t len = 0;

		fmt_id_list(cpus, sizeof(cpus), cfg->cores.cpus, cfg->cores.n_cpus);
		for (unsigned int i = 0; i < n && len < sizeof(list); i++) {
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u@(%s)",
			                        i ? "," : "", lcores[i], cpus);
		}
		rc = push_arg(argv, &argc, max, "--lcores=%s", list);
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "--main-lcore=%u", cfg->cores.main);
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "-m");
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "%u", cfg->eal.memory_mb);
	}
	if (rc == 0 && !cfg->eal.hugepages) {
		rc = push_arg(argv, &argc, max, "--no-huge");
	}
	if (rc == 0 && !cfg->eal.pci) {
		rc = push_arg(argv, &argc, max, "--no-pci");
	}
	for (unsigned int i = 0; rc == 0 && i < cfg->n_ports; i++) {
		if (xf_config_is_pci_addr(cfg->ports[i].device)) {
			rc = push_arg(argv, &argc, max, "-a");
			if (rc == 0) {
				rc = push_arg(argv, &argc, max, "%s", cfg->ports[i].device);
			}
		} else {
			rc = push_arg(argv, &argc, max, "--vdev=%s", cfg->ports[i].device);
		}
	}
	for (unsigned int i = 0; rc == 0 && i < cfg->eal.n_extra_args; i++) {
		rc = push_arg(argv, &argc, max, "%s", cfg->eal.extra_args[i]);
	}
	if (rc < 0) {
		xf_config_eal_args_free(argv, argc);
		argv[0] = NULL;
		return rc;
	}
	return argc;
}

void
xf_config_eal_args_free(char **argv, int argc)
{
	for (int i = 0; i < argc; i++) {
		free(argv[i]);
		argv[i] = NULL;
	}
}
