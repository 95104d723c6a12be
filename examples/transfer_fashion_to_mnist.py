"""Transfer learning, measured: LeNet-5 trained on Fashion-MNIST, fine-tuned on MNIST with
100 / 1,000 / 10,000 labels, against the same network trained from scratch on the same labels.

Every run is a `rosenblatt train` command (printed as it starts), so each can be repeated
alone. The fine-tuned runs start from the Fashion-MNIST checkpoint with a fresh head, the
head at the default lr (1e-3) and the rest at each --lr-backbone (one arm per value), and one
arm unfreezes gradually. Every arm takes the same number of steps.
Writes results.json, results.md (the table) and transfer.png (test accuracy against labels,
and training loss per epoch) to --out.

    python examples/transfer_fashion_to_mnist.py --data ../shared/data --out runs/transfer
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rosenblatt.cli import main as rosenblatt


def train(out: Path, *flags: str) -> dict:
    """Run `rosenblatt train ...` into `out`; its result.json and history."""
    args = ["train", "--model", "lenet5", "--no-progress", "--no-augment", "--val-fraction",
            "0", "--out", str(out), *flags]
    print("rosenblatt " + " ".join(args), flush=True)
    if rosenblatt(args) != 0:
        raise SystemExit(f"failed: rosenblatt {' '.join(args)}")
    result = json.loads((out / "result.json").read_text())
    result["history"] = [json.loads(line)
                         for line in (out / "history.jsonl").read_text().splitlines()]
    return result


def batch_size(labels: int) -> int:
    """Smaller batches for the smallest label sets, so they still take many steps."""
    return 32 if labels < 1000 else 64


def plot(results: dict, path: Path) -> None:
    """Test accuracy against labels (left); training loss against steps (right)."""
    from rosenblatt.train.plots import _figure, _save

    fig = _figure(11, 4)
    left, right = fig.subplots(1, 2)
    labels = sorted(int(n) for n in results["arms"]["scratch"])
    styles = dict(zip(labels, ("-", "--", ":")))
    for (arm, runs), colour in zip(results["arms"].items(), ("C0", "C1", "C2", "C3")):
        left.plot(labels, [100 * runs[str(n)]["test_accuracy"] for n in labels], "o-",
                  color=colour, label=arm)
        for n in labels:
            history = runs[str(n)]["history"]
            steps = -(-n // batch_size(n))
            right.plot([r["epoch"] * steps for r in history], [r["train_loss"] for r in history],
                       styles[n], color=colour)
    left.set_xscale("log")
    left.set_xlabel("MNIST training labels")
    left.set_ylabel("test accuracy (%)")
    left.set_title("LeNet-5 on MNIST, 10,000 test digits")
    left.legend(fontsize=8)
    for n, style in styles.items():
        right.plot([], [], style, color="grey", label=f"{n:,} labels")
    right.set_yscale("log")
    right.set_xlabel("optimizer steps")
    right.set_ylabel("training loss (epoch mean)")
    right.set_title("learning curves (colours as on the left)")
    right.legend(fontsize=8)
    _save(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder holding mnist/, fashion-mnist/")
    parser.add_argument("--out", default="runs/transfer", help="output folder")
    parser.add_argument("--labels", default="100,1000,10000", help="label counts")
    parser.add_argument("--pretrain-limit", type=int, default=60000,
                        help="Fashion-MNIST training images for the source network")
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=600, help="fine-tuning steps per run")
    parser.add_argument("--lr-backbone", default="1e-3,1e-4",
                        help="backbone learning rates, one fine-tuned arm each")
    args = parser.parse_args()
    out = Path(args.out)
    source = train(out / "fashion", "--dataset", "fashion-mnist", "--data-root", args.data,
                   "--epochs", str(args.pretrain_epochs), "--train-limit",
                   str(args.pretrain_limit))
    checkpoint = out / "fashion" / "last.safetensors"
    backbones = args.lr_backbone.split(",")
    arms = {"scratch": []} | {f"from Fashion-MNIST, backbone lr {x}": ["--init-from",
                              str(checkpoint), "--new-head", "10", "--lr-backbone", x]
                              for x in backbones}
    # ULMFiT's gradual unfreezing: the head alone, then one more layer every EVERY epochs
    # (an eighth of the run: all four lower layers learn for the second half)
    arms["from Fashion-MNIST, gradual unfreezing"] = [
        "--init-from", str(checkpoint), "--new-head", "10", "--unfreeze-every", "EVERY"]
    results: dict = {"source": {k: source[k] for k in ("test_accuracy", "epochs", "seconds")},
                     "arms": {arm: {} for arm in arms}}
    for n in (int(s) for s in args.labels.split(",")):
        batch = batch_size(n)
        epochs = max(1, round(args.steps * batch / n))
        common = ["--dataset", "mnist", "--data-root", args.data, "--train-limit", str(n),
                  "--batch-size", str(batch), "--epochs", str(epochs)]
        every = str(max(1, epochs // 8))
        for i, (arm, flags) in enumerate(arms.items()):
            flags = [every if f == "EVERY" else f for f in flags]
            results["arms"][arm][str(n)] = train(out / f"arm{i}-{n}", *common, *flags)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = ["| MNIST labels | epochs | " + " | ".join(arms) + " |",
            "|---:|---:|" + "---:|" * len(arms)]
    for n, scratch in results["arms"]["scratch"].items():
        rows.append(f"| {int(n):,} | {scratch['epochs']} | " + " | ".join(
            f"{results['arms'][arm][n]['test_accuracy']:.2%}" for arm in arms) + " |")
    table = "\n".join(rows)
    (out / "results.md").write_text(
        f"Source: LeNet-5 on {args.pretrain_limit:,} Fashion-MNIST images, "
        f"{args.pretrain_epochs} epochs, test accuracy {source['test_accuracy']:.2%}.\n\n"
        f"{table}\n")
    plot(results, out / "transfer.png")
    print(table)
    print(f"wrote {out / 'results.md'}, {out / 'transfer.png'}")


if __name__ == "__main__":
    main()
