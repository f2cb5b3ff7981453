/* SPDX-License-Identifier: BSD-3-Clause */
#include "xf_base.h"

int xf_log_threshold = XF_LOG_NOTICE;
__thread unsigned int xf_core_self_id;
