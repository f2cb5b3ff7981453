/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every libFuzzer harness here shares: CHECK(c) names the property that failed and
 * aborts, which libFuzzer reports as a crash and saves the input for.
 */
#ifndef XF_FUZZ_H
#define XF_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #c);             \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif /* XF_FUZZ_H */
