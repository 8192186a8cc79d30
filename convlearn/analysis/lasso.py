"""The lasso by ISTA / FISTA, regularisation paths, and sparse prediction (paper section 4).

Section 4 of the paper asks whether a unit of net B is a *few-to-one*
combination of units of net A: predict each unit of B, layer L, from all the
units of A, layer L, with an L1-penalised linear map, and watch the error
and the number of non-zero weights as the penalty grows. The paper trained
those maps by SGD with an L1 term, which never gives exact zeros (and had
not converged for conv2); here the same problem is solved to a certified
duality gap, with exact zeros from the proximal step.

Per target (a column y of Y, w of W) the objective is scikit-learn's

    P(w) = 1/(2 n) ||y - X w||^2 + alpha ||w||_1      (no intercept: centre first)

and every solver works on its Gram form: with G = X^T X / n (p, p),
c = X^T y / n (p,) and yy = y^T y / n,

    P(w) = yy / 2 - c^T w + w^T G w / 2 + alpha ||w||_1,

so an iteration costs one (p, p) @ (p, t) product whatever the number of
samples, and G, C can come from streaming statistics instead of activations.

References: A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding
algorithm for linear inverse problems", SIAM J. Imaging Sci. 2009 (ISTA and
FISTA); B. O'Donoghue, E. Candes, "Adaptive restart for accelerated gradient
schemes", Found. Comput. Math. 2015; O. Fercoq, A. Gramfort, J. Salmon,
"Mind the duality gap: safer rules for the lasso", ICML 2015 (the dual point).
"""

import dataclasses
import numbers
import warnings

import numpy as np
import scipy.linalg

from .._checks import check_float_array, check_positive_int
from ._samples import as_samples

__all__ = [
    "LassoInfo",
    "SparsePrediction",
    "alpha_grid",
    "lasso",
    "lasso_gram",
    "lasso_path",
    "sparse_prediction",
]

METHODS = ("fista", "ista")
SYMMETRY_RTOL = 1e-6  # G: max|G - G^T| and -min eig(G) up to this times max|G|
GAP_EVERY = 4  # proximal steps between duality-gap checks (a check costs half a step)
PERCENTILES = (0, 25, 50, 75, 100)  # of the non-zero counts, in SparsePrediction
CHUNK = 1 << 16  # samples per block when sparse_prediction sums moments


@dataclasses.dataclass(frozen=True)
class LassoInfo:
    """How one solve ended; the arrays are per target, shape (t,).

    n_iter: proximal-gradient steps taken (0 if the start was already within
    tol, and for alpha = 0, which is solved directly); objective: P(W); gap:
    the duality gap, an upper bound on P(W) - min P (0 for alpha = 0);
    gap_tol = tol * yy / 2; converged: gap <= gap_tol.
    """

    n_iter: int
    objective: np.ndarray
    gap: np.ndarray
    gap_tol: np.ndarray
    converged: np.ndarray


# --- argument checks ---------------------------------------------------------------


def _matrix(name, a, ndims=(2,)):
    """A non-empty, finite float array with one of these ndims, as float64."""
    check_float_array(name, a)
    if a.ndim not in ndims or a.size == 0:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(
            f"{name} must be a non-empty {want} array, got shape {a.shape}"
        )
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return a.astype(np.float64, copy=False)


def _alpha(name, alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {alpha!r}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {alpha!r}")
    return float(alpha)


def _alphas(alphas):
    try:
        a = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"alphas must be a 1-D sequence of numbers, got {alphas!r}")
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"alphas must be a non-empty 1-D sequence, got shape {a.shape}"
        )
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError(f"alphas must be finite and >= 0, got {a}")
    return a


def _options(method, tol, max_iter):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0:
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    return method == "fista", float(tol), check_positive_int("max_iter", max_iter)


def _check_xy(X, Y):
    X, Y = _matrix("X", X), _matrix("Y", Y, ndims=(1, 2))
    if Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and Y must have one row per sample, got X {X.shape} and Y {Y.shape}"
        )
    return X, Y


def _check_gram(G, C, yy):
    G, C = _matrix("G", G), _matrix("C", C, ndims=(1, 2))
    p = G.shape[0]
    if G.shape != (p, p) or C.shape[0] != p:
        raise ValueError(f"G must be (p, p) and C (p, t), got G {G.shape}, C {C.shape}")
    if np.abs(G - G.T).max() > SYMMETRY_RTOL * np.abs(G).max():
        raise ValueError("G must be symmetric, a Gram matrix X^T X / n")
    G = 0.5 * (G + G.T)  # float32 statistics may leave round-off asymmetry
    if yy is not None:
        t = C.shape[1] if C.ndim == 2 else 1
        yy = np.array([float(yy)]) if isinstance(yy, numbers.Real) else yy
        yy = _matrix("yy", yy, ndims=(1,))
        if yy.shape != (t,) or (yy < 0).any():
            raise ValueError(f"yy must be diag(Y^T Y) / n >= 0, shape ({t},), got {yy}")
    return G, C, yy


# --- the solver on the Gram form ---------------------------------------------------


def _objective_gap(C, W, GW, alpha, yy):
    """P(W) and the duality gap per target (t,), from G W, C and yy only.

    The dual point is the rescaled residual theta = s r / n, r = y - X w,
    s = min(1, alpha / ||X^T r / n||_inf), so that ||X^T theta||_inf <= alpha.
    With X^T r / n = c - G w, y^T r / n = yy - c^T w and
    rho = ||r||^2 / n = yy - 2 c^T w + w^T G w:
    P = rho / 2 + alpha ||w||_1 and D(theta) = s (yy - c^T w) - s^2 rho / 2.
    """
    dual_norm = np.abs(C - GW).max(axis=0)
    s = np.ones_like(dual_norm)
    np.divide(alpha, dual_norm, out=s, where=dual_norm > alpha)
    cw = np.einsum("jk,jk->k", C, W)
    rho = yy - 2.0 * cw + np.einsum("jk,jk->k", W, GW)
    primal = 0.5 * rho + alpha * np.abs(W).sum(axis=0)
    return primal, primal - (s * (yy - cw) - 0.5 * s * s * rho)


def _range(G):
    """eigh of G split at the round-off level: lam (r,), V (p, r), null space N (p, p-r)."""
    lam, V = scipy.linalg.eigh(G)
    top = max(lam[-1], 0.0)
    if lam[0] < -SYMMETRY_RTOL * top:
        raise ValueError("G must be positive semi-definite, a Gram matrix X^T X / n")
    keep = lam > top * G.shape[0] * np.finfo(np.float64).eps
    return lam[keep], V[:, keep], V[:, ~keep]


def _least_squares(G, C, W0, yy):
    """alpha = 0: G^+ C + N N^T W0, the minimiser nearest W0 (where ISTA would go).

    A feature whose row of G is zero (a constant column of X) keeps its W0
    exactly: solving on the other features only, its weight does not pick up
    round-off from the eigenvectors (so a zero W0 gives an exact zero).
    """
    live = np.flatnonzero(np.any(G != 0.0, axis=0))
    W = W0.astype(np.float64, copy=True)
    if live.size:
        lam, V, N = _range(G[np.ix_(live, live)])
        # (p, r) @ (r, t) + (p, p - r) @ (p - r, t)
        W[live] = V @ ((V.T @ C[live]) / lam[:, None]) + N @ (N.T @ W0[live])
    primal, _ = _objective_gap(C, W, G @ W, 0.0, yy)
    zeros = np.zeros(C.shape[1])
    return W, LassoInfo(0, primal, zeros, zeros, np.ones(C.shape[1], bool))


def _solve(G, C, alpha, W0, yy, L, tol, max_iter, accelerate):
    """Minimise P per column of C (p, t) from W0 (p, t): FISTA with restart, or ISTA."""
    t = C.shape[1]
    if alpha == 0.0:
        return _least_squares(G, C, W0, yy)
    W = W0.copy()
    # W = 0 is optimal exactly where max|c| <= alpha (the KKT condition at 0)
    W[:, np.abs(C).max(axis=0) <= alpha] = 0.0
    gap_tol = 0.5 * tol * yy
    primal, gap = np.zeros(t), np.zeros(t)
    live = np.arange(t)  # the targets still iterating; converged ones are frozen
    Wl, GWl, Cl, yyl = W, G @ W, C, yy
    Z, GZ, tk = Wl, GWl, np.ones(t)  # FISTA's extrapolated point, G Z, momentum
    n_iter = 0
    while True:
        if n_iter % GAP_EVERY == 0 or n_iter == max_iter:
            primal[live], gap[live] = _objective_gap(Cl, Wl, GWl, alpha, yyl)
            done = gap[live] <= gap_tol[live]
            if done.all() or n_iter == max_iter:
                W[:, live] = Wl
                break
            if done.any():  # freeze converged columns: later products get narrower
                W[:, live[done]] = Wl[:, done]
                k = ~done
                live, Wl, GWl, Cl, yyl = live[k], Wl[:, k], GWl[:, k], Cl[:, k], yyl[k]
                Z, GZ, tk = Z[:, k], GZ[:, k], tk[k]
        n_iter += 1
        # proximal gradient step: soft-threshold V = Z - (G Z - c) / L at alpha / L
        V = GZ - Cl
        V *= -1.0 / L
        V += Z
        Wn = V - np.clip(V, -alpha / L, alpha / L)  # exact zeros where |V| <= alpha / L
        GWn = G @ Wn  # (p, p) @ (p, t_live): the one product of an iteration
        if accelerate:
            tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * tk * tk))
            beta = (tk - 1.0) / tn
            step = Wn - Wl
            # gradient restart (O'Donoghue & Candes): drop momentum that points uphill
            uphill = np.einsum("jk,jk->k", Z - Wn, step) > 0
            beta[uphill], tn[uphill] = 0.0, 1.0
            # G Z is linear in Z: it follows from G W without another product
            Z, GZ, tk = Wn + beta * step, GWn + beta * (GWn - GWl), tn
        else:
            Z, GZ = Wn, GWn
        Wl, GWl = Wn, GWn
    converged = gap <= gap_tol
    if not converged.all():
        warnings.warn(
            f"lasso at alpha={alpha:.4g}: {int((~converged).sum())} of {t} targets "
            f"not within tol={tol:g} after max_iter={max_iter} (largest gap "
            f"{gap.max():.3g})",
            RuntimeWarning,
            stacklevel=3,
        )
    return W, LassoInfo(n_iter, primal, gap, gap_tol, converged)


def _spectrum(G, C, yy):
    """L, the largest eigenvalue of G (1 if G = 0), and yy: c^T G^+ c when not given."""
    lam, V, _ = _range(G)  # one (p, p) eigh: a few ms at p = 128, once per path
    L = lam[-1] if lam.size else 0.0
    if L <= 0 and (C != 0).any():  # G = 0 means X = 0, so C = 0 and W = 0
        raise ValueError("G has no positive eigenvalue but C is not 0")
    if yy is None:
        VC = V.T @ C  # (r, t): c in the eigenbasis of the range of G
        yy = np.einsum("ik,ik->k", VC, VC / lam[:, None])
    return (L if L > 0 else 1.0), yy


def lasso_gram(
    G: np.ndarray,
    C: np.ndarray,
    alpha: float,
    *,
    yy: np.ndarray | None = None,
    method: str = "fista",
    tol: float = 1e-6,
    max_iter: int = 10_000,
    W0: np.ndarray | None = None,
    return_info: bool = False,
):
    """The lasso from second moments: ``lasso(X, Y, ...)`` given G and C only.

    Parameters
    ----------
    G : ndarray of shape (p, p)
        X^T X / n, symmetric positive semi-definite.
    C : ndarray of shape (p, t) or (p,)
        X^T Y / n.
    alpha : float >= 0
        The L1 penalty, scaled as in the module docstring (scikit-learn's).
    yy : ndarray of shape (t,), optional
        diag(Y^T Y) / n. Only the constant yy / 2 of P and the scale of tol
        need it. Without it each target is taken to be its projection onto
        the span of X, yy = c^T G^+ c, the smallest value consistent with
        G and C: the minimiser and P(W) - min P are unchanged, so the gap
        stays a valid certificate (it can only shrink), but P is then
        reported without the unexplainable part ||y - P_X y||^2 / (2 n) and
        tol is relative to the explained part.
    method : {"fista", "ista"}
        FISTA with adaptive restart (the default), or plain ISTA (teaching).
    tol : float > 0
        Target k stops when its duality gap <= tol * yy_k / 2 = tol * P_k(0),
        the objective at W = 0. scikit-learn stops at gap <= tol ||y||^2 / n
        = 2 tol P(0): the same number is twice as strict here.
    max_iter : int
        At most this many proximal-gradient steps; targets still above tol
        keep their last iterate and a RuntimeWarning says so.
    W0 : ndarray of shape (p, t) or (p,), optional
        Warm start (default zeros).
    return_info : bool
        Also return a ``LassoInfo``.

    Returns
    -------
    W : ndarray of shape (p, t), float64 ((p,) for 1-D C); (W, info) with return_info.

    Notes
    -----
    Each step is x <- soft(z - (G z - c) / L, alpha / L) with L the largest
    eigenvalue of G (``scipy.linalg.eigh``, which also checks that G is
    positive semi-definite and gives c^T G^+ c). A target with max|c| <= alpha gets W = 0 at once (the KKT
    condition at 0 holds there); a converged target leaves the iteration.
    The gap is checked every GAP_EVERY steps. alpha = 0 is least squares,
    not unique when G is singular: it is solved directly from the
    eigendecomposition of G and gives the minimiser nearest W0 (the
    minimum-norm one by default), where ISTA/FISTA from W0 converge. A tiny
    alpha > 0 is slow to certify: the dual point is scaled by
    s = alpha / max|c - G w|, so the gap stays large until that is near 1.
    """
    G, C, yy = _check_gram(G, C, yy)
    alpha = _alpha("alpha", alpha)
    accelerate, tol, max_iter = _options(method, tol, max_iter)
    W0 = np.zeros(C.shape) if W0 is None else _matrix("W0", W0, ndims=(C.ndim,))
    if W0.shape != C.shape:
        raise ValueError(f"W0 must have the shape of C {C.shape}, got {W0.shape}")
    C2 = C.reshape(C.shape[0], -1)  # (p, t)
    L, yy = _spectrum(G, C2, yy)
    W0 = W0.reshape(C2.shape)
    W, info = _solve(G, C2, alpha, W0, yy, L, tol, max_iter, accelerate)
    W = W.reshape(C.shape)
    return (W, info) if return_info else W


def _moments(X, Y):
    """G = X^T X / n (p, p), C = X^T Y / n (p, t), yy = diag(Y^T Y) / n (t,)."""
    n = X.shape[0]
    Y2 = Y.reshape(n, -1)
    return X.T @ X / n, X.T @ Y2 / n, np.einsum("ik,ik->k", Y2, Y2) / n


def lasso(
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    *,
    method: str = "fista",
    tol: float = 1e-6,
    max_iter: int = 10_000,
    W0: np.ndarray | None = None,
    return_info: bool = False,
):
    """W minimising 1/(2 n) ||Y[:, k] - X W[:, k]||^2 + alpha ||W[:, k]||_1 for each k.

    X is (n, p) and Y (n, t) or (n,), float, already centred (no intercept
    is fitted). Returns W (p, t) float64, (p,) for 1-D Y. The keywords and
    the stopping rule are those of ``lasso_gram``, which gets G = X^T X / n,
    C = X^T Y / n and yy = diag(Y^T Y) / n.
    """
    X, Y = _check_xy(X, Y)
    G, C, yy = _moments(X, Y)
    C = C.reshape((-1,) + Y.shape[1:])
    return lasso_gram(
        G,
        C,
        alpha,
        yy=yy,
        method=method,
        tol=tol,
        max_iter=max_iter,
        W0=W0,
        return_info=return_info,
    )


def _grid(C, n_alphas, eps):
    n_alphas = check_positive_int("n_alphas", n_alphas)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps <= 1:
        raise ValueError(f"eps must be a number in (0, 1], got {eps!r}")
    alpha_max = float(np.abs(C).max())
    if alpha_max == 0:
        return np.zeros(n_alphas)
    return np.geomspace(alpha_max, eps * alpha_max, n_alphas)


def alpha_grid(
    X: np.ndarray, Y: np.ndarray, n_alphas: int = 20, eps: float = 1e-3
) -> np.ndarray:
    """n_alphas penalties (n_alphas,), log-spaced down from alpha_max to eps * alpha_max.

    alpha_max = max |X^T Y| / n is the smallest alpha at which every weight
    of every target is zero (scikit-learn's grid, for centred data). When
    X^T Y = 0, W = 0 at every alpha and the grid is all zeros.
    """
    X, Y = _check_xy(X, Y)
    C = X.T @ Y.reshape(len(X), -1) / len(X)  # (p, t), as in _moments
    return _grid(C, n_alphas, eps)


def _path(G, C, alphas, yy, method, tol, max_iter):
    """Warm-started solves along alphas on one set of moments -> (Ws, infos)."""
    alphas = _alphas(alphas)
    accelerate, tol, max_iter = _options(method, tol, max_iter)
    L, yy = _spectrum(G, C, yy)
    W, Ws, infos = np.zeros(C.shape), [], []
    for a in alphas:
        W, info = _solve(G, C, float(a), W, yy, L, tol, max_iter, accelerate)
        Ws.append(W)
        infos.append(info)
    return Ws, infos


def lasso_path(
    X: np.ndarray,
    Y: np.ndarray,
    alphas=None,
    *,
    method: str = "fista",
    tol: float = 1e-6,
    max_iter: int = 10_000,
    return_info: bool = False,
):
    """``lasso`` at each alpha in turn, each solve warm-started from the last one.

    alphas is a 1-D sequence, default ``alpha_grid(X, Y)``; decreasing
    order makes the warm starts good (supports grow along the path).
    Returns a list of W (p, t) float64, one per alpha in the given order
    (and a list of LassoInfo with return_info). G, C, yy and L are computed
    once for the whole path.
    """
    X, Y = _check_xy(X, Y)
    G, C, yy = _moments(X, Y)
    alphas = _grid(C, 20, 1e-3) if alphas is None else alphas
    Ws, infos = _path(G, C, alphas, yy, method, tol, max_iter)
    Ws = [W.reshape((-1,) + Y.shape[1:]) for W in Ws]
    return (Ws, infos) if return_info else Ws


# --- the paper's few-to-one sparse prediction (section 4) -------------------------


@dataclasses.dataclass(frozen=True)
class SparsePrediction:
    """Net B's units predicted from net A's, one row per alpha (K alphas).

    alphas (K,): the penalties, in the order solved. nmse (K, U_b): held-out
    1 - R^2 of each unit of B, NaN for an excluded unit. mean_nmse (K,): its
    mean over the units kept. nonzeros (K, U_b) int64: the non-zero weights
    of each unit's map. mean_nonzeros (K,) and nonzero_percentiles (K, 5):
    their mean and PERCENTILES over the units kept. weights (K, U_a, U_b):
    the maps, columns in ``order`` when one was given (every other array
    keeps B's own order), in standardised units if standardize. excluded:
    B's units left out of the means, constant on the training or the test
    samples (1 - R^2 is undefined there). n_train, n_test: samples.
    """

    alphas: np.ndarray
    nmse: np.ndarray
    mean_nmse: np.ndarray
    nonzeros: np.ndarray
    mean_nonzeros: np.ndarray
    nonzero_percentiles: np.ndarray
    weights: np.ndarray
    excluded: np.ndarray
    standardize: bool
    n_train: int
    n_test: int


def _centred_moments(A, B, mean_a, mean_b):
    """G, C, yy of (A - mean_a, B - mean_b) (S, U), float64, one block of rows at a time."""
    G = np.zeros((A.shape[1], A.shape[1]))
    C = np.zeros((A.shape[1], B.shape[1]))
    yy = np.zeros(B.shape[1])
    for i in range(0, A.shape[0], CHUNK):  # float64 copies of one block, never of all S
        a = A[i : i + CHUNK] - mean_a  # (s, U_a)
        b = B[i : i + CHUNK] - mean_b  # (s, U_b)
        G += a.T @ a
        C += a.T @ b
        yy += np.einsum("ik,ik->k", b, b)
    return G / A.shape[0], C / A.shape[0], yy / A.shape[0]


def sparse_prediction(
    A_train: np.ndarray,
    B_train: np.ndarray,
    A_test: np.ndarray,
    B_test: np.ndarray,
    alphas=None,
    *,
    standardize: bool = False,
    order: np.ndarray | None = None,
    method: str = "fista",
    tol: float = 1e-6,
    max_iter: int = 10_000,
) -> SparsePrediction:
    """Predict every unit of net B from all units of net A, one lasso per unit.

    Parameters
    ----------
    A_train, A_test : ndarray of shape (S, U_a) or (N, U_a, H, W)
        Layer L of net A (NCHW: every position is a sample, ``as_samples``).
    B_train, B_test : ndarray of shape (S, U_b) or (N, U_b, H, W)
        Layer L of net B on the same images, sample for sample.
    alphas : 1-D sequence, optional
        Penalties, solved in this order with warm starts; default 20,
        log-spaced from alpha_max down to 1e-3 alpha_max (``alpha_grid``).
    standardize : bool
        Centre only (False), or also divide each unit of A and B by its
        training standard deviation (alpha and weights are then in those units).
    order : ndarray of shape (U_b,), optional
        A permutation of B's units for the weight figure: ``weights[k][:, i]``
        is the map of unit ``order[i]``. The bipartite matching's columns
        (the unit of B paired with unit i of A) put matched pairs on the diagonal.
    method, tol, max_iter :
        As in ``lasso_gram``.

    Returns
    -------
    SparsePrediction

    Notes
    -----
    Both sets are centred (and scaled) with the training means (and standard
    deviations); each map is fitted on the training set and scored on the
    test set: nmse_u = sum (b_u - b_hat_u)^2 / sum (b_u - mean_test(b_u))^2
    = 1 - R^2_u. Only centred second moments of each set enter (the test
    error too: ||b - A w||^2 / S = yy - 2 w^T c + w^T G w on the test moments),
    summed in blocks of CHUNK samples, so memory does not grow with S.
    A dead unit of A gets zero weight; a constant unit of B is excluded.
    Paper section 4: in conv1 the error stays flat while the non-zero
    weights per unit fall from ~95 to ~18.
    """
    sets = {"A_train": A_train, "B_train": B_train, "A_test": A_test, "B_test": B_test}
    A, B, At, Bt = (as_samples(x, name) for name, x in sets.items())
    for name, x in zip(sets, (A, B, At, Bt)):
        if x.size == 0 or not np.isfinite(x).all():
            raise ValueError(
                f"{name} must be non-empty and finite, got shape {x.shape}"
            )
    if A.shape[0] != B.shape[0] or At.shape[0] != Bt.shape[0]:
        raise ValueError(
            f"A and B must have the same samples, got train {A.shape} and {B.shape}, "
            f"test {At.shape} and {Bt.shape}"
        )
    if At.shape[1] != A.shape[1] or Bt.shape[1] != B.shape[1]:
        raise ValueError(
            f"train and test must have the same units, got A {A.shape[1]} and "
            f"{At.shape[1]}, B {B.shape[1]} and {Bt.shape[1]}"
        )
    U_b = B.shape[1]
    if order is not None:
        order = np.asarray(order)
        if order.dtype.kind not in "iu" or not np.array_equal(
            np.sort(order), np.arange(U_b)
        ):
            raise ValueError(
                f"order must be a permutation of B's {U_b} units, got {order}"
            )
    mean_a, mean_b = A.mean(axis=0, dtype=np.float64), B.mean(axis=0, dtype=np.float64)
    G, C, yy = _centred_moments(A, B, mean_a, mean_b)
    Gt, Ct, yyt = _centred_moments(At, Bt, mean_a, mean_b)
    # test variance about the test mean: the mean square about the training mean
    # minus the squared shift of the mean
    shift = Bt.mean(axis=0, dtype=np.float64) - mean_b
    sst = yyt - shift * shift
    if standardize:  # rescale the moments; a constant unit (all zeros) keeps scale 1
        sa, sb = np.sqrt(np.diag(G)), np.sqrt(yy)
        sa, sb = np.where(sa > 0, sa, 1.0), np.where(sb > 0, sb, 1.0)
        saa, sab = np.outer(sa, sa), np.outer(sa, sb)
        G, Gt, C, Ct = G / saa, Gt / saa, C / sab, Ct / sab
        yy, yyt, sst = yy / sb**2, yyt / sb**2, sst / sb**2
    # sst <= 0 only if round-off beats a test mean ~1e8 standard deviations away
    kept = (np.ptp(B, axis=0) > 0) & (np.ptp(Bt, axis=0) > 0) & (sst > 0)
    if not kept.any():
        raise ValueError("every unit of B is constant on the training or test samples")
    alphas = _grid(C, 20, 1e-3) if alphas is None else _alphas(alphas)
    W = np.stack(_path(G, C, alphas, yy, method, tol, max_iter)[0])  # (K, U_a, U_b)
    # held-out squared error per unit and alpha, from the test moments
    sse = (
        yyt - 2.0 * np.einsum("kij,ij->kj", W, Ct) + np.einsum("kij,kij->kj", W, Gt @ W)
    )
    nmse = np.full(sse.shape, np.nan)
    nmse[:, kept] = np.maximum(sse[:, kept], 0.0) / sst[kept]
    nonzeros = np.count_nonzero(W, axis=1).astype(np.int64)  # (K, U_b)
    return SparsePrediction(
        alphas=alphas,
        nmse=nmse,
        mean_nmse=nmse[:, kept].mean(axis=1),
        nonzeros=nonzeros,
        mean_nonzeros=nonzeros[:, kept].mean(axis=1),
        nonzero_percentiles=np.percentile(nonzeros[:, kept], PERCENTILES, axis=1).T,
        weights=W if order is None else W[:, :, order],
        excluded=np.flatnonzero(~kept),
        standardize=bool(standardize),
        n_train=A.shape[0],
        n_test=At.shape[0],
    )
