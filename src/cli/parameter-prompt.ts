import type { ParameterField, ParameterForm } from '../core/ceremony/parameter-form';
import { escapeLinesForTerminal } from '../core/text/plain-text';
import type { Prompts } from './prompts';
import { wrapWords } from './terminal-layout';

type Describe = (given: Record<string, unknown>) => ParameterForm;

/** Parameters the terminal does not ask about: the drill shares file is given with --drill-shares, the backup with --backup. */
const NOT_ASKED = new Set(['drillSharesFile', 'backupFile']);

/**
 * Before check-in, the administrator sees every parameter of the script with its value, where
 * that value came from, and the limits the script and the key policy set; and accepts them all,
 * or changes one at a time. Each value is checked by the core (the check the desktop Parameters
 * page makes) and the table redrawn with its verdict. "No" (or Enter) never starts the
 * ceremony, nor does a refused value: its field is offered first for the next change. Returns
 * the values to start with.
 */
export async function askParameters(p: Prompts, describe: Describe, initial: Record<string, unknown>, write: (s: string) => void): Promise<Record<string, unknown>> {
  const given: Record<string, unknown> = { ...initial };
  for (;;) {
    const form = describe(given);
    write(`\n${renderParameters(form)}\n`);
    if (form.ok) {
      const go = await p.confirm({ message: 'Start with these parameters? (they are recorded in the transcript)', default: false });
      if (go) return Object.fromEntries(Object.entries(form.values).filter(([name]) => !NOT_ASKED.has(name) || initial[name] !== undefined));
    } else {
      write(`${wrapWords('The ceremony cannot start with these values: change the ones marked ✗.', '   ')}\n`);
    }
    const names = form.fields.filter((f) => !NOT_ASKED.has(f.name)).map((f) => f.name);
    const first = form.fields.find((f) => f.problems.length > 0 && !NOT_ASKED.has(f.name))?.name;
    const name = (await p.input({
      message: `Parameter to change (${names.join(', ')}):`,
      default: first,
      validate: (v) => (names.includes(v.trim()) ? true : `'${v.trim()}' is not a parameter of this ceremony (${names.join(', ')}).`),
    })).trim();
    const field = form.fields.find((f) => f.name === name)!;
    // Not refused at the prompt: the table is drawn again with the core's verdict on the value
    // (✗ and the reason on that line), and a refused value cannot be started with.
    const typed = await p.input({ message: `${name}${field.limits ? ` (${field.limits})` : ''}:`, default: field.value === null ? undefined : String(field.value) });
    given[name] = typed.trim();
  }
}

/** The parameters as a short table: value, where it came from, the limits, and any problem. */
export function renderParameters(form: ParameterForm): string {
  const shown = form.fields.filter((f) => !NOT_ASKED.has(f.name) || f.value !== null);
  const width = Math.max(...shown.map((f) => f.name.length), 4);
  const lines = ['   Parameters (recorded in the transcript):'];
  for (const f of shown) {
    const mark = f.problems.length > 0 ? '✗' : '✓';
    lines.push(`   ${mark} ${f.name.padEnd(width)}  ${valueText(f)}${sourceText(f)}`);
    if (f.limits) lines.push(wrapWords(`limits: ${f.limits}`, `       ${' '.repeat(width)}`));
    if (f.type === 'subject' && f.rdns) lines.push(`       ${' '.repeat(width)}${f.rdns.map((rdn) => rdn.map((a) => `${a.type}=${a.value}`).join(' + ')).join(' / ')}`);
    for (const problem of f.problems) lines.push(wrapWords(`✗ ${problem.message} [${problem.code}]`, `       ${' '.repeat(width)}`));
  }
  for (const problem of form.problems) lines.push(wrapWords(`✗ ${problem.message} [${problem.code}]`, '   '));
  for (const w of form.warnings) lines.push(wrapWords(`! Policy warning: ${w}`, '   '));
  // Values come from a script file or the command line: escaped, so they cannot forge output.
  return escapeLinesForTerminal(lines.join('\n'));
}

function valueText(f: ParameterField): string {
  return f.value === null ? '(not set)' : String(f.value);
}

function sourceText(f: ParameterField): string {
  if (f.source === 'default') return '  · from the script';
  if (f.source === 'demo') return '  · rehearsal value';
  return '';
}
