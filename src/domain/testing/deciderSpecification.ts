import { expect } from 'vitest';
import { DomainRejection, type RejectionCode } from '../shared/domainError.ts';
import type { Decider } from '../shared/message.ts';

/**
 * Given/when/then for a decider, in the spirit of Emmett's `DeciderSpecification`:
 *
 *   spec.given(history).when(command).then(expectedEvents)
 *   spec.given(history).when(command).thenThrows('already-enabled')
 *
 * The history is folded with `evolve` from `initialState`, exactly as a stream is loaded.
 */
export type DecisionAssertions<State, Event> = {
  /** The command decides exactly these events; returns them and the state they lead to. */
  then(expected: readonly Event[]): { readonly events: readonly Event[]; readonly state: State };
  /** The command decides events that satisfy `check`, given the state it was decided in. */
  thenSatisfies(check: (events: readonly Event[], stateBefore: State) => void): readonly Event[];
  /** The command is refused with a DomainRejection of this code, and records nothing. */
  thenThrows(code: RejectionCode): void;
};

export type DeciderSpecification<State, Command, Event> = {
  given(history: readonly Event[]): {
    when(command: Command): DecisionAssertions<State, Event>;
  };
};

export function deciderSpecification<State, Command, Event>(
  decider: Decider<State, Command, Event>,
): DeciderSpecification<State, Command, Event> {
  const fold = (state: State, events: readonly Event[]): State =>
    events.reduce((current, event) => decider.evolve(current, event), state);
  return {
    given(history) {
      return {
        when(command) {
          const stateBefore = fold(decider.initialState(), history);
          return {
            // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary of Emmett; never awaited
            then(expected) {
              const events = decider.decide(command, stateBefore);
              expect(events).toEqual(expected);
              return { events, state: fold(stateBefore, events) };
            },
            thenSatisfies(check) {
              const events = decider.decide(command, stateBefore);
              check(events, stateBefore);
              return events;
            },
            thenThrows(code) {
              let thrown: unknown;
              try {
                decider.decide(command, stateBefore);
              } catch (error) {
                thrown = error;
              }
              expect(thrown, `expected a DomainRejection '${code}'`).toBeInstanceOf(DomainRejection);
              expect((thrown as DomainRejection).code).toBe(code);
            },
          };
        },
      };
    },
  };
}
