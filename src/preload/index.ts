/**
 * The preload exposes exactly one thing to the page: `window.keyrite`, built from the IPC
 * contract's channel list — no ipcRenderer, no generic `invoke(channel)`, no Node. It imports
 * the channel names only (src/shared/channels.ts): the schemas are main's business.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from '../shared/api';
import { CHANNELS } from '../shared/channels';

contextBridge.exposeInMainWorld(
  'keyrite',
  buildApi(CHANNELS, (channel, input) => ipcRenderer.invoke(channel, input)),
);
