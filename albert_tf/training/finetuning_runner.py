r"""The training, evaluation and prediction loop shared by the fine-tuning runners.

`run_classifier.py`, `run_squad.py` and `run_race.py` define their task
(data, model, objective, metrics, prediction files) and call `run(task)`,
which does, top to bottom:

1. Pick the distribution strategy and dtype policy; build the task's model
   and the optimizer (AdamW by default, as the original fine-tuning, with
   linear warmup and linear decay; clipping to global norm 1.0).
2. Resume from the latest checkpoint in OUTPUT_DIR/checkpoints, or else
   load --init_checkpoint: an original Google or albert_zh checkpoint
   (encoder by name; the pretraining heads are reported and skipped), our
   pretraining export, or one of our checkpoints.
3. Train (--do_train) with length-aware batches, logging loss, accuracy,
   learning rate, examples/s and ETA every --log_steps (also to TensorBoard
   in OUTPUT_DIR/train). Every --save_checkpoints_steps a checkpoint is
   written and, with --do_eval, the dev set is evaluated (TensorBoard
   OUTPUT_DIR/eval); the best dev score of the task's main metric is kept in
   OUTPUT_DIR/best (our format) and OUTPUT_DIR/export/model.ckpt-best (the
   original layout), with its metrics in OUTPUT_DIR/best_eval.json.
4. Evaluate the best (or, without evaluation during training, the last)
   weights: OUTPUT_DIR/eval_results.txt.
5. Predict (--do_predict) on the test split with those weights: the task
   writes its prediction files into OUTPUT_DIR.
6. Export those weights as a SavedModel with tensor and raw-text signatures
   to OUTPUT_DIR/saved_model (--export_saved_model).
"""

import json
import os
import time

import keras
import tensorflow as tf
from absl import flags, logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints import save_checkpoint
from albert_tf.data.finetuning_dataset import finetuning_dataset
from albert_tf.optimization import OPTIMIZERS, create_optimizer
from albert_tf.tokenization import FullTokenizer
from albert_tf.training.runner_utils import (STRATEGIES, STRATEGY_HELP, create_strategy, format_seconds,
                                             load_initial_weights, worker_role, write_summaries)
from albert_tf.training.trainer import MIXED_PRECISION, Trainer

FLAGS = flags.FLAGS

# Model, vocabulary, data.
flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("init_checkpoint", None,
                    "Pretrained weights: an original Google/albert_zh checkpoint (prefix or folder), "
                    "run_pretraining.py's export or checkpoints folder. Ignored when resuming.")
flags.DEFINE_bool("init_from_group0", False, "With an original --init_checkpoint: every group from group_0.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (English ALBERT).")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (Chinese ALBERT).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the text (as the model was pretrained).")
flags.DEFINE_string("data_dir", None, "Folder of the task's files.")
flags.DEFINE_string("output_dir", None, "Checkpoints, summaries, results and predictions.")
flags.DEFINE_integer("max_seq_length", 512, "Longest sequence in tokens; longer inputs are truncated.")
flags.DEFINE_bool("length_aware_batching", True,
                  "Pad each batch to its own longest sequence, training batches drawn from length buckets "
                  "(off: pad every batch to --max_seq_length as the original).")

# What to do.
flags.DEFINE_bool("do_train", False, "Fine-tune on the train split.")
flags.DEFINE_bool("do_eval", False, "Evaluate on the dev split (every --save_checkpoints_steps when training).")
flags.DEFINE_bool("do_predict", False, "Write predictions for the test split.")

# Optimisation (the paper's values per task are in flags/).
flags.DEFINE_integer("train_batch_size", 32, "Global training batch size.")
flags.DEFINE_integer("eval_batch_size", 64, "Global evaluation and prediction batch size.")
flags.DEFINE_enum("optimizer", "adamw", OPTIMIZERS, "AdamW (the original fine-tuning) or LAMB.")
flags.DEFINE_float("learning_rate", 1e-5, "Peak learning rate.")
flags.DEFINE_integer("num_train_steps", 1000, "Optimizer steps.")
flags.DEFINE_integer("num_warmup_steps", 100, "Linear warmup steps.")
flags.DEFINE_float("weight_decay_rate", 0.01, "Weight decay (not on LayerNorm and biases).")
flags.DEFINE_float("adam_epsilon", 1e-6, "Epsilon of AdamW/LAMB.")
flags.DEFINE_float("clip_norm", 1.0, "Global-norm gradient clipping.")
flags.DEFINE_float("dropout_rate", 0.1, "Dropout of the task head.")
flags.DEFINE_integer("seed", 12345, "Seed of the head's initialisation, dropout and shuffling.")
flags.DEFINE_bool("deterministic", False, "Deterministic TensorFlow ops (bit-exact reruns, slower).")

# Checkpoints, evaluation, logging.
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints and dev evaluations.")
flags.DEFINE_integer("keep_checkpoint_max", 3, "Checkpoints kept for resuming (the best is kept apart).")
flags.DEFINE_integer("log_steps", 100, "Steps between progress lines and summaries.")
flags.DEFINE_bool("export_saved_model", True,
                  "Export the final (best) model to OUTPUT_DIR/saved_model with tensor and raw-text "
                  "signatures (see tools/export_savedmodel.py).")

# Distribution and precision.
flags.DEFINE_enum("distribution_strategy", "one_device", STRATEGIES, STRATEGY_HELP)
flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
flags.DEFINE_enum("mixed_precision", "off", MIXED_PRECISION,
                  "fp16 (dynamic loss scaling), bf16, or off. LayerNorm, softmax and losses stay float32.")


class FinetuningTask:
    """What a runner defines for `run`.

    Attributes:
        name: for logs.
        objective: a `Trainer` objective (`albert_tf.training.finetuning_objectives`).
        primary_metric: the dev metric that picks the best checkpoint (higher is better).
        num_choices: K for multiple choice (features hold K sequences), else None.
    """

    name = "task"
    objective = None
    primary_metric = "accuracy"
    num_choices = None
    extra_eval_splits = ()  # also evaluated once at the end, e.g. MNLI's dev_mismatched
    prediction_splits = ("test",)

    def build_model(self, config):
        raise NotImplementedError

    def features(self, split):
        """Unpadded features of a split such as "train", "dev" or "test" (see `finetuning_dataset`)."""
        raise NotImplementedError

    def evaluate(self, split, predictions):
        """Metrics (a dict of floats) from `Trainer.predict` outputs."""
        raise NotImplementedError

    def write_predictions(self, split, predictions, output_dir):
        """Writes prediction files; returns their paths."""
        raise NotImplementedError

    def serving_module(self, model, tokenizer_files):
        """The `albert_tf.export.serving_module` module to export `model` with."""
        raise NotImplementedError


def tokenizer_files():
    """The vocabulary arguments of the tokenizers and serving modules."""
    return dict(vocab_file=FLAGS.vocab_file, spm_model_file=FLAGS.spm_model_file,
                do_lower_case=FLAGS.do_lower_case)


def create_tokenizer():
    if not (FLAGS.spm_model_file or FLAGS.vocab_file):
        raise ValueError("set --spm_model_file (English) or --vocab_file (Chinese)")
    return FullTokenizer(**tokenizer_files())


class _Run:
    def __init__(self, task):
        self.task = task
        keras.utils.set_random_seed(FLAGS.seed)
        if FLAGS.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.strategy = create_strategy(FLAGS.distribution_strategy, FLAGS.tpu)
        self.is_chief, task_id = worker_role(self.strategy)
        os.makedirs(FLAGS.output_dir, exist_ok=True)
        self.work_dir = FLAGS.output_dir if self.is_chief else os.path.join(FLAGS.output_dir, f"worker_{task_id}")
        if FLAGS.mixed_precision != "off":
            keras.mixed_precision.set_global_policy(
                "mixed_float16" if FLAGS.mixed_precision == "fp16" else "mixed_bfloat16")
        self.config = AlbertConfig.from_json_file(FLAGS.albert_config_file)
        if FLAGS.max_seq_length > self.config.max_position_embeddings:
            raise ValueError(f"--max_seq_length={FLAGS.max_seq_length} exceeds max_position_embeddings="
                             f"{self.config.max_position_embeddings} of {FLAGS.albert_config_file}")
        with self.strategy.scope():
            self.model = task.build_model(self.config)
            optimizer = create_optimizer(
                FLAGS.optimizer, learning_rate=FLAGS.learning_rate, num_train_steps=FLAGS.num_train_steps,
                num_warmup_steps=FLAGS.num_warmup_steps, weight_decay_rate=FLAGS.weight_decay_rate,
                epsilon=FLAGS.adam_epsilon, gate_updates=True)
        self.trainer = Trainer(self.model, task.objective, optimizer, self.strategy,
                               mixed_precision=FLAGS.mixed_precision, clip_norm=FLAGS.clip_norm)
        self.checkpoint = tf.train.Checkpoint(**self.trainer.checkpoint_items())
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(self.work_dir, "checkpoints"),
            max_to_keep=FLAGS.keep_checkpoint_max, checkpoint_name="ckpt")
        self.best_dir = os.path.join(self.work_dir, "best")
        self.best_file = os.path.join(self.work_dir, "best_eval.json")
        self.writers = {}

    def writer(self, name):
        if not self.is_chief:
            return None
        if name not in self.writers:
            self.writers[name] = tf.summary.create_file_writer(os.path.join(self.work_dir, name))
        return self.writers[name]

    def dataset(self, split, is_training, skip_batches=0):
        features = self.task.features(split)
        batch_size = FLAGS.train_batch_size if is_training else FLAGS.eval_batch_size

        def dataset_fn(context):
            return finetuning_dataset(
                features, context.get_per_replica_batch_size(batch_size), is_training,
                FLAGS.max_seq_length, length_aware=FLAGS.length_aware_batching,
                num_choices=self.task.num_choices, seed=FLAGS.seed, input_context=context,
                skip_batches=skip_batches)

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def restore_or_initialise(self):
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
            logging.info("resumed from %s at step %d", self.manager.latest_checkpoint,
                         int(self.trainer.step.numpy()))
        elif FLAGS.init_checkpoint:
            load_initial_weights(self.model, FLAGS.init_checkpoint, FLAGS.init_from_group0, strict=False)
        else:
            logging.warning("no --init_checkpoint: fine-tuning from randomly initialised weights")

    def evaluate(self, split="dev"):
        predictions = self.trainer.predict(self.dataset(split, is_training=False))
        metrics = self.task.evaluate(split, predictions)
        return {k: float(v) for k, v in metrics.items()}

    def best(self):
        if os.path.exists(self.best_file):
            with open(self.best_file) as f:
                return json.load(f)
        return None

    def keep_if_best(self, step, metrics):
        best = self.best()
        score = metrics[self.task.primary_metric]
        if best is not None and best["metrics"][self.task.primary_metric] >= score:
            return False
        tf.train.Checkpoint(model=self.model).write(os.path.join(self.best_dir, "model"))
        save_checkpoint(self.model, os.path.join(self.work_dir, "export", "model.ckpt-best"), global_step=step)
        with open(self.best_file + ".tmp", "w") as f:
            json.dump({"step": step, "metrics": metrics}, f, indent=2, sort_keys=True)
        os.replace(self.best_file + ".tmp", self.best_file)  # the record follows the weights it describes
        return True

    def train(self):
        start_step = int(self.trainer.step.numpy())
        total = FLAGS.num_train_steps
        if start_step >= total:
            logging.info("already trained %d steps", start_step)
            return
        iterator = iter(self.dataset("train", is_training=True, skip_batches=start_step))
        schedule = self.trainer.optimizer.learning_rate_schedule
        window, window_steps = None, 0
        window_start = run_start = time.perf_counter()
        for step in range(start_step + 1, total + 1):
            sums, finite = self.trainer.train_step(iterator)
            if not bool(finite) and FLAGS.mixed_precision != "fp16":
                raise FloatingPointError(
                    f"step {step}: the loss or gradients are Inf/NaN; the update was skipped. "
                    "Lower --learning_rate or check the data; resume from the last checkpoint.")
            window = sums if window is None else {k: window[k] + sums[k] for k in window}
            window_steps += 1
            if step % FLAGS.log_steps == 0 or step == total:
                now = time.perf_counter()
                metrics = {k: float(v) for k, v in self.trainer.objective.metrics(window).items()}
                examples_per_s = window_steps * FLAGS.train_batch_size / (now - window_start)
                eta = (now - run_start) / (step - start_step) * (total - step)
                lr = float(schedule(step - 1))
                logging.info("step %d/%d  %s  lr %.3g  %.1f examples/s  ETA %s", step, total,
                             "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()), lr, examples_per_s,
                             format_seconds(eta))
                write_summaries(self.writer("train"), step,
                                {**metrics, "learning_rate": lr, "examples_per_second": examples_per_s})
                window, window_steps, window_start = None, 0, now
            if step % FLAGS.save_checkpoints_steps == 0 or step == total:
                logging.info("saved %s", self.manager.save(checkpoint_number=step))
                if FLAGS.do_eval:
                    metrics = self.evaluate()
                    improved = self.keep_if_best(step, metrics)
                    write_summaries(self.writer("eval"), step, metrics)
                    logging.info("eval at step %d: %s%s", step, json.dumps(metrics, sort_keys=True),
                                 "  (best so far)" if improved else "")

    def use_best_weights(self):
        best = self.best()
        if best is None:
            return int(self.trainer.step.numpy())
        tf.train.Checkpoint(model=self.model).read(os.path.join(self.best_dir, "model")).expect_partial() \
            .assert_existing_objects_matched()
        logging.info("using the best weights, from step %d (%s %.4f)", best["step"], self.task.primary_metric,
                     best["metrics"][self.task.primary_metric])
        return best["step"]


def run(task):
    """Runs the fine-tuning job that the flags describe (see the module docstring)."""
    if not (FLAGS.do_train or FLAGS.do_eval or FLAGS.do_predict):
        raise ValueError("nothing to do: set --do_train, --do_eval and/or --do_predict")
    job = _Run(task)
    job.restore_or_initialise()
    if FLAGS.do_train:
        job.train()
    step = job.use_best_weights()
    outputs = []
    if FLAGS.do_eval:
        metrics = job.best()["metrics"] if job.best() and FLAGS.do_train else job.evaluate()
        for split in task.extra_eval_splits:
            metrics.update({f"{split}_{k}": v for k, v in job.evaluate(split).items()})
        path = os.path.join(job.work_dir, "eval_results.txt")
        with open(path, "w") as f:
            for key in sorted(metrics):
                f.write(f"{key} = {metrics[key]}\n")
            f.write(f"global_step = {step}\n")
        logging.info("eval (step %d): %s", step, json.dumps(metrics, sort_keys=True))
        outputs.append(path)
    if FLAGS.do_predict:
        for split in task.prediction_splits:
            predictions = job.trainer.predict(job.dataset(split, is_training=False))
            outputs.extend(task.write_predictions(split, predictions, job.work_dir))
    if not FLAGS.do_eval or not os.path.exists(os.path.join(job.work_dir, "export", "model.ckpt-best.index")):
        save_checkpoint(job.model, os.path.join(job.work_dir, "export", f"model.ckpt-{step}"), global_step=step)
    if FLAGS.export_saved_model and job.is_chief:
        from albert_tf.export.serving_module import export_saved_model

        path = os.path.join(job.work_dir, "saved_model")
        names = export_saved_model(task.serving_module(job.model, tokenizer_files()), path)
        outputs.append(f"{path} (SavedModel: {', '.join(names)})")
    print(f"\nOutputs in {os.path.abspath(FLAGS.output_dir)}")
    for path in outputs:
        print(f"  {path}")
    return outputs
