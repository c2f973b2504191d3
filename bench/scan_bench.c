/*
 * scan_bench: times tarn decoding a whole Parquet file to Arrow batches.
 *
 * usage: scan_bench FILE [--threads N] [--batch-rows N (default: the library's)] [--repeat N]
 *
 * Each thread opens its own tarn_parquet_file handle and scans every column of its share of the
 * row groups (row group i goes to thread i mod N), releasing each batch as it arrives: the time
 * is footer parsing, page reading, decompression, decoding and record assembly into Arrow arrays.
 * With --repeat the best run counts. Prints one line of key=value pairs:
 *   threads=2 rows=10000000 seconds=1.234 rows_per_s=8103727 max_rss_kb=123456
 * max_rss_kb is the process's peak resident set (getrusage), over all repeats. Exit 1 on error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tarn.h"

typedef struct bench_worker {
  const char *path;
  int index, n_threads;
  int64_t batch_rows;
  int64_t rows; /* out: rows decoded */
  int rc;       /* out: 0 or a tarn error code */
  char message[600];
} bench_worker;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_scan(void *arg) {
  bench_worker *w = arg;
  tarn_error err;
  memset(&err, 0, sizeof err);
  tarn_parquet_file *file = NULL;
  int *groups = NULL;
  w->rc = tarn_parquet_open(w->path, NULL, &file, &err);
  if (w->rc != 0) goto done;
  int n_groups = tarn_parquet_num_row_groups(file);
  groups = malloc(sizeof *groups * (size_t)(n_groups > 0 ? n_groups : 1));
  if (!groups) {
    w->rc = TARN_ENOMEM;
    snprintf(err.message, sizeof err.message, "out of memory");
    goto done;
  }
  size_t n_mine = 0;
  for (int g = w->index; g < n_groups; g += w->n_threads) groups[n_mine++] = g;
  if (n_mine == 0) goto done;

  tarn_scan_options opts;
  memset(&opts, 0, sizeof opts);
  opts.row_groups = groups;
  opts.n_row_groups = n_mine;
  opts.batch_rows = w->batch_rows;
  struct ArrowArrayStream stream;
  w->rc = tarn_parquet_scan(file, &opts, &stream, &err);
  if (w->rc != 0) goto done;
  for (;;) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof batch);
    if (stream.get_next(&stream, &batch) != 0) {
      w->rc = tarn_parquet_stream_error(&stream);
      if (w->rc == 0) w->rc = TARN_ECORRUPT;
      const char *msg = stream.get_last_error(&stream);
      snprintf(err.message, sizeof err.message, "%s", msg ? msg : "scan failed");
      break;
    }
    if (!batch.release) break;
    w->rows += batch.length;
    batch.release(&batch);
  }
  stream.release(&stream);
done:
  if (w->rc != 0) snprintf(w->message, sizeof w->message, "%s", err.message);
  free(groups);
  tarn_parquet_close(file);
  return NULL;
}

static long parse_positive(const char *flag, const char *value) {
  char *end = NULL;
  errno = 0;
  long v = value ? strtol(value, &end, 10) : 0;
  if (!value || errno || *end || v <= 0) {
    fprintf(stderr, "scan_bench: %s needs a positive number\n", flag);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int n_threads = 1, repeat = 1;
  int64_t batch_rows = 0; /* 0: the library default */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0) n_threads = (int)parse_positive(argv[i], argv[i + 1]), i++;
    else if (strcmp(argv[i], "--batch-rows") == 0) batch_rows = parse_positive(argv[i], argv[i + 1]), i++;
    else if (strcmp(argv[i], "--repeat") == 0) repeat = (int)parse_positive(argv[i], argv[i + 1]), i++;
    else if (!path && argv[i][0] != '-') path = argv[i];
    else {
      fprintf(stderr, "usage: scan_bench FILE [--threads N] [--batch-rows N] [--repeat N]\n");
      return 2;
    }
  }
  if (!path || n_threads > 256) {
    fprintf(stderr, "usage: scan_bench FILE [--threads N<=256] [--batch-rows N] [--repeat N]\n");
    return 2;
  }
  bench_worker *workers = calloc((size_t)n_threads, sizeof *workers);
  pthread_t *tids = calloc((size_t)n_threads, sizeof *tids);
  if (!workers || !tids) return 1;
  double best = -1;
  int64_t rows = 0;
  for (int r = 0; r < repeat; r++) {
    double start = now_seconds();
    for (int t = 0; t < n_threads; t++) {
      workers[t] = (bench_worker){.path = path, .index = t, .n_threads = n_threads,
                                  .batch_rows = batch_rows};
      if (pthread_create(&tids[t], NULL, bench_scan, &workers[t]) != 0) {
        fprintf(stderr, "scan_bench: cannot start a thread\n");
        return 1;
      }
    }
    rows = 0;
    for (int t = 0; t < n_threads; t++) pthread_join(tids[t], NULL);
    double seconds = now_seconds() - start;
    for (int t = 0; t < n_threads; t++) {
      if (workers[t].rc != 0) {
        fprintf(stderr, "scan_bench: %s: %s (%s)\n", path, workers[t].message,
                tarn_strerror(workers[t].rc));
        return 1;
      }
      rows += workers[t].rows;
    }
    if (best < 0 || seconds < best) best = seconds;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("threads=%d rows=%lld seconds=%.3f rows_per_s=%.0f max_rss_kb=%ld\n", n_threads,
         (long long)rows, best, best > 0 ? (double)rows / best : 0.0, usage.ru_maxrss);
  free(workers);
  free(tids);
  return 0;
}
