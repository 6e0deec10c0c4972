import { accessSync, constants, lstatSync, mkdirSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { fileSystemError } from './fs-errors';
import { isUnderPseudoFs, kindOf } from './input-file';

/**
 * The checks every output location a person names gets before Keyrite writes there: not under
 * /proc, /sys or /dev (Node's recursive mkdir spins forever on /proc), not a file or under one,
 * not a dangling link, writable. Each failure is a coded sentence (OUTPUT_*), and nothing is
 * created until every check has passed.
 */
function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    if (errno(e) === 'ENOTDIR') throw underFile(p);
    if (errno(e) === 'EACCES') throw notWritable(p, path.dirname(p), e);
    throw fileSystemError(e) ?? e;
  }
}

function underFile(dir: string): KeyriteError {
  let parent = path.dirname(dir);
  while (parent !== path.dirname(parent)) {
    try {
      if (!statSync(parent).isDirectory()) break;
    } catch {
      // keep climbing to the part that exists
    }
    parent = path.dirname(parent);
  }
  return new KeyriteError('OUTPUT_UNDER_FILE', `The output folder '${dir}' cannot be created: '${parent}' is a file, not a folder. Choose a folder that is not inside a file.`, { details: { dir, file: parent } });
}

function notWritable(dir: string, blocking: string, cause?: unknown): KeyriteError {
  return new KeyriteError('OUTPUT_PERMISSION', `Keyrite is not allowed to write in '${blocking}', so it cannot create the output folder '${dir}'. Choose a folder you can write to, or fix its permissions.`, { details: { dir, blocking }, cause });
}

function pseudoFs(dir: string, real: string): KeyriteError {
  return new KeyriteError('OUTPUT_SPECIAL_FS', `The output folder '${dir}'${real !== dir ? ` (a link into '${real}')` : ''} is on a kernel file system (/proc, /sys or /dev), where nothing can be stored. Choose a folder on a disk or on the export medium.`, { details: { dir, realPath: real } });
}

/** The nearest part of `dir` that exists (a link counts as existing, even if it dangles). */
function nearestExisting(dir: string): { at: string; stat: Stats } {
  let at = dir;
  for (;;) {
    const st = lstatOrNull(at);
    if (st) return { at, stat: st };
    const up = path.dirname(at);
    if (up === at) throw new KeyriteError('OUTPUT_UNDER_FILE', `No part of '${dir}' exists.`, { details: { dir } });
    at = up;
  }
}

/** Checks for an output folder that may not exist yet; returns the absolute path. Creates nothing. */
export function checkOutputDir(dir: string): string {
  const abs = path.resolve(dir);
  if (isUnderPseudoFs(abs)) throw pseudoFs(abs, abs);
  const { at, stat } = nearestExisting(abs);
  let target = stat;
  if (stat.isSymbolicLink()) {
    try {
      target = statSync(at);
    } catch {
      throw new KeyriteError('OUTPUT_DANGLING_LINK', `The output folder '${at}' is a symbolic link to something that does not exist. Create the folder it points to, or choose another output folder.`, { details: { dir: abs, link: at } });
    }
  }
  let real = at;
  try {
    real = realpathNative(at);
  } catch {
    // a race; the mkdir below reports it
  }
  if (isUnderPseudoFs(real)) throw pseudoFs(abs, real);
  if (!target.isDirectory()) {
    if (at === abs) {
      throw new KeyriteError('OUTPUT_NOT_A_FOLDER', `The output folder '${abs}' is ${kindOf(target)}, not a folder. Choose a new or empty folder for the bundle.`, { details: { dir: abs, kind: kindOf(target) } });
    }
    throw new KeyriteError('OUTPUT_UNDER_FILE', `The output folder '${abs}' cannot be created: '${at}' is ${kindOf(target)}, not a folder. Choose a folder that is not inside a file.`, { details: { dir: abs, file: at } });
  }
  try {
    accessSync(at, constants.W_OK | constants.X_OK);
  } catch (e) {
    if (errno(e) === 'EROFS') throw fileSystemError(e) ?? e;
    throw notWritable(abs, at, e);
  }
  return abs;
}

/**
 * One name per folder, for telling whether two output folders are the same: the real path of the
 * nearest part that exists (links resolved), with the parts still to be made appended. Two names
 * of one folder (a link, `..`, a bind of /tmp) give the same answer; nothing is created.
 */
export function sameFolderKey(dir: string): string {
  const abs = path.resolve(dir);
  try {
    const { at } = nearestExisting(abs);
    return path.join(realpathNative(at), path.relative(at, abs));
  } catch {
    return abs;
  }
}

function realpathNative(p: string): string {
  return realpathSync.native(p);
}

/**
 * Create the output folder (or accept an empty one) after `checkOutputDir`. The folders are
 * made one level at a time, so a path that cannot be created fails once instead of looping.
 * `nonEmpty` builds the error for a folder that already holds files.
 */
export function prepareOutputDir(dir: string, nonEmpty: (dir: string) => KeyriteError): string {
  const abs = checkOutputDir(dir);
  const st = lstatOrNull(abs);
  if (st) {
    if (readdirSync(abs).length > 0) throw nonEmpty(abs);
    return abs;
  }
  const missing: string[] = [];
  for (let at = abs; !lstatOrNull(at); at = path.dirname(at)) missing.unshift(at);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o755 });
    } catch (e) {
      if (errno(e) === 'EEXIST') continue;
      if (errno(e) === 'ENOTDIR') throw underFile(d);
      if (errno(e) === 'EACCES' || errno(e) === 'EPERM') throw notWritable(abs, path.dirname(d), e);
      throw fileSystemError(e) ?? e;
    }
  }
  return abs;
}

/**
 * An output file a person named (e.g. --drill-shares for writing): its folder must exist and
 * be writable, and if the file exists it must be a regular file (a FIFO would block the write).
 */
export function checkOutputFile(file: string, what: string): string {
  const abs = path.resolve(file);
  if (isUnderPseudoFs(abs)) {
    throw new KeyriteError('OUTPUT_SPECIAL_FS', `The ${what} '${abs}' is on a kernel file system (/proc, /sys or /dev). Choose a file on a disk or on the export medium.`, { details: { file: abs } });
  }
  const st = lstatOrNull(abs);
  if (st) {
    let target = st;
    if (st.isSymbolicLink()) {
      try {
        target = statSync(abs);
      } catch {
        throw new KeyriteError('OUTPUT_DANGLING_LINK', `The ${what} '${abs}' is a symbolic link to something that does not exist. Name a real file.`, { details: { file: abs } });
      }
    }
    if (!target.isFile()) {
      throw new KeyriteError('OUTPUT_NOT_A_FILE', `The ${what} '${abs}' is ${kindOf(target)}, not a regular file. Name a new file.`, { details: { file: abs, kind: kindOf(target) } });
    }
  }
  const parent = path.dirname(abs);
  const pst = lstatOrNull(parent);
  if (!pst) throw new KeyriteError('OUTPUT_FOLDER_MISSING', `The folder '${parent}' for the ${what} does not exist. Create it first.`, { details: { file: abs, dir: parent } });
  let ptarget = pst;
  try {
    ptarget = statSync(parent);
  } catch {
    throw new KeyriteError('OUTPUT_DANGLING_LINK', `The folder '${parent}' for the ${what} is a symbolic link to something that does not exist.`, { details: { file: abs, dir: parent } });
  }
  if (!ptarget.isDirectory()) throw underFile(abs);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new KeyriteError('OUTPUT_PERMISSION', `Keyrite is not allowed to write in '${parent}', so it cannot write the ${what}. Choose another place.`, { details: { file: abs, dir: parent }, cause: e });
  }
  return abs;
}
