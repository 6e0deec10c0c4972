import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { withDemoOpenPgpKeys } from '../demo-openpgp';
import { AnswersDriver, demoAnswers, driveWithAnswers, loadAnswers, type Answers } from '../../core/ceremony/answers';
import { CeremonyService } from '../../core/ceremony/service';
import { listScripts, loadScript } from '../../core/ceremony/script';
import { renderScriptHtml } from '../../core/ceremony/script-html';
import type { CeremonyView, StepInput } from '../../core/ceremony/types';
import { keyriteHome } from '../../core/config/paths';
import { KeyriteError } from '../../core/errors';
import { readBackupFile } from '../../core/backup/backup-file';
import { INPUT_LIMITS, readInputText } from '../../core/fs/input-file';
import { checkOutputDir, checkOutputFile } from '../../core/fs/output-dir';
import { resolveHsmConfig, type HsmConfig } from '../../core/hsm/config';
import { isPkcs11Uri } from '../../core/hsm/pkcs11-uri';
import { ProgressPrinter } from '../ceremony-print';
import { isInteractive, readPinIfGiven, writeNewPage } from '../io';
import { askParameters } from '../parameter-prompt';
import { loadPrompts, stoppedByEndOfInput } from '../prompts';
import { interruptedError, isPromptInterrupt, TerminalDriver } from '../terminal-driver';
import { exitInterrupted, onStopSignals } from '../terminal-stop';

interface RunOptions {
  pinFile?: string;
  soPinFile?: string;
  out?: string;
  answers?: string;
  demo?: boolean;
  drillShares?: string;
  drillSharesOut?: string;
  backup?: string;
  param?: string[];
  demoOpenpgp?: string;
}

/**
 * Where new drill shares will be written. A path that exists as a file or a link, or whose folder
 * does not exist yet, is left to the core, which refuses it by name (DRILL_SHARES_EXISTS,
 * DRILL_SHARES_IN_BUNDLE, …); anything else (a folder, a FIFO, /proc) is refused here with its
 * OUTPUT_* code.
 */
function drillSharesTarget(file: string): string {
  const st = lstatOrNull(file);
  if (st && (st.isFile() || st.isSymbolicLink())) return path.resolve(file);
  // A folder that does not exist yet may be the bundle folder, which the core refuses by name.
  if (!lstatOrNull(path.dirname(path.resolve(file)))) return path.resolve(file);
  return checkOutputFile(file, 'drill shares file');
}

function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/** A drill shares file: one share per line, words separated by spaces, `#` comment lines allowed. */
export function readDrillShares(file: string): string[] {
  const text = readInputText(file, { what: 'drill shares file', domain: 'DRILL_SHARES', maxBytes: INPUT_LIMITS.drillShares });
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

function parseParams(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new KeyriteError('USAGE', `--param takes name=value, not '${item}'.`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** The HSM: --token / the environment first, else the answers file's token and module arguments. */
function hsmFor(answers: Answers | null = null): HsmConfig {
  const env = { ...process.env };
  if (answers?.token && !env.KEYRITE_TOKEN_URI && !env.KEYRITE_TOKEN_LABEL) {
    if (isPkcs11Uri(answers.token)) env.KEYRITE_TOKEN_URI = answers.token;
    else env.KEYRITE_TOKEN_LABEL = answers.token;
  }
  if (answers?.moduleArgs && !env.KEYRITE_PKCS11_INIT_ARGS) env.KEYRITE_PKCS11_INIT_ARGS = answers.moduleArgs;
  return resolveHsmConfig(env);
}

async function openService(hsm: HsmConfig = hsmFor()): Promise<CeremonyService> {
  return CeremonyService.open({ home: keyriteHome(), hsm });
}

/**
 * The answers for an unattended run: built-in demo answers, an answers file, or both merged. The
 * demo cast covers every built-in role; each script checks in only those it has roles for.
 * A PIN in an answers file is accepted only for the demo token (whose PINs are public); for any
 * other token the PINs come from KEYRITE_PIN / --pin-file and KEYRITE_SO_PIN / --so-pin-file.
 */
function unattendedAnswers(opts: RunOptions, roles: string[] | undefined, hsm: HsmConfig): Answers | null {
  if (!opts.demo && !opts.answers) return null;
  const base: Answers = opts.demo ? demoAnswers() : {};
  if (base.participants && roles) {
    base.participants = base.participants.map((p) => ({ ...p, roles: p.roles.filter((r) => roles.includes(r)) })).filter((p) => p.roles.length > 0);
  }
  const file = opts.answers ? loadAnswers(opts.answers) : {};
  if ((file.pin !== undefined || file.soPin !== undefined) && !hsm.demo) {
    throw new KeyriteError('ANSWERS_PIN_NOT_DEMO', `The answers file '${opts.answers}' holds a PIN, but token '${hsm.tokenLabel}' is not the demo token. A PIN may sit in an answers file only for the demo token, whose PINs are public: remove it and set KEYRITE_PIN (and KEYRITE_SO_PIN) or pass --pin-file FILE (and --so-pin-file FILE).`, { details: { file: opts.answers, tokenLabel: hsm.tokenLabel } });
  }
  const answers: Answers = { ...base, ...file };
  const pin = readPinIfGiven({ pinFile: opts.pinFile, envName: 'KEYRITE_PIN' });
  const soPin = readPinIfGiven({ pinFile: opts.soPinFile, envName: 'KEYRITE_SO_PIN' });
  if (pin !== undefined) answers.pin = pin;
  if (soPin !== undefined) answers.soPin = soPin;
  return answers;
}

/** Bundles go under KEYRITE_HOME unless --out says otherwise. */
function defaultOut(scriptId: string): string {
  return path.join(keyriteHome(), 'bundles', `${scriptId}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}

function needsTerminal(): KeyriteError {
  // Typed at a terminal, but the output piped (`| tee log`, `> run.txt`): saying "run it in a
  // terminal" would puzzle the person who did; and shares shown on screen must not go to a file.
  if (process.stdin.isTTY && !process.stdout.isTTY) {
    return new KeyriteError('CEREMONY_NEEDS_TERMINAL', "This ceremony's output goes to a pipe or a file, not to the terminal: shares shown on screen must never be written there, and the prompts need the screen. Run it without '| …' or '> …'; the transcript in the bundle is the record.");
  }
  return new KeyriteError('CEREMONY_NEEDS_TERMINAL', 'This ceremony needs a person at a terminal. Run it in a terminal, or pass --answers FILE (drills, tests) or --demo (rehearsal on the demo token).');
}

/**
 * The Parameters page of the terminal: the script's parameters with their limits, accepted or
 * changed one by one. Ctrl-C here starts nothing (no ceremony row, no transcript, no HSM session).
 */
async function confirmParameters(service: CeremonyService, script: string, given: Record<string, unknown>, opts: { demo?: boolean; backupFile?: string; drillSharesFile?: string }): Promise<Record<string, unknown>> {
  const p = await loadPrompts();
  // Given on the command line, and checked with the rest (the page does not ask for them again).
  const fixed: Record<string, unknown> = {};
  if (opts.backupFile) fixed.backupFile = path.resolve(opts.backupFile);
  if (opts.drillSharesFile) fixed.drillSharesFile = opts.drillSharesFile;
  try {
    const chosen = await askParameters(p, (g) => service.describeParameters(script, { ...g, ...fixed }, { demo: opts.demo }), given, (s) => process.stdout.write(s));
    for (const name of Object.keys(fixed)) delete chosen[name];
    return chosen;
  } catch (e) {
    if (isPromptInterrupt(e)) {
      throw new KeyriteError('PROMPT_CANCELLED', `Stopped at your request (${stoppedByEndOfInput(e) ? 'Ctrl-D' : 'Ctrl-C'} at the parameters). Nothing was started: no ceremony, no transcript, nothing in the HSM. Run the ceremony again when ready.`, { cause: e });
    }
    throw e;
  }
}

async function drive(service: CeremonyService, view: CeremonyView, answers: Answers | null): Promise<CeremonyView> {
  const printer = new ProgressPrinter();
  const provide = (input: StepInput): Promise<CeremonyView> => service.provide(view.ceremonyId, input);
  if (answers) {
    // Unattended (an answers file, a rehearsal): a signal still says where the ceremony stopped and how to resume.
    let current = view;
    const undoSignals = onStopSignals((key, status) => exitInterrupted(interruptedError(current, false, key), status));
    try {
      return await driveWithAnswers(view, provide, new AnswersDriver(answers), {
        onView: (v) => {
          current = v;
          printer.show(v);
        },
      });
    } finally {
      undoSignals();
    }
  }
  if (!isInteractive()) throw needsTerminal();
  const driver = new TerminalDriver();
  let current = view;
  // Ctrl-C while Keyrite works (between prompts), SIGTERM or SIGHUP at any time: the same cleared
  // screen and coded message as Ctrl-C at a prompt, never a share left on screen.
  const undoSignals = onStopSignals((key, status) => exitInterrupted(interruptedError(current, driver.shareShown, key, driver.unsubmitted(current)), status));
  try {
    for (;;) {
      printer.show(current);
      let input: StepInput | null;
      try {
        input = await driver.ask(current);
      } catch (e) {
        if (isPromptInterrupt(e)) exitInterrupted(interruptedError(current, driver.shareShown, stoppedByEndOfInput(e) ? 'Ctrl-D' : 'Ctrl-C', driver.unsubmitted(current)));
        throw e;
      }
      if (!input) return current;
      current = await provide(input);
    }
  } finally {
    undoSignals();
    driver.forget();
  }
}

/**
 * Resuming a sealed ceremony adds nothing to it. If a crash had cut the writing of its bundle
 * short, loading it wrote the missing files from the store and verified the bundle: say so.
 * Otherwise there is nothing to resume, and the refusal says where the bundle is.
 */
function reportSealed(id: string, outDir: string, written: string[]): void {
  if (written.length === 0) {
    throw new KeyriteError('CEREMONY_ALREADY_SEALED', `Ceremony ${id} is sealed and its bundle ${outDir} is complete and verified; nothing can be added after the seal.`, { details: { id } });
  }
  process.stdout.write(`Ceremony ${id} was sealed, but its bundle was cut short: wrote ${written.join(', ')} from the store and verified the bundle.\nCeremony ${id} sealed. Bundle: ${outDir}\n`);
}

function finish(view: CeremonyView): void {
  // Sealed, but the bundle could not be written: the ceremony is safe in the store, the folder is not done.
  if (view.status === 'sealed' && view.lastError) throw new KeyriteError(view.lastError.code, view.lastError.message, { details: view.lastError.details });
  if (view.status === 'sealed') return;
  if (view.status === 'aborted') process.exit(1);
  throw new KeyriteError('CEREMONY_INCOMPLETE', `Ceremony ${view.ceremonyId} stopped at step '${view.current?.title ?? '?'}'. Resume it with \`keyrite ceremony resume ${view.ceremonyId}\`.`);
}

export function registerCeremonyCommands(program: Command): void {
  const ceremony = program.command('ceremony').description('run scripted key ceremonies');

  ceremony
    .command('list')
    .description('list the built-in ceremony scripts')
    .action(() => {
      for (const s of listScripts()) process.stdout.write(`${s.id.padEnd(24)} ${s.title} (v${s.version})\n${' '.repeat(25)}${s.description}\n`);
    });

  ceremony
    .command('script')
    .description('print a ceremony script for before the ceremony: each line with a checkbox, time and initials (HTML for the printer)')
    .argument('<script>', 'script id or path')
    .requiredOption('--html <file>', 'write the printable page to this new file (never overwritten)')
    .action((script: string, opts: { html: string }) => {
      const loaded = loadScript(script);
      const file = path.resolve(opts.html);
      writeNewPage(file, renderScriptHtml(loaded));
      process.stdout.write(`Wrote ${file}: ${loaded.script.title} (${loaded.script.id} v${loaded.script.version}, SHA-256 ${loaded.sha256}). Print it and fill it in by hand during the ceremony.\n`);
    });

  ceremony
    .command('run')
    .description('run a ceremony script (built-in id or path to a YAML file)')
    .argument('<script>', 'script id or path')
    .option('--out <dir>', 'bundle folder (created; refused if it exists and is not empty)')
    .option('--answers <file>', 'answers file (YAML) for a run with no person at the keyboard')
    .option('--demo', 'rehearse on the embedded demo token with built-in participants')
    .option('--drill-shares <file>', 'drills: write shares to a new FILE (root-key-generation, key-rotation) or read them from FILE (recovery, share rotation)')
    .option('--drill-shares-out <file>', 'drills: write the new shares to a new FILE (share rotation, or any script that makes shares)')
    .option('--backup <file>', 'the backup file to restore or re-split')
    .option('--param <name=value...>', 'set a script parameter')
    .option('--pin-file <file>', 'unattended runs: the user PIN, from a file only its owner can read (or KEYRITE_PIN)')
    .option('--so-pin-file <file>', 'unattended runs: the security officer PIN for a trusted KEK (or KEYRITE_SO_PIN)')
    .option('--demo-openpgp <n>', 'with --demo: the first N custodians bring throw-away OpenPGP keys and get their shares sealed')
    .action(async (scriptArg: string, opts: RunOptions) => {
      const loaded = loadScript(scriptArg);
      // The token may come from the answers file; whether it is the demo token decides whether
      // that file may hold a PIN.
      const hsm = hsmFor(opts.answers ? loadAnswers(opts.answers) : null);
      let answers = unattendedAnswers(opts, loaded.script.roles.map((r) => r.id), hsm);
      if (opts.demoOpenpgp !== undefined) {
        const n = Number(opts.demoOpenpgp);
        if (!opts.demo || !answers || !Number.isInteger(n) || n < 1 || n > 16) throw new KeyriteError('USAGE', '--demo-openpgp N goes with --demo, and N is a number of custodians from 1 to 16.');
        const made = await withDemoOpenPgpKeys(answers, n);
        answers = made.answers;
        process.stdout.write(`Demo OpenPGP keys (throw-away, rehearsal only): ${made.dir}\n`);
      }
      const parameters: Record<string, unknown> = { ...(answers?.parameters ?? {}), ...parseParams(opts.param) };
      let drillSharesFile: string | undefined;
      const reads = loaded.script.steps.some((s) => s.action === 'collectShares' || s.action === 'restoreBackup' || s.action === 'resplitShares');
      const writes = loaded.script.steps.some((s) => s.action === 'createBackup' || s.action === 'resplitShares');
      if (opts.drillShares) {
        if (reads && answers) answers.shares = [...readDrillShares(opts.drillShares), ...(answers.shares ?? [])];
        // A file that was read is never written: new shares go to a new file (--drill-shares-out).
        else if (writes) drillSharesFile = drillSharesTarget(opts.drillShares);
      }
      if (opts.drillSharesOut) {
        if (!writes) throw new KeyriteError('USAGE', `Script '${loaded.script.id}' makes no shares, so --drill-shares-out has nothing to write.`);
        drillSharesFile = drillSharesTarget(opts.drillSharesOut);
      }
      // Named inputs and the output folder are checked before a ceremony exists, so a wrong path
      // costs nothing: no ceremony row, no transcript, no HSM session.
      if (opts.backup) readBackupFile(opts.backup);
      if (!answers && !isInteractive()) throw needsTerminal();
      const out = checkOutputDir(opts.out ?? defaultOut(loaded.script.id));
      const service = await openService(hsm);
      try {
        // A person at the terminal sees every parameter with its limits and accepts or changes
        // each before anyone checks in; answers files and --demo runs stay unattended.
        const chosen = answers ? parameters : await confirmParameters(service, loaded.file, parameters, { demo: opts.demo, backupFile: opts.backup, drillSharesFile });
        const view = await service.start({ script: loaded.file, outDir: out, parameters: chosen, demo: opts.demo, backupFile: opts.backup ? path.resolve(opts.backup) : undefined, drillSharesFile });
        process.stdout.write(`Ceremony ${view.ceremonyId}: ${view.title}${view.demo ? ' (demo rehearsal)' : ''}\nBundle: ${view.outDir}\n`);
        finish(await drive(service, view, answers));
      } finally {
        await service.close();
      }
    });

  ceremony
    .command('resume')
    .description('continue an interrupted ceremony (the only one in progress when no id is given)')
    .argument('[id]', 'ceremony id')
    .option('--answers <file>', 'answers file')
    .option('--demo', 'demo answers')
    .option('--drill-shares <file>', 'read shares from FILE')
    .option('--pin-file <file>', 'unattended runs: the user PIN, from a file only its owner can read (or KEYRITE_PIN)')
    .option('--so-pin-file <file>', 'unattended runs: the security officer PIN for a trusted KEK (or KEYRITE_SO_PIN)')
    .action(async (id: string | undefined, opts: RunOptions) => {
      const hsm = hsmFor();
      const service = await openService(hsm);
      try {
        const ceremonyId = id ?? (await service.onlyRunning());
        const runner = await service.runner(ceremonyId);
        if (runner.ceremonyStatus === 'sealed') {
          reportSealed(runner.id, runner.outDir, runner.bundleRepaired);
          return;
        }
        const answers = unattendedAnswers(opts, runner.script.roles.map((r) => r.id), hsm);
        if (answers && opts.drillShares) answers.shares = [...readDrillShares(opts.drillShares), ...(answers.shares ?? [])];
        const view = await service.view(ceremonyId);
        process.stdout.write(`Resuming ceremony ${ceremonyId} at step ${(view.current?.index ?? 0) + 1}: ${view.current?.title ?? '(none)'}\n`);
        if (view.status !== 'running') throw new KeyriteError('CEREMONY_NOT_RUNNING', `Ceremony ${ceremonyId} is ${view.status}; an ${view.status} ceremony cannot be resumed.`);
        finish(await drive(service, view, answers));
      } finally {
        await service.close();
      }
    });

  ceremony
    .command('status')
    .description('list ceremonies and where each stands')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const service = await openService();
      try {
        const list = await service.listCeremonies();
        if (opts.json) {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return;
        }
        if (list.length === 0) process.stdout.write('No ceremonies yet.\n');
        for (const c of list) {
          const where = c.status === 'running' ? `step ${c.currentStep + 1}/${c.stepCount} (${c.currentStepTitle ?? '?'})` : c.status;
          process.stdout.write(`${c.id}  ${c.title.padEnd(36)} ${where}\n    bundle ${c.outDir}\n`);
        }
      } finally {
        await service.close();
      }
    });

  ceremony
    .command('abort')
    .description('abort a ceremony in progress (recorded in its transcript)')
    .argument('[id]', 'ceremony id')
    .requiredOption('--reason <text>', 'why the ceremony is aborted')
    .requiredOption('--by <person>', 'id of the participant aborting it')
    .action(async (id: string | undefined, opts: { reason: string; by: string }) => {
      const service = await openService();
      try {
        const ceremonyId = id ?? (await service.onlyRunning());
        await service.abort(ceremonyId, opts.reason, opts.by);
        process.stdout.write(`Ceremony ${ceremonyId} aborted.\n`);
      } finally {
        await service.close();
      }
    });
}
