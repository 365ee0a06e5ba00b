"""An independent NumPy ALBERT and a TF1 checkpoint writer, for parity tests.

Nothing here imports albert_tf: the variable names and the math are written
from the paper and the original modeling.py (google-research/albert and brightmart/albert_zh), so a
test that compares albert_tf to this module compares it to the original.
Everything is computed in float64.
"""

import math
import os

import numpy as np
import tensorflow as tf


# --------------------------------------------------------------- weights
def google_block_names(prefix, hidden, intermediate):
    h, i = hidden, intermediate
    return {
        f"{prefix}/attention_1/self/query/kernel": (h, h),
        f"{prefix}/attention_1/self/query/bias": (h,),
        f"{prefix}/attention_1/self/key/kernel": (h, h),
        f"{prefix}/attention_1/self/key/bias": (h,),
        f"{prefix}/attention_1/self/value/kernel": (h, h),
        f"{prefix}/attention_1/self/value/bias": (h,),
        f"{prefix}/attention_1/output/dense/kernel": (h, h),
        f"{prefix}/attention_1/output/dense/bias": (h,),
        f"{prefix}/LayerNorm/gamma": (h,),
        f"{prefix}/LayerNorm/beta": (h,),
        f"{prefix}/ffn_1/intermediate/dense/kernel": (h, i),
        f"{prefix}/ffn_1/intermediate/dense/bias": (i,),
        f"{prefix}/ffn_1/intermediate/output/dense/kernel": (i, h),
        f"{prefix}/ffn_1/intermediate/output/dense/bias": (h,),
        f"{prefix}/LayerNorm_1/gamma": (h,),
        f"{prefix}/LayerNorm_1/beta": (h,),
    }


def bright_block_names(prefix, hidden, intermediate):
    h, i = hidden, intermediate
    return {
        f"{prefix}/attention/self/query/kernel": (h, h),
        f"{prefix}/attention/self/query/bias": (h,),
        f"{prefix}/attention/self/key/kernel": (h, h),
        f"{prefix}/attention/self/key/bias": (h,),
        f"{prefix}/attention/self/value/kernel": (h, h),
        f"{prefix}/attention/self/value/bias": (h,),
        f"{prefix}/attention/output/dense/kernel": (h, h),
        f"{prefix}/attention/output/dense/bias": (h,),
        f"{prefix}/attention/output/LayerNorm/gamma": (h,),
        f"{prefix}/attention/output/LayerNorm/beta": (h,),
        f"{prefix}/intermediate/dense/kernel": (h, i),
        f"{prefix}/intermediate/dense/bias": (i,),
        f"{prefix}/output/dense/kernel": (i, h),
        f"{prefix}/output/dense/bias": (h,),
        f"{prefix}/output/LayerNorm/gamma": (h,),
        f"{prefix}/output/LayerNorm/beta": (h,),
    }


def variable_shapes(cfg, heads=True):
    """Original variable names and shapes for a config dict."""
    v, e, h = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"]
    i, p, t = cfg["intermediate_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]
    bright = "ln_type" in cfg
    width = h if bright else e
    shapes = {
        "bert/embeddings/word_embeddings": (v, e),
        "bert/embeddings/token_type_embeddings": (t, width),
        "bert/embeddings/position_embeddings": (p, width),
        "bert/embeddings/LayerNorm/gamma": (width,),
        "bert/embeddings/LayerNorm/beta": (width,),
    }
    if bright:
        shapes["bert/embeddings/word_embeddings_2"] = (e, h)
        shapes.update(bright_block_names("bert/encoder/layer_shared", h, i))
    else:
        if e != h:
            shapes["bert/encoder/embedding_hidden_mapping_in/kernel"] = (e, h)
            shapes["bert/encoder/embedding_hidden_mapping_in/bias"] = (h,)
        for g in range(cfg.get("num_hidden_groups", 1)):
            for k in range(cfg.get("inner_group_num", 1)):
                shapes.update(google_block_names(
                    f"bert/encoder/transformer/group_{g}/inner_group_{k}", h, i))
    shapes["bert/pooler/dense/kernel"] = (h, h)
    shapes["bert/pooler/dense/bias"] = (h,)
    if heads:
        transform = h if bright else e
        shapes.update({
            "cls/predictions/transform/dense/kernel": (h, transform),
            "cls/predictions/transform/dense/bias": (transform,),
            "cls/predictions/transform/LayerNorm/gamma": (transform,),
            "cls/predictions/transform/LayerNorm/beta": (transform,),
            "cls/predictions/output_bias": (v,),
            "cls/seq_relationship/output_weights": (2, h),
            "cls/seq_relationship/output_bias": (2,),
        })
    return shapes


def random_weights(cfg, seed=0, heads=True):
    """Random float32 weights, scaled so every path matters numerically."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in variable_shapes(cfg, heads).items():
        if name.endswith("gamma"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif len(shape) == 2:
            value = rng.standard_normal(shape) / math.sqrt(shape[0])
        else:
            value = 0.1 * rng.standard_normal(shape)
        weights[name] = value.astype(np.float32)
    return weights


def write_tf1_checkpoint(prefix, weights, optimizer_slots=True, global_step=1000):
    """Writes `weights` as the original TF1 code would: tf.compat.v1 variables
    with the given names, a global step, Adam/LAMB slots `adam_m`/`adam_v`,
    and no `checkpoint` state file (like the released tarballs)."""
    graph = tf.Graph()
    graph.seed = 0  # initializers need a seed once a test in this process turned op determinism on
    with graph.as_default():
        variables = []
        for name, value in weights.items():
            variables.append(tf.compat.v1.get_variable(name, initializer=tf.constant(value)))
            if optimizer_slots:
                for slot in ("adam_m", "adam_v"):
                    tf.compat.v1.get_variable(
                        f"{name}/{slot}", initializer=tf.constant(np.abs(value) + 1.0))
        step = tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(step.assign(global_step))
            saver.save(session, prefix, write_state=False)
    assert not os.path.exists(os.path.join(os.path.dirname(prefix), "checkpoint"))
    return prefix


def read_tf1_checkpoint(prefix, names):
    """Restores `names` with a tf.compat.v1 Saver, as the original code does."""
    reader = tf.train.load_checkpoint(prefix)
    graph = tf.Graph()
    graph.seed = 0  # initializers need a seed once a test in this process turned op determinism on
    with graph.as_default():
        variables = {
            name: tf.compat.v1.get_variable(
                name, shape=reader.get_variable_to_shape_map()[name], dtype=tf.float32)
            for name in names
        }
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session(graph=graph) as session:
            saver.restore(session, prefix)
            return {name: session.run(v) for name, v in variables.items()}


# ------------------------------------------------------------------ math
def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


ACTIVATIONS = {"gelu": gelu_tanh, "relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh,
               "linear": lambda x: x}


def _softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def _attention(w, p, x, mask, heads):
    b, s, h = x.shape
    d = h // heads

    def split(t):
        return t.reshape(b, s, heads, d).transpose(0, 2, 1, 3)

    q = split(x @ w[f"{p}/query/kernel"] + w[f"{p}/query/bias"])
    k = split(x @ w[f"{p}/key/kernel"] + w[f"{p}/key/bias"])
    v = split(x @ w[f"{p}/value/kernel"] + w[f"{p}/value/bias"])
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    scores = scores + (1.0 - mask[:, None, None, :]) * -10000.0
    context = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
    return context


def _google_block(w, p, x, mask, cfg):
    act = ACTIVATIONS[cfg["hidden_act"]]
    context = _attention(w, f"{p}/attention_1/self", x, mask, cfg["num_attention_heads"])
    attn = context @ w[f"{p}/attention_1/output/dense/kernel"] + w[
        f"{p}/attention_1/output/dense/bias"]
    a = layer_norm(x + attn, w[f"{p}/LayerNorm/gamma"], w[f"{p}/LayerNorm/beta"])
    ffn = act(a @ w[f"{p}/ffn_1/intermediate/dense/kernel"]
              + w[f"{p}/ffn_1/intermediate/dense/bias"])
    ffn = ffn @ w[f"{p}/ffn_1/intermediate/output/dense/kernel"] + w[
        f"{p}/ffn_1/intermediate/output/dense/bias"]
    return layer_norm(a + ffn, w[f"{p}/LayerNorm_1/gamma"], w[f"{p}/LayerNorm_1/beta"])


def _bright_block(w, p, x, mask, cfg):
    act = ACTIVATIONS[cfg["hidden_act"]]
    heads = cfg["num_attention_heads"]
    ln1 = (w[f"{p}/attention/output/LayerNorm/gamma"], w[f"{p}/attention/output/LayerNorm/beta"])
    ln2 = (w[f"{p}/output/LayerNorm/gamma"], w[f"{p}/output/LayerNorm/beta"])

    def attention(t):
        context = _attention(w, f"{p}/attention/self", t, mask, heads)
        return context @ w[f"{p}/attention/output/dense/kernel"] + w[
            f"{p}/attention/output/dense/bias"]

    def ffn(t):
        hidden = act(t @ w[f"{p}/intermediate/dense/kernel"] + w[f"{p}/intermediate/dense/bias"])
        return hidden @ w[f"{p}/output/dense/kernel"] + w[f"{p}/output/dense/bias"]

    if cfg["ln_type"] == "preln":
        a = x + attention(layer_norm(x, *ln1))
        return a + ffn(layer_norm(a, *ln2))
    a = layer_norm(x + attention(x), *ln1)
    return layer_norm(a + ffn(a), *ln2)


def albert_forward(w, cfg, input_ids, input_mask, segment_ids, masked_positions=None):
    """The original ALBERT forward pass (eval mode) in float64.

    Returns a dict with sequence_output, pooled_output, encoder_outputs and,
    with masked_positions, mlm_logits and sop_logits.
    """
    w = {name: np.asarray(value, np.float64) for name, value in w.items()}
    input_mask = np.asarray(input_mask, np.float64)
    seq = input_ids.shape[1]
    bright = "ln_type" in cfg
    x = w["bert/embeddings/word_embeddings"][input_ids]
    if bright:
        x = x @ w["bert/embeddings/word_embeddings_2"]
    x = x + w["bert/embeddings/token_type_embeddings"][segment_ids]
    x = x + w["bert/embeddings/position_embeddings"][:seq][None]
    x = layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])
    if "bert/encoder/embedding_hidden_mapping_in/kernel" in w:
        x = x @ w["bert/encoder/embedding_hidden_mapping_in/kernel"] + w[
            "bert/encoder/embedding_hidden_mapping_in/bias"]
    n_layers = cfg["num_hidden_layers"]
    groups, inner = cfg.get("num_hidden_groups", 1), cfg.get("inner_group_num", 1)
    layers = []
    for layer in range(n_layers):
        if bright:
            x = _bright_block(w, "bert/encoder/layer_shared", x, input_mask, cfg)
        else:
            group = int(layer / n_layers * groups)
            for k in range(inner):
                x = _google_block(
                    w, f"bert/encoder/transformer/group_{group}/inner_group_{k}",
                    x, input_mask, cfg)
        layers.append(x)
    pooled = np.tanh(x[:, 0] @ w["bert/pooler/dense/kernel"] + w["bert/pooler/dense/bias"])
    out = {"sequence_output": x, "pooled_output": pooled, "encoder_outputs": layers}
    if masked_positions is not None:
        act = ACTIVATIONS[cfg["hidden_act"]]
        gathered = np.take_along_axis(x, masked_positions[:, :, None], axis=1)
        t = act(gathered @ w["cls/predictions/transform/dense/kernel"]
                + w["cls/predictions/transform/dense/bias"])
        t = layer_norm(t, w["cls/predictions/transform/LayerNorm/gamma"],
                       w["cls/predictions/transform/LayerNorm/beta"])
        if bright:
            t = t @ w["bert/embeddings/word_embeddings_2"].T
        out["mlm_logits"] = t @ w["bert/embeddings/word_embeddings"].T + w[
            "cls/predictions/output_bias"]
        out["sop_logits"] = pooled @ w["cls/seq_relationship/output_weights"].T + w[
            "cls/seq_relationship/output_bias"]
    return out


def relative_error(actual, reference):
    """max |actual - reference| / max |reference| (0 when both are zero)."""
    actual = np.asarray(actual, np.float64)
    reference = np.asarray(reference, np.float64)
    scale = np.max(np.abs(reference))
    return float(np.max(np.abs(actual - reference)) / scale) if scale else float(
        np.max(np.abs(actual)))
