// Google's Node.js libraries, used as an app uses them, with only GCE_METADATA_HOST / GCE_METADATA_IP pointing at the
// sidecar's metadata endpoint: gcp-metadata detects the metadata server and reads the account's email;
// google-auth-library's getIdTokenClient fetches an ID token for AUDIENCE; the token is then sent to the Cloud Run
// service at SERVICE_URL over TLS (HTTP/2, the test CA in CA_FILE), dialled at 127.0.0.1:CONNECT_PORT.
// Prints one JSON line: {"available", "email", "aud", "email_claim", "status", "body"}.
//
// usage: node id_token_client.js AUDIENCE SERVICE_URL CONNECT_PORT CA_FILE
'use strict';
const fs = require('fs');
const http2 = require('http2');
const gcpMetadata = require('gcp-metadata');
const { GoogleAuth } = require('google-auth-library');

async function callService(serviceUrl, connectPort, caFile, authorization) {
  const url = new URL(serviceUrl);
  const session = http2.connect(`https://127.0.0.1:${connectPort}`, { ca: fs.readFileSync(caFile), servername: url.hostname });
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const request = session.request({ ':method': 'GET', ':path': '/whoami', ':authority': url.hostname, authorization });
      let status = 0;
      let body = '';
      request.setEncoding('utf8');
      request.on('response', (headers) => { status = headers[':status']; });
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => resolve({ status, body }));
      request.on('error', reject);
      request.end();
    });
  } finally {
    session.close();
  }
}

async function main() {
  const [audience, serviceUrl, connectPort, caFile] = process.argv.slice(2);
  const available = await gcpMetadata.isAvailable();
  const email = await gcpMetadata.instance('service-accounts/default/email');
  const client = await new GoogleAuth().getIdTokenClient(audience);
  const headers = await client.getRequestHeaders(serviceUrl);
  const authorization = typeof headers.get === 'function' ? headers.get('authorization') : (headers.Authorization || headers.authorization);
  const claims = JSON.parse(Buffer.from(authorization.replace(/^Bearer /, '').split('.')[1], 'base64url').toString('utf8'));
  const answer = await callService(serviceUrl, connectPort, caFile, authorization);
  console.log(JSON.stringify({ available, email, aud: claims.aud, email_claim: claims.email || null, status: answer.status, body: answer.body }));
}

main().catch((error) => {
  // The message only: an error object of the libraries may hold a response, and a response may hold a token.
  console.error('id_token_client: ' + (error && error.message ? error.message.split('\n')[0] : String(error)));
  process.exit(1);
});
