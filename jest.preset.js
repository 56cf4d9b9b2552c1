// Shared by the unit and e2e configs. NestJS 12 ships ES modules only; Jest's module loader
// cannot require them on Node 20, so SWC transforms those packages (and our TypeScript) to CJS.
const ESM_ONLY = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  'peek-readable',
  'uint8array-extras',
  '@tokenizer',
  'load-esm',
  '@seriousme',
  'content-disposition',
  'cookie',
  '@scure',
  '@noble',
  '@otplib',
  // hashi-vault-js, a Vault client the e2e suite drives (test/vault-clients.e2e-spec.ts).
  'hashi-vault-js',
];

module.exports = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs', ignoreDynamic: false },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
};
