import type { ErrorCode } from '../../error-codes';
/** One thing wrong with a ceremony script or its parameters, located by field path in the script. */
export interface ScriptIssue {
  path: Array<string | number>;
  message: string;
  /** The stable code of the check that failed, when it is more specific than the caller's. */
  code?: ErrorCode;
}
