// Runs an action that may need a step-up: on 401 step_up_required it shows <StepUp> and runs
// the action again once the person has confirmed. A refusal of that second run (a weak password,
// a taken email …) goes to `onError`, so that the form shows it beside its field.
import { useState } from 'react';
import { ApiError } from '../api/client.ts';
import { StepUp } from './StepUp.tsx';

export function useStepUp() {
  const [pending, setPending] = useState<{ factors: string[]; retry: () => Promise<void>; onError: (e: unknown) => void } | null>(null);
  const guard = (action: () => Promise<void>, onError: (e: unknown) => void = () => undefined) => async () => {
    try {
      await action();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'step_up_required') {
        setPending({ factors: (error.problem.factors as string[] | undefined) ?? ['password'], retry: action, onError });
        return;
      }
      throw error;
    }
  };
  const prompt = pending ? <StepUp factors={pending.factors} onDone={() => { const { retry, onError } = pending; setPending(null); void retry().catch(onError); }} /> : null;
  return { guard, prompt };
}
