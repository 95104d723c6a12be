"""Any image classifier that `rosenblatt train` makes, over HTTP: POST /v1/predict and a page.

`rosenblatt serve --model runs/x/best.safetensors` loads the checkpoint; its config (the model
card inside it) gives the class names, the input shape and the preprocessing (how an image
becomes the network's input). `--backend onnxruntime` runs the file `rosenblatt export` wrote
instead of the Rosenblatt model; both give the same probabilities within 1e-5. The micro-
batcher, metrics, errors and health/ready/metrics/model routes are the ZIP service's
(`common`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable

from fastapi import APIRouter, Request

from rosenblatt._backend import np
from rosenblatt.apps.digits.images import MAX_BYTES, BadInputError, decode_image

from . import common

BACKENDS = ("rosenblatt", "onnxruntime")
# what an older checkpoint without a `preprocessing` entry gets: the whole image resized,
# light on dark in [0, 1] as the data sets of `rosenblatt train` are
DEFAULT_PREPROCESSING = {"fit": "resize", "polarity": "light-on-dark", "mean": 0.0, "std": 1.0}


class NotAClassifierError(ValueError):
    """A model file that cannot be served as an image classifier (one-line message)."""


class ImageClassifier:
    """A trained image classifier: `net` maps (N, C, H, W) float32 to (N, K) logits."""

    def __init__(self, net: Callable[[Any], Any], config: dict, path: Path,
                 backend: str) -> None:
        self.net, self.config, self.path, self.backend = net, config, path, backend
        self.input_shape = tuple(int(n) for n in config["input_shape"])
        self.classes = [str(c) for c in config["classes"]]
        self.preprocessing = {**DEFAULT_PREPROCESSING, **config.get("preprocessing", {})}
        self.name = config.get("committed") or \
            f"{config.get('dataset', 'model')}-{config['model']['name']}"

    def logits(self, x: Any) -> Any:
        """(N, C, H, W) float32 -> (N, K) float32 logits."""
        return np.asarray(self.net(np.ascontiguousarray(x, np.float32)), np.float32)

    def prepare(self, image: Any) -> Any:
        """A decoded image (PIL) -> the network's input (C, H, W) float32, as the card says:
        a digit fitted as MNIST's (20x20 box, centre of mass centred) or the whole image
        resized; dark-on-light images inverted for a light-on-dark model; then normalized."""
        from PIL import Image

        from rosenblatt.apps.digits.preprocess import preprocess_digit, to_gray

        c, h, w = self.input_shape
        if self.preprocessing["fit"] == "digit" and (c, h, w) == (1, 28, 28):
            seg = preprocess_digit(image)  # no ink: the blank input
            x = seg.inputs[0] if len(seg.inputs) else np.zeros((1, h, w), np.float32)
        else:
            gray = to_gray(image)
            border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
            if self.preprocessing["polarity"] == "light-on-dark" and np.median(border) > 0.5:
                gray = 1.0 - gray  # dark ink on light paper, as drawn or photographed
            resized = Image.fromarray(np.ascontiguousarray(gray, np.float32), mode="F") \
                .resize((w, h), Image.BOX if gray.shape[0] > h else Image.BILINEAR)
            x = np.repeat(np.asarray(resized, np.float32)[None], c, axis=0)
        return self.normalize(x)

    def normalize(self, x: Any) -> Any:
        """(C, H, W) in [0, 1] -> (x - mean) / std of the card (per channel or one for all)."""
        mean = np.asarray(self.preprocessing["mean"], np.float32).reshape(-1, 1, 1)
        std = np.asarray(self.preprocessing["std"], np.float32).reshape(-1, 1, 1)
        return ((x - mean) / std).astype(np.float32)

    def info(self) -> dict[str, Any]:
        """/v1/model: what the model is, takes and answers, and its card."""
        from rosenblatt.ao.card import source_card

        card = source_card(self.path, self.config)
        return {"name": self.name, "version": str(card.get("version", "1")),
                "backend": self.backend, "file": str(self.path),
                "input_shape": [None, *self.input_shape],
                "output_shape": [None, len(self.classes)], "classes": self.classes,
                "dataset": self.config.get("dataset"), "preprocessing": self.preprocessing,
                "accuracy": card.get("test_accuracy"), "card": card}


def _check_classifier(config: dict, path: Path) -> None:
    """NotAClassifierError unless the config describes an image classifier."""
    model = config.get("model")
    if not isinstance(model, dict):
        raise NotAClassifierError(f"{path} is a {model or 'unknown'} model of "
                                  "`rosenblatt text train`, not an image classifier")
    shape, classes = config.get("input_shape"), config.get("classes")
    if not isinstance(shape, list) or len(shape) != 3:
        raise NotAClassifierError(f"{path} takes inputs of shape {tuple(shape or ())}, not "
                                  "images (channels, height, width)")
    if not isinstance(classes, list) or len(classes) != config.get("num_classes", len(classes)):
        raise NotAClassifierError(f"{path} has no class names in its config")


def load_image_classifier(spec: str | Path, backend: str = "rosenblatt",
                          onnx: str | Path | None = None) -> ImageClassifier:
    """A checkpoint of `rosenblatt train` (or committed weights by name) as a classifier run by
    Rosenblatt, or by onnxruntime on its ONNX export (`onnx`, default: the checkpoint's path
    with .onnx); one-line errors for a file that is not an image classifier."""
    from rosenblatt.train.cli import load_checkpoint, rebuild_model

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    try:
        weights, config, path = load_checkpoint(spec)
    except FileNotFoundError:
        raise
    except (ValueError, RuntimeError, OSError) as e:  # no config; not a checkpoint at all
        raise NotAClassifierError(str(e).splitlines()[0]) from None
    _check_classifier(config, path)
    if backend == "onnxruntime":
        return ImageClassifier(_onnx_net(Path(onnx or path.with_suffix(".onnx")), spec, config),
                               config, path, backend)
    import rosenblatt as rb

    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.eval()

    def net(x: Any) -> Any:
        with rb.no_grad():
            return model(rb.from_numpy(x)).numpy()

    return ImageClassifier(net, config, path, backend)


def _onnx_net(file: Path, spec: str | Path, config: dict) -> Callable[[Any], Any]:
    """An onnxruntime session on `file` (one thread, as the server's BLAS), checked against
    the checkpoint's input shape and class count."""
    import onnxruntime

    if not file.is_file():
        raise FileNotFoundError(f"no ONNX file at {file}: write it with `rosenblatt export "
                                f"{spec} --onnx {file}` or pass --onnx FILE")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(file), options,
                                               providers=["CPUExecutionProvider"])
    except Exception as e:
        raise NotAClassifierError(f"{file} is not an ONNX model onnxruntime can run "
                                  f"({str(e).splitlines()[0][:200]})") from None
    (first,), output = session.get_inputs(), session.get_outputs()[0]
    if [d for d in first.shape[1:]] != list(config["input_shape"]) or \
            output.shape[-1] != config["num_classes"]:
        raise NotAClassifierError(
            f"{file} maps {first.shape} to {output.shape}; the checkpoint's model takes "
            f"{config['input_shape']} to {config['num_classes']} classes")
    return lambda x: session.run([output.name], {first.name: x})[0]


class ClassifierService:
    """The classifier and its micro-batcher: what the prediction routes share."""

    def __init__(self, classifier: ImageClassifier, window_ms: float, max_bytes: int) -> None:
        self.classifier, self.max_bytes = classifier, max_bytes
        self.metrics = common.Metrics()
        self.batcher = common.MicroBatcher(lambda xs: list(classifier.logits(np.stack(xs))),
                                    self.metrics, window_ms)

    def load(self) -> None:
        """One blank input through the network (lazy imports, caches)."""
        self.classifier.logits(np.zeros((1, *self.classifier.input_shape), np.float32))

    def ready(self) -> bool:
        """Loaded on construction."""
        return True

    def info(self) -> dict[str, Any]:
        """/v1/model."""
        return self.classifier.info()


async def model_input(request: Request, svc: ClassifierService) -> tuple[Any, float]:
    """The request's network input (C, H, W) and when decoding ended: an image (see
    `common.image_bytes`), or JSON {"input": nested lists} of exactly the model's input shape."""
    clf = svc.classifier
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        body = await common.json_body(request)
        if isinstance(body, dict) and "input" in body:
            try:
                x = np.asarray(body["input"], np.float32)
            except (ValueError, TypeError):
                raise BadInputError(422, "the input field is not an array of numbers") from None
            if x.shape != clf.input_shape:
                raise BadInputError(422, f"input of shape {x.shape} does not fit the model's "
                                    f"{clf.input_shape} (channels, height, width)")
            if not np.isfinite(x).all():
                raise BadInputError(422, "the input holds NaN or infinite values")
            return x, time.perf_counter()
    data = await common.image_bytes(request, svc.max_bytes)

    def prepare() -> tuple[Any, float]:  # one thread hop for decode + pre-processing
        image = decode_image(data, svc.max_bytes)
        t = time.perf_counter()
        return clf.prepare(image), t

    return await asyncio.to_thread(prepare)


def top_k(logits: Any, classes: list[str], k: int) -> list[dict[str, Any]]:
    """(K,) logits -> the k most probable classes, most probable first."""
    z = np.asarray(logits, np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")[:k]
    return [{"class": classes[i], "index": int(i), "probability": round(float(p[i]), 7)}
            for i in order]


# ------------------------------------------------------------------ prediction
predicting = APIRouter(tags=["prediction"])
_JSON_BODY = {"schema": {"type": "object", "properties": {
    "image": {"type": "string", "format": "byte", "description": "the encoded image, base64"},
    "input": {"type": "array", "items": {},
              "description": "the network's input itself, (C, H, W) numbers"}}}}
PREDICT_BODY = {**common.IMAGE_BODY,
                "content": {**common.IMAGE_BODY["content"], "application/json": _JSON_BODY}}


@predicting.post("/v1/predict", openapi_extra={"requestBody": PREDICT_BODY},
                 summary="Classify an image: the top-k classes with their probabilities")
async def predict(request: Request, k: int = 5) -> dict[str, Any]:
    """The k most probable classes (default 5), the input the network saw (base64 PNG of its
    first channel, before normalization) and timings."""
    svc: ClassifierService = request.app.state.service
    clf = svc.classifier
    if not 1 <= k <= len(clf.classes):
        raise BadInputError(422, f"k must be between 1 and {len(clf.classes)}, not {k}")
    t0 = time.perf_counter()
    x, t1 = await model_input(request, svc)
    logits = await svc.batcher.submit(x)
    t2 = time.perf_counter()
    mean, std = (np.asarray(clf.preprocessing[key], np.float32).reshape(-1)[0]
                 for key in ("mean", "std"))
    return {"predictions": top_k(logits, clf.classes, k),
            "model": {"name": clf.name, "backend": clf.backend},
            "input_png": common.png_base64(x[0] * std + mean),
            "timings_ms": {"decode": round(1000 * (t1 - t0), 3),
                           "network": round(1000 * (t2 - t1), 3),
                           "total": round(1000 * (t2 - t0), 3)}}


pages = APIRouter(include_in_schema=False)


@pages.get("/")
async def index() -> Any:
    """The page: draw or upload an image, see the top-5 classes as bars."""
    return common.page("predict.html", "Rosenblatt image classifier", ["pad.js", "predict.js"],
                       pad=common.drawing_pad("predict", "Predict"))


def create_classifier_app(classifier: ImageClassifier, window_ms: float = 3.0,
                          max_bytes: int = MAX_BYTES) -> Any:
    """The FastAPI application serving `classifier` (see `load_image_classifier`)."""
    service = ClassifierService(classifier, window_ms, max_bytes)
    classes = ", ".join(classifier.classes[:10]) + (", ..." if len(classifier.classes) > 10
                                                    else "")
    shape = "x".join(map(str, classifier.input_shape))
    return common.build_app(service, [predicting, pages], title=f"Rosenblatt: {classifier.name}",
                            description=f"Classifies {shape} images into "
                                        f"{len(classifier.classes)} classes ({classes}); "
                                        f"backend {classifier.backend}.")

