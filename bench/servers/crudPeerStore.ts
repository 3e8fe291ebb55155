/**
 * The storage of the CRUD peer (`crudPeer.ts`): one SQLite row per user and an audit table,
 * in a file of its own. Shared by the peer and by the benchmark, which fills it with the same
 * users the service has before starting the peer.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';

/** Opens the peer's file as it runs: WAL, and every commit fsync'd before it returns. */
export function openPeerDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // As durable as the service: a commit is on disk before the answer goes out.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (
      user_id TEXT PRIMARY KEY,
      secret_nonce BLOB NOT NULL,
      secret_ciphertext BLOB NOT NULL,
      secret_tag BLOB NOT NULL,
      last_step INTEGER,
      recovery_codes_remaining INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY,
      user_id TEXT NOT NULL,
      at TEXT NOT NULL,
      outcome TEXT NOT NULL,
      step INTEGER,
      request_id TEXT,
      end_user_ip TEXT,
      end_user_agent TEXT
    );
    CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, id);
  `);
  return db;
}

export type SealedSecret = { readonly nonce: Buffer; readonly ciphertext: Buffer; readonly tag: Buffer };

/** AES-256-GCM with a random nonce, bound to the user id (associated data). */
export function sealSecret(key: Buffer, userId: string, secretBase32: string): SealedSecret {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(userId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secretBase32, 'utf8'), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

export function openSecret(key: Buffer, userId: string, sealed: SealedSecret): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(userId, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
}

/** Writes enrolled users into the peer's file: their sealed secret and the step that confirmed it. */
export function seedPeer(
  file: string,
  key: Buffer,
  users: readonly { readonly userId: string; readonly secret: string; readonly confirmedStep: number }[],
): void {
  const db = openPeerDatabase(file);
  try {
    const insert = db.prepare(
      `INSERT INTO users (user_id, secret_nonce, secret_ciphertext, secret_tag, last_step, recovery_codes_remaining)
       VALUES (?, ?, ?, ?, ?, 10)`,
    );
    db.transaction(() => {
      for (const user of users) {
        const sealed = sealSecret(key, user.userId, user.secret);
        insert.run(user.userId, sealed.nonce, sealed.ciphertext, sealed.tag, user.confirmedStep);
      }
    })();
  } finally {
    db.close();
  }
}
