"""`rosenblatt export CHECKPOINT --onnx OUT`: a trained checkpoint as an ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the export subcommand."""
    from ..cli import DefaultsHelp

    p = subparsers.add_parser(
        "export", help="export a checkpoint to ONNX", formatter_class=DefaultsHelp,
        description="Write a checkpoint of `rosenblatt train` or `rosenblatt text train` (or a "
                    "committed model by name) as an ONNX model with a dynamic batch axis (and "
                    "sequence length for text models), checked by onnx.checker "
                    "and, when onnxruntime is installed, compared with Rosenblatt's outputs.")
    p.add_argument("checkpoint", help="a checkpoint written by `rosenblatt train` or "
                                      "`rosenblatt text train`, or a committed model by name")
    p.add_argument("--onnx", required=True, metavar="OUT", help="the ONNX file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version (17 or newer)")
    p.set_defaults(func=cmd_export)


def _load(spec: str) -> tuple[Any, Any, dict, Any, Path, dict]:
    """(model in eval mode, example input maker, dynamic axes, output names, path, config) of
    a checkpoint of `rosenblatt train` (an image classifier) or `rosenblatt text train`."""
    import rosenblatt as rb

    from ..train.cli import load_checkpoint, rebuild_model

    path = Path(spec)
    state = rb.load(path) if path.is_file() else None
    if isinstance(state, dict) and isinstance(state.get("config", {}).get("model"), str):
        from ..text.train import load_checkpoint as load_text

        model, _, ckpt = load_text(path)  # token ids (N, T): batch and length dynamic
        vocab = int(ckpt["config"]["vocab_size"])
        names = ["logits", "h", "c"] if ckpt["config"]["model"] == "lstm" else ["logits"]
        axes = {"input": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"},
                "h": {1: "batch"}, "c": {1: "batch"}}
        return (model, lambda n: rb.randint(0, vocab, (n, 8)),
                {k: v for k, v in axes.items() if k in names or k == "input"}, names, path,
                ckpt["config"])
    weights, config, path = load_checkpoint(spec)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.eval()
    return (model, lambda n: rb.randn(n, *config["input_shape"]),
            {"input": {0: "batch"}, "logits": {0: "batch"}}, ["logits"], path, config)


def cmd_export(args: argparse.Namespace) -> int:
    """Rebuild the checkpoint's model, export it, and check onnxruntime agrees."""
    from . import _tensors, export

    model, example, axes, names, path, config = _load(args.checkpoint)
    out = Path(args.onnx)
    out.parent.mkdir(parents=True, exist_ok=True)
    export(model, (example(2),), str(out), input_names=["input"], output_names=names,
           dynamic_axes=axes, opset_version=args.opset)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, opset {args.opset}) from {path}")
    try:
        import onnxruntime
    except ImportError:
        _card(out, path, config, args, axes, None)
        return 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = example(3)
    got = session.run(None, {"input": x.numpy()})[0]
    ref = _tensors(model(x))[0].detach().numpy()
    scale = float(abs(ref).max()) or 1.0
    difference = float(abs(got - ref).max()) / scale
    print(f"onnxruntime check: largest difference {difference:.2e} of the largest output "
          "(batch of 3)")
    _card(out, path, config, args, axes, difference)
    return 0


def _card(out: Path, path: Path, config: dict, args: argparse.Namespace, axes: dict,
          difference: float | None) -> None:
    """The model card beside the ONNX file."""
    from ..ao.card import write_card

    made = {"by": "rosenblatt export", "format": "onnx", "opset": args.opset,
            "dynamic_axes": axes, "onnxruntime_max_relative_difference": difference}
    print(f"model card: {write_card(out, path, config, made)}")
