"""Print (or check) the README's settings table, generated from worker/core/settings.py's Settings.

python scripts/settings_table.py          # print the markdown table
python scripts/settings_table.py --write  # replace the table between the README markers
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
START, END = "<!-- settings-table -->", "<!-- /settings-table -->"


def table() -> str:
    from worker.core.settings import Settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            default = default.relative_to(REPO) if default.is_relative_to(REPO) else default
        shown = "(unset)" if default is None else f"`{default}`"
        rows.append(f"| `MAILROUTE_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def write() -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END) if END in rest else ("", "", rest)
    readme.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    write() if "--write" in sys.argv else print(table())
