"""tests/test_cluster.py — a cluster on one machine: tools/cluster, tools/mpirun --cluster, hosts=.

setup() brings up one cluster of 3 hosts for the table, in a folder of its
own (so a cluster of the user's in build/cluster/ is left alone), tied to
this test run (tools/cluster up --down-with: when the run ends, even killed,
the cluster goes down), and starts a file server on its head for download.
teardown() takes both down. Every MPI program runs on it, on 2 hosts
(--hosts 2, block placement) and on 3 (round-robin), with P = 2, 3, 4, and
must say hosts=min(P, hosts). The cases that make clusters of their own (up
and down, an up undone half-way, a killed rank, a cut link, shaping) are
checks in tests/cluster_checks.py, each a case of its own.

Network namespaces need root, or unprivileged user namespaces; where neither
is there, every case is skipped, saying why (and fails under CI=true, like
any skip).
"""
import os
import shutil
import subprocess
import sys
import tempfile

from suite import (ADMIN_PATH, ROOT, Case, needs_mpirun, program, result_lines, stderr_lacks, stderr_says,
                   stdout_empty, stdout_says)
from test_download import FIGURES as DOWNLOAD_FIGURES
from test_factorial import BIG_FIGURES, MANY_FIGURES, figures_agree
from test_matmul import FIGURES as MATMUL_FIGURES

CLUSTER = ROOT / "tools" / "cluster"
MPIRUN = ROOT / "tools" / "mpirun"
CHECKS = ROOT / "tests" / "cluster_checks.py"
# tc on a kernel without the token bucket (sch_tbf: not built, or not loaded and not loadable)
NO_TBF = str(ROOT / "tests" / "data" / "no-tbf" / "tc")
# ip on a kernel without bridges and veth pairs (not built, or not loaded and not loadable)
NO_VETH = str(ROOT / "tests" / "data" / "no-veth" / "ip")
# mount and ip where mounts are denied (a container's AppArmor profile): ip netns add fails
NO_MOUNTS = ROOT / "tests" / "data" / "no-mounts"
HOSTS = 3                                 # the table's cluster
HEAD = "169.254.100.254"                  # its head's address, where the file server listens
WORKERS = (2, 3, 4)                       # P below, at and above the hosts
# What tools/mpirun --cluster needs before it reads the cluster: Open MPI's mpirun.
OPEN_MPI = needs_mpirun()
# setup()'s first job, across two hosts: where it fails, every job on the cluster would, each
# after its case's timeout, so the table fails at once instead, saying why.
FIRST_JOB_SECONDS = 60
# make doctor's section on clusters, alone (the whole of make doctor takes seconds more).
DOCTOR_CLUSTER = "import sys; sys.path.insert(0, %r); import doctor; doctor.cluster()" % str(ROOT / "tools")

# A one-task Slurm job on this machine, as its shell sees it (Open MPI reads these).
IN_SLURM_JOB = {"SLURM_JOB_ID": "1", "SLURM_JOBID": "1", "SLURM_NODELIST": "localhost",
                "SLURM_JOB_NODELIST": "localhost", "SLURM_TASKS_PER_NODE": "1", "SLURM_NNODES": "1",
                "SLURM_JOB_NUM_NODES": "1", "SLURM_NTASKS": "1"}

# What setup() made: the cluster's folder, the file server and its port, why not (if not).
STATE = {"tmp": None, "dir": None, "server": None, "port": 0, "unavailable": None, "cases": 0}


def unavailable():
    """Why this machine cannot make network namespaces for this user, or None when it can
    (as root, or through unprivileged user namespaces: what tools/cluster up tries)."""
    tries = ([["unshare", "--net", "true"]] if os.geteuid() == 0 else []) + \
        [["unshare", "--user", "--map-root-user", "--net", "--uts", "true"]]
    errors = []
    for argv in tries:
        try:
            probe = subprocess.run(argv, capture_output=True, text=True)
        except OSError as e:
            errors.append("%s: %s" % (argv[0], e))
            continue
        if probe.returncode == 0:
            return None
        errors.append(probe.stderr.strip())
    who = "root without the right to make network namespaces" if os.geteuid() == 0 else "not root"
    return "no network namespaces here: %s, and no unprivileged user namespaces (%s)" % (who, "; ".join(errors))


def userns_work():
    """Unprivileged user namespaces work here (what tools/cluster up --userns makes)."""
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--uts", "true"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


def user_path():
    """The PATH without the administration directories, as a normal user's on Debian
    (ip and tc are in /usr/sbin, which it leaves out)."""
    left_out = set(ADMIN_PATH.split(os.pathsep)) | {"/usr/local/sbin"}
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d not in left_out)


def cluster_env(extra=None):
    """The environment of a case on the table's cluster."""
    env = {"CLUSTER_DIR": STATE["dir"] or "/nonexistent/cluster"}
    env.update(extra or {})
    return env


def setup():
    """Bring up the table's cluster and a file server on its head."""
    STATE["unavailable"] = unavailable()
    if STATE["unavailable"]:
        return
    STATE["tmp"] = tempfile.mkdtemp(prefix="cluster-tests-")
    STATE["dir"] = os.path.join(STATE["tmp"], "cluster")
    env = dict(os.environ, CLUSTER_DIR=STATE["dir"])
    up = subprocess.run([str(CLUSTER), "up", str(HOSTS), "--down-with", str(os.getpid())], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=120)
    problem = ("tools/cluster up %d: exit %d: %s" % (HOSTS, up.returncode, up.stderr.strip()) if up.returncode
               else first_job_fails(env))
    if problem:   # the run calls teardown() only after a setup() that worked
        teardown()
        raise RuntimeError(problem)
    if not program("fileserver").exists():
        return
    server = subprocess.Popen([str(CLUSTER), "exec", "head", str(program("fileserver")), "--bind", HEAD,
                               "--port", "0", "--quiet"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    STATE["server"] = server
    first = server.stdout.readline().strip()   # port=NNNN, once it listens
    if not first.startswith("port="):
        teardown()
        raise RuntimeError("the file server on the head did not start: %r" % first)
    STATE["port"] = int(first[len("port="):])


def first_job_fails(env):
    """Why a small job across two of the table's hosts failed, or None when it ran (or
    cannot run here: no MPI, whose cases are skipped)."""
    exe = program("matmul-mpi")
    if not exe.exists() or not os.path.exists(OPEN_MPI[0]):
        return None
    argv = [str(MPIRUN), "--cluster", "--hosts", "2", "-np", "2", str(exe), "-n", "8"]
    try:
        job = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=FIRST_JOB_SECONDS)
    except subprocess.TimeoutExpired:
        return "the first job on the cluster did not end within %d s: %s" % (FIRST_JOB_SECONDS, " ".join(argv))
    if job.returncode != 0:
        return "the first job on the cluster failed (exit %d), as every job on it would: %s: %s" % (
            job.returncode, " ".join(argv), job.stderr.strip()[-600:])
    return None


def teardown():
    """Stop the file server, take the cluster down, remove the folder."""
    server = STATE["server"]
    if server and server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if STATE["dir"]:
        subprocess.run([str(CLUSTER), "down"], cwd=ROOT, env=dict(os.environ, CLUSTER_DIR=STATE["dir"]),
                       capture_output=True, timeout=120)
    if STATE["tmp"]:
        shutil.rmtree(STATE["tmp"], ignore_errors=True)


def hosts_are(expected):
    """Check: every result line says hosts=expected."""
    def check(outcome):
        said = [token for line in outcome.stdout.splitlines() for token in line.split() if token.startswith("hosts=")]
        if not said or any(token != "hosts=%d" % expected for token in said):
            return "expected hosts=%d on every result line, got %s" % (expected, said or "none")
        return None
    return check


def out_dir():
    """A fresh output folder for one download case."""
    STATE["cases"] += 1
    return os.path.join(STATE["tmp"] or tempfile.gettempdir(), "download-%03d" % STATE["cases"])


def workloads():
    """(label, program, arguments, -n, figures, extra checks) of every MPI program and mode."""
    return [
        ("matmul", "matmul-mpi", ["-n", 96], 96, MATMUL_FIGURES, []),
        ("factorial big", "factorial-mpi", ["-n", 20000], 20000, BIG_FIGURES, [figures_agree("big", 20000)]),
        ("factorial many", "factorial-mpi", ["--mode", "many", "-n", 300], 300, MANY_FIGURES,
         [figures_agree("many", 300)]),
        ("download", "download-mpi", None, 12, DOWNLOAD_FIGURES, []),
    ]


def on_the_cluster():
    """Every MPI program on 2 hosts (block) and 3 hosts (round-robin) with P = 2, 3, 4."""
    cases = []
    for label, name, args, n, figures, checks in workloads():
        workload = name.split("-")[0]
        for hosts, placing in ((2, ["--hosts", 2]), (3, ["--map-by", "round-robin"])):
            for p in WORKERS:
                if args is None:   # download: from the file server on the head, into a fresh folder
                    args_now = ["--server", "%s:%d" % (HEAD, STATE["port"]), "--files", n, "--size", "8K",
                                "-o", out_dir()]
                else:
                    args_now = args
                cases.append(Case("%s on %d hosts, P=%d" % (label, hosts, p),
                                  [MPIRUN, "--cluster"] + placing + ["-np", p, program(name)] + args_now, 0,
                                  [result_lines(workload, "mpi", n, p, figures=figures), hosts_are(min(p, hosts))]
                                  + checks, env=cluster_env(), needs=[program(name)]))
    # inside a Slurm job (salloc's shell, srun --pty, tools/bench.sbatch): the job's nodes are not the cluster's
    cases.append(Case("matmul on 2 hosts from inside a one-task Slurm job, P=2",
                      [MPIRUN, "--cluster", "--hosts", 2, "-np", 2, program("matmul-mpi"), "-n", 96], 0,
                      [result_lines("matmul", "mpi", 96, 2, figures=MATMUL_FIGURES), hosts_are(2)],
                      env=cluster_env(IN_SLURM_JOB), needs=[program("matmul-mpi")]))
    # the Python lane's MPI program crosses the hosts the same way (mpi4py on the same Open MPI)
    cases.append(Case("matmul py-mpi4py on 2 hosts, P=2", [MPIRUN, "--cluster", "--hosts", 2, "-np", 2,
                                                          program("matmul-py-mpi4py"), "-n", 96], 0,
                      [result_lines("matmul", "py-mpi4py", 96, 2, figures=MATMUL_FIGURES), hosts_are(2)],
                      env=cluster_env(), needs=[program("matmul-py-mpi4py")]))
    # the server given as 127.0.0.1, as on one machine: each host's loopback is its own, where none listens
    for name in ("download-mpi", "download-py-mpi4py"):
        cases.append(Case("%s on 2 hosts from --server 127.0.0.1: fails, saying a loopback address is each "
                          "host's own" % name,
                          [MPIRUN, "--cluster", "--hosts", 2, "-np", 2, program(name), "--server",
                           "127.0.0.1:%d" % STATE["port"], "--files", 2, "--size", "1K", "-o", out_dir(),
                           "--warmup", 0], 1,
                          [stderr_says("2 of 2 files could not be downloaded",
                                       "127.0.0.1 is a loopback address, and the ranks ran on 2 hosts",
                                       "give an address every host reaches")],
                          env=cluster_env(), needs=[program(name)]))
    return cases


def checks():
    """tests/cluster_checks.py, each check a case."""
    python = sys.executable
    return [
        Case("up, status, a job, down, down again: nothing left (namespaces, links, processes, files)",
             [python, CHECKS, "updown"], needs=[program("matmul-mpi")]),
        Case("the same with --userns (unprivileged user namespaces): the launcher reaches the hosts",
             [python, CHECKS, "updown-userns"], needs=[program("matmul-mpi")]),
        Case("an up that fails half-way undoes what it made", [python, CHECKS, "undo"]),
        Case("a cluster folder another machine sees (a shared home, two login nodes): there, down, up, exec and "
             "mpirun --cluster refuse naming the machine that made it, status says elsewhere; the cluster untouched",
             [python, CHECKS, "elsewhere"], needs=OPEN_MPI),
        Case("mpirun by hand on a --userns cluster's head (lesson 9) beside another user's /tmp/ompi.head.0",
             [python, CHECKS, "by-hand-userns"], needs=[program("matmul-mpi")] + OPEN_MPI),
        Case("a cluster folder with a space in its path: a job across its hosts, down leaves nothing",
             [python, CHECKS, "spaced"], needs=[program("matmul-mpi")]),
        Case("a killed rank ends the job within 10 s, named with its host, no process left",
             [python, CHECKS, "kill"], needs=[program("factorial-mpi")]),
        Case("a cut link ends the job within 10 s, naming the host and its ranks, no process left; a job started "
             "while it is cut fails as soon, saying the host cannot be reached",
             [python, CHECKS, "cut"], needs=[program("factorial-mpi")]),
        Case("shaping: comm at 100 Mbit/s takes the link's time, clearly above unshaped",
             [python, CHECKS, "shaping"], env=cluster_env(), needs=[program("matmul-mpi")]),
        Case("ranks run where tools/mpirun --explain places them (block, round-robin)",
             [python, CHECKS, "placement"], env=cluster_env(), needs=OPEN_MPI),
    ]


# tools/cluster up's bad command lines: exit 2, a message naming the problem, nothing made.
BAD_UP = (
    (["1"], {}, "from 2 to 8, not '1'"),
    (["9"], {}, "from 2 to 8, not '9'"),
    (["two"], {}, "not 'two'"),
    (["08"], {}, "from 2 to 8, not '08'"),
    (["99999999999999999999"], {}, "from 2 to 8, not '99999999999999999999'"),
    ([], {}, "how many hosts"),
    (["2", "3"], {}, "'2' and '3'"),
    (["2", "--frobnicate"], {}, "'--frobnicate'"),
    (["2", "--rate", "fast"], {}, "'fast' is not a rate"),
    (["2", "--rate", "100"], {}, "'100' is not a rate"),
    (["2", "--rate", "0gbit"], {}, "'0gbit' is not a rate"),
    (["2", "--rate", "99999999999tbit"], {}, "from 1kbit to 1000tbit"),
    (["2", "--rate"], {}, "--rate needs a value"),
    (["2", "--down-with", "x"], {}, "--down-with: 'x'"),
    # the packages named as Debian and RHEL (Rocky, Alma: most clusters' login nodes) call them
    (["2"], {"IP": "/nonexistent/ip"},
     "'/nonexistent/ip' not found: it comes with iproute2 (Debian: apt-get install iproute2; RHEL: dnf install "
     "iproute)"),
    (["2", "--rate", "1gbit"], {"TC": "/nonexistent/tc"},
     "'/nonexistent/tc' not found: it comes with iproute2 (Debian: apt-get install iproute2; RHEL: dnf install "
     "iproute-tc)"),
)


def read_only_sysctls(argv):
    """argv run where /proc/sys is read-only, as in a container (Docker's default, with the
    capabilities for namespaces added): in a mount namespace of its own, as root there."""
    as_root = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", "--mount", "--propagation", "private"] + as_root + [
        "sh", "-c", 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$@"', "sh"] + argv


def nothing_made(folder):
    """Check: the case left no cluster folder (and so no cluster) behind."""
    def check(outcome):
        return "it made %s" % folder if os.path.exists(folder) else None
    return check


def bad_input():
    """tools/cluster and tools/mpirun --cluster refuse bad command lines and impossible requests."""
    cases = []
    scratch = os.path.join(STATE["tmp"] or tempfile.gettempdir(), "never-made")
    unmakeable = str(ROOT / "README.md" / "build" / "cluster")   # under a file: root cannot make it either
    for args, env, named in BAD_UP:
        cases.append(Case("cluster up %s%s refused" % (" ".join(args) or "(no N)",
                                                     " with " + " ".join("%s=%s" % kv for kv in env.items())
                                                     if env else ""),
                          [CLUSTER, "up"] + args, 2, [stdout_empty, stderr_says(named), nothing_made(scratch)],
                          env=dict(env, CLUSTER_DIR=scratch)))
    table = cluster_env()
    cases += [
        Case("as a normal user without user namespaces: says why, and what would allow it",
             [CLUSTER, "up", 2], 2, [stderr_says("not root", "user namespaces are not available",
                                                 "what would allow it", "run it as root"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "CLUSTER_TEST_UNPRIVILEGED": "1"}),
        Case("cluster up where its folder cannot be made (a read-only checkout without build/): says so at once",
             [CLUSTER, "up", 2], 2, [stderr_says("cannot write in %s" % unmakeable, "set CLUSTER_DIR"),
                                     stderr_lacks("locked"), stdout_empty],
             env={"CLUSTER_DIR": unmakeable}),
        Case("cluster up with other settings while one is up: refused, the cluster untouched",
             [CLUSTER, "up", 2], 2, [stderr_says("already up", "other settings", "tools/cluster down first")],
             env=table),
        Case("cluster up shaped while an unshaped one is up: refused",
             [CLUSTER, "up", HOSTS, "--rate", "1gbit"], 2, [stderr_says("other settings")], env=table),
        Case("cluster up with the same settings: nothing to do", [CLUSTER, "up", HOSTS], 0,
             [stderr_says("already up")], env=table),
        Case("cluster status of the table's cluster", [CLUSTER, "status"], 0,
             [stdout_says(r"(?m)^cluster=up$"), stdout_says(r"(?m)^hosts=%d$" % HOSTS),
              stdout_says(r"(?m)^rate=unshaped$"), stdout_says(r"(?m)^node3=address:169\.254\.100\.3 .*link:up")],
             env=table),
        Case("cluster status with no cluster: cluster=down, exit 3", [CLUSTER, "status"], 3,
             [stdout_says(r"(?m)^cluster=down$")], env={"CLUSTER_DIR": scratch}),
        Case("cluster down with no cluster: nothing to do", [CLUSTER, "down"], 0,
             [stdout_says("no cluster was up"), nothing_made(scratch)], env={"CLUSTER_DIR": scratch}),
        Case("cluster exec on a host it does not have", [CLUSTER, "exec", "node4", "true"], 2,
             [stderr_says("no host 'node4'")], env=table),
        Case("cluster exec runs on the host, with its name", [CLUSTER, "exec", "node2", "hostname"], 0,
             [stdout_says(r"^node2\n$")], env=table),
        Case("cluster with no command", [CLUSTER], 2, [stderr_says("usage")]),
        Case("cluster check: which kind of cluster up would make here, and the tools it needs",
             [CLUSTER, "check", "--rate"], 0,
             [stdout_says(r"(?m)^mode=%s$" % ("root" if os.geteuid() == 0 else "userns")),
              stdout_says(r"(?m)^tc=/"), nothing_made(scratch)], env={"CLUSTER_DIR": scratch}),
        Case("cluster check with a normal user's PATH (no /usr/sbin): finds tc where it is",
             [CLUSTER, "check", "--rate"], 0, [stdout_says(r"(?m)^tc=/"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "PATH": user_path()}),
        Case("cluster exec with a normal user's PATH (no /usr/sbin): the host's tc and ip run",
             [CLUSTER, "exec", "head", "sh", "-c", "tc qdisc show dev lo && ip -o link show dev lo"], 0,
             [stdout_says(r"\d+: lo:")], env=cluster_env({"PATH": user_path()})),
        Case("cluster check --rate without tc: tc missing, named as Debian and RHEL package it, exit 2",
             [CLUSTER, "check", "--rate"], 2,
             [stdout_says(r"(?m)^tc=missing \(Debian: apt-get install iproute2; RHEL: dnf install iproute-tc\)$"),
              stderr_says("dnf install iproute-tc"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "TC": "/nonexistent/tc"}),
        Case("cluster check without namespaces: mode=none, exit 2, why and what would allow it",
             [CLUSTER, "check"], 2, [stdout_says(r"(?m)^mode=none$"), stdout_says(r"(?m)^userns=no: "),
                                     stderr_says("what would allow it"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "CLUSTER_TEST_UNPRIVILEGED": "1"}),
        Case("cluster check --rate where tc cannot shape a link (no sch_tbf): shaping=no, exit 2, what would allow it",
             [CLUSTER, "check", "--rate"], 2,
             [stdout_says(r"(?m)^shaping=no: tc cannot shape a link here .*qdisc kind is unknown"),
              stderr_says("modprobe sch_tbf"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "TC": NO_TBF}),
        Case("cluster up --rate where tc cannot shape a link (no sch_tbf): exit 2 at once, saying so, nothing made",
             [CLUSTER, "up", 2, "--rate", "1gbit"], 2,
             [stderr_says("tc cannot shape a link here", "modprobe sch_tbf"), stderr_lacks("undoing"),
              nothing_made(scratch)], env={"CLUSTER_DIR": scratch, "TC": NO_TBF}),
        Case("cluster check where the kernel has no bridge or veth (not built, or not loaded and not loadable): "
             "mode=none, exit 2, what would allow it", [CLUSTER, "check"], 2,
             [stdout_says(r"(?m)^mode=none$"), stdout_says(r"(?m)^userns=no: .*cannot have the cluster's links"),
              stderr_says("modprobe bridge veth"), nothing_made(scratch)], env={"CLUSTER_DIR": scratch, "IP": NO_VETH}),
        Case("cluster up where the kernel has no bridge or veth: exit 2 at once, saying so, nothing made",
             [CLUSTER, "up", 2], 2, [stderr_says("cannot have the cluster's links", "modprobe bridge veth"),
                                     stderr_lacks("undoing"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "IP": NO_VETH}),
        Case("cluster check as root where mounts are denied (a container's AppArmor), which ip netns add needs: "
             "root_netns=no, saying why; mode=userns where user namespaces work",
             [CLUSTER, "check"], 0 if userns_work() else 2,
             [stdout_says(r"(?m)^root_netns=no: ip netns cannot name a namespace here .*permission denied"),
              stdout_says(r"(?m)^mode=%s$" % ("userns" if userns_work() else "none")), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch, "IP": str(NO_MOUNTS / "ip"),
                  "PATH": os.pathsep.join([str(NO_MOUNTS), os.environ.get("PATH", "")])},
             needs=[] if os.geteuid() == 0 else ["(root: ip netns)"]),
        Case("cluster check where /proc/sys is read-only (a container): mode=none, exit 2, why and what would allow it",
             read_only_sysctls([CLUSTER, "check"]), 2,
             [stdout_says(r"(?m)^mode=none$"), stdout_says(r"(?m)^root_netns=no: .*tcp_retries2 cannot be written"),
              stderr_says("Read-only file system", "systempaths=unconfined"), nothing_made(scratch)],
             env={"CLUSTER_DIR": scratch}),
        Case("cluster up where /proc/sys is read-only (a container): exit 2 at once, saying so, nothing made",
             read_only_sysctls([CLUSTER, "up", 2]), 2,
             [stderr_says("tcp_retries2 cannot be written", "systempaths=unconfined"), stderr_lacks("undoing"),
              nothing_made(scratch)], env={"CLUSTER_DIR": scratch}),
        Case("make doctor's cluster line: which mode works here, or NONE and why",
             [sys.executable, "-c", DOCTOR_CLUSTER], 0,
             [stdout_says(r"hosts +NONE .*CLUSTER=N exits 2"), stdout_says("what would allow it"),
              stdout_says(r"(?m)^  tc +/")], env={"CLUSTER_TEST_UNPRIVILEGED": "1"}),
        Case("make doctor's cluster line where tc cannot shape a link (no sch_tbf): unshaped only, and why",
             [sys.executable, "-c", DOCTOR_CLUSTER], 0,
             [stdout_says(r"hosts +(ip netns|user namespaces) .*will work, unshaped only \(tc cannot shape"),
              stdout_says("modprobe sch_tbf")], env={"TC": NO_TBF}),
        Case("make doctor's cluster line on this machine", [sys.executable, "-c", DOCTOR_CLUSTER], 0,
             [stdout_says(r"hosts +(ip netns|user namespaces) .*will work")]),
        Case("mpirun --cluster with no cluster up names tools/cluster up",
             [MPIRUN, "--cluster", "-np", 2, program("matmul-mpi")], 2,
             [stderr_says("no cluster is up", "tools/cluster up")], env={"CLUSTER_DIR": scratch},
             needs=[program("matmul-mpi")] + OPEN_MPI),
        Case("mpirun --cluster --hosts past the cluster's", [MPIRUN, "--cluster", "--hosts", 4, "-np", 2, "true"], 2,
             [stderr_says("--hosts (the cluster has 3 hosts) must be a whole number from 1 to 3, not '4'")], env=table,
             needs=OPEN_MPI),
        Case("mpirun --cluster --map-by an unknown placement",
             [MPIRUN, "--cluster", "--map-by", "diagonal", "-np", 2, "true"], 2, [stderr_says("'diagonal'")], env=table),
        Case("mpirun --cluster and --hostfile together", [MPIRUN, "--cluster", "-np", 2, "--hostfile",
                                                          ROOT / "tests" / "data" / "hosts-2x16", "true"], 2,
             [stderr_says("choose one")], env=table),
        Case("mpirun --map-by without --cluster", [MPIRUN, "--map-by", "block", "-np", 2, "true"], 2,
             [stderr_says("only with --cluster")]),
        Case("mpirun --explain --cluster: the placement, the hosts, the transports",
             [MPIRUN, "--explain", 5, "--cluster", "--map-by", "round-robin"], 0,
             [stdout_says(r"(?m)^placement=node1:0,3 node2:1,4 node3:2$"), stdout_says(r"(?m)^cluster_hosts=3$"),
              stdout_says(r"--host node1:2,node2:2,node3:1 --map-by node --bind-to none"),
              stdout_says(r"(?m)^transports=.*tcp"), stdout_says(r"(?m)^cluster_rate=unshaped$")], env=table,
             needs=OPEN_MPI),
        Case("mpirun --explain --cluster --hosts 2, block: 5 ranks are 0 1 2 | 3 4",
             [MPIRUN, "--explain", 5, "--cluster", "--hosts", 2], 0,
             [stdout_says(r"(?m)^placement=node1:0,1,2 node2:3,4$"), stdout_says(r"(?m)^cluster_hosts=2$")],
             env=table, needs=OPEN_MPI),
        Case("mpirun --explain --cluster, block: 2 ranks on 3 hosts run on the first two",
             [MPIRUN, "--explain", 2, "--cluster"], 0, [stdout_says(r"(?m)^placement=node1:0 node2:1$")], env=table,
             needs=OPEN_MPI),
    ]
    return cases


def cases():
    """The table; every case skipped, saying why, where namespaces cannot be made."""
    table = checks() + on_the_cluster() + bad_input()   # the longest first: they overlap the rest
    if STATE["unavailable"]:
        for case in table:   # skipped, the reason said as what is not here
            case.needs = ("(%s)" % STATE["unavailable"],)
    return table
