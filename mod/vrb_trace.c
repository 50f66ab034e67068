// SPDX-License-Identifier: GPL-2.0
/*
 * vrb_trace.c - instantiates the tracepoints declared in vrb_trace.h.
 */
#define CREATE_TRACE_POINTS
#include "vrb_trace.h"
