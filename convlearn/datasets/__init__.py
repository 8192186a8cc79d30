"""Data sets: CIFAR-10, image folders and the synthetic default, as `Dataset` objects.

Every loader returns a `Dataset`: x_train (N, 3, 32, 32) uint8, y_train (N,)
int64, x_test, y_test and classes. Downloads and caches live in
`data_home()`: the ``CONVLEARN_DATA`` environment variable, else
``~/.cache/convlearn``; never inside the repository.
"""

from .core import Dataset, data_home
from .synthetic import SYNTHETIC_CLASSES, synthetic

__all__ = ["Dataset", "data_home", "synthetic", "SYNTHETIC_CLASSES"]
