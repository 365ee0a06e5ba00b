"""keras.layers.Dense whose bias gradient is summed in float32 in half-precision training."""

import keras
from keras import ops

from albert_tf.layers.bias_add import bias_add_for_training


@keras.saving.register_keras_serializable(package="albert_tf")
class TrainingDense(keras.layers.Dense):
    """`keras.layers.Dense`, except that under a half-precision policy a
    training call takes its bias gradient from `bias_add_for_training`
    (summed in float32; TensorFlow's `BiasAddGrad` sums bfloat16 in
    bfloat16). Inference, float32 and quantized or LoRA layers run Keras's
    own `call`. Weights, names and config are those of `keras.layers.Dense`.

    Example:
    >>> TrainingDense(4)(tf.ones([2, 3])).shape
    TensorShape([2, 4])
    """

    def call(self, inputs, training=None):
        if not training or self.bias is None or self.quantization_mode is not None or self.lora_enabled:
            return super().call(inputs, training=training)
        x = bias_add_for_training(ops.matmul(inputs, self.kernel), self.bias)
        return x if self.activation is None else self.activation(x)
