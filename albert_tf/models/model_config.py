"""What every albert-tf model does with its `AlbertConfig`: find it, and round-trip through Keras configs."""

import keras


def albert_config_of(model):
    """`model.config` for an `AlbertEncoder`, `model.encoder.config` for every model with heads."""
    return model.config if hasattr(model, "config") else model.encoder.config


class ConfigRoundTrip:
    """`get_config` parts and `from_config` of every albert-tf model (a mixin before `keras.Model`).

    A model's config is its `AlbertConfig` as a dict, its dtype policy, its name and the model's own
    constructor arguments, which `get_config` adds to `_base_config()`.
    """

    def _base_config(self):
        return {"config": self.config.to_dict(), "dtype": keras.dtype_policies.serialize(self.dtype_policy),
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
