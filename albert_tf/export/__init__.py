"""Exports of trained models: SavedModel, ONNX (ONNX Runtime) and LiteRT.

- `model_export.export_model(ExportConfig)`: one entry point for every format (`export_config`:
  the settings, no TensorFlow).
- `serving_module`: the SavedModel signatures of each model kind (tensor and raw-text, needing only
  TensorFlow and tensorflow-text to serve); `serving_module_for` picks the one the kind's row names
  (`albert_tf.models.model_kinds`); `savedmodel_export` builds and loads the model.
- `onnx_graph` / `onnx_export`: the ONNX graph in the form ONNX Runtime fuses, shared weights stored once,
  int8; `litert_export`: model.tflite with tensorflow-text's kernels for raw text.
- `text_packing`: `[CLS] A [SEP] B [SEP]` packing and truncation in the graph.
"""
