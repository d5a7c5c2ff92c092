"""The run search language: the parser on its own, then the SQL on real databases.

The SQL tests run on SQLite, and on PostgreSQL too when WORKBENCH_TEST_PG_URL is set.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.conftest import BACKENDS
from workbench.errors import InvalidArgument
from workbench.store.engine import Store
from workbench.store.tables import (
    Base,
    ExperimentRow,
    LatestMetricRow,
    ParamRow,
    RunRow,
    TagRow,
    UserRow,
)
from workbench.tracking.filters import (
    And,
    Column,
    Comparison,
    Or,
    apply_order_by,
    filter_clause,
    parse_filter,
)


def cmp(kind: str, key: str, op: str, value=None) -> Comparison:
    return Comparison(Column(kind, key), op, value)


AUC_GT = cmp("metric", "auc", ">", 0.9)
DEPTH_EQ = cmp("param", "depth", "=", "4")
TEAM_EQ = cmp("tag", "team", "=", "cv")


# --- parser ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_blank_filter_is_none(text):
    assert parse_filter(text) is None
    if text is not None:
        assert filter_clause(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.auc > 0.9", AUC_GT),
        ("metrics.auc>0.9", AUC_GT),
        ("metric.auc > 0.9", AUC_GT),
        ("params.depth = '4'", DEPTH_EQ),
        ('param.depth = "4"', DEPTH_EQ),
        ("tags.team = 'cv'", TEAM_EQ),
        ("tag.team = 'cv'", TEAM_EQ),
        ("metrics.`val loss` < 1", cmp("metric", "val loss", "<", 1)),
        ("tags.\"mlflow.user\" = 'ann'", cmp("tag", "mlflow.user", "=", "ann")),
        ("tags.mlflow.source-name/x:y = 'a'", cmp("tag", "mlflow.source-name/x:y", "=", "a")),
        ("metrics.`a``b` = 1", cmp("metric", "a`b", "=", 1)),
        ("params.in = 'x'", cmp("param", "in", "=", "x")),
        ("status = 'FINISHED'", cmp("attribute", "status", "=", "FINISHED")),
        ("attributes.status = 'FINISHED'", cmp("attribute", "status", "=", "FINISHED")),
        ("attribute.run_name = 'a'", cmp("attribute", "run_name", "=", "a")),
        ("attr.name = 'a'", cmp("attribute", "run_name", "=", "a")),
        ("run.id = 'a'", cmp("attribute", "run_id", "=", "a")),
        ("created > 5", cmp("attribute", "start_time", ">", 5)),
        ("end_time <= 5", cmp("attribute", "end_time", "<=", 5)),
        ("user = 'ann'", cmp("attribute", "user", "=", "ann")),
        ("notebook_path like '%.ipynb'", cmp("attribute", "notebook_path", "like", "%.ipynb")),
        ("git_commit = 'abc'", cmp("attribute", "git_commit", "=", "abc")),
    ],
)
def test_identifiers(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("comparator", "op"),
    [
        ("=", "="), ("==", "="), ("!=", "!="), ("<>", "!="),
        (">", ">"), (">=", ">="), ("<", "<"), ("<=", "<="),
        ("like", "like"), ("LIKE", "like"), ("ilike", "ilike"), ("ILike", "ilike"),
        ("not like", "not like"), ("NOT  LIKE", "not like"), ("not ilike", "not ilike"),
    ],
)  # fmt: skip
def test_binary_comparators(comparator, op):
    assert parse_filter(f"params.p {comparator} 'v'") == cmp("param", "p", op, "v")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.p in ('a')", cmp("param", "p", "in", ("a",))),
        ("params.p IN ('a', \"b\",'c')", cmp("param", "p", "in", ("a", "b", "c"))),
        ("params.p not in ('a','b')", cmp("param", "p", "not in", ("a", "b"))),
        ("metrics.m in (1, 2.5)", cmp("metric", "m", "in", (1, 2.5))),
        ("tags.t is null", cmp("tag", "t", "is null")),
        ("tags.t IS NOT NULL", cmp("tag", "t", "is not null")),
        ("end_time is null", cmp("attribute", "end_time", "is null")),
    ],
)
def test_list_and_null_comparators(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("literal", "value"),
    [("1", 1), ("-3", -3), ("+2", 2), ("0.5", 0.5), (".5", 0.5), ("-1.5e-3", -0.0015), ("2E3", 2000.0)],
)
def test_numbers(literal, value):
    parsed = parse_filter(f"metrics.m = {literal}")
    assert parsed == cmp("metric", "m", "=", value)
    assert type(parsed.value) is type(value)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it''s'", "it's"),
        (r"'it\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        (r'"say \"hi\""', 'say "hi"'),
        ('"it\'s"', "it's"),
        (r"'a\\b'", "a\\b"),
        (r"'C:\Users'", "C:\\Users"),
        ("''", ""),
        ("'and or ( ) = '", "and or ( ) = "),
    ],
)
def test_strings(literal, value):
    assert parse_filter(f"params.p = {literal}") == cmp("param", "p", "=", value)


def test_and_binds_tighter_than_or():
    a, b, c = (cmp("metric", k, ">", 1) for k in "abc")
    assert parse_filter("metrics.a > 1 and metrics.b > 1 or metrics.c > 1") == Or((And((a, b)), c))
    assert parse_filter("metrics.a > 1 OR metrics.b > 1 AND metrics.c > 1") == Or((a, And((b, c))))
    assert parse_filter("(metrics.a > 1 or metrics.b > 1) and metrics.c > 1") == And((Or((a, b)), c))


def test_nested_groups_flatten():
    a, b, c = (cmp("metric", k, ">", 1) for k in "abc")
    assert parse_filter("metrics.a > 1 and (metrics.b > 1 and metrics.c > 1)") == And((a, b, c))
    assert parse_filter("((metrics.a > 1)) or (metrics.b > 1 or (metrics.c > 1))") == Or((a, b, c))


def test_column_str_quotes_awkward_keys():
    assert str(Column("metric", "auc")) == "metrics.auc"
    assert str(Column("tag", "mlflow.user")) == "tags.mlflow.user"
    assert str(Column("metric", "val loss")) == "metrics.`val loss`"
    assert str(Column("attribute", "start_time")) == "start_time"
    assert Column("metric", "x").numeric and Column("attribute", "end_time").numeric
    assert not Column("param", "x").numeric and not Column("attribute", "status").numeric


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.auc auc2",
            "Malformed filter at position 13: expected a comparator "
            "(=, !=, <, <=, >, >=, like, ilike, in, is) after 'metrics.auc', got 'auc2'",
        ),
        ("metrics.auc > 'a'", "metrics.auc is numeric: compare it with a number, e.g. metrics.auc > 0.9"),
        ("metrics.auc like 'a%'", "metrics.auc is numeric"),
        (
            "start_time ilike '1%'",
            "start_time is a time in milliseconds since the epoch; like and ilike apply",
        ),
        ("start_time = 'yesterday'", "start_time is a time in milliseconds since the epoch"),
        ("params.depth = 4", "params.depth is a string: quote the value, e.g. params.depth = '4'"),
        ("tags.t in ('a', 1)", "tags.t is a string: quote the value, e.g. tags.t = '1'"),
        ("status = FINISHED", "status is text: quote the value, e.g. status = 'FINISHED'"),
        (
            "foo = 'x'",
            "Unknown attribute 'foo' at position 1; use one of: status, run_name, run_id, start_time, "
            "end_time, user, notebook_path, git_commit",
        ),
        ("metricz.auc > 1", "Unknown attribute 'metricz.auc'"),
        ("attributes.auc > 1", "Unknown attribute 'attributes.auc'"),
        ("metrics. > 1", "position 1: expected a key after 'metrics.'"),
        ("metrics.a >", "position 12: expected a number after '>', got the end of the filter"),
        ("metrics.a > abc", "position 13: expected a number after '>', got 'abc'"),
        ("params.a = and", "position 12: expected a quoted string after '=', got 'and'"),
        (
            "(metrics.a > 1",
            "position 15: expected ')' to close the '(' at position 1, got the end of the filter",
        ),
        ("metrics.a > 1)", "position 14: expected 'and', 'or' or the end of the filter, got ')' without"),
        ("metrics.a > 1 metrics.b > 1", "position 15: expected 'and', 'or' or the end of the filter"),
        ("metrics.a > 1 and", "position 18: expected a column such as metrics.auc"),
        (
            "and metrics.a > 1",
            "position 1: expected a column such as metrics.auc, params.lr, tags.team or status",
        ),
        ("1 = metrics.a", "position 1: expected a column"),
        ("'x' = params.a", "position 1: expected a column"),
        ("params.a = 'x", "position 12: the string starting here has no closing '"),
        ("metrics.`a b > 1", "position 9: the string starting here has no closing `"),
        ("`a` = 'x'", "position 1: backticks quote a key"),
        ("metrics.a ! 1", "position 11: expected '!='"),
        ("metrics.a is nul", "position 14: expected 'null' after 'is', got 'nul'"),
        ("metrics.a is not 1", "position 18: expected 'null' after 'is', got '1'"),
        ("metrics.a not 1", "position 11: expected a comparator"),
        ("params.a in 'x'", "position 13: expected '(' after 'in'"),
        ("params.a in ()", "position 14: expected a quoted string after '(', got ')'"),
        ("params.a in ('x' 'y')", "position 18: expected ',' or ')' in the list, got \"'y'\""),
        ("params.a in ('x',)", "position 18: expected a quoted string after ','"),
        ("(" * 60 + "metrics.a > 1" + ")" * 60, "position 51: parentheses nest deeper than 50"),
    ],
)
def test_errors_name_position_and_fix(text, message):
    with pytest.raises(InvalidArgument) as info:
        parse_filter(text)
    assert message in info.value.message
    with pytest.raises(InvalidArgument):
        filter_clause(text)


@pytest.mark.parametrize(
    "item",
    [
        "x",
        "",
        "  ",
        "metrics.auc up",
        "metrics.auc DESC x",
        "DESC",
        "metrics.",
        "metrics.auc > 1",
        "`a` DESC",
    ],
)
def test_order_by_errors(item):
    with pytest.raises(InvalidArgument, match=r"Invalid order_by .*: use '<column> \[ASC\|DESC\]' such as"):
        apply_order_by(select(RunRow.id), [item])


def test_order_by_unknown_attribute_lists_the_names():
    with pytest.raises(InvalidArgument, match="use one of: status, run_name"):
        apply_order_by(select(RunRow.id), ["foo DESC"])


# --- SQL on real databases -------------------------------------------------------------


def _backends() -> list:
    return [pytest.param(b, id=b, marks=[pytest.mark.postgres] if b == "postgresql" else []) for b in BACKENDS]


def _open_store(backend: str, tmp_path) -> Store:
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 't.db'}")
        store.ensure_schema()
    else:
        store = Store(os.environ["WORKBENCH_TEST_PG_URL"])
        Base.metadata.drop_all(store.engine)
        Base.metadata.create_all(store.engine)
    return store


def rid(label: str) -> str:
    return label.ljust(32, "0")


# label: (name, status, start_time, end_time, owner, notebook_path, git_commit)
RUNS = {
    "r1": ("Alpha-1", "FINISHED", 1000, 2000, "alice", "work/train.ipynb", "abc123"),
    "r2": ("alpha-2", "RUNNING", 2000, None, "bob", None, None),
    "r3": ("beta", "FAILED", 3000, 3500, "alice", None, None),
    "r4": ("ABC", "FINISHED", 4000, 4100, "bob", None, None),
    "r5": ("abc_def", "KILLED", 5000, 5100, "alice", None, None),
    "r6": ("a%b*c", "FINISHED", 6000, 6100, "bob", None, None),
}
METRICS = {  # None is NaN
    "auc": {"r1": 0.95, "r2": 0.8, "r3": None, "r5": 0.5, "r6": 0.8},
    "loss": {"r1": 0.1, "r2": 0.2},
    "val loss": {"r1": 0.3},
}
PARAMS = {"depth": {"r1": "4", "r2": "10", "r3": "4", "r5": "2"}, "model": {"r6": "xgb"}}
TAGS = {
    "team": {"r1": "vision", "r2": "NLP", "r4": "vision", "r5": "Vision"},
    "mlflow.user": {"r1": "alice"},
    "note": {"r3": "it's"},
}


def _seed(store: Store) -> None:
    users = {"alice": 1, "bob": 2}

    def rows(table: dict) -> list[dict]:
        return [
            {"run_id": rid(label), "key": key, "value": value, "experiment_id": 1}
            for key, by_run in table.items()
            for label, value in by_run.items()
        ]

    with store.engine.begin() as conn:
        conn.execute(insert(UserRow), [{"id": i, "name": n, "created_at": 0} for n, i in users.items()])
        conn.execute(insert(ExperimentRow), [{"id": 1, "name": "e", "owner_id": 1, "created_at": 0}])
        conn.execute(
            insert(RunRow),
            [
                {
                    "id": rid(label), "experiment_id": 1, "owner_id": users[owner], "name": name,
                    "status": status, "start_time": start, "end_time": end,
                    "notebook_path": notebook, "git_commit": commit,
                }
                for label, (name, status, start, end, owner, notebook, commit) in RUNS.items()
            ],
        )  # fmt: skip
        conn.execute(insert(LatestMetricRow), [{**r, "step": 0, "timestamp": 0} for r in rows(METRICS)])
        conn.execute(insert(ParamRow), rows(PARAMS))
        conn.execute(insert(TagRow), rows(TAGS))


@pytest.fixture(scope="module", params=_backends())
def store(request, tmp_path_factory):
    store = _open_store(request.param, tmp_path_factory.mktemp(request.param))
    _seed(store)
    yield store
    store.dispose()


def matching(store: Store, text: str) -> set[str]:
    stmt = select(RunRow.id).where(RunRow.experiment_id == 1, filter_clause(text))
    with store.engine.connect() as conn:
        return {run_id.rstrip("0") for run_id in conn.scalars(stmt)}


def ordered(store: Store, order_by: list[str], text: str = "") -> list[str]:
    stmt = select(RunRow.id).where(RunRow.experiment_id == 1)
    if (clause := filter_clause(text)) is not None:
        stmt = stmt.where(clause)
    with store.engine.connect() as conn:
        return [run_id.rstrip("0") for run_id in conn.scalars(apply_order_by(stmt, order_by))]


def labels(text: str) -> set[str]:
    return set(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # like is case-sensitive on every backend, ilike is not
        ("run_name like 'a%'", "r2 r5 r6"),
        ("run_name ilike 'a%'", "r1 r2 r4 r5 r6"),
        ("run_name LIKE 'ABC'", "r4"),
        ("run_name like 'abc'", ""),
        ("run_name not like 'a%'", "r1 r3 r4"),
        ("run_name not ilike 'a%'", "r3"),
        ("tags.team like 'v%'", "r1 r4"),
        ("tags.team ilike 'V%'", "r1 r4 r5"),
        ("tags.team not like 'v%'", "r2 r5"),
        # wildcards and escapes: % _ are wildcards, \% \_ literal, GLOB's * ? [ are plain characters
        ("run_name like 'a_b%'", "r6"),
        (r"run_name like 'a\%b%'", "r6"),
        (r"run_name like 'abc\_%'", "r5"),
        (r"run_name like 'abc\_'", ""),
        ("run_name like '%*%'", "r6"),
        ("run_name like '%?%' or run_name like '%[%'", ""),
        ("run_name ilike 'A%B*C'", "r6"),
        # metrics: NaN (NULL) never matches, missing keys never match
        ("metrics.auc > 0.7", "r1 r2 r6"),
        ("metrics.auc != 0.5", "r1 r2 r6"),
        ("metrics.auc <= 1", "r1 r2 r5 r6"),
        ("metrics.auc = 0.8", "r2 r6"),
        ("metrics.auc in (0.8, 0.5)", "r2 r5 r6"),
        ("metrics.auc not in (0.8)", "r1 r5"),
        ("metrics.auc is null", "r4"),
        ("metrics.auc is not null", "r1 r2 r3 r5 r6"),
        ("metrics.`val loss` < 1", "r1"),
        ("metrics.loss >= 0 and metrics.auc >= 0.9", "r1"),
        # params and tags: != and not in need the key
        ("params.depth = '4'", "r1 r3"),
        ("params.depth != '4'", "r2 r5"),
        ("params.depth <> '4'", "r2 r5"),
        ("params.depth in ('4', '2')", "r1 r3 r5"),
        ("params.depth not in ('4')", "r2 r5"),
        ("params.depth is null", "r4 r6"),
        ("param.depth is not null", "r1 r2 r3 r5"),
        ("params.depth > '2'", "r1 r3"),
        ("tags.\"mlflow.user\" = 'alice'", "r1"),
        ("tags.note = 'it''s'", "r3"),
        ('tags.note = "it\'s"', "r3"),
        ("tags.nope = 'x' or tags.nope != 'x'", ""),
        # precedence and grouping
        ("params.depth = '4' or params.depth = '10' and status = 'FINISHED'", "r1 r3"),
        ("(params.depth = '4' or params.depth = '10') and status = 'FINISHED'", "r1"),
        ("params.depth = '4' and status = 'FAILED' or params.model = 'xgb'", "r3 r6"),
        ("params.depth = '4' and (status = 'FAILED' or params.model = 'xgb')", "r3"),
        # attributes
        ("status = 'FINISHED'", "r1 r4 r6"),
        ("attributes.status != 'FINISHED'", "r2 r3 r5"),
        ("status in ('RUNNING', 'KILLED')", "r2 r5"),
        ("start_time > 3000", "r4 r5 r6"),
        ("attr.start_time >= 3000 and end_time < 5000", "r3 r4"),
        ("created <= 2000", "r1 r2"),
        ("end_time is null", "r2"),
        ("end_time is not null", "r1 r3 r4 r5 r6"),
        ("end_time != 0", "r1 r3 r4 r5 r6"),
        ("run_name = 'beta'", "r3"),
        ("name ilike '%ALPHA%'", "r1 r2"),
        (f"run_id = '{rid('r3')}'", "r3"),
        (f"id in ('{rid('r1')}', '{rid('r4')}')", "r1 r4"),
        ("user = 'bob'", "r2 r4 r6"),
        ("user != 'bob'", "r1 r3 r5"),
        ("user like 'al%'", "r1 r3 r5"),
        ("user in ('alice', 'carol')", "r1 r3 r5"),
        ("user = 'carol'", ""),
        ("notebook_path like '%.ipynb'", "r1"),
        ("notebook_path is null", "r2 r3 r4 r5 r6"),
        ("git_commit = 'abc123'", "r1"),
    ],
)
def test_filter_matches(store, text, expected):
    assert matching(store, text) == labels(expected)


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], "r6 r5 r4 r3 r2 r1"),
        # NaN (r3) and missing (r4) go last both ways; ties fall to start_time DESC
        (["metrics.auc DESC"], "r1 r6 r2 r5 r4 r3"),
        (["metrics.auc"], "r5 r6 r2 r1 r4 r3"),
        (["metrics.auc asc"], "r5 r6 r2 r1 r4 r3"),
        (["metric.`val loss` DESC"], "r1 r6 r5 r4 r3 r2"),
        # params sort as strings, missing last
        (["params.depth ASC"], "r2 r5 r3 r1 r6 r4"),
        (["params.depth DESC"], "r3 r1 r5 r2 r6 r4"),
        (["tags.`mlflow.user` DESC"], "r1 r6 r5 r4 r3 r2"),
        (["status ASC", "metrics.auc DESC"], "r3 r1 r6 r4 r5 r2"),
        (["params.depth", "metrics.auc desc"], "r2 r5 r1 r3 r6 r4"),
        (["end_time ASC"], "r1 r3 r4 r5 r6 r2"),
        (["end_time DESC"], "r6 r5 r4 r3 r1 r2"),
        (["start_time"], "r1 r2 r3 r4 r5 r6"),
        (["user DESC"], "r6 r4 r2 r5 r3 r1"),
        (["attributes.user", "created"], "r1 r3 r5 r2 r4 r6"),
    ],
)
def test_order_by(store, order_by, expected):
    assert ordered(store, order_by) == expected.split()


def test_order_by_with_filter_and_limit(store):
    stmt = select(RunRow.id).where(filter_clause("metrics.auc > 0"))
    stmt = apply_order_by(stmt, ["metrics.auc DESC", "params.depth"]).limit(2)
    with store.engine.connect() as conn:
        # The 0.8 tie between r2 and r6 goes to params.depth, which r6 lacks.
        assert [r.rstrip("0") for r in conn.scalars(stmt)] == ["r1", "r2"]


def test_order_by_on_orm_select(store):
    with Session(store.engine) as session:
        runs = session.scalars(apply_order_by(select(RunRow), ["metrics.loss DESC"]).limit(3)).all()
    assert [run.name for run in runs] == ["alpha-2", "Alpha-1", "a%b*c"]


def test_same_shape_different_values_do_not_share_a_cached_statement(store):
    # _CaseSensitiveLike is a custom construct: its patterns must be bound per statement.
    assert matching(store, "run_name like 'a%'") == {"r2", "r5", "r6"}
    assert matching(store, "run_name like 'b%'") == {"r3"}
    assert matching(store, "run_name not like 'b%'") == {"r1", "r2", "r4", "r5", "r6"}
