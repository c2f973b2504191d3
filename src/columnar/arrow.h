/*
 * Building Arrow C Data Interface structures that own their memory.
 *
 * Everything tarn exports as Arrow is made here: an ArrowArray whose buffers and children were
 * malloc'd by tarn and are freed by its release callback, and an ArrowSchema whose strings and
 * children likewise belong to it. Ownership moves with the structure (Arrow's move semantics):
 * once handed to a consumer, only its release callback frees it.
 */
#ifndef TARN_COLUMNAR_ARROW_H
#define TARN_COLUMNAR_ARROW_H

#include <stdint.h>

#include "tarn.h"

/* Initialises *a as an empty array with n_buffers NULL buffer slots and n_children zeroed child
 * arrays (each child allocated, with release NULL until filled). Buffers placed in a->buffers
 * must come from malloc; release frees them, releases and frees the children. */
int col_array_init(struct ArrowArray *a, int64_t n_buffers, int64_t n_children, tarn_error *err);

/* Release callback used by col_array_init (exposed so moved arrays keep working). */
void col_array_release(struct ArrowArray *a);

/* Initialises *s with copies of format and name, the given flags and n_children zeroed children
 * (allocated, release NULL until filled). metadata (an Arrow metadata blob, may be NULL) is
 * copied; its length is given because the blob contains NULs. */
int col_schema_init(struct ArrowSchema *s, const char *format, const char *name, int64_t flags,
                    int64_t n_children, const char *metadata, size_t metadata_len, tarn_error *err);

void col_schema_release(struct ArrowSchema *s);

/* Deep-copies a schema made by col_schema_init (or any schema). */
int col_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst, tarn_error *err);

/* Builds an Arrow metadata blob with one key/value pair into buf (malloc'd); returns its length
 * in *len. */
int col_metadata_single(const char *key, const char *value, char **buf, size_t *len,
                        tarn_error *err);

/* The same for n key/value pairs. */
int col_metadata_pairs(const char *const *keys, const char *const *values, int n, char **buf,
                       size_t *len, tarn_error *err);

/* Finds key in an Arrow metadata blob (may be NULL). Returns a pointer to its value inside the
 * blob and sets *value_len, or returns NULL. */
const char *col_metadata_find(const char *metadata, const char *key, size_t *value_len);

#endif
