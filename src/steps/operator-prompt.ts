/**
 * Operator prompt: asks a confirm / value / pass-fail question through ctx.prompt and records the answer.
 * confirm and passfail answers are recorded as 1/0 with a low limit of 1 (a "no" or "fail" fails the step);
 * a value answer is recorded with the optional low/high limits from params.
 */

import { z } from 'zod';
import type { StepDefinition } from '../orchestrator/step.ts';

export const operatorPromptParams = z
  .strictObject({
    kind: z.enum(['confirm', 'value', 'passfail']).default('confirm'),
    message: z.string().min(1).default('Continue?'),
    /** Measurement name for the answer. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_]+$/)
      .default('operator_answer'),
    unit: z.string().default(''),
    low: z.number().optional(),
    high: z.number().optional(),
  })
  .superRefine((p, issues) => {
    if (p.low !== undefined && p.high !== undefined && p.low > p.high) {
      issues.addIssue({
        code: 'custom',
        path: ['low'],
        message: `expected low ≤ high (low ${p.low} > high ${p.high})`,
      });
    }
  });
export type OperatorPromptParams = z.infer<typeof operatorPromptParams>;

/** A value prompt's answer as a number: a number, or text that is one; yes/no and the like are not values. */
export function numberValue(answer: string | number | boolean): number | null {
  if (typeof answer === 'number') return Number.isFinite(answer) ? answer : null;
  if (typeof answer !== 'string' || answer.trim() === '') return null;
  const n = Number(answer.trim());
  return Number.isFinite(n) ? n : null;
}

/** Answer as a number: true/yes/pass/ok → 1, false/no/fail → 0, numbers as they are. */
export function answerValue(answer: string | number | boolean): number | null {
  if (typeof answer === 'boolean') return answer ? 1 : 0;
  if (typeof answer === 'number') return Number.isFinite(answer) ? answer : null;
  const s = answer.trim().toLowerCase();
  if (['y', 'yes', 'true', 'pass', 'ok', 'p'].includes(s)) return 1;
  if (['n', 'no', 'false', 'fail', 'f'].includes(s)) return 0;
  const n = Number(s);
  return s !== '' && Number.isFinite(n) ? n : null;
}

export const operatorPromptStep: StepDefinition<OperatorPromptParams> = {
  type: 'operator-prompt',
  requires: [],
  description: 'Ask the operator a question (confirm, value, pass/fail) and record the answer',
  params: operatorPromptParams,
  measurements: (p) => [
    {
      name: p.name,
      unit: p.kind === 'value' ? p.unit : 'bool',
      description: p.message,
      limits:
        p.kind === 'value'
          ? p.low !== undefined || p.high !== undefined
            ? { low: p.low, high: p.high }
            : undefined
          : { low: 1 },
      dimensions: [],
    },
  ],
  async run(ctx, params) {
    const answer = await ctx.prompt(params.kind, params.message);
    // a value prompt records a number: "yes" (a default answer, or a slip) is not measured as 1
    const value = params.kind === 'value' ? numberValue(answer) : answerValue(answer);
    ctx.log('info', `operator answered ${JSON.stringify(answer)} to "${params.message}"`);
    if (value === null) {
      throw new Error(
        `operator answer ${JSON.stringify(answer)} to "${params.message}" is not a ${params.kind === 'value' ? 'number' : `${params.kind} answer`}`,
      );
    }
    ctx.measure(params.name, value);
  },
};
