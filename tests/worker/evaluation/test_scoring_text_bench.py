"""bench/scoring_text.py's variants: the product's boilerplate rule, the constant-subject rewrite."""

from __future__ import annotations

from types import ModuleType

from tests.conftest import load_script
from worker.evaluation.datasets import csv_mail
from worker.parsing.message import parse_message


def bench() -> ModuleType:
    return load_script("bench/scoring_text.py")


def test_variants_drop_a_subject_shared_by_the_threshold() -> None:
    module = bench()
    raws = [csv_mail(f"text {i}", "Hello") for i in range(3)] + [
        csv_mail("alone", "Unique"),
        csv_mail("", "Hi"),
    ]
    parsed = [parse_message(module.with_subject(r, "Customer request"), max_chars=100) for r in raws[:2]]
    assert [p.subject for p in parsed] == ["Customer request"] * 2
    found = module.variants([parse_message(r) for r in raws], [3, 4])
    assert found["current"][0] == "Hello\n\ntext 0" and found["body_only"][0] == "text 0"
    assert found["drop_repeated"][:4] == ["text 0", "text 1", "text 2", "Unique\n\nalone"]
    assert found["drop_repeated_4"][0] == "Hello\n\ntext 0"
    assert found["boilerplate"] == found["drop_repeated"]  # 3 of 5 mails: past the product's share too
    assert found["body_only"][4] == found["current"][4]  # no body: the subject stays
