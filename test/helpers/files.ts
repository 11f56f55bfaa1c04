import { existsSync, readFileSync } from 'node:fs';

/** The non-empty lines of a file a command appends to (`echo x >> file`); none before it exists. */
export function fileLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}
