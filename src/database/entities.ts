import { KeyringEntry } from '../crypto/keyring-entry.entity';

/** Every entity of the schema; the migrations must describe exactly these (see migration:check). */
export const ENTITIES = [KeyringEntry];
