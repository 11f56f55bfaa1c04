// `owner` and `group` are names (the seed writes owner = "nginx"). Node has no getpwnam, so the
// names are looked up in /etc/passwd and /etc/group, which is what getpwnam reads on a machine
// without NSS modules.
import { readFileSync } from 'node:fs';

function lookup(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3) {
      const id = Number(fields[2]);
      if (Number.isInteger(id)) return id;
    }
  }
  return undefined;
}

/** A user name (or a numeric id) to a uid; undefined when unknown. */
export function lookupUid(name: string, passwd = '/etc/passwd'): number | undefined {
  return lookup(passwd, name) ?? numeric(name);
}

/** A group name (or a numeric id) to a gid; undefined when unknown. */
export function lookupGid(name: string, group = '/etc/group'): number | undefined {
  return lookup(group, name) ?? numeric(name);
}

function numeric(name: string): number | undefined {
  return /^\d+$/.test(name) ? Number(name) : undefined;
}
