/**
 * OpenSSH pattern matching (match.c), shared by ssh_config and known_hosts handling.
 * Only `*` (any run of characters) and `?` (exactly one) are special; matching is iterative with
 * backtracking — no regular expression is ever built from configuration text.
 */

/** OpenSSH match_pattern: case-sensitive wildcard match of the whole text. */
export function wildcardMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * OpenSSH match_pattern_list over a comma-separated list: 1 if a positive pattern matches and no
 * negated (`!pattern`) one does, -1 if a negated pattern matches, 0 otherwise.
 * With `lower`, text and patterns are compared lower-cased (match_hostname).
 */
export function matchPatternList(text: string, patternList: string, lower: boolean): 1 | 0 | -1 {
  const subject = lower ? text.toLowerCase() : text;
  let got: 1 | 0 = 0;
  for (const raw of patternList.split(',')) {
    let pat = lower ? raw.toLowerCase() : raw;
    const negated = pat.startsWith('!');
    if (negated) pat = pat.slice(1);
    if (pat === '') continue;
    if (wildcardMatch(subject, pat)) {
      if (negated) return -1;
      got = 1;
    }
  }
  return got;
}
