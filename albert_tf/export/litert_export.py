"""LiteRT exports: `model.tflite` with a tokens signature and, for SentencePiece models, raw-text ones.

    info = export_litert(model, "classifier", "exported/sst-2-litert", spm_model_file="30k-clean.model",
                         max_seq_length=128, quantize="int8")

Run it with `ai_edge_litert` and tensorflow-text's kernels:

    from ai_edge_litert.interpreter import InterpreterWithCustomOps
    from tensorflow_text import tflite_registrar
    interpreter = InterpreterWithCustomOps(model_path="model.tflite",
                                           custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS)
    interpreter.get_signature_runner("text")(text=np.array(["a fine film"]))["logits"]

Two traps are avoided here. The converter keeps Keras 3 variables that are
read by a gather (the embedding tables) as variables of the flatbuffer with
no initial value: the file "converts" without its weights and returns NaN.
So every serving function is frozen first (`convert_variables_to_constants_v2`)
and the converter sees constants only. And TFLite has neither TensorFlow's
string ops nor its ragged ops: the text path is tensorflow-text's
`FastBertNormalize` (ALBERT's lower-casing and accent stripping) and
`FastSentencepieceTokenize`, whose ragged result is made dense at once; the
`[CLS] A [SEP] B [SEP]` packing is then written with builtin ops (gathers
and selects on positions), with the original truncation rule
(`text_packing.pair_lengths`).
"""

import os
import shutil
import tempfile

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from albert_tf.config_fields import MAX_SEQ_LENGTH
from albert_tf.export.export_config import write_export_info
from albert_tf.export.serving_module import squad_p_mask
from albert_tf.export.text_packing import pair_lengths
from albert_tf.models.albert_encoder import ENCODER_INPUTS
from albert_tf.models.model_kinds import kind_named

LITERT_FILE = "model.tflite"
_TOKENS = [tf.TensorSpec([None, None], tf.int32, name) for name in ENCODER_INPUTS]
_TOKENS_3D = [tf.TensorSpec([None, None, None], tf.int32, name) for name in ENCODER_INPUTS]


def _outputs(model, model_type, inputs):
    """The Keras model's outputs (the encoder: sequence and pooled) as a dict of tensors."""
    if getattr(model, "version_2_with_negative", False):  # SQuAD 2.0, as the SavedModel: p_mask from the packing
        inputs = dict(inputs, p_mask=squad_p_mask(inputs["input_mask"], inputs["segment_ids"]))
    outputs = model(inputs, training=False)
    if model_type == "encoder":
        outputs = {"sequence_output": outputs["sequence_output"], "pooled_output": outputs["pooled_output"]}
    return dict(outputs)


def _dense_pieces(tokenizer, normalizer, text):
    """[batch, longest] int32 piece ids (0-padded) and [batch] lengths of each normalised string."""
    ragged = tokenizer.tokenize(normalizer.normalize(text))
    lengths = ragged.row_splits[1:] - ragged.row_splits[:-1]
    return ragged.to_tensor(), tf.cast(lengths, tf.int32)


def _take(pieces, offsets):
    """pieces[b, offsets[b, p]] with offsets clipped into the row (the caller masks what is outside)."""
    width = tf.maximum(tf.shape(pieces)[1], 1)
    pieces = tf.pad(pieces, [[0, 0], [0, 1]])  # a column to read when a row has no pieces
    offsets = offsets + tf.zeros_like(pieces[:, :1])  # [B, S]: TFLite's batched gather does not broadcast
    return tf.gather(pieces, tf.clip_by_value(offsets, 0, width - 1), batch_dims=1)


def pack_dense(ids_a, len_a, ids_b, len_b, max_seq_length, cls_id, sep_id):
    """`[CLS] A [SEP] (B [SEP])`, 0-padded to the longest row: input_ids, input_mask, segment_ids [B, S].

    The same packing and truncation as `text_packing.pack_inputs`, from dense pieces with builtin ops.
    """
    if ids_b is None:
        keep_a = tf.minimum(len_a, max_seq_length - 2)
        keep_b = tf.zeros_like(keep_a)
        total = keep_a + 2
    else:
        keep_a, keep_b = (tf.cast(k, tf.int32) for k in pair_lengths(len_a, len_b, max_seq_length - 3))
        total = keep_a + keep_b + 3
    length = tf.reduce_max(total)
    p = tf.range(length)[None, :]  # [1, S]
    a_end, b_end = keep_a[:, None] + 1, (keep_a + keep_b)[:, None] + 2  # the [SEP] positions
    ids = tf.where(p <= keep_a[:, None], _take(ids_a, p - 1), 0)
    if ids_b is not None:
        in_b = (p > a_end) & (p < b_end)
        ids = tf.where(in_b, _take(ids_b, p - a_end - 1), ids)
        ids = tf.where(p == b_end, sep_id, ids)
        segments = tf.cast((p > a_end) & (p <= b_end), tf.int32)
    else:
        segments = tf.zeros_like(ids)
    ids = tf.where(p == a_end, sep_id, tf.where(p == 0, cls_id, ids))
    mask = tf.cast(p < total[:, None], tf.int32)
    return {"input_ids": ids * mask, "input_mask": mask, "segment_ids": segments * mask}


def _serving_functions(model, model_type, spm_model_file, max_seq_length):
    """{signature name: tf.function} of the model type: tokens, and text/text_pair where its row has `litert_text`."""
    kind = kind_named(model_type)
    tokens_spec = _TOKENS_3D if kind.choices_axis else _TOKENS

    @tf.function(input_signature=tokens_spec)
    def tokens(input_ids, input_mask, segment_ids):
        return _outputs(model, model_type, {"input_ids": input_ids, "input_mask": input_mask,
                                            "segment_ids": segment_ids})

    functions = {"tokens": tokens}
    if spm_model_file and kind.litert_text:
        import tensorflow_text as text_ops

        with open(spm_model_file, "rb") as f:
            tokenizer = text_ops.FastSentencepieceTokenizer(f.read())
        normalizer = text_ops.FastBertNormalizer(lower_case_nfd_strip_accents=True)
        import sentencepiece

        vocabulary = sentencepiece.SentencePieceProcessor(model_file=spm_model_file)
        cls_id, sep_id = (vocabulary.piece_to_id(name) for name in ("[CLS]", "[SEP]"))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text")])
        def text(text):
            ids, lengths = _dense_pieces(tokenizer, normalizer, text)
            return _outputs(model, model_type, pack_dense(ids, lengths, None, None, max_seq_length, cls_id, sep_id))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "text_a"),
                                      tf.TensorSpec([None], tf.string, "text_b")])
        def text_pair(text_a, text_b):
            ids_a, len_a = _dense_pieces(tokenizer, normalizer, text_a)
            ids_b, len_b = _dense_pieces(tokenizer, normalizer, text_b)
            return _outputs(model, model_type, pack_dense(ids_a, len_a, ids_b, len_b, max_seq_length, cls_id,
                                                          sep_id))

        functions.update(text=text, text_pair=text_pair)
    return functions


def _named_outputs(frozen, keys):
    def call(*args):
        return dict(zip(keys, frozen(*args)))
    return call


def _frozen_saved_model(functions, folder):
    """A SavedModel whose signatures are the functions with every variable folded into a constant."""
    module = tf.Module()
    signatures = {}
    for name, function in functions.items():
        concrete = function.get_concrete_function()
        frozen = convert_variables_to_constants_v2(concrete)
        keys = sorted(concrete.structured_outputs)  # the frozen function returns them flattened, in this order
        specs = function.input_signature

        wrapped = tf.function(_named_outputs(frozen, keys), input_signature=specs)
        setattr(module, name, wrapped)
        signatures[name] = wrapped.get_concrete_function()
    tf.saved_model.save(module, folder, signatures=signatures)
    return list(signatures)


def convert(model, model_type, spm_model_file=None, max_seq_length=MAX_SEQ_LENGTH, quantize="none"):
    """(flatbuffer bytes, signature names) of the model type's serving functions."""
    staging = tempfile.mkdtemp(prefix="albert_tf_litert_")
    try:
        names = _frozen_saved_model(_serving_functions(model, model_type, spm_model_file, max_seq_length), staging)
        converter = tf.lite.TFLiteConverter.from_saved_model(staging, signature_keys=names)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        converter.allow_custom_ops = True  # tensorflow-text's normaliser and tokenizer (tflite_registrar)
        if quantize == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic range: int8 weights, float activations
        return converter.convert(), names
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_litert(model, model_type, folder, spm_model_file=None, max_seq_length=MAX_SEQ_LENGTH, quantize="none",
                  assets=(), serving=None):
    """Writes `folder/model.tflite`, `assets` and `export_info.json` beside it; returns the dict describing it."""
    data, names = convert(model, model_type, spm_model_file, max_seq_length, quantize)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, LITERT_FILE), "wb") as f:
        f.write(data)
    for asset in assets:
        shutil.copy(asset, os.path.join(folder, os.path.basename(asset)))
    exported = getattr(model, "encoder", model) if model_type == "encoder" else model
    info = {"format": "litert", "model_type": model_type, "quantize": quantize, "file": LITERT_FILE,
            "signatures": names, "file_bytes": len(data), "float32_parameter_bytes": 4 * exported.count_params()}
    if serving is not None:
        info["serving"] = serving
    write_export_info(folder, info)
    return info
