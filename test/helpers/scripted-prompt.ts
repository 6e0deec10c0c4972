import type { enterShareWords } from '../../src/cli/share-word-entry';

/**
 * A prompt scripted as a person would answer it: each answer its own validation refuses is
 * recorded and the next one tried, as @inquirer does; the first accepted answer is returned.
 */
export function scriptedPrompt(answers: string[]): { p: Parameters<typeof enterShareWords>[0]; refused: string[] } {
  const refused: string[] = [];
  const input = async (opts: { validate?: (v: string) => true | string }) => {
    for (;;) {
      const a = answers.shift();
      if (a === undefined) throw new Error('script ran out of answers');
      const v = opts.validate ? opts.validate(a) : true;
      if (v === true) return a;
      refused.push(v);
    }
  };
  return { p: { input } as unknown as Parameters<typeof enterShareWords>[0], refused };
}
