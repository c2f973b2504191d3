#include "common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tarn_arena_block {
  tarn_arena_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK_SIZE ((size_t)32 * 1024)

void *tarn_arena_calloc(tarn_arena *a, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  size_t bytes = (n * size + 15) & ~(size_t)15;
  if (bytes == 0) bytes = 16;
  if (bytes > TARN_ARENA_MAX || a->total > TARN_ARENA_MAX - bytes) return NULL;
  tarn_arena_block *b = a->head;
  if (b == NULL || b->cap - b->used < bytes) {
    size_t cap = bytes > ARENA_BLOCK_SIZE ? bytes : ARENA_BLOCK_SIZE;
    b = malloc(sizeof *b + cap);
    if (b == NULL) return NULL;
    b->used = 0;
    b->cap = cap;
    /* Keep the block with free space at the head; a large one-off block goes behind it. */
    if (a->head != NULL && bytes > ARENA_BLOCK_SIZE) {
      b->next = a->head->next;
      a->head->next = b;
    } else {
      b->next = a->head;
      a->head = b;
    }
  }
  void *p = b->data + b->used;
  b->used += bytes;
  a->total += bytes;
  memset(p, 0, bytes);
  return p;
}

char *tarn_arena_strndup(tarn_arena *a, const char *s, size_t len) {
  if (len == SIZE_MAX) return NULL;
  char *p = tarn_arena_calloc(a, len + 1, 1);
  if (p == NULL) return NULL;
  if (len) memcpy(p, s, len);
  return p;
}

void tarn_arena_free(tarn_arena *a) {
  tarn_arena_block *b = a->head;
  while (b) {
    tarn_arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
  a->total = 0;
}
