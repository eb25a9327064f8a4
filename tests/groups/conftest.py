"""Tests of many lab groups on one account (issue 10): they drive the real CLI like tests/e2e."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
