import path from 'node:path';
import type { Command } from 'commander';
import { renderBlankShareCardHtml } from '../../core/backup/blank-share-card';
import { checkShareAgainstBackup, decodeShare, readBackupFile, shareErrorWithoutWords, shareHeader, type DecodedShare } from '../../core/backup';
import { isKeyriteError, KeyriteError, zeroize } from '../../core/errors';
import { escapeForTerminal, requirePlainText } from '../../core/text/plain-text';
import { writeNewPage } from '../io';
import { clearTerminal, describeStop, exitInterrupted, onStopSignals } from '../terminal-stop';

/**
 * The share from stdin. Typed at a terminal, it says what to do (it waited silently for an end of
 * input nobody knew to give) and clears the screen and scrollback afterwards: the words were echoed
 * as they were typed, and a share is never left on a screen — also when the typing is stopped by
 * Ctrl-C, SIGTERM or SIGHUP instead of ended by Ctrl-D.
 */
async function readStdin(): Promise<string> {
  const typed = Boolean(process.stdin.isTTY);
  if (typed) process.stderr.write('Type or paste the share (its header line is optional), then Enter and Ctrl-D. The screen and scrollback are cleared afterwards.\n');
  const undoSignals = typed
    ? onStopSignals((key, status) => exitInterrupted(new KeyriteError('PROMPT_CANCELLED', `Stopped by ${describeStop(key)}; the screen was cleared. Nothing was checked.`), status))
    : () => undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  } finally {
    undoSignals();
  }
  if (typed) clearTerminal();
  const text = Buffer.concat(chunks).toString('utf8');
  zeroize(...chunks);
  return text;
}

function decodeWithoutQuotingWords(text: string): DecodedShare {
  try {
    return decodeShare(text);
  } catch (e) {
    throw isKeyriteError(e) ? shareErrorWithoutWords(e) : e;
  }
}

export function registerShareCommands(program: Command): void {
  const share = program.command('share').description('work with backup shares');

  share
    .command('blank-card')
    .description('write a blank share card (3 columns of 11 numbered boxes, as on screen) to print before the ceremony')
    .requiredOption('--html <file>', 'the new file to write (never overwritten)')
    .option('--split <id>', 'split id to print on the card')
    .option('--index <n>', 'share index to print on the card')
    .option('--count <n>', 'number of shares of the split')
    .option('--custodian <name>', 'custodian to print on the card')
    .option('--key <id>', 'key id to print on the card')
    .action((opts: { html: string; split?: string; index?: string; count?: string; custodian?: string; key?: string }) => {
      const num = (v: string | undefined, what: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d{1,2}$/.test(v) || Number(v) < 1 || Number(v) > 16) throw new KeyriteError('USAGE', `--${what} is a number from 1 to 16, not '${v}'.`, { details: { option: what } });
        return Number(v);
      };
      const facts = { splitId: opts.split, index: num(opts.index, 'index'), count: num(opts.count, 'count'), custodian: opts.custodian, keyId: opts.key };
      for (const [k, v] of Object.entries(facts)) if (typeof v === 'string') requirePlainText(v, `--${k}`, 'USAGE', { option: k });
      const file = path.resolve(opts.html);
      writeNewPage(file, renderBlankShareCardHtml(facts));
      process.stdout.write(`Wrote ${file}: a blank share card (33 numbered boxes in 3 columns). Print it before the ceremony.\n`);
    });

  share
    .command('check')
    .description('read one share (its words) from stdin; print its header line or exactly what is wrong')
    .option('--backup <file>', 'also check the share against this backup file\'s per-share digest')
    .action(async (opts: { backup?: string }) => {
      // The backup is read first so a bad path fails before anyone types secret words.
      const backup = opts.backup ? readBackupFile(opts.backup) : undefined;
      // The verdict goes to stderr, which outlives the words cleared from the screen (a log, the
      // scrollback): a problem is named by word number, never by the words typed or suggested.
      const decoded = decodeWithoutQuotingWords(await readStdin());
      try {
        const header = shareHeader(decoded);
        if (!backup) {
          process.stdout.write(`${header}\nThe words are well-formed (checksum OK). Add --backup FILE to confirm the share belongs to a backup.\n`);
          return;
        }
        const ok = checkShareAgainstBackup(backup, decoded);
        // The backup file's key id and custodian name are printed escaped: a file may hold anything.
        process.stdout.write(`${header}\nGenuine: share ${ok.index} of backup '${escapeForTerminal(backup.keyId)}', issued to ${escapeForTerminal(ok.custodian)}.\n`);
      } finally {
        zeroize(decoded.share);
      }
    });
}
