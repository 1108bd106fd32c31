/* The periods a dataset has values for: what `--period` can ask of it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "period.h"
#include "util.h"

/* 1 when the column holds at least one value (not only empty cells). */
static int has_values(const tally_column *c, size_t nodes)
{
    (void)nodes;
    for (size_t w = tally_column__word_lo(c); w < tally_column__word_hi(c); w++)
        if (c->valid[w])
            return 1;
    return 0;
}

static int by_period(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

TALLY_EXTERN(int) tally_dataset_periods(const tally_dataset *ds, char **out)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_periods: NULL out");
    *out = NULL;
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_periods: NULL dataset");
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    size_t ncols = tally_dataset__column_count(ds), n = 0;
    int32_t *keys = malloc((ncols ? ncols : 1) * sizeof *keys);
    if (!keys)
        return tally_error__set(TALLY_ENOMEM, "out of memory listing periods");
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = keys[j] == c->period;
        if (!dup && has_values(c, nodes))
            keys[n++] = c->period;
    }
    qsort(keys, n, sizeof *keys, by_period);
    char *text = malloc(n * TALLY_PERIOD_TEXT_MAX + 1), *p = text;
    if (!text) {
        free(keys);
        return tally_error__set(TALLY_ENOMEM, "out of memory listing periods");
    }
    for (size_t j = 0; j < n; j++) {
        if (j)
            *p++ = ',';
        p += tally_period__format(keys[j], p);
    }
    *p = '\0';
    free(keys);
    *out = text;
    return 0;
}

TALLY_EXTERN(int) tally_dataset_period_has_values(const tally_dataset *ds, const char *period)
{
    if (!ds || !period)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_period_has_values: NULL argument");
    int32_t key;
    if (tally_period__parse_ask(period, strlen(period), &key))
        return tally_error__set(TALLY_EPARSE, "bad period '%s'; expected " TALLY_PERIOD__FORMS,
                                period);
    int32_t first = tally_period__first_month(key), last = tally_period__last_month(key);
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    for (size_t k = 0; k < tally_dataset__column_count(ds); k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        if (tally_period__first_month(c->period) >= first &&
            tally_period__last_month(c->period) <= last && has_values(c, nodes))
            return 1;
    }
    return 0;
}
