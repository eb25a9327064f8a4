from datetime import timedelta

import pytest

from tests.policy.helpers import NOW, Ctx, analysis, build_matcher, data, dataset


def m(value, **kw):
    matcher, problems = build_matcher(value, **kw)
    assert problems == [] and matcher is not None, problems
    return matcher


def ts(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------------ age: exact boundaries
@pytest.mark.parametrize("delta,older,younger", [
    (timedelta(days=90), False, False),                      # exactly 90d: neither
    (timedelta(days=90, microseconds=1), True, False),        # a microsecond more: older
    (timedelta(days=90) - timedelta(microseconds=1), False, True),
    (timedelta(0), False, True),
])
def test_age_boundaries_are_exact(delta, older, younger):
    r = dataset(ts(delta))
    assert m({"age": {"field": "DateCreated", "older_than": "90d"}}).matches(r, Ctx()) is older
    assert m({"age": {"field": "DateCreated", "younger_than": "90d"}}).matches(r, Ctx()) is younger


def test_not_older_than_includes_the_boundary():
    within = m({"not": {"age": {"field": "DateCreated", "older_than": "90d"}}})
    assert within.matches(dataset(ts(timedelta(days=90))), Ctx())
    assert not within.matches(dataset(ts(timedelta(days=90, seconds=1))), Ctx())


def test_age_both_bounds_and_hours():
    window = m({"age": {"field": "DateCreated", "older_than": "12h", "younger_than": "1d"}})
    assert window.matches(dataset(ts(timedelta(hours=13))), Ctx())
    assert not window.matches(dataset(ts(timedelta(hours=12))), Ctx())
    assert not window.matches(dataset(ts(timedelta(hours=24))), Ctx())


def test_age_accepts_other_timestamp_spellings():
    old = m({"age": {"field": "DateCreated", "older_than": "1d"}})
    assert old.matches(dataset("2026-11-20T10:00:00.1234567Z"), Ctx())
    assert old.matches(dataset("2026-11-20 10:00:00"), Ctx())


@pytest.mark.parametrize("created", [None, "not a date"])
def test_missing_timestamp_fails_closed_also_under_not(created):
    r = dataset(created)
    older = m({"age": {"field": "DateCreated", "older_than": "1d"}})
    assert older.evaluate(r, Ctx()) is None and not older.matches(r, Ctx())
    assert not m({"not": {"age": {"field": "DateCreated", "older_than": "1d"}}}).matches(r, Ctx())
    assert not m({"any": [{"not": {"age": {"field": "DateCreated", "older_than": "1d"}}}]}).matches(r, Ctx())


def test_age_from_template_and_describe():
    a = m({"age": {"field": "startDate", "older_than": "{{ days }}d"}}, vars={"days": 90})
    assert a.describe() == "startDate older than 90d"
    assert a.fields() == {"startDate"}


# ------------------------------------------------------------------ field comparisons
def test_regex_is_search_and_case_sensitive():
    r = data("M-1_S1_L001_R1_001.fastq.gz")
    assert m({"field": "name", "regex": "fastq"}).matches(r, Ctx())           # unanchored
    assert not m({"field": "name", "regex": "^fastq"}).matches(r, Ctx())
    assert not m({"field": "name", "regex": "FASTQ"}).matches(r, Ctx())
    assert m({"field": "name", "regex": "(?i)FASTQ"}).matches(r, Ctx())


def test_mgi_name_rule_from_variable():
    rule = m({"field": "name", "regex": "{{ rx }}"}, vars={"rx": "^M[-_]"})
    for name, want in [("M-123-345_S1_L001_R1_001.fastq.gz", True), ("M_123_4325_S2_R2_001.fastq.gz", True),
                       ("Mx_S1.fastq.gz", False), ("m-1_S1.fastq.gz", False), ("Phix_S1.fastq.gz", False)]:
        assert rule.matches(data(name), Ctx()) is want, name


def test_eq_ne_in_glob_exists_and_dotted_paths():
    r = analysis(raw={"pipeline": {"code": "BclConvert_v4"}, "tags": {"userTags": ["x"]}, "size": 3})
    ctx = Ctx()
    assert m({"field": "pipeline.code", "eq": "BclConvert_v4"}).matches(r, ctx)
    assert m({"field": "pipeline.code", "ne": "Other"}).matches(r, ctx)
    assert m({"field": "size", "in": [1, 2, 3]}).matches(r, ctx)
    assert m({"field": "pipeline.code", "glob": "Bcl*_v?"}).matches(r, ctx)
    assert not m({"field": "pipeline.code", "glob": "bcl*"}).matches(r, ctx)
    assert m({"field": "tags.userTags", "exists": True}).matches(r, ctx)
    assert m({"field": "no.such", "exists": False}).matches(r, ctx)
    # missing attributes are unknown, never selected (also under not and ne)
    assert not m({"field": "no.such", "ne": "x"}).matches(r, ctx)
    assert not m({"not": {"field": "no.such", "eq": "x"}}).matches(r, ctx)


def test_eq_compares_yaml_types():
    assert m({"field": "IsArchived", "eq": False}).matches(dataset(ts(timedelta(0)), archived=False), Ctx())
    assert not m({"field": "IsArchived", "eq": False}).matches(dataset(ts(timedelta(0)), archived=True), Ctx())


# ------------------------------------------------------------------ status, pipeline, managed
def test_status_normalises_v4_spelling_for_analyses():
    assert m({"status": "IN_PROGRESS"}).matches(analysis(status="INPROGRESS"), Ctx())
    assert m({"status": ["SUCCEEDED", "FAILED"]}).matches(analysis(status="FAILED"), Ctx())
    assert not m({"status": "SUCCEEDED"}).matches(analysis(status="FAILEDFINAL"), Ctx())
    assert m({"status": ["AVAILABLE", "ARCHIVED"]}).matches(data(status="ARCHIVED"), Ctx())
    assert not m({"status": "AVAILABLE"}).matches(data(status="ARCHIVING"), Ctx())


def test_pipeline_regex():
    bcl = m({"pipeline": "(?i)bcl.*convert"})
    assert bcl.matches(analysis(pipeline="BclConvert_v4_1_23_patch1"), Ctx())
    assert bcl.matches(analysis(pipeline="BCL-CONVERT"), Ctx())
    assert not bcl.matches(analysis(pipeline="DRAGEN_Germline"), Ctx())


def test_managed_and_managed_by():
    a, b = analysis("a"), analysis("b")
    ctx = Ctx(managed={"a"}, bssh={"b": {"Projects": {}}})
    assert m("managed").matches(a, ctx) and not m("managed").matches(b, ctx)
    assert m({"not": "managed"}).matches(b, ctx)
    assert m({"managed": False}).matches(b, ctx)
    assert m({"managed_by": "basespace"}).matches(b, ctx) and not m({"managed_by": "basespace"}).matches(a, ctx)
    assert m({"managed_by": "ica"}).matches(a, ctx)


def test_managed_by_a_group():
    a = analysis("a")
    smith = Ctx(by_group={"smith": {"a"}})
    assert m({"managed": {"by": "any"}}).matches(a, smith) and m({"managed": {"by": "smith"}}).matches(a, smith)
    assert not m({"managed": {"by": "mgi"}}).matches(a, smith)
    assert m({"not": {"managed": {"by": "mgi"}}}).matches(a, smith)
    assert m({"managed": {"by": "mgi"}}).matches(a, Ctx(managed={"a"}))  # an unassigned record counts for all
    for bad in ({"by": 3}, {"by": "two words"}, {"by": ""}):
        built, problems = build_matcher({"managed": bad})
        assert built is None and any("managed.by needs any or a group name" in p for p in problems), problems
    assert m({"managed": {"by": "smith"}}).describe() == "managed by smith"


def test_bare_managed_means_this_files_group():
    from orch.policy.build import FileBuilder

    text = ("version: 1\ngroup: mgi\nscope: {ica_projects: [p]}\npolicies:\n  - name: h\n    description: d\n"
            "    resource: ica.analysis\n    project: p\n    filters: [not: managed]\n    actions: [mark_managed]\n")
    pf = FileBuilder("g.yaml", text.encode()).build()
    (neg,) = pf.policies[0].filters
    a = analysis("a")
    assert neg.matches(a, Ctx(by_group={"smith": {"a"}}))  # smith's record: not managed by mgi
    assert not neg.matches(a, Ctx(by_group={"mgi": {"a"}}))
    assert neg.describe() == "not managed"


# ------------------------------------------------------------------ combinators and use
def test_all_any_use():
    defs = {"fq": {"field": "name", "regex": r"\.fastq\.gz$"},
            "mgi": {"all": [{"use": "fq"}, {"not": {"field": "name", "regex": "^Undetermined"}}]}}
    mgi = m({"use": "mgi"}, matchers=defs)
    assert mgi.matches(data("M-1.fastq.gz"), Ctx())
    assert not mgi.matches(data("Undetermined_S0.fastq.gz"), Ctx())
    assert not mgi.matches(data("M-1.bam"), Ctx())
    either = m({"any": [{"field": "name", "eq": "a"}, {"field": "name", "eq": "b"}]})
    assert either.matches(data("b"), Ctx()) and not either.matches(data("c"), Ctx())
    assert mgi.fields() == {"name"}


def test_use_cycles_and_unknown_names_are_problems():
    _m, problems = build_matcher({"use": "a"}, matchers={"a": {"use": "b"}, "b": {"use": "a"}})
    assert any("uses itself: a -> b -> a" in p for p in problems)
    _m, problems = build_matcher({"use": "nope"}, matchers={"a": "managed"})
    assert problems == ["unknown named matcher 'nope' (matchers: a)"]


def test_bad_regex_and_duration_are_problems():
    assert build_matcher({"field": "name", "regex": "("})[1][0].startswith("bad regex '('")
    assert "not a duration" in build_matcher({"age": {"field": "x", "older_than": "{{ d }}"}}, vars={"d": "soon"})[1][0]


# ------------------------------------------------------------------ properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from orch.matchers.windows import empty_window  # noqa: E402

_seconds = st.integers(0, 400 * 86400)


@settings(max_examples=200, deadline=None)
@given(age_us=st.integers(0, 400 * 86400 * 10**6), days=st.integers(0, 400))
def test_age_matches_exactly_the_stated_inequalities(age_us, days):
    r = dataset(ts(timedelta(microseconds=age_us)))
    age, d = timedelta(microseconds=age_us), timedelta(days=days)
    assert m({"age": {"field": "DateCreated", "older_than": f"{days}d"}}).matches(r, Ctx()) is (age > d)
    assert m({"age": {"field": "DateCreated", "younger_than": f"{days}d"}}).matches(r, Ctx()) is (age < d)
    assert m({"not": {"age": {"field": "DateCreated", "older_than": f"{days}d"}}}).matches(r, Ctx()) is (age <= d)


constraint = st.tuples(st.sampled_from(["older_than", "younger_than"]), st.booleans(), _seconds)


@settings(max_examples=200, deadline=None)
@given(cs=st.lists(constraint, min_size=1, max_size=4))
def test_contradictory_window_check_agrees_with_brute_force(cs):
    items = []
    for key, negate, secs in cs:
        age = {"age": {"field": "DateCreated", key: f"{secs}s"}}
        items.append(m({"not": age} if negate else age))
    candidates = {timedelta(seconds=s) + delta for _k, _n, s in cs
                  for delta in (timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1))}
    candidates |= {timedelta(0), timedelta(days=1000), -timedelta(days=1000)}  # future timestamps too

    def holds(age):
        r = dataset(ts(age))
        return all(x.matches(r, Ctx()) for x in items)

    satisfiable = any(holds(a) for a in candidates)
    assert (empty_window(items) is None) == satisfiable
