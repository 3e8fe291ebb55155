import type { CommandMetadata } from '../shared/message.ts';

export const USER_ID = 'user-1';

/** A web call made on the end user's behalf, with the audit details the API forwards. */
export const WEB: CommandMetadata = {
  correlationId: 'req-web-1',
  causationId: 'req-web-1',
  actor: { role: 'web', id: USER_ID },
  endUserIp: '203.0.113.7',
  endUserAgent: 'Mozilla/5.0 (test)',
};

/** An administrator's call. */
export const ADMIN: CommandMetadata = {
  correlationId: 'req-admin-1',
  causationId: 'req-admin-1',
  actor: { role: 'admin', id: 'admin-7' },
};
