import proxyAddr from '@fastify/proxy-addr';

/**
 * Which peers' `X-Forwarded-For`, `-Proto` and `-Host` are believed (TRUST_PROXY): none, the
 * nearest `hops` (whoever they are), or peers at the listed addresses and networks.
 */
export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'addresses'; readonly addresses: readonly string[] };

/** The names @fastify/proxy-addr knows for whole ranges. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
const MAX_HOPS = 32;

/**
 * Parses TRUST_PROXY: a hop count (`1`), or addresses, CIDRs and `loopback`, `linklocal`,
 * `uniquelocal`, comma-separated. `true` (believe anyone) is refused: any client could then
 * name its own address and escape the per-address throttle.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (text === '' || text === '0' || text === 'false') return { kind: 'none' };
  if (text === 'true') {
    throw new Error(
      'TRUST_PROXY=true would believe X-Forwarded-For from anyone: name the proxies (addresses, CIDRs, loopback) or their number of hops',
    );
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > MAX_HOPS) throw new Error(`TRUST_PROXY: at most ${MAX_HOPS} hops`);
    return { kind: 'hops', hops };
  }
  const addresses = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of addresses) {
    try {
      proxyAddr.compile(entry);
    } catch {
      throw new Error(
        `TRUST_PROXY: "${entry}" is not an address, a CIDR, nor one of ${NAMED_RANGES.join(', ')} (or give a hop count)`,
      );
    }
  }
  return { kind: 'addresses', addresses };
}

/**
 * Whether the peer at `address`, `hop` steps from the service (0: the connection's own peer),
 * is a proxy to believe: what Fastify asks before it reads X-Forwarded-*, and what the web UI
 * asks before it believes a signed-in user header.
 */
export function proxyTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  switch (trust.kind) {
    case 'none':
      return () => false;
    case 'hops':
      return (_address, hop) => hop < trust.hops;
    case 'addresses':
      return proxyAddr.compile([...trust.addresses]);
  }
}
