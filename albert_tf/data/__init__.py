"""Pretraining data.

- `create_pretraining_data`: text -> TFRecords (no TensorFlow import); `data_creation_config`
  holds its settings (`DataCreationConfig`).
- `pretraining_instances`: SOP/NSP instances and n-gram whole-word masking.
- `tfrecord_writer`: tf.train.Example / TFRecord encoding with NumPy.
- `pretraining_dataset`: the tf.data pipeline, with optional dynamic masking.
- `finetuning_dataset`: length-aware batches of in-memory fine-tuning features.
- `corpus_preparation`: a plain-text corpus -> SentencePiece model + train/eval TFRecords (the demo).

Import the modules directly; this package imports nothing itself, so the
TensorFlow-free modules stay light.
"""
