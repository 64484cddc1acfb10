/* common/report.h — everything a program prints: result lines on stdout, messages on stderr. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

/* Exit codes, decided in one place and turned into exit() only in main. */
enum outcome {
    OUTCOME_OK = 0,     /* exit 0: ran, and the result verified (or was not checked) */
    OUTCOME_FAILED = 1, /* exit 1: a runtime failure, or a result that did not verify */
    OUTCOME_USAGE = 2,  /* exit 2: a bad command line; the message names the argument */
    OUTCOME_HELP = 3,   /* exit 0: --help was asked for and printed */
};

/* outcome_exit_code: the process exit status for an outcome. */
int outcome_exit_code(enum outcome outcome);

/* report_set_program: name every later message after this program (argv[0]'s last part). */
void report_set_program(const char *argv0);

/* report_program: the name messages carry, e.g. "matmul-threads". */
const char *report_program(void);

/* report_error: print "program: message" on stderr (with the rank under MPI). */
void report_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* report_usage_error: like report_error, but only once per run (rank 0 under
 * MPI, where every rank reaches the same verdict), and returns OUTCOME_USAGE. */
enum outcome report_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* report_usage_error_by: the same, said by rank speaker (under MPI, the first rank that
 * reached a verdict the others did not: a host short of memory); OUTCOME_USAGE on every rank. */
enum outcome report_usage_error_by(int speaker, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* The room report_size needs: a figure in TiB of up to 20 digits (any
 * double of bytes a machine could hold, and far more), its unit and its end. */
#define REPORT_SIZE_ROOM 32

/* report_size: bytes as a message says them, in the largest binary unit
 * that keeps the figure at 1 or more ("296.0 KiB", "1.5 GiB", "512 B"),
 * written into out (REPORT_SIZE_ROOM bytes); returns out. */
const char *report_size(double bytes, char out[REPORT_SIZE_ROOM]);

#endif
