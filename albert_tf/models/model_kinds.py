"""The one table of model kinds: what every command, file format and task says about each kind of model.

A kind is one of our networks with its head. Its row holds everything the
rest of the package decides per kind, so that adding a head is one row
plus its class:

- `name`: the one vocabulary (`--model_type` of albert-export and
  albert-convert, `model_type` in export_info.json, a task's `kind`);
- the model class (`albert_tf.models`), the constructor options beyond the
  config that a checkpoint, an HF config, a task or a flag supplies, and
  which of them the original variables tell (`original_options`);
- the original TF1 names of its head variables (google-research/albert's
  run_pretraining, run_classifier, run_squad_v1/v2, run_race; the token
  classifier, which the original lacks, is named like the other heads);
- the rule that recognises it from an original checkpoint's variable names
  or an HF file's tensor names;
- its Hugging Face classes (transformers' modeling_albert) and head renames;
- its keras-hub task (keras_hub.models), that task's head variable paths and
  the constructor options that pass between the two;
- its serving module (a class of `albert_tf.export.serving_module`) and the
  export settings that module takes;
- the class of albert-serve that reads its requests and words its answers.

This module imports no TensorFlow: the commands read the names before
TensorFlow starts, and the model classes load on first use.
"""

import dataclasses
from typing import Callable, Optional

import albert_tf.models as models  # the package's attributes load lazily: no TensorFlow here
from albert_tf.errors import ConfigError


def _projection(prefix, projection):
    """The original `output_weights` [C, H] / `output_bias` [C] pair of an `OutputProjection`."""
    return [(f"{prefix}output_weights", projection.output_weights), (f"{prefix}output_bias", projection.output_bias)]


def _pretrainer_heads(model):
    mlm = model.masked_lm_head
    return [("cls/predictions/transform/dense/kernel", mlm.transform_kernel),
            ("cls/predictions/transform/dense/bias", mlm.transform_bias),
            ("cls/predictions/transform/LayerNorm/gamma", mlm.layer_norm.gamma),
            ("cls/predictions/transform/LayerNorm/beta", mlm.layer_norm.beta),
            ("cls/predictions/output_bias", mlm.output_bias),
            *_projection("cls/seq_relationship/", model.sentence_order_head)]


def _squad_heads(model):
    head = model.span_head
    if not model.version_2_with_negative:
        return _projection("cls/squad/", head)
    # run_squad_v2's variable scopes: start_logits, end_logits and answer_class.
    return [("start_logits/dense/kernel", head.start_dense.kernel), ("start_logits/dense/bias", head.start_dense.bias),
            ("end_logits/dense_0/kernel", head.end_dense_0.kernel), ("end_logits/dense_0/bias", head.end_dense_0.bias),
            ("end_logits/LayerNorm/gamma", head.end_layer_norm.gamma),
            ("end_logits/LayerNorm/beta", head.end_layer_norm.beta),
            ("end_logits/dense_1/kernel", head.end_dense_1.kernel), ("end_logits/dense_1/bias", head.end_dense_1.bias),
            ("answer_class/dense_0/kernel", head.answer_dense_0.kernel),
            ("answer_class/dense_0/bias", head.answer_dense_0.bias),
            ("answer_class/dense_1/kernel", head.answer_dense_1.kernel)]


def _classes_of(name):
    """Options of a head whose `name` [C, H] tensor gives the number of classes (None: not this head)."""
    return lambda shapes: {"num_classes": shapes[name][0]} if name in shapes else None


def _squad_options(shapes):
    if "start_logits/dense/kernel" in shapes:
        return {"version_2_with_negative": True}
    return {"version_2_with_negative": False} if "cls/squad/output_weights" in shapes else None


def _hf_labels(info):
    return {"num_classes": info.num_labels, "dropout_rate": info.classifier_dropout_prob}


def _labels_of(model):
    return {"num_labels": model.num_classes, "classifier_dropout_prob": model.dropout_rate}


def _hf_pretrainer(shapes):
    if not any(name.startswith("predictions.") for name in shapes):
        return None
    return "AlbertForPreTraining" if any(n.startswith("sop_classifier.") for n in shapes) else "AlbertForMaskedLM"


# Original names that HF classes build no tensor for.
_POOLER = ("bert/pooler/dense/kernel", "bert/pooler/dense/bias")
_SOP = ("cls/seq_relationship/output_weights", "cls/seq_relationship/output_bias")
_HF_CLASSIFIER = {"output_weights": "classifier.weight", "output_bias": "classifier.bias"}


@dataclasses.dataclass(frozen=True)
class ModelKind:
    """One row of `KINDS` (see the module docstring for what each part is for)."""

    name: str
    class_name: str  # in albert_tf.models
    description: str
    options: tuple = ()  # constructor arguments after the config
    head_variables: Callable = lambda model: []  # model -> [(original name, variable)]
    original_options: Optional[Callable] = None  # {original name: shape} -> options, or None: not this kind
    hf_architectures: tuple = ()  # ((HF class, original names its files lack), ...); the first is written
    hf_heads: dict = dataclasses.field(default_factory=dict)  # original name or module -> HF name or module
    hf_recognise: Optional[Callable] = None  # {HF name: shape} -> HF class, or None: not this kind
    hf_options: Callable = lambda info: {}  # HfHeadInfo -> options
    hf_info: Callable = lambda model: {}  # model -> HfHeadInfo fields of its config.json
    keras_hub_task: Optional[str] = None  # class in keras_hub.models; None: a preset holds the backbone alone
    keras_hub_heads: dict = dataclasses.field(default_factory=dict)  # original name -> (its path, transpose)
    keras_hub_left_out: tuple = ()  # original names the keras-hub task has no variable for
    to_keras_hub: Callable = lambda model: {}  # model -> keras-hub task constructor options
    from_keras_hub: Callable = lambda task: {}  # keras-hub task -> options
    choices_axis: bool = False  # inputs are [batch, choices, length] (multiple choice), not [batch, length]
    serving: Optional[str] = None  # class in albert_tf.export.serving_module; None: no SavedModel text signatures
    onnx_head: Optional[str] = None  # function in albert_tf.export.onnx_graph writing the head's ONNX nodes
    litert_text: bool = False  # LiteRT exports of SentencePiece models get the text and text_pair signatures
    export_options: tuple = ()  # ExportConfig fields its serving module takes
    exportable: bool = False  # albert-export --model_type takes it
    export_builds: Optional[str] = None  # the kind whose network its export builds (default: itself)
    answers: Optional[str] = None  # class in albert_tf.serving that reads its requests and words its answers

    @property
    def model_class(self):
        return getattr(models, self.class_name)

    def build(self, albert_config, dtype=None, **options):
        """The model of this kind; `options` are constructor arguments (num_classes, dropout_rate, ...);
        `dtype` a dtype policy name ("mixed_bfloat16"; default: the global policy)."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(f"{self.name} models take {list(self.options) or 'no options'}, not {unknown}")
        return self.model_class(albert_config, **options, **({"dtype": dtype} if dtype else {}))

    @property
    def hf_architecture(self):
        """The Hugging Face class this kind is written as (None: HF has none)."""
        return self.hf_architectures[0][0] if self.hf_architectures else None


KINDS = (  # in the order commands list them
    ModelKind(
        # Exported as the pretrainer: the signatures of Google's TF-Hub ALBERT modules (tokens, sop, mlm)
        # need its heads; a checkpoint without them leaves them unloaded (reported).
        name="encoder", class_name="AlbertEncoder",
        description="the bare encoder: sequence and pooled outputs",
        original_options=lambda shapes: {},
        hf_architectures=(("AlbertModel", ()),),
        hf_recognise=lambda shapes: "AlbertModel",
        serving="EncoderServing", onnx_head="encoder_outputs", litert_text=True, exportable=True,
        answers="EncoderAnswers",
        export_builds="pretrainer"),
    ModelKind(
        name="pretrainer", class_name="AlbertPretrainer",
        description="the encoder with the MLM and SOP heads of pretraining",
        head_variables=_pretrainer_heads,
        original_options=lambda shapes: {} if "cls/predictions/output_bias" in shapes else None,
        hf_architectures=(("AlbertForPreTraining", ()), ("AlbertForMaskedLM", _POOLER + _SOP)),
        hf_heads={"cls/predictions/transform/dense": "predictions.dense",
                  "cls/predictions/transform/LayerNorm": "predictions.LayerNorm",
                  "cls/predictions/output_bias": "predictions.bias",
                  "cls/seq_relationship/output_weights": "sop_classifier.classifier.weight",
                  "cls/seq_relationship/output_bias": "sop_classifier.classifier.bias"},
        hf_recognise=_hf_pretrainer,
        keras_hub_task="AlbertMaskedLM",
        keras_hub_heads={"cls/predictions/transform/dense/kernel": ("mlm_head/intermediate_dense/kernel", False),
                         "cls/predictions/transform/dense/bias": ("mlm_head/intermediate_dense/bias", False),
                         "cls/predictions/transform/LayerNorm/gamma": ("mlm_head/intermediate_layer_norm/gamma",
                                                                       False),
                         "cls/predictions/transform/LayerNorm/beta": ("mlm_head/intermediate_layer_norm/beta", False),
                         "cls/predictions/output_bias": ("mlm_head/output_bias", False)},
        keras_hub_left_out=_SOP,  # keras-hub has no sentence-order head
        serving="EncoderServing"),
    ModelKind(
        name="classifier", class_name="AlbertClassifier",
        description="sentence(-pair) classification, or regression with one output (run_classifier)",
        options=("num_classes", "dropout_rate"),
        head_variables=lambda model: _projection("", model.classifier),
        original_options=_classes_of("output_weights"),
        hf_architectures=(("AlbertForSequenceClassification", ()),),
        hf_heads=_HF_CLASSIFIER,
        hf_recognise=lambda shapes: ("AlbertForSequenceClassification" if "classifier.weight" in shapes
                                     and shapes["classifier.weight"][0] > 1 else None),
        hf_options=_hf_labels,
        hf_info=lambda model: {**_labels_of(model), "problem_type": "regression" if model.num_classes == 1 else None},
        keras_hub_task="AlbertTextClassifier",
        keras_hub_heads={"output_weights": ("logits/kernel", True), "output_bias": ("logits/bias", False)},
        to_keras_hub=lambda model: {"num_classes": model.num_classes, "dropout": model.dropout_rate},
        from_keras_hub=lambda task: {"num_classes": task.num_classes, "dropout_rate": task.dropout},
        serving="ClassifierServing", onnx_head="classifier_outputs", litert_text=True, exportable=True,
        answers="ClassifierAnswers"),
    ModelKind(
        name="squad", class_name="AlbertQuestionAnswerer",
        description="SQuAD span extraction (v1.1: start/end logits; v2.0: run_squad_v2's beam and answerability)",
        options=("version_2_with_negative", "start_n_top", "end_n_top", "dropout_rate"),
        head_variables=_squad_heads, original_options=_squad_options,
        # HF builds it without a pooler (the span head does not use ours) and has no v2.0 head.
        hf_architectures=(("AlbertForQuestionAnswering", _POOLER),),
        hf_heads={"cls/squad/output_weights": "qa_outputs.weight", "cls/squad/output_bias": "qa_outputs.bias"},
        hf_recognise=lambda shapes: "AlbertForQuestionAnswering" if "qa_outputs.weight" in shapes else None,
        hf_options=lambda info: {"version_2_with_negative": False}, hf_info=lambda model: {"num_labels": 2},
        serving="SquadServing", onnx_head="squad_outputs", export_options=("max_query_length",), exportable=True,
        answers="SquadAnswers"),
    ModelKind(
        # Its variables are those of a one-output classifier: never recognised, always named.
        name="race", class_name="AlbertMultipleChoice",
        description="multiple choice: one score per (article, question + option) sequence (run_race)",
        options=("num_choices", "dropout_rate"),
        head_variables=lambda model: _projection("", model.scorer),
        hf_architectures=(("AlbertForMultipleChoice", ()),),
        hf_heads=_HF_CLASSIFIER,
        hf_recognise=lambda shapes: "AlbertForMultipleChoice" if "classifier.weight" in shapes else None,
        choices_axis=True, serving="MultipleChoiceServing", onnx_head="multiple_choice_outputs",
        export_options=("max_qa_length",), exportable=True, answers="ChoiceAnswers"),
    ModelKind(
        name="token_classifier", class_name="AlbertTokenClassifier",
        description="a label per token (NER, POS) from the sequence output",
        options=("num_classes", "dropout_rate"),
        head_variables=lambda model: _projection("cls/token_classification/", model.classifier),
        original_options=_classes_of("cls/token_classification/output_weights"),
        hf_architectures=(("AlbertForTokenClassification", _POOLER),),
        hf_heads={"cls/token_classification/output_weights": "classifier.weight",
                  "cls/token_classification/output_bias": "classifier.bias"},
        hf_recognise=lambda shapes: ("AlbertForTokenClassification" if "classifier.weight" in shapes
                                     and "albert.pooler.weight" not in shapes else None),
        hf_options=_hf_labels, hf_info=_labels_of,
        serving="TokenClassifierServing", onnx_head="token_classifier_outputs", exportable=True,
        answers="EntityAnswers"),
)

NAMES = tuple(kind.name for kind in KINDS)
# The order a checkpoint's names are tried in: most specific first; the encoder takes anything.
_RECOGNITION = ("pretrainer", "squad", "token_classifier", "classifier", "race", "encoder")
EXPORTABLE = tuple(kind.name for kind in KINDS if kind.exportable)
_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name, what="model_type"):
    """The row of `name`; a ValueError naming `what` and the choices otherwise."""
    if name not in _BY_NAME:
        raise ValueError(f"{what}={name!r}: expected one of {', '.join(NAMES)}")
    return _BY_NAME[name]


def kind_of(model):
    """The row of one of our models (by its class)."""
    for kind in KINDS:
        if type(model).__name__ == kind.class_name and type(model).__module__.startswith("albert_tf.models"):
            return kind
    raise TypeError(f"{type(model).__name__} is not an ALBERT model of this package: expected one of "
                    f"{', '.join(kind.class_name for kind in KINDS)}")


def recognise_original(shapes):
    """(kind, options) of an original-layout checkpoint with variables {name: shape}."""
    for kind in map(kind_named, _RECOGNITION):
        options = kind.original_options(shapes) if kind.original_options else None
        if options is not None:
            return kind, options
    raise AssertionError("the encoder row recognises every checkpoint")


def model_for_original(albert_config, shapes, name=None, dtype=None, **given):
    """The model of kind `name` (None: the kind the names show) for an original-layout checkpoint with
    variables {name: shape}; options the names tell (number of classes, SQuAD v2.0) unless `given`."""
    kind = kind_named(name) if name else recognise_original(shapes)[0]
    options = (kind.original_options(shapes) if kind.original_options else None) or {}
    options.update({key: value for key, value in given.items() if value is not None})
    if "num_classes" in kind.options and "num_classes" not in options:
        raise ConfigError(f"num_classes is not set and the checkpoint has no {kind.name} head to read it from "
                          "(original-layout output_weights); set num_classes (1 for regression)")
    return kind.build(albert_config, dtype=dtype, **options)


def recognise_hf(shapes):
    """(kind, HF class) of an HF weights file with tensors {name: shape}."""
    for kind in map(kind_named, _RECOGNITION):
        architecture = kind.hf_recognise(shapes) if kind.hf_recognise else None
        if architecture:
            return kind, architecture
    raise AssertionError("the encoder row recognises every file")


def kind_of_keras_hub_task(task_class):
    """The kind whose keras-hub task is `task_class` (a class name), or None."""
    return next((kind for kind in KINDS if kind.keras_hub_task and kind.keras_hub_task == task_class), None)


def kind_of_hf_architecture(architecture):
    """(kind, original names its files lack) of an HF class name; None when no kind has it."""
    for kind in KINDS:
        for name, left_out in kind.hf_architectures:
            if name == architecture:
                return kind, left_out
    return None


HF_ARCHITECTURES = tuple(name for kind in KINDS for name, _ in kind.hf_architectures)
