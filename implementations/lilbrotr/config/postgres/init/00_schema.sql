-- 00_schema.sql — the common schema, included from sql/ (kept once there, never copied).
--
-- `brotr db init` applies every *.sql file of this directory in name order, in one
-- transaction; a line `\ir PATH` (psql's include-relative) is replaced by that file, PATH
-- being relative to the including file. psql understands the same files, as a superuser:
--   psql --single-transaction -f 00_schema.sql -f 10_*.sql -f 90_grants.sql DBNAME
\ir ../../../../../sql/00_setup.sql
\ir ../../../../../sql/10_tables.sql
\ir ../../../../../sql/20_functions.sql
\ir ../../../../../sql/80_views.sql
\ir ../../../../../sql/30_discovery.sql
\ir ../../../../../sql/40_publisher.sql
