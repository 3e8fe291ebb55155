import { responseJson } from '../support/responseJson.ts';

/**
 * A client of the web UI's session layer that behaves like the page: it keeps the session
 * cookie and sends the CSRF token the session gave it. Each call may override either.
 */
export function uiClient(baseUrl: string) {
  let cookie: string | null = null;
  let csrfToken = '';
  const origin = new URL(baseUrl).origin;

  async function call(
    method: string,
    path: string,
    init: {
      body?: unknown;
      headers?: Record<string, string>;
      /** false: send no cookie; a string: send this cookie instead */
      cookie?: string | false;
      /** false: send no token; a string: send this token instead */
      csrf?: string | false;
    } = {},
  ) {
    const headers: Record<string, string> = { origin, ...init.headers };
    const sentCookie = init.cookie === undefined ? cookie : init.cookie;
    if (sentCookie) headers.cookie = sentCookie;
    const token = init.csrf === undefined ? csrfToken : init.csrf;
    if (method !== 'GET' && token !== false) headers['x-csrf-token'] = token;
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie !== null) cookie = setCookie.split(';')[0] ?? null;
    const text = await response.text();
    const json = responseJson(text);
    if (json !== null && typeof json.csrfToken === 'string') csrfToken = json.csrfToken;
    if (json?.session && typeof json.session.csrfToken === 'string') csrfToken = json.session.csrfToken;
    return { status: response.status, headers: response.headers, json, text, setCookie };
  }

  return {
    call,
    get cookie() {
      return cookie;
    },
    get csrfToken() {
      return csrfToken;
    },
    /** a fresh anonymous session, then the demo sign-in */
    async signIn(userId: string) {
      await call('GET', '/ui/api/session');
      return call('POST', '/ui/api/session', { body: { userId } });
    },
  };
}
