"""`rosenblatt serve`: the ZIP reader, or any image classifier that `rosenblatt train` made."""

from __future__ import annotations

import argparse
import os
from typing import Any

# `serve --model` names of the ZIP reader: on its own model (the committed cascade, or what
# `zip retrain` or `zip train-cnn` made), or on the committed MNIST LeNet-5. Any other MODEL is
# an image classifier, as for `evaluate` and `export`: `lenet5-mnist` (the committed LeNet-5)
# or a checkpoint of `rosenblatt train`.
ZIP_MODELS = ("zip-reader", "zip-reader:lenet5-mnist")


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C."""
    from rosenblatt.cli import use_data_root

    use_data_root(args)
    try:
        if args.model in ZIP_MODELS:
            if args.backend != "rosenblatt" or args.onnx:
                raise ValueError("--backend onnxruntime and --onnx serve a checkpoint of "
                                 "`rosenblatt train` (--model FILE), not the ZIP reader")
            from rosenblatt.serve.app import run

            token = args.token or os.environ.get("ROSENBLATT_REVIEW_TOKEN") or None
            run(host=args.host, port=args.port, token=token, db_path=args.db,
                window_ms=args.window_ms, workers=args.workers, model=args.model)
            return 0
        if args.workers > 1:
            raise ValueError("--workers > 1 serves the zip-reader model only")
        from rosenblatt.serve.classifier import create_classifier_app, load_image_classifier
        from rosenblatt.serve.common import run_server

        classifier = load_image_classifier(args.model, args.backend, args.onnx)
        run_server(create_classifier_app(classifier, args.window_ms), args.host, args.port,
                   f"{classifier.name} ({classifier.backend})")
    except KeyboardInterrupt:  # Ctrl+C is how a server is stopped: not an error
        print("stopped", flush=True)
    return 0


def register(subparsers: Any) -> None:
    """Add `serve`."""
    from rosenblatt.apps.digits.cli import default_db
    from rosenblatt.cli import DefaultsHelp, add_data_root

    p = subparsers.add_parser(
        "serve", help="serve the ZIP reader or a trained image classifier over HTTP",
        formatter_class=DefaultsHelp,
        description="Serve the ZIP reader, or with --model FILE any image classifier that "
        "`rosenblatt train` wrote (POST /v1/predict: the top-k classes): a web page at / , "
        "the API at /v1/..., /healthz, /readyz, /metrics, its OpenAPI schema at /openapi.json "
        "and /docs (Swagger UI, whose scripts come from a CDN: blank offline). Prints the URL "
        "once it is ready; Ctrl+C stops it.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument("--model", default="zip-reader", metavar="MODEL",
                   help="zip-reader (the ZIP reader: POST /v1/zip, /v1/digit), "
                   "zip-reader:lenet5-mnist (the ZIP reader on the committed MNIST LeNet-5), "
                   "or an image classifier (POST /v1/predict): lenet5-mnist (the committed "
                   "LeNet-5) or a checkpoint of `rosenblatt train`")
    p.add_argument("--backend", choices=("rosenblatt", "onnxruntime"), default="rosenblatt",
                   help="what runs a checkpoint: Rosenblatt, or onnxruntime on its ONNX export")
    p.add_argument("--onnx", default=None, metavar="FILE",
                   help="the ONNX export that --backend onnxruntime runs (default: the "
                   "checkpoint's path with .onnx; write it with `rosenblatt export`)")
    p.add_argument("--token", default=None,
                   help="bearer token for the ZIP reader's review endpoints (default: "
                   "$ROSENBLATT_REVIEW_TOKEN; none: the review endpoints answer 401)")
    p.add_argument("--db", "--review-db", default=default_db(),
                   help="the ZIP reader's review queue: an SQLite file or a postgresql:// URL "
                   "shared by replicas ($ROSENBLATT_REVIEW_DB)")
    p.add_argument("--window-ms", type=float, default=3.0,
                   help="micro-batching window in milliseconds")
    p.add_argument("--workers", type=int, default=1, help="server processes (ZIP reader)")
    add_data_root(p)
    p.set_defaults(func=cmd_serve)
