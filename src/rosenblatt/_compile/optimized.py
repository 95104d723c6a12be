"""`OptimizedModule`: what `compile(module)` returns, as in PyTorch (state-dict keys gain
`_orig_mod.`, attributes read and write through to the module).

A call looks up a plan by its guard: the input tensors' shapes and dtypes and the other
arguments, with the module tree's fingerprint (modules, training flags, hooks, parameter and
buffer identities) checked whenever any module changed (`Changes.count`). No plan yet: the
call captures one (the call itself runs eagerly, recording). A call that cannot use a plan
(grad needed, hooks, a forward that cannot be captured) runs the module eagerly, and
`explain()` says why. At most `recompile_limit` plans are kept, as PyTorch's cache limit.

With `dynamic=True` (tensor arguments only, all of one batch size), a plan follows the batch
size: the op settings equal to the captured batch size are computed from the inputs' dim 0,
and the plan serves every batch size once `probe` found it equal to eager at another one.
Python branches on the batch size in the forward are not guarded (PyTorch's are): such a
forward is for static shapes.
"""

from __future__ import annotations

import copy
from typing import Any

from ..autograd.grad_mode import state as grad_state
from ..autograd.tensor import Tensor
from ..nn.modules.module import Changes, Module
from .capture import CaptureError, Plan, capture, capturing, flatten, probe


class OptimizedModule(Module):
    """A module whose no-grad forward runs through captured plans (`torch.compile`'s type)."""

    _opt_attributes = frozenset({"_plans", "_seen", "_fingerprint", "_reasons", "_limit",
                                 "_orig_mod", "_ready", "_dynamic"})

    def __init__(self, mod: Module, recompile_limit: int = 8, dynamic: bool = False) -> None:
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_ready", False)  # (Module.__init__ sets training: ignored)
        super().__init__()
        self._modules["_orig_mod"] = mod
        for name, value in (("_plans", {}), ("_seen", -1), ("_fingerprint", None),
                            ("_reasons", []), ("_limit", recompile_limit),
                            ("_dynamic", dynamic), ("_ready", True)):
            object.__setattr__(self, name, value)

    def __deepcopy__(self, memo: dict) -> OptimizedModule:
        """A copy of the module, compiled afresh (plans name this module's parameters)."""
        return OptimizedModule(copy.deepcopy(self._orig_mod, memo), self._limit, self._dynamic)

    @property  # type: ignore[override]
    def training(self) -> bool:
        """The compiled module's training flag (there is one flag: the module's)."""
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        if self.__dict__.get("_ready"):
            self._orig_mod.training = mode

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self.__dict__["_orig_mod"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name) or name in self._opt_attributes:
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's forward: through a plan when one applies, else eagerly."""
        mod = self._orig_mod
        if capturing[0] is not None:  # inside a capture (of an outer module): be recorded
            return mod(*args, **kwargs)
        if grad_state.enabled:
            reason = _needs_grad(mod, args, kwargs)
            if reason:
                return self._eager(reason, args, kwargs)
        tensors: Any = args
        batched = None  # the key of a plan for any batch size
        if not kwargs and all(a.__class__ is Tensor for a in args):  # the common call, quickly
            key: Any = tuple([(a._data.shape, a._data.dtype) for a in args])
            if self._dynamic:
                batched = _batch_key(key)
        else:
            try:
                tensors = []
                key = flatten((args, kwargs), tensors)
            except CaptureError as error:
                return self._eager(str(error), args, kwargs)
        if Changes.count != self._seen:
            self._revalidate()
        plan = self._plans.get(key)
        if plan is None and batched is not None:
            plan = self._plans.get(batched)
        if plan.__class__ is Plan:
            if not (plan.watched and plan.stale()):
                return plan.run(tensors)
            # a buffer its constants came from changed: capture again
            del self._plans[key if key in self._plans else batched]
        elif plan is not None:  # a reason this guard's forward cannot be captured
            return self._eager(plan, args, kwargs)
        if len(self._plans) >= self._limit:
            return self._eager(f"recompile_limit ({self._limit}) reached: plans for "
                               f"{self._limit} input signatures are kept", args, kwargs)
        return self._capture(key, batched, args, kwargs)

    def _capture(self, key: Any, batched: Any, args: tuple, kwargs: dict) -> Any:
        """Run the forward once recording it; keep the plan, or the reason there is none
        (under `batched` when it serves every batch size, else under `key`)."""
        mod = self._orig_mod
        hooked = _hooked(mod)
        if hooked:
            self._plans[key] = f"module {hooked} has hooks (they would not run in a plan)"
            return self._eager(self._plans[key], args, kwargs)
        # (at batch size 1 every setting 1 would follow it: capture such a call as it is)
        batch = args[0].shape[0] if batched is not None and args[0].shape[0] > 1 else None
        result, plan = capture(mod, args, kwargs, batch)
        reason = plan if isinstance(plan, str) else probe(mod, args, kwargs, plan)
        if reason is None and batch is not None and plan.batch is None:
            self._note("static: a plan differs from the forward at another batch size (it "
                       "serves only the batch size captured)", "")
        dynamic = reason is None and plan.batch is not None
        self._plans[batched if dynamic else key] = plan if reason is None else reason
        if reason:
            self._note(reason)
        object.__setattr__(self, "_seen", Changes.count)
        return result

    def _eager(self, reason: str, args: tuple, kwargs: dict) -> Any:
        """Run the module as it is, noting why."""
        self._note(reason)
        return self._orig_mod(*args, **kwargs)

    def _note(self, reason: str, kind: str = "eager: ") -> None:
        """Keep a line for `explain` (the latest 16): `kind` (a call ran eagerly), `reason`."""
        reasons, line = self._reasons, kind + reason
        if line not in reasons:
            reasons.append(line)
            del reasons[:-16]

    def _revalidate(self) -> None:
        """Some module changed somewhere: drop the plans if it was one of ours."""
        fingerprint = _fingerprint(self._orig_mod)
        if fingerprint != self._fingerprint:
            self._plans.clear()
            object.__setattr__(self, "_fingerprint", fingerprint)
        object.__setattr__(self, "_seen", Changes.count)

    def explain(self) -> str:
        """What runs as a plan, why a call ran eagerly and why a plan is static (one line
        per reason)."""
        plans = [p for p in self._plans.values() if p.__class__ is Plan]
        lines = [f"{len(plans)} captured plan(s), "
                 f"{sum(p.ops for p in plans)} op(s) in all"]
        lines += self._reasons
        return "\n".join(lines)


def _batch_key(key: tuple) -> tuple | None:
    """A plan key's form for any batch size, or None when the inputs do not share a dim 0."""
    if not key or any(not shape or shape[0] != key[0][0][0] for shape, _ in key):
        return None
    return ("any batch", *((shape[1:], dtype) for shape, dtype in key))


def _needs_grad(mod: Module, args: tuple, kwargs: dict) -> str | None:
    """Why this call must record a graph (grad is on and something requires grad), or None."""
    tensors: list = []
    try:
        flatten((args, kwargs), tensors)
    except CaptureError:
        return None
    if any(t.requires_grad for t in tensors) or any(p.requires_grad for p in mod.parameters()):
        return ("grad mode is on and a parameter or input requires grad: backward is not "
                "captured (run inference under no_grad)")
    return None


def _hooked(mod: Module) -> str | None:
    """The name of a module in the tree with forward hooks (or a replaced forward), if any."""
    for name, m in mod.named_modules():
        if m._forward_hooks or m._forward_pre_hooks or "forward" in m.__dict__:
            return name or type(m).__name__
    return None


def _fingerprint(mod: Module) -> tuple:
    """What a plan depends on in the module tree, beyond the inputs."""
    return tuple(
        (id(m), m.training, len(m._forward_hooks), len(m._forward_pre_hooks),
         tuple((k, id(v)) for k, v in m._parameters.items()),
         tuple((k, id(v)) for k, v in m._buffers.items()), "forward" in m.__dict__,
         tuple((k, id(v)) for k, v in m.__dict__.items() if isinstance(v, Tensor)))
        for m in mod.modules())
