/** Who caused a change: the role of the caller and, where known, the person behind it. */
export type Actor = {
  readonly role: 'web' | 'admin' | 'audit' | 'system' | 'cli';
  readonly id: string | null;
};

/** Context every command carries; copied onto the events it causes, for the audit. */
export type CommandMetadata = {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: Actor;
  readonly endUserIp?: string;
  readonly endUserAgent?: string;
};

export type EventMetadata = CommandMetadata & {
  /** version of the event's data format; older versions are upcast on read */
  readonly schemaVersion: number;
};

export type Command<Type extends string, Data> = {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
};

export type Event<Type extends string, Data> = {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
};

export type AnyEvent = Event<string, unknown>;

/** A decider in Emmett's sense: plain functions over plain, readonly values. */
export type Decider<State, Cmd, Evt> = {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Evt) => State;
  readonly decide: (command: Cmd, state: State) => readonly Evt[];
};
