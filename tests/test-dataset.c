/* Records reading: accepted rows, every kind of rejected row with its
 * exact location, stop and collect modes, and the row-count identity; and
 * values added from arrays, element by element with the same rules. */
#include <iconv.h>
#include <math.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"

static char *data_path(const char *name)
{
    static char buf[1024];
    const char *dir = getenv("TALLY_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/records/%s", dir ? dir : "tests/data", name);
    return buf;
}

static double reported(const fixture *f, size_t node, size_t ind, const char *period, int *present)
{
    double v;
    assert_int_equal(tally_dataset_reported(f->ds, node, ind, period, &v, present), 0);
    return v;
}

static void test_dataset__long_rows_are_stored(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* BOM, CRLF, a quoted code and a quoted indicator. */
    static const char csv[] = "\xEF\xBB\xBFregion_code,indicator,period,value\r\n"
                              "\"430602001001\",poor,2019-01,10\r\n"
                              "430602001002,\"poor\",2019-01,-3.25\r\n"
                              "430602001002,exits,2019-Q1,1e2\r\n";
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "r.csv", NULL, NULL, &st), 0);
    assert_int_equal(st.rows_read, 3);
    assert_int_equal(st.rows_accepted, 3);
    assert_int_equal(st.rows_rejected, 0);
    int present;
    assert_true(reported(&f, V1, N_POOR, "2019-01", &present) == 10.0 && present);
    assert_true(reported(&f, V2, N_POOR, "2019-01", &present) == -3.25 && present);
    assert_true(reported(&f, V2, N_EXITS, "2019-Q1", &present) == 100.0 && present);
    reported(&f, V3, N_POOR, "2019-01", &present);
    assert_false(present);
    assert_int_equal(tally_dataset_value_count(f.ds), 3);
    fixture_free(&f);
}

static void test_dataset__wide_rows_are_stored(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    static const char csv[] = "period,region_code,poor,pop\n"
                              "2019-02,430626100201,5,100\n"
                              "2019-02,430602001001,,200\n";
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "w.csv", NULL, NULL, &st), 0);
    assert_int_equal(st.rows_accepted, 2);
    int present;
    assert_true(reported(&f, V3, N_POOR, "2019-02", &present) == 5.0 && present);
    assert_true(reported(&f, V3, N_POP, "2019-02", &present) == 100.0 && present);
    reported(&f, V1, N_POOR, "2019-02", &present);
    assert_false(present); /* empty cell: missing, not zero */
    assert_true(reported(&f, V1, N_POP, "2019-02", &present) == 200.0 && present);
    /* Four cells, one of them filed empty. */
    assert_int_equal(tally_dataset_value_count(f.ds), 4);
    fixture_free(&f);
}

typedef struct bad_case {
    const char *file;
    int code;
    unsigned long line, column;
    const char *reason_part;
} bad_case;

/* Each fixture's first bad row, by hand: columns count characters from 1. */
static const bad_case bad_cases[] = {
    /* "430602001002,poor,2019-01," is 26 characters: the value starts at 27. */
    { "bad-number.csv", TALLY_EPARSE, 3, 27, "bad number 'abc'" },
    { "unknown-region.csv", TALLY_ENOTFOUND, 3, 1, "unknown region code '430602001009'" },
    { "unknown-indicator.csv", TALLY_ENOTFOUND, 2, 14, "unknown indicator 'poverty'" },
    /* "430602001001,poor," is 18 characters. */
    { "bad-period.csv", TALLY_EPARSE, 3, 19, "bad period '2019-13'" },
    /* The fifth field starts after "430602001001,poor,2019-01,10," (29 characters). */
    { "too-many-fields.csv", TALLY_EPARSE, 2, 30, "row has 5 fields; expected 4" },
    /* Too few: at the end of the row, after 25 characters. */
    { "too-few-fields.csv", TALLY_EPARSE, 2, 26, "row has 3 fields; expected 4" },
    { "duplicate.csv", TALLY_EEXIST, 4, 1, "duplicate record for region 430602001001, indicator poor, period 2019-01" },
    { "nan.csv", TALLY_EPARSE, 2, 27, "bad number 'nan'" },
    { "overflow.csv", TALLY_ERANGE, 2, 27, "out of range" },
    { "no-period-column.csv", TALLY_EPARSE, 1, 1, "no 'period' column" },
    { "unterminated.csv", TALLY_EPARSE, 2, 27, "unterminated quoted field" },
};

static void test_dataset__bad_rows_name_file_line_column(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad_cases / sizeof *bad_cases; k++) {
        const bad_case *bc = &bad_cases[k];
        fixture f;
        fixture_load(&f, NULL);
        char *path = data_path(bc->file);
        int rc = tally_dataset_read_file(f.ds, path, NULL, NULL, NULL);
        const tally_error *e = tally_error_last();
        if (rc != bc->code || e->line != bc->line || e->column != bc->column ||
            !strstr(e->message, bc->reason_part) || !e->path || strcmp(e->path, path) != 0) {
            print_error("%s: got code %d at %lu:%lu: %s\n", bc->file, rc, e->line, e->column,
                        e->message);
            fail();
        }
        /* The message starts with path:line:col. */
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "%s:%lu:%lu: ", path, bc->line, bc->column);
        assert_memory_equal(e->message, prefix, strlen(prefix));
        fixture_free(&f);
    }
}

static void test_dataset__stop_mode_stops_at_the_first_bad_row(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_stats st;
    int rc = tally_dataset_read_file(f.ds, data_path("mixed.csv"), NULL, rej, &st);
    assert_int_equal(rc, TALLY_ENOTFOUND);
    /* Lines 2 and 3 accepted, line 4 rejected, then nothing more read. */
    assert_int_equal(st.rows_read, 3);
    assert_int_equal(st.rows_accepted, 2);
    assert_int_equal(st.rows_rejected, 1);
    assert_int_equal(tally_rejects_count(rej), 1);
    assert_int_equal(tally_rejects_line(rej, 0), 4);
    tally_rejects_free(rej);
    fixture_free(&f);
}

static void test_dataset__collect_mode_keeps_every_bad_row(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    const char *path = data_path("mixed.csv");
    assert_int_equal(tally_dataset_read_file(f.ds, path, &opts, rej, &st), 0);
    /* mixed.csv, by hand: lines 2, 3, 7, 9 good; 4 unknown region; 5 bad
     * number at column 28; 6 blank (not a row); 8 duplicate of line 7
     * (line 7 filed an empty value, which still counts as given). */
    assert_int_equal(st.rows_read, 7);
    assert_int_equal(st.rows_accepted, 4);
    assert_int_equal(st.rows_rejected, 3);
    assert_int_equal(st.rows_read, st.rows_accepted + st.rows_rejected);
    assert_int_equal(tally_rejects_count(rej), 3);
    static const unsigned long lines[] = { 4, 5, 8 }, cols[] = { 1, 28, 1 };
    static const int codes[] = { TALLY_ENOTFOUND, TALLY_EPARSE, TALLY_EEXIST };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(tally_rejects_line(rej, i), lines[i]);
        assert_int_equal(tally_rejects_column(rej, i), cols[i]);
        assert_int_equal(tally_rejects_code(rej, i), codes[i]);
        assert_string_equal(tally_rejects_path(rej, i), path);
    }
    assert_string_equal(tally_rejects_row(rej, 1), "430602001001,exits,2019-02,x");
    assert_non_null(strstr(tally_rejects_reason(rej, 1), "bad number 'x'"));

    /* Written as CSV: a header and one line per rejected row. */
    char out[] = "/tmp/tally-rejects-XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_rejects_write_csv(rej, out), 0);
    FILE *fp = fopen(out, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "file,line,column,reason,row\n");
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n++;
    fclose(fp);
    unlink(out);
    assert_int_equal(n, 3);

    int present;
    assert_true(reported(&f, V2, N_EXITS, "2019-01", &present) == 2.0 && present);
    tally_rejects_free(rej);
    fixture_free(&f);
}

static void test_dataset__duplicates_across_files(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    static const char a[] = "region_code,indicator,period,value\n430602001001,poor,2019-01,10\n";
    static const char b[] = "region_code,indicator,period,value\n430602001002,poor,2019-01,1\n"
                            "430602001001,poor,2019-01,10\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, a, sizeof a - 1, "a.csv", NULL, NULL, NULL), 0);
    assert_int_equal(tally_dataset_read_buffer(f.ds, b, sizeof b - 1, "b.csv", NULL, NULL, NULL),
                     TALLY_EEXIST);
    assert_string_equal(tally_error_last()->path, "b.csv");
    assert_int_equal(tally_error_last()->line, 3);
    fixture_free(&f);
}

static void test_dataset__add_checks_its_arguments(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "poor", "2019-03", 4), 0);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "poor", "2019-03", 5), TALLY_EEXIST);
    assert_int_equal(tally_dataset_add(f.ds, "999", "poor", "2019-03", 5), TALLY_ENOTFOUND);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "nope", "2019-03", 5), TALLY_ENOTFOUND);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "poor", "2019-3", 5), TALLY_EPARSE);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "pop", "2019-03", INFINITY), TALLY_ERANGE);
    assert_int_equal(tally_dataset_add(f.ds, "430602001002", "poor", "2019-03", NAN), 0);
    int present;
    reported(&f, V2, N_POOR, "2019-03", &present);
    assert_false(present);
    assert_int_equal(tally_dataset_add(f.ds, "430602001002", "poor", "2019-03", 1), TALLY_EEXIST);
    fixture_free(&f);
}

static void test_dataset__header_problems(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    static const char empty[] = "";
    assert_int_equal(tally_dataset_read_buffer(f.ds, empty, 0, "e.csv", NULL, NULL, NULL), TALLY_EPARSE);
    assert_int_equal(tally_error_last()->line, 1);
    /* Wide header with a column that is not an indicator: at that column. */
    static const char wide[] = "region_code,period,poor,povrety\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, wide, sizeof wide - 1, "w.csv", NULL, NULL, NULL),
                     TALLY_ENOTFOUND);
    assert_int_equal(tally_error_last()->line, 1);
    assert_int_equal(tally_error_last()->column, 25); /* "region_code,period,poor," is 24 */
    /* indicator without value. */
    static const char half[] = "region_code,indicator,period\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, half, sizeof half - 1, "h.csv", NULL, NULL, NULL),
                     TALLY_EPARSE);
    /* Collect mode needs a rejects list. */
    tally_read_options opts = TALLY_READ_OPTIONS_INIT;
    opts.on_error = TALLY_ON_ERROR_COLLECT;
    assert_int_equal(tally_dataset_read_buffer(f.ds, half, sizeof half - 1, "h.csv", &opts, NULL, NULL),
                     TALLY_EINVAL);
    assert_int_equal(tally_dataset_read_file(f.ds, "/nonexistent/records.csv", NULL, NULL, NULL),
                     TALLY_EIO);
    assert_non_null(strstr(tally_error_last()->message, "/nonexistent/records.csv"));
    fixture_free(&f);
}


static void test_dataset__unknown_columns_are_refused_unless_declared(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* Long: "region_code,indicator,period,value," is 35 characters. */
    static const char lng[] = "region_code,indicator,period,value,cause\n"
                              "430602001001,poor,2019-01,1,illness\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, lng, sizeof lng - 1, "l.csv", NULL, NULL, NULL),
                     TALLY_EPARSE);
    assert_int_equal(tally_error_last()->line, 1);
    assert_int_equal(tally_error_last()->column, 36);
    assert_non_null(strstr(tally_error_last()->message, "l.csv:1:36: unknown column 'cause'"));
    assert_int_equal(tally_dataset_value_count(f.ds), 0);
    /* Wide: "region_code,period,poor," is 24 characters. */
    static const char wide[] = "region_code,period,poor,remark\n430602001001,2019-02,3,x\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, wide, sizeof wide - 1, "w.csv", NULL, NULL, NULL),
                     TALLY_ENOTFOUND);
    assert_int_equal(tally_error_last()->column, 25);
    fixture_free(&f);

    /* Declared, both layouts read and the column is not stored. */
    static char defs[4096];
    snprintf(defs, sizeof defs, "ignore_columns: [cause, remark]\n%s", fixture_definitions);
    fixture_load(&f, defs);
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, lng, sizeof lng - 1, "l.csv", NULL, NULL, &st), 0);
    assert_int_equal(st.rows_accepted, 1);
    assert_int_equal(tally_dataset_read_buffer(f.ds, wide, sizeof wide - 1, "w.csv", NULL, NULL, &st), 0);
    int present;
    assert_true(reported(&f, V1, N_POOR, "2019-01", &present) == 1.0 && present);
    assert_true(reported(&f, V1, N_POOR, "2019-02", &present) == 3.0 && present);
    assert_int_equal(tally_dataset_value_count(f.ds), 2); /* the wide row: poor only */
    fixture_free(&f);
}

static void test_dataset__region_name_is_compared_with_the_hierarchy(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* Row 3 says 村9 for 430602001002, which the hierarchy calls 村2; the
     * name cell starts after "430602001002," (13 characters). */
    static const char csv[] = "region_code,region_name,indicator,period,value\n"
                              "430602001001,村1,poor,2019-01,1\n"
                              "430602001002,村9,poor,2019-01,2\n"
                              "430626100201,,poor,2019-01,3\n";
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "r.csv", NULL, rej, &st), 0);
    assert_int_equal(st.rows_read, 3);
    assert_int_equal(st.rows_accepted, 3);
    assert_int_equal(st.rows_rejected, 0);
    assert_int_equal(tally_rejects_count(rej), 0);
    assert_int_equal(tally_rejects_warning_count(rej), 1);
    assert_string_equal(tally_rejects_warning_path(rej, 0), "r.csv");
    assert_int_equal(tally_rejects_warning_line(rej, 0), 3);
    assert_int_equal(tally_rejects_warning_column(rej, 0), 14);
    assert_string_equal(tally_rejects_warning_reason(rej, 0),
                        "430602001002 is 村2 in the hierarchy, the row says 村9");
    int present;
    assert_true(reported(&f, V2, N_POOR, "2019-01", &present) == 2.0 && present);
    tally_rejects_free(rej);
    fixture_free(&f);
}

static const char whole_defs[] = "indicators:\n"
                                 "  - id: poor\n"
                                 "    name: 建档立卡贫困人口\n"
                                 "    unit: 人\n"
                                 "    over_time: stock\n"
                                 "    exact: true\n"
                                 "  - id: pop\n"
                                 "    over_time: stock\n";

static void test_dataset__whole_counts_refuse_fractions(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, whole_defs);
    /* 3 villages x 12 months of poor, region by region (so the one-pass
     * rows read most of them), 1.2 at the second village's June: row 12 +
     * 5 = 17 from 0, line 19; "430602001002,poor,2019-06," is 26
     * characters. pop, not declared exact, keeps its fraction. */
    static const char *const codes[3] = { "430602001001", "430602001002", "430626100201" };
    char csv[4096];
    size_t n = (size_t)snprintf(csv, sizeof csv, "region_code,indicator,period,value\n");
    for (int v = 0; v < 3; v++)
        for (int m = 1; m <= 12; m++)
            n += (size_t)snprintf(csv + n, sizeof csv - n, "%s,poor,2019-%02d,%s\n", codes[v], m,
                                  v == 1 && m == 6 ? "1.2" : "4.0");
    n += (size_t)snprintf(csv + n, sizeof csv - n, "430602001001,pop,2019-01,1.5\n");
    for (unsigned int threads = 1; threads <= 2; threads++) {
        tally_dataset_free(f.ds);
        assert_int_equal(tally_dataset_new(&f.ds, f.h, f.d), 0);
        tally_rejects *rej;
        assert_int_equal(tally_rejects_new(&rej), 0);
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.on_error = TALLY_ON_ERROR_COLLECT;
        o.threads = threads;
        tally_read_stats st;
        assert_int_equal(tally_dataset_read_buffer(f.ds, csv, n, "r.csv", &o, rej, &st), 0);
        assert_int_equal(st.rows_read, 37);
        assert_int_equal(st.rows_accepted, 36);
        assert_int_equal(st.rows_rejected, 1);
        assert_int_equal(tally_rejects_line(rej, 0), 19);
        assert_int_equal(tally_rejects_column(rej, 0), 27);
        assert_int_equal(tally_rejects_code(rej, 0), TALLY_EINVAL);
        assert_non_null(strstr(tally_rejects_reason(rej, 0),
                               "1.2 is not a whole number; 建档立卡贫困人口 counts whole 人"));
        int present;
        assert_true(reported(&f, V1, N_POOR + 1, "2019-01", &present) == 1.5 && present);
        tally_rejects_free(rej);
    }
    /* tally_dataset_add holds to the same rule. */
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "poor", "2019-Q3", 0.5), TALLY_EINVAL);
    assert_int_equal(tally_dataset_add(f.ds, "430602001001", "poor", "2019-Q3", 2.0), 0);
    fixture_free(&f);
}

static void test_dataset__whole_numbers_past_2_53_are_refused(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* 2^53 + 1 cannot be held; 2^53 and 2^53 + 2 can. */
    static const char csv[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-01,9007199254740992\n"
                              "430602001002,poor,2019-01,9007199254740993\n"
                              "430626100201,poor,2019-01,9007199254740994\n";
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options o = TALLY_READ_OPTIONS_INIT;
    o.on_error = TALLY_ON_ERROR_COLLECT;
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "r.csv", &o, rej, &st), 0);
    assert_int_equal(st.rows_accepted, 2);
    assert_int_equal(tally_rejects_count(rej), 1);
    assert_int_equal(tally_rejects_line(rej, 0), 3);
    assert_int_equal(tally_rejects_column(rej, 0), 27);
    assert_int_equal(tally_rejects_code(rej, 0), TALLY_ERANGE);
    assert_non_null(strstr(tally_rejects_reason(rej, 0), "'9007199254740993'"));
    assert_non_null(strstr(tally_rejects_reason(rej, 0), "2^53"));
    int present;
    assert_true(reported(&f, V3, N_POOR, "2019-01", &present) == 9007199254740994.0 && present);
    tally_rejects_free(rej);
    fixture_free(&f);
}

static void test_dataset__periods_with_values(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* 2018-12 has an empty cell only: no value. */
    static const char csv[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-Q2,1\n"
                              "430602001001,poor,2018-12,\n"
                              "430602001002,exits,2019-01,2\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "r.csv", NULL, NULL, NULL), 0);
    char *text = NULL;
    assert_int_equal(tally_dataset_periods(f.ds, &text), 0);
    assert_string_equal(text, "2019-01,2019-Q2");
    tally_free(text);
    assert_int_equal(tally_dataset_period_has_values(f.ds, "2019"), 1);
    assert_int_equal(tally_dataset_period_has_values(f.ds, "2019-Q2"), 1);
    assert_int_equal(tally_dataset_period_has_values(f.ds, "2019-04"), 0); /* inside Q2, not all of it */
    assert_int_equal(tally_dataset_period_has_values(f.ds, "2018"), 0);
    assert_int_equal(tally_dataset_period_has_values(f.ds, "2019-13"), TALLY_EPARSE);
    fixture_free(&f);
}

/* Converts UTF-8 text to GB18030 with iconv, to make test input. */
static char *to_gb18030(const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t in_left = strlen(utf8), cap = in_left * 2 + 8, out_left = cap;
    char *buf = malloc(cap), *in = (char *)utf8, *out = buf;
    assert_true(iconv(cd, &in, &in_left, &out, &out_left) != (size_t)-1);
    iconv_close(cd);
    *len = cap - out_left;
    return buf;
}

static void test_dataset__gb18030_inputs_are_converted(void **state)
{
    (void)state;
    /* The fixture hierarchy in GB18030: names come back as UTF-8. */
    size_t len;
    char *gb = to_gb18030(fixture_hierarchy, &len);
    assert_true(len < sizeof fixture_hierarchy - 1); /* 2 bytes per Han character, not 3 */
    tally_hierarchy *h;
    assert_int_equal(tally_hierarchy_from_buffer(&h, gb, len, "gb.csv", NULL), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "--encoding gb18030"));
    assert_int_equal(tally_error_last()->line, 2);
    tally_hierarchy_options ho = TALLY_HIERARCHY_OPTIONS_INIT;
    ho.encoding = "gb18030";
    assert_int_equal(tally_hierarchy_from_buffer(&h, gb, len, "gb.csv", &ho), 0);
    assert_int_equal(tally_hierarchy_size(h), 9);
    assert_string_equal(tally_hierarchy_name(h, 1), "岳阳市");
    assert_string_equal(tally_hierarchy_name(h, 8), "村3");
    tally_hierarchy_free(h);
    free(gb);

    /* Records: a rejected row that is not UTF-8 says so. */
    fixture f;
    fixture_load(&f, NULL);
    static const char raw[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-01,10\n"
                              "430602001002,poor,2019-01,\xB4\xE5\n"; /* 村 in GB18030 */
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, raw, sizeof raw - 1, "r.csv", NULL, NULL, &st),
                     TALLY_EPARSE);
    assert_int_equal(tally_error_last()->line, 3);
    assert_int_equal(tally_error_last()->column, 27);
    assert_non_null(strstr(tally_error_last()->message, "not valid UTF-8"));
    assert_non_null(strstr(tally_error_last()->message, "--encoding gb18030"));

    /* Bytes that are not GB18030 either: located in the input. "\x81\x20"
     * is a lead byte with a trail that cannot follow it. */
    static const char bad[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-02,10\n"
                              "430602001002,\x81\x20poor,2019-02,1\n";
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.encoding = "GB18030";
    assert_int_equal(tally_dataset_read_buffer(f.ds, bad, sizeof bad - 1, "b.csv", &ro, NULL, &st),
                     TALLY_EPARSE);
    assert_int_equal(tally_error_last()->line, 3);
    assert_int_equal(tally_error_last()->column, 14);
    ro.encoding = "no-such-encoding";
    assert_int_equal(tally_dataset_read_buffer(f.ds, bad, sizeof bad - 1, "b.csv", &ro, NULL, &st),
                     TALLY_EINVAL);
    fixture_free(&f);
}

static void test_dataset__limits_reject_the_row(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    tally_rejects *rej;
    assert_int_equal(tally_rejects_new(&rej), 0);
    tally_read_options ro = TALLY_READ_OPTIONS_INIT;
    ro.on_error = TALLY_ON_ERROR_COLLECT;
    ro.max_field_bytes = 12;
    ro.max_columns = 4;
    /* Line 3: a 13-byte code; line 4: five fields (the fifth at column 30). */
    static const char csv[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-01,10\n"
                              "4306020010011,poor,2019-01,10\n"
                              "430602001002,poor,2019-01,10,x\n"
                              "430602001002,pop,2019-01,5\n";
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, csv, sizeof csv - 1, "l.csv", &ro, rej, &st), 0);
    assert_int_equal(st.rows_read, 4);
    assert_int_equal(st.rows_accepted, 2);
    assert_int_equal(st.rows_rejected, 2);
    assert_int_equal(tally_rejects_code(rej, 0), TALLY_ELIMIT);
    assert_int_equal(tally_rejects_line(rej, 0), 3);
    assert_int_equal(tally_rejects_column(rej, 0), 1);
    assert_non_null(strstr(tally_rejects_reason(rej, 0), "field of 13 bytes; the limit is 12 bytes"));
    assert_int_equal(tally_rejects_code(rej, 1), TALLY_ELIMIT);
    assert_int_equal(tally_rejects_line(rej, 1), 4);
    assert_int_equal(tally_rejects_column(rej, 1), 30);
    assert_non_null(strstr(tally_rejects_reason(rej, 1), "row has 5 fields; the limit is 4"));
    /* A version 1 options struct (no limits) still works: the defaults. */
    tally_read_options v1 = { 1, TALLY_ON_ERROR_STOP, NULL, 0, 0, 0, 0, 0, NULL };
    static const char ok[] = "region_code,indicator,period,value\n4306020010011,poor,2019-03,1\n";
    assert_int_equal(tally_dataset_read_buffer(f.ds, ok, sizeof ok - 1, "v1.csv", &v1, NULL, &st),
                     TALLY_ENOTFOUND); /* an unknown region, not a limit */
    tally_rejects_free(rej);
    fixture_free(&f);
}

/* A 2.8 MB file (two pieces at least for two threads) of one village's
 * "poor" over 100000 months, with bad rows placed at lines counted here as
 * the file is written: the first data row, one after a quoted value with
 * a line break (every line after it is one further on), and the last row;
 * CRLF rows in between. Read with one thread and with two, the rejected
 * rows are the same, at the same lines and columns; with `dup`, a row
 * repeats a cell given 80000 lines before (in another piece: the read is
 * done again serially) and is rejected at its own line. */
typedef struct planted {
    unsigned long line, column;
    int code;
} planted;

static size_t months_file(char **out, int dup, planted *bad, size_t *nbad)
{
    size_t cap = 4u << 20, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    unsigned long line = 1;
    *nbad = 0;
    n += (size_t)snprintf(b + n, cap - n, "region_code,indicator,period,value\n");
    line++;
    /* Line 2: a month 13 (the period starts at column 19). */
    n += (size_t)snprintf(b + n, cap - n, "430602001001,poor,1000-13,1\n");
    bad[(*nbad)++] = (planted){ line++, 19, TALLY_EPARSE };
    for (int k = 0; k < 100000; k++) {
        int y = 1000 + k / 12, m = 1 + k % 12;
        if (k == 50000) {
            /* A quoted value over two lines: a bad number at column 27. */
            n += (size_t)snprintf(b + n, cap - n, "430602001001,poor,%04d-%02d,\"1\n2\"\n", y, m);
            bad[(*nbad)++] = (planted){ line, 27, TALLY_EPARSE };
            line += 2;
            continue;
        }
        if (k == 60000) {
            /* An unknown indicator at column 14. */
            n += (size_t)snprintf(b + n, cap - n, "430602001001,nosuch,%04d-%02d,1\n", y, m);
            bad[(*nbad)++] = (planted){ line++, 14, TALLY_ENOTFOUND };
            continue;
        }
        if (dup && k == 90000) {
            n += (size_t)snprintf(b + n, cap - n, "430602001001,poor,1833-05,9\n"); /* k 10000 */
            bad[(*nbad)++] = (planted){ line++, 1, TALLY_EEXIST };
            continue;
        }
        n += (size_t)snprintf(b + n, cap - n, "430602001001,poor,%04d-%02d,%d%s", y, m, k % 97,
                              k % 7 == 3 ? "\r\n" : "\n");
        line++;
    }
    /* The last row, without a line break: an unknown region. */
    n += (size_t)snprintf(b + n, cap - n, "430602001009,poor,2019-01,1");
    bad[(*nbad)++] = (planted){ line, 1, TALLY_ENOTFOUND };
    *out = b;
    return n;
}

static void test_dataset__threads_reject_rows_at_their_lines(void **state)
{
    (void)state;
    for (int dup = 0; dup < 2; dup++) {
        char *buf;
        planted bad[8];
        size_t nbad, n = months_file(&buf, dup, bad, &nbad);
        assert_true(n > (2u << 20));
        for (unsigned int threads = 1; threads <= 2; threads++) {
            fixture f;
            fixture_load(&f, NULL);
            tally_rejects *rej;
            assert_int_equal(tally_rejects_new(&rej), 0);
            tally_read_options o = TALLY_READ_OPTIONS_INIT;
            o.on_error = TALLY_ON_ERROR_COLLECT;
            o.threads = threads;
            tally_read_stats st;
            assert_int_equal(tally_dataset_read_buffer(f.ds, buf, n, "months.csv", &o, rej, &st),
                             0);
            /* 100000 months and the 2 bad rows around them; 2 or 3 of the
             * months are bad rows themselves. */
            assert_int_equal(st.rows_read, 100002);
            assert_int_equal(st.rows_rejected, nbad);
            assert_int_equal(tally_dataset_value_count(f.ds), 100000 - (nbad - 2));
            assert_int_equal(tally_rejects_count(rej), nbad);
            for (size_t i = 0; i < nbad; i++) {
                assert_string_equal(tally_rejects_path(rej, i), "months.csv");
                assert_int_equal(tally_rejects_line(rej, i), bad[i].line);
                assert_int_equal(tally_rejects_column(rej, i), bad[i].column);
                assert_int_equal(tally_rejects_code(rej, i), bad[i].code);
            }
            /* The last error is the last rejected row's, as a serial read
             * leaves it. */
            assert_int_equal(tally_error_last()->line, bad[nbad - 1].line);
            assert_int_equal(tally_error_last()->code, TALLY_ENOTFOUND);
            /* Month k of year y holds k % 97, or 9 for the repeated cell's
             * first filing (k 10000 = 1833-05: 10000 % 97 = 9 too). */
            int present;
            assert_true(reported(&f, V1, N_POOR, "1833-05", &present) == 9);
            assert_true(reported(&f, V1, N_POOR, "9333-04", &present) == 99999 % 97);
            assert_int_equal(present, 1);
            tally_rejects_free(rej);
            fixture_free(&f);
        }
        free(buf);
    }
}

/* The mapped pages of a records file are given back as the read goes on:
 * reading 48 MB raises the peak resident memory by a few MB (the pieces
 * being read), not by the file. Rows carry a 3000-byte note (a column the
 * long layout ignores), so the dataset itself stays small: 16000 rows over
 * the 9 regions, 4 indicators and 445 months. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256], fmt[64];
    long kb = -1;
    snprintf(fmt, sizeof fmt, "%s: %%ld kB", key);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return (fclose(f) == 0) & ok;
}

static const char *const fixture_codes[9] = { "430000000000", "430600000000", "430602000000",
                                              "430602001000", "430602001001", "430602001002",
                                              "430626000000", "430626100000", "430626100201" };

static void test_dataset__file_pages_are_given_back(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/tally-test-dataset-%ld.csv", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    static char note[3001];
    memset(note, 'n', 3000);
    static const char *const ids[4] = { "poor", "exits", "pop", "trained" };
    fputs("region_code,indicator,period,value,note\n", out);
    size_t rows = 0;
    for (int k = 0; rows < 16000; k++)
        for (int r = 0; r < 9; r++)
            for (int i = 0; i < 4; i++, rows++)
                fprintf(out, "%s,%s,%04d-%02d,%d,%s\n", fixture_codes[r], ids[i], 1000 + k / 12,
                        1 + k % 12, (k * 7 + r * 3 + i) % 89, note);
    assert_int_equal(fclose(out), 0);
    /* The note column is declared, as a file with remarks must be. */
    static char defs[4096];
    snprintf(defs, sizeof defs, "ignore_columns: [note]\n%s", fixture_definitions);
    fixture f[2];
    for (unsigned int threads = 1; threads <= 2; threads++) {
        fixture_load(&f[threads - 1], defs);
        tally_read_options o = TALLY_READ_OPTIONS_INIT;
        o.threads = threads;
        long rss = status_kb("VmRSS");
        int reset = reset_peak();
        tally_read_stats st;
        assert_int_equal(tally_dataset_read_file(f[threads - 1].ds, path, &o, NULL, &st), 0);
        assert_int_equal(st.rows_accepted, rows);
        long peak = status_kb("VmHWM");
        if (getenv("TALLY_TEST_VERBOSE"))
            print_message("threads %u: peak %ld kB over %ld kB\n", threads, peak - rss, rss);
#if !defined(__SANITIZE_THREAD__) /* its shadow of the pages read stays resident */
        if (reset && rss > 0 && peak > 0)
            assert_true(peak - rss < 16 * 1024); /* the file is 48 MB */
#endif
    }
    unlink(path);
    /* One thread and two read the same, the values written above. */
    assert_int_equal(tally_dataset_value_count(f[0].ds), rows);
    assert_int_equal(tally_dataset_value_count(f[1].ds), rows);
    for (int k = 0; k < (int)(rows / 36); k += 7) {
        char per[16];
        snprintf(per, sizeof per, "%04d-%02d", 1000 + k / 12, 1 + k % 12);
        for (size_t r = 0; r < 9; r++)
            for (size_t i = 0; i < 4; i++) {
                int pa, pb;
                double a = reported(&f[0], r, i, per, &pa), b = reported(&f[1], r, i, per, &pb);
                assert_int_equal(pa, 1);
                assert_int_equal(pb, 1);
                assert_true(a == b && a == (double)((k * 7 + (int)r * 3 + (int)i) % 89));
            }
    }
    fixture_free(&f[0]);
    fixture_free(&f[1]);
}

/* Options of version 2 (before `threads`) read as before: the field is not
 * looked at. */
static void test_dataset__version_2_options_ignore_threads(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    tally_read_options v2 = TALLY_READ_OPTIONS_INIT;
    v2.version = 2;
    v2.threads = 12345; /* not part of a version 2 struct */
    static const char ok[] = "region_code,indicator,period,value\n430602001001,poor,2019-03,1\n";
    tally_read_stats st;
    assert_int_equal(tally_dataset_read_buffer(f.ds, ok, sizeof ok - 1, "v2.csv", &v2, NULL, &st),
                     0);
    assert_int_equal(st.rows_accepted, 1);
    fixture_free(&f);
}

/* ---- values added from arrays ---- */

static void expect_reported(const fixture *f, size_t node, size_t ind, const char *period,
                         double want)
{
    int present;
    double v = reported(f, node, ind, period, &present);
    if (!present || v != want)
        print_error("%zu/%zu/%s: %g (present %d), expected %g\n", node, ind, period, v, present,
                    want);
    assert_true(present);
    assert_true(v == want);
}

static void test_dataset__add_values_stores_every_element(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    /* One period text for several elements, as a binding passes one value
     * for all: the same pointer. */
    static const char jan[] = "2019-01";
    const char *codes[] = { "430602001001", "430602001002", "430602001002", "430626100201",
                            "430602001001", "430602001001" };
    const char *inds[] = { "poor", "poor", "exits", "pop", "pop", "poor" };
    const char *pers[] = { jan, jan, "2019-q1", "2019-02", "2019-02", "2019-02" };
    const double vals[] = { 10, -3.25, 100, NAN, 200, 0.1 };
    tally_read_stats st;
    assert_int_equal(tally_dataset_add_values(f.ds, 6, codes, inds, pers, vals,
                                              TALLY_ON_ERROR_STOP, NULL, &st),
                     0);
    assert_int_equal(st.rows_read, 6);
    assert_int_equal(st.rows_accepted, 6);
    assert_int_equal(st.rows_rejected, 0);
    expect_reported(&f, V1, N_POOR, "2019-01", 10);
    expect_reported(&f, V2, N_POOR, "2019-01", -3.25);
    expect_reported(&f, V2, N_EXITS, "2019-Q1", 100); /* "q1" is the same quarter */
    expect_reported(&f, V1, N_POP, "2019-02", 200);
    expect_reported(&f, V1, N_POOR, "2019-02", 0.1);
    int present;
    reported(&f, V3, N_POP, "2019-02", &present);
    assert_false(present); /* NaN: filed empty, missing */
    /* Six cells, one of them filed empty. */
    assert_int_equal(tally_dataset_value_count(f.ds), 6);
    /* The empty cell was given: giving it again is a duplicate. */
    const char *again[] = { "430626100201" };
    const char *pop[] = { "pop" }, *feb[] = { "2019-02" };
    const double one[] = { 1 };
    assert_int_equal(tally_dataset_add_values(f.ds, 1, again, pop, feb, one, TALLY_ON_ERROR_STOP,
                                              NULL, NULL),
                     TALLY_EEXIST);
    /* Nothing to add: nothing happens, and the arrays may be NULL. */
    assert_int_equal(tally_dataset_add_values(f.ds, 0, NULL, NULL, NULL, NULL,
                                              TALLY_ON_ERROR_STOP, NULL, &st),
                     0);
    assert_int_equal(st.rows_read, 0);
    assert_int_equal(tally_dataset_value_count(f.ds), 6);
    fixture_free(&f);
}

/* The same cells through the array and through a records CSV: the same
 * dataset. */
static void test_dataset__add_values_equals_reading_the_rows(void **state)
{
    (void)state;
    static const char csv[] = "region_code,indicator,period,value\n"
                              "430602001001,poor,2019-01,10\n"
                              "430602001002,poor,2019-01,-3.25\n"
                              "430626100201,poor,2019-01,\n"
                              "430602001001,income,2019,1234.5\n"
                              "430626100201,trained,2019-Q4,7\n";
    const char *codes[] = { "430602001001", "430602001002", "430626100201", "430602001001",
                            "430626100201" };
    const char *inds[] = { "poor", "poor", "poor", "income", "trained" };
    const char *pers[] = { "2019-01", "2019-01", "2019-01", "2019", "2019-Q4" };
    const double vals[] = { 10, -3.25, NAN, 1234.5, 7 };
    fixture a, b;
    fixture_load(&a, NULL);
    fixture_load(&b, NULL);
    assert_int_equal(tally_dataset_read_buffer(a.ds, csv, sizeof csv - 1, "r.csv", NULL, NULL,
                                               NULL),
                     0);
    assert_int_equal(tally_dataset_add_values(b.ds, 5, codes, inds, pers, vals,
                                              TALLY_ON_ERROR_STOP, NULL, NULL),
                     0);
    assert_int_equal(tally_dataset_value_count(a.ds), tally_dataset_value_count(b.ds));
    for (size_t node = 0; node < 9; node++)
        for (size_t ind = 0; ind < 5; ind++)
            for (size_t k = 0; k < 5; k++) {
                int pa, pb;
                double va = reported(&a, node, ind, pers[k], &pa);
                double vb = reported(&b, node, ind, pers[k], &pb);
                assert_int_equal(pa, pb);
                if (pa)
                    assert_true(va == vb);
            }
    fixture_free(&a);
    fixture_free(&b);
}

typedef struct bad_element {
    const char *code, *ind, *per;
    double value;
    int rc;
    const char *message; /* of the element, numbered 1 */
    const char *text;
} bad_element;

/* Element 0 is good, element 1 bad, element 2 good: stop mode stops at 1
 * with element 0 added. */
static void test_dataset__add_values_stop_at_the_bad_element(void **state)
{
    (void)state;
    static const bad_element cases[] = {
        { "999", "poor", "2019-03", 1, TALLY_ENOTFOUND,
          "element 1 (region 999, indicator poor, period 2019-03): unknown region code '999'; "
          "expected a code of the hierarchy",
          "999" },
        { "430602001002", "poor", "2019-13", 1, TALLY_EPARSE,
          "element 1 (region 430602001002, indicator poor, period 2019-13): bad period "
          "'2019-13'; expected YYYY-MM, YYYY-Qn or YYYY",
          "2019-13" },
        { "430602001002", "nope", "2019-03", 1, TALLY_ENOTFOUND,
          "element 1 (region 430602001002, indicator nope, period 2019-03): unknown indicator "
          "'nope'; expected an id from the definitions",
          "nope" },
        { "430602001002", "poor", "2019-03", -INFINITY, TALLY_ERANGE,
          "element 1 (region 430602001002, indicator poor, period 2019-03): value is "
          "infinite; expected a finite number",
          NULL },
        /* Element 0's cell again ("2019-q3" is its quarter): the period as
         * the library writes it. */
        { "430602001001", "poor", "2019-q3", 2, TALLY_EEXIST,
          "element 1 (region 430602001001, indicator poor, period 2019-q3): duplicate record "
          "for region 430602001001, indicator poor, period 2019-Q3; each is given once",
          "430602001001" },
        { NULL, "poor", "2019-03", 1, TALLY_EINVAL,
          "element 1 (region NULL, indicator poor, period 2019-03): the region code is NULL; "
          "expected a string",
          NULL },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const bad_element *c = &cases[k];
        fixture f;
        fixture_load(&f, NULL);
        const char *per0 = c->rc == TALLY_EEXIST ? "2019-Q3" : "2019-03";
        const char *codes[] = { "430602001001", c->code, "430626100201" };
        const char *inds[] = { "poor", c->ind, "poor" };
        const char *pers[] = { per0, c->per, "2019-03" };
        const double vals[] = { 1, c->value, 3 };
        tally_read_stats st;
        int rc = tally_dataset_add_values(f.ds, 3, codes, inds, pers, vals, TALLY_ON_ERROR_STOP,
                                          NULL, &st);
        const tally_error *e = tally_error_last();
        if (rc != c->rc || strcmp(e->message, c->message) != 0)
            print_error("case %zu: %d %s\n", k, rc, e->message);
        assert_int_equal(rc, c->rc);
        assert_string_equal(e->message, c->message);
        assert_null(e->path);
        assert_int_equal(e->line, 0);
        if (c->text)
            assert_string_equal(e->text, c->text);
        else
            assert_null(e->text);
        /* The bad one is element rows_accepted; the one before it stays. */
        assert_int_equal(st.rows_read, 2);
        assert_int_equal(st.rows_accepted, 1);
        assert_int_equal(st.rows_rejected, 1);
        assert_int_equal(tally_dataset_value_count(f.ds), 1);
        expect_reported(&f, V1, N_POOR, per0, 1);
        fixture_free(&f);
    }
}

static void test_dataset__add_values_collect_every_bad_element(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    const char *codes[] = { "430602001001", "a,b", "430602001002", "430626100201",
                            "430602001001" };
    const char *inds[] = { "poor", "poor", "poor", "poor", "poor" };
    const char *pers[] = { "2019-04", "2019-04", "2019-4", "2019-04", "2019-04" };
    const double vals[] = { 1.5, 2, NAN, 0.1, 9 };
    tally_rejects *rj;
    assert_int_equal(tally_rejects_new(&rj), 0);
    tally_read_stats st;
    assert_int_equal(tally_dataset_add_values(f.ds, 5, codes, inds, pers, vals,
                                              TALLY_ON_ERROR_COLLECT, rj, &st),
                     0);
    /* Elements 1 (unknown region), 2 (bad period) and 4 (element 0's cell)
     * are bad; 0 and 3 are added. */
    assert_int_equal(st.rows_read, 5);
    assert_int_equal(st.rows_accepted, 2);
    assert_int_equal(st.rows_rejected, 3);
    assert_int_equal(tally_dataset_value_count(f.ds), 2);
    expect_reported(&f, V1, N_POOR, "2019-04", 1.5);
    expect_reported(&f, V3, N_POOR, "2019-04", 0.1);
    assert_int_equal(tally_rejects_count(rj), 3);
    static const struct {
        unsigned long line;
        int code;
        const char *reason, *row;
    } want[] = {
        { 2, TALLY_ENOTFOUND,
          "element 1 (region a,b, indicator poor, period 2019-04): unknown region code 'a,b'; "
          "expected a code of the hierarchy",
          "\"a,b\",poor,2019-04,2" },
        { 3, TALLY_EPARSE,
          "element 2 (region 430602001002, indicator poor, period 2019-4): bad period "
          "'2019-4'; expected YYYY-MM, YYYY-Qn or YYYY",
          "430602001002,poor,2019-4," },
        { 5, TALLY_EEXIST,
          "element 4 (region 430602001001, indicator poor, period 2019-04): duplicate record "
          "for region 430602001001, indicator poor, period 2019-04; each is given once",
          "430602001001,poor,2019-04,9" },
    };
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(tally_rejects_path(rj, i), "<values>");
        assert_int_equal(tally_rejects_line(rj, i), want[i].line);
        assert_int_equal(tally_rejects_column(rj, i), 0);
        assert_int_equal(tally_rejects_code(rj, i), want[i].code);
        assert_string_equal(tally_rejects_reason(rj, i), want[i].reason);
        assert_string_equal(tally_rejects_row(rj, i), want[i].row);
    }
    tally_rejects_free(rj);
    fixture_free(&f);
}

static void test_dataset__add_values_checks_its_arguments(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    const char *codes[] = { "430602001001" }, *inds[] = { "poor" }, *pers[] = { "2019-05" };
    const double vals[] = { 1 };
    tally_read_stats st;
    assert_int_equal(tally_dataset_add_values(NULL, 1, codes, inds, pers, vals,
                                              TALLY_ON_ERROR_STOP, NULL, &st),
                     TALLY_EINVAL);
    assert_int_equal(tally_dataset_add_values(f.ds, 1, codes, NULL, pers, vals,
                                              TALLY_ON_ERROR_STOP, NULL, &st),
                     TALLY_EINVAL);
    assert_int_equal(tally_dataset_add_values(f.ds, 1, codes, inds, pers, NULL,
                                              TALLY_ON_ERROR_STOP, NULL, &st),
                     TALLY_EINVAL);
    /* Collecting needs a list to collect into. */
    assert_int_equal(tally_dataset_add_values(f.ds, 1, codes, inds, pers, vals,
                                              TALLY_ON_ERROR_COLLECT, NULL, &st),
                     TALLY_EINVAL);
    assert_int_equal(st.rows_read, 0);
    assert_int_equal(tally_dataset_value_count(f.ds), 0);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset__long_rows_are_stored),
        cmocka_unit_test(test_dataset__wide_rows_are_stored),
        cmocka_unit_test(test_dataset__bad_rows_name_file_line_column),
        cmocka_unit_test(test_dataset__stop_mode_stops_at_the_first_bad_row),
        cmocka_unit_test(test_dataset__collect_mode_keeps_every_bad_row),
        cmocka_unit_test(test_dataset__duplicates_across_files),
        cmocka_unit_test(test_dataset__add_checks_its_arguments),
        cmocka_unit_test(test_dataset__header_problems),
        cmocka_unit_test(test_dataset__unknown_columns_are_refused_unless_declared),
        cmocka_unit_test(test_dataset__region_name_is_compared_with_the_hierarchy),
        cmocka_unit_test(test_dataset__whole_counts_refuse_fractions),
        cmocka_unit_test(test_dataset__whole_numbers_past_2_53_are_refused),
        cmocka_unit_test(test_dataset__periods_with_values),
        cmocka_unit_test(test_dataset__gb18030_inputs_are_converted),
        cmocka_unit_test(test_dataset__limits_reject_the_row),
        cmocka_unit_test(test_dataset__threads_reject_rows_at_their_lines),
        cmocka_unit_test(test_dataset__file_pages_are_given_back),
        cmocka_unit_test(test_dataset__version_2_options_ignore_threads),
        cmocka_unit_test(test_dataset__add_values_stores_every_element),
        cmocka_unit_test(test_dataset__add_values_equals_reading_the_rows),
        cmocka_unit_test(test_dataset__add_values_stop_at_the_bad_element),
        cmocka_unit_test(test_dataset__add_values_collect_every_bad_element),
        cmocka_unit_test(test_dataset__add_values_checks_its_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
