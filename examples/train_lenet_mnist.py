"""Train LeNet-5 on MNIST and save the weights with a model card.

Data: the first 10,000 MNIST training digits and the official 10,000 test digits, read
from $ROSENBLATT_DATA/mnist (or --data). Inputs are pixels / 255 in [0, 1] (no mean/std
normalisation, so callers feed images as they are). Training: Adam with a cosine learning
rate, batches of 64, mild random affine augmentation (rotation, shift, scale), a fixed
seed. The test set is used once, at the end, for the reported accuracy.

    python examples/train_lenet_mnist.py                      # 30 epochs, about 4 minutes
    python examples/train_lenet_mnist.py --epochs 1 --out /tmp/lenet.safetensors   # smoke run
    python examples/train_lenet_mnist.py \
        --evaluate src/rosenblatt/models/weights/lenet5_mnist.safetensors   # failure-mode checks
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

import rosenblatt as rb
from rosenblatt import models, nn, optim, transforms
from rosenblatt.datasets import MNIST

DEFAULT_OUT = Path(models.__file__).resolve().parent / "weights" / "lenet5_mnist.safetensors"


def load(data: Path, train: bool, limit: int | None = None) -> tuple[rb.Tensor, rb.Tensor]:
    """(N, 1, 28, 28) float32 in [0, 1] and int64 labels."""
    ds = MNIST(root=data / "mnist", train=train)
    images = ds.data.numpy()[:limit].astype(np.float32) / 255.0
    return rb.tensor(images[:, None]), rb.tensor(ds.targets.numpy()[:limit])


def evaluate(model: nn.Module, x: rb.Tensor, y: rb.Tensor, batch: int = 1000) -> np.ndarray:
    """Predicted labels for every image (eval mode, no graph)."""
    model.eval()
    preds = []
    with rb.no_grad():
        for i in range(0, len(y), batch):
            preds.append(model(x[i:i + batch]).argmax(1).numpy())
    return np.concatenate(preds)


def robustness(model: nn.Module, x: rb.Tensor, y: rb.Tensor) -> None:
    """Accuracy on distorted test digits, and confidence on non-digits (the model card)."""
    images, labels = x.numpy(), y.numpy()

    def accuracy(batch: np.ndarray) -> float:
        return float((evaluate(model, rb.tensor(batch.astype(np.float32)), y) == labels).mean())

    rows = {"clean": images}
    for px in (2, 3, 4):
        rows[f"shifted right {px} px"] = np.roll(images, px, axis=3)
    for deg in (15, 25):
        rotate = transforms.RandomAffine(degrees=(deg, deg),
                                         interpolation=transforms.InterpolationMode.BILINEAR)
        rows[f"rotated {deg} deg"] = rotate(rb.tensor(images)).numpy()
    thick = np.maximum.reduce([images, np.roll(images, 1, 2), np.roll(images, 1, 3),
                               np.roll(np.roll(images, 1, 2), 1, 3)])
    rows["strokes thickened (2x2 dilation)"] = thick
    rows["half contrast"] = 0.5 * images
    rows["inverted (black on white)"] = 1.0 - images
    for name, batch in rows.items():
        print(f"{name:34s} {accuracy(batch):.4f}")
    noise = np.random.default_rng(0).random((1000, 1, 28, 28)).astype(np.float32)
    model.eval()
    with rb.no_grad():
        top = rb.softmax(model(rb.tensor(noise)), 1).numpy().max(1)
        blank = rb.softmax(model(rb.zeros(1, 1, 28, 28)), 1).numpy().max()
    print(f"uniform noise: median top probability {np.median(top):.3f}, "
          f"{(top > 0.9).mean():.1%} above 0.9; blank image: top probability {blank:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("ROSENBLATT_DATA", "../shared/data")))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--test-size", type=int, default=None, help="default: all 10,000")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--evaluate", type=Path, default=None,
                        help="only report the failure-mode checks of saved weights")
    args = parser.parse_args()
    if args.evaluate:
        model = models.lenet5()
        model.load_state_dict(rb.load(args.evaluate))
        robustness(model, *load(args.data, False, args.test_size))
        return

    rb.manual_seed(args.seed)
    x, y = load(args.data, True, args.train_size)
    xt, yt = load(args.data, False, args.test_size)
    model = models.lenet5()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * -(-len(y) // args.batch_size)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    augment_text = "rotation +-10 deg, shift +-10%, scale 0.9-1.1"
    augment = None if args.no_augment else transforms.RandomAffine(
        degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1),
        interpolation=transforms.InterpolationMode.BILINEAR)
    rng = np.random.default_rng(args.seed)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(y))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = rb.tensor(order[i:i + args.batch_size])
            xb = x[idx] if augment is None else augment(x[idx])
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.item()) * len(idx)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(y):.4f} "
              f"({time.time() - start:.0f} s)", flush=True)

    preds = evaluate(model, xt, yt)
    labels = yt.numpy()
    accuracy = float((preds == labels).mean())
    per_class = {str(c): round(float((preds[labels == c] == c).mean()), 4) for c in range(10)}
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, preds), 1)
    off = [(int(confusion[i, j]), i, j) for i in range(10) for j in range(10) if i != j]
    top = [f"{i}->{j}: {n}" for n, i, j in sorted(off, reverse=True)[:5]]
    print(f"test accuracy {accuracy:.4f} on {len(labels)} images; most confused {top}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rb.save(model.state_dict(), args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    card = {
        "name": "lenet5", "version": "1", "file": args.out.name, "sha256": digest,
        "architecture": "LeNet-5: conv5x5(6, pad 2)-ReLU-maxpool2, conv5x5(16)-ReLU-maxpool2, "
                        "400-120-84-10 (rosenblatt.models.lenet5)",
        "input": "(N, 1, 28, 28) float32, pixels / 255 in [0, 1], white digit on black, "
                 "MNIST-style (20x20 box, centre of mass centred)",
        "output": "(N, 10) logits for the digits 0-9",
        "trained_on": f"MNIST training images 0-{args.train_size - 1} (the first "
                      f"{args.train_size}), random affine augmentation: "
                      f"{'off' if augment is None else augment_text}",
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": "Adam",
                     "lr": args.lr, "schedule": "cosine to 0", "seed": args.seed,
                     "seconds": round(time.time() - start)},
        "test_accuracy": round(accuracy, 4),
        "test_set": f"official MNIST t10k, {len(labels):,} images",
        "per_class_accuracy": per_class, "most_confused": top,
        "command": "python examples/train_lenet_mnist.py "
                   f"--epochs {args.epochs} --batch-size {args.batch_size} --lr {args.lr} "
                   f"--seed {args.seed}" + (" --no-augment" if augment is None else ""),
    }
    card_path = args.out.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KiB) and {card_path}")


if __name__ == "__main__":
    main()
