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
                        help="A question without a prediction is an error (default: it scores 0, and is counted).")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with open(args.data_file, encoding="utf-8") as f:
        data = json.load(f)
    with open(args.pred_file, encoding="utf-8") as f:
        predictions = json.load(f)
    version = args.version or ("1.1" if str(data.get("version", "")).startswith("1.") else "2.0")
    missing = squad_evaluation.missing_predictions(data["data"], predictions)
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        if args.strict:
            sys.exit(f"error: {args.pred_file} has no prediction for {len(missing)} question(s) of "
                     f"{args.data_file} ({shown}); predict every question or drop --strict")
        print(f"warning: {len(missing)} question(s) of {args.data_file} have no prediction in {args.pred_file} "
              f"({shown}); each scores 0", file=sys.stderr)
    if version == "1.1":
        result = squad_evaluation.evaluate_v1(data["data"], predictions)
    else:
        na_probs = None
        if args.na_prob_file:
            with open(args.na_prob_file, encoding="utf-8") as f:
                na_probs = json.load(f)
        result = squad_evaluation.evaluate_v2(data["data"], predictions, na_probs, args.na_prob_thresh)
        if na_probs is not None:
            squad_evaluation.add_best_thresholds(result, data["data"], predictions, na_probs)
    if args.out_file:
        with atomic_open(args.out_file, "w") as f:
            json.dump(result, f)
    else:
        print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
