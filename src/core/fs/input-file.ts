import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { KeyriteError, type ErrorCode } from '../errors';

/**
 * The one way Keyrite reads a file a person named (a backup, a script, an answers file, a PIN
 * file, a drill shares file). Before a byte is read the path is checked for what it is: a
 * missing file, a folder, a dangling link, a FIFO, a device or something under /proc, /sys or
 * /dev each get their own code (`<DOMAIN>_NOT_FOUND`, `_IS_FOLDER`, …) and a sentence, instead of
 * a raw ENOENT, a hang on a FIFO or a read that never ends. Every read has a size cap.
 */
export interface InputFileSpec {
  /** In words, for messages: "backup file", "PIN file". */
  what: string;
  /** Which input this is: picks the codes (BACKUP → BACKUP_NOT_FOUND, BACKUP_IS_FOLDER, …). */
  domain: InputDomain;
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
  /**
   * Accept a pipe or FIFO (and /dev/fd/N, /dev/stdin), e.g. a PIN handed over by process
   * substitution so it never touches a disk. The read is still bounded by `maxBytes`.
   */
  allowStreams?: boolean;
}

export type InputFileProblem = 'NOT_FOUND' | 'IS_FOLDER' | 'NOT_A_FILE' | 'SPECIAL_FS' | 'DANGLING_LINK' | 'UNREADABLE' | 'TOO_LARGE' | 'HAS_BOM' | 'NOT_UTF8';

/** The code for each problem of each kind of input, written out so the error registry can check them. */
export const INPUT_CODES = {
  BACKUP: {
    NOT_FOUND: 'BACKUP_NOT_FOUND',
    IS_FOLDER: 'BACKUP_IS_FOLDER',
    NOT_A_FILE: 'BACKUP_NOT_A_FILE',
    SPECIAL_FS: 'BACKUP_SPECIAL_FS',
    DANGLING_LINK: 'BACKUP_DANGLING_LINK',
    UNREADABLE: 'BACKUP_UNREADABLE',
    TOO_LARGE: 'BACKUP_TOO_LARGE',
    HAS_BOM: 'BACKUP_HAS_BOM',
    NOT_UTF8: 'BACKUP_NOT_UTF8',
  },
  SCRIPT: {
    NOT_FOUND: 'SCRIPT_NOT_FOUND',
    IS_FOLDER: 'SCRIPT_IS_FOLDER',
    NOT_A_FILE: 'SCRIPT_NOT_A_FILE',
    SPECIAL_FS: 'SCRIPT_SPECIAL_FS',
    DANGLING_LINK: 'SCRIPT_DANGLING_LINK',
    UNREADABLE: 'SCRIPT_UNREADABLE',
    TOO_LARGE: 'SCRIPT_TOO_LARGE',
    HAS_BOM: 'SCRIPT_HAS_BOM',
    NOT_UTF8: 'SCRIPT_NOT_UTF8',
  },
  ANSWERS: {
    NOT_FOUND: 'ANSWERS_NOT_FOUND',
    IS_FOLDER: 'ANSWERS_IS_FOLDER',
    NOT_A_FILE: 'ANSWERS_NOT_A_FILE',
    SPECIAL_FS: 'ANSWERS_SPECIAL_FS',
    DANGLING_LINK: 'ANSWERS_DANGLING_LINK',
    UNREADABLE: 'ANSWERS_UNREADABLE',
    TOO_LARGE: 'ANSWERS_TOO_LARGE',
    HAS_BOM: 'ANSWERS_HAS_BOM',
    NOT_UTF8: 'ANSWERS_NOT_UTF8',
  },
  DRILL_SHARES: {
    NOT_FOUND: 'DRILL_SHARES_NOT_FOUND',
    IS_FOLDER: 'DRILL_SHARES_IS_FOLDER',
    NOT_A_FILE: 'DRILL_SHARES_NOT_A_FILE',
    SPECIAL_FS: 'DRILL_SHARES_SPECIAL_FS',
    DANGLING_LINK: 'DRILL_SHARES_DANGLING_LINK',
    UNREADABLE: 'DRILL_SHARES_UNREADABLE',
    TOO_LARGE: 'DRILL_SHARES_TOO_LARGE',
    HAS_BOM: 'DRILL_SHARES_HAS_BOM',
    NOT_UTF8: 'DRILL_SHARES_NOT_UTF8',
  },
  PIN_FILE: {
    NOT_FOUND: 'PIN_FILE_NOT_FOUND',
    IS_FOLDER: 'PIN_FILE_IS_FOLDER',
    NOT_A_FILE: 'PIN_FILE_NOT_A_FILE',
    SPECIAL_FS: 'PIN_FILE_SPECIAL_FS',
    DANGLING_LINK: 'PIN_FILE_DANGLING_LINK',
    UNREADABLE: 'PIN_FILE_UNREADABLE',
    TOO_LARGE: 'PIN_FILE_TOO_LARGE',
    HAS_BOM: 'PIN_FILE_HAS_BOM',
    NOT_UTF8: 'PIN_FILE_NOT_UTF8',
  },
  BUNDLE_HTML: {
    NOT_FOUND: 'BUNDLE_HTML_NOT_FOUND',
    IS_FOLDER: 'BUNDLE_HTML_IS_FOLDER',
    NOT_A_FILE: 'BUNDLE_HTML_NOT_A_FILE',
    SPECIAL_FS: 'BUNDLE_HTML_SPECIAL_FS',
    DANGLING_LINK: 'BUNDLE_HTML_DANGLING_LINK',
    UNREADABLE: 'BUNDLE_HTML_UNREADABLE',
    TOO_LARGE: 'BUNDLE_HTML_TOO_LARGE',
    HAS_BOM: 'BUNDLE_HTML_HAS_BOM',
    NOT_UTF8: 'BUNDLE_HTML_NOT_UTF8',
  },
} as const satisfies Record<string, Record<InputFileProblem, ErrorCode>>;

export type InputDomain = keyof typeof INPUT_CODES;

/** Kernel file systems whose files are not data a person hands Keyrite (and may never end). */
const PSEUDO_FS_ROOTS = ['/proc', '/sys', '/dev'];

export function isUnderPseudoFs(file: string): boolean {
  const abs = path.resolve(file);
  return PSEUDO_FS_ROOTS.some((root) => abs === root || abs.startsWith(root + '/'));
}

/** A pipe handed over by the shell (`<(…)`, `/dev/stdin`): the only /dev and /proc paths a stream input may use. */
export function isShellStreamPath(file: string): boolean {
  return /^\/dev\/(stdin|fd\/\d+)$/.test(file) || /^\/proc\/(self|\d+)\/fd\/\d+$/.test(file);
}

export function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a regular file';
}

function fail(spec: InputFileSpec, problem: InputFileProblem, file: string, sentence: string, extra: Record<string, unknown> = {}, cause?: unknown): KeyriteError {
  return new KeyriteError(INPUT_CODES[spec.domain][problem], sentence, { details: { file, problem, ...extra }, cause });
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/**
 * Check `file` without reading it. Returns the absolute path and the stat of what it points at.
 * Throws a coded KeyriteError for anything but a readable regular file of acceptable size.
 */
export function checkInputFile(file: string, spec: InputFileSpec): { file: string; stat: Stats } {
  const abs = path.resolve(file);
  const shown = `'${file}'`;
  const stream = spec.allowStreams === true && isShellStreamPath(abs);
  let link: Stats;
  try {
    link = lstatSync(abs);
  } catch (e) {
    if (errno(e) === 'EACCES') throw fail(spec, 'UNREADABLE', abs, `Keyrite is not allowed to look into the folder holding the ${spec.what} ${shown}. Fix the folder's permissions or copy the file somewhere readable.`, { errno: 'EACCES' }, e);
    throw fail(spec, 'NOT_FOUND', abs, `There is no ${spec.what} at ${shown}. Check the path (a part of it may be missing, or be a file rather than a folder).`, { errno: errno(e) ?? null }, e);
  }
  let target = link;
  if (link.isSymbolicLink()) {
    try {
      target = statSync(abs);
    } catch (e) {
      throw fail(spec, 'DANGLING_LINK', abs, `The ${spec.what} ${shown} is a symbolic link to something that does not exist. Point it at the real file, or name the file itself.`, { errno: errno(e) ?? null }, e);
    }
  }
  if (!stream) {
    let real = abs;
    try {
      real = realpathSync(abs);
    } catch {
      // Checked above; a race leaves `abs`, which the open below re-checks.
    }
    if (isUnderPseudoFs(abs) || isUnderPseudoFs(real)) {
      throw fail(spec, 'SPECIAL_FS', abs, `The ${spec.what} ${shown}${real !== abs ? ` (a link to '${real}')` : ''} is a kernel or device file, not a file a person wrote. Name the ${spec.what} itself.`, { realPath: real });
    }
  }
  if (target.isDirectory()) {
    throw fail(spec, 'IS_FOLDER', abs, `${shown} is a folder, not a ${spec.what}. Name the file inside it.`);
  }
  const streamOk = spec.allowStreams === true && (target.isFIFO() || stream);
  if (!target.isFile() && !streamOk) {
    throw fail(spec, 'NOT_A_FILE', abs, `The ${spec.what} ${shown} is ${kindOf(target)}, not a regular file; Keyrite reads a ${spec.what} only from a regular file (it would otherwise wait forever or read endlessly). Copy the content into a regular file and name that.`, { kind: kindOf(target) });
  }
  if (target.isFile() && target.size > spec.maxBytes) {
    throw tooLarge(spec, abs, target.size);
  }
  return { file: abs, stat: target };
}

function tooLarge(spec: InputFileSpec, file: string, size: number | null): KeyriteError {
  const sizeText = size === null ? `longer than ${spec.maxBytes} bytes` : `${size} bytes, more than the ${spec.maxBytes} Keyrite reads from a ${spec.what}`;
  return fail(spec, 'TOO_LARGE', file, `The ${spec.what} '${file}' is ${sizeText}: it is the wrong file, or it was damaged. Check the path.`, { size, maxBytes: spec.maxBytes });
}

/**
 * Read a file a person named, after `checkInputFile`. The file is opened non-blocking and
 * checked again on the open descriptor, so a FIFO swapped in after the check cannot block.
 */
export function readInputFile(file: string, spec: InputFileSpec): Buffer {
  const checked = checkInputFile(file, spec);
  const streamOk = spec.allowStreams === true && (checked.stat.isFIFO() || !checked.stat.isFile());
  let fd: number;
  try {
    fd = openSync(checked.file, constants.O_RDONLY | constants.O_NOCTTY | (streamOk ? 0 : constants.O_NONBLOCK));
  } catch (e) {
    const code = errno(e);
    if (code === 'EACCES' || code === 'EPERM') throw fail(spec, 'UNREADABLE', checked.file, `Keyrite is not allowed to read the ${spec.what} '${file}'. Fix its permissions (the user running Keyrite needs read access).`, { errno: code }, e);
    if (code === 'ENOENT') throw fail(spec, 'NOT_FOUND', checked.file, `There is no ${spec.what} at '${file}' (it disappeared while Keyrite opened it). Check the path.`, { errno: code }, e);
    if (code === 'EISDIR') throw fail(spec, 'IS_FOLDER', checked.file, `'${file}' is a folder, not a ${spec.what}. Name the file inside it.`);
    throw fail(spec, 'UNREADABLE', checked.file, `Keyrite cannot open the ${spec.what} '${file}' (${code ?? 'unknown error'}). Check the medium and the path.`, { errno: code ?? null }, e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail(spec, 'IS_FOLDER', checked.file, `'${file}' is a folder, not a ${spec.what}. Name the file inside it.`);
    if (!st.isFile() && !streamOk) throw fail(spec, 'NOT_A_FILE', checked.file, `The ${spec.what} '${file}' is ${kindOf(st)}, not a regular file. Copy the content into a regular file and name that.`, { kind: kindOf(st) });
    return readCapped(fd, spec, checked.file);
  } finally {
    closeSync(fd);
  }
}

function readCapped(fd: number, spec: InputFileSpec, file: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, spec.maxBytes + 1 - total));
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      if (errno(e) === 'EAGAIN') break; // a non-blocking stream with nothing more to give
      if (errno(e) === 'EISDIR') throw fail(spec, 'IS_FOLDER', file, `'${file}' is a folder, not a ${spec.what}. Name the file inside it.`);
      throw fail(spec, 'UNREADABLE', file, `Keyrite could not read the ${spec.what} '${file}' (${errno(e) ?? 'unknown error'}): the medium may be failing or was removed.`, { errno: errno(e) ?? null }, e);
    }
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > spec.maxBytes) {
      for (const c of chunks) c.fill(0);
      throw tooLarge(spec, file, null);
    }
  }
  const out = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return out;
}

/** Size caps for what people hand Keyrite; generous for real files, small enough to refuse garbage fast. */
export const INPUT_LIMITS = {
  backup: 1024 * 1024,
  script: 1024 * 1024,
  answers: 1024 * 1024,
  drillShares: 1024 * 1024,
  pinFile: 4096,
  policy: 1024 * 1024,
} as const;

/**
 * Text of an input file, decoded as UTF-8. A byte-order mark is refused by name (never printed:
 * it is invisible), and so is text that is not UTF-8 at all.
 */
export function readInputText(file: string, spec: InputFileSpec): string {
  const bytes = readInputFile(file, spec);
  return decodeInputText(bytes, file, spec);
}

export function decodeInputText(bytes: Buffer, file: string, spec: Pick<InputFileSpec, 'what' | 'domain'>): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new KeyriteError(INPUT_CODES[spec.domain].HAS_BOM, `The ${spec.what} '${file}' starts with a UTF-8 byte-order mark (the bytes EF BB BF, which some Windows editors add). Save it as UTF-8 without BOM and try again.`, { details: { file, problem: 'HAS_BOM' } });
  }
  if ((bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)))) {
    throw new KeyriteError(INPUT_CODES[spec.domain].NOT_UTF8, `The ${spec.what} '${file}' is saved as UTF-16 (it starts with a UTF-16 byte-order mark). Save it as UTF-8 and try again.`, { details: { file, problem: 'NOT_UTF8' } });
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new KeyriteError(INPUT_CODES[spec.domain].NOT_UTF8, `The ${spec.what} '${file}' is not UTF-8 text (it holds binary data or another encoding). Check that you named the right file.`, { details: { file, problem: 'NOT_UTF8' } });
  }
  return text;
}
