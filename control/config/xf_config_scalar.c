/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The types: strict conversion of one YAML scalar into the field the schema describes.
 * Decimal integers only (no sign, hex or leading zeros), booleans as true/false, strings
 * checked by kind, enums by name, IPv4, CIDR and MAC addresses. The document walk, --set
 * and the defaults go through the same conversion, so a default is read exactly as the
 * same text in the file would be.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xf_config_priv.h"

/* ------------------------------------------------------------------------------------ */
/* Scalar conversion (shared by the document walk, the defaults and the tests)           */

const char *
xf_config_type_name(const struct field *f)
{
	switch (f->type) {
	case T_INT:
		return "an integer";
	case T_BOOL:
		return "a boolean (true or false)";
	case T_STR:
		return "a string";
	case T_ENUM:
		return "one of the listed words";
	case T_IPV4:
		return "an IPv4 address";
	case T_CIDR:
		return "an IPv4 address/prefix";
	case T_MAC:
		return "a MAC address";
	case T_MAP:
		return "a mapping";
	case T_LIST:
		return "a sequence";
	}
	return "?";
}

bool
xf_config_is_null_text(const char *s, bool plain)
{
	return plain && (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	                 strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

/* Decimal without sign, leading zeros, hex or junk. Returns 0 or a message in msg. */
static int
parse_u64(const char *s, uint64_t *v, char *msg, size_t msz)
{
	uint64_t x = 0;

	if (s[0] == '+') {
		snprintf(msg, msz, "'%s': a leading '+' is not allowed; write plain decimal", s);
		return -1;
	}
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		snprintf(msg, msz, "'%s': negative values are not allowed", s);
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'b')) {
		snprintf(msg, msz, "'%s': only decimal integers are allowed (no 0x, 0o, 0b)", s);
		return -1;
	}
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
		snprintf(msg, msz, "'%s': leading zeros are not allowed (octal ambiguity)", s);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(msg, msz, "'%s' is not a valid integer", s);
			return -1;
		}
		if (x > (UINT64_MAX - 9) / 10) {
			snprintf(msg, msz, "'%s' is too large", s);
			return -1;
		}
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (s[0] == '\0') {
		snprintf(msg, msz, "expected an integer");
		return -1;
	}
	*v = x;
	return 0;
}

static int
parse_ipv4(const char *s, uint32_t *out, const char **end)
{
	uint32_t a = 0;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned int part = 0;
		int digits = 0;

		if (i > 0) {
			if (*p != '.') {
				return -1;
			}
			p++;
		}
		while (*p >= '0' && *p <= '9') {
			if (digits > 0 && part == 0) {
				return -1; /* leading zero */
			}
			part = part * 10 + (unsigned int)(*p - '0');
			if (++digits > 3 || part > 255) {
				return -1;
			}
			p++;
		}
		if (digits == 0) {
			return -1;
		}
		a = (a << 8) | part;
	}
	*out = a;
	if (end != NULL) {
		*end = p;
	} else if (*p != '\0') {
		return -1;
	}
	return 0;
}

int
xf_config_parse_listen(const char *s, uint32_t *addr, uint16_t *port)
{
	const char *p;
	unsigned int v = 0;
	int digits = 0;

	if (parse_ipv4(s, addr, &p) < 0 || *p != ':') {
		return -EINVAL;
	}
	for (p++; *p >= '0' && *p <= '9'; p++) {
		if ((digits > 0 && v == 0) || ++digits > 5) {
			return -EINVAL; /* a leading zero, or too long */
		}
		v = v * 10 + (unsigned int)(*p - '0');
	}
	if (*p != '\0' || digits == 0 || v == 0 || v > 65535) {
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

void
xf_config_fmt_ipv4(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Canonical base64 of 32 bytes: 43 characters of the alphabet, then '='. The last one
 * carries 4 bits, so its two low bits are zero. The key is decoded where it is used
 * (xf_key_b64_decode); this only rejects typos at load time. */
static bool
is_key_b64(const char *s, size_t len)
{
	static const char alpha[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (len != 44 || s[43] != '=') {
		return false;
	}
	for (size_t i = 0; i < 43; i++) {
		if (s[i] == '\0' || strchr(alpha, s[i]) == NULL) {
			return false;
		}
	}
	last = strchr(alpha, s[42]);
	return ((last - alpha) & 3) == 0;
}

bool
xf_config_is_pci_addr(const char *s)
{
	/* DDDD:BB:DD.F, hexadecimal. */
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1) {
		return false;
	}
	for (size_t i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'x' ? hexval(s[i]) < 0 : s[i] != shape[i]) {
			return false;
		}
	}
	return hexval(s[11]) <= 7 && (hexval(s[8]) * 16 + hexval(s[9])) <= 0x1f;
}

static bool
is_vdev(const char *s)
{
	const char *p = s + 4;

	if (strncmp(s, "net_", 4) != 0 || *p == '\0' || *p == ',') {
		return false;
	}
	for (; *p != '\0' && *p != ','; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			return false;
		}
	}
	for (; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			return false;
		}
	}
	return true;
}

static bool
all_chars(const char *s, const char *extra, bool first_alpha)
{
	for (const char *p = s; *p != '\0'; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		bool ok = alpha || (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL;

		if (!ok || (p == s && first_alpha && !alpha)) {
			return false;
		}
	}
	return true;
}

static int
check_string(const struct field *f, const char *s, size_t len, char *msg, size_t msz)
{
	if (memchr(s, '\0', len) != NULL) {
		snprintf(msg, msz, "NUL characters are not allowed");
		return -1;
	}
	if (len < f->min) {
		snprintf(msg, msz, "must not be empty");
		return -1;
	}
	if (len > f->max) {
		snprintf(msg, msz, "too long (%zu characters, at most %" PRIu64 ")", len, f->max);
		return -1;
	}
	switch (f->skind) {
	case S_ANY:
		return 0;
	case S_NAME:
		if (!all_chars(s, "._-", false)) {
			snprintf(msg, msz, "'%s' may only contain letters, digits, '.', '_', '-'",
			         s);
			return -1;
		}
		return 0;
	case S_IDENT:
		if (!all_chars(s, "_-", true)) {
			snprintf(msg, msz,
			         "'%s' is not an identifier (a letter, then letters, digits, '_', "
			         "'-')",
			         s);
			return -1;
		}
		return 0;
	case S_OPTPATH:
	case S_ABSPATH:
		if (len > 0 && s[0] != '/') {
			snprintf(msg, msz, "'%s' is not an absolute path", s);
			return -1;
		}
		return 0;
	case S_DEVICE:
		if (!xf_config_is_pci_addr(s) && !is_vdev(s)) {
			snprintf(msg, msz,
			         "'%s' is neither a PCI address (DDDD:BB:DD.F) nor a vdev "
			         "(net_NAME[,ARGS])",
			         s);
			return -1;
		}
		return 0;
	case S_GROUP:
		if (len > 0 && !all_chars(s, "_-.", false)) {
			snprintf(msg, msz, "'%s' is not a valid group name", s);
			return -1;
		}
		return 0;
	case S_LISTEN: {
		uint32_t a;
		uint16_t port;

		if (len > 0 && xf_config_parse_listen(s, &a, &port) < 0) {
			snprintf(msg, msz, "'%s' is not IPV4:PORT (e.g. 127.0.0.1:9810)", s);
			return -1;
		}
		return 0;
	}
	case S_KEY:
		if (len > 0 && !is_key_b64(s, len)) {
			snprintf(msg, msz,
			         "'%s' is not a key: base64 of 32 bytes is 43 characters and '='",
			         s);
			return -1;
		}
		return 0;
	}
	return 0;
}

void
xf_config_enum_list(const struct enumval *e, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; e->name != NULL && n < size; e++) {
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", e->name);
	}
}

/*
 * Convert one scalar into dst (the field's storage). plain: the scalar was unquoted.
 * Integers and booleans must be plain, so that "80" or "true" in quotes is a type error
 * instead of silently meaning something.
 */
int
xf_config_convert_scalar(const struct field *f, const char *s, size_t len, bool plain, void *dst,
                         char *msg, size_t msz)
{
	uint64_t v;

	if (f->type != T_STR && xf_config_is_null_text(s, plain)) {
		snprintf(msg, msz, "missing value: expected %s", xf_config_type_name(f));
		return -1;
	}
	if (f->type == T_STR && plain && xf_config_is_null_text(s, plain)) {
		snprintf(msg, msz, "missing value: expected a string (write \"\" for empty)");
		return -1;
	}
	switch (f->type) {
	case T_INT: {
		uint32_t u;

		if (!plain) {
			snprintf(msg, msz, "expected an integer, got a quoted string");
			return -1;
		}
		if (parse_u64(s, &v, msg, msz) < 0) {
			return -1;
		}
		if (v < f->min || v > f->max) {
			snprintf(msg, msz, "%" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ")",
			         v, f->min, f->max);
			return -1;
		}
		if ((f->flags & F_POW2) && (v & (v - 1)) != 0) {
			snprintf(msg, msz, "%" PRIu64 " is not a power of two", v);
			return -1;
		}
		u = (uint32_t)v;
		memcpy(dst, &u, sizeof(u));
		return 0;
	}
	case T_BOOL: {
		bool b;

		if (plain && strcmp(s, "true") == 0) {
			b = true;
		} else if (plain && strcmp(s, "false") == 0) {
			b = false;
		} else {
			snprintf(msg, msz, "expected true or false, got %s'%s'",
			         plain ? "" : "quoted ", s);
			return -1;
		}
		memcpy(dst, &b, sizeof(b));
		return 0;
	}
	case T_STR:
		if (check_string(f, s, len, msg, msz) < 0) {
			return -1;
		}
		memset(dst, 0, f->size);
		memcpy(dst, s, len);
		return 0;
	case T_ENUM: {
		const char *names[16];
		const char *hint;
		char all[128];
		size_t n = 0;

		for (const struct enumval *e = f->enums; e->name != NULL; e++) {
			if (strcmp(e->name, s) == 0) {
				memcpy(dst, &e->value, sizeof(e->value));
				return 0;
			}
			names[n++] = e->name;
		}
		xf_config_enum_list(f->enums, all, sizeof(all));
		hint = xf_config_closest(s, names, n);
		snprintf(msg, msz, "'%s' is not one of: %s%s%s%s", s, all,
		         hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		return -1;
	}
	case T_IPV4: {
		uint32_t a;

		if (parse_ipv4(s, &a, NULL) < 0) {
			snprintf(msg, msz, "'%s' is not an IPv4 address (A.B.C.D)", s);
			return -1;
		}
		memcpy(dst, &a, sizeof(a));
		return 0;
	}
	case T_CIDR: {
		uint32_t a, plen;
		const char *p;

		if (parse_ipv4(s, &a, &p) < 0 || *p != '/') {
			snprintf(msg, msz, "'%s' is not an IPv4 address/prefix (A.B.C.D/N)", s);
			return -1;
		}
		if (parse_u64(p + 1, &v, msg, msz) < 0 || v < 1 || v > 32) {
			snprintf(msg, msz, "'%s': prefix length must be 1..32", s);
			return -1;
		}
		plen = (uint32_t)v;
		memcpy(dst, &a, sizeof(a));
		/* The prefix lives at off2; dst points at off, so step by the distance. */
		memcpy((char *)dst + ((ptrdiff_t)f->off2 - (ptrdiff_t)f->off), &plen, sizeof(plen));
		return 0;
	}
	case T_MAC: {
		uint8_t mac[6];

		for (int i = 0; i < 6; i++) {
			const char *q = s + i * 3;

			if (strlen(s) != 17 || hexval(q[0]) < 0 || hexval(q[1]) < 0 ||
			    (i < 5 && q[2] != ':')) {
				snprintf(msg, msz, "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
				         s);
				return -1;
			}
			mac[i] = (uint8_t)(hexval(q[0]) * 16 + hexval(q[1]));
		}
		if (mac[0] & 1) {
			snprintf(msg, msz, "'%s' is a multicast address; a neighbor is unicast", s);
			return -1;
		}
		memcpy(dst, mac, sizeof(mac));
		return 0;
	}
	case T_MAP:
	case T_LIST:
		break;
	}
	snprintf(msg, msz, "expected %s", xf_config_type_name(f));
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Defaults                                                                              */

void
xf_config_apply_defaults(const struct field *fields, char *base)
{
	char msg[XF_CONFIG_ERR_MSG_MAX];

	for (const struct field *f = fields; f->key != NULL; f++) {
		if (f->type == T_MAP) {
			xf_config_apply_defaults(f->sub, base + f->off);
		} else if (f->type == T_LIST) {
			/* List defaults are "[]" or "[a, b]" of integers. */
			unsigned int n = 0;
			const char *p = f->def != NULL ? f->def + 1 : "]";

			while (*p != ']' && *p != '\0' && n < f->max) {
				char item[32];
				size_t k = 0;

				while (*p == ' ' || *p == ',') {
					p++;
				}
				while (*p != ',' && *p != ']' && *p != '\0' &&
				       k + 1 < sizeof(item)) {
					item[k++] = *p++;
				}
				item[k] = '\0';
				if (xf_config_convert_scalar(f->sub, item, k, true,
				                             base + f->off + n * f->size, msg,
				                             sizeof(msg)) == 0) {
					n++;
				}
			}
			memcpy(base + f->off2, &n, sizeof(n));
		} else if (f->def != NULL) {
			xf_config_convert_scalar(f, f->def, strlen(f->def), true, base + f->off,
			                         msg, sizeof(msg));
		}
	}
}
