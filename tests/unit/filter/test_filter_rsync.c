/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our scan with a filter against rsync with the same rules, on one tree of tricky names:
 * for each rule set, the entries xf_scan_tree() lists must be exactly the ones
 * `rsync -a -n -8 --out-format=%n RULES SRC/ DST/` would send (docs/FILTERS.md). The
 * rules reach both the way an operator's options do: --exclude, --include, --filter,
 * --exclude-from. And unit-filter's match cases, each on a tree holding just its path:
 * rsync must send the path exactly when the case says the rule does not match it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_filter.h"
#include "xf_scan.h"

#include "match_cases.h"

static char root[64], src[96], rules_file[96];

/* The tree: directories end in '/', symlinks are "name -> target", the rest files. */
static const char *const tree[] = {
	"a/",
	"a/b/",
	"a/b/c/",
	"a/foo",
	"a/b/foo",
	"a/b/c/x.o",
	"a/b/c/y.c",
	"a/core",
	"a/dangling -> nowhere",
	"foo/",
	"foo/bar/",
	"foo/bar/baz",
	"x/",
	"x/foo/",
	"x/foo/y",
	"sp ace/",
	"sp ace/f 1.txt",
	"-dash/",
	"-dash/-f",
	".hidden/",
	".hidden/.x",
	"br[a]ck/",
	"br[a]ck/[x]",
	"br[a]ck/a*b",
	"br[a]ck/q?",
	"\xc3\xbcn\xc3\xaf/",
	"\xc3\xbcn\xc3\xaf/\xc3\xb6.c",
	"back\\slash",
	"empty/",
	"deep/",
	"deep/1/",
	"deep/1/2/",
	"deep/1/2/3/",
	"deep/1/2/3/4/",
	"deep/1/2/3/4/z.c",
	"core",
	"README",
	"x.c",
	"x.h",
	"foo.o",
	"#hash",
	";semi",
	"link-to-a -> a",
	"Upper/",
	"Upper/Lower.c",
};

/* An --exclude-from file: comments, a blank line, CRLF ends, old-style prefixes. */
static const char rules_text[] = "# build output\n"
                                 "; also a comment\n"
                                 "\n"
                                 "+ /a/b/c/x.o\r\n"
                                 "*.o\n"
                                 "/deep/1/2/\n"
                                 "sp ace\n";

/* One rule set: option/argument pairs as rsync takes them, NULL-terminated. */
struct rule_set {
	const char *args[10];
};

static const struct rule_set sets[] = {
	{ { "--exclude", "*.o" } },
	{ { "--exclude", "foo" } },
	{ { "--exclude", "foo/" } },
	{ { "--exclude", "/foo" } },
	{ { "--exclude", "b/foo" } },
	{ { "--exclude", "**/foo" } },
	{ { "--exclude", "a/**/foo" } },
	{ { "--exclude", "foo/**" } },
	{ { "--exclude", "a/***" } },
	{ { "--include", "*/", "--include", "*.c", "--exclude", "*" } },
	{ { "--include", "*.c", "--exclude", "*" } },
	{ { "--exclude", "br\\[a\\]ck/\\[x\\]", "--exclude", "a\\*b" } },
	{ { "--exclude", "[!a-f]*" } },
	{ { "--exclude", "[[:upper:]]*", "--exclude", "[[:punct:]]*" } },
	{ { "--exclude", "?" } },
	{ { "--filter", "- *.h", "--filter", "+ x.*", "--filter", "- x*" } },
	{ { "--filter", "exclude_core", "--filter", "include /deep/", "--filter", "- /d*" } },
	{ { "--exclude", "*/" } },
	{ { "--exclude", "**" } },
	{ { "--exclude", "+ a", "--exclude", "a*", "--exclude", "- *.txt" } },
	{ { "--exclude", "/*/*/" } },
	{ { "--exclude", "\xc3\xbcn\xc3\xaf", "--exclude", "sp ace/f 1.txt", "--exclude",
	    "-dash" } },
	{ { "--exclude", ".*", "--exclude", "back\\slash", "--exclude", "q?" } },
	{ { "--exclude", "a/b", "--exclude", "link-to-a", "--exclude", "dangling" } },
	{ { "--exclude-from", rules_file, "--exclude", "README" } },
	{ { "--include", "/deep/***", "--exclude", "/*", "--include", "x.c" } },
	{ { "--exclude", "/deep/*/*/*/", "--include", "c/", "--exclude", "[a-c]/" } },
};

static int
make_tree(void)
{
	char path[512];
	FILE *fp;

	if (mkdtemp(root) == NULL) {
		return -1;
	}
	snprintf(src, sizeof(src), "%s/src", root);
	snprintf(rules_file, sizeof(rules_file), "%s/rules", root);
	if (mkdir(src, 0755) != 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		const char *arrow = strstr(tree[i], " -> ");
		size_t len = strlen(tree[i]);

		if (arrow != NULL) {
			snprintf(path, sizeof(path), "%s/%.*s", src, (int)(arrow - tree[i]),
			         tree[i]);
			if (symlink(arrow + 4, path) != 0) {
				return -1;
			}
		} else if (tree[i][len - 1] == '/') {
			snprintf(path, sizeof(path), "%s/%s", src, tree[i]);
			if (mkdir(path, 0755) != 0) {
				return -1;
			}
		} else {
			snprintf(path, sizeof(path), "%s/%s", src, tree[i]);
			fp = fopen(path, "w");
			if (fp == NULL) {
				return -1;
			}
			fprintf(fp, "%s\n", tree[i]);
			fclose(fp);
		}
	}
	fp = fopen(rules_file, "w");
	if (fp == NULL) {
		return -1;
	}
	fwrite(rules_text, 1, sizeof(rules_text) - 1, fp);
	fclose(fp);
	return 0;
}

static int
suite_init(void)
{
	snprintf(root, sizeof(root), "/tmp/xf-filter-rsync-XXXXXX");
	return make_tree() == 0 ? 0 : 1;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
	return system(cmd) == 0 ? 0 : 1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted list of names, each "path" or "path/" for a directory. */
struct list {
	char **v;
	size_t n;
};

static void
list_add(struct list *l, const char *s, size_t len)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	CU_ASSERT_PTR_NOT_NULL_FATAL(nv);
	l->v = nv;
	l->v[l->n] = strndup(s, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->v[l->n]);
	l->n++;
}

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
	}
	free(l->v);
}

/* What rsync would send from dir with the rules: its dry run's names, "./" left out. */
static void
rsync_list(const char *const *args, const char *dir, struct list *out)
{
	const char *argv[32] = { "rsync", "-a", "-n", "-8", "--out-format=%n" };
	char dst[128], srcslash[PATH_MAX], *buf = NULL;
	size_t n = 5, len = 0, cap = 0;
	int pipefd[2], status;
	pid_t pid;
	ssize_t r;

	for (size_t i = 0; args[i] != NULL; i++) {
		argv[n++] = args[i];
	}
	snprintf(dst, sizeof(dst), "%s/dst/", root);
	snprintf(srcslash, sizeof(srcslash), "%s/", dir);
	argv[n++] = srcslash;
	argv[n++] = dst;
	argv[n] = NULL;
	CU_ASSERT_EQUAL_FATAL(pipe(pipefd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp("rsync", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap * 2 + 4096;
			buf = realloc(buf, cap);
			CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		}
		r = read(pipefd[0], buf + len, cap - len);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
	}
	close(pipefd[0]);
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (size_t i = 0; i < len;) {
		char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;

		if (end > i && !(end - i == 2 && memcmp(buf + i, "./", 2) == 0)) {
			list_add(out, buf + i, end - i);
		}
		i = end + 1;
	}
	free(buf);
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	}
}

/* The same options, parsed the way xferctl parses them. */
static struct xf_filter *
our_filter(const struct rule_set *rs)
{
	struct xf_filter *f = xf_filter_new();
	char err[256];

	for (size_t i = 0; rs->args[i] != NULL; i += 2) {
		const char *opt = rs->args[i], *arg = rs->args[i + 1];
		int rc;

		if (strcmp(opt, "--exclude-from") == 0) {
			rc = xf_filter_add_lines(f, XF_FILTER_FORM_EXCLUDE, rules_text,
			                         sizeof(rules_text) - 1, err, sizeof(err));
		} else {
			enum xf_filter_form form =
			        strcmp(opt, "--exclude") == 0   ? XF_FILTER_FORM_EXCLUDE
			        : strcmp(opt, "--include") == 0 ? XF_FILTER_FORM_INCLUDE
			                                        : XF_FILTER_FORM_RULE;

			rc = xf_filter_add(f, form, arg, strlen(arg), err, sizeof(err));
		}
		if (rc != 0) {
			fprintf(stderr, "%s '%s': %s\n", opt, arg, err);
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
	}
	return f;
}

/* What our scan lists with the same rules, and how many it filtered. */
static void
scan_list(const struct xf_filter *f, struct list *out, uint64_t *filtered)
{
	struct xf_scan_stats st;
	struct xf_scan *s = xf_scan_tree(src, "prefix/is/not/matched", f, 0, &st);
	const size_t skip = strlen("prefix/is/not/matched/");

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (size_t i = 0; i < xf_scan_count(s); i++) {
		struct xf_flist_entry e;
		char name[XF_PATH_MAX + 2];

		xf_scan_get(s, i, &e);
		snprintf(name, sizeof(name), "%.*s%s", (int)(e.path_len - skip), e.path + skip,
		         e.kind == XF_FILE_DIR ? "/" : "");
		list_add(out, name, strlen(name));
	}
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	}
	*filtered = st.filtered;
	xf_scan_free(s);
}

static void
print_diff(const struct list *ours, const struct list *theirs)
{
	size_t i = 0, j = 0;

	while (i < ours->n || j < theirs->n) {
		int c = i == ours->n ? 1 : j == theirs->n ? -1 : strcmp(ours->v[i], theirs->v[j]);

		if (c < 0) {
			fprintf(stderr, "  only xferd: %s\n", ours->v[i++]);
		} else if (c > 0) {
			fprintf(stderr, "  only rsync: %s\n", theirs->v[j++]);
		} else {
			i++;
			j++;
		}
	}
}

static void
test_same_as_rsync(void)
{
	size_t differ = 0;

	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		struct list ours = { 0 }, theirs = { 0 };
		struct xf_filter *f = our_filter(&sets[k]);
		uint64_t filtered;
		bool same;

		scan_list(f, &ours, &filtered);
		rsync_list(sets[k].args, src, &theirs);
		same = ours.n == theirs.n;
		for (size_t i = 0; same && i < ours.n; i++) {
			same = strcmp(ours.v[i], theirs.v[i]) == 0;
		}
		fprintf(stderr, "set %zu (%s %s ...): %zu entries, %lu filtered: %s\n", k,
		        sets[k].args[0], sets[k].args[1], ours.n, (unsigned long)filtered,
		        same ? "same as rsync" : "DIFFERENT");
		if (!same) {
			print_diff(&ours, &theirs);
			differ++;
		}
		/* Something was left out, or nothing was (then the count says so too). */
		CU_ASSERT((filtered == 0) == (ours.n == sizeof(tree) / sizeof(tree[0])));
		xf_filter_free(f);
		list_free(&ours);
		list_free(&theirs);
	}
	CU_ASSERT_EQUAL(differ, 0);
}

/* The count: an excluded directory is one filtered entry, what it holds is not read. */
static void
test_filtered_count(void)
{
	struct xf_filter *f = xf_filter_new();
	struct list l = { 0 };
	uint64_t filtered;
	char err[256];

	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_EXCLUDE, "/deep", 5, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_EXCLUDE, "*.c", 3, err, sizeof(err)), 0);
	scan_list(f, &l, &filtered);
	/* deep/ (with its 5 entries below), x.c, a/b/c/y.c, ünï/ö.c, Upper/Lower.c */
	CU_ASSERT_EQUAL(filtered, 5);
	CU_ASSERT_EQUAL(l.n, sizeof(tree) / sizeof(tree[0]) - 10);
	list_free(&l);
	xf_filter_free(f);
}

/* Make dir/path (a directory, or an empty file), with its parents. */
static int
make_path(const char *dir, const char *path, bool is_dir)
{
	char full[PATH_MAX];
	int fd, n;

	n = snprintf(full, sizeof(full), "%s/%s", dir, path);

	if (n < 0 || (size_t)n >= sizeof(full)) {
		return -1;
	}
	for (char *p = full + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(full, 0755) != 0 && errno != EEXIST) {
			return -1;
		}
		*p = '/';
	}
	if (is_dir) {
		return mkdir(full, 0755);
	}
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL, 0644);
	return fd < 0 ? -1 : close(fd);
}

static bool
listed(const struct list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * Each of unit-filter's match cases against rsync: a tree holding just the case's path,
 * rsync with the rule. A case whose parent directory the rule excludes cannot be seen
 * this way (rsync never asks about what is below it): it is counted, not compared, and
 * the count is fixed, so a new case of that kind is noticed.
 */
static void
test_match_cases(void)
{
	size_t unseen = 0, differ = 0;

	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		const char *args[] = { "--exclude", c->rule, NULL };
		struct list l = { 0 };
		char dir[PATH_MAX], name[PATH_MAX];
		bool parents = true;

		snprintf(dir, sizeof(dir), "%s/case%zu", root, i);
		CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
		CU_ASSERT_EQUAL_FATAL(make_path(dir, c->path, c->dir), 0);
		rsync_list(args, dir, &l);
		for (const char *p = c->path; (p = strchr(p, '/')) != NULL; p++) {
			snprintf(name, sizeof(name), "%.*s/", (int)(p - c->path), c->path);
			parents = parents && listed(&l, name);
		}
		snprintf(name, sizeof(name), "%s%s", c->path, c->dir ? "/" : "");
		if (!parents) {
			unseen++;
		} else if (listed(&l, name) == c->match) {
			fprintf(stderr, "rule '%s' on %s '%s': rsync %s, the case says %s\n",
			        c->rule, c->dir ? "dir" : "file", c->path,
			        c->match ? "sends it" : "leaves it",
			        c->match ? "match" : "no match");
			differ++;
		}
		list_free(&l);
	}
	fprintf(stderr, "%zu cases: %zu differ from rsync, %zu below an excluded directory\n",
	        sizeof(match_cases) / sizeof(match_cases[0]), differ, unseen);
	CU_ASSERT_EQUAL(differ, 0);
	CU_ASSERT_EQUAL(unseen, 6);
}

int
main(void)
{
	static const struct xf_test tests[] = {
		{ "same_as_rsync", test_same_as_rsync },
		{ "match_cases", test_match_cases },
		{ "filtered_count", test_filtered_count },
	};

	return xf_test_main("filter-rsync", suite_init, suite_clean, XF_TESTS(tests));
}
