/**
 * Parses PUBLIC_URL, the one origin the web UI answers on (`https://2fa.example.com`): http
 * or https, a host and maybe a port, nothing else (no path, query, fragment or credentials).
 * Returns the origin as browsers send it in `Origin`.
 */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('PUBLIC_URL must be a URL such as https://2fa.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error('PUBLIC_URL must be http or https');
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    throw new Error('PUBLIC_URL must be an origin only (scheme, host, port), e.g. https://2fa.example.com');
  }
  return url.origin;
}

/** The origins the web UI answers on in development, when PUBLIC_URL is not set: this machine only. */
export const developmentOrigins = (port: number): readonly string[] => [
  `http://127.0.0.1:${port}`,
  `http://localhost:${port}`,
];
