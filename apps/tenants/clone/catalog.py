"""Reading the template: SQL over PostgreSQL's system catalogs, and quoting helpers."""

from __future__ import annotations

LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED "
    "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS"
)
MAX_IDENTIFIER = 63  # NAMEDATALEN - 1


class UnsupportedTemplate(Exception):
    """The template schema holds something the fast clone cannot copy exactly."""


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
