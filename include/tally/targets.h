/* tally: annual targets, and their decomposition over the hierarchy.
 *
 * Targets are annual, per region, indicator and year: read from a CSV
 *   region_code,indicator,year,target
 * (columns found by name, in any order; UTF-8, optional BOM, RFC 4180), added
 * one by one, and merged from the definitions' inline `targets:`. A region's
 * *effective* target is the one given, else, for an indicator that
 * aggregates by sum (or count), the sum of its children's effective targets
 * when every child has one (the sum of some children's targets, set against
 * the actual of all of them, would overstate completion). Given targets of
 * parents and children
 * are compared too: when the children's targets do not cover the parent's
 * (they sum below it; above it for a lower-is-better ceiling) that is a
 * finding, returned as data by tally_targets_decomposition().
 *
 * Completion against the targets is in tally/progress.h; schedules (the
 * expected share by month) in tally/schedule.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_TARGETS_H
#define TALLY_TARGETS_H

#include "tally/common.h"
#include "tally/dataset.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"
#include "tally/write.h"

TALLY_BEGIN_DECLS

/* ---- Targets ---- */

typedef struct tally_targets tally_targets;

/* Creates a target set over h and d (borrowed: both must outlive it) holding
 * the definitions' inline targets, if any. *out belongs to the caller
 * (tally_targets_free); NULL on failure. Errors: TALLY_ENOTFOUND (an inline
 * target names a region the hierarchy does not have; the last error has its
 * line and column in the definitions file), TALLY_EEXIST (an inline target
 * given twice), TALLY_EINVAL, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_targets_new(tally_targets **out, const tally_hierarchy *h,
                                    const tally_definitions *d);

/* Frees a target set. NULL does nothing. */
TALLY_EXTERN(void) tally_targets_free(tally_targets *t);

/* Reads a targets CSV `region_code,indicator,year,target` into the set (the
 * file is mapped, not copied). Rows behave as records rows do: each is
 * accepted or rejected with file:line:col and a reason: wrong field count
 * (TALLY_EPARSE), unknown region or indicator (TALLY_ENOTFOUND), a year
 * that is not YYYY (TALLY_EPARSE), a bad number (TALLY_EPARSE; nan, inf and
 * overflow: TALLY_ERANGE), a duplicate of a target already in the set, from
 * any file or inline (TALLY_EEXIST). An empty target cell is accepted and
 * means no target is given (it still makes a later row for the same region,
 * indicator and year a duplicate).
 *
 * opts->on_error STOP: the first bad row ends the read and its code is
 * returned (rows before it stay). COLLECT: every bad row goes to `rejects`
 * (required then) and the read returns 0 unless the file cannot be read or
 * its header is unusable. stats may be NULL; opts NULL means
 * TALLY_READ_OPTIONS_INIT. */
TALLY_EXTERN(int) tally_targets_read_file(tally_targets *t, const char *path,
                                          const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats);

/* Same, from memory; `name` stands for the path in messages and rejects
 * (NULL: "<buffer>"). The buffer is not kept. */
TALLY_EXTERN(int) tally_targets_read_buffer(tally_targets *t, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats);

/* Adds one target. `target` NaN records "no target given" (as an empty
 * cell does). Errors: TALLY_ENOTFOUND (region or indicator), TALLY_EINVAL
 * (year outside 1000..9999), TALLY_ERANGE (infinite target), TALLY_EEXIST
 * (already given). */
TALLY_EXTERN(int) tally_targets_add(tally_targets *t, const char *region_code,
                                    const char *indicator, int year, double target);

/* Number of targets given (inline, read or added; empty ones included). */
TALLY_EXTERN(size_t) tally_targets_count(const tally_targets *t);

/* The target given for a node, indicator and year (indices of the
 * hierarchy and definitions). *present is 0 when none was given (then
 * *value is NaN). TALLY_EINVAL for an index out of range. */
TALLY_EXTERN(int) tally_targets_given(const tally_targets *t, size_t node, size_t indicator,
                                      int year, double *value, int *present);

/* Effective targets of one indicator and year for every node: out[node]
 * (a caller-allocated array of n = tally_hierarchy_size() doubles) gets the
 * given target, else the sum of the children's effective targets (sum and
 * count indicators only, when every child has one), else NaN. Returns the
 * number of nodes with a target, or TALLY_EINVAL (bad indicator, n too
 * small). O(nodes). */
TALLY_EXTERN(int) tally_targets_effective(const tally_targets *t, size_t indicator, int year,
                                          double *out, size_t n);

/* 1 when some target is given for the indicator and year, else 0. */
TALLY_EXTERN(int) tally_targets_has(const tally_targets *t, size_t indicator, int year);

/* ---- Decomposition findings ----
 *
 * One finding per node, indicator and year where the node has a target of
 * its own, at least one child has an effective target, and the children's
 * effective targets do not cover the node's: their sum is below it (above
 * it for a lower-is-better indicator, where targets are ceilings). Only
 * sum and count indicators are decomposed. */
typedef struct tally_target_findings tally_target_findings;

/* Computes the findings over every indicator and year of the set, nodes in
 * pre-order, then indicators in definition order, then years ascending.
 * *out belongs to the caller (tally_target_findings_free). A set with no
 * findings gives a list of count 0. Errors: TALLY_ENOMEM, TALLY_EINVAL. */
TALLY_EXTERN(int) tally_targets_decomposition(tally_target_findings **out,
                                              const tally_targets *t);

TALLY_EXTERN(void) tally_target_findings_free(tally_target_findings *f);
TALLY_EXTERN(size_t) tally_target_findings_count(const tally_target_findings *f);
/* Accessors by index (out of range: TALLY_NONE, 0 or NaN). */
TALLY_EXTERN(size_t) tally_target_findings_node(const tally_target_findings *f, size_t i);
TALLY_EXTERN(size_t) tally_target_findings_indicator(const tally_target_findings *f, size_t i);
TALLY_EXTERN(int) tally_target_findings_year(const tally_target_findings *f, size_t i);
/* The node's own target. */
TALLY_EXTERN(double) tally_target_findings_target(const tally_target_findings *f, size_t i);
/* The sum of its children's effective targets. */
TALLY_EXTERN(double) tally_target_findings_children_sum(const tally_target_findings *f,
                                                        size_t i);
/* How many children have an effective target, and how many children. */
TALLY_EXTERN(size_t) tally_target_findings_children_with_target(const tally_target_findings *f,
                                                                size_t i);
TALLY_EXTERN(size_t) tally_target_findings_children(const tally_target_findings *f, size_t i);

TALLY_END_DECLS

#endif
