/* Annual targets (read, added, inline) and their decomposition over the
 * hierarchy: the target set, its CSV reader, the effective targets, and the
 * findings where children's targets do not cover their parent's.
 *
 * SPDX-License-Identifier: MIT
 */
#include "targets.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Targets                                                            */
/* ------------------------------------------------------------------ */

enum { FROM_INLINE = 0, FROM_FILE = 1, FROM_API = 2 };

static size_t entry_hash(size_t node, size_t indicator, int year)
{
    return (size_t)(tally_util__hash_u64((uint64_t)node) ^
                    tally_util__hash_u64(((uint64_t)indicator << 20) ^ (uint64_t)(uint32_t)year));
}

static long find_entry(const tally_targets *t, size_t node, size_t indicator, int year)
{
    if (!t->slots_cap)
        return -1;
    size_t mask = t->slots_cap - 1;
    for (size_t s = entry_hash(node, indicator, year) & mask;; s = (s + 1) & mask) {
        size_t v = t->slots[s];
        if (!v)
            return -1;
        const tally_targets__entry *e = &t->items[v - 1];
        if (e->node == node && e->indicator == indicator && e->year == year)
            return (long)(v - 1);
    }
}

static int rehash(tally_targets *t, size_t cap)
{
    size_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return TALLY_ENOMEM;
    for (size_t i = 0; i < t->count; i++) {
        const tally_targets__entry *e = &t->items[i];
        size_t s = entry_hash(e->node, e->indicator, e->year) & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->slots_cap = cap;
    return 0;
}

/* Stores a target: 0, TALLY_EEXIST (no error recorded: callers say where)
 * or TALLY_ENOMEM. */
static int store(tally_targets *t, size_t node, size_t indicator, int year, double value,
                 int origin)
{
    if (find_entry(t, node, indicator, year) >= 0)
        return TALLY_EEXIST;
    if ((t->count + 1) * 2 > t->slots_cap && rehash(t, t->slots_cap ? t->slots_cap * 2 : 64))
        return TALLY_ENOMEM;
    if (tally_util__grow((void **)&t->items, &t->cap, t->count + 1, sizeof *t->items))
        return TALLY_ENOMEM;
    tally_targets__entry e = { node, indicator, year, origin, value };
    t->items[t->count] = e;
    size_t mask = t->slots_cap - 1;
    size_t s = entry_hash(node, indicator, year) & mask;
    while (t->slots[s])
        s = (s + 1) & mask;
    t->slots[s] = ++t->count;
    return 0;
}

static const char *origin_note(const tally_targets *t, size_t node, size_t ind, int year)
{
    long i = find_entry(t, node, ind, year);
    return i >= 0 && t->items[i].origin == FROM_INLINE ? " (the first is inline in the definitions)"
                                                        : "";
}

TALLY_EXTERN(int) tally_targets_new(tally_targets **out, const tally_hierarchy *h,
                                    const tally_definitions *d)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_targets_new: NULL argument");
    *out = NULL;
    if (!h || !d)
        return tally_error__set(TALLY_EINVAL, "a target set needs a hierarchy and definitions");
    tally_targets *t = calloc(1, sizeof *t);
    if (!t)
        return tally_error__set(TALLY_ENOMEM, "out of memory creating a target set");
    t->h = h;
    t->d = d;
    t->nodes = tally_hierarchy_size(h);
    t->nind = tally_definitions_indicator_count(d);
    t->nchildren = calloc(t->nodes ? t->nodes : 1, sizeof *t->nchildren);
    if (!t->nchildren) {
        free(t);
        return tally_error__set(TALLY_ENOMEM, "out of memory creating a target set");
    }
    const uint32_t *parent = tally_hierarchy__parents(h);
    for (size_t i = 0; i < t->nodes; i++)
        if (parent[i] != TALLY_HIERARCHY__ROOT)
            t->nchildren[parent[i]]++;

    const tally_target_def *defs;
    size_t n = tally_definitions__targets(d, &defs);
    for (size_t i = 0; i < n; i++) {
        const tally_target_def *td = &defs[i];
        size_t node;
        int rc;
        if (tally_hierarchy_find(h, td->region, strlen(td->region), &node)) {
            rc = tally_error__set_at(TALLY_ENOTFOUND, NULL, td->line, td->column, td->region,
                                     strlen(td->region),
                                     "inline target at line %lu, column %lu of the definitions: "
                                     "unknown region code '%s'; expected a code of the hierarchy",
                                     td->line, td->column, td->region);
        } else if (td->indicator >= t->nind || td->year < 1000 || td->year > 9999 ||
                   isinf(td->target)) {
            rc = tally_error__set_at(TALLY_EINVAL, NULL, td->line, td->column, NULL, 0,
                                     "inline target at line %lu, column %lu of the definitions "
                                     "is not usable (indicator, year or value)",
                                     td->line, td->column);
        } else {
            rc = store(t, node, td->indicator, td->year, td->target, FROM_INLINE);
            if (rc == TALLY_EEXIST)
                rc = tally_error__set_at(
                    TALLY_EEXIST, NULL, td->line, td->column, td->region, strlen(td->region),
                    "inline target at line %lu, column %lu of the definitions: duplicate target "
                    "for region %s, indicator %s, year %d; each is given once",
                    td->line, td->column, td->region, tally_definitions_id(d, td->indicator),
                    td->year);
            else if (rc)
                rc = tally_error__set(rc, "out of memory storing a target");
        }
        if (rc) {
            tally_targets_free(t);
            return rc;
        }
    }
    *out = t;
    return 0;
}

TALLY_EXTERN(void) tally_targets_free(tally_targets *t)
{
    if (!t)
        return;
    free(t->items);
    free(t->slots);
    free(t->nchildren);
    free(t);
}

TALLY_EXTERN(size_t) tally_targets_count(const tally_targets *t) { return t ? t->count : 0; }

TALLY_EXTERN(int) tally_targets_add(tally_targets *t, const char *region_code,
                                    const char *indicator, int year, double target)
{
    if (!t || !region_code || !indicator)
        return tally_error__set(TALLY_EINVAL, "tally_targets_add: NULL argument");
    size_t node, ind;
    int rc = tally_hierarchy_find(t->h, region_code, strlen(region_code), &node);
    if (rc)
        return rc;
    rc = tally_definitions_find(t->d, indicator, strlen(indicator), &ind);
    if (rc)
        return rc;
    if (year < 1000 || year > 9999)
        return tally_error__set(TALLY_EINVAL, "bad year %d; expected 1000 to 9999", year);
    if (isinf(target))
        return tally_error__set(TALLY_ERANGE,
                                "target for %s %s %d is infinite; expected a finite number",
                                region_code, indicator, year);
    const char *note = origin_note(t, node, ind, year);
    rc = store(t, node, ind, year, target, FROM_API);
    if (rc == TALLY_EEXIST)
        return tally_error__set(TALLY_EEXIST,
                                "duplicate target for region %s, indicator %s, year %d%s; each "
                                "is given once",
                                region_code, indicator, year, note);
    if (rc)
        return tally_error__set(rc, "out of memory adding a target");
    return 0;
}

TALLY_EXTERN(int) tally_targets_given(const tally_targets *t, size_t node, size_t indicator,
                                      int year, double *value, int *present)
{
    if (value)
        *value = NAN;
    if (present)
        *present = 0;
    if (!t || !value || !present || node >= t->nodes || indicator >= t->nind)
        return tally_error__set(TALLY_EINVAL, "tally_targets_given: bad argument");
    long i = find_entry(t, node, indicator, year);
    if (i >= 0 && !isnan(t->items[i].value)) {
        *value = t->items[i].value;
        *present = 1;
    }
    return 0;
}

TALLY_EXTERN(int) tally_targets_has(const tally_targets *t, size_t indicator, int year)
{
    for (size_t i = 0; t && i < t->count; i++)
        if (t->items[i].indicator == indicator && t->items[i].year == year &&
            !isnan(t->items[i].value))
            return 1;
    return 0;
}

static int sums_children(const tally_definitions *d, size_t ind)
{
    int agg = tally_definitions_aggregate(d, ind);
    return agg == TALLY_AGGREGATE_SUM || agg == TALLY_AGGREGATE_COUNT;
}

int tally_targets__effective(const tally_targets *t, size_t ind, int year, double *eff,
                             double *csum, size_t *cwith)
{
    size_t n = t->nodes;
    const uint32_t *parent = tally_hierarchy__parents(t->h);
    double *comp = malloc((n ? n : 1) * sizeof *comp);
    double *sum = csum ? csum : malloc((n ? n : 1) * sizeof *sum);
    size_t *cnt = cwith ? cwith : malloc((n ? n : 1) * sizeof *cnt);
    if (!comp || !sum || !cnt) {
        free(comp);
        if (!csum)
            free(sum);
        if (!cwith)
            free(cnt);
        return tally_error__set(TALLY_ENOMEM, "out of memory computing targets");
    }
    for (size_t i = 0; i < n; i++) {
        eff[i] = NAN;
        sum[i] = comp[i] = 0;
        cnt[i] = 0;
    }
    for (size_t i = 0; i < t->count; i++) {
        const tally_targets__entry *e = &t->items[i];
        if (e->indicator == ind && e->year == year)
            eff[e->node] = e->value;
    }
    int from_children = sums_children(t->d, ind);
    int found = 0;
    for (size_t i = n; i-- > 0;) {
        sum[i] += comp[i];
        comp[i] = 0;
        if (isnan(eff[i]) && from_children && cnt[i] && cnt[i] == t->nchildren[i])
            eff[i] = sum[i];
        if (isnan(eff[i]))
            continue;
        found++;
        if (parent[i] != TALLY_HIERARCHY__ROOT) {
            tally_util__neumaier(&sum[parent[i]], &comp[parent[i]], eff[i]);
            cnt[parent[i]]++;
        }
    }
    free(comp);
    if (!csum)
        free(sum);
    if (!cwith)
        free(cnt);
    return found;
}

TALLY_EXTERN(int) tally_targets_effective(const tally_targets *t, size_t indicator, int year,
                                          double *out, size_t n)
{
    if (!t || !out || indicator >= t->nind || n < t->nodes)
        return tally_error__set(TALLY_EINVAL, "tally_targets_effective: bad argument");
    return tally_targets__effective(t, indicator, year, out, NULL, NULL);
}

/* ---- reading ---- */

typedef struct tlayout {
    long region, indicator, year, target;
    size_t nfields;
} tlayout;

static int read_header(tally_csv *c, tlayout *lay)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row region_code,indicator,year,target");
    lay->nfields = c->nfields;
    lay->region = tally_csv__find_column(c, "region_code");
    lay->indicator = tally_csv__find_column(c, "indicator");
    lay->year = tally_csv__find_column(c, "year");
    lay->target = tally_csv__find_column(c, "target");
    const char *missing = lay->region < 0      ? "region_code"
                          : lay->indicator < 0 ? "indicator"
                          : lay->year < 0      ? "year"
                          : lay->target < 0    ? "target"
                                               : NULL;
    if (missing)
        return tally_csv__error_at_field(c, 0, TALLY_EPARSE,
                                         "header has no '%s' column; expected "
                                         "region_code,indicator,year,target",
                                         missing);
    return 0;
}

/* A year: exactly four digits, 1000..9999. */
static int parse_year(const char *s, size_t len, int *year)
{
    if (len != 4)
        return TALLY_EPARSE;
    int y = 0;
    for (size_t i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TALLY_EPARSE;
        y = y * 10 + (s[i] - '0');
    }
    if (y < 1000)
        return TALLY_EPARSE;
    *year = y;
    return 0;
}

static int read_row(tally_targets *t, const tally_csv *c, const tlayout *lay)
{
    if (c->nfields != lay->nfields)
        return tally_csv__error_at_field(c, c->nfields < lay->nfields ? c->nfields : lay->nfields,
                                         TALLY_EPARSE,
                                         "row has %zu fields; expected %zu as in the header",
                                         c->nfields, lay->nfields);
    const tally_csv_field *rf = &c->fields[lay->region];
    size_t node;
    if (tally_hierarchy_find(t->h, rf->ptr, rf->len, &node))
        return tally_csv__error_at_field(c, (size_t)lay->region, TALLY_ENOTFOUND,
                                         "unknown region code '%.*s'; expected a code of the hierarchy",
                                         (int)rf->len, rf->ptr);
    const tally_csv_field *inf = &c->fields[lay->indicator];
    size_t ind;
    if (tally_definitions_find(t->d, inf->ptr, inf->len, &ind))
        return tally_csv__error_at_field(c, (size_t)lay->indicator, TALLY_ENOTFOUND,
                                         "unknown indicator '%.*s'; expected an id from the definitions",
                                         (int)inf->len, inf->ptr);
    const tally_csv_field *yf = &c->fields[lay->year];
    int year;
    if (parse_year(yf->ptr, yf->len, &year))
        return tally_csv__error_at_field(c, (size_t)lay->year, TALLY_EPARSE,
                                         "bad year '%.*s'; expected YYYY like 2019",
                                         (int)yf->len, yf->ptr);
    const tally_csv_field *tf = &c->fields[lay->target];
    double v = NAN;
    if (tf->len) {
        int rc = tally_util__parse_number(tf->ptr, tf->len, &v);
        if (rc == TALLY_UTIL__INEXACT)
            return tally_csv__error_at_field(c, (size_t)lay->target, TALLY_ERANGE,
                                             "number '%.*s' " TALLY_UTIL__INEXACT_TEXT,
                                             (int)tf->len, tf->ptr);
        if (rc == TALLY_ERANGE)
            return tally_csv__error_at_field(c, (size_t)lay->target, TALLY_ERANGE,
                                             "number '%.*s' is out of range; expected a finite number",
                                             (int)tf->len, tf->ptr);
        if (rc)
            return tally_csv__error_at_field(
                c, (size_t)lay->target, TALLY_EPARSE,
                "bad number '%.*s'; expected a decimal number like 12, -3.5 or 1e6, or an empty cell",
                (int)tf->len, tf->ptr);
    }
    const char *note = origin_note(t, node, ind, year);
    int rc = store(t, node, ind, year, v, FROM_FILE);
    if (rc == TALLY_EEXIST)
        return tally_csv__error_at_field(
            c, (size_t)lay->region, TALLY_EEXIST,
            "duplicate target for region %s, indicator %s, year %d%s; each is given once",
            tally_hierarchy_code(t->h, node), tally_definitions_id(t->d, ind), year, note);
    if (rc)
        return tally_error__set(rc, "out of memory storing a target");
    return 0;
}

typedef struct read_ctx {
    tally_targets *t;
    tlayout lay;
} read_ctx;

static int on_header(void *ctx, tally_csv *c)
{
    return read_header(c, &((read_ctx *)ctx)->lay);
}

static int on_row(void *ctx, const tally_csv *c)
{
    read_ctx *rc = ctx;
    return read_row(rc->t, c, &rc->lay);
}

TALLY_EXTERN(int) tally_targets_read_buffer(tally_targets *t, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!t)
        return tally_error__set(TALLY_EINVAL, "tally_targets_read_buffer: NULL targets");
    read_ctx ctx = { t, { -1, -1, -1, -1, 0 } };
    return tally_csv__read_rows(data, size, name, opts, rejects, stats, on_header, on_row, &ctx);
}

TALLY_EXTERN(int) tally_targets_read_file(tally_targets *t, const char *path,
                                          const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!t || !path)
        return tally_error__set(TALLY_EINVAL, "tally_targets_read_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file_capped(
        &m, path, opts && opts->version >= 4 ? opts->max_input_bytes : 0);
    if (rc)
        return rc;
    rc = tally_targets_read_buffer(t, m.data, m.size, path, opts, rejects, stats);
    tally_util__unmap(&m);
    return rc;
}

/* ---- decomposition findings ---- */

typedef struct finding {
    size_t node, indicator;
    int year;
    double target, children_sum;
    size_t with, children;
} finding;

struct tally_target_findings {
    finding *items;
    size_t count, cap;
};

typedef struct ind_year {
    size_t indicator;
    int year;
} ind_year;

static int by_ind_year(const void *a, const void *b)
{
    const ind_year *x = a, *y = b;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return (x->year > y->year) - (x->year < y->year);
}

static int by_node_ind_year(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return (x->year > y->year) - (x->year < y->year);
}

/* The (indicator, year) pairs that have a target, sorted and unique. */
static ind_year *target_pairs(const tally_targets *t, size_t *count)
{
    ind_year *p = malloc((t->count ? t->count : 1) * sizeof *p);
    if (!p)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        if (!isnan(t->items[i].value)) {
            ind_year v = { t->items[i].indicator, t->items[i].year };
            p[n++] = v;
        }
    qsort(p, n, sizeof *p, by_ind_year);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || by_ind_year(&p[u - 1], &p[i]))
            p[u++] = p[i];
    *count = u;
    return p;
}

TALLY_EXTERN(int) tally_targets_decomposition(tally_target_findings **out,
                                              const tally_targets *t)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_targets_decomposition: NULL argument");
    *out = NULL;
    if (!t)
        return tally_error__set(TALLY_EINVAL, "tally_targets_decomposition: NULL target set");
    tally_target_findings *f = calloc(1, sizeof *f);
    size_t n = t->nodes, npairs = 0;
    ind_year *pairs = target_pairs(t, &npairs);
    double *eff = malloc((n ? n : 1) * sizeof *eff);
    double *csum = malloc((n ? n : 1) * sizeof *csum);
    size_t *cwith = malloc((n ? n : 1) * sizeof *cwith);
    const size_t *nchildren = t->nchildren;
    int rc = 0;
    if (!f || !pairs || !eff || !csum || !cwith)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking target decomposition");
    for (size_t k = 0; !rc && k < npairs; k++) {
        size_t ind = pairs[k].indicator;
        int year = pairs[k].year;
        if (!sums_children(t->d, ind))
            continue;
        int r = tally_targets__effective(t, ind, year, eff, csum, cwith);
        if (r < 0) {
            rc = r;
            break;
        }
        int ceiling = tally_definitions_direction(t->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;
        for (size_t i = 0; i < n; i++) {
            double given;
            int present;
            tally_targets_given(t, i, ind, year, &given, &present);
            if (!present || !cwith[i])
                continue;
            /* A relative allowance of a few units in the last place, so the
             * rounding of a sum of decimal targets (0.1 + 0.2) does not make
             * a finding. */
            double slack = 1e-12 * fmax(fabs(given), fabs(csum[i]));
            int uncovered = ceiling ? csum[i] > given + slack : csum[i] < given - slack;
            if (!uncovered)
                continue;
            if (tally_util__grow((void **)&f->items, &f->cap, f->count + 1, sizeof *f->items)) {
                rc = tally_error__set(TALLY_ENOMEM, "out of memory checking target decomposition");
                break;
            }
            finding fi = { i, ind, year, given, csum[i], cwith[i], nchildren[i] };
            f->items[f->count++] = fi;
        }
    }
    free(pairs);
    free(eff);
    free(csum);
    free(cwith);
    if (rc) {
        tally_target_findings_free(f);
        return rc;
    }
    if (f->count)
        qsort(f->items, f->count, sizeof *f->items, by_node_ind_year);
    *out = f;
    return 0;
}

TALLY_EXTERN(void) tally_target_findings_free(tally_target_findings *f)
{
    if (!f)
        return;
    free(f->items);
    free(f);
}

TALLY_EXTERN(size_t) tally_target_findings_count(const tally_target_findings *f)
{
    return f ? f->count : 0;
}

#define FINDING(f, i) ((f) && (i) < (f)->count)

TALLY_EXTERN(size_t) tally_target_findings_node(const tally_target_findings *f, size_t i)
{
    return FINDING(f, i) ? f->items[i].node : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_target_findings_indicator(const tally_target_findings *f, size_t i)
{
    return FINDING(f, i) ? f->items[i].indicator : TALLY_NONE;
}

TALLY_EXTERN(int) tally_target_findings_year(const tally_target_findings *f, size_t i)
{
    return FINDING(f, i) ? f->items[i].year : 0;
}

TALLY_EXTERN(double) tally_target_findings_target(const tally_target_findings *f, size_t i)
{
    return FINDING(f, i) ? f->items[i].target : NAN;
}

TALLY_EXTERN(double) tally_target_findings_children_sum(const tally_target_findings *f,
                                                        size_t i)
{
    return FINDING(f, i) ? f->items[i].children_sum : NAN;
}

TALLY_EXTERN(size_t) tally_target_findings_children_with_target(const tally_target_findings *f,
                                                                size_t i)
{
    return FINDING(f, i) ? f->items[i].with : 0;
}

TALLY_EXTERN(size_t) tally_target_findings_children(const tally_target_findings *f, size_t i)
{
    return FINDING(f, i) ? f->items[i].children : 0;
}
