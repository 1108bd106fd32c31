/* The households reader with several threads: a small input cut into
 * pieces of a few hundred bytes (so that duplicates, bad rows, blank
 * lines, empty rows, CRLF endings and quoted line breaks fall in and
 * across pieces) must give exactly what the one-thread read gives: the
 * same store, byte for byte (households in the same order, their values,
 * ids, lines and files), the same stats, the same rejected rows in file
 * order with their lines, columns and reasons, and the same last error;
 * in stop mode the same first bad row.
 *
 * The reference is the one-thread read, which tests/test-poverty.c checks
 * row by row against hand-worked values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "fixtures.h"
#include "households.h"
#include "rejects.h"

static const char *const regions[] = {
    "430602001001", "430602001002", "430626100201", "430626100000", "430602001000",
};

static uint64_t state = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state % n);
}

/* A households file of `rows` rows, with a few of every kind of row the
 * general path reads: a duplicate of an id far before (in another piece),
 * bad values, an unknown region, a blank line, ",,,,,", a quoted id with a
 * line break, CRLF endings (bad: 0 for none of the bad rows); in every
 * file, quoted ids whose lines look like rows. Returns its length. */
static size_t make_file(char *buf, size_t cap, size_t rows, int crlf, int bad)
{
    size_t n = (size_t)snprintf(buf, cap, "household_id,region_code,size,income_per_capita,"
                                          "weight,year%s",
                                crlf ? "\r\n" : "\n");
    for (size_t i = 0; i < rows && n + 200 < cap; i++) {
        const char *eol = crlf && rnd(3) == 0 ? "\r\n" : "\n";
        char id[64];
        snprintf(id, sizeof id, "H%zu-%02u", i / 7, (unsigned)(i % 7));
        unsigned kind = bad ? rnd(40) : 99;
        if (rnd(60) == 0) {
            /* A quoted id whose lines look like rows (one with an unknown
             * region): a piece cut inside it must not take them for rows. */
            n += (size_t)snprintf(buf + n, cap - n,
                                  "\"Q%zu\nX%zu,430602001001,3,100.00,1,2019\n"
                                  "Y%zu,430626115299,3,100.00,1,2019\nZ%zu\",%s,2,5.00,1,2019%s",
                                  i, i, i, i, regions[rnd(5)], eol);
            continue;
        }
        const char *region = regions[rnd(5)];
        unsigned size = 1 + rnd(8);
        double income = rnd(4) == 0 ? 0.0 : rnd(3000000) / 100.0;
        unsigned weight = 1 + rnd(50);
        unsigned year = rnd(10) == 0 ? 2020 : 2019;
        switch (kind) {
        case 0: /* a duplicate of an earlier id, usually in another piece */
            if (i > 10)
                snprintf(id, sizeof id, "H%zu-%02u", (size_t)rnd((unsigned)(i / 7)), 0u);
            year = 2019;
            break;
        case 1: size = 0; break;
        case 2: region = "430626115299"; break;
        case 3: n += (size_t)snprintf(buf + n, cap - n, "%s", eol); break;
        case 4: n += (size_t)snprintf(buf + n, cap - n, ",,,,,%s", eol); break;
        case 5: /* a quoted id with a line break: a cut may fall inside it */
            n += (size_t)snprintf(buf + n, cap - n, "\"Q%zu\n%s\",%s,%u,%.2f,%u,%u%s", i,
                                  rnd(2) ? "second line" : "", region, size, income, weight,
                                  year, eol);
            continue;
        case 6:
            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%u,3千,%u,%u%s", id, region, size,
                                  weight, year, eol);
            continue;
        case 7:
            n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%u,%.2f,%u%s", id, region, size,
                                  income, weight, eol); /* a field short */
            continue;
        default: break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s,%s,%u,%.2f,%u,%u%s", id, region, size, income,
                              weight, year, eol);
    }
    return n;
}

typedef struct outcome {
    tally_households *hh;
    tally_rejects *rej;
    tally_read_stats st;
    int rc;
    size_t ahead;
    char message[1024];
} outcome;

static void read_with(const tally_hierarchy *h, const char *data, size_t size, int collect,
                      size_t threads, size_t piece, outcome *o)
{
    memset(o, 0, sizeof *o);
    assert_int_equal(tally_households_new(&o->hh, h), 0);
    assert_int_equal(tally_rejects_new(&o->rej), 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = collect ? TALLY_ON_ERROR_COLLECT : TALLY_ON_ERROR_STOP;
    tally_error_clear();
    o->rc = tally_households__read_buffer_threads(o->hh, data, size, "h.csv", &opts, o->rej,
                                                  &o->st, threads, piece, &o->ahead);
    snprintf(o->message, sizeof o->message, "%s", tally_error_last()->message);
}

static void outcome_free(outcome *o)
{
    tally_households_free(o->hh);
    tally_rejects_free(o->rej);
}

#define SAME_ARRAY(a, b, n) assert_memory_equal((a), (b), (n) * sizeof *(a))

static void assert_same(const outcome *x, const outcome *y)
{
    assert_int_equal(x->rc, y->rc);
    assert_string_equal(x->message, y->message);
    assert_int_equal(x->st.rows_read, y->st.rows_read);
    assert_int_equal(x->st.rows_accepted, y->st.rows_accepted);
    assert_int_equal(x->st.rows_rejected, y->st.rows_rejected);
    const tally_households *a = x->hh, *b = y->hh;
    size_t n = a->count;
    assert_int_equal(n, b->count);
    if (n) {
        SAME_ARRAY(a->income, b->income, n);
        SAME_ARRAY(a->pw, b->pw, n);
        SAME_ARRAY(a->node, b->node, n);
        SAME_ARRAY(a->year, b->year, n);
        SAME_ARRAY(a->line_step, b->line_step, n);
        SAME_ARRAY(a->line_base, b->line_base, (n - 1) / TALLY_HOUSEHOLDS__LINE_BLOCK + 1);
        SAME_ARRAY(a->id_block, b->id_block, (n - 1) / TALLY_HOUSEHOLDS__ID_BLOCK + 1);
    }
    assert_int_equal(a->nfar, b->nfar);
    if (a->nfar)
        SAME_ARRAY(a->far, b->far, a->nfar);
    assert_int_equal(a->nruns, b->nruns);
    for (size_t i = 0; i < a->nruns; i++) { /* fields: a run has padding */
        assert_int_equal(a->runs[i].first, b->runs[i].first);
        assert_int_equal(a->runs[i].path, b->runs[i].path);
    }
    assert_int_equal(a->ids_len, b->ids_len);
    if (a->ids_len)
        SAME_ARRAY(a->ids, b->ids, a->ids_len);
    const tally_rejects *r = x->rej, *s = y->rej;
    assert_int_equal(r->count, s->count);
    assert_int_equal(r->empty_rows, s->empty_rows);
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(r->items[i].line, s->items[i].line);
        assert_int_equal(r->items[i].column, s->items[i].column);
        assert_int_equal(r->items[i].code, s->items[i].code);
        assert_string_equal(r->items[i].reason, s->items[i].reason);
        assert_string_equal(r->items[i].row ? r->items[i].row : "",
                            s->items[i].row ? s->items[i].row : "");
    }
}

/* Every kind of row, in collect and stop mode, with 2 to 4 threads and
 * pieces from a line to several kilobytes, against the one-thread read. */
static void test_parallel_read_is_the_serial_read(void **st)
{
    (void)st;
    tally_hierarchy *h;
    assert_int_equal(tally_hierarchy_from_buffer(&h, fixture_hierarchy,
                                                 sizeof fixture_hierarchy - 1, "hierarchy.csv",
                                                 NULL),
                     0);
    size_t cap = (size_t)4 << 20;
    char *buf = malloc(cap);
    assert_non_null(buf);
    static const size_t pieces[] = { 1, 97, 300, 1000, 4096, 30000 };
    size_t checked = 0, ahead = 0, with_dups = 0;
    for (int variant = 0; variant < 6; variant++) {
        int crlf = variant & 1, bad = variant >= 2;
        size_t rows = variant < 4 ? 3000 : 20000;
        size_t n = make_file(buf, cap, rows, crlf, bad);
        for (int collect = 0; collect <= 1; collect++) {
            outcome ref;
            read_with(h, buf, n, collect, 1, 0, &ref);
            assert_int_equal(ref.ahead, 0);
            if (bad && collect) {
                assert_true(ref.st.rows_rejected > 10);
                for (size_t i = 0; i < ref.rej->count; i++)
                    with_dups += ref.rej->items[i].code == TALLY_EEXIST;
            }
            for (size_t t = 2; t <= 4; t++)
                for (size_t k = 0; k < sizeof pieces / sizeof *pieces; k++) {
                    outcome par;
                    read_with(h, buf, n, collect, t, pieces[k], &par);
                    assert_same(&ref, &par);
                    ahead += par.ahead;
                    checked++;
                    outcome_free(&par);
                }
            outcome_free(&ref);
        }
    }
    /* The reads were parallel, and the files had duplicates to find. */
    assert_int_equal(checked, 6 * 2 * 3 * 6);
    assert_true(ahead > 100000);
    assert_true(with_dups > 20);
    free(buf);
    tally_hierarchy_free(h);
}

/* A second file: its duplicates of the first file's households, found by
 * the parallel read, name the first file's line. */
static void test_parallel_second_file(void **st)
{
    (void)st;
    tally_hierarchy *h;
    assert_int_equal(tally_hierarchy_from_buffer(&h, fixture_hierarchy,
                                                 sizeof fixture_hierarchy - 1, "hierarchy.csv",
                                                 NULL),
                     0);
    size_t cap = (size_t)1 << 20;
    char *one = malloc(cap), *two = malloc(cap);
    assert_non_null(one);
    assert_non_null(two);
    state = 7;
    size_t n1 = make_file(one, cap, 2000, 0, 0);
    state = 7; /* the same ids again, with other lines and bad rows between */
    size_t n2 = make_file(two, cap, 2500, 1, 1);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    outcome o[2];
    for (int i = 0; i < 2; i++) {
        memset(&o[i], 0, sizeof o[i]);
        assert_int_equal(tally_households_new(&o[i].hh, h), 0);
        assert_int_equal(tally_rejects_new(&o[i].rej), 0);
        size_t threads = i ? 3 : 1, piece = i ? 200 : 0;
        assert_int_equal(tally_households__read_buffer_threads(o[i].hh, one, n1, "one.csv", &opts,
                                                               o[i].rej, NULL, threads, piece,
                                                               NULL),
                         0);
        tally_error_clear();
        o[i].rc = tally_households__read_buffer_threads(o[i].hh, two, n2, "two.csv", &opts,
                                                        o[i].rej, &o[i].st, threads, piece,
                                                        &o[i].ahead);
        snprintf(o[i].message, sizeof o[i].message, "%s", tally_error_last()->message);
    }
    assert_true(o[1].ahead > 0);
    assert_same(&o[0], &o[1]);
    /* Most of the second file's households are duplicates of the first's. */
    size_t dups = 0;
    for (size_t i = 0; i < o[1].rej->count; i++)
        dups += strstr(o[1].rej->items[i].reason, "first at one.csv:") != NULL;
    assert_true(dups > 1000);
    for (int i = 0; i < 2; i++)
        outcome_free(&o[i]);
    free(one);
    free(two);
    tally_hierarchy_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_read_is_the_serial_read),
        cmocka_unit_test(test_parallel_second_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
