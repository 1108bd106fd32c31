/* Writing rollup results as CSV or JSON.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/export.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "export.h"
#include "hierarchy.h"
#include "number.h"
#include "rollup.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "write.h"

int tally_export__number_plain(char *buf, size_t size, double v, int decimals)
{
    return tally_number__plain(buf, size, v, decimals);
}

/* The most a number takes: 309 integer digits of DBL_MAX, the point, 15
 * decimals and a sign, rounded up. */
#define NUMBER_MAX 400

int tally_export__number(char *buf, size_t size, double v, int decimals)
{
    uint64_t u;
    if (decimals >= 0 && decimals <= 15 && size >= 40 &&
        tally_number__fast_units(fabs(v), decimals, &u)) {
        char *e = tally_number__put_units(buf, u, decimals, v < 0 && u != 0);
        *e = '\0';
        return (int)(e - buf);
    }
    return tally_number_format(buf, size, v, decimals);
}

/* A value at o (NUMBER_MAX bytes free): its digits, or nothing (CSV) or
 * null (JSON) when it is missing or not finite. */
static inline char *put_value(char *o, double v, int decimals, int json)
{
    uint64_t u;
    if ((unsigned)decimals <= 15 && tally_number__fast_units(fabs(v), decimals, &u))
        return tally_number__put_units(o, u, decimals, v < 0 && u != 0);
    int n = isnan(v) ? -1 : tally_number_format(o, NUMBER_MAX, v, decimals);
    if (n > 0)
        return o + n;
    if (json) {
        memcpy(o, "null", 4);
        o += 4;
    }
    return o;
}

/* What the formatting threads share; read-only while they run. */
typedef struct result_writer {
    const tally_result *r;
    const tally_hierarchy *h;
    size_t first, nodes;       /* the nodes written: [first, nodes) */
    size_t nind, nper, block_nodes;
    size_t *ind_of;            /* by written indicator: its definitions index */
    const unsigned char *want; /* by level */
    size_t nlevels;
    const uint8_t *levels; /* tally_hierarchy__levels */
    int json, names, compare, coverage;
    int all; /* every row; else only the rows with data (row_has_data) */
    unsigned char *formula; /* by indicator: coverage columns have numbers */
    const double **col; /* nind x nper columns, k = indicator x nper + period; NULL
                         * for a result held over some regions: then held[k] */
    tally_rollup__col *held;
    int *kdec;          /* decimals by k */
    unsigned char *pct; /* by indicator: the unit is "%" (no change_pct) */
    /* Text made once: per indicator and period, CSV "id,period," or JSON
     * ,"indicator":"id","period":"period","value": (at mid_at[k]); per
     * level, CSV "level," or JSON ,"level":"level" (at lvl_at[l]). */
    tally_write__buf mid, lvl;
    size_t *mid_at, *lvl_at;
    size_t mid_max;
} result_writer;

/* Bytes that CSV must quote (comma, quote, CR, LF) and JSON must escape
 * (quote, backslash, controls): 1 in the table of each. */
#define CTRL 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char csv_special[256] = { [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1 };
static const unsigned char json_special[256] = { CTRL, CTRL, CTRL, CTRL, ['"'] = 1, ['\\'] = 1 };
#undef CTRL

/* Copies s to o when none of its bytes is special and it is shorter than
 * `room`: returns its length, else SIZE_MAX (copying may have begun). */
static inline size_t copy_plain(char *o, const char *s, size_t room, const unsigned char *special)
{
    size_t n = 0;
    for (unsigned char c; (c = (unsigned char)s[n]) != 0; n++) {
        if (special[c] || n + 1 >= room)
            return SIZE_MAX;
        o[n] = (char)c;
    }
    return n;
}

/* A node's own text, in front of each of its rows: CSV "code,name,level,",
 * JSON ,\n{"region_code":"code","region_name":"name","level":"level"
 * (the first row's comma is dropped by the pipeline). Names and codes that
 * need nothing quoted or escaped (nearly all) are copied in one pass. */
static int node_head(const result_writer *w, size_t node, int level, tally_write__buf *head)
{
    char code_buf[TALLY_HIERARCHY__CODE_BUF];
    const char *code = tally_hierarchy__code_text(w->h, node, code_buf);
    const char *name = tally_hierarchy_name(w->h, node);
    const char *lt = w->lvl.data + w->lvl_at[level];
    size_t lt_len = w->lvl_at[level + 1] - w->lvl_at[level];
    static const char json_code[] = ",\n{\"region_code\":\"", json_name[] = "\",\"region_name\":\"";
    head->len = 0;
    if (tally_write__reserve(head, 256 + lt_len))
        return TALLY_ENOMEM;
    /* Past `lim` the fixed text and the level may not fit. */
    char *o = head->data, *lim = head->data + head->cap - lt_len - 32;
    const unsigned char *special = w->json ? json_special : csv_special;
    if (w->json)
        o = (memcpy(o, json_code, sizeof json_code - 1), o + sizeof json_code - 1);
    size_t n = copy_plain(o, code, (size_t)(lim - o) - sizeof json_name, special);
    if (n != SIZE_MAX) {
        o += n;
        if (w->json)
            o = (memcpy(o, json_name, sizeof json_name - 1), o + sizeof json_name - 1);
        else
            *o++ = ',';
        n = copy_plain(o, name, (size_t)(lim - o), special);
        if (n != SIZE_MAX) {
            o += n;
            *o++ = w->json ? '"' : ',';
            memcpy(o, lt, lt_len);
            head->len = (size_t)(o - head->data) + lt_len;
            return 0;
        }
    }
    head->len = 0;
    if (w->json)
        return tally_write__bytes(head, ",\n{\"region_code\":", 17) ||
                       tally_write__json_text(head, code) ||
                       tally_write__bytes(head, ",\"region_name\":", 15) ||
                       tally_write__json_text(head, name) || tally_write__bytes(head, lt, lt_len)
                   ? TALLY_ENOMEM
                   : 0;
    return tally_write__csv_text(head, code, ',', 0) || tally_write__csv_text(head, name, ',', 0) ||
                   tally_write__bytes(head, lt, lt_len)
               ? TALLY_ENOMEM
               : 0;
}

/* The first node in [from, last) of a level being written (its level in
 * *level), or last: a scan of the level bytes (the villages, nine nodes in
 * ten, are passed over at a byte each when only the levels above are
 * written). */
static inline size_t next_wanted(const result_writer *w, size_t from, size_t last, int *level)
{
    const uint8_t *lv = w->levels;
    const unsigned char *want = w->want;
    size_t nlevels = w->nlevels;
    for (; from < last; from++) {
        unsigned l = lv[from];
        if (l < nlevels && want[l]) {
            *level = (int)l;
            return from;
        }
    }
    return last;
}

/* Asks for the memory a node's rows will read: its value in every column,
 * its code and its name. Only a hint. */
static inline void prefetch_node(const result_writer *w, size_t node)
{
#if defined(__GNUC__)
    for (size_t k = 0; k < w->nind * w->nper; k++)
        if (w->col[k])
            __builtin_prefetch(w->col[k] + node);
    __builtin_prefetch(tally_hierarchy_name(w->h, node));
#else
    (void)w;
    (void)node;
#endif
}

/* The rows of nodes [block x block_nodes, + block_nodes): every wanted
 * node, each indicator, each period. Runs on several threads at once. */
static char *put_changes(const result_writer *w, char *o, size_t node, size_t i, size_t p,
                         double v, int dec);
static char *put_coverage(const result_writer *w, char *o, size_t node, size_t i, size_t p);

/* 1 when a row has data: its value, or with --compare its previous
 * value, or with --coverage a region that reported an operand of the
 * formula (or a month its stock value is as of). docs/output.md. */
static int row_has_data(const result_writer *w, size_t node, size_t k, double v)
{
    if (!isnan(v))
        return 1;
    size_t i = k / w->nper, p = k % w->nper;
    if (w->compare) {
        double prev = NAN;
        int present = 0;
        tally_result_previous(w->r, node, w->ind_of[i], p, &prev, &present);
        if (present && !isnan(prev))
            return 1;
    }
    if (w->coverage) {
        size_t regions = 0;
        int year = 0, month = 0;
        if (w->formula[i])
            tally_result_coverage(w->r, node, w->ind_of[i], p, &regions, NULL);
        else
            tally_result_as_of(w->r, node, w->ind_of[i], p, &year, &month);
        if (regions || year)
            return 1;
    }
    return 0;
}

/* 1 when some row of the node has data (or every row is written). */
static int node_has_data(const result_writer *w, size_t node)
{
    size_t rows = w->nind * w->nper;
    if (w->all)
        return 1;
    for (size_t k = 0; k < rows; k++)
        if (!isnan(w->col[k] ? w->col[k][node] : tally_rollup__at(&w->held[k], node)))
            return 1;
    for (size_t k = 0; (w->compare || w->coverage) && k < rows; k++)
        if (row_has_data(w, node, k, NAN))
            return 1;
    return 0;
}

static int format_rows(void *ctx, size_t block, tally_write__buf *out)
{
    const result_writer *w = ctx;
    size_t first = w->first + block * w->block_nodes;
    size_t last = w->nodes - first < w->block_nodes ? w->nodes : first + w->block_nodes;
    size_t rows = w->nind * w->nper;
    const double *const *col = w->col;
    const tally_rollup__col *held = w->held;
    const char *mid = w->mid.data;
    const size_t *mid_at = w->mid_at;
    const int *kdec = w->kdec;
    const int json = w->json, compare = w->compare, coverage = w->coverage, all = w->all;
    const char end = json ? '}' : '\n';
    tally_write__buf head = { NULL, 0, 0 };
    int rc = 0;
    /* The wanted nodes' values and text are far apart in memory and rarely
     * cached: they are asked for AHEAD nodes ahead, so they arrive while
     * earlier rows are made (without this, a fifth of the time went to
     * waiting for them). */
    enum { AHEAD = 4 };
    size_t q[AHEAD];
    int lv[AHEAD];
    size_t from = first;
    for (size_t j = 0; j < AHEAD; j++) {
        q[j] = next_wanted(w, from, last, &lv[j]);
        from = q[j] < last ? (prefetch_node(w, q[j]), q[j] + 1) : last;
    }
    for (size_t t = 0; q[t % AHEAD] < last && !rc; t++) {
        size_t node = q[t % AHEAD];
        int level = lv[t % AHEAD];
        q[t % AHEAD] = next_wanted(w, from, last, &lv[t % AHEAD]);
        if (q[t % AHEAD] < last) {
            prefetch_node(w, q[t % AHEAD]);
            from = q[t % AHEAD] + 1;
        } else {
            from = last;
        }
        if (!node_has_data(w, node))
            continue;
        rc = node_head(w, node, level, &head);
        /* Room for every row of the node at its longest. */
        size_t row_max = head.len + w->mid_max + (w->compare ? 4 : 1) * (NUMBER_MAX + 24) +
                         (coverage ? 128 : 0) + 16;
        if (!rc && row_max > SIZE_MAX / 2 / (rows ? rows : 1))
            rc = TALLY_ENOMEM;
        if (!rc)
            rc = tally_write__reserve(out, rows * row_max);
        if (rc)
            break;
        char *o = out->data + out->len;
        const char *hd = head.data;
        size_t hl = head.len;
        if (!compare && !coverage) {
            /* The common row, with what it reads held in locals: stores
             * through `o` may alias anything, so fields of *w would be
             * read again for every row. */
            for (size_t k = 0; k < rows; k++) {
                double v = col[k] ? col[k][node] : tally_rollup__at(&held[k], node);
                if (!all && isnan(v))
                    continue;
                o = tally_write__copy_words(o, hd, hl);
                o = tally_write__copy_words(o, mid + mid_at[k], mid_at[k + 1] - mid_at[k]);
                o = put_value(o, v, kdec[k], json);
                *o++ = end;
            }
            out->len = (size_t)(o - out->data);
            continue;
        }
        for (size_t k = 0; k < rows; k++) {
            size_t i = k / w->nper, p = k % w->nper;
            double v = col[k] ? col[k][node] : tally_rollup__at(&held[k], node);
            if (!all && !row_has_data(w, node, k, v))
                continue;
            o = tally_write__copy_words(o, hd, hl);
            o = tally_write__copy_words(o, mid + mid_at[k], mid_at[k + 1] - mid_at[k]);
            int dec = kdec[k];
            o = put_value(o, v, dec, json);
            if (compare)
                o = put_changes(w, o, node, i, p, v, dec);
            if (coverage)
                o = put_coverage(w, o, node, i, p);
            *o++ = end;
        }
        out->len = (size_t)(o - out->data);
    }
    free(head.data);
    return rc;
}

/* previous,change,change_pct of a row. */
static char *put_changes(const result_writer *w, char *o, size_t node, size_t i, size_t p,
                         double v, int dec)
{
    const int json = w->json;
    double prev = NAN, change, change_pct = NAN;
    int present;
    tally_result_previous(w->r, node, w->ind_of[i], p, &prev, &present);
    change = v - prev;
    if (!w->pct[i] && !isnan(change) && prev != 0)
        change_pct = change / fabs(prev) * 100.0;
    if (json)
        o = (memcpy(o, ",\"previous\":", 12), o + 12);
    else
        *o++ = ',';
    o = put_value(o, prev, dec, json);
    if (json)
        o = (memcpy(o, ",\"change\":", 10), o + 10);
    else
        *o++ = ',';
    o = put_value(o, change, dec, json);
    if (json)
        o = (memcpy(o, ",\"change_pct\":", 14), o + 14);
    else
        *o++ = ',';
    o = put_value(o, change_pct, 2, json);
    return o;
}

/* regions,regions_complete,as_of of a row: the counts empty (null) for an
 * indicator that is not a formula, as_of (YYYY-MM) empty but for a stock
 * or cumulative value. */
static char *put_coverage(const result_writer *w, char *o, size_t node, size_t i, size_t p)
{
    size_t regions = 0, complete = 0;
    int f = w->formula[i], year = 0, month = 0;
    if (f)
        tally_result_coverage(w->r, node, w->ind_of[i], p, &regions, &complete);
    else
        tally_result_as_of(w->r, node, w->ind_of[i], p, &year, &month);
    if (w->json) {
        o += sprintf(o, f ? ",\"regions\":%zu,\"regions_complete\":%zu"
                          : ",\"regions\":null,\"regions_complete\":null",
                     regions, complete);
        if (year)
            return o + sprintf(o, ",\"as_of\":\"%04d-%02d\"", year, month);
        return (memcpy(o, ",\"as_of\":null", 13), o + 13);
    }
    if (f)
        o += sprintf(o, ",%zu,%zu", regions, complete);
    else
        o = (memcpy(o, ",,", 2), o + 2);
    if (year)
        return o + sprintf(o, ",%04d-%02d", year, month);
    *o++ = ',';
    return o;
}

static void result_writer_free(result_writer *w)
{
    free(w->ind_of);
    free(w->col);
    free(w->held);
    free(w->kdec);
    free(w->pct);
    free(w->formula);
    free(w->mid.data);
    free(w->lvl.data);
    free(w->mid_at);
    free(w->lvl_at);
    free((void *)w->want);
}

/* The category columns of indicator di (none when the definitions have no
 * categories): its option ids, empty (JSON null) where it is a total. */
static int category_text(result_writer *w, const tally_definitions *d, size_t di)
{
    for (size_t c = 0; c < tally_definitions_category_count(d); c++) {
        int o = tally_definitions_option(d, di, c);
        const char *opt = o >= 0 ? tally_definitions_option_id(d, c, (size_t)o) : NULL;
        int rc;
        if (w->json)
            rc = tally_write__bytes(&w->mid, ",", 1) ||
                 tally_write__json_text(&w->mid, tally_definitions_category_id(d, c)) ||
                 tally_write__bytes(&w->mid, ":", 1) ||
                 (opt ? tally_write__json_text(&w->mid, opt)
                      : tally_write__bytes(&w->mid, "null", 4));
        else
            rc = tally_write__csv_text(&w->mid, opt ? opt : "", ',', 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* The text made once per indicator and period, and per level. */
static int result_writer_text(result_writer *w)
{
    const tally_definitions *d = tally_result_definitions(w->r);
    for (size_t k = 0; k < w->nind * w->nper; k++) {
        size_t i = k / w->nper, p = k % w->nper, di = w->ind_of[i];
        if (tally_rollup__column(w->r, di, p, &w->held[k]))
            return TALLY_EINVAL;
        w->col[k] = w->held[k].S->all ? w->held[k].values : NULL;
        w->kdec[k] = tally_definitions_decimals(d, di);
        if (p == 0) {
            w->pct[i] = strcmp(tally_definitions_unit(d, di), "%") == 0;
            w->formula[i] = tally_definitions_aggregate(d, di) == TALLY_AGGREGATE_FORMULA;
        }
        /* A slot of a category is written as its indicator, with its
         * options in the category columns (empty, null: a total). */
        const char *id = tally_definitions_id(d, tally_definitions_base(d, di)),
                   *per = tally_result_period(w->r, p);
        const char *name = tally_definitions_name(d, di), *unit = tally_definitions_unit(d, di);
        w->mid_at[k] = w->mid.len;
        int rc;
        if (w->json)
            rc = tally_write__bytes(&w->mid, ",\"indicator\":", 13) ||
                 tally_write__json_text(&w->mid, id) || category_text(w, d, di) ||
                 (w->names && (tally_write__bytes(&w->mid, ",\"indicator_name\":", 18) ||
                               tally_write__json_text(&w->mid, name ? name : "") ||
                               tally_write__bytes(&w->mid, ",\"unit\":", 8) ||
                               tally_write__json_text(&w->mid, unit ? unit : ""))) ||
                 tally_write__bytes(&w->mid, ",\"period\":", 10) ||
                 tally_write__json_text(&w->mid, per) ||
                 tally_write__bytes(&w->mid, ",\"value\":", 9);
        else /* periods are written as they are (YYYY-MM and the like) */
            rc = tally_write__csv_text(&w->mid, id, ',', 0) || category_text(w, d, di) ||
                 (w->names && (tally_write__csv_text(&w->mid, name ? name : "", ',', 0) ||
                               tally_write__csv_text(&w->mid, unit ? unit : "", ',', 0))) ||
                 tally_write__csv_text(&w->mid, per, ',', 1);
        if (rc)
            return TALLY_ENOMEM;
        if (w->mid.len - w->mid_at[k] > w->mid_max)
            w->mid_max = w->mid.len - w->mid_at[k];
    }
    w->mid_at[w->nind * w->nper] = w->mid.len;
    for (size_t l = 0; l < w->nlevels; l++) {
        const char *lname = tally_hierarchy_level_name(w->h, (int)l);
        w->lvl_at[l] = w->lvl.len;
        if (w->json ? tally_write__bytes(&w->lvl, ",\"level\":", 9) ||
                          tally_write__json_text(&w->lvl, lname ? lname : "")
                    : tally_write__csv_text(&w->lvl, lname ? lname : "", ',', 0))
            return TALLY_ENOMEM;
    }
    w->lvl_at[w->nlevels] = w->lvl.len;
    /* Never empty, so that the fast copies read inside the buffers. */
    if (tally_write__reserve(&w->mid, 1) || tally_write__reserve(&w->lvl, 1))
        return TALLY_ENOMEM;
    return 0;
}

/* The long table: a row per region, indicator and period. */
static int write_long(const tally_result *r, const char *path, const tally_write__scope *scope,
                      size_t threads, size_t block_nodes)
{
    const tally_write_options *opts = &scope->opts;
    result_writer w;
    memset(&w, 0, sizeof w);
    w.r = r;
    w.h = tally_result_hierarchy(r);
    w.first = scope->first;
    w.nodes = scope->last;
    size_t ndef = tally_definitions_indicator_count(tally_result_definitions(r));
    w.ind_of = malloc((ndef ? ndef : 1) * sizeof *w.ind_of);
    for (size_t i = 0; w.ind_of && i < ndef; i++)
        if (tally_write__scope_indicator(scope, i))
            w.ind_of[w.nind++] = i;
    w.nper = tally_result_period_count(r);
    w.nlevels = tally_hierarchy_level_count(w.h);
    w.json = opts->format == TALLY_FORMAT_JSON;
    w.names = opts->names != 0;
    w.compare = tally_result_compare(r) != TALLY_COMPARE_NONE;
    w.all = opts->all_regions != 0;
    size_t rows = w.nind * w.nper;
    w.want = malloc(w.nlevels + 1);
    if (w.want)
        memcpy((void *)w.want, scope->level, w.nlevels + 1);
    w.levels = tally_hierarchy__levels(w.h);
    w.col = malloc((rows ? rows : 1) * sizeof *w.col);
    w.held = malloc((rows ? rows : 1) * sizeof *w.held);
    w.kdec = malloc((rows ? rows : 1) * sizeof *w.kdec);
    w.pct = malloc(w.nind ? w.nind : 1);
    w.formula = malloc(w.nind ? w.nind : 1);
    w.coverage = tally_rollup__show_coverage(r);
    w.mid_at = malloc((rows + 1) * sizeof *w.mid_at);
    w.lvl_at = malloc((w.nlevels + 1) * sizeof *w.lvl_at);
    int rc = !w.ind_of || !w.want || !w.col || !w.held || !w.kdec || !w.pct || !w.formula || !w.mid_at ||
                     !w.lvl_at
                 ? TALLY_ENOMEM
                 : result_writer_text(&w);
    if (rc) {
        result_writer_free(&w);
        return rc == TALLY_ENOMEM ? tally_error__set(rc, "out of memory writing a result")
                                  : tally_error__set(rc, "tally_result_write: a column is missing");
    }

    /* Blocks of about 2 MiB when every node is written (less with a level
     * filter): big enough that handing one over costs nothing, small
     * enough that the blocks in flight stay a few MiB. */
    size_t node_bytes = (rows ? rows : 1) * (w.json ? 160 : 64) * (w.compare ? 2 : 1);
    if (!block_nodes)
        block_nodes = ((size_t)2 << 20) / node_bytes;
    w.block_nodes = block_nodes ? block_nodes : 1;
    size_t span = w.nodes - w.first;
    tally_write__job job = { 0 };
    job.blocks = span / w.block_nodes + (span % w.block_nodes != 0);
    job.threads = threads ? threads : tally_write__default_threads(span * (rows ? rows : 1));
    job.format = format_rows;
    job.ctx = &w;
    /* One column per category after `indicator` (none without categories). */
    const tally_definitions *d = tally_result_definitions(r);
    size_t cats_len = 1;
    for (size_t c = 0; c < tally_definitions_category_count(d); c++)
        cats_len += strlen(tally_definitions_category_id(d, c)) + 1;
    char *cats = malloc(cats_len), *head = malloc(cats_len + 256);
    if (!cats || !head) {
        free(cats);
        free(head);
        result_writer_free(&w);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    }
    cats[0] = '\0';
    for (size_t c = 0, used = 0; c < tally_definitions_category_count(d); c++)
        used += (size_t)snprintf(cats + used, cats_len - used, "%s,",
                                 tally_definitions_category_id(d, c));
    if (w.json) {
        job.head = "[";
        job.tail = "\n]\n";
        job.tail_empty = "]\n";
        job.drop_first = 1; /* the comma before the first row */
    } else {
        snprintf(head, cats_len + 256, "%sregion_code,region_name,level,indicator,%s%speriod,value%s%s\n",
                 opts->bom ? TALLY_WRITE__BOM : "", cats, w.names ? "indicator_name,unit," : "",
                 w.compare ? ",previous,change,change_pct" : "",
                 w.coverage ? ",regions,regions_complete,as_of" : "");
        job.head = head;
        job.tail = job.tail_empty = "";
    }
    rc = tally_write__run(path, &job);
    result_writer_free(&w);
    free(cats);
    free(head);
    return rc;
}

int tally_export__write(const tally_result *r, const char *path, const tally_write_options *opts,
                        size_t threads, size_t block_nodes)
{
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_result_write: NULL result");
    tally_write__scope scope;
    const tally_definitions *d = tally_result_definitions(r);
    int rc = tally_write__scope_make(&scope, tally_result_hierarchy(r), d, opts);
    if (!rc && (scope.opts.layout == TALLY_LAYOUT_WIDE || scope.opts.format == TALLY_FORMAT_XLSX))
        rc = tally_export__wide(r, path, &scope);
    else if (!rc)
        rc = write_long(r, path, &scope, threads, block_nodes);
    tally_write__scope_free(&scope);
    return rc;
}

TALLY_EXTERN(int) tally_result_write(const tally_result *r, const char *path,
                                     const tally_write_options *opts)
{
    return tally_export__write(r, path, opts, 0, 0);
}
