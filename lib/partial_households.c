/* Mergeable partials of households: every household of a part, in the
 * order it was read, tagged with its part; merged by (part, order), which
 * is the order one process reads the parts in; finished by adding them in
 * that order to one store and measuring it as one process does, so every
 * compensated sum, sort and merge of sorted incomes sees the same
 * households in the same order and gives the same doubles.
 *
 * SPDX-License-Identifier: MIT
 */
#include "partial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "households.h"
#include "rejects.h"
#include "util.h"

TALLY_EXTERN(int) tally_partial_from_households(tally_partial **out, const tally_households *hh,
                                                uint32_t source)
{
    if (out)
        *out = NULL;
    if (!out || !hh)
        return tally_error__set(TALLY_EINVAL, "tally_partial_from_households: NULL argument");
    tally_partial *p;
    if (tally_partial__new(&p, TALLY_PARTIAL_HOUSEHOLDS, hh->h, NULL))
        return TALLY_ENOMEM;
    size_t ids = 0;
    for (size_t i = 0; i < hh->count; i++) {
        const char *id;
        size_t len = tally_households__id(hh, i, &id);
        if (len == SIZE_MAX) {
            tally_partial_free(p);
            return tally_error__set(TALLY_ENOMEM, "out of memory reading household ids");
        }
        ids += len + 1;
    }
    p->hh = malloc((hh->count ? hh->count : 1) * sizeof *p->hh);
    p->ids = malloc(ids ? ids : 1);
    if (!p->hh || !p->ids) {
        tally_partial_free(p);
        return tally_error__set(TALLY_ENOMEM, "out of memory making a partial of %zu households",
                                hh->count);
    }
    for (size_t i = 0; i < hh->count; i++) {
        const char *id;
        size_t len = tally_households__id(hh, i, &id);
        tally_partial__household *y = &p->hh[i];
        memset(y, 0, sizeof *y);
        y->source = source;
        y->node = hh->node[i];
        y->index = i;
        y->pw = hh->pw[i];
        y->income = hh->income[i];
        y->year = hh->year[i];
        y->id_len = (uint32_t)len;
        y->id = p->ids_len;
        memcpy(p->ids + p->ids_len, id, len);
        p->ids[p->ids_len + len] = '\0';
        p->ids_len += len + 1;
    }
    p->nhh = p->hh_cap = hh->count;
    p->ids_cap = ids;
    *out = p;
    return 0;
}

static int before(const tally_partial__household *a, const tally_partial__household *b)
{
    return a->source != b->source ? a->source < b->source : a->index <= b->index;
}

int tally_partial__merge_households(tally_partial *into, const tally_partial *other)
{
    size_t n = into->nhh + other->nhh, ids = into->ids_len + other->ids_len;
    tally_partial__household *hh = malloc((n ? n : 1) * sizeof *hh);
    char *text = malloc(ids ? ids : 1);
    if (!hh || !text) {
        free(hh);
        free(text);
        return tally_error__set(TALLY_ENOMEM, "out of memory merging partials of %zu households",
                                n);
    }
    if (into->ids_len)
        memcpy(text, into->ids, into->ids_len);
    if (other->ids_len)
        memcpy(text + into->ids_len, other->ids, other->ids_len);
    size_t i = 0, j = 0, k = 0;
    while (i < into->nhh || j < other->nhh) {
        if (j == other->nhh || (i < into->nhh && before(&into->hh[i], &other->hh[j]))) {
            hh[k++] = into->hh[i++];
        } else {
            hh[k] = other->hh[j++];
            hh[k++].id += into->ids_len;
        }
    }
    free(into->hh);
    free(into->ids);
    into->hh = hh;
    into->nhh = into->hh_cap = n;
    into->ids = text;
    into->ids_len = into->ids_cap = ids;
    return 0;
}

TALLY_EXTERN(int) tally_partial_poverty(tally_poverty **out, const tally_partial *p,
                                        const tally_definitions *d,
                                        const tally_poverty_options *opts,
                                        tally_rejects *duplicates)
{
    if (out)
        *out = NULL;
    if (!out || !p)
        return tally_error__set(TALLY_EINVAL, "tally_partial_poverty: NULL argument");
    if (p->kind != TALLY_PARTIAL_HOUSEHOLDS)
        return tally_error__set(TALLY_EINVAL, "tally_partial_poverty needs a households partial; "
                                              "records are finished by tally_partial_rollup");
    tally_households *hh;
    int rc = tally_households_new(&hh, p->h);
    for (size_t i = 0; !rc && i < p->nhh; i++) {
        const tally_partial__household *x = &p->hh[i];
        const char *id = p->ids + x->id;
        rc = tally_households__add_weighted(hh, id, x->node, x->pw, x->income, x->year);
        if (rc != TALLY_EEXIST)
            continue;
        /* Given by an earlier part too: dropped, as one process rejects
         * the later row. */
        rc = 0;
        if (!duplicates)
            continue;
        char path[32], row[256];
        snprintf(path, sizeof path, "<part %lu>", (unsigned long)x->source);
        snprintf(row, sizeof row, "%.200s", id);
        if (tally_rejects__add_item(duplicates, path, (unsigned long)x->index + 1, row))
            rc = tally_error__set(TALLY_ENOMEM, "out of memory listing duplicate households");
    }
    if (!rc)
        rc = tally_poverty_households(out, hh, d, opts);
    tally_households_free(hh);
    return rc;
}
