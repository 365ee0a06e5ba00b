"""The `AlbertConfig` of any albert-tf model: the encoder's own, or that of the model's encoder."""


def albert_config_of(model):
    """`model.config` for an `AlbertEncoder`, `model.encoder.config` for every model with heads."""
    return model.config if hasattr(model, "config") else model.encoder.config
