/*
 * `tarn sql`: SQL statements from the command line (-c), from a script (a file or piped
 * standard input) or from an interactive shell with line editing and history, run by the SQL
 * engine (src/sql/engine.h) and printed as an aligned table, CSV or canonical JSON lines.
 * docs/internals/sql-shell.md describes the behaviour and the choices behind it.
 */
#ifndef TARN_CLI_SQL_SHELL_H
#define TARN_CLI_SQL_SHELL_H

/* Runs `tarn sql` like a main(): argv[0] is the subcommand's name ("sql", unused) and the options
 * follow it. Prints results on stdout and any error as one "tarn: error: ..." line on stderr, and
 * returns the process exit code (0 ok, 1 bad query, 2 usage, 3 conflict, 4 corrupt, 5 I/O). */
int tarn_sql_main(int argc, char **argv);

#endif
