"""Matrix products: matmul (vector, matrix, batched with broadcasting) and the fused linear."""

from __future__ import annotations

import math
import warnings
from typing import Any

from .. import dtypes
from .._backend import np
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, shape_str, unbroadcast
from .elementwise import cast
from .index import writable_view
from .shape import row_major


class MatMul(Function):
    """a @ b with NumPy's (= PyTorch's) rules for 1-D operands and batch broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        # treat a vector as a row (left) or column (right) matrix, and grad to match
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(xp.matmul(g, xp.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(xp.matmul(xp.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return grad_a, grad_b


def _check_matmul(a: Tensor, b: Tensor, op: str) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need at least 1 dimension, got "
                           f"{a.ndim}D and {b.ndim}D tensors")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(f"{op}: cannot multiply ({shape_str(a.shape)}) by ({shape_str(b.shape)})"
                           f": inner sizes {inner_a} and {inner_b} differ")
    if a.ndim > 2 and b.ndim > 2:
        for x, y in zip(reversed(a.shape[:-2]), reversed(b.shape[:-2])):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"{op}: batch dimensions of ({shape_str(a.shape)}) and "
                                   f"({shape_str(b.shape)}) do not broadcast")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product: (n) @ (n) -> (), (.., n, k) @ (k, m) -> (.., n, m), batches broadcast."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}"
                        if isinstance(a, Tensor) else
                        f"matmul(): argument 'input' must be Tensor, not {type(a).__name__}")
    if a._data.dtype != b._data.dtype:  # PyTorch does not promote in matrix products
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")
    _check_matmul(a, b, "matmul")
    if a._data.dtype.kind == "b" and a._data.size and b._data.size:
        kernel = "dot" if a.ndim == b.ndim == 1 else "addmv_impl_cpu" if b.ndim == 1 else \
            "addmm_impl_cpu_" if a.ndim <= 2 and b.ndim <= 2 else "bmm"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """(n, k) @ (k, m) -> (n, m), matrices only."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {a.ndim}D and {b.ndim}D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """(B, n, k) @ (B, k, m) -> (B, n, m)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3D tensors with equal batch, got "
                           f"({shape_str(a.shape)}) and ({shape_str(b.shape)})")
    return matmul(a, b)


def mv(a: Tensor, v: Tensor) -> Tensor:
    """(n, k) @ (k) -> (n)."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError("mv: expected a matrix and a vector")
    return matmul(a, v)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """(n), (m) -> (n, m) with a[i] * b[j]."""
    for t, name in ((a, "self"), (b, "vec2")):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return a.reshape(-1, 1) * b.reshape(1, -1)


class Linear(Function):
    """x @ W^T + b in one node: (..., in), (out, in), (out) -> (..., out)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # (..., in) as one (rows, in) matrix: one GEMM instead of one per leading index
        # dot, not matmul: the same BLAS call for matrices, with less dispatch (batch-1 latency)
        ctx.rows = math.prod(x.shape[:-1])  # (-1 in a reshape is ambiguous for empty input)
        out = ctx.xp.dot(x.reshape(ctx.rows, x.shape[-1]) if x.ndim > 2 else x, weight.T)
        if x.ndim > 2:
            out = out.reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            ctx.bias_shape = bias.shape
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad2 = grad.reshape(ctx.rows, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = ctx.xp.matmul(grad2 if grad.ndim > 2 else grad, weight).reshape(x.shape)
        if need_w:
            grad_w = ctx.xp.matmul(grad2.T, x.reshape(ctx.rows, x.shape[-1]))
        if need_b:  # a bias of shape (out,) or one that broadcasts to the output
            grad_b = grad2.sum(axis=0) if ctx.bias_shape == weight.shape[:1] else \
                unbroadcast(grad, ctx.bias_shape)
        return grad_x, grad_w, grad_b


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b: (..., in_features) -> (..., out_features)."""
    xs, ws = x._data.shape, weight._data.shape
    if xs[-1:] != ws[-1:] or len(ws) != 2:
        raise RuntimeError(
            f"linear: cannot multiply input ({shape_str(x.shape)}) by weight^T "
            f"({shape_str(weight.shape[::-1])}): input has {x.shape[-1] if x.ndim else 0} "
            f"features, weight expects {weight.shape[-1]}"
        )
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: expected input and weight of the same dtype, got "
                           f"{x.dtype.name} input and {weight.dtype.name} weight")
    if bias is not None and bias._data.shape != ws[:1]:
        bias = _broadcast_bias(bias, x, xs[:-1] + ws[:1])
        if not bias.ndim and x.ndim != 2:  # PyTorch: the product, then a separate add
            from .elementwise import add

            return add(Linear.apply(x, weight, None), bias)
    elif bias is not None and bias._data.dtype != x._data.dtype:
        _mixed_dtypes(bias, x)
    return Linear.apply(x, weight, bias)


def _mixed_dtypes(a: Tensor, b: Tensor) -> None:
    """PyTorch's error for an addmm-like product whose operands' dtypes differ."""
    raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                       f"{dtypes.scalar_type_name(a.dtype)} and "
                       f"{dtypes.scalar_type_name(b.dtype)}")


def _broadcast_bias(bias: Tensor, x: Tensor, out_shape: tuple) -> Tensor:
    """linear's bias of another shape than (out,): it broadcasts to the output (a 0-d one
    added to a product that is not an addmm takes the output's dtype, as PyTorch's add_)."""
    if bias._data.dtype != x._data.dtype:
        if bias.ndim or x.ndim == 2:
            _mixed_dtypes(bias, x)
        bias = cast(bias, x.dtype)
    try:
        fits = np.broadcast_shapes(tuple(bias.shape), out_shape) == out_shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"linear: bias of shape {list(bias.shape)} does not broadcast to "
                           f"the output's shape {list(out_shape)}")
    return bias


# ---------------------------------------------------------------------- einsum family
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Explicit subscripts per operand and for the output, '...' spelled out in free letters."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        more = "more" if len(shapes) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the "
                           "equation")
    for i, ch in enumerate(equation):
        if ch not in _LETTERS and ch not in ",.->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
    free = [c for c in _LETTERS if c not in equation]
    ell_ndim = 0
    for n, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise RuntimeError(f"einsum(): found '.' for operand {n} that is not part of "
                               "any ellipsis")
        if "..." not in term and named != len(shape) or named > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {n}" + ("" if "..." in term else
                                                 " and no ellipsis was given"))
        if "..." in term:
            ell_ndim = max(ell_ndim, len(shape) - named)
    ell = "".join(free[:ell_ndim])
    # each operand's '...' stands for the last of the broadcast letters, aligned right
    subs = [t.replace("...", ell[ell_ndim - (len(s) - len(t) + 3):])
            for t, s in zip(terms, shapes)]
    if not arrow:  # implicit output: broadcast dims, then letters used once, sorted
        once = sorted(c for c in set(lhs) if c in _LETTERS and lhs.count(c) == 1)
        return subs, ell + "".join(once)
    if rhs.count("...") > 1 or rhs.replace("...", "").count("."):
        raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already "
                           "found")
    for c in rhs.replace("...", ""):
        if c not in lhs:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               "for any input operand")
        if rhs.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                               "output")
    return subs, rhs.replace("...", ell)



def _letter_sizes(subs: list[str], shapes: list[tuple]) -> dict:
    """Each letter's size, broadcasting size-1 dimensions as PyTorch does."""
    sizes: dict = {}
    for term, shape in zip(subs, shapes):
        for c, n in zip(term, shape):
            if sizes.get(c, 1) != n and n != 1:
                if c in sizes and sizes[c] != 1:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                       f"(original->remapped): subscript {c} has sizes "
                                       f"{sizes[c]} and {n}")
                sizes[c] = n
            sizes.setdefault(c, n)
    return sizes


class Einsum(Function):
    """A sum of products over letters; each operand's gradient is again an einsum."""

    @staticmethod
    def forward(ctx, *arrays, subs, out, sizes):
        xp = ctx.xp
        if len(arrays) > 1:  # one operand's gradient needs only its shape, as PyTorch's sum
            ctx.save_for_backward(*arrays)
        ctx.subs, ctx.out, ctx.sizes = subs, out, sizes
        ctx.shapes = [a.shape for a in arrays]
        full = [xp.broadcast_to(a, tuple(sizes[c] for c in s)) for a, s in zip(arrays, subs)]
        # an operand with repeated memory (expanded) is copied: NumPy would factor it out of
        # the sum, which changes inf * 0 and inf - inf from PyTorch's sum of products
        full = [a.copy() if 0 in a.strides and a.size > 1 else a for a in full]
        return row_major(xp.einsum(",".join(subs) + "->" + out, *full,
                                   optimize=len(arrays) > 2))

    @staticmethod
    def backward(ctx, grad):
        xp, subs, sizes = ctx.xp, ctx.subs, ctx.sizes
        arrays = ctx.saved_tensors or [None]
        full = [xp.broadcast_to(a, tuple(sizes[c] for c in s)) for a, s in zip(arrays, subs)
                if a is not None]
        grads = []
        for i, (shape, term) in enumerate(zip(ctx.shapes, subs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [ctx.out] + subs[:i] + subs[i + 1:]
            unique = "".join(dict.fromkeys(term))
            # letters only this operand has were summed away: their gradient is a broadcast
            known = "".join(c for c in unique if any(c in o for o in others))
            g = xp.einsum(",".join(others) + "->" + known, grad, *full[:i], *full[i + 1:],
                          optimize=len(others) > 2)
            g = g.reshape(tuple(sizes[c] if c in known else 1 for c in unique))
            g = xp.broadcast_to(g, tuple(sizes[c] for c in unique))
            if len(unique) < len(term):  # a repeated letter reads a diagonal: write it back
                out = xp.zeros(tuple(sizes[c] for c in term), dtype=grad.dtype)
                out[tuple(_axis_index(xp, sizes[c], unique.index(c), len(unique))
                          for c in term)] = g
                g = out
            grads.append(unbroadcast(g, shape))
        return tuple(grads)


class EinsumView(Function):
    """A one-operand einsum that only reorders dimensions and takes diagonals: a view of the
    operand, as in PyTorch (an in-place change of it changes the operand)."""

    view = True

    @staticmethod
    def forward(ctx, x, equation):
        ctx.shape, ctx.equation = x.shape, equation
        return writable_view(ctx.xp.einsum(equation, x), x)

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        writable_view(ctx.xp.einsum(ctx.equation, out), out)[...] = grad
        return out


def _axis_index(xp, n: int, axis: int, ndim: int):
    """arange(n) shaped to run along `axis` of an ndim-dimensional index grid."""
    return xp.arange(n).reshape(tuple(n if d == axis else 1 for d in range(ndim)))


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products named by subscripts: einsum('ij,jk->ik', a, b) is a @ b."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    shapes = [tuple(t.shape) for t in operands]
    subs, out = _parse_einsum(equation, shapes)
    for n, (term, shape) in enumerate(zip(subs, shapes)):
        for i, c in enumerate(term):
            first = term.index(c)
            if shape[i] != shape[first]:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {n} but the "
                                   f"sizes don't match, {shape[first]} != {shape[i]}")
    if len(operands) == 1 and set(out) == set(subs[0]):
        return EinsumView.apply(operands[0], equation=f"{subs[0]}->{out}")
    if len(operands) > 1:
        operands, subs = _squeeze_broadcast_letters(operands, subs, out)
    # as PyTorch: the letters only one operand has (and the output lacks) are summed first,
    # a sum that promotes bool and integers to int64 and meets inf as PyTorch's does
    reduced = []
    for i, term in enumerate(subs):
        kept = "".join(c for c in dict.fromkeys(term)
                       if c in out or any(c in t for t in subs[:i] + subs[i + 1:]))
        x = operands[i]
        if len(kept) < len(term):
            x = x if x.dtype.is_floating_point else cast(x, dtypes.int64)
            kept = out if len(operands) == 1 else kept
            x = Einsum.apply(x, subs=[term], out=kept, sizes=_letter_sizes([term], [x.shape]))
            subs = subs[:i] + [kept] + subs[i + 1:]
        reduced.append(x)
    if len(reduced) == 1:
        return reduced[0]
    target = _product_dtype(reduced, subs, out)
    operands = tuple(cast(t, target) for t in reduced)
    # as PyTorch: pairwise products from the left, each keeping the letters still needed
    # (so values and gradients meet inf and nan in the same order as there)
    left, term = operands[0], subs[0]
    for i in range(1, len(operands)):
        later = set(out).union(*subs[i + 1:])
        kept = out if i == len(operands) - 1 else \
            "".join(c for c in dict.fromkeys(term + subs[i]) if c in later)
        pair, shapes = [term, subs[i]], [tuple(left.shape), tuple(operands[i].shape)]
        left = Einsum.apply(left, operands[i], subs=pair, out=kept,
                            sizes=_letter_sizes(pair, shapes))
        term = kept
    return left


def _squeeze_broadcast_letters(operands: tuple, subs: list[str], out: str) -> tuple:
    """As PyTorch, drop size-1 dimensions that only broadcast: a letter's size-1 dims where
    another operand has it larger, and a summed letter's dims that are size 1 everywhere.
    (The larger operand then sums that letter alone first, and products of one term stay
    products: inf * 0 and -0.0 come out as PyTorch's.)"""
    from .shape import reshape

    sizes: dict = {}
    for term, t in zip(subs, operands):
        for c, n in zip(term, t.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    squeezed, terms = [], []
    for term, t in zip(subs, operands):
        keep = [n != 1 or (sizes[c] == 1 and c in out) for c, n in zip(term, t.shape)]
        if all(keep):
            squeezed.append(t)
            terms.append(term)
            continue
        squeezed.append(reshape(t, tuple(n for n, k in zip(t.shape, keep) if k)))
        terms.append("".join(c for c, k in zip(term, keep) if k))
    return tuple(squeezed), terms


def _product_dtype(operands: tuple, subs: list[str], out: str) -> Any:
    """The dtype of PyTorch's left-to-right pairwise products. A pair that sums letters (of
    size > 1 on both sides) is a bmm: one dtype, not bool, and an empty pair gives zeros of
    the right operand's dtype; a pair that sums none is a broadcast multiply (promotes)."""
    left, sizes = operands[0].dtype, dict(zip(subs[0], operands[0].shape))
    for i in range(1, len(operands)):
        right, later = operands[i].dtype, set(out).union(*subs[i + 1:])
        own = dict(zip(subs[i], operands[i].shape))
        summed = {c for c in own if c in sizes and c not in later and sizes[c] != 1 != own[c]}
        if not summed:
            left = dtypes.promote_types(left, right)
        elif 0 in sizes.values() or 0 in own.values():
            left = right
            if not right.is_floating_point and any(t.requires_grad for t in operands):
                raise RuntimeError(f"Autograd not support dtype: "
                                   f"{dtypes.scalar_type_name(right)}")
        elif left is not right:
            raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(left)} but found "
                               f"{dtypes.scalar_type_name(right)}")
        elif left is dtypes.bool:
            raise RuntimeError("\"bmm\" not implemented for 'Bool'")
        for c, n in own.items():
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
        for c in summed:
            del sizes[c]
    return left


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract the last `dims` dims of a with the first of b, or the listed pairs of dims."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype, got "
                           f"{a.dtype.name} and {b.dtype.name}")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a = [normalize_dim(d, a.ndim) for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):  # (a size-1 dimension broadcasts, as in PyTorch)
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
    sa = _LETTERS[:a.ndim]
    sb = [_LETTERS[a.ndim + i] for i in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        sb[db] = sa[da]
    out = "".join(c for i, c in enumerate(sa) if i not in dims_a) + \
        "".join(c for i, c in enumerate(sb) if i not in dims_b)
    return einsum(f"{sa},{''.join(sb)}->{out}", a, b)


class Unread(Function):
    """beta = 0's input: zeros in its place, and grad * 0 as its gradient, as PyTorch's
    (a nan or inf gradient gives nan there)."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.zeros_like(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * grad.dtype.type(0)


def _add_scaled(x: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """beta * x + alpha * product; beta == 0 ignores x (nan and inf included), as PyTorch.
    x expands to the product's shape, never beyond it (PyTorch's expand error)."""
    from .elementwise import add, mul

    if x._data.shape != product._data.shape:
        from .shape import expand

        x = expand(x, tuple(product.shape))

    scaled = product if alpha == 1 else mul(product, alpha)
    # the product first: the sum takes its row-major layout, as PyTorch's result has
    if beta == 0:  # x's values (nan too) are not read
        return add(scaled, Unread.apply(x))
    return add(scaled, x if beta == 1 else mul(x, beta))


def _check_addmm(op: str, input: Any, mat1: Tensor, mat2: Tensor) -> None:  # noqa: A002
    """PyTorch's checks of addmm and addbmm: a tensor input, one dtype for all, not bool."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype != mat2._data.dtype:
        _mixed_dtypes(input, mat2)
    if mat1._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{dtypes.scalar_type_name(mat1.dtype)} and "
                           f"{dtypes.scalar_type_name(mat2.dtype)}")
    if mat1._data.dtype.kind == "b":
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """beta * input + alpha * mat1 @ mat2: (n, m) broadcastable, (n, k), (k, m) -> (n, m)."""
    _check_addmm("addmm", input, mat1, mat2)
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


_CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int"}


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
            alpha: Any = 1) -> Tensor:
    """beta * input + alpha * batch1 @ batch2: (B, n, k), (B, k, m) -> (B, n, m)."""
    kinds = [t.dtype.name for t in (input, batch1, batch2)]
    if len(set(kinds)) > 1:
        names = [_CPP_NAMES.get(k, k) for k in kinds]
        raise RuntimeError(f"Input dtypes must be the same, got: input {names[0]}, batch1: "
                           f"{names[1]}, batch2: {names[2]}")
    if kinds[0] == "bool":
        raise NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,  # noqa: A002
           alpha: Any = 1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]: (B, n, k), (B, k, m) -> (n, m)."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, got {batch1.ndim}D and {batch2.ndim}D")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"addbmm: cannot multiply batches ({shape_str(batch1.shape)}) and "
                           f"({shape_str(batch2.shape)})")
    if batch1.shape[0] == 0:  # as PyTorch: a zero product, no dtype checks; input's dtype
        if input.dtype is dtypes.bool:
            raise RuntimeError("result type Long can't be cast to the desired output type Bool")
        if not input.dtype.is_floating_point and (batch1.requires_grad or batch2.requires_grad):
            raise RuntimeError(f"Autograd not support dtype: "
                               f"{dtypes.scalar_type_name(input.dtype)}")
        if batch1.dtype is not batch2.dtype:  # (an empty product: any dtypes mix; a float
            if batch2.dtype.is_floating_point:  # batch keeps its gradient)
                batch1 = cast(batch1, batch2.dtype)
            else:
                batch2 = cast(batch2, batch1.dtype)
        product = cast(einsum("bnk,bkm->nm", batch1, batch2), input.dtype)
        return _add_scaled(input, product, beta, 1)
    _check_addmm("addbmm", input, batch1, batch2)
    return _add_scaled(input, einsum("bnk,bkm->nm", batch1, batch2), beta, alpha)


def kron(a: Tensor, b: Tensor) -> Tensor:
    """Kronecker product: (a0, a1, ..), (b0, b1, ..) -> (a0 * b0, a1 * b1, ..)."""
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + tuple(a.shape)
    sb = (1,) * (ndim - b.ndim) + tuple(b.shape)
    # a's dims interleaved with b's: (a0, 1, a1, 1, ..) * (1, b0, 1, b1, ..)
    pa = tuple(n for s in sa for n in (s, 1))
    pb = tuple(n for s in sb for n in (1, s))
    return (a.reshape(pa) * b.reshape(pb)).reshape(tuple(x * y for x, y in zip(sa, sb)))


def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along `dim`, broadcasting (torch.linalg.cross's rule)."""
    from .shape import broadcast_to, stack

    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"linalg.cross: shapes {list(a.shape)} and {list(b.shape)} do not "
                           "broadcast") from None
    if a._data.dtype != b._data.dtype:  # no promotion, as in PyTorch
        raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(a.dtype)} but found "
                           f"{dtypes.scalar_type_name(b.dtype)}")
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    if dim is None:  # PyTorch's deprecated default: the first dimension of size 3
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                      "The default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    axis = normalize_dim(dim, len(shape))
    if a.shape[axis] != 3 or b.shape[axis] != 3:  # each input's own size (not broadcast)
        raise RuntimeError(f"linalg.cross: inputs dimension {axis} must have length 3. "
                           f"Got {a.shape[axis]} and {b.shape[axis]}")
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    a0, a1, a2 = a.unbind(axis)
    b0, b1, b2 = b.unbind(axis)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis)
