import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { createLogger } from './observability/logger.ts';
import { startServer } from './server.ts';

/** The process entry point: configuration, listening, and a graceful stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`two-factor: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (process.env.RATE_LIMIT_PER_MINUTE) {
    logger.warn(
      'RATE_LIMIT_PER_MINUTE is no longer read: there is no per-key request limit; failures are limited per end-user address (THROTTLE_FAILURES_PER_MINUTE)',
    );
  }
  const server = await startServer(config, logger);
  logger.info(
    {
      url: server.url,
      store: config.eventStoreConnectionString ? 'eventstoredb' : 'sqlite',
      docs: `${server.url}/docs`,
    },
    'two-factor service listening',
  );

  if (config.uiEnabled) {
    const firstStep =
      config.uiSignIn.kind === 'demo'
        ? 'demo sign-in by user id'
        : `signed-in user from the ${config.uiSignIn.header} header of the proxy`;
    logger.info(
      { url: config.publicUrl ?? `${server.url}/`, admins: config.uiAdmins },
      `web UI: open the url in a browser (${firstStep})`,
    );
    // At every start, so that nobody runs it this way unawares.
    if (config.production && config.uiSignIn.kind === 'demo') {
      logger.warn(
        'UI_DEMO_SIGN_IN=true: the web UI takes any user id as its first step, so anyone can sign in as anyone; for a demonstration only (set UI_TRUSTED_USER_HEADER behind an authenticating proxy instead)',
      );
    }
    if (config.production && config.publicUrl?.startsWith('http:')) {
      logger.warn('PUBLIC_URL is http: the web UI session cookie travels unencrypted and is not Secure');
    }
  }

  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping: finishing requests in flight');
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `two-factor: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
