/* SPDX-License-Identifier: BSD-3-Clause */
/* rsync's itemized changes (xf_itemize.h); the rules follow rsync's log.c ('%i'). */
#include <errno.h>
#include <string.h>

#include "xf_itemize.h"
#include "xf_proto.h"
#include "xf_push.h"

/* A control character but a tab (a newline in a name, say) is written as rsync 3 writes
 * it, "\#ooo", so that a name can never make a line of its own. */
static inline bool
escaped(unsigned char ch)
{
	return ch < 0x20 && ch != '\t';
}

/* Bytes of name as written. */
static size_t
name_len(const char *s, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++) {
		n += escaped((unsigned char)s[i]) ? 4u : 0u;
	}
	return n;
}

static size_t
put_escaped(char *out, const char *s, size_t len)
{
	size_t at = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (escaped(ch)) {
			out[at++] = '\\';
			out[at++] = '#';
			out[at++] = (char)('0' + (ch >> 6));
			out[at++] = (char)('0' + ((ch >> 3) & 7));
			out[at++] = (char)('0' + (ch & 7));
		} else {
			out[at++] = (char)ch;
		}
	}
	return at;
}

/* name (plus '/' for a directory, "./" for the root) and " -> target" (a symlink's) or
 * " => target" (a hard link's leader) after the columns. */
static int
put_name(char *buf, size_t cap, size_t at, const char *path, size_t len, bool dir,
         const char *arrow, const char *target, size_t target_len)
{
	size_t need = at + (len == 0 ? 2u : name_len(path, len) + (dir ? 1u : 0u)) +
	              (target != NULL ? 4u + name_len(target, target_len) : 0u) + 1u;

	if (need > cap) {
		return -ENOSPC;
	}
	if (len == 0) {
		memcpy(buf + at, "./", 2);
		at += 2;
	} else {
		at += put_escaped(buf + at, path, len);
		if (dir) {
			buf[at++] = '/';
		}
	}
	if (target != NULL) {
		memcpy(buf + at, arrow, 4);
		at += 4 + put_escaped(buf + at + 4, target, target_len);
	}
	buf[at] = '\0';
	return (int)at;
}

int
xf_itemize_line(char *buf, size_t cap, uint8_t kind, uint16_t rec, bool checksum, const char *path,
                size_t len, const char *target, size_t target_len)
{
	uint8_t dec = (uint8_t)(rec >> XF_PUSH_ITEM_DEC_SHIFT);
	uint16_t items = rec & XF_ITEM_ALL;
	/* With --checksum a DELTA file is sent to compare its contents (docs/PROTOCOL.md
	 * 6.7): rsync counts it sent only if they differ (another size, a literal, a moved
	 * block). */
	bool sent = dec == XF_DEC_WHOLE ||
	            (dec == XF_DEC_DELTA &&
	             (!checksum || (items & XF_ITEM_SIZE) != 0 || (rec & XF_PUSH_ITEM_DATA) != 0));
	bool is_new = (items & XF_ITEM_NEW) != 0;
	char c[12];

	if (dec == 0 || dec == XF_DEC_REFUSED) {
		return 0;
	}
	memset(c, '.', 11);
	c[11] = ' ';
	switch (kind) {
	case XF_FILE_REG:
		c[0] = sent ? '>' : '.';
		c[1] = 'f';
		/* rsync --checksum marks every file it sends (log.c: ITEM_REPORT_CHANGE). */
		c[2] = sent && checksum ? 'c' : '.';
		break;
	case XF_FILE_DIR:
		c[0] = is_new ? 'c' : '.';
		c[1] = 'd';
		break;
	case XF_FILE_SYMLINK:
		c[0] = is_new || (items & XF_ITEM_CHANGE) != 0 ? 'c' : '.';
		c[1] = 'L';
		c[2] = (items & XF_ITEM_CHANGE) != 0 ? 'c' : '.';
		break;
	case XF_FILE_HARDLINK:
		/* rsync -H: "hf+++++++++ name => leader" for a new name, "hf" and blanks for
		 * one made a link over another file (XF_ITEM_CHANGE: the receiver found it
		 * not the leader's inode); nothing for one that already is that link. */
		if (!is_new && (items & XF_ITEM_CHANGE) == 0) {
			return 0;
		}
		c[0] = 'h';
		c[1] = 'f';
		if (!is_new) {
			memset(c + 2, ' ', 9);
		}
		break;
	default:
		return -EINVAL;
	}
	if (is_new) {
		memset(c + 2, '+', 9);
	} else if (kind != XF_FILE_HARDLINK) {
		c[3] = (items & XF_ITEM_SIZE) != 0 ? 's' : '.';
		c[4] = (items & XF_ITEM_TIME) != 0 ? 't' : '.';
		c[5] = (items & XF_ITEM_PERMS) != 0 ? 'p' : '.';
		c[6] = (items & XF_ITEM_OWNER) != 0 ? 'o' : '.';
		c[7] = (items & XF_ITEM_GROUP) != 0 ? 'g' : '.';
		c[9] = (items & XF_ITEM_ACL) != 0 ? 'a' : '.';
		c[10] = (items & XF_ITEM_XATTR) != 0 ? 'x' : '.';
		/* Y is 'c' only for a new entry or a changed target (c[2]), so an entry whose
		 * columns are all '.' is unchanged: rsync -i prints nothing for it. */
		if (c[0] == '.' && memcmp(c + 2, ".........", 9) == 0) {
			return 0;
		}
	}
	if (cap < sizeof(c)) {
		return -ENOSPC;
	}
	memcpy(buf, c, sizeof(c));
	return put_name(buf, cap, sizeof(c), path, len, kind == XF_FILE_DIR,
	                kind == XF_FILE_HARDLINK ? " => " : " -> ",
	                kind == XF_FILE_SYMLINK || kind == XF_FILE_HARDLINK ? target : NULL,
	                target_len);
}

int
xf_itemize_deleting(char *buf, size_t cap, const char *path, size_t len, bool dir)
{
	static const char head[] = "*deleting   ";

	if (cap < sizeof(head) - 1) {
		return -ENOSPC;
	}
	memcpy(buf, head, sizeof(head) - 1);
	return put_name(buf, cap, sizeof(head) - 1, path, len, dir, NULL, NULL, 0);
}
