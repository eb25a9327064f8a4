"""A second group's hand-off file beside the MGI pack, and what each group ends up with."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from e2e_helpers import Cli, data_of, every_kind_world
from orch.engine.ledger import Ledger

SMITH_ID = "0d6f0000-0000-4000-8000-0000000000b1"
RUN_A = "a0000000-0000-4000-8000-00000000000a"

#: group smith hands off the X- FASTQs of the same source project to its own project, with the
#: same `not: managed` + mark_managed shape as the MGI pack (the issue's reproduction)
SMITH = """
version: 1
group: smith
scope:
  ica_projects: [ken_debug, Smith_lab]
policies:
  - name: handoff-smith
    description: X- FASTQs to the Smith lab.
    resource: ica.analysis
    project: ken_debug
    filters:
      - {field: pipeline.code, regex: '(?i)bcl.*convert'}
      - status: SUCCEEDED
      - not: managed
      - not: {age: {field: startDate, older_than: 30d}}
    for_each:
      outputs:
        recursive: true
        filters: [{field: name, regex: '^X-.*\\.fastq\\.gz$'}]
    actions:
      - link: {to: Smith_lab}
      - manifest:
          to: Smith_lab
          folder: /smith_manifests/
          name: "{{ analysis.reference }}.csv"
          columns: [file_name, file_path, data_id, project_id]
      - mark_managed
"""


def world() -> dict[str, Any]:
    w = every_kind_world()
    w["ica"]["projects"].append({"name": "Smith_lab", "id": SMITH_ID, "data": []})
    return w


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def received(cli: Cli, project: str) -> dict[str, Any]:
    """What a destination project holds: linked files (path -> source id) and manifests (path -> rows)."""
    data = data_of(cli.state(), project)
    links = {p: d.get("id") for p, d in data.items() if d.get("owningProjectId") and not p.endswith("/")}
    manifests = {p: list(csv.reader(io.StringIO(d["content"])))
                 for p, d in data.items() if p.endswith(".csv") and not d.get("owningProjectId")}
    return {"links": sorted(links), "manifests": manifests}


def records(cli: Cli) -> set[tuple[str, str, str]]:
    with Ledger(cli.workdir / "state.db", readonly=True) as led:
        return {(m.group, m.policy, m.analysis_id) for m in led.managed()}
