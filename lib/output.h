/* Internal: how every writer opens the file it writes (docs/output.md).
 *
 * A regular file, or a name where there is no file yet, is never written
 * in place: the output goes to a new temporary file in the same directory
 * (a unique name created with O_EXCL, mode as an ordinary new file gets,
 * or the replaced file's), which is synced and then renamed over the
 * destination only when everything was written. A run that fails leaves
 * the previous output as it was and removes its temporary file; of
 * concurrent writers of one path, each has its own temporary file and the
 * last rename wins whole.
 *
 * Anything else (a character device such as /dev/null, a FIFO, a
 * terminal, /dev/stdout and the other links into /proc) is opened as it is
 * and written straight through: replacing it would turn it into a regular
 * file.
 *
 * A symbolic link is followed: the file it leads to (through up to 40
 * links) is replaced, and the link stays a link. A link to nothing makes
 * the file it names, as a shell redirection would. */
#ifndef TALLY_LIB_OUTPUT_H
#define TALLY_LIB_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct tally_output {
    const char *path; /* as given (borrowed); NULL: standard output */
    const char *what; /* "the result": what the messages say is written */
    char *target;     /* the file replaced: path with its links followed */
    char *tmp;        /* the temporary file; NULL when written through */
    int fd;           /* where the bytes go (-1: stdout has no descriptor) */
    FILE *f;          /* the stream of tally_output__open_stream, or NULL */
    int err;          /* the first failure's errno; 0 while all is well */
    unsigned long long written; /* bytes written to fd */
    unsigned long long flushed; /* of those, the ones sent to the disk early */
} tally_output;

/* Opens `path` for writing by the rules above; NULL is standard output
 * (what stdio holds for it is flushed first, and o->fd is its descriptor).
 * `what` names the output in messages ("the result", "the snapshot") and
 * must outlive `o`. 0, or TALLY_EIO ("path: cannot write <what>: <errno
 * text>") or TALLY_ENOMEM, with the calling thread's error record set and
 * nothing left to close. */
int tally_output__open(tally_output *o, const char *path, const char *what);

/* As tally_output__open, and o->f is a stream over the output (stdout for
 * NULL) whose write failures are kept, with their errno, in o->err. */
int tally_output__open_stream(tally_output *o, const char *path, const char *what);

/* Writes n bytes to o->fd, on through short writes and EINTR. 0, or -1
 * after recording the failure (tally_output__fail). */
int tally_output__write(tally_output *o, const void *p, size_t n);

/* Counts n more bytes written to o->fd (tally_output__write does; a
 * writer that writes the descriptor itself calls it). A temporary file
 * that will be synced is sent to the disk as it grows, a window at a time,
 * and the window before is waited for and dropped from the page cache:
 * the final fsync then has little left to wait for, and a large output
 * neither piles up dirty pages until the kernel throttles the writer nor
 * evicts the page cache of the inputs. Only a hint: failures are left to
 * the fsync at the close, which reports them. */
void tally_output__wrote(tally_output *o, size_t n);

/* Records a failure to write (err: an errno value, 0 for EIO); the first
 * one is kept, and tally_output__close then fails with it. */
void tally_output__fail(tally_output *o, int err);

/* Finishes the output: flushes the stream, and for a temporary file syncs
 * it, closes it and renames it over the target. 0; or, after any failure
 * recorded before or met here, TALLY_EIO with the error record set
 * ("path: cannot write <what>: <errno text>"), the temporary file removed
 * and the previous output intact. Standard output is flushed, not closed. */
int tally_output__close(tally_output *o);

/* Gives the output up after the caller's own failure (out of memory, say):
 * the temporary file is removed and the previous output stays. Sets no
 * error record: the caller reports its failure. Safe on an output that
 * failed to open. */
void tally_output__discard(tally_output *o);

#endif
