/**
 * What counts as "this machine": the one decision behind both the address `assets ui` listens
 * on and the `Host` header a request must carry. Parsing is exact, never by prefix: a name
 * such as `127.0.0.1.evil.example` is a DNS name its owner can point anywhere.
 */
import { isIPv6 } from 'node:net';
import type { RequestHandler } from 'express';

/** Canonical dotted-quad IPv4: four decimal numbers 0-255, no leading zeros (`0127` is octal to some parsers). */
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** A Host header: a bracketed IPv6 literal or a name without `:`, then an optional port. */
const HOST_HEADER = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/**
 * True when `address`, as given to `listen` (no port, IPv6 without brackets), is loopback: an
 * IPv4 literal in 127.0.0.0/8, the IPv6 literal `::1` (in any spelling), or `localhost`
 * (any case, without a trailing dot).
 *
 * @example
 * isLoopbackAddress('127.0.0.1'); // true
 * isLoopbackAddress('127.0.0.1.evil.example'); // false
 */
export function isLoopbackAddress(address: string): boolean {
  if (address.toLowerCase() === 'localhost') return true;
  const ipv4 = IPV4.exec(address);
  if (ipv4) return ipv4.slice(1).every((octet) => Number(octet) <= 255) && ipv4[1] === '127';
  return isIPv6(address) && new URL(`http://[${address}]/`).hostname === '[::1]';
}

/**
 * True when a `Host` header names this machine: a loopback address (see
 * {@link isLoopbackAddress}; IPv6 in brackets) with an optional port 0-65535, and nothing else.
 *
 * @example
 * isLoopbackHostHeader('localhost:3000'); // true
 * isLoopbackHostHeader('[::1]:3000'); // true
 * isLoopbackHostHeader('127.0.0.1:80@evil.example'); // false
 */
export function isLoopbackHostHeader(header: string): boolean {
  const match = HOST_HEADER.exec(header);
  if (!match) return false;
  const [, ipv6, name, port] = match;
  if (port !== undefined && Number(port) > 65535) return false;
  if (ipv6 !== undefined) return isIPv6(ipv6) && isLoopbackAddress(ipv6);
  return name !== undefined && !name.includes(':') && isLoopbackAddress(name);
}

/**
 * Refuses (403) requests whose `Host` header names anything but this machine. A server bound
 * to loopback is otherwise reachable from a web page through DNS rebinding: a hostile name
 * that resolves to 127.0.0.1 would let that page read the API.
 */
export function loopbackHostsOnly(): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.host ?? '';
    if (isLoopbackHostHeader(header)) return next();
    res.status(403).json({
      error: { code: 'host_not_allowed', message: `the Host header "${header}" is not this machine: open the UI at http://127.0.0.1 or http://localhost` },
    });
  };
}
