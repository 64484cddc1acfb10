/* common/report.c — messages on stderr, named after the program (and the MPI rank). */
#include "report.h"

#include <stdarg.h>
#include <string.h>

#include "team.h"

static const char *program = "program";

int outcome_exit_code(enum outcome outcome)
{
    return outcome == OUTCOME_HELP ? 0 : (int)outcome;
}

void report_set_program(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    program = slash ? slash + 1 : argv0;
}

const char *report_program(void)
{
    return program;
}

/* print_message: the common body of the error printers; with_rank names the
 * MPI rank (runtime errors happen on one rank; usage errors on all alike). */
static void print_message(int with_rank, const char *format, va_list args)
{
    if (with_rank && team_size() > 1)
        fprintf(stderr, "%s (rank %d): ", program, team_rank());
    else
        fprintf(stderr, "%s: ", program);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

void report_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    print_message(1, format, args);
    va_end(args);
}

/* usage_message: a usage error's lines, said by rank speaker only. */
static enum outcome usage_message(int speaker, const char *format, va_list args)
{
    if (team_rank() == speaker) {
        print_message(0, format, args);
        fprintf(stderr, "%s: see '%s --help'\n", program, program);
    }
    return OUTCOME_USAGE;
}

enum outcome report_usage_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    enum outcome o = usage_message(0, format, args);
    va_end(args);
    return o;
}

enum outcome report_usage_error_by(int speaker, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    enum outcome o = usage_message(speaker, format, args);
    va_end(args);
    return o;
}

const char *report_size(double bytes, char out[REPORT_SIZE_ROOM])
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(out, REPORT_SIZE_ROOM, "%.0f B", bytes);
        return out;
    }
    unsigned unit = 0;
    for (bytes /= 1024; bytes >= 1024 && unit + 1 < sizeof units / sizeof *units; unit++)
        bytes /= 1024;
    snprintf(out, REPORT_SIZE_ROOM, "%.1f %s", bytes, units[unit]);
    return out;
}
