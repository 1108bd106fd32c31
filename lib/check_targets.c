/* Consistency checks: `targets`, the children's targets that do not cover
 * their parent's (the target set's decomposition findings, as findings of
 * the check run).
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "period.h"

/* targets: the decomposition findings of the target set, and the number of
 * comparisons they come from (in the years checked and the years of the
 * findings). */
int tally_check__targets(tally_check__run *R, size_t ord, const tally_targets *t)
{
    tally_check_summary *s = &R->f->checks[ord];
    tally_target_findings *tf = NULL;
    int rc = tally_targets_decomposition(&tf, t);
    if (rc)
        return rc;
    size_t nt = tally_target_findings_count(tf), n = R->n;
    /* Years: those of the periods checked and of the findings. */
    int *years = malloc((R->nper + nt + 1) * sizeof *years);
    double *eff = malloc((n ? n : 1) * sizeof *eff);
    if (!years || !eff) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    size_t ny = 0;
    for (size_t k = 0; k < R->nper + nt; k++) {
        int y = k < R->nper ? tally_period__year(R->periods[k])
                            : tally_target_findings_year(tf, k - R->nper);
        int dup = 0;
        for (size_t j = 0; j < ny && !dup; j++)
            dup = years[j] == y;
        if (!dup)
            years[ny++] = y;
    }
    for (size_t i = 0; i < R->m; i++) {
        int agg = tally_definitions_aggregate(R->d, i);
        if (agg != TALLY_AGGREGATE_SUM && agg != TALLY_AGGREGATE_COUNT)
            continue;
        for (size_t k = 0; k < ny; k++) {
            if (!tally_targets_has(t, i, years[k]))
                continue;
            int r = tally_targets_effective(t, i, years[k], eff, n);
            if (r < 0) {
                rc = r;
                goto done;
            }
            for (size_t node = 0; node < n; node++) {
                double given;
                int present;
                tally_targets_given(t, node, i, years[k], &given, &present);
                if (!present)
                    continue;
                int child = 0;
                for (size_t c = node + 1; c < R->end[node] && !child; c = R->end[c])
                    child = !isnan(eff[c]);
                s->items += (size_t)child;
            }
        }
    }
    s->fails = nt;
    s->passes = s->items >= nt ? s->items - nt : 0;
    for (size_t k = 0; k < nt && !rc; k++) {
        size_t node = tally_target_findings_node(tf, k), i = tally_target_findings_indicator(tf, k);
        int year = tally_target_findings_year(tf, k);
        double target = tally_target_findings_target(tf, k);
        double sum = tally_target_findings_children_sum(tf, k);
        size_t with = tally_target_findings_children_with_target(tf, k);
        size_t children = tally_target_findings_children(tf, k);
        int ceiling = tally_definitions_direction(R->d, i) == TALLY_DIRECTION_LOWER_IS_BETTER;
        int d = tally_check__finding_decimals(tally_definitions_decimals(R->d, i), sum - target);
        /* Target years are 1000..9999 (the targets reader refuses others),
         * so the year always parses as a period. */
        int32_t key = 0;
        char ytext[16];
        snprintf(ytext, sizeof ytext, "%04d", year);
        tally_period__parse(ytext, strlen(ytext), &key);
        tally_check__sb b = { 0 };
        tally_check__prefix(&b, R, node, key);
        tally_check__sb_printf(&b, "the targets for %s of %zu of its %zu regions below add up to ",
                               tally_definitions_name(R->d, i), with, children);
        tally_check__sb_num(&b, sum, d);
        tally_check__sb_str(&b,
                            ceiling ? ", above its own ceiling " : ", short of its own target ");
        tally_check__sb_num(&b, target, d);
        rc = tally_check__add_finding(R, ord, TALLY_FINDING_TARGETS, TALLY_FINDING_ERROR, node, i,
                                      i, key, target, sum, d, &b);
    }
done:
    free(years);
    free(eff);
    tally_target_findings_free(tf);
    return rc;
}
