import type { KeyriteError } from '../errors';

const isPosition = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;

/** Word positions (1-based) an error points at, from the fields the share codec and hand-out use. */
function wordPositions(details: Record<string, unknown>): number[] {
  const found = new Set<number>();
  const add = (n: unknown): void => {
    if (isPosition(n)) found.add(n);
  };
  add(details.position);
  add(details.swapWith);
  if (Array.isArray(details.positions)) details.positions.forEach(add);
  if (Array.isArray(details.unknown)) for (const u of details.unknown) add((u as { position?: unknown } | null)?.position);
  return [...found].sort((a, b) => a - b);
}

/**
 * The data of an ERROR_RECORDED event: the code, the word positions ("word 10") and share number
 * it names, and the sentence only when it quotes nothing a person typed. A share error's sentence
 * names the mistyped word and the suggestion; that sentence is for the screen of the person who
 * typed it, and the event keeps its positions instead (`details.containsShareWords`, set by the
 * share codec, marks such errors).
 */
export function errorEventData(stepId: string, e: KeyriteError): Record<string, unknown> {
  const details = e.details ?? {};
  const quotesInput = details.containsShareWords === true;
  const data: Record<string, unknown> = { step: stepId, code: e.code };
  if (!quotesInput) data.message = e.message;
  const positions = wordPositions(details);
  if (positions.length > 0) data.positions = positions;
  if (isPosition(details.index)) data.index = details.index;
  if (typeof details.kind === 'string' && /^[a-z]+$/.test(details.kind)) data.kind = details.kind;
  return data;
}
