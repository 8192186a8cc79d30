"""Several seeds into a run folder, and the `python -m convlearn train` command, killed and resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convlearn.__main__ import main
from convlearn.datasets import synthetic
from convlearn.nn.model import load
from convlearn.nn.train import TrainConfig
from convlearn.runs import (
    channel_stats,
    load_seeds,
    net_paths,
    open_dataset,
    train_seeds,
)

ROOT = Path(__file__).resolve().parents[1]


def test_channel_stats_match_numpy_on_the_whole_array():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (37, 3, 5, 4), dtype=np.uint8)
    mean, std = channel_stats(images, chunk=8)
    x = images / 255.0
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=(0, 2, 3)), rtol=1e-9)


def test_train_seeds_writes_each_net_and_skips_finished_ones(tmp_path):
    data = synthetic(64, 32, seed=0)
    config = TrainConfig(epochs=2, batch_size=32)
    histories = train_seeds("tiny", data, [0, 1], config, tmp_path)
    assert sorted(histories) == [0, 1]
    nets = load_seeds(tmp_path, [0, 1])
    for seed in (0, 1):
        weights, history, ckpt = net_paths(tmp_path, seed)
        assert weights.exists() and not ckpt.exists()
        record = json.loads(history.read_text())
        assert (
            record["seed"] == seed
            and record["config"] == config.to_dict()
            and len(record["history"]) == 2
        )
        np.testing.assert_allclose(
            nets[seed].mean, channel_stats(data.x_train)[0], rtol=1e-6
        )
    assert not np.array_equal(
        nets[0].params()["conv1.weight"], nets[1].params()["conv1.weight"]
    )
    before = net_paths(tmp_path, 0)[0].stat().st_mtime_ns
    again = train_seeds("tiny", data, [0, 1], config, tmp_path)
    assert again == histories
    assert net_paths(tmp_path, 0)[0].stat().st_mtime_ns == before  # not retrained


def test_vary_data_order_gives_each_seed_its_own_data_seed(tmp_path):
    data = synthetic(64, 32, seed=0)
    train_seeds(
        "tiny",
        data,
        [0, 1],
        TrainConfig(epochs=1, batch_size=32, data_seed=5),
        tmp_path,
        vary_data_order=True,
    )
    seeds = [
        json.loads(net_paths(tmp_path, s)[1].read_text())["config"]["data_seed"]
        for s in (0, 1)
    ]
    assert seeds == [5, 6]


def test_duplicate_seeds_are_refused(tmp_path):
    with pytest.raises(ValueError, match="seeds must be distinct"):
        train_seeds("tiny", synthetic(10, 10), [1, 1], TrainConfig(epochs=1), tmp_path)


def test_open_dataset_names_a_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")


def _train_command(out, epochs=4):
    return [
        sys.executable,
        "-m",
        "convlearn",
        "train",
        "--arch",
        "small",
        "--seeds",
        "3",
        "--epochs",
        str(epochs),
        "--n-train",
        "768",
        "--n-test",
        "64",
        "--out",
        str(out),
    ]


def test_a_killed_training_run_resumes_to_bit_identical_weights(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    subprocess.run(
        _train_command(tmp_path / "whole") + ["--quiet"],
        env=env,
        check=True,
        timeout=600,
    )

    out = tmp_path / "killed"
    ckpt = net_paths(out, 3)[2]
    proc = subprocess.Popen(_train_command(out) + ["--quiet"], env=env)
    deadline = time.monotonic() + 300
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL, (
        "the run ended before it could be killed"
    )
    with np.load(ckpt, allow_pickle=False) as f:
        done = json.loads(str(f["meta.json"]))["epochs_done"]
    assert 1 <= done < 4
    assert not list(out.glob("*.tmp")), "a half-written file was left behind"

    resumed = subprocess.run(
        _train_command(out), env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {ckpt} after epoch {done}" in resumed.stderr
    whole, again = load(net_paths(tmp_path / "whole", 3)[0]), load(net_paths(out, 3)[0])
    for key, value in whole.params().items():
        assert np.array_equal(value, again.params()[key]), key


def test_the_train_command_reports_bad_data_without_a_traceback(tmp_path, capsys):
    assert (
        main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
        == 1
    )
    assert "does not exist" in capsys.readouterr().err


def test_parallel_jobs_give_the_weights_of_a_serial_run(tmp_path):
    data = synthetic(64, 32, seed=0)
    config = TrainConfig(epochs=1, batch_size=32)
    train_seeds("tiny", data, [0, 1], config, tmp_path / "serial")
    train_seeds("tiny", data, [0, 1], config, tmp_path / "parallel", jobs=2)
    for seed in (0, 1):
        a, b = (
            load(net_paths(tmp_path / run, seed)[0]) for run in ("serial", "parallel")
        )
        for key, value in a.params().items():
            np.testing.assert_allclose(
                value, b.params()[key], rtol=1e-5, atol=1e-6, err_msg=key
            )


def test_eval_every_evaluates_only_those_epochs_and_the_last(tmp_path):
    data = synthetic(64, 32, seed=0)
    histories = train_seeds(
        "tiny", data, [0], TrainConfig(epochs=3, batch_size=32), tmp_path, eval_every=2
    )
    assert ["test_accuracy" in h for h in histories[0]] == [False, True, True]


@pytest.mark.parametrize(
    "change",
    [
        {"arch": "small"},
        {"config": TrainConfig(epochs=1, batch_size=16)},
        {"data": synthetic(48, 16, seed=1)},
    ],
    ids=["arch", "config", "data"],
)
def test_a_finished_net_of_another_run_is_neither_reused_nor_overwritten(
    tmp_path, change
):
    run = {
        "arch": "tiny",
        "config": TrainConfig(epochs=1, batch_size=32),
        "data": synthetic(48, 16, seed=0),
    }
    train_seeds(run["arch"], run["data"], [0], run["config"], tmp_path)
    before = net_paths(tmp_path, 0)[0].read_bytes()
    run.update(change)
    with pytest.raises(ValueError, match="trained by another run"):
        train_seeds(run["arch"], run["data"], [0], run["config"], tmp_path)
    assert net_paths(tmp_path, 0)[0].read_bytes() == before


@pytest.mark.parametrize("flag", ["--eval-every", "--jobs", "--n-train", "--n-test"])
def test_the_train_command_refuses_counts_below_one(tmp_path, capsys, flag):
    assert main(["train", "--arch", "tiny", flag, "0", "--out", str(tmp_path)]) == 1
    assert f"{flag} must be at least 1" in capsys.readouterr().err


def test_the_train_command_reports_an_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = [
        "train",
        "--arch",
        "tiny",
        "--epochs",
        "1",
        "--n-train",
        "32",
        "--n-test",
        "16",
        "--out",
        str(blocker),
    ]
    assert main(args) == 1
    assert "a-file" in capsys.readouterr().err


def test_a_changed_test_set_is_another_run(tmp_path):
    data = synthetic(48, 16, seed=0)
    config = TrainConfig(epochs=1, batch_size=32)
    train_seeds("tiny", data, [0], config, tmp_path)
    with pytest.raises(ValueError, match="trained by another run"):
        train_seeds("tiny", data.subset(None, 8), [0], config, tmp_path)


@pytest.mark.parametrize("damage", ["weights", "history"])
def test_damaged_files_of_a_finished_seed_are_named(tmp_path, damage):
    data = synthetic(48, 16, seed=0)
    config = TrainConfig(epochs=1, batch_size=32)
    train_seeds("tiny", data, [0], config, tmp_path)
    weights, history, _ = net_paths(tmp_path, 0)
    (weights if damage == "weights" else history).write_text("[1, 2]")
    with pytest.raises(
        ValueError, match=(weights if damage == "weights" else history).name
    ):
        train_seeds("tiny", data, [0], config, tmp_path)


def test_data_with_other_than_ten_classes_is_refused_up_front(tmp_path):
    data = synthetic(48, 16, seed=0)
    two = type(data)(
        data.x_train, data.y_train % 2, data.x_test, data.y_test % 2, ["a", "b"]
    )
    with pytest.raises(
        ValueError, match="the nets have 10 outputs, but the data has 2 classes"
    ):
        train_seeds("tiny", two, [0], TrainConfig(epochs=1), tmp_path)
