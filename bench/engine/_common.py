"""Timing and memory helpers shared by the engine benchmarks."""

import json
import resource
import time
from contextlib import contextmanager


@contextmanager
def timed(timings: dict, name: str):
    """Record the wall time of the block in ``timings[name]`` (seconds)."""
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)


def best_of(repeat: int, function) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def report(result: dict) -> None:
    """Print the result with this process's peak resident memory, as JSON."""
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
