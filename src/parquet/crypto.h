/*
 * Parquet modular encryption: the cryptographic primitives, nothing about files.
 *
 * An encrypted Parquet file encrypts each "module" (the footer, each page and page header,
 * column metadata, indexes, bloom filters) on its own with AES, so a reader can fetch and
 * decrypt only the pieces it needs. This module decrypts one serialized module, builds the AAD
 * (additional authenticated data) that binds a module to its place in the file, and verifies the
 * signature of a plaintext footer. The footer and column readers decide which key, which AAD and
 * which cipher apply; they call down into here. Everything goes through OpenSSL's EVP interface.
 * See docs/internals/encryption.md for the layouts and what each check protects against.
 */
#ifndef TARN_PARQUET_CRYPTO_H
#define TARN_PARQUET_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tarn.h"

/* The encryption algorithms of the EncryptionAlgorithm union (its field ids minus one). */
enum pq_crypto_algorithm {
  PQ_AES_GCM_V1 = 0,    /* every module AES-GCM */
  PQ_AES_GCM_CTR_V1 = 1 /* pages AES-CTR, every other module AES-GCM */
};

/* Module types: the byte that follows the file AAD in every module's AAD suffix. */
enum pq_module_type {
  PQ_MODULE_FOOTER = 0,
  PQ_MODULE_COLUMN_META_DATA = 1,
  PQ_MODULE_DATA_PAGE = 2,
  PQ_MODULE_DICTIONARY_PAGE = 3,
  PQ_MODULE_DATA_PAGE_HEADER = 4,
  PQ_MODULE_DICTIONARY_PAGE_HEADER = 5,
  PQ_MODULE_COLUMN_INDEX = 6,
  PQ_MODULE_OFFSET_INDEX = 7,
  PQ_MODULE_BLOOM_FILTER_HEADER = 8,
  PQ_MODULE_BLOOM_FILTER_BITSET = 9
};

#define PQ_CRYPTO_LENGTH_LEN 4 /* little-endian length prefix of every module */
#define PQ_CRYPTO_NONCE_LEN 12
#define PQ_CRYPTO_TAG_LEN 16
#define PQ_CRYPTO_MAX_ORDINAL 32767 /* ordinals are int16 in the AAD */

/* Decrypts the module that starts at module[0] (module_len bytes available; the module may be
 * followed by other data). Layout: a 4-byte little-endian length L of what follows, a 12-byte
 * nonce, the ciphertext and, for GCM, a 16-byte tag.
 *   algorithm: PQ_AES_GCM_V1 or PQ_AES_GCM_CTR_V1.
 *   gcm: 1 for modules that are always GCM (footer, page headers, indexes, bloom filters, column
 *        metadata), 0 for page data. AES-CTR is used only for page data under
 *        PQ_AES_GCM_CTR_V1; with PQ_AES_GCM_V1 every module is GCM whatever gcm says.
 *   key: 16, 24 or 32 bytes (AES-128/192/256). aad: the module AAD (pq_crypto_module_aad);
 *        authenticated by GCM, unused by CTR, which authenticates nothing.
 * On success *consumed = 4 + L, *plain is a malloc'ed buffer the caller frees with free()
 * (non-NULL even when *plain_len is 0), and *plain_len is the plaintext length.
 * Errors (outputs then untouched): TARN_ECORRUPT when L does not fit in module_len or is too
 * short for nonce and tag; TARN_EKEY for a key of the wrong length, and with the message
 * "decryption failed (wrong key or corrupt data)" when the GCM tag does not verify;
 * TARN_EUNSUPPORTED for an unknown algorithm; TARN_ENOMEM. */
int pq_crypto_decrypt_module(int algorithm, int gcm, const uint8_t *key, size_t key_len,
                             const uint8_t *aad, size_t aad_len, const uint8_t *module,
                             size_t module_len, size_t *consumed, uint8_t **plain,
                             size_t *plain_len, tarn_error *err);

/* Builds a module AAD in out, replacing its contents (capacity is kept, so one buffer can be
 * reused for every page). file_aad is the AAD prefix followed by the file's aad_file_unique. The
 * result is file_aad || module_type byte, then, for every module but the footer, the row-group
 * and column ordinals as int16 little-endian, then, for data pages and data page headers only,
 * the page ordinal as int16 little-endian. Arguments a module type does not use are ignored.
 * Errors: TARN_EINVAL for an unknown module type or a negative ordinal; TARN_EUNSUPPORTED for an
 * ordinal above 32767 (the format cannot encrypt it); TARN_ENOMEM. */
int pq_crypto_module_aad(const uint8_t *file_aad, size_t file_aad_len, int module_type,
                         int row_group, int column, int page, tarn_buf *out, tarn_error *err);

/* Verifies the signature of a plaintext footer: footer[0..footer_len) is the serialized
 * FileMetaData, nonce and tag the 28 bytes stored after it. The footer is encrypted with AES-GCM
 * under key, nonce and aad (the footer module AAD); it is authentic when the resulting tag equals
 * tag. Returns 0 when it does; TARN_EKEY when it does not (wrong footer key, or a footer that was
 * altered); TARN_EKEY for a key of the wrong length; TARN_ENOMEM. */
int pq_crypto_verify_footer_signature(const uint8_t *key, size_t key_len, const uint8_t *aad,
                                      size_t aad_len, const uint8_t *footer, size_t footer_len,
                                      const uint8_t nonce[12], const uint8_t tag[16],
                                      tarn_error *err);

#endif
