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

import numpy as np
from train_zip_pairs import arguments, cached_pairs, fit_one_cycle, outputs, save, touching_pairs


def detector_accuracy(model, x: np.ndarray, is_pair: np.ndarray,
                      batch: int = 2048) -> tuple[float, float, float]:
    """(accuracy, recall on pairs, recall on single digits) of the detector at logit 0."""
    said = outputs(model, x, batch) > 0
    return (float((said == is_pair).mean()), float(said[is_pair].mean()),
            float((~said[~is_pair]).mean()))


def train(x: np.ndarray, is_pair: np.ndarray, xv: np.ndarray, pv: np.ndarray, epochs: int,
          batch: int, lr: float, seed: int):
    """Adam with a one-cycle schedule, binary cross-entropy, through the Trainer
    (`fit_one_cycle`); returns the PairDetector."""
    import rosenblatt as rb
    from rosenblatt.apps.digits.model import PairDetector
    from rosenblatt.nn import functional as F

    rb.manual_seed(seed)
    model = PairDetector()
    return fit_one_cycle(
        model, x, is_pair.astype(np.float32), epochs, batch, lr, seed,
        lambda: "accuracy {:.4f} (pairs {:.4f}, single digits {:.4f})".format(
            *detector_accuracy(model, xv, pv)),
        loss=F.binary_cross_entropy_with_logits)


def main() -> None:
    ap = arguments(__doc__.split("\n")[0], fields=80000, seed=3000, epochs=6, batch=256)
    ap.add_argument("--out", required=True, help="weights .safetensors")
    args = ap.parse_args()
    x, y = cached_pairs(args.fields, args.seed, args.cache, workers=args.workers, p_touch=0.5,
                        singles=True)
    xv, yv = touching_pairs(args.validation, 70, "calibration", args.workers, p_touch=0.5,
                            singles=True)
    print(f"{len(x)} blobs, {(y[:, 0] >= 0).mean():.1%} pairs", flush=True)
    save(train(x, y[:, 0] >= 0, xv, yv[:, 0] >= 0, args.epochs, args.batch, args.lr,
               args.train_seed), args.out)


if __name__ == "__main__":
    main()
