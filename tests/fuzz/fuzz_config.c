/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the YAML configuration loader (docs/CONFIG.md).
 *
 * Each input is used twice:
 * 1. As a whole file, loaded from memory: the loader returns 0 or -EINVAL (or -EFBIG /
 *    -ENOMEM), never crashes; an invalid file has errors, each with a position and a
 *    message, and both printers handle them; a valid one dumps to YAML that loads back
 *    into an equal configuration and dumps to the same text (the dump is a fixed point).
 * 2. Its first line as a --set override applied to a valid base configuration: the
 *    same properties, and every --set error points inside the override.
 * Any violated property aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_config.h"
#include "xf_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid on any machine: the volume is /tmp, no PCI, cores 0..2 without a cpus list. */
static const char base[] = "version: 1\n"
                           "eal: {hugepages: false, pci: false}\n"
                           "ports:\n"
                           "  - {name: p0, device: net_null0, ipv4: 10.0.0.1/24}\n"
                           "volumes:\n"
                           "  - {name: v, path: /tmp}\n"
                           "peers:\n"
                           "  - {name: b, ipv4: 10.0.0.2}\n";

static char *
dump(const struct xf_config *c, size_t *len)
{
	char *s = NULL;
	FILE *f = open_memstream(&s, len);

	CHECK(f != NULL);
	CHECK(xf_config_dump(c, f) == 0);
	CHECK(fclose(f) == 0);
	return s;
}

static void
check_result(int rc, struct xf_config *c, const struct xf_config_errors *errs, unsigned int nsets,
             size_t set_len)
{
	FILE *sink;

	CHECK(rc == 0 || rc == -EINVAL || rc == -EFBIG || rc == -ENOMEM);
	if (rc == 0) {
		struct xf_config_errors errs2 = { 0 };
		struct xf_config *back = NULL;
		size_t len, len2;
		char *text = dump(c, &len), *text2;

		CHECK(c != NULL && errs->count == 0);
		CHECK(xf_config_load_buffer("dump.yaml", text, len, NULL, 0, &back, &errs2) == 0);
		text2 = dump(back, &len2);
		CHECK(len == len2 && memcmp(text, text2, len) == 0);
		CHECK(xf_config_diff(c, back, NULL, NULL) == 0);
		free(text);
		free(text2);
		xf_config_free(back);
		xf_config_errors_clear(&errs2);
		return;
	}
	CHECK(c == NULL);
	if (rc != -EINVAL) {
		return;
	}
	CHECK(errs->count > 0);
	for (unsigned int i = 0; i < errs->count; i++) {
		const struct xf_config_error *e = &errs->items[i];

		CHECK(e->message[0] != '\0');
		CHECK(memchr(e->key, '\0', sizeof(e->key)) != NULL);
		CHECK(memchr(e->source, '\0', sizeof(e->source)) != NULL);
		if (strcmp(e->file, "--set") == 0) {
			CHECK(e->line >= 1 && e->line <= nsets);
			CHECK(e->col >= 1 && e->col <= set_len + 1);
		} else {
			CHECK(e->line == 0 || e->col >= 1);
		}
	}
	sink = fopen("/dev/null", "w");
	CHECK(sink != NULL);
	CHECK(xf_config_errors_print_text(errs, sink) == 0);
	CHECK(xf_config_errors_print_json(errs, sink) == 0);
	fclose(sink);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xf_config_errors errs = { 0 };
	struct xf_config *c = NULL;
	const uint8_t *nl;
	char set[512];
	const char *sets[1] = { set };
	size_t set_len;
	int rc;

	rc = xf_config_load_buffer("fuzz.yaml", (const char *)data, size, NULL, 0, &c, &errs);
	check_result(rc, c, &errs, 0, 0);
	xf_config_free(c);
	xf_config_errors_clear(&errs);

	nl = memchr(data, '\n', size);
	set_len = (size_t)(nl != NULL ? nl - data : (ptrdiff_t)size);
	if (set_len >= sizeof(set) || memchr(data, '\0', set_len) != NULL) {
		return 0;
	}
	memcpy(set, data, set_len);
	set[set_len] = '\0';
	c = NULL;
	rc = xf_config_load_buffer("base.yaml", base, sizeof(base) - 1, sets, 1, &c, &errs);
	check_result(rc, c, &errs, 1, set_len);
	xf_config_free(c);
	xf_config_errors_clear(&errs);
	return 0;
}
