/**
 * The strings in a text that could be a stored secret value, found without knowing any secret: a
 * leak scan fingerprints each of them and looks the fingerprints up. Secrets sit in text as a
 * whole token (`sk_live_…`), after an assignment (`KEY=…`, `key: …`), inside quotes (with spaces,
 * for a passphrase), as a whole line, or as a PEM block over several lines; git diffs prefix every
 * line with `+`, `-` or a space. Work is capped so that a hostile text costs bounded CPU.
 *
 * Splitting alone cannot find every embedding: a stored value may hold any character a
 * delimiter could be (generated passwords draw from `!#$%&()*+,-./:;<=>?@[]^_{|}~`), so a
 * password inside `mysql://app:PW@host/db` or `?token=PW&x=1` has no split that isolates it. So
 * every substring of a whitespace-free run whose length is that of a stored value is a candidate
 * too (`lengths`, known from the fingerprint table), when it has the run's edge or a character
 * that is not a letter or digit on each side. A value glued to a letter or digit (`X` + value) is
 * taken for part of a longer string, as a whole token would be.
 */

export interface CandidateLimits {
  /** The most distinct candidates returned; the rest of the text is not looked at. */
  maxCandidates: number;
  /** Longer strings are not candidates (the longest secret field allows 64 Ki characters). */
  maxLength: number;
  /** Shorter strings are not candidates: they match by chance and cost a lookup each. */
  minLength: number;
}

export const DEFAULT_CANDIDATE_LIMITS: CandidateLimits = {
  maxCandidates: 20_000,
  maxLength: 65_536,
  minLength: 6,
};

export interface Candidates {
  values: string[];
  /** True when maxCandidates cut the search short. */
  truncated: boolean;
}

/** Characters that separate a value from what surrounds it inside one whitespace-free run. */
const DELIMITER = /["'`=:,;()[\]{}<>]/g;
const QUOTED = /"([^"\n]*)"|'([^'\n]*)'|`([^`\n]*)`/g;
const PEM_BEGIN = /^-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----$/;
const PEM_END = /^-----END ([A-Z0-9]+(?: [A-Z0-9]+)*)-----$/;
/** Longer than any key a secret field takes (16 KiB of base64 is about 260 lines). */
const MAX_PEM_LINES = 1200;
/** A run split at more delimiters than this yields only its first pieces (quadratic otherwise). */
const MAX_CUTS_PER_RUN = 24;

export function scanCandidates(
  text: string,
  limits: CandidateLimits = DEFAULT_CANDIDATE_LIMITS,
  lengths: readonly number[] = [],
): Candidates {
  const found = new Set<string>();
  let truncated = false;
  const add = (value: string): boolean => {
    if (value.length < limits.minLength || value.length > limits.maxLength) return true;
    if (found.has(value)) return true;
    if (found.size >= limits.maxCandidates) {
      truncated = true;
      return false;
    }
    found.add(value);
    return true;
  };
  const lines = text.split(/\r?\n/).map(withoutDiffMarker);
  // PEM blocks first: a key is one long value, and the caps must not crowd it out.
  if (!pemCandidates(lines, add)) return { values: [...found], truncated };
  for (const line of lines) {
    if (!lineCandidates(line, add)) return { values: [...found], truncated };
  }
  // Windows last: the structural candidates above are fewer and must not be crowded out.
  const windowLengths = [...new Set(lengths)]
    .filter((length) => length >= limits.minLength && length <= limits.maxLength)
    .sort((a, b) => a - b);
  if (windowLengths.length === 0) return { values: [...found], truncated };
  for (const line of lines) {
    for (const run of line.trim().split(/\s+/)) {
      if (!windowCandidates(run, windowLengths, add)) return { values: [...found], truncated };
    }
  }
  return { values: [...found], truncated };
}

type Add = (value: string) => boolean;

/** A diff line's content: `+`, `-` or one space before it is the diff's, not the text's. */
function withoutDiffMarker(line: string): string {
  if (line.startsWith('+++ ') || line.startsWith('--- ')) return line;
  return /^[+\- ]/.test(line) ? line.slice(1) : line;
}

/**
 * A PEM block as stored: with or without its final newline, LF or CRLF. Found line by line, each
 * BEGIN paired with the next END of its label, so a text of many unclosed BEGIN lines costs one
 * pass rather than a search to its end from each of them.
 */
function pemCandidates(lines: readonly string[], add: Add): boolean {
  const trimmed = lines.map((line) => line.trim());
  const ends = new Map<string, number[]>();
  trimmed.forEach((line, index) => {
    const label = PEM_END.exec(line)?.[1];
    if (!label) return;
    const indexes = ends.get(label);
    if (indexes) indexes.push(index);
    else ends.set(label, [index]);
  });
  const next = new Map<string, number>();
  for (let begin = 0; begin < trimmed.length; begin++) {
    const label = PEM_BEGIN.exec(trimmed[begin])?.[1];
    const labelEnds = label ? ends.get(label) : undefined;
    if (!label || !labelEnds) continue;
    let position = next.get(label) ?? 0;
    while (position < labelEnds.length && labelEnds[position] < begin) position++;
    next.set(label, position);
    const end = labelEnds[position];
    if (end === undefined || end - begin > MAX_PEM_LINES) continue;
    const block = trimmed.slice(begin, end + 1).join('\n');
    const crlf = block.replace(/\n/g, '\r\n');
    for (const variant of [block, `${block}\n`, crlf, `${crlf}\r\n`]) {
      if (!add(variant)) return false;
    }
  }
  return true;
}

function lineCandidates(line: string, add: Add): boolean {
  const trimmed = line.trim();
  if (!add(trimmed)) return false;
  // `KEY = value with spaces`, `key: value`: the rest of the line after the first assignment.
  const assignment = /^[^=:]*?[=:]\s*(.+)$/.exec(trimmed);
  if (assignment && !add(assignment[1].trim())) return false;
  for (const quoted of trimmed.matchAll(QUOTED)) {
    if (!add(quoted[1] ?? quoted[2] ?? quoted[3])) return false;
  }
  for (const run of trimmed.split(/\s+/)) {
    if (!runCandidates(run, add)) return false;
  }
  return true;
}

/** Every piece of a whitespace-free run between two of its delimiters (or its ends). */
function runCandidates(run: string, add: Add): boolean {
  if (!add(run)) return false;
  const cuts = [-1];
  for (const match of run.matchAll(DELIMITER)) {
    if (cuts.length > MAX_CUTS_PER_RUN) break;
    cuts.push(match.index);
  }
  cuts.push(run.length);
  for (let i = 0; i < cuts.length; i++) {
    for (let j = i + 1; j < cuts.length; j++) {
      if (!add(run.slice(cuts[i] + 1, cuts[j]))) return false;
    }
  }
  return true;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Every substring of a whitespace-free run of one of `lengths` (ascending) with, on each side, the
 * run's edge or a character that is not a letter or digit: what separates a value from its
 * surroundings in `:PW@`, `=PW&` or `PW.`, whatever the value holds itself.
 */
function windowCandidates(run: string, lengths: readonly number[], add: Add): boolean {
  if (run.length < lengths[0]) return true;
  // By UTF-16 unit, as stored lengths count: half of a surrogate pair counts as a non-letter.
  const separator = new Uint8Array(run.length + 2);
  separator[0] = 1;
  separator[run.length + 1] = 1;
  for (let k = 0; k < run.length; k++) separator[k + 1] = WORD_CHAR.test(run[k]) ? 0 : 1;
  for (let start = 0; start < run.length; start++) {
    // separator[start] is the character before the window, separator[end + 1] the one after it.
    if (!separator[start]) continue;
    for (const length of lengths) {
      const end = start + length;
      if (end > run.length) break;
      if (separator[end + 1] && !add(run.slice(start, end))) return false;
    }
  }
  return true;
}
