"""The layout rules: flags only in albert_tf/cli, no import cycles, every flagfile accepted, light CLIs."""

import ast
import glob
import os
import re
import sys

import pytest

from conftest import REPO
import processes

PACKAGE = os.path.join(REPO, "albert_tf")


def package_modules():
    """{module name: path} of every module in albert_tf."""
    modules = {}
    for path in glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True):
        parts = os.path.relpath(path, REPO)[:-3].split(os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports(path, modules):
    """(module-level, function-level) albert_tf modules `path` imports."""
    top, nested = set(), set()
    tree = ast.parse(open(path, encoding="utf-8").read())
    function_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                      for n in ast.walk(f)}
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from package import submodule` depends on the submodule (and the package).
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found = {t for t in targets if t in modules}
        (nested if id(node) in function_nodes else top).update(found)
    return top, nested


def test_flags_only_in_the_cli_package():
    offenders = []
    for name, path in package_modules().items():
        if name.startswith("albert_tf.cli"):
            continue
        text = open(path, encoding="utf-8").read()
        if re.search(r"absl\.flags|from absl import .*\bflags\b|\bFLAGS\b", text):
            offenders.append(name)
    assert offenders == []


def test_no_import_cycles_and_no_hidden_imports():
    modules = package_modules()
    graph, nested = {}, {}
    for name, path in modules.items():
        graph[name], nested[name] = imports(path, modules)
    # Function-level imports of the package are allowed only where a command starts TensorFlow
    # quietly first (albert_tf/cli), and for the exports whose packages are optional (onnx, onnxruntime,
    # ai-edge-litert: the deploy extra), imported when that format is asked for; anywhere else they
    # would hide a cycle.
    optional = {"albert_tf.export.model_export": {"albert_tf.export.onnx_export", "albert_tf.export.litert_export"}}
    assert {name: sorted(found - optional.get(name, set())) for name, found in nested.items()
            if found - optional.get(name, set()) and not name.startswith("albert_tf.cli")} == {}
    state, cycle = {}, []

    def visit(node, stack):
        state[node] = "open"
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycle.extend(stack[stack.index(child):] + [child] if child in stack else [node, child])
                return True
            if child not in state and visit(child, stack + [child]):
                return True
        state[node] = "done"
        return False

    for name in sorted(graph):
        if name not in state and visit(name, [name]):
            break
    assert cycle == []


def run_python(code, timeout=120):
    return processes.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_commands_start_without_tensorflow_and_help_exits_zero():
    modules = ["pretrain", "classifier", "squad", "race", "ner", "create_pretraining_data", "train_sentencepiece",
               "export_savedmodel", "export_model", "convert_checkpoint", "serve"]
    for module in modules:
        result = run_python(f"import sys; import albert_tf.cli.{module}; "
                            "assert 'tensorflow' not in sys.modules, sorted(sys.modules)")
        assert result.returncode == 0, (module, result.stderr[-2000:])
    for script in ("run_pretraining.py", "run_classifier.py", "run_squad.py", "run_race.py", "run_ner.py"):
        result = processes.run([sys.executable, script, "--helpfull"], capture_output=True, text=True,
                                timeout=60, cwd=REPO)
        assert result.returncode == 0 and "--output_dir" in result.stdout, (script, result.stderr[-2000:])


# Which command each shipped flagfile belongs to, and what a user adds on the command line.
FINETUNING_EXTRAS = ["--albert_config_file=cfg.json", "--output_dir=out", "--spm_model_file=spm.model"]
FLAGFILE_COMMANDS = {
    "pretrain": (["albert_*.flags", "demo.flags"], ["--input_file=data/*.tfrecord", "--output_dir=out"]),
    "classifier": (["glue/*.flags", "lcqmc.flags", "afqmc.flags"], FINETUNING_EXTRAS + ["--data_dir=data"]),
    "squad": (["squad_*.flags"], FINETUNING_EXTRAS + ["--train_file=t.json", "--predict_file=p.json"]),
    "race": (["race.flags"], FINETUNING_EXTRAS + ["--data_dir=RACE"]),
    "ner": (["conll2003_ner.flags"], FINETUNING_EXTRAS + ["--train_file=train.txt"]),
}


@pytest.mark.parametrize("command", sorted(FLAGFILE_COMMANDS))
def test_every_flagfile_is_accepted_by_its_command(command):
    patterns, extras = FLAGFILE_COMMANDS[command]
    files = sorted(f for p in patterns for f in glob.glob(os.path.join(REPO, "flags", p)))
    assert files, patterns
    code = f"""
import json
from albert_tf.cli import {command} as cli
for path in {files!r}:
    cli.FLAGS.unparse_flags()
    cli.FLAGS(["cli", "--flagfile=" + path] + {extras!r})
    task, training = cli.configs_from_flags()[:2]
    print(json.dumps({{"file": path, "steps": training.num_train_steps, "seq": task.max_seq_length,
                      "lr": training.learning_rate}}))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]
    parsed = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(parsed) == len(files)


def package_of(module):
    """albert_tf.training.trainer -> albert_tf.training; top-level modules (albert_tf.errors) stand alone."""
    return ".".join(module.split(".")[:2])


def test_no_package_imports_a_package_that_imports_it_back():
    """Packages form floors: a file-level check misses a loop through two files of each package."""
    modules = package_modules()
    edges = {}
    for name, path in modules.items():
        top, nested = imports(path, modules)
        for target in top | nested:
            if package_of(name) != package_of(target):
                edges.setdefault(package_of(name), {}).setdefault(package_of(target), (name, target))
    loops = sorted((a, b, edges[a][b], edges[b][a]) for a in edges for b in edges[a]
                   if a < b and a in edges.get(b, {}))
    assert loops == []  # (package, package, an import one way, an import the other way)


def test_the_library_prints_nothing():
    """Only albert_tf/cli decides what reaches the terminal; the library logs or returns what it did."""
    offenders = [name for name, path in package_modules().items() if not name.startswith("albert_tf.cli")
                 and re.search(r"(?<![\w.])print\(", open(path, encoding="utf-8").read())]
    assert offenders == []


# The floors of the package, lowest first: a package imports only packages on lower floors. Export sits
# below training and tasks: the loop writes the SavedModel at the end of a run and each task names its
# model kind's serving module, while exporting needs nothing from training or tasks. Serving sits above
# tasks (it packs text with the classification tasks' truncation rule).
FLOORS = [
    ["albert_tf.errors", "albert_tf.lazy_exports", "albert_tf.activations"],
    ["albert_tf.outputs", "albert_tf.config_fields"],
    ["albert_tf.albert_config", "albert_tf.tokenization", "albert_tf.layers", "albert_tf.optimization"],
    ["albert_tf.models"],
    ["albert_tf.checkpoints", "albert_tf.data"],
    ["albert_tf.export"],
    ["albert_tf.training"],
    ["albert_tf.tasks"],
    ["albert_tf.distillation", "albert_tf.serving"],
    ["albert_tf.cli", "albert_tf"],
]


def test_imports_only_go_down_the_floors():
    floor = {package: level for level, packages in enumerate(FLOORS) for package in packages}
    modules = package_modules()
    assert sorted({package_of(name) for name in modules} - set(floor)) == []  # a new package gets its floor
    upward = []
    for name, path in modules.items():
        top, nested = imports(path, modules)
        for target in top | nested:
            if package_of(name) != package_of(target) and floor[package_of(target)] >= floor[package_of(name)]:
                upward.append(f"{name} -> {target}")
    assert sorted(upward) == []
