import type { FastifyRequest } from 'fastify';
import { RequestValidationError } from '../common/validation/request-validation.error';
import { jsonBodyParser, jsonShapeProblem } from './json-body';

const LIMITS = { maxDepth: 4, maxEntries: 10 };

describe('jsonShapeProblem', () => {
  it.each([null, 1, 'text', true])('should accept the scalar %p', (value) => {
    expect(jsonShapeProblem(value, LIMITS)).toBeUndefined();
  });

  it('should accept a body at the limits', () => {
    expect(jsonShapeProblem({ a: { b: { c: [1, 2, 3] } }, d: [4] }, LIMITS)).toBeUndefined();
  });

  it('should refuse a body one level too deep, objects and arrays alike', () => {
    expect(jsonShapeProblem({ a: { b: { c: { d: 1 } } } }, LIMITS)).toBeUndefined();
    expect(jsonShapeProblem({ a: { b: { c: { d: {} } } } }, LIMITS)).toMatch(/deeper than 4/);
    expect(jsonShapeProblem([[[[[]]]]], LIMITS)).toMatch(/deeper than 4/);
  });

  it('should count keys and items over the whole body', () => {
    // 2 keys at the top, 4 items in a, 4 keys in b: 10 entries.
    const atLimit = { a: [1, 2, 3, 4], b: { c: 1, d: 2, e: 3, f: 4 } };
    expect(jsonShapeProblem(atLimit, LIMITS)).toBeUndefined();
    expect(jsonShapeProblem({ ...atLimit, g: 5 }, LIMITS)).toMatch(/more than 10 keys/);
  });

  it('should refuse the deep body that overflowed the stack, without overflowing itself', () => {
    const deep = JSON.parse(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`) as unknown;
    expect(jsonShapeProblem(deep)).toMatch(/deeper than 32 levels/);
  });

  it('should take a large body of few entries', () => {
    expect(jsonShapeProblem({ text: 'x'.repeat(1_000_000) })).toBeUndefined();
  });
});

describe('jsonBodyParser', () => {
  const request = {} as FastifyRequest;
  const parse = jest.fn(
    (_request: FastifyRequest, body: Buffer, done: (e: Error | null, v?: unknown) => void) => {
      try {
        done(null, JSON.parse(body.toString()));
      } catch (error) {
        done(error as Error);
      }
    },
  );
  const sut = jsonBodyParser(parse, LIMITS);
  const run = (text: string) =>
    new Promise<{ error: Error | null; body?: unknown }>((resolve) =>
      sut(request, Buffer.from(text), (error, body) => resolve({ error, body })),
    );

  beforeEach(() => parse.mockClear());

  it('should take an empty body for no body, without parsing it', async () => {
    await expect(run('')).resolves.toEqual({ error: null, body: undefined });
    expect(parse).not.toHaveBeenCalled();
  });

  it('should pass a parsed body within the limits on', async () => {
    await expect(run('{"a":[1,2]}')).resolves.toEqual({ error: null, body: { a: [1, 2] } });
  });

  it('should pass the parser’s own error on', async () => {
    const { error } = await run('{"a":');
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('should refuse a body over the limits with a validation error naming the body', async () => {
    const { error, body } = await run('[[[[[1]]]]]');
    expect(body).toBeUndefined();
    expect(error).toBeInstanceOf(RequestValidationError);
    expect((error as RequestValidationError).fields).toEqual([
      { field: '(body)', errors: ['the body is nested deeper than 4 levels'] },
    ]);
  });
});
