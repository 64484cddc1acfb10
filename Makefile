# Makefile — builds every workload in every model as bin/<workload>-<model>,
# runs the tests and the benchmarks. `make help` lists the targets.
#
# Bring your own compilers (e.g. after `module load`):
#   make CC=icx MPICC=mpiicx CFLAGS='-O3 -xHost' OMPFLAGS=-qopenmp
# The first run looks for the libraries the workloads need (tools/configure.sh);
# as root with apt-get it installs the missing Debian packages, otherwise it
# says what to install and builds the variants it can.

.DEFAULT_GOAL := all

# ---- toolchain (each can be overridden on the command line) ----------------
MPICC    ?= mpicc
MPIRUN   ?= mpirun
# NATIVE_CFLAGS: -march=native, or what CC says instead (gcc on POWER: -mcpu=native); from build/config.mk.
CFLAGS   ?= -O3 $(NATIVE_CFLAGS)
OMPFLAGS ?= -fopenmp

# FLAVOR=asan or FLAVOR=tsan: the sanitizer builds the tests run, kept apart
# in bin/asan/ and bin/tsan/ so they never mix with the timed binaries.
FLAVOR ?=
ifeq ($(FLAVOR),asan)
FLAVOR_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(FLAVOR),tsan)
FLAVOR_FLAGS := -O1 -g -fsanitize=thread
else ifneq ($(FLAVOR),)
$(error FLAVOR=$(FLAVOR): use FLAVOR=asan, FLAVOR=tsan, or leave it out)
endif
BIN   := bin$(if $(FLAVOR),/$(FLAVOR))
BUILD := build$(if $(FLAVOR),/$(FLAVOR))

# $(call shell_quoted,TEXT): TEXT as one word for a recipe's shell, whatever it holds
# (a space, a quote: RESULTS='my results', CFLAGS="-DNAME='x'"); $(call
# environment,NAMES): NAME='value' for each, the value of the make variable.
shell_quoted = '$(subst ','\'',$(1))'
environment = $(foreach name,$(1),$(name)=$(call shell_quoted,$($(name))))

# -Werror in CI, so a warning cannot land; everywhere else warnings stay warnings.
WARNINGS   := -Wall -Wextra $(if $(filter true,$(CI)),-Werror)
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -Icommon $(CURL_CFLAGS) $(WARNINGS) $(CFLAGS) $(FLAVOR_FLAGS)

# ---- what the machine has: build/config.mk, written by tools/configure.sh ---
CONFIG     := build/config.mk
# PYTHON=0 (make bench PYTHON=0) leaves the Python lane out of the sweep; it
# names no interpreter, so the harness keeps the one configure found.
ifeq ($(PYTHON),0)
override undefine PYTHON
BENCH_PYTHON_LANE := no
endif
# What the user chose, taken before build/config.mk sets its own values.
USER_BLAS_LIBS := $(BLAS_LIBS)
USER_PYTHON    := $(PYTHON)
USER_PYTHON_LANE := $(PYTHON_LANE)
# The toolchain as chosen, and the modules loaded (module load gcc/13 changes
# the compiler CC=gcc names); configure looks again when it differs.
CONFIG_SIG := $(CC)|$(MPICC)|$(MPIRUN)|$(OMPFLAGS)|$(USER_BLAS_LIBS)|$(USER_PYTHON)|$(USER_PYTHON_LANE)|$(LOADEDMODULES)
# The package managers' databases: an install since configure ran changes them.
PACKAGE_DATABASES := $(wildcard /var/lib/dpkg/status /var/lib/rpm/Packages /var/lib/rpm/rpmdb.sqlite)
NO_CONFIG_GOALS := help clean config
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(CONFIG)
# The programs configure found, by path, that are no longer there (an
# interpreter removed, a module unloaded); not those given on the command line.
CONFIG_GONE := $(strip $(foreach v,PYTHON PYTHON_LANE PYTHON_MPL GNUPLOT,$(if $(filter file,$(origin $(v))),\
                 $(if $($(v)),$(if $(wildcard $($(v))),,$(v))))))
# Look again when the toolchain changed or something found is gone, and when
# something was missing last time and packages were installed since; once per
# make, not after restarts. (A FORCE prerequisite, not .PHONY: make re-reads
# a remade include only then.)
ifeq ($(MAKE_RESTARTS),)
ifneq ($(CONFIG_SIG)|$(CONFIG_GONE),$(CONFIGURED_SIG)|)
$(CONFIG): FORCE
endif
ifeq ($(CONFIG_COMPLETE),no)
$(CONFIG): $(PACKAGE_DATABASES)
endif
endif
endif
FORCE:

$(CONFIG): tools/configure.sh
	@mkdir -p $(@D)
	@$(call environment,CC MPICC MPIRUN OMPFLAGS CONFIG_SIG) BLAS_LIBS=$(call shell_quoted,$(USER_BLAS_LIBS)) \
	  PYTHON=$(call shell_quoted,$(USER_PYTHON)) PYTHON_LANE=$(call shell_quoted,$(USER_PYTHON_LANE)) \
	  tools/configure.sh $@

# ---- what to build ----------------------------------------------------------
# Every <model>/<workload>.c becomes bin/<workload>-<model>, for the models
# whose toolchain was found and the workloads whose library was found.
# A workload names: its objects beyond libcommon (from common/), the
# libraries it links, and the configure result it needs (yes when none).
matmul_OBJS    := matmul.o matmul_kernel.o
LIBS_matmul    := -lm
NEEDS_matmul   := yes
factorial_OBJS := factorial.o factorial_big.o factorial_memory.o factorial_kernel.o factorial_pipe.o halves.o
LIBS_factorial := $(GMP_LIBS) -lm
NEEDS_factorial := $(HAVE_GMP)
download_OBJS  := download.o download_list.o download_fetch.o download_check.o content.o
LIBS_download  := $(CURL_LIBS) -lm
NEEDS_download := $(HAVE_CURL)
# The file server needs no library beyond the C library; these are its objects from common/.
fileserver_OBJS := content.o
LIBS_fileserver := -lm
COMMON_OBJS    := child.o cli.o clock.o fdio.o memory.o mix.o pipe.o rank_rows.o report.o run.o

ALL_MODELS := serial threads processes openmp mpi
BUILT_MODELS := serial threads processes $(if $(filter yes,$(HAVE_OPENMP)),openmp) $(if $(filter yes,$(HAVE_MPI)),mpi)
ALL_WORKLOADS := $(basename $(notdir $(wildcard serial/*.c)))
BUILT_WORKLOADS := $(foreach w,$(ALL_WORKLOADS),$(if $(filter yes,$(NEEDS_$(w))),$(w)))
variants    = $(foreach w,$(2),$(foreach m,$(1),$(if $(wildcard $(m)/$(w).c),$(BIN)/$(w)-$(m))))

# Reference lanes (what a user would pick instead) and the I/O study's own programs.
REFERENCES := $(if $(filter yes,$(HAVE_BLAS)),$(BIN)/matmul-blas) \
              $(if $(and $(filter factorial,$(BUILT_WORKLOADS)),$(wildcard reference/factorial.c)),$(BIN)/factorial-gmp)
IO_PROGRAMS := $(if $(wildcard io_bound/fileserver.c),$(BIN)/fileserver) \
               $(if $(and $(filter download,$(BUILT_WORKLOADS)),$(wildcard io_bound/download.c)),$(BIN)/download-async)

PROGRAMS := $(call variants,$(BUILT_MODELS),$(BUILT_WORKLOADS)) $(REFERENCES) $(IO_PROGRAMS)
SKIPPED  := $(filter-out $(PROGRAMS),$(call variants,$(ALL_MODELS),$(ALL_WORKLOADS)) \
              $(BIN)/matmul-blas $(if $(wildcard reference/factorial.c),$(BIN)/factorial-gmp) \
              $(if $(wildcard io_bound/download.c),$(BIN)/download-async))

# The lessons' bug/fix pairs, in bin/lessons/ (out of the harness's sight).
LESSON_EXAMPLES     := race race_fixed false_sharing false_sharing_fixed zombies zombies_fixed
LESSON_MPI_EXAMPLES := deadlock deadlock_fixed
LESSON_PROGRAMS := $(addprefix $(BIN)/lessons/,$(LESSON_EXAMPLES) \
                     $(if $(filter yes,$(HAVE_MPI)),$(LESSON_MPI_EXAMPLES)))
PROGRAMS += $(LESSON_PROGRAMS)

# tools/mpirun asks this probe whether Open MPI may copy between processes;
# make doctor and bench-matmul ask build/peak for a core's peak GFLOP/s; make doctor and the
# speed checks ask build/faults what a page fault costs here.
PROBE := $(if $(filter yes,$(HAVE_MPI)),build/cma-probe) build/peak build/faults
# The tests make chosen C library calls fail with this (LD_PRELOAD).
TEST_HELPERS := build/fail_calls.so

# What to install, said where something is missing: configure said it when it looked, which may
# have been many makes ago (MISSING_DEBIAN: the Debian packages of everything it did not find).
MISSING_SAID = $(if $(MISSING_DEBIAN),everything missing$(comma) as root on Debian or Ubuntu: apt-get install \
  $(MISSING_DEBIAN) (then make again; make config says what each is for),see tools/configure.sh's message)

# What is not built is said once: SKIPPED_SAID=yes from a make that has said it (make test, to its sanitizer builds).
SKIPPED_UNSAID := $(if $(filter yes,$(SKIPPED_SAID)),,$(strip $(SKIPPED)))
.PHONY: all
all: $(PROGRAMS) $(PROBE) $(TEST_HELPERS)
ifneq ($(SKIPPED_UNSAID),)
	@echo "make: not built (a compiler or library is missing): $(notdir $(SKIPPED))" >&2
	@echo "make: $(MISSING_SAID)" >&2
endif

$(BIN) $(BUILD):
	@mkdir -p $@

# ---- what the programs are built with ----------------------------------------
# $(BUILD)/flags: the compilers (as named, where they are, their version) and
# every flag, one NAME=value a line. Every object and program depends on it, and
# it is rewritten only when it changes: a changed CC, MPICC, CFLAGS, OMPFLAGS,
# library flag or compiler rebuilds what they compile, and a make with nothing
# changed rebuilds nothing. meta.json records it (tools/harness/machine.py).
BUILD_FLAGS := $(BUILD)/flags
# compiler_said(NAME, COMMAND): where the compiler is and the first line of its --version.
compiler_said = printf '%s_PATH=%s\n%s_VERSION=%s\n' $(1) "$$(command -v $(firstword $(2)))" \
                  $(1) "$$($(2) --version 2>/dev/null | head -n 1)"
# With -march=native (or the like) the build is for this machine's CPU: a build on another (a shared
# home seen from another kind of node) is not this one.
NATIVE_FLAGS := -march=native -mtune=native -mcpu=native -xHost
# The new description is written in TMPDIR and compared there: a checkout this user may not
# write to (a workshop's shared one, built by its owner) runs make bench RESULTS=DIR as it is.
$(BUILD_FLAGS): FORCE | $(BUILD)
	@new=$$(mktemp 2>/dev/null || mktemp -p /tmp) || exit 1; \
	 { printf '# Written by make: what the programs in $(BIN)/ are built with.\n'; \
	   printf '%s\n' $(foreach v,CC MPICC CFLAGS OMPFLAGS ALL_CFLAGS GMP_LIBS CURL_LIBS BLAS_CFLAGS BLAS_LIBS,\
	     $(call shell_quoted,$(v)=$(strip $($(v))))); \
	   $(call compiler_said,CC,$(CC)); $(call compiler_said,MPICC,$(MPICC)); \
	   $(if $(filter $(NATIVE_FLAGS),$(CFLAGS)),printf 'NATIVE_CPU=%s\n' \
	     "$$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)";) \
	 } >"$$new" && \
	 if cmp -s "$$new" $@; then rm -f "$$new"; else \
	   if test -e $@; then echo "make: the build changed ($@); rebuilding what it builds, now with:" >&2; \
	     grep -vxF -f $@ "$$new" | sed 's/^/  /' >&2; fi; \
	   cp "$$new" $@.new.$$$$ && mv -f $@.new.$$$$ $@; status=$$?; rm -f "$$new" $@.new.$$$$; exit $$status; fi

# ---- one template for every program -----------------------------------------
# A model names its compiler, its flags beyond ALL_CFLAGS, and its team object
# (who takes part in a run: this process alone, or every MPI rank; common/team.h).
COMPILER_serial    = $(CC)
FLAGS_serial      :=
TEAM_serial       := team_single.o
COMPILER_threads   = $(CC)
FLAGS_threads     := -pthread
TEAM_threads      := team_single.o
COMPILER_processes = $(CC)
FLAGS_processes   :=
TEAM_processes    := team_single.o
COMPILER_openmp    = $(CC)
FLAGS_openmp       = $(OMPFLAGS)
TEAM_openmp       := team_openmp.o
COMPILER_mpi       = $(MPICC)
FLAGS_mpi         :=
TEAM_mpi          := team_mpi.o

DEPFLAGS = -MMD -MP -MF $(BUILD)/$(@F).d

# PROGRAM(name, source, library, model): bin/<name> from source, compiled and
# linked as the model's programs are, with build/lib<library>.a (the library's
# objects from common/, <library>_OBJS) and its LIBS_<library>; a program may
# add EXTRA_CFLAGS_<name> and EXTRA_LIBS_<name>.
define PROGRAM
$$(BIN)/$(1): $(2) $$(BUILD)/lib$(3).a $$(BUILD)/libcommon.a $$(BUILD)/$$(TEAM_$(4)) $$(BUILD_FLAGS) | $$(BIN)
	$$(COMPILER_$(4)) $$(ALL_CFLAGS) $$(FLAGS_$(4)) $$(EXTRA_CFLAGS_$(1)) $$(DEPFLAGS) -o $$@ $$< \
	  $$(BUILD)/lib$(3).a $$(BUILD)/libcommon.a $$(BUILD)/$$(TEAM_$(4)) $$(EXTRA_LIBS_$(1)) $$(LIBS_$(3))
endef

# Every <model>/<workload>.c: bin/<workload>-<model>.
$(foreach w,$(ALL_WORKLOADS),$(foreach m,$(ALL_MODELS),$(if $(wildcard $(m)/$(w).c),\
  $(eval $(call PROGRAM,$(w)-$(m),$(m)/$(w).c,$(w),$(m))))))

# The reference lanes: what a user would pick instead of writing the kernel.
EXTRA_CFLAGS_matmul-blas = $(BLAS_CFLAGS)
EXTRA_LIBS_matmul-blas   = $(BLAS_LIBS)
$(eval $(call PROGRAM,matmul-blas,reference/matmul.c,matmul,serial))
$(eval $(call PROGRAM,factorial-gmp,reference/factorial.c,factorial,serial))

# The I/O study: the event-driven client (one thread, libcurl's multi
# interface) and the local file server that plays the internet.
$(eval $(call PROGRAM,download-async,io_bound/download.c,download,serial))
$(eval $(call PROGRAM,fileserver,io_bound/fileserver.c,fileserver,serial))

$(addprefix $(BIN)/lessons/,$(LESSON_EXAMPLES)): $(BIN)/lessons/%: lessons/examples/%.c $(BUILD_FLAGS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread $(DEPFLAGS) -o $@ $<

$(addprefix $(BIN)/lessons/,$(LESSON_MPI_EXAMPLES)): $(BIN)/lessons/%: lessons/examples/%.c $(BUILD_FLAGS) | $(BUILD)
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $<

build/cma-probe: tools/cma_probe.c $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) -O2 -o $@ $<

build/peak build/faults: build/%: tools/%.c $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) -O2 -o $@ $<

build/fail_calls.so: tests/fail_calls.c $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) -O2 -shared -fPIC -o $@ $< -ldl

# ---- the shared code ---------------------------------------------------------
$(BUILD)/%.o: common/%.c $(BUILD_FLAGS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/team_mpi.o: common/team_mpi.c $(BUILD_FLAGS) | $(BUILD)
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The OpenMP programs' team: team_single.c with OpenMP, which holds their teams to -p threads.
$(BUILD)/team_openmp.o: common/team_single.c $(BUILD_FLAGS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(OMPFLAGS) -MMD -MP -c -o $@ $<

# Each archive is made afresh: ar would keep members the list no longer names.
$(BUILD)/libcommon.a: $(addprefix $(BUILD)/,$(COMMON_OBJS))
	@rm -f $@
	$(AR) rcs $@ $^

.SECONDEXPANSION:
$(BUILD)/lib%.a: $$(addprefix $(BUILD)/,$$($$*_OBJS))
	@rm -f $@
	$(AR) rcs $@ $^

-include $(wildcard $(BUILD)/*.d)

# ---- the file server's parts, the HTTP parser's test driver, the fuzz targets ----
# bin/fileserver is io_bound/fileserver.c (main and its flags) linked with its
# parts: the HTTP request parser, the poll() loop, the responses
# (io_bound/fileserver.h says which is which); built in $(BUILD)/io_bound/.
FILESERVER_PARTS := http.o fileserver_loop.o fileserver_response.o
fileserver_OBJS  += $(addprefix io_bound/,$(FILESERVER_PARTS))
$(BIN)/fileserver: $(addprefix $(BUILD)/io_bound/,$(FILESERVER_PARTS))

# The libraries' objects reach make only through the lib%.a pattern above,
# which makes them intermediate: they are kept, and not rebuilt when removed,
# by name. (.SECONDARY: naming nothing makes every target secondary, FORCE
# too, which then never fired: a changed compiler went unnoticed.)
.SECONDARY: $(addprefix $(BUILD)/,$(sort $(foreach w,$(ALL_WORKLOADS) fileserver,$($(w)_OBJS))))

$(BUILD)/io_bound/%.o: io_bound/%.c $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The HTTP parser alone, driven by tests/test_http.py's table of requests.
HTTP_DRIVER := $(BIN)/tests/http-parse
all: $(HTTP_DRIVER)
$(HTTP_DRIVER): tests/http_parse.c $(BUILD)/io_bound/http.o $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iio_bound $(DEPFLAGS) -o $@ $< $(BUILD)/io_bound/http.o

-include $(wildcard $(BUILD)/io_bound/*.d)

# common/halves.c (a product from its two residues) against GMP's own
# products, driven by tests/test_factorial.py.
HALVES_CHECK := $(BIN)/tests/halves-check
ifeq ($(HAVE_GMP),yes)
all: $(HALVES_CHECK)
endif
$(HALVES_CHECK): tests/halves_check.c $(BUILD)/libfactorial.a $(BUILD)/libcommon.a $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/libfactorial.a $(BUILD)/libcommon.a $(LIBS_factorial)

# libFuzzer targets, where tools/configure.sh found clang's -fsanitize=fuzzer:
# tests/fuzz/<target>.c and the code it calls, built apart with clang in
# build/fuzz/ (coverage, ASan, UBSan) into bin/fuzz/<target>. tests/fuzz/run
# runs one: `make fuzz` each for FUZZ_SECONDS (new inputs kept in
# build/fuzz/<target>/), `make test` each for a few seconds (tests/test_fuzz.py).
FUZZ_TARGETS  := http cli
FUZZ_SECONDS  ?= 60
FUZZ_CODE_http := io_bound/http.c
FUZZ_CODE_cli  := common/cli.c common/report.c common/clock.c common/memory.c common/fdio.c common/pipe.c common/child.c common/team_single.c
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -Icommon -Iio_bound $(WARNINGS) -O1 -g -fno-omit-frame-pointer \
                 -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_PROGRAMS := $(if $(filter yes,$(HAVE_FUZZ)),$(addprefix bin/fuzz/,$(FUZZ_TARGETS)))

build/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

fuzz_objects = $(patsubst %.c,build/fuzz/%.o,$(FUZZ_CODE_$(1)))
$(addprefix bin/fuzz/,$(FUZZ_TARGETS)): bin/fuzz/%: build/fuzz/tests/fuzz/%.o $$(call fuzz_objects,$$*)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

-include $(wildcard build/fuzz/*/*.d build/fuzz/*/*/*.d)

.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_PROGRAMS)
ifneq ($(HAVE_FUZZ),yes)
	@echo "make: fuzz targets not built: clang with libFuzzer not found" \
	  "(apt-get install $(FUZZ_PACKAGES)); their tests are skipped" >&2
endif

test: fuzz-targets

fuzz: $(FUZZ_PROGRAMS)
	@test "$(HAVE_FUZZ)" = yes || \
	  { echo "make fuzz: needs clang with libFuzzer (apt-get install $(FUZZ_PACKAGES))" >&2; exit 1; }
	@for target in $(FUZZ_TARGETS); do tests/fuzz/run $$target $(FUZZ_SECONDS) build/fuzz/$$target || exit 1; done

# ==== the Python lane ========================================================
# python/<model>/<workload>.py becomes bin/<workload>-py-<model>: a small
# launcher that execs the interpreter tools/configure.sh found (PYTHON_LANE:
# one that imports the lane's packages; the first python3 on PATH may not) on
# the file, by absolute paths, so it runs from any current directory. A
# program whose packages that interpreter lacks is not made, and `make` names
# it with the Debian package that would enable it. Not in sanitizer builds.
# PY_NEEDS_<workload or model>: the Python modules it imports (configure
# writes the ones found as PY_PACKAGES), and the Debian package of each;
# mpirun, which runs the mpi4py programs, counts as one (HAVE_MPIRUN).
PY_NEEDS_matmul   := numpy threadpoolctl
PY_NEEDS_download := requests crcmod
PY_NEEDS_joblib   := joblib
PY_NEEDS_mpi4py   := mpi4py mpirun
PY_NEEDS_dask     := dask
PY_DEBIAN_numpy := python3-numpy
PY_DEBIAN_threadpoolctl := python3-threadpoolctl
PY_DEBIAN_requests := python3-requests
PY_DEBIAN_crcmod := python3-crcmod
PY_DEBIAN_joblib := python3-joblib
PY_NEEDS_ipyparallel := ipyparallel
PY_NEEDS_numba := numba
PY_NEEDS_asyncio := aiohttp
PY_DEBIAN_ipyparallel := python3-ipyparallel
PY_DEBIAN_numba := python3-numba
PY_DEBIAN_aiohttp := python3-aiohttp
PY_DEBIAN_mpi4py := python3-mpi4py
PY_DEBIAN_mpirun := openmpi-bin
PY_DEBIAN_dask := python3-dask
PY_MODELS    := $(filter-out common,$(notdir $(patsubst %/,%,$(wildcard python/*/))))
PY_WORKLOADS  = $(basename $(notdir $(wildcard python/$(1)/*.py)))
PY_FOUND     := $(PY_PACKAGES) $(if $(filter yes,$(HAVE_MPIRUN)),mpirun)
py_missing    = $(filter-out $(PY_FOUND),$(PY_NEEDS_$(1)) $(PY_NEEDS_$(2)))
PY_ALL       := $(foreach m,$(PY_MODELS),$(foreach w,$(call PY_WORKLOADS,$(m)),$(w)-py-$(m)))
PY_PROGRAMS  := $(if $(PYTHON_LANE),$(foreach m,$(PY_MODELS),$(foreach w,$(call PY_WORKLOADS,$(m)),\
                  $(if $(call py_missing,$(w),$(m)),,bin/$(w)-py-$(m)))))
PY_SKIPPED   := $(filter-out $(notdir $(PY_PROGRAMS)),$(PY_ALL))

# The CRC-32C the Python clients compute as each chunk arrives (below).
PY_CRC_LIBRARY := build/libcontent.so
ifeq ($(FLAVOR),)
all: $(PY_PROGRAMS) $(if $(filter bin/download-py-%,$(PY_PROGRAMS)),$(PY_CRC_LIBRARY)) \
     $(if $(PY_SKIPPED),python-lane-skipped)
endif

# The bytecode of the suite's Python sources (the lane's, the harness's, the tests'), compiled
# by the build, as Debian compiles its packages' when it installs them, with each interpreter
# that runs them: PYTHON (the harness, the tests) and PYTHON_LANE (bin/*-py-*). An interpreter
# that finds none compiles every module it imports, at every start; where PYTHONDONTWRITEBYTECODE
# is set (container images set it) it never keeps what it compiled, and each of the Python
# processes of make test (about two thousand) compiled the suite's modules again (on a 2-vCPU
# AMD EPYC Zen 5 VM, the cases' CPU time: about 1050 s so, 983-1008 s with the bytecode there;
# their wall time moves more than that from run to run). The interpreter still checks each
# file against its source (its modification time and size), so an edited source is never run
# from stale bytecode. The files go in __pycache__ folders, which git ignores and make clean
# removes; where they were removed by other means, the next make compiles them again.
PY_SOURCES := $(wildcard python/*/*.py tools/*.py tools/*/*.py tests/*.py)
PY_BYTECODE := build/bytecode
ifeq ($(FLAVOR),)
all: $(PY_BYTECODE)
endif
$(PY_BYTECODE): $(PY_SOURCES) $(CONFIG) $(if $(wildcard python/common/__pycache__),,FORCE)
	@mkdir -p $(@D)
	@for interpreter in $(sort $(PYTHON) $(PYTHON_LANE)); do \
	  "$$interpreter" -m compileall -q python tools tests >/dev/null || \
	    echo "make: $$interpreter could not compile every Python source (it will compile them as it runs them)" >&2; \
	done; touch $@

# PY_CRC_LIBRARY: the C clients' CRC-32C (common/content.c) as a shared
# library, which python/common/content.py calls through ctypes with the GIL
# let go (crcmod, its fallback, holds the GIL).
$(PY_CRC_LIBRARY): common/content.c common/mix.c common/content.h common/mix.h $(BUILD_FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ common/content.c common/mix.c

# A launcher made before what it needs went away (a module unloaded) is removed:
# it could only fail, and the tests and make bench would run it.
.PHONY: python-lane-skipped
python-lane-skipped:
	@rm -f $(addprefix bin/,$(PY_SKIPPED))
	@echo "make: Python lane not built: $(if $(PYTHON_LANE),$(foreach p,$(PY_SKIPPED),$(p) (needs \
	  $(foreach m,$(call py_missing,$(word 1,$(subst -py-, ,$(p))),$(word 2,$(subst -py-, ,$(p)))),$(PY_DEBIAN_$(m))));),\
	  all of it ($(PY_ALL)): no Python 3 interpreter)" >&2
	$(if $(strip $(SKIPPED)),,@echo "make: $(MISSING_SAID)" >&2)

# bin/<workload>-py-<model>: exec the interpreter on the file, arguments passed on.
define PY_LAUNCHER
bin/$(1)-py-$(2): python/$(2)/$(1).py $(CONFIG) | bin
	@printf '#!/bin/sh\n# bin/%s: made by make from python/%s/%s.py; runs it with %s.\nexec %s %s "$$$$@"\n' \
	  '$$(@F)' '$(2)' '$(1)' '$(PYTHON_LANE)' "'$(PYTHON_LANE)'" "'$(CURDIR)/python/$(2)/$(1).py'" >$$@.tmp
	@chmod +x $$@.tmp && mv $$@.tmp $$@ && echo "made $$@ (python/$(2)/$(1).py)"
endef
$(foreach m,$(PY_MODELS),$(foreach w,$(call PY_WORKLOADS,$(m)),$(eval $(call PY_LAUNCHER,$(w),$(m)))))
# ==== end of the Python lane =================================================

# ---- tests, benchmarks, housekeeping ----------------------------------------
.PHONY: test fuzz sanitizers bench plot compare bench-matmul bench-factorial bench-download bench-python doctor config \
        clean help

# The first line of every recipe that runs Python: stop, saying why, when there is none.
NEEDS_PYTHON = @command -v "$(PYTHON)" >/dev/null 2>&1 || { echo "make $@: needs Python 3$(if $(PYTHON),; PYTHON=$(PYTHON) \
  cannot be run) ($(MISSING_SAID))" >&2; exit 1; }

# The tests run the timed binaries, an ASan+UBSan build of them, and a TSan
# build of the pthreads variants.
# The builds run a job per core (BUILD_JOBS=1 for one at a time); the
# tests then run side by side themselves (tests/run_tests.py --jobs).
BUILD_JOBS ?= $(shell tools/cores 2>/dev/null || echo 1)
test:
	$(MAKE) --no-print-directory -j$(BUILD_JOBS) all
	$(MAKE) --no-print-directory -j$(BUILD_JOBS) sanitizers SKIPPED_SAID=yes
	$(NEEDS_PYTHON)
	$(PYTHON) tests/run_tests.py --slowest 12

sanitizers:
	$(MAKE) --no-print-directory FLAVOR=asan all
	$(MAKE) --no-print-directory FLAVOR=tsan $(patsubst bin/%,bin/tsan/%,$(call variants,threads,$(BUILT_WORKLOADS))) \
	  bin/tsan/lessons/race bin/tsan/lessons/race_fixed

# The sweep. PRESET=quick|full, WORKLOADS=, MODELS=, WORKERS=, SIZES=, REPEATS=,
# SEED=, CLUSTER=, RATE=, FORCE=1 and RESUME=1 reach tools/bench.py through the environment;
# RESULTS=DIR is the folder the sweep's folder goes in (default results/; RESUME=1 looks there).
BENCH_ENV = $(call environment,CC CFLAGS OMPFLAGS MPICC GNUPLOT PYTHON_MPL PYTHON_LANE)

bench: all
	$(NEEDS_PYTHON)
	@$(BENCH_ENV) $(PYTHON) tools/bench.py $(if $(BENCH_PYTHON_LANE),--no-python) \
	  $(if $(RESULTS),--results $(call shell_quoted,$(RESULTS)))

# Redraw the plots and the report of a results folder (default: the latest; a
# folder make bench RESULTS= wrote into: its latest).
plot:
	$(NEEDS_PYTHON)
	@$(BENCH_ENV) $(PYTHON) tools/bench.py --plot $(call shell_quoted,$(or $(RESULTS),results/latest))

# Two results folders side by side (tools/harness/compare.py): RESULTS= (default:
# the latest) held against WITH=, e.g. a reference run of results/reference/.
compare:
	$(NEEDS_PYTHON)
	@test -n $(call shell_quoted,$(WITH)) || { echo "make compare: say which sweep to hold" \
	  $(call shell_quoted,$(or $(RESULTS),results/latest)) "against: WITH=results/<folder>, or a reference run:" \
	  $(patsubst %/,WITH=%,$(wildcard results/reference/*/)) >&2; exit 2; }
	@$(PYTHON) tools/harness/compare.py $(call shell_quoted,$(or $(RESULTS),results/latest)) $(call shell_quoted,$(WITH))

# What make bench will do on this machine, and why. PY_SKIPPED_NEEDS: each
# Python program not built, with the Debian packages it lacks (program:package,package).
comma := ,
empty :=
space := $(empty) $(empty)
py_skipped_needs = $(foreach p,$(PY_SKIPPED),$(p):$(subst $(space),$(comma),$(strip $(foreach m,$(call \
  py_missing,$(word 1,$(subst -py-, ,$(p))),$(word 2,$(subst -py-, ,$(p)))),$(PY_DEBIAN_$(m))))))
doctor:
	$(NEEDS_PYTHON)
	@$(BENCH_ENV) $(call environment,HAVE_OPENMP HAVE_MPI HAVE_GMP HAVE_CURL HAVE_BLAS) \
	  PY_SKIPPED_NEEDS=$(call shell_quoted,$(py_skipped_needs)) \
	  $(PYTHON) tools/doctor.py

# matmul's speed targets, measured in one run: serial against OpenBLAS, and
# parallel efficiency at P = 2 for every model.
bench-matmul: all
	$(NEEDS_PYTHON)
	$(PYTHON) tools/harness/speed_matmul.py

# Each workload's speed targets, the same way; bench-python: the Python lane's
# (the GIL, Pool.map against Pool.apply, NumPy's threads, Python against C).
bench-factorial bench-download bench-python: bench-%: all
	$(NEEDS_PYTHON)
	$(PYTHON) tools/harness/speed_$*.py

config:
	@rm -f $(CONFIG)
	@$(MAKE) --no-print-directory -s $(CONFIG)
	@echo "make config: looked again; found: $$(sed -n 's/^HAVE_\([A-Z]*\) := yes$$/\1/p' $(CONFIG) | tr 'A-Z\n' 'a-z ')(make doctor says more)"

clean:
	rm -rf bin build
	find python tools tests -name __pycache__ -prune -exec rm -rf {} +

help:
	@echo "make              build every program the machine can into bin/<workload>-<model>"
	@echo "                  (the Python lane: bin/<workload>-py-<model>, from python/<model>/<workload>.py)"
	@echo "make test         build, then run the tests (ends with 'N passed, N failed')"
	@echo "make bench        sweep worker counts, record results/<date>-<host>/, plot"
	@echo "                  PRESET=quick|python|full WORKLOADS= MODELS= WORKERS= SIZES= REPEATS= SEED= FORCE=1 RESUME=1"
	@echo "                  RESULTS=dir: record dir/<date>-<host>/ (and dir/latest) instead; RESUME=1 goes on there"
	@echo "                  (quick runs a sample of the Python lane; PRESET=python all of it; PYTHON=0 leaves it out)"
	@echo "                  CLUSTER=N [RATE=unshaped,1gbit,...]: the MPI lanes across N hosts of clusters on this"
	@echo "                  machine, one per link rate, and on this machine alone beside them"
	@echo "make plot         redraw the plots and report of results/latest (RESULTS=dir: that sweep, or dir/latest)"
	@echo "make compare WITH=dir  results/latest (RESULTS=dir for another) against another sweep: what differs, what is faster"
	@echo "make doctor       what the machine has and what make bench will do on it"
	@echo "make bench-matmul, bench-factorial, bench-download   each workload's speed targets (kept in results/speed/)"
	@echo "make bench-python the Python lane's speed targets: the GIL, Pool.map and Pool.apply, NumPy's threads, against C"
	@echo "make sanitizers   the ASan+UBSan and TSan builds the tests use (bin/asan/, bin/tsan/)"
	@echo "make fuzz         run each libFuzzer target (bin/fuzz/) for FUZZ_SECONDS=60; crashes land in build/fuzz/"
	@echo "make config       look for compilers and libraries again (build/config.mk)"
	@echo "make clean        remove bin/ and build/"
	@echo "Variables: CC MPICC MPIRUN CFLAGS OMPFLAGS BLAS_LIBS PYTHON PYTHON_LANE; NO_INSTALL=1 never installs packages"
	@echo "           (PYTHON_LANE: the interpreter bin/*-py-* run, one that imports NumPy and the lane's packages)"
	@echo "           A changed compiler makes make look for libraries again; a changed compiler or flag rebuilds"
	@echo "           what it compiles (build/flags: what bin/ is built with, which meta.json records)"
