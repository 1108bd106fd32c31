/* Formatting numbers: a fixed number of decimals, rounded half away from
 * zero on the value's shortest decimal form.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/number.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "tally/error.h"

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

/* tally_number_format; `fast` 0 takes the exact path for every value. */
static int format_number(char *buf, size_t size, double value, int decimals, int fast)
{
    if (!buf || !isfinite(value) || decimals < 0 || decimals > 15)
        return TALLY_EINVAL;
    double a = fabs(value);
    uint64_t u;
    if (fast && tally_number__fast_units(a, decimals, &u)) {
        char tmp[40];
        size_t len = (size_t)(tally_number__put_units(tmp, u, decimals, value < 0 && u != 0) - tmp);
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

TALLY_EXTERN(int) tally_number_format(char *buf, size_t size, double value, int decimals)
{
    return format_number(buf, size, value, decimals, 1);
}

int tally_number__plain(char *buf, size_t size, double v, int decimals)
{
    return format_number(buf, size, v, decimals, 0);
}

void tally_number__shortest(char *buf, size_t size, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%g", v);
        return;
    }
    /* The fewest significant digits that read back as v... */
    char e[40];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    /* ...written without an exponent unless the number is very large or
     * small: the same digits, rounded at the same place. */
    int exp = atoi(strchr(e, 'e') + 1);
    if (exp >= -5 && exp < 17)
        snprintf(buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
    else
        snprintf(buf, size, "%s", e);
}
