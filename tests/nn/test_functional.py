"""The public NCHW functions of convlearn.nn.functional against their oracles.

Oracles, in order of independence:

- float64 central-difference gradients (convlearn.nn.gradcheck) for every
  backward, on stride/pad corners, non-square kernels, odd sizes and N = 1;
- hand-worked small cases (max-pool ties, padding, LRN's window, ln K);
- scipy.signal.correlate for the convolution (runs without torch);
- the naive loops of convlearn.nn.naive, on a table of edge-case shapes;
- PyTorch CPU (forward and autograd backward) on seeded random configurations,
  float32 and float64. Those tests skip when torch is absent.

"Relative error" is the project's max|a - b| / max|b| (gradcheck.relative_error).
"""

import numpy as np
import pytest
from scipy import signal

from convlearn.nn import functional as F
from convlearn.nn import gradcheck, naive

err = gradcheck.relative_error

# Relative-error budget against PyTorch, per dtype.
TORCH_TOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="PyTorch CPU is the oracle; .ci/run installs it"
    )


def _rng(seed):
    return np.random.default_rng(seed)


def _distinct(rng, shape):
    """Values a shuffled grid apart by 0.1: no two are within 2*eps, so no max-pool tie moves."""
    n = int(np.prod(shape))
    return rng.permutation(n).reshape(shape) * 0.1 - 0.05 * n


def _off_zero(rng, shape):
    """Standard normals pushed at least 0.1 away from 0, the ReLU kink."""
    x = rng.standard_normal(shape)
    return x + 0.1 * np.sign(x) + (x == 0) * 0.1


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _out_hw(H, W, kernel, stride, pad):
    (KH, KW), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(pad)
    return (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


# --------------------------------------------------------------------------
# case tables shared by the gradient checks and the naive comparisons

# (N, C, H, W), (F, KH, KW), stride, pad
CONV_CASES = [
    ((1, 2, 5, 5), (3, 3, 3), 1, 0),  # N = 1
    ((2, 2, 7, 6), (2, 3, 2), 2, 1),  # stride 2, pad, non-square kernel
    ((1, 3, 8, 9), (2, 2, 3), 3, (1, 2)),  # stride 3, the floor drops a column
    ((2, 1, 7, 5), (2, 1, 1), (2, 3), 0),  # 1x1 kernel, (h, w) stride
    ((1, 2, 4, 3), (2, 4, 3), 1, 0),  # the kernel covers the whole input
    ((2, 2, 5, 7), (3, 5, 3), (3, 2), 2),  # pad 2, tall kernel
    ((1, 1, 1, 1), (1, 3, 3), 1, 1),  # a 1x1 image, all but one tap on padding
]
CONV_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}" for c in CONV_CASES]

# (N, C, H, W), size, stride, pad
POOL_CASES = [
    ((1, 2, 5, 5), 3, 2, 0),  # overlapping windows
    ((2, 1, 7, 6), 3, 2, 1),  # overlapping, padded
    ((1, 2, 6, 7), (2, 3), (2, 1), (1, 1)),  # non-square window
    ((2, 2, 9, 8), 2, 3, 0),  # stride > size: some inputs are in no window
    ((1, 1, 5, 4), (3, 2), 3, (1, 0)),
    ((1, 3, 4, 4), 2, 2, 0),  # the classic 2/2
    ((1, 1, 3, 3), 3, 1, 1),  # every window holds padding
]
POOL_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}" for c in POOL_CASES]

# (N, C, H, W), size, alpha, beta, k, magnitude of x
LRN_CASES = [
    ((1, 5, 3, 3), 5, 1e-4, 0.75, 1.0, 1.0),  # AlexNet's constants
    ((2, 7, 2, 3), 3, 1e-2, 0.75, 2.0, 100.0),  # large x: the scale dominates
    ((1, 4, 3, 2), 2, 1e-1, 0.5, 1.0, 3.0),  # even size: asymmetric window
    ((2, 3, 2, 2), 7, 1e-2, 1.0, 0.5, 100.0),  # window wider than C
    ((1, 6, 2, 2), 1, 0.5, 0.75, 1.0, 1.0),  # size 1: each channel alone
    ((1, 5, 2, 2), 4, 1e-2, 0.6, 1.5, 100.0),  # beta != 0.75 takes np.power
]
LRN_IDS = [f"x{c[0]}-n{c[1]}-a{c[2]}-b{c[3]}-k{c[4]}-m{c[5]:g}" for c in LRN_CASES]


def _conv_inputs(seed, xshape, kshape):
    rng = _rng(seed)
    Fo, KH, KW = kshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((Fo, xshape[1], KH, KW))
    b = rng.standard_normal(Fo)
    return rng, x, w, b


# --------------------------------------------------------------------------
# numerical gradient checks (float64)


@pytest.mark.parametrize("xshape, kshape, stride, pad", CONV_CASES, ids=CONV_IDS)
def test_conv2d_backward_numerical(xshape, kshape, stride, pad):
    rng, x, w, b = _conv_inputs(10, xshape, kshape)
    dy = rng.standard_normal(F.conv2d(x, w, b, stride, pad).shape)
    dx, dw, db = F.conv2d_backward(dy, x, w, stride, pad)
    check = gradcheck.check_gradient
    assert check(lambda v: F.conv2d(v, w, b, stride, pad), x, dy, dx) < 1e-7
    assert check(lambda v: F.conv2d(x, v, b, stride, pad), w, dy, dw) < 1e-7
    assert check(lambda v: F.conv2d(x, w, v, stride, pad), b, dy, db) < 1e-7


@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_backward_numerical(xshape, size, stride, pad):
    rng = _rng(11)
    x = _distinct(rng, xshape)
    dy = rng.standard_normal(F.max_pool2d(x, size, stride, pad).shape)
    dx = F.max_pool2d_backward(dy, x, size, stride, pad)
    assert (
        gradcheck.check_gradient(
            lambda v: F.max_pool2d(v, size, stride, pad), x, dy, dx
        )
        < 1e-7
    )


@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_avg_pool2d_backward_numerical(xshape, size, stride, pad):
    rng = _rng(12)
    x = rng.standard_normal(xshape)
    dy = rng.standard_normal(F.avg_pool2d(x, size, stride, pad).shape)
    dx = F.avg_pool2d_backward(dy, x, size, stride, pad)
    assert (
        gradcheck.check_gradient(
            lambda v: F.avg_pool2d(v, size, stride, pad), x, dy, dx
        )
        < 1e-7
    )


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (3, 7)])
def test_relu_backward_numerical(shape):
    rng = _rng(13)
    x = _off_zero(rng, shape)
    dy = rng.standard_normal(shape)
    dx = F.relu_backward(dy, x)
    assert gradcheck.check_gradient(F.relu, x, dy, dx) < 1e-7


@pytest.mark.parametrize("xshape, size, alpha, beta, k, scale", LRN_CASES, ids=LRN_IDS)
def test_local_response_norm_backward_numerical(xshape, size, alpha, beta, k, scale):
    rng = _rng(14)
    x = scale * rng.standard_normal(xshape)
    dy = rng.standard_normal(xshape)

    def f(v):
        return F.local_response_norm(v, size, alpha, beta, k)

    dx = F.local_response_norm_backward(dy, x, size, alpha, beta, k)
    # the step scales with x, so that round-off (~1e-16 |f| / eps) stays small
    assert gradcheck.check_gradient(f, x, dy, dx, eps=1e-6 * scale) < 1e-6


def test_local_response_norm_large_inputs_are_normalised():
    """With |x| ~ 100 and alpha = 1e-2 the denominator is far from 1: the test has teeth."""
    rng = _rng(15)
    x = 100.0 * rng.standard_normal((2, 7, 2, 3))
    y = F.local_response_norm(x, 3, 1e-2, 0.75, 2.0)
    assert np.max(np.abs(y)) < 0.2 * np.max(np.abs(x))
    assert np.all(np.sign(y) == np.sign(x))


@pytest.mark.parametrize("N, n_in, n_out", [(1, 3, 2), (4, 5, 3), (3, 1, 6)])
def test_linear_backward_numerical(N, n_in, n_out):
    rng = _rng(16)
    x = rng.standard_normal((N, n_in))
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    dy = rng.standard_normal((N, n_out))
    dx, dw, db = F.linear_backward(dy, x, w)
    check = gradcheck.check_gradient
    assert check(lambda v: F.linear(v, w, b), x, dy, dx) < 1e-7
    assert check(lambda v: F.linear(x, v, b), w, dy, dw) < 1e-7
    assert check(lambda v: F.linear(x, w, v), b, dy, db) < 1e-7


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_backward_numerical(p):
    rng = _rng(17)
    x = rng.standard_normal((3, 4, 2, 2))
    dy = rng.standard_normal(x.shape)
    _, mask = F.dropout(x, p, seed=5)
    dx = F.dropout_backward(dy, mask)
    # the same int seed draws the same mask in every call of f
    assert (
        gradcheck.check_gradient(lambda v: F.dropout(v, p, seed=5)[0], x, dy, dx) < 1e-7
    )


@pytest.mark.parametrize("N, K, scale", [(1, 2, 1.0), (5, 10, 1.0), (4, 3, 20.0)])
def test_softmax_cross_entropy_gradient_numerical(N, K, scale):
    rng = _rng(18)
    logits = scale * rng.standard_normal((N, K))
    labels = rng.integers(0, K, N)
    _, dlogits = F.softmax_cross_entropy(logits, labels)

    def loss(z):
        return np.array(F.softmax_cross_entropy(z, labels)[0])

    assert gradcheck.check_gradient(loss, logits, np.array(1.0), dlogits) < 1e-6


# --------------------------------------------------------------------------
# max-pool ties and padding, worked by hand


def test_max_pool_ties_all_equal_go_to_each_window_corner():
    x = np.full((1, 1, 4, 4), 7.0)
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 0, 0], expected[0, 0, 0, 2] = 1.0, 2.0
    expected[0, 0, 2, 0], expected[0, 0, 2, 2] = 3.0, 4.0
    np.testing.assert_array_equal(F.max_pool2d(x, 2, 2), np.full((1, 1, 2, 2), 7.0))
    np.testing.assert_array_equal(F.max_pool2d_backward(dy, x, 2, 2), expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_max_pool_tie_goes_to_first_in_row_major_order(dtype):
    # (0, 1) and (1, 0) tie; row-major order visits (0, 1) first
    x = np.array([[[[0.0, 5.0], [5.0, 1.0]]]], dtype)
    dx = F.max_pool2d_backward(np.ones((1, 1, 1, 1), dtype), x, 2, 2)
    np.testing.assert_array_equal(dx, np.array([[[[0.0, 1.0], [0.0, 0.0]]]], dtype))


def test_max_pool_ties_in_overlapping_windows():
    # size 3, stride 2 on 5x5: windows start at rows/cols 0 and 2.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 1, 2] = x[0, 0, 2, 1] = 9.0
    dy = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    dx = F.max_pool2d_backward(dy, x, 3, 2)
    expected = np.zeros((1, 1, 5, 5))
    expected[0, 0, 1, 2] = (
        1.0 + 10.0
    )  # first 9 of window (0,0); the only 9 of window (0,2)
    expected[0, 0, 2, 1] = 100.0  # the only 9 of window (2,0)
    expected[0, 0, 2, 2] = 1000.0  # window (2,2) is all zeros: its first cell wins
    np.testing.assert_array_equal(dx, expected)
    np.testing.assert_array_equal(
        F.max_pool2d(x, 3, 2), np.array([[[[9.0, 9.0], [9.0, 0.0]]]])
    )


def test_max_pool_tie_with_padding_goes_to_first_real_element():
    # padding is -inf, so even with all inputs negative it never wins nor takes the gradient
    x = np.full((1, 1, 3, 3), -3.0)
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(F.max_pool2d(x, 3, 2, 1), np.full((1, 1, 2, 2), -3.0))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, :2, :2] = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(F.max_pool2d_backward(dy, x, 3, 2, 1), expected)


def test_max_pool_tie_in_non_square_window():
    x = np.full((1, 1, 2, 3), 4.0)
    dx = F.max_pool2d_backward(np.full((1, 1, 1, 1), 2.5), x, (2, 3), 1)
    np.testing.assert_array_equal(dx, np.array([[[[2.5, 0, 0], [0, 0, 0]]]]))


def _tied_windows(seed, N, C, size):
    """x (N, C, size, size): each plane holds 1 at two positions a < b (row-major), else 0."""
    rng = _rng(seed)
    x = np.zeros((N, C, size * size))
    first = np.zeros((N, C), int)
    for n in range(N):
        for c in range(C):
            a, b = np.sort(rng.choice(size * size, 2, replace=False))
            x[n, c, [a, b]] = 1.0
            first[n, c] = a
    return x.reshape(N, C, size, size), first


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_max_pool_ties_per_channel_and_image(dtype):
    x, first = _tied_windows(19, 3, 4, 3)
    x = x.astype(dtype)
    dy = np.arange(1.0, 13.0, dtype=dtype).reshape(3, 4, 1, 1)
    dx = F.max_pool2d_backward(dy, x, 3, 3).reshape(3, 4, 9)
    expected = np.zeros((3, 4, 9), dtype)
    for n in range(3):
        for c in range(4):
            expected[n, c, first[n, c]] = dy[n, c, 0, 0]
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_ties_match_torch(torch):
    x, _ = _tied_windows(20, 2, 3, 4)
    x = np.concatenate([x, np.ones_like(x)], axis=3)  # a second, all-tied 4x4 block
    for size, stride, pad in [
        (4, 4, 0),
        (3, 2, 1),
        (2, 1, 1),
        ((4, 2), (2, 3), (2, 0)),
    ]:
        y = F.max_pool2d(x, size, stride, pad)
        dy = _rng(21).standard_normal(y.shape)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, size, stride, pad)
        yt.backward(torch.tensor(dy))
        np.testing.assert_array_equal(y, yt.detach().numpy())
        np.testing.assert_array_equal(
            F.max_pool2d_backward(dy, x, size, stride, pad), xt.grad.numpy()
        )


# --------------------------------------------------------------------------
# other hand-worked cases


def test_avg_pool_counts_padded_zeros():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = F.avg_pool2d(x, 2, 1, 1)
    expected = np.array([[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]) / 4.0
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-15)
    dx = F.avg_pool2d_backward(np.ones((1, 1, 3, 3)), x, 2, 1, 1)
    np.testing.assert_allclose(
        dx, np.ones((1, 1, 2, 2)), rtol=0, atol=1e-15
    )  # 4 windows x 1/4


def test_max_pool_floors_the_output_size():
    x = np.arange(49.0).reshape(1, 1, 7, 7)
    y = F.max_pool2d(
        x, 2, 2
    )  # (7 - 2) // 2 + 1 = 3: the last row and column are dropped
    np.testing.assert_array_equal(
        y, np.array([[[[8, 10, 12], [22, 24, 26], [36, 38, 40]]]])
    )


@pytest.mark.parametrize(
    "size, alpha, expected",
    [
        (1, 1.0, [1 / 2, 2 / 5, 3 / 10]),  # s_c = 1 + x_c^2
        (3, 3.0, [1 / 6, 2 / 15, 3 / 14]),  # c-1..c+1: 1+4, 1+4+9, 4+9
        (2, 2.0, [1 / 2, 2 / 6, 3 / 14]),  # even size: c-1..c: 1, 1+4, 4+9
    ],
)
def test_local_response_norm_window_by_hand(size, alpha, expected):
    # beta = 1, k = 1, alpha / size = 1: y_c = x_c / (1 + sum over window of x_j^2)
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    y = F.local_response_norm(x, size, alpha, 1.0, 1.0)
    np.testing.assert_allclose(y.ravel(), expected, rtol=1e-14)


def test_relu_kink_gets_zero_gradient():
    x = np.array([[-1.0, 0.0, -0.0, 2.0, 1e-300]])
    np.testing.assert_array_equal(F.relu(x), [[0.0, 0.0, 0.0, 2.0, 1e-300]])
    np.testing.assert_array_equal(
        F.relu_backward(np.full_like(x, 3.0), x), [[0.0, 0.0, 0.0, 3.0, 3.0]]
    )


def test_relu_kink_matches_torch(torch):
    x = np.array([[-1.0, 0.0, -0.0, 2.0], [0.0, 0.5, -0.5, 0.0]])
    dy = np.arange(1.0, 9.0).reshape(2, 4)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(dy))
    np.testing.assert_array_equal(F.relu_backward(dy, x), xt.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("K", [2, 10, 1000])
def test_softmax_cross_entropy_zero_logits_is_ln_k(dtype, K):
    labels = np.array([0, K - 1, K // 2])
    loss, dlogits = F.softmax_cross_entropy(np.zeros((3, K), dtype), labels)
    assert isinstance(loss, float)
    assert loss == pytest.approx(np.log(K), rel=1e-6 if dtype == np.float32 else 1e-13)
    expected = np.full((3, K), 1.0 / K)
    expected[np.arange(3), labels] -= 1.0
    np.testing.assert_allclose(
        dlogits, expected / 3, rtol=1e-5 if dtype == np.float32 else 1e-13
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_softmax_cross_entropy_huge_logits_by_hand(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype)
    loss, dlogits = F.softmax_cross_entropy(logits, np.array([0, 1, 2]))
    # per row: 0 (exp(-1e4) vanishes), 1e4, ln 3
    assert np.isfinite(loss)
    assert loss == pytest.approx((0.0 + 1e4 + np.log(3.0)) / 3, rel=1e-6)
    expected = np.array([[0.0, 0, 0], [1, -1, 0], [1 / 3, 1 / 3, -2 / 3]]) / 3
    assert np.all(np.isfinite(dlogits))
    np.testing.assert_allclose(dlogits, expected, rtol=0, atol=1e-7)


def test_flatten_is_c_order_and_undone_by_reshape():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    y = F.flatten(x)
    np.testing.assert_array_equal(y, np.arange(24.0).reshape(2, 12))
    np.testing.assert_array_equal(y.reshape(x.shape), x)


# --------------------------------------------------------------------------
# convolution against scipy.signal.correlate (no torch needed)


def _conv_scipy(x, w, b, stride, pad):
    """Sum over channels of 2-D 'valid' correlations of the zero-padded input, strided."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C = x.shape[:2]
    out = []
    for n in range(N):
        planes = []
        for f in range(w.shape[0]):
            acc = sum(
                signal.correlate(xp[n, c], w[f, c], mode="valid", method="direct")
                for c in range(C)
            )
            planes.append(acc[::sh, ::sw] + b[f])
        out.append(np.stack(planes))
    return np.stack(out)


@pytest.mark.parametrize("xshape, kshape, stride, pad", CONV_CASES, ids=CONV_IDS)
def test_conv2d_matches_scipy_correlate(xshape, kshape, stride, pad):
    _, x, w, b = _conv_inputs(22, xshape, kshape)
    expected = _conv_scipy(x, w, b, stride, pad)
    y = F.conv2d(x, w, b, stride, pad)
    assert (
        y.shape
        == expected.shape
        == (xshape[0], kshape[0], *_out_hw(*xshape[2:], kshape[1:], stride, pad))
    )
    assert err(y, expected) < 1e-12


def test_conv2d_without_bias_is_conv_with_zero_bias():
    _, x, w, b = _conv_inputs(23, (2, 3, 6, 5), (4, 3, 2))
    np.testing.assert_array_equal(
        F.conv2d(x, w, None, 2, 1), F.conv2d(x, w, np.zeros_like(b), 2, 1)
    )
    assert (
        err(F.conv2d(x, w, None, 2, 1), _conv_scipy(x, w, np.zeros_like(b), 2, 1))
        < 1e-12
    )


def test_conv2d_accepts_non_contiguous_input():
    _, x, w, b = _conv_inputs(24, (2, 3, 6, 7), (2, 3, 3))
    x_f = np.asfortranarray(x)
    x_rev = x[:, ::-1, ::-1][:, ::-1, ::-1]  # negative strides, same values
    w_t = np.ascontiguousarray(w.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    y = F.conv2d(x, w, b, 1, 1)
    np.testing.assert_allclose(F.conv2d(x_f, w_t, b, 1, 1), y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(F.conv2d(x_rev, w, b, 1, 1), y, rtol=0, atol=1e-12)
    dy = _rng(25).standard_normal(y.shape)
    for got, want in zip(
        F.conv2d_backward(np.asfortranarray(dy), x_f, w_t, 1, 1),
        F.conv2d_backward(dy, x, w, 1, 1),
    ):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# fast kernels against the naive loops (float64, 1e-12)


def _quantised(rng, shape):
    """Few distinct values: many exact ties, the hard case for max-pool routing."""
    return rng.integers(-2, 3, shape).astype(np.float64)


@pytest.mark.parametrize("xshape, kshape, stride, pad", CONV_CASES, ids=CONV_IDS)
def test_conv2d_matches_naive(xshape, kshape, stride, pad):
    rng, x, w, b = _conv_inputs(26, xshape, kshape)
    y = F.conv2d(x, w, b, stride, pad)
    assert err(y, naive.conv2d_naive(x, w, b, stride, pad)) < 1e-12
    dy = rng.standard_normal(y.shape)
    got = F.conv2d_backward(dy, x, w, stride, pad)
    want = naive.conv2d_backward_naive(dy, x, w, stride, pad)
    for name, g, e in zip(("dx", "dw", "db"), got, want):
        assert g.shape == e.shape, name
        assert err(g, e) < 1e-12, name


@pytest.mark.parametrize("values", ["distinct", "ties"])
@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_matches_naive(xshape, size, stride, pad, values):
    rng = _rng(27)
    x = _distinct(rng, xshape) if values == "distinct" else _quantised(rng, xshape)
    y = F.max_pool2d(x, size, stride, pad)
    np.testing.assert_array_equal(y, naive.max_pool2d_naive(x, size, stride, pad))
    dy = rng.standard_normal(y.shape)
    dx = F.max_pool2d_backward(dy, x, size, stride, pad)
    assert err(dx, naive.max_pool2d_backward_naive(dy, x, size, stride, pad)) < 1e-12


@pytest.mark.parametrize("xshape, size, stride, pad", POOL_CASES, ids=POOL_IDS)
def test_avg_pool2d_matches_naive(xshape, size, stride, pad):
    rng = _rng(28)
    x = rng.standard_normal(xshape)
    y = F.avg_pool2d(x, size, stride, pad)
    assert err(y, naive.avg_pool2d_naive(x, size, stride, pad)) < 1e-12
    dy = rng.standard_normal(y.shape)
    dx = F.avg_pool2d_backward(dy, x, size, stride, pad)
    assert err(dx, naive.avg_pool2d_backward_naive(dy, x, size, stride, pad)) < 1e-12


@pytest.mark.parametrize("xshape, size, alpha, beta, k, scale", LRN_CASES, ids=LRN_IDS)
def test_local_response_norm_matches_naive(xshape, size, alpha, beta, k, scale):
    rng = _rng(29)
    x = scale * rng.standard_normal(xshape)
    y = F.local_response_norm(x, size, alpha, beta, k)
    assert err(y, naive.local_response_norm_naive(x, size, alpha, beta, k)) < 1e-12
    dy = rng.standard_normal(xshape)
    dx = F.local_response_norm_backward(dy, x, size, alpha, beta, k)
    assert (
        err(dx, naive.local_response_norm_backward_naive(dy, x, size, alpha, beta, k))
        < 1e-12
    )


# --------------------------------------------------------------------------
# PyTorch cross-checks on seeded random configurations

N_RANDOM = 25


def _random_window(rng, max_k=4, max_stride=3, max_pad=2, pool=False):
    """A random (size, stride, pad, H, W) whose window fits the padded input."""
    KH, KW = (int(v) for v in rng.integers(1, max_k + 1, 2))
    sh, sw = (int(v) for v in rng.integers(1, max_stride + 1, 2))
    if pool:
        ph, pw = int(rng.integers(0, KH // 2 + 1)), int(rng.integers(0, KW // 2 + 1))
    else:
        ph, pw = (int(v) for v in rng.integers(0, max_pad + 1, 2))
    H = int(rng.integers(max(1, KH - 2 * ph), KH + 7))
    W = int(rng.integers(max(1, KW - 2 * pw), KW + 7))
    return _as_arg(KH, KW), _as_arg(sh, sw), _as_arg(ph, pw), H, W


def _as_arg(a, b):
    """An int where the two agree, a pair where they do not: both spellings get used."""
    return a if a == b else (a, b)


def _conv_configs():
    rng = _rng(100)
    for _ in range(N_RANDOM):
        kernel, stride, pad, H, W = _random_window(rng)
        N, C, Fo = (int(v) for v in rng.integers(1, 4, 3))
        yield (N, C, H, W), (Fo, *_pair(kernel)), stride, pad


def _pool_configs(seed):
    rng = _rng(seed)
    for _ in range(N_RANDOM):
        size, stride, pad, H, W = _random_window(rng, pool=True)
        N, C = (int(v) for v in rng.integers(1, 4, 2))
        yield (N, C, H, W), size, stride, pad


def _lrn_configs():
    rng = _rng(103)
    for _ in range(N_RANDOM):
        N, H, W = (int(v) for v in rng.integers(1, 4, 3))
        C = int(rng.integers(1, 9))
        size = int(rng.integers(1, 8))
        alpha = float(10 ** rng.uniform(-4, -1))
        beta = 0.75 if rng.random() < 0.5 else float(rng.uniform(0.3, 1.2))
        k = float(rng.uniform(0.5, 2.0))
        scale = float(rng.choice([1.0, 10.0, 100.0]))
        yield (N, C, H, W), size, alpha, beta, k, scale


def _ids(configs):
    return [f"cfg{i}" for i in range(len(configs))]


CONV_RANDOM = list(_conv_configs())
MAX_POOL_RANDOM = list(_pool_configs(101))
AVG_POOL_RANDOM = list(_pool_configs(102))
LRN_RANDOM = list(_lrn_configs())


def _torch_grads(torch, fn, dout, *arrays):
    """fn on torch copies of the arrays; returns (y, [gradient of each array]) as numpy."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    y.backward(torch.tensor(dout))
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def _assert_close(got, want, dtype, what):
    assert got.dtype == dtype, what
    assert got.shape == want.shape, what
    e = err(got, want)
    assert e <= TORCH_TOL[dtype], f"{what}: relative error {e:.3g}"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "xshape, kshape, stride, pad", CONV_RANDOM, ids=_ids(CONV_RANDOM)
)
def test_conv2d_matches_torch(torch, xshape, kshape, stride, pad, dtype):
    rng, x, w, b = _conv_inputs(30, xshape, kshape)
    x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
    y = F.conv2d(x, w, b, stride, pad)
    dy = rng.standard_normal(y.shape).astype(dtype)
    fn = torch.nn.functional.conv2d
    y_t, grads_t = _torch_grads(
        torch, lambda x, w, b: fn(x, w, b, stride=stride, padding=pad), dy, x, w, b
    )
    _assert_close(y, y_t, dtype, "y")
    for name, g, g_t in zip(
        ("dx", "dw", "db"), F.conv2d_backward(dy, x, w, stride, pad), grads_t
    ):
        _assert_close(g, g_t, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "xshape, size, stride, pad", MAX_POOL_RANDOM, ids=_ids(MAX_POOL_RANDOM)
)
def test_max_pool2d_matches_torch(torch, xshape, size, stride, pad, dtype):
    rng = _rng(31)
    x = rng.standard_normal(xshape).astype(dtype)
    y = F.max_pool2d(x, size, stride, pad)
    dy = rng.standard_normal(y.shape).astype(dtype)
    fn = torch.nn.functional.max_pool2d
    y_t, (dx_t,) = _torch_grads(torch, lambda x: fn(x, size, stride, pad), dy, x)
    _assert_close(y, y_t, dtype, "y")
    _assert_close(F.max_pool2d_backward(dy, x, size, stride, pad), dx_t, dtype, "dx")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "xshape, size, stride, pad", AVG_POOL_RANDOM, ids=_ids(AVG_POOL_RANDOM)
)
def test_avg_pool2d_matches_torch(torch, xshape, size, stride, pad, dtype):
    rng = _rng(32)
    x = rng.standard_normal(xshape).astype(dtype)
    y = F.avg_pool2d(x, size, stride, pad)
    dy = rng.standard_normal(y.shape).astype(dtype)
    fn = torch.nn.functional.avg_pool2d
    y_t, (dx_t,) = _torch_grads(
        torch, lambda x: fn(x, size, stride, pad, count_include_pad=True), dy, x
    )
    _assert_close(y, y_t, dtype, "y")
    _assert_close(F.avg_pool2d_backward(dy, x, size, stride, pad), dx_t, dtype, "dx")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "xshape, size, alpha, beta, k, scale", LRN_RANDOM, ids=_ids(LRN_RANDOM)
)
def test_local_response_norm_matches_torch(
    torch, xshape, size, alpha, beta, k, scale, dtype
):
    rng = _rng(33)
    x = (scale * rng.standard_normal(xshape)).astype(dtype)
    dy = rng.standard_normal(xshape).astype(dtype)
    fn = torch.nn.functional.local_response_norm
    y_t, (dx_t,) = _torch_grads(torch, lambda x: fn(x, size, alpha, beta, k), dy, x)
    _assert_close(F.local_response_norm(x, size, alpha, beta, k), y_t, dtype, "y")
    _assert_close(
        F.local_response_norm_backward(dy, x, size, alpha, beta, k), dx_t, dtype, "dx"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_relu_matches_torch(torch, seed, dtype):
    rng = _rng(200 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 5, rng.integers(1, 5)))
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y_t, (dx_t,) = _torch_grads(torch, torch.relu, dy, x)
    _assert_close(F.relu(x), y_t, dtype, "y")
    _assert_close(F.relu_backward(dy, x), dx_t, dtype, "dx")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_linear_matches_torch(torch, seed, dtype):
    rng = _rng(300 + seed)
    N, n_in, n_out = (int(v) for v in rng.integers(1, 9, 3))
    x = rng.standard_normal((N, n_in)).astype(dtype)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    dy = rng.standard_normal((N, n_out)).astype(dtype)
    y_t, grads_t = _torch_grads(torch, torch.nn.functional.linear, dy, x, w, b)
    _assert_close(F.linear(x, w, b), y_t, dtype, "y")
    for name, g, g_t in zip(("dx", "dw", "db"), F.linear_backward(dy, x, w), grads_t):
        _assert_close(g, g_t, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_flatten_matches_torch(torch, seed, dtype):
    rng = _rng(400 + seed)
    x = rng.standard_normal(tuple(int(v) for v in rng.integers(1, 5, 4))).astype(dtype)
    y = F.flatten(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, torch.flatten(torch.tensor(x), 1).numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_softmax_cross_entropy_matches_torch(torch, seed, dtype):
    rng = _rng(500 + seed)
    N, K = int(rng.integers(1, 7)), int(rng.integers(2, 11))
    scale = [1.0, 10.0, 1e4][seed % 3]  # every third case has logits of magnitude 1e4
    logits = (scale * rng.standard_normal((N, K))).astype(dtype)
    labels = rng.integers(0, K, N)
    loss, dlogits = F.softmax_cross_entropy(logits, labels)
    lt = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(lt, torch.tensor(labels))
    loss_t.backward()
    assert isinstance(loss, float) and np.isfinite(loss)
    assert abs(loss - loss_t.item()) <= TORCH_TOL[dtype] * max(abs(loss_t.item()), 1.0)
    assert np.all(np.isfinite(dlogits))
    _assert_close(dlogits, lt.grad.numpy(), dtype, "dlogits")


# --------------------------------------------------------------------------
# dtype kept, inputs untouched: every public function


def _calls(dtype):
    """name -> (function, positional args) for one small call of every public function."""
    rng = _rng(34)

    def a(*shape):
        return rng.standard_normal(shape).astype(dtype)

    x, w, b = a(2, 3, 6, 5), a(4, 3, 3, 2), a(4)
    xl, wl, bl = a(3, 5), a(2, 5), a(2)
    mask = F.dropout(a(2, 3), 0.5, seed=1)[1]
    return {
        "conv2d": (F.conv2d, (x, w, b, 2, 1)),
        "conv2d_backward": (F.conv2d_backward, (a(2, 4, 3, 3), x, w, 2, 1)),
        "max_pool2d": (F.max_pool2d, (x, 3, 2, 1)),
        "max_pool2d_backward": (F.max_pool2d_backward, (a(2, 3, 3, 3), x, 3, 2, 1)),
        "avg_pool2d": (F.avg_pool2d, (x, (3, 2), (2, 1), (1, 0))),
        "avg_pool2d_backward": (
            F.avg_pool2d_backward,
            (a(2, 3, 3, 4), x, (3, 2), (2, 1), (1, 0)),
        ),
        "relu": (F.relu, (x,)),
        "relu_backward": (F.relu_backward, (a(*x.shape), x)),
        "local_response_norm": (F.local_response_norm, (x, 3, 1e-2, 0.75, 2.0)),
        "local_response_norm_backward": (
            F.local_response_norm_backward,
            (a(*x.shape), x, 3, 1e-2, 0.75, 2.0),
        ),
        "linear": (F.linear, (xl, wl, bl)),
        "linear_backward": (F.linear_backward, (a(3, 2), xl, wl)),
        "dropout": (F.dropout, (x, 0.5, 7, True)),
        "dropout_backward": (F.dropout_backward, (a(2, 3), mask)),
        "flatten": (F.flatten, (x,)),
        "softmax_cross_entropy": (F.softmax_cross_entropy, (xl, np.array([0, 4, 2]))),
    }


def test_every_public_function_is_in_the_dtype_table():
    assert sorted(_calls(np.float64)) == sorted(F.__all__)


def _arrays(result):
    return [
        r
        for r in (result if isinstance(result, tuple) else (result,))
        if isinstance(r, np.ndarray)
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", sorted(F.__all__))
def test_dtype_kept_and_inputs_untouched(name, dtype):
    fn, args = _calls(dtype)[name]
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    result = fn(*args)
    outputs = _arrays(result)
    assert outputs, "every function returns at least one array"
    for out in outputs:
        assert out.dtype == dtype
    if name == "softmax_cross_entropy":
        assert isinstance(result[0], float)
    for before, after in zip(copies, args):
        if isinstance(before, np.ndarray):
            assert after.dtype == before.dtype
            np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize(
    "name", ["relu_backward", "dropout_backward", "linear_backward", "conv2d_backward"]
)
def test_gradients_do_not_alias_the_callers_arrays(name):
    fn, args = _calls(np.float64)[name]
    for out in _arrays(fn(*args)):
        for a in args:
            if isinstance(a, np.ndarray):
                assert not np.shares_memory(out, a)


# --------------------------------------------------------------------------
# dropout


def test_dropout_eval_is_identity_with_no_mask():
    x = _rng(35).standard_normal((3, 4, 5))
    y, mask = F.dropout(x, 0.5, seed=0, train=False)
    assert mask is None
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(F.dropout_backward(x, None), x)


def test_dropout_p_zero_keeps_everything():
    x = _rng(36).standard_normal((3, 4))
    y, _ = F.dropout(x, 0.0, seed=0)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_dropout_same_seed_same_mask(dtype):
    x = _rng(37).standard_normal((8, 16)).astype(dtype)
    y1, m1 = F.dropout(x, 0.5, seed=123)
    y2, m2 = F.dropout(x, 0.5, seed=123)
    _, m3 = F.dropout(x, 0.5, seed=124)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(m1, m3)
    assert m1.dtype == dtype


def test_dropout_generator_seed_advances():
    x = np.ones((8, 16))
    gen = np.random.default_rng(5)
    _, m1 = F.dropout(x, 0.5, seed=gen)
    _, m2 = F.dropout(x, 0.5, seed=gen)
    assert not np.array_equal(m1, m2)
    _, m1_again = F.dropout(x, 0.5, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(m1, m1_again)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_kept_fraction_and_scale(p):
    x = np.ones((1000, 1000))
    y, mask = F.dropout(x, p, seed=2016)
    kept = mask != 0
    # std of the kept fraction is sqrt(p (1-p) / 1e6) < 5e-4; 5e-3 is ten of them
    assert abs(kept.mean() - (1 - p)) < 5e-3
    np.testing.assert_allclose(mask[kept], 1.0 / (1.0 - p), rtol=1e-15)
    np.testing.assert_array_equal(y, x * mask)


def test_dropout_is_unbiased():
    x = _rng(38).uniform(0.5, 2.0, 50)
    y, _ = F.dropout(np.tile(x, (20000, 1)), 0.5, seed=7)
    # each column mean has std |x| sqrt(p / ((1-p) 20000)) ~ 0.007 |x|: 5% is 7 of them
    np.testing.assert_allclose(y.mean(axis=0), x, rtol=0.05)


def test_dropout_backward_is_dy_times_mask():
    rng = _rng(39)
    x, dy = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    _, mask = F.dropout(x, 0.3, seed=1)
    np.testing.assert_array_equal(F.dropout_backward(dy, mask), dy * mask)
    assert np.all(F.dropout_backward(dy, mask)[mask == 0] == 0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan")])
def test_dropout_rejects_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        F.dropout(np.ones((2, 2)), p)


# --------------------------------------------------------------------------
# bad input: ValueError / TypeError naming the argument

X4 = np.zeros((2, 3, 5, 5))
W4 = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda: F.conv2d(np.zeros((3, 5, 5)), W4),
        lambda: F.conv2d_backward(np.zeros((2, 4, 3, 3)), np.zeros((3, 5, 5)), W4),
        lambda: F.max_pool2d(np.zeros((3, 5, 5)), 2, 2),
        lambda: F.max_pool2d_backward(np.zeros((3, 2, 2)), np.zeros((3, 5, 5)), 2, 2),
        lambda: F.avg_pool2d(np.zeros((3, 5, 5)), 2, 2),
        lambda: F.avg_pool2d_backward(np.zeros((3, 2, 2)), np.zeros((3, 5, 5)), 2, 2),
        lambda: F.local_response_norm(np.zeros((3, 5, 5))),
        lambda: F.local_response_norm_backward(
            np.zeros((3, 5, 5)), np.zeros((3, 5, 5))
        ),
        lambda: F.linear(np.zeros((2, 3, 1)), np.zeros((4, 3)), None),
    ],
    ids=[
        "conv2d",
        "conv2d_bw",
        "max",
        "max_bw",
        "avg",
        "avg_bw",
        "lrn",
        "lrn_bw",
        "linear",
    ],
)
def test_wrong_ndim_of_x(call):
    with pytest.raises(ValueError, match=r"^x must be \d-D .*got shape \("):
        call()


def test_wrong_ndim_of_w_and_logits():
    with pytest.raises(ValueError, match=r"^w must be 4-D"):
        F.conv2d(X4, np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match=r"^logits must be 2-D"):
        F.softmax_cross_entropy(np.zeros(3), np.array([0]))


def test_channel_mismatch():
    with pytest.raises(
        ValueError, match=r"channel mismatch: x has C=3 .* w expects C=2"
    ):
        F.conv2d(X4, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"channel mismatch: x has C=3"):
        F.conv2d_backward(np.zeros((2, 4, 3, 3)), X4, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"x has 3 features .* expects 4"):
        F.linear(np.zeros((2, 3)), np.zeros((5, 4)), None)


def test_bias_of_wrong_shape():
    with pytest.raises(ValueError, match=r"b must have shape \(F,\) = \(4,\)"):
        F.conv2d(X4, W4, np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape \(out,\) = \(5,\)"):
        F.linear(np.zeros((2, 4)), np.zeros((5, 4)), np.zeros(4))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: F.conv2d(X4, np.zeros((4, 3, 6, 3))),
            r"^w: the 6x3 window is larger than the padded input 5x5",
        ),
        (
            lambda: F.conv2d(X4, np.zeros((4, 3, 8, 3)), pad=1),
            r"^w: the 8x3 window is larger than the padded input 7x7",
        ),
        (lambda: F.max_pool2d(X4, (2, 6), 1), r"^size: the 2x6 window is larger"),
        (lambda: F.avg_pool2d(X4, 6, 1), r"^size: the 6x6 window is larger"),
    ],
)
def test_window_larger_than_padded_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("size, pad", [(3, 2), (2, 2), ((3, 4), (1, 3)), (1, 1)])
def test_pool_pad_larger_than_half_window(fn, size, pad):
    with pytest.raises(ValueError, match=r"^pad must be at most half the window"):
        fn(X4, size, 1, pad)


@pytest.mark.parametrize(
    "labels, exc, match",
    [
        (np.array([0, 3]), ValueError, r"^labels must be in \[0, 3\), got 3"),
        (np.array([-1, 0]), ValueError, r"^labels must be in \[0, 3\), got -1"),
        (np.array([0, 1, 2]), ValueError, r"^labels must have shape \(2,\)"),
        (np.array([[0], [1]]), ValueError, r"^labels must have shape \(2,\)"),
        (
            np.array([0.0, 1.0]),
            TypeError,
            r"^labels must hold integers, got dtype float64",
        ),
        (np.array([True, False]), TypeError, r"^labels must hold integers"),
    ],
)
def test_bad_labels(labels, exc, match):
    with pytest.raises(exc, match=match):
        F.softmax_cross_entropy(np.zeros((2, 3)), labels)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits(bad):
    logits = np.zeros((2, 3))
    logits[1, 2] = bad
    with pytest.raises(ValueError, match=r"^logits must be finite"):
        F.softmax_cross_entropy(logits, np.array([0, 1]))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: F.conv2d(v, W4), "x"),
        (lambda v: F.conv2d(X4, v), "w"),
        (lambda v: F.max_pool2d(v, 2, 2), "x"),
        (lambda v: F.avg_pool2d(v, 2, 2), "x"),
        (lambda v: F.relu(v), "x"),
        (lambda v: F.local_response_norm(v), "x"),
        (lambda v: F.linear(v, np.zeros((2, 2)), None), "x"),
        (lambda v: F.dropout(v, 0.5), "x"),
        (lambda v: F.flatten(v), "x"),
        (lambda v: F.softmax_cross_entropy(v, np.array([0])), "logits"),
        (lambda v: F.relu_backward(v, np.zeros((1, 2))), "dy"),
        (lambda v: F.conv2d_backward(v, X4, W4), "dy"),
    ],
    ids=[
        "conv_x",
        "conv_w",
        "max",
        "avg",
        "relu",
        "lrn",
        "linear",
        "dropout",
        "flatten",
        "sce",
        "relu_dy",
        "conv_dy",
    ],
)
@pytest.mark.parametrize(
    "value, match",
    [
        ([[0.0, 1.0]], r"must be a numpy array, got list"),
        (np.zeros((1, 2), np.int64), r"must be float32 or float64, got dtype int64"),
        (
            np.zeros((1, 2), np.float16),
            r"must be float32 or float64, got dtype float16",
        ),
    ],
    ids=["list", "int64", "float16"],
)
def test_not_a_float_array(call, name, value, match):
    with pytest.raises(TypeError, match=rf"^{name} {match}"):
        call(value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: F.conv2d_backward(np.zeros((2, 4, 3, 4)), X4, W4),
        lambda: F.conv2d_backward(np.zeros((2, 4, 3, 3)), X4, W4, stride=2),
        lambda: F.max_pool2d_backward(np.zeros((2, 3, 3, 3)), X4, 2, 2),
        lambda: F.avg_pool2d_backward(np.zeros((2, 3, 2, 3)), X4, 2, 2),
        lambda: F.relu_backward(np.zeros((2, 3, 5)), X4),
        lambda: F.local_response_norm_backward(np.zeros((2, 3, 5, 4)), X4),
        lambda: F.linear_backward(np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((5, 3))),
        lambda: F.dropout_backward(np.zeros((4, 1)), np.ones((4, 3))),
    ],
    ids=["conv", "conv_stride", "max", "avg", "relu", "lrn", "linear", "dropout"],
)
def test_dy_of_wrong_shape(call):
    with pytest.raises(ValueError, match=r"^dy must have"):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: F.conv2d(X4.astype(np.float32), W4),
            r"^w must have the dtype of x \(float32\), got float64",
        ),
        (
            lambda: F.conv2d(X4, W4, np.zeros(4, np.float32)),
            r"^b must have the dtype of x \(float64\), got float32",
        ),
        (
            lambda: F.linear(np.zeros((2, 3), np.float32), np.zeros((4, 3)), None),
            r"^w must have the dtype of x",
        ),
        (
            lambda: F.conv2d_backward(np.zeros((2, 4, 3, 3), np.float32), X4, W4),
            r"^dy must have the dtype of x \(float64\)",
        ),
        (
            lambda: F.max_pool2d_backward(np.zeros((2, 3, 2, 2), np.float32), X4, 2, 2),
            r"^dy must have the dtype of x",
        ),
        (
            lambda: F.relu_backward(np.zeros((2, 3), np.float32), np.zeros((2, 3))),
            r"^dy must have the dtype of x",
        ),
    ],
    ids=["conv_w", "conv_b", "linear_w", "conv_dy", "max_dy", "relu_dy"],
)
def test_mismatched_dtypes(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.conv2d(X4, W4, stride=0), r"^stride must be an integer >= 1"),
        (lambda: F.conv2d(X4, W4, stride=(1, 0)), r"^stride must be an integer >= 1"),
        (lambda: F.conv2d(X4, W4, stride=1.0), r"^stride must be an integer >= 1"),
        (lambda: F.conv2d(X4, W4, stride=True), r"^stride must be an integer >= 1"),
        (lambda: F.max_pool2d(X4, 2, 0), r"^stride must be an integer >= 1"),
        (lambda: F.avg_pool2d(X4, 2, (0, 1)), r"^stride must be an integer >= 1"),
        (lambda: F.max_pool2d(X4, 0, 1), r"^size must be an integer >= 1"),
        (lambda: F.conv2d(X4, W4, pad=-1), r"^pad must be an integer >= 0"),
        (lambda: F.conv2d(X4, W4, pad=(0, -2)), r"^pad must be an integer >= 0"),
        (lambda: F.max_pool2d(X4, 3, 1, -1), r"^pad must be an integer >= 0"),
        (lambda: F.avg_pool2d(X4, 3, 1, (1, 2, 3)), r"^pad must be an integer >= 0"),
    ],
)
def test_bad_stride_size_pad(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 0}, r"^size must be an integer >= 1, got 0"),
        ({"size": 2.0}, r"^size must be an integer >= 1"),
        ({"k": 0.0}, r"^k must be positive"),
        ({"alpha": np.nan}, r"^alpha must be finite"),
        ({"beta": np.inf}, r"^beta must be finite"),
    ],
)
def test_bad_lrn_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.local_response_norm(X4, **kwargs)
    with pytest.raises(ValueError, match=match):
        F.local_response_norm_backward(X4, X4, **kwargs)


def test_dropout_rejects_a_bad_seed():
    with pytest.raises(
        TypeError, match=r"^seed must be a non-negative integer or a numpy Generator"
    ):
        F.dropout(np.ones((2, 2)), 0.5, seed=1.5)
    with pytest.raises(
        ValueError, match=r"^seed must be a non-negative integer.*got -1"
    ):
        F.dropout(np.ones((2, 2)), 0.5, seed=-1)


def test_softmax_cross_entropy_refuses_an_empty_batch():
    # regression: N = 0 used to return nan with NumPy's "mean of empty slice" warning
    with pytest.raises(
        ValueError, match=r"logits must hold at least one sample.*\(0, 10\)"
    ):
        F.softmax_cross_entropy(np.zeros((0, 10)), np.zeros(0, np.int64))


@pytest.mark.parametrize(
    "kernel, stride, pad",
    [
        ((3, 3), 1, 1),
        ((5, 3), 1, (2, 1)),
        ((1, 1), 1, 1),
        ((2, 3), 1, (2, 3)),
        ((3, 3), 2, 1),
        ((3, 2), (1, 2), 0),
    ],
    ids=[
        "flipped-conv",
        "flipped-conv-nonsquare",
        "scatter-pad>=kernel",
        "scatter-pad>=kernel-nonsquare",
        "scatter-stride2",
        "scatter-mixed-stride",
    ],
)
def test_both_input_gradient_paths_equal_the_loops(kernel, stride, pad):
    # conv2d_backward takes dx as a flipped-kernel convolution for stride 1 and
    # pad < kernel, and as a scatter of windows otherwise: both must be exact.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((4, 3, *kernel))
    dy = rng.standard_normal(F.conv2d(x, w, None, stride, pad).shape)
    dx, dw, db = F.conv2d_backward(dy, x, w, stride, pad)
    ref = naive.conv2d_backward_naive(dy, x, w, stride, pad)
    for ours, theirs in zip((dx, dw, db), ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
