// Runs an action that may need a step-up: on 401 step_up_required it shows <StepUp> and runs
// the action again once the person has confirmed.
import { useState } from 'react';
import { ApiError } from '../api/client.ts';
import { StepUp } from './StepUp.tsx';

export function useStepUp() {
  const [pending, setPending] = useState<{ factors: string[]; retry: () => Promise<void> } | null>(null);
  const guard = (action: () => Promise<void>) => async () => {
    try {
      await action();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'step_up_required') {
        setPending({ factors: (error.problem.factors as string[] | undefined) ?? ['password'], retry: action });
        return;
      }
      throw error;
    }
  };
  const prompt = pending ? <StepUp factors={pending.factors} onDone={() => { const retry = pending.retry; setPending(null); void retry().catch(() => undefined); }} /> : null;
  return { guard, prompt };
}
