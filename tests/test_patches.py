"""convlearn.patches: receptive fields (against a brute force) and patches cut at them."""

import numpy as np
import pytest

from convlearn.nn.model import build
from convlearn.patches import cut_patch, receptive_field, top_patches


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
    inside = cut_patch(images, 1, 3, 3, (3, 1, -1))
    np.testing.assert_array_equal(inside, images[1, :, 2:5, 2:5])
    corner = cut_patch(images, 0, 0, 0, (5, 1, -2))
    assert corner.shape == (3, 5, 5)
    assert (corner[:, :2, :] == 128).all() and (corner[:, :, :2] == 128).all()
    np.testing.assert_array_equal(corner[:, 2:, 2:], images[0, :, :3, :3])


def test_top_patches_are_the_strongest_images_in_order():
    images = np.arange(4 * 3 * 6 * 6, dtype=np.uint8).reshape(4, 3, 6, 6)
    peak = np.array(
        [[0.1], [0.9], [0.5], [0.7]]
    )  # (N, U): unit 0 peaks most on image 1
    where = np.array([[0], [7], [14], [35]])  # flat positions h * 6 + w
    field = (3, 1, -1)
    got = top_patches(images, peak, where, 0, field, width=6, k=3)
    expected = [
        cut_patch(images, 1, 1, 1, field),
        cut_patch(images, 3, 5, 5, field),
        cut_patch(images, 2, 2, 2, field),
    ]
    np.testing.assert_array_equal(got, np.stack(expected))
    assert top_patches(images, peak, where, 0, field, width=6, k=9).shape == (
        4,
        3,
        3,
        3,
    )
