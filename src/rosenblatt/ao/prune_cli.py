"""`rosenblatt prune CHECKPOINT`: iterative magnitude pruning with fine-tuning.

Each round prunes the smallest weights of all Linear and convolution layers together
(`global_unstructured` L1) up to the next target sparsity, fine-tunes the pruned network
(masks keep pruned weights at zero), and measures test accuracy. Writes the accuracy-vs-
sparsity curve (PNG, JSON) and the last round's model as a checkpoint that `evaluate` and
`export` read (the pruning made permanent: plain weights with zeros).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _sparsities(text: str) -> list[float]:
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or any(not 0 < v < 1 for v in values) or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"expected increasing fractions in (0, 1), e.g. "
                                         f"0.5,0.75,0.9; got {text!r}")
    return values


def checkpoint_command(subparsers: Any, name: str, summary: str, description: str) -> Any:
    """A subcommand parser taking a checkpoint and --data-root (prune, quantize)."""
    from ..cli import DATA_ROOT_HELP, DefaultsHelp

    p = subparsers.add_parser(name, help=summary, formatter_class=DefaultsHelp,
                              description=description)
    p.add_argument("checkpoint", help="a checkpoint written by `rosenblatt train`, or a "
                                      "committed model by name")
    p.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    return p


def register(subparsers: Any) -> None:
    """Add the prune subcommand."""
    p = checkpoint_command(
        subparsers, "prune", "prune a checkpoint step by step, fine-tuning after each step",
        "Iterative global magnitude pruning of a `rosenblatt train` checkpoint: prune to each "
        "target sparsity, fine-tune, measure test accuracy; writes the accuracy-vs-sparsity "
        "curve (PNG and JSON) and the pruned model.")
    p.add_argument("--sparsity", type=_sparsities, default=[0.5, 0.75, 0.9],
                   help="increasing target fractions of zero weights, comma-separated")
    p.add_argument("--finetune-epochs", type=int, default=1, help="epochs after each step")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of fine-tuning")
    p.add_argument("--batch-size", type=int, default=128, help="fine-tuning batch size")
    p.add_argument("--train-limit", type=int, default=None,
                   help="fine-tune on the first N training samples only")
    p.add_argument("--out", default=None, help="output folder (default: next to the "
                                               "checkpoint, pruned/)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the fine-tuning")
    p.set_defaults(func=cmd_prune)


def prunable(model: Any) -> list[tuple[Any, str]]:
    """The (module, 'weight') pairs pruned: every Linear and convolution layer."""
    from rosenblatt import nn

    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)
    return [(m, "weight") for m in model.modules() if isinstance(m, kinds)]


def sparsity(pairs: list) -> float:
    """The fraction of zeros over the pruned weights."""
    total = sum(getattr(m, n).numel() for m, n in pairs)
    return sum(int((getattr(m, n) == 0).sum()) for m, n in pairs) / total


def accuracy(model: Any, loader: Any) -> float:
    """Top-1 accuracy over a loader."""
    import rosenblatt as rb

    model.eval()
    right = count = 0
    with rb.no_grad():
        for x, y in loader:
            right += int((model(x).argmax(1) == y).sum())
            count += len(y)
    return right / count


def finetune(model: Any, loader: Any, epochs: int, lr: float) -> None:
    """Plain Adam on cross-entropy (the pruning masks keep pruned weights at zero)."""
    import rosenblatt as rb

    optimizer = rb.optim.Adam(model.parameters(), lr=lr)
    loss_fn = rb.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()


def plot_curve(points: list[dict], path: Path, title: str) -> Path:
    """Test accuracy against sparsity as a PNG."""
    from ..train.plots import _figure, _save

    fig = _figure(6, 4)
    ax = fig.add_subplot(1, 1, 1)
    xs = [100 * p["sparsity"] for p in points]
    ax.plot(xs, [100 * p["accuracy"] for p in points], marker="o")
    for x, p in zip(xs, points):
        ax.annotate(f"{100 * p['accuracy']:.1f}%", (x, 100 * p["accuracy"]),
                    textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xlabel("weights pruned (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def cmd_prune(args: argparse.Namespace) -> int:
    """Prune, fine-tune and measure at each target sparsity; save the curve and the model."""
    import rosenblatt as rb
    from rosenblatt.nn.utils import prune
    from rosenblatt.utils.data import DataLoader, Subset

    from ..train.cli import load_checkpoint, load_split, rebuild_model
    from .card import write_card

    weights, config, path = load_checkpoint(args.checkpoint)
    model = rebuild_model(config)
    model.load_state_dict(weights)
    dataset = config["dataset"]
    root = args.data_root or config.get("data_root")
    train_set = load_split(dataset, True, root, False, config.get("seed", 0))
    if args.train_limit is not None and args.train_limit < len(train_set):
        train_set = Subset(train_set, list(range(args.train_limit)))
    test_loader = DataLoader(load_split(dataset, False, root, False, config.get("seed", 0)),
                             batch_size=500)
    rb.manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=rb.Generator().manual_seed(args.seed))
    pairs = prunable(model)
    points = [{"sparsity": sparsity(pairs), "accuracy": accuracy(model, test_loader)}]
    print(f"{path}: {dataset}, sparsity {points[0]['sparsity']:.1%}, test accuracy "
          f"{points[0]['accuracy']:.2%}")
    done = 0.0
    for target in args.sparsity:
        # global_unstructured prunes a fraction of what is still unpruned
        prune.global_unstructured(pairs, prune.L1Unstructured,
                                  amount=1 - (1 - target) / (1 - done))
        done = target
        finetune(model, train_loader, args.finetune_epochs, args.lr)
        points.append({"sparsity": sparsity(pairs), "accuracy": accuracy(model, test_loader)})
        print(f"sparsity {points[-1]['sparsity']:.1%}: test accuracy "
              f"{points[-1]['accuracy']:.2%} after {args.finetune_epochs} fine-tuning epoch(s)")
    for module, name in pairs:
        prune.remove(module, name)
    out = Path(args.out) if args.out else path.parent / "pruned"
    out.mkdir(parents=True, exist_ok=True)
    config = {**config, "pruning": {"from": str(path), "points": points,
                                    "finetune_epochs": args.finetune_epochs, "lr": args.lr}}
    config.pop("committed", None)
    rb.save({"model": model.state_dict(), "config": config}, out / "pruned.safetensors")
    (out / "pruning.json").write_text(json.dumps(points, indent=2) + "\n")
    plot_curve(points, out / "pruning.png", f"{config['model']['name']} on {dataset}: "
                                            "prune and fine-tune")
    made = {"by": "rosenblatt prune", "method": "global L1 unstructured on Linear/conv "
            "weights, fine-tuned after each step", "sparsity": points[-1]["sparsity"],
            "finetune_epochs": args.finetune_epochs, "lr": args.lr, "points": points}
    card = write_card(out / "pruned.safetensors", path, config, made)
    print(f"curve: {out / 'pruning.png'}, {out / 'pruning.json'}; "
          f"pruned model: {out / 'pruned.safetensors'} (card {card.name})")
    return 0
