/* common/cli.c — parse a command line by a table of flags; refuse bad input with exit status 2. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "memory.h"
#include "pipe.h"
#include "team.h"

/* Defaults of the shared flags. */
#define DEFAULT_SEED 42ULL
#define DEFAULT_WARMUP 1u
#define DEFAULT_REPS 1u
/* Upper limits: beyond them a value is a typo, not an experiment. */
#define MAX_WARMUP 1000ULL
#define MAX_REPS 100000ULL
/* Characters of a flag and its value, padded, in a line of --help. */
#define HELP_WIDTH 20
/* Room for what a memory refusal begins with ("-n 5000: --mode many with 64 workers"), and for a host's
 * name (POSIX allows up to 255 bytes; Linux's are at most 64). */
#define CHECK_MEMORY_WHAT_ROOM 128
#define HOST_NAME_ROOM 256

#define FIELD(name) offsetof(struct options, name)

/* The flags every program takes; a workload adds its own (struct workload.flags).
 * -n's and -p's ranges (0, 0 here) come from the workload and the model. */
static const struct flag shared_flags[] = {
    {"-n", "N", FLAG_COUNT, OPTION(n), FIELD(n_given), 0, 0, NULL, "problem size"},
    {"-p", "P", FLAG_COUNT, OPTION(workers), FIELD(workers_given), 0, 0, NULL,
     "workers: threads, processes or MPI ranks (default 1; MPI: the number of ranks)"},
    {"--seed", "S", FLAG_COUNT, OPTION(seed), 0, 0, ~0ULL, NULL, "seed of the generated inputs (default 42)"},
    {"--warmup", "W", FLAG_COUNT, OPTION(warmup), 0, 0, MAX_WARMUP, NULL,
     "untimed runs before the timed ones (default 1)"},
    {"-r", "R", FLAG_COUNT, OPTION(reps), 0, 1, MAX_REPS, NULL, "timed repetitions, one result line each (default 1)"},
    {"--no-verify", NULL, FLAG_SWITCH, OPTION(verify), 0, 0, 0, NULL, "skip checking the result (verified=skipped)"},
    {"--inject-error", NULL, FLAG_SWITCH, OPTION(inject_error), 0, 0, 0, NULL,
     "corrupt the result before checking it, to prove the check fails (exit 1)"},
    {"--help", NULL, FLAG_HELP, 0, 0, 0, 0, 0, NULL, "print this help and exit"},
    {"--describe", NULL, FLAG_HELP, 0, 0, 0, 0, 0, NULL,
     "print what this program is and takes, as key=value pairs, and exit (for the harness)"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* Suffixes FLAG_BYTES accepts, and the power of 1024 each means. */
static const char byte_suffixes[] = "KMG";

/* One parse: the tables searched in order, the struct their fields are in,
 * and, for a workload's command line only, the options whose workload and
 * model give -n and -p their ranges (NULL for any other struct). */
struct parse {
    const struct flag *tables[2];
    void *target;
    const struct options *opt;
    enum worker_policy policy;
};

/* find_flag: the flag of p's tables named by the argument's first length characters (or NULL). */
static const struct flag *find_flag(const struct parse *p, const char *arg, size_t length)
{
    for (size_t t = 0; t < sizeof p->tables / sizeof p->tables[0]; t++)
        for (const struct flag *f = p->tables[t]; f && f->name; f++)
            if (strlen(f->name) == length && strncmp(f->name, arg, length) == 0)
                return f;
    return NULL;
}

int cli_parse_count(const char *text, unsigned long long min, unsigned long long max, unsigned long long *value)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

/* count_range: the range a number flag takes: its table's, except -n's and
 * -p's (and their other names), which the workload and the model decide. */
static void count_range(const struct parse *p, const struct flag *f, unsigned long long *min,
                        unsigned long long *max)
{
    *min = f->min;
    *max = f->max;
    if (!p->opt)
        return;
    if (f->field == FIELD(n)) {
        *min = p->opt->workload->n_min;
        *max = p->opt->workload->n_max;
    } else if (f->field == FIELD(workers)) {
        *min = 1;
        *max = p->policy == ONE_WORKER ? 1 : p->opt->workload->max_workers;
    }
}

/* parse_bytes: read "256", "256K", "4M" or "1G" as bytes in [min, max]; 0 on success. */
static int parse_bytes(const char *text, unsigned long long min, unsigned long long max,
                       unsigned long long *value)
{
    char digits[32];
    size_t length = strlen(text);
    const char *suffix = length > 0 ? strchr(byte_suffixes, text[length - 1]) : NULL;
    if (!suffix)
        return cli_parse_count(text, min, max, value);
    if (length - 1 >= sizeof digits)
        return -1;
    memcpy(digits, text, length - 1);
    digits[length - 1] = '\0';
    unsigned long long units;
    if (cli_parse_count(digits, 0, ~0ULL, &units) != 0)
        return -1;
    unsigned shift = 10u * (unsigned)(suffix - byte_suffixes + 1);
    if (units > (~0ULL >> shift) || (units << shift) < min || (units << shift) > max)
        return -1;
    *value = units << shift;
    return 0;
}

/* mark_given: note that the flag was on the command line, where it keeps track. */
static void mark_given(const struct parse *p, const struct flag *f)
{
    if (f->given)
        *(int *)((char *)p->target + f->given) = 1;
}

/* store: put a parsed number into the flag's field, whatever its width. */
static void store(const struct parse *p, const struct flag *f, unsigned long long value)
{
    char *field = (char *)p->target + f->field;
    if (f->width == sizeof(unsigned)) {
        unsigned narrow = (unsigned)value;
        memcpy(field, &narrow, sizeof narrow);
    } else if (f->width == sizeof(unsigned long)) {
        unsigned long wide = (unsigned long)value;
        memcpy(field, &wide, sizeof wide);
    } else {
        memcpy(field, &value, sizeof value);
    }
    mark_given(p, f);
}

/* take_value: parse one flag's value text; OUTCOME_OK or a usage error naming it. */
static enum outcome take_value(const struct parse *p, const struct flag *f, const char *text)
{
    char *field = (char *)p->target + f->field;
    if (f->kind == FLAG_TEXT) {
        if (text[0] == '\0')
            return report_usage_error("%s needs a value (%s), not an empty one", f->name, f->metavar);
        memcpy(field, &text, sizeof text);
        mark_given(p, f);
        return OUTCOME_OK;
    }
    if (f->kind == FLAG_CHOICE) {
        for (int i = 0; f->choices[i]; i++)
            if (strcmp(text, f->choices[i]) == 0) {
                *(int *)field = i;
                mark_given(p, f);
                return OUTCOME_OK;
            }
        char words[256] = "";
        for (int i = 0; f->choices[i]; i++)
            snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", i ? "|" : "",
                     f->choices[i]);
        return report_usage_error("%s: '%s' is not one of %s", f->name, text, words);
    }
    if (f->kind == FLAG_FRACTION) {
        char *end = NULL;
        double v = strtod(text, &end);
        if (end == text || *end != '\0' || !(v >= 0.0 && v <= 1.0))
            return report_usage_error("%s: '%s' is not a fraction from 0 to 1", f->name, text);
        memcpy(field, &v, sizeof v);
        mark_given(p, f);
        return OUTCOME_OK;
    }
    unsigned long long min, max, value;
    count_range(p, f, &min, &max);
    if (f->kind == FLAG_BYTES) {
        if (parse_bytes(text, min, max, &value) == 0) {
            store(p, f, value);
            return OUTCOME_OK;
        }
        return report_usage_error("%s: '%s' is not a byte count from %llu to %llu (K, M, G suffixes allowed)",
                                  f->name, text, min, max);
    }
    if (cli_parse_count(text, min, max, &value) == 0) {
        store(p, f, value);
        return OUTCOME_OK;
    }
    if (p->opt && f->field == FIELD(workers) && p->policy == ONE_WORKER && cli_parse_count(text, 2, ~0ULL, &value) == 0)
        return report_usage_error("-p %s: the %s model runs exactly one worker (-p 1); "
                                  "the parallel models take more", text, p->opt->model);
    return report_usage_error("%s: '%s' is not a whole number from %llu to %llu", f->name, text, min, max);
}

/* parse_args: read argv[1..] by p's tables, in order, stopping at the first
 * bad argument (OUTCOME_USAGE) or FLAG_HELP flag (OUTCOME_HELP, *stop set). */
static enum outcome parse_args(const struct parse *p, int argc, char **argv, const struct flag **stop)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *equals = strchr(arg, '=');
        size_t length = equals && arg[1] == '-' ? (size_t)(equals - arg) : strlen(arg);
        const struct flag *f = find_flag(p, arg, length);
        if (!f && arg[0] == '-' && arg[1] != '-' && arg[1] && arg[2]) {
            /* "-n17": a one-letter flag with its value attached */
            f = find_flag(p, arg, 2);
            if (f && f->kind != FLAG_SWITCH && f->kind != FLAG_HELP) {
                enum outcome o = take_value(p, f, arg + 2);
                if (o != OUTCOME_OK)
                    return o;
                continue;
            }
            f = NULL;
        }
        if (!f) {
            if (arg[0] == '-')
                return report_usage_error("unknown flag '%s'", arg);
            return report_usage_error("unexpected argument '%s' (every value follows its flag)", arg);
        }
        if (f->kind == FLAG_HELP) {
            if (length != strlen(arg))
                return report_usage_error("%s takes no value", f->name);
            *stop = f;
            return OUTCOME_HELP;
        }
        if (f->kind == FLAG_SWITCH) {
            if (length != strlen(arg))
                return report_usage_error("%s takes no value", f->name);
            *(int *)((char *)p->target + f->field) = strncmp(f->name, "--no-", 5) != 0;
            continue;
        }
        const char *value = length != strlen(arg) ? equals + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value)
            return report_usage_error("%s needs a value (%s)", f->name, f->metavar);
        enum outcome o = take_value(p, f, value);
        if (o != OUTCOME_OK)
            return o;
    }
    return OUTCOME_OK;
}

enum outcome cli_parse(const struct flag *table, void *target, int argc, char **argv, const struct flag **stop)
{
    struct parse p = {.tables = {table}, .target = target};
    return parse_args(&p, argc, argv, stop);
}

void cli_print_flags(const struct flag *table, int width)
{
    for (const struct flag *f = table; f && f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", f->name, f->metavar ? " " : "", f->metavar ? f->metavar : "");
        printf("  %-*s %s\n", width, left, f->help);
    }
}

/* print_help: the usage text, from the same tables the parser reads. */
static void print_help(const struct options *opt, enum worker_policy policy)
{
    const struct workload *w = opt->workload;
    printf("usage: %s [flags]\n%s, %s model.\n\n", report_program(), w->summary, opt->model);
    char workers[32] = "always 1 here";
    if (policy != ONE_WORKER)
        snprintf(workers, sizeof workers, "1 to %u", w->max_workers);
    printf("  -n N is the %s (%lu to %lu, default %lu); -p P is %s.\n\n", w->n_meaning, w->n_min,
           w->n_max, w->n_default, workers);
    cli_print_flags(shared_flags, HELP_WIDTH);
    cli_print_flags(w->flags, HELP_WIDTH);
    printf("\nOutput: one line of key=value pairs on stdout per timed run; messages on stderr.\n"
           "Exit status: 0 success, 1 runtime failure or wrong result, 2 bad command line.\n"
           "The full contract: results/README.md.\n");
}

/* print_description: one key=value line saying what this program is and takes. */
static void print_description(const struct options *opt, enum worker_policy policy)
{
    const struct workload *w = opt->workload;
    printf("workload=%s model=%s n_min=%lu n_max=%lu n_default=%lu max_workers=%u clock_tick=%.3g\n", w->name,
           opt->model, w->n_min, w->n_max, w->n_default, policy == ONE_WORKER ? 1u : w->max_workers,
           clock_tick());
}

/* set_defaults: the options before any flag is read. */
static void set_defaults(struct options *opt, const struct workload *workload, const char *model)
{
    memset(opt, 0, sizeof *opt);
    opt->workload = workload;
    opt->model = model;
    opt->n = workload->n_default;
    opt->workers = 1;
    opt->seed = DEFAULT_SEED;
    opt->warmup = DEFAULT_WARMUP;
    opt->reps = DEFAULT_REPS;
    opt->verify = 1;
}

enum outcome cli_check_memory(double needed, const char *what, ...)
{
    double have = memory_total();
    int speaker = team_first(needed > have);
    if (speaker < 0)
        return OUTCOME_OK;
    char said[CHECK_MEMORY_WHAT_ROOM], need_said[REPORT_SIZE_ROOM], have_said[REPORT_SIZE_ROOM];
    va_list args;
    va_start(args, what);
    vsnprintf(said, sizeof said, what, args);
    va_end(args);
    report_size(needed, need_said);
    report_size(have, have_said);
    if (speaker == 0)
        return report_usage_error("%s needs about %s of memory, more than the %s this machine has", said, need_said,
                                  have_said);
    char host[HOST_NAME_ROOM] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    return report_usage_error_by(speaker, "%s needs about %s of memory, more than the %s rank %d may use, on host %s",
                                 said, need_said, have_said, speaker, host);
}

/* check_memory: refuse a size the machine cannot hold, before any work starts. */
static enum outcome check_memory(const struct options *opt)
{
    return cli_check_memory(opt->workload->bytes_needed(opt->n, opt->workers), "-n %lu:", opt->n);
}

enum outcome options_parse(struct options *opt, int argc, char **argv,
                           const struct workload *workload, const char *model,
                           enum worker_policy policy)
{
    report_set_program(argv[0]);
    if (fdio_keep_standard() != 0) { /* a program started with >&- or 2>&- */
        report_error("cannot open /dev/null in place of a closed stdin, stdout or stderr: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
    /* stdout closed at the other end (| head): a write then fails with EPIPE,
     * said and ended with exit 1, instead of SIGPIPE killing the program without a word */
    if (pipe_ignore_sigpipe() != OUTCOME_OK)
        return OUTCOME_FAILED;
    /* a file past `ulimit -f` likewise: EFBIG, said, instead of SIGXFSZ killing it (exit 153, no word) */
    if (pipe_ignore_signal(SIGXFSZ, "SIGXFSZ") != OUTCOME_OK)
        return OUTCOME_FAILED;
    set_defaults(opt, workload, model);
    struct parse p = {.tables = {shared_flags, workload->flags}, .target = opt, .opt = opt, .policy = policy};
    const struct flag *stop = NULL;
    enum outcome o = parse_args(&p, argc, argv, &stop);
    if (o == OUTCOME_HELP && team_rank() == 0) {
        int help = strcmp(stop->name, "--help") == 0;
        if (help)
            print_help(opt, policy);
        else
            print_description(opt, policy);
        if (fflush(stdout) != 0 || ferror(stdout)) { /* a full disk, a closed pipe or stdout */
            report_error("cannot write the %s to stdout: %s", help ? "help" : "description", strerror(errno));
            return OUTCOME_FAILED;
        }
    }
    if (o != OUTCOME_OK)
        return o;
    o = team_adopt_workers(opt);
    if (o == OUTCOME_OK && workload->validate)
        o = workload->validate(opt);
    if (o != OUTCOME_OK)
        return o;
    return check_memory(opt);
}
