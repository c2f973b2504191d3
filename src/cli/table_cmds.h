/*
 * The file commands applied to table directories (Delta tables): cat through the SQL engine,
 * schema and meta from the log's metadata, history from its commits. Each returns the process
 * exit code, having printed the result or one error line.
 */
#ifndef TARN_CLI_TABLE_CMDS_H
#define TARN_CLI_TABLE_CMDS_H

#include <stdbool.h>

/* Whether path is a table directory these commands handle. */
bool cli_is_table(const char *path);

/* Prints the rows of the table (as of a version number or a timestamp text when as_of is not
 * NULL) in format (table, csv, jsonl), at most limit rows when limit > 0 or limit_zero. */
int cli_table_cat(const char *dir, const char *as_of, const char *format, long long limit,
                  bool limit_zero);

/* Prints one line per commit (version, timestamp, operation, parameters); jsonl when format is
 * "jsonl", else aligned text. */
int cli_table_history(const char *dir, const char *format);

/* `tarn schema` (meta false: the schema string) or `tarn meta` (protocol, metadata, file count)
 * of the table at as_of (a version number) or the latest version. */
int cli_table_describe(const char *dir, const char *as_of, bool meta);

#endif
