"""tools/harness/stats.py — the statistics the summary reports, from the runs' times.

Medians, not means: run times are skewed (a run can be slowed, never sped
up, by the rest of the machine). The confidence interval of the median is
the distribution-free one from order statistics, so it needs no assumption
about the shape of the times; it needs at least 6 runs to reach 95 %.
"""
import math

# Coverage of the confidence interval of the median.
CONFIDENCE = 0.95


def median(values):
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def quantile(values, q):
    """The q-quantile by linear interpolation between order statistics (q in [0, 1])."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def iqr(values):
    """The interquartile range: the spread of the middle half of the runs."""
    return quantile(values, 0.75) - quantile(values, 0.25)


def binomial(n, k):
    """n choose k (math.comb arrived only in Python 3.8)."""
    return math.factorial(n) // (math.factorial(k) * math.factorial(n - k))


def median_ci_ranks(count, confidence=CONFIDENCE):
    """1-based ranks (lower, upper) of the order statistics that bracket the
    median with at least the given confidence, or None when count runs are
    too few. For X ~ Binomial(count, 1/2), [x_(j), x_(count+1-j)] covers the
    median with probability 1 - 2 P(X < j); j is the largest rank that keeps
    that at or above the confidence."""
    best = None
    tail = 0.0  # P(X < j), growing with j
    for j in range(1, count // 2 + 1):
        tail += binomial(count, j - 1) / 2 ** count
        if 1 - 2 * tail >= confidence:
            best = j
        else:
            break
    return None if best is None else (best, count + 1 - best)


def fewest_runs_with_ci(confidence=CONFIDENCE):
    """The fewest runs whose median has a confidence interval (6 at 95 %: their
    fastest and slowest bracket it with probability 1 - 2/2^6, 0.969)."""
    count = 1
    while median_ci_ranks(count, confidence) is None:
        count += 1
    return count


def median_ci(values, confidence=CONFIDENCE):
    """(low, high) confidence interval of the median, or None under 6 runs."""
    ranks = median_ci_ranks(len(values), confidence)
    if ranks is None:
        return None
    ordered = sorted(values)
    return ordered[ranks[0] - 1], ordered[ranks[1] - 1]


# A configuration whose runs vary more than this (coefficient of variation) is
# called noisy: make bench warns of it, and the speed checks name it.
NOISY_CV = 0.10


def noisy(named_runs):
    """"name (CV n%)" for each (name, [seconds of its runs]) whose runs (3 or
    more) vary by more than NOISY_CV, the noisiest first."""
    varied = [(coefficient_of_variation(runs), name) for name, runs in named_runs if len(runs) >= 3]
    return ["%s (%.0f%%)" % (name, 100 * cv) for cv, name in sorted(varied, reverse=True) if cv > NOISY_CV]


def noisy_line(named_runs):
    """The speed checks' line naming their noisy configurations, or None when there is none."""
    found = noisy(named_runs)
    if not found:
        return None
    return ("runs that varied by more than %.0f%% (CV), so the figures from them move with the machine: %s"
            % (100 * NOISY_CV, ", ".join(found)))


def coefficient_of_variation(values):
    """Standard deviation over mean: how much the runs of one configuration disagree."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return math.sqrt(variance) / mean if mean > 0 else 0.0


def round_order(configs, order, together=None):
    """One round's configs in the order to run them: those for which together(config)
    is the same one after the other (in a shuffled order among themselves), the groups
    in a shuffled order; without together, every config shuffled on its own. A ratio of
    two configs run together compares runs made seconds apart, not minutes: the host a
    VM shares drifts (on the 2-core AMD EPYC Zen 5 VM, py-serial took 0.37 s a run for a
    minute and 0.52 s the next; threads at P = 2, 0.97-1.05 s in one series, 1.35-1.46 s
    in another)."""
    groups = {}
    for config in configs:
        groups.setdefault(together(config) if together else config, []).append(config)
    shuffled = list(groups.values())
    order.shuffle(shuffled)
    for group in shuffled:
        order.shuffle(group)
    return [config for group in shuffled for config in group]


def round_ratios(over, under):
    """over[r] / under[r] for each round r both ran (two configs run together each round):
    their median is the ratio to report, their lowest and highest how far it moved."""
    return [a / b for a, b in zip(over, under)]


def karp_flatt(speedup, workers):
    """The experimentally determined serial fraction e = (1/S - 1/P) / (1 - 1/P);
    None at P = 1, where it is undefined. A fraction that grows with P points
    at overhead (communication, setup), a constant one at serial work."""
    if workers <= 1 or speedup <= 0:
        return None
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def amdahl(serial_fraction, workers):
    """Amdahl's speedup for a serial fraction f: 1 / (f + (1 - f) / P)."""
    return 1 / (serial_fraction + (1 - serial_fraction) / workers)


def fit_amdahl(points):
    """The serial fraction f in [0, 1] whose Amdahl curve is nearest (least
    squares) to the measured (workers, speedup) points; None without points
    beyond one worker. A 1-D golden-section search: the error is unimodal in f."""
    usable = [(p, s) for p, s in points if p > 1 and s > 0]
    if not usable:
        return None

    def error(f):
        return sum((amdahl(f, p) - s) ** 2 for p, s in usable)

    low, high = 0.0, 1.0
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(100):
        a = high - ratio * (high - low)
        b = low + ratio * (high - low)
        if error(a) <= error(b):
            high = b
        else:
            low = a
    return (low + high) / 2
