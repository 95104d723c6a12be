"""`rosenblatt.utils.tensorboard`: `SummaryWriter`, PyTorch's TensorBoard logger.

Needs the `tensorboard` package (its protobufs; the optional extra
`pip install 'rosenblatt[tensorboard]'`), as `torch.utils.tensorboard` does.
"""

try:
    import tensorboard  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "rosenblatt.utils.tensorboard needs the tensorboard package: "
        "pip install 'rosenblatt[tensorboard]'") from e

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
