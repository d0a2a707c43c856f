"""Portal load benchmark: ``python -m bench.http [--seconds S] [--connections C]``.

gunicorn serves the demo (2 workers × 4 threads, as ``make run``) on loopback; a second
process opens C keep-alive connections (one thread each, ``http.client``) and requests
the public portal's index page for S seconds, then the same for a place page (not
cached) and the ranking API. Prints requests per second and latency percentiles;
targets for the cached index ≥ 300 requests/s and p95 ≤ 50 ms.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

from bench._serving import free_port, start_gunicorn, wait_until_up
from bench.reports._demo import ensure_demo

PATHS = {
    "portal_index_cached": "/portal/",
    "portal_place": "/portal/places/360100/",
    "api_rankings": "/api/portal/rankings/",
}


def load(port: int, path: str, seconds: float, connections: int) -> dict:
    """Run in the load process: C threads, each a keep-alive connection, for S seconds."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        own, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Language": "zh-hans"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            own.append(time.perf_counter() - started)
        with lock:
            latencies.extend(own)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(q):
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {
        "requests": len(latencies),
        "errors": errors[0],
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--load", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.load:  # the second process
        port, path = arguments.load
        print(json.dumps(load(int(port), path, arguments.seconds, arguments.connections)))
        return
    var_dir = ensure_demo()
    port = free_port()
    env = {
        **os.environ,
        "CITYCHECK_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
    }
    env.pop("DATABASE_URL", None)
    server = start_gunicorn(env, port)
    results = {
        "server": "gunicorn 2 workers × 4 threads, SQLite demo",
        "connections": arguments.connections,
        "seconds": arguments.seconds,
    }
    try:
        wait_until_up(port)
        for name, path in PATHS.items():
            for _warm in range(4):  # each worker process fills its own cache
                load(port, path, 0.5, 2)
            command = [
                sys.executable,
                "-m",
                "bench.http",
                "--load",
                str(port),
                path,
                "--seconds",
                str(arguments.seconds),
                "--connections",
                str(arguments.connections),
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(output)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = {"portal_index_cached": {"requests_per_s": 300, "p95_ms": 50}}
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
