"""SavedModel export: tensor and raw-text serving signatures that need only TF and tf-text."""
