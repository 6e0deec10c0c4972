import type { CeremonyView, StepInput } from '../core/ceremony';
import { KeyriteError } from '../core/errors';

/**
 * Asks a person at the terminal for what the current step needs. PINs are read without echo;
 * a share is shown only after everyone else has looked away, and the screen is cleared after.
 */
export async function askTerminal(view: CeremonyView): Promise<StepInput | null> {
  const { input, password, select, confirm } = await import('@inquirer/prompts');
  const cur = view.current;
  if (!cur || view.status !== 'running') return null;
  const need = cur.need;
  switch (need.kind) {
    case 'participants': {
      const participants = [];
      process.stdout.write(`Roles: ${need.roles.map((r) => `${r.id} (${r.title}, ${r.min}-${r.max})`).join('; ')}\n`);
      for (;;) {
        const name = await input({ message: `Participant ${participants.length + 1} full name (empty to finish):` });
        if (!name.trim()) break;
        const id = await input({ message: 'Short id (e.g. first name, lower case):', default: name.trim().split(/\s+/)[0].toLowerCase() });
        const roles = (await input({ message: `Roles, comma-separated (${need.roles.map((r) => r.id).join(', ')}):` })).split(',').map((r) => r.trim()).filter(Boolean);
        participants.push({ id, name: name.trim(), roles });
      }
      return { kind: 'participants', participants };
    }
    case 'preflightOverride': {
      process.stdout.write(`   ${need.message}\n`);
      const go = await confirm({ message: 'Override the network check (recorded in the transcript)?', default: false });
      if (!go) throw new KeyriteError('CEREMONY_PREFLIGHT_REFUSED', 'Disconnect the network interfaces and resume the ceremony with `keyrite ceremony resume`.');
      const personId = await select({ message: 'Administrator overriding:', choices: view.participants.filter((p) => p.roles.includes('admin')).map((p) => ({ name: p.name, value: p.id })) });
      const reason = await input({ message: 'Reason:' });
      return { kind: 'preflightOverride', personId, reason };
    }
    case 'pin':
      process.stdout.write(`   ${need.message}\n`);
      return { kind: 'pin', pin: await password({ message: `${need.user === 'so' ? 'SO PIN' : 'PIN'} for token '${need.tokenLabel}':`, mask: false }) };
    case 'signoff': {
      const signed = new Set(need.signed.map((s) => s.personId));
      const choices = view.participants.filter((p) => !signed.has(p.id) && p.roles.some((r) => (need.remaining[r] ?? 0) > 0)).map((p) => ({ name: `${p.name} (${p.roles.join(', ')})`, value: p.id }));
      const remaining = Object.entries(need.remaining).map(([r, n]) => `${n} ${r}`).join(', ');
      const personId = await select({ message: `Sign-off still needed from ${remaining}. Who confirms?`, choices });
      return { kind: 'signoff', personId };
    }
    case 'shareHandout':
      if (need.phase === 'privacy') {
        await confirm({ message: `Share ${need.shareIndex} of ${need.of} for ${need.custodian.name}. Everyone except ${need.custodian.name} looks away. Ready?`, default: true });
        return { kind: 'shareAck' };
      }
      if (need.phase === 'reveal') {
        const share = view.revealedShare;
        if (!share) throw new KeyriteError('INTERNAL_NO_SHARE', 'The share to show is not in memory.');
        process.stdout.write(`\n   ${share.header} · ${share.custodian}\n\n`);
        share.words.forEach((w, i) => process.stdout.write(`${String(i + 1).padStart(5)}. ${w.padEnd(10)}${(i + 1) % 4 === 0 ? '\n' : ''}`));
        process.stdout.write('\n\n');
        await confirm({ message: 'Written down? The screen is cleared next.', default: true });
        process.stdout.write('\x1b[2J\x1b[3J\x1b[H');
        return { kind: 'shareAck' };
      }
      {
        const words: string[] = [];
        for (const p of need.confirmPositions ?? []) words.push((await input({ message: `${need.custodian.name}, enter word ${p + 1} of your share:` })).trim());
        return { kind: 'shareConfirm', words };
      }
    case 'shareEntry': {
      process.stdout.write(`   ${need.accepted.length} of ${need.threshold} shares accepted${need.accepted.length ? ` (${need.accepted.map((a) => `${a.index}: ${a.custodian}`).join(', ')})` : ''}.\n`);
      const text = await password({ message: 'Next custodian: type your share words (hidden), then Enter:', mask: '*' });
      return { kind: 'share', text };
    }
    case 'statement': {
      const values: Record<string, string> = {};
      for (const f of need.fields) values[f.id] = await input({ message: `${f.label}${f.required ? '' : ' (optional)'}:` });
      return { kind: 'statement', values };
    }
    case 'continue':
      await confirm({ message: need.message, default: true });
      return { kind: 'continue' };
    case 'done':
      return null;
  }
}
