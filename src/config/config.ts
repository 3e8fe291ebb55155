import { z } from 'zod';
import type { EncryptionKey } from '../crypto/secretBox.ts';
import { isUserId } from '../domain/twoFactor/userId.ts';
import { type ApiKey, parseApiKeys } from './apiKeys.ts';
import { parseEncryptionKeys } from './encryptionKeys.ts';
import { parsePublicUrl } from './publicUrl.ts';
import { parseTrustProxy, type TrustProxy } from './trustProxy.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const environmentSchema = z.object({
  NODE_ENV: z.string().optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  DATA_DIR: z.string().min(1).default('./data'),
  EVENTSTORE_CONNECTION_STRING: z
    .string()
    .regex(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kdb|kdb\+discover):\/\//, {
      message: 'must be an esdb:// (or kurrentdb://) connection string',
    })
    .optional(),
  API_KEYS: z.string().optional(),
  SECRET_ENCRYPTION_KEYS: z.string().optional(),
  TOTP_ISSUER: z.string().min(1).max(64).default('Usertour'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  THROTTLE_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(20),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  ACCEPT_UNPEPPERED_RECOVERY_CODES: z.enum(['true', 'false']).default('false'),
  UI_ENABLED: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
  UI_ADMINS: z
    .string()
    .refine((value) => value.split(',').every(isUserId), {
      message: 'must be a comma-separated list of user ids',
    })
    .optional(),
  UI_TRUSTED_USER_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be a header name, e.g. X-Forwarded-User' })
    .refine((name) => !/^(host|cookie|authorization|x-forwarded-(for|proto|host))$/i.test(name), {
      message: 'must be a header of its own, set by the authenticating proxy (e.g. X-Forwarded-User)',
    })
    .optional(),
  UI_DEMO_SIGN_IN: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
  TRUST_PROXY: z.string().optional(),
  PUBLIC_URL: z.string().optional(),
});

export type Config = {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly eventStoreConnectionString: string | null;
  /** null: not configured; development generates them under DATA_DIR */
  readonly apiKeys: readonly ApiKey[] | null;
  readonly encryptionKeys: readonly EncryptionKey[] | null;
  readonly issuer: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** failed attempts per end-user address (across users) a minute */
  readonly throttleFailuresPerMinute: number;
  /** the longest a request (headers and body) may take to arrive */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** check recovery-code sets issued before codes were peppered (a migration aid) */
  readonly acceptUnpepperedRecoveryCodes: boolean;
  /** the reference web UI at `/`: on in development, off in production unless UI_ENABLED=true */
  readonly uiEnabled: boolean;
  /** user ids that may use the web UI's admin page, once they have passed the second step */
  readonly uiAdmins: readonly string[];
  /**
   * Where the web UI's first step comes from: a header an authenticating proxy sets
   * (lower-case name), or the demo form that takes any user id.
   */
  readonly uiSignIn: { readonly kind: 'trusted-header'; readonly header: string } | { readonly kind: 'demo' };
  /** which proxies' X-Forwarded-* headers are believed */
  readonly trustProxy: TrustProxy;
  /** the one origin the web UI answers on; null: this machine's, on the bound port (development) */
  readonly publicUrl: string | null;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const blankToUndefined = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));

/** Reads and checks the environment; a bad value stops the start with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = environmentSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const parse = <T>(name: string, value: string | undefined, parser: (v: string) => T): T | null => {
    if (value === undefined) {
      if (production) {
        throw new ConfigError(`${name} is required when NODE_ENV=production (see README, Configuration)`);
      }
      return null;
    }
    try {
      return parser(value);
    } catch (error) {
      throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
    }
  };
  const invalid = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
    }
  };
  const trustProxy = invalid(() => parseTrustProxy(e.TRUST_PROXY));
  const publicUrl = e.PUBLIC_URL === undefined ? null : invalid(() => parsePublicUrl(e.PUBLIC_URL as string));
  const uiEnabled = e.UI_ENABLED === undefined ? !production : e.UI_ENABLED === 'true';
  const uiSignIn = webUiSignIn(e, { production, uiEnabled, trustProxy });
  if (production && uiEnabled && publicUrl === null) {
    throw new ConfigError(
      'UI_ENABLED=true in production needs PUBLIC_URL, the one origin the web UI answers on (e.g. https://2fa.example.com)',
    );
  }
  return {
    production,
    host: e.HOST,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    eventStoreConnectionString: e.EVENTSTORE_CONNECTION_STRING ?? null,
    apiKeys: parse('API_KEYS', e.API_KEYS, parseApiKeys),
    encryptionKeys: parse('SECRET_ENCRYPTION_KEYS', e.SECRET_ENCRYPTION_KEYS, parseEncryptionKeys),
    issuer: e.TOTP_ISSUER,
    logLevel: e.LOG_LEVEL,
    throttleFailuresPerMinute: e.THROTTLE_FAILURES_PER_MINUTE,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    acceptUnpepperedRecoveryCodes: e.ACCEPT_UNPEPPERED_RECOVERY_CODES === 'true',
    uiEnabled,
    // No administrator by default in production: the admin page is for those named.
    uiAdmins: (e.UI_ADMINS ?? (production ? '' : 'admin')).split(',').filter((id) => id.length > 0),
    uiSignIn,
    trustProxy,
    publicUrl,
  };
}

/**
 * The web UI's first step. In production it must come from an authenticating proxy (a header
 * believed from TRUST_PROXY addresses only), or be asked for as a demo in so many words.
 */
function webUiSignIn(
  e: { readonly UI_TRUSTED_USER_HEADER?: string | undefined; readonly UI_DEMO_SIGN_IN?: string | undefined },
  { production, uiEnabled, trustProxy }: { production: boolean; uiEnabled: boolean; trustProxy: TrustProxy },
): Config['uiSignIn'] {
  const header = e.UI_TRUSTED_USER_HEADER?.toLowerCase();
  if (header !== undefined) {
    if (e.UI_DEMO_SIGN_IN === 'true') {
      throw new ConfigError(
        'UI_TRUSTED_USER_HEADER and UI_DEMO_SIGN_IN=true exclude each other: the first step comes from the proxy or from the demo form',
      );
    }
    if (trustProxy.kind !== 'addresses') {
      throw new ConfigError(
        'UI_TRUSTED_USER_HEADER is believed only from the proxies TRUST_PROXY names: set TRUST_PROXY to their addresses or networks (a hop count would believe any peer)',
      );
    }
    return { kind: 'trusted-header', header };
  }
  const demo = e.UI_DEMO_SIGN_IN === undefined ? !production : e.UI_DEMO_SIGN_IN === 'true';
  if (uiEnabled && !demo) {
    throw new ConfigError(
      production
        ? 'UI_ENABLED=true in production needs a real first step: set UI_TRUSTED_USER_HEADER to the header your authenticating proxy sets to the signed-in user (e.g. X-Forwarded-User), with TRUST_PROXY naming that proxy; or, for a demonstration only, UI_DEMO_SIGN_IN=true (then anyone can sign in as any user id)'
        : 'UI_DEMO_SIGN_IN=false leaves the web UI without a first step: set UI_TRUSTED_USER_HEADER (with TRUST_PROXY), or UI_ENABLED=false',
    );
  }
  return { kind: 'demo' };
}
