// Verifies a Sigstore bundle with sigstore-js (@sigstore/bundle +
// @sigstore/verify), the way a site without Fulcio or Rekor would: the
// public key is found by the bundle's hint among the keys given, and no
// transparency log entry, certificate or timestamp is required.
//
//   node tests/custody/sigstore-verify.mjs BUNDLE.sigstore.json KEY.pub...
//
// Prints {"hint", "payloadType", "statement"} as JSON and exits 0 when
// sigstore-js accepts the bundle; prints its error and exits 1 when not.
import { readFileSync } from 'node:fs';
import { createPublicKey, createHash } from 'node:crypto';
import { bundleFromJSON, assertBundleLatest } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';

const [bundlePath, ...keyPaths] = process.argv.slice(2);
if (!bundlePath || keyPaths.length === 0) {
  console.error('usage: sigstore-verify.mjs BUNDLE KEY.pub...');
  process.exit(2);
}

// hint -> key, the hint being the hex SHA-256 of the key's SPKI DER.
const keys = new Map();
for (const path of keyPaths) {
  const key = createPublicKey(readFileSync(path));
  const der = key.export({ type: 'spki', format: 'der' });
  keys.set(createHash('sha256').update(der).digest('hex'), key);
}

try {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  assertBundleLatest(bundle);
  const trust = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint) => {
      const publicKey = keys.get(hint);
      if (!publicKey) {
        throw new Error(`no trusted key for hint ${hint}`);
      }
      return { publicKey, validFor: () => true };
    },
  };
  const verifier = new Verifier(trust, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));
  const envelope = bundle.content.dsseEnvelope;
  console.log(
    JSON.stringify({
      hint: bundle.verificationMaterial.content.publicKey.hint,
      payloadType: envelope.payloadType,
      statement: JSON.parse(envelope.payload.toString('utf8')),
    }),
  );
} catch (e) {
  console.error(`sigstore-js refused ${bundlePath}: ${e.code ?? ''} ${e.message}`);
  process.exit(1);
}
