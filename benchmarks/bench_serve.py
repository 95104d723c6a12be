"""Load test of the HTTP services on loopback: p50/p99 latency, throughput, server CPU.

Starts `rosenblatt serve` in a child process on 127.0.0.1 (a free port), then N concurrent
clients (default 20) post PNGs until --requests are done or --seconds have passed. Prints
latency percentiles, requests/s, the server process's CPU milliseconds per request (what a
request costs whatever else the machine runs), the decisions and how many network calls the
micro-batcher made.

    python benchmarks/bench_serve.py [--clients 20] [--requests 2000] [--seconds 60]
        [--endpoint zip|digit] [--window-ms 3] [--workers 1] [--small]
    python benchmarks/bench_serve.py --model CHECKPOINT [--backend rosenblatt|onnxruntime|both]
        [--rounds 1]

Without --model it serves the ZIP reader (synthetic ZIP-field PNGs from MNIST test digits,
evaluation half); --small serves the small test reader (trained in seconds) instead of the
default model. With --model (a checkpoint of `rosenblatt train`, or `lenet5-mnist`: the
committed LeNet-5) it serves that image classifier and posts MNIST test digits to
/v1/predict; --backend both exports the checkpoint to ONNX and measures Rosenblatt and
onnxruntime in turn, --rounds times each, alternating (on a loaded machine, compare runs
made back to back).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, small: bool, window_ms: float, db: str,
           classifier: tuple[str, str, str | None] | None = None) -> None:
    """The server process: the ZIP reader, or `classifier` (checkpoint, backend, onnx)."""
    import uvicorn

    if classifier is not None:
        from rosenblatt.serve.classifier import create_classifier_app, load_image_classifier

        app = create_classifier_app(load_image_classifier(*classifier), window_ms)
    else:
        from rosenblatt.apps.digits.reader import ZipReader, small_reader
        from rosenblatt.serve.app import create_app

        reader = (small_reader(Path(tempfile.gettempdir()) / "rosenblatt-test-zip-reader")
                  if small else ZipReader.load(log=print))
        app = create_app(reader, token="bench", db_path=db, window_ms=window_ms)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` so far (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _payloads(endpoint: str, n: int = 200) -> list[bytes]:
    import numpy as np
    from PIL import Image

    from rosenblatt.apps.digits.synth import make_fields, mnist_test_half

    if endpoint == "zip":
        images = [f.image for f in make_fields(n, part="evaluation", seed=777)]
    elif endpoint == "predict":  # as MNIST comes: white digits on black
        images = list(mnist_test_half("evaluation")[0][:n])
    else:
        digits, _ = mnist_test_half("evaluation")
        images = [np.pad(255 - d, 6, constant_values=255) for d in digits[:n]]
    out = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


async def _load(url: str, payloads: list[bytes], clients: int, requests: int,
                seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    decisions: dict[str, int] = {}
    errors = 0
    next_index = 0
    stop_at = time.perf_counter() + seconds

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal next_index, errors
        while next_index < requests and time.perf_counter() < stop_at:
            body = payloads[next_index % len(payloads)]
            next_index += 1
            t0 = time.perf_counter()
            r = await c.post(url, content=body, headers={"content-type": "image/png"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1
                continue
            d = r.json().get("decision", "answered")
            decisions[d] = decisions.get(d, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*[client(c) for _ in range(clients)])
        elapsed = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "requests": len(lat), "errors": errors, "seconds": elapsed,
        "throughput_rps": len(lat) / elapsed,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "max_ms": 1000 * lat[-1], "decisions": decisions,
    }


def measure(args: argparse.Namespace, backend: str | None = None,
            onnx: str | None = None) -> dict[str, Any]:
    """Start a server (the ZIP reader, or --model on `backend`), load it, stop it."""
    import httpx

    port = _free_port()
    db = os.path.join(tempfile.mkdtemp(prefix="bench-serve-"), "review.sqlite")
    endpoint = "predict" if args.model else args.endpoint
    if args.workers > 1:  # `rosenblatt serve --workers N`: uvicorn processes on one port
        proc: Any = subprocess.Popen(
            [sys.executable, "-m", "rosenblatt.cli", "serve", "--port", str(port), "--token",
             "bench", "--db", db, "--window-ms", str(args.window_ms), "--workers",
             str(args.workers)], stdout=subprocess.DEVNULL)
        proc.is_alive = lambda: proc.poll() is None
        proc.join = proc.wait
    else:
        classifier = (args.model, backend, onnx) if args.model else None
        proc = mp.get_context("spawn").Process(target=_serve, args=(
            port, args.small, args.window_ms, db, classifier))
        proc.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not proc.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        payloads = _payloads(endpoint)
        # warm-up, then the measured run
        asyncio.run(_load(f"{base}/v1/{endpoint}", payloads, 4, 40, 30))
        cpu0 = _cpu_seconds(proc.pid) if args.workers == 1 else None
        result = asyncio.run(_load(f"{base}/v1/{endpoint}", payloads, args.clients,
                                   args.requests, args.seconds))
        cpu1 = _cpu_seconds(proc.pid) if cpu0 is not None else None
        if cpu0 is not None and cpu1 is not None:
            result["server_cpu_ms_per_request"] = 1000 * (cpu1 - cpu0) / result["requests"]
        metrics = httpx.get(base + "/metrics").text
        for line in metrics.splitlines():
            if line.startswith(("rosenblatt_batches_total", "rosenblatt_batched_digits_total")):
                name, value = line.split()
                result[name] = int(float(value))
    finally:
        proc.terminate()
        proc.join(10)
    result.update(clients=args.clients, endpoint=endpoint, window_ms=args.window_ms,
                  workers=args.workers, cpus=os.cpu_count(), backend=backend,
                  load_average=os.getloadavg()[0])
    return result


def _line(result: dict[str, Any]) -> str:
    what = result["endpoint"] + (f" ({result['backend']})" if result["backend"] else "")
    cpu = result.get("server_cpu_ms_per_request")
    return (f"{what}: {result['requests']} requests from {result['clients']} clients in "
            f"{result['seconds']:.1f} s: {result['throughput_rps']:.0f} req/s, "
            f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            + (f"server CPU {cpu:.2f} ms/request, " if cpu is not None else "")
            + f"errors {result['errors']}, decisions {result['decisions']}, "
            f"{result.get('rosenblatt_batches_total', '?')} network calls for "
            f"{result.get('rosenblatt_batched_digits_total', '?')} inputs "
            f"(load average {result['load_average']:.1f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--endpoint", choices=["zip", "digit"], default="zip")
    parser.add_argument("--window-ms", type=float, default=3.0)
    parser.add_argument("--small", action="store_true", help="serve the small test reader")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--model", default=None,
                        help="an image-classifier checkpoint (or lenet5-mnist) to serve")
    parser.add_argument("--backend", choices=["rosenblatt", "onnxruntime", "both"],
                        default="rosenblatt", help="what runs --model")
    parser.add_argument("--rounds", type=int, default=1, help="runs per backend, alternating")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.model and args.workers > 1:
        parser.error("--workers > 1 serves the ZIP reader only")
    runs: list[tuple[str | None, str | None]] = [(None, None)]
    if args.model:
        from rosenblatt.cli import main as cli

        backends = ["rosenblatt", "onnxruntime"] if args.backend == "both" else [args.backend]
        onnx = None
        if "onnxruntime" in backends:
            onnx = os.path.join(tempfile.mkdtemp(prefix="bench-serve-"), "model.onnx")
            if cli(["export", args.model, "--onnx", onnx]) != 0:
                return 1
        runs = [(b, onnx) for _ in range(args.rounds) for b in backends]
    results = []
    for backend, onnx in runs:
        try:
            results.append(measure(args, backend, onnx))
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 1
        if not args.json:
            print(_line(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
