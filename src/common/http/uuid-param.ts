import { ParseUUIDPipe } from '@nestjs/common';

/** Route ids are UUID v4; anything else is a 400 before any lookup. */
export const UUID_V4 = new ParseUUIDPipe({ version: '4' });
