/*
 * Durable file-system steps, as the table formats' commits need them: a file written whole and
 * fsynced before anything names it, and a directory fsynced after a name was created, renamed or
 * linked in it, so a crash never leaves a published name without its bytes; and small files (log
 * commits, pointers) read whole with a size limit checked before anything is allocated.
 */
#ifndef TARN_COMMON_FS_H
#define TARN_COMMON_FS_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes to fd, retrying short writes and EINTR. 0, or the errno (ENOSPC for a write
 * that wrote nothing). */
int tarn_write_all(int fd, const void *p, size_t n);

/* Creates path (it must not exist: O_EXCL), writes the n bytes, fsyncs and closes it; on failure
 * removes it. 0, or the errno. */
int tarn_write_file_synced(const char *path, const void *data, size_t n);

/* Reads the whole regular file path into a malloc'd, NUL-terminated buffer (*len bytes before
 * the NUL; a file that shrinks while read gives what is there), refusing one larger than max
 * bytes before allocating. *mtime_ms (when not NULL): its modification time. 0, or an errno:
 * ENOENT, EFBIG (larger than max), EINVAL (not a regular file), ENOMEM, or the one open or read
 * gave. */
int tarn_read_file(const char *path, size_t max, char **out, size_t *len, int64_t *mtime_ms);

/* fsyncs the directory dir (so the names created in it last). 0, or -1 with errno set. */
int tarn_fsync_dir(const char *dir);

#endif
