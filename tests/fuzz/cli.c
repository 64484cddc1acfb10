/* tests/fuzz/cli.c — libFuzzer target: the command-line parser of common/cli.c on any arguments.
 *
 * Run:    make fuzz FUZZ_SECONDS=120        (every target; tests/fuzz/run says how)
 *         bin/fuzz/cli FILE...              (replay inputs, e.g. the files of tests/fuzz/corpus/cli/)
 * An input is a command line: its first byte picks the parser (bit 0: a
 * workload's options_parse, or cli_parse filling a program's own struct)
 * and the policy (bit 1: one worker, or many); the rest, cut at NUL bytes, is
 * argv[1...]. The tables below have a flag of every kind, as the workloads
 * and bin/fileserver declare them. ASan and UBSan watch every access; on
 * top, whatever the parser accepts must lie in the ranges its tables give,
 * and a broken promise aborts (which libFuzzer reports as a crash).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64
#define PROGRAM "fuzz-cli"
/* The workload's ranges, as a real one declares them. */
#define N_MIN 1
#define N_MAX 100000
#define MAX_WORKERS 256
#define MAX_CHUNK 4096
#define MAX_SIZE (1ULL << 40)
#define MAX_PORT 65535
#define MAX_MILLISECONDS 600000

/* ---- a workload, with its own flags of every kind (as download, matmul and factorial have) ---- */

static const char *const kernel_names[] = {"blocked", "naive", NULL};
static const struct flag workload_flags[] = {
    {"--files", "N", FLAG_COUNT, OPTION(n), offsetof(struct options, n_given), 0, 0, NULL, "another name for -n"},
    {"--kernel", "blocked|naive", FLAG_CHOICE, OPTION(kernel), offsetof(struct options, kernel_given), 0, 0,
     kernel_names, "a choice"},
    {"--chunk", "K", FLAG_COUNT, OPTION(chunk), offsetof(struct options, chunk_given), 1, MAX_CHUNK, NULL, "a count"},
    {"--size", "BYTES", FLAG_BYTES, OPTION(size), 0, 1, MAX_SIZE, NULL, "bytes, K, M, G suffixes"},
    {"--server", "HOST:PORT", FLAG_TEXT, OPTION(server), 0, 0, 0, NULL, "a text"},
    {"-i", "FILE", FLAG_TEXT, OPTION(input_file), 0, 0, 0, NULL, "a one-letter text flag"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* bytes_needed: a little memory per element and worker: large -n with many -p is refused. */
static double bytes_needed(unsigned long n, unsigned workers)
{
    return (double)n * (double)workers * 1e6;
}

static const struct workload workload = {
    .name = "fuzz",
    .summary = "the parser under the fuzzer",
    .n_meaning = "size",
    .n_min = N_MIN,
    .n_max = N_MAX,
    .n_default = N_MIN,
    .max_workers = MAX_WORKERS,
    .flags = workload_flags,
    .bytes_needed = bytes_needed,
};

/* ---- a program's own struct (as bin/fileserver's settings) ---- */

struct settings {
    unsigned long long port, latency_ms;
    const char *root;
    double fail_rate;
    int quiet;
};

#define SETTING(name) FLAG_FIELD(struct settings, name)
static const struct flag settings_flags[] = {
    {"--port", "N", FLAG_COUNT, SETTING(port), 0, 0, MAX_PORT, NULL, "a count"},
    {"--latency", "MS", FLAG_COUNT, SETTING(latency_ms), 0, 0, MAX_MILLISECONDS, NULL, "a count"},
    {"--root", "DIR", FLAG_TEXT, SETTING(root), 0, 0, 0, NULL, "a text"},
    {"--fail-rate", "F", FLAG_FRACTION, SETTING(fail_rate), 0, 0, 0, NULL, "a fraction"},
    {"--quiet", NULL, FLAG_SWITCH, SETTING(quiet), 0, 0, 0, NULL, "a switch"},
    {"--help", NULL, FLAG_HELP, 0, 0, 0, 0, 0, NULL, "help"},
    {NULL, NULL, FLAG_SWITCH, 0, 0, 0, 0, 0, NULL, NULL},
};

/* require: abort, naming the promise, unless it holds. */
static void require(int holds, const char *promise)
{
    if (!holds) {
        fprintf(stderr, "common/cli.c broke a promise: %s\n", promise);
        abort();
    }
}

/* check_options: what options_parse accepted lies in the tables' ranges. */
static void check_options(const struct options *opt, enum worker_policy policy)
{
    require(opt->n >= N_MIN && opt->n <= N_MAX, "-n within the workload's range");
    require(opt->workers >= 1 && opt->workers <= (policy == ONE_WORKER ? 1u : MAX_WORKERS),
            "-p within the model's range");
    require(opt->reps >= 1, "-r at least 1");
    require(opt->kernel >= 0 && opt->kernel <= 1, "a choice's index names a word");
    require(!opt->chunk_given || (opt->chunk >= 1 && opt->chunk <= MAX_CHUNK), "--chunk within its range");
    require(opt->size <= MAX_SIZE, "--size within its range");
    require(!opt->server || opt->server[0], "a text flag's value is not empty");
    require(!opt->input_file || opt->input_file[0], "a text flag's value is not empty");
    require(opt->verify == 0 || opt->verify == 1, "a switch is 0 or 1");
}

/* parse_settings: cli_parse into a program's own struct, and what it promises. */
static void parse_settings(int argc, char **argv)
{
    struct settings s = {.port = 8080};
    const struct flag *stop = NULL;
    enum outcome o = cli_parse(settings_flags, &s, argc, argv, &stop);
    require(o == OUTCOME_OK || o == OUTCOME_HELP || o == OUTCOME_USAGE, "an outcome of the parser's three");
    require((o == OUTCOME_HELP) == (stop != NULL && stop->kind == FLAG_HELP), "help stops at a FLAG_HELP flag");
    if (o != OUTCOME_OK)
        return;
    require(s.port <= MAX_PORT && s.latency_ms <= MAX_MILLISECONDS, "counts within their ranges");
    require(!isnan(s.fail_rate) && s.fail_rate >= 0.0 && s.fail_rate <= 1.0, "a fraction from 0 to 1");
    require(!s.root || s.root[0], "a text flag's value is not empty");
    require(s.quiet == 0 || s.quiet == 1, "a switch is 0 or 1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int own_struct = data[0] & 1;
    enum worker_policy policy = data[0] & 2 ? ONE_WORKER : MANY_WORKERS;
    /* argv[1...]: the rest of the input, cut at NUL bytes (a NUL added at its end) */
    char *text = malloc(size), *argv[MAX_ARGS + 1];
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    int argc = 0;
    argv[argc++] = PROGRAM;
    for (char *p = text; p < text + size && argc < MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    if (own_struct) {
        parse_settings(argc, argv);
    } else {
        struct options opt;
        enum outcome o = options_parse(&opt, argc, argv, &workload, "fuzz", policy);
        require(o == OUTCOME_OK || o == OUTCOME_HELP || o == OUTCOME_USAGE, "an outcome of the parser's three");
        if (o == OUTCOME_OK)
            check_options(&opt, policy);
    }
    report_set_program(PROGRAM); /* not a pointer into text, which is freed now */
    free(text);
    return 0;
}
