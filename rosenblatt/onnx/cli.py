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
        description="Write a checkpoint of `rosenblatt train` (or a committed model by name) "
                    "as an ONNX model with a dynamic batch axis, checked by onnx.checker "
                    "and, when onnxruntime is installed, compared with Rosenblatt's outputs.")
    p.add_argument("checkpoint", help="a checkpoint written by `rosenblatt train`, or a "
                                      "committed model by name")
    p.add_argument("--onnx", required=True, metavar="OUT", help="the ONNX file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version (17 or newer)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Rebuild the checkpoint's model, export it, and check onnxruntime agrees."""
    import rosenblatt as rb

    from ..train.cli import load_checkpoint, rebuild_model
    from . import export

    weights, config, path = load_checkpoint(args.checkpoint)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.eval()
    x = rb.randn(2, *config["input_shape"])
    out = Path(args.onnx)
    out.parent.mkdir(parents=True, exist_ok=True)
    export(model, (x,), str(out), input_names=["input"], output_names=["logits"],
           dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
           opset_version=args.opset)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, opset {args.opset}) from {path}")
    try:
        import onnxruntime
    except ImportError:
        return 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = rb.randn(3, *config["input_shape"])
    got = session.run(None, {"input": x.numpy()})[0]
    ref = model(x).detach().numpy()
    scale = float(abs(ref).max()) or 1.0
    print(f"onnxruntime check: largest difference {float(abs(got - ref).max()) / scale:.2e} "
          "of the largest output (batch of 3)")
    return 0
