// Both roles of artifact transfer on one AIP session: the receiver pulls
// blobs it needs (and takes offered uploads, on the orchestrator), the sender
// serves blobs it holds. One per session, on each side.
import type { Body } from '../messages.js';
import { ArtifactReceiver, type ProgressListener } from './artifact-receiver.js';
import { ArtifactSender } from './artifact-sender.js';
import type { ArtifactOffer } from '../messages.js';
import type { ArtifactPeerOptions } from './transfer-options.js';

export class ArtifactPeer {
  readonly receiver: ArtifactReceiver;
  readonly sender: ArtifactSender;

  constructor(private readonly opts: ArtifactPeerOptions) {
    this.receiver = new ArtifactReceiver(opts);
    this.sender = new ArtifactSender(opts);
  }

  /** Routes one artifact body from the peer. Returns false for a non-artifact body. */
  handle(body: Body): boolean {
    switch (body.type) {
      case 'artifactOffer':
        if (this.opts.acceptOffers) this.receiver.onOffer(body.value);
        else {
          this.opts.send({
            type: 'artifactStatus',
            value: { digest: body.value.digest, code: 'ARTIFACT_UNSUPPORTED', message: 'this side takes no uploads' },
          });
        }
        return true;
      case 'artifactRequest':
        this.sender.onRequest(body.value);
        return true;
      case 'artifactChunk':
        this.receiver.onChunk(body.value);
        return true;
      case 'artifactStatus':
        // "" (stored) only ever answers a holder; a refusal goes to whichever side knows the digest.
        if (body.value.code === '' || this.sender.has(body.value.digest)) this.sender.onStatus(body.value);
        else this.receiver.onStatus(body.value);
        return true;
      default:
        return false;
    }
  }

  fetch(digest: string, size: number, onProgress?: ProgressListener): Promise<void> {
    return this.receiver.fetch(digest, size, onProgress);
  }

  upload(offer: ArtifactOffer): Promise<void> {
    return this.sender.upload(offer);
  }

  reconnected(): void {
    this.receiver.reconnected();
    this.sender.reconnected();
  }

  close(): void {
    this.receiver.close();
    this.sender.close();
  }
}
