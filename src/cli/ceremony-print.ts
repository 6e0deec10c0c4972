import type { CeremonyView } from '../core/ceremony';
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
      this.out(wrap(cur.say, '   '));
      const confirm = Object.entries(cur.confirm).map(([r, n]) => `${n} ${r}`).join(', ');
      if (confirm) this.out(`   Sign-off: ${confirm}`);
    }
    if (cur?.evidence) {
      const text = Object.entries(cur.evidence).map(([k, v]) => `   ${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n');
      if (text !== this.lastEvidence) {
        this.lastEvidence = text;
        this.out(text);
      }
    }
    if (view.lastError) this.out(`   ! ${view.lastError.message}`);
    if (view.status === 'sealed' && view.sealed) {
      this.out('');
      this.out(`Ceremony ${view.ceremonyId} sealed. Bundle: ${view.sealed.bundle}`);
      this.out(`Final transcript hash: ${view.sealed.finalHash.match(/.{1,8}/g)!.join(' ')}`);
      this.out(`In words: ${view.sealed.finalHashWords.join(' ')}`);
      this.out(`Verify with: keyrite verify ${view.sealed.bundle}`);
    }
    if (view.status === 'aborted') this.out(`Ceremony ${view.ceremonyId} was aborted.`);
  }
}

function wrap(text: string, indent: string, width = 96): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if ((line + ' ' + w).trim().length > width - indent.length) {
      lines.push(indent + line.trim());
      line = w;
    } else line += ' ' + w;
  }
  if (line.trim()) lines.push(indent + line.trim());
  return lines.join('\n');
}
