/* The names a header cell may give a column (columns.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "columns.h"

#include <stdio.h>
#include <string.h>

#include "tally/error.h"
#include "util.h"

typedef struct synonym {
    const char *name, *key;
} synonym;

/* Each key by itself first, then the names offices give it. */
static const synonym records_names[] = {
    { "region_code", "region_code" }, { "indicator", "indicator" }, { "period", "period" },
    { "value", "value" }, { "region_name", "region_name" },
    { "代码", "region_code" }, { "区划代码", "region_code" }, { "村代码", "region_code" },
    { "地区代码", "region_code" }, { "指标", "indicator" }, { "指标代码", "indicator" },
    { "时期", "period" }, { "月份", "period" }, { "年月", "period" }, { "期别", "period" },
    { "数值", "value" }, { "值", "value" }, { "名称", "region_name" }, { "村名", "region_name" },
    { "地区名称", "region_name" },
};

static const synonym hierarchy_names[] = {
    { "code", "code" }, { "name", "name" }, { "level", "level" },
    { "parent_code", "parent_code" },
    { "代码", "code" }, { "区划代码", "code" }, { "名称", "name" }, { "级别", "level" },
    { "层级", "level" }, { "上级代码", "parent_code" },
};

static const char *lookup(const synonym *t, size_t n, const char *cell, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && memcmp(t[i].name, cell, len) == 0)
            return t[i].key;
    return NULL;
}

const char *const tally_columns__records_keys[TALLY_COLUMNS__RECORDS_COUNT] = {
    "region_code", "indicator", "period", "value", "region_name"
};

const char *tally_columns__records_key(const tally_definitions *d, const char *cell, size_t len)
{
    for (size_t k = 0; d && k < TALLY_COLUMNS__RECORDS_COUNT; k++) {
        const char *h = tally_definitions__column_header(d, k);
        if (h && strlen(h) == len && memcmp(h, cell, len) == 0)
            return tally_columns__records_keys[k];
    }
    return lookup(records_names, sizeof records_names / sizeof *records_names, cell, len);
}

const char *tally_columns__hierarchy_key(const char *cell, size_t len)
{
    return lookup(hierarchy_names, sizeof hierarchy_names / sizeof *hierarchy_names, cell, len);
}

int tally_columns__find_indicator(const tally_definitions *d, const char *cell, size_t len,
                                  size_t *index)
{
    size_t n = tally_definitions_indicator_count(d);
    for (size_t i = 0; i < n; i++) {
        const char *id = tally_definitions_id(d, i);
        if (strlen(id) == len && memcmp(id, cell, len) == 0) {
            *index = i;
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = tally_definitions_name(d, i);
        if (name && strlen(name) == len && memcmp(name, cell, len) == 0) {
            *index = i;
            return 0;
        }
    }
    *index = TALLY_NONE;
    return TALLY_ENOTFOUND;
}

/* The characters of UTF-8 text, at most `max`, each as its bytes. */
static size_t chars(const char *s, size_t len, unsigned *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < max;) {
        unsigned c = (unsigned char)s[i++];
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            c = (c << 8) | (unsigned char)s[i++];
        out[n++] = c;
    }
    return n;
}

#define NEAR_MAX TALLY_UTIL__DISTANCE_MAX


typedef struct nearest {
    unsigned cell[NEAR_MAX];
    size_t ncell;
    const char *best;
    size_t best_d;
} nearest;

static void consider(nearest *n, const char *name)
{
    if (!name)
        return;
    unsigned c[NEAR_MAX];
    size_t nc = chars(name, strlen(name), c, NEAR_MAX);
    size_t d = tally_util__distance(n->cell, n->ncell, c, nc);
    if (d < n->best_d) {
        n->best_d = d;
        n->best = name;
    }
}

void tally_columns__nearest(const tally_definitions *d, int hierarchy, const char *cell,
                            size_t len, char *buf, size_t size)
{
    nearest n;
    n.ncell = chars(cell, len, n.cell, NEAR_MAX);
    n.best = NULL;
    n.best_d = (size_t)-1;
    const synonym *t = hierarchy ? hierarchy_names : records_names;
    size_t nt = hierarchy ? sizeof hierarchy_names / sizeof *hierarchy_names
                          : sizeof records_names / sizeof *records_names;
    for (size_t i = 0; i < nt; i++)
        consider(&n, t[i].name);
    for (size_t k = 0; d && !hierarchy && k < TALLY_COLUMNS__RECORDS_COUNT; k++)
        consider(&n, tally_definitions__column_header(d, k));
    for (size_t i = 0; d && i < tally_definitions_indicator_count(d); i++) {
        consider(&n, tally_definitions_id(d, i));
        consider(&n, tally_definitions_name(d, i));
    }
    /* Near: at most a third of the cell's characters changed (one at
     * least), so that any cell does not get a suggestion. */
    size_t limit = n.ncell / 3 ? n.ncell / 3 : 1;
    buf[0] = '\0';
    if (n.best && n.best_d && n.best_d <= limit)
        snprintf(buf, size, "; did you mean '%s'?", n.best);
}
