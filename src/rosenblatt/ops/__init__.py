"""Differentiable primitives, one `Function` per op, grouped by family.

elementwise: arithmetic, math functions, comparisons, casts.
elementary: trigonometric, hyperbolic, log/exp variants, atan2, hypot, logaddexp, xlogy.
reduce: sum, mean, prod, max/min, var/std, logsumexp, norm, cumsum, arg-reductions.
shape: reshape, permute, expand, cat, repeat, flip, device moves.
index: indexing, gather/scatter, masks.
linalg: matmul and the fused linear layer.
linalg_decomp: inverse, det, solve, Cholesky, QR, eigh, singular values (rosenblatt.linalg).
search: meshgrid, unique, searchsorted, bucketize, histc.
fused: softmax, log-softmax and other ops fused for speed and stability.
conv: conv1d/conv2d, conv_transpose2d, unfold/fold on one im2col core.
pool: max/avg/adaptive pooling.
resample: interpolate and pad.
creation: tensor factories (no gradient rules).
"""
