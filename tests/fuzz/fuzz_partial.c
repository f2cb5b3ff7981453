/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the tag of a partial file (dataplane/pipeline/xf_partial.c): the
 * extended attribute user.xferd.partial is read from the volume at start and at every
 * quick check of a large file, and the volume's disk is not ours to trust.
 *
 * An input is the attribute's value. A value accepted names a path of 1 to XF_PATH_MAX
 * bytes without a NUL, encodes back to exactly the input, equals itself, and names a
 * partial file of 16 hex digits. Any violated property aborts.
 */
#include <stdint.h>
#include <string.h>

#include "xf_fuzz.h"
#include "xf_partial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xf_partial_id id;
static uint8_t back[XF_PARTIAL_TAG_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[XF_PARTIAL_NAME_SIZE];

	if (xf_partial_decode(data, size, &id) != 0) {
		return 0;
	}
	CHECK(id.path_len >= 1 && id.path_len <= XF_PATH_MAX);
	CHECK(strlen(id.path) == id.path_len);
	CHECK(xf_partial_encode(&id, back) == size);
	CHECK(memcmp(back, data, size) == 0);
	CHECK(xf_partial_id_eq(&id, &id));
	xf_partial_name(id.path, id.path_len, name);
	CHECK(strspn(name, "0123456789abcdef") == 16 && name[16] == '\0');
	return 0;
}
