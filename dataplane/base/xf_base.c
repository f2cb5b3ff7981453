/* SPDX-License-Identifier: BSD-3-Clause */
#include "xf_base.h"

int xf_log_threshold = XF_LOG_NOTICE;
xf_log_sink_fn xf_log_sink;
__thread unsigned int xf_core_self_id;
