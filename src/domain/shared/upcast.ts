/** Turns the data of one schema version into the next one's. */
export type Upcaster = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

/** Per event type, the upcaster that lifts each old version by one. */
export type UpcasterRegistry = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

/**
 * Lifts stored event data to the current version of its type, one version at a time, so an
 * event written years ago is read with today's shape and history is never rewritten.
 */
export function upcast(
  registry: UpcasterRegistry,
  type: string,
  data: Readonly<Record<string, unknown>>,
  storedVersion: number,
  currentVersion: number,
): Readonly<Record<string, unknown>> {
  // An event from a newer build than this one cannot be read faithfully: refuse, never guess.
  if (storedVersion > currentVersion) {
    throw new Error(`${type} has schema version ${storedVersion}, newer than this build's ${currentVersion}`);
  }
  let lifted = data;
  for (let version = storedVersion; version < currentVersion; version++) {
    const step = registry[type]?.[version];
    if (step === undefined) throw new Error(`no upcaster for ${type} from schema version ${version}`);
    lifted = step(lifted);
  }
  return lifted;
}
