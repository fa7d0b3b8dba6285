// Typed artifact errors with stable codes (proto/AIP.md §12.5). The code
// travels in ArtifactStatus.code and in a failed attempt's error text.
export type ArtifactErrorCode =
  | 'ARTIFACT_INTEGRITY'
  | 'ARTIFACT_TOO_LARGE'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_STORE_FAILED'
  | 'ARTIFACT_ABORTED'
  | 'ARTIFACT_UNSUPPORTED'
  | 'ARTIFACT_BAD_DIGEST'
  | 'ARTIFACT_FLOW_CONTROL'
  | 'ARTIFACT_REFUSED';

export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(
    readonly code: ArtifactErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps a status code from the wire to a known code (anything else is a store failure). */
export function artifactCode(code: string): ArtifactErrorCode {
  switch (code) {
    case 'ARTIFACT_INTEGRITY':
    case 'ARTIFACT_TOO_LARGE':
    case 'ARTIFACT_NOT_FOUND':
    case 'ARTIFACT_ABORTED':
    case 'ARTIFACT_UNSUPPORTED':
    case 'ARTIFACT_BAD_DIGEST':
    case 'ARTIFACT_FLOW_CONTROL':
    case 'ARTIFACT_REFUSED':
      return code;
    default:
      return 'ARTIFACT_STORE_FAILED';
  }
}
