"""What every model of an encoder and heads shares for distillation: one forward pass that gives the heads'
outputs together with the encoder's internals."""

from albert_tf.models.albert_encoder import ENCODER_INPUTS


class EncoderHeads:
    """Mixin of `FinetuningModel` and `AlbertPretrainer`: they hold `encoder` and define
    `head(encoder_outputs, inputs, training)`, their heads on the encoder's outputs."""

    def encoder_inputs(self, inputs):
        """The encoder's inputs among the model's (multiple choice flattens its choices)."""
        return {name: inputs[name] for name in ENCODER_INPUTS}

    def head(self, encoder_outputs, inputs, training):
        """The heads' outputs (a dict) from the encoder's (`sequence_output`, `pooled_output`) and the inputs."""
        raise NotImplementedError

    def internals(self, inputs, training=False):
        """(outputs, encoder internals) of one forward pass: what distillation matches
        (`AlbertEncoder.internals`)."""
        internals = self.encoder.internals(self.encoder_inputs(inputs), training=training)
        return self.head(internals, inputs, training), internals
