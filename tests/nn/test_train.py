"""The training loop: determinism, history, divergence, evaluation."""

import json

import numpy as np
import pytest

from convlearn.nn.model import build
from convlearn.nn.train import TrainConfig, augment, evaluate, minibatches, train


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


def test_minibatches_cover_every_sample_once():
    batches = minibatches(10, 4, np.random.default_rng(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


def test_same_seeds_give_bit_identical_weights():
    x, y = _data()
    config = TrainConfig(epochs=2, batch_size=16, lr=0.02, schedule="cosine")
    nets = [build("tiny", seed=3) for _ in range(2)]
    for net in nets:
        train(net, x, y, config)
    for key, value in nets[0].params().items():
        assert np.array_equal(value, nets[1].params()[key]), key


def test_data_seed_changes_the_order_and_so_the_weights():
    x, y = _data()
    a, b = build("tiny", seed=3), build("tiny", seed=3)
    train(a, x, y, TrainConfig(epochs=1, batch_size=16, data_seed=0))
    train(b, x, y, TrainConfig(epochs=1, batch_size=16, data_seed=1))
    assert not np.array_equal(a.params()["conv1.weight"], b.params()["conv1.weight"])


def test_history_records_each_epoch_and_the_loss_falls():
    x, y = _data(100)
    net = build("tiny", seed=0)
    history = train(
        net, x, y, TrainConfig(epochs=8, batch_size=25, lr=0.05), test=(x, y)
    )
    assert [h["epoch"] for h in history] == list(range(1, 9))
    assert set(history[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "lr",
        "test_loss",
        "test_accuracy",
        "seconds",
    }
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.3
    loss, acc = evaluate(net, x, y)
    assert loss == pytest.approx(history[-1]["test_loss"])
    assert acc == pytest.approx(history[-1]["test_accuracy"])


@pytest.mark.filterwarnings(
    "ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning"
)
def test_divergence_stops_with_the_epoch_and_step():
    x, y = _data()
    net = build("tiny", seed=0)
    with pytest.raises(FloatingPointError, match=r"epoch 1, step \d+"):
        train(
            net, x, y, TrainConfig(epochs=1, batch_size=16, lr=1e6, schedule="constant")
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"schedule": "linear"}, "schedule"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_labels_of_the_wrong_length_are_refused():
    x, y = _data()
    with pytest.raises(ValueError, match="labels"):
        train(build("tiny"), x, y[:-1], TrainConfig(epochs=1))


class _StopAfter:
    """A reporter that interrupts the run after a number of finished epochs."""

    def __init__(self, epochs):
        self.epochs = epochs

    def info(self, message):
        if message.startswith("epoch "):
            self.epochs -= 1
            if self.epochs == 0:
                raise KeyboardInterrupt

    def status(self, message):
        pass

    def end_status(self):
        pass


def test_an_interrupted_run_resumes_to_identical_weights(tmp_path):
    x, y = _data(48)
    config = TrainConfig(epochs=3, batch_size=16, lr=0.02)
    whole = build("small", seed=1)  # has no dropout; "paper" is covered below
    train(whole, x, y, config)
    ckpt = tmp_path / "run.ckpt.npz"
    resumed = build("small", seed=1)
    with pytest.raises(KeyboardInterrupt):
        train(resumed, x, y, config, checkpoint=ckpt, reporter=_StopAfter(1))
    assert ckpt.exists() and not list(
        tmp_path.glob("*.tmp")
    )  # pathlib globs hidden files too
    resumed = build("small", seed=1)  # a fresh process would start from scratch weights
    history = train(resumed, x, y, config, checkpoint=ckpt)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for key, value in whole.params().items():
        assert np.array_equal(value, resumed.params()[key]), key


def test_resume_restores_dropout_generators(tmp_path):
    x, y = _data(32)
    config = TrainConfig(epochs=2, batch_size=32, lr=0.01)
    whole = build("paper", seed=2)
    train(whole, x, y, config)
    ckpt = tmp_path / "paper.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        train(
            build("paper", seed=2),
            x,
            y,
            config,
            checkpoint=ckpt,
            reporter=_StopAfter(1),
        )
    resumed = build("paper", seed=2)
    train(resumed, x, y, config, checkpoint=ckpt)
    for key, value in whole.params().items():
        assert np.array_equal(value, resumed.params()[key]), key


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    x, y = _data(32)
    ckpt = tmp_path / "run.ckpt.npz"
    train(build("tiny"), x, y, TrainConfig(epochs=1, batch_size=16), checkpoint=ckpt)
    with pytest.raises(ValueError, match="another run"):
        train(
            build("tiny"), x, y, TrainConfig(epochs=2, batch_size=16), checkpoint=ckpt
        )


def test_a_corrupt_checkpoint_is_named(tmp_path):
    x, y = _data(32)
    ckpt = tmp_path / "run.ckpt.npz"
    ckpt.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="run.ckpt.npz"):
        train(build("tiny"), x, y, TrainConfig(epochs=1), checkpoint=ckpt)


def test_augment_crops_and_flips_within_the_padded_image():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, (64, 3, 8, 8), dtype=np.uint8)
    out = augment(images, np.random.default_rng(1), crop_pad=2, flip=True)
    assert out.shape == images.shape and out.dtype == np.uint8
    # every output is a shifted, possibly mirrored copy: its non-zero pixels
    # form a window of the original
    for img, aug in zip(images, out):
        found = False
        for cand in (aug, aug[:, :, ::-1]):
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    shifted = np.zeros_like(img)
                    src = img[
                        :, max(dy, 0) : 8 + min(dy, 0), max(dx, 0) : 8 + min(dx, 0)
                    ]
                    shifted[
                        :, max(-dy, 0) : 8 + min(-dy, 0), max(-dx, 0) : 8 + min(-dx, 0)
                    ] = src
                    found |= np.array_equal(shifted, cand)
        assert found
    assert not np.array_equal(out, images)
    same = augment(images, np.random.default_rng(1), crop_pad=2, flip=True)
    assert np.array_equal(out, same)
    assert np.array_equal(augment(images, rng, crop_pad=0, flip=False), images)


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    x, y = _data(32)
    net = build("tiny", seed=0)
    ckpt = tmp_path / "run.ckpt.npz"
    config = TrainConfig(epochs=3, batch_size=16)
    forward = net.forward
    calls = []

    def forward_that_diverges_in_epoch_two(x, train=False):
        calls.append(train)
        logits = forward(x, train)
        return (
            logits * np.nan if sum(calls) > 2 else logits
        )  # two training steps per epoch

    monkeypatch.setattr(net, "forward", forward_that_diverges_in_epoch_two)
    with pytest.raises(FloatingPointError, match="epoch 2, step 1.*holds epoch 1"):
        train(net, x, y, config, checkpoint=ckpt)
    with np.load(ckpt, allow_pickle=False) as f:
        assert json.loads(str(f["meta.json"]))["epochs_done"] == 1


def test_a_checkpoint_made_on_other_data_is_refused(tmp_path):
    x, y = _data(32)
    ckpt = tmp_path / "run.ckpt.npz"
    config = TrainConfig(epochs=2, batch_size=16)
    with pytest.raises(KeyboardInterrupt):
        train(build("tiny"), x, y, config, checkpoint=ckpt, reporter=_StopAfter(1))
    other_x, other_y = _data(32, seed=1)
    with pytest.raises(ValueError, match="another run"):
        train(build("tiny"), other_x, other_y, config, checkpoint=ckpt)
