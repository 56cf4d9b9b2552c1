import { chomp, parseAssignments, resolveAssignments } from './assignments';

const readers = (files: Record<string, string>, stdin = '') => ({
  readFile: jest.fn((path: string) =>
    path in files
      ? Promise.resolve(files[path])
      : Promise.reject(Object.assign(new Error('nope'), { code: 'ENOENT' })),
  ),
  readStdin: jest.fn(() => Promise.resolve(stdin)),
});

describe('assignments', () => {
  it('should read field=@file from the file and field=- from standard input, one newline dropped', async () => {
    const sources = parseAssignments(['password=@/tmp/pw', 'apiKey=-'], false);
    const secret = await resolveAssignments(sources, readers({ '/tmp/pw': 'hunter2\n' }, 'k\r\n'));
    expect(secret).toEqual({ password: 'hunter2', apiKey: 'k' });
  });

  it('should refuse field=value from argv unless allowed, without echoing the value', () => {
    expect(() => parseAssignments(['password=hunter2'], false)).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
    try {
      parseAssignments(['password=hunter2'], false);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toContain('--allow-argv-secrets');
    }
    expect(parseAssignments(['password=hunter2'], true)).toEqual([
      { field: 'password', kind: 'argv', arg: 'hunter2' },
    ]);
  });

  it('should refuse an argument without field=, twice the same field, or two readers of stdin', () => {
    expect(() => parseAssignments(['hunter2'], false)).toThrow(/field=@file/);
    expect(() => parseAssignments(['hunter2'], false)).not.toThrow(/hunter2/);
    expect(() => parseAssignments(['a=-', 'a=@f'], false)).toThrow(/twice/);
    expect(() => parseAssignments(['a=-', 'b=-'], false)).toThrow(/standard input/);
    expect(() => parseAssignments([], false)).toThrow(/nothing to store/);
  });

  it('should name the file it cannot read, not its contents', async () => {
    const sources = parseAssignments(['password=@/missing'], false);
    await expect(resolveAssignments(sources, readers({}))).rejects.toThrow(
      'cannot read /missing for password: ENOENT',
    );
  });

  it('should drop exactly one trailing newline', () => {
    expect(chomp('a\n\n')).toBe('a\n');
    expect(chomp('a')).toBe('a');
  });
});
