// SPDY/3.1 as Kubernetes streams over it (kubectl ≤ 1.29 exec/attach, kubectl port-forward).
export { SpdyConnection, type SpdyConnectionOptions, SpdyStream } from './connection.ts';
export { RstStatus } from './frames.ts';
export { acceptSpdy, isSpdyUpgrade, offeredProtocols, SPDY_UPGRADE, type SpdyUpgrade } from './upgrade.ts';
