"""Pieces of the training loop: strategies, worker roles, TF_CONFIG, summaries."""

import json
import os

import tensorflow as tf

from albert_tf.errors import ConfigError

from albert_tf.training.training_config import STRATEGIES


def create_strategy(name, tpu=None):
    """A tf.distribute strategy by name (one of `STRATEGIES`)."""
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        check_tf_config(os.environ.get("TF_CONFIG"))
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name != "tpu":
        raise ValueError(f"distribution strategy {name!r}: expected one of {STRATEGIES}")
    if not tpu:
        raise ValueError("the tpu strategy needs a TPU name or address (--tpu)")
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def check_tf_config(value):
    """The TF_CONFIG environment variable of a multi-worker run, checked for what the strategy reads.

    Raises:
        ConfigError: naming TF_CONFIG, what was found and the expected form.
    """
    expected = ('expected JSON such as {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": '
                '"worker", "index": 0}}')
    if not value:
        raise ConfigError(f"distribution_strategy=multi_worker_mirrored: the TF_CONFIG environment variable is not "
                          f"set; {expected} (the same cluster on every worker, each with its own task)")
    try:
        config = json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigError(f"TF_CONFIG (environment variable) is not valid JSON ({error.msg} at character "
                          f"{error.pos}): {value[:80]!r}; {expected}") from None
    problems = []
    cluster, task = (config.get("cluster"), config.get("task")) if isinstance(config, dict) else (None, None)
    if not isinstance(cluster, dict) or not cluster or not all(
            isinstance(hosts, list) and hosts for hosts in cluster.values()):
        problems.append("no \"cluster\" of job names mapping to lists of host:port addresses")
    if not isinstance(task, dict) or not isinstance(task.get("type"), str) or not isinstance(task.get("index"), int):
        problems.append("no \"task\" with a \"type\" (string) and an \"index\" (integer)")
    elif isinstance(cluster, dict) and not 0 <= task["index"] < len(cluster.get(task["type"]) or []):
        problems.append(f"task {task['type']} {task['index']} is not in the cluster "
                        f"({len(cluster.get(task['type']) or [])} {task['type']} address(es))")
    if problems:
        raise ConfigError(f"TF_CONFIG (environment variable) {value[:120]!r}: " + "; ".join(problems) + f"; {expected}")


def worker_role(strategy):
    """(is_chief, task id): the chief writes the real outputs; other workers keep private copies."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    task_type, task_id = resolver.task_type, resolver.task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return (task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)), task_id


def write_summaries(writer, step, values):
    """Scalars to a TensorBoard writer (None: nothing, as on non-chief workers)."""
    if writer is None:
        return
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.scalar(name, value)
    writer.flush()
