"""AlbertConfig: release files round-trip, presets equal the release files,
invalid values are refused with a message naming the field."""

import glob
import json
import os

import pytest

from albert_tf import AlbertConfig
from albert_tf.albert_config import PRESETS

# Preset name -> release config file in tests/data.
PRESET_FILES = {
    "base_v1": "albert_configs/google_en_v1/base/config.json",
    "large_v1": "albert_configs/google_en_v1/large/config.json",
    "xlarge_v1": "albert_configs/google_en_v1/xlarge/config.json",
    "xxlarge_v1": "albert_configs/google_en_v1/xxlarge/config.json",
    "google_zh_base": "albert_configs/google_zh/albert_base_zh/albert_config.json",
    "zh_tiny": "albert_zh_brightmart/albert_config/albert_config_tiny.json",
    "zh_base": "albert_zh_brightmart/albert_config/albert_config_base.json",
    "zh_large": "albert_zh_brightmart/albert_config/albert_config_large.json",
    "zh_xlarge": "albert_zh_brightmart/albert_config/albert_config_xlarge.json",
    "zh_xxlarge": "albert_zh_brightmart/albert_config/albert_config_xxlarge.json",
    "zh_tiny_google": "albert_zh_brightmart/albert_config/albert_config_tiny_google.json",
    "zh_small_google": "albert_zh_brightmart/albert_config/albert_config_small_google.json",
}


def release_files(test_data):
    return sorted(glob.glob(os.path.join(test_data, "albert_configs", "**", "*.json"),
                            recursive=True)
                  + glob.glob(os.path.join(test_data, "albert_zh_brightmart", "albert_config",
                                           "albert_config*.json")))


# brightmart's tiny_google_fast file sets 12 groups for 4 layers. The original
# code would build only the groups int(l / L * G) reaches (0, 3, 6, 9); the
# validation rule 1 <= G <= L refuses it, with a message naming the file.
OUT_OF_RANGE = "albert_config_tiny_google_fast.json"


def test_every_release_file_round_trips(test_data, tmp_path):
    files = release_files(test_data)
    assert len(files) == 14
    for path in files:
        if path.endswith(OUT_OF_RANGE):
            with pytest.raises(ValueError, match=f"{OUT_OF_RANGE}.*num_hidden_groups must "
                                                 r"satisfy .* got 12"):
                AlbertConfig.from_json_file(path)
            continue
        config = AlbertConfig.from_json_file(path)
        with open(path) as f:
            assert config.to_dict() == json.load(f), path
        config.to_json_file(tmp_path / "albert_config.json")
        assert AlbertConfig.from_json_file(tmp_path / "albert_config.json") == config


@pytest.mark.parametrize("name", sorted(PRESET_FILES))
def test_preset_equals_release_file(name, test_data):
    release = AlbertConfig.from_json_file(os.path.join(test_data, PRESET_FILES[name]))
    assert AlbertConfig.from_preset(name) == release


def test_v2_presets_differ_from_v1_only_in_dropout_and_layers_to_keep():
    for size in ("base", "large", "xlarge"):
        v1 = AlbertConfig.from_preset(f"{size}_v1").to_dict()
        v2 = AlbertConfig.from_preset(f"{size}_v2").to_dict()
        changed = {key for key in v1.keys() | v2.keys() if v1.get(key) != v2.get(key)}
        expected = {"hidden_dropout_prob", "attention_probs_dropout_prob", "layers_to_keep"}
        if size == "xlarge":
            expected.add("num_attention_heads")  # the v2 tarball's file says 32
        assert changed == expected, size
        assert v2["hidden_dropout_prob"] == v2["attention_probs_dropout_prob"] == 0


def test_variant_follows_ln_type_key():
    bright = AlbertConfig.from_preset("zh_tiny")
    assert bright.variant == "bright" and bright.ln_type == "postln"
    assert AlbertConfig.from_preset("zh_xxlarge").ln_type == "preln"
    assert AlbertConfig.from_preset("zh_tiny_google").variant == "google"
    assert "ln_type" not in AlbertConfig.from_preset("base_v2").to_dict()
    assert len(PRESETS) == 16


def test_overrides_and_unknown_preset():
    assert AlbertConfig.from_preset("base_v1", hidden_dropout_prob=0.0).hidden_dropout_prob == 0
    with pytest.raises(ValueError, match="Unknown ALBERT preset 'base'.*base_v1"):
        AlbertConfig.from_preset("base")


GOOD = dict(vocab_size=100, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
            intermediate_size=64)


@pytest.mark.parametrize("change, message", [
    (dict(num_attention_heads=5), r"hidden_size \(32\) must be divisible by num_attention_heads \(5\)"),
    (dict(num_hidden_groups=5),
     r"num_hidden_groups must satisfy 1 <= num_hidden_groups <= num_hidden_layers \(4\), got 5"),
    (dict(num_hidden_groups=0), "num_hidden_groups must satisfy"),
    (dict(hidden_size=0), "hidden_size must be a positive integer, got 0"),
    (dict(vocab_size=-3), "vocab_size must be a positive integer"),
    (dict(intermediate_size=6.5), "intermediate_size must be a positive integer"),
    (dict(hidden_act="swish"), r"hidden_act 'swish' is not one of"),
    (dict(hidden_dropout_prob=1.0), r"hidden_dropout_prob must be in \[0, 1\), got 1.0"),
    (dict(attention_probs_dropout_prob=-0.1), "attention_probs_dropout_prob must be in"),
    (dict(ln_type="preln"), "bright.*"),
])
def test_invalid_values_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        AlbertConfig(**dict(GOOD, **change))


def test_several_problems_are_reported_together():
    with pytest.raises(ValueError) as error:
        AlbertConfig(**dict(GOOD, hidden_size=30, hidden_act="elu", hidden_dropout_prob=2))
    assert str(error.value).count(";") == 2


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="ALBERT config file not found: .*nope.json"):
        AlbertConfig.from_json_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not a valid UTF-8 JSON file"):
        AlbertConfig.from_json_file(bad)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"vocab_size": 10, "hidden_size": 8}))
    with pytest.raises(ValueError, match=r"partial.json: missing required keys \['num_hidden_layers'"):
        AlbertConfig.from_json_file(partial)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(dict(GOOD, num_attention_heads=3)))
    with pytest.raises(ValueError, match="wrong.json: Invalid ALBERT config: hidden_size"):
        AlbertConfig.from_json_file(wrong)


def test_group_of_layer_is_the_original_formula():
    config = AlbertConfig(**dict(GOOD, num_hidden_layers=12, num_hidden_groups=5))
    assert [config.group_of_layer(i) for i in range(12)] == [int(i / 12 * 5) for i in range(12)]
    assert [config.group_of_layer(i) for i in range(12)] == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4]


def test_the_shipped_config_files_are_written_from_the_presets(tmp_path):
    """flags/configs/*.json are generated from PRESETS (tools/write_config_files.py), never edited by hand."""
    import subprocess
    import sys

    from conftest import REPO

    tool = os.path.join(REPO, "tools", "write_config_files.py")
    assert subprocess.run([sys.executable, tool, "--check"], capture_output=True, timeout=120).returncode == 0
    # The check fails on a file that drifted: run it on a copy of the tool whose folder holds an edited file.
    (tmp_path / "tools").mkdir()
    (tmp_path / "flags" / "configs").mkdir(parents=True)
    text = open(tool, encoding="utf-8").read().replace(
        "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))",
        f"sys.path.insert(0, {REPO!r})")
    (tmp_path / "tools" / "write_config_files.py").write_text(text)
    for name in os.listdir(os.path.join(REPO, "flags", "configs")):
        (tmp_path / "flags" / "configs" / name).write_text(
            open(os.path.join(REPO, "flags", "configs", name), encoding="utf-8").read())
    edited = tmp_path / "flags" / "configs" / "albert_base.json"
    edited.write_text(edited.read_text().replace('"hidden_size": 768', '"hidden_size": 769'))
    result = subprocess.run([sys.executable, str(tmp_path / "tools" / "write_config_files.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "albert_base.json differs from PRESETS['base_v2']" in result.stderr
