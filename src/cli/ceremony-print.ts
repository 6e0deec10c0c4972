import type { CeremonyView } from '../core/ceremony';
import { groupedHex, wrapWords } from './terminal-layout';
import { escapeLinesForTerminal } from '../core/text/plain-text';

/** Progress lines for the terminal: the step, its read-aloud text, and the evidence it produced. */
export class ProgressPrinter {
  private lastStep = -1;
  private lastEvidence = '';

  private readonly out: (line: string) => void;

  /** Every line is escaped: names and evidence can come from files (backup custodians, labels). */
  constructor(out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
    this.out = (text) => out(escapeLinesForTerminal(text));
  }

  show(view: CeremonyView): void {
    const cur = view.current;
    if (cur && cur.index !== this.lastStep) {
      this.lastStep = cur.index;
      this.lastEvidence = '';
      this.out('');
      this.out(`── Step ${cur.index + 1} of ${view.steps.length}: ${cur.title}`);
      this.out(wrapWords(cur.say, '   '));
      const confirm = Object.entries(cur.confirm).map(([r, n]) => `${n} ${r}`).join(', ');
      if (confirm) this.out(`   Sign-off: ${confirm}`);
    }
    if (cur?.evidence) {
      const text = Object.entries(cur.evidence).map(([k, v]) => wrapWords(`${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`, '   ')).join('\n');
      if (text !== this.lastEvidence) {
        this.lastEvidence = text;
        this.out(text);
      }
    }
    if (view.lastError) this.out(wrapWords(`! ${view.lastError.message} [${view.lastError.code}]`, '   '));
    if (view.status === 'sealed' && view.sealed) {
      this.out('');
      this.out(`Ceremony ${view.ceremonyId} sealed. Bundle: ${view.sealed.bundle}`);
      this.out('Final transcript hash:');
      this.out(groupedHex(view.sealed.finalHash, '   '));
      this.out('In words:');
      this.out(wrapWords(view.sealed.finalHashWords.join(' '), '   '));
      if (view.sealed.keyFingerprintWords.length > 0) {
        this.out('Transcript key fingerprint in words:');
        this.out(wrapWords(view.sealed.keyFingerprintWords.join(' '), '   '));
      }
      this.out(`Verify with: keyrite verify ${view.sealed.bundle}`);
    }
    if (view.status === 'aborted') this.out(`Ceremony ${view.ceremonyId} was aborted.`);
  }
}

