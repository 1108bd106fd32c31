/* tally: targets (being written).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_TARGETS_H
#define TALLY_TARGETS_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

TALLY_END_DECLS

#endif
