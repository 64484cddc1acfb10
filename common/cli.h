/* common/cli.h — the command line every program shares: flags, their limits, --help.
 *
 * Every bin/<workload>-<model> takes the same flags (-n, -p, --seed, --warmup,
 * -r, --no-verify, --inject-error, --help) plus its workload's own; anything
 * malformed, out of range or unknown is refused with exit status 2 and a
 * message naming the argument. The contract is written out in results/README.md.
 *
 * The parser reads a table of flags (struct flag), each naming a field of the
 * struct it fills: struct options for the workloads (options_parse), any
 * struct of a program's own for the others (cli_parse; bin/fileserver's
 * settings), with the same rules and messages for all.
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include "report.h"

/* How a flag's value is read. */
enum flag_kind {
    FLAG_SWITCH, /* no value: sets an int to 1 (or to 0 for --no-...) */
    FLAG_COUNT,  /* a whole number in [min, max] */
    FLAG_CHOICE, /* one word of a list; stores its index in an int */
    FLAG_BYTES,  /* a byte count, with an optional K, M or G suffix (KiB, MiB, GiB) */
    FLAG_TEXT,   /* any non-empty text (a file, a directory, HOST:PORT); stores a const char * */
    FLAG_FRACTION, /* a number from 0 to 1 (0.25, 1e-3); stores a double */
    FLAG_HELP,   /* no value: ends the parse with OUTCOME_HELP, for the caller to print (--help) */
};

/* FLAG_FIELD(type, name): where a flag's value goes: the offset and size of a field of that struct. */
#define FLAG_FIELD(type, name) offsetof(type, name), sizeof(((type *)0)->name)

/* OPTION(name): a field of struct options, the struct the workloads' flags fill. */
#define OPTION(name) FLAG_FIELD(struct options, name)

/* One flag: how it is written, what it sets, and its line in --help. A table
 * of them ends with one whose name is NULL. */
struct flag {
    const char *name;              /* as typed: "-n", "--seed" */
    const char *metavar;           /* its value in --help ("N"); NULL for switches */
    enum flag_kind kind;
    size_t field, width;           /* FLAG_FIELD(...): the field it sets in the struct the table fills */
    size_t given;                  /* offsetof of the int set to 1 when seen, or 0 (so never the first field) */
    unsigned long long min, max;   /* FLAG_COUNT's and FLAG_BYTES's range (-n, -p: the workload's) */
    const char *const *choices;    /* FLAG_CHOICE's words, NULL-terminated */
    const char *help;
};

struct options;

/* The workload's part of the command line, declared once in common/<workload>.c. */
struct workload {
    const char *name;        /* "matmul": the first half of bin/<workload>-<model> */
    const char *summary;     /* one line for --help */
    const char *n_meaning;   /* what -n counts, for --help: "matrix order" */
    unsigned long n_min, n_max, n_default;
    unsigned max_workers;    /* the most workers that make sense on any machine */
    const struct flag *flags; /* its own flags, ended by one with a NULL name */
    /* bytes_needed: memory a run of size n with this many workers will hold,
     * so that sizes the machine cannot hold are refused before any work. */
    double (*bytes_needed)(unsigned long n, unsigned workers);
    /* validate: the workload's own checks of the parsed flags together (usage
     * errors exit 2), or NULL when it has none. */
    enum outcome (*validate)(const struct options *opt);
};

/* Which of a model's settings -p may take. */
enum worker_policy {
    ONE_WORKER,   /* serial: -p 1 only */
    MANY_WORKERS, /* threads, processes, OpenMP, MPI, and libraries that thread themselves */
};

struct options {
    const struct workload *workload;
    const char *model;       /* "threads": the second half of bin/<workload>-<model> */
    unsigned long n;         /* -n: problem size */
    int n_given;             /* 1 when -n (or a workload's other name for it) was on the command line */
    unsigned workers;        /* -p: workers (threads, processes, ranks) */
    int workers_given;       /* 1 when -p was on the command line */
    unsigned long long seed; /* --seed: inputs are a pure function of it */
    unsigned warmup;         /* --warmup: untimed runs before the timed ones */
    unsigned reps;           /* -r: timed runs, one result line each */
    int verify;              /* 0 after --no-verify */
    int inject_error;        /* --inject-error: corrupt the result to prove the check fails */
    int kernel;              /* matmul --kernel: an enum matmul_kernel (common/matmul.h) */
    int kernel_given;
    int isa;                 /* matmul --isa: 0 auto, else 1 + an enum matmul_isa (common/matmul.h) */
    int mode;                /* factorial --mode: one n!, or the factorials of 1..n */
    int schedule;            /* factorial --schedule: how tasks are handed to workers */
    int schedule_given;
    unsigned chunk;          /* factorial --chunk: tasks handed out at a time */
    int chunk_given;
    const char *input_file;  /* download -i: a file of URLs, one per line */
    const char *output_dir;  /* download -o: where the files go */
    const char *server;      /* download --server HOST:PORT: the file server to fetch from */
    unsigned long long size; /* download --size: bytes of each generated file */
};

/* options_parse: fill opt from argv for this workload and model. Returns
 * OUTCOME_OK, OUTCOME_HELP (help printed), or OUTCOME_USAGE (message printed). */
enum outcome options_parse(struct options *opt, int argc, char **argv,
                           const struct workload *workload, const char *model,
                           enum worker_policy policy);

/* cli_check_memory: OUTCOME_USAGE, said once, where `needed` bytes are more than a
 * member of the team may use (memory_total: its host's RAM, a cgroup's limit, ulimit -v);
 * the message begins with what (a printf format and its values, e.g. "-n %lu:"). Under MPI
 * the hosts may differ, and every rank must reach the same verdict, or the ranks that went
 * on would wait forever for those that stopped: the first rank short of memory says so. */
enum outcome cli_check_memory(double needed, const char *what, ...) __attribute__((format(printf, 2, 3)));

/* cli_parse: fill target, a struct of any type whose defaults are already
 * set, from argv by table's flags (their fields are target's). Returns
 * OUTCOME_OK; OUTCOME_HELP when a FLAG_HELP flag was met (*stop names it; the
 * caller prints); or OUTCOME_USAGE (message printed). */
enum outcome cli_parse(const struct flag *table, void *target, int argc, char **argv, const struct flag **stop);

/* cli_parse_count: read text as a whole number in [min, max]; 0 on success,
 * -1 for signs, spaces, fractions, trailing junk and values out of range. */
int cli_parse_count(const char *text, unsigned long long min, unsigned long long max, unsigned long long *value);

/* cli_print_flags: a table's lines of --help, each flag and its value padded to width. */
void cli_print_flags(const struct flag *table, int width);

#endif
