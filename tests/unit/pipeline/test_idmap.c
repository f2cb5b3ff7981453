/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owners and groups by name (xf_idmap.c, docs/PROTOCOL.md 6.21), with lookups injected:
 * the receiver's map gives the local id of a known name, keeps the sender's number for
 * an unknown one (flagged, as rsync does), caches both answers per kind for
 * XF_IDMAP_TTL_NS and asks again after, never caches a failed lookup, leaves
 * XF_ID_NONE and entries without a name alone, and refuses a name the wire could not
 * carry; the sender's table holds each distinct id once, sorted users then groups,
 * without XF_ID_NONE, ids without a name or names the wire cannot carry; the NSS
 * lookups agree with the host's root account.
 */
#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_idmap.h"
#include "xf_test.h"

/* The receiver's accounts: users alice 5001, bob 5002; group staff 6001; "flaky" fails
 * with EIO. Counts the calls. */
static unsigned int calls;

static int
fake_byname(void *arg, enum xf_name_kind kind, const char *name, uint32_t *id)
{
	(void)arg;
	calls++;
	if (strcmp(name, "flaky") == 0) {
		return -EIO;
	}
	if (kind == XF_NAME_USER && strcmp(name, "alice") == 0) {
		*id = 5001;
		return 0;
	}
	if (kind == XF_NAME_USER && strcmp(name, "bob") == 0) {
		*id = 5002;
		return 0;
	}
	if (kind == XF_NAME_GROUP && strcmp(name, "staff") == 0) {
		*id = 6001;
		return 0;
	}
	return -ENOENT;
}

static void
test_map(void)
{
	static struct xf_idmap m;
	bool miss = true;
	uint64_t now = 1000;

	calls = 0;
	xf_idmap_init(&m, fake_byname, NULL);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "alice", 1000, now, &miss), 5001);
	CU_ASSERT_FALSE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "bob", 1001, now, &miss), 5002);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_GROUP, "staff", 50, now, &miss), 6001);
	CU_ASSERT_FALSE(miss);
	/* The same name as a group is another account: unknown, the number stays. */
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_GROUP, "alice", 77, now, &miss), 77);
	CU_ASSERT_TRUE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "carol", 1003, now, &miss), 1003);
	CU_ASSERT_TRUE(miss);
	CU_ASSERT_EQUAL(calls, 5);
	/* Cached, found or not, whatever number the sender had for the name. */
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "alice", 42, now + 1, &miss), 5001);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "carol", 1003, now + 1, &miss), 1003);
	CU_ASSERT_TRUE(miss);
	CU_ASSERT_EQUAL(calls, 5);
	CU_ASSERT_EQUAL(m.lookups, 5);
	/* After the expiry, asked again. */
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "alice", 1000, now + XF_IDMAP_TTL_NS, &miss),
	                5001);
	CU_ASSERT_EQUAL(calls, 6);
	/* A failed lookup: the number, and asked again at the next entry. */
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "flaky", 9, now, &miss), 9);
	CU_ASSERT_TRUE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "flaky", 9, now, &miss), 9);
	CU_ASSERT_EQUAL(calls, 8);
	/* No name, no id, or a name the wire would not carry: never looked up. */
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, NULL, 12, now, &miss), 12);
	CU_ASSERT_FALSE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "", 12, now, &miss), 12);
	CU_ASSERT_FALSE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "alice", XF_ID_NONE, now, &miss),
	                XF_ID_NONE);
	CU_ASSERT_FALSE(miss);
	CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "a/b", 13, now, &miss), 13);
	CU_ASSERT_TRUE(miss);
	CU_ASSERT_EQUAL(calls, 8);
}

/* Many names through the direct-mapped cache: each maps right whatever it evicts. */
static void
test_map_many(void)
{
	static struct xf_idmap m;
	char name[16];
	bool miss;

	calls = 0;
	xf_idmap_init(&m, fake_byname, NULL);
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < 4 * XF_IDMAP_SLOTS; i++) {
			snprintf(name, sizeof(name), "u%u", i);
			CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, name, i, 1, &miss), i);
			CU_ASSERT_TRUE(miss);
			CU_ASSERT_EQUAL(xf_idmap_map(&m, XF_NAME_USER, "alice", i, 1, &miss), 5001);
		}
	}
	/* Bounded: a lookup per miss at most, never more than two per pair of calls. */
	CU_ASSERT(calls <= 2u * 2u * 4u * XF_IDMAP_SLOTS);
	CU_ASSERT(calls >= 4u * XF_IDMAP_SLOTS); /* every u%u once at least */
}

/* The sender's names: 0 root, 1000 alice, 1001 (none), 1002 "bad:name"; groups the same
 * numbers + 1 as "g<id>". */
static int
fake_byid(void *arg, enum xf_name_kind kind, uint32_t id, char name[XF_ACCOUNT_NAME_MAX + 1])
{
	(void)arg;
	if (kind == XF_NAME_GROUP) {
		snprintf(name, XF_ACCOUNT_NAME_MAX + 1, "g%u", id);
		return 0;
	}
	switch (id) {
	case 0:
		strcpy(name, "root");
		return 0;
	case 1000:
		strcpy(name, "alice");
		return 0;
	case 1002:
		strcpy(name, "bad:name");
		return 0;
	default:
		return -ENOENT;
	}
}

static void
test_names_table(void)
{
	const uint32_t uids[] = { 1000, 0, 1000, XF_ID_NONE, 1001, 1002, 0 };
	const uint32_t gids[] = { 7, 7, XF_ID_NONE, 3, 7, 3, 3 };
	struct xf_idnames t;
	const struct xf_name_rec *r;

	CU_ASSERT_EQUAL_FATAL(xf_idnames_build(&t, uids, gids, 7, fake_byid, NULL), 0);
	/* root, alice; g3, g7. */
	CU_ASSERT_EQUAL_FATAL(t.n, 4);
	CU_ASSERT_EQUAL(t.rec[0].kind, XF_NAME_USER);
	CU_ASSERT_EQUAL(t.rec[0].id, 0);
	CU_ASSERT_EQUAL(t.rec[1].id, 1000);
	CU_ASSERT_EQUAL(t.rec[1].len, 5);
	CU_ASSERT_EQUAL(memcmp(t.rec[1].name, "alice", 5), 0);
	CU_ASSERT_EQUAL(t.rec[2].kind, XF_NAME_GROUP);
	CU_ASSERT_EQUAL(t.rec[2].id, 3);
	CU_ASSERT_EQUAL(t.rec[3].id, 7);
	r = xf_idnames_find(&t, XF_NAME_USER, 1000);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(memcmp(r->name, "alice", 5), 0);
	CU_ASSERT_PTR_NULL(xf_idnames_find(&t, XF_NAME_USER, 1001)); /* no name */
	CU_ASSERT_PTR_NULL(xf_idnames_find(&t, XF_NAME_USER, 1002)); /* refused name */
	CU_ASSERT_PTR_NULL(xf_idnames_find(&t, XF_NAME_USER, 3));    /* a gid only */
	CU_ASSERT_PTR_NULL(xf_idnames_find(&t, XF_NAME_GROUP, XF_ID_NONE));
	r = xf_idnames_find(&t, XF_NAME_GROUP, 7);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(memcmp(r->name, "g7", 2), 0);
	xf_idnames_free(&t);
	CU_ASSERT_EQUAL(xf_idnames_build(&t, NULL, NULL, 0, fake_byid, NULL), 0);
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_PTR_NULL(xf_idnames_find(&t, XF_NAME_USER, 0));
	xf_idnames_free(&t);
}

/* The NSS lookups on this host: uid 0 and gid 0 are root in every Debian root. */
static void
test_nss(void)
{
	char name[XF_ACCOUNT_NAME_MAX + 1];
	uint32_t id = 77;

	CU_ASSERT_EQUAL(xf_idmap_nss_byid(NULL, XF_NAME_USER, 0, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "root");
	CU_ASSERT_EQUAL(xf_idmap_nss_byid(NULL, XF_NAME_GROUP, 0, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "root");
	CU_ASSERT_EQUAL(xf_idmap_nss_byname(NULL, XF_NAME_USER, "root", &id), 0);
	CU_ASSERT_EQUAL(id, 0);
	CU_ASSERT_EQUAL(xf_idmap_nss_byname(NULL, XF_NAME_GROUP, "root", &id), 0);
	CU_ASSERT_EQUAL(id, 0);
	CU_ASSERT_EQUAL(xf_idmap_nss_byname(NULL, XF_NAME_USER, "xf-no-such-user", &id), -ENOENT);
	CU_ASSERT_EQUAL(xf_idmap_nss_byid(NULL, XF_NAME_USER, 4242424242u, name), -ENOENT);
}

static const struct xf_test tests[] = {
	{ "receiver: names to local ids, unknown kept, cached", test_map },
	{ "receiver: many names through the cache", test_map_many },
	{ "sender: the table of names", test_names_table },
	{ "NSS lookups", test_nss },
};

int
main(void)
{
	return xf_test_main("idmap", NULL, NULL, XF_TESTS(tests));
}
