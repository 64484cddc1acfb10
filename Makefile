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
CFLAGS   ?= -O3 -march=native
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

# -Werror in CI, so a warning cannot land; everywhere else warnings stay warnings.
WARNINGS   := -Wall -Wextra $(if $(filter true,$(CI)),-Werror)
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -Icommon $(CURL_CFLAGS) $(WARNINGS) $(CFLAGS) $(FLAVOR_FLAGS)

# ---- what the machine has: build/config.mk, written by tools/configure.sh ---
CONFIG     := build/config.mk
# What the user chose, taken before build/config.mk sets its own values.
USER_BLAS_LIBS := $(BLAS_LIBS)
USER_PYTHON    := $(PYTHON)
CONFIG_SIG := $(CC)|$(MPICC)|$(MPIRUN)|$(OMPFLAGS)|$(USER_BLAS_LIBS)|$(USER_PYTHON)
NO_CONFIG_GOALS := help clean config
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(CONFIG)
# Look again when the toolchain changed, or when something was missing last
# time (it may have been installed since); once per make, not after restarts.
# (A FORCE prerequisite, not .PHONY: make re-reads a remade include only then.)
ifeq ($(MAKE_RESTARTS),)
ifneq ($(CONFIG_SIG)|yes,$(CONFIGURED_SIG)|$(CONFIG_COMPLETE))
$(CONFIG): FORCE
endif
endif
endif
FORCE:

$(CONFIG): tools/configure.sh
	@mkdir -p $(@D)
	@CC='$(CC)' MPICC='$(MPICC)' MPIRUN='$(MPIRUN)' OMPFLAGS='$(OMPFLAGS)' BLAS_LIBS='$(USER_BLAS_LIBS)' \
	  PYTHON='$(USER_PYTHON)' CONFIG_SIG='$(CONFIG_SIG)' tools/configure.sh $@

# ---- what to build ----------------------------------------------------------
# Every <model>/<workload>.c becomes bin/<workload>-<model>, for the models
# whose toolchain was found and the workloads whose library was found.
# A workload names: its objects beyond libcommon (from common/), the
# libraries it links, and the configure result it needs (yes when none).
matmul_OBJS    := matmul.o matmul_kernel.o
LIBS_matmul    := -lm
NEEDS_matmul   := yes
factorial_OBJS := factorial.o factorial_kernel.o factorial_pipe.o
LIBS_factorial := $(GMP_LIBS) -lm
NEEDS_factorial := $(HAVE_GMP)
download_OBJS  := download.o content.o
LIBS_download  := $(CURL_LIBS) -lm
NEEDS_download := $(HAVE_CURL)
# The file server needs no library beyond the C library; these are its objects from common/.
fileserver_OBJS := content.o
COMMON_OBJS    := child.o cli.o clock.o fdio.o memory.o mix.o report.o run.o

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

# tools/mpirun asks this probe whether Open MPI may copy between processes.
PROBE := $(if $(filter yes,$(HAVE_MPI)),build/cma-probe)

.PHONY: all
all: $(PROGRAMS) $(PROBE)
ifneq ($(strip $(SKIPPED)),)
	@echo "make: not built (a compiler or library is missing; see tools/configure.sh's message above): $(notdir $(SKIPPED))" >&2
endif

$(BIN) $(BUILD):
	@mkdir -p $@

# ---- one pattern rule per model: they differ only in compiler and flags ----
LINK_INPUTS = $< $(BUILD)/lib$*.a $(BUILD)/libcommon.a
DEPFLAGS    = -MMD -MP -MF $(BUILD)/$(@F).d

$(BIN)/%-serial: serial/%.c $(BUILD)/lib%.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $(LINK_INPUTS) $(BUILD)/team_single.o $(LIBS_$*)

$(BIN)/%-threads: threads/%.c $(BUILD)/lib%.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) -pthread $(DEPFLAGS) -o $@ $(LINK_INPUTS) $(BUILD)/team_single.o $(LIBS_$*)

$(BIN)/%-processes: processes/%.c $(BUILD)/lib%.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $(LINK_INPUTS) $(BUILD)/team_single.o $(LIBS_$*)

$(BIN)/%-openmp: openmp/%.c $(BUILD)/lib%.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(OMPFLAGS) $(DEPFLAGS) -o $@ $(LINK_INPUTS) $(BUILD)/team_single.o $(LIBS_$*)

$(BIN)/%-mpi: mpi/%.c $(BUILD)/lib%.a $(BUILD)/libcommon.a $(BUILD)/team_mpi.o | $(BIN)
	$(MPICC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $(LINK_INPUTS) $(BUILD)/team_mpi.o $(LIBS_$*)

# The reference lanes: what a user would pick instead of writing the kernel.
$(BIN)/matmul-blas: reference/matmul.c $(BUILD)/libmatmul.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(BLAS_CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/libmatmul.a $(BUILD)/libcommon.a \
	  $(BUILD)/team_single.o $(BLAS_LIBS) $(LIBS_matmul)

$(BIN)/factorial-gmp: reference/factorial.c $(BUILD)/libfactorial.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/libfactorial.a $(BUILD)/libcommon.a \
	  $(BUILD)/team_single.o $(LIBS_factorial)

# The I/O study: the event-driven client (one thread, libcurl's multi
# interface) and the local file server that plays the internet.
$(BIN)/download-async: io_bound/download.c $(BUILD)/libdownload.a $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/libdownload.a $(BUILD)/libcommon.a \
	  $(BUILD)/team_single.o $(LIBS_download)

$(BIN)/fileserver: io_bound/fileserver.c $(addprefix $(BUILD)/,$(fileserver_OBJS)) $(BUILD)/libcommon.a $(BUILD)/team_single.o | $(BIN)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $< $(addprefix $(BUILD)/,$(fileserver_OBJS)) $(BUILD)/libcommon.a \
	  $(BUILD)/team_single.o -lm

$(addprefix $(BIN)/lessons/,$(LESSON_EXAMPLES)): $(BIN)/lessons/%: lessons/examples/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread $(DEPFLAGS) -o $@ $<

$(addprefix $(BIN)/lessons/,$(LESSON_MPI_EXAMPLES)): $(BIN)/lessons/%: lessons/examples/%.c
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) $(DEPFLAGS) -o $@ $<

build/cma-probe: tools/cma_probe.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) -O2 -o $@ $<

# ---- the shared code ---------------------------------------------------------
$(BUILD)/%.o: common/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/team_mpi.o: common/team_mpi.c | $(BUILD)
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libcommon.a: $(addprefix $(BUILD)/,$(COMMON_OBJS))
	$(AR) rcs $@ $^

# Keep the objects: they are intermediate to make, but rebuilt needlessly if removed.
.SECONDARY:

.SECONDEXPANSION:
$(BUILD)/lib%.a: $$(addprefix $(BUILD)/,$$($$*_OBJS))
	$(AR) rcs $@ $^

-include $(wildcard $(BUILD)/*.d)

# ---- tests, benchmarks, housekeeping ----------------------------------------
.PHONY: test sanitizers bench plot bench-matmul bench-factorial bench-download doctor config clean help

# The tests run the timed binaries, an ASan+UBSan build of them, and a TSan
# build of the pthreads variants.
test: all sanitizers
	@test -n "$(PYTHON)" || { echo "make test: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	$(PYTHON) tests/run_tests.py

sanitizers:
	$(MAKE) --no-print-directory FLAVOR=asan all
	$(MAKE) --no-print-directory FLAVOR=tsan $(patsubst bin/%,bin/tsan/%,$(call variants,threads,$(BUILT_WORKLOADS))) \
	  bin/tsan/lessons/race bin/tsan/lessons/race_fixed

# The sweep. PRESET=quick|full, WORKLOADS=, MODELS=, WORKERS=, SIZES=, REPEATS=,
# SEED=, FORCE=1 and RESUME=1 reach tools/bench.py through the environment.
BENCH_ENV = CC='$(CC)' CFLAGS='$(CFLAGS)' OMPFLAGS='$(OMPFLAGS)' MPICC='$(MPICC)' \
            GNUPLOT='$(GNUPLOT)' PYTHON_MPL='$(PYTHON_MPL)'

bench: all
	@test -n "$(PYTHON)" || { echo "make bench: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	@$(BENCH_ENV) $(PYTHON) tools/bench.py

# Redraw the plots and the report of a results folder (default: the latest).
plot:
	@test -n "$(PYTHON)" || { echo "make plot: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	@$(BENCH_ENV) $(PYTHON) tools/bench.py --plot $(or $(RESULTS),results/latest)

# What make bench will do on this machine, and why.
doctor:
	@test -n "$(PYTHON)" || { echo "make doctor: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	@$(BENCH_ENV) HAVE_OPENMP='$(HAVE_OPENMP)' HAVE_MPI='$(HAVE_MPI)' HAVE_GMP='$(HAVE_GMP)' \
	  HAVE_CURL='$(HAVE_CURL)' HAVE_BLAS='$(HAVE_BLAS)' $(PYTHON) tools/doctor.py

# matmul's speed targets, measured in one run: serial against OpenBLAS, and
# parallel efficiency at P = 2 for every model.
bench-matmul: all
	@test -n "$(PYTHON)" || { echo "make bench-matmul: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	$(PYTHON) tools/harness/speed_matmul.py

# Each workload's speed targets, the same way.
bench-factorial bench-download: bench-%: all
	@test -n "$(PYTHON)" || { echo "make $@: needs Python 3 (see tools/configure.sh's message)" >&2; exit 1; }
	$(PYTHON) tools/harness/speed_$*.py

config:
	@rm -f $(CONFIG)
	@$(MAKE) --no-print-directory $(CONFIG)

clean:
	rm -rf bin build

help:
	@echo "make              build every program the machine can into bin/<workload>-<model>"
	@echo "make test         build, then run the tests (ends with 'N passed, N failed')"
	@echo "make bench        sweep worker counts, record results/<date>-<host>/, plot"
	@echo "                  PRESET=quick|full WORKLOADS= MODELS= WORKERS= SIZES= REPEATS= SEED= FORCE=1 RESUME=1"
	@echo "make plot         redraw the plots and report of results/latest (RESULTS=dir for another)"
	@echo "make doctor       what the machine has and what make bench will do on it"
	@echo "make bench-matmul, bench-factorial, bench-download   each workload's speed targets"
	@echo "make sanitizers   the ASan+UBSan and TSan builds the tests use (bin/asan/, bin/tsan/)"
	@echo "make config       look for compilers and libraries again (build/config.mk)"
	@echo "make clean        remove bin/ and build/"
	@echo "Variables: CC MPICC MPIRUN CFLAGS OMPFLAGS BLAS_LIBS PYTHON; NO_INSTALL=1 never installs packages"
