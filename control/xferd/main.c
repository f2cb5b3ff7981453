/* SPDX-License-Identifier: BSD-3-Clause */
/* xferd: the appliance daemon. */
#include <stdlib.h>

#include "xferd.h"

int
main(int argc, char **argv)
{
	struct xferd_opts o;
	int rc;

	if (xferd_parse_args(argc, argv, &o) < 0) {
		xferd_opts_free(&o);
		return 2;
	}
	switch (o.mode) {
	case XFERD_MODE_HELP:
		rc = 0;
		break;
	case XFERD_MODE_CHECK:
		rc = xferd_check(&o);
		break;
	case XFERD_MODE_DUMP:
		rc = xferd_dump(&o);
		break;
	case XFERD_MODE_KEYGEN:
		rc = xferd_keygen(&o);
		break;
	case XFERD_MODE_PUBKEY:
		rc = xferd_pubkey(&o);
		break;
	default:
		rc = xferd_run(&o);
		break;
	}
	xferd_opts_free(&o);
	return rc;
}
