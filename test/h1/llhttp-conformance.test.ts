/**
 * Conformance of `H1Parser` with llhttp's own test corpus (Node's HTTP parser), read from
 * `../shared/vectors/llhttp`. Every case runs through our parser with the leniency its type names
 * and is compared with llhttp's expected observable result (method, URL, version, headers, body,
 * trailers, message count, rejection or protocol hand-over). Each case is also fed one byte at a
 * time and cut at seeded random points: the events must be identical to the whole-buffer run,
 * which is the proof that the parser's results do not depend on how the input is split.
 *
 * A first test checks the corpus reading itself against Node's llhttp binding, so a wrong
 * expectation is caught here rather than blamed on our parser.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { H1ParseError } from '../../src/h1/h1-parse-error.js';
import { H1Parser } from '../../src/h1/h1-parser.js';
import { H1ResponseBody } from '../../src/h1/h1-types.js';
import { seededRandom } from '../seeded-random.js';
import {
  firstEventDifference,
  type RecordedOutcome,
  type RecordOptions,
  recordRun,
  splitAt,
  splitBytewise,
} from './h1-event-log.js';
import {
  caseLabel,
  compareWithLlhttp,
  type LlhttpCase,
  leniencyFor,
  llhttpCorpusDir,
  llhttpCorpusPresent,
  loadLlhttpCorpus,
} from './llhttp-corpus.js';
import { LlhttpNodeParser, llhttpLenientFlag, llhttpVersion } from './llhttp-node-adapter.js';

const SPLIT_SEED = 0x11e7;
const RANDOM_SPLITS_PER_CASE = 6;

/**
 * Cases on which the Node binding's llhttp may disagree with the corpus, which was written for a
 * newer llhttp than some Node releases bundle (Node 20 has llhttp 9.3.1 at the time of writing).
 * Keyed by `file:line`. A case listed here is not required to agree; any other disagreement fails.
 */
const LLHTTP_VERSION_DIFFERENCES: Record<string, string> = {
  'request/connection.md:346':
    'older llhttp does not treat `close` followed by HTAB as `Connection: close` (fixed later)',
  'request/content-length.md:319': 'older llhttp rejects HTAB around the Content-Length value',
  'response/content-length.md:170': 'older llhttp rejects HTAB around the Content-Length value',
  'response/invalid.md:178': 'older llhttp accepts CR CR after the status line',
};

/**
 * Lenient cases our parser is allowed to skip, keyed by `file:line`, with the reason. Only
 * leniencies we chose not to implement belong here.
 */
const LENIENCIES_NOT_IMPLEMENTED = {
  'obs-fold':
    '`lenient.headers` relaxes header value bytes only; obsolete line folding stays rejected (RFC 9112 §5.2 allows that)',
  'space-before-colon':
    '`lenient.headers` does not admit whitespace between a field name and its colon (RFC 9112 §5.1: MUST reject)',
  'lone-cr': '`lenient.headers` does not make a lone CR a line ending (that is `lenient.optionalLfAfterCr`)',
  'te-identity':
    '`lenient.chunkedLength` does not also admit a request coding other than chunked (that is `lenient.transferEncoding`)',
  'lf-after-last-chunk':
    'under lenient-all llhttp swallows a second bare LF after the last chunk-size line; we read that LF as the end of an empty trailer section, as RFC 9112 §7.1 framing says',
} as const;
const UNSUPPORTED_LENIENT_CASES: Record<string, keyof typeof LENIENCIES_NOT_IMPLEMENTED> = {
  'request/connection.md:483': 'obs-fold',
  'request/connection.md:578': 'obs-fold',
  'request/invalid.md:688': 'obs-fold',
  'request/sample.md:335': 'obs-fold',
  'request/sample.md:575': 'obs-fold',
  'response/transfer-encoding.md:391': 'obs-fold',
  'request/connection.md:639': 'space-before-colon',
  'request/content-length.md:191': 'space-before-colon',
  'request/lenient-headers.md:111': 'lone-cr',
  'request/content-length.md:231': 'te-identity',
  'request/transfer-encoding.md:538': 'te-identity',
  'request/invalid.md:570': 'lf-after-last-chunk',
};

function randomCuts(length: number, random: () => number): number[] {
  const count = 1 + Math.floor(random() * Math.min(8, Math.max(1, length)));
  const cuts: number[] = [];
  for (let i = 0; i < count; i++) cuts.push(Math.floor(random() * (length + 1)));
  return cuts;
}

function recordOptions(c: LlhttpCase): RecordOptions {
  return {
    finish: c.finish,
    onHeadResult: c.meta.skipBody === true ? H1ResponseBody.None : undefined,
    maxEvents: 16 * c.input.length + 64,
  };
}

function runOurs(c: LlhttpCase, pieces: Buffer[]): RecordedOutcome {
  const options = c.lenient === null ? {} : { lenient: leniencyFor(c.lenient) };
  return recordRun((handler) => new H1Parser(c.kind, handler, options), pieces, recordOptions(c));
}

/** Differences between our parser and llhttp on one case, whole and split. */
function checkCase(c: LlhttpCase, index: number): string[] {
  const whole = runOurs(c, [c.input]);
  const problems = compareWithLlhttp(c, whole);
  if (whole.error !== null && !(whole.error.thrown instanceof H1ParseError)) {
    problems.push(`threw ${whole.error.name} instead of H1ParseError: ${whole.error.message}`);
  }
  const random = seededRandom(SPLIT_SEED + index);
  const splits: [string, Buffer[]][] = [['byte by byte', splitBytewise(c.input)]];
  for (let s = 0; s < RANDOM_SPLITS_PER_CASE; s++) {
    const cuts = randomCuts(c.input.length, random);
    splits.push([`cut at [${[...cuts].sort((a, b) => a - b).join(',')}]`, splitAt(c.input, cuts)]);
  }
  for (const [how, pieces] of splits) {
    const diff = firstEventDifference(whole.events, runOurs(c, pieces).events);
    if (diff !== null) problems.push(`split ${how} differs from the whole-buffer run at ${diff}`);
  }
  return problems;
}

const key = (c: LlhttpCase) => `${c.file}:${c.line}`;

const present = llhttpCorpusPresent();
const missingMessage = `llhttp corpus not found at ${llhttpCorpusDir()} (set AVX_VECTORS_DIR to the vectors folder)`;

if (!present) {
  test('llhttp corpus', (t) => {
    if (process.env.CI === 'true') assert.fail(missingMessage);
    t.skip(missingMessage);
  });
} else {
  const cases = loadLlhttpCorpus();

  test('llhttp corpus: the corpus reader agrees with Node’s llhttp on llhttp’s own cases', (t) => {
    assert.ok(cases.length >= 200, `only ${cases.length} cases found`);
    let agreed = 0;
    const tolerated: string[] = [];
    const unchecked: string[] = [];
    const failures: string[] = [];
    for (const c of cases) {
      let flags = 0;
      if (c.lenient !== null) {
        const flag = llhttpLenientFlag(c.lenient);
        if (flag === undefined) {
          unchecked.push(`${caseLabel(c)}: this Node's llhttp has no \`${c.lenient}\` leniency`);
          continue;
        }
        flags = flag;
      }
      const outcome = recordRun(
        (handler) => new LlhttpNodeParser(c.kind, handler, { lenientFlags: flags }),
        [c.input],
        {
          finish: c.finish,
          onHeadResult: c.meta.skipBody === true ? H1ResponseBody.None : undefined,
        },
      );
      const problems = compareWithLlhttp(c, outcome, { protocol: false, framing: false });
      if (problems.length === 0) agreed++;
      else if (LLHTTP_VERSION_DIFFERENCES[key(c)] !== undefined) {
        tolerated.push(`${caseLabel(c)}: ${LLHTTP_VERSION_DIFFERENCES[key(c)]}`);
      } else failures.push(`${caseLabel(c)}\n    ${problems.join('\n    ')}`);
    }
    t.diagnostic(
      `llhttp ${llhttpVersion}: ${agreed} cases agree, ${tolerated.length} known version differences`,
    );
    for (const line of [...tolerated, ...unchecked]) t.diagnostic(line);
    assert.deepEqual(failures, [], `Node's llhttp disagrees with the corpus reader:\n${failures.join('\n')}`);
  });

  test('llhttp corpus: H1Parser gives llhttp’s results, however the input is split', async (t) => {
    let passed = 0;
    const skipped = new Map<string, number>();
    const failed: string[] = [];
    const staleSkips: string[] = [];
    for (const [index, c] of cases.entries()) {
      const problems = checkCase(c, index);
      const skipTag = UNSUPPORTED_LENIENT_CASES[key(c)];
      if (skipTag !== undefined) {
        assert.notEqual(c.lenient, null, `${caseLabel(c)}: only lenient cases may be skipped`);
        if (problems.length === 0) {
          staleSkips.push(`${key(c)} passes now: remove it from UNSUPPORTED_LENIENT_CASES`);
        } else {
          skipped.set(skipTag, (skipped.get(skipTag) ?? 0) + 1);
          await t.test(caseLabel(c), (st) => st.skip(LENIENCIES_NOT_IMPLEMENTED[skipTag]));
          continue;
        }
      }
      if (problems.length === 0) passed++;
      else failed.push(`${caseLabel(c)}\n    ${problems.join('\n    ')}`);
      await t.test(caseLabel(c), () => {
        assert.deepEqual(problems, [], `${caseLabel(c)}\n  ${problems.join('\n  ')}`);
      });
    }
    const skippedCount = [...skipped.values()].reduce((a, b) => a + b, 0);
    const reasons = [...skipped].map(([tag, n]) => `${tag} x${n}`).join(', ');
    const summary = `llhttp corpus: ${passed} passed, ${skippedCount} skipped (lenient: ${
      reasons === '' ? 'none' : reasons
    }), ${failed.length} failed, of ${cases.length}`;
    for (const line of staleSkips) t.diagnostic(line);
    t.diagnostic(summary);
    console.log(summary);
    assert.equal(failed.length, 0, `failing cases:\n${failed.join('\n')}`);
  });
}
