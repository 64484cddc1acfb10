#!/usr/bin/env bash
# tools/configure.sh — find the compilers, libraries and plotting tools the suite
# uses, install the missing ones when allowed, and write what was found as make
# variables.
#
# Usage: tools/configure.sh OUTPUT.mk
#   Reads CC, MPICC, MPIRUN, OMPFLAGS, BLAS_LIBS, PYTHON, PYTHON_LANE, FUZZ_CC from the environment
#   (the Makefile passes its own values). Installs missing Debian packages only
#   when run as root on a machine with apt-get, unless NO_INSTALL=1. With
#   CI=true a missing component is an error, because CI must build everything.
#   Exit status: 0 when OUTPUT.mk was written (even with components missing),
#   1 when there is no working C compiler or CI lacks a component.
set -u

out=${1:?usage: tools/configure.sh OUTPUT.mk}
CC=${CC:-cc}
MPICC=${MPICC:-mpicc}
MPIRUN=${MPIRUN:-mpirun}
OMPFLAGS=${OMPFLAGS:--fopenmp}
BLAS_LIBS=${BLAS_LIBS:-}
PYTHON=${PYTHON:-}
FUZZ_CC=${FUZZ_CC:-clang}
PYTHON_LANE=${PYTHON_LANE:-}

say() { printf 'configure: %s\n' "$*" >&2; }

# The probes' folder in TMPDIR, taken as the compilers and Python take it: where it names no
# folder this user can write in (a site's scratch not made yet, another node's job folder), /tmp.
temporary=${TMPDIR:-/tmp}
[ -d "$temporary" ] && [ -w "$temporary" ] || temporary=/tmp
scratch=$(mktemp -d "$temporary/configure.XXXXXX") || { say "cannot make a folder for its probes in $temporary"; exit 1; }
trap 'rm -rf "$scratch"' EXIT

# try_link "COMPILER FLAGS" "LIBS" < program: does this C program compile and link?
try_link() {
    cat >"$scratch/probe.c"
    $1 -o "$scratch/probe" "$scratch/probe.c" ${2:-} >"$scratch/probe.log" 2>&1
}

# ---- the checks: each sets its variables and returns 0 when usable --------

check_cc() {
    try_link "$CC" <<'C'
int main(void) { return 0; }
C
}

# native_cflags: how CC asks for code for this machine's CPU, the flag it takes without a word:
# -march=native (gcc, clang and icx on x86, gcc on ARM), else -mcpu=native (gcc on POWER, which
# has no -march; clang before 15 on ARM), else nothing (the default CFLAGS are then -O3 alone).
native_cflags() {
    local flag
    for flag in -march=native -mcpu=native; do
        if try_link "$CC $flag" <<'C' && ! [ -s "$scratch/probe.log" ]; then
int main(void) { return 0; }
C
            echo "$flag"
            return
        fi
    done
}

check_openmp() {
    try_link "$CC $OMPFLAGS" "" <<'C'
#include <omp.h>
int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
C
}

check_mpi() {
    command -v "$MPICC" >/dev/null 2>&1 && command -v "$MPIRUN" >/dev/null 2>&1 || return 1
    try_link "$MPICC" <<'C'
#include <mpi.h>
int main(int argc, char **argv) { MPI_Init(&argc, &argv); MPI_Finalize(); return 0; }
C
}

check_gmp() {
    GMP_LIBS=${GMP_LIBS:--lgmp}
    try_link "$CC" "$GMP_LIBS" <<'C'
#include <gmp.h>
int main(void) { mpz_t x; mpz_init_set_ui(x, 1); mpz_clear(x); return 0; }
C
}

check_curl() {
    if command -v curl-config >/dev/null 2>&1; then
        CURL_CFLAGS=$(curl-config --cflags) CURL_LIBS=$(curl-config --libs)
    elif command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libcurl; then
        CURL_CFLAGS=$(pkg-config --cflags libcurl) CURL_LIBS=$(pkg-config --libs libcurl)
    else
        CURL_CFLAGS='' CURL_LIBS='-lcurl'
    fi
    try_link "$CC $CURL_CFLAGS" "$CURL_LIBS" <<'C'
#include <curl/curl.h>
int main(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : 1; }
C
}

check_blas() {
    BLAS_CFLAGS=''
    if [ -z "$BLAS_LIBS" ]; then
        if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas; then
            BLAS_CFLAGS=$(pkg-config --cflags openblas) BLAS_LIBS=$(pkg-config --libs openblas)
        else
            BLAS_LIBS='-lopenblas'
        fi
    fi
    try_link "$CC $BLAS_CFLAGS" "$BLAS_LIBS" <<'C'
#include <cblas.h>
int main(void)
{
    double a = 2, b = 3, c = 0;
    openblas_set_num_threads(1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0, &a, 1, &b, 1, 0.0, &c, 1);
    return c == 6 ? 0 : 1;
}
C
}

check_gnuplot() {
    GNUPLOT=$(command -v gnuplot 2>/dev/null) || return 1
    # The plots need a PNG terminal; gnuplot built without one cannot draw them.
    "$GNUPLOT" -e 'set terminal pngcairo' >/dev/null 2>&1 ||
        "$GNUPLOT" -e 'set terminal png' >/dev/null 2>&1
}

# python_ok INTERPRETER [MODULE]: is it Python 3.6 or newer (and does it import MODULE,
# matplotlib or one of the lane's)? From probe's answer.
python_ok() {
    probe "$(command -v "$1")"
    python_at_least 6 "$PROBED" && { [ -z "${2:-}" ] || [[ " $PROBED " == *" $2 "* ]]; }
}

# python_at_least MINOR ANSWER: probe's answer names a Python 3.MINOR or newer.
python_at_least() {
    local version; read -r version _ <<<"$2"
    [ "${version%%.*}" = 3 ] && [ "${version#*.}" -ge "$1" ] 2>/dev/null
}

# check_python: the interpreter of the tests and the harness: PYTHON when the user named one
# (make runs that one, whatever else is found), else python3 on the PATH or Debian's.
check_python() {
    local candidate
    for candidate in ${PYTHON:-python3 /usr/bin/python3}; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            PYTHON_FOUND=$(command -v "$candidate")
            [ -n "$PYTHON" ] || { own_path "$PYTHON_FOUND"; PYTHON_FOUND=$OWN_PATH; }
            return 0
        fi
    done
    return 1
}

# The python3 first on PATH may be a private install without matplotlib, so
# every interpreter in sight is asked, Debian's included.
check_matplotlib() {
    local candidate
    for candidate in $PYTHON python3 /usr/bin/python3 /usr/local/bin/python3 \
                     $(compgen -c python3. 2>/dev/null | sort -u); do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate" matplotlib; then
            own_path "$(command -v "$candidate")"
            PYTHON_MPL=$OWN_PATH
            return 0
        fi
    done
    return 1
}

check_curl_cli() { command -v curl >/dev/null 2>&1; }

# libFuzzer: clang links a fuzz target with ASan and UBSan (the fuzz targets of tests/fuzz/).
check_fuzzer() {
    command -v "$FUZZ_CC" >/dev/null 2>&1 || return 1
    try_link "$FUZZ_CC -fsanitize=fuzzer,address,undefined" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; (void)size; return 0; }
C
}

# Debian names libFuzzer's runtime after clang's major version (14 on Debian 12).
clang_major=$("$FUZZ_CC" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
FUZZ_PACKAGES="clang libclang-rt-${clang_major:-14}-dev"
# The Python lane (bin/*-py-*, python/): the modules its models import, each
# with its Debian package and what needs it. The Makefile builds a program
# only when the modules it needs are in PY_PACKAGES.
py_modules=(
  "numpy|python3-numpy|matmul-py-* (and the Numba lane)"
  "threadpoolctl|python3-threadpoolctl|matmul-py-* (pins the BLAS to one thread and names its core)"
  "requests|python3-requests|download-py-*"
  "crcmod|python3-crcmod|download-py-* (CRC-32C)"
  "gmpy2|python3-gmpy2|factorial-py-* --kernel gmpy2"
  "mpi4py|python3-mpi4py|the mpi4py lane (*-py-mpi4py)"
  "joblib|python3-joblib|the joblib lane (*-py-joblib)"
  "dask|python3-dask|the Dask lane (*-py-dask)"
  "distributed|python3-distributed|the Dask lane's distributed scheduler"
  "numba|python3-numba|the Numba lane (*-py-numba)"
  "aiohttp|python3-aiohttp|the asyncio lane (*-py-asyncio)"
  "ipyparallel|python3-ipyparallel|the IPython Parallel lane (*-py-ipyparallel)"
)
py_module_names() { local row; for row in "${py_modules[@]}"; do printf '%s ' "${row%%|*}"; done; }

# probe INTERPRETER (a path): its version (3.11), then which of matplotlib and the
# lane's modules it imports (really imports: a module whose own dependencies are
# broken counts as missing), in PROBED; empty when it does not run. It imports them
# as the lane's programs do, after python/common (which has distutils come from the
# standard library, not setuptools: joblib and ipyparallel import it). In PROBED_AT,
# the path the interpreter gives itself (sys.executable). Asked once per
# interpreter and round of checks (run_checks empties `probed`): several checks
# ask the same interpreter, and a pyenv shim in front of python3 costs most of a
# second a call. (Called in a subshell, $(probe ...), it would forget the answer.)
declare -A probed=() probed_at=()
python_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/python
probe() {
    PROBED='' PROBED_AT=''
    [ -n "$1" ] || return 0
    if [ -z "${probed[$1]+set}" ]; then
        local answer
        answer=$("$1" - "$python_dir" matplotlib $(py_module_names) 2>/dev/null <<'PY'
import importlib, sys
found = ["%d.%d" % sys.version_info[:2]]
sys.path.insert(0, sys.argv[1])
try:
    importlib.import_module("common")
except Exception:
    pass
sys.path.remove(sys.argv[1])  # python/joblib/ and its like would pass for the packages they are named after
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
        found.append(name)
    except Exception:
        pass
print(sys.executable if "\n" not in (sys.executable or "\n") else "")
print(" ".join(found))
PY
)
        probed_at[$1]=${answer%%$'\n'*}
        probed[$1]=${answer#*$'\n'}
    fi
    PROBED=${probed[$1]} PROBED_AT=${probed_at[$1]}
}

# own_path INTERPRETER (a path found, not one the user named): in OWN_PATH, the
# path the interpreter gives itself where that is another file (python3 on the
# PATH as a pyenv shim, a script that execs the interpreter) that answers probe
# the same; else INTERPRETER. The build runs it directly: a pyenv shim starts a
# bash and pyenv itself before the interpreter, every time (a third of a second
# of CPU on one 2-core VM), the harness starts it for every make bench, and
# bin/*-py-* for every run (a start-up they would report as theirs).
own_path() {
    local answer
    probe "$1"
    OWN_PATH=$1 answer=$PROBED
    if [ -n "$PROBED_AT" ] && [ "$PROBED_AT" != "$1" ] && [ -x "$PROBED_AT" ]; then
        probe "$PROBED_AT"
        [ "$PROBED" = "$answer" ] && OWN_PATH=$PROBED_AT
        probe "$1"
    fi
}

# lane_modules ANSWER: the lane's modules in probe's answer, in the table's order.
lane_modules() {
    local name found=()
    for name in $(py_module_names); do [[ " $1 " == *" $name "* ]] && found+=("$name"); done
    echo "${found[*]}"
}

# check_python_lane: the interpreter that imports the most of the lane's
# modules (PYTHON_LANE if the user named one), and which ones; usable when it
# imports them all. Debian's packages land in /usr/bin/python3, which a
# python3 first on PATH (pyenv, a venv, a module) may not see.
check_python_lane() {
    local candidate path found best_count=-1
    PYTHON_LANE_FOUND='' PY_PACKAGES=''
    for candidate in ${PYTHON_LANE:-python3 /usr/bin/python3 /usr/local/bin/python3}; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        probe "$path"
        python_at_least 8 "$PROBED" || continue
        found=$(lane_modules "$PROBED")
        if [ "$(wc -w <<<"$found")" -gt "$best_count" ]; then
            [ -n "$PYTHON_LANE" ] || { own_path "$path"; path=$OWN_PATH; }
            PYTHON_LANE_FOUND=$path PY_PACKAGES=$found best_count=$(wc -w <<<"$found")
        fi
    done
    [ -n "$PYTHON_LANE_FOUND" ] && [ "$best_count" -eq "${#py_modules[@]}" ]
}

# say_python_lane_gaps: each module the lane's interpreter lacks, what needs it, and its package.
say_python_lane_gaps() {
    local row module
    if [ -z "$PYTHON_LANE_FOUND" ]; then
        say "the Python lane (bin/*-py-*) needs Python 3.8 or newer; none found (PYTHON_LANE=... names one)"
        return
    fi
    for row in "${py_modules[@]}"; do
        module=${row%%|*}
        case " $PY_PACKAGES " in *" $module "*) continue ;; esac
        say "  Python lane, with $PYTHON_LANE_FOUND: no module '$module'; $(field "$row" 3) needs it:" \
            "apt-get install $(field "$row" 2)"
    done
}
# ip and tc: on the PATH or in /usr/sbin and /sbin, where a normal user's PATH on Debian does
# not look but tools/cluster does.
check_iproute2() {
    local PATH=$PATH:/usr/sbin:/sbin
    command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1
}

# ---- the table: component | check | Debian packages | RHEL packages | module | what needs it
components=(
  "OpenMP|check_openmp|libgomp1|libgomp|gcc|the openmp variants (*-openmp)"
  "MPI|check_mpi|openmpi-bin libopenmpi-dev|openmpi-devel|openmpi|the MPI variants (*-mpi), and (its mpirun) the mpi4py lane (*-py-mpi4py)"
  "GMP|check_gmp|libgmp-dev|gmp-devel|gmp|the factorial programs (factorial-*)"
  "libcurl|check_curl|libcurl4-openssl-dev|libcurl-devel|curl|the download clients (download-*)"
  "OpenBLAS|check_blas|libopenblas-dev|openblas-devel|openblas|the reference lane matmul-blas"
  "Python 3|check_python|python3|python3|python|the tests and the benchmark harness"
  "matplotlib|check_matplotlib|python3-matplotlib|python3-matplotlib|py-matplotlib|the report figures (gnuplot plots still work)"
  "gnuplot|check_gnuplot|gnuplot-nox|gnuplot|gnuplot|the speedup plots"
  "curl|check_curl_cli|curl|curl|curl|the download benchmark's comparison with curl --parallel"
  "libFuzzer|check_fuzzer|$FUZZ_PACKAGES|clang compiler-rt|llvm|the fuzz targets (make fuzz, and make test's fuzz runs)"
  "Python lane packages|check_python_lane|python3 python3-numpy python3-threadpoolctl python3-requests python3-crcmod python3-gmpy2 python3-mpi4py python3-joblib python3-dask python3-distributed python3-numba python3-aiohttp python3-ipyparallel|python3-numpy python3-requests python3-gmpy2 python3-mpi4py python3-joblib python3-dask python3-numba python3-aiohttp|python|the Python lane's programs (bin/*-py-*; each needs only some, named below)"
  "iproute2|check_iproute2|iproute2|iproute iproute-tc|iproute2|the cluster on one machine (tools/cluster: ip, tc)"
)

# field ROW N: the Nth column of a table row.
field() { cut -d'|' -f"$2" <<<"$1"; }

# run_checks: run every check in this shell (so the variables they set stay),
# recording yes/no per check in $found and the failing rows in $missing.
declare -A found
run_checks() {
    missing=() probed=() probed_at=()
    local row check
    for row in "${components[@]}"; do
        check=$(field "$row" 2)
        if $check; then found[$check]=yes; else found[$check]=no; missing+=("$row"); fi
    done
}

# ---- main ------------------------------------------------------------------

if ! check_cc; then
    say "the C compiler '$CC' cannot build a program:"
    sed 's/^/  /' "$scratch/probe.log" >&2
    say "install gcc (Debian: apt-get install gcc) or pass CC=... (e.g. after 'module load gcc')"
    exit 1
fi

run_checks

# missing_debian: the Debian packages of every missing component, once each, on one line.
missing_debian() {
    for row in "${missing[@]}"; do field "$row" 3; done | tr ' ' '\n' | awk 'NF && !seen[$0]++' | paste -sd ' ' -
}

if ((${#missing[@]})) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 &&
   [ "${NO_INSTALL:-0}" != 1 ]; then
    packages=$(missing_debian)
    say "installing missing Debian packages: $packages"
    export DEBIAN_FRONTEND=noninteractive
    log="$scratch/apt.log"
    if apt-get update -qq >"$log" 2>&1 &&
       apt-get install -y -qq --no-install-recommends $packages >>"$log" 2>&1; then
        run_checks
    else
        tail -n 20 "$log" | sed 's/^/  /' >&2
        say "apt-get failed (above); building what the machine already has"
    fi
fi

# Each component's packages, then all of them as one command on a line of its own: a line a
# user pastes runs as it is (the ways to install, once joined by '|', ran as a pipeline in
# which apt-get's prompt went to a dnf that is not there, and nothing was installed).
for row in "${missing[@]}"; do
    say "$(field "$row" 1) not found; it is needed by $(field "$row" 6)."
    say "  install: apt-get install $(field "$row" 3) (Debian), dnf install $(field "$row" 4) (RHEL)," \
        "or module load $(field "$row" 5)"
    [ "$(field "$row" 2)" = check_python_lane ] && say_python_lane_gaps
    [ "$(field "$row" 2)" = check_python ] && [ -n "$PYTHON" ] &&
        say "  PYTHON=$PYTHON is not a Python 3.6 or newer that runs here, and make runs the one named:" \
            "name another, or leave PYTHON out"
done
if ((${#missing[@]})); then
    say "everything missing, in one command to run as root on Debian or Ubuntu (then make again):"
    printf '  apt-get install %s\n' "$(missing_debian)" >&2
fi
if ((${#missing[@]})) && [ "${CI:-}" = true ]; then
    say "CI must build every variant; stopping"
    exit 1
fi

tmp_out="$out.tmp.$$"
{
    echo "# Written by tools/configure.sh; 'make config' looks again."
    echo "CONFIGURED_SIG := ${CONFIG_SIG:-}"
    echo "CONFIG_COMPLETE := $( ((${#missing[@]})) && echo no || echo yes)"
    echo "MISSING_DEBIAN := $( ((${#missing[@]})) && missing_debian)"
    echo "NATIVE_CFLAGS := $(native_cflags)"
    echo "HAVE_OPENMP := ${found[check_openmp]}"
    echo "HAVE_MPI := ${found[check_mpi]}"
    # mpirun alone (Debian's python3-mpi4py brings it, not mpicc): the mpi4py lane runs with it.
    echo "HAVE_MPIRUN := $(command -v "$MPIRUN" >/dev/null 2>&1 && echo yes || echo no)"
    echo "HAVE_GMP := ${found[check_gmp]}"
    echo "GMP_LIBS := ${GMP_LIBS:-}"
    echo "HAVE_CURL := ${found[check_curl]}"
    echo "CURL_CFLAGS := ${CURL_CFLAGS:-}"
    echo "CURL_LIBS := ${CURL_LIBS:-}"
    echo "HAVE_BLAS := ${found[check_blas]}"
    echo "BLAS_CFLAGS := ${BLAS_CFLAGS:-}"
    echo "BLAS_LIBS := ${BLAS_LIBS:-}"
    echo "PYTHON := ${PYTHON_FOUND:-}"
    echo "PYTHON_MPL := ${PYTHON_MPL:-}"
    echo "PYTHON_LANE := ${PYTHON_LANE_FOUND:-}"
    echo "PY_PACKAGES := ${PY_PACKAGES:-}"
    echo "GNUPLOT := ${GNUPLOT:-}"
    echo "HAVE_FUZZ := ${found[check_fuzzer]}"
    echo "FUZZ_CC := $FUZZ_CC"
    echo "FUZZ_PACKAGES := $FUZZ_PACKAGES"
} >"$tmp_out" && mv "$tmp_out" "$out"
