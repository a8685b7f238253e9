/**
 * The loopback receiver of the OTLP benchmark, run as a child process so it does not share the
 * core being measured: a grpc-js server for TraceService/Export that takes request bytes as they
 * are (pass-through deserializer, no decoding) and answers an empty ExportTraceServiceResponse.
 * Sends `{ port }` to the parent over IPC once listening.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';

const passThrough = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);

const service: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

let bytes = 0;
const server = new Server({ 'grpc.max_receive_message_length': -1 });
server.addService(service, {
  Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    bytes += call.request.length;
    callback(null, EMPTY);
  },
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.send?.({ port });
});
process.on('message', (m: unknown) => {
  if (m === 'bytes') process.send?.({ bytes });
});
process.on('disconnect', () => server.forceShutdown());
