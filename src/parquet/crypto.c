/*
 * Parquet modular encryption primitives over OpenSSL EVP. Contracts in crypto.h; the formats and
 * the reasoning in docs/internals/encryption.md.
 */
#include "parquet/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* EVP counts bytes in int; longer inputs go through in pieces of this size. */
#define CRYPTO_CHUNK ((size_t)1 << 30)

static const EVP_CIPHER *cipher_for(size_t key_len, int gcm) {
  switch (key_len) {
  case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr();
  case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_ctr();
  case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_ctr();
  default: return NULL;
  }
}

/* Feeds n bytes to EVP_DecryptUpdate / EVP_EncryptUpdate in int-sized pieces. out may be NULL
 * (AAD); otherwise it receives n bytes (GCM and CTR are stream modes: output = input). When
 * scratch is set, out is a buffer of scratch bytes reused for every piece (the caller does not
 * want the output). 1 = ok. */
static int evp_update(EVP_CIPHER_CTX *ctx, int encrypt, uint8_t *out, size_t scratch,
                      const uint8_t *in, size_t n) {
  size_t chunk = scratch ? scratch : CRYPTO_CHUNK;
  for (size_t off = 0; off < n;) {
    size_t piece = n - off < chunk ? n - off : chunk;
    int out_len = 0;
    uint8_t *dst = out == NULL ? NULL : scratch ? out : out + off;
    int ok = encrypt ? EVP_EncryptUpdate(ctx, dst, &out_len, in + off, (int)piece)
                     : EVP_DecryptUpdate(ctx, dst, &out_len, in + off, (int)piece);
    if (ok != 1) return 0;
    if (out != NULL && (size_t)out_len != piece) return 0;
    off += piece;
  }
  return 1;
}

static uint32_t load_u32_le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pq_crypto_decrypt_module(int algorithm, int gcm, const uint8_t *key, size_t key_len,
                             const uint8_t *aad, size_t aad_len, const uint8_t *module,
                             size_t module_len, size_t *consumed, uint8_t **plain,
                             size_t *plain_len, tarn_error *err) {
  if (algorithm != PQ_AES_GCM_V1 && algorithm != PQ_AES_GCM_CTR_V1)
    return tarn_err(err, TARN_EUNSUPPORTED, "encryption: unknown algorithm %d", algorithm);
  /* Under AES_GCM_V1 pages are GCM too; only AES_GCM_CTR_V1 page data is CTR. */
  int use_gcm = algorithm == PQ_AES_GCM_V1 || gcm;
  const EVP_CIPHER *cipher = cipher_for(key_len, use_gcm);
  if (cipher == NULL)
    return tarn_err(err, TARN_EKEY, "encryption: key of %zu bytes (must be 16, 24 or 32)", key_len);
  /* The length comes from the file: check it against the bytes present before using it. */
  if (module_len < PQ_CRYPTO_LENGTH_LEN)
    return tarn_err(err, TARN_ECORRUPT,
                    "encrypted module: %zu bytes, too short for its length field", module_len);
  size_t len = load_u32_le(module);
  size_t overhead = PQ_CRYPTO_NONCE_LEN + (use_gcm ? PQ_CRYPTO_TAG_LEN : 0);
  if (len > module_len - PQ_CRYPTO_LENGTH_LEN)
    return tarn_err(err, TARN_ECORRUPT,
                    "encrypted module: length field says %zu bytes but only %zu follow", len,
                    module_len - PQ_CRYPTO_LENGTH_LEN);
  if (len < overhead)
    return tarn_err(err, TARN_ECORRUPT, "encrypted module: %zu bytes, too short for its nonce%s",
                    len, use_gcm ? " and tag" : "");
  const uint8_t *nonce = module + PQ_CRYPTO_LENGTH_LEN;
  const uint8_t *cipher_text = nonce + PQ_CRYPTO_NONCE_LEN;
  size_t text_len = len - overhead;

  uint8_t *out = malloc(text_len ? text_len : 1);
  if (out == NULL)
    return tarn_err(err, TARN_ENOMEM, "encryption: out of memory for a %zu-byte module", text_len);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) {
    free(out);
    return tarn_err(err, TARN_ENOMEM, "encryption: cannot create an OpenSSL cipher context");
  }
  int rc = 0;
  if (use_gcm) {
    uint8_t tag[PQ_CRYPTO_TAG_LEN];
    memcpy(tag, cipher_text + text_len, sizeof tag); /* EVP wants a non-const tag */
    int final_len = 0;
    if (EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PQ_CRYPTO_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
        !evp_update(ctx, 0, NULL, 0, aad, aad_len) ||
        !evp_update(ctx, 0, out, 0, cipher_text, text_len) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PQ_CRYPTO_TAG_LEN, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, out + text_len, &final_len) != 1 || final_len != 0)
      rc = tarn_err(err, TARN_EKEY, "decryption failed (wrong key or corrupt data)");
  } else {
    /* The CTR IV is the nonce followed by a 32-bit big-endian block counter that starts at 1
     * (Encryption.md 4.2.2). */
    uint8_t iv[16] = {0};
    memcpy(iv, nonce, PQ_CRYPTO_NONCE_LEN);
    iv[15] = 1;
    int final_len = 0;
    if (EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv) != 1 ||
        !evp_update(ctx, 0, out, 0, cipher_text, text_len) ||
        EVP_DecryptFinal_ex(ctx, out + text_len, &final_len) != 1 || final_len != 0)
      rc = tarn_err(err, TARN_EKEY, "decryption failed (OpenSSL rejected AES-CTR)");
  }
  EVP_CIPHER_CTX_free(ctx);
  if (rc) {
    /* Never hand out unauthenticated plaintext. */
    OPENSSL_cleanse(out, text_len);
    free(out);
    return rc;
  }
  *consumed = PQ_CRYPTO_LENGTH_LEN + len;
  *plain = out;
  *plain_len = text_len;
  return 0;
}

static int put_ordinal(tarn_buf *out, const char *what, int ordinal, tarn_error *err) {
  if (ordinal < 0)
    return tarn_err(err, TARN_EINVAL, "encryption: negative %s ordinal %d", what, ordinal);
  if (ordinal > PQ_CRYPTO_MAX_ORDINAL)
    return tarn_err(err, TARN_EUNSUPPORTED,
                    "encryption: %s ordinal %d exceeds %d (the AAD holds it as an int16)", what,
                    ordinal, PQ_CRYPTO_MAX_ORDINAL);
  uint8_t le[2] = {(uint8_t)(ordinal & 0xff), (uint8_t)(ordinal >> 8)};
  return tarn_buf_append(out, le, sizeof le, err);
}

int pq_crypto_module_aad(const uint8_t *file_aad, size_t file_aad_len, int module_type,
                         int row_group, int column, int page, tarn_buf *out, tarn_error *err) {
  if (module_type < PQ_MODULE_FOOTER || module_type > PQ_MODULE_BLOOM_FILTER_BITSET)
    return tarn_err(err, TARN_EINVAL, "encryption: unknown module type %d", module_type);
  out->len = 0;
  int rc = tarn_buf_append(out, file_aad, file_aad_len, err);
  uint8_t type = (uint8_t)module_type;
  if (rc == 0) rc = tarn_buf_append(out, &type, 1, err);
  if (rc == 0 && module_type != PQ_MODULE_FOOTER) {
    rc = put_ordinal(out, "row group", row_group, err);
    if (rc == 0) rc = put_ordinal(out, "column", column, err);
  }
  /* Only data pages and their headers carry a page ordinal: a column chunk has at most one
   * dictionary page, so its position needs no number. */
  if (rc == 0 && (module_type == PQ_MODULE_DATA_PAGE || module_type == PQ_MODULE_DATA_PAGE_HEADER))
    rc = put_ordinal(out, "page", page, err);
  if (rc) out->len = 0;
  return rc;
}

int pq_crypto_verify_footer_signature(const uint8_t *key, size_t key_len, const uint8_t *aad,
                                      size_t aad_len, const uint8_t *footer, size_t footer_len,
                                      const uint8_t nonce[12], const uint8_t tag[16],
                                      tarn_error *err) {
  const EVP_CIPHER *cipher = cipher_for(key_len, 1);
  if (cipher == NULL)
    return tarn_err(err, TARN_EKEY, "encryption: footer key of %zu bytes (must be 16, 24 or 32)",
                    key_len);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL)
    return tarn_err(err, TARN_ENOMEM, "encryption: cannot create an OpenSSL cipher context");
  /* Only the tag matters: the ciphertext goes through a small scratch buffer and is dropped,
   * so a large footer costs no allocation. */
  uint8_t scratch[4096];
  uint8_t computed[PQ_CRYPTO_TAG_LEN];
  int final_len = 0;
  int ok = EVP_EncryptInit_ex(ctx, cipher, NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PQ_CRYPTO_NONCE_LEN, NULL) == 1 &&
           EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
           evp_update(ctx, 1, NULL, 0, aad, aad_len) &&
           evp_update(ctx, 1, scratch, sizeof scratch, footer, footer_len) &&
           EVP_EncryptFinal_ex(ctx, scratch, &final_len) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PQ_CRYPTO_TAG_LEN, computed) == 1;
  EVP_CIPHER_CTX_free(ctx);
  OPENSSL_cleanse(scratch, sizeof scratch);
  if (!ok) return tarn_err(err, TARN_EKEY, "encryption: cannot compute the footer signature");
  /* Constant time, so the comparison leaks nothing about how much of the tag matched. */
  if (CRYPTO_memcmp(computed, tag, PQ_CRYPTO_TAG_LEN) != 0)
    return tarn_err(err, TARN_EKEY,
                    "footer signature mismatch (wrong footer key or tampered footer)");
  return 0;
}
