"""The fuzzer's op templates: every op-table spec (tests/ops/op_specs.py) as source text, plus
the activations, losses, in-place ops, views and Python-number operands the table lacks.

A template is a Python expression in which `T` is the library and `_a0`, `_a1`, ... are the
inputs, so a generated program is plain source that runs unchanged under `torch` or
`rosenblatt` and prints as a one-line repro.
"""

from __future__ import annotations

import ast
import builtins
import copy
import re
from dataclasses import dataclass
from pathlib import Path

from tests.ops import op_specs
from tests.ops.op_specs import BINARY_VARIANTS, UNARY_VARIANTS, index, mask


@dataclass(frozen=True)
class Op:
    """One op as source: `template` over `_a0..`, its inputs (shapes or Const) and variants."""

    name: str
    template: str
    inputs: tuple
    domain: str = "real"
    variants: tuple = ()


_ARG = re.compile(r"\b_a(\d)\b")


def render(template: str, args: list[str]) -> str:
    """The template with `_aK` replaced by the K-th argument's source."""
    return _ARG.sub(lambda m: args[int(m.group(1))], template)


class _Substitute(ast.NodeTransformer):
    """Rename a spec lambda's parameters: `m` -> `T`, tensors -> `_aK`, defaults -> constants."""

    def __init__(self, names: dict[str, ast.expr]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.names.get(node.id, node)


def _constant(value: object) -> ast.expr:
    if isinstance(value, float) and value != value:
        return ast.parse("float('nan')", mode="eval").body
    if isinstance(value, float) and abs(value) == float("inf"):
        return ast.parse(f"{'-' if value < 0 else ''}float('inf')", mode="eval").body
    return ast.Constant(value)


def _spec_template(spec: op_specs.OpSpec, lambdas: dict[int, list[ast.Lambda]]) -> str | None:
    """The spec's `fn` body as a template, or None where it calls a helper of op_specs (the
    one-line repro must run on its own)."""
    code = spec.fn.__code__
    params = list(code.co_varnames[: code.co_argcount])
    found = [node for node in lambdas.get(code.co_firstlineno, [])
             if [a.arg for a in node.args.args] == params]
    if len(found) != 1:
        return None
    names: dict[str, ast.expr] = {params[0]: ast.Name("T")}
    defaults = spec.fn.__defaults__ or ()
    tensors = params[1: len(params) - len(defaults)]
    names.update({p: ast.Name(f"_a{k}") for k, p in enumerate(tensors)})
    names.update({p: _constant(v) for p, v in zip(params[len(params) - len(defaults):], defaults)})
    body = _Substitute(names).visit(copy.deepcopy(found[0].body))  # shared by generated specs
    free = {n.id for n in ast.walk(body) if isinstance(n, ast.Name)} - {"T"}
    if any(not (_ARG.fullmatch(n) or hasattr(builtins, n)) for n in free):
        return None
    return ast.unparse(body)


def _table_ops() -> list[Op]:
    tree = ast.parse(Path(op_specs.__file__).read_text())
    lambdas: dict[int, list[ast.Lambda]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            lambdas.setdefault(node.lineno, []).append(node)
    ops = []
    for spec in op_specs.SPECS:
        template = _spec_template(spec, lambdas)
        if template is not None:
            ops.append(Op(spec.name, template, spec.inputs, spec.domain, spec.variants))
    return ops


def _u(name: str, template: str, domain: str = "real") -> Op:
    return Op(name, template, ((3, 4),), domain, UNARY_VARIANTS)


def _b(name: str, template: str, domain: str = "real") -> Op:
    return Op(name, template, ((3, 4), (3, 4)), domain, BINARY_VARIANTS)


F = "T.nn.functional"
# What the table lacks: activations with kinks at their boundaries, losses, dim=0/-1 on any
# shape (0-d included), Python-number operands, `//` and `%`, conversions to Python values.
EXTRA_OPS: list[Op] = [
    _u("hardtanh", f"{F}.hardtanh(_a0)"),
    _u("hardtanh_bounds", f"{F}.hardtanh(_a0, -0.5, 0.7)"),
    _u("relu6", f"{F}.relu6(_a0)"),
    _u("leaky_relu", f"{F}.leaky_relu(_a0, 0.1)"),
    _u("elu", f"{F}.elu(_a0)"),
    _u("gelu", f"{F}.gelu(_a0)"),
    _u("gelu_tanh", f"{F}.gelu(_a0, approximate='tanh')"),
    _u("softplus", f"{F}.softplus(_a0, beta=2, threshold=1)"),
    _u("silu", f"{F}.silu(_a0)"),
    _u("mish", f"{F}.mish(_a0)"),
    _u("selu", f"{F}.selu(_a0)"),
    _u("logsigmoid", f"{F}.logsigmoid(_a0)"),
    _u("softmax_last", f"{F}.softmax(_a0, -1)"),
    _u("log_softmax_first", f"{F}.log_softmax(_a0, 0)"),
    _u("softmin", f"{F}.softmin(_a0, -1)"),
    _u("normalize", f"{F}.normalize(_a0, dim=-1)"),
    _u("normalize_0", f"{F}.normalize(_a0, dim=0)"),
    _u("logsumexp_0", "T.logsumexp(_a0, 0)"),
    _u("norm_p0", "_a0.norm(p=0)"),
    _u("norm_p3_all", "_a0.norm(3)"),
    _u("vector_norm_3", "T.linalg.vector_norm(_a0, ord=3)"),
    _u("vector_norm_dim", "T.linalg.vector_norm(_a0, dim=-1)"),
    _u("sum_0", "_a0.sum(0)"),
    _u("sum_neg1", "_a0.sum(dim=-1)"),
    _u("mean_0", "_a0.mean(0)"),
    _u("amax_0", "_a0.amax(0)"),
    _u("amin_neg1", "_a0.amin(-1)"),
    _u("var_0", "_a0.var(0)"),
    _u("std_neg1", "_a0.std(-1)"),
    _u("nansum_0", "_a0.nansum(0)"),
    _u("max_0", "_a0.max(0)"),
    _u("min_neg1", "_a0.min(-1)"),
    _u("sort_0", "_a0.sort(0)"),
    _u("topk_0", "_a0.topk(1, 0)"),
    _u("flip_0", "_a0.flip(0)"),
    _u("cumsum_any", "_a0.cumsum(0)"),
    _u("argsort_any", "_a0.argsort()"),
    _u("chunk_2", "_a0.chunk(2)"),
    _u("unbind_0", "_a0.unbind(0)"),
    _u("nonzero", "_a0.nonzero()"),
    _u("where_cond", "T.where(_a0 > 0)"),
    _u("all_0", "(_a0 > 0).all(0)"),
    _u("any_any", "(_a0 > 0).any()"),
    _u("count_nonzero", "T.count_nonzero(_a0, 0)"),
    _u("isnan", "T.isnan(_a0)"),
    _u("floordiv_scalar", "_a0 // 0.7"),
    _u("div_floor", "T.div(_a0, 0.7, rounding_mode='floor')"),
    _u("div_trunc", "T.div(_a0, 0.7, rounding_mode='trunc')"),
    _u("rmod", "2 % _a0"),
    _u("where_numbers", "T.where(_a0 > 0, 1.0, 0.0)"),
    _u("where_tensor_number", "T.where(_a0 > 0, _a0, 0.0)"),
    _u("add_number_alpha", "T.add(_a0, 2, alpha=2)"),
    _u("sub_number_alpha", "T.sub(_a0, 0.5, alpha=3)"),
    _u("add_true", "_a0 + True"),
    _u("bool_times_float", "(_a0 > 0) * 1.5"),
    _u("bool_plus_int", "(_a0 > 0) + 1"),
    _u("bool_sum", "(_a0 > 0).sum()"),
    _u("int_times_float", "_a0.long() * 2.5"),
    _u("int_div", "_a0.long() / 2"),
    _u("rpow_zero", "0.0 ** _a0"),
    _u("pow_zero_exponent", "_a0 ** 0.0"),
    _u("clamp_times", "T.clamp(_a0, -1, 1) * _a0"),
    _u("max_all_any", "_a0.max()"),
    _u("maximum_number", "T.maximum(_a0, T.tensor(1.4, dtype=_a0.dtype))"),
    _u("sign_any", "_a0.sign()"),
    _u("sqrt_any", "_a0.sqrt()"),
    _u("log_any", "_a0.log()"),
    _u("logit_any", "_a0.logit()"),
    _u("abs_any", "_a0.abs()"),
    _u("relu_any", "_a0.relu()"),
    _u("identity_expand", "_a0.expand(_a0.shape)"),
    _u("identity_reshape", "_a0.reshape(_a0.shape)"),
    _u("item", "_a0.sum().item()"),
    _u("tolist", "_a0.tolist()"),
    _u("format", "format(_a0.sum(), '.3f')"),
    _u("contains", "0.5 in _a0"),
    _u("float_of", "float(_a0.sum())"),
    _b("atan2_any", "T.atan2(_a0, _a1)"),
    _b("smooth_l1", f"{F}.smooth_l1_loss(_a0, _a1)"),
    _b("smooth_l1_none", f"{F}.smooth_l1_loss(_a0, _a1, reduction='none', beta=0.5)"),
    _b("huber", f"{F}.huber_loss(_a0, _a1, delta=0.5)"),
    _b("mse", f"{F}.mse_loss(_a0, _a1)"),
    _b("l1", f"{F}.l1_loss(_a0, _a1, reduction='sum')"),
    _b("bce", f"{F}.binary_cross_entropy(_a0.sigmoid(), _a1.sigmoid())"),
    _b("bce_logits", f"{F}.binary_cross_entropy_with_logits(_a0, _a1)"),
    _b("kl_div", f"{F}.kl_div(_a0.log_softmax(-1), _a1.softmax(-1), reduction='batchmean')"),
    _b("cosine_similarity", f"{F}.cosine_similarity(_a0, _a1, dim=-1)"),
    _b("floordiv", "_a0 // _a1"),
    _b("remainder_tensor", "T.remainder(_a0, _a1)"),
    _b("stack_three", "T.stack([_a0, _a1, _a0])"),
    _b("cat_two", "T.cat([_a0, _a1])"),
    _b("where_compare", "T.where(_a0 > _a1, _a0, _a1)"),
    _b("maximum_any", "T.maximum(_a0, _a1)"),
    _b("masked_fill_tensor_value", "_a0.masked_fill(_a0 > 0, _a1.sum())"),
    Op("masked_fill_0d_value", "_a0.masked_fill(_a0 > 0, _a1)", ((3, 4), ())),
    Op("linear", f"{F}.linear(_a0, _a1, _a2)", ((2, 4), (3, 4), (3,)),
       variants=([(2, 0), (3, 0), (3,)], [(4,), (3, 4), ()])),
    Op("layer_norm", f"{F}.layer_norm(_a0, (4,))", ((3, 4),), variants=([(0, 4)], [(4,)])),
    Op("cross_entropy", f"{F}.cross_entropy(_a0, _a1)", ((3, 4), index((3,), 4)),
       variants=([(0, 4), index((0,), 4)], [(4,), index((), 4)])),
    Op("nll_loss", f"{F}.nll_loss(_a0.log_softmax(-1), _a1)", ((3, 4), index((3,), 4))),
    Op("masked_select_broadcast", "_a0.masked_select(_a1)", ((3, 1), mask((3, 4)))),
    Op("matmul_any", "_a0 @ _a1", ((3, 4), (4, 2)), variants=([(0, 4), (4, 0)], [(4,), (4,)])),
    Op("tensordot_empty", "T.tensordot(_a0, _a1, 1)", ((2, 0), (0, 3))),
    Op("where_mask_numbers", "T.where(_a0, 1.0, 0.0)", (mask((3, 4)),)),
    Op("bce_weight", f"{F}.binary_cross_entropy(_a0.sigmoid(), _a1.sigmoid(), weight=_a2)",
       ((3, 4), (3, 4), (4,)), variants=([(4,), (4,), (3, 4)],)),
]

# In-place ops for intermediates (and, less often, leaves: PyTorch's errors are part of the test).
INPLACE: list[tuple[str, str, int]] = [  # name, statement, number of inputs
    ("add_", "_a0.add_(1.5)", 1),
    ("add_tensor_", "_a0.add_(_a1)", 2),
    ("mul_", "_a0.mul_(2)", 1),
    ("mul_tensor_", "_a0.mul_(_a1)", 2),
    ("sub_alpha_", "_a0.sub_(_a1, alpha=2)", 2),
    ("div_", "_a0.div_(3)", 1),
    ("pow_", "_a0.pow_(2)", 1),
    ("clamp_", "_a0.clamp_(-0.5, 0.5)", 1),
    ("clamp_min_", "_a0.clamp_(min=0.0)", 1),
    ("relu_", "_a0.relu_()", 1),
    ("F.relu_inplace", "T.nn.functional.relu(_a0, inplace=True)", 1),
    ("sigmoid_", "_a0.sigmoid_()", 1),
    ("tanh_", "_a0.tanh_()", 1),
    ("exp_", "_a0.exp_()", 1),
    ("sqrt_", "_a0.sqrt_()", 1),
    ("abs_", "_a0.abs_()", 1),
    ("neg_", "_a0.neg_()", 1),
    ("zero_", "_a0.zero_()", 1),
    ("fill_", "_a0.fill_(0.5)", 1),
    ("copy_", "_a0.copy_(_a1)", 2),
    ("masked_fill_", "_a0.masked_fill_(_a0 > 0, 0.0)", 1),
    ("addcmul_", "_a0.addcmul_(_a1, _a1, value=0.5)", 2),
    ("setitem_mask", "_a0[_a0 > 0] = 1.0", 1),
    ("setitem_first", "_a0[..., :1] = 2.0", 1),
    ("setitem_tensor", "_a0[...] = _a1", 2),
    # in place on a view of the tensor (PyTorch's CopySlices): a row, a slice, a transpose
    ("view_row_mul_", "_a0[0].mul_(2)", 1),
    ("view_tail_add_", "_a0[..., 1:].add_(_a1[..., 1:])", 2),
    ("view_t_relu_", "_a0.t().relu_()", 1),
    ("view_flat_fill_", "_a0.view(-1)[:1].fill_(0.5)", 1),
    ("expanded_fill_", "_a0.unsqueeze(0).expand(2, *_a0.shape).fill_(0.25)", 1),
]

VIEWS: list[tuple[str, str]] = [
    ("transpose", "_a0.transpose(0, -1)"),
    ("t", "_a0.t()"),
    ("step_slice", "_a0[::2]"),
    ("tail_slice", "_a0[1:]"),
    ("last_step_slice", "_a0[..., ::2]"),
    ("expand", "_a0.expand(2, *_a0.shape)"),
    ("unsqueeze", "_a0.unsqueeze(0)"),
    ("reshape_flat", "_a0.reshape(-1)"),
    ("view_flat", "_a0.view(-1)"),
    ("squeeze", "_a0.squeeze()"),
    ("index_none", "_a0[..., None]"),
    ("select_0", "_a0[0]"),
    ("detach", "_a0.detach()"),
    ("clone", "_a0.clone()"),
    ("contiguous", "_a0.contiguous()"),
]

# Intermediates reused one to three times.
COMBINE: list[tuple[str, str]] = [
    ("add", "_a0 + _a1"),
    ("mul", "_a0 * _a1"),
    ("sub", "_a0 - _a1"),
    ("div", "_a0 / _a1"),
    ("cube", "_a0 * _a0 * _a0"),
    ("thrice", "_a0 + _a0 + _a0"),
    ("stack_same", "T.stack([_a0, _a0, _a0])"),
    # eps: a constant input would divide rounding noise by rounding noise
    ("normalise", "(_a0 - _a0.mean()) / ((_a0 - _a0.mean()).pow(2).mean() + 0.01).sqrt()"
                  " + _a0.mean()"),
    ("square_minus", "_a0 * _a0 - _a1"),
    # dtype promotion: bool and integer tensors, 0-d tensors of other dtypes, float32
    ("times_mask", "_a0 * (_a1 > 0)"),
    ("plus_int_0d", "_a0 + T.tensor(2)"),
    ("plus_bool_0d", "_a1 - T.tensor(True)"),
    ("float32_times", "_a0.float() * _a1"),
    ("float32_times_0d_double", "_a0.float() * T.tensor(1.5, dtype=T.float64)"),
    ("where_mask", "T.where(_a1 > 0, _a0, 0.5)"),
]

# Hooks on tensors that require grad: one that changes the gradient, one that only looks.
HOOKS: list[tuple[str, str]] = [
    ("hook_scale", "_a0.register_hook(lambda g: g * 2)"),
    ("hook_observe", "_a0.register_hook(lambda g: None)"),
    ("hook_clamp", "_a0.register_hook(lambda g: g.clamp(-1, 1))"),
]

# nan_to_num's default replaces inf by the dtype's largest value: whatever follows overflows
# in ways that depend on the order of summation (inf or nan), not on semantics.
_NOT_CHAINED = {"nan_to_num_defaults"}
OPS: list[Op] = [op for op in _table_ops() if op.name not in _NOT_CHAINED] + EXTRA_OPS
assert len({op.name for op in OPS}) == len(OPS), "op names must be unique"
