import type { Command } from 'commander';
import { checkShareAgainstBackup, decodeShare, readBackupFile, shareHeader } from '../../core/backup';
import { zeroize } from '../../core/errors';
import { escapeForTerminal } from '../../core/text/plain-text';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  zeroize(...chunks);
  return text;
}

export function registerShareCommands(program: Command): void {
  const share = program.command('share').description('work with backup shares');

  share
    .command('check')
    .description('read one share (its words) from stdin; print its header line or exactly what is wrong')
    .option('--backup <file>', 'also check the share against this backup file\'s per-share digest')
    .action(async (opts: { backup?: string }) => {
      // The backup is read first so a bad path fails before anyone types secret words.
      const backup = opts.backup ? readBackupFile(opts.backup) : undefined;
      const decoded = decodeShare(await readStdin());
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
