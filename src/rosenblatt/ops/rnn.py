"""Fused recurrent layers: one graph node runs a whole sequence through an RNN/LSTM/GRU layer.

Each Function takes the full input sequence and does its work in a few large array ops:
the input projection of every time step is ONE matmul, then each step is one matmul for
the hidden projection (all gates in one product) and in-place gate nonlinearities. The
backward pass runs the reverse loop over the saved gate activations, stacks the gate
gradients of every step and gets the weight gradients and the input gradient in one
matmul each (not one per step).

A Function has one output array, so the LSTM packs its outputs as (T+1, B, H): rows 0..T-1
are h_t for each input position, row T is the last cell state c_n. `reverse=True` runs the
sequence from the end (the backward direction of a bidirectional layer); outputs stay
aligned with the input positions, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.tensor import Tensor


def _sigmoid_(a: Any, xp: Any) -> Any:
    """sigmoid(a) in place, as 0.5 * tanh(a / 2) + 0.5 (never overflows)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _input_projection(x: Any, w_ih: Any, bias: Any) -> Any:
    """(T, B, I) @ (G, I)^T + bias -> (T, B, G) in one matmul."""
    t, b, n_in = x.shape
    out = x.reshape(t * b, n_in) @ w_ih.T
    if bias is not None:
        out += bias
    return out.reshape(t, b, -1)


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous_hidden(xp: Any, out: Any, h0: Any, reverse: bool) -> Any:
    """(T, B, H): the hidden state each step started from."""
    if reverse:
        return xp.concatenate([out[1:], h0[None]], axis=0)
    return xp.concatenate([h0[None], out[:-1]], axis=0)


def _weight_grads(ctx: Any, d_in: Any, d_hid: Any, x: Any, h_prev: Any, w_ih: Any) -> tuple:
    """Gradients of x, h0-independent weights and biases from the stacked gate gradients.

    d_in: (T, B, G) gradient of the input projection; d_hid: (T, B, G) of the hidden one.
    """
    t, b, g = d_in.shape
    need = ctx.needs_input_grad  # x, h0, (c0), w_ih, w_hh, b_ih, b_hh
    d_in2 = d_in.reshape(t * b, g)
    d_hid2 = d_hid.reshape(t * b, g)
    dx = (d_in2 @ w_ih).reshape(x.shape) if need[0] else None
    dw_ih = d_in2.T @ x.reshape(t * b, -1) if need[-4] else None
    dw_hh = d_hid2.T @ h_prev.reshape(t * b, -1) if need[-3] else None
    db_ih = d_in2.sum(axis=0) if need[-2] else None
    db_hh = d_hid2.sum(axis=0) if need[-1] else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


class _Layer(Function):
    """A recurrent layer over a sequence. Its forward runs the cell step by step and ends
    with `_keep`; its `backward_steps` runs the cell backward over the steps and returns the
    gradients of the input and of the hidden projection (T, B, G) and of the initial states.
    The gradients of x and of the weights (one matmul each) are shared here."""

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh = ctx.saved_tensors
        h_prev = _previous_hidden(ctx.xp, ctx.out[: x.shape[0]], h0, ctx.reverse)
        d_in, d_hid, *d_states = ctx.backward_steps(ctx, grad, h0, w_hh, h_prev)
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(ctx, d_in, d_hid, x, h_prev, w_ih)
        need = ctx.needs_input_grad  # x, h0, (c0), w_ih, w_hh, b_ih, b_hh
        d_states = [d if n else None for d, n in zip(d_states, need[1:])]
        return (dx, *d_states, dw_ih, dw_hh, db_ih, db_hh)


def _keep(ctx: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, out: Any, reverse: bool) -> Any:
    """Keep what a _Layer's backward needs (x, h0, the weights, the output); returns out."""
    ctx.save_for_backward(x, h0, w_ih, w_hh)
    ctx.out, ctx.reverse = out, reverse
    return out


class LSTMLayer(_Layer):
    """One LSTM layer over a sequence, gates in PyTorch's order (i, f, g, o).

    Inputs: x (T, B, I), h0 (B, H), c0 (B, H), w_ih (4H, I), w_hh (4H, H), b_ih, b_hh (4H)
    or None. Output: (T+1, B, H) = [h_0..h_{T-1} by position, c_n].
    Saves for backward: x, the weights, the activated gates (T, B, 4H), the cell states
    (T+1, B, H) in processing order, tanh of each new cell state (T, B, H), the output.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        xp = ctx.xp
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        bias = None if b_ih is None else b_ih + b_hh
        gates = _input_projection(x, w_ih, bias)  # overwritten step by step with activations
        out = xp.empty((steps + 1, batch, hidden), dtype=x.dtype)
        cells = xp.empty((steps + 1, batch, hidden), dtype=x.dtype)
        tanh_cells = xp.empty((steps, batch, hidden), dtype=x.dtype)
        cells[0] = c0
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # row-major operand: faster per-step GEMM
        h = h0
        for s, t in enumerate(_order(steps, reverse)):
            g = gates[t]
            g += h @ w_hh_t
            _sigmoid_(g[:, : 2 * hidden], xp)
            xp.tanh(g[:, 2 * hidden : 3 * hidden], out=g[:, 2 * hidden : 3 * hidden])
            _sigmoid_(g[:, 3 * hidden :], xp)
            i, f, gg, o = g[:, :hidden], g[:, hidden : 2 * hidden], g[:, 2 * hidden : 3 * hidden], \
                g[:, 3 * hidden :]
            c = cells[s + 1]
            xp.multiply(f, cells[s], out=c)
            c += i * gg
            xp.tanh(c, out=tanh_cells[t])
            h = out[t]
            xp.multiply(o, tanh_cells[t], out=h)
        out[steps] = cells[steps]
        ctx.gates, ctx.cells, ctx.tanh_cells = gates, cells, tanh_cells
        return _keep(ctx, x, h0, w_ih, w_hh, out, reverse)

    @staticmethod
    def backward_steps(ctx, grad, h0, w_hh, h_prev):
        """The gates' gradient (T, B, 4H) (of both projections), dh0 and dc0."""
        xp = ctx.xp
        gates, cells, tanh_cells = ctx.gates, ctx.cells, ctx.tanh_cells
        steps, hidden = gates.shape[0], w_hh.shape[1]
        d_gates = xp.empty_like(gates)
        dh = xp.zeros_like(h0)
        dc = grad[steps].copy()
        for s, t in reversed(list(enumerate(_order(steps, ctx.reverse)))):
            g = gates[t]
            i, f, gg, o = g[:, :hidden], g[:, hidden : 2 * hidden], g[:, 2 * hidden : 3 * hidden], \
                g[:, 3 * hidden :]
            tc = tanh_cells[t]
            dh_t = grad[t] + dh
            dg = d_gates[t]
            # do = dh * tanh(c) * o (1 - o)
            xp.multiply(dh_t, tc, out=dg[:, 3 * hidden :])
            dg[:, 3 * hidden :] *= o * (1 - o)
            dc += dh_t * o * (1 - tc * tc)
            xp.multiply(dc, gg, out=dg[:, :hidden])
            dg[:, :hidden] *= i * (1 - i)
            xp.multiply(dc, cells[s], out=dg[:, hidden : 2 * hidden])
            dg[:, hidden : 2 * hidden] *= f * (1 - f)
            xp.multiply(dc, i, out=dg[:, 2 * hidden : 3 * hidden])
            dg[:, 2 * hidden : 3 * hidden] *= 1 - gg * gg
            dc *= f
            dh = dg @ w_hh
        return d_gates, d_gates, dh, dc


class GRULayer(_Layer):
    """One GRU layer over a sequence, gates in PyTorch's order (r, z, n).

    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    Inputs: x (T, B, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H) or None.
    Output: (T, B, H), h_t by position. Saves for backward: x, the weights, the activated
    gates r, z, n (T, B, 3H), the hidden projection of n (W_hn h + b_hn, (T, B, H)), the output.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        xp = ctx.xp
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        gates = _input_projection(x, w_ih, b_ih)
        if b_ih is not None:  # r and z take both biases; b_hn stays inside r * (...)
            gates[:, :, : 2 * hidden] += b_hh[: 2 * hidden]
        hn = xp.empty((steps, batch, hidden), dtype=x.dtype)
        out = xp.empty((steps, batch, hidden), dtype=x.dtype)
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # row-major operand: faster per-step GEMM
        h = h0
        for t in _order(steps, reverse):
            g = gates[t]
            gh = h @ w_hh_t
            g[:, : 2 * hidden] += gh[:, : 2 * hidden]
            _sigmoid_(g[:, : 2 * hidden], xp)
            r, z, n = g[:, :hidden], g[:, hidden : 2 * hidden], g[:, 2 * hidden :]
            ghn = hn[t]
            ghn[...] = gh[:, 2 * hidden :]
            if b_hh is not None:
                ghn += b_hh[2 * hidden :]
            n += r * ghn
            xp.tanh(n, out=n)
            new = out[t]
            xp.subtract(h, n, out=new)  # h' = n + z (h - n)
            new *= z
            new += n
            h = new
        ctx.gates, ctx.hn = gates, hn
        return _keep(ctx, x, h0, w_ih, w_hh, out, reverse)

    @staticmethod
    def backward_steps(ctx, grad, h0, w_hh, h_prev):
        """The gates' gradients of the input and the hidden projection (T, B, 3H), dh0."""
        xp = ctx.xp
        gates, hn = ctx.gates, ctx.hn
        hidden = w_hh.shape[1]
        d_in = xp.empty_like(gates)
        d_hid = xp.empty_like(gates)
        dh = xp.zeros_like(h0)
        for t in reversed(_order(gates.shape[0], ctx.reverse)):
            g = gates[t]
            r, z, n = g[:, :hidden], g[:, hidden : 2 * hidden], g[:, 2 * hidden :]
            dh_t = grad[t] + dh
            di, dhid = d_in[t], d_hid[t]
            dn = di[:, 2 * hidden :]
            xp.multiply(dh_t, 1 - z, out=dn)
            dn *= 1 - n * n
            xp.multiply(dh_t, h_prev[t] - n, out=di[:, hidden : 2 * hidden])
            di[:, hidden : 2 * hidden] *= z * (1 - z)
            xp.multiply(dn, hn[t], out=di[:, :hidden])
            di[:, :hidden] *= r * (1 - r)
            dhid[:, : 2 * hidden] = di[:, : 2 * hidden]
            xp.multiply(dn, r, out=dhid[:, 2 * hidden :])
            dh = dhid @ w_hh
            dh += dh_t * z
        return d_in, d_hid, dh


class RNNLayer(_Layer):
    """One Elman RNN layer over a sequence: h' = act(W_ih x + b_ih + W_hh h + b_hh).

    Inputs: x (T, B, I), h0 (B, H), w_ih (H, I), w_hh (H, H), b_ih, b_hh (H) or None;
    nonlinearity 'tanh' or 'relu'. Output: (T, B, H). Saves x, the weights and the output.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False):
        xp = ctx.xp
        bias = None if b_ih is None else b_ih + b_hh
        out = _input_projection(x, w_ih, bias)
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # row-major operand: faster per-step GEMM
        h = h0
        for t in _order(x.shape[0], reverse):
            a = out[t]
            a += h @ w_hh_t
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            h = a
        ctx.tanh = nonlinearity == "tanh"
        return _keep(ctx, x, h0, w_ih, w_hh, out, reverse)

    @staticmethod
    def backward_steps(ctx, grad, h0, w_hh, h_prev):
        """The pre-activations' gradient (T, B, H) (of both projections), dh0."""
        xp = ctx.xp
        out = ctx.out
        d_pre = xp.empty_like(out)
        dh = xp.zeros_like(h0)
        for t in reversed(_order(out.shape[0], ctx.reverse)):
            d = d_pre[t]
            xp.add(grad[t], dh, out=d)
            d *= (1 - out[t] * out[t]) if ctx.tanh else (out[t] > 0)
            dh = d @ w_hh
        return d_pre, d_pre, dh


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor | None, b_hh: Tensor | None,
               reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer: x (T, B, I) -> output (T, B, H), h_n (B, H), c_n (B, H)."""
    steps = x.shape[0]
    packed = LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    output = packed[:steps]
    return output, packed[0 if reverse else steps - 1], packed[steps]


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """One GRU layer: x (T, B, I) -> output (T, B, H), h_n (B, H)."""
    output = GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    return output, output[0 if reverse else x.shape[0] - 1]


def rnn_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None, nonlinearity: str = "tanh",
              reverse: bool = False) -> tuple[Tensor, Tensor]:
    """One tanh/relu RNN layer: x (T, B, I) -> output (T, B, H), h_n (B, H)."""
    output = RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity,
                            reverse=reverse)
    return output, output[0 if reverse else x.shape[0] - 1]
