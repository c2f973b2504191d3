/*
 * Text output of Arrow batches: canonical JSON lines, CSV and aligned tables.
 *
 * Every command and the SQL shell print rows through this module, so the one definition of how a
 * value looks as text lives here. JSON lines follow ../shared/CANONICAL.md exactly (integers with
 * all digits, decimals as strings with their scale, timestamps with a Z when UTC-adjusted,
 * binary as base64, UUIDs in 8-4-4-4-12 form, maps as key/value object arrays). CSV (RFC 4180)
 * and the aligned table use the same text for scalars; nested values appear as their JSON.
 *
 * Input is the Arrow C Data Interface: a struct-typed schema whose children are the columns and
 * struct arrays (batches) of that schema. Types are recognised by their Arrow format strings,
 * and the extension name "arrow.uuid" in a field's metadata marks a UUID.
 */
#ifndef TARN_COLUMNAR_FORMAT_H
#define TARN_COLUMNAR_FORMAT_H

#include <stdio.h>

#include "tarn.h"

typedef enum col_text_format {
  COL_FORMAT_JSONL = 0,
  COL_FORMAT_CSV = 1,
  COL_FORMAT_TABLE = 2
} col_text_format;

typedef struct col_printer col_printer;

/* Creates a printer writing to out (borrowed; must outlive the printer) for batches of `schema`
 * (borrowed; a struct schema, must outlive the printer). CSV writes a header line first; the
 * table format buffers rows and prints them, aligned, in col_printer_finish.
 * Errors: TARN_EUNSUPPORTED for an Arrow type it cannot print (message names the column). */
int col_printer_create(col_text_format format, FILE *out, const struct ArrowSchema *schema,
                       col_printer **printer, tarn_error *err);

/* Prints every row of batch (a struct array of the printer's schema; borrowed). */
int col_printer_write(col_printer *printer, const struct ArrowArray *batch, tarn_error *err);

/* Flushes buffered output (the whole table, for COL_FORMAT_TABLE). */
int col_printer_finish(col_printer *printer, tarn_error *err);

/* Frees the printer. NULL is a no-op. */
void col_printer_free(col_printer *printer);

/* Parses "jsonl", "csv" or "table". Returns 0 or TARN_EUSAGE. */
int col_text_format_parse(const char *name, col_text_format *out, tarn_error *err);

#endif
