/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rsync's itemized lines (xf_itemize.c). The expected lines are what rsync 3 printed
 * (`rsync -a -n -i [--checksum] [--delete]`) for the same changes on a scratch tree:
 * tests/e2e/push/push-itemize.sh compares the two end to end.
 */
#include <errno.h>
#include <string.h>

#include "xf_itemize.h"
#include "xf_proto.h"
#include "xf_push.h"
#include "xf_test.h"

struct icase {
	uint8_t kind;
	uint8_t dec;
	uint16_t items;
	bool checksum;
	const char *path;
	const char *target;
	const char *want; /* NULL: no line */
};

static const struct icase cases[] = {
	/* new entries: '+' from c on */
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_NEW, false, "newdir/x", NULL, ">f+++++++++ newdir/x" },
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_NEW, true, "n", NULL, ">f+++++++++ n" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_NEW, false, "newdir", NULL, "cd+++++++++ newdir/" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_NEW, false, "", NULL, "cd+++++++++ ./" },
	{ XF_FILE_SYMLINK, XF_DEC_WHOLE, XF_ITEM_NEW, false, "newln", "zz",
	  "cL+++++++++ newln -> zz" },
	/* regular files sent */
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_SIZE | XF_ITEM_TIME, false, "a/x", NULL,
	  ">f.st...... a/x" },
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_SIZE, false, "f1", NULL, ">f.s....... f1" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_TIME, false, "same", NULL, ">f..t...... same" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_SIZE, true, "f1", NULL, ">fcs....... f1" },
	/* --checksum: a DELTA file whose data went (a literal, a moved block) was sent; one
	 * whose every block stayed in place was not (its mtime alone differs, or nothing) */
	{ XF_FILE_REG, XF_DEC_DELTA, XF_PUSH_ITEM_DATA, true, "c", NULL, ">fc........ c" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_TIME | XF_PUSH_ITEM_DATA, true, "c", NULL,
	  ">fc.t...... c" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_TIME, true, "same", NULL, ".f..t...... same" },
	{ XF_FILE_REG, XF_DEC_DELTA, 0, true, "same", NULL, NULL },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_PERMS, true, "m", NULL, ".f...p..... m" },
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_TIME, true, "w", NULL, ">fc.t...... w" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_TIME | XF_ITEM_PERMS, false, "m", NULL,
	  ">f..tp..... m" },
	/* attributes only */
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_PERMS, false, "d1/f2", NULL, ".f...p..... d1/f2" },
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_TIME, true, "same", NULL, ".f..t...... same" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_TIME, false, "a", NULL, ".d..t...... a/" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_TIME | XF_ITEM_PERMS, false, "keep", NULL,
	  ".d..tp..... keep/" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_TIME, false, "", NULL, ".d..t...... ./" },
	{ XF_FILE_SYMLINK, XF_DEC_WHOLE, XF_ITEM_TIME, false, "l", "t", ".L..t...... l -> t" },
	/* owners and groups (push -o, -g, docs/PROTOCOL.md 6.17) */
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_OWNER | XF_ITEM_GROUP, false, "o", NULL,
	  ".f....og... o" },
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_GROUP, true, "g", NULL, ".f.....g... g" },
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_SIZE | XF_ITEM_TIME | XF_ITEM_OWNER, false, "so", NULL,
	  ">f.st.o.... so" },
	{ XF_FILE_DIR, XF_DEC_UPTODATE, XF_ITEM_OWNER, false, "od", NULL, ".d....o.... od/" },
	/* -X, -A: rsync 3's lines for a changed attribute, ACL, both, with data */
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_XATTR, false, "f", NULL, ".f........x f" },
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_ACL, false, "g", NULL, ".f.......a. g" },
	{ XF_FILE_DIR, XF_DEC_UPTODATE, XF_ITEM_ACL, false, "dd", NULL, ".d.......a. dd/" },
	{ XF_FILE_DIR, XF_DEC_WHOLE, XF_ITEM_XATTR, false, "dd", NULL, ".d........x dd/" },
	{ XF_FILE_REG, XF_DEC_DELTA, XF_ITEM_SIZE | XF_ITEM_TIME | XF_ITEM_XATTR, false, "f", NULL,
	  ">f.st.....x f" },
	{ XF_FILE_REG, XF_DEC_UPTODATE, XF_ITEM_PERMS | XF_ITEM_ACL | XF_ITEM_XATTR, false, "h",
	  NULL, ".f...p...ax h" },
	{ XF_FILE_SYMLINK, XF_DEC_UPTODATE, XF_ITEM_GROUP, false, "ol", "t",
	  ".L.....g... ol -> t" },
	/* a symlink re-pointed: made again */
	{ XF_FILE_SYMLINK, XF_DEC_WHOLE, XF_ITEM_CHANGE, false, "ln2", "other",
	  "cLc........ ln2 -> other" },
	{ XF_FILE_SYMLINK, XF_DEC_WHOLE, XF_ITEM_CHANGE | XF_ITEM_TIME, false, "r", "a",
	  "cLc.t...... r -> a" },
	/* names as they are: spaces, a leading '-' */
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_NEW, false, "sp ace/f 1", NULL,
	  ">f+++++++++ sp ace/f 1" },
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_NEW, false, "-n", NULL, ">f+++++++++ -n" },
	/* control characters as rsync writes them (a tab and DEL as they are): no name makes
	 * a line of its own */
	{ XF_FILE_REG, XF_DEC_WHOLE, XF_ITEM_NEW, false, "a\nb\tc\x7f\x01", NULL,
	  ">f+++++++++ a\\#012b\tc\x7f\\#001" },
	{ XF_FILE_SYMLINK, XF_DEC_WHOLE, XF_ITEM_NEW, false, "l", "x\ny",
	  "cL+++++++++ l -> x\\#012y" },
	/* hard links (-H), as rsync -H prints them: a new name, a name made a link over
	 * another file, one that already is the link (no line) */
	{ XF_FILE_HARDLINK, XF_DEC_WHOLE, XF_ITEM_NEW, false, "e", "a", "hf+++++++++ e => a" },
	{ XF_FILE_HARDLINK, XF_DEC_WHOLE, XF_ITEM_CHANGE, false, "b", "a", "hf          b => a" },
	{ XF_FILE_HARDLINK, XF_DEC_WHOLE, 0, false, "b", "a", NULL },
	{ XF_FILE_HARDLINK, XF_DEC_REFUSED, 0, false, "b", "a", NULL },
	/* no line: unchanged, refused, no decision */
	{ XF_FILE_REG, XF_DEC_UPTODATE, 0, false, "u", NULL, NULL },
	{ XF_FILE_REG, XF_DEC_UPTODATE, 0, true, "u", NULL, NULL },
	{ XF_FILE_DIR, XF_DEC_UPTODATE, 0, false, "d", NULL, NULL },
	{ XF_FILE_SYMLINK, XF_DEC_UPTODATE, 0, false, "l", "t", NULL },
	{ XF_FILE_REG, XF_DEC_REFUSED, 0, false, "r", NULL, NULL },
	{ XF_FILE_REG, 0, 0, false, "never", NULL, NULL },
};

static void
test_lines(void)
{
	char buf[XF_ITEMIZE_LINE_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct icase *c = &cases[i];
		uint16_t rec = xf_push_item(c->dec, c->items) | (c->items & XF_PUSH_ITEM_DATA);
		int n = xf_itemize_line(buf, sizeof(buf), c->kind, rec, c->checksum, c->path,
		                        strlen(c->path), c->target,
		                        c->target != NULL ? strlen(c->target) : 0);

		if (c->want == NULL) {
			CU_ASSERT_EQUAL(n, 0);
			if (n != 0) {
				fprintf(stderr, "case %zu: a line where rsync prints none: '%s'\n",
				        i, buf);
			}
			continue;
		}
		CU_ASSERT_EQUAL(n, (int)strlen(c->want));
		CU_ASSERT_STRING_EQUAL(buf, c->want);
		if (n <= 0 || strcmp(buf, c->want) != 0) {
			fprintf(stderr, "case %zu: '%s', want '%s'\n", i, n > 0 ? buf : "",
			        c->want);
		}
	}
}

static void
test_deleting(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, sizeof(buf), "olddir/sub", 10, true), 23);
	CU_ASSERT_STRING_EQUAL(buf, "*deleting   olddir/sub/");
	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, sizeof(buf), "extra", 5, false), 17);
	CU_ASSERT_STRING_EQUAL(buf, "*deleting   extra");
	/* Exactly enough room (with the NUL), then one byte less. */
	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, 18, "extra", 5, false), 17);
	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, 17, "extra", 5, false), -ENOSPC);
	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, 4, "extra", 5, false), -ENOSPC);
}

/* Bounds: the longest line fits XF_ITEMIZE_LINE_MAX; a short buffer is -ENOSPC, never
 * overrun (the byte after cap stays); an unknown kind is -EINVAL. */
static void
test_bounds(void)
{
	static char path[4095], target[4095];
	static char buf[XF_ITEMIZE_LINE_MAX + 1];
	uint16_t rec = xf_push_item(XF_DEC_WHOLE, XF_ITEM_NEW);

	memset(path, 'p', sizeof(path));
	memset(target, 't', sizeof(target));
	CU_ASSERT_EQUAL(xf_itemize_line(buf, XF_ITEMIZE_LINE_MAX, XF_FILE_SYMLINK, rec, false, path,
	                                sizeof(path), target, sizeof(target)),
	                12 + 4095 + 4 + 4095);
	CU_ASSERT_EQUAL(xf_itemize_line(buf, XF_ITEMIZE_LINE_MAX, XF_FILE_DIR, rec, false, path,
	                                sizeof(path), NULL, 0),
	                12 + 4095 + 1);
	/* Every byte a control character: each written as four more. */
	memset(path, '\n', sizeof(path));
	memset(target, '\n', sizeof(target));
	CU_ASSERT_EQUAL(xf_itemize_line(buf, XF_ITEMIZE_LINE_MAX, XF_FILE_SYMLINK, rec, false, path,
	                                sizeof(path), target, sizeof(target)),
	                12 + 5 * 4095 + 4 + 5 * 4095);
	CU_ASSERT_EQUAL(xf_itemize_deleting(buf, XF_ITEMIZE_LINE_MAX, path, sizeof(path), true),
	                12 + 5 * 4095 + 1);
	CU_ASSERT_PTR_NULL(memchr(buf, '\n', strlen(buf)));
	for (size_t cap = 0; cap < 40; cap++) {
		memset(buf, 'Z', sizeof(buf));
		CU_ASSERT_EQUAL(xf_itemize_line(buf, cap, XF_FILE_SYMLINK, rec, false, "abc", 3,
		                                "0123456789", 10),
		                cap >= 12 + 3 + 4 + 10 + 1 ? 29 : -ENOSPC);
		/* Nothing at or past cap, nor past the line's NUL. */
		CU_ASSERT_EQUAL(buf[cap < 30 ? cap : 30], 'Z');
	}
	CU_ASSERT_EQUAL(xf_itemize_line(buf, sizeof(buf), 9, rec, false, "x", 1, NULL, 0), -EINVAL);
}

static const struct xf_test tests[] = {
	{ "entry lines as rsync prints them", test_lines },
	{ "*deleting lines", test_deleting },
	{ "bounds", test_bounds },
};

int
main(void)
{
	return xf_test_main("itemize", NULL, NULL, XF_TESTS(tests));
}
