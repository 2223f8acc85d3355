"""The fast template clone (apps.tenants.clone): exact, transactional, used by tenant_create."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, schema_exists

from apps.tenants.clone import (
    UnsupportedTemplate,
    clone_schema,
    clone_sql,
    fake_migrate_needed,
    run,
)
from apps.tenants.schemas import schemas_behind
from apps.tenants.services import tenant_create
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TEMPLATE = settings.TENANT_BASE_SCHEMA


# --- A catalog signature: everything a schema holds, with its own name taken out ---------


def _rows(cursor, sql: str, params=()) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def signature(schema: str) -> dict[str, object]:
    """What the schema holds, rendered with search_path = the schema itself.

    Objects of the schema itself come out unqualified (or qualified with its own
    name, which is stripped); a reference to any other schema -- the template,
    say -- stays qualified and so shows up as a difference.
    """
    own = f"{schema}."

    def strip(text):
        return None if text is None else text.replace(f'"{schema}".', "").replace(own, "")

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', quote_ident(%s), true)", [schema])
        ns = _rows(cursor, "SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])[0][0]
        relations = sorted(
            _rows(
                cursor,
                "SELECT relname, relkind, relpersistence, reloptions, relreplident, "
                "relrowsecurity, relhasindex, relhastriggers, reltoastrelid <> 0 "
                "FROM pg_class WHERE relnamespace = %s",
                [ns],
            )
        )
        columns = _rows(
            cursor,
            "SELECT c.relname, "
            "       row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname, "
            "       format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, "
            "       a.attstorage, a.attcompression, a.attcollation, a.attstattarget, "
            # pg_* options are the server's own (pg_attver: a per-table creation stamp)
            "       ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE left(o, 3) <> 'pg_'), "
            "       col_description(c.oid, a.attnum) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE c.relnamespace = %s AND c.relkind IN ('r', 'v') "
            "  AND a.attnum > 0 AND NOT a.attisdropped",
            [ns],
        )
        constraints = _rows(
            cursor,
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), "
            "       k.condeferrable, k.condeferred, k.convalidated, "
            "       obj_description(k.oid, 'pg_constraint') "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE c.relnamespace = %s",
            [ns],
        )
        indexes = _rows(
            cursor,
            "SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, "
            "       i.indisclustered, i.indisreplident, obj_description(ic.oid, 'pg_class') "
            "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
            "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = %s",
            [ns],
        )
        triggers = _rows(
            cursor,
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.proname, "
            "       p.pronamespace = c.relnamespace, obj_description(t.oid, 'pg_trigger') "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE c.relnamespace = %s AND NOT t.tgisinternal",
            [ns],
        )
        functions = _rows(
            cursor,
            "SELECT proname, prokind, pg_get_functiondef(oid), obj_description(oid, 'pg_proc') "
            "FROM pg_proc WHERE pronamespace = %s",
            [ns],
        )
        views = _rows(
            cursor,
            "SELECT relname, pg_get_viewdef(oid), obj_description(oid, 'pg_class') "
            "FROM pg_class WHERE relnamespace = %s AND relkind = 'v'",
            [ns],
        )
        sequences = _rows(
            cursor,
            "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, "
            "       s.seqmin, s.seqmax, s.seqcache, s.seqcycle, d.deptype, t.relname, "
            "       a.attname, obj_description(c.oid, 'pg_class') "
            "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
            "LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid "
            "     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
            "LEFT JOIN pg_class t ON t.oid = d.refobjid "
            "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE c.relnamespace = %s",
            [ns],
        )
        positions = []
        for name, *_ in sequences:
            cursor.execute(f'SELECT last_value, is_called FROM "{schema}"."{name}"')
            positions.append((name, *cursor.fetchone()))
        contents = []
        for name, kind, *_ in relations:
            if kind == "r":
                cursor.execute(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f'FROM "{schema}"."{name}" t'
                )
                contents.append((name, *cursor.fetchone()))
        table_comments = _rows(
            cursor,
            "SELECT c.relname, d.description FROM pg_description d "
            "JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass "
            "WHERE d.objsubid = 0 AND c.relnamespace = %s",
            [ns],
        )
    connection.set_schema_to_public()  # the next cursor re-issues the session's search_path

    def normal(rows):
        return sorted(tuple(strip(v) if isinstance(v, str) else v for v in row) for row in rows)

    return {
        "relations": relations,
        "columns": normal(columns),
        "constraints": normal(constraints),
        "indexes": normal(indexes),
        "triggers": normal(triggers),
        "functions": normal(functions),
        "views": normal(views),
        "sequences": normal(sequences),
        "positions": sorted(positions),
        "contents": sorted(contents),
        "comments": normal(table_comments),
    }


def assert_same_catalog(template: str, copy: str) -> None:
    expected, actual = signature(template), signature(copy)
    for part in expected:
        assert actual[part] == expected[part], part


# --- The real template -------------------------------------------------------------------


def test_clone_of_the_template_has_the_identical_catalog_rows_and_sequences():
    tables = clone_schema(TEMPLATE, "clonesig")

    signed = signature(TEMPLATE)
    assert tables == len([r for r in signed["relations"] if r[1] == "r"]) >= 30
    assert_same_catalog(TEMPLATE, "clonesig")
    # The immutability guards are among what was compared; make sure they are there.
    assert {t[1] for t in signed["triggers"]} >= {
        "revisions_revision_immutable",
        "revisions_revisionsection_immutable",
    }
    assert {f[0] for f in signed["functions"]} >= {
        "revisions_revision_guard",
        "revisions_child_guard",
    }
    assert any(count for _name, count, _md5 in signed["contents"])


def test_clone_is_up_to_date_so_the_fake_migrate_is_skipped():
    clone_schema(TEMPLATE, "clonemig")

    assert schemas_behind(["clonemig"]) == []
    assert fake_migrate_needed("clonemig") is False, (
        "a pre/post_migrate or django-tenants migration signal receiver outside "
        "run.NOOP_ON_CLONE makes every tenant creation run migrate_schemas --fake again"
    )


def test_identity_sequences_continue_after_the_copied_rows():
    clone_schema(TEMPLATE, "cloneseq")

    with schema_context("cloneseq"):
        copied = max(ContentType.objects.values_list("id", flat=True))
        content_type = ContentType.objects.create(app_label="clonetest", model="thing")
        permission = Permission.objects.create(
            content_type=content_type, codename="poke_thing", name="Can poke thing"
        )
        assert content_type.id > copied
        assert permission.id > max(
            Permission.objects.exclude(pk=permission.pk).values_list("id", flat=True)
        )
    with schema_context(TEMPLATE):  # the template's own sequences did not move
        assert not ContentType.objects.filter(app_label="clonetest").exists()


def test_a_rolled_back_clone_leaves_nothing_behind():
    with pytest.raises(RuntimeError), transaction.atomic():
        clone_schema(TEMPLATE, "cloneback")
        assert schema_exists("cloneback")
        raise RuntimeError("roll back")

    assert not schema_exists("cloneback")


def test_a_cached_clone_is_one_statement_string_after_one_catalog_query():
    clone_schema(TEMPLATE, "clonewarm")  # the plan is cached now

    with CaptureQueriesContext(connection) as queries:
        clone_schema(TEMPLATE, "clonehot")

    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(statements) == 2
    assert statements[1].startswith('CREATE SCHEMA "clonehot";')
    assert schema_exists("clonehot")


def test_the_script_names_no_schema_but_to_create_it_and_to_read_the_template():
    script = clone_sql(TEMPLATE, "clonetext")

    assert script.count("clonetext") == 2  # CREATE SCHEMA, SET LOCAL search_path
    reads = re.findall(rf'(\S+) "{TEMPLATE}"\.', script)
    assert set(reads) == {"(LIKE", "FROM"}  # table shapes, rows, sequence positions
    assert script.count(TEMPLATE) == len(reads)
    assert not schema_exists("clonetext")


def test_immutability_triggers_fire_in_the_clone():
    from apps.agreements.models import Agreement
    from apps.parties.models import Party, PartyKind
    from apps.revisions.models import Revision

    clone_schema(TEMPLATE, "clonetrig")

    with schema_context("clonetrig"):
        provider = Party.objects.create(name="Provider", kind=PartyKind.PROVIDER)
        customer = Party.objects.create(name="Customer", kind=PartyKind.CUSTOMER)
        agreement = Agreement.objects.create(
            reference="SLA-1",
            title="Hosting",
            provider=provider,
            customer=customer,
            term_start=date(2025, 1, 1),
        )
        revision = Revision.objects.create(
            agreement=agreement, number=1, effective_from=date(2025, 1, 1)
        )
        # draft -> approved is allowed by the trigger (queryset.update skips the model guard)
        Revision.objects.filter(pk=revision.pk).update(status="approved")
        for sql in (
            "UPDATE revisions_revision SET summary = 'x' WHERE id = %s",
            "DELETE FROM revisions_revision WHERE id = %s",
        ):
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [revision.pk])
        assert Revision.objects.get(pk=revision.pk).summary == ""


# --- Through tenant_create -----------------------------------------------------------------


def test_tenant_create_uses_the_fast_clone_and_its_admin_can_sign_in(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("django-tenants' pg-clone-schema should not run")

    commands = []
    monkeypatch.setattr("django_tenants.clone.CloneSchema.clone_schema", refuse)
    monkeypatch.setattr("apps.tenants.models.call_command", lambda *a, **k: commands.append(a))
    skips_fake_migrate = not fake_migrate_needed(TEMPLATE)  # same answer as for its clones

    created = tenant_create(
        slug="kappa", name="Kappa", admin_username="root", admin_password="s3cret-pass!"
    )

    assert created.cloned is True
    assert commands == ([] if skips_fake_migrate else [("migrate_schemas",)])
    assert connection.schema_name == "public"
    client = Client(HTTP_HOST=f"kappa.{settings.BASE_DOMAIN}")
    sign_in(client, "root", "s3cret-pass!")


def test_tenant_create_still_fake_migrates_when_someone_listens(monkeypatch):
    from django.db.models.signals import post_migrate

    calls = []

    def listener(sender, **kwargs):
        calls.append(kwargs.get("using"))

    post_migrate.connect(listener, dispatch_uid="test_clone_listener")
    try:
        assert fake_migrate_needed(TEMPLATE) is True
        tenant_create(slug="lambda", name="Lambda")
    finally:
        post_migrate.disconnect(dispatch_uid="test_clone_listener")

    assert calls  # migrate_schemas --fake ran for the new schema, as django-tenants does
    assert schemas_behind(["lambda"]) == []


# --- Templates with more than today's tenant schema holds ------------------------------


def _scratch_template(cursor, name: str) -> None:
    cursor.execute(
        f"""
        CREATE SCHEMA {name};
        SET LOCAL search_path = {name};
        CREATE FUNCTION positive(n bigint) RETURNS boolean
            LANGUAGE sql IMMUTABLE AS 'SELECT n > 0';
        CREATE SEQUENCE ticket_no START 100 INCREMENT 5;
        CREATE TABLE kind (code text PRIMARY KEY, label text NOT NULL DEFAULT 'x');
        CREATE TABLE item (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            legacy serial,
            ticket bigint NOT NULL DEFAULT nextval('ticket_no'),
            kind text REFERENCES kind (code) ON DELETE CASCADE,
            qty integer NOT NULL CONSTRAINT qty_positive CHECK (positive(qty)),
            price numeric(8, 2) CHECK (price >= 0),
            total numeric GENERATED ALWAYS AS (qty * price) STORED,
            dropped_soon text
        ) WITH (fillfactor = 80);
        ALTER TABLE item DROP COLUMN dropped_soon;
        ALTER TABLE item ALTER COLUMN qty SET STATISTICS 500;
        CREATE UNIQUE INDEX item_kind_ticket ON item (kind, ticket) WHERE qty > 1;
        CREATE INDEX item_lower_kind ON item (lower(kind));
        CREATE VIEW big_items AS SELECT id, kind FROM item WHERE qty > 10;
        CREATE VIEW big_kinds AS SELECT DISTINCT kind FROM big_items;
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.price := coalesce(NEW.price, 0); RETURN NEW; END $$;
        CREATE TRIGGER item_stamp BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION stamp();
        CREATE TRIGGER item_off AFTER UPDATE ON item FOR EACH ROW EXECUTE FUNCTION stamp();
        ALTER TABLE item DISABLE TRIGGER item_off;
        COMMENT ON TABLE item IS 'Things, with ''quotes''';
        COMMENT ON COLUMN item.qty IS 'How many';
        COMMENT ON VIEW big_items IS 'Over ten';
        COMMENT ON CONSTRAINT qty_positive ON item IS 'Never zero';
        COMMENT ON INDEX item_lower_kind IS 'Case-blind';
        COMMENT ON FUNCTION positive(bigint) IS 'n > 0';
        COMMENT ON TRIGGER item_stamp ON item IS 'Defaults the price';
        INSERT INTO kind VALUES ('a', 'A'), ('b', 'B');
        INSERT INTO item (kind, qty, price) VALUES ('a', 2, 1.5), ('b', 20, NULL), ('a', 3, 4);
        INSERT INTO item (kind, qty, price) VALUES ('b', 5000, 1);
        -- a row breaks it, so it must be added after the rows, NOT VALID as in the template
        ALTER TABLE item ADD CONSTRAINT qty_small CHECK (qty < 1000) NOT VALID;
        """
    )


def test_a_richer_template_clones_exactly():
    with connection.cursor() as cursor:
        _scratch_template(cursor, "richsrc")
    connection.set_schema_to_public()

    clone_schema("richsrc", "richcopy")

    assert_same_catalog("richsrc", "richcopy")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = richcopy")
        cursor.execute("INSERT INTO item (kind, qty) VALUES ('a', 7) RETURNING id, legacy, ticket")
        # each sequence goes on from where the template's stood
        assert cursor.fetchone() == (5, 5, 120)
        cursor.execute("SELECT price FROM item WHERE qty = 7")
        assert cursor.fetchone()[0] == 0  # the clone's own trigger and function
    connection.set_schema_to_public()


def test_a_changed_template_is_read_again_and_an_unchanged_one_is_not(monkeypatch):
    with connection.cursor() as cursor:
        _scratch_template(cursor, "changesrc")
    connection.set_schema_to_public()
    clone_schema("changesrc", "changea")

    generated = []
    real_generate = run.generate_plan
    monkeypatch.setattr(
        run, "generate_plan", lambda *a: generated.append(a[1]) or real_generate(*a)
    )
    clone_schema("changesrc", "changeb")
    assert generated == []

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE changesrc.kind ADD COLUMN note text")
    clone_schema("changesrc", "changec")

    assert generated == ["changesrc"]
    assert_same_catalog("changesrc", "changec")

    # Changed in place by this same transaction: same oid, same xmin, new row version.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION changesrc.stamp() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN NEW.price := coalesce(NEW.price, 1); RETURN NEW; END $$"
        )
    clone_schema("changesrc", "changed")

    assert generated == ["changesrc", "changesrc"]
    assert_same_catalog("changesrc", "changed")


@pytest.mark.parametrize(
    ("ddl", "message"),
    [
        ("CREATE TYPE mood AS ENUM ('ok')", "type mood"),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one", "materialized view mv"),
        ("CREATE TABLE p (id int) PARTITION BY RANGE (id)", "partitioned table p"),
        ("CREATE TABLE g (id int); GRANT SELECT ON g TO PUBLIC", "grants on g"),
        (
            "CREATE TABLE f (id int); CREATE FUNCTION n() RETURNS bigint LANGUAGE sql "
            "AS 'SELECT count(*) FROM badsrc.f'",
            "names schema badsrc",
        ),
    ],
)
def test_a_template_the_clone_cannot_copy_exactly_is_refused_clearly(ddl, message):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA badsrc; SET LOCAL search_path = badsrc; {ddl}")
    connection.set_schema_to_public()

    with pytest.raises(UnsupportedTemplate, match=message):
        clone_schema("badsrc", "badcopy")

    assert not schema_exists("badcopy")  # refused before any DDL ran
    with connection.cursor() as cursor:  # and the caller's transaction is still usable
        cursor.execute("SELECT 1")
