"""Property tests: no YAML document and no mutation of the shipped pack crashes load or lint."""

from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orch.errors import PolicyError
from orch.policy.lint import lint_paths
from orch.policy.loader import load_policies
from orch.policy.model import PolicySet

ROOT = Path(__file__).resolve().parents[2]
MGI_TEXT = (ROOT / "policies" / "mgi.yaml").read_text()
MGI_DATA = yaml.safe_load(MGI_TEXT)

SETTINGS = settings(max_examples=int(__import__("os").environ.get("HYP_N", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["{{ x }}", "{{", "90d", "(", "managed", "delete",
                                                           "ica.data", "{{ source_project }}", "*", "&a"]))
keys = st.one_of(st.text(max_size=12), st.sampled_from(
    ["version", "group", "vars", "scope", "matchers", "policies", "name", "filters", "actions", "age",
     "field", "regex", "not", "all", "use", "from", "via", "for_each", "outputs"]))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=4)), max_leaves=25)


def check(tmp_path, content: bytes) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    problems = lint_paths([str(path)])
    for p in problems:
        assert str(p).startswith(f"{path}:{p.line}:{p.column}: ") and p.line >= 1 and p.column >= 1
        assert "\n" not in p.message
    try:
        result = load_policies([str(path)], {})
    except PolicyError as exc:
        assert problems and str(exc).startswith(str(problems[0]))
    else:
        assert isinstance(result, PolicySet) and not problems


@SETTINGS
@given(doc=documents)
def test_arbitrary_documents_never_crash(tmp_path, doc):
    check(tmp_path, yaml.safe_dump(doc, allow_unicode=True).encode())


@SETTINGS
@given(raw=st.binary(max_size=200))
@example(raw=b"=: 1")  # the YAML 'value' tag (CI found it): a key with no constructor
@example(raw=b"!!python/name:os.system : 1")
@example(raw=b"? !!binary AAAA\n: 1")
def test_arbitrary_bytes_never_crash(tmp_path, raw):
    check(tmp_path, raw)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


MGI_PATHS = [p for p in _paths(MGI_DATA) if p]


def _set(data, path, value):
    import copy

    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()


@SETTINGS
@given(path=st.sampled_from(MGI_PATHS), value=st.one_of(scalars, documents, st.just(_DELETE)))
def test_mutations_of_the_mgi_pack_never_crash(tmp_path, path, value):
    check(tmp_path, yaml.safe_dump(_set(MGI_DATA, path, value), allow_unicode=True, sort_keys=False).encode())


@SETTINGS
@given(cut=st.integers(0, len(MGI_TEXT)), junk=st.sampled_from(["", ":", "- ", "{", "]", "\t", "  ", "&x ", "*x", "\n  - "]))
def test_text_edits_of_the_mgi_pack_never_crash(tmp_path, cut, junk):
    check(tmp_path, (MGI_TEXT[:cut] + junk + MGI_TEXT[cut:]).encode())
