"""Tests for convlearn.datasets: Dataset validation and subsets, data_home, and the
synthetic default (determinism, balance, independence of the splits, and that its
classes need spatial features rather than colour)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from convlearn.datasets import SYNTHETIC_CLASSES, Dataset, data_home, synthetic

CLASSES = ["a", "b", "c"]


def arrays(n_train=6, n_test=4, size=(32, 32), seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 3, *size), dtype=np.uint8),
        "y_train": np.arange(n_train) % 3,
        "x_test": rng.integers(0, 256, (n_test, 3, *size), dtype=np.uint8),
        "y_test": np.arange(n_test) % 3,
        "classes": list(CLASSES),
    }


@pytest.fixture(scope="module")
def data():
    return synthetic(2000, 1000, seed=0)


# ---- Dataset -----------------------------------------------------------------

BAD_FIELDS = [
    (
        "x_train",
        np.zeros((6, 3, 32, 32), np.float32),
        TypeError,
        r"x_train must have dtype uint8.*float32",
    ),
    ("x_train", [[0]], TypeError, r"x_train must be a numpy array.*list"),
    (
        "x_train",
        np.zeros((6, 32, 32, 3), np.uint8),
        ValueError,
        r"x_train must have shape \(N, 3, H, W\).*\(6, 32, 32, 3\)",
    ),
    (
        "x_test",
        np.zeros((4, 3, 32), np.uint8),
        ValueError,
        r"x_test must have shape .*\(4, 3, 32\)",
    ),
    (
        "x_test",
        np.zeros((4, 3, 16, 16), np.uint8),
        ValueError,
        r"one image size.*\(6, 3, 32, 32\) and \(4, 3, 16, 16\)",
    ),
    (
        "y_train",
        np.zeros(6, np.float64),
        TypeError,
        r"y_train must hold integers.*float64",
    ),
    (
        "y_train",
        np.zeros(5, np.int64),
        ValueError,
        r"y_train must have shape \(6,\).*\(5,\)",
    ),
    (
        "y_test",
        np.array([0, 1, 3, 0]),
        ValueError,
        r"y_test must be in \[0, 3\), got 3 at index 2",
    ),
    (
        "y_test",
        np.array([0, -1, 2, 0]),
        ValueError,
        r"y_test must be in \[0, 3\).*got -1 at index 1",
    ),
    ("classes", ["a", "b", 3], TypeError, r"classes must be a list of str"),
    ("classes", "abc", TypeError, r"classes must be a list of str"),
    ("classes", ["a", "b", "a"], ValueError, r"classes must be distinct"),
    ("classes", [], ValueError, r"classes must be distinct names, at least one"),
]


@pytest.mark.parametrize("field, value, error, match", BAD_FIELDS)
def test_dataset_rejects_bad_fields(field, value, error, match):
    kwargs = arrays()
    kwargs[field] = value
    with pytest.raises(error, match=match):
        Dataset(**kwargs)


def test_dataset_stores_int64_labels_and_a_list_of_classes():
    kwargs = arrays()
    kwargs["y_train"] = kwargs["y_train"].astype(np.uint8)
    kwargs["classes"] = tuple(CLASSES)
    d = Dataset(**kwargs)
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    assert d.classes == CLASSES and d.n_classes == 3
    np.testing.assert_array_equal(d.y_train, np.arange(6) % 3)
    assert "x_train=(6, 3, 32, 32)" in repr(d)


def test_dataset_accepts_other_image_sizes_and_empty_splits():
    d = Dataset(**arrays(n_train=2, n_test=0, size=(24, 20)))
    assert d.x_train.shape == (2, 3, 24, 20) and d.x_test.shape == (0, 3, 24, 20)


def test_dataset_is_frozen():
    d = Dataset(**arrays())
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.x_train = d.x_test


def test_subset_first_n_copies():
    d = Dataset(**arrays())
    s = d.subset(4, 2)
    np.testing.assert_array_equal(s.x_train, d.x_train[:4])
    np.testing.assert_array_equal(s.y_test, d.y_test[:2])
    assert not np.shares_memory(s.x_train, d.x_train)
    assert d.subset(None, None).x_test.shape == d.x_test.shape


def test_subset_random_is_stratified_ordered_and_seeded(data):
    s = data.subset(300, 100, seed=3)
    assert np.array_equal(np.bincount(s.y_train, minlength=10), np.full(10, 30))
    assert np.array_equal(np.bincount(s.y_test, minlength=10), np.full(10, 10))
    again = data.subset(300, 100, seed=3)
    np.testing.assert_array_equal(s.x_train, again.x_train)
    other = data.subset(300, 100, seed=4)
    assert not np.array_equal(s.x_train, other.x_train)
    # the chosen images keep their order: each is an image of the full set
    rows = {x.tobytes(): i for i, x in enumerate(data.x_train)}
    picked = [rows[x.tobytes()] for x in s.x_train]
    assert picked == sorted(picked) and len(set(picked)) == 300


def test_subset_random_keeps_proportions_of_unbalanced_classes():
    kwargs = arrays(n_train=40, n_test=4)
    kwargs["y_train"] = np.array([0] * 30 + [1] * 8 + [2] * 2)
    s = Dataset(**kwargs).subset(20, 4, seed=0)
    assert np.bincount(s.y_train, minlength=3).tolist() == [15, 4, 1]


@pytest.mark.parametrize(
    "n_train, n_test", [(7, 1), (-1, 1), (2.0, 1), (1, 5), (True, 1)]
)
def test_subset_rejects_bad_counts(n_train, n_test):
    with pytest.raises(
        ValueError, match=r"n_(train|test) must be an integer in \[0, [64]\]"
    ):
        Dataset(**arrays()).subset(n_train, n_test)


# ---- data_home -----------------------------------------------------------------


def test_data_home_honours_convlearn_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVLEARN_DATA", str(tmp_path / "here"))
    assert data_home() == tmp_path / "here"
    assert not (tmp_path / "here").exists()  # naming the folder does not create it


def test_data_home_default_and_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CONVLEARN_DATA", raising=False)
    assert data_home() == Path(tmp_path) / ".cache" / "convlearn"
    monkeypatch.setenv("CONVLEARN_DATA", "")
    assert data_home() == Path(tmp_path) / ".cache" / "convlearn"
    monkeypatch.setenv("CONVLEARN_DATA", "~/data")
    assert data_home() == Path(tmp_path) / "data"


# ---- synthetic -----------------------------------------------------------------


def test_synthetic_shapes_dtypes_and_classes(data):
    assert data.x_train.shape == (2000, 3, 32, 32) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (1000, 3, 32, 32) and data.x_test.dtype == np.uint8
    assert data.y_train.shape == (2000,) and data.y_train.dtype == np.int64
    assert data.classes == list(SYNTHETIC_CLASSES)
    assert len(set(data.classes)) == 10 and all(
        isinstance(c, str) and c for c in data.classes
    )


def test_synthetic_is_deterministic_by_seed(data):
    a, b = synthetic(600, 300, seed=0), synthetic(600, 300, seed=0)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    other = synthetic(200, 100, seed=1)
    assert np.mean(other.x_train != data.x_train[:200]) > 0.5
    assert np.mean(other.x_test != data.x_test[:100]) > 0.5


def test_synthetic_takes_a_generator():
    a = synthetic(20, 10, seed=np.random.default_rng(5))
    b = synthetic(20, 10, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, synthetic(20, 10, seed=5).x_train)


def test_synthetic_train_independent_of_n_test_and_prefix_stable(data):
    small = synthetic(1234, 3, seed=0)  # ends inside a 500-image chunk
    np.testing.assert_array_equal(small.x_train, data.x_train[:1234])
    np.testing.assert_array_equal(small.y_train, data.y_train[:1234])
    np.testing.assert_array_equal(small.x_test, data.x_test[:3])
    # the test images are not copies of training images
    assert np.mean(data.x_test[:100] != data.x_train[:100]) > 0.5


def test_synthetic_labels_are_balanced(data):
    assert np.bincount(data.y_train, minlength=10).tolist() == [200] * 10
    assert np.bincount(data.y_test, minlength=10).tolist() == [100] * 10
    blocks = np.sort(data.y_train.reshape(-1, 10), axis=1)
    assert np.all(blocks == np.arange(10))  # every run of ten is a permutation
    assert not np.all(
        data.y_train.reshape(-1, 10) == np.arange(10)
    )  # ... not always the same one
    assert np.ptp(np.bincount(synthetic(25, 0, seed=2).y_train, minlength=10)) <= 1


def test_synthetic_zero_images():
    d = synthetic(0, 0, seed=0)
    assert d.x_train.shape == (0, 3, 32, 32) and d.y_test.shape == (0,)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_train": -1}, ValueError, r"n_train must be an integer >= 0, got -1"),
        ({"n_test": 2.5}, ValueError, r"n_test must be an integer >= 0, got 2.5"),
        (
            {"seed": 1.5},
            TypeError,
            r"seed must be a non-negative integer or a numpy Generator, got 1.5",
        ),
        (
            {"seed": "0"},
            TypeError,
            r"seed must be a non-negative integer or a numpy Generator, got '0'",
        ),
        ({"seed": -3}, ValueError, r"seed must be >= 0, got -3"),
    ],
)
def test_synthetic_rejects_bad_arguments(kwargs, error, match):
    args = {"n_train": 10, "n_test": 10, **kwargs}
    with pytest.raises(error, match=match):
        synthetic(**args)


def test_synthetic_pixels_use_the_range(data):
    x = data.x_train
    assert x.min() == 0 and x.max() == 255
    per_image_std = x.reshape(len(x), -1).std(axis=1)
    assert per_image_std.min() > 5.0  # no flat image
    # every class has bright and dark images: brightness is not the class
    mean = x.mean(axis=(1, 2, 3))
    for k in range(10):
        assert (
            np.percentile(mean[data.y_train == k], 10)
            < 100
            < np.percentile(mean[data.y_train == k], 90)
        )


def test_synthetic_mean_colour_does_not_give_the_class(data):
    # nearest class mean on the per-image mean RGB: about chance (10%)
    f_train = data.x_train.mean(axis=(2, 3))  # (N, 3)
    f_test = data.x_test.mean(axis=(2, 3))
    centres = np.stack([f_train[data.y_train == k].mean(axis=0) for k in range(10)])
    pred = np.argmin(((f_test[:, None, :] - centres) ** 2).sum(axis=2), axis=1)
    accuracy = np.mean(pred == data.y_test)
    assert accuracy < 0.2


def gradient_orientation(x):
    """Dominant gradient direction of each image (N,) in degrees from the x axis, in (-90, 90].

    From the structure tensor J = sum over pixels and channels of g g^T, with
    g = (d/dx, d/dy) taken on 2 x 2 blocks so both components sit at one
    point (forward differences see a diagonal staircase as 0 or 90 degrees).
    Pixel noise is isotropic and leaves the direction alone on average.
    """
    x = x.astype(np.float32)
    a, b, c, d = x[:, :, :-1, :-1], x[:, :, :-1, 1:], x[:, :, 1:, :-1], x[:, :, 1:, 1:]
    gx, gy = (b - a) + (d - c), (c - a) + (d - b)
    jxx, jyy, jxy = (
        (g * h).sum(axis=(1, 2, 3)) for g, h in ((gx, gx), (gy, gy), (gx, gy))
    )
    return np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy))


def test_synthetic_stripe_classes_have_their_orientation(data):
    # the gradient is normal to the stripes: horizontal stripes vary along y (90 degrees)
    theta = np.abs(gradient_orientation(data.x_train[:1000]))
    of = {
        name: theta[data.y_train[:1000] == k]
        for k, name in enumerate(SYNTHETIC_CLASSES)
    }
    assert np.mean(of["horizontal stripes"] > 65) > 0.99
    assert np.mean(of["vertical stripes"] < 25) > 0.99
    assert np.mean(np.abs(of["diagonal stripes"] - 45) < 15) > 0.99
    # shapes have no preferred orientation: the discs spread over the whole range
    assert np.percentile(of["disc"], 10) < 20 and np.percentile(of["disc"], 90) > 70
