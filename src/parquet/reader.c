/* The public Parquet API: opening files (plain or encrypted), scanning them as Arrow streams,
 * and describing them (schema text, footer as JSON). */
#include "parquet/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "columnar/arrow.h"
#include "common/arena.h"
#include "common/endian.h"
#include "common/error.h"
#include "common/json.h"
#include "parquet/assemble.h"
#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/column.h"
#include "parquet/crypto.h"
#include "parquet/encoding.h"
#include "parquet/format.h"

#define FOOTER_MAX ((uint32_t)1 << 30)

struct tarn_parquet_file {
  tarn_arena arena;
  char *name;
  const uint8_t *data;
  size_t len;
  void *map; /* mmap'd region, or NULL for a caller's buffer */
  size_t map_len;
  int verify_crc;
  pq_file_meta meta;
  pq_schema schema;
  tarn_buf footer_plain; /* decrypted footer (encrypted-footer files) */
  /* Encryption. */
  int algorithm; /* PQ_AES_GCM_V1 / PQ_AES_GCM_CTR_V1, or -1 for plaintext files */
  tarn_buf file_aad;
  tarn_buf footer_key;
  tarn_buf *leaf_keys;               /* per leaf: its key (empty = none given) */
  const pq_column_meta **chunk_meta; /* [rg * n_leaves + col] */
  tarn_buf *decrypted_meta;          /* buffers backing decrypted column metadata */
  size_t n_decrypted_meta;
  _Atomic size_t unreleased; /* mapped bytes read and not yet dropped (column.h) */
};

const pq_file_meta *pq_file_metadata(const tarn_parquet_file *f) { return &f->meta; }
const pq_schema *pq_file_schema(const tarn_parquet_file *f) { return &f->schema; }
const char *pq_file_name(const tarn_parquet_file *f) { return f->name; }
int64_t tarn_parquet_num_rows(const tarn_parquet_file *f) { return f->meta.num_rows; }
int tarn_parquet_num_row_groups(const tarn_parquet_file *f) { return (int)f->meta.n_row_groups; }

const pq_column_meta *pq_file_chunk_meta(const tarn_parquet_file *f, int rg, int col) {
  return f->chunk_meta[(size_t)rg * (size_t)f->schema.n_leaves + (size_t)col];
}

void tarn_parquet_close(tarn_parquet_file *f) {
  if (f == NULL) return;
  if (f->map) munmap(f->map, f->map_len);
  tarn_buf_free(&f->footer_plain);
  tarn_buf_free(&f->file_aad);
  tarn_buf_free(&f->footer_key);
  if (f->leaf_keys)
    for (int i = 0; i < f->schema.n_leaves; i++)
      tarn_buf_free(&f->leaf_keys[i]);
  free(f->leaf_keys);
  for (size_t i = 0; i < f->n_decrypted_meta; i++)
    tarn_buf_free(&f->decrypted_meta[i]);
  free(f->decrypted_meta);
  free(f->chunk_meta);
  tarn_arena_free(&f->arena);
  free(f->name);
  free(f);
}

static bool valid_key_len(size_t n) { return n == 16 || n == 24 || n == 32; }

/* Builds the file AAD (prefix + file-unique part) for an encrypted file. */
static int setup_encryption(tarn_parquet_file *f, const pq_encryption_algorithm *alg,
                            const tarn_parquet_options *opts, tarn_error *err) {
  f->algorithm = alg->kind == 1 ? PQ_AES_GCM_V1 : PQ_AES_GCM_CTR_V1;
  int rc;
  if (alg->aad_prefix.data) {
    if ((rc = tarn_buf_append(&f->file_aad, alg->aad_prefix.data, alg->aad_prefix.len, err)))
      return rc;
  } else if (alg->supply_aad_prefix && opts && opts->aad_prefix_len) {
    /* Only a file that says it was written with an unstored prefix uses the caller's. */
    if ((rc = tarn_buf_append(&f->file_aad, opts->aad_prefix, opts->aad_prefix_len, err)))
      return rc;
  } else if (alg->supply_aad_prefix) {
    return tarn_err(err, TARN_EKEY,
                    "%s: encrypted with an AAD prefix that is not stored in the "
                    "file; supply it (--aad-prefix)",
                    f->name);
  }
  if (alg->aad_file_unique.data && (rc = tarn_buf_append(&f->file_aad, alg->aad_file_unique.data,
                                                         alg->aad_file_unique.len, err)))
    return rc;
  if (opts && opts->footer_key_len) {
    if (!valid_key_len(opts->footer_key_len))
      return tarn_err(err, TARN_EUSAGE, "footer key must be 16, 24 or 32 bytes, not %zu",
                      opts->footer_key_len);
    if ((rc = tarn_buf_append(&f->footer_key, opts->footer_key, opts->footer_key_len, err)))
      return rc;
  }
  return 0;
}

static int decode_footer(tarn_parquet_file *f, const tarn_parquet_options *opts, tarn_error *err) {
  if (f->len < 12)
    return tarn_err(err, TARN_ECORRUPT, "%s: not a Parquet file (only %zu bytes)", f->name, f->len);
  const uint8_t *tail = f->data + f->len - 8;
  bool encrypted_footer = memcmp(tail + 4, "PARE", 4) == 0;
  if (memcmp(f->data, encrypted_footer ? "PARE" : "PAR1", 4) != 0 ||
      (!encrypted_footer && memcmp(tail + 4, "PAR1", 4) != 0))
    return tarn_err(err, TARN_ECORRUPT, "%s: not a Parquet file (bad magic bytes)", f->name);
  uint32_t footer_len = load_le32(tail);
  if (footer_len > f->len - 12 || footer_len > FOOTER_MAX)
    return tarn_err(err, TARN_ECORRUPT, "%s: footer length %u exceeds the file size", f->name,
                    footer_len);
  const uint8_t *footer = f->data + f->len - 8 - footer_len;
  int rc;
  f->algorithm = -1;
  if (encrypted_footer) {
    pq_file_crypto_meta cm;
    size_t used;
    if ((rc = pq_decode_file_crypto_meta(footer, footer_len, &cm, &used, err))) {
      tarn_err_prefix(err, "%s", f->name);
      return rc;
    }
    if ((rc = setup_encryption(f, &cm.encryption, opts, err))) return rc;
    if (f->footer_key.len == 0)
      return tarn_err(err, TARN_EKEY,
                      "%s: encrypted, key required (the footer is encrypted; "
                      "give --footer-key)",
                      f->name);
    tarn_buf aad = {0};
    if ((rc = pq_crypto_module_aad(f->file_aad.data, f->file_aad.len, PQ_MODULE_FOOTER, 0, 0, 0,
                                   &aad, err)))
      return rc;
    uint8_t *plain = NULL;
    size_t plain_len = 0, consumed = 0;
    rc = pq_crypto_decrypt_module(f->algorithm, 1, f->footer_key.data, f->footer_key.len, aad.data,
                                  aad.len, footer + used, footer_len - used, &consumed, &plain,
                                  &plain_len, err);
    tarn_buf_free(&aad);
    if (rc) {
      tarn_err_prefix(err, "%s: footer", f->name);
      return rc;
    }
    f->footer_plain.data = plain;
    f->footer_plain.len = f->footer_plain.cap = plain_len;
    rc = pq_decode_file_meta(plain, plain_len, &f->arena, &f->meta, err);
  } else {
    rc = pq_decode_file_meta(footer, footer_len, &f->arena, &f->meta, err);
    if (rc == 0 && f->meta.encryption.kind != 0) {
      /* Plaintext footer with encrypted columns: the footer is signed (28 bytes after it). */
      if ((rc = setup_encryption(f, &f->meta.encryption, opts, err))) return rc;
      if (f->footer_key.len && footer_len >= 28) {
        tarn_buf aad = {0};
        if ((rc = pq_crypto_module_aad(f->file_aad.data, f->file_aad.len, PQ_MODULE_FOOTER, 0, 0, 0,
                                       &aad, err)))
          return rc;
        rc = pq_crypto_verify_footer_signature(
            f->footer_key.data, f->footer_key.len, aad.data, aad.len, footer, footer_len - 28,
            footer + footer_len - 28, footer + footer_len - 16, err);
        tarn_buf_free(&aad);
        if (rc) {
          tarn_err_prefix(err, "%s: footer signature", f->name);
          return rc;
        }
      }
    }
  }
  if (rc) tarn_err_prefix(err, "%s", f->name);
  return rc;
}

/* A key given for a column path applies to that leaf, or to every leaf below a group path (so
 * "tags" covers "tags.list.element"). */
static bool path_matches(const char *dotted, const char *want) {
  size_t n = strlen(want);
  return strncmp(dotted, want, n) == 0 && (dotted[n] == '\0' || dotted[n] == '.');
}

/* Resolves each column chunk's metadata, decrypting it where needed. */
static int resolve_chunks(tarn_parquet_file *f, const tarn_parquet_options *opts, tarn_error *err) {
  int nl = f->schema.n_leaves;
  size_t n = (size_t)f->meta.n_row_groups * (size_t)nl;
  f->chunk_meta = calloc(n ? n : 1, sizeof *f->chunk_meta);
  f->leaf_keys = calloc((size_t)(nl ? nl : 1), sizeof(tarn_buf));
  if (f->chunk_meta == NULL || f->leaf_keys == NULL)
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  int rc;
  if (f->algorithm >= 0 && opts) {
    for (size_t k = 0; k < opts->n_column_keys; k++) {
      bool found = false;
      if (!valid_key_len(opts->column_key_lens[k]))
        return tarn_err(err, TARN_EUSAGE, "key for column %s must be 16, 24 or 32 bytes",
                        opts->column_key_paths[k]);
      for (int i = 0; i < nl; i++) {
        if (!path_matches(f->schema.leaves[i]->path, opts->column_key_paths[k])) continue;
        f->leaf_keys[i].len = 0;
        if ((rc = tarn_buf_append(&f->leaf_keys[i], opts->column_keys[k], opts->column_key_lens[k],
                                  err)))
          return rc;
        found = true;
      }
      if (!found)
        return tarn_err(err, TARN_EUSAGE, "%s: no column %s to use the key for", f->name,
                        opts->column_key_paths[k]);
    }
  }
  for (uint32_t g = 0; g < f->meta.n_row_groups; g++) {
    pq_row_group *rg = &f->meta.row_groups[g];
    if ((int)rg->n_columns != nl)
      return tarn_err(err, TARN_ECORRUPT, "%s: row group %u has %u columns, the schema %d", f->name,
                      g, rg->n_columns, nl);
    for (int c = 0; c < nl; c++) {
      pq_column_chunk *cc = &rg->columns[c];
      const pq_column_meta *m = cc->has_meta ? &cc->meta : NULL;
      if (cc->crypto.kind == 2 && cc->encrypted_column_metadata.data) {
        m = NULL;
        const tarn_buf *key = &f->leaf_keys[c];
        if (key->len) {
          tarn_buf aad = {0};
          if ((rc = pq_crypto_module_aad(f->file_aad.data, f->file_aad.len,
                                         PQ_MODULE_COLUMN_META_DATA, (int)g, c, 0, &aad, err)))
            return rc;
          uint8_t *plain = NULL;
          size_t plain_len = 0, used = 0;
          rc = pq_crypto_decrypt_module(f->algorithm, 1, key->data, key->len, aad.data, aad.len,
                                        cc->encrypted_column_metadata.data,
                                        cc->encrypted_column_metadata.len, &used, &plain,
                                        &plain_len, err);
          tarn_buf_free(&aad);
          if (rc) {
            tarn_err_prefix(err, "%s: column %s", f->name, f->schema.leaves[c]->path);
            return rc;
          }
          tarn_buf *nb = realloc(f->decrypted_meta, (f->n_decrypted_meta + 1) * sizeof(tarn_buf));
          if (nb == NULL) {
            free(plain);
            return tarn_err(err, TARN_ENOMEM, "out of memory");
          }
          f->decrypted_meta = nb;
          f->decrypted_meta[f->n_decrypted_meta++] = (tarn_buf){plain, plain_len, plain_len};
          pq_column_meta *dm = tarn_arena_calloc(&f->arena, 1, sizeof *dm);
          if (dm == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
          if ((rc = pq_decode_column_meta(plain, plain_len, &f->arena, dm, err))) {
            tarn_err_prefix(err, "%s", f->name);
            return rc;
          }
          m = dm;
        }
      } else if (m == NULL) {
        return tarn_err(err, TARN_ECORRUPT, "%s: row group %u column %s has no metadata", f->name,
                        g, f->schema.leaves[c]->path);
      }
      f->chunk_meta[(size_t)g * (size_t)nl + (size_t)c] = m;
    }
  }
  return 0;
}

static int open_common(tarn_parquet_file *f, const tarn_parquet_options *opts, tarn_error *err) {
  f->verify_crc = !(opts && opts->skip_crc_check);
  int rc = decode_footer(f, opts, err);
  if (rc == 0 && (rc = pq_schema_build(&f->meta, &f->arena, &f->schema, err)))
    tarn_err_prefix(err, "%s", f->name);
  if (rc == 0) rc = resolve_chunks(f, opts, err);
  return rc;
}

int tarn_parquet_open_memory(const uint8_t *data, size_t len, const char *name,
                             const tarn_parquet_options *opts, tarn_parquet_file **out,
                             tarn_error *err) {
  *out = NULL;
  tarn_parquet_file *f = calloc(1, sizeof *f);
  if (f == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  f->name = strdup(name ? name : "(memory)");
  f->data = data;
  f->len = len;
  int rc = f->name ? open_common(f, opts, err) : tarn_err(err, TARN_ENOMEM, "out of memory");
  if (rc) {
    tarn_parquet_close(f);
    return rc;
  }
  *out = f;
  return 0;
}

int tarn_parquet_open(const char *path, const tarn_parquet_options *opts, tarn_parquet_file **out,
                      tarn_error *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tarn_err(err, TARN_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return tarn_err(err, TARN_EIO, "%s: %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return tarn_err(err, TARN_EINVAL, "%s: is a directory, not a Parquet file", path);
  }
  size_t len = (size_t)st.st_size;
  void *map = NULL;
  if (len > 0) {
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      close(fd);
      return tarn_err(err, TARN_EIO, "%s: cannot map the file: %s", path, strerror(e));
    }
  }
  close(fd);
  tarn_parquet_file *f = calloc(1, sizeof *f);
  if (f == NULL) {
    if (map) munmap(map, len);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  f->map = map;
  f->map_len = len;
  f->data = map;
  f->len = len;
  f->name = strdup(path);
  int rc = f->name ? open_common(f, opts, err) : tarn_err(err, TARN_ENOMEM, "out of memory");
  if (rc) {
    tarn_parquet_close(f);
    return rc;
  }
  *out = f;
  return 0;
}

int tarn_parquet_arrow_schema(const tarn_parquet_file *f, struct ArrowSchema *out,
                              tarn_error *err) {
  return pq_schema_export(f->schema.root, out, err);
}

/* ---- Page index and bloom filters ---- */

static int read_index(const tarn_parquet_file *f, int rg, int col, bool column_index,
                      tarn_arena *arena, void *out, int *present, tarn_error *err) {
  *present = 0;
  if (rg < 0 || (uint32_t)rg >= f->meta.n_row_groups || col < 0 || col >= f->schema.n_leaves)
    return tarn_err(err, TARN_EINVAL, "no row group %d column %d", rg, col);
  const pq_column_chunk *cc = &f->meta.row_groups[rg].columns[col];
  bool has = column_index ? cc->has_column_index : cc->has_offset_index;
  if (!has || cc->crypto.kind != 0) return 0;
  int64_t off = column_index ? cc->column_index_offset : cc->offset_index_offset;
  int32_t len = column_index ? cc->column_index_length : cc->offset_index_length;
  if (off < 0 || len < 0 || (uint64_t)off + (uint64_t)len > f->len)
    return tarn_err(err, TARN_ECORRUPT, "%s: page index of column %s lies outside the file",
                    f->name, f->schema.leaves[col]->path);
  int rc = column_index ? pq_decode_column_index(f->data + off, (size_t)len, arena, out, err)
                        : pq_decode_offset_index(f->data + off, (size_t)len, arena, out, err);
  if (rc) {
    tarn_err_prefix(err, "%s: column %s", f->name, f->schema.leaves[col]->path);
    return rc;
  }
  *present = 1;
  return 0;
}

int pq_file_column_index(const tarn_parquet_file *f, int rg, int col, tarn_arena *arena,
                         pq_column_index *out, int *present, tarn_error *err) {
  return read_index(f, rg, col, true, arena, out, present, err);
}

int pq_file_offset_index(const tarn_parquet_file *f, int rg, int col, tarn_arena *arena,
                         pq_offset_index *out, int *present, tarn_error *err) {
  return read_index(f, rg, col, false, arena, out, present, err);
}

int pq_file_bloom_check(const tarn_parquet_file *f, int rg, int col, const void *value, size_t len,
                        int *result, tarn_error *err) {
  *result = 1;
  const pq_column_meta *m = pq_file_chunk_meta(f, rg, col);
  if (m == NULL || !m->has_bloom_filter_offset || f->meta.row_groups[rg].columns[col].crypto.kind)
    return 0;
  int64_t off = m->bloom_filter_offset;
  if (off < 0 || (uint64_t)off >= f->len)
    return tarn_err(err, TARN_ECORRUPT, "%s: bloom filter of column %s lies outside the file",
                    f->name, f->schema.leaves[col]->path);
  size_t avail = f->len - (size_t)off;
  if (m->has_bloom_filter_length && m->bloom_filter_length > 0 &&
      (size_t)m->bloom_filter_length < avail)
    avail = (size_t)m->bloom_filter_length;
  pq_bloom_header h;
  size_t hlen;
  int rc = pq_decode_bloom_header(f->data + off, avail, &h, &hlen, err);
  if (rc) {
    tarn_err_prefix(err, "%s: column %s", f->name, f->schema.leaves[col]->path);
    return rc;
  }
  if ((size_t)h.num_bytes > avail - hlen)
    return tarn_err(err, TARN_ECORRUPT, "%s: bloom filter of column %s runs past its end", f->name,
                    f->schema.leaves[col]->path);
  if (h.algorithm != 1 || h.hash != 1 || h.compression != 1) return 0; /* unknown: no pruning */
  *result = pq_bloom_check(f->data + off + hlen, (size_t)h.num_bytes, pq_bloom_hash(value, len));
  return 0;
}

/* ---- Scanning ---- */

typedef struct scan {
  tarn_parquet_file *file;
  int n_columns;
  const pq_node **columns;
  bool *leaf_needed;
  int *row_groups;
  int n_row_groups, rg_pos;
  pq_column_reader **readers;
  pq_column_data *data;
  pq_column_data scratch;  /* decoded-and-dropped rows when skipping */
  int64_t *rg_first_row;   /* file-wide number of each row group's first row */
  int64_t cur_row, rg_end; /* next row of the open row group, and its end (file-wide numbers) */
  int64_t batch_rows, limit_left;
  tarn_row_range *ranges; /* row selection, or NULL for all rows */
  size_t n_ranges, range_pos;
  tarn_arena index_arena;            /* offset indexes of the open row group */
  int64_t pages_read, pages_skipped; /* of row groups already closed */
  int last_code;
  char last_error[512];
} scan;

static int scan_error(scan *s, const tarn_error *e) {
  s->last_code = e->code ? e->code : TARN_ECORRUPT;
  snprintf(s->last_error, sizeof s->last_error, "%s", e->message);
  return s->last_code == TARN_EIO ? EIO : s->last_code == TARN_ENOMEM ? ENOMEM : EINVAL;
}

static void free_readers(scan *s) {
  for (int i = 0; i < s->file->schema.n_leaves; i++) {
    if (s->readers[i]) {
      int64_t read, skipped;
      pq_column_reader_pages(s->readers[i], &read, &skipped);
      s->pages_read += read;
      s->pages_skipped += skipped;
    }
    pq_column_reader_free(s->readers[i]);
    s->readers[i] = NULL;
  }
}

static int scan_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
  scan *s = st->private_data;
  tarn_error e = {0};
  int rc = col_schema_init(out, "+s", "", 0, s->n_columns, NULL, 0, &e);
  for (int i = 0; rc == 0 && i < s->n_columns; i++) {
    out->children[i]->release = NULL;
    rc = pq_schema_export(s->columns[i], out->children[i], &e);
  }
  if (rc) {
    if (out->release) out->release(out);
    return scan_error(s, &e);
  }
  return 0;
}

int pq_file_column_reader(const tarn_parquet_file *f, int rg, int c, pq_column_reader **out,
                          tarn_error *err) {
  *out = NULL;
  if (rg < 0 || (uint32_t)rg >= f->meta.n_row_groups || c < 0 || c >= f->schema.n_leaves)
    return tarn_err(err, TARN_EINVAL, "%s: no column chunk %d in row group %d", f->name, c, rg);
  const pq_column_meta *m = pq_file_chunk_meta(f, rg, c);
  const pq_column_chunk *cc = &f->meta.row_groups[rg].columns[c];
  if (m == NULL || (cc->crypto.kind == 2 && f->leaf_keys[c].len == 0) ||
      (cc->crypto.kind == 1 && f->footer_key.len == 0))
    return tarn_err(err, TARN_EKEY,
                    "%s: column %s is encrypted, key required (--column-key %s:KEY)", f->name,
                    f->schema.leaves[c]->path, f->schema.leaves[c]->path);
  if (cc->file_path)
    return tarn_err(err, TARN_EUNSUPPORTED, "%s: column %s is stored in another file (%s)", f->name,
                    f->schema.leaves[c]->path, cc->file_path);
  pq_chunk_source src = {.data = f->data,
                         .len = f->len,
                         .file_name = f->name,
                         .verify_crc = f->verify_crc,
                         .is_file_mapping = f->map != NULL,
                         .unreleased = (_Atomic size_t *)&f->unreleased,
                         .row_group_ordinal = rg,
                         .column_ordinal = c};
  if (cc->crypto.kind != 0) {
    /* Columns encrypted "with the footer key" use it even when a column key was given. */
    const tarn_buf *key = cc->crypto.kind == 1 ? &f->footer_key : &f->leaf_keys[c];
    src.key = key->data;
    src.key_len = key->len;
    src.algorithm = f->algorithm;
    src.file_aad = f->file_aad.data;
    src.file_aad_len = f->file_aad.len;
  }
  int rc = pq_column_reader_create(&src, cc, m, f->schema.leaves[c], out, err);
  if (rc) tarn_err_prefix(err, "%s", f->name);
  return rc;
}

static int open_row_group(scan *s, int rg, tarn_error *err) {
  tarn_parquet_file *f = s->file;
  free_readers(s);
  tarn_arena_free(&s->index_arena);
  for (int c = 0; c < f->schema.n_leaves; c++) {
    if (!s->leaf_needed[c]) continue;
    int rc = pq_file_column_reader(f, rg, c, &s->readers[c], err);
    if (rc) return rc;
    if (s->ranges) {
      /* With a row selection, the offset index lets the reader jump over unselected pages. */
      pq_offset_index *oi = tarn_arena_calloc(&s->index_arena, 1, sizeof *oi);
      int present = 0;
      if (oi == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
      if ((rc = pq_file_offset_index(f, rg, c, &s->index_arena, oi, &present, err))) return rc;
      if (present) pq_column_reader_set_offset_index(s->readers[c], oi);
    }
  }
  s->cur_row = s->rg_first_row[rg];
  s->rg_end = s->cur_row + f->meta.row_groups[rg].num_rows;
  return 0;
}

static int64_t range_end(const tarn_row_range *r) { return r->first + r->count; }

/* Whether any selected row lies in [first, end); advances past ranges that end before first. */
static bool selected_in(scan *s, int64_t first, int64_t end) {
  if (s->ranges == NULL) return first < end;
  while (s->range_pos < s->n_ranges && range_end(&s->ranges[s->range_pos]) <= first)
    s->range_pos++;
  return s->range_pos < s->n_ranges && s->ranges[s->range_pos].first < end && first < end;
}

static int scan_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
  scan *s = st->private_data;
  tarn_parquet_file *f = s->file;
  tarn_error e = {0};
  int rc;
  memset(out, 0, sizeof *out);
  if (s->last_code) return scan_error(s, &(tarn_error){s->last_code, ""});
  /* Find the next selected row, opening row groups and skipping rows as needed. */
  for (;;) {
    if (s->limit_left == 0) break;
    if (selected_in(s, s->cur_row, s->rg_end)) {
      int64_t want = s->ranges ? s->ranges[s->range_pos].first : s->cur_row;
      if (want > s->cur_row) {
        for (int c = 0; c < f->schema.n_leaves; c++) {
          if (!s->leaf_needed[c]) continue;
          if ((rc = pq_column_skip(s->readers[c], want - s->cur_row, &s->scratch, &e))) {
            tarn_err_prefix(&e, "%s", f->name);
            return scan_error(s, &e);
          }
        }
        s->cur_row = want;
      }
      break;
    }
    if (s->rg_pos >= s->n_row_groups) break;
    int rg = s->row_groups[s->rg_pos++];
    int64_t first = s->rg_first_row[rg], end = first + f->meta.row_groups[rg].num_rows;
    /* A row group without selected rows is never opened. */
    if (!selected_in(s, first, end)) continue;
    if ((rc = open_row_group(s, rg, &e))) return scan_error(s, &e);
  }
  if (s->limit_left == 0 || !selected_in(s, s->cur_row, s->rg_end)) {
    free_readers(s);
    out->release = NULL; /* end of stream */
    return 0;
  }
  int64_t stop = s->rg_end;
  if (s->ranges && range_end(&s->ranges[s->range_pos]) < stop)
    stop = range_end(&s->ranges[s->range_pos]);
  int64_t n = stop - s->cur_row < s->batch_rows ? stop - s->cur_row : s->batch_rows;
  if (s->limit_left >= 0 && n > s->limit_left) n = s->limit_left;
  for (int c = 0; c < f->schema.n_leaves; c++) {
    if (!s->leaf_needed[c]) continue;
    int64_t got;
    if ((rc = pq_column_read(s->readers[c], n, &s->data[c], &got, &e))) {
      tarn_err_prefix(&e, "%s", f->name);
      return scan_error(s, &e);
    }
    if (got != n) {
      tarn_err(&e, TARN_ECORRUPT, "%s: column %s holds fewer rows than its row group declares",
               f->name, f->schema.leaves[c]->path);
      return scan_error(s, &e);
    }
  }
  if ((rc = col_array_init(out, 1, s->n_columns, &e))) return scan_error(s, &e);
  out->length = n;
  for (int i = 0; i < s->n_columns; i++) {
    if ((rc = pq_assemble(s->columns[i], s->data, n, out->children[i], &e))) {
      tarn_err_prefix(&e, "%s", f->name);
      out->release(out);
      return scan_error(s, &e);
    }
  }
  s->cur_row += n;
  if (s->limit_left > 0) s->limit_left -= n;
  return 0;
}

static const char *scan_last_error(struct ArrowArrayStream *st) {
  scan *s = st->private_data;
  return s->last_code ? s->last_error : NULL;
}

static void scan_release(struct ArrowArrayStream *st) {
  if (st == NULL || st->release == NULL) return;
  scan *s = st->private_data;
  if (s) {
    if (s->readers) free_readers(s);
    if (s->data)
      for (int i = 0; i < s->file->schema.n_leaves; i++)
        pq_column_data_free(&s->data[i]);
    free(s->data);
    pq_column_data_free(&s->scratch);
    tarn_arena_free(&s->index_arena);
    free(s->ranges);
    free(s->rg_first_row);
    free(s->readers);
    free(s->columns);
    free(s->leaf_needed);
    free(s->row_groups);
    free(s);
  }
  st->release = NULL;
}

int tarn_parquet_stream_error(struct ArrowArrayStream *st) {
  if (st == NULL || st->release != scan_release) return 0;
  return ((scan *)st->private_data)->last_code;
}

int tarn_parquet_stream_pages(struct ArrowArrayStream *st, int64_t *pages_read,
                              int64_t *pages_skipped) {
  *pages_read = *pages_skipped = 0;
  if (st == NULL || st->release != scan_release) return TARN_EINVAL;
  scan *s = st->private_data;
  *pages_read = s->pages_read;
  *pages_skipped = s->pages_skipped;
  for (int i = 0; i < s->file->schema.n_leaves; i++) {
    if (s->readers[i] == NULL) continue;
    int64_t read, skipped;
    pq_column_reader_pages(s->readers[i], &read, &skipped);
    *pages_read += read;
    *pages_skipped += skipped;
  }
  return 0;
}

int tarn_parquet_scan(tarn_parquet_file *f, const tarn_scan_options *opts,
                      struct ArrowArrayStream *out, tarn_error *err) {
  memset(out, 0, sizeof *out);
  const pq_node *root = f->schema.root;
  scan *s = calloc(1, sizeof *s);
  if (s == NULL) return tarn_err(err, TARN_ENOMEM, "out of memory");
  s->file = f;
  int nl = f->schema.n_leaves;
  size_t ncols = opts && opts->columns ? opts->n_columns : (size_t)root->n_children;
  size_t nrg = opts && opts->row_groups ? opts->n_row_groups : f->meta.n_row_groups;
  s->columns = calloc(ncols ? ncols : 1, sizeof *s->columns);
  s->leaf_needed = calloc((size_t)(nl ? nl : 1), sizeof(bool));
  s->row_groups = calloc(nrg ? nrg : 1, sizeof(int));
  s->readers = calloc((size_t)(nl ? nl : 1), sizeof *s->readers);
  s->data = calloc((size_t)(nl ? nl : 1), sizeof *s->data);
  out->private_data = s;
  out->release = scan_release;
  if (!s->columns || !s->leaf_needed || !s->row_groups || !s->readers || !s->data) {
    scan_release(out);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  s->n_columns = (int)ncols;
  for (size_t i = 0; i < ncols; i++) {
    const pq_node *node = NULL;
    if (opts && opts->columns) {
      for (int k = 0; k < root->n_children && !node; k++)
        if (strcmp(root->children[k]->name, opts->columns[i]) == 0) node = root->children[k];
      if (node == NULL) {
        scan_release(out);
        return tarn_err(err, TARN_EINVAL, "%s: no column named '%s'", f->name, opts->columns[i]);
      }
    } else {
      node = root->children[i];
    }
    s->columns[i] = node;
    for (int l = 0; l < node->n_leaves; l++)
      s->leaf_needed[node->first_leaf + l] = true;
  }
  for (size_t i = 0; i < nrg; i++) {
    int rg = opts && opts->row_groups ? opts->row_groups[i] : (int)i;
    if (rg < 0 || (uint32_t)rg >= f->meta.n_row_groups) {
      scan_release(out);
      return tarn_err(err, TARN_EINVAL, "%s: no row group %d", f->name, rg);
    }
    s->row_groups[i] = rg;
  }
  s->n_row_groups = (int)nrg;
  s->rg_first_row = calloc(f->meta.n_row_groups + 1, sizeof(int64_t));
  if (s->rg_first_row == NULL) {
    scan_release(out);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  for (uint32_t g = 0; g < f->meta.n_row_groups; g++)
    s->rg_first_row[g + 1] = s->rg_first_row[g] + f->meta.row_groups[g].num_rows;
  if (opts && opts->row_ranges) {
    s->ranges = malloc((opts->n_row_ranges ? opts->n_row_ranges : 1) * sizeof *s->ranges);
    if (s->ranges == NULL) {
      scan_release(out);
      return tarn_err(err, TARN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < opts->n_row_ranges; i++) {
      const tarn_row_range *r = &opts->row_ranges[i];
      if (r->first < 0 || r->count <= 0 || r->first > INT64_MAX - r->count ||
          (i > 0 && r->first < range_end(&opts->row_ranges[i - 1]))) {
        scan_release(out);
        return tarn_err(err, TARN_EINVAL, "row ranges must be non-empty, ascending and disjoint");
      }
      s->ranges[i] = *r;
    }
    s->n_ranges = opts->n_row_ranges;
  }
  s->batch_rows = opts && opts->batch_rows > 0 ? opts->batch_rows : 8192;
  s->limit_left = opts && opts->limit > 0 ? opts->limit : -1;
  out->get_schema = scan_get_schema;
  out->get_next = scan_get_next;
  out->get_last_error = scan_last_error;
  return 0;
}

/* ---- Public planning API (thin views of the internal one) ---- */

int tarn_parquet_num_columns(const tarn_parquet_file *f) { return f->schema.n_leaves; }

const char *tarn_parquet_column_path(const tarn_parquet_file *f, int col) {
  return col >= 0 && col < f->schema.n_leaves ? f->schema.leaves[col]->path : NULL;
}

static int check_chunk(const tarn_parquet_file *f, int rg, int col, tarn_error *err) {
  if (rg < 0 || (uint32_t)rg >= f->meta.n_row_groups || col < 0 || col >= f->schema.n_leaves)
    return tarn_err(err, TARN_EINVAL, "%s: no row group %d column %d", f->name, rg, col);
  return 0;
}

int tarn_parquet_column_stats(const tarn_parquet_file *f, int rg, int col, tarn_column_stats *out,
                              tarn_error *err) {
  memset(out, 0, sizeof *out);
  int rc = check_chunk(f, rg, col, err);
  if (rc) return rc;
  const pq_column_meta *m = pq_file_chunk_meta(f, rg, col);
  if (m == NULL)
    return tarn_err(err, TARN_EKEY, "%s: column %s is encrypted, key required", f->name,
                    f->schema.leaves[col]->path);
  const pq_statistics *st = &m->statistics;
  out->num_values = m->num_values;
  out->compressed_size = m->total_compressed_size;
  out->has_null_count = st->has_null_count;
  out->null_count = st->null_count;
  pq_bytes min = st->min_value.data ? st->min_value : st->min;
  pq_bytes max = st->max_value.data ? st->max_value : st->max;
  out->exact_order = st->min_value.data != NULL && st->max_value.data != NULL;
  if (min.data && max.data) {
    out->has_min_max = 1;
    out->min = min.data;
    out->min_len = min.len;
    out->max = max.data;
    out->max_len = max.len;
  }
  return 0;
}

int tarn_parquet_page_index(const tarn_parquet_file *f, int rg, int col, tarn_page_info **pages,
                            size_t *n_pages, tarn_error *err) {
  *pages = NULL;
  *n_pages = 0;
  int rc = check_chunk(f, rg, col, err);
  if (rc) return rc;
  tarn_arena arena = {0};
  pq_offset_index oi;
  pq_column_index ci;
  int has_oi = 0, has_ci = 0;
  if ((rc = pq_file_offset_index(f, rg, col, &arena, &oi, &has_oi, err)) ||
      (rc = pq_file_column_index(f, rg, col, &arena, &ci, &has_ci, err)) || !has_oi) {
    tarn_arena_free(&arena);
    return rc;
  }
  if (has_ci && ci.n_pages != oi.n_pages) has_ci = 0; /* inconsistent: bounds are not trusted */
  tarn_page_info *p = calloc(oi.n_pages ? oi.n_pages : 1, sizeof *p);
  if (p == NULL) {
    tarn_arena_free(&arena);
    return tarn_err(err, TARN_ENOMEM, "out of memory");
  }
  int64_t rg_rows = f->meta.row_groups[rg].num_rows;
  for (uint32_t i = 0; i < oi.n_pages; i++) {
    int64_t next = i + 1 < oi.n_pages ? oi.pages[i + 1].first_row_index : rg_rows;
    p[i].first_row = oi.pages[i].first_row_index;
    p[i].num_rows = next - p[i].first_row;
    p[i].offset = oi.pages[i].offset;
    p[i].size = oi.pages[i].compressed_page_size;
    if (p[i].num_rows < 0 || p[i].first_row < 0 || p[i].first_row > rg_rows) {
      free(p);
      tarn_arena_free(&arena);
      return tarn_err(err, TARN_ECORRUPT, "%s: column %s: offset index rows out of order", f->name,
                      f->schema.leaves[col]->path);
    }
    if (has_ci) {
      /* Bounds point into the file when the index was stored in plaintext (always, here). */
      p[i].has_bounds = 1;
      p[i].null_page = ci.null_pages[i];
      p[i].min = ci.min_values[i].data;
      p[i].min_len = ci.min_values[i].len;
      p[i].max = ci.max_values[i].data;
      p[i].max_len = ci.max_values[i].len;
      p[i].has_null_count = ci.has_null_counts;
      p[i].null_count = ci.has_null_counts ? ci.null_counts[i] : 0;
    }
  }
  tarn_arena_free(&arena);
  *pages = p;
  *n_pages = oi.n_pages;
  return 0;
}

int tarn_parquet_bloom_check(const tarn_parquet_file *f, int rg, int col, const void *value,
                             size_t len, int *maybe_present, tarn_error *err) {
  *maybe_present = 1;
  int rc = check_chunk(f, rg, col, err);
  if (rc) return rc;
  return pq_file_bloom_check(f, rg, col, value, len, maybe_present, err);
}
