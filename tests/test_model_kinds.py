"""The table of model kinds: each row builds its class, names its heads, is recognised and is served."""

import dataclasses

import pytest

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints import variable_names
from albert_tf.checkpoints.hf_names import hf_names
from albert_tf.export import serving_module
from albert_tf.export.export_config import MODEL_TYPES, ExportConfig
from albert_tf.models import model_kinds
from albert_tf.tasks.registry import TASKS

CONFIG = AlbertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, embedding_size=16)
# (kind, options): one model of every row (SQuAD in both versions).
MODELS = [("encoder", {}), ("pretrainer", {}), ("classifier", {"num_classes": 3}),
          ("squad", {"version_2_with_negative": False}), ("squad", {"version_2_with_negative": True}),
          ("race", {}), ("token_classifier", {"num_classes": 5})]


def build(name, options):
    return model_kinds.kind_named(name).build(CONFIG, **options)


def test_the_table_covers_every_model_class_once():
    assert sorted(k.class_name for k in model_kinds.KINDS) == sorted(model_kinds.models.__all__)
    assert sorted({name for name, _ in MODELS}) == sorted(model_kinds.NAMES)
    # albert-export's four plus the token head (since albert-serve); albert-convert's five plus the token head.
    assert MODEL_TYPES == ("encoder", "classifier", "squad", "race", "token_classifier")
    assert model_kinds.NAMES == ("encoder", "pretrainer", "classifier", "squad", "race", "token_classifier")


def test_unknown_names_and_options_are_refused_naming_the_choices():
    with pytest.raises(ValueError, match="model_type='ner': expected one of encoder, pretrainer"):
        model_kinds.kind_named("ner")
    with pytest.raises(TypeError, match=r"race models take \['num_choices', 'dropout_rate'\], not \['num_classes'\]"):
        build("race", {"num_classes": 2})
    with pytest.raises(TypeError, match="is not an ALBERT model of this package"):
        model_kinds.kind_of(object())


@pytest.mark.parametrize("name,options", MODELS)
def test_each_row_builds_names_and_recognises_its_model(name, options):
    model = build(name, options)
    kind = model_kinds.kind_of(model)
    assert kind.name == name and type(model).__name__ == kind.class_name
    encoder_vars, head_vars = variable_names.model_variables(model)
    # Every head variable is named once and is a variable of the model; none is left unnamed.
    named = {id(v) for v in list(encoder_vars.values()) + list(head_vars.values())}
    assert len(named) == len(encoder_vars) + len(head_vars) == len(model.weights)
    assert named == {id(v) for v in model.weights}
    # The checkpoint's names show its kind and options, except RACE's: its head is a 1-output classifier's.
    shapes = {n: tuple(v.shape) for n, v in {**encoder_vars, **head_vars}.items()}
    recognised, read = model_kinds.recognise_original(shapes)
    if name == "race":
        assert (recognised.name, read) == ("classifier", {"num_classes": 1})
    else:
        assert recognised.name == name and read == {k: v for k, v in options.items() if k in read}
        assert set(read) == set(options)
    rebuilt = model_kinds.model_for_original(CONFIG, shapes, name)
    assert [tuple(w.shape) for w in rebuilt.weights] == [tuple(w.shape) for w in model.weights]


@pytest.mark.parametrize("name,options", [m for m in MODELS if not m[1].get("version_2_with_negative")])
def test_each_row_is_recognised_from_its_hugging_face_tensors(name, options):
    model = build(name, options)
    kind = model_kinds.kind_of(model)
    _, left_out = model_kinds.kind_of_hf_architecture(kind.hf_architecture)
    variables = {**variable_names.model_variables(model)[0], **variable_names.model_variables(model)[1]}
    shapes = {hf: tuple(variables[original].shape)[::-1 if transpose else 1]
              for hf, (original, transpose) in hf_names(model).items() if original not in left_out}
    assert model_kinds.recognise_hf(shapes) == (kind, kind.hf_architecture)
    built = kind.build(CONFIG, **kind.hf_options(_HfInfo(num_labels=options.get("num_classes", 2))))
    assert type(built) is type(model)


@dataclasses.dataclass
class _HfInfo:
    num_labels: int = 2
    classifier_dropout_prob: float = 0.1


def test_a_masked_lm_file_is_the_pretrainer_without_pooler_and_sop():
    kind, left_out = model_kinds.kind_of_hf_architecture("AlbertForMaskedLM")
    assert kind.name == "pretrainer" and "cls/seq_relationship/output_weights" in left_out
    assert model_kinds.recognise_hf({"predictions.bias": (100,)}) == (kind, "AlbertForMaskedLM")
    assert model_kinds.kind_of_hf_architecture("BertModel") is None


def test_serving_modules_and_export_settings_of_every_row_exist():
    export_fields = {f.name for f in dataclasses.fields(ExportConfig)}
    task_configs = {task.kind: config for task, config in TASKS.values()}
    for kind in model_kinds.KINDS:
        if kind.exportable:
            assert kind.serving, kind.name
        if kind.serving:
            assert isinstance(getattr(serving_module, kind.serving), type), kind.name
        assert set(kind.export_options) <= export_fields, kind.name
        if kind.name in task_configs:  # the task's config holds what its serving module takes
            fields = {f.name for f in dataclasses.fields(task_configs[kind.name])}
            assert set(kind.export_options) <= fields, kind.name
    assert sorted(task_configs) == ["classifier", "pretrainer", "race", "squad", "token_classifier"]
    from albert_tf.serving.served_model import ANSWERS  # every exportable kind is answered by albert-serve

    assert sorted(kind.answers for kind in model_kinds.KINDS if kind.exportable) == sorted(ANSWERS)
    assert model_kinds.kind_named("encoder").export_builds == "pretrainer"
