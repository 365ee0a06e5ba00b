"""ALBERT for sentence(-pair) classification and regression."""


import keras

from albert_tf.models.dense_head_model import DenseHeadModel


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertClassifier(DenseHeadModel):
    """`logits = dense_C(dropout(pooled_output))`, as the original run_classifier.

    Inputs: `input_ids`, `input_mask`, `segment_ids` int32 [batch, seq].
    Outputs: `{"logits": [batch, num_classes]}` in float32 (one output for
    regression such as STS-B). The head is stored as the original's
    `output_weights` [C, H] and `output_bias` [C].

    Args:
        config: an `AlbertConfig`.
        num_classes: output width (1 for regression).
        dropout_rate: dropout on the pooled output in training (0.1 in the original).
        dtype: a dtype policy name; defaults to the global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> model = AlbertClassifier(config, num_classes=3)
    >>> ids = tf.constant([[2, 10, 11, 3]])
    >>> model({"input_ids": ids, "input_mask": tf.ones_like(ids),
    ...        "segment_ids": tf.zeros_like(ids)})["logits"].shape
    TensorShape([1, 3])
    """

    features = "pooled_output"
