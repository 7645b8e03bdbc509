#!/usr/bin/env python3
"""One-off: rewrites every settings.json under FOLDER (default experiments/results) from the flat "name": "value"
layout (format 1, no "format_version") to format 2, the canonical JSON of the typed settings (src/Blob/Experiments/
RunSettings.cs), byte for byte as the tool writes it. A file that has "format_version" is left as it is, so running it
twice changes nothing. A format-1 file it cannot map fully is named and left unchanged (exit status 1).

Usage: experiments/migrate-settings.py [FOLDER]
"""
import json
import math
import os
import sys

# each method's own section of training.method (FineTuningMethod.OptionsSection); the others are not recorded
SECTIONS = {"ens": "ensemble", "blob": "blob", "lap": "laplace"}


def double(text):
    return None if text == "null" else float(text)


def integer(text):
    return None if text == "null" else int(text)


def boolean(text):
    return {"true": True, "false": False}[text]


def words(text):
    return text.split(" ") if text else []


def word(text):
    return None if text == "null" else text


# the record's keys in the order the tool writes them, each with the old flat key and how its value reads
SPEC = [
    ("model", "model", word), ("task", "task", word), ("data_root", "data_root", word),
    ("custom_mapping", "custom_mapping", word), ("custom_train", "custom_train", word), ("custom_eval", "custom_eval", word),
    ("training", None, None),
    ("eval_samples", "eval_samples", integer), ("eval_batch_size", "eval_batch_size", integer),
    ("device", "device", word), ("precision", "precision", word),
    ("max_train", "max_train", integer), ("max_eval", "max_eval", integer),
    ("ood_tasks", "ood_tasks", words), ("validation_fraction", "validation_fraction", double),
]
TRAINING = [
    ("method", None, None),
    ("steps", "steps", integer), ("epochs", "epochs", double), ("batch_size", "batch_size", integer),
    ("gradient_accumulation", "gradient_accumulation", integer), ("learning_rate", "learning_rate", double),
    ("warmup_ratio", "warmup_ratio", double), ("weight_decay", "weight_decay", double), ("adam_epsilon", "adam_epsilon", double),
    ("max_grad_norm", "max_grad_norm", double), ("max_length", "max_length", integer),
    ("group_by_length", "group_by_length", boolean), ("seed", "seed", integer), ("train_samples", "train_samples", integer),
]
METHOD = [
    ("kind", "kind", word), ("rank", "rank", integer), ("alpha", "alpha", double), ("lora_dropout", "lora_dropout", double),
    ("targets", "targets", words), ("fully_trained", "fully_trained", words), ("head", "head", word),
]
SECTION_KEYS = {
    "ensemble": [("size", integer), ("averages_probabilities", boolean)],
    "blob": [("prior_std", double), ("init_epsilon", double), ("std", word), ("asymmetric", boolean), ("mean_init", word),
             ("flipout", word), ("stable_kl", boolean), ("kl_learning_rate", double), ("kl_weighting", word),
             ("gamma", double), ("std_in_adam_w", boolean)],
    "laplace": [("subset", word), ("prior_precision", double), ("samples", integer), ("probit", boolean), ("seed", integer)],
}


def migrate(old):
    """The format-2 record of a format-1 file's pairs; KeyError names a setting the file lacks."""
    old = dict(old)
    # format 1 left out a default head, a zero validation fraction, and (before --precision) wrote base_in_bfloat16
    old.setdefault("training.method.head", "trained")
    old.setdefault("validation_fraction", "0")
    if "base_in_bfloat16" in old and "precision" not in old:
        if old.pop("base_in_bfloat16") != "false":
            raise KeyError("precision (a bf16-throughout run, which no setting reproduces)")
        old["precision"] = "fp32"
    # a default is recorded as what it resolved to, which format 1 kept beside it
    for key, resolved in [("eval_samples", "training.method.default_samples"), ("training.weight_decay", "training.effective_weight_decay"),
                          ("training.method.lora_dropout", "training.method.dropout")]:
        if old[key] == "null":
            old[key] = old[resolved]

    def read(pairs, prefix):
        return {key: parse(old[prefix + flat]) for key, flat, parse in pairs if flat is not None}

    method = read(METHOD, "training.method.")
    section = SECTIONS.get(method["kind"])
    if section:
        method[section] = {key: parse(old[f"training.method.{section}.{key}"]) for key, parse in SECTION_KEYS[section]}
    training = {"method": method}
    training.update(read(TRAINING, "training."))
    record = {"format_version": 2}
    for key, flat, parse in SPEC:
        record[key] = training if key == "training" else parse(old[flat])
    record["data"] = {"task": old["data.task"], "train": old["data.train"], "eval": old["data.eval"], "validation": old.get("data.validation")}
    return record


def number(x):
    """A double as .NET writes it (shortest round trip: 4, 0.001, 1E-06)."""
    if x == math.floor(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x).replace("e", "E")


def dump(value, indent=""):
    """Indented JSON as System.Text.Json writes it (two spaces, "key": value, empty containers as {} and [])."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + ",\n".join(f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()) + "\n" + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + dump(v, inner) for v in value) + "\n" + indent + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value)
    return json.dumps(value, ensure_ascii=False)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    migrated = kept = failed = 0
    for folder, _, files in sorted(os.walk(root)):
        if "settings.json" not in files:
            continue
        path = os.path.join(folder, "settings.json")
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        if "format_version" in old:
            kept += 1
            continue
        try:
            text = dump(migrate(old)) + "\n"
        except KeyError as e:
            print(f"{path}: not migrated, it lacks {e}", file=sys.stderr)
            failed += 1
            continue
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        migrated += 1
    print(f"{migrated} settings.json migrated, {kept} already in format 2, {failed} not migrated, under {root}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
