"""One export entry point for every format: SavedModel, ONNX (ONNX Runtime) and LiteRT.

    export_model(ExportConfig(model_type="classifier", format="onnx", quantize="int8",
                              albert_config_file="runs/sst-2/export/albert_config.json",
                              checkpoint="runs/sst-2/export/model.ckpt-best",
                              spm_model_file="30k-clean.model", export_dir="exported/sst-2-onnx"))

The export folder is written under a temporary name and moved into place
complete. ONNX and LiteRT folders also hold `albert_config.json`, the
tokenizer file and `export_info.json` (inputs, outputs, sizes).
"""

from absl import logging

from albert_tf.errors import ConfigError
from albert_tf.export.export_config import ExportConfig  # noqa: F401  (the argument of export_model)
from albert_tf.export.savedmodel_export import load_model, serving_module
from albert_tf.export.serving_module import export_saved_model
from albert_tf.outputs.atomic_files import atomic_path, prepare_outputs


def _needs(module, package):
    try:
        __import__(module)
    except ImportError:
        raise ConfigError(f"format needs {package}, which is not installed: pip install {package} "
                          "(or pip install 'albert-tf[deploy]')") from None


def export_model(config):
    """Writes the export `config` describes; returns (one-line description, details dict)."""
    config.validate()
    if config.format == "litert":
        _needs("ai_edge_litert", "ai-edge-litert")  # to run it; the converter is TensorFlow's
    if config.format == "onnx":
        _needs("onnxruntime", "onnxruntime")
        _needs("onnx", "onnx")
        _needs("sympy", "sympy")
    with prepare_outputs([config.export_dir], config.overwrite):
        return _export(config)


def _export(config):
    model = load_model(config)
    logging.info("writing the %s export to %s", config.format, config.export_dir)
    if config.format == "saved_model":
        names = export_saved_model(serving_module(config, model), config.export_dir, config.serving_info(),
                                   text_signatures=config.text_signatures)
        return f"SavedModel (signatures: {', '.join(names)})", {"signatures": list(names)}
    assets = [config.albert_config_file, config.spm_model_file or config.vocab_file]
    precision = "int8" if config.quantize == "int8" else "float32"
    if config.format == "onnx":
        from albert_tf.export.onnx_export import export_onnx

        with atomic_path(config.export_dir) as staged:
            info = export_onnx(model, config.model_type, staged, quantize=config.quantize, assets=assets,
                               serving=config.serving_info())
        fused = ", ".join(f"{op} x{count}" for op, count in info["fused_ops"].items())
        return (f"ONNX {precision} model.onnx "
                f"({info['file_bytes'] / 2**20:.1f} MiB; outputs {', '.join(info['outputs'])}; fused: {fused})"), info
    if config.format == "litert":
        from albert_tf.export.litert_export import export_litert

        with atomic_path(config.export_dir) as staged:
            info = export_litert(model, config.model_type, staged, spm_model_file=config.spm_model_file,
                                 max_seq_length=config.max_seq_length, quantize=config.quantize, assets=assets,
                                 serving=config.serving_info())
        return (f"LiteRT {precision} model.tflite "
                f"({info['file_bytes'] / 2**20:.1f} MiB; signatures {', '.join(info['signatures'])})"), info
    raise ConfigError(f"format={config.format!r}: expected saved_model, onnx or litert")
