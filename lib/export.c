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
#include "tally/error.h"

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

TALLY_EXTERN(int) tally_format_number(char *buf, size_t size, double value, int decimals)
{
    if (!buf || !isfinite(value) || decimals < 0 || decimals > 15)
        return TALLY_EINVAL;
    double a = fabs(value);
    double scaled = a * pow10_table[decimals];
    char units[360];
    int nd = 0;
    double ip = floor(scaled), frac = scaled - ip;
    /* The fast path rounds the scaled binary value; it agrees with rounding
     * the shortest decimal except near a tie (2.675 is stored as
     * 2.67499999999999982236431605997495353221893310546875, and a person who
     * wrote 2.675 expects 2.68) and where the scaled value has no fraction
     * bits left. Those take the exact path on the shortest decimal. */
    if (scaled < 4503599627370496.0 /* 2^52 */ &&
        fabs(frac - 0.5) > 8 * DBL_EPSILON * (scaled > 1 ? scaled : 1)) {
        uint64_t u = (uint64_t)ip + (frac > 0.5);
        char rev[24];
        int r = 0;
        do {
            rev[r++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        while (r)
            units[nd++] = rev[--r];
    } else {
        nd = units_of_shortest(a, decimals, units);
    }
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

/* tally_format_number for the common case of a whole number whose scaled
 * value |v| * 10^decimals is below 10^14: its digits, then '.' and
 * `decimals` zeros. (There tally_format_number's own fast path is exact:
 * the scaled value is a whole double with no fraction to round, so it
 * prints the same digits.) Otherwise, or for a buffer too small, the full
 * function. Internal, for the writer and the tests, which compare the two
 * on random values. */
int tally_export__number(char *buf, size_t size, double v, int decimals)
{
    if (decimals >= 0 && decimals <= 15 && size >= 40) {
        double a = fabs(v);
        if (a * pow10_table[decimals] < 1e14 && a == floor(a)) {
            uint64_t u = (uint64_t)a;
            char rev[24];
            int r = 0;
            do {
                rev[r++] = (char)('0' + u % 10);
                u /= 10;
            } while (u);
            char *o = buf;
            if (v < 0 && a != 0)
                *o++ = '-';
            while (r)
                *o++ = rev[--r];
            if (decimals) {
                *o++ = '.';
                memset(o, '0', (size_t)decimals);
                o += decimals;
            }
            *o = '\0';
            return (int)(o - buf);
        }
    }
    return tally_format_number(buf, size, v, decimals);
}

/* A buffered writer: one fwrite per 64 KiB. */
typedef struct writer {
    FILE *f;
    char buf[1 << 16];
    size_t len;
    int failed;
} writer;

static void w_flush(writer *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->failed = 1;
    w->len = 0;
}

static void w_put(writer *w, const char *s, size_t n)
{
    if (w->len + n > sizeof w->buf) {
        w_flush(w);
        if (n > sizeof w->buf) {
            if (fwrite(s, 1, n, w->f) != n)
                w->failed = 1;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void w_str(writer *w, const char *s) { w_put(w, s, strlen(s)); }

static void w_csv(writer *w, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        w_str(w, s);
        return;
    }
    w_put(w, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            w_put(w, "\"", 1);
        w_put(w, p, 1);
    }
    w_put(w, "\"", 1);
}

/* Appends s as a CSV field (quoted when it must be, like w_csv) to a
 * growing buffer, then `end` unless it is 0; as is (no quoting) when raw.
 * 0 or TALLY_ENOMEM. */
static int csv_text(char **buf, size_t *len, size_t *cap, const char *s, char end, int raw)
{
    size_t n = strlen(s), need = *len + 2 * n + 4;
    if (need > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < need)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return TALLY_ENOMEM;
        *buf = b;
        *cap = c;
    }
    char *o = *buf + *len;
    if (raw || !strpbrk(s, ",\"\r\n")) {
        memcpy(o, s, n);
        o += n;
    } else {
        *o++ = '"';
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                *o++ = '"';
            *o++ = *p;
        }
        *o++ = '"';
    }
    if (end)
        *o++ = end;
    *len = (size_t)(o - *buf);
    return 0;
}

static void w_json(writer *w, const char *s)
{
    w_put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            w_put(w, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            w_put(w, esc, 6);
        } else {
            w_put(w, (const char *)p, 1);
        }
    }
    w_put(w, "\"", 1);
}

/* A number with `decimals`, or empty / null when missing. */
static void w_num(writer *w, double v, int decimals, int json)
{
    char buf[64];
    int n = isnan(v) ? -1 : tally_export__number(buf, sizeof buf, v, decimals);
    if (n < 0) {
        if (json)
            w_put(w, "null", 4);
        return;
    }
    w_put(w, buf, (size_t)n);
}

TALLY_EXTERN(int) tally_result_write(const tally_result *r, const char *path,
                                     const tally_write_options *opts)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_result_write: NULL result");
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t nodes = tally_hierarchy_size(h), nind = tally_definitions_indicator_count(d);
    size_t nper = tally_result_period_count(r);
    int json = opts->format == TALLY_FORMAT_JSON;
    int compare = tally_result_compare(r) != TALLY_COMPARE_NONE;

    /* Which levels to write. */
    size_t nlevels = tally_hierarchy_level_count(h);
    unsigned char *want = calloc(nlevels + 1, 1);
    if (!want)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    for (size_t k = 0; k < nlevels; k++)
        want[k] = opts->levels && opts->level_count ? 0 : 1;
    for (size_t k = 0; opts->levels && k < opts->level_count; k++)
        if (opts->levels[k] >= 0 && (size_t)opts->levels[k] < nlevels)
            want[opts->levels[k]] = 1;

    writer *w = malloc(sizeof *w);
    if (!w) {
        free(want);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    }
    w->f = path ? fopen(path, "w") : stdout;
    w->len = 0;
    w->failed = 0;
    if (!w->f) {
        free(w);
        free(want);
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open for writing");
    }

    if (json)
        w_str(w, "[");
    else
        w_str(w, compare ? "region_code,region_name,level,indicator,period,value,previous,change,change_pct\n"
                         : "region_code,region_name,level,indicator,period,value\n");
    /* CSV rows are put together in the writer's buffer from text made
     * once: the region's "code,name,level," per node, "id," per indicator
     * and "period," per period (escaped once, not per row), and the
     * numbers through tally_export__number. A row that could not fit the
     * buffer takes the general path below. */
    char *pre = NULL, *text = NULL;
    size_t pre_len = 0, pre_cap = 0, text_len = 0, text_cap = 0;
    size_t *at = NULL; /* nind + nper + 1 offsets into text */
    int *dec_of = NULL;
    int oom = 0;
    size_t per_max = 0;
    if (!json) {
        at = malloc((nind + nper + 1) * sizeof *at);
        dec_of = malloc((nind ? nind : 1) * sizeof *dec_of);
        oom = !at || !dec_of;
        for (size_t k = 0; !oom && k < nind + nper; k++) {
            at[k] = text_len;
            if (k < nind) {
                dec_of[k] = tally_definitions_decimals(d, k);
                oom = csv_text(&text, &text_len, &text_cap, tally_definitions_id(d, k), ',', 0);
            } else {
                /* Periods are written as they are (YYYY-MM and the like). */
                oom = csv_text(&text, &text_len, &text_cap, tally_result_period(r, k - nind), ',',
                               1);
                if (text_len - at[k] > per_max)
                    per_max = text_len - at[k];
            }
        }
        if (!oom)
            at[nind + nper] = text_len;
    }
    if (oom) {
        free(at);
        free(dec_of);
        free(text);
        if (path)
            fclose(w->f);
        free(w);
        free(want);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    }
    int first = 1;
    for (size_t node = 0; node < nodes; node++) {
        int level = tally_hierarchy_level(h, node);
        if (level < 0 || (size_t)level >= nlevels || !want[level])
            continue;
        const char *code = tally_hierarchy_code(h, node);
        const char *name = tally_hierarchy_name(h, node);
        const char *lname = tally_hierarchy_level_name(h, level);
        if (!json) {
            pre_len = 0;
            if (csv_text(&pre, &pre_len, &pre_cap, code, ',', 0) ||
                csv_text(&pre, &pre_len, &pre_cap, name, ',', 0) ||
                csv_text(&pre, &pre_len, &pre_cap, lname, ',', 0)) {
                oom = 1;
                break;
            }
        }
        for (size_t i = 0; i < nind; i++) {
            /* 64 bytes for the number, as w_num allows. */
            size_t id_len = at ? at[i + 1] - at[i] : 0, need = pre_len + id_len + per_max + 64 + 2;
            if (!json && !compare && need <= sizeof w->buf) {
                for (size_t p = 0; p < nper; p++) {
                    size_t per_len = at[nind + p + 1] - at[nind + p];
                    if (w->len + need > sizeof w->buf)
                        w_flush(w);
                    char *o = w->buf + w->len;
                    memcpy(o, pre, pre_len);
                    o += pre_len;
                    memcpy(o, text + at[i], id_len);
                    o += id_len;
                    memcpy(o, text + at[nind + p], per_len);
                    o += per_len;
                    double v = tally_result_column(r, i, p)[node];
                    if (!isnan(v)) {
                        int n = tally_export__number(o, 64, v, dec_of[i]);
                        if (n > 0)
                            o += n;
                    }
                    *o++ = '\n';
                    w->len = (size_t)(o - w->buf);
                    first = 0;
                }
                continue;
            }
            /* JSON, comparisons and very long names. */
            const char *id = tally_definitions_id(d, i);
            int dec = tally_definitions_decimals(d, i);
            int pct_unit = strcmp(tally_definitions_unit(d, i), "%") == 0;
            for (size_t p = 0; p < nper; p++) {
                const char *per = tally_result_period(r, p);
                double v = tally_result_column(r, i, p)[node];
                double prev = NAN, change = NAN, change_pct = NAN;
                if (compare) {
                    int present;
                    tally_result_previous(r, node, i, p, &prev, &present);
                    change = v - prev;
                    if (!pct_unit && !isnan(change) && prev != 0)
                        change_pct = change / fabs(prev) * 100.0;
                }
                if (json) {
                    w_str(w, first ? "\n{\"region_code\":" : ",\n{\"region_code\":");
                    w_json(w, code);
                    w_str(w, ",\"region_name\":");
                    w_json(w, name);
                    w_str(w, ",\"level\":");
                    w_json(w, lname);
                    w_str(w, ",\"indicator\":");
                    w_json(w, id);
                    w_str(w, ",\"period\":");
                    w_json(w, per);
                    w_str(w, ",\"value\":");
                    w_num(w, v, dec, 1);
                    if (compare) {
                        w_str(w, ",\"previous\":");
                        w_num(w, prev, dec, 1);
                        w_str(w, ",\"change\":");
                        w_num(w, change, dec, 1);
                        w_str(w, ",\"change_pct\":");
                        w_num(w, change_pct, 2, 1);
                    }
                    w_str(w, "}");
                } else {
                    w_csv(w, code);
                    w_put(w, ",", 1);
                    w_csv(w, name);
                    w_put(w, ",", 1);
                    w_csv(w, lname);
                    w_put(w, ",", 1);
                    w_csv(w, id);
                    w_put(w, ",", 1);
                    w_str(w, per);
                    w_put(w, ",", 1);
                    w_num(w, v, dec, 0);
                    if (compare) {
                        w_put(w, ",", 1);
                        w_num(w, prev, dec, 0);
                        w_put(w, ",", 1);
                        w_num(w, change, dec, 0);
                        w_put(w, ",", 1);
                        w_num(w, change_pct, 2, 0);
                    }
                    w_put(w, "\n", 1);
                }
                first = 0;
            }
        }
    }
    free(pre);
    free(text);
    free(at);
    free(dec_of);
    if (oom) {
        if (path)
            fclose(w->f);
        free(w);
        free(want);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a result");
    }
    if (json)
        w_str(w, first ? "]\n" : "\n]\n");
    w_flush(w);
    int failed = w->failed || ferror(w->f);
    if (path)
        failed |= fclose(w->f) != 0;
    else
        failed |= fflush(w->f) != 0;
    free(w);
    free(want);
    if (failed)
        return tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                   "cannot write the result");
    return 0;
}
