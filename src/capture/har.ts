import { decodeBody, headerValue, type CaptureRecord } from './record.js';

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts a capture fills. */
interface HarNameValue {
  name: string;
  value: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    /** `text` is the exact body; `encoding: "base64"` (as for response content) when it is not UTF-8. */
    postData?: { mimeType: string; text: string; encoding?: 'base64' };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: { size: number; mimeType: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  /** Custom fields (HAR allows `_`-prefixed ones): what a capture knows beyond HTTP. */
  _id: string;
  _signature: CaptureRecord['signature'];
  _event?: string;
  _forward?: CaptureRecord['forward'];
  _rejected?: string;
}

function queryOf(url: URL): HarNameValue[] {
  return [...url.searchParams.entries()].map(([name, value]) => ({ name, value }));
}

/** HAR wants an absolute URL; a capture has the path and the Host it was sent to. */
function requestUrl(record: CaptureRecord): URL {
  const path = record.path.startsWith('/') ? record.path : `/${record.path}`;
  try {
    return new URL(path, `http://${headerValue(record.headers, 'host') ?? 'localhost'}`);
  } catch {
    // A Host header that is not a host name (it was recorded faithfully all the same).
    return new URL(path, 'http://localhost');
  }
}

/** One capture as a HAR entry; the body text is the captured text, never re-serialised. */
export function harEntry(record: CaptureRecord): HarEntry {
  const url = requestUrl(record);
  const headers: HarNameValue[] = [];
  for (const [name, value] of Object.entries(record.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) headers.push({ name, value: one });
  }
  const latencyMs = record.forward?.latencyMs ?? 0;
  const entry: HarEntry = {
    startedDateTime: record.receivedAt,
    time: latencyMs,
    request: {
      method: record.method,
      url: url.href,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers,
      queryString: queryOf(url),
      headersSize: -1,
      bodySize: record.bodySize,
    },
    response: {
      status: record.responseStatus ?? 0,
      statusText: '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: '' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0, wait: latencyMs, receive: 0 },
    _id: record.id,
    _signature: record.signature,
  };
  if (record.bodySize > 0 || record.body !== '') {
    const mimeType = headerValue(record.headers, 'content-type') ?? 'application/octet-stream';
    entry.request.postData = record.bodyEncoding === 'base64'
      ? { mimeType, text: decodeBody(record).toString('base64'), encoding: 'base64' }
      : { mimeType, text: record.body };
  }
  if (record.event !== undefined) entry._event = record.event;
  if (record.forward !== undefined) entry._forward = record.forward;
  if (record.rejected !== undefined) entry._rejected = record.rejected;
  return entry;
}

/**
 * Writes captures as one HAR 1.2 document, entry by entry, so memory does not grow
 * with the captures file.
 */
export async function writeHar(
  records: AsyncIterable<CaptureRecord>,
  write: (chunk: string) => void | Promise<void>,
  creator: { name: string; version: string },
): Promise<number> {
  await write(`{"log":{"version":"1.2","creator":${JSON.stringify(creator)},"pages":[],"entries":[`);
  let count = 0;
  for await (const record of records) {
    await write(`${count === 0 ? '\n' : ',\n'}${JSON.stringify(harEntry(record))}`);
    count++;
  }
  await write(']}}\n');
  return count;
}
