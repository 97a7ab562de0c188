/**
 * A response body that copies itself for the cache while the caller reads it (RFC 9111 §3:
 * only a complete response may be stored, §3.3 aside). The caller gets a body that streams and
 * applies backpressure as before; every chunk passing through is also kept, up to a byte
 * limit. When the body ends, and only then, `onComplete` receives the whole copy before the
 * caller sees the end. Past the limit copying stops (the caller still gets every byte); when
 * the caller abandons the body, or the body fails, nothing is handed over.
 */
import { Buffer } from 'node:buffer';
import { IncomingBody } from '../../core/incoming-body.js';

/**
 * Wraps `source` in a body that hands a copy of its bytes to `onComplete` once it has
 * completed, provided it held at most `maxBytes` bytes. A failing `onComplete` is ignored:
 * caching is best effort and never breaks the response.
 */
export function copyingBody(
  source: IncomingBody,
  maxBytes: number,
  onComplete: (bytes: Buffer) => void | Promise<void>,
): IncomingBody {
  let paused = false;
  let wakePump: (() => void) | undefined;
  const wake = () => {
    const w = wakePump;
    wakePump = undefined;
    w?.();
  };
  const out = new IncomingBody({
    source: {
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
        wake();
      },
      abandon: (reason) => {
        paused = false;
        wake();
        source.cancel(reason);
      },
    },
  });
  const pump = async () => {
    let chunks: Buffer[] | undefined = [];
    let copied = 0;
    try {
      for await (const chunk of source) {
        if (out.settled) return;
        if (chunks !== undefined) {
          copied += chunk.length;
          if (copied > maxBytes) chunks = undefined;
          else chunks.push(chunk);
        }
        out.push(chunk);
        if (paused) await new Promise<void>((resolve) => (wakePump = resolve));
        if (out.settled) return;
      }
      if (chunks !== undefined) {
        try {
          await onComplete(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, copied));
        } catch {
          // best effort: the caller's body is unaffected
        }
      }
      out.end(source.trailers);
    } catch (err) {
      out.fail(err instanceof Error ? err : new Error(String(err)));
    }
  };
  void pump();
  return out;
}
