/* Internal: the one-pass readers' pieces (records.c, households.c):
 * separators found 64 bytes at a time, short keys compared as machine
 * words, and the common number cells converted without the full parser,
 * to exactly the value tally_util__parse_number gives. */
#ifndef TALLY_LIB_CSV_FAST_H
#define TALLY_LIB_CSV_FAST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

static inline uint64_t tally_csv__key_head(const char *s, size_t len)
{
    uint64_t k = 0;
    memcpy(&k, s, len < 8 ? len : 8);
    return k;
}

/* key_head from a single load, where 8 bytes from s are readable. */
static inline uint64_t tally_csv__key_head_fast(const char *s, size_t len)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t k;
    memcpy(&k, s, 8);
    return len >= 8 ? k : k & (((uint64_t)1 << (8 * len)) - 1);
#else
    return tally_csv__key_head(s, len);
#endif
}

/* The separators (',', '\n') and quotes among 64 bytes, a bit each. */
static inline uint64_t tally_csv__scan64(const char *s)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i));
        __m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                                 _mm_cmpeq_epi8(v, quote));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(x) << (16 * i);
    }
    return m;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)(s[i] == ',' || s[i] == '\n' || s[i] == '"') << i;
    return m;
#endif
}

/* Bytes the one-pass rows leave to the general path at the end of the
 * input: every load of a row (64-byte blocks, 8-byte words) stays inside. */
#define TALLY_CSV__FAST_TAIL (64 + 16)

/* 8 bytes from s, where they are readable. */
static inline uint64_t tally_csv__load8(const char *s)
{
    uint64_t k;
    memcpy(&k, s, 8);
    return k;
}

/* A key of up to 16 bytes as two words (its first and its last 8 bytes,
 * or its bytes zero padded when shorter than 8): a row's region code and
 * period compare in two loads. For len <= 16 only; s has 8 readable bytes
 * past the key. */
typedef struct tally_csv__key16 {
    uint64_t a, b;
    size_t len; /* 0: none */
} tally_csv__key16;

static inline tally_csv__key16 tally_csv__key16_of(const char *s, size_t len)
{
    tally_csv__key16 k = { 0, 0, len };
    if (len >= 8) {
        k.a = tally_csv__load8(s);
        k.b = tally_csv__load8(s + len - 8);
    } else {
        k.a = tally_csv__key_head_fast(s, len);
    }
    return k;
}

static inline int tally_csv__key16_is(const tally_csv__key16 *k, const char *s, size_t len)
{
    if (len != k->len)
        return 0;
    if (len >= 8)
        return tally_csv__load8(s) == k->a && tally_csv__load8(s + len - 8) == k->b;
    return tally_csv__key_head_fast(s, len) == k->a;
}

/* The common value cell: an optional '-', digits, and optionally '.' and
 * digits, 15 digits at most. Then the digits are an integer below 2^53
 * and the power of ten an exact double, so one division gives the
 * correctly rounded value, bit for bit what tally_util__parse_number
 * gives. 1 with *v, or 0 for any other text (left to the full parser). */
static inline int tally_csv__simple_number(const char *s, size_t len, double *v)
{
    static const double pow10[] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    int neg = s[0] == '-';
    if (len - (size_t)neg > 16) /* 15 digits and a point at most */
        return 0;
    size_t i = (size_t)neg, frac = 0;
    uint64_t m = 0;
    unsigned dg;
    while (i < len && (dg = (unsigned char)s[i] - (unsigned)'0') <= 9) {
        m = m * 10 + dg;
        i++;
    }
    size_t digits = i - (size_t)neg;
    if (!digits || digits > 15) /* 16 digits may pass 2^53: the full parser checks them */
        return 0;
    if (i < len) {
        if (s[i] != '.')
            return 0;
        size_t start = ++i;
        while (i < len && (dg = (unsigned char)s[i] - (unsigned)'0') <= 9) {
            m = m * 10 + dg;
            i++;
        }
        frac = i - start;
        digits += frac;
        if (!frac || i != len || digits > 15)
            return 0;
    }
    double x = (double)m;
    if (frac)
        x /= pow10[frac];
    *v = neg ? -x : x;
    return 1;
}

/* simple_number for the commonest cell, one to eight digits and nothing
 * else, eight bytes at once; anything else goes to simple_number, so the
 * value is always tally_csv__simple_number's. `s` must have 8 readable bytes (the
 * cell and what follows it in the input). */
static inline int tally_csv__fast_number(const char *s, size_t len, double *v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len <= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        uint64_t keep = len == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * len)) - 1;
        /* '0'..'9' become 0..9; a byte of the cell that was anything else
         * has a high nibble now or after adding 6 (no carry can cross a
         * byte that passes). Bytes after the cell are cleared. */
        uint64_t x = (w ^ 0x3030303030303030ULL) & keep;
        if (((x | (x + 0x0606060606060606ULL)) & 0xF0F0F0F0F0F0F0F0ULL) == 0) {
            /* The first digit is the lowest byte: shift in leading zeros,
             * then combine pairs, fours and eights of digits. */
            x <<= 8 * (8 - len);
            x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
            x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
            x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
            *v = (double)x;
            return 1;
        }
    }
#endif
    return tally_csv__simple_number(s, len, v);
}

#endif
