/**
 * Registers the handler table with Electron's ipcMain, behind the sender check: a call is served
 * only when it comes from the top frame of one of Keyrite's own windows showing app://keyrite/,
 * and a witness window may only use the witness channels.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { CHANNELS, WITNESS_CHANNELS, type Channel, type Result } from '../../shared/ipc-contract';
import { isAppUrl } from '../security';
import type { HandlerTable } from './handlers';

export interface SenderPolicy {
  /** webContents ids of Keyrite's own windows. */
  isKnownContents(id: number): boolean;
  /** webContents ids of witness windows (read-only channels only). */
  isWitnessContents(id: number): boolean;
}

type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'> & { sender: { id: number } };

export function checkSender(event: SenderEvent, channel: Channel, policy: SenderPolicy): string | null {
  const frame = event.senderFrame;
  if (!frame) return 'the calling frame is gone';
  if (!isAppUrl(frame.url)) return `the caller is not the Keyrite app (${safeOrigin(frame.url)})`;
  if (frame.parent !== null) return 'the caller is a sub-frame';
  if (!policy.isKnownContents(event.sender.id)) return 'the caller is not a Keyrite window';
  if (policy.isWitnessContents(event.sender.id) && !WITNESS_CHANNELS.includes(channel)) return 'the witness window is read-only';
  return null;
}

export function registerIpc(ipcMain: Pick<IpcMain, 'handle'>, table: HandlerTable, policy: SenderPolicy, log: (message: string) => void = console.warn): void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, input: unknown): Promise<Result<unknown>> => {
      const refused = checkSender(event, channel, policy);
      if (refused) {
        log(`[keyrite main] refused ${channel}: ${refused}`);
        return { ok: false, error: { code: 'IPC_SENDER_REJECTED', message: `Keyrite refused this request because ${refused}. Only Keyrite's own window can drive a ceremony.` } };
      }
      return table[channel](input);
    });
  }
}

function safeOrigin(url: string): string {
  try {
    const u = new URL(url);
    return u.protocol === 'file:' ? 'file://' : `${u.protocol}//${u.host}`;
  } catch {
    return 'unknown origin';
  }
}
