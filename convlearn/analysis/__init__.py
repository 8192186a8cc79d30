"""The paper's analyses of units, on plain arrays (nothing here imports convlearn.nn).

Conventions shared by every module of this package:

- Activations are taken after the ReLU (a layer's name in ``Net.activations``
  gives its rectified output).
- A 2-D array is (S, U): S samples by U units. A 4-D array is NCHW
  activations of a conv layer, and every spatial position of every image is
  one sample: (N, C, H, W) becomes (N*H*W, C) with ``as_samples``.
- Mutual information is in nats (natural logarithms), bias corrections too.
- Statistics and solvers work in float64 unless a docstring says otherwise.

Modules, in the paper's order: ``stats`` (streaming means, standard
deviations and correlations), ``mutual_info`` (binned mutual information),
``matching`` (semi-matching and unit alignment, on ``assignment``, a
hand-written solver of the assignment problem), ``lasso`` (sparse
prediction), ``spectral`` (spectral clustering).
"""

from ._samples import as_samples

__all__ = ["as_samples"]
