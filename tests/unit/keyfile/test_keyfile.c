/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_keyfile: base64 round trip and strictness, key files (created 0600 with O_EXCL,
 * refused when a symlink, a directory, a FIFO, group/other-accessible, owned by someone
 * else, or malformed), and locked key memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_keyfile.h"

static char dir[] = "/tmp/xf-keyfile-XXXXXX";
static char path[256];

static void
at(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
}

static void
put(const char *name, const char *text, mode_t mode)
{
	int fd;

	at(name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CU_ASSERT_FATAL(fchmod(fd, mode) == 0);
	close(fd);
}

static void
test_b64(void)
{
	uint8_t k[32], k2[32];
	char s[XF_KEY_B64_LEN + 1];

	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(i * 37 + 1);
	}
	xf_key_b64_encode(k, s);
	CU_ASSERT_EQUAL(strlen(s), XF_KEY_B64_LEN);
	CU_ASSERT_EQUAL(xf_key_b64_decode(s, strlen(s), k2), 0);
	CU_ASSERT_EQUAL(memcmp(k, k2, 32), 0);
	/* Known answer: 32 zero bytes. */
	memset(k, 0, 32);
	xf_key_b64_encode(k, s);
	CU_ASSERT_STRING_EQUAL(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	/* Wrong length, missing padding, bad character, non-canonical last character. */
	CU_ASSERT_EQUAL(xf_key_b64_decode(s, 43, k2), -EINVAL);
	CU_ASSERT_EQUAL(xf_key_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 44, k2),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_key_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 44, k2),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_key_b64_decode("AAAAAAAAAAAAAAAAAAAAA*AAAAAAAAAAAAAAAAAAAAA=", 44, k2),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_key_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", 44, k2),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_key_b64_decode(NULL, 44, k2), -EINVAL);
}

static void
test_write_read(void)
{
	uint8_t k[32], k2[32];
	struct stat st;
	mode_t old = umask(0277); /* would leave 0400 without the fchmod */

	for (int i = 0; i < 32; i++) {
		k[i] = (uint8_t)(255 - i);
	}
	at("priv.key");
	CU_ASSERT_EQUAL(xf_keyfile_write(path, k), 0);
	umask(old);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, XF_KEY_B64_LEN + 1);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k2), 0);
	CU_ASSERT_EQUAL(memcmp(k, k2, 32), 0);
	/* Never overwrites, not even through a dangling symlink. */
	CU_ASSERT_EQUAL(xf_keyfile_write(path, k), -EEXIST);
	{
		char target[300];

		at("nowhere");
		snprintf(target, sizeof(target), "%s", path);
		at("dangling");
		CU_ASSERT_EQUAL(symlink(target, path), 0);
		CU_ASSERT_EQUAL(xf_keyfile_write(path, k), -EEXIST);
		CU_ASSERT_EQUAL(access(target, F_OK), -1);
	}
	/* Without the trailing newline it reads too. */
	put("nonl", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0600);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k2), 0);
	CU_ASSERT_EQUAL(k2[0], 0);
}

static void
test_refusals(void)
{
	uint8_t k[32];
	char target[300];

	/* Group- or other-accessible. */
	put("g", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0640);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EPERM);
	put("o", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0604);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EPERM);
	/* Owned by someone else (we are root in the test environment; else skip this). */
	put("other", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0600);
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL_FATAL(chown(path, 1, 1), 0);
		CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EPERM);
	}
	/* A symlink to a good key file. */
	put("good", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0600);
	snprintf(target, sizeof(target), "%s", path);
	at("link");
	CU_ASSERT_EQUAL(symlink(target, path), 0);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -ELOOP);
	/* A directory and a FIFO (which must not block). */
	at("d");
	CU_ASSERT_EQUAL(mkdir(path, 0700), 0);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	at("fifo");
	CU_ASSERT_EQUAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	/* Malformed contents. */
	put("short", "AAAA\n", 0600);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	put("long", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", 0600);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	put("crlf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n", 0600);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	put("empty", "", 0600);
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -EINVAL);
	at("missing");
	CU_ASSERT_EQUAL(xf_keyfile_read(path, k), -ENOENT);
}

static void
test_keymem(void)
{
	unsigned long before = xf_test_vmlck_kb();
	uint8_t *p = xf_keymem_alloc(8192);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* AddressSanitizer replaces mlock with a no-op, so the lock shows only without it;
	 * the plain unit build checks it. */
	CU_ASSERT(XF_TEST_ASAN || xf_test_vmlck_kb() >= before + 8);
	for (int i = 0; i < 8192; i++) {
		CU_ASSERT_FATAL(p[i] == 0);
	}
	memset(p, 0xA5, 8192);
	xf_keymem_free(p, 8192);
	CU_ASSERT(xf_test_vmlck_kb() <= before);
	xf_keymem_free(NULL, 0);
}

static int
suite_init(void)
{
	return mkdtemp(dir) == NULL;
}

static int
suite_clean(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static const struct xf_test tests[] = {
	{ "b64", test_b64 },
	{ "write_read", test_write_read },
	{ "refusals", test_refusals },
	{ "keymem", test_keymem },
};

int
main(void)
{
	return xf_test_main("keyfile", suite_init, suite_clean, XF_TESTS(tests));
}
