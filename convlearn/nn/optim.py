"""SGD with momentum and weight decay, and learning-rate schedules.

The optimiser updates a dict of parameter arrays in place from a dict of
gradient arrays of the same keys, shapes and dtypes. A schedule is a small
frozen dataclass mapping training progress in epochs (a float: step ``i`` of
epoch ``e`` with ``S`` steps per epoch is ``e + i / S``) to a learning rate.
The training loop joins the two: ``opt.step(params, grads, lr=sched(epoch))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SCHEDULES",
    "SGD",
    "ConstantLR",
    "CosineLR",
    "OneCycleLR",
    "Schedule",
    "StepLR",
    "make_schedule",
]

_PREFIX = "velocity/"


def _check_number(name: str, value: float, low: float = 0.0) -> float:
    """Return `value` as a float, or raise unless it is finite and >= `low`."""
    x = float(value)
    if not (math.isfinite(x) and x >= low):
        raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}")
    return x


class SGD:
    """Stochastic gradient descent with momentum and L2 weight decay.

    Parameters
    ----------
    momentum : float, default 0.9
        mu in [0, 1). 0 gives plain SGD (and keeps no velocity).
    weight_decay : float, default 0.0
        lambda >= 0, added to the gradient as ``lambda * p``.
    nesterov : bool, default False
        Use Nesterov momentum (needs momentum > 0, as in PyTorch).

    Notes
    -----
    PyTorch's form (``torch.optim.SGD`` with dampening 0), per parameter p
    with gradient `grad` and learning rate lr of this step::

        g = grad + weight_decay * p      # L2 penalty (weight_decay / 2) * ||p||^2
        v = momentum * v + g             # v = g on a parameter's first step
        p -= lr * v                      # nesterov: p -= lr * (g + momentum * v)

    Weight decay enters the gradient, so it is scaled by lr and carried by
    the momentum, as in Caffe and PyTorch (not decoupled as in AdamW).

    Caffe and CS231n keep a velocity that already holds the learning rate,
    ``u = mu * u - lr * g; p += u``. With a constant lr the two are the same
    update, ``u = -lr * v``; when lr changes, the Caffe velocity keeps the
    old lr in its history while here the new lr rescales the whole history.
    (Caffe also starts from u = 0, which equals v = g on the first step.)

    The velocities are the only state; `state_dict` and `load_state_dict`
    checkpoint them exactly. The update uses in-place ufuncs and two reused
    scratch buffers, so a step allocates nothing after the first.
    """

    def __init__(
        self, momentum: float = 0.9, weight_decay: float = 0.0, nesterov: bool = False
    ) -> None:
        self.momentum = _check_number("momentum", momentum)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self._velocity: dict[str, np.ndarray] = {}
        self._work: dict[np.dtype, np.ndarray] = {}

    def __repr__(self) -> str:
        return (
            f"SGD(momentum={self.momentum}, weight_decay={self.weight_decay}, "
            f"nesterov={self.nesterov})"
        )

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float
    ) -> None:
        """Update `params` in place by one step of learning rate `lr`.

        Parameters
        ----------
        params : dict of str to float ndarray
            The net's parameters; the arrays are modified, never replaced.
        grads : dict of str to ndarray
            Gradients of the loss, each of its parameter's shape and dtype;
            read only. Parameters without a gradient are left unchanged.
        lr : float
            Learning rate of this step, finite and >= 0.
        """
        lr = _check_number("lr", lr)
        for key, grad in grads.items():  # validate everything before touching anything
            if key not in params:
                raise ValueError(f"grads has key {key!r} that is not in params")
            p = params[key]
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"params[{key!r}] must be a float ndarray, got {type(p)}"
                )
            if (
                not isinstance(grad, np.ndarray)
                or grad.shape != p.shape
                or grad.dtype != p.dtype
            ):
                raise ValueError(
                    f"grads[{key!r}] must be an ndarray of shape {p.shape} and dtype "
                    f"{p.dtype} like its parameter, got {_describe(grad)}"
                )
            v = self._velocity.get(key)
            if v is not None and (v.shape != p.shape or v.dtype != p.dtype):
                raise ValueError(
                    f"velocity for {key!r} has shape {v.shape} and dtype {v.dtype}, "
                    f"but the parameter has shape {p.shape} and dtype {p.dtype}"
                )
        for key, grad in grads.items():
            self._update(key, params[key], grad, lr)

    def _update(self, key: str, p: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """One parameter's update; `g` and `t` are scratch, `grad` is read only."""
        g, t = self._scratch(p, 2)
        if self.weight_decay:
            np.multiply(p, self.weight_decay, out=g)
            g += grad  # g = grad + wd * p
        else:
            g = grad
        if self.momentum:
            v = self._velocity.get(key)
            if v is None:
                v = self._velocity[key] = g.copy()
            else:
                v *= self.momentum
                v += g  # v = mu * v + g
            if self.nesterov:
                np.multiply(v, self.momentum, out=t)
                np.add(g, t, out=t)  # t = g + mu * v
                d = t
            else:
                d = v
        else:
            d = g
        np.multiply(d, lr, out=t)
        p -= t

    def _scratch(self, like: np.ndarray, n: int) -> list[np.ndarray]:
        """`n` arrays shaped like `like`, cut from one buffer kept per dtype."""
        size = like.size
        buf = self._work.get(like.dtype)
        if buf is None or buf.size < n * size:
            buf = self._work[like.dtype] = np.empty(n * size, like.dtype)
        return [buf[i * size : (i + 1) * size].reshape(like.shape) for i in range(n)]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the velocities, keyed ``"velocity/<param key>"``.

        Only parameters that have taken a step have a velocity (none when
        momentum is 0). The hyper-parameters are not included: they are the
        constructor's and belong to the training config.
        """
        return {_PREFIX + key: v.copy() for key, v in self._velocity.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Replace the velocities by copies of those in `state`.

        Parameters
        ----------
        state : dict of str to float ndarray
            As returned by `state_dict`: keys ``"velocity/<param key>"``.
            Shapes and dtypes are checked against the parameters at the
            next `step`.
        """
        velocity = {}
        for name, v in state.items():
            if not name.startswith(_PREFIX):
                raise ValueError(f"state key {name!r} does not start with {_PREFIX!r}")
            if not isinstance(v, np.ndarray) or not np.issubdtype(v.dtype, np.floating):
                raise ValueError(
                    f"state[{name!r}] must be a float ndarray, got {_describe(v)}"
                )
            velocity[name[len(_PREFIX) :]] = np.array(v, copy=True)
        self._velocity = velocity


def _describe(a: object) -> str:
    """Shape and dtype of an array, or the type of anything else."""
    if isinstance(a, np.ndarray):
        return f"shape {a.shape} and dtype {a.dtype}"
    return type(a).__name__


# --- learning-rate schedules ----------------------------------------------------
# Each maps progress in epochs (a float >= 0) to a learning rate. Positions past
# the end of training keep the final value.


def _check_epoch(epoch: float) -> float:
    """`epoch` as a float, or ValueError unless it is finite and >= 0."""
    return _check_number("epoch", epoch)


def _cos_anneal(start: float, end: float, t: float) -> float:
    """Half a cosine from `start` (t = 0) to `end` (t = 1)."""
    return end + (start - end) * (1.0 + math.cos(math.pi * t)) / 2.0


@dataclass(frozen=True)
class ConstantLR:
    """The same learning rate `lr` at every epoch."""

    lr: float

    def __post_init__(self) -> None:
        _check_number("lr", self.lr)

    def __call__(self, epoch: float) -> float:
        _check_epoch(epoch)
        return float(self.lr)


@dataclass(frozen=True)
class StepLR:
    """``lr * gamma ** floor(epoch / step_epochs)``: divide by 1/gamma in stages.

    As PyTorch's ``StepLR`` with ``step_size = step_epochs * steps_per_epoch``.
    The ratio ``epoch / step_epochs`` is rounded to an integer when it is within
    1e-9 of one, so that a boundary reached as ``e + i / S`` in floating point
    is not missed by one step.
    """

    lr: float
    step_epochs: float
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _check_number("lr", self.lr)
        if not _check_number("step_epochs", self.step_epochs) > 0:
            raise ValueError(f"step_epochs must be > 0, got {self.step_epochs!r}")
        if not _check_number("gamma", self.gamma) > 0:
            raise ValueError(f"gamma must be > 0, got {self.gamma!r}")

    def __call__(self, epoch: float) -> float:
        ratio = _check_epoch(epoch) / self.step_epochs
        nearest = round(ratio)
        stages = nearest if abs(ratio - nearest) <= 1e-9 else math.floor(ratio)
        return float(self.lr * self.gamma**stages)


@dataclass(frozen=True)
class CosineLR:
    """Linear warm-up, then cosine annealing from `lr` to `final_lr`.

    Notes
    -----
    With ``W = warmup_epochs`` and ``T = total_epochs``::

        epoch < W:       lr * epoch / W          (from 0, not from a small value)
        W <= epoch < T:  final_lr + (lr - final_lr) * (1 + cos(pi * t)) / 2,
                         t = (epoch - W) / (T - W)
        epoch >= T:      final_lr

    With W = 0 this is PyTorch's ``CosineAnnealingLR(T_max=T * S,
    eta_min=final_lr)`` at step ``epoch * S`` (SGDR without restarts,
    Loshchilov & Hutter, ICLR 2017). The warm-up starts at 0, so a step taken
    exactly at epoch 0 does not move the weights.
    """

    lr: float
    total_epochs: float
    warmup_epochs: float = 0.0
    final_lr: float = 0.0

    def __post_init__(self) -> None:
        _check_number("lr", self.lr)
        if not _check_number("total_epochs", self.total_epochs) > 0:
            raise ValueError(f"total_epochs must be > 0, got {self.total_epochs!r}")
        if not _check_number("warmup_epochs", self.warmup_epochs) < self.total_epochs:
            raise ValueError(
                f"warmup_epochs must be < total_epochs={self.total_epochs!r}, "
                f"got {self.warmup_epochs!r}"
            )
        if not _check_number("final_lr", self.final_lr) <= self.lr:
            raise ValueError(
                f"final_lr must be <= lr={self.lr!r}, got {self.final_lr!r}"
            )

    def __call__(self, epoch: float) -> float:
        epoch = _check_epoch(epoch)
        if epoch < self.warmup_epochs:
            return float(self.lr * epoch / self.warmup_epochs)
        t = min(
            1.0, (epoch - self.warmup_epochs) / (self.total_epochs - self.warmup_epochs)
        )
        return float(_cos_anneal(self.lr, self.final_lr, t))


@dataclass(frozen=True)
class OneCycleLR:
    """One cycle: cosine up from ``max_lr / div_factor`` to `max_lr`, then down.

    Notes
    -----
    With ``T = total_epochs``, ``P = pct_start * T``,
    ``lr0 = max_lr / div_factor`` and ``lr_min = lr0 / final_div_factor``::

        epoch <= P:      cos_anneal(lr0, max_lr, epoch / P)
        P < epoch < T:   cos_anneal(max_lr, lr_min, (epoch - P) / (T - P))
        epoch >= T:      lr_min

    where ``cos_anneal(a, b, t) = b + (a - b) * (1 + cos(pi * t)) / 2``
    (Smith & Topin, 2019). This is PyTorch's ``OneCycleLR`` (cos, two phases)
    on continuous progress. PyTorch's discrete version puts the peak at step
    ``pct_start * N - 1`` and ``lr_min`` at step ``N - 1`` of ``N`` steps,
    one step earlier than here: it equals this schedule with
    ``total_epochs = N - 1`` and ``pct_start = (pct_start * N - 1) / (N - 1)``
    evaluated at the step number.
    """

    max_lr: float
    total_epochs: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def __post_init__(self) -> None:
        for name in ("max_lr", "total_epochs", "div_factor", "final_div_factor"):
            if not _check_number(name, getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 < _check_number("pct_start", self.pct_start) < 1.0:
            raise ValueError(f"pct_start must be in (0, 1), got {self.pct_start!r}")

    def __call__(self, epoch: float) -> float:
        epoch = _check_epoch(epoch)
        lr0 = self.max_lr / self.div_factor
        lr_min = lr0 / self.final_div_factor
        peak = self.pct_start * self.total_epochs
        if epoch <= peak:
            return float(_cos_anneal(lr0, self.max_lr, epoch / peak))
        t = min(1.0, (epoch - peak) / (self.total_epochs - peak))
        return float(_cos_anneal(self.max_lr, lr_min, t))


Schedule = Callable[[float], float]  # progress in epochs -> learning rate

SCHEDULES = ("constant", "step", "cosine", "onecycle")


def make_schedule(name: str, lr: float, total_epochs: float) -> Schedule:
    """A schedule by name, with the package's defaults.

    Parameters
    ----------
    name : {"constant", "step", "cosine", "onecycle"}
        "constant": `lr` throughout. "step": `lr`, then ``lr / 10`` and
        ``lr / 100`` over three equal thirds of training (StepLR with
        ``step_epochs = total_epochs / 3``). "cosine": CosineLR from `lr` to 0,
        no warm-up. "onecycle": OneCycleLR with ``max_lr = lr`` and PyTorch's
        defaults (30% warm-up from ``lr / 25`` down to ``lr / 2.5e5``).
    lr : float
        The base (or peak, for "onecycle") learning rate.
    total_epochs : float
        Length of training in epochs, > 0.

    Returns
    -------
    schedule : ConstantLR, StepLR, CosineLR or OneCycleLR
        Called with progress in epochs, it returns the learning rate.
    """
    if not _check_number("total_epochs", total_epochs) > 0:
        raise ValueError(f"total_epochs must be > 0, got {total_epochs!r}")
    if name == "constant":
        return ConstantLR(lr)
    if name == "step":
        return StepLR(lr, step_epochs=total_epochs / 3)
    if name == "cosine":
        return CosineLR(lr, total_epochs)
    if name == "onecycle":
        return OneCycleLR(lr, total_epochs)
    raise ValueError(
        f"unknown schedule {name!r}; expected one of {', '.join(SCHEDULES)}"
    )
