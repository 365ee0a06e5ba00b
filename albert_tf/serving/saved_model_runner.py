"""A SavedModel export called through its token signature (`serving_default`), in TensorFlow.

albert-serve tokenizes in Python for every format, so that one rule packs, truncates (and reports it),
sorts by length and pads each batch to its longest row; the raw-text signatures of our SavedModels give
the same ids (the tokenizer parity tests), and a tensor-only SavedModel (albert-export
--text_signatures=false) is served the same way. tensorflow_text is imported when installed, so that the
text signatures' ops are registered before the SavedModel loads.
"""

import os

import numpy as np

from albert_tf.errors import ConfigError


class SavedModelRunner:
    """`runner({"input_ids": ..., "input_mask": ..., "segment_ids": ...})` -> {output name: array}."""

    platform = "tensorflow_savedmodel"  # the Open Inference Protocol's name for the runtime

    def __init__(self, folder, threads):
        import tensorflow as tf

        try:  # only before TensorFlow's first op; a second SavedModel in one server keeps the first setting
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
        try:
            import tensorflow_text  # noqa: F401  (registers the ops of the text signatures)
        except ImportError:
            pass
        if not os.path.exists(os.path.join(folder, "saved_model.pb")):
            raise ConfigError(f"{folder} has no saved_model.pb: expected a SavedModel written by albert-export "
                              "--format=saved_model or by a training run")
        try:
            self.loaded = tf.saved_model.load(folder)
        except tf.errors.NotFoundError as error:
            raise ConfigError(f"{folder}: the SavedModel needs an op this TensorFlow lacks "
                              f"({error.message.splitlines()[0]}); pip install tensorflow-text, or export with "
                              "--text_signatures=false") from None
        self.function = self.loaded.signatures["serving_default"]
        self.specs = self.function.structured_outputs
        self.outputs = sorted(self.specs)
        self.inputs = sorted(self.function.structured_input_signature[1])
        self._tf = tf

    def output_width(self, name):
        """The last dimension of output `name` (a classifier's number of classes); None when there is none."""
        spec = self.specs.get(name)
        return None if spec is None or spec.shape.rank < 2 else spec.shape[-1]

    def __call__(self, batch):
        outputs = self.function(**{name: self._tf.constant(batch[name], self._tf.int32) for name in self.inputs})
        return {name: np.asarray(value) for name, value in outputs.items()}
