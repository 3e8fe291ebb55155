import type { UpcasterRegistry } from '../shared/upcast.ts';

/**
 * Upcasters of the 2FA events, keyed by type and the version they lift from. Every type is
 * at version 1 so far; the first format change adds its entry here.
 */
export const twoFactorUpcasters: UpcasterRegistry = {};
