import { ValidateBy, ValidationOptions } from 'class-validator';

export const PAGE_CURSOR_MAX_LENGTH = 1024;
const BASE64URL = new RegExp(`^[A-Za-z0-9_-]{1,${PAGE_CURSOR_MAX_LENGTH}}$`);

/**
 * The cursors of one list: the sort key of a page's last row, tagged with the list's name and
 * base64url-encoded. Clients pass them back as they got them; anything else (garbage, a cursor of
 * another list, a key that list could not hold) is refused with a 400 rather than answered with a
 * silently wrong page.
 */
export class PageCursor {
  private readonly prefix: string;

  constructor(
    list: string,
    private readonly isKey: (key: string) => boolean,
  ) {
    this.prefix = `${list}:`;
  }

  encode(key: string): string {
    return Buffer.from(this.prefix + key, 'utf8').toString('base64url');
  }

  /** The key in a cursor of this list, or undefined when the value is not one. */
  decode(cursor: unknown): string | undefined {
    if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) return undefined;
    const bytes = Buffer.from(cursor, 'base64url');
    // Only the one encoding encode() makes: no padding variants, no stray trailing bits.
    if (bytes.toString('base64url') !== cursor) return undefined;
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) return undefined; // not UTF-8
    if (!text.startsWith(this.prefix)) return undefined;
    const key = text.slice(this.prefix.length);
    return this.isKey(key) ? key : undefined;
  }
}

/** A query parameter holding a cursor of the given list. */
export function IsPageCursor(cursor: PageCursor, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPageCursor',
      validator: {
        validate: (value: unknown) => cursor.decode(value) !== undefined,
        defaultMessage: (args) =>
          `${args?.property ?? 'cursor'} must be the nextCursor of a previous page of this list`,
      },
    },
    options,
  );
}
