"""Turning the template's catalog into DDL that names no schema (a ClonePlan)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.tenants.clone.catalog import (
    COLUMNS_SQL,
    COMMENTS_SQL,
    CONSTRAINTS_SQL,
    FUNCTIONS_SQL,
    INDEXES_SQL,
    LIKE_OPTIONS,
    MAX_IDENTIFIER,
    SEQUENCES_SQL,
    TABLES_SQL,
    TRIGGERS_SQL,
    UNSUPPORTED_SQL,
    VIEWS_SQL,
    UnsupportedTemplate,
    qi,
    ql,
)


@dataclass(frozen=True)
class ClonePlan:
    """DDL for one template state; none of it names the schema being created."""

    structure: str  # sequences, tables, functions, defaults, views
    data: str  # rows
    sequences: str  # sequence positions
    finish: str  # late constraints, foreign keys, indexes, triggers, comments
    tables: int


def _strip_prefix(text: str, prefix: str, replacement: str, what: str) -> str:
    if not text.startswith(prefix):
        raise UnsupportedTemplate(f"unexpected definition of {what}: {text[:200]}")
    return replacement + text[len(prefix) :]


def _replace_once(text: str, old: str, new: str, what: str) -> str:
    if old not in text:
        raise UnsupportedTemplate(f"unexpected definition of {what}: {text[:200]}")
    return text.replace(old, new, 1)


def _with_options(options: list[str] | None) -> str:
    return f" WITH ({', '.join(options)})" if options else ""


def _view_order(views: list[tuple]) -> list[tuple]:
    """Views so that each comes after the views it selects from."""
    by_oid = {row[0]: row for row in views}
    ordered: list[tuple] = []
    state: dict[int, str] = {}

    def visit(oid: int) -> None:
        if state.get(oid) == "done":
            return
        if state.get(oid) == "visiting":
            raise UnsupportedTemplate(f"views depend on each other in a cycle ({by_oid[oid][1]})")
        state[oid] = "visiting"
        for ref in by_oid[oid][4]:
            if ref in by_oid:
                visit(ref)
        state[oid] = "done"
        ordered.append(by_oid[oid])

    for oid in by_oid:
        visit(oid)
    return ordered


def generate_plan(cursor, base: str, ns: int) -> ClonePlan:
    params = {"ns": ns}

    def rows(sql: str) -> list[tuple]:
        cursor.execute(sql, params)
        return cursor.fetchall()

    cursor.execute("SELECT quote_ident(%s)", [base])
    base_q = cursor.fetchone()[0]  # how pg_get_*def qualify names with the template
    base_qi = qi(base)

    problems = [row[0] for row in rows(UNSUPPORTED_SQL)]
    if problems:
        raise UnsupportedTemplate(
            f"schema {base} holds objects the fast clone cannot copy exactly: "
            + "; ".join(problems)
        )

    structure: list[str] = []
    data: list[str] = []
    positions: list[str] = []
    finish: list[str] = []
    portable: list[tuple[str, str]] = []  # (what, DDL) that must not name the template

    # Sequences: identity ones come with their table; the others are created here.
    identity_renames: list[str] = []  # also fixes their type, see below
    owned: list[str] = []
    for (
        name,
        type_,
        start,
        increment,
        min_,
        max_,
        cache,
        cycle,
        persistence,
        deptype,
        table,
        column,
    ) in rows(SEQUENCES_SQL):
        if deptype == "i":
            target = f"pg_get_serial_sequence({ql(qi(table))}, {ql(column)})"
            auto = f"{table}_{column}_seq"
            if name != auto or len(auto.encode()) > MAX_IDENTIFIER:
                identity_renames.append(
                    "DO $clone$ DECLARE seq text := " + target + "; BEGIN "
                    f"IF seq <> format('%I.%I', current_schema(), {ql(name)}) THEN "
                    f"EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq, {ql(name)}); "
                    "END IF; END $clone$"
                )
            if type_ != "bigint":
                # LIKE ... INCLUDING IDENTITY copies the options of the sequence but not
                # its type: an integer column would get a bigint sequence.
                identity_renames.append(
                    f"ALTER SEQUENCE {qi(name)} AS {type_} MINVALUE {min_} MAXVALUE {max_}"
                )
        else:
            target = ql(qi(name))
            unlogged = "UNLOGGED " if persistence == "u" else ""
            structure.append(
                f"CREATE {unlogged}SEQUENCE {qi(name)} AS {type_} INCREMENT BY {increment} "
                f"MINVALUE {min_} MAXVALUE {max_} START WITH {start} CACHE {cache} "
                f"{'' if cycle else 'NO '}CYCLE"
            )
            if deptype == "a":  # OWNED BY needs the table: issued after the tables
                owned.append(f"ALTER SEQUENCE {qi(name)} OWNED BY {qi(table)}.{qi(column)}")
        positions.append(
            f"(SELECT setval({target}, s.last_value, s.is_called) FROM {base_qi}.{qi(name)} s)"
        )

    constraints = rows(CONSTRAINTS_SQL)
    inline: dict[str, list[str]] = {}
    late: list[tuple[str, str]] = []  # (table, clause) after the rows: NOT VALID, fn-dependent
    foreign: list[tuple[str, str]] = []
    for name, table, contype, definition, validated, uses_template in constraints:
        clause = f"CONSTRAINT {qi(name)} {definition}"
        portable.append((f"constraint {name} on {table}", definition))
        if contype == "f":
            foreign.append((table, clause))
        elif not validated or uses_template:
            late.append((table, clause))
        else:
            inline.setdefault(table, []).append(clause)

    tables = rows(TABLES_SQL)
    for table, persistence, options, columns, always_identity, replident in tables:
        unlogged = "UNLOGGED " if persistence == "u" else ""
        elements = [f"LIKE {base_qi}.{qi(table)} {LIKE_OPTIONS}", *inline.get(table, [])]
        structure.append(
            f"CREATE {unlogged}TABLE {qi(table)} ({', '.join(elements)}){_with_options(options)}"
        )
        if columns:
            names = ", ".join(qi(column) for column in columns)
            overriding = " OVERRIDING SYSTEM VALUE" if always_identity else ""
            data.append(
                f"INSERT INTO {qi(table)} ({names}){overriding} "
                f"SELECT {names} FROM {base_qi}.{qi(table)}"
            )
        if replident in ("n", "f"):
            identity = "NOTHING" if replident == "n" else "FULL"
            finish.append(f"ALTER TABLE {qi(table)} REPLICA IDENTITY {identity}")
    structure.extend(identity_renames)

    for quoted, kind, definition in (row[1:] for row in rows(FUNCTIONS_SQL)):
        keyword = "PROCEDURE" if kind == "p" else "FUNCTION"
        body = _strip_prefix(
            definition,
            f"CREATE OR REPLACE {keyword} {base_q}.{quoted}(",
            f"CREATE OR REPLACE {keyword} {quoted}(",
            f"function {quoted}",
        )
        portable.append((f"function {quoted}", body))
        structure.append(body)

    column_extras: list[str] = []
    for table, column, generated, stattarget, attoptions, default in rows(COLUMNS_SQL):
        where = f"{qi(table)}.{qi(column)}"
        if default is not None:
            if generated:
                raise UnsupportedTemplate(
                    f"generated column {where} uses an object of schema {base}"
                )
            portable.append((f"default of {where}", default))
            structure.append(
                f"ALTER TABLE {qi(table)} ALTER COLUMN {qi(column)} SET DEFAULT {default}"
            )
        if stattarget is not None and stattarget >= 0:
            column_extras.append(
                f"ALTER TABLE {qi(table)} ALTER COLUMN {qi(column)} SET STATISTICS {stattarget}"
            )
        if attoptions:
            column_extras.append(
                f"ALTER TABLE {qi(table)} ALTER COLUMN {qi(column)} SET ({', '.join(attoptions)})"
            )
    structure.extend(owned)

    for _oid, view, options, definition, _refs in _view_order(rows(VIEWS_SQL)):
        portable.append((f"view {view}", definition))
        structure.append(
            f"CREATE VIEW {qi(view)}{_with_options(options)} AS {definition.rstrip().rstrip(';')}"
        )

    def grouped(clauses: list[tuple[str, str]]) -> list[str]:
        by_table: dict[str, list[str]] = {}
        for table, clause in clauses:
            by_table.setdefault(table, []).append("ADD " + clause)
        return [f"ALTER TABLE {qi(t)} {', '.join(c)}" for t, c in by_table.items()]

    finish.extend(grouped(late))
    finish.extend(grouped(foreign))
    for (
        name,
        name_q,
        table,
        table_q,
        unique,
        definition,
        clustered,
        replident,
        backs_constraint,
    ) in rows(INDEXES_SQL):
        if not backs_constraint:
            unique_kw = "UNIQUE " if unique else ""
            ddl = _replace_once(
                definition,
                f"CREATE {unique_kw}INDEX {name_q} ON {base_q}.{table_q} USING ",
                f"CREATE {unique_kw}INDEX {name_q} ON {table_q} USING ",
                f"index {name}",
            )
            portable.append((f"index {name}", ddl))
            finish.append(ddl)
        if clustered:
            finish.append(f"ALTER TABLE {qi(table)} CLUSTER ON {qi(name)}")
        if replident:
            finish.append(f"ALTER TABLE {qi(table)} REPLICA IDENTITY USING INDEX {qi(name)}")
    finish.extend(column_extras)

    states = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
    for name, table, table_q, definition, enabled, other_q in rows(TRIGGERS_SQL):
        ddl = _replace_once(
            definition, f" ON {base_q}.{table_q} ", f" ON {table_q} ", f"trigger {name}"
        )
        if other_q is not None:
            ddl = _replace_once(
                ddl, f" FROM {base_q}.{other_q} ", f" FROM {other_q} ", f"trigger {name}"
            )
        portable.append((f"trigger {name}", ddl))
        finish.append(ddl)
        if enabled in states:
            finish.append(f"ALTER TABLE {qi(table)} {states[enabled]} TRIGGER {qi(name)}")

    finish.extend(row[0] for row in rows(COMMENTS_SQL))

    # The DDL runs with search_path = the new schema: nothing may still point at the
    # template (say, a function body that qualifies a table with the template's name).
    for what, ddl in portable:
        if f"{base_q}." in ddl or f"{base_qi}." in ddl:
            raise UnsupportedTemplate(f"{what} names schema {base} explicitly: {ddl[:300]}")

    def script(statements: list[str]) -> str:
        return "".join(statement + ";\n" for statement in statements)

    return ClonePlan(
        structure=script(structure),
        data=script(data),
        sequences=script([f"SELECT {', '.join(positions)}"] if positions else []),
        finish=script(finish),
        tables=len(tables),
    )
