"""The ZIP reader over HTTP (FastAPI): reading, review queue and page routes.

POST /v1/digit and /v1/zip take an image as JSON {"image": base64}, a multipart file (field
`file`) or raw image bytes (see `common.image_bytes`: headers are checked before any pixel is
decoded, so a decompression bomb is refused with 413). Each request is pre-processed in a
thread; the micro-batcher gathers the segmentations of concurrent requests for a few
milliseconds into one `ZipReader.classify` call, the batch reader's own reading path (the cut
chosen on the first pass, only the kept digits re-read). Every piece sent to review is queued
in SQLite (or PostgreSQL). Health, readiness, metrics and /v1/model come from `common`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import io
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request

from rosenblatt._backend import np
from rosenblatt.apps.digits.images import MAX_BYTES, BadInputError, decode_image

from .common import (
    IMAGE_BODY,
    Metrics,
    MicroBatcher,
    build_app,
    drawing_pad,
    image_bytes,
    json_body,
    page,
    png_base64,
    ready_line,
    run_server,
)

if TYPE_CHECKING:
    from rosenblatt.apps.digits.reader import Reading


class ZipService:
    """The reader, its review queue and micro-batcher: what the ZIP routes share."""

    def __init__(self, reader: Any, queue: Any, token: str | None, window_ms: float,
                 max_bytes: int) -> None:
        self.reader, self.queue, self.token, self.max_bytes = reader, queue, token, max_bytes
        self.metrics = Metrics()
        self.batcher = MicroBatcher(self.classify, self.metrics, window_ms,
                                    size=lambda item: len(item[0].pieces()))

    def load(self) -> None:
        """Load the default reader when none was given; one blank field through the path."""
        from rosenblatt.apps.digits.preprocess import preprocess_field

        if self.reader is None:
            from rosenblatt.apps.digits.reader import ZipReader

            self.reader = ZipReader.load()
        field = np.full((48, 160), 255, np.uint8)
        field[10:38, 20:24] = 0
        self.classify([(preprocess_field(field, self.reader.expected), self.reader.expected)])

    def ready(self) -> bool:
        """Whether the reader is loaded."""
        return self.reader is not None

    def classify(self, items: list[tuple[Any, int | None]]) -> list[Any]:
        """[(segmentation, expected count)] -> per item the reader's `classify` reading
        (logits (k, 10), inputs (k, 1, 28, 28), boxes): one call per expected count."""
        out: list[Any] = [None] * len(items)
        for expected in {e for _, e in items}:
            where = [i for i, (_, e) in enumerate(items) if e == expected]
            read = self.reader.classify([items[i][0] for i in where], expected)
            for i, r in zip(where, read):
                out[i] = r
        return out

    def info(self) -> dict[str, Any]:
        """/v1/model: the classifier, its calibration and card."""
        rd = self.reader
        card = dict(rd.classifier.card)
        return {"name": rd.classifier.name, "version": rd.classifier.version,
                "input_shape": [None, 1, 28, 28], "output_shape": [None, 10],
                "temperature": rd.temperature, "threshold": rd.threshold,
                "digit_threshold": rd.digit_threshold,
                "accuracy": card.get("accuracy", card.get("test_accuracy")),
                "validation": rd.calibration.get("validation", {}), "card": card}

    def queue_review(self, kind: str, data: bytes, image: Any, r: Reading) -> int:
        """Queue a piece and its reading for review (as PNG: other formats are re-encoded);
        its id."""
        png = data
        if image.format != "PNG":
            buf = io.BytesIO()
            keep = image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I")
            (image if keep else image.convert("RGB")).save(buf, "PNG")
            png = buf.getvalue()
        return self.queue.add(kind, png, r.text, r.probabilities, r.reasons, r.inputs)


def _service(request: Request) -> ZipService:
    return request.app.state.service


# ------------------------------------------------------------------ reading
reading = APIRouter(tags=["reading"])


async def read(request: Request, kind: str) -> dict[str, Any]:
    """Decode and pre-process in a thread, classify with other requests, decide, queue."""
    from rosenblatt.apps.digits.preprocess import preprocess_digit, preprocess_field

    svc = _service(request)
    rd = svc.reader
    t0 = time.perf_counter()
    data = await image_bytes(request, svc.max_bytes)

    def prepare() -> tuple[Any, Any, float]:  # one thread hop for decode + pre-processing
        image = decode_image(data, svc.max_bytes)
        t = time.perf_counter()
        if kind == "digit":
            return image, preprocess_digit(image), t
        return image, preprocess_field(image, rd.expected), t

    image, seg, t1 = await asyncio.to_thread(prepare)
    expected, threshold = (1, rd.digit_threshold) if kind == "digit" \
        else (rd.expected, rd.threshold)
    t2 = time.perf_counter()
    read = await svc.batcher.submit((seg, expected))
    t3 = time.perf_counter()
    r = rd.reading(seg, read, expected, threshold)  # as the batch reader reads
    svc.metrics.decision(kind, r.decision)
    result: dict[str, Any] = {
        "reading": r.text, "decision": r.decision, "reasons": r.reasons,
        "digits": [{"digit": int(d), "confidence": round(c, 6),
                    "probabilities": [round(v, 6) for v in p], "box": list(box),
                    "input_png": png_base64(x[0])}
                   for d, c, p, box, x in zip(r.text, r.confidences, r.probabilities, r.boxes,
                                              r.inputs)],
        "model": {"name": rd.classifier.name, "version": rd.classifier.version},
        "review_id": None,
    }
    if r.decision == "review":
        result["review_id"] = await asyncio.to_thread(svc.queue_review, kind, data, image, r)
    t4 = time.perf_counter()
    result["timings_ms"] = {"decode": round(1000 * (t1 - t0), 3),
                            "preprocess": round(1000 * (t2 - t1), 3),
                            "network": round(1000 * (t3 - t2), 3),
                            "total": round(1000 * (t4 - t0), 3)}
    return result


@reading.post("/v1/digit", openapi_extra={"requestBody": IMAGE_BODY},
              summary="Read one handwritten digit")
async def read_digit(request: Request) -> dict[str, Any]:
    """The digit, per-class probabilities, accept/review with reasons, timings and the
    28x28 input the network saw (base64 PNG)."""
    return await read(request, "digit")


@reading.post("/v1/zip", openapi_extra={"requestBody": IMAGE_BODY},
              summary="Read a handwritten ZIP-code field")
async def read_zip(request: Request) -> dict[str, Any]:
    """The five digits, per-digit probabilities, accept/review with reasons, timings and
    the 28x28 inputs the network saw (base64 PNG)."""
    return await read(request, "zip")


# ------------------------------------------------------------------ review queue
review = APIRouter(tags=["review"])


def authorise(request: Request) -> ZipService:
    """The service, when the request carries the review bearer token; else 401."""
    svc = _service(request)
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not svc.token or not given or not hmac.compare_digest(given, svc.token):
        raise HTTPException(401, "review needs a valid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return svc


def _with_png(item: dict[str, Any]) -> dict[str, Any]:
    item["image_png"] = base64.b64encode(item.pop("image")).decode()
    return item


@review.get("/v1/review", summary="Pending review items (bearer token)")
async def review_list(request: Request, limit: int = 50) -> dict[str, Any]:
    """The oldest pending items (their images as base64 PNG) and the queue's counts."""
    svc = authorise(request)
    items = await asyncio.to_thread(svc.queue.pending, max(1, min(int(limit), 500)))
    counts = await asyncio.to_thread(svc.queue.counts)
    return {"items": [_with_png(i) for i in items], "counts": counts}


@review.post("/v1/review/claim", summary="Take the oldest review item nobody holds "
             "(bearer token): no two reviewers get the same one")
async def review_claim(request: Request, reviewer: str = "reviewer",
                       seconds: float = 300.0) -> dict[str, Any]:
    """The claimed item, held for `seconds`, or None."""
    svc = authorise(request)
    seconds = max(1.0, min(float(seconds), 3600.0))
    item = await asyncio.to_thread(svc.queue.claim, reviewer[:100], seconds)
    return {"item": None if item is None else _with_png(item)}


@review.post("/v1/review/{item_id}", summary="Label a review item (bearer token)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {
                     "type": "object", "required": ["label"],
                     "properties": {"label": {"type": "string", "pattern": "^[0-9]{1,12}$"}}}}}}})
async def review_label(item_id: int, request: Request) -> dict[str, Any]:
    """Store the digits a person read."""
    svc = authorise(request)
    body = await json_body(request)
    label = body.get("label") if isinstance(body, dict) else None
    if not isinstance(label, str):
        raise BadInputError(422, "JSON body must be {\"label\": \"<digits>\"}")
    try:
        await asyncio.to_thread(svc.queue.label, item_id, label)
    except KeyError:
        raise HTTPException(404, f"no review item {item_id}") from None
    except ValueError as e:
        raise BadInputError(422, str(e)) from None
    return {"id": item_id, "status": "labelled", "label": label.strip()}


# ------------------------------------------------------------------ pages
pages = APIRouter(include_in_schema=False)


@pages.get("/")
async def index() -> Any:
    """The page: draw or upload a digit or a ZIP field."""
    return page("index.html", "Rosenblatt ZIP reader", ["pad.js", "app.js"],
                pad=drawing_pad("read", "Read"))


@pages.get("/review")
async def review_page() -> Any:
    """The reviewers' page."""
    return page("review.html", "Review queue — Rosenblatt ZIP reader", ["review.js"])


def create_app(reader: Any = None, token: str | None = None, db_path: str | Path | None = None,
               window_ms: float = 3.0, max_bytes: int = MAX_BYTES) -> Any:
    """The FastAPI application. reader: a ZipReader (loaded on startup when None); token: the
    review bearer token ($ROSENBLATT_REVIEW_TOKEN); db_path: the review queue's SQLite file or
    postgresql:// URL (replicas on several machines share one PostgreSQL queue)."""
    from rosenblatt.apps.digits.review import open_queue

    token = token if token is not None else os.environ.get("ROSENBLATT_REVIEW_TOKEN") or None
    db_path = db_path or os.environ.get("ROSENBLATT_REVIEW_DB", "review.sqlite")
    service = ZipService(reader, open_queue(db_path), token, window_ms, max_bytes)
    app = build_app(service, [reading, review, pages], title="Rosenblatt ZIP reader",
                    description="Reads handwritten digits and ZIP codes; unsure pieces go to "
                                "human review.")
    app.state.queue = service.queue
    return app


def app_from_env() -> Any:
    """App factory for `uvicorn --factory` and worker processes: configuration from the
    environment (ROSENBLATT_REVIEW_TOKEN, ROSENBLATT_REVIEW_DB, ROSENBLATT_BATCH_WINDOW_MS)."""
    from rosenblatt.apps.digits.reader import ZipReader

    return create_app(ZipReader.load(), window_ms=float(
        os.environ.get("ROSENBLATT_BATCH_WINDOW_MS", "3")))


def serve_reader(model: str = "zip-reader", log: Any = None) -> Any:
    """The ZipReader of `serve --model`: 'zip-reader' (the reader's own model) or
    'zip-reader:lenet5-mnist' (the committed MNIST LeNet-5 with its committed calibration)."""
    from rosenblatt.apps.digits.model import committed_classifier
    from rosenblatt.apps.digits.reader import ZipReader

    from .cli import ZIP_MODELS

    if model == "zip-reader":
        return ZipReader.load(log=log)
    if model == "zip-reader:lenet5-mnist":
        classifier = committed_classifier()
        if classifier is None:
            raise FileNotFoundError("the committed LeNet-5 weights are missing")
        return ZipReader.load(classifier, log=log)
    raise ValueError(f"unknown ZIP reader model {model!r}; choose {' or '.join(ZIP_MODELS)}")


def run(host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
        db_path: str | Path | None = None, window_ms: float = 3.0, workers: int = 1,
        model: str = "zip-reader") -> None:
    """Serve with uvicorn (blocking); workers > 1 runs that many processes on one port."""
    import uvicorn

    reader = serve_reader(model, log=lambda m: print(m, flush=True))  # calibrates once
    if not token:
        print("no review token set: the review endpoints answer 401", flush=True)
    if workers > 1:
        if model != "zip-reader":
            raise ValueError("--workers > 1 serves the zip-reader model only")
        os.environ["ROSENBLATT_REVIEW_TOKEN"] = token or ""
        os.environ["ROSENBLATT_REVIEW_DB"] = str(db_path or "review.sqlite")
        os.environ["ROSENBLATT_BATCH_WINDOW_MS"] = str(window_ms)
        print(ready_line(reader.classifier.name, host, port), flush=True)
        uvicorn.run("rosenblatt.serve.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", access_log=False)
        return
    run_server(create_app(reader, token=token, db_path=db_path, window_ms=window_ms), host,
               port, reader.classifier.name)
