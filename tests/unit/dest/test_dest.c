/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Destinations (xf_dest.h): the HELLO's VOLUME/PATH from the wire, hostile ones
 * included, the volume it resolves to, and the operator's PEER:PATH and PEER::VOL/PATH.
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_dest.h"
#include "xf_path.h"
#include "xf_proto.h"

static const char *const vols[] = { "data", "archive", "scratch-2" };

struct hello_case {
	const char *dest;
	size_t len; /**< 0: strlen(dest) */
	uint32_t flags;
	int rc;           /**< of xf_dest_parse */
	const char *path; /**< expected path, when rc is 0 */
	int vol;          /**< expected xf_dest_volume, when rc is 0 */
};

static const struct hello_case hello_cases[] = {
	/* No flag: the whole is the path, in the first volume, whatever it looks like. */
	{ "", 0, 0, 0, "", 0 },
	{ "x/y", 0, 0, 0, "x/y", 0 },
	{ "archive/y", 0, 0, 0, "archive/y", 0 }, /* a directory named like a volume */
	{ "archive", 0, 0, 0, "archive", 0 },
	{ "../x", 0, 0, -EINVAL, NULL, 0 },
	{ "/abs", 0, 0, -EINVAL, NULL, 0 },
	{ "a//b", 0, 0, -EINVAL, NULL, 0 },
	/* The flag: the first component is the volume. */
	{ "archive", 0, XF_HELLO_F_VOLUME, 0, "", 1 },
	{ "archive/in/here", 0, XF_HELLO_F_VOLUME, 0, "in/here", 1 },
	{ "data", 0, XF_HELLO_F_VOLUME, 0, "", 0 },
	{ "scratch-2/x", 0, XF_HELLO_F_VOLUME, 0, "x", 2 },
	{ "nosuch/x", 0, XF_HELLO_F_VOLUME, 0, "x", -ENOENT },
	{ "Data", 0, XF_HELLO_F_VOLUME, 0, "", -ENOENT }, /* byte for byte */
	{ "dat", 0, XF_HELLO_F_VOLUME, 0, "", -ENOENT },  /* a prefix is not a match */
	{ "datax", 0, XF_HELLO_F_VOLUME, 0, "", -ENOENT },
	/* Hostile volume parts. */
	{ "", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "/data", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "..", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "../data/x", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ ".", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data/", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data//x", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data/../../etc", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data/x/..", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data/./x", 0, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "da\0ta/x", 7, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
	{ "data/x\0", 7, XF_HELLO_F_VOLUME, -EINVAL, NULL, 0 },
};

static void
test_hello(void)
{
	for (size_t i = 0; i < XF_ARRAY_SIZE(hello_cases); i++) {
		const struct hello_case *c = &hello_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->dest);
		struct xf_dest d;
		int rc = xf_dest_parse(c->dest, len, c->flags, &d);

		if (rc != c->rc) {
			fprintf(stderr, "case %zu '%s': got %d want %d\n", i, c->dest, rc, c->rc);
		}
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc != 0 || c->rc != 0) {
			continue;
		}
		CU_ASSERT_EQUAL(d.path_len, strlen(c->path));
		CU_ASSERT(memcmp(d.path, c->path, d.path_len) == 0);
		CU_ASSERT_EQUAL(xf_dest_volume(&d, vols, XF_ARRAY_SIZE(vols)), c->vol);
		/* The volume part is never part of the path, and the path stays in dest. */
		CU_ASSERT(d.path >= c->dest && d.path + d.path_len <= c->dest + len);
	}
}

/* Length limits: a volume name of 63 bytes is one, of 64 is too long; the whole
 * destination at most XF_PATH_MAX. */
static void
test_lengths(void)
{
	char *big = malloc(XF_PATH_MAX + 2);
	const char *names[1];
	struct xf_dest d;
	char name[XF_DEST_VOLUME_MAX + 2];

	memset(name, 'v', sizeof(name));
	name[XF_DEST_VOLUME_MAX] = '\0';
	names[0] = name;
	CU_ASSERT_EQUAL(xf_dest_parse(name, XF_DEST_VOLUME_MAX, XF_HELLO_F_VOLUME, &d), 0);
	CU_ASSERT_EQUAL(xf_dest_volume(&d, names, 1), 0);
	name[XF_DEST_VOLUME_MAX] = 'v';
	CU_ASSERT_EQUAL(xf_dest_parse(name, XF_DEST_VOLUME_MAX + 1, XF_HELLO_F_VOLUME, &d),
	                -ENAMETOOLONG);

	memset(big, 'x', XF_PATH_MAX + 1);
	for (size_t i = 100; i < XF_PATH_MAX; i += 101) {
		big[i] = '/';
	}
	CU_ASSERT_EQUAL(xf_dest_parse(big, XF_PATH_MAX, XF_HELLO_F_VOLUME, &d), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(xf_dest_parse(big, XF_PATH_MAX, 0, &d), 0);
	CU_ASSERT_EQUAL(xf_dest_parse(big, XF_PATH_MAX + 1, 0, &d), -ENAMETOOLONG);
	/* A volume of 100 bytes, then a path: the name alone is too long. */
	CU_ASSERT_EQUAL(xf_dest_parse(big, 300, XF_HELLO_F_VOLUME, &d), -ENAMETOOLONG);
	free(big);
}

/* The parser reads only len bytes: a dest cut before its '/' is the volume alone. */
static void
test_no_overread(void)
{
	char *p = malloc(4);
	struct xf_dest d;

	memcpy(p, "ab/c", 4);
	CU_ASSERT_EQUAL(xf_dest_parse(p, 2, XF_HELLO_F_VOLUME, &d), 0);
	CU_ASSERT_EQUAL(d.volume_len, 2);
	CU_ASSERT_EQUAL(d.path_len, 0);
	CU_ASSERT_EQUAL(xf_dest_parse(p, 4, XF_HELLO_F_VOLUME, &d), 0);
	CU_ASSERT_EQUAL(d.path_len, 1);
	free(p);
}

struct target_case {
	const char *target;
	int rc;
	const char *peer, *volume, *path; /**< volume NULL: none named */
};

static const struct target_case target_cases[] = {
	{ "b:dir", 0, "b", NULL, "dir" },
	{ "b:", 0, "b", NULL, "" },
	{ "b:/", 0, "b", NULL, "" },
	{ "b://x/y", 0, "b", NULL, "x/y" },
	{ "b:archive/x", 0, "b", NULL, "archive/x" }, /* one ':': a path, never a volume */
	{ "b::archive", 0, "b", "archive", "" },
	{ "b::archive/", 0, "b", "archive", "" },
	{ "b::archive/x/y", 0, "b", "archive", "x/y" },
	{ "peer-2::v:1/x", 0, "peer-2", "v:1", "x" },
	{ "b:x:y", 0, "b", NULL, "x:y" },
	{ ":x", -EINVAL, NULL, NULL, NULL },
	{ "b", -EINVAL, NULL, NULL, NULL },
	{ "", -EINVAL, NULL, NULL, NULL },
	{ "b::", -EINVAL, NULL, NULL, NULL },
	{ "b::/x", -EINVAL, NULL, NULL, NULL },
	{ "b::../x", -EINVAL, NULL, NULL, NULL },
	{ "b::..", -EINVAL, NULL, NULL, NULL },
	{ "b::.", -EINVAL, NULL, NULL, NULL },
	{ "b::"
	  "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
	  -ENAMETOOLONG, NULL, NULL, NULL },
};

static void
test_target(void)
{
	for (size_t i = 0; i < XF_ARRAY_SIZE(target_cases); i++) {
		const struct target_case *c = &target_cases[i];
		const char *peer = NULL;
		size_t peer_len = 0;
		struct xf_dest d;
		int rc = xf_dest_target(c->target, &peer, &peer_len, &d);

		if (rc != c->rc) {
			fprintf(stderr, "target %zu '%s': got %d want %d\n", i, c->target, rc,
			        c->rc);
		}
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc != 0 || c->rc != 0) {
			continue;
		}
		CU_ASSERT(peer_len == strlen(c->peer) && memcmp(peer, c->peer, peer_len) == 0);
		if (c->volume == NULL) {
			CU_ASSERT_PTR_NULL(d.volume);
		} else {
			CU_ASSERT(d.volume != NULL && d.volume_len == strlen(c->volume) &&
			          memcmp(d.volume, c->volume, d.volume_len) == 0);
		}
		CU_ASSERT_STRING_EQUAL(d.path, c->path);
	}
}

static const struct xf_test tests[] = {
	{ "HELLO destinations, hostile ones too", test_hello },
	{ "length limits", test_lengths },
	{ "no overread", test_no_overread },
	{ "operator targets", test_target },
};

int
main(void)
{
	return xf_test_main("dest", NULL, NULL, XF_TESTS(tests));
}
