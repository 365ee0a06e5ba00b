"""The optimizers `create_optimizer` builds, by name (no TensorFlow: configs and flags read it)."""

OPTIMIZERS = ("lamb", "adamw")  # LAMB (ALBERT pretraining), AdamW (BERT's; the original fine-tuning)
