/*
 * The file commands applied to table directories (Delta tables): cat through the SQL engine,
 * schema and meta from the log's metadata, history from its commits; and the maintenance
 * commands vacuum and restore (table/delta/delta_maint.h) and optimize (sql/delta_optimize.h). Each
 * returns the process exit code, having printed the result or one error line.
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

/* `tarn vacuum TABLE [--retain HOURS] [--dry-run] [--force]`, given the arguments after the
 * command name: deletes the files no version within the retention period needs (the table's
 * delta.deletedFileRetentionDuration, one week unless set, or HOURS; shorter than the table's
 * only with --force), printing each deleted path (the table directory joined with the path
 * inside it) on stdout, one per line, then a summary line on stderr. --dry-run lists without
 * deleting. Exit codes: 2 usage, 1 not a table or a refused retention, others as the library's
 * errors map. */
int cli_table_vacuum(int argc, char **argv);

/* `tarn restore TABLE --version N | --timestamp TIME`: commits the state of an older version
 * (or of the version in force at TIME, read as timestamptz is: without a zone, UTC) as the
 * table's latest, and prints one line saying which version it wrote. Exit codes: 2 usage, 1 not
 * a table, a bad version or missing files, 3 a concurrent commit. */
int cli_table_restore(int argc, char **argv);

/* `tarn optimize TABLE [--zorder a,b] [--target-size BYTES] [--read-version N]
 * [--memory-limit BYTES]`: compacts the
 * table's small files (bin-packing), or with --zorder rewrites every file of each partition with
 * its rows in Z-order of those columns, in files of about --target-size bytes (default: the
 * table's delta.targetFileSize, else 128 MiB; units k, m, g accepted). --read-version plans on an
 * older version and lets the commit check everything since; --memory-limit bounds the memory the
 * Z-order sort holds before it spills (default 80% of RAM). Prints one line: the version written
 * and the files removed and added, or that there was nothing to do. Exit codes: 2 usage, 1 not a
 * table or a bad column, 3 a conflicting concurrent commit. */
int cli_table_optimize(int argc, char **argv);

/* tarn checkpoint TABLE: writes a classic checkpoint of the latest version (and
 * _last_checkpoint). Exit 0, 1 (not a table, a table tarn cannot checkpoint), 2 (usage). */
int cli_table_checkpoint(int argc, char **argv);

#endif
