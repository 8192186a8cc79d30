"""convlearn.study: the analyses of a set of nets, checked against direct computation."""

import json

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

from convlearn import study
from convlearn.analysis.stats import correlation
from convlearn.datasets import synthetic
from convlearn.nn.model import build
from convlearn.study import StudyConfig, analyze, load_layer, receptive_field

LAYERS = ("conv1", "fc4")


@pytest.fixture(scope="module")
def nets():
    return [build("small", seed=s) for s in range(3)]


@pytest.fixture(scope="module")
def images():
    return synthetic(10, 240, seed=3).x_test


def _config(**kw):
    base = dict(layers=LAYERS, n_images=240, n_sample_images=120, positions=8, seed=1)
    base.update(kw)
    return StudyConfig(**base)


@pytest.fixture(scope="module")
def done(nets, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    analyze(nets, images, _config(), out, [{"seed": s} for s in range(3)])
    return out


def _unit_samples(net, images, layer):
    a = net.activations(net.preprocess(images), [layer])[layer]
    return a if a.ndim == 2 else a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


@pytest.mark.parametrize(
    "arch, layer, expected",
    [
        ("paper", "conv1", (5, 1, -2)),
        ("paper", "conv2", (15, 2, -6)),
        ("paper", "conv3", (27, 4, -10)),
        ("paper", "conv5", (43, 4, -18)),
        ("small", "conv3", (35, 4, -14)),
        ("tiny", "conv2", (8, 2, -3)),
    ],
)
def test_receptive_field_values(arch, layer, expected):
    assert receptive_field(build(arch), layer) == expected


@pytest.mark.parametrize(
    "arch, layer, h, w",
    [("paper", "conv2", 7, 4), ("paper", "conv3", 0, 6), ("small", "conv2", 3, 0)],
)
def test_receptive_field_matches_perturbation(arch, layer, h, w):
    """Brute force: the input pixels whose change moves unit (h, w) span exactly its field."""
    net = build(arch, seed=0)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    base = net.activations(x0, [layer])[layer][0, :, h, w]
    moved = np.zeros((32, 32), bool)
    for sign in (10.0, -10.0):
        X = np.repeat(x0, 1024, axis=0)
        X.reshape(1024, 3, 1024)[np.arange(1024), :, np.arange(1024)] += sign
        acts = net.activations(X, [layer])[layer][
            :, :, h, w
        ]  # (1024 perturbed pixels, U)
        moved |= (np.abs(acts - base) > 1e-5).any(axis=1).reshape(32, 32)
    rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
    size, jump, offset = receptive_field(net, layer)
    top, left = offset + h * jump, offset + w * jump
    assert (rows.min(), rows.max()) == (max(top, 0), min(top + size - 1, 31))
    assert (cols.min(), cols.max()) == (max(left, 0), min(left + size - 1, 31))


def test_receptive_field_unknown_layer():
    with pytest.raises(ValueError, match="'conv9' is not a layer"):
        receptive_field(build("tiny"), "conv9")


def test_cut_pads_outside_the_image_with_grey():
    images = np.arange(2 * 3 * 8 * 8, dtype=np.uint8).reshape(2, 3, 8, 8)
    inside = study._cut(images, 1, 3, 3, (3, 1, -1))
    np.testing.assert_array_equal(inside, images[1, :, 2:5, 2:5])
    corner = study._cut(images, 0, 0, 0, (5, 1, -2))
    assert corner.shape == (3, 5, 5)
    assert (corner[:, :2, :] == 128).all() and (corner[:, :, :2] == 128).all()
    np.testing.assert_array_equal(corner[:, 2:, 2:], images[0, :, :3, :3])


def test_one_to_one_numbers_match_direct_computation(nets, images, done):
    for layer in LAYERS:
        numbers, arrays = load_layer(done, layer)
        for i, j in [(0, 1), (0, 2), (1, 2)]:
            c = correlation(
                _unit_samples(nets[i], images, layer).astype(np.float64),
                _unit_samples(nets[j], images, layer).astype(np.float64),
            )
            # the oracle on the live units; dead units (all-NaN rows or columns) drop out
            live_a, live_b = ~np.isnan(c).all(axis=1), ~np.isnan(c).all(axis=0)
            c = c[np.ix_(live_a, live_b)]
            assert not np.isnan(c).any()
            pair = numbers["pairs"][f"{i}-{j}"]
            assert (pair["dead_a"], pair["dead_b"]) == (
                (~live_a).sum(),
                (~live_b).sum(),
            )
            assert pair["semi"] == pytest.approx(c.max(axis=1).mean(), abs=1e-5)
            assert pair["semi_ba"] == pytest.approx(c.max(axis=0).mean(), abs=1e-5)
            r, k = scipy_lsa(c, maximize=True)
            assert pair["bipartite"] == pytest.approx(c[r, k].mean(), abs=1e-5)
            assert pair["unique_share_a"] == pytest.approx(np.mean(c.max(axis=1) < 0.5))
            if (i, j) == (0, 1):
                between = arrays["corr_between"][np.ix_(live_a, live_b)]
                np.testing.assert_allclose(between, c, atol=1e-5)  # float32 activations
        means = numbers["mean_over_pairs"]
        semis = [p["semi"] for p in numbers["pairs"].values()]
        assert means["semi"] == pytest.approx(np.mean(semis))
        assert means["semi_min"] == min(semis) and means["semi_max"] == max(semis)


def test_sampled_analyses_use_the_configured_samples(nets, done):
    conv, fc = (load_layer(done, layer)[0] for layer in LAYERS)
    assert conv["mi"]["samples"] == 120 * 8 and fc["mi"]["samples"] == 120
    assert (conv["sparse"]["n_train"], conv["sparse"]["n_test"]) == (60 * 8, 60 * 8)
    for numbers in (conv, fc):
        sp = numbers["sparse"]
        assert sp["alphas"] == list(_config().alphas)
        # alpha = 0 is least squares: every unit of net 0 that varies on the lasso's
        # training images gets a weight (conv1 has no dead unit; fc4 has some, and
        # a few more that are silent on those images)
        live = numbers["units"] - numbers["pairs"]["0-1"]["dead_a"]
        assert (
            sp["mean_nonzeros"][0] == live
            if numbers is conv
            else sp["mean_nonzeros"][0] <= live
        )
        assert np.all(
            np.diff(sp["mean_nonzeros"]) <= 1e-9
        )  # a stronger penalty, fewer weights
        assert 0 <= numbers["mi"]["agreement_semi"] <= 1
        fixed = numbers["spectral"]["fixed"]
        assert fixed["n_clusters"] == numbers["units"] // 4
        assert fixed["shared_fraction"] == pytest.approx(
            fixed["mixed"] / fixed["n_clusters"]
        )


def test_sparse_split_is_by_image(nets, images, tmp_path):
    """The lasso's halves hold whole images: n_train = half the images x positions."""
    analyze(
        nets[:2],
        images,
        _config(layers=("conv2",), n_sample_images=30, positions=5),
        tmp_path,
    )
    sp = load_layer(tmp_path, "conv2")[0]["sparse"]
    assert (sp["n_train"], sp["n_test"]) == (15 * 5, 15 * 5)


def test_top_patch_is_the_crop_at_the_strongest_response(nets, images, tmp_path):
    analyze(
        nets[:2],
        images,
        _config(layers=("conv1",), n_sample_images=240, patches=True),
        tmp_path,
    )
    with np.load(tmp_path / "patches-conv1.npz") as z:
        units, patches = z["units_a"], z["patches_a"]
    acts = nets[0].activations(nets[0].preprocess(images), ["conv1"])["conv1"]
    field = receptive_field(nets[0], "conv1")
    for k, u in enumerate(units):
        i, h, w = np.unravel_index(np.argmax(acts[:, u]), acts[:, u].shape)
        np.testing.assert_array_equal(patches[k, 0], study._cut(images, i, h, w, field))
    assert patches.shape[:3] == (6, 9, 3)


def test_analyze_resumes_after_an_interruption(
    nets, images, done, tmp_path, monkeypatch
):
    calls = []
    real = study._layer

    def interrupted(layer, *args):
        calls.append(layer)
        if layer == "fc4" and len(calls) == 2:
            raise KeyboardInterrupt
        return real(layer, *args)

    monkeypatch.setattr(study, "_layer", interrupted)
    info = [{"seed": s} for s in range(3)]
    with pytest.raises(KeyboardInterrupt):
        analyze(nets, images, _config(), tmp_path, info)
    assert (tmp_path / "conv1.json").exists() and not (tmp_path / "fc4.json").exists()

    def no_statistics(*args, **kw):
        raise AssertionError("the statistics were computed again")

    monkeypatch.setattr(study, "collect_stats", no_statistics)
    analyze(nets, images, _config(), tmp_path, info)
    assert calls == ["conv1", "fc4", "fc4"]  # conv1 was not redone
    for layer in LAYERS:
        assert json.loads((tmp_path / f"{layer}.json").read_text()) == json.loads(
            (done / f"{layer}.json").read_text()
        )


def test_analyze_refuses_another_studys_folder(nets, images, done):
    with pytest.raises(ValueError, match="another study"):
        analyze(
            nets, images, _config(positions=4), done, [{"seed": s} for s in range(3)]
        )


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(layers=("conv7",)), "config.layers must name layers"),
        (dict(layers=()), "config.layers must name layers"),
        (dict(n_images=241), "config.n_images must be between 2 and the 240"),
        (dict(n_sample_images=1), "config.n_sample_images must be between 2"),
    ],
)
def test_analyze_bad_config(nets, images, tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        analyze(nets, images, _config(**kw), tmp_path)


def test_analyze_needs_two_nets(nets, images, tmp_path):
    with pytest.raises(ValueError, match="at least two nets, got 1"):
        analyze(nets[:1], images, _config(), tmp_path)


def test_damaged_layer_file_is_named(done, tmp_path):
    (tmp_path / "conv1.json").write_text("{not json")
    with pytest.raises(ValueError, match="conv1.json: damaged JSON"):
        load_layer(tmp_path, "conv1")
