"""The model of `AlbertClassifier` and `AlbertTokenClassifier`: dropout and one dense layer on an encoder output."""

import keras

from albert_tf.layers.output_projection import OutputProjection
from albert_tf.models.finetuning_model import FinetuningModel


class DenseHeadModel(FinetuningModel):
    """`logits = dense_C(dropout(encoder output))`; subclasses name the output they read (`features`).

    The head is stored as the original's `output_weights` [C, H] and `output_bias` [C].
    """

    features = None  # "pooled_output" (one prediction per sequence) or "sequence_output" (one per token)

    def __init__(self, config, num_classes, dropout_rate=0.1, dtype=None, **kwargs):
        # === Layers ===
        super().__init__(config, dtype=dtype, **kwargs)
        self.num_classes = num_classes
        self.dropout_rate = dropout_rate
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=dtype)
        self.classifier = OutputProjection(num_classes, self.config.initializer_range, dtype=dtype,
                                           name="classifier")
        # === Variables ===
        self._build_with_dummy_batch()

    def head(self, encoder_outputs, inputs, training):
        features = encoder_outputs[self.features]
        return {"logits": self.classifier(self.dropout(features, training=training))}

    def get_config(self):
        return {**self._base_config(), "num_classes": self.num_classes, "dropout_rate": self.dropout_rate}
