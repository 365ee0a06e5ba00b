"""Our Keras models written as ONNX graphs, from their weights, one initializer per weight.

Converters that trace the Keras graph (tf2onnx) give graphs where most nodes
are shape arithmetic, which ONNX Runtime's transformer optimizer cannot fuse;
and exporters that unroll the layers copy ALBERT's shared block once per
layer. Here the graph is written op by op in the form ONNX Runtime's BERT
fusions recognise (`onnxruntime.transformers.fusion_attention`: Q/K/V
`MatMul -> Add -> Reshape [0, 0, N, d] -> Transpose`, scores `Div` by
sqrt(d) plus `(1 - Cast(Unsqueeze(Unsqueeze(mask)))) * -10000`; GELU in its
tanh form with `Pow`; native `LayerNormalization`), and every layer of a
group refers to that group's weights by the same names, so a shared block
is stored once whatever `num_hidden_layers` is.

    proto = model_graph(model, "classifier")   # onnx.ModelProto, inputs input_ids/input_mask/segment_ids

Inputs are int32 `[batch, length]` (`[batch, choices, length]` for race),
both dimensions dynamic; outputs are named as the Keras models name theirs.
"""

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from albert_tf.errors import ConfigError
from albert_tf.models.albert_encoder import ENCODER_INPUTS
from albert_tf.models.model_kinds import kind_named

OPSET = 17  # the first with LayerNormalization
INPUTS = ENCODER_INPUTS
_GELU_CUBIC, _SQRT_2_OVER_PI = 0.044715, math.sqrt(2.0 / math.pi)


class GraphWriter:
    """Nodes and initializers of one graph; each weight is added once under its Keras variable path."""

    def __init__(self):
        self.nodes, self.initializers, self._count = [], {}, 0

    def weight(self, variable, transpose=False):
        name = variable.path + (".T" if transpose else "")
        if name not in self.initializers:
            value = np.asarray(variable.numpy(), np.float32)
            self.initializers[name] = numpy_helper.from_array(value.T.copy() if transpose else value, name)
        return name

    def constant(self, value, dtype=np.float32):
        """A small constant, added once per value (named after it)."""
        value = np.asarray(value, dtype)
        values = "_".join(map(str, value.ravel().tolist()))
        name = f"const_{value.dtype.name}_{'x'.join(map(str, value.shape))}_{values}"
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(value, name)
        return name

    def op(self, op_type, *inputs, output=None, outputs=1, **attributes):
        """Adds a node; returns its output name (a list of `outputs` names when it has several)."""
        self._count += 1
        names = [output or f"{op_type.lower()}_{self._count}"] if outputs == 1 else [
            f"{op_type.lower()}_{self._count}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=f"{op_type}_{self._count}",
                                           **attributes))
        return names[0] if outputs == 1 else names

    def dense(self, x, kernel, bias, output=None):
        """x @ kernel + bias: a MatMul then an Add, the form the fusions expect."""
        return self.op("Add", self.op("MatMul", x, self.weight(kernel)), self.weight(bias), output=output)

    def layer_norm(self, x, layer, output=None):
        return self.op("LayerNormalization", x, self.weight(layer.gamma), self.weight(layer.beta), output=output,
                       axis=-1, epsilon=float(layer.epsilon))

    def activation(self, x, name):
        if name == "gelu":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), ALBERT's own (FastGelu in ORT)
            cubic = self.op("Mul", self.op("Pow", x, self.constant(3.0)), self.constant(_GELU_CUBIC))
            inner = self.op("Mul", self.op("Add", x, cubic), self.constant(_SQRT_2_OVER_PI))
            return self.op("Mul", self.op("Mul", x, self.constant(0.5)),
                           self.op("Add", self.op("Tanh", inner), self.constant(1.0)))
        if name == "gelu_erf":  # 0.5 x (1 + erf(x / sqrt 2)) (Gelu in ORT)
            erf = self.op("Erf", self.op("Div", x, self.constant(math.sqrt(2.0))))
            return self.op("Mul", self.op("Mul", x, self.op("Add", erf, self.constant(1.0))), self.constant(0.5))
        if name in ("relu", "tanh"):
            return self.op(name.capitalize(), x)
        if name == "linear":
            return x
        raise ConfigError(f"hidden_act={name!r} has no ONNX form here; expected gelu, gelu_erf, relu, tanh, linear")


def _attention(g, x, block, mask_adder):
    """Self-attention of one TransformerBlock on x [B, S, H], in the pattern of ORT's Attention fusion."""
    n, d = block.num_attention_heads, block.head_size
    split = g.constant([0, 0, n, d], np.int64)

    def heads(kernel, bias, perm):
        return g.op("Transpose", g.op("Reshape", g.dense(x, kernel, bias), split), perm=perm)

    query = heads(block.query_kernel, block.query_bias, [0, 2, 1, 3])
    key = heads(block.key_kernel, block.key_bias, [0, 2, 3, 1])  # already transposed for q k^T
    value = heads(block.value_kernel, block.value_bias, [0, 2, 1, 3])
    scores = g.op("Div", g.op("MatMul", query, key), g.constant(math.sqrt(float(d))))
    probs = g.op("Softmax", g.op("Add", scores, mask_adder), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, value), perm=[0, 2, 1, 3])
    merged = g.op("Reshape", context, g.constant([0, 0, n * d], np.int64))
    return g.dense(merged, block.attention_output_kernel, block.attention_output_bias)


def _block(g, x, block, mask_adder):
    def feed_forward(y):
        hidden = g.activation(g.dense(y, block.intermediate_kernel, block.intermediate_bias), block.hidden_act)
        return g.dense(hidden, block.output_kernel, block.output_bias)

    if block.normalize_first:  # brightmart's pre-LN
        x = g.op("Add", x, _attention(g, g.layer_norm(x, block.attention_layer_norm), block, mask_adder))
        return g.op("Add", x, feed_forward(g.layer_norm(x, block.output_layer_norm)))
    # The sublayer's output first in each residual Add: ORT's attention fusion follows the first Add among its
    # inputs, which for layer 0 would otherwise be the embedding projection's bias.
    x = g.layer_norm(g.op("Add", _attention(g, x, block, mask_adder), x), block.attention_layer_norm)
    return g.layer_norm(g.op("Add", feed_forward(x), x), block.output_layer_norm)


def encoder_graph(g, encoder, input_ids, input_mask, segment_ids):
    """(sequence_output, pooled_output) names of `encoder` applied to the [B, S] inputs named."""
    config, embedding = encoder.config, encoder.embedding
    x = g.op("Gather", g.weight(embedding.word_embeddings), input_ids, axis=0)
    if embedding.word_projection is not None:
        x = g.op("MatMul", x, g.weight(embedding.word_projection))
    x = g.op("Add", x, g.op("Gather", g.weight(embedding.token_type_embeddings), segment_ids, axis=0))
    length = g.op("Gather", g.op("Shape", input_ids), g.constant([1], np.int64), axis=0)
    zero = g.constant([0], np.int64)
    positions = g.op("Slice", g.weight(embedding.position_embeddings), zero, length, zero)  # rows 0..S-1
    x = g.layer_norm(g.op("Add", x, positions), embedding.layer_norm)
    if encoder.embedding_projection is not None:
        x = g.dense(x, encoder.embedding_projection.kernel, encoder.embedding_projection.bias)
    # (1 - mask) * -10000 as [B, 1, 1, S], the original's additive mask
    mask = g.op("Unsqueeze", g.op("Unsqueeze", input_mask, g.constant([1], np.int64)), g.constant([2], np.int64))
    mask = g.op("Cast", mask, to=TensorProto.FLOAT)
    mask_adder = g.op("Mul", g.op("Sub", g.constant(1.0), mask), g.constant(-10000.0))
    for layer in range(config.num_hidden_layers):
        for block in encoder.groups[config.group_of_layer(layer)]:
            x = _block(g, x, block, mask_adder)
    sequence_output = g.op("Identity", x)
    first = g.op("Gather", sequence_output, g.constant(0, np.int64), axis=1)
    pooled = g.op("Tanh", g.dense(first, encoder.pooler.kernel, encoder.pooler.bias))
    return sequence_output, pooled


def _projection(g, x, head, output=None):
    """OutputProjection: x @ output_weights^T + output_bias."""
    return g.op("Add", g.op("MatMul", x, g.weight(head.output_weights, transpose=True)), g.weight(head.output_bias),
                output=output)


def _squad_v2_head(g, x, head, input_mask, segment_ids):
    """ALBERT's SQuAD 2.0 head at inference (`layers/squad_v2_head.py`): the beam and the answerability logit.

    p_mask as the SavedModel's (`serving_module.squad_p_mask`): the question, both [SEP]s and padding.
    """
    positions = g.op("Unsqueeze", g.op("Range", g.constant(0, np.int32), g.op(
        "Squeeze", g.op("Gather", g.op("Cast", g.op("Shape", input_mask), to=TensorProto.INT32),
                        g.constant([1], np.int64), axis=0), g.constant([0], np.int64)), g.constant(1, np.int32)),
        g.constant([0], np.int64))  # [1, S]
    last = g.op("Sub", g.op("ReduceSum", input_mask, g.constant([1], np.int64), keepdims=1), g.constant(1, np.int32))
    question = g.op("And", g.op("Equal", segment_ids, g.constant(0, np.int32)),
                    g.op("Greater", positions, g.constant(0, np.int32)))
    impossible = g.op("Or", g.op("Or", question, g.op("Equal", input_mask, g.constant(0, np.int32))),
                      g.op("Equal", positions, last))
    p_mask = g.op("Cast", impossible, to=TensorProto.FLOAT)  # [B, S]
    keep = g.op("Sub", g.constant(1.0), p_mask)

    def masked(logits, keep, p_mask):  # logits * (1 - p) - 1e30 * p
        return g.op("Sub", g.op("Mul", logits, keep), g.op("Mul", g.constant(1e30), p_mask))

    def dense(y, layer, activation=None):
        y = g.op("MatMul", y, g.weight(layer.kernel))
        if layer.use_bias:
            y = g.op("Add", y, g.weight(layer.bias))
        return g.op("Tanh", y) if activation == "tanh" else y

    squeeze_last = g.constant([-1], np.int64)
    start_masked = masked(g.op("Squeeze", dense(x, head.start_dense), squeeze_last), keep, p_mask)
    start_log_probs = g.op("LogSoftmax", start_masked, axis=-1)
    k_start, k_end = head.start_n_top, head.end_n_top
    start_top = g.op("TopK", start_log_probs, g.constant([k_start], np.int64), axis=-1, largest=1, sorted=1,
                     outputs=2)
    start_states = g.op("GatherND", x, g.op("Unsqueeze", start_top[1], squeeze_last), batch_dims=1)  # [B, k, H]
    length = g.op("Gather", g.op("Shape", x), g.constant([1], np.int64), axis=0)
    tiled_x = g.op("Expand", g.op("Unsqueeze", x, g.constant([1], np.int64)), g.constant([1, k_start, 1, 1], np.int64))
    tiled_start = g.op("Expand", g.op("Unsqueeze", start_states, g.constant([2], np.int64)),
                       g.op("Concat", g.constant([1, 1], np.int64), length, g.constant([1], np.int64), axis=0))
    end_input = g.op("Concat", tiled_x, tiled_start, axis=-1)  # [B, k, S, 2H]
    hidden = g.layer_norm(dense(end_input, head.end_dense_0, "tanh"), head.end_layer_norm)
    p_mask_k, keep_k = (g.op("Unsqueeze", t, g.constant([1], np.int64)) for t in (p_mask, keep))
    end_log_probs = g.op("LogSoftmax", masked(g.op("Squeeze", dense(hidden, head.end_dense_1), squeeze_last),
                                              keep_k, p_mask_k), axis=-1)  # [B, k, S]
    end_top = g.op("TopK", end_log_probs, g.constant([k_end], np.int64), axis=-1, largest=1, sorted=1, outputs=2)
    flat = g.constant([0, k_start * k_end], np.int64)
    start_probs = g.op("Softmax", start_masked, axis=-1)
    start_feature = g.op("Squeeze", g.op("MatMul", g.op("Unsqueeze", start_probs, g.constant([1], np.int64)), x),
                         g.constant([1], np.int64))  # sum_s p_s h_s
    first = g.op("Gather", x, g.constant(0, np.int64), axis=1)
    answer = dense(g.op("Concat", start_feature, first, axis=-1), head.answer_dense_0, "tanh")
    return {
        "start_top_log_probs": g.op("Identity", start_top[0], output="start_top_log_probs"),
        "start_top_index": g.op("Cast", start_top[1], to=TensorProto.INT32, output="start_top_index"),
        "end_top_log_probs": g.op("Reshape", end_top[0], flat, output="end_top_log_probs"),
        "end_top_index": g.op("Cast", g.op("Reshape", end_top[1], flat), to=TensorProto.INT32,
                              output="end_top_index"),
        "cls_logits": g.op("Squeeze", dense(answer, head.answer_dense_1), squeeze_last, output="cls_logits"),
    }


def encoder_outputs(g, model, sequence_output, pooled, names):
    """(outputs, their shapes) of the encoder: the sequence and pooled outputs."""
    hidden = getattr(model, "encoder", model).config.hidden_size
    return ({"sequence_output": g.op("Identity", sequence_output, output="sequence_output"),
             "pooled_output": g.op("Identity", pooled, output="pooled_output")},
            {"sequence_output": ["batch", "length", hidden], "pooled_output": ["batch", hidden]})


def classifier_outputs(g, model, sequence_output, pooled, names):
    return ({"logits": _projection(g, pooled, model.classifier, output="logits")},
            {"logits": ["batch", model.num_classes]})


def token_classifier_outputs(g, model, sequence_output, pooled, names):
    """A label per token: the projection of every position (padding rows included; the caller masks them)."""
    return ({"logits": _projection(g, sequence_output, model.classifier, output="logits")},
            {"logits": ["batch", "length", model.num_classes]})


def squad_outputs(g, model, sequence_output, pooled, names):
    """v2: run_squad_v2's beam and answerability logit; v1: start and end logits, padding never an answer."""
    if model.version_2_with_negative:
        beam = model.span_head.start_n_top * model.span_head.end_n_top
        return (_squad_v2_head(g, sequence_output, model.span_head, names[1], names[2]),
                {"start_top_log_probs": ["batch", model.span_head.start_n_top],
                 "start_top_index": ["batch", model.span_head.start_n_top],
                 "end_top_log_probs": ["batch", beam], "end_top_index": ["batch", beam], "cls_logits": ["batch"]})
    logits = _projection(g, sequence_output, model.span_head)  # [B, S, 2]
    real = g.op("Unsqueeze", g.op("Cast", names[1], to=TensorProto.FLOAT), g.constant([-1], np.int64))
    # logits * mask - 1e30 * (1 - mask), as the Keras model: padding is never an answer
    masked = g.op("Sub", g.op("Mul", logits, real),
                  g.op("Mul", g.constant(1e30), g.op("Sub", g.constant(1.0), real)))
    return ({name: g.op("Gather", masked, g.constant(index, np.int64), axis=-1, output=name)
             for index, name in enumerate(("start_logits", "end_logits"))},
            {"start_logits": ["batch", "length"], "end_logits": ["batch", "length"]})


def multiple_choice_outputs(g, model, sequence_output, pooled, names):
    scores = _projection(g, pooled, model.scorer)  # [B*K, 1]
    batch_choices = g.op("Slice", g.op("Shape", INPUTS[0]), g.constant([0], np.int64), g.constant([2], np.int64))
    return {"logits": g.op("Reshape", scores, batch_choices, output="logits")}, {"logits": ["batch", "choices"]}


def model_graph(model, model_type):
    """The ONNX model of a Keras model of the kind `model_type` (its row's `onnx_head` writes the head)."""
    kind = kind_named(model_type)
    if kind.onnx_head is None:
        raise ConfigError(f"model_type={model_type!r}: {kind.name} models have no ONNX export yet")
    g = GraphWriter()
    dims = ["batch", "choices", "length"] if kind.choices_axis else ["batch", "length"]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT32, dims) for name in INPUTS]
    encoder = getattr(model, "encoder", model)
    if kind.choices_axis:  # [B, K, S] -> [B*K, S], scores back to [B, K]
        flat = g.op("Concat", g.constant([-1], np.int64), g.op("Slice", g.op("Shape", INPUTS[0]),
                                                              g.constant([2], np.int64), g.constant([3], np.int64)),
                    axis=0)
        names = [g.op("Reshape", name, flat) for name in INPUTS]
    else:
        names = list(INPUTS)
    sequence_output, pooled = encoder_graph(g, encoder, *names)
    outputs, shapes = globals()[kind.onnx_head](g, model, sequence_output, pooled, names)
    graph = helper.make_graph(
        g.nodes, f"albert_{model_type}", inputs,
        [helper.make_tensor_value_info(name, TensorProto.INT32 if name.endswith("_index") else TensorProto.FLOAT,
                                       shapes[name]) for name in outputs],
        initializer=list(g.initializers.values()))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="albert-tf")
    proto.ir_version = 8  # readable by every onnxruntime since 1.14
    onnx.checker.check_model(proto)
    return proto
