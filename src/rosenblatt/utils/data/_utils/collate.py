"""default_collate / default_convert: samples to batches, as torch.utils.data._utils.collate."""

from __future__ import annotations

from typing import Any, Sequence

from .... import dtypes
from ...._backend import np
from ....autograd.tensor import Tensor
from ....ops.creation import as_tensor, tensor
from ....ops.shape import stack

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                  "dicts or lists; found {}")


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy" and not isinstance(x, (np.str_, np.bytes_))


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: tensors/arrays stacked on a new dim 0, numbers to
    tensors (floats as float64, ints as int64), strings kept, tuples/lists/dicts collated
    field by field (tuples become lists, as in PyTorch)."""
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if elem.dtype.kind in "SaUO":
                raise TypeError(_COLLATE_ERROR.format(elem.dtype))
            return default_collate([as_tensor(b) for b in batch])
        if elem.shape == ():  # NumPy scalars keep their dtype
            return as_tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):  # bools too: PyTorch gives a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, dict):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        if elem_type is dict:
            return out
        try:
            return elem_type(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple) or elem_type is list:
            return columns
        try:
            return elem_type(columns)
        except TypeError:
            return columns
    raise TypeError(_COLLATE_ERROR.format(elem_type))


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (nested in lists/dicts) into tensors; what batch_size=None uses."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and data.dtype.kind in "SaUO":
            return data
        return as_tensor(np.asarray(data))
    if isinstance(data, dict):
        return type(data)({k: default_convert(v) for k, v in data.items()}) \
            if type(data) is not dict else {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data
