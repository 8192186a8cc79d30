"""Layer objects: parameters, their gradients, and the forward state a backward needs.

Every layer has a ``name``, ``params`` and ``grads`` (dicts of arrays with the
same keys and shapes), ``forward(x, train)`` and ``backward(dy)``. Between
layers, images travel channels-last, (N, H, W, C), because that is the
layout the fast kernels want (see `convlearn.nn.im2col`); `Net` converts at
its boundaries, so everything a user sees is NCHW. Parameters keep the
public layouts: conv weights (F, C, KH, KW) and linear weights (out, in).

Large scratch arrays are reused from step to step (see
`convlearn.nn.channels_last.Workspace`), so the dx a backward returns may
live in such a buffer: it is valid until that layer's next backward.

A conv or linear layer applies its ReLU in place, as Caffe's in-place ReLU
does, so the layer's output ("conv1", "fc6") is the rectified activation
that the paper analysed. Only the last classifier layer has ``relu=False``.
"""

import numpy as np

from .. import _checks
from . import channels_last as cl

__all__ = [
    "Layer",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "LocalResponseNorm",
    "Flatten",
    "Linear",
    "Dropout",
]


class Layer:
    """Base class: a named stage with no parameters."""

    def __init__(self, name):
        self.name = name
        self.params = {}
        self.grads = {}
        self.input_grad = (
            True  # False for the first layer: nobody needs d(loss)/d(images)
        )

    def forward(self, x, train=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def output_shape(self, input_shape):
        """Shape of one sample's output, given one sample's input shape."""
        return input_shape

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


def _he_normal(rng, shape, fan_in, gain):
    """Weights ~ N(0, gain / fan_in) (He et al., 2015, for gain 2 before a ReLU)."""
    return (rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype(np.float32)


class Conv2d(Layer):
    """Convolution (+ ReLU): (N, H, W, C) -> (N, OH, OW, F); weight (F, C, KH, KW)."""

    def __init__(
        self,
        name,
        in_channels,
        out_channels,
        kernel,
        stride=1,
        pad=0,
        relu=True,
        rng=None,
    ):
        super().__init__(name)
        KH, KW = _checks.check_pair("kernel", kernel, 1)
        self.stride = _checks.check_pair("stride", stride, 1)
        self.pad = _checks.check_pair("pad", pad, 0)
        self.relu = relu
        rng = _checks.to_generator(0 if rng is None else rng)
        fan_in = in_channels * KH * KW
        gain = 2.0 if relu else 1.0
        self.params = {
            "weight": _he_normal(
                rng, (out_channels, in_channels, KH, KW), fan_in, gain
            ),
            "bias": np.zeros(out_channels, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._ws = cl.Workspace()

    def forward(self, x, train=False):
        # An evaluation pass gets scratch of its own, so that it cannot
        # overwrite the window matrix a pending backward still needs.
        ws = self._ws if train else self._ws.child("eval")
        y, cols = cl.conv2d_forward(
            x, self.params["weight"], self.params["bias"], self.stride, self.pad, ws
        )
        if self.relu:
            np.maximum(y, 0, out=y)
        if train:
            self._cache = (x.shape, cols, y)
        return y

    def backward(self, dy):
        x_shape, cols, y = self._cache
        if self.relu:  # the ReLU passes the gradient where its output was positive
            active = np.greater(
                y, 0, out=self._ws.get("relu_active", y.shape, np.bool_)
            )
            dy = np.multiply(dy, active, out=self._ws.get("relu_dy", y.shape, y.dtype))
        dx, dw, db = cl.conv2d_backward(
            dy,
            cols,
            x_shape,
            self.params["weight"],
            self.stride,
            self.pad,
            self.input_grad,
            self._ws,
        )
        self.grads["weight"][...] = dw
        self.grads["bias"][...] = db
        return dx

    def output_shape(self, input_shape):
        H, W, _ = input_shape
        F, _, KH, KW = self.params["weight"].shape
        return (
            (H + 2 * self.pad[0] - KH) // self.stride[0] + 1,
            (W + 2 * self.pad[1] - KW) // self.stride[1] + 1,
            F,
        )


class MaxPool2d(Layer):
    """Max pooling, windows may overlap; ties go to the first maximum."""

    def __init__(self, name, size, stride, pad=0):
        super().__init__(name)
        self.size = _checks.check_pair("size", size, 1)
        self.stride = _checks.check_pair("stride", stride, 1)
        self.pad = _checks.check_pair("pad", pad, 0)
        self._ws = cl.Workspace()

    def forward(self, x, train=False):
        y, argmax = cl.max_pool_forward(
            x, self.size, self.stride, self.pad, need_argmax=train, ws=self._ws
        )
        if train:
            self._cache = (x.shape, argmax)
        return y

    def backward(self, dy):
        x_shape, argmax = self._cache
        return cl.max_pool_backward(
            dy, argmax, x_shape, self.size, self.stride, self.pad, self._ws
        )

    def output_shape(self, input_shape):
        H, W, C = input_shape
        (KH, KW), (sh, sw), (ph, pw) = self.size, self.stride, self.pad
        return ((H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1, C)


class AvgPool2d(MaxPool2d):
    """Average pooling, padded zeros counted (PyTorch's default)."""

    def forward(self, x, train=False):
        if train:
            self._cache = x.shape
        return cl.avg_pool_forward(x, self.size, self.stride, self.pad, self._ws)

    def backward(self, dy):
        return cl.avg_pool_backward(dy, self._cache, self.size, self.stride, self.pad)


class LocalResponseNorm(Layer):
    """LRN across channels, y_c = x_c / (k + alpha/size sum x_j^2)^beta."""

    def __init__(self, name, size=5, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__(name)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x, train=False):
        y, cache = cl.lrn_forward(x, self.size, self.alpha, self.beta, self.k)
        if train:
            self._cache = (x, y, cache)
        return y

    def backward(self, dy):
        x, y, cache = self._cache
        return cl.lrn_backward(dy, x, y, cache, self.size, self.alpha, self.beta)


class Flatten(Layer):
    """(N, H, W, C) -> (N, C*H*W), flattened in NCHW order.

    The order is PyTorch's and Caffe's, so the next linear layer's weight
    (out, C*H*W) compares directly with theirs.
    """

    def forward(self, x, train=False):
        N, H, W, C = x.shape
        if train:
            self._shape = x.shape
        return x.transpose(0, 3, 1, 2).reshape(
            N, C * H * W
        )  # (N, C, H, W) flattened: a copy

    def backward(self, dy):
        N, H, W, C = self._shape
        return dy.reshape(N, C, H, W).transpose(
            0, 2, 3, 1
        )  # back to (N, H, W, C), a view

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Linear(Layer):
    """Fully connected (+ ReLU): (N, in) -> (N, out); weight (out, in)."""

    def __init__(self, name, in_features, out_features, relu=True, rng=None):
        super().__init__(name)
        self.relu = relu
        rng = _checks.to_generator(0 if rng is None else rng)
        if relu:
            weight = _he_normal(rng, (out_features, in_features), in_features, 2.0)
        else:
            # The classifier starts near zero (std 0.01, as Caffe's AlexNet
            # fc8), so the first softmax is almost uniform and the first loss
            # is about ln(classes), whatever the scale of the features below.
            weight = (rng.standard_normal((out_features, in_features)) * 0.01).astype(
                np.float32
            )
        self.params = {
            "weight": weight,
            "bias": np.zeros(out_features, np.float32),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, train=False):
        y = x @ self.params["weight"].T  # (N, in) @ (in, out) -> (N, out)
        y += self.params["bias"]
        if self.relu:
            np.maximum(y, 0, out=y)
        if train:
            self._cache = (x, y)
        return y

    def backward(self, dy):
        x, y = self._cache
        if self.relu:
            dy = dy * (y > 0)
        np.matmul(dy.T, x, out=self.grads["weight"])  # (out, N) @ (N, in)
        np.sum(dy, axis=0, out=self.grads["bias"])
        return dy @ self.params["weight"] if self.input_grad else None

    def output_shape(self, input_shape):
        return (self.params["weight"].shape[0],)


class Dropout(Layer):
    """Inverted dropout with its own Generator; the identity at evaluation."""

    def __init__(self, name, p=0.5, rng=None):
        super().__init__(name)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p!r}")
        self.p = p
        self.rng = _checks.to_generator(0 if rng is None else rng)

    def forward(self, x, train=False):
        if not train or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep * np.asarray(1.0 / (1.0 - self.p), x.dtype)
        return x * self._mask

    def backward(self, dy):
        return dy if self._mask is None else dy * self._mask
