/* Records under old region codes carried through a crosswalk onto the
 * dataset's hierarchy (tally/carry.h): the rows are kept aside by the
 * records reader (tally_carry__keep, from its unknown-region path, so the
 * reader's fast path is not touched) and moved onto their regions when the
 * read ends (tally_carry__apply).
 *
 * SPDX-License-Identifier: MIT
 */
#include "carry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "period.h"
#include "rejects.h"
#include "util.h"

/* A value of a kept row (a wide row has several). */
typedef struct kept {
    size_t row; /* index into rows */
    size_t ind;
    int32_t key;
    double v;
    int present;
} kept;

/* A row kept aside; strings are offsets into the read's arena. */
typedef struct kept_row {
    size_t code, text, path;
    unsigned long line, col;
    int bad;
} kept_row;

/* A value stored through the crosswalk; strings in the lasting arena. */
typedef struct carried {
    size_t node, ind, from, period;
    int how;
} carried;

typedef struct arena {
    char *a;
    size_t len, cap;
} arena;

struct tally_carry {
    const tally_crosswalk *cw;
    kept *vals;
    size_t nvals, cvals;
    kept_row *rows;
    size_t nrows, crows;
    arena read; /* the rows kept by the read going on */
    carried *log;
    size_t nlog, clog;
    arena last; /* the log's strings */
    size_t by_how[TALLY_CROSSWALK_KIND_COUNT];
    struct addk { /* per indicator and period */
        size_t ind;
        int32_t key;
        uint64_t *bits;
    } *addk;
    size_t naddk, caddk;
};

void tally_carry__free(struct tally_carry *k)
{
    if (!k)
        return;
    free(k->vals);
    free(k->rows);
    free(k->read.a);
    free(k->log);
    free(k->last.a);
    for (size_t i = 0; i < k->naddk; i++)
        free(k->addk[i].bits);
    free(k->addk);
    free(k);
}

static int put(arena *ar, const char *s, size_t n, size_t *off)
{
    if (tally_util__grow((void **)&ar->a, &ar->cap, ar->len + n + 1, 1))
        return TALLY_ENOMEM;
    memcpy(ar->a + ar->len, s, n);
    ar->a[ar->len + n] = '\0';
    *off = ar->len;
    ar->len += n + 1;
    return 0;
}

TALLY_EXTERN(int) tally_dataset_set_crosswalk(tally_dataset *ds, const tally_crosswalk *cw)
{
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_set_crosswalk: NULL dataset");
    if (!ds->carry && !cw)
        return 0;
    if (!ds->carry) {
        ds->carry = calloc(1, sizeof *ds->carry);
        if (!ds->carry)
            return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    ds->carry->cw = cw;
    return 0;
}

/* ---- keeping rows aside during a read ---- */

static int parse_cell(const tally_csv *c, size_t f, double *v, int *present)
{
    const tally_csv_field *fl = &c->fields[f];
    *present = fl->len > 0;
    *v = NAN;
    if (!fl->len)
        return 0;
    int rc = tally_util__parse_number(fl->ptr, fl->len, v);
    if (rc == TALLY_ENOMEM)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    if (rc)
        return tally_csv__error_at_field(
            c, f, rc == TALLY_ERANGE ? TALLY_ERANGE : TALLY_EPARSE,
            "bad number '%.*s'; expected a decimal number like 12, -3.5 or 1e6, or an empty cell",
            (int)fl->len, fl->ptr);
    return 0;
}

static int keep_value(struct tally_carry *k, size_t ind, int32_t key, double v, int present)
{
    if (tally_util__grow((void **)&k->vals, &k->cvals, k->nvals + 1, sizeof *k->vals))
        return TALLY_ENOMEM;
    k->vals[k->nvals++] = (kept){ k->nrows, ind, key, v, present };
    return 0;
}

int tally_carry__keep(tally_dataset *ds, const tally_csv *c, const tally_records__layout *lay)
{
    struct tally_carry *k = ds->carry;
    const tally_csv_field *rf = &c->fields[lay->region];
    size_t first, count;
    if (!k || !k->cw || tally_crosswalk_find(k->cw, rf->ptr, rf->len, &first, &count))
        return 1;
    const tally_csv_field *pf = &c->fields[lay->period];
    int32_t key;
    if (tally_period__parse(pf->ptr, pf->len, &key))
        return tally_csv__error_at_field(c, (size_t)lay->period, TALLY_EPARSE,
                                         "bad period '%.*s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                         (int)pf->len, pf->ptr);
    size_t nvals = k->nvals;
    int rc = 0;
    double v;
    int present;
    if (!lay->wide_indicator) {
        const tally_csv_field *inf = &c->fields[lay->indicator];
        size_t ind;
        if (tally_definitions_find(ds->d, inf->ptr, inf->len, &ind))
            return tally_csv__error_at_field(
                c, (size_t)lay->indicator, TALLY_ENOTFOUND,
                "unknown indicator '%.*s'; expected an id from the definitions", (int)inf->len,
                inf->ptr);
        rc = parse_cell(c, (size_t)lay->value, &v, &present);
        if (!rc)
            rc = keep_value(k, ind, key, v, present);
    } else {
        for (size_t f = 0; f < c->nfields && !rc; f++)
            if (lay->wide_indicator[f] != TALLY_NONE && !(rc = parse_cell(c, f, &v, &present)))
                rc = keep_value(k, lay->wide_indicator[f], key, v, present);
    }
    kept_row r = { 0, 0, 0, c->line, (unsigned long)lay->region + 1, 0 };
    if (!rc && (put(&k->read, rf->ptr, rf->len, &r.code) ||
                put(&k->read, c->data + c->row_start, c->row_end - c->row_start, &r.text) ||
                put(&k->read, c->name, strlen(c->name), &r.path) ||
                tally_util__grow((void **)&k->rows, &k->crows, k->nrows + 1, sizeof *k->rows)))
        rc = tally_error__set(TALLY_ENOMEM, "out of memory");
    if (rc) {
        k->nvals = nvals;
        return rc;
    }
    k->rows[k->nrows++] = r;
    return 0;
}

/* ---- carrying them at the end of the read ---- */

/* Splits v by shares so that the parts add up to v exactly in units of
 * 10^-d, d the indicator's decimals or more (up to 9) when v needs them:
 * each part gets the whole units of its quota, and the units left go one
 * each to the largest remainders, ties to the earlier row. */
static void split_value(double v, const double *share, size_t n, int decimals, double *out,
                        double *frac)
{
    int d = decimals < 0 ? 0 : decimals;
    double scale = 1;
    for (; d <= 9; d++) {
        scale = tally_column__pow10(d);
        double u = fabs(v) * scale;
        if (u < 9007199254740992.0 && fabs(u - nearbyint(u)) <= 1e-9 * fmax(1, u))
            break;
    }
    if (d > 9) { /* not a decimal of 9 places: by share, the last part the rest */
        double rest = v;
        for (size_t i = 0; i + 1 < n; i++)
            rest -= out[i] = v * share[i];
        out[n - 1] = rest;
        return;
    }
    double units = nearbyint(fabs(v) * scale), left = units;
    for (size_t i = 0; i < n; i++) {
        double q = units * share[i];
        if (fabs(q - nearbyint(q)) <= 1e-9 * fmax(1, q))
            q = nearbyint(q);
        out[i] = floor(q);
        frac[i] = q - out[i];
        left -= out[i];
    }
    for (; left > 0.5; left--) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (frac[i] > frac[best] + 1e-9)
                best = i;
        out[best] += 1;
        frac[best] = -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (v < 0 ? -out[i] : out[i]) / scale;
}

/* A cell being filled: what the kept values carried to it add up to. */
typedef struct cell {
    size_t node, ind;
    int32_t key;
    double sum, comp;
    int present, additive;
} cell;

typedef struct cells {
    cell *c;
    size_t n, cap;
    size_t *slots; /* index + 1 */
    size_t scap;
} cells;

static size_t cell_hash(size_t node, size_t ind, int32_t key)
{
    return (size_t)tally_util__hash_u64(((uint64_t)node << 24) ^ ((uint64_t)ind << 40) ^
                                        (uint32_t)key);
}

static cell *cell_at(cells *cs, size_t node, size_t ind, int32_t key)
{
    if ((cs->n + 1) * 2 > cs->scap) {
        size_t cap = cs->scap ? cs->scap * 2 : 256;
        size_t *s = calloc(cap, sizeof *s);
        if (!s)
            return NULL;
        for (size_t i = 0; i < cs->n; i++) {
            size_t j = cell_hash(cs->c[i].node, cs->c[i].ind, cs->c[i].key) & (cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = i + 1;
        }
        free(cs->slots);
        cs->slots = s;
        cs->scap = cap;
    }
    size_t j = cell_hash(node, ind, key) & (cs->scap - 1);
    for (; cs->slots[j]; j = (j + 1) & (cs->scap - 1)) {
        cell *c = &cs->c[cs->slots[j] - 1];
        if (c->node == node && c->ind == ind && c->key == key)
            return c;
    }
    if (tally_util__grow((void **)&cs->c, &cs->cap, cs->n + 1, sizeof *cs->c))
        return NULL;
    cs->slots[j] = ++cs->n;
    cell *c = &cs->c[cs->n - 1];
    *c = (cell){ node, ind, key, 0, 0, 0, 0 };
    return c;
}

static const char *rtext(const struct tally_carry *k, size_t off) { return k->read.a + off; }

/* The value's crosswalk rows and how; 0, or why it cannot be carried
 * (the error recorded at the row). */
static int plan(const tally_dataset *ds, const kept *kv, size_t *first, size_t *count,
                int *how, size_t *nodes)
{
    const struct tally_carry *k = ds->carry;
    const kept_row *r = &k->rows[kv->row];
    const char *code = rtext(k, r->code), *path = rtext(k, r->path);
    tally_crosswalk_find(k->cw, code, strlen(code), first, count);
    const tally_crosswalk *cw = k->cw;
    *how = *count > 1 ? TALLY_CROSSWALK_SPLIT : tally_crosswalk_how(cw, *first);
    const char *ind = tally_definitions_id(ds->d, kv->ind);
    if (!*tally_crosswalk_to_code(cw, *first))
        return tally_error__set_at(TALLY_ENOTFOUND, path, r->line, r->col, code, strlen(code),
                                   "region code '%s' is an old code the crosswalk leaves "
                                   "unmatched; say in the crosswalk where it went, or leave the "
                                   "row out", code);
    for (size_t i = 0; i < *count; i++)
        if (isnan(tally_crosswalk_share(cw, *first + i)))
            return tally_error__set_at(TALLY_EINVAL, path, r->line, r->col, code, strlen(code),
                                       "the crosswalk splits '%s' between %zu regions (%s, ...) "
                                       "without shares; fill in the share column of its rows",
                                       code, *count, tally_crosswalk_to_code(cw, *first));
    int agg = tally_definitions_aggregate(ds->d, kv->ind);
    if (agg == TALLY_AGGREGATE_FORMULA)
        return tally_error__set_at(TALLY_EINVAL, path, r->line, r->col, code, strlen(code),
                                   "indicator '%s' is a formula: its value under old code '%s' "
                                   "is not carried, it is recomputed from the carried "
                                   "components; leave the row out", ind, code);
    int additive = *how == TALLY_CROSSWALK_MERGED || *how == TALLY_CROSSWALK_SPLIT;
    if (additive && agg != TALLY_AGGREGATE_SUM)
        return tally_error__set_at(TALLY_EINVAL, path, r->line, r->col, code, strlen(code),
                                   "indicator '%s' does not aggregate by sum: its value under "
                                   "'%s' (%s) cannot be %s", ind, code,
                                   tally_crosswalk_kind_name(*how),
                                   *how == TALLY_CROSSWALK_SPLIT ? "split" : "added to a region");
    for (size_t i = 0; i < *count; i++) {
        const char *to = tally_crosswalk_to_code(cw, *first + i);
        if (tally_hierarchy_find(ds->h, to, strlen(to), &nodes[i]))
            return tally_error__set_at(TALLY_ENOTFOUND, path, r->line, r->col, code,
                                       strlen(code),
                                       "the crosswalk maps '%s' to '%s', which is not in the "
                                       "hierarchy; give the crosswalk to this hierarchy",
                                       code, to);
        const tally_column *col = tally_dataset__find_column(ds, kv->ind, kv->key);
        if (col && tally_column__seen(col, nodes[i])) {
            char per[TALLY_PERIOD_TEXT_MAX];
            tally_period__format(kv->key, per);
            return tally_error__set_at(
                TALLY_EEXIST, path, r->line, r->col, code, strlen(code),
                "conflict: region %s (%s) has its own value for indicator %s, period %s, and "
                "old region %s would be carried there through the crosswalk (%s); keep one of "
                "the two", to, tally_hierarchy_name(ds->h, nodes[i]), ind, per, code,
                tally_crosswalk_kind_name(*how));
        }
    }
    return 0;
}

/* A value's sort key: (old code, indicator, period), then file order. */
typedef struct sort_key {
    const char *code;
    size_t ind, i;
    int32_t key;
} sort_key;

static int cmp_key(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    if (x->ind != y->ind)
        return x->ind < y->ind ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : 1;
}

/* Rejects a kept row (once): 0 to go on (collecting), else the row's
 * error (stop) or TALLY_ENOMEM. */
static int reject_row(struct tally_carry *k, size_t row, int collect, tally_rejects *rejects,
                      tally_read_stats *st, int rc)
{
    kept_row *r = &k->rows[row];
    if (r->bad)
        return 0;
    r->bad = 1;
    if (st) {
        st->rows_accepted--;
        st->rows_rejected++;
    }
    if (rejects) {
        if (tally_rejects__add_item(rejects, rtext(k, r->path), r->line, rtext(k, r->text)))
            return tally_error__set(TALLY_ENOMEM, "out of memory collecting rejected rows");
        rejects->items[rejects->count - 1].column = r->col;
    }
    return collect ? 0 : rc;
}

static int log_value(struct tally_carry *k, const kept *kv, size_t node, int how)
{
    char per[TALLY_PERIOD_TEXT_MAX];
    size_t n = tally_period__format(kv->key, per);
    const char *code = rtext(k, k->rows[kv->row].code);
    carried e = { node, kv->ind, 0, 0, how };
    if (put(&k->last, code, strlen(code), &e.from) || put(&k->last, per, n, &e.period) ||
        tally_util__grow((void **)&k->log, &k->clog, k->nlog + 1, sizeof *k->log))
        return TALLY_ENOMEM;
    k->log[k->nlog++] = e;
    return 0;
}

static int set_additive(tally_dataset *ds, size_t ind, int32_t key, size_t node)
{
    struct tally_carry *k = ds->carry;
    size_t words = tally_bit__words(ds->nodes) + 1, a = 0;
    while (a < k->naddk && (k->addk[a].ind != ind || k->addk[a].key != key))
        a++;
    if (a == k->naddk) {
        if (tally_util__grow((void **)&k->addk, &k->caddk, k->naddk + 1, sizeof *k->addk))
            return TALLY_ENOMEM;
        k->addk[a] = (struct addk){ ind, key, calloc(words, sizeof(uint64_t)) };
        if (!k->addk[a].bits)
            return TALLY_ENOMEM;
        k->naddk++;
    }
    tally_bit__set(k->addk[a].bits, node);
    return 0;
}

static int store_cells(tally_dataset *ds, cells *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        const cell *c = &cs->c[i];
        tally_column *col = tally_dataset__get_column(ds, c->ind, c->key);
        if (!col || tally_dataset__widen_column(ds, col) ||
            tally_dataset__cover(ds, col, c->node)) {
            tally_dataset__drop_empty(ds);
            return TALLY_ENOMEM;
        }
        tally_bit__set(col->seen, c->node);
        if (c->present) {
            tally_bit__set(col->valid, c->node);
            col->values[c->node] = c->sum + c->comp;
        }
        ds->cells++;
        if (c->additive && set_additive(ds, c->ind, c->key, c->node))
            return TALLY_ENOMEM;
    }
    return 0;
}

static int apply(tally_dataset *ds, int collect, tally_rejects *rejects, tally_read_stats *st,
                 cells *cs, sort_key *order)
{
    struct tally_carry *k = ds->carry;
    const tally_crosswalk *cw = k->cw;
    size_t most = 1;
    for (size_t i = 0; i < k->nvals; i++) {
        size_t first, count;
        tally_crosswalk_find(cw, rtext(k, k->rows[k->vals[i].row].code),
                             strlen(rtext(k, k->rows[k->vals[i].row].code)), &first, &count);
        most = count > most ? count : most;
    }
    size_t *nodes = malloc(most * sizeof *nodes);
    double *share = malloc(most * sizeof *share), *part = malloc(most * sizeof *part),
           *frac = malloc(most * sizeof *frac);
    int rc = nodes && share && part && frac ? 0 : TALLY_ENOMEM;
    /* Duplicates: the same old code, indicator and period twice. */
    for (size_t i = 0; i < k->nvals && !rc; i++)
        order[i] = (sort_key){ rtext(k, k->rows[k->vals[i].row].code), k->vals[i].ind, i,
                               k->vals[i].key };
    if (!rc)
        qsort(order, k->nvals, sizeof *order, cmp_key);
    for (size_t i = 1; i < k->nvals && !rc; i++) {
        const sort_key *a = &order[i - 1], *b = &order[i];
        if (a->ind != b->ind || a->key != b->key || strcmp(a->code, b->code))
            continue;
        const kept_row *r = &k->rows[k->vals[b->i].row];
        char per[TALLY_PERIOD_TEXT_MAX];
        tally_period__format(b->key, per);
        int e = tally_error__set_at(TALLY_EEXIST, rtext(k, r->path), r->line, r->col, b->code,
                                    strlen(b->code),
                                    "duplicate record for region %s, indicator %s, period %s; "
                                    "each is given once", b->code,
                                    tally_definitions_id(ds->d, b->ind), per);
        rc = reject_row(k, k->vals[b->i].row, collect, rejects, st, e);
    }
    /* What cannot be carried, against the dataset as the file left it. */
    for (size_t i = 0; i < k->nvals && !rc; i++) {
        size_t first, count;
        int how;
        if (!k->rows[k->vals[i].row].bad && (rc = plan(ds, &k->vals[i], &first, &count, &how, nodes)))
            rc = reject_row(k, k->vals[i].row, collect, rejects, st, rc);
    }
    /* The rest, added up per region. */
    for (size_t i = 0; i < k->nvals && !rc; i++) {
        const kept *kv = &k->vals[i];
        if (k->rows[kv->row].bad)
            continue;
        size_t first, count;
        int how;
        plan(ds, kv, &first, &count, &how, nodes);
        for (size_t j = 0; j < count; j++)
            share[j] = tally_crosswalk_share(cw, first + j);
        part[0] = kv->v;
        if (count > 1 && kv->present)
            split_value(kv->v, share, count, tally_definitions_decimals(ds->d, kv->ind), part,
                        frac);
        for (size_t j = 0; j < count && !rc; j++) {
            cell *c = cell_at(cs, nodes[j], kv->ind, kv->key);
            if (!c || log_value(k, kv, nodes[j], how)) {
                rc = TALLY_ENOMEM;
                break;
            }
            if (kv->present) {
                tally_util__neumaier(&c->sum, &c->comp, part[j]);
                c->present = 1;
            }
            c->additive |= how == TALLY_CROSSWALK_MERGED || how == TALLY_CROSSWALK_SPLIT;
        }
    }
    for (size_t r = 0; r < k->nrows && !rc; r++) {
        if (k->rows[r].bad)
            continue;
        size_t first, count;
        const char *code = rtext(k, k->rows[r].code);
        tally_crosswalk_find(cw, code, strlen(code), &first, &count);
        k->by_how[count > 1 ? TALLY_CROSSWALK_SPLIT : tally_crosswalk_how(cw, first)]++;
    }
    if (!rc)
        rc = store_cells(ds, cs);
    free(nodes);
    free(share);
    free(part);
    free(frac);
    return rc;
}

int tally_carry__apply(tally_dataset *ds, int collect, tally_rejects *rejects,
                       tally_read_stats *st)
{
    struct tally_carry *k = ds->carry;
    if (!k || !k->nrows)
        return 0;
    cells cs = { NULL, 0, 0, NULL, 0 };
    sort_key *order = malloc((k->nvals ? k->nvals : 1) * sizeof *order);
    int rc = order ? apply(ds, collect, rejects, st, &cs, order) : TALLY_ENOMEM;
    if (rc && rc != TALLY_ENOMEM && st) {
        /* Stopped: nothing is carried, and the rows kept but for the bad
         * one are as if not read. */
        for (size_t r = 0; r < k->nrows; r++)
            if (!k->rows[r].bad) {
                st->rows_read--;
                st->rows_accepted--;
            }
    }
    free(order);
    free(cs.c);
    free(cs.slots);
    k->nvals = k->nrows = 0;
    k->read.len = 0;
    if (rc == TALLY_ENOMEM)
        return tally_error__set(TALLY_ENOMEM, "out of memory carrying records");
    return rc;
}

const uint64_t *tally_carry__additive_at(const tally_dataset *ds, size_t ind, int32_t key)
{
    const struct tally_carry *k = ds->carry;
    for (size_t a = 0; k && a < k->naddk; a++)
        if (k->addk[a].ind == ind && k->addk[a].key == key)
            return k->addk[a].bits;
    return NULL;
}

int tally_carry__additive_span(const tally_dataset *ds, size_t ind, int32_t first, int32_t last,
                               uint64_t **out)
{
    const struct tally_carry *k = ds->carry;
    size_t words = tally_bit__words(ds->nodes) + 1;
    *out = NULL;
    for (size_t a = 0; k && a < k->naddk; a++) {
        int32_t key = k->addk[a].key;
        if (k->addk[a].ind != ind || tally_period__first_month(key) < first ||
            tally_period__last_month(key) > last)
            continue;
        if (!*out && !(*out = calloc(words, sizeof(uint64_t))))
            return tally_error__set(TALLY_ENOMEM, "out of memory rolling up carried values");
        for (size_t w = 0; w < words; w++)
            (*out)[w] |= k->addk[a].bits[w];
    }
    return 0;
}

/* ---- what was carried ---- */

TALLY_EXTERN(size_t) tally_dataset_carried_rows(const tally_dataset *ds, int how)
{
    if (!ds || !ds->carry)
        return 0;
    size_t n = 0;
    for (int i = 0; i < TALLY_CROSSWALK_KIND_COUNT; i++)
        if (how < 0 || how == i)
            n += ds->carry->by_how[i];
    return n;
}

TALLY_EXTERN(size_t) tally_dataset_carried_count(const tally_dataset *ds)
{
    return ds && ds->carry ? ds->carry->nlog : 0;
}

#define LOG(ds, i) ((ds) && (ds)->carry && (i) < (ds)->carry->nlog ? &(ds)->carry->log[i] : NULL)

TALLY_EXTERN(size_t) tally_dataset_carried_node(const tally_dataset *ds, size_t i)
{
    const carried *e = LOG(ds, i);
    return e ? e->node : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_dataset_carried_indicator(const tally_dataset *ds, size_t i)
{
    const carried *e = LOG(ds, i);
    return e ? e->ind : TALLY_NONE;
}

TALLY_EXTERN(const char *) tally_dataset_carried_period(const tally_dataset *ds, size_t i)
{
    const carried *e = LOG(ds, i);
    return e ? ds->carry->last.a + e->period : NULL;
}

TALLY_EXTERN(const char *) tally_dataset_carried_from(const tally_dataset *ds, size_t i)
{
    const carried *e = LOG(ds, i);
    return e ? ds->carry->last.a + e->from : NULL;
}

TALLY_EXTERN(int) tally_dataset_carried_how(const tally_dataset *ds, size_t i)
{
    const carried *e = LOG(ds, i);
    return e ? e->how : -1;
}
