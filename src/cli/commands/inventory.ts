import type { Command } from 'commander';
import { escapeForTerminal, escapeLinesForTerminal } from '../../core/text/plain-text';
import { keyriteHome, storePath } from '../../core/config/paths';
import { DEMO_USER_PIN, resolveHsmConfig } from '../../core/hsm/config';
import { withHsm } from '../../core/hsm/connect';
import { loadPolicy } from '../../core/policy';
import { Store } from '../../core/store/db';
import { Inventory, reconcileInventory, type InventoryKey } from '../../core/inventory';
import { emit, readTokenPin } from '../io';

async function withInventory<T>(policyFile: string | undefined, fn: (inventory: Inventory) => Promise<T>): Promise<T> {
  const policy = loadPolicy(policyFile);
  const store = await Store.open(storePath(keyriteHome()));
  try {
    return await fn(new Inventory(store, policy));
  } finally {
    await store.close();
  }
}

function keyType(k: InventoryKey): string {
  return k.algorithm === 'ec' ? `EC ${k.curve ?? k.size}` : `RSA-${k.size}`;
}

export function formatInventoryTable(keys: InventoryKey[]): string {
  if (keys.length === 0) return 'The key inventory is empty.';
  const header = ['ID', 'LABEL', 'TYPE', 'PURPOSE', 'STATUS', 'CREATED', 'ROTATION DUE', 'FLAGS'];
  const rows = keys.map((k) => [
    escapeForTerminal(k.id), escapeForTerminal(k.label), keyType(k), k.purpose, k.status, k.createdAt.slice(0, 10), k.rotationDue?.slice(0, 10) ?? '-',
    [k.flags.weak ? 'WEAK' : '', k.flags.overdue ? 'OVERDUE' : ''].filter(Boolean).join(',') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  const flagged = keys.filter((k) => k.flags.reasons.length > 0);
  if (flagged.length > 0) {
    out.push('');
    for (const k of flagged) for (const r of k.flags.reasons) out.push(`${k.id}: ${r}`);
  }
  return out.join('\n');
}

export function registerInventoryCommands(program: Command): void {
  const inventory = program
    .command('inventory')
    .description('list the key inventory (as key-inventory.csv with --csv)')
    .option('--csv', 'print RFC 4180 CSV: id, algorithm, size, created, status, then the rest')
    .option('--out <file>', 'write to this file instead of stdout (never overwrites)')
    .option('--policy <file>', 'key policy for the weak/overdue flags (default: the bundled policy)')
    .action(async (opts: { csv?: boolean; out?: string; policy?: string }) => {
      await withInventory(opts.policy, async (inv) => {
        emit(opts.csv ? await inv.toCsv() : formatInventoryTable(await inv.list()), opts.out);
      });
    });

  inventory
    .command('check')
    .description('compare the inventory with the keys on the token: missing, unknown, attribute and fingerprint drift')
    .option('--pin-file <file>', 'read the user PIN from this file')
    .option('--policy <file>', 'key policy (default: the bundled policy)')
    .option('--json', 'print the differences as JSON')
    .action(async (opts: { pinFile?: string; policy?: string; json?: boolean }) => {
      const config = resolveHsmConfig();
      const pin = await readTokenPin(config, opts.pinFile, config.demo ? DEMO_USER_PIN : undefined);
      const { drifts, token, count } = await withInventory(opts.policy, async (inv) =>
        withHsm(config, { pin }, async ({ session }) => ({
          drifts: await reconcileInventory(inv, session),
          token: session.token,
          count: (await inv.list()).filter((k) => k.tokenSerial === session.token.serial).length,
        })),
      );
      if (opts.json) {
        process.stdout.write(JSON.stringify({ token: { label: token.label, serial: token.serial }, drifts }, null, 2) + '\n');
      } else if (drifts.length === 0) {
        process.stdout.write(escapeForTerminal(`No differences: the ${count} inventory key(s) recorded on token '${token.label}' (serial ${token.serial}) match the token.`) + '\n');
      } else {
        const lines = drifts.map((d) => `${d.kind.toUpperCase().padEnd(21)} ${d.keyId ?? '-'}  ${d.message}`);
        // Labels come from the token, which anyone with the PIN can write: escaped.
        process.stdout.write(escapeLinesForTerminal(`${drifts.length} difference(s) between the inventory and token '${token.label}' (serial ${token.serial}):\n${lines.join('\n')}`) + '\n');
      }
      if (drifts.length > 0) process.exitCode = 1;
    });
}
