/* The fast paths against the plain ones they stand in for: the CSV
 * reader's quote-free rows, the records reader's lookups cached from row to
 * row, and the rollup shared among threads. Inputs are random (fixed seeds)
 * and mix good rows with every kind of bad one; the expected side is always
 * the plain path, run on the same input.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv.h"
#include "dataset.h"
#include "error.h"
#include "export.h"
#include "fixtures.h"
#include "period.h"
#include "records.h"
#include "rollup.h"
#include "tally/export.h"

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

/* ---- CSV rows ---------------------------------------------------------- */

/* Reads `data` with both paths row by row and requires the same rows,
 * fields, ranges, lines and errors. With limits, the plain side's rows are
 * checked against them here, written out independently: too many fields is
 * an error at the first field past the limit, else a field too long at the
 * first such field. */
static void csv_same_limits(const char *data, size_t size, size_t max_fields,
                            size_t max_field_bytes)
{
    tally_csv a, b;
    tally_csv__init(&a, data, size, "x.csv");
    tally_csv__init(&b, data, size, "x.csv");
    a.max_fields = b.max_fields = max_fields;
    a.max_field_bytes = b.max_field_bytes = max_field_bytes;
    for (int guard = 0; guard < 10000; guard++) {
        int ra = tally_csv__next(&a);
        tally_error ea = *tally_error_last();
        unsigned long la = ea.line, ca = ea.column;
        int rb = tally_csv__next_plain(&b);
        if (rb == 1) {
            size_t bad = b.nfields;
            if (max_fields && b.nfields > max_fields)
                bad = max_fields;
            for (size_t i = 0; bad == b.nfields && max_field_bytes && i < b.nfields; i++)
                if (b.fields[i].len > max_field_bytes)
                    bad = i;
            if (bad < b.nfields)
                rb = tally_csv__error_at_field(&b, bad, TALLY_ELIMIT, "over the limit");
        }
        const tally_error *eb = tally_error_last();
        assert_int_equal(ra, rb);
        if (ra < 0) {
            assert_int_equal(la, eb->line);
            assert_int_equal(ca, eb->column);
        }
        if (ra == 0)
            break;
        assert_int_equal(a.line, b.line);
        assert_int_equal(a.next_line, b.next_line);
        assert_int_equal(a.pos, b.pos);
        assert_int_equal(a.row_start, b.row_start);
        assert_int_equal(a.row_end, b.row_end);
        if (ra < 0)
            continue;
        assert_int_equal(a.nfields, b.nfields);
        for (size_t i = 0; i < a.nfields; i++) {
            assert_int_equal(a.fields[i].len, b.fields[i].len);
            assert_int_equal(a.fields[i].offset, b.fields[i].offset);
            assert_memory_equal(a.fields[i].ptr, b.fields[i].ptr, a.fields[i].len);
        }
    }
    tally_csv__fini(&a);
    tally_csv__fini(&b);
}

static void csv_same(const char *data, size_t size) { csv_same_limits(data, size, 0, 0); }

static void test_csv_random(void **state)
{
    (void)state;
    /* Bytes that steer the reader: separators, quotes, both line endings. */
    static const char alphabet[] = { 'a', '7', ',', ',', '"', '\r', '\n', '\n', ' ', '\xe6' };
    char buf[96];
    rng_state = 4301;
    for (int round = 0; round < 20000; round++) {
        size_t n = rnd(sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[rnd(sizeof alphabet)];
        csv_same(buf, n);
        /* The fast path checks the limits from the longest field it saw. */
        csv_same_limits(buf, n, 1 + rnd(4), 1 + rnd(12));
    }
}

static void test_csv_edges(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "", "\n", "\r\n", "a", "a,", ",", "a\r", "a,b\r\nc,d\r\n", "a,\r\n", "a\rb,c\n",
        "\n\na,b\n\n", "\357\273\277a,b\n", "a,\"b\"\n", "a,b\"c\n", "\"a\nb\",c\nd\n",
        "\"a\"x,b\n", "a,\"b", "x,\r", "\r\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        csv_same(cases[i], strlen(cases[i]));
}

/* ---- records ----------------------------------------------------------- */

typedef struct fx {
    tally_hierarchy *h;
    tally_definitions *d;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tally_hierarchy_from_buffer(&f->h, fixture_hierarchy,
                                                 strlen(fixture_hierarchy), "h.csv", NULL),
                     0);
    assert_int_equal(tally_definitions_from_buffer(&f->d, fixture_definitions,
                                                   strlen(fixture_definitions), "d.yaml"),
                     0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    tally_definitions_free(f->d);
    tally_hierarchy_free(f->h);
    free(f);
    return 0;
}

/* A random long records file: mostly good rows in runs by region (as real
 * files come), with unknown codes and ids, bad periods and numbers, quoted
 * cells, CRLF, duplicates, blank lines and short rows mixed in. */
static size_t random_records(char *buf, size_t cap)
{
    static const char *const codes[] = { "430000000000", "430600000000", "430602000000",
                                         "430602001000", "430602001001", "430602001002",
                                         "430626000000", "430626100000", "430626100201",
                                         "430602001099", "43060200100" };
    static const char *const ids[] = { "poor", "exits", "pop", "trained", "income",
                                       "lowest", "highest", "reporting", "rate", "poors" };
    static const char *const periods[] = { "2019-01", "2019-02", "2019-Q1", "2019",
                                           "2019-13", "2018-12" };
    size_t n = (size_t)snprintf(buf, cap, "region_code,indicator,period,value\n");
    int rows = 20 + (int)rnd(60);
    size_t code = rnd(9);
    for (int r = 0; r < rows && n + 128 < cap; r++) {
        if (rnd(4) == 0)
            code = rnd(sizeof codes / sizeof codes[0]);
        const char *id = ids[rnd(sizeof ids / sizeof ids[0])];
        const char *per = periods[rnd(sizeof periods / sizeof periods[0])];
        char value[32];
        switch (rnd(8)) {
        case 0: value[0] = '\0'; break;
        case 1: snprintf(value, sizeof value, "%u.%02u", rnd(1000), rnd(100)); break;
        case 2: snprintf(value, sizeof value, "%s", rnd(2) ? "3人" : "1e400"); break;
        case 3: snprintf(value, sizeof value, "-%u", rnd(50)); break;
        case 4: {
            /* Digit strings around the fast number path's 15-digit limit,
             * with a sign, leading zeros, a point anywhere or spaces. */
            size_t len = 1 + rnd(20), k = 0;
            static const char extra[] = "-+. e";
            int plain_digits = (int)rnd(2);
            for (; k < len; k++)
                value[k] = plain_digits || rnd(6) ? (char)('0' + rnd(10)) : extra[rnd(5)];
            value[k] = '\0';
            break;
        }
        default: snprintf(value, sizeof value, "%u", rnd(100000)); break;
        }
        const char *eol = rnd(5) == 0 ? "\r\n" : "\n";
        switch (rnd(12)) {
        case 0:
            n += (size_t)snprintf(buf + n, cap - n, "\"%s\",%s,%s,\"%s\"%s", codes[code], id, per,
                                  value, eol);
            break;
        case 1: n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%s%s", codes[code], id, per, eol); break;
        case 2: n += (size_t)snprintf(buf + n, cap - n, "\n"); break;
        default:
            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%s,%s%s", codes[code], id, per, value,
                                  eol);
            break;
        }
    }
    return n;
}

typedef int (*reader)(tally_dataset *, const char *, size_t, const char *,
                      const tally_read_options *, tally_rejects *, tally_read_stats *);

/* The field size limit of the reads (0: the default). */
static size_t max_field_bytes;

static void read_with(const fx *f, reader read, const char *data, size_t size, int on_error,
                      tally_dataset **ds, tally_rejects **rej, tally_read_stats *st, int *rc,
                      tally_error *err)
{
    assert_int_equal(tally_dataset_new(ds, f->h, f->d), 0);
    assert_int_equal(tally_rejects_new(rej), 0);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.on_error = on_error;
    o.max_field_bytes = max_field_bytes;
    *rc = read(*ds, data, size, "r.csv", &o, *rej, st);
    *err = *tally_error_last();
}


/* The full reader against `other` on the same input. */
static void records_same_as(const fx *f, reader other, const char *data, size_t size,
                            int on_error)
{
    tally_dataset *da, *db;
    tally_rejects *ra, *rb;
    tally_read_stats sa, sb;
    int ca, cb;
    tally_error ea, eb;
    /* An exact copy on the heap: a read past the end is caught. */
    char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    memcpy(copy, data, size);
    data = copy;
    read_with(f, tally_dataset_read_buffer, data, size, on_error, &da, &ra, &sa, &ca, &ea);
    read_with(f, other, data, size, on_error, &db, &rb, &sb, &cb, &eb);
    assert_int_equal(ca, cb);
    if (ca) {
        assert_int_equal(ea.code, eb.code);
        assert_int_equal(ea.line, eb.line);
        assert_int_equal(ea.column, eb.column);
    }
    assert_int_equal(sa.rows_read, sb.rows_read);
    assert_int_equal(sa.rows_accepted, sb.rows_accepted);
    assert_int_equal(sa.rows_rejected, sb.rows_rejected);
    assert_int_equal(tally_rejects_count(ra), tally_rejects_count(rb));
    for (size_t i = 0; i < tally_rejects_count(ra); i++) {
        assert_int_equal(tally_rejects_line(ra, i), tally_rejects_line(rb, i));
        assert_int_equal(tally_rejects_column(ra, i), tally_rejects_column(rb, i));
        assert_int_equal(tally_rejects_code(ra, i), tally_rejects_code(rb, i));
        assert_string_equal(tally_rejects_reason(ra, i), tally_rejects_reason(rb, i));
        assert_string_equal(tally_rejects_row(ra, i), tally_rejects_row(rb, i));
    }
    assert_int_equal(tally_dataset_value_count(da), tally_dataset_value_count(db));
    assert_int_equal(tally_dataset__column_count(da), tally_dataset__column_count(db));
    size_t nodes = tally_hierarchy_size(f->h);
    for (size_t k = 0; k < tally_dataset__column_count(da); k++) {
        const tally_column *x = tally_dataset__column(da, k);
        const tally_column *y = tally_dataset__find_column(db, x->indicator, x->period);
        assert_non_null(y);
        /* Node by node: the two reads may hold different ranges of nodes. */
        for (size_t i = 0; i < nodes; i++) {
            assert_int_equal(tally_column__seen(x, i), tally_column__seen(y, i));
            assert_int_equal(tally_column__has(x, i), tally_column__has(y, i));
            if (tally_column__has(x, i)) {
                double vx = tally_column__get(x, i), vy = tally_column__get(y, i);
                assert_memory_equal(&vx, &vy, sizeof vx);
            }
        }
    }
    tally_rejects_free(ra);
    tally_rejects_free(rb);
    tally_dataset_free(da);
    tally_dataset_free(db);
    free(copy);
}

static void records_same(const fx *f, const char *data, size_t size, int on_error)
{
    records_same_as(f, tally_dataset__read_buffer_plain, data, size, on_error);
}

static void test_records_random(void **state)
{
    const fx *f = *state;
    static char buf[16384];
    rng_state = 2019;
    for (int round = 0; round < 1500; round++) {
        size_t n = random_records(buf, sizeof buf);
        max_field_bytes = 0;
        records_same(f, buf, n, TALLY_ON_ERROR_COLLECT);
        records_same(f, buf, n, TALLY_ON_ERROR_STOP);
        /* Limits the one-pass row path has to check as the general one does
         * (codes are 12 bytes, values up to 20); the plain path applies no
         * limits, so here the reference is the general row path. */
        max_field_bytes = 5 + rnd(16);
        records_same_as(f, tally_dataset__read_buffer_rows, buf, n, TALLY_ON_ERROR_COLLECT);
        records_same_as(f, tally_dataset__read_buffer_rows, buf, n, TALLY_ON_ERROR_STOP);
        max_field_bytes = 0;
    }
}

/* ---- records read by threads ------------------------------------------ */

/* A hierarchy of 1 + 2 + 4 + 8 + 320 = 335 regions with 12-digit codes
 * (villages 43CCKKTTTVVV), for files with many distinct cells. */
static char *wide_hierarchy(size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    n += (size_t)snprintf(b + n, cap - n, "code,name,level,parent_code\n430000000000,P,province,\n");
    for (int ci = 1; ci <= 2; ci++) {
        n += (size_t)snprintf(b + n, cap - n, "43%02d00000000,C,city,430000000000\n", ci);
        for (int k = 1; k <= 2; k++) {
            n += (size_t)snprintf(b + n, cap - n, "43%02d%02d000000,K,county,43%02d00000000\n", ci,
                                  k, ci);
            for (int t = 1; t <= 2; t++) {
                n += (size_t)snprintf(b + n, cap - n, "43%02d%02d%03d000,T,town,43%02d%02d000000\n",
                                      ci, k, t, ci, k);
                for (int v = 1; v <= 40; v++)
                    n += (size_t)snprintf(b + n, cap - n,
                                          "43%02d%02d%03d%03d,V,village,43%02d%02d%03d000\n", ci, k,
                                          t, v, ci, k, t);
            }
        }
    }
    *len = n;
    return b;
}

typedef struct gen {
    int wide;     /* region_code,period,<ids> */
    int note;     /* long, with a quoted note column (line breaks, quotes) */
    int dups;     /* some good rows again, near or far */
    int bad;      /* bad rows of every kind */
    int crlf;     /* 0 LF, 1 CRLF, 2 mixed */
    int order;    /* long: column order 0..2 */
    int bom;
} gen;

static const char *const gen_ids[] = { "poor", "exits", "pop", "trained", "income", "lowest" };

static void gen_value(char *v, size_t cap)
{
    switch (rnd(10)) {
    case 0: v[0] = '\0'; break;
    case 1: snprintf(v, cap, "%u.%02u", rnd(100000), rnd(100)); break;
    case 2: snprintf(v, cap, "-%u", rnd(5000)); break;
    case 3: snprintf(v, cap, "%u%u", rnd(1u << 30), rnd(1000000)); break;
    case 4: snprintf(v, cap, "0%u", rnd(100)); break;
    default: snprintf(v, cap, "%u", rnd(100000)); break;
    }
}

/* A records file over wide_hierarchy's villages (and a few other
 * regions), in runs by region as real files come. */
static size_t gen_records(char *buf, size_t cap, const gen *g)
{
    size_t n = 0;
    if (g->bom)
        n += (size_t)snprintf(buf + n, cap - n, "\xef\xbb\xbf");
    static const char *const heads[3] = { "region_code,indicator,period,value",
                                          "period,value,region_code,indicator",
                                          "indicator,region_code,value,period" };
    if (g->wide)
        n += (size_t)snprintf(buf + n, cap - n, "region_code,period,poor,exits,pop");
    else
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", heads[g->order],
                              g->note ? ",note" : "");
    n += (size_t)snprintf(buf + n, cap - n, "%s", g->crlf == 1 ? "\r\n" : "\n");
    static const char *const periods[] = { "2019-01", "2019-02", "2019-Q1", "2019" };
    size_t good_at[4096];
    size_t good_len[4096], ngood = 0;
    for (int ci = 1; ci <= 2; ci++)
        for (int k = 1; k <= 2; k++)
            for (int t = 1; t <= 2; t++)
                for (int v = 0; v <= 40; v++) {
                    if (n + 4096 > cap)
                        return n;
                    if (rnd(3) == 0) /* not every region reports */
                        continue;
                    char code[16];
                    snprintf(code, sizeof code, v ? "43%02d%02d%03d%03d" : "43%02d%02d%03d000", ci,
                             k, t, v);
                    const char *per = periods[rnd(4)];
                    int nrows = g->wide ? 1 + (int)rnd(2) : 1 + (int)rnd(6);
                    for (int r = 0; r < nrows; r++) {
                        const char *eol = g->crlf == 1 || (g->crlf == 2 && rnd(2)) ? "\r\n" : "\n";
                        size_t start = n;
                        if (g->bad && rnd(25) == 0) {
                            static const char *const bads[] = {
                                "439999999999,poor,2019-01,1", "430101001001,nosuch,2019-01,1",
                                "430101001001,poor,2019-13,1", "430101001001,poor,2019-01,3人",
                                "430101001001,poor,2019-01",   "430101001001,poor,2019-01,1,2",
                                "\"430101001001\"x,poor,2019-01,1", "430101001001,poor,2019-01,1e999",
                                "430101001001\tpoor\t2019-01\t1"
                            };
                            n += (size_t)snprintf(buf + n, cap - n, "%s%s", bads[rnd(9)], eol);
                            continue;
                        }
                        if (g->dups && ngood && rnd(40) == 0) {
                            size_t i = ngood - 1 - rnd(ngood < 8 || rnd(2) ? (uint32_t)ngood : 8);
                            memcpy(buf + n, buf + good_at[i], good_len[i]);
                            n += good_len[i];
                            continue;
                        }
                        if (rnd(60) == 0)
                            n += (size_t)snprintf(buf + n, cap - n, "%s", eol); /* blank */
                        start = n;
                        char val[64];
                        gen_value(val, sizeof val);
                        int q = rnd(15) == 0;
                        if (g->wide) {
                            char v2[64], v3[64];
                            gen_value(v2, sizeof v2);
                            gen_value(v3, sizeof v3);
                            n += (size_t)snprintf(buf + n, cap - n, "%s%s%s,%s,%s%s%s,%s,%s%s",
                                                  q ? "\"" : "", code, q ? "\"" : "",
                                                  r ? periods[(rnd(2) + 1) % 4] : per, q ? "\"" : "",
                                                  val, q ? "\"" : "", v2, v3, eol);
                        } else {
                            const char *id = gen_ids[(size_t)r % 6];
                            const char *qa = q ? "\"" : "";
                            switch (g->order) {
                            case 0:
                                n += (size_t)snprintf(buf + n, cap - n, "%s%s%s,%s,%s,%s", qa, code,
                                                      qa, id, per, val);
                                break;
                            case 1:
                                n += (size_t)snprintf(buf + n, cap - n, "%s,%s%s%s,%s,%s", per, qa,
                                                      val, qa, code, id);
                                break;
                            default:
                                n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%s,%s%s%s", id, code,
                                                      val, qa, per, qa);
                                break;
                            }
                            if (g->note) {
                                switch (rnd(4)) {
                                case 0:
                                    n += (size_t)snprintf(buf + n, cap - n,
                                                          ",\"two\nlines, \"\"quoted\"\"\r\nand three\"");
                                    break;
                                case 1: n += (size_t)snprintf(buf + n, cap - n, ",plain note"); break;
                                default: n += (size_t)snprintf(buf + n, cap - n, ","); break;
                                }
                            }
                            n += (size_t)snprintf(buf + n, cap - n, "%s", eol);
                        }
                        if (ngood < 4096) {
                            good_at[ngood] = start;
                            good_len[ngood++] = n - start;
                        }
                    }
                }
    return n;
}

typedef struct outcome {
    tally_dataset *ds;
    tally_rejects *rej;
    tally_read_stats st;
    int rc, joined;
    tally_error err;
    char message[1024], text[128];
    int has_text;
} outcome;

static void read_threads(const fx *f, outcome *o, const char *pre, size_t pre_size,
                         const char *data, size_t size, const tally_read_options *opts,
                         size_t threads, size_t piece)
{
    assert_int_equal(tally_dataset_new(&o->ds, f->h, f->d), 0);
    assert_int_equal(tally_rejects_new(&o->rej), 0);
    if (pre) {
        /* Values from an earlier file: a parallel read that is undone
         * must leave them as they were. */
        tally_read_options po = TALLY_READ_OPTIONS_INIT;
        po.on_error = TALLY_ON_ERROR_COLLECT;
        assert_int_equal(tally_dataset__read_buffer_threads(o->ds, pre, pre_size, "pre.csv", &po,
                                                            o->rej, NULL, 1, 0, NULL),
                         0);
    }
    tally_error_clear();
    o->rc = tally_dataset__read_buffer_threads(o->ds, data, size, "r.csv", opts, o->rej, &o->st,
                                               threads, piece, &o->joined);
    o->err = *tally_error_last();
    snprintf(o->message, sizeof o->message, "%s", o->err.message);
    o->has_text = o->err.text != NULL;
    snprintf(o->text, sizeof o->text, "%s", o->err.text ? o->err.text : "");
}

static void outcome_free(outcome *o)
{
    tally_rejects_free(o->rej);
    tally_dataset_free(o->ds);
}

/* Everything a read leaves: the code, the last error, the stats, every
 * rejected row, and the dataset column by column in its order, every bit
 * and every value's bits. */
static void outcomes_same(const fx *f, const outcome *a, const outcome *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->err.code, b->err.code);
    assert_int_equal(a->err.line, b->err.line);
    assert_int_equal(a->err.column, b->err.column);
    assert_string_equal(a->message, b->message);
    assert_int_equal(a->has_text, b->has_text);
    assert_string_equal(a->text, b->text);
    assert_int_equal(a->st.rows_read, b->st.rows_read);
    assert_int_equal(a->st.rows_accepted, b->st.rows_accepted);
    assert_int_equal(a->st.rows_rejected, b->st.rows_rejected);
    assert_int_equal(tally_rejects_count(a->rej), tally_rejects_count(b->rej));
    for (size_t i = 0; i < tally_rejects_count(a->rej); i++) {
        assert_string_equal(tally_rejects_path(a->rej, i), tally_rejects_path(b->rej, i));
        assert_int_equal(tally_rejects_line(a->rej, i), tally_rejects_line(b->rej, i));
        assert_int_equal(tally_rejects_column(a->rej, i), tally_rejects_column(b->rej, i));
        assert_int_equal(tally_rejects_code(a->rej, i), tally_rejects_code(b->rej, i));
        assert_string_equal(tally_rejects_reason(a->rej, i), tally_rejects_reason(b->rej, i));
        assert_string_equal(tally_rejects_row(a->rej, i), tally_rejects_row(b->rej, i));
    }
    assert_int_equal(tally_dataset_value_count(a->ds), tally_dataset_value_count(b->ds));
    assert_int_equal(tally_dataset__column_count(a->ds), tally_dataset__column_count(b->ds));
    size_t nodes = tally_hierarchy_size(f->h), words = (nodes + 63) / 64;
    for (size_t k = 0; k < tally_dataset__column_count(a->ds); k++) {
        const tally_column *x = tally_dataset__column(a->ds, k);
        const tally_column *y = tally_dataset__column(b->ds, k);
        assert_int_equal(x->indicator, y->indicator);
        assert_int_equal(x->period, y->period);
        /* Column by column, node by node: the two reads may hold
         * different ranges of nodes (a serial read grows its columns as
         * they fill). */
        (void)words;
        for (size_t node = 0; node < nodes; node++) {
            assert_int_equal(tally_column__seen(x, node), tally_column__seen(y, node));
            assert_int_equal(tally_column__has(x, node), tally_column__has(y, node));
            if (tally_column__has(x, node)) {
                double vx = tally_column__get(x, node), vy = tally_column__get(y, node);
                assert_memory_equal(&vx, &vy, sizeof vx);
            }
        }
        assert_ptr_equal(tally_dataset__find_column(b->ds, y->indicator, y->period), y);
    }
}

static int fx_wide_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    size_t len;
    char *h = wide_hierarchy(&len);
    assert_int_equal(tally_hierarchy_from_buffer(&f->h, h, len, "h.csv", NULL), 0);
    free(h);
    assert_int_equal(tally_definitions_from_buffer(&f->d, fixture_definitions,
                                                   strlen(fixture_definitions), "d.yaml"),
                     0);
    *state = f;
    return 0;
}

/* Files read by 2, 3 and 7 threads in pieces of every size, down to a row
 * each and up to more than the file, against the serial read: good rows,
 * bad rows in many pieces, duplicates near (in one piece) and far (across
 * pieces: the read is done again serially), quoted fields with line breaks
 * where a piece may be cut, CRLF, blank lines, a byte order mark, columns
 * in any order, the wide layout, stop and collect, limits, a declared
 * encoding, and a dataset with values from an earlier file. */
static void test_records_threads(void **state)
{
    const fx *f = *state;
    static char buf[1 << 18], pre[1 << 16];
    rng_state = 7;
    int joined = 0, redone = 0;
    for (int round = 0; round < 400; round++) {
        gen g = { rnd(5) == 0, 0, rnd(3) == 0, rnd(2) == 0, (int)rnd(3), (int)rnd(3), rnd(8) == 0 };
        g.note = !g.wide && rnd(4) == 0;
        size_t n = gen_records(buf, sizeof buf, &g);
        size_t npre = 0;
        if (rnd(4) == 0) {
            gen gp = { 0, 0, 0, 1, 0, 0, 0 };
            npre = gen_records(pre, sizeof pre, &gp);
        }
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.on_error = rnd(4) ? TALLY_ON_ERROR_COLLECT : TALLY_ON_ERROR_STOP;
        if (rnd(10) == 0)
            o.max_field_bytes = 8 + rnd(8);
        if (rnd(10) == 0)
            o.encoding = "gb18030"; /* ASCII and the byte order mark: converted first */
        /* An exact copy on the heap: a read past the end is caught. */
        char *data = malloc(n ? n : 1);
        assert_non_null(data);
        memcpy(data, buf, n);
        outcome one;
        read_threads(f, &one, npre ? pre : NULL, npre, data, n, &o, 1, 0);
        static const size_t threads[] = { 2, 3, 7 };
        for (int t = 0; t < 3; t++) {
            size_t piece;
            switch (rnd(4)) {
            case 0: piece = 1 + rnd(40); break; /* a row or two a piece */
            case 1: piece = n + 1; break;       /* a file smaller than a piece */
            default: piece = 1 + rnd((uint32_t)(n / 2 + 1)); break;
            }
            outcome more;
            read_threads(f, &more, npre ? pre : NULL, npre, data, n, &o, threads[t], piece);
            outcomes_same(f, &one, &more);
            if (more.joined)
                joined++;
            else
                redone++;
            outcome_free(&more);
        }
        outcome_free(&one);
        free(data);
    }
    /* Both ways were taken, often. */
    assert_true(joined > 300);
    assert_true(redone > 100);
}

/* Through the public reader, with the default pieces (a megabyte at
 * least): a 2.7 MB file read by one thread and by two. */
static void test_records_threads_public(void **state)
{
    const fx *f = *state;
    size_t cap = 4 << 20, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    rng_state = 3;
    n += (size_t)snprintf(buf, cap, "region_code,indicator,period,value\n");
    static const char *const periods[] = { "2019-01", "2019-02", "2019-03", "2019-04",
                                           "2019-05", "2019-06", "2019-07", "2019-08",
                                           "2019-09", "2019-10", "2019-11", "2019-12" };
    for (int y = 2000; y < 2016; y++)
        for (int p = 0; p < 12; p++)
            for (int ci = 1; ci <= 2; ci++)
                for (int v = 1; v <= 40; v++)
                    for (size_t i = 0; i < 6; i++) {
                        char val[64];
                        gen_value(val, sizeof val);
                        n += (size_t)snprintf(buf + n, cap - n, "4301%02d001%03d,%s,%d%s,%s\n",
                                              ci, v, gen_ids[i], y, periods[p] + 4, val);
                        if (rnd(5000) == 0)
                            n += (size_t)snprintf(buf + n, cap - n, "430101001001,poor,x,1\n");
                    }
    outcome r[2];
    for (int t = 0; t < 2; t++) {
        assert_int_equal(tally_dataset_new(&r[t].ds, f->h, f->d), 0);
        assert_int_equal(tally_rejects_new(&r[t].rej), 0);
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.on_error = TALLY_ON_ERROR_COLLECT;
        o.threads = t ? 2 : 1;
        tally_error_clear();
        r[t].rc = tally_dataset_read_buffer(r[t].ds, buf, n, "big.csv", &o, r[t].rej, &r[t].st);
        r[t].err = *tally_error_last();
        snprintf(r[t].message, sizeof r[t].message, "%s", r[t].err.message);
        r[t].has_text = r[t].err.text != NULL;
        snprintf(r[t].text, sizeof r[t].text, "%s", r[t].err.text ? r[t].err.text : "");
    }
    assert_int_equal(r[0].rc, 0);
    assert_true(r[0].st.rows_rejected > 0);
    assert_true(n > (2u << 20)); /* two pieces at least */
    /* 16 years of 12 months, 6 indicators: 1152 columns. */
    assert_int_equal(tally_dataset__column_count(r[0].ds), 1152);
    outcomes_same(f, &r[0], &r[1]);
    for (int t = 0; t < 2; t++)
        outcome_free(&r[t]);
    free(buf);
}

/* ---- numbers written ---------------------------------------------------- */


/* The writer's whole-number path against tally_number_format, on whole
 * numbers of every magnitude (around its 10^14 limit too), halves, and
 * negative zero, for every number of decimals. */
static void test_export_numbers(void **state)
{
    (void)state;
    rng_state = 1e14;
    for (int round = 0; round < 200000; round++) {
        int decimals = (int)rnd(16);
        double v;
        switch (rnd(5)) {
        case 0: v = (double)rnd(1000); break;
        case 1: v = ldexp((double)rnd(1u << 30) + rnd(2) * 0.5, (int)rnd(40)); break;
        case 2: v = floor(pow(10, rnd(170) / 10.0)) + (double)rnd(3) - 1; break;
        case 3: v = -0.0; break;
        default: v = (double)rnd(1u << 31) * (double)rnd(1u << 22); break;
        }
        if (rnd(2))
            v = -v;
        char a[64], b[64];
        int na = tally_export__number(a, sizeof a, v, decimals);
        int nb = tally_number_format(b, sizeof b, v, decimals);
        assert_int_equal(na, nb);
        if (nb >= 0)
            assert_string_equal(a, b);
    }
}

/* ---- records with category columns ------------------------------------ */

static const char category_definitions[] =
    "categories:\n"
    "  - id: cause\n"
    "    exclusive: true\n"
    "    options: [illness, disability, education, labour, other_causes]\n"
    "  - id: sex\n"
    "    exclusive: true\n"
    "    options: [male, female]\n"
    "indicators:\n"
    "  - { id: poor, over_time: stock, by: [cause] }\n"
    "  - { id: pop, over_time: stock, by: [cause, sex] }\n"
    "  - { id: exits, over_time: flow }\n"
    "  - { id: trained, over_time: cumulative, by: [sex] }\n";

static int fx_category_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    size_t len;
    char *h = wide_hierarchy(&len);
    assert_int_equal(tally_hierarchy_from_buffer(&f->h, h, len, "h.csv", NULL), 0);
    free(h);
    assert_int_equal(tally_definitions_from_buffer(&f->d, category_definitions,
                                                   strlen(category_definitions), "d.yaml"),
                     0);
    *state = f;
    return 0;
}

/* A long file with cause and sex columns over wide_hierarchy's villages,
 * in runs by region cycling through indicators and options as real files
 * come, with every row the category mapping refuses mixed in: an unknown
 * option, an option for an indicator not broken down by the category, an
 * option beside an id that names its options already; and duplicates,
 * bad values, quoted cells and CRLF. `order` permutes the columns; `bad`
 * and `dups` ask for bad rows and duplicates. */
static size_t category_records(char *buf, size_t cap, int order, int bad, int dups)
{
    static const char *const heads[3] = { "region_code,indicator,cause,sex,period,value",
                                          "cause,period,region_code,value,sex,indicator",
                                          "indicator,sex,value,region_code,cause,period" };
    static const char *const causes[] = { "", "illness", "disability", "education", "labour",
                                          "other_causes" };
    static const char *const sexes[] = { "", "male", "female" };
    static const char *const periods[] = { "2019-01", "2019-02", "2019" };
    size_t n = (size_t)snprintf(buf, cap, "%s\n", heads[order]);
    size_t good_at[2048], good_len[2048], ngood = 0;
    for (int ci = 1; ci <= 2; ci++)
        for (int k = 1; k <= 2; k++)
            for (int t = 1; t <= 2; t++)
                for (int v = 1; v <= 40; v++) {
                    if (n + 4096 > cap)
                        return n;
                    if (rnd(4) == 0)
                        continue;
                    char code[16];
                    snprintf(code, sizeof code, "43%02d%02d%03d%03d", ci, k, t, v);
                    const char *per = periods[rnd(3)];
                    /* (indicator, cause, sex) for every slot of the
                     * indicators, in declared order. */
                    for (int r = 0; r < 6 + 18 + 1 + 3; r++) {
                        const char *id, *cause = "", *sex = "";
                        if (r < 6) {
                            id = "poor";
                            cause = causes[r];
                        } else if (r < 24) {
                            id = "pop";
                            cause = causes[(r - 6) / 3];
                            sex = sexes[(r - 6) % 3];
                        } else if (r == 24) {
                            id = "exits";
                        } else {
                            id = "trained";
                            sex = sexes[r - 25];
                        }
                        if (rnd(6) == 0)
                            continue; /* not every option reported */
                        char val[64];
                        gen_value(val, sizeof val);
                        const char *eol = rnd(8) == 0 ? "\r\n" : "\n";
                        const char *qa = rnd(30) == 0 ? "\"" : "";
                        if (bad && rnd(12) == 0) {
                            switch (rnd(6)) {
                            case 0: cause = "illnes"; break;                 /* unknown option */
                            case 1: id = "exits"; cause = "illness"; break;  /* not by cause */
                            case 2: id = "poor"; sex = "male"; break;        /* not by sex */
                            case 3: id = "poor[cause=illness]"; cause = "labour"; break;
                            case 4: snprintf(val, sizeof val, "7 people"); break;
                            default: id = "pop[cause=illness,sex=male]"; cause = sex = ""; break;
                            }
                        }
                        if (dups && ngood && rnd(60) == 0) {
                            size_t i = ngood - 1 - rnd(ngood < 8 ? (uint32_t)ngood : 8);
                            memcpy(buf + n, buf + good_at[i], good_len[i]);
                            n += good_len[i];
                            continue;
                        }
                        size_t start = n;
                        switch (order) {
                        case 0:
                            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%s%s%s,%s,%s,%s%s", code,
                                                  id, qa, cause, qa, sex, per, val, eol);
                            break;
                        case 1:
                            n += (size_t)snprintf(buf + n, cap - n, "%s%s%s,%s,%s,%s,%s,%s%s", qa,
                                                  cause, qa, per, code, val, sex, id, eol);
                            break;
                        default:
                            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%s,%s,%s,%s%s", id, sex,
                                                  val, code, cause, per, eol);
                            break;
                        }
                        if (ngood < 2048) {
                            good_at[ngood] = start;
                            good_len[ngood++] = n - start;
                        }
                    }
                }
    return n;
}

/* The one-pass and the parallel reader on long files with category
 * columns, against the plain reader, the general row reader and one
 * thread: the same slots, values, stats, rejected rows and messages. */
static void test_records_categories(void **state)
{
    const fx *f = *state;
    static char buf[1 << 18];
    rng_state = 19;
    int joined = 0;
    for (int round = 0; round < 60; round++) {
        int order = (int)rnd(3), bad = rnd(3) != 0, dups = rnd(3) == 0;
        size_t n = category_records(buf, sizeof buf, order, bad, dups);
        max_field_bytes = 0;
        records_same(f, buf, n, TALLY_ON_ERROR_COLLECT);
        records_same(f, buf, n, TALLY_ON_ERROR_STOP);
        records_same_as(f, tally_dataset__read_buffer_rows, buf, n, TALLY_ON_ERROR_COLLECT);
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.on_error = rnd(4) ? TALLY_ON_ERROR_COLLECT : TALLY_ON_ERROR_STOP;
        char *data = malloc(n);
        assert_non_null(data);
        memcpy(data, buf, n);
        outcome one, more;
        read_threads(f, &one, NULL, 0, data, n, &o, 1, 0);
        read_threads(f, &more, NULL, 0, data, n, &o, 2 + rnd(2), 1 + rnd((uint32_t)(n / 3)));
        outcomes_same(f, &one, &more);
        joined += more.joined;
        outcome_free(&one);
        outcome_free(&more);
        free(data);
    }
    assert_true(joined > 20);
}

/* Rows whose values say their slot: in region v, 100 v + c for poor
 * with cause c (0: the total, 1..5 the options in declared order) and
 * 1000 v + 10 c + x for pop with cause c and sex x (0: the total), every
 * slot given. Each value is found in the slot its id names. Regions after
 * the first few are read by the one-pass reader (a region past a column's
 * range takes the general path, which grows the column). */
static void test_records_categories_slots(void **state)
{
    const fx *f = *state;
    static const char *const causes[] = { "", "illness", "disability", "education", "labour",
                                          "other_causes" };
    static const char *const sexes[] = { "", "male", "female" };
    static char buf[1 << 16];
    size_t n = (size_t)snprintf(buf, sizeof buf, "region_code,indicator,cause,sex,period,value\n");
    for (int v = 1; v <= 30; v++) {
        for (int c = 0; c < 6; c++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "430101001%03d,poor,%s,,2019-01,%d\n",
                                  v, causes[c], 100 * v + c);
        for (int c = 0; c < 6; c++)
            for (int x = 0; x < 3; x++)
                n += (size_t)snprintf(buf + n, sizeof buf - n,
                                      "430101001%03d,pop,%s,%s,2019-01,%d\n", v, causes[c],
                                      sexes[x], 1000 * v + 10 * c + x);
    }
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f->h, f->d), 0);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.threads = 1;
    assert_int_equal(tally_dataset_read_buffer(ds, buf, n, "r.csv", &o, NULL, NULL), 0);
    assert_int_equal(tally_dataset_value_count(ds), 30 * 24);
    int32_t key;
    assert_int_equal(tally_period__parse("2019-01", 7, &key), 0);
    for (int c = 0; c < 6; c++) {
        for (int x = -1; x < 3; x++) { /* -1: poor, else pop */
            char id[64];
            if (x < 0)
                snprintf(id, sizeof id, c ? "poor[cause=%s]" : "poor", causes[c]);
            else if (c && x)
                snprintf(id, sizeof id, "pop[cause=%s,sex=%s]", causes[c], sexes[x]);
            else if (c)
                snprintf(id, sizeof id, "pop[cause=%s]", causes[c]);
            else if (x)
                snprintf(id, sizeof id, "pop[sex=%s]", sexes[x]);
            else
                snprintf(id, sizeof id, "pop");
            size_t ind;
            assert_int_equal(tally_definitions_find(f->d, id, strlen(id), &ind), 0);
            const tally_column *col = tally_dataset__find_column(ds, ind, key);
            assert_non_null(col);
            for (int v = 1; v <= 30; v++) {
                char code[16];
                size_t node;
                snprintf(code, sizeof code, "430101001%03d", v);
                assert_int_equal(tally_hierarchy_find(f->h, code, strlen(code), &node), 0);
                assert_true(tally_column__has(col, node));
                double want = x < 0 ? 100 * v + c : 1000 * v + 10 * c + x;
                assert_true(tally_column__get(col, node) == want);
            }
        }
    }
    tally_dataset_free(ds);
}

/* ---- rollup threads ---------------------------------------------------- */

static void test_rollup_threads(void **state)
{
    const fx *f = *state;
    static char buf[16384];
    rng_state = 665271;
    static const char *const periods[] = { "2019-01", "2019-Q1", "2019" };
    for (int round = 0; round < 300; round++) {
        size_t n = random_records(buf, sizeof buf);
        tally_dataset *ds;
        assert_int_equal(tally_dataset_new(&ds, f->h, f->d), 0);
        tally_rejects *rej;
        assert_int_equal(tally_rejects_new(&rej), 0);
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.on_error = TALLY_ON_ERROR_COLLECT;
        assert_int_equal(tally_dataset_read_buffer(ds, buf, n, "r.csv", &o, rej, NULL), 0);
        tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
        ro.prefer = (int)rnd(2);
        ro.compare = (int)rnd(3);
        if (rnd(2)) {
            ro.periods = periods;
            ro.period_count = 3;
        }
        tally_result *one, *more;
        assert_int_equal(tally_rollup__threads(&one, ds, &ro, 1), 0);
        assert_int_equal(tally_rollup__threads(&more, ds, &ro, 2 + rnd(3)), 0);
        size_t nodes = tally_hierarchy_size(f->h), nind = tally_definitions_indicator_count(f->d);
        assert_int_equal(tally_result_period_count(one), tally_result_period_count(more));
        for (size_t p = 0; p < tally_result_period_count(one); p++) {
            for (size_t i = 0; i < nind; i++) {
                for (size_t k = 0; k < nodes; k++) {
                    double a[4], b[4];
                    int pa, pb;
                    assert_int_equal(tally_result_value(one, k, i, p, &a[0], &pa), 0);
                    assert_int_equal(tally_result_value(more, k, i, p, &b[0], &pb), 0);
                    assert_int_equal(tally_result_sides(one, k, i, p, &a[1], &a[2]), 0);
                    assert_int_equal(tally_result_sides(more, k, i, p, &b[1], &b[2]), 0);
                    assert_int_equal(tally_result_previous(one, k, i, p, &a[3], &pa), 0);
                    assert_int_equal(tally_result_previous(more, k, i, p, &b[3], &pb), 0);
                    for (int s = 0; s < 4; s++) {
                        assert_int_equal(isnan(a[s]), isnan(b[s]));
                        if (!isnan(a[s]))
                            assert_memory_equal(&a[s], &b[s], sizeof(double));
                    }
                }
            }
        }
        tally_result_free(one);
        tally_result_free(more);
        tally_rejects_free(rej);
        tally_dataset_free(ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_random),
        cmocka_unit_test(test_csv_edges),
        cmocka_unit_test_setup_teardown(test_records_random, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollup_threads, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_records_threads, fx_wide_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_records_threads_public, fx_wide_setup, fx_teardown),
        cmocka_unit_test(test_export_numbers),
        cmocka_unit_test_setup_teardown(test_records_categories, fx_category_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_records_categories_slots, fx_category_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
