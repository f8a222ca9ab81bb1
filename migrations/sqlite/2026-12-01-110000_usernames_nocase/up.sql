-- User names are unique ignoring case (rt_core::validate::username_key, ASCII lower case, as
-- SQLite's and PostgreSQL's lower() agree on for the ASCII-only names the API accepts).
--
-- Existing data first: names that differ only in case could be created before this rule. The
-- oldest account keeps its name; each later one is renamed to `<name>-<id>` (it signs in under
-- that name from now on; `rt-server user list` shows it) so the unique index can be built
-- instead of the upgrade failing. docs/operations.md says so.
UPDATE users
SET username = username || '-' || id
WHERE EXISTS (
    SELECT 1 FROM users AS older
    WHERE lower(older.username) = lower(users.username) AND older.id < users.id
);

CREATE UNIQUE INDEX users_username_nocase ON users(lower(username));
