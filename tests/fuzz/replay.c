/* main() for a fuzz target built without libFuzzer: runs the target on
 * every file given, and on every file inside the directories given (the
 * seed corpus and the regression fixtures), so `meson test` replays each
 * of them under the build's sanitizers. With no arguments it reads one
 * input from standard input. Failures abort inside the target.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long replayed;

static int run_stream(FILE *f, const char *name)
{
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return 1;
    for (;;) {
        if (n == cap) {
            unsigned char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return 1;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read error\n", name);
        free(buf);
        return 1;
    }
    /* An exact-size copy, so that ASan catches any read past the end. */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    replayed++;
    return 0;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    int rc = run_stream(f, path);
    fclose(f);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *dir = opendir(path);
    if (!dir) {
        perror(path);
        return 1;
    }
    /* In name order, so that a failure is reproducible run to run. */
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **n = realloc(names, cap * sizeof *n);
            if (!n) {
                rc = 1;
                break;
            }
            names = n;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[count] = malloc(len);
        if (!names[count]) {
            rc = 1;
            break;
        }
        snprintf(names[count++], len, "%s/%s", path, e->d_name);
    }
    closedir(dir);
    if (names)
        qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        if (!rc)
            rc = run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return run_stream(stdin, "<stdin>");
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]))
            return 1;
    printf("replayed %lu inputs\n", replayed);
    return 0;
}
