/**
 * The dialer's side of an ask (handshake.ts ASK_LANE): a node that is not in the cluster yet
 * knows a member only by its address. It dials, says hello to ANY_NODE on the ask lane, takes
 * the welcome (which names the member; under TLS the member's certificate must name the same
 * node), sends its one request and reads the one answer. Everything, from the dial to the
 * answer, is bounded by one timeout; whatever goes wrong rejects with a reason, never hangs.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { type NodeId, nodeId } from '../core/types.js';
import { TimeoutError, UnavailableError } from '../errors.js';
import { nodeIdOfCertificate } from './cert-identity.js';
import { decodeValue, encodeValue } from './codec.js';
import { FrameDecoder, framed } from './frame.js';
import type { Checked } from './handshake.js';

/** What a peer answered to an ask, and who it is. */
export interface AskAnswer {
  readonly node: NodeId;
  readonly answer: unknown;
}

export interface AskSpec {
  /** Connecting (the caller made it: plain TCP or TLS). */
  readonly socket: Socket;
  /** The encoded hello. */
  readonly hello: Buffer;
  readonly request: unknown;
  readonly timeoutMs: number;
  readonly frameBytesMax: number;
  /** The check of the welcome: the incarnation, or why it is refused. */
  readonly checkAnswer: (answer: unknown) => Checked<string>;
}

export function askOnce(spec: AskSpec): Promise<AskAnswer> {
  const { socket } = spec;
  return new Promise<AskAnswer>((resolve, reject) => {
    let settled = false;
    let node: string | null = null;
    const decoder = new FrameDecoder(spec.frameBytesMax);
    const finish = (error: Error | null, answer?: AskAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== null) reject(error);
      else resolve(answer as AskAnswer);
    };
    const timer = setTimeout(
      () => finish(new TimeoutError(`no answer within ${spec.timeoutMs} ms`)),
      spec.timeoutMs,
    );
    socket.on('error', (error) => finish(new UnavailableError(`cannot ask: ${error.message}`)));
    socket.on('close', () =>
      finish(
        new UnavailableError(`the peer closed the connection${node ? '' : ' before its welcome'}`),
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      for (const body of decoder.push(chunk)) {
        let value: unknown;
        try {
          value = decodeValue(body);
        } catch {
          return finish(new UnavailableError('the peer sent a frame that is not msgpack'));
        }
        if (node === null) {
          const problem = welcomeProblem(spec, socket, value);
          if (problem !== null) return finish(new UnavailableError(problem));
          node = (value as { node: string }).node;
          const request = encodeValue(spec.request);
          socket.write(framed(request));
        } else {
          return finish(null, { node: nodeId(node), answer: value });
        }
      }
      if (decoder.error !== null) {
        finish(new UnavailableError(`bad frame from the peer: ${decoder.error.kind}`));
      }
    });
    socket.write(framed(spec.hello));
  });
}

/** Why the welcome is not acceptable (refused, wrong version, a node its certificate denies). */
function welcomeProblem(spec: AskSpec, socket: Socket, value: unknown): string | null {
  const checked = spec.checkAnswer(value);
  if (!checked.ok) return checked.reason;
  const named = (value as { node: string }).node;
  if (socket instanceof TLSSocket) {
    const cert = socket.getPeerX509Certificate();
    const id = cert === undefined ? null : nodeIdOfCertificate(cert);
    if (id !== named)
      return `the peer says it is ${named}, its certificate names ${id ?? 'no node'}`;
  }
  return null;
}
