"""`rosenblatt quantize CHECKPOINT`: int8 quantization of a trained classifier, measured.

Dynamic (int8 Linear weights, activations quantized per call) or static (calibrated on
training images: fused conv-bn-relu blocks, per-channel int8 weights, fixed activation
scales). Reports what it costs and gains: weight bytes, test accuracy and latency per batch
(median and best of --repeats), in Rosenblatt and (with --onnx, the QDQ export) in
onnxruntime, float against int8; float and int8 runs take turns, so a busy machine slows
both alike. The ONNX file's
card holds the whole report, with the accuracy onnxruntime gets from the file itself.
Rosenblatt's int8 layers compute on NumPy without int8 kernels (the integer products run
in float64 BLAS, with a quantize-dequantize pass per layer): expect a slow-down there.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the quantize subcommand."""
    from ..train.cli import _positive_int as _positive
    from .prune_cli import checkpoint_command

    p = checkpoint_command(
        subparsers, "quantize", "int8-quantize a checkpoint and report size, accuracy and "
        "latency", "Quantize a `rosenblatt train` checkpoint (or a committed model by name) to "
        "int8 and compare it with the float model: weight bytes, test accuracy, latency per "
        "batch; --onnx also writes the int8 model in ONNX's QDQ form and times it in "
        "onnxruntime.")
    p.add_argument("--mode", choices=("dynamic", "static"), default="static",
                   help="dynamic: Linear layers only; static: calibrated conv and Linear")
    p.add_argument("--calibration-batches", type=_positive, default=8,
                   help="training batches of 64 that set the static activation scales")
    p.add_argument("--onnx", default=None, metavar="OUT",
                   help="also write the int8 model as ONNX (QDQ; static mode)")
    p.add_argument("--batch-size", type=_positive, default=256, help="batch size of the timings")
    p.add_argument("--repeats", type=_positive, default=10, help="timed runs of each model")
    p.add_argument("--threads", type=_positive, default=1,
                   help="threads of Rosenblatt's BLAS and of onnxruntime (both)")
    p.add_argument("--markdown", action="store_true",
                   help="also print the report as one Markdown table row (the README's)")
    p.set_defaults(func=cmd_quantize)


def fusion_groups(model: Any) -> list[list[str]]:
    """Names of the conv-bn-relu, conv-bn, conv-relu and linear-relu runs in Sequentials."""
    from rosenblatt import nn

    patterns = [(nn.Conv2d, nn.BatchNorm2d, nn.ReLU), (nn.Conv2d, nn.BatchNorm2d),
                (nn.Conv2d, nn.ReLU), (nn.Linear, nn.ReLU)]
    groups = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        items, i = list(module.named_children()), 0
        while i < len(items):
            for pattern in patterns:
                run = items[i:i + len(pattern)]
                if tuple(type(m) for _, m in run) == pattern:
                    groups.append([f"{name}.{n}" if name else n for n, _ in run])
                    i += len(pattern)
                    break
            else:
                i += 1
    return groups


def quantize_static(model: Any, batches: list) -> Any:
    """The int8 version of `model` (stubs around it, runs fused), calibrated on `batches`."""
    from rosenblatt import nn

    from . import quantization as q

    wrapped = nn.Sequential(q.QuantStub(), model, q.DeQuantStub()).eval()
    groups = fusion_groups(wrapped)
    wrapped = q.fuse_modules(wrapped, groups) if groups else wrapped
    wrapped.qconfig = q.get_default_qconfig("x86")
    prepared = q.prepare(wrapped)
    for x in batches:
        prepared(x)
    return q.convert(prepared)


def _weight_bytes(model: Any) -> int:
    import rosenblatt as rb

    buf = io.BytesIO()
    rb.save(model.state_dict(), buf)
    return len(buf.getvalue())


def latency_rows(where: str, runs: list, repeats: int) -> dict:
    """{'latency ...': medians, 'best-of latency ...': minima} in milliseconds of the
    zero-argument functions (float, int8), which take turns; on a busy machine the median
    says what a user sees, the minimum what an idle machine would."""
    for run in runs:
        run()  # warm-up
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, out in zip(runs, times):
            start = time.perf_counter()
            run()
            out.append(1000 * (time.perf_counter() - start))
    return {f"latency, {where}": tuple(statistics.median(t) for t in times),
            f"best-of latency, {where}": tuple(min(t) for t in times)}


def cmd_quantize(args: argparse.Namespace) -> int:
    """Quantize, measure, report (and export with a card)."""
    import rosenblatt as rb
    from rosenblatt.utils.data import DataLoader

    from ..train.cli import load_checkpoint, load_split, rebuild_model
    from .prune_cli import accuracy

    if args.onnx and args.mode != "static":
        raise ValueError("--onnx exports static int8 models (QDQ); use --mode static")
    rb.set_num_threads(args.threads)
    weights, config, path = load_checkpoint(args.checkpoint)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.eval()
    dataset, root = config["dataset"], args.data_root or config.get("data_root")
    test = DataLoader(load_split(dataset, False, root, False, config.get("seed", 0)),
                      batch_size=args.batch_size)
    int8 = _int8(model, args, config, root)
    x = next(iter(test))[0]
    rows = {"weights (bytes)": (_weight_bytes(model), _weight_bytes(int8)),
            "test accuracy": (accuracy(model, test), accuracy(int8, test))}
    with rb.no_grad():
        rows.update(latency_rows(f"batch {len(x)} (ms, Rosenblatt)",
                                 [lambda: model(x), lambda: int8(x)], args.repeats))
    if args.onnx:
        rows.update(_onnx_rows(model, int8, x, Path(args.onnx), test, args))
    print(f"{path}: {dataset}, {args.mode} int8 quantization, {args.threads} thread(s)")
    print(f"{'':46}{'float':>12}{'int8':>12}{'ratio':>8}")
    for name, (a, b) in rows.items():
        fa, fb = _shown(name, a), _shown(name, b)
        print(f"{name:46}{fa:>12}{fb:>12}{b / a if a else 0:>8.2f}")
    if args.onnx:
        _card(Path(args.onnx), path, config, rows, args)
    if args.markdown:
        print(markdown_row(config, args.mode, rows))
    return 0


def _int8(model: Any, args: argparse.Namespace, config: dict, root: str | None) -> Any:
    """The int8 model: dynamic, or static calibrated on training batches of 64."""
    import rosenblatt as rb
    from rosenblatt.utils.data import DataLoader

    from ..train.cli import load_split
    from .quantization import quantize_dynamic

    if args.mode == "dynamic":
        return quantize_dynamic(model)
    train = DataLoader(load_split(config["dataset"], True, root, False, config.get("seed", 0)),
                       batch_size=64, shuffle=True, generator=rb.Generator().manual_seed(0))
    batches = [x for _, (x, _) in zip(range(args.calibration_batches), train)]
    try:
        return quantize_static(model, batches)
    except (RuntimeError, NotImplementedError) as e:
        raise ValueError(f"static quantization of this model failed ({e}); eager-mode "
                         "static quantization needs layers in Sequentials (no residual "
                         "additions): try --mode dynamic") from None


def _shown(name: str, value: float) -> str:
    return f"{value:.2%}" if "accuracy" in name else f"{value:,}" if "bytes" in name else \
        f"{value:,.2f}"


def markdown_row(config: dict, mode: str, rows: dict) -> str:
    """The report as the README's table row: model, mode, then float -> int8 weight bytes,
    test accuracy, latency in Rosenblatt (median; best), the same in onnxruntime and the
    int8 file's accuracy there."""
    spec = config.get("model")
    name = spec if isinstance(spec, str) else (spec or {}).get("name", "?")
    cells = [f"{name} ({config.get('dataset')})", mode]
    by_start = {k.split(" (")[0].split(",")[0] + (" ort" if "onnxruntime" in k else ""): v
                for k, v in rows.items()}
    for key in ("weights", "test accuracy", "latency", "latency ort", "test accuracy ort"):
        if key not in by_start:
            cells.append("-")
            continue
        a, b = by_start[key]
        if key.startswith("latency"):
            c, d = by_start["best-of " + key]
            cells.append(f"{a:,.1f} -> {b:,.1f} ({b / a:.2f}x); best {c:,.1f} -> {d:,.1f} "
                         f"({d / c:.2f}x)")
        elif "accuracy" in key:
            cells.append(f"{a:.2%} -> {b:.2%} ({100 * (b - a):+.2f})")
        elif key == "weights":
            cells.append(f"{a / 1e3:,.0f} kB -> {b / 1e3:,.0f} kB ({b / a:.2f}x)")
    return "| " + " | ".join(cells) + " |"


def _session(data: bytes, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _onnx_rows(model: Any, int8: Any, x: Any, out: Path, test: Any,
               args: argparse.Namespace) -> dict:
    """Export the int8 model (QDQ) and the float one; time both in onnxruntime and measure
    the int8 file's own test accuracy there."""
    from rosenblatt.onnx import export

    out.parent.mkdir(parents=True, exist_ok=True)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    export(int8, (x[:2],), str(out), dynamic_axes=axes)
    float_file = io.BytesIO()
    export(model, (x[:2],), float_file, dynamic_axes=axes)
    sessions = [_session(data, args.threads) for data in (float_file.getvalue(),
                                                          out.read_bytes())]
    feed = {"input": x.numpy()}
    return {"ONNX file (bytes)": (len(float_file.getvalue()), out.stat().st_size),
            **latency_rows(f"batch {len(x)} (ms, onnxruntime)",
                           [lambda s=s: s.run(None, feed) for s in sessions], args.repeats),
            "test accuracy (onnxruntime)": tuple(_onnx_accuracy(s, test) for s in sessions)}


def _onnx_accuracy(session: Any, test: Any) -> float:
    """Top-1 accuracy of an onnxruntime session over a loader."""
    right = sum(int((session.run(None, {"input": xb.numpy()})[0].argmax(1) == yb.numpy())
                    .sum()) for xb, yb in test)
    return right / len(test.dataset)


def _card(out: Path, path: Path, config: dict, rows: dict, args: argparse.Namespace) -> None:
    """The ONNX file's card: its accuracy in onnxruntime and the whole float/int8 report."""
    from .card import write_card

    accuracy = rows["test accuracy (onnxruntime)"][1]
    made = {"by": "rosenblatt quantize", "mode": args.mode, "format": "onnx qdq",
            "calibration_batches": args.calibration_batches, "threads": args.threads,
            "report_float_int8": {k: list(v) for k, v in rows.items()}}
    card = write_card(out, path, config, made, test_accuracy=accuracy)
    print(f"wrote {out} ({out.stat().st_size:,} bytes) and {card}")
