-- 00_setup.sql — run first, as the administrator, inside the init transaction.
--
-- Common to every implementation; included by implementations/*/config/postgres/init/00_schema.sql.
-- `brotr db init` applies the whole init directory in ONE transaction; with psql use
-- `psql --single-transaction -f ...` for each file in order, as a superuser.
--
-- Roles (cluster-wide, created once, NOLOGIN groups):
--   brotr_owner   owns every object; the only role with DDL rights on them.
--   brotr_writer  what the services connect as (or a login role that is a member of it):
--                 EXECUTE on the procedures and SELECT on what the services read; no DDL,
--                 no direct INSERT, UPDATE or DELETE.
--   brotr_reader  read-only analysts: SELECT on every table and view; grant it to people.

DO $$
BEGIN
	IF current_setting('server_encoding') <> 'UTF8' THEN
		RAISE EXCEPTION 'database % has encoding %, brotr needs UTF8', current_database(),
			current_setting('server_encoding');
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'brotr_owner') THEN
		CREATE ROLE brotr_owner NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'brotr_writer') THEN
		CREATE ROLE brotr_writer NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'brotr_reader') THEN
		CREATE ROLE brotr_reader NOLOGIN;
	END IF;
END
$$;

-- The objects live in the public schema; only the owner may create there.
GRANT USAGE, CREATE ON SCHEMA public TO brotr_owner;
GRANT USAGE ON SCHEMA public TO brotr_writer, brotr_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Everything below is created by, and owned by, brotr_owner (until the transaction ends).
SET LOCAL ROLE brotr_owner;
SET LOCAL search_path = public, pg_catalog;
-- Functions created from here on are not executable by PUBLIC unless granted (90_grants.sql).
ALTER DEFAULT PRIVILEGES FOR ROLE brotr_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
