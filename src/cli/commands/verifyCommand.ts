import type { Command } from 'commander';
import { formatHeads, type HeadsDocument } from '../../audit/streamHeads.ts';
import { type ReachedHeads, verifyAgainstHeads } from '../../audit/verifyAgainstHeads.ts';
import { type ChainVerdict, UnreadableEventError, verifyChain } from '../../audit/verifyChain.ts';
import { type CliContext, examples } from '../context.ts';
import { EXIT } from '../exitCodes.ts';
import { readHeadsFile, refuseExisting, writeHeadsFile } from '../headsFile.ts';
import { printable } from '../lineOutput.ts';
import { progressReporter } from '../progress.ts';

type VerifyOptions = { against?: string; saveHeads?: string; force?: boolean };

const HELP = `${examples(
  'twofactor audit verify && echo "history intact"',
  'twofactor audit verify --save-heads heads-2026-01-31.json',
  'twofactor audit verify --against heads-2026-01-30.json --save-heads heads-2026-01-31.json',
)}
Prints "ok: N events in M streams verified" and exits 0, or names the first broken link
(stream, revision, position, reason) and exits ${EXIT.tampered}. An edited, deleted, inserted or
reordered event breaks a link. Not detected by the chain alone: events cut off at the very
end of a stream, a whole stream deleted, or a stream rewritten by someone who also
recomputed every hash after the edit. Anchors kept outside the store detect those:

--save-heads writes, after a successful verify, every stream's last revision and hash (no
secrets) to a new file, mode 0600. Keep the heads file somewhere the store's administrators
cannot write (e.g. a ticket, a WORM bucket); a later --against proves nothing was cut off or
rewritten before it: each stream it names must still exist and carry the same hash at the
same revision, or the command names the stream and revision and exits ${EXIT.tampered}. Events
appended since are checked by the chain as usual. Both options together check against the
previous heads and, only if everything holds, save the current ones.
`;

/** `twofactor audit verify`: the hash chain, and optionally heads kept outside the store. */
export function registerVerifyCommand(audit: Command, context: CliContext): void {
  audit
    .command('verify')
    .description(
      `prove the log unaltered: check every event's link in its stream's hash chain (exit ${EXIT.tampered} when broken)`,
    )
    .option('--against <file>', 'also prove no stream was cut off or rewritten since these heads were saved')
    .option('--save-heads <file>', "after a successful verify, write every stream's head to this new file")
    .option('--force', 'let --save-heads replace an existing file')
    .addHelpText('after', HELP)
    .action(async (options: VerifyOptions, command: Command) => {
      if (options.force && options.saveHeads === undefined) {
        command.error('error: --force only applies to --save-heads');
      }
      // Both files are dealt with before the store is opened: a wrong path costs no walk.
      const saved = options.against === undefined ? undefined : readHeadsFile(options.against);
      if (options.saveHeads !== undefined && !options.force) refuseExisting(options.saveHeads);
      await verify(context, options, saved);
    });
}

async function verify(context: CliContext, options: VerifyOptions, saved: HeadsDocument | undefined) {
  const { io } = context;
  const store = await context.session().store();
  const progress = progressReporter(io.stderr, { label: 'verifying', now: io.now });
  // Before the walk: every event recorded before this moment is covered by the heads.
  const takenAt = new Date(io.now()).toISOString();
  const notSaved = () => {
    if (options.saveHeads !== undefined)
      io.stderr.write('twofactor: heads not saved: the history is broken\n');
  };
  let verdict: ChainVerdict<{ readonly heads: ReachedHeads }>;
  try {
    verdict = await verifyChain(store, {
      onProgress: (checked) => progress.update(checked),
      heads: true,
      anchors: saved?.streams,
    });
  } catch (error) {
    if (!(error instanceof UnreadableEventError)) throw error;
    io.stdout.write(`broken: ${error.message}\n`);
    notSaved();
    context.exitCode = EXIT.tampered;
    return;
  } finally {
    progress.finish();
  }
  if (!verdict.ok) {
    const { streamName, revision, position, reason } = verdict.brokenAt;
    io.stdout.write(
      `broken: stream ${printable(streamName)}, revision ${revision}, position ${position}\n` +
        `reason: ${reason}\n` +
        `${verdict.checked} events before it verified\n`,
    );
    notSaved();
    context.exitCode = EXIT.tampered;
    return;
  }
  const counts = `${verdict.checked} events in ${verdict.streams} streams`;
  if (saved === undefined) {
    io.stdout.write(`ok: ${counts} verified\n`);
  } else {
    const anchored = verifyAgainstHeads(verdict.heads, saved);
    if (!anchored.ok) {
      const { streamName, revision, reason } = anchored.problem;
      io.stdout.write(
        `broken: stream ${printable(streamName)}, revision ${revision}, ` +
          `against the heads taken at ${saved.takenAt}\n` +
          `reason: ${reason}\n` +
          `the chain itself is intact (${counts}): only the saved heads can show this\n`,
      );
      notSaved();
      context.exitCode = EXIT.tampered;
      return;
    }
    io.stdout.write(
      `ok: ${counts} verified\n` +
        `ok: all ${anchored.anchored} streams of the heads taken at ${saved.takenAt} ` +
        `(position ${saved.position}) hold their anchored revisions and hashes\n`,
    );
  }
  if (options.saveHeads !== undefined) {
    const { position, streams } = verdict.heads;
    writeHeadsFile(options.saveHeads, formatHeads({ takenAt, position, streams }), {
      force: options.force === true,
    });
    io.stdout.write(
      `saved: the heads of ${streams.size} streams at position ${position} to ${printable(options.saveHeads)}\n`,
    );
  }
}
