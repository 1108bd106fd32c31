/* What every writer of CSV or JSON output shares.
 *
 * SPDX-License-Identifier: MIT
 */
#include "write.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "error.h"
#include "output.h"
#include "tally/error.h"
#include "tally/number.h"

void tally_write__csv(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void tally_write__json(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\')
            fprintf(f, "\\%c", *q);
        else if (*q < 0x20)
            fprintf(f, "\\u%04x", *q);
        else
            fputc(*q, f);
    }
    fputc('"', f);
}

void tally_write__number(FILE *f, double v, int decimals, int json)
{
    char buf[400];
    int n = isnan(v) ? -1 : tally_number_format(buf, sizeof buf, v, decimals);
    if (n >= 0)
        fputs(buf, f);
    else if (json)
        fputs("null", f);
}

/* ---- text in memory ------------------------------------------------------ */

int tally_write__reserve(tally_write__buf *b, size_t more)
{
    if (b->cap - b->len >= more && b->data)
        return 0;
    if (more > SIZE_MAX / 2 - b->len - TALLY_WRITE__SLACK)
        return TALLY_ENOMEM;
    size_t c = b->cap ? b->cap : 4096;
    while (c - b->len < more)
        c *= 2;
    char *d = realloc(b->data, c + TALLY_WRITE__SLACK);
    if (!d)
        return TALLY_ENOMEM;
    b->data = d;
    b->cap = c;
    return 0;
}

int tally_write__bytes(tally_write__buf *b, const char *s, size_t n)
{
    if (tally_write__reserve(b, n))
        return TALLY_ENOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

int tally_write__csv_text(tally_write__buf *b, const char *s, char end, int raw)
{
    size_t n = strlen(s);
    if (n > SIZE_MAX / 4 || tally_write__reserve(b, 2 * n + 4))
        return TALLY_ENOMEM;
    char *o = b->data + b->len;
    if (raw || !strpbrk(s, ",\"\r\n")) {
        memcpy(o, s, n);
        o += n;
    } else {
        *o++ = '"';
        for (; *s; s++) {
            if (*s == '"')
                *o++ = '"';
            *o++ = *s;
        }
        *o++ = '"';
    }
    if (end)
        *o++ = end;
    b->len = (size_t)(o - b->data);
    return 0;
}

int tally_write__json_text(tally_write__buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > SIZE_MAX / 8 || tally_write__reserve(b, 6 * n + 2))
        return TALLY_ENOMEM;
    static const char hex[] = "0123456789abcdef";
    char *o = b->data + b->len;
    *o++ = '"';
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\') {
            *o++ = '\\';
            *o++ = (char)*q;
        } else if (*q < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*q >> 4];
            o[5] = hex[*q & 15];
            o += 6;
        } else {
            *o++ = (char)*q;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return 0;
}

/* ---- output in ordered blocks ------------------------------------------ */

/* Where the bytes go: the output's descriptor, or, when standard output
 * has none, its FILE. A failure's errno is kept in out.err. */
typedef struct sink {
    tally_output out;
} sink;

static int sink_failed(const sink *s) { return s->out.err != 0; }

static void sink_put(sink *s, const char *p, size_t n)
{
    (void)tally_output__write(&s->out, p, n);
}

/* Writes the pieces in order, in as few system calls as it can. */
static void sink_putv(sink *s, struct iovec *iov, int cnt)
{
    if (s->out.fd < 0 || cnt == 1) {
        for (int i = 0; i < cnt; i++)
            sink_put(s, iov[i].iov_base, iov[i].iov_len);
        return;
    }
    while (cnt && !sink_failed(s)) {
        ssize_t k = writev(s->out.fd, iov, cnt);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            tally_output__fail(&s->out, k < 0 ? errno : ENOSPC);
            return;
        }
        size_t left = (size_t)k;
        tally_output__wrote(&s->out, left);
        while (cnt && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt) { /* a short write: the rest of this piece, then on */
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
}

#define MAX_THREADS 8
#define MAX_SLOTS (2 * MAX_THREADS + 2)

/* Block b is formatted into slot b % nslots, and only once block
 * b - nslots has been written, so the slots are the only memory. */
typedef struct pipeline {
    const tally_write__job *job;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t next;    /* the next block to format */
    size_t written; /* blocks written */
    size_t nslots;
    tally_write__buf slot[MAX_SLOTS];
    unsigned char ready[MAX_SLOTS];
    int rc;   /* a formatter's error */
    int stop; /* the writer gave up */
} pipeline;

/* With the lock held: formats the next block when one is free to take
 * (and returns 1, the lock held again), else returns 0. */
static int format_next(pipeline *p)
{
    if (p->stop || p->rc || p->next >= p->job->blocks || p->next >= p->written + p->nslots)
        return 0;
    size_t b = p->next++;
    tally_write__buf *out = &p->slot[b % p->nslots];
    pthread_mutex_unlock(&p->lock);
    out->len = 0;
    int rc = p->job->format(p->job->ctx, b, out);
    pthread_mutex_lock(&p->lock);
    if (rc && !p->rc)
        p->rc = rc;
    p->ready[b % p->nslots] = 1;
    pthread_cond_broadcast(&p->cond);
    return 1;
}

static void *formatter(void *arg)
{
    pipeline *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop && !p->rc && p->next < p->job->blocks)
        if (!format_next(p))
            pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The calling thread writes the blocks in order as they are ready, and
 * formats the next free one whenever the one it waits for is not. */
static void write_blocks(pipeline *p, sink *s, int *any)
{
    const tally_write__job *job = p->job;
    pthread_mutex_lock(&p->lock);
    while (p->written < job->blocks && !p->rc && !sink_failed(s)) {
        if (!p->ready[p->written % p->nslots]) {
            if (!format_next(p))
                pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        /* Every ready block from here on, in one system call. */
        size_t first = p->written, n = 0;
        while (first + n < job->blocks && n < p->nslots && p->ready[(first + n) % p->nslots])
            n++;
        pthread_mutex_unlock(&p->lock);
        struct iovec iov[MAX_SLOTS];
        int cnt = 0;
        for (size_t k = 0; k < n; k++) {
            tally_write__buf *b = &p->slot[(first + k) % p->nslots];
            size_t skip = 0;
            if (b->len && !*any) {
                skip = job->drop_first < b->len ? job->drop_first : b->len;
                *any = 1;
            }
            if (b->len > skip)
                iov[cnt++] = (struct iovec){ b->data + skip, b->len - skip };
        }
        if (cnt)
            sink_putv(s, iov, cnt);
        pthread_mutex_lock(&p->lock);
        for (size_t k = 0; k < n; k++)
            p->ready[(first + k) % p->nslots] = 0;
        p->written = first + n;
        pthread_cond_broadcast(&p->cond);
    }
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

size_t tally_write__default_threads(size_t cells)
{
    if (cells < ((size_t)1 << 18))
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t t = cpus > 0 ? (size_t)cpus : 1;
    return t > MAX_THREADS ? MAX_THREADS : t;
}

int tally_write__run(const char *path, const tally_write__job *job)
{
    sink s;
    int rc = tally_output__open(&s.out, path, "the result");
    if (rc)
        return rc;

    pipeline p;
    memset(&p, 0, sizeof p);
    p.job = job;
    size_t threads = job->threads < 1 ? 1 : job->threads > MAX_THREADS ? MAX_THREADS : job->threads;
    if (threads > job->blocks)
        threads = job->blocks ? job->blocks : 1;
    p.nslots = threads == 1 ? 1 : 2 * threads + 2;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);

    sink_put(&s, job->head, strlen(job->head));
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = { 0 };
    /* A thread that cannot start leaves its share to the others. */
    for (size_t t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, formatter, &p) == 0;
    int any = 0;
    write_blocks(&p, &s, &any);
    for (size_t t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    rc = p.rc;
    if (!rc) {
        const char *tail = any ? job->tail : job->tail_empty;
        sink_put(&s, tail, strlen(tail));
    }
    for (size_t k = 0; k < p.nslots; k++)
        free(p.slot[k].data);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.lock);

    if (rc) {
        tally_output__discard(&s.out);
        return tally_error__set(rc, "out of memory writing a result");
    }
    return tally_output__close(&s.out);
}
