"""A fast, exact clone of the template schema: one catalog query and one statement string.

django-tenants clones the template with pg-clone-schema, a plpgsql function
that inspects the catalog object by object while it copies: about two seconds
for forty tables. Here the template's catalog is read once per template state
(FINGERPRINT_SQL changes with any DDL on it) and turned into plain DDL that
names no schema; a clone is then a single multi-statement execute that runs
that DDL with ``search_path`` set to the new schema:

1. non-identity sequences; tables as ``CREATE TABLE t (LIKE template.t ...)``
   with their primary key, unique, exclusion and check constraints inline
   under their original names (LIKE's own INCLUDING INDEXES/CONSTRAINTS would
   rename them, and Django's migrations address both by name);
2. the schema's functions, then column defaults that use a template sequence
   or function (LIKE would keep pointing at the template's), then views;
3. the rows (``INSERT ... SELECT``) and every sequence's position;
4. the remaining checks, foreign keys (after the rows, so table order does not
   matter), the other indexes, triggers, comments.

It all runs in the caller's transaction, or in the implicit transaction of
the one statement string when there is none; nothing is committed here.
Templates using something the DDL would not reproduce exactly (custom types,
partitioning, row security, grants, ...) are refused with UnsupportedTemplate
before anything is created.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

__all__ = ["UnsupportedTemplate", "clone_schema", "clone_sql", "fake_migrate_needed"]

LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)
MAX_IDENTIFIER = 63  # NAMEDATALEN - 1

# pre_migrate/post_migrate receivers that a fake migrate of a clone of an
# up-to-date template may skip: it applies no operation, and the content types
# and permissions they would create are among the copied rows already.
NOOP_ON_CLONE = frozenset(
    {
        "django.contrib.contenttypes.management.inject_rename_contenttypes_operations",
        "django.contrib.contenttypes.management.create_contenttypes",
        "django.contrib.auth.management.create_permissions",
    }
)


class UnsupportedTemplate(Exception):
    """The template schema holds something the fast clone cannot copy exactly."""


@dataclass(frozen=True)
class ClonePlan:
    """DDL for one template state; none of it names the schema being created."""

    structure: str  # sequences, tables, functions, defaults, views
    data: str  # rows
    sequences: str  # sequence positions
    finish: str  # late constraints, foreign keys, indexes, triggers, comments
    tables: int


# (host, port, database, template) -> ((namespace oid, catalog fingerprint), plan)
_plans: dict[tuple, tuple[tuple, ClonePlan]] = {}
_plans_lock = threading.Lock()


def qi(name: str) -> str:
    """An always-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(text: str) -> str:
    """A string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + text.replace("'", "''") + "'"


# --- Reading the template ---------------------------------------------------------

# A digest of every catalog row that describes the template. Each row is named by
# xmin@ctid: any change writes a new row version at a new ctid, so even a change made
# by the transaction that cloned before (same xmin) is noticed. Starts from pg_depend's
# indexed "depends on the schema" rows, so its cost does not grow with the tenant count.
FINGERPRINT_SQL = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = %s),
member AS (
    SELECT d.classid, d.objid
      FROM ns JOIN pg_depend d ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = ns.oid
),
rel AS (
    SELECT c.oid, c.xmin || '@' || c.ctid AS v
      FROM member m JOIN pg_class c ON c.oid = m.objid
     WHERE m.classid = 'pg_class'::regclass
),
idx AS (
    SELECT i.indexrelid AS oid, i.xmin || '@' || i.ctid || ':' || ic.xmin || '@' || ic.ctid AS v
      FROM rel JOIN pg_index i ON i.indrelid = rel.oid JOIN pg_class ic ON ic.oid = i.indexrelid
),
con AS (
    SELECT k.oid, k.xmin || '@' || k.ctid AS v
      FROM rel JOIN pg_constraint k ON k.conrelid = rel.oid
),
trg AS (
    SELECT t.oid, t.xmin || '@' || t.ctid AS v FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid
),
part(x) AS (
    SELECT 'm' || classid || '.' || objid FROM member
    UNION ALL SELECT 'c' || oid || ':' || v FROM rel
    UNION ALL SELECT 'i' || oid || ':' || v FROM idx
    UNION ALL SELECT 'k' || oid || ':' || v FROM con
    UNION ALL SELECT 't' || oid || ':' || v FROM trg
    UNION ALL
    SELECT 'p' || p.oid || ':' || p.xmin || '@' || p.ctid
      FROM member m JOIN pg_proc p ON p.oid = m.objid WHERE m.classid = 'pg_proc'::regclass
    UNION ALL
    SELECT 'y' || y.oid || ':' || y.xmin || '@' || y.ctid
      FROM member m JOIN pg_type y ON y.oid = m.objid WHERE m.classid = 'pg_type'::regclass
    UNION ALL
    SELECT 'a' || a.attrelid || '.' || a.attnum || ':' || a.xmin || '@' || a.ctid
      FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0
    UNION ALL
    SELECT 'd' || ad.oid || ':' || ad.xmin || '@' || ad.ctid
      FROM rel JOIN pg_attrdef ad ON ad.adrelid = rel.oid
    UNION ALL
    SELECT 'r' || r.oid || ':' || r.xmin || '@' || r.ctid
      FROM rel JOIN pg_rewrite r ON r.ev_class = rel.oid
    UNION ALL
    SELECT 's' || s.seqrelid || ':' || s.xmin || '@' || s.ctid
      FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
    UNION ALL
    SELECT 'o' || d.objid || '>' || d.refobjid || '.' || d.refobjsubid || d.deptype::text
      FROM rel JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = rel.oid
     WHERE d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    UNION ALL
    SELECT 'e' || d.classoid || '.' || d.objoid || '.' || d.objsubid || ':'
           || d.xmin || '@' || d.ctid
      FROM (SELECT oid FROM rel UNION ALL SELECT oid FROM idx UNION ALL SELECT oid FROM con
            UNION ALL SELECT oid FROM trg UNION ALL SELECT objid FROM member) o
      JOIN pg_description d ON d.objoid = o.oid
)
SELECT ns.oid::int8, current_setting('search_path'), current_setting('check_function_bodies'),
       (SELECT md5(string_agg(x, ',' ORDER BY x)) FROM part)
  FROM ns
"""

# Everything below runs with search_path = the template only, so that the
# pg_get_*def functions leave the template's own objects unqualified.

UNSUPPORTED_SQL = """
SELECT format('%%s %%I (relkind %%s)',
              CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'm' THEN 'materialized view'
                             WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'composite type'
                             WHEN 'I' THEN 'partitioned index' ELSE 'relation' END,
              c.relname, c.relkind)
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.relkind NOT IN ('r', 'i', 'S', 'v')
UNION ALL
SELECT format('inheritance %%s -> %%s', i.inhrelid::regclass, i.inhparent::regclass)
  FROM pg_inherits i JOIN pg_class c ON c.oid IN (i.inhrelid, i.inhparent)
 WHERE c.relnamespace = %(ns)s
UNION ALL
SELECT format('type %%I', t.typname)
  FROM pg_type t
 WHERE t.typnamespace = %(ns)s AND t.typrelid = 0
   AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typrelid <> 0)
UNION ALL
SELECT format('row level security on %%I', c.relname)
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s
   AND (c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
UNION ALL
SELECT format('grants on %%I', c.relname)
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.relacl IS NOT NULL
UNION ALL
SELECT format('tablespace of %%I', c.relname)
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.reltablespace <> 0
UNION ALL
SELECT format('rule %%I on %%I', r.rulename, c.relname)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
 WHERE c.relnamespace = %(ns)s AND NOT (c.relkind = 'v' AND r.rulename = '_RETURN')
UNION ALL
SELECT format('statistics object %%I', s.stxname)
  FROM pg_statistic_ext s WHERE s.stxnamespace = %(ns)s
UNION ALL
SELECT format('%%s %%I', CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END,
              p.proname)
  FROM pg_proc p WHERE p.pronamespace = %(ns)s AND p.prokind IN ('a', 'w')
UNION ALL
SELECT format('grants on function %%I', p.proname)
  FROM pg_proc p WHERE p.pronamespace = %(ns)s AND p.proacl IS NOT NULL
UNION ALL
SELECT format('operator %%s', o.oprname) FROM pg_operator o WHERE o.oprnamespace = %(ns)s
UNION ALL
SELECT format('collation %%I', c.collname) FROM pg_collation c WHERE c.collnamespace = %(ns)s
UNION ALL
SELECT format('text search configuration %%I', c.cfgname)
  FROM pg_ts_config c WHERE c.cfgnamespace = %(ns)s
UNION ALL
SELECT format('extension member %%s', pg_describe_object(d.classid, d.objid, d.objsubid))
  FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
 WHERE d.deptype = 'e' AND c.relnamespace = %(ns)s
UNION ALL
SELECT format('extension member %%s', pg_describe_object(d.classid, d.objid, d.objsubid))
  FROM pg_depend d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE d.deptype = 'e' AND p.pronamespace = %(ns)s
"""

# ns objects that an expression may depend on (functions, sequences, types)
_NS_OBJECT = """(
      (d.refclassid = 'pg_proc'::regclass
       AND d.refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = %(ns)s))
   OR (d.refclassid = 'pg_class'::regclass AND d.refobjid <> {own}
       AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = %(ns)s))
   OR (d.refclassid = 'pg_type'::regclass
       AND d.refobjid IN (SELECT oid FROM pg_type WHERE typnamespace = %(ns)s)))"""

TABLES_SQL = """
SELECT c.relname, c.relpersistence, c.reloptions,
       ARRAY(SELECT a.attname FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated = '' ORDER BY a.attnum),
       EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attidentity = 'a' AND NOT a.attisdropped),
       c.relreplident
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
 ORDER BY c.oid
"""

# Column options the user set (n_distinct); not the ones the server assigns itself when
# it creates a column (this server's builds add pg_attver=<n>, which differs for every
# table created and cannot be SET) -- the clone gets its own of those.
USER_ATTOPTIONS = "ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE left(o, 3) <> 'pg_')"

COLUMNS_SQL = (
    """
SELECT c.relname, a.attname, a.attgenerated, a.attstattarget, """
    + USER_ATTOPTIONS
    + """,
       CASE WHEN EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                            AND """
    + _NS_OBJECT.format(own="ad.adrelid")
    + """)
            THEN pg_get_expr(ad.adbin, ad.adrelid) END
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attstattarget >= 0 OR ad.oid IS NOT NULL
        OR EXISTS (SELECT 1 FROM unnest(a.attoptions) o WHERE left(o, 3) <> 'pg_'))
 ORDER BY c.oid, a.attnum
"""
)

SEQUENCES_SQL = """
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
       s.seqmax, s.seqcache, s.seqcycle, c.relpersistence, d.deptype, t.relname, a.attname
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  LEFT JOIN pg_class t ON t.oid = d.refobjid
  LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
 WHERE c.relnamespace = %(ns)s
 ORDER BY c.oid
"""

CONSTRAINTS_SQL = (
    """
SELECT k.conname, c.relname, k.contype, pg_get_constraintdef(k.oid), k.convalidated,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE ((d.classid = 'pg_constraint'::regclass AND d.objid = k.oid)
                    OR (d.classid = 'pg_class'::regclass AND d.objid = k.conindid
                        AND k.contype IN ('p', 'u', 'x')))
                  AND """
    + _NS_OBJECT.format(own="k.conrelid")
    + """)
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND k.contype IN ('p', 'u', 'x', 'c', 'f')
 ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'c' THEN 2 WHEN 'f' THEN 3 ELSE 1 END, k.oid
"""
)

INDEXES_SQL = """
SELECT ic.relname, quote_ident(ic.relname), c.relname, quote_ident(c.relname), i.indisunique,
       pg_get_indexdef(i.indexrelid), i.indisclustered, i.indisreplident,
       EXISTS (SELECT 1 FROM pg_constraint k
                WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                  AND k.contype IN ('p', 'u', 'x'))
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
 ORDER BY i.indexrelid
"""

FUNCTIONS_SQL = """
SELECT p.proname, quote_ident(p.proname), p.prokind, pg_get_functiondef(p.oid)
  FROM pg_proc p
 WHERE p.pronamespace = %(ns)s
 ORDER BY p.oid
"""

VIEWS_SQL = """
SELECT c.oid, c.relname, c.reloptions, pg_get_viewdef(c.oid),
       ARRAY(SELECT DISTINCT d.refobjid::int8
               FROM pg_rewrite r
               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                               AND d.refclassid = 'pg_class'::regclass
              WHERE r.ev_class = c.oid AND d.refobjid <> c.oid)
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'v'
 ORDER BY c.oid
"""

TRIGGERS_SQL = """
SELECT t.tgname, c.relname, quote_ident(c.relname), pg_get_triggerdef(t.oid), t.tgenabled,
       CASE WHEN r.relnamespace = %(ns)s THEN quote_ident(r.relname) END
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  LEFT JOIN pg_class r ON r.oid = t.tgconstrrelid
 WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal
 ORDER BY t.oid
"""

COMMENTS_SQL = """
SELECT format('COMMENT ON %%s %%I IS %%L',
              CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW'
                             WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END,
              c.relname, d.description)
  FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
 WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND c.relnamespace = %(ns)s
UNION ALL
SELECT format('COMMENT ON COLUMN %%I.%%I IS %%L', c.relname, a.attname, d.description)
  FROM pg_description d
  JOIN pg_class c ON c.oid = d.objoid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
 WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0 AND c.relkind = 'v'
   AND c.relnamespace = %(ns)s
UNION ALL
SELECT format('COMMENT ON CONSTRAINT %%I ON %%I IS %%L', k.conname, c.relname, d.description)
  FROM pg_description d
  JOIN pg_constraint k ON k.oid = d.objoid
  JOIN pg_class c ON c.oid = k.conrelid
 WHERE d.classoid = 'pg_constraint'::regclass AND c.relnamespace = %(ns)s
UNION ALL
SELECT format('COMMENT ON TRIGGER %%I ON %%I IS %%L', t.tgname, c.relname, d.description)
  FROM pg_description d
  JOIN pg_trigger t ON t.oid = d.objoid
  JOIN pg_class c ON c.oid = t.tgrelid
 WHERE d.classoid = 'pg_trigger'::regclass AND c.relnamespace = %(ns)s
UNION ALL
SELECT format('COMMENT ON %%s %%I(%%s) IS %%L',
              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
              p.proname, pg_get_function_identity_arguments(p.oid), d.description)
  FROM pg_description d JOIN pg_proc p ON p.oid = d.objoid
 WHERE d.classoid = 'pg_proc'::regclass AND p.pronamespace = %(ns)s
"""


# --- Turning it into DDL ----------------------------------------------------------


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


def _generate(cursor, base: str, ns: int) -> ClonePlan:
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


def _plan(cursor, using: str, base: str) -> tuple[ClonePlan, str, str]:
    """The plan for the template's current state, and the settings to restore afterwards."""
    cursor.execute(FINGERPRINT_SQL, [base])
    row = cursor.fetchone()
    if row is None:
        raise UnsupportedTemplate(f"template schema {base} does not exist")
    ns, search_path, check_bodies, fingerprint = row
    settings = connections[using].settings_dict
    key = (settings.get("HOST"), settings.get("PORT"), settings.get("NAME"), base)
    with _plans_lock:
        cached = _plans.get(key)
    if cached is not None and cached[0] == (ns, fingerprint):
        return cached[1], search_path, check_bodies
    # A savepoint: a refused template (or any error) rolls back to it, search_path included,
    # and leaves the caller's transaction usable.
    with transaction.atomic(using=using):
        cursor.execute("SELECT set_config('search_path', quote_ident(%s), true)", [base])
        plan = _generate(cursor, base, ns)
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])
    with _plans_lock:
        _plans[key] = ((ns, fingerprint), plan)
    return plan, search_path, check_bodies


def clone_sql(base: str, new: str, *, data: bool = True, using: str = DEFAULT_DB_ALIAS) -> str:
    """The statements that create schema ``new`` as a copy of ``base`` (for review/tests)."""
    with connections[using].cursor() as cursor:
        plan, search_path, check_bodies = _plan(cursor, using, base)
    return _script(plan, new, data, search_path, check_bodies)


def _script(plan: ClonePlan, new: str, data: bool, search_path: str, check_bodies: str) -> str:
    return "".join(
        [
            f"CREATE SCHEMA {qi(new)};\n",
            f"SET LOCAL search_path = {qi(new)};\n",
            "SET LOCAL check_function_bodies = off;\n",
            plan.structure,
            plan.data if data else "",
            plan.sequences if data else "",
            plan.finish,
            f"SELECT set_config('search_path', {ql(search_path)}, true), "
            f"set_config('check_function_bodies', {ql(check_bodies)}, true);\n",
        ]
    )


def clone_schema(base: str, new: str, *, data: bool = True, using: str = DEFAULT_DB_ALIAS) -> int:
    """Create schema ``new`` as an exact copy of ``base``; returns the number of tables.

    With ``data`` the rows and sequence positions are copied too. Runs inside
    the caller's transaction if there is one and commits nothing.
    """
    with connections[using].cursor() as cursor:
        plan, search_path, check_bodies = _plan(cursor, using, base)
        cursor.execute(_script(plan, new, data, search_path, check_bodies))
    return plan.tables


def forget_plans() -> None:
    """Forget the generated DDL (tests)."""
    with _plans_lock:
        _plans.clear()


def fake_migrate_needed(schema_name: str) -> bool:
    """Whether django-tenants' ``migrate_schemas --fake`` after a clone would do anything.

    It records the migrations the clone lacks and sends the migrate signals.
    With data copied from an up-to-date template it records nothing, so it only
    matters if someone listens to those signals beyond NOOP_ON_CLONE.
    """
    from django.apps import apps
    from django.db.models.signals import post_migrate, pre_migrate
    from django_tenants.migration_executors.base import run_migrations
    from django_tenants.signals import (
        schema_migrate_message,
        schema_migrated,
        schema_pre_migration,
    )

    from apps.tenants.management.commands.migrate_schemas import schemas_behind

    if schemas_behind([schema_name]):
        return True
    for signal in (schema_pre_migration, schema_migrate_message, schema_migrated):
        if signal.has_listeners(run_migrations):
            return True
    for signal in (pre_migrate, post_migrate):
        for app_config in apps.get_app_configs():
            sync_receivers, async_receivers = signal._live_receivers(app_config)
            for receiver in (*sync_receivers, *async_receivers):
                name = f"{receiver.__module__}.{receiver.__qualname__}"
                if name not in NOOP_ON_CLONE:
                    return True
    return False
