"""The settings of one training job, as a plain checked object (no flags, no TensorFlow).

`TrainingConfig` holds what the one training loop
(`albert_tf.training.training_loop.run_training`) needs for every job:
model and initial weights, what to do, batch sizes, optimizer and schedule,
distribution and precision, checkpoints, logging and export. A task
(`albert_tf.tasks`) brings its own config for its data and head.

    config = TrainingConfig.for_finetuning(albert_config_file="albert_base/albert_config.json",
                                           output_dir="runs/sst-2", learning_rate=1e-5).validate()

The command lines (`albert_tf.cli`) build these objects from flags of the same names.
"""

import dataclasses
import math
from typing import Optional

from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError
from albert_tf.optimization.optimizer_names import OPTIMIZERS

STRATEGIES = ("one_device", "mirrored", "multi_worker_mirrored", "tpu")
STRATEGY_HELP = ("one_device: first GPU or the CPU; mirrored: all local GPUs; multi_worker_mirrored: "
                 "workers from TF_CONFIG; tpu: --tpu.")
MIXED_PRECISION = ("off", "bf16", "fp16")


@dataclasses.dataclass
class TrainingConfig:
    """Everything the training loop needs; the field names are the command-line flag names.

    The defaults are those of fine-tuning in the original scripts;
    `for_pretraining()` gives the paper's pretraining recipe (ALBERT-base).
    """

    albert_config_file: Optional[str] = setting(None, "albert_config.json of the model.")
    output_dir: Optional[str] = setting(None, "Checkpoints, TensorBoard summaries, results, predictions and "
                                              "exports; a rerun resumes from it.")
    init_checkpoint: Optional[str] = setting(
        None, "Pretrained weights: an original Google/albert_zh checkpoint (prefix or folder), run_pretraining.py's "
        "export or checkpoints folder. Ignored when resuming.")
    init_from_group0: bool = setting(False, "With an original --init_checkpoint: every layer group starts from "
                                            "group_0.")
    # What to do.
    do_train: bool = setting(False, "Train.")
    do_eval: bool = setting(False, "Evaluate (with --do_train: at every checkpoint for fine-tuning, keeping the "
                                   "best weights).")
    do_predict: bool = setting(False, "Write predictions for the test split.")
    # Batches and optimisation.
    train_batch_size: int = setting(32, "Global batch size per optimizer step.")
    eval_batch_size: int = setting(64, "Global evaluation and prediction batch size.")
    gradient_accumulation_steps: int = setting(1, "Micro-batches per optimizer step (train_batch_size must divide "
                                                  "evenly).")
    optimizer: str = setting("adamw", "LAMB (ALBERT pretraining) or AdamW (BERT's; the original fine-tuning).",
                             choices=OPTIMIZERS)
    learning_rate: float = setting(1e-5, "Peak learning rate.")
    num_train_steps: int = setting(1000, "Optimizer steps.")
    num_warmup_steps: int = setting(100, "Linear warmup steps.")
    poly_power: float = setting(1.0, "Power of the polynomial decay (1.0: linear).")
    weight_decay_rate: float = setting(0.01, "Weight decay (not on LayerNorm and biases).")
    adam_epsilon: float = setting(1e-6, "Epsilon of LAMB/AdamW.")
    bias_correction: bool = setting(False, "Adam bias correction (off in the original).")
    clip_norm: float = setting(1.0, "Global-norm gradient clipping.")
    divergence_factor: float = setting(
        2.0, "Warn (naming the step) when a step's training loss exceeds this multiple of its running mean, the "
        "first sign of a run diverging; 0 turns the warning off.")
    seed: int = setting(12345, "Seed of initialisation, dropout, shuffling and dynamic masks.")
    deterministic: bool = setting(False, "Deterministic TensorFlow ops (bit-exact reruns, slower).")
    # Distribution and precision.
    distribution_strategy: str = setting("one_device", STRATEGY_HELP, choices=STRATEGIES)
    tpu: Optional[str] = setting(None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
    mixed_precision: str = setting("off", "fp16 (dynamic loss scaling), bf16, or off. LayerNorm, softmax and "
                                          "losses stay float32.", choices=MIXED_PRECISION)
    jit_compile: bool = setting(
        False, "Compile each replica's forward and backward passes and the evaluation step with XLA (for GPUs "
        "and TPUs; slower on CPUs). Gradient sums, clipping and the optimizer update stay outside XLA.")
    recompute_blocks: bool = setting(
        False, "Recompute each transformer block's activations in the backward pass instead of keeping them: "
        "less memory (longer sequences or larger batches) for one more forward pass per step.")
    # Checkpoints, evaluation, logging, export.
    save_checkpoints_steps: int = setting(1000, "Steps between checkpoints (and evaluations when fine-tuning).")
    keep_checkpoint_max: int = setting(3, "Checkpoints kept for resuming.")
    log_steps: int = setting(100, "Steps between progress lines and summaries.")
    max_eval_steps: Optional[int] = setting(None, "Evaluation batches (unset: the whole evaluation split).")
    eval_during_training: bool = setting(
        True, "With --do_eval: also evaluate at every checkpoint (fine-tuning: keeping the best weights; "
        "pretraining: held-out MLM/SOP curves in OUTPUT_DIR/eval for TensorBoard).")
    export_saved_model: bool = setting(True, "Export the final (best) model to OUTPUT_DIR/saved_model with tensor "
                                             "and raw-text signatures (see albert-export).")
    overwrite_output_dir: bool = setting(
        False, "Start over although --output_dir holds an earlier run: everything it wrote (checkpoints, best "
        "weights, results, predictions, exports, summaries) is moved to OUTPUT_DIR/replaced-TIME/, never "
        "deleted. Without it a run resumes, or stops if no checkpoint restores.")

    @classmethod
    def for_pretraining(cls, **overrides):
        """The paper's ALBERT-base pretraining settings (Lan et al. 2019, section 4.1), then `overrides`."""
        values = dict(do_train=True, train_batch_size=4096, optimizer="lamb", learning_rate=0.00176,
                      num_train_steps=125000, num_warmup_steps=3125, keep_checkpoint_max=5,
                      max_eval_steps=100, eval_during_training=False)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def for_finetuning(cls, **overrides):
        """The original fine-tuning defaults (AdamW, warmup then linear decay), then `overrides`."""
        return cls(**overrides)

    def validate(self):
        """Returns self, or raises `ConfigError` listing every setting that cannot work."""
        problems = []

        def expect(condition, name, expected):
            if not condition:
                problems.append(f"{name}={getattr(self, name)!r}: expected {expected}")

        expect(bool(self.albert_config_file), "albert_config_file", "the model's albert_config.json")
        expect(bool(self.output_dir), "output_dir", "a folder for checkpoints, results and exports")
        expect(self.do_train or self.do_eval or self.do_predict, "do_train",
               "at least one of do_train, do_eval, do_predict to be set (nothing to do)")
        for name in ("train_batch_size", "eval_batch_size", "gradient_accumulation_steps",
                     "save_checkpoints_steps", "keep_checkpoint_max", "log_steps"):
            expect(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, name, "an integer >= 1")
        expect(self.num_train_steps >= (1 if self.do_train else 0), "num_train_steps",
               ">= 1 with do_train (no steps would export the initial weights as if trained)")
        expect(self.num_warmup_steps >= 0, "num_warmup_steps", "an integer >= 0")
        expect(self.max_eval_steps is None or self.max_eval_steps >= 1, "max_eval_steps", "None or >= 1")
        if self.gradient_accumulation_steps >= 1:
            expect(self.train_batch_size % self.gradient_accumulation_steps == 0, "train_batch_size",
                   f"a multiple of gradient_accumulation_steps={self.gradient_accumulation_steps}")
        expect(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}")
        # NaN is let through: it is how the tests make a run diverge on purpose.
        expect(not self.learning_rate < 0, "learning_rate", "a rate >= 0")
        expect(self.clip_norm > 0 and math.isfinite(self.clip_norm), "clip_norm", "a finite norm > 0")
        expect(self.adam_epsilon > 0, "adam_epsilon", "> 0")
        expect(self.divergence_factor == 0 or self.divergence_factor > 1, "divergence_factor",
               "0 (off) or a multiple > 1 of the running mean loss")
        expect(self.weight_decay_rate >= 0, "weight_decay_rate", ">= 0")
        expect(self.distribution_strategy in STRATEGIES, "distribution_strategy", f"one of {STRATEGIES}")
        expect(self.distribution_strategy != "tpu" or bool(self.tpu), "tpu",
               "a TPU name or grpc:// address with distribution_strategy='tpu'")
        expect(self.mixed_precision in MIXED_PRECISION, "mixed_precision", f"one of {MIXED_PRECISION}")
        ConfigError.check(problems, "training settings")
        return self

    def setup_warnings(self):
        """Settings that run but cannot train well (the loop logs them before starting)."""
        warnings = []
        if self.do_train and 0 < self.num_train_steps <= self.num_warmup_steps:
            warnings.append(
                f"num_warmup_steps={self.num_warmup_steps} >= num_train_steps={self.num_train_steps}: the "
                "learning rate never reaches its peak and the run ends while still warming up; warm up "
                "for about 10% of the steps")
        if self.do_train and self.learning_rate == 0:
            warnings.append("learning_rate=0: the weights will not change")
        return warnings
