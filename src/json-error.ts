/**
 * jsonErrorLine finds the 1-based line of the first JSON syntax error, for
 * error messages that name file and line (Node's JSON.parse message does not
 * always carry a position). Pure; returns null for valid JSON.
 */
export function jsonErrorLine(text: string): number | null {
  // One piece: one small scanner loop over the text.
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw new Error('json');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if ((text.charCodeAt(i) ?? 0) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return null;
  } catch {
    return text.slice(0, Math.min(i, text.length)).split('\n').length;
  }
}

/**
 * jsonErrorReason: JSON.parse's complaint without the text it could not read. V8 quotes the text around an
 * unexpected token (`Unexpected token 'h', ..."auth":hunter2"... is not valid JSON`), and in a credentials
 * file, an auth variable or a helper's request that text is a secret; such a message becomes
 * `unexpected character` (callers name the file and line). Messages that quote nothing (a position, the end
 * of the input) are kept.
 */
export function jsonErrorReason(e: unknown): string {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  return /is not valid JSON|"/.test(first) ? 'unexpected character' : first;
}
