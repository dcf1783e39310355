/**
 * spec/nestjs/app.ts, loaded for the tests. Its decorators are Nest's legacy ones, which esbuild
 * compiles only under a tsconfig that asks for them (tsx applies tsconfig.json to lib/ alone).
 */
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

export type Fixture = typeof import('./app.js');

export const fixture = (await tsImport('./app.ts', {
  parentURL: import.meta.url,
  tsconfig: fileURLToPath(new URL('../../tsconfig.spec.json', import.meta.url)),
})) as Fixture;
