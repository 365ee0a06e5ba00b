"""`load_model`: a `.keras` file of an albert-tf model, loaded without further imports.

Keras finds a saved class by its registered name (`albert_tf>AlbertEncoder`)
only once the module that registers it has been imported, and it imports
modules by itself only for its own packages (keras, keras_hub, ...). A plain
`keras.saving.load_model("albert_base.keras")` in a fresh process therefore
fails with "Could not locate class"; this function imports every albert-tf
model and layer first (this module's imports) and names the file in its
errors.
"""

import os

import keras

import albert_tf.layers  # noqa: F401  (registers the layers)
from albert_tf.errors import ConfigError
from albert_tf.models.model_kinds import KINDS


def load_model(path, compile=True, safe_mode=True):
    """The Keras model saved at `path` (`model.save("x.keras")`, `albert-convert --output_keras_model`)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: no such file; expected a .keras file written by model.save or "
                          "albert-convert --output_keras_model")
    if not path.endswith(".keras"):
        raise ConfigError(f"{path}: expected a .keras file (Keras 3's format); for an original-layout checkpoint "
                          "use albert_tf.load_checkpoint")
    for kind in KINDS:
        kind.model_class  # imports (and so registers) the class
    return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
