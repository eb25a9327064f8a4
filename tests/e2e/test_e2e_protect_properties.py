"""Property over generated worlds (real sandbox, HTTP): whatever the protect list names — ids, base
names, globs, paths of files or folders, BaseSpace datasets and runs — the MGI plan never acts on it
(nor on a folder holding it), and after apply every protected item is exactly as it was."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from e2e_helpers import MGI, sandbox_clients, swap_world
from orch.connectors.basespace import BasespaceClient
from orch.connectors.ica import IcaClient
from orch.engine.applier import Applier
from orch.engine.context import PlanContext
from orch.engine.executors import ApplyContext
from orch.engine.ledger import Ledger
from orch.engine.limits import Protect
from orch.engine.planner import build_plan
from orch.policy.loader import load_policies
from orch.sandbox.generate import generate_world


def _inventory(ica: IcaClient, bssh: BasespaceClient, src_id: str, dst_id: str):
    """Every ICA item of both projects, and every BaseSpace dataset and run, as they are now."""
    ica.clear_cache()
    bssh.clear_cache()
    src = {d.id: d for d in ica.list_data(src_id)}
    dst = {d.id: d for d in ica.list_data(dst_id)}
    datasets = {d.id: d for p in bssh.list_projects() for d in bssh.list_datasets(p.id)}
    runs = {r.id: r for r in bssh.list_runs()}
    return src, dst, datasets, runs


def _pick(draw, items, n):
    return draw(st.lists(st.sampled_from(items), max_size=n, unique=True)) if items else []


@settings(max_examples=int(__import__("os").environ.get("HYP_E2E", "6")), deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example is I/O
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shift=st.integers(0, 30), data=st.data())
def test_nothing_protected_is_planned_or_changed(sb, tmp_path_factory, seed, shift, data):
    swap_world(sb, generate_world(analyses=8, files_per_analysis=6, bssh_fraction=0.5, seed=seed))
    ica, bssh = sandbox_clients(sb)
    src_id, dst_id = ica.find_project("ken_debug").id, ica.find_project("Ken_demos").id
    src, dst, datasets, runs = _inventory(ica, bssh, src_id, dst_id)
    files = sorted((d for d in src.values() if not d.is_folder), key=lambda d: d.path)
    folders = sorted((d for d in src.values() if d.is_folder), key=lambda d: d.path)
    policies = load_policies([MGI], {})
    now = sb.world.now + timedelta(days=shift)
    ledger = Ledger(str(tmp_path_factory.mktemp("ledger") / "state.db"))
    unguarded = build_plan(policies, PlanContext(ica, bssh, ledger, now)).plan
    # protect a mix: things the unguarded plan acts on, and anything else
    acted = sorted({a.resource.id for a in unguarded.actions if a.resource.id in src})
    acted_bs = sorted({a.resource.id for a in unguarded.actions if a.resource.id in datasets or a.resource.id in runs})
    draw = data.draw
    names = [f.name for f in _pick(draw, files, 2)]
    names += [n[:4] + "*" for n in names[:draw(st.integers(0, len(names)))]]
    protect = Protect(
        ids=sorted({d.id for d in _pick(draw, files + folders, 2)} | set(_pick(draw, acted, 2))
                   | set(_pick(draw, acted_bs, 2))
                   | {r.id for r in _pick(draw, sorted(runs.values(), key=lambda r: r.id), 1)}),
        names=sorted(set(names) | {d.name for d in _pick(draw, sorted(datasets.values(), key=lambda d: d.id), 1)}),
        paths=sorted({d.path for d in _pick(draw, files + folders, 1)} | {src[i].path for i in _pick(draw, acted, 1)}))
    guarded = {i for i, d in src.items() if protect.why(d.ref(), [])}
    guarded_bs = {i for i, d in {**datasets, **runs}.items() if protect.why(d.ref())}

    plan = build_plan(policies, PlanContext(ica, bssh, ledger, now), protect).plan
    assert plan.errors == []
    held = {(a.action, a.resource.id) for a in unguarded.actions} - {(a.action, a.resource.id) for a in plan.actions}
    HELD.update(a for a, _ in held)
    for a in plan.actions:
        r = a.resource
        assert protect.why(r.to_dict()) is None, (a.action, r.label())
        assert r.id not in guarded | guarded_bs, (a.action, r.label())
        if r.kind == "ica.data" and a.action in ("archive", "unarchive", "delete"):
            inside = [src[i].path for i in guarded if src[i].path.startswith(r.path) and src[i].path != r.path]
            assert not inside, (a.action, r.path, inside)

    report = Applier(ApplyContext(ica, bssh, ledger, now), protect=protect,
                     allows={p.name: p.allow_destructive for p in policies.policies}).apply(plan)
    assert report.exit_code == 0, report.to_dict()
    src2, dst2, datasets2, runs2 = _inventory(ica, bssh, src_id, dst_id)
    for i in guarded:
        assert i in src2 and src2[i].status == src[i].status, src[i].path
        assert i not in dst2 or i in dst, f"{src[i].path} was linked"
    for i in guarded_bs:
        before, after = (datasets, datasets2) if i in datasets else (runs, runs2)
        assert i in after and after[i].is_archived == before[i].is_archived, before[i].name
    assert not {r.action.resource.id for r in report.results} & (guarded | guarded_bs)
    ledger.close()


HELD: set[str] = set()


def test_the_examples_protected_something_that_would_have_been_acted_on():
    """Runs after the property (file order): protection did hold back real actions, destructive ones too."""
    assert HELD & {"delete", "unarchive"} and HELD & {"link", "archive"}, HELD
