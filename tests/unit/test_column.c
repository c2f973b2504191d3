/*
 * Tests of the column reader's dictionary-index mode (src/parquet/column.c,
 * pq_column_reader_want_indices) on a column chunk built by hand: a dictionary page, a
 * dictionary-encoded data page, a PLAIN data page (the fallback writers make when a dictionary
 * grows too big) and another dictionary-encoded page. Batches inside dictionary pages come out as
 * indices; a batch that meets the PLAIN page comes out as strings, with its dictionary values
 * turned into strings first. Expected values are the strings the pages were built from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "common/error.h"
#include "parquet/column.h"
#include "parquet/format.h"
#include "parquet/thrift_write.h"

static tarn_buf chunk;

/* A page: its Thrift header, then body[0..len). */
static void page(int type, int num_values, int encoding, const uint8_t *body, size_t len) {
  tarn_buf h = {0};
  thw w;
  thw_init(&w, &h, NULL);
  thw_struct_begin(&w);
  thw_i32(&w, 1, type);
  thw_i32(&w, 2, (int32_t)len);
  thw_i32(&w, 3, (int32_t)len);
  if (type == PQ_PAGE_DICTIONARY) {
    thw_field_struct(&w, 7);
    thw_i32(&w, 1, num_values);
    thw_i32(&w, 2, encoding);
    thw_struct_end(&w);
  } else {
    thw_field_struct(&w, 5);
    thw_i32(&w, 1, num_values);
    thw_i32(&w, 2, encoding);
    thw_i32(&w, 3, PQ_ENC_RLE);
    thw_i32(&w, 4, PQ_ENC_RLE);
    thw_struct_end(&w);
  }
  thw_struct_end(&w);
  tarn_buf_append(&chunk, h.data, h.len, NULL);
  tarn_buf_append(&chunk, body, len, NULL);
  tarn_buf_free(&h);
}

/* PLAIN BYTE_ARRAY values: 4-byte length, then the bytes. */
static size_t plain(uint8_t *out, const char *const *s, int n) {
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    uint32_t len = (uint32_t)strlen(s[i]);
    memcpy(out + k, &len, 4);
    memcpy(out + k + 4, s[i], len);
    k += 4 + len;
  }
  return k;
}

/* Dictionary indices of bit width 2, as one bit-packed run of 8 (values past n are zero). */
static size_t indices(uint8_t *out, const uint8_t *idx, int n) {
  out[0] = 2;    /* bit width */
  out[1] = 0x03; /* bit-packed run, one group of 8 */
  uint16_t bits = 0;
  for (int i = 0; i < 8; i++)
    bits |= (uint16_t)((i < n ? idx[i] : 0) << (2 * i));
  memcpy(out + 2, &bits, 2);
  return 4;
}

/* String v of batch d as read from reader r. */
static void value(pq_column_reader *r, const pq_column_data *d, int v, const char **p, size_t *n) {
  if (d->indexed) {
    const uint8_t *bytes;
    const int32_t *offs;
    int64_t count;
    pq_column_reader_dictionary(r, &bytes, &offs, &count);
    uint32_t e = ((const uint32_t *)(const void *)d->indices.data)[v];
    *p = (const char *)bytes + offs[e];
    *n = (size_t)(offs[e + 1] - offs[e]);
    return;
  }
  const int32_t *offs = (const int32_t *)(const void *)d->offsets.data;
  *p = (const char *)d->values.data + offs[v];
  *n = (size_t)(offs[v + 1] - offs[v]);
}

static void test_dictionary_fallback(void) {
  static const char *const dict[] = {"aa", "bbb", "c"};
  static const uint8_t page1[] = {2, 0, 1, 1, 2}; /* c aa bbb bbb c */
  static const char *const plain2[] = {"xy", "", "zzzz"};
  static const uint8_t page3[] = {1, 0};
  const char *want[] = {"c", "aa", "bbb", "bbb", "c", "xy", "", "zzzz", "bbb", "aa"};
  uint8_t body[256];
  tarn_buf_append(&chunk, "PAR1", 4, NULL); /* the chunk starts after a file's magic */
  page(PQ_PAGE_DICTIONARY, 3, PQ_ENC_PLAIN, body, plain(body, dict, 3));
  size_t data_start = chunk.len;
  page(PQ_PAGE_DATA, 5, PQ_ENC_RLE_DICTIONARY, body, indices(body, page1, 5));
  page(PQ_PAGE_DATA, 3, PQ_ENC_PLAIN, body, plain(body, plain2, 3));
  page(PQ_PAGE_DATA, 2, PQ_ENC_RLE_DICTIONARY, body, indices(body, page3, 2));

  pq_node leaf;
  memset(&leaf, 0, sizeof leaf);
  leaf.kind = PQ_NODE_LEAF;
  leaf.physical = PQ_BYTE_ARRAY;
  leaf.path = "s";
  pq_column_meta meta;
  memset(&meta, 0, sizeof meta);
  meta.type = PQ_BYTE_ARRAY;
  meta.codec = PQ_CODEC_UNCOMPRESSED;
  meta.num_values = 10;
  meta.dictionary_page_offset = 4;
  meta.has_dictionary_page_offset = 1;
  meta.data_page_offset = (int64_t)data_start;
  meta.total_compressed_size = (int64_t)chunk.len;
  pq_column_chunk cc;
  memset(&cc, 0, sizeof cc);
  pq_chunk_source src = {.data = chunk.data, .len = chunk.len, .file_name = "test"};
  pq_column_reader *r = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(pq_column_reader_create(&src, &cc, &meta, &leaf, &r, &err), 0);
  if (r == NULL) return;
  pq_column_reader_want_indices(r);
  pq_column_data d;
  memset(&d, 0, sizeof d);
  /* Batches: four values inside page 1 (indices), the last of page 1 with the PLAIN page 2
   * (strings), then page 3 one value at a time (indices). */
  static const int sizes[] = {4, 4, 1, 1};
  static const bool indexed[] = {true, false, true, true};
  int at = 0;
  for (int b = 0; b < 4; b++) {
    int64_t got = 0;
    CHECK_EQ_INT(pq_column_read(r, sizes[b], &d, &got, &err), 0);
    CHECK_EQ_INT(got, sizes[b]);
    CHECK_EQ_INT(d.n_values, sizes[b]);
    CHECK_EQ_INT(d.indexed, indexed[b]);
    for (int v = 0; v < got && at + v < 10; v++) {
      const char *p;
      size_t n;
      value(r, &d, v, &p, &n);
      CHECK_EQ_INT(n, strlen(want[at + v]));
      CHECK(n == strlen(want[at + v]) && memcmp(p, want[at + v], n) == 0);
    }
    at += (int)got;
  }
  int64_t got = -1;
  CHECK_EQ_INT(pq_column_read(r, 4, &d, &got, &err), 0);
  CHECK_EQ_INT(got, 0);
  pq_column_data_free(&d);
  pq_column_reader_free(r);
  tarn_buf_free(&chunk);
}

int main(void) {
  RUN(test_dictionary_fallback);
  return check_finish();
}
