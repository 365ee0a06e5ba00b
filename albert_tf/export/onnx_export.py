"""ONNX Runtime exports: the graph of `onnx_graph`, ORT's transformer fusions, shared weights once, int8.

    info = export_onnx(model, "classifier", "exported/sst-2-onnx", quantize="int8")

Steps, each checked:
1. `onnx_graph.model_graph` writes the network op by op, one initializer per weight.
2. ORT's BERT optimizer (`onnxruntime.transformers.optimizer.optimize_model`, `opt_level=0`: graph
   fusions only, no session-level rewrite, no torch) fuses Attention, SkipLayerNormalization and
   FastGelu/Gelu. Its Attention fusion packs each layer's Q/K/V weights into a new initializer, so a
   shared block's packed weight appears once per layer: identical initializers are merged after it.
   The raw 0/1 attention mask is kept (`AttentionMaskFormat.AttentionMask`), exact for any mask.
3. `--quantize=int8`: `onnxruntime.quantization.quantize_dynamic` (int8 weights, activations
   quantised per call), on the merged graph, so each shared weight is quantised once.
"""

import collections
import hashlib
import os
import shutil

import onnx

from albert_tf.export.export_config import write_export_info
from albert_tf.export.onnx_graph import model_graph

ONNX_FILE = "model.onnx"
FUSED_OPS = ("Attention", "QAttention", "SkipLayerNormalization", "FastGelu", "Gelu", "BiasGelu")  # QAttention: int8


def merge_duplicate_initializers(proto):
    """Makes nodes refer to one copy of each set of identical initializers; returns how many were removed."""
    graph, first, renamed = proto.graph, {}, {}
    for tensor in graph.initializer:
        key = (tensor.data_type, tuple(tensor.dims), hashlib.sha256(onnx.numpy_helper.to_array(tensor)
                                                                     .tobytes()).hexdigest())
        if key in first:
            renamed[tensor.name] = first[key]
        else:
            first[key] = tensor.name
    if not renamed:
        return 0
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    kept = [tensor for tensor in graph.initializer if tensor.name not in renamed]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(renamed)


def fuse(proto, config):
    """ORT's transformer fusions on `proto` (an AlbertConfig gives heads and width); returns the fused proto."""
    from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.attention_mask_format = AttentionMaskFormat.AttentionMask
    optimized = optimize_model(proto, model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=0, optimization_options=options)
    fused = optimized.model
    if not any(o.domain == "com.microsoft" for o in fused.opset_import):  # the fused ops' domain, for onnx tools
        fused.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    merge_duplicate_initializers(fused)
    return fused


def quantize_int8(source, target):
    """Dynamic int8 quantisation of the ONNX file `source` into `target` (weights int8, per tensor)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # FastGelu and the other contrib ops have no type information for the quantizer: float is right for them.
    quantize_dynamic(source, target, weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    quantized = onnx.load(target)
    if merge_duplicate_initializers(quantized):
        onnx.save(quantized, target)


def op_counts(proto):
    return dict(collections.Counter(node.op_type for node in proto.graph.node))


def export_onnx(model, model_type, folder, quantize="none", assets=(), serving=None):
    """Writes `folder/model.onnx` (and `assets`, e.g. albert_config.json and the tokenizer file, beside it).

    `folder` must not exist or be empty (the caller stages and commits it). Returns a dict describing
    the export: inputs, outputs, fused op counts, file size and parameter bytes, and `serving` (see
    `export_config.serving_info`) where given.
    """
    config = getattr(model, "encoder", model).config
    exported = getattr(model, "encoder", model) if model_type == "encoder" else model  # no pretraining heads
    os.makedirs(folder, exist_ok=True)
    fused = fuse(model_graph(model, model_type), config)
    path = os.path.join(folder, ONNX_FILE)
    if quantize == "int8":
        float_path = os.path.join(folder, "model.float32.onnx")
        onnx.save(fused, float_path)
        quantize_int8(float_path, path)
        os.remove(float_path)
    else:
        onnx.save(fused, path)
    for asset in assets:
        shutil.copy(asset, os.path.join(folder, os.path.basename(asset)))
    written = onnx.load(path)
    counts = op_counts(written)
    info = {
        "format": "onnx", "model_type": model_type, "quantize": quantize, "file": ONNX_FILE,
        "inputs": [i.name for i in written.graph.input], "outputs": [o.name for o in written.graph.output],
        "fused_ops": {op: counts[op] for op in FUSED_OPS if op in counts},
        "file_bytes": os.path.getsize(path), "float32_parameter_bytes": 4 * exported.count_params(),
        "opset": max(o.version for o in written.opset_import if o.domain in ("", "ai.onnx")),
    }
    if serving is not None:
        info["serving"] = serving
    write_export_info(folder, info)
    return info
