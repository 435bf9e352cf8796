/**
 * The step library: type name -> StepDefinition. A fresh map per call (no module-level mutable state), so a
 * caller (or a test) can add its own step types without affecting anyone else.
 */

import type { StepDefinition } from '../orchestrator/step.ts';
import { bathtubStep } from './bathtub.ts';
import { berStep } from './ber.ts';
import { burnInStep } from './burn-in.ts';
import { crosstalkStep } from './crosstalk.ts';
import { energyPerBitStep } from './energy-per-bit.ts';
import { inventoryStep } from './inventory.ts';
import { laneMapStep } from './lane-map.ts';
import { liSweepStep } from './li-sweep.ts';
import { marginsStep } from './margins.ts';
import { openShortStep } from './open-short.ts';
import { operatorPromptStep } from './operator-prompt.ts';
import { remapStep } from './remap.ts';
import { skewStep } from './skew.ts';
import { supplyMarginStep } from './supply-margin.ts';
import { temperatureSweepStep } from './temperature-sweep.ts';
import { waterfallStep } from './waterfall.ts';

export function createStepRegistry(): Map<string, StepDefinition> {
  const steps = [
    inventoryStep,
    laneMapStep,
    liSweepStep,
    crosstalkStep,
    berStep,
    remapStep,
    energyPerBitStep,
    temperatureSweepStep,
    marginsStep,
    operatorPromptStep,
    waterfallStep,
    burnInStep,
    bathtubStep,
    openShortStep,
    supplyMarginStep,
    skewStep,
  ] as StepDefinition[];
  return new Map(steps.map((s) => [s.type, s]));
}
