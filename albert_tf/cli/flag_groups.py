"""The commands' flags, generated from the config dataclasses; flags map onto config fields of the same name.

Each command module calls `define_flags` on the configs it builds (a config
instance gives the defaults where jobs differ, such as pretraining's batch
of 4096 against fine-tuning's 32; the fields give types, help and choices:
`albert_tf.config_fields.setting`), then builds its config objects with
`config_from_flags`. Nothing here imports TensorFlow, so `--helpfull`
answers at once.
"""

import dataclasses
import typing

from absl import flags, logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.cli import console
from albert_tf.distillation.distillation_config import DistillationConfig
from albert_tf.errors import ConfigError
from albert_tf.training.training_config import TrainingConfig

FLAGS = flags.FLAGS


def define_flags(config, skip=(), helps=None):
    """One flag per field of the config dataclass instance `config`, except `skip`: the field's name and type,
    the instance's value as the default, the field's help (or `helps[name]`, where a command says more) and its
    choices (an enum flag). Tuples become comma-separated lists."""
    helps = helps or {}
    for field in dataclasses.fields(config):
        if field.name in skip:
            continue
        name, default = field.name, getattr(config, field.name)
        help_text = helps.get(name) or field.metadata.get("help")
        if not help_text:
            raise TypeError(f"{type(config).__name__}.{name} has no help: declare it with config_fields.setting")
        kind = _value_type(field.type)
        if "choices" in field.metadata:
            flags.DEFINE_enum(name, default, list(field.metadata["choices"]), help_text)
        elif kind is bool:
            flags.DEFINE_bool(name, default, help_text)
        elif kind is int:
            flags.DEFINE_integer(name, default, help_text)
        elif kind is float:
            flags.DEFINE_float(name, default, help_text)
        elif kind is tuple and field.metadata.get("multi"):
            flags.DEFINE_multi_string(name, list(default or ()), help_text)
        elif kind is tuple:
            flags.DEFINE_list(name, None if default is None else list(default), help_text)
        else:
            flags.DEFINE_string(name, default, help_text)


def _value_type(annotation):
    """int for `int` and `Optional[int]`, tuple for `Tuple[str, ...]`, and so on."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(arguments) == 1:
        annotation = arguments[0]
    return typing.get_origin(annotation) or annotation


def finetuning_command(task_name, task_defaults, module):
    """A fine-tuning command: defines its flags (`define_finetuning_flags`) and returns (configs_from_flags, main,
    run) for the command's `module` (its name), `run` being the console script."""
    define_finetuning_flags(task_defaults)

    def configs_from_flags():
        """(task config, training config, distillation config or None) from the parsed flags, validated."""
        distillation = distillation_config()
        return (*finetuning_configs(task_defaults, distillation), distillation)

    configs_from_flags.__module__ = module
    return (configs_from_flags, *console.job_command(task_name, configs_from_flags))


def finetuning_configs(task_defaults, distillation=None):
    """(task config, training config) of a fine-tuning command from the parsed flags, validated (the model a
    student of `distillation`'s teacher where given)."""
    training = with_student_config(config_from_flags(TrainingConfig.for_finetuning()), distillation)
    task = fit_to_model(config_from_flags(task_defaults), training.albert_config_file).validate()
    return task, training.validate()


def with_student_config(training, distillation):
    """`training` with the student's config file when the distillation flags give its shape (a preset or
    --student_* sizes) or no --albert_config_file is given (the student then has the teacher's shape): the file
    is written into the output folder (`teacher.write_student_config`)."""
    if distillation is None or not (distillation.shapes_student() or not training.albert_config_file):
        return training
    if training.albert_config_file:
        raise ConfigError(f"albert_config_file={training.albert_config_file!r} and the student_* flags both give "
                          "the student's shape: give one of them")
    if not training.output_dir:
        return training  # validate() names the missing output_dir
    from albert_tf.distillation.teacher import write_student_config

    path = write_student_config(distillation, training.output_dir, training.overwrite_output_dir)
    logging.info("the student's config: %s (the teacher's with the student's shape)", path)
    return dataclasses.replace(training, albert_config_file=path)


def distillation_config():
    """The run's `DistillationConfig` when --teacher_checkpoint is given (the model trained is then a student
    of that teacher), else None."""
    if not FLAGS.teacher_checkpoint:
        return None
    return config_from_flags(DistillationConfig()).validate()


def fit_to_model(config, albert_config_file):
    """`config` with the defaults the user left that contradict the model lowered, one log line each:
    max_seq_length to the model's max_position_embeddings, then the question (SQuAD) or question+option
    (RACE) budget to half of max_seq_length, so that the paragraph or article keeps room.

    A value the user gave is kept: the loop or the exporter refuses it with the limit. A config file that
    cannot be read is reported there too.
    """
    config = _fit_max_seq_length(config, albert_config_file)
    for name in ("max_query_length", "max_qa_length"):
        value = getattr(config, name, None)
        if value is None or FLAGS[name].present or value <= config.max_seq_length // 2:
            continue
        logging.info("%s=%d: half of max_seq_length=%d (--%s not given; its default %d leaves the text too little "
                     "room)", name, config.max_seq_length // 2, config.max_seq_length, name, value)
        config = dataclasses.replace(config, **{name: config.max_seq_length // 2})
    return config


def _fit_max_seq_length(config, albert_config_file):
    if FLAGS["max_seq_length"].present or not albert_config_file:
        return config
    try:
        positions = AlbertConfig.from_json_file(albert_config_file).max_position_embeddings
    except (OSError, ValueError):
        return config
    if config.max_seq_length <= positions:
        return config
    logging.info("max_seq_length=%d: the max_position_embeddings of %s (--max_seq_length not given; its "
                 "default %d is longer than the model takes)", positions, albert_config_file, config.max_seq_length)
    return dataclasses.replace(config, max_seq_length=positions)


def config_from_flags(defaults, **overrides):
    """A copy of the config dataclass `defaults` whose fields take the values of the flags of the same names."""
    values = {}
    for field in dataclasses.fields(defaults):
        if field.name in FLAGS:
            value = FLAGS[field.name].value
            values[field.name] = tuple(value) if isinstance(value, list) else value
    values.update(overrides)
    return dataclasses.replace(defaults, **values)


def define_finetuning_flags(task_defaults):
    """What run_classifier.py, run_squad.py, run_race.py and run_ner.py define: the loop's settings, every
    field of the task's config (model, vocabulary, data, head) and the distillation settings (used when
    --teacher_checkpoint is given)."""
    define_flags(TrainingConfig.for_finetuning(), skip=("max_eval_steps", "eval_during_training"))
    define_flags(task_defaults)
    define_flags(DistillationConfig())
