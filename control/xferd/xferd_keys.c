/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferd keygen FILE and xferd pubkey -c FILE (docs/SECURITY.md section 6). The private
 * key lives only in locked memory that is wiped before exit, and is never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xf_config.h"
#include "xf_keyfile.h"
#include "xf_noise.h"
#include "xferd.h"

/* One locked page holds the private key. */
#define KEYMEM 4096u

static int
print_pub(const uint8_t *pub)
{
	char b64[XF_KEY_B64_LEN + 1];

	xf_key_b64_encode(pub, b64);
	return printf("%s\n", b64) < 0 ? 1 : 0;
}

int
xferd_keygen(const struct xferd_opts *o)
{
	uint8_t *priv = xf_keymem_alloc(KEYMEM), pub[XF_KEY_LEN];
	int rc;

	if (priv == NULL) {
		fprintf(stderr, "xferd: cannot lock memory for the key: %s\n", strerror(errno));
		return 1;
	}
	rc = xf_noise_keygen(priv, pub);
	if (rc == 0) {
		rc = xf_keyfile_write(o->keyfile, priv);
		if (rc != 0) {
			fprintf(stderr, "xferd: %s: %s\n", o->keyfile, strerror(-rc));
		}
	} else {
		fprintf(stderr, "xferd: key generation failed\n");
	}
	xf_keymem_free(priv, KEYMEM);
	return rc == 0 ? print_pub(pub) : 1;
}

int
xferd_pubkey(const struct xferd_opts *o)
{
	struct xf_config *cfg = NULL;
	uint8_t *priv, pub[XF_KEY_LEN];
	const char *path;
	int rc;

	if (xferd_load_config(o, &cfg) < 0) {
		return 1;
	}
	path = cfg->session.private_key_file;
	if (path[0] == '\0') {
		fprintf(stderr, "xferd: %s: session.private_key_file is not set\n", o->config);
		xf_config_free(cfg);
		return 1;
	}
	priv = xf_keymem_alloc(KEYMEM);
	if (priv == NULL) {
		fprintf(stderr, "xferd: cannot lock memory for the key: %s\n", strerror(errno));
		xf_config_free(cfg);
		return 1;
	}
	rc = xf_keyfile_read(path, priv);
	if (rc == -EPERM) {
		fprintf(stderr,
		        "xferd: %s: refused: a key file must be owned by uid %u and mode 0600\n",
		        path, (unsigned int)geteuid());
	} else if (rc == -EINVAL) {
		fprintf(stderr,
		        "xferd: %s: not a key file (a regular file holding base64 of 32 bytes)\n",
		        path);
	} else if (rc != 0) {
		fprintf(stderr, "xferd: %s: %s\n", path, strerror(-rc));
	}
	if (rc == 0 && xf_noise_pubkey(priv, pub) != 0) {
		rc = -EIO;
	}
	xf_keymem_free(priv, KEYMEM);
	xf_config_free(cfg);
	return rc == 0 ? print_pub(pub) : 1;
}
