import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackHostHeader } from '../../ui/host-check.ts';

describe('isLoopbackHostHeader: a Host header naming this machine', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.1:3000',
    '127.255.255.254:65535',
    '127.1.2.3:80',
    'localhost',
    'LocalHost:3000',
    '[::1]',
    '[::1]:3000',
    '[0:0:0:0:0:0:0:1]:3000',
  ])('accepts %s', (host) => {
    expect(isLoopbackHostHeader(host)).toBe(true);
  });

  it.each([
    '127.0.0.1.evil.example',
    '127.0.0.1.evil.example:3000',
    '127.evil.example',
    '127.0.0.1:80@evil.example',
    '127.0.0.1@evil.example',
    '127.0.0.1:3000:3000',
    '127.0.0.1:',
    '127.0.0.1:99999',
    '127.0.0.1:-1',
    '127.0.0.1 ',
    ' 127.0.0.1',
    '127.0.0.1.',
    '127.0.0',
    '127.0.0.1.1',
    '127.0.0.256',
    '127.00.0.1',
    '0127.0.0.1',
    '0x7f.0.0.1',
    '0x7f.1',
    '127.1',
    '2130706433',
    '128.0.0.1',
    '10.0.0.1',
    '0.0.0.0',
    'localhost.',
    'localhost.evil.example',
    'evil-localhost',
    'localhost:80@evil.example',
    'localhost:3000.evil.example',
    '[::1].evil.example',
    '[::1]evil.example',
    '[::1]:3000.evil.example',
    '[::2]',
    '[::ffff:127.0.0.1]',
    '::1',
    '[::1',
    '::1]',
    'evil.example',
    '',
  ])('refuses %s', (host) => {
    expect(isLoopbackHostHeader(host)).toBe(false);
  });
});

describe('isLoopbackAddress: an address to listen on', () => {
  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '0:0:0:0:0:0:0:1'])('%s is loopback', (host) => {
    expect(isLoopbackAddress(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', '127.0.0.1.evil.example', '127.example', 'localhost.evil.example', '[::1]', '127.0.0.1:3000'])(
    '%s is not',
    (host) => {
      expect(isLoopbackAddress(host)).toBe(false);
    },
  );
});
