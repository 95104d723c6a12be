"""Train the ZIP reader's digit models on digits cut from synthetic fields of MNIST TRAINING digits.

Fields are drawn by rosenblatt.apps.digits.synth.FieldSynth (the default mix) from the MNIST
training file only (never the test digits, which calibrate and evaluate the reader) and cut
by the reader's own pre-processing (preprocess_field). A field cut into 5 pieces gives 5
labelled digits; with --clean-labels only the fields whose every piece has its centre inside
its true digit's box (a wrong cut would teach wrong labels). Clean MNIST training digits,
normalised the same way, are mixed in.

The reader's model is a TwoViewLeNet: one LeNet-5 on the digits as cut ("plain"), one on the
same digits deskewed. Train each member, then pair them:

    export ROSENBLATT_DATA=../shared/data
    python examples/train_zip_digits.py --cut-only --clean-labels --fields 30000 --seed 1000 \\
        --cache /tmp/fd30k.npz --out -
    python examples/train_zip_digits.py --view deskewed --from-scratch --clean-labels \\
        --fields 70000 --seed 5000 --cache /tmp/fd70k.npz --extra /tmp/fd30k.npz \\
        --clean 10000 --epochs 6 --lr 2e-3 --batch 128 --out /tmp/deskewed.safetensors
    python examples/train_zip_digits.py --pair /tmp/plain.safetensors /tmp/deskewed.safetensors \\
        --out src/rosenblatt/models/weights/lenet5_zip_pair.safetensors

(the model card, src/rosenblatt/models/weights/README.md, gives each member's exact recipe)
"""

from __future__ import annotations

import argparse
import os
import time
from multiprocessing import Pool

import numpy as np


def _cut(args: tuple[int, int, bool]) -> tuple[np.ndarray, np.ndarray]:
    """n fields from seed -> (digits (k, 28, 28), labels (k,)) of fields cut into 5."""
    from threadpoolctl import threadpool_limits

    from rosenblatt.apps.digits.preprocess import preprocess_field
    from rosenblatt.apps.digits.synth import FieldSynth, load_mnist

    n, seed, clean_labels = args
    with threadpool_limits(1):
        images, labels = load_mnist("train")
        synth = FieldSynth(images, labels, seed=seed)
        xs, ys = [np.zeros((0, 28, 28), np.float32)], []
        for _ in range(n):
            f = synth.sample()
            seg = preprocess_field(f.image)
            if len(seg.boxes) != 5:
                continue
            inv = 1.0 / seg.scale
            if clean_labels and not all(t[0] <= (b[0] + b[2]) / 2 * inv <= t[2]
                                        for b, t in zip(seg.boxes, f.boxes)):
                continue
            xs.append(np.asarray(seg.inputs[:, 0], np.float32))
            ys.extend(int(c) for c in f.zip)
    return np.concatenate(xs), np.asarray(ys, np.int64)


def field_digits(n_fields: int, workers: int = 2, seed: int = 1000,
                 clean_labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Digits (k, 28, 28) and labels (k,) cut from n_fields fields, 500 per generator seed."""
    chunk = 500
    jobs = [(min(chunk, n_fields - s), seed + i, clean_labels)
            for i, s in enumerate(range(0, n_fields, chunk))]
    with Pool(workers) as pool:
        parts = pool.map(_cut, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def pair(plain: str, deskewed: str, out: str) -> None:
    """Write one TwoViewLeNet state dict from the two members' LeNet-5 weights."""
    import rosenblatt as rb
    from rosenblatt.apps.digits.model import TwoViewLeNet, member_widths

    widths = member_widths(rb.load(plain))
    if widths != member_widths(rb.load(deskewed)):
        raise SystemExit("--pair: the two members must have the same widths")
    model = TwoViewLeNet(**widths)
    model.plain.load_state_dict(rb.load(plain))
    model.deskewed.load_state_dict(rb.load(deskewed))
    rb.save(model.state_dict(), out)
    print(f"saved {out} (member widths {widths})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fields", type=int, default=20000)
    ap.add_argument("--clean", type=int, default=30000, help="clean MNIST training digits")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1000, help="first field-generator seed")
    ap.add_argument("--view", choices=("plain", "deskewed"), default="plain",
                    help="train on the digits as cut or deskewed (preprocess.deskew)")
    ap.add_argument("--clean-labels", action="store_true",
                    help="keep only fields whose pieces all lie in their true digit's box")
    ap.add_argument("--cache", help="npz to keep/reuse the cut digits in")
    ap.add_argument("--cut-only", action="store_true", help="only cut the digits into --cache")
    ap.add_argument("--extra", nargs="*", default=[], help="more cut-digit npz files to add")
    ap.add_argument("--init", help="start from these weights instead of the committed LeNet-5")
    ap.add_argument("--from-scratch", action="store_true", help="start from random weights")
    ap.add_argument("--elastic", action="store_true",
                    help="elastically distort half of each batch (Simard et al. 2003)")
    ap.add_argument("--train-seed", type=int, default=0,
                    help="seed of the initial weights, the batch order and the distortions")
    ap.add_argument("--device", default="cpu", help="'cuda' trains on the GPU (needs CuPy)")
    ap.add_argument("--channels", type=int, nargs=2, default=(6, 16),
                    help="feature maps of the two convolutions (LeNet-5: 6 16)")
    ap.add_argument("--hidden", type=int, nargs=2, default=(120, 84),
                    help="units of the two hidden layers (LeNet-5: 120 84)")
    ap.add_argument("--minutes", type=float,
                    help="instead of --epochs: as many epochs as fit in this many minutes, "
                         "timed on 50 batches after a warm-up")
    ap.add_argument("--teacher",
                    help="member weights to distil from (it reads the same view)")
    ap.add_argument("--distill", type=float, default=0.7,
                    help="weight of the teacher's soft targets in the loss")
    ap.add_argument("--pair", nargs=2, metavar=("PLAIN", "DESKEWED"),
                    help="only combine two trained members into a TwoViewLeNet")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.pair:
        pair(*args.pair, args.out)
        return

    import rosenblatt as rb
    from rosenblatt.apps.digits.model import (
        committed_classifier,
        load_member,
        replay_digits,
        train_cnn,
    )
    from rosenblatt.apps.digits.preprocess import deskew
    from rosenblatt.models import lenet5

    t0 = time.perf_counter()
    if args.cache and os.path.exists(args.cache):
        with np.load(args.cache) as z:
            fx, fy = z["x"], z["y"]
    else:
        fx, fy = field_digits(args.fields, args.workers, args.seed, args.clean_labels)
        if args.cache:
            np.savez(args.cache, x=fx, y=fy)
    if args.cut_only:
        print(f"{len(fy)} field digits in {args.cache}")
        return
    for extra in args.extra:
        with np.load(extra) as z:
            fx, fy = np.concatenate([fx, z["x"]]), np.concatenate([fy, z["y"]])
    print(f"{len(fy)} field digits in {time.perf_counter() - t0:.0f} s", flush=True)
    cx, cy = replay_digits(args.clean, seed=7)
    x = np.concatenate([fx[:, None], cx]).astype(np.float32)
    y = np.concatenate([fy, cy])
    if args.view == "deskewed":
        x = deskew(x)
    if args.from_scratch:
        init = None  # train_cnn draws the weights after seeding with --train-seed
    else:
        base = committed_classifier()
        if base is None:
            raise SystemExit("no committed LeNet-5 to start from")
        init = base.module
    if args.init:
        init = lenet5(channels=tuple(args.channels), hidden=tuple(args.hidden))
        init.load_state_dict(rb.load(args.init))
    member = {"channels": tuple(args.channels), "hidden": tuple(args.hidden)}
    teacher = load_member(args.teacher) if args.teacher else None
    common = dict(lr=args.lr, batch_size=args.batch, seed=args.train_seed,
                  elastic=args.elastic, device=args.device, member=member,
                  teacher=teacher, distill=args.distill)
    epochs = args.epochs
    if args.minutes:
        probe = min(len(y), 50 * args.batch)
        train_cnn(x[:probe // 10], y[:probe // 10], epochs=1, **common)  # warm-up (GPU kernels)
        t1 = time.perf_counter()
        train_cnn(x[:probe], y[:probe], epochs=1, **common)
        seconds_per_epoch = (time.perf_counter() - t1) * len(y) / probe
        epochs = max(1, int(args.minutes * 60 / seconds_per_epoch))
        print(f"{seconds_per_epoch:.0f} s per epoch: {epochs} epochs", flush=True)
    model = train_cnn(x, y, epochs=epochs, init=init, log=lambda m: print(m, flush=True),
                      **common)
    rb.save(model.module.state_dict(), args.out)
    print(f"saved {args.out} after {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
