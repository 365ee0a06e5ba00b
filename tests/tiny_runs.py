"""Tiny fine-tuning jobs (1-layer ALBERT) for tests of the training loop in-process."""

import os

from albert_tf import AlbertConfig
from albert_tf.tasks.registry import create_task
from albert_tf.training.training_config import TrainingConfig

GERMAN_SPM = "sentencepiece/albert_de_privately/30k-clean.model"


def _write_files(test_data, tmp_path, source, rows):
    """albert_config.json and train/dev.tsv (header + `rows` (train, dev) lines of `source`) in tmp_path, once."""
    config_file = tmp_path / "albert_config.json"
    if not config_file.exists():
        AlbertConfig(vocab_size=30000, embedding_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64).to_json_file(str(config_file))
        with open(os.path.join(test_data, "glue", source, "train.tsv" if source == "STS-B" else "dev.tsv"),
                  encoding="utf-8") as f:
            lines = f.read().splitlines()
        train, dev = rows
        for name, part in (("train.tsv", lines[:train + 1]), ("dev.tsv", lines[:1] + lines[train + 1:train + dev + 1])):
            (tmp_path / name).write_text("\n".join(part) + "\n", encoding="utf-8")
    return config_file


def _job(task, config_file, tmp_path, output_dir, overrides):
    settings = dict(albert_config_file=str(config_file), output_dir=str(output_dir or tmp_path / "run"),
                    do_train=True, train_batch_size=8, learning_rate=1e-3, num_train_steps=4, num_warmup_steps=1,
                    save_checkpoints_steps=2, log_steps=2, export_saved_model=False)
    settings.update(overrides)
    return task, TrainingConfig.for_finetuning(**settings)


def tiny_classifier_job(test_data, tmp_path, output_dir=None, **overrides):
    """(task, TrainingConfig) of a 4-step classifier run (97 SST-2 sentences) into tmp_path/run."""
    config_file = _write_files(test_data, tmp_path, "SST-2", (96, 64))
    task = create_task("classifier", task_name="generic", train_file=str(tmp_path / "train.tsv"),
                       dev_file=str(tmp_path / "dev.tsv"), test_file=str(tmp_path / "dev.tsv"), label_list="0,1",
                       spm_model_file=os.path.join(test_data, GERMAN_SPM), max_seq_length=64)
    return _job(task, config_file, tmp_path, output_dir, overrides)


def tiny_regression_job(test_data, tmp_path, output_dir=None, **overrides):
    """(task, TrainingConfig) of a 4-step STS-B-style regression run (96 pairs; Pearson moves at every update)."""
    config_file = _write_files(test_data, tmp_path, "STS-B", (96, 64))
    task = create_task("classifier", task_name="generic", train_file=str(tmp_path / "train.tsv"),
                       dev_file=str(tmp_path / "dev.tsv"), text_a_column="7", text_b_column="8", label_column="9",
                       spm_model_file=os.path.join(test_data, GERMAN_SPM), max_seq_length=64)
    return _job(task, config_file, tmp_path, output_dir, overrides)
