/*
 * Arena allocation for many small objects that die together.
 *
 * A Parquet footer decodes into hundreds of small structures (schema elements, column chunks,
 * statistics); they all live exactly as long as the open file, so they come from one arena and
 * are freed in one call. Allocations are zeroed and 16-byte aligned. Sizes are checked for
 * overflow; an allocation over TARN_ARENA_MAX fails rather than asking the system for it.
 */
#ifndef TARN_COMMON_ARENA_H
#define TARN_COMMON_ARENA_H

#include <stddef.h>

#define TARN_ARENA_MAX ((size_t)1 << 30)

typedef struct tarn_arena_block tarn_arena_block;

typedef struct tarn_arena {
  tarn_arena_block *head;
  size_t total; /* bytes handed out so far */
} tarn_arena;

/* Returns n*size zeroed bytes owned by the arena, or NULL when n*size overflows, passes
 * TARN_ARENA_MAX in total, or memory runs out. */
void *tarn_arena_calloc(tarn_arena *a, size_t n, size_t size);

/* Copies len bytes plus a NUL terminator into the arena. NULL on failure. */
char *tarn_arena_strndup(tarn_arena *a, const char *s, size_t len);

/* Frees every allocation. The arena can be reused afterwards. */
void tarn_arena_free(tarn_arena *a);

#endif
