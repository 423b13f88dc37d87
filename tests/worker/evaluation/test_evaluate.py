"""``mailroute eval``: metrics with known answers, both labeled-set loaders, the command end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tests.builders import MessageBuilder
from worker.cli import eval as eval_cli
from worker.core.errors import InputError
from worker.evaluation import metrics
from worker.evaluation.datasets import load_eml_folder, load_enron_berkeley, load_labeled
from worker.evaluation.labeled import sample

REPO = Path(__file__).resolve().parents[3]
ENRON = REPO / ".." / "shared" / "datasets" / "enron-berkeley"

RULES_YAML = """\
name: tiny
policy: {mode: top_k, top_k: 1}
categories:
  - name: billing
    description: invoices and payments
  - name: support
    description: technical support requests
  - name: social
    description: parties and lunches
"""


# ---------------------------------------------------------------- metrics

GOLD = ["a", "a", "a", "b", "b", "c"]
PRED = ["a", "a", "b", "b", None, "a"]


def test_accuracy_counts_none_as_wrong() -> None:
    assert metrics.accuracy(GOLD, PRED) == pytest.approx(3 / 6)


def test_per_label_and_macro_f1_match_hand_computed_values() -> None:
    table = metrics.per_label(GOLD, PRED, ["a", "b", "c"])
    # a: tp 2, predicted 3, support 3 -> p 2/3, r 2/3; b: tp 1, predicted 2, support 2 -> p 1/2, r 1/2
    assert table["a"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert table["b"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert table["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics.macro_f1(GOLD, PRED, ["a", "b", "c"]) == pytest.approx((2 / 3 + 0.5 + 0) / 3)


def test_macro_f1_agrees_with_sklearn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    gold = [str(x) for x in rng.integers(0, 4, 200)]
    pred = [str(x) for x in rng.integers(0, 5, 200)]  # "4" is a label outside the universe
    labels = ["0", "1", "2", "3"]
    expected = sklearn_metrics.f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    assert metrics.macro_f1(gold, pred, labels) == pytest.approx(expected)


def test_set_accuracy_accepts_any_gold_label() -> None:
    assert metrics.set_accuracy([("a",), ("a", "b"), ("c",)], ["a", "b", "a"]) == pytest.approx(2 / 3)


def test_coverage_table_keeps_the_most_confident_mails() -> None:
    correct = [True, True, False, True, False, False, True, False, False, False]
    confidence = [0.9, 0.8, 0.1, 0.7, 0.2, 0.05, 0.6, 0.3, 0.15, 0.0]
    rows = {r["coverage"]: r for r in metrics.coverage_table(correct, confidence)}
    assert rows[1.0]["accuracy"] == pytest.approx(0.4)
    assert rows[0.5] == pytest.approx({"coverage": 0.5, "n": 5, "accuracy": 0.8, "min_confidence": 0.3})


def test_confusion_matrix_has_a_column_for_other_or_none() -> None:
    matrix = metrics.confusion_matrix(GOLD, PRED, ["a", "b", "c"])
    assert matrix == [[2, 1, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0]]


# ---------------------------------------------------------------- loaders


def write_enron(root: Path, mails: dict[str, tuple[str, str]]) -> None:
    """``mails``: "N/ID" -> (.cats text, subject)."""
    for name, (cats, subject) in mails.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".cats").write_text(cats)
        path.with_suffix(".txt").write_bytes(
            MessageBuilder().subject(subject).text(f"{subject} body").build()
        )


def test_enron_loader_primary_genre_gold_set_and_filtering(tmp_path: Path) -> None:
    write_enron(
        tmp_path,
        {
            "1/10": ("1,1,2\n3,6,2\n", "plain business"),
            "4/11": ("1,1,1\n1,4,3\n2,2,1\n", "highest count wins"),
            "6/12": ("1,6,2\n1,1,2\n", "tie: first listed wins"),
            "8/13": ("1,8,2\n", "empty message genre: left out"),
            "5/14": ("2,1,1\n", "no coarse genre: left out"),
        },
    )
    mails = {m.key: m for m in load_enron_berkeley(tmp_path)}
    assert sorted(mails) == ["1/10.txt", "4/11.txt", "6/12.txt"]
    assert mails["4/11.txt"].gold == "1.4"
    assert mails["4/11.txt"].gold_set == ("1.1", "1.4")
    assert mails["6/12.txt"].gold == "1.6"
    assert b"plain business" in mails["1/10.txt"].raw


def test_enron_loader_names_a_malformed_line(tmp_path: Path) -> None:
    write_enron(tmp_path, {"1/10": ("1,1\n", "short line")})
    with pytest.raises(InputError, match=r"10\.cats:1: expected 'top,second,count'"):
        load_enron_berkeley(tmp_path)


def test_eml_loader_reads_labels_file(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(MessageBuilder().subject("Invoice 12").build())
    (tmp_path / "b.eml").write_bytes(MessageBuilder().subject("VPN down").build())
    labels = tmp_path / "labels.csv"
    labels.write_text("filename,label\n# a comment\na.eml,billing\n\nb.eml,support;billing\n")
    mails = load_eml_folder(tmp_path, labels)
    assert [(m.key, m.gold, m.gold_set) for m in mails] == [
        ("a.eml", "billing", ("billing",)),
        ("b.eml", "support", ("support", "billing")),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [("missing.eml,billing", "missing.eml not found"), ("a.eml", "expected 'filename,label")],
)
def test_eml_loader_refuses_bad_lines(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "a.eml").write_bytes(MessageBuilder().build())
    (tmp_path / "labels.csv").write_text(line + "\n")
    with pytest.raises(InputError, match=message):
        load_eml_folder(tmp_path, tmp_path / "labels.csv")


def test_load_labeled_refuses_unknown_format_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format 'mbox'"):
        load_labeled(tmp_path, "mbox")
    with pytest.raises(InputError, match="no such file"):
        load_labeled(tmp_path / "nope", "eml")


def test_sample_is_deterministic_and_spread(tmp_path: Path) -> None:
    write_enron(
        tmp_path, {f"{g}/{i}": (f"1,{g},1\n", f"m{i}") for g in (1, 4) for i in range(g * 100, g * 100 + 20)}
    )
    mails = load_enron_berkeley(tmp_path)
    picked = sample(mails, 10)
    assert [m.key for m in picked] == [m.key for m in sample(mails, 10)]
    assert {m.gold for m in picked} == {"1.1", "1.4"}


# ---------------------------------------------------------------- the command


@pytest.fixture
def eml_set(tmp_path: Path) -> tuple[Path, Path, Path]:
    subjects = {
        "a.eml": ("invoices and payments due", "billing"),
        "b.eml": ("technical support requests", "support"),
        "c.eml": ("parties and lunches", "social"),
        "d.eml": ("invoices and payments", "support"),
    }
    for name, (subject, _) in subjects.items():
        (tmp_path / name).write_bytes(MessageBuilder().subject(subject).text(f"About {subject}.").build())
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{name},{label}\n" for name, (_, label) in subjects.items()))
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML)
    return tmp_path, labels, rules


def invoke(args: Sequence[str]) -> tuple[int, str, str]:
    app = typer.Typer()
    eval_cli.register(app)
    app.command("noop")(lambda: None)  # two commands, so "eval" stays a sub-command name
    result = CliRunner().invoke(app, ["eval", *args])  # click >= 8.2 keeps stderr apart from stdout
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_eval_command_prints_one_json_object_and_writes_report(eml_set: tuple[Path, Path, Path]) -> None:
    folder, labels, rules = eml_set
    report, png = folder / "report.json", folder / "confusion.png"
    code, out, _ = invoke(
        [
            str(folder),
            "--format",
            "eml",
            "--labels",
            str(labels),
            "--rules",
            str(rules),
            "--backend",
            "constant",
            "--json",
            "--report",
            str(report),
            "--confusion",
            str(png),
        ]
    )
    assert code == 0
    summary = json.loads(out)  # the whole of stdout is one JSON object
    assert summary["n"] == 4
    assert {"accuracy", "macro_f1", "per_label", "coverage", "multi_label_accuracy"} <= set(summary)
    full = json.loads(report.read_text())
    hits = sum(row["predicted"] == row["gold"] for row in full["predictions"])
    assert summary["accuracy"] == pytest.approx(hits / 4)
    assert png.read_bytes().startswith(b"\x89PNG")


class KeywordScorer:
    """Scores 1 when the label text is in the mail: a model with known answers."""

    model_id = "keyword"

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> np.ndarray:
        return np.array([[float(label in mail) for label in labels] for mail in mails], dtype=np.float32)


def test_eval_command_measures_the_pipeline(
    eml_set: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, labels, rules = eml_set
    monkeypatch.setattr("worker.scoring.registry.create_scorer", lambda *a, **k: KeywordScorer())
    code, out, _ = invoke(
        [str(folder), "--format", "eml", "--labels", str(labels), "--rules", str(rules), "--json"]
    )
    assert code == 0
    summary = json.loads(out)
    # a, b, c are routed right; d reads like billing but is labelled support
    assert summary["accuracy"] == pytest.approx(0.75)
    assert summary["per_label"]["support"]["recall"] == pytest.approx(0.5)
    assert summary["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_eval_command_refuses_labels_the_rule_set_lacks(eml_set: tuple[Path, Path, Path]) -> None:
    folder, labels, rules = eml_set
    rules.write_text(RULES_YAML.replace("name: social", "name: parties"))
    with pytest.raises(InputError, match="gold labels social are not categories of rule set 'tiny'"):
        invoke(
            [
                str(folder),
                "--format",
                "eml",
                "--labels",
                str(labels),
                "--rules",
                str(rules),
                "--backend",
                "constant",
            ]
        )


def test_eval_command_on_an_enron_tree_with_secondary_genres_outside_the_rule_set(tmp_path: Path) -> None:
    write_enron(
        tmp_path,
        {
            "1/10": ("1,1,2\n1,7,1\n", "budget figures"),  # 1.7 (empty message) is no category
            "4/11": ("1,4,2\n", "meeting at noon"),
            "8/12": ("1,8,3\n", "left out"),
        },
    )
    code, out, _ = invoke(
        [
            str(tmp_path),
            "--format",
            "enron-berkeley",
            "--rules",
            str(REPO / "rules/examples/enron-genre.yaml"),
            "--backend",
            "constant",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["n"] == 2
    assert summary["labels"] == ["1.1", "1.4"]


@pytest.mark.slow
def test_eval_command_on_enron_with_the_embedding_backend() -> None:
    if not ENRON.is_dir():
        pytest.skip("the Enron dataset is not beside the repository")
    code, out, _ = invoke(
        [
            str(ENRON),
            "--format",
            "enron-berkeley",
            "--rules",
            str(REPO / "rules/examples/enron-genre.yaml"),
            "--backend",
            "embedding",
            "--limit",
            "40",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["n"] == 40
    assert 0.0 <= summary["macro_f1"] <= summary["multi_label_accuracy"] + 1.0
    assert 0.2 < summary["accuracy"] <= 1.0
