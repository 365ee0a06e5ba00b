"""Every task the training loop runs, and the fine-tuning data, metrics and scoring they use.

- `task.Task` is the interface; `registry.TASKS` / `create_task(name, ...)` list every task:
  `pretraining`, `classifier` (GLUE/CLUE/generic), `squad` (v1.1/v2.0), `race`, `token_classification`
  (CoNLL files: NER, chunking, POS).
- `NAME_config.py`: each task's settings (dataclasses, no TensorFlow); `NAME_task.py`: the task, whose
  `kind` names its row in `albert_tf.models.model_kinds` (model class and serving module);
  `finetuning_task.FinetuningTask`: what the fine-tuning tasks share.
- `pretraining_objective` / `finetuning_objectives`: each task's loss and metrics for the `Trainer`.
- TensorFlow-free helpers: `classification_tasks` (GLUE/CLUE readers), `metrics`, `squad_data`,
  `squad_postprocessing`, `squad_evaluation` (the official scores), `race_data`, `conll_data`.

Import the modules directly; this package imports nothing itself.
"""
