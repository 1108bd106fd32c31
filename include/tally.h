/* tally: statistical indicators over administrative hierarchies.
 *
 * Umbrella header: includes every public module.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_H
#define TALLY_H

#include "tally/common.h"
#include "tally/error.h"
#include "tally/version.h"
#include "tally/period.h"
#include "tally/read.h"
#include "tally/number.h"
#include "tally/write.h"
#include "tally/hierarchy.h"
#include "tally/crosswalk.h"
#include "tally/definitions.h"
#include "tally/dataset.h"
#include "tally/carry.h"
#include "tally/rollup.h"
#include "tally/export.h"
#include "tally/targets.h"
#include "tally/schedule.h"
#include "tally/progress.h"
#include "tally/households.h"
#include "tally/poverty.h"
#include "tally/thresholds.h"
#include "tally/check.h"
#include "tally/snapshot.h"
#include "tally/xlsx_read.h"
#include "tally/partial.h"

#endif
