"""Runs SavedModel signatures in a fresh process that imports only TensorFlow and tensorflow-text.

    python savedmodel_reload.py EXPORT_DIR REQUESTS.json OUTPUTS.npz

REQUESTS.json: {"signature name": {"input name": nested list}}; strings stay
strings, numbers become int32. Outputs are saved as "<signature>/<output>".
"""

import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tf-text ops the graph uses)


def main(export_dir, requests_file, outputs_file):
    model = tf.saved_model.load(export_dir)
    with open(requests_file, encoding="utf-8") as f:
        requests = json.load(f)
    outputs = {}
    for signature, inputs in requests.items():
        tensors = {name: tf.constant(value) if isinstance(np.asarray(value).flat[0], str)
                   else tf.constant(value, tf.int32) for name, value in inputs.items()}
        for name, value in model.signatures[signature](**tensors).items():
            outputs[f"{signature}/{name}"] = value.numpy()
    assert not any(name == "albert_tf" or name.startswith("albert_tf.") for name in sys.modules)
    np.savez(outputs_file, **outputs)


if __name__ == "__main__":
    main(*sys.argv[1:4])
