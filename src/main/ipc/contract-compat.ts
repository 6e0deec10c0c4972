/**
 * Compile-time proof that the IPC contract (src/shared) and the core's ceremony shapes agree:
 * whatever the core returns fits the contract's output schema, and whatever passes the contract's
 * input schema is a StepInput the core accepts. A change on either side that breaks this fails
 * `tsc`, not a ceremony. Nothing here exists at run time.
 */
import type { z } from 'zod';
import type { CeremonySummary, CeremonyView, ScriptSummary, StepInput } from '../../core/ceremony/types';
import type { ParameterForm } from '../../core/ceremony/parameter-form';
import type { HsmDescription } from '../../core/hsm/describe';
import type { CeremonyViewSchema, ChannelInput, ChannelOutput, StepInputSchema } from '../../shared/ipc-contract';

type Assert<T extends true> = T;

export type ContractMatchesCore = [
  Assert<CeremonyView extends z.input<typeof CeremonyViewSchema> ? true : false>,
  Assert<z.output<typeof StepInputSchema> extends StepInput ? true : false>,
  Assert<CeremonySummary[] extends ChannelOutput<'ceremony:list'> ? true : false>,
  Assert<ScriptSummary[] extends ChannelOutput<'ceremony:scripts'> ? true : false>,
  Assert<HsmDescription extends ChannelOutput<'hsm:info'> ? true : false>,
  Assert<ChannelInput<'ceremony:provide'>['input'] extends StepInput ? true : false>,
  Assert<ParameterForm extends ChannelOutput<'ceremony:parameters'> ? true : false>,
];
