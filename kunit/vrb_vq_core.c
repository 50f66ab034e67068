// SPDX-License-Identifier: GPL-2.0
/*
 * The ring core under test, compiled unchanged into the
 * KUnit module.  A relative include works both in a kernel tree and in
 * the out-of-tree (M=) build; an -I flag would break one of them.
 */
#include "../mod/vrb_vq.c"
