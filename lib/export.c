/* Writing results as CSV or JSON, and formatting numbers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/export.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "export.h"
#include "hierarchy.h"
#include "tally/definitions.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "write.h"

static const uint64_t pow10_u64[] = { 1ULL,
                                      10ULL,
                                      100ULL,
                                      1000ULL,
                                      10000ULL,
                                      100000ULL,
                                      1000000ULL,
                                      10000000ULL,
                                      100000000ULL,
                                      1000000000ULL,
                                      10000000000ULL,
                                      100000000000ULL,
                                      1000000000000ULL,
                                      10000000000000ULL,
                                      100000000000000ULL,
                                      1000000000000000ULL,
                                      10000000000000000ULL,
                                      100000000000000000ULL,
                                      1000000000000000000ULL,
                                      10000000000000000000ULL };
static const double pow10_table[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/* Writes N = round_half_away(|D| * 10^decimals) as decimal digits, where D
 * is the shortest decimal that reads back as `a` (at most 17 significant
 * digits). Returns the number of digits written to `units` (>= 1). */
static int units_of_shortest(double a, int decimals, char *units)
{
    char buf[40];
    int prec = 15;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
        if (strtod(buf, NULL) == a)
            break;
    }
    snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
    /* buf is d.ddd...e[+-]XX */
    char m[20];
    int p = 0;
    const char *q = buf;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            m[p++] = *q;
    int e = atoi(q + 1);
    while (p > 1 && m[p - 1] == '0')
        p--;
    long k = (long)e + 1 + decimals; /* digits of m that stay */
    if (k <= 0) {
        units[0] = k == 0 && m[0] >= '5' ? '1' : '0';
        return 1;
    }
    int n = 0;
    units[n++] = '0'; /* room for a carry */
    for (long i = 0; i < k; i++)
        units[n++] = i < p ? m[i] : '0';
    if (k < p && m[k] >= '5') {
        int i = n - 1;
        while (units[i] == '9')
            units[i--] = '0';
        units[i]++;
    }
    if (units[0] == '0') {
        memmove(units, units + 1, (size_t)--n);
    }
    return n;
}

/* N = a * 10^decimals (a = |v|) rounded as tally_format_number rounds,
 * into *u: 1, or 0 when only the exact path on the shortest decimal can
 * tell (and for NaN and infinities).
 * - A whole number below 2^53 is its own shortest decimal, so N is it
 *   times 10^decimals (kept below 10^16); sums of counts, mostly.
 * - Otherwise N is the scaled binary value rounded half up. That agrees
 *   with rounding the shortest decimal except near a tie (2.675 is stored
 *   as 2.67499999999999982236431605997495353221893310546875, and a person
 *   who wrote 2.675 expects 2.68) and where the scaled value has no
 *   fraction bits left (from 2^52). Scaling is one multiplication, so the
 *   scaled value is within an ulp of the exact product: far inside the
 *   8 ulp kept away from a tie. */
static inline int fast_units(double a, int decimals, uint64_t *u)
{
    if (a < 9007199254740992.0 /* 2^53 */) {
        int64_t w = (int64_t)a;
        if ((double)w == a && (uint64_t)w < pow10_u64[16 - decimals]) {
            *u = (uint64_t)w * pow10_u64[decimals];
            return 1;
        }
    }
    double scaled = a * pow10_table[decimals];
    if (!(scaled < 4503599627370496.0 /* 2^52 */))
        return 0;
    /* floor(scaled), as 0 <= scaled < 2^52: truncation to an integer and
     * back, without a call. */
    int64_t ip = (int64_t)scaled;
    double frac = scaled - (double)ip;
    if (!(fabs(frac - 0.5) > 8 * DBL_EPSILON * (scaled > 1 ? scaled : 1)))
        return 0;
    *u = (uint64_t)ip + (frac > 0.5);
    return 1;
}

static const char two_digits[201] = "00010203040506070809"
                                    "10111213141516171819"
                                    "20212223242526272829"
                                    "30313233343536373839"
                                    "40414243444546474849"
                                    "50515253545556575859"
                                    "60616263646566676869"
                                    "70717273747576777879"
                                    "80818283848586878889"
                                    "90919293949596979899";

/* Decimal digits of u (1 for 0). */
static inline int digit_count(uint64_t u)
{
#if defined(__GNUC__)
    /* t = floor(log10(2^bits)) is the count or one more (Bit Twiddling
     * Hacks); u | 1 has the digits of u and is never 0. */
    uint64_t v = u | 1;
    int t = ((64 - __builtin_clzll(v)) * 1233) >> 12;
    return t + 1 - (v < pow10_u64[t]);
#else
    int n = 1;
    while (n < 20 && u >= pow10_u64[n])
        n++;
    return n;
#endif
}

/* Writes u (< 10^16) with `decimals` digits after the point and at least
 * one before it, '-' first when neg: at most 18 bytes, no NUL (o must have
 * 19). Returns the end.
 * The length is known first and the digits go straight to their place,
 * from the right, two at a time: building them elsewhere and copying cost
 * a stalled load per number. */
static inline char *put_units(char *o, uint64_t u, int decimals, int neg)
{
    int nd = digit_count(u);
    if (nd < decimals + 1)
        nd = decimals + 1;
    *o = '-';
    o += neg;
    char *end = o + nd + (decimals ? 1 : 0), *q = end;
    if (decimals) {
        int d = decimals;
        for (; d >= 2; d -= 2) {
            q -= 2;
            memcpy(q, two_digits + (u % 100) * 2, 2);
            u /= 100;
        }
        if (d) {
            *--q = (char)('0' + u % 10);
            u /= 10;
        }
        *--q = '.';
    }
    while (u > UINT32_MAX) {
        q -= 2;
        memcpy(q, two_digits + (u % 100) * 2, 2);
        u /= 100;
    }
    /* The rest in 32 bits, where dividing by 100 is cheaper. */
    uint32_t x = (uint32_t)u;
    while (x >= 100) {
        q -= 2;
        memcpy(q, two_digits + (x % 100) * 2, 2);
        x /= 100;
    }
    if (x >= 10) {
        q -= 2;
        memcpy(q, two_digits + x * 2, 2);
    } else {
        *--q = (char)('0' + x);
    }
    return end;
}

/* tally_format_number; `fast` 0 takes the exact path for every value. */
static int format_number(char *buf, size_t size, double value, int decimals, int fast)
{
    if (!buf || !isfinite(value) || decimals < 0 || decimals > 15)
        return TALLY_EINVAL;
    double a = fabs(value);
    uint64_t u;
    if (fast && fast_units(a, decimals, &u)) {
        char tmp[40];
        size_t len = (size_t)(put_units(tmp, u, decimals, value < 0 && u != 0) - tmp);
        if (len + 1 > size)
            return TALLY_EINVAL;
        memcpy(buf, tmp, len);
        buf[len] = '\0';
        return (int)len;
    }
    char units[360];
    int nd = units_of_shortest(a, decimals, units);
    /* At least decimals + 1 digits, so there is a digit before the point. */
    if (nd <= decimals) {
        int pad = decimals + 1 - nd;
        memmove(units + pad, units, (size_t)nd);
        memset(units, '0', (size_t)pad);
        nd += pad;
    }
    int zero = 1;
    for (int k = 0; k < nd; k++)
        zero &= units[k] == '0';
    int neg = value < 0 && !zero;
    size_t len = (size_t)nd + (decimals ? 1 : 0) + (size_t)neg;
    if (len + 1 > size)
        return TALLY_EINVAL;
    char *o = buf;
    if (neg)
        *o++ = '-';
    int int_digits = nd - decimals;
    memcpy(o, units, (size_t)int_digits);
    o += int_digits;
    if (decimals) {
        *o++ = '.';
        memcpy(o, units + int_digits, (size_t)decimals);
        o += decimals;
    }
    *o = '\0';
    return (int)len;
}

TALLY_EXTERN(int) tally_format_number(char *buf, size_t size, double value, int decimals)
{
    return format_number(buf, size, value, decimals, 1);
}

int tally_export__number_plain(char *buf, size_t size, double v, int decimals)
{
    return format_number(buf, size, v, decimals, 0);
}

/* The most a number takes: 309 integer digits of DBL_MAX, the point, 15
 * decimals and a sign, rounded up. */
#define NUMBER_MAX 400

int tally_export__number(char *buf, size_t size, double v, int decimals)
{
    uint64_t u;
    if (decimals >= 0 && decimals <= 15 && size >= 40 && fast_units(fabs(v), decimals, &u)) {
        char *e = put_units(buf, u, decimals, v < 0 && u != 0);
        *e = '\0';
        return (int)(e - buf);
    }
    return tally_format_number(buf, size, v, decimals);
}

/* A value at o (NUMBER_MAX bytes free): its digits, or nothing (CSV) or
 * null (JSON) when it is missing or not finite. */
static inline char *put_value(char *o, double v, int decimals, int json)
{
    uint64_t u;
    if ((unsigned)decimals <= 15 && fast_units(fabs(v), decimals, &u))
        return put_units(o, u, decimals, v < 0 && u != 0);
    int n = isnan(v) ? -1 : tally_format_number(o, NUMBER_MAX, v, decimals);
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
    size_t nodes, nind, nper, block_nodes;
    const unsigned char *want; /* by level */
    size_t nlevels;
    const uint8_t *levels; /* tally_hierarchy__levels */
    int json, compare;
    const double **col; /* nind x nper columns, k = indicator x nper + period */
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
        __builtin_prefetch(w->col[k] + node);
    __builtin_prefetch(tally_hierarchy_name(w->h, node));
#else
    (void)w;
    (void)node;
#endif
}

/* The rows of nodes [block x block_nodes, + block_nodes): every wanted
 * node, each indicator, each period. Runs on several threads at once. */
static int format_rows(void *ctx, size_t block, tally_write__buf *out)
{
    const result_writer *w = ctx;
    size_t first = block * w->block_nodes;
    size_t last = w->nodes - first < w->block_nodes ? w->nodes : first + w->block_nodes;
    size_t rows = w->nind * w->nper;
    const double *const *col = w->col;
    const char *mid = w->mid.data;
    const size_t *mid_at = w->mid_at;
    const int *kdec = w->kdec;
    const int json = w->json, compare = w->compare;
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
        rc = node_head(w, node, level, &head);
        /* Room for every row of the node at its longest. */
        size_t row_max = head.len + w->mid_max + (w->compare ? 4 : 1) * (NUMBER_MAX + 24) + 16;
        if (!rc && row_max > SIZE_MAX / 2 / (rows ? rows : 1))
            rc = TALLY_ENOMEM;
        if (!rc)
            rc = tally_write__reserve(out, rows * row_max);
        if (rc)
            break;
        char *o = out->data + out->len;
        const char *hd = head.data;
        size_t hl = head.len;
        if (!compare) {
            /* The common row, with what it reads held in locals: stores
             * through `o` may alias anything, so fields of *w would be
             * read again for every row. */
            for (size_t k = 0; k < rows; k++) {
                o = tally_write__copy_words(o, hd, hl);
                o = tally_write__copy_words(o, mid + mid_at[k], mid_at[k + 1] - mid_at[k]);
                o = put_value(o, col[k][node], kdec[k], json);
                *o++ = end;
            }
            out->len = (size_t)(o - out->data);
            continue;
        }
        for (size_t k = 0; k < rows; k++) {
            size_t i = k / w->nper, p = k % w->nper;
            o = tally_write__copy_words(o, hd, hl);
            o = tally_write__copy_words(o, mid + mid_at[k], mid_at[k + 1] - mid_at[k]);
            double v = col[k][node];
            int dec = kdec[k];
            o = put_value(o, v, dec, json);
            double prev = NAN, change, change_pct = NAN;
            int present;
            tally_result_previous(w->r, node, i, p, &prev, &present);
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
            *o++ = end;
        }
        out->len = (size_t)(o - out->data);
    }
    free(head.data);
    return rc;
}

static void result_writer_free(result_writer *w)
{
    free(w->col);
    free(w->kdec);
    free(w->pct);
    free(w->mid.data);
    free(w->lvl.data);
    free(w->mid_at);
    free(w->lvl_at);
    free((void *)w->want);
}

/* The text made once per indicator and period, and per level. */
static int result_writer_text(result_writer *w)
{
    const tally_definitions *d = tally_result_definitions(w->r);
    for (size_t k = 0; k < w->nind * w->nper; k++) {
        size_t i = k / w->nper, p = k % w->nper;
        w->col[k] = tally_result_column(w->r, i, p);
        if (!w->col[k])
            return TALLY_EINVAL;
        w->kdec[k] = tally_definitions_decimals(d, i);
        if (p == 0)
            w->pct[i] = strcmp(tally_definitions_unit(d, i), "%") == 0;
        const char *id = tally_definitions_id(d, i), *per = tally_result_period(w->r, p);
        w->mid_at[k] = w->mid.len;
        int rc;
        if (w->json)
            rc = tally_write__bytes(&w->mid, ",\"indicator\":", 13) ||
                 tally_write__json_text(&w->mid, id) ||
                 tally_write__bytes(&w->mid, ",\"period\":", 10) ||
                 tally_write__json_text(&w->mid, per) ||
                 tally_write__bytes(&w->mid, ",\"value\":", 9);
        else /* periods are written as they are (YYYY-MM and the like) */
            rc = tally_write__csv_text(&w->mid, id, ',', 0) ||
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

int tally_export__write(const tally_result *r, const char *path, const tally_write_options *opts,
                        size_t threads, size_t block_nodes)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_result_write: NULL result");
    result_writer w;
    memset(&w, 0, sizeof w);
    w.r = r;
    w.h = tally_result_hierarchy(r);
    w.nodes = tally_hierarchy_size(w.h);
    w.nind = tally_definitions_indicator_count(tally_result_definitions(r));
    w.nper = tally_result_period_count(r);
    w.nlevels = tally_hierarchy_level_count(w.h);
    w.json = opts->format == TALLY_FORMAT_JSON;
    w.compare = tally_result_compare(r) != TALLY_COMPARE_NONE;
    size_t rows = w.nind * w.nper;
    w.want = tally_write__levels(w.h, opts);
    w.levels = tally_hierarchy__levels(w.h);
    w.col = malloc((rows ? rows : 1) * sizeof *w.col);
    w.kdec = malloc((rows ? rows : 1) * sizeof *w.kdec);
    w.pct = malloc(w.nind ? w.nind : 1);
    w.mid_at = malloc((rows + 1) * sizeof *w.mid_at);
    w.lvl_at = malloc((w.nlevels + 1) * sizeof *w.lvl_at);
    int rc = !w.want || !w.col || !w.kdec || !w.pct || !w.mid_at || !w.lvl_at
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
    tally_write__job job = { 0 };
    job.blocks = w.nodes / w.block_nodes + (w.nodes % w.block_nodes != 0);
    job.threads = threads ? threads : tally_write__default_threads(w.nodes * (rows ? rows : 1));
    job.format = format_rows;
    job.ctx = &w;
    if (w.json) {
        job.head = "[";
        job.tail = "\n]\n";
        job.tail_empty = "]\n";
        job.drop_first = 1; /* the comma before the first row */
    } else {
        job.head = w.compare ? "region_code,region_name,level,indicator,period,value,previous,change,change_pct\n"
                             : "region_code,region_name,level,indicator,period,value\n";
        job.tail = job.tail_empty = "";
    }
    rc = tally_write__run(path, &job);
    result_writer_free(&w);
    return rc;
}

TALLY_EXTERN(int) tally_result_write(const tally_result *r, const char *path,
                                     const tally_write_options *opts)
{
    return tally_export__write(r, path, opts, 0, 0);
}
