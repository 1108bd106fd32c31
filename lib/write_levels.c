/* Which levels, regions and indicators a writer writes
 * (tally_write_options.levels, under, indicators).
 *
 * Kept apart from write.c, which reads no hierarchy, so that the readers,
 * which come before the hierarchy, may write with it too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "write.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"

unsigned char *tally_write__levels(const tally_hierarchy *h, const tally_write_options *opts)
{
    size_t nl = tally_hierarchy_level_count(h);
    unsigned char *want = calloc(nl + 1, 1);
    if (!want)
        return NULL;
    int all = !opts || !opts->levels || !opts->level_count;
    for (size_t k = 0; k < nl; k++)
        want[k] = (unsigned char)all;
    for (size_t k = 0; !all && k < opts->level_count; k++)
        if (opts->levels[k] >= 0 && (size_t)opts->levels[k] < nl)
            want[opts->levels[k]] = 1;
    return want;
}

tally_write_options tally_write__current(const tally_write_options *opts)
{
    tally_write_options o = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        return o;
    o.format = opts->format;
    o.levels = opts->levels;
    o.level_count = opts->level_count;
    if (opts->version >= 2) {
        o.bom = opts->bom;
        o.names = opts->names;
        o.layout = opts->layout;
        o.under = opts->under;
        o.indicators = opts->indicators;
        o.indicator_count = opts->indicator_count;
    }
    /* A program built before version 3 wrote every region. */
    o.all_regions = opts->version >= 3 ? opts->all_regions != 0 : 1;
    return o;
}

int tally_write__scope_make(tally_write__scope *s, const tally_hierarchy *h,
                            const tally_definitions *d, const tally_write_options *opts)
{
    memset(s, 0, sizeof *s);
    s->opts = tally_write__current(opts);
    const tally_write_options *o = &s->opts;
    if (o->format < TALLY_FORMAT_CSV || o->format > TALLY_FORMAT_XLSX)
        return tally_error__set(TALLY_EINVAL, "format %d is not a format; expected csv (0), "
                                "json (1) or xlsx (2)", o->format);
    if (o->layout != TALLY_LAYOUT_LONG && o->layout != TALLY_LAYOUT_WIDE)
        return tally_error__set(TALLY_EINVAL, "layout %d is not a layout; expected long (0) or "
                                "wide (1)", o->layout);
    s->nlevels = tally_hierarchy_level_count(h);
    s->level = tally_write__levels(h, o);
    s->nind = d ? tally_definitions_indicator_count(d) : 0;
    s->ind = malloc(s->nind + 1);
    if (!s->level || !s->ind)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    s->first = 0;
    s->last = tally_hierarchy_size(h);
    if (o->under) {
        size_t node;
        if (tally_hierarchy_find(h, o->under, strlen(o->under), &node))
            return tally_error__set(TALLY_ENOTFOUND,
                                    "--under '%s' is not a region code of the hierarchy",
                                    o->under);
        s->first = node;
        s->last = tally_hierarchy_subtree_end(h, node);
    }
    int all = !o->indicators || !o->indicator_count;
    memset(s->ind, all, s->nind + 1);
    for (size_t k = 0; !all && k < o->indicator_count; k++) {
        const char *id = o->indicators[k] ? o->indicators[k] : "";
        size_t i;
        if (!d || tally_definitions_find(d, id, strlen(id), &i))
            return tally_error__set(TALLY_ENOTFOUND,
                                    "--indicator '%s' is not an indicator of the definitions",
                                    id);
        s->ind[i] = 1;
        /* An indicator broken down by categories comes with its options
         * (its slots follow it); `x[cause=illness]` is that slot alone. */
        for (size_t j = i + 1; j < s->nind && tally_definitions_base(d, j) == i; j++)
            s->ind[j] = 1;
    }
    return 0;
}

void tally_write__scope_free(tally_write__scope *s)
{
    free(s->level);
    free(s->ind);
    s->level = s->ind = NULL;
}

int tally_write__table_begin(tally_write__scope *s, tally_write__table *t,
                             const tally_hierarchy *h, const tally_definitions *d,
                             const tally_write_options *opts, const char *path,
                             const char *what, const char *sheet)
{
    int rc = tally_write__scope_make(s, h, d, opts);
    if (!rc)
        rc = tally_write__table_open(t, path, what, sheet, &s->opts);
    if (rc)
        tally_write__scope_free(s);
    return rc;
}
