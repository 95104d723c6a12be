"""`gradcheck`: compare backward's gradients with central finite differences in float64."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .._backend import np
from .autograd_api import grad as autograd_grad
from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check the gradients of `fn` at `inputs` against finite differences.

    The outputs are projected on a random direction v, so one backward gives the gradient
    of <fn(x), v>; each input element is then perturbed by +-eps (or, with `fast_mode`, the
    inputs are moved along one random direction u, which needs only two evaluations).
    Inputs that require grad must be float64 for the differences to be meaningful.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for t in diff:
        if t.dtype.name != "float64":
            raise ValueError(f"gradcheck needs float64 inputs to be precise, got {t.dtype.name}")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    directions = [rng.standard_normal(o.shape) for o in outs]

    def projected() -> float:
        with no_grad():
            return float(sum((o._data * v).sum() for o, v in zip(_outputs(fn, inputs), directions)))

    total = sum((o * Tensor._make(v, False, None)).sum() for o, v in zip(outs, directions))
    analytic = autograd_grad(total, diff, allow_unused=True, materialize_grads=True)

    def perturb(t: Tensor, delta: Any) -> None:
        t._data += delta  # in place, so functions that close over the input see it too

    if fast_mode:
        us = [rng.standard_normal(t.shape) for t in diff]
        for t, u in zip(diff, us):
            perturb(t, eps * u)
        plus = projected()
        for t, u in zip(diff, us):
            perturb(t, -2 * eps * u)
        minus = projected()
        for t, u in zip(diff, us):
            perturb(t, eps * u)
        numeric = (plus - minus) / (2 * eps)
        expected = float(sum((a._data * u).sum() for a, u in zip(analytic, us)))
        if abs(numeric - expected) > atol + rtol * abs(numeric):
            return _fail(raise_exception, f"directional derivative: numerical {numeric:.8g}, "
                         f"analytical {expected:.8g}")
        return True

    for index, (t, a) in enumerate(zip(diff, analytic)):
        numeric = np.zeros(t.shape)
        for i in np.ndindex(*t.shape):
            original = t._data[i]
            t._data[i] = original + eps
            plus = projected()
            t._data[i] = original - eps
            minus = projected()
            t._data[i] = original
            numeric[i] = (plus - minus) / (2 * eps)
        if not np.allclose(a._data, numeric, atol=atol, rtol=rtol):
            flat = np.argmax(np.abs(a._data - numeric))
            worst = tuple(int(i) for i in np.unravel_index(flat, numeric.shape))  # not np.int64(3)
            return _fail(
                raise_exception,
                f"Jacobian mismatch for input {index} of shape {list(t.shape)}: at {worst} "
                f"numerical {numeric[worst]:.8g}, analytical {a._data[worst]:.8g}",
            )
    return True


def _fail(raise_exception: bool, message: str) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False
