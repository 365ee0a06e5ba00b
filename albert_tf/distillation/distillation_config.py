"""The settings of a distillation run (no TensorFlow; field names are the flag names of albert-distill)."""

import dataclasses
from typing import Optional

from albert_tf.albert_config import PRESETS, AlbertConfig
from albert_tf.config_fields import setting
from albert_tf.errors import ConfigError

TEACHER_DTYPES = ("float32", "bfloat16")
STUDENT_INITS = ("random", "teacher_layers")


@dataclasses.dataclass
class DistillationConfig:
    """Which teacher, and how much each loss counts (a weight of 0 turns a loss off)."""

    teacher_checkpoint: Optional[str] = setting(
        None, "The teacher: an original-layout checkpoint with albert_config.json beside it (a run's "
              "export/model.ckpt-best, a Google or albert_zh release) or a Hugging Face folder.")
    teacher_dtype: str = setting("float32", "The teacher's compute dtype (bfloat16: faster where the CPU or GPU "
                                            "has it; the student trains in the run's precision).",
                                 choices=TEACHER_DTYPES)
    temperature: float = setting(1.0, "Softmax temperature of the soft targets (their loss is scaled by T^2).")
    soft_target_weight: float = setting(1.0, "Soft targets: KL to the teacher's predictions (DistilBERT; "
                                             "a regressor: MSE to its scores).")
    hard_label_weight: float = setting(0.0, "The task's own loss on the gold labels.")
    hidden_weight: float = setting(0.0, "TinyBERT: MSE between mapped layers' outputs (through a learned "
                                        "projection when widths differ).")
    embedding_weight: float = setting(0.0, "TinyBERT: MSE between the embedding outputs (projected likewise).")
    attention_score_weight: float = setting(0.0, "TinyBERT: MSE between mapped layers' attention logits "
                                                 "(needs equal head counts).")
    attention_kl_weight: float = setting(0.0, "MiniLM: KL between mapped layers' attention distributions "
                                              "(needs equal head counts).")
    value_relation_weight: float = setting(0.0, "MiniLM: KL between mapped layers' value-value relations.")
    query_key_relation_weight: float = setting(0.0, "MiniLM v2: KL between query-query and key-key relations "
                                                    "(each half this weight).")
    relation_heads: Optional[int] = setting(None, "MiniLM v2: regroup both models' heads into this many relation "
                                                  "heads (lets head counts differ); unset: the heads as they are.")
    student_init: str = setting("random", "How the student starts (before --init_checkpoint, which wins): random, "
                                          "or teacher_layers (the teacher's embeddings, head and, per student group, "
                                          "the group of its mapped teacher layer; sizes must match).",
                                choices=STUDENT_INITS)
    augment_file: Optional[str] = setting(None, "Unlabelled in-domain text added to the training examples of a "
                                                "classifier distillation, one example a line (text, or text TAB "
                                                "text); the teacher labels it (the hard-label loss skips it).")
    student_preset: Optional[str] = setting(
        None, "The student's shape from a released configuration (e.g. zh_tiny: 4 layers x 312, base_v2), with the "
              "teacher's vocabulary, positions and segment types; used when --albert_config_file is not given.")
    student_num_hidden_layers: Optional[int] = setting(None, "The student's layers (default: the preset's, else "
                                                             "the teacher's; not with --albert_config_file).")
    student_hidden_size: Optional[int] = setting(None, "The student's hidden width (default: the preset's, else the "
                                                       "teacher's).")
    student_num_attention_heads: Optional[int] = setting(None, "The student's attention heads (default: the "
                                                               "preset's, else the teacher's).")
    student_intermediate_size: Optional[int] = setting(None, "The student's feed-forward width (default: 4 x "
                                                             "--student_hidden_size when given, else the preset's "
                                                             "or the teacher's).")
    student_num_hidden_groups: Optional[int] = setting(None, "The student's groups of shared layers (1: ALBERT's "
                                                             "sharing; its layer count: unshared; default: the "
                                                             "preset's, else the teacher's, at most the layers).")
    student_embedding_size: Optional[int] = setting(None, "The student's embedding width (default: the preset's, "
                                                          "else the teacher's).")
    layer_map: str = setting("uniform", "Student:teacher layer pairs for the layer losses: uniform (TinyBERT), "
                                        "last (MiniLM) or pairs such as \"1:3,2:6,3:9,4:12\".")

    STUDENT_SHAPE = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size",
                     "num_hidden_groups", "embedding_size")
    # What a preset gives a student: its shape, not its vocabulary or positions (the teacher's tokenizer feeds both)
    # nor its layout variant (the student is written in the teacher's).
    PRESET_SHAPE = STUDENT_SHAPE + ("inner_group_num", "hidden_act")
    LAYER_WEIGHTS = ("hidden_weight", "attention_score_weight", "attention_kl_weight", "value_relation_weight",
                     "query_key_relation_weight")

    def validate(self):
        problems = []
        if not self.teacher_checkpoint:
            problems.append("teacher_checkpoint is not set: give the teacher's checkpoint (e.g. a fine-tuning "
                            "run's export/model.ckpt-best) or Hugging Face folder")
        weights = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name.endswith("_weight")}
        negative = [f"{name}={value}" for name, value in weights.items() if value < 0]
        if negative:
            problems.append(f"{', '.join(negative)}: weights are >= 0 (0 turns a loss off)")
        if not any(weights.values()):
            problems.append("every loss weight is 0: set soft_target_weight (the usual start) or another")
        if self.temperature <= 0:
            problems.append(f"temperature={self.temperature}: expected > 0 (1 = the plain softmax)")
        shape = {f"student_{name}": getattr(self, f"student_{name}") for name in self.STUDENT_SHAPE}
        small = [f"{name}={value}" for name, value in shape.items() if value is not None and value < 1]
        if small:
            problems.append(f"{', '.join(small)}: expected >= 1")
        if self.relation_heads is not None and self.relation_heads < 1:
            problems.append(f"relation_heads={self.relation_heads}: expected >= 1")
        ConfigError.check(problems, "distillation settings")
        return self

    def shapes_student(self):
        """Whether the student's shape is given here (a preset or a student_* size) rather than by a config file."""
        return self.student_preset is not None or any(
            getattr(self, f"student_{name}") is not None for name in self.STUDENT_SHAPE)

    def student_config(self, teacher_config):
        """The student's AlbertConfig: the teacher's `teacher_config` with the preset's shape and the student_*
        sizes given (a shape that does not add up is a ConfigError naming the settings)."""
        values = teacher_config.to_dict()
        given = {}
        if self.student_preset is not None:
            if self.student_preset not in PRESETS:
                raise ConfigError(f"student_preset={self.student_preset!r}: expected one of {sorted(PRESETS)}")
            preset = AlbertConfig.from_preset(self.student_preset).to_dict()
            given.update({name: preset[name] for name in self.PRESET_SHAPE if name in preset})
        if self.student_hidden_size is not None and self.student_intermediate_size is None:
            given["intermediate_size"] = 4 * self.student_hidden_size
        given.update({name: getattr(self, f"student_{name}") for name in self.STUDENT_SHAPE
                      if getattr(self, f"student_{name}") is not None})
        values.update(given)
        if "num_hidden_layers" in given and "num_hidden_groups" not in given and "num_hidden_groups" in values:
            values["num_hidden_groups"] = min(values["num_hidden_groups"], values["num_hidden_layers"])
        try:
            return AlbertConfig.from_dict(values, source="the teacher's config with it")
        except ValueError as error:
            flags = ", ".join([f"student_preset={self.student_preset}"] * (self.student_preset is not None) + [
                f"student_{name}={getattr(self, f'student_{name}')}" for name in self.STUDENT_SHAPE
                if getattr(self, f"student_{name}") is not None])
            raise ConfigError(f"the student's shape ({flags or 'the teacher`s'}) is not a model: {error}") from None

    def uses_layers(self):
        """Whether a layer loss is on (the layer map and the internals are needed)."""
        return any(getattr(self, name) for name in self.LAYER_WEIGHTS)

