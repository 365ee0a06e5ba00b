"""Knowledge distillation: a small, fast student from any albert-tf teacher (issue 31, in progress).

- `distillation_losses`: soft targets, regression MSE, hidden-state, attention-score (TinyBERT),
  attention-distribution and self-relation (MiniLM) losses, each written once, masked to real tokens.
- `layer_map`: which teacher layer each student layer learns from (uniform, last, or explicit).

The teacher's and student's internals come from `AlbertEncoder.internals`.
Import the modules directly; this package imports nothing itself.
"""
