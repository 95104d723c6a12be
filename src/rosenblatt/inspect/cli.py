"""`rosenblatt explain CHECKPOINT IMAGE... --out DIR`: why a trained network sees that digit.

Rebuilds the model from a checkpoint of `rosenblatt train` (its config says how) or from
committed weights named like `lenet5-mnist`, turns a
PNG/JPG of one digit into the network's input the way training saw its data (grey, ink
bright on black, values in [0, 1], 28x28 for MNIST; 8x8 for the scikit-learn digits), and
writes saliency, integrated gradients, occlusion, Grad-CAM, first-layer filters and feature
maps as PNGs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..train.cli import COMMITTED


def register(subparsers: Any) -> None:
    """Add the explain subcommand."""
    p = subparsers.add_parser(
        "explain", help="saliency, integrated gradients, occlusion, Grad-CAM, filters, maps",
        description="Explain a checkpoint's prediction for PNG/JPG images of one digit each. "
        "A file that cannot be read gets one line on stderr and the others are still "
        "explained; the exit status is 1 when any failed.")
    p.add_argument("checkpoint", help="a checkpoint written by `rosenblatt train`, or a "
                   f"committed model by name: {', '.join(COMMITTED)}")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="PNG or JPG of one digit (dark on light or light on dark); "
                   "`rosenblatt samples` writes some from a test set")
    p.add_argument("--out", default=None,
                   help="folder for the PNGs (default: explain-IMAGE beside the checkpoint; "
                   "with several images, one sub-folder per image)")
    p.add_argument("--target", type=int, default=None,
                   help="class to explain (default: the predicted one)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.set_defaults(func=cmd_explain)


def load_checkpoint_model(path: str | Path, device: str = "cpu") -> tuple[Any, dict]:
    """(model in eval mode with the checkpoint's weights, the checkpoint's config); `path`
    may also name committed weights (`lenet5-mnist`)."""
    from rosenblatt.train.cli import load_checkpoint, rebuild_model

    weights, config, _ = load_checkpoint(path)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.to(device)
    model.eval()
    return model, config


def image_to_input(image: Any, input_shape: list[int]) -> Any:
    """A digit picture (path, PIL image or array) -> float32 (C, H, W) in [0, 1], ink high.

    A picture already of the network's size is only made grey (and inverted when its
    background is light); any other is cut to its ink, fitted into 20x20 and centred by mass
    in 28x28 as MNIST was (rosenblatt.apps.digits.preprocess), then resized for smaller nets.
    """
    from rosenblatt._backend import np
    from rosenblatt.apps.digits.preprocess import preprocess_digit, to_gray

    if len(input_shape) != 3:
        raise ValueError(f"the model takes {input_shape} features, not images")
    channels, height, width = input_shape
    if isinstance(image, (str, Path)):
        from rosenblatt.apps.digits.images import BadInputError, read_image_file

        try:
            image = read_image_file(image)
        except BadInputError as e:
            raise ValueError(f"{image}: {e.message}") from None
    gray = to_gray(image)
    if gray.shape == (height, width):
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        digit = 1.0 - gray if float(np.median(border)) > 0.5 else gray
    else:
        found = preprocess_digit(gray)
        if found.no_ink or len(found.inputs) == 0:
            raise ValueError("no digit found in the image (no ink stands out from the paper)")
        digit = found.inputs[0, 0]
        if digit.shape != (height, width):
            digit = _fill_frame(digit, height, width)
    digit = np.clip(digit, 0.0, 1.0).astype(np.float32)
    return np.repeat(digit[None], channels, axis=0)


def _fill_frame(digit: Any, height: int, width: int) -> Any:
    """An MNIST-style (28, 28) digit -> (height, width) with the ink filling the height and
    centred across, as in the scikit-learn digits (8x8 blocks averaged from 32x32 bitmaps)."""
    from PIL import Image

    from rosenblatt._backend import np

    ys, xs = np.nonzero(digit > 0.05)
    crop = np.ascontiguousarray(digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1], np.float32)
    h, w = crop.shape
    new_w = min(width, max(1, round(w * height / h)))
    small = np.asarray(Image.fromarray(crop).resize((new_w, height), Image.BOX))
    out = np.zeros((height, width), np.float32)
    left = (width - new_w) // 2
    out[:, left:left + new_w] = small
    return out / max(float(out.max()), 1e-6)  # the thin strokes as bright as training's


def cmd_explain(args: argparse.Namespace) -> int:
    """Predict each image and write its explanation PNGs; 1 when any image failed."""
    import sys

    from rosenblatt.apps.digits.images import BadInputError, read_image_file

    model, config = load_checkpoint_model(args.checkpoint, args.device)
    failed = 0
    for image in args.images:
        try:
            picture = read_image_file(image)
            x = image_to_input(picture, config["input_shape"])
        except (BadInputError, ValueError, OSError) as e:
            failed += 1
            reason = e.message if isinstance(e, BadInputError) else str(e)
            print(f"rosenblatt explain: error: {image}: {reason}", file=sys.stderr)
            continue
        _explain_one(args, model, config, image, x)
    if failed:
        print(f"{failed} of {len(args.images)} images could not be explained", file=sys.stderr)
    return 1 if failed else 0


def _explain_one(args: argparse.Namespace, model: Any, config: dict, image: str, x: Any) -> None:
    """Write one image's explanation PNGs and print the prediction and the files."""
    from rosenblatt._backend import np

    from .explain import explain

    classes = config.get("classes") or [str(i) for i in range(config["num_classes"])]
    stem = Path(image).stem
    if args.out:
        out = Path(args.out) / stem if len(args.images) > 1 else Path(args.out)
    elif "committed" in config:
        out = Path("runs") / config["committed"] / f"explain-{stem}"
    else:
        out = Path(args.checkpoint).parent / f"explain-{stem}"
    result = explain(model, x, out, target=args.target, classes=classes)
    probs = result.probabilities
    top = np.argsort(-probs)[:3]
    print(f"{image}: prediction {classes[result.prediction]} "
          f"(p = {probs[result.prediction]:.3f}); next: "
          + ", ".join(f"{classes[i]} {probs[i]:.3f}" for i in top[1:]))
    if result.target != result.prediction:
        print(f"explaining class {classes[result.target]} (p = {probs[result.target]:.3f})")
    if result.grad_cam is None:
        print(f"{config['model']['name']} has no convolutions: no Grad-CAM, filters or "
              "feature maps")
    for what, path in result.files.items():
        print(f"{what.replace('_', ' ')}: {path}")
