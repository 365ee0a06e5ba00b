"""Fine-tuning tasks: data readers, feature builders, metrics and post-processing.

Nothing here imports TensorFlow; the runners feed the features to
`albert_tf.data.finetuning_dataset`.
"""
