/* tally: poverty (being written).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_POVERTY_H
#define TALLY_POVERTY_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

TALLY_END_DECLS

#endif
