r"""Fine-tune ALBERT on SQuAD v1.1 or v2.0 and write the official prediction files.

    albert-squad --flagfile=flags/squad_v2.flags --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
        --init_checkpoint=albert_base/model.ckpt-best --albert_config_file=albert_base/albert_config.json \
        --spm_model_file=albert_base/30k-clean.model --output_dir=out/squad2

(also `python run_squad.py ...` or `python -m albert_tf.cli.squad`). The task is
`albert_tf.tasks.squad_task` (windows, the v1/v2 heads, the official scores and the v2 threshold
search); the loop `albert_tf.training.training_loop`. tools/squad_eval.py (albert-squad-eval)
scores the written predictions like the official script.
"""

from absl import flags

from albert_tf.cli import console, flag_groups
from albert_tf.tasks.squad_config import SquadConfig

FLAGS = flags.FLAGS

flag_groups.define_finetuning_flags()
flags.DEFINE_string("train_file", None, "SQuAD JSON for training.")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to evaluate on (--do_eval) and predict (--do_predict).")
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD 2.0: questions may have no answer (the v2 head).")
flags.DEFINE_integer("doc_stride", 128, "Tokens between the starts of a paragraph's windows.")
flags.DEFINE_integer("max_query_length", 64, "Question tokens kept.")
flags.DEFINE_integer("n_best_size", 20, "Candidates per question in nbest_predictions.json.")
flags.DEFINE_integer("max_answer_length", 30, "Longest answer in tokens.")
flags.DEFINE_integer("start_n_top", 5, "v2 beam: starts kept.")
flags.DEFINE_integer("end_n_top", 5, "v2 beam: ends kept per start.")
flags.DEFINE_float("null_score_diff_threshold", None,
                   "v2: answer \"\" when the no-answer score exceeds this; unset: the best threshold "
                   "found on --predict_file during evaluation (as the original), else 0.")


def configs_from_flags():
    """(task config, training config) from the parsed flags, validated."""
    return flag_groups.finetuning_configs(SquadConfig())


def main(argv):
    del argv
    console.run_job("squad", *configs_from_flags())


def run():
    """The `albert-squad` command."""
    console.run(main)


if __name__ == "__main__":
    run()
