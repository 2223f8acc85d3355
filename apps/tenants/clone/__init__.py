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

The package: ``catalog`` reads the template (SQL over the system catalogs),
``plan`` turns what it read into DDL, ``run`` caches plans and executes them.
Why we have our own cloner at all: docs/decisions/0003-clone-tenant-schemas.md.
"""

from apps.tenants.clone.catalog import UnsupportedTemplate
from apps.tenants.clone.run import clone_schema, clone_sql, fake_migrate_needed

__all__ = ["UnsupportedTemplate", "clone_schema", "clone_sql", "fake_migrate_needed"]
