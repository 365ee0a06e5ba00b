"""The sentence-order prediction (SOP) head of ALBERT pretraining."""

import keras

from albert_tf.layers.output_projection import OutputProjection


@keras.saving.register_keras_serializable(package="albert_tf")
class SentenceOrderHead(OutputProjection):
    """Two-way classifier on the pooled output: `pooled @ W^T + b`.

    W is stored `[2, H]` (out, in) as the original `cls/seq_relationship`.
    Label 0 means the segments are in order, 1 means swapped. Logits are
    float32.

    Args:
        initializer_range: std of the truncated-normal init of W.

    Example:
    >>> SentenceOrderHead()(tf.zeros([3, 8])).shape
    TensorShape([3, 2])
    """

    def __init__(self, initializer_range=0.02, **kwargs):
        kwargs.pop("units", None)
        super().__init__(2, initializer_range=initializer_range, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["units"]
        return config
