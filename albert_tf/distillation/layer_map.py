"""Which teacher layer each student layer learns from.

TinyBERT's uniform map: with M student and N teacher layers, student layer m (1-based) learns from teacher
layer m * N / M, so 4 student layers of a 12-layer teacher learn from layers 3, 6, 9 and 12. Where M does not
divide N, the same relative depth rounded up, ceil(m * N / M): 4 student layers of 6 learn from 2, 3, 5 and 6
(the last from the last, as TinyBERT's). MiniLM distils the last layer only (`last_layer_map`). An explicit
map, `"1:3,2:6,4:12"`, pairs any layers (each student layer at most once); layer 0 names the embeddings.
"""

from albert_tf.errors import ConfigError


def uniform_layer_map(teacher_layers, student_layers):
    """[(student layer, teacher layer)] 1-based, TinyBERT's g(m) = m * N / M (rounded up)."""
    return [(m, -(-m * teacher_layers // student_layers)) for m in range(1, student_layers + 1)]


def last_layer_map(teacher_layers, student_layers):
    """MiniLM: the student's last layer learns from the teacher's last layer."""
    return [(student_layers, teacher_layers)]


def parse_layer_map(text, teacher_layers, student_layers):
    """The pairs of `"student:teacher,..."`, "uniform" or "last"; a ConfigError naming the bad pair."""
    if text in (None, "", "uniform"):
        return uniform_layer_map(teacher_layers, student_layers)
    if text == "last":
        return last_layer_map(teacher_layers, student_layers)
    pairs, seen = [], set()
    for part in text.split(","):
        student, _, teacher = part.strip().partition(":")
        if not (student.strip().isdigit() and teacher.strip().isdigit()):
            raise ConfigError(f"layer_map={text!r}: {part.strip()!r} is not STUDENT:TEACHER (e.g. \"4:12\"); "
                              "expected pairs, \"uniform\" or \"last\"")
        student, teacher = int(student), int(teacher)
        if not (0 <= student <= student_layers and 0 <= teacher <= teacher_layers):
            raise ConfigError(f"layer_map={text!r}: {student}:{teacher} is out of range: the student has layers "
                              f"0 (embeddings) to {student_layers}, the teacher 0 to {teacher_layers}")
        if student in seen:
            raise ConfigError(f"layer_map={text!r}: student layer {student} appears twice")
        seen.add(student)
        pairs.append((student, teacher))
    return sorted(pairs)
