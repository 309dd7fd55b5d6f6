/** Counters of one RESP server, for /metrics and tests. Plain numbers, only ever incremented. */
export class RespStats {
  connectionsAccepted = 0;
  /** Refused at clientsMax. */
  connectionsRejected = 0;
  commands = 0;
  /** Commands answered with an error reply (unknown command, bad input, cluster errors). */
  errors = 0;
  /** Commands refused unread because an argument or the command was too large. */
  refused = 0;
  /** Connections closed on a protocol error. */
  protocolErrors = 0;
  /** Clients that did not read their replies: cut off at pendingRepliesMax. */
  slowReadersCutOff = 0;
  /** Connections closed after idleTimeoutMs without a request. */
  idleClosed = 0;
}
