/**
 * Finds a repeated key in a JSON object. `JSON.parse` keeps the last of duplicate keys, so
 * `{"amount":"1","amount":"2"}` would be read as 2 while another parser (the one a wallet showed
 * its holder) may read 1; for signed payments that gap is a forgery vector. RFC 8259 leaves
 * duplicates undefined and RFC 8785 forbids them, so the API refuses them in every body.
 *
 * Hand-written: no maintained JSON parser for Node reports duplicate keys. It is called only on
 * text that `JSON.parse` has accepted, so it scans structure without validating it again.
 */

/** The first key that appears twice in one object of the (valid) JSON text, or null. */
export function findDuplicateKey(text: string): string | null {
  if (text.indexOf('{') < 0) return null;
  // One entry per open container: a set of keys for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its end, skipping escaped characters.
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top !== undefined && top !== null) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] != null;
    }
    i++;
  }
  return null;
}
