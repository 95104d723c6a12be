"""Evaluation by group, with a mitigation: is a Fashion-MNIST classifier as good for tops as
for shoes?

The groups are the garment families of examples/fashion_families.json (tops: T-shirt,
pullover, dress, coat, shirt; footwear: sandal, sneaker, ankle boot; other: trouser, bag).
A LeNet-5 is trained, then reported by family (accuracy, precision, recall, calibration, the
parity gaps). The mitigation is reweighting: a second network is trained with each class's
loss weighted by its family's error rate on a held-out part of the training set (measured
on the first network), so the family it failed most counts most. Both reports and the
effect go to --out (results.md, reliability.png).

    python examples/fairness_fashion_mnist.py --data ../shared/data/fashion-mnist --out runs/fair
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rosenblatt as rb
from rosenblatt import metrics as M
from rosenblatt.models import lenet5
from rosenblatt.train import Trainer
from rosenblatt.utils.data import DataLoader, Subset

FAMILIES = Path(__file__).with_name("fashion_families.json")


def train(train_set: object, class_weight: object, epochs: int, seed: int) -> object:
    """A LeNet-5 trained with the class weights (None: plain cross-entropy)."""
    rb.manual_seed(seed)
    model = lenet5()
    loader = DataLoader(train_set, batch_size=128, shuffle=True,
                        generator=rb.Generator().manual_seed(seed))
    optimizer = rb.optim.Adam(model.parameters(), lr=1e-3)
    Trainer(model, rb.nn.CrossEntropyLoss(weight=class_weight), optimizer, progress=False,
            verbose=True).fit(loader, epochs=epochs)
    return model


def scores(model: object, dataset: object) -> tuple[object, object]:
    """(logits (N, 10), labels (N,)) as NumPy arrays."""
    model.eval()
    outputs, labels = [], []
    with rb.no_grad():
        for x, y in DataLoader(dataset, batch_size=1000):
            outputs.append(model(x))
            labels.append(y)
    return rb.cat(outputs).numpy(), rb.cat(labels).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the fashion-mnist folder")
    parser.add_argument("--out", default="runs/fairness")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=60000, help="training images used")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    full = rb.datasets.FashionMNIST(root=args.data, train=True)
    test = rb.datasets.FashionMNIST(root=args.data, train=False)
    n = min(args.limit, len(full))
    held = max(n // 12, 1000)  # held out to measure each family's error for the weights
    train_set, held_set = Subset(full, range(n - held)), Subset(full, range(n - held, n))
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"]
    family = json.loads(FAMILIES.read_text())

    base = train(train_set, None, args.epochs, seed=0)
    held_logits, held_y = scores(base, held_set)
    held_groups = M.load_groups(FAMILIES, held_y, names)
    errors = {r.group: 1 - r.accuracy for r in M.group_metrics(held_y, held_logits, held_groups)}
    mean_error = sum(errors.values()) / len(errors)
    weights = [errors[family[name]] / mean_error for name in names]
    fair = train(train_set, rb.tensor(weights), args.epochs, seed=0)

    report = ["Groups: " + ", ".join(f"{g} ({', '.join(k for k in names if family[k] == g)})"
                                     for g in sorted(set(family.values()))), ""]
    diagrams = {}
    summary = []
    for label, model in (("plain cross-entropy", base), ("reweighted by family error", fair)):
        logits, y = scores(model, test)
        groups = M.load_groups(FAMILIES, y, names)
        rows = M.group_metrics(y, logits, groups)
        accuracy = float((logits.argmax(1) == y).mean())
        gap = max(r.accuracy for r in rows) - min(r.accuracy for r in rows)
        summary.append((label, accuracy, gap, {r.group: r.accuracy for r in rows}))
        diagrams[label] = M.reliability_diagram(y, logits)
        report += [f"### {label}", "", "```", M.fairness_report(y, logits, groups), "```", ""]
    report += ["class weights (family error / mean error): " + ", ".join(
        f"{g} {errors[g] / mean_error:.2f}" for g in sorted(errors)), "",
        "| training | test accuracy | " + " | ".join(sorted(summary[0][3])) + " | gap |",
        "|---|---:|" + "---:|" * (len(summary[0][3]) + 1)]
    for label, accuracy, gap, by_group in summary:
        report.append(f"| {label} | {accuracy:.2%} | " + " | ".join(
            f"{by_group[g]:.2%}" for g in sorted(by_group)) + f" | {gap:.2%} |")
    M.plot_reliability_diagram(diagrams, out / "reliability.png", "Fashion-MNIST test set")
    (out / "results.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
