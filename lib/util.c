/* Small shared helpers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

uint64_t tally_util__hash_u64(uint64_t x)
{
    /* splitmix64 finaliser: cheap and well mixed for sequential codes. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t tally_util__hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return tally_util__hash_u64(h ^ len);
}

/* Eight decimal digits, the first in the lowest byte, as 0..9 per byte:
 * their value, by pairs, fours and eights. */
static inline uint64_t eight_digits(uint64_t x)
{
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    return (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
}

/* 1 when every byte of x (a text XOR '0' in each byte) is 0..9, that is,
 * the text was digits: any other byte has a high nibble now or after
 * adding 6, and no carry crosses a byte that passes. */
static inline int all_digits(uint64_t x)
{
    return ((x | (x + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL) == 0;
}

int tally_util__code12(const char *s, size_t len, uint64_t *value)
{
    if (len != 12)
        return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Every lookup of a region goes through here: the 12 digits as two
     * words instead of a loop over bytes. */
    uint64_t a;
    uint32_t b32;
    memcpy(&a, s, 8);
    memcpy(&b32, s + 8, 4);
    uint64_t x = a ^ 0x3030303030303030ULL, y = (uint64_t)(b32 ^ 0x30303030u);
    if (!all_digits(x) || !all_digits(y))
        return 0;
    *value = eight_digits(x) * 10000 + eight_digits(y << 32);
    return 1;
#else
    uint64_t v = 0;
    for (size_t i = 0; i < 12; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        v = v * 10 + d;
    }
    *value = v;
    return 1;
#endif
}

int tally_util__map_file(tally_mapped *m, const char *path)
{
    return tally_util__map_file_capped(m, path, 0);
}

/* "1 GiB", "512 MiB", "4096 bytes": a size as people read it. */
void tally_util__format_bytes(char *buf, size_t len, uint64_t n)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
    if (n < 1024) {
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
        return;
    }
    double v = (double)n;
    int u = -1;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (v == (double)(uint64_t)v)
        snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[u]);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
}

int tally_util__map_file_capped(tally_mapped *m, const char *path, size_t max_bytes)
{
    if (max_bytes == 0)
        max_bytes = TALLY_UTIL_DEFAULT_MAX_INPUT;
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open: %s",
                                   strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size == 0) {
            close(fd);
            m->data = "";
            return 0;
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            m->data = p;
            m->size = (size_t)st.st_size;
            m->mapped = 1;
            return 0;
        }
    }
    /* Not a regular file (a pipe, /dev/stdin, /dev/zero) or not mappable:
     * read it, at most max_bytes (the buffer never grows past one byte more,
     * which tells a stream of exactly max_bytes from a longer one). */
    size_t cap = 1 << 16, size = 0;
    if (cap > max_bytes)
        cap = max_bytes + 1;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (size > max_bytes) {
            char lim[32];
            tally_util__format_bytes(lim, sizeof lim, max_bytes);
            free(buf);
            close(fd);
            return tally_error__set_at(TALLY_ELIMIT, path, 0, 0, NULL, 0,
                                       "more than %s read from a stream (not a regular "
                                       "file): past the limit for such input; give a "
                                       "regular file or raise max_input_bytes "
                                       "(tally --max-input-bytes)",
                                       lim);
        }
        if (size == cap) {
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > max_bytes + 1)
                ncap = max_bytes + 1;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + size, cap - size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot read: %s",
                                       strerror(e));
        }
        if (n == 0)
            break;
        size += (size_t)n;
    }
    close(fd);
    if (size == 0) {
        /* Nothing read: the same empty buffer as an empty regular file. */
        free(buf);
        m->data = "";
        return 0;
    }
    m->data = buf;
    m->size = size;
    return 0;
}

void tally_util__unmap(tally_mapped *m)
{
    if (m->mapped)
        munmap((void *)m->data, m->size);
    else if (m->size)
        free((void *)m->data);
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
}

void tally_util__release(const tally_mapped *m, size_t from, size_t to)
{
    if (!m->mapped || to > m->size || from >= to)
        return;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096, base = (uintptr_t)m->data;
    uintptr_t a = (base + from + page - 1) & ~(page - 1), e = (base + to) & ~(page - 1);
    if (e > a)
        madvise((void *)a, (size_t)(e - a), MADV_DONTNEED);
}

void tally_util__prefault(void *p, size_t len)
{
#if defined(MADV_POPULATE_WRITE)
    /* Below a megabyte the faults cost less than the call. Kernels before
     * 5.14 refuse the advice: the stores then fault the pages in. */
    if (len < ((size_t)1 << 20))
        return;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), e = ((uintptr_t)p + len) & ~(page - 1);
    if (e > a)
        madvise((void *)a, (size_t)(e - a), MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)len;
#endif
}

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 1 when the n decimal digits at s are exactly the whole number v (a
 * double at least 2^53, so an integer; %.0f prints it exactly). */
static int whole_is_exact(const char *s, size_t n, double v)
{
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    char buf[400]; /* DBL_MAX has 309 digits */
    int k = snprintf(buf, sizeof buf, "%.0f", fabs(v));
    return k > 0 && (size_t)k == n && memcmp(buf, s, n) == 0;
}

int tally_util__parse_number(const char *s, size_t len, double *out)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return TALLY_EPARSE;

    /* Validate the shape and collect up to 19 significant digits. */
    size_t i = 0;
    int neg = 0;
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    uint64_t mant = 0;
    int digits = 0, frac_digits = 0, int_digits = 0, lost = 0, frac_nonzero = 0;
    size_t int_start = i;
    while (i < len && (unsigned)(s[i] - '0') <= 9) {
        if (digits < 19) {
            if (mant || s[i] != '0')
                digits++;
            mant = mant * 10 + (unsigned)(s[i] - '0');
        } else {
            lost = 1;
        }
        int_digits++;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && (unsigned)(s[i] - '0') <= 9) {
            frac_nonzero |= s[i] != '0';
            if (digits < 19) {
                if (mant || s[i] != '0')
                    digits++;
                mant = mant * 10 + (unsigned)(s[i] - '0');
                frac_digits++;
            } else {
                lost = 1;
            }
            i++;
        }
        if (int_digits == 0 && frac_digits == 0)
            return TALLY_EPARSE;
    } else if (int_digits == 0) {
        return TALLY_EPARSE;
    }
    int has_exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = 1;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < len && (unsigned)(s[i] - '0') <= 9)
            i++;
        if (i == start)
            return TALLY_EPARSE;
    }
    if (i != len)
        return TALLY_EPARSE;

    /* Fast path (Clinger): mantissa and power of ten both exact doubles,
     * one correctly rounded operation. */
    if (!has_exp && !lost && mant < (1ULL << 53) && frac_digits <= 22) {
        double v = (double)mant;
        if (frac_digits)
            v /= pow10_exact[frac_digits];
        *out = neg ? -v : v;
        return 0;
    }

    char buf[128];
    double v;
    int e;
    if (len >= sizeof buf) {
        char *tmp = tally_util__strndup(s, len);
        if (!tmp)
            return TALLY_ENOMEM;
        errno = 0;
        v = strtod(tmp, NULL);
        e = errno;
        free(tmp);
    } else {
        memcpy(buf, s, len);
        buf[len] = '\0';
        errno = 0;
        v = strtod(buf, NULL);
        e = errno;
    }
    if (isinf(v) || (e == ERANGE && fabs(v) > 1))
        return TALLY_ERANGE;
    /* A whole number (no exponent, no nonzero decimal) past 2^53 is taken
     * only when a double holds it exactly: rounding 9007199254740993 to
     * ...992 would change a count without a word. (The fast path above
     * only takes whole numbers below 2^53, all exact.) */
    if (!has_exp && !frac_nonzero && fabs(v) >= 9007199254740992.0 &&
        !whole_is_exact(s + int_start, (size_t)int_digits, v))
        return TALLY_UTIL__INEXACT;
    *out = v; /* underflow to a subnormal or zero is kept: it is finite */
    return 0;
}

/* The ASCII character a full-width digit, point or minus at s stands for
 * (its 3 bytes, EF BC 90..99 / 8E / 8D), or 0. */
static char fullwidth_ascii(const char *s, size_t left)
{
    const unsigned char *u = (const unsigned char *)s;
    if (left < 3 || u[0] != 0xEF || u[1] != 0xBC)
        return 0;
    if (u[2] >= 0x90 && u[2] <= 0x99)
        return (char)('0' + (u[2] - 0x90));
    return u[2] == 0x8E ? '.' : u[2] == 0x8D ? '-' : 0;
}

int tally_util__parse_number_relaxed(const char *s, size_t len, double *out)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char stack[128];
    char *buf = len < sizeof stack ? stack : malloc(len + 1);
    if (!buf)
        return TALLY_ENOMEM;
    /* Normalise to ASCII, checking the grouping as we go: `group` counts
     * the digits since the last comma (-1 before any comma). */
    size_t n = 0, i = 0;
    int group = -1, lead = 0, point = 0, ok = 1;
    while (ok && i < len) {
        char c = s[i];
        size_t w = 1;
        if ((unsigned char)c >= 0x80) {
            c = fullwidth_ascii(s + i, len - i);
            w = 3;
        }
        if (c >= '0' && c <= '9') {
            if (!point) {
                if (group >= 0)
                    ok = ++group <= 3;
                else
                    lead++;
            }
        } else if (c == ',' && !point) {
            ok = (group < 0 ? lead >= 1 && lead <= 3 : group == 3);
            group = 0;
            i += w;
            continue; /* dropped */
        } else if (c == '.' && !point) {
            ok = group < 0 || group == 3;
            point = 1;
        } else if (!((c == '-' || c == '+') && n == 0)) {
            ok = 0;
        }
        buf[n++] = c;
        i += w;
    }
    if (ok && group >= 0 && !point)
        ok = group == 3;
    int rc = ok ? tally_util__parse_number(buf, n, out) : TALLY_EPARSE;
    if (buf != stack)
        free(buf);
    return rc;
}

unsigned long tally_util__utf8_column(const char *line_start, const char *pos)
{
    unsigned long col = 1;
    for (const char *p = line_start; p < pos; p++)
        if (((unsigned char)*p & 0xC0) != 0x80)
            col++;
    return col;
}

int tally_util__utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n;
        unsigned min;
        if ((c & 0xE0) == 0xC0) { n = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; min = 0x10000; c &= 0x07; }
        else return 0;
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (p[k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

int tally_util__grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / size)
            return TALLY_ENOMEM;
        nc *= 2;
    }
    void *np = realloc(*ptr, nc * size);
    if (!np)
        return TALLY_ENOMEM;
    *ptr = np;
    *cap = nc;
    return 0;
}

char *tally_util__strndup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int tally_util__is_utf8_name(const char *encoding)
{
    if (!encoding || !*encoding)
        return 1;
    char norm[16];
    size_t n = 0;
    for (const char *p = encoding; *p && n + 1 < sizeof norm; p++)
        if (*p != '-' && *p != '_')
            norm[n++] = (char)tolower((unsigned char)*p);
    norm[n] = '\0';
    return strcmp(norm, "utf8") == 0;
}

int tally_util__to_utf8(const char *encoding, const char *name, const char *data, size_t size,
                        char **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    iconv_t cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1)
        return tally_error__set(TALLY_EINVAL,
                                "unknown encoding '%s'; expected utf-8, gb18030 or another name "
                                "iconv knows (iconv --list)",
                                encoding);
    /* GB18030 takes at most 4 bytes for a character that UTF-8 writes in
     * 4, and 2 for one it writes in 3: twice the input is always enough
     * for it; other encodings grow the buffer when needed. */
    size_t cap = size * 2 + 16;
    char *buf = malloc(cap);
    if (!buf) {
        iconv_close(cd);
        return tally_error__set(TALLY_ENOMEM, "out of memory converting %s", name);
    }
    char *in = (char *)data;
    size_t in_left = size, done = 0;
    int rc = 0;
    while (in_left) {
        char *o = buf + done;
        size_t o_left = cap - done;
        size_t r = iconv(cd, &in, &in_left, &o, &o_left);
        done = (size_t)(o - buf);
        if (r != (size_t)-1)
            continue;
        if (errno == E2BIG) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                rc = tally_error__set(TALLY_ENOMEM, "out of memory converting %s", name);
                break;
            }
            buf = nb;
            cap *= 2;
            continue;
        }
        /* An invalid or truncated sequence: say where, counting lines in
         * the input and characters in what was converted of its line. */
        size_t off = (size_t)(in - data);
        unsigned long line = 1;
        for (size_t k = 0; k < off; k++)
            line += data[k] == '\n';
        const char *ls = buf + done;
        while (ls > buf && ls[-1] != '\n')
            ls--;
        unsigned long column = tally_util__utf8_column(ls, buf + done);
        rc = tally_error__set_at(TALLY_EPARSE, name, line, column, NULL, 0,
                                 "byte 0x%02X is not valid %s%s; expected text in %s "
                                 "(check --encoding)",
                                 (unsigned char)data[off], encoding,
                                 errno == EINVAL ? " (the file ends inside a character)" : "",
                                 encoding);
        break;
    }
    iconv_close(cd);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_size = done;
    return 0;
}

size_t tally_util__distance(const unsigned *a, size_t na, const unsigned *b, size_t nb)
{
    if (na > TALLY_UTIL__DISTANCE_MAX || nb > TALLY_UTIL__DISTANCE_MAX)
        return (size_t)-1;
    size_t row[TALLY_UTIL__DISTANCE_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}
