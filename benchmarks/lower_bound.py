"""Lower bounds on requests, with their arithmetic: the pages orch must read at the largest page
sizes plus one request per unavoidable write, batched where the API batches.

Page sizes and batch limits are the platforms' (as the connectors and the sandbox use them):
ICA listings 1,000 per page and 100 ids per ``id[]`` query; a ``dataLinkingBatch`` takes 1,000
items; BaseSpace v2/v1pre3 listings 1,024 per page; ``POST /v2/archive``/``/v2/restore`` 250 ids;
no BaseSpace batch delete (one ``DELETE`` per dataset or run). Each bound is a list of terms
``(label, arithmetic, requests)``; ``total()`` adds them up.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

ICA_PAGE, ICA_IDS, LINK_BATCH, BS_PAGE, BS_BULK = 1000, 100, 1000, 1024, 250
Term = tuple[str, str, int]


def pages(n: int, size: int) -> int:
    return math.ceil(n / size) if n > 0 else 0


def _t(label: str, n: int, size: int, minimum: int = 0) -> Term:
    got = max(minimum, pages(n, size))
    return (label, f"ceil({n:,}/{size:,})" + (f" (at least {minimum})" if minimum else ""), got)


def _bs_terms(f: dict[str, Any]) -> list[Term]:
    sizes = f["bs_datasets_per_named_project"]
    return [
        _t("BaseSpace projects", f["bs_projects"], BS_PAGE, 1),
        ("datasets of the named projects", " + ".join(f"ceil({n}/{BS_PAGE})" for n in sizes[:4])
         + (f" + ... ({len(sizes)} projects)" if len(sizes) > 4 else ""), sum(max(1, pages(n, BS_PAGE)) for n in sizes)),
        _t("BaseSpace runs", f["bs_runs"], BS_PAGE, 1),
    ]


def cold_plan(f: dict[str, Any]) -> list[Term]:
    w = f["windows"]
    in_windows = sum(w[k][m] for k in w for m in w[k])
    bssh_in_windows = w["archive"]["bssh"] + w["delete"]["bssh"]
    files = f["handoff_files"]
    return [
        ("ICA projects (source and destination on one page)", "1", 1),
        _t("analyses", f["analyses"], ICA_PAGE, 1),
        ("outputs of the analyses a decision needs", f"{f['handoff_candidates']} hand-off candidates + "
         f"{in_windows} final analyses in the archive/delete windows", f["handoff_candidates"] + in_windows),
        ("files of the hand-off candidates", f"sum of ceil(files/{ICA_PAGE}) over {len(files)} folders",
         sum(max(1, pages(n, ICA_PAGE)) for n in files)),
        _t("links already in the destination (id[] batches of the MGI FASTQs)", f["handoff_mgi_files"], ICA_IDS),
        _t("manifests already in the destination", max(1, f["dest_manifests"]), ICA_PAGE),
        _t("which analyses are BaseSpace-managed (bsshoutput.json by name)", max(1, f["bsshoutput_files"]), ICA_PAGE),
        ("bsshoutput.json contents (one download URL each)", f"{bssh_in_windows} BaseSpace-managed in the windows",
         bssh_in_windows),
        _t("ICA output folders in the windows (id[] batches)", f["ica_folders_in_windows"], ICA_IDS),
        *_bs_terms(f),
    ]


def steady_plan(f: dict[str, Any]) -> list[Term]:
    """Immutable facts (output folders, bsshoutput.json projects, creation dates) remembered;
    what can change (analysis statuses, folder statuses, datasets, runs) re-read."""
    return [
        ("ICA projects", "1", 1),
        _t("analyses", f["analyses"], ICA_PAGE, 1),
        _t("ICA output folders in the windows (id[] batches)", f["ica_folders_in_windows"], ICA_IDS),
        *_bs_terms(f),
    ]


def new_analysis(files: int) -> list[Term]:
    return [("its outputs", "1", 1), _t("its files", files, ICA_PAGE, 1),
            ("its links already in the destination (one id[] batch)", "1", 1)]


def new_analysis_apply() -> list[Term]:
    return [("link batch: POST + one status GET", "2", 2),
            ("manifest: createFileWithTemporaryCredentials (the S3 PUT is not an API request)", "1", 1),
            ("re-check of the linked files (one id[] batch)", "1", 1)]


def apply(plan: dict[str, Any], f: dict[str, Any]) -> list[Term]:
    """Writes of the plan's actions, batched where the API batches, plus the re-checks read in
    batches (ICA: id[] queries; BaseSpace: one listing of each touched project, the run listing)."""
    by = Counter((a["action"], a["resource"]["kind"]) for a in plan["actions"])
    sizes = f.get("bs_project_sizes", {})
    touched = {a["resource"].get("project_id") for a in plan["actions"] if a["resource"]["kind"] == "bssh.dataset"}
    ica_items = sum(n for (act, kind), n in by.items() if kind == "ica.data" and act != "manifest")
    terms: list[Term] = []
    n = by.get(("link", "ica.data"), 0)
    if n:
        terms.append(("links (dataLinkingBatch POST + one status GET per batch)", f"2 x ceil({n:,}/{LINK_BATCH})",
                      2 * pages(n, LINK_BATCH)))
    n = sum(v for (act, _), v in by.items() if act == "manifest")
    if n:
        terms.append(("manifests (createFileWithTemporaryCredentials each)", f"{n}", n))
    for act in ("archive", "unarchive", "delete"):
        n = by.get((act, "ica.data"), 0)
        if n:
            terms.append((f"ICA {act} (one POST per folder: no batch endpoint)", f"{n}", n))
    for kind, label in (("bssh.dataset", "datasets"), ("bssh.run", "runs")):
        for act, how in (("archive", "POST /v2/archive"), ("unarchive", "POST /v2/restore")):
            n = by.get((act, kind), 0)
            if n:
                terms.append((f"BaseSpace {label} {act} ({how}, {BS_BULK} ids)", f"ceil({n:,}/{BS_BULK})",
                              pages(n, BS_BULK)))
        n = by.get(("delete", kind), 0)
        if n:
            terms.append((f"BaseSpace {label} delete (one DELETE each: no batch endpoint)", f"{n:,}", n))
    if by.get(("purge_trash", "bssh.trash"), 0):
        terms.append(("empty the trash", "1", 1))
    if ica_items:
        terms.append(_t("re-check ICA items (id[] batches)", ica_items, ICA_IDS))
    if touched:
        terms.append(("re-check datasets (one listing per touched project)",
                      f"{len(touched)} projects", sum(max(1, pages(sizes.get(p, 0), BS_PAGE)) for p in touched)))
    if any(kind == "bssh.run" for (_, kind) in by):
        terms.append(_t("re-check runs (the run listing)", f["bs_runs"], BS_PAGE, 1))
    return terms


def total(terms: list[Term]) -> int:
    return sum(t[2] for t in terms)


def arithmetic(terms: list[Term]) -> str:
    return "; ".join(f"{label}: {how} = {n:,}" for label, how, n in terms) + f"; total {total(terms):,}"
