"""rosenblatt.save / load: safetensors round trips, checkpoints, atomic writes, damaged files."""

import io
import json
import math
import struct
import zipfile

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file
from safetensors.numpy import save_file as st_save_file

import rosenblatt as rb
from rosenblatt import serialization


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "int8", "uint8", "bool"])
def test_tensor_round_trip_every_dtype(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    t = rb.tensor(array)
    rb.save(t, tmp_path / "t.safetensors")
    back = rb.load(tmp_path / "t.safetensors")
    assert isinstance(back, rb.Tensor) and back.dtype == t.dtype and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back.numpy(), array)


def test_odd_tensors(tmp_path):
    cases = {"scalar": rb.tensor(2.5), "empty": rb.zeros(0, 3), "view": rb.randn(3, 5).t(),
             "strided": rb.arange(10)[::3]}
    rb.save(cases, tmp_path / "odd")
    back = rb.load(tmp_path / "odd")
    for k, v in cases.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    back["view"].add_(1)  # loaded tensors are writable (optimizer state is updated in place)


def test_nested_values_keep_their_types(tmp_path):
    obj = {
        "epoch": 7, "big": 2**70, "lr": 0.1, "inf": math.inf, "nan": math.nan, "name": "run-1",
        "done": False, "nothing": None, "pair": (1, "a", None), "list": [1, [2.5, {"x": True}]],
        3: "int key", (1, 2): "tuple key", 0.5: "float key", False: "bool key",
        "array": np.arange(4, dtype=np.int16), "npnum": np.float32(1.5), "dtype": rb.float64,
        "device": rb.device("cpu"), "bytes": b"\x00\xff", "empty": {}, "nolist": [],
    }
    rb.save(obj, tmp_path / "nested")
    back = rb.load(tmp_path / "nested")
    assert list(back) == list(obj)
    assert back[3] == "int key" and back[(1, 2)] == "tuple key" and back[0.5] == "float key"
    assert back[False] == "bool key"
    assert back["pair"] == (1, "a", None) and type(back["pair"]) is tuple
    assert back["list"] == [1, [2.5, {"x": True}]] and back["big"] == 2**70
    assert back["inf"] == math.inf and math.isnan(back["nan"])
    assert back["done"] is False and back["nothing"] is None and back["epoch"] == 7
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int16
    assert back["npnum"] == 1.5 and back["dtype"] is rb.float64
    assert back["device"] == rb.device("cpu") and back["bytes"] == b"\x00\xff"
    assert back["empty"] == {} and back["nolist"] == []


def test_is_a_real_safetensors_file_with_path_names(tmp_path):
    state = {"model": {"0.weight": rb.ones(2, 3), "0.bias": rb.zeros(2)},
             "optimizer": {"state": {0: {"exp_avg": rb.full((2, 3), 0.5)}}}}
    rb.save(state, tmp_path / "ckpt.safetensors")
    arrays = load_file(tmp_path / "ckpt.safetensors")
    assert sorted(arrays) == ["model/0.bias", "model/0.weight", "optimizer/state/0/exp_avg"]
    np.testing.assert_array_equal(arrays["optimizer/state/0/exp_avg"], np.full((2, 3), 0.5))
    with safe_open(tmp_path / "ckpt.safetensors", framework="np") as f:
        meta = f.metadata()
    assert len(meta["rosenblatt.sha256"]) == 64
    structure = json.loads(meta["rosenblatt.structure"])
    assert "__dict__" in structure
    assert b"pickle" not in (tmp_path / "ckpt.safetensors").read_bytes()[:8]


def test_model_and_optimizer_checkpoint_resumes_identically(tmp_path):
    def make():
        rb.manual_seed(0)
        model = rb.nn.Sequential(rb.nn.Linear(3, 8), rb.nn.ReLU(), rb.nn.Linear(8, 2))
        return model, rb.optim.Adam(model.parameters(), lr=0.01)

    x, y = rb.randn(16, 3), rb.randint(0, 2, (16,))

    def step(model, opt):
        opt.zero_grad()
        rb.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    model, opt = make()
    for _ in range(3):
        step(model, opt)
    rb.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
            tmp_path / "ckpt")
    ckpt = rb.load(tmp_path / "ckpt", map_location="cpu", weights_only=True)
    assert set(ckpt["optimizer"]["state"]) == {0, 1, 2, 3}  # int keys survive
    model2, opt2 = make()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    assert ckpt["epoch"] == 3
    step(model, opt)
    step(model2, opt2)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_requires_grad_parameters_and_shared_tensors(tmp_path):
    p = rb.nn.Parameter(rb.randn(2, 2))
    leaf = rb.ones(3, requires_grad=True)
    shared = rb.arange(4)
    rb.save({"p": p, "leaf": leaf, "a": shared, "b": shared}, tmp_path / "x")
    back = rb.load(tmp_path / "x")
    assert isinstance(back["p"], rb.nn.Parameter) and back["p"].requires_grad
    assert back["leaf"].requires_grad and not back["a"].requires_grad
    assert back["a"] is back["b"]
    assert len(load_file(tmp_path / "x")) == 3  # the shared tensor is stored once


def test_file_objects_and_map_location(tmp_path):
    buffer = io.BytesIO()
    rb.save({"w": rb.ones(2)}, buffer)
    buffer.seek(0)
    assert rb.load(buffer)["w"].tolist() == [1.0, 1.0]
    rb.save(rb.ones(2), tmp_path / "t")
    assert rb.load(tmp_path / "t", map_location=rb.device("cpu")).device == rb.device("cpu")
    assert rb.load(tmp_path / "t", map_location={"cpu": "cpu"}).tolist() == [1.0, 1.0]
    calls = []
    rb.load(tmp_path / "t", map_location=lambda t, loc: calls.append(loc) or t)
    assert calls == ["cpu"]


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"'model/extra'.*no pickle"):
        rb.save({"model": {"extra": object()}}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    assert list(tmp_path.iterdir()) == []


def test_plain_safetensors_files_load_as_flat_dicts(tmp_path):
    st_save_file({"a": np.ones(3, np.float32), "b.c": np.zeros((2, 2), np.int64)},
                 str(tmp_path / "plain.safetensors"))
    back = rb.load(tmp_path / "plain.safetensors")
    assert sorted(back) == ["a", "b.c"] and back["b.c"].dtype == rb.int64


# ------------------------------------------------------------------ atomic writes
def test_crash_while_saving_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    rb.save({"w": rb.full((1000,), 1.0)}, path)
    original = path.read_bytes()

    def crash(f, payload):
        f.write(payload[: len(payload) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_chunks", crash)
    with pytest.raises(OSError, match="disk full"):
        rb.save({"w": rb.full((1000,), 2.0)}, path)
    assert path.read_bytes() == original
    assert rb.load(path)["w"].numpy().max() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp left
    monkeypatch.undo()
    rb.save({"w": rb.full((1000,), 2.0)}, path)
    assert rb.load(path)["w"].numpy().min() == 2.0


def test_saved_files_get_the_umask_permissions_like_any_written_file(tmp_path):
    import os

    old = os.umask(0o027)
    try:
        rb.save({"w": rb.ones(3)}, tmp_path / "a.safetensors")
        (tmp_path / "b.txt").write_text("x")
    finally:
        os.umask(old)
    mode = (tmp_path / "a.safetensors").stat().st_mode & 0o777
    assert mode == (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o640


# ------------------------------------------------------------------ damaged files
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    rb.save({"model": {"w": rb.randn(64, 64)}, "epoch": 3}, path)
    return path


def _header_size(data):
    return struct.unpack("<Q", data[:8])[0]


def test_truncated_file_is_rejected(saved):
    data = saved.read_bytes()
    for cut in (len(data) - 1, len(data) - 4096, 8 + _header_size(data) // 2, 5, 0):
        saved.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match=r"ckpt\.safetensors.*(truncated|bytes)"):
            rb.load(saved)


def test_flipped_data_byte_is_rejected(saved):
    data = bytearray(saved.read_bytes())
    data[-100] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"ckpt\.safetensors.*checksum"):
        rb.load(saved)


def test_corrupt_header_is_rejected(saved):
    data = bytearray(saved.read_bytes())
    data[10:14] = b"\xff\xfe{["
    saved.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"ckpt\.safetensors.*header"):
        rb.load(saved)


def test_edited_structure_is_rejected(saved):
    data = saved.read_bytes()
    size = _header_size(data)
    header = json.loads(data[8:8 + size])
    meta = header["__metadata__"]
    meta["rosenblatt.structure"] = meta["rosenblatt.structure"].replace("3]", "4]")
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= size
    saved.write_bytes(data[:8] + text.ljust(size) + data[8 + size:])
    with pytest.raises(RuntimeError, match=r"ckpt\.safetensors.*checksum"):
        rb.load(saved)


def test_torch_pickle_files_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(RuntimeError, match=r"model\.pt.*pickle"):
        rb.load(path)


def test_tensors_are_not_picklable():
    import pickle

    with pytest.raises(TypeError, match="rosenblatt.save"):
        pickle.dumps(rb.ones(2))


def test_device_round_trip(tmp_path, device):
    t = rb.randn(3, 2).to(device)
    rb.save({"t": t}, tmp_path / "d")
    assert rb.load(tmp_path / "d")["t"].device == rb.device(device)
    on_cpu = rb.load(tmp_path / "d", map_location="cpu")["t"]
    assert on_cpu.device == rb.device("cpu")
    np.testing.assert_array_equal(on_cpu.numpy(), t.cpu().numpy())
