/* tally: records filed under old region codes, carried through a crosswalk
 * onto the hierarchy a dataset is made over.
 *
 * With a crosswalk set on a dataset (tally_dataset_set_crosswalk), a row of
 * a records file whose region code is not in the dataset's hierarchy but is
 * a from_code of the crosswalk is not rejected as an unknown region: it is
 * kept aside while the file is read, then, at the end of that read, its
 * value goes to the regions the crosswalk names (docs/crosswalk.md):
 *  - one successor (same, renamed, recoded, merged, given): the whole value;
 *  - a split with shares: the value distributed by share, rounded so that
 *    the parts add up to the value exactly: largest remainder in units of
 *    10^-decimals of the indicator (finer when the value itself has more
 *    decimals, up to 10^-9); ties go to the crosswalk's earlier row. A
 *    count of 10 split 0.3/0.7 gives 3 and 7; a count of 5 gives 2 and 3;
 *  - several old regions carried to one region for one period add up there;
 *  - a value carried by a `merged` or `split` row is a piece of its new
 *    region: the rollup counts it at that region beside what the regions
 *    below it give (never invented below it), so totals are conserved.
 *    Only `sum` indicators are carried so; a mean, min, max or count is
 *    carried only one to one.
 * A carried row is rejected (in the read's rejects, or the read's error in
 * stop mode, at the row's file and line) when its code is unmatched in the
 * crosswalk, when it is split without shares ("fill in the shares"), when a
 * successor is not in the hierarchy, when its indicator is a formula (a
 * formula is recomputed from its carried components, never carried), or in
 * a conflict: the region it would go to has a value of its own for that
 * indicator and period (filed itself, or carried by an earlier read); the
 * message names both codes. The read's stats count carried rows as
 * accepted or rejected like any row.
 *
 * A dataset with a crosswalk is read by one thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_CARRY_H
#define TALLY_CARRY_H

#include "tally/common.h"
#include "tally/crosswalk.h"
#include "tally/dataset.h"

TALLY_BEGIN_DECLS

/* Sets the crosswalk the records read into ds from now on are carried
 * through (NULL: none, as before). cw is borrowed: it must outlive the
 * reads; its to_codes should be codes of the dataset's hierarchy (read it
 * with tally_crosswalk_from_file(..., hierarchy), or infer it towards that
 * hierarchy). Errors: TALLY_EINVAL (ds NULL), TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_dataset_set_crosswalk(tally_dataset *ds, const tally_crosswalk *cw);

/* Rows carried through the crosswalk so far (over every read into ds), by
 * how (a tally_crosswalk_kind; -1: all). Rejected rows are not counted. */
TALLY_EXTERN(size_t) tally_dataset_carried_rows(const tally_dataset *ds, int how);

/* The values carried, one entry per (old code, new region, indicator,
 * period) stored: their number, and accessors by index (0 <= i < count;
 * out of range gives TALLY_NONE, NULL or -1). Strings are borrowed and live
 * as long as ds. */
TALLY_EXTERN(size_t) tally_dataset_carried_count(const tally_dataset *ds);
TALLY_EXTERN(size_t) tally_dataset_carried_node(const tally_dataset *ds, size_t i);
TALLY_EXTERN(size_t) tally_dataset_carried_indicator(const tally_dataset *ds, size_t i);
/* The period as filed (YYYY-MM, YYYY-Qn, YYYY). */
TALLY_EXTERN(const char *) tally_dataset_carried_period(const tally_dataset *ds, size_t i);
/* The old code the value was filed under. */
TALLY_EXTERN(const char *) tally_dataset_carried_from(const tally_dataset *ds, size_t i);
/* The crosswalk row's how (tally_crosswalk_kind). */
TALLY_EXTERN(int) tally_dataset_carried_how(const tally_dataset *ds, size_t i);

TALLY_END_DECLS

#endif
