"""The export command under its first name (tools/export_savedmodel.py): the same flags as
`albert_tf.cli.export_model`, whose --format defaults to saved_model."""

from albert_tf.cli.export_model import main, run  # noqa: F401

if __name__ == "__main__":
    run()
