/* io_bound/download.c — download many files over HTTP from one thread: libcurl's multi interface, event-driven.
 *
 * The idea: the other models block: a worker (thread, process, rank) waits
 * inside curl_easy_perform until its file has arrived, so P transfers at once
 * need P workers. Here one thread keeps P transfers in flight: it hands their
 * easy handles to one multi handle, and a loop asks libcurl to move whatever
 * data is ready (curl_multi_perform), picks up the transfers that ended
 * (curl_multi_info_read), starts the next files in their place, and sleeps
 * until a socket has something or a retry is due (curl_multi_poll). The
 * waiting is the kernel's, not a thread's: this is how servers, browsers and
 * curl --parallel work. -p is the number of transfers in flight, not of
 * threads. Each transfer is judged, retried and checked by the same code as
 * in every other model (download_begin, download_judge, download_again: the
 * steps download_fetch is made of); only a retry's wait is a timer here
 * instead of a sleep.
 *
 * Run:    bin/download-async --server 127.0.0.1:8080 --files 64 --size 256K -p 64 -o /tmp/dl
 * Models: common/download.h lists every model of this workload, and the code they share.
 */
#include <stdlib.h>

#include "download.h"

#define MODEL "async"

/* The longest curl_multi_poll sleeps before looking again, in milliseconds. */
#define MAX_POLL_MS 1000

/* One of the P transfers in flight: its fetcher (with its easy handle), and
 * whether the handle is in the multi handle or waiting to retry. */
struct slot {
    struct fetcher f;
    int active;       /* its handle is in the multi handle */
    int waiting;      /* a retry is due at retry_at */
    double retry_at;
};

/* The event loop's state: the multi handle, the slots, the next file. */
struct pool {
    struct download *d;
    CURLM *multi;
    struct slot *slots;
    size_t next;      /* the first file not yet started */
    unsigned busy;    /* slots active or waiting */
};

/* add: put a slot's handle into the multi handle; OUTCOME_FAILED if libcurl refuses. */
static enum outcome add(struct pool *p, struct slot *s)
{
    CURLMcode rc = curl_multi_add_handle(p->multi, s->f.handle);
    if (rc != CURLM_OK) {
        report_error("curl_multi_add_handle failed: %s", curl_multi_strerror(rc));
        return OUTCOME_FAILED;
    }
    s->active = 1;
    p->busy++;
    return OUTCOME_OK;
}

/* start_next: give a free slot the next file that can be started (a file
 * whose .part cannot even be created is given up on, and the next tried). */
static enum outcome start_next(struct pool *p, struct slot *s)
{
    while (p->next < p->d->count)
        if (download_begin(&s->f, p->next++) == OUTCOME_OK)
            return add(p, s);
    return OUTCOME_OK;
}

/* finished: a transfer ended: judge it; retry later, or start the next file. */
static enum outcome finished(struct pool *p, CURL *handle, CURLcode result, double now)
{
    void *private_data = NULL; /* the fetcher, set by download_fetcher_open (CURLOPT_PRIVATE) */
    CURLcode info = curl_easy_getinfo(handle, CURLINFO_PRIVATE, &private_data);
    CURLMcode rc = curl_multi_remove_handle(p->multi, handle);
    struct fetcher *f = private_data;
    if (info != CURLE_OK || !f || rc != CURLM_OK) {
        report_error("a finished transfer cannot be taken back: %s",
                     rc != CURLM_OK ? curl_multi_strerror(rc) : curl_easy_strerror(info));
        return OUTCOME_FAILED;
    }
    struct slot *s = (struct slot *)f; /* f is the first member of its slot */
    double wait;
    s->active = 0;
    p->busy--;
    if (download_judge(f, result, &wait) == ATTEMPT_RETRY) {
        s->waiting = 1;
        s->retry_at = now + wait;
        p->busy++;
        return OUTCOME_OK;
    }
    return start_next(p, s);
}

/* retry_due: start again every waiting transfer whose time has come; the
 * milliseconds until the next one is due (at most MAX_POLL_MS). */
static enum outcome retry_due(struct pool *p, double now, int *timeout_ms)
{
    double soonest = now + MAX_POLL_MS / 1000.0;
    for (unsigned w = 0; w < p->d->workers; w++) {
        struct slot *s = &p->slots[w];
        if (!s->waiting)
            continue;
        if (s->retry_at <= now) {
            s->waiting = 0;
            p->busy--;
            enum outcome o = download_again(&s->f) == OUTCOME_OK ? add(p, s) : start_next(p, s);
            if (o != OUTCOME_OK)
                return o;
        } else if (s->retry_at < soonest) {
            soonest = s->retry_at;
        }
    }
    *timeout_ms = (int)((soonest - now) * 1000.0) + 1;
    return OUTCOME_OK;
}

/* run_loop: until every file has been delivered or given up on: move data,
 * collect ended transfers, start due retries, sleep until something happens. */
static enum outcome run_loop(struct pool *p)
{
    enum outcome o = OUTCOME_OK;
    while (o == OUTCOME_OK && p->busy > 0) {
        int running, left, timeout_ms;
        CURLMcode rc = curl_multi_perform(p->multi, &running);
        if (rc != CURLM_OK) {
            report_error("curl_multi_perform failed: %s", curl_multi_strerror(rc));
            return OUTCOME_FAILED;
        }
        double now = clock_now();
        for (CURLMsg *m; o == OUTCOME_OK && (m = curl_multi_info_read(p->multi, &left));)
            if (m->msg == CURLMSG_DONE)
                o = finished(p, m->easy_handle, m->data.result, now);
        if (o == OUTCOME_OK)
            o = retry_due(p, now, &timeout_ms);
        if (o != OUTCOME_OK || p->busy == 0)
            break;
        rc = curl_multi_poll(p->multi, NULL, 0, timeout_ms, NULL);
        if (rc != CURLM_OK) {
            report_error("curl_multi_poll failed: %s", curl_multi_strerror(rc));
            return OUTCOME_FAILED;
        }
    }
    return o;
}

/* fetch_all: every file, d->workers transfers at a time, all from this one thread. */
static enum outcome fetch_all(void *work, struct phases *phases)
{
    struct download *d = work;
    struct pool p = {.d = d, .slots = calloc(d->workers, sizeof *p.slots)};
    if (!p.slots) {
        report_error("out of memory for %u transfer slots", d->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    double start = clock_now();
    p.multi = curl_multi_init();
    if (!p.multi) {
        report_error("curl_multi_init failed");
        o = OUTCOME_FAILED;
    }
    unsigned opened = 0;
    for (unsigned w = 0; w < d->workers && o == OUTCOME_OK; w++, opened++) {
        download_fetcher_open(&p.slots[w].f, d, w);
        o = start_next(&p, &p.slots[w]);
    }
    if (o == OUTCOME_OK)
        o = run_loop(&p);
    for (unsigned w = 0; w < opened; w++) { /* active ones are left only after a failure */
        CURLMcode rc = p.slots[w].active ? curl_multi_remove_handle(p.multi, p.slots[w].f.handle) : CURLM_OK;
        if (rc != CURLM_OK)
            report_error("curl_multi_remove_handle failed: %s", curl_multi_strerror(rc));
        download_fetcher_close(&p.slots[w].f);
    }
    if (p.multi) {
        CURLMcode rc = curl_multi_cleanup(p.multi);
        if (rc != CURLM_OK) {
            report_error("curl_multi_cleanup failed: %s", curl_multi_strerror(rc));
            o = OUTCOME_FAILED;
        }
    }
    download_finish(d, phases, start);
    free(p.slots);
    return o;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &download_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: libcurl, the URL list and the output directory, outside the timed region ---- */
    struct download d = {.dir_fd = -1};
    if (o == OUTCOME_OK)
        o = download_global_init();
    if (o == OUTCOME_OK)
        o = download_prepare(&d, &opt, MEMORY_PRIVATE);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &download_task, &d, fetch_all);
    if (o == OUTCOME_OK)
        o = download_failures(&d); /* --no-verify skips the check, not the files given up on */
    download_release(&d);
    download_global_cleanup();
    return outcome_exit_code(o);
}
