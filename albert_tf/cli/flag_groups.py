"""Flag groups several commands share, defined once; flags map onto config fields of the same name.

Each command module calls the `define_*` functions it needs (with its own
defaults where jobs differ, such as pretraining's batch of 4096 against
fine-tuning's 32), then builds its config objects with `config_from_flags`.
Nothing here imports TensorFlow, so `--helpfull` answers at once.
"""

import dataclasses

from absl import flags, logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.optimization.optimizer_names import OPTIMIZERS
from albert_tf.training.training_config import MIXED_PRECISION, STRATEGIES, STRATEGY_HELP, TrainingConfig

FLAGS = flags.FLAGS


def define_config_flag(help_text="albert_config.json of the model."):
    flags.DEFINE_string("albert_config_file", None, help_text)


def define_model_flags(init_help):
    define_config_flag()
    flags.DEFINE_string("init_checkpoint", None, init_help)
    flags.DEFINE_bool("init_from_group0", False, "With an original --init_checkpoint: every layer group "
                      "starts from group_0.")


def define_vocabulary_flags(spm_help="SentencePiece model (English ALBERT).", lower_case=True):
    flags.DEFINE_string("spm_model_file", None, spm_help)
    flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (Chinese ALBERT); used without --spm_model_file.")
    if lower_case:
        flags.DEFINE_bool("do_lower_case", True, "Lower-case the text (as the model was pretrained).")


def define_training_flags(defaults):
    """What to do, batches, optimizer and schedule; `defaults` is a `TrainingConfig`."""
    flags.DEFINE_bool("do_train", defaults.do_train, "Train.")
    flags.DEFINE_bool("do_eval", defaults.do_eval, "Evaluate (with --do_train: at every checkpoint for "
                      "fine-tuning, keeping the best weights).")
    flags.DEFINE_integer("train_batch_size", defaults.train_batch_size, "Global batch size per optimizer step.")
    flags.DEFINE_integer("eval_batch_size", defaults.eval_batch_size, "Global evaluation and prediction batch size.")
    flags.DEFINE_integer("gradient_accumulation_steps", defaults.gradient_accumulation_steps,
                         "Micro-batches per optimizer step (train_batch_size must divide evenly).")
    flags.DEFINE_enum("optimizer", defaults.optimizer, OPTIMIZERS, "LAMB (ALBERT pretraining) or AdamW "
                      "(BERT's; the original fine-tuning).")
    flags.DEFINE_float("learning_rate", defaults.learning_rate, "Peak learning rate.")
    flags.DEFINE_integer("num_train_steps", defaults.num_train_steps, "Optimizer steps.")
    flags.DEFINE_integer("num_warmup_steps", defaults.num_warmup_steps, "Linear warmup steps.")
    flags.DEFINE_float("poly_power", defaults.poly_power, "Power of the polynomial decay (1.0: linear).")
    flags.DEFINE_float("weight_decay_rate", defaults.weight_decay_rate, "Weight decay (not on LayerNorm and biases).")
    flags.DEFINE_float("adam_epsilon", defaults.adam_epsilon, "Epsilon of LAMB/AdamW.")
    flags.DEFINE_bool("bias_correction", defaults.bias_correction, "Adam bias correction (off in the original).")
    flags.DEFINE_float("clip_norm", defaults.clip_norm, "Global-norm gradient clipping.")
    flags.DEFINE_float("divergence_factor", defaults.divergence_factor,
                       "Warn (naming the step) when a step's training loss exceeds this multiple of its running "
                       "mean, the first sign of a run diverging; 0 turns the warning off.")
    flags.DEFINE_integer("seed", defaults.seed, "Seed of initialisation, dropout, shuffling and dynamic masks.")
    flags.DEFINE_bool("deterministic", defaults.deterministic, "Deterministic TensorFlow ops (bit-exact "
                      "reruns, slower).")


def define_distribution_flags():
    flags.DEFINE_enum("distribution_strategy", "one_device", STRATEGIES, STRATEGY_HELP)
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
    flags.DEFINE_enum("mixed_precision", "off", MIXED_PRECISION,
                      "fp16 (dynamic loss scaling), bf16, or off. LayerNorm, softmax and losses stay float32.")
    flags.DEFINE_bool("jit_compile", False, "Compile each replica's forward and backward passes and the evaluation "
                      "step with XLA (for GPUs and TPUs; slower on CPUs). Gradient sums, clipping and the "
                      "optimizer update stay outside XLA.")
    flags.DEFINE_bool("recompute_blocks", False, "Recompute each transformer block's activations in the backward "
                      "pass instead of keeping them: less memory (longer sequences or larger batches) for one "
                      "more forward pass per step.")


def define_output_flags(defaults, saved_model_help):
    flags.DEFINE_string("output_dir", None, "Checkpoints, TensorBoard summaries, results, predictions and "
                        "exports; a rerun resumes from it.")
    flags.DEFINE_integer("save_checkpoints_steps", defaults.save_checkpoints_steps,
                         "Steps between checkpoints (and evaluations when fine-tuning).")
    flags.DEFINE_integer("keep_checkpoint_max", defaults.keep_checkpoint_max, "Checkpoints kept for resuming.")
    flags.DEFINE_integer("log_steps", defaults.log_steps, "Steps between progress lines and summaries.")
    flags.DEFINE_bool("export_saved_model", defaults.export_saved_model, saved_model_help)
    flags.DEFINE_bool("overwrite_output_dir", False, "Start over although --output_dir holds an earlier run: "
                      "everything it wrote (checkpoints, best weights, results, predictions, exports, summaries) "
                      "is moved to OUTPUT_DIR/replaced-TIME/, never deleted. "
                      "Without it a run resumes, or stops if no checkpoint restores.")


def finetuning_configs(task_defaults):
    """(task config, training config) of a fine-tuning command from the parsed flags, validated."""
    return (fit_to_model(config_from_flags(task_defaults), FLAGS.albert_config_file).validate(),
            config_from_flags(TrainingConfig.for_finetuning()).validate())


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


def define_finetuning_flags():
    """What run_classifier.py, run_squad.py and run_race.py share: model, vocabulary, data, loop."""
    defaults = TrainingConfig.for_finetuning()
    define_model_flags("Pretrained weights: an original Google/albert_zh checkpoint (prefix or folder), "
                       "run_pretraining.py's export or checkpoints folder. Ignored when resuming.")
    define_vocabulary_flags()
    flags.DEFINE_string("data_dir", None, "Folder of the task's files.")
    flags.DEFINE_integer("max_seq_length", 512, "Longest sequence in tokens; longer inputs are truncated.")
    flags.DEFINE_bool("length_aware_batching", True,
                      "Pad each batch to its own longest sequence, training batches drawn from length buckets "
                      "(off: pad every batch to --max_seq_length as the original).")
    flags.DEFINE_float("dropout_rate", 0.1, "Dropout of the task head.")
    define_training_flags(defaults)
    flags.DEFINE_bool("do_predict", False, "Write predictions for the test split.")
    define_distribution_flags()
    define_output_flags(defaults, "Export the final (best) model to OUTPUT_DIR/saved_model with tensor and "
                        "raw-text signatures (see tools/export_savedmodel.py).")
