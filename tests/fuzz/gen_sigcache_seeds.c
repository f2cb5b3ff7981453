/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus of fuzz_sigcache: cache files written by the cache itself (an empty one,
 * one entry, several of varied sizes, one after evictions), each behind the harness's
 * mode byte (0: as written; 1: CRCs fixed by the harness, the same bytes here).
 * usage: gen_sigcache_seeds DIR
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_sigcache.h"

static int
emit(const char *out, int n, struct xf_sigcache *c, uint8_t mode)
{
	char path[512];
	struct stat sb;
	uint8_t *b;
	int fd = open(out, O_RDONLY | O_DIRECTORY), rfd, wfd;

	if (fd < 0 || xf_sigcache_save(c, fd, "cache") < 0) {
		return -1;
	}
	rfd = openat(fd, "cache", O_RDONLY);
	if (rfd < 0 || fstat(rfd, &sb) != 0) {
		return -1;
	}
	b = malloc((size_t)sb.st_size + 1);
	if (b == NULL || read(rfd, b + 1, (size_t)sb.st_size) != sb.st_size) {
		return -1;
	}
	b[0] = mode;
	snprintf(path, sizeof(path), "%s/seed-%d", out, n);
	wfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (wfd < 0 || write(wfd, b, (size_t)sb.st_size + 1) != sb.st_size + 1) {
		return -1;
	}
	close(wfd);
	close(rfd);
	unlinkat(fd, "cache", 0);
	close(fd);
	free(b);
	return 0;
}

static void
put(struct xf_sigcache *c, uint64_t ino, uint64_t size, uint32_t bs)
{
	struct xf_sigcache_key k = { .dev = 0x801,
		                     .ino = ino,
		                     .size = size,
		                     .mtime_ns = 1700000000000000000ll + (int64_t)ino,
		                     .ctime_ns = 1700000001000000000ll };
	uint32_t n = (uint32_t)((size + bs - 1) / bs);
	struct xf_sig_rec *s = calloc(n, sizeof(*s));
	uint64_t *b = calloc(n, sizeof(*b));

	for (uint32_t i = 0; s != NULL && b != NULL && i < n; i++) {
		s[i].weak = i * 2654435761u;
		s[i].strong = ~i;
		b[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
	}
	if (s != NULL && b != NULL) {
		xf_sigcache_put(c, &k, bs, n, s, b);
	}
	free(s);
	free(b);
}

int
main(int argc, char **argv)
{
	struct xf_sigcache *c = xf_sigcache_create(64u * 1024u);
	int n = 0, rc = 0;

	if (argc != 2 || c == NULL) {
		fprintf(stderr, "usage: gen_sigcache_seeds DIR\n");
		return 1;
	}
	for (uint8_t mode = 0; mode < 2; mode++) {
		rc |= emit(argv[1], n++, c, mode); /* empty */
	}
	put(c, 10, 5000, 2048);
	for (uint8_t mode = 0; mode < 2; mode++) {
		rc |= emit(argv[1], n++, c, mode);
	}
	put(c, 11, 1, 700);
	put(c, 12, 70000, 704);
	put(c, 13, 4096, 4096);
	for (uint8_t mode = 0; mode < 2; mode++) {
		rc |= emit(argv[1], n++, c, mode);
	}
	for (uint64_t i = 0; i < 40; i++) {
		put(c, 100 + i, 20000 + i * 997, 1024);
	}
	rc |= emit(argv[1], n++, c, 1);
	xf_sigcache_destroy(c);
	return rc != 0 ? 1 : 0;
}
