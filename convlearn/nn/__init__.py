"""The hand-written convnet engine: im2col convolution, pooling, LRN, SGD."""
