"""A student that starts from the teacher's weights: its embeddings, pooler, head and, for each of its
transformer groups, the group of the teacher layer its first layer is mapped to (the layer map).

TinyBERT and DistilBERT start students this way where the sizes allow it (DistilBERT takes every other layer
of BERT-base); ALBERT's groups make it a copy per group: the student's group g takes the teacher group that
computes the teacher layer paired with the first student layer of g. Widths, head counts, the embedding
size, the blocks per group and the layer-norm layout must match; the number of layers and groups may not.
"""

import re

from albert_tf.checkpoints.variable_names import model_variables
from albert_tf.errors import ConfigError

_GROUP = re.compile(r"/group_(\d+)/")
_SHAPE_FIELDS = ("vocab_size", "embedding_size", "hidden_size", "intermediate_size", "num_attention_heads",
                 "inner_group_num", "max_position_embeddings", "type_vocab_size", "ln_type", "hidden_act")


def copy_teacher_layers(student, teacher, layer_pairs):
    """Assigns the teacher's weights to `student` (see the module docstring); `layer_pairs` as
    `layer_map.parse_layer_map` gives them. Returns {student group: teacher group}."""
    s_config, t_config = student.encoder.config, teacher.encoder.config
    different = [f"{name} {getattr(s_config, name)} (teacher {getattr(t_config, name)})" for name in _SHAPE_FIELDS
                 if getattr(s_config, name, None) != getattr(t_config, name, None)]
    if different:
        raise ConfigError("student_init=teacher_layers needs the teacher's sizes; the student's differ: "
                          + ", ".join(different) + ". Initialise it at random or from a general-distilled student")
    sources = {}
    for s_layer, t_layer in sorted(layer_pairs):
        if s_layer and t_layer:
            sources.setdefault(s_config.group_of_layer(s_layer - 1), t_config.group_of_layer(t_layer - 1))
    missing = sorted(set(range(s_config.num_hidden_groups)) - set(sources))
    if missing:
        raise ConfigError(f"student_init=teacher_layers: no layer of student group(s) {missing} is in the layer map; "
                          "pair one of its layers with a teacher layer")
    (s_encoder, s_heads), (t_encoder, t_heads) = model_variables(student), model_variables(teacher)
    names = {**{name: _GROUP.sub(lambda m: f"/group_{sources[int(m.group(1))]}/", name) for name in s_encoder},
             **{name: name for name in s_heads}}
    teacher_variables = {**t_encoder, **t_heads}
    students = {**s_encoder, **s_heads}
    for name, variable in students.items():
        source = teacher_variables.get(names[name])
        if source is None or tuple(source.shape) != tuple(variable.shape):
            raise ConfigError(f"student_init=teacher_layers: the teacher has no {names[name]} of shape "
                              f"{tuple(variable.shape)} for the student's {name}")
    for name, variable in students.items():
        variable.assign(teacher_variables[names[name]])
    return sources
