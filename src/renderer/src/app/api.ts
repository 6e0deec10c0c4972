import type { Channel, ChannelOutput, IpcError, KeyriteApi, Result } from '../../../shared/ipc-contract';

/** An IPC failure as the renderer sees it: the core's code and sentence, never a stack. */
export class ApiError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(error: IpcError) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.details = error.details ?? {};
  }
}

export function keyrite(): KeyriteApi {
  const api = (window as { keyrite?: KeyriteApi }).keyrite;
  if (!api) {
    throw new ApiError({
      code: 'APP_BRIDGE_MISSING',
      message: 'This page is not connected to Keyrite. Open it from the Keyrite application, not from a web browser.',
    });
  }
  return api;
}

/** Unwrap a result: the value, or an ApiError carrying the core's code and message. */
export async function call<T>(pending: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await pending;
  } catch (e) {
    // Only the bridge itself failing lands here (the main process never throws across IPC).
    throw new ApiError({ code: 'APP_BRIDGE_FAILED', message: `Keyrite's main process did not answer (${e instanceof Error ? e.message : String(e)}). Restart Keyrite; the ceremony is saved at its last completed step.` });
  }
  if (result.ok) return result.value;
  throw new ApiError(result.error);
}

export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError({ code: 'UI_ERROR', message: `The screen hit a problem (${e instanceof Error ? e.message : String(e)}). Go back to the home screen and retry.` });
}

export type Out<C extends Channel> = ChannelOutput<C>;
