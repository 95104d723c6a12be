"""Train the ZIP reader's pair reader: a PairNet that reads two touching digits whole.

Fields are drawn by rosenblatt.apps.digits.synth.FieldSynth from the MNIST TRAINING file only
(never the test digits, which calibrate and evaluate the reader), every field with one
touching pair (p_touch=1), and segmented by the reader's own pre-processing
(preprocess.segment). A connected blob wide enough for two digits (Blob.whole) whose box
holds the centres of exactly two neighbouring true digits is one example: the blob through
normalize_pair (28x48), labelled with its left and right digit.

    export ROSENBLATT_DATA=../shared/data
    python examples/train_zip_pairs.py --fields 240000 --seed 1000 --cache /tmp/pairs1.npz --out -
    python examples/train_zip_pairs.py --fields 160000 --seed 2000 --cache /tmp/pairs2.npz \\
        --extra /tmp/pairs1.npz --epochs 5 \\
        --out src/rosenblatt/models/weights/zip_pairnet.safetensors

(the model card, src/rosenblatt/models/weights/README.md, gives the exact recipe)
"""

from __future__ import annotations

import argparse
import os
import time
from multiprocessing import Pool

import numpy as np

JOBS = 40  # generator seeds seed .. seed + JOBS - 1, fields / JOBS fields each


def _pairs(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """n fields from one seed -> (pair blobs (k, 28, 48) float16, labels (k, 2)).

    args: (part, seed, n[, p_touch, singles]); with singles, the blobs wide enough to be a
    pair that hold one digit are examples too, labelled (-1, -1) (the pair detector's
    negatives)."""
    from threadpoolctl import threadpool_limits

    from rosenblatt.apps.digits import preprocess as pp
    from rosenblatt.apps.digits.synth import FieldSynth, load_mnist, mnist_test_half

    part, seed, n, p_touch, singles = (*args, 1.0, False)[:5]
    with threadpool_limits(1):
        images, labels = load_mnist("train") if part == "train" else mnist_test_half(part)
        synth = FieldSynth(images, labels, seed=seed, p_touch=p_touch)
        xs, ys = [np.zeros((0, 28, 48), np.float16)], []
        for _ in range(n):
            f = synth.sample()
            gray, scale = pp.working_image(f.image)
            centres = [(b[0] + b[2]) / 2 * scale for b in f.boxes]
            for blob in pp.segment(pp.ink_map(gray), pp.EXPECTED_DIGITS):
                if blob.whole is None:
                    continue
                inside = [k for k, c in enumerate(centres) if blob.box[0] <= c < blob.box[2]]
                if len(inside) == 2 and inside[1] == inside[0] + 1:
                    ys.append((int(f.zip[inside[0]]), int(f.zip[inside[1]])))
                elif singles and len(inside) == 1:
                    ys.append((-1, -1))
                else:
                    continue
                xs.append(pp.normalize_pair(blob.whole)[None].astype(np.float16))
    return np.concatenate(xs), np.asarray(ys, np.int64).reshape(-1, 2)


def touching_pairs(fields: int, seed: int, part: str = "train", workers: int = 2,
                   p_touch: float = 1.0, singles: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Pair blobs (N, 28, 48) float16 and labels (N, 2) from `fields` synthetic fields
    (with singles, wide one-digit blobs too, labelled (-1, -1))."""
    jobs = [(part, seed + j, fields // JOBS, p_touch, singles) for j in range(JOBS)]
    with Pool(workers) as pool:
        parts = pool.map(_pairs, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def cached_pairs(fields: int, seed: int, cache: str | None, part: str = "train",
                 workers: int = 2, p_touch: float = 1.0,
                 singles: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """touching_pairs, read from / written to `cache` (.npz) when given."""
    if cache and os.path.exists(cache):
        with np.load(cache) as z:
            return z["x"], z["y"]
    t0 = time.time()
    x, y = touching_pairs(fields, seed, part, workers, p_touch, singles)
    print(f"{len(y)} pairs from {fields} fields in {time.time() - t0:.0f} s", flush=True)
    if cache:
        np.savez(cache, x=x, y=y)
    return x, y


def outputs(model, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """The model's outputs on blobs x (N, 28, 48), in batches, in eval mode (then back)."""
    import rosenblatt as rb

    model.eval()
    with rb.no_grad():
        out = [model(rb.from_numpy(np.ascontiguousarray(x[i : i + batch, None], np.float32)))
               .numpy() for i in range(0, len(x), batch)]
    model.train()
    return np.concatenate(out)


def pair_accuracy(model, x: np.ndarray, y: np.ndarray, batch: int = 1024) -> tuple[float, float]:
    """(both digits right, each digit right) of the PairNet on blobs x (N, 28, 48)."""
    right = outputs(model, x, batch).argmax(axis=2) == y
    return float(right.all(axis=1).mean()), float(right.mean())


def fit_one_cycle(model, x: np.ndarray, y: np.ndarray, epochs: int, batch: int, lr: float,
                  seed: int, validation, **fit):
    """The pair models' recipe: Adam at a one-cycle rate peaking at `lr` through the Trainer
    (`fit_digits`, more settings in `fit`), a line per epoch with the loss and `validation()`
    (a phrase); returns the model."""
    from rosenblatt import optim
    from rosenblatt.apps.digits.model import fit_digits
    from rosenblatt.train import LambdaCallback

    t0 = time.time()

    def report(trainer, record: dict) -> None:
        print(f"epoch {record['epoch']}/{epochs}: loss {record['train_loss']:.4f}, validation "
              f"{validation()}, {time.time() - t0:.0f} s", flush=True)

    return fit_digits(model, x[:, None], y, epochs=epochs, lr=lr, batch_size=batch, seed=seed,
                      schedule=lambda opt, steps: optim.lr_scheduler.OneCycleLR(
                          opt, max_lr=lr, total_steps=steps),
                      callbacks=[LambdaCallback(on_epoch_end=report)], **fit)


def train(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, epochs: int,
          batch: int, lr: float, seed: int, init: str | None = None, elastic: float = 0.0):
    """Adam with a one-cycle schedule, cross-entropy on both digits, through the Trainer
    (`fit_one_cycle`); returns the PairNet. init: weights to start from; elastic: the
    fraction of each batch elastically distorted."""
    import rosenblatt as rb
    from rosenblatt.apps.digits.model import PairNet
    from rosenblatt.nn import functional as F

    rb.manual_seed(seed)
    model = PairNet()
    if init:
        model.load_state_dict(rb.load(init))
    return fit_one_cycle(
        model, x, y, epochs, batch, lr, seed,
        lambda: "pairs {:.4f}, digits {:.4f}".format(*pair_accuracy(model, xv, yv)),
        elastic=elastic, loss=lambda z, t: F.cross_entropy(z.reshape(-1, 10), t.reshape(-1)))


def arguments(description: str, fields: int, seed: int, epochs: int,
              batch: int) -> argparse.ArgumentParser:
    """The options both pair models' trainers take, with these defaults."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--fields", type=int, default=fields)
    ap.add_argument("--seed", type=int, default=seed, help="first generator seed")
    ap.add_argument("--cache", help=".npz of the generated blobs (read if it exists)")
    ap.add_argument("--validation", type=int, default=8000,
                    help="fields of the CALIBRATION half of MNIST test (reported only)")
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--train-seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    return ap


def save(model, path: str) -> None:
    """The model's weights as safetensors."""
    import rosenblatt as rb

    rb.save(model.state_dict(), path)
    print(f"wrote {path}")


def main() -> None:
    ap = arguments(__doc__.split("\n")[0], fields=240000, seed=1000, epochs=5, batch=128)
    ap.add_argument("--extra", nargs="*", default=[], help="more cached pair .npz files")
    ap.add_argument("--init", help="start from these PairNet weights (.safetensors)")
    ap.add_argument("--elastic", type=float, default=0.0,
                    help="fraction of each batch elastically distorted (alpha 34, sigma 4)")
    ap.add_argument("--out", required=True, help="weights .safetensors, or - to only generate")
    args = ap.parse_args()
    x, y = cached_pairs(args.fields, args.seed, args.cache, workers=args.workers)
    for path in args.extra:
        with np.load(path) as z:
            x, y = np.concatenate([x, z["x"]]), np.concatenate([y, z["y"]])
    if args.out == "-":
        return
    xv, yv = touching_pairs(args.validation, 60, "calibration", args.workers)
    save(train(x, y, xv, yv, args.epochs, args.batch, args.lr, args.train_seed, args.init,
               args.elastic), args.out)


if __name__ == "__main__":
    main()
