r"""The one training loop: pretraining and every fine-tuning task run through `run_training`.

    from albert_tf.tasks.registry import create_task
    from albert_tf.training.training_config import TrainingConfig
    from albert_tf.training.training_loop import run_training

    task = create_task("classifier", task_name="sst-2", data_dir="glue/SST-2",
                       spm_model_file="30k-clean.model", max_seq_length=128)
    run_training(task, TrainingConfig.for_finetuning(
        albert_config_file="albert_base/albert_config.json", output_dir="runs/sst-2",
        init_checkpoint="albert_base/model.ckpt-best", do_train=True, do_eval=True))

What one run does, top to bottom:

1. Seeds, determinism, the distribution strategy and the Keras dtype policy.
2. The task prepares its data if it has to (the pretraining demo's corpus).
3. The task's model and the optimizer (LAMB or AdamW with linear warmup and
   polynomial decay; global-norm clipping) under the strategy's scope.
4. Resume from the latest checkpoint in OUTPUT_DIR/checkpoints (model,
   optimizer, step, loss scale; the data position follows from the step),
   or else load `init_checkpoint`: an original Google/albert_zh checkpoint
   (by name), an original-layout export, or one of our checkpoints.
5. Train (`do_train`) for `num_train_steps`: every `log_steps` a line with
   step, loss and metrics, learning rate, examples/s and ETA (and
   TensorBoard summaries in OUTPUT_DIR/train); a live bar on a terminal.
   Every `save_checkpoints_steps` a checkpoint, and with `do_eval` and
   `eval_during_training` an evaluation (OUTPUT_DIR/eval) that keeps the
   best weights of the task's primary metric in OUTPUT_DIR/best,
   OUTPUT_DIR/export/model.ckpt-best (original layout) and
   OUTPUT_DIR/best_eval.json. Inf/NaN stops the run with the step number
   (under fp16 the step is skipped and the loss scale halves); nothing
   non-finite is saved. A finite loss that jumps above `divergence_factor`
   x its running mean is warned about, naming the step (DivergenceWatch).
6. Evaluate (`do_eval`) the best, else the last, weights:
   OUTPUT_DIR/eval_results.txt, and TensorBoard. Warn when the run learned
   nothing (loss not falling, one class predicted, no answers).
7. Predict (`do_predict`): the task writes its files into OUTPUT_DIR.
8. Export those weights in the original layout (OUTPUT_DIR/export, readable
   by the TF1 code and `load_checkpoint`) and as a SavedModel with tensor
   and raw-text signatures (OUTPUT_DIR/saved_model, `export_saved_model`).
"""

import dataclasses
import json
import os
import time

import keras
import tensorflow as tf
from absl import logging

from albert_tf.albert_config import AlbertConfig
from albert_tf.checkpoints.initial_weights import load_initial_weights
from albert_tf.checkpoints.original_checkpoint import save_checkpoint
from albert_tf.errors import ConfigError, RunInterrupted
from albert_tf.export.serving_module import export_saved_model
from albert_tf.optimization import create_optimizer
from albert_tf.outputs.atomic_files import atomic_open, atomic_path, remove_leftovers
from albert_tf.outputs.run_lock import RunLock
from albert_tf.training.divergence_watch import DivergenceWatch
from albert_tf.training.checkpoint_recovery import (CHECKPOINT_NAME, remove_interrupted_saves, restore_newest_valid,
                                                    set_run_state_aside)
from albert_tf.training.progress import Progress, format_seconds
from albert_tf.training.stop_signals import StopSignals
from albert_tf.training.runner_utils import create_strategy, worker_role, write_summaries
from albert_tf.training.trainer import OPTIONAL_CHECKPOINT_ITEMS, Trainer

HEARTBEAT_SECONDS = 10  # the longest a run stays silent between --log_steps lines
BEST_RECORD = "best_eval.json"  # inside best/, beside the weights it describes
DTYPE_POLICIES = {"off": "float32", "fp16": "mixed_float16", "bf16": "mixed_bfloat16"}


def input_paths(*configs):
    """Every string setting of the config dataclasses that names an existing path (a run's inputs)."""
    paths = []
    for config in configs:
        for field in dataclasses.fields(config):
            value = getattr(config, field.name)
            if field.name != "output_dir" and isinstance(value, str) and value:
                for path in value.split(","):  # a glob stands for its folder
                    path = os.path.dirname(path) if any(c in path for c in "*?[") else path
                    if path and os.path.exists(path):
                        paths.append(path)
    return paths


def run_training(task, config):
    """Runs the job `config` describes for `task`; returns [(description, path)] of its outputs."""
    loop = TrainingLoop(task, config.validate())
    try:
        return loop.run()
    except tf.errors.DataLossError as error:
        damaged = task.damaged_inputs() or [error.message.splitlines()[0]]
        raise ValueError(
            f"step {loop.step}: input data is damaged (a record's checksum does not match its bytes):\n  "
            + "\n  ".join(damaged) + "\nCreate or copy the file(s) again; rerunning resumes from the last "
            f"checkpoint, {loop.manager.latest_checkpoint or 'none yet'}") from None
    finally:
        loop.close()


class TrainingLoop:
    """One job: see the module docstring for the order of events."""

    def __init__(self, task, config):
        self.task, self.config = task, config
        keras.utils.set_random_seed(config.seed)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.strategy = create_strategy(config.distribution_strategy, config.tpu)
        self.is_chief, task_id = worker_role(self.strategy)
        replicas = self.strategy.num_replicas_in_sync * config.gradient_accumulation_steps
        if config.train_batch_size % replicas:
            raise ConfigError(
                f"train_batch_size={config.train_batch_size}: expected a multiple of replicas "
                f"({self.strategy.num_replicas_in_sync}) x gradient_accumulation_steps "
                f"({config.gradient_accumulation_steps})")
        # Non-chief workers take part in every save but keep their files apart.
        output_dir = os.path.abspath(config.output_dir)
        self.work_dir = output_dir if self.is_chief else os.path.join(output_dir, f"worker_{task_id}")
        # One run per output folder, for the run's whole life (it creates the folder); a second one stops here.
        self.lock = RunLock(self.work_dir).acquire()
        try:
            self._set_up(task, config)
        except BaseException:
            self.close()
            raise

    def _set_up(self, task, config):
        for name in remove_leftovers(self.work_dir) + remove_leftovers(os.path.join(self.work_dir, "export")):
            logging.warning("cleaned up %s, left by an interrupted write", name)
        checkpoint_dir = os.path.join(self.work_dir, "checkpoints")
        remove_interrupted_saves(checkpoint_dir)
        if config.overwrite_output_dir:
            set_run_state_aside(self.work_dir, keep=input_paths(task.config, config))
        keras.mixed_precision.set_global_policy(DTYPE_POLICIES[config.mixed_precision])
        self.albert_config = AlbertConfig.from_json_file(config.albert_config_file)
        task.config.check_against(self.albert_config, config.albert_config_file)
        self.outputs = task.prepare(self.albert_config, self.work_dir, self.is_chief, config.seed)
        task.check_inputs(self.albert_config)
        task.read_splits((["train"] if config.do_train else []) + (list(task.eval_splits) if config.do_eval else [])
                         + (list(task.prediction_splits) if config.do_predict else []))
        with self.strategy.scope():
            self.model = task.build_model(self.albert_config)
            optimizer = create_optimizer(
                config.optimizer, learning_rate=config.learning_rate, num_train_steps=config.num_train_steps,
                num_warmup_steps=config.num_warmup_steps, poly_power=config.poly_power,
                weight_decay_rate=config.weight_decay_rate, epsilon=config.adam_epsilon,
                bias_correction=config.bias_correction, gate_updates=True, aggregate_gradients=False)
        self.trainer = Trainer(self.model, task.objective, optimizer, self.strategy,
                               config.gradient_accumulation_steps, config.mixed_precision, config.clip_norm,
                               jit_compile=config.jit_compile, recompute_blocks=config.recompute_blocks)
        self.checkpoint_items = self.trainer.checkpoint_items()
        self.checkpoint = tf.train.Checkpoint(**self.checkpoint_items)
        self.checkpoint_dir = checkpoint_dir
        self.manager = self._checkpoint_manager()
        self.best_dir = os.path.join(self.work_dir, "best")
        self.best_file = os.path.join(self.work_dir, "best_eval.json")
        self.best_export = os.path.join(self.work_dir, "export", "model.ckpt-best")
        self.writers = {}

    # --- pieces -------------------------------------------------------------------------------

    def close(self):
        self.lock.release()

    def _checkpoint_manager(self):
        return tf.train.CheckpointManager(self.checkpoint, self.checkpoint_dir,
                                          max_to_keep=self.config.keep_checkpoint_max,
                                          checkpoint_name=CHECKPOINT_NAME)

    @property
    def step(self):
        return int(self.trainer.step.numpy())

    def writer(self, name):
        if not self.is_chief:
            return None
        if name not in self.writers:
            self.writers[name] = tf.summary.create_file_writer(os.path.join(self.work_dir, name))
        return self.writers[name]

    def dataset(self, split, is_training, skip_batches=0):
        batch_size = self.config.train_batch_size if is_training else self.config.eval_batch_size
        return self.strategy.distribute_datasets_from_function(
            lambda context: self.task.dataset(split, batch_size, is_training, context, self.config.seed,
                                              skip_batches))

    def restore_or_initialise(self):
        self.sync_best_copies()
        restored = restore_newest_valid(self.checkpoint, self.checkpoint_dir, self.manager.latest_checkpoint,
                                        self.checkpoint_items, OPTIONAL_CHECKPOINT_ITEMS)
        if restored:
            self.manager = self._checkpoint_manager()  # it now lists the checkpoints found valid
            logging.info("resumed from %s at step %d", restored, self.step)
            self.compare_run_settings()
        elif self.config.init_checkpoint:
            load_initial_weights(self.task.exported_model(self.model), self.config.init_checkpoint,
                                 self.config.init_from_group0, strict=self.task.strict_init)
            self.record_run_settings()
        elif not self.config.do_train:
            raise ConfigError(
                f"do_train is off, and there are no weights to {'evaluate' if self.config.do_eval else 'use'}: "
                f"{self.checkpoint_dir} holds no checkpoint and init_checkpoint is not set. Pass init_checkpoint "
                "(trained weights), point output_dir at a trained run, or add do_train")
        else:
            if self.task.expects_init_checkpoint:
                logging.warning("no init_checkpoint: training %s from randomly initialised weights", self.task.name)
            self.record_run_settings()

    # What the data position of a resumed run depends on: it is derived from the step (step x batch, in the
    # order the seed shuffles), so a resume with other values skips or repeats examples.
    RUN_SETTINGS = ("train_batch_size", "seed")

    def compare_run_settings(self):
        """Warns when a resumed run's batch size or seed differ from the run that wrote the checkpoints."""
        path = os.path.join(self.work_dir, "run_settings.json")
        if not os.path.exists(path):
            return
        with open(path) as f:
            recorded = json.load(f)
        for name in self.RUN_SETTINGS:
            if name in recorded and recorded[name] != getattr(self.config, name):
                logging.warning("%s=%s differs from %s=%s of the run being resumed (%s): the data position is "
                                "derived from the step, so examples are skipped or repeated from here on; resume "
                                "with %s=%s for an exact continuation", name, getattr(self.config, name), name,
                                recorded[name], path, name, recorded[name])

    def record_run_settings(self):
        """run_settings.json: what `compare_run_settings` checks at a resume (written when a run starts anew)."""
        if self.is_chief and self.config.do_train:
            with atomic_open(os.path.join(self.work_dir, "run_settings.json"), "w") as f:
                json.dump({name: getattr(self.config, name) for name in self.RUN_SETTINGS}, f, indent=2)
                f.write("\n")

    def evaluate(self, split, weights_step=None):
        """(metrics, predictions or None) of the current weights (those of `weights_step`) on `split`."""
        logging.info("evaluating the weights of step %d on %s%s", self.step if weights_step is None else weights_step,
                     split, f", at most {self.config.max_eval_steps} batches" if self.config.max_eval_steps else "")
        return self.task.score(split, self.trainer, self.dataset(split, is_training=False),
                               self.config.max_eval_steps)

    # The best weights are one transaction: best/ holds the weights and their record (best/best_eval.json) and is
    # committed whole. OUTPUT_DIR/best_eval.json and export/model.ckpt-best are copies made after it, and
    # `sync_best_copies` remakes them at the next start if a run was killed before they were both written.

    def best(self):
        """The record of the best weights kept ({"step", "metrics"}), or None."""
        if not os.path.isdir(self.best_dir):
            return None
        inside = os.path.join(self.best_dir, BEST_RECORD)
        path = inside if os.path.exists(inside) else self.best_file  # the second: a best/ kept without its record
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def keep_if_best(self, metrics):
        best, metric = self.best(), self.task.primary_metric
        if best is not None and best["metrics"][metric] >= metrics[metric]:
            return False
        record = {"step": self.step, "metrics": metrics}
        with atomic_path(self.best_dir) as temporary:
            tf.train.Checkpoint(model=self.model).write(os.path.join(temporary, "model"))
            with open(os.path.join(temporary, BEST_RECORD), "w") as f:
                json.dump(record, f, indent=2, sort_keys=True)
        self.write_best_copies(record)
        return True

    def write_best_copies(self, record):
        save_checkpoint(self.task.exported_model(self.model), self.best_export, global_step=record["step"])
        with atomic_open(self.best_file, "w") as f:  # the copy follows the weights it describes
            json.dump(record, f, indent=2, sort_keys=True)

    def sync_best_copies(self):
        """Remakes best_eval.json and export/model.ckpt-best from best/ if they are not its copies (a killed run)."""
        inside = os.path.join(self.best_dir, BEST_RECORD)
        if not (self.is_chief and os.path.exists(inside)):
            return
        with open(inside) as f:
            record = json.load(f)
        copy = None
        if os.path.exists(self.best_file):
            with open(self.best_file) as f:
                copy = json.load(f)
        exported = (os.path.exists(self.best_export + ".index")
                    and tf.train.load_checkpoint(self.best_export).get_tensor("global_step") == record["step"])
        if copy == record and exported:
            return
        current = [variable.numpy() for variable in self.model.weights]
        self.load_best_weights()
        self.write_best_copies(record)
        for variable, value in zip(self.model.weights, current):  # the model is as it was: nothing restored yet
            variable.assign(value)
        logging.warning("remade %s and %s from %s (step %d): the run that kept them was interrupted",
                        self.best_file, self.best_export, self.best_dir, record["step"])

    def load_best_weights(self):
        tf.train.Checkpoint(model=self.model).read(os.path.join(self.best_dir, "model")).expect_partial() \
            .assert_existing_objects_matched()

    def use_best_weights(self):
        """Loads the best weights if some were kept; returns the step they are from."""
        best = self.best()
        if best is None:
            return self.step
        self.load_best_weights()
        logging.info("using the best weights, from step %d (%s %.4f)", best["step"], self.task.primary_metric,
                     best["metrics"][self.task.primary_metric])
        return best["step"]

    def save(self):
        if not all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in self.model.trainable_variables):
            raise FloatingPointError(
                f"step {self.step}: the weights became Inf/NaN; not saving. The last checkpoint is "
                f"{self.manager.latest_checkpoint}. Lower --learning_rate or resume from it.")
        logging.info("saved %s", self.manager.save(checkpoint_number=self.step))

    # --- the loop -----------------------------------------------------------------------------

    def stop_if_asked(self, stop):
        """Raises `RunInterrupted` if a stop signal came (the caller saved the step's checkpoint)."""
        if stop.requested is None:
            return
        latest = self.manager.latest_checkpoint
        raise RunInterrupted(
            f"interrupted by {stop.name} at step {self.step}: "
            + (f"stopped after saving {latest}; rerun the same command to resume" if latest else
               "stopped before the first checkpoint; rerun the same command to start again"),
            128 + stop.requested)

    def train(self, progress, stop):
        config, start_step = self.config, self.step
        total = config.num_train_steps
        if start_step >= total:
            logging.info("already trained %d steps", start_step)
            return
        iterator = iter(self.dataset("train", is_training=True, skip_batches=start_step))
        schedule = self.trainer.optimizer.learning_rate_schedule
        evaluate_at_checkpoints = config.do_eval and config.eval_during_training and self.task.eval_splits
        fp16 = config.mixed_precision == "fp16"
        window, window_steps, losses = None, 0, []
        watch = DivergenceWatch(config.divergence_factor)
        window_start = run_start = last_line = time.perf_counter()
        progress.write(logging.info, "step %d/%d: building the training step (the first step traces and compiles it)",
                       start_step + 1, total)
        for step in range(start_step + 1, total + 1):
            sums, finite = self.trainer.train_step(iterator)
            if step == start_step + 1 and total > step:
                progress.write(logging.info, "step %d/%d done in %.1f s (tracing included)", step, total,
                               time.perf_counter() - run_start)
                last_line = time.perf_counter()
            if not bool(finite) and not fp16:
                raise FloatingPointError(
                    f"step {step}: the loss or gradients are Inf/NaN; the update was skipped. The last checkpoint "
                    f"is {self.manager.latest_checkpoint or 'none'}. Lower --learning_rate, check the data, or "
                    "resume from the last checkpoint.")
            if config.divergence_factor:
                spike = watch.update(step, float(self.trainer.objective.metrics(sums)["loss"]))
                if spike:
                    progress.write(logging.warning, "%s; the last checkpoint is %s. If it keeps rising, resume from "
                                   "that checkpoint with a lower --learning_rate or a longer --num_warmup_steps",
                                   spike, self.manager.latest_checkpoint or "none")
            window = sums if window is None else {k: window[k] + sums[k] for k in window}
            window_steps += 1
            progress.update()
            logged = step % config.log_steps == 0 or step == total
            if not logged and time.perf_counter() - last_line >= HEARTBEAT_SECONDS:
                # Between --log_steps lines, a short one at least every HEARTBEAT_SECONDS (no summaries).
                now = time.perf_counter()
                progress.write(logging.info, "step %d/%d  %.1f examples/s  ETA %s", step, total,
                               window_steps * config.train_batch_size / (now - window_start),
                               format_seconds((now - run_start) / (step - start_step) * (total - step)))
                last_line = now
            if logged:
                now = last_line = time.perf_counter()
                metrics = {k: float(v) for k, v in self.trainer.objective.metrics(window).items()
                           if k not in self.trainer.objective.data_metrics}
                losses.append(metrics["loss"])
                examples_per_s = window_steps * config.train_batch_size / (now - window_start)
                eta = (now - run_start) / (step - start_step) * (total - step)
                lr = float(schedule(step - 1))  # the rate of this window's last update
                scaling = (f"  skipped steps {int(self.trainer.skipped_steps.numpy())}, loss scale "
                           f"{float(self.trainer.loss_scale.numpy()):.0f}" if fp16 else "")
                progress.write(logging.info, "step %d/%d  %s  lr %.3g  %.1f examples/s  ETA %s%s", step, total,
                               "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()), lr, examples_per_s,
                               format_seconds(eta), scaling)
                progress.update(0, loss=metrics["loss"])
                write_summaries(self.writer("train"), step, {
                    **metrics, "learning_rate": lr, "examples_per_second": examples_per_s,
                    "skipped_steps": float(self.trainer.skipped_steps.numpy())})
                window, window_steps, window_start = None, 0, now
            if step % config.save_checkpoints_steps == 0 or step == total:
                # Evaluate (and keep the best) before the checkpoint: a run killed in between resumes from the
                # previous checkpoint and repeats both, so the best weights follow the same course as unkilled.
                if evaluate_at_checkpoints:
                    metrics, _ = self.evaluate(self.task.eval_splits[0])
                    improved = self.task.primary_metric is not None and self.keep_if_best(metrics)
                    write_summaries(self.writer("eval"), step, metrics)
                    progress.write(logging.info, "eval at step %d: %s%s", step, json.dumps(metrics, sort_keys=True),
                                   "  (best so far)" if improved else "")
                progress.write(self.save)
            elif stop.requested is not None:
                progress.write(self.save)
            self.stop_if_asked(stop)
        if len(losses) >= 2 and not losses[-1] < losses[0]:
            logging.warning("the training loss did not fall (%.4f in the first logged window, %.4f in the last): "
                            "the model is learning nothing; check the learning rate, the warmup and the data",
                            losses[0], losses[-1])

    def run(self):
        with StopSignals() as stop:
            return self._run(stop)

    def _run(self, stop):
        config, task = self.config, self.task
        for warning in config.setup_warnings():
            logging.warning("%s", warning)
        self.restore_or_initialise()
        if config.do_train:
            with Progress(config.num_train_steps, self.step, "step", task.name) as progress:
                self.train(progress, stop)
        self.stop_if_asked(stop)
        step = self.use_best_weights()
        outputs = list(self.outputs)
        if config.do_eval:
            outputs.append(self.final_evaluation(step))
        if config.do_predict:
            for split in task.prediction_splits:
                logging.info("predicting %s", split)
                predictions = self.trainer.predict(self.dataset(split, is_training=False))
                outputs.extend(("predictions", path) for path in task.write_predictions(split, predictions,
                                                                                          self.work_dir))
        best_export = self.best_export
        if not (config.do_eval and os.path.exists(best_export + ".index")):
            best_export = os.path.join(self.work_dir, "export", f"model.ckpt-{step}")
            save_checkpoint(self.task.exported_model(self.model), best_export, global_step=step)
        outputs.insert(0, ("checkpoints (resume, --init_checkpoint)", os.path.join(self.work_dir, "checkpoints")))
        outputs.insert(1, ("original-layout export (load_checkpoint, TF1 code)", best_export))
        module = task.serving_module(self.model) if config.export_saved_model and self.is_chief else None
        if module is not None:
            path = os.path.join(self.work_dir, "saved_model")
            logging.info("exporting the SavedModel to %s", path)
            names = export_saved_model(module, path, task.serving_info())
            outputs.append((f"SavedModel (signatures {', '.join(names)}; needs tensorflow + tensorflow-text)", path))
        if config.do_train:
            outputs.append(("TensorBoard", f"tensorboard --logdir {self.work_dir}"))
        return outputs

    def final_evaluation(self, step):
        metrics, predictions = self.evaluate(self.task.eval_splits[0], step)
        for warning in self.task.learning_warnings(self.task.eval_splits[0], predictions, metrics):
            logging.warning("%s", warning)
        for split in self.task.eval_splits[1:]:
            metrics.update({f"{split}_{k}": v for k, v in self.evaluate(split, step)[0].items()})
        write_summaries(self.writer("eval"), step, metrics)
        path = os.path.join(self.work_dir, "eval_results.txt")
        with atomic_open(path, "w") as f:
            for key in sorted(metrics):
                f.write(f"{key} = {metrics[key]}\n")
            f.write(f"global_step = {step}\n")
        logging.info("eval (step %d): %s", step, json.dumps(metrics, sort_keys=True))
        leading = [k for k in self.task.summary_metrics if k in metrics] or list(metrics)
        shown = "  ".join(f"{k}={metrics[k]:.4f}" for k in leading[:4])
        return (f"eval ({shown})", path)
