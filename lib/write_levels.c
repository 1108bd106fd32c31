/* Which levels of a hierarchy a writer writes (tally_write_options.levels).
 *
 * Kept apart from write.c, which reads no hierarchy, so that the readers,
 * which come before the hierarchy, may write with it too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "write.h"

#include <stdlib.h>

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
