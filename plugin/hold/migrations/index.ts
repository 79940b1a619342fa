// Schema migrations, applied in order; PRAGMA user_version records the last one applied.
// Never edit a released migration: add the next number instead.
import { m001Initial } from './001-initial.js';
import { m002DropHashIndex } from './002-drop-hash-index.js';

export interface Migration {
  version: number;
  sql: string;
}

export const migrations: readonly Migration[] = [m001Initial, m002DropHashIndex];
