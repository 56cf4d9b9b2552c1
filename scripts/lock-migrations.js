#!/usr/bin/env node
// Adds every migration file not yet in migrations/checksums.json with the SHA-256 of its content.
// Entries already there are never changed: a migration that has shipped must not be edited, and
// src/database/migrations-unchanged.spec.ts fails when one is. Plain Node, no dependencies.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const MIGRATIONS = join(__dirname, '..', 'migrations');
const DIALECTS = ['mariadb', 'sqlite'];
const LOCK_FILE = join(MIGRATIONS, 'checksums.json');

/** Migration files as "<dialect>/<file>", the folders' index.ts excepted. */
function migrationFiles() {
  return DIALECTS.flatMap((dialect) =>
    readdirSync(join(MIGRATIONS, dialect))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'index.ts')
      .map((file) => `${dialect}/${file}`),
  ).sort();
}

function sha256(file) {
  return createHash('sha256')
    .update(readFileSync(join(MIGRATIONS, file)))
    .digest('hex');
}

const locked = existsSync(LOCK_FILE) ? JSON.parse(readFileSync(LOCK_FILE, 'utf8')) : {};
const added = migrationFiles().filter((file) => !Object.hasOwn(locked, file));
for (const file of added) locked[file] = sha256(file);

if (added.length === 0) {
  process.stdout.write('migrations/checksums.json is up to date\n');
} else {
  const sorted = Object.fromEntries(
    Object.keys(locked)
      .sort()
      .map((file) => [file, locked[file]]),
  );
  writeFileSync(LOCK_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
  process.stdout.write(
    `Locked in migrations/checksums.json:\n${added.map((f) => `  ${f}\n`).join('')}`,
  );
}
