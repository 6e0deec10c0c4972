import type { KeyriteApi } from '../shared/ipc-contract';

// The renderer's view of the preload: derived from the contract, never written by hand.
declare global {
  interface Window {
    readonly keyrite: KeyriteApi;
  }
}

export {};
