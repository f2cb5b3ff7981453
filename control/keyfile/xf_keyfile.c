/* SPDX-License-Identifier: BSD-3-Clause */
/* Key files and locked key memory (xf_keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "xf_keyfile.h"

void
xf_key_b64_encode(const uint8_t *key, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, key, (int)XF_KEY_LEN);
}

int
xf_key_b64_decode(const char *s, size_t len, uint8_t *key)
{
	uint8_t buf[XF_KEY_LEN + 3];
	char again[XF_KEY_B64_LEN + 1];
	int n;

	if (s == NULL || len != XF_KEY_B64_LEN || s[XF_KEY_B64_LEN - 1] != '=' ||
	    s[XF_KEY_B64_LEN - 2] == '=') {
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as data (33 bytes) and accepts some
	 * non-canonical forms: re-encoding must give back the very same text. */
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n != XF_KEY_LEN + 1) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	xf_key_b64_encode(buf, again);
	if (memcmp(again, s, XF_KEY_B64_LEN) != 0) {
		OPENSSL_cleanse(buf, sizeof(buf));
		OPENSSL_cleanse(again, sizeof(again));
		return -EINVAL;
	}
	memcpy(key, buf, XF_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(again, sizeof(again));
	return 0;
}

int
xf_keyfile_write(const char *path, const uint8_t *key)
{
	char text[XF_KEY_B64_LEN + 2];
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	xf_key_b64_encode(key, text);
	text[XF_KEY_B64_LEN] = '\n';
	/* The umask may have taken bits away, never added: still force exactly 0600. A
	 * short write sets no errno, hence the reset. */
	errno = 0;
	if (fchmod(fd, 0600) < 0 || write(fd, text, XF_KEY_B64_LEN + 1) != XF_KEY_B64_LEN + 1 ||
	    fsync(fd) < 0) {
		rc = errno != 0 ? -errno : -EIO;
	}
	OPENSSL_cleanse(text, sizeof(text));
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc != 0) {
		unlink(path);
	}
	return rc;
}

int
xf_keyfile_read(const char *path, uint8_t *key)
{
	char text[XF_KEY_B64_LEN + 3];
	struct stat st;
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO planted at the path must not block the open. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		rc = -EPERM;
		goto out;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	/* base64, then at most one newline; nothing else. */
	if (n == XF_KEY_B64_LEN + 1 && text[XF_KEY_B64_LEN] == '\n') {
		n--;
	}
	rc = xf_key_b64_decode(text, (size_t)n, key);
out:
	OPENSSL_cleanse(text, sizeof(text));
	close(fd);
	return rc;
}

void *
xf_keymem_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		return NULL;
	}
	if (mlock(p, len) < 0) {
		int e = errno;

		munmap(p, len);
		errno = e;
		return NULL;
	}
	/* Best effort: a kernel without MADV_DONTDUMP still gets locked, wiped memory. */
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

void
xf_keymem_free(void *p, size_t len)
{
	if (p == NULL) {
		return;
	}
	OPENSSL_cleanse(p, len);
	munlock(p, len);
	munmap(p, len);
}
