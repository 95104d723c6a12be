"""The ZIP reader over HTTP (FastAPI): reading endpoints, micro-batching, review, metrics, page.

POST /v1/digit and /v1/zip take an image as JSON {"image": base64}, a multipart file (field
`file`) or raw image bytes. Image headers are checked before any pixel is decoded (size and
dimensions), so a decompression bomb is refused with 413. Concurrent requests are gathered
for a few milliseconds into one network call. Every piece sent to review is queued in SQLite.
"""


import asyncio
import base64
import binascii
import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from rosenblatt._backend import np
from rosenblatt.apps.digits.images import MAX_BYTES, BadInputError, decode_image
from rosenblatt.utils.threads import limit_blas_threads

STATIC = Path(__file__).resolve().parent / "static"
BLAS_THREADS = 1  # per server process, while it serves
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


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
        key = (method, path, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.latency.setdefault(path, [0.0] * (len(BUCKETS) + 2))
        for i, b in enumerate(BUCKETS):
            if seconds <= b:
                hist[i] += 1
        hist[-2] += seconds
        hist[-1] += 1

    def decision(self, endpoint: str, decision: str) -> None:
        key = (endpoint, decision)
        self.decisions[key] = self.decisions.get(key, 0) + 1

    def render(self) -> str:
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
                  "# HELP rosenblatt_batched_digits_total Digits classified by those calls.",
                  "# TYPE rosenblatt_batched_digits_total counter",
                  f"rosenblatt_batched_digits_total {self.batched_items}"]
        return "\n".join(lines) + "\n"


class MicroBatcher:
    """Gathers the digits of concurrent requests for `window_ms` into one network call."""

    def __init__(self, reader: Any, metrics: Metrics, window_ms: float = 3.0,
                 max_digits: int = 1024) -> None:
        self.reader, self.metrics = reader, metrics
        self.window = window_ms / 1000.0
        self.max_digits = max_digits
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None

    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> None:
        if not self.running():
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None

    async def logits(self, inputs: Any) -> Any:
        """(k, 1, 28, 28) -> (k, 10) logits, computed together with other requests' digits."""
        if len(inputs) == 0:
            return np.zeros((0, 10), np.float32)
        self.start()
        future = asyncio.get_running_loop().create_future()
        assert self.queue is not None
        self.queue.put_nowait((inputs, future))
        return await future

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.queue is not None
        while True:
            batch = [await self.queue.get()]
            size = len(batch[0][0])
            deadline = loop.time() + self.window
            while size < self.max_digits:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), timeout)
                except asyncio.TimeoutError:
                    break
                batch.append(item)
                size += len(item[0])
            inputs = np.concatenate([b[0] for b in batch])
            try:
                logits = await asyncio.to_thread(self.reader.logits, inputs)
            except Exception as e:  # answer every waiting request, keep serving
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.metrics.batches += 1
            self.metrics.batched_items += len(inputs)
            start = 0
            for x, fut in batch:
                if not fut.done():
                    fut.set_result(logits[start : start + len(x)])
                start += len(x)


def warm_up(reader: Any) -> None:
    """Run one blank field and one random digit through the pipeline (lazy imports, caches)."""
    from rosenblatt.apps.digits.preprocess import preprocess_field

    field = np.full((48, 160), 255, np.uint8)
    field[10:38, 20:24] = 0
    reader.logits(preprocess_field(field).inputs)


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


def create_app(reader: Any = None, token: str | None = None, db_path: str | Path | None = None,
               window_ms: float = 3.0, max_bytes: int = MAX_BYTES) -> Any:
    """The FastAPI application. reader: a ZipReader (loaded on startup when None); token: the
    review bearer token ($ROSENBLATT_REVIEW_TOKEN); db_path: the review queue's SQLite file or
    postgresql:// URL (replicas on several machines share one PostgreSQL queue)."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from rosenblatt.apps.digits.review import open_queue

    token = token if token is not None else os.environ.get("ROSENBLATT_REVIEW_TOKEN") or None
    db_path = db_path or os.environ.get("ROSENBLATT_REVIEW_DB", "review.sqlite")
    metrics = Metrics()
    state: dict[str, Any] = {"reader": reader, "queue": open_queue(db_path)}

    def get_reader() -> Any:
        if state["reader"] is None:
            from rosenblatt.apps.digits.reader import ZipReader

            state["reader"] = ZipReader.load()
        return state["reader"]

    batcher = MicroBatcher(reader, metrics, window_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        # micro-batches are small and pre-processing runs beside the network: more BLAS
        # threads would spin against them (3x slower at 16 digits on 2 cores)
        with limit_blas_threads(BLAS_THREADS):
            batcher.reader = await asyncio.to_thread(get_reader)
            await asyncio.to_thread(warm_up, batcher.reader)  # imports, caches before traffic
            batcher.start()
            yield
            await batcher.stop()

    app = FastAPI(title="Rosenblatt ZIP reader", version="1.0", lifespan=lifespan,
                  description="Reads handwritten digits and ZIP codes; unsure pieces go to "
                              "human review.")
    app.state.metrics = metrics
    app.state.batcher = batcher
    app.state.queue = state["queue"]

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
            metrics.observe(request.method, path, status, time.perf_counter() - t0)

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
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)

    async def image_bytes(request: Request) -> bytes:
        """The image of a request: JSON base64, multipart `file`, or a raw image body."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_bytes * 4 // 3 + 4096:
            raise BadInputError(413, f"request body of {int(length):,} bytes is over the limit "
                                f"for an image of {max_bytes:,} bytes")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise BadInputError(422, "malformed JSON body") from None
            if not isinstance(body, dict) or not isinstance(body.get("image"), str):
                raise BadInputError(422, "JSON body must be {\"image\": \"<base64>\"}")
            text = body["image"]
            if text.startswith("data:"):  # a data URL from a browser
                text = text.split(",", 1)[-1]
            if len(text) > max_bytes * 4 // 3 + 8:
                raise BadInputError(413, f"image is over the limit of {max_bytes:,} bytes")
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise BadInputError(422, "the image field is not valid base64") from None
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
            if len(data) > max_bytes:
                raise BadInputError(413, f"image is over the limit of {max_bytes:,} bytes")
            return data
        if ctype.startswith("image/") or ctype == "application/octet-stream":
            data = await request.body()
            if len(data) > max_bytes:
                raise BadInputError(413, f"image is over the limit of {max_bytes:,} bytes")
            return data
        raise BadInputError(415, f"unsupported content type {ctype or '(none)'}: send JSON, "
                            "multipart/form-data or an image")

    async def read(request: Request, kind: str) -> dict[str, Any]:
        from rosenblatt.apps.digits.preprocess import preprocess_digit, preprocess_field

        t0 = time.perf_counter()
        data = await image_bytes(request)
        rd = get_reader()
        batcher.reader = batcher.reader or rd

        def prepare() -> tuple[Any, Any, float]:  # one thread hop for decode + pre-processing
            image = decode_image(data, max_bytes)
            t = time.perf_counter()
            if kind == "digit":
                return image, preprocess_digit(image), t
            return image, preprocess_field(image, rd.expected), t

        image, seg, t1 = await asyncio.to_thread(prepare)
        expected = 1 if kind == "digit" else rd.expected
        threshold = rd.digit_threshold if kind == "digit" else rd.threshold
        t2 = time.perf_counter()
        logits, inputs, boxes = rd.choose(seg, await batcher.logits(seg.pieces()), expected)
        probs = rd.probabilities(logits)
        t3 = time.perf_counter()
        decision, reasons = rd.decide(probs, seg.no_ink, expected, threshold)
        metrics.decision(kind, decision)
        reading = "".join(str(int(d)) for d in probs.argmax(axis=1))
        inv = 1.0 / seg.scale
        result: dict[str, Any] = {
            "reading": reading,
            "decision": decision,
            "reasons": reasons,
            "digits": [{"digit": int(p.argmax()), "confidence": round(float(p.max()), 6),
                        "probabilities": [round(float(v), 6) for v in p],
                        "box": [int(round(v * inv)) for v in box],
                        "input_png": png_base64(x[0])}
                       for p, box, x in zip(probs, boxes, inputs)],
            "model": {"name": rd.classifier.name, "version": rd.classifier.version},
            "review_id": None,
        }
        if decision == "review":
            def queue_it() -> int:
                png = data
                if image.format != "PNG":  # the queue keeps PNG: re-encode other formats
                    buf = io.BytesIO()
                    keep = image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I")
                    (image if keep else image.convert("RGB")).save(buf, "PNG")
                    png = buf.getvalue()
                return state["queue"].add(kind, png, reading, probs, reasons, inputs)

            result["review_id"] = await asyncio.to_thread(queue_it)
        t4 = time.perf_counter()
        result["timings_ms"] = {"decode": round(1000 * (t1 - t0), 3),
                                "preprocess": round(1000 * (t2 - t1), 3),
                                "network": round(1000 * (t3 - t2), 3),
                                "total": round(1000 * (t4 - t0), 3)}
        return result

    @app.post("/v1/digit", openapi_extra={"requestBody": IMAGE_BODY},
              summary="Read one handwritten digit")
    async def read_digit(request: Request) -> dict[str, Any]:
        """The digit, per-class probabilities, accept/review with reasons, timings and the
        28x28 input the network saw (base64 PNG)."""
        return await read(request, "digit")

    @app.post("/v1/zip", openapi_extra={"requestBody": IMAGE_BODY},
              summary="Read a handwritten ZIP-code field")
    async def read_zip(request: Request) -> dict[str, Any]:
        """The five digits, per-digit probabilities, accept/review with reasons, timings and
        the 28x28 inputs the network saw (base64 PNG)."""
        return await read(request, "zip")

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: model loaded and batcher running")
    async def readyz() -> Any:
        ready = state["reader"] is not None and batcher.running()
        return JSONResponse({"status": "ready" if ready else "starting"},
                            status_code=200 if ready else 503)

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def prometheus() -> Any:
        return PlainTextResponse(metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/v1/model", summary="The model behind the reader")
    async def model_info() -> dict[str, Any]:
        rd = get_reader()
        card = dict(getattr(rd.classifier, "card", {}) or {})
        validation = rd.calibration.get("validation", {})
        return {"name": rd.classifier.name, "version": rd.classifier.version,
                "input_shape": [None, 1, 28, 28], "output_shape": [None, 10],
                "temperature": rd.temperature, "threshold": rd.threshold,
                "digit_threshold": rd.digit_threshold,
                "accuracy": card.get("accuracy", card.get("test_accuracy")),
                "validation": validation, "card": card}

    def authorise(request: Request) -> None:
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        import hmac

        if not token or not given or not hmac.compare_digest(given, token):
            raise HTTPException(401, "review needs a valid bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.get("/v1/review", summary="Pending review items (bearer token)")
    async def review_list(request: Request, limit: int = 50) -> dict[str, Any]:
        authorise(request)
        limit = max(1, min(int(limit), 500))
        items = await asyncio.to_thread(state["queue"].pending, limit)
        for item in items:
            item["image_png"] = base64.b64encode(item.pop("image")).decode()
        counts = await asyncio.to_thread(state["queue"].counts)
        return {"items": items, "counts": counts}

    @app.post("/v1/review/claim", summary="Take the oldest review item nobody holds "
              "(bearer token): no two reviewers get the same one")
    async def review_claim(request: Request, reviewer: str = "reviewer",
                           seconds: float = 300.0) -> dict[str, Any]:
        authorise(request)
        seconds = max(1.0, min(float(seconds), 3600.0))
        item = await asyncio.to_thread(state["queue"].claim, reviewer[:100], seconds)
        if item is None:
            return {"item": None}
        item["image_png"] = base64.b64encode(item.pop("image")).decode()
        return {"item": item}

    @app.post("/v1/review/{item_id}", summary="Label a review item (bearer token)",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {
                      "type": "object", "required": ["label"],
                      "properties": {"label": {"type": "string", "pattern": "^[0-9]{1,12}$"}}}}}}})
    async def review_label(item_id: int, request: Request) -> dict[str, Any]:
        authorise(request)
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadInputError(422, "malformed JSON body") from None
        label = body.get("label") if isinstance(body, dict) else None
        if not isinstance(label, str):
            raise BadInputError(422, "JSON body must be {\"label\": \"<digits>\"}")
        try:
            await asyncio.to_thread(state["queue"].label, item_id, label)
        except KeyError:
            raise HTTPException(404, f"no review item {item_id}") from None
        except ValueError as e:
            raise BadInputError(422, str(e)) from None
        return {"id": item_id, "status": "labelled", "label": label.strip()}

    @app.get("/", include_in_schema=False)
    async def index() -> Any:
        return FileResponse(STATIC / "index.html")

    @app.get("/review", include_in_schema=False)
    async def review_page() -> Any:
        return FileResponse(STATIC / "review.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_env() -> Any:
    """App factory for `uvicorn --factory` and worker processes: configuration from the
    environment (ROSENBLATT_REVIEW_TOKEN, ROSENBLATT_REVIEW_DB, ROSENBLATT_BATCH_WINDOW_MS)."""
    from rosenblatt.apps.digits.reader import ZipReader

    return create_app(ZipReader.load(), window_ms=float(
        os.environ.get("ROSENBLATT_BATCH_WINDOW_MS", "3")))


def serve_reader(model: str = "zip-reader", log: Any = None) -> Any:
    """The ZipReader of `serve --model`: 'zip-reader' (the reader's own model) or
    'lenet5-mnist' (the committed MNIST LeNet-5 with its committed calibration)."""
    from rosenblatt.apps.digits.model import committed_classifier
    from rosenblatt.apps.digits.reader import ZipReader

    if model == "zip-reader":
        return ZipReader.load(log=log)
    if model == "lenet5-mnist":
        classifier = committed_classifier()
        if classifier is None:
            raise FileNotFoundError("the committed LeNet-5 weights are missing")
        return ZipReader.load(classifier, log=log)
    raise ValueError(f"unknown model {model!r}; choose zip-reader or lenet5-mnist")


def run(host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
        db_path: str | Path | None = None, window_ms: float = 3.0, workers: int = 1,
        model: str = "zip-reader") -> None:
    """Serve with uvicorn (blocking); workers > 1 runs that many processes on one port."""
    import uvicorn

    reader = serve_reader(model, log=lambda m: print(m, flush=True))  # calibrates once
    if not token:
        print("no review token set: the review endpoints answer 401", flush=True)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"

    def ready() -> None:
        print(f"serving {reader.classifier.name} at {url} (API schema: {url}openapi.json, "
              f"Swagger UI: {url}docs, which loads its scripts from a CDN); Ctrl+C stops",
              flush=True)

    if workers > 1:
        if model != "zip-reader":
            raise ValueError("--workers > 1 serves the zip-reader model only")
        os.environ["ROSENBLATT_REVIEW_TOKEN"] = token or ""
        os.environ["ROSENBLATT_REVIEW_DB"] = str(db_path or "review.sqlite")
        os.environ["ROSENBLATT_BATCH_WINDOW_MS"] = str(window_ms)
        ready()
        uvicorn.run("rosenblatt.serve.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", access_log=False)
        return
    app = create_app(reader, token=token, db_path=db_path, window_ms=window_ms)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False))

    def announce() -> None:  # once the socket listens, not merely when the app has started
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            ready()

    threading.Thread(target=announce, daemon=True).start()
    server.run()
