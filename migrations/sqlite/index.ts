import { Keyring1764000000000 } from './1764000000000-keyring';

/** SQLite migrations in order, mirroring the MariaDB ones. Never edit one that has shipped. */
export const SQLITE_MIGRATIONS = [Keyring1764000000000];
