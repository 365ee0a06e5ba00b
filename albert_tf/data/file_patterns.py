"""Comma-separated paths and globs to file lists (local, or URLs through tf.io.gfile)."""

import glob
import os


def expand_file_patterns(patterns, what="input file"):
    """Files matching comma-separated paths or globs (or a list of them), in order.

    Local paths use the standard library, so callers that never see a URL
    never import TensorFlow; URLs such as gs:// go through `tf.io.gfile`.

    Raises:
        FileNotFoundError: naming every pattern that matches nothing.
    """
    if isinstance(patterns, str):
        patterns = patterns.split(",")
    files, unmatched = [], []
    for pattern in (p.strip() for p in patterns):
        if not pattern:
            continue
        if "://" in pattern:
            import tensorflow as tf

            matches = sorted(tf.io.gfile.glob(pattern))
        elif glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern))
        else:
            matches = [pattern] if os.path.isfile(pattern) else []
        if not matches:
            unmatched.append(pattern)
        files.extend(matches)
    if unmatched:
        raise FileNotFoundError(f"no {what} matches: " + ", ".join(unmatched))
    return files
