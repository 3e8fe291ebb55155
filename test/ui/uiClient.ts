import { request as httpRequest } from 'node:http';
import { responseJson } from '../support/responseJson.ts';

export type UiClientOptions = {
  /** headers sent with every request: what a browser, or a proxy in front of the service, adds */
  readonly headers?: Record<string, string>;
  /** the origin the page was loaded from, sent in `Origin`; default: the service's own URL */
  readonly origin?: string;
  /** the local address to connect from (127.0.0.0/8 is all this machine): another peer than 127.0.0.1 */
  readonly localAddress?: string;
};

export type UiResponse = {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read bodies by shape in their assertions
  readonly json: any;
  readonly text: string;
  readonly setCookies: readonly string[];
};

/** One HTTP request over a real socket, from `localAddress` if given, with any Host header. */
export function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; localAddress?: string },
): Promise<{ status: number; headers: UiResponse['headers']; text: string }> {
  // A Buffer, not a string: Node would otherwise write the headers in the body's encoding
  // (UTF-8), where a browser writes them byte for byte.
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  // Its length said, as a browser says it: Node frames a DELETE's body neither by length nor
  // by chunks unless told, and the server would read it as the next request.
  const headers =
    body === undefined ? init.headers : { 'content-length': String(body.length), ...init.headers };
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: init.method,
      headers,
      ...(init.localAddress === undefined ? {} : { localAddress: init.localAddress }),
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
      );
      response.on('error', reject);
    });
    request.end(body);
  });
}

/**
 * A client of the web UI's session layer that behaves like the page in a browser: it keeps
 * the cookies it is given (a session's, a sign-in form's) and sends back the CSRF token of the
 * last view it read. Each call may override either, or add headers.
 */
export function uiClient(baseUrl: string, options: UiClientOptions = {}) {
  const jar = new Map<string, string>();
  let csrfToken = '';
  const origin = options.origin ?? new URL(baseUrl).origin;
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

  async function call(
    method: string,
    path: string,
    init: {
      body?: unknown;
      headers?: Record<string, string>;
      /** false: send no cookie; a string: send this cookie header instead */
      cookie?: string | false;
      /** false: send no token; a string: send this token instead */
      csrf?: string | false;
    } = {},
  ): Promise<UiResponse> {
    const headers: Record<string, string> = { origin, ...options.headers, ...init.headers };
    const sentCookie = init.cookie === undefined ? cookieHeader() : init.cookie;
    if (sentCookie) headers.cookie = sentCookie;
    const token = init.csrf === undefined ? csrfToken : init.csrf;
    if (method !== 'GET' && token !== false) headers['x-csrf-token'] = token;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await send(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    const raw = response.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      if (attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))) jar.delete(name);
      else jar.set(name, pair.slice(at + 1));
    }
    const json = responseJson(response.text);
    if (json !== null && typeof json.csrfToken === 'string') csrfToken = json.csrfToken;
    if (json?.session && typeof json.session.csrfToken === 'string') csrfToken = json.session.csrfToken;
    return { ...response, json, setCookies };
  }

  return {
    call,
    /** the value this client holds for cookie `name` (the session's by default) */
    cookie(name = 'tf_session'): string | undefined {
      return jar.get(name);
    },
    get cookieHeader() {
      return cookieHeader();
    },
    get csrfToken() {
      return csrfToken;
    },
    /** what a page does on arrival (read its session, with the sign-in form's token), then sign in */
    async signIn(userId?: string) {
      await call('GET', '/ui/api/session');
      return call('POST', '/ui/api/session', { body: userId === undefined ? {} : { userId } });
    },
  };
}
