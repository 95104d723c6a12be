"""The training doctor's checks: each looks at one thing the curriculum teaches to look at.

Every check takes a `Setup` (model, loader, loss, optimizer and what was learned from the
first batch) and returns a `Finding`: a status ('ok', 'warn' or 'fail'), the evidence (the
numbers seen) and, when something is wrong, the fix to try. Checks that train (overfitting
one batch, the learning-rate range test, update/weight ratios) train a copy of the model, so
the user's model and optimizer are left as they were.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import rosenblatt as rb
from rosenblatt._backend import np


@dataclass
class Finding:
    """One check's verdict: status 'ok', 'warn' or 'fail', evidence, and a fix when not ok."""

    name: str
    status: str
    evidence: str
    fix: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class Setup:
    """What the checks share: the user's objects and the first batch."""

    model: Any
    loader: Any
    loss_fn: Callable
    optimizer: Any
    inputs: Any
    target: Any
    test_loader: Any = None
    train_step: Callable | None = None
    out_dir: Any = None
    batches: int = 8  # how many batches the data checks read

    @property
    def classes(self) -> int | None:
        """Classes of a classifier whose target is one index per sample, else None."""
        with rb.no_grad():
            out = self.model(self.inputs[:2])
        if out.ndim == 2 and self.target.ndim == 1 and not self.target.is_floating_point():
            return int(out.shape[1])
        return None


def _numpy(t: Any) -> Any:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _copy(setup: Setup, lr: float | None = None) -> tuple[Any, Any]:
    """A copy of the model in training mode and a fresh optimizer of the same kind for it."""
    model = copy.deepcopy(setup.model)
    model.train()
    defaults = dict(setup.optimizer.defaults)
    defaults["lr"] = setup.optimizer.param_groups[0]["lr"] if lr is None else lr
    return model, type(setup.optimizer)(model.parameters(), **defaults)


def _step(model: Any, optimizer: Any, loss_fn: Callable, x: Any, y: Any) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def _layers(model: Any) -> list[tuple[str, Any]]:
    """(name, parameter) of each weight (2+ dimensions), in registration order."""
    return [(n, p) for n, p in model.named_parameters() if p.ndim >= 2 and p.requires_grad]


# ------------------------------------------------------------------- data
def check_inputs(s: Setup) -> Finding:
    """Un-normalised inputs: large means, spreads or values slow or stall training."""
    arrays = [_numpy(x) for x, _ in _batches(s.loader, s.batches)]
    x = np.concatenate([a.reshape(len(a), -1) for a in arrays]).astype(np.float64)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        return Finding("inputs", "fail", f"{bad} of {len(x)} samples hold nan or inf",
                       "clean or drop those samples before training")
    mean, std, lo, hi = float(x.mean()), float(x.std()), float(x.min()), float(x.max())
    evidence = f"mean {mean:.3g}, std {std:.3g}, range [{lo:.3g}, {hi:.3g}]"
    data = {"mean": mean, "std": std, "min": lo, "max": hi}
    if std < 1e-6:
        return Finding("inputs", "fail", evidence + ": every input is the same",
                       "check the data pipeline (all-zero or constant images)", data)
    if abs(mean) > 3 or std > 5 or max(abs(lo), abs(hi)) > 50:
        return Finding("inputs", "fail", evidence + ": not normalised",
                       "scale the inputs, e.g. pixels / 255, or subtract the mean and divide "
                       "by the standard deviation (transforms.Normalize)", data)
    return Finding("inputs", "ok", evidence, data=data)


def _batches(loader: Any, n: int) -> list[Any]:
    out = []
    for batch in loader:
        out.append(batch)
        if len(out) >= n:
            break
    return out


def check_labels(s: Setup) -> Finding:
    """Labels: an integer dtype, values in [0, classes), and how balanced the classes are."""
    ys = [_numpy(y) for _, y in _batches(s.loader, max(s.batches, 32))]
    y = np.concatenate([a.reshape(-1) for a in ys])
    classes = s.classes
    with rb.no_grad():
        out_shape = tuple(s.model(s.inputs[:2]).shape)
    if classes is None:
        if y.dtype.kind == "f" and len(out_shape) == 2 and out_shape[1] > 1 \
                and s.target.ndim == 1:
            return Finding("labels", "fail", f"labels are {y.dtype} but the model gives "
                           f"{out_shape[1]} class scores",
                           "class labels must be integers (target.long()) for cross-entropy")
        return Finding("labels", "ok", f"dtype {y.dtype}, not class indices: range "
                       f"[{y.min():.3g}, {y.max():.3g}]")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= classes:
        return Finding("labels", "fail", f"labels range over [{lo}, {hi}] but the model has "
                       f"{classes} outputs (0..{classes - 1})",
                       "make labels 0-based (e.g. y - 1) or give the last layer one output "
                       "per class", {"min": lo, "max": hi})
    counts = np.bincount(y.astype(np.int64), minlength=classes)
    share = counts / counts.sum()
    evidence = (f"{y.dtype}, {classes} classes, {len(y)} labels seen: smallest class "
                f"{share.min():.1%}, largest {share.max():.1%}")
    data = {"counts": counts.tolist()}
    if counts.min() == 0 or share.min() < 0.1 * share.max():
        return Finding("labels", "warn", evidence + ": imbalanced",
                       "weight the loss by inverse class frequency "
                       "(CrossEntropyLoss(weight=...)) or resample, and report per-class "
                       "recall, not only accuracy", data)
    return Finding("labels", "ok", evidence, data=data)


def _row_hashes(loader: Any) -> dict[bytes, int]:
    seen: dict[bytes, int] = {}
    for x, _ in loader:
        a = np.ascontiguousarray(_numpy(x), dtype=np.float32)
        for row in a.reshape(len(a), -1):
            key = row.tobytes()
            seen[key] = seen.get(key, 0) + 1
    return seen


def check_leakage(s: Setup) -> Finding:
    """Samples of the test set that are also in the training set (exact copies)."""
    if s.test_loader is None:
        return Finding("leakage", "ok", "no test loader given: not checked")
    train = _row_hashes(s.loader)
    test = _row_hashes(s.test_loader)
    shared = sum(n for key, n in test.items() if key in train)
    total = sum(test.values())
    evidence = f"{shared} of {total} test samples also appear in the training data"
    if shared:
        return Finding("leakage", "fail", evidence,
                       "remove the duplicates from one side (split before augmenting, "
                       "deduplicate by content)", {"shared": shared, "test": total})
    return Finding("leakage", "ok", evidence, data={"shared": 0, "test": total})


# --------------------------------------------------------------- the model
def check_initial_loss(s: Setup) -> Finding:
    """The loss at initialisation against ln(classes), the loss of uniform guessing."""
    with rb.no_grad():
        loss = float(s.loss_fn(s.model(s.inputs), s.target).item())
    classes = s.classes
    if classes is None:
        return Finding("initial loss", "ok", f"{loss:.4g} (not a classifier: no reference)")
    expected = math.log(classes)
    evidence = f"{loss:.4g} at initialisation, ln({classes}) = {expected:.4g}"
    data = {"loss": loss, "expected": expected}
    if not math.isfinite(loss):
        return Finding("initial loss", "fail", evidence, "see the nan/inf check", data)
    if loss > 2 * expected + 0.5:
        return Finding("initial loss", "fail", evidence + ": the network is confidently wrong",
                       "initialise the last layer small (default init, or scale it down) so "
                       "the first predictions are near uniform", data)
    if loss < 0.25 * expected:
        return Finding("initial loss", "warn", evidence + ": suspiciously low before training",
                       "check that the labels are not in the inputs (leakage)", data)
    return Finding("initial loss", "ok", evidence, data=data)


def check_overfit_batch(s: Setup, steps: int = 150, size: int = 16) -> Finding:
    """Can the model learn one small batch by heart? If not, learning itself is broken."""
    model, optimizer = _copy(s)
    x, y = s.inputs[:size], s.target[:size]
    first = last = float("nan")
    for i in range(steps):
        last = _step(model, optimizer, s.loss_fn, x, y)
        if i == 0:
            first = last
        if last < 0.05 * first:
            break
    evidence = f"loss on {len(x)} samples: {first:.4g} -> {last:.4g} in {i + 1} steps"
    data = {"first": first, "last": last}
    if not math.isfinite(last) or last > 0.2 * first:
        return Finding("overfit one batch", "fail", evidence,
                       "a network must memorise a few samples: check the learning rate, that "
                       "parameters require grad and reach the optimizer, and that the loss "
                       "matches the output (logits for CrossEntropyLoss)", data)
    return Finding("overfit one batch", "ok", evidence, data=data)


def check_lr_range(s: Setup, start: float = 1e-6, end: float = 10.0, steps: int = 60
                   ) -> Finding:
    """Learning-rate range test (Smith): raise the LR exponentially, find where loss falls
    fastest; suggest a rate a little below the point where it starts to rise."""
    model, optimizer = _copy(s, lr=start)
    batches = _batches(s.loader, steps)
    lrs, losses = [], []
    smooth = None
    for i in range(steps):
        lr = start * (end / start) ** (i / (steps - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = batches[i % len(batches)][:2]
        loss = _step(model, optimizer, s.loss_fn, x, y)
        if not math.isfinite(loss):
            break
        smooth = loss if smooth is None else 0.8 * smooth + 0.2 * loss
        lrs.append(lr)
        losses.append(smooth)
        if smooth > 4 * min(losses):
            break
    if len(losses) < 5:
        return Finding("learning-rate range", "warn", f"the loss diverged after {len(losses)} "
                       f"steps from lr {start:g}", "lower the starting rate; check the inputs")
    best = int(np.argmin(losses))
    suggested = lrs[best] / 10  # a decade below the lowest loss, as fastai advises
    current = float(s.optimizer.param_groups[0]["lr"])
    data = {"lrs": lrs, "losses": losses, "suggested": suggested, "current": current}
    if s.out_dir is not None:
        data["plot"] = str(_plot_lr(lrs, losses, suggested, current, s.out_dir))
    evidence = (f"lowest loss at lr {lrs[best]:.3g}; suggested lr {suggested:.3g}, "
                f"current {current:.3g}")
    if current > 3 * lrs[best]:
        return Finding("learning-rate range", "fail", evidence + ": the current rate is past "
                       "the minimum, where the loss rises", f"use lr about {suggested:.3g}", data)
    if current < suggested / 100:
        return Finding("learning-rate range", "warn", evidence + ": the current rate is far "
                       "below", f"try lr about {suggested:.3g}", data)
    return Finding("learning-rate range", "ok", evidence, data=data)


def _plot_lr(lrs: list, losses: list, suggested: float, current: float, out_dir: Any) -> Any:
    from pathlib import Path

    from rosenblatt.train.plots import _figure, _save

    fig = _figure(6, 4)
    ax = fig.subplots()
    ax.plot(lrs, losses)
    ax.axvline(suggested, color="green", linestyle="--", label=f"suggested {suggested:.2g}")
    ax.axvline(current, color="red", linestyle=":", label=f"current {current:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    ax.legend()
    ax.set_title("learning-rate range test")
    return _save(fig, Path(out_dir) / "lr_range.png")


def check_gradients(s: Setup) -> Finding:
    """Per-layer gradient norms and update/weight ratios after one step of a copy."""
    model, optimizer = _copy(s)
    before = {n: _numpy(p).copy() for n, p in _layers(model)}
    optimizer.zero_grad()
    s.loss_fn(model(s.inputs), s.target).backward()
    grads = {n: float(np.linalg.norm(_numpy(p.grad))) if p.grad is not None else 0.0
             for n, p in _layers(model)}
    optimizer.step()
    ratios = {n: float(np.linalg.norm(_numpy(p) - before[n])
                       / (np.linalg.norm(before[n]) + 1e-12)) for n, p in _layers(model)}
    if not grads:
        return Finding("gradients", "ok", "no weight matrices to check")
    lines = [f"{n}: |grad| {grads[n]:.2g}, update/weight {ratios[n]:.2g}" for n in grads]
    data = {"grad_norms": grads, "update_ratios": ratios}
    evidence = "; ".join(lines)
    norms = list(grads.values())
    if not all(math.isfinite(g) for g in norms) or max(norms) > 1e3:
        return Finding("gradients", "fail", evidence + ": exploding gradients",
                       "lower the learning rate, clip gradients (clip_grad_norm_), use a "
                       "smaller initialisation or normalisation layers", data)
    if min(norms) < 1e-7 or (len(norms) > 2 and norms[0] < 1e-4 * max(norms)):
        return Finding("gradients", "fail", evidence + ": vanishing gradients (the first "
                       "layers barely learn)",
                       "use ReLU instead of sigmoid/tanh in deep stacks, He/Xavier "
                       "initialisation, normalisation layers or residual connections", data)
    worst = max(ratios.values())
    if worst > 0.25:  # 1e-3 is typical; Adam's first step is larger, so only warn up to 1
        return Finding("gradients", "fail" if worst > 1 else "warn",
                       evidence + f": one step changes a layer by {worst:.3g} times its size",
                       "lower the learning rate (update/weight near 1e-3 is typical)", data)
    return Finding("gradients", "ok", evidence, data=data)


_SATURATING = {"Sigmoid": (0.02, 0.98), "Tanh": (-0.98, 0.98)}


def check_activations(s: Setup) -> Finding:
    """Dead ReLUs (zero for every sample) and saturated sigmoid/tanh units (flat gradient)."""
    seen: dict[str, tuple[str, Any]] = {}
    handles = []
    for name, module in s.model.named_modules():
        kind = type(module).__name__
        if kind in ("ReLU", "LeakyReLU", "ReLU6") or kind in _SATURATING:
            handles.append(module.register_forward_hook(
                lambda m, a, out, name=name, kind=kind: seen.__setitem__(
                    name, (kind, _numpy(out)))))
    try:
        with rb.no_grad():
            s.model(s.inputs)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        return Finding("activations", "ok", "no ReLU, sigmoid or tanh modules to check")
    problems, lines, data = [], [], {}
    for name, (kind, out) in seen.items():
        units = out.reshape(len(out), -1)
        if kind in _SATURATING:
            lo, hi = _SATURATING[kind]
            share = float(((units <= lo) | (units >= hi)).mean())
            label = f"{name} ({kind}): {share:.0%} saturated"
        else:
            share = float((units <= 0).all(axis=0).mean())
            label = f"{name} ({kind}): {share:.0%} dead"
        data[name] = share
        lines.append(label)
        if share > 0.5:
            problems.append(label)
    if problems:
        return Finding("activations", "fail", "; ".join(problems),
                       "dead ReLUs: lower the learning rate, check biases and initialisation, "
                       "or use LeakyReLU; saturation: normalise inputs, smaller weights, "
                       "BatchNorm before the activation", data)
    return Finding("activations", "ok", "; ".join(lines), data=data)


def check_finite(s: Setup) -> Finding:
    """nan/inf in a forward or backward pass, and the layer (op) that first made them."""
    first: list[str] = []
    handles = []
    for name, module in s.model.named_modules():
        if next(iter(module.children()), None) is not None:
            continue  # leaf modules only: the op that made the value

        def hook(m: Any, args: Any, out: Any, name: str = name) -> None:
            ins_ok = all(np.isfinite(_numpy(a)).all() for a in args if hasattr(a, "detach"))
            if not first and ins_ok and hasattr(out, "detach") and \
                    not np.isfinite(_numpy(out)).all():
                first.append(f"{name or type(s.model).__name__} ({type(m).__name__})")
        handles.append(module.register_forward_hook(hook))
    model, _ = _copy(s)
    try:
        with rb.no_grad():
            out = s.model(s.inputs)
    finally:
        for h in handles:
            h.remove()
    fix = ("guard the op (clamp before log/sqrt, add eps to divisions, use log_softmax / "
           "cross_entropy on logits), lower the learning rate")
    if not np.isfinite(_numpy(s.inputs)).all():
        return Finding("nan/inf", "fail", "the inputs hold nan or inf", "clean the data")
    if first or not np.isfinite(_numpy(out)).all():
        where = f"first non-finite output from {first[0]}" if first else \
            "the output holds nan/inf, made in forward's own code (outside any layer)"
        return Finding("nan/inf", "fail", f"{where}; {_anomaly(model, s)}", fix,
                       {"module": first[0] if first else None})
    loss = s.loss_fn(model(s.inputs), s.target)
    loss.backward()
    bad = [n for n, p in model.named_parameters()
           if p.grad is not None and not np.isfinite(_numpy(p.grad)).all()]
    if not math.isfinite(float(loss.item())) or bad:
        return Finding("nan/inf", "fail", f"loss {float(loss.item()):.4g}; non-finite "
                       f"gradients in {', '.join(bad) or 'none'}", fix)
    return Finding("nan/inf", "ok", "forward output, loss and gradients are finite")


def _anomaly(model: Any, s: Setup) -> str:
    """The op that made the first nan/inf, as anomaly mode names it."""
    try:
        with rb.autograd.detect_anomaly():
            s.loss_fn(model(s.inputs), s.target).backward()
    except RuntimeError as e:
        return str(e)
    return "anomaly mode saw no non-finite value in a recorded op"


# ------------------------------------------------------------- the loop
def _default_step(model: Any, optimizer: Any, loss_fn: Callable, x: Any, y: Any) -> Any:
    """The textbook step, with the model in whatever mode it was given in."""
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def check_training_step(s: Setup, steps: int = 4) -> Finding:
    """The training step itself: the model must be in train mode, and gradients must not
    keep growing from step to step (a missing `optimizer.zero_grad()`)."""
    state = copy.deepcopy(s.model.state_dict())
    opt_state = copy.deepcopy(s.optimizer.state_dict())
    was_training = s.model.training
    params = [p for p in s.model.parameters() if p.requires_grad]
    saved_grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    norms, modes = [], []
    try:
        for _ in range(steps):
            if s.train_step is not None:
                s.train_step(s.inputs, s.target)
            else:
                _default_step(s.model, s.optimizer, s.loss_fn, s.inputs, s.target)
            modes.append(all(m.training for m in s.model.modules()))
            norms.append(math.sqrt(sum(float((_numpy(p.grad).astype(np.float64) ** 2).sum())
                                       for p in params if p.grad is not None)))
    finally:
        s.model.load_state_dict(state)
        s.optimizer.load_state_dict(opt_state)
        s.model.train(was_training)
        for p, g in zip(params, saved_grads):
            p.grad = g
    evidence = "gradient norm per step: " + ", ".join(f"{n:.3g}" for n in norms)
    data = {"grad_norms": norms, "train_mode": modes}
    if not all(modes):
        return Finding("training step", "fail", "the model (or a submodule) is in eval mode "
                       "while training: dropout is off and BatchNorm uses running statistics",
                       "call model.train() at the start of every training epoch (after "
                       "evaluating)", data)
    if norms[0] > 0 and norms[-1] > 2.5 * norms[0] and all(
            b > a for a, b in zip(norms, norms[1:])):
        return Finding("training step", "fail", evidence + ": gradients accumulate",
                       "call optimizer.zero_grad() before every loss.backward()", data)
    return Finding("training step", "ok", evidence, data=data)


CHECKS: list[Callable[[Setup], Finding]] = [
    check_inputs, check_labels, check_leakage, check_finite, check_initial_loss,
    check_activations, check_gradients, check_overfit_batch, check_lr_range,
    check_training_step,
]
# the name each check's findings carry (also when the check itself raises)
CHECK_NAMES: dict[Callable[[Setup], Finding], str] = {
    check_inputs: "inputs", check_labels: "labels", check_leakage: "leakage",
    check_finite: "nan/inf", check_initial_loss: "initial loss",
    check_activations: "activations", check_gradients: "gradients",
    check_overfit_batch: "overfit one batch", check_lr_range: "learning-rate range",
    check_training_step: "training step",
}
