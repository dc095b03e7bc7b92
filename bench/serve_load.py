"""Load on `koubo serve`: concurrent clients searching on loopback; requests/s, latency and errors.

Starts the server as users do (``koubo serve``, the e5 model loaded, over ``outputs/indexes/default``,
which ``make demo`` or ``koubo index`` builds), then runs CLIENTS threads, each sending one search after
another over its own keep-alive connection for SECONDS, and prints requests/s, p50/p95/max latency and
errors. The obvious alternative runs in the same way in the same run: the same server encoding each
question on its own in its own process (``--no-batch``) instead of batching the questions that arrive
together in its encoder processes (``--encoders 2``, the default).

Two question streams:

- ``distinct``: every request asks a question the server has not seen (the benchmark questions of every query set, each
  time with a new number appended), so the question-vector cache never helps: the worst case;
- ``repeated``: the same questions over and over, as a busy office might (the cache answers most).

The clients run in this process and share the two cores with the server, as they would on one laptop.

``--precisions auto,bf16,fp32`` runs the batched server once with each way of encoding questions
(``koubo serve --precision``), to compare them in one run; the first is the one compared with
``--no-batch`` and judged against the goal.

Run:  .venv/bin/python bench/serve_load.py [--clients 20] [--seconds 30] [--only batched] [--precisions auto,fp32]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KOUBO = ROOT / ".venv" / "bin" / "koubo"
QUERY_FILES = sorted((ROOT / "tests" / "data").glob("search_queries*.jsonl"))
GOAL_P95_MS = 300


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # CPU seconds the clients themselves used (they share the server's cores)


def questions() -> list[str]:
    out = []
    for f in QUERY_FILES:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["query"])
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, batch: bool, precision: str = "auto") -> subprocess.Popen[bytes]:
    cmd = [str(KOUBO), "serve", "--port", str(port), "--precision", precision] + ([] if batch else ["--no-batch"])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"koubo serve exited: {err.strip()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/documents")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("koubo serve did not answer within 120 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def run_load(port: int, clients: int, seconds: float, stream: str, pool: list[str]) -> tuple[Result, float]:
    counter = itertools.count()
    lock = threading.Lock()
    result = Result()
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while time.monotonic() < stop_at[0]:
            n = next(counter)
            q = pool[n % len(pool)]
            if stream == "distinct":
                q = f"{q}（{n}）"
            path = "/api/search?" + urllib.parse.urlencode({"q": q, "k": 10})
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200 and b'"hits"' in body
                problem = None if ok else f"HTTP {resp.status}: {body[:120]!r}"
            except OSError as e:
                problem = f"{type(e).__name__}: {e}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            dt = time.perf_counter() - t0
            with lock:
                if problem:
                    result.errors.append(problem)
                else:
                    result.latencies.append(dt)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    stop_at.append(time.monotonic() + seconds)
    t_start = time.monotonic()
    cpu_start = time.process_time()
    start.wait()
    for t in threads:
        t.join()
    result.client_cpu = time.process_time() - cpu_start
    return result, time.monotonic() - t_start


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--only", choices=("batched", "unbatched"), help="run one server only")
    ap.add_argument("--streams", default="distinct,repeated", help="comma-separated: distinct, repeated")
    ap.add_argument(
        "--precisions",
        default="auto",
        help="comma-separated: the batched server once with each of auto, int8, bf16, fp32 (--precision)",
    )
    args = ap.parse_args()
    if not (ROOT / "outputs/indexes/default/index.sqlite").is_file():
        print("no index: build it first with `make demo` or `.venv/bin/koubo index`", file=sys.stderr)
        return 1
    pool = questions()
    print(f"{args.clients} clients, {args.seconds:.0f} s each run, GET /api/search?q=…&k=10 over loopback; "
          f"{len(pool)} benchmark questions; {os.cpu_count()} cores shared by server and clients")  # fmt: skip
    print(f"{'server':<40}{'questions':<11}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
          f"{'errors':>8}{'clients CPU':>13}")  # fmt: skip
    rows = []
    precisions = args.precisions.split(",")
    servers = [("batched", True, p) for p in precisions] + [("unbatched", False, "auto")]
    for name, batch, precision in servers:
        if args.only and name != args.only:
            continue
        port = free_port()
        proc = start_server(port, batch, precision)
        try:
            run_load(port, 2, 3, "distinct", pool)  # warm up: the first model calls are slower
            for stream in args.streams.split(","):
                res, wall = run_load(port, args.clients, args.seconds, stream, pool)
                lat = [x * 1000 for x in res.latencies]
                n = len(lat) + len(res.errors)
                label = (
                    "koubo serve"
                    + ("" if batch else " --no-batch")
                    + ("" if precision == "auto" else f" --precision {precision}")
                )
                print(f"{label:<40}{stream:<11}{n:>9}{n / wall:>8.1f}{pct(lat, 50):>9.0f}{pct(lat, 95):>9.0f}"
                      f"{max(lat, default=float('nan')):>9.0f}{len(res.errors):>8}"
                      f"{100 * res.client_cpu / (wall * (os.cpu_count() or 1)):>12.0f}%", flush=True)  # fmt: skip
                for e in res.errors[:3]:
                    print(f"    error: {e}")
                if precision == precisions[0]:  # the first precision is the one compared and judged
                    rows.append((name, stream, n / wall, pct(lat, 95), len(res.errors)))
        finally:
            stop_server(proc)
    by = {(n, s): (rps, p95, errs) for n, s, rps, p95, errs in rows}
    for stream in args.streams.split(","):
        if ("batched", stream) in by and ("unbatched", stream) in by:
            b, u = by[("batched", stream)], by[("unbatched", stream)]
            print(f"{stream}: batching gives {b[0] / u[0]:.2f}× the requests/s, p95 {u[1]:.0f} → {b[1]:.0f} ms")
    if ("batched", "distinct") in by:
        _, p95, errs = by[("batched", "distinct")]
        met = errs == 0 and p95 <= GOAL_P95_MS
        print(f"goal (0 errors, p95 ≤ {GOAL_P95_MS} ms, distinct questions): {'met' if met else 'NOT met'} "
              f"({errs} errors, p95 {p95:.0f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
