"""Data sets: MNIST, Fashion-MNIST, scikit-learn's digits, synthetic 2-D problems, IDX files."""

from .digits import Digits
from .download import data_root, download_url, md5sum
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .synthetic import moons, xor

__all__ = ["MNIST", "FashionMNIST", "Digits", "moons", "xor", "read_idx", "write_idx",
           "IDXError", "data_root", "download_url", "md5sum"]
