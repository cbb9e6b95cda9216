"""What the PostgreSQL BI role may do after a real publication: read `marts`, nothing else."""

from __future__ import annotations

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from assets.publishing import MART_KEYS

DENIED = (errors.InsufficientPrivilege,)


def check_bi_role(admin_url: str, dbname: str, role: str) -> None:
    url = make_conninfo(admin_url, dbname=dbname)
    with psycopg.connect(url, autocommit=True) as admin:
        # objects the role must not see: another schema, public, and a catalog table holding secrets
        admin.execute("CREATE SCHEMA IF NOT EXISTS finance_private")
        admin.execute("CREATE TABLE IF NOT EXISTS finance_private.salaries (who text, amount numeric)")
        admin.execute("INSERT INTO finance_private.salaries VALUES ('someone', 1)")
        admin.execute("CREATE TABLE IF NOT EXISTS public.crm_contacts (email text)")
        admin.execute("INSERT INTO public.crm_contacts VALUES ('jane@example.com')")
        marts = [t for t, in admin.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1")]
        assert sorted(marts) == sorted(MART_KEYS), marts

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        assert con.execute("SELECT current_user").fetchone()[0] == role

        def allowed(statement: str) -> None:
            con.execute(statement)

        def denied(statement: str) -> None:
            try:
                con.execute(statement)
            except DENIED:
                return
            raise AssertionError(f"the BI role {role} may run: {statement}")

        for table in MART_KEYS:
            allowed(f"SELECT count(*) FROM marts.{table}")
        assert con.execute("SELECT count(*) FROM marts.fct_customer_profit_monthly").fetchone()[0] > 0

        denied("SELECT * FROM finance_private.salaries")
        denied("SELECT * FROM public.crm_contacts")
        denied("SELECT * FROM pg_catalog.pg_authid")
        denied("SELECT rolpassword FROM pg_catalog.pg_authid")
        denied("SELECT passwd FROM pg_catalog.pg_shadow")
        table = "marts.fct_customer_profit_monthly"
        denied(f"INSERT INTO {table} (month, customer_no) VALUES ('2026-01-31', 'X')")
        denied(f"UPDATE {table} SET customer_no = 'X'")
        denied(f"DELETE FROM {table}")
        denied(f"TRUNCATE {table}")
        denied(f"ALTER TABLE {table} ADD COLUMN x int")
        denied(f"DROP TABLE {table}")
        denied("CREATE TABLE marts.bi_scratch (x int)")
        denied("CREATE TABLE public.bi_scratch (x int)")
        denied("CREATE SCHEMA bi_scratch")
        denied("CREATE VIEW marts.v AS SELECT 1 AS x")
        denied("DROP SCHEMA marts")
        con.execute("RESET ROLE")

