"""Regenerates the `tf_model.h5` folders here: the layout of Hugging Face's TensorFlow uploads.

transformers 5 has no TensorFlow classes, so this runs by hand with transformers 4.x and tf-keras
(tests never need them):

    pip install "tensorflow==2.21.*" "tf-keras~=2.21.0" "transformers>=4.50,<5"
    TF_USE_LEGACY_KERAS=1 python tests/data/hf/regenerate_tf.py

Each `tf_h5_<folder>/` is the PyTorch folder `<folder>/` (written by regenerate.py) loaded into the
TF class and written back with `save_pretrained` (`config.json` + `tf_model.h5`, the Keras 2 HDF5
weights whose names HF converts to its PyTorch names). `reference_outputs_tf.npz` holds what the TF
class computes on regenerate.py's inputs, as `tf_h5_<folder>/<output name>`.
"""

import json
import os
import shutil

import numpy as np
import transformers
from safetensors.numpy import load_file
from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDERS = {"sequence_classification": "TFAlbertForSequenceClassification",
           "pretraining": "TFAlbertForPreTraining"}


def main():
    inputs = dict(np.load(os.path.join(HERE, "reference_outputs.npz")))
    features = {name: inputs[name].astype(np.int32) for name in ("input_ids", "attention_mask", "token_type_ids")}
    references = {}
    for folder, class_name in FOLDERS.items():
        # from_pretrained(folder) of transformers 4.57 fails on the safetensors release of today ('safe_open
        # object is not iterable'): build the TF model and load the PyTorch tensors as NumPy arrays instead.
        config = transformers.AlbertConfig.from_pretrained(os.path.join(HERE, folder))
        model = getattr(transformers, class_name)(config)
        model(model.dummy_inputs, training=False)
        state = load_file(os.path.join(HERE, folder, "model.safetensors"))
        if "predictions.bias" in state:  # transformers 5 writes the tied decoder bias once, 4.x wants both names
            state.setdefault("predictions.decoder.bias", state["predictions.bias"])
        load_pytorch_state_dict_in_tf2_model(model, state, allow_missing_keys=False)
        out = model(features, output_hidden_states=True, training=False)
        references[f"tf_h5_{folder}/sequence_output"] = out.hidden_states[-1].numpy()
        for name in ("prediction_logits", "sop_logits", "logits"):
            if getattr(out, name, None) is not None:
                references[f"tf_h5_{folder}/{name}"] = out[name].numpy()
        path = os.path.join(HERE, f"tf_h5_{folder}")
        shutil.rmtree(path, ignore_errors=True)
        model.save_pretrained(path)
    np.savez_compressed(os.path.join(HERE, "reference_outputs_tf.npz"), **references)
    with open(os.path.join(HERE, "VERSIONS_TF.json"), "w") as f:
        import tensorflow as tf

        json.dump({"tensorflow": tf.__version__, "transformers": transformers.__version__}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
