"""A PyTorch twin of a convlearn net, for cross-checking (PyTorch is optional).

``to_torch(net)`` builds a ``torch.nn.Sequential`` that computes exactly what
``net`` computes, with a copy of its weights. Each child is named after the
convlearn layer, and a conv or fc layer's child holds its ReLU too, so the
output of ``twin.conv1`` is convlearn's "conv1" activation (after the ReLU)
and ``twin.conv1[0].weight`` its weight. The benchmarks and the tests use it;
a researcher can use it to compare convlearn's nets with their own PyTorch
code. PyTorch is imported only when this is called: it is never a
dependency of convlearn (``pip install torch==2.13.0`` for the CPU build).
"""

from collections import OrderedDict

from . import layers as L

__all__ = ["to_torch", "weighted_module"]


def _module(torch, layer):
    nn = torch.nn
    if isinstance(layer, L.Conv2d):
        F, C, KH, KW = layer.params["weight"].shape
        return nn.Conv2d(C, F, (KH, KW), stride=layer.stride, padding=layer.pad)
    if isinstance(layer, L.Linear):
        n_out, n_in = layer.params["weight"].shape
        return nn.Linear(n_in, n_out)
    if isinstance(layer, L.AvgPool2d):  # before MaxPool2d: it is a subclass
        return nn.AvgPool2d(layer.size, layer.stride, layer.pad)
    if isinstance(layer, L.MaxPool2d):
        return nn.MaxPool2d(layer.size, layer.stride, layer.pad)
    if isinstance(layer, L.LocalResponseNorm):
        return nn.LocalResponseNorm(layer.size, layer.alpha, layer.beta, layer.k)
    if isinstance(layer, L.Flatten):
        return nn.Flatten()
    if isinstance(layer, L.Dropout):
        return nn.Dropout(layer.p)
    raise TypeError(f"no PyTorch twin for {layer!r}")


def to_torch(net):
    """``torch.nn.Sequential`` of named children equal to ``net`` (float32 weights copied)."""
    import torch

    children = OrderedDict()
    for layer in net.layers:
        m = _module(torch, layer)
        if layer.params:
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.params["weight"]))
                m.bias.copy_(torch.from_numpy(layer.params["bias"]))
        children[layer.name] = (
            torch.nn.Sequential(m, torch.nn.ReLU())
            if getattr(layer, "relu", False)
            else m
        )
    return torch.nn.Sequential(children)


def weighted_module(twin, name):
    """The Conv2d or Linear module of the twin's layer ``name`` (the one with weight and bias)."""
    child = getattr(twin, name)
    return child[0] if hasattr(child, "__getitem__") else child
