import { statSync } from 'node:fs';
import path from 'node:path';
import { decodeShare, SHARE_WORDS } from '../core/backup/share-codec';
import { closestWords, lookupWord, WORDS } from '../core/backup/wordlist';
import { isKeyriteError } from '../core/errors';
import { shareTextWords } from '../shared/share-text';
import type { Prompts } from './prompts';
import { CLEAR_SCREEN_AND_SCROLLBACK, wordGrid, wrapWords } from './terminal-layout';


/** A typed token as a list word: the word itself or its unique prefix of 4+ letters. */
export function completeWord(token: string): string | undefined {
  const s = lookupWord(token.trim().toLowerCase());
  return s === undefined ? undefined : WORDS[s];
}

/** What the prompt shows while typing: the letters typed, then the rest of the word once it is unique. */
export function completionHint(typed: string): string {
  const t = typed.trim().toLowerCase();
  if (t.length < 4) return typed;
  const full = completeWord(t);
  return full && full !== t ? `${typed}${full.slice(t.length)} ✓` : full ? `${typed} ✓` : typed;
}

/** 'file PATH' at the first word: the custodian hands over the file their own device decrypted. */
const FILE_ANSWER = /^\s*file\s+/i;

function shareFileProblem(file: string): string | true {
  try {
    const st = statSync(path.resolve(file));
    if (!st.isFile()) return `'${file}' is not a file.`;
    return st.size <= 8 * 1024 ? true : `'${file}' is ${st.size} bytes: too large to be a share. Name the decrypted file (gpg --decrypt FILE > share.txt).`;
  } catch {
    return `There is no file '${file}'. Check the medium is mounted and the path.`;
  }
}

function wordProblem(token: string): string | true {
  if (completeWord(token)) return true;
  const t = token.trim().toLowerCase();
  if (t.length > 0 && t.length < 4 && WORDS.some((w) => w.startsWith(t))) return 'Type at least 4 letters (4 are enough for every word).';
  const near = closestWords(t);
  return `'${token.trim()}' is not a share word.${near.length ? ` Did you mean ${near.join(', ')}?` : ''}`;
}

/**
 * The words on one typed line: one word, or several pasted at once (a line of the card, the whole
 * share), split as the decoder splits them (numbers, commas, tabs and the header line dropped).
 * A problem names the word by its number in the share; more words than are left is refused whole.
 */
function lineProblem(line: string, have: number): string | true {
  const tokens = shareTextWords(line);
  if (tokens.length <= 1) return wordProblem(tokens[0] ?? line);
  const left = SHARE_WORDS - have;
  if (tokens.length > left) return `That is ${tokens.length} words, but only ${left} ${left === 1 ? 'is' : 'are'} left to type (words ${have + 1} to ${SHARE_WORDS}).`;
  for (const [i, t] of tokens.entries()) {
    const problem = wordProblem(t);
    if (problem !== true) return `Word ${have + i + 1}: ${problem}`;
  }
  return true;
}

/**
 * A share typed word by word, visibly (a drill: the custodian reads their own card aloud to
 * themselves), or several words to a line (pasted), with completion from 4-letter prefixes, 'back' to redo the previous word, a
 * review grid in the card's layout, single-word corrections by number, and a local checksum
 * check that names the wrong word before anything is sent. The screen and scrollback are cleared
 * once the share is submitted. The words array is zeroized by the caller after use.
 */
export async function enterShareWords(p: Prompts, who: string, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<string[] | { file: string }> {
  const words: string[] = [];
  out(`${wrapWords(`${who}: type your share one word at a time (${SHARE_WORDS} words, 4 letters are enough; 'back' redoes the previous word), or 'file PATH' for a decrypted sealed-share file.`, '   ')}\n`);
  while (words.length < SHARE_WORDS) {
    const n = words.length + 1;
    const typed = await p.input({
      message: `Word ${n} of ${SHARE_WORDS}:`,
      transformer: (v: string, { isFinal }: { isFinal: boolean }) => (FILE_ANSWER.test(v) ? v : isFinal ? completeWord(v) ?? v : completionHint(v)),
      validate: (v: string) => {
        if (n === 1 && FILE_ANSWER.test(v)) return shareFileProblem(v.trim().replace(FILE_ANSWER, ''));
        return v.trim().toLowerCase() === 'back' ? (words.length > 0 ? true : 'There is no previous word yet.') : lineProblem(v, words.length);
      },
    });
    if (n === 1 && FILE_ANSWER.test(typed)) return { file: path.resolve(typed.trim().replace(FILE_ANSWER, '')) };
    if (typed.trim().toLowerCase() === 'back') {
      words.pop();
      continue;
    }
    const tokens = shareTextWords(typed);
    for (const t of tokens.length > 0 ? tokens : [typed]) words.push(completeWord(t)!);
  }
  for (;;) {
    out(`\n${wordGrid(words)}\n\n`);
    const problem = checksumProblem(words);
    if (problem) out(`${wrapWords(`! ${problem}`, '   ')}\n`);
    const answer = (await p.input({
      message: problem ? 'Number of the word to correct:' : 'Enter to submit the share, or the number of a word to correct:',
      validate: (v: string) => {
        const t = v.trim();
        if (!t) return problem ? 'Correct the word first: type its number.' : true;
        const k = Number(t);
        return Number.isInteger(k) && k >= 1 && k <= SHARE_WORDS ? true : `Type a word number from 1 to ${SHARE_WORDS}, or nothing to submit.`;
      },
    })).trim();
    if (!answer) break;
    const k = Number(answer);
    const typed = await p.input({
      message: `Word ${k} (now '${words[k - 1]}'):`,
      transformer: (v: string, { isFinal }: { isFinal: boolean }) => (isFinal ? completeWord(v) ?? v : completionHint(v)),
      validate: wordProblem,
    });
    words[k - 1] = completeWord(typed)!;
  }
  out(CLEAR_SCREEN_AND_SCROLLBACK);
  return words;
}

/** The codec's own sentence when the words do not decode (checksum, version…), or null. */
function checksumProblem(words: string[]): string | null {
  try {
    const decoded = decodeShare(words.join(' '));
    decoded.share.fill(0);
    return null;
  } catch (e) {
    return isKeyriteError(e) ? `${e.message} [${e.code}]` : String(e);
  }
}
