/**
 * The order of responses to one client: every request that gets a response takes a place when it
 * is forwarded or answered, and responses reach the client in place order, whether they come from
 * the broker or from a filter that answered the request itself.
 *
 * Broker responses arrive in place order by themselves (a Kafka connection answers in order); only
 * the gateway's own answers have to wait for their turn. While none waits, a broker response passes
 * straight through ({@link ClientOrder.pass}).
 *
 * @module
 */
import { writeAll } from "../lib/bytes_io.ts";
import type { ReplacementFrame } from "./frame_pieces.ts";
import { frameOfBody, type FrameOutput } from "./pump.ts";
import type { SharedSink } from "./shared_sink.ts";

/** An answer made by a filter, waiting for its turn. */
interface LocalAnswer {
  place: number;
  frame: ReplacementFrame;
}

/**
 * Places in the client's order, and the answers waiting for theirs.
 *
 * @example
 * ```ts ignore
 * const order = new ClientOrder(toClient);
 * const place = order.take(); // when a request is forwarded
 * if (!order.waiting) order.pass(place); // its response, forwarded as it comes
 * ```
 */
export class ClientOrder {
  readonly #sink: SharedSink;
  readonly #answers: LocalAnswer[] = [];
  /** The next place to hand out. */
  #next = 0;
  /** The place of the next response to write. */
  #due = 0;

  /** @param sink the client's stream, shared with the response pump */
  constructor(sink: SharedSink) {
    this.#sink = sink;
  }

  /** A place for a request whose response the client will get. */
  take(): number {
    return this.#next++;
  }

  /** Whether answers of the gateway's own wait for their turn (responses then go through {@link ClientOrder.around}). */
  get waiting(): boolean {
    return this.#answers.length !== 0;
  }

  /** The response in `place` goes out as it is (nothing waits: it is the one due). */
  pass(place: number): void {
    this.#due = place + 1;
  }

  /**
   * What to write for the response in `place`, whose body the pump read (`replacement`: the frame a
   * filter made of it, or null): that alone when nothing waits, else with the answers due before it
   * and those right after it (frames in pieces are written piece by piece).
   */
  around(place: number, replacement: ReplacementFrame | null, body: Uint8Array): FrameOutput {
    const answers = this.#answers;
    this.#due = place + 1;
    if (answers.length === 0) return replacement;
    const pieces: Uint8Array[] = [];
    while (answers.length > 0 && answers[0].place < place) addFrame(pieces, answers.shift()!.frame);
    addFrame(pieces, replacement ?? frameOfBody(body));
    while (answers.length > 0 && answers[0].place === this.#due) {
      addFrame(pieces, answers.shift()!.frame);
      this.#due++;
    }
    return pieces;
  }

  /**
   * A filter's answer for the request in `place`: written now if its turn has come (once the
   * response pump is at a frame boundary), else by the response pump with the response before it.
   */
  answer(place: number, frame: ReplacementFrame): void {
    this.#answers.push({ place, frame });
    if (this.#answers[0].place !== this.#due) return;
    const sink = this.#sink;
    (async () => {
      const waiting = sink.claim();
      if (waiting) await waiting;
      try {
        while (this.#answers.length > 0 && this.#answers[0].place === this.#due) {
          const answer = this.#answers.shift()!;
          this.#due++;
          if (answer.frame instanceof Uint8Array) await writeAll(sink, answer.frame);
          else for (const piece of answer.frame) await writeAll(sink, piece);
        }
      } finally {
        sink.release();
      }
    })().catch(() => {
      // The connection is ending: the pumps report why.
    });
  }
}

function addFrame(pieces: Uint8Array[], frame: ReplacementFrame): void {
  if (frame instanceof Uint8Array) pieces.push(frame);
  else for (const piece of frame) pieces.push(piece);
}
