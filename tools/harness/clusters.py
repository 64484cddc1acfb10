"""tools/harness/clusters.py — the clusters a sweep runs on (make bench CLUSTER=N RATE=...): up, their file servers, down.

`make bench CLUSTER=N` sweeps the MPI lanes across the N hosts of a cluster on
this machine (tools/cluster: network namespaces, links that can be shaped).
RATE= lists link rates, `unshaped` (the default) or tc's rates (`1gbit`,
`100mbit`): one cluster per rate, all up at once for the whole sweep, so runs
on every link interleave in the sweep's shuffled order like any other
configurations, and one results folder (its phases plot, its tables) holds
every link side by side with the same programs on this machine alone.

A run's link (runs.csv's `link` column) is LOCAL ("") on this machine alone,
else the rate of the cluster it ran on ("unshaped", "1gbit", ...).

  check(hosts, rates)                  -> "root" or "userns", or ClusterError (exit 2): nothing made
  with Clusters(hosts, rates) as clusters: clusters.env(link), clusters.file_server(link, flags), ...

A cluster the user already has up (tools/cluster up, in $CLUSTER_DIR or
build/cluster/) with the sweep's number of hosts and one of its rates is
used as it is, and left up at the end. Every other cluster the sweep brings
up itself, each in a folder of its own (PARENT/<rate> where PARENT is given,
else a fresh temporary folder, bench-cluster-<rate>-XXXXXX, which tools/cluster
down removes), tied to this process (tools/cluster up --down-with), so none,
nor its folder, outlives the sweep even when it is killed, and takes down at
its end, on Ctrl-C and on an error too.
"""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import programs

CLUSTER = programs.ROOT / "tools" / "cluster"
# A run on this machine alone, not across a cluster.
LOCAL = ""
# The rate of a cluster whose links are not shaped.
UNSHAPED = "unshaped"
# The hosts tools/cluster up makes.
MIN_HOSTS, MAX_HOSTS = 2, 8
# The head's address on every cluster (tools/cluster): the download study's file server listens there.
HEAD_ADDRESS = "169.254.100.254"
# tc's rates, as tools/cluster up takes them: a number and a unit, from 1kbit to 1000tbit.
RATE = re.compile(r"^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|tbit)$")
RATE_UNITS = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12}
MIN_RATE_BITS, MAX_RATE_BITS = 1e3, 1e15
# Seconds tools/cluster up and down may take (a loaded machine, 8 hosts).
UP_TIMEOUT = 180


class ClusterError(RuntimeError):
    """A cluster that cannot be made here, or a bad CLUSTER= or RATE=; code is the exit status to end with."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def rate_bits(rate):
    """A tc rate in bits per second ("1gbit" -> 1e9), or None when it is none."""
    match = RATE.match(rate)
    return float(match.group(1)) * RATE_UNITS[match.group(2)] if match else None


def parse_rates(text):
    """RATE= as a list of links ("unshaped,1gbit" -> ["unshaped", "1gbit"]), repeats dropped;
    empty -> ["unshaped"]. ClusterError for one that tc would not take."""
    rates = []
    for rate in (text or UNSHAPED).replace(" ", ",").lower().split(","):
        if not rate or rate in rates:
            continue
        if rate != UNSHAPED and not MIN_RATE_BITS <= (rate_bits(rate) or 0) <= MAX_RATE_BITS:
            raise ClusterError("RATE: '%s' is neither %s nor a rate tc understands (a number and bit, kbit, mbit, "
                               "gbit or tbit, from 1kbit to 1000tbit: e.g. 1gbit, 100mbit)" % (rate, UNSHAPED))
        rates.append(rate)
    return rates


def parse_hosts(text):
    """CLUSTER= as a number of hosts, or ClusterError."""
    if not re.fullmatch(r"\d+", str(text)) or not MIN_HOSTS <= int(text) <= MAX_HOSTS:
        raise ClusterError("CLUSTER: the number of hosts must be from %d to %d, not '%s'" % (MIN_HOSTS, MAX_HOSTS, text))
    return int(text)


def link_order(link):
    """Sorting key of links, the fastest first: this machine alone, unshaped, then by falling rate."""
    if link == LOCAL:
        return (0, 0.0)
    if link == UNSHAPED:
        return (1, 0.0)
    return (2, -(rate_bits(link) or 0.0))


# How plots and tables name a link: "cluster 1gbit", "cluster unshaped".
LINK_SAID = "cluster "


def link_said(link):
    """How plots and tables name a link: "" on this machine alone, else "cluster 1gbit"."""
    return "" if link == LOCAL else LINK_SAID + link


def key_values(text):
    """key=value lines as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def check(rates):
    """Whether clusters can be made here (tools/cluster check, which makes nothing that lasts):
    "root" or "userns", or ClusterError (exit 2) with tools/cluster's reasons."""
    shaped = any(rate != UNSHAPED for rate in rates)
    out = subprocess.run([str(CLUSTER), "check"] + (["--rate"] if shaped else []), capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=UP_TIMEOUT)
    if out.returncode != 0:
        said = [line.replace("tools/cluster: ", "", 1) for line in out.stderr.strip().splitlines()]
        raise ClusterError("; ".join(said) or "tools/cluster check failed (exit %d)" % out.returncode, 2)
    return key_values(out.stdout).get("mode", "unknown")


class Clusters:
    """One cluster of `hosts` hosts per link rate, up from __enter__ (or up()) to __exit__ (or down())."""

    def __init__(self, hosts, rates, parent=None, owner=None, yours=None):
        """parent: where the clusters brought up here go (default: a fresh temporary folder each);
        owner: the process they go down with (default: this one); yours: the folder of the
        user's own cluster (default: $CLUSTER_DIR, else build/cluster/)."""
        self.hosts = hosts
        self.yours = Path(yours or os.environ.get("CLUSTER_DIR") or programs.ROOT / "build" / "cluster").resolve()
        self.rates = list(rates)
        self.parent = Path(parent).resolve() if parent else None
        self.made = {}        # rate -> the fresh temporary folder of its cluster (no parent given)
        self.owner = owner or os.getpid()
        self.up_ones = []     # the rates whose cluster this sweep brought up (or half-made), in order
        self.reused = {}      # rate -> the folder of the user's own cluster, used as it is and left up
        self.servers = []

    def folder(self, link):
        """The cluster folder (CLUSTER_DIR) of a link."""
        return self.reused.get(link) or self.made.get(link) or self.parent / link

    def users_cluster(self):
        """(rate, folder) of the cluster the user has up (in self.yours) when it has this
        sweep's hosts and one of its rates, else None."""
        folder = self.yours
        out = subprocess.run([str(CLUSTER), "status"], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             env=dict(os.environ, CLUSTER_DIR=str(folder)), timeout=UP_TIMEOUT)
        said = key_values(out.stdout)
        rate = said.get("rate", "").lower()
        if out.returncode == 0 and said.get("cluster") == "up" and said.get("hosts") == str(self.hosts) \
                and rate in self.rates:
            return rate, folder
        return None

    def env(self, link):
        """The environment of a run on link: CLUSTER_DIR naming its cluster (None: this machine's own)."""
        return None if link == LOCAL else dict(os.environ, CLUSTER_DIR=str(self.folder(link)))

    def up(self):
        """Every cluster up, or none: the user's own where it fits (users_cluster), the others
        brought up here; on a failure the ones made are taken down and ClusterError says what
        tools/cluster up said, with its exit status. Returns the rates of the user's clusters used."""
        mine = self.users_cluster()
        if mine:
            self.reused[mine[0]] = mine[1]
        for rate in self.rates:
            if rate in self.reused:
                continue
            self.up_ones.append(rate)
            if self.parent is None:   # no parent to outlive a killed sweep: down removes the folder itself
                self.made[rate] = Path(tempfile.mkdtemp(prefix="bench-cluster-%s-" % rate)).resolve()
            argv = [str(CLUSTER), "up", str(self.hosts), "--down-with", str(self.owner)]
            if rate != UNSHAPED:
                argv += ["--rate", rate]
            out = subprocess.run(argv, capture_output=True, text=True, env=self.env(rate), stdin=subprocess.DEVNULL,
                                 timeout=UP_TIMEOUT)
            if out.returncode != 0:
                self.down()
                said = [line.replace("tools/cluster: ", "", 1) for line in out.stderr.strip().splitlines()]
                raise ClusterError("tools/cluster up %d%s: %s" % (self.hosts, " --rate " + rate if rate != UNSHAPED
                                                                 else "", "; ".join(said) or "exit %d" % out.returncode),
                                   2 if out.returncode == 2 else 1)
        return list(self.reused)

    def describe(self, ranks):
        """meta.json's cluster: hosts, rates, mode, and per link what tools/cluster status and
        tools/mpirun --explain RANKS --cluster say (folder, tag, placement, transports, flags)."""
        links = {}
        for rate in self.rates:
            status = key_values(subprocess.run([str(CLUSTER), "status"], capture_output=True, text=True,
                                               env=self.env(rate), stdin=subprocess.DEVNULL).stdout)
            explained = key_values(subprocess.run([str(programs.MPIRUN), "--explain", str(ranks), "--cluster"],
                                                  capture_output=True, text=True, env=self.env(rate),
                                                  stdin=subprocess.DEVNULL).stdout)
            links[rate] = {"dir": status.get("dir"), "tag": status.get("tag"), "mode": status.get("mode"),
                           "rate": status.get("rate"), "slots_per_host": status.get("slots_per_host"),
                           "subnet": status.get("subnet"), "explain_ranks": ranks,
                           "placement": explained.get("placement"), "map_by": explained.get("map_by"),
                           "mpirun_flags": explained.get("mpirun_flags"),
                           "mpi_environment": explained.get("mpi_environment"),
                           "transports": explained.get("transports"), "brought_up": rate not in self.reused}
        first = links.get(self.rates[0], {}) if self.rates else {}
        return {"hosts": self.hosts, "rates": self.rates, "mode": first.get("mode"), "map_by": first.get("map_by"),
                "transports": first.get("transports"), "links": links}

    def file_server(self, link, args, binary):
        """bin/fileserver on the head of link's cluster, where every host reaches it (HEAD_ADDRESS)."""
        server = programs.FileServer(args, binary=binary, launcher=[CLUSTER, "exec", "head"], bind=HEAD_ADDRESS,
                                     env=self.env(link), stderr=subprocess.DEVNULL)
        self.servers.append(server)
        return server

    def down(self):
        """Stop the file servers, take down every cluster this sweep brought up (never the user's
        own), remove the folders; safe to call twice."""
        for server in self.servers:
            server.stop()
        self.servers = []
        for rate in self.up_ones:
            subprocess.run([str(CLUSTER), "down"], capture_output=True, env=self.env(rate), stdin=subprocess.DEVNULL,
                           timeout=UP_TIMEOUT)
        self.up_ones = []
        for folder in self.made.values():
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exception):
        self.down()
