"""`rosenblatt zip read|evaluate|make-samples|calibrate|retrain`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rosenblatt.cli import add_command_group, add_data_root, use_data_root


def default_db() -> str:
    """The review queue's default path ($ROSENBLATT_REVIEW_DB or ./review.sqlite)."""
    return os.environ.get("ROSENBLATT_REVIEW_DB", "review.sqlite")


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def load_images(names: list[str]) -> tuple[list[str], list[Any], list[str]]:
    """(names read, their images, one line per file refused: 'NAME: reason'), each file
    checked as the HTTP service checks an upload (size, format, pixel limits, decoding)."""
    from .images import BadInputError, read_image_file

    good, images, bad = [], [], []
    for name in names:
        try:
            images.append(read_image_file(name))
            good.append(name)
        except BadInputError as e:
            bad.append(f"{name}: {e.message}")
        except OSError as e:  # unreadable: permissions, a folder, ...
            bad.append(f"{name}: {e.strerror or e}")
    return good, images, bad


def _read(args: argparse.Namespace) -> int:
    from .reader import ZipReader

    names, images, bad = load_images(args.images)
    for line in bad:
        _log(f"rosenblatt zip read: error: {line}")
    if not images:
        return 1
    reader = ZipReader.load(log=_log)
    readings = reader.read_digits(images) if args.digit else reader.read_fields(images)
    for name, r in zip(names, readings):
        if args.json:
            print(json.dumps({"image": name, **r.to_dict()}))
            continue
        conf = " ".join(f"{c:.3f}" for c in r.confidences)
        why = "; ".join(", ".join(f"{k}={v}" for k, v in x.items()) for x in r.reasons)
        print(f"{name}: {r.text or '-'}  [{conf}]  {r.decision}" + (f"  ({why})" if why else ""))
    if bad:
        _log(f"{len(bad)} of {len(args.images)} files could not be read")
    return 1 if bad else 0


def _evaluate(args: argparse.Namespace) -> int:
    from .reader import ZipReader, evaluate

    reader = ZipReader.load(log=_log)
    result = evaluate(reader, n=args.n, seed=args.seed, workers=args.workers,
                      repeats=args.repeats)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"data: {result['fields']} synthetic ZIP fields, {result['data']} (seed {args.seed})")
    print(f"model: {result['model']}  T = {result['temperature']:.3f}  "
          f"threshold = {result['threshold']:.4f}")
    for key in ("digit_accuracy", "segmentation_accuracy", "zip_accuracy", "automation_rate",
                "error_rate_among_accepted"):
        print(f"{key.replace('_', ' ')}: {100 * result[key]:.2f}%")
    print(f"review reasons: {result['review_reasons']}")
    print(f"throughput: {result['fields_per_second']:.0f} fields/s end to end "
          f"({result['workers']} worker(s), pre-processing + network + decision); "
          f"{result['fields_per_cpu_second']:.0f} fields per CPU second")
    return 0


def _make_samples(args: argparse.Namespace) -> int:
    from .synth import make_fields, write_samples

    paths = write_samples(make_fields(args.n, part=args.part, seed=args.seed), Path(args.out))
    print(f"wrote {len(paths)} fields (PNG + JSON ground truth) to {args.out}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from . import thresholds as th
    from .model import load_classifier
    from .reader import ZipReader, calibrate, calibration_path

    classifier = load_classifier(log=_log)
    record = calibrate(ZipReader(classifier), n_fields=args.n, target_error=args.target_error,
                       plots_dir=Path(args.plots) if args.plots else None, workers=args.workers)
    path = calibration_path(classifier)
    th.save_calibration(path, record)
    print(json.dumps(record, indent=1))
    print(f"saved to {path}", file=sys.stderr)
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from .model import fine_tune, load_classifier
    from .review import open_queue

    queue = open_queue(args.db)
    x, y, skipped = queue.labelled_digits()
    if args.export:
        queue.export(args.export)
    print(f"{len(y)} labelled digits ({skipped} pieces skipped: digit count != label length)")
    if len(y) == 0:
        raise ValueError(f"no labelled digits in {args.db}: label some with the review page")
    tuned = fine_tune(load_classifier(log=_log), x, y, epochs=args.epochs, replay=args.replay,
                      log=_log)
    print(f"fine-tuned {tuned.name} version {tuned.version}; it is recalibrated on next load")
    return 0


def _train_cnn(args: argparse.Namespace) -> int:
    from .model import cache_dir, train_cnn, training_digits

    x, y = training_digits(synthetic_fields=args.fields)
    init = None
    if args.from_committed:
        from .model import committed_classifier

        base = committed_classifier()
        if base is None:
            raise FileNotFoundError("no committed LeNet-5 weights to start from")
        init = base.module
    model = train_cnn(x, y, epochs=args.epochs, lr=args.lr, init=init, log=_log)
    if init is not None:
        model.card["base"] = "committed lenet5, fine-tuned on digits cut from fields"
    path = cache_dir() / "zip-lenet5.safetensors"
    model.save(path)
    print(f"saved {path}; `rosenblatt zip calibrate` (or the next load) calibrates it")
    return 0


def _with_data_root(func: Any) -> Any:
    """The command `func` with --data-root made the $ROSENBLATT_DATA of its process."""
    def run(args: argparse.Namespace) -> int:
        use_data_root(args)
        return func(args)
    return run


def register(subparsers: Any) -> None:
    """Add `zip` with its subcommands."""
    sub = add_command_group(subparsers, "zip", "zip_command", metavar="ZIP_COMMAND",
                            help="read handwritten ZIP codes",
                            description="Read handwritten ZIP codes and measure the reader. "
                            "MNIST is read from --data-root, else $ROSENBLATT_DATA, else "
                            "~/.rosenblatt/data.")

    p = sub.add_parser("read", help="read ZIP-field images",
                       description="Read ZIP-field (or single-digit) images. A file that "
                       "cannot be read gets one line on stderr and the others are still read; "
                       "the exit status is 1 when any failed.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="PNG/JPEG/... files")
    p.add_argument("--digit", action="store_true", help="each image is one digit")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_read))

    p = sub.add_parser("evaluate", help="measure on synthetic fields (MNIST test 5000-9999)")
    p.add_argument("--n", type=int, default=2000, help="synthetic fields")
    p.add_argument("--seed", type=int, default=12345, help="seed of the fields")
    p.add_argument("--workers", type=int, default=1, help="pre-processing processes")
    p.add_argument("--repeats", type=int, default=1, help="time the best of this many runs")
    p.add_argument("--json", action="store_true", help="the result as JSON")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_evaluate))

    p = sub.add_parser("make-samples", help="write synthetic fields with their ground truth")
    p.add_argument("--n", type=int, default=100, help="fields to write")
    p.add_argument("--out", required=True, help="folder for the PNG and JSON files")
    p.add_argument("--seed", type=int, default=0, help="seed of the fields")
    p.add_argument("--part", choices=["calibration", "evaluation"], default="evaluation",
                   help="half of the MNIST test set the digits come from")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_make_samples))

    p = sub.add_parser("calibrate", help="fit T and the threshold (MNIST test 0-4999)")
    p.add_argument("--n", type=int, default=3000, help="calibration fields")
    p.add_argument("--target-error", type=float, default=0.005,
                   help="error among accepted fields to aim for")
    p.add_argument("--plots", help="folder for reliability.png and automation.png")
    p.add_argument("--workers", type=int, default=1, help="pre-processing processes")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_calibrate))

    p = sub.add_parser("train-cnn", help="train LeNet-5 on digits cut from synthetic fields")
    p.add_argument("--epochs", type=int, default=6, help="passes over the digits")
    p.add_argument("--fields", type=int, default=3000, help="synthetic fields of train digits")
    p.add_argument("--lr", type=float, default=2e-3, help="learning rate")
    p.add_argument("--from-committed", action="store_true",
                   help="fine-tune the committed LeNet-5 (use with --lr 5e-4 --epochs 4)")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_train_cnn))

    p = sub.add_parser("retrain", help="fine-tune on the labelled digits of the review queue")
    p.add_argument("--db", "--review-db", default=default_db(),
                   help="review queue: an SQLite file or a postgresql:// URL shared by "
                   "replicas ($ROSENBLATT_REVIEW_DB)")
    p.add_argument("--epochs", type=int, default=3, help="passes over the labelled digits")
    p.add_argument("--export", help="also write the labelled digits to this .npz")
    p.add_argument("--replay", type=int, default=5000,
                   help="MNIST training digits mixed in against forgetting")
    add_data_root(p)
    p.set_defaults(func=_with_data_root(_retrain))
