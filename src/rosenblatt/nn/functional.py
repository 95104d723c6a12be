"""`rosenblatt.nn.functional`: the stateless functions behind the layers (`torch.nn.functional`).

Implementations live in the op families (rosenblatt/ops) and in nn/_functional/; this file
is only the import list, so each area adds its own names here.
"""

# ruff: noqa: F401 - this module is an import list
from __future__ import annotations

from ..ops.activation import gelu, softplus
from ..ops.attention import scaled_dot_product_attention
from ..ops.conv import conv1d, conv2d, conv3d, conv_transpose2d, fold, unfold
from ..ops.elementwise import sigmoid, tanh
from ..ops.index import one_hot
from ..ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool2d,
)
from ..ops.resample import interpolate, pad
from ._functional.activation import (
    elu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    silu,
    softmax,
    softmin,
)
from ._functional.basic import (
    bilinear,
    cosine_similarity,
    dropout,
    embedding,
    linear,
    normalize,
    pairwise_distance,
)
from ._functional.dropout import dropout1d, dropout2d, dropout3d
from ._functional.embedding_loss import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ._functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ._functional.norm import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from ._functional.pixelshuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from ._functional.pointwise import (
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
