"""`rosenblatt.doctor`: check a training setup before spending hours on it.

    report = rosenblatt.doctor.check(model, train_loader, loss_fn, optimizer,
                                     test_loader=test_loader, out_dir="doctor")
    print(report)          # one line per check: status, evidence, fix
    report.ok              # False when any check failed

The checks (rosenblatt.doctor.checks): input statistics, labels (dtype, range, balance),
train/test duplicates, nan/inf and the layer that made them, the loss at initialisation
against ln(classes), dead ReLUs and saturated sigmoid/tanh units, gradient norms and
update/weight ratios per layer, overfitting one small batch, a learning-rate range test
(with a plot in out_dir) and the training step itself (train mode, `zero_grad`).
`rosenblatt doctor --dataset ...` runs them on the setup `rosenblatt train` would use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .checks import CHECK_NAMES, CHECKS, Finding, Setup

__all__ = ["Finding", "Report", "check", "CHECKS"]

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@dataclass
class Report:
    """The findings of `check`, in the order they ran."""

    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return all(f.status != "fail" for f in self.findings)

    def __getitem__(self, name: str) -> Finding:
        for f in self.findings:
            if f.name == name:
                return f
        raise KeyError(f"no check named {name!r}; checks: {[f.name for f in self.findings]}")

    def failed(self) -> list[str]:
        """Names of the checks that failed."""
        return [f.name for f in self.findings if f.status == "fail"]

    def __str__(self) -> str:
        lines = []
        for f in self.findings:
            lines.append(f"[{_MARK[f.status]}] {f.name}: {f.evidence}")
            if f.fix and f.status != "ok":
                lines.append(f"       fix: {f.fix}")
        bad = self.failed()
        lines.append(f"{len(self.findings) - len(bad)} of {len(self.findings)} checks passed"
                     + (f"; failed: {', '.join(bad)}" if bad else ""))
        return "\n".join(lines)


def check(model: Any, loader: Any, loss_fn: Callable, optimizer: Any, *,
          test_loader: Any = None, train_step: Callable[[Any, Any], Any] | None = None,
          out_dir: str | os.PathLike | None = None,
          checks: Sequence[Callable[[Setup], Finding]] | None = None) -> Report:
    """Run the doctor's checks on a training setup; returns a `Report`.

    loader yields (inputs, target) batches; train_step(inputs, target), when given, is your
    own training step (the loop check runs it to catch a missing zero_grad or eval mode);
    out_dir receives lr_range.png. The model, optimizer, gradients, the global random state and
    the loader's generator are left as they were.
    """
    import copy

    import rosenblatt as rb

    # the checks draw batches and dropout masks and run the model (BatchNorm statistics move):
    # put the random streams and the model's state back, so that training after a check runs
    # as it would have without it
    model_state = copy.deepcopy(model.state_dict())
    rng_state = rb.get_rng_state()
    generator = getattr(loader, "generator", None)
    loader_state = generator.get_state() if generator is not None else None
    try:
        batch = next(iter(loader))
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("doctor: the loader must yield (inputs, target) batches")
        setup = Setup(model, loader, loss_fn, optimizer, batch[0], batch[1],
                      test_loader=test_loader, train_step=train_step, out_dir=out_dir)
        findings = [_run_check(run, setup) for run in checks or CHECKS]
    finally:
        model.load_state_dict(model_state)
        rb.set_rng_state(rng_state)
        if generator is not None:
            generator.set_state(loader_state)
    return Report(findings)


def _run_check(run: Callable[[Setup], Finding], setup: Setup) -> Finding:
    try:
        return run(setup)
    except Exception as e:  # a check that cannot run is itself a finding
        name = CHECK_NAMES.get(run) or run.__name__.removeprefix("check_").replace("_", " ")
        return Finding(name, "fail", f"the check raised {type(e).__name__}: {e}",
                       "run one training step by hand to see the full error")
