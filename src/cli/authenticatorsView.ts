import { printable } from './lineOutput.ts';

/** One confirmed authenticator app of a user, as the service reports it. */
export type AuthenticatorListing = {
  readonly id: string;
  readonly name: string;
  readonly addedAt: string;
  readonly lastUsedAt: string | null;
};

const HEADER = ['NAME', 'ID', 'ADDED', 'LAST USED'] as const;

/**
 * A user's authenticator apps as lines for a person at a terminal: a summary line, then a
 * table whose columns fit the widest value (a user has a handful of apps at most). A name is
 * the user's own text: it is shown escaped, so that it can neither drive the terminal nor
 * read as another.
 */
export function authenticatorLines(
  userId: string,
  authenticators: readonly AuthenticatorListing[],
): string[] {
  const who = printable(userId);
  if (authenticators.length === 0) return [`${who}: no authenticator app (two-factor authentication is off)`];
  const rows = authenticators.map((app) => [
    printable(app.name),
    printable(app.id),
    app.addedAt,
    app.lastUsedAt ?? 'never',
  ]);
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => cells[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const count = authenticators.length;
  return [`${who}: ${count} authenticator app${count === 1 ? '' : 's'}`, line(HEADER), ...rows.map(line)];
}
