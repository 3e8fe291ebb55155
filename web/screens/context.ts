import type { SessionView } from '../api.ts';

/** What a screen may do with the page: read the session, move to another, leave a message. */
export type ScreenContext = {
  readonly session: SessionView;
  /** re-renders for a new session (after sign-in, the second step, sign-out) */
  readonly changeSession: (next: SessionView, message?: string) => void;
  /** a message from the previous screen (signed out, session ended…), shown once */
  readonly message: string | null;
};
