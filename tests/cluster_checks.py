#!/usr/bin/env python3
"""tests/cluster_checks.py — checks of the cluster on one machine, one per invocation.

Usage: tests/cluster_checks.py updown|updown-userns|undo|spaced|by-hand-userns|elsewhere|kill|cut|shaping|
                               placement
Exit status 0 when the check holds; otherwise a message on stderr and 1.
tests/test_cluster.py runs each as a case of its own.

Every check that needs a cluster of its own brings it up in a folder of its
own, tied to itself (tools/cluster up --down-with), and takes it down in the
end, so none outlives the check even when the check is killed. shaping and
placement also use the table's cluster, named by CLUSTER_DIR.
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suite import admin_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLUSTER = ROOT / "tools" / "cluster"
MPIRUN = ROOT / "tools" / "mpirun"
BIN = ROOT / "bin"

FAULT_LIMIT = 10          # seconds from a rank's death (or its host's cut link) to the job's end
LONG_JOB = ["-n", "300000", "-r", "100000"]   # a factorial job that would run for many minutes
RANK_START_TIMEOUT = 60   # seconds a job may take to start its ranks on a loaded machine
SHAPED_RATE, SHAPED_BITS = "100mbit", 100e6
SHAPING_N = 512           # matmul order: 4 MB across the link at P = 2, a third of a second at 100 Mbit/s
LINK_SHARE = 0.8          # a shaped run takes at least this share of its bytes' time at the rate
ABOVE_UNSHAPED = 3        # and this many times the unshaped run's comm


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def run(argv, env=None, timeout=120, check=True):
    """Run argv to its end; its CompletedProcess (text). check: exit 0 or CheckFailed."""
    done = subprocess.run([str(a) for a in argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise CheckFailed("%s: exit %d: %s" % (" ".join(map(str, argv)), done.returncode, done.stderr.strip()[-600:]))
    return done


def key_values(text):
    """key=value lines as a dict (the first '=' splits)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def result_pairs(line):
    return dict(token.split("=", 1) for token in line.split())


class Cluster:
    """A cluster of the check's own, in a fresh folder: up in __enter__, down in __exit__."""

    def __init__(self, hosts, *options, env=None, prefix="cluster-check-"):
        self.folder = tempfile.mkdtemp(prefix=prefix)
        self.env = dict(env or os.environ, CLUSTER_DIR=os.path.join(self.folder, "cluster"))
        self.hosts, self.options = hosts, options

    def __enter__(self):
        try:
            run([CLUSTER, "up", self.hosts, "--down-with", os.getpid()] + list(self.options), self.env)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        run([CLUSTER, "down"], self.env, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def status(self):
        return key_values(run([CLUSTER, "status"], self.env, check=False).stdout)

    def pids(self, host=""):
        return [int(p) for p in run([CLUSTER, "pids"] + ([host] if host else []), self.env).stdout.split()]


# ---- what a cluster leaves on the machine --------------------------------------------

def namespaces(tag):
    """This machine's named network namespaces of the cluster tag (root only; none otherwise)."""
    if os.geteuid() != 0:
        return []
    listed = run([admin_command("ip"), "netns", "list"]).stdout.split()
    return [name for name in listed if name.startswith(tag + "-")]


def links():
    """The network interfaces of this namespace, by name."""
    return set(re.findall(r"^\d+: ([^:@]+)", run([admin_command("ip"), "-o", "link"]).stdout, re.M))


def marked(mark):
    """The processes whose environment holds mark (e.g. CLUSTER_TAG=cluster-123abc)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def nothing_left(tag, folder, links_before):
    """Check: no namespace, link, marked process or file of the cluster tag is left."""
    expect(not namespaces(tag), "namespaces left behind: %s" % namespaces(tag))
    new_links = links() - links_before
    expect(not new_links, "links left behind in this namespace: %s" % sorted(new_links))
    expect(not marked("CLUSTER_TAG=" + tag), "processes of the cluster left behind: %s" % marked("CLUSTER_TAG=" + tag))
    expect(not Path(folder).exists(), "files left behind in %s: %s" % (folder, os.listdir(folder) if
                                                                       Path(folder).exists() else ""))


# ---- the checks ---------------------------------------------------------------------

def check_updown(userns=False):
    """up, status, (a job), down twice: nothing is left, and the second down is a no-op."""
    links_before = links()
    options = ["--userns"] if userns else []
    with Cluster(2, *options) as cluster:
        status = cluster.status()
        folder, tag = status.get("dir"), status.get("tag", "?")
        expect(status.get("cluster") == "up", "status says cluster=%s" % status.get("cluster"))
        expect(status.get("hosts") == "2", "status says hosts=%s, expected 2" % status.get("hosts"))
        expect(not userns or status.get("mode") == "userns", "--userns made mode=%s" % status.get("mode"))
        for host in ("node1", "node2"):
            expect("link:up" in status.get(host, ""), "%s: %s" % (host, status.get(host)))
        if os.geteuid() == 0 and not userns:
            expect(len(namespaces(tag)) == 3, "expected 3 namespaces (head, node1, node2): %s" % namespaces(tag))
        if userns:   # (the table's cases run every program on the other kind)
            job = run([MPIRUN, "--cluster", "-np", 2, BIN / "matmul-mpi", "-n", 64], cluster.env)
            expect("hosts=2" in job.stdout, "a job on 2 hosts says %r" % job.stdout.strip())
        down = run([CLUSTER, "down"], cluster.env)
        expect("removed" in down.stdout, "down says %r" % down.stdout)
        nothing_left(tag, folder, links_before)
        again = run([CLUSTER, "down"], cluster.env)
        expect("no cluster was up" in again.stdout, "a second down says %r" % again.stdout)
        expect(run([CLUSTER, "status"], cluster.env, check=False).returncode == 3, "status after down: not exit 3")


def check_spaced():
    """A cluster folder whose path has a space in it (a checkout in "My Projects"): a job
    runs across its hosts (Open MPI, which splits its agent setting at spaces, reaches the
    agent through a link of the cluster's own), and down leaves nothing, the link neither."""
    links_before = links()
    with Cluster(2, prefix="cluster check ") as cluster:
        status = cluster.status()
        folder, tag = status.get("dir"), status.get("tag", "?")
        expect(" " in folder, "the folder %r has no space in it" % folder)
        job = run([MPIRUN, "--cluster", "-np", 2, BIN / "matmul-mpi", "-n", 64], cluster.env)
        expect("hosts=2" in job.stdout, "a job on 2 hosts says %r" % job.stdout.strip())
        link = key_values((Path(folder) / "cluster.conf").read_text()).get("agent_link", "")
        expect(link and " " not in link, "cluster.conf's agent_link=%r" % link)
        run([CLUSTER, "down"], cluster.env)
        nothing_left(tag, folder, links_before)
        expect(not Path(link).exists(), "the agent's link %s is left behind" % link)


def check_by_hand_userns():
    """mpirun started by hand on the head of a --userns cluster, as lesson 9 does it (the
    cluster's mca-params.conf, no tools/mpirun), while TMPDIR holds another user's ompi.head.0:
    inside the user namespace every user is uid 0 on a host named head, so Open MPI's session
    folder would be TMPDIR/ompi.head.0 for every student on the machine. The job runs, and
    leaves nothing in TMPDIR."""
    with tempfile.TemporaryDirectory(prefix="cluster-check-tmp-") as tmp:
        theirs = Path(tmp) / "ompi.head.0"   # another user's session folder (or, not root, a file)
        if os.geteuid() == 0:
            theirs.mkdir(mode=0o700)
            os.chown(theirs, 65534, 65534)
        else:
            theirs.write_text("")
        env = dict(os.environ, TMPDIR=tmp, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        env.pop("OMPI_MCA_orte_tmpdir_base", None)   # the lesson's user sets none
        with Cluster(2, "--userns", env=env) as cluster:
            folder = cluster.status().get("dir")
            hostfile = Path(cluster.folder) / "my-hosts"
            hostfile.write_text("node1 slots=1\nnode2 slots=1\n")
            by_hand = dict(cluster.env, OMPI_MCA_mca_base_param_files=os.path.join(folder, "mca-params.conf"))
            job = run([CLUSTER, "exec", "head", "mpirun", "--hostfile", hostfile, "-np", 2, BIN / "matmul-mpi",
                       "-n", 64], by_hand)
            expect("hosts=2" in job.stdout, "a job on 2 hosts says %r" % job.stdout.strip())
            left = sorted(set(os.listdir(tmp)) - {theirs.name})
            expect(not left, "the job left %s in TMPDIR" % left)


def check_elsewhere():
    """A cluster folder two machines see (a home on a network file system, two login nodes): on the
    one that did not make the cluster, down, up, exec, pids and tools/mpirun --cluster exit 2 naming
    the one that did, and status says cluster=elsewhere (exit 3); the cluster is left whole (its
    files, namespaces and processes), where down used to remove its files and leave its processes."""
    with Cluster(2) as cluster:
        conf = Path(cluster.env["CLUSTER_DIR"]) / "cluster.conf"
        made_here = conf.read_text()
        # the same folder as the other machine sees it: the cluster is that machine's
        conf.write_text(re.sub(r"(?m)^machine=.*\n", "", made_here) + "machine=login-elsewhere\n")
        for argv in ([CLUSTER, "down"], [CLUSTER, "up", 2], [CLUSTER, "exec", "node1", "true"], [CLUSTER, "pids"],
                     [MPIRUN, "--cluster", "-np", 2, "true"]):
            out = run(argv, cluster.env, check=False)
            expect(out.returncode == 2 and "made on login-elsewhere" in out.stderr,
                   "%s on another machine: exit %d, %r" % (" ".join(map(str, argv[1:])), out.returncode, out.stderr))
        status = run([CLUSTER, "status"], cluster.env, check=False)
        expect(status.returncode == 3 and "cluster=elsewhere" in status.stdout
               and "machine=login-elsewhere" in status.stdout, "status on another machine: exit %d, %r"
               % (status.returncode, status.stdout))
        expect(conf.exists(), "the cluster's files were removed from another machine")
        conf.write_text(made_here)   # back on the machine that made it: still whole
        status = cluster.status()
        expect(status.get("cluster") == "up", "the cluster is %s after the other machine's commands"
               % status.get("cluster"))


def check_undo():
    """An up that fails half-way (CLUSTER_TEST_FAIL_AT) undoes everything it made."""
    links_before = links()
    modes = [[]] + ([["--userns"]] if userns_available() else [])
    for options in modes:
        folder = tempfile.mkdtemp(prefix="cluster-check-")
        env = dict(os.environ, CLUSTER_DIR=os.path.join(folder, "cluster"), CLUSTER_TEST_FAIL_AT="node2")
        try:
            tag = key_values(run([CLUSTER, "status"], env, check=False).stdout).get("tag", "?")
            failed = run([CLUSTER, "up", 3, "--rate", "1gbit"] + options, env, check=False)
            expect(failed.returncode == 1, "up %s failing at node2: exit %d, expected 1" % (options, failed.returncode))
            expect("undoing" in failed.stderr, "up failing at node2 does not say it undoes: %r" % failed.stderr)
            nothing_left(tag, env["CLUSTER_DIR"], links_before)
        finally:
            run([CLUSTER, "down"], dict(env, CLUSTER_TEST_FAIL_AT=""), check=False)
            shutil.rmtree(folder, ignore_errors=True)


def start_long_job(cluster, stderr_file):
    """A factorial job on 2 hosts (rank 1 on node2) that would run for minutes; (process, rank 1's pid)."""
    job = subprocess.Popen([str(MPIRUN), "--cluster", "-np", "2", str(BIN / "factorial-mpi")] + LONG_JOB,
                           cwd=ROOT, env=cluster.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=stderr_file, start_new_session=True)
    deadline = time.monotonic() + RANK_START_TIMEOUT
    while time.monotonic() < deadline and job.poll() is None:
        for pid in cluster.pids("node2"):
            try:
                if Path("/proc/%d/comm" % pid).read_text().strip() == "factorial-mpi":
                    time.sleep(0.5)   # well into its runs
                    return job, pid
            except OSError:
                continue
        time.sleep(0.1)
    stop(job)
    raise CheckFailed("the job's rank 1 never appeared on node2 (exit %s)" % job.poll())


def stop(job):
    if job.poll() is None:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()


def check_fault(how):
    """A rank killed (kill) or its host's link cut (cut): the job ends within FAULT_LIMIT
    seconds, not 0, naming the rank and the host, and leaves no process on any host; cut,
    a job started while the link is still cut fails as soon (check_start_cut)."""
    with Cluster(2) as cluster, tempfile.TemporaryFile("w+") as stderr_file:
        job, rank_pid = start_long_job(cluster, stderr_file)
        try:
            started = time.monotonic()
            if how == "kill":
                os.kill(rank_pid, signal.SIGKILL)
            else:
                run([CLUSTER, "exec", "head", "ip", "link", "set", "node2", "down"], cluster.env)
            try:
                job.wait(timeout=FAULT_LIMIT * 3)
            except subprocess.TimeoutExpired:
                raise CheckFailed("the job still runs %d s after rank 1 was lost" % (FAULT_LIMIT * 3))
            took = time.monotonic() - started
        finally:
            stop(job)
        print("the job ended %.1f s after rank 1 was lost (%s)" % (took, how))
        stderr_file.seek(0)
        said = stderr_file.read()
        expect(job.returncode != 0, "the job exited 0 after losing rank 1")
        expect(took <= FAULT_LIMIT, "the job took %.1f s to end after losing rank 1 (limit %d s)" % (took, FAULT_LIMIT))
        expect(re.search(r"rank 1\b.*node2|node2\b.*ranks? 1\b", said),
               "stderr names neither rank 1 nor node2 together: %r" % said[-800:])
        if how == "cut":
            check_start_cut(cluster)
        left = cluster.pids()
        expect(not left, "processes left on the hosts: %s" % [(p, Path("/proc/%d/comm" % p).read_text().strip())
                                                               for p in left if Path("/proc/%d" % p).exists()])


def check_start_cut(cluster):
    """A job started while node2's link is still cut fails within FAULT_LIMIT seconds, naming
    node2 (the daemon started there could not call mpirun back, and mpirun waited for ever)."""
    started = time.monotonic()
    try:
        job = run([MPIRUN, "--cluster", "-np", "2", BIN / "factorial-mpi", "-n", "1000"], cluster.env,
                  timeout=FAULT_LIMIT * 3, check=False)
    except subprocess.TimeoutExpired:
        raise CheckFailed("a job started with node2's link cut still ran %d s on" % (FAULT_LIMIT * 3))
    took = time.monotonic() - started
    print("a job started with node2's link cut ended in %.1f s, exit %d" % (took, job.returncode))
    expect(job.returncode != 0, "a job started with node2's link cut exited 0")
    expect(took <= FAULT_LIMIT, "a job started with node2's link cut took %.1f s to fail (limit %d s)"
           % (took, FAULT_LIMIT))
    expect("cannot reach node2: its link is down" in job.stderr,
           "stderr does not say node2 cannot be reached: %r" % job.stderr[-800:])


def median_comm(argv, env):
    """The median comm= of a run's result lines, and its hosts=."""
    lines = run(argv, env).stdout.splitlines()
    pairs = [result_pairs(line) for line in lines]
    expect(pairs and all(p.get("verified") == "yes" for p in pairs), "runs did not verify: %r" % lines)
    return statistics.median(float(p["comm"]) for p in pairs), pairs[0].get("hosts")


def expect_shaping(cluster, code, shaping):
    """tools/cluster status exits with code, saying each host's shaping (host: tbf/RATE, both ways)."""
    out = run([CLUSTER, "status"], cluster.env, check=False)
    said = key_values(out.stdout)
    expect(out.returncode == code and said.get("cluster") == ("up" if code == 0 else "broken"),
           "status: exit %d, cluster=%s; expected exit %d" % (out.returncode, said.get("cluster"), code))
    for host, expected in shaping.items():
        got = re.search(r"shaping:(\S+)", said.get(host, ""))
        expect(got and got.group(1) == expected, "status says %s shaping:%s, expected %s" % (
            host, got.group(1) if got else "nothing", expected))


def check_shaping():
    """matmul's comm on two hosts at 100 Mbit/s: at least its bytes' time at that rate, and
    clearly above the same run unshaped (the table's cluster), measured in the same check."""
    argv = [MPIRUN, "--cluster", "--hosts", 2, "-np", 2, BIN / "matmul-mpi", "-n", SHAPING_N, "-r", 3]
    unshaped, hosts = median_comm(argv, os.environ)
    expect(hosts == "2", "the unshaped run says hosts=%s" % hosts)
    with Cluster(2, "--rate", SHAPED_RATE) as cluster:
        shaped, hosts = median_comm(argv, cluster.env)
        expect_shaping(cluster, 0, {"node1": "tbf/100Mbit", "node2": "tbf/100Mbit"})
        # one way unshaped (the switch's end of node2's link): status says so, and that the cluster is broken
        run([CLUSTER, "exec", "head", admin_command("tc"), "qdisc", "del", "dev", "node2", "root"], cluster.env)
        expect_shaping(cluster, 1, {"node1": "tbf/100Mbit", "node2": "host:tbf/100Mbit,switch:none"})
    expect(hosts == "2", "the shaped run says hosts=%s" % hosts)
    # Rank 0 sends rank 1 half of A and all of B, and gets half of C back: 2 n^2 doubles.
    least = 2 * SHAPING_N ** 2 * 8 * 8 / SHAPED_BITS
    expect(shaped >= LINK_SHARE * least,
           "comm %.3f s at %s: faster than the link allows (%.3f s for its bytes)" % (shaped, SHAPED_RATE, least))
    expect(shaped >= ABOVE_UNSHAPED * unshaped,
           "comm %.3f s at %s is not clearly above %.3f s unshaped" % (shaped, SHAPED_RATE, unshaped))


def expected_placement(map_by, ranks, hosts):
    """Where tools/mpirun's usage says ranks go: {host: [ranks]}. block: contiguous ranks, as
    even as can be, the first hosts taking one more; round-robin: rank r on host r mod hosts."""
    per_host, extra = divmod(ranks, hosts)
    first_rank = [k * per_host + min(k, extra) for k in range(hosts + 1)]
    placement = {}
    for r in range(ranks):
        k = r % hosts if map_by == "round-robin" else next(k for k in range(hosts)
                                                              if first_rank[k] <= r < first_rank[k + 1])
        placement.setdefault("node%d" % (k + 1), []).append(r)
    return placement


def check_placement():
    """The ranks really run where tools/mpirun says they go (block, round-robin; 5 ranks, 3 hosts),
    which is also what it names when a host is lost."""
    for map_by in ("block", "round-robin"):
        ran = run([MPIRUN, "--cluster", "--map-by", map_by, "-np", 5, "sh", "-c",
                   'echo "$OMPI_COMM_WORLD_RANK $(hostname)"']).stdout.split("\n")
        actual = {}
        for line in filter(None, ran):
            rank, host = line.split()
            actual.setdefault(host, []).append(int(rank))
        actual = {host: sorted(ranks) for host, ranks in actual.items()}
        expected = expected_placement(map_by, 5, 3)
        expect(actual == expected, "--map-by %s: ranks ran %s, expected %s" % (map_by, actual, expected))


def userns_available():
    """Unprivileged user namespaces work here (what --userns and a normal user need)."""
    return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--uts", "true"],
                          capture_output=True).returncode == 0


CHECKS = {"updown": check_updown, "updown-userns": lambda: check_updown(userns=True), "undo": check_undo,
          "kill": lambda: check_fault("kill"), "cut": lambda: check_fault("cut"), "shaping": check_shaping,
          "placement": check_placement, "spaced": check_spaced,
          "by-hand-userns": check_by_hand_userns, "elsewhere": check_elsewhere}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit("usage: cluster_checks.py %s" % "|".join(CHECKS))
    try:
        CHECKS[sys.argv[1]]()
    except (CheckFailed, subprocess.TimeoutExpired) as e:
        print("cluster check %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
