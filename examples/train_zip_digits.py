"""Train the ZIP reader's digit model on digits cut from synthetic fields of MNIST TRAINING digits.

Fields are drawn by rosenblatt.apps.digits.synth.FieldSynth (the default mix) from the MNIST
training file only (never the test digits, which calibrate and evaluate the reader), cut by
the reader's own pre-processing (preprocess_field), and kept where the cut gives 5 digits.
Clean MNIST training digits (normalised the same way) are mixed in. Training starts from the
committed LeNet-5 weights.

    ROSENBLATT_DATA=/work/shared/data python examples/train_zip_digits.py \
        --fields 20000 --clean 30000 --epochs 3 --lr 5e-4 \
        --out rosenblatt/models/weights/lenet5_zip.safetensors
"""

from __future__ import annotations

import argparse
import time
from multiprocessing import Pool

import numpy as np


def _cut(args: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """n fields from seed -> (digits (k, 28, 28), labels (k,)) for fields cut into 5."""
    from threadpoolctl import threadpool_limits

    from rosenblatt.apps.digits.preprocess import preprocess_field
    from rosenblatt.apps.digits.synth import FieldSynth, load_mnist

    n, seed = args
    with threadpool_limits(1):
        images, labels = load_mnist("train")
        synth = FieldSynth(images, labels, seed=seed)
        xs, ys = [], []
        for _ in range(n):
            f = synth.sample()
            seg = preprocess_field(f.image)
            if len(seg.boxes) == 5:
                xs.append(np.asarray(seg.inputs[:, 0], np.float32))
                ys.extend(int(c) for c in f.zip)
    return np.concatenate(xs), np.asarray(ys, np.int64)


def field_digits(n_fields: int, workers: int = 2,
                 seed: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    chunk = 500
    jobs = [(min(chunk, n_fields - s), seed + i) for i, s in enumerate(range(0, n_fields, chunk))]
    with Pool(workers) as pool:
        parts = pool.map(_cut, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fields", type=int, default=20000)
    ap.add_argument("--clean", type=int, default=30000, help="clean MNIST training digits")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1000, help="first field-generator seed")
    ap.add_argument("--cache", help="npz to keep/reuse the cut digits in")
    ap.add_argument("--extra", nargs="*", default=[], help="more cut-digit npz files to add")
    ap.add_argument("--init", help="start from these weights instead of the committed LeNet-5")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    import os

    import rosenblatt as rb
    from rosenblatt.apps.digits.model import committed_classifier, replay_digits, train_cnn

    t0 = time.perf_counter()
    if args.cache and os.path.exists(args.cache):
        with np.load(args.cache) as z:
            fx, fy = z["x"], z["y"]
    else:
        fx, fy = field_digits(args.fields, args.workers, args.seed)
        if args.cache:
            np.savez(args.cache, x=fx, y=fy)
    for extra in args.extra:
        with np.load(extra) as z:
            fx, fy = np.concatenate([fx, z["x"]]), np.concatenate([fy, z["y"]])
    print(f"{len(fy)} field digits in {time.perf_counter() - t0:.0f} s", flush=True)
    cx, cy = replay_digits(args.clean, seed=7)
    x = np.concatenate([fx[:, None], cx]).astype(np.float32)
    y = np.concatenate([fy, cy])
    base = committed_classifier()
    if base is None:
        raise SystemExit("no committed LeNet-5 to start from")
    if args.init:
        base.module.load_state_dict(rb.load(args.init))
    model = train_cnn(x, y, epochs=args.epochs, lr=args.lr, batch_size=args.batch,
                      init=base.module, log=lambda m: print(m, flush=True))
    rb.save(model.module.state_dict(), args.out)
    print(f"saved {args.out} after {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
