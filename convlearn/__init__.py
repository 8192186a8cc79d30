"""convlearn: "Convergent Learning" (Li et al., ICLR 2016) at CIFAR scale in NumPy.

Train several identical convnets that differ only in their random seed, then
ask, unit by unit, whether they learned the same features.

Shape vocabulary, used in every docstring of the package:

    N        batch size (images)
    C, F     channels in, channels out (filters)
    H, W     input height and width
    KH, KW   kernel (window) height and width
    OH, OW   output height and width: (H + 2*pad - KH) // stride + 1
    U        units of a layer (channels of a conv layer, outputs of an fc one)
    S        samples: images x spatial positions (each position is a sample)

Public arrays are NCHW (N, C, H, W); conv weights are (F, C, KH, KW) and
linear weights (out, in), as in PyTorch and Caffe.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
