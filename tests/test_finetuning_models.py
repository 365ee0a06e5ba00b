"""Fine-tuning models, length-aware batching and prediction order."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertConfig, load_checkpoint, save_checkpoint
from albert_tf.data.finetuning_dataset import finetuning_dataset
from albert_tf.models import AlbertClassifier, AlbertMultipleChoice, AlbertQuestionAnswerer
from albert_tf.optimization import create_optimizer
from albert_tf.tasks.finetuning_objectives import ClassificationObjective
from albert_tf.training.trainer import Trainer


def tiny_config():
    return AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def batch(lengths, pad_to, rng):
    ids = np.zeros((len(lengths), pad_to), np.int32)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(5, 50, n)
        ids[row, 0] = 2
    mask = (ids > 0).astype(np.int32)
    segments = np.zeros_like(ids)
    segments[:, 4:] = mask[:, 4:]
    p_mask = 1 - mask
    p_mask[:, 1:4] = 1
    return {"input_ids": ids, "input_mask": mask, "segment_ids": segments, "p_mask": p_mask}


@pytest.mark.parametrize("model_kind", ["classifier", "squad_v1", "squad_v2"])
def test_outputs_do_not_depend_on_padding(model_kind):
    """Length-aware batching is exact: padding a batch further changes nothing (float32, 1e-5)."""
    rng = np.random.default_rng(0)
    tight = batch([12, 9, 7], 12, np.random.default_rng(1))
    padded = {k: np.pad(v, [(0, 0), (0, 20)], constant_values=1 if k == "p_mask" else 0) for k, v in tight.items()}
    model = {"classifier": lambda c: AlbertClassifier(c, 3),
             "squad_v1": lambda c: AlbertQuestionAnswerer(c),
             "squad_v2": lambda c: AlbertQuestionAnswerer(c, version_2_with_negative=True)}[model_kind](tiny_config())
    del rng
    a, b = model(tight), model(padded)
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.ndim == 2 and x.shape[1] == 12:  # per-position logits: compare the real positions
            y = y[:, :12]
            x, y = np.where(tight["input_mask"] > 0, x, 0), np.where(tight["input_mask"] > 0, y, 0)
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("model", [
    lambda c: AlbertClassifier(c, 3), lambda c: AlbertMultipleChoice(c, 4),
    lambda c: AlbertQuestionAnswerer(c), lambda c: AlbertQuestionAnswerer(c, version_2_with_negative=True)])
def test_heads_round_trip_through_the_original_layout(tmp_path, model):
    first, second = model(tiny_config()), model(tiny_config())
    save_checkpoint(first, str(tmp_path / "model.ckpt-1"))
    names = {name for name, _ in tf.train.list_variables(str(tmp_path / "model.ckpt-1"))}
    assert names & {"output_weights", "cls/squad/output_weights", "start_logits/dense/kernel"}
    load_checkpoint(second, str(tmp_path / "model.ckpt-1"))
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert type(first).from_config(first.get_config()).count_params() == first.count_params()


def test_length_aware_batches():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, 200)
    features = {"input_ids": [list(rng.integers(5, 50, n)) for n in lengths],
                "segment_ids": [[0] * n for n in lengths], "p_mask": [[0] * n for n in lengths],
                "label_ids": list(rng.integers(0, 2, 200)), "example_index": list(range(200))}
    evaluation = list(finetuning_dataset(features, 32, False, max_seq_length=64))
    assert [b["input_ids"].shape[1] for b in evaluation] == [max(lengths[i:i + 32]) for i in range(0, 200, 32)]
    first = evaluation[0]
    assert np.all(first["p_mask"].numpy()[first["input_mask"].numpy() == 0] == 1)
    assert np.array_equal(first["input_mask"].numpy().sum(1), lengths[:32])
    fixed = next(iter(finetuning_dataset(features, 32, False, max_seq_length=64, length_aware=False)))
    assert fixed["input_ids"].shape == (32, 64)
    training = finetuning_dataset(features, 8, True, max_seq_length=64, bucket_width=16)
    for b in training.take(20):
        real = b["input_mask"].numpy().sum(1)
        assert b["input_ids"].shape == (8, real.max())
        assert (real.max() - 1) // 16 == (real.min() - 1) // 16  # one 16-token bucket per batch


def test_multiple_choice_batches_and_prediction_order():
    config = tiny_config()
    rng = np.random.default_rng(0)
    features = {"input_ids": [], "input_mask": [], "segment_ids": [], "label_ids": [], "example_index": []}
    for index in range(10):
        length = int(rng.integers(5, 20))
        ids = rng.integers(5, 50, 4 * length).tolist()
        features["input_ids"].append(ids)
        features["input_mask"].append([1] * len(ids))
        features["segment_ids"].append([0] * len(ids))
        features["label_ids"].append(index % 4)
        features["example_index"].append(index)
    strategy = tf.distribute.get_strategy()
    model = AlbertMultipleChoice(config, 4)
    optimizer = create_optimizer("adamw", learning_rate=1e-3, num_train_steps=10, num_warmup_steps=0,
                                 gate_updates=True, aggregate_gradients=False)
    trainer = Trainer(model, ClassificationObjective(), optimizer, strategy)
    dataset = finetuning_dataset(features, 3, False, max_seq_length=32, num_choices=4)
    assert next(iter(dataset))["input_ids"].shape[:2] == (3, 4)
    predictions = trainer.predict(dataset)
    assert np.array_equal(predictions["example_index"], np.arange(10))
    for index in (0, 7):
        ids = np.asarray(features["input_ids"][index], np.int32).reshape(1, 4, -1)
        direct = model({"input_ids": ids, "input_mask": np.ones_like(ids), "segment_ids": np.zeros_like(ids)})
        np.testing.assert_allclose(predictions["logits"][index], direct["logits"][0], rtol=1e-5, atol=1e-6)
    train = finetuning_dataset(features, 2, True, max_seq_length=32, num_choices=4)
    sums, finite = trainer.train_step(iter(train))
    assert bool(finite) and float(sums["examples"]) == 2.0


def test_relaxed_load_takes_matching_heads_and_reports_the_rest(tmp_path):
    source = AlbertClassifier(tiny_config(), 3)
    save_checkpoint(source, str(tmp_path / "model.ckpt-1"))
    same_task = AlbertClassifier(tiny_config(), 3)
    report = load_checkpoint(same_task, str(tmp_path / "model.ckpt-1"), strict=False)
    assert report.not_loaded == [] and report.unused == []
    np.testing.assert_array_equal(same_task.classifier.output_weights.numpy(),
                                  source.classifier.output_weights.numpy())
    other_task = AlbertClassifier(tiny_config(), 2)
    before = other_task.classifier.output_weights.numpy()
    report = load_checkpoint(other_task, str(tmp_path / "model.ckpt-1"), strict=False)
    assert report.not_loaded == ["output_bias", "output_weights"]
    assert report.unused == ["output_bias", "output_weights"]
    np.testing.assert_array_equal(other_task.classifier.output_weights.numpy(), before)
    np.testing.assert_array_equal(other_task.encoder.get_weights()[0], source.encoder.get_weights()[0])


def test_our_pretraining_checkpoint_initialises_a_classifier_encoder(tmp_path):
    from albert_tf import AlbertPretrainer
    from albert_tf.checkpoints.initial_weights import load_initial_weights

    pretrainer = AlbertPretrainer(tiny_config())
    tf.train.Checkpoint(model=pretrainer).write(str(tmp_path / "ckpt-1"))
    classifier = AlbertClassifier(tiny_config(), 2)
    with pytest.raises(AssertionError):
        load_initial_weights(classifier, str(tmp_path / "ckpt-1"), strict=True)
    load_initial_weights(classifier, str(tmp_path / "ckpt-1"), strict=False)
    for a, b in zip(pretrainer.encoder.get_weights(), classifier.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    same = AlbertClassifier(tiny_config(), 2)
    tf.train.Checkpoint(model=classifier).write(str(tmp_path / "ckpt-2"))
    load_initial_weights(same, str(tmp_path / "ckpt-2"), strict=False)  # the whole model, head included
    np.testing.assert_array_equal(same.classifier.output_weights.numpy(), classifier.classifier.output_weights.numpy())
