/* Shared by the fuzz targets: the libFuzzer entry point and the checks
 * that turn a broken invariant into a crash the fuzzer records.
 *
 * Every target is built two ways (tests/fuzz/meson.build):
 *   - with clang -fsanitize=fuzzer: libFuzzer provides main();
 *   - as a plain program with replay.c's main(), which runs the seed corpus
 *     and every regression fixture (make test), or one file given on the
 *     command line (AFL++ `@@`).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_TESTS_FUZZ_H
#define TALLY_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <tally.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a bug even when nothing crashed: say which and
 * abort, so that libFuzzer saves the input and the replay test fails. */
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            fprintf(stderr, "last error: %d %s\n", tally_error_last()->code,          \
                    tally_error_last()->message);                                     \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* The library must say what is wrong whenever it fails: the last error has
 * the returned code and a message. */
static inline void fuzz_check_error(int rc)
{
    const tally_error *e = tally_error_last();
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(e->code == rc);
    FUZZ_CHECK(e->message && e->message[0]);
    /* The inputs fit in memory: running out of it is not a finding of the
     * fuzzer (libFuzzer's -rss_limit_mb handles real exhaustion). */
    FUZZ_CHECK(rc != TALLY_ENOMEM);
}

/* Number of lines in the input (a row may end without a newline). */
static inline unsigned long fuzz_line_count(const uint8_t *data, size_t size)
{
    unsigned long n = 1;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

/* Number of lines as YAML counts them: LF, CRLF and a lone CR each end a
 * line, and so do NEL (U+0085), LS (U+2028) and PS (U+2029) in YAML 1.1,
 * which libyaml follows. */
static inline unsigned long fuzz_yaml_line_count(const uint8_t *data, size_t size)
{
    unsigned long n = 1;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
            n++;
        else if (i + 1 < size && data[i] == 0xC2 && data[i + 1] == 0x85)
            n++;
        else if (i + 2 < size && data[i] == 0xE2 && data[i + 1] == 0x80 &&
                 (data[i + 2] == 0xA8 || data[i + 2] == 0xA9))
            n++;
    }
    return n;
}

#endif
