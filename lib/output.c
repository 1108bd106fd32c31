/* How every writer opens the file it writes: a temporary file renamed over
 * a regular destination, straight through to anything else (output.h,
 * docs/output.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "tally/error.h"

/* Links followed before giving up, as the kernel does (ELOOP). */
#define MAX_LINKS 40
/* Of the destination's name, at most this many bytes go into the
 * temporary file's name, so that it stays under NAME_MAX. */
#define TMP_NAME_KEEP 200

static int fail_open(tally_output *o, int err, const char *where)
{
    const char *path = o->path;
    int rc;
    if (err == ENOMEM)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory opening %s for writing", path);
    else if (where)
        rc = tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0,
                                 "cannot write %s: cannot create a temporary file in %s: %s",
                                 o->what, where, strerror(err));
    else
        rc = tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write %s: %s", o->what,
                                 strerror(err));
    free(o->target);
    free(o->tmp);
    o->target = o->tmp = NULL;
    o->fd = -1;
    return rc;
}

static int starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* `dir_of`'s directory part (up to and with its last '/') followed by
 * `name`; a new string or NULL. */
static char *join(const char *dir_of, size_t dir_len, const char *name, size_t name_len)
{
    char *s = malloc(dir_len + name_len + 1);
    if (!s)
        return NULL;
    memcpy(s, dir_of, dir_len);
    memcpy(s + dir_len, name, name_len);
    s[dir_len + name_len] = '\0';
    return s;
}

static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

enum { KIND_NEW, KIND_REGULAR, KIND_THROUGH };

/* Follows `path`'s links to the file they lead to: *target (a new string)
 * and what it is. A link into /proc (/dev/stdout, /dev/fd/N) is not
 * followed: what it names is an open file of this process, written
 * through. 0, or an errno value. */
static int resolve(const char *path, char **target, int *kind, struct stat *st)
{
    char *cur = strdup(path);
    if (!cur)
        return ENOMEM;
    for (int hops = 0;; hops++) {
        if (lstat(cur, st) != 0) {
            int err = errno;
            if (err != ENOENT) {
                free(cur);
                return err;
            }
            *kind = KIND_NEW;
            break;
        }
        if (!S_ISLNK(st->st_mode)) {
            *kind = S_ISREG(st->st_mode) ? KIND_REGULAR : KIND_THROUGH;
            break;
        }
        if (hops == MAX_LINKS) {
            free(cur);
            return ELOOP;
        }
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0 || (size_t)n >= sizeof link - 1) {
            int err = n < 0 ? errno : ENAMETOOLONG;
            free(cur);
            return err;
        }
        link[n] = '\0';
        if (starts_with(cur, "/proc/") || starts_with(cur, "/dev/fd/") ||
            starts_with(link, "/proc/")) {
            *kind = KIND_THROUGH;
            break;
        }
        char *next = link[0] == '/' ? join("", 0, link, (size_t)n)
                                    : join(cur, dir_len(cur), link, (size_t)n);
        free(cur);
        if (!next)
            return ENOMEM;
        cur = next;
    }
    *target = cur;
    return 0;
}

/* A name no other writer is likely to pick, from the time, the process
 * and the try; O_EXCL makes sure of it. */
static void tmp_suffix(char out[9], const void *salt, unsigned attempt)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)salt ^
                 ((uint64_t)attempt * 0x9e3779b97f4a7c15u);
    /* splitmix64's finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 8; i++, x /= 36)
        out[i] = digits[x % 36];
    out[8] = '\0';
}

/* Creates the temporary file next to o->target: ".<name>.<8 chars>.tmp". */
static int make_tmp(tally_output *o, const struct stat *replaced)
{
    size_t dl = dir_len(o->target);
    const char *base = o->target + dl;
    size_t bl = strlen(base);
    if (bl > TMP_NAME_KEEP)
        bl = TMP_NAME_KEEP;
    o->tmp = malloc(dl + bl + 16);
    if (!o->tmp)
        return ENOMEM;
    for (unsigned attempt = 0;; attempt++) {
        char suffix[9];
        tmp_suffix(suffix, o, attempt);
        memcpy(o->tmp, o->target, dl);
        snprintf(o->tmp + dl, bl + 16, ".%.*s.%s.tmp", (int)bl, base, suffix);
        /* 0666 less the umask: the mode any new file gets. */
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (o->fd >= 0)
            break;
        if (errno != EEXIST || attempt == 100)
            return errno;
    }
    if (replaced) {
        /* The replaced file's owner (where we may give it) and mode. */
        if (replaced->st_uid != geteuid() || replaced->st_gid != getegid())
            (void)!fchown(o->fd, replaced->st_uid, replaced->st_gid);
        (void)!fchmod(o->fd, replaced->st_mode & 07777);
    }
    return 0;
}

int tally_output__open(tally_output *o, const char *path, const char *what)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    o->what = what;
    o->fd = -1;
    if (!path) {
        if (fflush(stdout) != 0)
            o->err = errno ? errno : EIO;
        o->fd = fileno(stdout);
        return 0;
    }
    int kind;
    struct stat st;
    /* Where the path leads (links followed) is not a regular file:
     * written through. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        kind = KIND_THROUGH;
    } else {
        int err = resolve(path, &o->target, &kind, &st);
        if (err)
            return fail_open(o, err, NULL);
    }
    if (kind == KIND_THROUGH) {
        free(o->target);
        o->target = NULL;
        /* O_TRUNC matters only for a regular file reached through /proc
         * (a shell's `> file` behind /dev/stdout); a device ignores it. */
        o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0666);
        return o->fd < 0 ? fail_open(o, errno, NULL) : 0;
    }
    int err = make_tmp(o, kind == KIND_REGULAR ? &st : NULL);
    if (err) {
        char dir[PATH_MAX];
        size_t dl = dir_len(o->target);
        /* The directory without its last '/', but "/" itself. */
        snprintf(dir, sizeof dir, "%.*s", dl > 1 ? (int)dl - 1 : 1, dl ? o->target : ".");
        /* A directory not there says enough; a refusal to create a file
         * in it (EACCES, EROFS) needs the why: the destination itself
         * may well be writable. */
        int plain = err == ENOMEM || err == ENOENT || err == ENOTDIR;
        return fail_open(o, err, plain ? NULL : dir);
    }
    return 0;
}

/* The stream's writes, through tally_output__write so that a failure's
 * errno is kept. 0 on failure, as fopencookie asks. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    tally_output *o = cookie;
    if (o->err)
        return 0;
    return tally_output__write(o, buf, size) ? 0 : (ssize_t)size;
}

static int cookie_close(void *cookie)
{
    (void)cookie; /* the descriptor is closed by tally_output__close */
    return 0;
}

int tally_output__open_stream(tally_output *o, const char *path, const char *what)
{
    int rc = tally_output__open(o, path, what);
    if (rc)
        return rc;
    if (!path) {
        o->f = stdout;
        return 0;
    }
    cookie_io_functions_t io = { NULL, cookie_write, NULL, cookie_close };
    o->f = fopencookie(o, "w", io);
    if (!o->f) {
        tally_output__discard(o);
        return tally_error__set(TALLY_ENOMEM, "out of memory opening %s for writing", path);
    }
    return 0;
}

void tally_output__fail(tally_output *o, int err)
{
    if (!o->err)
        o->err = err ? err : EIO;
}

int tally_output__write(tally_output *o, const void *p, size_t n)
{
    const char *s = p;
    if (o->err)
        return -1;
    if (o->fd < 0) { /* standard output without a descriptor */
        if (n && fwrite(s, 1, n, stdout) != n) {
            tally_output__fail(o, errno);
            return -1;
        }
        return 0;
    }
    while (n) {
        ssize_t k = write(o->fd, s, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            tally_output__fail(o, k < 0 ? errno : ENOSPC);
            return -1;
        }
        s += k;
        n -= (size_t)k;
        tally_output__wrote(o, (size_t)k);
    }
    return 0;
}

/* The early writeback's window: large enough that the disk sees long
 * writes, small enough that two windows of dirty pages are nothing. */
#define WRITEBACK_WINDOW ((unsigned long long)16 << 20)

void tally_output__wrote(tally_output *o, size_t n)
{
    o->written += n;
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    while (o->tmp && o->fd >= 0 && o->written - o->flushed >= WRITEBACK_WINDOW) {
        off_t at = (off_t)o->flushed;
        (void)sync_file_range(o->fd, at, (off_t)WRITEBACK_WINDOW, SYNC_FILE_RANGE_WRITE);
        if (o->flushed >= WRITEBACK_WINDOW) {
            off_t before = at - (off_t)WRITEBACK_WINDOW;
            (void)sync_file_range(o->fd, before, (off_t)WRITEBACK_WINDOW,
                                  SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                      SYNC_FILE_RANGE_WAIT_AFTER);
            (void)posix_fadvise(o->fd, before, (off_t)WRITEBACK_WINDOW, POSIX_FADV_DONTNEED);
        }
        o->flushed += WRITEBACK_WINDOW;
    }
#endif
}

/* Closes what is open; with `keep`, renames the temporary file over the
 * target, else removes it. Failures go to o->err. */
static void finish(tally_output *o, int keep)
{
    if (o->f && o->f != stdout) {
        if (keep && (fflush(o->f) != 0 || ferror(o->f)))
            tally_output__fail(o, errno);
        fclose(o->f);
    } else if (o->f == stdout || (!o->path && keep)) {
        if (fflush(stdout) != 0 || ferror(stdout))
            tally_output__fail(o, errno);
    }
    o->f = NULL;
    if (o->path && o->fd >= 0) {
        /* Synced before the rename: after a crash the name holds the old
         * file or the whole new one, never an empty one. */
        if (keep && o->tmp && !o->err && fsync(o->fd) != 0)
            tally_output__fail(o, errno);
        if (close(o->fd) != 0 && keep)
            tally_output__fail(o, errno);
    }
    o->fd = -1;
    if (o->tmp) {
        if (keep && !o->err && rename(o->tmp, o->target) != 0)
            tally_output__fail(o, errno);
        if (!keep || o->err)
            unlink(o->tmp);
    }
    free(o->tmp);
    o->tmp = NULL;
}

int tally_output__close(tally_output *o)
{
    finish(o, 1);
    int rc = 0;
    if (o->err) {
        const char *path = o->path ? o->path : "<stdout>";
        if (o->target && strcmp(o->target, o->path))
            rc = tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0,
                                     "cannot write %s to %s, where the link leads: %s", o->what,
                                     o->target, strerror(o->err));
        else
            rc = tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write %s: %s",
                                     o->what, strerror(o->err));
    }
    free(o->target);
    o->target = NULL;
    return rc;
}

void tally_output__discard(tally_output *o)
{
    finish(o, 0);
    free(o->target);
    o->target = NULL;
}
