/**
 * The IPC handler table: one validated handler per channel of the contract, built from the core.
 * No electron import: `src/main/index.ts` registers it with `ipcMain.handle`, the end-to-end tests
 * with Playwright's `exposeBinding`, so both drive exactly the same code.
 *
 * Every handler: input checked against the contract (the renderer is untrusted), output checked
 * too (unknown fields dropped), and every failure turned into `{ code, message }` — a
 * KeyriteError keeps its code and sentence; anything else becomes INTERNAL_ERROR with the detail
 * only in the main-process log.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { SHARE_WORDS } from '../../core/backup';
import { renderBlankShareCardHtml } from '../../core/backup/blank-share-card';
import { isKeyriteError, KeyriteError } from '../../core/errors';
import { describeHsm } from '../../core/hsm/describe';
import { loadScript } from '../../core/ceremony/script';
import { renderScriptHtml } from '../../core/ceremony/script-html';
import { isKnownModulePath } from '../../core/hsm/module-locations';
import { probeModuleInNodeChild, type ModuleProbeInfo } from '../../core/hsm/module-probe';
import { loadPolicy } from '../../core/policy';
import { Inventory } from '../../core/inventory';
import { verifyBundle } from '../../core/transcript';
import { CHANNELS, contract, type Channel, type ChannelOutput, type IpcError, type Result } from '../../shared/ipc-contract';
import { resolveBundleDir } from './confine';
import { readEvents } from './events';
import type { MainServices } from './services';
import { SETTINGS_ENV, validateSettingsPatch } from './settings';
import { toWitnessView } from './witness';

export type Handler = (input?: unknown) => Promise<Result<unknown>>;
export type HandlerTable = Record<Channel, Handler>;

export interface HandlerDeps {
  services: MainServices;
  appVersion: string;
  /** Opens the witness window; absent where there is none (the handler then says so). */
  openWitness?: () => Promise<void> | void;
  /** Prints an HTML file (the bundle's transcript.html); absent where printing is not possible. */
  printFile?: (file: string) => Promise<void>;
  /**
   * Prints HTML held in memory (a share card): it must not write the page anywhere. Absent where
   * printing is not possible.
   */
  printHtml?: (html: string) => Promise<void>;
  /**
   * Test-loads a PKCS#11 module in a child process (C_GetFunctionList, C_Initialize, C_GetInfo)
   * before settings:set saves it. Default: a plain Node child (tests, the e2e harness); the
   * desktop app passes an Electron utility process.
   */
  probeModule?: (modulePath: string) => Promise<ModuleProbeInfo>;
  /**
   * A file dialog shown by the main process. Only paths picked through it (or known module
   * locations) are accepted as a module or a script: the renderer cannot name a file itself.
   * Absent where there is no dialog (the handler then says so).
   */
  pickFile?: (kind: PickKind) => Promise<string | null>;
  /** Where unexpected errors go (the main-process log). Never receives inputs. */
  log?: (message: string, error: unknown) => void;
}

/** What a main-process dialog picks: a module or script file, a custodian's OpenPGP key file, a decrypted share file, a directory for sealed shares. */
export type PickKind = 'module' | 'script' | 'openpgpKey' | 'shareFile' | 'sealDir';

const PICK_WHAT: Record<PickKind, string> = {
  module: 'a PKCS#11 module file',
  script: 'a ceremony script file',
  openpgpKey: 'an OpenPGP public key file',
  shareFile: 'a decrypted share file',
  sealDir: 'a folder for sealed shares',
};
/** An armored public key with a few subkeys is a few KB; enrolOpenPgpKey refuses more than 64 KB. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** A share's text (header line and 33 words) is well under 1 KB. */
const MAX_SHARE_FILE_BYTES = 8 * 1024;

type Impl = { [C in Channel]: (input: z.output<(typeof contract)[C]['input']>) => Promise<ChannelOutput<C>> };

export function buildHandlerTable(deps: HandlerDeps): HandlerTable {
  const { services } = deps;
  const probeModule = deps.probeModule ?? ((p: string) => probeModuleInNodeChild(p));
  // Files the administrator chose in a main-process dialog during this run of the app.
  const picked = { module: new Set<string>(), script: new Set<string>(), sealDir: new Set<string>() };
  const pick = async (kind: PickKind): Promise<{ path: string | null }> => {
    if (!deps.pickFile) throw new KeyriteError('DIALOG_UNAVAILABLE', `Choosing ${PICK_WHAT[kind]} is not available here.`);
    const chosen = await deps.pickFile(kind);
    if (!chosen) return { path: null };
    const abs = path.resolve(chosen);
    if (kind === 'module' || kind === 'script' || kind === 'sealDir') picked[kind].add(abs);
    return { path: abs };
  };
  // A built-in id, or a file the administrator picked in the main-process dialog; never a path
  // the renderer made up (any YAML on disk would otherwise be read as a ceremony). True: built in.
  const allowedScript = (script: string): boolean => {
    const builtIn = /^[a-z0-9][a-z0-9-]*$/.test(script);
    if (!builtIn && !picked.script.has(path.resolve(script))) {
      throw new KeyriteError('CEREMONY_SCRIPT_NOT_ALLOWED', `'${script}' is neither a built-in ceremony nor a script file chosen with "Choose script file…". Pick the file through that dialog.`, { details: { script } });
    }
    return builtIn;
  };
  const log = deps.log ?? ((message, error) => console.error(`[keyrite main] ${message}`, error));

  const settingsView = async (): Promise<ChannelOutput<'settings:get'>> => {
    const saved = await services.settings();
    let hsm: { modulePath: string | null; tokenLabel: string | null; demo: boolean } = { modulePath: null, tokenLabel: null, demo: false };
    try {
      const c = await services.hsmConfig();
      hsm = { modulePath: c.modulePath, tokenLabel: c.tokenLabel, demo: c.demo };
    } catch {
      // Shown on the HSM screen with its own message; here the saved values are what matter.
    }
    const overriddenBy = Object.values(SETTINGS_ENV).filter((name): name is string => Boolean(name && services.env[name]));
    return { ...saved, effective: { ...hsm, outputFolder: await services.outputFolder() }, overriddenBy };
  };

  const impl: Impl = {
    'app:info': async () => {
      let hsm: ChannelOutput<'app:info'>['hsm'] = null;
      let hsmProblem: IpcError | null = null;
      try {
        const c = await services.hsmConfig();
        hsm = { modulePath: c.modulePath, tokenLabel: c.tokenLabel, demo: c.demo };
      } catch (e) {
        hsmProblem = toIpcError(e, log);
      }
      return { version: deps.appVersion, home: services.home, platform: `${process.platform}-${process.arch}`, hsm, hsmProblem, witnessAvailable: Boolean(deps.openWitness) };
    },
    'app:openWitness': async () => {
      if (!deps.openWitness) {
        throw new KeyriteError('WITNESS_UNAVAILABLE', 'A witness window cannot be opened here. Use the main window on the projector instead (press P for presentation mode).');
      }
      await deps.openWitness();
      return { opened: true };
    },
    'hsm:info': async () => describeHsm(await services.hsmConfig()),
    'settings:get': settingsView,
    'settings:set': async (patch) => {
      const checked = validateSettingsPatch(patch, { isAllowedModule: (p) => picked.module.has(p) || isKnownModulePath(p) });
      // Loaded in a child process first: a file that is not a PKCS#11 library is refused here, not saved.
      if (checked.modulePath) await probeModule(checked.modulePath);
      await services.saveSettings(checked);
      return settingsView();
    },
    'settings:pickModule': () => pick('module'),
    'settings:testModule': async ({ modulePath }) => {
      // The same checks as saving (an allowed location, a file), then the same child-process load.
      const checked = validateSettingsPatch({ modulePath }, { isAllowedModule: (p) => picked.module.has(p) || isKnownModulePath(p) });
      if (!checked.modulePath) throw new KeyriteError('SETTINGS_MODULE_MISSING', 'Enter the path of the PKCS#11 module to test.', { details: { field: 'modulePath' } });
      return { modulePath: checked.modulePath, ...(await probeModule(checked.modulePath)) };
    },
    'ceremony:pickScript': () => pick('script'),
    'bundle:verify': async ({ dir }) => {
      const absolute = path.resolve(dir);
      const r = await verifyBundle(absolute);
      return {
        dir: absolute,
        ceremonyId: r.ceremony,
        title: r.title,
        outcome: r.outcome,
        demo: r.demo,
        startedAt: r.startedAt,
        sealedAt: r.sealedAt,
        eventCount: r.events,
        finalHash: r.finalHash,
        finalHashWords: r.finalHashWords,
        transcriptKeyFingerprint: r.transcriptKeySpkiSha256,
        transcriptKeyWords: r.transcriptKeyWords,
        participants: r.participants.map((p) => ({ id: p.personId, name: p.name, roles: p.roles })),
        keys: r.keys.map((k) => ({ id: k.keyId, label: k.label, type: k.type, fingerprint: k.spkiSha256 })),
        files: r.files,
      };
    },
    'bundle:print': async ({ dir }) => {
      const file = path.join(path.resolve(dir), 'transcript.html');
      if (!existsSync(file)) {
        throw new KeyriteError('BUNDLE_FILE_MISSING', `There is no transcript.html in '${path.resolve(dir)}'. Choose the folder of a sealed ceremony bundle.`, { details: { file: 'transcript.html' } });
      }
      if (!deps.printFile) throw new KeyriteError('PRINT_UNAVAILABLE', `Printing is not available here. Open '${file}' in a browser and print it from there.`, { details: { file } });
      await deps.printFile(file);
      return { file };
    },
    'inventory:list': async () => {
      const inventory = new Inventory(await services.getStore(), loadPolicy());
      return (await inventory.list()).map((k) => ({
        id: k.id,
        label: k.label,
        algorithm: k.algorithm,
        size: k.size,
        curve: k.curve,
        purpose: k.purpose,
        tokenLabel: k.tokenLabel,
        tokenSerial: k.tokenSerial,
        fingerprint: k.fingerprint,
        createdAt: k.createdAt,
        ceremonyId: k.ceremonyId,
        status: k.status,
        rotationDue: k.rotationDue,
        backups: k.backups.filter((b) => !b.destroyedAt).length,
        certificates: k.certificates.length,
        flags: k.flags,
      }));
    },
    'ceremony:scripts': () => services.withEngine((e) => e.listScripts()),
    'ceremony:list': () => services.withEngine((e) => e.listCeremonies()),
    'ceremony:printScript': async ({ script }) => {
      const loaded = loadScript(script);
      if (!deps.printHtml) throw new KeyriteError('PRINT_UNAVAILABLE', `Printing is not available here. Run \`keyrite ceremony script ${script} --html FILE\` and print FILE.`);
      await deps.printHtml(renderScriptHtml(loaded));
      return { scriptId: loaded.script.id, version: loaded.script.version, sha256: loaded.sha256 };
    },
    'ceremony:parameters': async ({ script, parameters, demo }) => {
      allowedScript(script);
      // Checked as ceremony:start will use it: a relative backup file is taken from main's working folder.
      const given = typeof parameters.backupFile === 'string' && parameters.backupFile ? { ...parameters, backupFile: path.resolve(parameters.backupFile) } : parameters;
      return services.withEngine((e) => e.describeParameters(script, given, { demo }));
    },
    'ceremony:start': async ({ script, outDir, parameters, demo, backupFile }) => {
      const builtIn = allowedScript(script);
      const out = resolveBundleDir(outDir, { outputFolder: await services.outputFolder(), home: services.home, name: `${builtIn ? script : path.basename(script).replace(/\.ya?ml$/, '')}-${timestamp()}` });
      return services.withEngine((e) => e.start({ script, outDir: out, parameters, demo, backupFile: backupFile ? path.resolve(backupFile) : undefined }));
    },
    'ceremony:view': ({ id }) => services.withEngine((e) => e.view(id)),
    'ceremony:provide': ({ id, input }) => {
      // A sealed share goes to the default folder beside the bundle, or to one the administrator
      // chose in main's folder dialog; never to a folder the (untrusted) renderer names.
      if (input.kind === 'shareSeal' && input.dir !== undefined && !picked.sealDir.has(path.resolve(input.dir))) {
        throw new KeyriteError('SHARE_SEAL_DIR', `Keyrite cannot write the sealed share into '${path.resolve(input.dir)}': it was not chosen with "Choose the medium folder…". Choose the custodian's medium there, or leave the default folder.`, { details: { dir: path.resolve(input.dir) } });
      }
      return services.withEngine((e) => e.provide(id, input));
    },
    'ceremony:abort': ({ id, reason, personId }) => services.withEngine((e) => e.abort(id, reason, personId)),
    'ceremony:events': async ({ id }) => readEvents(await services.getStore(), id),
    'share:printBlankCard': async () => {
      if (!deps.printHtml) throw new KeyriteError('PRINT_UNAVAILABLE', 'Printing is not available here. Run `keyrite share blank-card --html FILE` and print FILE.');
      await deps.printHtml(renderBlankShareCardHtml());
      return { boxes: SHARE_WORDS };
    },
    'share:printCard': async ({ id }) => {
      if (!deps.printHtml) {
        throw new KeyriteError('PRINT_UNAVAILABLE', 'Printing is not available here. The custodian writes the share down by hand from the screen.');
      }
      const card = await services.withEngine((e) => e.shareCard(id));
      try {
        await deps.printHtml(card.html);
      } catch {
        // No cause and nothing logged: a printer error may quote the page, and the page is the share.
        throw new KeyriteError('PRINT_FAILED', `Share card ${card.index} (${card.custodian}) did not reach the printer. Check the printer and print again, or write the share down by hand.`, { details: { index: card.index } });
      }
      return { index: card.index, custodian: card.custodian };
    },
    'openpgp:readKeyFile': async () => {
      const { path: file } = await pick('openpgpKey');
      if (!file) return { path: null, armored: null };
      const armored = readSmallTextFile(file, MAX_KEY_FILE_BYTES, 'OPENPGP_KEY_INVALID', 'an OpenPGP public key');
      // A private key never crosses into the renderer (nor is kept): refused here, as the core would.
      if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(armored)) {
        throw new KeyriteError('OPENPGP_KEY_PRIVATE', `'${path.basename(file)}' holds a PRIVATE key. Never hand Keyrite (or anyone) a private key: export the public key only (gpg --export --armor KEYID), and consider this private key exposed.`);
      }
      return { path: file, armored };
    },
    'share:pickSealDir': () => pick('sealDir'),
    'ceremony:provideShareFile': async ({ id }) => {
      const { path: file } = await pick('shareFile');
      if (!file) return { picked: false, view: await services.withEngine((e) => e.view(id)) };
      const text = readSmallTextFile(file, MAX_SHARE_FILE_BYTES, 'SHARE_FILE_UNREADABLE', 'a decrypted share');
      return { picked: true, view: await services.withEngine((e) => e.provide(id, { kind: 'share', text })) };
    },
    'ceremony:witness': () =>
      services.withEngine(async (e) => {
        // The running ceremony; once it is sealed, the sealed one stays the room's reference (its
        // final hash and fingerprints) until a new one starts or the witness window dismisses it.
        const all = (await e.listCeremonies()).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
        const shown = all.find((c) => c.status === 'running') ?? all.find((c) => c.status === 'sealed');
        if (!shown) return null;
        return toWitnessView(await e.view(shown.id));
      }),
  };

  const table = {} as HandlerTable;
  for (const channel of CHANNELS) {
    const spec = contract[channel];
    const run = impl[channel] as (input: unknown) => Promise<unknown>;
    table[channel] = async (input: unknown) => {
      const parsed = spec.input.safeParse(input);
      if (!parsed.success) return { ok: false, error: inputError(channel, parsed.error) };
      let value: unknown;
      try {
        value = await run(parsed.data);
      } catch (e) {
        return { ok: false, error: toIpcError(e, log) };
      }
      const out = spec.output.safeParse(value);
      if (!out.success) {
        return { ok: false, error: toIpcError(new Error(`output of ${channel} does not match the contract: ${out.error.message}`), log) };
      }
      return { ok: true, value: out.data };
    };
  }
  return Object.freeze(table);
}

/** A KeyriteError keeps its code, sentence and details; anything else is logged, never shown. */
export function toIpcError(e: unknown, log: (message: string, error: unknown) => void): IpcError {
  if (isKeyriteError(e)) {
    const details = plainDetails(e.details);
    return details ? { code: e.code, message: e.message, details } : { code: e.code, message: e.message };
  }
  const reference = randomUUID().slice(0, 8);
  log(`unexpected error (reference ${reference})`, e);
  return {
    code: 'INTERNAL_ERROR',
    message: `Something unexpected went wrong inside Keyrite (reference ${reference}). Nothing was lost: the ceremony is saved at its last completed step. Retry; if it happens again, note the reference and restart Keyrite.`,
  };
}

function inputError(channel: string, error: z.ZodError): IpcError {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return {
    code: 'IPC_INPUT_INVALID',
    message: `${where}${issue.message}`,
    details: { channel, path: issue.path.map(String) },
  };
}

/** Details must survive structured cloning and must not smuggle a `cause` or a Buffer. */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!details || Object.keys(details).length === 0) return undefined;
  try {
    return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? undefined : v))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** A picked file read whole, if it is small enough to be what it claims (no cause kept: a share file's text is secret). */
function readSmallTextFile(file: string, max: number, code: 'OPENPGP_KEY_INVALID' | 'SHARE_FILE_UNREADABLE', what: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new KeyriteError(code, `'${path.basename(file)}' cannot be read. Choose the file again.`, { details: { file: path.basename(file) } });
  }
  if (size > max) throw new KeyriteError(code, `'${path.basename(file)}' is ${size} bytes, too large to be ${what} (at most ${max / 1024} KB). Choose the right file.`, { details: { file: path.basename(file), size } });
  return readFileSync(file, 'utf8');
}
