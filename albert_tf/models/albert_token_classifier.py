"""ALBERT for token classification (named entities, part-of-speech tags)."""

import keras

from albert_tf.models.dense_head_model import DenseHeadModel


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTokenClassifier(DenseHeadModel):
    """`logits = dense_C(dropout(sequence_output))` at every position, as transformers' AlbertForTokenClassification.

    The original ALBERT code has no such head; its variables are stored as
    `cls/token_classification/output_weights` [C, H] and `.../output_bias` [C]
    in the original layout, and as HF's `classifier.weight`/`classifier.bias`.

    Inputs: `input_ids`, `input_mask`, `segment_ids` int32 [batch, seq].
    Outputs: `{"logits": [batch, seq, num_classes]}` in float32.

    Args:
        config: an `AlbertConfig`.
        num_classes: the number of tags (BIO labels: 2 per entity type + "O").
        dropout_rate: dropout on the sequence output in training.
        dtype: a dtype policy name; defaults to the global policy.

    Example:
    >>> config = AlbertConfig(vocab_size=100, hidden_size=32,
    ...     num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
    ...     embedding_size=16)
    >>> model = AlbertTokenClassifier(config, num_classes=5)
    >>> ids = tf.constant([[2, 10, 11, 3]])
    >>> model({"input_ids": ids, "input_mask": tf.ones_like(ids),
    ...        "segment_ids": tf.zeros_like(ids)})["logits"].shape
    TensorShape([1, 4, 5])
    """

    features = "sequence_output"
