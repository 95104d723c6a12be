"""`rosenblatt doctor --dataset NAME [train's flags]`: the doctor's checks on the setup that
`rosenblatt train` would use (same defaults per data set, same model and optimizer flags), or
`rosenblatt doctor --config RUN`: on the setup a run recorded (a checkpoint of `rosenblatt
train` or its config as JSON: data set, network, settings), freshly initialised; flags given
override it. Exit status 1 when a check fails."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the doctor subcommand."""
    from rosenblatt.train.cli import (
        DATASETS,
        MODELS,
        OPTIMIZERS,
        _positive_float,
        _positive_int,
        _sizes,
    )

    p = subparsers.add_parser(
        "doctor", help="check a training setup (data, labels, init, gradients, learning rate)",
        description="Run the training doctor's checks on the setup `rosenblatt train` would "
                    "use; each check prints its evidence and, when it fails, a fix.")
    p.add_argument("--config", default=None, metavar="RUN",
                   help="the setup of a run: a checkpoint of `rosenblatt train` or its config "
                        "as JSON (the network is freshly initialised)")
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="the data set (required without --config)")
    p.add_argument("--data-root", default=None, metavar="FOLDER", help="folder of data sets")
    p.add_argument("--download", action="store_true", help="download missing MNIST files")
    p.add_argument("--model", choices=MODELS, default=None, help="the network (default mlp)")
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer")
    p.add_argument("--batch-size", type=_positive_int, help="samples per step")
    p.add_argument("--hidden", type=_sizes, help="MLP hidden widths, e.g. 512,256")
    p.add_argument("--train-limit", type=_positive_int, default=5000,
                   help="read only the first N training samples (5000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--out", default=None,
                   help="folder for lr_range.png (default runs/doctor-DATASET-MODEL)")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Build the setup as `train` would and print the doctor's report."""
    import rosenblatt as rb
    from rosenblatt.doctor import check
    from rosenblatt.train.cli import (
        DEFAULTS,
        _optimizer,
        build_model,
        dataset_info,
        load_split,
        rebuild_model,
    )
    from rosenblatt.utils.data import DataLoader, Subset

    config = _run_config(args.config) if args.config else {}
    dataset = args.dataset or config.get("dataset")
    if dataset is None:
        raise ValueError("doctor: give --dataset or --config RUN")
    settings = {**DEFAULTS[dataset], **config.get("settings", {})}
    for key in ("lr", "optimizer", "batch_size", "hidden"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    rb.manual_seed(args.seed)
    if config and args.model is None and args.hidden is None:
        model, name = rebuild_model(config), config["model"]["name"]
    else:
        name = args.model or "mlp"
        model, _ = build_model(name, dataset_info(dataset), settings)
    train = load_split(dataset, True, args.data_root, args.download, args.seed)
    test = load_split(dataset, False, args.data_root, args.download, args.seed)
    if len(train) > args.train_limit:
        train = Subset(train, list(range(args.train_limit)))
    loader = DataLoader(train, batch_size=settings["batch_size"], shuffle=True,
                        generator=rb.Generator().manual_seed(args.seed))
    optimizer = _optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                           settings["weight_decay"], 0.9)
    out = Path(args.out or f"runs/doctor-{dataset}-{name}")
    print(f"doctor: {name} on {dataset}, {settings['optimizer']} lr {settings['lr']}, "
          f"batch {settings['batch_size']}")
    report = check(model, loader, rb.nn.CrossEntropyLoss(), optimizer,
                   test_loader=DataLoader(test, batch_size=500), out_dir=out)
    print(report)
    print(f"learning-rate range plot: {out / 'lr_range.png'}")
    return 0 if report.ok else 1


def _run_config(path: str) -> dict:
    """A run's config from its checkpoint or from a JSON file."""
    import json

    if Path(path).suffix == ".json":
        if not Path(path).is_file():
            raise FileNotFoundError(f"no config at {path}")
        return json.loads(Path(path).read_text())
    from rosenblatt.train.cli import load_checkpoint

    return load_checkpoint(path)[1]
