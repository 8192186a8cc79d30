"""Data sets: CIFAR-10, image folders and the synthetic default, as `Dataset` objects.

Every loader returns a `Dataset`: x_train (N, 3, 32, 32) uint8, y_train (N,)
int64, x_test, y_test and classes. Downloads and caches live in
`data_home()`: the ``CONVLEARN_DATA`` environment variable, else
``~/.cache/convlearn``; never inside the repository.
"""

from .cifar import CIFAR10_MD5, CIFAR10_URL, load_cifar10
from .core import Dataset, data_home
from .download import NoNetworkError, download_cifar10
from .folder import (
    IMAGE_EXTENSIONS,
    ImageFolderResult,
    load_image_folder,
    load_image_folder_result,
)
from .synthetic import SYNTHETIC_CLASSES, synthetic

__all__ = ["Dataset", "data_home", "synthetic", "SYNTHETIC_CLASSES"]
__all__ += [
    "load_cifar10",
    "download_cifar10",
    "NoNetworkError",
    "CIFAR10_URL",
    "CIFAR10_MD5",
]
__all__ += [
    "load_image_folder",
    "load_image_folder_result",
    "ImageFolderResult",
    "IMAGE_EXTENSIONS",
]
