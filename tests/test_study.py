"""convlearn.study: the analyses of a set of nets, checked against direct computation."""

import json
import shutil

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

from convlearn import study
from convlearn.analysis.stats import correlation
from convlearn.datasets import synthetic
from convlearn.nn.model import build
from convlearn.patches import cut_patch, receptive_field
from convlearn.study import StudyConfig, analyze, load_layer

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
        np.testing.assert_array_equal(patches[k, 0], cut_patch(images, i, h, w, field))
    assert patches.shape[:3] == (6, 9, 3)


@pytest.mark.parametrize("stop_at", ["conv2", "fc4"])
def test_analyze_resumes_after_an_interruption(
    nets, images, tmp_path_factory, monkeypatch, stop_at
):
    """Killed in a layer's step, run again: the finished steps are kept, the result is the
    same as an uninterrupted run's. Regression: all layers drew their positions from one
    generator, so a resumed conv2 got other positions (and other numbers) than a full run."""
    layers = ("conv1", "conv2", "fc4")
    info = [{"seed": s} for s in range(3)]
    whole = tmp_path_factory.mktemp("whole")
    analyze(nets, images, _config(layers=layers), whole, info)
    calls = []
    real = study._layer

    def interrupted(layer, *args):
        calls.append(layer)
        if layer == stop_at and calls.count(layer) == 1:
            raise KeyboardInterrupt
        return real(layer, *args)

    monkeypatch.setattr(study, "_layer", interrupted)
    resumed = tmp_path_factory.mktemp("resumed")
    with pytest.raises(KeyboardInterrupt):
        analyze(nets, images, _config(layers=layers), resumed, info)
    assert not (resumed / f"{stop_at}.json").exists()

    def no_statistics(*args, **kw):
        raise AssertionError("the statistics were computed again")

    monkeypatch.setattr(study, "collect_stats", no_statistics)
    analyze(nets, images, _config(layers=layers), resumed, info)
    done_before = layers[: layers.index(stop_at)]
    assert calls == [*done_before, stop_at, *layers[layers.index(stop_at) :]]
    for layer in layers:
        assert json.loads((resumed / f"{layer}.json").read_text()) == json.loads(
            (whole / f"{layer}.json").read_text()
        )


def test_analyze_refuses_another_studys_folder(nets, images, done):
    info = [{"seed": s} for s in range(3)]
    with pytest.raises(ValueError, match="another study: its config differ"):
        analyze(nets, images, _config(positions=4), done, info)
    with pytest.raises(ValueError, match="another study: its weights differ"):
        analyze([nets[0], nets[2], nets[1]], images, _config(), done, info)
    with pytest.raises(ValueError, match="another study: its images differ"):
        analyze(nets, images[::-1].copy(), _config(), done, info)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"layers": ("conv7",)}, "config.layers must name distinct conv or fc layers"),
        ({"layers": ("pool1",)}, r"of the 'small' net \(conv1, conv2, conv3, fc4\)"),
        ({"n_images": 241}, "config.n_images must be between 2 and the 240"),
    ],
)
def test_analyze_bad_config(nets, images, tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        analyze(nets, images, _config(**kw), tmp_path)


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (
            {"layers": ()},
            ValueError,
            "config.layers must name distinct layers, at least one",
        ),
        ({"layers": ("conv1", "conv1")}, ValueError, "distinct layers"),
        ({"layers": "conv1"}, TypeError, "config.layers must be a tuple"),
        (
            {"n_sample_images": 1},
            ValueError,
            "config.n_sample_images must be an integer >= 2",
        ),
        (
            {"positions": 0},
            ValueError,
            "config.positions must be an integer >= 1, got 0",
        ),
        ({"mi_bins": 1}, ValueError, "config.mi_bins must be an integer >= 2"),
        (
            {"cluster_size": 0},
            ValueError,
            "config.cluster_size must be an integer >= 1",
        ),
        ({"seed": -1}, ValueError, "config.seed must be an integer >= 0"),
        ({"alphas": ()}, ValueError, "config.alphas must be a non-empty"),
        ({"alphas": (0.1, -1.0)}, ValueError, "alphas >= 0"),
        (
            {"unique_threshold": 0.0},
            ValueError,
            r"config.unique_threshold must be in \(0, 1\]",
        ),
    ],
)
def test_study_config_checks_every_field(kw, error, match):
    with pytest.raises(error, match=match):
        _config(**kw)


def test_study_config_normalises_sequences():
    cfg = _config(layers=["conv1"], alphas=[0, 1])
    assert cfg.layers == ("conv1",) and cfg.alphas == (0.0, 1.0)
    assert cfg.to_dict()["layers"] == ["conv1"]


def test_dead_units_stay_out_of_clusters_and_mutual_information(done):
    numbers, arrays = load_layer(done, "fc4")
    dead_a, dead_b = (
        numbers["pairs"]["0-1"]["dead_a"],
        numbers["pairs"]["0-1"]["dead_b"],
    )
    assert dead_a > 0  # these random nets have silent fc4 units
    total = 2 * numbers["units"]
    bounds = arrays["cluster_bounds_fixed"]
    # a line after the last cluster, before the dead units at the end
    assert (
        bounds[-1] == total - dead_a - dead_b
        and len(bounds) == numbers["spectral"]["fixed"]["n_clusters"]
    )
    mi = arrays["mi"]
    assert np.isnan(mi).all(axis=1).sum() >= dead_a  # a dead unit has no MI partner
    assert np.isfinite(numbers["mi"]["mean_best_mi"])


def test_analysable_layers_are_the_conv_and_fc_layers_before_the_classifier():
    assert study.analysable_layers(build("paper")) == [
        "conv1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "fc6",
        "fc7",
    ]
    assert study.analysable_layers(build("tiny")) == ["conv1", "conv2"]


def test_a_damaged_step_file_is_redone(nets, images, done, tmp_path, monkeypatch):
    shutil.copytree(done, tmp_path / "a")
    (tmp_path / "a" / "conv1.json").write_text('{"layer": "conv1", "un')
    (tmp_path / "a" / "fc4.npz").write_bytes(b"garbage")
    calls = []
    real = study._layer
    monkeypatch.setattr(
        study, "_layer", lambda layer, *a: (calls.append(layer), real(layer, *a))
    )
    analyze(nets, images, _config(), tmp_path / "a", [{"seed": s} for s in range(3)])
    assert calls == ["conv1", "fc4"]
    for layer in LAYERS:
        assert load_layer(tmp_path / "a", layer)[0] == load_layer(done, layer)[0]


def test_analyze_needs_two_nets(nets, images, tmp_path):
    with pytest.raises(ValueError, match="at least two nets, got 1"):
        analyze(nets[:1], images, _config(), tmp_path)


def test_damaged_layer_file_is_named(done, tmp_path):
    (tmp_path / "conv1.json").write_text("{not json")
    with pytest.raises(ValueError, match="conv1.json: damaged JSON"):
        load_layer(tmp_path, "conv1")
