"""Hugging Face ALBERT folders in and out, without PyTorch or transformers.

A folder holds `config.json`, the weights (`model.safetensors`, sharded
`model.safetensors.index.json` + shards, or the older `pytorch_model.bin`
and `tf_model.h5`) and usually `spiece.model`. Weights are read with
safetensors' NumPy API; `tf_model.h5` (HF's TensorFlow classes, Keras 2
HDF5 weights) with h5py; `pytorch_model.bin` only when torch is installed,
with `torch.load(weights_only=True)` (never unpickling arbitrary objects).

    model = load_hf_model("albert-base-v2-sst2/")     # the class from config.json, weights loaded
    loaded = read_hf_model("albert-base-v2-sst2/")    # the same, with .report (LoadReport) and .info (labels)
    save_hf_model(model, "exported/", spm_model_file="30k-clean.model")

Loads are strict and all-or-nothing like `load_checkpoint`: the HF tensors
are renamed to the original names (`hf_names`) and go through the same
`assign_tensors`, which lists missing, unexpected and mis-shaped tensors.
"""

import collections
import importlib.util
import json
import os
import re
import shutil

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from albert_tf.checkpoints import variable_names
from albert_tf.checkpoints.hf_config import HfHeadInfo, config_from_hf, config_to_hf
from albert_tf.checkpoints.hf_names import TIED, hf_names
from albert_tf.checkpoints.original_checkpoint import CheckpointMismatchError, assign_tensors
from albert_tf.errors import ConfigError
from albert_tf.models.model_config import albert_config_of
from albert_tf.models.model_kinds import HF_ARCHITECTURES, kind_of, kind_of_hf_architecture, recognise_hf
from albert_tf.outputs.atomic_files import atomic_path, with_default_mode

SAFETENSORS, SAFETENSORS_INDEX, TORCH_WEIGHTS = "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"
TF_WEIGHTS = "tf_model.h5"


class HfWeights:
    """The tensors of an HF folder or weights file: `shapes` {name: shape} and `read(name)` -> float32 array."""

    def __init__(self, path):
        self.path = os.fspath(path)
        folder = self.path if os.path.isdir(self.path) else os.path.dirname(self.path)
        self.folder = folder
        if os.path.isdir(self.path):
            # safetensors first; of the older files the PyTorch one where torch can read it, else tf_model.h5
            order = [SAFETENSORS, SAFETENSORS_INDEX, TORCH_WEIGHTS, TF_WEIGHTS]
            if importlib.util.find_spec("torch") is None:
                order = [SAFETENSORS, SAFETENSORS_INDEX, TF_WEIGHTS, TORCH_WEIGHTS]
            for name in order:
                if os.path.exists(os.path.join(self.path, name)):
                    self.file = os.path.join(self.path, name)
                    break
            else:
                raise FileNotFoundError(
                    f"{self.path} holds no Hugging Face weights: expected {SAFETENSORS}, {SAFETENSORS_INDEX} "
                    f"(sharded), {TORCH_WEIGHTS} or {TF_WEIGHTS}")
        elif os.path.isfile(self.path):
            self.file = self.path
        else:
            raise FileNotFoundError(f"no Hugging Face folder or weights file at {self.path}")
        self._files = {}  # shard file -> {name: (file, key)}
        name = os.path.basename(self.file)
        if name.endswith(".safetensors"):
            self._open_safetensors([self.file])
        elif name.endswith(".index.json"):
            with open(self.file, encoding="utf-8") as f:
                weight_map = json.load(f)["weight_map"]
            self._open_safetensors(sorted({os.path.join(folder, shard) for shard in weight_map.values()}))
        elif name.endswith(".bin"):
            self._open_torch(self.file)
        elif name.endswith(".h5"):
            self._open_h5(self.file)
        else:
            raise ConfigError(f"{self.file}: expected a .safetensors, .safetensors.index.json, .bin or .h5 file")

    def _open_safetensors(self, files):
        self.shapes, self._arrays, self._handles = {}, {}, []
        for file in files:
            if not os.path.exists(file):
                raise FileNotFoundError(f"{file}, a shard named by {self.file}, is missing")
            try:
                handle = safe_open(file, framework="np")
            except Exception as error:  # safetensors raises its own SafetensorError for a damaged header
                raise ValueError(f"Cannot read {file}: {type(error).__name__}: {error}") from None
            self._handles.append(handle)
            for key in handle.keys():
                self.shapes[key] = tuple(handle.get_slice(key).get_shape())
                self._arrays[key] = handle

    def _open_torch(self, file):
        try:
            import torch
        except ImportError:
            raise ConfigError(
                f"{file} is a PyTorch pickle, which needs torch to read (pip install torch); or convert it once "
                "where torch is installed: transformers' AlbertModel.from_pretrained(folder)"
                ".save_pretrained(folder, safe_serialization=True) writes model.safetensors") from None
        state = torch.load(file, map_location="cpu", weights_only=True)
        self.shapes = {k: tuple(v.shape) for k, v in state.items()}
        self._arrays = {k: v.float().numpy() for k, v in state.items()}

    def _open_h5(self, file):
        """`tf_model.h5` of HF's TF classes: one HDF5 group per top-level Keras layer, whose `weight_names`
        attribute lists TF variable names such as `tf_albert_for_pre_training/albert/encoder/
        albert_layer_groups_._0/albert_layers_._1/ffn/kernel:0`. HF's own TF->PyTorch rule gives the names
        of the other files: drop `:0` and the model's scope, `_._` and `/` become `.`, a `kernel` (stored
        [in, out]) becomes a transposed `weight`, `embeddings` and `gamma` become `weight`, `beta` `bias`.
        Tied tensors are stored under each layer that uses them; the first is kept."""
        import h5py

        self.shapes, self._arrays = {}, {}
        try:
            with h5py.File(file, "r") as h5:
                for layer in h5.attrs.get("layer_names", list(h5.keys())):
                    group = h5[layer.decode() if isinstance(layer, bytes) else layer]
                    for weight in group.attrs.get("weight_names", []):
                        weight = weight.decode() if isinstance(weight, bytes) else weight
                        name, transpose = _hf_name_of_tf_variable(weight)
                        if name not in self._arrays:
                            value = np.asarray(group[weight], dtype=np.float32)
                            self._arrays[name] = value.T if transpose else value
                            self.shapes[name] = self._arrays[name].shape
        except (OSError, KeyError) as error:  # h5py: OSError for a torn or non-HDF5 file, KeyError for a lost dataset
            raise ValueError(f"Cannot read {file}: {type(error).__name__}: {error}") from None
        if not self._arrays:
            raise ValueError(f"{file} holds no weights: expected the Keras HDF5 weights of HF's save_pretrained")

    def read(self, name):
        value = self._arrays[name]
        if isinstance(value, np.ndarray):
            return value
        return np.asarray(value.get_tensor(name), dtype=np.float32)


def _hf_name_of_tf_variable(tf_name):
    """(PyTorch-style name, transpose?) of an HF TensorFlow variable name (see `HfWeights._open_h5`)."""
    parts = re.sub(r"/+", "/", tf_name.replace(":0", "").replace("_._", "/")).split("/")
    parts = parts[1:] if len(parts) > 1 else parts  # the model's own scope, e.g. tf_albert_for_pre_training
    transpose = parts[-1] == "kernel"
    if parts[-1] in ("kernel", "embeddings", "gamma"):
        parts[-1] = "weight"
    elif parts[-1] == "beta":
        parts[-1] = "bias"
    return ".".join(parts), transpose


def read_hf_config(path):
    """(AlbertConfig, HfHeadInfo) of the config.json of an HF folder (or of the folder of a weights file)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no Hugging Face folder at {path}: expected a folder with config.json and the "
                                "weights (model.safetensors, tf_model.h5 or pytorch_model.bin)")
    folder = path if os.path.isdir(path) else os.path.dirname(os.fspath(path))
    config_file = os.path.join(folder, "config.json")
    if not os.path.exists(config_file):
        raise FileNotFoundError(f"no config.json in {folder}: an HF folder carries its config there")
    with open(config_file, encoding="utf-8") as f:
        return config_from_hf(json.load(f), config_file)


def load_hf(model, path, strict=True, optional=()):
    """Loads an HF folder or weights file into `model`, all or nothing; returns the `LoadReport`.

    `strict` as for `load_checkpoint` (False: the encoder must be complete,
    heads load where their tensors are). `optional`: original names that
    may be absent (an AlbertForMaskedLM file has no pooler and no SOP head).
    """
    weights = HfWeights(path)
    names = hf_names(model, prefixed=any(name.startswith("albert.") for name in weights.shapes))
    # HF's tied copies (a file may hold them) must equal what they are tied to.
    strip = "albert." if any(name.startswith("albert.") for name in weights.shapes) else ""
    for copy, tied_to in TIED.items():
        original = ("albert." if strip and tied_to.startswith("embeddings.") else "") + tied_to
        if copy in weights.shapes and original in weights.shapes:
            if not np.array_equal(weights.read(copy), weights.read(original)):
                raise CheckpointMismatchError(f"{weights.path}: {copy} differs from {original}, to which HF ties it; "
                                              "ALBERT's MLM output layer is the word embedding table")
    by_original = {original: (hf, transpose) for hf, (original, transpose) in names.items()}
    shapes, sources = {}, {}
    for hf_name, shape in weights.shapes.items():
        if hf_name in TIED:
            continue
        entry = next(((o, t) for o, (h, t) in by_original.items() if h == hf_name), None)
        if entry is None:  # not a tensor of this model: listed under its HF name
            shapes[hf_name] = shape
            sources[hf_name] = (hf_name, False)
        else:
            original, transpose = entry
            shapes[original] = shape[::-1] if transpose else shape
            sources[original] = (hf_name, transpose)

    def read(name):
        hf_name, transpose = sources[name]
        value = weights.read(hf_name)
        return value.T if transpose else value

    hint = ("\nThe names are Hugging Face's (transformers' modeling_albert); build the model from the folder's "
            "config.json with load_hf_model, which picks the class from its `architectures`.")
    hf_spelling = {original: hf for hf, (original, _) in names.items()}  # errors show HF's names (and shapes)
    return assign_tensors(model, shapes, read, f"Hugging Face weights {weights.file}", weights.path, strict=strict,
                          optional=optional, hint=hint, display=lambda name: hf_spelling.get(name, name))


HfModel = collections.namedtuple("HfModel", ["model", "report", "info"])
HfModel.__doc__ = "What `read_hf_model` read: the model, its `LoadReport` and the folder's `HfHeadInfo` (labels)."


def load_hf_model(path, architecture=None):
    """The model an HF folder holds, of the class its config.json names (or `architecture`), weights loaded.

    `read_hf_model` returns the load report and the labels too.
    """
    return read_hf_model(path, architecture).model


def read_hf_model(path, architecture=None):
    """`HfModel(model, report, info)`: the model of `load_hf_model`, what was loaded, and the folder's head
    info (architecture, id2label, problem_type)."""
    config, info = read_hf_config(path)
    if architecture is None:
        architecture = info.architecture or recognise_hf(HfWeights(path).shapes)[1]
    found = kind_of_hf_architecture(architecture)
    if found is None:
        raise ConfigError(f"{path}: architecture {architecture!r} has no albert-tf model; expected one of "
                          f"{sorted(HF_ARCHITECTURES)}")
    kind, optional = found
    info.architecture = architecture
    model = kind.build(config, **kind.hf_options(info))
    return HfModel(model, load_hf(model, path, optional=optional), info)


def hf_architecture(model):
    """The Hugging Face class name of one of our models."""
    architecture = kind_of(model).hf_architecture
    if architecture is None:
        raise TypeError(f"{type(model).__name__} has no Hugging Face class")
    return architecture


def save_hf_model(model, folder, spm_model_file=None, id2label=None, problem_type=None, overwrite=False):
    """Writes `model` as an HF folder (config.json, model.safetensors, spiece.model + tokenizer config).

    `transformers.AutoModelFor...from_pretrained(folder)` loads it with no
    missing or newly initialised weights. `id2label` ({index: name}) and
    `problem_type` ("regression" for a 1-output classifier by default) go
    into config.json for classifiers. The folder is written atomically.
    """
    architecture = hf_architecture(model)
    if os.path.exists(folder) and not overwrite:
        raise ConfigError(f"{folder} already exists; pass overwrite to replace it, or write elsewhere")
    names = hf_names(model)
    variables = {name: variable for part in variable_names.model_variables(model) for name, variable in part.items()}
    tensors = {}
    _, left_out = kind_of_hf_architecture(architecture)
    for hf_name, (original, transpose) in names.items():
        if original in left_out:  # HF's class has no such tensor (and would warn that it is unused)
            continue
        value = np.asarray(variables[original].numpy(), dtype=np.float32)
        tensors[hf_name] = np.ascontiguousarray(value.T if transpose else value)
    kind = kind_of(model)
    info = HfHeadInfo(architecture=architecture, **kind.hf_info(model))
    if "num_classes" in kind.options:  # a head with labels
        info.id2label = id2label
    info.problem_type = problem_type or info.problem_type
    hf_config = config_to_hf(albert_config_of(model), info)
    with atomic_path(folder) as temporary:
        os.makedirs(temporary)
        save_file(tensors, os.path.join(temporary, SAFETENSORS), metadata={"format": "pt"})
        with_default_mode(os.path.join(temporary, SAFETENSORS))  # safetensors writes it owner-only (0600)
        with open(os.path.join(temporary, "config.json"), "w", encoding="utf-8") as f:
            json.dump(hf_config, f, indent=2, sort_keys=True)
            f.write("\n")
        if spm_model_file:
            _write_tokenizer(temporary, spm_model_file, albert_config_of(model).max_position_embeddings)
    return folder


def _write_tokenizer(folder, spm_model_file, max_length):
    """spiece.model and the configs AlbertTokenizer (and AutoTokenizer) read: ALBERT's lower-casing and specials,
    and the longest input the model takes (its max_position_embeddings)."""
    shutil.copyfile(spm_model_file, os.path.join(folder, "spiece.model"))
    specials = {"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "<unk>", "sep_token": "[SEP]",
                "pad_token": "<pad>", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer_class": "AlbertTokenizer", "do_lower_case": True, "remove_space": True,
                   "keep_accents": False, "model_max_length": max_length, **specials}, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(folder, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(specials, f, indent=2, sort_keys=True)
        f.write("\n")


