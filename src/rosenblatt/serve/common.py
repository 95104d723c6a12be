"""What every Rosenblatt service shares: the request body's image, the micro-batcher, metrics,
error answers, and the health/ready/metrics/model routes; `build_app` wires a service to them.

A service (the ZIP reader in `app.py`, any image classifier in `classifier.py`) is an object
with `load()` (blocking: the model, a warm-up run), `ready()`, `info()` (for /v1/model), a
`batcher` and `metrics`; its own routers reach it as `request.app.state.service`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import string
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rosenblatt._backend import np
from rosenblatt.apps.digits.images import MAX_BYTES, BadInputError
from rosenblatt.utils.threads import limit_blas_threads

STATIC = Path(__file__).resolve().parent / "static"
BLAS_THREADS = 1  # per server process, while it serves
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# the OpenAPI request body of an image endpoint
IMAGE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {
            "type": "object", "required": ["image"],
            "properties": {"image": {"type": "string", "format": "byte",
                                     "description": "the encoded image, base64"}}}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    },
}


def _fill(name: str, **parts: str) -> str:
    """static/NAME with its $names filled from `parts`; a part's last newline is dropped (the
    template's line ends it)."""
    template = string.Template((STATIC / name).read_text(encoding="utf-8"))
    return template.substitute({key: text.removesuffix("\n") for key, text in parts.items()})


def drawing_pad(action: str, label: str) -> str:
    """The drawing pad's controls (static/pad.html, run by pad.js) with the page's own action
    button `<button id=action>label</button>`."""
    return _fill("pad.html", action=action, label=label)


def page(body: str, title: str, scripts: Sequence[str], **parts: str) -> HTMLResponse:
    """A web page: static/page.html's head (`title`, style.css) around static/BODY, whose
    $names are filled from `parts`, then the `scripts` (files in static/)."""
    tags = "\n".join(f'<script src="/static/{name}"></script>' for name in scripts)
    return HTMLResponse(_fill("page.html", title=title, body=_fill(body, **parts), scripts=tags))


def png_base64(a: Any) -> str:
    """(H, W) float in [0, 1] -> base64 PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(np.asarray(a) * 255 + 0.5, 0, 255).astype(np.uint8)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


class Metrics:
    """Prometheus counters and a latency histogram, kept in memory."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # per path: bucket counts, then sum, count
        self.decisions: dict[tuple[str, str], int] = {}
        self.batches = 0
        self.batched_items = 0

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        key = (method, path, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.latency.setdefault(path, [0.0] * (len(BUCKETS) + 2))
        for i, b in enumerate(BUCKETS):
            if seconds <= b:
                hist[i] += 1
        hist[-2] += seconds
        hist[-1] += 1

    def decision(self, endpoint: str, decision: str) -> None:
        """Count one reading's decision (accept, review)."""
        key = (endpoint, decision)
        self.decisions[key] = self.decisions.get(key, 0) + 1

    def render(self) -> str:
        """The Prometheus text format."""
        lines = ["# HELP rosenblatt_requests_total HTTP requests by method, path and status.",
                 "# TYPE rosenblatt_requests_total counter"]
        for (m, p, s), n in sorted(self.requests.items()):
            lines.append(f'rosenblatt_requests_total{{method="{m}",path="{p}",status="{s}"}} {n}')
        lines += ["# HELP rosenblatt_request_seconds Request latency.",
                  "# TYPE rosenblatt_request_seconds histogram"]
        for p, hist in sorted(self.latency.items()):
            for b, n in zip(BUCKETS, hist):
                lines.append(f'rosenblatt_request_seconds_bucket{{path="{p}",le="{b}"}} {int(n)}')
            lines.append(f'rosenblatt_request_seconds_bucket{{path="{p}",le="+Inf"}} '
                         f"{int(hist[-1])}")
            lines.append(f'rosenblatt_request_seconds_sum{{path="{p}"}} {hist[-2]:.6f}')
            lines.append(f'rosenblatt_request_seconds_count{{path="{p}"}} {int(hist[-1])}')
        lines += ["# HELP rosenblatt_decisions_total Readings by endpoint and decision.",
                  "# TYPE rosenblatt_decisions_total counter"]
        for (e, d), n in sorted(self.decisions.items()):
            lines.append(f'rosenblatt_decisions_total{{endpoint="{e}",decision="{d}"}} {n}')
        lines += ["# HELP rosenblatt_batches_total Network calls made by the micro-batcher.",
                  "# TYPE rosenblatt_batches_total counter",
                  f"rosenblatt_batches_total {self.batches}",
                  "# HELP rosenblatt_batched_digits_total Network inputs (digits, pieces, "
                  "images) of those calls.",
                  "# TYPE rosenblatt_batched_digits_total counter",
                  f"rosenblatt_batched_digits_total {self.batched_items}"]
        return "\n".join(lines) + "\n"


class MicroBatcher:
    """Gathers the items of concurrent requests for `window_ms` into one call of `run`
    (items -> one result per item, in a worker thread); `size(item)` counts an item's network
    inputs towards `max_items` and the metrics."""

    def __init__(self, run: Callable[[list], Sequence[Any]], metrics: Metrics,
                 window_ms: float = 3.0, max_items: int = 1024,
                 size: Callable[[Any], int] = lambda item: 1) -> None:
        self.run, self.metrics, self.size = run, metrics, size
        self.window = window_ms / 1000.0
        self.max_items = max_items
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None

    def running(self) -> bool:
        """Whether the gathering task is alive."""
        return self.task is not None and not self.task.done()

    def start(self) -> None:
        """Start gathering (in the running event loop); idempotent."""
        if not self.running():
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop gathering."""
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None

    async def submit(self, item: Any) -> Any:
        """`run([item, ...])`'s result for `item`, computed with other requests' items."""
        self.start()
        future = asyncio.get_running_loop().create_future()
        assert self.queue is not None
        self.queue.put_nowait((item, self.size(item), future))
        return await future

    async def _gather(self) -> list[tuple[Any, int, asyncio.Future]]:
        """The first waiting item, then what else comes within the window."""
        loop = asyncio.get_running_loop()
        assert self.queue is not None
        batch = [await self.queue.get()]
        total = batch[0][1]
        deadline = loop.time() + self.window
        while total < self.max_items:
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), timeout))
            except asyncio.TimeoutError:
                break
            total += batch[-1][1]
        return batch

    async def _loop(self) -> None:
        while True:
            batch = await self._gather()
            try:
                results = await asyncio.to_thread(self.run, [item for item, _, _ in batch])
            except Exception as e:  # answer every waiting request, keep serving
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.metrics.batches += 1
            self.metrics.batched_items += sum(n for _, n, _ in batch)
            for (_, _, fut), result in zip(batch, results):
                if not fut.done():
                    fut.set_result(result)


async def image_bytes(request: Request, max_bytes: int = MAX_BYTES) -> bytes:
    """The image of a request: JSON {"image": base64}, multipart `file`, or a raw image body;
    BadInputError 413/415/422 for what is refused (before anything is decoded)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes * 4 // 3 + 4096:
        raise BadInputError(413, f"request body of {int(length):,} bytes is over the limit "
                            f"for an image of {max_bytes:,} bytes")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise BadInputError(422, "JSON body must be {\"image\": \"<base64>\"}")
        return base64_image(body["image"], max_bytes)
    if ctype == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=4)
        except Exception:
            raise BadInputError(422, "malformed multipart form") from None
        try:
            upload = form.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise BadInputError(422, "multipart form needs a file field named 'file'")
            data = await upload.read(max_bytes + 1)
        finally:
            await form.close()  # the spooled temporary files
        return _within(data, max_bytes)
    if ctype.startswith("image/") or ctype == "application/octet-stream":
        return _within(await request.body(), max_bytes)
    raise BadInputError(415, f"unsupported content type {ctype or '(none)'}: send JSON, "
                        "multipart/form-data or an image")


def _within(data: bytes, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise BadInputError(413, f"image is over the limit of {max_bytes:,} bytes")
    return data


async def json_body(request: Request) -> Any:
    """The request's JSON; BadInputError 422 when it is not JSON."""
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadInputError(422, "malformed JSON body") from None


def base64_image(text: str, max_bytes: int) -> bytes:
    """A base64 image (or a browser's data URL) -> its bytes; BadInputError 413/422."""
    if text.startswith("data:"):  # a data URL from a browser
        text = text.split(",", 1)[-1]
    if len(text) > max_bytes * 4 // 3 + 8:
        raise BadInputError(413, f"image is over the limit of {max_bytes:,} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError(422, "the image field is not valid base64") from None


class Service(Protocol):
    """What `build_app` and the operations routes need of a service."""

    metrics: Metrics
    batcher: MicroBatcher

    def load(self) -> None: ...

    def ready(self) -> bool: ...

    def info(self) -> dict[str, Any]: ...


# ------------------------------------------------------------ operations routes
operations = APIRouter(tags=["operations"])


@operations.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """Always ok while the process answers."""
    return {"status": "ok"}


@operations.get("/readyz", summary="Readiness: model loaded and batcher running")
async def readyz(request: Request) -> Any:
    """200 once the model is loaded and the micro-batcher runs, else 503."""
    service = request.app.state.service
    ready = service.ready() and service.batcher.running()
    return JSONResponse({"status": "ready" if ready else "starting"},
                        status_code=200 if ready else 503)


@operations.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def prometheus(request: Request) -> Any:
    """Request counts and latencies, decisions, micro-batches."""
    return PlainTextResponse(request.app.state.metrics.render(),
                             media_type="text/plain; version=0.0.4; charset=utf-8")


@operations.get("/v1/model", summary="The model behind the service")
async def model_info(request: Request) -> dict[str, Any]:
    """Name, version, input and output shapes, its card."""
    return request.app.state.service.info()


# ------------------------------------------------------------ the application
def _install_error_answers(app: FastAPI) -> None:
    """Every error is a JSON {"detail": one line} with its status."""

    @app.exception_handler(BadInputError)
    async def bad_input(request: Request, exc: BadInputError) -> Any:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return JSONResponse({"detail": f"invalid request: {where}: {first.get('msg', '')}"},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Any:
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"},
                            status_code=500)


def build_app(service: Service, routers: Sequence[APIRouter], title: str,
              description: str) -> FastAPI:
    """The FastAPI application of `service`: its routers and the operations routes, request
    metrics, JSON error answers and /static; the model loads (and warms up) on startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        # micro-batches are small and pre-processing runs beside the network: more BLAS
        # threads would spin against them (3x slower at 16 digits on 2 cores)
        with limit_blas_threads(BLAS_THREADS):
            await asyncio.to_thread(service.load)
            service.batcher.start()
            yield
            await service.batcher.stop()

    app = FastAPI(title=title, version="1.0", lifespan=lifespan, description=description)
    app.state.service, app.state.metrics = service, service.metrics
    app.state.batcher = service.batcher

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Any:
        t0 = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", None) or "other"
            service.metrics.observe(request.method, path, status, time.perf_counter() - t0)

    _install_error_answers(app)
    for router in (*routers, operations):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def ready_line(name: str, host: str, port: int) -> str:
    """What a server prints once it listens."""
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
    return (f"serving {name} at {url} (API schema: {url}openapi.json, Swagger UI: {url}docs, "
            "which loads its scripts from a CDN); Ctrl+C stops")


def run_server(app: FastAPI, host: str, port: int, name: str) -> None:
    """Serve `app` with uvicorn (blocking); print `ready_line` once the socket listens."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False))

    def announce() -> None:  # once the socket listens, not merely when the app has started
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(ready_line(name, host, port), flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
