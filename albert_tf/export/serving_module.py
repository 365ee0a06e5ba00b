"""tf.Modules with the serving signatures of each exported model type.

Every export has a tensor signature (`input_ids`, `input_mask`,
`segment_ids`: int32 [batch, length]) and raw-text signatures whose
tokenization (`GraphTokenizer`, identical ids to the Python tokenizers),
packing and truncation run in the graph. The SentencePiece model or vocab
and `albert_config.json` are SavedModel assets. Loading needs only
`tensorflow` and `tensorflow_text` (`import tensorflow_text` registers the
tf-text ops before `tf.saved_model.load`).
"""

import os
import tempfile

import tensorflow as tf

from albert_tf.export.export_config import write_export_info
from albert_tf.export.text_packing import keep_first, pack_inputs
from albert_tf.models.albert_encoder import ENCODER_INPUTS
from albert_tf.errors import ConfigError
from albert_tf.models.model_config import albert_config_of
from albert_tf.models.model_kinds import EXPORTABLE, kind_named
from albert_tf.outputs.atomic_files import atomic_path
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.graph_tokenizer import GraphTokenizer

TOKENS = [tf.TensorSpec([None, None], tf.int32, name) for name in ENCODER_INPUTS]
TEXT = tf.TensorSpec([None], tf.string, "text")
TEXT_A = tf.TensorSpec([None], tf.string, "text_a")
TEXT_B = tf.TensorSpec([None], tf.string, "text_b")


def _inputs(input_ids, input_mask, segment_ids):
    return {"input_ids": input_ids, "input_mask": input_mask, "segment_ids": segment_ids}


class _ServingModule(tf.Module):
    """Tokenizer, assets and the model; subclasses add the signatures."""

    def __init__(self, model, max_seq_length, vocab_file=None, spm_model_file=None, do_lower_case=True):
        super().__init__()
        self.model = model
        self.max_seq_length = max_seq_length
        self.tokenizer = GraphTokenizer(vocab_file, do_lower_case, spm_model_file)
        self.vocab_asset = tf.saved_model.Asset(spm_model_file or vocab_file)
        config_dir = tempfile.mkdtemp()
        config = albert_config_of(model)
        config.to_json_file(os.path.join(config_dir, "albert_config.json"))
        self.config_asset = tf.saved_model.Asset(os.path.join(config_dir, "albert_config.json"))
        self.do_lower_case = tf.constant(do_lower_case)
        self.cls_id, self.sep_id = FullTokenizer(vocab_file, do_lower_case, spm_model_file) \
            .convert_tokens_to_ids(["[CLS]", "[SEP]"])

    def pack(self, text_a, text_b=None):
        ids_b = None if text_b is None else self.tokenizer.tokenize(text_b)
        return pack_inputs(self.tokenizer.tokenize(text_a), ids_b, self.max_seq_length, self.cls_id, self.sep_id)

    @tf.function(input_signature=[])
    def tokenization_info(self):
        """The TF-Hub `tokenization_info` signature: the vocabulary asset and lower-casing."""
        return {"vocab_file": self.vocab_asset.asset_path, "do_lower_case": self.do_lower_case}


class EncoderServing(_ServingModule):
    """The original TF-Hub signatures of the encoder: tokens, sop, mlm, tokenization_info."""

    def _encode(self, inputs):
        outputs = self.model.encoder(inputs, training=False)
        return {"sequence_output": outputs["sequence_output"], "pooled_output": outputs["pooled_output"]}

    @tf.function(input_signature=TOKENS)
    def tokens(self, input_ids, input_mask, segment_ids):
        return self._encode(_inputs(input_ids, input_mask, segment_ids))

    @tf.function(input_signature=TOKENS)
    def sop(self, input_ids, input_mask, segment_ids):
        outputs = self._encode(_inputs(input_ids, input_mask, segment_ids))
        outputs["sop_logits"] = self.model.sentence_order_head(outputs["pooled_output"])
        return outputs

    @tf.function(input_signature=TOKENS + [tf.TensorSpec([None, None], tf.int32, "mlm_positions")])
    def mlm(self, input_ids, input_mask, segment_ids, mlm_positions):
        outputs = self._encode(_inputs(input_ids, input_mask, segment_ids))
        outputs["mlm_logits"] = self.model.masked_lm_head(outputs["sequence_output"], mlm_positions)
        return outputs

    @tf.function(input_signature=[TEXT])
    def text(self, text):
        inputs = self.pack(text)
        return {**self._encode(inputs), **inputs}

    @tf.function(input_signature=[TEXT_A, TEXT_B])
    def text_pair(self, text_a, text_b):
        inputs = self.pack(text_a, text_b)
        return {**self._encode(inputs), **inputs}

    def signatures(self):
        return {"serving_default": self.tokens, "tokens": self.tokens, "sop": self.sop, "mlm": self.mlm,
                "tokenization_info": self.tokenization_info, "text": self.text, "text_pair": self.text_pair}


class ClassifierServing(_ServingModule):
    """A fine-tuned classifier or regressor: logits and probabilities (or the score)."""

    def _classify(self, inputs):
        logits = self.model(inputs, training=False)["logits"]
        if self.model.num_classes == 1:
            return {"predictions": logits[:, 0]}
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, -1),
                "predictions": tf.argmax(logits, -1, output_type=tf.int32)}

    @tf.function(input_signature=TOKENS)
    def tokens(self, input_ids, input_mask, segment_ids):
        return self._classify(_inputs(input_ids, input_mask, segment_ids))

    @tf.function(input_signature=[TEXT])
    def text(self, text):
        return self._classify(self.pack(text))

    @tf.function(input_signature=[TEXT_A, TEXT_B])
    def text_pair(self, text_a, text_b):
        return self._classify(self.pack(text_a, text_b))

    def signatures(self):
        return {"serving_default": self.tokens, "tokens": self.tokens, "text": self.text,
                "text_pair": self.text_pair, "tokenization_info": self.tokenization_info}


class TokenClassifierServing(_ServingModule):
    """A token classifier (NER, POS): logits, probabilities and the predicted label of every position.

    Only token signatures: the model was trained on words tokenized one by one (`conll_data`), which a
    text signature would have to split and map back; albert-serve does that in Python.
    """

    def _tag(self, inputs):
        logits = self.model(inputs, training=False)["logits"]
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, -1),
                "predictions": tf.argmax(logits, -1, output_type=tf.int32)}

    @tf.function(input_signature=TOKENS)
    def tokens(self, input_ids, input_mask, segment_ids):
        return self._tag(_inputs(input_ids, input_mask, segment_ids))

    def signatures(self):
        return {"serving_default": self.tokens, "tokens": self.tokens, "tokenization_info": self.tokenization_info}


def squad_p_mask(input_mask, segment_ids):
    """The original p_mask from packed inputs: question, both [SEP]s and padding can't be answers."""
    positions = tf.expand_dims(tf.range(tf.shape(input_mask)[1]), 0)  # (LiteRT has no new-axis slicing)
    last = tf.reduce_sum(input_mask, 1, keepdims=True) - 1
    question = (segment_ids == 0) & (positions > 0)
    return tf.cast(question | (input_mask == 0) | (positions == last), tf.int32)


class SquadServing(_ServingModule):
    """A SQuAD model. v1: start/end logits; v2: the beam, its indices and the answerability logit.

    The text signature packs `[CLS] question [SEP] context [SEP]` (question
    cut to `max_query_length` tokens, the context to what is left) and also
    returns the packed `input_ids`: positions index into them. Long contexts
    need the windowing of `run_squad.py`, which is not done in the graph.
    """

    def __init__(self, model, max_seq_length, max_query_length=64, **kwargs):
        super().__init__(model, max_seq_length, **kwargs)
        self.max_query_length = max_query_length

    def _answer(self, inputs):
        inputs = dict(inputs)
        if self.model.version_2_with_negative:
            inputs["p_mask"] = squad_p_mask(inputs["input_mask"], inputs["segment_ids"])
        return dict(self.model(inputs, training=False))

    @tf.function(input_signature=TOKENS)
    def tokens(self, input_ids, input_mask, segment_ids):
        return self._answer(_inputs(input_ids, input_mask, segment_ids))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "question"),
                                  tf.TensorSpec([None], tf.string, "context")])
    def text_pair(self, question, context):
        question_ids = self.tokenizer.tokenize(question)
        question_ids = keep_first(question_ids, tf.minimum(question_ids.row_lengths(), self.max_query_length))
        context_ids = keep_first(self.tokenizer.tokenize(context),
                                 self.max_seq_length - 3 - question_ids.row_lengths())
        inputs = pack_inputs(question_ids, context_ids, self.max_seq_length, self.cls_id, self.sep_id)
        return {**self._answer(inputs), "input_ids": inputs["input_ids"]}

    def signatures(self):
        return {"serving_default": self.tokens, "tokens": self.tokens, "text_pair": self.text_pair,
                "tokenization_info": self.tokenization_info}


class MultipleChoiceServing(_ServingModule):
    """A RACE model: [batch, 4, length] tensors, or article, question and 4 options as text."""

    def __init__(self, model, max_seq_length, max_qa_length=128, **kwargs):
        super().__init__(model, max_seq_length, **kwargs)
        self.max_qa_length = max_qa_length

    def _choose(self, inputs):
        logits = self.model(inputs, training=False)["logits"]
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, -1),
                "predictions": tf.argmax(logits, -1, output_type=tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.int32, name) for name in ENCODER_INPUTS])
    def tokens(self, input_ids, input_mask, segment_ids):
        return self._choose(_inputs(input_ids, input_mask, segment_ids))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, "article"),
                                  tf.TensorSpec([None], tf.string, "question"),
                                  tf.TensorSpec([None, None], tf.string, "options")])
    def text(self, article, question, options):
        choices = tf.shape(options)[1]
        flat_options = tf.reshape(options, [-1])
        questions = tf.repeat(question, choices)
        # "_" in the question is replaced by the option (every occurrence), else " " + option follows.
        parts = tf.strings.split(questions, "_")
        not_last = tf.ragged.range(parts.row_lengths()) < (parts.row_lengths() - 1)[:, None]
        fill = tf.where(not_last.flat_values, tf.gather(flat_options, parts.value_rowids()), "")
        replaced = tf.strings.reduce_join(parts.with_flat_values(parts.flat_values + fill), axis=1)
        qa = tf.where(tf.strings.regex_full_match(questions, ".*_.*"), replaced,
                      tf.strings.join([questions, flat_options], separator=" "))
        qa_ids = self.tokenizer.tokenize(qa)
        keep_from = tf.maximum(qa_ids.row_lengths() - self.max_qa_length, 0)
        qa_ids = tf.ragged.boolean_mask(qa_ids, tf.ragged.range(qa_ids.row_lengths()) >= keep_from[:, None])
        article_ids = self.tokenizer.tokenize(tf.repeat(article, choices))
        inputs = pack_inputs(article_ids, qa_ids, self.max_seq_length, self.cls_id, self.sep_id)
        batch = tf.shape(article)[0]
        return self._choose({k: tf.reshape(v, [batch, choices, -1]) for k, v in inputs.items()})

    def signatures(self):
        return {"serving_default": self.tokens, "tokens": self.tokens, "text": self.text,
                "tokenization_info": self.tokenization_info}


# Signatures that read only token tensors: no tokenizer, so no tensorflow-text op in their graphs.
TENSOR_SIGNATURES = ("serving_default", "tokens", "sop", "mlm")


def export_saved_model(module, export_dir, serving=None, text_signatures=True):
    """Writes `module` with its signatures, and export_info.json beside saved_model.pb (the signatures and
    `serving`, see `export_config.serving_info`); returns the signature names.

    `text_signatures=False` writes the tensor signatures alone, from a module that holds only the model: no
    function of the SavedModel uses a tensorflow-text op, so stock TensorFlow (Serving) loads it.
    """
    signatures = module.signatures()
    if not text_signatures:
        signatures = {name: function.get_concrete_function() for name, function in signatures.items()
                      if name in TENSOR_SIGNATURES}
        model_only = tf.Module()
        model_only.model = module.model  # tracks the variables the concrete functions capture
        module = model_only
    with atomic_path(export_dir) as temporary:  # a complete SavedModel or the previous one, never half
        tf.saved_model.save(module, temporary, signatures=signatures)
        info = {"format": "saved_model", "signatures": sorted(signatures)}
        if serving is not None:
            info["serving"] = serving
        write_export_info(temporary, info)
    return sorted(signatures)


def serving_module_for(kind_name, model, max_seq_length, vocabulary, **settings):
    """The serving module of the kind `kind_name` names (its row's `serving`) around `model`.

    `vocabulary`: vocab_file / spm_model_file / do_lower_case; `settings`: export settings, of which the
    row's `export_options` (max_query_length, max_qa_length) are passed on.
    """
    kind = kind_named(kind_name)
    if kind.serving is None:
        raise ConfigError(f"{kind.name} models have no SavedModel serving module yet; export one of "
                          f"{', '.join(EXPORTABLE)}")
    options = {name: settings[name] for name in kind.export_options if name in settings}
    return globals()[kind.serving](model, max_seq_length, **options, **vocabulary)
