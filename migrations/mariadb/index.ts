import { Keyring1764000000000 } from './1764000000000-keyring';

/** MariaDB migrations in order. Never edit one that has shipped: add a new one. */
export const MARIADB_MIGRATIONS = [Keyring1764000000000];
