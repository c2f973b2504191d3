/*
 * Tests for the modular-encryption primitives. The independent side: modules are encrypted here
 * with OpenSSL directly (GCM through EVP; CTR built from raw AES-ECB blocks and XOR, so the
 * counter layout is checked against the specification rather than against the same EVP call),
 * the published GCM test vectors (McGrew & Viega, test cases 1 and 2), AAD bytes written out by
 * hand, and two files that parquet-mr encrypted (parquet-testing: an encrypted footer and a
 * signed plaintext footer, keys from its data/README.md).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "parquet/crypto.h"
#include "shared_data.h"

/* ---- the independent encryptor ---- */

static const EVP_CIPHER *gcm_cipher(size_t key_len) {
  return key_len == 16 ? EVP_aes_128_gcm() : key_len == 24 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
}

/* Writes a GCM module (length, nonce, ciphertext, tag) to out; returns its size. */
static size_t make_gcm_module(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
                              const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t n,
                              uint8_t *out) {
  size_t len = 12 + n + 16;
  out[0] = (uint8_t)len;
  out[1] = (uint8_t)(len >> 8);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 24);
  memcpy(out + 4, nonce, 12);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int l = 0;
  EVP_EncryptInit_ex(ctx, gcm_cipher(key_len), NULL, NULL, NULL);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
  EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce);
  if (aad_len) EVP_EncryptUpdate(ctx, NULL, &l, aad, (int)aad_len);
  if (n) EVP_EncryptUpdate(ctx, out + 16, &l, pt, (int)n);
  EVP_EncryptFinal_ex(ctx, out + 16 + n, &l);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 16 + n);
  EVP_CIPHER_CTX_free(ctx);
  return 4 + len;
}

/* Writes a CTR module (length, nonce, ciphertext). Keystream block i is
 * AES(key, nonce || uint32 big-endian (first_counter + i)), computed with single-block ECB. */
static size_t make_ctr_module(const uint8_t *key, size_t key_len, const uint8_t nonce[12],
                              uint32_t first_counter, const uint8_t *pt, size_t n, uint8_t *out) {
  size_t len = 12 + n;
  out[0] = (uint8_t)len;
  out[1] = (uint8_t)(len >> 8);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 24);
  memcpy(out + 4, nonce, 12);
  const EVP_CIPHER *ecb = key_len == 16   ? EVP_aes_128_ecb()
                          : key_len == 24 ? EVP_aes_192_ecb()
                                          : EVP_aes_256_ecb();
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, ecb, NULL, key, NULL);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  for (size_t off = 0; off < n; off += 16) {
    uint8_t block[16], ks[16];
    uint32_t ctr = first_counter + (uint32_t)(off / 16);
    memcpy(block, nonce, 12);
    block[12] = (uint8_t)(ctr >> 24);
    block[13] = (uint8_t)(ctr >> 16);
    block[14] = (uint8_t)(ctr >> 8);
    block[15] = (uint8_t)ctr;
    int l = 0;
    EVP_EncryptUpdate(ctx, ks, &l, block, 16);
    for (size_t i = 0; i < 16 && off + i < n; i++)
      out[16 + off + i] = pt[off + i] ^ ks[i];
  }
  EVP_CIPHER_CTX_free(ctx);
  return 4 + len;
}

static void fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

static const uint8_t nonce_a[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* ---- tests ---- */

static void test_gcm_vectors(void) {
  /* GCM test case 2: key 0^128, nonce 0^96, plaintext 0^128, no AAD. */
  static const uint8_t ct2[16] = {0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
                                  0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78};
  static const uint8_t tag2[16] = {0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
                                   0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf};
  /* Test case 1: the same with an empty plaintext. */
  static const uint8_t tag1[16] = {0x58, 0xe2, 0xfc, 0xce, 0xfa, 0x7e, 0x30, 0x61,
                                   0x36, 0x7f, 0x1d, 0x57, 0xa4, 0xe7, 0x45, 0x5a};
  uint8_t key[16] = {0}, nonce[12] = {0}, zeros[16] = {0};
  uint8_t module[4 + 12 + 16 + 16] = {12 + 16 + 16, 0, 0, 0};
  memcpy(module + 16, ct2, 16);
  memcpy(module + 32, tag2, 16);
  size_t consumed = 0, plain_len = 99;
  uint8_t *plain = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, NULL, 0, module, sizeof module,
                                        &consumed, &plain, &plain_len, &err),
               0);
  CHECK_EQ_INT(consumed, sizeof module);
  CHECK_EQ_INT(plain_len, 16);
  CHECK(plain != NULL && memcmp(plain, zeros, 16) == 0);
  free(plain);

  uint8_t empty_module[4 + 12 + 16] = {12 + 16, 0, 0, 0};
  memcpy(empty_module + 16, tag1, 16);
  plain = NULL;
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, NULL, 0, empty_module,
                                        sizeof empty_module, &consumed, &plain, &plain_len, &err),
               0);
  CHECK_EQ_INT(plain_len, 0);
  CHECK(plain != NULL);
  free(plain);

  /* The same vector as a footer signature: "footer" = 16 zero bytes. */
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, 16, NULL, 0, zeros, 16, nonce, tag2, &err),
               0);
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, 16, NULL, 0, zeros, 0, nonce, tag1, &err), 0);
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, 16, NULL, 0, zeros, 16, nonce, tag1, NULL),
               TARN_EKEY);
}

static void test_gcm_round_trip(void) {
  static const size_t key_lens[] = {16, 24, 32};
  static const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 100003};
  for (size_t k = 0; k < 3; k++) {
    uint8_t key[32];
    fill(key, sizeof key, (uint32_t)(7 + k));
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      size_t n = sizes[s];
      uint8_t *pt = malloc(n + 1), *module = malloc(n + 64);
      fill(pt, n, (uint32_t)n);
      const uint8_t aad[] = "file-unique\x02\x01\x00\x03\x00\x07\x00";
      size_t mlen = make_gcm_module(key, key_lens[k], nonce_a, aad, sizeof aad - 1, pt, n, module);
      /* Trailing bytes after the module (the next module of the file) must not matter. */
      memset(module + mlen, 0xee, 8);
      size_t consumed = 0, plain_len = 0;
      uint8_t *plain = NULL;
      tarn_error err = {0};
      int rc = pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, key_lens[k], aad, sizeof aad - 1,
                                        module, mlen + 8, &consumed, &plain, &plain_len, &err);
      CHECK_EQ_INT(rc, 0);
      CHECK_EQ_INT(consumed, mlen);
      CHECK_EQ_INT(plain_len, n);
      CHECK(rc == 0 && (n == 0 || memcmp(plain, pt, n) == 0));
      free(plain);
      /* Non-page modules under AES_GCM_CTR_V1 are GCM as well. */
      plain = NULL;
      rc = pq_crypto_decrypt_module(PQ_AES_GCM_CTR_V1, 1, key, key_lens[k], aad, sizeof aad - 1,
                                    module, mlen, &consumed, &plain, &plain_len, &err);
      CHECK_EQ_INT(rc, 0);
      CHECK(rc == 0 && (n == 0 || memcmp(plain, pt, n) == 0));
      free(plain);
      /* Under AES_GCM_V1 pages are GCM whatever gcm says. */
      plain = NULL;
      rc = pq_crypto_decrypt_module(PQ_AES_GCM_V1, 0, key, key_lens[k], aad, sizeof aad - 1, module,
                                    mlen, &consumed, &plain, &plain_len, &err);
      CHECK_EQ_INT(rc, 0);
      CHECK(rc == 0 && (n == 0 || memcmp(plain, pt, n) == 0));
      free(plain);
      free(pt);
      free(module);
    }
  }
}

static void test_ctr_round_trip(void) {
  static const size_t key_lens[] = {16, 24, 32};
  static const size_t sizes[] = {0, 1, 16, 33, 4096, 70001};
  for (size_t k = 0; k < 3; k++) {
    uint8_t key[32];
    fill(key, sizeof key, (uint32_t)(99 + k));
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      size_t n = sizes[s];
      uint8_t *pt = malloc(n + 1), *module = malloc(n + 64);
      fill(pt, n, (uint32_t)(n + 5));
      size_t mlen = make_ctr_module(key, key_lens[k], nonce_a, 1, pt, n, module);
      size_t consumed = 0, plain_len = 0;
      uint8_t *plain = NULL;
      tarn_error err = {0};
      /* The AAD is ignored by CTR: pass one anyway. */
      int rc =
          pq_crypto_decrypt_module(PQ_AES_GCM_CTR_V1, 0, key, key_lens[k], (const uint8_t *)"x", 1,
                                   module, mlen, &consumed, &plain, &plain_len, &err);
      CHECK_EQ_INT(rc, 0);
      CHECK_EQ_INT(consumed, mlen);
      CHECK_EQ_INT(plain_len, n);
      CHECK(rc == 0 && (n == 0 || memcmp(plain, pt, n) == 0));
      free(plain);
      /* A counter starting at 2 (GCM's first data block) must give different bytes: the start
       * value is part of the format. */
      if (n > 0) {
        make_ctr_module(key, key_lens[k], nonce_a, 2, pt, n, module);
        plain = NULL;
        rc = pq_crypto_decrypt_module(PQ_AES_GCM_CTR_V1, 0, key, key_lens[k], NULL, 0, module, mlen,
                                      &consumed, &plain, &plain_len, &err);
        CHECK_EQ_INT(rc, 0);
        CHECK(rc == 0 && memcmp(plain, pt, n) != 0);
        free(plain);
      }
      free(pt);
      free(module);
    }
  }
}

static void test_wrong_key_and_tampering(void) {
  uint8_t key[32], other[32], pt[300], module[400];
  fill(key, 32, 1);
  memcpy(other, key, 32);
  other[31] ^= 1;
  fill(pt, sizeof pt, 2);
  const uint8_t aad[] = {'f', 'u', 2, 0, 0, 1, 0, 0, 0};
  size_t mlen = make_gcm_module(key, 32, nonce_a, aad, sizeof aad, pt, sizeof pt, module);
  size_t consumed = 0, plain_len = 0;
  uint8_t *plain = NULL;
  tarn_error err = {0};
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, other, 32, aad, sizeof aad, module, mlen,
                                        &consumed, &plain, &plain_len, &err),
               TARN_EKEY);
  CHECK_EQ_STR(err.message, "decryption failed (wrong key or corrupt data)");
  CHECK(plain == NULL);
  /* A module moved to another place: same key, different AAD (page ordinal 1 instead of 0). */
  uint8_t moved[sizeof aad];
  memcpy(moved, aad, sizeof aad);
  moved[7] = 1;
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 32, moved, sizeof moved, module,
                                        mlen, &consumed, &plain, &plain_len, &err),
               TARN_EKEY);
  /* One flipped bit in the nonce, the ciphertext, the tag. */
  size_t positions[] = {5, 40, mlen - 1};
  for (int i = 0; i < 3; i++) {
    module[positions[i]] ^= 0x10;
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 32, aad, sizeof aad, module, mlen,
                                          &consumed, &plain, &plain_len, &err),
                 TARN_EKEY);
    module[positions[i]] ^= 0x10;
  }
  CHECK(plain == NULL);
  /* Restored module decrypts (so the failures above were the tampering). */
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 32, aad, sizeof aad, module, mlen,
                                        &consumed, &plain, &plain_len, NULL),
               0);
  free(plain);
  /* Key of a size AES does not have. */
  memset(&err, 0, sizeof err);
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 20, aad, sizeof aad, module, mlen,
                                        &consumed, &plain, &plain_len, &err),
               TARN_EKEY);
  CHECK_EQ_INT(pq_crypto_decrypt_module(7, 1, key, 32, aad, sizeof aad, module, mlen, &consumed,
                                        &plain, &plain_len, NULL),
               TARN_EUNSUPPORTED);
}

static void test_truncated(void) {
  uint8_t key[16], pt[100], module[200];
  fill(key, 16, 3);
  fill(pt, sizeof pt, 4);
  size_t mlen = make_gcm_module(key, 16, nonce_a, NULL, 0, pt, sizeof pt, module);
  size_t consumed = 0, plain_len = 0;
  uint8_t *plain = NULL;
  tarn_error err;
  /* Every cut short of the whole module is corrupt, whatever the cipher; none may read past the
   * given length (ASan watches the exact-size copy). */
  for (size_t cut = 0; cut < mlen; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, module, cut);
    for (int gcm = 0; gcm <= 1; gcm++) {
      memset(&err, 0, sizeof err);
      int rc = pq_crypto_decrypt_module(PQ_AES_GCM_CTR_V1, gcm, key, 16, NULL, 0, copy, cut,
                                        &consumed, &plain, &plain_len, &err);
      CHECK(rc == TARN_ECORRUPT);
    }
    free(copy);
  }
  CHECK(plain == NULL);
  /* A length field too small for nonce and tag. */
  uint8_t tiny[4 + 27] = {27, 0, 0, 0};
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, NULL, 0, tiny, sizeof tiny,
                                        &consumed, &plain, &plain_len, NULL),
               TARN_ECORRUPT);
  uint8_t tiny_ctr[4 + 11] = {11, 0, 0, 0};
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_CTR_V1, 0, key, 16, NULL, 0, tiny_ctr,
                                        sizeof tiny_ctr, &consumed, &plain, &plain_len, NULL),
               TARN_ECORRUPT);
  /* A length of 4 GiB - 1 against a small buffer. */
  uint8_t huge[64] = {0xff, 0xff, 0xff, 0xff};
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, NULL, 0, huge, sizeof huge,
                                        &consumed, &plain, &plain_len, NULL),
               TARN_ECORRUPT);
}

static void expect_aad(const uint8_t *file_aad, size_t file_aad_len, int type, int rg, int col,
                       int page, const uint8_t *want, size_t want_len) {
  tarn_buf out = {0};
  tarn_buf_append(&out, "stale", 5, NULL); /* must be replaced, not appended to */
  tarn_error err = {0};
  int rc = pq_crypto_module_aad(file_aad, file_aad_len, type, rg, col, page, &out, &err);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(out.len, want_len);
  CHECK(out.len == want_len && memcmp(out.data, want, want_len) == 0);
  tarn_buf_free(&out);
}

static void test_aad(void) {
  const uint8_t f[] = {'t', 'e', 's', 't', 'e', 'r', 0xa1, 0xb2};
  const uint8_t footer[] = {'t', 'e', 's', 't', 'e', 'r', 0xa1, 0xb2, 0x00};
  expect_aad(f, sizeof f, PQ_MODULE_FOOTER, 5, 6, 7, footer, sizeof footer);
  const uint8_t colmeta[] = {'t',  'e',  's',  't',  'e',  'r', 0xa1,
                             0xb2, 0x01, 0x02, 0x00, 0x2c, 0x01};
  expect_aad(f, sizeof f, PQ_MODULE_COLUMN_META_DATA, 2, 300, 9, colmeta, sizeof colmeta);
  const uint8_t data_page[] = {'t',  'e',  's',  't',  'e',  'r',  0xa1, 0xb2,
                               0x02, 0x00, 0x00, 0x03, 0x00, 0xff, 0x7f};
  expect_aad(f, sizeof f, PQ_MODULE_DATA_PAGE, 0, 3, 32767, data_page, sizeof data_page);
  const uint8_t dict_page[] = {'t',  'e',  's',  't',  'e',  'r', 0xa1,
                               0xb2, 0x03, 0x01, 0x00, 0x00, 0x01};
  expect_aad(f, sizeof f, PQ_MODULE_DICTIONARY_PAGE, 1, 256, 4, dict_page, sizeof dict_page);
  const uint8_t dph[] = {'t',  'e',  's',  't',  'e',  'r',  0xa1, 0xb2,
                         0x04, 0x07, 0x00, 0x00, 0x00, 0x10, 0x00};
  expect_aad(f, sizeof f, PQ_MODULE_DATA_PAGE_HEADER, 7, 0, 16, dph, sizeof dph);
  const uint8_t dict_hdr[] = {0x05, 0x00, 0x00, 0x00, 0x00};
  expect_aad(NULL, 0, PQ_MODULE_DICTIONARY_PAGE_HEADER, 0, 0, 0, dict_hdr, sizeof dict_hdr);
  const uint8_t bitset[] = {0xa1, 0x09, 0xff, 0x7f, 0x01, 0x00};
  expect_aad(f + 6, 1, PQ_MODULE_BLOOM_FILTER_BITSET, 32767, 1, 99999, bitset, sizeof bitset);

  tarn_buf out = {0};
  tarn_error err = {0};
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, PQ_MODULE_DATA_PAGE, 0, 0, 32768, &out, &err),
               TARN_EUNSUPPORTED);
  CHECK(strstr(err.message, "page") != NULL);
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, PQ_MODULE_COLUMN_INDEX, 40000, 0, 0, &out, NULL),
               TARN_EUNSUPPORTED);
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, PQ_MODULE_OFFSET_INDEX, 0, 32768, 0, &out, NULL),
               TARN_EUNSUPPORTED);
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, PQ_MODULE_DATA_PAGE, 0, -1, 0, &out, NULL),
               TARN_EINVAL);
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, 10, 0, 0, 0, &out, NULL), TARN_EINVAL);
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, -1, 0, 0, 0, &out, NULL), TARN_EINVAL);
  /* The footer takes no ordinals, so out-of-range ones are ignored. */
  CHECK_EQ_INT(pq_crypto_module_aad(f, sizeof f, PQ_MODULE_FOOTER, 99999, -5, 99999, &out, NULL),
               0);
  CHECK_EQ_INT(out.len, sizeof f + 1);
  tarn_buf_free(&out);
}

static void test_footer_signature(void) {
  uint8_t key[24], footer[777], module[900];
  fill(key, sizeof key, 11);
  fill(footer, sizeof footer, 12);
  const uint8_t aad[] = {'u', 'n', 'i', 'q', 0};
  make_gcm_module(key, sizeof key, nonce_a, aad, sizeof aad, footer, sizeof footer, module);
  const uint8_t *tag = module + 16 + sizeof footer;
  tarn_error err = {0};
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, sizeof key, aad, sizeof aad, footer,
                                                 sizeof footer, nonce_a, tag, &err),
               0);
  footer[100] ^= 4; /* tampered footer */
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, sizeof key, aad, sizeof aad, footer,
                                                 sizeof footer, nonce_a, tag, &err),
               TARN_EKEY);
  CHECK(strstr(err.message, "footer") != NULL);
  footer[100] ^= 4;
  key[0] ^= 1; /* wrong key */
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, sizeof key, aad, sizeof aad, footer,
                                                 sizeof footer, nonce_a, tag, NULL),
               TARN_EKEY);
  key[0] ^= 1;
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, sizeof key, aad, sizeof aad - 1, footer,
                                                 sizeof footer, nonce_a, tag, NULL),
               TARN_EKEY);
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, 8, aad, sizeof aad, footer, sizeof footer,
                                                 nonce_a, tag, NULL),
               TARN_EKEY);
}

/* ---- files written by parquet-mr ---- */

/* Just enough of the Thrift compact protocol to walk to one binary field. */
typedef struct thrift_in {
  const uint8_t *p, *end;
  int bad;
} thrift_in;

static uint64_t th_varint(thrift_in *t) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (t->p >= t->end) break;
    uint8_t b = *t->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  t->bad = 1;
  return 0;
}

static void th_skip(thrift_in *t, int type, int depth);

/* Reads a field header; 0 at the struct's stop byte. */
static int th_field(thrift_in *t, int *id, int *type) {
  if (t->p >= t->end) {
    t->bad = 1;
    return 0;
  }
  uint8_t b = *t->p++;
  if (b == 0) return 0;
  *type = b & 0x0f;
  if (b >> 4)
    *id += b >> 4;
  else {
    uint64_t z = th_varint(t);
    *id = (int)((z >> 1) ^ (~(z & 1) + 1));
  }
  return 1;
}

static void th_skip_struct(thrift_in *t, int depth) {
  int id = 0, type = 0;
  while (!t->bad && th_field(t, &id, &type))
    th_skip(t, type, depth + 1);
}

static void th_skip(thrift_in *t, int type, int depth) {
  if (depth > 32) t->bad = 1;
  if (t->bad) return;
  switch (type) {
  case 1:
  case 2: break; /* booleans live in the field header */
  case 3:
  case 7: {
    size_t n = type == 3 ? 1 : 8;
    if (n > (size_t)(t->end - t->p))
      t->bad = 1;
    else
      t->p += n;
    break;
  }
  case 4:
  case 5:
  case 6: th_varint(t); break;
  case 8: {
    uint64_t n = th_varint(t);
    if (n > (uint64_t)(t->end - t->p))
      t->bad = 1;
    else
      t->p += n;
    break;
  }
  case 9:
  case 10: {
    if (t->p >= t->end) {
      t->bad = 1;
      break;
    }
    uint8_t h = *t->p++;
    uint64_t n = h >> 4 == 15 ? th_varint(t) : (uint64_t)(h >> 4);
    int elem = h & 0x0f;
    if (elem == 1 || elem == 2) elem = 3; /* booleans in a list take a byte each */
    for (uint64_t i = 0; i < n && !t->bad; i++)
      th_skip(t, elem, depth + 1);
    break;
  }
  case 11: {
    uint64_t n = th_varint(t);
    if (n == 0) break;
    if (t->p >= t->end) {
      t->bad = 1;
      break;
    }
    uint8_t kv = *t->p++;
    for (uint64_t i = 0; i < n && !t->bad; i++) {
      th_skip(t, kv >> 4, depth + 1);
      th_skip(t, kv & 0x0f, depth + 1);
    }
    break;
  }
  case 12: th_skip_struct(t, depth); break;
  default: t->bad = 1;
  }
}

/* In an EncryptionAlgorithm union positioned at t, finds aad_file_unique (field 2 of either
 * AesGcmV1 or AesGcmCtrV1) and, if present, aad_prefix (field 1); leaves t after the union. */
static void th_read_algorithm(thrift_in *t, const uint8_t **unique, size_t *unique_len) {
  int id = 0, type = 0;
  while (!t->bad && th_field(t, &id, &type)) {
    if (type != 12) {
      th_skip(t, type, 1);
      continue;
    }
    int fid = 0, ftype = 0;
    while (!t->bad && th_field(t, &fid, &ftype)) {
      if (fid == 2 && ftype == 8) {
        uint64_t n = th_varint(t);
        if (n > (uint64_t)(t->end - t->p)) {
          t->bad = 1;
          return;
        }
        *unique = t->p;
        *unique_len = (size_t)n;
        t->p += n;
      } else {
        th_skip(t, ftype, 2);
      }
    }
  }
}

/* encrypt_columns_and_footer.parquet.encrypted: "PARE" files end with FileCryptoMetaData, the
 * encrypted footer module, a 4-byte length and "PARE". Decrypting the footer with the footer
 * key and the footer AAD (aad_file_unique || 0) checks the module layout and the AAD against
 * what parquet-mr wrote. */
static void test_parquet_mr_encrypted_footer(void) {
  size_t len = 0;
  uint8_t *file = shared_data_read(
      "testdata/parquet-testing/data/encrypt_columns_and_footer.parquet.encrypted", &len);
  CHECK(file != NULL);
  if (file == NULL) return;
  CHECK(len > 12 && memcmp(file + len - 4, "PARE", 4) == 0);
  size_t tail = (size_t)file[len - 8] | (size_t)file[len - 7] << 8 | (size_t)file[len - 6] << 16 |
                (size_t)file[len - 5] << 24;
  CHECK(tail + 8 <= len);
  thrift_in t = {file + len - 8 - tail, file + len - 8, 0};
  const uint8_t *unique = NULL;
  size_t unique_len = 0;
  int id = 0, type = 0;
  /* FileCryptoMetaData: 1: EncryptionAlgorithm, 2: key_metadata. */
  while (!t.bad && th_field(&t, &id, &type)) {
    if (id == 1 && type == 12)
      th_read_algorithm(&t, &unique, &unique_len);
    else
      th_skip(&t, type, 1);
  }
  CHECK(!t.bad && unique != NULL);
  if (t.bad || unique == NULL) {
    free(file);
    return;
  }
  const uint8_t *module = t.p;
  size_t module_len = (size_t)(file + len - 8 - module);

  tarn_buf aad = {0};
  CHECK_EQ_INT(pq_crypto_module_aad(unique, unique_len, PQ_MODULE_FOOTER, 0, 0, 0, &aad, NULL), 0);
  /* The README gives the footer key as the bytes {0,1,2,...}; parquet-mr's tests build it from
   * the ASCII digits "0123456789012345". */
  const uint8_t *key = (const uint8_t *)"0123456789012345";
  size_t consumed = 0, plain_len = 0;
  uint8_t *plain = NULL;
  tarn_error err = {0};
  int rc = pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, aad.data, aad.len, module,
                                    module_len, &consumed, &plain, &plain_len, &err);
  if (rc) fprintf(stderr, "  footer: %s\n", err.message);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(consumed, module_len);
  /* The plaintext is a FileMetaData: it opens with field 1 (version, i32) and parses whole. */
  if (rc == 0) {
    CHECK(plain_len > 0 && plain[0] == 0x15);
    thrift_in fm = {plain, plain + plain_len, 0};
    th_skip_struct(&fm, 0);
    CHECK(!fm.bad && fm.p == plain + plain_len);
  }
  free(plain);
  /* The column key cannot open the footer. */
  const uint8_t *col_key = (const uint8_t *)"1234567890123450";
  plain = NULL;
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, col_key, 16, aad.data, aad.len, module,
                                        module_len, &consumed, &plain, &plain_len, NULL),
               TARN_EKEY);
  /* Nor can the right key with the AAD of another module type. */
  pq_crypto_module_aad(unique, unique_len, PQ_MODULE_COLUMN_META_DATA, 0, 0, 0, &aad, NULL);
  CHECK_EQ_INT(pq_crypto_decrypt_module(PQ_AES_GCM_V1, 1, key, 16, aad.data, aad.len, module,
                                        module_len, &consumed, &plain, &plain_len, NULL),
               TARN_EKEY);
  tarn_buf_free(&aad);
  free(file);
}

/* encrypt_columns_plaintext_footer.parquet.encrypted: a "PAR1" file whose FileMetaData carries
 * encryption_algorithm (field 8) and is followed by its 28-byte signature (nonce, tag). */
static void test_parquet_mr_signed_footer(void) {
  size_t len = 0;
  uint8_t *file = shared_data_read(
      "testdata/parquet-testing/data/encrypt_columns_plaintext_footer.parquet.encrypted", &len);
  CHECK(file != NULL);
  if (file == NULL) return;
  CHECK(len > 40 && memcmp(file + len - 4, "PAR1", 4) == 0);
  size_t tail = (size_t)file[len - 8] | (size_t)file[len - 7] << 8 | (size_t)file[len - 6] << 16 |
                (size_t)file[len - 5] << 24;
  CHECK(tail > 28 && tail + 8 <= len);
  const uint8_t *footer = file + len - 8 - tail;
  size_t footer_len = tail - 28;
  const uint8_t *nonce = footer + footer_len, *tag = nonce + 12;
  thrift_in t = {footer, footer + footer_len, 0};
  const uint8_t *unique = NULL;
  size_t unique_len = 0;
  int id = 0, type = 0;
  while (!t.bad && th_field(&t, &id, &type)) {
    if (id == 8 && type == 12)
      th_read_algorithm(&t, &unique, &unique_len);
    else
      th_skip(&t, type, 1);
  }
  CHECK(!t.bad && unique != NULL && t.p == footer + footer_len);
  if (t.bad || unique == NULL) {
    free(file);
    return;
  }
  tarn_buf aad = {0};
  CHECK_EQ_INT(pq_crypto_module_aad(unique, unique_len, PQ_MODULE_FOOTER, 0, 0, 0, &aad, NULL), 0);
  const uint8_t *key = (const uint8_t *)"0123456789012345";
  tarn_error err = {0};
  int rc = pq_crypto_verify_footer_signature(key, 16, aad.data, aad.len, footer, footer_len, nonce,
                                             tag, &err);
  if (rc) fprintf(stderr, "  signature: %s\n", err.message);
  CHECK_EQ_INT(rc, 0);
  /* One changed byte in the footer breaks the signature. */
  uint8_t *copy = malloc(footer_len);
  memcpy(copy, footer, footer_len);
  copy[footer_len / 2] ^= 0x01;
  CHECK_EQ_INT(pq_crypto_verify_footer_signature(key, 16, aad.data, aad.len, copy, footer_len,
                                                 nonce, tag, NULL),
               TARN_EKEY);
  free(copy);
  tarn_buf_free(&aad);
  free(file);
}

int main(void) {
  RUN(test_gcm_vectors);
  RUN(test_gcm_round_trip);
  RUN(test_ctr_round_trip);
  RUN(test_wrong_key_and_tampering);
  RUN(test_truncated);
  RUN(test_aad);
  RUN(test_footer_signature);
  RUN(test_parquet_mr_encrypted_footer);
  RUN(test_parquet_mr_signed_footer);
  return check_finish();
}
