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
import sys
import warnings

# OpenBLAS starts a thread per core as it loads, and every forked worker that calls it starts its
# own again, unless OPENBLAS_NUM_THREADS says otherwise. Every program here runs its BLAS on one
# thread (blas.choose_core pins it, so that the model decides the parallelism; download's NumPy
# calls no BLAS), so those threads would only cost CPU time as each process starts. Said here,
# before anything can load NumPy; workers inherit it.
os.environ["OPENBLAS_NUM_THREADS"] = "1"

# Debian 12's joblib (1.2) imports distutils for a side effect its own code never uses, and
# ipyparallel imports distutils.version for LooseVersion. Where setuptools stands in for distutils
# (its distutils-precedence.pth, on unless SETUPTOOLS_USE_DISTUTILS says otherwise), either import
# loads setuptools and pkg_resources: 0.15-0.2 s of a process's start on a 2-core VM, paid again by
# every loky worker, resource tracker, IPython Parallel engine and controller, fresh interpreters
# started inside the timed region (on that VM, py-joblib's setup= at P = 2 went from 0.55 s to
# about 0.33 s without it). So, unless the user chose, the programs and what they start take the standard
# library's distutils (setuptools' own switch) where it is there (up to Python 3.11; joblib 1.3 and
# later import none). Its DeprecationWarning, which PYTHONWARNINGS=default would show, comes of that
# choice, not of anything the user runs: not shown, here or in those processes (the filters listed
# last win).
DISTUTILS_DEPRECATED = "The distutils package is deprecated"


def take_stdlib_distutils():
    """distutils from the standard library, here and in every process started from here (above)."""
    stdlib_distutils = os.path.join(os.path.dirname(os.__file__), "distutils", "__init__.py")
    if "SETUPTOOLS_USE_DISTUTILS" in os.environ or not os.path.exists(stdlib_distutils):
        return
    os.environ["SETUPTOOLS_USE_DISTUTILS"] = "stdlib"
    shim = sys.modules.get("_distutils_hack")  # put in front of distutils as this interpreter started
    if shim is not None and hasattr(shim, "remove_shim"):
        shim.remove_shim()
    warnings.filterwarnings("ignore", DISTUTILS_DEPRECATED, DeprecationWarning)
    if os.environ.get("PYTHONWARNINGS"):
        os.environ["PYTHONWARNINGS"] += ",ignore:%s:DeprecationWarning" % DISTUTILS_DEPRECATED


take_stdlib_distutils()
