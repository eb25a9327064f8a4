import pytest

from orch.policy.build import coerce_var
from orch.policy.render import TemplateError, is_template, render_for_resource, render_template, render_value
from tests.policy.helpers import analysis


@pytest.mark.parametrize("text,default,want", [
    ("120", 90, 120), (" 7 ", 1, 7), ("2.5", 1.0, 2.5), ("yes", False, True), ("FALSE", True, False),
    ("0", True, False), ("all", "source", "all"), ("", "x", ""),
])
def test_coerce_var_to_the_default_type(text, default, want):
    got = coerce_var(text, default)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize("text,default", [("ninety", 90), ("1.5", 90), ("maybe", False), ("x", 1.0)])
def test_coerce_var_rejects(text, default):
    with pytest.raises(ValueError):
        coerce_var(text, default)


def test_render_value_keeps_expression_types():
    assert render_value("{{ n }}", {"n": 3}) == 3
    assert render_value("{{ b == 'all' }}", {"b": "all"}) is True
    assert render_value("{{ n }}d", {"n": 3}) == "3d"
    assert render_value("plain", {}) == "plain" and not is_template("^M[-_]{2}")


def test_undefined_names_and_unsafe_access_are_errors():
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        render_template("{{ nope }}", {})
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        render_value("{{ nope }}", {})
    with pytest.raises(TemplateError, match="unsafe"):
        render_template("{{ x.__class__.__mro__ }}", {"x": ""})
    with pytest.raises(TemplateError, match="'dict object' has no attribute 'nope'"):
        render_for_resource("{{ analysis.nope }}", {}, analysis=analysis())


def test_per_resource_rendering_uses_field_views():
    a = analysis("a9", raw={"pipeline": {"code": "BclConvert"}})
    assert render_for_resource("{{ analysis.reference }}-{{ analysis.pipeline.code }}-{{ d }}", {"d": 1},
                               analysis=a) == "RUN-a9-BclConvert-1"
