"""Sequential nets of named layers, the architectures registry, save and load.

A `Net` is a list of layers plus the input normalisation it was trained
with, so that ``net.predict(uint8_images)`` works on raw pixels. Names follow
Caffe's AlexNet: conv1, pool1, norm1, ..., fc6, drop6, ..., fc8.

Architectures (``architectures()`` lists them; sizes are for 3x32x32 input):

- "paper": the reference net, AlexNet's shape at CIFAR scale. conv1 5x5x32,
  pool1 3/2, norm1, conv2 5x5x64, pool2 3/2, norm2, conv3 3x3x96,
  conv4 3x3x96, conv5 3x3x64, pool5 3/2, fc6 256, drop6, fc7 256, drop7,
  fc8 10. Pools floor as PyTorch's do: 32 -> 15 -> 7 -> 3. Dropout is
  0.25, not AlexNet's 0.5: with 0.5 the net underfits a 12-epoch schedule
  on CIFAR-10 (73.4% against 76.2% for seed 0, measured on this project's
  machine; see README.md).
- "small": a CIFAR-quick-sized net for the demo and the tests: conv1..conv3
  5x5 with 32, 32 and 64 filters, each followed by a 3/2 max pool, then
  fc4 64 and fc5 10.
- "tiny": two 3x3 convs (8, 16 filters) and one classifier, for unit tests
  that must train in a second.
"""

import os
import zipfile

import numpy as np

from .. import __version__, _checks
from .._files import atomic_write
from .layers import Conv2d, Dropout, Flatten, Linear, LocalResponseNorm, MaxPool2d

__all__ = ["Net", "build", "architectures", "load"]

INPUT_SHAPE = (3, 32, 32)
N_CLASSES = 10
# Until a net is given its training set's statistics: pixels/255 mapped
# roughly to zero mean and unit spread.
DEFAULT_MEAN = (0.5, 0.5, 0.5)
DEFAULT_STD = (0.25, 0.25, 0.25)


def _paper(rngs):
    r = iter(rngs)
    return [
        Conv2d("conv1", 3, 32, 5, pad=2, rng=next(r)),
        MaxPool2d("pool1", 3, 2),
        LocalResponseNorm("norm1", 5, 1e-4, 0.75, 1.0),
        Conv2d("conv2", 32, 64, 5, pad=2, rng=next(r)),
        MaxPool2d("pool2", 3, 2),
        LocalResponseNorm("norm2", 5, 1e-4, 0.75, 1.0),
        Conv2d("conv3", 64, 96, 3, pad=1, rng=next(r)),
        Conv2d("conv4", 96, 96, 3, pad=1, rng=next(r)),
        Conv2d("conv5", 96, 64, 3, pad=1, rng=next(r)),
        MaxPool2d("pool5", 3, 2),
        Flatten("flatten"),
        Linear("fc6", 64 * 3 * 3, 256, rng=next(r)),
        Dropout("drop6", 0.25, rng=next(r)),
        Linear("fc7", 256, 256, rng=next(r)),
        Dropout("drop7", 0.25, rng=next(r)),
        Linear("fc8", 256, N_CLASSES, relu=False, rng=next(r)),
    ]


def _small(rngs):
    r = iter(rngs)
    return [
        Conv2d("conv1", 3, 32, 5, pad=2, rng=next(r)),
        MaxPool2d("pool1", 3, 2),
        Conv2d("conv2", 32, 32, 5, pad=2, rng=next(r)),
        MaxPool2d("pool2", 3, 2),
        Conv2d("conv3", 32, 64, 5, pad=2, rng=next(r)),
        MaxPool2d("pool3", 3, 2),
        Flatten("flatten"),
        Linear("fc4", 64 * 3 * 3, 64, rng=next(r)),
        Linear("fc5", 64, N_CLASSES, relu=False, rng=next(r)),
    ]


def _tiny(rngs):
    r = iter(rngs)
    return [
        Conv2d("conv1", 3, 8, 3, pad=1, rng=next(r)),
        MaxPool2d("pool1", 2, 2),
        Conv2d("conv2", 8, 16, 3, pad=1, rng=next(r)),
        MaxPool2d("pool2", 4, 4),
        Flatten("flatten"),
        Linear("fc3", 16 * 4 * 4, N_CLASSES, relu=False, rng=next(r)),
    ]


_ARCHITECTURES = {"paper": _paper, "small": _small, "tiny": _tiny}
_MAX_RANDOM_LAYERS = (
    16  # child seeds drawn per net; a layer's seed depends only on its index
)


def architectures():
    """Names of the registered architectures, sorted."""
    return sorted(_ARCHITECTURES)


def build(arch, seed=0):
    """A freshly initialised net of a registered architecture.

    Parameters
    ----------
    arch : str
        One of `architectures()`.
    seed : int or numpy Generator
        Drives every initialiser and every dropout mask. Each layer with
        randomness gets its own child of ``SeedSequence(seed)``, so nets
        built with different seeds differ in every such layer.
    """
    if arch not in _ARCHITECTURES:
        raise ValueError(f"arch must be one of {architectures()}, got {arch!r}")
    if isinstance(seed, np.random.Generator):
        rngs = seed.spawn(_MAX_RANDOM_LAYERS)
    else:
        _checks.to_generator(seed)  # validates the type
        rngs = [
            np.random.default_rng(c)
            for c in np.random.SeedSequence(seed).spawn(_MAX_RANDOM_LAYERS)
        ]
    return Net(arch, _ARCHITECTURES[arch](rngs))


class Net:
    """A sequential net of named layers with its input normalisation.

    Public inputs and activations are NCHW; see `convlearn.nn.layers` for
    the channels-last layout used between layers.
    """

    def __init__(self, arch, layers, mean=DEFAULT_MEAN, std=DEFAULT_STD):
        self.arch = arch
        self.layers = list(layers)
        self.layers[0].input_grad = False
        self.set_normalization(mean, std)
        self._by_name = {layer.name: i for i, layer in enumerate(self.layers)}
        assert len(self._by_name) == len(self.layers), "layer names must be unique"

    @property
    def layer_names(self):
        """Names of all layers, input to output."""
        return [layer.name for layer in self.layers]

    # ---- parameters -------------------------------------------------------

    def params(self):
        """{"conv1.weight": array, ...}: the live parameter arrays (update in place)."""
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.params.items()}

    def grads(self):
        """{"conv1.weight": array, ...}: gradients from the last `backward`."""
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.grads.items()}

    def set_normalization(self, mean, std):
        """Store the per-channel mean and std of pixels/255 used by `preprocess`."""
        mean = np.asarray(mean, np.float32)
        std = np.asarray(std, np.float32)
        if (
            mean.shape != (3,)
            or std.shape != (3,)
            or not np.all(std > 0)
            or not np.all(np.isfinite(mean))
            or not np.all(np.isfinite(std))
        ):
            raise ValueError(
                f"mean and std must be 3 finite numbers with std > 0, got {mean} and {std}"
            )
        self.mean, self.std = mean, std

    # ---- computing --------------------------------------------------------

    @staticmethod
    def _check_images(images):
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
            raise TypeError(
                f"images must be a uint8 numpy array, got {getattr(images, 'dtype', type(images))}"
            )
        if images.ndim != 4 or images.shape[1:] != INPUT_SHAPE:
            raise ValueError(
                f"images must have shape (N, 3, 32, 32), got {images.shape}"
            )

    def preprocess(self, images):
        """uint8 images (N, 3, 32, 32) -> float32 (images/255 - mean) / std."""
        self._check_images(images)
        scale = (1.0 / (255.0 * self.std)).reshape(1, 3, 1, 1)
        shift = (self.mean / self.std).reshape(1, 3, 1, 1)
        return images * scale - shift

    def _check_input(self, x):
        _checks.check_float_array("x", x, 4, "(N, 3, 32, 32)")
        if x.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"x must have shape (N, 3, 32, 32), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x must be finite; it contains NaN or inf")

    def _run(self, x, train, stop_at=None, keep=()):
        """Forward x (NCHW) through the layers; returns (output, {name: NCHW activation})."""
        self._check_input(x)
        h = x.transpose(0, 2, 3, 1)  # (N, H, W, C), a view
        taken = {}
        for layer in self.layers:
            h = layer.forward(h, train)
            if layer.name in keep:
                taken[layer.name] = (
                    np.ascontiguousarray(h.transpose(0, 3, 1, 2))
                    if h.ndim == 4
                    else h.copy()
                )
            if layer.name == stop_at:
                break
        return h, taken

    def forward(self, x, train=False):
        """Logits (N, 10) for preprocessed x (N, 3, 32, 32).

        ``train=True`` uses dropout and keeps what `backward` needs.
        """
        return self._run(x, train)[0]

    def backward(self, dlogits):
        """Backpropagate d(loss)/d(logits) (N, 10); fills every layer's ``grads``."""
        dy = dlogits
        for layer in reversed(self.layers):
            dy = layer.backward(dy)

    def activations(self, x, layers):
        """{name: activation} of the named layers, from one forward pass (no dropout).

        x : (N, 3, 32, 32) preprocessed. Conv layers give (N, F, OH, OW) after
        their ReLU, linear layers (N, out) after theirs.
        """
        layers = [layers] if isinstance(layers, str) else list(layers)
        if not layers:
            raise ValueError(
                f"layers must name at least one layer of {self.layer_names}"
            )
        unknown = [n for n in layers if n not in self._by_name]
        if unknown:
            raise ValueError(
                f"unknown layer names {unknown}; this net has {self.layer_names}"
            )
        last = max(layers, key=self._by_name.__getitem__)
        return self._run(x, False, stop_at=last, keep=set(layers))[1]

    def predict(self, images, batch_size=500):
        """Class indices (N,) int64 for uint8 images (N, 3, 32, 32)."""
        batch_size = _checks.check_positive_int("batch_size", batch_size)
        self._check_images(images)
        out = np.empty(len(images), np.int64)
        for start in range(0, len(images), batch_size):
            x = self.preprocess(images[start : start + batch_size])
            out[start : start + batch_size] = self.forward(x).argmax(axis=1)
        return out

    # ---- files ------------------------------------------------------------

    def save(self, path):
        """Write an .npz (no pickles): every parameter, the architecture, normalisation.

        Written to a temporary file first and then renamed, so an interrupted
        save never leaves a half-written file at ``path``.
        """
        arrays = dict(self.params())
        arrays["meta.arch"] = np.array(self.arch)
        arrays["meta.mean"] = self.mean
        arrays["meta.std"] = self.std
        arrays["meta.version"] = np.array(__version__)
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    def __repr__(self):
        return f"Net({self.arch!r}, layers={self.layer_names})"


def load(path):
    """Read a net written by `Net.save`.

    Raises ValueError naming the file when it is not a convlearn net, and
    naming the parameter when a shape or dtype does not fit the architecture.
    """
    path = os.fspath(path)
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        # numpy's own message suggests allow_pickle=True: never the answer for a damaged file
        raise ValueError(
            f"{path}: not a readable .npz file (damaged, or not an .npz: {type(e).__name__})"
        ) from e
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path}: not a convlearn net (a single array, not an .npz archive)"
        )
    try:
        with f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path}: a damaged .npz file ({e})") from e
    for key in ("meta.arch", "meta.mean", "meta.std"):
        if key not in arrays:
            raise ValueError(f"{path}: not a convlearn net (no {key!r} entry)")
    arch = str(arrays.pop("meta.arch"))
    if arch not in _ARCHITECTURES:
        raise ValueError(
            f"{path}: unknown architecture {arch!r}; known: {architectures()}"
        )
    net = build(arch)
    params = net.params()
    stored = {k: v for k, v in arrays.items() if not k.startswith("meta.")}
    missing = sorted(set(params) - set(stored))
    extra = sorted(set(stored) - set(params))
    if missing or extra:
        raise ValueError(
            f"{path}: parameters do not fit architecture {arch!r}: missing {missing}, unexpected {extra}"
        )
    for key, value in params.items():
        layer = key.split(".")[0]
        if stored[key].shape != value.shape or stored[key].dtype != value.dtype:
            raise ValueError(
                f"{path}: layer {layer!r}: {key} has shape {stored[key].shape} {stored[key].dtype} in the file, "
                f"architecture {arch!r} expects {value.shape} {value.dtype}"
            )
        if not np.all(np.isfinite(stored[key])):
            raise ValueError(f"{path}: layer {layer!r}: {key} holds NaN or inf")
        value[...] = stored[key]
    try:
        net.set_normalization(arrays["meta.mean"], arrays["meta.std"])
    except ValueError as e:
        raise ValueError(f"{path}: bad normalisation entries: {e}") from e
    return net
