"""ALBERT's factorized input embedding and its tied output projection."""

import keras
import tensorflow as tf

from albert_tf.layers.layer_norm import LayerNorm


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertEmbedding(keras.layers.Layer):
    """Word + segment + position embeddings, LayerNorm, dropout.

    Google layout (`word_projection_size=None`): all three tables are E wide,
    summed, then normalised over E; the encoder maps E to H afterwards.
    brightmart layout (`word_projection_size=H`): the E-wide word embedding is
    first multiplied by `word_projection` [E, H] (no bias), then H-wide
    segment and position embeddings are added and LayerNorm runs over H.

    `attend(x)` is the tied output layer of the masked-LM head: `x @ W^T` (or
    `(x @ P^T) @ W^T` with the projection P).

    Args:
        vocab_size: rows V of the word table.
        embedding_size: width E of the word table.
        type_vocab_size: number of segment ids.
        max_position_embeddings: rows of the position table; longer inputs are
            an error.
        dropout_rate: dropout after the LayerNorm.
        initializer_range: std of the truncated-normal init.
        word_projection_size: output width of brightmart's word projection,
            or None for the Google layout.

    Example:
    >>> layer = AlbertEmbedding(vocab_size=10, embedding_size=4)
    >>> ids = tf.constant([[2, 5, 3]])
    >>> layer(ids, tf.zeros_like(ids)).shape
    TensorShape([1, 3, 4])
    """

    def __init__(
        self,
        vocab_size,
        embedding_size,
        type_vocab_size=2,
        max_position_embeddings=512,
        dropout_rate=0.0,
        initializer_range=0.02,
        word_projection_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.type_vocab_size = type_vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.dropout_rate = dropout_rate
        self.initializer_range = initializer_range
        self.word_projection_size = word_projection_size
        self.output_size = word_projection_size or embedding_size
        self.layer_norm = LayerNorm(name="layer_norm")
        self.dropout = keras.layers.Dropout(dropout_rate, name="dropout")

    def build(self, input_ids_shape=None, segment_ids_shape=None):
        def table(name, shape):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=keras.initializers.TruncatedNormal(
                    stddev=self.initializer_range
                ),
            )

        self.word_embeddings = table("word_embeddings", (self.vocab_size, self.embedding_size))
        self.word_projection = None
        if self.word_projection_size:
            self.word_projection = table(
                "word_projection", (self.embedding_size, self.word_projection_size)
            )
        self.token_type_embeddings = table(
            "token_type_embeddings", (self.type_vocab_size, self.output_size)
        )
        self.position_embeddings = table(
            "position_embeddings", (self.max_position_embeddings, self.output_size)
        )
        self.layer_norm.build((None, self.output_size))

    def call(self, input_ids, segment_ids, training=None):
        seq_length = input_ids.shape[1]
        if seq_length is not None and seq_length > self.max_position_embeddings:
            raise ValueError(
                f"Sequence length {seq_length} exceeds max_position_embeddings "
                f"{self.max_position_embeddings}"
            )
        x = tf.gather(self.word_embeddings, input_ids)
        if self.word_projection is not None:
            x = tf.matmul(x, self.word_projection)
        x += tf.gather(self.token_type_embeddings, segment_ids)
        x += self.position_embeddings[tf.newaxis, : tf.shape(input_ids)[1]]
        x = tf.cast(self.layer_norm(x), self.compute_dtype)
        return self.dropout(x, training=training)

    def attend(self, x):
        """Logits against the word table: the tied masked-LM output layer."""
        if self.word_projection is not None:
            x = tf.matmul(x, self.word_projection, transpose_b=True)
        return tf.matmul(x, self.word_embeddings, transpose_b=True)

    def compute_output_shape(self, input_ids_shape, segment_ids_shape=None):
        return tuple(input_ids_shape) + (self.output_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "embedding_size": self.embedding_size,
                "type_vocab_size": self.type_vocab_size,
                "max_position_embeddings": self.max_position_embeddings,
                "dropout_rate": self.dropout_rate,
                "initializer_range": self.initializer_range,
                "word_projection_size": self.word_projection_size,
            }
        )
        return config
