"""Tests for convlearn.nn.layers: every Layer's backward against float64 central
differences (input and parameter gradients), forwards against the naive loop
kernels, and the small contracts (Flatten's NCHW order, input_grad, Dropout).

Layers pass activations channels-last, (N, H, W, C); the naive references take
NCHW, so the tests transpose at the boundary.
"""

import numpy as np
import pytest

from convlearn.nn import layers as L
from convlearn.nn.gradcheck import check_gradient, relative_error
from convlearn.nn.naive import (
    avg_pool2d_naive,
    conv2d_naive,
    local_response_norm_naive,
    max_pool2d_naive,
)

GRAD_TOL = 1e-7  # float64 central differences with eps = 1e-6 land near 1e-9


def to_nchw(x):
    return x.transpose(0, 3, 1, 2)


def to_nhwc(x):
    return x.transpose(0, 2, 3, 1)


def as_float64(layer):
    """Replace the layer's params and grads by float64 copies; returns the layer."""
    for key in list(layer.params):
        layer.params[key] = layer.params[key].astype(np.float64)
        layer.grads[key] = np.zeros_like(layer.params[key])
    return layer


def distinct_values(rng, shape, gap=0.05):
    """float64 values, pairwise at least ``gap`` apart: max pools without (near) ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * gap - n * gap / 2).reshape(shape).astype(np.float64)


def grad_check_layer(layer, x, rng, run=None):
    """Check d(sum(y * dout))/d(x) and /d(every param) of a float64 layer.

    ``run(x)`` is the forward used for both the analytic and the numerical
    gradients (default: ``layer.forward(x, train=True)``); a Dropout test
    passes one that re-seeds the mask so every call draws the same one.
    Returns {"x": err, "<param>": err, ...} and asserts each is < GRAD_TOL.
    """
    if run is None:

        def run(inp):
            return layer.forward(inp, train=True)

    y = run(x.copy())
    assert y.dtype == np.float64
    dout = rng.standard_normal(y.shape)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)  # backward never writes into dout
    dx = np.array(dx)  # a copy: later forwards may reuse the layer's buffers
    grads = {k: np.array(g) for k, g in layer.grads.items()}

    errors = {"x": check_gradient(lambda inp: np.array(run(inp)), x, dout, dx)}
    for key, value in layer.params.items():
        assert grads[key].shape == value.shape and grads[key].dtype == np.float64

        def f(p, key=key):
            old = layer.params[key]
            layer.params[key] = p
            try:
                return np.array(run(x))
            finally:
                layer.params[key] = old

        errors[key] = check_gradient(f, value.copy(), dout, grads[key])
    bad = {k: e for k, e in errors.items() if not e < GRAD_TOL}
    assert not bad, f"{layer!r}: relative errors above {GRAD_TOL}: {bad}"
    return errors


# --------------------------------------------------------------------------
# Conv2d

CONV_CASES = [
    # (N, H, W, C, F, kernel, stride, pad, relu)
    (2, 6, 5, 3, 4, 3, 1, 0, True),
    (2, 6, 5, 3, 4, 3, 1, 0, False),
    (1, 7, 7, 2, 3, 3, 2, 1, True),  # stride 2 with padding, N = 1
    (2, 7, 6, 3, 2, (3, 2), 2, 1, False),  # non-square kernel, stride 2
    (2, 5, 8, 2, 3, (2, 3), (2, 1), (0, 2), True),  # non-square stride and pad
    (2, 5, 5, 4, 3, 5, 1, 2, True),  # "same" 5x5, as in conv1
    (1, 4, 4, 3, 2, 1, 1, 0, False),  # 1x1 kernel
    (1, 6, 6, 2, 2, 4, 3, 1, True),  # stride larger than 1 that drops a border
]


@pytest.mark.parametrize("N, H, W, C, F, kernel, stride, pad, relu", CONV_CASES)
def test_conv2d_gradients(N, H, W, C, F, kernel, stride, pad, relu):
    rng = np.random.default_rng(100 + H * W + F)
    layer = as_float64(L.Conv2d("conv", C, F, kernel, stride, pad, relu=relu, rng=1))
    layer.params["bias"][...] = (
        rng.standard_normal(F) * 0.1
    )  # non-zero bias, so db matters
    x = rng.standard_normal((N, H, W, C))
    errors = grad_check_layer(layer, x, rng)
    assert set(errors) == {"x", "weight", "bias"}


@pytest.mark.parametrize("N, H, W, C, F, kernel, stride, pad, relu", CONV_CASES)
def test_conv2d_forward_matches_naive(N, H, W, C, F, kernel, stride, pad, relu):
    rng = np.random.default_rng(7)
    layer = as_float64(L.Conv2d("conv", C, F, kernel, stride, pad, relu=relu, rng=2))
    layer.params["bias"][...] = rng.standard_normal(F)
    x = rng.standard_normal((N, H, W, C))
    y = layer.forward(x)
    ref = conv2d_naive(
        to_nchw(x), layer.params["weight"], layer.params["bias"], stride, pad
    )
    if relu:
        ref = np.maximum(ref, 0)
        assert y.min() >= 0
    else:
        assert y.min() < 0  # relu=False really keeps negatives
    assert y.shape == (N, *layer.output_shape((H, W, C)))
    assert relative_error(y, to_nhwc(ref)) < 1e-12


def test_conv2d_float32_stays_float32():
    layer = L.Conv2d("conv", 3, 4, 3, pad=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    y = layer.forward(x, train=True)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.grads["weight"].dtype == np.float32


def test_conv2d_input_grad_false_gives_none_and_same_param_grads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3))
    dout = rng.standard_normal((2, 3, 3, 4))
    grads = []
    for input_grad in (True, False):
        layer = as_float64(L.Conv2d("conv", 3, 4, 3, stride=2, pad=1, rng=5))
        layer.input_grad = input_grad
        layer.forward(x, train=True)
        dx = layer.backward(dout)
        assert (dx is None) == (not input_grad)
        grads.append({k: v.copy() for k, v in layer.grads.items()})
    for key in ("weight", "bias"):
        np.testing.assert_array_equal(grads[0][key], grads[1][key])


def test_conv2d_same_seed_same_weights_and_he_scale():
    a = L.Conv2d("a", 16, 32, 3, rng=4)
    b = L.Conv2d("b", 16, 32, 3, rng=4)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    # He et al.: std sqrt(2 / fan_in), fan_in = 16*3*3
    assert a.params["weight"].std() == pytest.approx(np.sqrt(2 / 144), rel=0.05)
    assert a.params["weight"].dtype == np.float32 and not a.params["bias"].any()


# --------------------------------------------------------------------------
# pooling

POOL_CASES = [
    # (N, H, W, C, size, stride, pad)
    (2, 7, 7, 3, 3, 2, 0),  # overlapping windows, as in the paper's pools
    (1, 8, 7, 2, 3, 2, 1),  # overlapping, padded
    (2, 6, 6, 2, 2, 2, 0),  # disjoint windows
    (2, 6, 9, 2, (3, 2), (1, 2), (1, 0)),  # non-square everything
    (1, 5, 5, 1, 3, 1, 0),  # stride 1: every input in up to nine windows
]


@pytest.mark.parametrize("N, H, W, C, size, stride, pad", POOL_CASES)
def test_max_pool_gradients(N, H, W, C, size, stride, pad):
    rng = np.random.default_rng(20 + H + W)
    layer = L.MaxPool2d("pool", size, stride, pad)
    x = distinct_values(rng, (N, H, W, C))  # no ties within eps: off the kinks
    errors = grad_check_layer(layer, x, rng)
    assert set(errors) == {"x"}


@pytest.mark.parametrize("N, H, W, C, size, stride, pad", POOL_CASES)
def test_max_pool_forward_matches_naive(N, H, W, C, size, stride, pad):
    rng = np.random.default_rng(1)
    layer = L.MaxPool2d("pool", size, stride, pad)
    x = rng.standard_normal((N, H, W, C)) - 5.0  # all negative: a padded 0 must not win
    y = layer.forward(x)
    np.testing.assert_array_equal(
        y, to_nhwc(max_pool2d_naive(to_nchw(x), size, stride, pad))
    )
    assert y.shape == (N, *layer.output_shape((H, W, C)))


def test_max_pool_tie_goes_to_first_maximum():
    # Constant input: every window ties; the gradient must go to the window's
    # first element in row-major order (PyTorch's rule), here its top-left.
    layer = L.MaxPool2d("pool", 2, 2)
    x = np.zeros((1, 4, 4, 1))
    layer.forward(x, train=True)
    dy = np.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    dx = layer.backward(dy)[0, :, :, 0]
    expected = np.zeros((4, 4))
    expected[::2, ::2] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_overlapping_windows_add_up():
    # size 3, stride 2: the centre input of a 5x5 map wins all four windows.
    layer = L.MaxPool2d("pool", 3, 2)
    x = np.zeros((1, 5, 5, 1))
    x[0, 2, 2, 0] = 10.0
    y = layer.forward(x, train=True)
    np.testing.assert_array_equal(y[0, :, :, 0], np.full((2, 2), 10.0))
    dx = layer.backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1))
    assert dx[0, 2, 2, 0] == 10.0 and np.count_nonzero(dx) == 1


@pytest.mark.parametrize("N, H, W, C, size, stride, pad", POOL_CASES)
def test_avg_pool_gradients(N, H, W, C, size, stride, pad):
    rng = np.random.default_rng(40 + H + W)
    layer = L.AvgPool2d("pool", size, stride, pad)
    x = rng.standard_normal((N, H, W, C))
    errors = grad_check_layer(layer, x, rng)
    y = layer.forward(x)
    ref = avg_pool2d_naive(to_nchw(x), size, stride, pad)
    assert relative_error(y, to_nhwc(ref)) < 1e-12
    assert set(errors) == {"x"}


# --------------------------------------------------------------------------
# local response normalisation

LRN_CASES = [
    # (C, size, alpha, beta, k): alpha large enough that the normaliser matters
    (7, 5, 2.0, 0.75, 1.0),  # beta = 0.75 takes the two-square-root path
    (7, 5, 2.0, 0.5, 2.0),  # any other beta takes the power path
    (6, 3, 1.5, 0.75, 1.0),
    (6, 4, 1.0, 0.75, 0.5),  # even size: the window is asymmetric
    (3, 5, 3.0, 1.2, 1.0),  # window wider than the channels
    (8, 5, 1e-4, 0.75, 1.0),  # the paper's constants
]


@pytest.mark.parametrize("C, size, alpha, beta, k", LRN_CASES)
def test_lrn_gradients(C, size, alpha, beta, k):
    rng = np.random.default_rng(60 + C + size)
    layer = L.LocalResponseNorm("norm", size, alpha, beta, k)
    x = rng.standard_normal((2, 3, 4, C)) * 1.5
    errors = grad_check_layer(layer, x, rng)
    assert set(errors) == {"x"}


@pytest.mark.parametrize("C, size, alpha, beta, k", LRN_CASES)
def test_lrn_forward_matches_formula(C, size, alpha, beta, k):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 2, C)) * 2
    y = L.LocalResponseNorm("norm", size, alpha, beta, k).forward(x)
    # Written out here: channel c sums x_j^2 over j = c - size//2 .. c + (size-1)//2.
    ref = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C, c + (size - 1) // 2 + 1)
        s = k + alpha / size * np.sum(x[..., lo:hi] ** 2, axis=-1)
        ref[..., c] = x[..., c] / s**beta
    assert relative_error(y, ref) < 1e-13
    naive = to_nhwc(local_response_norm_naive(to_nchw(x), size, alpha, beta, k))
    assert relative_error(y, naive) < 1e-13


# --------------------------------------------------------------------------
# Flatten


def test_flatten_is_nchw_order_and_gradients():
    rng = np.random.default_rng(8)
    N, H, W, C = 2, 3, 4, 5
    x = rng.standard_normal((N, H, W, C))
    layer = L.Flatten("flatten")
    y = layer.forward(x, train=True)
    np.testing.assert_array_equal(y, x.transpose(0, 3, 1, 2).reshape(N, -1))
    assert layer.output_shape((H, W, C)) == (C * H * W,)
    # entry (n, c*H*W + h*W + w) is x[n, h, w, c]
    assert y[1, 2 * H * W + 1 * W + 3] == x[1, 1, 3, 2]
    dx = layer.backward(y)
    np.testing.assert_array_equal(dx, x)  # the inverse permutation
    errors = grad_check_layer(layer, x, rng)
    assert set(errors) == {"x"}


def test_flatten_output_does_not_alias_input():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    y = L.Flatten("flatten").forward(x)
    y[...] = -1
    assert x.min() == 0.0


# --------------------------------------------------------------------------
# Linear


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("N, n_in, n_out", [(3, 7, 5), (1, 4, 6)])
def test_linear_gradients(relu, N, n_in, n_out):
    rng = np.random.default_rng(80 + n_in)
    layer = as_float64(L.Linear("fc", n_in, n_out, relu=relu, rng=3))
    layer.params["bias"][...] = rng.standard_normal(n_out) * 0.1
    x = rng.standard_normal((N, n_in))
    errors = grad_check_layer(layer, x, rng)
    assert set(errors) == {"x", "weight", "bias"}
    y = layer.forward(x)
    ref = x @ layer.params["weight"].T + layer.params["bias"]
    np.testing.assert_allclose(
        y, np.maximum(ref, 0) if relu else ref, rtol=1e-13, atol=1e-13
    )
    assert layer.output_shape((n_in,)) == (n_out,)


def test_linear_input_grad_false():
    rng = np.random.default_rng(9)
    layer = as_float64(L.Linear("fc", 4, 3, rng=0))
    layer.input_grad = False
    x = rng.standard_normal((5, 4))
    dy = rng.standard_normal((5, 3))
    y = layer.forward(x, train=True)
    assert layer.backward(dy) is None
    masked = dy * (y > 0)
    np.testing.assert_allclose(layer.grads["weight"], masked.T @ x, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["bias"], masked.sum(axis=0), rtol=1e-13)


# --------------------------------------------------------------------------
# Dropout


@pytest.mark.parametrize("p", [0.5, 0.2])
@pytest.mark.parametrize("shape", [(3, 6), (2, 3, 3, 4)])
def test_dropout_gradients_with_fixed_mask(p, shape):
    rng = np.random.default_rng(11)
    layer = L.Dropout("drop", p)

    def run(inp):  # the same Generator state on every call: the same mask
        layer.rng = np.random.default_rng(123)
        return layer.forward(inp, train=True)

    x = rng.standard_normal(shape)
    errors = grad_check_layer(layer, x, rng, run=run)
    assert set(errors) == {"x"}
    y = run(x)
    scaled = y[y != 0] / x[y != 0]
    np.testing.assert_allclose(scaled, 1 / (1 - p), rtol=1e-15)  # inverted dropout
    assert 0 < np.count_nonzero(y == 0) < y.size


def test_dropout_rate_and_eval_identity():
    layer = L.Dropout("drop", 0.3, rng=0)
    x = np.ones((200, 100), np.float32)
    y = layer.forward(x, train=True)
    assert y.dtype == np.float32
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.01)
    assert np.mean(y) == pytest.approx(1.0, abs=0.02)  # expectation kept
    np.testing.assert_array_equal(layer.backward(x), y)  # same mask backward
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)  # eval: identity backward
    zero = L.Dropout("drop", 0.0)
    np.testing.assert_array_equal(zero.forward(x, train=True), x)


def test_dropout_masks_follow_the_seed():
    x = np.ones((10, 10))
    a = L.Dropout("a", 0.5, rng=1).forward(x, train=True)
    b = L.Dropout("b", 0.5, rng=1).forward(x, train=True)
    c = L.Dropout("c", 0.5, rng=2).forward(x, train=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        L.Dropout("drop", p)
