"""Pieces of the training loop: strategies, worker roles, initial weights, summaries."""

import tensorflow as tf
from absl import logging

from albert_tf.checkpoints.original_checkpoint import load_checkpoint
from albert_tf.training.training_config import STRATEGIES


def create_strategy(name, tpu=None):
    """A tf.distribute strategy by name (one of `STRATEGIES`)."""
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name != "tpu":
        raise ValueError(f"distribution strategy {name!r}: expected one of {STRATEGIES}")
    if not tpu:
        raise ValueError("the tpu strategy needs a TPU name or address (--tpu)")
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def worker_role(strategy):
    """(is_chief, task id): the chief writes the real outputs; other workers keep private copies."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    task_type, task_id = resolver.task_type, resolver.task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return (task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)), task_id


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


def write_summaries(writer, step, values):
    """Scalars to a TensorBoard writer (None: nothing, as on non-chief workers)."""
    if writer is None:
        return
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(name, value)
    writer.flush()
