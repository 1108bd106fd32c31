/* Annual targets (read, added, inline), their decomposition over the
 * hierarchy, schedules, and completion as of a month: the computation and
 * its CSV / JSON / SVG writers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/targets.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "rollup.h"
#include "util.h"
#include "write.h"


/* ------------------------------------------------------------------ */
/* Targets                                                            */
/* ------------------------------------------------------------------ */

enum { FROM_INLINE = 0, FROM_FILE = 1, FROM_API = 2 };

typedef struct target_entry {
    size_t node, indicator;
    int year;
    int origin; /* FROM_* */
    double value; /* NaN: "no target given" */
} target_entry;

struct tally_targets {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind;
    size_t *nchildren; /* per node */
    target_entry *items;
    size_t count, cap;
    /* Open addressing (node, indicator, year) -> item index + 1 (0 = empty). */
    size_t *slots;
    size_t slots_cap; /* power of two */
};

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
        const target_entry *e = &t->items[v - 1];
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
        const target_entry *e = &t->items[i];
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
    target_entry e = { node, indicator, year, origin, value };
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

/* Effective targets of (ind, year) into eff[n]; with `csum` and `cwith`
 * (may be NULL) also each node's children's sum and how many children have
 * one. One reverse pass over pre-order: children come after their parent,
 * so every child is final before its parent is visited.
 *
 * A parent without a target of its own takes the sum of its children's only
 * when every child has one: the sum of some children's targets would be
 * compared with the actual of all of them, understating the target (or a
 * ceiling) and overstating completion. */
static int effective(const tally_targets *t, size_t ind, int year, double *eff, double *csum,
                     size_t *cwith)
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
        const target_entry *e = &t->items[i];
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
    return effective(t, indicator, year, out, NULL, NULL);
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
    int rc = tally_util__map_file(&m, path);
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
        int r = effective(t, ind, year, eff, csum, cwith);
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

/* ------------------------------------------------------------------ */
/* Schedules                                                          */
/* ------------------------------------------------------------------ */

typedef struct share_at {
    int seen;
    double share;
    unsigned long line, column;
    char text[32];
    size_t text_len;
} share_at;

/* Error at a remembered field (the row it was in is gone). */
static int error_at_share(int code, const char *name, const share_at *s, const char *fmt, ...)
    TALLY_PRINTF(4, 5);

static int error_at_share(int code, const char *name, const share_at *s, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return tally_error__set_at(code, name, s->line, s->column, s->text, s->text_len, "%s", reason);
}

static int parse_month(const char *s, size_t len, int *month)
{
    if (len < 1 || len > 2)
        return TALLY_EPARSE;
    int m = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TALLY_EPARSE;
        m = m * 10 + (s[i] - '0');
    }
    if (m < 1 || m > 12)
        return TALLY_EPARSE;
    *month = m;
    return 0;
}

static int read_schedule(tally_csv *c, share_at at[12], unsigned long *end_line)
{
    int rc = tally_csv__next(c);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return tally_error__set_at(TALLY_EPARSE, c->name, 1, 1, NULL, 0,
                                   "empty file; expected a header row month,share");
    size_t nf = c->nfields;
    long mcol = tally_csv__find_column(c, "month"), scol = tally_csv__find_column(c, "share");
    if (mcol < 0 || scol < 0)
        return tally_csv__error_at_field(c, 0, TALLY_EPARSE,
                                         "header has no '%s' column; expected month,share",
                                         mcol < 0 ? "month" : "share");
    while ((rc = tally_csv__next(c)) > 0) {
        if (c->nfields != nf)
            return tally_csv__error_at_field(c, c->nfields < nf ? c->nfields : nf, TALLY_EPARSE,
                                             "row has %zu fields; expected %zu as in the header",
                                             c->nfields, nf);
        const tally_csv_field *mf = &c->fields[mcol], *sf = &c->fields[scol];
        int month;
        if (parse_month(mf->ptr, mf->len, &month))
            return tally_csv__error_at_field(c, (size_t)mcol, TALLY_EPARSE,
                                             "bad month '%.*s'; expected 1 to 12",
                                             (int)mf->len, mf->ptr);
        if (at[month - 1].seen)
            return tally_csv__error_at_field(c, (size_t)mcol, TALLY_EEXIST,
                                             "month %d given twice; expected each month once",
                                             month);
        double v;
        int r = sf->len ? tally_util__parse_number(sf->ptr, sf->len, &v) : TALLY_EPARSE;
        if (r)
            return tally_csv__error_at_field(
                c, (size_t)scol, r == TALLY_ERANGE ? TALLY_ERANGE : TALLY_EPARSE,
                "bad share '%.*s'; expected the cumulative share of the annual target in percent, "
                "0 to 100",
                (int)sf->len, sf->ptr);
        if (v < 0 || v > 100)
            return tally_csv__error_at_field(c, (size_t)scol, TALLY_ERANGE,
                                             "share %.*s is outside 0 to 100; expected a percentage",
                                             (int)sf->len, sf->ptr);
        share_at *s = &at[month - 1];
        s->seen = 1;
        s->share = v;
        tally_csv__locate(c, sf->offset, &s->line, &s->column);
        s->text_len = sf->len < sizeof s->text ? sf->len : sizeof s->text - 1;
        memcpy(s->text, sf->ptr, s->text_len);
        s->text[s->text_len] = '\0';
        *end_line = c->next_line;
    }
    return rc;
}

TALLY_EXTERN(int) tally_schedule_from_buffer(double shares[12], const char *data, size_t size,
                                             const char *name)
{
    if (!shares || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_schedule_from_buffer: NULL argument");
    tally_csv c;
    tally_csv__init(&c, data ? data : "", size, name);
    share_at at[12];
    memset(at, 0, sizeof at);
    unsigned long end_line = 2;
    int rc = read_schedule(&c, at, &end_line);
    const char *path = c.name;
    tally_csv__fini(&c);
    if (rc)
        return rc;
    for (int m = 1; m <= 12; m++)
        if (!at[m - 1].seen)
            return tally_error__set_at(TALLY_EINVAL, path, end_line, 1, NULL, 0,
                                       "no row for month %d; expected 12 rows, months 1 to 12 "
                                       "once each",
                                       m);
    for (int m = 2; m <= 12; m++)
        if (at[m - 1].share < at[m - 2].share)
            return error_at_share(TALLY_EINVAL, path, &at[m - 1],
                                  "share %s for month %d is below month %d's %s; shares are "
                                  "cumulative and never decrease",
                                  at[m - 1].text, m, m - 1, at[m - 2].text);
    if (at[11].share != 100)
        return error_at_share(TALLY_EINVAL, path, &at[11],
                              "share %s for month 12; expected 100 (the whole target by the end "
                              "of the year)",
                              at[11].text);
    for (int m = 0; m < 12; m++)
        shares[m] = at[m].share;
    return 0;
}

TALLY_EXTERN(int) tally_schedule_from_file(double shares[12], const char *path)
{
    if (!shares || !path)
        return tally_error__set(TALLY_EINVAL, "tally_schedule_from_file: NULL argument");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = tally_schedule_from_buffer(shares, m.data, m.size, path);
    tally_util__unmap(&m);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Completion                                                         */
/* ------------------------------------------------------------------ */

struct tally_progress_result {
    const tally_hierarchy *h;
    const tally_definitions *d;
    int year, month;
    size_t nodes, nk;
    size_t *inds; /* k -> indicator index */
    double time_progress;
    /* Per row (node * nk + k). */
    double *actual, *target, *completion, *gap, *pace;
    unsigned char *status;
    size_t *rank;
};

TALLY_EXTERN(const char *) tally_target_status_name(int status)
{
    switch (status) {
    case TALLY_TARGET_NO_TARGET: return "no_target";
    case TALLY_TARGET_NO_DATA: return "no_data";
    case TALLY_TARGET_DONE: return "done";
    case TALLY_TARGET_AHEAD: return "ahead";
    case TALLY_TARGET_BEHIND: return "behind";
    case TALLY_TARGET_MET: return "met";
    case TALLY_TARGET_NOT_MET: return "not_met";
    default: return "";
    }
}

TALLY_EXTERN(void) tally_progress_free(tally_progress_result *r)
{
    if (!r)
        return;
    free(r->inds);
    free(r->actual);
    free(r->target);
    free(r->completion);
    free(r->gap);
    free(r->pace);
    free(r->status);
    free(r->rank);
    free(r);
}

static int check_schedule(const double *s)
{
    for (int m = 0; m < 12; m++) {
        if (!(s[m] >= 0 && s[m] <= 100))
            return tally_error__set(TALLY_EINVAL,
                                    "schedule share for month %d is not 0 to 100", m + 1);
        if (m && s[m] < s[m - 1])
            return tally_error__set(TALLY_EINVAL,
                                    "schedule share for month %d is below month %d's; shares "
                                    "are cumulative and never decrease",
                                    m + 1, m);
    }
    if (s[11] != 100)
        return tally_error__set(TALLY_EINVAL, "schedule share for month 12 must be 100");
    return 0;
}

typedef struct rank_item {
    size_t parent, row;
    double completion;
} rank_item;

/* By parent, then completion highest first, then pre-order. */
static int by_parent_completion(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->completion != y->completion)
        return x->completion > y->completion ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Status, completion, gap and pace of one row. */
static void judge(tally_progress_result *r, size_t row, int ceiling, const double *schedule)
{
    double a = r->actual[row], t = r->target[row];
    int m = r->month;
    double left = m == 12 ? 1.0 : (double)(12 - m);
    r->completion[row] = r->gap[row] = r->pace[row] = NAN;
    if (isnan(t)) {
        r->status[row] = TALLY_TARGET_NO_TARGET;
        return;
    }
    if (isnan(a)) {
        r->status[row] = TALLY_TARGET_NO_DATA;
        return;
    }
    if (ceiling) {
        if (a <= t) {
            r->status[row] = TALLY_TARGET_MET;
            r->gap[row] = r->pace[row] = 0;
        } else {
            r->status[row] = TALLY_TARGET_NOT_MET;
            r->gap[row] = a - t;
            r->pace[row] = r->gap[row] / left;
        }
        return;
    }
    /* actual * 100 / target: one rounding where actual * 100 is exact (any
     * count), so the printed percentage is the one a person computes. */
    if (t > 0)
        r->completion[row] = a * 100.0 / t;
    if (a >= t) {
        r->status[row] = TALLY_TARGET_DONE;
        r->gap[row] = r->pace[row] = 0;
        return;
    }
    /* ahead: completion >= time progress, compared without the rounding of
     * either percentage. */
    int ahead = t > 0 && (schedule ? a * 100.0 >= t * schedule[m - 1] : a * 12.0 >= t * m);
    r->status[row] = ahead ? TALLY_TARGET_AHEAD : TALLY_TARGET_BEHIND;
    r->gap[row] = t - a;
    r->pace[row] = r->gap[row] / left;
}

TALLY_EXTERN(int) tally_progress(tally_progress_result **out, const tally_dataset *ds,
                                 const tally_targets *t, const tally_progress_options *opts)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_progress: NULL argument");
    *out = NULL;
    if (!ds || !t || !opts)
        return tally_error__set(TALLY_EINVAL, "tally_progress: NULL argument");
    if (tally_dataset_hierarchy(ds) != t->h || tally_dataset_definitions(ds) != t->d)
        return tally_error__set(TALLY_EINVAL,
                                "the dataset and the targets are over different hierarchies or "
                                "definitions");
    if (opts->month < 1 || opts->month > 12)
        return tally_error__set(TALLY_EINVAL, "as-of month %d; expected 1 to 12", opts->month);
    if (opts->year < 1000 || opts->year > 9999)
        return tally_error__set(TALLY_EINVAL, "year %d; expected 1000 to 9999", opts->year);
    if (opts->schedule && check_schedule(opts->schedule))
        return TALLY_EINVAL;

    size_t n = t->nodes, nind = t->nind;
    tally_progress_result *r = calloc(1, sizeof *r);
    if (!r)
        return tally_error__set(TALLY_ENOMEM, "out of memory computing completion");
    r->h = t->h;
    r->d = t->d;
    r->year = opts->year;
    r->month = opts->month;
    r->nodes = n;
    r->time_progress = opts->schedule ? opts->schedule[opts->month - 1]
                                      : opts->month * 100.0 / 12.0;
    r->inds = malloc((nind ? nind : 1) * sizeof *r->inds);
    if (!r->inds)
        goto nomem;
    for (size_t i = 0; i < nind; i++)
        if (tally_targets_has(t, i, opts->year))
            r->inds[r->nk++] = i;
    size_t rows = n * r->nk, alloc = rows ? rows : 1;
    r->actual = malloc(alloc * sizeof(double));
    r->target = malloc(alloc * sizeof(double));
    r->completion = malloc(alloc * sizeof(double));
    r->gap = malloc(alloc * sizeof(double));
    r->pace = malloc(alloc * sizeof(double));
    r->status = malloc(alloc);
    r->rank = calloc(alloc, sizeof(size_t));
    if (!r->actual || !r->target || !r->completion || !r->gap || !r->pace || !r->status ||
        !r->rank)
        goto nomem;
    if (!r->nk) {
        *out = r;
        return 0;
    }

    /* Year to date: January to the as-of month, as one span. */
    double **ytd = calloc(nind ? nind : 1, sizeof *ytd);
    double *eff = malloc((n ? n : 1) * sizeof *eff);
    rank_item *items = malloc((n ? n : 1) * sizeof *items);
    int rc = 0;
    if (!ytd || !eff || !items)
        rc = TALLY_ENOMEM;
    for (size_t i = 0; !rc && i < nind; i++)
        if (!(ytd[i] = malloc((n ? n : 1) * sizeof(double))))
            rc = TALLY_ENOMEM;
    if (rc)
        tally_error__set(rc, "out of memory computing completion");
    int32_t first = (int32_t)opts->year * 12;
    if (!rc)
        rc = tally_rollup__span(ds, first, first + opts->month - 1, opts->prefer, ytd, NULL, NULL);
    const uint32_t *parent = tally_hierarchy__parents(t->h);
    for (size_t k = 0; !rc && k < r->nk; k++) {
        size_t ind = r->inds[k];
        int e = effective(t, ind, opts->year, eff, NULL, NULL);
        if (e < 0) {
            rc = e;
            break;
        }
        int ceiling = tally_definitions_direction(t->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;
        size_t nitems = 0;
        for (size_t node = 0; node < n; node++) {
            size_t row = node * r->nk + k;
            r->actual[row] = ytd[ind][node];
            r->target[row] = eff[node];
            judge(r, row, ceiling, opts->schedule);
            if (!isnan(r->completion[row])) {
                rank_item it = { tally_hierarchy__up(parent, node), row, r->completion[row] };
                items[nitems++] = it;
            }
        }
        /* Competition ranking among siblings: 1, 2, 2, 4. */
        qsort(items, nitems, sizeof *items, by_parent_completion);
        for (size_t j = 0, start = 0; j < nitems; j++) {
            if (j && items[j - 1].parent != items[j].parent)
                start = j;
            if (j > start && items[j - 1].completion == items[j].completion)
                r->rank[items[j].row] = r->rank[items[j - 1].row];
            else
                r->rank[items[j].row] = j - start + 1;
        }
    }
    for (size_t i = 0; ytd && i < nind; i++)
        free(ytd[i]);
    free(ytd);
    free(eff);
    free(items);
    if (rc) {
        tally_progress_free(r);
        return rc;
    }
    *out = r;
    return 0;
nomem:
    tally_progress_free(r);
    return tally_error__set(TALLY_ENOMEM, "out of memory computing completion");
}

TALLY_EXTERN(const tally_hierarchy *) tally_progress_hierarchy(const tally_progress_result *r)
{
    return r ? r->h : NULL;
}

TALLY_EXTERN(const tally_definitions *) tally_progress_definitions(const tally_progress_result *r)
{
    return r ? r->d : NULL;
}

TALLY_EXTERN(int) tally_progress_year(const tally_progress_result *r) { return r ? r->year : 0; }
TALLY_EXTERN(int) tally_progress_month(const tally_progress_result *r) { return r ? r->month : 0; }

TALLY_EXTERN(size_t) tally_progress_indicator_count(const tally_progress_result *r)
{
    return r ? r->nk : 0;
}

TALLY_EXTERN(size_t) tally_progress_indicator(const tally_progress_result *r, size_t k)
{
    return r && k < r->nk ? r->inds[k] : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_progress_count(const tally_progress_result *r)
{
    return r ? r->nodes * r->nk : 0;
}

TALLY_EXTERN(int) tally_progress_find(const tally_progress_result *r, size_t node,
                                      size_t indicator, size_t *row)
{
    if (row)
        *row = TALLY_NONE;
    if (!r || !row)
        return tally_error__set(TALLY_EINVAL, "tally_progress_find: NULL argument");
    for (size_t k = 0; k < r->nk && node < r->nodes; k++)
        if (r->inds[k] == indicator) {
            *row = node * r->nk + k;
            return 0;
        }
    return tally_error__set(TALLY_ENOTFOUND,
                            "no completion row for node %zu, indicator %zu (an indicator without "
                            "targets that year, or a node out of range)",
                            node, indicator);
}

#define ROW_OK(r, row) ((r) && (row) < (r)->nodes * (r)->nk)

TALLY_EXTERN(size_t) tally_progress_node(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? row / r->nk : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_progress_row_indicator(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->inds[row % r->nk] : TALLY_NONE;
}

TALLY_EXTERN(double) tally_progress_actual(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->actual[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_target(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->target[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_completion(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->completion[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_time_progress(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->time_progress : NAN;
}

TALLY_EXTERN(int) tally_progress_status(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->status[row] : -1;
}

TALLY_EXTERN(double) tally_progress_gap(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->gap[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_monthly_pace(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->pace[row] : NAN;
}

TALLY_EXTERN(size_t) tally_progress_rank(const tally_progress_result *r, size_t row)
{
    return ROW_OK(r, row) ? r->rank[row] : 0;
}

//* Formats a number with `decimals`; "" when missing. */
static const char *num(char *buf, size_t size, double v, int decimals)
{
    if (isnan(v) || tally_format_number(buf, size, v, decimals) < 0)
        buf[0] = '\0';
    return buf;
}

static int finish(FILE *f, const char *path)
{
    int failed = ferror(f);
    if (path)
        failed |= fclose(f) != 0;
    else
        failed |= fflush(f) != 0;
    if (failed)
        return tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                   "cannot write the result");
    return 0;
}

TALLY_EXTERN(int) tally_progress_write(const tally_progress_result *r, const char *path,
                                       const tally_write_options *opts)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_progress_write: NULL result");
    int json = opts->format == TALLY_FORMAT_JSON;
    size_t nl = tally_hierarchy_level_count(r->h);
    unsigned char *want = tally_write__levels(r->h, opts);
    if (!want)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        free(want);
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open for writing");
    }
    char as_of[16];
    snprintf(as_of, sizeof as_of, "%04d-%02d", r->year, r->month);
    if (json)
        fputc('[', f);
    else
        fputs("region_code,region_name,level,indicator,year,as_of,actual,target,completion,"
              "time_progress,status,gap,monthly_pace,rank\n",
              f);
    int first = 1;
    for (size_t node = 0; node < r->nodes; node++) {
        int level = tally_hierarchy_level(r->h, node);
        if (level < 0 || (size_t)level >= nl || !want[level])
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(r->h, node, code_buf);
        const char *name = tally_hierarchy_name(r->h, node);
        const char *lname = tally_hierarchy_level_name(r->h, level);
        for (size_t k = 0; k < r->nk; k++) {
            size_t row = node * r->nk + k, ind = r->inds[k];
            int dec = tally_definitions_decimals(r->d, ind);
            const char *id = tally_definitions_id(r->d, ind);
            const char *status = tally_target_status_name(r->status[row]);
            if (json) {
                fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
                tally_write__json(f, code);
                fputs(",\"region_name\":", f);
                tally_write__json(f, name);
                fputs(",\"level\":", f);
                tally_write__json(f, lname);
                fputs(",\"indicator\":", f);
                tally_write__json(f, id);
                fprintf(f, ",\"year\":%d,\"as_of\":\"%s\",\"actual\":", r->year, as_of);
                tally_write__number(f, r->actual[row], dec, 1);
                fputs(",\"target\":", f);
                tally_write__number(f, r->target[row], dec, 1);
                fputs(",\"completion\":", f);
                tally_write__number(f, r->completion[row], 2, 1);
                fputs(",\"time_progress\":", f);
                tally_write__number(f, r->time_progress, 2, 1);
                fprintf(f, ",\"status\":\"%s\",\"gap\":", status);
                tally_write__number(f, r->gap[row], dec, 1);
                fputs(",\"monthly_pace\":", f);
                tally_write__number(f, r->pace[row], dec, 1);
                if (r->rank[row])
                    fprintf(f, ",\"rank\":%zu}", r->rank[row]);
                else
                    fputs(",\"rank\":null}", f);
            } else {
                tally_write__csv(f, code);
                fputc(',', f);
                tally_write__csv(f, name);
                fputc(',', f);
                tally_write__csv(f, lname);
                fputc(',', f);
                tally_write__csv(f, id);
                fprintf(f, ",%d,%s,", r->year, as_of);
                tally_write__number(f, r->actual[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->target[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->completion[row], 2, 0);
                fputc(',', f);
                tally_write__number(f, r->time_progress, 2, 0);
                fprintf(f, ",%s,", status);
                tally_write__number(f, r->gap[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->pace[row], dec, 0);
                fputc(',', f);
                if (r->rank[row])
                    fprintf(f, "%zu", r->rank[row]);
                fputc('\n', f);
            }
            first = 0;
        }
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    free(want);
    return finish(f, path);
}

/* ---- SVG chart ---- */

/* Colours from the Okabe-Ito palette, which stays distinguishable with the
 * common colour-vision deficiencies; the status is also written beside each
 * bar, so colour is never the only cue. */
static const struct {
    const char *colour, *label, *word;
} status_style[] = {
    [TALLY_TARGET_NO_TARGET] = { "#BBBBBB", "无目标 no target", "无目标" },
    [TALLY_TARGET_NO_DATA] = { "#888888", "无数据 no data", "无数据" },
    [TALLY_TARGET_DONE] = { "#0B4F8A", "已完成 done", "已完成" },
    [TALLY_TARGET_AHEAD] = { "#56B4E9", "快于序时 ahead", "快于序时" },
    [TALLY_TARGET_BEHIND] = { "#E69F00", "慢于序时 behind", "慢于序时" },
    [TALLY_TARGET_MET] = { "#009E73", "达标 met", "达标" },
    [TALLY_TARGET_NOT_MET] = { "#D55E00", "未达标 not met", "未达标" },
};

/* XML text or attribute value; characters XML 1.0 cannot hold are left out. */
static void put_xml(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (*p >= 0x20 || *p == '\t' || *p == '\n')
                fputc(*p, f);
        }
    }
}

/* Rough rendered width in px of UTF-8 text at a font size: CJK and other
 * wide characters take a full em, the rest a bit over half. */
static double text_width(const char *s, double size)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp = *p;
        int len = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
        if (len > 1) {
            cp &= 0x3Fu >> (len - 1);
            for (int i = 1; i < len && p[i]; i++)
                cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        w += cp >= 0x1100 ? 1.0 : 0.58;
        for (int i = 0; i < len && *p; i++)
            p++;
    }
    return w * size;
}

typedef struct bar {
    size_t node, row;
    double value; /* the bar's percentage, NaN when none */
} bar;

static int by_bar_desc(const void *a, const void *b)
{
    const bar *x = a, *y = b;
    int nx = isnan(x->value), ny = isnan(y->value);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

static int by_bar_asc(const void *a, const void *b)
{
    const bar *x = a, *y = b;
    int nx = isnan(x->value), ny = isnan(y->value);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

TALLY_EXTERN(int) tally_progress_write_svg(const tally_progress_result *r, const char *path,
                                           const tally_progress_svg_options *opts)
{
    tally_progress_svg_options defaults = TALLY_PROGRESS_SVG_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_progress_write_svg: NULL result");
    if (!r->nk)
        return tally_error__set(TALLY_EINVAL, "no indicator has a target for %d; nothing to chart",
                                r->year);
    size_t k = 0;
    if (opts->indicator != TALLY_NONE) {
        while (k < r->nk && r->inds[k] != opts->indicator)
            k++;
        if (k == r->nk)
            return tally_error__set(TALLY_EINVAL,
                                    "indicator '%s' has no target for %d; expected one of the "
                                    "indicators with targets",
                                    opts->indicator < tally_definitions_indicator_count(r->d)
                                        ? tally_definitions_id(r->d, opts->indicator)
                                        : "?",
                                    r->year);
    }
    size_t ind = r->inds[k];
    int level = opts->level;
    if (level < 0) {
        /* The level of the first node below the first root. */
        for (size_t i = 0; i < r->nodes && level < 0; i++)
            if (tally_hierarchy_parent(r->h, i) == 0)
                level = tally_hierarchy_level(r->h, i);
        if (level < 0 && r->nodes)
            level = tally_hierarchy_level(r->h, 0);
    }
    if (level < 0 || (size_t)level >= tally_hierarchy_level_count(r->h))
        return tally_error__set(TALLY_EINVAL, "chart level %d is out of range", level);
    int ceiling = tally_definitions_direction(r->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;

    bar *bars = malloc((r->nodes ? r->nodes : 1) * sizeof *bars);
    if (!bars)
        return tally_error__set(TALLY_ENOMEM, "out of memory drawing a chart");
    size_t nb = 0;
    double vmax = ceiling ? 100 : fmax(100, r->time_progress);
    double name_w = 0;
    int present[7] = { 0 };
    for (size_t node = 0; node < r->nodes; node++) {
        if (tally_hierarchy_level(r->h, node) != level)
            continue;
        size_t row = node * r->nk + k;
        double v = r->completion[row];
        if (ceiling && (r->status[row] == TALLY_TARGET_MET || r->status[row] == TALLY_TARGET_NOT_MET))
            v = r->target[row] > 0 ? r->actual[row] * 100.0 / r->target[row] : NAN;
        bar b = { node, row, v };
        bars[nb++] = b;
        if (!isnan(v))
            vmax = fmax(vmax, v);
        name_w = fmax(name_w, text_width(tally_hierarchy_name(r->h, node), 14));
        present[r->status[row]] = 1;
    }
    if (!nb) {
        free(bars);
        return tally_error__set(TALLY_EINVAL, "no region at level '%s' to chart",
                                tally_hierarchy_level_name(r->h, level));
    }
    qsort(bars, nb, sizeof *bars, ceiling ? by_bar_asc : by_bar_desc);

    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        free(bars);
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open for writing");
    }
    /* Layout, in px. */
    const double width = 960, row_h = 30, bar_h = 20, top = 112, bottom = 44, right = 240;
    double left = fmax(110, name_w + 24);
    double plot_w = width - left - right;
    double step = vmax <= 120 ? 20 : vmax <= 300 ? 50 : 100;
    double scale_max = ceil(vmax / step) * step;
    double height = top + row_h * (double)nb + bottom;
    double y0 = top, y1 = top + row_h * (double)nb;
    int dec = tally_definitions_decimals(r->d, ind);
    char as_of[16], tp[32], b1[64], b2[64];
    snprintf(as_of, sizeof as_of, "%04d-%02d", r->year, r->month);
    num(tp, sizeof tp, r->time_progress, 2);
#define X(v) (left + (v) / scale_max * plot_w)

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif\" "
               "font-size=\"14\">\n",
            width, height, width, height);
    fputs("<title>", f);
    if (opts->title)
        put_xml(f, opts->title);
    else {
        put_xml(f, tally_definitions_name(r->d, ind));
        fprintf(f, " %d 年目标完成情况（截至 %s）", r->year, as_of);
    }
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>\n", f);
    /* Title and subtitle. */
    fputs("<text x=\"20\" y=\"32\" font-size=\"20\" font-weight=\"bold\" fill=\"#222222\">", f);
    if (opts->title)
        put_xml(f, opts->title);
    else {
        put_xml(f, tally_definitions_name(r->d, ind));
        fprintf(f, " %d 年目标完成情况（截至 %s）", r->year, as_of);
    }
    fputs("</text>\n<text x=\"20\" y=\"56\" font-size=\"13\" fill=\"#555555\">", f);
    put_xml(f, tally_definitions_id(r->d, ind));
    if (ceiling)
        fputs(" · 目标为上限（越低越好）· 条长 = 实际 / 上限 × 100", f);
    else
        fputs(" · 完成率 = 实际 / 年度目标 × 100", f);
    fprintf(f, " · %zu 个 ", nb);
    put_xml(f, tally_hierarchy_level_name(r->h, level));
    fputs("</text>\n", f);
    /* Legend: the statuses that occur, in a fixed order. */
    static const int order[] = { TALLY_TARGET_DONE,   TALLY_TARGET_AHEAD,     TALLY_TARGET_BEHIND,
                                 TALLY_TARGET_MET,    TALLY_TARGET_NOT_MET,   TALLY_TARGET_NO_DATA,
                                 TALLY_TARGET_NO_TARGET };
    double lx = 20;
    fputs("<g class=\"legend\" font-size=\"13\">\n", f);
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int s = order[i];
        if (!present[s])
            continue;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"72\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"84\" fill=\"#333333\">%s</text>\n",
                lx, status_style[s].colour, lx + 19, status_style[s].label);
        lx += 19 + text_width(status_style[s].label, 13) + 22;
    }
    fputs("</g>\n", f);
    /* Grid and axis labels. */
    fputs("<g class=\"grid\" font-size=\"12\" fill=\"#666666\">\n", f);
    for (double v = 0; v <= scale_max + 1e-9; v += step)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#E3E3E3\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n",
                X(v), y0 - 6, X(v), y1 + 4, X(v), y1 + 20, v);
    fputs("</g>\n", f);
    /* Per region: its name, the track and the bar. */
    for (size_t i = 0; i < nb; i++) {
        const bar *b = &bars[i];
        int s = r->status[b->row];
        double y = y0 + row_h * (double)i + (row_h - bar_h) / 2;
        double w = isnan(b->value) ? 0 : X(fmin(b->value, scale_max)) - left;
        fprintf(f, "<g class=\"region\">\n<text class=\"name\" x=\"%.1f\" y=\"%.1f\" "
                   "text-anchor=\"end\" fill=\"#222222\">",
                left - 10, y + bar_h - 5);
        put_xml(f, tally_hierarchy_name(r->h, b->node));
        fprintf(f, "</text>\n<rect class=\"track\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.0f\" fill=\"#F4F4F4\"/>\n",
                left, y, plot_w, bar_h);
        fprintf(f, "<rect class=\"bar\" data-region=\"");
        put_xml(f, tally_hierarchy_code(r->h, b->node));
        fprintf(f, "\" data-status=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                   "fill=\"%s\"><title>",
                tally_target_status_name(s), left, y, w, bar_h, status_style[s].colour);
        put_xml(f, tally_hierarchy_name(r->h, b->node));
        fputs(" (", f);
        put_xml(f, tally_hierarchy_code(r->h, b->node));
        fprintf(f, "): %s</title></rect>\n</g>\n", status_style[s].label);
    }
    /* The reference line, over the bars: time progress, or the ceiling. */
    double ref = ceiling ? 100 : r->time_progress;
    fprintf(f,
            "<g class=\"time-progress\">\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#222222\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
            "font-weight=\"bold\" fill=\"#222222\">",
            X(ref), y0 - 4, X(ref), y1 + 2, X(ref), y0 - 10);
    if (ceiling)
        fputs("目标上限 100%", f);
    else
        fprintf(f, "序时进度 %s%%", tp);
    fputs("</text>\n</g>\n", f);
    /* Labels in a column right of the plot, where neither the bars nor the
     * line reach them: the percentage, actual / target, and the status in
     * words (so colour is never the only cue). */
    fputs("<g class=\"values\">\n", f);
    for (size_t i = 0; i < nb; i++) {
        const bar *b = &bars[i];
        int s = r->status[b->row];
        double y = y0 + row_h * (double)i + (row_h - bar_h) / 2;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222222\">", left + plot_w + 12,
                y + bar_h - 5);
        if (!isnan(b->value)) {
            char pct[32];
            num(pct, sizeof pct, b->value, 2);
            fprintf(f, "<tspan font-weight=\"bold\">%s%%</tspan> ", pct);
        }
        if (!isnan(r->actual[b->row]) || !isnan(r->target[b->row]))
            fprintf(f, "<tspan fill=\"#555555\">%s / %s</tspan> ",
                    *num(b1, sizeof b1, r->actual[b->row], dec) ? b1 : "–",
                    *num(b2, sizeof b2, r->target[b->row], dec) ? b2 : "–");
        fprintf(f, "<tspan fill=\"#555555\">%s</tspan></text>\n", status_style[s].word);
    }
    fputs("</g>\n</svg>\n", f);
#undef X
    free(bars);
    return finish(f, path);
}
