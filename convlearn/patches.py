"""What a unit responds to: image patches cut at its receptive field.

The paper shows, for a unit, the nine images that excite it most, each cut
to the part of the image the unit sees. For unit (h, w) of a conv layer that
part is a square window of the input, its receptive field, found by walking
the convolutions and pools below the layer.
"""

import numpy as np

from .nn.layers import Conv2d, MaxPool2d

__all__ = ["cut_patch", "receptive_field", "top_patches"]


def receptive_field(net, layer):
    """(size, stride, offset) of one unit of ``layer`` in input pixels.

    Unit (h, w) of the layer sees the input rows offset + h * stride ...
    offset + h * stride + size - 1 (the same for columns; the window may
    reach past the image, into the padding). Walks the conv and pool layers
    (average pools are max pools' subclass) up to ``layer``: each window k
    with stride s and padding p grows the field by (k - 1) * jump, moves its
    start back by p * jump, and multiplies the jump by s. ReLU, LRN and
    dropout act per position and leave the field as it is.
    """
    size, jump, offset = 1, 1, 0
    for lay in net.layers:
        if isinstance(lay, Conv2d):
            k = lay.params["weight"].shape[
                2
            ]  # (F, C, KH, KW); the nets' kernels are square
        elif isinstance(lay, MaxPool2d):
            k = lay.size[0]
        else:
            k = None
        if k is not None:
            size += (k - 1) * jump
            offset -= lay.pad[0] * jump
            jump *= lay.stride[0]
        if lay.name == layer:
            return size, jump, offset
    raise ValueError(f"layer {layer!r} is not a layer of {net.layer_names}")


def cut_patch(images, index, h, w, field):
    """(3, size, size) uint8: images[index] under unit (h, w); outside the image is grey.

    images: (N, 3, H, W) uint8; field: ``receptive_field``'s (size, stride, offset).
    """
    size, jump, offset = field
    top, left = offset + h * jump, offset + w * jump
    _, _, H, W = images.shape
    patch = np.full((3, size, size), 128, dtype=np.uint8)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + size, H), min(left + size, W)
    patch[:, r0 - top : r1 - top, c0 - left : c1 - left] = images[
        index, :, r0:r1, c0:c1
    ]
    return patch


def top_patches(images, peak, where, unit, field, width, k=9):
    """(k, 3, size, size) patches of the k images where ``unit`` peaks highest.

    peak, where: (N, U) each image's highest response of each unit and its
    flat position h * width + w (one patch per image, so nine different
    images); fewer than k patches when there are fewer images.
    """
    best = np.argsort(-peak[:, unit], kind="stable")[:k]
    return np.stack(
        [cut_patch(images, i, *divmod(int(where[i, unit]), width), field) for i in best]
    )
