"""An ONNX Runtime session of an export's model.onnx (float32 or int8), called with int32 token batches."""

import os

from albert_tf.errors import ConfigError


class OnnxRunner:
    """`runner({"input_ids": ..., "input_mask": ..., "segment_ids": ...})` -> {output name: array}.

    One session per model, `threads` intra-op threads and no spinning (idle threads sleep, so that several
    models and the event loop share the cores). Sessions are safe to call from one thread at a time, which is
    how `DynamicBatcher` calls them.
    """

    platform = "onnxruntime_onnx"  # the Open Inference Protocol's name for the runtime

    def __init__(self, path, threads):
        try:
            import onnxruntime
        except ImportError:
            raise ConfigError(f"{path}: serving ONNX exports needs onnxruntime: pip install onnxruntime "
                              "(or pip install 'albert-tf[serve]')") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if not os.path.exists(path):
            raise ConfigError(f"{path} is missing: expected the model.onnx of an albert-export --format=onnx folder")
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def output_width(self, name):
        """The last dimension of output `name` (a classifier's number of classes); None when there is none."""
        return next((o.shape[-1] for o in self.session.get_outputs() if o.name == name and len(o.shape) > 1), None)

    def __call__(self, batch):
        return dict(zip(self.outputs, self.session.run(self.outputs, {name: batch[name] for name in self.inputs})))
