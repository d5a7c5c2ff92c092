"""The run search language, compiled to SQLAlchemy Core over the ``wb_`` tables.

It is MLflow's language plus ``or`` and parentheses::

    metrics.auc > 0.9 and (params.model = 'xgb' or tags.`data set` ilike 'imagenet%')

:func:`parse_filter` turns text into a small AST, :func:`filter_clause` compiles it to a
WHERE clause over ``wb_runs`` and :func:`apply_order_by` adds the runs table's sort; their
parts :func:`compile_filter`, :func:`key_rows` and :func:`order_keys` serve the planner in
``workbench.tracking.search``.

Semantics, as in MLflow: a metric, param or tag condition matches runs that *have* the
key with a matching value, so ``!=`` needs the key too and ``is null`` means "key absent".
A latest metric value of NaN (stored as NULL) matches no comparison and sorts last, like a
missing key. ``like`` is case-sensitive on every backend, ``ilike`` is not; in patterns a
backslash escapes ``%``, ``_`` and itself.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Boolean, ColumnElement, Select, Table, and_, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from workbench.errors import InvalidArgument
from workbench.store.tables import LatestMetricRow, ParamRow, RunRow, TagRow, UserRow

__all__ = [
    "And", "Column", "Comparison", "Expr", "Or", "apply_order_by", "compile_filter", "experiment_scope",
    "filter_clause", "key_rows", "order_keys", "parse_filter", "parse_order_by",
]  # fmt: skip

_RUNS = RunRow.__table__
_USERS = UserRow.__table__
_KEYED = {"metric": LatestMetricRow.__table__, "param": ParamRow.__table__, "tag": TagRow.__table__}
_PREFIXES = {
    "metrics": "metric", "metric": "metric", "params": "param", "param": "param", "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute", "run": "attribute",
}  # fmt: skip
_ALIASES = {"name": "run_name", "id": "run_id", "created": "start_time"}
_ATTRIBUTE_COLUMNS = {
    "status": _RUNS.c.status, "run_name": _RUNS.c.name, "run_id": _RUNS.c.id,
    "start_time": _RUNS.c.start_time, "end_time": _RUNS.c.end_time,
    "user": _USERS.c.name,  # reached through wb_runs.owner_id, see _compile
    "notebook_path": _RUNS.c.notebook_path, "git_commit": _RUNS.c.git_commit,
}  # fmt: skip
_NUMERIC_ATTRIBUTES = {"start_time", "end_time"}
_COMPARATORS = "(=, !=, <, <=, >, >=, like, ilike, in, is)"
_ATTRIBUTE_NAMES = ", ".join(_ATTRIBUTE_COLUMNS)
_COLUMN_HINT = "a column such as metrics.auc, params.lr, tags.team or status"
_MAX_DEPTH = 50  # parentheses; keeps recursion far from Python's limit
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_BARE_KEY = re.compile(r"[^\s=!<>(),'\"`]+")
_OPERATORS = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
    "in": lambda column, values: column.in_(values),
    "is null": lambda column, _: column.is_(None), "is not null": lambda column, _: column.is_not(None),
    "has value": lambda column, _: column.is_not(None),
}  # fmt: skip
_KEYWORDS = {"and", "or", "not", "like", "ilike", "in", "is", "null"}

Value = str | int | float


# --- AST -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """What a condition looks at: ``kind`` is metric, param, tag or attribute; ``key``
    is the key, or the canonical attribute name (``run_name``, not ``name``)."""

    kind: str
    key: str

    @property
    def numeric(self) -> bool:
        return self.kind == "metric" or (self.kind == "attribute" and self.key in _NUMERIC_ATTRIBUTES)

    def __str__(self) -> str:
        if self.kind == "attribute":
            return self.key
        key = self.key if _BARE_KEY.fullmatch(self.key) else "`" + self.key.replace("`", "``") + "`"
        return f"{self.kind}s.{key}"


@dataclass(frozen=True)
class Comparison:
    """``column op value``; ``op`` is canonical (``=``, ``!=``, ``not like``, ``is null``...),
    ``value`` a tuple for ``in``/``not in`` and None for ``is [not] null``. One op has no
    syntax: ``has value``, the key is present and not NaN (what a sort by it puts first)."""

    column: Column
    op: str
    value: Value | tuple[Value, ...] | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr = Comparison | And | Or


# --- Tokens ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # word, column (prefix + quoted key), string, op, "(", ")", ",", end
    text: str  # as written, for messages
    pos: int  # 0-based index into the text
    value: object = None  # a string's contents, or (prefix, key) for a quoted column

    def describe(self) -> str:
        return "the end of the filter" if self.kind == "end" else repr(self.text)


def _malformed(pos: int, message: str) -> InvalidArgument:
    return InvalidArgument(f"Malformed filter at position {pos + 1}: {message}")


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Read the quoted string at ``start``; returns its contents and the index past it.
    The quote is escaped by doubling it or with a backslash; ``\\\\`` is one backslash;
    any other backslash stays (so Windows paths need no escaping)."""
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        c, after = text[i], text[i + 1 : i + 2]
        if (c == "\\" and after in (quote, "\\")) or (c == quote and after == quote):
            out.append(after)
            i += 2
        elif c == quote:
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise _malformed(start, f"the string starting here has no closing {quote}")


def _tokenize(text: str) -> list[_Token]:
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            tokens.append(_Token(c, c, i))
            i += 1
        elif c in "=!<>":
            op = text[i : i + 2] if text[i : i + 2] in ("==", "!=", "<>", "<=", ">=") else c
            if op == "!":
                raise _malformed(i, "expected '!=' or 'not'")
            tokens.append(_Token("op", op, i))
            i += len(op)
        elif c in "'\"":
            value, end = _quoted(text, i)
            tokens.append(_Token("string", text[i:end], i, value))
            i = end
        elif c == "`":
            raise _malformed(i, "backticks quote a key after its prefix, e.g. metrics.`val loss`")
        else:
            match = _BARE_KEY.match(text, i)
            assert match is not None
            word, start, i = match.group(), i, match.end()
            # metrics.`val loss` and tags."mlflow.user": a prefix glued to a quoted key.
            if word.endswith(".") and i < len(text) and text[i] in '`"':
                key, i = _quoted(text, i)
                tokens.append(_Token("column", text[start:i], start, (word[:-1], key)))
            else:
                tokens.append(_Token("word", word, start))
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --- Parser ----------------------------------------------------------------------------
def _column(tok: _Token) -> Column:
    """Resolve an identifier token to a Column, or explain what is wrong with it."""
    if tok.kind == "column":
        prefix, key = tok.value  # type: ignore[misc]
    elif tok.kind == "word" and tok.text.lower() not in _KEYWORDS and not _NUMBER.fullmatch(tok.text):
        prefix, _, key = tok.text.partition(".") if "." in tok.text else ("", "", tok.text)
    else:
        raise _malformed(tok.pos, f"expected {_COLUMN_HINT}, got {tok.describe()}")
    kind = _PREFIXES.get(prefix.lower()) if prefix else "attribute"
    if kind is None:
        raise _unknown_attribute(tok)
    if not key:
        raise _malformed(tok.pos, f"expected a key after {tok.text!r}, e.g. {prefix}.auc")
    if kind == "attribute":
        key = _ALIASES.get(key.lower(), key.lower())
        if key not in _ATTRIBUTE_COLUMNS:
            raise _unknown_attribute(tok)
    return Column(kind, key)


def _unknown_attribute(tok: _Token) -> InvalidArgument:
    return InvalidArgument(
        f"Unknown attribute {tok.text!r} at position {tok.pos + 1}; use one of: {_ATTRIBUTE_NAMES}, "
        "or a key such as metrics.auc, params.lr or tags.team"
    )


def _type_error(column: Column, tok: _Token, *, like: bool = False) -> InvalidArgument:
    where = f" (at position {tok.pos + 1})"
    if column.numeric:
        what = "numeric" if column.kind == "metric" else "a time in milliseconds since the epoch"
        what += "; like and ilike apply to params, tags and text attributes" if like else ""
        example = "0.9" if column.kind == "metric" else "1700000000000"
        hint = f"compare it with a number, e.g. {column} > {example}"
        return InvalidArgument(f"{column} is {what}: {hint}{where}")
    example = tok.value if tok.kind == "string" else tok.text
    kind = "a string" if column.kind != "attribute" else "text"
    return InvalidArgument(f"{column} is {kind}: quote the value, e.g. {column} = '{example}'{where}")


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def accept(self, *words: str) -> str | None:
        """Take the next token if it is one of these keywords; returns it in lower case."""
        tok = self.peek()
        if tok.kind == "word" and tok.text.lower() in words:
            return self.take().text.lower()
        return None

    def parse(self) -> Expr:
        expr = self.disjunction()
        tok = self.peek()
        if tok.kind != "end":
            what = "')' without a matching '('" if tok.kind == ")" else tok.describe()
            raise _malformed(tok.pos, f"expected 'and', 'or' or the end of the filter, got {what}")
        return expr

    def disjunction(self) -> Expr:
        items = [self.conjunction()]
        while self.accept("or"):
            items.append(self.conjunction())
        return _flatten(Or, items)

    def conjunction(self) -> Expr:
        items = [self.term()]
        while self.accept("and"):
            items.append(self.term())
        return _flatten(And, items)

    def term(self) -> Expr:
        if self.peek().kind != "(":
            return self.comparison()
        opening = self.take()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _malformed(opening.pos, f"parentheses nest deeper than {_MAX_DEPTH}")
        expr = self.disjunction()
        tok = self.take()
        if tok.kind != ")":
            where = f"position {opening.pos + 1}"
            raise _malformed(tok.pos, f"expected ')' to close the '(' at {where}, got {tok.describe()}")
        self.depth -= 1
        return expr

    def comparison(self) -> Comparison:
        col_tok = self.take()
        column = _column(col_tok)
        op_tok = self.take()
        op = self.comparator(op_tok, col_tok)
        if op.endswith("like") and column.numeric:
            raise _type_error(column, op_tok, like=True)
        if op.startswith("is"):
            return Comparison(column, op)
        if op.endswith("in"):
            return Comparison(column, op, self.value_list(column, op_tok))
        return Comparison(column, op, self.value(column, op_tok))

    def comparator(self, tok: _Token, after: _Token) -> str:
        if tok.kind == "op":
            return {"==": "=", "<>": "!="}.get(tok.text, tok.text)
        word = tok.text.lower() if tok.kind == "word" else ""
        if word in ("like", "ilike", "in"):
            return word
        if word == "not" and (negated := self.accept("like", "ilike", "in")):
            return "not " + negated
        if word == "is":
            op = "is not null" if self.accept("not") else "is null"
            if not self.accept("null"):
                raise _malformed(self.peek().pos, f"expected 'null' after 'is', got {self.peek().describe()}")
            return op
        got = tok.describe()
        raise _malformed(tok.pos, f"expected a comparator {_COMPARATORS} after {after.text!r}, got {got}")

    def value(self, column: Column, after: _Token) -> Value:
        tok = self.take()
        if tok.kind == "string":
            if column.numeric:
                raise _type_error(column, tok)
            assert isinstance(tok.value, str)
            return tok.value
        if tok.kind == "word" and _NUMBER.fullmatch(tok.text):
            if not column.numeric:
                raise _type_error(column, tok)
            return int(tok.text) if _INTEGER.fullmatch(tok.text) else float(tok.text)
        if tok.kind == "word" and tok.text.lower() not in _KEYWORDS and not column.numeric:
            raise _type_error(column, tok)  # an unquoted word: say how to quote it
        wanted = "a number" if column.numeric else "a quoted string"
        raise _malformed(tok.pos, f"expected {wanted} after {after.text!r}, got {tok.describe()}")

    def value_list(self, column: Column, after: _Token) -> tuple[Value, ...]:
        tok = self.take()
        if tok.kind != "(":
            got = tok.describe()
            raise _malformed(tok.pos, f"expected '(' after {after.text!r}, e.g. in ('a', 'b'), got {got}")
        values = [self.value(column, tok)]
        while (sep := self.take()).kind == ",":
            values.append(self.value(column, sep))
        if sep.kind != ")":
            raise _malformed(sep.pos, f"expected ',' or ')' in the list, got {sep.describe()}")
        return tuple(values)


def _flatten(cls: type[And | Or], items: list[Expr]) -> Expr:
    # a and (b and c) is one flat And: shallow SQL, and equal ASTs for equal meanings.
    if len(items) == 1:
        return items[0]
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def parse_filter(text: str | None) -> Expr | None:
    """Parse a run filter into its AST; None for empty or blank text.

    Example:
        >>> parse_filter("metrics.auc > 0.9")
        Comparison(column=Column(kind='metric', key='auc'), op='>', value=0.9)

    Raises:
        InvalidArgument: the text is malformed; the message names the position.
    """
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


# --- SQL -------------------------------------------------------------------------------
class _CaseSensitiveLike(FunctionElement[bool]):
    """``column LIKE pattern``, case-sensitive everywhere: SQLite's LIKE folds ASCII case,
    so there it becomes GLOB with a translated pattern. Args: column, LIKE pattern, GLOB pattern."""

    type = Boolean()
    name = "wb_like"
    inherit_cache = True


@compiles(_CaseSensitiveLike)
def _compile_like(element: _CaseSensitiveLike, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    column, pattern, _ = element.clauses
    return "(" + compiler.process(column.like(pattern, escape="\\"), **kw) + ")"


@compiles(_CaseSensitiveLike, "sqlite")
def _compile_glob(element: _CaseSensitiveLike, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    column, _, pattern = element.clauses
    return "(" + compiler.process(column.op("GLOB")(pattern), **kw) + ")"


def _like_patterns(pattern: str) -> tuple[str, str]:
    """Our pattern as (LIKE ... ESCAPE '\\' pattern, SQLite GLOB pattern). In ours a backslash
    escapes %, _ and itself, and is a literal backslash before anything else."""
    like, glob, i = [], [], 0
    while i < len(pattern):
        escaped = pattern[i : i + 2] in ("\\%", "\\_", "\\\\")
        c = pattern[i + 1] if escaped else pattern[i]
        i += 2 if escaped else 1
        if c in "%_" and not escaped:
            like.append(c)
            glob.append("*" if c == "%" else "?")
        else:
            like.append("\\" + c if c in "%_\\" else c)
            glob.append(f"[{c}]" if c in "*?[" else c)
    return "".join(like), "".join(glob)


def _condition(column: ColumnElement, op: str, value: object) -> ColumnElement[bool]:
    positive = op.removeprefix("not ")  # not like, not ilike, not in
    if positive == "like":
        condition: ColumnElement[bool] = _CaseSensitiveLike(column, *_like_patterns(str(value)))
    elif positive == "ilike":
        condition = column.ilike(_like_patterns(str(value))[0], escape="\\")
    else:
        condition = _OPERATORS[positive](column, value)
    return condition if positive == op else not_(condition)


def _key_conditions(table: Table, expr: Comparison) -> list[ColumnElement[bool]]:
    """What a row of wb_params, wb_latest_metrics or wb_tags must meet for ``expr``: the key,
    and the value's condition unless ``expr`` is only about the key (``is [not] null``)."""
    conditions = [table.c.key == expr.column.key]
    if expr.op not in ("is null", "is not null"):
        conditions.append(_condition(table.c.value, expr.op, expr.value))
    return conditions


def compile_filter(expr: Expr, *, run_id: ColumnElement[str] = _RUNS.c.id) -> ColumnElement[bool]:
    """Compile a parsed filter to a WHERE clause on the run whose id is ``run_id``: a
    ``wb_runs.id`` by default, or the ``run_id`` of a query driven by an index (see
    ``search.matching_runs``). Attribute conditions read ``wb_runs``, which must be in the FROM.

    Example:
        >>> if (expr := parse_filter("metrics.auc > 0.9")) is not None:
        ...     stmt = select(RunRow.id).where(compile_filter(expr))
    """
    if isinstance(expr, And):
        return and_(*(compile_filter(item, run_id=run_id) for item in expr.items))
    if isinstance(expr, Or):
        return or_(*(compile_filter(item, run_id=run_id) for item in expr.items))
    column = expr.column
    if column.kind in _KEYED:
        # EXISTS on the (run_id, key) primary key: one index probe per run. Measured against
        # "run_id IN (SELECT run_id ... WHERE experiment_id, key, value)": SQLite builds that
        # set row by row, which costs more than the probes once an index drives the query.
        table = _KEYED[column.kind]
        probe = select(table.c.run_id).where(table.c.run_id == run_id, *_key_conditions(table, expr))
        probe = probe.correlate_except(table)
        return ~probe.exists() if expr.op == "is null" else probe.exists()
    if column.key == "user":
        # Uncorrelated, so evaluated once: the matching user ids.
        owners = select(_USERS.c.id).where(_condition(_USERS.c.name, expr.op, expr.value))
        return _RUNS.c.owner_id.in_(owners.scalar_subquery())
    return _condition(_ATTRIBUTE_COLUMNS[column.key], expr.op, expr.value)


def filter_clause(text: str | None) -> ColumnElement[bool] | None:
    """Compile a run filter to a WHERE clause over ``wb_runs``; None for blank text.

    Example:
        >>> stmt = select(RunRow.id).where(RunRow.experiment_id == 1)
        >>> if (clause := filter_clause("metrics.auc > 0.9 and params.model = 'xgb'")) is not None:
        ...     stmt = stmt.where(clause)

    Raises:
        InvalidArgument: the filter is malformed or compares a column with the wrong type.
    """
    expr = parse_filter(text)
    return None if expr is None else compile_filter(expr)


def experiment_scope(column: ColumnElement[int], experiment_ids: Sequence[int]) -> ColumnElement[bool]:
    """``column`` is one of these experiments (``=`` for one, the usual case)."""
    return column == experiment_ids[0] if len(experiment_ids) == 1 else column.in_(experiment_ids)


def key_rows(expr: Comparison, experiment_ids: Sequence[int]) -> Select:
    """SELECT ``run_id`` of the rows of ``expr``'s key in these experiments that satisfy it:
    one range of the (experiment_id, key, value) index. Any metric, param or tag comparison
    but ``is null``, which no row satisfies.

    Example:
        >>> xgb_runs = key_rows(Comparison(Column("param", "model"), "=", "xgb"), [1])
    """
    table = _KEYED[expr.column.kind].alias()
    scope = experiment_scope(table.c.experiment_id, experiment_ids)
    return select(table.c.run_id).where(scope, *_key_conditions(table, expr))


# --- ORDER BY --------------------------------------------------------------------------
def _order_item(item: str) -> tuple[Column, bool]:
    """``<column> [ASC|DESC]`` -> (column, descending)."""
    usage = f"Invalid order_by {item!r}: use '<column> [ASC|DESC]' such as 'metrics.auc DESC'"
    try:
        tokens = _tokenize(item) if isinstance(item, str) else []
        if tokens and tokens[0].kind != "end":
            column = _column(tokens[0])
            direction = tokens[1].text.lower() if tokens[1].kind == "word" else ""
            if direction in ("asc", "desc") and tokens[2].kind == "end":
                return column, direction == "desc"
            if tokens[1].kind == "end":
                return column, False
    except InvalidArgument as exc:
        if exc.message.startswith("Unknown attribute"):
            raise InvalidArgument(f"{usage}; unknown attribute, use one of: {_ATTRIBUTE_NAMES}") from None
    raise InvalidArgument(usage)


def parse_order_by(order_by: Sequence[str]) -> list[tuple[Column, bool]]:
    """``order_by`` items as (column, descending) pairs.

    Example:
        >>> parse_order_by(["metrics.auc DESC"])
        [(Column(kind='metric', key='auc'), True)]

    Raises:
        InvalidArgument: an item is not ``<column> [ASC|DESC]``.
    """
    return [_order_item(item) for item in order_by]


def order_keys(stmt: Select, terms: Sequence[tuple[Column, bool]]) -> tuple[Select, list[ColumnElement]]:
    """The ORDER BY keys of ``terms`` followed by newest first, then id, and ``stmt`` (a
    select over ``wb_runs``) with the LEFT OUTER JOINs they read. Runs missing a key, or
    whose metric is NaN, sort last in both directions."""
    keys = []
    for column, descending in terms:
        if column.kind in _KEYED:
            joined = _KEYED[column.kind].alias()
            stmt = stmt.outerjoin(joined, and_(joined.c.run_id == _RUNS.c.id, joined.c.key == column.key))
            sort_key = joined.c.value
        elif column.key == "user":
            owner = _USERS.alias()
            stmt = stmt.outerjoin(owner, owner.c.id == _RUNS.c.owner_id)
            sort_key = owner.c.name
        else:
            sort_key = _ATTRIBUTE_COLUMNS[column.key]
        keys.append((sort_key.desc() if descending else sort_key.asc()).nulls_last())
    return stmt, [*keys, _RUNS.c.start_time.desc(), _RUNS.c.id.asc()]


def apply_order_by(stmt: Select, order_by: list[str]) -> Select:
    """Sort a select over ``wb_runs`` by ``order_by`` items, then newest first, then id.

    Each metric, param or tag item adds a LEFT OUTER JOIN on its (run_id, key) primary
    key. Runs missing the key, or whose metric is NaN, sort last in both directions.

    Example:
        >>> stmt = apply_order_by(select(RunRow.id), ["metrics.auc DESC", "params.lr"]).limit(50)

    Raises:
        InvalidArgument: an item is not ``<column> [ASC|DESC]``.
    """
    stmt, keys = order_keys(stmt, parse_order_by(order_by))
    return stmt.order_by(*keys)
