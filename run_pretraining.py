r"""ALBERT pretraining (MLM + SOP) with LAMB, tf.distribute and mixed precision.

    python run_pretraining.py --flagfile=flags/albert_base.flags
    python run_pretraining.py --flagfile=flags/demo.flags     # small end-to-end demo

What one run does, top to bottom:

1. Pick the distribution strategy (--distribution_strategy) and the Keras
   dtype policy (--mixed_precision).
2. Optionally prepare data (--corpus_file): train a SentencePiece model and
   write pretraining TFRecords into OUTPUT_DIR/data (skipped when present).
3. Build the AlbertPretrainer from --albert_config_file and the LAMB or AdamW
   optimizer with the original warmup + polynomial decay schedule.
4. Resume from the latest checkpoint in --output_dir if there is one (model,
   optimizer, step, loss scale; the data position follows from the step), or
   else load --init_checkpoint (weights only: one of our checkpoints or an
   original Google/albert_zh checkpoint).
5. Train for --num_train_steps, logging step, loss, accuracies, learning
   rate, examples/s and ETA every --log_steps, writing TensorBoard summaries
   to OUTPUT_DIR/train and a checkpoint every --save_checkpoints_steps. A
   step with Inf/NaN gradients is skipped; outside fp16 (where it is part of
   loss scaling) the run then stops with the step number, keeping only the
   checkpoints written before it.
6. Evaluate (--do_eval): masked_lm_accuracy, masked_lm_loss,
   sentence_order_accuracy, sentence_order_loss -> OUTPUT_DIR/eval_results.txt.
7. Save the final weights in the original Google checkpoint layout in
   OUTPUT_DIR/export (readable by the TF1 code, TF-Hub tools and
   `albert_tf.load_checkpoint`), and as a SavedModel with the TF-Hub
   signatures in OUTPUT_DIR/saved_model (--export_saved_model).
"""

import json
import os
import time

from absl import app, flags, logging

import albert_tf  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)
import keras
import tensorflow as tf

from albert_tf import AlbertConfig, AlbertPretrainer, save_checkpoint
from albert_tf.data.create_pretraining_data import create_pretraining_data
from albert_tf.data.pretraining_dataset import DynamicMasking, pretraining_dataset
from albert_tf.data.pretraining_instances import InstanceOptions
from albert_tf.optimization import OPTIMIZERS, create_optimizer
from albert_tf.tokenization import FullTokenizer
from albert_tf.tokenization.sentencepiece_training import train_sentencepiece
from albert_tf.training.pretraining_objective import PretrainingObjective
from albert_tf.training.runner_utils import (STRATEGIES, STRATEGY_HELP, create_strategy, format_seconds,
                                             load_initial_weights, worker_role, write_summaries)
from albert_tf.training.trainer import MIXED_PRECISION, Trainer

FLAGS = flags.FLAGS

# Model and data.
flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model to pretrain.")
flags.DEFINE_string("input_file", None, "Training TFRecords: comma-separated paths or globs.")
flags.DEFINE_string("eval_file", None, "Evaluation TFRecords (default: --input_file).")
flags.DEFINE_string("output_dir", None, "Checkpoints, TensorBoard summaries, results and the export.")
flags.DEFINE_string("init_checkpoint", None,
                    "Initial weights: one of our checkpoints (a directory or prefix written by this "
                    "script) or an original Google/albert_zh checkpoint. Ignored when resuming.")
flags.DEFINE_bool("init_from_group0", False,
                  "With an original --init_checkpoint: start every layer group from group_0.")
flags.DEFINE_integer("max_seq_length", 512, "Sequence length the TFRecords were written with.")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Masked positions per sequence in the TFRecords.")
flags.DEFINE_bool("dynamic_masking", False,
                  "Mask each example anew every epoch in the input pipeline (needs --spm_model_file "
                  "or --vocab_file for the special ids).")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (dynamic masking, --corpus_file).")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab (dynamic masking with Chinese models).")

# Data preparation (the demo).
flags.DEFINE_string("corpus_file", None,
                    "Text (one sentence per line, blank line between documents) to prepare data from: "
                    "a SentencePiece model (unless --spm_model_file exists) and TFRecords are written "
                    "to OUTPUT_DIR/data once, and --input_file/--eval_file default to them.")
flags.DEFINE_integer("eval_documents", 3, "With --corpus_file: last documents held out for evaluation.")
flags.DEFINE_integer("dupe_factor", 5, "With --corpus_file: create_pretraining_data's dupe_factor.")

# Training.
flags.DEFINE_bool("do_train", True, "Train.")
flags.DEFINE_bool("do_eval", False, "Evaluate after training.")
flags.DEFINE_integer("train_batch_size", 4096, "Global batch size per optimizer step.")
flags.DEFINE_integer("eval_batch_size", 64, "Global evaluation batch size.")
flags.DEFINE_integer("gradient_accumulation_steps", 1,
                     "Micro-batches per optimizer step (train_batch_size must divide evenly).")
flags.DEFINE_enum("optimizer", "lamb", OPTIMIZERS, "LAMB (the paper) or AdamW (BERT's).")
flags.DEFINE_float("learning_rate", 0.00176, "Peak learning rate.")
flags.DEFINE_integer("num_train_steps", 125000, "Optimizer steps.")
flags.DEFINE_integer("num_warmup_steps", 3125, "Linear warmup steps.")
flags.DEFINE_float("poly_power", 1.0, "Power of the polynomial decay.")
flags.DEFINE_float("weight_decay_rate", 0.01, "Weight decay (not on LayerNorm and biases).")
flags.DEFINE_float("adam_epsilon", 1e-6, "Epsilon of LAMB/AdamW.")
flags.DEFINE_bool("bias_correction", False, "Adam bias correction (off in the original).")
flags.DEFINE_float("clip_norm", 1.0, "Global-norm gradient clipping.")
flags.DEFINE_integer("max_eval_steps", 100, "Evaluation batches.")
flags.DEFINE_integer("seed", 12345, "Seed of weight initialisation, shuffling and dynamic masks.")
flags.DEFINE_bool("deterministic", False, "Deterministic TensorFlow ops (bit-exact reruns, slower).")
flags.DEFINE_integer("shuffle_buffer_size", 10000, "Records in the shuffle buffer.")

# Distribution and precision.
flags.DEFINE_enum("distribution_strategy", "one_device", STRATEGIES, STRATEGY_HELP)
flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
flags.DEFINE_enum("mixed_precision", "off", MIXED_PRECISION,
                  "fp16 (dynamic loss scaling), bf16, or off. LayerNorm, softmax and losses stay float32.")

# Checkpoints and logging.
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints.")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Checkpoints kept.")
flags.DEFINE_integer("log_steps", 100, "Steps between progress lines and summaries.")
flags.DEFINE_bool("export_saved_model", True,
                  "Also export the encoder to OUTPUT_DIR/saved_model with the TF-Hub signatures (tokens, "
                  "sop, mlm, tokenization_info) and raw-text ones; needs the vocabulary (--spm_model_file, "
                  "--vocab_file or --corpus_file).")


def prepare_data(config):
    """--corpus_file: a SentencePiece model and train/eval TFRecords in OUTPUT_DIR/data."""
    data_dir = os.path.join(FLAGS.output_dir, "data")
    os.makedirs(data_dir, exist_ok=True)
    spm = FLAGS.spm_model_file or os.path.join(data_dir, "spm.model")
    if not os.path.exists(spm):
        train_sentencepiece([FLAGS.corpus_file], spm[:-len(".model")], vocab_size=config.vocab_size,
                            hard_vocab_limit=False, random_seed=FLAGS.seed, log=logging.info)
    vocab_size = FullTokenizer(spm_model_file=spm).vocab_size
    if vocab_size != config.vocab_size:
        raise ValueError(f"{spm} has {vocab_size} pieces but {FLAGS.albert_config_file} says "
                         f"vocab_size={config.vocab_size}: the corpus is too small for that vocabulary; "
                         f"set vocab_size to {vocab_size} in the config")
    train_file, eval_file = os.path.join(data_dir, "train.tfrecord"), os.path.join(data_dir, "eval.tfrecord")
    if not (os.path.exists(train_file) and os.path.exists(eval_file)):
        with open(FLAGS.corpus_file, encoding="utf-8") as f:
            documents = [d for d in f.read().split("\n\n") if d.strip()]
        if len(documents) <= FLAGS.eval_documents + 1:
            raise ValueError(f"{FLAGS.corpus_file} has {len(documents)} documents: too few to hold out "
                             f"--eval_documents={FLAGS.eval_documents}")
        options = InstanceOptions(max_seq_length=FLAGS.max_seq_length,
                                  max_predictions_per_seq=FLAGS.max_predictions_per_seq)
        for path, part, dupe in ((train_file, documents[:-FLAGS.eval_documents], FLAGS.dupe_factor),
                                 (eval_file, documents[-FLAGS.eval_documents:], 1)):
            text = os.path.join(data_dir, os.path.basename(path) + ".txt")
            with open(text, "w", encoding="utf-8") as f:
                f.write("\n\n".join(part) + "\n")
            summary = create_pretraining_data(
                [text], [path + ".tmp"], spm_model_file=spm, options=options, dupe_factor=dupe,
                random_seed=FLAGS.seed, num_workers=os.cpu_count() or 1, log=logging.info)
            os.replace(path + ".tmp", path)  # only complete files count as prepared
            logging.info("%s: %d instances", path, summary.instances.counts["instances"])
    return spm, train_file, eval_file


def latest_step(manager):
    return int(manager.latest_checkpoint.rsplit("-", 1)[-1]) if manager.latest_checkpoint else 0


def train(trainer, dataset_fn, checkpoint, manager, strategy, is_chief):
    start_step = int(trainer.step.numpy())
    if start_step >= FLAGS.num_train_steps:
        logging.info("already trained %d steps", start_step)
        return
    iterator = iter(strategy.distribute_datasets_from_function(
        lambda context: dataset_fn(context, skip_batches=start_step)))
    writer = tf.summary.create_file_writer(os.path.join(FLAGS.output_dir, "train")) if is_chief else None
    schedule = trainer.optimizer.learning_rate_schedule
    window, window_start, run_start = None, time.perf_counter(), time.perf_counter()
    step = start_step
    while step < FLAGS.num_train_steps:
        sums, finite = trainer.train_step(iterator)
        step += 1
        if not bool(finite) and FLAGS.mixed_precision != "fp16":
            raise FloatingPointError(
                f"step {step}: the loss or gradients are Inf/NaN; the update was skipped and no checkpoint "
                f"was written after step {latest_step(manager)}. "
                "Lower --learning_rate, check the data, or resume from the last checkpoint.")
        window = sums if window is None else {k: window[k] + sums[k] for k in window}
        if step % FLAGS.log_steps == 0 or step == FLAGS.num_train_steps:
            now = time.perf_counter()
            steps_in_window = FLAGS.log_steps if step % FLAGS.log_steps == 0 else step % FLAGS.log_steps
            metrics = {k: float(v) for k, v in trainer.objective.metrics(window).items()}
            examples_per_s = steps_in_window * FLAGS.train_batch_size / (now - window_start)
            eta = (now - run_start) / (step - start_step) * (FLAGS.num_train_steps - step)
            lr = float(schedule(step - 1))  # the rate of this window's last update
            logging.info(
                "step %d/%d  loss %.4f  mlm_acc %.4f  sop_acc %.4f  lr %.3g  %.1f examples/s  ETA %s%s",
                step, FLAGS.num_train_steps, metrics["loss"], metrics["masked_lm_accuracy"],
                metrics["sentence_order_accuracy"], lr, examples_per_s, format_seconds(eta),
                f"  skipped steps {int(trainer.skipped_steps.numpy())}, loss scale "
                f"{float(trainer.loss_scale.numpy()):.0f}" if FLAGS.mixed_precision == "fp16" else "")
            write_summaries(writer, step, {**metrics, "learning_rate": lr, "examples_per_second": examples_per_s,
                                           "skipped_steps": float(trainer.skipped_steps.numpy())})
            window, window_start = None, now
        if step % FLAGS.save_checkpoints_steps == 0 or step == FLAGS.num_train_steps:
            if not all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in trainer.model.trainable_variables):
                raise FloatingPointError(
                    f"step {step}: the weights became Inf/NaN; not saving. The last checkpoint is "
                    f"{manager.latest_checkpoint}. Lower --learning_rate or resume from it.")
            path = manager.save(checkpoint_number=step)
            logging.info("saved %s", path)


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    if FLAGS.deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = create_strategy(FLAGS.distribution_strategy, FLAGS.tpu)
    is_chief, task_id = worker_role(strategy)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    # Non-chief workers take part in every save but keep their files apart.
    work_dir = FLAGS.output_dir if is_chief else os.path.join(FLAGS.output_dir, f"worker_{task_id}")
    config = AlbertConfig.from_json_file(FLAGS.albert_config_file)
    if FLAGS.mixed_precision != "off":
        keras.mixed_precision.set_global_policy(
            "mixed_float16" if FLAGS.mixed_precision == "fp16" else "mixed_bfloat16")

    spm_model_file, input_file, eval_file = FLAGS.spm_model_file, FLAGS.input_file, FLAGS.eval_file
    if FLAGS.corpus_file:
        if is_chief:
            spm_model_file, default_train, default_eval = prepare_data(config)
        else:
            raise app.UsageError("--corpus_file is for single-worker runs; prepare the data first")
        input_file, eval_file = input_file or default_train, eval_file or default_eval
    if not input_file:
        raise app.UsageError("set --input_file (or --corpus_file)")
    eval_file = eval_file or input_file
    if FLAGS.train_batch_size % (strategy.num_replicas_in_sync * FLAGS.gradient_accumulation_steps):
        raise app.UsageError(
            f"--train_batch_size={FLAGS.train_batch_size} must be a multiple of replicas "
            f"({strategy.num_replicas_in_sync}) x --gradient_accumulation_steps "
            f"({FLAGS.gradient_accumulation_steps})")
    masking = None
    if FLAGS.dynamic_masking:
        if not (spm_model_file or FLAGS.vocab_file):
            raise app.UsageError("--dynamic_masking needs --spm_model_file or --vocab_file")
        masking = DynamicMasking.from_tokenizer(
            FullTokenizer(vocab_file=FLAGS.vocab_file, spm_model_file=spm_model_file),
            InstanceOptions(max_seq_length=FLAGS.max_seq_length))

    def dataset_fn(context, skip_batches=0, is_training=True):
        return pretraining_dataset(
            input_file if is_training else eval_file,
            FLAGS.train_batch_size if is_training else FLAGS.eval_batch_size,
            FLAGS.max_seq_length, FLAGS.max_predictions_per_seq, is_training=is_training,
            input_context=context, shuffle_buffer_size=FLAGS.shuffle_buffer_size, seed=FLAGS.seed,
            dynamic_masking=masking, skip_batches=skip_batches)

    with strategy.scope():
        model = AlbertPretrainer(config)
        optimizer = create_optimizer(
            FLAGS.optimizer, learning_rate=FLAGS.learning_rate, num_train_steps=FLAGS.num_train_steps,
            num_warmup_steps=FLAGS.num_warmup_steps, poly_power=FLAGS.poly_power,
            weight_decay_rate=FLAGS.weight_decay_rate, epsilon=FLAGS.adam_epsilon,
            bias_correction=FLAGS.bias_correction, gate_updates=True)
    trainer = Trainer(model, PretrainingObjective(), optimizer, strategy, FLAGS.gradient_accumulation_steps,
                                 FLAGS.mixed_precision, FLAGS.clip_norm)
    checkpoint = tf.train.Checkpoint(**trainer.checkpoint_items())
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(work_dir, "checkpoints"),
                                         max_to_keep=FLAGS.keep_checkpoint_max, checkpoint_name="ckpt")
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        logging.info("resumed from %s at step %d", manager.latest_checkpoint, int(trainer.step.numpy()))
    elif FLAGS.init_checkpoint:
        load_initial_weights(model, FLAGS.init_checkpoint, FLAGS.init_from_group0)

    if FLAGS.do_train:
        train(trainer, dataset_fn, checkpoint, manager, strategy, is_chief)
    results = {}
    if FLAGS.do_eval:
        eval_data = strategy.distribute_datasets_from_function(
            lambda context: dataset_fn(context, is_training=False))
        results = trainer.evaluate(eval_data, FLAGS.max_eval_steps)
        results["global_step"] = int(trainer.step.numpy())
        with open(os.path.join(work_dir, "eval_results.txt"), "w") as f:
            for key in sorted(results):
                f.write(f"{key} = {results[key]}\n")
        logging.info("eval: %s", json.dumps(results, sort_keys=True))
    export_prefix = os.path.join(work_dir, "export", f"model.ckpt-{int(trainer.step.numpy())}")
    save_checkpoint(model, export_prefix, global_step=int(trainer.step.numpy()))
    saved_model = None
    if FLAGS.export_saved_model and is_chief and (spm_model_file or FLAGS.vocab_file):
        from albert_tf.export.serving_module import EncoderServing, export_saved_model

        saved_model = os.path.join(work_dir, "saved_model")
        export_saved_model(EncoderServing(model, FLAGS.max_seq_length, vocab_file=FLAGS.vocab_file,
                                          spm_model_file=spm_model_file), saved_model)
    print("\nOutputs in " + os.path.abspath(FLAGS.output_dir))
    print(f"  checkpoints (resume, --init_checkpoint): {os.path.join(work_dir, 'checkpoints')}")
    print(f"  original-layout export (load_checkpoint, TF1 code): {export_prefix}")
    if saved_model:
        print(f"  SavedModel (TF-Hub signatures, raw text; needs tensorflow + tensorflow-text): {saved_model}")
    print(f"  TensorBoard: tensorboard --logdir {os.path.join(work_dir, 'train')}")
    if results:
        print(f"  eval: {os.path.join(work_dir, 'eval_results.txt')} "
              + " ".join(f"{k}={results[k]:.4f}" for k in ("masked_lm_accuracy", "sentence_order_accuracy")))
    if FLAGS.corpus_file:
        print(f"  data: {os.path.dirname(input_file)} (SentencePiece model {spm_model_file})")


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "output_dir"])
    app.run(main)
