"""rosenblatt.save / rosenblatt.load: checkpoints as safetensors files, never pickle.

A saved object (a tensor, a state dict, an optimizer state dict, a whole training
checkpoint: nested dicts/lists/tuples of tensors, numbers, strings, bools and None) becomes
one safetensors file: its tensors are the flattened leaves, named by their path
('model/0.weight', 'optimizer/state/0/exp_avg'), and the header's string metadata holds
- "rosenblatt.structure": JSON of the object with each tensor replaced by a reference,
  keeping dict key types (optimizer state has int keys), tuples and non-tensor values;
- "rosenblatt.sha256": a digest of that JSON and every tensor's name, dtype, shape and bytes,
  so a flipped bit, a truncated file or an edited header is caught on load.
Writes are atomic (temporary file in the same folder, fsync, rename), so a crash while
saving leaves the previous file intact. Plain safetensors files from elsewhere load as a
flat {name: tensor} dict.

Whole objects (`torch.save(model, f)`: a module, or any object with a `__dict__`) are stored
the way pickle describes them, but as data: the class by its path ('module:QualName') and
the instance's `__dict__` encoded like everything else (its tensors in the file, shared
ones once); functions and classes held as values (a layer's `activation = F.relu`) by
path. Loading rebuilds an instance with `cls.__new__` and its `__dict__`, without running
`__init__`, and only for classes and functions on an allowlist: `safe_globals([...])` (a
context manager) or `add_safe_globals([...])`, as in PyTorch; `weights_only=False` allows
any path (importing its module), so use it only for files you trust. Nothing is ever
unpickled.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import importlib
import json
import math
import os
import secrets
import struct
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Callable

from . import dtypes
from ._backend import CPU, Device, np, to_device
from ._backend import device as parse_device
from .autograd.tensor import Tensor

__all__ = ["save", "load", "safe_globals", "add_safe_globals", "get_safe_globals",
           "clear_safe_globals"]

FORMAT_VERSION = "1"
_STRUCTURE = "rosenblatt.structure"
_DIGEST = "rosenblatt.sha256"
_VERSION = "rosenblatt.format"
_CHUNK = 1 << 22


# ------------------------------------------------------------------ flatten
class _Flattener:
    """Turns an object into JSON-able structure plus a {name: array} dict of its tensors."""

    def __init__(self) -> None:
        self.arrays: dict[str, Any] = {}
        self.seen: dict[int, str] = {}  # id(tensor) -> name: a shared tensor is stored once
        self.objects: dict[int, int] = {}  # id(object) -> its number: shared objects once
        self.keep: list[Any] = []  # the objects numbered, alive so their ids stay unique

    def name_for(self, path: list[str]) -> str:
        base = "/".join(path) or "tensor"
        name, k = base, 1
        while name in self.arrays:
            name, k = f"{base}~{k}", k + 1
        return name

    def encode(self, obj: Any, path: list[str]) -> Any:
        if isinstance(obj, Tensor):
            return self.tensor(obj, path)
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, dict):
            items = [[self.key(k, path), self.encode(v, [*path, str(k)])] for k, v in obj.items()]
            return {"__odict__": items} if type(obj) is collections.OrderedDict else {
                "__dict__": items}
        if isinstance(obj, list):
            return [self.encode(v, [*path, str(i)]) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, np.ndarray):
            return self.array(obj, path, {"numpy": True})
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if isinstance(obj, dtypes.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, Device):
            return {"__device__": str(obj)}
        if isinstance(obj, bytes):
            return {"__bytes__": obj.hex()}
        if isinstance(obj, (set, frozenset)):
            return {"__set__": [self.encode(v, [*path, "*"]) for v in obj]}
        if isinstance(obj, (type, _FUNCTION_TYPES)):
            return {"__global__": global_path(obj, path)}
        if isinstance(obj, types.MethodType):  # a bound method: its object and the name
            return {"__method__": self.encode(obj.__self__, [*path, "__self__"]),
                    "name": obj.__func__.__name__}
        if _plain_instance(obj):
            return self.instance(obj, path)
        where = "/".join(path) or "the top level"
        raise TypeError(
            f"rosenblatt.save can't store a {type(obj).__name__} at '{where}': only tensors, "
            "NumPy arrays, numbers, strings, bools, None, bytes, dtypes, devices, "
            "lists/tuples/dicts/sets of them, and objects with a __dict__ of these "
            "(no pickle)."
        )

    def instance(self, obj: Any, path: list[str]) -> dict:
        """An object as its class path and encoded __dict__ (pickle's default, as data)."""
        if id(obj) in self.objects:
            return {"__objref__": self.objects[id(obj)]}
        number = self.objects[id(obj)] = len(self.objects)
        self.keep.append(obj)
        cls_path = global_path(type(obj), path)
        return {"__object__": cls_path, "id": number, "state": self.encode(dict(vars(obj)), path)}

    def key(self, k: Any, path: list[str]) -> Any:
        if k is None or isinstance(k, (str, bool, int)):
            return k
        if isinstance(k, float):
            return {"__float__": repr(k)}
        if isinstance(k, tuple):
            return {"__tuple__": [self.key(v, path) for v in k]}
        raise TypeError(f"rosenblatt.save can't store a dict key of type {type(k).__name__} "
                        f"at '{'/'.join(path)}'")

    def tensor(self, t: Tensor, path: list[str]) -> Any:
        if id(t) in self.seen:
            return {"__tensor__": self.seen[id(t)]}
        info: dict[str, Any] = {"device": str(t.device)}
        if t.requires_grad:
            info["requires_grad"] = True
        if type(t).__name__ == "Parameter":
            info["parameter"] = True
        ref = self.array(t._data, path, info)
        self.seen[id(t)] = ref["__tensor__"]
        return ref

    def array(self, array: Any, path: list[str], info: dict) -> dict:
        name = self.name_for(path)
        self.arrays[name] = _contiguous(to_device(array, CPU))
        return {"__tensor__": name, **info}


_FUNCTION_TYPES = (types.BuiltinFunctionType, types.FunctionType)


def _plain_instance(obj: Any) -> bool:
    """Whether obj's whole state is its __dict__ (pickle's default): no __slots__, and no
    __reduce__/__getstate__ of its own that would say otherwise (functools.partial, enums,
    datetimes are refused rather than rebuilt wrong)."""
    cls = type(obj)
    if not isinstance(getattr(obj, "__dict__", None), dict) or isinstance(obj, types.ModuleType):
        return False
    return (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__getstate__", object.__getstate__) is object.__getstate__
            and not any("__slots__" in vars(k) for k in cls.__mro__[:-1]))


def global_path(obj: Any, path: list[str] | None = None) -> str:
    """'module:QualName' of a class or function that can be found again by that path."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or "<" in qualname:  # a lambda or a function defined inside a function
        where = "/".join(path or []) or "the top level"
        raise TypeError(f"rosenblatt.save can't store {obj!r} at '{where}': only classes and "
                        "functions defined at a module's top level can be referred to by path")
    return f"{module}:{qualname}"


def _contiguous(a: Any) -> Any:
    """a in row-major order (np.ascontiguousarray would turn a 0-d array into 1-d)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


def _digest(structure: str, arrays: dict[str, Any]) -> str:
    """sha256 of the structure JSON and each tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256(structure.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(_contiguous(a).reshape(-1).view(np.uint8).data)
    return h.hexdigest()


def _serialize(obj: Any) -> bytes:
    from safetensors.numpy import save as st_save  # optional dependency, loaded on use

    flat = _Flattener()
    structure = json.dumps(flat.encode(obj, []), separators=(",", ":"))
    metadata = {_VERSION: FORMAT_VERSION, _STRUCTURE: structure,
                _DIGEST: _digest(structure, flat.arrays)}
    return st_save(flat.arrays, metadata=metadata)


# ------------------------------------------------------------------ write
def _write_chunks(f: BinaryIO, payload: bytes) -> None:
    """Write payload to f piece by piece (a seam for tests that simulate a crash)."""
    view = memoryview(payload)
    for start in range(0, len(view), _CHUNK):
        f.write(view[start:start + _CHUNK])


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write to a temporary file beside path, fsync it, then rename it over path."""
    folder = path.parent if str(path.parent) else Path(".")
    # not mkstemp: its files are 0600; O_EXCL with mode 0666 gets the umask's permissions,
    # like any file the user writes
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable where the OS allows it
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save tensors / (nested) state dicts to a safetensors file at path f (or a binary file
    object), atomically; pickle_module and the other torch.save options are ignored."""
    payload = _serialize(obj)
    if hasattr(f, "write"):
        f.write(payload)  # type: ignore[union-attr]
        return
    _write_atomic(Path(f), payload)  # type: ignore[arg-type]


# ------------------------------------------------------------------ read
def _corrupt(name: str, why: str) -> RuntimeError:
    return RuntimeError(f"{name}: not a valid rosenblatt checkpoint: {why}")


def _read_header(data: bytes, name: str) -> dict:
    """The safetensors JSON header, with size checks that name the file."""
    if data[:2] == b"PK":
        raise _corrupt(name, "it looks like a torch.save (zip/pickle) file; rosenblatt never "
                             "loads pickle. Convert it with safetensors in PyTorch.")
    if len(data) < 8:
        raise _corrupt(name, f"only {len(data)} bytes (truncated?)")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise _corrupt(name, f"header of {size} bytes runs past the end of the file "
                             f"({len(data)} bytes): truncated?")
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, ValueError) as e:
        raise _corrupt(name, f"corrupt header ({e})") from None
    if not isinstance(header, dict):
        raise _corrupt(name, "corrupt header (not a JSON object)")
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                  default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise _corrupt(name, "corrupt header (a tensor entry without valid data_offsets)"
                       ) from None
    if 8 + size + end != len(data):
        state = "is truncated" if 8 + size + end > len(data) else "has trailing bytes"
        raise _corrupt(name, f"the file {state}: header says {8 + size + end} bytes, "
                             f"found {len(data)}")
    return header


def _target_device(saved: str, map_location: Any) -> Any:
    """Where a tensor saved on `saved` goes under map_location (None: where it was)."""
    if map_location is None:
        target = parse_device(saved)
    elif isinstance(map_location, dict):
        target = parse_device(map_location.get(saved, saved))
    elif callable(map_location):
        return map_location
    else:
        target = parse_device(map_location)
    if target.type == "cuda":
        from ._backend import cuda_is_available

        if not cuda_is_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but CUDA is "
                               "not available. Use map_location='cpu' to load on the CPU.")
    return target


class _Rebuilder:
    """The inverse of _Flattener."""

    def __init__(self, arrays: dict[str, Any], map_location: Any, name: str,
                 any_global: bool = False) -> None:
        self.arrays = arrays
        self.map_location = map_location
        self.name = name
        self.made: dict[str, Tensor] = {}
        self.objects: dict[int, Any] = {}
        self.globals = _Globals(name, any_global)

    def instance(self, node: dict) -> Any:
        """An allowlisted class's instance from its __dict__, without running __init__."""
        cls = self.globals.find(node["__object__"])
        if not isinstance(cls, type):
            raise _corrupt(self.name, f"{node['__object__']} is not a class")
        obj = cls.__new__(cls)
        self.objects[node.get("id", -1)] = obj  # before the state: it may refer back
        state = self.decode(node.get("state", {"__dict__": []}))
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None and getattr(cls, "__setstate__", None) is not getattr(
                object, "__setstate__", None):
            setstate(state)
        else:
            obj.__dict__.update(state)
        return obj

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            return self.tensor(node)
        if "__dict__" in node:
            return {self.key(k): self.decode(v) for k, v in node["__dict__"]}
        if "__odict__" in node:
            return collections.OrderedDict(
                (self.key(k), self.decode(v)) for k, v in node["__odict__"])
        if "__set__" in node:
            return {self.decode(v) for v in node["__set__"]}
        if "__global__" in node:
            return self.globals.find(node["__global__"])
        if "__object__" in node:
            return self.instance(node)
        if "__method__" in node:
            return getattr(self.decode(node["__method__"]), node["name"])
        if "__objref__" in node:
            if node["__objref__"] not in self.objects:
                raise _corrupt(self.name, f"reference to object {node['__objref__']} before it")
            return self.objects[node["__objref__"]]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dtype__" in node:
            return getattr(dtypes, node["__dtype__"])
        if "__device__" in node:
            return parse_device(node["__device__"])
        if "__bytes__" in node:
            return bytes.fromhex(node["__bytes__"])
        raise _corrupt(self.name, f"unknown entry {sorted(node)} in the structure")

    def key(self, k: Any) -> Any:
        if isinstance(k, dict):
            if "__tuple__" in k:
                return tuple(self.key(v) for v in k["__tuple__"])
            if "__float__" in k:
                return float(k["__float__"])
        return k

    def tensor(self, node: dict) -> Any:
        name = node["__tensor__"]
        if name in self.made:
            return self.made[name]
        if name not in self.arrays:
            raise _corrupt(self.name, f"the structure names a tensor '{name}' the file lacks")
        array = self.arrays[name]
        if node.get("numpy"):
            return array
        saved = node.get("device", "cpu")
        target = _target_device(saved, self.map_location)
        t = Tensor._make(array, False, None)
        if callable(target) and not isinstance(target, Device):
            t = target(t, saved)
        elif target != CPU:
            t = Tensor._make(to_device(array, target), False, None)
        if node.get("parameter"):
            t = _as_parameter(t, node.get("requires_grad", False))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        self.made[name] = t
        return t


def _as_parameter(t: Tensor, requires_grad: bool) -> Tensor:
    try:
        from .nn import Parameter
    except ImportError:
        return t.requires_grad_(requires_grad)
    return Parameter(t, requires_grad=requires_grad)


def _read(f: Any) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file object>")
    path = Path(f)
    with open(path, "rb") as fh:
        return fh.read(), str(path)


def load(f: str | os.PathLike | BinaryIO, map_location: str | Device | dict | Callable |
         None = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load what save() wrote (tensors go to map_location, or back where they were saved).

    Nothing is unpickled. A saved object of a class (a whole module) is rebuilt only when
    its class, and every function or class it holds, is allowlisted (safe_globals /
    add_safe_globals), or with weights_only=False, which trusts the file to name any
    class or function by path. A truncated, corrupted or edited file raises RuntimeError
    naming the file.
    """
    from safetensors.numpy import load as st_load

    data, name = _read(f)
    header = _read_header(data, name)
    try:
        arrays = st_load(data)
    except Exception as e:  # safetensors' own validation: offsets, dtypes, shapes
        raise _corrupt(name, str(e)) from None
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise _corrupt(name, "corrupt header (__metadata__ is not a JSON object)")
    if _STRUCTURE not in metadata:  # a plain safetensors file from elsewhere
        return _load_flat(arrays, map_location, name)
    structure = metadata[_STRUCTURE]
    if metadata.get(_DIGEST) != _digest(structure, arrays):
        raise _corrupt(name, "checksum mismatch: the tensor data or the header was changed "
                             "after saving (corrupted or tampered file)")
    try:
        tree = json.loads(structure)
    except ValueError as e:
        raise _corrupt(name, f"corrupt structure ({e})") from None
    return _Rebuilder(arrays, map_location, name, weights_only is False).decode(tree)


def _load_flat(arrays: dict[str, Any], map_location: Any, name: str) -> dict:
    """{name: tensor} for a safetensors file without rosenblatt metadata."""
    rebuild = _Rebuilder(arrays, map_location, name)
    return {k: rebuild.tensor({"__tensor__": k}) for k in sorted(arrays)}


# ------------------------------------------------------------------ allowlist
_safe: dict[str, Any] = {}  # 'module:QualName' -> class or function, as add_safe_globals adds
_scoped: list[dict[str, Any]] = []  # the allowlists of the safe_globals blocks now open


def _allowlist_entries(items: Iterable[Any]) -> dict[str, Any]:
    """{path: obj} for classes/functions, or (obj, 'module.QualName') pairs as in PyTorch."""
    entries = {}
    for item in items:
        if isinstance(item, tuple):
            obj, name = item
            module, _, qualname = name.rpartition(".")
            entries[f"{module}:{qualname}"] = obj
        else:
            entries[global_path(item)] = item
    return entries


def add_safe_globals(safe_globals: Iterable[Any]) -> None:
    """Allow load() to rebuild these classes and refer to these functions, from now on."""
    _safe.update(_allowlist_entries(safe_globals))


def get_safe_globals() -> list[Any]:
    """The classes and functions added with add_safe_globals."""
    return list(_safe.values())


def clear_safe_globals() -> None:
    """Forget everything add_safe_globals added."""
    _safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable[Any]) -> Iterator[None]:
    """`with safe_globals([MyModel, nn.Linear, ...]): torch.load(f)` - allowed in the block."""
    _scoped.append(_allowlist_entries(safe_globals))
    try:
        yield
    finally:
        _scoped.pop()


class _Globals:
    """Resolves the class and function paths a file names: allowlisted ones only, unless
    the caller trusts the file (weights_only=False)."""

    def __init__(self, name: str, any_global: bool) -> None:
        self.name = name
        self.any_global = any_global

    def find(self, path: str) -> Any:
        for allowed in (*reversed(_scoped), _safe):
            if path in allowed:
                return allowed[path]
        if self.any_global:
            return self.imported(path)
        module, _, qualname = path.partition(":")
        raise RuntimeError(
            f"{self.name}: the file refers to {module}.{qualname}, which is not on the "
            "allowlist of classes and functions load() may rebuild. If you trust this file, "
            f"load it within `torch.serialization.safe_globals([{qualname}])` (or call "
            f"`torch.serialization.add_safe_globals([{qualname}])` first), or pass "
            "weights_only=False, which allows any class the file names.")

    def imported(self, path: str) -> Any:
        module_name, _, qualname = path.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as e:
            raise RuntimeError(f"{self.name}: can't find {module_name}.{qualname} ({e})"
                               ) from None
        return obj
