"""Training and inference throughput of convlearn's nets against identical PyTorch nets.

Run:  python bench/train_speed.py [--threads 2] [--batch 128] [--rounds 7]

Both engines run in this one process, in alternating rounds, with the same
thread count, so machine noise hits both alike. Before timing, the PyTorch
twin gets convlearn's weights and the two must give the same logits, so the
comparison is between two computations of the same function. A training
step is forward + softmax cross-entropy + backward + SGD update (momentum
0.9, weight decay 5e-4), batch 128, float32. Reported: images per second of
each, and the ratio convlearn / PyTorch (1.0 is parity; the target is 0.67).
"""

import argparse
import os
import sys
import time


def _parse():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--threads", type=int, default=2, help="BLAS and torch threads (default 2)"
    )
    p.add_argument("--batch", type=int, default=128)
    p.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="timed rounds per engine; the median is kept",
    )
    p.add_argument("--steps", type=int, default=3, help="steps per round")
    p.add_argument("--arch", nargs="+", default=["paper", "small"])
    return p.parse_args()


args = _parse()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)  # must precede the numpy import

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from convlearn.nn import functional as F
from convlearn.nn.model import build
from convlearn.nn.optim import SGD
from convlearn.nn.pytorch import to_torch

try:
    import torch
except ImportError:
    sys.exit("this benchmark needs PyTorch CPU: pip install torch==2.13.0")


def median_seconds(fn, rounds_log):
    t0 = time.perf_counter()
    for _ in range(args.steps):
        fn()
    rounds_log.append((time.perf_counter() - t0) / args.steps)


def main():
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    print(
        f"batch {args.batch}, float32, {args.threads} threads, numpy {np.__version__}, torch {torch.__version__}"
    )
    for arch in args.arch:
        net = build(arch, seed=0)
        twin = to_torch(net)
        twin.eval()
        with torch.no_grad():
            ref = twin(xt).numpy()
        err = np.abs(net.forward(x) - ref).max() / np.abs(ref).max()
        assert err < 1e-4, (
            f"{arch}: the PyTorch twin disagrees (relative error {err:.2e})"
        )

        opt = SGD(momentum=0.9, weight_decay=5e-4)
        params, grads = net.params(), net.grads()
        topt = torch.optim.SGD(
            twin.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4
        )
        loss_fn = torch.nn.CrossEntropyLoss()

        def ours_train():
            _, dlogits = F.softmax_cross_entropy(net.forward(x, train=True), y)
            net.backward(dlogits)
            opt.step(params, grads, lr=0.01)

        def torch_train():
            topt.zero_grad(set_to_none=False)
            loss_fn(twin(xt), yt).backward()
            topt.step()

        def ours_infer():
            net.forward(x)

        def torch_infer():
            with torch.no_grad():
                twin(xt)

        for mode, ours, theirs, train in (
            ("train", ours_train, torch_train, True),
            ("infer", ours_infer, torch_infer, False),
        ):
            twin.train(train)
            ours(), theirs()  # warm up: buffers, caches
            t_ours, t_torch = [], []
            for _ in range(args.rounds):
                median_seconds(ours, t_ours)
                median_seconds(theirs, t_torch)
            r_ours = args.batch / float(np.median(t_ours))
            r_torch = args.batch / float(np.median(t_torch))
            print(
                f"{arch:6s} {mode}: convlearn {r_ours:7.0f} img/s   pytorch {r_torch:7.0f} img/s   "
                f"ratio {r_ours / r_torch:.2f}"
            )


if __name__ == "__main__":
    main()
