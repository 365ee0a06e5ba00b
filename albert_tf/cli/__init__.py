"""The command lines: absl flags live here and nowhere else in the package.

One module per command, each runnable as `python -m albert_tf.cli.NAME` and
installed as a console script (setup.cfg):

| command | module | what it does |
|---|---|---|
| albert-pretrain | pretrain | MLM + SOP pretraining (`--demo`: the embedded demo) |
| albert-classifier | classifier | GLUE/CLUE/generic classification and regression |
| albert-squad | squad | SQuAD v1.1/v2.0 |
| albert-race | race | RACE multiple choice |
| albert-ner | ner | token classification (NER, POS) on CoNLL files |
| albert-create-pretraining-data | create_pretraining_data | text -> pretraining TFRecords |
| albert-train-sentencepiece | train_sentencepiece | an ALBERT-style SentencePiece model |
| albert-export | export_model (also export_savedmodel) | a checkpoint -> SavedModel, ONNX or LiteRT |
| albert-convert | convert_checkpoint | original layout <-> Hugging Face <-> keras-hub <-> .keras |
| albert-squad-eval | squad_eval | the official SQuAD v1.1/v2.0 scores |
| albert-serve | serve | exports over HTTP: TF Serving REST, Open Inference Protocol, dynamic batching |

Each turns its flags into the library's config objects and calls the
library; flag groups several commands share are in `flag_groups`, start-up,
`--help` (the command's own flags), what reaches the terminal and error handling
in `console`.
"""
