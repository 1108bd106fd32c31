/* tally: check (being written).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_CHECK_H
#define TALLY_CHECK_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

TALLY_END_DECLS

#endif
