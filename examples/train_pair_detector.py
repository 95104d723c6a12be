"""Train the ZIP reader's pair detector: is a wide blob two touching digits or one wide digit?

The examples are the blobs the reader may cut in two (preprocess.segment's Blob.whole): from
synthetic fields of MNIST TRAINING digits, half of them with a touching pair, a blob whose box
holds the centres of two neighbouring true digits is a pair, one that holds one centre is not
(examples/train_zip_pairs.py draws them). Validation: fields of the CALIBRATION half of MNIST
test, reported only.

    export ROSENBLATT_DATA=../shared/data
    python examples/train_pair_detector.py --fields 80000 --seed 3000 --cache /tmp/blobs.npz \\
        --out src/rosenblatt/models/weights/zip_pairdetector.safetensors
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from train_zip_pairs import cached_pairs, touching_pairs


def detector_accuracy(model, x: np.ndarray, is_pair: np.ndarray,
                      batch: int = 2048) -> tuple[float, float, float]:
    """(accuracy, recall on pairs, recall on single digits) of the detector at logit 0."""
    import rosenblatt as rb

    model.eval()
    with rb.no_grad():
        z = np.concatenate([model(rb.from_numpy(np.ascontiguousarray(x[i : i + batch, None],
                                                                     np.float32))).numpy()
                            for i in range(0, len(x), batch)])
    model.train()
    said = z > 0
    return (float((said == is_pair).mean()), float(said[is_pair].mean()),
            float((~said[~is_pair]).mean()))


def train(x: np.ndarray, is_pair: np.ndarray, xv: np.ndarray, pv: np.ndarray, epochs: int,
          batch: int, lr: float, seed: int):
    """Adam with a one-cycle schedule, binary cross-entropy, through the Trainer
    (`fit_digits`); returns the PairDetector."""
    import rosenblatt as rb
    from rosenblatt import optim
    from rosenblatt.apps.digits.model import PairDetector, fit_digits
    from rosenblatt.nn import functional as F
    from rosenblatt.train import LambdaCallback

    rb.manual_seed(seed)
    model = PairDetector()
    t0 = time.time()

    def report(trainer, record: dict) -> None:
        acc, rec_pair, rec_single = detector_accuracy(model, xv, pv)
        print(f"epoch {record['epoch']}/{epochs}: loss {record['train_loss']:.4f}, validation "
              f"accuracy {acc:.4f} (pairs {rec_pair:.4f}, single digits {rec_single:.4f}), "
              f"{time.time() - t0:.0f} s", flush=True)

    return fit_digits(model, x[:, None], is_pair.astype(np.float32), epochs=epochs, lr=lr,
                      batch_size=batch, seed=seed, loss=F.binary_cross_entropy_with_logits,
                      schedule=lambda opt, steps: optim.lr_scheduler.OneCycleLR(
                          opt, max_lr=lr, total_steps=steps),
                      callbacks=[LambdaCallback(on_epoch_end=report)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fields", type=int, default=80000)
    ap.add_argument("--seed", type=int, default=3000, help="first generator seed")
    ap.add_argument("--cache", help=".npz of the generated blobs (read if it exists)")
    ap.add_argument("--validation", type=int, default=8000,
                    help="fields of the CALIBRATION half of MNIST test (reported only)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--train-seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True, help="weights .safetensors")
    args = ap.parse_args()
    x, y = cached_pairs(args.fields, args.seed, args.cache, workers=args.workers, p_touch=0.5,
                        singles=True)
    xv, yv = touching_pairs(args.validation, 70, "calibration", args.workers, p_touch=0.5,
                            singles=True)
    print(f"{len(x)} blobs, {(y[:, 0] >= 0).mean():.1%} pairs", flush=True)
    model = train(x, y[:, 0] >= 0, xv, yv[:, 0] >= 0, args.epochs, args.batch, args.lr,
                  args.train_seed)
    import rosenblatt as rb

    rb.save(model.state_dict(), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
