/**
 * The IPC channel names, and nothing else: the preload builds `window.keyrite` from this list
 * without bundling a single schema (zod and every schema stay in main, which validates).
 * src/shared/ipc-contract.ts declares one schema pair per name; tsc fails if the two lists differ.
 */
export const CHANNELS = [
  'app:info',
  'app:openWitness',
  'hsm:info',
  'settings:get',
  'settings:set',
  'settings:pickModule',
  'settings:testModule',
  'bundle:verify',
  'bundle:print',
  'inventory:list',
  'ceremony:scripts',
  'ceremony:list',
  'ceremony:pickScript',
  'ceremony:printScript',
  'ceremony:parameters',
  'ceremony:start',
  'ceremony:view',
  'ceremony:provide',
  'ceremony:abort',
  'ceremony:events',
  'ceremony:witness',
  'share:printCard',
  'share:printBlankCard',
  'share:pickSealDir',
  'openpgp:readKeyFile',
  'ceremony:provideShareFile',
] as const;

export type Channel = (typeof CHANNELS)[number];
