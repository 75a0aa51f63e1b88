-- 90_grants.sql — the common privileges, applied after this implementation's procedures.
\ir ../../../../../sql/90_grants.sql
