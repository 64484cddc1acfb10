"""python/common — what every Python program of the suite shares, as common/ does for the C programs.

    cli.py       the command line: the same flags, ranges and messages as common/cli.c
    run.py       the timing contract: warm-up, timed runs, phases, result lines, summary, exit codes
    report.py    messages on stderr, usage errors (exit 2), missing packages
    mix.py       splitmix64, bit for bit common/mix.c's
    pools.py     what every multiprocessing.Pool here shares: workers that die with their parent,
                 a watch for a killed worker, and the six ways of handing a pool its tasks (--api)
    executors.py what the concurrent.futures models share: --executor, executors that stop on an error
    jobs.py      what the joblib models share: --backend, joblib, loky's workers ended with each run
                 and killed with the program
    mpi.py       an MPI job's ranks as one team (common/team_mpi.c's): -p against the ranks, the
                 barrier, the slowest rank's times, rank 0's verdict, leaving together
    schedulers.py  Dask's --scheduler, and the LocalCluster the distributed scheduler starts
    dask_worker.py what each of that LocalCluster's worker processes runs as it starts (a log filter)
    blas.py      which OpenBLAS core NumPy runs, and its correction (issue 9's rule, as reference/matmul.c)
    matmul.py    matmul's inputs (common/matmul.c's), kernels (NumPy, pure Python), check, figures
    factorial.py factorial's ranges, kernel (Python ints, gmpy2), dealer, check, figures
    content.py   bin/fileserver's made-up files and CRC-32C (common/content.c's)
    download.py        download's workload: flags, packages, records, the problem and its queue
                       (common/download.c's; the next three are common/download_*.c's)
    download_list.py   download's URL list (-i FILE, or --server) and output directory (-o)
    download_fetch.py  download's one fetch with its retries, and the pool tasks and jobs that call it
    download_check.py  download's task around each run: reset, the check, --inject-error, figures
    cluster.py   an IPython Parallel cluster a program starts and stops itself, leaving no process behind
    guard.py     a folder, and the processes started after it, that go with their owner, however it ends

A model file (python/<model>/<workload>.py) holds only its decomposition and
a short main(); `diff -u python/serial/X.py python/<model>/X.py` is the lesson.
"""
import os

# OpenBLAS starts a thread per core as it loads, and every forked worker that calls it starts its
# own again, unless OPENBLAS_NUM_THREADS says otherwise. Every program here runs its BLAS on one
# thread (blas.choose_core pins it, so that the model decides the parallelism; download's NumPy
# calls no BLAS), so those threads would only cost CPU time as each process starts. Said here,
# before anything can load NumPy; workers inherit it.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
