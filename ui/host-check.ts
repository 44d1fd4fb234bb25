import type { RequestHandler } from 'express';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

/**
 * Refuses (403) requests whose `Host` header names anything but this machine. A server bound
 * to loopback is otherwise reachable from a web page through DNS rebinding: a hostile name
 * that resolves to 127.0.0.1 would let that page read the API.
 */
export function loopbackHostsOnly(): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.host ?? '';
    const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0] ?? '';
    if (isLoopback(name.toLowerCase())) return next();
    res.status(403).json({ error: { code: 'host_not_allowed', message: `the Host header "${header}" is not this machine: open the UI at http://127.0.0.1 or http://localhost` } });
  };
}
