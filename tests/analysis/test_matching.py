"""Tests for convlearn.analysis.matching: semi-matching against a loop, and
unit alignment on planted permutations, dead units, ties and several nets."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

from convlearn.analysis.matching import (
    Alignment,
    align_all,
    align_units,
    partner_agreement,
    semi_matching,
)

# ---------------------------------------------------------------- semi-matching


def test_semi_matching_rows_argmax_and_dead_units():
    corr = np.array(
        [
            [0.1, 0.9, 0.3],
            [np.nan, np.nan, np.nan],  # dead unit of A
            [0.2, np.nan, 0.1],  # dead column 1 ignored
            [0.5, 0.5, -0.2],  # tie: the first column
        ]
    )
    cols, values = semi_matching(corr)
    assert cols.tolist() == [1, -1, 0, 0] and cols.dtype == np.int64
    np.testing.assert_array_equal(values, [0.9, np.nan, 0.2, 0.5])
    cols32, values32 = semi_matching(corr.astype(np.float32))
    assert values32.dtype == np.float32 and cols32.tolist() == cols.tolist()
    no_cols = semi_matching(np.zeros((3, 0)))
    assert no_cols[0].tolist() == [-1, -1, -1] and np.isnan(no_cols[1]).all()


def test_semi_matching_against_a_loop():
    rng = np.random.default_rng(1)
    corr = rng.uniform(-1, 1, (40, 30))
    corr[rng.random(corr.shape) < 0.1] = np.nan
    cols, values = semi_matching(corr)
    for i, row in enumerate(corr):
        best = max((x, -j) for j, x in enumerate(row) if not np.isnan(x))
        assert cols[i] == -best[1] and values[i] == best[0]


def test_semi_matching_errors():
    with pytest.raises(TypeError, match="float32 or float64"):
        semi_matching(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match=r"2-D .*got shape \(4,\)"):
        semi_matching(np.zeros(4))


# ---------------------------------------------------------------- alignment


def planted(rng, n, strength, noise=0.1):
    """A correlation-like matrix whose best one-to-one pairing is i -> perm[i]."""
    perm = rng.permutation(n)
    corr = noise * rng.standard_normal((n, n))
    corr[np.arange(n), perm] += strength
    return np.clip(corr, -1.0, 1.0), perm


def test_alignment_recovers_a_planted_permutation():
    rng = np.random.default_rng(0)
    corr, perm = planted(rng, 60, strength=rng.uniform(0.6, 1.0, 60))
    al = align_units(corr)
    assert isinstance(al, Alignment)
    assert np.array_equal(al.bipartite_ab, perm)
    assert np.array_equal(al.bipartite_ba[perm], np.arange(60))
    assert np.array_equal(al.semi_ab, perm) and np.array_equal(
        al.semi_ba[perm], np.arange(60)
    )
    np.testing.assert_array_equal(al.bipartite_corr, corr[np.arange(60), perm])
    rows, cols = scipy_lsa(corr, maximize=True)
    assert np.isclose(al.bipartite_corr.sum(), corr[rows, cols].sum(), rtol=1e-13)
    assert al.dead_a.size == al.dead_b.size == 0
    assert al.within_a is None and al.within_b_corr is None


def test_alignment_orders_for_the_figures():
    rng = np.random.default_rng(4)
    corr, _ = planted(rng, 25, strength=rng.uniform(0.0, 1.0, 25))
    al = align_units(corr)
    oa, ob = al.order("natural")
    assert np.array_equal(oa, np.arange(25)) and np.array_equal(ob, np.arange(25))
    oa, ob = al.order("aligned")
    assert np.array_equal(oa, np.arange(25))
    np.testing.assert_array_equal(np.diag(corr[np.ix_(oa, ob)]), al.bipartite_corr)
    oa, ob = al.order("sorted")
    diag = np.diag(corr[np.ix_(oa, ob)])
    assert np.all(np.diff(diag) <= 0) and sorted(ob.tolist()) == list(range(25))
    with pytest.raises(ValueError, match="'natural', 'aligned' or 'sorted'"):
        al.order("random")


def test_alignment_unique_units_and_threshold():
    rng = np.random.default_rng(6)
    strength = np.r_[np.full(8, 0.9), np.full(4, 0.0)]  # units 8..11 have no partner
    corr, perm = planted(rng, 12, strength, noise=0.05)
    al = align_units(corr)
    assert al.unique_threshold == 0.5
    assert al.unique_a.tolist() == [8, 9, 10, 11]
    assert sorted(al.unique_b.tolist()) == sorted(perm[8:].tolist())
    assert align_units(corr, unique_threshold=-1.0).unique_a.size == 0
    assert align_units(corr, unique_threshold=2.0).unique_a.size == 12
    with pytest.raises(TypeError, match="unique_threshold"):
        align_units(corr, unique_threshold="high")


def test_alignment_dead_units_are_matched_last_and_flagged():
    rng = np.random.default_rng(8)
    corr, perm = planted(rng, 10, strength=0.9, noise=0.05)
    corr[3, :] = np.nan  # unit 3 of A is dead
    corr[:, perm[5]] = np.nan  # so is A's 5's partner in B
    al = align_units(corr)
    assert al.dead_a.tolist() == [3] and al.dead_b.tolist() == [perm[5]]
    assert al.bipartite_ab[3] == perm[5]  # the two dead units pair up
    live = [i for i in range(10) if i not in (3, 5)]
    assert np.array_equal(al.bipartite_ab[live], perm[live])
    assert np.isnan(al.bipartite_corr[3]) and al.semi_ab[3] == -1
    assert al.semi_ba[perm[5]] == -1 and 3 not in al.unique_a.tolist()
    assert al.order("sorted")[0][-1] == 3  # dead pairs drawn last


def test_nan_pairs_are_used_as_little_as_possible():
    # brute force: fewest NaN pairs first, then the largest summed correlation
    rng = np.random.default_rng(10)
    for _ in range(60):
        n_a, n_b = (int(x) for x in rng.integers(1, 6, 2))
        corr = rng.uniform(-1, 1, (n_a, n_b))
        corr[rng.random((n_a, n_b)) < 0.4] = np.nan
        al = align_units(corr)
        pairs = [(i, j) for i, j in enumerate(al.bipartite_ab) if j >= 0]
        assert len(pairs) == min(n_a, n_b)

        def key(ps, corr=corr):
            vals = [corr[i, j] for i, j in ps]
            return (sum(np.isnan(vals)), -np.nansum(vals))

        best = min(
            key(list(zip(rows, cols)))
            for rows in itertools.combinations(range(n_a), min(n_a, n_b))
            for cols in itertools.permutations(range(n_b), min(n_a, n_b))
        )
        got = key(pairs)
        assert got[0] == best[0] and np.isclose(got[1], best[1], atol=1e-12)


def test_alignment_within_net_partners_exclude_the_diagonal():
    rng = np.random.default_rng(12)
    within_a = rng.uniform(-0.3, 0.3, (5, 5))
    within_a = (within_a + within_a.T) / 2
    np.fill_diagonal(within_a, 1.0)
    within_a[1, 4] = within_a[4, 1] = 0.8  # units 1 and 4 of A are near copies
    within_b = np.eye(4)  # four uncorrelated units
    corr = rng.uniform(-0.2, 0.2, (5, 4))
    al = align_units(corr, within_a, within_b)
    assert al.within_a[1] == 4 and al.within_a[4] == 1 and al.within_a_corr[1] == 0.8
    assert np.all(al.within_a != np.arange(5))
    assert np.all(al.within_b != np.arange(4)) and np.all(al.within_b_corr == 0.0)
    # 5 units of A, 4 of B: one unit of A has no bipartite partner
    assert (al.bipartite_ab == -1).sum() == 1 and np.isnan(al.bipartite_corr).sum() == 1
    oa, ob = al.order("aligned")
    assert len(oa) == 5 and len(ob) == 4 and al.bipartite_ab[oa[-1]] == -1
    with pytest.raises(ValueError, match=r"corr_within_b must have shape \(4, 4\)"):
        align_units(corr, within_a, np.eye(5))


def test_align_units_errors():
    with pytest.raises(TypeError, match="corr_between must be float32 or float64"):
        align_units(np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="corr_between must not hold inf.*got 1 inf"):
        align_units(np.array([[np.inf, 0.0], [0.0, 1.0]]))


def test_align_all_every_pair():
    rng = np.random.default_rng(13)
    acts = [rng.standard_normal((200, 6)) for _ in range(3)]
    corr = {
        (i, j): np.corrcoef(acts[i], acts[j], rowvar=False)[:6, 6:]
        for i, j in itertools.combinations(range(3), 2)
    }
    within = {i: np.corrcoef(acts[i], rowvar=False) for i in range(3)}
    out = align_all(corr, within, unique_threshold=0.3)
    assert set(out) == set(corr)
    for (i, j), al in out.items():
        ref = align_units(corr[i, j], within[i], within[j], unique_threshold=0.3)
        assert np.array_equal(al.bipartite_ab, ref.bipartite_ab)
        assert np.array_equal(al.within_b, ref.within_b)
    assert align_all({(0, 1): corr[0, 1]})[0, 1].within_a is None
    with pytest.raises(ValueError, match="pairs"):
        align_all({0: corr[0, 1]})
    with pytest.raises(TypeError, match="dict"):
        align_all([corr[0, 1]])


def test_partner_agreement():
    rng = np.random.default_rng(14)
    sim, _ = planted(rng, 8, strength=0.9, noise=0.05)
    assert partner_agreement(sim, sim) == (1.0, 1.0)
    # an increasing transform keeps every row's best column
    assert partner_agreement(sim, np.exp(3 * sim))[0] == 1.0
    other = sim.copy()
    other[[0, 1]] = other[[1, 0]]  # units 0 and 1 of A swap partners
    assert partner_agreement(sim, other) == (0.75, 0.75)
    other[2] = np.nan  # a dead unit is left out of both shares
    assert partner_agreement(sim, other) == (5 / 7, 5 / 7)
    with pytest.raises(ValueError, match="one shape"):
        partner_agreement(sim, sim[:, :5])
    with pytest.raises(ValueError, match="sim_2 must not hold inf"):
        partner_agreement(sim, np.full_like(sim, np.inf))
