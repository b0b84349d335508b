"""Rasa NLU YAML: the project's data keeps the contract, and malformed files fail with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.nlu import data
from tests.chatbot.nlu.helpers import INTENTS, crisis_list, heldout, life_list, project_data, write


def test_project_data_covers_every_intent_of_the_contract_in_both_languages() -> None:
    training = project_data()
    assert set(training.intents) == INTENTS
    counts = training.counts()
    assert min(counts.values()) >= 60, counts
    assert counts["crisis"] >= 150


def test_heldout_set_covers_every_intent_and_is_never_in_the_training_data() -> None:
    test = heldout()
    assert set(test.intents) == INTENTS
    trained = {" ".join(t.casefold().split()) for t in project_data().texts}
    for example in [*test.examples, *crisis_list().examples, *life_list().examples]:
        assert " ".join(example.text.casefold().split()) not in trained, example.source


def test_training_folder_does_not_read_the_heldout_subfolder(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n')
    (tmp_path / "heldout").mkdir()
    write(tmp_path / "heldout" / "t.yml", 'version: "3.1"\nnlu:\n- intent: b\n  examples: |\n    - y\n')
    assert data.load(tmp_path).intents == ["a"]


def test_entities_are_reduced_to_text_and_other_items_are_ignored() -> None:
    text = """version: "3.1"
nlu:
- intent: book
  examples: |
    - fly to [Stockholm](city) now
    - fly to [Oslo]{"entity": "city"}
- synonym: Sthlm
  examples: |
    - Stockholm
- regex: code
  examples: |
    - \\d{6}
- intent: other
  examples:
  - text: long form example
    metadata: {sentiment: neutral}
"""
    examples = data.parse_text(text, "t.yml")
    assert [(e.intent, e.text) for e in examples] == [
        ("book", "fly to Stockholm now"),
        ("book", "fly to Oslo"),
        ("other", "long form example"),
    ]
    assert examples[1].source == "t.yml:6"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.yml:1: the file is empty"),
        ('version: "3.1"\nnlu:\n  - [\n  x: y: z\n', "t.yml:4: not valid YAML"),
        ("- a\n- b\n", "t.yml:1: expected a mapping"),
        ('version: "3.1"\n', "no `nlu:` section"),
        ("version: 3.1\nnlu: []\n", 't.yml:1: `version` must be a quoted string, e.g. "3.1"'),
        ('version: "1.0"\nnlu: []\n', "unsupported version"),
        ('version: "3.1"\nnlu:\n  intent: x\n', "t.yml:3: `nlu` must be a list"),
        ('version: "3.1"\nnlu:\n- examples: |\n    - hi\n', "t.yml:3: item has no `intent:`"),
        ('version: "3.1"\nnlu:\n- intent: "a b"\n  examples: |\n    - hi\n', "t.yml:3: invalid intent name"),
        ('version: "3.1"\nnlu:\n- intent: a\n', "t.yml:3: intent 'a' has no `examples:`"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    # none\n', "intent 'a' has no examples"),
        (
            'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - ok\n    no dash\n',
            "t.yml:6: an example must start with '- '",
        ),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - []()\n', "t.yml:5: empty example"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "t.yml", text)
    with pytest.raises(data.NluDataError) as caught:
        data.load(path)
    assert message in str(caught.value).replace(str(tmp_path) + "/", "")


def test_an_example_under_two_intents_is_an_error_naming_both_places(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - Hej  där\n')
    write(tmp_path / "b.yml", 'version: "3.1"\nnlu:\n- intent: b\n  examples: |\n    - hej där\n')
    with pytest.raises(data.NluDataError) as caught:
        data.load(tmp_path)
    message = str(caught.value)
    assert "b.yml:5" in message and "a.yml:5" in message


def test_duplicates_within_an_intent_are_kept_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yml", 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n    - X\n')
    write(tmp_path / "b.yml", 'version: "3.1"\nnlu:\n- intent: b\n  examples: |\n    - y\n')
    assert data.load([path, tmp_path / "b.yml"]).texts == ["x", "y"]


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(data.NluDataError, match="no such file"):
        data.load(tmp_path / "missing.yml")
    with pytest.raises(data.NluDataError, match=r"no \.yml files"):
        data.load(tmp_path)
    (tmp_path / "latin1.yml").write_bytes(b'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - h\xe4j\n')
    with pytest.raises(data.NluDataError, match="not UTF-8"):
        data.load(tmp_path / "latin1.yml")


def test_dump_round_trips() -> None:
    pairs = [("a", "one"), ("b", "two  words"), ("a", "three")]
    parsed = data.parse_text(data.dump(pairs))
    assert [(e.intent, e.text) for e in parsed] == [("a", "one"), ("a", "three"), ("b", "two words")]
