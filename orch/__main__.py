from orch.cli import run

run()
