"""Tests for convlearn.analysis.lasso: objectives and supports against scikit-learn's
Lasso on random, correlated, duplicated-column and zero-column problems, ISTA against
FISTA, the duality gap as a certificate, warm starts, alpha_max, the Gram form,
invariances, degenerate input, sparse prediction against a direct computation, errors."""

import warnings

import numpy as np
import pytest

from convlearn.analysis import as_samples
from convlearn.analysis import lasso as lasso_module
from convlearn.analysis.lasso import (
    PERCENTILES,
    LassoInfo,
    SparsePrediction,
    alpha_grid,
    lasso,
    lasso_gram,
    lasso_path,
    sparse_prediction,
)

TIGHT = 1e-10  # our tol where a test wants the exact minimiser


@pytest.fixture
def sklearn():
    return pytest.importorskip(
        "sklearn", reason="scikit-learn is the oracle for these tests"
    )


def objective(X, Y, W, alpha):
    """1/(2n) ||Y - X W||^2 + alpha |W|_1 per target, straight from the data."""
    R = Y - X @ W
    return (R * R).sum(axis=0) / (2 * len(X)) + alpha * np.abs(W).sum(axis=0)


def sk_lasso(X, Y, alpha):
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=1_000_000)
    return model.fit(X, Y).coef_.T.reshape(X.shape[1], -1)


def problem(kind, seed, n=60, p=12, t=3):
    """(X, Y) centred, of one of the kinds the oracle tests cover."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if kind == "correlated":  # a few factors plus a little noise: cond(G) ~ 2e4
        X = rng.standard_normal((n, 4)) @ rng.standard_normal((4, p)) + 0.05 * X
    elif kind == "duplicated":
        X[:, 1] = X[:, 0]
        X[:, 5] = -2.0 * X[:, 3]
    elif kind == "zero column":
        X[:, [2, 7]] = 0.0
    W = rng.standard_normal((p, t)) * (rng.random((p, t)) < 0.3)
    Y = X @ W + 0.5 * rng.standard_normal((n, t))
    return X - X.mean(axis=0), Y - Y.mean(axis=0)


def alpha_max(X, Y):
    return np.abs(X.T @ Y).max() / len(X)


KINDS = ["random", "correlated", "duplicated", "zero column"]


# --- against scikit-learn ----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(5))
def test_objective_matches_sklearn(sklearn, kind, seed):
    X, Y = problem(kind, seed)
    for frac in (0.7, 0.2, 0.03, 0.002):
        a = frac * alpha_max(X, Y)
        W = lasso(X, Y, a, tol=TIGHT)
        ref = objective(X, Y, sk_lasso(X, Y, a), a)
        np.testing.assert_allclose(objective(X, Y, W, a), ref, rtol=1e-6)
        if kind == "random":  # Gaussian design, n > p: the minimiser is unique
            np.testing.assert_array_equal(W != 0, sk_lasso(X, Y, a) != 0)


@pytest.mark.parametrize("seed", range(3))
def test_wide_problem_objective_matches_sklearn(sklearn, seed):
    # p > n: the minimiser need not be unique, the minimum is
    X, Y = problem("random", seed, n=15, p=30, t=2)
    a = 0.05 * alpha_max(X, Y)
    W = lasso(X, Y, a, tol=TIGHT, max_iter=200_000)
    ref = objective(X, Y, sk_lasso(X, Y, a), a)
    np.testing.assert_allclose(objective(X, Y, W, a), ref, rtol=1e-6)


def test_path_matches_sklearn(sklearn):
    from sklearn.linear_model import lasso_path as sk_path

    X, Y = problem("correlated", 7, n=80, p=10, t=1)
    alphas = alpha_grid(X, Y, n_alphas=12, eps=1e-3)
    # the grid is scikit-learn's for one target
    with warnings.catch_warnings():  # n_alphas is deprecated in 1.9, needed before
        warnings.simplefilter("ignore", FutureWarning)
        sk_alphas, sk_coefs, _ = sk_path(X, Y[:, 0], n_alphas=12, eps=1e-3, tol=1e-12)
    np.testing.assert_allclose(alphas, sk_alphas, rtol=1e-12)
    Ws = lasso_path(X, Y, alphas, tol=TIGHT)
    assert len(Ws) == len(alphas)
    for W, a, ref in zip(Ws, alphas, sk_coefs.T):
        ref_obj = objective(X, Y, ref[:, None], a)
        np.testing.assert_allclose(objective(X, Y, W, a), ref_obj, rtol=1e-6)


# --- the solver's own properties ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_ista_and_fista_reach_the_same_objective(kind):
    X, Y = problem(kind, 11, n=40, p=8)
    a = 0.1 * alpha_max(X, Y)
    Wf, fi = lasso(X, Y, a, tol=1e-9, return_info=True)
    Wi, ii = lasso(X, Y, a, method="ista", tol=1e-9, max_iter=500_000, return_info=True)
    np.testing.assert_allclose(
        objective(X, Y, Wi, a), objective(X, Y, Wf, a), rtol=1e-8
    )
    assert fi.converged.all() and ii.converged.all()
    assert fi.n_iter < ii.n_iter  # acceleration pays


def test_warm_start_from_the_solution_stops_at_once():
    X, Y = problem("correlated", 3)
    a = 0.05 * alpha_max(X, Y)
    W, info = lasso(X, Y, a, return_info=True)
    assert info.n_iter > 10
    W2, info2 = lasso(X, Y, a, W0=W, return_info=True)
    assert info2.n_iter == 0
    np.testing.assert_array_equal(W2, W)


def test_alpha_at_or_above_alpha_max_gives_exact_zeros():
    X, Y = problem("random", 4)
    am = alpha_max(X, Y)
    rng = np.random.default_rng(0)
    for a in (am, 1.5 * am):
        W, info = lasso(X, Y, a, W0=rng.standard_normal((12, 3)), return_info=True)
        assert np.all(W == 0) and info.n_iter == 0
        np.testing.assert_array_equal(info.gap, 0.0)
    assert np.count_nonzero(lasso(X, Y, am * (1 - 1e-3), tol=TIGHT)) >= 1
    # per target: the target whose own max|c| is below alpha is exactly zero
    c_max = np.abs(X.T @ Y).max(axis=0) / len(X)
    W = lasso(X, Y, 0.5 * (c_max.min() + np.sort(c_max)[1]))
    assert np.all(W[:, np.argmin(c_max)] == 0)


def test_gap_is_a_certificate_and_falls_below_tol(sklearn):
    X, Y = problem("correlated", 5)
    a = 0.02 * alpha_max(X, Y)
    best = objective(X, Y, sk_lasso(X, Y, a), a)
    gaps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the early stops
        for max_iter in (1, 4, 16, 64, 10_000):
            W, info = lasso(X, Y, a, max_iter=max_iter, tol=1e-8, return_info=True)
            # P(W) - min P <= gap, and the reported objective is P(W)
            assert np.all(objective(X, Y, W, a) - best <= info.gap + 1e-12)
            np.testing.assert_allclose(
                info.objective, objective(X, Y, W, a), rtol=1e-10
            )
            gaps.append(info.gap.max())
    assert gaps[0] > gaps[2] > gaps[-1]
    np.testing.assert_array_less(info.gap, info.gap_tol)
    # tol is relative to the objective at W = 0, yy / 2
    np.testing.assert_allclose(info.gap_tol, 1e-8 * (Y * Y).sum(axis=0) / (2 * len(X)))
    assert info.converged.all()


def test_max_iter_reached_warns_and_reports():
    X, Y = problem("correlated", 6)
    with pytest.warns(RuntimeWarning, match="not within tol=1e-10 after max_iter=3"):
        W, info = lasso(
            X, Y, 0.01 * alpha_max(X, Y), tol=1e-10, max_iter=3, return_info=True
        )
    assert info.n_iter == 3 and not info.converged.any()
    assert np.isfinite(W).all()


def test_gram_form_equals_data_form():
    X, Y = problem("correlated", 8)
    n = len(X)
    a = 0.03 * alpha_max(X, Y)
    W, info = lasso(X, Y, a, tol=TIGHT, return_info=True)
    G, C, yy = X.T @ X / n, X.T @ Y / n, (Y * Y).sum(axis=0) / n
    Wg, infog = lasso_gram(G, C, a, yy=yy, tol=TIGHT, return_info=True)
    np.testing.assert_allclose(Wg, W, rtol=0, atol=1e-12 * np.abs(W).max())
    np.testing.assert_allclose(infog.objective, info.objective, rtol=1e-12)
    # without yy: the target is projected onto span(X); same minimiser, the
    # objective short of the unexplained ||y - P_X y||^2 / (2n)
    Wp, infop = lasso_gram(G, C, a, tol=TIGHT, return_info=True)
    np.testing.assert_allclose(Wp, W, rtol=0, atol=1e-8 * np.abs(W).max())
    resid = Y - X @ np.linalg.lstsq(X, Y, rcond=None)[0]
    unexplained = (resid * resid).sum(axis=0) / (2 * n)
    np.testing.assert_allclose(infop.objective + unexplained, info.objective, rtol=1e-9)
    assert infop.converged.all()
    # a Gram from float32 statistics: round-off asymmetry is accepted, symmetrised
    Gf = G.astype(np.float32).astype(np.float64)
    Gf[0, 1] *= 1 + 1e-7
    Wf = lasso_gram(Gf, C, a, yy=yy, tol=TIGHT)
    np.testing.assert_allclose(Wf, W, rtol=0, atol=1e-4 * np.abs(W).max())


def test_one_target_shapes_and_float32():
    X, Y = problem("random", 9, t=1)
    a = 0.1 * alpha_max(X, Y)
    w = lasso(X, Y[:, 0], a)
    assert w.shape == (12,) and w.dtype == np.float64
    np.testing.assert_array_equal(w, lasso(X, Y, a)[:, 0])
    n = len(X)
    wg = lasso_gram(X.T @ X / n, X.T @ Y[:, 0] / n, a, yy=float(Y[:, 0] @ Y[:, 0] / n))
    np.testing.assert_allclose(wg, w, atol=1e-10)
    w32 = lasso(X.astype(np.float32), Y[:, 0].astype(np.float32), a)
    assert w32.dtype == np.float64
    np.testing.assert_allclose(w32, w, atol=1e-4)


def test_permuting_features_and_targets_permutes_W_and_scaling_scales_it():
    X, Y = problem("random", 10)
    a = 0.05 * alpha_max(X, Y)
    W = lasso(X, Y, a, tol=TIGHT)
    rows, cols = np.random.default_rng(1).permutation(12), np.array([2, 0, 1])
    Wp = lasso(X[:, rows], Y[:, cols], a, tol=TIGHT)
    np.testing.assert_allclose(Wp, W[rows][:, cols], atol=1e-9)
    # P(w; 3Y, 3 alpha) = 9 P(w / 3; Y, alpha): W scales with Y
    np.testing.assert_allclose(
        lasso(X, 3.0 * Y, 3.0 * a, tol=TIGHT), 3.0 * W, atol=1e-9
    )


def test_results_repeat_bit_for_bit():
    X, Y = problem("correlated", 12)
    alphas = alpha_grid(X, Y, n_alphas=5)
    for W1, W2 in zip(lasso_path(X, Y, alphas), lasso_path(X, Y, alphas)):
        np.testing.assert_array_equal(W1, W2)


def test_path_warm_starts_beat_cold_starts():
    X, Y = problem("correlated", 13)
    alphas = alpha_grid(X, Y, n_alphas=8)
    Ws, infos = lasso_path(X, Y, alphas, return_info=True)
    assert len(Ws) == 8 and all(isinstance(i, LassoInfo) for i in infos)
    cold = [lasso(X, Y, a, return_info=True) for a in alphas]
    assert sum(i.n_iter for i in infos) < sum(c[1].n_iter for c in cold)
    for W, (Wc, _), a in zip(Ws, cold, alphas):
        np.testing.assert_allclose(
            objective(X, Y, W, a), objective(X, Y, Wc, a), rtol=1e-5
        )
    assert np.all(Ws[0] == 0)  # the grid starts at alpha_max
    # the number of non-zero weights grows along a decreasing path (here)
    counts = [np.count_nonzero(W) for W in Ws]
    assert counts == sorted(counts) and counts[-1] > counts[1]


def test_alpha_grid():
    X, Y = problem("random", 14)
    grid = alpha_grid(X, Y, n_alphas=5, eps=1e-2)
    am = alpha_max(X, Y)
    np.testing.assert_allclose(grid, am * np.array([1, 10**-0.5, 0.1, 10**-1.5, 0.01]))
    np.testing.assert_allclose(alpha_grid(X, Y, n_alphas=1), [am])
    assert alpha_grid(X, Y).shape == (20,)
    np.testing.assert_array_equal(alpha_grid(X, np.zeros_like(Y), n_alphas=3), 0.0)


# --- degenerate input --------------------------------------------------------------


def test_all_zero_data_and_zero_targets():
    X, Y = problem("random", 15)
    for Xd, Yd in (
        (np.zeros_like(X), Y),
        (X, np.zeros_like(Y)),
        (np.zeros_like(X), 0 * Y),
    ):
        for a in (0.0, 0.1):
            W, info = lasso(
                Xd, Yd, a, W0=np.ones((12, 3)) if Xd is X else None, return_info=True
            )
            np.testing.assert_array_equal(W, 0.0)
            assert np.isfinite(info.objective).all() and info.converged.all()
        Ws = lasso_path(Xd, Yd)
        assert len(Ws) == 20 and all(np.all(W == 0) for W in Ws)
    # one zero target among others
    Y0 = Y.copy()
    Y0[:, 1] = 0.0
    W, info = lasso(X, Y0, 0.01 * alpha_max(X, Y0), return_info=True)
    assert (
        np.all(W[:, 1] == 0) and np.count_nonzero(W[:, 0]) > 0 and info.converged.all()
    )


def test_zero_and_duplicated_columns():
    X, Y = problem("zero column", 16)
    Ws = lasso_path(X, Y, alpha_grid(X, Y, n_alphas=6, eps=1e-4))
    assert all(np.all(W[[2, 7]] == 0) for W in Ws)
    # duplicated columns: P only sees w_0 + w_1; the solver still converges
    X, Y = problem("duplicated", 16)
    W, info = lasso(X, Y, 0.01 * alpha_max(X, Y), return_info=True)
    assert info.converged.all() and np.isfinite(W).all()


@pytest.mark.parametrize("kind", KINDS)
def test_alpha_zero_is_least_squares_nearest_W0(kind):
    X, Y = problem(kind, 17)
    W, info = lasso(X, Y, 0.0, return_info=True)
    # the minimum-norm least-squares solution, as numpy's lstsq
    np.testing.assert_allclose(W, np.linalg.lstsq(X, Y, rcond=None)[0], atol=1e-10)
    assert info.n_iter == 0 and info.converged.all()
    W0 = np.random.default_rng(0).standard_normal(W.shape)
    Wn = lasso(X, Y, 0.0, W0=W0)
    # another minimiser (same residual), differing from W0 only inside the range of X^T
    np.testing.assert_allclose(X @ Wn, X @ W, atol=1e-10)
    null = np.linalg.svd(X)[2][np.linalg.matrix_rank(X) :]  # (p - rank, p)
    np.testing.assert_allclose(null @ (Wn - W0), 0.0, atol=1e-10)
    if kind in ("duplicated", "zero column"):  # well conditioned on the range of X
        # the limit of plain gradient descent on the least-squares term from W0
        n = len(X)
        G, C = X.T @ X / n, X.T @ Y / n
        Wg = W0.copy()
        for _ in range(3000):
            Wg -= (G @ Wg - C) / np.linalg.eigvalsh(G)[-1]
        np.testing.assert_allclose(Wn, Wg, atol=1e-9)


# --- sparse prediction -------------------------------------------------------------


def two_layers(seed, n=300, ua=10, ub=7):
    """Activations of two 'nets' sharing factors: (train A, train B, test A, test B)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2 * n, 5))
    A = np.maximum(
        z @ rng.standard_normal((5, ua)) + 0.3 * rng.standard_normal((2 * n, ua)), 0
    )
    B = np.maximum(
        z @ rng.standard_normal((5, ub)) + 0.3 * rng.standard_normal((2 * n, ub)), 0
    )
    return A[:n], B[:n], A[n:], B[n:]


def test_sparse_prediction_against_direct_computation(sklearn):
    from sklearn.metrics import r2_score

    A, B, At, Bt = two_layers(0)
    B[:, 3] = 1.5  # a dead unit of B: excluded
    A[:, 0] = 0.0  # a dead unit of A: never used
    alphas = [0.1, 0.02, 0.003]
    res = sparse_prediction(A, B, At, Bt, alphas, tol=TIGHT)
    assert isinstance(res, SparsePrediction) and res.weights.shape == (3, 10, 7)
    np.testing.assert_array_equal(res.excluded, [3])
    kept = [0, 1, 2, 4, 5, 6]
    ma, mb = A.mean(axis=0), B.mean(axis=0)
    for k, a in enumerate(alphas):
        W = sk_lasso(A - ma, B - mb, a)
        pred = (At - ma) @ W + mb
        nmse = 1 - r2_score(Bt[:, kept], pred[:, kept], multioutput="raw_values")
        np.testing.assert_allclose(res.nmse[k, kept], nmse, rtol=1e-5)
        np.testing.assert_allclose(res.mean_nmse[k], nmse.mean(), rtol=1e-5)
        np.testing.assert_array_equal(res.nonzeros[k], np.count_nonzero(W, axis=0))
        nz = np.count_nonzero(W, axis=0)[kept]
        assert res.mean_nonzeros[k] == nz.mean()
        np.testing.assert_array_equal(
            res.nonzero_percentiles[k], np.percentile(nz, PERCENTILES)
        )
    assert np.isnan(res.nmse[:, 3]).all() and np.isfinite(res.mean_nmse).all()
    assert np.all(res.weights[:, 0] == 0) and np.all(res.weights[:, :, 3] == 0)
    assert res.n_train == 300 and res.n_test == 300 and not res.standardize
    # more penalty, fewer weights; the weakest penalty predicts best
    assert (
        np.all(np.diff(res.mean_nonzeros) > 0) and res.mean_nmse[-1] < res.mean_nmse[0]
    )


def test_sparse_prediction_nchw_order_standardize_and_blocks(monkeypatch):
    A, B, At, Bt = two_layers(1, n=288)

    def nchw(x):  # (S, U) -> (N, U, 4, 6), so that as_samples gives x back
        return x.reshape(-1, 4, 6, x.shape[1]).transpose(0, 3, 1, 2).copy()

    np.testing.assert_array_equal(as_samples(nchw(A)), A)
    res = sparse_prediction(A, B, At, Bt)
    assert res.alphas.shape == (20,) and res.alphas[0] == pytest.approx(
        np.abs((A - A.mean(0)).T @ (B - B.mean(0))).max() / len(A)
    )
    res4 = sparse_prediction(nchw(A), nchw(B), nchw(At), nchw(Bt), res.alphas)
    np.testing.assert_allclose(res4.nmse, res.nmse, rtol=1e-10)
    # order permutes the weight columns only
    order = np.random.default_rng(2).permutation(7)
    reso = sparse_prediction(A, B, At, Bt, res.alphas, order=order)
    np.testing.assert_array_equal(reso.weights, res.weights[:, :, order])
    np.testing.assert_array_equal(reso.nmse, res.nmse)
    # standardize == lasso on data z-scored with the training statistics
    alphas = [0.2, 0.05]
    ress = sparse_prediction(A, B, At, Bt, alphas, standardize=True, tol=TIGHT)
    za = lambda x: (x - A.mean(0)) / A.std(0)
    zb = lambda x: (x - B.mean(0)) / B.std(0)
    ref = sparse_prediction(za(A), zb(B), za(At), zb(Bt), alphas, tol=TIGHT)
    np.testing.assert_allclose(ress.nmse, ref.nmse, rtol=1e-8)
    np.testing.assert_allclose(ress.weights, ref.weights, atol=1e-8)
    assert ress.standardize
    # moments summed block by block equal the one-block sums; float32 input works
    monkeypatch.setattr(lasso_module, "CHUNK", 7)
    resb = sparse_prediction(A.astype(np.float32), B.astype(np.float32), At, Bt, alphas)
    monkeypatch.setattr(lasso_module, "CHUNK", 1 << 16)
    res32 = sparse_prediction(
        A.astype(np.float32), B.astype(np.float32), At, Bt, alphas
    )
    np.testing.assert_allclose(resb.nmse, res32.nmse, rtol=1e-9)


def test_sparse_prediction_excludes_units_constant_on_test():
    A, B, At, Bt = two_layers(2)
    Bt[:, 0] = 0.0
    res = sparse_prediction(A, B, At, Bt, [0.05])
    np.testing.assert_array_equal(res.excluded, [0])
    assert np.isnan(res.nmse[0, 0]) and np.isfinite(res.mean_nmse).all()
    with pytest.raises(ValueError, match="every unit of B is constant"):
        sparse_prediction(A, np.ones_like(B), At, Bt, [0.05])


# --- errors ------------------------------------------------------------------------

X, Y = problem("random", 0, n=20, p=4, t=2)
NAN_X = np.where(X > 1, np.nan, X)
I3, ONES3 = np.eye(3), np.ones(3)

VALUE_ERRORS = [
    (lambda: lasso(X, Y[:10], 0.1), "one row per sample"),
    (lambda: lasso(X, Y, -0.1), "alpha must be finite and >= 0"),
    (lambda: lasso(X, Y, np.inf), "alpha must be finite"),
    (lambda: lasso(NAN_X, Y, 0.1), "X must be finite"),
    (lambda: lasso(X, Y * np.inf, 0.1), "Y must be finite"),
    (lambda: lasso(X[0], Y, 0.1), "X must be a non-empty 2-D array"),
    (lambda: lasso(X[:, :0], Y, 0.1), "X must be a non-empty"),
    (lambda: lasso(X, Y, 0.1, method="cd"), "method must be one of"),
    (lambda: lasso(X, Y, 0.1, tol=0), "tol must be a number > 0"),
    (lambda: lasso(X, Y, 0.1, max_iter=0), "max_iter must be an integer >= 1"),
    (lambda: lasso(X, Y, 0.1, W0=np.zeros((4, 3))), "W0 must have the shape"),
    (lambda: lasso_gram(I3, np.ones((4, 2)), 0.1), r"G must be \(p, p\)"),
    (lambda: lasso_gram(np.triu(np.ones((3, 3))), ONES3, 0.1), "symmetric"),
    (lambda: lasso_gram(np.diag([1.0, -1.0]), np.ones(2), 0.1), "semi-definite"),
    (lambda: lasso_gram(np.zeros((3, 3)), ONES3, 0.1), "no positive eig"),
    (lambda: lasso_gram(I3, np.ones((3, 2)), 0.1, yy=ONES3), "yy must"),
    (lambda: lasso_gram(I3, ONES3, 0.1, yy=-1.0), "yy must"),
    (lambda: lasso_path(X, Y, []), "alphas must be a non-empty"),
    (lambda: lasso_path(X, Y, [0.1, -1]), "alphas must be finite and >= 0"),
    (lambda: alpha_grid(X, Y, n_alphas=0), "n_alphas must be an integer >= 1"),
    (lambda: alpha_grid(X, Y, eps=0), r"eps must be a number in \(0, 1\]"),
    (lambda: alpha_grid(X, Y, eps=2), "eps must be"),
    (lambda: sparse_prediction(X, Y, X, Y[:5]), "the same samples"),
    (lambda: sparse_prediction(X, Y, X[:, :3], Y), "the same units"),
    (lambda: sparse_prediction(X, Y, X, Y, order=[0, 0]), "permutation"),
    (lambda: sparse_prediction(NAN_X, Y, X, Y), "A_train must be non-empty and finite"),
    (lambda: sparse_prediction(X[None], Y, X, Y), "A_train must be 2-D"),
]

TYPE_ERRORS = [
    (lambda: lasso(X, Y, "0.1"), "alpha must be a real number"),
    (lambda: lasso(X, Y, True), "alpha must be a real number"),
    (lambda: lasso(X.astype(int), Y, 0.1), "X must be float32 or float64"),
    (lambda: lasso(X.tolist(), Y, 0.1), "X must be a numpy array"),
    (lambda: lasso_path(X, Y, ["a"]), "alphas must be a 1-D sequence"),
    (lambda: sparse_prediction(X, Y.astype(int), X, Y), "B_train must be float32"),
]


@pytest.mark.parametrize("call, match", VALUE_ERRORS)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", TYPE_ERRORS)
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_least_squares_gives_exact_zeros_to_constant_features():
    """Regression: at alpha = 0 a constant (zero after centring) column got a weight of
    round-off size (1e-17) from the eigenvectors, so non-zero counts said "every unit"."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 12))
    X[:, [2, 7, 8]] = 0.0
    Y = X @ rng.standard_normal((12, 4)) + 0.1 * rng.standard_normal((200, 4))
    W = lasso(X, Y, 0.0)
    assert np.all(W[[2, 7, 8]] == 0.0)
    assert np.count_nonzero(W, axis=0).tolist() == [9, 9, 9, 9]
    live = [i for i in range(12) if i not in (2, 7, 8)]
    expected = np.linalg.lstsq(X[:, live], Y, rcond=None)[0]
    np.testing.assert_allclose(W[live], expected, atol=1e-10)
