/**
 * The server side of ONC RPC for the simulated instruments: replies (accepted, AUTH_NONE), and a TCP connection
 * served call by call, in order (VXI-11 core channel) or as they come (abort channel, portmapper).
 */
import type net from 'node:net';
import {
  ACCEPT_STAT,
  type AcceptStat,
  beginMessage,
  decodeCall,
  finishMessage,
  RecordReader,
  type RpcCall,
  writeReplyHeader,
} from '../../transport/vxi11/rpc.ts';
import { XdrError, type XdrWriter } from '../../transport/vxi11/xdr.ts';

export type { RpcCall };

/** An accepted reply; `results` writes the results of a SUCCESS; `versions` the range of a PROG_MISMATCH. */
export function replyMessage(
  xid: number,
  stat: AcceptStat,
  recordMark: boolean,
  results?: (w: XdrWriter) => void,
  versions?: [number, number],
): Buffer {
  const w = beginMessage(recordMark);
  writeReplyHeader(w, xid, stat);
  if (stat === ACCEPT_STAT.SUCCESS) results?.(w);
  else if (stat === ACCEPT_STAT.PROG_MISMATCH && versions) w.uint(versions[0]).uint(versions[1]);
  return finishMessage(w, recordMark);
}

/** Handles one call: the reply message (with its record mark), or null to send nothing. */
export type RpcHandler = (call: RpcCall) => Buffer | null | Promise<Buffer | null>;

/**
 * Serves RPC calls on a TCP connection. With `sequential`, each call starts after the previous one's reply was
 * sent. Arguments that do not decode get GARBAGE_ARGS; a malformed record or an oversize one closes the
 * connection.
 */
export function serveRpcConnection(
  socket: net.Socket,
  handler: RpcHandler,
  o: { sequential: boolean; maxRecordBytes?: number },
): void {
  socket.setNoDelay(true);
  let chain: Promise<void> = Promise.resolve();
  const run = async (call: RpcCall): Promise<void> => {
    let reply: Buffer | null;
    try {
      reply = await handler(call);
    } catch (err) {
      if (!(err instanceof XdrError)) {
        socket.destroy();
        return;
      }
      reply = replyMessage(call.xid, ACCEPT_STAT.GARBAGE_ARGS, true);
    }
    if (reply && !socket.destroyed) socket.write(reply);
  };
  const records = new RecordReader(o.maxRecordBytes ?? 16 * 1024 * 1024 + 4096, (record) => {
    let call: RpcCall;
    try {
      call = decodeCall(record);
    } catch {
      socket.destroy();
      return;
    }
    if (o.sequential) chain = chain.then(() => run(call));
    else void run(call);
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      records.push(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
}
