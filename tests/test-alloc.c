/* Allocation-failure injection, after SQLite's malloc tests.
 *
 * This program is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=strdup,--wrap=free (tests/harden/meson.build), and
 * the library comes from the internal static archive, so every allocation
 * the library makes goes through the wrappers below. (Allocations inside
 * libyaml, GSL and libc — fopen's buffer — are not wrapped: they are other
 * shared objects.)
 *
 * For each representative operation — load a hierarchy, load definitions
 * with formulas, read records in collecting mode with rejects, roll up with
 * formulas and a comparison, run the consistency checks, read targets and
 * compute completion, read households and compute the poverty measures,
 * write a result, findings and the rejects — the
 * operation first runs once without failures (the reference: its return
 * code and a fingerprint of its output). Then, for N = 1, 2, ... until a
 * run makes fewer than N allocations, it runs again with allocation number
 * N failing:
 *   - "once": only allocation N fails, later ones succeed (exercises every
 *     cleanup path after a failure the code has to unwind);
 *   - "from": allocation N and every later one fail (a real exhaustion).
 * Each such run must return TALLY_ENOMEM with the last error saying so, or,
 * when the failure did not matter, the reference code with the reference
 * output; and after the operation has freed what it made, no allocation
 * it made may still be live (the wrappers track every live pointer).
 * The ASan build (make asan) checks the same runs for invalid accesses.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixtures.h"

/* ---- the wrappers ---- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

enum { MODE_ONCE = 0, MODE_FROM = 1 };

static struct {
    int armed;
    int mode;
    unsigned long count;   /* allocations made while armed */
    unsigned long fail_at; /* 1-based; 0: never */
    unsigned long failed;  /* allocations failed */
} inj;

/* Live pointers allocated while armed: open addressing with linear probing
 * and backward-shift deletion. */
enum { SET_CAP = 1 << 16 };
static void *live[SET_CAP];
static size_t live_count;

static size_t slot_of(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (SET_CAP - 1);
}

static void live_add(void *p)
{
    if (live_count >= SET_CAP / 2) {
        fprintf(stderr, "test-alloc: too many live allocations to track\n");
        abort();
    }
    size_t s = slot_of(p);
    while (live[s])
        s = (s + 1) & (SET_CAP - 1);
    live[s] = p;
    live_count++;
}

/* 1 when p was tracked (and is no longer). */
static int live_remove(void *p)
{
    size_t s = slot_of(p);
    while (live[s] && live[s] != p)
        s = (s + 1) & (SET_CAP - 1);
    if (!live[s])
        return 0;
    live[s] = NULL;
    live_count--;
    /* Move later entries of the run back into the hole. */
    for (size_t j = (s + 1) & (SET_CAP - 1); live[j]; j = (j + 1) & (SET_CAP - 1)) {
        size_t home = slot_of(live[j]);
        /* live[j] may move to s when s lies cyclically in [home, j). */
        if (((j - home) & (SET_CAP - 1)) >= ((j - s) & (SET_CAP - 1))) {
            live[s] = live[j];
            live[j] = NULL;
            s = j;
        }
    }
    return 1;
}

/* 1 when this allocation is to fail. */
static int inject(void)
{
    if (!inj.armed)
        return 0;
    inj.count++;
    if (!inj.fail_at)
        return 0;
    if (inj.count == inj.fail_at || (inj.mode == MODE_FROM && inj.count > inj.fail_at)) {
        inj.failed++;
        return 1;
    }
    return 0;
}

static void *track(void *p)
{
    if (p && inj.armed)
        live_add(p);
    return p;
}

void *__wrap_malloc(size_t size)
{
    return inject() ? NULL : track(__real_malloc(size));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return inject() ? NULL : track(__real_calloc(n, size));
}

char *__wrap_strdup(const char *s)
{
    return inject() ? NULL : track(__real_strdup(s));
}

void *__wrap_realloc(void *p, size_t size)
{
    if (inject())
        return NULL; /* p stays allocated, as realloc leaves it */
    void *q = __real_realloc(p, size);
    if (q) {
        int tracked = p && live_remove(p);
        if (tracked || inj.armed)
            live_add(q);
    }
    return q;
}

void __wrap_free(void *p)
{
    if (p)
        live_remove(p);
    __real_free(p);
}

static void arm(int mode, unsigned long fail_at)
{
    inj.mode = mode;
    inj.count = 0;
    inj.failed = 0;
    inj.fail_at = fail_at;
    inj.armed = 1;
}

static void disarm(void) { inj.armed = 0; }

/* ---- fingerprints of what an operation made ---- */

typedef struct fp {
    uint64_t h;
} fp;

static void fp_bytes(fp *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        f->h ^= p[i];
        f->h *= 0x100000001b3ULL;
    }
}

static void fp_str(fp *f, const char *s) { fp_bytes(f, s ? s : "(null)", strlen(s ? s : "(null)") + 1); }
static void fp_u64(fp *f, uint64_t v) { fp_bytes(f, &v, sizeof v); }
static void fp_double(fp *f, double v)
{
    if (isnan(v))
        v = NAN; /* every NaN alike */
    fp_bytes(f, &v, sizeof v);
}

/* ---- the operations ---- */

/* An operation makes something, fingerprints it when it succeeded, and
 * frees everything it made before returning its status. */
typedef int (*operation)(void *ctx, fp *out);

static const char *data_dir(void)
{
    const char *d = getenv("TALLY_SOURCE_ROOT");
    return d ? d : "..";
}

static char *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "test-alloc: cannot open %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        abort();
    buf[n] = '\0';
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void fp_hierarchy(fp *f, const tally_hierarchy *h)
{
    size_t n = tally_hierarchy_size(h);
    fp_u64(f, n);
    for (size_t i = 0; i < n; i++) {
        fp_str(f, tally_hierarchy_code(h, i));
        fp_str(f, tally_hierarchy_name(h, i));
        fp_u64(f, (uint64_t)tally_hierarchy_level(h, i));
        fp_u64(f, tally_hierarchy_parent(h, i));
        fp_u64(f, tally_hierarchy_subtree_end(h, i));
        fp_u64(f, tally_hierarchy_line(h, i));
    }
    for (size_t l = 0; l < tally_hierarchy_level_count(h); l++)
        fp_str(f, tally_hierarchy_level_name(h, (int)l));
}

typedef struct hierarchy_input {
    const char *data;
    size_t size;
    const char *const *levels;
    size_t level_count;
} hierarchy_input;

static int op_hierarchy(void *ctx, fp *out)
{
    const hierarchy_input *in = ctx;
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.level_names = in->levels;
    opts.level_count = in->level_count;
    tally_hierarchy *h = (tally_hierarchy *)&h;
    int rc = tally_hierarchy_from_buffer(&h, in->data, in->size, "hierarchy.csv", &opts);
    if (rc) {
        assert_null(h);
        return rc;
    }
    fp_hierarchy(out, h);
    tally_hierarchy_free(h);
    return 0;
}

static void fp_definitions(fp *f, const tally_definitions *d)
{
    size_t n = tally_definitions_indicator_count(d);
    fp_u64(f, n);
    for (size_t i = 0; i < n; i++) {
        fp_str(f, tally_definitions_id(d, i));
        fp_str(f, tally_definitions_name(d, i));
        fp_str(f, tally_definitions_unit(d, i));
        fp_str(f, tally_definitions_formula(d, i));
        fp_u64(f, (uint64_t)tally_definitions_decimals(d, i));
        fp_u64(f, (uint64_t)tally_definitions_aggregate(d, i));
        fp_u64(f, (uint64_t)tally_definitions_over_time(d, i));
        fp_u64(f, (uint64_t)tally_definitions_exact(d, i));
        fp_double(f, tally_definitions_min(d, i));
        fp_double(f, tally_definitions_max(d, i));
    }
    for (size_t l = 0; l < tally_definitions_level_count(d); l++)
        fp_str(f, tally_definitions_level_name(d, l));
}

typedef struct text_input {
    const char *data;
    size_t size;
} text_input;

static int op_definitions(void *ctx, fp *out)
{
    const text_input *in = ctx;
    tally_definitions *d = (tally_definitions *)&d;
    int rc = tally_definitions_from_buffer(&d, in->data, in->size, "definitions.yaml");
    if (rc) {
        assert_null(d);
        return rc;
    }
    fp_definitions(out, d);
    tally_definitions_free(d);
    return 0;
}

/* Records read over the fixture: good long rows, and one row of each kind
 * of mistake (field count, unknown region, unknown indicator, bad period,
 * bad number, duplicate, text after a quote), then a wide file. */
static const char records_long[] =
    "region_code,indicator,period,value\n"
    "430602001001,poor,2019-01,10\n"
    "430602001002,poor,2019-01,7\n"
    "430626100201,poor,2019-01,3\n"
    "430602001001,pop,2019-01,1000\n"
    "430602001002,pop,2019-01,800\n"
    "430626100201,pop,2019-01,\n"
    "430602001001,poor,2018-01,12\n"
    "430602001002,poor,2018-01,9\n"
    "430602001001,pop,2018-01,990\n"
    "430602001001,exits,2019-02,1,9\n"
    "430602001099,exits,2019-02,1\n"
    "430602001001,exit,2019-02,1\n"
    "430602001001,exits,2019-13,1\n"
    "430602001001,exits,2019-02,1x\n"
    "430602001001,poor,2019-01,11\n"
    "\"430602001001\"x,exits,2019-02,1\n"
    "430602001001,exits,2019-Q1,\"4\"\n";

static const char records_wide[] =
    "region_code,period,income,lowest,highest,trained\n"
    "430602001001,2019-01,3000,3000,3000,5\n"
    "430602001002,2019-01,2500,2500,2500,\n"
    "430626100201,2019-01,x,1,1,1\n";

typedef struct read_ctx {
    const tally_hierarchy *h;
    const tally_definitions *d;
} read_ctx;

static void fp_rejects(fp *f, const tally_rejects *r)
{
    size_t n = tally_rejects_count(r);
    fp_u64(f, n);
    for (size_t i = 0; i < n; i++) {
        fp_str(f, tally_rejects_path(r, i));
        fp_u64(f, tally_rejects_line(r, i));
        fp_u64(f, tally_rejects_column(r, i));
        fp_u64(f, (uint64_t)tally_rejects_code(r, i));
        fp_str(f, tally_rejects_reason(r, i));
        fp_str(f, tally_rejects_row(r, i));
    }
}

static int op_read(void *ctx, fp *out)
{
    const read_ctx *c = ctx;
    tally_dataset *ds = NULL;
    tally_rejects *rej = NULL;
    int rc = tally_dataset_new(&ds, c->h, c->d);
    if (!rc)
        rc = tally_rejects_new(&rej);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st[2];
    memset(st, 0, sizeof st);
    if (!rc)
        rc = tally_dataset_read_buffer(ds, records_long, sizeof records_long - 1, "long.csv",
                                       &opts, rej, &st[0]);
    /* Nothing lost, even when memory ran out half way. */
    assert_int_equal(st[0].rows_read, st[0].rows_accepted + st[0].rows_rejected);
    if (!rc)
        rc = tally_dataset_read_buffer(ds, records_wide, sizeof records_wide - 1, "wide.csv",
                                       &opts, rej, &st[1]);
    assert_int_equal(st[1].rows_read, st[1].rows_accepted + st[1].rows_rejected);
    if (!rc) {
        for (int k = 0; k < 2; k++) {
            fp_u64(out, st[k].rows_read);
            fp_u64(out, st[k].rows_accepted);
            fp_u64(out, st[k].rows_rejected);
        }
        fp_u64(out, tally_dataset_value_count(ds));
        fp_rejects(out, rej);
        double v;
        int present;
        for (size_t node = 0; node < tally_hierarchy_size(c->h); node++) {
            assert_int_equal(tally_dataset_reported(ds, node, N_POOR, "2019-01", &v, &present), 0);
            fp_double(out, v);
            assert_int_equal(tally_dataset_reported(ds, node, N_INCOME, "2019-01", &v, &present), 0);
            fp_double(out, v);
        }
    }
    tally_rejects_free(rej);
    tally_dataset_free(ds);
    return rc;
}

/* Stop mode: the first bad row ends the read with its own code. */
static int op_read_stop(void *ctx, fp *out)
{
    const read_ctx *c = ctx;
    tally_dataset *ds = NULL;
    int rc = tally_dataset_new(&ds, c->h, c->d);
    tally_read_stats st = { 0, 0, 0 };
    if (!rc)
        rc = tally_dataset_read_buffer(ds, records_long, sizeof records_long - 1, "long.csv",
                                       NULL, NULL, &st);
    assert_int_equal(st.rows_read, st.rows_accepted + st.rows_rejected);
    if (rc == TALLY_EPARSE) {
        fp_u64(out, st.rows_read);
        fp_u64(out, st.rows_accepted);
        fp_u64(out, tally_error_last()->line);
        fp_u64(out, tally_error_last()->column);
        fp_u64(out, tally_dataset_value_count(ds));
    }
    tally_dataset_free(ds);
    return rc;
}

static void fp_result(fp *f, const tally_result *r)
{
    size_t nodes = tally_hierarchy_size(tally_result_hierarchy(r));
    size_t inds = tally_definitions_indicator_count(tally_result_definitions(r));
    size_t periods = tally_result_period_count(r);
    fp_u64(f, periods);
    for (size_t p = 0; p < periods; p++) {
        fp_str(f, tally_result_period(r, p));
        for (size_t i = 0; i < inds; i++)
            for (size_t n = 0; n < nodes; n++) {
                double v, prev, rep, comp;
                int present;
                assert_int_equal(tally_result_value(r, n, i, p, &v, &present), 0);
                assert_int_equal(tally_result_previous(r, n, i, p, &prev, &present), 0);
                assert_int_equal(tally_result_sides(r, n, i, p, &rep, &comp), 0);
                fp_double(f, v);
                fp_double(f, prev);
                fp_double(f, rep);
                fp_double(f, comp);
            }
    }
}

typedef struct rollup_ctx {
    const tally_dataset *ds;
    int compare;
} rollup_ctx;

static int op_rollup(void *ctx, fp *out)
{
    const rollup_ctx *c = ctx;
    static const char *const periods[] = { "2019-01", "2019-Q1", "2019", "2018-01" };
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    opts.compare = c->compare;
    opts.periods = periods;
    opts.period_count = 4;
    tally_result *r = (tally_result *)&r;
    int rc = tally_rollup(&r, c->ds, &opts);
    if (rc) {
        assert_null(r);
        return rc;
    }
    fp_result(out, r);
    tally_result_free(r);
    return 0;
}

typedef struct write_ctx {
    const tally_result *r;
    const tally_rejects *rejects;
    const char *path;
} write_ctx;

static void fp_file(fp *f, const char *path)
{
    size_t n;
    char *text = read_whole(path, &n);
    fp_bytes(f, text, n);
    free(text);
}

static int op_write(void *ctx, fp *out)
{
    const write_ctx *c = ctx;
    tally_write_options opts = TALLY_WRITE_OPTIONS_INIT;
    int rc = tally_result_write(c->r, c->path, &opts);
    if (rc)
        return rc;
    /* The file is read back unarmed: the reading is the test's, not the
     * library's. */
    int armed = inj.armed;
    inj.armed = 0;
    fp_file(out, c->path);
    inj.armed = armed;
    opts.format = TALLY_FORMAT_JSON;
    rc = tally_result_write(c->r, c->path, &opts);
    if (rc)
        return rc;
    inj.armed = 0;
    fp_file(out, c->path);
    inj.armed = armed;
    rc = tally_rejects_write_csv(c->rejects, c->path);
    if (rc)
        return rc;
    inj.armed = 0;
    fp_file(out, c->path);
    inj.armed = armed;
    return 0;
}

/* ---- checks, targets, households ---- */

static const char check_definitions[] =
    "indicators:\n"
    "  - { id: poor, over_time: stock, min: 0 }\n"
    "  - { id: pop, over_time: stock, min: 0 }\n"
    "  - { id: exits }\n"
    "  - { id: trained, over_time: cumulative }\n"
    "  - id: rate\n"
    "    unit: \"%\"\n"
    "    formula: poor / pop * 100\n"
    "    decimals: 1\n"
    "checks:\n"
    "  - id: adds_up\n"
    "    hierarchy: [poor, pop]\n"
    "    tolerance: { relative: 0.001 }\n"
    "  - id: poor_le_pop\n"
    "    rule: poor <= pop\n"
    "  - id: reported\n"
    "    required: [poor]\n"
    "    level: village\n"
    "  - id: spikes\n"
    "    outliers: [exits]\n"
    "    jump: { max_ratio: 3 }\n";

/* Villages 1 and 2 and the town above them, village 3 silent; the town's
 * poor do not add up, village 2 has more poor than people, a negative
 * count, a reported rate that its operands do not give, trained going
 * down, exits jumping. */
static const char check_records[] =
    "region_code,indicator,period,value\n"
    "430602001001,poor,2019-01,10\n"
    "430602001002,poor,2019-01,900\n"
    "430602001000,poor,2019-01,15\n"
    "430602001001,pop,2019-01,1000\n"
    "430602001002,pop,2019-01,800\n"
    "430602001000,pop,2019-01,1800\n"
    "430602001001,rate,2019-01,3.5\n"
    "430626100201,pop,2019-01,-5\n"
    "430602001001,trained,2019-01,9\n"
    "430602001001,trained,2019-02,4\n"
    "430602001001,exits,2019-01,1\n"
    "430602001001,exits,2019-02,30\n"
    "430602001002,exits,2019-01,2\n"
    "430602001002,exits,2019-02,2\n";

static const char check_targets[] =
    "region_code,indicator,year,target\n"
    "430602001001,exits,2019,20\n"
    "430602001002,exits,2019,10\n"
    "430600000000,exits,2019,50\n"
    "430626100201,exits,2019,\n"
    "430602001001,exitz,2019,1\n";

typedef struct check_ctx {
    const tally_dataset *ds;
    const tally_hierarchy *h;
    const tally_definitions *d;
    const char *path;
} check_ctx;

static void fp_findings(fp *f, const tally_findings *fs)
{
    size_t n = tally_findings_count(fs);
    fp_u64(f, n);
    fp_u64(f, tally_findings_error_count(fs));
    for (size_t i = 0; i < n; i++) {
        fp_str(f, tally_findings_check(fs, i));
        fp_u64(f, (uint64_t)tally_findings_kind(fs, i));
        fp_u64(f, tally_findings_node(fs, i));
        fp_u64(f, tally_findings_indicator(fs, i));
        fp_str(f, tally_findings_period(fs, i));
        fp_double(f, tally_findings_expected(fs, i));
        fp_double(f, tally_findings_actual(fs, i));
        fp_str(f, tally_findings_message(fs, i));
    }
}

/* Targets read (collecting), the checks with the target decomposition,
 * completion as of February, and the findings written. */
static int op_check(void *ctx, fp *out)
{
    const check_ctx *c = ctx;
    tally_targets *t = NULL;
    tally_rejects *rej = NULL;
    tally_findings *fs = NULL;
    tally_progress *pr = NULL;
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st = { 0, 0, 0 };
    int rc = tally_targets_new(&t, c->h, c->d);
    if (!rc)
        rc = tally_rejects_new(&rej);
    if (!rc)
        rc = tally_targets_read_buffer(t, check_targets, sizeof check_targets - 1, "targets.csv",
                                       &ro, rej, &st);
    assert_int_equal(st.rows_read, st.rows_accepted + st.rows_rejected);
    tally_check_options co = TALLY_CHECK_OPTIONS_INIT;
    co.targets = t;
    if (!rc)
        rc = tally_check_run(&fs, c->ds, &co);
    tally_progress_options po = TALLY_PROGRESS_OPTIONS_INIT;
    po.year = 2019;
    po.month = 2;
    if (!rc)
        rc = tally_progress_run(&pr, c->ds, t, &po);
    if (!rc)
        rc = tally_findings_write(fs, c->path, NULL);
    if (!rc) {
        fp_u64(out, st.rows_accepted);
        fp_rejects(out, rej);
        fp_findings(out, fs);
        for (size_t row = 0; row < tally_progress_count(pr); row++) {
            fp_double(out, tally_progress_completion(pr, row));
            fp_u64(out, (uint64_t)tally_progress_status(pr, row));
            fp_u64(out, tally_progress_rank(pr, row));
        }
        int armed = inj.armed;
        inj.armed = 0;
        fp_file(out, c->path);
        inj.armed = armed;
    }
    tally_progress_free(pr);
    tally_findings_free(fs);
    tally_rejects_free(rej);
    tally_targets_free(t);
    return rc;
}

static const char households_csv[] =
    "household_id,region_code,size,income_per_capita,weight,year\n"
    "h1,430602001001,4,2500,1.5,2019\n"
    "h2,430602001001,3,3218,1,2019\n"
    "h3,430602001002,1,0,2,2019\n"
    "h4,430626100201,5,12000.5,1,2019\n"
    "h5,430602001000,2,3217.99,1,2019\n"
    "h6,430626100201,2,100,1,2020\n"
    "h7,430602001099,2,100,1,2019\n"
    "h8,430602001001,0,100,1,2019\n"
    "h1,430602001001,4,2500,1.5,2019\n";

typedef struct households_ctx {
    const tally_hierarchy *h;
} households_ctx;

static int op_households(void *ctx, fp *out)
{
    const households_ctx *c = ctx;
    tally_households *hh = NULL;
    tally_rejects *rej = NULL;
    tally_poverty *p = NULL;
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st = { 0, 0, 0 };
    int rc = tally_households_new(&hh, c->h);
    if (!rc)
        rc = tally_rejects_new(&rej);
    if (!rc)
        rc = tally_households_read_buffer(hh, households_csv, sizeof households_csv - 1,
                                          "households.csv", &ro, rej, &st);
    assert_int_equal(st.rows_read, st.rows_accepted + st.rows_rejected);
    tally_poverty_options po = TALLY_POVERTY_OPTIONS_INIT;
    po.year = 2019;
    po.line = 3218;
    po.monitoring_line = 5000;
    if (!rc)
        rc = tally_poverty_households(&p, hh, NULL, &po);
    if (!rc) {
        fp_u64(out, st.rows_accepted);
        fp_rejects(out, rej);
        for (size_t n = 0; n < tally_hierarchy_size(c->h); n++)
            for (int m = 0; m < TALLY_POVERTY_MEASURE_COUNT; m++) {
                double v;
                int present;
                assert_int_equal(tally_poverty_value(p, n, m, &v, &present), 0);
                fp_double(out, v);
            }
    }
    tally_poverty_free(p);
    tally_rejects_free(rej);
    tally_households_free(hh);
    return rc;
}

/* ---- the driver ---- */

typedef struct outcome {
    unsigned long runs;        /* injected runs */
    unsigned long allocations; /* allocations of the reference run */
    unsigned long tolerated;   /* failures that did not change the outcome */
} outcome;

/* Runs `op` without failures (it must return `want`), then with each
 * allocation failing in turn. */
static void run_injected(const char *what, operation op, void *ctx, int want, outcome *o)
{
    tally_error_clear();
    fp ref = { 0xcbf29ce484222325ULL };
    arm(MODE_ONCE, 0);
    int ref_rc = op(ctx, &ref);
    disarm();
    o->allocations = inj.count;
    if (live_count) {
        fprintf(stderr, "%s: %zu allocations leaked by the reference run\n", what, live_count);
        fail();
    }
    if (ref_rc != want) {
        fprintf(stderr, "%s: returned %d (%s) without failures; expected %d\n", what, ref_rc,
                tally_error_last()->message, want);
        fail();
    }
    for (int mode = MODE_ONCE; mode <= MODE_FROM; mode++) {
        for (unsigned long n = 1;; n++) {
            fp got = { 0xcbf29ce484222325ULL };
            tally_error_clear();
            arm(mode, n);
            int rc = op(ctx, &got);
            disarm();
            if (live_count) {
                fprintf(stderr, "%s: allocation %lu failing (%s): %zu allocations leaked\n",
                        what, n, mode == MODE_ONCE ? "once" : "from then on", live_count);
                fail();
            }
            if (!inj.failed) {
                /* Fewer than n allocations: every one has been failed. */
                assert_int_equal(rc, ref_rc);
                assert_true(got.h == ref.h);
                break;
            }
            o->runs++;
            if (rc == TALLY_ENOMEM) {
                const tally_error *e = tally_error_last();
                if (e->code != TALLY_ENOMEM || !e->message[0]) {
                    fprintf(stderr, "%s: allocation %lu failing: returned TALLY_ENOMEM but the last "
                            "error is %d '%s'\n", what, n, e->code, e->message);
                    fail();
                }
                continue;
            }
            if (rc != ref_rc || got.h != ref.h) {
                fprintf(stderr, "%s: allocation %lu failing (%s): returned %d (%s) where "
                        "TALLY_ENOMEM or the reference %d with the same output was due\n",
                        what, n, mode == MODE_ONCE ? "once" : "from then on", rc,
                        tally_error_last()->message, ref_rc);
                fail();
            }
            o->tolerated++;
            if (getenv("TALLY_ALLOC_VERBOSE"))
                printf("  %s: allocation %lu failing (%s) changed nothing\n", what, n,
                       mode == MODE_ONCE ? "once" : "from then on");
        }
    }
    printf("%-40s %5lu allocations, %5lu failing runs, %3lu failures without effect\n", what,
           o->allocations, o->runs, o->tolerated);
}

static void test_alloc__hierarchy(void **state)
{
    (void)state;
    outcome o = { 0, 0, 0 };
    hierarchy_input fixture_in = { fixture_hierarchy, sizeof fixture_hierarchy - 1, NULL, 0 };
    run_injected("hierarchy (codes with parent_code)", op_hierarchy, &fixture_in, 0, &o);

    /* Parents derived from 12-digit codes, level from the code. */
    static const char derived[] = "code,name\n"
                                  "430000000000,湖南省\n"
                                  "430600000000,岳阳市\n"
                                  "430602000000,岳阳楼区\n"
                                  "430602001000,街道\n"
                                  "430602001001,村\n"
                                  "110000000000,北京市\n"
                                  "110101001000,街道\n";
    hierarchy_input derived_in = { derived, sizeof derived - 1, NULL, 0 };
    memset(&o, 0, sizeof o);
    run_injected("hierarchy (parents from codes)", op_hierarchy, &derived_in, 0, &o);

    /* Codes that are not division codes, own level names, a parent given
     * after its child. */
    static const char *const levels[] = { "region", "district", "unit" };
    static const char custom[] = "code,name,level,parent_code\n"
                                 "u1,Unit,unit,d1\n"
                                 "d1,District,district,r1\n"
                                 "r1,Region,region,\n"
                                 "u2,Unit 2,unit,r1\n";
    hierarchy_input custom_in = { custom, sizeof custom - 1, levels, 3 };
    memset(&o, 0, sizeof o);
    run_injected("hierarchy (own codes and levels)", op_hierarchy, &custom_in, 0, &o);

    /* An error found after the rows were read: everything read is freed. */
    static const char cycle[] = "code,name,parent_code\nA,a,B\nB,b,A\n";
    hierarchy_input cycle_in = { cycle, sizeof cycle - 1, NULL, 0 };
    memset(&o, 0, sizeof o);
    run_injected("hierarchy (a cycle: TALLY_ECYCLE)", op_hierarchy, &cycle_in, TALLY_ECYCLE, &o);

    /* The 岳阳市 demo hierarchy, 2,000-odd regions. */
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/data/yueyang-hierarchy.csv", data_dir());
    size_t size;
    char *text = read_whole(path, &size);
    hierarchy_input yy = { text, size, NULL, 0 };
    memset(&o, 0, sizeof o);
    run_injected("hierarchy (demo, 2,000-odd regions)", op_hierarchy, &yy, 0, &o);
    free(text);
}

static void test_alloc__definitions(void **state)
{
    (void)state;
    outcome o = { 0, 0, 0 };
    text_input fixture_in = { fixture_definitions, strlen(fixture_definitions) };
    run_injected("definitions (fixture, two formulas)", op_definitions, &fixture_in, 0, &o);

    static const char formulas[] =
        "levels: [region, district, unit]\n"
        "indicators:\n"
        "  - { id: a, over_time: stock }\n"
        "  - { id: b, aggregate: mean, decimals: 3, exact: false }\n"
        "  - { id: c, aggregate: max, min: -5, max: 1e6 }\n"
        "  - id: r3\n"
        "    formula: is_missing(r2) or not (r1 >= 2 and r2 != 3)\n"
        "  - id: r1\n"
        "    formula: if(b > 0, a / b * 100, coalesce(c, 0))\n"
        "  - id: r2\n"
        "    formula: round(pow(abs(r1), 0.5), 2) + min(a, b, c) - max(a, 1) + sqrt(c)\n";
    text_input formulas_in = { formulas, sizeof formulas - 1 };
    memset(&o, 0, sizeof o);
    run_injected("definitions (formulas on formulas)", op_definitions, &formulas_in, 0, &o);

    static const char bad[] = "indicators:\n"
                              "  - { id: a }\n"
                              "  - { id: r, formula: a / nope }\n";
    text_input bad_in = { bad, sizeof bad - 1 };
    memset(&o, 0, sizeof o);
    run_injected("definitions (unknown name: ENOTFOUND)", op_definitions, &bad_in, TALLY_ENOTFOUND, &o);

    char path[4096];
    snprintf(path, sizeof path, "%s/examples/data/yueyang.yaml", data_dir());
    size_t size;
    char *text = read_whole(path, &size);
    text_input yy = { text, size };
    memset(&o, 0, sizeof o);
    run_injected("definitions (demo yueyang.yaml)", op_definitions, &yy, 0, &o);
    free(text);
}

static void test_alloc__records(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    read_ctx c = { f.h, f.d };
    outcome o = { 0, 0, 0 };
    run_injected("records (collect, long + wide, rejects)", op_read, &c, 0, &o);
    memset(&o, 0, sizeof o);
    run_injected("records (stop at the first bad row)", op_read_stop, &c, TALLY_EPARSE, &o);
    fixture_free(&f);
}

static void load_records(fixture *f, tally_rejects **rejects)
{
    fixture_load(f, NULL);
    assert_int_equal(tally_rejects_new(rejects), 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    assert_int_equal(tally_dataset_read_buffer(f->ds, records_long, sizeof records_long - 1,
                                               "long.csv", &opts, *rejects, NULL), 0);
    assert_int_equal(tally_dataset_read_buffer(f->ds, records_wide, sizeof records_wide - 1,
                                               "wide.csv", &opts, *rejects, NULL), 0);
}

static void test_alloc__rollup(void **state)
{
    (void)state;
    fixture f;
    tally_rejects *rejects;
    load_records(&f, &rejects);
    rollup_ctx c = { f.ds, TALLY_COMPARE_NONE };
    outcome o = { 0, 0, 0 };
    run_injected("rollup (formulas)", op_rollup, &c, 0, &o);
    c.compare = TALLY_COMPARE_YOY;
    memset(&o, 0, sizeof o);
    run_injected("rollup (formulas, year on year)", op_rollup, &c, 0, &o);
    c.compare = TALLY_COMPARE_POP;
    memset(&o, 0, sizeof o);
    run_injected("rollup (formulas, previous period)", op_rollup, &c, 0, &o);
    tally_rejects_free(rejects);
    fixture_free(&f);
}

static void test_alloc__write(void **state)
{
    (void)state;
    fixture f;
    tally_rejects *rejects;
    load_records(&f, &rejects);
    tally_rollup_options opts = TALLY_ROLLUP_OPTIONS_INIT;
    opts.compare = TALLY_COMPARE_YOY;
    tally_result *r;
    assert_int_equal(tally_rollup(&r, f.ds, &opts), 0);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tally-alloc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_ctx c = { r, rejects, path };
    outcome o = { 0, 0, 0 };
    run_injected("write (CSV, JSON, rejects)", op_write, &c, 0, &o);
    unlink(path);
    tally_result_free(r);
    tally_rejects_free(rejects);
    fixture_free(&f);
}

static void test_alloc__check(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, check_definitions);
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    assert_int_equal(tally_dataset_read_buffer(f.ds, check_records, sizeof check_records - 1,
                                               "records.csv", &ro, NULL, NULL), 0);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tally-alloc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    check_ctx c = { f.ds, f.h, f.d, path };
    outcome o = { 0, 0, 0 };
    run_injected("check (targets, checks, progress, write)", op_check, &c, 0, &o);
    unlink(path);
    fixture_free(&f);
}

static void test_alloc__households(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    households_ctx c = { f.h };
    outcome o = { 0, 0, 0 };
    run_injected("households (collect, FGT, Gini)", op_households, &c, 0, &o);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc__hierarchy),
        cmocka_unit_test(test_alloc__definitions),
        cmocka_unit_test(test_alloc__records),
        cmocka_unit_test(test_alloc__rollup),
        cmocka_unit_test(test_alloc__write),
        cmocka_unit_test(test_alloc__check),
        cmocka_unit_test(test_alloc__households),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
