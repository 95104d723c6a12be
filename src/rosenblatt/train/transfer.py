"""Transfer learning: start from a trained network, train a new head, unfreeze with care.

- `load_matching(model, state, skip)`: copy the weights whose names and shapes match (a head
  for another number of classes is left as initialised).
- `freeze` / `unfreeze`: stop or restart learning in the layers whose names match
  shell-style patterns (`features.*`, `features`, `*.bias`).
- `head_name` / `replace_head`: the last Linear layer, and a fresh one in its place.
- `param_groups`: discriminative learning rates, the head at `lr`, the rest at `lr_backbone`.
- `GradualUnfreezing`: a Trainer callback (ULMFiT, Howard & Ruder 2018): the head alone
  first, then one more layer from the top every `every` epochs.
- `prepare_transfer`: what `rosenblatt train --init-from CKPT [--freeze PATTERN]
  [--new-head N] [--lr-backbone X] [--unfreeze-every K]` does with those.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .callbacks import Callback


def _matches(name: str, patterns: Sequence[str]) -> bool:
    """A parameter name matches a pattern itself, or through one of its modules' names."""
    parts = name.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(p, pattern) for pattern in patterns for p in prefixes)


def _set_requires_grad(model: Any, patterns: str | Sequence[str], flag: bool) -> list[str]:
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    names = [n for n, p in model.named_parameters() if _matches(n, patterns)]
    if not names:
        choices = sorted({n.rpartition(".")[0] for n, _ in model.named_parameters()})
        raise ValueError(f"no parameter matches {patterns}; layers: {', '.join(choices)}")
    for n, p in model.named_parameters():
        if n in names:
            p.requires_grad_(flag)
    return names


def freeze(model: Any, patterns: str | Sequence[str]) -> list[str]:
    """Stop training the parameters matching the patterns; returns their names."""
    return _set_requires_grad(model, patterns, False)


def unfreeze(model: Any, patterns: str | Sequence[str]) -> list[str]:
    """Train again the parameters matching the patterns; returns their names."""
    return _set_requires_grad(model, patterns, True)


def head_name(model: Any) -> str:
    """The name of the last Linear layer (the classifier head)."""
    from rosenblatt.nn import Linear

    names = [n for n, m in model.named_modules() if isinstance(m, Linear)]
    if not names:
        raise ValueError(f"{type(model).__name__} has no Linear layer to use as its head")
    return names[-1]


def replace_head(model: Any, num_classes: int, name: str | None = None) -> str:
    """Put a freshly initialised Linear(in_features, num_classes) in place of the head."""
    from rosenblatt.nn import Linear

    name = name or head_name(model)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = parent._modules[child]
    new = Linear(old.in_features, num_classes, bias=old.bias is not None)
    parent._modules[child] = new.to(old.weight.device)
    return name


def load_matching(model: Any, state: dict, skip: Sequence[str] = ()) -> dict:
    """Copy into `model` each tensor of `state` whose name and shape match, except those
    matching `skip` patterns; {'loaded', 'skipped', 'missing'} lists of names."""
    own = model.state_dict()
    loaded, skipped = {}, []
    for key, value in state.items():
        if key in own and tuple(own[key].shape) == tuple(value.shape) \
                and not _matches(key, skip):
            loaded[key] = value
        else:
            skipped.append(key)
    model.load_state_dict({**own, **loaded})
    return {"loaded": sorted(loaded), "skipped": skipped,
            "missing": sorted(set(own) - set(loaded))}


def param_groups(model: Any, lr: float, lr_backbone: float | None = None,
                 head: str | None = None) -> list[dict]:
    """Two optimizer groups: the head's parameters at `lr`, all others at `lr_backbone`
    (frozen ones too, so that unfreezing them later makes them learn)."""
    head = head or head_name(model)
    head_params, body = [], []
    for n, p in model.named_parameters():
        (head_params if _matches(n, [head]) else body).append(p)
    return [{"params": body, "lr": lr if lr_backbone is None else lr_backbone},
            {"params": head_params, "lr": lr}]


def layer_groups(model: Any, head: str | None = None) -> list[str]:
    """Names of the modules holding parameters themselves, input first, the head left out."""
    head = head or head_name(model)
    return [n for n, m in model.named_modules()
            if n and n != head and next(iter(m.parameters(False)), None) is not None]


class GradualUnfreezing(Callback):
    """Train the head alone for `every` epochs, then unfreeze one more layer group from the
    top every `every` epochs (groups: `layer_groups(model)` unless given, input first).
    The state follows from the epoch number, so a resumed run unfreezes the same way."""

    def __init__(self, every: int = 1, groups: Sequence[str] | None = None,
                 head: str | None = None) -> None:
        if every < 1:
            raise ValueError(f"GradualUnfreezing: every must be >= 1, got {every}")
        self.every = every
        self.groups = list(groups) if groups is not None else None
        self.head = head
        self.unfrozen: list[str] = []

    def on_fit_start(self, trainer: Any) -> None:
        if self.groups is None:
            self.groups = layer_groups(trainer.model, self.head)

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        assert self.groups is not None
        n = min((epoch - 1) // self.every, len(self.groups))
        self.unfrozen = self.groups[len(self.groups) - n:] if n else []
        for name in self.groups:
            flag = name in self.unfrozen
            for p in trainer.model.get_submodule(name).parameters():
                p.requires_grad_(flag)


@dataclass
class Transfer:
    """A model started from a checkpoint, with its optimizer groups and callbacks."""

    model: Any
    config: dict  # how to rebuild the model (for the new checkpoint)
    head: str
    lr_backbone: float | None = None
    report: dict = field(default_factory=dict)
    callbacks: list = field(default_factory=list)

    def param_groups(self, lr: float) -> list[dict]:
        """The optimizer's groups: head at lr, the rest at lr_backbone."""
        return param_groups(self.model, lr, self.lr_backbone, self.head)

    def describe(self) -> dict:
        """What was done, for the run's config."""
        return {k: v for k, v in self.report.items() if k not in ("loaded", "skipped", "missing")}


def prepare_transfer(init_from: str, info: dict, freeze_patterns: Iterable[str] = (),
                     new_head: int | None = None, lr_backbone: float | None = None,
                     unfreeze_every: int | None = None) -> Transfer:
    """The checkpoint's network with a head for `info['num_classes']` classes (a fresh one
    when the class count differs or `new_head` is given), frozen layers and callbacks."""
    from .cli import load_checkpoint, rebuild_model

    weights, config, path = load_checkpoint(init_from)
    if config["input_shape"] != info["input_shape"]:
        raise ValueError(f"--init-from: {path} takes inputs {config['input_shape']}, the data "
                         f"set has {info['input_shape']}")
    classes = new_head if new_head is not None else info["num_classes"]
    if classes < info["num_classes"]:
        raise ValueError(f"--new-head {classes}: the data set has {info['num_classes']} classes")
    spec = {"name": config["model"]["name"],
            "kwargs": {**config["model"]["kwargs"], "num_classes": classes}}
    model = rebuild_model({"model": spec})
    head = head_name(model)
    skip = [head] if new_head is not None else []
    report = load_matching(model, weights, skip)
    report.update(init_from=str(path), head=head, new_head=head in
                  {k.rpartition(".")[0] for k in report["missing"]})
    frozen = freeze(model, list(freeze_patterns)) if freeze_patterns else []
    report["frozen"] = sorted({n.rpartition(".")[0] for n in frozen})
    callbacks = [GradualUnfreezing(unfreeze_every, head=head)] if unfreeze_every else []
    if unfreeze_every:
        report["unfreeze_every"] = unfreeze_every
    if lr_backbone is not None:
        report["lr_backbone"] = lr_backbone
    return Transfer(model, {"name": spec["name"], "kwargs": spec["kwargs"]}, head, lr_backbone,
                    report, callbacks)
