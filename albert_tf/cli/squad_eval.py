r"""Score SQuAD predictions like the official evaluation scripts (v2.0 interface).

    albert-squad-eval dev-v2.0.json predictions.json --na-prob-file null_odds.json
    albert-squad-eval dev-v1.1.json predictions.json      # a v1.1 file: exact_match and f1

Arguments and output follow the official `evaluate-v2.0.py`: DATA_FILE,
PRED_FILE, --out-file/-o, --na-prob-file/-n, --na-prob-thresh/-t (1.0); the
JSON printed on stdout has the same keys (exact, f1, total, HasAns_*,
NoAns_*, and best_exact/best_f1 with thresholds given --na-prob-file). A
data file whose "version" is 1.1 is scored as `evaluate-v1.1.py` does
(`{"exact_match": ..., "f1": ...}`); --version forces either.
"""

import argparse
import json
import sys


from albert_tf.outputs.atomic_files import atomic_open
from albert_tf.tasks import squad_evaluation
from albert_tf.tasks.squad_evaluation import shown_ids


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Official SQuAD EM/F1 (v2.0 interface; also v1.1).")
    parser.add_argument("data_file", metavar="data.json", help="Input data JSON file.")
    parser.add_argument("pred_file", metavar="pred.json", help="Model predictions.")
    parser.add_argument("--out-file", "-o", metavar="eval.json",
                        help="Write accuracy metrics to file (default is stdout).")
    parser.add_argument("--na-prob-file", "-n", metavar="na_prob.json",
                        help="Model estimates of probability of no answer.")
    parser.add_argument("--na-prob-thresh", "-t", type=float, default=1.0,
                        help='Predict "" if no-answer probability exceeds this (default = 1.0).')
    parser.add_argument("--version", choices=["1.1", "2.0"], help="Force the scoring rules (default: the data file's).")
    parser.add_argument("--strict", action="store_true",
                        help="A question without a prediction, or a prediction without a no-answer probability in "
                             "--na-prob-file, is an error (default: a warning; the question scores 0).")
    return parser.parse_args(argv)


def read_json(path, what):
    """The JSON in `path`; a missing, unreadable, empty or malformed file is one ValueError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read the {what} file ({error})") from None
    if not text.strip():
        raise ValueError(f"{path}: the {what} file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the {what} file is not valid JSON ({error.msg} at line {error.lineno}, column "
                         f"{error.colno}); a truncated or partly written file?") from None


def evaluate(args):
    """The official scores of args.pred_file on args.data_file (the parsed arguments)."""
    data = read_json(args.data_file, "SQuAD data")
    dataset = squad_evaluation.check_dataset(data, args.data_file)
    predictions = squad_evaluation.check_id_map(read_json(args.pred_file, "predictions"), args.pred_file,
                                                "answer text", str)
    version = args.version or ("1.1" if str(data.get("version", "")).startswith("1.") else "2.0")
    questions = set(squad_evaluation.question_ids(dataset))
    unknown = [qid for qid in predictions if qid not in questions]
    if len(unknown) == len(predictions):
        raise ValueError(f"{args.pred_file}: none of its {len(predictions)} prediction(s) is for a question of "
                         f"{args.data_file} (ids such as {shown_ids(unknown)}); predictions and data must come from "
                         "the same file")
    if unknown:
        print(f"warning: {len(unknown)} prediction(s) in {args.pred_file} are for no question of {args.data_file} "
              f"({shown_ids(unknown)}); they are ignored", file=sys.stderr)
    missing = squad_evaluation.missing_predictions(dataset, predictions)
    if missing:
        message = (f"{args.pred_file} has no prediction for {len(missing)} question(s) of {args.data_file} "
                   f"({shown_ids(missing)})")
        if args.strict:
            raise ValueError(message + "; predict every question or drop --strict")
        print(f"warning: {message}; each scores 0", file=sys.stderr)
    if version == "1.1":
        try:
            return squad_evaluation.evaluate_v1(dataset, predictions)
        except ValueError as error:
            raise ValueError(f"{args.data_file}: {error}; score it with --version 2.0 (or without --version)") from None
    na_probs = None
    if args.na_prob_file:
        na_probs = squad_evaluation.check_id_map(read_json(args.na_prob_file, "no-answer probabilities"),
                                                 args.na_prob_file, "no-answer probability", float)
        without = [qid for qid in predictions if qid in questions and qid not in na_probs]
        if without:
            message = (f"{args.na_prob_file} has no probability for {len(without)} predicted question(s) "
                       f"({shown_ids(without)})")
            if args.strict:
                raise ValueError(message + "; write one for every prediction or drop --strict")
            print(f"warning: {message}; the best-threshold search counts them as answered \"\" at every "
                  "threshold", file=sys.stderr)
    result = squad_evaluation.evaluate_v2(dataset, predictions, na_probs, args.na_prob_thresh)
    if na_probs is not None:
        squad_evaluation.add_best_thresholds(result, dataset, predictions, na_probs)
    return dict(result)


def main(argv=None):
    """The `albert-squad-eval` command: prints (or writes) the scores; returns the exit status."""
    args = parse_args(argv)
    try:
        result = evaluate(args)
        if args.out_file:
            with atomic_open(args.out_file, "w") as f:
                json.dump(result, f)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.out_file:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
