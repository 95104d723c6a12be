"""`rosenblatt quantize CHECKPOINT`: int8 quantization of a trained classifier, measured.

Dynamic (int8 Linear weights, activations quantized per call) or static (calibrated on
training images: fused conv-bn-relu blocks, per-channel int8 weights, fixed activation
scales). Reports what it costs and gains: weight bytes, test accuracy and latency per batch,
in Rosenblatt and (with --onnx, the QDQ export) in onnxruntime, float against int8.
Rosenblatt's int8 layers compute on NumPy without int8 kernels: expect no speed-up there.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the quantize subcommand."""
    from .prune_cli import checkpoint_command

    p = checkpoint_command(
        subparsers, "quantize", "int8-quantize a checkpoint and report size, accuracy and "
        "latency", "Quantize a `rosenblatt train` checkpoint (or a committed model by name) to "
        "int8 and compare it with the float model: weight bytes, test accuracy, latency per "
        "batch; --onnx also writes the int8 model in ONNX's QDQ form and times it in "
        "onnxruntime.")
    p.add_argument("--mode", choices=("dynamic", "static"), default="static",
                   help="dynamic: Linear layers only; static: calibrated conv and Linear")
    p.add_argument("--calibration-batches", type=int, default=8,
                   help="training batches of 64 that set the static activation scales")
    p.add_argument("--onnx", default=None, metavar="OUT",
                   help="also write the int8 model as ONNX (QDQ; static mode)")
    p.add_argument("--batch-size", type=int, default=256, help="batch size of the timings")
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


def _latency(run: Any, x: Any, repeats: int = 5) -> float:
    """Median milliseconds of run(x)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[len(times) // 2]


def _accuracy(model: Any, loader: Any) -> float:
    from .prune_cli import accuracy

    return accuracy(model, loader)


def cmd_quantize(args: argparse.Namespace) -> int:
    """Quantize, measure, report (and export)."""
    import rosenblatt as rb
    from rosenblatt.utils.data import DataLoader

    from ..train.cli import load_checkpoint, load_split, rebuild_model
    from .quantization import quantize_dynamic

    weights, config, path = load_checkpoint(args.checkpoint)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.eval()
    dataset, root = config["dataset"], args.data_root or config.get("data_root")
    test = DataLoader(load_split(dataset, False, root, False, config.get("seed", 0)),
                      batch_size=args.batch_size)
    if args.mode == "dynamic":
        int8 = quantize_dynamic(model)
    else:
        train = DataLoader(load_split(dataset, True, root, False, config.get("seed", 0)),
                           batch_size=64, shuffle=True,
                           generator=rb.Generator().manual_seed(0))
        batches = [x for _, (x, _) in zip(range(args.calibration_batches), train)]
        try:
            int8 = quantize_static(model, batches)
        except (RuntimeError, NotImplementedError) as e:
            raise ValueError(f"static quantization of this model failed ({e}); eager-mode "
                             "static quantization needs layers in Sequentials (no residual "
                             "additions): try --mode dynamic") from None
    x = next(iter(test))[0]
    rows = [("weights (bytes)", _weight_bytes(model), _weight_bytes(int8)),
            ("test accuracy", _accuracy(model, test), _accuracy(int8, test))]
    with rb.no_grad():
        rows.append((f"latency, batch {len(x)} (ms, Rosenblatt)", _latency(model, x),
                     _latency(int8, x)))
    made = {"by": "rosenblatt quantize", "mode": args.mode, "from": str(path)}
    if args.onnx:
        rows += _onnx_rows(model, int8, x, Path(args.onnx), args.mode, made, path, config)
    print(f"{path}: {dataset}, {args.mode} int8 quantization")
    print(f"{'':38}{'float':>12}{'int8':>12}{'ratio':>8}")
    for name, a, b in rows:
        shown = "{:.2%}" if "accuracy" in name else "{:,}" if "bytes" in name else "{:,.2f}"
        fa, fb = shown.format(a), shown.format(b)
        print(f"{name:38}{fa:>12}{fb:>12}{b / a if a else 0:>8.2f}")
    return 0


def _onnx_rows(model: Any, int8: Any, x: Any, out: Path, mode: str, made: dict,
               path: Path, config: dict) -> list:
    """Export the int8 model (QDQ) with its card; time both in onnxruntime."""
    import onnxruntime

    from rosenblatt.onnx import export

    from .card import write_card

    if mode != "static":
        raise ValueError("--onnx exports static int8 models (QDQ); use --mode static")
    out.parent.mkdir(parents=True, exist_ok=True)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    export(int8, (x[:2],), str(out), dynamic_axes=axes)
    write_card(out, path, config, {**made, "format": "onnx qdq"})
    float_file = io.BytesIO()
    export(model, (x[:2],), float_file, dynamic_axes=axes)
    sessions = [onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
                for data in (float_file.getvalue(), out.read_bytes())]
    feed = {"input": x.numpy()}
    times = [_latency(lambda _, s=s: s.run(None, feed), None) for s in sessions]
    print(f"wrote {out} ({out.stat().st_size:,} bytes) and {out.with_suffix('.card.json')}")
    return [("ONNX file (bytes)", len(float_file.getvalue()), out.stat().st_size),
            (f"latency, batch {len(x)} (ms, onnxruntime)", *times)]
