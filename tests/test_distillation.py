"""Distillation: each loss against a NumPy computation on small tensors, the layer maps, the encoder's internals.

Tolerances: the losses are float32 reductions of at most a few hundred terms of size about 1 (relative
rounding about n * 2^-24 < 1e-5); Keras' KL clips probabilities at 1e-7, which moves a term by less than
1e-7 * |log 1e-7| = 2e-6 for logits of the sizes used here. So 1e-5 relative.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig
from albert_tf.distillation import distillation_losses as losses
from albert_tf.distillation.layer_map import parse_layer_map, uniform_layer_map
from albert_tf.errors import ConfigError
from albert_tf.models import AlbertEncoder
from test_keras_hub_interop import scrambled

RTOL = 1e-5
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], np.int32)  # 3 sequences, 5 positions


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def kl(teacher, student):
    p = np.exp(log_softmax(teacher))
    return (p * (log_softmax(teacher) - log_softmax(student))).sum(-1)


def masked_mean(per_position, mask):
    return (per_position * mask).sum() / mask.sum()


def adder(mask):
    return (1.0 - mask)[:, None, None, :] * -10000.0


def rng(seed=0):
    return np.random.default_rng(seed)


def test_soft_targets_are_t_squared_kl_with_and_without_a_mask():
    r = rng()
    teacher, student = r.normal(0, 2, (4, 3)), r.normal(0, 2, (4, 3))
    for temperature in (1.0, 2.0, 4.0):
        expected = temperature ** 2 * kl(teacher / temperature, student / temperature).mean()
        found = float(losses.soft_target_loss(tf.constant(teacher), tf.constant(student), temperature))
        assert found == pytest.approx(expected, rel=RTOL)
    # per-token logits: only real tokens count (the padded positions hold wild logits that must not matter)
    teacher, student = r.normal(0, 2, (3, 5, 4)), r.normal(0, 2, (3, 5, 4))
    student[MASK == 0] = 50.0
    expected = 4.0 * masked_mean(kl(teacher / 2, student / 2), MASK)
    assert float(losses.soft_target_loss(teacher, student, 2.0, mask=MASK)) == pytest.approx(expected, rel=RTOL)
    # with every token real, the masked path equals Keras' LogitsDistillation on the flattened rows
    ones = np.ones((3, 5), np.int32)
    flat = losses.soft_target_loss(teacher.reshape(15, 4), student.reshape(15, 4), 3.0)
    assert float(losses.soft_target_loss(teacher, student, 3.0, mask=ones)) == pytest.approx(float(flat), rel=RTOL)


def test_regression_and_hidden_states_through_a_projection():
    r = rng(1)
    teacher, student = r.normal(size=6), r.normal(size=6)
    assert float(losses.regression_distillation_loss(teacher, student)) == pytest.approx(
        ((teacher - student) ** 2).mean(), rel=RTOL)
    teacher, student, weight = r.normal(size=(3, 5, 8)), r.normal(size=(3, 5, 4)), r.normal(size=(4, 8))
    expected = masked_mean(((student @ weight - teacher) ** 2).mean(-1), MASK)
    found = losses.hidden_state_loss(teacher, student, MASK, projection=lambda x: tf.matmul(x, weight))
    assert float(found) == pytest.approx(expected, rel=RTOL)
    with pytest.raises(ValueError, match="hidden widths differ \\(4 student, 8 teacher\\)"):
        losses.hidden_state_loss(teacher, student, MASK)


def test_attention_scores_and_distributions_count_real_queries_and_keys():
    r = rng(2)
    teacher = r.normal(size=(3, 2, 5, 5)) + adder(MASK)
    student = r.normal(size=(3, 2, 5, 5)) + adder(MASK)
    keys = MASK[:, None, None, :]
    per_query = (((student - teacher) ** 2) * keys).sum(-1) / keys.sum(-1)  # [3, 2, 5]
    expected = masked_mean(per_query.mean(1), MASK)
    assert float(losses.attention_score_loss(teacher, student, MASK)) == pytest.approx(expected, rel=RTOL)
    expected = masked_mean(kl(teacher, student).mean(1), MASK)
    assert float(losses.attention_distribution_loss(teacher, student, MASK)) == pytest.approx(expected, rel=RTOL)
    with pytest.raises(ValueError, match="as many heads in the student as in the teacher \\(4 and 2\\)"):
        losses.attention_score_loss(teacher, np.concatenate([student, student], 1), MASK)


def regroup(vectors, heads):
    batch, count, seq, size = vectors.shape
    joined = vectors.transpose(0, 2, 1, 3).reshape(batch, seq, count * size)
    return joined.reshape(batch, seq, heads, count * size // heads).transpose(0, 2, 1, 3)


def relation_logits(vectors, mask):
    return vectors @ vectors.transpose(0, 1, 3, 2) / np.sqrt(vectors.shape[-1]) + adder(mask)


def test_value_relations_with_matching_and_mismatched_heads():
    r = rng(3)
    teacher, student = r.normal(size=(3, 4, 5, 8)), r.normal(size=(3, 4, 5, 6))  # same heads, other widths
    expected = masked_mean(kl(relation_logits(teacher, MASK), relation_logits(student, MASK)).mean(1), MASK)
    assert float(losses.self_relation_loss(teacher, student, MASK)) == pytest.approx(expected, rel=RTOL)
    # MiniLM v2: 4 teacher heads of 8 and 2 student heads of 8, both regrouped into 4 relation heads
    student = r.normal(size=(3, 2, 5, 8))
    t, s = regroup(teacher, 4), regroup(student, 4)
    assert t.shape == (3, 4, 5, 8) and s.shape == (3, 4, 5, 4)
    expected = masked_mean(kl(relation_logits(t, MASK), relation_logits(s, MASK)).mean(1), MASK)
    found = losses.self_relation_loss(teacher, student, MASK, relation_heads=4)
    assert float(found) == pytest.approx(expected, rel=RTOL)
    with pytest.raises(ValueError, match="\\(2 and 4\\); set relation_heads"):
        losses.self_relation_loss(teacher, student, MASK)


def test_layer_maps():
    assert uniform_layer_map(12, 4) == [(1, 3), (2, 6), (3, 9), (4, 12)]
    assert uniform_layer_map(6, 6) == [(m, m) for m in range(1, 7)]
    assert parse_layer_map("last", 12, 4) == [(4, 12)]
    assert parse_layer_map(" 2:6, 0:0,1:2", 12, 4) == [(0, 0), (1, 2), (2, 6)]
    for text, message in (("1:13", "out of range: the student has layers 0 \\(embeddings\\) to 4, the teacher "
                                   "0 to 12"),
                          ("1:3,1:6", "student layer 1 appears twice"), ("1-3", "'1-3' is not STUDENT:TEACHER")):
        with pytest.raises(ConfigError, match=message):
            parse_layer_map(text, 12, 4)
    assert uniform_layer_map(6, 4) == [(1, 2), (2, 3), (3, 5), (4, 6)]  # ceil(1.5), ceil(3), ceil(4.5), 6
    assert uniform_layer_map(12, 5) == [(1, 3), (2, 5), (3, 8), (4, 10), (5, 12)]


def test_the_students_shape_comes_from_the_teacher_with_a_preset_or_sizes():
    from albert_tf.distillation.distillation_config import DistillationConfig

    teacher = AlbertConfig.from_preset("base_v2")  # vocabulary 30000, 512 positions

    def student(**shape):
        return DistillationConfig(teacher_checkpoint="teacher", **shape).validate().student_config(teacher)

    tiny = student(student_num_hidden_layers=4, student_hidden_size=312)
    assert (tiny.num_hidden_layers, tiny.hidden_size, tiny.num_attention_heads, tiny.intermediate_size,
            tiny.embedding_size, tiny.vocab_size, tiny.max_position_embeddings) == (4, 312, 12, 1248, 128, 30000, 512)
    preset = student(student_preset="zh_tiny", student_num_hidden_groups=4)  # brightmart's shape, unshared
    assert (preset.num_hidden_layers, preset.hidden_size, preset.intermediate_size, preset.num_hidden_groups,
            preset.vocab_size, preset.variant) == (4, 312, 1248, 4, 30000, "google")
    assert student().to_dict() == teacher.to_dict()  # no shape given: the teacher's
    assert DistillationConfig(teacher_checkpoint="t", student_hidden_size=64).shapes_student()
    assert not DistillationConfig(teacher_checkpoint="t").shapes_student()
    with pytest.raises(ConfigError, match=r"student_hidden_size=100, student_num_attention_heads=12\) is not a model"):
        student(student_hidden_size=100, student_num_attention_heads=12)
    with pytest.raises(ConfigError, match="student_preset='nano': expected one of"):
        student(student_preset="nano")
    with pytest.raises(ConfigError, match="student_num_hidden_layers=0: expected >= 1"):
        student(student_num_hidden_layers=0)


def test_encoder_internals_are_the_models_own_forward_pass():
    config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=4,
                          num_hidden_groups=2, inner_group_num=2, num_attention_heads=4, intermediate_size=64,
                          max_position_embeddings=40)
    encoder = scrambled(AlbertEncoder(config, output_all_layers=True))
    ids = np.random.default_rng(4).integers(5, 300, (3, 5)).astype(np.int32) * MASK
    inputs = {"input_ids": ids, "input_mask": MASK, "segment_ids": np.zeros_like(ids)}
    model, internals = encoder(inputs, training=False), encoder.internals(inputs)
    # the same layers in the same order: equal to the last bit
    np.testing.assert_array_equal(internals["sequence_output"], model["sequence_output"])
    np.testing.assert_array_equal(internals["pooled_output"], model["pooled_output"])
    assert len(internals["hidden_states"]) == len(internals["attention"]) == 4
    for ours, theirs in zip(internals["hidden_states"], model["encoder_outputs"]):
        np.testing.assert_array_equal(ours, theirs)
    assert internals["embedding_output"].shape == (3, 5, 32)
    for layer in internals["attention"]:
        q, k = layer["queries"].numpy(), layer["keys"].numpy()
        assert q.shape == layer["values"].shape == (3, 4, 5, 8)
        expected = q @ k.transpose(0, 1, 3, 2) / np.sqrt(8) + adder(MASK)
        np.testing.assert_allclose(layer["attention_logits"], expected, rtol=RTOL, atol=1e-4)


# --- a student imitating a fixed random teacher ---------------------------------------------------------

WORDS = [f"w{i}" for i in range(24)]
STUDENT = {}  # the student's config: the teacher's with these changes


def toy_classifier_task(folder):
    from albert_tf.tasks.registry import create_task

    return create_task("classifier", task_name="generic", train_file=str(folder / "train.tsv"),
                       dev_file=str(folder / "dev.tsv"), label_list="0,1", vocab_file=str(folder / "vocab.txt"),
                       do_lower_case=False, max_seq_length=32)


def toy_task(folder, seed=0):
    """A classifier task on sentences of 24 words (every word seen in training), a WordPiece vocabulary of
    them, and the teacher: a 2-layer classifier with the initialiser's random weights and a head that splits
    the sentences in half, saved as a run's export. Returns (task, teacher, student config file)."""
    from albert_tf.checkpoints.original_checkpoint import save_checkpoint
    from albert_tf.models import AlbertClassifier

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    r = np.random.default_rng(seed)
    for name, count in (("train.tsv", 4096), ("dev.tsv", 256)):
        rows = ["sentence\tlabel"] + [" ".join(r.choice(WORDS, r.integers(3, 12))) + f"\t{r.integers(2)}"
                                      for _ in range(count)]
        (folder / name).write_text("\n".join(rows) + "\n")
    teacher_config = AlbertConfig(vocab_size=len(vocab), embedding_size=16, hidden_size=32, num_hidden_layers=2,
                                  num_attention_heads=4, intermediate_size=64, max_position_embeddings=32)
    keras.utils.set_random_seed(seed)  # one teacher, the same on every run of the test
    teacher = AlbertClassifier(teacher_config, num_classes=2)
    task = toy_classifier_task(folder)
    # the head's logit differences spread with std 4 over the training sentences, split at their median
    difference = np.diff(logits(teacher, task, "train"), axis=-1)[:, 0]
    head = teacher.classifier
    head.output_weights.assign(head.output_weights * (4.0 / difference.std()))
    difference = np.diff(logits(teacher, task, "train"), axis=-1)[:, 0]
    head.output_bias.assign(head.output_bias + np.array([0.0, -float(np.median(difference))]))
    save_checkpoint(teacher, str(folder / "teacher" / "model.ckpt-best"))
    student_config = folder / "student_config.json"
    AlbertConfig.from_dict(dict(teacher_config.to_dict(), **STUDENT)).to_json_file(str(student_config))
    return task, teacher, student_config


def toy_distillation(folder, output_dir, losses=None, **overrides):
    """(DistillationTask, TrainingConfig) of the toy task's distillation into `output_dir`: soft targets and
    TinyBERT's layer losses, or the `losses` (DistillationConfig fields) given."""
    from albert_tf.distillation.distillation_config import DistillationConfig
    from albert_tf.distillation.distillation_task import DistillationTask
    from albert_tf.training.training_config import TrainingConfig

    losses = losses or dict(soft_target_weight=1.0, temperature=2.0, hidden_weight=1.0, attention_score_weight=1.0,
                            embedding_weight=1.0)
    distillation = DistillationConfig(teacher_checkpoint=str(folder / "teacher" / "model.ckpt-best"), **losses)
    settings = dict(albert_config_file=str(folder / "student_config.json"), output_dir=str(output_dir),
                    do_train=True, do_eval=False, train_batch_size=32, learning_rate=3e-3, num_train_steps=1200,
                    num_warmup_steps=30, save_checkpoints_steps=400, log_steps=200, export_saved_model=False,
                    deterministic=True)
    settings.update(overrides)
    return DistillationTask(toy_classifier_task(folder), distillation), TrainingConfig.for_finetuning(**settings)


def logits(model, task, split):
    features = task.features(split)
    longest = max(len(ids) for ids in features["input_ids"])
    ids = np.array([ids + [0] * (longest - len(ids)) for ids in features["input_ids"]], np.int32)
    inputs = {"input_ids": ids, "input_mask": (ids > 0).astype(np.int32), "segment_ids": np.zeros_like(ids)}
    return model(inputs, training=False)["logits"].numpy()


def predictions(model, task, split):
    return logits(model, task, split).argmax(-1)


@pytest.mark.integration  # about 30 s on 2 cores
def test_a_student_learns_to_agree_with_a_random_teacher(tmp_path):
    from albert_tf.checkpoints.original_checkpoint import load_checkpoint
    from albert_tf.models import AlbertClassifier
    from albert_tf.training.training_loop import run_training

    task, teacher, student_config = toy_task(tmp_path)
    run_training(*toy_distillation(tmp_path, tmp_path / "run", export_saved_model=True))
    student = AlbertClassifier(AlbertConfig.from_json_file(str(student_config)), num_classes=2)
    expected = predictions(teacher, task, "dev")
    assert 0.3 < expected.mean() < 0.7  # the teacher's labels are not one class
    untrained = (predictions(student, task, "dev") == expected).mean()
    load_checkpoint(student, str(tmp_path / "run" / "export" / "model.ckpt-1200"))  # the student, exported
    agreement = (predictions(student, task, "dev") == expected).mean()
    assert agreement >= 0.99 and untrained < 0.75, (agreement, untrained)  # measured: 0.996 and 0.46
    # the run's SavedModel is the student (not the student with its teacher): its logits are the student's
    import tensorflow_text  # noqa: F401  (the text signatures' ops)

    exported = tf.saved_model.load(str(tmp_path / "run" / "saved_model"))
    features = task.features("dev")
    ids = np.array([row + [0] * (32 - len(row)) for row in features["input_ids"]], np.int32)
    inputs = {"input_ids": ids, "input_mask": (ids > 0).astype(np.int32), "segment_ids": np.zeros_like(ids)}
    served = exported.signatures["tokens"](**{k: tf.constant(v) for k, v in inputs.items()})["logits"].numpy()
    np.testing.assert_allclose(served, student(inputs, training=False)["logits"].numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.integration  # three short runs in subprocesses and here
def test_a_distillation_killed_mid_run_resumes_bit_identical(tmp_path, caplog):
    import os
    import re
    import sys

    import processes
    from albert_tf.training.training_loop import run_training
    from distillation_job import SETTINGS
    from test_kill_points import weights

    toy_task(tmp_path)
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distillation_job.py")

    def drive(output_dir, kill_after):
        return processes.run([sys.executable, driver, str(tmp_path), str(output_dir), str(kill_after)],
                             capture_output=True, text=True, timeout=300)

    straight = drive(tmp_path / "straight", 0)
    assert straight.returncode == 0, straight.stderr[-3000:]
    killed = drive(tmp_path / "killed", 2)  # after a checkpoint's state file, before the run's end
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert not (tmp_path / "killed" / "export").exists() or not list((tmp_path / "killed" / "export").iterdir())
    caplog.set_level("INFO", logger="absl")
    run_training(*toy_distillation(tmp_path, tmp_path / "killed", **SETTINGS))
    resumed = re.search(r"resumed from \S*ckpt-(\d+) at step (\d+)", caplog.text)
    assert resumed and resumed.group(1) == resumed.group(2) and int(resumed.group(1)) in (20, 40)  # not restarted
    for name in ("export/model.ckpt-60", "checkpoints/ckpt-60"):
        ours, theirs = weights(tmp_path / "killed" / name), weights(tmp_path / "straight" / name)
        assert sorted(ours) == sorted(theirs)
        for key in theirs:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{name}: {key}")


@pytest.mark.integration  # the command in a subprocess
def test_the_command_distils_and_exports_the_student(tmp_path):
    import json
    import os
    import sys

    import processes
    from conftest import REPO

    toy_task(tmp_path)
    command = [sys.executable, "-c", "from albert_tf.cli.distill import run; run()", "classifier",
               "--task_name=generic", f"--train_file={tmp_path / 'train.tsv'}", f"--dev_file={tmp_path / 'dev.tsv'}",
               "--label_list=0,1", f"--vocab_file={tmp_path / 'vocab.txt'}", "--nodo_lower_case",
               "--student_num_hidden_groups=2", f"--output_dir={tmp_path / 'run'}",  # the student: unshared
               "--do_train", "--do_eval", "--num_train_steps=20", "--num_warmup_steps=2", "--train_batch_size=16",
               "--save_checkpoints_steps=10", f"--teacher_checkpoint={tmp_path / 'teacher' / 'model.ckpt-best'}",
               "--hidden_weight=1", "--attention_kl_weight=1", "--value_relation_weight=1",
               "--student_init=teacher_layers", "--layer_map=1:1,2:2", "--teacher_dtype=bfloat16"]
    result = processes.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "teacher: classifier model from" in result.stderr and "(bfloat16;" in result.stderr
    assert "student initialised from the teacher" in result.stderr
    assert os.path.exists(tmp_path / "run" / "export" / "model.ckpt-best.index")
    info = json.loads((tmp_path / "run" / "saved_model" / "export_info.json").read_text())
    assert info["serving"]["kind"] == "classifier"
    # every weight of the student's export is the student's: its config (the teacher's, unshared), not the teacher's
    config = json.loads((tmp_path / "run" / "export" / "albert_config.json").read_text())
    teacher = json.loads((tmp_path / "teacher" / "albert_config.json").read_text())
    assert config == dict(teacher, num_hidden_groups=2) and teacher["num_hidden_groups"] == 1
    other = [a for a in command if not a.startswith("--student_num")] + ["--student_hidden_size=16"]
    other_shape = processes.run(other, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert other_shape.returncode == 1 and "has a student of another shape" in other_shape.stderr
    missing = processes.run(command[:4] + [f"--output_dir={tmp_path / 'other'}", "--teacher_checkpoint="],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert missing.returncode == 1 and "teacher_checkpoint is not set" in missing.stderr


@pytest.mark.integration  # pretraining data, two short runs
def test_general_then_task_distillation(tmp_path, caplog):
    """TinyBERT's two stages: a student of a pretrainer teacher on pretraining data (its layer losses and
    the masked tokens' soft targets fall), then that student's export initialises a task distillation."""
    import json
    import os

    from albert_tf.checkpoints.original_checkpoint import save_checkpoint
    from albert_tf.data.create_pretraining_data import create_pretraining_data
    from albert_tf.data.pretraining_instances import InstanceOptions
    from albert_tf.distillation.distillation_config import DistillationConfig
    from albert_tf.distillation.distillation_task import DistillationTask
    from albert_tf.models import AlbertPretrainer
    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training
    from conftest import REPO, TEST_DATA

    spm = os.path.join(TEST_DATA, "sentencepiece/albert_de_privately/30k-clean.model")
    records = str(tmp_path / "train.tfrecord")
    create_pretraining_data([os.path.join(REPO, "albert_tf/demo/corpus.txt")], [records], spm_model_file=spm,
                            options=InstanceOptions(max_seq_length=64, max_predictions_per_seq=10), dupe_factor=1,
                            log=lambda _: None)
    teacher_config = AlbertConfig(vocab_size=30000, embedding_size=16, hidden_size=32, num_hidden_layers=4,
                                  num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)
    keras.utils.set_random_seed(1)
    save_checkpoint(scrambled(AlbertPretrainer(teacher_config)), str(tmp_path / "teacher" / "model.ckpt-best"))
    AlbertConfig.from_dict(dict(teacher_config.to_dict(), hidden_size=16, num_hidden_layers=2,
                                intermediate_size=32)).to_json_file(str(tmp_path / "student.json"))
    general = DistillationConfig(teacher_checkpoint=str(tmp_path / "teacher" / "model.ckpt-best"),
                                 soft_target_weight=1.0, attention_kl_weight=1.0, value_relation_weight=1.0,
                                 layer_map="last")  # MiniLM's recipe, and the masked tokens' soft targets
    task = create_task("pretraining", input_file=records, max_seq_length=64, max_predictions_per_seq=10,
                       shuffle_buffer_size=50)
    run_training(DistillationTask(task, general), TrainingConfig.for_pretraining(
        albert_config_file=str(tmp_path / "student.json"), output_dir=str(tmp_path / "general"), do_train=True,
        train_batch_size=16, learning_rate=3e-3, num_train_steps=40, num_warmup_steps=4, log_steps=5,
        save_checkpoints_steps=40, export_saved_model=False))
    summaries = tf.compat.v1.train.summary_iterator
    logged = {}
    for name in os.listdir(tmp_path / "general" / "train"):
        for event in summaries(str(tmp_path / "general" / "train" / name)):
            for value in event.summary.value:
                logged.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
    for term in ("soft_target", "attention_kl", "value_relation"):
        assert logged[term][-1] < logged[term][0], (term, logged[term])
    # the second stage starts from the general student (its encoder: the heads differ)
    from albert_tf.models import AlbertClassifier
    from tiny_runs import tiny_classifier_job

    exported = str(tmp_path / "general" / "export" / "model.ckpt-40")
    assert json.loads((tmp_path / "general" / "export" / "albert_config.json").read_text())["hidden_size"] == 16
    save_checkpoint(scrambled(AlbertClassifier(teacher_config, num_classes=2)),
                    str(tmp_path / "task_teacher" / "model.ckpt-best"))
    task, training = tiny_classifier_job(TEST_DATA, tmp_path, output_dir=tmp_path / "task",
                                         albert_config_file=str(tmp_path / "student.json"),
                                         init_checkpoint=exported, num_train_steps=2)
    caplog.set_level("INFO", logger="absl")
    run_training(DistillationTask(task, DistillationConfig(
        teacher_checkpoint=str(tmp_path / "task_teacher" / "model.ckpt-best"), hidden_weight=1.0)), training)
    assert "initialised from the original checkpoint" in caplog.text and "cls/predictions" in caplog.text
    assert os.path.exists(tmp_path / "task" / "export" / "model.ckpt-2.index")


def test_a_student_starts_from_the_teachers_groups_where_sizes_match():
    from albert_tf.distillation.student_init import copy_teacher_layers
    from albert_tf.models import AlbertClassifier

    teacher_config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=4,
                                  num_hidden_groups=2, num_attention_heads=4, intermediate_size=64,
                                  max_position_embeddings=40)
    teacher = scrambled(AlbertClassifier(teacher_config, num_classes=3))
    student = AlbertClassifier(AlbertConfig.from_dict(dict(teacher_config.to_dict(), num_hidden_layers=2)), 3)
    # uniform: student layer 1 <- teacher layer 2 (group 0), student layer 2 <- teacher layer 4 (group 1)
    assert copy_teacher_layers(student, teacher, uniform_layer_map(4, 2)) == {0: 0, 1: 1}
    s_groups, t_groups = student.encoder.groups, teacher.encoder.groups
    for g in (0, 1):
        for ours, theirs in zip(s_groups[g][0].weights, t_groups[g][0].weights):
            np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(student.encoder.embedding.word_embeddings, teacher.encoder.embedding.word_embeddings)
    np.testing.assert_array_equal(student.classifier.output_weights, teacher.classifier.output_weights)
    # "2:1" pairs the student's group 1 with the teacher's group 0 (layer 1), and group 0 with layer 4's
    assert copy_teacher_layers(student, teacher, parse_layer_map("1:4,2:1", 4, 2)) == {0: 1, 1: 0}
    for ours, theirs in zip(s_groups[1][0].weights, t_groups[0][0].weights):
        np.testing.assert_array_equal(ours, theirs)
    narrow = AlbertClassifier(AlbertConfig.from_dict(dict(teacher_config.to_dict(), hidden_size=16,
                                                          intermediate_size=32)), 3)
    with pytest.raises(ConfigError, match="hidden_size 16 \\(teacher 32\\), intermediate_size 32 \\(teacher 64\\)"):
        copy_teacher_layers(narrow, teacher, uniform_layer_map(4, 4))


def test_bad_distillation_settings_and_teachers_are_one_line_naming_the_setting(tmp_path):
    from albert_tf.checkpoints.original_checkpoint import save_checkpoint
    from albert_tf.distillation.distillation_config import DistillationConfig
    from albert_tf.distillation.teacher import load_teacher
    from albert_tf.models import AlbertClassifier

    with pytest.raises(ConfigError) as error:
        DistillationConfig(soft_target_weight=0.0, temperature=0.0, hidden_weight=-1.0).validate()
    message = str(error.value)
    for part in ("teacher_checkpoint is not set", "hidden_weight=-1.0: weights are >= 0", "temperature=0.0"):
        assert part in message, message
    with pytest.raises(ConfigError, match="every loss weight is 0"):
        DistillationConfig(teacher_checkpoint="x", soft_target_weight=0.0).validate()
    with pytest.raises(ConfigError, match="teacher_checkpoint='.*nowhere': No checkpoint at"):
        load_teacher(str(tmp_path / "nowhere"), "classifier")
    config = AlbertConfig(vocab_size=300, embedding_size=8, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    save_checkpoint(AlbertClassifier(config, num_classes=2), str(tmp_path / "run" / "model.ckpt-best"))
    with pytest.raises(ConfigError, match="does not hold a whole squad model"):
        load_teacher(str(tmp_path / "run" / "model.ckpt-best"), "squad")
    (tmp_path / "run" / "albert_config.json").unlink()
    with pytest.raises(ConfigError, match="no albert_config.json beside"):
        load_teacher(str(tmp_path / "run" / "model.ckpt-best"), "classifier")


@pytest.mark.parametrize("kind,options", [
    ("classifier", {"num_classes": 3}), ("classifier", {"num_classes": 1}), ("squad", {}),
    ("squad", {"version_2_with_negative": True}), ("race", {}),
    ("token_classifier", {"num_classes": 5}), ("pretrainer", {})])
def test_every_term_is_zero_for_a_student_equal_to_its_teacher(kind, options):
    """A student with the teacher's weights (and no dropout) matches it exactly: every term of every kind is 0;
    perturbed, each is positive and its gradient reaches the student."""
    from albert_tf.distillation.distillation_config import DistillationConfig
    from albert_tf.distillation.distillation_model import DistillationModel
    from albert_tf.distillation.student_init import copy_teacher_layers
    from albert_tf.models.model_kinds import kind_named

    config = AlbertConfig(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=4, intermediate_size=64, max_position_embeddings=40,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    row = kind_named(kind)
    if "dropout_rate" in row.options:
        options = dict(options, dropout_rate=0.0)
    teacher = scrambled(row.build(config, **options))
    student = row.build(config, **options)
    copy_teacher_layers(student, teacher, uniform_layer_map(2, 2))
    losses_on = dict(soft_target_weight=1.0, hidden_weight=1.0, embedding_weight=1.0, attention_score_weight=1.0,
                     attention_kl_weight=1.0, value_relation_weight=1.0, query_key_relation_weight=1.0,
                     relation_heads=2, temperature=2.0)
    model = DistillationModel(student, teacher, DistillationConfig(teacher_checkpoint="-", **losses_on))
    ids = np.random.default_rng(5).integers(5, 300, (3, 5)).astype(np.int32) * MASK
    inputs = {"input_ids": ids, "input_mask": MASK, "segment_ids": np.zeros_like(ids)}
    if kind == "race":  # [batch, choices, length]
        inputs = {name: np.stack([value, value[::-1]], 1) for name, value in inputs.items()}
    if kind == "pretrainer":
        inputs["masked_lm_positions"] = np.array([[1, 2, 0], [1, 0, 0], [1, 0, 0]], np.int32)
    if options.get("version_2_with_negative"):  # the question is position 1; answers start at 0 ([CLS]) or 2
        inputs["p_mask"] = np.array([[0, 1, 0, 0, 1], [0, 1, 0, 1, 1], [0, 1, 1, 1, 1]], np.int32)
        inputs["start_positions"] = np.array([2, 0, 0], np.int32)
    terms = model(inputs, training=True)["distillation_losses"]
    expected = {"soft_target", "embedding", "hidden", "attention_score", "attention_kl", "value_relation",
                "query_key_relation"}
    assert set(terms) == expected
    for name, value in terms.items():  # float32 sums of identical values: 0 up to rounding
        assert abs(float(value)) < 1e-5, (kind, name, float(value))
    for variable in student.trainable_variables:  # another student: every term is positive, with a gradient
        variable.assign(variable + np.random.default_rng(6).normal(0, 0.05, variable.shape))
    with tf.GradientTape() as tape:
        terms = model(inputs, training=True)["distillation_losses"]
        total = tf.add_n(list(terms.values()))
    assert all(float(value) > 0 for value in terms.values()), {k: float(v) for k, v in terms.items()}
    gradients = tape.gradient(total, student.trainable_variables)
    assert sum(g is not None for g in gradients) >= len(gradients) - 4  # a head's unused parts may get none


def test_teacher_labelled_examples_count_in_the_terms_not_in_the_hard_loss():
    from albert_tf.distillation.distillation_objective import DistillationObjective
    from albert_tf.tasks.finetuning_objectives import ClassificationObjective

    objective = DistillationObjective(ClassificationObjective(), hard_label_weight=1.0)
    logits = tf.constant([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0], [-5.0, 5.0]])
    batch = {"input_ids": tf.ones([4, 3], tf.int32), "label_ids": tf.constant([0, 0, 1, 0]),
             "labelled": tf.constant([1, 1, 0, 0])}
    outputs = {"logits": logits, "distillation_losses": {"soft_target": tf.constant(0.25)}}
    sums = objective.sums(outputs, batch)
    normalizers = objective.normalizers(batch)
    expected_hard = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(1.0))  # the two labelled rows only
    assert float(sums["loss_sum"]) == pytest.approx(expected_hard, rel=1e-6)
    assert [float(n) for n in normalizers] == [2.0, 4.0]
    assert float(objective.loss(sums, normalizers)) == pytest.approx(expected_hard / 2 + 0.25, rel=1e-6)
    # a batch of teacher-labelled examples only: the hard loss is 0, not NaN
    only = {**batch, "labelled": tf.zeros([4], tf.int32)}
    sums, normalizers = objective.sums(outputs, only), objective.normalizers(only)
    assert float(objective.loss(sums, normalizers)) == pytest.approx(0.25, rel=1e-6)


@pytest.mark.integration  # a short run
def test_an_augment_file_adds_teacher_labelled_examples(tmp_path, caplog):
    from albert_tf.training.training_loop import run_training

    toy_task(tmp_path)
    lines = (tmp_path / "train.tsv").read_text().splitlines()
    (tmp_path / "train.tsv").write_text("\n".join(lines[:65]) + "\n")  # 64 labelled sentences
    (tmp_path / "extra.txt").write_text("\n".join(line.split("\t")[0] for line in lines[65:265]) + "\n\n")
    task, training = toy_distillation(tmp_path, tmp_path / "run", losses=dict(
        soft_target_weight=1.0, hard_label_weight=1.0, augment_file=str(tmp_path / "extra.txt")),
        num_train_steps=10, save_checkpoints_steps=10, log_steps=5)
    caplog.set_level("INFO", logger="absl")
    run_training(task, training)
    assert "64 training examples and 200 unlabelled ones from" in caplog.text
    assert os.path.exists(tmp_path / "run" / "export" / "model.ckpt-10.index")
