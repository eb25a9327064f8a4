"""Sample plans shared by the plan and render tests (a helper module, not a test module)."""

from __future__ import annotations

from orch.engine.plan import Plan, PlannedAction, PolicyFileRef, fingerprint
from orch.timeutil import parse_ts

NOW = parse_ts("2026-11-25T12:00:00Z")


def sample_actions() -> list[PlannedAction]:
    """A hand-off (2 links, manifest, mark_managed) and a lifecycle delete plus unarchive→delete."""
    links = [
        PlannedAction.create(
            "handoff-mgi-fastqs", "mgi", "link",
            {"kind": "ica.data", "id": f"fil.{n}", "project_id": "prj-src", "name": f"M-{n}_R1.fastq.gz",
             "path": f"/ilmn-analyses/RUN_A/output/M-{n}_R1.fastq.gz", "status": "AVAILABLE"},
            {"to_project_id": "prj-dst", "to_project": "Ken_demos"},
            reason=f"M-{n}_R1.fastq.gz is an MGI FASTQ of RUN_A",
            fingerprint=fingerprint({"status": "AVAILABLE", "name": f"M-{n}_R1.fastq.gz"}),
            fingerprint_fields=["name", "status"])
        for n in (2, 1)
    ]
    analysis = {"kind": "ica.analysis", "id": "an-1", "project_id": "prj-src", "name": "RUN_A-BclConvert-an-1"}
    manifest = PlannedAction.create(
        "handoff-mgi-fastqs", "mgi", "manifest", analysis,
        {"to_project_id": "prj-dst", "path": "/fastq_manifests/RUN_A-BclConvert-an-1.download_manifest.csv",
         "rows": 2}, reason="manifest of RUN_A", fingerprint="f", depends_on=[a.id for a in links])
    managed = PlannedAction.create("handoff-mgi-fastqs", "mgi", "mark_managed", analysis, {},
                                   reason="record RUN_A", fingerprint="f",
                                   depends_on=[manifest.id, *(a.id for a in links)])
    delete = PlannedAction.create(
        "delete-basespace-datasets", "mgi", "delete",
        {"kind": "bssh.dataset", "id": "ds.1", "project_id": "1001", "name": "M-1_L001"}, {},
        reason="DateCreated older than 90d", fingerprint="f", won_over=["archive-basespace-datasets"])
    unarchive = PlannedAction.create(
        "delete-ica-outputs", "mgi", "unarchive",
        {"kind": "ica.data", "id": "fol.9", "project_id": "prj-src", "name": "output",
         "path": "/ilmn-analyses/RUN_OLD/output/", "status": "ARCHIVED"}, {"then": "delete"},
        reason="startDate older than 90d; archived, so unarchived first", fingerprint="f")
    return [managed, delete, links[0], unarchive, manifest, links[1]]


def sample_plan(**kw) -> Plan:
    return Plan.create(NOW, sample_actions(), [PolicyFileRef("policies/mgi.yaml", "a" * 64)],
                       {"source_project": "ken_debug", "days_to_delete": 90}, **kw)
