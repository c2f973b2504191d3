/*
 * Replays fuzz inputs without libFuzzer: calls LLVMFuzzerTestOneInput once per file.
 *
 * usage: fuzz_parquet_replay PATH...   (each PATH a file or a directory, not descended into)
 *
 * Files of a directory run in name order, each from its own exactly-sized heap copy so that
 * AddressSanitizer catches a read one byte past the input. Exit status 0 when every input ran;
 * 1 when a PATH cannot be read (a missing corpus is an error, never a silent pass). A crash or a
 * sanitizer report ends the process, naming the input on stderr first. An input that runs longer
 * than $REPLAY_TIMEOUT seconds (default 60) ends it too, as a hang, with exit status 3.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional summary from the target (what the inputs reached). */
void fuzz_target_report(FILE *out) __attribute__((weak));

static const char *replay_current = "";

static void replay_hang(int sig) {
  (void)sig;
  static const char what[] = "replay: hang: the input above ran longer than the time limit: ";
  if (write(2, what, sizeof what - 1) < 0 || write(2, replay_current, strlen(replay_current)) < 0 ||
      write(2, "\n", 1) < 0) {
    /* nothing more can be reported */
  }
  _exit(3);
}

static unsigned replay_timeout = 60;

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
    fprintf(stderr, "replay: cannot stat %s: %s\n", path, strerror(errno));
    fclose(f);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  uint8_t *data = malloc(size ? size : 1);
  if (!data || fread(data, 1, size, f) != size) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(data);
    fclose(f);
    return -1;
  }
  fclose(f);
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
  replay_current = path;
  alarm(replay_timeout);
  LLVMFuzzerTestOneInput(data, size);
  alarm(0);
  free(data);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, int *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open directory %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **grown = realloc(names, cap * sizeof *names);
      if (!grown) { rc = -1; break; }
      names = grown;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) { rc = -1; break; }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(names[i]) != 0) rc = -1;
      else (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH...\n", argv[0]);
    return 2;
  }
  int count = 0, failed = 0;
  const char *limit = getenv("REPLAY_TIMEOUT");
  if (limit && atoi(limit) > 0) replay_timeout = (unsigned)atoi(limit);
  signal(SIGALRM, replay_hang);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      failed = 1;
    } else if (S_ISDIR(st.st_mode)) {
      if (replay_dir(argv[i], &count) != 0) failed = 1;
    } else if (replay_file(argv[i]) != 0) {
      failed = 1;
    } else {
      count++;
    }
  }
  printf("replayed %d inputs%s\n", count, failed ? " (some paths could not be read)" : "");
  if (fuzz_target_report) fuzz_target_report(stdout);
  return failed ? 1 : 0;
}
