"""The naive loop kernels against independent oracles.

Oracles: PyTorch (forward and autograd backward, float64), scipy.signal for
one convolution that runs without torch, hand-worked small cases, and float64
numerical gradients from convlearn.nn.gradcheck for every backward.
"""

import numpy as np
import pytest
from scipy import signal

from convlearn.nn import gradcheck, naive


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is the oracle (.ci/run installs it)"
    )


def _rng(seed):
    return np.random.default_rng(seed)


def _distinct(rng, shape):
    """Values with gaps of at least 0.1, so that max-pool gradient checks avoid ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.1 - 0.05 * n).astype(np.float64)


def _grads_torch(torch, fn, dout, *arrays):
    """Run fn on torch copies of the arrays; return (y, [gradient of each array])."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(torch.tensor(dout))
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


err = gradcheck.relative_error

# (N, C, H, W), (F, KH, KW), stride, pad
CONV_CASES = [
    ((1, 3, 7, 7), (4, 3, 3), 1, 0),
    ((2, 2, 6, 9), (3, 2, 3), 2, 1),  # non-square kernel, stride 2
    ((2, 3, 9, 8), (2, 3, 1), 3, 2),  # stride 3, pad bigger than the kernel
    ((1, 2, 8, 7), (3, 3, 3), 3, 0),  # the floor drops a last row and column
    ((2, 1, 5, 6), (2, 3, 2), (2, 1), (0, 1)),  # (h, w) pairs
    ((1, 2, 3, 4), (2, 3, 4), 1, 0),  # the kernel covers the whole input
]
CONV_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}" for c in CONV_CASES]


def _conv_inputs(seed, xshape, kshape):
    rng = _rng(seed)
    F, KH, KW = kshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((F, xshape[1], KH, KW))
    b = rng.standard_normal(F)
    return rng, x, w, b


@pytest.mark.parametrize("xshape, kshape, stride, pad", CONV_CASES, ids=CONV_IDS)
def test_conv2d_matches_torch(torch, xshape, kshape, stride, pad):
    rng, x, w, b = _conv_inputs(0, xshape, kshape)
    y = naive.conv2d_naive(x, w, b, stride, pad)
    dy = rng.standard_normal(y.shape)
    F = torch.nn.functional
    y_t, (dx_t, dw_t, db_t) = _grads_torch(
        torch,
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad),
        dy,
        x,
        w,
        b,
    )
    dx, dw, db = naive.conv2d_backward_naive(dy, x, w, stride, pad)
    assert y.shape == y_t.shape
    assert err(y, y_t) < 1e-12
    assert err(dx, dx_t) < 1e-12
    assert err(dw, dw_t) < 1e-12
    assert err(db, db_t) < 1e-12


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_matches_scipy_correlate(stride, pad):
    _, x, w, b = _conv_inputs(1, (2, 3, 7, 8), (2, 3, 2))
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, F = x.shape[0], w.shape[0]
    expected = np.stack(
        [
            np.stack(
                [
                    signal.correlate(xp[n], w[f], mode="valid")[0, ::stride, ::stride]
                    + b[f]
                    for f in range(F)
                ]
            )
            for n in range(N)
        ]
    )
    y = naive.conv2d_naive(x, w, b, stride=stride, pad=pad)
    assert y.shape == expected.shape
    assert err(y, expected) < 1e-12


@pytest.mark.parametrize(
    "xshape, kshape, stride, pad", CONV_CASES[:5], ids=CONV_IDS[:5]
)
def test_conv2d_backward_numerical(xshape, kshape, stride, pad):
    rng, x, w, b = _conv_inputs(2, xshape, kshape)
    dy = rng.standard_normal(naive.conv2d_naive(x, w, b, stride, pad).shape)
    dx, dw, db = naive.conv2d_backward_naive(dy, x, w, stride, pad)
    conv = naive.conv2d_naive
    assert (
        gradcheck.check_gradient(lambda v: conv(v, w, b, stride, pad), x, dy, dx) < 1e-8
    )
    assert (
        gradcheck.check_gradient(lambda v: conv(x, v, b, stride, pad), w, dy, dw) < 1e-8
    )
    assert (
        gradcheck.check_gradient(lambda v: conv(x, w, v, stride, pad), b, dy, db) < 1e-8
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    rng = _rng(3)
    x = rng.standard_normal((1, 2, 5, 5)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
    y = naive.conv2d_naive(x, w, stride=2, pad=1)
    dx, dw, db = naive.conv2d_backward_naive(np.ones_like(y), x, w, stride=2, pad=1)
    outputs = [
        y,
        dx,
        dw,
        db,
        naive.max_pool2d_naive(x, 3, 2, 1),
        naive.max_pool2d_backward_naive(np.ones((1, 2, 3, 3), dtype), x, 3, 2, 1),
        naive.avg_pool2d_naive(x, 2, 2),
        naive.avg_pool2d_backward_naive(np.ones((1, 2, 2, 2), dtype), x, 2, 2),
        naive.local_response_norm_naive(x, 3),
        naive.local_response_norm_backward_naive(np.ones_like(x), x, 3),
    ]
    assert [o.dtype for o in outputs] == [dtype] * len(outputs)


# (N, C, H, W), size, stride, pad
POOL_CASES = [
    ((2, 3, 6, 6), 2, 2, 0),
    ((1, 2, 7, 7), 3, 2, 0),  # overlapping pooling, as in AlexNet
    ((2, 2, 8, 7), 3, 2, 1),  # overlapping, padded, odd width
    ((1, 3, 7, 9), 3, 3, 1),  # stride 3
    ((2, 1, 7, 8), (2, 3), (1, 2), (1, 1)),  # non-square window, (h, w) pairs
    ((1, 2, 5, 5), (3, 1), 2, (1, 0)),
]
POOL_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}" for c in POOL_CASES]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_pool_matches_torch(torch, kind, xshape, size, stride, pad):
    rng = _rng(4)
    x = rng.standard_normal(xshape)
    forward = getattr(naive, f"{kind}_pool2d_naive")
    backward = getattr(naive, f"{kind}_pool2d_backward_naive")
    y = forward(x, size, stride, pad)
    dy = rng.standard_normal(y.shape)
    torch_pool = getattr(torch.nn.functional, f"{kind}_pool2d")
    y_t, (dx_t,) = _grads_torch(
        torch, lambda t: torch_pool(t, size, stride, pad), dy, x
    )
    dx = backward(dy, x, size, stride, pad)
    assert y.shape == y_t.shape
    assert err(y, y_t) < 1e-12
    assert err(dx, dx_t) < 1e-12


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_pool_backward_numerical(kind, xshape, size, stride, pad):
    rng = _rng(5)
    x = _distinct(rng, xshape)
    forward = getattr(naive, f"{kind}_pool2d_naive")
    backward = getattr(naive, f"{kind}_pool2d_backward_naive")
    dy = rng.standard_normal(forward(x, size, stride, pad).shape)
    dx = backward(dy, x, size, stride, pad)
    rel = gradcheck.check_gradient(lambda v: forward(v, size, stride, pad), x, dy, dx)
    assert rel < 1e-8


@pytest.mark.parametrize(
    "size, stride, pad", [(3, 2, 0), (2, 2, 0), (3, 2, 1), ((2, 3), 1, (1, 0))]
)
def test_max_pool_tie_goes_to_first_element(torch, size, stride, pad):
    # All-equal input: every window is one big tie.
    x = np.full((1, 2, 7, 6), 0.5)
    y = naive.max_pool2d_naive(x, size, stride, pad)
    dy = _rng(6).standard_normal(y.shape)
    dx = naive.max_pool2d_backward_naive(dy, x, size, stride, pad)
    (sh, sw), (ph, pw) = [(v, v) if np.ndim(v) == 0 else v for v in (stride, pad)]
    # The first real element of a window: its top-left corner, clipped past the padding.
    expected = np.zeros_like(x)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            expected[:, :, max(i * sh - ph, 0), max(j * sw - pw, 0)] += dy[:, :, i, j]
    _, (dx_t,) = _grads_torch(
        torch, lambda t: torch.nn.functional.max_pool2d(t, size, stride, pad), dy, x
    )
    assert np.array_equal(y, np.full(y.shape, 0.5))
    assert np.array_equal(dx, expected)
    assert np.array_equal(dx, dx_t)


def test_max_pool_padding_never_wins():
    x = -1.0 - np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)  # all negative
    y = naive.max_pool2d_naive(x, 2, 2, pad=1)
    # Windows of the padded 6x6 input; the corners see one real element each.
    expected = np.array([[-1.0, -2.0, -4.0], [-5.0, -6.0, -8.0], [-13.0, -14.0, -16.0]])
    assert np.array_equal(y[0, 0], expected)


def test_avg_pool_padding_counts_in_the_average():
    x = np.ones((1, 1, 2, 2))
    y = naive.avg_pool2d_naive(x, 2, 2, pad=1)
    # Each 2x2 window of the padded 4x4 input holds one 1 and three padded zeros.
    assert np.array_equal(y, np.full((1, 1, 2, 2), 0.25))
    dx = naive.avg_pool2d_backward_naive(np.ones_like(y), x, 2, 2, pad=1)
    assert np.array_equal(dx, np.full_like(x, 0.25))


# (N, C, H, W), size, alpha, beta, k
LRN_CASES = [
    ((2, 7, 3, 4), 5, 1e-4, 0.75, 1.0),  # the defaults
    ((1, 6, 2, 3), 3, 0.5, 0.75, 2.0),  # a strong normalisation, so its term matters
    ((2, 5, 3, 2), 4, 1.0, 0.6, 1.5),  # an even window: lopsided about c
    ((1, 3, 4, 3), 7, 0.8, 1.2, 1.0),  # window wider than the channels
    ((1, 4, 3, 3), 1, 0.3, 0.75, 1.0),  # each channel alone
]
LRN_IDS = [f"x{c[0]}-n{c[1]}-a{c[2]}-b{c[3]}-k{c[4]}" for c in LRN_CASES]


@pytest.mark.parametrize("xshape, size, alpha, beta, k", LRN_CASES, ids=LRN_IDS)
def test_lrn_matches_torch(torch, xshape, size, alpha, beta, k):
    rng = _rng(7)
    x = 2.0 * rng.standard_normal(xshape)
    dy = rng.standard_normal(xshape)
    y_t, (dx_t,) = _grads_torch(
        torch,
        lambda t: torch.nn.functional.local_response_norm(t, size, alpha, beta, k),
        dy,
        x,
    )
    y = naive.local_response_norm_naive(x, size, alpha, beta, k)
    dx = naive.local_response_norm_backward_naive(dy, x, size, alpha, beta, k)
    assert err(y, y_t) < 1e-12
    assert err(dx, dx_t) < 1e-12


@pytest.mark.parametrize("xshape, size, alpha, beta, k", LRN_CASES, ids=LRN_IDS)
def test_lrn_backward_numerical(xshape, size, alpha, beta, k):
    rng = _rng(8)
    x = 2.0 * rng.standard_normal(xshape)
    dy = rng.standard_normal(xshape)
    dx = naive.local_response_norm_backward_naive(dy, x, size, alpha, beta, k)
    lrn = naive.local_response_norm_naive
    rel = gradcheck.check_gradient(lambda v: lrn(v, size, alpha, beta, k), x, dy, dx)
    assert rel < 1e-8


def test_lrn_hand_worked():
    # Two channels, size 3: each channel's window holds both channels.
    x = np.array([3.0, 4.0]).reshape(1, 2, 1, 1)
    y = naive.local_response_norm_naive(x, size=3, alpha=3.0, beta=0.5, k=1.0)
    # s = 1 + (3/3) * (9 + 16) = 26 for both channels.
    assert np.allclose(
        y.ravel(), [3.0 / np.sqrt(26.0), 4.0 / np.sqrt(26.0)], rtol=1e-15
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: naive.conv2d_naive(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 2, 2))),
            "channels",
        ),
        (
            lambda: naive.conv2d_naive(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))),
            "fit",
        ),
        (
            lambda: naive.conv2d_naive(
                np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=0
            ),
            "stride",
        ),
        (lambda: naive.max_pool2d_naive(np.zeros((1, 1, 4, 4)), 2, 2, pad=2), "pad"),
        (lambda: naive.avg_pool2d_naive(np.zeros((1, 4, 4)), 2, 2), r"\(N, C, H, W\)"),
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_integer_input_raises_type_error():
    with pytest.raises(TypeError, match="x must be a float32 or float64"):
        naive.max_pool2d_naive(np.zeros((1, 1, 4, 4), dtype=np.int64), 2, 2)


# gradcheck itself: the checks above rely on it.


def test_numerical_gradient_of_a_known_function_leaves_x_alone():
    rng = _rng(9)
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    dout = rng.standard_normal((3, 4))
    g = gradcheck.numerical_gradient(lambda v: v**3, x, dout)
    assert np.array_equal(x, x_before)
    assert err(g, 3 * x**2 * dout) < 1e-8


def test_gradcheck_catches_a_wrong_gradient():
    x = np.linspace(-1.0, 1.0, 6)
    dout = np.ones(6)
    assert gradcheck.check_gradient(np.sin, x, dout, np.cos(x)) < 1e-9
    assert gradcheck.check_gradient(np.sin, x, dout, 1.01 * np.cos(x)) > 1e-3


def test_gradcheck_demands_float64_and_guards_zero():
    x32 = np.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError, match="x must be a float64"):
        gradcheck.numerical_gradient(lambda v: v, x32, np.ones(3))
    with pytest.raises(TypeError, match=r"f\(x\) must be a float64"):
        gradcheck.numerical_gradient(
            lambda v: v.astype(np.float32), np.zeros(3), np.ones(3)
        )
    assert gradcheck.relative_error(np.array([0.5, -2.0]), np.zeros(2)) == 2.0
    assert gradcheck.relative_error(np.array([1.0, 3.0]), np.array([1.0, 4.0])) == 0.25
