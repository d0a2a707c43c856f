"""Timing and memory helpers shared by the engine benchmarks."""

import json
import resource
import time
from contextlib import contextmanager


@contextmanager
def timed(timings: dict, name: str):
    """Record wall and process CPU time of the block in ``timings[name]`` (seconds), and
    the process's peak resident memory so far (MB) at its end: where the peak is reached.

    CPU time is reported too because a shared machine inflates wall time.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timings[name] = {
        "wall": round(time.perf_counter() - wall, 3),
        "cpu": round(time.process_time() - cpu, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (``ru_maxrss``, MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def best_of(repeat: int, function) -> float:
    """Best process CPU time of ``repeat`` calls (seconds), robust to a busy machine."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times)


def report(result: dict) -> None:
    """Print the result with this process's peak resident memory, as JSON."""
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
