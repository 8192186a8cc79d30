"""Tests for convlearn.nn.optim: SGD against torch.optim.SGD, schedules against
torch.optim.lr_scheduler and hand-computed values, state round trips, errors."""

import dataclasses
import io
import math
import tracemalloc

import numpy as np
import pytest

from convlearn.nn.optim import (
    SCHEDULES,
    SGD,
    ConstantLR,
    CosineLR,
    OneCycleLR,
    StepLR,
    make_schedule,
)

SHAPES = {
    "conv1.weight": (4, 3, 5, 3),
    "conv1.bias": (4,),
    "fc.weight": (7, 6),
    "scale": (),
}
N_STEPS = 20


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for these tests")


def rel_err(a, b):
    """max|a - b| / max|b|, as DESIGN.md defines it."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def random_params(rng, dtype):
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def random_grads(rng, dtype):
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def lr_at(step):
    """A changing learning rate, with one step at lr = 0."""
    return 0.0 if step == 7 else 0.1 * (1.5 + math.sin(step))


SGD_CASES = [
    {"momentum": 0.0, "weight_decay": 0.0, "nesterov": False},
    {"momentum": 0.0, "weight_decay": 0.05, "nesterov": False},
    {"momentum": 0.9, "weight_decay": 0.0, "nesterov": False},
    {"momentum": 0.9, "weight_decay": 0.05, "nesterov": False},
    {"momentum": 0.5, "weight_decay": 0.0, "nesterov": True},
    {"momentum": 0.9, "weight_decay": 0.05, "nesterov": True},
]


# --- SGD ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("hyper", SGD_CASES)
def test_sgd_matches_torch(torch, hyper, dtype, tol):
    rng = np.random.default_rng(0)
    params = random_params(rng, dtype)
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    topt = torch.optim.SGD(list(tparams.values()), lr=1.0, **hyper)
    opt = SGD(**hyper)
    for step in range(N_STEPS):
        grads = random_grads(rng, dtype)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k].copy())
        topt.param_groups[0]["lr"] = lr_at(step)
        topt.step()
        opt.step(params, grads, lr=lr_at(step))
    for k, t in tparams.items():
        # The parameters are O(1), so the absolute tolerance is relative to their
        # scale; an element that cancels to near 0 keeps O(1) round-off (FMA or not).
        assert params[k].dtype == dtype
        np.testing.assert_allclose(
            params[k], t.detach().numpy(), rtol=tol, atol=tol, err_msg=k
        )


def test_sgd_matches_hand_computed_first_steps():
    p0, g0, g1 = np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([-1.0, 2.0])
    params = {"w": p0.copy()}
    opt = SGD(momentum=0.9, weight_decay=0.1)
    opt.step(params, {"w": g0}, lr=0.5)
    v0 = g0 + 0.1 * p0  # v = g on the first step
    p1 = p0 - 0.5 * v0
    np.testing.assert_allclose(params["w"], p1, rtol=0, atol=1e-15)
    opt.step(params, {"w": g1}, lr=0.25)
    v1 = 0.9 * v0 + (g1 + 0.1 * p1)
    np.testing.assert_allclose(params["w"], p1 - 0.25 * v1, rtol=0, atol=1e-15)


def test_sgd_equals_caffe_form_for_constant_lr():
    # Caffe / CS231n: u = mu * u - lr * g; p += u. The same update when lr is constant.
    rng = np.random.default_rng(1)
    mu, wd, lr = 0.9, 1e-3, 0.05
    params = random_params(rng, np.float64)
    caffe = {k: v.copy() for k, v in params.items()}
    u = {k: np.zeros_like(v) for k, v in params.items()}
    opt = SGD(momentum=mu, weight_decay=wd)
    for _ in range(N_STEPS):
        grads = random_grads(rng, np.float64)
        opt.step(params, grads, lr)
        for k, p in caffe.items():
            u[k] = mu * u[k] - lr * (grads[k] + wd * p)
            p += u[k]
    for k in params:
        assert rel_err(params[k], caffe[k]) <= 1e-12, k


@pytest.mark.parametrize("hyper", SGD_CASES)
def test_sgd_updates_in_place_and_leaves_grads_alone(hyper):
    rng = np.random.default_rng(2)
    params = random_params(rng, np.float32)
    before = {k: v.copy() for k, v in params.items()}
    ids = {k: id(v) for k, v in params.items()}
    view = params["fc.weight"][1:, ::2]  # a layer holding a view sees the update
    view_before = view.copy()
    opt = SGD(**hyper)
    for step in range(3):
        grads = random_grads(rng, np.float32)
        grads_copy = {k: v.copy() for k, v in grads.items()}
        opt.step(params, grads, lr=0.1)
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_copy[k])
    assert {k: id(v) for k, v in params.items()} == ids
    for k in params:
        assert not np.array_equal(params[k], before[k]), k
    np.testing.assert_array_equal(view, params["fc.weight"][1:, ::2])
    assert not np.array_equal(view, view_before)


def test_sgd_leaves_params_without_grads_alone():
    rng = np.random.default_rng(3)
    params = random_params(rng, np.float64)
    frozen = params["conv1.bias"].copy()
    grads = random_grads(rng, np.float64)
    del grads["conv1.bias"]
    SGD().step(params, grads, lr=0.1)
    np.testing.assert_array_equal(params["conv1.bias"], frozen)


def test_sgd_velocity_keeps_param_dtype_and_momentum_zero_keeps_none():
    rng = np.random.default_rng(4)
    params, grads = random_params(rng, np.float32), random_grads(rng, np.float32)
    opt = SGD(momentum=0.9)
    opt.step(params, grads, lr=0.1)
    state = opt.state_dict()
    assert sorted(state) == sorted("velocity/" + k for k in SHAPES)
    assert all(
        v.dtype == np.float32 and v.shape == SHAPES[k[9:]] for k, v in state.items()
    )
    plain = SGD(momentum=0.0)
    plain.step(params, grads, lr=0.1)
    assert plain.state_dict() == {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hyper", SGD_CASES)
def test_state_dict_round_trip_is_bit_identical(hyper, dtype):
    rng = np.random.default_rng(5)
    params = random_params(rng, dtype)
    grads = [random_grads(rng, dtype) for _ in range(20)]
    opt = SGD(**hyper)
    for step in range(10):
        opt.step(params, grads[step], lr_at(step))
    state = opt.state_dict()
    saved = {k: v.copy() for k, v in params.items()}
    for step in range(10, 20):
        opt.step(params, grads[step], lr_at(step))

    buf = io.BytesIO()  # through a checkpoint file, as the training loop does
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        restored = SGD(**hyper)
        restored.load_state_dict(dict(f))
    for step in range(10, 20):
        restored.step(saved, grads[step], lr_at(step))
    for k in params:
        np.testing.assert_array_equal(saved[k], params[k])
        assert saved[k].dtype == dtype


def test_state_dict_is_a_snapshot():
    rng = np.random.default_rng(6)
    params = random_params(rng, np.float64)
    opt = SGD(momentum=0.9)
    opt.step(params, random_grads(rng, np.float64), 0.1)
    state = opt.state_dict()
    copy = {k: v.copy() for k, v in state.items()}
    opt.step(params, random_grads(rng, np.float64), 0.1)
    opt.load_state_dict(state)
    state["velocity/fc.weight"][...] = 0.0  # the loaded velocities are copies too
    assert all(
        np.array_equal(state[k], copy[k]) for k in state if k != "velocity/fc.weight"
    )
    np.testing.assert_array_equal(
        opt.state_dict()["velocity/fc.weight"], copy["velocity/fc.weight"]
    )


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_step_allocates_no_param_sized_array(nesterov):
    rng = np.random.default_rng(7)
    params = {"w": rng.standard_normal(200_000)}  # 1.6 MB
    grads = {"w": rng.standard_normal(200_000)}
    opt = SGD(momentum=0.9, weight_decay=1e-3, nesterov=nesterov)
    opt.step(params, grads, 0.1)  # creates the velocity and the scratch buffer
    tracemalloc.start()
    try:
        opt.step(params, grads, 0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < params["w"].nbytes // 10


# --- SGD errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
        ({"momentum": -0.1}, r"momentum .* got -0.1"),
        ({"momentum": float("nan")}, r"momentum .* got nan"),
        ({"weight_decay": -1e-4}, r"weight_decay .* got -0.0001"),
        ({"momentum": 0.0, "nesterov": True}, r"nesterov=True needs momentum > 0"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD(**kwargs)


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
def test_sgd_rejects_bad_lr(lr):
    params = {"w": np.zeros(3)}
    with pytest.raises(
        ValueError, match=rf"lr must be a finite number >= 0.0, got {lr}"
    ):
        SGD().step(params, {"w": np.ones(3)}, lr)


@pytest.mark.parametrize(
    "grads, match",
    [
        (
            {"fc9.weight": np.ones(3)},
            r"grads has key 'fc9.weight' that is not in params",
        ),
        (
            {"w": np.ones(4)},
            r"grads\['w'\] must be .* shape \(3,\) .* got shape \(4,\)",
        ),
        (
            {"w": np.ones(3, np.float32)},
            r"grads\['w'\] .* dtype float64 .* dtype float32",
        ),
        ({"w": [1.0, 2.0, 3.0]}, r"grads\['w'\] .* got list"),
    ],
)
def test_sgd_rejects_bad_grads_before_updating_anything(grads, match):
    params = {"a": np.ones(2), "w": np.zeros(3)}
    grads = {"a": np.ones(2), **grads}  # a good key first: it must not be updated
    with pytest.raises(ValueError, match=match):
        SGD().step(params, grads, 0.1)
    np.testing.assert_array_equal(params["a"], np.ones(2))


def test_sgd_rejects_non_float_params():
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float ndarray"):
        SGD().step({"w": np.zeros(3, np.int64)}, {"w": np.zeros(3, np.int64)}, 0.1)


def test_load_state_dict_rejects_bad_state():
    opt = SGD()
    with pytest.raises(
        ValueError, match=r"state key 'w' does not start with 'velocity/'"
    ):
        opt.load_state_dict({"w": np.zeros(3)})
    with pytest.raises(
        ValueError, match=r"state\['velocity/w'\] must be a float ndarray"
    ):
        opt.load_state_dict({"velocity/w": np.zeros(3, np.int32)})
    opt.load_state_dict({"velocity/w": np.zeros(4)})
    with pytest.raises(ValueError, match=r"velocity for 'w' has shape \(4,\)"):
        opt.step({"w": np.zeros(3)}, {"w": np.zeros(3)}, 0.1)


# --- schedules against PyTorch -----------------------------------------------------


def torch_lrs(torch, make_scheduler, n_steps, lr):
    """Learning rates a torch scheduler gives at steps 0 .. n_steps - 1."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(n_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


def test_step_lr_matches_torch(torch):
    S, lr, step_epochs, gamma = 4, 0.2, 2.5, 0.5  # torch step_size = 2.5 * 4 = 10 steps
    expected = torch_lrs(
        torch,
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=gamma),
        45,
        lr,
    )
    sched = StepLR(lr, step_epochs, gamma)
    got = np.array([sched(k / S) for k in range(45)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("final_lr", [0.0, 0.01])
def test_cosine_lr_matches_torch(torch, final_lr):
    S, lr, total = 5, 0.1, 6.0  # T_max = 30 steps
    expected = torch_lrs(
        torch,
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
            o, T_max=30, eta_min=final_lr
        ),
        31,
        lr,
    )
    sched = CosineLR(lr, total, final_lr=final_lr)
    got = np.array([sched(k / S) for k in range(31)])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * lr)
    assert got[-1] == final_lr


@pytest.mark.parametrize("n_steps, pct_start", [(100, 0.3), (37, 0.25), (1000, 0.45)])
def test_onecycle_lr_matches_torch_with_its_one_step_shift(torch, n_steps, pct_start):
    # torch peaks at step pct_start * N - 1 and ends at step N - 1: the continuous
    # schedule with total_epochs = N - 1 and the peak moved to match, at epoch = step.
    max_lr, div, final_div = 0.05, 25.0, 1e4
    expected = torch_lrs(
        torch,
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o,
            max_lr=max_lr,
            total_steps=n_steps,
            pct_start=pct_start,
            div_factor=div,
            final_div_factor=final_div,
            anneal_strategy="cos",
            three_phase=False,
            cycle_momentum=False,
        ),
        n_steps,
        max_lr,
    )
    shifted = OneCycleLR(
        max_lr,
        total_epochs=n_steps - 1,
        pct_start=(pct_start * n_steps - 1) / (n_steps - 1),
        div_factor=div,
        final_div_factor=final_div,
    )
    got = np.array([shifted(k) for k in range(n_steps)])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)


def test_onecycle_lr_peaks_one_step_later_than_torch(torch):
    # Unshifted, the two differ: torch reaches max_lr at step pct_start * N - 1,
    # the continuous schedule at epoch pct_start * total_epochs.
    n_steps, max_lr = 100, 0.05
    expected = torch_lrs(
        torch,
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=max_lr, total_steps=n_steps, cycle_momentum=False
        ),
        n_steps,
        max_lr,
    )
    plain = OneCycleLR(max_lr, total_epochs=n_steps)
    assert int(np.argmax(expected)) == 29
    assert expected[29] == pytest.approx(max_lr, rel=1e-12)
    assert plain(30) == pytest.approx(max_lr, rel=1e-12)
    assert plain(29) < max_lr * (1 - 1e-4)
    assert expected[-1] == pytest.approx(plain(n_steps), rel=1e-9)


# --- schedules against hand-computed values ----------------------------------------


def half_cos(a, b, t):
    return b + (a - b) * (1 + math.cos(math.pi * t)) / 2


@pytest.mark.parametrize(
    "sched, epoch, expected",
    [
        (ConstantLR(0.1), 0.0, 0.1),
        (ConstantLR(0.1), 1e6, 0.1),
        (StepLR(1.0, 3.0), 0.0, 1.0),
        (StepLR(1.0, 3.0), 2.999, 1.0),
        (StepLR(1.0, 3.0), 3.0, 0.1),
        (StepLR(1.0, 3.0), 6.5, 0.01),
        # Regression: 0.7 / 0.1 == 6.999999999999999 in floating point, and a
        # bare floor() took the 7th step one step late.
        (StepLR(1.0, 0.1, gamma=0.5), 0.7, 0.5**7),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 0.0, 0.0),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 1.0, 0.5),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 2.0, 1.0),
        (
            CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1),
            4.0,
            half_cos(1.0, 0.1, 0.25),
        ),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 6.0, 0.55),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 10.0, 0.1),
        (CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1), 25.0, 0.1),
        (CosineLR(0.1, 4.0), 0.0, 0.1),
        (CosineLR(0.1, 4.0), 5.0, 0.0),
        (OneCycleLR(1.0, 10.0), 0.0, 0.04),
        (OneCycleLR(1.0, 10.0), 0.75, half_cos(0.04, 1.0, 0.25)),
        (OneCycleLR(1.0, 10.0), 1.5, 0.52),
        (OneCycleLR(1.0, 10.0), 3.0, 1.0),
        (OneCycleLR(1.0, 10.0), 6.5, (1.0 + 4e-6) / 2),
        (OneCycleLR(1.0, 10.0), 10.0, 4e-6),
        (OneCycleLR(1.0, 10.0), 30.0, 4e-6),
        (
            OneCycleLR(2.0, 1.0, pct_start=0.5, div_factor=4.0, final_div_factor=10.0),
            0.0,
            0.5,
        ),
        (
            OneCycleLR(2.0, 1.0, pct_start=0.5, div_factor=4.0, final_div_factor=10.0),
            1.0,
            0.05,
        ),
    ],
)
def test_schedule_values(sched, epoch, expected):
    got = sched(epoch)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "sched",
    [
        StepLR(1.0, 2.0),
        CosineLR(1.0, 10.0, warmup_epochs=2.0, final_lr=0.1),
        OneCycleLR(1.0, 10.0),
    ],
)
def test_schedules_are_continuous_where_they_should_be(sched):
    # Cosine and one-cycle are continuous everywhere; StepLR only jumps at boundaries.
    epochs = np.linspace(0.0, 12.0, 2401)
    lrs = np.array([sched(e) for e in epochs])
    jumps = np.abs(np.diff(lrs))
    if isinstance(sched, StepLR):
        assert np.count_nonzero(jumps > 1e-12) == 6  # at epochs 2, 4, ..., 12
    else:
        assert jumps.max() < 0.01


def test_schedules_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CosineLR(0.1, 10.0).lr = 1.0


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: ConstantLR(-1.0), r"lr must be a finite number >= 0.0, got -1.0"),
        (lambda: StepLR(0.1, 0.0), r"step_epochs must be > 0, got 0.0"),
        (lambda: StepLR(0.1, 1.0, gamma=0.0), r"gamma must be > 0, got 0.0"),
        (lambda: CosineLR(0.1, 0.0), r"total_epochs must be > 0, got 0.0"),
        (lambda: CosineLR(0.1, float("inf")), r"total_epochs .* got inf"),
        (
            lambda: CosineLR(0.1, 10.0, warmup_epochs=10.0),
            r"warmup_epochs must be < total",
        ),
        (lambda: CosineLR(0.1, 10.0, warmup_epochs=-1.0), r"warmup_epochs .* got -1.0"),
        (
            lambda: CosineLR(0.1, 10.0, final_lr=0.2),
            r"final_lr must be <= lr=0.1, got 0.2",
        ),
        (lambda: OneCycleLR(0.0, 10.0), r"max_lr must be > 0, got 0.0"),
        (lambda: OneCycleLR(0.1, -3.0), r"total_epochs .* got -3.0"),
        (
            lambda: OneCycleLR(0.1, 10.0, pct_start=1.0),
            r"pct_start must be in \(0, 1\)",
        ),
        (lambda: OneCycleLR(0.1, 10.0, div_factor=0.0), r"div_factor must be > 0"),
        (
            lambda: OneCycleLR(0.1, 10.0)(-0.5),
            r"epoch must be a finite number >= 0.0, got -0.5",
        ),
        (lambda: StepLR(0.1, 1.0)(float("nan")), r"epoch .* got nan"),
        (lambda: make_schedule("cosine", 0.1, 0.0), r"total_epochs must be > 0"),
        (
            lambda: make_schedule("linear", 0.1, 10.0),
            (
                r"unknown schedule 'linear'; "
                r"expected one of constant, step, cosine, onecycle"
            ),
        ),
    ],
)
def test_schedules_reject_bad_input(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


# --- make_schedule -----------------------------------------------------------------


def test_make_schedule_names_and_defaults():
    assert SCHEDULES == ("constant", "step", "cosine", "onecycle")
    lr, total = 0.05, 30.0
    assert make_schedule("constant", lr, total) == ConstantLR(lr)
    step = make_schedule("step", lr, total)
    assert step == StepLR(lr, 10.0, 0.1)
    assert [step(e) for e in (0.0, 9.9, 10.0, 20.0)] == pytest.approx(
        [0.05, 0.05, 0.005, 0.0005], rel=1e-12
    )
    assert make_schedule("cosine", lr, total) == CosineLR(lr, total)
    onecycle = make_schedule("onecycle", lr, total)
    assert onecycle == OneCycleLR(lr, total, 0.3, 25.0, 1e4)
    assert onecycle(9.0) == pytest.approx(lr, rel=1e-12)
