"""Initial weights for a model: one of our checkpoints (object-based) or the original layout, by name."""

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints.original_checkpoint import load_checkpoint


def load_initial_weights(model, path, init_from_group0=False, strict=True):
    """Weights only, from one of our checkpoints (object-based) or the original layout.

    `path` is a directory (its latest checkpoint) or a checkpoint prefix. Our
    own checkpoints must hold a model with the same structure. An original
    checkpoint is read by name; with `strict=False` (fine-tuning from a
    pretrained model) only the encoder must be complete: matching heads are
    loaded too and the rest (say, the pretraining heads) reported as unused.
    """
    ours = tf.train.latest_checkpoint(path) if tf.io.gfile.isdir(path) else path
    if ours and tf.io.gfile.exists(ours + ".index"):
        keys = {name for name, _ in tf.train.list_variables(ours)}
        if "_CHECKPOINTABLE_OBJECT_GRAPH" in keys:
            try:
                tf.train.Checkpoint(model=model).read(ours).expect_partial().assert_existing_objects_matched()
                logging.info("initialised from our checkpoint %s (the whole model)", ours)
                return
            except AssertionError:
                if strict:
                    raise
            # The encoder alone (a pretraining checkpoint initialising a
            # classifier); every model of this package tracks it as `encoder`.
            tf.train.Checkpoint(model=tf.train.Checkpoint(encoder=model.encoder)).read(ours).expect_partial() \
                .assert_existing_objects_matched()
            logging.info("initialised from our checkpoint %s (the encoder only: its heads differ)", ours)
            return
    report = load_checkpoint(model, path, strict=strict, init_from_group0=init_from_group0)
    logging.info("initialised from the original checkpoint: %s", report.summary())
