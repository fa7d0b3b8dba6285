// Transport-level size cap. It sits a little above the AIP frame limit so a
// moderately oversized frame still reaches the codec and gets a clean
// AIP_FRAME_TOO_LARGE Error frame; anything far larger is cut by the
// transport itself (WebSocket close 1009, gRPC RESOURCE_EXHAUSTED) before it
// is buffered.
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
const SLACK_BYTES = 64 * 1024;

export function transportLimit(maxFrameBytes: number): number {
  return maxFrameBytes + SLACK_BYTES;
}
