/** Raw record fixtures: the encoder lives in src/ (the synthetic source uses it too). */
export {
  cgroupRecord,
  execRecord,
  exitRecord,
  forkRecord,
  oomRecord,
  tcpRecord,
} from '../../src/events/record-encoder';
export type { HeaderFields, TcpFields } from '../../src/events/record-encoder';
