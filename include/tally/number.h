/* tally: formatting numbers, as every writer of results formats them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_NUMBER_H
#define TALLY_NUMBER_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

/* Formats `value` with `decimals` digits after the point (0..15), rounding
 * half away from zero on the value's shortest decimal form (so 2.675 with 2
 * decimals is "2.68"); never prints "-0". Writes at most size bytes
 * including the NUL. Returns the length written (without the NUL), or
 * TALLY_EINVAL when size is too small or value is not finite. */
TALLY_EXTERN(int) tally_number_format(char *buf, size_t size, double value, int decimals);

TALLY_END_DECLS

#endif
