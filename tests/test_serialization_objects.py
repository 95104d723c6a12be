"""Whole objects through save/load (torch.save(model)): class paths and __dict__ as data, the
allowlist (safe_globals, add_safe_globals, weights_only=False), never pickle."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.serialization import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)


class TiedModel(nn.Module):
    """Encoder and decoder share one weight; a function and plain values as attributes."""

    def __init__(self, vocab: int = 7, dim: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, dim)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.encoder.weight
        self.activation = nn.functional.relu
        self.settings = {"kind": "LSTM", "sizes": (vocab, dim), "tags": {"a"}}
        self.mask = None

    def forward(self, x):
        out, _ = self.rnn(self.encoder(x))
        return self.decoder(self.activation(out))


ALLOWED = [TiedModel, nn.Embedding, nn.LSTM, nn.Linear, nn.functional.relu]


def _roundtrip(obj, **load_args):
    buffer = io.BytesIO()
    rb.save(obj, buffer)
    buffer.seek(0)
    return rb.load(buffer, **load_args)


@pytest.fixture(autouse=True)
def _no_global_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def test_a_whole_module_round_trips_within_safe_globals() -> None:
    model = TiedModel()
    x = rb.tensor([[1, 2, 3]]).t()
    with safe_globals(ALLOWED):
        loaded = _roundtrip(model)
    assert type(loaded) is TiedModel and type(loaded.rnn) is nn.LSTM
    assert loaded.decoder.weight is loaded.encoder.weight  # the tie survives
    assert isinstance(loaded.decoder.weight, nn.Parameter)
    assert loaded.activation is nn.functional.relu
    assert loaded.settings == {"kind": "LSTM", "sizes": (7, 4), "tags": {"a"}}
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    loaded.rnn.flatten_parameters()


def test_an_unlisted_class_is_refused_with_how_to_allow_it() -> None:
    with pytest.raises(RuntimeError, match=r"TiedModel.*safe_globals\(\[TiedModel\]\)"):
        _roundtrip(TiedModel())
    with safe_globals([TiedModel]):  # its layers are not listed either
        with pytest.raises(RuntimeError, match="Embedding, which is not on the allowlist"):
            _roundtrip(TiedModel())


def test_add_safe_globals_and_weights_only_false() -> None:
    add_safe_globals(ALLOWED)
    assert set(map(id, get_safe_globals())) == set(map(id, ALLOWED))
    assert type(_roundtrip(TiedModel())) is TiedModel
    clear_safe_globals()
    assert type(_roundtrip(TiedModel(), weights_only=False)) is TiedModel


def test_allowlist_accepts_pairs_naming_a_class() -> None:
    pairs = [(cls, f"{cls.__module__}.{cls.__qualname__}") for cls in ALLOWED]
    with safe_globals(pairs):
        assert type(_roundtrip(TiedModel())) is TiedModel


def test_an_object_shared_twice_is_rebuilt_once() -> None:
    layer = nn.Linear(2, 2)
    with safe_globals([nn.Linear]):
        a, b = _roundtrip([layer, layer])
    assert a is b


def test_a_local_function_cannot_be_saved() -> None:
    model = nn.Linear(2, 2)
    model.hook = lambda x: x
    with pytest.raises(TypeError, match="top level"):
        rb.save(model, io.BytesIO())


def test_nothing_in_the_file_is_pickle() -> None:
    buffer = io.BytesIO()
    rb.save(TiedModel(), buffer)
    data = buffer.getvalue()
    (size,) = struct.unpack("<Q", data[:8])
    structure = json.loads(json.loads(data[8:8 + size])["__metadata__"]["rosenblatt.structure"])
    assert structure["__object__"] == f"{__name__}:TiedModel"
    assert b"\x80\x04" not in data[:8 + size]  # no pickle protocol header


class Hooked(nn.Module):
    """Holds a hook that is one of its own methods (a bound method in its hook table)."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 2)
        self.calls = 0
        self.register_forward_hook(self.count)

    def count(self, module, inputs, output) -> None:
        self.calls += 1

    def forward(self, x):
        return self.layer(x)


def test_a_bound_method_is_stored_as_its_object_and_name() -> None:
    with safe_globals([Hooked, nn.Linear]):
        loaded = _roundtrip(Hooked())
    loaded(rb.ones(1, 2))
    assert loaded.calls == 1


def test_objects_whose_state_is_not_their_dict_are_refused() -> None:
    import functools

    model = nn.Linear(2, 2)
    model.act = functools.partial(nn.functional.leaky_relu, negative_slope=0.1)
    with pytest.raises(TypeError, match="can't store a partial"):
        rb.save(model, io.BytesIO())
