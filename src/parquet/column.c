#include "parquet/column.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "common/error.h"
#include "parquet/codec.h"
#include "parquet/crypto.h"
#include "parquet/encoding.h"
#include "parquet/format.h"

/* A chunk of at least this many bytes drops its pages when its reader is freed; smaller ones
 * add up on the file until RELEASE_FILE_BYTES have passed. */
#define RELEASE_CHUNK_BYTES ((size_t)8 << 20)
#define RELEASE_FILE_BYTES ((size_t)128 << 20)

/* Level entries decoded ahead of use, for finding record boundaries in repeated columns. */
#define LOOKAHEAD 4096

typedef struct level_decoder {
  int kind; /* 0 absent (max level 0), PQ_ENC_RLE, PQ_ENC_BIT_PACKED */
  pq_rle_decoder rle;
  const uint8_t *data;
  size_t len;
  int bit_width;
  size_t index; /* next value index, BIT_PACKED only */
} level_decoder;

struct pq_column_reader {
  pq_chunk_source src;
  const pq_column_chunk *chunk;
  const pq_column_meta *meta;
  const pq_node *leaf;
  const char *path;
  int width; /* decoded bytes per value; 0 for BYTE_ARRAY */
  int level_bits_def, level_bits_rep;

  size_t start;        /* first byte of the chunk */
  size_t pos, end;     /* next page header; end of the chunk */
  int64_t levels_seen; /* level entries in pages loaded so far */
  bool levels_unknown; /* pages were skipped in a repeated column: levels_seen is not exact */
  int64_t rows_done;   /* records read or skipped so far */
  const pq_offset_index *offset_index; /* page locations, when the file has them */
  int64_t pages_read, pages_skipped;
  int page_ordinal;      /* page being read or last read, dictionary included; -1 at first */
  int data_page_ordinal; /* data pages read so far (for encryption AADs) */
  bool started;
  bool want_indices; /* pq_column_reader_want_indices */

  /* Dictionary. */
  bool has_dict;
  int64_t dict_count;
  tarn_buf dict_values;  /* fixed-width values or BYTE_ARRAY bytes */
  tarn_buf dict_offsets; /* BYTE_ARRAY: dict_count + 1 int32 offsets */

  /* Current data page. */
  tarn_buf page;    /* decompressed (or decrypted) page bytes when they had to be copied */
  tarn_buf scratch; /* decryption output */
  int64_t page_levels_left;
  level_decoder def_dec, rep_dec;
  bool page_dict_encoded;
  pq_rle_decoder index_dec;
  pq_decoder *value_dec;
  tarn_buf indices; /* dictionary indices of one batch */

  /* Lookahead of decoded levels (repeated columns). */
  int16_t la_def[LOOKAHEAD], la_rep[LOOKAHEAD];
  int la_pos, la_len;
};

static int fail(pq_column_reader *r, int code, const char *what, tarn_error *err) {
  return tarn_err(err, code, "column %s: page %d: %s", r->path, r->page_ordinal, what);
}

static int bits_for(int max_level) {
  int b = 0;
  while ((1 << b) <= max_level)
    b++;
  return b;
}

int pq_column_reader_create(const pq_chunk_source *src, const pq_column_chunk *chunk,
                            const pq_column_meta *meta, const pq_node *leaf, pq_column_reader **out,
                            tarn_error *err) {
  if (meta->type != leaf->physical)
    return tarn_err(err, TARN_ECORRUPT, "column %s: chunk type %d differs from the schema's %d",
                    leaf->path, meta->type, leaf->physical);
  int64_t start = meta->data_page_offset;
  /* Some writers set dictionary_page_offset to 0 when there is no dictionary: only trust it when it
   * points before the first data page. */
  if (meta->has_dictionary_page_offset && meta->dictionary_page_offset > 0 &&
      meta->dictionary_page_offset < start)
    start = meta->dictionary_page_offset;
  if (start < 0 || (uint64_t)start >= src->len || meta->total_compressed_size < 0)
    return tarn_err(err, TARN_ECORRUPT,
                    "column %s: chunk starts at %lld, outside the %zu-byte file", leaf->path,
                    (long long)start, src->len);
  /* Pages are bounded by the file rather than by total_compressed_size, which some writers get
   * wrong; the page count is bounded by num_values, and every page is checked on its own. */
  uint64_t end = src->len;
  pq_column_reader *r = calloc(1, sizeof *r);
  if (r == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  r->src = *src;
  r->chunk = chunk;
  r->meta = meta;
  r->leaf = leaf;
  r->path = leaf->path;
  r->width = pq_physical_width(leaf->physical, leaf->type_length);
  r->level_bits_def = bits_for(leaf->max_def);
  r->level_bits_rep = bits_for(leaf->max_rep);
  r->page_ordinal = -1;
  r->start = (size_t)start;
  r->pos = (size_t)start;
  r->end = (size_t)end;
  *out = r;
  return 0;
}

void pq_column_reader_free(pq_column_reader *r) {
  if (r == NULL) return;
  if (r->src.is_file_mapping && r->pos > r->start) {
    /* Keep the resident set bounded rather than growing to the whole file. Dropping pages makes
     * the kernel interrupt every other core running this process (to flush its TLB), so small
     * chunks are not dropped one by one: their bytes are counted on the file, and once enough
     * have passed everything before this chunk goes at once. (Pages another reader still needs
     * are simply read again from the page cache.) */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    size_t passed = r->pos - r->start;
    size_t from = r->start;
    bool drop = passed >= RELEASE_CHUNK_BYTES;
    if (!drop && r->src.unreleased &&
        atomic_fetch_add(r->src.unreleased, passed) + passed >= RELEASE_FILE_BYTES) {
      atomic_store(r->src.unreleased, 0);
      from = 0;
      drop = true;
    }
    uintptr_t a = ((uintptr_t)(r->src.data + from) + page - 1) & ~(page - 1);
    uintptr_t b = (uintptr_t)(r->src.data + (from ? r->pos : r->start)) & ~(page - 1);
    if (drop && b > a) madvise((void *)a, (size_t)(b - a), MADV_DONTNEED); /* posix_ ignores it */
  }
  tarn_buf_free(&r->dict_values);
  tarn_buf_free(&r->dict_offsets);
  tarn_buf_free(&r->page);
  tarn_buf_free(&r->scratch);
  tarn_buf_free(&r->indices);
  pq_decoder_free(r->value_dec);
  free(r);
}

void pq_column_reader_want_indices(pq_column_reader *r) { r->want_indices = r->width == 0; }

void pq_column_reader_dictionary(const pq_column_reader *r, const uint8_t **bytes,
                                 const int32_t **offsets, int64_t *count) {
  *bytes = r->dict_values.data;
  *offsets = (const int32_t *)(const void *)r->dict_offsets.data;
  *count = r->has_dict && r->width == 0 ? r->dict_count : 0;
}

void pq_column_data_free(pq_column_data *d) {
  tarn_buf_free(&d->indices);
  tarn_buf_free(&d->def);
  tarn_buf_free(&d->rep);
  tarn_buf_free(&d->values);
  tarn_buf_free(&d->offsets);
}

/* ---- Page loading ---- */

static int decompress_into(pq_column_reader *r, const uint8_t *src, size_t src_len, size_t dst_len,
                           tarn_buf *dst, tarn_error *err) {
  dst->len = 0;
  int rc = tarn_buf_reserve(dst, dst_len ? dst_len : 1, err);
  if (rc) return rc;
  rc = pq_decompress(r->meta->codec, src, src_len, dst->data, dst_len, err);
  if (rc) {
    tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
    return rc;
  }
  dst->len = dst_len;
  return 0;
}

static int level_init(pq_column_reader *r, level_decoder *d, int encoding, int max_level,
                      const uint8_t **pos, const uint8_t *end, int64_t num_values, bool v2,
                      size_t v2_len, tarn_error *err) {
  memset(d, 0, sizeof *d);
  size_t avail = (size_t)(end - *pos);
  if (v2) {
    /* v2 pages give the level sections' sizes: skip them even for a column without levels (some
     * writers emit a few bytes there). */
    if (v2_len > avail) return fail(r, TARN_ECORRUPT, "level bytes run past the page", err);
    if (max_level == 0) {
      *pos += v2_len;
      return 0;
    }
  }
  if (max_level == 0) return 0;
  int bits = bits_for(max_level);
  d->bit_width = bits;
  if (v2) {
    d->kind = PQ_ENC_RLE;
    int rc = pq_rle_init(&d->rle, *pos, v2_len, bits, err);
    *pos += v2_len;
    return rc;
  }
  if (encoding == PQ_ENC_RLE) {
    if (avail < 4) return fail(r, TARN_ECORRUPT, "truncated level length", err);
    uint32_t n;
    memcpy(&n, *pos, 4);
    if (n > avail - 4) return fail(r, TARN_ECORRUPT, "level length runs past the page", err);
    d->kind = PQ_ENC_RLE;
    int rc = pq_rle_init(&d->rle, *pos + 4, n, bits, err);
    *pos += 4 + n;
    return rc;
  }
  if (encoding == PQ_ENC_BIT_PACKED) {
    uint64_t n = ((uint64_t)num_values * (uint64_t)bits + 7) / 8;
    if (n > avail) return fail(r, TARN_ECORRUPT, "bit-packed levels run past the page", err);
    d->kind = PQ_ENC_BIT_PACKED;
    d->data = *pos;
    d->len = (size_t)n;
    *pos += n;
    return 0;
  }
  return fail(r, TARN_EUNSUPPORTED, "unsupported level encoding", err);
}

static int level_get(pq_column_reader *r, level_decoder *d, int16_t *out, size_t n, int max_level,
                     tarn_error *err) {
  int rc;
  if (d->kind == PQ_ENC_RLE)
    rc = pq_rle_get_i16(&d->rle, out, n, err);
  else {
    rc = pq_bitpacked_legacy_get_i16(d->data, d->len, d->bit_width, d->index, out, n, err);
    d->index += n;
  }
  if (rc) {
    tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
    return rc;
  }
  int16_t max = 0;
  for (size_t i = 0; i < n; i++)
    max = out[i] > max ? out[i] : max;
  if (max > max_level || max < 0)
    return fail(r, TARN_ECORRUPT, "level above the column's maximum", err);
  return 0;
}

static int check_plain_count(pq_column_reader *r, int64_t count, size_t bytes, tarn_error *err) {
  /* Each value needs at least this many bytes, so a count the bytes cannot hold is corrupt. */
  uint64_t need;
  if (r->leaf->physical == PQ_BOOLEAN)
    need = ((uint64_t)count + 7) / 8;
  else if (r->width == 0)
    need = (uint64_t)count * 4;
  else
    need = (uint64_t)count * (uint64_t)r->width;
  if (need > bytes) return fail(r, TARN_ECORRUPT, "more values claimed than the page holds", err);
  return 0;
}

static int load_dictionary(pq_column_reader *r, const pq_page_header *h, const uint8_t *body,
                           size_t body_len, tarn_error *err) {
  if (r->has_dict) return fail(r, TARN_ECORRUPT, "a second dictionary page", err);
  if (!h->has_dict) return fail(r, TARN_ECORRUPT, "dictionary page without its header", err);
  if (h->dict.encoding != PQ_ENC_PLAIN && h->dict.encoding != PQ_ENC_PLAIN_DICTIONARY)
    return fail(r, TARN_EUNSUPPORTED, "dictionary page not PLAIN-encoded", err);
  const uint8_t *data = body;
  size_t len = body_len;
  int rc;
  if (r->meta->codec != PQ_CODEC_UNCOMPRESSED) {
    if ((rc = decompress_into(r, body, body_len, (size_t)h->uncompressed_page_size, &r->page, err)))
      return rc;
    data = r->page.data;
    len = r->page.len;
  }
  int64_t n = h->dict.num_values;
  if ((rc = check_plain_count(r, n, len, err))) return rc;
  pq_decoder *dec = NULL;
  if ((rc = pq_decoder_create(PQ_ENC_PLAIN, r->leaf->physical, r->leaf->type_length, data, len, n,
                              &dec, err)))
    return rc;
  r->dict_values.len = 0;
  r->dict_offsets.len = 0;
  if (r->width == 0) {
    int32_t zero = 0;
    if ((rc = tarn_buf_reserve(&r->dict_offsets, (size_t)(n + 1) * 4, err)) == 0) {
      memcpy(r->dict_offsets.data, &zero, 4);
      rc = pq_decoder_get_binary(dec, (int32_t *)(void *)r->dict_offsets.data + 1, &r->dict_values,
                                 (size_t)n, err);
      r->dict_offsets.len = (size_t)(n + 1) * 4;
    }
  } else {
    if ((rc = tarn_buf_reserve(&r->dict_values, (size_t)n * (size_t)r->width + 1, err)) == 0) {
      rc = pq_decoder_get_fixed(dec, r->dict_values.data, (size_t)n, err);
      r->dict_values.len = (size_t)n * (size_t)r->width;
    }
  }
  pq_decoder_free(dec);
  if (rc) {
    tarn_err_prefix(err, "column %s: dictionary page", r->path);
    return rc;
  }
  r->has_dict = true;
  r->dict_count = n;
  return 0;
}

static int start_values(pq_column_reader *r, int encoding, const uint8_t *p, const uint8_t *end,
                        int64_t num_values, tarn_error *err) {
  pq_decoder_free(r->value_dec);
  r->value_dec = NULL;
  r->page_dict_encoded = false;
  size_t len = (size_t)(end - p);
  if (encoding == PQ_ENC_PLAIN_DICTIONARY || encoding == PQ_ENC_RLE_DICTIONARY) {
    if (!r->has_dict)
      return fail(r, TARN_ECORRUPT, "dictionary-encoded page but no dictionary", err);
    r->page_dict_encoded = true;
    if (len == 0) {
      /* Only legal when every value is null; pq_rle_get fails if a value is asked for. */
      return pq_rle_init(&r->index_dec, p, 0, 0, err);
    }
    int bits = p[0];
    if (bits > 32) return fail(r, TARN_ECORRUPT, "dictionary index bit width above 32", err);
    return pq_rle_init(&r->index_dec, p + 1, len - 1, bits, err);
  }
  int rc = pq_decoder_create(encoding, r->leaf->physical, r->leaf->type_length, p, len, num_values,
                             &r->value_dec, err);
  if (rc) tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
  return rc;
}

/* Decrypts a module at data[0..avail) into r->scratch; *consumed = the module's stored size. */
static int decrypt_module(pq_column_reader *r, int module_type, bool gcm, const uint8_t *data,
                          size_t avail, size_t *consumed, tarn_buf *out, tarn_error *err) {
  tarn_buf aad = {0};
  int page = (module_type == PQ_MODULE_DATA_PAGE || module_type == PQ_MODULE_DATA_PAGE_HEADER)
                 ? r->data_page_ordinal
                 : -1;
  int rc = pq_crypto_module_aad(r->src.file_aad, r->src.file_aad_len, module_type,
                                r->src.row_group_ordinal, r->src.column_ordinal, page, &aad, err);
  if (rc) return rc;
  uint8_t *plain = NULL;
  size_t plain_len = 0;
  rc = pq_crypto_decrypt_module(r->src.algorithm, gcm, r->src.key, r->src.key_len, aad.data,
                                aad.len, data, avail, consumed, &plain, &plain_len, err);
  tarn_buf_free(&aad);
  if (rc) {
    tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
    return rc;
  }
  tarn_buf_free(out);
  out->data = plain;
  out->len = out->cap = plain_len;
  return 0;
}

/* Loads the next page holding level entries. Returns 1 when one was loaded, 0 at the end of the
 * chunk, negative on error. */
static int next_data_page(pq_column_reader *r, tarn_error *err) {
  for (;;) {
    if (!r->levels_unknown && r->levels_seen >= r->meta->num_values) return 0;
    if (r->levels_unknown && r->pos >= r->end) return 0; /* the offset index bounds the chunk */
    if (r->pos >= r->end) {
      char msg[160];
      snprintf(msg, sizeof msg, "column chunk ends after %lld of its %lld values",
               (long long)r->levels_seen, (long long)r->meta->num_values);
      return fail(r, TARN_ECORRUPT, msg, err);
    }
    r->page_ordinal++;
    pq_page_header h;
    size_t hlen;
    int rc;
    const uint8_t *at = r->src.data + r->pos;
    size_t avail = r->end - r->pos;
    bool encrypted = r->src.key != NULL;
    if (encrypted) {
      /* The header is its own module; which kind it is (data or dictionary) is not known until it
       * is decrypted, so try the dictionary header AAD only for the very first page. */
      tarn_buf hdr = {0};
      int type =
          (!r->started && r->meta->has_dictionary_page_offset &&
           r->meta->dictionary_page_offset > 0 && (size_t)r->meta->dictionary_page_offset == r->pos)
              ? PQ_MODULE_DICTIONARY_PAGE_HEADER
              : PQ_MODULE_DATA_PAGE_HEADER;
      rc = decrypt_module(r, type, true, at, avail, &hlen, &hdr, err);
      if (rc == 0) {
        size_t used;
        rc = pq_decode_page_header(hdr.data, hdr.len, &h, &used, err);
        /* Statistics in the decrypted header are not used, so the buffer can go. */
      }
      tarn_buf_free(&hdr);
      if (rc) return rc;
    } else if ((rc = pq_decode_page_header(at, avail, &h, &hlen, err))) {
      tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
      return rc;
    }
    r->started = true;
    const uint8_t *body = at + hlen;
    if ((uint64_t)h.compressed_page_size > avail - hlen)
      return fail(r, TARN_ECORRUPT, "page runs past the end of the column chunk", err);
    size_t body_len = (size_t)h.compressed_page_size;
    if (h.uncompressed_page_size > TARN_MAX_PAGE_BYTES)
      return fail(r, TARN_ENOMEM, "page claims more than 1 GiB uncompressed; refused", err);
    r->pos += hlen + body_len;

    if (!encrypted && r->src.verify_crc && h.has_crc &&
        (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2 || h.type == PQ_PAGE_DICTIONARY)) {
      uLong crc = crc32(0L, Z_NULL, 0);
      crc = crc32(crc, body, (uInt)body_len);
      if ((uint32_t)crc != (uint32_t)h.crc)
        return fail(r, TARN_ECORRUPT, "CRC checksum mismatch (corrupt page)", err);
    }

    if (encrypted &&
        (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2 || h.type == PQ_PAGE_DICTIONARY)) {
      bool gcm = r->src.algorithm == PQ_AES_GCM_V1;
      int type = h.type == PQ_PAGE_DICTIONARY ? PQ_MODULE_DICTIONARY_PAGE : PQ_MODULE_DATA_PAGE;
      size_t used;
      if ((rc = decrypt_module(r, type, gcm, body, body_len, &used, &r->scratch, err))) return rc;
      body = r->scratch.data;
      body_len = r->scratch.len;
    }

    if (h.type == PQ_PAGE_DICTIONARY) {
      if ((rc = load_dictionary(r, &h, body, body_len, err))) return rc;
      continue;
    }
    if (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2)
      continue; /* index pages and unknown page types carry no values */

    int64_t num_values;
    int encoding;
    const uint8_t *p, *end;
    if (h.type == PQ_PAGE_DATA) {
      if (!h.has_data) return fail(r, TARN_ECORRUPT, "data page without its header", err);
      num_values = h.data.num_values;
      encoding = h.data.encoding;
      if (r->meta->codec != PQ_CODEC_UNCOMPRESSED) {
        if ((rc = decompress_into(r, body, body_len, (size_t)h.uncompressed_page_size, &r->page,
                                  err)))
          return rc;
        p = r->page.data;
        end = p + r->page.len;
      } else {
        p = body;
        end = body + body_len;
      }
      if ((rc = level_init(r, &r->rep_dec, h.data.rep_encoding, r->leaf->max_rep, &p, end,
                           num_values, false, 0, err)) ||
          (rc = level_init(r, &r->def_dec, h.data.def_encoding, r->leaf->max_def, &p, end,
                           num_values, false, 0, err)))
        return rc;
    } else {
      if (!h.has_data_v2) return fail(r, TARN_ECORRUPT, "data page v2 without its header", err);
      const pq_data_page_header_v2 *v2 = &h.data_v2;
      num_values = v2->num_values;
      encoding = v2->encoding;
      size_t levels_len = (size_t)v2->rep_levels_byte_length + (size_t)v2->def_levels_byte_length;
      if (levels_len > body_len || (int64_t)levels_len > h.uncompressed_page_size)
        return fail(r, TARN_ECORRUPT, "level bytes larger than the page", err);
      p = body;
      end = body + levels_len;
      if ((rc = level_init(r, &r->rep_dec, PQ_ENC_RLE, r->leaf->max_rep, &p, end, num_values, true,
                           (size_t)v2->rep_levels_byte_length, err)) ||
          (rc = level_init(r, &r->def_dec, PQ_ENC_RLE, r->leaf->max_def, &p, end, num_values, true,
                           (size_t)v2->def_levels_byte_length, err)))
        return rc;
      const uint8_t *vals = body + levels_len;
      size_t vals_len = body_len - levels_len;
      size_t vals_ulen = (size_t)h.uncompressed_page_size - levels_len;
      /* Writers before Arrow 3.0 compressed v2 pages while flagging them uncompressed; an
       * uncompressed page necessarily has equal sizes, so unequal sizes mean compressed data. */
      bool compressed = v2->is_compressed || h.compressed_page_size != h.uncompressed_page_size;
      if (compressed && r->meta->codec != PQ_CODEC_UNCOMPRESSED && vals_len > 0) {
        if ((rc = decompress_into(r, vals, vals_len, vals_ulen, &r->page, err))) return rc;
        p = r->page.data;
        end = p + r->page.len;
      } else {
        p = vals;
        end = vals + vals_len;
      }
    }
    if (!r->levels_unknown && num_values > r->meta->num_values - r->levels_seen)
      return fail(r, TARN_ECORRUPT, "pages hold more values than the column chunk declares", err);
    if ((rc = start_values(r, encoding, p, end, num_values, err))) return rc;
    r->levels_seen += num_values;
    r->page_levels_left = num_values;
    r->data_page_ordinal++;
    r->pages_read++;
    if (num_values > 0) return 1;
  }
}

/* ---- Values ---- */

/* Appends the dictionary strings idx[0..count) to out's values and offsets. */
static int gather_dict_strings(pq_column_reader *r, const uint32_t *idx, size_t count,
                               pq_column_data *out, tarn_error *err) {
  const int32_t *doffs = (const int32_t *)(const void *)r->dict_offsets.data;
  size_t total = 0;
  for (size_t i = 0; i < count; i++)
    total += (size_t)(doffs[idx[i] + 1] - doffs[idx[i]]);
  /* At least one byte, so the data pointer exists even when every value is empty. */
  int rc;
  if ((rc = tarn_buf_reserve(&out->values, total ? total : 1, err)) ||
      (rc = tarn_buf_reserve(&out->offsets, count * 4, err)))
    return rc;
  if (out->values.len + total > INT32_MAX)
    return tarn_err(err, TARN_ENOMEM, "column %s: a batch holds more than 2 GiB of values",
                    r->path);
  uint8_t *dst = out->values.data + out->values.len;
  int32_t *offs = (int32_t *)(void *)(out->offsets.data + out->offsets.len);
  int32_t o = (int32_t)out->values.len;
  for (size_t i = 0; i < count; i++) {
    int32_t a = doffs[idx[i]], l = doffs[idx[i] + 1] - a;
    memcpy(dst, r->dict_values.data + a, (size_t)l);
    dst += l;
    o += l;
    offs[i] = o;
  }
  out->values.len += total;
  out->offsets.len += count * 4;
  return 0;
}

/* An indexed batch (pq_column_data.indexed) is about to receive plain values: its indices
 * become strings first. */
static int unindex(pq_column_reader *r, pq_column_data *out, tarn_error *err) {
  out->indexed = false;
  size_t count = out->indices.len / 4;
  int rc = count ? gather_dict_strings(r, (const uint32_t *)(const void *)out->indices.data, count,
                                       out, err)
                 : 0;
  out->indices.len = 0;
  return rc;
}

static int decode_values(pq_column_reader *r, int64_t n, pq_column_data *out, tarn_error *err) {
  if (n == 0) return 0;
  int rc;
  size_t count = (size_t)n;
  if (out->indexed && !r->page_dict_encoded && (rc = unindex(r, out, err))) return rc;
  if (!r->page_dict_encoded) {
    if (r->width == 0) {
      if ((rc = tarn_buf_reserve(&out->offsets, count * 4, err))) return rc;
      int32_t *offs = (int32_t *)(void *)(out->offsets.data + out->offsets.len);
      rc = pq_decoder_get_binary(r->value_dec, offs, &out->values, count, err);
      out->offsets.len += count * 4;
    } else {
      if ((rc = tarn_buf_reserve(&out->values, count * (size_t)r->width, err))) return rc;
      rc = pq_decoder_get_fixed(r->value_dec, out->values.data + out->values.len, count, err);
      out->values.len += count * (size_t)r->width;
    }
    if (rc) tarn_err_prefix(err, "column %s: page %d", r->path, r->page_ordinal);
    out->n_values += n;
    return rc;
  }
  /* Dictionary indices, then a gather. */
  r->indices.len = 0;
  if ((rc = tarn_buf_reserve(&r->indices, count * 4, err))) return rc;
  uint32_t *idx = (uint32_t *)(void *)r->indices.data;
  if ((rc = pq_rle_get_u32(&r->index_dec, idx, count, err))) {
    tarn_err_prefix(err, "column %s: page %d: dictionary indices", r->path, r->page_ordinal);
    return rc;
  }
  uint32_t max = 0;
  for (size_t i = 0; i < count; i++)
    max = idx[i] > max ? idx[i] : max;
  if ((int64_t)max >= r->dict_count)
    return fail(r, TARN_ECORRUPT, "dictionary index out of range", err);
  if (r->width == 0 && out->indexed) {
    if ((rc = tarn_buf_append(&out->indices, idx, count * 4, err))) return rc;
  } else if (r->width == 0) {
    if ((rc = gather_dict_strings(r, idx, count, out, err))) return rc;
  } else {
    size_t w = (size_t)r->width;
    if ((rc = tarn_buf_reserve(&out->values, count * w, err))) return rc;
    uint8_t *dst = out->values.data + out->values.len;
    const uint8_t *dict = r->dict_values.data;
    if (w == 4) {
      for (size_t i = 0; i < count; i++)
        memcpy(dst + i * 4, dict + (size_t)idx[i] * 4, 4);
    } else if (w == 8) {
      for (size_t i = 0; i < count; i++)
        memcpy(dst + i * 8, dict + (size_t)idx[i] * 8, 8);
    } else {
      for (size_t i = 0; i < count; i++)
        memcpy(dst + i * w, dict + (size_t)idx[i] * w, w);
    }
    out->values.len += count * w;
  }
  out->n_values += n;
  return 0;
}

static int64_t count_defined(const int16_t *def, int64_t n, int16_t max_def) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++)
    c += def[i] == max_def;
  return c;
}

/* ---- Records ---- */

static int read_flat(pq_column_reader *r, int64_t max_records, pq_column_data *out,
                     int64_t *records, tarn_error *err) {
  int64_t done = 0;
  int rc;
  /* One record is one value here: size the buffers once instead of growing them page by page.
   * The hint is capped so a huge batch request cannot pre-allocate beyond the data. */
  int64_t hint = max_records < (1 << 20) ? max_records : (1 << 20);
  if ((r->leaf->max_def > 0 && (rc = tarn_buf_reserve(&out->def, (size_t)hint * 2, err))) ||
      (r->width > 0 &&
       (rc = tarn_buf_reserve(&out->values, (size_t)hint * (size_t)r->width, err))) ||
      (r->width == 0 && (rc = tarn_buf_reserve(&out->offsets, (size_t)hint * 4, err))))
    return rc;
  while (done < max_records) {
    if (r->page_levels_left == 0) {
      rc = next_data_page(r, err);
      if (rc < 0) return rc;
      if (rc == 0) break;
    }
    int64_t n = r->page_levels_left < max_records - done ? r->page_levels_left : max_records - done;
    int64_t defined = n;
    if (r->leaf->max_def > 0) {
      if ((rc = tarn_buf_reserve(&out->def, (size_t)n * 2, err))) return rc;
      int16_t *d = (int16_t *)(void *)(out->def.data + out->def.len);
      if ((rc = level_get(r, &r->def_dec, d, (size_t)n, r->leaf->max_def, err))) return rc;
      out->def.len += (size_t)n * 2;
      defined = count_defined(d, n, r->leaf->max_def);
    }
    if ((rc = decode_values(r, defined, out, err))) return rc;
    out->n_levels += n;
    r->page_levels_left -= n;
    done += n;
  }
  *records = done;
  return 0;
}

static int read_repeated(pq_column_reader *r, int64_t max_records, pq_column_data *out,
                         int64_t *records, tarn_error *err) {
  int64_t done = 0;
  int rc;
  bool first = out->n_levels == 0;
  for (;;) {
    if (r->la_pos == r->la_len) {
      if (r->page_levels_left == 0) {
        rc = next_data_page(r, err);
        if (rc < 0) return rc;
        if (rc == 0) break;
      }
      int k = r->page_levels_left < LOOKAHEAD ? (int)r->page_levels_left : LOOKAHEAD;
      if ((rc = level_get(r, &r->rep_dec, r->la_rep, (size_t)k, r->leaf->max_rep, err))) return rc;
      if (r->leaf->max_def > 0) {
        if ((rc = level_get(r, &r->def_dec, r->la_def, (size_t)k, r->leaf->max_def, err)))
          return rc;
      } else {
        memset(r->la_def, 0, sizeof(int16_t) * (size_t)k);
      }
      r->page_levels_left -= k;
      r->la_pos = 0;
      r->la_len = k;
    }
    int i = r->la_pos;
    bool stop = false;
    for (; i < r->la_len; i++) {
      if (r->la_rep[i] == 0) {
        if (done == max_records) {
          stop = true;
          break;
        }
        done++;
      } else if (first && done == 0) {
        return fail(r, TARN_ECORRUPT, "column chunk starts in the middle of a record", err);
      }
    }
    first = false;
    int n = i - r->la_pos;
    if (n > 0) {
      if ((rc = tarn_buf_append(&out->rep, r->la_rep + r->la_pos, (size_t)n * 2, err)) ||
          (rc = tarn_buf_append(&out->def, r->la_def + r->la_pos, (size_t)n * 2, err)))
        return rc;
      int64_t defined = count_defined(r->la_def + r->la_pos, n, r->leaf->max_def);
      if ((rc = decode_values(r, defined, out, err))) return rc;
      out->n_levels += n;
      r->la_pos = i;
    }
    if (stop) break;
  }
  *records = done;
  return 0;
}

int pq_column_read(pq_column_reader *r, int64_t max_records, pq_column_data *out, int64_t *records,
                   tarn_error *err) {
  out->def.len = out->rep.len = out->values.len = out->offsets.len = out->indices.len = 0;
  out->n_levels = out->n_values = 0;
  out->indexed = r->want_indices;
  *records = 0;
  int rc;
  if (r->width == 0) {
    int32_t zero = 0;
    if ((rc = tarn_buf_append(&out->offsets, &zero, 4, err))) return rc;
  }
  rc = r->leaf->max_rep == 0 ? read_flat(r, max_records, out, records, err)
                             : read_repeated(r, max_records, out, records, err);
  r->rows_done += *records;
  return rc;
}

void pq_column_reader_set_offset_index(pq_column_reader *r, const pq_offset_index *oi) {
  if (oi == NULL || oi->n_pages == 0) return;
  const pq_page_location *last = &oi->pages[oi->n_pages - 1];
  if (last->offset < 0 || last->compressed_page_size < 0) return;
  uint64_t end = (uint64_t)last->offset + (uint64_t)last->compressed_page_size;
  for (uint32_t i = 0; i < oi->n_pages; i++)
    if (oi->pages[i].offset < (int64_t)r->start || (uint64_t)oi->pages[i].offset >= end ||
        (i > 0 && (oi->pages[i].offset <= oi->pages[i - 1].offset ||
                   oi->pages[i].first_row_index <= oi->pages[i - 1].first_row_index)))
      return; /* inconsistent index: not used, pages are read in turn */
  if (end > r->src.len) return;
  r->offset_index = oi;
  r->end = (size_t)end;
}

int pq_column_skip(pq_column_reader *r, int64_t n, pq_column_data *scratch, tarn_error *err) {
  int64_t target = r->rows_done + n;
  const pq_offset_index *oi = r->offset_index;
  if (oi != NULL && n > 0) {
    /* The last page starting at or before the target row. Pages listed in an offset index begin
     * at record boundaries, so jumping there loses nothing. */
    uint32_t lo = 0, hi = oi->n_pages;
    while (hi - lo > 1) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (oi->pages[mid].first_row_index <= target)
        lo = mid;
      else
        hi = mid;
    }
    const pq_page_location *pg = &oi->pages[lo];
    if (pg->first_row_index > r->rows_done && (size_t)pg->offset > r->pos) {
      int rc;
      /* The dictionary sits before the first data page: load it before jumping over it. */
      if (!r->started && (rc = next_data_page(r, err)) < 0) return rc;
      for (uint32_t i = 0; i < lo; i++)
        if ((size_t)oi->pages[i].offset >= r->pos) r->pages_skipped++;
      r->pos = (size_t)pg->offset;
      r->page_levels_left = 0;
      r->la_pos = r->la_len = 0;
      r->rows_done = pg->first_row_index;
      if (r->leaf->max_rep == 0)
        r->levels_seen = pg->first_row_index; /* one level per row */
      else
        r->levels_unknown = true;
    }
  }
  while (r->rows_done < target) {
    int64_t want = target - r->rows_done, got;
    int rc = pq_column_read(r, want < 8192 ? want : 8192, scratch, &got, err);
    if (rc) return rc;
    if (got == 0)
      return tarn_err(err, TARN_ECORRUPT, "column %s: fewer rows than its row group declares",
                      r->path);
  }
  return 0;
}

void pq_column_reader_pages(const pq_column_reader *r, int64_t *read, int64_t *skipped) {
  *read = r->pages_read;
  *skipped = r->pages_skipped;
}
