"""Layer classes live at torch's module paths (`torch.nn.modules.rnn.LSTM`), and channel
dropout reads its input's dimensions as PyTorch does."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


@pytest.mark.parametrize("path", [
    "rnn.LSTM", "rnn.GRU", "rnn.RNN", "linear.Linear", "linear.NonDynamicallyQuantizableLinear",
    "dropout.Dropout", "dropout.Dropout2d", "sparse.Embedding", "container.ModuleList",
    "container.Sequential", "normalization.LayerNorm", "activation.MultiheadAttention",
    "activation.ReLU", "transformer.TransformerEncoderLayer", "conv.Conv2d", "module.Module",
    "pooling.MaxPool2d", "loss.CrossEntropyLoss",
])
def test_classes_sit_at_torchs_module_paths(path: str) -> None:
    module, name = path.rsplit(".", 1)
    ours = getattr(importlib.import_module(f"rosenblatt.nn.modules.{module}"), name)
    theirs = getattr(importlib.import_module(f"torch.nn.modules.{module}"), name)
    assert ours is getattr(nn, name) and ours.__name__ == theirs.__name__


def test_classes_are_defined_in_the_modules_package() -> None:
    for cls in (nn.LSTM, nn.Linear, nn.Dropout, nn.Embedding, nn.ModuleList, nn.Conv2d):
        assert cls.__module__.startswith("rosenblatt.nn.modules."), cls


def test_attention_out_proj_is_the_quantization_named_linear() -> None:
    layer = nn.MultiheadAttention(8, 2)
    assert type(layer.out_proj) is nn.modules.linear.NonDynamicallyQuantizableLinear
    assert isinstance(layer.out_proj, nn.Linear)
    assert repr(layer.out_proj) == repr(torch.nn.MultiheadAttention(8, 2).out_proj)


def test_dropout2d_on_2d_input_drops_elements_with_pytorchs_warning() -> None:
    x = rb.ones(200, 50)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = F.dropout2d(x, 0.5).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    rows_mixed = ((y == 0).any(1) & (y == 2).any(1)).mean()
    assert rows_mixed > 0.9  # element-wise, not whole rows (PyTorch's feature_dropout on 2-D)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        torch.nn.functional.dropout2d(torch.ones(3, 4), 0.5)


def test_dropout2d_on_3d_input_is_channel_dropout_over_the_last_dim() -> None:
    x = rb.ones(20, 30, 16)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y = F.dropout2d(x, 0.5).numpy()
    assert (y.min(axis=2) == y.max(axis=2)).all()  # each (n, c) row kept or dropped whole
    assert 0 < (y[:, :, 0] == 0).mean() < 1


def test_dropout2d_needs_two_dims_and_dropout1d_two_or_three() -> None:
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.dropout2d(rb.ones(5), 0.5)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(rb.ones(2, 3, 4, 5), 0.5)
    y = F.dropout1d(rb.ones(30, 16), 0.5).numpy()  # unbatched (C, L): whole rows
    assert (y.min(axis=1) == y.max(axis=1)).all()


def test_dropout3d_drops_whole_volumes() -> None:
    y = nn.Dropout3d(0.5)(rb.ones(4, 6, 2, 3, 3)).numpy()
    flat = y.reshape(4, 6, -1)
    assert (flat.min(axis=2) == flat.max(axis=2)).all()
    assert nn.Dropout3d(0.5).eval()(rb.ones(2, 2, 2, 2, 2)).numpy().min() == 1.0


@pytest.mark.parametrize("path", ["batchnorm._BatchNorm", "batchnorm._NormBase",
                                  "batchnorm.BatchNorm1d", "instancenorm.InstanceNorm2d",
                                  "instancenorm._InstanceNorm", "normalization.GroupNorm",
                                  "conv._ConvNd", "loss._Loss", "loss._WeightedLoss"])
def test_base_classes_programs_test_against_are_where_torch_has_them(path: str) -> None:
    module, name = path.rsplit(".", 1)
    cls = getattr(importlib.import_module(f"rosenblatt.nn.modules.{module}"), name)
    assert cls.__module__ == f"rosenblatt.nn.modules.{module}"
    assert isinstance(nn.BatchNorm2d(3), nn.modules.batchnorm._BatchNorm)


def test_tuple_helpers_are_torchs() -> None:
    from torch.nn.modules import utils as theirs

    from rosenblatt.nn.modules import utils as ours

    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(ours, name)(value) == getattr(theirs, name)(value)
    assert ours._reverse_repeat_tuple((1, 2), 2) == theirs._reverse_repeat_tuple((1, 2), 2)
