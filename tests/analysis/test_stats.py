"""Tests for convlearn.analysis.stats: np.corrcoef as the oracle, batching and
merging invariance, large means, dead units, float32 vs float64, files, errors."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlearn.analysis.stats import ActivationStats, collect_stats, correlation


def corrcoef_block(x, y=None):
    """The oracle: the matching block of np.corrcoef over columns."""
    if y is None:
        return np.atleast_2d(np.corrcoef(x, rowvar=False))  # one column: a scalar
    return np.corrcoef(x, y, rowvar=False)[: x.shape[1], x.shape[1] :]


def correlated(rng, S, Ua, Ub, dtype=np.float64, relu=False):
    """Two (S, U) layers sharing latent factors, optionally rectified."""
    z = rng.standard_normal((S, 3))
    a = z @ rng.standard_normal((3, Ua)) + rng.standard_normal((S, Ua))
    b = z @ rng.standard_normal((3, Ub)) + rng.standard_normal((S, Ub))
    if relu:
        a, b = np.maximum(a, 0), np.maximum(b, 0)
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("case", range(40))
def test_correlation_matches_corrcoef(case):
    rng = np.random.default_rng(case)
    S = int(rng.integers(2, 3000))
    Ua, Ub = (int(u) for u in rng.integers(1, 30, size=2))
    a, b = correlated(rng, S, Ua, Ub, relu=case % 2 == 1)
    a = a * rng.uniform(0.01, 100) + rng.uniform(-50, 50)  # scale and shift
    keep = a.std(axis=0) > 0
    b_keep = b.std(axis=0) > 0
    ref = corrcoef_block(a, b)[np.ix_(keep, b_keep)]
    assert np.allclose(correlation(a, b)[np.ix_(keep, b_keep)], ref, rtol=0, atol=1e-12)
    within = correlation(a)[np.ix_(keep, keep)]
    assert np.allclose(
        within, corrcoef_block(a)[np.ix_(keep, keep)], rtol=0, atol=1e-12
    )
    assert np.all(np.diag(within) == 1.0)


@pytest.mark.parametrize("value", [0.0, 0.1, -3.7, 1e4, 1e-300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dead_unit_gives_nan_never_a_number(value, dtype):
    rng = np.random.default_rng(1)
    a, b = correlated(rng, 999, 4, 3, dtype)
    a[:, 2] = value  # a constant unit: its sum of n copies / n need not be value
    b[:, 0] = value
    corr, dead_a, dead_b = correlation(a, b, return_dead=True)
    assert dead_a.tolist() == [2] and dead_b.tolist() == [0]
    assert np.all(np.isnan(corr[2, :])) and np.all(np.isnan(corr[:, 0]))
    live = corr[np.ix_([0, 1, 3], [1, 2])]
    assert np.all(np.isfinite(live))
    within, dead = correlation(a, return_dead=True)
    assert dead.tolist() == [2]
    assert np.all(np.isnan(within[2])) and np.all(np.isnan(within[:, 2]))
    stats = ActivationStats().update(a, b)
    assert stats.std_a[2] == 0.0 and stats.std_b[0] == 0.0


def test_dead_units_are_exact_across_batches():
    """A unit constant in every batch but not across batches is alive."""
    a = np.zeros((20, 2))
    a[:10, 0], a[10:, 0] = 1.0, 2.0  # constant per batch, not overall
    a[:, 1] = 5.0  # constant everywhere
    stats = ActivationStats().update(a[:10]).update(a[10:])
    assert stats.dead_a.tolist() == [1]
    assert stats.std_a[0] == pytest.approx(0.5, rel=1e-15)


def test_one_sample_every_unit_is_dead():
    corr, dead = correlation(np.array([[1.0, 2.0]]), return_dead=True)
    assert dead.tolist() == [0, 1] and np.all(np.isnan(corr))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_batching_does_not_change_float64_results(seed, cuts):
    rng = np.random.default_rng(seed)
    a, b = correlated(rng, 400, 5, 4, relu=True)
    whole = ActivationStats().update(a, b)
    parts = ActivationStats()
    edges = [0, *sorted(cuts), 400]
    for lo, hi in itertools.pairwise(edges):
        parts.update(a[lo:hi], b[lo:hi])  # empty slices included
    assert parts.n_samples == 400
    for name in ("mean_a", "std_a", "mean_b", "std_b"):
        assert np.allclose(
            getattr(parts, name), getattr(whole, name), rtol=1e-13, atol=1e-15
        )
    for name in ("corr_within_a", "corr_within_b", "corr_between"):
        assert np.allclose(
            getattr(parts, name),
            getattr(whole, name),
            rtol=0,
            atol=1e-13,
            equal_nan=True,
        )


def test_merge_of_shards_equals_one_pass():
    rng = np.random.default_rng(2)
    a, b = correlated(rng, 3000, 6, 7, relu=True)
    shards = [
        ActivationStats().update(a[i : i + 700], b[i : i + 700])
        for i in range(0, 3000, 700)
    ]
    merged = ActivationStats()
    for s in shards:
        assert merged.merge(s) is merged
    ref = ActivationStats().update(a, b)
    assert merged.n_samples == 3000
    assert np.allclose(merged.corr_between, ref.corr_between, rtol=0, atol=1e-14)
    assert np.allclose(merged.corr_within_b, corrcoef_block(b), rtol=0, atol=1e-12)
    assert np.allclose(merged.mean_a, a.mean(axis=0), rtol=1e-14)
    assert np.allclose(merged.std_b, b.std(axis=0), rtol=1e-13)
    merged.merge(ActivationStats())  # an empty one changes nothing
    assert merged.n_samples == 3000


def large_mean_data(rng, S, U=4):
    """Mean 1e4, spread 1e-2, correlated columns: the naive E[xy] - E[x]E[y] loses it all."""
    z = rng.standard_normal((S, 1))
    noise = rng.standard_normal((S, U))
    return 1e4 + 1e-2 * (0.8 * z + 0.6 * noise)


def test_large_mean_small_spread_float64_is_exact():
    rng = np.random.default_rng(3)
    x = large_mean_data(rng, 50_000)
    stats = ActivationStats()
    for i in range(0, len(x), 9_999):
        stats.update(x[i : i + 9_999])
    # the oracle works on exactly shifted data: x - 1e4 is exact for these values
    assert np.allclose(stats.corr_within_a, corrcoef_block(x - 1e4), rtol=0, atol=1e-9)
    assert np.allclose(stats.std_a, (x - 1e4).std(axis=0), rtol=1e-9)
    naive = (x * x).mean(axis=0) - x.mean(axis=0) ** 2
    exact = (x - 1e4).var(axis=0)
    assert np.max(np.abs(naive - exact) / exact) > 1e-3  # why it matters


def test_large_mean_small_spread_float32_within_1e5_of_float64():
    # Regression: the batch mean was recorded as the float64 mean although the
    # batch had been centred on its float32 rounding; one batch was right,
    # two disagreed with float64 by 2.5e-5.
    rng = np.random.default_rng(4)
    x32 = large_mean_data(rng, 100_000).astype(np.float32)
    r32 = ActivationStats().update(x32[:60_000]).update(x32[60_000:]).corr_within_a
    r64 = correlation(x32.astype(np.float64))
    assert np.max(np.abs(r32 - r64)) <= 1e-5
    assert np.max(np.abs(r64 - np.eye(4))) > 0.1  # the data is correlated


def test_float32_relu_activations_within_1e5_of_float64():
    rng = np.random.default_rng(5)
    a, b = correlated(rng, 150_000, 32, 24, np.float32, relu=True)
    s32 = ActivationStats().update(a, b)
    s64 = ActivationStats().update(a.astype(np.float64), b.astype(np.float64))
    for name in ("corr_within_a", "corr_within_b", "corr_between"):
        assert np.max(np.abs(getattr(s32, name) - getattr(s64, name))) <= 1e-5
    assert np.allclose(s32.std_a, s64.std_a, rtol=1e-5)


def test_nchw_positions_are_samples():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 5, 4, 2))
    b = rng.standard_normal((3, 6, 4, 2))
    flat_a = a.transpose(0, 2, 3, 1).reshape(-1, 5)
    flat_b = b.transpose(0, 2, 3, 1).reshape(-1, 6)
    stats = ActivationStats().update(a, b)
    assert stats.n_samples == 24
    assert np.allclose(stats.corr_between, corrcoef_block(flat_a, flat_b), atol=1e-12)
    assert np.allclose(stats.mean_a, flat_a.mean(axis=0), atol=1e-15)


def test_between_only_equals_full():
    rng = np.random.default_rng(7)
    a, b = correlated(rng, 5000, 9, 11, relu=True)
    a[:, 3] = 0.0
    full = ActivationStats().update(a[:2000], b[:2000]).update(a[2000:], b[2000:])
    lean = (
        ActivationStats(within=False)
        .update(a[:2000], b[:2000])
        .update(a[2000:], b[2000:])
    )
    assert np.allclose(lean.corr_between, full.corr_between, atol=1e-13, equal_nan=True)
    assert np.allclose(lean.std_b, full.std_b, rtol=1e-13)
    assert lean.dead_a.tolist() == [3]
    with pytest.raises(ValueError, match="within=False"):
        _ = lean.corr_within_a


def test_state_does_not_grow_with_samples():
    rng = np.random.default_rng(8)
    a, b = correlated(rng, 1000, 8, 8, np.float32)
    stats = ActivationStats().update(a, b)
    size = sum(v.nbytes for v in vars(stats._m).values() if isinstance(v, np.ndarray))
    for _ in range(20):
        stats.update(a, b)
    assert (
        sum(v.nbytes for v in vars(stats._m).values() if isinstance(v, np.ndarray))
        == size
    )
    assert stats.n_samples == 21_000


def test_save_load_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(9)
    a, b = correlated(rng, 500, 4, 5)
    for within in (True, False):
        stats = ActivationStats(within=within).update(a, b)
        path = tmp_path / f"stats-{within}.npz"
        stats.save(path)
        back = ActivationStats.load(path)
        assert back.n_samples == 500 and back.within == within
        assert np.array_equal(back.corr_between, stats.corr_between)
        # and it keeps accumulating as the original would
        assert np.array_equal(back.update(a, b).mean_b, stats.update(a, b).mean_b)


def test_load_names_a_damaged_file(tmp_path):
    bad = tmp_path / "stats.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="stats.npz"):
        ActivationStats.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz"):
        ActivationStats.load(other)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda s: s.update(np.zeros((4, 2), np.int64)),
            TypeError,
            "a must be float32",
        ),
        (lambda s: s.update([[1.0, 2.0]]), TypeError, "a must be a numpy array"),
        (
            lambda s: s.update(np.zeros((4, 2, 2))),
            ValueError,
            r"a must be 2-D .* \(4, 2, 2\)",
        ),
        (
            lambda s: s.update(np.zeros((4, 2)), np.zeros((5, 2))),
            ValueError,
            "same samples",
        ),
        (
            lambda s: s.update(np.zeros((4, 2)), np.zeros((4, 2), np.float32)),
            TypeError,
            "one dtype",
        ),
        (lambda s: s.update(np.full((4, 2), np.nan)), ValueError, "NaN or inf"),
        (lambda s: s.update(np.full((4, 2), np.inf)), ValueError, "NaN or inf"),
    ],
)
def test_bad_batches_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call(ActivationStats())


def test_unit_counts_must_stay_and_merges_must_match():
    stats = ActivationStats().update(np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"unit counts \(2, 4\), got \(2, 3\)"):
        stats.update(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="cannot merge"):
        stats.merge(ActivationStats().update(np.ones((3, 2))))
    with pytest.raises(TypeError, match="ActivationStats"):
        stats.merge({"n": 3})
    with pytest.raises(ValueError, match="two nets"):
        ActivationStats(within=False).update(np.ones((3, 2)))
    with pytest.raises(ValueError, match="no samples yet"):
        _ = ActivationStats().corr_between
    with pytest.raises(ValueError, match="of one net"):
        _ = ActivationStats().update(np.ones((3, 2))).corr_between


class FakeNet:
    """A stand-in with the two methods collect_stats uses: a fixed random 'layer'."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.w = rng.standard_normal((12, 6))
        self.calls = 0

    def preprocess(self, images):
        return images.astype(np.float64) / 255.0

    def activations(self, x, layers):
        self.calls += 1
        flat = x.reshape(len(x), -1)  # (N, 12)
        # a 'conv layer' of 3 channels at 2 x 2 positions: (N, 3, 2, 2)
        conv = np.maximum(
            x[:, :, :, :1].transpose(0, 3, 1, 2) * self.w[:3, 0, None, None], 0
        )
        fc = np.maximum(flat @ self.w - 0.1, 0)  # (N, 6)
        return {name: {"fc": fc, "conv": conv}[name] for name in layers}


def test_collect_stats_equals_direct_pairs_in_one_pass():
    rng = np.random.default_rng(10)
    images = rng.integers(0, 256, size=(37, 2, 2, 3), dtype=np.uint8)
    nets = [FakeNet(s) for s in range(3)]
    result = collect_stats(nets, images, ["fc", "conv"], batch_size=8)
    assert sorted(result) == [(0, 1), (0, 2), (1, 2)]
    assert all(net.calls == 5 for net in nets)  # ceil(37 / 8) forward passes each
    full = [net.activations(net.preprocess(images), ["fc", "conv"]) for net in nets]
    for (i, j), layers in result.items():
        for name in ("fc", "conv"):
            ref = ActivationStats().update(full[i][name], full[j][name])
            got = layers[name]
            assert got.n_samples == ref.n_samples
            for attr in ("corr_between", "corr_within_a", "corr_within_b"):
                assert np.allclose(
                    getattr(got, attr), getattr(ref, attr), atol=1e-12, equal_nan=True
                )
            assert np.array_equal(got.dead_b, ref.dead_b)


def test_collect_stats_on_real_nets():
    from convlearn.nn.model import build

    rng = np.random.default_rng(11)
    images = rng.integers(0, 256, size=(10, 3, 32, 32), dtype=np.uint8)
    nets = [build("tiny", seed=s) for s in (0, 1)]
    layers = [nets[0].layer_names[0]]
    stats = collect_stats(nets, images, layers, batch_size=4)[(0, 1)][layers[0]]
    acts = [n.activations(n.preprocess(images), layers)[layers[0]] for n in nets]
    N, _, H, W = acts[0].shape
    assert stats.n_samples == N * H * W
    ref = correlation(*(a.astype(np.float64) for a in acts))
    assert np.allclose(stats.corr_between, ref, atol=1e-5, equal_nan=True)


def test_collect_stats_refuses_bad_arguments():
    images = np.zeros((4, 2, 2, 3), np.uint8)
    with pytest.raises(ValueError, match="at least two nets"):
        collect_stats([FakeNet(0)], images, ["fc"])
    with pytest.raises(ValueError, match="at least one layer"):
        collect_stats([FakeNet(0), FakeNet(1)], images, [])
    with pytest.raises(ValueError, match="non-empty"):
        collect_stats([FakeNet(0), FakeNet(1)], images[:0], ["fc"])
    with pytest.raises(ValueError, match="batch_size"):
        collect_stats([FakeNet(0), FakeNet(1)], images, ["fc"], batch_size=0)


@pytest.mark.parametrize("scale", [1e-100, 1e-30, 1e30, 1e77, 1e150])
def test_correlation_at_extreme_scales(scale):
    # Regression: sqrt(outer(ss, ss)) overflowed (1e77 gave the identity) or
    # underflowed (1e-100 gave +-1 everywhere); np.corrcoef is the oracle.
    rng = np.random.default_rng(12)
    x = rng.standard_normal((200, 4))
    x[:, 1] += x[:, 0]
    assert np.allclose(correlation(x * scale), corrcoef_block(x), rtol=0, atol=1e-12)


def test_overflowing_squares_are_named():
    x = np.random.default_rng(13).standard_normal((50, 3)) * 1e160
    with pytest.raises(ValueError, match="squares of this batch overflow float64"):
        correlation(x)


def test_load_names_truncated_and_forged_files(tmp_path):
    rng = np.random.default_rng(14)
    good = tmp_path / "good.npz"
    ActivationStats().update(
        rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    ).save(good)
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    with np.load(good) as z:
        fields = dict(z)
    forged = []
    for change in (
        {"sizes": np.array([2, 1, 4])},
        {"n": np.array(-100)},
        {"n": np.array([1, 2])},
    ):
        path = tmp_path / f"forged-{len(forged)}.npz"
        np.savez(path, **{**fields, **change})
        forged.append(path)
    for path in [cut, single, *forged]:
        with pytest.raises(ValueError, match=path.name):
            ActivationStats.load(path)
    with pytest.raises(FileNotFoundError):
        ActivationStats.load(tmp_path / "missing.npz")
