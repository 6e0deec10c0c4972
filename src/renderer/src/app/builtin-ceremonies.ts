/** Summaries of the built-in ceremony scripts, put in by the build (electron.vite.config.ts). */
declare const __BUILTIN_CEREMONIES__: ReadonlyArray<{ id: string; title: string; version: string; description: string }> | undefined;

/**
 * What the home screen offers before its first IPC answer: the Start buttons exist at once and
 * the main process's list replaces these when it arrives. Empty where the build did not define them.
 */
export const BUILTIN_CEREMONIES = typeof __BUILTIN_CEREMONIES__ === 'undefined' ? [] : __BUILTIN_CEREMONIES__;
