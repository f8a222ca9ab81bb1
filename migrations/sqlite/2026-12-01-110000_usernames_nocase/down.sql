DROP INDEX users_username_nocase;
