/* Partials: the rows of the 岳阳 records and households files dealt into k
 * parts at random (a region's months, and a ratio's numerator and
 * denominator, land in different parts), each part read on its own, made
 * a partial, saved to bytes and loaded back, merged in several orders and
 * trees, and finished. The expectation is what one process gives reading
 * the same part files in order into one dataset (or one households store),
 * written by the same writer: the two outputs must be the same bytes. The
 * one-process path uses no partial code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <tally.h>

#define MAX_PARTS 8

static char *slurp(const char *name, size_t *len)
{
    char path[1024];
    const char *root = getenv("TALLY_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/examples/data/%s", root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The rows of a CSV text (after its header), as pointers to line starts. */
typedef struct rows {
    char *text;
    size_t header_len;
    const char **line;
    size_t *len;
    size_t n;
} rows;

static rows split_rows(const char *name)
{
    rows r;
    size_t n;
    r.text = slurp(name, &n);
    r.line = malloc(n * sizeof *r.line);
    r.len = malloc(n * sizeof *r.len);
    r.n = 0;
    char *p = strchr(r.text, '\n') + 1;
    r.header_len = (size_t)(p - r.text);
    while (*p) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) + 1 : strlen(p);
        r.line[r.n] = p;
        r.len[r.n++] = l;
        p += l;
    }
    return r;
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

/* Parts as CSV texts: row i goes to part part_of[i]. An extra row may be
 * appended to a part (a duplicate of another part's cell). */
typedef struct parts {
    char *text[MAX_PARTS];
    size_t len[MAX_PARTS];
    size_t k;
} parts;

static parts deal(const rows *r, size_t k, const uint32_t *part_of, const char *extra,
                  size_t extra_part)
{
    parts ps;
    ps.k = k;
    size_t total = 0;
    for (size_t i = 0; i < r->n; i++)
        total += r->len[i];
    for (size_t p = 0; p < k; p++) {
        ps.text[p] = malloc(r->header_len + total + 256);
        memcpy(ps.text[p], r->text, r->header_len);
        ps.len[p] = r->header_len;
    }
    for (size_t i = 0; i < r->n; i++) {
        size_t p = part_of[i];
        memcpy(ps.text[p] + ps.len[p], r->line[i], r->len[i]);
        ps.len[p] += r->len[i];
    }
    if (extra) {
        memcpy(ps.text[extra_part] + ps.len[extra_part], extra, strlen(extra));
        ps.len[extra_part] += strlen(extra);
    }
    return ps;
}

static void free_parts(parts *ps)
{
    for (size_t p = 0; p < ps->k; p++)
        free(ps->text[p]);
}

static char *file_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void assert_same_files(const char *a, const char *b)
{
    size_t na, nb;
    char *x = file_bytes(a, &na), *y = file_bytes(b, &nb);
    if (na != nb || memcmp(x, y, na)) {
        size_t i = 0;
        while (i < na && i < nb && x[i] == y[i])
            i++;
        fail_msg("%s and %s differ at byte %zu (sizes %zu, %zu): ...%.80s... vs ...%.80s...", a,
                 b, i, na, nb, x + (i > 40 ? i - 40 : 0), y + (i > 40 ? i - 40 : 0));
    }
    free(x);
    free(y);
}

/* A partial through its bytes, as a worker sends it. */
static tally_partial *through_bytes(tally_partial *p, const tally_hierarchy *h,
                                    const tally_definitions *d)
{
    void *buf;
    size_t n;
    assert_int_equal(tally_partial_save_buffer(p, &buf, &n), 0);
    tally_partial *q;
    assert_int_equal(tally_partial_load_buffer(&q, buf, n, h, d), 0);
    tally_free(buf);
    tally_partial_free(p);
    return q;
}

/* Merges the k partials in one of several shapes; frees all but the
 * returned one. 0: left fold in order; 1: right fold from the last; 2:
 * random pairs until one is left. */
static tally_partial *merge_all(tally_partial **ps, size_t k, int shape,
                                const tally_hierarchy *h, const tally_definitions *d)
{
    tally_partial *list[MAX_PARTS];
    memcpy(list, ps, k * sizeof *list);
    size_t n = k;
    while (n > 1) {
        size_t a, b;
        if (shape == 0) {
            a = 0;
            b = 1;
        } else if (shape == 1) {
            a = n - 1;
            b = n - 2;
        } else {
            a = rnd((uint32_t)n);
            do
                b = rnd((uint32_t)n);
            while (b == a);
        }
        assert_int_equal(tally_partial_merge(list[a], list[b]), 0);
        list[a] = through_bytes(list[a], h, d);
        tally_partial_free(list[b]);
        list[b] = list[n - 1];
        n--;
    }
    return list[0];
}

typedef struct model {
    tally_hierarchy *h;
    tally_definitions *d;
} model;

static model load_model(void)
{
    model m;
    size_t n;
    char *yaml = slurp("yueyang.yaml", &n);
    assert_int_equal(tally_definitions_from_buffer(&m.d, yaml, n, "yueyang.yaml"), 0);
    free(yaml);
    char *csv = slurp("yueyang-hierarchy.csv", &n);
    tally_hierarchy_options o = TALLY_HIERARCHY_OPTIONS_INIT;
    o.definitions = m.d;
    assert_int_equal(tally_hierarchy_from_buffer(&m.h, csv, n, "yueyang-hierarchy.csv", &o), 0);
    free(csv);
    return m;
}

static void read_collect(tally_dataset *ds, const parts *ps, size_t p, tally_rejects *rj)
{
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.on_error = TALLY_ON_ERROR_COLLECT;
    char name[32];
    snprintf(name, sizeof name, "part%zu.csv", p);
    assert_int_equal(tally_dataset_read_buffer(ds, ps->text[p], ps->len[p], name, &ro, rj, NULL),
                     0);
}

/* One process: every part read in order into one dataset. */
static void one_process(const model *m, const parts *ps, const tally_rollup_options *ro,
                        const char *out, size_t *rejected)
{
    tally_dataset *ds;
    tally_rejects *rj;
    assert_int_equal(tally_dataset_new(&ds, m->h, m->d), 0);
    assert_int_equal(tally_rejects_new(&rj), 0);
    for (size_t p = 0; p < ps->k; p++)
        read_collect(ds, ps, p, rj);
    *rejected = tally_rejects_count(rj);
    tally_result *r;
    assert_int_equal(tally_rollup(&r, ds, ro), 0);
    assert_int_equal(tally_result_write(r, out, NULL), 0);
    tally_result_free(r);
    tally_rejects_free(rj);
    tally_dataset_free(ds);
}

static void by_partials(const model *m, const parts *ps, const tally_rollup_options *ro,
                        int shape, const char *out, size_t *duplicates)
{
    tally_partial *list[MAX_PARTS];
    for (size_t p = 0; p < ps->k; p++) {
        tally_dataset *ds;
        tally_rejects *rj;
        assert_int_equal(tally_dataset_new(&ds, m->h, m->d), 0);
        assert_int_equal(tally_rejects_new(&rj), 0);
        read_collect(ds, ps, p, rj);
        assert_int_equal(tally_rejects_count(rj), 0);
        assert_int_equal(tally_partial_from_dataset(&list[p], ds, (uint32_t)p), 0);
        list[p] = through_bytes(list[p], m->h, m->d);
        tally_rejects_free(rj);
        tally_dataset_free(ds);
    }
    tally_partial *all = merge_all(list, ps->k, shape, m->h, m->d);
    tally_rejects *dups;
    assert_int_equal(tally_rejects_new(&dups), 0);
    tally_result *r;
    assert_int_equal(tally_partial_rollup(&r, all, ro, dups), 0);
    assert_int_equal(tally_result_write(r, out, NULL), 0);
    *duplicates = tally_rejects_count(dups);
    assert_int_equal(*duplicates, tally_partial_duplicate_count(all));
    tally_rejects_free(dups);
    tally_result_free(r);
    tally_partial_free(all);
}

static void test_partial__records_any_partition(void **state)
{
    (void)state;
    model m = load_model();
    rows r = split_rows("yueyang-2019.csv");
    uint32_t *part_of = malloc(r.n * sizeof *part_of);
    static const size_t ks[] = { 2, 3, 4, 7 };
    char a[] = "/tmp/tally-partial-XXXXXX";
    assert_non_null(mkdtemp(a));
    char one[1100], merged[1100];
    snprintf(one, sizeof one, "%s/one.csv", a);
    snprintf(merged, sizeof merged, "%s/merged.csv", a);
    for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
        rng_state = 12345 + t;
        size_t k = ks[t];
        for (size_t i = 0; i < r.n; i++)
            part_of[i] = rnd((uint32_t)k);
        /* A cell of part 0 given again, with another value, by the last
         * part: the same duplicate one process rejects. */
        char extra[256];
        size_t first = 0;
        while (part_of[first] != 0)
            first++;
        const char *comma = r.line[first];
        for (int c = 0; c < 3; c++)
            comma = strchr(comma, ',') + 1;
        snprintf(extra, sizeof extra, "%.*s777\n", (int)(comma - r.line[first]), r.line[first]);
        parts ps = deal(&r, k, part_of, t % 2 ? extra : NULL, k - 1);
        for (int opt = 0; opt < 2; opt++) {
            tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
            const char *periods[] = { "2019", "2019-Q3", "2019-07" };
            if (opt) {
                ro.coverage = 1;
                ro.periods = periods;
                ro.period_count = 3;
            }
            size_t rejected, dups;
            one_process(&m, &ps, &ro, one, &rejected);
            assert_int_equal(rejected, t % 2 ? 1 : 0);
            for (int shape = 0; shape < 3; shape++) {
                by_partials(&m, &ps, &ro, shape, merged, &dups);
                assert_int_equal(dups, rejected);
                assert_same_files(one, merged);
            }
        }
        free_parts(&ps);
    }
    unlink(one);
    unlink(merged);
    rmdir(a);
    free(part_of);
    free(r.line);
    free(r.len);
    free(r.text);
    tally_hierarchy_free(m.h);
    tally_definitions_free(m.d);
}

static void test_partial__households_any_partition(void **state)
{
    (void)state;
    model m = load_model();
    rows r = split_rows("yueyang-households-2019.csv");
    uint32_t *part_of = malloc(r.n * sizeof *part_of);
    char a[] = "/tmp/tally-partial-XXXXXX";
    assert_non_null(mkdtemp(a));
    char one[1100], merged[1100];
    snprintf(one, sizeof one, "%s/one.csv", a);
    snprintf(merged, sizeof merged, "%s/merged.csv", a);
    for (size_t t = 0; t < 4; t++) {
        rng_state = 999 + t;
        size_t k = 2 + t;
        for (size_t i = 0; i < r.n; i++)
            part_of[i] = rnd((uint32_t)k);
        /* The first household of part 0 again in the last part, with
         * another income: one process drops it. */
        size_t first = 0;
        while (part_of[first] != 0)
            first++;
        char extra[256];
        const char *comma = r.line[first];
        for (int c = 0; c < 3; c++)
            comma = strchr(comma, ',') + 1;
        snprintf(extra, sizeof extra, "%.*s1.5,1,2019\n", (int)(comma - r.line[first]),
                 r.line[first]);
        parts ps = deal(&r, k, part_of, t % 2 ? extra : NULL, k - 1);
        tally_read_options ro = TALLY_READ_OPTIONS_INIT;
        ro.on_error = TALLY_ON_ERROR_COLLECT;
        /* One process. */
        tally_households *hh;
        tally_rejects *rj;
        assert_int_equal(tally_households_new(&hh, m.h), 0);
        assert_int_equal(tally_rejects_new(&rj), 0);
        for (size_t p = 0; p < k; p++)
            assert_int_equal(
                tally_households_read_buffer(hh, ps.text[p], ps.len[p], "part", &ro, rj, NULL), 0);
        assert_int_equal(tally_rejects_count(rj), t % 2 ? 1 : 0);
        tally_poverty *pv;
        assert_int_equal(tally_poverty_households(&pv, hh, m.d, NULL), 0);
        assert_int_equal(tally_poverty_write(pv, one, NULL), 0);
        tally_poverty_free(pv);
        tally_households_free(hh);
        size_t expected_dups = tally_rejects_count(rj);
        tally_rejects_free(rj);
        for (int shape = 0; shape < 3; shape++) {
            tally_partial *list[MAX_PARTS];
            for (size_t p = 0; p < k; p++) {
                assert_int_equal(tally_households_new(&hh, m.h), 0);
                assert_int_equal(tally_households_read_buffer(hh, ps.text[p], ps.len[p], "part",
                                                              NULL, NULL, NULL),
                                 0);
                assert_int_equal(tally_partial_from_households(&list[p], hh, (uint32_t)p), 0);
                tally_households_free(hh);
                list[p] = through_bytes(list[p], m.h, NULL);
            }
            tally_partial *all = merge_all(list, k, shape, m.h, NULL);
            assert_int_equal(tally_rejects_new(&rj), 0);
            assert_int_equal(tally_partial_poverty(&pv, all, m.d, NULL, rj), 0);
            assert_int_equal(tally_rejects_count(rj), expected_dups);
            assert_int_equal(tally_poverty_write(pv, merged, NULL), 0);
            assert_same_files(one, merged);
            tally_poverty_free(pv);
            tally_rejects_free(rj);
            tally_partial_free(all);
        }
        free_parts(&ps);
    }
    unlink(one);
    unlink(merged);
    rmdir(a);
    free(part_of);
    free(r.line);
    free(r.len);
    free(r.text);
    tally_hierarchy_free(m.h);
    tally_definitions_free(m.d);
}

/* Bytes that are not a partial, or a partial of other regions, are
 * refused with a reason; a records and a households partial do not merge. */
/* The dataset of merged partials is the one one process reads: its checks
 * write the same file (findings of every kind the data has, in order),
 * and the merges' duplicate is listed. */
static void test_partial__dataset_checks_as_one_process(void **state)
{
    (void)state;
    model m = load_model();
    rows r = split_rows("yueyang-2019.csv");
    uint32_t *part_of = malloc(r.n * sizeof *part_of);
    rng_state = 2022;
    for (size_t i = 0; i < r.n; i++)
        part_of[i] = rnd(3);
    parts ps = deal(&r, 3, part_of, NULL, 2);
    char a[] = "/tmp/tally-partial-XXXXXX";
    assert_non_null(mkdtemp(a));
    char one[1100], merged[1100];
    snprintf(one, sizeof one, "%s/one.csv", a);
    snprintf(merged, sizeof merged, "%s/merged.csv", a);
    tally_dataset *ds;
    tally_rejects *rj;
    assert_int_equal(tally_dataset_new(&ds, m.h, m.d), 0);
    assert_int_equal(tally_rejects_new(&rj), 0);
    tally_partial *list[3];
    for (size_t p = 0; p < 3; p++) {
        read_collect(ds, &ps, p, rj);
        tally_dataset *part;
        assert_int_equal(tally_dataset_new(&part, m.h, m.d), 0);
        read_collect(part, &ps, p, rj);
        assert_int_equal(tally_partial_from_dataset(&list[p], part, (uint32_t)p), 0);
        tally_dataset_free(part);
    }
    assert_int_equal(tally_rejects_count(rj), 0);
    tally_partial *all = merge_all(list, 3, 2, m.h, m.d);
    tally_dataset *fin;
    assert_int_equal(tally_partial_dataset(&fin, all, rj), 0);
    assert_int_equal(tally_rejects_count(rj), 0);
    assert_int_equal(tally_dataset_value_count(fin), tally_dataset_value_count(ds));
    /* Every cell as one process has it: the same periods, and each
     * region's own figure (or its empty cell) the same. */
    char *pa, *pb;
    assert_int_equal(tally_dataset_periods(ds, &pa), 0);
    assert_int_equal(tally_dataset_periods(fin, &pb), 0);
    assert_string_equal(pa, pb);
    size_t cells = 0;
    for (char *per = strtok(pa, ","); per; per = strtok(NULL, ",")) {
        for (size_t i = 0; i < tally_definitions_indicator_count(m.d); i++) {
            for (size_t node = 0; node < tally_hierarchy_size(m.h); node++) {
                double x, y;
                int hx, hy;
                assert_int_equal(tally_dataset_reported(ds, node, i, per, &x, &hx), 0);
                assert_int_equal(tally_dataset_reported(fin, node, i, per, &y, &hy), 0);
                assert_int_equal(hx, hy);
                if (hx) {
                    assert_memory_equal(&x, &y, sizeof x);
                    cells++;
                }
            }
        }
    }
    assert_true(cells > 1000);
    tally_free(pa);
    tally_free(pb);
    tally_findings *f1, *f2;
    assert_int_equal(tally_check_run(&f1, ds, NULL), 0);
    assert_int_equal(tally_check_run(&f2, fin, NULL), 0);
    assert_true(tally_findings_count(f1) > 10);
    assert_int_equal(tally_findings_write(f1, one, NULL), 0);
    assert_int_equal(tally_findings_write(f2, merged, NULL), 0);
    assert_same_files(one, merged);
    tally_findings_free(f1);
    tally_findings_free(f2);
    tally_dataset_free(fin);
    /* A households partial has no dataset. */
    tally_households *hh;
    tally_partial *hp;
    assert_int_equal(tally_households_new(&hh, m.h), 0);
    assert_int_equal(tally_partial_from_households(&hp, hh, 0), 0);
    assert_int_equal(tally_partial_dataset(&fin, hp, NULL), TALLY_EINVAL);
    assert_null(fin);
    tally_partial_free(hp);
    tally_households_free(hh);
    tally_partial_free(all);
    tally_rejects_free(rj);
    tally_dataset_free(ds);
    unlink(one);
    unlink(merged);
    rmdir(a);
    free_parts(&ps);
    free(part_of);
    free(r.line);
    free(r.len);
    free(r.text);
    tally_hierarchy_free(m.h);
    tally_definitions_free(m.d);
}

static void test_partial__refuses_what_does_not_fit(void **state)
{
    (void)state;
    model m = load_model();
    tally_partial *p;
    assert_int_equal(tally_partial_load_buffer(&p, "not a partial at all, no", 24, m.h, m.d),
                     TALLY_EINVAL);
    assert_null(p);
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, m.h, m.d), 0);
    assert_int_equal(tally_dataset_add(ds, "430602001001", "poor_population", "2019-01", 2), 0);
    assert_int_equal(tally_partial_from_dataset(&p, ds, 0), 0);
    assert_int_equal(tally_partial_count(p), 1);
    void *buf;
    size_t n;
    assert_int_equal(tally_partial_save_buffer(p, &buf, &n), 0);
    tally_partial *q;
    assert_int_equal(tally_partial_load_buffer(&q, buf, n - 1, m.h, m.d), TALLY_EINVAL);
    /* Another hierarchy: one region fewer. */
    static const char small[] = "code,name,level,parent_code\n430000000000,湖南省,province,\n";
    tally_hierarchy *h2;
    assert_int_equal(tally_hierarchy_from_buffer(&h2, small, sizeof small - 1, "small.csv", NULL),
                     0);
    assert_int_equal(tally_partial_load_buffer(&q, buf, n, h2, m.d), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message, "other regions"));
    tally_households *hh;
    tally_partial *hp;
    assert_int_equal(tally_households_new(&hh, m.h), 0);
    assert_int_equal(tally_partial_from_households(&hp, hh, 1), 0);
    assert_int_equal(tally_partial_merge(p, hp), TALLY_EINVAL);
    tally_result *r;
    assert_int_equal(tally_partial_rollup(&r, hp, NULL, NULL), TALLY_EINVAL);
    tally_partial_free(hp);
    tally_households_free(hh);
    tally_hierarchy_free(h2);
    tally_free(buf);
    tally_partial_free(p);
    tally_dataset_free(ds);
    tally_hierarchy_free(m.h);
    tally_definitions_free(m.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial__records_any_partition),
        cmocka_unit_test(test_partial__households_any_partition),
        cmocka_unit_test(test_partial__dataset_checks_as_one_process),
        cmocka_unit_test(test_partial__refuses_what_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
