import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error';
import { loadOutboundConfig } from './outbound.config';

describe('loadOutboundConfig', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-outbound-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should allow https to public addresses only, without redirects, by default', () => {
    expect(loadOutboundConfig({})).toEqual({
      allowHttp: false,
      allowLoopback: false,
      allowPrivate: false,
      hosts: [],
      extraCa: undefined,
      timeoutMs: 10_000,
      maxResponseBytes: 65_536,
      maxRedirects: 0,
    });
  });

  it('should read every variable, the CA file included', () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(
      loadOutboundConfig({
        CUSTOS_OUTBOUND_ALLOW_HTTP: 'true',
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
        CUSTOS_OUTBOUND_ALLOW_PRIVATE: 'true',
        CUSTOS_OUTBOUND_HOSTS: 'Hooks.Example.com, *.corp.example',
        CUSTOS_OUTBOUND_CA_FILE: caFile,
        CUSTOS_OUTBOUND_TIMEOUT_MS: '2500',
        CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES: '4096',
        CUSTOS_OUTBOUND_MAX_REDIRECTS: '2',
      }),
    ).toEqual({
      allowHttp: true,
      allowLoopback: true,
      allowPrivate: true,
      hosts: ['hooks.example.com', '*.corp.example'],
      extraCa: expect.stringContaining('BEGIN CERTIFICATE'),
      timeoutMs: 2500,
      maxResponseBytes: 4096,
      maxRedirects: 2,
    });
  });

  it('should refuse CUSTOS_OUTBOUND_ALLOW_LOOPBACK in production', () => {
    expect(() =>
      loadOutboundConfig({ NODE_ENV: 'production', CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true' }),
    ).toThrow(/CUSTOS_OUTBOUND_ALLOW_LOOPBACK: .*refused in production/);
  });

  it.each([
    ['CUSTOS_OUTBOUND_HOSTS', 'https://hooks.example.com'],
    ['CUSTOS_OUTBOUND_HOSTS', 'a.*.example.com'],
    ['CUSTOS_OUTBOUND_ALLOW_PRIVATE', 'maybe'],
    ['CUSTOS_OUTBOUND_TIMEOUT_MS', '10'],
    ['CUSTOS_OUTBOUND_MAX_REDIRECTS', '11'],
    ['CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES', '1'],
    ['CUSTOS_OUTBOUND_CA_FILE', '/nonexistent/ca.pem'],
  ])('should refuse %s=%j, naming it', (name, value) => {
    expect(() => loadOutboundConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadOutboundConfig({ [name]: value })).toThrow(name);
  });

  it('should refuse a CA file that holds no certificate', () => {
    const file = join(dir, 'empty.pem');
    writeFileSync(file, 'nothing');
    expect(() => loadOutboundConfig({ CUSTOS_OUTBOUND_CA_FILE: file })).toThrow(
      /CUSTOS_OUTBOUND_CA_FILE: .* holds no PEM certificate/,
    );
  });
});
