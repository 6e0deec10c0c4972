/**
 * The preload exposes exactly one thing to the page: `window.keyrite`, built from the IPC
 * contract's channel list — no ipcRenderer, no generic `invoke(channel)`, no Node.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from '../shared/api';
import { CHANNELS } from '../shared/ipc-contract';

contextBridge.exposeInMainWorld(
  'keyrite',
  buildApi(CHANNELS, (channel, input) => ipcRenderer.invoke(channel, input)),
);
