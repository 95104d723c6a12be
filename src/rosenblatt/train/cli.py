"""`rosenblatt train`, `rosenblatt evaluate` and `rosenblatt summary`.

`rosenblatt train --dataset digits` is the main job: it needs no data files (scikit-learn
ships the digits), trains an MLP in seconds with a live progress bar, and reports the test
accuracy and where the checkpoint, history and curves went. Each data set has default
hyper-parameters that reach its accuracy goal; every one can be overridden by a flag.
Checkpoints store how to rebuild the model, so `evaluate` needs only the checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from ..cli import DATA_ROOT_HELP, command_name
from ..cli import argument_type as _argument
from ..cli import positive_float as _positive_float
from ..cli import positive_int as _positive_int
from ..utils.threads import limit_blas_threads

DATASETS = ("digits", "mnist", "fashion-mnist", "moons", "xor")
MODELS = ("mlp", "lenet5", "cnn3", "resnet")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "cosine", "step", "plateau", "onecycle")

# Per data set: hyper-parameters that reach the goals (flags override them).
DEFAULTS: dict[str, dict[str, Any]] = {
    "xor": dict(epochs=40, batch_size=32, lr=0.01, optimizer="adam", hidden=[16, 16],
                dropout=0.0, weight_decay=0.0, scheduler="none", patience=None, augment=False),
    "moons": dict(epochs=40, batch_size=32, lr=0.01, optimizer="adam", hidden=[32, 32],
                  dropout=0.0, weight_decay=0.0, scheduler="none", patience=None, augment=False),
    "digits": dict(epochs=50, batch_size=32, lr=3e-3, optimizer="adam", hidden=[512, 256],
                   dropout=0.3, weight_decay=0.0, scheduler="cosine", patience=None,
                   augment=False),
    "mnist": dict(epochs=20, batch_size=64, lr=1e-3, optimizer="adam", hidden=[512, 256],
                  dropout=0.2, weight_decay=0.0, scheduler="cosine", patience=None,
                  augment=True),
    "fashion-mnist": dict(epochs=40, batch_size=128, lr=1e-3, optimizer="adam",
                          hidden=[512, 256], dropout=0.2, weight_decay=0.0,
                          scheduler="cosine", patience=None, augment=True),
}
SYNTHETIC_SIZES = {"train": 1000, "val": 500, "test": 1000}
# digits: only 1,437 training images, all needed to pass 97%; no validation split by default
VAL_FRACTION = {"digits": 0.0, "mnist": 0.1, "fashion-mnist": 0.1}
MLP_ONLY = ("hidden", "dropout")  # settings that a convolutional model ignores
# committed weights (rosenblatt/models/weights) usable wherever a checkpoint is: name -> file,
# and how to rebuild the model they fit
COMMITTED = {
    "lenet5-mnist": ("lenet5_mnist.safetensors", "lenet5", {"in_channels": 1, "num_classes": 10},
                     "mnist"),
}


# --------------------------------------------------------------------- parsers
def _fraction(text: str) -> float:
    return _argument(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _sizes(text: str) -> list[int]:
    def widths(text: str) -> list[int]:
        return [int(s) for s in text.replace("-", ",").split(",") if s.strip()]

    return _argument(text, widths, lambda v: bool(v) and min(v) >= 1, "layer widths like 512,256")


def _add_data_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--dataset", choices=DATASETS, required=required, default=None,
                   help="the data set")
    p.add_argument("--data-root", default=None, metavar="FOLDER",
                   help=DATA_ROOT_HELP + " (or the data set's own folder)")
    p.add_argument("--download", action="store_true",
                   help="download MNIST/Fashion-MNIST into the data root when missing")


def register(subparsers: Any) -> None:
    """Add the train, evaluate and summary subcommands."""
    defaults = "\n".join(
        f"  {name}: " + ", ".join(f"{k}={v}" for k, v in d.items() if v is not None)
        for name, d in DEFAULTS.items())
    p = subparsers.add_parser(
        "train", help="train a model on a data set",
        description="Train a model; defaults depend on the data set.",
        epilog=f"defaults per data set (flags override them):\n{defaults}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_args(p)
    p.add_argument("--model", choices=MODELS, default="mlp", help="the network (default mlp)")
    p.add_argument("--epochs", type=_positive_int, help="passes over the training data")
    p.add_argument("--batch-size", type=_positive_int, help="samples per step")
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer")
    p.add_argument("--weight-decay", type=float, help="weight decay")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD/RMSprop momentum (0.9)")
    p.add_argument("--scheduler", choices=SCHEDULERS, help="learning-rate schedule")
    p.add_argument("--hidden", type=_sizes, help="MLP hidden widths, e.g. 512,256")
    p.add_argument("--dropout", type=_fraction, help="MLP dropout after each hidden layer")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random shifts of training images (flips for Fashion-MNIST)")
    p.add_argument("--patience", type=_positive_int,
                   help="stop after this many epochs without a better validation loss")
    p.add_argument("--val-fraction", type=_fraction,
                   help="part of the training set held out for validation (0: none)")
    p.add_argument("--train-limit", type=_positive_int,
                   help="use only the first N training samples")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--out", default=None, help="output folder (default runs/DATASET-MODEL)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue from a checkpoint (last.safetensors) of the same run")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (1: small models gain nothing from more; 0: all)")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar")
    p.add_argument("--init-from", default=None, metavar="CKPT",
                   help="transfer learning: start from this checkpoint's network (its model "
                        "and widths; a fresh head when the classes differ)")
    p.add_argument("--freeze", action="append", default=[], metavar="PATTERN",
                   help="with --init-from: do not train the layers matching PATTERN "
                        "(e.g. 'features.*'; repeatable)")
    p.add_argument("--new-head", type=_positive_int, default=None, metavar="N",
                   help="with --init-from: a freshly initialised N-class head")
    p.add_argument("--lr-backbone", type=_positive_float, default=None, metavar="X",
                   help="with --init-from: learning rate of all but the head (default --lr)")
    p.add_argument("--unfreeze-every", type=_positive_int, default=None, metavar="K",
                   help="with --init-from: gradual unfreezing, the head alone first, then one "
                        "more layer from the top every K epochs")
    p.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="also log to TensorBoard event files in DIR (needs the tensorboard extra)")
    p.add_argument("--teacher", default=None, metavar="CKPT",
                   help="distillation: learn also from this trained model's softened outputs "
                        "(Hinton et al. 2015; a checkpoint or committed model by name)")
    p.add_argument("--distill-temperature", type=_positive_float, default=4.0, metavar="T",
                   help="with --teacher: softmax temperature of the soft targets (4)")
    p.add_argument("--distill-alpha", type=_fraction, default=0.9, metavar="A",
                   help="with --teacher: weight of the soft term, 1 - A of the labels (0.9)")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("evaluate", help="evaluate a checkpoint on a test set",
                              description="Accuracy, per-class report and confusion matrix.")
    p.add_argument("checkpoint", help="a checkpoint written by `rosenblatt train`, or a "
                   f"committed model by name: {', '.join(COMMITTED)}")
    _add_data_args(p, required=False)
    p.add_argument("--batch-size", type=_positive_int, default=500, help="samples per batch")
    p.add_argument("--out", default=None,
                   help="folder for confusion.png and report.txt (default: the checkpoint's)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--groups", default=None, metavar="FILE",
                   help="report by group: one group label per test sample (a line each), or "
                        "a JSON object mapping each class to its group")
    p.add_argument("--positive", type=int, default=None, metavar="CLASS",
                   help="with --groups: the class whose selection/TPR/FPR gaps are reported "
                        "(default: the worst class one-vs-rest)")
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser("summary", help="parameters, memory and multiply-adds per layer",
                              description="The layer table of a model for a data set's inputs.")
    p.add_argument("--model", choices=MODELS, default="mlp", help="the network (default mlp)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist",
                   help="decides the input shape and classes (default mnist)")
    p.add_argument("--hidden", type=_sizes, help="MLP hidden widths, e.g. 512,256")
    p.add_argument("--batch-size", type=_positive_int, default=1,
                   help="batch for activation memory (1)")
    p.add_argument("--optimizer", choices=("sgd", "sgd_momentum", "adam", "adamw", "rmsprop"),
                   default="adam", help="optimizer for the training-step memory (adam)")
    p.set_defaults(func=cmd_summary)

    p = subparsers.add_parser(
        "samples", help="write test-set images as PNG files (inputs for `explain`)",
        description="Write the first N test images of a data set as PNGs named "
                    "DATASET-INDEX.png (INDEX: the position in the test set) and print each "
                    "one's label.")
    _add_data_args(p)
    p.add_argument("--n", type=_positive_int, default=3, help="how many images (3)")
    p.add_argument("--start", type=int, default=0, help="first test-set index (0)")
    p.add_argument("--out", default="samples", help="folder for the PNGs (samples)")
    p.set_defaults(func=cmd_samples)


# ------------------------------------------------------------------------- data
def dataset_info(name: str) -> dict:
    """Input shape, classes and class names of a data set (no files read)."""
    if name in ("moons", "xor"):
        return {"input_shape": [2], "num_classes": 2, "classes": ["0", "1"]}
    # preprocessing: how `rosenblatt serve` makes an image into the input (pixels in [0, 1],
    # light on dark; "digit": fitted as MNIST's digits, "resize": the whole image resized)
    if name == "digits":
        return {"input_shape": [1, 8, 8], "num_classes": 10,
                "classes": [str(i) for i in range(10)], "preprocessing": _pixels("resize")}
    if name == "mnist":
        return {"input_shape": [1, 28, 28], "num_classes": 10,
                "classes": [str(i) for i in range(10)], "preprocessing": _pixels("digit")}
    if name == "fashion-mnist":
        return {"input_shape": [1, 28, 28], "num_classes": 10,
                "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                            "Shirt", "Sneaker", "Bag", "Ankle boot"],
                "preprocessing": _pixels("resize")}
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def _pixels(fit: str) -> dict:
    return {"fit": fit, "polarity": "light-on-dark", "mean": 0.0, "std": 1.0}


def _image_root(data_root: str | None, folder: str) -> str | None:
    """--data-root may name the folder of all data sets or the data set's own folder."""
    if data_root is None:
        return None
    root = Path(data_root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} is not a folder")
    return str(root / folder) if (root / folder).is_dir() else str(root)


def load_split(name: str, train: bool, data_root: str | None = None, download: bool = False,
               seed: int = 0, part: str | None = None, transform: Any = None) -> Any:
    """A Dataset: the training or test split (synthetic sets: a fresh sample per part)."""
    import rosenblatt as rb
    from rosenblatt.utils.data import TensorDataset

    if name in ("moons", "xor"):
        part = part or ("train" if train else "test")
        offset = {"train": 0, "val": 1, "test": 2}[part]
        maker = getattr(rb.datasets, name)
        x, y = maker(n=SYNTHETIC_SIZES[part], seed=seed * 10 + offset + 1)
        return TensorDataset(x, y)
    if name == "digits":
        return rb.datasets.Digits(train=train, transform=transform)
    cls = rb.datasets.MNIST if name == "mnist" else rb.datasets.FashionMNIST
    folder = "mnist" if name == "mnist" else "fashion-mnist"
    root = _image_root(data_root, folder)
    try:
        return cls(root=root, train=train, download=download, transform=transform)
    except FileNotFoundError:
        where = rb.datasets.data_root(folder, root)
        raise FileNotFoundError(
            f"{name} {'training' if train else 'test'} files not found in {where}: pass "
            f"--data-root FOLDER (a folder holding {folder}/), set ROSENBLATT_DATA, or add "
            "--download to fetch them") from None


def _augmentation(name: str) -> Any:
    """Random shifts (up to 2 pixels of 28, 1 of 8); Fashion-MNIST: left-right flips instead
    (for an MLP on clothes, shifts cost more than they give). None for 2-D points."""
    from rosenblatt import transforms as T

    if name in ("moons", "xor"):
        return None
    if name == "fashion-mnist":
        return T.RandomHorizontalFlip()
    return T.RandomCrop(8, padding=1) if name == "digits" else T.RandomCrop(28, padding=2)


def _split_train(train_set: Any, val_fraction: float, seed: int,
                 plain_set: Any = None) -> tuple[Any, Any]:
    """(training part, validation part or None); validation samples come from `plain_set`
    (the same images without augmentation) when given."""
    import rosenblatt as rb
    from rosenblatt.utils.data import Subset

    if val_fraction <= 0:
        return train_set, None
    n = len(train_set)
    n_val = max(1, int(round(n * val_fraction)))
    order = rb.randperm(n, generator=rb.Generator().manual_seed(seed + 12345)).tolist()
    val_source = train_set if plain_set is None else plain_set
    return Subset(train_set, order[n_val:]), Subset(val_source, order[:n_val])


# ------------------------------------------------------------------------ models
def build_model(name: str, info: dict, options: dict | None = None) -> tuple[Any, dict]:
    """The network and its config ({'name', 'kwargs'}: enough to rebuild it)."""
    options = options or {}
    if name == "mlp":
        from rosenblatt.models.mlp import MLP

        kwargs = {"in_features": math.prod(info["input_shape"]),
                  "hidden": list(options.get("hidden") or [512, 256]),
                  "num_classes": info["num_classes"], "dropout": options.get("dropout", 0.0)}
        return MLP(**kwargs), {"name": "mlp", "kwargs": kwargs}
    return _build_conv_model(name, info)


_CONV_FACTORIES = ("lenet5", "cnn3", "resnet")


def _conv_kwargs(name: str, info: dict) -> dict:
    channels, height, width = info["input_shape"]
    if name == "lenet5" and (height, width) != (28, 28):
        raise ValueError(f"lenet5 needs 28x28 images, this dataset has {height}x{width}; "
                         "use --model cnn3, resnet or mlp")
    kwargs = {"in_channels": channels, "num_classes": info["num_classes"]}
    if name == "cnn3":
        kwargs["image_size"] = height
    return kwargs


def _conv_factory(name: str) -> Any:
    import importlib

    models = importlib.import_module("rosenblatt.models")
    factory = getattr(models, name, None)
    if factory is None:
        raise ValueError(f"model {name} is not available in this build of rosenblatt.models")
    return factory


def _build_conv_model(name: str, info: dict) -> tuple[Any, dict]:
    if len(info["input_shape"]) != 3:
        raise ValueError(f"model {name} needs image data; use --model mlp for this dataset")
    kwargs = _conv_kwargs(name, info)
    return _conv_factory(name)(**kwargs), {"name": name, "kwargs": kwargs}


def load_checkpoint(spec: str | Path) -> tuple[dict, dict, Path]:
    """(state dict, config, path) of a `rosenblatt train` checkpoint or of committed weights,
    given by file or by name (COMMITTED)."""
    import rosenblatt as rb

    from ..models.lenet import WEIGHTS

    committed = {WEIGHTS.parent / entry[0]: name for name, entry in COMMITTED.items()}
    path = Path(spec)
    name = str(spec) if str(spec) in COMMITTED else committed.get(path.resolve())
    if name is not None:
        file, model, kwargs, dataset = COMMITTED[name]
        path = WEIGHTS.parent / file
        config = {"model": {"name": model, "kwargs": kwargs}, "dataset": dataset,
                  **dataset_info(dataset), "committed": name}
        return rb.load(path), config, path
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (committed models by name: "
                                f"{', '.join(COMMITTED)})")
    state = rb.load(path)
    config = state.get("config") if isinstance(state, dict) else None
    if not config or "model" not in config:
        raise ValueError(f"{path} has no model config: was it written by `rosenblatt train`?")
    return state["model"], config, path


def rebuild_model(config: dict) -> Any:
    """The model described by a checkpoint's `config['model']`."""
    spec = config["model"]
    if spec["name"] == "mlp":
        from rosenblatt.models.mlp import MLP

        return MLP(**spec["kwargs"])
    if spec["name"] not in _CONV_FACTORIES:
        raise ValueError(f"unknown model {spec['name']!r} in the checkpoint")
    return _conv_factory(spec["name"])(**spec["kwargs"])


def _optimizer(name: str, params: Any, lr: float, weight_decay: float, momentum: float) -> Any:
    import rosenblatt as rb

    if name == "sgd":
        return rb.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return rb.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return rb.optim.AdamW(params, lr=lr, weight_decay=weight_decay or 0.01)
    if name == "rmsprop":
        return rb.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def _scheduler(name: str, optimizer: Any, epochs: int, steps_per_epoch: int) -> tuple[Any, str]:
    """(scheduler or None, 'epoch' or 'step')."""
    from rosenblatt.optim import lr_scheduler as S

    if name == "none":
        return None, "epoch"
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "step":
        return S.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1), "epoch"
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, factor=0.5, patience=2), "epoch"
    if name == "onecycle":
        max_lr = optimizer.param_groups[0]["lr"]
        return S.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs,
                            steps_per_epoch=steps_per_epoch), "step"
    raise ValueError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}")


# ---------------------------------------------------------------------- commands
def _settings(args: argparse.Namespace) -> dict:
    """The data set's defaults with the flags given on the command line on top."""
    settings = dict(DEFAULTS[args.dataset])
    for key in ("epochs", "batch_size", "lr", "optimizer", "hidden", "dropout", "weight_decay",
                "scheduler", "patience", "augment"):
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    if args.val_fraction is not None:
        settings["val_fraction"] = args.val_fraction
    else:
        settings["val_fraction"] = VAL_FRACTION.get(args.dataset, 0.0)
    return settings


def cmd_train(args: argparse.Namespace) -> int:
    """Train, keep the best and last checkpoints, then report the test accuracy."""
    with limit_blas_threads(args.threads):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    import rosenblatt as rb
    from rosenblatt.utils.data import DataLoader, Subset

    from .trainer import Trainer

    s = _settings(args)
    started = time.perf_counter()
    rb.manual_seed(args.seed)
    info = dataset_info(args.dataset)
    model, model_config = build_model(args.model, info, s)  # bad choices fail before loading
    transfer = _transfer(args, info)
    if transfer is not None:
        model, model_config = transfer.model, transfer.config
        args.model = model_config["name"]  # the checkpoint decides the network
    augment = _augmentation(args.dataset) if s["augment"] else None
    train_set = load_split(args.dataset, True, args.data_root, args.download, args.seed,
                           transform=augment)
    plain_set = load_split(args.dataset, True, args.data_root, args.download, args.seed) \
        if augment is not None else None
    test_set = load_split(args.dataset, False, args.data_root, args.download, args.seed)
    if args.train_limit is not None and args.train_limit < len(train_set):
        train_set = Subset(train_set, list(range(args.train_limit)))
        if plain_set is not None:
            plain_set = Subset(plain_set, list(range(args.train_limit)))
    if args.dataset in ("moons", "xor"):
        val_set = load_split(args.dataset, True, seed=args.seed, part="val") \
            if args.val_fraction is None or args.val_fraction > 0 else None
    else:
        train_set, val_set = _split_train(train_set, s["val_fraction"], args.seed, plain_set)

    model.to(args.device)
    from rosenblatt.distributed.training import ParallelRun, launched
    parallel = None  # several processes (rosenblatt launch): rosenblatt/distributed/training.py
    if launched():
        parallel = ParallelRun(model, train_set, s["batch_size"], args.seed)
    loader_gen = rb.Generator().manual_seed(args.seed)
    train_loader = parallel.loader if parallel else DataLoader(
        train_set, batch_size=s["batch_size"], shuffle=True, generator=loader_gen)
    eval_batch = max(256, s["batch_size"])
    val_loader = DataLoader(val_set, batch_size=eval_batch) if val_set is not None else None
    test_loader = DataLoader(test_set, batch_size=eval_batch)
    params = transfer.param_groups(s["lr"]) if transfer is not None else model.parameters()
    optimizer = _optimizer(s["optimizer"], params, s["lr"], s["weight_decay"], args.momentum)
    scheduler, interval = _scheduler(s["scheduler"], optimizer, s["epochs"], len(train_loader))
    out = Path(args.out or f"runs/{args.dataset}-{args.model}")
    if args.model != "mlp":
        s = {k: v for k, v in s.items() if k not in MLP_ONLY}
    config = {"model": model_config, "dataset": args.dataset, **info,
              "settings": {k: v for k, v in s.items()}, "seed": args.seed}
    if transfer is not None:
        config["transfer"] = transfer.describe()
        print("transfer: " + ", ".join(f"{k}={v}" for k, v in transfer.describe().items()))
    if hasattr(test_set, "root"):
        # `evaluate` reads the test set from where training found it, without --data-root
        config["data_root"] = str(Path(test_set.root).resolve())
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.model} ({n_params:,} parameters) on {args.dataset}: {len(train_set):,} "
          f"training, {len(val_set) if val_set is not None else 0:,} validation, "
          f"{len(test_set):,} test samples")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in s.items()))
    follower = parallel is not None and parallel.rank != 0  # only rank 0 writes
    loss_fn = _distillation(args, info, model, config) or rb.nn.CrossEntropyLoss()
    trainer = Trainer(model, loss_fn, optimizer, scheduler,
                      scheduler_interval=interval, out_dir=None if follower else out,
                      patience=s["patience"],
                      device=args.device if args.device != "cpu" else None,
                      progress=not args.no_progress and not follower, config=config,
                      tensorboard=None if follower else args.tensorboard,
                      callbacks=(tuple(transfer.callbacks) if transfer is not None else ())
                      + (parallel.callbacks if parallel else ()))
    trainer.fit(train_loader, val_loader, s["epochs"], resume=args.resume)
    if follower:
        return 0

    best = out / "best.safetensors"
    if val_loader is not None and best.is_file():
        model.load_state_dict(rb.load(best)["model"])
        which = "best checkpoint"
    else:
        which = "last epoch"
    test = trainer.evaluate(test_loader)
    elapsed = time.perf_counter() - started
    result = {"dataset": args.dataset, "model": args.model, "test_accuracy": test["acc"],
              "test_loss": test["loss"], "epochs": trainer.epoch, "seconds": round(elapsed, 1)}
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    if "distillation" in config:
        from .distill import write_distilled_card

        print(f"model card: {write_distilled_card(out, config)}")
    print(f"test accuracy: {test['acc']:.2%} (loss {test['loss']:.4f}, {which}, "
          f"{len(test_set):,} samples) in {elapsed:.1f}s")
    print(f"checkpoints: {out / 'best.safetensors'} (best), {out / 'last.safetensors'} (last)")
    print(f"curves: {out / 'curves.png'}; history: {out / 'history.csv'}, "
          f"{out / 'history.jsonl'}")
    print(f"evaluate again: {command_name()} evaluate {out / 'best.safetensors'}")
    return 0


def _distillation(args: argparse.Namespace, info: dict, student: Any, config: dict) -> Any:
    """The distillation loss of --teacher (None without it), recorded in the config."""
    if args.teacher is None:
        return None
    from .distill import DistillationLoss

    weights, teacher_config, path = load_checkpoint(args.teacher)
    if teacher_config.get("num_classes") != info["num_classes"] or \
            teacher_config.get("input_shape") != info["input_shape"]:
        raise ValueError(f"the teacher {path} takes {teacher_config.get('input_shape')} to "
                         f"{teacher_config.get('num_classes')} classes; {args.dataset} has "
                         f"{info['input_shape']} and {info['num_classes']}")
    teacher = rebuild_model(teacher_config)
    teacher.load_state_dict(weights)
    loss = DistillationLoss(teacher.to(args.device), args.distill_temperature,
                            args.distill_alpha)
    loss.attach(student)
    config["distillation"] = {"teacher": str(path), "temperature": args.distill_temperature,
                              "alpha": args.distill_alpha}
    print(f"distilling from {path} (T={args.distill_temperature}, alpha={args.distill_alpha})")
    return loss


def _transfer(args: argparse.Namespace, info: dict) -> Any:
    """The transfer-learning setup of --init-from (None without it)."""
    given = [f for f in ("freeze", "new_head", "lr_backbone", "unfreeze_every")
             if getattr(args, f)]
    if args.init_from is None:
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} needs --init-from CKPT")
        return None
    from .transfer import prepare_transfer

    return prepare_transfer(args.init_from, info, args.freeze, args.new_head, args.lr_backbone,
                            args.unfreeze_every)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Accuracy, per-class report and a confusion-matrix PNG for a checkpoint."""
    import rosenblatt as rb
    from rosenblatt.utils.data import DataLoader

    from .metrics import accuracy, classification_report, confusion_matrix
    from .plots import plot_confusion_matrix

    weights, config, path = load_checkpoint(args.checkpoint)
    dataset = args.dataset or config["dataset"]
    info = dataset_info(dataset)
    if info["input_shape"] != config["input_shape"]:
        raise ValueError(f"the model takes inputs {config['input_shape']} but {dataset} has "
                         f"{info['input_shape']}")
    model = rebuild_model(config)
    model.load_state_dict(weights)
    model.to(args.device)
    model.eval()
    data_root = args.data_root
    if data_root is None and dataset == config["dataset"] and config.get("data_root") \
            and Path(config["data_root"]).is_dir():
        data_root = config["data_root"]
    test_set = load_split(dataset, False, data_root, args.download, config.get("seed", 0))
    outputs, targets = [], []
    with rb.no_grad():
        for x, y in DataLoader(test_set, batch_size=args.batch_size):
            outputs.append(model(x.to(args.device)).cpu())
            targets.append(y)
    logits, target = rb.cat(outputs), rb.cat(targets)
    loss = float(rb.nn.functional.cross_entropy(logits, target).item())
    names = info["classes"]
    print(f"{path}: {dataset} test set, {len(target):,} samples")
    print(f"accuracy {accuracy(logits, target):.2%}, loss {loss:.4f}")
    print(classification_report(target, logits, class_names=names))
    out = Path(args.out) if args.out else \
        (Path("runs") / config["committed"] if "committed" in config else path.parent)
    cm = confusion_matrix(target, logits, info["num_classes"])
    png = plot_confusion_matrix(cm, out / "confusion.png", names,
                                title=f"{dataset}: confusion matrix")
    print(f"confusion matrix: {png}")
    if args.groups:
        from .fairness import evaluate_groups

        print(evaluate_groups(target, logits, args.groups, names, out, args.positive))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the layer table of a model for a data set's input shape."""
    from rosenblatt.inspect.summary import summary

    info = dataset_info(args.dataset)
    options = dict(DEFAULTS[args.dataset])
    if args.hidden:
        options["hidden"] = args.hidden
    model, _ = build_model(args.model, info, options)
    print(summary(model, tuple(info["input_shape"]), batch_size=args.batch_size,
                  optimizer=args.optimizer))
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """Write test-set images as 8-bit grey PNGs, as the networks see them (ink bright)."""
    from PIL import Image

    from rosenblatt._backend import np

    info = dataset_info(args.dataset)
    if len(info["input_shape"]) != 3:
        raise ValueError(f"{args.dataset} holds points, not images")
    test_set = load_split(args.dataset, False, args.data_root, args.download)
    stop = min(len(test_set), args.start + args.n)
    if not 0 <= args.start < stop:
        raise ValueError(f"--start {args.start} is outside the test set of {len(test_set)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for index in range(args.start, stop):
        image, label = test_set[index]
        pixels = np.clip(np.asarray(image.numpy())[0] * 255 + 0.5, 0, 255).astype(np.uint8)
        path = out / f"{args.dataset}-{index}.png"
        Image.fromarray(pixels).save(path)
        print(f"{path}: label {info['classes'][int(label)]}")
    return 0

