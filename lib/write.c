/* What every writer of CSV or JSON output shares.
 *
 * SPDX-License-Identifier: MIT
 */
#include "write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tally_write__csv(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void tally_write__json(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\')
            fprintf(f, "\\%c", *q);
        else if (*q < 0x20)
            fprintf(f, "\\u%04x", *q);
        else
            fputc(*q, f);
    }
    fputc('"', f);
}

void tally_write__number(FILE *f, double v, int decimals, int json)
{
    char buf[400];
    int n = isnan(v) ? -1 : tally_format_number(buf, sizeof buf, v, decimals);
    if (n >= 0)
        fputs(buf, f);
    else if (json)
        fputs("null", f);
}

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
