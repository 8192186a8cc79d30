"""Streaming, mergeable means, standard deviations and correlations of units.

Paper section 2: for every layer, over a fixed image set, each unit's mean
and standard deviation, the correlation matrix of the units of one net
(within-net) and between the units of two nets (between-net). A conv layer
has S = N*H*W samples per batch of N images, far too many to keep, so the
statistics are accumulated batch by batch.

The accumulation is the corrected two-pass algorithm inside a batch and
Chan, Golub and LeVeque's pairwise update across batches (Chan et al.,
"Algorithms for computing the sample variance", 1983; the one-unit case is
Welford's). The naive formula E[xy] - E[x]E[y] cancels catastrophically
when the mean is large against the spread (mean 1e4, spread 1e-2 loses
every digit in float32); centring each batch first keeps the result exact.

Per batch of S samples with columns x (all units of both nets side by side):

    m      = a sample of each column near the batch mean (`_shift`)
    c      = x - m                       centred, in the batch dtype
    d      = sum(c) / S                  what is left: the batch mean is m + d
    M_b    = c^T c - S d d^T             co-moment, sum (x - mean)(x - mean)^T

and the running state (n, mean, M) absorbs (S, m + d, M_b) by

    delta  = mean_b - mean
    mean  += delta * S / (n + S)
    M     += M_b + delta delta^T * n S / (n + S)

Two accumulators merge by the same formula, so shards computed in parallel
processes combine exactly. float32 batches use float32 products of centred
chunks of at most CHUNK rows, each added into float64; float64 batches stay
float64 throughout.

A unit is dead when all its values are equal, decided exactly rather than by
comparing a variance with a tolerance: m is one of the column's own values,
so a constant column centres to exact zeros (sum of squares exactly 0), and
the batches' means must agree too. Its standard deviation is 0 and its
correlations are NaN, never a number.
"""

import os
import zipfile

import numpy as np

from .._checks import check_positive_int
from .._files import atomic_write
from ..progress import silent
from ._samples import as_samples

__all__ = ["ActivationStats", "collect_stats", "correlation"]

# Rows per centred chunk: a float32 product sums at most this many terms
# before it is added into float64 (BLAS sums in blocks: ~1e-6 relative,
# measured), and fewer, larger products run nearer the BLAS's best rate.
CHUNK = 16384


def _shift(x):
    """(U,) a value of each column's own data near its mean: where its batch is centred.

    The sample nearest the mean of the first 256 rows: close enough to the
    mean for the centred products to keep their digits (within about a
    sixteenth of a standard deviation), and for a constant column exactly
    the constant, so that it centres to exact zeros.
    """
    head = x[:256]
    m = head.mean(axis=0, dtype=np.float64)  # (U,)
    nearest = np.abs(head - m.astype(x.dtype)).argmin(axis=0)
    return head[nearest, np.arange(x.shape[1])]


def _refuse_non_finite(xs):
    """Name the batch that made the sums non-finite: NaN/inf in it, or overflow."""
    for name, x in zip("ab", xs):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite; this batch has NaN or inf")
    raise ValueError(
        f"the squares of this batch overflow {xs[0].dtype} (values beyond about "
        f"{np.sqrt(np.finfo(xs[0].dtype).max):.0e}): rescale the activations"
    )


class _Moments:
    """Count, mean and co-moment of columns split into groups (one group per net).

    sizes : the unit counts of the groups, side by side in every vector and
    matrix. full=True keeps the whole co-moment matrix of all columns;
    full=False (two groups only) keeps the between-group block and each
    column's sum of squares, a third of the products for 256 + 256 units.
    Dead columns are tracked exactly: ``flat`` says every batch so far was
    constant in the column (its sum of squares exactly 0), and the lowest
    and highest batch means say whether the batches' constants agree.
    """

    def __init__(self, sizes, full=True):
        self.sizes = tuple(int(s) for s in sizes)
        self.starts = np.cumsum((0,) + self.sizes)  # group g is starts[g]:starts[g+1]
        self.full = bool(full)
        assert self.full or len(self.sizes) == 2
        U = sum(self.sizes)
        self.n = 0
        self.mean = np.zeros(U)
        self.flat = np.ones(U, bool)
        self.mean_lo = np.full(U, np.inf)
        self.mean_hi = np.full(U, -np.inf)
        if self.full:
            self.M = np.zeros((U, U))
        else:
            self.M = np.zeros((self.sizes[0], self.sizes[1]))
            self.sq = np.zeros(U)

    # ---- one batch ----------------------------------------------------------

    def update(self, xs):
        """Add a batch: xs is a list of (S, U_g) arrays, one per group, of one dtype."""
        S = xs[0].shape[0]
        if S == 0:
            return
        products = self._products_full if self.full else self._products_between
        with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf: refused below
            shifts = [_shift(x) for x in xs]
            M_b, sums, sq = products(xs, shifts)  # about the shifts, not yet the mean
        if not (np.all(np.isfinite(sums)) and np.all(np.isfinite(sq))):
            _refuse_non_finite(xs)
        self.flat &= sq == 0  # every value equal to the shift, exactly
        # corrected two-pass: the batch mean is shift + d; take d out of the products
        d = sums / S
        if self.full:
            M_b -= S * np.outer(d, d)
        else:
            M_b -= S * np.outer(d[: self.sizes[0]], d[self.sizes[0] :])
            sq -= S * d * d
        mean_b = np.concatenate(shifts).astype(np.float64) + d
        np.minimum(self.mean_lo, mean_b, out=self.mean_lo)
        np.maximum(self.mean_hi, mean_b, out=self.mean_hi)
        self._absorb(S, mean_b, M_b, None if self.full else sq)

    def _products_full(self, xs, shifts):
        """Over all chunks, c^T c for c = [x_1 - shift_1, ..., x_k - shift_k, 1].

        Returns the (U, U) products, the (U,) column sums and the (U,) sums
        of squares of the shifted columns. The column of ones rides along so
        that the same product gives the sums (its last row): one symmetric
        product per chunk, in the batch dtype, added into float64.
        """
        S, U = xs[0].shape[0], sum(self.sizes)
        c = np.empty((min(S, CHUNK), U + 1), xs[0].dtype)
        c[:, U] = 1
        P = np.zeros((U + 1, U + 1))
        for r in range(0, S, CHUNK):
            cc = c[: min(CHUNK, S - r)]
            for g, x in enumerate(xs):
                np.subtract(x[r : r + len(cc)], shifts[g], out=cc[:, self.columns(g)])
            P += cc.T @ cc  # (U+1, rows) @ (rows, U+1), float32 for float32 input
        return P[:U, :U], P[U, :U].copy(), np.diagonal(P)[:U].copy()

    def _products_between(self, xs, shifts):
        """Over all chunks, a^T b of the shifted columns, with their sums and sums of squares.

        Sums and sums of squares are float32 matrix-vector products with a
        vector of ones (BLAS accumulates them in blocks: ~1e-7 relative,
        where a running float32 sum over 4096 rows drifts to ~1e-5).
        """
        S = xs[0].shape[0]
        (Ua, Ub), dtype = self.sizes, xs[0].dtype
        rows = min(S, CHUNK)
        a, b = np.empty((rows, Ua), dtype), np.empty((rows, Ub), dtype)
        square = np.empty((rows, max(Ua, Ub)), dtype)
        ones = np.ones(rows, dtype)
        P = np.zeros((Ua, Ub))
        sums, sq = np.zeros(Ua + Ub), np.zeros(Ua + Ub)
        for r in range(0, S, CHUNK):
            n = min(CHUNK, S - r)
            for c, x, shift, cols in (
                (a, xs[0], shifts[0], slice(0, Ua)),
                (b, xs[1], shifts[1], slice(Ua, Ua + Ub)),
            ):
                np.subtract(x[r : r + n], shift, out=c[:n])
                sums[cols] += ones[:n] @ c[:n]
                sq[cols] += ones[:n] @ np.square(c[:n], out=square[:n, : c.shape[1]])
            P += a[:n].T @ b[:n]  # (Ua, rows) @ (rows, Ub)
        return P, sums, sq

    def _absorb(self, S, mean_b, M_b, sq_b):
        """Chan's update: fold a batch (or another accumulator) of S samples in."""
        n = self.n + S
        delta = mean_b - self.mean
        w = self.n * S / n
        if self.full:
            self.M += M_b + w * np.outer(delta, delta)
        else:
            self.M += M_b + w * np.outer(delta[: self.sizes[0]], delta[self.sizes[0] :])
            self.sq += sq_b + w * delta * delta
        self.mean += delta * (S / n)
        self.n = n

    def merge(self, other):
        if other.n == 0:
            return
        self.flat &= other.flat
        np.minimum(self.mean_lo, other.mean_lo, out=self.mean_lo)
        np.maximum(self.mean_hi, other.mean_hi, out=self.mean_hi)
        self._absorb(other.n, other.mean, other.M, None if self.full else other.sq)

    # ---- results --------------------------------------------------------------

    def dead(self):
        """(U,) bool: columns whose values were all equal (every batch flat, one constant)."""
        return self.flat & (self.mean_lo == self.mean_hi)

    def sum_squares(self):
        """(U,) sum of squared deviations from the mean; exactly 0 for dead columns."""
        ss = np.diagonal(self.M).copy() if self.full else self.sq.copy()
        ss[self.dead()] = 0.0
        return np.maximum(ss, 0.0)

    def block(self, g, h):
        """Co-moment block between groups g and h."""
        if not self.full:
            assert (g, h) == (0, 1)
            return self.M
        return self.M[self.columns(g), self.columns(h)]

    def columns(self, g):
        """The slice of group g's columns."""
        return slice(self.starts[g], self.starts[g + 1])

    def group(self, v, g):
        return v[self.columns(g)]


def _corr_from(M, ss_rows, ss_cols):
    """Pearson correlation from a co-moment block and the sums of squares; NaN for dead units."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # divide by each root in turn: sqrt(outer(ss, ss)) overflows beyond 1e154
        r = M / np.sqrt(ss_rows)[:, None] / np.sqrt(ss_cols)[None, :]
    r[ss_rows == 0, :] = np.nan
    r[:, ss_cols == 0] = np.nan
    # round-off can leave |r| a few ulps above 1, as np.corrcoef also clips
    return np.clip(r, -1.0, 1.0, out=r)


class ActivationStats:
    """Streaming statistics of one net's layer, or of the same layer in two nets.

    ``update(a)`` or ``update(a, b)`` with batches of activations: (S, U)
    arrays, or (N, C, H, W) where every position is a sample. Memory does
    not grow with the number of samples: the state is a mean per unit and
    one (U_a + U_b) square co-moment matrix.

    Parameters
    ----------
    within : bool, default True
        Keep the within-net correlations. ``within=False`` keeps only the
        between-net block (two nets only), a third of the work for equal
        layers; ``corr_within_a``/``corr_within_b`` then raise.

    Attributes
    ----------
    n_samples : int
    mean_a, std_a : (U_a,) float64; ``std`` is the population one (ddof=0)
    mean_b, std_b : (U_b,) float64, when a second net was given
    corr_within_a : (U_a, U_a), corr_within_b : (U_b, U_b),
    corr_between : (U_a, U_b) float64 Pearson correlations, NaN in the rows
        and columns of dead units
    dead_a, dead_b : int arrays of the dead (constant) units' indices

    Notes
    -----
    Exact to float64 round-off for float64 batches whatever the batching;
    float32 batches use float32 products of centred chunks accumulated in
    float64 and agree with the float64 result to about 1e-6 (DESIGN.md
    allows 1e-5). See the module docstring for the update formulas.
    """

    def __init__(self, within=True):
        self.within = bool(within)
        self._m = None

    # ---- accumulating -----------------------------------------------------

    def update(self, a, b=None):
        """Add a batch of activations of net A (and of net B, the same samples).

        a : (S, U_a) or (N, U_a, H, W); b : (S, U_b) or (N, U_b, H, W), or None.
        Both float32 or both float64. Returns self.
        """
        xs = [as_samples(a, "a")]
        if b is not None:
            xs.append(as_samples(b, "b"))
            if xs[1].shape[0] != xs[0].shape[0]:
                raise ValueError(
                    f"a and b must hold the same samples, got {xs[0].shape[0]} and "
                    f"{xs[1].shape[0]} (shapes {a.shape} and {b.shape})"
                )
            if xs[1].dtype != xs[0].dtype:
                raise TypeError(
                    f"a and b must have one dtype, got {xs[0].dtype} and {xs[1].dtype}"
                )
        sizes = tuple(x.shape[1] for x in xs)
        if self._m is None:
            if not self.within and len(xs) != 2:
                raise ValueError("within=False needs two nets: call update(a, b)")
            self._m = _Moments(sizes, full=self.within)
        elif sizes != self._m.sizes:
            raise ValueError(
                f"batches must keep their units: this accumulator has unit counts "
                f"{self._m.sizes}, got {sizes}"
            )
        self._m.update(xs)
        return self

    def merge(self, other):
        """Fold another accumulator of the same layer(s) into this one; returns self."""
        if not isinstance(other, ActivationStats):
            raise TypeError(
                f"other must be an ActivationStats, got {type(other).__name__}"
            )
        if other._m is None:
            return self
        if self._m is None:
            self._m = _Moments(other._m.sizes, full=other.within)
            self.within = other.within
        if (self._m.sizes, self.within) != (other._m.sizes, other.within):
            raise ValueError(
                f"cannot merge statistics of unit counts {other._m.sizes} "
                f"(within={other.within}) into {self._m.sizes} (within={self.within})"
            )
        self._m.merge(other._m)
        return self

    # ---- results -------------------------------------------------------------

    def _moments(self, need_b=False):
        if self._m is None or self._m.n == 0:
            raise ValueError("no samples yet: call update() first")
        if need_b and len(self._m.sizes) < 2:
            raise ValueError("these statistics are of one net: update(a, b) for two")
        return self._m

    @property
    def n_samples(self):
        return 0 if self._m is None else self._m.n

    def _mean(self, g):
        m = self._moments(g == 1)
        return m.group(m.mean, g).copy()

    def _std(self, g):
        m = self._moments(g == 1)
        return np.sqrt(m.group(m.sum_squares(), g) / m.n)

    def _dead(self, g):
        m = self._moments(g == 1)
        return np.flatnonzero(m.group(m.dead(), g))

    def _corr(self, g, h):
        m = self._moments(1 in (g, h))
        if g == h and not m.full:
            raise ValueError("within-net correlations were not kept (within=False)")
        ss = m.sum_squares()
        r = _corr_from(m.block(g, h), m.group(ss, g), m.group(ss, h))
        if g == h:
            # a live unit correlates 1 with itself exactly, not 1 - 1e-16
            live = np.flatnonzero(~m.group(m.dead(), g))
            r[live, live] = 1.0
        return r

    mean_a = property(lambda self: self._mean(0), doc="(U_a,) mean of each unit")
    mean_b = property(lambda self: self._mean(1), doc="(U_b,) mean of each unit")
    std_a = property(lambda self: self._std(0), doc="(U_a,) standard deviation")
    std_b = property(lambda self: self._std(1), doc="(U_b,) standard deviation")
    dead_a = property(lambda self: self._dead(0), doc="indices of constant units of A")
    dead_b = property(lambda self: self._dead(1), doc="indices of constant units of B")
    corr_within_a = property(lambda self: self._corr(0, 0), doc="(U_a, U_a)")
    corr_within_b = property(lambda self: self._corr(1, 1), doc="(U_b, U_b)")
    corr_between = property(lambda self: self._corr(0, 1), doc="(U_a, U_b)")

    # ---- files ------------------------------------------------------------

    def save(self, path):
        """Write the exact state to an .npz (no pickle), atomically."""
        m = self._moments()
        arrays = {
            "format": np.array("convlearn.ActivationStats/1"),
            "sizes": np.array(m.sizes, np.int64),
            "within": np.array(self.within),
            "n": np.array(m.n, np.int64),
            "mean": m.mean,
            "flat": m.flat,
            "mean_lo": m.mean_lo,
            "mean_hi": m.mean_hi,
            "M": m.M,
        }
        if not m.full:
            arrays["sq"] = m.sq
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path):
        """Read statistics written by `save`; a damaged or foreign file is named."""
        try:
            loaded = np.load(os.fspath(path), allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an .npz archive")
            with loaded as z:
                if str(z["format"]) != "convlearn.ActivationStats/1":
                    raise ValueError(f"format {z['format']}")
                self = cls(within=bool(z["within"]))
                sizes, n = z["sizes"], z["n"]
                if sizes.ndim != 1 or not 1 <= len(sizes) <= 2 or np.any(sizes < 0):
                    raise ValueError(f"unit counts {sizes.tolist()}")
                if n.ndim != 0 or n < 1 or (not self.within and len(sizes) != 2):
                    raise ValueError(
                        f"n = {n.tolist()} with unit counts {sizes.tolist()}"
                    )
                m = _Moments(sizes.tolist(), full=self.within)
                m.n = int(n)
                names = ("mean", "flat", "mean_lo", "mean_hi", "M")
                for name in names + (() if m.full else ("sq",)):
                    value, like = z[name], getattr(m, name)
                    if value.shape != like.shape:
                        raise ValueError(f"{name} has shape {value.shape}")
                    setattr(m, name, value.astype(like.dtype))
        except FileNotFoundError:
            raise
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(
                f"{os.fspath(path)} is not a readable ActivationStats file: {e}"
            ) from None
        self._m = m
        return self

    @classmethod
    def _pair_of(cls, joint, g, h):
        """The statistics of groups g and h of a joint accumulator over several nets."""
        idx = np.r_[joint.columns(g), joint.columns(h)]
        m = _Moments((joint.sizes[g], joint.sizes[h]))
        m.n = joint.n
        m.mean, m.flat = joint.mean[idx], joint.flat[idx]
        m.mean_lo, m.mean_hi = joint.mean_lo[idx], joint.mean_hi[idx]
        m.M = joint.M[np.ix_(idx, idx)]
        self = cls()
        self._m = m
        return self


def correlation(x, y=None, return_dead=False):
    """Pearson correlation between the columns of x (and of y).

    Parameters
    ----------
    x : ndarray of shape (S, U_a), or (N, U_a, H, W)
    y : ndarray of shape (S, U_b), or (N, U_b, H, W), optional
    return_dead : bool
        Also return the indices of the constant columns of x (and of y).

    Returns
    -------
    corr : (U_a, U_b) float64, or (U_a, U_a) without y: the matching block
        of ``np.corrcoef(x, y, rowvar=False)``, except that a constant
        (dead) column gives NaN in its row and column, never 0 or 1.
    dead_x[, dead_y] : int arrays, when ``return_dead``.
    """
    stats = ActivationStats().update(x, y)
    if y is None:
        corr, dead = stats.corr_within_a, (stats.dead_a,)
    else:
        corr, dead = stats.corr_between, (stats.dead_a, stats.dead_b)
    return (corr, *dead) if return_dead else corr


def collect_stats(nets, images, layers, batch_size=100, reporter=None):
    """Statistics of the named layers for every pair of nets, in one pass over images.

    Parameters
    ----------
    nets : list of objects with ``preprocess(images)`` and
        ``activations(x, layers) -> {name: array}`` (convlearn's Net, or any
        model wrapped to look like one; this module does not import the engine)
    images : (N, 3, H, W) uint8 images, every net sees the same ones
    layers : list of layer names
    batch_size : images per forward pass

    Returns
    -------
    {(i, j): {layer: ActivationStats}} for every pair i < j of nets, with
    net i as A and net j as B. One joint accumulator per layer holds all
    nets' units side by side, so each pair's within- and between-net blocks
    come from one symmetric product per chunk rather than one per pair.
    Only one batch of activations is held at a time.
    """
    nets = list(nets)
    layers = [layers] if isinstance(layers, str) else list(layers)
    if len(nets) < 2:
        raise ValueError(f"nets must hold at least two nets, got {len(nets)}")
    if not layers:
        raise ValueError("layers must name at least one layer")
    if not isinstance(images, np.ndarray) or images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"images must be a non-empty (N, C, H, W) array, got "
            f"{getattr(images, 'shape', type(images).__name__)}"
        )
    batch_size = check_positive_int("batch_size", batch_size)
    reporter = silent(reporter)
    joint = {}
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        acts = [net.activations(net.preprocess(batch), layers) for net in nets]
        for layer in layers:
            xs = [as_samples(act[layer], layer) for act in acts]
            if layer not in joint:
                joint[layer] = _Moments([x.shape[1] for x in xs])
            joint[layer].update(xs)
        reporter.status(f"statistics: {start + len(batch)}/{len(images)} images")
    reporter.end_status()
    return {
        (i, j): {
            layer: ActivationStats._pair_of(joint[layer], i, j) for layer in layers
        }
        for i in range(len(nets))
        for j in range(i + 1, len(nets))
    }
