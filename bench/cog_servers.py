"""Seconds to ready and per prediction, and the worker's memory, for the same predict.py served
by Cog 0.23 (coglet, ``.venv``) and Cog 0.16 (FastAPI, ``.venv-cog016``) on synthetic weights:
the same request sent ``--runs`` times to each, one server at a time on this real CPU.

    .venv/bin/python bench/cog_servers.py [--runs 4] [--frames 48] [--output-size 256]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "reference"
COGS = {"0.23": ROOT / ".venv" / "bin" / "python", "0.16": ROOT / ".venv-cog016" / "bin" / "python"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str:
    try:
        with urllib.request.urlopen(url + "/health-check", timeout=10) as r:
            return json.load(r).get("status", "")
    except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
        return ""


def _worker_rss_mb(pid: int) -> float:
    """The largest resident set among the server's children (the worker), in MB."""
    out = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields["PPid"]) == pid and "VmRSS" in fields:
            out = max(out, int(fields["VmRSS"].split()[0]) / 1024)
    return out


def serve(python: Path, body: dict, runs: int, tmp: Path) -> tuple[float, list[float], list[float]]:
    """Seconds to READY, then each prediction's seconds and the worker's RSS after it."""
    port = _port()
    url = f"http://127.0.0.1:{port}"
    (tmp / "tmp").mkdir(parents=True)
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
           "COG_PREDICT_TYPE_STUB": "predict.py:Predictor", "PORT": str(port),
           "TMPDIR": str(tmp / "tmp"), "MICROMOTION_SYNTHETIC": "1",
           "MICROMOTION_WEIGHTS": str(SHARED)}
    start = time.perf_counter()
    with open(tmp / "server.log", "w") as log:
        proc = subprocess.Popen([str(python), "-m", "cog.server.http", "--host", "127.0.0.1"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while _health(url) != "READY":
            if proc.poll() is not None or time.perf_counter() - start > 300:
                raise SystemExit(f"the server did not start; see {tmp / 'server.log'}")
            time.sleep(0.2)
        ready, times, rss = time.perf_counter() - start, [], []
        for _ in range(runs):
            while _health(url) != "READY":
                time.sleep(0.1)
            t = time.perf_counter()
            req = urllib.request.Request(url + "/predictions", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=900) as r:
                status = json.load(r)["status"]
            if status != "succeeded":
                raise SystemExit(f"a prediction {status}; see {tmp / 'server.log'}")
            times.append(time.perf_counter() - t)
            rss.append(_worker_rss_mb(proc.pid))
        return ready, times, rss
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--output-size", type=int, default=256)
    a = ap.parse_args()
    photo = ROOT / "examples" / "astronaut.jpg"
    body = {"input": {"image": "data:image/jpeg;base64," + base64.b64encode(photo.read_bytes())
                      .decode(), "micromotion": "smile", "frames": a.frames,
                      "output_size": a.output_size}}
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; preset smile, "
          f"{a.frames} frames at {a.output_size} px, {a.runs} predictions per server\n")
    print("| Cog | ready | each prediction | worker RSS after each |\n|---|---|---|---|")
    for version, python in COGS.items():
        with tempfile.TemporaryDirectory() as folder:
            ready, times, rss = serve(python, body, a.runs, Path(folder))
        print(f"| {version} | {ready:.1f} s | {' / '.join(f'{t:.1f}' for t in times)} s | "
              f"{' / '.join(f'{m:.0f}' for m in rss)} MB |", flush=True)


if __name__ == "__main__":
    main()
