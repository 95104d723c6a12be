"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, as in `torch.nn`.

Parameter names, shapes, gate order and initialisation follow PyTorch, so a PyTorch state
dict loads as is. Each layer and direction runs as one fused graph node
(`rosenblatt.ops.rnn`): the input projection of all time steps is one matmul, each step
one matmul for the hidden projection, and backward runs the reverse loop over the saved
gate activations. A PackedSequence takes one such node per run of steps with the same
batch size.
"""

from __future__ import annotations

import math
from typing import Any

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops import rnn as rnn_ops
from ...ops.creation import empty, zeros
from ...ops.shape import cat, stack
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _new_weight(*shape: int, device: Any = None, dtype: Any = None) -> Parameter:
    return Parameter(empty(*shape, device=device, dtype=dtype))


class _Recurrent(Module):
    """What recurrent layers and cells share: PyTorch's initialisation of their parameters."""

    hidden_size: int
    input_size: int

    def _check_features(self, x: Tensor, ranks: tuple[int, int], mismatch: str) -> None:
        """PyTorch's errors for an input of another rank or feature size (`mismatch` names
        {expected} and {got}: layers and cells word it differently)."""
        if x.ndim not in ranks:
            raise ValueError(f"{type(self).__name__}: Expected input to be {ranks[0]}D or "
                             f"{ranks[1]}D, got {x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(mismatch.format(expected=self.input_size, got=x.shape[-1]))

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with no_grad():
            for weight in self.parameters():
                weight.uniform_(-bound, bound)


class RNNBase(_Recurrent):
    """Shared machinery of RNN, LSTM and GRU: parameters, layers, directions, batch layout."""

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, proj_size: int = 0, device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__()
        if not 0 <= float(dropout) <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError("hidden_size and num_layers must be greater than 0")
        if proj_size:
            raise NotImplementedError("LSTM with proj_size > 0 is not supported")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, _new_weight(*shape, device=device, dtype=dtype))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch scripts (there is no cuDNN weight buffer to compact)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        per = 4 if self.bias else 2
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _layer_weights(self, layer: int, direction: int) -> list[Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        return [getattr(self, n + suffix) if self.bias or n.startswith("weight") else None
                for n in names]

    def _check_input(self, x: Tensor) -> None:
        self._check_features(x, (2, 3), "input.size(-1) must be equal to input_size. "
                             "Expected {expected}, got {got}")

    def _initial(self, hx: Tensor | None, batch: int, like: Tensor, batched: bool) -> Tensor:
        """The (layers * directions, B, H) initial state, zeros when not given."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, batch, self.hidden_size)
        if hx is None:
            return zeros(*expected, dtype=like.dtype, device=like.device)
        if not batched:
            if hx.ndim != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                   f"{hx.ndim}-D tensor")
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
        return hx

    def _initial_states(self, hx: Any, batch: int, like: Tensor, batched: bool,
                        order: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(h_0, c_0) from hx, c_0 None but for LSTM; `order` sorts a packed batch's states."""
        given = (hx if hx is not None else (None, None)) if self.mode == "LSTM" else (hx,)
        states = []
        for h in given:
            if h is not None and order is not None:
                h = h.index_select(1, order)
            states.append(self._initial(h, batch, like, batched))
        return states[0], (states[1] if len(states) > 1 else None)

    def _layer(self, x: Tensor, state: list[Tensor], w: list, reverse: bool) -> tuple:
        """x (T, B, I) through one layer and direction from [h0] (or [h0, c0] for LSTM).

        Returns output (T, B, H), h_n and, for LSTM, c_n.
        """
        if self.mode == "LSTM":
            return rnn_ops.lstm_layer(x, *state, *w, reverse=reverse)
        if self.mode == "GRU":
            return rnn_ops.gru_layer(x, *state, *w, reverse=reverse)
        act = "tanh" if self.mode == "RNN_TANH" else "relu"
        return rnn_ops.rnn_layer(x, *state, *w, nonlinearity=act, reverse=reverse)

    def _packed_layer(self, x: Tensor, state: list[Tensor], w: list, reverse: bool,
                      batch_sizes: list[int]) -> tuple[Tensor, list[Tensor]]:
        """Packed x (N, I) through one layer and direction -> packed output (N, H), final state.

        Steps with the same batch size are contiguous rows of x, so each such run is one
        fused kernel call on (steps, batch, I). Going forward the batch shrinks and the
        sequences that ended keep their state; in reverse it grows and each sequence joins
        at its own last step from its initial state. So every final state is the state
        after the sequence's own last step, as in PyTorch.
        """
        runs, start = [], 0  # (first step, end step, batch size)
        for t in range(1, len(batch_sizes) + 1):
            if t == len(batch_sizes) or batch_sizes[t] != batch_sizes[start]:
                runs.append((start, t, batch_sizes[start]))
                start = t
        rows = [sum(batch_sizes[:t]) for t in range(len(batch_sizes) + 1)]
        initial, alive = state, batch_sizes[-1 if reverse else 0]
        state = [s[:alive] for s in initial]
        ended: list[list[Tensor]] = []  # states of finished sequences, highest rows first
        outputs: list[Tensor] = [x] * len(runs)
        for i in reversed(range(len(runs))) if reverse else range(len(runs)):
            first, end, batch = runs[i]
            if batch < alive:
                ended.append([s[batch:] for s in state])
                state = [s[:batch] for s in state]
            elif batch > alive:
                state = [cat([s, s0[alive:batch]]) for s, s0 in zip(state, initial)]
            alive = batch
            seq = x[rows[first] : rows[end]].reshape(end - first, batch, x.shape[1])
            out, *state = self._layer(seq, state, w, reverse)
            outputs[i] = out.reshape((end - first) * batch, out.shape[2])
        final = [cat([s] + [e[k] for e in reversed(ended)]) for k, s in enumerate(state)]
        return cat(outputs), final

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None,
             batch_sizes: list[int] | None = None) -> tuple:
        """x (T, B, I) (or packed (N, I)) through every layer -> output (T, B, D*H), h_n, c_n."""
        directions = 2 if self.bidirectional else 1
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w = self._layer_weights(layer, direction)
                state = [h0[k]] if c0 is None else [h0[k], c0[k]]
                if batch_sizes is None:
                    out, *final = self._layer(x, state, w, direction == 1)
                else:
                    out, final = self._packed_layer(x, state, w, direction == 1, batch_sizes)
                outputs.append(out)
                h_n.append(final[0])
                c_n.extend(final[1:])
            x = outputs[0] if directions == 1 else cat(outputs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                from ..functional import dropout

                x = dropout(x, self.dropout, True)
        return x, stack(h_n), (stack(c_n) if c_n else None)

    def _forward_packed(self, x: PackedSequence, hx: Any) -> tuple:
        """Packed input: states in sorted order inside, the caller's batch order outside."""
        data, batch_sizes, sorted_indices, unsorted_indices = x
        if data.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
        self._check_input(data)
        batch_sizes = batch_sizes.tolist()
        h0, c0 = self._initial_states(hx, batch_sizes[0], data, True, sorted_indices)
        out, h_n, c_n = self._run(data, h0, c0, batch_sizes)
        if unsorted_indices is not None:
            h_n = h_n.index_select(1, unsorted_indices)
            c_n = None if c_n is None else c_n.index_select(1, unsorted_indices)
        return PackedSequence(out, x.batch_sizes, sorted_indices, unsorted_indices), h_n, c_n

    def _forward(self, x: Tensor | PackedSequence, hx: Any) -> tuple:
        if isinstance(x, PackedSequence):
            return self._forward_packed(x, hx)
        self._check_input(x)
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = self._initial_states(hx, x.shape[1], x, batched)
        out, h_n, c_n = self._run(x, h0, c0)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, h_n, c_n


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu).

    input (L, N, H_in) (or (N, L, H_in) with batch_first, or unbatched (L, H_in)),
    h_0 (D*num_layers, N, H_out) -> output (L, N, D*H_out), h_n (D*num_layers, N, H_out).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:  # RNN(input, hidden, layers, nonlinearity, ...) positional form
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None  # noqa: A002
                ) -> tuple[Tensor | PackedSequence, Tensor]:
        """(L, N, H_in) (or packed), h_0 -> output (L, N, D*H_out) (or packed), h_n."""
        out, h_n, _ = self._forward(input, hx)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as in PyTorch.

    input (L, N, H_in), (h_0, c_0) each (D*num_layers, N, H) ->
    output (L, N, D*H), (h_n, c_n) each (D*num_layers, N, H).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Tensor | PackedSequence,  # noqa: A002
                hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        """(L, N, H_in) (or packed), (h_0, c_0) -> output (L, N, D*H) (or packed), (h_n, c_n)."""
        out, h_n, c_n = self._forward(input, hx)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

    input (L, N, H_in), h_0 (D*num_layers, N, H) -> output (L, N, D*H), h_n.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None  # noqa: A002
                ) -> tuple[Tensor | PackedSequence, Tensor]:
        """(L, N, H_in) (or packed), h_0 -> output (L, N, D*H) (or packed), h_n."""
        out, h_n, _ = self._forward(input, hx)
        return out, h_n


class RNNCellBase(_Recurrent):
    """Shared parameters of the single-step cells: weight_ih, weight_hh, bias_ih, bias_hh."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _new_weight(gates * hidden_size, input_size, device=device, dtype=dtype)
        self.weight_hh = _new_weight(gates * hidden_size, hidden_size, device=device, dtype=dtype)
        if bias:
            self.bias_ih = _new_weight(gates * hidden_size, device=device, dtype=dtype)
            self.bias_hh = _new_weight(gates * hidden_size, device=device, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity='{self.nonlinearity}'"
        return s

    def _prepare(self, x: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:
        """Step input as (1, B, I) and state as (B, H); remembers whether it was batched."""
        self._check_features(x, (1, 2), "input has inconsistent input_size: got {got} "
                             "expected {expected}")
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        if hx is None:
            hx = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        return x.unsqueeze(0), hx, batched

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One Elman step: input (N, H_in), hx (N, H) -> h' (N, H) (or unbatched 1-D)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """(N, H_in), (N, H) -> (N, H)."""
        x, h, batched = self._prepare(input, hx)
        out, _ = rnn_ops.rnn_layer(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        out = out[0]
        return out if batched else out[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: input (N, H_in), (h, c) each (N, H) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None  # noqa: A002
                ) -> tuple[Tensor, Tensor]:
        """(N, H_in), (h, c) -> (h', c'), each (N, H)."""
        h0, c0 = (None, None) if hx is None else hx
        x, h, batched = self._prepare(input, h0)
        _, c, _ = self._prepare(input, c0)
        _, h_new, c_new = rnn_ops.lstm_layer(x, h, c, *self._weights())
        return (h_new, c_new) if batched else (h_new[0], c_new[0])


class GRUCell(RNNCellBase):
    """One GRU step: input (N, H_in), hx (N, H) -> h' (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """(N, H_in), (N, H) -> (N, H)."""
        x, h, batched = self._prepare(input, hx)
        _, h_new = rnn_ops.gru_layer(x, h, *self._weights())
        return h_new if batched else h_new[0]
